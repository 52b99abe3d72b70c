/*
 * The uplink: a thread that owns the ZeroMQ DEALER socket to the
 * correlator, so the capture loop never waits on the network or the disk.
 * Finished batches arrive over an inproc pipe (frame 1: the batch; frame
 * 2, optional: the log-file checkpoint just after its last line).  The
 * thread numbers them, keeps them until the correlator acks them (after
 * its SQLite commit), keeps up to a window of them in flight, and when
 * the oldest ack is overdue resends everything unacked, oldest first.
 *
 * With a spool directory, every batch is written to disk (spool.c) before
 * it is sent, and the log-file positions are handed to the save callback
 * right after: a crash or SIGKILL then loses nothing, and spooled batches
 * are resent with their original sequence numbers, which the correlator
 * recognises.  When a spool write fails (disk full), that batch and every
 * later one are held in memory, their positions saved only on their ack,
 * and written to the spool in order once it has room again (retried each
 * second): no position is ever saved past a batch that is neither on
 * disk nor acked, so a crash then re-reads the lines instead of losing
 * them.  Without a spool, batches wait in memory and positions are
 * handed to the save callback when the batch is acked (at-least-once
 * across a crash).  The uplink never writes the state file itself.
 *
 * A correlator that refuses this sensor's key (ZAP status 400: not
 * enrolled, or revoked) is reported as such, from the socket monitor's
 * handshake events, rather than only as batches left unacknowledged.
 *
 * Sequence numbers start from the wall clock in microseconds (or after
 * the newest spooled one), so they keep growing across restarts and the
 * correlator can tell a resend by "seq <= last committed".
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "soc/log.h"
#include "soc/util.h"
#include "sensor.h"
#include "spool.h"

#define UPLINK_WINDOW	64		/* batches in flight */

struct qent {
	uint64_t	 seq;
	int64_t		 sent_ms;
	uint32_t	 nevents;
	uint8_t		*data;		/* memory mode: the batch */
	size_t		 len;
	zmq_msg_t	*zm;		/* memory mode: the message data lies
					   in, taken from the pipe (no copy) */
	char		*cp;		/* memory mode: checkpoint to save on ack */
	size_t		 cp_len;
	struct spool_rec rec;		/* spool mode */
	uint64_t	 pidx;		/* its place in the pipe (1, 2, ...) */
};

struct uplink {
	const struct sensor_conf *conf;
	uplink_save_fn	 save;		/* positions are durable: keep them */
	void		*save_arg;
	const volatile sig_atomic_t *stop;
	void		*zctx;
	void		*pipe_main;	/* producer side (sensor thread) */
	void		*pipe_thr;	/* uplink thread side */
	void		*dealer;
	void		*mon;		/* the dealer's handshake events */
	int		 refused;	/* a handshake failed; logged once */
	_Atomic int	 key_refused;	/* status 400: stop (uplink_finish) */
	char		 server_pub[41];	/* for the log */
	pthread_t	 thr;
	int		 blocking;	/* replay: producer waits, never drops */

	/* thread-owned */
	struct spool	*sp;
	struct qent	*q;
	size_t		 qhead, qn, qcap, qmax;
	size_t		 inflight;	/* q[0..inflight) have been sent */
	size_t		 mem_held;	/* spool mode: the last mem_held entries
					   are in memory only (a write failed) */
	int64_t		 spool_retry_ms; /* next try to spool them */
	uint64_t	 next_seq;
	uint64_t	 acked_seq;	/* the correlator has all up to this */
	char		*seq_path;	/* where the sequence floor is kept */
	uint64_t	 seq_floor;	/* persisted: never issue below it */
	uint64_t	 last_nack;	/* rewind once per NACK, not per batch */
	int64_t		 last_nack_ms;
	uint8_t		*rbuf;		/* spool read buffer */
	size_t		 rbuf_cap;
	uint8_t		*hb;		/* newest heartbeat not yet sent */
	size_t		 hb_len;

	_Atomic uint64_t batches_queued;
	_Atomic uint64_t batches_sent;
	_Atomic uint64_t batches_acked;
	_Atomic uint64_t batches_resent;
	_Atomic uint64_t batches_dropped;
	_Atomic uint64_t events_acked;
	_Atomic uint64_t unacked;
	_Atomic uint64_t spool_bytes;
	_Atomic uint64_t rewinds;
	_Atomic uint64_t auth_refused;	/* runs of refused handshakes */
	_Atomic int	 stopping;	/* uplink_finish() was called */
	uint64_t	 start_us;	/* this run, for the correlator */

