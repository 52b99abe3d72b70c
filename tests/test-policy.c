/*
 * Unit tests for the store's security levels, reporting deadlines and
 * agency tree (store-policy.c, store-agency.c, and their part of
 * coverage.c), against a real SQLite file in a fresh temporary directory:
 * systems and the sensor's system, the level policy raising an incident's
 * severity when it opens and when it escalates, deadlines per severity
 * and the stages met, the overdue test (function and SQL condition),
 * assessments whose expiry follows the agency's highest level, the
 * coverage roll-up, rename, move (cycles refused) and merge, and the
 * migration of a version 1 database.  A file of its own: test-store.c is
 * near the size limit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "fixture.h"

#define raw_exec(sql)	fx_sql_exec(path, sql)
#define raw_int(sql)	fx_sql_int(path, "%s", sql)
#include "schema-down.h"
#include "store.h"
#include "store-query.h"
#include "soc/util.h"

#define HOUR	(3600 * SOC_NS)
#define DAY	(24 * HOUR)

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

/* Collects "a,b,c" from callbacks. */
struct text {
	char	 s[1024];
};

static void
text_add(struct text *t, const char *fmt, const char *a, long long b)
{
	size_t n = strlen(t->s);

	snprintf(t->s + n, sizeof(t->s) - n, fmt, n ? "," : "", a, b);
}

static int
system_text(void *arg, const struct store_system *y)
{
	char one[160];

	snprintf(one, sizeof(one), "%s/%s", y->agency, y->code);
	text_add(arg, "%s%s:%lld", one, y->level * 10 + (long long)y->sensors);
	return 0;
}

static void
test_systems(struct store *st)
{
	struct store_sensor sen;
	struct text t;
	char code[64];
	int level;

	CHECK_INT(store_agency_add(st, "prov", "Tỉnh", NULL, 1), 0);
	CHECK_INT(store_agency_add(st, "a1", "Sở A", "prov", 1), 0);
	CHECK_INT(store_agency_add(st, "a2", "Sở B", "prov", 1), 0);
	CHECK_INT(store_agency_add(st, "c1", "Xã C", "a1", 1), 0);

	CHECK_INT(store_system_add(st, "a1", "web", "Cổng thông tin", 4, 5), 0);
	CHECK_INT(store_system_add(st, "a1", "mail", "Thư điện tử", 2, 5), 0);
	CHECK_INT(store_system_add(st, "a2", "db", "Cơ sở dữ liệu", 5, 5), 0);
	CHECK_INT(store_system_add(st, "a1", "web", "again", 3, 5), -1);
	CHECK(strstr(store_errmsg(st), "already has a system 'web'") != NULL);
	CHECK_INT(store_system_add(st, "a1", "x", "X", 6, 5), -1);
	CHECK(strstr(store_errmsg(st), "level must be 1 to 5") != NULL);
	CHECK_INT(store_system_add(st, "a1", "x", "X", 0, 5), -1);
	CHECK_INT(store_system_add(st, "nope", "x", "X", 1, 5), -1);
	CHECK(strstr(store_errmsg(st), "no such agency") != NULL);
	CHECK_INT(store_system_add(st, "a1", "", "X", 1, 5), -1);
	CHECK_INT(store_system_add(st, "a1", "a b\"", "X", 1, 5), -1);
	CHECK(strstr(store_errmsg(st), "letters, digits") != NULL);

	CHECK_INT(store_sensor_enroll(st, "gw1", "a1", KEY_A, 10), 0);
	CHECK_INT(store_sensor_enroll(st, "gw2", "a2", KEY_B, 10), 0);
	CHECK_INT(store_sensor_enroll(st, "gw3", "c1", KEY_C, 10), 0);
	CHECK_INT(store_sensor_set_system(st, "gw1", "web"), 0);
	CHECK_INT(store_sensor_set_system(st, "gw2", "db"), 0);
	/* a system of another agency is refused */
	CHECK_INT(store_sensor_set_system(st, "gw3", "web"), -1);
	CHECK(strstr(store_errmsg(st), "agency c1 has no system 'web'") != NULL);
	CHECK_INT(store_sensor_set_system(st, "nope", "web"), -1);
	CHECK(strstr(store_errmsg(st), "no such sensor") != NULL);

	CHECK_INT(store_sensor_system(st, "gw1", code, sizeof(code), &level), 1);
	CHECK_STR(code, "web");
	CHECK_INT(level, 4);
	CHECK_INT(store_sensor_system(st, "gw3", code, sizeof(code), &level), 0);
	CHECK_STR(code, "");
	CHECK_INT(level, 0);
	CHECK_INT(store_sensor_by_name(st, "gw2", &sen), 1);
	CHECK_STR(sen.system, "db");
	CHECK_INT(sen.system_level, 5);
	CHECK_INT(store_sensor_by_key(st, KEY_C, &sen), 1);
	CHECK_STR(sen.system, "");
	CHECK_INT(sen.system_level, 0);

	memset(&t, 0, sizeof(t));
	CHECK_INT(store_system_foreach(st, NULL, system_text, &t), 0);
	CHECK_STR(t.s, "a1/mail:20,a1/web:41,a2/db:51");
	memset(&t, 0, sizeof(t));
	CHECK_INT(store_system_foreach(st, "a2", system_text, &t), 0);
	CHECK_STR(t.s, "a2/db:51");

	CHECK_INT(store_agency_level(st, "a1", &level), 0);
	CHECK_INT(level, 4);
	CHECK_INT(store_agency_level(st, "c1", &level), 0);
	CHECK_INT(level, 0);

	/* untying; then tie again */
	CHECK_INT(store_sensor_set_system(st, "gw1", ""), 0);
	CHECK_INT(store_sensor_system(st, "gw1", code, sizeof(code), &level), 0);
	CHECK_INT(store_sensor_set_system(st, "gw1", "web"), 0);
}

