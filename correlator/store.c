/*
 * The incident store: schema, connection set-up and every SQL statement
 * run against the SOC database.  One writer (soc-correlator) and any
 * number of readers (socctl) share the file through WAL mode, so analysts
 * can list incidents while a batch is being committed.
 *
 * The schema is versioned with PRAGMA user_version: version 0 with no
 * tables is an empty file (created on STORE_CREATE); a newer version than
 * this build knows is refused rather than misread; older versions are
 * upgraded by the migrations[] table on a writable open.
 *
 * All statements are prepared once in store_open() from the stmt_sql[]
 * table.  A foreach whose callback re-enters the same statement gets a
 * temporary copy (see stmt_get()), so nesting is safe if not free.
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

#include "store.h"
#include "soc/util.h"

#define OPEN_SQL	"('new','acknowledged','investigating')"

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

/* migrations[v] upgrades a version v database to v + 1; [0] creates. */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
	schema_v1,
};

enum {
	S_BEGIN, S_COMMIT, S_ROLLBACK, S_SAVEPOINT, S_RELEASE, S_ROLLBACK_TO,
	S_BATCH_SAVE, S_BATCH_RELEASE, S_BATCH_UNDO,
	S_SENSOR_BY_KEY, S_SENSOR_BY_NAME, S_SENSOR_SET_SEQ, S_SENSOR_HEARTBEAT,
	S_SENSOR_ENROLL, S_SENSOR_REVOKE, S_SENSOR_LIST, S_PUBKEY_OWNER,
	S_INC_FIND_OPEN, S_INC_UPDATE_HIT, S_INC_INSERT, S_EVIDENCE_ADD,
	S_INC_LIST, S_INC_GET, S_INC_STATE, S_INC_SET_STATUS, S_INC_SET_ASSIGNEE,
	S_INC_TOUCH, S_EVIDENCE_LIST,
	S_AUDIT_ADD, S_AUDIT_LIST,
	S_AGENCY_ADD, S_AGENCY_EXISTS, S_AGENCY_LIST,
	S_RESP_ADD, S_RESP_EXISTS, S_RESP_LIST, S_ASSESS_ADD, S_ASSESS_LIST,
	S_STATS, S_STATS_STATUS, S_STATS_SEVERITY,
	S_COUNT
};

