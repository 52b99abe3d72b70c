/*
 * Metric correlations (value_sum, value_avg, value_percentile,
 * value_median) for corr-window.c: the window's value and whether the
 * condition holds, and the percentile histogram: one entry per distinct
 * value, sorted, the value in cw_ent.v and how many times it came in
 * cw_ent.ts, at most RS_CORR_METRIC_VALUES entries (docs/RULES.md,
 * "Metric correlations").  Sum and average need no entries: the key's
 * msum and cnt.
 */
#include <stdlib.h>
#include <string.h>

#include "corr-int.h"

/* Doubles the histogram's room, up to RS_CORR_METRIC_VALUES. */
static int
grow(struct corr_key *k)
{
	uint32_t ncap = k->cap ? k->cap * 2 : 8;
	struct cw_ent *ne;

	if (ncap > RS_CORR_METRIC_VALUES)
		ncap = RS_CORR_METRIC_VALUES;
	if (ncap <= k->n || (ne = reallocarray(k->e, ncap, sizeof(*ne))) == NULL)
		return -1;
	k->e = ne;
	k->cap = ncap;
	return 0;
}

/*
 * The window's metric: sum, average, or the nearest-rank percentile (the
 * smallest value with at least P% of the window's values at or below it).
 */
static double
metric_value(const struct corr_key *k, const struct corr_def *d)
{
	uint64_t rank, seen = 0;

	if (d->type == CT_VALUE_SUM)
		return k->msum;
	if (d->type == CT_VALUE_AVG)
		return k->msum / (double)k->cnt;
	rank = (k->cnt * (uint64_t)d->percentile + 99) / 100;
	if (rank == 0)
		rank = 1;
	for (uint32_t i = 0; i < k->n; i++) {
		seen += (uint64_t)k->e[i].ts;
		if (seen >= rank)
			return (double)(int64_t)k->e[i].v;
	}
	return k->n > 0 ? (double)(int64_t)k->e[k->n - 1].v : 0;
}

bool
corr_metric_holds(const struct corr_key *k, const struct corr_def *d)
{
	double x = metric_value(k, d);

	if (d->m_lo && (d->m_lo_strict ? x <= d->mlo : x < d->mlo))
		return false;
	if (d->m_hi && (d->m_hi_strict ? x >= d->mhi : x > d->mhi))
		return false;
	return !d->m_ne || x != d->mne;
}

/*
 * Percentiles: counts value v into the window's histogram.  Full, the two
 * closest neighbouring values merge into the more frequent of them
 * (documented as an approximation in docs/RULES.md): exact as long as a
 * window sees at most RS_CORR_METRIC_VALUES distinct values.
 */
void
corr_metric_add(struct corr_key *k, const struct corr_def *d, int64_t v)
{
	uint32_t lo = 0, hi = k->n, best = 0;
	uint64_t gap = UINT64_MAX;

	if (d->type != CT_VALUE_PERCENTILE && d->type != CT_VALUE_MEDIAN)
		return;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if ((int64_t)k->e[mid].v < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < k->n && (int64_t)k->e[lo].v == v) {
		k->e[lo].ts++;
		return;
	}
	if (k->n == RS_CORR_METRIC_VALUES) {
		for (uint32_t i = 0; i + 1 < k->n; i++) {
			uint64_t g = (uint64_t)(int64_t)k->e[i + 1].v -
			    (uint64_t)(int64_t)k->e[i].v;

			if (g < gap) {
				gap = g;
				best = i;
			}
		}
		if (k->e[best + 1].ts > k->e[best].ts)
			k->e[best].v = k->e[best + 1].v;
		k->e[best].ts += k->e[best + 1].ts;
		memmove(k->e + best + 1, k->e + best + 2,
		    (k->n - best - 2) * sizeof(*k->e));
		k->n--;
		if (lo > best + 1)
			lo--;
		/* the merged entry may now equal v, or sit past it */
		if (lo > 0 && (int64_t)k->e[lo - 1].v >= v)
			lo--;
		if (lo < k->n && (int64_t)k->e[lo].v == v) {
			k->e[lo].ts++;
			return;
		}
	} else if (k->n == k->cap && grow(k) == -1)
		return;
	memmove(k->e + lo + 1, k->e + lo, (k->n - lo) * sizeof(*k->e));
	k->e[lo] = (struct cw_ent){ .ts = 1, .v = (uint64_t)v, .rep = false };
	k->n++;
}