static int
level_text(void *arg, const struct store_level_policy *p)
{
	char one[32];

	snprintf(one, sizeof(one), "%d:%d:%d", p->level, p->raise_by,
	    p->min_severity);
	text_add(arg, "%s%s/%lld", one, p->assessment_months);
	return 0;
}

static void
test_levels(struct store *st)
{
	struct store_level_policy p;
	struct text t;
	int sev;

	memset(&t, 0, sizeof(t));
	CHECK_INT(store_level_policy_foreach(st, level_text, &t), 0);
	CHECK_STR(t.s, "1:0:0/24,2:0:0/24,3:0:0/24,4:1:0/12,5:2:0/6");
	CHECK_INT(store_level_policy_get(st, 4, &p), 1);
	CHECK_INT(p.raise_by, 1);
	CHECK_INT(store_level_policy_get(st, 9, &p), 0);

	/* level 4 one step, level 5 two, capped at critical */
	CHECK_INT(store_severity_for_level(st, 2, 4, &sev), 0);
	CHECK_INT(sev, 3);
	CHECK_INT(store_severity_for_level(st, 2, 5, &sev), 0);
	CHECK_INT(sev, 4);
	CHECK_INT(store_severity_for_level(st, 4, 5, &sev), 0);
	CHECK_INT(sev, 4);
	CHECK_INT(store_severity_for_level(st, 1, 3, &sev), 0);
	CHECK_INT(sev, 1);
	CHECK_INT(store_severity_for_level(st, 1, 0, &sev), 0);
	CHECK_INT(sev, 1);

	p = (struct store_level_policy){ 3, 0, 2, 18 };
	CHECK_INT(store_level_policy_set(st, &p), 0);
	CHECK_INT(store_severity_for_level(st, 0, 3, &sev), 0);
	CHECK_INT(sev, 2);
	p = (struct store_level_policy){ 3, 5, 0, 18 };
	CHECK_INT(store_level_policy_set(st, &p), -1);
	p = (struct store_level_policy){ 3, 0, 0, 0 };
	CHECK_INT(store_level_policy_set(st, &p), -1);
	p = (struct store_level_policy){ 3, 0, 0, 24 };
	CHECK_INT(store_level_policy_set(st, &p), 0);
}