#define SENSOR_COLS	"name, agency, pubkey, revoked, last_seq, last_heartbeat"
#define INCIDENT_COLS	"id, rule_id, rule_title, rule_level, rule_author, severity," \
	" agency, sensor, group_key, status, assignee, first_seen, last_seen," \
	" count, created_at, updated_at," \
	" (SELECT count(*) FROM evidence e WHERE e.incident_id = incidents.id)"

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_SAVEPOINT] = "SAVEPOINT store",
	[S_RELEASE] = "RELEASE store",
	[S_ROLLBACK_TO] = "ROLLBACK TO store",
	[S_BATCH_SAVE] = "SAVEPOINT batch",
	[S_BATCH_RELEASE] = "RELEASE batch",
	[S_BATCH_UNDO] = "ROLLBACK TO batch",
	[S_SENSOR_BY_KEY] = "SELECT " SENSOR_COLS " FROM sensors WHERE pubkey = ?1",
	[S_SENSOR_BY_NAME] = "SELECT " SENSOR_COLS " FROM sensors WHERE name = ?1",
	[S_SENSOR_SET_SEQ] = "UPDATE sensors SET last_seq = ?2,"
	    " events_received = events_received + ?3, batches = batches + 1,"
	    " last_batch_at = ?4 WHERE name = ?1",
	[S_SENSOR_HEARTBEAT] = "UPDATE sensors SET last_heartbeat = ?2,"
	    " counters = coalesce(?3, counters) WHERE name = ?1",
	[S_SENSOR_ENROLL] = "INSERT INTO sensors (name, agency, pubkey, enrolled_at)"
	    " VALUES (?1, ?2, ?3, ?4)",
	[S_SENSOR_REVOKE] = "UPDATE sensors SET revoked = 1,"
	    " revoked_at = coalesce(revoked_at, ?2) WHERE name = ?1",
	[S_SENSOR_LIST] = "SELECT name, agency, pubkey, revoked, enrolled_at, last_seq,"
	    " events_received, batches, last_batch_at, last_heartbeat, counters,"
	    " json_valid(counters)"
	    " FROM sensors WHERE ?1 IS NULL OR agency = ?1 ORDER BY agency, name",
	[S_PUBKEY_OWNER] = "SELECT name FROM sensors WHERE pubkey = ?1",
	[S_INC_FIND_OPEN] = "SELECT id, severity FROM incidents WHERE rule_id = ?1"
	    " AND agency = ?2 AND group_key = ?3 AND status IN " OPEN_SQL,
	[S_INC_UPDATE_HIT] = "UPDATE incidents SET count = count + ?2,"
	    " first_seen = min(first_seen, ?3), last_seen = max(last_seen, ?4),"
	    " severity = max(severity, ?5), updated_at = ?6 WHERE id = ?1",
	[S_INC_INSERT] = "INSERT INTO incidents (rule_id, rule_title, rule_level,"
	    " rule_author, severity, agency, sensor, group_key, status, first_seen,"
	    " last_seen, count, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5,"
	    " ?6, ?7, ?8, 'new', ?9, ?10, ?11, ?12, ?12)",
	[S_EVIDENCE_ADD] = "INSERT INTO evidence (incident_id, seq, event_json)"
	    " SELECT ?1, n, ?2 FROM (SELECT count(*) AS n FROM evidence"
	    " WHERE incident_id = ?1) WHERE n < ?3",
	[S_INC_LIST] = "SELECT " INCIDENT_COLS " FROM incidents"
	    " WHERE (?1 IS NULL OR status = ?1)"
	    " AND (?2 = 0 OR status IN " OPEN_SQL ")"
	    " AND (?3 IS NULL OR agency = ?3)"
	    " AND severity >= ?4 AND last_seen >= ?5"
	    " AND (?7 = 0 OR status NOT IN " OPEN_SQL ")"
	    " ORDER BY last_seen DESC, id DESC LIMIT ?6",
	[S_INC_GET] = "SELECT " INCIDENT_COLS " FROM incidents WHERE id = ?1",
	[S_INC_STATE] = "SELECT status, assignee FROM incidents WHERE id = ?1",
	[S_INC_SET_STATUS] = "UPDATE incidents SET status = ?2, updated_at = ?3"
	    " WHERE id = ?1",
	[S_INC_SET_ASSIGNEE] = "UPDATE incidents SET assignee = ?2, updated_at = ?3"
	    " WHERE id = ?1",
	[S_INC_TOUCH] = "UPDATE incidents SET updated_at = ?2 WHERE id = ?1",
	[S_EVIDENCE_LIST] = "SELECT seq, event_json, json_valid(event_json)"
	    " FROM evidence WHERE incident_id = ?1 ORDER BY seq",
	[S_AUDIT_ADD] = "INSERT INTO audit (incident_id, at, actor, action, note)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_AUDIT_LIST] = "SELECT id, coalesce(incident_id, 0), at, actor, action, note"
	    " FROM audit WHERE ?1 < 0 OR coalesce(incident_id, 0) = ?1 ORDER BY id",
	[S_AGENCY_ADD] = "INSERT INTO agencies (code, name, parent, created_at)"
	    " VALUES (?1, ?2, ?3, ?4)",
	[S_AGENCY_EXISTS] = "SELECT 1 FROM agencies WHERE code = ?1",
	[S_AGENCY_LIST] = "SELECT code, name, coalesce(parent, ''), created_at,"
	    " (SELECT count(*) FROM sensors s WHERE s.agency = a.code"
	    "  AND s.revoked = 0),"
	    " (SELECT count(*) FROM incidents i WHERE i.agency = a.code"
	    "  AND i.status IN " OPEN_SQL ")"
	    " FROM agencies a ORDER BY code",
	[S_RESP_ADD] = "INSERT INTO responders (agency, name, contact, added_at)"
	    " VALUES (?1, ?2, ?3, ?4)",
	[S_RESP_EXISTS] = "SELECT 1 FROM responders WHERE agency = ?1 AND name = ?2",
	[S_RESP_LIST] = "SELECT agency, name, contact, added_at FROM responders"
	    " WHERE ?1 IS NULL OR agency = ?1 ORDER BY agency, name",
	[S_ASSESS_ADD] = "INSERT INTO assessments (agency, assessed_at, assessor,"
	    " expires_at) VALUES (?1, ?2, ?3, ?4)",
	[S_ASSESS_LIST] = "SELECT agency, assessor, assessed_at, expires_at"
	    " FROM assessments WHERE ?1 IS NULL OR agency = ?1"
	    " ORDER BY agency, expires_at DESC, id DESC",
	[S_STATS] = "SELECT (SELECT count(*) FROM agencies),"
	    " (SELECT count(*) FROM sensors WHERE revoked = 0),"
	    " (SELECT count(*) FROM sensors WHERE revoked != 0),"
	    " (SELECT coalesce(sum(events_received), 0) FROM sensors),"
	    " (SELECT coalesce(sum(batches), 0) FROM sensors),"
	    " (SELECT count(*) FROM incidents),"
	    " (SELECT count(*) FROM evidence),"
	    " (SELECT count(*) FROM audit),"
	    " (SELECT count(*) FROM outbox WHERE acked_at IS NULL),"
	    " (SELECT count(*) FROM outbox WHERE acked_at IS NOT NULL)",
	[S_STATS_STATUS] = "SELECT status, count(*) FROM incidents GROUP BY status",
	[S_STATS_SEVERITY] = "SELECT severity, count(*) FROM incidents"
	    " GROUP BY severity",
};

