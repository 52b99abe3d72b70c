/* Fuzz target: the Apache/nginx access and error log parsers (log-web.c). */
#include "fuzz.h"
#include "fuzz-lognorm.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct logparse_ctx ctx = { .now_ns = 1795737600000000000LL,
	    .tz_offset_sec = 25200 };
	char *line = fuzz_copy(data, size);

	if (line == NULL)
		return 0;
	soc_event_reset(&fuzz_ev);
	(void)log_web_parse(&ctx, line, size, &fuzz_ev);
	soc_event_reset(&fuzz_ev);
	(void)log_web_error_parse(&ctx, line, size, false, &fuzz_ev);
	soc_event_reset(&fuzz_ev);
	(void)log_web_error_parse(&ctx, line, size, true, &fuzz_ev);
	free(line);
	return 0;
}
