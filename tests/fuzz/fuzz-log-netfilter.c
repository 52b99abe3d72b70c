/* Fuzz target: the kernel netfilter LOG normalizer (log-netfilter.c). */
#include "fuzz.h"
#include "fuzz-lognorm.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *msg = fuzz_copy(data, size);

	if (msg == NULL)
		return 0;
	soc_event_reset(&fuzz_ev);
	(void)log_netfilter_parse(&fuzz_ev, msg, size);
	free(msg);
	return 0;
}
