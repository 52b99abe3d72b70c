/*
 * The provinces' coverage records, received (coverage-up.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soc/log.h"
#include "soc/util.h"
#include "coverage-up.h"
#include "coverage-wire.h"
#include "store.h"

#define COV_UP_QUEUE	16	/* records waiting for the group end */

struct cov_pending {
	char		 user[128];
	uint8_t		*data;
	size_t		 len;
};

struct cov_up {
	struct cov_pending	 q[COV_UP_QUEUE];
	size_t			 nq;
	int64_t			 refused_logged;
	uint64_t		 n_stored, n_agencies, n_refused, n_dropped;
};

struct cov_up *
cov_up_new(void)
{
	return calloc(1, sizeof(struct cov_up));
}

void
cov_up_free(struct cov_up *u)
{
	if (u == NULL)
		return;
	while (u->nq > 0)
		free(u->q[--u->nq].data);
	free(u);
}

static void
refuse(struct cov_up *u, const char *user, const char *why)
{
	int64_t now = soc_mono_ms();

	/* the first few by name, then at most one line per 10 s */
	if (++u->n_refused > 20 && now - u->refused_logged < 10000)
		return;
	u->refused_logged = now;
	log_warnx("coverage record from %s refused: %s (%llu refused so far)",
	    user ? user : "an unauthenticated peer", why,
	    (unsigned long long)u->n_refused);
}

int
cov_up_message(struct cov_up *u, const char *user, const void *data,
    size_t len)
{
	struct cov_pending *q;

	if (!cov_wire_is(data, len))
		return 0;
	if (user == NULL) {
		refuse(u, user, "no key");
		return 1;
	}
	if (len > COV_WIRE_MAX) {
		refuse(u, user, "too large");
		return 1;
	}
	if (u->nq >= COV_UP_QUEUE) {
		u->n_dropped++;		/* the province sends it again */
		return 1;
	}
	q = &u->q[u->nq];
	if ((q->data = malloc(len > 0 ? len : 1)) == NULL)
		return 1;
	memcpy(q->data, data, len);
	q->len = len;
	snprintf(q->user, sizeof(q->user), "%s", user);
	u->nq++;
	return 1;
}

static void
store_one(struct cov_up *u, struct store *st, const struct cov_pending *q)
{
	struct store_province_cov *rows = NULL;
	struct cov_wire_agency *a = NULL;
	struct store_sensor sen;
	const char *why;
	size_t n, i;
	int l;

	if (store_sensor_by_name(st, q->user, &sen) != 1 || sen.revoked) {
		refuse(u, q->user, "unknown or revoked key");
		return;
	}
	if (strcmp(sen.role, "province") != 0) {
		refuse(u, q->user, "the key is not a province's (socctl sensor"
		    " enroll --role province)");
		return;
	}
	if (cov_wire_decode(q->data, q->len, &a, &n, &why) == -1) {
		refuse(u, q->user, why);
		return;
	}
	if (n > 0 && (rows = calloc(n, sizeof(*rows))) == NULL) {
		log_warnx("coverage record from %s: out of memory", q->user);
		goto out;
	}
	for (i = 0; i < n; i++) {
		rows[i].agency = a[i].code;
		rows[i].name = a[i].name;
		rows[i].parent = a[i].parent;
		rows[i].covered = a[i].covered;
		for (l = 0; l < STORE_LAYERS; l++) {
			rows[i].state[l] = a[i].state[l];
			rows[i].reason[l] = a[i].reason[l];
		}
		rows[i].ep_declared = a[i].ep_declared;
		rows[i].ep_reporting = a[i].ep_reporting;
		rows[i].ep_protected = a[i].ep_protected;
	}
	if (store_province_coverage_put(st, q->user, rows, n,
	    soc_now_ns()) == -1) {
		log_warnx("coverage record from %s: %s", q->user,
		    store_errmsg(st));
		goto out;
	}
	if (u->n_stored++ == 0)
		log_info("coverage record from %s stored (%zu agencies)",
		    q->user, n);
	else
		log_debug("coverage record from %s stored (%zu agencies)",
		    q->user, n);
	u->n_agencies += n;
out:
	free(rows);
	free(a);
}

void
cov_up_run(struct cov_up *u, struct store *st)
{
	size_t i;

	for (i = 0; i < u->nq; i++) {
		store_one(u, st, &u->q[i]);
		free(u->q[i].data);
		u->q[i].data = NULL;
	}
	u->nq = 0;
}

void
cov_up_log_counters(const struct cov_up *u)
{
	if (u->n_stored == 0 && u->n_refused == 0)
		return;
	log_info("coverage records: %llu stored (%llu agencies), %llu"
	    " refused, %llu dropped", (unsigned long long)u->n_stored,
	    (unsigned long long)u->n_agencies,
	    (unsigned long long)u->n_refused,
	    (unsigned long long)u->n_dropped);
}
