/*
 * TCP: header check (data offset against the captured bytes and the IP
 * payload length), then flow accounting and the stream reassembler,
 * which feeds the app parsers (tcp-reasm.c).
 */
#include "decode.h"

#define TCP_HDR_LEN	20

void
decode_tcp(struct pkt_ctx *ctx, struct pkt_packet *p, const uint8_t *data,
    uint32_t caplen, uint32_t len)
{
	struct flow *f;
	uint32_t hlen;

	if (len < TCP_HDR_LEN) {
		ctx->stats.malformed++;
		return;
	}
	if (caplen < TCP_HDR_LEN) {
		ctx->stats.truncated++;
		return;
	}
	hlen = (uint32_t)(data[12] >> 4) * 4;
	if (hlen < TCP_HDR_LEN || hlen > len) {
		ctx->stats.malformed++;
		return;
	}
	if (hlen > caplen) {
		ctx->stats.truncated++;
		return;
	}
	p->sport = rd16(data);
	p->dport = rd16(data + 2);
	p->tcp_seq = rd32(data + 4);
	p->tcp_flags = data[13] & 0x3f;
	p->payload = data + hlen;
	p->payload_len = caplen - hlen;

	/* A snaplen-cut segment has a gap at its end: not for the parsers. */
	if (caplen < len)
		p->payload_len = 0;
	f = flow_update(ctx, p);
	if (f != NULL)
		reasm_segment(ctx, p, f);
}
