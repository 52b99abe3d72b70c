/*
 * Correlation windows: event_count, value_count, temporal,
 * temporal_ordered and absence (an extension, see absence_add) over event
 * time (ev->ts, never the wall clock, so a replay gives the same alerts as
 * the live run).
 *
 * State is a hash table keyed by (correlation, agency, group-by values).
 * Each key holds a small sorted array of entries (timestamp, value, the
 * caller's reference of the event, and whether an alert already counted
 * it; a crossing alert hands back the references, corr-query.c):
 *  - event_count: one entry per event; value_count: one per distinct
 *    value of the condition field(s) (a keyed hash of them), with the
 *    time it was last seen; temporal: one per referenced rule;
 *  - temporal_ordered: CORR_ORDERED_SLOTS entries per step, the newest
 *    events of that step (see ordered_add);
 *  - value_sum, value_avg: no entries, the window's event count and sum;
 *    value_percentile, value_median: a histogram, one entry per distinct
 *    value (sorted, the value in v and how many times it came in ts), at
 *    most RS_CORR_METRIC_VALUES of them: past that the two closest
 *    neighbours merge into the more frequent one (corr-metric.c).
 *
 * Two ways of judging (corr_def.at_close, set at load):
 *  - lower bound only (gte, gt): a SLIDING window [newest - timespan,
 *    newest], both ends inclusive; when it holds the condition an alert is
 *    raised at once.  Its count is the number of entries no alert counted
 *    yet: the crossing alert carries the events in the window (e.g. 8) and
 *    every further matching event while the condition still holds raises
 *    one with count 1, so an incident store that adds counts ends with the
 *    number of matching events.  Only the crossing alert feeds the
 *    correlations that reference this one.  At most `lo` entries are kept
 *    (the newest), enough to decide;
 *  - an upper bound or neq (lt, lte, eq, neq, ranges), and every metric
 *    type whatever its bounds: a window that opens
 *    on the group's first event and closes timespan later; it is judged
 *    when it closes, either on the next event of that group past its end
 *    or by ruleset_tick() (the caller's clock, or end of input), and the
 *    alert carries the window's event count.
 * An event older than a window's reach (out of order by more than the
 * timespan) is ignored.  One event matched by several rules a correlation
 * references counts once for event_count and value_count (and once per
 * referenced rule for the temporal types, which count rules).
 *
 * Bounds, per agency (organization.id, stamped by the correlator from the
 * sensor's key): at most RS_CORR_AGENCY_MAXKEYS keys per agency and
 * RS_CORR_MAXKEYS overall.  An agency at its quota evicts its own least
 * recently used key; when the whole table is full the key is taken from
 * the agency holding the most keys, so an agency's windows are never
 * evicted by one holding fewer.  Evictions are counted per agency
 * (ruleset_corr_agency) and raise an alert of the built-in rule
 * RS_RULE_CORR_EVICTION: at the first eviction of an agency, then at most
 * once a minute with the evictions since (see docs/RULES.md).
 *
 * The keys hold values an attacker chooses, so the table hashes them with
 * SipHash keyed per state (soc/hash.h).  corr_state_check() (corr-check.c)
 * verifies the table, the per-agency LRU lists and every window; the
 * mutating functions assert it (sampled once the table is large).
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soc/fmt.h"
#include "soc/hash.h"
#include "soc/util.h"
#include "corr-int.h"


/* ---------------------------------------------------------------- */
/* state */

struct corr_state *
corr_state_new(const struct ruleset *rs)
{
	struct corr_state *cs;
	struct rule *e;

	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		return NULL;
	cs->tabsz = 1024;
	cs->maxkeys = RS_CORR_MAXKEYS;
	cs->agmax = RS_CORR_AGENCY_MAXKEYS;
	soc_hash_seed(&cs->hkey);
	for (size_t i = 0; i < rs->nrules; i++)
		cs->ncorr += rs->rules[i]->corr != NULL;
	snprintf(cs->overflow.name, sizeof(cs->overflow.name), "(other)");
	e = &cs->evrule;
	e->file = e->author = e->tags = (char *)"";
	e->id = e->name = (char *)RS_RULE_CORR_EVICTION;
	e->title = (char *)"Correlation windows evicted";
	e->level = (char *)"high";
	e->status = (char *)"stable";
	e->severity = 3;
	e->generate = true;
	if ((cs->tab = calloc(cs->tabsz, sizeof(*cs->tab))) == NULL ||
	    (cs->fed = calloc(cs->ncorr + 1, sizeof(*cs->fed))) == NULL) {
		corr_state_free(cs);
		return NULL;
	}
	return cs;
}

