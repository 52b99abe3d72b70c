/*
 * IPv4: header and options checks, then dispatch to the transport
 * decoders.  The total length is checked against the length on the wire,
 * not the captured length, so a capture with a short snaplen still yields
 * flows; the transport decoders are given both.  Fragments go to
 * defrag.c, which hands the rebuilt datagram back here; a fragment's own
 * transport header is never read (a first fragment's header could be cut
 * anywhere, and later ones carry none).
 * Checksums are not verified (offload makes them wrong on local
 * captures, and a sensor sees what the hosts see).
 */
#include <string.h>

#include "decode.h"

#define IPV4_HDR_LEN	20
#define IPV4_MF		0x2000
#define IPV4_OFFMASK	0x1fff

#define IPOPT_EOL	0
#define IPOPT_NOP	1

/* Options are TLVs but for EOL and NOP; every length must fit. */
static int
ipv4_options_check(const uint8_t *opt, uint32_t len)
{
	uint32_t i = 0, olen;

	while (i < len) {
		if (opt[i] == IPOPT_EOL)
			return 0;
		if (opt[i] == IPOPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2)
			return -1;
		olen = opt[i + 1];
		if (olen < 2 || olen > len - i)
			return -1;
		i += olen;
	}
	return 0;
}

/*
 * Checks the header; on success sets *hlen and *tlen (header and total
 * length) and returns 0, else counts the reason and returns -1.
 */
static int
ipv4_header_check(struct pkt_ctx *ctx, const uint8_t *data, uint32_t len,
    uint32_t wire, uint32_t *hlen, uint32_t *tlen)
{
	if (len < IPV4_HDR_LEN) {
		ctx->stats.truncated++;
		return -1;
	}
	if ((data[0] >> 4) != 4 || (data[0] & 0x0f) < 5) {
		ctx->stats.malformed++;
		return -1;
	}
	*hlen = (uint32_t)(data[0] & 0x0f) * 4;
	*tlen = rd16(data + 2);
	if (*tlen < *hlen) {
		ctx->stats.malformed++;
		return -1;
	}
	if (*hlen > len || *tlen > wire) {
		ctx->stats.truncated++;
		return -1;
	}
	if (ipv4_options_check(data + IPV4_HDR_LEN, *hlen - IPV4_HDR_LEN)) {
		ctx->stats.malformed++;
		return -1;
	}
	return 0;
}

void
decode_ipv4(struct pkt_ctx *ctx, struct pkt_packet *p, const uint8_t *data,
    uint32_t len, uint32_t wire)
{
	uint32_t hlen, tlen, caplen;
	uint16_t frag;

	if (ipv4_header_check(ctx, data, len, wire, &hlen, &tlen) == -1)
		return;
	frag = rd16(data + 6);
	if ((frag & (IPV4_MF | IPV4_OFFMASK)) != 0) {
		ctx->stats.fragments++;
		if (len < tlen)
			ctx->stats.truncated++;	/* cannot rebuild from it */
		else
			frag_ipv4(ctx, p, data, hlen, tlen);
		return;
	}
	p->family = 4;
	p->proto = data[9];
	p->ip_len = tlen;
	memcpy(p->src, data + 12, 4);
	memcpy(p->dst, data + 16, 4);

	/* Ethernet pads short frames: the IP total length rules. */
	caplen = len < tlen ? len : tlen;
	data += hlen;
	caplen -= hlen;
	tlen -= hlen;
	switch (p->proto) {
	case IPPROTO_NUM_TCP:
		decode_tcp(ctx, p, data, caplen, tlen);
		break;
	case IPPROTO_NUM_UDP:
		decode_udp(ctx, p, data, caplen, tlen);
		break;
	case IPPROTO_NUM_ICMP:
		decode_icmp(ctx, p, data, caplen, tlen);
		break;
	default:
		ctx->stats.unsupported++;
		break;
	}
}
