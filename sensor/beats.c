/*
 * The Beats protocol server: Lumberjack v2 as Winlogbeat, Filebeat and
 * Auditbeat speak it to Logstash.  Every frame starts with the version
 * byte '2' and a type:
 *
 *   'W' count:u32                  a window of count events follows
 *   'J' seq:u32 len:u32 json[len]  one event as a JSON object
 *   'D' seq:u32 n:u32 (klen:u32 key vlen:u32 value)*n   legacy key/value
 *   'C' len:u32 zlib[len]          further frames, compressed
 *   'A' seq:u32                    (server to client) all up to seq taken
 *
 * (integers big-endian).  A window is acknowledged with the sequence
 * number of its last event only once every event of it has been handed
 * on and the sink says the batch holding the last one is durable
 * (spooled, or acked by the correlator without a spool): a sensor that
 * crashes before then never acked them, so the Beat sends them again.
 * Pipelined windows (Filebeat's pipelining) are taken in order, up to
 * BEATS_WINDOWS per client; past that the client is not read until acks
 * free room, which is the back-pressure a Beat expects.
 *
 * Hostile input is bounded before it is buffered: a frame (also once
 * inflated) longer than beats.max_frame_kb, a window over beats.max_window,
 * an unknown version or type, data outside a window, a compressed frame
 * inside another, JSON nested past BEATS_JSON_DEPTH or not JSON: each is
 * counted by reason and the client is closed without an ack for the
 * window, so what it had sent before stays handed on and the rest is
 * sent again.  A JSON object that is valid but that the event reader
 * refuses (a value of the wrong shape) is counted and skipped: refusing
 * the window would make the Beat resend it forever.
 *
 * One epoll set holds the listener and every client (level-triggered,
 * non-blocking, TLS through GnuTLS with a non-blocking handshake); main.c
 * polls its descriptor.  A client costs its input buffer (16 KiB, grown
 * to the frame being received, freed when drained), a TLS session and
 * its window ring; one event and one inflate buffer are shared.
 *
 * The input buffers of all clients share one budget (beats.max_buffer_mb):
 * a client that needs more room than is left is not read (its socket's
 * EPOLLIN is dropped: TCP's window pushes back on the Beat, which waits,
 * as for a window not yet acked) until buffers are freed.  One client at
 * a time may pass the budget (b->over), so a frame larger than what is
 * left still comes in and nothing waits forever: memory stays under the
 * budget plus one frame.  Nothing taken is dropped; what is not read is
 * still the Beat's, unacked.
 *
 * The frames, windows, inflating and JSON are in beats-proto.c; this
 * file is the sockets, TLS, and when to acknowledge.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "soc/log.h"
#include "soc/util.h"
#include "beats-int.h"

#define BEATS_BUF_MIN	16384
#define BEATS_READ_BUDGET (1 << 20)	/* bytes per client per dispatch */
#define BEATS_EPOLL_MAX	256
#define BEATS_ACCEPT_BURST 64
#define BEATS_ADDRSTRLEN INET6_ADDRSTRLEN
#define BEATS_KEEPALIVE_MS 3000		/* go-lumber's server sends ACK 0 so */

/*
 * The server.
 */

enum { BK_LISTEN, BK_CLIENT, BK_POOL };

struct bconn {
	int			 kind;		/* BK_CLIENT */
	int			 fd;
	size_t			 idx;		/* in b->conns */
	struct beats_session	*sess;
	gnutls_session_t	 tls;
	bool			 handshaking;
	bool			 stalled;	/* windows full: not read */
	bool			 starved;	/* over the buffer budget: not
						   read (on b->starved) */
	bool			 on_dirty, on_wait;
	bool			 lost;		/* a batch of it was dropped */
	bool			 busy;		/* a 'C' frame at buf[0] is with
						   a worker (or waits for one):
						   not read, buf left alone */
	bool			 queued;	/* on b->ready */
	bool			 dead;		/* closed while busy: freed when
						   its worker is done */
	bool			 unpolled;	/* hung up while busy: out of the
						   epoll set until then */
	uint32_t		 interest;	/* epoll events registered */
	int64_t			 active_ms;	/* last read */
	int64_t			 ack_ms;	/* last ACK sent */
	uint8_t			*buf;
	size_t			 have, cap;
	uint8_t			 out[6 * (BEATS_WINDOWS + 2)];
	size_t			 outlen;
	size_t			 tls_wpend;	/* out bytes GnuTLS holds */
	char			 addr[BEATS_ADDRSTRLEN];
};

/* A worker thread and its job (state under b->mu). */
enum { BW_IDLE, BW_QUEUED, BW_RUNNING, BW_DONE };
struct bslot {
	struct beats		*b;
	pthread_t		 th;
	int			 state;
	struct bconn		*c;
	struct beats_job	*job;
};

