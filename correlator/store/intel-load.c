/*
 * Loading indicator sets (intel-load.h).  A load reads every live row
 * in one read transaction and builds the set beside the one in use;
 * with a million indicators it takes a second or two, which the ingest
 * thread never waits for: the thread signals through an atomic flag
 * the main loop looks at once per poll.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soc/util.h"
#include "intel.h"
#include "intel-load.h"
#include "store.h"
#include "store-intel.h"

struct intel_loader {
	pthread_t		 th;
	char			*path;
	atomic_int		 done;
	struct intel_set	*set;
	char			 err[512];
	long long		 ms;
};

static int
add_one(void *arg, const struct intel_ind *ind)
{
	return intel_builder_add(arg, ind) == -1 ? -1 : 0;
}

struct intel_set *
intel_load(struct store *st, int64_t now_ns, char *err, size_t errlen)
{
	struct intel_builder *b;
	int64_t version = 0;

	if ((b = intel_builder_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (store_intel_scan(st, now_ns, add_one, b, &version) == -1) {
		snprintf(err, errlen, "%s", store_errmsg(st));
		intel_builder_free(b);
		return NULL;
	}
	return intel_builder_finish(b, (uint64_t)version);
}

static void *
loader_main(void *arg)
{
	struct intel_loader *l = arg;
	struct store *st;
	int64_t t0 = soc_mono_ms();

	if ((st = store_open(l->path, STORE_READONLY, l->err,
	    sizeof(l->err))) != NULL) {
		l->set = intel_load(st, soc_now_ns(), l->err, sizeof(l->err));
		store_close(st);
	}
	l->ms = soc_mono_ms() - t0;
	atomic_store(&l->done, 1);
	return NULL;
}

struct intel_loader *
intel_loader_start(const char *path)
{
	struct intel_loader *l;
	sigset_t all, old;
	int rc;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	if ((l->path = strdup(path)) == NULL) {
		free(l);
		return NULL;
	}
	/* signals stay with the main thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&l->th, NULL, loader_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		free(l->path);
		free(l);
		return NULL;
	}
	return l;
}

int
intel_loader_done(struct intel_loader *l)
{
	return atomic_load(&l->done);
}

struct intel_set *
intel_loader_finish(struct intel_loader *l, char *err, size_t errlen,
    long long *ms)
{
	struct intel_set *s;

	pthread_join(l->th, NULL);
	s = l->set;
	if (s == NULL)
		snprintf(err, errlen, "%s", l->err[0] ? l->err : "out of memory");
	*ms = l->ms;
	free(l->path);
	free(l);
	return s;
}
