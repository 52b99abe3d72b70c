/*
 * Incident hit path tests (issue 9): the real ingest against a real
 * SQLite store in a fresh temporary directory, with a two-rule set.
 *
 *  - aggregation: many alerts in one group are one incident write, with
 *    the right count, first and last seen, and exactly the first N and
 *    the latest M events as evidence, also across groups (trimmed);
 *  - a batch undone at its savepoint inside a group leaves none of its
 *    alerts behind (neither in an existing key nor as a new key), also
 *    after the group's sums were written early (a small table);
 *  - reopen: a resolved incident that fires again within reopen_within
 *    is reopened with an audit entry by "correlator"; later, or after a
 *    false positive, a new incident names the earlier one (related);
 *  - category from the rule's tags (and the table itself: first match,
 *    tag prefixes, the shipped file equal to the built-in text, a file
 *    in the rules directory winning over it, a broken one refused);
 *  - a direct UPDATE of status or assignee without its audit row is
 *    refused by the database (a second connection);
 *  - an analyst reopens a closed incident (audited, closed_at cleared,
 *    later hits add to it), refused for an open one or while another
 *    incident of the key is open;
 *  - one agency filling its correlation windows: the built-in eviction
 *    alert becomes an incident through ingest, and the window counters
 *    reach the store for `socctl stats` (corr_windows_save);
 *  - the aggregation table alone: ring of the latest, compaction, a full
 *    table, undo.
 * (A correlation's evidence: test-window-evidence.c.)
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "soc-config.h"
#include "soc/event.h"
#include "soc/util.h"
#include "soc/wire.h"
#include "category.h"
#include "corr-stats.h"
#include "enrich.h"
#include "incident-agg.h"
#include "ingest.h"
#include "rules.h"
#include "store.h"
#include "check.h"
#include "fixture.h"

#define raw_exec(sql)	fx_sql_exec(dbpath, sql)

#define MAPPING		SOC_SRCDIR "/rules/mapping.yml"
#define CATFILE		SOC_SRCDIR "/rules/" CATEGORY_FILE
#define T0	(1700000000LL * 1000000000LL)
#define DAY	(86400LL * 1000000000LL)

static const char rules_yml[] =
	"title: evil marker\n"
	"id: 22222222-2222-4222-8222-222222222222\n"
	"level: high\n"
	"tags:\n  - attack.credential_access\n  - attack.t1110.001\n"
	"logsource:\n  product: linux\n  service: sshd\n"
	"detection:\n  sel:\n    message|contains: EVIL\n  condition: sel\n"
	"---\n"
	"title: odd marker\n"
	"id: 33333333-3333-4333-8333-333333333333\n"
	"level: low\n"
	"logsource:\n  product: linux\n  service: sshd\n"
	"detection:\n  sel:\n    message|contains: ODD\n  condition: sel\n";

#define EVIL_ID	"22222222-2222-4222-8222-222222222222"
#define ODD_ID	"33333333-3333-4333-8333-333333333333"

static char	 dir[64];
static char	 dbpath[128];
static int	 evn;		/* events made so far: message "... n=<evn>" */
static uint64_t	 seqs[2];	/* next batch number of s1, s2 */

static void
on_rule_err(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "rules: %s\n", msg);
}

/* A text result from a second connection (it sees only what is committed). */
static const char *
raw_text(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static const char *
raw_text(const char *fmt, ...)
{
	static char out[4096];
	char sql[1024];
	va_list ap;
	sqlite3 *db;
	sqlite3_stmt *s;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	snprintf(out, sizeof(out), "(error)");
	if (sqlite3_open(dbpath, &db) != SQLITE_OK)
		return out;
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			snprintf(out, sizeof(out), "%s", sqlite3_column_text(s, 0) ?
			    (const char *)sqlite3_column_text(s, 0) : "(null)");
		sqlite3_finalize(s);
	} else
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
	return out;
}

static long long
raw_int(const char *sql)
{
	return strtoll(raw_text("%s", sql), NULL, 10);
}

/* A batch of the next n events, each with the given marker. */
static void
make_batch(struct soc_wbuf *b, int sensor, int n, const char *marker)
{
	static struct soc_event ev;
	char msg[64];
	int i;

	soc_wire_begin(b, SOC_WIRE_EVENTS, ++seqs[sensor]);
	for (i = 0; i < n; i++, evn++) {
		soc_event_reset(&ev);
		ev.ts = T0 + evn * 1000LL;
		soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "log.sshd");
		snprintf(msg, sizeof(msg), "%s n=%d", marker, evn);
		soc_event_set_cstr(&ev, SOC_F_MESSAGE, msg);
		if (soc_wire_add_event(b, &ev) == -1)
			abort();
	}
	soc_wire_set_prev(b->data, b->len, seqs[sensor] - 1);
}

