/*
 * Unit tests for the store's side of notifications (store-notify.c,
 * issue 20), on a real SQLite file: the contact checks, routing to the
 * agency subtree by severity and category, rows written only in the
 * incident's transaction and only once per cause, reopenings as new
 * causes, a connection without routing writing none, the attempt
 * outcomes (retrying, given up, counted), test rows, and the deadline
 * escalations (half to the routing, overdue to the lead, each once).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"
#include "store.h"
#include "soc/util.h"

#define HOUR	(3600 * SOC_NS)
#define T0	(1800000000LL * SOC_NS)

static char dir[64];
static char path[128];

#define rows_where(w)	fx_sql_int(path, "SELECT count(*) FROM notify_outbox" \
			    " WHERE %s", w)

static void
test_contacts(void)
{
	static const struct { int kind; const char *v; int ok; } t[] = {
		{ STORE_CONTACT_EMAIL, "an@stttt.gov.vn", 0 },
		{ STORE_CONTACT_EMAIL, "", 0 },
		{ STORE_CONTACT_EMAIL, "an@stttt.gov.vn\nBcc: x@y.vn", -1 },
		{ STORE_CONTACT_EMAIL, "an@stttt.gov.vn\r", -1 },
		{ STORE_CONTACT_EMAIL, "an\t@x.vn", -1 },
		{ STORE_CONTACT_EMAIL, "An <an@x.vn>", -1 },
		{ STORE_CONTACT_EMAIL, "soc@localhost", 0 },
		{ STORE_CONTACT_EMAIL, "an@", -1 },
		{ STORE_CONTACT_EMAIL, "@x.vn", -1 },
		{ STORE_CONTACT_EMAIL, "a@b@x.vn", -1 },
		{ STORE_CONTACT_WEBHOOK, "https://chat.x.vn/hooks/1", 0 },
		{ STORE_CONTACT_WEBHOOK, "http://127.0.0.1:8080/", 0 },
		{ STORE_CONTACT_WEBHOOK, "file:///etc/passwd", -1 },
		{ STORE_CONTACT_WEBHOOK, "gopher://x.vn/", -1 },
		{ STORE_CONTACT_WEBHOOK, "https://", -1 },
		{ STORE_CONTACT_WEBHOOK, "https://x.vn/a b", -1 },
		{ STORE_CONTACT_WEBHOOK, "https://x.vn/\r\nHost: y", -1 },
		{ STORE_CONTACT_COMMAND, "/usr/local/bin/page --to 1", 0 },
		{ STORE_CONTACT_COMMAND, "page\nrm -rf /", -1 },
		{ STORE_CONTACTS, "x", -1 },
	};
	char err[300];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		CHECK_INT(store_contact_check(t[i].kind, t[i].v, err,
		    sizeof(err)), t[i].ok);
		if (t[i].ok == -1)
			CHECK(err[0] != '\0');
	}
	store_contact_check(STORE_CONTACT_EMAIL, "a@x.vn\n", err, sizeof(err));
	CHECK(strstr(err, "newline") != NULL);
}

static int
flush(struct store *st, const char *agency, const char *rule, int sev,
    const char *category, int64_t now, int *how)
{
	struct store_flush f;
	int64_t id = 0;

	memset(&f, 0, sizeof(f));
	f.hit.rule_id = rule;
	f.hit.rule_title = "SSH brute force";
	f.hit.rule_level = "high";
	f.hit.severity = sev;
	f.hit.agency = agency;
	f.hit.sensor = "gw1";
	f.hit.group_key = "source.ip=203.0.113.45";
	f.hit.first_ts = now;
	f.hit.last_ts = now;
	f.hit.count = 1;
	f.category = category;
	f.nalerts = 0;
	f.reopen_within_ns = 24 * HOUR;
	f.now_ns = now;
	if (store_incident_flush(st, &f, &id, how) == -1) {
		fprintf(stderr, "flush: %s\n", store_errmsg(st));
		return -1;
	}
	return (int)id;
}

static void
setup(struct store *st)
{
	const char *k[STORE_CONTACTS];

	CHECK_INT(store_agency_add(st, "prov", "Province", NULL, 1), 0);
	CHECK_INT(store_agency_add(st, "a", "A", "prov", 1), 0);
	CHECK_INT(store_agency_add(st, "a1", "A1", "a", 1), 0);
	CHECK_INT(store_agency_add(st, "b", "B", "prov", 1), 0);
	CHECK_INT(store_responder_add(st, "prov", "Lead", NULL, 1), 0);
	CHECK_INT(store_responder_add(st, "a", "An", NULL, 1), 0);
	CHECK_INT(store_responder_add(st, "a1", "Kid", NULL, 1), 0);
	CHECK_INT(store_responder_add(st, "b", "Other", NULL, 1), 0);
	CHECK_INT(store_responder_add(st, "a1", "Nobody", NULL, 1), 0);
	k[0] = "lead@x.vn"; k[1] = NULL; k[2] = NULL;
	CHECK_INT(store_responder_set_contacts(st, "prov", "Lead", k), 0);
	k[0] = "an@x.vn"; k[1] = "https://chat.x.vn/h"; k[2] = NULL;
	CHECK_INT(store_responder_set_contacts(st, "a", "An", k), 0);
	k[0] = "kid@x.vn"; k[1] = NULL;
	CHECK_INT(store_responder_set_contacts(st, "a1", "Kid", k), 0);
	k[0] = "other@x.vn";
	CHECK_INT(store_responder_set_contacts(st, "b", "Other", k), 0);
	/* refused: nothing changes */
	k[0] = "bad@x.vn\nBcc: y@z.vn";
	CHECK_INT(store_responder_set_contacts(st, "b", "Other", k), -1);
	CHECK(strstr(store_errmsg(st), "newline") != NULL);
	CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM responder_contacts"
	    " WHERE email = 'other@x.vn'"), 1);
	k[0] = "x@y.vn";
	CHECK_INT(store_responder_set_contacts(st, "b", "Ghost", k), -1);
	/* a merger drops a duplicate responder, and its contacts with it */
	CHECK_INT(store_agency_add(st, "c", "C", NULL, 1), 0);
	CHECK_INT(store_responder_add(st, "c", "Other", NULL, 1), 0);
	CHECK_INT(store_responder_set_contacts(st, "c", "Other", k), 0);
	CHECK_INT(store_agency_merge(st, "c", "b", NULL), 0);
	CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM responder_contacts"), 4);
}

