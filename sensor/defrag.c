/*
 * IPv4 and IPv6 fragment reassembly with bounded memory.
 *
 * A fixed pool of pkt_config.frag_max datagram slots is allocated at
 * pkt_new(); each slot has room for the largest datagram (64 KB of
 * payload behind room for the IP header) and a coverage map in 8-byte
 * units (fragment offsets are multiples of 8).  The pages of a slot are
 * touched only when it is used.  A datagram is keyed by addresses, IP id
 * and (IPv4) protocol; it is given up frag_timeout_ns after its first
 * fragment, on packet time, and when the pool is full the oldest one
 * makes room (counted).
 *
 * Fragments that contradict each other are never used: an overlap with
 * different bytes, a second last fragment with another length, data
 * beyond the end a last fragment set, a datagram beyond 65535 bytes or a
 * non-final fragment whose length is not a multiple of 8 make one
 * anomaly event (network.anomaly, event.action ip_fragment_overlap,
 * ip_fragment_inconsistent or ip_fragment_too_big) and mark the datagram
 * bad: its remaining fragments are swallowed until it times out.  An
 * overlap that repeats the same bytes (a retransmission) is harmless.
 *
 * A complete datagram is rebuilt behind the header of its first
 * fragment (for IPv6 the fixed header, with the fragment header's next
 * header and without the extension headers that preceded it) and goes
 * through decode_ipv4()/decode_ipv6() like any packet.  A fragment
 * inside a reassembled datagram is malformed (no nesting).
 */
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "soc/util.h"

#define FRAG_ROOM		64		/* header room before the payload */
#define FRAG_PAYLOAD_MAX	65535
#define FRAG_UNITS		((FRAG_PAYLOAD_MAX + 8) / 8)
#define FRAG_SLOT_SIZE		(FRAG_ROOM + FRAG_PAYLOAD_MAX + 1 + FRAG_UNITS / 8)
#define DEFAULT_FRAG_MAX	64
#define DEFAULT_FRAG_TIMEOUT	(30 * SOC_NS)

enum { F_FREE, F_OPEN, F_BAD };

struct frag_dgram {
	uint8_t		 state;		/* F_* */
	uint8_t		 family;
	uint8_t		 proto;		/* IPv4 key; IPv6: from fragment 0 */
	uint8_t		 have_last;
	uint8_t		 hlen;		/* stored header (0 = no fragment 0) */
	uint32_t	 id;
	uint8_t		 src[16], dst[16];
	int64_t		 first;		/* packet time of the first fragment */
	uint32_t	 total;		/* payload length, once have_last */
	uint32_t	 max_end;	/* highest end of any fragment */
	uint32_t	 units;		/* 8-byte units covered */
	uint8_t		*buf;		/* FRAG_SLOT_SIZE bytes */
};

int
frag_init(struct frag_table *t, const struct pkt_config *cfg)
{
	uint8_t *mem;

	t->size = cfg->frag_max > 0 ? cfg->frag_max : DEFAULT_FRAG_MAX;
	t->timeout = cfg->frag_timeout_ns > 0 ? cfg->frag_timeout_ns :
	    DEFAULT_FRAG_TIMEOUT;
	t->used = 0;
	t->pool = calloc(t->size, sizeof(*t->pool));
	mem = calloc(t->size, FRAG_SLOT_SIZE);	/* untouched pages cost nothing */
	if (t->pool == NULL || mem == NULL) {
		free(t->pool);
		free(mem);
		t->pool = NULL;
		return -1;
	}
	for (uint32_t i = 0; i < t->size; i++)
		t->pool[i].buf = mem + (size_t)i * FRAG_SLOT_SIZE;
	return 0;
}

void
frag_free(struct frag_table *t)
{
	if (t->pool != NULL)
		free(t->pool[0].buf);
	free(t->pool);
	t->pool = NULL;
}

static uint8_t *
slot_map(struct frag_dgram *d)
{
	return d->buf + FRAG_ROOM + FRAG_PAYLOAD_MAX + 1;
}

static void
slot_release(struct frag_table *t, struct frag_dgram *d)
{
	memset(slot_map(d), 0, FRAG_UNITS / 8);
	d->state = F_FREE;
	t->used--;
}

