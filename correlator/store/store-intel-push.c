/*
 * Indicator sets pushed down (store-intel.h, docs/NATIONAL.md): the
 * changes each import of a local set made, read back as one update for a
 * province; the versions provinces acknowledged; a delta applied in
 * place to a province's copy; and, nationally, the sightings of each
 * indicator.  Not on the ingest path except store_intel_sighting() (once
 * per forwarded intel incident revision): statements are prepared per
 * call.
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

/* Steps s (no rows wanted) and finalizes it: 0 / -1. */
static int
done(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_finalize(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_sqlerr(st, what);
		return -1;
	}
	return 0;
}

int
store_intel_delta_record(struct store *st, const char *source, int64_t from,
    int64_t to)
{
	static const char *const sql[] = {
		/* added or changed in `to` */
		"INSERT OR REPLACE INTO intel_delta (source, version, op, value,"
		" type, confidence, tags, first_seen, last_seen, expires)"
		" SELECT source, ?3, 'add', value, type, confidence, tags,"
		" first_seen, last_seen, expires FROM indicators n"
		" WHERE source = ?1 AND version = ?3 AND NOT EXISTS (SELECT 1"
		" FROM indicators o WHERE o.value = n.value AND o.type = n.type"
		" AND o.source = n.source AND o.version = ?2 AND o.confidence ="
		" n.confidence AND o.tags = n.tags AND o.first_seen = n.first_seen"
		" AND o.last_seen = n.last_seen AND o.expires = n.expires)",
		/* gone in `to` */
		"INSERT OR REPLACE INTO intel_delta (source, version, op, value,"
		" type) SELECT source, ?3, 'del', value, type FROM indicators o"
		" WHERE source = ?1 AND version = ?2 AND NOT EXISTS (SELECT 1"
		" FROM indicators n WHERE n.value = o.value AND n.type = o.type"
		" AND n.source = o.source AND n.version = ?3)",
		/* the mark: every change from ?2 to ?3 is here */
		"INSERT OR REPLACE INTO intel_delta (source, version, op, value,"
		" type, confidence) VALUES (?1, ?3, 'v', '', '', ?2)",
		"DELETE FROM intel_delta WHERE source = ?1 AND version <= ?3 - "
		"?4",
	};
	sqlite3_stmt *s;
	size_t i;

	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if ((s = prep(st, sql[i])) == NULL)
			return -1;
		bind_str(s, 1, source);
		if (sqlite3_bind_parameter_count(s) >= 2)
			sqlite3_bind_int64(s, 2, from);
		sqlite3_bind_int64(s, 3, to);
		if (sqlite3_bind_parameter_count(s) >= 4)
			sqlite3_bind_int64(s, 4, INTEL_DELTA_KEEP);
		if (done(st, s, "intel delta") == -1)
			return -1;
	}
	return 0;
}

int
store_intel_delta_covers(struct store *st, const char *source, int64_t from,
    int64_t to)
{
	sqlite3_stmt *s;
	int64_t n, chained;

	if (from <= 0 || to <= from)
		return 0;
	/* each version's mark names the version it was made from: the
	 * chain from..to is whole when every step is marked and follows
	 * the one before */
	if ((s = prep(st, "SELECT count(*), coalesce(sum(confidence = version - 1), 0)"
	    " FROM intel_delta WHERE"
	    " source = ?1 AND op = 'v' AND version > ?2 AND version <= ?3"))
	    == NULL)
		return -1;
	bind_str(s, 1, source);
	sqlite3_bind_int64(s, 2, from);
	sqlite3_bind_int64(s, 3, to);
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_sqlerr(st, "intel delta");
		sqlite3_finalize(s);
		return -1;
	}
	n = sqlite3_column_int64(s, 0);
	chained = sqlite3_column_int64(s, 1);
	sqlite3_finalize(s);
	return n == to - from && chained == n;
}

static void
row_ind(sqlite3_stmt *s, struct intel_ind *o)
{
	o->value = col_str(s, 0);
	o->type = intel_type_parse(col_str(s, 1));
	o->source = NULL;
	o->confidence = sqlite3_column_int(s, 2);
	o->tags = col_str(s, 3);
	o->first_seen = sqlite3_column_int64(s, 4);
	o->last_seen = sqlite3_column_int64(s, 5);
	o->expires = sqlite3_column_int64(s, 6);
}

