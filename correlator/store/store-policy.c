/*
 * The store's security levels and reporting deadlines: information
 * systems per agency with their level (1-5, Law on Network Information
 * Security art. 21), the sensor each system is watched by, the policy per
 * level (how much an incident on such a system is raised, how long an
 * assessment stays valid), the reporting deadlines per severity and the
 * stages an analyst has met (Circular 20/2017; Decree 331/2026 reported).
 *
 * Regulatory numbers that could not be confirmed are data, not code: the
 * defaults are rows written by the schema migration (store.c) and changed
 * with `socctl level set` and `socctl deadline set`.
 *
 * store_hit_policy() runs on the correlator's hit path: one indexed
 * lookup per hit, no allocation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"

#define REPORTS_SQL	"SELECT stage, at, actor FROM incident_reports" \
	" WHERE incident_id = ?1"

const struct store_sql store_policy_sql[] = {
	{ S_SYS_ADD, "INSERT INTO systems (agency, code, name, level, created_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)" },
	{ S_SYS_EXISTS, "SELECT level FROM systems WHERE agency = ?1 AND code = ?2" },
	{ S_SYS_LIST, "SELECT y.agency, y.code, y.name, y.level, y.created_at,"
	    " (SELECT count(*) FROM sensors s WHERE s.agency = y.agency"
	    "  AND s.system = y.code AND s.revoked = 0)"
	    " FROM systems y WHERE ?1 IS NULL OR y.agency = ?1"
	    " ORDER BY y.agency, y.code" },
	{ S_SENSOR_SET_SYS, "UPDATE sensors SET system = ?2 WHERE name = ?1" },
	{ S_SENSOR_SYS, "SELECT y.code, y.level, coalesce(p.raise_by, 0),"
	    " coalesce(p.min_severity, 0) FROM sensors s JOIN systems y"
	    " ON y.agency = s.agency AND y.code = s.system"
	    " LEFT JOIN level_policy p ON p.level = y.level WHERE s.name = ?1" },
	{ S_AGENCY_LEVEL, "SELECT coalesce(max(level), 0) FROM systems"
	    " WHERE agency = ?1" },
	{ S_LEVEL_GET, "SELECT level, raise_by, min_severity, assessment_months"
	    " FROM level_policy WHERE level = ?1" },
	{ S_LEVEL_SET, "INSERT OR REPLACE INTO level_policy (level, raise_by,"
	    " min_severity, assessment_months) VALUES (?1, ?2, ?3, ?4)" },
	{ S_LEVEL_LIST, "SELECT level, raise_by, min_severity, assessment_months"
	    " FROM level_policy ORDER BY level" },
	{ S_DL_GET, "SELECT severity, coalesce(initial_ns, 0),"
	    " coalesce(details_ns, 0), coalesce(final_ns, 0)"
	    " FROM deadline_policy WHERE severity = ?1" },
	{ S_DL_SET, "INSERT OR REPLACE INTO deadline_policy (severity, initial_ns,"
	    " details_ns, final_ns) VALUES (?1, nullif(?2, 0), nullif(?3, 0),"
	    " nullif(?4, 0))" },
	{ S_DL_LIST, "SELECT severity, coalesce(initial_ns, 0),"
	    " coalesce(details_ns, 0), coalesce(final_ns, 0)"
	    " FROM deadline_policy ORDER BY severity DESC" },
	{ S_REPORT_ADD, "INSERT INTO incident_reports (incident_id, stage, at,"
	    " actor, note) VALUES (?1, ?2, ?3, ?4, ?5)" },
	{ S_REPORT_EXISTS, REPORTS_SQL },
	{ S_INC_DEADLINE, "SELECT i.status, i.created_at,"
	    " coalesce(dp.initial_ns, 0), coalesce(dp.details_ns, 0),"
	    " coalesce(dp.final_ns, 0),"
	    " (SELECT max(a.at) FROM audit a WHERE a.incident_id = i.id"
	    "  AND a.action = 'resolved')"
	    " FROM incidents i LEFT JOIN deadline_policy dp"
	    " ON dp.severity = i.severity WHERE i.id = ?1" },
	{ S_INC_OVERDUE, "SELECT 1 FROM incidents WHERE id = ?1 AND "
	    STORE_OVERDUE_SQL("?2") },
	{ 0, NULL }
};

static const char *const stage_names[STORE_STAGES] = {
	"initial", "details", "final"
};

static int
agency_check(struct store *st, const char *agency)
{
	int rc = store_agency_exists(st, agency);

	if (rc == 0)
		store_seterr(st, "no such agency '%s'", agency);
	return rc == 1 ? 0 : -1;
}

/* ---- information systems ---- */

