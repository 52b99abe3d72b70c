/*
 * JSON output: a growable string buffer, string escaping that keeps
 * output valid for any input bytes, and the event writer that turns the
 * flat field registry into nested ECS objects ("source": {"ip": ...}).
 *
 * The nesting is computed once from the registry (a prefix tree of the
 * dotted names); writing an event walks that tree and skips subtrees with
 * no field present, so the per-event cost is proportional to the fields
 * the event has, and the buffer is reused between events.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "soc/fmt.h"
#include "soc/json.h"
#include "soc/time.h"

void
soc_sbuf_init(struct soc_sbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void
soc_sbuf_free(struct soc_sbuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void
soc_sbuf_reset(struct soc_sbuf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static bool
sbuf_grow(struct soc_sbuf *b, size_t need)
{
	size_t cap;
	char *p;

	if (b->len + need + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + need + 1)
		cap *= 2;
	if ((p = realloc(b->data, cap)) == NULL) {
		b->oom = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

/* soc_sbuf_add, inlined in the event writer's loops */
static inline void
sbuf_put(struct soc_sbuf *b, const char *s, size_t len)
{
	if (b->len + len + 1 > b->cap && !sbuf_grow(b, len))
		return;
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
soc_sbuf_add(struct soc_sbuf *b, const char *s, size_t len)
{
	sbuf_put(b, s, len);
}

char *
soc_sbuf_reserve(struct soc_sbuf *b, size_t n)
{
	return sbuf_grow(b, n) ? b->data + b->len : NULL;
}

void
soc_sbuf_adds(struct soc_sbuf *b, const char *s)
{
	soc_sbuf_add(b, s, strlen(s));
}

void
soc_sbuf_printf(struct soc_sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !sbuf_grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

size_t
soc_utf8_seq(const unsigned char *s, size_t left)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

size_t
soc_utf8_encode(unsigned cp, unsigned char out[4])
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | (cp >> 6));
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | (cp >> 12));
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | (cp >> 18));
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

int
soc_json_hex4(const void *p, unsigned *v)
{
	const unsigned char *s = p;

	*v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = s[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			*v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			*v |= c - 'A' + 10;
		else
			return -1;
	}
	return 0;
}

/* Bytes a JSON string holds as they are: printable ASCII but " and \ */
static const unsigned char json_plain[256] = {
	[0x20] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/*
 * Whether the 8 bytes at p are all plain (json_plain[]), a word at a
 * time: none at or above 0x80, none below 0x20, none '"' or '\\' (the
 * bit tricks of "Bit Twiddling Hacks": a byte below n, a zero byte).
 */
static inline int
json_plain8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = ones * 0x80;
	uint64_t x, q, b;

	memcpy(&x, p, 8);
	q = x ^ (ones * '"');
	b = x ^ (ones * '\\');
	return ((x | ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) |
	    ((b - ones) & ~b)) & highs) == 0;
}

#ifdef __SSE2__
/* The bytes of the 16 at p that are not plain, as bits: signed, a byte
 * at or above 0x80 is below 0x20 too. */
static inline unsigned
json_special16(const unsigned char *p)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i m = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
	    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
	    _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));

	return (unsigned)_mm_movemask_epi8(m);
}
#endif

/*
 * The byte at *pp, which is not plain, at o: a valid UTF-8 sequence as
 * it is, else escaped (a control byte or invalid UTF-8 keeps its value
 * visibly, as \u00XX).  Moves *pp past what it wrote; returns the end.
 */
static inline char *
json_esc_special(char *o, const unsigned char **pp, const unsigned char *end)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = *pp;
	unsigned char c = *p;
	size_t n;

	if (c >= 0x80 && (n = soc_utf8_seq(p, (size_t)(end - p))) > 0) {
		memcpy(o, p, n);
		*pp = p + n;
		return o + n;
	}
	*o++ = '\\';
	switch (c) {
	case '"': *o++ = '"'; break;
	case '\\': *o++ = '\\'; break;
	case '\n': *o++ = 'n'; break;
	case '\r': *o++ = 'r'; break;
	case '\t': *o++ = 't'; break;
	default:
		memcpy(o, "u00", 3);
		o[3] = hex[c >> 4];
		o[4] = hex[c & 15];
		o += 5;
	}
	*pp = p + 1;
	return o;
}

/*
 * s as a quoted JSON string at o, which has room for the worst case
 * (every byte a \u00XX: 6 * len + 2); returns the end.  Runs of plain
 * bytes are copied whole: no call per byte.  With SSE2, sixteen bytes
 * at a time while sixteen are left: they are stored whole (the room
 * for the worst case of what is left covers it) and the output moves
 * on by the plain ones, so a Windows path's backslashes cost no call.
 */