static struct store_hit
mkhit(const char *rule, const char *sensor, const char *agency, int sev)
{
	struct store_hit h;

	memset(&h, 0, sizeof(h));
	h.rule_id = rule;
	h.rule_title = rule;
	h.severity = sev;
	h.agency = agency;
	h.sensor = sensor;
	h.group_key = "k";
	h.first_ts = h.last_ts = 1000;
	h.count = 1;
	return h;
}

static int
incident_copy(void *arg, const struct store_incident *in)
{
	struct store_incident *out = arg;

	*out = *in;
	out->system_code = strdup(in->system_code);
	return 0;
}

/* Severity, system and level of incident id, as "high web 4". */
static void
incident_desc(struct store *st, int64_t id, char *buf, size_t len,
    int64_t *created)
{
	struct store_incident in;

	memset(&in, 0, sizeof(in));
	if (store_incident_get(st, id, incident_copy, &in) != 1) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "%s %s %d", store_severity_name(in.severity),
	    in.system_code[0] ? in.system_code : "-", in.system_level);
	if (created != NULL)
		*created = in.created_at;
	free((char *)in.system_code);
}

static void
test_hits(struct store *st, int64_t ids[4])
{
	struct store_hit h;
	char d[64];
	int64_t id;
	int created;

	/* gw1 watches a1/web, level 4: medium opens as high */
	h = mkhit("r-med", "gw1", "a1", 2);
	CHECK_INT(store_incident_hit(st, &h, &ids[0], &created), 0);
	CHECK_INT(created, 1);
	incident_desc(st, ids[0], d, sizeof(d), NULL);
	CHECK_STR(d, "high web 4");
	/* an escalation is raised too: high on level 4 is critical */
	h.severity = 3;
	CHECK_INT(store_incident_hit(st, &h, &ids[0], &created), 0);
	CHECK_INT(created, 0);
	incident_desc(st, ids[0], d, sizeof(d), NULL);
	CHECK_STR(d, "critical web 4");

	/* gw2 watches a2/db, level 5: low opens as high */
	h = mkhit("r-low", "gw2", "a2", 1);
	CHECK_INT(store_incident_hit(st, &h, &ids[1], &created), 0);
	incident_desc(st, ids[1], d, sizeof(d), NULL);
	CHECK_STR(d, "high db 5");

	/* gw3 has no system: no raise, no system */
	h = mkhit("r-med", "gw3", "c1", 2);
	CHECK_INT(store_incident_hit(st, &h, &ids[2], &created), 0);
	incident_desc(st, ids[2], d, sizeof(d), NULL);
	CHECK_STR(d, "medium - 0");
	CHECK_INT(raw_int("SELECT count(*) FROM incidents WHERE system_code IS NULL"
	    " AND system_level IS NULL"), 1);

	/* the hit path may hand the system over itself */
	h = mkhit("r-info", "gw3", "c1", 0);
	h.system_code = "db";
	h.system_level = 5;
	CHECK_INT(store_incident_hit(st, &h, &ids[3], &created), 0);
	incident_desc(st, ids[3], d, sizeof(d), NULL);
	CHECK_STR(d, "medium db 5");
	/* ... or say there is none, without a lookup */
	h = mkhit("r-none", "gw1", "a1", 1);
	h.system_code = "";
	CHECK_INT(store_incident_hit(st, &h, &id, &created), 0);
	incident_desc(st, id, d, sizeof(d), NULL);
	CHECK_STR(d, "low - 0");
}

static int
deadline_text(void *arg, const struct store_deadline *d)
{
	char one[64];

	snprintf(one, sizeof(one), "%d:%lld:%lld", d->severity,
	    (long long)(d->after_ns[0] / HOUR), (long long)(d->after_ns[1] / HOUR));
	text_add(arg, "%s%s:%lld", one, d->after_ns[2] / HOUR);
	return 0;
}

struct dl_seen {
	char		 s[512];
	int64_t		 base;
};