struct beats {
	struct beats_conf	 conf;
	soc_emit_fn		 emit;
	void			*arg;
	int			 ep;
	struct {
		int		 kind;		/* BK_LISTEN */
		int		 fd;
	}			 lst;
	gnutls_certificate_credentials_t cred;
	bool			 tls;
	bool			 verify;
	struct bconn		**conns;	/* every client */
	size_t			 nconns;
	struct bconn		**dirty;	/* emitted since handed_on */
	size_t			 ndirty;
	struct bconn		**wait;		/* windows waiting for acks */
	size_t			 nwait;
	struct bconn		**starved;	/* waiting for buffer room */
	size_t			 nstarved;
	size_t			 buf_bytes;	/* every client's buffer */
	struct bconn		*over;		/* may pass the budget */
	int64_t			 last_sweep;
	int64_t			 accept_paused;	/* out of descriptors: since */
	bool			 busy;		/* in beats_dispatch() */
	/* the workers: busy clients wait on ready[] for a free slot */
	struct {
		int		 kind;		/* BK_POOL */
		int		 fd;		/* eventfd: a job is done */
	}			 pool;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	bool			 stop;
	struct bslot		*slots;
	unsigned		 nslots, nthreads;
	struct bconn		**ready;
	size_t			 nready;
	uint64_t		 logged;
	struct beats_stats	 st;
};

static void
bs_log_refusal(struct beats *b, struct bconn *c, int reason)
{
	/* a hostile peer cannot flood the log: the first ones, then a few */
	if (b->logged++ < 20 || b->logged % 1000 == 0)
		log_warnx("beats: %s: refused (%s), connection closed", c->addr,
		    beats_reason_name(reason));
}

static void
bs_list_del(struct bconn **v, size_t *n, struct bconn *c)
{
	for (size_t i = 0; i < *n; i++)
		if (v[i] == c) {
			v[i] = v[--*n];
			return;
		}
}

static void	bs_interest(struct beats *, struct bconn *);

/*
 * c's input buffer resized to ncap bytes (0: freed), within the budget;
 * false when there is no room (c is then starved, not read) or no
 * memory.  Growing past the budget is let to one client at a time.
 */
static bool
bs_buf_set(struct beats *b, struct bconn *c, size_t ncap)
{
	uint8_t *nb;

	if (ncap > c->cap && b->buf_bytes + (ncap - c->cap) >
	    b->conf.max_buffer) {
		if (b->over != NULL && b->over != c) {
			if (!c->starved) {
				c->starved = true;
				b->starved[b->nstarved++] = c;
				b->st.buffer_waits++;
			}
			return false;
		}
		b->over = c;
	}
	if (ncap == 0) {
		free(c->buf);
		nb = NULL;
	} else if ((nb = realloc(c->buf, ncap)) == NULL)
		return false;
	b->buf_bytes = b->buf_bytes - c->cap + ncap;
	c->buf = nb;
	if (ncap < c->cap && b->over == c)
		b->over = NULL;		/* its big frame went by */
	c->cap = ncap;
	b->st.buffer_bytes = b->buf_bytes;
	return true;
}

/* Room again: the starved clients are read again (and may starve again). */
static void
bs_wake(struct beats *b)
{
	if (b->nstarved == 0 || (b->over != NULL &&
	    b->buf_bytes >= b->conf.max_buffer))
		return;
	while (b->nstarved > 0) {
		struct bconn *c = b->starved[--b->nstarved];

		c->starved = false;
		bs_interest(b, c);
	}
}

/* The memory of a closed client. */
static void
bs_conn_free(struct beats *b, struct bconn *c)
{
	beats_session_free(c->sess);
	bs_buf_set(b, c, 0);
	free(c);
	bs_wake(b);
}

