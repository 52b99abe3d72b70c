/*
 * Retro intel (issue 20): when a new indicator set replaces the one in
 * use, the last intel.retro of the archive is searched, on a thread of
 * its own off the ingest path, for the indicators the previous set did
 * not hold, and each sighting raises an incident of category intel
 * marked retro (sensor "retro", tag soc.retro) at the event's own time,
 * grouped per (indicator, agency) as live hits are.  See intel-retro.c.
 */
#ifndef SOC_CORR_INTEL_RETRO_H
#define SOC_CORR_INTEL_RETRO_H

#include <stdint.h>

#define RETRO_HITS_MAX		100000	/* sightings counted per run */
#define RETRO_GROUPS_MAX	1024	/* incidents written per run */

struct intel_set;
struct intel_retro;

/*
 * Starts a run over archive dir (events of the last window_ns) for the
 * indicators of cur that old lacks (old NULL: all of cur).  The thread
 * frees old when it ends; cur must outlive it (intel_retro_stop() before
 * cur is freed).  db: the database the incidents go to (a connection of
 * its own; forward_min: store_forward_enable()'s threshold, -1 none).  NULL if the thread cannot start (old is then freed).
 */
struct intel_retro *intel_retro_start(const char *db, const char *dir,
		    int64_t window_ns, int forward_min, struct intel_set *old,
		    const struct intel_set *cur);
/* Whether the run is over (then stop does not wait). */
int	intel_retro_done(struct intel_retro *r);
/* Asks the run to stop (between frames), waits for it, frees; NULL ok. */
void	intel_retro_stop(struct intel_retro *r);

#endif
