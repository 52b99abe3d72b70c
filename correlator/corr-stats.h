/*
 * The correlator's in-memory counters written to the store for `socctl
 * stats` (corr-stats.c).
 */
#ifndef SOC_CORR_CORR_STATS_H
#define SOC_CORR_CORR_STATS_H

#include <stdint.h>

#include "rules.h"
#include "store.h"

/*
 * Replaces the store's correlation-window counters (per agency: windows
 * held, evicted since start) with rs's, stamped now_ns; agencies with
 * neither are left out.  Called between groups (its own transaction),
 * every few seconds; skips the write when nothing changed since the
 * last one.  0, or -1 with store_errmsg().
 */
int	corr_windows_save(struct store *st, const struct ruleset *rs,
	    int64_t now_ns);

#endif
