/*
 * The flow table: bidirectional flows keyed by (VLAN tags, protocol,
 * address pair, port pair), the pair ordered so both directions of a
 * conversation hash to one entry.  Entries come from a pool allocated
 * once at pkt_new() (calloc; entries are taken from the never-used end
 * before the free list, so pages of entries never used are never
 * touched); hash chains and LRU lists link them by index, so a packet
 * never allocates.
 *
 * Each idle timeout class (TCP, UDP, ICMP, closed TCP) has its own LRU
 * list ordered by last activity: expiry pops list heads until one is
 * still fresh, and the least recently used flow overall is the oldest of
 * the heads.  A TCP flow that saw FIN from both sides or a RST moves to
 * the closed list and is emitted a few seconds later, so the last ACK
 * and retransmitted FINs are counted in it instead of opening a new flow;
 * a fresh SYN on a closed flow emits it at once and starts anew.
 *
 * The hash is SipHash-1-3 (soc_hash) keyed per context, so remote hosts
 * cannot aim at a chain.
 *
 * flow_table_check() walks every chain and list and says whether the
 * table is sound (SQLite-style invariant checker); builds with assert()
 * run it after mutating operations, sampled so that its cost per packet
 * stays constant, and the unit tests call it directly.
 *
 * Every record says why it was written (event.reason): "idle timeout",
 * "tcp close" (FIN both ways), "tcp reset", "evicted" (pool full),
 * "end of capture", or "active timeout".  The last one is an interim
 * record of a flow still running, written on its first packet after
 * pkt_config.active_ns since the flow began or since the previous
 * interim record.  Counts in every record are cumulative from the start
 * of the flow (as in Zeek's conn.log and Suricata's flow events), and
 * event.start stays the flow's start, so the latest record of a flow
 * (same network.community_id and event.start) is complete on its own;
 * interim records carry event.type "info", final ones "end".
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "soc/hash.h"
#include "soc/util.h"

#define FLOW_NONE	UINT32_MAX
#define FLOW_FREE	0xff		/* list of an unused entry */
#define FLOW_CLOSED_NS	(5 * SOC_NS)
#define FAIL_CHECK(m)	do { w = (m); goto fail; } while (0)

enum { L_TCP, L_UDP, L_ICMP, L_CLOSED };

_Static_assert(sizeof(struct flow_key) == 44, "flow_key has holes");

/* SipHash-1-3 with the table's secret key (include/soc/hash.h). */
static uint32_t
flow_hash(const struct flow_table *ft, const struct flow_key *k)
{
	return (uint32_t)soc_hash(&ft->key, k, sizeof(*k));
}

int
flow_table_init(struct flow_table *ft, const struct pkt_config *cfg)
{
	uint32_t i;

	memset(ft, 0, sizeof(*ft));
	ft->size = cfg->max_flows;
	ft->nbuckets = 16;
	while (ft->nbuckets < ft->size && ft->nbuckets < (1u << 31))
		ft->nbuckets <<= 1;
	ft->pool = calloc(ft->size, sizeof(*ft->pool));
	ft->bucket = malloc((size_t)ft->nbuckets * sizeof(*ft->bucket));
	if (ft->pool == NULL || ft->bucket == NULL) {
		flow_table_free(ft);
		return -1;
	}
	for (i = 0; i < ft->nbuckets; i++)
		ft->bucket[i] = FLOW_NONE;
	ft->free = FLOW_NONE;
	ft->fresh = 0;
	for (i = 0; i < FLOW_LISTS; i++)
		ft->head[i] = ft->tail[i] = FLOW_NONE;
	ft->timeout[L_TCP] = cfg->tcp_idle_ns;
	ft->timeout[L_UDP] = cfg->udp_idle_ns;
	ft->timeout[L_ICMP] = cfg->icmp_idle_ns;
	ft->timeout[L_CLOSED] = cfg->tcp_idle_ns < FLOW_CLOSED_NS ?
	    cfg->tcp_idle_ns : FLOW_CLOSED_NS;
	soc_hash_seed(&ft->key);
	return 0;
}

