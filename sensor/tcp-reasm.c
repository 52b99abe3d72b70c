/*
 * In-order reassembly of the first bytes of each TCP message that the
 * app parsers need (HTTP headers, a TLS ClientHello, an SSH banner, a
 * DNS message with its 2-byte length prefix), in fixed 4 KB buffers from
 * a pool allocated once at pkt_new().
 *
 * A flow's app protocol is decided on its first payload, by content
 * ("SSH-", a TLS handshake record, an HTTP request or status line) and
 * then by server port (53 DNS, 22 SSH, 443 and kin TLS, 80 and kin
 * HTTP); other flows are never looked at again, so bulk traffic costs a
 * byte compare per segment.  Each segment of a parsed flow is first
 * offered to the parser on its own: a message that fits in one segment
 * (the usual case) needs no buffer at all.  Only when the parser asks
 * for more is a buffer taken from the pool, based at the segment's
 * sequence number (or at SYN + 1 when the first segment seen is not the
 * first one sent); later segments are written at their offset in it,
 * out-of-order ones held until the gap fills (a bitmap marks the bytes
 * present; on overlap the first copy wins), and the parser is called
 * again each time the contiguous prefix grows.  A full buffer is parsed
 * as it stands.  When the pool is empty the segment is parsed alone and
 * the miss counted (stats.stream_exhausted), so memory stays bounded
 * with any number of flows.
 *
 * A direction goes back to buffer-less once its messages are consumed
 * (HTTP and DNS can carry more), or is done for good (TLS after the
 * ClientHello, or the server's Certificate message; SSH after the
 * banner).  The two SSH banners are reported
 * in one network.ssh event: the first banner seen waits in a buffer for
 * the other one, or for the end of the flow.
 */
#include <stdlib.h>
#include <string.h>

#include "decode.h"

#define STREAM_SIZE		4096
#define STREAM_NONE		UINT32_MAX
#define DEFAULT_STREAM_MAX	4096

struct stream_buf {
	uint32_t	base;		/* sequence number of data[0] */
	uint32_t	len;		/* contiguous bytes from data[0] */
	uint32_t	used;		/* bytes consumed by the parser */
	uint32_t	next;		/* free list */
	uint16_t	boff, blen;	/* SSH: the banner held */
	uint8_t		map[STREAM_SIZE / 8];
	uint8_t		data[STREAM_SIZE];
};

int
reasm_init(struct stream_pool *sp, const struct pkt_config *cfg)
{
	sp->size = cfg->stream_max > 0 ? cfg->stream_max : DEFAULT_STREAM_MAX;
	sp->used = 0;
	/*
	 * calloc, and buffers handed out from fresh up before any is
	 * reused: pages of buffers never used are never touched (a free
	 * list built here would fault in the whole pool at start-up).
	 */
	if ((sp->pool = calloc(sp->size, sizeof(*sp->pool))) == NULL)
		return -1;
	sp->free = STREAM_NONE;
	sp->fresh = 0;
	return 0;
}

void
reasm_free(struct stream_pool *sp)
{
	free(sp->pool);
	sp->pool = NULL;
}

static struct stream_buf *
stream_get(struct pkt_ctx *ctx, struct flow *f, int side, uint32_t base)
{
	struct stream_pool *sp = &ctx->sp;
	struct stream_buf *s;
	uint32_t i = sp->free;

	if (i == STREAM_NONE && sp->fresh < sp->size)
		i = sp->fresh++;
	else if (i == STREAM_NONE) {
		ctx->stats.stream_exhausted++;
		return NULL;
	} else
		sp->free = sp->pool[i].next;
	s = &sp->pool[i];
	sp->used++;
	s->base = base;
	s->len = s->used = 0;
	s->boff = s->blen = 0;
	f->stream[side] = i;
	f->dir[side] |= DIR_BUSY;
	return s;
}

