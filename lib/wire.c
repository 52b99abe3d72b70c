/*
 * Wire codec for event batches (format in wire.h).  The encoder appends
 * into a reusable buffer; the decoder is written for hostile input: it
 * checks every length against the bytes left before reading, refuses
 * types that do not fit the field, and reports a reason instead of
 * asserting.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "soc/wire.h"

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) |
	    ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | ((uint64_t)get32(p + 4) << 32);
}

void
soc_wbuf_init(struct soc_wbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void
soc_wbuf_free(struct soc_wbuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static int
wbuf_reserve(struct soc_wbuf *b, size_t need)
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

void
soc_wire_begin(struct soc_wbuf *b, enum soc_wire_kind kind, uint64_t seq)
{
	b->len = 0;
	b->count = 0;
	if (wbuf_reserve(b, SOC_WIRE_HDR_LEN) == -1)
		return;		/* add_* will fail and report it */
	memcpy(b->data, SOC_WIRE_MAGIC, 4);
	b->data[4] = SOC_WIRE_VERSION;
	b->data[5] = (uint8_t)kind;
	put16(b->data + 6, 0);
	put64(b->data + 8, seq);
	put32(b->data + 16, 0);
	put64(b->data + 20, 0);
	b->len = SOC_WIRE_HDR_LEN;
}

void
soc_wire_set_seq(uint8_t *batch, size_t len, uint64_t seq)
{
	if (len >= SOC_WIRE_HDR_LEN)
		put64(batch + 8, seq);
}

void
soc_wire_set_prev(uint8_t *batch, size_t len, uint64_t prev)
{
	if (len >= SOC_WIRE_HDR_LEN)
		put64(batch + 20, prev);
}

/* Field types, local so the encoder's loop inlines them. */
static const uint8_t ftype[SOC_F_COUNT] = {
#define SOC_X_TYPE(id, name, type) [SOC_F_##id] = type,
	SOC_FIELDS(SOC_X_TYPE)
#undef SOC_X_TYPE
};

/* A record's fields up to this size are decoded in place (next_event). */
#define SOC_WIRE_INPLACE_MAX	(SOC_EVENT_BUFSZ - 2048)

static size_t
field_size(const struct soc_event *ev, int f)
{
	switch (ftype[f]) {
	case SOC_T_STR:
		return ev->val[f].s.len;
	case SOC_T_INT:
	case SOC_T_TIME:
		return 8;
	case SOC_T_IP:
		return ev->val[f].ip.family == 4 ? 4 : 16;
	}
	return 0;
}

/* Calls fn for each field present, in id order, walking only set bits. */
#define FOREACH_PRESENT(ev, f)						\
	for (size_t w_ = 0; w_ < sizeof((ev)->present) / 8; w_++)		\
		for (uint64_t m_ = (ev)->present[w_]; m_ != 0; m_ &= m_ - 1)	\
			for (int f = (int)(w_ * 64) + __builtin_ctzll(m_), o_ = 1; \
			    o_; o_ = 0)