static void
no_reply(void *arg, const struct ingest_reply *r)
{
	(*(int *)arg)++;
	(void)r;
}

static int
feed(struct ingest *in, int sensor, const struct soc_wbuf *b)
{
	const char *name = sensor ? "s2" : "s1";

	return ingest_message(in, name, name, 2, b->data, b->len);
}

/* The event numbers of incident id's evidence, "seq:n,..." in order. */
static const char *
evidence_of(long long id)
{
	return raw_text("SELECT group_concat(seq || ':' || substr(json_extract("
	    "event_json, '$.message'), instr(json_extract(event_json,"
	    " '$.message'), 'n=') + 2), ',') FROM (SELECT * FROM evidence"
	    " WHERE incident_id = %lld ORDER BY seq)", id);
}

static long long
evil_id(const char *status)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT coalesce(max(id), 0) FROM incidents"
	    " WHERE rule_id = '" EVIL_ID "' AND status = '%s'", status);
	return raw_int(sql);
}

static void
setup(struct store **st, struct ruleset **rs, struct rs_scratch **sc,
    struct enrich **en)
{
	const char *dirs[1];
	char path[192], err[256];
	size_t nerr = 0;
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/test-incidents.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(dbpath, sizeof(dbpath), "%s/soc.db", dir);
	snprintf(path, sizeof(path), "%s/rules", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/rules/markers.yml", dir);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fputs(rules_yml, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/rules", dir);
	dirs[0] = path;
	*rs = ruleset_load(dirs, 1, MAPPING, on_rule_err, NULL, &nerr);
	if (*rs == NULL || nerr != 0 || ruleset_count(*rs) != 2) {
		fprintf(stderr, "the test rules did not load\n");
		exit(1);
	}
	if ((*sc = rs_scratch_new(*rs)) == NULL ||
	    (*en = enrich_open(NULL, NULL, err, sizeof(err))) == NULL ||
	    (*st = store_open(dbpath, STORE_CREATE, err, sizeof(err))) == NULL) {
		fprintf(stderr, "setup: %s\n", err);
		exit(1);
	}
	if (store_agency_add(*st, "ag1", "Agency 1", "", T0) == -1 ||
	    store_sensor_enroll(*st, "s1", "ag1", KEY_A, T0) == -1 ||
	    store_sensor_enroll(*st, "s2", "ag1", KEY_B, T0) == -1) {
		fprintf(stderr, "setup: %s\n", store_errmsg(*st));
		exit(1);
	}
}

/*
 * 13 alerts over two batches of one group: one write, count 13, first
 * and last seen from the events, evidence the first 3 and the latest 4.
 * Then 2 more in the next group: the latest 4 move on, the rest trimmed.
 */
