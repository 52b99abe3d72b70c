/*
 * Sigma correlation rules of type event_count: "at least N matches of
 * these rules, with equal group-by values, within timespan".
 *
 * Windows run on EVENT time (ev->ts), never on the wall clock, so a replay
 * gives the same alerts as the live run.  State is a hash table keyed by
 * (correlation rule, group-by values) holding the sorted timestamps of
 * the matches still inside the window; at most threshold of them are kept
 * per key, and the number of keys is bounded (RS_CORR_MAXKEYS): when full
 * the least recently used key is evicted and counted.
 *
 * Decisions (see also the rules documentation):
 *  - the window is [newest - timespan, newest], both ends inclusive; a
 *    match older than that (out of order) is ignored;
 *  - when the condition becomes true one alert is raised (count, first and
 *    last timestamps, group key "field=value,...") and that key's window
 *    is emptied: a burst of 3N matches gives 3 alerts, not 2N+1;
 *  - gte and gt are supported; lt, lte and eq need evaluation when a
 *    window closes and are refused at load ("not supported yet"), as are
 *    value_count, temporal and aliases;
 *  - base rules referenced by a correlation raise no alerts of their own
 *    unless one of those correlations says generate: true;
 *  - a group-by field absent from the event groups under the empty value.
 *
 * The keys hold values an attacker chooses (user names, addresses), so
 * the table hashes them with SipHash keyed per state (soc/hash.h).
 * corr_state_check() verifies the table, the LRU list and every window;
 * the mutating functions assert it (sampled once the table is large, so
 * the cost per event stays small).
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soc/hash.h"
#include "soc/util.h"
#include "rule-int.h"

#define CORR_KEYLEN	1024
#define CORR_CHECK_ALL	64	/* keys up to which every mutation is checked */
#define CORR_CHECK_EVERY 4096	/* past that, one mutation in this many */

struct corr_key {
	struct corr_key	*hnext;		/* hash chain */
	struct corr_key	*lprev, *lnext;	/* LRU: head is the oldest */
	const struct rule *corr;
	uint64_t	 hash;
	uint32_t	 n, cap;
	int64_t		*ts;		/* sorted, n entries */
	int64_t		 touched;	/* wall clock of the last event (ns) */
	uint16_t	 klen;		/* strlen(key), < CORR_KEYLEN */
	uint16_t	 gk_off;	/* where the group key starts in key */
	char		 key[];		/* "agency\x1ffield=value,..." */
};

struct corr_state {
	struct corr_key	**tab;
	size_t		  tabsz;	/* power of two */
	struct corr_key	 *head, *tail;
	size_t		  nkeys, maxkeys;
	uint64_t	  evicted;
	struct soc_hash_key hkey;	/* per state: keys are attacker-chosen */
	uint64_t	  nmut;		/* mutations, to sample the checks */
};

static bool	corr_state_ok(struct corr_state *cs);

/* ---------------------------------------------------------------- */
/* load time */

void
corr_def_free(struct corr_def *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->nrefs; i++)
		free(d->refs[i]);
	for (size_t i = 0; i < d->ngroup; i++)
		free(d->group_by[i]);
	free(d->refs);
	free(d->ref_lines);
	free(d->group_by);
	free(d->bases);
	free(d->gb_fields);
	free(d);
}

static struct rule *
find_rule(struct rule **all, size_t n, const char *ref)
{
	for (size_t i = 0; i < n; i++)
		if (!all[i]->refused && *all[i]->name && strcmp(all[i]->name, ref) == 0)
			return all[i];
	for (size_t i = 0; i < n; i++)
		if (!all[i]->refused && strcmp(all[i]->id, ref) == 0)
			return all[i];
	return NULL;
}

