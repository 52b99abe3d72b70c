/*
 * The provinces' coverage records, received (docs/NATIONAL.md, "Coverage
 * sent up"; the record in coverage-wire.h, sent by forward-coverage.c).
 * A record from the server socket is queued by the receive loop
 * (cov_up_message) and, between groups (cov_up_run), checked and stored
 * on the main thread's store connection: only from an enrolled, not
 * revoked key of role province; decoded with every bound; it replaces
 * that province's previous record.  A refused record is logged and
 * counted; nothing of it is stored.
 */
#ifndef SOC_CORR_COVERAGE_UP_H
#define SOC_CORR_COVERAGE_UP_H

#include <stddef.h>

struct store;
struct cov_up;

struct cov_up	*cov_up_new(void);
void	cov_up_free(struct cov_up *u);
/* 1 when it was a coverage record (queued or refused), 0 when not. */
int	cov_up_message(struct cov_up *u, const char *user, const void *data,
	    size_t len);
void	cov_up_run(struct cov_up *u, struct store *st);
void	cov_up_log_counters(const struct cov_up *u);

#endif
