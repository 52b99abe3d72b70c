/*
 * Indicator sets served to the provinces (intel-push.h): the serving
 * side.  Messages from the server socket are queued by the receive loop
 * (intel_push_message) and answered between groups (intel_push_run), on
 * the main thread's store connection, outside ingest's transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "soc/log.h"
#include "soc/util.h"
#include "soc/wire.h"
#include "intel.h"
#include "intel-push.h"
#include "intel-wire.h"
#include "store.h"
#include "store-intel.h"

#define PUSH_QUEUE	64		/* STATEs waiting for the group end */
#define PUSH_STATE_MAX	(256u << 10)	/* bytes; a STATE is small */
#define PUSH_PEERS	256		/* provinces offered to */
#define PUSH_POLL_MS	500		/* the intel version read */

struct pending {
	char		 user[128];
	uint8_t		 peer[256];
	size_t		 peerlen;
	uint8_t		*data;
	size_t		 len;
};

struct peer {
	char		 name[128];	/* "" free */
	uint8_t		 id[256];
	size_t		 idlen;
};

struct intel_push {
	struct pending	 q[PUSH_QUEUE];
	size_t		 nq;
	struct peer	 peers[PUSH_PEERS];
	int64_t		 version;	/* the intel version last offered */
	int64_t		 polled;
	int64_t		 refused_logged;
	struct soc_wbuf	 wb;
	uint64_t	 n_states, n_refused, n_full, n_delta, n_chunks;
	uint64_t	 n_bytes, n_offers, n_dropped;
};

struct intel_push *
intel_push_new(void)
{
	struct intel_push *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	soc_wbuf_init(&p->wb);
	p->version = -1;
	return p;
}

void
intel_push_free(struct intel_push *p)
{
	if (p == NULL)
		return;
	while (p->nq > 0)
		free(p->q[--p->nq].data);
	soc_wbuf_free(&p->wb);
	free(p);
}

static void
refuse(struct intel_push *p, const char *user, const char *why)
{
	int64_t now = soc_mono_ms();

	/* the first few by name, then at most one line per 10 s */
	if (++p->n_refused > 20 && now - p->refused_logged < 10000)
		return;
	p->refused_logged = now;
	log_warnx("indicator message from %s refused: %s (%llu refused so far)",
	    user ? user : "an unauthenticated peer", why,
	    (unsigned long long)p->n_refused);
}

int
intel_push_message(struct intel_push *p, const char *user, const void *peer,
    size_t peerlen, const void *data, size_t len)
{
	struct pending *q;
	int kind;

	if (len < 4 || memcmp(data, INTEL_WIRE_MAGIC, 4) != 0)
		return 0;
	if ((kind = intel_wire_kind(data, len)) == -1) {
		refuse(p, user, "malformed header");
		return 1;
	}
	if (kind != INTEL_WIRE_STATE) {
		/* an update sent to a server socket: nobody publishes here */
		refuse(p, user, "an indicator update can only come from the"
		    " national centre, on the connection this correlator"
		    " opened to it (--forward)");
		return 1;
	}
	if (user == NULL || len > PUSH_STATE_MAX || peerlen == 0 ||
	    peerlen > sizeof(q->peer)) {
		refuse(p, user, "no key, or too large");
		return 1;
	}
	if (p->nq >= PUSH_QUEUE) {
		p->n_dropped++;		/* the province asks again */
		return 1;
	}
	q = &p->q[p->nq];
	if ((q->data = malloc(len)) == NULL)
		return 1;
	memcpy(q->data, data, len);
	q->len = len;
	snprintf(q->user, sizeof(q->user), "%s", user);
	memcpy(q->peer, peer, peerlen);
	q->peerlen = peerlen;
	p->nq++;
	return 1;
}

static void
remember(struct intel_push *p, const struct pending *q)
{
	struct peer *free_slot = NULL;
	size_t i;

	for (i = 0; i < PUSH_PEERS; i++) {
		if (strcmp(p->peers[i].name, q->user) == 0) {
			free_slot = &p->peers[i];
			break;
		}
		if (free_slot == NULL && p->peers[i].name[0] == '\0')
			free_slot = &p->peers[i];
	}
	if (free_slot == NULL)
		free_slot = &p->peers[q->peerlen % PUSH_PEERS];
	snprintf(free_slot->name, sizeof(free_slot->name), "%s", q->user);
	memcpy(free_slot->id, q->peer, q->peerlen);
	free_slot->idlen = q->peerlen;
}