/* Resolves references and group-by fields; refuses the rule on failure. */
static int
resolve_one(struct rule *c, struct rule **all, size_t n, struct rs_load *ld)
{
	struct corr_def *d = c->corr;
	size_t nb = 0;

	if ((d->bases = calloc(d->nrefs, sizeof(*d->bases))) == NULL ||
	    (d->gb_fields = calloc(d->nrefs * d->ngroup + 1, sizeof(int))) == NULL)
		return -1;
	for (size_t i = 0; i < d->nrefs; i++) {
		struct rule *b = find_rule(all, n, d->refs[i]);
		bool dup = false;

		if (b == NULL || b->corr != NULL) {
			rs_report(ld, c->file, d->ref_lines[i], b == NULL ?
			    "correlation references unknown or refused rule '%s'" :
			    "'%s' is a correlation; chaining is not supported yet",
			    d->refs[i]);
			return -1;
		}
		for (size_t j = 0; j < nb; j++)
			dup |= d->bases[j] == b;
		if (dup) {
			free(d->refs[i]);	/* not kept: nrefs shrinks below */
			d->refs[i] = NULL;
			continue;
		}
		for (size_t g = 0; g < d->ngroup; g++) {
			int f = rule_map_field(b, d->group_by[g]);

			if (f == SOC_F_NONE) {
				rs_report(ld, c->file, c->line, "group-by field '%s' "
				    "is unknown for rule '%s'", d->group_by[g], d->refs[i]);
				return -1;
			}
			d->gb_fields[nb * d->ngroup + g] = f;
		}
		if (nb != i) {		/* keep the names of bases[] in refs[] */
			d->refs[nb] = d->refs[i];
			d->ref_lines[nb] = d->ref_lines[i];
			d->refs[i] = NULL;
		}
		d->bases[nb++] = b;
	}
	d->nrefs = nb;
	return 0;
}

static int
add_feed(struct rule *b, struct rule *c, uint32_t bi)
{
	struct rule_feed *nf = reallocarray(b->feeds, b->nfeeds + 1, sizeof(*nf));

	if (nf == NULL)
		return -1;
	b->feeds = nf;
	b->feeds[b->nfeeds].corr = c;
	b->feeds[b->nfeeds++].base = bi;
	return 0;
}