int
store_intel_update(struct store *st, const char *source, int64_t from,
    int full, store_intel_op_fn fn, void *arg, int64_t *to)
{
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_ERROR;

	*to = 0;
	if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		store_sqlerr(st, "begin");
		return -1;
	}
	if ((s = prep(st, "SELECT version FROM intel_sets WHERE source = ?"))
	    == NULL)
		goto out;
	bind_str(s, 1, source);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*to = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW) {
		store_seterr(st, "no set %s", source);
		s = NULL;
		rc = SQLITE_ERROR;
		goto out;
	}
	if (full)
		s = prep(st, "SELECT value, type, confidence, tags, first_seen,"
		    " last_seen, expires, 'add' FROM indicators WHERE source = ?1"
		    " AND version = ?3");
	else
		s = prep(st, "SELECT value, type, confidence, tags, first_seen,"
		    " last_seen, expires, op FROM intel_delta WHERE source = ?1"
		    " AND version > ?2 AND version <= ?3 AND op != 'v'"
		    " ORDER BY version");
	if (s == NULL) {
		rc = SQLITE_ERROR;
		goto out;
	}
	bind_str(s, 1, source);
	if (!full)
		sqlite3_bind_int64(s, 2, from);
	sqlite3_bind_int64(s, 3, *to);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct intel_ind ind;

		row_ind(s, &ind);
		if (ind.type < 0)
			continue;
		if (fn(arg, strcmp(col_str(s, 7), "del") == 0 ? 2 : 1, &ind) != 0) {
			store_seterr(st, "update not sent");
			break;
		}
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		store_sqlerr(st, "intel update");
out:
	sqlite3_finalize(s);
	sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_intel_ack(struct store *st, const char *province, const char *source,
    int64_t version, int64_t now_ns)
{
	sqlite3_stmt *s;
	int own, rc;

	if (store_tx_enter(st, &own) == -1)
		return -1;
	if ((s = prep(st, "INSERT INTO intel_acks (province, source, version,"
	    " acked_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (province, source)"
	    " DO UPDATE SET version = excluded.version, acked_at ="
	    " excluded.acked_at WHERE excluded.version > version")) == NULL) {
		store_tx_leave(st, own, -1);
		return -1;
	}
	bind_str(s, 1, province);
	bind_str(s, 2, source);
	sqlite3_bind_int64(s, 3, version);
	sqlite3_bind_int64(s, 4, now_ns);
	rc = done(st, s, "intel ack");
	if (store_tx_leave(st, own, rc) == -1 || rc == -1)
		return -1;
	return sqlite3_changes(st->db) > 0;
}

int
store_intel_acks(struct store *st, const char *source,
    int (*fn)(void *arg, const struct store_intel_ackrow *a), void *arg)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, "SELECT province, source, version, acked_at FROM"
	    " intel_acks WHERE ?1 IS NULL OR source = ?1 ORDER BY source,"
	    " province")) == NULL)
		return -1;
	bind_str(s, 1, source);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_intel_ackrow a = {
			.province = col_str(s, 0), .source = col_str(s, 1),
			.version = sqlite3_column_int64(s, 2),
			.acked_at = sqlite3_column_int64(s, 3),
		};

		if ((rc = fn(arg, &a)) != 0)
			break;
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		store_sqlerr(st, "intel acks");
	return -1;
}