/* Letters, digits, '.', '_', '-': codes end up in JSON and file names. */
static int
code_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr("._-", s[i]) != NULL))
			return 0;
	return i > 0 && i < 64;
}

/* 1 with the level, 0 no such system, -1. */
static int
system_level(struct store *st, const char *agency, const char *code, int *level)
{
	sqlite3_stmt *s;
	int tmp, rc;

	if ((s = store_stmt_get(st, S_SYS_EXISTS, &tmp)) == NULL)
		return -1;
	bind_str(s, 1, agency);
	bind_str(s, 2, code);
	if ((rc = store_step1(st, s, "system lookup")) == 1)
		*level = sqlite3_column_int(s, 0);
	store_stmt_put(s, tmp);
	return rc;
}

int
store_system_add(struct store *st, const char *agency, const char *code,
    const char *name, int level, int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_SYS_ADD];
	int rc, old;

	if (!code_ok(code)) {
		store_seterr(st, "system code '%s' must be 1-63 letters, digits,"
		    " '.', '_' or '-'", code);
		return -1;
	}
	if (level < 1 || level > 5) {
		store_seterr(st, "security level must be 1 to 5, not %d", level);
		return -1;
	}
	if (agency_check(st, agency) == -1)
		return -1;
	if ((rc = system_level(st, agency, code, &old)) != 0) {
		if (rc == 1)
			store_seterr(st, "agency %s already has a system '%s'"
			    " (level %d)", agency, code, old);
		return -1;
	}
	bind_str(s, 1, agency);
	bind_str(s, 2, code);
	bind_str(s, 3, name);
	sqlite3_bind_int(s, 4, level);
	sqlite3_bind_int64(s, 5, now_ns);
	return store_exec(st, s, "add system");
}

int
store_system_foreach(struct store *st, const char *agency, store_system_fn fn,
    void *arg)
{
	struct store_system y;
	sqlite3_stmt *s;
	int tmp, rc, ret = 0;

	if ((s = store_stmt_get(st, S_SYS_LIST, &tmp)) == NULL)
		return -1;
	bind_str(s, 1, agency);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		y.agency = col_str(s, 0);
		y.code = col_str(s, 1);
		y.name = col_str(s, 2);
		y.level = sqlite3_column_int(s, 3);
		y.created_at = sqlite3_column_int64(s, 4);
		y.sensors = (uint64_t)sqlite3_column_int64(s, 5);
		if ((ret = fn(arg, &y)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "list systems");
		ret = -1;
	}
	store_stmt_put(s, tmp);
	return ret;
}

int
store_sensor_set_system(struct store *st, const char *sensor, const char *system)
{
	struct store_sensor sen;
	sqlite3_stmt *s = st->stmt[S_SENSOR_SET_SYS];
	int rc, level;

	if ((rc = store_sensor_by_name(st, sensor, &sen)) != 1) {
		if (rc == 0)
			store_seterr(st, "no such sensor '%s'", sensor);
		return -1;
	}
	if (system != NULL && system[0] == '\0')
		system = NULL;
	if (system != NULL &&
	    (rc = system_level(st, sen.agency, system, &level)) != 1) {
		if (rc == 0)
			store_seterr(st, "agency %s has no system '%s' (add it with"
			    " `socctl system add %s %s --name NAME --level N`)",
			    sen.agency, system, sen.agency, system);
		return -1;
	}
	bind_str(s, 1, sensor);
	bind_str(s, 2, system);
	return store_exec(st, s, "set sensor system");
}

