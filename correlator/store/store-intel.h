/*
 * Indicator sets in the database (store-intel.c): what `socctl intel`
 * writes and the correlator's loader reads.  A set is all the
 * indicators of one source; importing a source replaces its set whole
 * and raises its version; any change raises the database's intel
 * version, which the correlator polls to rebuild its matcher.
 */
#ifndef SOC_CORR_STORE_INTEL_H
#define SOC_CORR_STORE_INTEL_H

#include <stddef.h>
#include <stdint.h>
#include "intel.h"

struct store;

/* The next indicator to import: 1 with *out filled, 0 at the end, -1. */
typedef int (*store_intel_next_fn)(void *arg, struct intel_ind *out);

/*
 * Replaces the set of source (origin: "local" or who published it) with
 * the indicators next() yields, in one transaction: on any failure the
 * set already stored stays as it was.  Two rows of one (type, value)
 * are one indicator: the later expiry and the higher confidence win.
 * *count gets the indicators stored, *version the set's new version.
 */
int	store_intel_import(struct store *st, const char *source,
	    const char *origin, store_intel_next_fn next, void *arg,
	    int64_t now_ns, size_t *count, int64_t *version);
/* Removes a set, or one value from every set: the rows removed, or -1. */
int64_t	store_intel_remove_source(struct store *st, const char *source);
int64_t	store_intel_remove_value(struct store *st, const char *value);
/* The database's intel version (0 before any import): 0 / -1. */
int	store_intel_version(struct store *st, int64_t *version);

struct store_intel_set {
	const char	*source, *origin;
	int64_t		 version, count, updated_at;
};
typedef int (*store_intel_set_fn)(void *arg, const struct store_intel_set *s);
int	store_intel_sets(struct store *st, store_intel_set_fn fn, void *arg);

/* Indicators of source (NULL: all) or of value (NULL: any), in order. */
typedef int (*store_intel_fn)(void *arg, const struct intel_ind *ind);
int	store_intel_foreach(struct store *st, const char *source,
	    const char *value, store_intel_fn fn, void *arg);

/* The live indicators (unexpired at now_ns), in no order, and the intel
 * version they are of (one read transaction).  0 / -1. */
int	store_intel_scan(struct store *st, int64_t now_ns, store_intel_fn fn,
	    void *arg, int64_t *version);

/* The indicator behind an incident (written in the incident's
 * transaction) and reading it back: 1 found, 0 none, -1. */
int	store_intel_note(struct store *st, int64_t incident_id,
	    const struct intel_ind *ind, const char *field);
int	store_intel_incident(struct store *st, int64_t incident_id,
	    int (*fn)(void *arg, const struct intel_ind *ind, const char *field),
	    void *arg);

#endif
