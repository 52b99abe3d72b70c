/*
 * Reading events back from JSON lines (`socctl rules test --events`, and
 * anything a script hands us).  The input is untrusted: a small recursive
 * descent parser with a depth limit that checks every byte it reads,
 * flattens nested objects into dotted ECS names, and fills the event
 * through the registry.  Unknown fields are skipped and counted; values
 * of the wrong shape for their field are an error with a reason.
 *
 * Strings are decoded (\uXXXX with surrogate pairs to UTF-8).  A byte the
 * writer escaped as \u00XX comes back as the code point U+00XX.  A value
 * cut to fit (a string over 8 KiB, an array over 4 KiB joined) marks the
 * event truncated (soc.truncated), as the sensor does; so does
 * "soc": {"truncated": true} in the input, which the writer produces.
 * Members of winlog.event_data and winlog.user_data (Winlogbeat's open
 * sets of names) become dynamic fields (event.h), names interned.  A
 * name whose dotted path is past JR_PATH is skipped with its value (still
 * parsed, so the rest of the object is read) and counted as unknown.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "soc/fmt.h"
#include "soc/json.h"
#include "soc/time.h"

#define JR_MAX_DEPTH	16
#define JR_PATH		256

struct jr {
	const char		*p, *end;
	struct soc_event	*ev;
	const char		*why;
	unsigned		 unknown;
	char			 path[JR_PATH];
	size_t			 plen;
	char			 str[8192 + 1];	/* decoded string scratch */
	const char		*sv;		/* the value: str, or the input
						   itself when it needs no
						   decoding (no copy) */
	size_t			 slen;
	bool			 cut;		/* str lost bytes: too long */
	unsigned		 skip;		/* inside a skipped member */
};

static int jr_value(struct jr *, int);

static int
jr_fail(struct jr *j, const char *why)
{
	if (j->why == NULL)
		j->why = why;
	return -1;
}

static const char *js_plain_run(const char *, const char *);

static inline __attribute__((always_inline)) void
jr_ws(struct jr *j)
{
	/* most JSON on the wire has none, or one space (Python's ", " and
	 * ": "): no call for those */
	if (j->p < j->end && (unsigned char)*j->p > ' ')
		return;
	if (j->end - j->p >= 2 && j->p[0] == ' ' &&
	    (unsigned char)j->p[1] > ' ') {
		j->p++;
		return;
	}
	j->p = soc_json_ws(j->p, j->end);
}

/*
 * A string value into j->sv: a string with nothing to decode (no escape,
 * all printable ASCII, as most are) is used where it lies in the input;
 * any other is decoded into j->str.
 */
static int
jr_string(struct jr *j)
{
	const char *q = js_plain_run(j->p + 1, j->end);

	if (q < j->end && *q == '"' && (size_t)(q - j->p - 1) <
	    sizeof(j->str)) {
		j->sv = j->p + 1;
		j->slen = (size_t)(q - j->p - 1);
		j->cut = false;
		j->p = q + 1;
		return 0;
	}
	j->sv = j->str;
	return soc_json_string(&j->p, j->end, j->str, sizeof(j->str), &j->slen,
	    &j->cut, false, &j->why);
}

const char *
soc_json_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* Appends a byte to the string being decoded, or notes the cut. */
static void
js_put(char *out, size_t cap, size_t *n, bool *cut, unsigned c)
{
	if (*n + 1 < cap)
		out[(*n)++] = (char)c;
	else
		*cut = true;
}

/* A \u escape (*p after the "u"): one code point, a surrogate pair joined. */
static int
js_unicode(const char **p, const char *end, bool strict, unsigned *cpp,
    const char **why)
{
	unsigned cp, lo;

	if (end - *p < 4 || soc_json_hex4(*p, &cp) == -1) {
		*why = "bad \\u escape";
		return -1;
	}
	*p += 4;
	if (cp >= 0xd800 && cp <= 0xdbff && end - *p >= 6 && (*p)[0] == '\\' &&
	    (*p)[1] == 'u' && soc_json_hex4(*p + 2, &lo) == 0 &&
	    lo >= 0xdc00 && lo <= 0xdfff) {
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		*p += 6;
	} else if (strict && cp >= 0xd800 && cp <= 0xdfff) {
		*why = "lone surrogate in a string";
		return -1;
	}
	if (strict && cp == 0) {
		*why = "NUL in a string";
		return -1;
	}
	*cpp = cp;
	return 0;
}

