/*
 * Alert aggregation for one correlator transaction (ingest.c): alerts of
 * the same (rule, agency, group key) are summed in memory -- events
 * counted, first and last seen, highest severity, the first N and the
 * latest M events as evidence (opaque blobs: ingest.c keeps the events'
 * wire bytes and makes JSON only of those still kept at the flush) --
 * so each incident is written once per transaction however many alerts
 * it took.
 *
 * Alerts go into the current batch's part of an entry; agg_batch_end()
 * folds that part into the group's (the batch's savepoint was released)
 * or drops it (rolled back), so an undone batch leaves nothing behind.
 *
 * Nothing allocates after agg_new(): a fixed table of keys and a fixed
 * arena for strings, compacted when full.  When the table or the arena
 * is half full between batches, agg_should_flush() says so and the
 * caller writes the group's part out early, still inside its
 * transaction.
 */
#ifndef SOC_CORR_INCIDENT_AGG_H
#define SOC_CORR_INCIDENT_AGG_H

#include <stddef.h>
#include <stdint.h>

struct rule;
struct agg;

#define AGG_EV_MAX	64		/* bound of evidence_first, evidence_last */

/* One incident's sums, as handed to the flush callback. */
struct agg_out {
	const struct rule	*rule;
	const char		*agency;
	const char		*sensor;	/* the first alert's */
	const char		*group_key;
	uint64_t		 count;		/* events */
	uint64_t		 nalerts;	/* evidence numbers: alerts and
						 * agg_add_ev events */
	int64_t			 first_ts, last_ts;
	int			 severity;	/* highest */
	const char		*ev_first[AGG_EV_MAX];	/* NULL: none kept */
	size_t			 ev_first_len[AGG_EV_MAX];
	size_t			 nfirst;
	const char		*ev_last[AGG_EV_MAX];	/* oldest first */
	size_t			 ev_last_len[AGG_EV_MAX];
	size_t			 nlast;
};
typedef int (*agg_flush_fn)(void *arg, const struct agg_out *o);

struct agg	*agg_new(size_t slots, size_t arena_bytes);
void		 agg_free(struct agg *a);
/* Evidence kept per key: the first and the latest (each 0..AGG_EV_MAX). */
void		 agg_set_evidence(struct agg *a, int first, int last);

/*
 * One alert of the current batch.  evno names the event (the same
 * number for every alert of one event: its blob is stored once); the
 * blob is pre (prelen bytes) then ev (evlen bytes), ev NULL for none.
 * Returns 0, or -1 when the table is full (the caller writes this alert
 * on its own).
 */
int	agg_add(struct agg *a, const struct rule *r, const char *agency,
	    const char *sensor, const char *group_key, int64_t first_ts,
	    int64_t last_ts, uint64_t count, int severity, uint64_t evno,
	    const void *pre, size_t prelen, const void *ev, size_t evlen);
/*
 * One more event of the alert agg_add() took last (0 returned), e.g. the
 * earlier events of a correlation's window: evidence numbered like an
 * alert's (nalerts counts it), in the first N and the latest M as usual;
 * the count is the alert's.  Nothing if there is no such alert.
 */
void	agg_add_ev(struct agg *a, uint64_t evno, const void *pre,
	    size_t prelen, const void *ev, size_t evlen);
/* keep: fold the batch's alerts into the group's; else forget them. */
void	agg_batch_end(struct agg *a, int keep);
/* Between batches: 1 when the group's part should be written now. */
int	agg_should_flush(const struct agg *a);
/*
 * Calls fn for each key of the group (in first-alert order), then empties
 * the table (also when fn fails).  Returns 0 or the first non-zero fn
 * result (the rest are still skipped: the transaction is lost anyway).
 */
int	agg_flush(struct agg *a, agg_flush_fn fn, void *arg);
/* Forget everything (the transaction was rolled back). */
void	agg_clear(struct agg *a);
size_t	agg_keys(const struct agg *a);		/* keys held */
uint64_t agg_dropped(const struct agg *a);	/* evidence not kept: no room */

#endif