int
soc_wire_add_event(struct soc_wbuf *b, const struct soc_event *ev)
{
	size_t need = 4 + 8 + 2;
	uint16_t nfields = 0;
	uint8_t *p;
	/* the flag alone (set by an intake) still travels, as the field */
	bool mark = (ev->flags & SOC_EV_TRUNCATED) &&
	    !soc_event_has(ev, SOC_F_SOC_TRUNCATED);

	if (b->len < SOC_WIRE_HDR_LEN)
		return -1;
	FOREACH_PRESENT(ev, f) {
		if (soc_field_derived(f))
			continue;	/* the reader derives it again */
		need += 4 + field_size(ev, f);
		nfields++;
	}
	if (mark) {
		need += 4 + 8;
		nfields++;
	}
	for (uint32_t i = 0; i < ev->ndyn; i++) {
		size_t nl;

		(void)soc_field_dyn_name(ev->dyn[i].id, &nl);
		need += 4 + 1 + nl + ev->dyn[i].len;
		nfields++;
	}
	if (wbuf_reserve(b, need) == -1)
		return -1;
	p = b->data + b->len;
	put32(p, (uint32_t)(need - 4));
	put64(p + 4, (uint64_t)ev->ts);
	put16(p + 12, nfields);
	p += 14;
	FOREACH_PRESENT(ev, f) {
		size_t n = field_size(ev, f);

		if (soc_field_derived(f))
			continue;
		put16(p, (uint16_t)f);
		put16(p + 2, (uint16_t)n);
		p += 4;
		switch (ftype[f]) {
		case SOC_T_STR:
			memcpy(p, ev->buf + ev->val[f].s.off, n);
			break;
		case SOC_T_INT:
		case SOC_T_TIME:
			put64(p, (uint64_t)ev->val[f].i);
			break;
		case SOC_T_IP:
			memcpy(p, ev->val[f].ip.addr, n);
			break;
		}
		p += n;
	}
	if (mark) {
		put16(p, SOC_F_SOC_TRUNCATED);
		put16(p + 2, 8);
		put64(p + 4, 1);
		p += 12;
	}
	/* dynamic fields by name: ids are this process's own */
	for (uint32_t i = 0; i < ev->ndyn; i++) {
		size_t nl, n = ev->dyn[i].len;
		const char *name = soc_field_dyn_name(ev->dyn[i].id, &nl);

		put16(p, SOC_WIRE_NAMED);
		put16(p + 2, (uint16_t)(1 + nl + n));
		p[4] = (uint8_t)nl;
		memcpy(p + 5, name, nl);
		memcpy(p + 5 + nl, ev->buf + ev->dyn[i].off, n);
		p += 5 + nl + n;
	}
	b->len += need;
	put32(b->data + 16, ++b->count);
	return 0;
}

int
soc_wire_add_counter(struct soc_wbuf *b, const char *name, uint64_t v)
{
	size_t nlen = strlen(name);

	if (b->len < SOC_WIRE_HDR_LEN)
		return -1;
	if (nlen > 255)
		nlen = 255;
	if (wbuf_reserve(b, 1 + nlen + 8) == -1)
		return -1;
	b->data[b->len] = (uint8_t)nlen;
	memcpy(b->data + b->len + 1, name, nlen);
	put64(b->data + b->len + 1 + nlen, v);
	b->len += 1 + nlen + 8;
	put32(b->data + 16, ++b->count);
	return 0;
}

int
soc_wire_add_blob(struct soc_wbuf *b, const void *data, size_t len)
{
	if (b->len < SOC_WIRE_HDR_LEN || len > SOC_WIRE_MAX_BATCH)
		return -1;
	if (wbuf_reserve(b, 4 + len) == -1)
		return -1;
	put32(b->data + b->len, (uint32_t)len);
	if (len > 0)
		memcpy(b->data + b->len + 4, data, len);
	b->len += 4 + len;
	put32(b->data + 16, ++b->count);
	return 0;
}

int
soc_wire_add_record(struct soc_wbuf *b, const void *rec, size_t len)
{
	if (b->len < SOC_WIRE_HDR_LEN || wbuf_reserve(b, len) == -1)
		return -1;
	memcpy(b->data + b->len, rec, len);
	b->len += len;
	put32(b->data + 16, ++b->count);
	return 0;
}

int
soc_wire_open(struct soc_wire_reader *r, const void *data, size_t len,
    struct soc_wire_hdr *hdr, const char **why)
{
	const uint8_t *p = data;

	memset(r, 0, sizeof(*r));
	if (len < SOC_WIRE_HDR_LEN) {
		*why = "batch shorter than its header";
		return -1;
	}
	if (len > SOC_WIRE_MAX_BATCH) {
		*why = "batch larger than the limit";
		return -1;
	}
	if (memcmp(p, SOC_WIRE_MAGIC, 4) != 0) {
		*why = "bad magic (not a soc batch)";
		return -1;
	}
	hdr->version = p[4];
	hdr->kind = p[5];
	hdr->seq = get64(p + 8);
	hdr->count = get32(p + 16);
	hdr->prev = get64(p + 20);
	if (hdr->version != SOC_WIRE_VERSION) {
		*why = "unsupported wire version";
		return -1;
	}
	if (hdr->kind != SOC_WIRE_EVENTS && hdr->kind != SOC_WIRE_HEARTBEAT &&
	    hdr->kind != SOC_WIRE_ALERTS) {
		*why = "unknown batch kind";
		return -1;
	}
	r->p = p + SOC_WIRE_HDR_LEN;
	r->left = len - SOC_WIRE_HDR_LEN;
	r->remaining = hdr->count;
	r->kind = hdr->kind;
	return 0;
}