static int
dl_state(void *arg, const struct store_deadline_state *d)
{
	struct dl_seen *x = arg;
	size_t n = strlen(x->s);

	snprintf(x->s + n, sizeof(x->s) - n, "%s%s:%lld:%s:%s%s", n ? "," : "",
	    store_stage_name(d->stage),
	    d->due ? (long long)((d->due - x->base) / SOC_NS) : -1LL,
	    d->done ? "done" : "open", d->by[0] ? d->by : "-",
	    d->overdue ? ":OVERDUE" : "");
	return 0;
}

static void
test_deadlines(struct store *st, const int64_t ids[4])
{
	struct store_deadline d;
	struct dl_seen x;
	struct text t;
	char desc[64];
	int64_t c0, c2;

	CHECK_STR(store_stage_name(STORE_STAGE_DETAILS), "details");
	CHECK_INT(store_stage_parse("final"), STORE_STAGE_FINAL);
	CHECK_INT(store_stage_parse("later"), -1);

	memset(&t, 0, sizeof(t));
	CHECK_INT(store_deadline_foreach(st, deadline_text, &t), 0);
	CHECK_STR(t.s, "4:24:72:120,3:24:72:120,2:120:0:120,1:0:0:0,0:0:0:0");

	/* policy of seconds for high */
	CHECK_INT(store_deadline_get(st, 3, &d), 1);
	d.after_ns[STORE_STAGE_INITIAL] = 2 * SOC_NS;
	d.after_ns[STORE_STAGE_DETAILS] = 0;
	CHECK_INT(store_deadline_set(st, &d), 0);
	CHECK_INT(store_deadline_get(st, 3, &d), 1);
	CHECK_INT(d.after_ns[0], 2 * SOC_NS);
	CHECK_INT(d.after_ns[1], 0);
	CHECK_INT(d.after_ns[2], 120 * HOUR);
	d.after_ns[0] = -1;
	CHECK_INT(store_deadline_set(st, &d), -1);
	d.severity = 7;
	CHECK_INT(store_deadline_set(st, &d), -1);

	/* ids[1]: high (level 5 raised a low), opened c0 */
	incident_desc(st, ids[1], desc, sizeof(desc), &c0);
	memset(&x, 0, sizeof(x));
	x.base = c0;
	CHECK_INT(store_incident_deadlines(st, ids[1], c0 + SOC_NS, dl_state, &x), 0);
	CHECK_STR(x.s, "initial:2:open:-,final:-1:open:-");
	CHECK_INT(store_incident_overdue(st, ids[1], c0 + SOC_NS), 0);
	CHECK_INT(store_incident_overdue(st, ids[1], c0 + 3 * SOC_NS), 1);
	memset(&x, 0, sizeof(x));
	x.base = c0;
	CHECK_INT(store_incident_deadlines(st, ids[1], c0 + 3 * SOC_NS, dl_state,
	    &x), 0);
	CHECK_STR(x.s, "initial:2:open:-:OVERDUE,final:-1:open:-");

	/* the SQL condition agrees, as a list filter would use it */
	CHECK_INT(store_incident_overdue(st, ids[2], c0 + 30 * DAY), 1);
	CHECK_INT(store_incident_overdue(st, 9999, c0), 0);

	/* meeting the stage clears it; once only; unknown incident */
	CHECK_INT(store_incident_report(st, ids[1], STORE_STAGE_INITIAL, "lan",
	    "sent to VNCERT", c0 + 4 * SOC_NS), 0);
	CHECK_INT(store_incident_report(st, ids[1], STORE_STAGE_INITIAL, "lan",
	    NULL, c0 + 5 * SOC_NS), -1);
	CHECK(strstr(store_errmsg(st), "already on record (by lan)") != NULL);
	CHECK_INT(store_incident_report(st, 9999, STORE_STAGE_INITIAL, "lan",
	    NULL, c0), -1);
	CHECK(strstr(store_errmsg(st), "no such incident") != NULL);
	CHECK_INT(store_incident_report(st, ids[1], 5, "lan", NULL, c0), -1);
	CHECK_INT(store_incident_overdue(st, ids[1], c0 + 10 * SOC_NS), 0);
	CHECK_INT(raw_int("SELECT count(*) FROM audit WHERE action = 'reported'"
	    " AND note = 'initial report: sent to VNCERT'"), 1);

	/* the final report is due 5 days after the latest resolution */
	CHECK_INT(store_incident_transition(st, ids[1], STORE_ST_RESOLVED, "lan",
	    NULL, c0 + 20 * SOC_NS), 0);
	memset(&x, 0, sizeof(x));
	x.base = c0;
	CHECK_INT(store_incident_deadlines(st, ids[1], c0 + 30 * SOC_NS, dl_state,
	    &x), 0);
	CHECK_STR(x.s, "initial:2:done:lan,final:432020:open:-");
	CHECK_INT(store_incident_overdue(st, ids[1], c0 + 20 * SOC_NS + 5 * DAY
	    - SOC_NS), 0);
	CHECK_INT(store_incident_overdue(st, ids[1], c0 + 21 * SOC_NS + 5 * DAY), 1);
	CHECK_INT(store_incident_report(st, ids[1], STORE_STAGE_FINAL, "lan",
	    NULL, c0 + 40 * SOC_NS), 0);
	CHECK_INT(store_incident_overdue(st, ids[1], c0 + 30 * DAY), 0);

	/* medium: initial 5 days; a false positive is never overdue */
	incident_desc(st, ids[2], desc, sizeof(desc), &c2);
	CHECK_INT(store_incident_overdue(st, ids[2], c2 + 5 * DAY + SOC_NS), 1);
	CHECK_INT(store_incident_transition(st, ids[2], STORE_ST_FALSE_POSITIVE,
	    "lan", NULL, c2 + 1), 0);
	CHECK_INT(store_incident_overdue(st, ids[2], c2 + 5 * DAY + SOC_NS), 0);
	memset(&x, 0, sizeof(x));
	x.base = c2;
	CHECK_INT(store_incident_deadlines(st, ids[2], c2 + 6 * DAY, dl_state, &x), 0);
	CHECK_STR(x.s, "initial:432000:open:-,final:-1:open:-");

	/* low and informational: no deadlines; a stage reported anyway shows */
	d = (struct store_deadline){ 0, { 0, 0, 0 } };
	CHECK_INT(store_deadline_set(st, &d), 0);
	CHECK_INT(store_incident_deadlines(st, 9999, c0, dl_state, &x), -1);
}

