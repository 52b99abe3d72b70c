/*
 * The rule engine: Sigma YAML rules compiled into Hyperscan databases
 * (one multi-pattern database per event field, HS_FLAG_SINGLEMATCH,
 * caseless unless |cased) and, for exact, prefix and suffix literals, a
 * hash index per field; a condition evaluator for what they prefilter,
 * and correlations over event-time windows.
 * socctl reuses the same engine for `rules check` and `rules test`.
 */
#ifndef SOC_CORR_RULES_H
#define SOC_CORR_RULES_H

#include <stddef.h>
#include <stdint.h>
#include "soc/event.h"

struct ruleset;
struct rule;
struct rs_scratch;

/* Called for each problem found while loading: "file:line: reason". */
typedef void (*rs_error_fn)(void *arg, const char *msg);

/*
 * Load every *.yml / *.yaml under the given directories (recursively,
 * sorted by path), using the Sigma-to-ECS mapping in mapping_path (NULL:
 * the first of DIR/mapping.yml for each dir, then the built-in default
 * path).  Rules the engine cannot honour are refused and reported through
 * err; *nerrors gets their count.  Returns NULL only if nothing usable
 * could be built (allocation, mapping or Hyperscan failure), after
 * reporting why.
 */
struct ruleset	*ruleset_load(const char *const *dirs, size_t ndirs,
		    const char *mapping_path, rs_error_fn err, void *arg,
		    size_t *nerrors);

/*
 * The same with the selection by status and partial directories
 * (rule-status.c, docs/RULES.md): rules whose `status` is below
 * min_status (experimental < test < stable; deprecated and unsupported
 * never load, a rule without status always does) are skipped, not
 * refused: listed by ruleset_skipped_rule().  With partial_dirs, a rule
 * refused under a directory named `sigmahq` or holding a file `.partial`
 * (at or below a rules directory) is reported through err and listed by
 * ruleset_refused_partial_msg() but not counted in *nerrors: the caller
 * refuses the set only for refusals elsewhere.
 */
enum { RS_STATUS_ANY = -1, RS_STATUS_EXPERIMENTAL = 0, RS_STATUS_TEST,
	RS_STATUS_STABLE };
struct rs_load_opts {
	int		 min_status;	/* RS_STATUS_*; ANY: no selection */
	int		 partial_dirs;	/* honour partial directories */
	int		 hs_only;	/* tests, bench: no literal index, every
					   string pattern in Hyperscan */
};
/* A set of no rules (role national without rules; rule-empty.c). */
struct ruleset	*ruleset_empty(void);
struct ruleset	*ruleset_load_opts(const char *const *dirs, size_t ndirs,
		    const char *mapping_path, const struct rs_load_opts *o,
		    rs_error_fn err, void *arg, size_t *nerrors);
/* "experimental" "test" "stable" -> RS_STATUS_*; -2 for anything else. */
int		 rs_status_parse(const char *s);
size_t		 ruleset_skipped(const struct ruleset *rs);
int		 ruleset_skipped_rule(const struct ruleset *rs, size_t i,
		    const char **file, int *line, const char **title,
		    const char **status, const char **why);
/* Refusals in partial directories: how many, and the first ones' text. */
size_t		 ruleset_refused_partial(const struct ruleset *rs);
const char	*ruleset_refused_partial_msg(const struct ruleset *rs, size_t i);

void		 ruleset_free(struct ruleset *rs);
size_t		 ruleset_count(const struct ruleset *rs);	/* loaded rules */
const struct rule *ruleset_rule(const struct ruleset *rs, size_t i);

/*
 * Sigma filter documents applied at load (rule-filter.c): pairs of a
 * filter and a rule it tunes, for `socctl rules check`.  Slot i gives the
 * filter's id, title, file and line and the rule; -1 if out of range.
 */
size_t		 ruleset_filter_uses(const struct ruleset *rs);
int		 ruleset_filter_use(const struct ruleset *rs, size_t i,
		    const char **filter_id, const char **filter_title,
		    const char **file, int *line, const struct rule **rule);

/* One scratch per thread. */
struct rs_scratch *rs_scratch_new(const struct ruleset *rs);
void		 rs_scratch_free(struct rs_scratch *s);

/* Rule metadata (strings owned by the ruleset). */
const char	*rule_id(const struct rule *r);
const char	*rule_title(const struct rule *r);
const char	*rule_level(const struct rule *r);	/* informational..critical */
int		 rule_severity(const struct rule *r);	/* 0..4 from level */
const char	*rule_author(const struct rule *r);	/* may be "" */
const char	*rule_tags(const struct rule *r);	/* comma-separated, may be "" */
const char	*rule_file(const struct rule *r);
int		 rule_is_correlation(const struct rule *r);
/* A rule the daemon raises itself (rule-builtin.c): metadata only, it
 * matches no event.  NULL when out of memory. */
