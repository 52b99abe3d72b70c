/*
 * Packet path of soc-sensor: link-layer and IP decoding, the flow table
 * and app-layer metadata (DNS, HTTP, TLS, SSH).  The capture loop
 * (capture.c) hands every packet to pkt_handle(); decoders emit normalized
 * events through the callback.  Nothing here allocates per packet: flows,
 * IP fragment buffers and TCP stream buffers come from pools sized at
 * pkt_new().
 */
#ifndef SOC_SENSOR_PKT_H
#define SOC_SENSOR_PKT_H

#include <stdint.h>
#include "soc/event.h"

typedef void (*soc_emit_fn)(void *arg, struct soc_event *ev);

struct pkt_config {
	uint32_t	max_flows;		/* pool size; 0 = default 65536 */
	int64_t		tcp_idle_ns;		/* 0 = default 300 s */
	int64_t		udp_idle_ns;		/* 0 = default 60 s */
	int64_t		icmp_idle_ns;		/* 0 = default 30 s */
	int64_t		active_ns;		/* interim flow records; 0 = 120 s,
						   < 0 = never */
	uint32_t	frag_max;		/* datagrams in reassembly; 0 = 64 */
	int64_t		frag_timeout_ns;	/* 0 = default 30 s */
	uint32_t	stream_max;		/* TCP stream buffers (4 KB each,
						   one per direction); 0 = 4096 */
	int		http_cookies;		/* copy requests' Cookie headers
						   (off: they carry session
						   secrets) */
};

/* Counters, by reason; all monotonic. */
struct pkt_stats {
	uint64_t	packets;
	uint64_t	bytes;
	uint64_t	truncated;		/* shorter than a header says */
	uint64_t	malformed;		/* impossible header values */
	uint64_t	unsupported;		/* link type / ethertype / proto */
	uint64_t	fragments;		/* IP fragments seen */
	uint64_t	flows_created;
	uint64_t	flows_evicted;		/* pool full: oldest flow emitted early */
	uint64_t	flows_emitted;
	uint64_t	dns_events;
	uint64_t	http_events;
	uint64_t	dns_malformed;		/* port 53 payload not a sound DNS message */
	/* appended with issue 3 */
	uint64_t	frag_reassembled;	/* datagrams rebuilt from fragments */
	uint64_t	frag_timeouts;		/* incomplete datagrams given up */
	uint64_t	frag_evicted;		/* pool full: oldest datagram dropped */
	uint64_t	frag_bad;		/* datagrams dropped as anomalous */
	uint64_t	anomalies;		/* anomaly events emitted */
	uint64_t	flows_interim;		/* active-timeout records */
	uint64_t	tls_events;
	uint64_t	ssh_events;
	uint64_t	tls_malformed;		/* handshake not a sound ClientHello */
	uint64_t	stream_exhausted;	/* no stream buffer free: not followed */
	uint64_t	stream_overflow;	/* message longer than a stream buffer */
	uint64_t	stream_ooo;		/* out-of-order segments held */
	uint64_t	stream_dropped;		/* segments outside the window */
	uint64_t	x509_events;		/* server leaf certificates */
	uint64_t	x509_malformed;		/* Certificate message unsound */
	uint64_t	x509_truncated;		/* leaf past the stream buffer */
};

struct pkt_ctx;

/* Returns NULL on allocation failure.  emit may be called from pkt_*. */
struct pkt_ctx	*pkt_new(const struct pkt_config *cfg, soc_emit_fn emit, void *arg);
void		 pkt_free(struct pkt_ctx *ctx);
/* linktype is a DLT_* value (DLT_EN10MB, DLT_RAW, ...). */
void		 pkt_handle(struct pkt_ctx *ctx, int linktype, int64_t ts_ns,
		    const uint8_t *data, uint32_t caplen, uint32_t wirelen);
/* Expire flows idle at now_ns (packet time); cheap, call every second. */
void		 pkt_expire(struct pkt_ctx *ctx, int64_t now_ns);
/* Emit every remaining flow (end of input). */
void		 pkt_finish(struct pkt_ctx *ctx);
const struct pkt_stats *pkt_stats(const struct pkt_ctx *ctx);

#endif
