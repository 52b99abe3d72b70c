/*
 * The store's incidents: aggregation of rule hits into one open incident
 * per (rule, agency, group key) with bounded evidence (the first N and
 * the latest M events), reopening and related incidents, the analyst's
 * view (filters, one incident, its evidence), the state machine and the
 * analyst's actions on it, and the append-only audit trail each of them
 * writes to.
 *
 * Everything that writes more than one row goes through store_tx_enter()
 * and store_tx_leave() (store.c): atomic on its own, or a savepoint inside
 * the correlator's batch transaction.  A status or assignee change writes
 * its audit row first: the schema refuses the change otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"
#include "soc/util.h"

#define INCIDENT_COLS	"id, rule_id, rule_title, rule_level, rule_author, severity," \
	" agency, sensor, group_key, status, assignee, first_seen, last_seen," \
	" count, created_at, updated_at," \
	" (SELECT count(*) FROM evidence e WHERE e.incident_id = incidents.id)," \
	" category, coalesce(related, 0)," \
	" coalesce(system_code, ''), coalesce(system_level, 0), rule_tags"

const struct store_sql store_incident_sql[] = {
	/* origin_name IS NULL: a local hit never adds to an incident that a
	 * province forwarded (national role), even with the same key */
	{ S_INC_FIND_OPEN, "SELECT id, status, 0, severity FROM incidents"
	    " WHERE rule_id = ?1"
	    " AND agency = ?2 AND group_key = ?3 AND status IN " OPEN_SQL
	    " AND origin_name IS NULL" },
	{ S_INC_UPDATE_HIT, "UPDATE incidents SET count = count + ?2,"
	    " first_seen = min(first_seen, ?3), last_seen = max(last_seen, ?4),"
	    " severity = max(severity, ?5), updated_at = ?6 WHERE id = ?1" },
	{ S_INC_INSERT, "INSERT INTO incidents (rule_id, rule_title, rule_level,"
	    " rule_author, severity, agency, sensor, group_key, status, first_seen,"
	    " last_seen, count, created_at, updated_at, category, related,"
	    " system_code, system_level, rule_tags)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'new', ?9, ?10, ?11, ?12, ?12,"
	    " ?13, ?14, ?15, nullif(?16, 0), ?17)" },
	{ S_INC_FIND_CLOSED, "SELECT id, status, coalesce(closed_at, updated_at),"
	    " severity"
	    " FROM incidents WHERE rule_id = ?1 AND agency = ?2 AND group_key = ?3"
	    " AND status NOT IN " OPEN_SQL " AND origin_name IS NULL"
	    " ORDER BY id DESC LIMIT 1" },
	{ S_INC_REOPEN, "UPDATE incidents SET status = 'new', closed_at = NULL,"
	    " updated_at = ?2 WHERE id = ?1" },
	{ S_EVIDENCE_NEXT, "SELECT coalesce(max(seq) + 1, 0) FROM evidence"
	    " WHERE incident_id = ?1" },
	{ S_EVIDENCE_ADD, "INSERT OR REPLACE INTO evidence (incident_id, seq,"
	    " event_json) VALUES (?1, ?2, ?3)" },
	{ S_EVIDENCE_TRIM, "DELETE FROM evidence WHERE incident_id = ?1"
	    " AND seq >= ?2 AND seq < ?3" },
	{ S_INC_LIST, "SELECT " INCIDENT_COLS " FROM incidents"
	    " WHERE (?1 IS NULL OR status = ?1)"
	    " AND (?2 = 0 OR status IN " OPEN_SQL ")"
	    " AND (?3 IS NULL OR agency = ?3)"
	    " AND severity >= ?4 AND last_seen >= ?5"
	    " AND (?7 = 0 OR status NOT IN " OPEN_SQL ")"
	    " ORDER BY last_seen DESC, id DESC LIMIT ?6" },
	{ S_INC_GET, "SELECT " INCIDENT_COLS " FROM incidents WHERE id = ?1" },
	{ S_INC_STATE, "SELECT status, assignee FROM incidents WHERE id = ?1" },
	{ S_INC_SET_STATUS, "UPDATE incidents SET status = ?2, updated_at = ?3,"
	    " closed_at = CASE WHEN ?2 IN ('resolved', 'false_positive') THEN ?3"
	    " END WHERE id = ?1" },
	{ S_INC_SET_ASSIGNEE, "UPDATE incidents SET assignee = ?2, updated_at = ?3"
	    " WHERE id = ?1" },
	{ S_INC_TOUCH, "UPDATE incidents SET updated_at = ?2 WHERE id = ?1" },
	{ S_EVIDENCE_LIST, "SELECT seq, event_json, json_valid(event_json)"
	    " FROM evidence WHERE incident_id = ?1 ORDER BY seq" },
	{ S_AUDIT_ADD, "INSERT INTO audit (incident_id, at, actor, action, note)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)" },
	{ S_AUDIT_LIST, "SELECT id, coalesce(incident_id, 0), at, actor, action, note"
	    " FROM audit WHERE ?1 < 0 OR coalesce(incident_id, 0) = ?1 ORDER BY id" },
	/* the open incident of the same key as ?1 (incidents_open's columns) */
	{ S_INC_OPEN_TWIN, "SELECT o.id FROM incidents i JOIN incidents o"
	    " ON o.rule_id = i.rule_id AND o.agency = i.agency"
	    " AND o.group_key = i.group_key"
	    " AND coalesce(o.origin_name, '') = coalesce(i.origin_name, '')"
	    " AND coalesce(o.origin_incident, 0) = coalesce(i.origin_incident, 0)"
	    " WHERE i.id = ?1 AND o.id != i.id AND o.status IN " OPEN_SQL },
	{ 0, NULL }
};

