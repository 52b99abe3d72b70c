/*
 * The incident store: connection set-up, schema and migrations, the
 * prepared-statement cache and transactions.  One writer (soc-correlator)
 * and any number of readers (socctl) share the file through WAL mode, so
 * analysts can list incidents while a batch is being committed.
 *
 * The statements themselves live with the code that runs them:
 * store-sensor.c (sensors, enrollment, keys, sequence numbers,
 * heartbeats), store-incident.c (incidents, evidence, audit trail, state
 * transitions) and store-record.c (agencies, responders, assessments,
 * stats); store-int.h is what the four files share.
 *
 * The schema is versioned with PRAGMA user_version: version 0 with no
 * tables is an empty file (created on STORE_CREATE); a newer version than
 * this build knows is refused rather than misread; older versions are
 * upgraded by the migrations[] list on a writable open, each step in
 * order, all in one transaction.
 *
 * All statements are prepared once in store_open().  A foreach whose
 * callback re-enters the same statement gets a temporary copy (see
 * store_stmt_get()), so nesting is safe if not free.
 *
 * synchronous=FULL: the correlator acks a batch once store_commit()
 * returns, so a commit must survive a power cut, not just a crash.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "store-int.h"

static const char schema_v1[] =
	"CREATE TABLE agencies ("
	" code TEXT PRIMARY KEY NOT NULL,"
	" name TEXT NOT NULL,"
	" parent TEXT REFERENCES agencies(code),"
	" created_at INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE sensors ("
	" name TEXT PRIMARY KEY NOT NULL,"
	" agency TEXT NOT NULL REFERENCES agencies(code),"
	" pubkey TEXT NOT NULL UNIQUE CHECK (length(pubkey) = 40),"
	" revoked INTEGER NOT NULL DEFAULT 0,"
	" revoked_at INTEGER,"
	" enrolled_at INTEGER NOT NULL,"
	" last_seq INTEGER NOT NULL DEFAULT 0,"
	" events_received INTEGER NOT NULL DEFAULT 0,"
	" batches INTEGER NOT NULL DEFAULT 0,"
	" last_batch_at INTEGER NOT NULL DEFAULT 0,"
	" last_heartbeat INTEGER NOT NULL DEFAULT 0,"
	" counters TEXT NOT NULL DEFAULT '{}'"
	");"
	"CREATE INDEX sensors_agency ON sensors(agency);"
	"CREATE TABLE incidents ("
	" id INTEGER PRIMARY KEY,"
	" rule_id TEXT NOT NULL,"
	" rule_title TEXT NOT NULL DEFAULT '',"
	" rule_level TEXT NOT NULL DEFAULT '',"
	" rule_author TEXT NOT NULL DEFAULT '',"
	" severity INTEGER NOT NULL CHECK (severity BETWEEN 0 AND 4),"
	" agency TEXT NOT NULL REFERENCES agencies(code),"
	" sensor TEXT NOT NULL DEFAULT '',"
	" group_key TEXT NOT NULL DEFAULT '',"
	" status TEXT NOT NULL DEFAULT 'new' CHECK (status IN"
	"  ('new','acknowledged','investigating','resolved','false_positive')),"
	" assignee TEXT NOT NULL DEFAULT '',"
	" first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" count INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL"
	");"
	/* The aggregation invariant: at most one open incident per key. */
	"CREATE UNIQUE INDEX incidents_open ON incidents(rule_id, agency, group_key)"
	" WHERE status IN " OPEN_SQL ";"
	"CREATE INDEX incidents_last_seen ON incidents(last_seen);"
	"CREATE INDEX incidents_agency ON incidents(agency, status);"
	"CREATE TABLE evidence ("
	" incident_id INTEGER NOT NULL REFERENCES incidents(id),"
	" seq INTEGER NOT NULL,"
	" event_json TEXT NOT NULL,"
	" PRIMARY KEY (incident_id, seq)"
	") WITHOUT ROWID;"
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY,"
	" incident_id INTEGER REFERENCES incidents(id),"
	" at INTEGER NOT NULL,"
	" actor TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" note TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX audit_incident ON audit(incident_id);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;"
	"CREATE TABLE responders ("
	" id INTEGER PRIMARY KEY,"
	" agency TEXT NOT NULL REFERENCES agencies(code),"
	" name TEXT NOT NULL,"
	" contact TEXT NOT NULL DEFAULT '',"
	" added_at INTEGER NOT NULL,"
	" UNIQUE (agency, name)"
	");"
	"CREATE TABLE assessments ("
	" id INTEGER PRIMARY KEY,"
	" agency TEXT NOT NULL REFERENCES agencies(code),"
	" assessed_at INTEGER NOT NULL,"
	" assessor TEXT NOT NULL,"
	" expires_at INTEGER NOT NULL CHECK (expires_at > assessed_at)"
	");"
	"CREATE INDEX assessments_agency ON assessments(agency, expires_at);"
	/* Alerts for the national receiver (DESIGN.md 7), written in the
	 * transaction that creates or escalates the incident. */
	"CREATE TABLE outbox ("
	" id INTEGER PRIMARY KEY,"
	" incident_id INTEGER NOT NULL REFERENCES incidents(id),"
	" created_at INTEGER NOT NULL,"
	" payload TEXT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" sent_at INTEGER,"
	" acked_at INTEGER"
	");"
	"CREATE INDEX outbox_pending ON outbox(acked_at, id);";

