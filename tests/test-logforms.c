/*
 * Real-world log forms the first normalizers missed (issue 11), one table
 * row per line, through log_syslog_parse() as the sensor calls it:
 *
 *  - the older PAM form of sshd failures, "sshd(pam_unix)[PID]:
 *    authentication failure; ... rhost=HOST user=NAME", normalized as
 *    "pam_unix(sshd:auth)" lines are; an rhost that is a host name goes
 *    to source.domain, an address to source.ip;
 *  - syslog lines behind a prefix of extra fields (cluster logs such as
 *    Thunderbird's "- EPOCH DATE NODE Mmm dd hh:mm:ss host prog[pid]:"),
 *    which keep the line's own time as @timestamp, never the read time;
 *  - ClamAV: clamd / clamonacc detections ("PATH: SIGNATURE FOUND", in
 *    syslog and in clamd's own log) and freshclam update failures, with
 *    file.path and threat.software.* (ECS), event.category malware.
 *
 * Lines are copied into buffers of their exact length (no NUL after), so
 * ASan catches a read past the end.  The line forms follow the loghub
 * Linux and Thunderbird logs and ClamAV's documented output; the values
 * in them are made up.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logparse.h"
#include "soc/event.h"
#include "check.h"

#define TZ_HCM		25200		/* Asia/Ho_Chi_Minh */

static struct soc_event ev;
static struct logparse_ctx ctx = {
	.path = "/var/log/messages",
	.tz_offset_sec = TZ_HCM,
};

