/*
 * The ZAP handler thread (see auth.h).  A peer that is unknown, revoked,
 * in the wrong domain or not using CURVE gets a "400" reply, never an
 * assert; a database error a "500" (the client retries, a sensor told
 * 400 stops).  Admissions are logged with the peer address; refusals
 * too, per source and rate-limited (struct refusals).
 *
 * The watch: handshake failures on the server socket that the ZAP
 * handler never sees (a HELLO that does not decrypt: the client holds a
 * wrong server key), from a socket monitor read by the main loop.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <zmq.h>

#include "soc/log.h"
#include "soc/util.h"
#include "auth.h"
#include "store.h"

struct auth {
	void		*zctx;
	void		*rep;
	struct store	*st;
	pthread_t	 thr;
	_Atomic int	 stop;
	_Atomic uint64_t allowed;
	_Atomic uint64_t denied;
	struct refusals	*refused;	/* the thread's */
};

/* ---- refused handshakes, per source per minute ---- */

#define REFUSE_SOURCES	256
#define REFUSE_WINDOW_MS 60000

struct refusal {
	char		src[64];	/* "" free */
	int		kind;		/* kinds of one source count apart */
	int64_t		since;		/* this minute began, mono ms */
	uint64_t	more;		/* not logged this minute */
	char		last[512];	/* the latest one, as logged */
};

/*
 * Lines a minute over all sources: many sources (an IPv6 /64 has no end
 * of them) each get their first line and their summary, so the total is
 * capped too; what the cap holds back is said in one line a minute.
 */
#define REFUSE_LINES_MAX 30

struct refusals {
	struct refusal	r[REFUSE_SOURCES];
	int64_t		gsince;		/* this minute began, mono ms; 0 none */
	uint64_t	glines;		/* lines logged this minute */
	uint64_t	gmore;		/* refusals held back by the cap ... */
	uint64_t	gsrcs;		/* ... in so many lines (sources) */
	char		glast[1024];	/* the latest held back */
};

struct refusals *
refusals_new(void)
{
	return calloc(1, sizeof(struct refusals));
}

void
refusals_free(struct refusals *t)
{
	free(t);
}

/* The minute over all sources: says what the cap held back, once. */
static void
refusals_roll(struct refusals *t, int64_t now_ms)
{
	if (t->gsince != 0 && now_ms - t->gsince < REFUSE_WINDOW_MS)
		return;
	if (t->gmore > 0)
		log_warnx("%llu more refused handshakes (%llu lines) not logged"
		    " in the last minute: over %d lines a minute from all"
		    " sources (the latest: %s)", (unsigned long long)t->gmore,
		    (unsigned long long)t->gsrcs, REFUSE_LINES_MAX, t->glast);
	t->gsince = now_ms;
	t->glines = t->gmore = t->gsrcs = 0;
}

/* One line about n refusals, unless the minute's lines are used up. */
static void
refusal_log(struct refusals *t, int64_t now_ms, uint64_t n, const char *fmt,
    ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	refusals_roll(t, now_ms);
	if (t->glines < REFUSE_LINES_MAX) {
		t->glines++;
		log_warnx("%s", line);
		return;
	}
	t->gmore += n;
	t->gsrcs++;
	snprintf(t->glast, sizeof(t->glast), "%s", line);
}

static void
refusal_summary(struct refusals *t, struct refusal *r, int64_t now_ms)
{
	refusal_log(t, now_ms, r->more, "%llu more refused handshake%s from %s"
	    " in the last minute (the latest: %s)", (unsigned long long)r->more,
	    r->more == 1 ? "" : "s", r->src, r->last);
}

