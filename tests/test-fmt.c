/*
 * Unit test of lib/fmt.c: each printf-free formatter against the printf
 * form or library call it stands in for (snprintf "%llu"/"%lld",
 * soc_time_format, inet_ntop), and soc_ip_parse's IPv4 path against
 * inet_pton, on the edges (zero,
 * powers of ten, the int64 limits, negative times, leap days, the ends of
 * the nanosecond span) and on a million deterministic pseudo-random
 * values of every magnitude; and the JSON string escaper (lib/json.c),
 * which writes runs of plain bytes at once, against a byte-at-a-time
 * reference on random byte strings rich in quotes, controls and UTF-8;
 * and the event writer (nested ECS objects, in registry order) against a
 * reference built here from the field names alone, on random events.
 */
#include <arpa/inet.h>

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "soc/fmt.h"
#include "soc/json.h"
#include "soc/time.h"

#define NS	1000000000LL

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A value of any magnitude: 0 to 64 significant bits. */
static uint64_t
any(void)
{
	unsigned bits = (unsigned)(next() % 65);

	return bits == 64 ? next() : next() & (((uint64_t)1 << bits) - 1);
}

static int bad;

static void
same(const char *what, const char *got, size_t gotlen, const char *want)
{
	if (gotlen == strlen(want) && memcmp(got, want, gotlen) == 0)
		return;
	if (bad++ < 10)
		fprintf(stderr, "%s: got \"%.*s\", want \"%s\"\n", what,
		    (int)gotlen, got, want);
}

static void
one_u64(uint64_t v)
{
	char got[32], want[32];
	char *e = soc_fmt_u64(got, v);

	snprintf(want, sizeof(want), "%" PRIu64, v);
	same("u64", got, (size_t)(e - got), want);
}

static void
one_i64(int64_t v)
{
	char got[32], want[32];
	char *e = soc_fmt_i64(got, v);

	snprintf(want, sizeof(want), "%" PRId64, v);
	same("i64", got, (size_t)(e - got), want);
}

static void
one_time(int64_t ns)
{
	char got[SOC_FMT_TIME_LEN + 1], want[SOC_TIME_FORMAT_LEN];
	size_t n = soc_fmt_time(ns, got);

	soc_time_format(ns, want, sizeof(want));
	same("time", got, n, want);
	if (got[n] != '\0' && bad++ < 10)
		fprintf(stderr, "time: no NUL after %s\n", want);
}

static void
one_ip(const struct soc_ip *ip)
{
	char got[SOC_FMT_IP_MAX + 1], want[SOC_FMT_IP_MAX + 1];
	size_t n = soc_fmt_ip(ip, got);

	if (inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->addr, want,
	    sizeof(want)) == NULL)
		want[0] = '\0';
	same("ip", got, n, want);
}

static void
test_ints(void)
{
	uint64_t p = 1;

	bad = 0;
	for (int i = 0; i < 20; i++, p *= 10) {
		one_u64(p - 1);
		one_u64(p);
		one_u64(p + 1);
		one_i64((int64_t)p);
		one_i64(-(int64_t)p);
		one_i64(-(int64_t)p + 1);
	}
	one_u64(UINT64_MAX);
	one_i64(INT64_MAX);
	one_i64(INT64_MIN);
	one_i64(INT64_MIN + 1);
	one_i64(0);
	for (int i = 0; i < 1000000; i++) {
		uint64_t v = any();

		one_u64(v);
		one_i64((int64_t)v);
	}
	CHECK_INT(bad, 0);
}

static void
test_times(void)
{
	static const char *stamps[] = {
		"1970-01-01T00:00:00Z", "2000-02-29T23:59:59.999999999Z",
		"2000-03-01T00:00:00Z", "1900-02-28T12:00:00Z",
		"1900-03-01T00:00:00Z", "2100-02-28T23:59:59Z",
		"2100-03-01T00:00:00Z", "2024-12-31T23:59:59.5Z",
		"1969-12-31T23:59:59.000000001Z", "1700-01-01T00:00:00Z",
		"2262-01-01T00:00:00Z", "2026-11-30T17:00:00Z",
	};
	int64_t ns;

	bad = 0;
	one_time(INT64_MIN);
	one_time(INT64_MAX);
	for (int64_t d = -3; d <= 3; d++) {
		one_time(d);
		one_time(d * NS);
		one_time(d * NS + 1);
		one_time(d * NS - 1);
		one_time(d * 86400 * NS - 1);
	}
	for (size_t i = 0; i < sizeof(stamps) / sizeof(stamps[0]); i++) {
		CHECK(soc_time_parse(stamps[i], strlen(stamps[i]), &ns) == 0);
		for (int64_t d = -2; d <= 2; d++)
			one_time(ns + d);
	}
	for (int i = 0; i < 1000000; i++)
		one_time((int64_t)next());
	/* every day from 1677 to 2262, at a random time of the day */
	for (int64_t day = -106751; day <= 106750; day++)
		one_time(day * 86400 * NS + (int64_t)(next() % (86400 * NS)));
	CHECK_INT(bad, 0);
}

