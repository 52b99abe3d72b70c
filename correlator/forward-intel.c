/*
 * Indicator sets received from the national centre (intel-push.h): the
 * receiving side, on the forwarder's thread and store connection.  Only
 * the forwarder's own CURVE connection delivers these messages, and
 * libzmq completes it only with the holder of --forward-server-key's
 * secret: the national centre.
 *
 * The chunks of one update are kept in memory until its last one; a full
 * set is then imported as any set is (store_intel_import, beside the one
 * in force, then switched), a delta applied in place in one transaction
 * (store_intel_apply_delta); the matcher picks the new version up as it
 * picks up an import (intel-watch.c).  The STATE sent after the commit is
 * the acknowledgement.  An update for a version already committed (a
 * replay, or a resend that crossed the commit) or changes that do not
 * follow the version held are ignored and counted; broken chunks drop
 * the update, which is asked for again.
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

#define FWD_INTEL_STATE_MS	30000	/* a STATE at least this often */
#define FWD_INTEL_STALL_MS	15000	/* an update with no chunk for this long */
#define FWD_INTEL_MAX_RECORDS	INTEL_PUSH_MAX_RECORDS	/* one update, in memory */
#define FWD_INTEL_MAX_BYTES	(256u << 20)	/* ... and its chunks' bytes */

struct fwd_intel {
	/* the update being received */
	int			 active;
	struct intel_wire_chunk	 c;		/* its first chunk's header */
	uint32_t		 next_index;
	struct store_intel_op	*ops;
	size_t			 nops, cap;
	uint64_t		 bytes, chunks;
	int64_t			 last_chunk;
	/* when to send a STATE */
	int			 want;
	int64_t			 last_state;
	struct soc_wbuf		 wb;
	size_t			 iter;		/* store_intel_import's cursor */
	uint64_t		 n_commits, n_full, n_delta, n_chunks, n_bytes;
	uint64_t		 n_stale, n_bad, n_refused_values, n_offers;
	uint64_t		 n_removed;
};

struct fwd_intel *
fwd_intel_new(void)
{
	struct fwd_intel *fi;

	if ((fi = calloc(1, sizeof(*fi))) == NULL)
		return NULL;
	soc_wbuf_init(&fi->wb);
	return fi;
}

static void
drop(struct fwd_intel *fi)
{
	size_t i;

	for (i = 0; i < fi->nops; i++) {
		free((char *)fi->ops[i].ind.value);
		free((char *)fi->ops[i].ind.tags);
	}
	fi->nops = 0;
	fi->active = 0;
	fi->bytes = fi->chunks = 0;
}

void
fwd_intel_free(struct fwd_intel *fi)
{
	if (fi == NULL)
		return;
	drop(fi);
	free(fi->ops);
	soc_wbuf_free(&fi->wb);
	free(fi);
}

void
fwd_intel_reset(struct fwd_intel *fi)
{
	drop(fi);
	fi->want = 0;		/* the first ack of the connection asks */
}

/* Our copy of a national set: its version (0 none).  -1 on failure. */
struct lookup {
	const char	*source;
	int64_t		 version;
};

static int
find_one(void *arg, const struct store_intel_set *s)
{
	struct lookup *l = arg;

	if (strcmp(s->source, l->source) == 0 &&
	    strcmp(s->origin, "national") == 0)
		l->version = s->pub_version;
	return 0;
}

static int64_t
held(struct store *st, const char *copy)
{
	struct lookup l = { copy, 0 };

	if (store_intel_sets(st, find_one, &l) == -1)
		return -1;
	return l.version;
}

static int
state_one(void *arg, const struct store_intel_set *s)
{
	struct fwd_intel *fi = arg;
	size_t n = strlen(INTEL_PUSH_PREFIX);

	if (strcmp(s->origin, "national") == 0 &&
	    strncmp(s->source, INTEL_PUSH_PREFIX, n) == 0 && s->pub_version > 0)
		intel_wire_sets_add(&fi->wb, s->source + n,
		    (uint64_t)s->pub_version);
	return 0;
}