void
refusals_note(struct refusals *t, const char *src, int kind, int64_t now_ms,
    const char *fmt, ...)
{
	struct refusal *r, *slot = NULL, *oldest = NULL;
	char line[512];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (t == NULL) {
		log_warnx("%s", line);
		return;
	}
	for (i = 0; i < REFUSE_SOURCES; i++) {
		r = &t->r[i];
		if (r->src[0] == '\0') {
			if (slot == NULL)
				slot = r;
			continue;
		}
		if (r->kind == kind && strcmp(r->src, src) == 0) {
			r->more++;
			snprintf(r->last, sizeof(r->last), "%s", line);
			return;
		}
		if (oldest == NULL || r->since < oldest->since)
			oldest = r;
	}
	if (slot == NULL) {
		/* more sources than slots: the oldest says its count now */
		slot = oldest;
		if (slot->more > 0)
			refusal_summary(t, slot, now_ms);
	}
	memset(slot, 0, sizeof(*slot));
	snprintf(slot->src, sizeof(slot->src), "%s", src);
	slot->kind = kind;
	slot->since = now_ms;
	snprintf(slot->last, sizeof(slot->last), "%s", line);
	refusal_log(t, now_ms, 1, "%s", line);
}

void
refusals_tick(struct refusals *t, int64_t now_ms)
{
	struct refusal *r;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < REFUSE_SOURCES; i++) {
		r = &t->r[i];
		if (r->src[0] == '\0' || now_ms - r->since < REFUSE_WINDOW_MS)
			continue;
		if (r->more == 0) {
			r->src[0] = '\0';	/* a quiet minute: next one at once */
			continue;
		}
		refusal_summary(t, r, now_ms);
		r->since = now_ms;
		r->more = 0;
	}
	refusals_roll(t, now_ms);
}

#define ZAP_FRAMES 7

static void
reply(void *sock, const char *reqid, size_t reqid_len, const char *code,
    const char *text, const char *user)
{
	zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
	zmq_send(sock, reqid, reqid_len, ZMQ_SNDMORE);
	zmq_send(sock, code, strlen(code), ZMQ_SNDMORE);
	zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(sock, user, strlen(user), ZMQ_SNDMORE);
	zmq_send(sock, "", 0, 0);
}

static void
handle(struct auth *a)
{
	zmq_msg_t f[ZAP_FRAMES + 1];
	int n = 0, more = 1;
	struct store_sensor sen;
	char key[41] = "", addr[64] = "", mech[16] = "";
	const char *why = NULL, *code = "400";
	size_t sz;

	while (more && n <= ZAP_FRAMES) {
		zmq_msg_init(&f[n]);
		if (zmq_msg_recv(&f[n], a->rep, 0) == -1) {
			zmq_msg_close(&f[n]);
			goto out;
		}
		more = zmq_msg_more(&f[n]);
		n++;
	}
	while (more) {		/* more frames than the protocol has: drain */
		zmq_msg_t x;

		zmq_msg_init(&x);
		zmq_msg_recv(&x, a->rep, 0);
		more = zmq_msg_more(&x);
		zmq_msg_close(&x);
		why = "malformed ZAP request";
	}
	if (n < 6) {
		/* cannot even echo a request id properly */
		reply(a->rep, n > 1 ? zmq_msg_data(&f[1]) : "",
		    n > 1 ? zmq_msg_size(&f[1]) : 0, "400", "malformed", "");
		goto out;
	}
	sz = zmq_msg_size(&f[3]);
	memcpy(addr, zmq_msg_data(&f[3]), sz < sizeof(addr) - 1 ? sz : sizeof(addr) - 1);
	sz = zmq_msg_size(&f[5]);
	memcpy(mech, zmq_msg_data(&f[5]), sz < sizeof(mech) - 1 ? sz : sizeof(mech) - 1);
	if (why == NULL && (zmq_msg_size(&f[0]) != 3 ||
	    memcmp(zmq_msg_data(&f[0]), "1.0", 3) != 0))
		why = "unsupported ZAP version";
	if (why == NULL && (zmq_msg_size(&f[2]) != strlen(AUTH_DOMAIN) ||
	    memcmp(zmq_msg_data(&f[2]), AUTH_DOMAIN, strlen(AUTH_DOMAIN)) != 0))
		why = "wrong ZAP domain";
	if (why == NULL && (strcmp(mech, "CURVE") != 0 || n != 7 ||
	    zmq_msg_size(&f[6]) != 32))
		why = "not a CURVE client";
	if (why == NULL)
		zmq_z85_encode(key, zmq_msg_data(&f[6]), 32);
	if (why == NULL) {
		switch (store_sensor_by_key(a->st, key, &sen)) {
		case 1:
			if (sen.revoked)
				why = "sensor key revoked";
			break;
		case 0:
			why = "key not enrolled";
			break;
		default:
			why = "database error";
			code = "500";	/* not the key's fault: retried */
			log_warnx("auth: %s", store_errmsg(a->st));
		}
	}
	if (why != NULL) {
		atomic_fetch_add(&a->denied, 1);
		refusals_note(a->refused, addr, 0, soc_mono_ms(),
		    "auth: denied %s (%s%s%s)", addr, why,
		    key[0] ? ", key " : "", key);
		reply(a->rep, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), code,
		    why, "");
	} else {
		atomic_fetch_add(&a->allowed, 1);
		log_info("auth: sensor %s (agency %s) connected from %s",
		    sen.name, sen.agency, addr);
		reply(a->rep, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), "200",
		    "OK", sen.name);
	}
