/*
 * The correlation state as the caller sees it outside a window's
 * arithmetic (corr-window.c keeps the windows): the counters of keys held
 * and evicted, and the caller's references of the events in a window.
 *
 * References: the caller names the next event (ruleset_set_ref, e.g. its
 * number); each window entry keeps the reference of the event behind it,
 * and a crossing alert hands back those of its window, oldest first (at
 * most RS_ALERT_MAXREFS: the oldest ones), so the caller can show the
 * events that reached a threshold.  Types that keep no entries per event
 * (event_count judged at close, the metric types, absence) hand back
 * none.  Nothing here allocates: the references live in corr_state.refs,
 * valid until the next alert.
 */
#include "corr-int.h"

void
ruleset_set_ref(struct ruleset *rs, uint64_t ref)
{
	rs->cs->ref = ref;
	rs->cs->ref_kept = false;
}

int
ruleset_ref_kept(const struct ruleset *rs)
{
	return rs->cs->ref_kept;
}

/* Whether a window of d keeps one entry per event (with its reference). */
bool
corr_refs_kept(const struct corr_def *d)
{
	if (d->type == CT_ABSENCE || CT_METRIC(d->type))
		return false;
	return !(d->at_close && d->type == CT_EVENT_COUNT);
}

/* Copies k's references, oldest first, into cs->refs; how many. */
size_t
corr_refs_of(struct corr_state *cs, const struct corr_key *k)
{
	const struct corr_def *d = k->corr->corr;
	size_t n = 0;

	if (!corr_refs_kept(d))
		return 0;
	for (uint32_t i = 0; i < k->n && n < RS_ALERT_MAXREFS; i++)
		cs->refs[n++] = k->e[i].ref;
	return n;
}

void
ruleset_corr_stats(const struct ruleset *rs, size_t *keys, uint64_t *evicted)
{
	if (keys != NULL)
		*keys = rs->cs->nkeys;
	if (evicted != NULL)
		*evicted = rs->cs->evicted;
}

size_t
ruleset_corr_agencies(const struct ruleset *rs)
{
	return rs->cs->nags + 1;
}

int
ruleset_corr_agency(const struct ruleset *rs, size_t i, const char **name,
    size_t *keys, uint64_t *evicted)
{
	const struct corr_state *cs = rs->cs;
	const struct corr_agency *ag;

	if (i > cs->nags)
		return -1;
	ag = i < cs->nags ? cs->ags[i] : &cs->overflow;
	if (name != NULL)
		*name = ag->name;
	if (keys != NULL)
		*keys = ag->nkeys;
	if (evicted != NULL)
		*evicted = ag->evicted;
	return 0;
}