struct store {
	sqlite3		*db;
	sqlite3_stmt	*stmt[S_COUNT];
	int		 flags;
	char		 err[512];
};

static const char *const severity_names[5] = {
	"informational", "low", "medium", "high", "critical"
};
static const char *const status_names[STORE_ST_COUNT] = {
	"new", "acknowledged", "investigating", "resolved", "false_positive"
};

static void	seterr(struct store *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
seterr(struct store *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
}

/* Records SQLite's reason for the last failure, prefixed by what we did. */
static void
sqlerr(struct store *st, const char *what)
{
	if ((sqlite3_errcode(st->db) & 0xff) == SQLITE_NOTADB)
		seterr(st, "not an SQLite database");
	else
		seterr(st, "%s: %s", what, sqlite3_errmsg(st->db));
}

const char *
store_errmsg(struct store *st)
{
	return st->err;
}

/*
 * Returns statement i ready to bind.  If it is in use (a foreach whose
 * callback re-enters the store), a temporary copy is prepared; *tmp says
 * so and stmt_put() finalizes it.
 */
static sqlite3_stmt *
stmt_get(struct store *st, int i, int *tmp)
{
	sqlite3_stmt *s = st->stmt[i];

	*tmp = 0;
	if (!sqlite3_stmt_busy(s))
		return s;
	if (sqlite3_prepare_v2(st->db, stmt_sql[i], -1, &s, NULL) != SQLITE_OK) {
		sqlerr(st, "prepare");
		return NULL;
	}
	*tmp = 1;
	return s;
}

static void
stmt_put(sqlite3_stmt *s, int tmp)
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

/* Binds a string, NULL as SQL NULL.  The caller keeps s alive until reset. */
static int
bind_str(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static const char *
col_str(sqlite3_stmt *s, int i)
{
	const char *v = (const char *)sqlite3_column_text(s, i);

	return v ? v : "";
}

/* Runs a statement that returns no rows.  0 / -1. */
static int
exec_stmt(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		sqlerr(st, what);
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return -1;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return 0;
}

static int
exec_idx(struct store *st, int i, const char *what)
{
	return exec_stmt(st, st->stmt[i], what);
}

int
store_begin(struct store *st)
{
	return exec_idx(st, S_BEGIN, "begin");
}

int
store_commit(struct store *st)
{
	return exec_idx(st, S_COMMIT, "commit");
}

int
store_rollback(struct store *st)
{
	return exec_idx(st, S_ROLLBACK, "rollback");
}

int
store_batch_begin(struct store *st)
{
	return exec_idx(st, S_BATCH_SAVE, "savepoint");
}

int
store_batch_end(struct store *st, int ok)
{
	if (ok != 0 && exec_idx(st, S_BATCH_UNDO, "rollback to savepoint") == -1)
		return -1;
	return exec_idx(st, S_BATCH_RELEASE, "release savepoint");
}

/*
 * Makes the next writes atomic: its own IMMEDIATE transaction when none is
 * open (so a reader never has to upgrade and hit SQLITE_BUSY_SNAPSHOT),
 * a savepoint inside the caller's.
 */
static int
tx_enter(struct store *st, int *own)
{
	*own = sqlite3_get_autocommit(st->db);
	return exec_idx(st, *own ? S_BEGIN : S_SAVEPOINT, "begin");
}

/* Commits when ok is 0, else undoes, keeping the first error message. */
static int
tx_leave(struct store *st, int own, int ok)
{
	char saved[sizeof(st->err)];

	if (ok == 0) {
		if (exec_idx(st, own ? S_COMMIT : S_RELEASE, "commit") == 0)
			return 0;
	}
	memcpy(saved, st->err, sizeof(saved));
	if (own)
		exec_idx(st, S_ROLLBACK, "rollback");
	else {
		exec_idx(st, S_ROLLBACK_TO, "rollback");
		exec_idx(st, S_RELEASE, "rollback");
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
	sqlerr(st, "reading schema");
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
		sqlerr(st, "begin");
		return -1;
	}
	/* Probe again under the write lock: another process may have won. */
	if (schema_probe(st, &version, &empty) == -1)
		goto fail;
	if (version == 0 && !empty) {
		seterr(st, "not a SOC database (it has tables but no schema version)");
		goto fail;
	}
	if (version == 0 && !create) {
		seterr(st, "empty database (no SOC schema)");
		goto fail;
	}
	for (v = version; v < STORE_SCHEMA_VERSION; v++) {
		if (sqlite3_exec(st->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK) {
			sqlerr(st, "schema");
			goto fail;
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sqlerr(st, "schema");
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
		seterr(st, "schema version %d is newer than this program knows (%d);"
		    " upgrade it", version, STORE_SCHEMA_VERSION);
		return -1;
	}
	if (version == STORE_SCHEMA_VERSION)
		return 0;
	if (st->flags & STORE_READONLY) {
		if (version == 0 && empty)
			seterr(st, "empty database (no SOC schema)");
		else if (version == 0)
			seterr(st, "not a SOC database");
		else
			seterr(st, "schema version %d needs an upgrade; open it"
			    " read-write once", version);
		return -1;
	}
	return schema_migrate(st, st->flags & STORE_CREATE);
}

static int
pragma(struct store *st, const char *sql)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		sqlerr(st, sql);
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
		sqlerr(st, "journal_mode");
		sqlite3_finalize(s);
		return -1;
	}
	ok = strcmp(col_str(s, 0), "wal") == 0;
	if (!ok)
		seterr(st, "cannot use WAL mode (journal_mode is %s)", col_str(s, 0));
	sqlite3_finalize(s);
	return ok ? 0 : -1;
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
		sqlerr(st, "open");
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
	for (i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) != SQLITE_OK) {
			sqlerr(st, "prepare");
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

/* ---- names ---- */

const char *
store_severity_name(int sev)
{
	if (sev < 0 || sev > 4)
		return "?";
	return severity_names[sev];
}

int
store_severity_parse(const char *s)
{
	int i;

	if (s[0] >= '0' && s[0] <= '4' && s[1] == '\0')
		return s[0] - '0';
	if (strcasecmp(s, "info") == 0)
		return 0;
	for (i = 0; i < 5; i++)
		if (strcasecmp(s, severity_names[i]) == 0)
			return i;
	return -1;
}

const char *
store_status_name(int status)
{
	if (status < 0 || status >= STORE_ST_COUNT)
		return "?";
	return status_names[status];
}

int
store_status_parse(const char *s)
{
	int i;

	if (strcmp(s, "false-positive") == 0 || strcmp(s, "fp") == 0)
		return STORE_ST_FALSE_POSITIVE;
	if (strcmp(s, "ack") == 0)
		return STORE_ST_ACKNOWLEDGED;
	for (i = 0; i < STORE_ST_COUNT; i++)
		if (strcmp(s, status_names[i]) == 0)
			return i;
	return -1;
}

/*
 * The state machine only moves forward: new -> acknowledged ->
 * investigating -> resolved | false_positive, skipping steps allowed
 * (triage may close a false positive straight from new).  Closed is
 * final: a new hit on the same key opens a new incident instead.
 */
int
store_status_allowed(int from, int to)
{
	if (from < 0 || to < 0 || to >= STORE_ST_COUNT)
		return 0;
	if (from >= STORE_ST_RESOLVED)
		return 0;
	return to > from;
}

/* ---- sensors ---- */

static int
sensor_lookup(struct store *st, int idx, const char *key, struct store_sensor *out)
{
	sqlite3_stmt *s;
	int tmp, rc, ret = -1;

	if ((s = stmt_get(st, idx, &tmp)) == NULL)
		return -1;
	bind_str(s, 1, key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		snprintf(out->name, sizeof(out->name), "%s", col_str(s, 0));
		snprintf(out->agency, sizeof(out->agency), "%s", col_str(s, 1));
		snprintf(out->pubkey, sizeof(out->pubkey), "%s", col_str(s, 2));
		out->revoked = sqlite3_column_int(s, 3) != 0;
		out->last_seq = (uint64_t)sqlite3_column_int64(s, 4);
		out->last_heartbeat = sqlite3_column_int64(s, 5);
		ret = 1;
	} else if (rc == SQLITE_DONE)
		ret = 0;
	else
		sqlerr(st, "sensor lookup");
	stmt_put(s, tmp);
	return ret;
}

int
store_sensor_by_key(struct store *st, const char *z85pub, struct store_sensor *out)
{
	return sensor_lookup(st, S_SENSOR_BY_KEY, z85pub, out);
}

int
store_sensor_by_name(struct store *st, const char *name, struct store_sensor *out)
{
	return sensor_lookup(st, S_SENSOR_BY_NAME, name, out);
}

int
store_sensor_set_seq(struct store *st, const char *name, uint64_t seq,
    uint64_t nevents, int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_SENSOR_SET_SEQ];

	bind_str(s, 1, name);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)seq);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)nevents);
	sqlite3_bind_int64(s, 4, now_ns);
	if (exec_stmt(st, s, "sensor seq") == -1)
		return -1;
	if (sqlite3_changes(st->db) == 0) {
		seterr(st, "no such sensor '%s'", name);
		return -1;
	}
	return 0;
}

