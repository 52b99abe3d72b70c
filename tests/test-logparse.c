/*
 * Log normalizers (sensor/log-*.c): syslog headers (RFC 3164 with and
 * without PRI, RFC 5424 with structured data, ISO-8601 file stamps), the
 * RFC 3164 year rollover, sshd actions, Apache/nginx access logs, sudo,
 * su, account tools, logind and cron, netfilter lines, Apache/nginx
 * error logs, and
 * hostile input: every line is copied into a heap buffer of its exact
 * length with no terminating NUL, so ASan catches any read past the end.
 * With ../shared/data present, the real OpenSSH and Apache logs are
 * parsed whole and checked against the counts in its README; without it
 * the rest still runs and, if nothing failed, the test exits 77 (meson's
 * "skipped") so a missing data set is not mistaken for a pass.
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
	ds = log_syslog_parse(&ctx, copy, len, &ev);
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
	  "173.234.31.186 [preauth]", "log.sshd", "2025-12-09 23:55:46",
	  "LabSZ", "sshd", 24200, NULL,
	  "Connection closed by 173.234.31.186 [preauth]" },
	{ "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick "
	  "on /dev/pts/8", "log.auth", "2026-10-11 15:14:15", "mymachine",
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
	  "log.auth", "2003-10-11 22:14:15.003", "mymachine.example.com",
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
	  "log.cron", "2026-11-27 03:00:00.123456", "gw1", "CRON", 1234,
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
	{ "Dec 10 06:55:46 LabSZ", "log.syslog", "2025-12-09 23:55:46",
	  "LabSZ", NULL, ABSENT, NULL, "" },
	{ "Dec 32 06:55:46 LabSZ x: y", "log.syslog", NULL, NULL, NULL,
	  ABSENT, NULL, "Dec 32 06:55:46 LabSZ x: y" },
	{ "Foo 10 06:55:46 LabSZ x: y", "log.syslog", NULL, NULL, NULL,
	  ABSENT, NULL, "Foo 10 06:55:46 LabSZ x: y" },
	{ "9999-12-31T23:59:59Z h a: far future", "log.syslog", NULL, NULL,
	  NULL, ABSENT, NULL, "9999-12-31T23:59:59Z h a: far future" },
	/* ISO stamps go through lib/time.c: calendar-checked, lower case. */
	{ "2026-02-30T10:00:00Z h a: no such day", "log.syslog", NULL, NULL,
	  NULL, ABSENT, NULL, "2026-02-30T10:00:00Z h a: no such day" },
	{ "2026-11-27T24:00:00Z h a: no such hour", "log.syslog", NULL, NULL,
	  NULL, ABSENT, NULL, "2026-11-27T24:00:00Z h a: no such hour" },
	{ "2026-11-27t10:00:00z gw1 app: lower", "log.syslog",
	  "2026-11-27 10:00:00", "gw1", "app", ABSENT, NULL, "lower" },
	{ "2262-04-11T23:47:16+00:00 h a: last second", "log.syslog",
	  "2262-04-11 23:47:16", "h", "a", ABSENT, NULL, "last second" },
	{ "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok",
	  "log.web_error", "2005-12-03 21:47:44", NULL, NULL, ABSENT, "notice",
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

/*
 * rsyslog's RSYSLOG_SyslogProtocol23Format: MSG keeps the space after
 * the tag's colon and the frame ends with LF (octet-counted TCP keeps
 * it).  The message must normalize as its RFC 3164 twin does.
 */
static void
test_rsyslog_5424(void)
{
	static const char *const lines[] = {
		"<38>1 2026-11-27T10:00:00.297616+07:00 vm sshd 123 - -  "
		"Failed password for root from 10.0.0.1 port 22 ssh2\n",
		"<38>1 2026-11-27T10:00:00.297616+07:00 vm sshd 123 - -  "
		"Failed password for root from 10.0.0.1 port 22 ssh2",
		"<38>1 2026-11-27T10:00:00.297616+07:00 vm sshd 123 - -  "
		"Failed password for root from 10.0.0.1 port 22 ssh2\r\n",
		"<38>Nov 27 10:00:00 vm sshd[123]: "
		"Failed password for root from 10.0.0.1 port 22 ssh2\n",
	};

	ctx.now_ns = utc("2026-11-27 03:00:00");
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		int fails = check_fail;

		CHECK_STR(parse(lines[i]), "log.sshd");
		CHECK_FLD(SOC_F_EVENT_ACTION, "ssh_login");
		CHECK_FLD(SOC_F_EVENT_OUTCOME, "failure");
		CHECK_FLD(SOC_F_USER_NAME, "root");
		CHECK_FLD(SOC_F_SOURCE_IP, "10.0.0.1");
		CHECK_FLD(SOC_F_MESSAGE, "Failed password for root from "
		    "10.0.0.1 port 22 ssh2");
		case_end(fails, lines[i]);
	}
}

/*
 * RFC 5424 stamps out of range (review L4 of issue 15): past int64
 * nanoseconds, year 9999, a zone of +99:99.  The sshd line is still
 * parsed; a far stamp saturates (the sensor's bound then keeps it as the
 * claim and uses the receive time), a bad zone leaves the receive time.
 */