/*
 * One field into ev; with ev NULL, only checked (soc_wire_validate).
 * With base, the record's fields from base are in ev->buf already: a
 * string is set where it lies there, not copied.
 */
static int
read_field(struct soc_event *ev, const uint8_t *base, uint16_t id,
    const uint8_t *v, uint16_t n, uint64_t *unknown, const char **why)
{
	struct soc_ip ip;
	int f;

	if (id == SOC_WIRE_NAMED) {
		if (n < 1 || v[0] == 0 || v[0] > n - 1) {
			*why = "named field: bad name length";
			return -1;
		}
		if (ev == NULL)
			return 0;
		if ((f = soc_field_intern((const char *)v + 1, v[0])) ==
		    SOC_F_NONE) {
			(*unknown)++;	/* another prefix, or a full table */
			return 0;
		}
		if (base != NULL)
			soc_event_set_str_in(ev, f,
			    (size_t)(v + 1 + v[0] - base), (size_t)(n - 1 - v[0]));
		else
			soc_event_set_str(ev, f, (const char *)v + 1 + v[0],
			    (size_t)(n - 1 - v[0]));
		return 0;
	}
	if (id >= SOC_F_COUNT) {
		(*unknown)++;
		return 0;
	}
	if (soc_field_derived(id))
		return 0;	/* never written: derived from its integer */
	switch (ftype[id]) {
	case SOC_T_STR:
		if (ev != NULL && base != NULL)
			soc_event_set_str_in(ev, id, (size_t)(v - base), n);
		else if (ev != NULL)
			soc_event_set_str(ev, id, (const char *)v, n);
		return 0;
	case SOC_T_INT:
	case SOC_T_TIME:
		if (n != 8)
			break;
		if (ev == NULL)
			return 0;
		soc_event_set_int(ev, id, (int64_t)get64(v));
		if (id == SOC_F_SOC_TRUNCATED && get64(v) != 0)
			ev->flags |= SOC_EV_TRUNCATED;
		return 0;
	case SOC_T_IP:
		if (n != 4 && n != 16)
			break;
		if (ev == NULL)
			return 0;
		memset(&ip, 0, sizeof(ip));
		ip.family = n == 4 ? 4 : 6;
		memcpy(ip.addr, v, n);
		soc_event_set_ip(ev, id, &ip);
		return 0;
	}
	*why = "field value length does not fit its type";
	return -1;
}

/* The next event into ev, or with ev NULL only checked. */
static int
next_event(struct soc_wire_reader *r, struct soc_event *ev, const char **why)
{
	const uint8_t *p, *base = NULL;
	uint32_t elen;
	uint16_t nf;

	if (r->kind != SOC_WIRE_EVENTS) {
		*why = "not an event batch";
		return -1;
	}
	if (r->remaining == 0) {
		if (r->left != 0) {
			*why = "trailing bytes after the last record";
			return -1;
		}
		return 0;
	}
	if (r->left < 4 + 8 + 2) {
		*why = "event header truncated";
		return -1;
	}
	elen = get32(r->p);
	if (elen < 8 + 2 || elen > r->left - 4) {
		*why = "event length exceeds the batch";
		return -1;
	}
	p = r->p + 4;
	if (ev != NULL) {
		soc_event_reset(ev);
		ev->ts = (int64_t)get64(p);
	}
	nf = get16(p + 8);
	p += 10;
	elen -= 10;
	/*
	 * The record's fields copied at once (headers and all) and strings
	 * set where they lie: one copy instead of one a field.  Not for a
	 * record near the buffer's size, so what the correlator adds to an
	 * event (its enrichment) still has the room it had.
	 */
	if (ev != NULL && elen <= SOC_WIRE_INPLACE_MAX) {
		memcpy(ev->buf, p, elen);
		ev->buf_len = elen;
		base = p;
	}
	for (uint16_t i = 0; i < nf; i++) {
		uint16_t id, n;

		if (elen < 4) {
			*why = "field header truncated";
			return -1;
		}
		id = get16(p);
		n = get16(p + 2);
		if (n > elen - 4) {
			*why = "field length exceeds the event";
			return -1;
		}
		if (read_field(ev, base, id, p + 4, n, &r->unknown_fields,
		    why) == -1)
			return -1;
		p += 4 + n;
		elen -= 4 + (uint32_t)n;
	}
	if (elen != 0) {
		*why = "event length does not match its fields";
		return -1;
	}
	r->left -= (size_t)(p - r->p);
	r->p = p;
	r->remaining--;
	return 1;
}