out:
	for (int i = 0; i < n; i++)
		zmq_msg_close(&f[i]);
}

static void *
auth_main(void *arg)
{
	struct auth *a = arg;

	while (!atomic_load(&a->stop)) {
		zmq_pollitem_t it = { a->rep, 0, ZMQ_POLLIN, 0 };

		if (zmq_poll(&it, 1, 200) > 0)
			handle(a);
		refusals_tick(a->refused, soc_mono_ms());
	}
	return NULL;
}

struct auth *
auth_start(void *zctx, const char *db_path, char *err, size_t errlen)
{
	struct auth *a;
	int zero = 0;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->zctx = zctx;
	if ((a->refused = refusals_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((a->st = store_open(db_path, 0, err, errlen)) == NULL)
		goto fail;
	if ((a->rep = zmq_socket(zctx, ZMQ_REP)) == NULL ||
	    zmq_setsockopt(a->rep, ZMQ_LINGER, &zero, sizeof(zero)) == -1 ||
	    zmq_bind(a->rep, "inproc://zeromq.zap.01") == -1) {
		snprintf(err, errlen, "ZAP handler: %s", zmq_strerror(zmq_errno()));
		goto fail;
	}
	if (pthread_create(&a->thr, NULL, auth_main, a) != 0) {
		snprintf(err, errlen, "ZAP handler: cannot start thread");
		goto fail;
	}
	return a;
fail:
	if (a->rep)
		zmq_close(a->rep);
	if (a->st)
		store_close(a->st);
	refusals_free(a->refused);
	free(a);
	return NULL;
}

void
auth_stop(struct auth *a)
{
	atomic_store(&a->stop, 1);
	pthread_join(a->thr, NULL);
	zmq_close(a->rep);
	store_close(a->st);
	refusals_free(a->refused);
	free(a);
}

uint64_t
auth_denied(struct auth *a)
{
	return atomic_load(&a->denied);
}

uint64_t
auth_allowed(struct auth *a)
{
	return atomic_load(&a->allowed);
}

/* ---- the server socket's handshake failures ---- */

#define WATCH_FDS	256	/* accepted connections remembered */

struct auth_watch {
	void		*mon;
	struct refusals	*refused;
	char		 pub[41];
	uint32_t	 pending;	/* a failure waiting for its close */
	uint64_t	 failed;
	struct {
		int	 fd;
		char	 addr[64];
	}		 fds[WATCH_FDS];
};

struct auth_watch *
auth_watch(void *zctx, void *server, const char *our_pub, char *err,
    size_t errlen)
{
	struct auth_watch *w;
	int zero = 0;

	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->refused = refusals_new()) == NULL) {
		free(w);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(w->pub, sizeof(w->pub), "%s", our_pub);
	for (size_t i = 0; i < WATCH_FDS; i++)
		w->fds[i].fd = -1;
	if (zmq_socket_monitor(server, "inproc://auth-watch",
	    ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED |
	    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
	    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == -1 ||
	    (w->mon = zmq_socket(zctx, ZMQ_PAIR)) == NULL ||
	    zmq_setsockopt(w->mon, ZMQ_LINGER, &zero, sizeof(zero)) == -1 ||
	    zmq_connect(w->mon, "inproc://auth-watch") == -1) {
		snprintf(err, errlen, "socket monitor: %s",
		    zmq_strerror(zmq_errno()));
		auth_watch_stop(w);
		return NULL;
	}
	return w;
}

/* The peer of an accepted descriptor, taken at once (it may be gone). */
static void
watch_accepted(struct auth_watch *w, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char *addr = w->fds[(unsigned)fd % WATCH_FDS].addr;

	w->fds[(unsigned)fd % WATCH_FDS].fd = fd;
	/* best effort: the handshake may have failed and closed it already */
	snprintf(addr, 64, "a client");
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
		    addr, 64);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    addr, 64);
}