/*
 * Forwarding (store-forward.c): an outbox record is one revision of one
 * incident with the state it carries (sent records never change); the
 * forwarder's state, thresholds and cursors are one row that socctl and
 * the coverage report read.
 */
static const char schema_v2_forward[] =
	"ALTER TABLE outbox ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;"
	"ALTER TABLE outbox ADD COLUMN severity INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE outbox ADD COLUMN status TEXT NOT NULL DEFAULT 'new';"
	"ALTER TABLE outbox ADD COLUMN count INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE outbox ADD COLUMN first_seen INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE outbox ADD COLUMN last_seen INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX outbox_incident ON outbox(incident_id, revision);"
	"CREATE INDEX outbox_unsent ON outbox(id) WHERE sent_at IS NULL;"
	"CREATE TABLE forward_state ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" endpoint TEXT NOT NULL DEFAULT '',"
	" cef TEXT NOT NULL DEFAULT '',"
	" origin TEXT NOT NULL DEFAULT '',"
	" min_severity INTEGER NOT NULL DEFAULT 2,"
	" ack_within INTEGER NOT NULL DEFAULT 600000000000,"
	" max_backlog_age INTEGER NOT NULL DEFAULT 3600000000000,"
	" max_pending INTEGER NOT NULL DEFAULT 1000000,"
	" started_at INTEGER NOT NULL DEFAULT 0,"
	" connected INTEGER NOT NULL DEFAULT 0,"
	" last_ack_at INTEGER NOT NULL DEFAULT 0,"
	" last_send_at INTEGER NOT NULL DEFAULT 0,"
	" sent INTEGER NOT NULL DEFAULT 0,"
	" acked INTEGER NOT NULL DEFAULT 0,"
	" dropped INTEGER NOT NULL DEFAULT 0,"
	" seq INTEGER NOT NULL DEFAULT 0,"
	" audit_cursor INTEGER NOT NULL DEFAULT -1,"
	" cef_cursor INTEGER NOT NULL DEFAULT 0,"
	" cef_sent INTEGER NOT NULL DEFAULT 0,"
	" cef_connected INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT NOT NULL DEFAULT '',"
	" updated_at INTEGER NOT NULL DEFAULT 0"
	");"
	"INSERT INTO forward_state (id) VALUES (1);";

/*
 * The numbered migrations: migrations[v] upgrades a version v database to
 * v + 1 and [0] creates the schema, so a fresh file runs them all in
 * order.  To change the schema, append a step here (never edit one that
 * has shipped) and raise STORE_SCHEMA_VERSION in store.h to match.
 */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
	schema_v1,		/* 0 -> 1 */
	schema_v2_forward,	/* 1 -> 2 */
};

/* Transactions and savepoints: store_*() below and store_tx_*(). */
static const struct store_sql core_sql[] = {
	{ S_BEGIN, "BEGIN IMMEDIATE" },
	{ S_COMMIT, "COMMIT" },
	{ S_ROLLBACK, "ROLLBACK" },
	{ S_SAVEPOINT, "SAVEPOINT store" },
	{ S_RELEASE, "RELEASE store" },
	{ S_ROLLBACK_TO, "ROLLBACK TO store" },
	{ S_BATCH_SAVE, "SAVEPOINT batch" },
	{ S_BATCH_RELEASE, "RELEASE batch" },
	{ S_BATCH_UNDO, "ROLLBACK TO batch" },
	{ 0, NULL }
};

static const struct store_sql *const sql_tables[] = {
	core_sql, store_sensor_sql, store_incident_sql, store_record_sql,
	store_forward_sql,
};

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

/* Reads PRAGMA user_version and whether the file holds any table. */
static int
schema_probe(struct store *st, int *version, int *empty)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL)
	    != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW)
		goto fail;
	*version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM sqlite_schema",
	    -1, &s, NULL) != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW)
		goto fail;
	*empty = sqlite3_column_int(s, 0) == 0;
	sqlite3_finalize(s);
	return 0;
