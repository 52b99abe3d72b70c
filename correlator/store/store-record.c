/*
 * The store's records about agencies, the evidence behind coverage layers
 * 1 and 3 (responders on record, independent assessments), and the totals
 * for `socctl stats`.  The agency hierarchy is data, changed by decree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"

const struct store_sql store_record_sql[] = {
	{ S_AGENCY_ADD, "INSERT INTO agencies (code, name, parent, created_at)"
	    " VALUES (?1, ?2, ?3, ?4)" },
	{ S_AGENCY_EXISTS, "SELECT 1 FROM agencies WHERE code = ?1" },
	{ S_AGENCY_LIST, "SELECT code, name, coalesce(parent, ''), created_at,"
	    " (SELECT count(*) FROM sensors s WHERE s.agency = a.code"
	    "  AND s.revoked = 0),"
	    " (SELECT count(*) FROM incidents i WHERE i.agency = a.code"
	    "  AND i.status IN " OPEN_SQL ")"
	    " FROM agencies a ORDER BY code" },
	{ S_RESP_ADD, "INSERT INTO responders (agency, name, contact, added_at)"
	    " VALUES (?1, ?2, ?3, ?4)" },
	{ S_RESP_EXISTS, "SELECT 1 FROM responders WHERE agency = ?1 AND name = ?2" },
	{ S_RESP_LIST, "SELECT agency, name, contact, added_at,"
	    " coalesce(k.email, ''), coalesce(k.webhook, ''),"
	    " coalesce(k.command, ''), coalesce(k.template, '')"
	    " FROM responders r LEFT JOIN"
	    " responder_contacts k ON k.responder_id = r.id"
	    " WHERE ?1 IS NULL OR agency = ?1 ORDER BY agency, name" },
	{ S_ASSESS_ADD, "INSERT INTO assessments (agency, assessed_at, assessor,"
	    " expires_at) VALUES (?1, ?2, ?3, ?4)" },
	/* No expiry of its own: assessment_months of the agency's highest
	 * system level (level 1 without systems), in calendar months. */
	{ S_ASSESS_LIST, "SELECT agency, assessor, assessed_at, coalesce(expires_at,"
	    " assessed_at % 1000000000 + 1000000000 * CAST(strftime('%s',"
	    " assessed_at / 1000000000, 'unixepoch', '+' || (SELECT"
	    " p.assessment_months FROM level_policy p WHERE p.level = max(1,"
	    " (SELECT coalesce(max(y.level), 1) FROM systems y"
	    " WHERE y.agency = a.agency))) || ' months') AS INTEGER)) AS exp,"
	    " expires_at IS NULL"
	    " FROM assessments a WHERE ?1 IS NULL OR agency = ?1"
	    " ORDER BY agency, exp DESC, id DESC" },
	{ S_STATS, "SELECT (SELECT count(*) FROM agencies),"
	    " (SELECT count(*) FROM sensors WHERE revoked = 0),"
	    " (SELECT count(*) FROM sensors WHERE revoked != 0),"
	    " (SELECT coalesce(sum(events_received), 0) FROM sensors),"
	    " (SELECT coalesce(sum(batches), 0) FROM sensors),"
	    " (SELECT count(*) FROM incidents),"
	    " (SELECT count(*) FROM evidence),"
	    " (SELECT count(*) FROM audit),"
	    " (SELECT count(*) FROM outbox WHERE acked_at IS NULL),"
	    " (SELECT count(*) FROM outbox WHERE acked_at IS NOT NULL)" },
	{ S_STATS_STATUS, "SELECT status, count(*) FROM incidents GROUP BY status" },
	{ S_STATS_SEVERITY, "SELECT severity, count(*) FROM incidents"
	    " GROUP BY severity" },
	{ 0, NULL }
};

/* Runs a one-column existence query on idx with up to two strings. */
static int
exists2(struct store *st, int idx, const char *a, const char *b)
{
	sqlite3_stmt *s;
	int tmp, ret;

	if ((s = store_stmt_get(st, idx, &tmp)) == NULL)
		return -1;
	bind_str(s, 1, a);
	if (b != NULL)
		bind_str(s, 2, b);
	ret = store_step1(st, s, "lookup");
	store_stmt_put(s, tmp);
	return ret;
}


/* ---- agencies ---- */

int
store_agency_exists(struct store *st, const char *code)
{
	return exists2(st, S_AGENCY_EXISTS, code, NULL);
}

int
store_agency_add(struct store *st, const char *code, const char *name,
    const char *parent, int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_AGENCY_ADD];
	int rc;

	if (code[0] == '\0' || strlen(code) >= 64) {
		store_seterr(st, "agency code must be 1 to 63 bytes");
		return -1;
	}
	if (parent != NULL && parent[0] == '\0')
		parent = NULL;
	if ((rc = store_agency_exists(st, code)) != 0) {
		if (rc == 1)
			store_seterr(st, "agency '%s' already exists", code);
		return -1;
	}
	if (parent != NULL && (rc = store_agency_exists(st, parent)) != 1) {
		if (rc == 0)
			store_seterr(st, "no such parent agency '%s'", parent);
		return -1;
	}
	bind_str(s, 1, code);
	bind_str(s, 2, name);
	bind_str(s, 3, parent);
	sqlite3_bind_int64(s, 4, now_ns);
	return store_exec(st, s, "add agency");
}