static void
test_aggregation(struct ingest *in, struct soc_wbuf *b)
{
	const struct ingest_stats *n = ingest_stats(in);
	uint64_t writes = n->incident_writes;
	long long id;
	int replies = 0;

	CHECK_INT(ingest_set_incident_opts(in, 3, 4, DAY), 0);
	CHECK_INT(ingest_set_incident_opts(in, INGEST_EVIDENCE_MAX + 1, 4, DAY), -1);
	ingest_group_begin(in);
	make_batch(b, 0, 7, "EVIL");		/* events 0..6 */
	CHECK_INT(feed(in, 0, b), INGEST_APPLY);
	make_batch(b, 0, 6, "EVIL");		/* events 7..12 */
	CHECK_INT(feed(in, 0, b), INGEST_APPLY);
	CHECK_INT(raw_int("SELECT count(*) FROM incidents"), 0);
	CHECK_INT(ingest_group_end(in, no_reply, &replies), 0);
	CHECK_INT(replies, 2);
	CHECK_INT(n->incident_writes - writes, 1);
	CHECK_INT(n->alerts, 13);
	CHECK_INT(raw_int("SELECT count(*) FROM incidents"), 1);
	id = evil_id("new");
	CHECK(id > 0);
	CHECK_INT(raw_int("SELECT count FROM incidents"), 13);
	CHECK_INT(raw_int("SELECT first_seen FROM incidents"), T0);
	CHECK_INT(raw_int("SELECT last_seen FROM incidents"), T0 + 12 * 1000);
	CHECK_STR(evidence_of(id), "0:0,1:1,2:2,9:9,10:10,11:11,12:12");
	CHECK_INT(raw_int("SELECT count(*) FROM audit WHERE action = 'created'"), 1);
	CHECK_STR(raw_text("SELECT category FROM incidents"), "brute_force");
	CHECK_STR(raw_text("SELECT coalesce(related, 'none') FROM incidents"), "none");
	/* the evidence is the stamped event, as when it was matched */
	CHECK_STR(raw_text("SELECT json_extract(event_json, '$.observer.name') || '/'"
	    " || json_extract(event_json, '$.organization.id') FROM evidence"
	    " LIMIT 1"), "s1/ag1");

	writes = n->incident_writes;
	ingest_group_begin(in);
	make_batch(b, 0, 2, "EVIL");		/* events 13, 14 */
	CHECK_INT(feed(in, 0, b), INGEST_APPLY);
	CHECK_INT(ingest_group_end(in, no_reply, &replies), 0);
	CHECK_INT(n->incident_writes - writes, 1);
	CHECK_INT(raw_int("SELECT count FROM incidents"), 15);
	CHECK_STR(evidence_of(id), "0:0,1:1,2:2,11:11,12:12,13:13,14:14");
}

/*
 * s2's batch is undone at its savepoint (its sequence number cannot be
 * recorded): neither its alerts on the existing key nor its new key (the
 * odd rule) survive, s1's batch in the same group does; the key comes
 * back cleanly afterwards.
 */
static void
test_batch_undo(struct ingest *in, struct soc_wbuf *b)
{
	long long id = evil_id("new");
	int replies = 0;

	CHECK_INT(raw_exec("CREATE TRIGGER fail_s2 BEFORE UPDATE ON sensors"
	    " WHEN NEW.name = 's2' BEGIN SELECT RAISE(ABORT, 'test'); END"),
	    SQLITE_OK);
	ingest_group_begin(in);
	make_batch(b, 1, 3, "EVIL ODD");	/* 15..17: s2, undone */
	CHECK_INT(feed(in, 1, b), INGEST_APPLY);
	make_batch(b, 0, 2, "EVIL");		/* 18, 19: s1 */
	CHECK_INT(feed(in, 0, b), INGEST_APPLY);
	CHECK_INT(ingest_group_end(in, no_reply, &replies), 0);
	CHECK_INT(replies, 1);
	CHECK_INT(raw_int("SELECT count FROM incidents WHERE rule_id = '"
	    EVIL_ID "'"), 17);
	CHECK_INT(raw_int("SELECT count(*) FROM incidents WHERE rule_id = '"
	    ODD_ID "'"), 0);
	CHECK_STR(evidence_of(id), "0:0,1:1,2:2,13:13,14:14,15:18,16:19");
	CHECK_INT(raw_exec("DROP TRIGGER fail_s2"), SQLITE_OK);

	/* the resend from s2 is applied once, the odd key is new again */
	seqs[1]--;
	evn = 15;
	ingest_group_begin(in);
	make_batch(b, 1, 3, "EVIL ODD");
	CHECK_INT(feed(in, 1, b), INGEST_APPLY);
	CHECK_INT(ingest_group_end(in, no_reply, &replies), 0);
	CHECK_INT(raw_int("SELECT count FROM incidents WHERE rule_id = '"
	    EVIL_ID "'"), 20);
	CHECK_INT(raw_int("SELECT count FROM incidents WHERE rule_id = '"
	    ODD_ID "'"), 3);
	CHECK_STR(raw_text("SELECT category FROM incidents WHERE rule_id = '"
	    ODD_ID "'"), "other");
	evn = 20;
}

/*
 * A table of 3 keys: the group's sums are written early, between
 * batches, once more than 1 key is held; a batch undone after that
 * still leaves nothing behind, and the counts come out right.
 */
