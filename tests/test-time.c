/*
 * Unit test of lib/time.c: the one RFC 3339 parser on a table of valid
 * and invalid stamps (calendar checks, zones, fractions, the edges of
 * the int64 nanosecond span), the prefix scanner the log parsers use
 * (default zone, flags, bytes used), the formatter's round trip, and the
 * calendar helpers.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "soc/time.h"

#define NS	1000000000LL
#define T0	(1795748400LL * NS)	/* 2026-11-27T03:00:00Z */

struct tcase {
	const char	*s;
	int		 ok;
	int64_t		 ns;
};

static const struct tcase cases[] = {
	/* zones */
	{ "2026-11-27T03:00:00Z", 1, T0 },
	{ "2026-11-27t03:00:00z", 1, T0 },
	{ "2026-11-27T10:00:00+07:00", 1, T0 },
	{ "2026-11-27T10:00:00+0700", 1, T0 },
	{ "2026-11-26T20:00:00-07:00", 1, T0 },
	{ "2026-11-26T03:01:00-23:59", 1, T0 },
	{ "2026-11-27T03:00:00+00:00", 1, T0 },
	{ "2026-11-27T03:00:00-00:00", 1, T0 },
	{ "2026-11-27T03:00:00", 1, T0 },		/* UTC by default */
	{ "2026-11-27 03:00:00Z", 1, T0 },
	{ "2026-11-27", 1, T0 - 3 * 3600 * NS },
	/* fractions, 1 to 9 digits and more (truncated), '.' or ',' */
	{ "2026-11-27T03:00:00.1Z", 1, T0 + 100000000 },
	{ "2026-11-27T03:00:00.12Z", 1, T0 + 120000000 },
	{ "2026-11-27T03:00:00.123Z", 1, T0 + 123000000 },
	{ "2026-11-27T03:00:00.1234Z", 1, T0 + 123400000 },
	{ "2026-11-27T03:00:00.12345Z", 1, T0 + 123450000 },
	{ "2026-11-27T03:00:00.123456Z", 1, T0 + 123456000 },
	{ "2026-11-27T03:00:00.1234567Z", 1, T0 + 123456700 },
	{ "2026-11-27T03:00:00.12345678Z", 1, T0 + 123456780 },
	{ "2026-11-27T03:00:00.123456789Z", 1, T0 + 123456789 },
	{ "2026-11-27T03:00:00.1234567899Z", 1, T0 + 123456789 },
	{ "2026-11-27T03:00:00,5Z", 1, T0 + 500000000 },
	{ "2026-11-27T10:00:00.000000001+07:00", 1, T0 + 1 },
	/* calendar */
	{ "2024-02-29T00:00:00Z", 1, 1709164800LL * NS },
	{ "2000-02-29T00:00:00Z", 1, 951782400LL * NS },
	{ "2016-12-31T23:59:60Z", 1, 1483228800LL * NS },	/* leap s */
	{ "1970-01-01T00:00:00Z", 1, 0 },
	{ "1969-12-31T23:59:59.999999999Z", 1, -1 },
	{ "1677-09-21T00:12:43.145224192Z", 1, INT64_MIN },
	{ "2262-04-11T23:47:16.854775807Z", 1, INT64_MAX },
	{ "2262-04-12T06:47:16.854775807+07:00", 1, INT64_MAX },
	/* invalid */
	{ "", 0, 0 },
	{ "2026-13-01T00:00:00Z", 0, 0 },
	{ "2026-00-01T00:00:00Z", 0, 0 },
	{ "2026-01-00T00:00:00Z", 0, 0 },
	{ "2026-02-30T00:00:00Z", 0, 0 },
	{ "2026-02-29T00:00:00Z", 0, 0 },
	{ "1900-02-29T00:00:00Z", 0, 0 },
	{ "2026-04-31T00:00:00Z", 0, 0 },
	{ "2026-01-32T00:00:00Z", 0, 0 },
	{ "2026-11-27T24:00:00Z", 0, 0 },
	{ "2026-11-27T23:60:00Z", 0, 0 },
	{ "2026-11-27T23:59:61Z", 0, 0 },
	{ "2026-11-27T03:00Z", 0, 0 },
	{ "2026-11-27T03:00", 0, 0 },
	{ "2026-11-27T03:00:00.Z", 0, 0 },
	{ "2026-11-27T03:00:00+24:00", 0, 0 },
	{ "2026-11-27T03:00:00+07:60", 0, 0 },
	{ "2026-11-27T03:00:00+7", 0, 0 },
	{ "2026-11-27T03:00:00+07:0", 0, 0 },
	{ "2026-11-27T03:00:00Zx", 0, 0 },
	{ "2026-11-27T03:00:00 Z", 0, 0 },
	{ "2026-11-27X03:00:00Z", 0, 0 },
	{ "2026-1-27T03:00:00Z", 0, 0 },
	{ "20261127T030000Z", 0, 0 },
	{ "2026-11-27T03:0a:00Z", 0, 0 },
	{ "2262-04-11T23:47:16.854775808Z", 0, 0 },	/* INT64_MAX + 1 */
	{ "1677-09-21T00:12:43.145224191Z", 0, 0 },	/* INT64_MIN - 1 */
	{ "2262-04-11T23:47:16.854775807-00:01", 0, 0 },
	{ "9999-12-31", 0, 0 },
	{ "0000-01-01T00:00:00Z", 0, 0 },
	{ "1066-10-14", 0, 0 },
};