int
soc_wire_next_event(struct soc_wire_reader *r, struct soc_event *ev,
    const char **why)
{
	return next_event(r, ev, why);
}

int
soc_wire_next_counter(struct soc_wire_reader *r, char name[256], uint64_t *v,
    const char **why)
{
	size_t n;

	if (r->kind != SOC_WIRE_HEARTBEAT) {
		*why = "not a heartbeat batch";
		return -1;
	}
	if (r->remaining == 0) {
		if (r->left != 0) {
			*why = "trailing bytes after the last record";
			return -1;
		}
		return 0;
	}
	if (r->left < 1) {
		*why = "counter truncated";
		return -1;
	}
	n = r->p[0];
	if (r->left < 1 + n + 8) {
		*why = "counter truncated";
		return -1;
	}
	memcpy(name, r->p + 1, n);
	name[n] = '\0';
	*v = get64(r->p + 1 + n);
	r->p += 1 + n + 8;
	r->left -= 1 + n + 8;
	r->remaining--;
	return 1;
}

int
soc_wire_next_blob(struct soc_wire_reader *r, const void **data, size_t *len,
    const char **why)
{
	uint32_t n;

	if (r->kind != SOC_WIRE_ALERTS) {
		*why = "not an alert batch";
		return -1;
	}
	if (r->remaining == 0) {
		if (r->left != 0) {
			*why = "trailing bytes after the last record";
			return -1;
		}
		return 0;
	}
	if (r->left < 4) {
		*why = "blob header truncated";
		return -1;
	}
	n = get32(r->p);
	if (n > r->left - 4) {
		*why = "blob length exceeds the batch";
		return -1;
	}
	*data = r->p + 4;
	*len = n;
	r->p += 4 + (size_t)n;
	r->left -= 4 + (size_t)n;
	r->remaining--;
	return 1;
}

/* Checks every length and type without copying anything out: the
 * correlator validates a whole batch before applying any of it. */
int
soc_wire_validate(const void *data, size_t len, const char **why)
{
	struct soc_wire_reader r;
	struct soc_wire_hdr hdr;
	char name[256];
	const void *blob;
	size_t blen;
	uint64_t v;
	int rc;

	if (soc_wire_open(&r, data, len, &hdr, why) == -1)
		return -1;
	do {
		if (hdr.kind == SOC_WIRE_EVENTS)
			rc = next_event(&r, NULL, why);
		else if (hdr.kind == SOC_WIRE_ALERTS)
			rc = soc_wire_next_blob(&r, &blob, &blen, why);
		else
			rc = soc_wire_next_counter(&r, name, &v, why);
	} while (rc == 1);
	return rc;
}

void
soc_wire_ack_encode(uint8_t out[SOC_WIRE_ACK_LEN], uint64_t seq,
    enum soc_wire_reply kind)
{
	memcpy(out, SOC_WIRE_ACK_MAGIC, 4);
	out[4] = SOC_WIRE_VERSION;
	out[5] = (uint8_t)kind;
	out[6] = out[7] = 0;
	put64(out + 8, seq);
}

int
soc_wire_ack_decode(const void *data, size_t len, uint64_t *seq)
{
	const uint8_t *p = data;

	if (len != SOC_WIRE_ACK_LEN || memcmp(p, SOC_WIRE_ACK_MAGIC, 4) != 0 ||
	    p[4] != SOC_WIRE_VERSION || p[5] > SOC_WIRE_NACK)
		return -1;
	*seq = get64(p + 8);
	return p[5];
}
