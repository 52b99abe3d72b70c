/*
 * The correlator's indicator set, kept current from the database
 * (intel-watch.c).  Called from the poll loop only, between groups.
 */
#ifndef SOC_CORR_INTEL_WATCH_H
#define SOC_CORR_INTEL_WATCH_H

#include <stddef.h>
#include <stdint.h>

#define INTEL_POLL_MS	2000	/* how often the intel version is read */

struct store;
struct ingest;
struct intel_watch;

/* Loads the set now (a failure is logged: no indicators until the next
 * change) and hands it to in.  NULL on allocation failure. */
struct intel_watch *intel_watch_start(const char *path, struct store *st,
		    struct ingest *in);
/* Polls (every INTEL_POLL_MS, or now), starts a load, swaps a done one. */
/* Retro intel: each new set searched for in the archive's last window_ns
 * (0 or dir NULL: off); forward_min: the forwarding threshold of the
 * incidents it writes (-1: no forwarding). */
void	intel_watch_set_retro(struct intel_watch *w, const char *archive_dir,
	    int64_t window_ns, int forward_min);
void	intel_watch_tick(struct intel_watch *w, struct store *st,
	    struct ingest *in, int now);
void	intel_watch_stop(struct intel_watch *w, struct ingest *in);
size_t	intel_watch_count(const struct intel_watch *w);

#endif