static void
lru_unlink(struct corr_key *k)
{
	struct corr_agency *ag = k->ag;

	if (k->lprev)
		k->lprev->lnext = k->lnext;
	else
		ag->head = k->lnext;
	if (k->lnext)
		k->lnext->lprev = k->lprev;
	else
		ag->tail = k->lprev;
	ag->nkeys--;
}

static void
lru_append(struct corr_agency *ag, struct corr_key *k)
{
	k->ag = ag;
	k->lnext = NULL;
	k->lprev = ag->tail;
	if (ag->tail)
		ag->tail->lnext = k;
	else
		ag->head = k;
	ag->tail = k;
	ag->nkeys++;
}

/* Takes k out of the table and its LRU list, without freeing it. */
static void
key_detach(struct corr_state *cs, struct corr_key *k)
{
	struct corr_key **pp = &cs->tab[k->hash & (cs->tabsz - 1)];

	while (*pp != k)
		pp = &(*pp)->hnext;
	*pp = k->hnext;
	lru_unlink(k);
	cs->nkeys--;
}

static void
key_unlink(struct corr_state *cs, struct corr_key *k)
{
	key_detach(cs, k);
	free(k->e);
	free(k);
}

void
corr_state_free(struct corr_state *cs)
{
	if (cs == NULL)
		return;
	for (size_t i = 0; i < cs->nags; i++) {
		while (cs->ags[i]->head != NULL)
			key_unlink(cs, cs->ags[i]->head);
		free(cs->ags[i]);
	}
	while (cs->overflow.head != NULL)
		key_unlink(cs, cs->overflow.head);
	free(cs->ags);
	free(cs->tab);
	free(cs->fed);
	free(cs->synth);
	free(cs);
}

static struct corr_agency *
agency_get(struct corr_state *cs, const char *name, size_t len)
{
	uint64_t h = soc_hash(&cs->hkey, name, len) % CORR_AGBUCKETS;
	struct corr_agency *ag, **na;

	for (ag = cs->agtab[h]; ag != NULL; ag = ag->hnext)
		if (strlen(ag->name) == len && memcmp(ag->name, name, len) == 0)
			return ag;
	if (cs->nags >= RS_CORR_MAXAGENCIES ||
	    (ag = calloc(1, sizeof(*ag))) == NULL)
		return &cs->overflow;
	if ((na = reallocarray(cs->ags, cs->nags + 1, sizeof(*na))) == NULL) {
		free(ag);
		return &cs->overflow;
	}
	cs->ags = na;
	memcpy(ag->name, name, len);
	ag->hnext = cs->agtab[h];
	cs->agtab[h] = ag;
	cs->ags[cs->nags++] = ag;
	return ag;
}

static void
tab_grow(struct corr_state *cs)
{
	size_t nsz = cs->tabsz * 2;
	struct corr_key **nt = calloc(nsz, sizeof(*nt));

	if (nt == NULL)
		return;		/* longer chains, still correct */
	for (size_t i = 0; i < cs->tabsz; i++) {
		struct corr_key *k = cs->tab[i], *next;

		for (; k != NULL; k = next) {
			next = k->hnext;
			k->hnext = nt[k->hash & (nsz - 1)];
			nt[k->hash & (nsz - 1)] = k;
		}
	}
	free(cs->tab);
	cs->tab = nt;
	cs->tabsz = nsz;
}

/* Room for one more key of ag; the agency that lost one, or NULL. */
static struct corr_agency *
make_room(struct corr_state *cs, struct corr_agency *ag)
{
	struct corr_agency *victim = NULL;

	if (ag->nkeys >= cs->agmax && ag->head != NULL)
		victim = ag;
	else if (cs->nkeys >= cs->maxkeys) {
		victim = ag->head != NULL ? ag : NULL;
		for (size_t i = 0; i < cs->nags; i++)
			if (cs->ags[i]->head != NULL && (victim == NULL ||
			    cs->ags[i]->nkeys > victim->nkeys))
				victim = cs->ags[i];
		if (cs->overflow.head != NULL && (victim == NULL ||
		    cs->overflow.nkeys > victim->nkeys))
			victim = &cs->overflow;
	}
	if (victim == NULL)
		return NULL;
	key_unlink(cs, victim->head);
	cs->evicted++;
	victim->evicted++;
	victim->evict_pending++;
	return victim;
}