static void
test_5424_out_of_range(void)
{
	static const struct {
		const char	*ts;
		int64_t		 want;	/* 0: the receive time */
	} cases[] = {
		{ "2262-04-11T23:47:17Z", INT64_MAX },
		{ "9999-12-31T23:59:59Z", INT64_MAX },
		{ "2026-11-27T10:00:00+99:99", 0 },
		{ "0001-01-01T00:00:00Z", INT64_MIN },
	};
	char line[256];

	ctx.now_ns = utc("2026-11-27 03:00:00");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fails = check_fail;

		snprintf(line, sizeof(line), "<38>1 %s vm sshd 123 - - "
		    "Failed password for root from 10.0.0.1 port 22 ssh2",
		    cases[i].ts);
		CHECK_STR(parse(line), "log.sshd");
		CHECK_FLD(SOC_F_EVENT_ACTION, "ssh_login");
		CHECK_FLD(SOC_F_SOURCE_IP, "10.0.0.1");
		CHECK_FLD(SOC_F_HOST_HOSTNAME, "vm");
		CHECK(ev.ts == (cases[i].want != 0 ? cases[i].want : ctx.now_ns));
		case_end(fails, line);
	}
	/* not stamp-shaped: not RFC 5424, kept whole as before */
	CHECK_STR(parse("<38>1 hello vm sshd 123 - - x"), "log.syslog");
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
	/* Less than a day ahead is skew; more is last year's line. */
	parse("Jan  2 23:00:00 h p: x");
	CHECK_INT(ev.ts, utc("2027-01-02 16:00:00"));
	parse("Jan 20 09:00:00 h p: x");
	CHECK_INT(ev.ts, utc("2026-01-20 02:00:00"));
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
 * sudo, su, account tools, passwd, logind, cron.
 */