	/* durability by pipe order, for the Beats server's acks: the main
	 * thread counts what it put in the pipe, this thread what it took;
	 * durable: every message up to it is spooled, acked or dropped;
	 * lost: the newest one dropped after it was taken */
	uint64_t	 submitted;	/* main thread */
	uint64_t	 received;	/* uplink thread */
	_Atomic uint64_t durable;
	_Atomic uint64_t lost;
};

static struct qent *
q_at(struct uplink *u, size_t i)
{
	return &u->q[(u->qhead + i) % u->qcap];
}

/* Grow the ring (spool mode keeps an index of everything on disk). */
static int
q_grow(struct uplink *u)
{
	size_t ncap = u->qcap * 2;
	struct qent *nq;

	if (ncap > u->qmax || (nq = calloc(ncap, sizeof(*nq))) == NULL)
		return -1;
	for (size_t i = 0; i < u->qn; i++)
		nq[i] = *q_at(u, i);
	free(u->q);
	u->q = nq;
	u->qcap = ncap;
	u->qhead = 0;
	return 0;
}

static struct qent *
q_push(struct uplink *u, uint64_t seq)
{
	struct qent *e;

	if (u->qn == u->qcap && q_grow(u) == -1)
		return NULL;
	e = q_at(u, u->qn++);
	memset(e, 0, sizeof(*e));
	e->seq = seq;
	atomic_store(&u->unacked, u->qn);
	return e;
}

/* A memory-mode batch's bytes: a message from the pipe, or a copy. */
static void
q_data_free(struct qent *e)
{
	if (e->zm != NULL) {
		zmq_msg_close(e->zm);
		free(e->zm);
		e->zm = NULL;
	} else
		free(e->data);
	e->data = NULL;
}

static void
q_pop(struct uplink *u)
{
	struct qent *e = q_at(u, 0);

	if (u->sp != NULL && e->data != NULL && u->mem_held > 0)
		u->mem_held--;
	q_data_free(e);
	free(e->cp);
	u->qhead = (u->qhead + 1) % u->qcap;
	u->qn--;
	if (u->inflight > 0)
		u->inflight--;
	atomic_store(&u->unacked, u->qn);
}

/*
 * The batch's bytes; NULL with *lost set when the spool's size bound
 * dropped it (counted there), NULL alone on a passing I/O or memory
 * failure (the timer retries).
 */
static uint8_t *
q_data(struct uplink *u, struct qent *e, size_t *len, int *lost)
{
	int rc;

	*lost = 0;
	if (e->data != NULL) {
		*len = e->len;
		return e->data;
	}
	if (e->rec.batch_len > u->rbuf_cap) {
		uint8_t *nb = realloc(u->rbuf, e->rec.batch_len);

		if (nb == NULL)
			return NULL;
		u->rbuf = nb;
		u->rbuf_cap = e->rec.batch_len;
	}
	if ((rc = spool_read(u->sp, &e->rec, u->rbuf)) != 0) {
		*lost = rc == -2;
		return NULL;
	}
	*len = e->rec.batch_len;
	return u->rbuf;
}

/*
 * One batch to the dealer, chained to prev.  A batch held as a message
 * from the pipe goes the first time without a copy: the message sent
 * shares its bytes (zmq_msg_copy counts references), which nothing
 * writes to again.  A resend is a copy, its chain field set in the copy,
 * since an earlier send may still be in ZeroMQ's queue.
 */
static int
send_batch(struct uplink *u, struct qent *e, uint8_t *data, size_t len,
    uint64_t prev)
{
	zmq_msg_t m;

	if (e->zm == NULL) {		/* our own buffer, or the spool's */
		soc_wire_set_prev(data, len, prev);
		return zmq_send(u->dealer, data, len, ZMQ_DONTWAIT) == -1 ?
		    -1 : 0;
	}
	if (e->sent_ms == 0) {
		soc_wire_set_prev(data, len, prev);
		zmq_msg_init(&m);
		if (zmq_msg_copy(&m, e->zm) == -1) {
			zmq_msg_close(&m);
			return -1;
		}
	} else {
		if (zmq_msg_init_size(&m, len) == -1)
			return -1;
		memcpy(zmq_msg_data(&m), data, len);
		soc_wire_set_prev(zmq_msg_data(&m), len, prev);
	}
	if (zmq_msg_send(&m, u->dealer, ZMQ_DONTWAIT) == -1) {
		zmq_msg_close(&m);
		return -1;
	}
	return 0;
}

/*
 * Send unsent batches, oldest first, up to the window.  Each is chained to
 * the one before it in the queue (the head to the last acked batch, or 0:
 * everything before it is committed or counted lost), so the correlator
 * can refuse a batch whose predecessor went missing on the way.
 */