static int
key_attach(struct corr_state *cs, struct corr_agency *ag, struct corr_key *k)
{
	if (cs->nkeys >= cs->tabsz)
		tab_grow(cs);
	k->hnext = cs->tab[k->hash & (cs->tabsz - 1)];
	cs->tab[k->hash & (cs->tabsz - 1)] = k;
	lru_append(ag, k);
	cs->nkeys++;
	return 0;
}

static struct corr_key *
key_get(struct corr_state *cs, const struct rule *c, const char *key,
    size_t len, size_t gk_off, struct corr_agency **victim)
{
	uint64_t h = corr_key_hash(cs, c, key, len);
	const struct corr_def *d = c->corr;
	struct corr_agency *ag;
	struct corr_key *k;

	*victim = NULL;
	for (k = cs->tab[h & (cs->tabsz - 1)]; k != NULL; k = k->hnext)
		if (k->hash == h && k->corr == c && strcmp(k->key, key) == 0) {
			ag = k->ag;
			lru_unlink(k);
			lru_append(ag, k);
			return k;
		}
	ag = agency_get(cs, key, gk_off - 1);
	*victim = make_room(cs, ag);
	if ((k = calloc(1, sizeof(*k) + len + 1)) == NULL)
		return NULL;
	if (d->type == CT_TEMPORAL_ORDERED) {
		if ((k->e = calloc(d->nrefs * CORR_ORDERED_SLOTS,
		    sizeof(*k->e))) == NULL) {
			free(k);
			return NULL;
		}
		k->n = k->cap = (uint32_t)(d->nrefs * CORR_ORDERED_SLOTS);
		k->newest = INT64_MIN;
	}
	memcpy(k->key, key, len + 1);
	k->klen = (uint16_t)len;
	k->gk_off = (uint16_t)gk_off;
	k->corr = c;
	k->hash = h;
	k->rep_start = k->rep_last = INT64_MIN;
	key_attach(cs, ag, k);
	return k;
}

/*
 * "source.ip=1.2.3.4,user.name=root" for this base rule's fields; an
 * alias shows as its own name, so the rules it joins share one key.
 * False if the event lacks one of the fields: it joins no group (Sigma
 * does not say; pySigma's backends emit "by" clauses, and the SIEMs drop
 * an event whose group-by field is null rather than pool all such events
 * under "user.name=" -- 70,000 unrelated failures made one incident).
 * A field present and empty is a value like any other.
 */
static bool
group_key(const struct corr_def *d, uint32_t base, const struct soc_event *ev,
    char *out, size_t outsz, size_t *outlen)
{
	size_t n = 0;
	char val[512];
	const char *name;
	int len;

	out[0] = '\0';
	for (size_t g = 0; g < d->ngroup; g++) {
		int f = d->gb_fields[base * d->ngroup + g];

		if ((len = soc_event_text(ev, f, val, sizeof(val))) < 0)
			return false;
		if (n >= outsz)
			continue;
		name = d->gb_alias[g] ? d->group_by[g] : soc_field_name(f);
		if (g > 0)
			n = soc_fmt_cat(out, outsz, n, ",", 1);
		n = soc_fmt_cat(out, outsz, n, name, strlen(name));
		n = soc_fmt_cat(out, outsz, n, "=", 1);
		n = soc_fmt_cat(out, outsz, n, val, (size_t)len);
	}
	*outlen = n < outsz ? n : outsz - 1;
	return true;
}

/*
 * Windows are per agency: the same attacker seen by two agencies is two
 * incidents, and a rule without group-by counts one agency, not the
 * province.  The agency leads the internal key; alerts show the group only.
 */
static size_t
agency_prefix(const struct soc_event *ev, char *out, size_t outsz)
{
	const char *org;
	size_t n = 0;

	if ((org = soc_event_str(ev, SOC_F_ORGANIZATION_ID, &n)) == NULL)
		n = 0;
	if (n > 255)
		n = 255;
	if (n + 1 >= outsz)
		n = outsz - 2;
	if (n > 0)
		memcpy(out, org, n);
	out[n] = '\x1f';
	return n + 1;
}

