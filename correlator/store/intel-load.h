/*
 * Building the correlator's indicator set from the database
 * (intel-load.c): at start on the main thread, later on a thread of its
 * own while the old set keeps matching; the main loop swaps the new set
 * in between groups (ingest_set_intel).
 */
#ifndef SOC_CORR_INTEL_LOAD_H
#define SOC_CORR_INTEL_LOAD_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct intel_set;
struct intel_loader;

/* The set of st's live indicators; NULL with the reason in err. */
struct intel_set *intel_load(struct store *st, int64_t now_ns, char *err,
		    size_t errlen);
/* Starts a load of the database at path (its own read-only connection). */
struct intel_loader *intel_loader_start(const char *path);
/* Whether the thread is done (then intel_loader_finish does not wait). */
int		 intel_loader_done(struct intel_loader *l);
/* Waits, frees l; the set or NULL with the reason; *ms the time taken. */
struct intel_set *intel_loader_finish(struct intel_loader *l, char *err,
		    size_t errlen, long long *ms);

#endif