static void
send_state(struct fwd_intel *fi, struct store *st, void *dealer, int64_t now)
{
	intel_wire_sets_begin(&fi->wb, INTEL_WIRE_STATE);
	if (store_intel_sets(st, state_one, fi) == -1) {
		log_warnx("forward: indicator sets: %s", store_errmsg(st));
		return;
	}
	if (zmq_send(dealer, fi->wb.data, fi->wb.len, ZMQ_DONTWAIT) == -1)
		return;
	fi->last_state = now;
	fi->want = 0;
}

void
fwd_intel_tick(struct fwd_intel *fi, struct store *st, void *dealer,
    int64_t now_ms, int linked)
{
	if (!linked)
		return;
	if (fi->active && now_ms - fi->last_chunk >= FWD_INTEL_STALL_MS) {
		log_warnx("forward: indicator set %s: no chunk for %d s; asked"
		    " again", fi->c.source, FWD_INTEL_STALL_MS / 1000);
		drop(fi);
		fi->want = 1;
	}
	if (fi->active)
		return;		/* the STATE after its commit */
	if (fi->want || fi->last_state == 0 ||
	    now_ms - fi->last_state >= FWD_INTEL_STATE_MS)
		send_state(fi, st, dealer, now_ms);
}

/* The national copies held here that an OFFER does not list. */
struct unlisted {
	char		(*offered)[INTEL_SOURCE_MAX + 16];
	size_t		 noffered;
	char		(*gone)[INTEL_SOURCE_MAX];
	size_t		 ngone;
};

static int
unlisted_one(void *arg, const struct store_intel_set *s)
{
	struct unlisted *u = arg;
	size_t i;

	if (strcmp(s->origin, "national") != 0 ||
	    strncmp(s->source, INTEL_PUSH_PREFIX,
	    strlen(INTEL_PUSH_PREFIX)) != 0 ||
	    strlen(s->source) >= INTEL_SOURCE_MAX ||
	    u->ngone >= INTEL_WIRE_SETS_MAX)
		return 0;
	for (i = 0; i < u->noffered; i++)
		if (strcmp(u->offered[i], s->source) == 0)
			return 0;
	snprintf(u->gone[u->ngone++], INTEL_SOURCE_MAX, "%s", s->source);
	return 0;
}

/*
 * An OFFER lists every set published above: a copy here that it does not
 * list was removed there, and is removed here (and, on a middle tier,
 * from the provinces below by its next OFFER).  Only a well-formed OFFER
 * removes anything.
 */
static void
remove_unlisted(struct fwd_intel *fi, struct store *st, struct unlisted *u)
{
	size_t i;
	int64_t n;

	if ((u->gone = calloc(INTEL_WIRE_SETS_MAX, sizeof(*u->gone))) == NULL)
		return;
	if (store_intel_sets(st, unlisted_one, u) == -1) {
		log_warnx("forward: indicator sets: %s", store_errmsg(st));
		return;
	}
	for (i = 0; i < u->ngone; i++) {
		if (fi->active && strcmp(u->gone[i] + strlen(INTEL_PUSH_PREFIX),
		    fi->c.source) == 0)
			drop(fi);
		if ((n = store_intel_remove_source(st, u->gone[i])) == -1) {
			log_warnx("forward: indicator set %s not removed: %s",
			    u->gone[i], store_errmsg(st));
			continue;
		}
		fi->n_removed++;
		fi->want = 1;	/* the STATE without it */
		log_info("forward: indicator set %s removed: no longer"
		    " published by the national centre (%lld indicators)",
		    u->gone[i], (long long)n);
	}
}

static void
on_offer(struct fwd_intel *fi, struct store *st, const void *data, size_t len)
{
	struct intel_wire_reader r;
	struct unlisted u = { 0 };
	const char *why;
	char name[INTEL_SOURCE_MAX], copy[INTEL_SOURCE_MAX + 16];
	uint64_t v;
	int rc;

	fi->n_offers++;
	if (intel_wire_sets_open(&r, data, len, &why) == -1) {
		fi->n_bad++;
		log_warnx("forward: malformed indicator offer: %s", why);
		return;
	}
	if ((u.offered = calloc(INTEL_WIRE_SETS_MAX, sizeof(*u.offered)))
	    == NULL)
		return;
	while ((rc = intel_wire_sets_next(&r, name, &v, &why)) == 1) {
		snprintf(copy, sizeof(copy), "%s%s", INTEL_PUSH_PREFIX, name);
		if ((int64_t)v != held(st, copy))
			fi->want = 1;
		if (u.noffered < INTEL_WIRE_SETS_MAX)
			memcpy(u.offered[u.noffered++], copy, sizeof(copy));
	}
	if (rc == -1) {
		fi->n_bad++;
		log_warnx("forward: malformed indicator offer: %s", why);
	} else
		remove_unlisted(fi, st, &u);
	free(u.offered);
	free(u.gone);
}