static void
test_route(struct store *st)
{
	struct store_notify_route r = { 3, "", "prov/Lead" };
	int how, id, id2;

	/* a connection without routing (socctl's) writes nothing */
	CHECK(flush(st, "a1", "r0", 4, "brute_force", T0, &how) > 0);
	CHECK_INT(rows_where("1"), 0);

	store_notify_enable(st, &r);
	/* in a transaction that is undone: nothing */
	CHECK_INT(store_begin(st), 0);
	CHECK(flush(st, "a1", "r1", 3, "brute_force", T0, &how) > 0);
	CHECK(rows_where("1") == 0);	/* not visible to the other connection */
	CHECK_INT(store_rollback(st), 0);
	CHECK_INT(rows_where("1"), 0);

	/* the subtree: a1's Kid, a's An (two contacts), prov's Lead; not b's */
	id = flush(st, "a1", "r1", 3, "brute_force", T0, &how);
	CHECK_INT(how, STORE_FLUSH_CREATED);
	CHECK_INT(rows_where("reason = 'opened'"), 4);
	CHECK_INT(rows_where("responder = 'b/Other' OR responder = 'a1/Nobody'"), 0);
	CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM notify_outbox WHERE"
	    " key = 'soc-%d-opened-' || responder_id || '-' || channel", id), 4);
	/* an update is no news */
	CHECK_INT(flush(st, "a1", "r1", 3, "brute_force", T0 + 1, &how), id);
	CHECK_INT(how, STORE_FLUSH_UPDATED);
	CHECK_INT(rows_where("1"), 4);

	/* below the threshold: nothing, until it rises ("raised", once) */
	id2 = flush(st, "a", "r2", 2, "scan", T0, &how);
	CHECK_INT(rows_where("incident_id = (SELECT max(id) FROM incidents)"), 0);
	CHECK_INT(flush(st, "a", "r2", 3, "scan", T0 + 1, &how), id2);
	CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM notify_outbox WHERE"
	    " incident_id = %d AND reason = 'raised'", id2), 3);
	CHECK_INT(flush(st, "a", "r2", 4, "scan", T0 + 2, &how), id2);
	CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM notify_outbox WHERE"
	    " incident_id = %d", id2), 3);

	/* reopened: a new cause with its own keys */
	CHECK_INT(store_incident_transition(st, id, STORE_ST_RESOLVED, "t", "",
	    T0 + HOUR), 0);
	CHECK_INT(flush(st, "a1", "r1", 3, "brute_force", T0 + 2 * HOUR, &how), id);
	CHECK_INT(how, STORE_FLUSH_REOPENED);
	CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM notify_outbox WHERE"
	    " incident_id = %d AND reason = 'reopened'", id), 4);

	/* categories: only the listed ones */
	r.categories = "scan,intel";
	store_notify_enable(st, &r);
	flush(st, "a1", "r3", 4, "brute_force", T0, &how);
	CHECK_INT(rows_where("incident_id = (SELECT max(id) FROM incidents)"), 0);
	flush(st, "a1", "r4", 4, "intel", T0, &how);
	CHECK_INT(rows_where("incident_id = (SELECT max(id) FROM incidents)"), 4);
	r.categories = "";
	store_notify_enable(st, &r);
}

