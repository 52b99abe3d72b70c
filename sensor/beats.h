/*
 * The Beats protocol server (Lumberjack v2, what Winlogbeat, Filebeat and
 * Auditbeat speak to Logstash): see beats.c.
 *
 * Like the other intake modules it is a handle opened from its own
 * configuration and an emit callback; it knows nothing of the daemon.
 * main.c polls one descriptor (an epoll set holding the listeners and
 * every client), calls beats_dispatch(), and tells the server where the
 * events it emitted went (beats_handed_on) and what is durable
 * (beats_durable): a window is acknowledged only then.
 */
#ifndef SOC_SENSOR_BEATS_H
#define SOC_SENSOR_BEATS_H

#include <stddef.h>
#include <stdint.h>
#include "soc/event.h"
#include "pkt.h"

struct beats_conf {
	const char	*listen;	/* "ADDR:PORT" */
	const char	*tls_cert;	/* PEM; with tls_key: TLS only */
	const char	*tls_key;
	const char	*tls_ca;	/* PEM; clients must show a cert it signed */
	size_t		 max_frame;	/* bytes of one frame, inflated too */
	uint32_t	 max_window;	/* events in one window */
	size_t		 max_conns;
	int64_t		 idle_s;	/* close a silent client; 0 = never */
	size_t		 max_buffer;	/* bytes of every client's input
					   buffer together (beats.c) */
	/*
	 * Worker threads that inflate and read compressed frames, each
	 * client's in its order (beats.c); 0: the main thread does.  With
	 * workers, events come out encoded for the wire, one record at a
	 * time (rec: its bytes, soc/wire.h), with soc.observer.name set to
	 * observer when they lack one.
	 */
	unsigned	 workers;
	void		(*rec)(void *arg, const uint8_t *rec, size_t len);
	const char	*observer;
};

/* Why something was refused: each is counted (beats_refused_NAME). */
enum beats_reason {
	BEATS_R_VERSION,	/* not '2' (Lumberjack v1, or not Beats) */
	BEATS_R_TYPE,		/* unknown frame type */
	BEATS_R_FRAME,		/* frame longer than beats.max_frame_kb */
	BEATS_R_WINDOW,		/* window larger than beats.max_window */
	BEATS_R_ZLIB,		/* compressed frame does not inflate */
	BEATS_R_BOMB,		/* inflates past beats.max_frame_kb */
	BEATS_R_NESTED,		/* compressed frame inside a compressed one */
	BEATS_R_SEQUENCE,	/* data outside a window, or more than it said */
	BEATS_R_JSON,		/* not JSON */
	BEATS_R_DEPTH,		/* JSON nested deeper than BEATS_JSON_DEPTH */
	BEATS_R_EVENT,		/* JSON the event reader refused: skipped */
	BEATS_R_LEGACY,		/* malformed 'D' frame */
	BEATS_R_TLS,		/* handshake failed (no or bad client cert) */
	BEATS_R_CONNS,		/* beats.max_connections reached */
	BEATS_R_LOST,		/* the sink dropped a batch: closed, unacked */
	BEATS_R_COUNT
};

#define BEATS_JSON_DEPTH	64

const char	*beats_reason_name(int r);	/* "frame_size", ... */

struct beats_stats {
	uint64_t	connections;	/* accepted */
	uint64_t	open;		/* connected now */
	uint64_t	frames;
	uint64_t	windows;
	uint64_t	events;		/* emitted */
	uint64_t	acks;
	uint64_t	compressed;	/* 'C' frames */
	uint64_t	legacy;		/* 'D' frames */
	uint64_t	idle_closed;
	uint64_t	keepalives;	/* ACK 0 while a window waits */
	uint64_t	buffer_waits;	/* clients paused for the budget */
	uint64_t	buffer_bytes;	/* input buffers now (a gauge) */
	uint64_t	refused[BEATS_R_COUNT];
};

/*
 * The protocol, apart from sockets (the fuzz target drives it alone).
 * A session is one client's state; beats_session_feed() consumes whole
 * frames from buf and emits their events.
 */
struct beats_session;
struct beats_session *beats_session_new(const struct beats_conf *bc,
		    soc_emit_fn emit, void *arg, struct beats_stats *st);
/* Consumes what it can from buf: *used bytes.  0: more bytes needed (or
 * none), -1: refused, *reason set (counted); the caller closes. */
int		 beats_session_feed(struct beats_session *s, const uint8_t *buf,
		    size_t len, size_t *used, int *reason);
/* The sequence number completing the oldest window, or -1 if none is
 * complete; beats_session_pop() forgets it. */
int64_t		 beats_session_done(const struct beats_session *s);
void		 beats_session_pop(struct beats_session *s);
void		 beats_session_free(struct beats_session *s);
/* The one place JSON becomes an event (kept alone so a Windows-aware
 * reader can replace the call). */
int		 beats_json_event(const char *s, size_t len, struct soc_event *ev,
		    const char **why);
/* Iterative syntax check with a depth bound: 0, or a beats_reason. */
int		 beats_json_check(const char *s, size_t len, int max_depth);

/*
 * The server.
 */
struct beats;

/* Opens the listener and loads the TLS credentials.  NULL with err set
 * on failure, NULL with err empty when bc->listen is NULL. */
struct beats	*beats_open(const struct beats_conf *bc, soc_emit_fn emit,
		    void *arg, char *err, size_t errlen);
int		 beats_fd(const struct beats *b);	/* poll for POLLIN */
/* Accepts, reads, emits; returns how many events were emitted. */
size_t		 beats_dispatch(struct beats *b);
/*
 * The events emitted since the last call went into the sink's batch
 * number mark (marks grow), or were lost (ok 0: their clients are closed
 * unacked, so they send them again).
 */
void		 beats_handed_on(struct beats *b, uint64_t mark, int ok);
/* Batches up to mark are durable; lost: the newest batch the sink
 * dropped after taking it (0: none).  Sends the ACKs now due. */
void		 beats_durable(struct beats *b, uint64_t mark, uint64_t lost);
/* Whether windows wait for beats_durable(): poll sooner. */
int		 beats_waiting(const struct beats *b);
void		 beats_stats(const struct beats *b, struct beats_stats *st);
void		 beats_close(struct beats *b);

#endif
