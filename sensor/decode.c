/*
 * Entry of the packet path: context life cycle, the link layers and the
 * ethertype dispatch.  Supported link types are Ethernet (with any mix of
 * 802.1Q / 802.1ad / old QinQ 0x9100 tags, bounded), Linux cooked capture
 * v1 and v2, raw IP (DLT_RAW, LINKTYPE_RAW, LINKTYPE_IPV4/IPV6) and BSD
 * loopback (DLT_NULL in either byte order, DLT_LOOP).  Anything else is
 * counted as unsupported.  Every header is length-checked against the
 * captured bytes before it is read.
 */
#include <stdlib.h>
#include <string.h>
#include <pcap/dlt.h>

#include "decode.h"
#include "soc/util.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2		276
#endif
#define LINKTYPE_RAW_NUM	101	/* pcap file value of DLT_RAW */
#define LINKTYPE_IPV4_NUM	228
#define LINKTYPE_IPV6_NUM	229

#define ETH_HDR_LEN		14
#define VLAN_HDR_LEN		4
#define VLAN_MAX_DEPTH		4	/* deeper stacks are malformed */
#define SLL_HDR_LEN		16
#define SLL2_HDR_LEN		20
#define NULL_HDR_LEN		4

#define ETHERTYPE_IPV4		0x0800
#define ETHERTYPE_IPV6		0x86dd
#define ETHERTYPE_VLAN		0x8100
#define ETHERTYPE_QINQ		0x88a8
#define ETHERTYPE_QINQ_OLD	0x9100

#define DEFAULT_MAX_FLOWS	65536
#define DEFAULT_TCP_IDLE	(300 * SOC_NS)
#define DEFAULT_UDP_IDLE	(60 * SOC_NS)
#define DEFAULT_ICMP_IDLE	(30 * SOC_NS)
#define DEFAULT_ACTIVE		(120 * SOC_NS)

/*
 * Returns a context the caller owns and releases with pkt_free(), or NULL
 * when the flow pool cannot be allocated.  Zero config values take the
 * defaults of pkt.h.
 */
struct pkt_ctx *
pkt_new(const struct pkt_config *cfg, soc_emit_fn emit, void *arg)
{
	struct pkt_ctx *ctx;

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return NULL;
	if (cfg != NULL)
		ctx->cfg = *cfg;
	if (ctx->cfg.max_flows == 0)
		ctx->cfg.max_flows = DEFAULT_MAX_FLOWS;
	if (ctx->cfg.tcp_idle_ns <= 0)
		ctx->cfg.tcp_idle_ns = DEFAULT_TCP_IDLE;
	if (ctx->cfg.udp_idle_ns <= 0)
		ctx->cfg.udp_idle_ns = DEFAULT_UDP_IDLE;
	if (ctx->cfg.icmp_idle_ns <= 0)
		ctx->cfg.icmp_idle_ns = DEFAULT_ICMP_IDLE;
	if (ctx->cfg.active_ns == 0)
		ctx->cfg.active_ns = DEFAULT_ACTIVE;
	ctx->emit = emit;
	ctx->arg = arg;
	if (flow_table_init(&ctx->ft, &ctx->cfg) == -1)
		goto fail;
	if (frag_init(&ctx->frag, &ctx->cfg) == -1)
		goto fail_flow;
	if (reasm_init(&ctx->sp, &ctx->cfg) == -1)
		goto fail_frag;
	return ctx;
fail_frag:
	frag_free(&ctx->frag);
fail_flow:
	flow_table_free(&ctx->ft);
fail:
	free(ctx);
	return NULL;
}

/* Releases the context without emitting; call pkt_finish() first. */
void
pkt_free(struct pkt_ctx *ctx)
{
	if (ctx == NULL)
		return;
	flow_table_free(&ctx->ft);
	frag_free(&ctx->frag);
	reasm_free(&ctx->sp);
	free(ctx);
}

const struct pkt_stats *
pkt_stats(const struct pkt_ctx *ctx)
{
	return &ctx->stats;
}

void
pkt_expire(struct pkt_ctx *ctx, int64_t now_ns)
{
	flow_expire(ctx, now_ns);
	frag_expire(ctx, now_ns);
}

void
pkt_finish(struct pkt_ctx *ctx)
{
	flow_finish(ctx);
	frag_expire(ctx, INT64_MAX);
}

/*
 * The ethertype dispatch, shared by Ethernet, VLAN tags and cooked
 * captures.  VLAN tags loop here rather than recurse so the depth bound
 * is one counter.
 */
