/*
 * Rule reloads off the main thread.  A rule set of 10,000 rules takes
 * seconds to compile (Hyperscan); done on the main thread, as before, no
 * batch was acknowledged for that long.  Here the load and the scratch
 * allocation run on a thread of their own, at a lower priority, while the
 * main thread keeps matching with the old set; when it is done the thread
 * writes one byte to a pipe that the main loop polls with the ZeroMQ
 * socket (zmq_poll accepts descriptors), and the main thread joins it and
 * swaps the sets (ruleset_adopt, ingest_set_rules): only that swap
 * happens between two batches; the old set is freed on a thread too
 * (reload_dispose), as freeing 10,000 rules' databases takes milliseconds.
 *
 * The loader shares nothing mutable with the matcher: it reads files and
 * builds a new ruleset; the old one is only read by the main thread.  The
 * thread blocks every signal, so SIGHUP and SIGTERM still reach the main
 * thread and interrupt its zmq_poll.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "soc/util.h"
#include "reload.h"

struct reload {
	pthread_t	  th;
	int		  fd[2];
	struct ruleset	*(*load)(void);
	struct ruleset	 *rs;
	struct rs_scratch *sc;
	long long	  ms;
};

static void *
reload_main(void *arg)
{
	struct reload *r = arg;
	int64_t t0 = soc_mono_ms();
	char c = 1;

#ifdef SYS_gettid
	/* matching batches comes first: this thread only competes for idle CPU */
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
#endif
	if ((r->rs = r->load()) != NULL &&
	    (r->sc = rs_scratch_new(r->rs)) == NULL) {
		ruleset_free(r->rs);
		r->rs = NULL;
	}
	r->ms = (long long)(soc_mono_ms() - t0);
	while (write(r->fd[1], &c, 1) == -1 && errno == EINTR)
		;
	return NULL;
}

struct reload *
reload_start(struct ruleset *(*load)(void))
{
	struct reload *r;
	sigset_t all, old;
	int rc;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->load = load;
	if (pipe(r->fd) == -1) {
		free(r);
		return NULL;
	}
	(void)fcntl(r->fd[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(r->fd[1], F_SETFD, FD_CLOEXEC);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&r->th, NULL, reload_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		close(r->fd[0]);
		close(r->fd[1]);
		free(r);
		return NULL;
	}
	return r;
}

int
reload_fd(const struct reload *r)
{
	return r->fd[0];
}

struct ruleset *
reload_finish(struct reload *r, struct rs_scratch **sc, long long *ms)
{
	struct ruleset *n;

	pthread_join(r->th, NULL);
	close(r->fd[0]);
	close(r->fd[1]);
	n = r->rs;
	*sc = r->sc;
	*ms = r->ms;
	free(r);
	return n;
}

struct dispose {
	struct ruleset	  *rs;
	struct rs_scratch *sc;
};

static void *
dispose_main(void *arg)
{
	struct dispose *d = arg;

	rs_scratch_free(d->sc);
	ruleset_free(d->rs);
	free(d);
	return NULL;
}

void
reload_dispose(struct ruleset *old, struct rs_scratch *sc)
{
	struct dispose *d;
	pthread_attr_t at;
	pthread_t th;
	sigset_t all, prev;
	int rc = -1;

	if ((d = malloc(sizeof(*d))) != NULL) {
		d->rs = old;
		d->sc = sc;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &prev);
		if (pthread_attr_init(&at) == 0) {
			pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
			rc = pthread_create(&th, &at, dispose_main, d);
			pthread_attr_destroy(&at);
		}
		pthread_sigmask(SIG_SETMASK, &prev, NULL);
		if (rc == 0)
			return;
		free(d);
	}
	rs_scratch_free(sc);		/* no thread: here, as before */
	ruleset_free(old);
}