/* "YYYY-MM-DD HH:MM:SS" UTC -> ns. */
static int64_t
utc(const char *s)
{
	struct tm tm = { 0 };

	if (sscanf(s, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		abort();
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000000000LL;
}

static const char *
parse(const char *line)
{
	size_t len = strlen(line);
	char *copy = malloc(len > 0 ? len : 1);
	const char *ds;

	if (copy == NULL)
		abort();
	memcpy(copy, line, len);
	ds = log_syslog_parse(&ctx, copy, len, &ev);
	free(copy);
	return ds;
}

static const char *
fld(int f)
{
	static char buf[4][SOC_EVENT_BUFSZ + 1];
	static int next;
	char *b = buf[next++ & 3];

	return soc_event_text(&ev, f, b, SOC_EVENT_BUFSZ + 1) < 0 ? NULL : b;
}

#define CHECK_FLD(f, want) do { \
	const char *w__ = (want); \
	if (w__ == NULL) \
		CHECK(!soc_event_has(&ev, (f))); \
	else \
		CHECK_STR(fld(f), w__); \
} while (0)

struct form {
	const char	*line;
	const char	*dataset;
	const char	*action;
	const char	*outcome;
	const char	*user;
	const char	*ip;		/* source.ip */
	const char	*domain;	/* source.domain */
	const char	*path;		/* file.path */
	const char	*threat;	/* threat.software.name */
	const char	*ts;		/* @timestamp, UTC; NULL: read time */
};

static const struct form forms[] = {
	/* sshd(pam_unix), as the Linux syslogs of loghub have it */
	{ "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication "
	  "failure; logname= uid=0 euid=0 tty=NODEVssh ruser= "
	  "rhost=218.188.2.4 ", "log.sshd", "pam_auth", "failure", NULL,
	  "218.188.2.4", NULL, NULL, NULL, "2026-06-14 08:16:01" },
	{ "Jun 15 02:04:59 combo sshd(pam_unix)[20882]: authentication "
	  "failure; logname= uid=0 euid=0 tty=NODEVssh ruser= "
	  "rhost=220-135-151-1.hinet-ip.hinet.net  user=root", "log.sshd",
	  "pam_auth", "failure", "root", NULL,
	  "220-135-151-1.hinet-ip.hinet.net", NULL, NULL,
	  "2026-06-14 19:04:59" },
	{ "Jun 15 12:12:34 combo sshd(pam_unix)[23397]: check pass; user "
	  "unknown", "log.sshd", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  "2026-06-15 05:12:34" },
	/* the newer form gets source.domain too */
	{ "Nov 27 10:00:00 gw1 sshd[5]: pam_unix(sshd:auth): authentication "
	  "failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=host.example.vn"
	  "  user=admin", "log.sshd", "pam_auth", "failure", "admin", NULL,
	  "host.example.vn", NULL, NULL, "2026-11-27 03:00:00" },
	/* an rhost that is neither an address nor a name: neither field */
	{ "Nov 27 10:00:00 gw1 sshd(pam_unix)[9]: authentication failure; "
	  "rhost=a;b$c user=x", "log.sshd", "pam_auth", "failure", "x", NULL,
	  NULL, NULL, NULL, "2026-11-27 03:00:00" },
	/* extra fields before the stamp (Thunderbird) */
	{ "- 1131566461 2005.11.09 dn228 Nov 10 12:01:01 dn228/dn228 "
	  "sshd(pam_unix)[2915]: authentication failure; logname= uid=0 "
	  "euid=0 tty=NODEVssh ruser= rhost=10.100.4.2  user=root", "log.sshd",
	  "pam_auth", "failure", "root", "10.100.4.2", NULL, NULL, NULL,
	  "2026-11-10 05:01:01" },
	{ "- 1131566461 2005.11.09 tbird-admin1 Nov 10 10:39:01 "
	  "local@tbird-admin1 /apps/x86_64/system/ganglia-3.0.1/sbin/gmetad"
	  "[1682]: data_thread() got not answer from any [Thunderbird_A8] "
	  "datasource", "log.syslog", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  "2026-11-10 03:39:01" },
	/* no stamp anywhere: the read time, as before */
	{ "- 1131566461 2005.11.09 dn228 something without a stamp",
	  "log.syslog", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	/* ClamAV detections */
	{ "Nov 27 10:00:00 gw1 clamd[812]: /home/u/Downloads/eicar.com: "
	  "Win.Test.EICAR_HDB-1 FOUND", "log.clamav", "malware_detected",
	  "unknown", NULL, NULL, NULL, "/home/u/Downloads/eicar.com",
	  "Win.Test.EICAR_HDB-1", "2026-11-27 03:00:00" },
	{ "Nov 27 10:00:00 gw1 clamonacc[900]: /srv/share/Báo cáo/x.docm: "
	  "Doc.Downloader.Emotet-7 FOUND", "log.clamav", "malware_detected",
	  "unknown", NULL, NULL, NULL, "/srv/share/Báo cáo/x.docm",
	  "Doc.Downloader.Emotet-7", "2026-11-27 03:00:00" },
	{ "Nov 27 10:00:00 gw1 clamd[812]: ScanOnAccess: /tmp/e.com: "
	  "Eicar-Test-Signature FOUND", "log.clamav", "malware_detected",
	  "unknown", NULL, NULL, NULL, "/tmp/e.com", "Eicar-Test-Signature",
	  "2026-11-27 03:00:00" },
	/* a file named like a detection cannot move the signature */
	{ "Nov 27 10:00:00 gw1 clamd[1]: /tmp/a: Fake.Sig FOUND: Real.Sig "
	  "FOUND", "log.clamav", "malware_detected", "unknown", NULL, NULL,
	  NULL, "/tmp/a: Fake.Sig FOUND", "Real.Sig", "2026-11-27 03:00:00" },
	/* clamd's own log file */
	{ "Fri Nov 27 10:00:00 2026 -> /srv/share/invoice.doc: "
	  "Doc.Dropper.Agent-1 FOUND", "log.clamav", "malware_detected",
	  "unknown", NULL, NULL, NULL, "/srv/share/invoice.doc",
	  "Doc.Dropper.Agent-1", "2026-11-27 03:00:00" },
	{ "Fri Nov  6 10:00:00 2026 -> ERROR: Update failed for database: "
	  "daily", "log.clamav", "av_update_failed", "failure", NULL, NULL,
	  NULL, NULL, NULL, "2026-11-06 03:00:00" },
	/* freshclam */
	{ "Nov 27 10:00:00 gw1 freshclam[77]: ERROR: Update failed for "
	  "database: daily", "log.clamav", "av_update_failed", "failure", NULL,
	  NULL, NULL, NULL, NULL, "2026-11-27 03:00:00" },
	{ "Nov 27 10:00:00 gw1 freshclam[77]: WARNING: Can't download "
	  "daily.cvd from https://database.clamav.net/daily.cvd", "log.clamav",
	  "av_update_failed", "failure", NULL, NULL, NULL, NULL, NULL,
	  "2026-11-27 03:00:00" },
	{ "Nov 27 10:00:00 gw1 freshclam[77]: daily.cvd database is up-to-date"
	  " (version: 27000, sigs: 2000000, f-level: 90, builder: raynman)",
	  "log.clamav", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  "2026-11-27 03:00:00" },
	{ "Nov 27 10:00:00 gw1 clamd[812]: SelfCheck: Database status OK.",
	  "log.clamav", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  "2026-11-27 03:00:00" },
	/* not ClamAV's programs: untouched */
	{ "Nov 27 10:00:00 gw1 app[1]: /tmp/x: Sig FOUND", "log.syslog", NULL,
	  NULL, NULL, NULL, NULL, NULL, NULL, "2026-11-27 03:00:00" },
	{ "Nov 27 10:00:00 gw1 clamd[1]: : Sig FOUND", "log.clamav", NULL,
	  NULL, NULL, NULL, NULL, NULL, NULL, "2026-11-27 03:00:00" },
	{ "Fri Nov 27 10:00:00 2026 -> SelfCheck: Database status OK.",
	  "log.syslog", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};

int
main(void)
{
	int64_t now = utc("2026-11-27 03:00:00");

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		const struct form *f = &forms[i];
		int fails = check_fail;

		ctx.now_ns = now;
		CHECK_STR(parse(f->line), f->dataset);
		CHECK_FLD(SOC_F_EVENT_DATASET, f->dataset);
		CHECK_FLD(SOC_F_EVENT_ACTION, f->action);
		CHECK_FLD(SOC_F_EVENT_OUTCOME, f->outcome);
		CHECK_FLD(SOC_F_USER_NAME, f->user);
		CHECK_FLD(SOC_F_SOURCE_IP, f->ip);
		CHECK_FLD(SOC_F_SOURCE_DOMAIN, f->domain);
		CHECK_FLD(SOC_F_FILE_PATH, f->path);
		CHECK_FLD(SOC_F_THREAT_SW_NAME, f->threat);
		if (f->threat != NULL) {
			CHECK_FLD(SOC_F_EVENT_CATEGORY, "malware");
			CHECK_FLD(SOC_F_THREAT_SW_TYPE, "Malware");
		}
		if (f->action != NULL && strcmp(f->action, "av_update_failed") == 0)
			CHECK_FLD(SOC_F_EVENT_CATEGORY, "malware");
		CHECK_INT(ev.ts, f->ts != NULL ? utc(f->ts) : now);
		if (check_fail != fails)
			fprintf(stderr, "  ^ in: %s\n", f->line);
	}
	return check_done();
}