/* The names, the state machine and store_audit_add() are store-util.c's. */

int
store_audit_foreach(struct store *st, int64_t incident_id, store_audit_fn fn,
    void *arg)
{
	struct store_audit a;
	sqlite3_stmt *s;
	int tmp, rc, ret = 0;

	if ((s = store_stmt_get(st, S_AUDIT_LIST, &tmp)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, incident_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		a.id = sqlite3_column_int64(s, 0);
		a.incident_id = sqlite3_column_int64(s, 1);
		a.at = sqlite3_column_int64(s, 2);
		a.actor = col_str(s, 3);
		a.action = col_str(s, 4);
		a.note = col_str(s, 5);
		if ((ret = fn(arg, &a)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "list audit");
		ret = -1;
	}
	store_stmt_put(s, tmp);
	return ret;
}

/* ---- incidents ---- */

/* One evidence row: seq is the alert's number over the incident's life. */
static int
evidence_put(struct store *st, int64_t id, int64_t seq, const char *json)
{
	sqlite3_stmt *s = st->stmt[S_EVIDENCE_ADD];

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, seq);
	bind_str(s, 3, json);
	return store_exec(st, s, "evidence");
}

/* The number the incident's next alert gets (0 for a new one); -1 error. */
static int64_t
evidence_next(struct store *st, int64_t id)
{
	sqlite3_stmt *s = st->stmt[S_EVIDENCE_NEXT];
	int64_t n = -1;

	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	else
		store_sqlerr(st, "evidence");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return n;
}

/*
 * Keeps the first keep_first and the latest keep_last of the alerts
 * numbered so far: the transaction's alerts are k .. k + t - 1 (k the
 * incident's next number); ev_first holds k .. and ev_last the latest.
 * A first-list event numbered past keep_first is in ev_last if it is
 * among the latest; numbers in between are trimmed.
 */
static int
evidence_write(struct store *st, int64_t id, int fresh,
    const struct store_flush *f)
{
	sqlite3_stmt *s = st->stmt[S_EVIDENCE_TRIM];
	int64_t k, t = (int64_t)f->nalerts, o, kf = f->keep_first;
	size_t i;

	if (t == 0 || (f->nfirst == 0 && f->nlast == 0))
		return 0;
	if ((k = fresh ? 0 : evidence_next(st, id)) == -1)
		return -1;
	for (i = 0; i < f->nfirst && k + (int64_t)i < kf; i++)
		if (f->ev_first[i] != NULL &&
		    evidence_put(st, id, k + (int64_t)i, f->ev_first[i]) == -1)
			return -1;
	for (i = 0; i < f->nlast; i++) {
		o = k + t - (int64_t)f->nlast + (int64_t)i;
		if (o >= kf && f->ev_last[i] != NULL &&
		    evidence_put(st, id, o, f->ev_last[i]) == -1)
			return -1;
	}
	if (fresh || k + t - f->keep_last <= kf)
		return 0;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, kf);
	sqlite3_bind_int64(s, 3, k + t - f->keep_last);
	return store_exec(st, s, "evidence");
}

