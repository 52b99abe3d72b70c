/*
 * The archive's committed position (store.h): one row, written inside
 * the group's transaction (once per group: prepared per call, outside
 * the statement cache).
 */
#include <stdio.h>
#include <string.h>

#include "store-int.h"

static sqlite3_stmt *
prep(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		store_sqlerr(st, "archive");
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

int
store_archive_get(struct store *st, char *dir, size_t dirlen, char *seg,
    size_t seglen, uint64_t *off, uint64_t *events)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, "SELECT dir, segment, seg_offset, events FROM"
	    " archive_state WHERE id = 1")) == NULL)
		return -1;
	if (dir != NULL)
		dir[0] = '\0';
	seg[0] = '\0';
	*off = 0;
	if (events != NULL)
		*events = 0;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (dir != NULL)
			snprintf(dir, dirlen, "%s", col_str(s, 0));
		snprintf(seg, seglen, "%s", col_str(s, 1));
		*off = (uint64_t)sqlite3_column_int64(s, 2);
		if (events != NULL)
			*events = (uint64_t)sqlite3_column_int64(s, 3);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "archive position");
		return -1;
	}
	return 0;
}

int
store_archive_set(struct store *st, const char *seg, uint64_t off,
    uint64_t events_added, int64_t now_ns)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, "UPDATE archive_state SET segment = ?, seg_offset"
	    " = ?, events = events + ?, updated_at = ? WHERE id = 1")) == NULL)
		return -1;
	bind_str(s, 1, seg);
	sqlite3_bind_int64(s, 2, (int64_t)off);
	sqlite3_bind_int64(s, 3, (int64_t)events_added);
	sqlite3_bind_int64(s, 4, now_ns);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_sqlerr(st, "archive position");
		return -1;
	}
	return 0;
}

int
store_archive_start(struct store *st, const char *dir, const char *seg)
{
	sqlite3_stmt *s;
	int rc;

	if (store_begin(st) == -1)
		return -1;
	if ((s = prep(st, "UPDATE archive_state SET dir = ?,"
	    " segment = ?, seg_offset = 0 WHERE id = 1")) ==
	    NULL) {
		store_rollback(st);
		return -1;
	}
	bind_str(s, 1, dir);
	bind_str(s, 2, seg);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE || store_commit(st) == -1) {
		store_sqlerr(st, "archive directory");
		store_rollback(st);
		return -1;
	}
	return 0;
}

int
store_archive_health_set(struct store *st, int64_t paused_at,
    uint64_t not_archived, int64_t now_ns)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, "INSERT INTO archive_health (id, paused_at,"
	    " not_archived, updated_at) VALUES (1, ?, ?, ?) ON CONFLICT (id)"
	    " DO UPDATE SET paused_at = excluded.paused_at, not_archived ="
	    " excluded.not_archived, updated_at = excluded.updated_at")) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, paused_at);
	sqlite3_bind_int64(s, 2, (int64_t)not_archived);
	sqlite3_bind_int64(s, 3, now_ns);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_sqlerr(st, "archive health");
		return -1;
	}
	return 0;
}

int
store_archive_health_get(struct store *st, int64_t *paused_at,
    uint64_t *not_archived)
{
	sqlite3_stmt *s;
	int rc;

	*paused_at = 0;
	*not_archived = 0;
	if ((s = prep(st, "SELECT paused_at, not_archived FROM archive_health"
	    " WHERE id = 1")) == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*paused_at = sqlite3_column_int64(s, 0);
		*not_archived = (uint64_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "archive health");
		return -1;
	}
	return 0;
}