static char *
json_esc(char *o, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len, *r;

	*o++ = '"';
#ifdef __SSE2__
	while (end - p >= 16) {
		unsigned m = json_special16(p), k;

		memcpy(o, p, 16);
		if (m == 0) {
			o += 16;
			p += 16;
			continue;
		}
		k = (unsigned)__builtin_ctz(m);
		o += k;
		p += k;
		o = json_esc_special(o, &p, end);
	}
#endif
	while (p < end) {
		for (r = p; end - r >= 8 && json_plain8(r); r += 8)
			;
		for (; r < end && json_plain[*r]; r++)
			;
		memcpy(o, p, (size_t)(r - p));
		o += r - p;
		if ((p = r) == end)
			break;
		o = json_esc_special(o, &p, end);
	}
	*o++ = '"';
	return o;
}

void
soc_sbuf_json_str(struct soc_sbuf *b, const char *s, size_t len)
{
	char *o;

	if (len > (SIZE_MAX - 3) / 6) {
		b->oom = true;
		return;
	}
	if ((o = soc_sbuf_reserve(b, len * 6 + 2)) == NULL)
		return;
	b->len = (size_t)(json_esc(o, s, len) - b->data);
	b->data[b->len] = '\0';
}

/*
 * Prefix tree of the registry.  Node 0 is the root; a node is either an
 * object (children) or a leaf (a field id).  Children are kept in
 * registry order, so output order is stable.  The walk of the tree is
 * computed once: each field's rank in it and the objects above it, so
 * that writing an event visits only the fields it has, in rank order.
 */
#define JT_MAX_NODES	512
#define JT_MAX_KIDS	32
#define JT_MAX_DEPTH	8	/* < 16: json_close() */
#define JT_QCOPY	36	/* bytes copied for a key: all of the longest */

struct jnode {
	char		name[32];
	char		qkey[40];	/* ,"name": as written after a member */
	size_t		qlen;
	int		field;		/* leaf: field id; object: -1 */
	int		nkids;
	int		kids[JT_MAX_KIDS];
};

_Static_assert(JT_QCOPY >= sizeof(((struct jnode *)0)->name) + 3 &&
    JT_QCOPY + 1 <= sizeof(((struct jnode *)0)->qkey), "JT_QCOPY");

/*
 * Two leaves stand for the dynamic fields (event.h): the objects
 * winlog.event_data and winlog.user_data, written whole with the names
 * after the prefix as keys, as Winlogbeat writes them, inside the one
 * "winlog" object with the fixed winlog.* fields.
 */
#define JT_ED		SOC_F_COUNT		/* winlog.event_data */
#define JT_UD		(SOC_F_COUNT + 1)	/* winlog.user_data */
#define JT_NF		(SOC_F_COUNT + 2)

static struct jnode	jt[JT_MAX_NODES];
static int		jt_n;
static uint8_t		jt_type[JT_NF];		/* soc_field_type() */
static uint16_t		jt_rank[JT_NF];		/* field -> place in the walk */
static int16_t		jt_leaf[JT_NF];		/* place in the walk -> field */
static uint8_t		jt_depth[JT_NF];	/* objects above the field */
static uint16_t		jt_path[JT_NF][JT_MAX_DEPTH]; /* them, then it */
static pthread_once_t	jt_once = PTHREAD_ONCE_INIT;

static int
jt_child(int parent, const char *name, size_t len, int field)
{
	struct jnode *p = &jt[parent], *c;

	for (int i = 0; i < p->nkids; i++) {
		c = &jt[p->kids[i]];
		if (strlen(c->name) != len || memcmp(c->name, name, len) != 0)
			continue;
		if (field >= 0 || c->field >= 0)
			abort();	/* a name both a field and an object */
		return p->kids[i];
	}
	if (jt_n >= JT_MAX_NODES || p->nkids >= JT_MAX_KIDS ||
	    len >= sizeof(c->name))
		abort();	/* registry outgrew the table: a build-time bug */
	c = &jt[jt_n];
	memcpy(c->name, name, len);
	c->name[len] = '\0';
	/* registry names are identifiers: nothing in them to escape */
	memcpy(c->qkey, ",\"", 2);
	memcpy(c->qkey + 2, name, len);
	memcpy(c->qkey + 2 + len, "\":", 2);
	c->qlen = len + 4;
	c->field = field;
	c->nkids = 0;
	p->kids[p->nkids++] = jt_n;
	return jt_n++;
}

