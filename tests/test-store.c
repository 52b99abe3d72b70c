/*
 * Unit tests for the incident store and the coverage report, against a
 * real SQLite file in a fresh temporary directory: schema creation and
 * versioning, sensor lookup and sequence tracking, aggregation of hits,
 * the evidence bound, the audit trail, the incident state machine, the
 * four coverage layers on crafted data, the listings of agencies,
 * responders and assessments, and group commit (batches as savepoints in
 * one transaction, one undone alone).  Times are fixed, not read from
 * the clock, except where the store stamps created_at itself.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "fixture.h"

#define raw_exec(sql)	fx_sql_exec(path, sql)
#define raw_int(sql)	fx_sql_int(path, "%s", sql)
#include "store.h"
#include "store-query.h"
#include "soc/util.h"

#define HOUR	(3600 * SOC_NS)

static char dir[64];
static char path[128];

static struct store *
reopen(struct store *st, int flags)
{
	char err[256];

	store_close(st);
	st = store_open(path, flags, err, sizeof(err));
	if (st == NULL)
		fprintf(stderr, "store_open: %s\n", err);
	return st;
}

static void
test_open(void)
{
	struct store *st;
	char err[256], junk[160];
	FILE *f;

	err[0] = '\0';
	st = store_open(path, 0, err, sizeof(err));
	CHECK(st == NULL);
	CHECK(strstr(err, "No such file") != NULL);
	st = store_open(path, STORE_READONLY, err, sizeof(err));
	CHECK(st == NULL);

	st = store_open(path, STORE_CREATE, err, sizeof(err));
	CHECK(st != NULL);
	store_close(st);
	CHECK_INT(raw_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	CHECK_INT(raw_int("SELECT count(*) FROM sqlite_schema WHERE name IN"
	    " ('agencies','sensors','incidents','evidence','audit','responders',"
	    "'assessments','outbox')"), 8);
	CHECK_INT(raw_int("SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);

	/* Opening again (and read-only) finds the schema as it is. */
	st = store_open(path, STORE_CREATE, err, sizeof(err));
	CHECK(st != NULL);
	store_close(st);
	st = store_open(path, STORE_READONLY, err, sizeof(err));
	CHECK(st != NULL);
	store_close(st);

	/* A file that is not SQLite, a foreign SQLite file, a newer schema. */
	snprintf(junk, sizeof(junk), "%s/junk.db", dir);
	if ((f = fopen(junk, "w")) != NULL) {
		fputs("this is not a database, just some text long enough ......"
		    "..........................................................",
		    f);
		fclose(f);
	}
	st = store_open(junk, 0, err, sizeof(err));
	CHECK(st == NULL);
	CHECK(strstr(err, "not an SQLite database") != NULL);
	unlink(junk);

	snprintf(junk, sizeof(junk), "%s/other.db", dir);
	{
		sqlite3 *db;
		sqlite3_open(junk, &db);
		sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	st = store_open(junk, STORE_CREATE, err, sizeof(err));
	CHECK(st == NULL);
	CHECK(strstr(err, "not a SOC database") != NULL);
	unlink(junk);

	CHECK_INT(raw_exec("PRAGMA user_version = 99"), SQLITE_OK);
	st = store_open(path, 0, err, sizeof(err));
	CHECK(st == NULL);
	CHECK(strstr(err, "newer") != NULL);
	snprintf(junk, sizeof(junk), "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
	raw_exec(junk);
}

static void
test_agencies_sensors(struct store *st)
{
	struct store_sensor s;

	CHECK_INT(store_agency_add(st, "stttt", "Sở Thông tin và Truyền thông",
	    NULL, 1), 0);
	CHECK_INT(store_agency_add(st, "ubnd", "Ủy ban nhân dân tỉnh", "", 1), 0);
	CHECK_INT(store_agency_add(st, "px1", "Phường 1", "ubnd", 1), 0);
	CHECK_INT(store_agency_add(st, "stttt", "dup", NULL, 1), -1);
	CHECK(strstr(store_errmsg(st), "already exists") != NULL);
	CHECK_INT(store_agency_add(st, "x", "X", "nope", 1), -1);
	CHECK(strstr(store_errmsg(st), "no such parent") != NULL);
	CHECK_INT(store_agency_exists(st, "ubnd"), 1);
	CHECK_INT(store_agency_exists(st, "nope"), 0);

	CHECK_INT(store_sensor_enroll(st, "gw1", "stttt", KEY_A, 10), 0);
	CHECK_INT(store_sensor_enroll(st, "gw2", "nope", KEY_B, 10), -1);
	CHECK(strstr(store_errmsg(st), "no such agency") != NULL);
	CHECK_INT(store_sensor_enroll(st, "gw2", "ubnd", "short", 10), -1);
	CHECK(strstr(store_errmsg(st), "Z85") != NULL);
	CHECK_INT(store_sensor_enroll(st, "gw2", "ubnd", KEY_A, 10), -1);
	CHECK(strstr(store_errmsg(st), "already enrolled for sensor 'gw1'") != NULL);
	CHECK_INT(store_sensor_enroll(st, "gw1", "ubnd", KEY_B, 10), -1);
	CHECK_INT(store_sensor_enroll(st, "gw2", "ubnd", KEY_B, 10), 0);
	CHECK_INT(store_sensor_enroll(st, "gw3", "px1", KEY_C, 10), 0);

	CHECK_INT(store_sensor_by_key(st, KEY_A, &s), 1);
	CHECK_STR(s.name, "gw1");
	CHECK_STR(s.agency, "stttt");
	CHECK_INT(s.revoked, 0);
	CHECK_INT(s.last_seq, 0);
	CHECK_INT(s.last_heartbeat, 0);
	CHECK_INT(store_sensor_by_key(st, "0000000000000000000000000000000000000000",
	    &s), 0);
	CHECK_INT(store_sensor_by_name(st, "gw2", &s), 1);
	CHECK_STR(s.pubkey, KEY_B);
	CHECK_INT(store_sensor_by_name(st, "nope", &s), 0);

	/* Sequence tracking: what the correlator reads back after a restart. */
	CHECK_INT(store_sensor_set_seq(st, "gw1", 7, 100, 1000), 0);
	CHECK_INT(store_sensor_set_seq(st, "gw1", 8, 50, 2000), 0);
	CHECK_INT(store_sensor_set_seq(st, "nope", 1, 1, 1), -1);
	CHECK_INT(store_sensor_heartbeat(st, "gw1", 3000, "{\"captured\":5}"), 0);
	CHECK_INT(store_sensor_heartbeat(st, "nope", 3000, NULL), -1);
	st = reopen(st, 0);
	CHECK_INT(store_sensor_by_name(st, "gw1", &s), 1);
	CHECK_INT(s.last_seq, 8);
	CHECK_INT(s.last_heartbeat, 3000);
	CHECK_INT(raw_int("SELECT events_received * 10 + batches FROM sensors"
	    " WHERE name = 'gw1'"), 1502);

	CHECK_INT(store_sensor_revoke(st, "gw3", 50), 1);
	CHECK_INT(store_sensor_revoke(st, "nope", 50), 0);
	CHECK_INT(store_sensor_by_key(st, KEY_C, &s), 1);
	CHECK_INT(s.revoked, 1);
	store_close(st);
}

static struct store_hit
mkhit(const char *rule, const char *group, int sev, int64_t t0, int64_t t1,
    uint64_t count)
{
	struct store_hit h;

	memset(&h, 0, sizeof(h));
	h.rule_id = rule;
	h.rule_title = "SSH brute force";
	h.rule_level = "high";
	h.rule_author = "tester";
	h.severity = sev;
	h.agency = "stttt";
	h.sensor = "gw1";
	h.group_key = group;
	h.first_ts = t0;
	h.last_ts = t1;
	h.count = count;
	h.evidence_json = "{\"event\":{\"kind\":\"event\"}}";
	return h;
}

struct inc_copy {
	int		 n;
	int64_t		 id;
	int		 status, severity;
	uint64_t	 count, evidence;
	int64_t		 first, last;
	char		 assignee[64];
	char		 level[32];
};

static int
inc_copy(void *arg, const struct store_incident *in)
{
	struct inc_copy *c = arg;

	c->n++;
	c->id = in->id;
	c->status = in->status;
	c->severity = in->severity;
	c->count = in->count;
	c->evidence = in->evidence;
	c->first = in->first_seen;
	c->last = in->last_seen;
	snprintf(c->assignee, sizeof(c->assignee), "%s", in->assignee);
	snprintf(c->level, sizeof(c->level), "%s", in->rule_level);
	return 0;
}

struct audit_copy {
	int	 n;
	char	 actions[512];
};

static int
audit_copy(void *arg, const struct store_audit *a)
{
	struct audit_copy *c = arg;
	size_t len = strlen(c->actions);

	c->n++;
	snprintf(c->actions + len, sizeof(c->actions) - len, "%s%s",
	    len ? "," : "", a->action);
	return 0;
}

static int
count_evidence(void *arg, int seq, const char *json, int valid)
{
	int *n = arg;

	(void)seq;
	(void)json;
	(*n)++;
	return valid ? 0 : -1;
}

static void
test_incidents(struct store *st)
{
	struct store_hit h;
	struct inc_copy c;
	struct audit_copy a;
	int64_t id, id2, id3, idx;
	int created, i, n;

	/* Two hits on the same key aggregate. */
	h = mkhit("r-ssh", "source.ip=10.0.0.5", 2, 100, 200, 3);
	CHECK_INT(store_incident_hit(st, &h, &id, &created), 0);
	CHECK_INT(created, 1);
	h = mkhit("r-ssh", "source.ip=10.0.0.5", 3, 50, 150, 4);
	CHECK_INT(store_incident_hit(st, &h, &id2, &created), 0);
	CHECK_INT(created, 0);
	CHECK_INT(id2, id);
	memset(&c, 0, sizeof(c));
	CHECK_INT(store_incident_get(st, id, inc_copy, &c), 1);
	CHECK_INT(c.count, 7);
	CHECK_INT(c.first, 50);
	CHECK_INT(c.last, 200);
	CHECK_INT(c.severity, 3);
	CHECK_INT(c.status, STORE_ST_NEW);
	CHECK_INT(c.evidence, 2);
	CHECK_STR(c.level, "high");
	/* A lower severity later does not lower it. */
	h = mkhit("r-ssh", "source.ip=10.0.0.5", 1, 300, 300, 1);
	CHECK_INT(store_incident_hit(st, &h, &id2, &created), 0);
	memset(&c, 0, sizeof(c));
	store_incident_get(st, id, inc_copy, &c);
	CHECK_INT(c.severity, 3);
	CHECK_INT(c.last, 300);
	memset(&a, 0, sizeof(a));
	CHECK_INT(store_audit_foreach(st, id, audit_copy, &a), 0);
	CHECK_STR(a.actions, "created,escalated");

	/* Another group key, another rule: separate incidents. */
	h = mkhit("r-ssh", "source.ip=10.0.0.6", 2, 100, 100, 1);
	CHECK_INT(store_incident_hit(st, &h, &id2, &created), 0);
	CHECK(id2 != id && created == 1);
	h = mkhit("r-web", "", 4, 100, 100, 1);
	h.evidence_json = NULL;
	CHECK_INT(store_incident_hit(st, &h, &id3, &created), 0);
	CHECK(id3 != id && id3 != id2 && created == 1);

	/* The evidence bound. */
	for (i = 0; i < STORE_EVIDENCE_MAX + 5; i++) {
		h = mkhit("r-ssh", "source.ip=10.0.0.6", 2, 100 + i, 100 + i, 1);
		CHECK_INT(store_incident_hit(st, &h, &idx, &created), 0);
	}
	n = 0;
	CHECK_INT(store_evidence_foreach(st, id2, count_evidence, &n), 0);
	CHECK_INT(n, STORE_EVIDENCE_MAX);
	memset(&c, 0, sizeof(c));
	store_incident_get(st, id2, inc_copy, &c);
	CHECK_INT(c.count, STORE_EVIDENCE_MAX + 6);
	CHECK_INT(c.evidence, STORE_EVIDENCE_MAX);

	/* A hit inside the caller's transaction goes away with a rollback. */
	CHECK_INT(store_begin(st), 0);
	h = mkhit("r-gone", "", 2, 1, 1, 1);
	CHECK_INT(store_incident_hit(st, &h, &idx, &created), 0);
	CHECK_INT(store_rollback(st), 0);
	CHECK_INT(store_incident_get(st, idx, inc_copy, &c), 0);
	/* ... and a failing hit leaves the caller's transaction usable. */
	CHECK_INT(store_begin(st), 0);
	h = mkhit("r-bad", "", 2, 1, 1, 1);
	h.agency = "no-such-agency";
	CHECK_INT(store_incident_hit(st, &h, &idx, &created), -1);
	CHECK_INT(created, 0);
	CHECK_INT(store_sensor_set_seq(st, "gw1", 9, 1, 5000), 0);
	CHECK_INT(store_commit(st), 0);

	/* The state machine. */
	CHECK_INT(store_incident_transition(st, id, STORE_ST_ACKNOWLEDGED, "an",
	    "looking", 10), 0);
	CHECK_INT(store_incident_transition(st, id, STORE_ST_ACKNOWLEDGED, "an",
	    NULL, 11), -1);
	CHECK(strstr(store_errmsg(st), "already acknowledged") != NULL);
	CHECK_INT(store_incident_transition(st, id, STORE_ST_NEW, "an", NULL, 11), -1);
	CHECK(strstr(store_errmsg(st), "cannot go back") != NULL);
	CHECK_INT(store_incident_assign(st, id, "binh", "an", NULL, 12), 0);
	CHECK_INT(store_incident_assign(st, id, "binh", "an", NULL, 12), -1);
	CHECK_INT(store_incident_transition(st, id, STORE_ST_INVESTIGATING, "binh",
	    NULL, 13), 0);
	CHECK_INT(store_incident_transition(st, id, STORE_ST_ACKNOWLEDGED, "binh",
	    NULL, 14), -1);
	CHECK_INT(store_incident_note(st, id, "binh", "blocked at firewall", 15), 0);
	CHECK_INT(store_incident_transition(st, id, STORE_ST_RESOLVED, "binh",
	    "done", 16), 0);
	CHECK_INT(store_incident_transition(st, id, STORE_ST_FALSE_POSITIVE, "binh",
	    NULL, 17), -1);
	CHECK(strstr(store_errmsg(st), "closed") != NULL);
	CHECK_INT(store_incident_assign(st, id, "chi", "an", NULL, 18), -1);
	CHECK_INT(store_incident_transition(st, 9999, STORE_ST_RESOLVED, "an",
	    NULL, 18), -1);
	CHECK(strstr(store_errmsg(st), "no such incident 9999") != NULL);
	CHECK_INT(store_incident_note(st, 9999, "an", "x", 18), -1);
	memset(&c, 0, sizeof(c));
	store_incident_get(st, id, inc_copy, &c);
	CHECK_INT(c.status, STORE_ST_RESOLVED);
	CHECK_STR(c.assignee, "binh");
	memset(&a, 0, sizeof(a));
	store_audit_foreach(st, id, audit_copy, &a);
	CHECK_STR(a.actions, "created,escalated,acknowledged,assigned,"
	    "investigating,note,resolved");
	/* Triage may close a false positive straight from new. */
	CHECK_INT(store_incident_transition(st, id3, STORE_ST_FALSE_POSITIVE, "an",
	    NULL, 19), 0);

	/* After resolution the same key opens a new incident. */
	h = mkhit("r-ssh", "source.ip=10.0.0.5", 2, 400, 400, 1);
	CHECK_INT(store_incident_hit(st, &h, &idx, &created), 0);
	CHECK(idx != id);
	CHECK_INT(created, 1);

	/* The audit trail refuses to be rewritten. */
	CHECK(raw_exec("UPDATE audit SET actor = 'mallory'") != SQLITE_OK);
	CHECK(raw_exec("DELETE FROM audit") != SQLITE_OK);
	CHECK(raw_int("SELECT count(*) FROM audit") >= 10);
	/* And the schema keeps one open incident per key. */
	CHECK(raw_exec("UPDATE incidents SET status = 'new'") != SQLITE_OK);
}

static int
count_inc(void *arg, const struct store_incident *in)
{
	(void)in;
	(*(int *)arg)++;
	return 0;
}

static void
test_filters(struct store *st)
{
	struct store_incident_filter f;
	int n;

	store_incident_filter_init(&f);
	n = 0;
	CHECK_INT(store_incident_foreach(st, &f, count_inc, &n), 0);
	CHECK_INT(n, 4);
	f.open_only = 1;
	n = 0;
	store_incident_foreach(st, &f, count_inc, &n);
	CHECK_INT(n, 2);
	store_incident_filter_init(&f);
	f.status = STORE_ST_FALSE_POSITIVE;
	n = 0;
	store_incident_foreach(st, &f, count_inc, &n);
	CHECK_INT(n, 1);
	store_incident_filter_init(&f);
	f.min_severity = 4;
	n = 0;
	store_incident_foreach(st, &f, count_inc, &n);
	CHECK_INT(n, 1);
	store_incident_filter_init(&f);
	f.since_ns = 350;
	n = 0;
	store_incident_foreach(st, &f, count_inc, &n);
	CHECK_INT(n, 1);
	store_incident_filter_init(&f);
	f.agency = "ubnd";
	n = 0;
	store_incident_foreach(st, &f, count_inc, &n);
	CHECK_INT(n, 0);
	store_incident_filter_init(&f);
	f.limit = 2;
	n = 0;
	store_incident_foreach(st, &f, count_inc, &n);
	CHECK_INT(n, 2);
}

static void
test_names(void)
{
	static const struct {
		int from, to, ok;
	} tr[] = {
		{ STORE_ST_NEW, STORE_ST_ACKNOWLEDGED, 1 },
		{ STORE_ST_NEW, STORE_ST_RESOLVED, 1 },
		{ STORE_ST_NEW, STORE_ST_NEW, 0 },
		{ STORE_ST_ACKNOWLEDGED, STORE_ST_INVESTIGATING, 1 },
		{ STORE_ST_ACKNOWLEDGED, STORE_ST_NEW, 0 },
		{ STORE_ST_INVESTIGATING, STORE_ST_FALSE_POSITIVE, 1 },
		{ STORE_ST_INVESTIGATING, STORE_ST_ACKNOWLEDGED, 0 },
		{ STORE_ST_RESOLVED, STORE_ST_FALSE_POSITIVE, 0 },
		{ STORE_ST_FALSE_POSITIVE, STORE_ST_RESOLVED, 0 },
		{ STORE_ST_NEW, STORE_ST_COUNT, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(tr) / sizeof(tr[0]); i++)
		CHECK_INT(store_status_allowed(tr[i].from, tr[i].to), tr[i].ok);
	CHECK_INT(store_status_parse("false-positive"), STORE_ST_FALSE_POSITIVE);
	CHECK_INT(store_status_parse("investigating"), STORE_ST_INVESTIGATING);
	CHECK_INT(store_status_parse("bogus"), -1);
	CHECK_STR(store_status_name(STORE_ST_ACKNOWLEDGED), "acknowledged");
	CHECK_INT(store_severity_parse("HIGH"), 3);
	CHECK_INT(store_severity_parse("2"), 2);
	CHECK_INT(store_severity_parse("5"), -1);
	CHECK_INT(store_severity_parse("info"), 0);
	CHECK_STR(store_severity_name(4), "critical");
	CHECK_STR(store_severity_name(9), "?");
	CHECK_STR(store_layer_name(3), "national connection");
	CHECK_STR(store_layer_name(STORE_LAYERS), "?");
	CHECK_STR(store_layer_state_name(STORE_LAYER_DEGRADED), "degraded");
	CHECK_STR(store_layer_state_name(-1), "?");
}

struct cov_copy {
	char		 agency[8][16];
	int		 state[8][STORE_LAYERS];
	char		 reason[8][STORE_LAYERS][192];
	int		 covered[8];
	int		 n;
};

static int
cov_copy(void *arg, const struct store_coverage *c)
{
	struct cov_copy *x = arg;
	int i;

	if (x->n >= 8)
		return 0;
	snprintf(x->agency[x->n], sizeof(x->agency[0]), "%s", c->agency);
	for (i = 0; i < STORE_LAYERS; i++) {
		x->state[x->n][i] = c->state[i];
		memcpy(x->reason[x->n][i], c->reason[i], sizeof(c->reason[i]));
	}
	x->covered[x->n] = c->covered;
	x->n++;
	return 0;
}

static int
cov_find(struct cov_copy *x, const char *agency)
{
	int i;

	for (i = 0; i < x->n; i++)
		if (strcmp(x->agency[i], agency) == 0)
			return i;
	return 0;
}

/*
 * Crafted data at now = 1000h: stttt has a responder, gw1 heard 1m ago
 * and a valid assessment; ubnd's only sensor gw2 went silent 2h ago, its
 * assessment expired; px1's only sensor is revoked.  Incidents of stttt
 * are stamped with the real clock, so the ack check sees them as fresh.
 */
static void
test_coverage(struct store *st)
{
	struct store_coverage_opts o;
	struct cov_copy x;
	size_t ncov, ntot;
	int64_t now = 1000 * HOUR;
	int i;

	CHECK_INT(store_responder_add(st, "stttt", "Nguyễn Văn An", "0912", 1), 0);
	CHECK_INT(store_responder_add(st, "stttt", "Nguyễn Văn An", "", 1), -1);
	CHECK_INT(store_responder_add(st, "nope", "x", "", 1), -1);
	CHECK_INT(store_assessment_add(st, "stttt", "VNCERT", now - 10 * HOUR,
	    now + 100 * HOUR), 0);
	CHECK_INT(store_assessment_add(st, "ubnd", "VNCERT", now - 100 * HOUR,
	    now - 10 * HOUR), 0);
	CHECK_INT(store_assessment_add(st, "ubnd", "VNCERT", now, now - 1), -1);
	CHECK_INT(store_sensor_heartbeat(st, "gw1", now - 60 * SOC_NS, NULL), 0);
	CHECK_INT(store_sensor_heartbeat(st, "gw2", now - 2 * HOUR, NULL), 0);

	store_coverage_opts_init(&o);
	o.now_ns = now;
	o.ack_max_ns = 0;
	memset(&x, 0, sizeof(x));
	CHECK_INT(store_coverage(st, &o, cov_copy, &x, &ncov, &ntot), 0);
	CHECK_INT(ntot, 3);
	CHECK_INT(ncov, 0);
	i = cov_find(&x, "stttt");
	CHECK_INT(x.state[i][0], STORE_LAYER_OK);
	CHECK_STR(x.reason[i][0], "responder Nguyễn Văn An on record");
	CHECK_INT(x.state[i][1], STORE_LAYER_OK);
	CHECK_STR(x.reason[i][1], "sensor gw1 heard 1m ago");
	CHECK_INT(x.state[i][2], STORE_LAYER_OK);
	CHECK(strstr(x.reason[i][2], "by VNCERT, valid until") != NULL);
	CHECK_INT(x.state[i][3], STORE_LAYER_MISSING);
	CHECK_STR(x.reason[i][3], "forwarding not configured");
	i = cov_find(&x, "ubnd");
	CHECK_INT(x.state[i][0], STORE_LAYER_MISSING);
	CHECK_STR(x.reason[i][0], "no responder on record");
	CHECK_INT(x.state[i][1], STORE_LAYER_DEGRADED);
	CHECK_STR(x.reason[i][1], "sensor gw2 silent for 2h");
	CHECK_INT(x.state[i][2], STORE_LAYER_MISSING);
	CHECK(strstr(x.reason[i][2], "expired") != NULL);
	i = cov_find(&x, "px1");
	CHECK_INT(x.state[i][1], STORE_LAYER_MISSING);
	CHECK_STR(x.reason[i][1], "no sensor enrolled (1 revoked)");
	CHECK_STR(x.reason[i][2], "no assessment on record");

	/* With forwarding, stttt is fully covered: 1 of 3. */
	{
		struct store_forward_conf fc = { .endpoint = "tcp://national:7600",
		    .origin = "lamdong-soc", .min_severity = 2,
		    .ack_within_ns = 600 * SOC_NS,
		    .max_backlog_age_ns = 3600 * SOC_NS, .max_pending = 1000 };

		CHECK_INT(store_forward_configure(st, &fc, now), 0);
		CHECK_INT(store_outbox_acked(st, NULL, 0, now), 0);
	}
	memset(&x, 0, sizeof(x));
	CHECK_INT(store_coverage(st, &o, cov_copy, &x, &ncov, &ntot), 0);
	CHECK_INT(ncov, 1);
	CHECK_INT(x.covered[cov_find(&x, "stttt")], 1);

	/* Capture loss reported in heartbeats degrades layer 2. */
	CHECK_INT(store_sensor_heartbeat(st, "gw1", now - 30 * SOC_NS,
	    "{\"packets\":900,\"kernel_dropped\":100}"), 0);
	memset(&x, 0, sizeof(x));
	store_coverage(st, &o, cov_copy, &x, NULL, NULL);
	i = cov_find(&x, "stttt");
	CHECK_INT(x.state[i][1], STORE_LAYER_DEGRADED);
	CHECK_STR(x.reason[i][1], "sensor gw1 loses 10.0% of packets in capture");
	CHECK_INT(store_sensor_heartbeat(st, "gw1", now - 30 * SOC_NS,
	    "{\"packets\":100000,\"kernel_dropped\":3,\"batches_dropped\":2}"), 0);
	memset(&x, 0, sizeof(x));
	store_coverage(st, &o, cov_copy, &x, NULL, NULL);
	CHECK_STR(x.reason[i][1], "sensor gw1 dropped 2 batches (queue or spool full)");
	/* Live syslog senders closed for newcomers (TCP churn) too, while
	 * recent: the sensor's 15-minute counts, not its totals (M4). */
	CHECK_INT(store_sensor_heartbeat(st, "gw1", now - 30 * SOC_NS,
	    "{\"packets\":100000,\"syslog_tcp_evicted_senders\":4,"
	    "\"syslog_tcp_evicted_senders_15m\":4}"), 0);
	memset(&x, 0, sizeof(x));
	store_coverage(st, &o, cov_copy, &x, NULL, NULL);
	CHECK_INT(x.state[i][1], STORE_LAYER_DEGRADED);
	CHECK_STR(x.reason[i][1], "sensor gw1 closed 4 live syslog TCP senders"
	    " to make room in 15 minutes (connection churn)");
	CHECK_INT(store_sensor_heartbeat(st, "gw1", now - 30 * SOC_NS,
	    "{\"packets\":100000,\"syslog_tcp_rejected\":3,"
	    "\"syslog_tcp_rejected_15m\":3}"), 0);
	memset(&x, 0, sizeof(x));
	store_coverage(st, &o, cov_copy, &x, NULL, NULL);
	CHECK_INT(x.state[i][1], STORE_LAYER_DEGRADED);
	CHECK_STR(x.reason[i][1], "sensor gw1 refused 3 syslog TCP connections"
	    " in 15 minutes (every slot held by a live sender)");
	/* ... and recovers once they are old, the totals staying */
	CHECK_INT(store_sensor_heartbeat(st, "gw1", now - 30 * SOC_NS,
	    "{\"packets\":100000,\"syslog_tcp_rejected\":3,"
	    "\"syslog_tcp_evicted_senders\":4,\"syslog_tcp_rejected_15m\":0,"
	    "\"syslog_tcp_evicted_senders_15m\":0}"), 0);
	memset(&x, 0, sizeof(x));
	store_coverage(st, &o, cov_copy, &x, NULL, NULL);
	CHECK_INT(x.state[i][1], STORE_LAYER_OK);
	CHECK_INT(store_sensor_heartbeat(st, "gw1", now - 60 * SOC_NS,
	    "{\"packets\":100000,\"kernel_dropped\":3}"), 0);
	memset(&x, 0, sizeof(x));
	store_coverage(st, &o, cov_copy, &x, NULL, NULL);
	CHECK_INT(x.state[i][1], STORE_LAYER_OK);

	/* The heartbeat threshold is a parameter. */
	o.heartbeat_max_ns = 3 * HOUR;
	memset(&x, 0, sizeof(x));
	store_coverage(st, &o, cov_copy, &x, NULL, NULL);
	CHECK_INT(x.state[cov_find(&x, "ubnd")][1], STORE_LAYER_OK);

	/* A new incident left unacknowledged degrades layer 1. */
	o.heartbeat_max_ns = 5 * 60 * SOC_NS;
	o.now_ns = soc_now_ns() + 48 * HOUR;
	o.ack_max_ns = 24 * HOUR;
	memset(&x, 0, sizeof(x));
	store_coverage(st, &o, cov_copy, &x, NULL, NULL);
	i = cov_find(&x, "stttt");
	CHECK_INT(x.state[i][0], STORE_LAYER_DEGRADED);
	CHECK(strstr(x.reason[i][0], "2 incidents not acknowledged") != NULL);
	/* gw1 went quiet meanwhile. */
	CHECK_INT(x.state[i][1], STORE_LAYER_DEGRADED);
}

/* A foreach callback that re-enters the same listing (the temp copy path). */
static int
nested_inner(void *arg, const struct store_sensor_info *s)
{
	(void)s;
	(*(int *)arg)++;
	return 0;
}

struct nested {
	struct store	*st;
	int		 outer, inner;
};

static int
nested_outer(void *arg, const struct store_sensor_info *s)
{
	struct nested *n = arg;

	(void)s;
	n->outer++;
	return store_sensor_foreach(n->st, NULL, nested_inner, &n->inner);
}

static void
test_stats_nested(struct store *st)
{
	struct store_stats ss;
	struct nested n;

	CHECK_INT(store_stats_get(st, &ss), 0);
	CHECK_INT(ss.agencies, 3);
	CHECK_INT(ss.sensors, 2);
	CHECK_INT(ss.sensors_revoked, 1);
	CHECK_INT(ss.events_received, 151);
	CHECK_INT(ss.batches, 3);
	CHECK_INT(ss.incidents, 4);
	CHECK_INT(ss.by_status[STORE_ST_RESOLVED], 1);
	CHECK_INT(ss.by_status[STORE_ST_NEW], 2);
	CHECK_INT(ss.by_severity[4], 1);
	CHECK_INT(ss.forwarded, 0);

	memset(&n, 0, sizeof(n));
	n.st = st;
	CHECK_INT(store_sensor_foreach(st, NULL, nested_outer, &n), 0);
	CHECK_INT(n.outer, 3);
	CHECK_INT(n.inner, 9);
}

/* Group commit: batches share one transaction, an undone one goes alone. */
static void
test_batches(struct store *st)
{
	struct store_sensor s;
	struct store_hit h;
	int64_t id;
	uint64_t seq0;
	long long b0;
	int created;

	CHECK_INT(store_sensor_by_name(st, "gw1", &s), 1);
	seq0 = s.last_seq;
	b0 = raw_int("SELECT batches FROM sensors WHERE name = 'gw1'");
	CHECK_INT(store_begin(st), 0);
	CHECK_INT(store_batch_begin(st), 0);
	h = mkhit("r-batch", "k1", 2, 10, 20, 1);
	CHECK_INT(store_incident_hit(st, &h, &id, &created), 0);
	CHECK_INT(created, 1);
	CHECK_INT(store_sensor_set_seq(st, "gw1", seq0 + 1, 5, 100), 0);
	CHECK_INT(store_batch_end(st, 0), 0);

	/* A hit the schema refuses undoes itself only; then the batch goes. */
	CHECK_INT(store_batch_begin(st), 0);
	h = mkhit("r-batch", "k2", 2, 10, 20, 1);
	CHECK_INT(store_incident_hit(st, &h, &id, &created), 0);
	CHECK_INT(store_sensor_set_seq(st, "gw1", seq0 + 2, 5, 200), 0);
	h.agency = "nope";
	CHECK_INT(store_incident_hit(st, &h, &id, &created), -1);
	CHECK_INT(created, 0);
	CHECK_INT(store_sensor_by_name(st, "gw1", &s), 1);
	CHECK_INT(s.last_seq, seq0 + 2);
	CHECK_INT(store_batch_end(st, 1), 0);
	CHECK_INT(store_sensor_by_name(st, "gw1", &s), 1);
	CHECK_INT(s.last_seq, seq0 + 1);

	/* Sequence numbers near and at 2^64 - 1 round-trip. */
	CHECK_INT(store_batch_begin(st), 0);
	CHECK_INT(store_sensor_set_seq(st, "gw2", UINT64_MAX - (1ULL << 32), 1,
	    300), 0);
	CHECK_INT(store_sensor_by_name(st, "gw2", &s), 1);
	CHECK(s.last_seq == UINT64_MAX - (1ULL << 32));
	CHECK_INT(store_sensor_set_seq(st, "gw2", UINT64_MAX, 1, 300), 0);
	CHECK_INT(store_batch_end(st, 0), 0);
	CHECK_INT(store_commit(st), 0);

	/* Another connection sees batches 1 and 3, not 2. */
	CHECK_INT(raw_int("SELECT last_seq FROM sensors WHERE name = 'gw1'"),
	    (long long)seq0 + 1);
	CHECK_INT(raw_int("SELECT batches FROM sensors WHERE name = 'gw1'"), b0 + 1);
	CHECK_INT(raw_int("SELECT count(*) FROM incidents WHERE rule_id ="
	    " 'r-batch'"), 1);
	CHECK_INT(store_sensor_by_name(st, "gw2", &s), 1);
	CHECK(s.last_seq == UINT64_MAX);
	/* Ending a batch that was never begun is an error, not a no-op. */
	CHECK_INT(store_batch_end(st, 0), -1);
	CHECK(strstr(store_errmsg(st), "savepoint") != NULL);
}

static void
test_audit(struct store *st)
{
	struct audit_copy a;
	long long n0 = raw_int("SELECT count(*) FROM audit");

	CHECK_INT(store_audit_add(st, 0, "admin", "enrolled", NULL, 77), 0);
	CHECK_INT(store_audit_add(st, 0, "admin", "revoked", "lost", 78), 0);
	CHECK_INT(store_audit_add(st, 999999, "admin", "note", "x", 79), -1);
	CHECK(strstr(store_errmsg(st), "audit") != NULL);
	memset(&a, 0, sizeof(a));
	CHECK_INT(store_audit_foreach(st, 0, audit_copy, &a), 0);
	CHECK_STR(a.actions, "enrolled,revoked");
	CHECK_INT(raw_int("SELECT count(*) FROM audit WHERE incident_id IS NULL"
	    " AND note = '' AND at = 77"), 1);
	memset(&a, 0, sizeof(a));
	CHECK_INT(store_audit_foreach(st, -1, audit_copy, &a), 0);
	CHECK_INT(a.n, n0 + 2);
}

struct rec_copy {
	int	 n, stop;
	char	 text[512];
};

static void
rec_add(struct rec_copy *c, const char *fmt, ...)
{
	size_t len = strlen(c->text);
	va_list ap;

	if (len > 0 && len < sizeof(c->text) - 1)
		c->text[len++] = ',';
	va_start(ap, fmt);
	vsnprintf(c->text + len, sizeof(c->text) - len, fmt, ap);
	va_end(ap);
	c->n++;
}

static int
agency_copy(void *arg, const struct store_agency *a)
{
	struct rec_copy *c = arg;

	rec_add(c, "%s:%s:%llu:%llu", a->code, a->parent,
	    (unsigned long long)a->sensors,
	    (unsigned long long)a->open_incidents);
	return c->n == c->stop ? 7 : 0;
}

static int
responder_copy(void *arg, const struct store_responder *r)
{
	rec_add(arg, "%s/%s/%s", r->agency, r->name, r->contact);
	return 0;
}

static int
assessment_copy(void *arg, const struct store_assessment *a)
{
	rec_add(arg, "%s/%s/%lld", a->agency, a->assessor,
	    (long long)(a->expires_at / HOUR));
	return 0;
}

/* Agencies, responders and assessments as listed (after test_coverage). */
static void
test_records(struct store *st)
{
	struct rec_copy c;
	int64_t now = 1000 * HOUR;

	memset(&c, 0, sizeof(c));
	CHECK_INT(store_agency_foreach(st, agency_copy, &c), 0);
	CHECK_STR(c.text, "px1:ubnd:0:0,stttt::1:2,ubnd::1:0");
	memset(&c, 0, sizeof(c));
	c.stop = 1;
	CHECK_INT(store_agency_foreach(st, agency_copy, &c), 7);
	CHECK_INT(c.n, 1);

	CHECK_INT(store_responder_add(st, "ubnd", "Trần Thị Bình", NULL, 2), 0);
	memset(&c, 0, sizeof(c));
	CHECK_INT(store_responder_foreach(st, NULL, responder_copy, &c), 0);
	CHECK_STR(c.text, "stttt/Nguyễn Văn An/0912,ubnd/Trần Thị Bình/");
	memset(&c, 0, sizeof(c));
	CHECK_INT(store_responder_foreach(st, "ubnd", responder_copy, &c), 0);
	CHECK_INT(c.n, 1);
	memset(&c, 0, sizeof(c));
	CHECK_INT(store_responder_foreach(st, "px1", responder_copy, &c), 0);
	CHECK_INT(c.n, 0);

	CHECK_INT(store_assessment_add(st, "stttt", "CERT2", now, now + 200 * HOUR),
	    0);
	memset(&c, 0, sizeof(c));
	CHECK_INT(store_assessment_foreach(st, "stttt", assessment_copy, &c), 0);
	CHECK_STR(c.text, "stttt/CERT2/1200,stttt/VNCERT/1100");
	memset(&c, 0, sizeof(c));
	CHECK_INT(store_assessment_foreach(st, NULL, assessment_copy, &c), 0);
	CHECK_STR(c.text, "stttt/CERT2/1200,stttt/VNCERT/1100,ubnd/VNCERT/990");
}

static void
cleanup(void)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char p[200];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
}

int
main(void)
{
	struct store *st;

	snprintf(dir, sizeof(dir), "/tmp/test-store.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/soc.db", dir);

	test_names();
	test_open();
	st = reopen(NULL, STORE_CREATE);
	CHECK(st != NULL);
	if (st == NULL)
		goto out;
	test_agencies_sensors(st);
	st = reopen(NULL, 0);
	CHECK(st != NULL);
	if (st == NULL)
		goto out;
	test_incidents(st);
	test_filters(st);
	test_coverage(st);
	test_stats_nested(st);
	test_audit(st);
	test_records(st);
	test_batches(st);
	store_close(st);

	/* Readers see the writer's data through a read-only handle. */
	st = reopen(NULL, STORE_READONLY);
	CHECK(st != NULL);
	if (st != NULL)
		CHECK_INT(store_agency_add(st, "ro", "read-only", NULL, 1), -1);
	store_close(st);
out:
	cleanup();
	return check_done();
}