int
store_sensor_system(struct store *st, const char *sensor, char *code,
    size_t codelen, int *level)
{
	sqlite3_stmt *s;
	int tmp, rc;

	code[0] = '\0';
	*level = 0;
	if ((s = store_stmt_get(st, S_SENSOR_SYS, &tmp)) == NULL)
		return -1;
	bind_str(s, 1, sensor);
	if ((rc = store_step1(st, s, "sensor system")) == 1) {
		snprintf(code, codelen, "%s", col_str(s, 0));
		*level = sqlite3_column_int(s, 1);
	}
	store_stmt_put(s, tmp);
	return rc;
}

int
store_agency_level(struct store *st, const char *agency, int *level)
{
	sqlite3_stmt *s;
	int tmp, rc;

	*level = 0;
	if ((s = store_stmt_get(st, S_AGENCY_LEVEL, &tmp)) == NULL)
		return -1;
	bind_str(s, 1, agency);
	if ((rc = store_step1(st, s, "agency level")) == 1)
		*level = sqlite3_column_int(s, 0);
	store_stmt_put(s, tmp);
	return rc < 0 ? -1 : 0;
}

/* ---- the policy per level ---- */

static void
level_row(sqlite3_stmt *s, struct store_level_policy *p)
{
	p->level = sqlite3_column_int(s, 0);
	p->raise_by = sqlite3_column_int(s, 1);
	p->min_severity = sqlite3_column_int(s, 2);
	p->assessment_months = sqlite3_column_int(s, 3);
}

int
store_level_policy_get(struct store *st, int level, struct store_level_policy *out)
{
	sqlite3_stmt *s;
	int tmp, rc;

	memset(out, 0, sizeof(*out));
	if ((s = store_stmt_get(st, S_LEVEL_GET, &tmp)) == NULL)
		return -1;
	sqlite3_bind_int(s, 1, level);
	if ((rc = store_step1(st, s, "level policy")) == 1)
		level_row(s, out);
	store_stmt_put(s, tmp);
	return rc;
}

int
store_level_policy_set(struct store *st, const struct store_level_policy *p)
{
	sqlite3_stmt *s = st->stmt[S_LEVEL_SET];

	if (p->level < 1 || p->level > 5 || p->raise_by < 0 || p->raise_by > 4 ||
	    p->min_severity < 0 || p->min_severity > 4 ||
	    p->assessment_months < 1 || p->assessment_months > 120) {
		store_seterr(st, "level 1-5, raise 0-4, minimum severity 0-4 and"
		    " assessment validity 1-120 months");
		return -1;
	}
	sqlite3_bind_int(s, 1, p->level);
	sqlite3_bind_int(s, 2, p->raise_by);
	sqlite3_bind_int(s, 3, p->min_severity);
	sqlite3_bind_int(s, 4, p->assessment_months);
	return store_exec(st, s, "set level policy");
}

