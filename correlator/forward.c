/*
 * The national forwarder: a thread that owns a ZeroMQ DEALER socket to
 * the national receiver (CURVE, our correlator's key pair as the client
 * identity) and its own SQLite connection.  It takes unsent outbox
 * records in order, encodes each as alert JSON (alert_to_json, filtered
 * by forward.fields) into ALERTS batches, and keeps up to a window of
 * batches in flight.  Batches carry the same sequence numbers, prev chain
 * and ack/nack rules as sensor batches (sensor/uplink.c): the head is
 * chained to the last acked batch, an ACK releases everything up to its
 * number, a NACK or an overdue ack resends from the oldest, and a new
 * connection (the national side restarted) resends everything unacked.
 * Records are marked delivered only on the ack, which the national side
 * sends after its commit.
 *
 * Sequence numbers start from the wall clock in microseconds or after
 * the last one recorded in forward_state, whichever is higher, and each
 * is recorded in the same transaction that marks the batch's records
 * sent, before the batch leaves: the national side can never have seen a
 * number that a restart would issue again.  After a restart, records
 * that were sent but not acked go back to the queue (store_outbox_requeue)
 * and travel again under new numbers; the national side keeps the highest
 * revision of each incident, so a record applied twice changes nothing.
 *
 * When idle the forwarder proves the link: every heartbeat interval an
 * empty ALERTS batch (acked after the national commit, so last_ack_at
 * moves) and a HEARTBEAT batch of counters.  Once a second it writes its
 * state (connected, counters), records socctl's status changes from the
 * audit trail (store_forward_sweep) and enforces forward.max_pending;
 * once a minute it deletes acked records older than forward.keep_acked
 * (forward_prune: at most FWD_PRUNE_MAX rows looked at per pass).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "soc/json.h"
#include "soc/log.h"
#include "soc/util.h"
#include "soc/wire.h"
#include "forward.h"
#include "intel-push.h"
#include "store.h"

/*
 * Small batches, many in flight: the national side applies each batch
 * under a savepoint whose in-memory sub-journal every statement rewinds
 * from its start, so its cost per alert grows with the batch; a group
 * commit there still takes up to INGEST_GROUP_MAX batches per fsync.
 */
#define FWD_WINDOW	64		/* batches in flight */
#define FWD_BATCH_MAX	128		/* records per batch */
#define FWD_BATCH_BYTES	(4u << 20)	/* stop adding past this */
#define FWD_ACK_MS	3000		/* first resend after this */
#define FWD_ACK_MAX_MS	15000		/* backoff cap */
#define FWD_TICK_MS	1000		/* state, sweep, bound */

struct fbatch {
	uint64_t	 seq;
	uint8_t		*data;
	size_t		 len;
	int64_t		*ids;
	size_t		 nids;
	int64_t		 sent_ms;	/* 0: not sent on this connection */
};

struct forward {
	struct forward_conf	 c;
	struct store		*st;
	struct forward_cef	*cef;
	void			*zctx;
	void			*dealer;
	void			*mon;
	pthread_t		 thr;
	int			 running;
	_Atomic int		 stop;

	/* thread-owned */
	struct fbatch		 q[FWD_WINDOW];
	size_t			 qhead, qn, inflight;
	uint64_t		 next_seq;
	uint64_t		 acked_seq;
	uint64_t		 last_nack;
	int64_t			 last_nack_ms;
	int64_t			 ack_ms;	/* current resend timeout */
	int64_t			 last_tick, last_busy, hb_ms;
	int			 connected;
	char			 error[256];
	struct soc_wbuf		 wb;
	struct soc_sbuf		 js;
	struct soc_event	 ev;
	struct soc_alert	 alert;
	int64_t			 ids[FWD_BATCH_MAX];
	size_t			 nids;
	int64_t			*acked;		/* released, not yet written */
	size_t			 nacked, acked_cap;
	int			 got_reply;

	_Atomic uint64_t	 n_sent, n_acked, n_resent, n_batches, n_pings;
	_Atomic uint64_t	 n_dropped, n_nacks, n_errors;
	struct forward_prune	 prune;
	struct fwd_intel	*intel;		/* sets pushed down (forward-intel.c) */
	int			 linked;	/* acked since the connection */
	int64_t			 cov_ms;	/* coverage sent; 0: due */
	struct soc_sbuf		 cov;
};