static void
test_parse(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		int64_t ns = 42;
		int rc = soc_time_parse(c->s, strlen(c->s), &ns);

		if (c->ok) {
			CHECK_INT(rc, 0);
			CHECK_INT(ns, c->ns);
			if (c->ns != -1)
				CHECK_INT(soc_parse_rfc3339(c->s,
				    strlen(c->s)), c->ns);
		} else {
			CHECK_INT(rc, -1);
			CHECK_INT(ns, 42);		/* untouched */
			CHECK_INT(soc_parse_rfc3339(c->s, strlen(c->s)), -1);
		}
		if ((rc == 0) != c->ok)
			fprintf(stderr, "  case \"%s\"\n", c->s);
	}
	/* Not NUL-terminated: only len bytes are read. */
	CHECK_INT(soc_parse_rfc3339("2026-11-27T03:00:00Z99", 20), T0);
}

/* The scanner the log parsers use: a prefix, a default zone, flags. */
static void
test_scan(void)
{
	const char *s;
	int64_t ns = 0;

	s = "2026-11-27T10:00:00 host sshd[1]: x";
	CHECK_INT(soc_time_scan(s, strlen(s), 0, 25200, &ns), 19);
	CHECK_INT(ns, T0);
	s = "2026-11-27T03:00:00.5Z host";
	CHECK_INT(soc_time_scan(s, strlen(s), 0, 25200, &ns), 22);
	CHECK_INT(ns, T0 + 500000000);
	/* A zone that does not parse is not one: the default applies. */
	s = "2026-11-27T10:00:00+7 x";
	CHECK_INT(soc_time_scan(s, strlen(s), 0, 25200, &ns), 19);
	CHECK_INT(ns, T0);
	/* Without the flags: no date alone, no space separator. */
	CHECK_INT(soc_time_scan("2026-11-27", 10, 0, 0, &ns), 0);
	CHECK_INT(soc_time_scan("2026-11-27", 10, SOC_TIME_DATE, 25200,
	    &ns), 10);
	CHECK_INT(ns, T0 - 10 * 3600 * NS);
	s = "2026-11-27 03:00:00Z";
	CHECK_INT(soc_time_scan(s, strlen(s), 0, 0, &ns), 0);
	CHECK_INT(soc_time_scan(s, strlen(s), SOC_TIME_SPACE, 0, &ns), 20);
	CHECK_INT(soc_time_scan(s, 9, SOC_TIME_DATE, 0, &ns), 0);
	CHECK_INT(soc_time_scan(s, 15, SOC_TIME_SPACE, 0, &ns), 0);
}

