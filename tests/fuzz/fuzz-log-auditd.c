/*
 * Fuzz target: the auditd assembler (log-auditd.c) and libauparse behind
 * it.  The input is split at newlines into records, fed to one assembler
 * of at most 4 open events; a line starting with '@' ticks the idle
 * flush, one starting with '!' is fed as from a syslog sender (node).
 * Every field of every event is read back as text.
 */
#include "fuzz.h"
#include "fuzz-lognorm.h"

static void
fz_emit(void *arg, struct soc_event *ev)
{
	char buf[256];

	(void)arg;
	soc_event_copy(&fuzz_ev, ev);
	for (int f = 0; f < SOC_F_COUNT; f++)
		(void)soc_event_text(ev, f, buf, sizeof(buf));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct logparse_ctx ctx = { .now_ns = 1, .path = "audit.log" };
	struct auditd_asm *a;
	struct auditd_stats st;
	const char *p, *end, *nl;
	char *in;

	if ((in = fuzz_copy(data, size)) == NULL)
		return 0;
	if ((a = auditd_asm_new(4, 0, fz_emit, NULL)) == NULL) {
		free(in);
		return 0;
	}
	for (p = in, end = in + size; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl > p && *p == '@')
			(void)auditd_asm_tick(a, INT64_MAX / 2);
		else if (nl > p && *p == '!')
			auditd_asm_feed(a, &ctx, p + 1, (size_t)(nl - p - 1),
			    "host", false);
		else
			auditd_asm_feed(a, &ctx, p, (size_t)(nl - p), NULL,
			    false);
	}
	auditd_asm_stats(a, &st);
	if (st.open > 4)
		abort();
	auditd_asm_free(a);
	free(in);
	return 0;
}