static const struct {
	const char	*line;
	const char	*dataset;
	const char	*category;
	const char	*action;
	const char	*outcome;
	const char	*user;
} auth_cases[] = {
	{ "Nov 27 10:00:00 gw1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; "
	  "USER=root ; COMMAND=/usr/bin/apt update", "log.auth",
	  "authentication", "sudo_command", "success", "alice" },
	{ "Nov 27 10:00:00 gw1 sudo[4242]: alice : TTY=pts/0 ; PWD=/home/alice ;"
	  " USER=root ; COMMAND=/bin/sh -c 'a ; b : c'", "log.auth",
	  "authentication", "sudo_command", "success", "alice" },
	{ "Nov 27 10:00:00 gw1 sudo: bob : 3 incorrect password attempts ; "
	  "TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/bash",
	  "log.auth", "authentication", "sudo_command", "failure", "bob" },
	{ "Nov 27 10:00:00 gw1 sudo: bob : a password is required ; TTY=pts/1 ;"
	  " PWD=/ ; USER=root ; COMMAND=/bin/id", "log.auth", "authentication",
	  "sudo_command", "failure", "bob" },
	{ "Nov 27 10:00:00 gw1 sudo:  mallory : user NOT in sudoers ; TTY=pts/2 "
	  "; PWD=/tmp ; USER=root ; COMMAND=/bin/cat /etc/shadow", "log.auth",
	  "authentication", "sudo_denied", "failure", "mallory" },
	{ "Nov 27 10:00:00 gw1 sudo: carol : command not allowed ; TTY=pts/3 ; "
	  "PWD=/ ; USER=root ; COMMAND=/bin/rm -rf /", "log.auth",
	  "authentication", "sudo_denied", "failure", "carol" },
	{ "Nov 27 10:00:00 gw1 sudo: pam_unix(sudo:auth): authentication "
	  "failure; logname=bob uid=1001 euid=0 tty=/dev/pts/1 ruser=bob rhost="
	  "  user=bob", "log.auth", "authentication", "sudo_auth", "failure",
	  "bob" },
	{ "Nov 27 10:00:00 gw1 sudo: pam_unix(sudo:session): session opened for"
	  " user root(uid=0) by alice(uid=1000)", "log.auth", "authentication",
	  NULL, NULL, NULL },
	{ "Nov 27 10:00:00 gw1 sudo: unable to resolve host gw1", "log.auth",
	  "authentication", NULL, NULL, NULL },
	/* A name with spaces is not sudo's user field. */
	{ "Nov 27 10:00:00 gw1 sudo: a b : TTY=x", "log.auth",
	  "authentication", NULL, NULL, NULL },
	{ "Nov 27 10:00:00 gw1 sudo: : TTY=x", "log.auth", "authentication",
	  NULL, NULL, NULL },
	{ "Nov 27 10:00:00 gw1 su[900]: (to root) alice on pts/0", "log.auth",
	  "authentication", "su", "success", "alice" },
	{ "Nov 27 10:00:00 gw1 su[901]: FAILED SU (to root) bob on pts/1",
	  "log.auth", "authentication", "su", "failure", "bob" },
	{ "Nov 27 10:00:00 gw1 su: pam_unix(su:auth): authentication failure; "
	  "logname=bob uid=1001 euid=0 tty=/dev/pts/1 ruser=bob rhost=  "
	  "user=root", "log.auth", "authentication", "su", "failure", "bob" },
	{ "Nov 27 10:00:00 gw1 su: pam_unix(su-l:auth): authentication "
	  "failure; logname= uid=1001 euid=0 tty=pts/1 ruser= rhost=  user=root",
	  "log.auth", "authentication", "su", "failure", "root" },
	{ "Nov 27 10:00:00 gw1 su: Successful su for root by alice", "log.auth",
	  "authentication", "su", "success", "alice" },
	{ "Nov 27 10:00:00 gw1 su: + pts/0 alice:root", "log.auth",
	  "authentication", "su", "success", "alice" },
	{ "Nov 27 10:00:00 gw1 su: - pts/0 bob:root", "log.auth",
	  "authentication", "su", "failure", "bob" },
	{ "Nov 27 10:00:00 gw1 su: pam_unix(su:session): session opened for "
	  "user root(uid=0) by alice(uid=1000)", "log.auth", "authentication",
	  NULL, NULL, NULL },
	{ "Nov 27 10:00:00 gw1 useradd[1200]: new group: name=eve, GID=1005",
	  "log.auth", "iam", "group_created", "success", NULL },
	{ "Nov 27 10:00:00 gw1 useradd[1200]: new user: name=eve, UID=1005, "
	  "GID=1005, home=/home/eve, shell=/bin/bash, from=/dev/pts/0",
	  "log.auth", "iam", "user_created", "success", "eve" },
	{ "Nov 27 10:00:00 gw1 useradd[1200]: add 'eve' to group 'sudo'",
	  "log.auth", "iam", "user_added_to_group", "success", "eve" },
	{ "Nov 27 10:00:00 gw1 usermod[1300]: add 'eve' to shadow group 'sudo'",
	  "log.auth", "iam", "user_added_to_group", "success", "eve" },
	{ "Nov 27 10:00:00 gw1 usermod[1300]: change user 'eve' shell from "
	  "'/bin/sh' to '/bin/bash'", "log.auth", "iam", "user_modified",
	  "success", "eve" },
	{ "Nov 27 10:00:00 gw1 usermod[1300]: change user name 'eve' to 'eva'",
	  "log.auth", "iam", "user_modified", "success", "eve" },
	{ "Nov 27 10:00:00 gw1 usermod[1300]: lock user 'eve' password",
	  "log.auth", "iam", "user_modified", "success", "eve" },
	{ "Nov 27 10:00:00 gw1 usermod[1300]: delete 'eve' from group 'sudo'",
	  "log.auth", "iam", "user_removed_from_group", "success", "eve" },
	{ "Nov 27 10:00:00 gw1 groupadd[1400]: group added to /etc/group: "
	  "name=devs, GID=1010", "log.auth", "iam", "group_created", "success",
	  NULL },
	{ "Nov 27 10:00:00 gw1 groupadd[1400]: new group: name=devs, GID=1010",
	  "log.auth", "iam", "group_created", "success", NULL },
	{ "Nov 27 10:00:00 gw1 userdel[1500]: delete user 'eve'", "log.auth",
	  "iam", "user_deleted", "success", "eve" },
	{ "Nov 27 10:00:00 gw1 userdel[1500]: removed group 'eve' owned by "
	  "'eve'", "log.auth", "iam", "group_deleted", "success", NULL },
	{ "Nov 27 10:00:00 gw1 groupdel[1501]: group 'devs' removed",
	  "log.auth", "iam", "group_deleted", "success", NULL },
	{ "Nov 27 10:00:00 gw1 gpasswd[1600]: user eve added by root to group "
	  "sudo", "log.auth", "iam", "user_added_to_group", "success", "eve" },
	{ "Nov 27 10:00:00 gw1 useradd[1200]: failed adding user 'x y', data "
	  "deleted", "log.auth", "iam", "user_created", "failure", "x y" },
	{ "Nov 27 10:00:00 gw1 useradd[1200]: add '", "log.auth", "iam",
	  "user_added_to_group", "success", NULL },
	{ "Nov 27 10:00:00 gw1 passwd[1700]: pam_unix(passwd:chauthtok): "
	  "password changed for eve", "log.auth", "iam", "password_changed",
	  "success", "eve" },
	{ "Nov 27 10:00:00 gw1 chpasswd[1701]: pam_unix(chpasswd:chauthtok): "
	  "password changed for bob", "log.auth", "iam", "password_changed",
	  "success", "bob" },
	{ "Nov 27 10:00:00 gw1 passwd[1702]: password for 'eve' changed by "
	  "'root'", "log.auth", "iam", "password_changed", "success", "eve" },
	{ "Nov 27 10:00:00 gw1 systemd-logind[600]: New session 42 of user "
	  "admin.", "log.auth", "session", "session_start", "success",
	  "admin" },
	{ "Nov 27 10:00:00 gw1 systemd-logind[600]: New session c1 of user "
	  "lightdm.", "log.auth", "session", "session_start", "success",
	  "lightdm" },
	{ "Nov 27 10:00:00 gw1 systemd-logind[600]: New session '7' of user "
	  "'ops' with class 'user' and type 'tty'.", "log.auth", "session",
	  "session_start", "success", "ops" },
	{ "Nov 27 10:00:00 gw1 systemd-logind[600]: Removed session 42.",
	  "log.auth", "session", "session_end", "success", NULL },
	{ "Nov 27 10:00:00 gw1 systemd-logind[600]: Session 42 logged out. "
	  "Waiting for processes to exit.", "log.auth", "session", NULL, NULL,
	  NULL },
	{ "Nov 27 10:00:00 gw1 CRON[2000]: (root) CMD (   cd / && run-parts "
	  "--report /etc/cron.hourly)", "log.cron", "process", "cron_command",
	  "success", "root" },
	{ "Nov 27 10:00:00 gw1 crond[2001]: (www-data) CMD (php /var/www/cron."
	  "php)", "log.cron", "process", "cron_command", "success",
	  "www-data" },
	{ "Nov 27 10:00:00 gw1 CRON[2002]: pam_unix(cron:session): session "
	  "opened for user root(uid=0) by (uid=0)", "log.cron", "process", NULL,
	  NULL, NULL },
	{ "Nov 27 10:00:00 gw1 CRON[2003]: (root) CMDOUT (hello)", "log.cron",
	  "process", NULL, NULL, NULL },
	{ "Nov 27 10:00:00 gw1 CRON[2003]: (root", "log.cron", "process", NULL,
	  NULL, NULL },
	{ "Nov 27 10:00:00 gw1 CRON[2003]: ()", "log.cron", "process", NULL,
	  NULL, NULL },
	/* Not an auth program: untouched. */
	{ "Nov 27 10:00:00 gw1 sudoedit: alice : TTY=pts/0 ; COMMAND=x",
	  "log.syslog", NULL, NULL, NULL, NULL },
};

