/*
 * The coverage record sent up (coverage-wire.h): encoder and decoder.
 */
#include <stdlib.h>
#include <string.h>

#include "soc/util.h"
#include "coverage-wire.h"

static void
put_u8(struct soc_sbuf *b, unsigned v)
{
	char c = (char)(v & 0xff);

	soc_sbuf_add(b, &c, 1);
}

static void
put_u64(struct soc_sbuf *b, uint64_t v)
{
	char p[8];
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (char)((v >> (8 * i)) & 0xff);
	soc_sbuf_add(b, p, 8);
}

/*
 * A string cut to max bytes (at a UTF-8 boundary) with its length; a
 * control byte (a reason may carry an assessor's free text) is sent as a
 * space, since the decoder refuses one and would lose the whole record.
 */
static void
put_str(struct soc_sbuf *b, const char *s, size_t max)
{
	size_t n = strlen(s);
	char *o;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	put_u8(b, (unsigned)n);
	if ((o = soc_sbuf_reserve(b, n)) == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		o[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	b->len += n;
	b->data[b->len] = '\0';
}

void
cov_wire_begin(struct soc_sbuf *b)
{
	soc_sbuf_reset(b);
	soc_sbuf_add(b, COV_WIRE_MAGIC, 4);
	put_u8(b, 1);
	put_u8(b, COV_WIRE_REPORT);
	put_u8(b, 0);
	put_u8(b, 0);
	put_u8(b, 0);		/* count, patched by cov_wire_end() */
	put_u8(b, 0);
}

int
cov_wire_add(struct soc_sbuf *b, const struct store_coverage *c)
{
	unsigned n;
	size_t start = b->len;
	int l;

	if (b->oom || b->len < COV_WIRE_HDR + 2)
		return -1;
	n = (unsigned char)b->data[COV_WIRE_HDR] |
	    (unsigned)(unsigned char)b->data[COV_WIRE_HDR + 1] << 8;
	if (n >= COV_WIRE_AGENCIES || strlen(c->agency) > 63 ||
	    strlen(c->parent) > 63)
		return -1;
	put_str(b, c->agency, 63);
	put_str(b, c->name, 255);
	put_str(b, c->parent, 63);
	for (l = 0; l < STORE_LAYERS; l++) {
		put_u8(b, (unsigned)c->state[l]);
		put_str(b, c->reason[l], COV_WIRE_REASON);
	}
	put_u64(b, (uint64_t)c->ep_declared);
	put_u64(b, c->ep_reporting);
	put_u64(b, c->ep_protected);
	if (b->oom || b->len > COV_WIRE_MAX) {
		b->len = start;
		return -1;
	}
	n++;
	b->data[COV_WIRE_HDR] = (char)(n & 0xff);
	b->data[COV_WIRE_HDR + 1] = (char)(n >> 8);
	return 0;
}

int
cov_wire_is(const void *data, size_t len)
{
	return len >= 4 && memcmp(data, COV_WIRE_MAGIC, 4) == 0;
}

struct rd {
	const uint8_t	*p, *end;
};

static int
get_u8(struct rd *r, unsigned *v)
{
	if (r->end - r->p < 1)
		return -1;
	*v = *r->p++;
	return 0;
}

static int
get_u64(struct rd *r, uint64_t *v)
{
	int i;

	if (r->end - r->p < 8)
		return -1;
	*v = 0;
	for (i = 0; i < 8; i++)
		*v |= (uint64_t)r->p[i] << (8 * i);
	r->p += 8;
	return 0;
}

/* A length-prefixed string of at most cap - 1 bytes, no control bytes. */
static int
get_str(struct rd *r, char *out, size_t cap, const char **why)
{
	unsigned n, i;

	if (get_u8(r, &n) == -1 || (size_t)(r->end - r->p) < n) {
		*why = "truncated";
		return -1;
	}
	if (n >= cap) {
		*why = "a string too long";
		return -1;
	}
	for (i = 0; i < n; i++)
		if (r->p[i] < 0x20 || r->p[i] == 0x7f) {
			*why = "a control byte in a string";
			return -1;
		}
	memcpy(out, r->p, n);
	out[n] = '\0';
	r->p += n;
	return 0;
}

static int
get_agency(struct rd *r, struct cov_wire_agency *a, const char **why)
{
	unsigned st;
	uint64_t v;
	int l;

	if (get_str(r, a->code, sizeof(a->code), why) == -1 ||
	    get_str(r, a->name, sizeof(a->name), why) == -1 ||
	    get_str(r, a->parent, sizeof(a->parent), why) == -1)
		return -1;
	if (!soc_code_ok(a->code)) {
		*why = "an invalid agency code";
		return -1;
	}
	if (a->parent[0] != '\0' && !soc_code_ok(a->parent)) {
		*why = "an invalid parent code";
		return -1;
	}
	a->covered = 1;
	for (l = 0; l < STORE_LAYERS; l++) {
		if (get_u8(r, &st) == -1) {
			*why = "truncated";
			return -1;
		}
		if (st > STORE_LAYER_MISSING) {
			*why = "a layer state out of range";
			return -1;
		}
		a->state[l] = (int)st;
		if (st != STORE_LAYER_OK)
			a->covered = 0;
		if (get_str(r, a->reason[l], sizeof(a->reason[l]), why) == -1)
			return -1;
	}
	if (get_u64(r, &v) == -1 || get_u64(r, &a->ep_reporting) == -1 ||
	    get_u64(r, &a->ep_protected) == -1) {
		*why = "truncated";
		return -1;
	}
	a->ep_declared = (int64_t)v;
	if (a->ep_declared < -1 || a->ep_reporting > INT64_MAX ||
	    a->ep_protected > a->ep_reporting) {
		*why = "computer counts out of range";
		return -1;
	}
	return 0;
}

int
cov_wire_decode(const void *data, size_t len, struct cov_wire_agency **out,
    size_t *n, const char **why)
{
	struct cov_wire_agency *a = NULL;
	struct rd r;
	unsigned lo, hi, count, i;

	*out = NULL;
	*n = 0;
	if (len < COV_WIRE_HDR + 2 || !cov_wire_is(data, len)) {
		*why = "malformed header";
		return -1;
	}
	if (len > COV_WIRE_MAX) {
		*why = "too large";
		return -1;
	}
	r.p = (const uint8_t *)data + 4;
	r.end = (const uint8_t *)data + len;
	if (r.p[0] != 1 || r.p[1] != COV_WIRE_REPORT || r.p[2] != 0 ||
	    r.p[3] != 0) {
		*why = "unknown version or kind";
		return -1;
	}
	r.p += 4;
	get_u8(&r, &lo);
	get_u8(&r, &hi);
	count = lo | hi << 8;
	/* each agency takes at least 35 bytes: no allocation for a claim */
	if (count > COV_WIRE_AGENCIES || (size_t)(r.end - r.p) < count * 35u) {
		*why = "too many agencies";
		return -1;
	}
	if (count > 0 && (a = calloc(count, sizeof(*a))) == NULL) {
		*why = "out of memory";
		return -1;
	}
	for (i = 0; i < count; i++)
		if (get_agency(&r, &a[i], why) == -1)
			goto fail;
	if (r.p != r.end) {
		*why = "bytes after the last agency";
		goto fail;
	}
	*out = a;
	*n = count;
	return 0;
fail:
	free(a);
	return -1;
}
