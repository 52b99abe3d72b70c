/*
 * The uplink: a thread that owns the ZeroMQ DEALER socket to the
 * correlator, so the capture loop never waits on the network.  Finished
 * batches arrive over an inproc pipe; the thread numbers them, keeps them
 * until the correlator acks them (after its SQLite commit), and resends
 * everything unacked, oldest first, when an ack is overdue or the
 * connection was re-established.  Sequence numbers start from the wall
 * clock in microseconds, so they keep growing across restarts and the
 * correlator can recognise a resend by "seq <= last committed".
 *
 * In live mode a full queue means the batch is dropped and counted (the
 * disk spool is a later addition); in replay mode (-r, --once) the
 * producer blocks instead, since nothing is lost by waiting.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "soc/log.h"
#include "soc/util.h"
#include "sensor.h"

struct qent {
	uint8_t		*data;
	size_t		 len;
	uint64_t	 seq;
	int64_t		 sent_ms;	/* 0 = not sent since (re)queue */
};

struct uplink {
	struct sensor	*s;
	void		*zctx;
	void		*pipe_main;	/* producer side (sensor thread) */
	void		*pipe_thr;	/* uplink thread side */
	void		*dealer;
	pthread_t	 thr;
	int		 blocking;	/* replay: producer waits, never drops */

	/* thread-owned */
	struct qent	*q;
	size_t		 qhead, qn, qcap;
	uint64_t	 next_seq;
	uint8_t		*hb;		/* latest heartbeat not yet sent */
	size_t		 hb_len;

	_Atomic uint64_t batches_queued;
	_Atomic uint64_t batches_sent;
	_Atomic uint64_t batches_acked;
	_Atomic uint64_t batches_resent;
	_Atomic uint64_t batches_dropped;
	_Atomic uint64_t events_acked;
	_Atomic uint64_t unacked;
};

static struct qent *
q_at(struct uplink *u, size_t i)
{
	return &u->q[(u->qhead + i) % u->qcap];
}

static void
q_send(struct uplink *u, struct qent *e, int64_t now)
{
	if (zmq_send(u->dealer, e->data, e->len, ZMQ_DONTWAIT) == -1)
		return;		/* not connected yet: retried on the timer */
	if (e->sent_ms != 0)
		atomic_fetch_add(&u->batches_resent, 1);
	else
		atomic_fetch_add(&u->batches_sent, 1);
	e->sent_ms = now;
}

static void
on_batch(struct uplink *u, zmq_msg_t *m, int64_t now)
{
	uint8_t *data = zmq_msg_data(m);
	size_t len = zmq_msg_size(m);
	struct qent *e;

	if (len > 5 && data[5] == SOC_WIRE_HEARTBEAT) {
		/* only the newest matters; kept until a connection takes it */
		free(u->hb);
		if ((u->hb = malloc(len)) != NULL) {
			memcpy(u->hb, data, len);
			u->hb_len = len;
		}
		return;
	}
	if (u->qn == u->qcap) {		/* not polled when full; be safe */
		atomic_fetch_add(&u->batches_dropped, 1);
		return;
	}
	e = q_at(u, u->qn);
	if ((e->data = malloc(len)) == NULL) {
		atomic_fetch_add(&u->batches_dropped, 1);
		return;
	}
	memcpy(e->data, data, len);
	e->len = len;
	e->seq = u->next_seq++;
	e->sent_ms = 0;
	soc_wire_set_seq(e->data, len, e->seq);
	u->qn++;
	atomic_store(&u->unacked, u->qn);
	atomic_fetch_add(&u->batches_queued, 1);
	q_send(u, e, now);
}

static void
on_ack(struct uplink *u)
{
	uint8_t buf[64];
	uint64_t seq;
	int n;

	while ((n = zmq_recv(u->dealer, buf, sizeof(buf), ZMQ_DONTWAIT)) >= 0) {
		if (soc_wire_ack_decode(buf, (size_t)n, &seq) == -1) {
			log_warnx("uplink: malformed ack (%d bytes) ignored", n);
			continue;
		}
		/* in-order delivery: an ack covers everything up to seq */
		while (u->qn > 0 && q_at(u, 0)->seq <= seq) {
			struct qent *e = q_at(u, 0);
			struct soc_wire_hdr hdr;
			struct soc_wire_reader r;
			const char *why;

			if (soc_wire_open(&r, e->data, e->len, &hdr, &why) == 0)
				atomic_fetch_add(&u->events_acked, hdr.count);
			free(e->data);
			e->data = NULL;
			u->qhead = (u->qhead + 1) % u->qcap;
			u->qn--;
			atomic_fetch_add(&u->batches_acked, 1);
		}
		atomic_store(&u->unacked, u->qn);
	}
}

/* Resend all unacked, oldest first, when the oldest ack is overdue. */
static void
on_timer(struct uplink *u, int64_t now)
{
	long long timeout = u->s->conf.ack_timeout_ms;

	if (u->qn == 0)
		return;
	if (q_at(u, 0)->sent_ms != 0 && now - q_at(u, 0)->sent_ms < timeout)
		return;
	for (size_t i = 0; i < u->qn; i++)
		q_send(u, q_at(u, i), now);
}

static void
send_heartbeat(struct uplink *u)
{
	if (u->hb != NULL &&
	    zmq_send(u->dealer, u->hb, u->hb_len, ZMQ_DONTWAIT) != -1) {
		free(u->hb);
		u->hb = NULL;
	}
}

