/*
 * Log normalizers (sensor/log-*.c): syslog headers (RFC 3164 with and
 * without PRI, RFC 5424 with structured data, ISO-8601 file stamps), the
 * RFC 3164 year rollover, sshd actions, Apache/nginx access logs, and
 * hostile input: every line is copied into a heap buffer of its exact
 * length with no terminating NUL, so ASan catches any read past the end.
 * With ../shared/data present, the real OpenSSH and Apache logs are
 * parsed whole and checked against the counts in its README.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logparse.h"
#include "soc/event.h"
#include "check.h"

#define TZ_HCM		25200		/* Asia/Ho_Chi_Minh */
#define ABSENT		(-1)

static struct soc_event ev;
static struct logparse_ctx ctx = {
	.path = "/var/log/auth.log",
	.tz_offset_sec = TZ_HCM,
};

/* "YYYY-MM-DD HH:MM:SS[.fffffffff]" UTC -> ns. */
static int64_t
utc(const char *s)
{
	struct tm tm = { 0 };
	const char *dot;
	int64_t ns = 0, scale = 100000000;

	if (sscanf(s, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		abort();
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if ((dot = strchr(s, '.')) != NULL) {
		for (dot++; *dot >= '0' && *dot <= '9'; dot++, scale /= 10)
			ns += (*dot - '0') * scale;
	}
	return (int64_t)timegm(&tm) * 1000000000LL + ns;
}

/* Parses a copy of exactly len bytes, no NUL after it. */
static const char *
parse_n(const char *line, size_t len)
{
	char *copy = malloc(len > 0 ? len : 1);
	const char *ds;

	if (copy == NULL)
		abort();
	memcpy(copy, line, len);
	ds = logparse_line(&ctx, copy, len, &ev);
	free(copy);
	return ds;
}

static const char *
parse(const char *line)
{
	return parse_n(line, strlen(line));
}

/* Field as text (ring of buffers), NULL when absent. */
static const char *
fld(int f)
{
	static char buf[4][SOC_EVENT_BUFSZ + 1];
	static int next;
	char *b = buf[next++ & 3];

	return soc_event_text(&ev, f, b, SOC_EVENT_BUFSZ + 1) < 0 ? NULL : b;
}

/* CHECK_STR that also accepts "absent" (want == NULL). */
#define CHECK_FLD(f, want) do { \
	const char *w__ = (want); \
	if (w__ == NULL) \
		CHECK(!soc_event_has(&ev, (f))); \
	else \
		CHECK_STR(fld(f), w__); \
} while (0)

#define CHECK_NUM(f, want) do { \
	long long w__ = (want); \
	if (w__ == ABSENT) \
		CHECK(!soc_event_has(&ev, (f))); \
	else \
		CHECK_INT(soc_event_int(&ev, (f), -12345), w__); \
} while (0)

/* Names the table row after its failed checks. */
static void
case_end(int fails_before, const char *line)
{
	if (check_fail != fails_before)
		fprintf(stderr, "  ^ in: %s\n", line);
}

/*
 * Syslog headers.
 */
