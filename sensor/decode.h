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
#include "soc/hash.h"

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
#define COMMUNITY_ID_DIGEST	20	/* SHA-1 */

struct flow;

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
	const struct flow *flow;	/* set by flow_update, or NULL */
	uint8_t		 side;		/* key side of the sender (flow_update) */
	uint8_t		 reassembled;	/* rebuilt from IP fragments */
};

/* Flow key: the pair ordered so both directions make one key. */
struct flow_key {
	uint8_t		addr[2][16];	/* addr[0] <= addr[1] (with ports) */
	uint16_t	port[2];
	uint16_t	vlan[PKT_MAX_VLAN];
	uint8_t		proto;
	uint8_t		family;
	uint8_t		pad[2];		/* zero: keys compare with memcmp */
};

/* App-layer protocol of a TCP flow, decided on its first payload. */
enum { APP_UNKNOWN, APP_HTTP, APP_TLS, APP_SSH, APP_DNS, APP_NONE };

/* Per-direction stream state (tcp-reasm.c), indexed by key side. */
#define DIR_SEQ0	0x01		/* seq0 known (SYN seen) */
#define DIR_BUSY	0x02		/* stream buffer in use */
#define DIR_END		0x04		/* nothing more to parse this way */
#define DIR_MSG		0x08		/* msg_seq valid */
#define DIR_HELD	0x10		/* buffer kept for a later event (SSH) */

/*
 * One flow.  Lives in the pool of flow.c; tcp-reasm.c and the app
 * parsers read and write the app part.  Kept small: a million of these
 * must fit in a few hundred MB.
 */
struct flow {
	struct flow_key	key;
	uint32_t	hash;
	uint32_t	hnext;		/* hash chain */
	uint32_t	prev, next;	/* LRU list, or free list (next) */
	uint8_t		list;		/* L_*, or FLOW_FREE */
	uint8_t		init;		/* key side of the initiator */
	uint8_t		tcp_flags;	/* union over both directions */
	uint8_t		fin;		/* bit per key side; FLOW_RST */
	uint8_t		syn;		/* bit per side: SYN without ACK */
	uint8_t		icmp_type, icmp_code;
	uint8_t		app;		/* APP_* */
	uint8_t		dir[2];		/* DIR_* per key side */
	uint8_t		pad[2];
	uint32_t	stream[2];	/* stream buffer per side, see DIR_BUSY */
	uint32_t	seq0[2];	/* first data byte (SYN seq + 1) */
	uint32_t	msg_seq[2];	/* start of the last message parsed */
	int64_t		first, last;	/* packet times */
	int64_t		seen;		/* table clock at last packet */
	int64_t		interim;	/* time of the last active-timeout record */
	uint64_t	bytes[2], pkts[2];	/* by key side */
	uint8_t		cid[COMMUNITY_ID_DIGEST];	/* Community ID digest,
						   set at creation */
};
#define FLOW_RST	0x04		/* in flow.fin */

/* One LRU list per idle timeout (tcp, udp, icmp, closed tcp). */
#define FLOW_LISTS	4

/* The flow table; fields private to flow.c but sized here. */
struct flow_table {
	struct flow	*pool;
	uint32_t	*bucket;	/* heads of the hash chains */
	uint32_t	 nbuckets;	/* power of two */
	uint32_t	 size;		/* pool entries */
	uint32_t	 free;		/* head of the free list */
	uint32_t	 fresh;		/* pool[fresh..] never used yet */
	uint32_t	 head[FLOW_LISTS];	/* LRU lists, oldest first */
	uint32_t	 tail[FLOW_LISTS];
	int64_t		 timeout[FLOW_LISTS];
	int64_t		 clock;		/* latest packet time seen */
	struct soc_hash_key key;	/* secret of flow_hash() */
	uint64_t	 ops;		/* since the last sampled check */
};

/* IP fragment reassembly (defrag.c); fields private to defrag.c. */
struct frag_dgram;
struct frag_table {
	struct frag_dgram *pool;
	uint32_t	 size;
	uint32_t	 used;
	int64_t		 timeout;
};

/* TCP stream buffers (tcp-reasm.c); fields private to tcp-reasm.c. */
struct stream_buf;
struct stream_pool {
	struct stream_buf *pool;
	uint32_t	 size;
	uint32_t	 free;		/* head of the free list */
	uint32_t	 fresh;		/* pool[fresh..] never used yet */
	uint32_t	 used;
};

struct pkt_ctx {
	struct pkt_config	 cfg;
	soc_emit_fn		 emit;
	void			*arg;
	struct pkt_stats	 stats;
	struct flow_table	 ft;
	struct frag_table	 frag;
	struct stream_pool	 sp;
	int			 depth;		/* reassembled-datagram nesting */
	int64_t			 now;		/* time of the current packet */
	struct soc_event	 ev;		/* scratch for every emit */
};

/* decode.c */
void	decode_ethertype(struct pkt_ctx *, struct pkt_packet *, uint16_t,
	    const uint8_t *, uint32_t);
/* decode-util.c (the bottom: called by the decoders, calls none) */
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

/* decode-util.c: emits ctx->ev, counting anomalies. */
void	decode_emit(struct pkt_ctx *);
void	decode_anomaly(struct pkt_ctx *, uint8_t family, uint8_t proto,
	    const uint8_t *src, const uint8_t *dst, const char *action,
	    const char *reason);