static void
bs_conn_close(struct beats *b, struct bconn *c)
{
	if (c->queued) {
		for (size_t i = 0; i < b->nready; i++)
			if (b->ready[i] == c) {
				memmove(b->ready + i, b->ready + i + 1,
				    (b->nready - i - 1) * sizeof(*b->ready));
				b->nready--;
				break;
			}
		c->queued = c->busy = false;
	}
	if (c->on_dirty)
		bs_list_del(b->dirty, &b->ndirty, c);
	if (c->on_wait)
		bs_list_del(b->wait, &b->nwait, c);
	if (c->starved)
		bs_list_del(b->starved, &b->nstarved, c);
	b->conns[c->idx] = b->conns[--b->nconns];
	b->conns[c->idx]->idx = c->idx;
	if (c->tls != NULL)
		gnutls_deinit(c->tls);
	epoll_ctl(b->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	b->st.open = b->nconns;
	if (c->busy)
		c->dead = true;	/* a worker reads its buffer: bs_collect */
	else
		bs_conn_free(b, c);
}

static void
bs_interest(struct beats *b, struct bconn *c)
{
	struct epoll_event ev = { 0 };
	uint32_t want = 0;

	if (c->unpolled)
		return;		/* bs_collect puts it back */
	if (c->handshaking)
		want = gnutls_record_get_direction(c->tls) ? EPOLLOUT : EPOLLIN;
	else {
		if (!c->stalled && !c->starved && !c->busy)
			want |= EPOLLIN;
		if (c->outlen > 0)
			want |= EPOLLOUT;
	}
	if (want == c->interest)
		return;
	ev.events = want;
	ev.data.ptr = c;
	epoll_ctl(b->ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->interest = want;
}

/* Sends what out holds; -1 when the connection is gone. */
static int
bs_flush(struct bconn *c)
{
	ssize_t n;

	while (c->outlen > 0) {
		if (c->tls != NULL) {
			if (c->tls_wpend > 0)
				n = gnutls_record_send(c->tls, NULL, 0);
			else
				n = gnutls_record_send(c->tls, c->out, c->outlen);
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
				if (c->tls_wpend == 0)
					c->tls_wpend = c->outlen;
				return 0;
			}
			if (n < 0)
				return -1;
			if (c->tls_wpend > 0) {
				n = (ssize_t)c->tls_wpend;
				c->tls_wpend = 0;
			}
		} else if ((n = send(c->fd, c->out, c->outlen,
		    MSG_NOSIGNAL | MSG_DONTWAIT)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -1;
		}
		memmove(c->out, c->out + n, c->outlen - (size_t)n);
		c->outlen -= (size_t)n;
	}
	return 0;
}

static void
bs_put_ack(struct bconn *c, uint32_t seq)
{
	uint8_t *p = c->out + c->outlen;

	p[0] = '2';
	p[1] = 'A';
	p[2] = (uint8_t)(seq >> 24);
	p[3] = (uint8_t)(seq >> 16);
	p[4] = (uint8_t)(seq >> 8);
	p[5] = (uint8_t)seq;
	c->outlen += 6;
	c->ack_ms = soc_mono_ms();
}

static ssize_t
bs_read(struct bconn *c, void *p, size_t n)
{
	ssize_t r;

	if (c->tls == NULL) {
		r = recv(c->fd, p, n, MSG_DONTWAIT);
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			return -2;
		return r;
	}
	r = gnutls_record_recv(c->tls, p, n);
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
		return -2;
	return r < 0 ? -1 : r;
}

static void bs_refuse(struct beats *, struct bconn *, int);

/* c's pending 'C' frame to a free worker, or c waits for one. */
static void
bs_start(struct beats *b, struct bslot *w, struct bconn *c)
{
	struct beats_job *j = w->job;

	j->bc = &b->conf;
	j->peer = c->addr;
	j->data = c->sess->pend.data;
	j->len = c->sess->pend.len;
	pthread_mutex_lock(&b->mu);
	w->c = c;
	w->state = BW_QUEUED;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

static void
bs_submit(struct beats *b, struct bconn *c)
{
	c->busy = true;
	for (unsigned i = 0; i < b->nslots; i++)
		if (b->slots[i].c == NULL) {	/* only this thread sets c */
			bs_start(b, &b->slots[i], c);
			return;
		}
	b->ready[b->nready++] = c;
	c->queued = true;
}

static void *
bs_worker(void *arg)
{
	struct bslot *w = arg;
	struct beats *b = w->b;
	uint64_t one = 1;

	pthread_mutex_lock(&b->mu);
	for (;;) {
		while (!b->stop && w->state != BW_QUEUED)
			pthread_cond_wait(&b->cv, &b->mu);
		if (w->state != BW_QUEUED)
			break;
		w->state = BW_RUNNING;
		pthread_mutex_unlock(&b->mu);
		beats_job_run(w->job);
		pthread_mutex_lock(&b->mu);
		w->state = BW_DONE;
		pthread_mutex_unlock(&b->mu);
		if (write(b->pool.fd, &one, sizeof(one)) == -1 && errno != EAGAIN)
			log_warn("beats: eventfd");
		pthread_mutex_lock(&b->mu);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

static int	bs_conn_run(struct beats *, struct bconn *);

/*
 * The jobs done: each client takes its frame's events in its order (the
 * session applies the job as if it had read the frame itself), the frame
 * leaves its buffer, and it is read on; a freed worker takes the next
 * client waiting.
 */
static void
bs_collect(struct beats *b)
{
	struct bslot *w;
	struct bconn *c;
	int st, rc, reason;
	bool alive;

	for (unsigned i = 0; i < b->nslots; i++) {
		w = &b->slots[i];
		if ((c = w->c) == NULL)
			continue;
		pthread_mutex_lock(&b->mu);
		st = w->state;
		pthread_mutex_unlock(&b->mu);
		if (st != BW_DONE)
			continue;
		alive = !c->dead;
		if (c->dead)
			bs_conn_free(b, c);
		else {
			rc = beats_session_apply(c->sess, w->job, &reason);
			if (c->sess->dirty && !c->on_dirty) {
				b->dirty[b->ndirty++] = c;
				c->on_dirty = true;
			}
			c->busy = false;
			if (rc == -1) {
				bs_refuse(b, c, reason);
				alive = false;
			} else {
				memmove(c->buf, c->buf + c->sess->pend.frame,
				    c->have - c->sess->pend.frame);
				c->have -= c->sess->pend.frame;
			}
		}
		pthread_mutex_lock(&b->mu);
		w->state = BW_IDLE;
		w->c = NULL;
		pthread_mutex_unlock(&b->mu);
		if (b->nready > 0) {
			struct bconn *next = b->ready[0];

			memmove(b->ready, b->ready + 1, --b->nready *
			    sizeof(*b->ready));
			next->queued = false;
			bs_start(b, w, next);
		}
		if (alive && c->unpolled) {
			struct epoll_event ev = { .data.ptr = c };

			epoll_ctl(b->ep, EPOLL_CTL_ADD, c->fd, &ev);
			c->unpolled = false;
			c->interest = 0;
		}
		if (alive)
			bs_conn_run(b, c);	/* may close it */
	}
}

/*
 * Frames in the buffer, then reads while the client has bytes and room;
 * returns -1 after closing it.
 */
static int
bs_conn_run(struct beats *b, struct bconn *c)
{
	size_t used, budget = BEATS_READ_BUDGET, ncap;
	ssize_t n;
	int rc, reason;

	if (c->busy) {
		bs_interest(b, c);	/* EPOLLOUT off once flushed */
		return 0;
	}
	if (c->handshaking) {
		rc = gnutls_handshake(c->tls);
		if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
			bs_interest(b, c);
			return 0;
		}
		if (rc < 0) {
			b->st.refused[BEATS_R_TLS]++;
			if (b->logged++ < 20 || b->logged % 1000 == 0)
				log_warnx("beats: %s: TLS handshake failed: %s",
				    c->addr, gnutls_strerror(rc));
			bs_conn_close(b, c);
			return -1;
		}
		c->handshaking = false;
	}
	for (;;) {
		if (c->have > 0) {
			rc = beats_session_feed(c->sess, c->buf, c->have, &used,
			    &reason);
			if (c->sess->dirty && !c->on_dirty) {
				b->dirty[b->ndirty++] = c;
				c->on_dirty = true;
			}
			if (rc == -1) {
				bs_refuse(b, c, reason);
				return -1;
			}
			memmove(c->buf, c->buf + used, c->have - used);
			c->have -= used;
			if (rc == 2) {
				/* a 'C' frame, now at buf[0]: to a worker */
				c->sess->pend.data -= used;
				bs_submit(b, c);
				break;
			}
			c->stalled = rc == 1;
			if (c->stalled)
				break;
		}
		/* drained: the buffer goes back to the budget; a big frame
		 * went by: the rest moves to a small one */
		if (c->have == 0 && c->cap > 0) {
			bs_buf_set(b, c, 0);
			bs_wake(b);
		} else if (c->cap > 4 * BEATS_BUF_MIN && c->have <=
		    BEATS_BUF_MIN) {
			bs_buf_set(b, c, BEATS_BUF_MIN);
			bs_wake(b);
		}
		if (c->have == c->cap) {
			ncap = c->cap ? c->cap * 2 : BEATS_BUF_MIN;
			if (ncap > b->conf.max_frame + 16)
				ncap = b->conf.max_frame + 16;
			if (ncap <= c->cap) {
				bs_conn_close(b, c);	/* cannot happen */
				return -1;
			}
			if (!bs_buf_set(b, c, ncap)) {
				if (c->starved)
					break;	/* read again once room frees */
				bs_conn_close(b, c);	/* out of memory */
				return -1;
			}
		}
		if (budget == 0 && (c->tls == NULL ||
		    gnutls_record_check_pending(c->tls) == 0))
			break;
		n = bs_read(c, c->buf + c->have, c->cap - c->have);
		if (n == -2) {
			if (c->have == 0) {	/* a quiet client holds none */
				bs_buf_set(b, c, 0);
				bs_wake(b);
			}
			break;
		}
		if (n <= 0) {
			bs_conn_close(b, c);	/* gone: nothing to refuse */
			return -1;
		}
		c->have += (size_t)n;
		budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
		c->active_ms = soc_mono_ms();
	}
	bs_interest(b, c);
	return 0;
}

static void
bs_refuse(struct beats *b, struct bconn *c, int reason)
{
	bs_log_refusal(b, c, reason);
	bs_conn_close(b, c);
}

/*
 * Out of descriptors: the connection stays in the backlog and the
 * level-triggered listener would wake us at once, forever.  Stop
 * listening for a moment instead (bs_sweep resumes).
 */
static void
bs_accept_pause(struct beats *b)
{
	struct epoll_event ev = { 0 };

	if (b->accept_paused != 0)
		return;
	b->accept_paused = soc_mono_ms();
	ev.data.ptr = &b->lst;
	epoll_ctl(b->ep, EPOLL_CTL_MOD, b->lst.fd, &ev);
	if (b->logged++ < 20 || b->logged % 1000 == 0)
		log_warnx("beats: cannot accept: %s (%zu clients)",
		    strerror(errno), b->nconns);
}

static void
bs_accept(struct beats *b)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct epoll_event ev = { 0 };
	struct bconn *c;
	int fd;

	for (int i = 0; i < BEATS_ACCEPT_BURST; i++) {
		sl = sizeof(ss);
		if ((fd = accept4(b->lst.fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				bs_accept_pause(b);
			return;
		}
		if (b->nconns >= b->conf.max_conns ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			b->st.refused[BEATS_R_CONNS]++;
			close(fd);
			continue;
		}
		c->kind = BK_CLIENT;
		c->fd = fd;
		soc_addr_text(&ss, c->addr, sizeof(c->addr));
		c->active_ms = soc_mono_ms();
		if ((c->sess = beats_session_new(&b->conf, b->emit, b->arg,
		    &b->st)) == NULL)
			goto fail;
		c->sess->peer = c->addr;
		c->sess->async = b->nthreads > 0;
		if (b->tls) {
			if (gnutls_init(&c->tls, GNUTLS_SERVER | GNUTLS_NONBLOCK) < 0)
				goto fail;
			if (gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE,
			    b->cred) < 0 || gnutls_set_default_priority(c->tls) < 0)
				goto fail;
			if (b->verify) {
				gnutls_certificate_server_set_request(c->tls,
				    GNUTLS_CERT_REQUIRE);
				gnutls_session_set_verify_cert(c->tls, NULL, 0);
			}
			gnutls_transport_set_int(c->tls, fd);
			c->handshaking = true;
		}
		ev.events = c->interest = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(b->ep, EPOLL_CTL_ADD, fd, &ev) == -1)
			goto fail;
		c->idx = b->nconns;
		b->conns[b->nconns++] = c;
		b->st.connections++;
		b->st.open = b->nconns;
		continue;
fail:
		if (c->tls != NULL)
			gnutls_deinit(c->tls);
		beats_session_free(c->sess);
		free(c);
		close(fd);
	}
}

/*
 * A window that waits for the sink (the correlator away, no spool) would
 * outlast the Beat's timeout (30 s) and be sent again: ACK 0 every few
 * seconds says it is still being worked on, as go-lumber's server does
 * (a Beat reads on until the ACK covers its window).
 */
static void
bs_keepalive(struct beats *b, struct bconn *c, int64_t now)
{
	if (c->handshaking || beats_session_done(c->sess) < 0 ||
	    c->outlen + 6 > sizeof(c->out) ||
	    now - c->active_ms < BEATS_KEEPALIVE_MS ||
	    now - c->ack_ms < BEATS_KEEPALIVE_MS)
		return;
	bs_put_ack(c, 0);
	b->st.keepalives++;
	if (bs_flush(c) == -1)
		bs_conn_close(b, c);
	else
		bs_interest(b, c);
}

/* Silent clients are closed, unless they wait for our acks (a client
 * stopped in the middle of a window is closed: it owes us the rest);
 * waiting ones get keep-alives; a paused listener listens again. */
static void
bs_sweep(struct beats *b, int64_t now)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (b->accept_paused != 0 && now - b->accept_paused >= 100) {
		b->accept_paused = 0;
		ev.data.ptr = &b->lst;
		epoll_ctl(b->ep, EPOLL_CTL_MOD, b->lst.fd, &ev);
	}
	if (now - b->last_sweep < 1000)
		return;
	b->last_sweep = now;
	for (size_t i = 0; i < b->nconns; i++) {
		struct bconn *c = b->conns[i];
		struct beats_session *se = c->sess;
		const struct bwin *last = se->n ? &se->w[(se->head + se->n - 1) %
		    BEATS_WINDOWS] : NULL;
		size_t n = b->nconns;

		/* a starved client is silent because it is not read */
		if (b->conf.idle_s > 0 && !c->starved && !c->busy &&
		    (last == NULL || last->got < last->count) &&
		    now - c->active_ms >= b->conf.idle_s * 1000) {
			b->st.idle_closed++;
			bs_conn_close(b, c);
		} else
			bs_keepalive(b, c, now);
		if (b->nconns < n)
			i--;		/* closed: another took its place */
	}
}

size_t
beats_dispatch(struct beats *b)
{
	struct epoll_event evs[BEATS_EPOLL_MAX];
	uint64_t before = b->st.events;
	bool collect = false;
	int n;

	n = epoll_wait(b->ep, evs, BEATS_EPOLL_MAX, 0);
	b->busy = true;
	for (int i = 0; i < n; i++) {
		int *kind = evs[i].data.ptr;
		struct bconn *c;
		uint64_t cnt;

		if (*kind == BK_LISTEN) {
			bs_accept(b);
			continue;
		}
		if (*kind == BK_POOL) {
			if (read(b->pool.fd, &cnt, sizeof(cnt)) == -1 &&
			    errno != EAGAIN)
				log_warn("beats: eventfd");
			/* after the loop: a collected client may be closed
			 * and freed while a later entry of evs names it */
			collect = true;
			continue;
		}
		c = evs[i].data.ptr;
		if (c->busy && (evs[i].events & (EPOLLHUP | EPOLLERR))) {
			/* reported whatever the interest: not polled until
			 * its worker is done, or the loop would spin */
			epoll_ctl(b->ep, EPOLL_CTL_DEL, c->fd, NULL);
			c->unpolled = true;
			continue;
		}
		if ((evs[i].events & EPOLLOUT) && !c->handshaking &&
		    bs_flush(c) == -1) {
			bs_conn_close(b, c);
			/* a later event in evs may name c: look it up */
			for (int k = i + 1; k < n; k++)
				if (evs[k].data.ptr == c)
					evs[k].data.ptr = &b->lst.kind,
					evs[k].events = 0;
			continue;
		}
		if (bs_conn_run(b, c) == -1)
			for (int k = i + 1; k < n; k++)
				if (evs[k].data.ptr == c)
					evs[k].data.ptr = &b->lst.kind,
					evs[k].events = 0;
	}
	if (collect)
		bs_collect(b);
	bs_sweep(b, soc_mono_ms());
	b->busy = false;
	return (size_t)(b->st.events - before);
}

void
beats_handed_on(struct beats *b, uint64_t mark, int ok)
{
	for (size_t i = 0; i < b->ndirty; ) {
		struct bconn *c = b->dirty[i];
		struct beats_session *s = c->sess;

		c->on_dirty = false;
		b->dirty[i] = b->dirty[--b->ndirty];
		s->dirty = false;
		/* closed by beats_durable(): this may run inside a read of c
		 * (a batch filled up mid-window) */
		if (!ok)
			c->lost = true;
		for (unsigned k = 0; k < s->n; k++) {
			struct bwin *w = &s->w[(s->head + k) % BEATS_WINDOWS];

			if (!w->dirty)
				continue;
			w->dirty = false;
			w->mark = mark;
			if (w->first_mark == 0)
				w->first_mark = mark;
		}
		if (!c->on_wait) {
			b->wait[b->nwait++] = c;
			c->on_wait = true;
		}
	}
}

/* Acks the complete windows of c whose batches are durable. */
static int
bs_ack(struct beats *b, struct bconn *c, uint64_t mark, uint64_t lost)
{
	struct beats_session *s = c->sess;
	bool acked = false;
	int64_t seq;

	for (unsigned k = 0; k <= s->n && (lost != 0 || c->lost); k++) {
		struct bwin *w = &s->w[(s->head + k) % BEATS_WINDOWS];

		if (c->lost || (k < s->n && w->first_mark != 0 &&
		    w->first_mark <= lost && lost <= w->mark)) {
			b->st.refused[BEATS_R_LOST]++;
			bs_log_refusal(b, c, BEATS_R_LOST);
			bs_conn_close(b, c);
			return -1;
		}
	}
	while ((seq = beats_session_done(s)) >= 0 && !s->w[s->head].dirty &&
	    s->w[s->head].mark != 0 && s->w[s->head].mark <= mark &&
	    c->outlen + 6 <= sizeof(c->out)) {
		bs_put_ack(c, (uint32_t)seq);
		beats_session_pop(s);
		b->st.acks++;
		acked = true;
	}
	if (!acked)
		return 0;
	if (bs_flush(c) == -1) {
		bs_conn_close(b, c);
		return -1;
	}
	/* room for windows again: what was waiting in the buffer goes on */
	if (c->stalled && bs_conn_run(b, c) == -1)
		return -1;
	bs_interest(b, c);
	return 0;
}

void
beats_durable(struct beats *b, uint64_t mark, uint64_t lost)
{
	/* called back from an emit inside beats_dispatch() (a batch filled
	 * up): acks could resume or close the client being read; the call
	 * after the dispatch sends them */
	if (b->busy)
		return;
	b->busy = true;
	for (size_t i = 0; i < b->nwait; ) {
		struct bconn *c = b->wait[i];
		bool more = false;

		if (bs_ack(b, c, mark, lost) == -1)
			continue;	/* closed: removed from wait[] */
		for (unsigned k = 0; k < c->sess->n; k++)
			if (c->sess->w[(c->sess->head + k) % BEATS_WINDOWS].mark)
				more = true;
		if (more) {
			i++;
			continue;
		}
		c->on_wait = false;
		b->wait[i] = b->wait[--b->nwait];
	}
	b->busy = false;
}

int
beats_waiting(const struct beats *b)
{
	return b->nwait > 0 || b->ndirty > 0;
}

int
beats_fd(const struct beats *b)
{
	return b->ep;
}

void
beats_stats(const struct beats *b, struct beats_stats *st)
{
	if (b == NULL)
		memset(st, 0, sizeof(*st));
	else
		*st = b->st;
}

/* "ADDR:PORT", "[V6]:PORT", "*:PORT" or ":PORT". */
static int
bs_listen(const char *spec, char *err, size_t errlen)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char host[256];
	const char *colon, *port, *end, *h = spec;
	size_t hl;
	int fd = -1, on = 1, rc;

	if (spec[0] == '[') {
		if ((end = strchr(spec, ']')) == NULL || end[1] != ':')
			goto usage;
		h = spec + 1;
		colon = end + 1;
		hl = (size_t)(end - h);
	} else {
		if ((colon = strrchr(spec, ':')) == NULL)
			goto usage;
		hl = (size_t)(colon - spec);
	}
	if (hl >= sizeof(host) || colon[1] == '\0')
		goto usage;
	memcpy(host, h, hl);
	host[hl] = '\0';
	port = colon + 1;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host[0] && strcmp(host, "*") ? host : NULL, port,
	    &hints, &ai)) != 0) {
		snprintf(err, errlen, "beats.listen \"%s\": %s", spec,
		    gai_strerror(rc));
		return -1;
	}
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 || listen(fd, 1024) == -1)
		goto fail;
	freeaddrinfo(ai);
	return fd;
