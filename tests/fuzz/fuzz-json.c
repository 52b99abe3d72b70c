/*
 * Fuzz target: the JSON event reader (socctl rules test --events reads
 * files from anywhere).  Whatever it accepts must survive a write/read
 * round trip unchanged.
 */
#include <stdlib.h>
#include <string.h>

#include "soc/json.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct soc_event ev, back;
	struct soc_sbuf b;
	const char *why;

	if (soc_json_read_event((const char *)data, size, &ev, &why, NULL) == -1)
		return 0;
	soc_sbuf_init(&b);
	soc_json_event(&b, &ev);
	if (!b.oom && soc_json_read_event(b.data, b.len, &back, &why, NULL) == -1)
		abort();	/* we must read what we write */
	soc_sbuf_free(&b);
	return 0;
}