static void
test_auth(void)
{
	ctx.now_ns = utc("2026-11-27 03:00:00");
	for (size_t i = 0; i < sizeof(auth_cases) / sizeof(auth_cases[0]);
	    i++) {
		int fails = check_fail;
		const char *line = auth_cases[i].line;
		const char *msg = strstr(line, ": ") + 2;

		CHECK_STR(parse(line), auth_cases[i].dataset);
		CHECK_FLD(SOC_F_EVENT_DATASET, auth_cases[i].dataset);
		CHECK_FLD(SOC_F_EVENT_CATEGORY, auth_cases[i].category);
		CHECK_FLD(SOC_F_EVENT_ACTION, auth_cases[i].action);
		CHECK_FLD(SOC_F_EVENT_OUTCOME, auth_cases[i].outcome);
		CHECK_FLD(SOC_F_USER_NAME, auth_cases[i].user);
		CHECK_FLD(SOC_F_MESSAGE, msg);
		CHECK_FLD(SOC_F_HOST_HOSTNAME, "gw1");
		CHECK_INT(ev.ts, utc("2026-11-27 03:00:00"));
		case_end(fails, line);
	}
}

/*
 * Kernel netfilter LOG lines.
 */
static const struct {
	const char	*line;
	const char	*action;
	const char	*src;
	long long	 sport;
	const char	*dst;
	long long	 dport;
	const char	*transport;
	long long	 itype;
	long long	 icode;
	const char	*blocked;	/* soc.firewall.blocked; NULL: none */
} nf_cases[] = {
	{ "Nov 27 10:00:00 gw1 kernel: [ 8123.456789] [UFW BLOCK] IN=eth0 OUT= "
	  "MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.5 "
	  "DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=4321 DF PROTO=TCP"
	  " SPT=51234 DPT=22 WINDOW=29200 RES=0x00 SYN URGP=0", "ufw_block",
	  "203.0.113.5", 51234, "192.0.2.10", 22, "tcp", ABSENT, ABSENT,
	  "true" },
	{ "Nov 27 10:00:00 gw1 kernel: DROP-IN: IN=eth1 OUT= MAC= "
	  "SRC=198.51.100.7 DST=192.0.2.1 LEN=78 TOS=0x00 PREC=0x00 TTL=115 "
	  "ID=0 PROTO=UDP SPT=5353 DPT=161 LEN=58", "drop_in",
	  "198.51.100.7", 5353, "192.0.2.1", 161, "udp", ABSENT, ABSENT,
	  "true" },
	/* Prefix glued to IN=, no space. */
	{ "Nov 27 10:00:00 gw1 kernel: iptables-denied:IN=eth0 OUT=eth1 "
	  "SRC=10.0.0.1 DST=10.0.0.2 LEN=84 TTL=64 ID=1 PROTO=ICMP TYPE=8 "
	  "CODE=0 ID=77 SEQ=1", "iptables_denied", "10.0.0.1", ABSENT,
	  "10.0.0.2", ABSENT, "icmp", 8, 0, "true" },
	/* ICMP error quoting the packet: the outer addresses win. */
	{ "Nov 27 10:00:00 gw1 kernel: [FW] IN=eth0 OUT= SRC=192.0.2.99 "
	  "DST=10.0.0.5 LEN=88 PROTO=ICMP TYPE=3 CODE=3 [SRC=10.0.0.5 "
	  "DST=192.0.2.99 LEN=60 PROTO=UDP SPT=33434 DPT=53 LEN=40 ] MTU=1500",
	  "fw", "192.0.2.99", ABSENT, "10.0.0.5", ABSENT, "icmp", 3, 3, NULL },
	/* IPv6 and nftables' "log prefix". */
	{ "Nov 27 10:00:00 gw1 kernel: nft drop6: IN=eth0 OUT= MAC=aa SRC=2001:"
	  "db8::1 DST=2001:db8::2 LEN=80 TC=0 HOPLIMIT=57 FLOWLBL=0 PROTO=TCP "
	  "SPT=40000 DPT=443 WINDOW=64800 RES=0x00 SYN URGP=0", "nft_drop6",
	  "2001:db8::1", 40000, "2001:db8::2", 443, "tcp", ABSENT, ABSENT,
	  NULL /* "drop6" is not the word "drop" */ },
	{ "Nov 27 10:00:00 gw1 kernel: IN=eth0 OUT= SRC=2001:db8::1 "
	  "DST=ff02::1 LEN=72 PROTO=ICMPv6 TYPE=134 CODE=0", NULL,
	  "2001:db8::1", ABSENT, "ff02::1", ABSENT, "ipv6-icmp", 134, 0, NULL },
	{ "Nov 27 10:00:00 gw1 kernel: [UFW AUDIT] IN=eth0 OUT= SRC=10.0.0.1 "
	  "DST=224.0.0.1 LEN=32 PROTO=2", "ufw_audit", "10.0.0.1", ABSENT,
	  "224.0.0.1", ABSENT, "igmp", ABSENT, ABSENT, NULL },
	/* Out-of-range port numbers are dropped, the rest kept. */
	{ "Nov 27 10:00:00 gw1 kernel: X IN=a OUT= SRC=1.1.1.1 DST=2.2.2.2 "
	  "PROTO=TCP SPT=99999 DPT=", "x", "1.1.1.1", ABSENT, "2.2.2.2", ABSENT,
	  "tcp", ABSENT, ABSENT, NULL },
};