static const struct {
	const char	*line;
	const char	*dataset;
	const char	*ts;		/* UTC; NULL: reception time */
	const char	*host;
	const char	*prog;
	long long	 pid;
	const char	*level;
	const char	*msg;
} syslog_cases[] = {
	{ "Dec 10 06:55:46 LabSZ sshd[24200]: Connection closed by "
	  "173.234.31.186 [preauth]", "log.sshd", "2026-12-09 23:55:46",
	  "LabSZ", "sshd", 24200, NULL,
	  "Connection closed by 173.234.31.186 [preauth]" },
	{ "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick "
	  "on /dev/pts/8", "log.syslog", "2026-10-11 15:14:15", "mymachine",
	  "su", ABSENT, "critical",
	  "'su root' failed for lonvick on /dev/pts/8" },
	{ "Nov  7 01:02:03 gw1 kernel: [  12.5] eth0: link up",
	  "log.syslog", "2026-11-06 18:02:03", "gw1", "kernel", ABSENT, NULL,
	  "[  12.5] eth0: link up" },
	{ "Nov 7 01:02:03.250 gw1 postfix/smtpd[77]: connect from x",
	  "log.syslog", "2026-11-06 18:02:03.25", "gw1", "postfix/smtpd", 77,
	  NULL, "connect from x" },
	/* No host: a local /dev/log message. */
	{ "<13>Nov 27 09:59:00 myprog[12]: hello", "log.syslog",
	  "2026-11-27 02:59:00", NULL, "myprog", 12, "notice", "hello" },
	/* No tag. */
	{ "Nov 27 09:59:00 gw1 free text here", "log.syslog",
	  "2026-11-27 02:59:00", "gw1", NULL, ABSENT, NULL, "free text here" },
	{ "Nov 27 09:59:00 gw1 app[x1]: odd pid", "log.syslog",
	  "2026-11-27 02:59:00", "gw1", "app", ABSENT, NULL, "odd pid" },
	/* RFC 5424 examples (section 6.5), BOM stripped. */
	{ "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
	  "\xef\xbb\xbf'su root' failed for lonvick on /dev/pts/8",
	  "log.syslog", "2003-10-11 22:14:15.003", "mymachine.example.com",
	  "su", ABSENT, "critical", "'su root' failed for lonvick on /dev/pts/8" },
	{ "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - "
	  "%% It's time to make the do-nuts.", "log.syslog",
	  "2003-08-24 12:14:15.000003", "192.0.2.1", "myproc", 8710, "notice",
	  "%% It's time to make the do-nuts." },
	{ "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - "
	  "ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" "
	  "eventID=\"1011\"] An application event log entry", "log.syslog",
	  "2003-10-11 22:14:15.003", "mymachine.example.com", "evntslog",
	  ABSENT, "notice", "An application event log entry" },
	{ "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - "
	  "ID47 [exampleSDID@32473 iut=\"3\"][examplePriority@32473 "
	  "class=\"high\"]", "log.syslog", "2003-10-11 22:14:15.003",
	  "mymachine.example.com", "evntslog", ABSENT, "notice", "" },
	/* Escaped ']', '"' and '\' inside SD values; ']' in a value. */
	{ "<14>1 2026-11-27T10:00:00.123+07:00 host app 42 - "
	  "[x@1 a=\"b\\]c\\\"d\\\\\" e=\"]\"][y@2 z=\"1\"] hello [world]",
	  "log.syslog", "2026-11-27 03:00:00.123", "host", "app", 42,
	  "informational", "hello [world]" },
	/* All nil. */
	{ "<14>1 - - - - - -", "log.syslog", NULL, NULL, NULL, ABSENT,
	  "informational", "" },
	/* Unterminated SD: kept in the message. */
	{ "<14>1 - h a - - [x a=\"]", "log.syslog", NULL, "h", "a", ABSENT,
	  "informational", "[x a=\"]" },
	{ "<13>1 2026-11-27T10:00:00+07:00 gw1 sshd-session 31 - - Failed "
	  "password for root from 10.0.0.9 port 2222 ssh2", "log.sshd",
	  "2026-11-27 03:00:00", "gw1", "sshd-session", 31, "notice",
	  "Failed password for root from 10.0.0.9 port 2222 ssh2" },
	/* rsyslog high-precision file stamps. */
	{ "2026-11-27T10:00:00.123456+07:00 gw1 CRON[1234]: (root) CMD (x)",
	  "log.syslog", "2026-11-27 03:00:00.123456", "gw1", "CRON", 1234,
	  NULL, "(root) CMD (x)" },
	{ "2026-11-27T10:00:00Z gw1 app: m", "log.syslog",
	  "2026-11-27 10:00:00", "gw1", "app", ABSENT, NULL, "m" },
	{ "2026-11-27T10:00:00 gw1 app: no zone", "log.syslog",
	  "2026-11-27 03:00:00", "gw1", "app", ABSENT, NULL, "no zone" },
	{ "<30>2026-11-27T10:00:00-0130 gw1 app: compact zone", "log.syslog",
	  "2026-11-27 11:30:00", "gw1", "app", ABSENT, "informational",
	  "compact zone" },
	/* A bare PRI with no stamp: relay message. */
	{ "<13>hello", "log.syslog", NULL, NULL, NULL, ABSENT, "notice",
	  "hello" },
	/* No header at all: the whole line. */
	{ "just some text", "log.syslog", NULL, NULL, NULL, ABSENT, NULL,
	  "just some text" },
	{ "<", "log.syslog", NULL, NULL, NULL, ABSENT, NULL, "<" },
	{ "<192>Nov 27 09:59:00 h p: x", "log.syslog", NULL, NULL, NULL,
	  ABSENT, NULL, "<192>Nov 27 09:59:00 h p: x" },
	{ "<13", "log.syslog", NULL, NULL, NULL, ABSENT, NULL, "<13" },
	{ "Dec 10 06:55", "log.syslog", NULL, NULL, NULL, ABSENT, NULL,
	  "Dec 10 06:55" },
	{ "Dec 10 06:55:46 LabSZ", "log.syslog", "2026-12-09 23:55:46",
	  "LabSZ", NULL, ABSENT, NULL, "" },
	{ "Dec 32 06:55:46 LabSZ x: y", "log.syslog", NULL, NULL, NULL,
	  ABSENT, NULL, "Dec 32 06:55:46 LabSZ x: y" },
	{ "Foo 10 06:55:46 LabSZ x: y", "log.syslog", NULL, NULL, NULL,
	  ABSENT, NULL, "Foo 10 06:55:46 LabSZ x: y" },
	{ "9999-12-31T23:59:59Z h a: far future", "log.syslog", NULL, NULL,
	  NULL, ABSENT, NULL, "9999-12-31T23:59:59Z h a: far future" },
	{ "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok",
	  "log.syslog", NULL, NULL, NULL, ABSENT, NULL,
	  "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok" },
	/* An access log relayed through syslog. */
	{ "<190>Nov 27 10:00:00 web01 nginx: 1.2.3.4 - - [27/Nov/2026:10:00:00"
	  " +0700] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl/8\"", "log.web",
	  "2026-11-27 03:00:00", "web01", "nginx", ABSENT, "informational",
	  "1.2.3.4 - - [27/Nov/2026:10:00:00 +0700] \"GET / HTTP/1.1\" 200 5 "
	  "\"-\" \"curl/8\"" },
};

static void
test_syslog(void)
{
	ctx.now_ns = utc("2026-11-27 03:00:00");
	for (size_t i = 0; i < sizeof(syslog_cases) / sizeof(syslog_cases[0]);
	    i++) {
		int fails = check_fail;
		const char *ds = parse(syslog_cases[i].line);

		CHECK_STR(ds, syslog_cases[i].dataset);
		CHECK_FLD(SOC_F_EVENT_DATASET, syslog_cases[i].dataset);
		CHECK_FLD(SOC_F_EVENT_KIND, "event");
		CHECK_FLD(SOC_F_LOG_FILE_PATH, "/var/log/auth.log");
		CHECK_INT(ev.ts, syslog_cases[i].ts != NULL ?
		    utc(syslog_cases[i].ts) : ctx.now_ns);
		CHECK_FLD(SOC_F_HOST_HOSTNAME, syslog_cases[i].host);
		CHECK_FLD(SOC_F_PROCESS_NAME, syslog_cases[i].prog);
		CHECK_NUM(SOC_F_PROCESS_PID, syslog_cases[i].pid);
		CHECK_FLD(SOC_F_LOG_LEVEL, syslog_cases[i].level);
		CHECK_FLD(SOC_F_MESSAGE, syslog_cases[i].msg);
		case_end(fails, syslog_cases[i].line);
	}
}