/* store_intel_import()'s reader over the update's records. */
static int
next_op(void *arg, struct intel_ind *out)
{
	struct fwd_intel *fi = arg;

	if (fi->iter >= fi->nops)
		return 0;
	*out = fi->ops[fi->iter++].ind;
	return 1;
}

static void
commit(struct fwd_intel *fi, struct store *st)
{
	char copy[INTEL_SOURCE_MAX + 16];
	int64_t version, t0 = soc_mono_ms();
	size_t count;
	int rc;

	snprintf(copy, sizeof(copy), "%s%s", INTEL_PUSH_PREFIX, fi->c.source);
	if (strlen(copy) >= INTEL_SOURCE_MAX) {
		fi->n_bad++;
		log_warnx("forward: indicator set %s: name too long", copy);
		return;
	}
	if (fi->c.full) {
		fi->iter = 0;
		rc = store_intel_import(st, copy, "national", next_op, fi,
		    soc_now_ns(), &count, &version) == 0 &&
		    store_intel_pub_done(st, copy, (int64_t)fi->c.to, "full",
		    (int64_t)fi->nops, (int64_t)fi->bytes) == 0 ? 1 : -1;
	} else
		rc = store_intel_apply_delta(st, copy, (int64_t)fi->c.from,
		    (int64_t)fi->c.to, fi->ops, fi->nops, (int64_t)fi->bytes,
		    soc_now_ns());
	if (rc == -1) {
		log_warnx("forward: indicator set %s version %llu not committed:"
		    " %s (asked again)", copy, (unsigned long long)fi->c.to,
		    store_errmsg(st));
		return;
	}
	if (rc == 0) {
		fi->n_stale++;
		return;
	}
	fi->n_commits++;
	if (fi->c.full)
		fi->n_full++;
	else
		fi->n_delta++;
	if (fi->c.full)
		snprintf(copy, sizeof(copy), "whole set");
	else
		snprintf(copy, sizeof(copy), "changes from version %llu",
		    (unsigned long long)fi->c.from);
	log_info("forward: indicator set %s%s version %llu committed (%s:"
	    " %llu records in %llu chunks, %llu bytes, %lld ms)",
	    INTEL_PUSH_PREFIX, fi->c.source, (unsigned long long)fi->c.to, copy,
	    (unsigned long long)fi->nops, (unsigned long long)fi->chunks,
	    (unsigned long long)fi->bytes, (long long)(soc_mono_ms() - t0));
}

static int
keep(struct fwd_intel *fi, int op, const struct intel_ind *ind)
{
	struct store_intel_op *o;

	if (fi->nops >= FWD_INTEL_MAX_RECORDS)
		return -1;
	if (fi->nops == fi->cap) {
		size_t cap = fi->cap ? fi->cap * 2 : 4096;
		void *p = realloc(fi->ops, cap * sizeof(*fi->ops));

		if (p == NULL)
			return -1;
		fi->ops = p;
		fi->cap = cap;
	}
	o = &fi->ops[fi->nops];
	o->op = op;
	o->ind = *ind;
	o->ind.source = NULL;
	if ((o->ind.value = strdup(ind->value)) == NULL ||
	    (o->ind.tags = strdup(ind->tags ? ind->tags : "")) == NULL) {
		free((char *)o->ind.value);
		return -1;
	}
	fi->nops++;
	return 0;
}