/* An incident of h's key as S_INC_FIND_OPEN / _CLOSED select it. */
struct inc_found {
	int64_t		 id;
	int		 status;
	int64_t		 closed_at;	/* or last update; 0 if open */
	int		 sev;
};

/*
 * The open incident of h's key (stmt S_INC_FIND_OPEN) or its latest
 * closed one (S_INC_FIND_CLOSED): 1 found, 0 none, -1 error.
 */
static int
incident_find(struct store *st, int stmt, const struct store_hit *h,
    struct inc_found *o)
{
	sqlite3_stmt *s = st->stmt[stmt];
	int ret;

	bind_str(s, 1, h->rule_id);
	bind_str(s, 2, h->agency);
	bind_str(s, 3, h->group_key ? h->group_key : "");
	if ((ret = store_step1(st, s, "find incident")) == 1) {
		o->id = sqlite3_column_int64(s, 0);
		o->status = store_status_parse(col_str(s, 1));
		o->closed_at = sqlite3_column_int64(s, 2);
		o->sev = sqlite3_column_int(s, 3);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

static int
incident_insert(struct store *st, const struct store_flush *f, int sev,
    int64_t related, int64_t now, int64_t *id, const char *sys, int level)
{
	const struct store_hit *h = &f->hit;
	sqlite3_stmt *s = st->stmt[S_INC_INSERT];
	char note[256];

	bind_str(s, 1, h->rule_id);
	bind_str(s, 2, h->rule_title ? h->rule_title : "");
	bind_str(s, 3, h->rule_level ? h->rule_level : store_severity_name(sev));
	bind_str(s, 4, h->rule_author ? h->rule_author : "");
	sqlite3_bind_int(s, 5, sev);
	bind_str(s, 6, h->agency);
	bind_str(s, 7, h->sensor ? h->sensor : "");
	bind_str(s, 8, h->group_key ? h->group_key : "");
	sqlite3_bind_int64(s, 9, h->first_ts);
	sqlite3_bind_int64(s, 10, h->last_ts > h->first_ts ? h->last_ts : h->first_ts);
	sqlite3_bind_int64(s, 11, (sqlite3_int64)(h->count ? h->count : 1));
	sqlite3_bind_int64(s, 12, now);
	bind_str(s, 13, f->category ? f->category : "other");
	if (related > 0)
		sqlite3_bind_int64(s, 14, related);
	else
		sqlite3_bind_null(s, 14);
	bind_str(s, 15, sys[0] ? sys : NULL);
	sqlite3_bind_int(s, 16, level);
	bind_str(s, 17, h->rule_tags ? h->rule_tags : "");
	if (store_exec(st, s, "open incident") == -1)
		return -1;
	*id = sqlite3_last_insert_rowid(st->db);
	if (related > 0)
		snprintf(note, sizeof(note), "%s severity, sensor %s, related to"
		    " incident %lld", store_severity_name(sev),
		    h->sensor ? h->sensor : "?", (long long)related);
	else
		snprintf(note, sizeof(note), "%s severity, sensor %s",
		    store_severity_name(sev), h->sensor ? h->sensor : "?");
	return store_audit_add(st, *id, "soc-correlator", "created", note, now);
}

/* A resolved incident fired again: back to new, audit row first. */
static int
incident_reopen(struct store *st, int64_t id, int64_t closed_at, int64_t now)
{
	sqlite3_stmt *s = st->stmt[S_INC_REOPEN];
	char note[128], age[32];

	store_age_format(now - closed_at, age, sizeof(age));
	snprintf(note, sizeof(note), "fired again %s after it was resolved", age);
	if (store_audit_add(st, id, "correlator", "reopened", note, now) == -1)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	return store_exec(st, s, "reopen incident");
}

/* Adds the transaction's sums to the open incident id. */
static int
incident_update(struct store *st, const struct store_hit *h, int64_t id,
    int sev, int oldsev, int64_t now)
{
	sqlite3_stmt *s = st->stmt[S_INC_UPDATE_HIT];
	char note[64];

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)(h->count ? h->count : 1));
	sqlite3_bind_int64(s, 3, h->first_ts);
	sqlite3_bind_int64(s, 4, h->last_ts > h->first_ts ? h->last_ts : h->first_ts);
	sqlite3_bind_int(s, 5, sev);
	sqlite3_bind_int64(s, 6, now);
	if (store_exec(st, s, "update incident") == -1)
		return -1;
	if (sev <= oldsev)
		return 0;
	snprintf(note, sizeof(note), "severity %s -> %s",
	    store_severity_name(oldsev), store_severity_name(sev));
	return store_audit_add(st, id, "soc-correlator", "escalated", note, now);
}

