/*
 * Indicator sets in the database (store-intel.h).  Not on the ingest
 * path except store_intel_note() (once per incident write of an
 * indicator hit): statements are prepared per call, outside the
 * statement cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"
#include "store-intel.h"

static sqlite3_stmt *
prep(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		store_sqlerr(st, "prepare");
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

/* Runs sql (no rows) with up to two text parameters: changes, or -1. */
static int64_t
run(struct store *st, const char *sql, const char *a, const char *b)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, sql)) == NULL)
		return -1;
	if (a != NULL)
		bind_str(s, 1, a);
	if (b != NULL)
		bind_str(s, 2, b);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_sqlerr(st, "intel");
		return -1;
	}
	return sqlite3_changes64(st->db);
}

static int
bump(struct store *st)
{
	return run(st, "UPDATE intel_state SET version = version + 1", NULL,
	    NULL) == -1 ? -1 : 0;
}

#define CHUNK_ROWS	20000	/* rows per write transaction (well under a second) */

/* Runs sql in a short transaction of its own: changes, or -1. */
static int64_t
run_tx(struct store *st, const char *sql, const char *a, int64_t v)
{
	sqlite3_stmt *s;
	int64_t n = -1;
	int rc;

	if (store_begin(st) == -1)
		return -1;
	if ((s = prep(st, sql)) != NULL) {
		bind_str(s, 1, a);
		sqlite3_bind_int64(s, 2, v);
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc == SQLITE_DONE)
			n = sqlite3_changes64(st->db);
		else
			store_sqlerr(st, "intel");
	}
	if (n == -1 || store_commit(st) == -1) {
		store_rollback(st);
		return -1;
	}
	return n;
}

/* Deletes source's rows whose version matches cond against keep ("!="
 * other than keep, ">" above it: an import undone), a chunk per
 * transaction so the correlator's writes are never held up long. */
static int64_t
delete_chunked(struct store *st, const char *source, const char *cond,
    int64_t keep)
{
	char sql[256];
	int64_t n, total = 0;

	snprintf(sql, sizeof(sql), "DELETE FROM indicators WHERE (value, type,"
	    " source, version) IN (SELECT value, type, source, version FROM"
	    " indicators WHERE source = ?1 AND version %s ?2 LIMIT %d)",
	    cond, CHUNK_ROWS);
	do {
		if ((n = run_tx(st, sql, source, keep)) == -1)
			return -1;
		total += n;
	} while (n > 0);
	return total;
}

static int64_t
delete_rows(struct store *st, const char *source, int64_t keep)
{
	return delete_chunked(st, source, "!=", keep);
}

static int64_t
delete_rows_above(struct store *st, const char *source, int64_t keep)
{
	return delete_chunked(st, source, ">", keep);
}

/* The version the next import of source writes: above any seen. */
static int
next_version(struct store *st, const char *source, int64_t *v)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, "SELECT max(coalesce((SELECT version FROM intel_sets"
	    " WHERE source = ?1), 0), coalesce((SELECT max(version) FROM"
	    " indicators WHERE source = ?1), 0), coalesce((SELECT max(version) FROM"
	    " intel_delta WHERE source = ?1), 0))")) == NULL)
		return -1;
	bind_str(s, 1, source);
	rc = sqlite3_step(s);
	*v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) + 1 : 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW) {
		store_sqlerr(st, "intel version");
		return -1;
	}
	return 0;
}

