/*
 * The CEF writer: one thread with its own SQLite connection that writes
 * one alert_to_cef() line per outbox record, in record order, to a SIEM
 * (--cef tcp://HOST:PORT, newline framing; or udp://HOST:PORT, one
 * datagram per line).
 *
 * A cursor in forward_state (cef_cursor) is the last record known
 * written.  Over TCP "written" means the peer's TCP acknowledged the
 * line's bytes: the writer keeps the end offset of each line sent and
 * asks the kernel how many of its bytes the peer's TCP acknowledged
 * (TCP_INFO); only lines wholly acknowledged move the cursor.  After a
 * reconnect, writing resumes after the cursor, so a line can arrive twice
 * but none is skipped: at-least-once (docs/ALERTS.md).  Over UDP the
 * cursor moves as datagrams leave; there is no acknowledgement.
 *
 * When the correlator forwards only to a SIEM (no national endpoint), a
 * record written here counts as delivered (acked in the outbox).
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stddef.h>
#include <linux/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "soc/json.h"
#include "soc/log.h"
#include "soc/util.h"
#include "forward.h"
#include "store.h"

#define CEF_CHUNK	256		/* records read at a time */
#define CEF_RING	4096		/* lines written, not yet acknowledged */
#define CEF_RETRY_MS	1000
#define CEF_RETRY_MAX	30000

struct cef_line {
	int64_t		id;		/* outbox record */
	uint64_t	end;		/* byte offset just after the line */
};

struct forward_cef {
	struct forward_conf	 c;
	struct store		*st;
	pthread_t		 thr;
	int			 running;
	int			 mark_acked;
	_Atomic int		 stop;

	/* thread-owned */
	int			 udp;
	char			 host[256], port[16];
	char			 hostname[256];
	int			 fd;
	int64_t			 cursor;	/* last record known written */
	int64_t			 sent_id;	/* last record handed to the kernel */
	uint64_t		 written;	/* bytes written on this connection */
	struct cef_line		 ring[CEF_RING];
	size_t			 rhead, rn;
	int64_t			 retry_ms, next_try, last_tick;
	char			 error[1024];
	struct soc_sbuf		 line;
	struct soc_event	 ev;
	struct soc_alert	 alert;
	int			 failed;	/* a send failed in this chunk */
	uint64_t		 added;		/* lines since the last state write */
	int64_t			 acks[CEF_CHUNK];
	size_t			 nacks;

	_Atomic uint64_t	 n_lines, n_reconnects, n_resent;
	struct forward_prune	 prune;
};

/* "tcp://HOST:PORT" or "udp://HOST:PORT" ([v6] allowed).  0 / -1. */
static int
cef_parse(struct forward_cef *w, const char *url)
{
	const char *p, *colon;
	size_t hl;

	if (strncmp(url, "tcp://", 6) == 0)
		w->udp = 0;
	else if (strncmp(url, "udp://", 6) == 0)
		w->udp = 1;
	else
		return -1;
	p = url + 6;
	if ((colon = strrchr(p, ':')) == NULL || colon == p || colon[1] == '\0' ||
	    strlen(colon + 1) >= sizeof(w->port))
		return -1;
	hl = (size_t)(colon - p);
	if (p[0] == '[' && hl >= 2 && p[hl - 1] == ']') {
		p++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(w->host))
		return -1;
	memcpy(w->host, p, hl);
	w->host[hl] = '\0';
	snprintf(w->port, sizeof(w->port), "%s", colon + 1);
	return 0;
}

static void
cef_close(struct forward_cef *w)
{
	if (w->fd != -1)
		close(w->fd);
	w->fd = -1;
	w->rn = 0;
	w->written = 0;
	w->sent_id = w->cursor;		/* resume after the last known written */
}

static int
cef_connect(struct forward_cef *w)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv = { 5, 0 };
	int rc, fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = w->udp ? SOCK_DGRAM : SOCK_STREAM;
	if ((rc = getaddrinfo(w->host, w->port, &hints, &res)) != 0) {
		snprintf(w->error, sizeof(w->error), "cef: %s: %s", w->host,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol)) == -1)
			continue;
		/* bounds connect() and send() on Linux */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		snprintf(w->error, sizeof(w->error), "cef: connect %s: %s",
		    w->c.cef, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		return -1;
	w->fd = fd;
	w->error[0] = '\0';
	w->sent_id = w->cursor;
	atomic_fetch_add(&w->n_reconnects, 1);
	log_info("cef: writing to %s from alert record %lld on", w->c.cef,
	    (long long)w->cursor + 1);
	return 0;
}