int
store_sensor_heartbeat(struct store *st, const char *name, int64_t now_ns,
    const char *counters_json)
{
	sqlite3_stmt *s = st->stmt[S_SENSOR_HEARTBEAT];

	bind_str(s, 1, name);
	sqlite3_bind_int64(s, 2, now_ns);
	bind_str(s, 3, counters_json);
	if (exec_stmt(st, s, "sensor heartbeat") == -1)
		return -1;
	if (sqlite3_changes(st->db) == 0) {
		seterr(st, "no such sensor '%s'", name);
		return -1;
	}
	return 0;
}

/* Runs a one-column existence query on idx with up to two strings. */
static int
exists2(struct store *st, int idx, const char *a, const char *b)
{
	sqlite3_stmt *s;
	int tmp, rc, ret = -1;

	if ((s = stmt_get(st, idx, &tmp)) == NULL)
		return -1;
	bind_str(s, 1, a);
	if (b != NULL)
		bind_str(s, 2, b);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		ret = 1;
	else if (rc == SQLITE_DONE)
		ret = 0;
	else
		sqlerr(st, "lookup");
	stmt_put(s, tmp);
	return ret;
}

static int
z85_valid(const char *k)
{
	static const char z85[] = "0123456789abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
	size_t i;

	for (i = 0; k[i] != '\0'; i++)
		if (strchr(z85, k[i]) == NULL)
			return 0;
	return i == 40;
}