int
store_incident_flush(struct store *st, const struct store_flush *f,
    int64_t *id, int *how)
{
	const struct store_hit *h = &f->hit;
	int64_t now = f->now_ns ? f->now_ns : soc_now_ns();
	struct inc_found o = { 0 };
	int own = 0, bare, rc, sev, level;
	char sys[64];

	*how = 0;
	if (h->rule_id == NULL || h->agency == NULL) {
		store_seterr(st, "incident hit without rule id or agency");
		return -1;
	}
	sev = h->severity < 0 ? 0 : h->severity > 4 ? 4 : h->severity;
	/* the system's security level raises it (store-policy.c) */
	if (store_hit_policy(st, h, sys, sizeof(sys), &level, &sev) == -1)
		return -1;
	/* a savepoint copies each page it touches: skipped when the caller
	 * undoes the whole batch or transaction on failure anyway */
	bare = f->caller_undoes && !sqlite3_get_autocommit(st->db);
	if (!bare && store_tx_enter(st, &own) == -1)
		return -1;
	if ((rc = incident_find(st, S_INC_FIND_OPEN, h, &o)) == -1)
		goto fail;
	if (rc == 1) {
		*id = o.id;
		if (incident_update(st, h, o.id, sev, o.sev, now) == -1)
			goto fail;
		*how = STORE_FLUSH_UPDATED;
	} else if ((rc = incident_find(st, S_INC_FIND_CLOSED, h, &o)) == -1)
		goto fail;
	else if (rc == 1 && o.status == STORE_ST_RESOLVED &&
	    f->reopen_within_ns > 0 && now - o.closed_at <= f->reopen_within_ns) {
		/* a false positive stays closed; a resolved one fired again */
		*id = o.id;
		if (incident_reopen(st, o.id, o.closed_at, now) == -1 ||
		    incident_update(st, h, o.id, sev, o.sev, now) == -1)
			goto fail;
		*how = STORE_FLUSH_REOPENED;
	} else {
		/* a new one, naming the latest closed one of the key if any */
		if (incident_insert(st, f, sev, rc == 1 ? o.id : 0, now, id, sys,
		    level) == -1)
			goto fail;
		*how = STORE_FLUSH_CREATED;
	}
	if (store_outbox_touch(st, *id) == -1)	/* forwarding: same transaction */
		goto fail;
	if (store_notify_touch(st, *id, *how, now) == -1) /* notifications too */
		goto fail;
	if (evidence_write(st, *id, *how == STORE_FLUSH_CREATED, f) == -1)
		goto fail;
	return bare ? 0 : store_tx_leave(st, own, 0);
fail:
	*how = 0;
	return bare ? -1 : store_tx_leave(st, own, -1);
}