/* soc_ip_parse against inet_pton itself (v4, then v6), as it read before. */
static void
one_parse(const char *s, size_t len)
{
	char tmp[64];
	struct soc_ip got, want;
	int rc, wrc = -1;

	memset(&want, 0, sizeof(want));
	if (len > 0 && len < 47) {
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		if (inet_pton(AF_INET, tmp, want.addr) == 1) {
			want.family = 4;
			wrc = 0;
		} else if (inet_pton(AF_INET6, tmp, want.addr) == 1) {
			want.family = 6;
			wrc = 0;
		}
	}
	rc = soc_ip_parse(s, len, &got);
	if (rc != wrc || (rc == 0 && memcmp(&got, &want, sizeof(got)) != 0)) {
		if (bad++ < 10)
			fprintf(stderr, "ip_parse \"%.*s\": %d, want %d\n",
			    (int)len, s, rc, wrc);
	}
}

static void
test_ips(void)
{
	static const char alpha[] = "0123456789.0.1.2..25:af\0 ";
	char s[24];
	struct soc_ip ip;

	bad = 0;
	memset(&ip, 0, sizeof(ip));
	ip.family = 4;
	for (int pos = 0; pos < 4; pos++)
		for (int b = 0; b < 256; b++) {
			memset(ip.addr, pos % 2 ? 255 : 0, 4);
			ip.addr[pos] = (uint8_t)b;
			one_ip(&ip);
		}
	for (int i = 0; i < 100000; i++) {
		uint64_t r = next();

		memcpy(ip.addr, &r, 4);
		one_ip(&ip);
	}
	static const struct { const char *s; size_t len; } edges[] = {
		{ "1.2.3.4", 7 }, { "1.2.3.4\0junk", 12 }, { "1.2.3.4\0", 8 },
		{ "01.2.3.4", 8 }, { "1.2.3.256", 9 }, { "1.2.3", 5 },
		{ "1.2.3.4.", 8 }, { ".1.2.3.4", 8 }, { "1..2.3", 6 },
		{ "0.0.0.0", 7 }, { "255.255.255.255", 15 }, { "::1", 3 },
		{ "::ffff:1.2.3.4", 14 }, { "1.2.3.4:", 8 }, { "", 0 },
		{ "1.2.3.4 ", 8 }, { "1.2.3.0004", 10 }, { "user", 4 },
	};

	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		one_parse(edges[i].s, edges[i].len);
	for (int i = 0; i < 300000; i++) {
		uint64_t r = next();
		int n;

		if (i % 2) {	/* a quad, sometimes with 0-padding or > 255 */
			n = snprintf(s, sizeof(s), i % 6 == 1 ? "%u.%u.%u.%03u" :
			    "%u.%u.%u.%u", (unsigned)(r & 255),
			    (unsigned)(r >> 8 & 511), (unsigned)(r >> 17 & 255),
			    (unsigned)(r >> 25 & 255));
		} else {
			n = (int)(r % 20);
			for (int k = 0; k < n; k++)
				s[k] = alpha[next() % (sizeof(alpha) - 1)];
		}
		one_parse(s, (size_t)n);
	}
	ip.family = 6;
	for (int i = 0; i < 10000; i++) {
		uint64_t r[2] = { next(), next() };

		if (i % 3 == 0)
			r[0] = 0;	/* :: compression */
		memcpy(ip.addr, r, 16);
		one_ip(&ip);
	}
	CHECK_INT(bad, 0);
}

