/*
 * ClamAV normalizer: malware detections and signature update failures,
 * so a detection on any agency machine becomes an event a rule can raise
 * an incident on.
 *
 *  - clamd, clamonacc, clamscan: "PATH: SIGNATURE FOUND", optionally
 *    after clamd's "ScanOnAccess: " (on-access scanning before 0.102).
 *    The path is everything up to the last ": " before the signature, so
 *    a file named to look like a detection ("a: X FOUND") cannot move the
 *    signature.  -> log.clamav, event.category malware, event.action
 *    malware_detected, file.path, threat.software.name / .type (ECS).
 *  - freshclam: "ERROR: ..." lines, and warnings that a download or an
 *    update failed.  -> event.action av_update_failed, outcome failure:
 *    a scanner whose signatures are stale detects less.
 *
 * clamd's and freshclam's own log files ("Thu Nov 27 10:00:00 2026 ->
 * MSG") carry no program name: log-syslog.c passes an empty one, and
 * both forms are tried.  Everything else from these programs keeps the
 * dataset and its message, with no action.
 *
 * Spans only, every length checked, nothing allocated.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "log-int.h"
#include "soc/event.h"

#define CA_SIG_MAX	256		/* longer "signatures" are not names */

static bool
ca_is(const char *prog, size_t plen, const char *name, size_t len)
{
	return plen == len && memcmp(prog, name, len) == 0;
}
#define CA_IS(prog, plen, lit)	ca_is((prog), (plen), (lit), sizeof(lit) - 1)

/* "PATH: SIGNATURE FOUND"; true (and fields set) if it is one. */
static bool
ca_detection(struct soc_event *ev, const char *p, size_t n)
{
	size_t end, i;

	(void)LOG_SKIP(p, n, "ScanOnAccess: ");
	if (n < 10 || memcmp(p + n - 6, " FOUND", 6) != 0)
		return false;
	end = n - 6;
	/* the signature: back to the last ": ", with no space in it */
	for (i = end; i > 0 && p[i - 1] != ' '; i--)
		;
	/* i >= 3: a path of one byte at least before ": " */
	if (i == end || end - i > CA_SIG_MAX || i < 3 || p[i - 2] != ':')
		return false;
	soc_event_set_cstr(ev, SOC_F_EVENT_CATEGORY, "malware");
	soc_event_set_cstr(ev, SOC_F_EVENT_TYPE, "info");
	log_action(ev, "malware_detected", LOG_UNKNOWN);
	soc_event_set_str(ev, SOC_F_THREAT_SW_NAME, p + i, end - i);
	soc_event_set_cstr(ev, SOC_F_THREAT_SW_TYPE, "Malware");
	soc_event_set_str(ev, SOC_F_FILE_PATH, p, i - 2);
	return true;
}

/* Whether [p, p+n) holds the literal (a loop: these lines are short). */
static bool
ca_has(const char *p, size_t n, const char *lit, size_t litlen)
{
	for (size_t i = 0; i + litlen <= n; i++) {
		size_t k = 0;

		while (k < litlen && p[i + k] == lit[k])
			k++;
		if (k == litlen)
			return true;
	}
	return false;
}
#define CA_HAS(p, n, lit)	ca_has((p), (n), (lit), sizeof(lit) - 1)

/* freshclam: an update that did not happen. */
static bool
ca_update_failed(struct soc_event *ev, const char *p, size_t n)
{
	bool failed = LOG_PREFIX(p, n, "ERROR:") ||
	    (LOG_PREFIX(p, n, "WARNING:") && (CA_HAS(p, n, "pdate failed") ||
	    CA_HAS(p, n, "Can't download") || CA_HAS(p, n, "Can't connect")));

	if (!failed)
		return false;
	soc_event_set_cstr(ev, SOC_F_EVENT_CATEGORY, "malware");
	soc_event_set_cstr(ev, SOC_F_EVENT_TYPE, "error");
	log_action(ev, "av_update_failed", LOG_FAILURE);
	return true;
}

const char *
log_clamav_parse(struct soc_event *ev, const char *prog, size_t plen,
    const char *msg, size_t len)
{
	bool scanner = CA_IS(prog, plen, "clamd") ||
	    CA_IS(prog, plen, "clamonacc") || CA_IS(prog, plen, "clamscan");
	bool fresh = CA_IS(prog, plen, "freshclam");

	if (plen == 0) {
		/* clamd.log or freshclam.log: only what is surely theirs */
		if (!ca_detection(ev, msg, len) &&
		    !(LOG_PREFIX(msg, len, "ERROR:") &&
		    ca_update_failed(ev, msg, len)))
			return NULL;
		soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, LOGPARSE_DS_CLAMAV);
		return LOGPARSE_DS_CLAMAV;
	}
	if (!scanner && !fresh)
		return NULL;
	soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, LOGPARSE_DS_CLAMAV);
	if (scanner)
		(void)ca_detection(ev, msg, len);
	else
		(void)ca_update_failed(ev, msg, len);
	return LOGPARSE_DS_CLAMAV;
}