static void
test_early_flush(struct ingest *in, struct soc_wbuf *b)
{
	const struct ingest_stats *n = ingest_stats(in);
	uint64_t early = n->early_flushes;
	long long before = raw_int("SELECT sum(count) FROM incidents");
	int replies = 0, i;

	CHECK_INT(ingest_set_agg_limits(in, 3, 1 << 20), 0);
	CHECK_INT(raw_exec("CREATE TRIGGER fail_s2 BEFORE UPDATE ON sensors"
	    " WHEN NEW.name = 's2' BEGIN SELECT RAISE(ABORT, 'test'); END"),
	    SQLITE_OK);
	ingest_group_begin(in);
	for (i = 0; i < 3; i++) {
		make_batch(b, 0, 2, "EVIL");	/* one key */
		CHECK_INT(feed(in, 0, b), INGEST_APPLY);
		make_batch(b, 0, 1, "ODD");	/* another */
		CHECK_INT(feed(in, 0, b), INGEST_APPLY);
	}
	make_batch(b, 1, 4, "EVIL ODD");	/* undone */
	CHECK_INT(feed(in, 1, b), INGEST_APPLY);
	CHECK_INT(ingest_group_end(in, no_reply, &replies), 0);
	CHECK_INT(replies, 6);
	CHECK(n->early_flushes > early);
	CHECK_INT(raw_int("SELECT sum(count) FROM incidents"), before + 9);
	CHECK_INT(raw_exec("DROP TRIGGER fail_s2"), SQLITE_OK);
	seqs[1]--;
	CHECK_INT(ingest_set_agg_limits(in, 8192, 32u << 20), 0);
}

/* One EVIL event from s1 in a group of its own. */
static void
fire(struct ingest *in, struct soc_wbuf *b)
{
	int replies = 0;

	ingest_group_begin(in);
	make_batch(b, 0, 1, "EVIL");
	CHECK_INT(feed(in, 0, b), INGEST_APPLY);
	CHECK_INT(ingest_group_end(in, no_reply, &replies), 0);
	CHECK_INT(replies, 1);
}

static void
test_reopen(struct ingest *in, struct store *st, struct soc_wbuf *b)
{
	const struct ingest_stats *n = ingest_stats(in);
	long long id = evil_id("new"), id2, id3;
	char sql[256];

	/* within the window: the same incident, new again, audited */
	CHECK_INT(store_incident_transition(st, id, STORE_ST_RESOLVED, "alice",
	    "fixed", soc_now_ns()), 0);
	CHECK(raw_int("SELECT closed_at FROM incidents WHERE rule_id = '"
	    EVIL_ID "'") > 0);
	fire(in, b);
	CHECK_INT(evil_id("new"), id);
	CHECK_INT(n->incidents_reopened, 1);
	CHECK_INT(raw_int("SELECT count(*) FROM incidents WHERE rule_id = '"
	    EVIL_ID "'"), 1);
	CHECK_INT(raw_int("SELECT count FROM incidents WHERE rule_id = '"
	    EVIL_ID "'"), 27);
	snprintf(sql, sizeof(sql), "SELECT actor || ':' || action FROM audit"
	    " WHERE incident_id = %lld ORDER BY id DESC LIMIT 1", id);
	CHECK_STR(raw_text("%s", sql), "correlator:reopened");
	CHECK_STR(raw_text("SELECT coalesce(closed_at, 'null') FROM incidents"
	    " WHERE id = %lld", id), "null");

	/* past the window: a new incident naming the resolved one */
	CHECK_INT(store_incident_transition(st, id, STORE_ST_RESOLVED, "alice",
	    "fixed again", soc_now_ns()), 0);
	CHECK_INT(ingest_set_incident_opts(in, 3, 4, 1), 0);
	fire(in, b);
	id2 = evil_id("new");
	CHECK(id2 > id);
	CHECK_INT(raw_int("SELECT related FROM incidents WHERE status = 'new'"
	    " AND rule_id = '" EVIL_ID "'"), id);
	CHECK_INT(raw_int("SELECT count FROM incidents WHERE status = 'new'"
	    " AND rule_id = '" EVIL_ID "'"), 1);
	CHECK_STR(evil_id("resolved") == id ? "resolved" : "?", "resolved");
	CHECK_INT(n->incidents_reopened, 1);

	/* a false positive stays closed, even within the window */
	CHECK_INT(ingest_set_incident_opts(in, 3, 4, DAY), 0);
	CHECK_INT(store_incident_transition(st, id2, STORE_ST_FALSE_POSITIVE,
	    "bob", "noise", soc_now_ns()), 0);
	fire(in, b);
	id3 = evil_id("new");
	CHECK(id3 > id2);
	CHECK_INT(evil_id("false_positive"), id2);
	CHECK_INT(raw_int("SELECT related FROM incidents WHERE status = 'new'"
	    " AND rule_id = '" EVIL_ID "'"), id2);
	CHECK_INT(n->incidents_reopened, 1);
	snprintf(sql, sizeof(sql), "SELECT note FROM audit WHERE incident_id ="
	    " %lld AND action = 'created'", id3);
	CHECK(strstr(raw_text("%s", sql), "related to incident") != NULL);
}