static struct fbatch *
q_at(struct forward *f, size_t i)
{
	return &f->q[(f->qhead + i) % FWD_WINDOW];
}

static void
q_pop(struct forward *f)
{
	struct fbatch *b = q_at(f, 0);

	free(b->data);
	free(b->ids);
	memset(b, 0, sizeof(*b));
	f->qhead = (f->qhead + 1) % FWD_WINDOW;
	f->qn--;
	if (f->inflight > 0)
		f->inflight--;
}

/* store_outbox_take() callback: one record into the batch being built. */
static int
take_one(void *arg, const struct store_outbox_rec *r)
{
	struct forward *f = arg;

	forward_alert_build(f->st, r, f->c.origin, &f->ev, &f->alert);
	soc_sbuf_reset(&f->js);
	alert_to_json(&f->alert, &f->c.fields, &f->js);
	if (!f->js.oom && soc_wire_add_blob(&f->wb, f->js.data, f->js.len) == 0)
		f->ids[f->nids++] = r->id;
	else
		atomic_fetch_add(&f->n_errors, 1);	/* acked with the batch:
							   logged, never resent */
	return f->nids >= FWD_BATCH_MAX || f->wb.len >= FWD_BATCH_BYTES;
}

/* Keeps the built batch (wb, ids) in the window. */
static int
q_push(struct forward *f, uint64_t seq)
{
	struct fbatch *b = q_at(f, f->qn);

	memset(b, 0, sizeof(*b));
	b->seq = seq;
	if ((b->data = malloc(f->wb.len)) == NULL ||
	    (f->nids > 0 && (b->ids = malloc(f->nids * sizeof(int64_t))) == NULL)) {
		free(b->data);
		b->data = NULL;
		return -1;
	}
	memcpy(b->data, f->wb.data, f->wb.len);
	b->len = f->wb.len;
	if (f->nids > 0)
		memcpy(b->ids, f->ids, f->nids * sizeof(int64_t));
	b->nids = f->nids;
	f->qn++;
	return 0;
}

/* Takes the next records into a new batch; 1 taken, 0 none, -1 error. */
static int
fill_one(struct forward *f, int64_t now_ms)
{
	uint64_t seq = f->next_seq;
	int n;

	soc_wire_begin(&f->wb, SOC_WIRE_ALERTS, seq);
	f->nids = 0;
	n = store_outbox_take(f->st, FWD_BATCH_MAX, seq, soc_now_ns(), take_one, f);
	if (n <= 0) {
		if (n == -1)
			snprintf(f->error, sizeof(f->error), "outbox: %s",
			    store_errmsg(f->st));
		return n;
	}
	/* records taken are marked sent: a failure here loses nothing
	 * (they go back to the queue at the next start) */
	if (q_push(f, seq) == -1)
		return -1;
	f->next_seq++;
	f->last_busy = now_ms;
	atomic_fetch_add(&f->n_sent, (uint64_t)n);
	atomic_fetch_add(&f->n_batches, 1);
	return 1;
}

/* An empty, chained ALERTS batch: its ack proves the national commit path. */
static void
ping(struct forward *f, int64_t now_ms)
{
	uint64_t seq = f->next_seq;

	if (store_forward_seq(f->st, seq, soc_now_ns()) == -1)
		return;
	soc_wire_begin(&f->wb, SOC_WIRE_ALERTS, seq);
	f->nids = 0;
	if (q_push(f, seq) == -1)
		return;
	f->next_seq++;
	f->last_busy = now_ms;
	atomic_fetch_add(&f->n_pings, 1);
}

/* The counters, for the national side's view of this province. */
static void
heartbeat(struct forward *f)
{
	struct store_forward_state fs;

	if (store_forward_state_get(f->st, &fs) != 1)
		return;
	soc_wire_begin(&f->wb, SOC_WIRE_HEARTBEAT, 0);
	soc_wire_add_counter(&f->wb, "alerts_sent", fs.sent);
	soc_wire_add_counter(&f->wb, "alerts_acked", fs.acked);
	soc_wire_add_counter(&f->wb, "alerts_pending", fs.pending);
	soc_wire_add_counter(&f->wb, "alerts_dropped", fs.dropped);
	soc_wire_add_counter(&f->wb, "batches_resent", atomic_load(&f->n_resent));
	zmq_send(f->dealer, f->wb.data, f->wb.len, ZMQ_DONTWAIT);
}