static void
on_chunk(struct fwd_intel *fi, struct store *st, const void *data, size_t len,
    int64_t now)
{
	static char value[INTEL_VALUE_MAX], tags[INTEL_TAGS_MAX];
	char norm[INTEL_VALUE_MAX], copy[INTEL_SOURCE_MAX + 16];
	struct intel_wire_reader r;
	struct intel_wire_chunk c;
	struct intel_ind ind;
	const char *why;
	int64_t have;
	int rc, op, type;

	if (intel_wire_chunk_open(&r, data, len, &c, &why) == -1) {
		fi->n_bad++;
		log_warnx("forward: malformed indicator chunk: %s", why);
		drop(fi);
		fi->want = 1;
		return;
	}
	if (c.index == 0) {
		snprintf(copy, sizeof(copy), "%s%s", INTEL_PUSH_PREFIX, c.source);
		drop(fi);
		if ((have = held(st, copy)) == -1)
			return;
		if ((int64_t)c.to <= have || (!c.full && (int64_t)c.from != have)) {
			/* a version we have, or changes from one we do not */
			fi->n_stale++;
			log_info("forward: indicator set %s version %llu%s"
			    " ignored: version %lld is held here", copy,
			    (unsigned long long)c.to, c.full ? "" : " (changes)",
			    (long long)have);
			if ((int64_t)c.to > have)
				fi->want = 1;
			return;
		}
		fi->active = 1;
		fi->c = c;
		fi->next_index = 0;
	} else if (!fi->active)
		return;		/* the rest of an update ignored */
	if (strcmp(c.source, fi->c.source) != 0 || c.to != fi->c.to ||
	    c.from != fi->c.from || c.full != fi->c.full ||
	    c.index != fi->next_index) {
		fi->n_bad++;
		log_warnx("forward: indicator set %s: chunk %u out of order;"
		    " asked again", c.source, c.index);
		drop(fi);
		fi->want = 1;
		return;
	}
	fi->next_index++;
	if (fi->bytes + len > FWD_INTEL_MAX_BYTES) {
		log_warnx("forward: indicator set %s: one update over %u MiB,"
		    " dropped", c.source, FWD_INTEL_MAX_BYTES >> 20);
		drop(fi);
		return;
	}
	fi->chunks++;
	fi->n_chunks++;
	fi->bytes += len;
	fi->n_bytes += len;
	fi->last_chunk = now;
	while ((rc = intel_wire_chunk_next(&r, &op, &ind, value, tags, &why)) == 1) {
		type = ind.type;
		if (intel_normalize(&type, ind.value, strlen(ind.value), 1, norm,
		    sizeof(norm), &why) == -1) {
			fi->n_refused_values++;
			continue;
		}
		ind.type = type;
		ind.value = norm;
		if (keep(fi, op, &ind) == -1) {
			log_warnx("forward: indicator set %s: out of memory or"
			    " over %u records", c.source, FWD_INTEL_MAX_RECORDS);
			drop(fi);
			return;
		}
	}
	if (rc == -1) {
		fi->n_bad++;
		log_warnx("forward: malformed indicator chunk: %s", why);
		drop(fi);
		fi->want = 1;
		return;
	}
	if (!c.last)
		return;
	commit(fi, st);
	drop(fi);
	fi->want = 1;		/* the STATE: our acknowledgement */
}

int
fwd_intel_message(struct fwd_intel *fi, struct store *st, void *dealer,
    const void *data, size_t len)
{
	int kind;

	if (len < 4 || memcmp(data, INTEL_WIRE_MAGIC, 4) != 0)
		return 0;
	kind = intel_wire_kind(data, len);
	if (kind == INTEL_WIRE_OFFER)
		on_offer(fi, st, data, len);
	else if (kind == INTEL_WIRE_CHUNK)
		on_chunk(fi, st, data, len, soc_mono_ms());
	else {
		fi->n_bad++;
		log_warnx("forward: unexpected indicator message (%zu bytes)",
		    len);
	}
	if (fi->want && !fi->active)
		send_state(fi, st, dealer, soc_mono_ms());
	return 1;
}

void
fwd_intel_log_counters(const struct fwd_intel *fi)
{
	log_info("forward: indicator updates committed %llu (%llu whole sets,"
	    " %llu deltas) from %llu chunks (%llu bytes); %llu ignored (a"
	    " version held or not followed), %llu malformed, %llu values"
	    " refused, %llu offers, %llu sets removed",
	    (unsigned long long)fi->n_commits,
	    (unsigned long long)fi->n_full, (unsigned long long)fi->n_delta,
	    (unsigned long long)fi->n_chunks, (unsigned long long)fi->n_bytes,
	    (unsigned long long)fi->n_stale, (unsigned long long)fi->n_bad,
	    (unsigned long long)fi->n_refused_values,
	    (unsigned long long)fi->n_offers,
	    (unsigned long long)fi->n_removed);
}