static void
test_format(void)
{
	char buf[SOC_TIME_FORMAT_LEN];
	int64_t ns, x = 0x9e3779b97f4a7c15LL;
	int ok = 0;

	soc_time_format(0, buf, sizeof(buf));
	CHECK_STR(buf, "1970-01-01T00:00:00.000000000Z");
	soc_time_format(-1, buf, sizeof(buf));
	CHECK_STR(buf, "1969-12-31T23:59:59.999999999Z");
	soc_time_format(T0 + 123456789, buf, sizeof(buf));
	CHECK_STR(buf, "2026-11-27T03:00:00.123456789Z");
	soc_time_format(INT64_MIN, buf, sizeof(buf));
	CHECK_STR(buf, "1677-09-21T00:12:43.145224192Z");
	soc_time_format(INT64_MAX, buf, sizeof(buf));
	CHECK_STR(buf, "2262-04-11T23:47:16.854775807Z");
	CHECK_INT(strlen(buf) + 1, SOC_TIME_FORMAT_LEN);

	/* Round trip over the whole span, edges included. */
	for (int i = 0; i < 20000; i++) {
		int64_t v = i == 0 ? INT64_MIN : i == 1 ? INT64_MAX :
		    i == 2 ? -1 : x;

		x = (int64_t)((uint64_t)x * 6364136223846793005ULL +
		    1442695040888963407ULL);
		soc_time_format(v, buf, sizeof(buf));
		ns = 0;
		if (soc_time_parse(buf, strlen(buf), &ns) != 0 || ns != v) {
			fprintf(stderr, "round trip of %s: %lld\n", buf,
			    (long long)ns);
			break;
		}
		ok++;
	}
	CHECK_INT(ok, 20000);
}

static void
test_calendar(void)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int64_t y, ns;
	int m;

	for (int i = 0; i < 12; i++)
		CHECK_INT(soc_time_month(months + 3 * i), i + 1);
	CHECK_INT(soc_time_month("jan"), 0);
	CHECK_INT(soc_time_month("Jum"), 0);
	CHECK_INT(soc_time_mdays(2024, 2), 29);
	CHECK_INT(soc_time_mdays(2100, 2), 28);
	CHECK_INT(soc_time_mdays(2000, 2), 29);
	CHECK_INT(soc_time_mdays(2026, 4), 30);
	CHECK_INT(soc_time_mdays(2026, 13), 0);
	CHECK(soc_time_valid(2026, 12, 31, 23, 59, 60));
	CHECK(!soc_time_valid(2026, 6, 31, 0, 0, 0));
	CHECK_INT(soc_time_timegm(1970, 1, 1, 0, 0, 0), 0);
	CHECK_INT(soc_time_timegm(2026, 11, 27, 3, 0, 0), T0 / NS);
	CHECK_INT(soc_time_timegm(1969, 12, 31, 23, 59, 59), -1);
	CHECK_INT(soc_time_timegm(1, 1, 1, 0, 0, 0), -62135596800LL);
	soc_time_civil(T0 / NS, &y, &m);
	CHECK(y == 2026 && m == 11);
	soc_time_civil(-1, &y, &m);
	CHECK(y == 1969 && m == 12);
	soc_time_civil(1709164800LL, &y, &m);		/* 2024-02-29 */
	CHECK(y == 2024 && m == 2);
	CHECK(soc_time_mkns(-9223372037LL, 145224192, &ns) && ns == INT64_MIN);
	CHECK(!soc_time_mkns(-9223372037LL, 145224191, &ns));
	CHECK(soc_time_mkns(9223372036LL, 854775807, &ns) && ns == INT64_MAX);
	CHECK(!soc_time_mkns(9223372036LL, 854775808, &ns));
	CHECK(!soc_time_mkns(0, NS, &ns));
	CHECK(!soc_time_mkns(0, -1, &ns));
}

int
main(void)
{
	test_parse();
	test_scan();
	test_format();
	test_calendar();
	return check_done();
}