/* flow.c */
int	flow_table_init(struct flow_table *, const struct pkt_config *);
void	flow_table_free(struct flow_table *);
/* Account the packet, set p->side; returns the flow or NULL. */
struct flow *flow_update(struct pkt_ctx *, struct pkt_packet *);
void	flow_expire(struct pkt_ctx *, int64_t now_ns);
void	flow_finish(struct pkt_ctx *);
/* The table's invariants: 0, or -1 and *why (if not NULL) says which. */
int	flow_table_check(const struct pkt_ctx *, const char **why);
/* decode-util.c: a packet header as if side sent it, for events built
 * at flow end. */
void	flow_packet(const struct flow *, int side, int64_t ts,
	    struct pkt_packet *);

/* community-id.c */
#define COMMUNITY_ID_LEN	30	/* "1:" + 28 base64 characters */
/* Community ID v1, seed 0, of a packet's conversation; out gets
 * COMMUNITY_ID_LEN characters and a NUL.  For ICMP the ports are type
 * and code. */
void	community_id(uint8_t family, uint8_t proto, const uint8_t *src,
	    const uint8_t *dst, uint16_t sport, uint16_t dport,
	    char out[COMMUNITY_ID_LEN + 1]);
/* The same in two steps: the SHA-1 digest (kept per flow), its text. */
void	community_id_digest(uint8_t family, uint8_t proto, const uint8_t *src,
	    const uint8_t *dst, uint16_t sport, uint16_t dport,
	    uint8_t digest[COMMUNITY_ID_DIGEST]);
void	community_id_format(const uint8_t digest[COMMUNITY_ID_DIGEST],
	    char out[COMMUNITY_ID_LEN + 1]);

/* defrag.c: data at the IP header (len captured, complete). */
int	frag_init(struct frag_table *, const struct pkt_config *);
void	frag_free(struct frag_table *);
void	frag_ipv4(struct pkt_ctx *, struct pkt_packet *, const uint8_t *,
	    uint32_t hlen, uint32_t tlen);
/* IPv6: hdr the fixed header, fh the fragment header, data its payload. */
void	frag_ipv6(struct pkt_ctx *, struct pkt_packet *, const uint8_t *hdr,
	    const uint8_t *fh, const uint8_t *data, uint32_t len);
void	frag_expire(struct pkt_ctx *, int64_t now_ns);

/* tcp-reasm.c */
int	reasm_init(struct stream_pool *, const struct pkt_config *);
void	reasm_free(struct stream_pool *);
/* Every TCP segment of flow f, after flow_update. */
void	reasm_segment(struct pkt_ctx *, const struct pkt_packet *,
	    struct flow *);
/* Flow f ends: emit what is pending, release its buffers. */
void	reasm_flow_end(struct pkt_ctx *, struct flow *);

/*
 * App parsers over the bytes of one direction from the start of a
 * message (buf, len contiguous).  p is the packet that completed them
 * (events are addressed from it).  They return APP_MORE (incomplete:
 * buffer and call again with more), APP_NEXT (done; the next segment
 * may start another message) or APP_END (done with this direction, or
 * not this protocol).  *used is set to the bytes consumed.
 */
enum app_res { APP_MORE, APP_NEXT, APP_END };
enum app_res http_parse(struct pkt_ctx *, const struct pkt_packet *,
	    struct flow *, const uint8_t *, uint32_t, bool full, uint32_t *used);
enum app_res tls_parse(struct pkt_ctx *, const struct pkt_packet *,
	    struct flow *, const uint8_t *, uint32_t, bool full, uint32_t *used);
enum app_res dns_tcp_parse(struct pkt_ctx *, const struct pkt_packet *,
	    struct flow *, const uint8_t *, uint32_t, bool full, uint32_t *used);
/* SSH: returns the banner length (without EOL) in *blen, or APP_MORE. */
enum app_res ssh_banner(const uint8_t *, uint32_t, bool full,
	    uint32_t *off, uint32_t *blen);
void	ssh_emit(struct pkt_ctx *, const struct pkt_packet *,
	    const uint8_t *client, uint32_t clen, const uint8_t *server,
	    uint32_t slen);
bool	http_is_request(const uint8_t *, uint32_t);
bool	http_is_response(const uint8_t *, uint32_t);

/* app-x509.c: the leaf certificate of a TLS Certificate message. */
#define X509_DN_MAX	512
#define X509_CN_MAX	256
#define X509_SAN_MAX	1024
struct x509_cert {
	char		 subject[X509_DN_MAX], issuer[X509_DN_MAX];
	size_t		 subject_len, issuer_len;
	char		 subject_cn[X509_CN_MAX], issuer_cn[X509_CN_MAX];
	size_t		 subject_cn_len, issuer_cn_len;
	char		 san[X509_SAN_MAX];	/* comma-joined */
	size_t		 san_len;
	uint32_t	 nsan;
	char		 serial[2 * 32 + 1];	/* upper-case hex, cut */
	size_t		 serial_len;
	int64_t		 not_before, not_after;	/* ns since the epoch */
	const char	*key_type;		/* "rsa", "ecdsa", ... or NULL */
	uint32_t	 key_bits;		/* 0: unknown */
};
/* Parses one DER certificate (untrusted bytes): 0, or -1 if unsound. */
int	x509_parse(const uint8_t *, uint32_t, struct x509_cert *);

/* app-dns.c */
void	dns_handle(struct pkt_ctx *, const struct pkt_packet *);
/* One DNS message (UDP payload or a TCP message without its prefix). */
int	dns_message(struct pkt_ctx *, const struct pkt_packet *,
	    const uint8_t *, uint32_t);

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