static void
test_netfilter(void)
{
	static const char *const not_fw[] = {
		"Nov 27 10:00:00 gw1 kernel: SRC=1.1.1.1 DST=2.2.2.2",
		"Nov 27 10:00:00 gw1 kernel: IN=eth0 SRC=1.1.1.1 DST=2.2.2.2",
		"Nov 27 10:00:00 gw1 kernel: IN=eth0 OUT= SRC=x DST=2.2.2.2",
		"Nov 27 10:00:00 gw1 kernel: IN=eth0 OUT= SRC=1.1.1.1 DST=",
		"Nov 27 10:00:00 gw1 kernel: IN= OUT= [SRC=1.1.1.1 DST=2.2.2.2]",
		"Nov 27 10:00:00 gw1 app: IN=e OUT= SRC=1.1.1.1 DST=2.2.2.2",
	};

	ctx.now_ns = utc("2026-11-27 03:00:00");
	for (size_t i = 0; i < sizeof(nf_cases) / sizeof(nf_cases[0]); i++) {
		int fails = check_fail;
		const char *line = nf_cases[i].line;

		CHECK_STR(parse(line), "log.firewall");
		CHECK_FLD(SOC_F_EVENT_DATASET, "log.firewall");
		CHECK_FLD(SOC_F_EVENT_CATEGORY, "network");
		CHECK_FLD(SOC_F_PROCESS_NAME, "kernel");
		CHECK_FLD(SOC_F_HOST_HOSTNAME, "gw1");
		CHECK_FLD(SOC_F_MESSAGE, strstr(line, "kernel: ") + 8);
		CHECK_FLD(SOC_F_EVENT_ACTION, nf_cases[i].action);
		CHECK_FLD(SOC_F_SOURCE_IP, nf_cases[i].src);
		CHECK_NUM(SOC_F_SOURCE_PORT, nf_cases[i].sport);
		CHECK_FLD(SOC_F_DEST_IP, nf_cases[i].dst);
		CHECK_NUM(SOC_F_DEST_PORT, nf_cases[i].dport);
		CHECK_FLD(SOC_F_NET_TRANSPORT, nf_cases[i].transport);
		CHECK_NUM(SOC_F_ICMP_TYPE, nf_cases[i].itype);
		CHECK_NUM(SOC_F_ICMP_CODE, nf_cases[i].icode);
		CHECK_FLD(SOC_F_SOC_FW_BLOCKED, nf_cases[i].blocked);
		case_end(fails, line);
	}
	/* The verdict from the prefix's words (SigmaHQ's `blocked`). */
	{
		static const struct {
			const char	*prefix, *blocked;
		} v[] = {
			{ "[UFW ALLOW] ", "false" }, { "ACCEPT: ", "false" },
			{ "fw-accepted ", "false" }, { "PASS ", "false" },
			{ "REJECT-out ", "true" }, { "Blocked:", "true" },
			{ "nft deny ", "true" }, { "DROPPED ", "true" },
			{ "allow-then-drop ", NULL }, { "[UFW LIMIT] ", NULL },
			{ "blocking ", NULL }, { "undrop ", NULL },
		};
		char line[256];

		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			snprintf(line, sizeof(line), "Nov 27 10:00:00 gw1 "
			    "kernel: %sIN=a OUT= SRC=1.1.1.1 DST=2.2.2.2",
			    v[i].prefix);
			CHECK_STR(parse(line), "log.firewall");
			CHECK_FLD(SOC_F_SOC_FW_BLOCKED, v[i].blocked);
		}
	}
	CHECK_FLD(SOC_F_NET_TYPE, "ipv4");
	parse(nf_cases[4].line);
	CHECK_FLD(SOC_F_NET_TYPE, "ipv6");
	CHECK_NUM(SOC_F_NET_BYTES, 80);
	for (size_t i = 0; i < sizeof(not_fw) / sizeof(not_fw[0]); i++) {
		CHECK_STR(parse(not_fw[i]), "log.syslog");
		CHECK(!soc_event_has(&ev, SOC_F_SOURCE_IP));
	}
	/* A huge prefix makes a long action cut to size, nothing more. */
	{
		char line[4096];

		memset(line, 'A', sizeof(line));
		memcpy(line, "Nov 27 10:00:00 gw1 kernel: ", 28);
		memcpy(line + 3000, " IN=a OUT= SRC=1.1.1.1 DST=2.2.2.2", 34);
		CHECK_STR(parse_n(line, 3034), "log.firewall");
		CHECK(strlen(fld(SOC_F_EVENT_ACTION)) == 64);
	}
}

