/*
 * Internals of the correlation windows, shared by corr-window.c (the
 * table, the windows, feeding), corr-metric.c (the metric types),
 * corr-query.c (counters, references) and corr-check.c (the
 * invariants), and by
 * nobody else (the unit tests aside, through corr_state_check).
 */
#ifndef SOC_CORR_CORR_INT_H
#define SOC_CORR_CORR_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "soc/hash.h"
#include "rule-int.h"

#define CORR_KEYLEN	1024
#define CORR_AGBUCKETS	256
#define CORR_CHECK_ALL	64	/* keys up to which every mutation is checked */
#define CORR_CHECK_EVERY 4096	/* past that, one mutation in this many */
#define CORR_EVICT_EVERY (60 * 1000000000LL)	/* eviction alerts, wall */
#define CORR_ORDERED_SLOTS 4	/* temporal_ordered: events kept per step */

/* Metric percentiles: v the value (an int64), ts how many times it came. */
struct cw_ent {
	int64_t		 ts;
	uint64_t	 v;		/* value hash or rule index */
	uint64_t	 ref;		/* the caller's (ruleset_set_ref) */
	bool		 rep;		/* counted by an alert (ordered: in use) */
};

struct corr_agency {
	struct corr_agency *hnext;
	struct corr_key	*head, *tail;	/* LRU: head is the oldest */
	size_t		 nkeys;
	uint64_t	 evicted, evict_pending;
	int64_t		 evict_alerted;	/* wall clock of the last alert */
	char		 name[256];
};

struct corr_key {
	struct corr_key	*hnext;		/* hash chain */
	struct corr_key	*lprev, *lnext;	/* its agency's LRU list */
	struct corr_agency *ag;
	const struct rule *corr;
	uint64_t	 hash;
	uint32_t	 n, cap;
	struct cw_ent	*e;
	int64_t		 touched;	/* wall clock of the last event (ns) */
	int64_t		 wstart, wlast;	/* at_close window (event time) */
	uint64_t	 cnt;		/* at_close: events in the window */
	double		 msum;		/* metrics: sum of the values */
	int64_t		 rep_start;	/* ordered: start of the reported chain */
	int64_t		 rep_last;	/* ... and its newest end */
	int64_t		 newest;	/* ordered: newest event time seen */
	uint16_t	 klen;		/* strlen(key), < CORR_KEYLEN */
	uint16_t	 gk_off;	/* where the group key starts in key */
	char		 key[];		/* "agency\x1ffield=value,..." */
};

struct corr_state {
	struct corr_key	**tab;
	size_t		  tabsz;	/* power of two */
	size_t		  nkeys, maxkeys, agmax;
	uint64_t	  evicted;
	struct corr_agency *agtab[CORR_AGBUCKETS];
	struct corr_agency **ags;	/* for iteration, nags of them */
	size_t		  nags;
	struct corr_agency overflow;	/* agencies past RS_CORR_MAXAGENCIES */
	struct soc_hash_key hkey;	/* per state: keys are attacker-chosen */
	uint64_t	  nmut;		/* mutations, to sample the checks */
	uint32_t	 *fed;		/* per correlation: serial last fed */
	size_t		  ncorr;
	uint32_t	  serial;	/* of the event being matched */
	uint64_t	  ref;		/* the caller's, of the event being matched */
	bool		  ref_kept;	/* ... stored in some window */
	uint64_t	  refs[RS_ALERT_MAXREFS];	/* a crossing alert's */
	struct soc_event *synth;	/* for alerts judged by ruleset_tick */
	struct rule	  evrule;	/* RS_RULE_CORR_EVICTION */
};

/* corr-check.c */
uint64_t corr_key_hash(const struct corr_state *cs, const struct rule *c,
	    const char *key, size_t len);
uint32_t corr_ent_cap(const struct corr_def *d);
bool	corr_state_ok(struct corr_state *cs);
/* corr-query.c */
bool	corr_refs_kept(const struct corr_def *d);
size_t	corr_refs_of(struct corr_state *cs, const struct corr_key *k);
/* corr-metric.c */
void	corr_metric_add(struct corr_key *k, const struct corr_def *d, int64_t v);
bool	corr_metric_holds(const struct corr_key *k, const struct corr_def *d);

#endif