/* RFC 3164 stamps have no year: December lines read in January. */
static void
test_year_rollover(void)
{
	ctx.now_ns = utc("2027-01-02 03:00:00");
	parse("Dec 31 23:59:59 h p: x");
	CHECK_INT(ev.ts, utc("2026-12-31 16:59:59"));
	parse("Jan  1 00:00:01 h p: x");
	CHECK_INT(ev.ts, utc("2026-12-31 17:00:01"));
	parse("Jan  2 09:00:00 h p: x");
	CHECK_INT(ev.ts, utc("2027-01-02 02:00:00"));
	/* A few weeks ahead is clock skew, not last year. */
	parse("Jan 20 09:00:00 h p: x");
	CHECK_INT(ev.ts, utc("2027-01-20 02:00:00"));
	parse("Feb 10 09:00:00 h p: x");
	CHECK_INT(ev.ts, utc("2026-02-10 02:00:00"));
	/* now is 2027-01-01 01:00 in Hanoi but still 2026 in UTC. */
	ctx.now_ns = utc("2026-12-31 18:00:00");
	parse("Jan  1 00:30:00 h p: x");
	CHECK_INT(ev.ts, utc("2026-12-31 17:30:00"));
	parse("Dec 31 23:00:00 h p: x");
	CHECK_INT(ev.ts, utc("2026-12-31 16:00:00"));
	/* Feb 29 of a leap year, read the next year. */
	ctx.now_ns = utc("2029-01-05 00:00:00");
	parse("Feb 29 12:00:00 h p: x");
	CHECK_INT(ev.ts, utc("2028-02-29 05:00:00"));
	/* Other zones. */
	ctx.now_ns = utc("2026-06-01 00:00:00");
	ctx.tz_offset_sec = -18000;
	parse("Jun  1 00:00:00 h p: x");
	CHECK_INT(ev.ts, utc("2026-06-01 05:00:00"));
	ctx.tz_offset_sec = TZ_HCM;
}

/*
 * sshd.
 */
