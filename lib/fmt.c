/*
 * Formatting without printf (see soc/fmt.h): glibc's vfprintf costs about
 * as much per field as matching an event does, and the output paths
 * write a dozen fields per alert.  Digits go out two at a time from a
 * table; dates come from the days-to-civil arithmetic (H. Hinnant's), so
 * neither gmtime_r nor the time zone is touched.
 */
#include <arpa/inet.h>

#include <string.h>

#include "soc/fmt.h"
#include "soc/time.h"

static const char digits2[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

char *
soc_fmt_u64(char *p, uint64_t v)
{
	char tmp[SOC_FMT_U64_MAX];
	char *e = tmp + sizeof(tmp), *s = e;
	size_t n;

	while (v >= 100) {
		unsigned d = (unsigned)(v % 100) * 2;

		v /= 100;
		*--s = digits2[d + 1];
		*--s = digits2[d];
	}
	if (v >= 10) {
		*--s = digits2[v * 2 + 1];
		*--s = digits2[v * 2];
	} else
		*--s = (char)('0' + v);
	n = (size_t)(e - s);
	memcpy(p, s, n);
	return p + n;
}

char *
soc_fmt_i64(char *p, int64_t v)
{
	if (v >= 0)
		return soc_fmt_u64(p, (uint64_t)v);
	*p++ = '-';
	return soc_fmt_u64(p, 0 - (uint64_t)v);
}

static char *
put2(char *p, unsigned v)
{
	memcpy(p, digits2 + v * 2, 2);
	return p + 2;
}

/* "YYYY-MM-DDThh:mm:ss" of secs at p (19 bytes). */
static void
fmt_secs(int64_t secs, char *p)
{
	int64_t days, sod, z, era, doe, yoe, doy, mp, year;
	unsigned mon, mday;

	days = (secs >= 0 ? secs : secs - 86399) / 86400;
	sod = secs - days * 86400;
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	mday = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	mon = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	year = yoe + era * 400 + (mon <= 2);
	/* int64 ns spans 1677..2262: four digits, as %04d writes them */
	p = put2(p, (unsigned)(year / 100));
	p = put2(p, (unsigned)(year % 100));
	*p++ = '-';
	p = put2(p, mon);
	*p++ = '-';
	p = put2(p, mday);
	*p++ = 'T';
	p = put2(p, (unsigned)(sod / 3600));
	*p++ = ':';
	p = put2(p, (unsigned)(sod / 60 % 60));
	*p++ = ':';
	put2(p, (unsigned)(sod % 60));
}

/*
 * Stamps come in runs from the same second (a log's lines, an alert and
 * its event): the date and time of the last second are kept per thread.
 */
static __thread int64_t	tc_secs = INT64_MIN;	/* never a time's second */
static __thread char	tc_text[19];

size_t
soc_fmt_time(int64_t ns, char *out)
{
	int64_t secs = ns / 1000000000LL, frac = ns % 1000000000LL;
	char *p = out + 19;

	if (frac < 0) {
		frac += 1000000000LL;
		secs--;
	}
	if (secs != tc_secs) {
		fmt_secs(secs, tc_text);
		tc_secs = secs;
	}
	memcpy(out, tc_text, 19);
	*p++ = '.';
	p[8] = (char)('0' + frac % 10);
	frac /= 10;
	for (int i = 6; i >= 0; i -= 2) {
		memcpy(p + i, digits2 + (frac % 100) * 2, 2);
		frac /= 100;
	}
	p += 9;
	*p++ = 'Z';
	*p = '\0';
	return (size_t)(p - out);
}

size_t
soc_fmt_ip(const struct soc_ip *ip, char *out)
{
	char *p = out;

	if (ip->family != 4) {
		if (inet_ntop(AF_INET6, ip->addr, out, SOC_FMT_IP_MAX + 1) == NULL)
			out[0] = '\0';
		return strlen(out);
	}
	for (int i = 0; i < 4; i++) {
		unsigned b = ip->addr[i];

		if (i > 0)
			*p++ = '.';
		if (b >= 100) {
			*p++ = (char)('0' + b / 100);
			p = put2(p, b % 100);
		} else if (b >= 10)
			p = put2(p, b);
		else
			*p++ = (char)('0' + b);
	}
	*p = '\0';
	return (size_t)(p - out);
}

size_t
soc_fmt_cat(char *out, size_t cap, size_t n, const char *s, size_t len)
{
	size_t room;

	if (n < cap) {
		room = cap - 1 - n;
		memcpy(out + n, s, len < room ? len : room);
		out[n + (len < room ? len : room)] = '\0';
	}
	return n + len;
}
