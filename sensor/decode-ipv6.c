/*
 * IPv6: the fixed header, then a bounded walk of the extension header
 * chain (hop-by-hop, routing, fragment, destination options, and AH,
 * whose length unit differs) to the transport header.  Each extension
 * header is checked against both the captured bytes and the payload
 * length before it is read.  A non-atomic fragment goes to defrag.c
 * with the fixed header, as in IPv4.  Jumbograms (payload length 0) are
 * counted as unsupported.
 */
#include <string.h>

#include "decode.h"

#define IPV6_HDR_LEN		40
#define IPV6_EXT_MAX		8	/* longer chains are malformed */

#define IP6_HOPOPTS		0
#define IP6_ROUTING		43
#define IP6_FRAGMENT		44
#define IP6_ESP			50
#define IP6_AH			51
#define IP6_NONXT		59
#define IP6_DSTOPTS		60

#define IP6_FRAG_LEN		8
#define IP6_FRAG_OFFMASK	0xfff8
#define IP6_FRAG_MORE		0x0001

enum ext_result { EXT_NEXT, EXT_FRAG, EXT_DROP };

/*
 * One extension header at data (caplen captured of len in the payload):
 * sets *nxt and *hlen.  Returns EXT_DROP after counting why.
 */
static enum ext_result
ipv6_ext(struct pkt_ctx *ctx, uint8_t type, const uint8_t *data,
    uint32_t caplen, uint32_t len, uint8_t *nxt, uint32_t *hlen)
{
	if (len < 2) {
		ctx->stats.malformed++;
		return EXT_DROP;
	}
	if (caplen < 2) {
		ctx->stats.truncated++;
		return EXT_DROP;
	}
	*nxt = data[0];
	if (type == IP6_FRAGMENT)
		*hlen = IP6_FRAG_LEN;
	else if (type == IP6_AH)
		*hlen = ((uint32_t)data[1] + 2) * 4;
	else
		*hlen = ((uint32_t)data[1] + 1) * 8;
	if (*hlen > len) {
		ctx->stats.malformed++;
		return EXT_DROP;
	}
	if (*hlen > caplen) {
		ctx->stats.truncated++;
		return EXT_DROP;
	}
	if (type == IP6_FRAGMENT &&
	    (rd16(data + 2) & (IP6_FRAG_OFFMASK | IP6_FRAG_MORE)) != 0) {
		ctx->stats.fragments++;
		return EXT_FRAG;
	}
	return EXT_NEXT;
}

static bool
ipv6_is_ext(uint8_t nxt)
{
	return nxt == IP6_HOPOPTS || nxt == IP6_ROUTING ||
	    nxt == IP6_FRAGMENT || nxt == IP6_DSTOPTS || nxt == IP6_AH;
}

static void
ipv6_transport(struct pkt_ctx *ctx, struct pkt_packet *p, uint8_t nxt,
    const uint8_t *data, uint32_t caplen, uint32_t len)
{
	p->proto = nxt;
	switch (nxt) {
	case IPPROTO_NUM_TCP:
		decode_tcp(ctx, p, data, caplen, len);
		break;
	case IPPROTO_NUM_UDP:
		decode_udp(ctx, p, data, caplen, len);
		break;
	case IPPROTO_NUM_ICMPV6:
		decode_icmp(ctx, p, data, caplen, len);
		break;
	default:
		ctx->stats.unsupported++;	/* ESP, no next header, ... */
		break;
	}
}

void
decode_ipv6(struct pkt_ctx *ctx, struct pkt_packet *p, const uint8_t *data,
    uint32_t len, uint32_t wire)
{
	const uint8_t *hdr = data;
	uint32_t plen, caplen, hlen;
	enum ext_result r;
	uint8_t nxt;
	int n;

	if (len < IPV6_HDR_LEN) {
		ctx->stats.truncated++;
		return;
	}
	if ((data[0] >> 4) != 6) {
		ctx->stats.malformed++;
		return;
	}
	plen = rd16(data + 4);
	nxt = data[6];
	if (plen == 0 && nxt == IP6_HOPOPTS) {
		ctx->stats.unsupported++;
		return;
	}
	if (IPV6_HDR_LEN + plen > wire) {
		ctx->stats.truncated++;
		return;
	}
	p->family = 6;
	p->ip_len = IPV6_HDR_LEN + plen;
	memcpy(p->src, data + 8, 16);
	memcpy(p->dst, data + 24, 16);

	caplen = len - IPV6_HDR_LEN;
	if (caplen > plen)
		caplen = plen;		/* link padding */
	data += IPV6_HDR_LEN;
	for (n = 0; ipv6_is_ext(nxt); n++) {
		if (n == IPV6_EXT_MAX) {
			ctx->stats.malformed++;
			return;
		}
		r = ipv6_ext(ctx, nxt, data, caplen, plen, &nxt, &hlen);
		if (r == EXT_DROP)
			return;
		if (r == EXT_FRAG) {
			if (caplen < plen)
				ctx->stats.truncated++;
			else
				frag_ipv6(ctx, p, hdr, data, data + hlen,
				    plen - hlen);
			return;
		}
		data += hlen;
		caplen -= hlen;
		plen -= hlen;
	}
	ipv6_transport(ctx, p, nxt, data, caplen, plen);
}