static int
assessment_first(void *arg, const struct store_assessment *a)
{
	*(struct store_assessment *)arg = *a;
	return 1;
}

/* Expiry of the agency's latest assessment, as YYYY-MM-DD UTC. */
static void
expiry(struct store *st, const char *agency, char *buf, size_t len, int *by_level)
{
	struct store_assessment a;
	time_t t;
	struct tm tm;

	memset(&a, 0, sizeof(a));
	store_assessment_foreach(st, agency, assessment_first, &a);
	t = (time_t)(a.expires_at / SOC_NS);
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d", &tm);
	*by_level = a.by_level;
}

struct cov_seen {
	char	 s[1024];
};

static int
cov_text(void *arg, const struct store_coverage *c)
{
	struct cov_seen *x = arg;
	size_t n = strlen(x->s);

	snprintf(x->s + n, sizeof(x->s) - n, "%s%s:L%d:%c:%zu/%zu:%s",
	    n ? "," : "", c->agency, c->level, c->covered ? 'Y' : 'n',
	    c->sub_covered, c->sub_total, store_layer_state_name(c->state[2]));
	return 0;
}

/* Every layer ok for agency code (with a fresh sensor of key). */
static void
make_covered(struct store *st, const char *code, int64_t now)
{
	CHECK_INT(store_responder_add(st, code, "Trực ban", "", now), 0);
	CHECK_INT(store_assessment_add(st, code, "VNCERT", now - DAY, 0), 0);
}