/* value_count: the condition fields' values, hashed; false if all absent. */
static bool
value_of(const struct corr_state *cs, const struct corr_def *d, uint32_t bi,
    const struct soc_event *ev, uint64_t *v)
{
	char val[512], buf[CORR_KEYLEN];
	size_t n = 0;
	bool any = false;

	for (size_t i = 0; i < d->nvfield; i++) {
		int f = d->vf_fields[bi * d->nvfield + i];
		int len = soc_event_text(ev, f, val, sizeof(val));

		if (len < 0)
			len = 0;
		else
			any = true;
		if (n + (size_t)len + 1 > sizeof(buf))
			len = (int)(sizeof(buf) - n - 1);
		memcpy(buf + n, val, (size_t)len);
		n += (size_t)len;
		buf[n++] = '\x1f';
	}
	*v = soc_hash(&cs->hkey, buf, n);
	return any;
}

/* ---------------------------------------------------------------- */
/* windows */

static int
ent_reserve(struct corr_key *k, uint32_t want)
{
	struct cw_ent *ne;
	uint32_t ncap;

	if (k->n < k->cap)
		return 0;
	ncap = k->cap ? k->cap * 2 : 8;
	if (ncap > want)
		ncap = want;
	if (ncap <= k->n || (ne = reallocarray(k->e, ncap, sizeof(*ne))) == NULL)
		return -1;
	k->e = ne;
	k->cap = ncap;
	return 0;
}

static void
ent_remove(struct corr_key *k, uint32_t i)
{
	memmove(k->e + i, k->e + i + 1, (k->n - i - 1) * sizeof(*k->e));
	k->n--;
}

/* Inserts (t, v) of the caller's ref in time order, unreported. */
static void
ent_insert(struct corr_key *k, int64_t t, uint64_t v, uint64_t ref)
{
	uint32_t i;

	for (i = k->n; i > 0 && k->e[i - 1].ts > t; i--)
		k->e[i] = k->e[i - 1];
	k->e[i] = (struct cw_ent){ .ts = t, .v = v, .ref = ref, .rep = false };
	k->n++;
}

/* The entry of value v (value_count, temporal), or -1. */
static int64_t
ent_find(const struct corr_key *k, uint64_t v)
{
	for (uint32_t i = 0; i < k->n; i++)
		if (k->e[i].v == v)
			return i;
	return -1;
}

/* The alert an adder decided on (count 0: none). */
struct verdict {
	uint64_t	 count;
	int64_t		 first, last;
	bool		 crossing;
	size_t		 nrefs;		/* in corr_state.refs */
};

/* Sliding window, lower bound only (see the top of the file). */
static struct verdict
slide_add(struct corr_key *k, const struct corr_def *d, int64_t t, uint64_t v,
    uint64_t ref)
{
	struct verdict r = { 0 };
	int64_t i, newest;
	uint32_t lo = 0;

	if (k->n > 0 && t < k->e[k->n - 1].ts - d->timespan)
		return r;
	if (d->type != CT_EVENT_COUNT && (i = ent_find(k, v)) >= 0) {
		if (k->e[i].ts > t)
			t = k->e[i].ts;
		ent_remove(k, (uint32_t)i);
	}
	if (ent_reserve(k, corr_ent_cap(d)) == -1)
		return r;
	ent_insert(k, t, v, ref);
	newest = k->e[k->n - 1].ts;
	while (lo < k->n && k->e[lo].ts < newest - d->timespan)
		lo++;
	if (lo > 0) {
		memmove(k->e, k->e + lo, (k->n - lo) * sizeof(*k->e));
		k->n -= lo;
	}
	if (k->n >= d->lo) {
		for (uint32_t j = 0; j < k->n; j++) {
			r.count += !k->e[j].rep;
			k->e[j].rep = true;
		}
		r.crossing = r.count == k->n;
		r.first = k->e[0].ts;
		r.last = newest;
	}
	while (k->n > d->lo)
		ent_remove(k, 0);
	return r;
}

