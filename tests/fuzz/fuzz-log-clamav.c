/*
 * Fuzz target: the ClamAV normalizer (log-clamav.c).  The first byte
 * picks the program name (empty: clamd's own log file).
 */
#include "fuzz.h"
#include "fuzz-lognorm.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const progs[] = { "clamd", "clamonacc", "clamscan",
	    "freshclam", "", "other" };
	const char *prog;
	char *msg;

	if (size == 0)
		return 0;
	prog = progs[data[0] % (sizeof(progs) / sizeof(progs[0]))];
	if ((msg = fuzz_copy(data + 1, size - 1)) == NULL)
		return 0;
	soc_event_reset(&fuzz_ev);
	(void)log_clamav_parse(&fuzz_ev, prog, strlen(prog), msg, size - 1);
	free(msg);
	return 0;
}
