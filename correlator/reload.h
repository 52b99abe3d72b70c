/*
 * Rule reloads off the main thread (reload.c): SIGHUP starts one, the poll
 * loop watches reload_fd() beside the ZeroMQ socket, and reload_finish()
 * hands the new set back to the main thread, which swaps it in.
 */
#ifndef SOC_CORR_RELOAD_H
#define SOC_CORR_RELOAD_H

#include "rules.h"

struct reload;

/* Starts load() on a thread of its own; NULL if the thread cannot start. */
struct reload	*reload_start(struct ruleset *(*load)(void));
/* Readable once the thread is done. */
int		 reload_fd(const struct reload *r);
/*
 * Waits for the thread (at once when reload_fd is readable) and frees r.
 * Returns the new set and its scratch in *sc, or NULL if it did not load.
 * *ms: how long the compile took.
 */
struct ruleset	*reload_finish(struct reload *r, struct rs_scratch **sc,
		    long long *ms);
/*
 * Frees a set no longer in use (and its scratch) on a detached thread;
 * here if no thread can start.  Nothing may point into it any more.
 */
void		 reload_dispose(struct ruleset *old, struct rs_scratch *sc);

#endif