int
store_agency_foreach(struct store *st, store_agency_fn fn, void *arg)
{
	struct store_agency a;
	sqlite3_stmt *s;
	int tmp, rc, ret = 0;

	if ((s = store_stmt_get(st, S_AGENCY_LIST, &tmp)) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		a.code = col_str(s, 0);
		a.name = col_str(s, 1);
		a.parent = col_str(s, 2);
		a.created_at = sqlite3_column_int64(s, 3);
		a.sensors = (uint64_t)sqlite3_column_int64(s, 4);
		a.open_incidents = (uint64_t)sqlite3_column_int64(s, 5);
		if ((ret = fn(arg, &a)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "list agencies");
		ret = -1;
	}
	store_stmt_put(s, tmp);
	return ret;
}

/* ---- responders and assessments ---- */

int
store_responder_add(struct store *st, const char *agency, const char *name,
    const char *contact, int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_RESP_ADD];
	int rc;

	if ((rc = store_agency_exists(st, agency)) != 1) {
		if (rc == 0)
			store_seterr(st, "no such agency '%s'", agency);
		return -1;
	}
	if ((rc = exists2(st, S_RESP_EXISTS, agency, name)) != 0) {
		if (rc == 1)
			store_seterr(st, "responder '%s' is already on record for %s",
			    name, agency);
		return -1;
	}
	bind_str(s, 1, agency);
	bind_str(s, 2, name);
	bind_str(s, 3, contact ? contact : "");
	sqlite3_bind_int64(s, 4, now_ns);
	return store_exec(st, s, "add responder");
}

int
store_responder_foreach(struct store *st, const char *agency,
    store_responder_fn fn, void *arg)
{
	struct store_responder r;
	sqlite3_stmt *s;
	int tmp, rc, ret = 0;

	if ((s = store_stmt_get(st, S_RESP_LIST, &tmp)) == NULL)
		return -1;
	bind_str(s, 1, agency);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.agency = col_str(s, 0);
		r.name = col_str(s, 1);
		r.contact = col_str(s, 2);
		r.added_at = sqlite3_column_int64(s, 3);
		r.email = col_str(s, 4);
		r.webhook = col_str(s, 5);
		r.command = col_str(s, 6);
		r.tmpl = col_str(s, 7);
		if ((ret = fn(arg, &r)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "list responders");
		ret = -1;
	}
	store_stmt_put(s, tmp);
	return ret;
}

int
store_assessment_add(struct store *st, const char *agency, const char *assessor,
    int64_t assessed_at, int64_t expires_at)
{
	sqlite3_stmt *s = st->stmt[S_ASSESS_ADD];
	int rc;

	if ((rc = store_agency_exists(st, agency)) != 1) {
		if (rc == 0)
			store_seterr(st, "no such agency '%s'", agency);
		return -1;
	}
	if (expires_at != 0 && expires_at <= assessed_at) {
		store_seterr(st, "an assessment must expire after it was made");
		return -1;
	}
	bind_str(s, 1, agency);
	sqlite3_bind_int64(s, 2, assessed_at);
	bind_str(s, 3, assessor);
	if (expires_at != 0)
		sqlite3_bind_int64(s, 4, expires_at);
	else
		sqlite3_bind_null(s, 4);
	return store_exec(st, s, "add assessment");
}

int
store_assessment_foreach(struct store *st, const char *agency,
    store_assessment_fn fn, void *arg)
{
	struct store_assessment a;
	sqlite3_stmt *s;
	int tmp, rc, ret = 0;

	if ((s = store_stmt_get(st, S_ASSESS_LIST, &tmp)) == NULL)
		return -1;
	bind_str(s, 1, agency);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		a.agency = col_str(s, 0);
		a.assessor = col_str(s, 1);
		a.assessed_at = sqlite3_column_int64(s, 2);
		a.expires_at = sqlite3_column_int64(s, 3);
		a.by_level = sqlite3_column_int(s, 4) != 0;
		if ((ret = fn(arg, &a)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "list assessments");
		ret = -1;
	}
	store_stmt_put(s, tmp);
	return ret;
}

/* ---- stats ---- */

/* Steps a GROUP BY (key, count) query into counts[0..n). */
static int
stats_group(struct store *st, int idx, uint64_t *counts, int n, int by_status)
{
	sqlite3_stmt *s = st->stmt[idx];
	int rc, k;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		k = by_status ? store_status_parse(col_str(s, 0)) :
		    sqlite3_column_int(s, 0);
		if (k >= 0 && k < n)
			counts[k] = (uint64_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_sqlerr(st, "stats");
		return -1;
	}
	return 0;
}

int
store_stats_get(struct store *st, struct store_stats *out)
{
	sqlite3_stmt *s = st->stmt[S_STATS];
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->agencies = (uint64_t)sqlite3_column_int64(s, 0);
		out->sensors = (uint64_t)sqlite3_column_int64(s, 1);
		out->sensors_revoked = (uint64_t)sqlite3_column_int64(s, 2);
		out->events_received = (uint64_t)sqlite3_column_int64(s, 3);
		out->batches = (uint64_t)sqlite3_column_int64(s, 4);
		out->incidents = (uint64_t)sqlite3_column_int64(s, 5);
		out->evidence = (uint64_t)sqlite3_column_int64(s, 6);
		out->audit = (uint64_t)sqlite3_column_int64(s, 7);
		out->outbox_pending = (uint64_t)sqlite3_column_int64(s, 8);
		out->forwarded = (uint64_t)sqlite3_column_int64(s, 9);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW) {
		store_sqlerr(st, "stats");
		return -1;
	}
	if (stats_group(st, S_STATS_STATUS, out->by_status, STORE_ST_COUNT, 1) == -1 ||
	    stats_group(st, S_STATS_SEVERITY, out->by_severity, 5, 0) == -1)
		return -1;
	return 0;
}