/* Status and assignee change only with their audit row. */
static void
test_audit_guard(struct store *st)
{
	long long id = evil_id("new"), before;
	char sql[256];

	before = raw_int("SELECT count(*) FROM audit");
	snprintf(sql, sizeof(sql), "UPDATE incidents SET status = 'resolved'"
	    " WHERE id = %lld", id);
	CHECK(raw_exec(sql) != SQLITE_OK);
	snprintf(sql, sizeof(sql), "UPDATE incidents SET status = 'acknowledged',"
	    " updated_at = updated_at + 1 WHERE id = %lld", id);
	CHECK(raw_exec(sql) != SQLITE_OK);
	snprintf(sql, sizeof(sql), "UPDATE incidents SET assignee = 'mallory'"
	    " WHERE id = %lld", id);
	CHECK(raw_exec(sql) != SQLITE_OK);
	CHECK_STR(raw_text("SELECT status || '/' || assignee FROM incidents"
	    " WHERE id = %lld", id), "new/");
	CHECK_INT(raw_int("SELECT count(*) FROM audit"), before);
	/* an audit row of another change does not open the door */
	CHECK_INT(store_incident_assign(st, id, "carol", "lead", NULL,
	    T0 + 5), 0);
	snprintf(sql, sizeof(sql), "UPDATE incidents SET status = 'resolved'"
	    " WHERE id = %lld", id);
	CHECK(raw_exec(sql) != SQLITE_OK);
	/* other columns are not guarded; the store's moves still work */
	snprintf(sql, sizeof(sql), "UPDATE incidents SET rule_title = 'x'"
	    " WHERE id = %lld", id);
	CHECK_INT(raw_exec(sql), SQLITE_OK);
	CHECK_INT(store_incident_transition(st, id, STORE_ST_ACKNOWLEDGED,
	    "carol", NULL, T0 + 6), 0);
	CHECK_STR(raw_text("SELECT status || '/' || assignee FROM incidents"
	    " WHERE id = %lld", id), "acknowledged/carol");
}

/* The table in the rules directory wins over the built-in one. */
static void
test_category_file(struct ingest *in, struct store *st, struct soc_wbuf *b)
{
	char path[192], err[256];
	long long id = evil_id("acknowledged");
	FILE *f;

	snprintf(path, sizeof(path), "%s/rules/" CATEGORY_FILE, dir);
	CHECK_INT(ingest_load_categories(in, path, err, sizeof(err)), 0);
	if ((f = fopen(path, "w")) == NULL) {
		CHECK(f != NULL);
		return;
	}
	fputs("attack.credential_access scan\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/rules", dir);
	CHECK_INT(ingest_load_categories(in, path, err, sizeof(err)), 0);
	CHECK_INT(store_incident_transition(st, id, STORE_ST_FALSE_POSITIVE,
	    "bob", NULL, soc_now_ns()), 0);
	fire(in, b);
	CHECK_STR(raw_text("SELECT category FROM incidents WHERE status = 'new'"
	    " AND rule_id = '" EVIL_ID "'"), "scan");
	/* a broken table is refused, the one in use stays */
	snprintf(path, sizeof(path), "%s/rules/" CATEGORY_FILE, dir);
	if ((f = fopen(path, "w")) == NULL)
		return;
	fputs("attack.credential_access nonsense\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/rules", dir);
	CHECK_INT(ingest_load_categories(in, path, err, sizeof(err)), -1);
	CHECK(strstr(err, "unknown category") != NULL);
	CHECK_INT(store_incident_transition(st, evil_id("new"),
	    STORE_ST_FALSE_POSITIVE, "bob", NULL, soc_now_ns()), 0);
	fire(in, b);
	CHECK_STR(raw_text("SELECT category FROM incidents WHERE status = 'new'"
	    " AND rule_id = '" EVIL_ID "'"), "scan");
}

/*
 * A correlation grouped by something unbounded (here the message, distinct
 * per event): one agency's keys past its quota evict its own windows; the
 * engine's eviction alert (RS_RULE_CORR_EVICTION) is an incident of that
 * agency, and the counters reach the store.
 */
