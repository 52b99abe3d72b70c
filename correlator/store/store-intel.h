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
	/* a copy of a published set: the publisher's version, and how the
	 * last update came ("full", "delta"), its records and bytes */
	int64_t		 pub_version;
	const char	*pub_kind;
	int64_t		 pub_records, pub_bytes;
	int64_t		 acked;		/* provinces at this version or above */
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

/*
 * Pushing sets down (store-intel-push.c, docs/NATIONAL.md).
 *
 * Serving side: the changes of an import of a local set from version
 * `from` to `to` are recorded in the import's switch transaction
 * (store_intel_delta_record, called by store_intel_import); the last
 * INTEL_DELTA_KEEP versions of each set keep theirs.
 */
#define INTEL_DELTA_KEEP	64
int	store_intel_delta_record(struct store *st, const char *source,
	    int64_t from, int64_t to);
/* Whether the changes from `from` to `to` are all kept: 1, 0, -1. */
int	store_intel_delta_covers(struct store *st, const char *source,
	    int64_t from, int64_t to);
/* One update of source in one read transaction: the whole set in force
 * (full) or the changes after `from` (in version order); *to gets the
 * version it brings.  fn gets op 1 (add) or 2 (delete).  0 / -1. */
typedef int (*store_intel_op_fn)(void *arg, int op, const struct intel_ind *ind);
int	store_intel_update(struct store *st, const char *source, int64_t from,
	    int full, store_intel_op_fn fn, void *arg, int64_t *to);
/* A province acknowledged version of source: 1 it moved up, 0 not (an
 * old version replayed), -1. */
int	store_intel_ack(struct store *st, const char *province,
	    const char *source, int64_t version, int64_t now_ns);
struct store_intel_ackrow {
	const char	*province, *source;
	int64_t		 version, acked_at;
};
int	store_intel_acks(struct store *st, const char *source,
	    int (*fn)(void *arg, const struct store_intel_ackrow *a), void *arg);

/* Receiving side.  A delta applied in place to the copy `source` (one
 * transaction): 1 applied, 0 ignored (the copy is not at `from`), -1. */
struct store_intel_op {
	int			 op;
	struct intel_ind	 ind;
};
int	store_intel_apply_delta(struct store *st, const char *source,
	    int64_t from, int64_t to, const struct store_intel_op *ops,
	    size_t n, int64_t bytes, int64_t now_ns);
/* After a full update was imported (store_intel_import): its version. */
int	store_intel_pub_done(struct store *st, const char *source,
	    int64_t to, const char *kind, int64_t records, int64_t bytes);

/* Sightings (national): an indicator seen in a provincial incident. */
int	store_intel_sighting(struct store *st, const char *type,
	    const char *value, const char *province, const char *agency,
	    int64_t incident, int64_t count, int64_t first, int64_t last);
struct store_intel_seen {
	const char	*province, *agency;
	int64_t		 incidents, count, first_seen, last_seen;
};
int	store_intel_sightings(struct store *st, const char *value,
	    int (*fn)(void *arg, const struct store_intel_seen *s), void *arg);

/* A provincial agency as a forwarded alert describes it: its name and
 * parent (nearest first in parents[], n of them), each step of the chain
 * recorded under the province (province_tree).  0 / -1. */
int	store_province_tree(struct store *st, const char *province,
	    const char *code, const char *name, const char *const *parents,
	    size_t n, int64_t now_ns);

/* 1 when the database holds forwarded incidents (a national one), 0, -1. */
int	store_has_forwarded(struct store *st);

#endif