/*
 * libzmq reports a failed handshake (with the reason, not the peer) and
 * at once the close of its descriptor (with the descriptor): the failure
 * is told at the close, naming the address taken when it was accepted.
 */
static void
watch_closed(struct auth_watch *w, int fd)
{
	const char *src = "a client";	/* gone before it could be read */
	uint32_t code = w->pending;
	int64_t now;

	if (fd >= 0 && w->fds[(unsigned)fd % WATCH_FDS].fd == fd) {
		src = w->fds[(unsigned)fd % WATCH_FDS].addr;
		w->fds[(unsigned)fd % WATCH_FDS].fd = -1;
	}
	if (code == 0)
		return;
	w->pending = 0;
	w->failed++;
	now = soc_mono_ms();
	if (code == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
		refusals_note(w->refused, src, (int)code, now, "handshake from"
		    " %s failed: its CURVE hello does not decrypt with this"
		    " correlator's key, so the peer was given a wrong server key"
		    " (a sensor's server_key, a province's forward.server_key,"
		    " must be this correlator's public key %s)", src, w->pub);
	else if (code == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
		refusals_note(w->refused, src, (int)code, now, "handshake from"
		    " %s failed: not a CURVE client (no server key given?)",
		    src);
	else
		refusals_note(w->refused, src, (int)code, now, "handshake from"
		    " %s failed (ZMTP protocol error 0x%x)", src, code);
}

void
auth_watch_poll(struct auth_watch *w)
{
	zmq_msg_t ev, ep;
	uint16_t id;
	uint32_t value;

	if (w == NULL)
		return;
	for (;;) {
		zmq_msg_init(&ev);
		zmq_msg_init(&ep);
		if (zmq_msg_recv(&ev, w->mon, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&ev);
			zmq_msg_close(&ep);
			break;
		}
		if (zmq_msg_more(&ev))
			zmq_msg_recv(&ep, w->mon, 0);
		if (zmq_msg_size(&ev) >= 6) {
			memcpy(&id, zmq_msg_data(&ev), 2);
			memcpy(&value, (uint8_t *)zmq_msg_data(&ev) + 2, 4);
			if (id == ZMQ_EVENT_ACCEPTED)
				watch_accepted(w, (int)value);
			else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
				w->pending = value ? value :
				    ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED;
			else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
				/* broken off (a port scan, a client gone, the
				 * handshake_s timeout): not the key's fault */
				log_debug("a handshake broke off (errno %u)",
				    value);
			else if (id == ZMQ_EVENT_DISCONNECTED)
				watch_closed(w, (int)value);
		}
		zmq_msg_close(&ev);
		zmq_msg_close(&ep);
	}
	refusals_tick(w->refused, soc_mono_ms());
}

void
auth_watch_stop(struct auth_watch *w)
{
	if (w == NULL)
		return;
	if (w->mon != NULL)
		zmq_close(w->mon);
	refusals_free(w->refused);
	free(w);
}

uint64_t
auth_watch_failed(const struct auth_watch *w)
{
	return w != NULL ? w->failed : 0;
}
