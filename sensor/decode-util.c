/*
 * The bottom of the packet path: what the decoders and the application
 * parsers share with decode.c, which dispatches to them.  Starting and
 * emitting an event (decode_event_init, decode_emit), an anomaly event
 * (decode_anomaly), a transport's name, and the packet a flow's side
 * stands for (flow_packet).  Calls no file of the packet path but
 * community-id.c.
 */
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "soc/util.h"

const char *
decode_transport_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_NUM_TCP:
		return "tcp";
	case IPPROTO_NUM_UDP:
		return "udp";
	case IPPROTO_NUM_ICMP:
		return "icmp";
	case IPPROTO_NUM_ICMPV6:
		return "ipv6-icmp";
	default:
		return "unknown";
	}
}

static void
set_ip(struct soc_event *ev, int f, uint8_t family, const uint8_t *a)
{
	if (family == 4)
		soc_event_set_ip4(ev, f, a);
	else
		soc_event_set_ip6(ev, f, a);
}

/*
 * Starts ctx->ev for an app-layer event about packet p: the common
 * fields, with source the packet's sender or, when !sender_is_source,
 * its receiver (a DNS answer goes to the client).
 */
void
decode_event_init(struct pkt_ctx *ctx, const struct pkt_packet *p,
    const char *dataset, bool sender_is_source)
{
	struct soc_event *ev = &ctx->ev;
	const uint8_t *sip = sender_is_source ? p->src : p->dst;
	const uint8_t *dip = sender_is_source ? p->dst : p->src;

	soc_event_reset(ev);
	ev->ts = p->ts;
	soc_event_set_cstr(ev, SOC_F_EVENT_KIND, "event");
	soc_event_set_cstr(ev, SOC_F_EVENT_CATEGORY, "network");
	soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, dataset);
	soc_event_set_cstr(ev, SOC_F_NET_TRANSPORT,
	    decode_transport_name(p->proto));
	soc_event_set_cstr(ev, SOC_F_NET_TYPE, p->family == 4 ? "ipv4" : "ipv6");
	set_ip(ev, SOC_F_SOURCE_IP, p->family, sip);
	set_ip(ev, SOC_F_DEST_IP, p->family, dip);
	if (p->proto == IPPROTO_NUM_TCP || p->proto == IPPROTO_NUM_UDP) {
		soc_event_set_int(ev, SOC_F_SOURCE_PORT,
		    sender_is_source ? p->sport : p->dport);
		soc_event_set_int(ev, SOC_F_DEST_PORT,
		    sender_is_source ? p->dport : p->sport);
	}
	if (p->nvlan > 0 && p->vlan[0] != 0)
		soc_event_set_int(ev, SOC_F_NET_VLAN_ID, p->vlan[0]);
	if (p->proto == IPPROTO_NUM_TCP || p->proto == IPPROTO_NUM_UDP) {
		char cid[COMMUNITY_ID_LEN + 1];

		if (p->flow != NULL && p->flow->key.proto == p->proto)
			community_id_format(p->flow->cid, cid);
		else
			community_id(p->family, p->proto, p->src, p->dst,
			    p->sport, p->dport, cid);
		soc_event_set_str(ev, SOC_F_NET_COMMUNITY_ID, cid,
		    COMMUNITY_ID_LEN);
	}
}

void
decode_emit(struct pkt_ctx *ctx)
{
	if (ctx->emit != NULL)
		ctx->emit(ctx->arg, &ctx->ev);
}

/*
 * An anomaly event (the way Zeek's weird.log or Suricata's anomaly
 * events report them): event.kind "anomaly", dataset network.anomaly,
 * event.action naming the finding, event.reason the detail.
 */
void
decode_anomaly(struct pkt_ctx *ctx, uint8_t family, uint8_t proto,
    const uint8_t *src, const uint8_t *dst, const char *action,
    const char *reason)
{
	struct soc_event *ev = &ctx->ev;

	soc_event_reset(ev);
	ev->ts = ctx->now;
	soc_event_set_cstr(ev, SOC_F_EVENT_KIND, "anomaly");
	soc_event_set_cstr(ev, SOC_F_EVENT_CATEGORY, "network");
	soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, "network.anomaly");
	soc_event_set_cstr(ev, SOC_F_EVENT_ACTION, action);
	soc_event_set_cstr(ev, SOC_F_EVENT_REASON, reason);
	soc_event_set_cstr(ev, SOC_F_NET_TYPE, family == 4 ? "ipv4" : "ipv6");
	if (proto != 0)
		soc_event_set_cstr(ev, SOC_F_NET_TRANSPORT,
		    decode_transport_name(proto));
	set_ip(ev, SOC_F_SOURCE_IP, family, src);
	set_ip(ev, SOC_F_DEST_IP, family, dst);
	ctx->stats.anomalies++;
	decode_emit(ctx);
}

void
flow_packet(const struct flow *f, int side, int64_t ts, struct pkt_packet *p)
{
	memset(p, 0, sizeof(*p));
	p->ts = ts;
	p->family = f->key.family;
	p->proto = f->key.proto;
	memcpy(p->vlan, f->key.vlan, sizeof(p->vlan));
	p->nvlan = f->key.vlan[0] != 0;
	memcpy(p->src, f->key.addr[side], 16);
	memcpy(p->dst, f->key.addr[!side], 16);
	p->sport = f->key.port[side];
	p->dport = f->key.port[!side];
	p->side = (uint8_t)side;
	p->flow = f;
}