static const struct {
	const char	*msg;
	const char	*action;
	const char	*outcome;
	const char	*user;
	const char	*ip;
	long long	 port;
} sshd_cases[] = {
	{ "Failed password for root from 183.62.140.253 port 35110 ssh2",
	  "ssh_login", "failure", "root", "183.62.140.253", 35110 },
	{ "Failed password for invalid user webmaster from 173.234.31.186 "
	  "port 38926 ssh2", "ssh_login", "failure", "webmaster",
	  "173.234.31.186", 38926 },
	{ "Failed password for invalid user test 0101 from 5.36.59.76 port "
	  "42393 ssh2", "ssh_login", "failure", "test 0101", "5.36.59.76",
	  42393 },
	/* An attacker-chosen name cannot move the address. */
	{ "Failed password for invalid user x from 6.6.6.6 port 1 ssh2 from "
	  "10.1.1.1 port 2222 ssh2", "ssh_login", "failure",
	  "x from 6.6.6.6 port 1 ssh2", "10.1.1.1", 2222 },
	{ "Failed publickey for git from 2001:db8::7 port 50022 ssh2: "
	  "RSA SHA256:abc", "ssh_login", "failure", "git", "2001:db8::7",
	  50022 },
	{ "Failed none for invalid user admin from 1.2.3.4 port 5 ssh2",
	  NULL, NULL, NULL, NULL, ABSENT },
	{ "Accepted password for fztu from 119.137.62.142 port 49116 ssh2",
	  "ssh_login", "success", "fztu", "119.137.62.142", 49116 },
	{ "Accepted publickey for ops from 10.0.0.5 port 40000 ssh2: ED25519 "
	  "SHA256:xyz", "ssh_login", "success", "ops", "10.0.0.5", 40000 },
	{ "Accepted keyboard-interactive/pam for bob from 10.0.0.6 port 1 "
	  "ssh2", "ssh_login", "success", "bob", "10.0.0.6", 1 },
	{ "Invalid user webmaster from 173.234.31.186", "invalid_user",
	  "failure", "webmaster", "173.234.31.186", ABSENT },
	{ "Invalid user admin from 10.2.3.4 port 51000", "invalid_user",
	  "failure", "admin", "10.2.3.4", 51000 },
	{ "Invalid user  from 10.2.3.4 port 51000", "invalid_user",
	  "failure", NULL, "10.2.3.4", 51000 },
	{ "Invalid user test 0101 from 5.36.59.76", "invalid_user",
	  "failure", "test 0101", "5.36.59.76", ABSENT },
	{ "Invalid user", "invalid_user", "failure", NULL, NULL, ABSENT },
	{ "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
	  "tty=ssh ruser= rhost=112.95.230.3  user=root", "pam_auth",
	  "failure", "root", "112.95.230.3", ABSENT },
	{ "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
	  "tty=ssh ruser= rhost=5.188.10.180", "pam_auth", "failure", NULL,
	  "5.188.10.180", ABSENT },
	{ "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
	  "tty=ssh ruser= rhost=ec2-52-80-34-196.cn-north-1.compute.amazonaws"
	  ".com.cn", "pam_auth", "failure", NULL, NULL, ABSENT },
	{ "error: maximum authentication attempts exceeded for root from "
	  "10.9.8.7 port 4444 ssh2 [preauth]", "max_auth_exceeded", "failure",
	  "root", "10.9.8.7", 4444 },
	{ "error: maximum authentication attempts exceeded for invalid user "
	  "pi from 10.9.8.7 port 4445 ssh2 [preauth]", "max_auth_exceeded",
	  "failure", "pi", "10.9.8.7", 4445 },
	{ "Disconnecting: Too many authentication failures for admin "
	  "[preauth]", "max_auth_exceeded", "failure", "admin", NULL, ABSENT },
	{ "Disconnecting authenticating user root 10.9.8.7 port 4444: Too "
	  "many authentication failures [preauth]", "ssh_disconnect",
	  "unknown", "root", "10.9.8.7", 4444 },
	{ "Disconnecting invalid user pi fe80::1 port 4445: Too many "
	  "authentication failures [preauth]", "ssh_disconnect", "unknown",
	  "pi", "fe80::1", 4445 },
	{ "Did not receive identification string from 191.210.223.172",
	  "no_identification", "failure", NULL, "191.210.223.172", ABSENT },
	{ "Did not receive identification string from 10.0.0.1 port 60000",
	  "no_identification", "failure", NULL, "10.0.0.1", 60000 },
	{ "Received disconnect from 183.62.140.253: 11: Bye Bye [preauth]",
	  "ssh_disconnect", "unknown", NULL, "183.62.140.253", ABSENT },
	{ "Received disconnect from 10.0.0.2 port 52000:11: Bye Bye [preauth]",
	  "ssh_disconnect", "unknown", NULL, "10.0.0.2", 52000 },
	{ "Received disconnect from 2001:db8::1: 11: Bye Bye [preauth]",
	  "ssh_disconnect", "unknown", NULL, "2001:db8::1", ABSENT },
	{ "error: Received disconnect from 103.99.0.122: 14: No more user "
	  "authentication methods available. [preauth]", "ssh_disconnect",
	  "unknown", NULL, "103.99.0.122", ABSENT },
	{ "Disconnected from authenticating user root 10.0.0.3 port 53000 "
	  "[preauth]", "ssh_disconnect", "unknown", "root", "10.0.0.3", 53000 },
	{ "Disconnected from invalid user a b 10.0.0.3 port 53001 [preauth]",
	  "ssh_disconnect", "unknown", "a b", "10.0.0.3", 53001 },
	{ "Disconnected from user fztu 119.137.62.142 port 49116",
	  "ssh_disconnect", "unknown", "fztu", "119.137.62.142", 49116 },
	{ "Disconnected from 10.0.0.4 port 53002 [preauth]", "ssh_disconnect",
	  "unknown", NULL, "10.0.0.4", 53002 },
	{ "Connection closed by 173.234.31.186 [preauth]", "ssh_disconnect",
	  "unknown", NULL, "173.234.31.186", ABSENT },
	{ "Connection closed by authenticating user root 10.0.0.5 port 53003 "
	  "[preauth]", "ssh_disconnect", "unknown", "root", "10.0.0.5", 53003 },
	{ "Connection closed by 10.0.0.6 port 53004", "ssh_disconnect",
	  "unknown", NULL, "10.0.0.6", 53004 },
	{ "banner exchange: Connection from 10.0.0.7 port 53005: invalid "
	  "format", "banner_error", "failure", NULL, "10.0.0.7", 53005 },
	{ "kex_exchange_identification: Connection closed by remote host",
	  "banner_error", "failure", NULL, NULL, ABSENT },
	{ "reverse mapping checking getaddrinfo for ns.marryaldkfaczcz.com "
	  "[173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!",
	  "reverse_mapping_failed", "unknown", NULL, "173.234.31.186",
	  ABSENT },
	{ "reverse mapping checking getaddrinfo for x [junk] failed - "
	  "POSSIBLE BREAK-IN ATTEMPT!", "reverse_mapping_failed", "unknown",
	  NULL, NULL, ABSENT },
	{ "Address 10.0.0.8 maps to h.example, but this does not map back to "
	  "the address - POSSIBLE BREAK-IN ATTEMPT!", "reverse_mapping_failed",
	  "unknown", NULL, "10.0.0.8", ABSENT },
	{ "message repeated 5 times: [ Failed password for root from "
	  "183.62.140.253 port 35110 ssh2]", "ssh_login", "failure", "root",
	  "183.62.140.253", 35110 },
	{ "pam_unix(sshd:session): session opened for user fztu by (uid=0)",
	  NULL, NULL, NULL, NULL, ABSENT },
	{ "Server listening on 0.0.0.0 port 22.", NULL, NULL, NULL, NULL,
	  ABSENT },
	{ "", NULL, NULL, NULL, NULL, ABSENT },
	{ "Failed password for", NULL, NULL, NULL, NULL, ABSENT },
	{ "Failed password for root from", "ssh_login", "failure", NULL, NULL,
	  ABSENT },
};

static void
test_sshd(void)
{
	char line[1024];

	ctx.now_ns = utc("2026-11-27 03:00:00");
	for (size_t i = 0; i < sizeof(sshd_cases) / sizeof(sshd_cases[0]);
	    i++) {
		int fails = check_fail;

		snprintf(line, sizeof(line), "Dec 10 06:55:46 LabSZ sshd[24200]: "
		    "%s", sshd_cases[i].msg);
		CHECK_STR(parse(line), "log.sshd");
		CHECK_FLD(SOC_F_EVENT_DATASET, "log.sshd");
		CHECK_FLD(SOC_F_EVENT_CATEGORY, "authentication");
		CHECK_FLD(SOC_F_PROCESS_NAME, "sshd");
		CHECK_FLD(SOC_F_MESSAGE, sshd_cases[i].msg);
		CHECK_FLD(SOC_F_EVENT_ACTION, sshd_cases[i].action);
		CHECK_FLD(SOC_F_EVENT_OUTCOME, sshd_cases[i].outcome);
		CHECK_FLD(SOC_F_USER_NAME, sshd_cases[i].user);
		CHECK_FLD(SOC_F_SOURCE_IP, sshd_cases[i].ip);
		CHECK_NUM(SOC_F_SOURCE_PORT, sshd_cases[i].port);
		case_end(fails, line);
	}
}