static void
jt_walk(int node, uint16_t *path, int depth, int *next)
{
	for (int i = 0; i < jt[node].nkids; i++) {
		int k = jt[node].kids[i], f = jt[k].field;

		if (depth >= JT_MAX_DEPTH - 1)
			abort();	/* registry outgrew the table */
		path[depth] = (uint16_t)k;
		if (f < 0) {
			jt_walk(k, path, depth + 1, next);
			continue;
		}
		jt_rank[f] = (uint16_t)*next;
		jt_leaf[(*next)++] = (int16_t)f;
		jt_depth[f] = (uint8_t)depth;
		memcpy(jt_path[f], path, ((size_t)depth + 1) * sizeof(*path));
	}
}

static void
jt_build(void)
{
	uint16_t path[JT_MAX_DEPTH];
	int next = 0, wl;

	jt_n = 1;
	jt[0].field = -1;
	for (int f = 0; f < SOC_F_COUNT; f++) {
		const char *name = soc_field_name(f), *dot;
		int node = 0;

		while ((dot = strchr(name, '.')) != NULL) {
			node = jt_child(node, name, (size_t)(dot - name), -1);
			name = dot + 1;
		}
		jt_child(node, name, strlen(name), f);
		jt_type[f] = (uint8_t)soc_field_type(f);
	}
	wl = jt_child(0, "winlog", 6, -1);
	jt_child(wl, "event_data", 10, JT_ED);
	jt_child(wl, "user_data", 9, JT_UD);
	jt_walk(0, path, 0, &next);
}

/* Fields to write: those present, plus soc.truncated for the flag. */
#define JT_WORDS	((JT_NF + 63) / 64)

/*
 * The object of the dynamic fields under one prefix (g: 'e' or 'u'),
 * its room taken once for all of them (names and values escaped: 6
 * bytes a byte at worst), each written with no check.
 */
static void
json_dyn(struct soc_sbuf *b, const struct soc_event *ev, int g,
    const struct jnode *k, size_t skip)
{
	size_t pl = g == 'e' ? sizeof(SOC_F_DYN_EVENT_DATA) - 1 :
	    sizeof(SOC_F_DYN_USER_DATA) - 1;
	size_t room = k->qlen + 3, nl;
	unsigned nd = soc_event_dyn_count(ev);
	const char *name;
	char *o;
	int n = 0;

	for (unsigned i = 0; i < nd; i++) {
		(void)soc_field_dyn_name(ev->dyn[i].id, &nl);
		room += 6 * (nl + ev->dyn[i].len) + 6;
	}
	if ((o = soc_sbuf_reserve(b, room)) == NULL)
		return;
	memcpy(o, k->qkey + skip, k->qlen - skip);
	o += k->qlen - skip;
	*o++ = '{';
	for (unsigned i = 0; i < nd; i++) {
		name = soc_field_dyn_name(ev->dyn[i].id, &nl);
		if (name[7] != g)	/* "winlog.e..." or "winlog.u..." */
			continue;
		if (n++ > 0)
			*o++ = ',';
		o = json_esc(o, name + pl, nl - pl);
		*o++ = ':';
		o = json_esc(o, ev->buf + ev->dyn[i].off, ev->dyn[i].len);
	}
	*o++ = '}';
	b->len = (size_t)(o - b->data);
	b->data[b->len] = '\0';
}

/*
 * The member for field f at o: its key (k, the first skip bytes left
 * out), then its value; o has room for JT_MEMBER_MAX and the value's
 * escaped text.  Returns the end.
 */
static char *
json_member(char *o, const struct soc_event *ev, int f, const struct jnode *k,
    size_t skip)
{
	size_t len;

	memcpy(o, k->qkey + skip, JT_QCOPY);	/* a constant size: no rep movs */
	o += k->qlen - skip;
	switch (jt_type[f]) {
	case SOC_T_STR:
		return json_esc(o, ev->buf + ev->val[f].s.off, ev->val[f].s.len);
	case SOC_T_INT:
		if (f == SOC_F_SOC_TRUNCATED) {	/* a mark: true/false */
			len = soc_event_truncated(ev) ? 4 : 5;
			memcpy(o, len == 4 ? "true" : "false", len);
			return o + len;
		}
		return soc_fmt_i64(o, ev->val[f].i);
	case SOC_T_TIME:		/* neither needs escaping: "%s" */
		*o++ = '"';
		o += soc_fmt_time(ev->val[f].i, o);
		*o++ = '"';
		return o;
	case SOC_T_IP:
		*o++ = '"';
		o += soc_fmt_ip(&ev->val[f].ip, o);
		*o++ = '"';
		return o;
	}
	return o;
}