/*
 * Apache and nginx error logs.
 */
static const struct {
	const char	*line;
	const char	*ts;
	const char	*level;
	const char	*ip;
	long long	 port;
} weberr_cases[] = {
	{ "[Sun Dec 04 04:47:44.123456 2005] [core:error] [pid 123:tid 456] "
	  "[client 1.2.3.4:5678] AH00124: Request exceeded the limit of 10 "
	  "internal redirects", "2005-12-03 21:47:44.123456", "error",
	  "1.2.3.4", 5678 },
	{ "[Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] Directory index "
	  "forbidden by rule: /var/www/html/", "2005-12-03 21:47:44", "error",
	  "1.2.3.4", ABSENT },
	{ "[Wed Nov 25 10:00:00.000001 2026] [authz_core:error] [pid 9] "
	  "[client 2001:db8::5:40022] AH01630: client denied by server "
	  "configuration: /srv/x", "2026-11-25 03:00:00.000001", "error",
	  "2001:db8::5", 40022 },
	{ "[Wed Nov 25 10:00:00.5 2026] [:error] [pid 9] [client 10.0.0.1:1] "
	  "PHP Warning: x", "2026-11-25 03:00:00.5", "error", "10.0.0.1", 1 },
	{ "[Wed Nov 25 10:00:00.5 2026] [proxy:warn] [pid 9:tid 1] [remote "
	  "10.0.0.2:80] AH01102: error reading status line",
	  "2026-11-25 03:00:00.5", "warn", "10.0.0.2", 80 },
	{ "[Wed Nov 25 10:00:00.5 2026] [mpm_event:notice] [pid 1:tid 2] "
	  "AH00489: Apache/2.4.58 configured", "2026-11-25 03:00:00.5",
	  "notice", NULL, ABSENT },
	/* A "[client ...]" inside the message is not the client. */
	{ "[Sun Dec 04 04:47:44 2005] [error] jk2 [client 6.6.6.6] x",
	  "2005-12-03 21:47:44", "error", NULL, ABSENT },
	{ "2026/11/27 10:00:00 [error] 1234#0: *5 open() \"/usr/share/nginx/html"
	  "/x.php\" failed (2: No such file or directory), client: 10.1.2.3, "
	  "server: localhost, request: \"GET /x.php HTTP/1.1\", host: \"gw1\"",
	  "2026-11-27 03:00:00", "error", "10.1.2.3", ABSENT },
	{ "2026/11/27 10:00:00 [warn] 1234#1234: *9 limiting requests, excess: "
	  "10.500 by zone \"one\", client: 2001:db8::9, server: x, request: "
	  "\"GET / HTTP/1.1\"", "2026-11-27 03:00:00", "warn", "2001:db8::9",
	  ABSENT },
	{ "2026/11/27 10:00:00 [notice] 1#1: signal process started",
	  "2026-11-27 03:00:00", "notice", NULL, ABSENT },
	/* A client writing ", client: X, server: " into the line. */
	{ "2026/11/27 10:00:00 [error] 1#0: *1 open() \"/h/, client: 6.6.6.6, "
	  "server: x\" failed, client: 10.9.9.9, server: x, request: \"GET "
	  "/%2C%20client HTTP/1.1\"", "2026-11-27 03:00:00", "error", NULL,
	  ABSENT },
	{ "2026/11/27 10:00:00 [error] 1#0: *1 x, client: 10.9.9.9, server: x, "
	  "referrer: \"a, client: 6.6.6.6, server: y\"", "2026-11-27 03:00:00",
	  "error", NULL, ABSENT },
	/* Through syslog (Apache leaves its stamp out there). */
	{ "<11>Nov 27 10:00:00 web1 httpd[77]: [core:error] [pid 77] [client "
	  "10.0.0.3:999] AH00037: Symbolic link not allowed",
	  "2026-11-27 03:00:00", "error", "10.0.0.3", 999 },
	{ "<11>Nov 27 10:00:00 web1 nginx: 2026/11/27 09:59:59 [crit] 5#5: *1 "
	  "SSL_do_handshake() failed, client: 10.0.0.4, server: 0.0.0.0:443",
	  "2026-11-27 02:59:59", "crit", "10.0.0.4", ABSENT },
};