void
flow_table_free(struct flow_table *ft)
{
	free(ft->pool);
	free(ft->bucket);
	ft->pool = NULL;
	ft->bucket = NULL;
}

static void
lru_unlink(struct flow_table *ft, uint32_t i)
{
	struct flow *f = &ft->pool[i];

	if (f->prev != FLOW_NONE)
		ft->pool[f->prev].next = f->next;
	else
		ft->head[f->list] = f->next;
	if (f->next != FLOW_NONE)
		ft->pool[f->next].prev = f->prev;
	else
		ft->tail[f->list] = f->prev;
}

static void
lru_append(struct flow_table *ft, uint32_t i, uint8_t list)
{
	struct flow *f = &ft->pool[i];

	f->list = list;
	f->next = FLOW_NONE;
	f->prev = ft->tail[list];
	if (f->prev != FLOW_NONE)
		ft->pool[f->prev].next = i;
	else
		ft->head[list] = i;
	ft->tail[list] = i;
}

/* Unlinks a live flow from its chain and list; back to the free list. */
static void
flow_release(struct flow_table *ft, uint32_t i)
{
	struct flow *f = &ft->pool[i];
	uint32_t *pp = &ft->bucket[f->hash & (ft->nbuckets - 1)];

	while (*pp != i && *pp != FLOW_NONE)
		pp = &ft->pool[*pp].hnext;
	if (*pp == i)
		*pp = f->hnext;
	lru_unlink(ft, i);
	f->list = FLOW_FREE;
	f->next = ft->free;
	ft->free = i;
}

static void
flow_emit_flags(struct soc_event *ev, uint8_t flags)
{
	static const struct { uint8_t bit; char c; } order[] = {
		{ TCP_SYN, 'S' }, { TCP_ACK, 'A' }, { TCP_FIN, 'F' },
		{ TCP_RST, 'R' }, { TCP_PSH, 'P' }, { TCP_URG, 'U' },
	};
	char s[8];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (flags & order[i].bit)
			s[n++] = order[i].c;
	if (n > 0)
		soc_event_set_str(ev, SOC_F_TCP_FLAGS, s, n);
}

static void
flow_set_ip(struct soc_event *ev, int f, uint8_t family, const uint8_t *a)
{
	if (family == 4)
		soc_event_set_ip4(ev, f, a);
	else
		soc_event_set_ip6(ev, f, a);
}