int
store_incident_hit(struct store *st, const struct store_hit *h, int64_t *id,
    int *created)
{
	const char *ev[1] = { h->evidence_json };
	struct store_flush f = {
		.hit = *h,
		.nalerts = 1,
		.ev_first = ev, .nfirst = 1,
		.ev_last = ev, .nlast = 1,
		.keep_first = STORE_EVIDENCE_MAX / 2,
		.keep_last = STORE_EVIDENCE_MAX - STORE_EVIDENCE_MAX / 2,
	};
	int how, rc;

	if (h->evidence_json == NULL)
		f.nfirst = f.nlast = 0;
	rc = store_incident_flush(st, &f, id, &how);
	*created = how == STORE_FLUSH_CREATED;
	return rc;
}

void
store_incident_filter_init(struct store_incident_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->status = -1;
}

/* Fills in from a row of INCIDENT_COLS. */
static void
incident_row(sqlite3_stmt *s, struct store_incident *in)
{
	in->id = sqlite3_column_int64(s, 0);
	in->rule_id = col_str(s, 1);
	in->rule_title = col_str(s, 2);
	in->rule_level = col_str(s, 3);
	in->rule_author = col_str(s, 4);
	in->severity = sqlite3_column_int(s, 5);
	in->agency = col_str(s, 6);
	in->sensor = col_str(s, 7);
	in->group_key = col_str(s, 8);
	in->status = store_status_parse(col_str(s, 9));
	in->assignee = col_str(s, 10);
	in->first_seen = sqlite3_column_int64(s, 11);
	in->last_seen = sqlite3_column_int64(s, 12);
	in->count = (uint64_t)sqlite3_column_int64(s, 13);
	in->created_at = sqlite3_column_int64(s, 14);
	in->updated_at = sqlite3_column_int64(s, 15);
	in->evidence = (uint64_t)sqlite3_column_int64(s, 16);
	in->category = col_str(s, 17);
	in->related = sqlite3_column_int64(s, 18);
	in->system_code = col_str(s, 19);
	in->system_level = sqlite3_column_int(s, 20);
	in->rule_tags = col_str(s, 21);
}

int
store_incident_foreach(struct store *st, const struct store_incident_filter *f,
    store_incident_fn fn, void *arg)
{
	struct store_incident in;
	sqlite3_stmt *s;
	int tmp, rc, ret = 0;

	if ((s = store_stmt_get(st, S_INC_LIST, &tmp)) == NULL)
		return -1;
	bind_str(s, 1, f->status >= 0 ? store_status_name(f->status) : NULL);
	sqlite3_bind_int(s, 2, f->open_only != 0);
	bind_str(s, 3, f->agency);
	sqlite3_bind_int(s, 4, f->min_severity);
	sqlite3_bind_int64(s, 5, f->since_ns);
	sqlite3_bind_int64(s, 6, f->limit > 0 ? f->limit : -1);
	sqlite3_bind_int(s, 7, f->closed_only != 0);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		incident_row(s, &in);
		if ((ret = fn(arg, &in)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "list incidents");
		ret = -1;
	}
	store_stmt_put(s, tmp);
	return ret;
}