/*
 * n (at most JT_MAX_DEPTH + 1) closing braces at o, as one store of 16
 * bytes (room for them is taken): a loop of `*o++ = '}'` becomes a call
 * to memset for a byte or two.
 */
static inline char *
json_close(char *o, int n)
{
	memcpy(o, "}}}}}}}}}}}}}}}}", 16);
	return o + n;
}

/*
 * Room for one member beyond its string's escaped text: its key, a value
 * other than a string (a time, an address: "..." and a NUL), and the
 * objects it opens (each key copied JT_QCOPY wide, and "{") and closes.
 */
#define JT_MEMBER_MAX	(JT_QCOPY + 64 + JT_MAX_DEPTH * (JT_QCOPY + 2))

/*
 * The members in the walk's order: close the objects the next field is
 * not in, open those it is in, write it.  A member after another gets its
 * comma with its key.  The room for the whole event is taken once (its
 * strings' worst case escaped: 6 bytes a byte), so the members are
 * written with no check each; the dynamic objects (rare) go through the
 * buffer and the room is taken again after them.
 */
void
soc_json_event(struct soc_sbuf *b, const struct soc_event *ev)
{
	uint64_t present[JT_WORDS] = { 0 }, ranked[JT_WORDS] = { 0 };
	uint16_t open[JT_MAX_DEPTH];
	size_t first = 0, room, strs = 0, nmem = 0;	/* @timestamp first */
	int nopen = 0;
	char *o;

	pthread_once(&jt_once, jt_build);
	/* the flag alone (an intake's mark) is written as the field would
	 * read, inside the one "soc" object with the other soc. fields */
	memcpy(present, ev->present, sizeof(ev->present));
	if (ev->flags & SOC_EV_TRUNCATED)
		present[SOC_F_SOC_TRUNCATED / 64] |=
		    (uint64_t)1 << (SOC_F_SOC_TRUNCATED % 64);
	for (unsigned i = 0; i < soc_event_dyn_count(ev); i++) {
		int g = soc_field_name(ev->dyn[i].id)[7] == 'e' ? JT_ED : JT_UD;

		present[g / 64] |= (uint64_t)1 << (g % 64);
	}
	for (int w = 0; w < JT_WORDS; w++)
		for (uint64_t m = present[w]; m != 0; m &= m - 1) {
			int f = w * 64 + __builtin_ctzll(m), r = jt_rank[f];

			ranked[r / 64] |= (uint64_t)1 << (r % 64);
			if (f < SOC_F_COUNT && jt_type[f] == SOC_T_STR)
				strs += ev->val[f].s.len;
			nmem++;
		}
	room = 16 + SOC_FMT_TIME_LEN + 2 + nmem * JT_MEMBER_MAX + 6 * strs +
	    16 + 1;		/* the last json_close() and the NUL */
	if ((o = soc_sbuf_reserve(b, room)) == NULL)
		return;
	memcpy(o, "{\"@timestamp\":\"", 15);
	o += 15;
	o += soc_fmt_time(ev->ts, o);
	*o++ = '"';
	for (int w = 0; w < JT_WORDS; w++)
		for (uint64_t m = ranked[w]; m != 0; m &= m - 1) {
			int f = jt_leaf[w * 64 + __builtin_ctzll(m)];
			int depth = jt_depth[f], same = 0;
			const uint16_t *path = jt_path[f];
			const struct jnode *k;

			while (same < nopen && same < depth &&
			    open[same] == path[same])
				same++;
			o = json_close(o, nopen - same);
			nopen = same;
			for (; nopen < depth; nopen++) {
				k = &jt[path[nopen]];
				memcpy(o, k->qkey + first, JT_QCOPY);
				o += k->qlen - first;
				*o++ = '{';
				open[nopen] = path[nopen];
				first = 1;
			}
			k = &jt[path[depth]];
			if (__builtin_expect(f >= SOC_F_COUNT, 0)) {
				b->len = (size_t)(o - b->data);
				json_dyn(b, ev, f == JT_ED ? 'e' : 'u', k, first);
				if ((o = soc_sbuf_reserve(b, room)) == NULL)
					return;
			} else
				o = json_member(o, ev, f, k, first);
			first = 0;
		}
	o = json_close(o, nopen + 1);
	b->len = (size_t)(o - b->data);
	b->data[b->len] = '\0';
}
