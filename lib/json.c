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

void
soc_sbuf_add(struct soc_sbuf *b, const char *s, size_t len)
{
	if (!sbuf_grow(b, len))
		return;
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
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

void
soc_sbuf_json_str(struct soc_sbuf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, n;
	char esc[8];

	soc_sbuf_add(b, "\"", 1);
	while (i < len) {
		unsigned char c = p[i];
		const char *e = NULL;
		size_t elen = 2;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			run++;
			continue;
		}
		if (c >= 0x80 && (n = soc_utf8_seq(p + i, len - i)) > 0) {
			i += n;
			run += n;
			continue;
		}
		soc_sbuf_add(b, (const char *)p + i - run, run);
		run = 0;
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			/* control byte or invalid UTF-8: keep its value visibly */
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			e = esc;
			elen = 6;
		}
		soc_sbuf_add(b, e, elen);
		i++;
	}
	soc_sbuf_add(b, (const char *)p + i - run, run);
	soc_sbuf_add(b, "\"", 1);
}

/*
 * Prefix tree of the registry.  Node 0 is the root; a node is either an
 * object (children) or a leaf (a field id).  Children are kept in
 * registry order, so output order is stable.
 */
#define JT_MAX_NODES	256
#define JT_MAX_KIDS	24

struct jnode {
	char		name[32];
	int		field;		/* leaf: field id; object: -1 */
	int		nkids;
	int		kids[JT_MAX_KIDS];
	uint64_t	mask[(SOC_F_COUNT + 63) / 64];	/* fields beneath */
};

static struct jnode	jt[JT_MAX_NODES];
static int		jt_n;
static pthread_once_t	jt_once = PTHREAD_ONCE_INIT;

static int
jt_child(int parent, const char *name, size_t len, int field)
{
	struct jnode *p = &jt[parent], *c;

	for (int i = 0; i < p->nkids; i++) {
		c = &jt[p->kids[i]];
		if (strlen(c->name) == len && memcmp(c->name, name, len) == 0)
			return p->kids[i];
	}
	if (jt_n >= JT_MAX_NODES || p->nkids >= JT_MAX_KIDS ||
	    len >= sizeof(c->name))
		abort();	/* registry outgrew the table: a build-time bug */
	c = &jt[jt_n];
	memcpy(c->name, name, len);
	c->name[len] = '\0';
	c->field = field;
	c->nkids = 0;
	p->kids[p->nkids++] = jt_n;
	return jt_n++;
}

static void
jt_build(void)
{
	jt_n = 1;
	jt[0].field = -1;
	for (int f = 0; f < SOC_F_COUNT; f++) {
		const char *name = soc_field_name(f), *dot;
		int node = 0;

		jt[0].mask[f / 64] |= (uint64_t)1 << (f % 64);
		while ((dot = strchr(name, '.')) != NULL) {
			node = jt_child(node, name, (size_t)(dot - name), -1);
			jt[node].mask[f / 64] |= (uint64_t)1 << (f % 64);
			name = dot + 1;
		}
		node = jt_child(node, name, strlen(name), f);
		jt[node].mask[f / 64] |= (uint64_t)1 << (f % 64);
	}
}

/* Fields to write: those present, plus soc.truncated for the flag. */
#define JT_WORDS	((SOC_F_COUNT + 63) / 64)

static bool
jt_any(const struct jnode *n, const uint64_t *present)
{
	for (size_t i = 0; i < JT_WORDS; i++)
		if (n->mask[i] & present[i])
			return true;
	return false;
}

static void
json_value(struct soc_sbuf *b, const struct soc_event *ev, int f)
{
	char tmp[64];
	const char *s;
	size_t len;

	switch (soc_field_type(f)) {
	case SOC_T_STR:
		s = soc_event_str(ev, f, &len);
		soc_sbuf_json_str(b, s, len);
		break;
	case SOC_T_INT:
		if (f == SOC_F_SOC_TRUNCATED)	/* a mark: true/false */
			soc_sbuf_adds(b, soc_event_truncated(ev) ? "true" :
			    "false");
		else
			soc_sbuf_printf(b, "%lld", (long long)ev->val[f].i);
		break;
	case SOC_T_TIME:
	case SOC_T_IP:
		soc_event_text(ev, f, tmp, sizeof(tmp));
		soc_sbuf_json_str(b, tmp, strlen(tmp));
		break;
	}
}

static void
json_node(struct soc_sbuf *b, const struct soc_event *ev,
    const uint64_t *present, int node)
{
	bool first = true;

	soc_sbuf_add(b, "{", 1);
	for (int i = 0; i < jt[node].nkids; i++) {
		const struct jnode *k = &jt[jt[node].kids[i]];

		if (!jt_any(k, present))
			continue;
		if (!first)
			soc_sbuf_add(b, ",", 1);
		first = false;
		soc_sbuf_json_str(b, k->name, strlen(k->name));
		soc_sbuf_add(b, ":", 1);
		if (k->field >= 0)
			json_value(b, ev, k->field);
		else
			json_node(b, ev, present, jt[node].kids[i]);
	}
	soc_sbuf_add(b, "}", 1);
}

void
soc_json_event(struct soc_sbuf *b, const struct soc_event *ev)
{
	uint64_t present[JT_WORDS];
	char ts[48];

	pthread_once(&jt_once, jt_build);
	/* the flag alone (an intake's mark) is written as the field would
	 * read, inside the one "soc" object with the other soc. fields */
	memcpy(present, ev->present, sizeof(present));
	if (ev->flags & SOC_EV_TRUNCATED)
		present[SOC_F_SOC_TRUNCATED / 64] |=
		    (uint64_t)1 << (SOC_F_SOC_TRUNCATED % 64);
	soc_time_format(ev->ts, ts, sizeof(ts));
	soc_sbuf_add(b, "{\"@timestamp\":", 14);
	soc_sbuf_json_str(b, ts, strlen(ts));
	if (jt_any(&jt[0], present)) {
		/* splice the root object's members after @timestamp */
		size_t at = b->len;

		json_node(b, ev, present, 0);
		if (b->oom)
			return;
		b->data[at] = ',';
		b->len--;		/* drop the root's closing brace... */
		b->data[b->len] = '\0';
	}
	soc_sbuf_add(b, "}", 1);	/* ...and close once */
}