void
corr_resolve(struct rule **all, size_t n, struct rs_load *ld)
{
	uint32_t idx = 0;

	for (size_t i = 0; i < n; i++) {
		struct rule *c = all[i];

		if (c->corr == NULL || c->refused)
			continue;
		if (resolve_one(c, all, n, ld) == -1) {
			c->refused = true;
			continue;
		}
		c->corr->index = idx++;
		for (size_t b = 0; b < c->corr->nrefs; b++) {
			if (add_feed(c->corr->bases[b], c, (uint32_t)b) == 0)
				continue;
			rs_report(ld, c->file, c->line, "out of memory");
			c->refused = true;
			while (b-- > 0)		/* take back this rule's feeds */
				c->corr->bases[b]->nfeeds--;
			break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct rule *r = all[i];

		r->generate = r->corr == NULL && r->nfeeds == 0;
		for (size_t f = 0; f < r->nfeeds; f++)
			if (!r->feeds[f].corr->refused && r->feeds[f].corr->corr->generate)
				r->generate = true;
	}
}

struct corr_state *
corr_state_new(const struct ruleset *rs)
{
	struct corr_state *cs;

	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		return NULL;
	cs->tabsz = 1024;
	cs->maxkeys = RS_CORR_MAXKEYS;
	soc_hash_seed(&cs->hkey);
	if ((cs->tab = calloc(cs->tabsz, sizeof(*cs->tab))) == NULL) {
		free(cs);
		return NULL;
	}
	(void)rs;
	return cs;
}

/* ---------------------------------------------------------------- */
/* state */

static void
key_unlink(struct corr_state *cs, struct corr_key *k)
{
	struct corr_key **pp = &cs->tab[k->hash & (cs->tabsz - 1)];

	while (*pp != k)
		pp = &(*pp)->hnext;
	*pp = k->hnext;
	if (k->lprev)
		k->lprev->lnext = k->lnext;
	else
		cs->head = k->lnext;
	if (k->lnext)
		k->lnext->lprev = k->lprev;
	else
		cs->tail = k->lprev;
	cs->nkeys--;
	free(k->ts);
	free(k);
}

void
corr_state_free(struct corr_state *cs)
{
	if (cs == NULL)
		return;
	while (cs->head != NULL)
		key_unlink(cs, cs->head);
	free(cs->tab);
	free(cs);
}

static void
lru_append(struct corr_state *cs, struct corr_key *k)
{
	k->lnext = NULL;
	k->lprev = cs->tail;
	if (cs->tail)
		cs->tail->lnext = k;
	else
		cs->head = k;
	cs->tail = k;
}

static void
lru_touch(struct corr_state *cs, struct corr_key *k)
{
	if (cs->tail == k)
		return;
	if (k->lprev)
		k->lprev->lnext = k->lnext;
	else
		cs->head = k->lnext;
	k->lnext->lprev = k->lprev;
	lru_append(cs, k);
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

/* The correlation's index (operator-chosen) only spreads equal keys. */
static uint64_t
key_hash(const struct corr_state *cs, const struct rule *c, const char *key,
    size_t len)
{
	return soc_hash(&cs->hkey, key, len) ^
	    (uint64_t)c->corr->index * 0x9e3779b97f4a7c15ULL;
}

static struct corr_key *
key_get(struct corr_state *cs, const struct rule *c, const char *key,
    size_t len, size_t gk_off)
{
	uint64_t h = key_hash(cs, c, key, len);
	struct corr_key *k;

	for (k = cs->tab[h & (cs->tabsz - 1)]; k != NULL; k = k->hnext)
		if (k->hash == h && k->corr == c && strcmp(k->key, key) == 0) {
			lru_touch(cs, k);
			return k;
		}
	if (cs->nkeys >= cs->maxkeys) {
		key_unlink(cs, cs->head);
		cs->evicted++;
	}
	if (cs->nkeys >= cs->tabsz)
		tab_grow(cs);
	if ((k = calloc(1, sizeof(*k) + len + 1)) == NULL)
		return NULL;
	memcpy(k->key, key, len + 1);
	k->klen = (uint16_t)len;
	k->gk_off = (uint16_t)gk_off;
	k->corr = c;
	k->hash = h;
	k->hnext = cs->tab[h & (cs->tabsz - 1)];
	cs->tab[h & (cs->tabsz - 1)] = k;
	lru_append(cs, k);
	cs->nkeys++;
	return k;
}

/* "source.ip=1.2.3.4,user.name=root" for this base rule's fields. */
static size_t
group_key(const struct corr_def *d, uint32_t base, const struct soc_event *ev,
    char *out, size_t outsz)
{
	size_t n = 0;
	char val[512];

	out[0] = '\0';
	for (size_t g = 0; g < d->ngroup && n < outsz; g++) {
		int f = d->gb_fields[base * d->ngroup + g];

		if (soc_event_text(ev, f, val, sizeof(val)) < 0)
			val[0] = '\0';
		n += (size_t)snprintf(out + n, outsz - n, "%s%s=%s", g ? "," : "",
		    soc_field_name(f), val);
	}
	return n < outsz ? n : outsz - 1;
}

/* Inserts t in order and trims to the window; false if t is too old. */
static bool
window_add(struct corr_key *k, const struct corr_def *d, int64_t t)
{
	uint32_t need = (uint32_t)d->threshold + (d->op == CORR_GT);
	uint32_t i, lo = 0;

	if (k->n > 0 && t < k->ts[k->n - 1] - d->timespan)
		return false;
	if (k->n == k->cap) {
		uint32_t ncap = k->cap ? k->cap * 2 : 8;
		int64_t *nt;

		if (ncap > need)
			ncap = need;
		if ((nt = reallocarray(k->ts, ncap, sizeof(*nt))) == NULL)
			return false;
		k->ts = nt;
		k->cap = ncap;
	}
	for (i = k->n; i > 0 && k->ts[i - 1] > t; i--)
		k->ts[i] = k->ts[i - 1];
	k->ts[i] = t;
	k->n++;
	while (lo < k->n && k->ts[lo] < k->ts[k->n - 1] - d->timespan)
		lo++;
	if (lo > 0) {
		memmove(k->ts, k->ts + lo, (k->n - lo) * sizeof(*k->ts));
		k->n -= lo;
	}
	return true;
}

/*
 * Windows are per agency: the same attacker seen by two agencies is two
 * incidents, and a rule without group-by counts one agency, not the
 * province.  The agency (organization.id, stamped by the correlator from
 * the sensor's key) leads the internal key; alerts show the group only.
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

int
corr_feed(struct ruleset *rs, const struct rule *base,
    const struct soc_event *ev, rs_alert_fn fn, void *arg)
{
	char key[CORR_KEYLEN];
	int nalerts = 0;
	int64_t now = soc_now_ns();
	size_t off = agency_prefix(ev, key, sizeof(key));

	for (size_t i = 0; i < base->nfeeds; i++) {
		const struct rule *c = base->feeds[i].corr;
		const struct corr_def *d = c->corr;
		uint32_t need = (uint32_t)d->threshold + (d->op == CORR_GT);
		size_t len = off + group_key(d, base->feeds[i].base, ev,
		    key + off, sizeof(key) - off);
		struct corr_key *k = key_get(rs->cs, c, key, len, off);

		if (k == NULL)
			continue;
		k->touched = now;
		if (!window_add(k, d, ev->ts) || k->n < need)
			continue;
		struct rs_alert a = { .rule = c, .event = ev,
		    .group_key = k->key + k->gk_off,
		    .first_ts = k->ts[0], .last_ts = k->ts[k->n - 1],
		    .count = k->n };
		if (fn != NULL)
			fn(arg, &a);
		nalerts++;
		k->n = 0;		/* one alert per threshold crossing */
	}
	assert(corr_state_ok(rs->cs));
	return nalerts;
}

