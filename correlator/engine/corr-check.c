/*
 * The correlation table's invariants (corr-window.c keeps the table):
 * corr_state_check() for the unit tests and corr_state_ok() for the
 * assertions after each mutation, sampled once the table is large;
 * and the two definitions both the table and its check use (a key's
 * hash, a window's entry capacity), so that corr-window.c sits above it.
 */
#include <stdio.h>

#include "corr-int.h"

static int
check_fail(const char **why, const char *what)
{
	if (why != NULL)
		*why = what;
	return -1;
}

/* One key's window: sorted, within reach, reported when at the bound. */
static int
check_key(const struct corr_state *cs, const struct corr_key *k,
    const char **why)
{
	const struct corr_def *d;

	if (k->corr == NULL || (d = k->corr->corr) == NULL)
		return check_fail(why, "key without a correlation");
	if (k->klen >= CORR_KEYLEN || k->key[k->klen] != '\0')
		return check_fail(why, "key length wrong");
	if (k->hash != corr_key_hash(cs, k->corr, k->key, k->klen))
		return check_fail(why, "stored hash differs from the key's");
	if (k->gk_off == 0 || k->gk_off > k->klen ||
	    k->key[k->gk_off - 1] != '\x1f')
		return check_fail(why, "group key offset off the agency mark");
	if (k->n > k->cap || (k->cap > 0 && k->e == NULL))
		return check_fail(why, "window count over its capacity");
	if (d->type == CT_TEMPORAL_ORDERED)
		return k->n == d->nrefs * CORR_ORDERED_SLOTS ? 0 :
		    check_fail(why, "ordered window without its steps");
	if (k->cap > corr_ent_cap(d))
		return check_fail(why, "window capacity over its bound");
	if (CT_METRIC(d->type)) {
		uint64_t sum = 0;

		for (uint32_t i = 0; i < k->n; i++) {
			if (i > 0 && (int64_t)k->e[i - 1].v >= (int64_t)k->e[i].v)
				return check_fail(why, "metric values out of order");
			if (k->e[i].ts <= 0)
				return check_fail(why, "metric value counted 0 times");
			sum += (uint64_t)k->e[i].ts;
		}
		if (k->n > 0 && sum != k->cnt)
			return check_fail(why, "metric counts differ from the events");
		return 0;
	}
	for (uint32_t i = 1; i < k->n; i++)
		if (k->e[i - 1].ts > k->e[i].ts)
			return check_fail(why, "window timestamps out of order");
	for (uint32_t i = 0; d->type != CT_EVENT_COUNT && i < k->n; i++)
		for (uint32_t j = 0; j < i; j++)
			if (k->e[i].v == k->e[j].v)
				return check_fail(why, "one value twice in a window");
	if (d->at_close) {
		if (k->cnt > 0 && (k->wlast < k->wstart ||
		    k->wlast - k->wstart > d->timespan))
			return check_fail(why, "closing window wider than its timespan");
		return k->n <= k->cnt ? 0 :
		    check_fail(why, "more values than events in a window");
	}
	if (k->n > d->lo)
		return check_fail(why, "window holds more than its bound");
	for (uint32_t i = 0; k->n == d->lo && i < k->n; i++)
		if (!k->e[i].rep)
			return check_fail(why, "window at its bound without an alert");
	if (k->n > 0 && (uint64_t)k->e[k->n - 1].ts - (uint64_t)k->e[0].ts >
	    (uint64_t)d->timespan)
		return check_fail(why, "window wider than its timespan");
	return 0;
}

/* One agency's LRU list: doubly linked, its keys in the table, counted. */
static int
check_agency(const struct corr_state *cs, const struct corr_agency *ag,
    size_t *total, const char **why)
{
	const struct corr_key *k, *prev = NULL, *c;
	size_t n = 0;

	if ((ag->head == NULL) != (ag->tail == NULL))
		return check_fail(why, "LRU head and tail disagree");
	for (k = ag->head; k != NULL; prev = k, k = k->lnext) {
		if (k->lprev != prev || k->ag != ag)
			return check_fail(why, "LRU back link broken");
		if (++n > cs->nkeys)
			return check_fail(why, "more keys in the LRU lists than counted");
		for (c = cs->tab[k->hash & (cs->tabsz - 1)]; c != k; c = c->hnext)
			if (c == NULL)
				return check_fail(why, "LRU key missing from the table");
		if (check_key(cs, k, why) == -1)
			return -1;
	}
	if (prev != ag->tail)
		return check_fail(why, "LRU tail is not the last key");
	if (n != ag->nkeys)
		return check_fail(why, "agency key count wrong");
	if (n > cs->agmax)
		return check_fail(why, "agency over its quota");
	*total += n;
	return 0;
}

/*
 * Checks everything the table promises: a power-of-two table, every key
 * in the chain of its hash, each agency's LRU list doubly linked from head
 * to tail, all of them holding nkeys keys (so the same ones), at most
 * maxkeys and agmax per agency, and every window (check_key).  0 if
 * sound, else -1 and *why (may be NULL).  O(keys); for the unit tests
 * and, via corr_state_ok, the assertions.
 */
int
corr_state_check(const struct corr_state *cs, const char **why)
{
	size_t nlru = 0, ntab = 0;

	if (cs->tab == NULL || cs->tabsz == 0 ||
	    (cs->tabsz & (cs->tabsz - 1)) != 0)
		return check_fail(why, "table size not a power of two");
	if (cs->nkeys > cs->maxkeys)
		return check_fail(why, "more keys than allowed");
	for (size_t i = 0; i < cs->tabsz; i++)
		for (const struct corr_key *k = cs->tab[i]; k != NULL; k = k->hnext) {
			if ((k->hash & (cs->tabsz - 1)) != i)
				return check_fail(why, "key in another hash chain");
			if (++ntab > cs->nkeys)
				return check_fail(why, "more keys in the table than counted");
		}
	if (ntab != cs->nkeys)
		return check_fail(why, "fewer keys in the table than counted");
	for (size_t i = 0; i < cs->nags; i++)
		if (check_agency(cs, cs->ags[i], &nlru, why) == -1)
			return -1;
	if (check_agency(cs, &cs->overflow, &nlru, why) == -1)
		return -1;
	if (nlru != cs->nkeys)
		return check_fail(why, "fewer keys in the LRU lists than counted");
	return 0;
}

/* For assert(): every mutation while small, then one in CORR_CHECK_EVERY. */
bool
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

/* The correlation's index (operator-chosen) only spreads equal keys. */
uint64_t
corr_key_hash(const struct corr_state *cs, const struct rule *c, const char *key,
    size_t len)
{
	return soc_hash(&cs->hkey, key, len) ^
	    (uint64_t)c->corr->index * 0x9e3779b97f4a7c15ULL;
}

/* Entries kept: `lo` for a sliding window, one past any bound at close. */
uint32_t
corr_ent_cap(const struct corr_def *d)
{
	uint64_t c = d->lo;

	if (d->type == CT_VALUE_PERCENTILE || d->type == CT_VALUE_MEDIAN)
		return RS_CORR_METRIC_VALUES;
	if (CT_METRIC(d->type))
		return 0;

	if (d->has_hi && d->hi + 1 > c)
		c = d->hi + 1;
	if (d->has_ne && d->ne + 1 > c)
		c = d->ne + 1;
	return (uint32_t)(d->at_close ? c : c + 1);
}