/* The bytes a string holds as they are: printable ASCII but '"', '\\'
 * (the rest of the table is 0) */
static const unsigned char js_plain[256] = {
	[0x20] =
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x20 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x30 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x40 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,	/* 0x50 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x60 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x70 */
};

/*
 * Whether any of the eight bytes at p is not plain (js_plain): a
 * control (< 0x20), a byte >= 0x80, '"' or '\\'.  The tests of "a byte
 * below n" and "a byte equal to zero" are exact for the word as a whole.
 */
static inline uint64_t
js_word_special(const char *p)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	uint64_t w, q, b;

	memcpy(&w, p, 8);
	q = w ^ (ones * '"');
	b = w ^ (ones * '\\');
	return (w | ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
	    ((b - ones) & ~b)) & high;
}

/*
 * The end of the run of plain bytes at q.  A borrow only marks bytes
 * after a byte that is marked rightly, so the lowest mark of a word is
 * its first byte that is not plain.
 */
static inline const char *
js_plain_run(const char *q, const char *end)
{
	uint64_t m;

#ifdef __SSE2__
	/* sixteen bytes at a time: '"', '\\', and below 0x20 as signed
	 * bytes, which takes the bytes >= 0x80 too */
	const __m128i quote = _mm_set1_epi8('"'), bsl = _mm_set1_epi8('\\'),
	    space = _mm_set1_epi8(0x20);

	while (end - q >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
		int k = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
		    _mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bsl)),
		    _mm_cmplt_epi8(v, space)));

		if (k != 0)
			return q + __builtin_ctz((unsigned)k);
		q += 16;
	}
#endif
	while (end - q >= 8) {
		if ((m = js_word_special(q)) != 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return q + (__builtin_ctzll(m) >> 3);
#else
			break;
#endif
		}
		q += 8;
	}
	while (q < end && js_plain[(unsigned char)*q])
		q++;
	return q;
}

int
soc_json_string(const char **pp, const char *end, char *out, size_t cap,
    size_t *len, bool *cut, bool strict, const char **why)
{
	const char *p = *pp + 1;
	unsigned char u[4];
	unsigned cp;
	size_t n = 0, k;

	*cut = false;
	while (p < end && *p != '"') {
		unsigned char c = (unsigned char)*p;
		const char *q = p;
		size_t m, room;

		/* a run of plain ASCII (most of a string) in one copy, found
		 * eight bytes at a time */
		q = js_plain_run(q, end);
		if (q > p) {
			m = (size_t)(q - p);
			room = n + 1 < cap ? cap - 1 - n : 0;
			if (m > room) {
				m = room;
				*cut = true;
			}
			if (m > 0)
				memcpy(out + n, p, m);
			n += m;
			p = q;
			continue;
		}
		if (c < 0x20) {
			*why = "control character in a string";
			return -1;
		}
		if (c >= 0x80 && strict) {
			if ((k = soc_utf8_seq((const unsigned char *)p,
			    (size_t)(end - p))) == 0) {
				*why = "string is not valid UTF-8";
				return -1;
			}
			for (size_t i = 0; i < k; i++)
				js_put(out, cap, &n, cut, (unsigned char)p[i]);
			p += k;
			continue;
		}
		p++;
		if (c != '\\') {
			js_put(out, cap, &n, cut, c);
			continue;
		}
		if (p >= end)
			break;
		switch (*p++) {
		case '"': js_put(out, cap, &n, cut, '"'); break;
		case '\\': js_put(out, cap, &n, cut, '\\'); break;
		case '/': js_put(out, cap, &n, cut, '/'); break;
		case 'b': js_put(out, cap, &n, cut, '\b'); break;
		case 'f': js_put(out, cap, &n, cut, '\f'); break;
		case 'n': js_put(out, cap, &n, cut, '\n'); break;
		case 'r': js_put(out, cap, &n, cut, '\r'); break;
		case 't': js_put(out, cap, &n, cut, '\t'); break;
		case 'u':
			if (js_unicode(&p, end, strict, &cp, why) == -1)
				return -1;
			k = soc_utf8_encode(cp, u);
			for (size_t i = 0; i < k; i++)
				js_put(out, cap, &n, cut, u[i]);
			break;
		default:
			*why = "bad escape in a string";
			return -1;
		}
	}
	if (p >= end) {
		*why = "unterminated string";
		return -1;
	}
	*pp = p + 1;
	if (cap > 0)
		out[n] = '\0';
	*len = n;
	return 0;
}