static bool
holds(const struct corr_def *d, uint64_t val)
{
	return val >= d->lo && (!d->has_hi || val <= d->hi) &&
	    (!d->has_ne || val != d->ne);
}

/* Judges and empties a window that closed. */
static struct verdict
close_window(struct corr_state *cs, struct corr_key *k, const struct corr_def *d)
{
	struct verdict r = { 0 };
	uint64_t val = d->type == CT_EVENT_COUNT ? k->cnt : k->n;

	if (CT_METRIC(d->type)) {
		if (k->cnt > 0 && corr_metric_holds(k, d)) {
			r.count = k->cnt;
			r.first = k->wstart;
			r.last = k->wlast;
			r.crossing = true;
		}
		k->msum = 0;
	} else if (d->type == CT_ABSENCE && k->cnt > 0) {
		r.count = 1;
		r.first = k->wstart;
		r.last = k->wstart + d->timespan;
		r.crossing = true;
	} else if (k->cnt > 0 && holds(d, val)) {
		r.count = k->cnt;
		r.first = k->wstart;
		r.last = k->wlast;
		r.crossing = true;
		r.nrefs = corr_refs_of(cs, k);
	}
	k->cnt = 0;
	k->n = 0;
	return r;
}

/* A window judged at its close: opened by the group's first event. */
static struct verdict
close_add(struct corr_state *cs, struct corr_key *k, const struct corr_def *d,
    int64_t t, uint64_t v, uint64_t ref, struct verdict *closed)
{
	struct verdict r = { 0 };

	if (k->cnt > 0 && t > k->wstart + d->timespan)
		*closed = close_window(cs, k, d);
	if (k->cnt == 0) {
		k->wstart = k->wlast = t;
	} else if (t < k->wstart) {
		if (k->wlast - t > d->timespan)
			return r;	/* too old for this window */
		k->wstart = t;
	}
	if (t > k->wlast)
		k->wlast = t;
	k->cnt++;
	if (CT_METRIC(d->type)) {
		k->msum += (double)(int64_t)v;
		corr_metric_add(k, d, (int64_t)v);
	} else if (d->type != CT_EVENT_COUNT && ent_find(k, v) < 0 &&
	    ent_reserve(k, corr_ent_cap(d)) == 0)
		ent_insert(k, t, v, ref);
	return r;
}

/*
 * absence: with one rule, its events must keep coming: each one restarts
 * the window and the alert is raised when timespan passes without one;
 * with two, an event of the first opens the window (the first one not
 * answered yet) and one of the second, at or after it, closes it silently.
 */
static void
absence_add(struct corr_state *cs, struct corr_key *k, const struct corr_def *d,
    uint32_t bi, int64_t t, struct verdict *closed)
{
	if (k->cnt > 0 && t > k->wstart + d->timespan)
		*closed = close_window(cs, k, d);
	if (bi == 0) {
		if (k->cnt == 0 || (d->nrefs == 1 && t > k->wstart)) {
			k->wstart = k->wlast = t;
			k->cnt = 1;
		}
	} else if (k->cnt > 0 && t >= k->wstart)
		k->cnt = 0;
}

/*
 * temporal_ordered on event time, whatever the arrival order: the rules'
 * events must come at times t0 <= t1 <= ... within the timespan.  Each
 * step keeps its CORR_ORDERED_SLOTS newest events; an event older than
 * the key's newest by more than the timespan is ignored (as for the other
 * types), and one older than that by twice the timespan can no longer
 * join a chain with an event still accepted, so its slot is free.
 *
 * A chain completed now holds the new event (any other was complete
 * before), so only chains through it are looked for: backwards the latest
 * event of each earlier step at or before the one after it (the latest
 * start), forwards the earliest of each later step at or after the one
 * before it (the earliest end); the chain holds if end - start is within
 * the timespan.  A chain starting after the end of the last one reported
 * alerts with count = the number of rules and hands back its events'
 * references in step order; one overlapping it (a further completion)
 * alerts with count 1.
 */
static struct cw_ent *
ordered_slot(struct corr_key *k, uint32_t step, int64_t t, int64_t floor)
{
	struct cw_ent *e = k->e + step * CORR_ORDERED_SLOTS, *best = NULL;

	for (uint32_t j = 0; j < CORR_ORDERED_SLOTS; j++) {
		if (!e[j].rep || e[j].ts < floor)
			return &e[j];
		if (best == NULL || e[j].ts < best->ts)
			best = &e[j];
	}
	return best->ts < t ? best : NULL;
}