static void
send_to(void *router, const uint8_t *peer, size_t peerlen,
    const struct soc_wbuf *b)
{
	zmq_send(router, peer, peerlen, ZMQ_SNDMORE);
	zmq_send(router, b->data, b->len, 0);
}

/*
 * The sets published here with their versions: the ones imported here
 * (origin local; on the wire by their name and version) and, on a middle
 * tier, the national copies it holds (national/NAME, origin national):
 * passed on as NAME at the publisher's version (pub_version), so the
 * province below holds national/NAME too and its STATE speaks of the
 * top's versions.  A national copy wins over a local set of the same name.
 */
struct setlist {
	char		(*name)[INTEL_SOURCE_MAX];	/* on the wire */
	char		(*src)[INTEL_SOURCE_MAX];	/* here */
	int64_t		*version;			/* on the wire */
	int64_t		*local;				/* here */
	int		*nat;
	size_t		 n, cap;
	int		 warned;	/* one set said not offered */
};

static int
setlist_grow(struct setlist *l)
{
	size_t cap = l->cap ? l->cap * 2 : 16;
	void *a;

	if ((a = realloc(l->name, cap * sizeof(*l->name))) == NULL)
		return -1;
	l->name = a;
	if ((a = realloc(l->src, cap * sizeof(*l->src))) == NULL)
		return -1;
	l->src = a;
	if ((a = realloc(l->version, cap * sizeof(int64_t))) == NULL)
		return -1;
	l->version = a;
	if ((a = realloc(l->local, cap * sizeof(int64_t))) == NULL)
		return -1;
	l->local = a;
	if ((a = realloc(l->nat, cap * sizeof(int))) == NULL)
		return -1;
	l->nat = a;
	l->cap = cap;
	return 0;
}

static int
set_one(void *arg, const struct store_intel_set *s)
{
	struct setlist *l = arg;
	size_t i, n = strlen(INTEL_PUSH_PREFIX);
	const char *wire;
	int nat;

	if (strlen(s->source) >= INTEL_SOURCE_MAX)
		return 0;
	if (strcmp(s->origin, "local") == 0) {
		/*
		 * Only what a province can commit: its copy's name, with the
		 * prefix, must fit, and the set must fit in one update;
		 * anything else would be refused there and asked for again
		 * and again.
		 */
		if (strlen(s->source) + strlen(INTEL_PUSH_PREFIX) >=
		    INTEL_SOURCE_MAX || s->count > INTEL_PUSH_MAX_RECORDS) {
			if (!l->warned)
				log_warnx("indicator set %s is not offered to the"
				    " provinces: its name is over %zu bytes or it"
				    " holds over %u indicators", s->source,
				    INTEL_SOURCE_MAX - 1 - strlen(INTEL_PUSH_PREFIX),
				    INTEL_PUSH_MAX_RECORDS);
			l->warned = 1;
			return 0;
		}
		nat = 0;
		wire = s->source;
	} else if (strcmp(s->origin, "national") == 0 &&
	    strncmp(s->source, INTEL_PUSH_PREFIX, n) == 0 &&
	    s->source[n] != '\0' && s->pub_version > 0) {
		nat = 1;
		wire = s->source + n;
	} else
		return 0;
	for (i = 0; i < l->n; i++)
		if (strcmp(l->name[i], wire) == 0)
			break;
	if (i < l->n) {
		if (!nat || l->nat[i])
			return 0;	/* the national copy stays */
	} else {
		if (l->n >= INTEL_WIRE_SETS_MAX)
			return 0;
		if (l->n == l->cap && setlist_grow(l) == -1)
			return -1;
		l->n++;
	}
	snprintf(l->name[i], INTEL_SOURCE_MAX, "%s", wire);
	snprintf(l->src[i], INTEL_SOURCE_MAX, "%s", s->source);
	l->version[i] = nat ? s->pub_version : s->version;
	l->local[i] = s->version;
	l->nat[i] = nat;
	return 0;
}