static const char evict_yml[] =
	"title: evict base\n"
	"id: 44444444-4444-4444-8444-444444444444\n"
	"name: evict_base\n"
	"level: low\n"
	"logsource:\n  product: linux\n  service: sshd\n"
	"detection:\n  sel:\n    message|contains: FLOOD\n  condition: sel\n"
	"---\n"
	"title: evict by message\n"
	"id: 55555555-5555-4555-8555-555555555555\n"
	"level: medium\n"
	"correlation:\n  type: event_count\n  rules:\n    - evict_base\n"
	"  group-by:\n    - message\n  timespan: 1h\n  condition:\n    gte: 100\n";

static int
window_row(void *arg, const struct store_window_count *w)
{
	struct store_window_count *out = arg;

	if (strcmp(w->agency, "ag1") == 0) {
		*out = *w;
		out->agency = "ag1";
	}
	return 0;
}

static void
test_eviction(struct store *st, struct enrich *en, struct soc_wbuf *b)
{
	struct store_window_count w = { NULL, 0, 0, 0 };
	struct rs_scratch *sc;
	struct ruleset *rs;
	struct ingest *in;
	const char *dirs[1];
	char path[192];
	size_t nerr = 0, held;
	uint64_t evicted;
	FILE *f;
	int i, replies = 0;

	snprintf(path, sizeof(path), "%s/evict", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/evict/flood.yml", dir);
	if ((f = fopen(path, "w")) == NULL) {
		CHECK(f != NULL);
		return;
	}
	fputs(evict_yml, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/evict", dir);
	dirs[0] = path;
	rs = ruleset_load(dirs, 1, MAPPING, on_rule_err, NULL, &nerr);
	if (rs == NULL || nerr != 0 || (sc = rs_scratch_new(rs)) == NULL) {
		CHECK(rs != NULL && nerr == 0);
		return;
	}
	if ((in = ingest_new(st, rs, sc, en)) == NULL)
		abort();
	/* 34 groups of 1000 distinct keys: past the agency's 32768 */
	for (i = 0; i < 34; i++) {
		ingest_group_begin(in);
		make_batch(b, 0, 1000, "FLOOD");
		CHECK_INT(feed(in, 0, b), INGEST_APPLY);
		CHECK_INT(ingest_group_end(in, no_reply, &replies), 0);
	}
	CHECK_INT(replies, 34);
	ruleset_corr_stats(rs, &held, &evicted);
	CHECK(evicted > 0);
	CHECK_STR(raw_text("SELECT agency || '/' || group_key || '/' || category"
	    " FROM incidents WHERE rule_id = '" RS_RULE_CORR_EVICTION "'"),
	    "ag1/organization.id=ag1/other");
	CHECK(raw_int("SELECT count FROM incidents WHERE rule_id = '"
	    RS_RULE_CORR_EVICTION "'") >= 1);

	/* the counters for socctl stats */
	CHECK_INT(corr_windows_save(st, rs, T0 + 7), 0);
	CHECK_INT(store_windows_foreach(st, window_row, &w), 0);
	CHECK_STR(w.agency ? w.agency : "(none)", "ag1");
	CHECK_INT(w.held, held);
	CHECK_INT(w.evicted, evicted);
	CHECK_INT(w.updated_at, T0 + 7);
	CHECK_INT(raw_int("SELECT count(*) FROM corr_windows"), 1);
	/* nothing moved: no write (the stamp stays) */
	CHECK_INT(corr_windows_save(st, rs, T0 + 8), 0);
	CHECK_INT(raw_int("SELECT max(updated_at) FROM corr_windows"), T0 + 7);

	ingest_free(in);
	rs_scratch_free(sc);
	ruleset_free(rs);
}

/* socctl incident reopen: a closed incident back to new by an analyst. */
static void
test_analyst_reopen(struct ingest *in, struct store *st, struct soc_wbuf *b)
{
	long long open = evil_id("new"), fp = evil_id("false_positive"), cnt;
	long long total = raw_int("SELECT count(*) FROM incidents");
	char sql[256];

	CHECK(open > 0 && fp > 0 && fp != open);
	/* an open incident is not reopened */
	CHECK_INT(store_incident_reopen(st, open, "dave", NULL, soc_now_ns()), -1);
	CHECK(strstr(store_errmsg(st), "is open (new)") != NULL);
	/* nor a closed one while its key has another open incident */
	CHECK_INT(store_incident_reopen(st, fp, "dave", NULL, soc_now_ns()), -1);
	CHECK(strstr(store_errmsg(st), "same rule, agency and group key is open")
	    != NULL);
	CHECK_INT(store_incident_reopen(st, 999999, "dave", NULL, soc_now_ns()),
	    -1);
	CHECK(strstr(store_errmsg(st), "no such incident") != NULL);
	CHECK_STR(raw_text("SELECT status FROM incidents WHERE id = %lld", fp),
	    "false_positive");

	CHECK_INT(store_incident_transition(st, open, STORE_ST_RESOLVED, "bob",
	    NULL, soc_now_ns()), 0);
	CHECK_INT(store_incident_reopen(st, fp, "dave", "wrong verdict",
	    soc_now_ns()), 0);
	CHECK_STR(raw_text("SELECT status || '/' || coalesce(closed_at, 'null')"
	    " FROM incidents WHERE id = %lld", fp), "new/null");
	snprintf(sql, sizeof(sql), "SELECT actor || ':' || action || ':' || note"
	    " FROM audit WHERE incident_id = %lld ORDER BY id DESC LIMIT 1", fp);
	CHECK_STR(raw_text("%s", sql),
	    "dave:reopened:was false_positive: wrong verdict");
	/* the key's next hit adds to it: no new incident */
	cnt = raw_int("SELECT count FROM incidents WHERE status = 'new'"
	    " AND rule_id = '" EVIL_ID "'");
	fire(in, b);
	CHECK_INT(evil_id("new"), fp);
	CHECK_INT(raw_int("SELECT count(*) FROM incidents"), total);
	CHECK_INT(raw_int("SELECT count FROM incidents WHERE status = 'new'"
	    " AND rule_id = '" EVIL_ID "'"), cnt + 1);
	/* and the way back to closed is the ordinary one */
	CHECK_INT(store_incident_transition(st, fp, STORE_ST_RESOLVED, "dave",
	    NULL, soc_now_ns()), 0);
}

static void
test_categories(void)
{
	static const char table[] =
	    "# comment\n\n"
	    "attack.t1110\tbrute_force  # a comment\n"
	    "attack.t1046 scan\n"
	    "attack.credential_access intrusion\n"
	    "policy* policy\n";
	struct category_map *m;
	char err[256], *buf;
	FILE *f;
	long sz;

	m = category_parse(table, sizeof(table) - 1, "t", err, sizeof(err));
	CHECK(m != NULL);
	CHECK_INT(category_lines(m), 4);
	/* first line that matches wins, whatever the order of the tags */
	CHECK_STR(category_of(m, "attack.credential_access,attack.t1110.001"),
	    "brute_force");
	CHECK_STR(category_of(m, "attack.credential_access"), "intrusion");
	CHECK_STR(category_of(m, "ATTACK.T1046"), "scan");
	/* a tag and the tags below it, not a longer name */
	CHECK_STR(category_of(m, "attack.t11101"), "other");
	CHECK_STR(category_of(m, "policy_no_telnet"), "policy");
	CHECK_STR(category_of(m, ""), "other");
	CHECK_STR(category_of(NULL, "attack.t1110"), "other");
	category_free(m);
	CHECK(category_parse("attack.x nosuch\n", 16, "t", err,
	    sizeof(err)) == NULL);
	CHECK(strstr(err, "t:1: unknown category \"nosuch\"") != NULL);
	CHECK(category_parse("attack.x\n", 9, "t", err, sizeof(err)) == NULL);
	CHECK(category_parse("a scan extra\n", 13, "t", err, sizeof(err)) == NULL);
	CHECK(category_load("/nonexistent/categories.txt", err, sizeof(err)) == NULL);
	CHECK_STR(category_code("data_leak"), "data_leak");
	CHECK(category_code("leak") == NULL);
	CHECK_STR(category_name(0), "brute_force");
	CHECK(category_name(CATEGORY_COUNT) == NULL);

	/* the shipped table loads and is the built-in one, word for word */
	m = category_load(CATFILE, err, sizeof(err));
	CHECK(m != NULL);
	CHECK_STR(category_of(m, "attack.reconnaissance,attack.t1595.002"), "scan");
	CHECK_STR(category_of(m, "attack.command_and_control,attack.t1071.004"),
	    "malware");
	CHECK_STR(category_of(m, "soc.category.defacement"), "defacement");
	category_free(m);
	if ((f = fopen(CATFILE, "r")) == NULL) {
		CHECK(f != NULL);
		return;
	}
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)sz + 1);
	CHECK(buf != NULL && fread(buf, 1, (size_t)sz, f) == (size_t)sz);
	fclose(f);
	CHECK(buf != NULL && strcmp(buf, category_default_text) == 0);
	free(buf);
}