/*
 * Access logs.
 */
static const struct {
	const char	*line;
	const char	*ts;
	const char	*ip;
	const char	*user;
	const char	*method;
	const char	*original;
	const char	*path;
	const char	*query;
	const char	*version;
	long long	 status;
	long long	 bytes;
	const char	*referrer;
	const char	*agent;
	const char	*domain;
	long long	 dport;
} web_cases[] = {
	{ "83.149.9.216 - - [17/May/2015:10:05:03 +0000] \"GET /presentations/"
	  "logstash-monitorama-2013/images/kibana-search.png HTTP/1.1\" 200 "
	  "203023 \"http://semicomplete.com/presentations/logstash-monitorama-"
	  "2013/\" \"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) "
	  "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 "
	  "Safari/537.36\"", "2015-05-17 10:05:03", "83.149.9.216", NULL,
	  "GET", "/presentations/logstash-monitorama-2013/images/kibana-"
	  "search.png", "/presentations/logstash-monitorama-2013/images/"
	  "kibana-search.png", NULL, "1.1", 200, 203023,
	  "http://semicomplete.com/presentations/logstash-monitorama-2013/",
	  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 "
	  "(KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36", NULL,
	  ABSENT },
	/* Common format, the Apache manual's example. */
	{ "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif"
	  " HTTP/1.0\" 200 2326", "2000-10-10 20:55:36", "127.0.0.1", "frank",
	  "GET", "/apache_pb.gif", "/apache_pb.gif", NULL, "1.0", 200, 2326,
	  NULL, NULL, NULL, ABSENT },
	{ "www.example.com:443 203.0.113.9 - - [27/Nov/2026:10:00:00 +0700] "
	  "\"POST /login.php?next=%2F&a=1#frag HTTP/2.0\" 302 - "
	  "\"https://www.example.com/\" \"Mozilla/5.0\"", "2026-11-27 03:00:00",
	  "203.0.113.9", NULL, "POST", "/login.php?next=%2F&a=1#frag",
	  "/login.php", "next=%2F&a=1", "2.0", 302, ABSENT,
	  "https://www.example.com/", "Mozilla/5.0", "www.example.com", 443 },
	{ "[2001:db8::1]:8443 2001:db8::2 - - [27/Nov/2026:10:00:00 +0700] "
	  "\"GET / HTTP/1.1\" 200 1 \"-\" \"-\"", "2026-11-27 03:00:00",
	  "2001:db8::2", NULL, "GET", "/", "/", NULL, "1.1", 200, 1, NULL, NULL,
	  "2001:db8::1", 8443 },
	/* TLS handshake on a plain-text port. */
	{ "192.0.2.7 - - [27/Nov/2026:10:00:00 +0700] \"\\x16\\x03\\x01\\x02"
	  "\\x00\\x01\\x00\\x01\\xfc\\x03\\x03\" 400 226 \"-\" \"-\"",
	  "2026-11-27 03:00:00", "192.0.2.7", NULL, NULL,
	  "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03", NULL,
	  NULL, NULL, 400, 226, NULL, NULL, NULL, ABSENT },
	{ "192.0.2.8 - - [27/Nov/2026:10:00:00 +0700] \"-\" 408 0 \"-\" \"-\"",
	  "2026-11-27 03:00:00", "192.0.2.8", NULL, NULL, NULL, NULL, NULL,
	  NULL, 408, 0, NULL, NULL, NULL, ABSENT },
	/* Escaped quotes in the request and agent. */
	{ "10.0.0.1 - - [27/Nov/2026:10:00:00 +0700] \"GET /a\\\" 200 1 \\\"b "
	  "HTTP/1.1\" 404 10 \"-\" \"x\\\"y\"", "2026-11-27 03:00:00",
	  "10.0.0.1", NULL, "GET", "/a\\\" 200 1 \\\"b", "/a\\\" 200 1 \\\"b",
	  NULL, "1.1", 404, 10, NULL, "x\\\"y", NULL, ABSENT },
	/* Proxy (absolute-form) and CONNECT targets. */
	{ "10.0.0.2 - - [27/Nov/2026:10:00:00 +0700] \"GET http://u@evil.example"
	  ":8080/x?y=1 HTTP/1.1\" 200 3", "2026-11-27 03:00:00", "10.0.0.2",
	  NULL, "GET", "http://u@evil.example:8080/x?y=1", "/x", "y=1", "1.1",
	  200, 3, NULL, NULL, "evil.example", ABSENT },
	{ "10.0.0.3 - - [27/Nov/2026:10:00:00 +0700] \"CONNECT evil.example:443"
	  " HTTP/1.1\" 405 0", "2026-11-27 03:00:00", "10.0.0.3", NULL,
	  "CONNECT", "evil.example:443", NULL, NULL, "1.1", 405, 0, NULL, NULL,
	  NULL, ABSENT },
	/* HTTP/0.9-style request, hostname client, unterminated agent. */
	{ "client.example - - [27/Nov/2026:10:00:00 +0700] \"GET /x\" 200 3 "
	  "\"-\" \"Mozilla", "2026-11-27 03:00:00", NULL, NULL, "GET", "/x",
	  "/x", NULL, NULL, 200, 3, NULL, "Mozilla", NULL, ABSENT },
	/* nginx extras after the agent. */
	{ "10.0.0.4 - alice [27/Nov/2026:10:00:00 +0700] \"GET /?q HTTP/1.1\" "
	  "200 3 \"-\" \"ua\" \"1.2.3.4\" rt=0.001", "2026-11-27 03:00:00",
	  "10.0.0.4", "alice", "GET", "/?q", "/", "q", "1.1", 200, 3, NULL,
	  "ua", NULL, ABSENT },
	{ "10.0.0.5 - - [27/Nov/2026:10:00:00 +0700] \"GET /\" 500",
	  "2026-11-27 03:00:00", "10.0.0.5", NULL, "GET", "/", "/", NULL, NULL,
	  500, ABSENT, NULL, NULL, NULL, ABSENT },
};