static void
setlist_free(struct setlist *l)
{
	free(l->name);
	free(l->src);
	free(l->version);
	free(l->local);
	free(l->nat);
	memset(l, 0, sizeof(*l));
}

/* One update being sent: chunks of INTEL_WIRE_PER_CHUNK records. */
struct sending {
	struct intel_push	*p;
	void			*router;
	const struct pending	*to;
	struct intel_wire_chunk	 c;
	uint64_t		 records, bytes, chunks;
	int			 failed;
};

static void
chunk_send(struct sending *s, int last)
{
	struct soc_wbuf *b = &s->p->wb;

	if (last) {	/* patch the flag: the chunk is built already */
		size_t off = INTEL_WIRE_HDR + 1 + b->data[INTEL_WIRE_HDR] + 17;

		b->data[off + 4] = 1;
	}
	send_to(s->router, s->to->peer, s->to->peerlen, b);
	s->bytes += b->len;
	s->chunks++;
	s->c.index++;
	intel_wire_chunk_begin(b, &s->c);
}

static int
on_op(void *arg, int op, const struct intel_ind *ind)
{
	struct sending *s = arg;

	if (intel_wire_chunk_add(&s->p->wb, op, ind) == -1) {
		s->failed = 1;
		return 0;	/* one indicator that cannot travel: skipped */
	}
	s->records++;
	if (s->p->wb.count >= INTEL_WIRE_PER_CHUNK)
		chunk_send(s, 0);
	return 0;
}

/*
 * Set i of l to one province.  A national copy passed on by a middle tier
 * goes whole: its changes were applied in place here, without the
 * per-version record a delta is read from (NATIONAL.md).
 */
static void
serve(struct intel_push *p, struct store *st, void *router,
    const struct pending *q, const struct setlist *l, size_t i, int64_t have)
{
	struct sending s;
	const char *source = l->name[i];
	int64_t to, cur = l->version[i];
	int full;

	full = l->nat[i] || have <= 0 ||
	    store_intel_delta_covers(st, source, have, cur) != 1;
	memset(&s, 0, sizeof(s));
	s.p = p;
	s.router = router;
	s.to = q;
	snprintf(s.c.source, sizeof(s.c.source), "%s", source);
	s.c.from = full ? 0 : (uint64_t)have;
	s.c.to = (uint64_t)cur;	/* patched below if the set moved on */
	s.c.full = full;
	intel_wire_chunk_begin(&p->wb, &s.c);
	if (store_intel_update(st, l->src[i], have, full, on_op, &s, &to)
	    == -1) {
		log_warnx("indicator set %s for %s: %s", l->src[i], q->user,
		    store_errmsg(st));
		return;
	}
	if (to != l->local[i]) {
		/* an import switched in between: the next OFFER brings it */
		log_info("indicator set %s moved to version %lld while read;"
		    " %s is offered it again", source, (long long)to, q->user);
		return;
	}
	chunk_send(&s, 1);
	if (full)
		p->n_full++;
	else
		p->n_delta++;
	p->n_chunks += s.chunks;
	p->n_bytes += s.bytes;
	log_info("indicator set %s version %lld to %s: %s (%llu records in"
	    " %llu chunks, %llu bytes)%s", source, (long long)cur, q->user,
	    full ? "whole set" : "changes", (unsigned long long)s.records,
	    (unsigned long long)s.chunks, (unsigned long long)s.bytes,
	    s.failed ? "; some records could not be encoded" : "");
	(void)have;
}

/* An OFFER of every set of l, in p->wb. */
static void
offer_build(struct intel_push *p, const struct setlist *l)
{
	size_t i;

	intel_wire_sets_begin(&p->wb, INTEL_WIRE_OFFER);
	for (i = 0; i < l->n; i++)
		intel_wire_sets_add(&p->wb, l->name[i], (uint64_t)l->version[i]);
}