int
store_intel_import(struct store *st, const char *source, const char *origin,
    store_intel_next_fn next, void *arg, int64_t now_ns, size_t *count,
    int64_t *version)
{
	sqlite3_stmt *ins = NULL, *q = NULL;
	struct intel_ind ind;
	int64_t v, active = 0;
	int rc = 1, n, ok = -1;

	*count = 0;
	/* what a crashed import left behind is no version in force */
	if (next_version(st, source, &v) == -1)
		return -1;
	if ((q = prep(st, "SELECT version FROM intel_sets WHERE source = ?"))
	    == NULL)
		return -1;
	bind_str(q, 1, source);
	if (sqlite3_step(q) == SQLITE_ROW)
		active = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	q = NULL;
	if (v - 1 > active && delete_rows_above(st, source, active) == -1)
		return -1;
	if ((ins = prep(st, "INSERT INTO indicators (value, type, source,"
	    " confidence, tags, first_seen, last_seen, expires, version)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
	    " ON CONFLICT (value, type, source, version) DO UPDATE SET"
	    " confidence = max(confidence, excluded.confidence),"
	    " expires = CASE WHEN expires = 0 OR excluded.expires = 0 THEN 0"
	    "  ELSE max(expires, excluded.expires) END,"
	    " first_seen = CASE WHEN first_seen = 0 THEN excluded.first_seen"
	    "  WHEN excluded.first_seen = 0 THEN first_seen"
	    "  ELSE min(first_seen, excluded.first_seen) END,"
	    " last_seen = max(last_seen, excluded.last_seen),"
	    " tags = CASE WHEN tags = '' THEN excluded.tags ELSE tags END"))
	    == NULL)
		return -1;
	/* the new version beside the one in force, a chunk at a time */
	while (rc == 1) {
		if (store_begin(st) == -1)
			goto fail;
		for (n = 0; n < CHUNK_ROWS && (rc = next(arg, &ind)) == 1; n++) {
			sqlite3_bind_text(ins, 1, ind.value, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(ins, 2, intel_type_name(ind.type), -1,
			    SQLITE_STATIC);
			bind_str(ins, 3, source);
			sqlite3_bind_int(ins, 4, ind.confidence);
			sqlite3_bind_text(ins, 5, ind.tags ? ind.tags : "", -1,
			    SQLITE_TRANSIENT);
			sqlite3_bind_int64(ins, 6, ind.first_seen);
			sqlite3_bind_int64(ins, 7, ind.last_seen);
			sqlite3_bind_int64(ins, 8, ind.expires);
			sqlite3_bind_int64(ins, 9, v);
			if (store_exec(st, ins, "indicator") == -1)
				break;
		}
		if (rc == -1)
			store_seterr(st, "import stopped: out of memory");
		if ((rc == 1 && n < CHUNK_ROWS) || rc == -1 ||
		    store_commit(st) == -1) {
			store_rollback(st);
			goto fail;
		}
	}
	/* the switch: one short transaction */
	if (store_begin(st) == -1)
		goto fail;
	if ((q = prep(st, "SELECT count(*) FROM indicators WHERE source = ?"
	    " AND version = ?")) == NULL)
		goto undo;
	bind_str(q, 1, source);
	sqlite3_bind_int64(q, 2, v);
	if (sqlite3_step(q) != SQLITE_ROW) {
		store_sqlerr(st, "count");
		goto undo;
	}
	*count = (size_t)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if ((q = prep(st, "INSERT INTO intel_sets (source, origin, version,"
	    " count, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)"
	    " ON CONFLICT (source) DO UPDATE SET origin = excluded.origin,"
	    " version = excluded.version, count = excluded.count,"
	    " updated_at = excluded.updated_at")) == NULL)
		goto undo;
	bind_str(q, 1, source);
	bind_str(q, 2, origin);
	sqlite3_bind_int64(q, 3, v);
	sqlite3_bind_int64(q, 4, (int64_t)*count);
	sqlite3_bind_int64(q, 5, now_ns);
	if (sqlite3_step(q) != SQLITE_DONE) {
		store_sqlerr(st, "intel set");
		goto undo;
	}
	/* a local set's changes, for the provinces that have the version
	 * before (store-intel-push.c) */
	if (strcmp(origin, "local") == 0 && active > 0 &&
	    store_intel_delta_record(st, source, active, v) == -1)
		goto undo;
	if (bump(st) == -1 || store_commit(st) == -1)
		goto undo;
	*version = v;
	ok = 0;
	/* the old version goes, a chunk at a time (a failure here leaves
	 * rows no version in force points at: the next import removes them) */
	delete_rows(st, source, v);
	goto fail;
undo:
	store_rollback(st);
fail:
	sqlite3_finalize(ins);
	sqlite3_finalize(q);
	if (ok == -1)
		delete_rows_above(st, source, active);
	return ok;
}

int64_t
store_intel_remove_source(struct store *st, const char *source)
{
	int64_t n, count = 0;
	sqlite3_stmt *q;

	if ((q = prep(st, "SELECT count FROM intel_sets WHERE source = ?")) == NULL)
		return -1;
	bind_str(q, 1, source);
	if (sqlite3_step(q) == SQLITE_ROW)
		count = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	/* out of force first (one short transaction), then the rows */
	if (store_begin(st) == -1)
		return -1;
	if ((n = run(st, "DELETE FROM intel_sets WHERE source = ?", source,
	    NULL)) == -1 || bump(st) == -1 || store_commit(st) == -1) {
		store_rollback(st);
		return -1;
	}
	if (delete_rows(st, source, 0) == -1)
		return -1;
	return n == 0 ? 0 : count > 0 ? count : n;
}

int64_t
store_intel_remove_value(struct store *st, const char *value)
{
	int64_t n;
	int own;

	if (store_tx_enter(st, &own) == -1)
		return -1;
	if ((n = run(st, "DELETE FROM indicators WHERE value = ? AND"
	    " (source, version) IN (SELECT source, version FROM intel_sets)",
	    value, NULL)) == -1 || run(st, "UPDATE intel_sets SET count ="
	    " (SELECT count(*) FROM indicators i WHERE i.source ="
	    " intel_sets.source AND i.version = intel_sets.version)", NULL,
	    NULL) == -1 || bump(st) == -1)
		n = -1;
	if (store_tx_leave(st, own, n == -1 ? -1 : 0) == -1)
		return -1;
	return n;
}

int
store_intel_version(struct store *st, int64_t *version)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, "SELECT version FROM intel_state WHERE id = 1")) == NULL)
		return -1;
	rc = sqlite3_step(s);
	*version = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "intel version");
		return -1;
	}
	return 0;
}