int
store_sensor_enroll(struct store *st, const char *name, const char *agency,
    const char *z85pub, int64_t now_ns)
{
	struct store_sensor owner;
	sqlite3_stmt *s = st->stmt[S_SENSOR_ENROLL];
	int rc;

	if (name[0] == '\0' || strlen(name) >= sizeof(owner.name)) {
		seterr(st, "sensor name must be 1 to %zu bytes",
		    sizeof(owner.name) - 1);
		return -1;
	}
	if (!z85_valid(z85pub)) {
		seterr(st, "not a CURVE public key (want 40 Z85 characters)");
		return -1;
	}
	if ((rc = store_agency_exists(st, agency)) != 1) {
		if (rc == 0)
			seterr(st, "no such agency '%s'", agency);
		return -1;
	}
	if ((rc = store_sensor_by_name(st, name, &owner)) != 0) {
		if (rc == 1)
			seterr(st, "sensor '%s' is already enrolled (agency %s%s)",
			    name, owner.agency, owner.revoked ? ", revoked" : "");
		return -1;
	}
	if ((rc = store_sensor_by_key(st, z85pub, &owner)) != 0) {
		if (rc == 1)
			seterr(st, "this key is already enrolled for sensor '%s'",
			    owner.name);
		return -1;
	}
	bind_str(s, 1, name);
	bind_str(s, 2, agency);
	bind_str(s, 3, z85pub);
	sqlite3_bind_int64(s, 4, now_ns);
	return exec_stmt(st, s, "enroll sensor");
}

int
store_sensor_revoke(struct store *st, const char *name, int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_SENSOR_REVOKE];

	bind_str(s, 1, name);
	sqlite3_bind_int64(s, 2, now_ns);
	if (exec_stmt(st, s, "revoke sensor") == -1)
		return -1;
	return sqlite3_changes(st->db) > 0;
}

