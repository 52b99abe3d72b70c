/*
 * The store's copy of the correlator's in-memory counters that `socctl
 * stats` shows (issue 11, item 2): per agency, the correlation windows
 * held and evicted.  The correlator replaces the whole table now and
 * then (corr-stats.c, from its main loop), so the table says what the
 * running process holds, as of updated_at; a restarted correlator
 * starts from zero, as its SIGUSR1 counters do.
 */
#include <stdio.h>
#include <string.h>

#include "store-int.h"

const struct store_sql store_stats_sql[] = {
	{ S_WIN_CLEAR, "DELETE FROM corr_windows" },
	{ S_WIN_PUT, "INSERT OR REPLACE INTO corr_windows (agency, held, evicted,"
	    " updated_at) VALUES (?1, ?2, ?3, ?4)" },
	{ S_WIN_LIST, "SELECT agency, held, evicted, updated_at FROM corr_windows"
	    " ORDER BY evicted DESC, held DESC, agency" },
	{ S_RELOAD_PUT, "INSERT OR REPLACE INTO corr_reload (id, at, ok, rules,"
	    " message) VALUES (1, ?1, ?2, ?3, ?4)" },
	{ S_RELOAD_GET, "SELECT at, ok, rules, message FROM corr_reload"
	    " WHERE id = 1" },
	{ 0, NULL }
};

int
store_windows_save(struct store *st, const struct store_window_count *w,
    size_t n, int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_WIN_PUT];
	size_t i;
	int own;

	if (store_tx_enter(st, &own) == -1)
		return -1;
	if (store_exec_idx(st, S_WIN_CLEAR, "correlation windows") == -1)
		goto fail;
	for (i = 0; i < n; i++) {
		bind_str(s, 1, w[i].agency);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)w[i].held);
		sqlite3_bind_int64(s, 3, (sqlite3_int64)w[i].evicted);
		sqlite3_bind_int64(s, 4, now_ns);
		if (store_exec(st, s, "correlation windows") == -1)
			goto fail;
	}
	return store_tx_leave(st, own, 0);
fail:
	return store_tx_leave(st, own, -1);
}

int
store_windows_foreach(struct store *st, store_window_fn fn, void *arg)
{
	struct store_window_count w;
	sqlite3_stmt *s;
	int tmp, rc, ret = 0;

	if ((s = store_stmt_get(st, S_WIN_LIST, &tmp)) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		w.agency = col_str(s, 0);
		w.held = (uint64_t)sqlite3_column_int64(s, 1);
		w.evicted = (uint64_t)sqlite3_column_int64(s, 2);
		w.updated_at = sqlite3_column_int64(s, 3);
		if ((ret = fn(arg, &w)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "correlation windows");
		ret = -1;
	}
	store_stmt_put(s, tmp);
	return ret;
}

/* The last SIGHUP reload (issue 15 item 19): one row, replaced. */
int
store_reload_put(struct store *st, const struct store_reload *r)
{
	sqlite3_stmt *s = st->stmt[S_RELOAD_PUT];

	sqlite3_bind_int64(s, 1, r->at);
	sqlite3_bind_int(s, 2, r->ok != 0);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)r->rules);
	bind_str(s, 4, r->message != NULL ? r->message : "");
	return store_exec(st, s, "reload result");
}

int
store_reload_get(struct store *st, struct store_reload *r, char *msgbuf,
    size_t msglen)
{
	sqlite3_stmt *s;
	int tmp, rc;

	memset(r, 0, sizeof(*r));
	if ((s = store_stmt_get(st, S_RELOAD_GET, &tmp)) == NULL)
		return -1;
	if ((rc = store_step1(st, s, "reload result")) == 1) {
		r->at = sqlite3_column_int64(s, 0);
		r->ok = sqlite3_column_int(s, 1);
		r->rules = (uint64_t)sqlite3_column_int64(s, 2);
		snprintf(msgbuf, msglen, "%s", col_str(s, 3));
		r->message = msgbuf;
	}
	store_stmt_put(s, tmp);
	return rc;
}