struct first {
	int64_t		 id;
	int		 attempts;
	int		 n;
};

static int
first_row(void *arg, const struct store_notification *n)
{
	struct first *f = arg;

	if (f->n++ == 0) {
		f->id = n->id;
		f->attempts = n->attempts;
	}
	return 0;
}

static void
test_results(struct store *st)
{
	struct store_notify_status s;
	struct first f = { 0, 0, 0 };
	int64_t first;
	int n;

	CHECK_INT(store_notify_due(st, T0 + 100 * HOUR, 1000, first_row, &f), 0);
	CHECK(f.n == rows_where("state = 'pending'") && f.n > 0);
	/* a failure: retrying, not due before its time */
	CHECK_INT(store_notify_result(st, f.id, 0, "HTTP 500", 1, 2,
	    T0 + 200 * HOUR, T0), 0);
	CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM notify_outbox WHERE"
	    " id = %lld AND state = 'retrying' AND attempts = 1 AND last_error ="
	    " 'HTTP 500'", (long long)f.id), 1);
	memset(&f, 0, sizeof(f));
	store_notify_due(st, T0 + 100 * HOUR, 1000, first_row, &f);
	CHECK(f.n == rows_where("state = 'pending'"));
	/* the last attempt fails: given up */
	CHECK_INT(store_notify_result(st, (int64_t)fx_sql_int(path, "SELECT id"
	    " FROM notify_outbox WHERE state = 'retrying'"), 0, "timed out", 2,
	    2, 0, T0), 0);
	CHECK_INT(rows_where("state = 'given_up'"), 1);
	/* a success */
	memset(&f, 0, sizeof(f));
	store_notify_due(st, T0 + 100 * HOUR, 1, first_row, &f);
	CHECK_INT(store_notify_result(st, f.id, 1, NULL, 1, 2, 0, T0), 0);
	CHECK_INT(rows_where("state = 'sent' AND sent_at IS NOT NULL"), 1);
	/* a sent row is not changed by a late result */
	CHECK_INT(store_notify_result(st, f.id, 0, "late", 2, 2, 0, T0), 0);
	CHECK_INT(rows_where("state = 'sent'"), 1);
	CHECK_INT(store_notify_status_get(st, &s), 0);
	CHECK_INT((int)s.sent, 1);
	CHECK_INT((int)s.failed, 2);	/* the late result is not counted */
	CHECK_INT((int)s.given_up, 1);
	CHECK_INT((int)s.done, 1);
	CHECK_INT((int)s.abandoned, 1);
	CHECK_INT((int)(s.pending + s.retrying), rows_where("state IN"
	    " ('pending', 'retrying')"));

	/* test rows */
	CHECK_INT(store_notify_test(st, "a/An", T0, &first, &n), 0);
	CHECK_INT(n, 2);
	CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM notify_outbox WHERE"
	    " id >= %lld AND reason = 'test' AND incident_id IS NULL",
	    (long long)first), 2);
	CHECK_INT(store_notify_test(st, "Kid", T0 + 1, &first, &n), 0);
	CHECK_INT(n, 1);
	CHECK_INT(store_notify_test(st, "ghost", T0, &first, &n), -1);
	CHECK_INT(store_notify_test(st, "a1/Nobody", T0, &first, &n), -1);
	CHECK(strstr(store_errmsg(st), "no contact") != NULL);
}