static void
pump(struct uplink *u, int64_t now)
{
	while (u->inflight < u->qn && u->inflight < UPLINK_WINDOW) {
		struct qent *e = q_at(u, u->inflight);
		uint64_t prev = u->inflight ? q_at(u, u->inflight - 1)->seq :
		    u->acked_seq;
		uint8_t *data;
		size_t len;
		int lost;

		if ((data = q_data(u, e, &len, &lost)) == NULL) {
			/* gone from the spool (size bound, counted there): the
			 * next one becomes the head; anything else: retry later */
			if (lost && u->inflight == 0) {
				q_pop(u);
				atomic_fetch_add(&u->batches_dropped, 1);
				continue;
			}
			break;
		}
		if (send_batch(u, e, data, len, prev) == -1)
			return;		/* not connected: retried on the timer */
		if (e->sent_ms != 0)
			atomic_fetch_add(&u->batches_resent, 1);
		else
			atomic_fetch_add(&u->batches_sent, 1);
		e->sent_ms = now;
		u->inflight++;
	}
}

static void
spool_queue_cb(void *arg, const struct spool_rec *r)
{
	struct uplink *u = arg;
	struct qent *e = q_push(u, r->seq);

	if (e != NULL)
		e->rec = *r;
	if (r->seq >= u->next_seq)
		u->next_seq = r->seq + 1;
}

/* Forget index entries whose records the spool bound dropped. */
static void
drop_lost(struct uplink *u)
{
	struct spool_stats st;
	uint64_t first = spool_first_seq(u->sp);

	while (u->qn > 0 && q_at(u, 0)->data == NULL && q_at(u, 0)->seq < first) {
		q_pop(u);
		atomic_fetch_add(&u->batches_dropped, 1);
	}
	spool_stats(u->sp, &st);
	atomic_store(&u->spool_bytes, st.bytes);
}

/*
 * Sequence numbers must keep growing even if the clock is stepped back
 * (NTP, a box without an RTC): a floor is kept on disk, raised a block of
 * numbers at a time, and a restart starts above it.
 */
#define SEQ_BLOCK	1000000