static void
stream_put(struct pkt_ctx *ctx, struct flow *f, int side)
{
	struct stream_pool *sp = &ctx->sp;
	struct stream_buf *s;
	uint32_t i = f->stream[side];

	if (!(f->dir[side] & DIR_BUSY) || i >= sp->size)
		return;
	s = &sp->pool[i];
	memset(s->map, 0, sizeof(s->map));
	s->next = sp->free;
	sp->free = i;
	sp->used--;
	f->stream[side] = STREAM_NONE;
	f->dir[side] &= (uint8_t)~(DIR_BUSY | DIR_HELD);
}

static struct stream_buf *
stream_of(struct pkt_ctx *ctx, const struct flow *f, int side)
{
	return &ctx->sp.pool[f->stream[side]];
}

/*
 * Writes the segment (sequence seq) into s; bytes already present are
 * kept.  Returns true when the contiguous prefix grew.
 */
static bool
stream_add(struct pkt_ctx *ctx, struct stream_buf *s, uint32_t seq,
    const uint8_t *d, uint32_t n)
{
	int32_t rel = (int32_t)(seq - s->base);
	uint32_t off, old = s->len;

	if (rel < 0) {
		if (n <= (uint32_t)-(int64_t)rel)
			return false;		/* old retransmission */
		d += (uint32_t)-(int64_t)rel;
		n -= (uint32_t)-(int64_t)rel;
		rel = 0;
	}
	off = (uint32_t)rel;
	if (off >= STREAM_SIZE) {
		ctx->stats.stream_dropped++;
		return false;
	}
	if (n > STREAM_SIZE - off)
		n = STREAM_SIZE - off;
	if (off > s->len)
		ctx->stats.stream_ooo++;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t b = off + i;

		if (s->map[b / 8] & (1u << (b % 8)))
			continue;
		s->map[b / 8] |= (uint8_t)(1u << (b % 8));
		s->data[b] = d[i];
	}
	while (s->len < STREAM_SIZE) {
		if (s->len % 8 == 0 && s->len + 8 <= STREAM_SIZE &&
		    s->map[s->len / 8] == 0xff) {
			s->len += 8;
			continue;
		}
		if (!(s->map[s->len / 8] & (1u << (s->len % 8))))
			break;
		s->len++;
	}
	return s->len > old;
}

/* Server port of the flow, from the packet and who began the flow. */
static uint16_t
server_port(const struct pkt_packet *p, const struct flow *f)
{
	return p->side == f->init ? p->dport : p->sport;
}

static uint8_t
classify(const struct pkt_packet *p, const struct flow *f)
{
	const uint8_t *d = p->payload;
	uint32_t n = p->payload_len;

	if (p->sport == 53 || p->dport == 53)
		return APP_DNS;
	if (n >= 4 && memcmp(d, "SSH-", 4) == 0)
		return APP_SSH;
	if (n >= 3 && d[0] == 0x16 && d[1] == 3 && d[2] <= 4)
		return APP_TLS;
	if (http_is_request(d, n) || http_is_response(d, n))
		return APP_HTTP;
	switch (server_port(p, f)) {
	case 22:
		return APP_SSH;
	case 443: case 465: case 563: case 636: case 853: case 989:
	case 990: case 993: case 995: case 8443:
		return APP_TLS;
	case 80: case 3128: case 8000: case 8008: case 8080:
		return APP_HTTP;
	}
	return APP_NONE;
}

/* One parse step of the flow's protocol over buf (side's bytes). */
static enum app_res
app_parse(struct pkt_ctx *ctx, const struct pkt_packet *p, struct flow *f,
    int side, const uint8_t *buf, uint32_t len, bool full, uint32_t *used)
{
	enum app_res r;

	*used = len;
	switch (f->app) {
	case APP_HTTP:
		return http_parse(ctx, p, f, buf, len, full, used);
	case APP_DNS:
		return dns_tcp_parse(ctx, p, f, buf, len, full, used);
	case APP_TLS:		/* ClientHello; the server's certificate */
		r = tls_parse(ctx, p, f, buf, len, full, used);
		if (r == APP_NEXT)
			r = APP_END;
		return r;
	default:
		return APP_END;
	}
}