/* The latest entry of step at or before t (before: true), or the earliest
 * at or after it; NULL if none. */
static const struct cw_ent *
ordered_near(const struct corr_key *k, uint32_t step, int64_t t, bool before,
    int64_t floor)
{
	const struct cw_ent *e = k->e + step * CORR_ORDERED_SLOTS, *best = NULL;

	for (uint32_t j = 0; j < CORR_ORDERED_SLOTS; j++) {
		if (!e[j].rep || e[j].ts < floor ||
		    (before ? e[j].ts > t : e[j].ts < t))
			continue;
		if (best == NULL || (before ? e[j].ts > best->ts :
		    e[j].ts < best->ts))
			best = &e[j];
	}
	return best;
}

static struct verdict
ordered_add(struct corr_state *cs, struct corr_key *k,
    const struct corr_def *d, uint32_t i, int64_t t, uint64_t ref)
{
	const struct cw_ent *chain[RS_ALERT_MAXREFS], *x;
	struct verdict r = { 0 };
	struct cw_ent *slot;
	int64_t start = t, end = t, floor;
	uint32_t n = (uint32_t)d->nrefs;

	if (k->newest != INT64_MIN && t < k->newest - d->timespan)
		return r;		/* older than the window's reach */
	if (t > k->newest)
		k->newest = t;
	floor = k->newest - 2 * d->timespan;
	if ((slot = ordered_slot(k, i, t, floor)) == NULL)
		return r;		/* older than the step's kept events */
	*slot = (struct cw_ent){ .ts = t, .v = i, .ref = ref, .rep = true };
	for (uint32_t j = i; j-- > 0;) {
		if ((x = ordered_near(k, j, start, true, floor)) == NULL)
			return r;
		start = x->ts;
		if (j < RS_ALERT_MAXREFS)
			chain[j] = x;
	}
	if (i < RS_ALERT_MAXREFS)
		chain[i] = slot;
	for (uint32_t j = i + 1; j < n; j++) {
		if ((x = ordered_near(k, j, end, false, floor)) == NULL)
			return r;
		end = x->ts;
		if (j < RS_ALERT_MAXREFS)
			chain[j] = x;
	}
	if (end - start > d->timespan)
		return r;
	r.crossing = k->rep_start == INT64_MIN || start > k->rep_last;
	r.count = r.crossing ? n : 1;
	r.first = start;
	r.last = end;
	if (r.crossing) {
		k->rep_start = start;
		k->rep_last = end;
		for (uint32_t j = 0; j < n && j < RS_ALERT_MAXREFS; j++)
			cs->refs[r.nrefs++] = chain[j]->ref;
	} else if (end > k->rep_last)
		k->rep_last = end;
	return r;
}

/* ---------------------------------------------------------------- */
/* feeding */

static int feed(struct ruleset *rs, const struct rule *c, uint32_t bi,
    const struct soc_event *ev, int depth, rs_alert_fn fn, void *arg);

/* Raises (or passes on) one correlation alert. */
static int
emit(struct ruleset *rs, const struct rule *c, const struct corr_key *k,
    const struct verdict *v, const struct soc_event *ev, int depth,
    rs_alert_fn fn, void *arg)
{
	int n = 0;
	struct rs_alert a = { .rule = c, .event = ev,
	    .group_key = k->key + k->gk_off, .first_ts = v->first,
	    .last_ts = v->last, .count = v->count,
	    .refs = rs->cs->refs, .nrefs = v->nrefs };

	if (c->generate) {
		if (fn != NULL)
			fn(arg, &a);
		n++;
	}
	if (v->crossing && depth < RS_MAX_CORR_CHAIN)
		for (size_t i = 0; i < c->nfeeds; i++)
			n += feed(rs, c->feeds[i].corr, c->feeds[i].base, ev,
			    depth + 1, fn, arg);
	return n;
}