/*
 * Memory only: a key untouched (wall clock) for longer than its window
 * plus a minute can never count again.  Event time decides what is in a
 * window (window_add); wall time decides what is kept, so one sensor
 * with a fast clock, or a replay of old logs, cannot expire the others.
 */
#define CORR_EXPIRE_SLACK	(60 * 1000000000LL)

void
ruleset_expire(struct ruleset *rs, int64_t now_ns)
{
	struct corr_state *cs = rs->cs;
	struct corr_key *k, *next;

	for (k = cs->head; k != NULL; k = next) {
		next = k->lnext;
		if (k->n == 0 || k->touched < now_ns -
		    k->corr->corr->timespan - CORR_EXPIRE_SLACK)
			key_unlink(cs, k);
	}
	assert(corr_state_ok(cs));
}

/* Same correlation, as far as its windows are concerned. */
static bool
corr_same(const struct rule *a, const struct rule *b)
{
	const struct corr_def *x = a->corr, *y = b->corr;

	if (strcmp(rule_id(a), rule_id(b)) != 0 || x->timespan != y->timespan ||
	    x->op != y->op || x->threshold != y->threshold ||
	    x->ngroup != y->ngroup || x->nrefs != y->nrefs)
		return false;
	for (size_t g = 0; g < x->ngroup; g++)
		if (strcmp(x->group_by[g], y->group_by[g]) != 0)
			return false;
	for (size_t r = 0; r < x->nrefs; r++)
		if (strcmp(x->refs[r], y->refs[r]) != 0)
			return false;
	return true;
}

size_t
ruleset_adopt(struct ruleset *nrs, struct ruleset *old)
{
	struct corr_state *ncs = nrs->cs, *ocs = old->cs;
	struct corr_key *k, *next;
	size_t kept = 0;

	for (k = ocs->head; k != NULL; k = next) {
		const struct rule *nc = NULL;

		next = k->lnext;
		for (size_t i = 0; i < nrs->nrules && nc == NULL; i++)
			if (nrs->rules[i]->corr != NULL &&
			    corr_same(nrs->rules[i], k->corr))
				nc = nrs->rules[i];
		if (nc == NULL)
			continue;
		/* detach from the old state without freeing, attach anew */
		struct corr_key **pp = &ocs->tab[k->hash & (ocs->tabsz - 1)];

		while (*pp != k)
			pp = &(*pp)->hnext;
		*pp = k->hnext;
		if (k->lprev)
			k->lprev->lnext = k->lnext;
		else
			ocs->head = k->lnext;
		if (k->lnext)
			k->lnext->lprev = k->lprev;
		else
			ocs->tail = k->lprev;
		ocs->nkeys--;
		if (ncs->nkeys >= ncs->maxkeys) {
			free(k->ts);
			free(k);
			continue;
		}
		if (ncs->nkeys >= ncs->tabsz)
			tab_grow(ncs);
		k->corr = nc;
		k->hash = key_hash(ncs, nc, k->key, k->klen);
		k->hnext = ncs->tab[k->hash & (ncs->tabsz - 1)];
		ncs->tab[k->hash & (ncs->tabsz - 1)] = k;
		lru_append(ncs, k);
		ncs->nkeys++;
		kept++;
	}
	assert(corr_state_ok(ncs));
	assert(corr_state_ok(ocs));
	return kept;
}

void
ruleset_corr_stats(const struct ruleset *rs, size_t *keys, uint64_t *evicted)
{
	if (keys != NULL)
		*keys = rs->cs->nkeys;
	if (evicted != NULL)
		*evicted = rs->cs->evicted;
}