/* SSH: one banner found at off in side's bytes; report or hold it. */
static void
ssh_found(struct pkt_ctx *ctx, const struct pkt_packet *p, struct flow *f,
    int side, const uint8_t *buf, uint32_t len, uint32_t off, uint32_t blen)
{
	struct stream_buf *s, *o;
	struct pkt_packet cp;
	int other = !side;
	const uint8_t *ob = NULL;
	uint32_t olen = 0;

	f->dir[side] |= DIR_END;
	if (f->dir[other] & DIR_HELD) {
		o = stream_of(ctx, f, other);
		ob = o->data + o->boff;
		olen = o->blen;
	} else if (!(f->dir[other] & DIR_END)) {
		/* wait for the other banner, in a buffer */
		if (f->dir[side] & DIR_BUSY)
			s = stream_of(ctx, f, side);
		else
			s = stream_get(ctx, f, side, 0);
		if (s != NULL) {
			if (buf != s->data)
				memcpy(s->data, buf + off, blen);
			else
				memmove(s->data, buf + off, blen);
			s->boff = 0;
			s->blen = (uint16_t)blen;
			f->dir[side] |= DIR_HELD;
			return;
		}
	}
	(void)len;
	flow_packet(f, f->init, p->ts, &cp);
	if (side == f->init)
		ssh_emit(ctx, &cp, buf + off, blen, ob, olen);
	else
		ssh_emit(ctx, &cp, ob, olen, buf + off, blen);
	stream_put(ctx, f, side);
	stream_put(ctx, f, other);
}

static void
ssh_data(struct pkt_ctx *ctx, const struct pkt_packet *p, struct flow *f,
    int side, const uint8_t *buf, uint32_t len, bool full, bool buffered)
{
	uint32_t off, blen;
	enum app_res r = ssh_banner(buf, len, full, &off, &blen);

	if (r == APP_NEXT) {
		ssh_found(ctx, p, f, side, buf, len, off, blen);
		return;
	}
	if (r == APP_END) {
		f->dir[side] |= DIR_END;
		stream_put(ctx, f, side);
		if (f->dir[!side] & DIR_HELD) {
			struct stream_buf *o = stream_of(ctx, f, !side);

			ssh_found(ctx, p, f, !side, o->data, o->blen, o->boff,
			    o->blen);
		}
		return;
	}
	if (!buffered) {		/* APP_MORE on a lone segment */
		struct stream_buf *s = stream_get(ctx, f, side, p->tcp_seq);

		if (s != NULL)
			stream_add(ctx, s, p->tcp_seq, buf, len);
		else
			ssh_data(ctx, p, f, side, buf, len, true, false);
	}
}

/*
 * Runs the parser over bytes [from, len) of side's data; returns the
 * offset consumed and sets *res to the last result.
 */
static uint32_t
parse_run(struct pkt_ctx *ctx, const struct pkt_packet *p, struct flow *f,
    int side, const uint8_t *buf, uint32_t from, uint32_t len, bool full,
    uint32_t base, enum app_res *res)
{
	uint32_t off = from, used;
	enum app_res r = APP_NEXT;

	while (off < len) {
		r = app_parse(ctx, p, f, side, buf + off, len - off, full, &used);
		if (r == APP_MORE)
			break;
		f->msg_seq[side] = base + off;
		f->dir[side] |= DIR_MSG;
		if (r == APP_END || used == 0 || used > len - off) {
			r = APP_END;
			break;
		}
		off += used;
	}
	*res = r;
	return off;
}

/* A segment for a direction with a buffer. */
static void
seg_buffered(struct pkt_ctx *ctx, const struct pkt_packet *p, struct flow *f,
    int side, uint32_t seq)
{
	struct stream_buf *s = stream_of(ctx, f, side);
	enum app_res r;
	bool full;

	if (!stream_add(ctx, s, seq, p->payload, p->payload_len))
		return;
	full = s->len == STREAM_SIZE;
	if (f->app == APP_SSH) {
		ssh_data(ctx, p, f, side, s->data, s->len, full, true);
		return;
	}
	s->used = parse_run(ctx, p, f, side, s->data, s->used, s->len, full,
	    s->base, &r);
	if (full && r == APP_MORE) {
		ctx->stats.stream_overflow++;
		r = APP_END;
	}
	if (r == APP_END) {
		f->dir[side] |= DIR_END;
		stream_put(ctx, f, side);
	} else if (s->used >= s->len)
		stream_put(ctx, f, side);	/* all consumed: back to lone */
}