/* An eviction alert, at most once a minute per agency (wall clock). */
static int
evict_alert(struct corr_state *cs, struct corr_agency *ag, int64_t now,
    const struct soc_event *ev, rs_alert_fn fn, void *arg)
{
	char key[300];
	struct rs_alert a = { .rule = &cs->evrule, .event = ev,
	    .group_key = key, .first_ts = ev->ts, .last_ts = ev->ts };

	if (ag->evict_alerted != 0 && now - ag->evict_alerted < CORR_EVICT_EVERY)
		return 0;
	snprintf(key, sizeof(key), "organization.id=%s", ag->name);
	a.count = ag->evict_pending;
	ag->evict_pending = 0;
	ag->evict_alerted = now;
	if (fn != NULL)
		fn(arg, &a);
	return 1;
}

/* The base-th rule of correlation c matched ev (a rule or a correlation). */
static int
feed(struct ruleset *rs, const struct rule *c, uint32_t bi,
    const struct soc_event *ev, int depth, rs_alert_fn fn, void *arg)
{
	struct corr_state *cs = rs->cs;
	const struct corr_def *d = c->corr;
	struct verdict v = { 0 }, closed = { 0 };
	struct corr_agency *victim;
	struct corr_key *k;
	char key[CORR_KEYLEN];
	uint64_t val = bi;
	int64_t now = soc_now_ns();
	size_t off, len;
	int n = 0;

	off = agency_prefix(ev, key, sizeof(key));
	if (!group_key(d, bi, ev, key + off, sizeof(key) - off, &len))
		return 0;	/* no group-by field, no group */
	len += off;
	if (d->type == CT_EVENT_COUNT || d->type == CT_VALUE_COUNT ||
	    CT_METRIC(d->type)) {
		if (cs->fed[d->index] == cs->serial)
			return 0;	/* this event already counted */
		cs->fed[d->index] = cs->serial;
	}
	if (d->type == CT_VALUE_COUNT && !value_of(cs, d, bi, ev, &val))
		return 0;
	if (CT_METRIC(d->type)) {	/* an event without the value: not counted */
		if (!soc_event_has(ev, d->vf_fields[bi]))
			return 0;
		val = (uint64_t)soc_event_int(ev, d->vf_fields[bi], 0);
	}
	k = key_get(cs, c, key, len, off, &victim);
	if (victim != NULL)
		n += evict_alert(cs, victim, now, ev, fn, arg);
	if (k == NULL)
		return n;
	k->touched = now;
	if (d->type == CT_TEMPORAL_ORDERED)
		v = ordered_add(cs, k, d, bi, ev->ts, cs->ref);
	else if (d->type == CT_ABSENCE)
		absence_add(cs, k, d, bi, ev->ts, &closed);
	else if (d->at_close)
		v = close_add(cs, k, d, ev->ts, val, cs->ref, &closed);
	else
		v = slide_add(k, d, ev->ts, val, cs->ref);
	if (v.crossing && !d->at_close && d->type != CT_TEMPORAL_ORDERED)
		v.nrefs = corr_refs_of(cs, k);
	cs->ref_kept |= corr_refs_kept(d);
	if (closed.count > 0)
		n += emit(rs, c, k, &closed, ev, depth, fn, arg);
	if (v.count > 0)
		n += emit(rs, c, k, &v, ev, depth, fn, arg);
	assert(corr_state_ok(cs));
	return n;
}

int
corr_feed(struct ruleset *rs, const struct rule *base,
    const struct soc_event *ev, rs_alert_fn fn, void *arg)
{
	int n = 0;

	for (size_t i = 0; i < base->nfeeds; i++)
		n += feed(rs, base->feeds[i].corr, base->feeds[i].base, ev, 0,
		    fn, arg);
	return n;
}

void
corr_next_event(struct corr_state *cs)
{
	if (++cs->serial == 0) {
		memset(cs->fed, 0, cs->ncorr * sizeof(*cs->fed));
		cs->serial = 1;
	}
}

/* The event behind an alert judged without one: agency, time, group. */
static const struct soc_event *
synth_event(struct corr_state *cs, const struct corr_key *k)
{
	char org[256];
	size_t n = (size_t)k->gk_off - 1;

	if (cs->synth == NULL && (cs->synth = malloc(sizeof(*cs->synth))) == NULL)
		return NULL;
	soc_event_reset(cs->synth);
	cs->synth->ts = k->wlast;
	memcpy(org, k->key, n);
	org[n] = '\0';
	if (n > 0)
		soc_event_stamp(cs->synth, SOC_F_ORGANIZATION_ID, org);
	soc_event_set_cstr(cs->synth, SOC_F_EVENT_DATASET, "soc.correlation");
	soc_event_set_cstr(cs->synth, SOC_F_MESSAGE, k->key + k->gk_off);
	return cs->synth;
}