/* One province's STATE: its acks recorded, what it lacks sent. */
static void
answer(struct intel_push *p, struct store *st, void *router,
    const struct pending *q)
{
	struct intel_wire_reader r;
	struct store_sensor sen;
	struct setlist l = { 0 };
	const char *why;
	char name[INTEL_SOURCE_MAX];
	uint64_t v;
	int64_t *have = NULL, now = soc_now_ns();
	size_t i;
	int rc, gone = 0;

	if (store_sensor_by_name(st, q->user, &sen) != 1 || sen.revoked) {
		refuse(p, q->user, "unknown or revoked key");
		return;
	}
	if (strcmp(sen.role, "province") != 0) {
		refuse(p, q->user, "the key is not a province's (socctl sensor"
		    " enroll --role province)");
		return;
	}
	if (intel_wire_sets_open(&r, q->data, q->len, &why) == -1) {
		refuse(p, q->user, why);
		return;
	}
	p->n_states++;
	remember(p, q);
	if (store_intel_sets(st, set_one, &l) == -1) {
		log_warnx("indicator sets: %s", store_errmsg(st));
		goto out;
	}
	if (l.n > 0 && (have = calloc(l.n, sizeof(*have))) == NULL)
		goto out;
	while ((rc = intel_wire_sets_next(&r, name, &v, &why)) == 1) {
		for (i = 0; i < l.n; i++)
			if (strcmp(l.name[i], name) == 0)
				break;
		if (i == l.n || v > INT64_MAX) {
			gone |= i == l.n;
			continue;	/* a set gone here, or nonsense */
		}
		have[i] = (int64_t)v;
		if (store_intel_ack(st, q->user, l.src[i], (int64_t)v, now) == 1)
			log_info("indicator set %s version %lld acknowledged by"
			    " %s", name, (long long)v, q->user);
	}
	if (rc == -1) {
		refuse(p, q->user, why);
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		if (have[i] > l.version[i]) {
			/* the set was made again here, below what the
			 * province holds: it would ignore it (NATIONAL.md) */
			log_debug("indicator set %s: %s holds version %lld, above"
			    " ours (%lld); not sent", l.name[i], q->user,
			    (long long)have[i], (long long)l.version[i]);
			continue;
		}
		if (have[i] != l.version[i])
			serve(p, st, router, q, &l, i, have[i]);
	}
	if (gone) {
		/* it holds a set no longer published here: the OFFER
		 * without it makes the province remove its copy */
		offer_build(p, &l);
		send_to(router, q->peer, q->peerlen, &p->wb);
		p->n_offers++;
	}
out:
	free(have);
	setlist_free(&l);
}

static void
offer(struct intel_push *p, struct store *st, void *router)
{
	struct setlist l = { 0 };
	size_t i;

	if (store_intel_sets(st, set_one, &l) == -1) {
		setlist_free(&l);
		return;
	}
	offer_build(p, &l);
	setlist_free(&l);
	for (i = 0; i < PUSH_PEERS; i++)
		if (p->peers[i].name[0] != '\0') {
			send_to(router, p->peers[i].id, p->peers[i].idlen, &p->wb);
			p->n_offers++;
		}
}

void
intel_push_run(struct intel_push *p, struct store *st, void *router)
{
	int64_t now = soc_mono_ms(), v;
	size_t i;

	for (i = 0; i < p->nq; i++) {
		answer(p, st, router, &p->q[i]);
		free(p->q[i].data);
		p->q[i].data = NULL;
	}
	p->nq = 0;
	if (now - p->polled < PUSH_POLL_MS)
		return;
	p->polled = now;
	if (store_intel_version(st, &v) == -1 || v == p->version)
		return;
	if (p->version != -1)
		offer(p, st, router);
	p->version = v;
}

void
intel_push_log_counters(const struct intel_push *p)
{
	if (p->n_states == 0 && p->n_refused == 0)
		return;
	log_info("indicators pushed: %llu states answered, %llu whole sets and"
	    " %llu deltas sent in %llu chunks (%llu bytes), %llu offers, %llu"
	    " messages refused, %llu dropped", (unsigned long long)p->n_states,
	    (unsigned long long)p->n_full, (unsigned long long)p->n_delta,
	    (unsigned long long)p->n_chunks, (unsigned long long)p->n_bytes,
	    (unsigned long long)p->n_offers, (unsigned long long)p->n_refused,
	    (unsigned long long)p->n_dropped);
}