/* Builds the network.flow event in ctx->ev and hands it to the callback. */
static void
flow_emit(struct pkt_ctx *ctx, const struct flow *f, const char *reason)
{
	struct soc_event *ev = &ctx->ev;
	int s = f->init, d = !f->init;
	char cid[COMMUNITY_ID_LEN + 1];

	soc_event_reset(ev);
	ev->ts = f->last;
	soc_event_set_cstr(ev, SOC_F_EVENT_KIND, "event");
	soc_event_set_cstr(ev, SOC_F_EVENT_CATEGORY, "network");
	soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, "network.flow");
	soc_event_set_cstr(ev, SOC_F_EVENT_ACTION, "network_flow");
	soc_event_set_cstr(ev, SOC_F_EVENT_REASON, reason);
	soc_event_set_cstr(ev, SOC_F_EVENT_TYPE,
	    strcmp(reason, "active timeout") == 0 ? "info" : "end");
	soc_event_set_int(ev, SOC_F_EVENT_START, f->first);
	soc_event_set_int(ev, SOC_F_EVENT_END, f->last);
	soc_event_set_int(ev, SOC_F_EVENT_DURATION, f->last - f->first);
	soc_event_set_cstr(ev, SOC_F_NET_TRANSPORT,
	    decode_transport_name(f->key.proto));
	soc_event_set_cstr(ev, SOC_F_NET_TYPE,
	    f->key.family == 4 ? "ipv4" : "ipv6");
	flow_set_ip(ev, SOC_F_SOURCE_IP, f->key.family, f->key.addr[s]);
	flow_set_ip(ev, SOC_F_DEST_IP, f->key.family, f->key.addr[d]);
	if (f->key.proto == IPPROTO_NUM_TCP || f->key.proto == IPPROTO_NUM_UDP) {
		soc_event_set_int(ev, SOC_F_SOURCE_PORT, f->key.port[s]);
		soc_event_set_int(ev, SOC_F_DEST_PORT, f->key.port[d]);
	}
	soc_event_set_int(ev, SOC_F_SOURCE_BYTES, (int64_t)f->bytes[s]);
	soc_event_set_int(ev, SOC_F_SOURCE_PACKETS, (int64_t)f->pkts[s]);
	soc_event_set_int(ev, SOC_F_DEST_BYTES, (int64_t)f->bytes[d]);
	soc_event_set_int(ev, SOC_F_DEST_PACKETS, (int64_t)f->pkts[d]);
	soc_event_set_int(ev, SOC_F_NET_BYTES, (int64_t)(f->bytes[0] + f->bytes[1]));
	soc_event_set_int(ev, SOC_F_NET_PACKETS, (int64_t)(f->pkts[0] + f->pkts[1]));
	if (f->key.proto == IPPROTO_NUM_TCP)
		flow_emit_flags(ev, f->tcp_flags);
	if (f->key.proto == IPPROTO_NUM_ICMP || f->key.proto == IPPROTO_NUM_ICMPV6) {
		soc_event_set_int(ev, SOC_F_ICMP_TYPE, f->icmp_type);
		soc_event_set_int(ev, SOC_F_ICMP_CODE, f->icmp_code);
	}
	if (f->key.vlan[0] != 0)
		soc_event_set_int(ev, SOC_F_NET_VLAN_ID, f->key.vlan[0]);
	community_id_format(f->cid, cid);
	soc_event_set_str(ev, SOC_F_NET_COMMUNITY_ID, cid, COMMUNITY_ID_LEN);
	ctx->stats.flows_emitted++;
	if (ctx->emit != NULL)
		ctx->emit(ctx->arg, ev);
}

/* Why a flow in list l ends when it is expired or replaced. */
static const char *
flow_end_reason(const struct flow *f)
{
	if (f->list != L_CLOSED)
		return "idle timeout";
	return (f->fin & FLOW_RST) ? "tcp reset" : "tcp close";
}

/* The final record of flow i, then back to the pool. */
static void
flow_end(struct pkt_ctx *ctx, uint32_t i, const char *reason)
{
	struct flow *f = &ctx->ft.pool[i];

	if (f->key.proto == IPPROTO_NUM_TCP)
		reasm_flow_end(ctx, f);
	flow_emit(ctx, f, reason);
	flow_release(&ctx->ft, i);
}

/* The least recently used flow over all lists, or FLOW_NONE. */
static uint32_t
flow_oldest(const struct flow_table *ft)
{
	uint32_t best = FLOW_NONE;

	for (int l = 0; l < FLOW_LISTS; l++) {
		uint32_t i = ft->head[l];

		if (i != FLOW_NONE && (best == FLOW_NONE ||
		    ft->pool[i].seen < ft->pool[best].seen))
			best = i;
	}
	return best;
}

/* A free entry, evicting (closed flows first, then the LRU) if needed. */
static uint32_t
flow_alloc(struct pkt_ctx *ctx)
{
	struct flow_table *ft = &ctx->ft;
	uint32_t i;

	if (ft->free == FLOW_NONE && ft->fresh < ft->size)
		return ft->fresh++;
	if (ft->free == FLOW_NONE) {
		if ((i = ft->head[L_CLOSED]) == FLOW_NONE)
			i = flow_oldest(ft);
		if (i == FLOW_NONE)
			return FLOW_NONE;	/* size 0: cannot happen */
		ctx->stats.flows_evicted++;
		flow_end(ctx, i, "evicted");
	}
	i = ft->free;
	ft->free = ft->pool[i].next;
	return i;
}