static void
test_web_error(void)
{
	static const char *const not_err[] = {
		"[Sun Dec 04 04:47:44 2005]",
		"[Sun Dec 04 04:47:44 2005] [ERROR] x",
		"[Sun Dec 04 04:47:44 2005] error x",
		"[Sun Dec 04 04:47:44 2005] [err",
		"[Sun Dek 04 04:47:44 2005] [error] x",
		"[Sun Dec 04 24:47:44 2005] [error] x",
		"[Sun Dec 04 04:47:44. 2005] [error] x",
		"2026/11/27 10:00:00 [error] x",
		"2026/13/27 10:00:00 [error] 1#0: x",
		"2026/11/27 10:00:00 error 1#0: x",
		"<11>Nov 27 10:00:00 web1 app: [core:error] [pid 77] x",
	};
	const char *msg;

	ctx.now_ns = utc("2026-11-27 03:00:00");
	for (size_t i = 0; i < sizeof(weberr_cases) / sizeof(weberr_cases[0]);
	    i++) {
		int fails = check_fail;
		const char *line = weberr_cases[i].line;

		msg = line[0] == '<' ? strstr(line, ": ") + 2 : line;
		CHECK_STR(parse(line), "log.web_error");
		CHECK_FLD(SOC_F_EVENT_DATASET, "log.web_error");
		CHECK_FLD(SOC_F_EVENT_CATEGORY, "web");
		CHECK_INT(ev.ts, utc(weberr_cases[i].ts));
		CHECK_FLD(SOC_F_LOG_LEVEL, weberr_cases[i].level);
		CHECK_FLD(SOC_F_SOURCE_IP, weberr_cases[i].ip);
		CHECK_NUM(SOC_F_SOURCE_PORT, weberr_cases[i].port);
		CHECK_FLD(SOC_F_MESSAGE, msg);
		case_end(fails, line);
	}
	for (size_t i = 0; i < sizeof(not_err) / sizeof(not_err[0]); i++) {
		CHECK_STR(parse(not_err[i]), "log.syslog");
		CHECK(!soc_event_has(&ev, SOC_F_SOURCE_IP));
	}
}

/* log.source.address comes from the context, before the message. */
static void
test_source_addr(void)
{
	char *big;
	size_t n = 100000;

	ctx.source_addr = "192.0.2.44";
	parse("<13>Nov 27 09:59:00 h p: x");
	CHECK_FLD(SOC_F_LOG_SOURCE_ADDR, "192.0.2.44");
	if ((big = malloc(n)) == NULL)
		abort();
	memset(big, 'x', n);
	parse_n(big, n);
	CHECK_FLD(SOC_F_LOG_SOURCE_ADDR, "192.0.2.44");
	CHECK(ev.flags & SOC_EV_TRUNCATED);
	free(big);
	ctx.source_addr = NULL;
	parse("<13>Nov 27 09:59:00 h p: x");
	CHECK(!soc_event_has(&ev, SOC_F_LOG_SOURCE_ADDR));
}

/*
 * syslog.zones: a zoneless stamp from a source a rule names is read in
 * that rule's zone (first match wins); stamps with a zone, and sources
 * no rule names, are not touched.
 */