void
frag_expire(struct pkt_ctx *ctx, int64_t now)
{
	struct frag_table *t = &ctx->frag;

	for (uint32_t i = 0; i < t->size && t->used > 0; i++) {
		struct frag_dgram *d = &t->pool[i];

		if (d->state == F_FREE || now < d->first ||
		    (uint64_t)now - (uint64_t)d->first < (uint64_t)t->timeout)
			continue;
		if (d->state == F_OPEN)
			ctx->stats.frag_timeouts++;
		slot_release(t, d);
	}
}

/* The slot of a datagram, a new one (evicting the oldest), never NULL. */
static struct frag_dgram *
slot_get(struct pkt_ctx *ctx, uint8_t family, uint8_t proto,
    const uint8_t *src, const uint8_t *dst, uint32_t id)
{
	struct frag_table *t = &ctx->frag;
	struct frag_dgram *d, *free_slot = NULL, *oldest = NULL;
	size_t alen = family == 4 ? 4 : 16;

	frag_expire(ctx, ctx->now);
	for (uint32_t i = 0; i < t->size; i++) {
		d = &t->pool[i];
		if (d->state == F_FREE) {
			if (free_slot == NULL)
				free_slot = d;
			continue;
		}
		if (d->family == family && d->id == id &&
		    (family == 6 || d->proto == proto) &&
		    memcmp(d->src, src, alen) == 0 &&
		    memcmp(d->dst, dst, alen) == 0)
			return d;
		if (oldest == NULL || d->first < oldest->first)
			oldest = d;
	}
	if (free_slot == NULL) {
		ctx->stats.frag_evicted++;
		slot_release(t, oldest);
		free_slot = oldest;
	}
	d = free_slot;
	d->state = F_OPEN;
	d->family = family;
	d->proto = proto;
	d->id = id;
	d->have_last = 0;
	d->hlen = 0;
	d->first = ctx->now;
	d->total = d->max_end = d->units = 0;
	memset(d->src, 0, sizeof(d->src));
	memset(d->dst, 0, sizeof(d->dst));
	memcpy(d->src, src, alen);
	memcpy(d->dst, dst, alen);
	t->used++;
	return d;
}

static void
frag_bad(struct pkt_ctx *ctx, struct frag_dgram *d, const char *action,
    const char *reason)
{
	d->state = F_BAD;
	ctx->stats.frag_bad++;
	decode_anomaly(ctx, d->family, d->proto, d->src, d->dst, action,
	    reason);
}

/*
 * Adds payload bytes [off, off + len) to d.  Returns 1 when the datagram
 * is complete, 0 when not yet, -1 when it went bad.
 */
static int
frag_add(struct pkt_ctx *ctx, struct frag_dgram *d, uint32_t off,
    const uint8_t *data, uint32_t len, bool more, uint32_t max_payload)
{
	uint8_t *map = slot_map(d), *pl = d->buf + FRAG_ROOM;
	uint32_t end = off + len, u, u0, u1, a, b;

	if (end > max_payload) {
		frag_bad(ctx, d, "ip_fragment_too_big",
		    "reassembled datagram longer than 65535 bytes");
		return -1;
	}
	if (more && (len == 0 || len % 8 != 0)) {
		frag_bad(ctx, d, "ip_fragment_inconsistent",
		    "non-final fragment length not a multiple of 8");
		return -1;
	}
	if (!more) {
		if ((d->have_last && d->total != end) || end < d->max_end) {
			frag_bad(ctx, d, "ip_fragment_inconsistent",
			    "conflicting length of the last fragment");
			return -1;
		}
		d->have_last = 1;
		d->total = end;
	} else if (d->have_last && end > d->total) {
		frag_bad(ctx, d, "ip_fragment_inconsistent",
		    "fragment beyond the end of the datagram");
		return -1;
	}
	/* Overlaps must repeat the same bytes. */
	u0 = off / 8;
	u1 = (end + 7) / 8;
	for (u = u0; u < u1; u++) {
		if (!(map[u / 8] & (1u << (u % 8))))
			continue;
		a = u * 8 > off ? u * 8 : off;
		b = u * 8 + 8 < end ? u * 8 + 8 : end;
		if (b > d->max_end)
			b = d->max_end;
		if (a < b && memcmp(pl + a, data + (a - off), b - a) != 0) {
			frag_bad(ctx, d, "ip_fragment_overlap",
			    "overlapping fragments with different data");
			return -1;
		}
	}
	memcpy(pl + off, data, len);
	for (u = u0; u < u1; u++)
		if (!(map[u / 8] & (1u << (u % 8)))) {
			map[u / 8] |= (uint8_t)(1u << (u % 8));
			d->units++;
		}
	if (end > d->max_end)
		d->max_end = end;
	return d->have_last && d->units == (d->total + 7) / 8;
}