static void
test_web(void)
{
	ctx.now_ns = utc("2026-11-27 03:00:00");
	for (size_t i = 0; i < sizeof(web_cases) / sizeof(web_cases[0]); i++) {
		int fails = check_fail;

		CHECK_STR(parse(web_cases[i].line), "log.web");
		CHECK_FLD(SOC_F_EVENT_DATASET, "log.web");
		CHECK_FLD(SOC_F_EVENT_CATEGORY, "web");
		CHECK_FLD(SOC_F_MESSAGE, web_cases[i].line);
		CHECK_INT(ev.ts, utc(web_cases[i].ts));
		CHECK_FLD(SOC_F_SOURCE_IP, web_cases[i].ip);
		CHECK_FLD(SOC_F_USER_NAME, web_cases[i].user);
		CHECK_FLD(SOC_F_HTTP_METHOD, web_cases[i].method);
		CHECK_FLD(SOC_F_URL_ORIGINAL, web_cases[i].original);
		CHECK_FLD(SOC_F_URL_PATH, web_cases[i].path);
		CHECK_FLD(SOC_F_URL_QUERY, web_cases[i].query);
		CHECK_FLD(SOC_F_HTTP_VERSION, web_cases[i].version);
		CHECK_NUM(SOC_F_HTTP_STATUS, web_cases[i].status);
		CHECK_NUM(SOC_F_HTTP_RESP_BYTES, web_cases[i].bytes);
		CHECK_FLD(SOC_F_HTTP_REFERRER, web_cases[i].referrer);
		CHECK_FLD(SOC_F_USER_AGENT, web_cases[i].agent);
		CHECK_FLD(SOC_F_URL_DOMAIN, web_cases[i].domain);
		CHECK_NUM(SOC_F_DEST_PORT, web_cases[i].dport);
		case_end(fails, web_cases[i].line);
	}
	/* Not access logs: kept whole as syslog lines. */
	static const char *const not_web[] = {
		"10.0.0.1 - - [27/Nov/2026:10:00:00 +0700] \"GET /x HTTP/1.1 200 5",
		"10.0.0.1 - - [27/Nov/2026:10:00:00 +0700] \"GET /x\" 20 5",
		"10.0.0.1 - - [27/Nov/2026:10:00:00 +0700] \"GET /x\" 200 x",
		"10.0.0.1 - - [27/Nov/2026:10:00:00 +0700]",
		"10.0.0.1 - - [27/Nov/2026:10:00:00+0700] \"GET /\" 200 1",
		"10.0.0.1 - - [32/Nov/2026:10:00:00 +0700] \"GET /\" 200 1",
		"10.0.0.1 - [27/Nov/2026:10:00:00 +0700] \"GET /\" 200 1",
		"a b c d e [27/Nov/2026:10:00:00 +0700] \"GET /\" 200 1",
	};
	for (size_t i = 0; i < sizeof(not_web) / sizeof(not_web[0]); i++) {
		CHECK_STR(parse(not_web[i]), "log.syslog");
		CHECK_FLD(SOC_F_MESSAGE, not_web[i]);
		CHECK(!soc_event_has(&ev, SOC_F_HTTP_STATUS));
	}
}

/*
 * Hostile input.
 */