void
decode_ethertype(struct pkt_ctx *ctx, struct pkt_packet *p, uint16_t type,
    const uint8_t *data, uint32_t len)
{
	uint32_t used, wire;
	int depth = 0;

	while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ ||
	    type == ETHERTYPE_QINQ_OLD) {
		if (++depth > VLAN_MAX_DEPTH) {
			ctx->stats.malformed++;
			return;
		}
		if (len < VLAN_HDR_LEN) {
			ctx->stats.truncated++;
			return;
		}
		if (p->nvlan < PKT_MAX_VLAN)
			p->vlan[p->nvlan++] = rd16(data) & 0x0fff;
		type = rd16(data + 2);
		data += VLAN_HDR_LEN;
		len -= VLAN_HDR_LEN;
	}

	used = (uint32_t)(data - p->frame);
	wire = p->wirelen - used;	/* pkt_handle keeps wirelen >= caplen */
	switch (type) {
	case ETHERTYPE_IPV4:
		decode_ipv4(ctx, p, data, len, wire);
		break;
	case ETHERTYPE_IPV6:
		decode_ipv6(ctx, p, data, len, wire);
		break;
	default:
		ctx->stats.unsupported++;	/* ARP, LLDP, 802.3 LLC, ... */
		break;
	}
}

static void
decode_ether(struct pkt_ctx *ctx, struct pkt_packet *p, const uint8_t *data,
    uint32_t len)
{
	if (len < ETH_HDR_LEN) {
		ctx->stats.truncated++;
		return;
	}
	decode_ethertype(ctx, p, rd16(data + 12), data + ETH_HDR_LEN,
	    len - ETH_HDR_LEN);
}

static void
decode_sll(struct pkt_ctx *ctx, struct pkt_packet *p, const uint8_t *data,
    uint32_t len)
{
	if (len < SLL_HDR_LEN) {
		ctx->stats.truncated++;
		return;
	}
	decode_ethertype(ctx, p, rd16(data + 14), data + SLL_HDR_LEN,
	    len - SLL_HDR_LEN);
}

static void
decode_sll2(struct pkt_ctx *ctx, struct pkt_packet *p, const uint8_t *data,
    uint32_t len)
{
	if (len < SLL2_HDR_LEN) {
		ctx->stats.truncated++;
		return;
	}
	decode_ethertype(ctx, p, rd16(data), data + SLL2_HDR_LEN,
	    len - SLL2_HDR_LEN);
}

/* Raw IP: the version nibble says which; want restricts it (0 = any). */
static void
decode_raw(struct pkt_ctx *ctx, struct pkt_packet *p, const uint8_t *data,
    uint32_t len, int want)
{
	int version;

	if (len < 1) {
		ctx->stats.truncated++;
		return;
	}
	version = data[0] >> 4;
	if ((version != 4 && version != 6) || (want != 0 && version != want)) {
		ctx->stats.malformed++;
		return;
	}
	decode_ethertype(ctx, p, version == 4 ? ETHERTYPE_IPV4 :
	    ETHERTYPE_IPV6, data, len);
}

/*
 * BSD loopback: a 4-byte address family, in the capturing host's byte
 * order for DLT_NULL (so try both) and in network order for DLT_LOOP.
 * AF_INET is 2 everywhere; AF_INET6 differs per system.
 */
static void
decode_null(struct pkt_ctx *ctx, struct pkt_packet *p, const uint8_t *data,
    uint32_t len, bool loop)
{
	uint32_t af;

	if (len < NULL_HDR_LEN) {
		ctx->stats.truncated++;
		return;
	}
	af = rd32(data);
	if (!loop && af > 0xffff)
		af = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
		    (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
	switch (af) {
	case 2:
		decode_ethertype(ctx, p, ETHERTYPE_IPV4, data + NULL_HDR_LEN,
		    len - NULL_HDR_LEN);
		break;
	case 10: case 24: case 28: case 30:
		decode_ethertype(ctx, p, ETHERTYPE_IPV6, data + NULL_HDR_LEN,
		    len - NULL_HDR_LEN);
		break;
	default:
		ctx->stats.unsupported++;
		break;
	}
}

void
pkt_handle(struct pkt_ctx *ctx, int linktype, int64_t ts_ns,
    const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
	struct pkt_packet p;

	ctx->stats.packets++;
	ctx->stats.bytes += wirelen;
	if (data == NULL)
		caplen = 0;
	memset(&p, 0, sizeof(p));
	ctx->now = ts_ns;
	p.frame = data;
	p.ts = ts_ns;
	p.wirelen = wirelen < caplen ? caplen : wirelen;

	switch (linktype) {
	case DLT_EN10MB:
		decode_ether(ctx, &p, data, caplen);
		break;
	case DLT_LINUX_SLL:
		decode_sll(ctx, &p, data, caplen);
		break;
	case DLT_LINUX_SLL2:
		decode_sll2(ctx, &p, data, caplen);
		break;
	case DLT_RAW:
	case LINKTYPE_RAW_NUM:
		decode_raw(ctx, &p, data, caplen, 0);
		break;
	case LINKTYPE_IPV4_NUM:
		decode_raw(ctx, &p, data, caplen, 4);
		break;
	case LINKTYPE_IPV6_NUM:
		decode_raw(ctx, &p, data, caplen, 6);
		break;
	case DLT_NULL:
		decode_null(ctx, &p, data, caplen, false);
		break;
	case DLT_LOOP:
		decode_null(ctx, &p, data, caplen, true);
		break;
	default:
		ctx->stats.unsupported++;
		break;
	}
}
