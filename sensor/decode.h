/*
 * Internal declarations of the packet path, shared by decode*.c, flow.c
 * and app-*.c and by nothing else (the public face is pkt.h).
 *
 * A packet walks down the decoders as a struct pkt_packet on the stack of
 * pkt_handle(): each layer checks its header against the captured length
 * (caplen) and the length the enclosing header claims, fills in what it
 * learnt and hands the rest to the next layer.  A packet that fails a
 * check bumps exactly one counter in struct pkt_stats and goes no
 * further.  Only the transport decoders touch the flow table, and only
 * after the whole header chain was found sound.
 */
#ifndef SOC_SENSOR_DECODE_H
#define SOC_SENSOR_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt.h"

#define IPPROTO_NUM_ICMP	1
#define IPPROTO_NUM_TCP		6
#define IPPROTO_NUM_UDP		17
#define IPPROTO_NUM_ICMPV6	58

#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_RST		0x04
#define TCP_PSH		0x08
#define TCP_ACK		0x10
#define TCP_URG		0x20

#define PKT_MAX_VLAN	2		/* tags kept in the flow key */

/* What the decoders learnt about one packet. */
struct pkt_packet {
	const uint8_t	*frame;		/* start of the link header */
	int64_t		 ts;
	uint32_t	 wirelen;	/* as captured on the wire */
	uint32_t	 ip_len;	/* IP packet length: flow bytes */
	uint16_t	 vlan[PKT_MAX_VLAN];	/* outer first; 0 = none */
	uint8_t		 nvlan;
	uint8_t		 family;	/* 4 or 6 */
	uint8_t		 proto;		/* transport protocol number */
	uint8_t		 tcp_flags;
	uint8_t		 icmp_type;
	uint8_t		 icmp_code;
	uint8_t		 src[16];
	uint8_t		 dst[16];
	uint16_t	 sport;
	uint16_t	 dport;
	uint32_t	 tcp_seq;
	const uint8_t	*payload;	/* transport payload, captured part */
	uint32_t	 payload_len;
};

struct flow;

/* One LRU list per idle timeout (tcp, udp, icmp, closed tcp). */
#define FLOW_LISTS	4

/* The flow table; fields private to flow.c but sized here. */
struct flow_table {
	struct flow	*pool;
	uint32_t	*bucket;	/* heads of the hash chains */
	uint32_t	 nbuckets;	/* power of two */
	uint32_t	 size;		/* pool entries */
	uint32_t	 free;		/* head of the free list */
	uint32_t	 head[FLOW_LISTS];	/* LRU lists, oldest first */
	uint32_t	 tail[FLOW_LISTS];
	int64_t		 timeout[FLOW_LISTS];
	int64_t		 clock;		/* latest packet time seen */
	uint32_t	 seed;
};

struct pkt_ctx {
	struct pkt_config	 cfg;
	soc_emit_fn		 emit;
	void			*arg;
	struct pkt_stats	 stats;
	struct flow_table	 ft;
	struct soc_event	 ev;		/* scratch for every emit */
};

/* decode.c */
void	decode_ethertype(struct pkt_ctx *, struct pkt_packet *, uint16_t,
	    const uint8_t *, uint32_t);
void	decode_event_init(struct pkt_ctx *, const struct pkt_packet *,
	    const char *dataset, bool sender_is_source);
const char *decode_transport_name(uint8_t proto);

/* decode-ipv4.c, decode-ipv6.c: data at the IP header, len captured. */
void	decode_ipv4(struct pkt_ctx *, struct pkt_packet *, const uint8_t *,
	    uint32_t len, uint32_t wire);
void	decode_ipv6(struct pkt_ctx *, struct pkt_packet *, const uint8_t *,
	    uint32_t len, uint32_t wire);

/*
 * Transport decoders: data at the transport header, caplen bytes
 * captured out of len the IP header claims (caplen <= len).
 */
void	decode_tcp(struct pkt_ctx *, struct pkt_packet *, const uint8_t *,
	    uint32_t caplen, uint32_t len);
void	decode_udp(struct pkt_ctx *, struct pkt_packet *, const uint8_t *,
	    uint32_t caplen, uint32_t len);
void	decode_icmp(struct pkt_ctx *, struct pkt_packet *, const uint8_t *,
	    uint32_t caplen, uint32_t len);

/* flow.c */
int	flow_table_init(struct flow_table *, const struct pkt_config *);
void	flow_table_free(struct flow_table *);
/* Account the packet; returns the flow or NULL (no flow kept). */
struct flow *flow_update(struct pkt_ctx *, const struct pkt_packet *);
/* Retransmission filter for app parsers: true the first time a client
 * sequence number is offered. */
bool	flow_new_request(struct flow *, uint32_t seq);
void	flow_expire(struct pkt_ctx *, int64_t now_ns);
void	flow_finish(struct pkt_ctx *);

/* app-dns.c, app-http.c */
void	dns_handle(struct pkt_ctx *, const struct pkt_packet *);
void	http_handle(struct pkt_ctx *, const struct pkt_packet *, struct flow *);

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

#endif