int
store_sensor_foreach(struct store *st, const char *agency, store_sensor_fn fn,
    void *arg)
{
	struct store_sensor_info si;
	sqlite3_stmt *s;
	int tmp, rc, ret = 0;

	if ((s = stmt_get(st, S_SENSOR_LIST, &tmp)) == NULL)
		return -1;
	bind_str(s, 1, agency);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		si.name = col_str(s, 0);
		si.agency = col_str(s, 1);
		si.pubkey = col_str(s, 2);
		si.revoked = sqlite3_column_int(s, 3) != 0;
		si.enrolled_at = sqlite3_column_int64(s, 4);
		si.last_seq = (uint64_t)sqlite3_column_int64(s, 5);
		si.events_received = (uint64_t)sqlite3_column_int64(s, 6);
		si.batches = (uint64_t)sqlite3_column_int64(s, 7);
		si.last_batch_at = sqlite3_column_int64(s, 8);
		si.last_heartbeat = sqlite3_column_int64(s, 9);
		si.counters = col_str(s, 10);
		si.counters_valid = sqlite3_column_int(s, 11) == 1;
		if ((ret = fn(arg, &si)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sqlerr(st, "list sensors");
		ret = -1;
	}
	stmt_put(s, tmp);
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
		seterr(st, "agency code must be 1 to 63 bytes");
		return -1;
	}
	if (parent != NULL && parent[0] == '\0')
		parent = NULL;
	if ((rc = store_agency_exists(st, code)) != 0) {
		if (rc == 1)
			seterr(st, "agency '%s' already exists", code);
		return -1;
	}
	if (parent != NULL && (rc = store_agency_exists(st, parent)) != 1) {
		if (rc == 0)
			seterr(st, "no such parent agency '%s'", parent);
		return -1;
	}
	bind_str(s, 1, code);
	bind_str(s, 2, name);
	bind_str(s, 3, parent);
	sqlite3_bind_int64(s, 4, now_ns);
	return exec_stmt(st, s, "add agency");
}

int
store_agency_foreach(struct store *st, store_agency_fn fn, void *arg)
{
	struct store_agency a;
	sqlite3_stmt *s;
	int tmp, rc, ret = 0;

	if ((s = stmt_get(st, S_AGENCY_LIST, &tmp)) == NULL)
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
		sqlerr(st, "list agencies");
		ret = -1;
	}
	stmt_put(s, tmp);
	return ret;
}

/* ---- audit ---- */

int
store_audit_add(struct store *st, int64_t incident_id, const char *actor,
    const char *action, const char *note, int64_t now_ns)
{
	sqlite3_stmt *s;
	int tmp, ret;

	if ((s = stmt_get(st, S_AUDIT_ADD, &tmp)) == NULL)
		return -1;
	if (incident_id > 0)
		sqlite3_bind_int64(s, 1, incident_id);
	else
		sqlite3_bind_null(s, 1);
	sqlite3_bind_int64(s, 2, now_ns);
	bind_str(s, 3, actor);
	bind_str(s, 4, action);
	bind_str(s, 5, note ? note : "");
	ret = exec_stmt(st, s, "audit");
	stmt_put(s, tmp);
	return ret;
}

int
store_audit_foreach(struct store *st, int64_t incident_id, store_audit_fn fn,
    void *arg)
{
	struct store_audit a;
	sqlite3_stmt *s;
	int tmp, rc, ret = 0;

	if ((s = stmt_get(st, S_AUDIT_LIST, &tmp)) == NULL)
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
		sqlerr(st, "list audit");
		ret = -1;
	}
	stmt_put(s, tmp);
	return ret;
}

/* ---- incidents ---- */

static int
evidence_add(struct store *st, int64_t id, const char *json)
{
	sqlite3_stmt *s = st->stmt[S_EVIDENCE_ADD];

	sqlite3_bind_int64(s, 1, id);
	bind_str(s, 2, json);
	sqlite3_bind_int(s, 3, STORE_EVIDENCE_MAX);
	return exec_stmt(st, s, "evidence");
}

/* Looks up the open incident of h's key: 1 found, 0 none, -1 error. */
static int
incident_find_open(struct store *st, const struct store_hit *h, int64_t *id,
    int *sev)
{
	sqlite3_stmt *s = st->stmt[S_INC_FIND_OPEN];
	int rc, ret = -1;

	bind_str(s, 1, h->rule_id);
	bind_str(s, 2, h->agency);
	bind_str(s, 3, h->group_key ? h->group_key : "");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		*sev = sqlite3_column_int(s, 1);
		ret = 1;
	} else if (rc == SQLITE_DONE)
		ret = 0;
	else
		sqlerr(st, "find incident");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