/* The escaping rules of soc/json.h, one byte at a time. */
static size_t
ref_json_str(const unsigned char *s, size_t len, char *out)
{
	char *o = out;
	size_t n;

	*o++ = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c >= 0x80 && (n = soc_utf8_seq(s + i, len - i)) > 0) {
			memcpy(o, s + i, n);
			o += n;
			i += n - 1;
		} else if (c == '"' || c == '\\')
			o += sprintf(o, "\\%c", c);
		else if (c == '\n')
			o += sprintf(o, "\\n");
		else if (c == '\r')
			o += sprintf(o, "\\r");
		else if (c == '\t')
			o += sprintf(o, "\\t");
		else if (c < 0x20 || c >= 0x80)
			o += sprintf(o, "\\u%04x", c);
		else
			*o++ = (char)c;
	}
	*o++ = '"';
	return (size_t)(o - out);
}

static void
test_json_str(void)
{
	static const unsigned char alpha[] = "ab \"\\\n\r\t\x01\x1f\x7f"
	    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xff\xc0\xed\xa0\x80";
	unsigned char in[300];
	char want[300 * 6 + 3];
	struct soc_sbuf b;

	soc_sbuf_init(&b);
	bad = 0;
	for (int i = 0; i < 200000; i++) {
		size_t len = (size_t)(next() % sizeof(in)), wlen;

		for (size_t k = 0; k < len; k++)
			in[k] = next() % 4 == 0 ? (unsigned char)next() :
			    alpha[next() % (sizeof(alpha) - 1)];
		wlen = ref_json_str(in, len, want);
		want[wlen] = '\0';
		soc_sbuf_reset(&b);
		soc_sbuf_add(&b, "x", 1);	/* appends after what is there */
		soc_sbuf_json_str(&b, (const char *)in, len);
		same("json_str", b.data + 1, b.len - 1, want);
		if (b.data[b.len] != '\0' && bad++ < 10)
			fprintf(stderr, "json_str: no NUL\n");
	}
	soc_sbuf_free(&b);
	CHECK_INT(bad, 0);
}

/*
 * The reference writer: the dotted names of the registry, in its order,
 * grouped into objects at their first appearance; written are the fields
 * present and the objects with some field present beneath.
 */
struct rnode {
	char	name[40];
	int	field;		/* -1: object */
	int	kids[64];
	int	nkids;
};
static struct rnode	rn[512];
static int		rn_n;

static int
ref_child(int parent, const char *name, size_t len, int field)
{
	for (int i = 0; i < rn[parent].nkids; i++) {
		int k = rn[parent].kids[i];

		if (strlen(rn[k].name) == len && memcmp(rn[k].name, name, len) == 0)
			return k;
	}
	memcpy(rn[rn_n].name, name, len);
	rn[rn_n].name[len] = '\0';
	rn[rn_n].field = field;
	rn[rn_n].nkids = 0;
	rn[parent].kids[rn[parent].nkids++] = rn_n;
	return rn_n++;
}

static void
ref_value(struct soc_sbuf *b, const struct soc_event *ev, int f)
{
	char tmp[64];
	const char *s;
	size_t len;

	if (f == SOC_F_SOC_TRUNCATED) {
		soc_sbuf_adds(b, soc_event_truncated(ev) ? "true" : "false");
		return;
	}
	if (soc_field_type(f) == SOC_T_STR) {
		s = soc_event_str(ev, f, &len);
		soc_sbuf_json_str(b, s, len);
	} else if (soc_field_type(f) == SOC_T_INT) {
		soc_sbuf_printf(b, "%lld", (long long)soc_event_int(ev, f, 0));
	} else {
		soc_event_text(ev, f, tmp, sizeof(tmp));
		soc_sbuf_printf(b, "\"%s\"", tmp);
	}
}

static bool
ref_has(const struct soc_event *ev, int node)
{
	int f = rn[node].field;

	if (f >= 0)
		return soc_event_has(ev, f) || (f == SOC_F_SOC_TRUNCATED &&
		    soc_event_truncated(ev));
	for (int i = 0; i < rn[node].nkids; i++)
		if (ref_has(ev, rn[node].kids[i]))
			return true;
	return false;
}

static void
ref_node(struct soc_sbuf *b, const struct soc_event *ev, int node)
{
	for (int i = 0; i < rn[node].nkids; i++) {
		int k = rn[node].kids[i];

		if (!ref_has(ev, k))
			continue;
		soc_sbuf_printf(b, ",\"%s\":", rn[k].name);
		if (rn[k].field >= 0) {
			ref_value(b, ev, rn[k].field);
			continue;
		}
		soc_sbuf_adds(b, "{");
		ref_node(b, ev, k);
		soc_sbuf_adds(b, "}");
	}
}