static void *
uplink_main(void *arg)
{
	struct uplink *u = arg;
	int64_t deadline = 0, now;
	int fin = 0;

	for (;;) {
		zmq_pollitem_t items[2] = {
			{ u->dealer, 0, ZMQ_POLLIN, 0 },
			{ u->pipe_thr, 0, ZMQ_POLLIN, 0 },
		};
		/* a full queue leaves batches in the pipe: back-pressure */
		int nitems = (!fin && u->qn < u->qcap) ? 2 : 1;

		if (zmq_poll(items, nitems, 100) == -1 && zmq_errno() != EINTR)
			break;
		now = soc_mono_ms();
		if (items[0].revents & ZMQ_POLLIN)
			on_ack(u);
		if (nitems == 2 && (items[1].revents & ZMQ_POLLIN)) {
			zmq_msg_t m;

			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, u->pipe_thr, ZMQ_DONTWAIT) >= 0) {
				if (zmq_msg_size(&m) == 0) {
					fin = 1;
					deadline = now + u->s->conf.drain_timeout_s * 1000;
				} else
					on_batch(u, &m, now);
			}
			zmq_msg_close(&m);
		}
		on_timer(u, now);
		send_heartbeat(u);
		if (fin && (u->qn == 0 || now >= deadline))
			break;
	}
	return NULL;
}

struct uplink *
uplink_start(struct sensor *s, char *err, size_t errlen)
{
	struct uplink *u;
	char pub[41];
	int one = 1, zero = 0, hwm;

	if ((u = calloc(1, sizeof(*u))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	u->s = s;
	u->qcap = (size_t)s->conf.queue_batches;
	u->q = calloc(u->qcap, sizeof(*u->q));
	u->next_seq = (uint64_t)(soc_now_ns() / 1000);
	u->blocking = s->conf.once || s->conf.interfaces.n == 0;
	u->zctx = zmq_ctx_new();
	if (u->q == NULL || u->zctx == NULL)
		goto fail_msg;
	if (soc_key_public(s->conf.key, pub) == -1) {
		snprintf(err, errlen, "cannot derive the public key from --key");
		goto fail;
	}
	u->pipe_main = zmq_socket(u->zctx, ZMQ_PAIR);
	u->pipe_thr = zmq_socket(u->zctx, ZMQ_PAIR);
	u->dealer = zmq_socket(u->zctx, ZMQ_DEALER);
	if (!u->pipe_main || !u->pipe_thr || !u->dealer)
		goto fail_msg;
	hwm = 4;	/* batches waiting in the pipe beyond the queue */
	zmq_setsockopt(u->pipe_main, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(u->pipe_thr, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	if (zmq_bind(u->pipe_thr, "inproc://uplink") == -1 ||
	    zmq_connect(u->pipe_main, "inproc://uplink") == -1)
		goto fail_msg;
	zmq_setsockopt(u->dealer, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(u->dealer, ZMQ_IMMEDIATE, &one, sizeof(one));
	hwm = (int)u->qcap + 16;
	zmq_setsockopt(u->dealer, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	if (zmq_setsockopt(u->dealer, ZMQ_CURVE_SERVERKEY, s->conf.server_key, 41) == -1 ||
	    zmq_setsockopt(u->dealer, ZMQ_CURVE_PUBLICKEY, pub, 41) == -1 ||
	    zmq_setsockopt(u->dealer, ZMQ_CURVE_SECRETKEY, s->conf.key, 41) == -1) {
		snprintf(err, errlen, "CURVE keys refused by libzmq: %s",
		    zmq_strerror(zmq_errno()));
		goto fail;
	}
	if (zmq_connect(u->dealer, s->conf.connect) == -1) {
		snprintf(err, errlen, "connect %s: %s (use tcp://HOST:PORT)",
		    s->conf.connect, zmq_strerror(zmq_errno()));
		goto fail;
	}
	if (pthread_create(&u->thr, NULL, uplink_main, u) != 0)
		goto fail_msg;
	return u;
fail_msg:
	snprintf(err, errlen, "uplink: %s", zmq_strerror(zmq_errno()));
fail:
	if (u->dealer)
		zmq_close(u->dealer);
	if (u->pipe_thr)
		zmq_close(u->pipe_thr);
	if (u->pipe_main)
		zmq_close(u->pipe_main);
	if (u->zctx)
		zmq_ctx_term(u->zctx);
	free(u->q);
	free(u);
	return NULL;
}

void
uplink_submit(struct uplink *u, const uint8_t *batch, size_t len)
{
	if (zmq_send(u->pipe_main, batch, len, u->blocking ? 0 : ZMQ_DONTWAIT) == -1)
		atomic_fetch_add(&u->batches_dropped, 1);
}

uint64_t
uplink_finish(struct uplink *u)
{
	uint64_t left;

	zmq_send(u->pipe_main, "", 0, 0);
	pthread_join(u->thr, NULL);
	left = u->qn;
	uplink_log_counters(u);
	free(u->hb);
	for (size_t i = 0; i < u->qn; i++)
		free(q_at(u, i)->data);
	zmq_close(u->dealer);
	zmq_close(u->pipe_thr);
	zmq_close(u->pipe_main);
	zmq_ctx_term(u->zctx);
	free(u->q);
	free(u);
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
}

void
uplink_log_counters(struct uplink *u)
{
	log_info("uplink: %llu batches sent, %llu acked (%llu events), "
	    "%llu resent, %llu dropped, %llu unacked",
	    (unsigned long long)atomic_load(&u->batches_sent),
	    (unsigned long long)atomic_load(&u->batches_acked),
	    (unsigned long long)atomic_load(&u->events_acked),
	    (unsigned long long)atomic_load(&u->batches_resent),
	    (unsigned long long)atomic_load(&u->batches_dropped),
	    (unsigned long long)atomic_load(&u->unacked));
}
