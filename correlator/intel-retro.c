/*
 * Retro intel (intel-retro.h): a new indicator set run back over the
 * archive.  The thread reads the segments of the window (their indexes
 * skip what is older), matches every event against the new set as live
 * ingest does (intel_match_event, at the current time: an indicator
 * expired now does not fire), keeps only the hits of indicators the
 * previous set did not hold (intel_find on it), and sums them per
 * (indicator, agency): first and last event time, count, the first
 * event as evidence.  At the end each group becomes one incident write
 * (store_incident_flush, as ingest's aggregation writes them: a live
 * incident of the same indicator and agency still open takes the
 * sightings) through a database connection of its own, in one short
 * transaction per group, with the indicator noted beside it.  Bounded:
 * at most RETRO_HITS_MAX sightings and RETRO_GROUPS_MAX groups per run,
 * the rest counted and logged.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soc/fmt.h"
#include "soc/json.h"
#include "soc/log.h"
#include "soc/util.h"
#include "evarchive.h"
#include "ingest-intel.h"
#include "intel.h"
#include "intel-retro.h"
#include "rules.h"
#include "store.h"
#include "store-intel.h"

struct retro_group {
	struct intel_ind	 ind;		/* its strings in cur */
	char			 agency[128];
	char			 field[64];
	int64_t			 first_ts, last_ts;
	uint64_t		 count;
	char			*evidence;	/* the first event's JSON */
};

struct intel_retro {
	pthread_t		 thread;
	char			*db, *dir;
	int64_t			 window_ns;
	int			 forward_min;
	struct intel_set	*old;
	const struct intel_set	*cur;
	atomic_int		 stop;
	atomic_int		 done;
	/* the run */
	int64_t			 now;
	const char		*line;		/* the event being matched */
	size_t			 linelen;
	const struct soc_event	*ev;
	struct retro_group	*g;
	size_t			 ng;
	uint64_t		 hits, old_hits, over_hits, over_groups;
};

static void
on_hit(void *arg, const struct intel_ind *ind, const char *field)
{
	struct intel_retro *r = arg;
	struct intel_ind was;
	struct retro_group *g;
	const char *org;
	size_t orglen = 0, i;

	if (r->old != NULL && intel_find(r->old, ind->type, ind->value, &was)) {
		r->old_hits++;		/* the previous set held it: seen live */
		return;
	}
	if (r->hits >= RETRO_HITS_MAX) {
		r->over_hits++;
		return;
	}
	if ((org = soc_event_str(r->ev, SOC_F_ORGANIZATION_ID, &orglen)) == NULL ||
	    orglen == 0 || orglen >= sizeof(g->agency))
		return;
	r->hits++;
	for (i = 0; i < r->ng; i++) {
		g = &r->g[i];
		if (g->ind.type == ind->type &&
		    strcmp(g->ind.value, ind->value) == 0 &&
		    strlen(g->agency) == orglen && memcmp(g->agency, org, orglen) == 0)
			break;
	}
	if (i == r->ng) {
		if (r->ng == RETRO_GROUPS_MAX) {
			r->over_groups++;
			return;
		}
		g = &r->g[r->ng];
		memset(g, 0, sizeof(*g));
		g->ind = *ind;
		memcpy(g->agency, org, orglen);
		snprintf(g->field, sizeof(g->field), "%s", field ? field : "");
		g->first_ts = g->last_ts = r->ev->ts;
		if ((g->evidence = malloc(r->linelen + 1)) != NULL) {
			memcpy(g->evidence, r->line, r->linelen);
			g->evidence[r->linelen] = '\0';
		}
		r->ng++;
	}
	g = &r->g[i];
	g->count++;
	if (r->ev->ts < g->first_ts)
		g->first_ts = r->ev->ts;
	if (r->ev->ts > g->last_ts)
		g->last_ts = r->ev->ts;
}

static int
on_event(void *arg, const char *line, size_t len, int64_t ts,
    const struct soc_event *ev)
{
	struct intel_retro *r = arg;

	(void)ts;
	if (ev == NULL)
		return 0;
	r->line = line;
	r->linelen = len;
	r->ev = ev;
	intel_match_event(r->cur, ev, r->now, on_hit, r);
	return atomic_load(&r->stop);
}

static int
on_progress(void *arg, const struct archive_rstats *rs)
{
	(void)rs;
	return atomic_load(&((struct intel_retro *)arg)->stop);
}