/*
 * Moves the cursor past the lines whose bytes the peer acknowledged:
 * TCP_INFO's bytes_acked (RFC 4898 ThruOctetsAcked) counts them and,
 * unlike the send queue, keeps its word when a reset purges the queue.
 */
static void
cef_settle(struct forward_cef *w)
{
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	uint64_t done;

	if (w->udp) {
		w->cursor = w->sent_id;
		return;
	}
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(w->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == -1 ||
	    tl < offsetof(struct tcp_info, tcpi_bytes_acked) +
	    sizeof(ti.tcpi_bytes_acked))
		return;			/* not known: the cursor waits */
	done = ti.tcpi_bytes_acked;
	while (w->rn > 0 && w->ring[w->rhead].end <= done) {
		w->cursor = w->ring[w->rhead].id;
		w->rhead = (w->rhead + 1) % CEF_RING;
		w->rn--;
	}
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* store_outbox_after() callback: one record, one line. */
static int
cef_one(void *arg, const struct store_outbox_rec *r)
{
	struct forward_cef *w = arg;
	size_t len;

	if (w->rn == CEF_RING)
		return 1;		/* wait for the peer to catch up */
	forward_alert_build(w->st, r, w->c.origin, &w->ev, &w->alert);
	soc_sbuf_reset(&w->line);
	alert_to_cef(&w->alert, &w->c.fields, w->hostname, &w->line);
	if (w->line.oom)
		return 1;
	len = w->line.len;
	if (w->udp && len > 0 && w->line.data[len - 1] == '\n')
		len--;			/* a datagram is its own frame */
	if ((w->udp ? send(w->fd, w->line.data, len, MSG_NOSIGNAL) ==
	    (ssize_t)len ? 0 : -1 : write_all(w->fd, w->line.data, len)) == -1) {
		snprintf(w->error, sizeof(w->error), "cef: write %s: %s",
		    w->c.cef, strerror(errno));
		w->failed = 1;
		return 1;
	}
	w->written += len;
	w->sent_id = r->id;
	if (!w->udp) {
		w->ring[(w->rhead + w->rn) % CEF_RING] =
		    (struct cef_line){ r->id, w->written };
		w->rn++;
	}
	if (w->mark_acked && w->nacks < CEF_CHUNK)
		w->acks[w->nacks++] = r->id;
	w->added++;
	atomic_fetch_add(&w->n_lines, 1);
	return 0;
}

/* One pass: write what is new, then record the cursor.  Returns the
 * records written, or -1 when the connection failed. */
static int
cef_pass(struct forward_cef *w)
{
	int64_t before = w->cursor, now = soc_now_ns();
	int n;

	w->failed = 0;
	w->nacks = 0;
	n = store_outbox_after(w->st, w->sent_id, CEF_CHUNK, cef_one, w);
	if (n == -1) {
		snprintf(w->error, sizeof(w->error), "cef: outbox: %s",
		    store_errmsg(w->st));
		return 0;
	}
	if (w->mark_acked && w->nacks > 0 &&
	    store_outbox_delivered(w->st, w->acks, w->nacks, now) == -1)
		log_warnx("cef: %s", store_errmsg(w->st));
	if (w->failed)
		return -1;
	cef_settle(w);
	if (w->cursor != before || w->added > 0) {
		if (store_forward_cef(w->st, w->cursor, w->added, 1, NULL, now) == 0)
			w->added = 0;
	}
	return w->sent_id > before ? 1 : 0;
}

/*
 * Without a national forwarder, this thread does its housekeeping: it
 * records socctl's changes from the audit trail and holds the bound.
 */
static void
cef_tick(struct forward_cef *w, int64_t now)
{
	int64_t dropped;

	if (!w->mark_acked || now - w->last_tick < 1000)
		return;
	w->last_tick = now;
	if (store_forward_sweep(w->st) == -1)
		log_warnx("cef: audit sweep: %s", store_errmsg(w->st));
	if ((dropped = store_outbox_trim(w->st, w->c.max_pending)) > 0)
		log_warnx("cef: outbox over forward.max_pending (%llu): dropped"
		    " the %lld oldest pending alerts",
		    (unsigned long long)w->c.max_pending, (long long)dropped);
	forward_prune(w->st, &w->c, &w->prune, now, "cef");
}

static void *
cef_main(void *arg)
{
	struct forward_cef *w = arg;
	int64_t now;
	int rc;

	while (!atomic_load(&w->stop)) {
		now = soc_mono_ms();
		cef_tick(w, now);
		if (w->fd == -1) {
			if (now < w->next_try) {
				poll(NULL, 0, 100);
				continue;
			}
			if (cef_connect(w) == -1) {
				store_forward_cef(w->st, w->cursor, 0, 0, w->error,
				    soc_now_ns());
				w->next_try = now + w->retry_ms;
				if ((w->retry_ms *= 2) > CEF_RETRY_MAX)
					w->retry_ms = CEF_RETRY_MAX;
				continue;
			}
			w->retry_ms = CEF_RETRY_MS;
			store_forward_cef(w->st, w->cursor, 0, 1, "", soc_now_ns());
		}
		if ((rc = cef_pass(w)) == -1) {
			log_warnx("%s; resending from record %lld after a"
			    " reconnect", w->error, (long long)w->cursor + 1);
			if (w->sent_id > w->cursor)
				atomic_fetch_add(&w->n_resent,
				    (uint64_t)(w->sent_id - w->cursor));
			cef_close(w);
			store_forward_cef(w->st, w->cursor, 0, 0, w->error,
			    soc_now_ns());
			w->next_try = now + w->retry_ms;
			continue;
		}
		if (rc == 0)
			poll(NULL, 0, 100);
	}
	if (w->fd != -1) {
		cef_settle(w);
		store_forward_cef(w->st, w->cursor, w->added, 0, NULL, soc_now_ns());
	}
	return NULL;
}

struct forward_cef *
forward_cef_start(const struct forward_conf *c, int mark_acked, char *err,
    size_t errlen)
{
	struct store_forward_state fs;
	struct forward_cef *w;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errlen, "cef: out of memory");
		return NULL;
	}
	w->c = *c;
	w->fd = -1;
	w->mark_acked = mark_acked;
	w->retry_ms = CEF_RETRY_MS;
	soc_sbuf_init(&w->line);
	if (cef_parse(w, c->cef) == -1) {
		snprintf(err, errlen, "--cef %s: use tcp://HOST:PORT or"
		    " udp://HOST:PORT", c->cef);
		goto fail;
	}
	/* the syslog header's HOSTNAME: forward.name (required with --cef) */
	snprintf(w->hostname, sizeof(w->hostname), "%s", c->origin);
	if ((w->st = store_open(c->db, 0, err, errlen)) == NULL)
		goto fail;
	if (mark_acked)
		store_forward_enable(w->st, c->min_severity);
	if (store_forward_relax(w->st) == -1 ||
	    store_forward_state_get(w->st, &fs) != 1) {
		snprintf(err, errlen, "cef: %s", store_errmsg(w->st));
		goto fail;
	}
	w->cursor = w->sent_id = fs.cef_cursor;
	if (pthread_create(&w->thr, NULL, cef_main, w) != 0) {
		snprintf(err, errlen, "cef: cannot start thread");
		goto fail;
	}
	w->running = 1;
	return w;
fail:
	store_close(w->st);
	soc_sbuf_free(&w->line);
	free(w);
	return NULL;
}

void
forward_cef_stop(struct forward_cef *w)
{
	if (w == NULL)
		return;
	atomic_store(&w->stop, 1);
	if (w->running)
		pthread_join(w->thr, NULL);
	if (w->fd != -1)
		close(w->fd);
	store_close(w->st);
	soc_sbuf_free(&w->line);
	free(w);
}

void
forward_cef_log_counters(struct forward_cef *w)
{
	log_info("cef: %llu lines written to %s, %llu connections, %llu lines"
	    " to resend after a lost connection", (unsigned long long)
	    atomic_load(&w->n_lines), w->c.cef,
	    (unsigned long long)atomic_load(&w->n_reconnects),
	    (unsigned long long)atomic_load(&w->n_resent));
}
