/*
 * UDP: header check (the UDP length must fit the IP payload and cover
 * the header), flow accounting, then DNS on port 53 of either side.
 */
#include "decode.h"

#define UDP_HDR_LEN	8
#define DNS_PORT	53

void
decode_udp(struct pkt_ctx *ctx, struct pkt_packet *p, const uint8_t *data,
    uint32_t caplen, uint32_t len)
{
	uint32_t ulen;

	if (len < UDP_HDR_LEN) {
		ctx->stats.malformed++;
		return;
	}
	if (caplen < UDP_HDR_LEN) {
		ctx->stats.truncated++;
		return;
	}
	ulen = rd16(data + 4);
	if (ulen < UDP_HDR_LEN || ulen > len) {
		ctx->stats.malformed++;
		return;
	}
	p->sport = rd16(data);
	p->dport = rd16(data + 2);
	p->payload = data + UDP_HDR_LEN;
	p->payload_len = (ulen < caplen ? ulen : caplen) - UDP_HDR_LEN;

	(void)flow_update(ctx, p);
	if (p->sport == DNS_PORT || p->dport == DNS_PORT)
		dns_handle(ctx, p);
}