static void
test_hostile(void)
{
	static const char *const seeds[] = {
		"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 "
		"[a b=\"c\\\"]\"] msg",
		"Dec 10 06:55:46 LabSZ sshd[24200]: Failed password for invalid "
		"user test 0101 from 5.36.59.76 port 42393 ssh2",
		"2026-11-27T10:00:00.123456+07:00 gw1 sshd[1]: Disconnecting "
		"invalid user pi fe80::1 port 4445: Too many",
		"www.example.com:443 203.0.113.9 - - [27/Nov/2026:10:00:00 +0700]"
		" \"POST /l?n=1 HTTP/2.0\" 302 - \"https://x/\" \"Mozilla/5.0\"",
		"<13>Nov 27 09:59:00 myprog[12]: hello",
	};
	char *big;
	size_t bigsz = 1 << 20;
	const char *ds;

	ctx.now_ns = utc("2026-11-27 03:00:00");
	/* Every prefix of every seed: truncated headers never misread. */
	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		size_t n = strlen(seeds[s]);

		for (size_t k = 0; k <= n; k++) {
			ds = parse_n(seeds[s], k);
			CHECK(ds != NULL && soc_event_has(&ev, SOC_F_EVENT_DATASET));
		}
	}

	/* Embedded NUL bytes are data. */
	ds = parse_n("Dec 10 06:55:46 LabSZ sshd[1]: Failed password for ro\0ot "
	    "from 1.2.3.4 port 22 ssh2", 83);
	CHECK_STR(ds, "log.sshd");
	{
		size_t len;
		const char *u = soc_event_str(&ev, SOC_F_USER_NAME, &len);

		CHECK(u != NULL && len == 5 && memcmp(u, "ro\0ot", 5) == 0);
		CHECK_FLD(SOC_F_SOURCE_IP, "1.2.3.4");
	}
	ds = parse_n("Dec 10 06:55:46 Lab\0SZ x: y", 26);
	CHECK_STR(ds, "log.syslog");
	ds = parse_n("\0\0\0\0", 4);
	CHECK_STR(ds, "log.syslog");
	{
		size_t len;

		CHECK(soc_event_str(&ev, SOC_F_MESSAGE, &len) != NULL && len == 4);
	}
	ds = parse_n("", 0);
	CHECK_STR(ds, "log.syslog");
	CHECK(logparse_line(&ctx, NULL, 0, &ev) != NULL);

	/* Invalid UTF-8 passes through as bytes. */
	ds = parse("Dec 10 06:55:46 \xff\xfe sshd[1]: Invalid user \xc3\x28 "
	    "from 10.0.0.1");
	CHECK_STR(ds, "log.sshd");
	CHECK_FLD(SOC_F_USER_NAME, "\xc3\x28");
	CHECK_FLD(SOC_F_HOST_HOSTNAME, "\xff\xfe");

	/* Lines far larger than the event buffer. */
	if ((big = malloc(bigsz)) == NULL)
		abort();
	memset(big, 'A', bigsz);
	ds = parse_n(big, bigsz);
	CHECK_STR(ds, "log.syslog");
	CHECK(ev.flags & SOC_EV_TRUNCATED);

	{
		static const char head[] = "Dec 10 06:55:46 LabSZ sshd[1]: "
		    "Failed password for ";
		static const char tail[] = " from 1.2.3.4 port 22 ssh2";
		size_t n = 0;

		memcpy(big, head, sizeof(head) - 1);
		n = sizeof(head) - 1 + 20000;
		memcpy(big + n, tail, sizeof(tail) - 1);
		n += sizeof(tail) - 1;
		ds = parse_n(big, n);
		CHECK_STR(ds, "log.sshd");
		CHECK_FLD(SOC_F_EVENT_ACTION, "ssh_login");
		CHECK_FLD(SOC_F_SOURCE_IP, "1.2.3.4");
		CHECK_NUM(SOC_F_SOURCE_PORT, 22);
		CHECK(ev.flags & SOC_EV_TRUNCATED);
	}
	{
		static const char head[] = "10.0.0.1 - - [27/Nov/2026:10:00:00 "
		    "+0700] \"GET /";
		static const char tail[] = " HTTP/1.1\" 200 5 \"-\" \"ua\"";
		size_t n;

		memset(big, 'A', bigsz);
		memcpy(big, head, sizeof(head) - 1);
		n = sizeof(head) - 1 + 40000;
		memcpy(big + n, tail, sizeof(tail) - 1);
		n += sizeof(tail) - 1;
		ds = parse_n(big, n);
		CHECK_STR(ds, "log.web");
		CHECK_NUM(SOC_F_HTTP_STATUS, 200);
		CHECK_FLD(SOC_F_HTTP_METHOD, "GET");
		CHECK_FLD(SOC_F_SOURCE_IP, "10.0.0.1");
		CHECK(ev.flags & SOC_EV_TRUNCATED);
	}
	/* Pathological repetition: no quadratic blow-up, no crash. */
	{
		static const char head[] = "Dec 10 06:55:46 h sshd[1]: Failed "
		    "password for";
		size_t n = sizeof(head) - 1;

		memcpy(big, head, n);
		while (n + 6 < 200000) {
			memcpy(big + n, " from ", 6);
			n += 6;
		}
		ds = parse_n(big, n);
		CHECK_STR(ds, "log.sshd");
		CHECK(!soc_event_has(&ev, SOC_F_SOURCE_IP));
	}
	{
		size_t n = 0;

		while (n + 1 < 100000)
			big[n++] = '"';
		ds = parse_n(big, n);
		CHECK_STR(ds, "log.syslog");
		memcpy(big, "1 - - [27/Nov/2026:10:00:00 +0700] ", 35);
		ds = parse_n(big, n);
		CHECK_STR(ds, "log.syslog");
		memcpy(big, "<14>1 - h a - - [", 17);
		ds = parse_n(big, n);
		CHECK_STR(ds, "log.syslog");
	}
	free(big);

	/* Extreme clocks do not overflow. */
	ctx.now_ns = INT64_MAX;
	CHECK(parse("Dec 31 23:59:59 h p: x") != NULL);
	ctx.now_ns = INT64_MIN;
	ctx.tz_offset_sec = -86399;
	CHECK(parse("Jan  1 00:00:00 h p: x") != NULL);
	ctx.tz_offset_sec = TZ_HCM;
}

/*
 * Real logs from ../shared/data.
 */

