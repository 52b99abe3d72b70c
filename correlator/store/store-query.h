/*
 * What only socctl reads from the store: the totals of `socctl stats`
 * (store-stats.c), search and the leadership report (store-search.c);
 * the 4-layer coverage report is in store.h (the forwarder sends it up).  The correlator never includes
 * it; store.h has what the daemon writes and both read.
 */
#ifndef SOC_CORR_STORE_QUERY_H
#define SOC_CORR_STORE_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Totals for `socctl stats`. */
struct store_stats {
	uint64_t	agencies;
	uint64_t	sensors;		/* enrolled, not revoked */
	uint64_t	sensors_revoked;
	uint64_t	events_received;	/* committed, all sensors */
	uint64_t	batches;
	uint64_t	incidents;
	uint64_t	by_status[STORE_ST_COUNT];
	uint64_t	by_severity[5];
	uint64_t	evidence;
	uint64_t	audit;
	uint64_t	outbox_pending;		/* alerts not yet acked nationally */
	uint64_t	forwarded;		/* acked by the national receiver */
};
int	store_stats_get(struct store *st, struct store_stats *out);

/*
 * Search and the leadership report (store-search.c).  The statements are
 * built per call from the filters given, with every value bound, never
 * pasted into the SQL text.
 */
enum store_sort {
	STORE_SORT_UPDATED,	/* most recently updated first (default) */
	STORE_SORT_CREATED,
	STORE_SORT_LAST_SEEN,
	STORE_SORT_SEVERITY,	/* highest first, then most recently seen */
};
int	store_sort_parse(const char *s);	/* -1 if unknown */

#define STORE_SEARCH_AGENCIES	32

struct store_search {
	int		 status;	/* enum store_status, or -1 any */
	int		 open_only;
	int		 closed_only;
	/* Each agency with every agency below it in the tree; an unknown
	 * code is an error, not an empty result. */
	const char	*agencies[STORE_SEARCH_AGENCIES];
	size_t		 nagencies;
	int		 min_severity;
	int64_t		 since_ns;	/* last_seen >= since_ns; 0 any */
	int64_t		 until_ns;	/* first_seen < until_ns; 0 any */
	const char	*ip;		/* address or CIDR: source or destination
					   in the group key or the evidence */
	const char	*rule;		/* exact rule id, or part of the title */
	const char	*category;
	const char	*country;	/* ISO 3166 code of a source address */
	const char	*assignee;
	const char	*text;		/* words, all of them (FTS5) */
	int		 overdue;	/* a deadline stage past due, not met */
	int64_t		 now_ns;	/* for overdue */
	int		 sort;		/* enum store_sort */
	int64_t		 limit;		/* 0 no limit */
};
void	store_search_init(struct store_search *q);
/*
 * Calls fn for each incident that passes every filter, in q->sort order.
 * -1 with a sentence in store_errmsg() for an unknown agency, a bad
 * address, or a filter this database cannot answer (--overdue without
 * the deadlines machinery).
 */
int	store_search_foreach(struct store *st, const struct store_search *q,
	    store_incident_fn fn, void *arg);
/* 1 if the incidents table has a category column / the database has an
 * incident_deadlines table or view; 0 if not; -1 on error. */
int	store_search_has_category(struct store *st);
int	store_search_has_deadlines(struct store *st);

/*
 * The leadership report: for each agency in scope (agency and the ones
 * below it, or all), its figures rolled up over its whole subtree, one
 * row per category (category NULL: the incident has none).  Incidents
 * counted are those opened (created_at) in [since_ns, until_ns).  Times
 * to acknowledge and to resolve come from the audit trail: from opening
 * to the first move out of "new", and to the last close of a closed
 * incident.  Rows come ordered by agency code, then category.
 */
struct store_report_opts {
	int64_t		 since_ns;
	int64_t		 until_ns;
	int64_t		 now_ns;	/* deadlines: missed if due before now */
	const char	*agency;	/* NULL: every agency */
};
struct store_report_row {
	const char	*agency;
	const char	*category;	/* NULL: none */
	uint64_t	 incidents;
	uint64_t	 by_severity[5];
	uint64_t	 acknowledged;	/* incidents with a time to acknowledge */
	double		 ack_sum_s;	/* their times, summed, seconds */
	uint64_t	 resolved;
	double		 resolve_sum_s;
	int		 deadlines_known;	/* the database has deadlines */
	uint64_t	 deadlines_met;
	uint64_t	 deadlines_missed;
};
typedef int (*store_report_fn)(void *arg, const struct store_report_row *r);
int	store_report_foreach(struct store *st, const struct store_report_opts *o,
	    store_report_fn fn, void *arg);

#endif