void
frag_ipv4(struct pkt_ctx *ctx, struct pkt_packet *p, const uint8_t *hdr,
    uint32_t hlen, uint32_t tlen)
{
	struct frag_dgram *d;
	uint16_t frag = rd16(hdr + 6);
	uint32_t off = (uint32_t)(frag & 0x1fff) * 8, len = tlen - hlen;
	uint8_t *ip;
	int r;

	if (ctx->depth > 0) {
		ctx->stats.malformed++;
		return;
	}
	d = slot_get(ctx, 4, hdr[9], hdr + 12, hdr + 16, rd16(hdr + 4));
	if (d->state == F_BAD)
		return;
	if (off == 0 && d->hlen == 0) {
		d->hlen = (uint8_t)hlen;
		memcpy(d->buf + FRAG_ROOM - hlen, hdr, hlen);
	}
	r = frag_add(ctx, d, off, hdr + hlen, len, (frag & 0x2000) != 0,
	    FRAG_PAYLOAD_MAX - (d->hlen ? d->hlen : 20));
	if (r <= 0)
		return;
	if (d->hlen == 0 || d->hlen + d->total > FRAG_PAYLOAD_MAX) {
		frag_bad(ctx, d, "ip_fragment_too_big",
		    "reassembled datagram longer than 65535 bytes");
		return;
	}
	ip = d->buf + FRAG_ROOM - d->hlen;
	tlen = d->hlen + d->total;
	ip[2] = (uint8_t)(tlen >> 8);
	ip[3] = (uint8_t)tlen;
	ip[6] = ip[7] = 0;
	ctx->stats.frag_reassembled++;
	p->reassembled = 1;
	ctx->depth++;
	decode_ipv4(ctx, p, ip, tlen, tlen);
	ctx->depth--;
	slot_release(&ctx->frag, d);
}

void
frag_ipv6(struct pkt_ctx *ctx, struct pkt_packet *p, const uint8_t *hdr,
    const uint8_t *fh, const uint8_t *data, uint32_t len)
{
	struct frag_dgram *d;
	uint16_t frag = rd16(fh + 2);
	uint32_t off = frag & 0xfff8;
	uint8_t *ip;
	int r;

	if (ctx->depth > 0) {
		ctx->stats.malformed++;
		return;
	}
	d = slot_get(ctx, 6, 0, hdr + 8, hdr + 24, rd32(fh + 4));
	if (d->state == F_BAD)
		return;
	if (off == 0 && d->hlen == 0) {
		d->hlen = 40;
		d->proto = fh[0];
		memcpy(d->buf + FRAG_ROOM - 40, hdr, 40);
		d->buf[FRAG_ROOM - 40 + 6] = fh[0];
	}
	r = frag_add(ctx, d, off, data, len, (frag & 1) != 0,
	    FRAG_PAYLOAD_MAX);
	if (r <= 0)
		return;
	if (d->hlen == 0) {
		frag_bad(ctx, d, "ip_fragment_inconsistent",
		    "no first fragment");
		return;
	}
	ip = d->buf + FRAG_ROOM - 40;
	ip[4] = (uint8_t)(d->total >> 8);
	ip[5] = (uint8_t)d->total;
	ctx->stats.frag_reassembled++;
	p->reassembled = 1;
	ctx->depth++;
	decode_ipv6(ctx, p, ip, 40 + d->total, 40 + d->total);
	ctx->depth--;
	slot_release(&ctx->frag, d);
}