/* Fills the ordered key; returns the key side (0/1) of the sender. */
static int
flow_key_make(const struct pkt_packet *p, struct flow_key *k)
{
	uint32_t alen = p->family == 4 ? 4 : 16;
	int c, side;

	memset(k, 0, sizeof(*k));
	k->proto = p->proto;
	k->family = p->family;
	memcpy(k->vlan, p->vlan, sizeof(k->vlan));
	c = memcmp(p->src, p->dst, alen);
	side = c > 0 || (c == 0 && p->sport > p->dport);
	memcpy(k->addr[side], p->src, alen);
	memcpy(k->addr[!side], p->dst, alen);
	k->port[side] = p->sport;
	k->port[!side] = p->dport;
	return side;
}

static uint32_t
flow_lookup(const struct flow_table *ft, const struct flow_key *k,
    uint32_t h)
{
	uint32_t i = ft->bucket[h & (ft->nbuckets - 1)];

	while (i != FLOW_NONE) {
		if (ft->pool[i].hash == h &&
		    memcmp(&ft->pool[i].key, k, sizeof(*k)) == 0)
			return i;
		i = ft->pool[i].hnext;
	}
	return FLOW_NONE;
}

static bool
tcp_pure_syn(const struct pkt_packet *p)
{
	return p->proto == IPPROTO_NUM_TCP &&
	    (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
}

/*
 * The Community ID digest, once per flow: from the initiator's side, and
 * for ICMP with the type and code of the first packet (neither changes
 * for an ICMP flow; TCP and UDP IDs do not depend on the order).
 */
static void
flow_cid(struct flow *f)
{
	int s = f->init, d = !f->init;
	bool icmp = f->key.proto == IPPROTO_NUM_ICMP ||
	    f->key.proto == IPPROTO_NUM_ICMPV6;

	community_id_digest(f->key.family, f->key.proto, f->key.addr[s],
	    f->key.addr[d], icmp ? f->icmp_type : f->key.port[s],
	    icmp ? f->icmp_code : f->key.port[d], f->cid);
}

static uint32_t
flow_create(struct pkt_ctx *ctx, const struct pkt_packet *p,
    const struct flow_key *k, uint32_t h, int side)
{
	struct flow_table *ft = &ctx->ft;
	struct flow *f;
	uint32_t i;
	uint8_t list;

	if ((i = flow_alloc(ctx)) == FLOW_NONE)
		return FLOW_NONE;
	f = &ft->pool[i];
	memset(f, 0, sizeof(*f));
	f->key = *k;
	f->hash = h;
	f->hnext = ft->bucket[h & (ft->nbuckets - 1)];
	ft->bucket[h & (ft->nbuckets - 1)] = i;
	/* A SYN-ACK first means we missed the SYN: its receiver began. */
	f->init = (uint8_t)side;
	if (p->proto == IPPROTO_NUM_TCP &&
	    (p->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
		f->init = (uint8_t)!side;
	f->icmp_type = p->icmp_type;
	f->icmp_code = p->icmp_code;
	f->first = f->last = f->interim = p->ts;
	f->stream[0] = f->stream[1] = UINT32_MAX;
	flow_cid(f);
	if (p->proto == IPPROTO_NUM_TCP)
		list = L_TCP;
	else if (p->proto == IPPROTO_NUM_UDP)
		list = L_UDP;
	else
		list = L_ICMP;
	f->prev = f->next = FLOW_NONE;
	lru_append(ft, i, list);
	ctx->stats.flows_created++;
	return i;
}

/* TCP state: who started (a SYN corrects a guess), and the end. */
static void
flow_tcp_state(struct flow *f, const struct pkt_packet *p, int side)
{
	if (tcp_pure_syn(p)) {
		if (f->syn == 0 && side != f->init)
			f->init = (uint8_t)side;
		f->syn |= 1 << side;
	}
	if (p->tcp_flags & TCP_FIN)
		f->fin |= 1 << side;
	if (p->tcp_flags & TCP_RST)
		f->fin |= FLOW_RST;
}

/*
 * The invariants of the table: every chain and list well linked and
 * acyclic, entries on the chain of their hash and on the list they
 * claim, lists ordered by last activity, live + free = entries used,
 * chains hold exactly the live entries, the counters agree with the
 * live count, and the stream buffers in use (tcp-reasm.c) are the ones
 * live flows hold.  Returns 0, or -1 with *why (if not NULL) naming the
 * first broken one.  O(pool + buckets).
 */
int
flow_table_check(const struct pkt_ctx *ctx, const char **why)
{
	const struct flow_table *ft = &ctx->ft;
	const struct flow *f;
	uint64_t live = 0, nfree = 0, chained = 0, busy = 0, ended;
	const char *w = NULL;
	uint32_t i, n;

	if (ft->nbuckets == 0 || (ft->nbuckets & (ft->nbuckets - 1)) != 0)
		FAIL_CHECK("bucket count not a power of two");
	for (int l = 0; l < FLOW_LISTS; l++) {
		uint32_t prev = FLOW_NONE;
		int64_t seen = INT64_MIN;

		for (i = ft->head[l], n = 0; i != FLOW_NONE; i = f->next) {
			if (i >= ft->fresh || ++n > ft->size)
				FAIL_CHECK("LRU list out of the pool or cyclic");
			f = &ft->pool[i];
			if (f->list != l)
				FAIL_CHECK("entry on another list than it says");
			if (f->prev != prev)
				FAIL_CHECK("LRU prev link broken");
			if (f->seen < seen)
				FAIL_CHECK("LRU list out of order");
			if (flow_lookup(ft, &f->key, f->hash) != i)
				FAIL_CHECK("live entry not found on its chain");
			if (f->hash != flow_hash(ft, &f->key))
				FAIL_CHECK("stored hash is not the key's");
			for (int s = 0; s < 2; s++)
				if (f->dir[s] & DIR_BUSY) {
					if (f->stream[s] >= ctx->sp.size)
						FAIL_CHECK("stream index out of the pool");
					busy++;
				}
			seen = f->seen;
			prev = i;
			live++;
		}
		if (ft->tail[l] != prev)
			FAIL_CHECK("LRU tail is not the last entry");
	}
	for (i = ft->free, n = 0; i != FLOW_NONE; i = ft->pool[i].next) {
		if (i >= ft->fresh || ++n > ft->size)
			FAIL_CHECK("free list out of the pool or cyclic");
		if (ft->pool[i].list != FLOW_FREE)
			FAIL_CHECK("live entry on the free list");
		nfree++;
	}
	if (ft->fresh > ft->size || live + nfree != ft->fresh)
		FAIL_CHECK("live + free is not the entries used");
	for (uint32_t b = 0; b < ft->nbuckets; b++)
		for (i = ft->bucket[b], n = 0; i != FLOW_NONE;
		    i = ft->pool[i].hnext) {
			if (i >= ft->fresh || ++n > ft->size)
				FAIL_CHECK("hash chain out of the pool or cyclic");
			if (ft->pool[i].list == FLOW_FREE)
				FAIL_CHECK("free entry on a hash chain");
			if ((ft->pool[i].hash & (ft->nbuckets - 1)) != b)
				FAIL_CHECK("entry on another chain than its hash");
			chained++;
		}
	if (chained != live)
		FAIL_CHECK("chains do not hold exactly the live entries");
	ended = ctx->stats.flows_emitted - ctx->stats.flows_interim;
	if (ctx->stats.flows_created < ended ||
	    ctx->stats.flows_created - ended != live)
		FAIL_CHECK("created - ended is not the live count");
	if (busy != ctx->sp.used)
		FAIL_CHECK("stream buffers in use are not those flows hold");
	return 0;
fail:
	if (why != NULL)
		*why = w;
	return -1;
}

/*
 * After a mutating operation, with assert(): the full check once per
 * 16 operations per pool entry, so the cost per packet is constant.
 */
static void
flow_check_sampled(struct pkt_ctx *ctx)
{
#ifndef NDEBUG
	struct flow_table *ft = &ctx->ft;
	const char *why = NULL;

	if (++ft->ops < 16 * (uint64_t)ft->size + 64)
		return;
	ft->ops = 0;
	if (flow_table_check(ctx, &why) == -1)
		fprintf(stderr, "flow_table_check: %s\n", why);
	assert(why == NULL);
#else
	(void)ctx;
#endif
}

struct flow *
flow_update(struct pkt_ctx *ctx, struct pkt_packet *p)
{
	struct flow_table *ft = &ctx->ft;
	struct flow_key k;
	struct flow *f;
	uint32_t h, i;
	int side;

	side = flow_key_make(p, &k);
	h = flow_hash(ft, &k);
	i = flow_lookup(ft, &k, h);
	if (i != FLOW_NONE && ft->pool[i].list == L_CLOSED && tcp_pure_syn(p)) {
		flow_end(ctx, i, flow_end_reason(&ft->pool[i]));  /* port reuse */
		i = FLOW_NONE;
	}
	if (i == FLOW_NONE && (i = flow_create(ctx, p, &k, h, side)) ==
	    FLOW_NONE)
		return NULL;
	f = &ft->pool[i];
	p->side = (uint8_t)side;
	p->flow = f;
	f->pkts[side]++;
	f->bytes[side] += p->ip_len;
	if (p->ts > f->last)
		f->last = p->ts;
	if (p->ts < f->first)
		f->first = p->ts;
	if (p->proto == IPPROTO_NUM_TCP) {
		f->tcp_flags |= p->tcp_flags;
		flow_tcp_state(f, p, side);
	}

	/* The clock only moves forward, so each list stays ordered. */
	if (p->ts > ft->clock)
		ft->clock = p->ts;
	f->seen = ft->clock;
	lru_unlink(ft, i);
	if (p->proto == IPPROTO_NUM_TCP &&
	    ((f->fin & 3) == 3 || (p->tcp_flags & TCP_RST)))
		lru_append(ft, i, L_CLOSED);
	else
		lru_append(ft, i, f->list);

	/* Long flows: a cumulative interim record every active_ns. */
	if (ctx->cfg.active_ns > 0 && p->ts - f->interim >= ctx->cfg.active_ns) {
		f->interim = p->ts;
		ctx->stats.flows_interim++;
		flow_emit(ctx, f, "active timeout");
	}
	flow_check_sampled(ctx);
	return f;
}

void
flow_expire(struct pkt_ctx *ctx, int64_t now_ns)
{
	struct flow_table *ft = &ctx->ft;
	uint32_t i;

	for (int l = 0; l < FLOW_LISTS; l++) {
		while ((i = ft->head[l]) != FLOW_NONE &&
		    now_ns >= ft->pool[i].seen &&
		    (uint64_t)now_ns - (uint64_t)ft->pool[i].seen >=
		    (uint64_t)ft->timeout[l])
			flow_end(ctx, i, flow_end_reason(&ft->pool[i]));
	}
	flow_check_sampled(ctx);
}

/* Emits every flow, least recently used first. */
void
flow_finish(struct pkt_ctx *ctx)
{
	struct flow_table *ft = &ctx->ft;
	uint32_t i;

	while ((i = flow_oldest(ft)) != FLOW_NONE)
		flow_end(ctx, i, "end of capture");
	assert(flow_table_check(ctx, NULL) == 0);
}
