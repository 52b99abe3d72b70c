/*
 * The correlator's indicator set, kept current (intel-watch.h): at start
 * the set is loaded before the socket opens; afterwards the database's
 * intel version is read every INTEL_POLL_MS (and at once on SIGHUP), and
 * a change starts a load on a thread (intel-load.c) while the old set
 * keeps matching.  The new set is swapped in from the poll loop, between
 * groups, and the old one freed there: nothing points into it then (the
 * aggregation copies its keys and is empty between groups).  A load that
 * fails keeps the set in use; the next change tries again.
 *
 * Retro intel (intel-retro.c): with intel.retro set and an archive, the
 * set replaced is handed to a retro run instead of being freed, which
 * looks for the new set's other indicators in the archive; a newer set
 * stops a run still going before the set it reads is freed.
 */
#include <stdlib.h>
#include <string.h>

#include "soc/log.h"
#include "soc/util.h"
#include "ingest-intel.h"
#include "intel.h"
#include "intel-load.h"
#include "intel-retro.h"
#include "intel-watch.h"
#include "store.h"
#include "store-intel.h"

struct intel_watch {
	char			*path;
	struct intel_loader	*loader;
	struct intel_set	*set;
	int64_t			 seen;		/* version loaded (or tried) */
	int64_t			 want;		/* version the loader reads */
	int64_t			 polled;	/* mono ms */
	char			*archive;	/* retro intel: the archive */
	int64_t			 retro_ns;	/* its window; 0 off */
	struct intel_retro	*retro;		/* the run going, if any */
	int			 forward_min;
};

void
intel_watch_set_retro(struct intel_watch *w, const char *archive_dir,
    int64_t window_ns, int forward_min)
{
	w->forward_min = forward_min;
	free(w->archive);
	w->archive = archive_dir != NULL ? strdup(archive_dir) : NULL;
	w->retro_ns = window_ns;
}

/* The set replaced: to a retro run, or freed. */
static void
retire(struct intel_watch *w, struct intel_set *old, const struct intel_set *n)
{
	if (w->retro != NULL) {
		if (!intel_retro_done(w->retro))
			log_warnx("retro intel: a newer set stops the run going");
		intel_retro_stop(w->retro);
		w->retro = NULL;
	}
	if (w->retro_ns <= 0 || w->archive == NULL) {
		intel_set_free(old);
		return;
	}
	if ((w->retro = intel_retro_start(w->path, w->archive, w->retro_ns,
	    w->forward_min, old, n)) == NULL)
		log_warnx("retro intel: cannot start a thread");
	else
		log_info("retro intel: the archive's last %lld h searched for"
		    " the new indicators", (long long)(w->retro_ns /
		    3600000000000LL));
}

struct intel_watch *
intel_watch_start(const char *path, struct store *st, struct ingest *in)
{
	struct intel_watch *w;
	char err[512];

	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->path = strdup(path)) == NULL) {
		free(w);
		return NULL;
	}
	w->polled = soc_mono_ms();
	if ((w->set = intel_load(st, soc_now_ns(), err, sizeof(err))) == NULL) {
		log_warnx("indicators not loaded: %s", err);
		w->seen = -1;
		return w;
	}
	w->seen = (int64_t)intel_set_version(w->set);
	ingest_set_intel(in, w->set);
	if (intel_set_count(w->set) > 0)
		log_info("%zu indicators loaded (version %lld)",
		    intel_set_count(w->set), (long long)w->seen);
	return w;
}

void
intel_watch_tick(struct intel_watch *w, struct store *st, struct ingest *in,
    int now)
{
	char err[512];
	struct intel_set *n;
	long long ms;
	int64_t v;

	if (w->loader != NULL) {
		if (!intel_loader_done(w->loader))
			return;
		n = intel_loader_finish(w->loader, err, sizeof(err), &ms);
		w->loader = NULL;
		if (n == NULL) {
			log_warnx("indicators not reloaded (%s): keeping the %zu"
			    " in use", err, intel_set_count(w->set));
			w->seen = w->want;
			return;
		}
		ingest_set_intel(in, n);
		retire(w, w->set, n);
		w->set = n;
		w->seen = (int64_t)intel_set_version(n);
		log_info("indicators reloaded: %zu (version %lld, loaded in %lld"
		    " ms beside the set in use)", intel_set_count(n),
		    (long long)w->seen, ms);
		return;
	}
	if (w->retro != NULL && intel_retro_done(w->retro)) {
		intel_retro_stop(w->retro);
		w->retro = NULL;
	}
	if (!now && soc_mono_ms() - w->polled < INTEL_POLL_MS)
		return;
	w->polled = soc_mono_ms();
	if (store_intel_version(st, &v) == -1 || v == w->seen)
		return;
	w->want = v;
	if ((w->loader = intel_loader_start(w->path)) == NULL)
		log_warnx("indicators not reloaded: cannot start a thread");
}

void
intel_watch_stop(struct intel_watch *w, struct ingest *in)
{
	char err[512];
	long long ms;

	if (w == NULL)
		return;
	intel_retro_stop(w->retro);
	free(w->archive);
	if (w->loader != NULL)
		intel_set_free(intel_loader_finish(w->loader, err, sizeof(err),
		    &ms));
	ingest_set_intel(in, NULL);
	intel_set_free(w->set);
	free(w->path);
	free(w);
}

size_t
intel_watch_count(const struct intel_watch *w)
{
	return w ? intel_set_count(w->set) : 0;
}