/* Sends unsent batches, oldest first, each chained to the one before. */
static void
pump(struct forward *f, int64_t now_ms)
{
	while (f->inflight < f->qn) {
		struct fbatch *b = q_at(f, f->inflight);
		uint64_t prev = f->inflight ? q_at(f, f->inflight - 1)->seq :
		    f->acked_seq;

		soc_wire_set_prev(b->data, b->len, prev);
		if (zmq_send(f->dealer, b->data, b->len, ZMQ_DONTWAIT) == -1)
			return;		/* not connected: the timer retries */
		if (b->sent_ms != 0)
			atomic_fetch_add(&f->n_resent, 1);
		b->sent_ms = now_ms;
		f->inflight++;
	}
}

/*
 * Everything up to seq is committed nationally: mark it delivered.  The
 * batches released by one burst of replies share one transaction.
 */
static void
release(struct forward *f, uint64_t seq)
{
	while (f->qn > 0 && q_at(f, 0)->seq <= seq && q_at(f, 0)->sent_ms != 0) {
		struct fbatch *b = q_at(f, 0);

		if (f->nacked + b->nids > f->acked_cap) {
			size_t cap = (f->nacked + b->nids) * 2;
			int64_t *p = realloc(f->acked, cap * sizeof(*p));

			if (p == NULL)
				return;		/* kept: the next ack retries */
			f->acked = p;
			f->acked_cap = cap;
		}
		if (b->nids > 0)
			memcpy(f->acked + f->nacked, b->ids, b->nids * sizeof(int64_t));
		f->nacked += b->nids;
		q_pop(f);
	}
}

/* Writes the acks collected by release(); on failure they are retried. */
static void
flush_acks(struct forward *f)
{
	if (f->nacked == 0 && !f->got_reply)
		return;
	if (store_outbox_acked(f->st, f->acked, f->nacked, soc_now_ns()) == -1) {
		snprintf(f->error, sizeof(f->error), "outbox: %s",
		    store_errmsg(f->st));
		return;
	}
	atomic_fetch_add(&f->n_acked, f->nacked);
	f->nacked = 0;
	f->got_reply = 0;
}

static void
on_reply(struct forward *f, int64_t now_ms)
{
	zmq_msg_t m;
	uint64_t seq;
	size_t n;
	int kind;

	for (;;) {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, f->dealer, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&m);
			break;
		}
		n = zmq_msg_size(&m);
		/* an indicator update: only the national side can send one
		 * here (CURVE, --forward-server-key) */
		if (f->intel != NULL && fwd_intel_message(f->intel, f->st,
		    f->dealer, zmq_msg_data(&m), n)) {
			zmq_msg_close(&m);
			continue;
		}
		kind = soc_wire_ack_decode(zmq_msg_data(&m), n, &seq);
		zmq_msg_close(&m);
		if (kind == -1) {
			log_warnx("forward: malformed reply (%zu bytes) ignored", n);
			continue;
		}
		f->linked = 1;
		f->ack_ms = FWD_ACK_MS;		/* the national side is back */
		f->got_reply |= kind == SOC_WIRE_ACK;
		release(f, seq);
		if (kind == SOC_WIRE_ACK) {
			if (seq > f->acked_seq)
				f->acked_seq = seq;
			continue;
		}
		/* NACK: it has everything up to seq and nothing after */
		f->acked_seq = seq;
		atomic_fetch_add(&f->n_nacks, 1);
		/* rewind once per NACK, not once per batch it answers */
		if (seq != f->last_nack || now_ms - f->last_nack_ms >= f->ack_ms) {
			f->last_nack = seq;
			f->last_nack_ms = now_ms;
			f->inflight = 0;
		}
	}
}