static void
ref_event(struct soc_sbuf *b, const struct soc_event *ev)
{
	char ts[SOC_TIME_FORMAT_LEN];

	rn_n = 1;
	rn[0].nkids = 0;
	for (int f = 0; f < SOC_F_COUNT; f++) {
		const char *name = soc_field_name(f), *dot;
		int node = 0;

		while ((dot = strchr(name, '.')) != NULL) {
			node = ref_child(node, name, (size_t)(dot - name), -1);
			name = dot + 1;
		}
		ref_child(node, name, strlen(name), f);
	}
	soc_time_format(ev->ts, ts, sizeof(ts));
	soc_sbuf_printf(b, "{\"@timestamp\":\"%s\"", ts);
	ref_node(b, ev, 0);
	/* objects opened above print their first member with a comma */
	soc_sbuf_adds(b, "}");
}

/* The reference's ",\"a\":{,\"b\":" is the writer's ",\"a\":{\"b\":". */
static void
ref_fix(struct soc_sbuf *b)
{
	size_t o = 0;

	for (size_t i = 0; i < b->len; i++)
		if (!(b->data[i] == ',' && i > 0 && b->data[i - 1] == '{' &&
		    i + 1 < b->len && b->data[i + 1] == '"'))
			b->data[o++] = b->data[i];
	b->len = o;
	b->data[o] = '\0';
}

static void
test_json_event(void)
{
	static struct soc_event ev;
	struct soc_sbuf got, want;
	uint8_t a16[16];

	soc_sbuf_init(&got);
	soc_sbuf_init(&want);
	bad = 0;
	for (int i = 0; i < 20000; i++) {
		soc_event_reset(&ev);
		ev.ts = (int64_t)next();
		for (int f = 0; f < SOC_F_COUNT; f++) {
			uint64_t r = next();

			if (r % 100 >= (uint64_t)(i % 4 == 0 ? 90 : 15))
				continue;
			switch (soc_field_type(f)) {
			case SOC_T_STR:
				/* no ",{" or "{," in values: ref_fix stays exact */
				soc_event_set_str(&ev, f, "v\"\\x\xc3\xa9", 1 + r % 6);
				break;
			case SOC_T_INT:
			case SOC_T_TIME:
				soc_event_set_int(&ev, f, (int64_t)next());
				break;
			case SOC_T_IP:
				memcpy(a16, &r, 8);
				memcpy(a16 + 8, &r, 8);
				if (r % 2)
					soc_event_set_ip4(&ev, f, a16);
				else
					soc_event_set_ip6(&ev, f, a16);
				break;
			}
		}
		if (i % 7 == 0)
			ev.flags |= SOC_EV_TRUNCATED;
		soc_sbuf_reset(&got);
		soc_sbuf_reset(&want);
		soc_json_event(&got, &ev);
		ref_event(&want, &ev);
		ref_fix(&want);
		same("json_event", got.data, got.len, want.data);
	}
	soc_sbuf_free(&got);
	soc_sbuf_free(&want);
	CHECK_INT(bad, 0);
}

/* soc_fmt_cat against snprintf(out + n, cap - n, "%s", s), cut or not. */
static void
test_cat(void)
{
	char got[40], want[40], piece[40];
	size_t cap, gn, wn, len;

	for (int i = 0; i < 100000; i++) {
		cap = 1 + next() % sizeof(got);
		memset(got, '#', sizeof(got));
		memset(want, '#', sizeof(want));
		gn = wn = 0;
		for (int k = 0; k < 4; k++) {
			len = next() % 16;
			for (size_t j = 0; j < len; j++)
				piece[j] = (char)('a' + next() % 26);
			piece[len] = '\0';
			gn = soc_fmt_cat(got, cap, gn, piece, len);
			if (wn < cap)
				wn += (size_t)snprintf(want + wn, cap - wn, "%s", piece);
			else
				wn += len;
		}
		CHECK_INT(gn, wn);
		if (memcmp(got, want, sizeof(got)) != 0 && bad++ < 10)
			fprintf(stderr, "cat: cap %zu: \"%.*s\" vs \"%.*s\"\n", cap,
			    (int)sizeof(got), got, (int)sizeof(want), want);
	}
	CHECK_INT(bad, 0);
}

int
main(void)
{
	test_cat();
	test_ints();
	test_times();
	test_ips();
	test_json_str();
	test_json_event();
	return check_done();
}