/* A segment for a direction without a buffer. */
static void
seg_lone(struct pkt_ctx *ctx, const struct pkt_packet *p, struct flow *f,
    int side, uint32_t seq)
{
	struct stream_buf *s;
	enum app_res r;
	uint32_t off;

	if (f->app == APP_SSH) {
		ssh_data(ctx, p, f, side, p->payload, p->payload_len, false,
		    false);
		return;
	}
	if ((f->dir[side] & DIR_MSG) && f->msg_seq[side] == seq)
		return;				/* retransmitted message start */
	off = parse_run(ctx, p, f, side, p->payload, 0, p->payload_len, false,
	    seq, &r);
	if (r == APP_END) {
		f->dir[side] |= DIR_END;
		return;
	}
	if (r != APP_MORE)
		return;
	if ((s = stream_get(ctx, f, side, seq + off)) != NULL) {
		stream_add(ctx, s, seq + off, p->payload + off,
		    p->payload_len - off);
		return;
	}
	/* no buffer: parse what this segment has */
	parse_run(ctx, p, f, side, p->payload, off, p->payload_len, true,
	    seq, &r);
	if (r == APP_END)
		f->dir[side] |= DIR_END;
}

void
reasm_segment(struct pkt_ctx *ctx, const struct pkt_packet *p, struct flow *f)
{
	int side = p->side;
	uint32_t seq = p->tcp_seq;

	if (p->tcp_flags & TCP_SYN) {
		f->seq0[side] = seq + 1;
		f->dir[side] |= DIR_SEQ0;
		seq++;
	}
	if (p->payload_len == 0 || f->app == APP_NONE)
		return;
	if (f->app == APP_UNKNOWN && (f->app = classify(p, f)) == APP_NONE)
		return;
	if (f->dir[side] & DIR_END)
		return;
	if (f->dir[side] & DIR_BUSY) {
		seg_buffered(ctx, p, f, side, seq);
		return;
	}
	/* The first data seen is not the first sent: buffer from SYN + 1. */
	if ((f->dir[side] & (DIR_SEQ0 | DIR_MSG)) == DIR_SEQ0 &&
	    seq != f->seq0[side] && seq - f->seq0[side] < STREAM_SIZE &&
	    stream_get(ctx, f, side, f->seq0[side]) != NULL) {
		f->dir[side] |= DIR_MSG;
		f->msg_seq[side] = f->seq0[side] - 1;	/* matches nothing */
		seg_buffered(ctx, p, f, side, seq);
		return;
	}
	seg_lone(ctx, p, f, side, seq);
}

void
reasm_flow_end(struct pkt_ctx *ctx, struct flow *f)
{
	struct pkt_packet p;
	struct stream_buf *s;
	enum app_res r;

	if (f->app == APP_SSH) {
		for (int side = 0; side < 2; side++)
			if (f->dir[side] & DIR_HELD) {
				s = stream_of(ctx, f, side);
				f->dir[!side] |= DIR_END;
				flow_packet(f, f->init, f->last, &p);
				ssh_found(ctx, &p, f, side, s->data, s->blen,
				    s->boff, s->blen);
			}
	}
	for (int side = 0; side < 2; side++) {
		if (!(f->dir[side] & DIR_BUSY))
			continue;
		s = stream_of(ctx, f, side);
		if (f->app != APP_SSH && s->used < s->len) {
			/* what never completed is parsed as it stands */
			flow_packet(f, side, f->last, &p);
			parse_run(ctx, &p, f, side, s->data, s->used, s->len,
			    true, s->base, &r);
		}
		stream_put(ctx, f, side);
	}
}