static uint64_t
seq_floor_load(const char *path)
{
	unsigned long long v = 0;
	FILE *f;

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

static void
seq_floor_raise(struct uplink *u, uint64_t seq)
{
	char text[32], err[512];
	int n;

	if (u->seq_path == NULL || seq < u->seq_floor)
		return;
	u->seq_floor = seq + SEQ_BLOCK;
	n = snprintf(text, sizeof(text), "%llu\n",
	    (unsigned long long)u->seq_floor);
	/* 0666 before umask, as fopen(3) created it */
	if (soc_write_atomic(u->seq_path, text, (size_t)n, 0666, err,
	    sizeof(err)) == -1)
		log_warnx("%s: cannot keep the sequence floor: %s",
		    u->seq_path, err);
}

static void
on_batch(struct uplink *u, zmq_msg_t *m, zmq_msg_t *cp, int64_t now)
{
	size_t len = zmq_msg_size(m), cp_len = cp ? zmq_msg_size(cp) : 0;
	const void *cpd = cp ? zmq_msg_data(cp) : NULL;
	uint8_t *data = zmq_msg_data(m);
	uint64_t seq = u->next_seq++;
	uint32_t nevents = len >= SOC_WIRE_HDR_LEN ? (uint32_t)data[16] |
	    (uint32_t)data[17] << 8 | (uint32_t)data[18] << 16 |
	    (uint32_t)data[19] << 24 : 0;
	struct qent *e;

	seq_floor_raise(u, seq);
	soc_wire_set_seq(data, len, seq);
	/* behind a batch held in memory, never ahead of it on disk */
	if (u->sp != NULL && u->mem_held == 0) {
		struct spool_rec rec;

		if (spool_append(u->sp, seq, cpd, cp_len, data, len, &rec) == 0) {
			if ((e = q_push(u, seq)) == NULL) {
				atomic_fetch_add(&u->batches_dropped, 1);
				atomic_store(&u->lost, u->received);
				return;
			}
			e->pidx = u->received;
			e->rec = rec;
			e->nevents = nevents;
			if (cp_len > 0 && u->save != NULL)
				u->save(u->save_arg, cpd, cp_len);
			drop_lost(u);
			atomic_fetch_add(&u->batches_queued, 1);
			pump(u, now);
			return;
		}
		/* disk trouble: keep it in memory rather than lose it */
		u->spool_retry_ms = now + 1000;
	}
	if ((e = q_push(u, seq)) == NULL ||
	    (e->zm = malloc(sizeof(*e->zm))) == NULL) {
		if (e != NULL)
			u->qn--;
		atomic_store(&u->unacked, u->qn);
		atomic_fetch_add(&u->batches_dropped, 1);
		atomic_store(&u->lost, u->received);
		return;
	}
	e->pidx = u->received;
	if (u->sp != NULL)
		u->mem_held++;
	/* the message itself is kept: its bytes are not copied */
	zmq_msg_init(e->zm);
	zmq_msg_move(e->zm, m);
	e->data = zmq_msg_data(e->zm);
	e->len = len;
	e->nevents = nevents;
	if (cp_len > 0 && (e->cp = malloc(cp_len)) != NULL) {
		memcpy(e->cp, cpd, cp_len);
		e->cp_len = cp_len;
	}
	atomic_fetch_add(&u->batches_queued, 1);
	pump(u, now);
}

/* Everything up to seq is committed: release it. */
static void
release(struct uplink *u, uint64_t seq)
{
	char *cp = NULL;
	size_t cp_len = 0;

	while (u->qn > 0 && q_at(u, 0)->seq <= seq) {
		struct qent *e = q_at(u, 0);

		atomic_fetch_add(&u->events_acked, e->nevents);
		/* memory mode: positions are safe once acked; only the newest
		 * acked checkpoint needs writing */
		if (e->cp != NULL) {
			free(cp);
			cp = e->cp;
			cp_len = e->cp_len;
			e->cp = NULL;
		}
		q_pop(u);
		atomic_fetch_add(&u->batches_acked, 1);
	}
	if (cp != NULL && u->save != NULL)
		u->save(u->save_arg, cp, cp_len);
	free(cp);
	if (u->sp != NULL) {
		spool_ack(u->sp, seq);
		drop_lost(u);
	}
}

static void
on_ack(struct uplink *u, int64_t now)
{
	uint8_t buf[64];
	uint64_t seq;
	int n, kind;

	while ((n = zmq_recv(u->dealer, buf, sizeof(buf), ZMQ_DONTWAIT)) >= 0) {
		if ((kind = soc_wire_ack_decode(buf, (size_t)n, &seq)) == -1) {
			log_warnx("uplink: malformed reply (%d bytes) ignored", n);
			continue;
		}
		/* the correlator commits in chain order: an ack or a NACK
		 * covers everything up to seq */
		release(u, seq);
		if (kind == SOC_WIRE_ACK) {
			if (seq > u->acked_seq)
				u->acked_seq = seq;
			continue;
		}
		/* NACK: a batch went missing after seq; resend from there (the
		 * correlator's word wins, even if it forgot something) */
		u->acked_seq = seq;
		if (seq != u->last_nack || now - u->last_nack_ms >=
		    u->conf->ack_timeout_ms) {
			u->last_nack = seq;
			u->last_nack_ms = now;
			u->inflight = 0;
			atomic_fetch_add(&u->rewinds, 1);
		}
	}
}

/*
 * Spool mode after a failed write: write the batches held in memory to
 * the spool, oldest first, and save the positions after the last one
 * written (everything before it is on disk or acked).  Stops at the first
 * failure, to try again a second later.
 */
static void
spool_catch_up(struct uplink *u, int64_t now)
{
	char *cp = NULL;
	size_t cp_len = 0;
	struct spool_rec rec;
	struct qent *e;

	if (u->sp == NULL || u->mem_held == 0 || now < u->spool_retry_ms)
		return;
	while (u->mem_held > 0) {
		e = q_at(u, u->qn - u->mem_held);
		if (spool_append(u->sp, e->seq, e->cp, e->cp_len, e->data, e->len,
		    &rec) == -1) {
			u->spool_retry_ms = now + 1000;
			break;
		}
		e->rec = rec;
		q_data_free(e);
		if (e->cp != NULL) {
			/* only the newest needs saving */
			free(cp);
			cp = e->cp;
			cp_len = e->cp_len;
			e->cp = NULL;
		}
		u->mem_held--;
	}
	if (cp != NULL && u->save != NULL)
		u->save(u->save_arg, cp, cp_len);
	free(cp);
	drop_lost(u);
}

/*
 * The heartbeat was made by the sensor's thread; its events_acked and
 * batches_unacked are set again here, as they are when it leaves: with
 * nothing unacked, every batch sent before it is acked and counted, and
 * none sent after it can overtake it, so the correlator can compare
 * events_acked with what it applied, exactly (issue 15).
 */
static void
hb_patch(struct uplink *u)
{
	uint8_t *p = u->hb + SOC_WIRE_HDR_LEN, *end = u->hb + u->hb_len;
	uint64_t v;
	size_t n;

	if (u->hb_len < SOC_WIRE_HDR_LEN)
		return;
	while (p < end && (n = p[0]) > 0 && (size_t)(end - p) >= 1 + n + 8) {
		if (n == 12 && memcmp(p + 1, "events_acked", 12) == 0)
			v = atomic_load(&u->events_acked);
		else if (n == 15 && memcmp(p + 1, "batches_unacked", 15) == 0)
			v = u->qn;
		else {
			p += 1 + n + 8;
			continue;
		}
		for (int i = 0; i < 8; i++)
			p[1 + n + i] = (uint8_t)(v >> (8 * i));
		p += 1 + n + 8;
	}
}

/* When the oldest ack is overdue, start over from the oldest. */
static void
on_timer(struct uplink *u, int64_t now)
{
	spool_catch_up(u, now);
	if (u->qn > 0 && u->inflight > 0 &&
	    now - q_at(u, 0)->sent_ms >= u->conf->ack_timeout_ms)
		u->inflight = 0;
	pump(u, now);
	if (u->hb != NULL)
		hb_patch(u);
	if (u->hb != NULL &&
	    zmq_send(u->dealer, u->hb, u->hb_len, ZMQ_DONTWAIT) != -1) {
		free(u->hb);
		u->hb = NULL;
	}
}

static void
on_pipe(struct uplink *u, int *fin, int64_t *deadline, int64_t now)
{
	zmq_msg_t m, cp;
	int has_cp = 0;

	zmq_msg_init(&m);
	zmq_msg_init(&cp);
	if (zmq_msg_recv(&m, u->pipe_thr, ZMQ_DONTWAIT) < 0)
		goto out;
	if (zmq_msg_more(&m) && zmq_msg_recv(&cp, u->pipe_thr, 0) >= 0)
		has_cp = 1;
	if (zmq_msg_size(&m) == 0) {
		*fin = 1;
		*deadline = now + u->conf->drain_timeout_s * 1000;
	} else if (zmq_msg_size(&m) > 5 &&
	    ((uint8_t *)zmq_msg_data(&m))[5] == SOC_WIRE_HEARTBEAT) {
		/* only the newest matters; kept until a connection takes it */
		u->received++;
		free(u->hb);
		if ((u->hb = malloc(zmq_msg_size(&m))) != NULL) {
			memcpy(u->hb, zmq_msg_data(&m), zmq_msg_size(&m));
			u->hb_len = zmq_msg_size(&m);
		}
	} else {
		u->received++;
		on_batch(u, &m, has_cp ? &cp : NULL, now);
	}
out:
	zmq_msg_close(&m);
	zmq_msg_close(&cp);
}

/*
 * Handshake events of the dealer, each said plainly once until a
 * handshake succeeds again (libzmq retries every 100 ms):
 *
 * - refused by the correlator's ZAP handler with status 400 (key not
 *   enrolled, or revoked): nothing will change by retrying, so the
 *   sensor stops at once (exit status 4) with the reason, rather than
 *   leaving batches unacknowledged until the drain timeout;
 * - refused with another status (500: the correlator's database failed):
 *   retried;
 * - failed without detail (libzmq 4.3: the server closed the handshake,
 *   which is what a CURVE server does with a HELLO it cannot decrypt) or
 *   with a protocol error: the server key is probably wrong.
 */
static void
on_monitor(struct uplink *u)
{
	zmq_msg_t ev, ep;
	uint16_t id;
	uint32_t value;

	for (;;) {
		zmq_msg_init(&ev);
		zmq_msg_init(&ep);
		if (zmq_msg_recv(&ev, u->mon, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&ev);
			zmq_msg_close(&ep);
			return;
		}
		if (zmq_msg_more(&ev))
			zmq_msg_recv(&ep, u->mon, 0);
		if (zmq_msg_size(&ev) >= 6) {
			memcpy(&id, zmq_msg_data(&ev), 2);
			memcpy(&value, (uint8_t *)zmq_msg_data(&ev) + 2, 4);
			if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH &&
			    value == 400 && atomic_load(&u->key_refused)) {
				/* said already; the thread is stopping */
			} else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH &&
			    value == 400) {
				atomic_fetch_add(&u->auth_refused, 1);
				log_warnx("uplink: %s refused this sensor's key "
				    "(status 400): key not enrolled or revoked; "
				    "enroll its .pub with `socctl sensor enroll "
				    "NAME --agency CODE --key FILE`; stopping",
				    u->conf->connect);
				atomic_store(&u->key_refused, 1);
				kill(getpid(), SIGTERM);	/* the main loop */
				u->refused = 1;
			} else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH &&
			    !u->refused) {
				u->refused = 1;
				atomic_fetch_add(&u->auth_refused, 1);
				log_warnx("uplink: %s could not check this "
				    "sensor's key (status %u); retrying",
				    u->conf->connect, value);
			} else if ((id == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ||
			    id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) &&
			    !u->refused) {
				u->refused = 1;
				log_warnx("uplink: handshake with %s failed%s: "
				    "the server key is probably wrong (server_key"
				    " gives %s; it must be the correlator's public"
				    " key, its .pub file)", u->conf->connect,
				    id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ?
				    " (protocol error)" : "", u->server_pub);
			} else if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED &&
			    u->refused) {
				u->refused = 0;
				log_info("uplink: handshake with %s succeeds "
				    "again", u->conf->connect);
			}
		}
		zmq_msg_close(&ev);
		zmq_msg_close(&ep);
	}
}