fail:
	snprintf(err, errlen, "beats.listen \"%s\": %s", spec, strerror(errno));
	if (fd != -1)
		close(fd);
	freeaddrinfo(ai);
	return -1;
usage:
	snprintf(err, errlen, "beats.listen \"%s\": use ADDR:PORT or "
	    "[ADDR]:PORT", spec);
	return -1;
}

static int
bs_tls(struct beats *b, char *err, size_t errlen)
{
	const struct beats_conf *bc = &b->conf;
	int rc;

	if (bc->tls_cert == NULL && bc->tls_key == NULL && bc->tls_ca == NULL)
		return 0;
	if (bc->tls_cert == NULL || bc->tls_key == NULL) {
		snprintf(err, errlen, "beats: TLS needs both beats.tls_cert and "
		    "beats.tls_key");
		return -1;
	}
	if ((rc = gnutls_global_init()) < 0 ||
	    (rc = gnutls_certificate_allocate_credentials(&b->cred)) < 0)
		goto fail;
	if ((rc = gnutls_certificate_set_x509_key_file(b->cred, bc->tls_cert,
	    bc->tls_key, GNUTLS_X509_FMT_PEM)) < 0) {
		snprintf(err, errlen, "beats: %s / %s: %s", bc->tls_cert,
		    bc->tls_key, gnutls_strerror(rc));
		return -1;
	}
	if (bc->tls_ca != NULL) {
		if ((rc = gnutls_certificate_set_x509_trust_file(b->cred,
		    bc->tls_ca, GNUTLS_X509_FMT_PEM)) <= 0) {
			snprintf(err, errlen, "beats: %s: %s", bc->tls_ca,
			    rc == 0 ? "no certificate in it" : gnutls_strerror(rc));
			return -1;
		}
		b->verify = true;
	}
	b->tls = true;
	return 0;
fail:
	snprintf(err, errlen, "beats: TLS: %s", gnutls_strerror(rc));
	return -1;
}