static void
test_zones(void)
{
	struct logzones *z = logzones_new();
	char err[256];

	CHECK(z != NULL);
	CHECK_INT(logzones_add(z, "10.20.0.0/16", 0, err, sizeof(err)), 0);
	CHECK_INT(logzones_add(z, "2001:db8::/32", 3600, err, sizeof(err)), 0);
	CHECK_INT(logzones_add(z, "WEB-*.example.vn", -3600, err,
	    sizeof(err)), 0);
	CHECK_INT(logzones_add(z, "192.0.2.7", 32400, err, sizeof(err)), 0);
	CHECK_INT(logzones_add(z, "*", 18000, err, sizeof(err)), 0);
	CHECK_INT(logzones_add(z, "10.0.0.0/33", 0, err, sizeof(err)), -1);
	CHECK_INT(logzones_add(z, "a/b", 0, err, sizeof(err)), -1);
	CHECK_INT(logzones_add(z, "", 0, err, sizeof(err)), -1);
	CHECK_INT((int)logzones_count(z), 5);

	ctx.now_ns = utc("2026-11-27 03:00:00");
	ctx.zones = z;
	ctx.source_addr = "10.20.3.4";		/* UTC by address */
	parse("<13>Nov 27 03:00:00 anyhost p: x");
	CHECK_INT(ev.ts, utc("2026-11-27 03:00:00"));
	parse("2026-11-27T03:00:00 anyhost p: iso without zone");
	CHECK_INT(ev.ts, utc("2026-11-27 03:00:00"));
	parse("2026-11-27T10:00:00+07:00 anyhost p: iso with zone");
	CHECK_INT(ev.ts, utc("2026-11-27 03:00:00"));
	parse("<13>1 2026-11-27T03:00:00 anyhost p - - - 5424 without zone");
	CHECK_INT(ev.ts, utc("2026-11-27 03:00:00"));
	parse("<13>1 2026-11-27T03:00:00Z anyhost p - - - 5424 with zone");
	CHECK_INT(ev.ts, utc("2026-11-27 03:00:00"));
	ctx.source_addr = "2001:db8:1::5";
	parse("<13>Nov 27 04:00:00 anyhost p: x");
	CHECK_INT(ev.ts, utc("2026-11-27 03:00:00"));
	ctx.source_addr = "192.0.2.7";
	parse("<13>Nov 27 12:00:00 plain p: x");
	CHECK_INT(ev.ts, utc("2026-11-27 03:00:00"));
	/* the first rule in order wins: the host's, listed before */
	parse("<13>Nov 27 02:00:00 web-1.example.vn p: x");
	CHECK_INT(ev.ts, utc("2026-11-27 03:00:00"));
	ctx.source_addr = "192.0.2.8";		/* by host name, any case */
	parse("<13>Nov 27 02:00:00 web-1.EXAMPLE.vn sshd[1]: Failed password "
	    "for root from 10.0.0.1 port 22 ssh2");
	CHECK_INT(ev.ts, utc("2026-11-27 03:00:00"));
	CHECK_FLD(SOC_F_EVENT_ACTION, "ssh_login");
	/* behind a prefix of extra fields */
	parse("- 1131566461 2005.11.09 node Nov 27 02:00:00 web-2.example.vn "
	    "p: x");
	CHECK_INT(ev.ts, utc("2026-11-27 03:00:00"));
	parse("<13>Nov 27 08:00:00 other p: the catch-all");
	CHECK_INT(ev.ts, utc("2026-11-27 03:00:00"));
	/* no host and no matching address: the sensor's own zone */
	logzones_free(z);
	z = logzones_new();
	CHECK_INT(logzones_add(z, "web-*", 0, err, sizeof(err)), 0);
	ctx.zones = z;
	ctx.source_addr = NULL;
	parse("<13>Nov 27 10:00:00 myprog[12]: local");
	CHECK_INT(ev.ts, utc("2026-11-27 03:00:00"));
	parse_n("<13>Nov 27 10:00:00 web\0x p: nul in the host", 41);
	CHECK_INT(ev.ts, utc("2026-11-27 03:00:00"));
	ctx.zones = NULL;
	logzones_free(z);
	logzones_free(NULL);
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
		"Nov 27 10:00:00 gw1 sudo:    alice : 3 incorrect password "
		"attempts ; TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls",
		"Nov 27 10:00:00 gw1 su: pam_unix(su-l:auth): authentication "
		"failure; logname=a uid=1 euid=0 tty=/dev/pts/1 ruser=a rhost=  "
		"user=root",
		"Nov 27 10:00:00 gw1 usermod[1]: add 'eve' to shadow group 'sudo'",
		"Nov 27 10:00:00 gw1 useradd[1]: new user: name=eve, UID=1005",
		"Nov 27 10:00:00 gw1 systemd-logind[1]: New session '7' of user "
		"'ops' with class 'user'",
		"Nov 27 10:00:00 gw1 CRON[1]: (root) CMD (x)",
		"Nov 27 10:00:00 gw1 passwd[1]: pam_unix(passwd:chauthtok): "
		"password changed for eve",
		"Nov 27 10:00:00 gw1 kernel: [ 1.5] [UFW BLOCK] IN=eth0 OUT= "
		"SRC=2001:db8::1 DST=10.0.0.1 PROTO=ICMP TYPE=3 CODE=1 [SRC=1",
		"[Sun Dec 04 04:47:44.123456 2005] [core:error] [pid 123:tid 456]"
		" [client 1.2.3.4:5678] x",
		"2026/11/27 10:00:00 [error] 1#0: *1 x, client: 1.2.3.4, server: "
		"y, request: \"GET / HTTP/1.1\"",
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
	CHECK(log_syslog_parse(&ctx, NULL, 0, &ev) != NULL);

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

	/* The Apache error log: every line an error event at its stamp. */
	if ((buf = slurp(dir, "Apache_2k.log", &len)) == NULL) {
		CHECK(!"Apache_2k.log missing");
		return;
	}
	pos = 0;
	lines = web = 0;
	{
		int ts_ok = 0, errors = 0, clients = 0;

		while (next_line(buf, len, &pos, &line, &n)) {
			char stamp[32], mon[4];
			int d, h, mi, sec, y;
			struct tm tm = { 0 };
			static const char months[] = "JanFebMarAprMayJunJulAugSep"
			    "OctNovDec";

			lines++;
			if (strcmp(parse_n(line, n), "log.web_error") == 0 &&
			    soc_event_has(&ev, SOC_F_LOG_LEVEL))
				web++;
			else
				fprintf(stderr, "not web_error: %.*s\n", (int)n,
				    line);
			snprintf(stamp, sizeof(stamp), "%.*s", n < 26 ? (int)n :
			    26, line);
			if (sscanf(stamp, "[%*3s %3s %d %d:%d:%d %d]", mon, &d,
			    &h, &mi, &sec, &y) == 6 && strstr(months, mon)) {
				tm.tm_year = y - 1900;
				tm.tm_mon = (int)(strstr(months, mon) - months) / 3;
				tm.tm_mday = d;
				tm.tm_hour = h;
				tm.tm_min = mi;
				tm.tm_sec = sec;
				ts_ok += ev.ts == ((int64_t)timegm(&tm) - TZ_HCM) *
				    1000000000LL;
			}
			if (contains(line, n, "[error]")) {
				errors++;
				CHECK_FLD(SOC_F_LOG_LEVEL, "error");
			}
			clients += soc_event_has(&ev, SOC_F_SOURCE_IP) &&
			    contains(line, n, "[client ");
		}
		CHECK_INT(lines, 2000);
		CHECK_INT(web, 2000);
		CHECK_INT(ts_ok, 2000);
		CHECK_INT(errors, 595);
		CHECK(clients > 0);
	}
	free(buf);
}

int
main(void)
{
	const char *dir;

	test_syslog();
	test_year_rollover();
	test_rsyslog_5424();
	test_5424_out_of_range();
	test_sshd();
	test_web();
	test_auth();
	test_netfilter();
	test_web_error();
	test_source_addr();
	test_zones();
	test_hostile();
	if ((dir = check_data_dir()) == NULL) {
		fprintf(stderr, "skip: shared data absent: real-log tests "
		    "not run\n");
		return check_done() != 0 ? 1 : 77;
	}
	test_openssh_log(dir);
	test_apache_log(dir);
	return check_done();
}