/*
 * How far, in pipe order, everything is durable: with a spool, all but
 * the batches held in memory after a failed write; without, all but
 * those not yet acked.
 */
static void
durable_update(struct uplink *u)
{
	uint64_t d = u->received;

	if (u->sp != NULL && u->mem_held > 0)
		d = q_at(u, u->qn - u->mem_held)->pidx - 1;
	else if (u->sp == NULL && u->qn > 0)
		d = q_at(u, 0)->pidx - 1;
	atomic_store(&u->durable, d);
}

static void *
uplink_main(void *arg)
{
	struct uplink *u = arg;
	int64_t deadline = 0, stop_deadline = 0, now;
	int fin = 0;

	for (;;) {
		zmq_pollitem_t items[3] = {
			{ u->dealer, 0, ZMQ_POLLIN, 0 },
			{ u->mon, 0, ZMQ_POLLIN, 0 },
			{ u->pipe_thr, 0, ZMQ_POLLIN, 0 },
		};
		/* memory mode, or a spool that cannot take them: a full queue
		 * leaves batches in the pipe */
		int nitems = (!fin && (u->qn < u->qcap || u->qcap < u->qmax) &&
		    u->mem_held < (size_t)u->conf->queue_batches) ? 3 : 2;

		if (zmq_poll(items, nitems, 100) == -1 && zmq_errno() != EINTR)
			break;
		now = soc_mono_ms();
		/*
		 * The fin frame comes after every batch in the pipe, so batches
		 * are read to the last before draining.  It may not fit a full
		 * pipe, though: the stopping flag always gets through, and
		 * bounds the wait by the drain timeout all the same.
		 */
		if (stop_deadline == 0 && atomic_load(&u->stopping))
			stop_deadline = now + u->conf->drain_timeout_s * 1000;
		if (items[0].revents & ZMQ_POLLIN)
			on_ack(u, now);
		if (items[1].revents & ZMQ_POLLIN)
			on_monitor(u);
		if (nitems == 3 && (items[2].revents & ZMQ_POLLIN))
			on_pipe(u, &fin, &deadline, now);
		on_timer(u, now);
		durable_update(u);
		if (fin && (u->qn == 0 || now >= deadline))
			break;
		if (stop_deadline != 0 && now >= stop_deadline)
			break;
		if (atomic_load(&u->key_refused))
			break;		/* nothing will be acked: no drain */
	}
	return NULL;
}