/* Connection events: a new connection resends everything unacked. */
static void
on_monitor(struct forward *f)
{
	zmq_msg_t m;
	uint16_t ev;

	for (;;) {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, f->mon, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&m);
			return;
		}
		ev = 0;
		if (zmq_msg_size(&m) >= 6)
			memcpy(&ev, zmq_msg_data(&m), sizeof(ev));
		while (zmq_msg_more(&m)) {
			zmq_msg_close(&m);
			zmq_msg_init(&m);
			zmq_msg_recv(&m, f->mon, 0);
		}
		zmq_msg_close(&m);
		if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
			log_info("forward: connected to %s", f->c.endpoint);
			f->connected = 1;
			f->linked = 0;
			f->cov_ms = 0;		/* coverage once at connect */
			if (f->intel != NULL)
				fwd_intel_reset(f->intel);
			f->inflight = 0;
			f->ack_ms = FWD_ACK_MS;
			f->error[0] = '\0';
		} else if (ev == ZMQ_EVENT_DISCONNECTED) {
			if (f->connected) {
				log_warnx("forward: lost %s; alerts wait in the"
				    " outbox", f->c.endpoint);
				snprintf(f->error, sizeof(f->error),
				    "connection lost");
			}
			f->connected = 0;
			f->linked = 0;
		} else if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
			if (strncmp(f->error, "handshake", 9) != 0)
				log_warnx("forward: %s refused our key (is it"
				    " enrolled there?)", f->c.endpoint);
			f->connected = 0;
			snprintf(f->error, sizeof(f->error), "handshake with %s"
			    " refused: is this correlator's public key enrolled"
			    " there (socctl sensor enroll)?", f->c.endpoint);
		} else if (ev & (ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
		    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)) {
			/* once until a handshake succeeds (issue 15) */
			if (strncmp(f->error, "handshake", 9) != 0)
				log_warnx("forward: handshake with %s failed:"
				    " the national receiver's key given by"
				    " --forward-server-key is probably wrong (it"
				    " must be that correlator's public key)",
				    f->c.endpoint);
			f->connected = 0;
			snprintf(f->error, sizeof(f->error), "handshake with %s"
			    " failed (no answer, or not the key given by"
			    " --forward-server-key)", f->c.endpoint);
		}
	}
}

/* Once a second: state for socctl, socctl's changes, the bound. */
static void
tick(struct forward *f, int64_t now_ms)
{
	struct store_forward_live l;
	int64_t dropped;

	f->last_tick = now_ms;
	memset(&l, 0, sizeof(l));
	l.connected = f->connected;
	l.last_error = f->error;
	if (store_forward_live(f->st, &l, soc_now_ns()) == -1)
		log_warnx("forward: state: %s", store_errmsg(f->st));
	if (store_forward_sweep(f->st) == -1)
		log_warnx("forward: audit sweep: %s", store_errmsg(f->st));
	if ((dropped = store_outbox_trim(f->st, f->c.max_pending)) > 0) {
		atomic_fetch_add(&f->n_dropped, (uint64_t)dropped);
		log_warnx("forward: outbox over forward.max_pending (%llu):"
		    " dropped the %lld oldest pending alerts",
		    (unsigned long long)f->c.max_pending, (long long)dropped);
	} else if (dropped == -1)
		log_warnx("forward: bound: %s", store_errmsg(f->st));
	forward_prune(f->st, &f->c, &f->prune, now_ms, "forward");
}

static void
on_timer(struct forward *f, int64_t now_ms)
{
	/* overdue ack: resend from the oldest, backing off while the
	 * national side stays away */
	if (f->inflight > 0 && now_ms - q_at(f, 0)->sent_ms >= f->ack_ms) {
		f->inflight = 0;
		if ((f->ack_ms *= 2) > FWD_ACK_MAX_MS)
			f->ack_ms = FWD_ACK_MAX_MS;
	}
	/* each batch leaves as soon as it is built: the national side
	 * starts on it while the next ones are read from the outbox */
	pump(f, now_ms);
	while (f->qn < FWD_WINDOW && fill_one(f, now_ms) == 1)
		pump(f, now_ms);
	if (f->qn == 0 && now_ms - f->last_busy >= f->hb_ms) {
		ping(f, now_ms);
		heartbeat(f);
	}
	pump(f, now_ms);
	if (f->intel != NULL)
		fwd_intel_tick(f->intel, f->st, f->dealer, now_ms,
		    f->connected && f->linked);
	/* the coverage report: once the link is proven, then every
	 * forward.coverage_every (0: never) */
	if (f->c.coverage_every_ns > 0 && f->connected && f->linked &&
	    (f->cov_ms == 0 ||
	    now_ms - f->cov_ms >= f->c.coverage_every_ns / 1000000)) {
		f->cov_ms = now_ms;
		flush_acks(f);	/* layer 4 judged on the ack just had */
		forward_coverage_send(f->st, f->dealer, &f->cov);
	}
	if (now_ms - f->last_tick >= FWD_TICK_MS)
		tick(f, now_ms);
}