/* ---------------------------------------------------------------- */
/* invariants */

static int
check_fail(const char **why, const char *what)
{
	if (why != NULL)
		*why = what;
	return -1;
}

/* One key's window: sorted, within the timespan, below the threshold. */
static int
check_key(const struct corr_state *cs, const struct corr_key *k,
    const char **why)
{
	const struct corr_def *d;
	uint32_t need;

	if (k->corr == NULL || (d = k->corr->corr) == NULL)
		return check_fail(why, "key without a correlation");
	need = (uint32_t)d->threshold + (d->op == CORR_GT);
	if (k->klen >= CORR_KEYLEN || k->key[k->klen] != '\0')
		return check_fail(why, "key length wrong");
	if (k->hash != key_hash(cs, k->corr, k->key, k->klen))
		return check_fail(why, "stored hash differs from the key's");
	if (k->gk_off == 0 || k->gk_off > k->klen ||
	    k->key[k->gk_off - 1] != '\x1f')
		return check_fail(why, "group key offset off the agency mark");
	if (k->n > k->cap || k->cap > need || (k->cap > 0 && k->ts == NULL))
		return check_fail(why, "window count over its capacity");
	if (k->n >= need)
		return check_fail(why, "window at its threshold without an alert");
	for (uint32_t i = 1; i < k->n; i++)
		if (k->ts[i - 1] > k->ts[i])
			return check_fail(why, "window timestamps out of order");
	if (k->n > 0 && (uint64_t)k->ts[k->n - 1] - (uint64_t)k->ts[0] >
	    (uint64_t)d->timespan)
		return check_fail(why, "window wider than its timespan");
	return 0;
}

/*
 * Checks everything the table promises: a power-of-two table, every key
 * in the chain of its hash, the LRU list doubly linked from head to tail,
 * both holding nkeys keys (so the same ones: each LRU key is found in its
 * chain), at most maxkeys, and every window (check_key).  0 if sound,
 * else -1 and *why (may be NULL).  O(keys); for the unit tests and, via
 * corr_state_ok, the assertions.
 */
int
corr_state_check(const struct corr_state *cs, const char **why)
{
	const struct corr_key *k, *prev = NULL, *c;
	size_t nlru = 0, ntab = 0;

	if (cs->tab == NULL || cs->tabsz == 0 ||
	    (cs->tabsz & (cs->tabsz - 1)) != 0)
		return check_fail(why, "table size not a power of two");
	if (cs->nkeys > cs->maxkeys)
		return check_fail(why, "more keys than allowed");
	for (size_t i = 0; i < cs->tabsz; i++)
		for (k = cs->tab[i]; k != NULL; k = k->hnext) {
			if ((k->hash & (cs->tabsz - 1)) != i)
				return check_fail(why, "key in another hash chain");
			if (++ntab > cs->nkeys)
				return check_fail(why, "more keys in the table than counted");
		}
	if (ntab != cs->nkeys)
		return check_fail(why, "fewer keys in the table than counted");
	if ((cs->head == NULL) != (cs->tail == NULL))
		return check_fail(why, "LRU head and tail disagree");
	for (k = cs->head; k != NULL; prev = k, k = k->lnext) {
		if (k->lprev != prev)
			return check_fail(why, "LRU back link broken");
		if (++nlru > cs->nkeys)
			return check_fail(why, "more keys in the LRU list than counted");
		for (c = cs->tab[k->hash & (cs->tabsz - 1)]; c != k; c = c->hnext)
			if (c == NULL)
				return check_fail(why, "LRU key missing from the table");
		if (check_key(cs, k, why) == -1)
			return -1;
	}
	if (prev != cs->tail)
		return check_fail(why, "LRU tail is not the last key");
	if (nlru != cs->nkeys)
		return check_fail(why, "fewer keys in the LRU list than counted");
	return 0;
}

/* For assert(): every mutation while small, then one in CORR_CHECK_EVERY. */
static bool
corr_state_ok(struct corr_state *cs)
{
	const char *why = NULL;

	if (cs->nkeys > CORR_CHECK_ALL && cs->nmut++ % CORR_CHECK_EVERY != 0)
		return true;
	if (corr_state_check(cs, &why) == 0)
		return true;
	fprintf(stderr, "corr_state_check: %s\n", why);
	return false;
}