static int
incident_insert(struct store *st, const struct store_hit *h, int sev,
    uint64_t count, int64_t now, int64_t *id)
{
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
	sqlite3_bind_int64(s, 11, (sqlite3_int64)count);
	sqlite3_bind_int64(s, 12, now);
	if (exec_stmt(st, s, "open incident") == -1)
		return -1;
	*id = sqlite3_last_insert_rowid(st->db);
	snprintf(note, sizeof(note), "%s severity, sensor %s",
	    store_severity_name(sev), h->sensor ? h->sensor : "?");
	return store_audit_add(st, *id, "soc-correlator", "created", note, now);
}

int
store_incident_hit(struct store *st, const struct store_hit *h, int64_t *id,
    int *created)
{
	sqlite3_stmt *s = st->stmt[S_INC_UPDATE_HIT];
	char note[64];
	uint64_t count = h->count ? h->count : 1;
	int64_t now = soc_now_ns();
	int own, rc, sev, oldsev;

	*created = 0;
	if (h->rule_id == NULL || h->agency == NULL) {
		seterr(st, "incident hit without rule id or agency");
		return -1;
	}
	sev = h->severity < 0 ? 0 : h->severity > 4 ? 4 : h->severity;
	if (tx_enter(st, &own) == -1)
		return -1;
	if ((rc = incident_find_open(st, h, id, &oldsev)) == -1)
		goto fail;
	if (rc == 0) {
		if (incident_insert(st, h, sev, count, now, id) == -1)
			goto fail;
		*created = 1;
	} else {
		sqlite3_bind_int64(s, 1, *id);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)count);
		sqlite3_bind_int64(s, 3, h->first_ts);
		sqlite3_bind_int64(s, 4, h->last_ts > h->first_ts ?
		    h->last_ts : h->first_ts);
		sqlite3_bind_int(s, 5, sev);
		sqlite3_bind_int64(s, 6, now);
		if (exec_stmt(st, s, "update incident") == -1)
			goto fail;
		if (sev > oldsev) {
			snprintf(note, sizeof(note), "severity %s -> %s",
			    store_severity_name(oldsev), store_severity_name(sev));
			if (store_audit_add(st, *id, "soc-correlator", "escalated",
			    note, now) == -1)
				goto fail;
		}
	}
	if (h->evidence_json != NULL && evidence_add(st, *id, h->evidence_json) == -1)
		goto fail;
	return tx_leave(st, own, 0);
fail:
	*created = 0;
	return tx_leave(st, own, -1);
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
}

int
store_incident_foreach(struct store *st, const struct store_incident_filter *f,
    store_incident_fn fn, void *arg)
{
	struct store_incident in;
	sqlite3_stmt *s;
	int tmp, rc, ret = 0;

	if ((s = stmt_get(st, S_INC_LIST, &tmp)) == NULL)
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
		sqlerr(st, "list incidents");
		ret = -1;
	}
	stmt_put(s, tmp);
	return ret;
}

int
store_incident_get(struct store *st, int64_t id, store_incident_fn fn, void *arg)
{
	struct store_incident in;
	sqlite3_stmt *s;
	int tmp, rc, ret;

	if ((s = stmt_get(st, S_INC_GET, &tmp)) == NULL)
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
		sqlerr(st, "get incident");
		ret = -1;
	}
	stmt_put(s, tmp);
	return ret;
}