fail:
	store_sqlerr(st, "reading schema");
	sqlite3_finalize(s);
	return -1;
}

/* Creates or upgrades the schema, all in one transaction. */
static int
schema_migrate(struct store *st, int create)
{
	char sql[64];
	int version, empty, v;

	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		store_sqlerr(st, "begin");
		return -1;
	}
	/* Probe again under the write lock: another process may have won. */
	if (schema_probe(st, &version, &empty) == -1)
		goto fail;
	if (version == 0 && !empty) {
		store_seterr(st, "not a SOC database (it has tables but no schema version)");
		goto fail;
	}
	if (version == 0 && !create) {
		store_seterr(st, "empty database (no SOC schema)");
		goto fail;
	}
	for (v = version; v < STORE_SCHEMA_VERSION; v++) {
		if (sqlite3_exec(st->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK) {
			store_sqlerr(st, "schema");
			goto fail;
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		store_sqlerr(st, "schema");
		goto fail;
	}
	return 0;
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int
schema_check(struct store *st)
{
	int version, empty;

	if (schema_probe(st, &version, &empty) == -1)
		return -1;
	if (version > STORE_SCHEMA_VERSION) {
		store_seterr(st, "schema version %d is newer than this program knows (%d);"
		    " upgrade it", version, STORE_SCHEMA_VERSION);
		return -1;
	}
	if (version == STORE_SCHEMA_VERSION)
		return 0;
	if (st->flags & STORE_READONLY) {
		if (version == 0 && empty)
			store_seterr(st, "empty database (no SOC schema)");
		else if (version == 0)
			store_seterr(st, "not a SOC database");
		else
			store_seterr(st, "schema version %d needs an upgrade; open it"
			    " read-write once", version);
		return -1;
	}
	return schema_migrate(st, st->flags & STORE_CREATE);
}

static int
pragma(struct store *st, const char *sql)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		store_sqlerr(st, sql);
		return -1;
	}
	return 0;
}

/* Switches to WAL and checks that SQLite agreed (it refuses on some
 * file systems, and a silent fallback would break concurrent readers). */
static int
set_wal(struct store *st)
{
	sqlite3_stmt *s = NULL;
	int ok;

	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL)
	    != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
		store_sqlerr(st, "journal_mode");
		sqlite3_finalize(s);
		return -1;
	}
	ok = strcmp(col_str(s, 0), "wal") == 0;
	if (!ok)
		store_seterr(st, "cannot use WAL mode (journal_mode is %s)", col_str(s, 0));
	sqlite3_finalize(s);
	return ok ? 0 : -1;
}

/*
 * Fills st->sql[] from the statement tables; each index must have exactly
 * one text (a broken table is a bug, reported rather than crashed on).
 */
static int
sql_collect(struct store *st)
{
	const struct store_sql *t;
	size_t k;
	int i;

	for (k = 0; k < sizeof(sql_tables) / sizeof(sql_tables[0]); k++) {
		for (t = sql_tables[k]; t->sql != NULL; t++) {
			if (t->idx < 0 || t->idx >= S_COUNT ||
			    st->sql[t->idx] != NULL) {
				store_seterr(st, "statement %d: bad or repeated"
				    " index", t->idx);
				return -1;
			}
			st->sql[t->idx] = t->sql;
		}
	}
	for (i = 0; i < S_COUNT; i++) {
		if (st->sql[i] == NULL) {
			store_seterr(st, "statement %d has no SQL", i);
			return -1;
		}
	}
	return 0;
}

struct store *
store_open(const char *path, int flags, char *err, size_t errlen)
{
	struct store *st;
	struct stat sb;
	int oflags, i;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	st->flags = flags;
	st->fwd_min = -1;
	if (!(flags & STORE_CREATE) && stat(path, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(st);
		return NULL;
	}
	if (flags & STORE_READONLY)
		oflags = SQLITE_OPEN_READONLY;
	else if (flags & STORE_CREATE)
		oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	else
		oflags = SQLITE_OPEN_READWRITE;
	if (sqlite3_open_v2(path, &st->db, oflags, NULL) != SQLITE_OK) {
		store_sqlerr(st, "open");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, 5000);
	if (pragma(st, "PRAGMA foreign_keys = ON") == -1)
		goto fail;
	if (!(flags & STORE_READONLY) && (set_wal(st) == -1 ||
	    pragma(st, "PRAGMA synchronous = FULL") == -1))
		goto fail;
	if (schema_check(st) == -1)
		goto fail;
	if (sql_collect(st) == -1)
		goto fail;
	for (i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, st->sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) != SQLITE_OK) {
			store_sqlerr(st, "prepare");
			goto fail;
		}
	}
	return st;
fail:
	snprintf(err, errlen, "%s: %s", path, st->err);
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}