static void *
forward_main(void *arg)
{
	struct forward *f = arg;
	int64_t now;

	while (!atomic_load(&f->stop)) {
		zmq_pollitem_t it[2] = {
			{ f->dealer, 0, ZMQ_POLLIN, 0 },
			{ f->mon, 0, ZMQ_POLLIN, 0 },
		};

		if (zmq_poll(it, 2, 50) == -1 && zmq_errno() != EINTR)
			break;
		now = soc_mono_ms();
		if (it[1].revents & ZMQ_POLLIN)
			on_monitor(f);
		if (it[0].revents & ZMQ_POLLIN)
			on_reply(f, now);
		/* the next batches out first, then the acks written: the
		 * national side is never kept waiting for our bookkeeping */
		on_timer(f, now);
		flush_acks(f);
	}
	f->connected = 0;
	tick(f, soc_mono_ms());
	return NULL;
}

static int
setup_socket(struct forward *f, char *err, size_t errlen)
{
	int one = 1, zero = 0, v;
	char pub[41];

	if (soc_key_public(f->c.secret_key, pub) == -1) {
		snprintf(err, errlen, "forward: cannot derive the public key from --key");
		return -1;
	}
	if ((f->zctx = zmq_ctx_new()) == NULL ||
	    (f->dealer = zmq_socket(f->zctx, ZMQ_DEALER)) == NULL)
		goto fail;
	zmq_setsockopt(f->dealer, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(f->dealer, ZMQ_IMMEDIATE, &one, sizeof(one));
	v = FWD_WINDOW * 2 + 16;
	zmq_setsockopt(f->dealer, ZMQ_SNDHWM, &v, sizeof(v));
	v = 100;
	zmq_setsockopt(f->dealer, ZMQ_RECONNECT_IVL, &v, sizeof(v));
	v = 500;		/* doubling reconnect, up to 0.5 s (sensors: 0.1 s) */
	zmq_setsockopt(f->dealer, ZMQ_RECONNECT_IVL_MAX, &v, sizeof(v));
	v = 1000;		/* a stopped peer is noticed in seconds */
	zmq_setsockopt(f->dealer, ZMQ_HEARTBEAT_IVL, &v, sizeof(v));
	v = 5000;
	zmq_setsockopt(f->dealer, ZMQ_HEARTBEAT_TIMEOUT, &v, sizeof(v));
	if (zmq_setsockopt(f->dealer, ZMQ_CURVE_SERVERKEY, f->c.server_key, 41) == -1 ||
	    zmq_setsockopt(f->dealer, ZMQ_CURVE_PUBLICKEY, pub, 41) == -1 ||
	    zmq_setsockopt(f->dealer, ZMQ_CURVE_SECRETKEY, f->c.secret_key, 41) == -1) {
		snprintf(err, errlen, "forward: CURVE keys refused by libzmq: %s",
		    zmq_strerror(zmq_errno()));
		return -1;
	}
	if (zmq_socket_monitor(f->dealer, "inproc://forward-monitor",
	    ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
	    ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
	    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == -1 ||
	    (f->mon = zmq_socket(f->zctx, ZMQ_PAIR)) == NULL ||
	    zmq_connect(f->mon, "inproc://forward-monitor") == -1)
		goto fail;
	if (zmq_connect(f->dealer, f->c.endpoint) == -1) {
		snprintf(err, errlen, "forward: connect %s: %s (use tcp://HOST:PORT)",
		    f->c.endpoint, zmq_strerror(zmq_errno()));
		return -1;
	}
	return 0;
fail:
	snprintf(err, errlen, "forward: %s", zmq_strerror(zmq_errno()));
	return -1;
}

static void
forward_free(struct forward *f)
{
	while (f->qn > 0)
		q_pop(f);
	if (f->mon)
		zmq_close(f->mon);
	if (f->dealer)
		zmq_close(f->dealer);
	if (f->zctx)
		zmq_ctx_term(f->zctx);
	store_close(f->st);
	fwd_intel_free(f->intel);
	free(f->acked);
	soc_wbuf_free(&f->wb);
	soc_sbuf_free(&f->js);
	soc_sbuf_free(&f->cov);
	free(f);
}

int
forward_conf_parse(struct forward_conf *c, const struct forward_opts *o,
    const char *db, const char secret[41], char *err, size_t errlen)
{
	const char *why;
	char kerr[512];

	memset(c, 0, sizeof(*c));
	c->db = db;
	c->endpoint = o->endpoint && *o->endpoint ? o->endpoint : NULL;
	c->cef = o->cef && *o->cef ? o->cef : NULL;
	memcpy(c->secret_key, secret, sizeof(c->secret_key));
	if (o->min_severity == NULL ||
	    (c->min_severity = store_severity_parse(o->min_severity)) == -1) {
		snprintf(err, errlen, "forward.min_severity: '%s' is not a severity"
		    " (informational, low, medium, high, critical)",
		    o->min_severity ? o->min_severity : "");
		return -1;
	}
	if (alert_fields_parse(&c->fields, o->fields ? o->fields : "", &why) == -1) {
		snprintf(err, errlen, "forward.fields: %s", why);
		return -1;
	}
	c->max_pending = o->max_pending > 0 ? (uint64_t)o->max_pending : 1;
	if (o->ack_within == NULL ||
	    (c->ack_within_ns = soc_parse_duration(o->ack_within)) <= 0) {
		snprintf(err, errlen, "forward.ack_within: '%s' is not a duration"
		    " (10m)", o->ack_within ? o->ack_within : "");
		return -1;
	}
	if (o->max_backlog_age == NULL ||
	    (c->max_backlog_age_ns = soc_parse_duration(o->max_backlog_age)) <= 0) {
		snprintf(err, errlen, "forward.max_backlog_age: '%s' is not a"
		    " duration (1h)", o->max_backlog_age ? o->max_backlog_age : "");
		return -1;
	}
	if ((c->keep_acked_ns = soc_parse_duration(o->keep_acked != NULL ?
	    o->keep_acked : "7d")) <= 0) {
		snprintf(err, errlen, "forward.keep_acked: '%s' is not a duration"
		    " (7d)", o->keep_acked);
		return -1;
	}
	if (o->coverage_every != NULL && strcmp(o->coverage_every, "0") == 0)
		c->coverage_every_ns = 0;	/* never sent */
	else if ((c->coverage_every_ns = soc_parse_duration(o->coverage_every
	    != NULL ? o->coverage_every : "5m")) <= 0) {
		snprintf(err, errlen, "forward.coverage_every: '%s' is not a"
		    " duration (5m), or 0", o->coverage_every);
		return -1;
	}
	/*
	 * The origin: forward.name, required to forward (the host name it
	 * once fell back to is rarely the name the national centre enrolled,
	 * and it went into every alert id and CEF header), and a code.
	 */
	if ((c->endpoint != NULL || c->cef != NULL) &&
	    (o->name == NULL || *o->name == '\0')) {
		snprintf(err, errlen, "forward.name is not set: forwarding (%s)"
		    " needs this correlator's name, the one its key is enrolled"
		    " under at the national centre (socctl sensor enroll NAME):"
		    " add \"forward:\" / \"  name: NAME\" to the config or pass"
		    " --forward-name NAME", c->endpoint != NULL ?
		    "forward.endpoint" : "forward.cef");
		return -1;
	}
	snprintf(c->origin, sizeof(c->origin), "%s", o->name ? o->name : "");
	if (o->name != NULL && *o->name != '\0' && !soc_code_ok(o->name)) {
		snprintf(err, errlen, "forward.name '%.80s%s' is not a name: 1-63"
		    " letters, digits, '.', '_' or '-' (it goes into alert ids"
		    " name:incident:revision and CEF syslog headers); use the"
		    " name the national centre enrolled this correlator's key"
		    " under", o->name, strlen(o->name) > 80 ? "..." : "");
		return -1;
	}
	if (c->endpoint == NULL)
		return 0;
	if (o->server_key == NULL) {
		snprintf(err, errlen, "--forward needs --forward-server-key (the"
		    " national receiver's public key)");
		return -1;
	}
	if (soc_key_load(o->server_key, c->server_key, kerr, sizeof(kerr)) == -1) {
		snprintf(err, errlen, "forward.server_key: %s", kerr);
		return -1;
	}
	return 0;
}

/* Writes the configuration, so socctl and the coverage report see it. */
static int
record_conf(const struct forward_conf *c, char *err, size_t errlen)
{
	struct store_forward_conf sc = {
		.endpoint = c->endpoint, .cef = c->cef, .origin = c->origin,
		.min_severity = c->min_severity, .ack_within_ns = c->ack_within_ns,
		.max_backlog_age_ns = c->max_backlog_age_ns,
		.max_pending = c->max_pending,
	};
	struct store *st;
	int rc;

	if ((st = store_open(c->db, 0, err, errlen)) == NULL)
		return -1;
	if ((rc = store_forward_configure(st, &sc, soc_now_ns())) == -1)
		snprintf(err, errlen, "%s", store_errmsg(st));
	store_close(st);
	return rc;
}

struct forward *
forward_start(const struct forward_conf *c, char *err, size_t errlen)
{
	struct store_forward_state fs;
	struct forward *f;
	uint64_t now_us = (uint64_t)(soc_now_ns() / 1000);
	int n;

	if (record_conf(c, err, errlen) == -1)
		return NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		snprintf(err, errlen, "forward: out of memory");
		return NULL;
	}
	f->c = *c;
	soc_wbuf_init(&f->wb);
	soc_sbuf_init(&f->js);
	soc_sbuf_init(&f->cov);
	if (c->cef != NULL && (f->cef = forward_cef_start(c, c->endpoint == NULL,
	    err, errlen)) == NULL)
		goto fail;
	if (c->endpoint == NULL)
		return f;
	if ((f->st = store_open(c->db, 0, err, errlen)) == NULL)
		goto fail;
	store_forward_enable(f->st, c->min_severity);
	if (store_forward_relax(f->st) == -1 ||
	    (n = store_outbox_requeue(f->st)) == -1 ||
	    store_forward_state_get(f->st, &fs) != 1) {
		snprintf(err, errlen, "forward: %s", store_errmsg(f->st));
		goto fail;
	}
	if (n > 0)
		log_info("forward: %d alerts sent before the restart but never"
		    " acked are sent again", n);
	f->next_seq = fs.seq + 1 > now_us ? fs.seq + 1 : now_us;
	f->ack_ms = FWD_ACK_MS;
	/* heartbeat well inside the ack window, never slower than 30 s */
	f->hb_ms = c->ack_within_ns / 4000000;
	if (f->hb_ms > 30000)
		f->hb_ms = 30000;
	if (f->hb_ms < 200)
		f->hb_ms = 200;
	f->last_busy = soc_mono_ms() - f->hb_ms;	/* prove the link now */
	if ((f->intel = fwd_intel_new()) == NULL) {
		snprintf(err, errlen, "forward: out of memory");
		goto fail;
	}
	if (setup_socket(f, err, errlen) == -1)
		goto fail;
	if (pthread_create(&f->thr, NULL, forward_main, f) != 0) {
		snprintf(err, errlen, "forward: cannot start thread");
		goto fail;
	}
	f->running = 1;
	log_info("forward: alerts at or above %s to %s as %s (%llu pending)",
	    store_severity_name(c->min_severity), c->endpoint, c->origin,
	    (unsigned long long)fs.pending);
	return f;
fail:
	if (f->cef != NULL)
		forward_cef_stop(f->cef);
	forward_free(f);
	return NULL;
}

void
forward_stop(struct forward *f)
{
	if (f == NULL)
		return;
	atomic_store(&f->stop, 1);
	if (f->running)
		pthread_join(f->thr, NULL);
	if (f->cef != NULL)
		forward_cef_stop(f->cef);
	forward_free(f);
}

void
forward_log_counters(struct forward *f)
{
	if (f == NULL)
		return;
	if (f->c.endpoint != NULL)
		log_info("forward: %llu alerts sent in %llu batches, %llu acked,"
		    " %llu batches resent, %llu nacks, %llu heartbeats, %llu"
		    " dropped by the bound, %llu not encodable",
		    (unsigned long long)atomic_load(&f->n_sent),
		    (unsigned long long)atomic_load(&f->n_batches),
		    (unsigned long long)atomic_load(&f->n_acked),
		    (unsigned long long)atomic_load(&f->n_resent),
		    (unsigned long long)atomic_load(&f->n_nacks),
		    (unsigned long long)atomic_load(&f->n_pings),
		    (unsigned long long)atomic_load(&f->n_dropped),
		    (unsigned long long)atomic_load(&f->n_errors));
	if (f->intel != NULL)
		fwd_intel_log_counters(f->intel);
	if (f->cef != NULL)
		forward_cef_log_counters(f->cef);
}