int
ruleset_tick(struct ruleset *rs, int64_t now_ns, rs_alert_fn fn, void *arg)
{
	struct corr_state *cs = rs->cs;
	int n = 0;

	for (size_t i = 0; i <= cs->nags; i++) {
		struct corr_agency *ag = i < cs->nags ? cs->ags[i] : &cs->overflow;

		for (struct corr_key *k = ag->head; k != NULL; k = k->lnext) {
			const struct corr_def *d = k->corr->corr;
			const struct soc_event *ev;
			struct verdict v;

			if (!d->at_close || k->cnt == 0 ||
			    k->wstart + d->timespan >= now_ns)
				continue;
			v = close_window(cs, k, d);
			/* no chained feeding here: it could evict keys of this walk */
			if (v.count > 0 && (ev = synth_event(cs, k)) != NULL)
				n += emit(rs, k->corr, k, &v, ev, RS_MAX_CORR_CHAIN,
				    fn, arg);
		}
	}
	assert(corr_state_ok(cs));
	return n;
}

/*
 * Memory only: a key untouched (wall clock) for longer than its window
 * plus a minute can never count again.  Event time decides what is in a
 * window; wall time decides what is kept, so one sensor with a fast
 * clock, or a replay of old logs, cannot expire the others.  Windows
 * judged at their close should be closed by ruleset_tick() first.
 */
#define CORR_EXPIRE_SLACK	(60 * 1000000000LL)

static bool
key_empty(const struct corr_key *k)
{
	const struct corr_def *d = k->corr->corr;

	if (d->type == CT_TEMPORAL_ORDERED) {
		for (uint32_t i = 0; i < k->n; i++)
			if (k->e[i].rep)
				return false;
		return true;
	}
	return d->at_close ? k->cnt == 0 : k->n == 0;
}

void
ruleset_expire(struct ruleset *rs, int64_t now_ns)
{
	struct corr_state *cs = rs->cs;

	for (size_t i = 0; i <= cs->nags; i++) {
		struct corr_agency *ag = i < cs->nags ? cs->ags[i] : &cs->overflow;
		struct corr_key *k, *next;

		for (k = ag->head; k != NULL; k = next) {
			next = k->lnext;
			if (key_empty(k) || k->touched < now_ns -
			    k->corr->corr->timespan - CORR_EXPIRE_SLACK)
				key_unlink(cs, k);
		}
	}
	assert(corr_state_ok(cs));
}

static size_t
adopt_agency(struct ruleset *nrs, struct corr_state *ocs,
    struct corr_agency *oag)
{
	struct corr_state *ncs = nrs->cs;
	struct corr_key *k, *next;
	size_t kept = 0;

	for (k = oag->head; k != NULL; k = next) {
		const struct rule *nc = NULL;
		struct corr_agency *nag;

		next = k->lnext;
		for (size_t i = 0; i < nrs->nrules && nc == NULL; i++)
			if (nrs->rules[i]->corr != NULL &&
			    corr_same(nrs->rules[i], k->corr))
				nc = nrs->rules[i];
		if (nc == NULL)
			continue;
		key_detach(ocs, k);
		nag = agency_get(ncs, k->key, (size_t)k->gk_off - 1);
		if (ncs->nkeys >= ncs->maxkeys || nag->nkeys >= ncs->agmax) {
			free(k->e);
			free(k);
			continue;
		}
		k->corr = nc;
		k->hash = corr_key_hash(ncs, nc, k->key, k->klen);
		key_attach(ncs, nag, k);
		kept++;
	}
	return kept;
}

size_t
ruleset_adopt(struct ruleset *nrs, struct ruleset *old)
{
	struct corr_state *ocs = old->cs;
	size_t kept = 0;

	for (size_t i = 0; i < ocs->nags; i++)
		kept += adopt_agency(nrs, ocs, ocs->ags[i]);
	kept += adopt_agency(nrs, ocs, &ocs->overflow);
	assert(corr_state_ok(nrs->cs));
	assert(corr_state_ok(ocs));
	return kept;
}