static int
setup_sockets(struct uplink *u, char *err, size_t errlen)
{
	const struct sensor_conf *c = u->conf;
	int one = 1, zero = 0, hwm = 4;
	char pub[41];

	if (soc_key_public(c->key, pub) == -1) {
		snprintf(err, errlen, "cannot derive the public key from --key");
		return -1;
	}
	u->pipe_main = zmq_socket(u->zctx, ZMQ_PAIR);
	u->pipe_thr = zmq_socket(u->zctx, ZMQ_PAIR);
	u->dealer = zmq_socket(u->zctx, ZMQ_DEALER);
	if (!u->pipe_main || !u->pipe_thr || !u->dealer)
		goto fail;
	/* batches waiting in the pipe beyond the queue */
	zmq_setsockopt(u->pipe_main, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(u->pipe_thr, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	if (zmq_bind(u->pipe_thr, "inproc://uplink") == -1 ||
	    zmq_connect(u->pipe_main, "inproc://uplink") == -1)
		goto fail;
	zmq_setsockopt(u->dealer, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(u->dealer, ZMQ_IMMEDIATE, &one, sizeof(one));
	hwm = UPLINK_WINDOW + 16;
	zmq_setsockopt(u->dealer, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	if (zmq_setsockopt(u->dealer, ZMQ_CURVE_SERVERKEY, c->server_key, 41) == -1 ||
	    zmq_setsockopt(u->dealer, ZMQ_CURVE_PUBLICKEY, pub, 41) == -1 ||
	    zmq_setsockopt(u->dealer, ZMQ_CURVE_SECRETKEY, c->key, 41) == -1) {
		snprintf(err, errlen, "CURVE keys refused by libzmq: %s",
		    zmq_strerror(zmq_errno()));
		return -1;
	}
	/* before connecting, so the first handshake is seen */
	snprintf(u->server_pub, sizeof(u->server_pub), "%s", c->server_key);
	if (zmq_socket_monitor(u->dealer, "inproc://uplink-monitor",
	    ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
	    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
	    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) ==
	    -1 || (u->mon = zmq_socket(u->zctx, ZMQ_PAIR)) == NULL ||
	    zmq_connect(u->mon, "inproc://uplink-monitor") == -1)
		goto fail;
	zmq_setsockopt(u->mon, ZMQ_LINGER, &zero, sizeof(zero));
	if (zmq_connect(u->dealer, c->connect) == -1) {
		snprintf(err, errlen, "connect %s: %s (use tcp://HOST:PORT)",
		    c->connect, zmq_strerror(zmq_errno()));
		return -1;
	}
	return 0;
fail:
	snprintf(err, errlen, "uplink: %s", zmq_strerror(zmq_errno()));
	return -1;
}

static void
uplink_free(struct uplink *u)
{
	while (u->qn > 0)
		q_pop(u);
	if (u->dealer) {
		zmq_socket_monitor(u->dealer, NULL, 0);
		zmq_close(u->dealer);
	}
	if (u->mon)
		zmq_close(u->mon);
	if (u->pipe_thr)
		zmq_close(u->pipe_thr);
	if (u->pipe_main)
		zmq_close(u->pipe_main);
	if (u->zctx)
		zmq_ctx_term(u->zctx);
	if (u->sp)
		spool_close(u->sp);
	free(u->rbuf);
	free(u->hb);
	free(u->seq_path);
	free(u->q);
	free(u);
}

struct uplink *
uplink_start(const struct sensor_conf *c, uplink_save_fn save, void *save_arg,
    const volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	struct uplink *u;
	char *cp = NULL;
	size_t cp_len = 0;
	uint64_t now_us = (uint64_t)(soc_now_ns() / 1000);

	if ((u = calloc(1, sizeof(*u))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	u->conf = c;
	u->save = save;
	u->save_arg = save_arg;
	u->stop = stop;
	u->qcap = c->spool ? 1024 : (size_t)c->queue_batches;
	u->qmax = c->spool ? (size_t)1 << 24 : u->qcap;
	u->blocking = c->once || c->interfaces.n == 0;
	/* the floor lives beside the spool, else beside the state file */
	if (c->spool != NULL || c->state_file != NULL) {
		char path[4096];

		snprintf(path, sizeof(path), c->spool ? "%s/seq" : "%s.seq",
		    c->spool ? c->spool : c->state_file);
		u->seq_path = strdup(path);
	}
	u->next_seq = now_us;
	u->start_us = now_us;
	if ((u->q = calloc(u->qcap, sizeof(*u->q))) == NULL ||
	    (u->zctx = zmq_ctx_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (c->spool != NULL) {
		u->sp = spool_open(c->spool, (uint64_t)c->spool_max_mb << 20,
		    spool_queue_cb, u, &cp, &cp_len, err, errlen);
		if (u->sp == NULL)
			goto fail;
		/* positions of the newest spooled line win over the state file */
		if (cp != NULL && u->save != NULL)
			u->save(u->save_arg, cp, cp_len);
		free(cp);
		if (u->next_seq < now_us)
			u->next_seq = now_us;
		drop_lost(u);
	}
	/* both places a floor may have been kept (the spool may have been
	 * added or removed since): the higher wins */
	u->seq_floor = seq_floor_load(u->seq_path);
	if (c->spool != NULL && c->state_file != NULL) {
		char alt[4096];
		uint64_t v;

		snprintf(alt, sizeof(alt), "%s.seq", c->state_file);
		if ((v = seq_floor_load(alt)) > u->seq_floor)
			u->seq_floor = v;
	}
	if (u->next_seq < u->seq_floor) {
		log_info("uplink: the clock is behind the last sequence numbers "
		    "used; continuing from %llu", (unsigned long long)u->seq_floor);
		u->next_seq = u->seq_floor;
	}
	if (setup_sockets(u, err, errlen) == -1)
		goto fail;
	if (pthread_create(&u->thr, NULL, uplink_main, u) != 0) {
		snprintf(err, errlen, "uplink: cannot start thread");
		goto fail;
	}
	return u;
fail:
	uplink_free(u);
	return NULL;
}

/*
 * Replay mode waits for room in the pipe (nothing is lost by waiting),
 * but gives up -- counted -- once the sensor is told to stop, so a dead
 * correlator cannot hang a shutdown.  Live mode never waits: main.c
 * offers it batches of log-file lines with uplink_offer() and keeps one
 * that finds no room (pausing the files), so only batches of packets and
 * syslog messages, which cannot wait, are dropped here.
 */
static int
pipe_send(struct uplink *u, const void *data, size_t len, int more)
{
	for (;;) {
		zmq_pollitem_t it = { u->pipe_main, 0, ZMQ_POLLOUT, 0 };

		if (zmq_send(u->pipe_main, data, len, ZMQ_DONTWAIT | more) != -1)
			return 0;
		if (zmq_errno() != EAGAIN || !u->blocking ||
		    (u->stop != NULL && *u->stop))
			return -1;
		zmq_poll(&it, 1, 100);
	}
}

int
uplink_submit(struct uplink *u, const uint8_t *batch, size_t len,
    const char *cp, size_t cp_len)
{
	if (pipe_send(u, batch, len, cp_len > 0 ? ZMQ_SNDMORE : 0) == -1) {
		atomic_fetch_add(&u->batches_dropped, 1);
		return -1;
	}
	if (cp_len > 0)		/* atomic with frame 1: always accepted */
		zmq_send(u->pipe_main, cp, cp_len, 0);
	u->submitted++;
	return 0;
}

int
uplink_offer(struct uplink *u, const uint8_t *batch, size_t len,
    const char *cp, size_t cp_len)
{
	if (zmq_send(u->pipe_main, batch, len, ZMQ_DONTWAIT |
	    (cp_len > 0 ? ZMQ_SNDMORE : 0)) == -1)
		return -1;
	if (cp_len > 0)
		zmq_send(u->pipe_main, cp, cp_len, 0);
	u->submitted++;
	return 0;
}

uint64_t
uplink_submitted(const struct uplink *u)
{
	return u->submitted;
}

void
uplink_durable(struct uplink *u, uint64_t *durable, uint64_t *lost)
{
	*durable = atomic_load(&u->durable);
	*lost = atomic_load(&u->lost);
}

int
uplink_waits(const struct uplink *u)
{
	return u->blocking;
}

uint64_t
uplink_finish(struct uplink *u, int *refused)
{
	uint64_t left;

	atomic_store(&u->stopping, 1);
	zmq_send(u->pipe_main, "", 0, ZMQ_DONTWAIT);
	pthread_join(u->thr, NULL);
	left = u->qn;
	if (refused != NULL)	/* after the join: a refusal while draining */
		*refused = atomic_load(&u->key_refused);
	uplink_log_counters(u);
	uplink_free(u);
	return left;
}

void
uplink_counters(struct uplink *u, struct soc_wbuf *hb)
{
	soc_wire_add_counter(hb, "batches_sent", atomic_load(&u->batches_sent));
	soc_wire_add_counter(hb, "batches_acked", atomic_load(&u->batches_acked));
	soc_wire_add_counter(hb, "batches_resent", atomic_load(&u->batches_resent));
	soc_wire_add_counter(hb, "batches_dropped", atomic_load(&u->batches_dropped));
	soc_wire_add_counter(hb, "batches_unacked", atomic_load(&u->unacked));
	soc_wire_add_counter(hb, "events_acked", atomic_load(&u->events_acked));
	soc_wire_add_counter(hb, "spool_bytes", atomic_load(&u->spool_bytes));
	soc_wire_add_counter(hb, "rewinds", atomic_load(&u->rewinds));
	soc_wire_add_counter(hb, "auth_refused", atomic_load(&u->auth_refused));
	/* names this run: events_acked counts from here (the correlator
	 * checks it against what it applied, issue 15) */
	soc_wire_add_counter(hb, "uplink_start", u->start_us);
}

void
uplink_log_counters(struct uplink *u)
{
	log_info("uplink: %llu batches sent, %llu acked (%llu events), "
	    "%llu resent, %llu dropped, %llu unacked, spool %llu bytes",
	    (unsigned long long)atomic_load(&u->batches_sent),
	    (unsigned long long)atomic_load(&u->batches_acked),
	    (unsigned long long)atomic_load(&u->events_acked),
	    (unsigned long long)atomic_load(&u->batches_resent),
	    (unsigned long long)atomic_load(&u->batches_dropped),
	    (unsigned long long)atomic_load(&u->unacked),
	    (unsigned long long)atomic_load(&u->spool_bytes));
}
