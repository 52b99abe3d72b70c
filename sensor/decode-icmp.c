/*
 * ICMP and ICMPv6: only the type and code are read (every message has at
 * least the 8-byte header); the flow table keeps those of a flow's first
 * packet.  ICMP flows are keyed by address pair only, so echo requests
 * and replies between two hosts make one flow.  Error messages quoting
 * an inner packet are not followed.
 */
#include "decode.h"

#define ICMP_HDR_LEN	8

void
decode_icmp(struct pkt_ctx *ctx, struct pkt_packet *p, const uint8_t *data,
    uint32_t caplen, uint32_t len)
{
	if (len < ICMP_HDR_LEN) {
		ctx->stats.malformed++;
		return;
	}
	if (caplen < ICMP_HDR_LEN) {
		ctx->stats.truncated++;
		return;
	}
	p->icmp_type = data[0];
	p->icmp_code = data[1];
	p->payload = data + ICMP_HDR_LEN;
	p->payload_len = caplen - ICMP_HDR_LEN;
	(void)flow_update(ctx, p);
}