static void
test_assessments_coverage(struct store *st)
{
	struct store_coverage_opts o;
	struct cov_seen x;
	struct store_level_policy p;
	char d[32];
	int by;
	/* 2026-01-31T00:00:00Z */
	int64_t t0 = (int64_t)1769817600 * SOC_NS;
	int64_t now = soc_now_ns();

	/* a1's highest level is 4: 12 months; a2's is 5: 6 months; c1 has
	 * no system: level 1's 24 months; an expiry given wins */
	CHECK_INT(store_assessment_add(st, "a1", "VNCERT", t0, 0), 0);
	CHECK_INT(store_assessment_add(st, "a2", "VNCERT", t0, 0), 0);
	CHECK_INT(store_assessment_add(st, "c1", "VNCERT", t0, 0), 0);
	CHECK_INT(store_assessment_add(st, "prov", "VNCERT", t0, t0 + 10 * DAY), 0);
	CHECK_INT(store_assessment_add(st, "prov", "VNCERT", t0, t0), -1);
	expiry(st, "a1", d, sizeof(d), &by);
	CHECK_STR(d, "2027-01-31");
	CHECK_INT(by, 1);
	expiry(st, "a2", d, sizeof(d), &by);
	CHECK_STR(d, "2026-07-31");
	expiry(st, "c1", d, sizeof(d), &by);
	CHECK_STR(d, "2028-01-31");
	expiry(st, "prov", d, sizeof(d), &by);
	CHECK_STR(d, "2026-02-10");
	CHECK_INT(by, 0);
	/* the policy and the agency's systems are read when asked */
	p = (struct store_level_policy){ 4, 1, 0, 3 };
	CHECK_INT(store_level_policy_set(st, &p), 0);
	expiry(st, "a1", d, sizeof(d), &by);
	CHECK_STR(d, "2026-05-01");	/* 2026-04-31 normalised by SQLite */
	p = (struct store_level_policy){ 4, 1, 0, 12 };
	CHECK_INT(store_level_policy_set(st, &p), 0);
	CHECK_INT(store_system_add(st, "c1", "portal", "Cổng xã", 5, 1), 0);
	expiry(st, "c1", d, sizeof(d), &by);
	CHECK_STR(d, "2026-07-31");

	/* coverage: a2 and c1 fully covered (sensors heard, forwarding),
	 * a1 not (its assessment of t0 + 12 months counts, but no
	 * responder); prov sees 3 below it, c1 below a1 */
	CHECK_INT(store_sensor_heartbeat(st, "gw2", now, NULL), 0);
	CHECK_INT(store_sensor_heartbeat(st, "gw3", now, NULL), 0);
	CHECK_INT(store_sensor_heartbeat(st, "gw1", now, NULL), 0);
	make_covered(st, "a2", now);
	make_covered(st, "c1", now);
	{
		/* forwarding configured and acked just now: layer 4 ok */
		struct store_forward_conf fc = { .endpoint = "tcp://national:7600",
		    .origin = "prov-soc", .min_severity = 2,
		    .ack_within_ns = 600 * SOC_NS,
		    .max_backlog_age_ns = 3600 * SOC_NS, .max_pending = 1000 };

		CHECK_INT(store_forward_configure(st, &fc, now), 0);
		CHECK_INT(store_outbox_acked(st, NULL, 0, now), 0);
	}
	store_coverage_opts_init(&o);
	o.now_ns = now;
	o.ack_max_ns = 0;
	memset(&x, 0, sizeof(x));
	CHECK_INT(store_coverage(st, &o, cov_text, &x, NULL, NULL), 0);
	CHECK_STR(x.s, "a1:L4:n:1/1:ok,a2:L5:Y:0/0:ok,c1:L5:Y:0/0:ok,"
	    "prov:L0:n:2/3:missing");
}

static int
agency_text(void *arg, const struct store_agency *a)
{
	text_add(arg, "%s%s<%lld", a->code, (long long)a->sensors);
	return 0;
}

