/*
 * Time stamps: the one RFC 3339 / ISO 8601 parser (soc_time_scan, and
 * the whole-string forms the JSON reader and socctl use), the one
 * formatter, and the calendar arithmetic the log parsers share for the
 * stamps that are not RFC 3339 (RFC 3164's "Dec 10 06:55:46", Apache's
 * "[10/Oct/2000:13:55:36 -0700]").  What the parser accepts is listed in
 * soc/time.h.
 *
 * The arithmetic is Howard Hinnant's days-from-civil and its inverse, in
 * int64 so that any four-digit year computes without overflow; the range
 * check is done once, on the final nanoseconds, so the whole int64 span
 * (including its first and last partial seconds) parses.  timegm() and
 * the process's zone are never used.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "soc/time.h"

#define TM_NS	1000000000LL

int64_t
soc_time_timegm(int64_t year, int mon, int mday, int hour, int min, int sec)
{
	int64_t y = year - (mon <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (mon > 2 ? mon - 3 : mon + 9) + 2) / 5 + mday - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = era * 146097 + doe - 719468;

	return days * 86400 + (int64_t)hour * 3600 + (int64_t)min * 60 + sec;
}

int
soc_time_mdays(int64_t year, int mon)
{
	static const int mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};

	if (mon < 1 || mon > 12)
		return 0;
	if (mon == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
		return 29;
	return mdays[mon - 1];
}

bool
soc_time_valid(int64_t year, int mon, int mday, int hour, int min, int sec)
{
	return mon >= 1 && mon <= 12 && mday >= 1 &&
	    mday <= soc_time_mdays(year, mon) && hour >= 0 && hour <= 23 &&
	    min >= 0 && min <= 59 && sec >= 0 && sec <= 60;
}

void
soc_time_civil(int64_t secs, int64_t *year, int *mon)
{
	int64_t days = (secs >= 0 ? secs : secs - 86399) / 86400 + 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	int64_t doe = days - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);

	*year = yoe + era * 400 + (m <= 2);
	*mon = m;
}

bool
soc_time_mkns(int64_t secs, int64_t frac_ns, int64_t *ns)
{
	int64_t v;

	if (frac_ns < 0 || frac_ns >= TM_NS)
		return false;
	/*
	 * INT64_MIN is -9223372037 s + 145224192 ns: for a negative time
	 * with a fraction, count from the next second down, so neither step
	 * leaves the range when the result does not.
	 */
	if (secs < 0 && frac_ns > 0) {
		secs++;
		frac_ns -= TM_NS;
	}
	if (__builtin_mul_overflow(secs, TM_NS, &v) ||
	    __builtin_add_overflow(v, frac_ns, &v))
		return false;
	*ns = v;
	return true;
}

int
soc_time_month(const char *p)
{
	switch (p[0]) {
	case 'J':
		if (p[1] == 'a' && p[2] == 'n')
			return 1;
		if (p[1] == 'u' && p[2] == 'n')
			return 6;
		if (p[1] == 'u' && p[2] == 'l')
			return 7;
		return 0;
	case 'F':
		return (p[1] == 'e' && p[2] == 'b') ? 2 : 0;
	case 'M':
		if (p[1] == 'a' && p[2] == 'r')
			return 3;
		if (p[1] == 'a' && p[2] == 'y')
			return 5;
		return 0;
	case 'A':
		if (p[1] == 'p' && p[2] == 'r')
			return 4;
		if (p[1] == 'u' && p[2] == 'g')
			return 8;
		return 0;
	case 'S':
		return (p[1] == 'e' && p[2] == 'p') ? 9 : 0;
	case 'O':
		return (p[1] == 'c' && p[2] == 't') ? 10 : 0;
	case 'N':
		return (p[1] == 'o' && p[2] == 'v') ? 11 : 0;
	case 'D':
		return (p[1] == 'e' && p[2] == 'c') ? 12 : 0;
	}
	return 0;
}

/* Exactly n decimal digits at s (the caller checked the length), or -1. */
static int
tm_digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Zone at s: bytes used (0: none) and *off in seconds east of UTC. */
static size_t
tm_zone(const char *s, size_t len, int64_t *off)
{
	int h, m;
	size_t used;

	if (len >= 1 && (s[0] == 'Z' || s[0] == 'z')) {
		*off = 0;
		return 1;
	}
	if (len < 5 || (s[0] != '+' && s[0] != '-'))
		return 0;
	h = tm_digits(s + 1, 2);
	if (s[3] == ':') {
		if (len < 6)
			return 0;
		m = tm_digits(s + 4, 2);
		used = 6;
	} else {
		m = tm_digits(s + 3, 2);
		used = 5;
	}
	if (h < 0 || h > 23 || m < 0 || m > 59)
		return 0;
	*off = (s[0] == '-' ? -1 : 1) * ((int64_t)h * 3600 + m * 60);
	return used;
}

size_t
soc_time_scan(const char *s, size_t len, unsigned flags, int32_t deftz,
    int64_t *ns)
{
	int y, mo, d, h = 0, mi = 0, sec = 0;
	int64_t frac = 0, off = deftz, secs;
	size_t i = 10, nd = 0, z;

	if (len < 10 || s[4] != '-' || s[7] != '-')
		return 0;
	y = tm_digits(s, 4);
	mo = tm_digits(s + 5, 2);
	d = tm_digits(s + 8, 2);
	if (y < 0 || mo < 0 || d < 0)
		return 0;
	if (len > 10 && (s[10] == 'T' || s[10] == 't' ||
	    (s[10] == ' ' && (flags & SOC_TIME_SPACE)))) {
		if (len < 19 || s[13] != ':' || s[16] != ':')
			return 0;
		h = tm_digits(s + 11, 2);
		mi = tm_digits(s + 14, 2);
		sec = tm_digits(s + 17, 2);
		if (h < 0 || mi < 0 || sec < 0)
			return 0;
		i = 19;
		if (i < len && (s[i] == '.' || s[i] == ',')) {
			for (i++; i < len && s[i] >= '0' && s[i] <= '9';
			    i++, nd++)
				if (nd < 9)
					frac = frac * 10 + (s[i] - '0');
			if (nd == 0)
				return 0;
			for (; nd < 9; nd++)
				frac *= 10;
		}
		z = tm_zone(s + i, len - i, &off);
		i += z;
	} else if (!(flags & SOC_TIME_DATE))
		return 0;
	if (!soc_time_valid(y, mo, d, h, mi, sec))
		return 0;
	secs = soc_time_timegm(y, mo, d, h, mi, sec) - off;
	if (!soc_time_mkns(secs, frac, ns))
		return 0;
	return i;
}

int
soc_time_parse(const char *s, size_t len, int64_t *ns)
{
	int64_t v;

	if (soc_time_scan(s, len, SOC_TIME_SPACE | SOC_TIME_DATE, 0, &v) !=
	    len || len == 0)
		return -1;
	*ns = v;
	return 0;
}

int64_t
soc_parse_rfc3339(const char *s, size_t len)
{
	int64_t v;

	return soc_time_parse(s, len, &v) == 0 ? v : -1;
}

void
soc_time_format(int64_t ns, char *out, size_t outsz)
{
	time_t secs = (time_t)(ns / TM_NS);
	long frac = (long)(ns % TM_NS);
	struct tm tm;

	if (frac < 0) {
		frac += TM_NS;
		secs--;
	}
	gmtime_r(&secs, &tm);
	snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, frac);
}