/* The scalar as a whole number (strtoll's), into *v; -1 if it is not one. */
static int
jr_whole(const struct jr *j, int64_t *v)
{
	char tmp[64], *endp;

	if (j->slen == 0 || j->slen >= sizeof(tmp))
		return -1;
	memcpy(tmp, j->sv, j->slen);
	tmp[j->slen] = '\0';
	errno = 0;
	*v = strtoll(tmp, &endp, 10);
	return *endp == '\0' && errno == 0 ? 0 : -1;
}

static int
jr_int(struct jr *j, int f)
{
	int64_t v;

	if (jr_whole(j, &v) == -1)
		return jr_fail(j, "whole number expected");
	soc_event_set_int(j->ev, f, v);
	return 0;
}

/*
 * An RFC 3339 time into *ns.  soc_time_parse() takes the whole int64
 * span soc_time_format() writes, 1677-09-21T00:12:43.145224192Z to
 * 2262-04-11T23:47:16.854775807Z, and tells
 * 1969-12-31T23:59:59.999999999Z from an error.
 */
static int
jr_time(const struct jr *j, int64_t *ns)
{
	return soc_time_parse(j->sv, j->slen, ns);
}

/*
 * A keyword twin (network.vlan.id, dns.id) given as a whole number, in
 * JSON as a number or as text: its integer field, which fills the twin
 * too, so either name in the input gives both.  -1: not a number, keep
 * it as text.
 */
static int
jr_twin(struct jr *j, int kw)
{
	char back[SOC_FMT_I64_MAX];
	int64_t v;

	if (jr_whole(j, &v) == -1 ||
	    (size_t)(soc_fmt_i64(back, v) - back) != j->slen ||
	    memcmp(back, j->sv, j->slen) != 0)
		return -1;		/* the text would not survive */
	soc_event_set_int(j->ev, soc_field_twin(kw), v);
	return 0;
}

/*
 * The field of a path, as soc_field_lookup() finds it (and
 * soc_field_intern() for the winlog.* names it does not know), remembered
 * per thread: the same names come in every event of a kind.  A name is
 * placed by its length and its first and last eight bytes and compared
 * whole.  A winlog.* name that could not be interned is not remembered
 * (each refusal is counted there).
 */
#define JR_CACHE	512	/* power of two */
#define JR_CACHE_NAME	64

static __thread struct {
	uint8_t		len;
	int		f;
	char		name[JR_CACHE_NAME];
} jr_names[JR_CACHE];

static int
jr_field(const char *p, size_t len)
{
	uint64_t a = 0, b = 0, h;
	size_t k = len < 8 ? len : 8;
	unsigned i = 0;
	int f;

	if (len - 1 < JR_CACHE_NAME) {
		memcpy(&a, p, k);
		memcpy(&b, p + len - k, k);
		h = (a * 0x9e3779b97f4a7c15u) ^ (b * 0xff51afd7ed558ccdu) ^ len;
		h ^= h >> 31;
		i = (unsigned)(h ^ (h >> 17)) & (JR_CACHE - 1);
		if (jr_names[i].len == len && memcmp(jr_names[i].name, p,
		    len) == 0)
			return jr_names[i].f;
	}
	if ((f = soc_field_lookup(p, len)) == SOC_F_NONE && len >= 7 &&
	    memcmp(p, "winlog.", 7) == 0 &&
	    (f = soc_field_intern(p, len)) == SOC_F_NONE)
		return f;
	if (len - 1 < JR_CACHE_NAME) {
		jr_names[i].len = (uint8_t)len;
		jr_names[i].f = f;
		memcpy(jr_names[i].name, p, len);
	}
	return f;
}