int
store_evidence_foreach(struct store *st, int64_t incident_id,
    store_evidence_fn fn, void *arg)
{
	sqlite3_stmt *s;
	int tmp, rc, ret = 0;

	if ((s = stmt_get(st, S_EVIDENCE_LIST, &tmp)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, incident_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((ret = fn(arg, sqlite3_column_int(s, 0), col_str(s, 1),
		    sqlite3_column_int(s, 2) == 1)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sqlerr(st, "list evidence");
		ret = -1;
	}
	stmt_put(s, tmp);
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
		seterr(st, "no such incident %lld", (long long)id);
		ret = 0;
	} else
		sqlerr(st, "incident");
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
		seterr(st, "incident %lld is already %s", (long long)id,
		    store_status_name(from));
		return;
	}
	if (from >= STORE_ST_RESOLVED) {
		seterr(st, "incident %lld is closed (%s); closed incidents do not"
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
	seterr(st, "incident %lld is %s and cannot go back to %s (next: %s)",
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
		seterr(st, "invalid status %d", to);
		return -1;
	}
	if (tx_enter(st, &own) == -1)
		return -1;
	if (incident_state(st, id, &from, assignee, sizeof(assignee)) != 1)
		goto fail;
	if (!store_status_allowed(from, to)) {
		transition_refused(st, id, from, to);
		goto fail;
	}
	sqlite3_bind_int64(s, 1, id);
	bind_str(s, 2, store_status_name(to));
	sqlite3_bind_int64(s, 3, now_ns);
	if (exec_stmt(st, s, "set status") == -1 ||
	    store_audit_add(st, id, actor, store_status_name(to), note,
	    now_ns) == -1)
		goto fail;
	return tx_leave(st, own, 0);
fail:
	return tx_leave(st, own, -1);
}

int
store_incident_assign(struct store *st, int64_t id, const char *assignee,
    const char *actor, const char *note, int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_INC_SET_ASSIGNEE];
	char old[256], text[1024];
	int own, status;

	if (tx_enter(st, &own) == -1)
		return -1;
	if (incident_state(st, id, &status, old, sizeof(old)) != 1)
		goto fail;
	if (status >= STORE_ST_RESOLVED) {
		seterr(st, "incident %lld is closed (%s); closed incidents are"
		    " not reassigned", (long long)id, store_status_name(status));
		goto fail;
	}
	if (strcmp(old, assignee) == 0) {
		seterr(st, "incident %lld is already assigned to %s",
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
	if (exec_stmt(st, s, "assign") == -1 ||
	    store_audit_add(st, id, actor, assignee[0] ? "assigned" : "unassigned",
	    text, now_ns) == -1)
		goto fail;
	return tx_leave(st, own, 0);
fail:
	return tx_leave(st, own, -1);
}

int
store_incident_note(struct store *st, int64_t id, const char *actor,
    const char *note, int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_INC_TOUCH];
	char assignee[256];
	int own, status;

	if (tx_enter(st, &own) == -1)
		return -1;
	if (incident_state(st, id, &status, assignee, sizeof(assignee)) != 1)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now_ns);
	if (exec_stmt(st, s, "note") == -1 ||
	    store_audit_add(st, id, actor, "note", note, now_ns) == -1)
		goto fail;
	return tx_leave(st, own, 0);
fail:
	return tx_leave(st, own, -1);
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
			seterr(st, "no such agency '%s'", agency);
		return -1;
	}
	if ((rc = exists2(st, S_RESP_EXISTS, agency, name)) != 0) {
		if (rc == 1)
			seterr(st, "responder '%s' is already on record for %s",
			    name, agency);
		return -1;
	}
	bind_str(s, 1, agency);
	bind_str(s, 2, name);
	bind_str(s, 3, contact ? contact : "");
	sqlite3_bind_int64(s, 4, now_ns);
	return exec_stmt(st, s, "add responder");
}

int
store_responder_foreach(struct store *st, const char *agency,
    store_responder_fn fn, void *arg)
{
	struct store_responder r;
	sqlite3_stmt *s;
	int tmp, rc, ret = 0;

	if ((s = stmt_get(st, S_RESP_LIST, &tmp)) == NULL)
		return -1;
	bind_str(s, 1, agency);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.agency = col_str(s, 0);
		r.name = col_str(s, 1);
		r.contact = col_str(s, 2);
		r.added_at = sqlite3_column_int64(s, 3);
		if ((ret = fn(arg, &r)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sqlerr(st, "list responders");
		ret = -1;
	}
	stmt_put(s, tmp);
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
			seterr(st, "no such agency '%s'", agency);
		return -1;
	}
	if (expires_at <= assessed_at) {
		seterr(st, "an assessment must expire after it was made");
		return -1;
	}
	bind_str(s, 1, agency);
	sqlite3_bind_int64(s, 2, assessed_at);
	bind_str(s, 3, assessor);
	sqlite3_bind_int64(s, 4, expires_at);
	return exec_stmt(st, s, "add assessment");
}

int
store_assessment_foreach(struct store *st, const char *agency,
    store_assessment_fn fn, void *arg)
{
	struct store_assessment a;
	sqlite3_stmt *s;
	int tmp, rc, ret = 0;

	if ((s = stmt_get(st, S_ASSESS_LIST, &tmp)) == NULL)
		return -1;
	bind_str(s, 1, agency);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		a.agency = col_str(s, 0);
		a.assessor = col_str(s, 1);
		a.assessed_at = sqlite3_column_int64(s, 2);
		a.expires_at = sqlite3_column_int64(s, 3);
		if ((ret = fn(arg, &a)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sqlerr(st, "list assessments");
		ret = -1;
	}
	stmt_put(s, tmp);
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
		sqlerr(st, "stats");
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
		sqlerr(st, "stats");
		return -1;
	}
	if (stats_group(st, S_STATS_STATUS, out->by_status, STORE_ST_COUNT, 1) == -1 ||
	    stats_group(st, S_STATS_SEVERITY, out->by_severity, 5, 0) == -1)
		return -1;
	return 0;
}