/* The groups as incidents: how many written, -1 on a database error. */
static int
write_groups(struct intel_retro *r, uint64_t *created)
{
	struct store *st;
	char err[512], tags[256], tbuf[SOC_FMT_TIME_LEN + 1];
	int n = 0;

	if ((st = store_open(r->db, 0, err, sizeof(err))) == NULL) {
		log_warnx("retro intel: %s", err);
		return -1;
	}
	if (r->forward_min >= 0)	/* the outbox, as ingest's incidents */
		store_forward_enable(st, r->forward_min);
	for (size_t i = 0; i < r->ng && !atomic_load(&r->stop); i++) {
		const struct retro_group *g = &r->g[i];
		const struct rule *rl = ingest_intel_rule_of(g->ind.confidence);
		const char *ev[1] = { g->evidence };
		char key[INTEL_VALUE_MAX + 16];
		struct store_flush f;
		int64_t id;
		int how;

		snprintf(key, sizeof(key), "%s %s", intel_type_name(g->ind.type),
		    g->ind.value);
		snprintf(tags, sizeof(tags), "%s%ssoc.retro", rule_tags(rl),
		    rule_tags(rl)[0] ? "," : "");
		f = (struct store_flush){
			.hit = {
				.rule_id = rule_id(rl), .rule_title = rule_title(rl),
				.rule_level = rule_level(rl),
				.rule_author = rule_author(rl), .rule_tags = tags,
				.severity = rule_severity(rl), .agency = g->agency,
				.sensor = "retro", .group_key = key,
				.first_ts = g->first_ts, .last_ts = g->last_ts,
				.count = g->count, .system_code = "",
			},
			.category = INTEL_CATEGORY,
			.nalerts = 1,
			.ev_first = ev, .nfirst = g->evidence ? 1 : 0,
			.keep_first = 10, .keep_last = 10,
		};
		if (store_begin(st) == -1 ||
		    store_incident_flush(st, &f, &id, &how) == -1 ||
		    store_intel_note(st, id, &g->ind, g->field[0] ? g->field :
		    NULL) == -1 || store_commit(st) == -1) {
			log_warnx("retro intel: incident of %s, agency %s: %s",
			    key, g->agency, store_errmsg(st));
			store_rollback(st);
			store_close(st);
			return -1;
		}
		if (how == STORE_FLUSH_CREATED)
			(*created)++;
		tbuf[soc_fmt_time(g->first_ts, tbuf)] = '\0';
		log_info("retro intel: incident %lld: %s agency %s, %llu"
		    " sightings from %s", (long long)id, key, g->agency,
		    (unsigned long long)g->count, tbuf);
		n++;
	}
	store_close(st);
	return n;
}

static void *
retro_main(void *arg)
{
	struct intel_retro *r = arg;
	struct archive_rstats rs = { 0 };
	struct archive_query q;
	uint64_t created = 0;
	char err[512];
	int64_t t0 = soc_mono_ms();
	int n = 0;

	memset(&q, 0, sizeof(q));
	r->now = soc_now_ns();
	q.since = r->now - r->window_ns;
	q.oldest_first = true;
	q.parse = true;
	if ((r->g = calloc(RETRO_GROUPS_MAX, sizeof(*r->g))) == NULL)
		log_warnx("retro intel: out of memory");
	else if (archive_search(r->dir, &q, on_event, r, on_progress, r, &rs,
	    err, sizeof(err)) == -1)
		log_warnx("retro intel: %s", err);
	else if (atomic_load(&r->stop))
		log_info("retro intel: stopped (a newer set, or the end)"
		    " after %llu events", (unsigned long long)rs.events);
	else
		n = write_groups(r, &created);
	if (r->g != NULL && n >= 0)
		log_info("retro intel: %llu segments (%llu skipped), %llu events"
		    " in %lld ms; %llu sightings of new indicators (%llu beyond"
		    " the cap of %d, %llu in groups beyond %d), %llu of indicators"
		    " already held; %d incidents written (%llu new)",
		    (unsigned long long)rs.segments, (unsigned long long)rs.skipped,
		    (unsigned long long)rs.events, (long long)(soc_mono_ms() - t0),
		    (unsigned long long)r->hits, (unsigned long long)r->over_hits,
		    RETRO_HITS_MAX, (unsigned long long)r->over_groups,
		    RETRO_GROUPS_MAX, (unsigned long long)r->old_hits, n,
		    (unsigned long long)created);
	for (size_t i = 0; r->g != NULL && i < r->ng; i++)
		free(r->g[i].evidence);
	free(r->g);
	r->g = NULL;
	intel_set_free(r->old);
	r->old = NULL;
	atomic_store(&r->done, 1);
	return NULL;
}

struct intel_retro *
intel_retro_start(const char *db, const char *dir, int64_t window_ns,
    int forward_min, struct intel_set *old, const struct intel_set *cur)
{
	struct intel_retro *r;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->db = strdup(db)) == NULL || (r->dir = strdup(dir)) == NULL)
		goto fail;
	r->window_ns = window_ns;
	r->forward_min = forward_min;
	r->old = old;
	r->cur = cur;
	if (pthread_create(&r->thread, NULL, retro_main, r) != 0)
		goto fail;
	return r;
fail:
	if (r != NULL) {
		free(r->db);
		free(r->dir);
		free(r);
	}
	intel_set_free(old);
	return NULL;
}

int
intel_retro_done(struct intel_retro *r)
{
	return r == NULL || atomic_load(&r->done);
}

void
intel_retro_stop(struct intel_retro *r)
{
	if (r == NULL)
		return;
	atomic_store(&r->stop, 1);
	pthread_join(r->thread, NULL);
	free(r->db);
	free(r->dir);
	free(r);
}