/* A scalar (j->sv: a string decoded, or a number) for the current path. */
static int
jr_assign(struct jr *j, int is_string)
{
	int f;
	int64_t v;
	struct soc_ip ip;

	if (j->skip)
		return 0;	/* under a name too long: counted once */
	if (j->plen == 10 && memcmp(j->path, "@timestamp", 10) == 0) {
		if (!is_string || jr_time(j, &v) == -1)
			return jr_fail(j, "@timestamp is not an RFC 3339 time");
		j->ev->ts = v;
		return 0;
	}
	if ((f = jr_field(j->path, j->plen)) == SOC_F_NONE) {
		j->unknown++;	/* winlog.event_data.*: interned */
		return 0;
	}
	switch (soc_field_type(f)) {
	case SOC_T_STR:
		if (soc_field_derived(f) && jr_twin(j, f) == 0)
			return 0;
		soc_event_set_str(j->ev, f, j->sv, j->slen);
		if (j->cut)
			soc_event_set_truncated(j->ev);
		return 0;
	case SOC_T_TIME:
		if (is_string) {
			if (jr_time(j, &v) == -1)
				return jr_fail(j, "time field is not an RFC 3339 time");
			soc_event_set_int(j->ev, f, v);
			return 0;
		}
		return jr_int(j, f);	/* integer nanoseconds */
	case SOC_T_INT:
		return jr_int(j, f);
	case SOC_T_IP:
		if (!is_string || soc_ip_parse(j->sv, j->slen, &ip) == -1)
			return jr_fail(j, "IP address expected");
		soc_event_set_ip(j->ev, f, &ip);
		return 0;
	}
	return 0;
}

static int
jr_object(struct jr *j, int depth)
{
	size_t saved = j->plen, at, klen;
	const char *q;
	bool long_key;
	int rc;

	j->p++;
	jr_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return 0;
	}
	for (;;) {
		jr_ws(j);
		if (j->p >= j->end || *j->p != '"')
			return jr_fail(j, "object key expected");
		/* the name decoded in place after the path and its '.': one
		 * that does not fit is cut (long_key) */
		at = saved + (saved ? 1 : 0);
		if (saved)
			j->path[saved] = '.';
		q = js_plain_run(j->p + 1, j->end);
		if (q < j->end && *q == '"' && at + (size_t)(q - j->p - 1) <
		    sizeof(j->path)) {
			/* nothing to decode (most names): copied */
			klen = (size_t)(q - j->p - 1);
			memcpy(j->path + at, j->p + 1, klen);
			j->path[at + klen] = '\0';
			long_key = false;
			j->p = q + 1;
		} else if (soc_json_string(&j->p, j->end, j->path + at,
		    sizeof(j->path) - at, &klen, &long_key, false, &j->why) == -1)
			return -1;
		long_key |= at + klen >= sizeof(j->path);
		jr_ws(j);
		if (j->p >= j->end || *j->p++ != ':')
			return jr_fail(j, "':' expected");
		if (j->skip || long_key) {
			/* a name past JR_PATH: its value skipped, counted */
			j->path[saved] = '\0';
			if (!j->skip)
				j->unknown++;
			j->skip++;
			rc = jr_value(j, depth + 1);
			j->skip--;
			if (rc == -1)
				return -1;
		} else {
			j->plen = at + klen;
			rc = jr_value(j, depth + 1);
			j->plen = saved;
			j->path[saved] = '\0';
			if (rc == -1)
				return -1;
		}
		jr_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return 0;
		}
		return jr_fail(j, "',' or '}' expected");
	}
}