int
store_level_policy_foreach(struct store *st, store_level_policy_fn fn, void *arg)
{
	struct store_level_policy p;
	sqlite3_stmt *s;
	int tmp, rc, ret = 0;

	if ((s = store_stmt_get(st, S_LEVEL_LIST, &tmp)) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		level_row(s, &p);
		if ((ret = fn(arg, &p)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "list level policy");
		ret = -1;
	}
	store_stmt_put(s, tmp);
	return ret;
}

static int
raise_sev(int sev, int raise_by, int min_severity)
{
	sev += raise_by;
	if (sev > 4)
		sev = 4;
	return sev < min_severity ? min_severity : sev;
}

int
store_severity_for_level(struct store *st, int sev, int level, int *out)
{
	struct store_level_policy p;
	int rc;

	*out = sev;
	if (level < 1)
		return 0;
	if ((rc = store_level_policy_get(st, level, &p)) == -1)
		return -1;
	if (rc == 1)
		*out = raise_sev(sev, p.raise_by, p.min_severity);
	return 0;
}

int
store_hit_policy(struct store *st, const struct store_hit *h, char *code,
    size_t codelen, int *level, int *sev)
{
	sqlite3_stmt *s;
	int tmp, rc;

	code[0] = '\0';
	*level = 0;
	if (h->system_code != NULL) {
		if (h->system_code[0] == '\0' || h->system_level < 1)
			return 0;
		snprintf(code, codelen, "%s", h->system_code);
		*level = h->system_level;
		return store_severity_for_level(st, *sev, *level, sev);
	}
	if (h->sensor == NULL)
		return 0;
	if ((s = store_stmt_get(st, S_SENSOR_SYS, &tmp)) == NULL)
		return -1;
	bind_str(s, 1, h->sensor);
	if ((rc = store_step1(st, s, "sensor system")) == 1) {
		snprintf(code, codelen, "%s", col_str(s, 0));
		*level = sqlite3_column_int(s, 1);
		*sev = raise_sev(*sev, sqlite3_column_int(s, 2),
		    sqlite3_column_int(s, 3));
	}
	store_stmt_put(s, tmp);
	return rc < 0 ? -1 : 0;
}

/* ---- deadlines ---- */

const char *
store_stage_name(int stage)
{
	if (stage < 0 || stage >= STORE_STAGES)
		return "?";
	return stage_names[stage];
}

int
store_stage_parse(const char *s)
{
	int i;

	for (i = 0; i < STORE_STAGES; i++)
		if (strcmp(s, stage_names[i]) == 0)
			return i;
	return -1;
}

static void
deadline_row(sqlite3_stmt *s, struct store_deadline *d)
{
	int i;

	d->severity = sqlite3_column_int(s, 0);
	for (i = 0; i < STORE_STAGES; i++)
		d->after_ns[i] = sqlite3_column_int64(s, 1 + i);
}

int
store_deadline_get(struct store *st, int severity, struct store_deadline *out)
{
	sqlite3_stmt *s;
	int tmp, rc;

	memset(out, 0, sizeof(*out));
	out->severity = severity;
	if ((s = store_stmt_get(st, S_DL_GET, &tmp)) == NULL)
		return -1;
	sqlite3_bind_int(s, 1, severity);
	if ((rc = store_step1(st, s, "deadline policy")) == 1)
		deadline_row(s, out);
	store_stmt_put(s, tmp);
	return rc;
}

int
store_deadline_set(struct store *st, const struct store_deadline *d)
{
	sqlite3_stmt *s = st->stmt[S_DL_SET];
	int i;

	if (d->severity < 0 || d->severity > 4) {
		store_seterr(st, "invalid severity %d", d->severity);
		return -1;
	}
	for (i = 0; i < STORE_STAGES; i++) {
		if (d->after_ns[i] < 0) {
			store_seterr(st, "a deadline cannot be negative");
			return -1;
		}
	}
	sqlite3_bind_int(s, 1, d->severity);
	for (i = 0; i < STORE_STAGES; i++)
		sqlite3_bind_int64(s, 2 + i, d->after_ns[i]);
	return store_exec(st, s, "set deadline");
}

int
store_deadline_foreach(struct store *st, store_deadline_fn fn, void *arg)
{
	struct store_deadline d;
	sqlite3_stmt *s;
	int tmp, rc, ret = 0;

	if ((s = store_stmt_get(st, S_DL_LIST, &tmp)) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		deadline_row(s, &d);
		if ((ret = fn(arg, &d)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "list deadlines");
		ret = -1;
	}
	store_stmt_put(s, tmp);
	return ret;
}

/* The incident's deadline facts, read in one go. */
struct inc_dl {
	int		 status;
	int64_t		 created_at;
	int64_t		 after[STORE_STAGES];
	int64_t		 resolved_at;		/* latest, 0 never */
	int64_t		 done[STORE_STAGES];	/* 0 not met */
	char		 by[STORE_STAGES][128];
};

/* 1 read, 0 no such incident (with a message), -1. */
static int
inc_dl_read(struct store *st, int64_t id, struct inc_dl *x)
{
	sqlite3_stmt *s;
	int tmp, rc, i;

	memset(x, 0, sizeof(*x));
	if ((s = store_stmt_get(st, S_INC_DEADLINE, &tmp)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if ((rc = store_step1(st, s, "incident deadlines")) == 1) {
		x->status = store_status_parse(col_str(s, 0));
		x->created_at = sqlite3_column_int64(s, 1);
		for (i = 0; i < STORE_STAGES; i++)
			x->after[i] = sqlite3_column_int64(s, 2 + i);
		x->resolved_at = sqlite3_column_int64(s, 5);
	} else if (rc == 0)
		store_seterr(st, "no such incident %lld", (long long)id);
	store_stmt_put(s, tmp);
	if (rc != 1)
		return rc;
	if ((s = store_stmt_get(st, S_REPORT_EXISTS, &tmp)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((i = store_stage_parse(col_str(s, 0))) < 0)
			continue;
		x->done[i] = sqlite3_column_int64(s, 1);
		snprintf(x->by[i], sizeof(x->by[i]), "%s", col_str(s, 2));
	}
	store_stmt_put(s, tmp);
	if (rc != SQLITE_DONE) {
		store_sqlerr(st, "incident reports");
		return -1;
	}
	return 1;
}

int
store_incident_report(struct store *st, int64_t id, int stage,
    const char *actor, const char *note, int64_t now_ns)
{
	struct inc_dl x;
	sqlite3_stmt *s = st->stmt[S_REPORT_ADD];
	char text[1024];
	int own;

	if (stage < 0 || stage >= STORE_STAGES) {
		store_seterr(st, "invalid stage %d", stage);
		return -1;
	}
	if (store_tx_enter(st, &own) == -1)
		return -1;
	if (inc_dl_read(st, id, &x) != 1)
		goto fail;
	if (x.done[stage] != 0) {
		store_seterr(st, "incident %lld: the %s report is already on"
		    " record (by %s)", (long long)id, stage_names[stage],
		    x.by[stage]);
		goto fail;
	}
	sqlite3_bind_int64(s, 1, id);
	bind_str(s, 2, stage_names[stage]);
	sqlite3_bind_int64(s, 3, now_ns);
	bind_str(s, 4, actor);
	bind_str(s, 5, note ? note : "");
	snprintf(text, sizeof(text), "%s report%s%s", stage_names[stage],
	    note && *note ? ": " : "", note ? note : "");
	if (store_exec(st, s, "report") == -1 ||
	    store_audit_add(st, id, actor, "reported", text, now_ns) == -1)
		goto fail;
	return store_tx_leave(st, own, 0);
fail:
	return store_tx_leave(st, own, -1);
}

int
store_incident_deadlines(struct store *st, int64_t id, int64_t now_ns,
    store_deadline_state_fn fn, void *arg)
{
	struct store_deadline_state d;
	struct inc_dl x;
	int i, rc;

	if ((rc = inc_dl_read(st, id, &x)) != 1)
		return -1;
	for (i = 0; i < STORE_STAGES; i++) {
		if (x.after[i] == 0 && x.done[i] == 0)
			continue;
		memset(&d, 0, sizeof(d));
		d.stage = i;
		if (x.after[i] == 0)
			d.due = 0;
		else if (i != STORE_STAGE_FINAL)
			d.due = x.created_at + x.after[i];
		else if (x.status == STORE_ST_RESOLVED && x.resolved_at > 0)
			d.due = x.resolved_at + x.after[i];
		d.done = x.done[i];
		d.by = x.by[i];
		d.overdue = d.due > 0 && d.done == 0 && d.due < now_ns &&
		    x.status != STORE_ST_FALSE_POSITIVE;
		if ((rc = fn(arg, &d)) != 0)
			return rc;
	}
	return 0;
}

int
store_incident_overdue(struct store *st, int64_t id, int64_t now_ns)
{
	sqlite3_stmt *s;
	int tmp, rc;

	if ((s = store_stmt_get(st, S_INC_OVERDUE, &tmp)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now_ns);
	rc = store_step1(st, s, "overdue");
	store_stmt_put(s, tmp);
	return rc;
}
