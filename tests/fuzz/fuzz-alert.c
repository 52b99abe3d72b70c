/*
 * Fuzz target: the national side's alert decoder, which reads JSON from
 * any province whose key passed CURVE.  Whatever it accepts must be
 * written back (all fields allowed) to bytes it accepts again, equal to
 * the first encoding, and must make a CEF line without tripping anything.
 */
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct soc_alert a, b;
	struct alert_fields all;
	struct soc_sbuf j1, j2;
	const char *why;

	if (alert_from_json(data, size, &a, &why) == -1) {
		if (why == NULL)
			abort();	/* a refusal always has a reason */
		return 0;
	}
	alert_fields_all(&all);
	soc_sbuf_init(&j1);
	soc_sbuf_init(&j2);
	alert_to_json(&a, &all, &j1);
	if (j1.oom)
		goto out;
	if (alert_from_json(j1.data, j1.len, &b, &why) == -1)
		abort();	/* we must read what we write */
	alert_to_json(&b, &all, &j2);
	if (!j2.oom && (j1.len != j2.len || memcmp(j1.data, j2.data, j1.len)))
		abort();	/* and read it back unchanged */
	soc_sbuf_reset(&j2);
	alert_to_cef(&a, &all, "fuzz", &j2);
	if (!j2.oom && (j2.len == 0 || j2.data[j2.len - 1] != '\n' ||
	    memchr(j2.data, '\n', j2.len - 1) != NULL))
		abort();	/* one line, whatever the text */
out:
	soc_sbuf_free(&j1);
	soc_sbuf_free(&j2);
	return 0;
}