static void
test_tree(struct store *st)
{
	struct store_merge m;
	struct text t;
	struct store_sensor sen;
	int64_t id;
	int created;
	struct store_hit h;

	CHECK_INT(store_agency_rename(st, "a1", "Sở A mới"), 0);
	CHECK_INT(raw_int("SELECT count(*) FROM agencies WHERE name = 'Sở A mới'"), 1);
	CHECK_INT(store_agency_rename(st, "zz", "x"), -1);
	CHECK_INT(store_agency_rename(st, "a1", ""), -1);

	/* moves: no cycle, to the root and back */
	CHECK_INT(store_agency_move(st, "a1", "c1"), -1);
	CHECK(strstr(store_errmsg(st), "cycle") != NULL);
	CHECK_INT(store_agency_move(st, "a1", "a1"), -1);
	CHECK_INT(store_agency_move(st, "a1", "nope"), -1);
	CHECK(strstr(store_errmsg(st), "no such parent agency") != NULL);
	CHECK_INT(store_agency_move(st, "c1", "a2"), 0);
	CHECK_INT(store_agency_move(st, "c1", NULL), 0);
	CHECK_INT(raw_int("SELECT parent IS NULL FROM agencies WHERE code = 'c1'"), 1);
	CHECK_INT(store_agency_move(st, "c1", "a1"), 0);

	/* a merger that would break a rule changes nothing */
	CHECK_INT(store_system_add(st, "a2", "web", "Cổng B", 3, 1), 0);
	CHECK_INT(store_agency_merge(st, "a1", "a2", &m), -1);
	CHECK(strstr(store_errmsg(st), "both agencies have a system 'web'") != NULL);
	CHECK_INT(raw_exec("DELETE FROM systems WHERE agency = 'a2' AND code = 'web'"),
	    SQLITE_OK);
	h = mkhit("r-med", "gw2", "a2", 2);	/* same rule and group as a1's */
	CHECK_INT(store_incident_hit(st, &h, &id, &created), 0);
	CHECK_INT(store_agency_merge(st, "a1", "a2", &m), -1);
	CHECK(strstr(store_errmsg(st), "same rule and group") != NULL);
	CHECK_INT(store_incident_transition(st, id, STORE_ST_RESOLVED, "lan", NULL,
	    1), 0);
	CHECK_INT(store_agency_merge(st, "a1", "a1", &m), -1);
	CHECK_INT(store_agency_merge(st, "a1", "nope", &m), -1);

	/* a1 into a2: its sensor, two systems, two incidents, responder (a2's
	 * own of the same name stays), assessment and child c1 move */
	CHECK_INT(store_responder_add(st, "a1", "Trực ban", "", 1), 0);
	CHECK_INT(store_responder_add(st, "a1", "Lan", "", 1), 0);
	CHECK_INT(store_agency_merge(st, "a1", "a2", &m), 0);
	CHECK_INT(m.sensors, 1);
	CHECK_INT(m.systems, 2);
	CHECK_INT(m.incidents, 2);
	CHECK_INT(m.responders, 2);
	CHECK_INT(m.assessments, 1);
	CHECK_INT(m.children, 1);
	CHECK_INT(store_agency_exists(st, "a1"), 0);
	CHECK_INT(raw_int("SELECT count(*) FROM incidents WHERE agency = 'a1'"), 0);
	CHECK_INT(raw_int("SELECT count(*) FROM responders WHERE agency = 'a2'"), 2);
	CHECK_INT(raw_int("SELECT count(*) FROM systems WHERE agency = 'a2'"), 3);
	CHECK_INT(raw_int("SELECT count(*) FROM agencies WHERE parent = 'a2'"), 1);
	CHECK_INT(store_sensor_by_name(st, "gw1", &sen), 1);
	CHECK_STR(sen.agency, "a2");
	CHECK_STR(sen.system, "web");
	CHECK_INT(sen.system_level, 4);
	memset(&t, 0, sizeof(t));
	CHECK_INT(store_agency_foreach(st, agency_text, &t), 0);
	CHECK_STR(t.s, "a2<2,c1<1,prov<0");

	/* merging a parent into its child: the child takes its place */
	CHECK_INT(store_agency_merge(st, "a2", "c1", &m), 0);
	CHECK_INT(raw_int("SELECT parent = 'prov' FROM agencies WHERE code = 'c1'"), 1);
	CHECK_INT(m.children, 0);
}