struct got_out {
	int	n;
	char	text[512];
};

static int
agg_collect(void *arg, const struct agg_out *o)
{
	struct got_out *g = arg;
	size_t i, len = strlen(g->text);

	len += snprintf(g->text + len, sizeof(g->text) - len, "%s%s:%llu:",
	    g->n++ ? ";" : "", o->group_key, (unsigned long long)o->count);
	/* each event by its first byte */
	for (i = 0; i < o->nfirst && len + 2 < sizeof(g->text); i++)
		g->text[len++] = o->ev_first[i] ? o->ev_first[i][0] : '-';
	if (len + 2 < sizeof(g->text))
		g->text[len++] = '/';
	for (i = 0; i < o->nlast && len + 2 < sizeof(g->text); i++)
		g->text[len++] = o->ev_last[i] ? o->ev_last[i][0] : '-';
	g->text[len] = '\0';
	return 0;
}

/* The table alone: 3 keys, a 4 kB arena that compacts. */
static void
test_agg(void)
{
	static const struct rule *r = (const struct rule *)&evn;
	struct got_out g;
	struct agg *a;
	char ev[2];
	int i;

	if ((a = agg_new(3, 4096)) == NULL) {
		CHECK(a != NULL);
		return;
	}
	agg_set_evidence(a, 2, 3);
	ev[1] = '\0';
	/* 40 events of 600 bytes would not fit without compaction */
	for (i = 0; i < 40; i++) {
		static char big[601];

		ev[0] = (char)('a' + i % 26);
		memset(big, ev[0], sizeof(big) - 1);
		CHECK_INT(agg_add(a, r, "ag", "s", "k1", T0 + i, T0 + i, 2, 1,
		    (uint64_t)i, "", 0, i < 38 ? big : ev, i < 38 ? sizeof(big) - 1 : 1), 0);
		if (i == 37) {
			/* the latest of the first 38 are kept whole */
			agg_batch_end(a, 1);
		}
	}
	CHECK_INT(agg_add(a, r, "ag", "s", "k2", T0, T0, 1, 1, 100, "", 0, "x", 1), 0);
	CHECK_INT(agg_add(a, r, "ag", "s", "k3", T0, T0, 1, 1, 101, "", 0, "y", 1), 0);
	CHECK_INT(agg_add(a, r, "ag", "s", "k4", T0, T0, 1, 1, 102, "", 0, "z", 1), -1);
	CHECK_INT(agg_keys(a), 3);
	agg_batch_end(a, 0);		/* k2, k3 and events 38, 39 undone */
	CHECK_INT(agg_keys(a), 1);
	CHECK_INT(agg_dropped(a), 0);
	CHECK_INT(agg_add(a, r, "ag", "s", "k2", T0, T0, 1, 1, 103, "", 0, "w", 1), 0);
	agg_batch_end(a, 1);
	memset(&g, 0, sizeof(g));
	CHECK_INT(agg_flush(a, agg_collect, &g), 0);
	CHECK_INT(g.n, 2);
	/* k1: 38 alerts of count 2, the first two and the latest three */
	CHECK_STR(g.text, "k1:76:ab/jkl;k2:1:w/w");
	CHECK_INT(agg_keys(a), 0);
	agg_free(a);
}

int
main(void)
{
	struct store *st;
	struct ruleset *rs;
	struct rs_scratch *sc;
	struct enrich *en;
	struct ingest *in;
	struct soc_wbuf b;

	test_categories();
	test_agg();
	setup(&st, &rs, &sc, &en);
	if ((in = ingest_new(st, rs, sc, en)) == NULL)
		abort();
	soc_wbuf_init(&b);
	test_aggregation(in, &b);
	test_batch_undo(in, &b);
	test_early_flush(in, &b);
	test_reopen(in, st, &b);
	test_audit_guard(st);
	test_category_file(in, st, &b);
	test_analyst_reopen(in, st, &b);
	test_eviction(st, en, &b);

	soc_wbuf_free(&b);
	ingest_free(in);
	store_close(st);
	rs_scratch_free(sc);
	ruleset_free(rs);
	enrich_close(en);
	fx_rmtree(dir);
	return check_done();
}