struct rule	*rule_builtin_new(const char *id, const char *title,
		    const char *level, const char *tags, int severity);
void		 rule_builtin_free(struct rule *r);

/* What a match hands to the caller. */
struct rs_alert {
	const struct rule	*rule;
	const struct soc_event	*event;		/* the event that fired it */
	const char		*group_key;	/* "field=value,..." or "" */
	int64_t			 first_ts;	/* window start (ns) */
	int64_t			 last_ts;
	uint64_t		 count;		/* events behind this alert */
	/*
	 * A correlation's crossing alert: the caller's references
	 * (ruleset_set_ref) of the events in its window, oldest first, at
	 * most RS_ALERT_MAXREFS; valid during the callback.  nrefs 0 for
	 * single-event alerts, later alerts of a window, and the types
	 * that keep no events (event_count judged at close, the metrics,
	 * absence).
	 */
	const uint64_t		*refs;
	size_t			 nrefs;
};
#define RS_ALERT_MAXREFS	64
typedef void (*rs_alert_fn)(void *arg, const struct rs_alert *a);

/*
 * Match one event against every rule, then feed correlation windows.
 * Calls fn for each single-event rule that matches and for each
 * correlation rule whose condition is met by this event.  Returns the
 * number of alerts, or -1 on a Hyperscan error (logged).
 */
/*
 * The Sigma extension |intel (field|intel: SET, or any): fn answers
 * whether the event's field value is an indicator of SET (NULL: any
 * set).  Without a hook the condition is false.  Process-wide; set by
 * ingest when it has an indicator set.
 */
void	 ruleset_intel_hook(int (*fn)(void *arg, const struct soc_event *ev,
	    int field, const char *set), void *arg);
/* The set name of an |intel condition (rule-value.c); NULL for any. */
const char *rule_intel_set(int64_t i);

int	 ruleset_match(struct ruleset *rs, struct rs_scratch *s,
	    const struct soc_event *ev, rs_alert_fn fn, void *arg);

/*
 * The caller's reference of the next event given to ruleset_match()
 * (e.g. its number), kept beside it in the correlation windows it feeds
 * and handed back in a crossing alert's refs.  ruleset_ref_kept(): true
 * if the last ruleset_match() stored the reference in some window (the
 * caller may then want that event's bytes later).
 */
void	 ruleset_set_ref(struct ruleset *rs, uint64_t ref);
int	 ruleset_ref_kept(const struct ruleset *rs);

/*
 * Closes the correlation windows judged at their close (conditions with
 * an upper bound: lt, lte, eq, neq, ranges) whose end is before now_ns
 * (event time: the caller's clock for live data, INT64_MAX at the end of
 * an input), raising their alerts through fn.  The alerts' event is a
 * stand-in carrying the agency (organization.id), the window's last time,
 * event.dataset "soc.correlation" and the group key as message.  Call it
 * before ruleset_expire(), which would drop such windows unjudged.
 * Returns the number of alerts.
 */
int	 ruleset_tick(struct ruleset *rs, int64_t now_ns, rs_alert_fn fn,
	    void *arg);

/* Free correlation windows untouched (wall clock, ns) for longer than
 * their timespan plus a minute; memory only, never what counts. */
void	 ruleset_expire(struct ruleset *rs, int64_t now_ns);
/*
 * On reload: move the correlation windows of rules unchanged between old
 * and nrs (same id, type, timespan, condition, group-by and references)
 * into nrs, so a reload does not reset a brute-force count.  Returns how
 * many windows were kept; old keeps the rest (freed with it).
 */
size_t	 ruleset_adopt(struct ruleset *nrs, struct ruleset *old);

/* Correlation keys held now, and keys evicted because the table was full. */
void	 ruleset_corr_stats(const struct ruleset *rs, size_t *keys,
	    uint64_t *evicted);

/*
 * The same per agency: ruleset_corr_agencies() slots, the last one for
 * agencies past the tracked number ("(other)").  Slot i: the agency's
 * name, keys held, keys evicted.  -1 if i is out of range.
 */
size_t	 ruleset_corr_agencies(const struct ruleset *rs);
int	 ruleset_corr_agency(const struct ruleset *rs, size_t i,
	    const char **name, size_t *keys, uint64_t *evicted);

/*
 * The built-in rule of the alerts ruleset_match() raises when an
 * agency's correlation windows are evicted (the table or the agency's
 * quota is full: an attack or a rule grouping by something unbounded).
 * Its group key is "organization.id=AGENCY" (the agency that lost the
 * windows), its count the evictions since the previous such alert; at
 * most one a minute per agency.  Level high; not in ruleset_rule().
 */
#define RS_RULE_CORR_EVICTION	"soc-corr-eviction"

#endif
