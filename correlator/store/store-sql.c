/*
 * The bottom of the store: its error message, the prepared-statement
 * cache's get/put, stepping a statement, and transactions.  Every other
 * file of the store calls these; they call no other file of it.
 * (store.c above opens the database and prepares the statements.)
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store-int.h"

void
store_seterr(struct store *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
}

/* Records SQLite's reason for the last failure, prefixed by what we did. */
void
store_sqlerr(struct store *st, const char *what)
{
	if ((sqlite3_errcode(st->db) & 0xff) == SQLITE_NOTADB)
		store_seterr(st, "not an SQLite database");
	else
		store_seterr(st, "%s: %s", what, sqlite3_errmsg(st->db));
}

const char *
store_errmsg(struct store *st)
{
	return st->err;
}

/*
 * Returns statement i ready to bind.  If it is in use (a foreach whose
 * callback re-enters the store), a temporary copy is prepared; *tmp says
 * so and store_stmt_put() finalizes it.
 */
sqlite3_stmt *
store_stmt_get(struct store *st, int i, int *tmp)
{
	sqlite3_stmt *s = st->stmt[i];

	*tmp = 0;
	if (!sqlite3_stmt_busy(s))
		return s;
	if (sqlite3_prepare_v2(st->db, st->sql[i], -1, &s, NULL) != SQLITE_OK) {
		store_sqlerr(st, "prepare");
		return NULL;
	}
	*tmp = 1;
	return s;
}

void
store_stmt_put(sqlite3_stmt *s, int tmp)
{
	if (s == NULL)
		return;
	if (tmp) {
		sqlite3_finalize(s);
		return;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Steps s for one row: 1 row, 0 none, -1 error (reported as what). */
int
store_step1(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	store_sqlerr(st, what);
	return -1;
}

/* Runs a statement that returns no rows.  0 / -1. */
int
store_exec(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_sqlerr(st, what);
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return -1;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return 0;
}

int
store_exec_idx(struct store *st, int i, const char *what)
{
	return store_exec(st, st->stmt[i], what);
}

int
store_begin(struct store *st)
{
	return store_exec_idx(st, S_BEGIN, "begin");
}

int
store_commit(struct store *st)
{
	return store_exec_idx(st, S_COMMIT, "commit");
}

int
store_rollback(struct store *st)
{
	return store_exec_idx(st, S_ROLLBACK, "rollback");
}

int
store_batch_begin(struct store *st)
{
	return store_exec_idx(st, S_BATCH_SAVE, "savepoint");
}

int
store_batch_end(struct store *st, int ok)
{
	if (ok != 0 &&
	    store_exec_idx(st, S_BATCH_UNDO, "rollback to savepoint") == -1)
		return -1;
	return store_exec_idx(st, S_BATCH_RELEASE, "release savepoint");
}

/*
 * Makes the next writes atomic: its own IMMEDIATE transaction when none is
 * open (so a reader never has to upgrade and hit SQLITE_BUSY_SNAPSHOT),
 * a savepoint inside the caller's.
 */
int
store_tx_enter(struct store *st, int *own)
{
	*own = sqlite3_get_autocommit(st->db);
	return store_exec_idx(st, *own ? S_BEGIN : S_SAVEPOINT, "begin");
}

/* Commits when ok is 0, else undoes, keeping the first error message. */
int
store_tx_leave(struct store *st, int own, int ok)
{
	char saved[sizeof(st->err)];

	if (ok == 0) {
		if (store_exec_idx(st, own ? S_COMMIT : S_RELEASE, "commit") == 0)
			return 0;
	}
	memcpy(saved, st->err, sizeof(saved));
	if (own)
		store_exec_idx(st, S_ROLLBACK, "rollback");
	else {
		store_exec_idx(st, S_ROLLBACK_TO, "rollback");
		store_exec_idx(st, S_RELEASE, "rollback");
	}
	memcpy(st->err, saved, sizeof(saved));
	return -1;
}