/* A version 1 database (before this step) migrates, keeping its rows. */
static void
test_migrate(void)
{
	struct store *st;

	st = reopen(NULL, STORE_CREATE);
	CHECK(st != NULL);
	store_close(st);
	CHECK_INT(raw_exec(
	    /* undo the national step (3) after the search step (4), then the policy step (2) */
	    SCHEMA_DOWN_V20 " " SCHEMA_DOWN_V19 " " SCHEMA_DOWN_V18 " " SCHEMA_DOWN_V17 " " SCHEMA_DOWN_V16 " " SCHEMA_DOWN_V15 " " SCHEMA_DOWN_V14 " " SCHEMA_DOWN_V13 " " SCHEMA_DOWN_V12 " " SCHEMA_DOWN_V11 " " SCHEMA_DOWN_V10 " " SCHEMA_DOWN_V9 " " SCHEMA_DOWN_V7 " " SCHEMA_DOWN_V6 " " SCHEMA_DOWN_V5 " " SCHEMA_DOWN_V4 " DROP INDEX incidents_origin; DROP INDEX incidents_open;"
	    " ALTER TABLE incidents DROP COLUMN origin_name;"
	    " ALTER TABLE incidents DROP COLUMN origin_agency;"
	    " ALTER TABLE incidents DROP COLUMN origin_incident;"
	    " ALTER TABLE incidents DROP COLUMN origin_revision;"
	    " ALTER TABLE sensors DROP COLUMN last_alert_at;"
	    " CREATE UNIQUE INDEX incidents_open ON incidents(rule_id, agency,"
	    " group_key) WHERE status IN ('new','acknowledged','investigating');"
	    " DROP TABLE systems; DROP TABLE level_policy;"
	    " DROP TABLE deadline_policy; DROP TABLE incident_reports;"
	    " ALTER TABLE sensors DROP COLUMN system;"
	    " ALTER TABLE incidents DROP COLUMN system_code;"
	    " ALTER TABLE incidents DROP COLUMN system_level;"
	    " DROP TABLE assessments;"
	    " CREATE TABLE assessments (id INTEGER PRIMARY KEY,"
	    " agency TEXT NOT NULL REFERENCES agencies(code),"
	    " assessed_at INTEGER NOT NULL, assessor TEXT NOT NULL,"
	    " expires_at INTEGER NOT NULL CHECK (expires_at > assessed_at));"
	    " CREATE INDEX assessments_agency ON assessments(agency, expires_at);"
	    " INSERT INTO agencies (code, name) VALUES ('old', 'Cũ');"
	    " INSERT INTO assessments (agency, assessed_at, assessor, expires_at)"
	    " VALUES ('old', 5, 'VNCERT', 77);"
	    " PRAGMA user_version = 1;"), SQLITE_OK);
	st = reopen(NULL, STORE_READONLY);
	CHECK(st == NULL);
	st = reopen(NULL, 0);
	CHECK(st != NULL);
	store_close(st);
	CHECK_INT(raw_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	CHECK_INT(raw_int("SELECT expires_at FROM assessments WHERE agency = 'old'"), 77);
	CHECK_INT(raw_int("SELECT count(*) FROM level_policy"), 5);
	CHECK_INT(raw_int("SELECT initial_ns FROM deadline_policy WHERE severity = 4"),
	    24 * HOUR);
	CHECK_INT(raw_exec("INSERT INTO assessments (agency, assessed_at, assessor)"
	    " VALUES ('old', 5, 'X')"), SQLITE_OK);
}

static void
cleanup(int keep_dir)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char p[200];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		unlink(p);
	}
	if (!keep_dir)
		rmdir(dir);
}

int
main(void)
{
	struct store *st;
	int64_t ids[4];

	snprintf(dir, sizeof(dir), "/tmp/test-policy.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/soc.db", dir);
	st = reopen(NULL, STORE_CREATE);
	CHECK(st != NULL);
	if (st == NULL)
		goto out;
	test_systems(st);
	test_levels(st);
	test_hits(st, ids);
	test_deadlines(st, ids);
	test_assessments_coverage(st);
	test_tree(st);
	store_close(st);
	cleanup(1);
	test_migrate();
out:
	cleanup(0);
	return check_done();
}