static void
test_escalate(struct store *st)
{
	struct store_deadline d;
	int how, id, n;
	int64_t t = T0 + 1000 * HOUR;

	memset(&d, 0, sizeof(d));
	d.severity = 4;
	d.after_ns[STORE_STAGE_INITIAL] = 10 * HOUR;
	CHECK_INT(store_deadline_set(st, &d), 0);
	id = flush(st, "b", "r9", 4, "brute_force", t, &how);
	CHECK(id > 0);
	CHECK_INT(store_notify_escalate(st, t + 4 * HOUR, &n), 0);
	CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM notify_outbox WHERE"
	    " incident_id = %d AND reason LIKE 'half-%%'", id), 0);
	CHECK_INT(store_notify_escalate(st, t + 6 * HOUR, &n), 0);
	CHECK(n >= 1);
	/* the routing again: b's Other and prov's Lead */
	CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM notify_outbox WHERE"
	    " incident_id = %d AND reason = 'half-initial'", id), 2);
	CHECK_INT(store_notify_escalate(st, t + 7 * HOUR, &n), 0);
	CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM notify_outbox WHERE"
	    " incident_id = %d AND reason = 'half-initial'", id), 2);
	CHECK_INT(store_notify_escalate(st, t + 11 * HOUR, &n), 0);
	CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM notify_outbox WHERE"
	    " incident_id = %d AND reason = 'overdue-initial' AND responder ="
	    " 'prov/Lead'", id), 1);
	CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM notify_outbox WHERE"
	    " incident_id = %d AND reason = 'overdue-initial'", id), 1);
	CHECK_INT(store_notify_escalate(st, t + 12 * HOUR, &n), 0);
	CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM notify_escalations"
	    " WHERE incident_id = %d", id), 2);
	/* reported: no more */
	CHECK_INT(store_incident_report(st, id, STORE_STAGE_INITIAL, "t", "",
	    t + 13 * HOUR), 0);
	/* a stage reported in time is never escalated */
	id = flush(st, "b", "r10", 4, "brute_force", t, &how);
	CHECK_INT(store_incident_report(st, id, STORE_STAGE_INITIAL, "t", "",
	    t + HOUR), 0);
	CHECK_INT(store_notify_escalate(st, t + 20 * HOUR, &n), 0);
	CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM notify_escalations"
	    " WHERE incident_id = %d", id), 0);
}

int
main(void)
{
	struct store *st;
	char err[256];

	snprintf(dir, sizeof(dir), "/tmp/test-notify.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/soc.db", dir);
	test_contacts();
	if ((st = store_open(path, STORE_CREATE, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store_open: %s\n", err);
		return 1;
	}
	setup(st);
	test_route(st);
	test_results(st);
	test_escalate(st);
	store_close(st);
	fx_rmtree(dir);
	return check_done();
}