int
store_intel_apply_delta(struct store *st, const char *source, int64_t from,
    int64_t to, const struct store_intel_op *ops, size_t n, int64_t bytes,
    int64_t now_ns)
{
	sqlite3_stmt *q = NULL, *del = NULL, *ins = NULL, *up = NULL;
	int64_t gen = 0, at = -1;
	size_t i;
	int rc = -1;

	if (store_begin(st) == -1)
		return -1;
	if ((q = prep(st, "SELECT version, pub_version FROM intel_sets WHERE"
	    " source = ?")) == NULL)
		goto out;
	bind_str(q, 1, source);
	if (sqlite3_step(q) == SQLITE_ROW) {
		gen = sqlite3_column_int64(q, 0);
		at = sqlite3_column_int64(q, 1);
	}
	if (at != from) {
		rc = 0;		/* not the version these changes follow */
		goto out;
	}
	if ((del = prep(st, "DELETE FROM indicators WHERE value = ? AND type = ?"
	    " AND source = ? AND version = ?")) == NULL ||
	    (ins = prep(st, "INSERT OR REPLACE INTO indicators (value, type,"
	    " source, confidence, tags, first_seen, last_seen, expires, version)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		const struct intel_ind *d = &ops[i].ind;
		sqlite3_stmt *s = ops[i].op == 2 ? del : ins;

		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, d->value, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, intel_type_name(d->type), -1, SQLITE_STATIC);
		bind_str(s, 3, source);
		if (ops[i].op == 2)
			sqlite3_bind_int64(s, 4, gen);
		else {
			sqlite3_bind_int(s, 4, d->confidence);
			sqlite3_bind_text(s, 5, d->tags ? d->tags : "", -1,
			    SQLITE_STATIC);
			sqlite3_bind_int64(s, 6, d->first_seen);
			sqlite3_bind_int64(s, 7, d->last_seen);
			sqlite3_bind_int64(s, 8, d->expires);
			sqlite3_bind_int64(s, 9, gen);
		}
		if (sqlite3_step(s) != SQLITE_DONE) {
			store_sqlerr(st, "intel delta");
			goto out;
		}
	}
	if ((up = prep(st, "UPDATE intel_sets SET pub_version = ?2, pub_kind ="
	    " 'delta', pub_records = ?3, pub_bytes = ?4, updated_at = ?5,"
	    " count = (SELECT count(*) FROM indicators i WHERE i.source = ?1"
	    " AND i.version = intel_sets.version) WHERE source = ?1")) == NULL)
		goto out;
	bind_str(up, 1, source);
	sqlite3_bind_int64(up, 2, to);
	sqlite3_bind_int64(up, 3, (int64_t)n);
	sqlite3_bind_int64(up, 4, bytes);
	sqlite3_bind_int64(up, 5, now_ns);
	if (done(st, up, "intel set") == -1)
		goto out2;
	up = NULL;
	if ((up = prep(st, "UPDATE intel_state SET version = version + 1"))
	    == NULL || done(st, up, "intel version") == -1)
		goto out2;
	up = NULL;
	rc = 1;
	goto out;
out2:
	up = NULL;
out:
	sqlite3_finalize(q);
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	sqlite3_finalize(up);
	if (rc == 1 && store_commit(st) == 0)
		return 1;
	store_rollback(st);
	return rc == 1 ? -1 : rc;
}

int
store_intel_pub_done(struct store *st, const char *source, int64_t to,
    const char *kind, int64_t records, int64_t bytes)
{
	sqlite3_stmt *s;

	if ((s = prep(st, "UPDATE intel_sets SET pub_version = ?2, pub_kind ="
	    " ?3, pub_records = ?4, pub_bytes = ?5 WHERE source = ?1")) == NULL)
		return -1;
	bind_str(s, 1, source);
	sqlite3_bind_int64(s, 2, to);
	bind_str(s, 3, kind);
	sqlite3_bind_int64(s, 4, records);
	sqlite3_bind_int64(s, 5, bytes);
	return done(st, s, "intel set");
}

int
store_intel_sighting(struct store *st, const char *type, const char *value,
    const char *province, const char *agency, int64_t incident, int64_t count,
    int64_t first, int64_t last)
{
	sqlite3_stmt *s;

	if ((s = prep(st, "INSERT INTO intel_sightings (value, type, province,"
	    " agency, incident, count, first_seen, last_seen) VALUES (?1, ?2,"
	    " ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (value, type, province,"
	    " incident) DO UPDATE SET agency = excluded.agency, count ="
	    " excluded.count, first_seen = excluded.first_seen, last_seen ="
	    " excluded.last_seen")) == NULL)
		return -1;
	bind_str(s, 1, value);
	bind_str(s, 2, type);
	bind_str(s, 3, province);
	bind_str(s, 4, agency);
	sqlite3_bind_int64(s, 5, incident);
	sqlite3_bind_int64(s, 6, count);
	sqlite3_bind_int64(s, 7, first);
	sqlite3_bind_int64(s, 8, last);
	return done(st, s, "intel sighting");
}

int
store_intel_sightings(struct store *st, const char *value,
    int (*fn)(void *arg, const struct store_intel_seen *s), void *arg)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, "SELECT province, agency, count(*), sum(count),"
	    " min(first_seen), max(last_seen) FROM intel_sightings WHERE"
	    " value = ? GROUP BY province, agency ORDER BY province, agency"))
	    == NULL)
		return -1;
	bind_str(s, 1, value);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_intel_seen r = {
			.province = col_str(s, 0), .agency = col_str(s, 1),
			.incidents = sqlite3_column_int64(s, 2),
			.count = sqlite3_column_int64(s, 3),
			.first_seen = sqlite3_column_int64(s, 4),
			.last_seen = sqlite3_column_int64(s, 5),
		};

		if ((rc = fn(arg, &r)) != 0)
			break;
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		store_sqlerr(st, "intel sightings");
	return -1;
}

int
store_has_forwarded(struct store *st)
{
	sqlite3_stmt *s;
	int rc, v = 0;

	if ((s = prep(st, "SELECT EXISTS (SELECT 1 FROM incidents WHERE"
	    " origin_name IS NOT NULL)")) == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW) {
		store_sqlerr(st, "incidents");
		return -1;
	}
	return v;
}

int
store_province_tree(struct store *st, const char *province, const char *code,
    const char *name, const char *const *parents, size_t n, int64_t now_ns)
{
	sqlite3_stmt *s;
	const char *c = code, *nm = name;
	size_t i;
	int rc;

	if ((s = prep(st, "INSERT INTO province_tree (province, code, name,"
	    " parent, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT"
	    " (province, code) DO UPDATE SET name = CASE WHEN excluded.name"
	    " != '' THEN excluded.name ELSE name END, parent = excluded.parent,"
	    " updated_at = excluded.updated_at")) == NULL)
		return -1;
	for (i = 0; i <= n; i++) {
		sqlite3_reset(s);
		bind_str(s, 1, province);
		bind_str(s, 2, c);
		bind_str(s, 3, nm ? nm : "");
		bind_str(s, 4, i < n ? parents[i] : "");
		sqlite3_bind_int64(s, 5, now_ns);
		if ((rc = sqlite3_step(s)) != SQLITE_DONE) {
			store_sqlerr(st, "province tree");
			sqlite3_finalize(s);
			return -1;
		}
		if (i < n) {
			c = parents[i];
			nm = NULL;
		}
	}
	sqlite3_finalize(s);
	return 0;
}
