/*
 * Pruning the notification outbox (store_notify_prune, store-notify.c;
 * notify.keep, docs/NOTIFY.md), on a real SQLite file: rows sent, or
 * given up, longer ago than the cut are deleted and counted; pending and
 * retrying rows never are, however old; rows of an incident still open
 * are kept (an update of it must still know it was notified, or it
 * would be notified again as "raised"), and a pass deletes at most its
 * bound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"
#include "store.h"
#include "soc/util.h"

#define DAY	(86400 * SOC_NS)
#define T0	(1800000000LL * SOC_NS)

static char dir[64];
static char path[128];

#define rows_where(w)	fx_sql_int(path, "SELECT count(*) FROM notify_outbox" \
			    " WHERE %s", w)

static int64_t
flush(struct store *st, const char *rule, int64_t now)
{
	struct store_flush f;
	int64_t id = 0;
	int how;

	memset(&f, 0, sizeof(f));
	f.hit.rule_id = rule;
	f.hit.rule_title = "SSH brute force";
	f.hit.rule_level = "high";
	f.hit.severity = 3;
	f.hit.agency = "a";
	f.hit.sensor = "gw1";
	f.hit.group_key = rule;
	f.hit.first_ts = now;
	f.hit.last_ts = now;
	f.hit.count = 1;
	f.category = "brute_force";
	f.reopen_within_ns = DAY;
	f.now_ns = now;
	if (store_incident_flush(st, &f, &id, &how) == -1) {
		fprintf(stderr, "flush: %s\n", store_errmsg(st));
		return -1;
	}
	return id;
}

struct ids {
	int64_t		 inc;
	int64_t		 v[16];
	int		 n;
};

static int
collect(void *arg, const struct store_notification *r)
{
	struct ids *x = arg;

	if (r->incident_id == x->inc && x->n < 16)
		x->v[x->n++] = r->id;
	return 0;
}

/* The outbox ids of incident inc, oldest first. */
static void
ids_of(struct store *st, int64_t inc, struct ids *x)
{
	int64_t id;

	memset(x, 0, sizeof(*x));
	x->inc = inc;
	for (id = 1; id < 64; id++)
		CHECK(store_notify_get(st, id, collect, x) >= 0);
}

int
main(void)
{
	struct store_notify_route r = { 0, "", "" };
	struct store_notify_status s;
	struct store *st;
	struct ids x;
	const char *k[STORE_CONTACTS] = { "an@x.vn", "https://chat.x.vn/h",
	    NULL };
	char err[256];
	int64_t old, open_inc, recent, pend, first, cut;
	int n;

	snprintf(dir, sizeof(dir), "/tmp/test-notify-prune.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/soc.db", dir);
	if ((st = store_open(path, STORE_CREATE, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store_open: %s\n", err);
		return 1;
	}
	CHECK_INT(store_agency_add(st, "a", "A", NULL, 1), 0);
	CHECK_INT(store_responder_add(st, "a", "An", NULL, 1), 0);
	CHECK_INT(store_responder_set_contacts(st, "a", "An", k), 0);
	store_notify_enable(st, &r);

	/* old and resolved: one row sent, one given up, 40 days ago */
	old = flush(st, "old", T0);
	ids_of(st, old, &x);
	CHECK_INT(x.n, 2);
	CHECK_INT(store_notify_result(st, x.v[0], 1, NULL, 1, 1, T0, T0 + 60),
	    0);
	CHECK_INT(store_notify_result(st, x.v[1], 0, "HTTP 500", 1, 1,
	    T0 + 30 * DAY, T0 + 120), 0);
	CHECK_INT(rows_where("state = 'given_up' AND next_at = 1800000000000000120"),
	    1);	/* a given-up row keeps its last attempt's time */
	CHECK_INT(store_incident_transition(st, old, STORE_ST_RESOLVED, "t", "",
	    T0 + DAY), 0);
	/* old but still open: kept */
	open_inc = flush(st, "open", T0);
	ids_of(st, open_inc, &x);
	CHECK_INT(store_notify_result(st, x.v[0], 1, NULL, 1, 1, T0, T0), 0);
	CHECK_INT(store_notify_result(st, x.v[1], 1, NULL, 1, 1, T0, T0), 0);
	/* old, never sent: pending and retrying rows stay */
	pend = flush(st, "pending", T0);
	ids_of(st, pend, &x);
	CHECK_INT(store_notify_result(st, x.v[1], 0, "timed out", 1, 8,
	    T0 + 60, T0), 0);
	CHECK_INT(store_incident_transition(st, pend, STORE_ST_RESOLVED, "t",
	    "", T0 + DAY), 0);
	/* a test, sent long ago (no incident) */
	CHECK_INT(store_notify_test(st, "a/An", T0, &first, &n), 0);
	CHECK_INT(n, 2);
	CHECK_INT(store_notify_result(st, first, 1, NULL, 1, 1, T0, T0), 0);
	CHECK_INT(store_notify_result(st, first + 1, 1, NULL, 1, 1, T0, T0), 0);
	/* resolved, but sent within the keep: stays */
	recent = flush(st, "recent", T0 + 39 * DAY);
	ids_of(st, recent, &x);
	CHECK_INT(store_notify_result(st, x.v[0], 1, NULL, 1, 1, 0,
	    T0 + 39 * DAY), 0);
	CHECK_INT(store_notify_result(st, x.v[1], 1, NULL, 1, 1, 0,
	    T0 + 39 * DAY), 0);
	CHECK_INT(store_incident_transition(st, recent, STORE_ST_RESOLVED, "t",
	    "", T0 + 39 * DAY), 0);
	CHECK_INT(rows_where("1"), 10);

	/* now T0 + 40 days, keep 30 days: the cut is T0 + 10 days */
	cut = T0 + 10 * DAY;
	CHECK_INT(store_notify_prune(st, cut, 1, T0 + 40 * DAY), 1);	/* bound */
	CHECK_INT(rows_where("1"), 9);
	CHECK_INT(store_notify_prune(st, cut, 1000, T0 + 40 * DAY), 3);
	CHECK_INT(store_notify_prune(st, cut, 1000, T0 + 40 * DAY), 0);
	CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM notify_outbox WHERE"
	    " incident_id = %lld OR incident_id IS NULL", (long long)old), 0);
	CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM notify_outbox WHERE"
	    " incident_id = %lld", (long long)open_inc), 2);
	CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM notify_outbox WHERE"
	    " incident_id = %lld", (long long)pend), 2);
	CHECK_INT(rows_where("state IN ('pending', 'retrying')"), 2);
	CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM notify_outbox WHERE"
	    " incident_id = %lld", (long long)recent), 2);
	CHECK_INT(store_notify_status_get(st, &s), 0);
	CHECK_INT((int)s.pruned, 4);

	/* the open incident's update knows it was notified: no "raised" */
	CHECK_INT(flush(st, "open", T0 + 40 * DAY), open_inc);
	CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM notify_outbox WHERE"
	    " incident_id = %lld", (long long)open_inc), 2);

	/* pending rows are never pruned, however old the cut */
	CHECK_INT(store_notify_prune(st, T0 + 1000 * DAY, 1000,
	    T0 + 1000 * DAY), 2);
	CHECK_INT(rows_where("1"), 4);
	CHECK_INT(rows_where("state IN ('pending', 'retrying')"), 2);
	store_close(st);
	fx_rmtree(dir);
	return check_done();
}