int
store_intel_sets(struct store *st, store_intel_set_fn fn, void *arg)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, "SELECT source, origin, version, count, updated_at,"
	    " pub_version, pub_kind, pub_records, pub_bytes,"
	    " (SELECT count(*) FROM intel_acks a WHERE a.source ="
	    " intel_sets.source AND a.version >= intel_sets.version)"
	    " FROM intel_sets ORDER BY source")) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_intel_set r = {
			.source = col_str(s, 0), .origin = col_str(s, 1),
			.version = sqlite3_column_int64(s, 2),
			.count = sqlite3_column_int64(s, 3),
			.updated_at = sqlite3_column_int64(s, 4),
			.pub_version = sqlite3_column_int64(s, 5),
			.pub_kind = col_str(s, 6),
			.pub_records = sqlite3_column_int64(s, 7),
			.pub_bytes = sqlite3_column_int64(s, 8),
			.acked = sqlite3_column_int64(s, 9),
		};

		if ((rc = fn(arg, &r)) != 0)
			break;
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		store_sqlerr(st, "intel sets");
	return -1;
}

static void
row_ind(sqlite3_stmt *s, int i, struct intel_ind *o)
{
	o->value = col_str(s, i);
	o->type = intel_type_parse(col_str(s, i + 1));
	o->source = col_str(s, i + 2);
	o->confidence = sqlite3_column_int(s, i + 3);
	o->tags = col_str(s, i + 4);
}

int
store_intel_foreach(struct store *st, const char *source, const char *value,
    store_intel_fn fn, void *arg)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, "SELECT value, type, source, confidence, tags,"
	    " first_seen, last_seen, expires FROM indicators i"
	    " WHERE (?1 IS NULL OR source = ?1) AND (?2 IS NULL OR value = ?2)"
	    " AND version = (SELECT version FROM intel_sets s WHERE s.source ="
	    " i.source) ORDER BY source, type, value")) == NULL)
		return -1;
	bind_str(s, 1, source);
	bind_str(s, 2, value);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct intel_ind ind;

		row_ind(s, 0, &ind);
		ind.first_seen = sqlite3_column_int64(s, 5);
		ind.last_seen = sqlite3_column_int64(s, 6);
		ind.expires = sqlite3_column_int64(s, 7);
		if (ind.type < 0)
			continue;
		if ((rc = fn(arg, &ind)) != 0)
			break;
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		store_sqlerr(st, "indicators");
	return -1;
}

int
store_intel_note(struct store *st, int64_t incident_id,
    const struct intel_ind *ind, const char *field)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, "INSERT OR REPLACE INTO incident_indicators"
	    " (incident_id, type, value, source, tags, confidence, field)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?)")) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, incident_id);
	bind_str(s, 2, intel_type_name(ind->type));
	bind_str(s, 3, ind->value);
	bind_str(s, 4, ind->source);
	bind_str(s, 5, ind->tags ? ind->tags : "");
	sqlite3_bind_int(s, 6, ind->confidence);
	bind_str(s, 7, field ? field : "");
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_sqlerr(st, "incident indicator");
		return -1;
	}
	return 0;
}

int
store_intel_incident(struct store *st, int64_t incident_id,
    int (*fn)(void *arg, const struct intel_ind *ind, const char *field),
    void *arg)
{
	sqlite3_stmt *s;
	int rc, found = 0;

	if ((s = prep(st, "SELECT value, type, source, confidence, tags, field"
	    " FROM incident_indicators WHERE incident_id = ?")) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, incident_id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct intel_ind ind = { 0 };

		row_ind(s, 0, &ind);
		found = 1;
		rc = fn(arg, &ind, col_str(s, 5)) == 0 ? SQLITE_DONE : SQLITE_ERROR;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_sqlerr(st, "incident indicator");
		return -1;
	}
	return found;
}

int
store_intel_scan(struct store *st, int64_t now_ns, store_intel_fn fn,
    void *arg, int64_t *version)
{
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_ERROR;

	if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		store_sqlerr(st, "begin");
		return -1;
	}
	if (store_intel_version(st, version) == -1)
		goto done;
	if ((s = prep(st, "SELECT value, type, source, confidence, tags,"
	    " first_seen, last_seen, expires FROM indicators i"
	    " WHERE (expires = 0 OR expires > ?) AND version = (SELECT version"
	    " FROM intel_sets s WHERE s.source = i.source)")) == NULL)
		goto done;
	sqlite3_bind_int64(s, 1, now_ns);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct intel_ind ind;

		row_ind(s, 0, &ind);
		ind.first_seen = sqlite3_column_int64(s, 5);
		ind.last_seen = sqlite3_column_int64(s, 6);
		ind.expires = sqlite3_column_int64(s, 7);
		if (ind.type < 0)
			continue;
		if (fn(arg, &ind) != 0) {
			store_seterr(st, "out of memory");
			break;
		}
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		store_sqlerr(st, "indicators");
done:
	sqlite3_finalize(s);
	sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	return rc == SQLITE_DONE ? 0 : -1;
}