/* The workers (none without bc->rec: events then need the main thread). */
static int
bs_pool(struct beats *b, char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned n = b->conf.rec != NULL ? b->conf.workers : 0;

	if (n == 0)
		return 0;
	if ((b->ready = calloc(b->conf.max_conns, sizeof(*b->ready))) == NULL ||
	    (b->slots = calloc(n, sizeof(*b->slots))) == NULL)
		goto nomem;
	if ((b->pool.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		snprintf(err, errlen, "beats: eventfd: %s", strerror(errno));
		return -1;
	}
	ev.data.ptr = &b->pool;
	if (epoll_ctl(b->ep, EPOLL_CTL_ADD, b->pool.fd, &ev) == -1) {
		snprintf(err, errlen, "beats: epoll: %s", strerror(errno));
		return -1;
	}
	for (b->nslots = 0; b->nslots < n; b->nslots++) {
		struct bslot *w = &b->slots[b->nslots];

		w->b = b;
		if ((w->job = calloc(1, sizeof(*w->job))) == NULL)
			goto nomem;
		soc_wbuf_init(&w->job->w);
	}
	for (; b->nthreads < n; b->nthreads++)
		if ((errno = pthread_create(&b->slots[b->nthreads].th, NULL,
		    bs_worker, &b->slots[b->nthreads])) != 0) {
			snprintf(err, errlen, "beats: thread: %s",
			    strerror(errno));
			return -1;
		}
	return 0;
nomem:
	snprintf(err, errlen, "beats: out of memory");
	return -1;
}

struct beats *
beats_open(const struct beats_conf *bc, soc_emit_fn emit, void *arg,
    char *err, size_t errlen)
{
	struct epoll_event ev = { 0 };
	struct rlimit rl;
	struct beats *b;

	err[0] = '\0';
	if (bc->listen == NULL || bc->listen[0] == '\0')
		return NULL;
	/* a descriptor per Beat: thousands of agents pass the usual 1024 */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		snprintf(err, errlen, "beats: out of memory");
		return NULL;
	}
	b->conf = *bc;
	b->emit = emit;
	b->arg = arg;
	b->ep = b->lst.fd = b->pool.fd = -1;
	b->lst.kind = BK_LISTEN;
	b->pool.kind = BK_POOL;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	if (bs_tls(b, err, errlen) == -1)
		goto fail;
	if ((b->conns = calloc(bc->max_conns, sizeof(*b->conns))) == NULL ||
	    (b->dirty = calloc(bc->max_conns, sizeof(*b->dirty))) == NULL ||
	    (b->wait = calloc(bc->max_conns, sizeof(*b->wait))) == NULL ||
	    (b->starved = calloc(bc->max_conns, sizeof(*b->starved))) ==
	    NULL) {
		snprintf(err, errlen, "beats: out of memory");
		goto fail;
	}
	if ((b->lst.fd = bs_listen(bc->listen, err, errlen)) == -1)
		goto fail;
	if ((b->ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		snprintf(err, errlen, "beats: epoll: %s", strerror(errno));
		goto fail;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &b->lst;
	if (epoll_ctl(b->ep, EPOLL_CTL_ADD, b->lst.fd, &ev) == -1) {
		snprintf(err, errlen, "beats: epoll: %s", strerror(errno));
		goto fail;
	}
	if (bs_pool(b, err, errlen) == -1)
		goto fail;
	log_info("beats: listening on %s%s, %u worker%s", bc->listen, b->tls ?
	    (b->verify ? " (TLS, client certificates required)" : " (TLS)") :
	    "", b->nthreads, b->nthreads == 1 ? "" : "s");
	return b;
fail:
	beats_close(b);
	return NULL;
}

void
beats_close(struct beats *b)
{
	if (b == NULL)
		return;
	/* the workers finish what they hold, then stop */
	pthread_mutex_lock(&b->mu);
	b->stop = true;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	for (unsigned i = 0; i < b->nthreads; i++)
		pthread_join(b->slots[i].th, NULL);
	for (unsigned i = 0; i < b->nslots; i++) {
		struct bconn *c = b->slots[i].c;

		if (c != NULL && c->dead)
			bs_conn_free(b, c);
		else if (c != NULL)
			c->busy = false;
		beats_job_free(b->slots[i].job);
	}
	while (b->nconns > 0)
		bs_conn_close(b, b->conns[0]);
	if (b->lst.fd != -1)
		close(b->lst.fd);
	if (b->ep != -1)
		close(b->ep);
	if (b->cred != NULL)
		gnutls_certificate_free_credentials(b->cred);
	if (b->tls)
		gnutls_global_deinit();
	free(b->conns);
	free(b->dirty);
	free(b->wait);
	free(b->starved);
	free(b->slots);
	free(b->ready);
	if (b->pool.fd != -1)
		close(b->pool.fd);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b);
	beats_proto_free();
}