/* Arrays: strings are joined with ',' into one value (ECS keyword lists). */
static int
jr_array(struct jr *j, int depth)
{
	char joined[4096];
	size_t jl = 0;
	int strings = 0, cut = 0;

	j->p++;
	jr_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return 0;
	}
	for (;;) {
		jr_ws(j);
		if (j->p < j->end && *j->p == '"') {
			if (jr_string(j) == -1)
				return -1;
			if (jl + j->slen + 1 < sizeof(joined)) {
				if (jl)
					joined[jl++] = ',';
				memcpy(joined + jl, j->sv, j->slen);
				jl += j->slen;
			} else
				cut = 1;
			cut |= j->cut;
			strings++;
		} else if (jr_value(j, depth + 1) == -1)
			return -1;
		jr_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			break;
		}
		return jr_fail(j, "',' or ']' expected");
	}
	if (strings > 0) {
		memcpy(j->str, joined, jl);
		j->sv = j->str;
		j->slen = jl;
		j->cut = cut;
		return jr_assign(j, 1);
	}
	return 0;
}

/*
 * A number as JSON's grammar has it (a leading zero aside, as the Beats
 * syntax check takes it): -?digits(.digits)?([eE][+-]?digits)?.  Its end,
 * or NULL.  Exactly as strict as beats_json_check() (sensor/beats-proto.c),
 * so that an event this reader takes whole has passed that check too and
 * the Beats server runs the check only on the events this reader refuses.
 */
static const char *
jr_number(const char *p, const char *end)
{
	const char *d;

	if (p < end && *p == '-')
		p++;
	for (d = p; p < end && *p >= '0' && *p <= '9'; p++)
		;
	if (p == d)
		return NULL;
	if (p < end && *p == '.') {
		for (d = ++p; p < end && *p >= '0' && *p <= '9'; p++)
			;
		if (p == d)
			return NULL;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		for (d = p; p < end && *p >= '0' && *p <= '9'; p++)
			;
		if (p == d)
			return NULL;
	}
	return p;
}

static int
jr_value(struct jr *j, int depth)
{
	const char *start;

	if (depth > JR_MAX_DEPTH)
		return jr_fail(j, "nested too deeply");
	jr_ws(j);
	if (j->p >= j->end)
		return jr_fail(j, "value expected");
	switch (*j->p) {
	case '{':
		return jr_object(j, depth);
	case '[':
		return jr_array(j, depth);
	case '"':
		if (jr_string(j) == -1)
			return -1;
		return jr_assign(j, 1);
	case 't':
	case 'f':
	case 'n':
		start = j->p;
		while (j->p < j->end && *j->p >= 'a' && *j->p <= 'z')
			j->p++;
		if (j->p - start == 4 && !memcmp(start, "true", 4)) {
			/* the one boolean: the writer's mark, read back */
			if (!j->skip && soc_field_lookup(j->path, j->plen) ==
			    SOC_F_SOC_TRUNCATED)
				soc_event_set_truncated(j->ev);
			return 0;
		}
		if ((j->p - start == 4 && !memcmp(start, "null", 4)) ||
		    (j->p - start == 5 && !memcmp(start, "false", 5)))
			return 0;	/* no other boolean fields */
		return jr_fail(j, "unknown literal");
	default:
		start = j->p;
		if ((j->p = jr_number(j->p, j->end)) == NULL) {
			j->p = start;
			return jr_fail(j, "not a JSON number");
		}
		j->slen = (size_t)(j->p - start) < sizeof(j->str) ?
		    (size_t)(j->p - start) : sizeof(j->str) - 1;
		j->sv = start;
		return jr_assign(j, 0);
	}
}

int
soc_json_read_event(const char *s, size_t len, struct soc_event *ev,
    const char **why, unsigned *unknown)
{
	static __thread struct jr j;

	j.p = s;
	j.end = s + len;
	j.ev = ev;
	j.why = NULL;
	j.unknown = 0;
	j.plen = 0;
	j.skip = 0;
	j.path[0] = '\0';
	soc_event_reset(ev);
	jr_ws(&j);
	if (j.p >= j.end || *j.p != '{') {
		*why = "a JSON object expected";
		return -1;
	}
	if (jr_object(&j, 0) == -1) {
		*why = j.why;
		return -1;
	}
	jr_ws(&j);
	if (j.p != j.end) {
		*why = "trailing characters after the object";
		return -1;
	}
	if (soc_event_truncated(ev))	/* flag and field agree */
		soc_event_set_truncated(ev);
	if (unknown != NULL)
		*unknown = j.unknown;
	return 0;
}