int
store_incident_get(struct store *st, int64_t id, store_incident_fn fn, void *arg)
{
	struct store_incident in;
	sqlite3_stmt *s;
	int tmp, rc, ret;

	if ((s = store_stmt_get(st, S_INC_GET, &tmp)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		incident_row(s, &in);
		fn(arg, &in);
		ret = 1;
	} else if (rc == SQLITE_DONE)
		ret = 0;
	else {
		store_sqlerr(st, "get incident");
		ret = -1;
	}
	store_stmt_put(s, tmp);
	return ret;
}

int
store_evidence_foreach(struct store *st, int64_t incident_id,
    store_evidence_fn fn, void *arg)
{
	sqlite3_stmt *s;
	int tmp, rc, ret = 0;

	if ((s = store_stmt_get(st, S_EVIDENCE_LIST, &tmp)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, incident_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((ret = fn(arg, sqlite3_column_int(s, 0), col_str(s, 1),
		    sqlite3_column_int(s, 2) == 1)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "list evidence");
		ret = -1;
	}
	store_stmt_put(s, tmp);
	return ret;
}

/* Reads status and assignee of id: 1, 0 (with a message) or -1. */
static int
incident_state(struct store *st, int64_t id, int *status, char *assignee,
    size_t asz)
{
	sqlite3_stmt *s = st->stmt[S_INC_STATE];
	int rc, ret = -1;

	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*status = store_status_parse(col_str(s, 0));
		snprintf(assignee, asz, "%s", col_str(s, 1));
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		store_seterr(st, "no such incident %lld", (long long)id);
		ret = 0;
	} else
		store_sqlerr(st, "incident");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

/* Explains why from -> to is refused, naming the moves that are allowed. */
static void
transition_refused(struct store *st, int64_t id, int from, int to)
{
	char next[128] = "";
	size_t len = 0;
	int i;

	if (from == to) {
		store_seterr(st, "incident %lld is already %s", (long long)id,
		    store_status_name(from));
		return;
	}
	if (from >= STORE_ST_RESOLVED) {
		store_seterr(st, "incident %lld is closed (%s); closed incidents do not"
		    " change (a new hit opens a new incident)", (long long)id,
		    store_status_name(from));
		return;
	}
	for (i = 0; i < STORE_ST_COUNT; i++) {
		if (!store_status_allowed(from, i))
			continue;
		len += snprintf(next + len, sizeof(next) - len, "%s%s",
		    len ? ", " : "", store_status_name(i));
	}
	store_seterr(st, "incident %lld is %s and cannot go back to %s (next: %s)",
	    (long long)id, store_status_name(from), store_status_name(to), next);
}

int
store_incident_transition(struct store *st, int64_t id, int to,
    const char *actor, const char *note, int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_INC_SET_STATUS];
	char assignee[256];
	int own, from;

	if (to < 0 || to >= STORE_ST_COUNT) {
		store_seterr(st, "invalid status %d", to);
		return -1;
	}
	if (store_tx_enter(st, &own) == -1)
		return -1;
	if (incident_state(st, id, &from, assignee, sizeof(assignee)) != 1)
		goto fail;
	if (!store_status_allowed(from, to)) {
		transition_refused(st, id, from, to);
		goto fail;
	}
	/* the audit row first: the schema checks it before the change */
	if (store_audit_add(st, id, actor, store_status_name(to), note,
	    now_ns) == -1)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	bind_str(s, 2, store_status_name(to));
	sqlite3_bind_int64(s, 3, now_ns);
	if (store_exec(st, s, "set status") == -1 ||
	    store_outbox_touch(st, id) == -1)	/* forwarding: same transaction */
		goto fail;
	return store_tx_leave(st, own, 0);
fail:
	return store_tx_leave(st, own, -1);
}

/* The open incident of id's key other than id: its id, 0 none, -1 error. */
static int64_t
incident_open_twin(struct store *st, int64_t id)
{
	sqlite3_stmt *s = st->stmt[S_INC_OPEN_TWIN];
	int64_t twin = -1;
	int rc;

	sqlite3_bind_int64(s, 1, id);
	if ((rc = store_step1(st, s, "incident")) == 1)
		twin = sqlite3_column_int64(s, 0);
	else if (rc == 0)
		twin = 0;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return twin;
}

/*
 * An analyst reopens a closed incident (resolved, or a false positive
 * after all): back to new, closed_at cleared, assignee kept, audit row
 * "reopened" first (the schema checks it).  Refused for an open incident
 * and while another incident of the same key is open (at most one per
 * key: that one is where the key's alerts go now).
 */
int
store_incident_reopen(struct store *st, int64_t id, const char *actor,
    const char *note, int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_INC_REOPEN];
	char assignee[256], text[1024];
	int64_t twin;
	int own, status;

	if (store_tx_enter(st, &own) == -1)
		return -1;
	if (incident_state(st, id, &status, assignee, sizeof(assignee)) != 1)
		goto fail;
	if (status < STORE_ST_RESOLVED) {
		store_seterr(st, "incident %lld is open (%s); only a resolved or"
		    " false_positive incident can be reopened", (long long)id,
		    store_status_name(status));
		goto fail;
	}
	if ((twin = incident_open_twin(st, id)) == -1)
		goto fail;
	if (twin > 0) {
		store_seterr(st, "incident %lld cannot be reopened: incident %lld"
		    " of the same rule, agency and group key is open (work on that"
		    " one)", (long long)id, (long long)twin);
		goto fail;
	}
	snprintf(text, sizeof(text), "was %s%s%s", store_status_name(status),
	    note && *note ? ": " : "", note ? note : "");
	if (store_audit_add(st, id, actor, "reopened", text, now_ns) == -1)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now_ns);
	if (store_exec(st, s, "reopen incident") == -1 ||
	    store_outbox_touch(st, id) == -1)	/* forwarding: same transaction */
		goto fail;
	return store_tx_leave(st, own, 0);
fail:
	return store_tx_leave(st, own, -1);
}

