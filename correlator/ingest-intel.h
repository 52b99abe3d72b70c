/*
 * Indicator hits inside ingest (ingest-intel.c): each event of a batch
 * is looked up in the current indicator set, and a hit is summed like a
 * rule's alert -- per (indicator, agency) -- into an incident of category
 * intel that carries the indicator (source, tags, confidence).
 */
#ifndef SOC_CORR_INGEST_INTEL_H
#define SOC_CORR_INGEST_INTEL_H

#include <stdint.h>

struct ingest;
struct batch_ctx;
struct rule;
struct intel_set;
struct agg_out;

/* Between groups: the set to match from now on (NULL: none); the old
 * one is handed back for the caller to free. */
struct intel_set *ingest_set_intel(struct ingest *in, struct intel_set *s);
/* The current event (in->ev) against the set: 0, or -1 (the batch fails). */
int	ingest_intel_event(struct ingest *in, struct batch_ctx *bc);
/* Whether an aggregated key is an indicator's (its rule is ours). */
int	ingest_intel_rule(const struct rule *r);
/* After the incident of such a key was written: records the indicator. */
int	ingest_intel_flushed(struct ingest *in, int64_t id, const char *group_key);
/* The built-in rule of an indicator of that confidence (0..100). */
const struct rule *ingest_intel_rule_of(int confidence);
/* Hits counted since start. */
uint64_t ingest_intel_hits(const struct ingest *in);

#endif