/* Reads a whole file; NULL if absent. */
static char *
slurp(const char *dir, const char *name, size_t *len)
{
	char path[4096];
	FILE *f;
	char *buf;
	long sz;

	snprintf(path, sizeof(path), "%s/logs/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)sz + 1);
	if (buf == NULL || fread(buf, 1, (size_t)sz, f) != (size_t)sz)
		abort();
	fclose(f);
	*len = (size_t)sz;
	return buf;
}

/* Next line of [*pos, len) without LF/CRLF; false at the end. */
static bool
next_line(const char *buf, size_t len, size_t *pos, const char **line,
    size_t *n)
{
	const char *nl;
	size_t end;

	if (*pos >= len)
		return false;
	nl = memchr(buf + *pos, '\n', len - *pos);
	end = nl != NULL ? (size_t)(nl - buf) : len;
	*line = buf + *pos;
	*n = end - *pos;
	if (*n > 0 && (*line)[*n - 1] == '\r')
		(*n)--;
	*pos = end + 1;
	return true;
}

static bool
contains(const char *p, size_t n, const char *needle)
{
	return memmem(p, n, needle, strlen(needle)) != NULL;
}

/* Actual failure lines name the user and address the event carries. */
static bool
failure_matches_line(const char *line, size_t n)
{
	char want[512];
	const char *u = fld(SOC_F_USER_NAME), *ip = fld(SOC_F_SOURCE_IP);

	if (u == NULL || ip == NULL)
		return false;
	snprintf(want, sizeof(want), " for %s from %s port ", u, ip);
	if (contains(line, n, want))
		return true;
	snprintf(want, sizeof(want), " for invalid user %s from %s port ", u,
	    ip);
	return contains(line, n, want);
}

static void
test_openssh_log(const char *dir)
{
	size_t len, pos = 0, n;
	char *buf = slurp(dir, "OpenSSH_2k.log", &len);
	const char *line, *a, *o;
	int lines = 0, events = 0, fp_lines = 0, failures = 0, matched = 0;
	int top = 0, accepted = 0, invalid = 0, inv_lines = 0, rev = 0;
	int64_t lo = utc("2026-12-09 23:55:46"), hi = utc("2026-12-10 04:04:45");
	bool ts_ok = true, host_ok = true;

	if (buf == NULL) {
		CHECK(!"OpenSSH_2k.log missing");
		return;
	}
	/* Read in January: the December lines are last year's. */
	ctx.now_ns = utc("2027-01-02 00:00:00");
	while (next_line(buf, len, &pos, &line, &n)) {
		lines++;
		if (parse_n(line, n) != NULL && soc_event_has(&ev,
		    SOC_F_EVENT_DATASET) && soc_event_has(&ev, SOC_F_MESSAGE))
			events++;
		ts_ok &= ev.ts >= lo && ev.ts <= hi;
		host_ok &= fld(SOC_F_HOST_HOSTNAME) != NULL &&
		    strcmp(fld(SOC_F_HOST_HOSTNAME), "LabSZ") == 0;
		if (contains(line, n, "Failed password"))
			fp_lines++;
		if (contains(line, n, "Invalid user"))
			inv_lines++;
		a = fld(SOC_F_EVENT_ACTION);
		o = fld(SOC_F_EVENT_OUTCOME);
		if (a == NULL)
			continue;
		if (strcmp(a, "ssh_login") == 0 && strcmp(o, "failure") == 0) {
			failures++;
			matched += failure_matches_line(line, n);
			top += strcmp(fld(SOC_F_SOURCE_IP), "183.62.140.253") == 0;
		}
		if (strcmp(a, "ssh_login") == 0 && strcmp(o, "success") == 0) {
			accepted++;
			CHECK_FLD(SOC_F_USER_NAME, "fztu");
			CHECK_FLD(SOC_F_SOURCE_IP, "119.137.62.142");
		}
		invalid += strcmp(a, "invalid_user") == 0;
		rev += strcmp(a, "reverse_mapping_failed") == 0;
	}
	CHECK_INT(lines, 2000);
	CHECK_INT(events, 2000);
	CHECK(ts_ok);
	CHECK(host_ok);
	CHECK_INT(fp_lines, 520);
	CHECK_INT(failures, fp_lines);
	CHECK_INT(matched, failures);
	CHECK_INT(top, 286);
	CHECK_INT(accepted, 1);
	CHECK_INT(inv_lines, 113);
	CHECK_INT(invalid, inv_lines);
	CHECK_INT(rev, 85);
	free(buf);
}

static void
test_apache_log(const char *dir)
{
	size_t len, pos = 0, n;
	char *buf = slurp(dir, "apache_access_combined_elastic.log", &len);
	const char *line;
	int lines = 0, web = 0, st200 = 0, st404 = 0, st304 = 0;

	if (buf == NULL) {
		CHECK(!"apache_access_combined_elastic.log missing");
		return;
	}
	while (next_line(buf, len, &pos, &line, &n)) {
		lines++;
		if (strcmp(parse_n(line, n), "log.web") == 0 &&
		    soc_event_has(&ev, SOC_F_HTTP_STATUS) &&
		    soc_event_has(&ev, SOC_F_SOURCE_IP) &&
		    soc_event_has(&ev, SOC_F_URL_ORIGINAL))
			web++;
		else
			fprintf(stderr, "not web: %.*s\n", (int)n, line);
		switch (soc_event_int(&ev, SOC_F_HTTP_STATUS, 0)) {
		case 200:
			st200++;
			break;
		case 304:
			st304++;
			break;
		case 404:
			st404++;
			break;
		}
	}
	CHECK_INT(lines, 10000);
	CHECK_INT(web, 10000);
	CHECK_INT(st200, 9126);
	CHECK_INT(st404, 213);
	CHECK_INT(st304, 445);
	free(buf);

	/* The Apache *error* log is not an access log. */
	if ((buf = slurp(dir, "Apache_2k.log", &len)) == NULL)
		return;
	pos = 0;
	lines = web = 0;
	while (next_line(buf, len, &pos, &line, &n)) {
		lines++;
		web += strcmp(parse_n(line, n), "log.syslog") == 0;
	}
	CHECK_INT(lines, 2000);
	CHECK_INT(web, 2000);
	free(buf);
}

int
main(void)
{
	const char *dir;

	test_syslog();
	test_year_rollover();
	test_sshd();
	test_web();
	test_hostile();
	if ((dir = check_data_dir()) != NULL) {
		test_openssh_log(dir);
		test_apache_log(dir);
	} else
		fprintf(stderr, "shared data absent: real-log tests skipped\n");
	return check_done();
}
