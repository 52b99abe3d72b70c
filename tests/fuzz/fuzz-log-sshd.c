/* Fuzz target: the OpenSSH sshd normalizer (log-sshd.c), both forms. */
#include "fuzz.h"
#include "fuzz-lognorm.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *msg = fuzz_copy(data, size);

	if (msg == NULL)
		return 0;
	soc_event_reset(&fuzz_ev);
	log_sshd_parse(&fuzz_ev, msg, size);
	soc_event_reset(&fuzz_ev);
	log_sshd_pam_parse(&fuzz_ev, msg, size);
	free(msg);
	return 0;
}
