/*
 * The indicator push messages (format in intel-wire.h).  The encoder
 * appends into a struct soc_wbuf; the decoder reads hostile bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "intel-wire.h"

static int
reserve(struct soc_wbuf *b, size_t need)
{
	size_t cap;
	uint8_t *p;

	if (b->len + need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 65536;
	while (cap < b->len + need)
		cap *= 2;
	if ((p = realloc(b->data, cap)) == NULL)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

static void
put(struct soc_wbuf *b, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		b->data[b->len++] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void
patch(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int
intel_wire_kind(const void *data, size_t len)
{
	const uint8_t *p = data;

	if (len < INTEL_WIRE_HDR || memcmp(p, INTEL_WIRE_MAGIC, 4) != 0 ||
	    p[4] != 1)
		return -1;
	if (p[5] < INTEL_WIRE_OFFER || p[5] > INTEL_WIRE_CHUNK)
		return -1;
	return p[5];
}

static void
begin(struct soc_wbuf *b, int kind)
{
	b->len = 0;
	b->count = 0;
	if (reserve(b, INTEL_WIRE_HDR + 4) == -1)
		return;
	memcpy(b->data, INTEL_WIRE_MAGIC, 4);
	b->data[4] = 1;
	b->data[5] = (uint8_t)kind;
	b->data[6] = b->data[7] = 0;
	b->len = INTEL_WIRE_HDR;
}

static int
put_name(struct soc_wbuf *b, const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= INTEL_SOURCE_MAX || reserve(b, 1 + n) == -1)
		return -1;
	b->data[b->len++] = (uint8_t)n;
	memcpy(b->data + b->len, name, n);
	b->len += n;
	return 0;
}

void
intel_wire_sets_begin(struct soc_wbuf *b, enum intel_wire_kind kind)
{
	begin(b, kind);
	if (b->len == INTEL_WIRE_HDR)
		put(b, 0, 2);
}

int
intel_wire_sets_add(struct soc_wbuf *b, const char *name, uint64_t version)
{
	if (b->len < INTEL_WIRE_HDR + 2 || b->count >= INTEL_WIRE_SETS_MAX ||
	    put_name(b, name) == -1 || reserve(b, 8) == -1)
		return -1;
	put(b, version, 8);
	patch(b->data + INTEL_WIRE_HDR, ++b->count, 2);
	return 0;
}

static int
need(struct intel_wire_reader *r, size_t n, const char **why)
{
	if (r->left < n) {
		*why = "truncated";
		return -1;
	}
	return 0;
}

static uint64_t
take(struct intel_wire_reader *r, int n)
{
	uint64_t v = get(r->p, n);

	r->p += n;
	r->left -= (size_t)n;
	return v;
}

/* A set name: 1-127 bytes, printable ASCII or UTF-8, no blanks. */
static int
take_name(struct intel_wire_reader *r, char name[INTEL_SOURCE_MAX],
    const char **why)
{
	size_t n, i;

	if (need(r, 1, why) == -1)
		return -1;
	n = (size_t)take(r, 1);
	if (n == 0 || n >= INTEL_SOURCE_MAX) {
		*why = "bad set name length";
		return -1;
	}
	if (need(r, n, why) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (r->p[i] < 0x21 || r->p[i] == 0x7f) {
			*why = "set name not printable";
			return -1;
		}
	memcpy(name, r->p, n);
	name[n] = '\0';
	r->p += n;
	r->left -= n;
	return 0;
}

static int
open_kind(struct intel_wire_reader *r, const void *data, size_t len, int kind,
    const char **why)
{
	if (intel_wire_kind(data, len) != kind) {
		*why = "not an indicator message of that kind";
		return -1;
	}
	r->p = (const uint8_t *)data + INTEL_WIRE_HDR;
	r->left = len - INTEL_WIRE_HDR;
	r->remaining = 0;
	return 0;
}

int
intel_wire_sets_open(struct intel_wire_reader *r, const void *data,
    size_t len, const char **why)
{
	int k = intel_wire_kind(data, len);

	if (k != INTEL_WIRE_OFFER && k != INTEL_WIRE_STATE) {
		*why = "not an OFFER or STATE";
		return -1;
	}
	if (open_kind(r, data, len, k, why) == -1 || need(r, 2, why) == -1)
		return -1;
	r->remaining = (uint32_t)take(r, 2);
	if (r->remaining > INTEL_WIRE_SETS_MAX) {
		*why = "too many sets";
		return -1;
	}
	return 0;
}

int
intel_wire_sets_next(struct intel_wire_reader *r, char name[INTEL_SOURCE_MAX],
    uint64_t *version, const char **why)
{
	if (r->remaining == 0) {
		if (r->left != 0) {
			*why = "trailing bytes";
			return -1;
		}
		return 0;
	}
	if (take_name(r, name, why) == -1 || need(r, 8, why) == -1)
		return -1;
	*version = take(r, 8);
	r->remaining--;
	return 1;
}

void
intel_wire_chunk_begin(struct soc_wbuf *b, const struct intel_wire_chunk *c)
{
	begin(b, INTEL_WIRE_CHUNK);
	if (b->len != INTEL_WIRE_HDR || put_name(b, c->source) == -1 ||
	    reserve(b, 8 + 8 + 1 + 4 + 1 + 4) == -1) {
		b->len = 0;	/* add fails and says so */
		return;
	}
	put(b, c->from, 8);
	put(b, c->to, 8);
	put(b, c->full ? 1 : 0, 1);
	put(b, c->index, 4);
	put(b, c->last ? 1 : 0, 1);
	put(b, 0, 4);		/* count, patched */
}

int
intel_wire_chunk_add(struct soc_wbuf *b, int op, const struct intel_ind *ind)
{
	size_t vl = strlen(ind->value), tl = ind->tags ? strlen(ind->tags) : 0;

	if (b->len < INTEL_WIRE_HDR + 4 || vl == 0 || vl >= INTEL_VALUE_MAX ||
	    tl >= INTEL_TAGS_MAX ||
	    reserve(b, 3 + 24 + 2 + vl + 2 + tl) == -1)
		return -1;
	put(b, (uint64_t)op, 1);
	put(b, (uint64_t)ind->type, 1);
	put(b, (uint64_t)ind->confidence, 1);
	put(b, (uint64_t)ind->first_seen, 8);
	put(b, (uint64_t)ind->last_seen, 8);
	put(b, (uint64_t)ind->expires, 8);
	put(b, vl, 2);
	memcpy(b->data + b->len, ind->value, vl);
	b->len += vl;
	put(b, tl, 2);
	if (tl > 0)
		memcpy(b->data + b->len, ind->tags, tl);
	b->len += tl;
	b->count++;
	/* the count is the last 4 bytes of the chunk header */
	patch(b->data + INTEL_WIRE_HDR + 1 + b->data[INTEL_WIRE_HDR] + 22,
	    b->count, 4);
	return 0;
}

int
intel_wire_chunk_open(struct intel_wire_reader *r, const void *data,
    size_t len, struct intel_wire_chunk *c, const char **why)
{
	uint64_t full, last;

	memset(c, 0, sizeof(*c));
	if (open_kind(r, data, len, INTEL_WIRE_CHUNK, why) == -1 ||
	    take_name(r, c->source, why) == -1 || need(r, 26, why) == -1)
		return -1;
	c->from = take(r, 8);
	c->to = take(r, 8);
	full = take(r, 1);
	c->index = (uint32_t)take(r, 4);
	last = take(r, 1);
	c->count = (uint32_t)take(r, 4);
	if (full > 1 || last > 1) {
		*why = "bad flag";
		return -1;
	}
	c->full = (int)full;
	c->last = (int)last;
	if (c->to == 0 || c->to > INT64_MAX || (!c->full && c->from >= c->to)) {
		*why = "bad versions";
		return -1;
	}
	/* the smallest record is 32 bytes: a count beyond what is left lies */
	if (c->count > r->left / 32 + 1) {
		*why = "record count beyond the message";
		return -1;
	}
	r->remaining = c->count;
	return 0;
}

int
intel_wire_chunk_next(struct intel_wire_reader *r, int *op,
    struct intel_ind *ind, char value[INTEL_VALUE_MAX],
    char tags[INTEL_TAGS_MAX], const char **why)
{
	size_t vl, tl;
	uint64_t type, conf;

	if (r->remaining == 0) {
		if (r->left != 0) {
			*why = "trailing bytes";
			return -1;
		}
		return 0;
	}
	memset(ind, 0, sizeof(*ind));
	if (need(r, 3 + 24 + 2, why) == -1)
		return -1;
	*op = (int)take(r, 1);
	type = take(r, 1);
	conf = take(r, 1);
	ind->first_seen = (int64_t)take(r, 8);
	ind->last_seen = (int64_t)take(r, 8);
	ind->expires = (int64_t)take(r, 8);
	vl = (size_t)take(r, 2);
	if ((*op != INTEL_OP_ADD && *op != INTEL_OP_DEL) ||
	    type >= INTEL_TYPES || conf > 100 || ind->first_seen < 0 ||
	    ind->last_seen < 0 || ind->expires < 0) {
		*why = "bad record";
		return -1;
	}
	if (vl == 0 || vl >= INTEL_VALUE_MAX || need(r, vl + 2, why) == -1) {
		*why = vl == 0 || vl >= INTEL_VALUE_MAX ? "bad value length" : *why;
		return -1;
	}
	memcpy(value, r->p, vl);
	value[vl] = '\0';
	r->p += vl;
	r->left -= vl;
	tl = (size_t)take(r, 2);
	if (tl >= INTEL_TAGS_MAX || need(r, tl, why) == -1) {
		*why = tl >= INTEL_TAGS_MAX ? "tags too long" : *why;
		return -1;
	}
	memcpy(tags, r->p, tl);
	tags[tl] = '\0';
	r->p += tl;
	r->left -= tl;
	if (memchr(value, '\0', vl) != NULL || memchr(tags, '\0', tl) != NULL) {
		*why = "NUL in a value";
		return -1;
	}
	ind->type = (int)type;
	ind->confidence = (int)conf;
	ind->value = value;
	ind->tags = tags;
	r->remaining--;
	return 1;
}