int
store_incident_assign(struct store *st, int64_t id, const char *assignee,
    const char *actor, const char *note, int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_INC_SET_ASSIGNEE];
	char old[256], text[1024];
	int own, status;

	if (store_tx_enter(st, &own) == -1)
		return -1;
	if (incident_state(st, id, &status, old, sizeof(old)) != 1)
		goto fail;
	if (status >= STORE_ST_RESOLVED) {
		store_seterr(st, "incident %lld is closed (%s); closed incidents are"
		    " not reassigned", (long long)id, store_status_name(status));
		goto fail;
	}
	if (strcmp(old, assignee) == 0) {
		store_seterr(st, "incident %lld is already assigned to %s",
		    (long long)id, assignee[0] ? assignee : "nobody");
		goto fail;
	}
	sqlite3_bind_int64(s, 1, id);
	bind_str(s, 2, assignee);
	sqlite3_bind_int64(s, 3, now_ns);
	if (assignee[0] == '\0')
		snprintf(text, sizeof(text), "from %s%s%s", old,
		    note && *note ? ": " : "", note ? note : "");
	else
		snprintf(text, sizeof(text), "to %s%s%s", assignee,
		    note && *note ? ": " : "", note ? note : "");
	if (store_audit_add(st, id, actor, assignee[0] ? "assigned" : "unassigned",
	    text, now_ns) == -1 || store_exec(st, s, "assign") == -1)
		goto fail;
	return store_tx_leave(st, own, 0);
fail:
	return store_tx_leave(st, own, -1);
}

int
store_incident_note(struct store *st, int64_t id, const char *actor,
    const char *note, int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_INC_TOUCH];
	char assignee[256];
	int own, status;

	if (store_tx_enter(st, &own) == -1)
		return -1;
	if (incident_state(st, id, &status, assignee, sizeof(assignee)) != 1)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now_ns);
	if (store_exec(st, s, "note") == -1 ||
	    store_audit_add(st, id, actor, "note", note, now_ns) == -1)
		goto fail;
	return store_tx_leave(st, own, 0);
fail:
	return store_tx_leave(st, own, -1);
}
