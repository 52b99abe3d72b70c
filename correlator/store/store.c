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
 * Security levels and reporting deadlines (store-policy.c): information
 * systems with their level, the sensor's system and the incident's
 * (stamped when it opens), the per-level policy (severity raise, how
 * long an assessment stays valid when it gives no expiry of its own),
 * the deadlines per severity and the stages met.  An assessment's expiry
 * becomes optional: NULL follows the agency's highest level.
 */
#define NS_H	"3600000000000"
static const char schema_v2_policy[] =
	"CREATE TABLE systems ("
	" agency TEXT NOT NULL REFERENCES agencies(code),"
	" code TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),"
	" created_at INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (agency, code)"
	");"
	"ALTER TABLE sensors ADD COLUMN system TEXT;"
	"ALTER TABLE incidents ADD COLUMN system_code TEXT;"
	"ALTER TABLE incidents ADD COLUMN system_level INTEGER;"
	"CREATE TABLE level_policy ("
	" level INTEGER PRIMARY KEY CHECK (level BETWEEN 1 AND 5),"
	" raise_by INTEGER NOT NULL DEFAULT 0 CHECK (raise_by BETWEEN 0 AND 4),"
	" min_severity INTEGER NOT NULL DEFAULT 0 CHECK (min_severity BETWEEN 0 AND 4),"
	" assessment_months INTEGER NOT NULL CHECK (assessment_months BETWEEN 1 AND 120)"
	");"
	"INSERT INTO level_policy VALUES (1, 0, 0, 24), (2, 0, 0, 24), (3, 0, 0, 24),"
	" (4, 1, 0, 12), (5, 2, 0, 6);"
	"CREATE TABLE deadline_policy ("
	" severity INTEGER PRIMARY KEY CHECK (severity BETWEEN 0 AND 4),"
	" initial_ns INTEGER CHECK (initial_ns > 0),"
	" details_ns INTEGER CHECK (details_ns > 0),"
	" final_ns INTEGER CHECK (final_ns > 0)"
	");"
	"INSERT INTO deadline_policy VALUES"
	" (4, 24 * " NS_H ", 72 * " NS_H ", 120 * " NS_H "),"
	" (3, 24 * " NS_H ", 72 * " NS_H ", 120 * " NS_H "),"
	" (2, 120 * " NS_H ", NULL, 120 * " NS_H "),"
	" (1, NULL, NULL, NULL), (0, NULL, NULL, NULL);"
	"CREATE TABLE incident_reports ("
	" incident_id INTEGER NOT NULL REFERENCES incidents(id),"
	" stage TEXT NOT NULL CHECK (stage IN ('initial','details','final')),"
	" at INTEGER NOT NULL,"
	" actor TEXT NOT NULL,"
	" note TEXT NOT NULL DEFAULT '',"
	" PRIMARY KEY (incident_id, stage)"
	") WITHOUT ROWID;"
	"CREATE TABLE assessments_v2 ("
	" id INTEGER PRIMARY KEY,"
	" agency TEXT NOT NULL REFERENCES agencies(code),"
	" assessed_at INTEGER NOT NULL,"
	" assessor TEXT NOT NULL,"
	" expires_at INTEGER CHECK (expires_at IS NULL OR expires_at > assessed_at)"
	");"
	"INSERT INTO assessments_v2 SELECT id, agency, assessed_at, assessor, expires_at"
	" FROM assessments;"
	"DROP TABLE assessments;"
	"ALTER TABLE assessments_v2 RENAME TO assessments;"
	"CREATE INDEX assessments_agency ON assessments(agency, expires_at);";

/*
 * The national role (store-national.c): where a forwarded incident came
 * from, and when each enrolled key last delivered alerts.  The open-key
 * index gains the origin so that many provincial incidents with the same
 * rule, national agency and group key can be open at once, while a
 * locally raised incident (origin NULL: '' and 0) stays unique per key as
 * before; its first three columns still serve the aggregation lookup.
 */
static const char schema_v3_national[] =
	"ALTER TABLE incidents ADD COLUMN origin_name TEXT;"
	"ALTER TABLE incidents ADD COLUMN origin_agency TEXT;"
	"ALTER TABLE incidents ADD COLUMN origin_incident INTEGER;"
	"ALTER TABLE incidents ADD COLUMN origin_revision INTEGER;"
	"DROP INDEX incidents_open;"
	"CREATE UNIQUE INDEX incidents_open ON incidents(rule_id, agency, group_key,"
	" coalesce(origin_name, ''), coalesce(origin_incident, 0))"
	" WHERE status IN " OPEN_SQL ";"
	"CREATE UNIQUE INDEX incidents_origin ON incidents(origin_name,"
	" origin_incident) WHERE origin_name IS NOT NULL;"
	"ALTER TABLE sensors ADD COLUMN last_alert_at INTEGER NOT NULL DEFAULT 0;";

/*
 * Search (store-search.c): a full-text index of each incident's title and
 * group key, FTS5 with the incidents table as its external content (no
 * copy of the text), kept by triggers so every writer (the correlator,
 * socctl, an operator's sqlite3 shell) keeps it right, and built here for
 * the incidents of an older database.  One row per incident, written when
 * the incident is opened; evidence is searched at query time instead (see
 * store-search.c for why).
 */
#define SEARCH_FTS_ADD(r) \
	"INSERT INTO incident_fts (rowid, rule_title, group_key)" \
	" VALUES (" r ".id, " r ".rule_title, " r ".group_key);"
#define SEARCH_FTS_DEL(r) \
	"INSERT INTO incident_fts (incident_fts, rowid, rule_title, group_key)" \
	" VALUES ('delete', " r ".id, " r ".rule_title, " r ".group_key);"

static const char schema_v4_search[] =
	"CREATE VIRTUAL TABLE incident_fts USING fts5(rule_title, group_key,"
	" content = 'incidents', content_rowid = 'id',"
	" tokenize = 'unicode61 remove_diacritics 2');"
	"CREATE TRIGGER search_incident_insert AFTER INSERT ON incidents BEGIN "
	SEARCH_FTS_ADD("new") " END;"
	"CREATE TRIGGER search_incident_update AFTER UPDATE OF rule_title, group_key"
	" ON incidents BEGIN " SEARCH_FTS_DEL("old") " " SEARCH_FTS_ADD("new")
	" END;"
	"CREATE TRIGGER search_incident_delete AFTER DELETE ON incidents BEGIN "
	SEARCH_FTS_DEL("old") " END;"
	"INSERT INTO incident_fts (incident_fts) VALUES ('rebuild');"
	/*
	 * Each reporting stage of each incident with its due time and when it
	 * was met, from the deadline policy (store-policy.c), for the search
	 * and the leadership report; the same rules as STORE_OVERDUE_SQL.
	 */
	"CREATE VIEW incident_deadlines AS"
	" SELECT i.id AS incident_id, 'initial' AS stage,"
	" i.created_at + dp.initial_ns AS due, r.at AS done"
	" FROM incidents i JOIN deadline_policy dp ON dp.severity = i.severity"
	" LEFT JOIN incident_reports r ON r.incident_id = i.id AND r.stage = 'initial'"
	" WHERE dp.initial_ns IS NOT NULL AND i.status != 'false_positive'"
	" UNION ALL"
	" SELECT i.id, 'details', i.created_at + dp.details_ns, r.at"
	" FROM incidents i JOIN deadline_policy dp ON dp.severity = i.severity"
	" LEFT JOIN incident_reports r ON r.incident_id = i.id AND r.stage = 'details'"
	" WHERE dp.details_ns IS NOT NULL AND i.status != 'false_positive'"
	" UNION ALL"
	" SELECT i.id, 'final', (SELECT max(a.at) FROM audit a WHERE"
	" a.incident_id = i.id AND a.action = 'resolved') + dp.final_ns, r.at"
	" FROM incidents i JOIN deadline_policy dp ON dp.severity = i.severity"
	" LEFT JOIN incident_reports r ON r.incident_id = i.id AND r.stage = 'final'"
	" WHERE dp.final_ns IS NOT NULL AND i.status = 'resolved';";

/*
 * Issue 9: incidents carry a category (from the rule's tags), the earlier
 * incident of the same key they follow (related) and when they were
 * closed (for reopening).  Status and assignee change only together with
 * the audit row that records the change: the latest audit row of the
 * incident must name it (action = the new status, or "reopened" back to
 * new; assigned/unassigned) at the incident's new updated_at, so the
 * store writes the audit row first and a bare UPDATE is refused.
 */
static const char schema_v5_incidents[] =
	"ALTER TABLE incidents ADD COLUMN category TEXT NOT NULL DEFAULT 'other';"
	"ALTER TABLE incidents ADD COLUMN related INTEGER REFERENCES incidents(id);"
	"ALTER TABLE incidents ADD COLUMN closed_at INTEGER;"
	"UPDATE incidents SET closed_at = updated_at WHERE status NOT IN " OPEN_SQL ";"
	/* the latest closed incident of a key (open ones: incidents_open) */
	"CREATE INDEX incidents_closed ON incidents(rule_id, agency, group_key)"
	" WHERE status NOT IN " OPEN_SQL ";"
	"CREATE TRIGGER incidents_status_audited BEFORE UPDATE OF status ON incidents"
	" WHEN NEW.status IS NOT OLD.status AND NOT EXISTS (SELECT 1 FROM audit a"
	"  WHERE a.id = (SELECT max(id) FROM audit WHERE incident_id = NEW.id)"
	"  AND a.at = NEW.updated_at AND (a.action = NEW.status OR"
	"  (a.action = 'reopened' AND NEW.status = 'new')))"
	" BEGIN SELECT RAISE(ABORT, 'incident status changes only with its audit"
	" entry (socctl incident ...)'); END;"
	"CREATE TRIGGER incidents_assignee_audited BEFORE UPDATE OF assignee ON incidents"
	" WHEN NEW.assignee IS NOT OLD.assignee AND NOT EXISTS (SELECT 1 FROM audit a"
	"  WHERE a.id = (SELECT max(id) FROM audit WHERE incident_id = NEW.id)"
	"  AND a.at = NEW.updated_at AND a.action IN ('assigned', 'unassigned'))"
	" BEGIN SELECT RAISE(ABORT, 'incident assignee changes only with its audit"
	" entry (socctl incident assign)'); END;";

/*
 * Forwarding (store-forward.c): an outbox record is one revision of one
 * incident with the state it carries (sent records never change); the
 * forwarder's state, thresholds and cursors are one row that socctl and
 * the coverage report read.
 */
static const char schema_v6_forward[] =
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
 * Roles and rule tags: sensors.role says what a key may send ('sensor':
 * event batches, 'province': alert batches; NULL until the first batch
 * of a key enrolled without --role fixes it, trust on first use), and
 * incidents.rule_tags keeps the rule's tags (comma-separated) so they
 * travel in the forwarded alert.
 */
static const char schema_v7_roles[] =
	"ALTER TABLE sensors ADD COLUMN role TEXT"
	" CHECK (role IS NULL OR role IN ('sensor', 'province'));"
	"ALTER TABLE incidents ADD COLUMN rule_tags TEXT NOT NULL DEFAULT '';";

/*
 * The correlator's correlation-window counters per agency (store-stats.c),
 * for `socctl stats`.  IF NOT EXISTS: a migration test that takes a
 * database back to an older version without this undo still migrates.
 */
static const char schema_v8_windows[] =
	"CREATE TABLE IF NOT EXISTS corr_windows ("
	" agency TEXT PRIMARY KEY,"
	" held INTEGER NOT NULL,"
	" evicted INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL"
	");";

/*
 * The national role's bounds (store-national.c, issue 15 item 9): per
 * province key, the alerts deferred over national.max_alerts_per_min
 * (NACKed; the province resends them) and the agency codes it named that
 * were new for it or invalid; province_agencies lists the agency codes
 * each province has forwarded (seeded from the incidents already stored,
 * valid codes only).  corr_reload: the last SIGHUP reload and its result
 * (store-stats.c, item 19).
 */
static const char schema_v9_provinces[] =
	"CREATE TABLE IF NOT EXISTS province_counts ("
	" name TEXT PRIMARY KEY,"
	" deferred INTEGER NOT NULL DEFAULT 0,"
	" deferred_batches INTEGER NOT NULL DEFAULT 0,"
	" last_deferred_at INTEGER NOT NULL DEFAULT 0,"
	" agency_new INTEGER NOT NULL DEFAULT 0,"
	" agency_invalid INTEGER NOT NULL DEFAULT 0,"
	" last_new_agency TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE TABLE IF NOT EXISTS province_agencies ("
	" name TEXT NOT NULL,"
	" agency TEXT NOT NULL,"
	" first_seen INTEGER NOT NULL,"
	" first_incident INTEGER NOT NULL DEFAULT 0,"
	" new INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (name, agency)"
	") WITHOUT ROWID;"
	"INSERT OR IGNORE INTO province_agencies (name, agency, first_seen,"
	" first_incident) SELECT origin_name, origin_agency, min(created_at),"
	" min(id) FROM incidents WHERE origin_name IS NOT NULL AND"
	" length(origin_agency) BETWEEN 1 AND 63 AND"
	" origin_agency NOT GLOB '*[^A-Za-z0-9._-]*' GROUP BY 1, 2;"
	"CREATE TABLE IF NOT EXISTS corr_reload ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" at INTEGER NOT NULL,"
	" ok INTEGER NOT NULL,"
	" rules INTEGER NOT NULL,"
	" message TEXT NOT NULL"
	");";

/*
 * Per sensor (issue 15): events whose time was outside the correlator's
 * bounds (ingest.max_ahead_s, ingest.max_age_s) and were given the
 * receive time, and the check of the sensor's own count of acked events
 * against what was applied (store_ack_judge() in store-sensor.c): the
 * sensor run it follows, its baseline, the debt seen last, how often it
 * grew, and when it was raised (0: not).
 */
static const char schema_v10_sensor_checks[] =
	"ALTER TABLE sensors ADD COLUMN ts_clamped INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE sensors ADD COLUMN ack_run INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE sensors ADD COLUMN ack_based INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE sensors ADD COLUMN ack_base INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE sensors ADD COLUMN ack_debt INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE sensors ADD COLUMN ack_grew INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE sensors ADD COLUMN ack_alarm_at INTEGER NOT NULL DEFAULT 0;";

/*
 * Indicators (store-intel.c): sets by source, with the origin that
 * published them ('local' for `socctl intel import`) and the version in
 * force, raised by each import, so a set can later be pushed down and
 * acknowledged per version; the indicators of each set, by version (an
 * import writes the next version in short transactions beside the one in
 * force, then switches); one counter the correlator polls to notice any
 * change; and, per incident raised by an indicator hit, the indicator as
 * it was then.
 */
static const char schema_v11_intel[] =
	"CREATE TABLE IF NOT EXISTS intel_sets ("
	" source TEXT PRIMARY KEY,"
	" origin TEXT NOT NULL DEFAULT 'local',"
	" version INTEGER NOT NULL DEFAULT 0,"
	" count INTEGER NOT NULL DEFAULT 0,"
	" updated_at INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE IF NOT EXISTS indicators ("
	" value TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" source TEXT NOT NULL,"
	" confidence INTEGER NOT NULL DEFAULT 50,"
	" tags TEXT NOT NULL DEFAULT '',"
	" first_seen INTEGER NOT NULL DEFAULT 0,"
	" last_seen INTEGER NOT NULL DEFAULT 0,"
	" expires INTEGER NOT NULL DEFAULT 0,"
	" version INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (value, type, source, version)"
	") WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS indicators_set ON indicators (source, version);"
	"CREATE TABLE IF NOT EXISTS intel_state ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" version INTEGER NOT NULL DEFAULT 0"
	");"
	"INSERT OR IGNORE INTO intel_state (id) VALUES (1);"
	"CREATE TABLE IF NOT EXISTS incident_indicators ("
	" incident_id INTEGER PRIMARY KEY,"
	" type TEXT NOT NULL,"
	" value TEXT NOT NULL,"
	" source TEXT NOT NULL,"
	" tags TEXT NOT NULL DEFAULT '',"
	" confidence INTEGER NOT NULL DEFAULT 50,"
	" field TEXT NOT NULL DEFAULT ''"
	");";

/*
 * Endpoints (store-endpoint.c, issue 18): the hosts that send events, per
 * agency of the sending sensor, with their protection state; the
 * correlator's settings for them; hosts refused per agency; and the
 * number of computers an agency declares.  Tables only, IF NOT EXISTS: a
 * migration test that takes a database back to an older version without
 * this undo still migrates.
 */
static const char schema_v12_endpoints[] =
	"CREATE TABLE IF NOT EXISTS endpoints ("
	" agency TEXT NOT NULL,"
	" host TEXT NOT NULL,"
	" os TEXT NOT NULL DEFAULT '',"
	" channels TEXT NOT NULL DEFAULT '',"
	" first_seen INTEGER NOT NULL DEFAULT 0,"
	" last_seen INTEGER NOT NULL DEFAULT 0,"
	" last_event INTEGER NOT NULL DEFAULT 0,"
	" day INTEGER NOT NULL DEFAULT 0,"
	" day_events INTEGER NOT NULL DEFAULT 0,"
	" prev_events INTEGER NOT NULL DEFAULT 0,"
	" engine TEXT NOT NULL DEFAULT '',"
	" av_state TEXT NOT NULL DEFAULT '',"
	" healthy_at INTEGER NOT NULL DEFAULT 0,"
	" off_at INTEGER NOT NULL DEFAULT 0,"
	" detect_at INTEGER NOT NULL DEFAULT 0,"
	" detect_name TEXT NOT NULL DEFAULT '',"
	" silent_at INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (agency, host)"
	") WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS endpoint_conf ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" stale_after INTEGER NOT NULL DEFAULT 86400000000000,"
	" protection_within INTEGER NOT NULL DEFAULT 86400000000000,"
	" max_per_agency INTEGER NOT NULL DEFAULT 50000,"
	" min_share REAL NOT NULL DEFAULT 0.95"
	");"
	"INSERT OR IGNORE INTO endpoint_conf (id) VALUES (1);"
	"CREATE TABLE IF NOT EXISTS endpoint_refused ("
	" agency TEXT PRIMARY KEY,"
	" over_quota INTEGER NOT NULL DEFAULT 0,"
	" too_long INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE IF NOT EXISTS agency_computers ("
	" agency TEXT PRIMARY KEY,"
	" computers INTEGER NOT NULL"
	");";

/*
 * The archive's committed position (correlator/archive/): the segment
 * and the end of its last frame, written in the same transaction as the
 * batches whose events that frame holds, so a restart cuts exactly what
 * was never committed; the directory, so socctl finds it; the events
 * archived in all.
 */
static const char schema_v13_archive[] =
	"CREATE TABLE IF NOT EXISTS archive_state ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" dir TEXT NOT NULL DEFAULT '',"
	" segment TEXT NOT NULL DEFAULT '',"
	" seg_offset INTEGER NOT NULL DEFAULT 0,"
	" events INTEGER NOT NULL DEFAULT 0,"
	" updated_at INTEGER NOT NULL DEFAULT 0"
	");"
	"INSERT OR IGNORE INTO archive_state (id) VALUES (1);";

/*
 * The archive's health: paused since (a full disk; 0 writing) and the
 * events not archived, written by ingest in the group's transaction when
 * it changes; layer 2 of the coverage report degrades while it is paused.
 */
static const char schema_v15_archive_health[] =
	"CREATE TABLE IF NOT EXISTS archive_health ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" paused_at INTEGER NOT NULL DEFAULT 0,"
	" not_archived INTEGER NOT NULL DEFAULT 0,"
	" updated_at INTEGER NOT NULL DEFAULT 0"
	");";

/*
 * Notifications (store-notify.c, issue 20): responders' contacts (a
 * table of their own, IF NOT EXISTS like every table here, so a
 * migration test that undoes older steps by hand still migrates); the
 * notification outbox, one row per (incident, responder, channel, reason)
 * written in the incident's own transaction with a stable key (the id the
 * message carries: a resend after a crash is recognisable); the deadline
 * escalations already made (each once); the sender's settings and
 * counters, one row that socctl reads.
 */
static const char schema_v14_notify[] =
	"CREATE TABLE IF NOT EXISTS responder_contacts ("
	" responder_id INTEGER PRIMARY KEY REFERENCES responders(id)"
	"  ON DELETE CASCADE,"
	" email TEXT NOT NULL DEFAULT '',"
	" webhook TEXT NOT NULL DEFAULT '',"
	" command TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE TABLE IF NOT EXISTS notify_outbox ("
	" id INTEGER PRIMARY KEY,"
	" key TEXT NOT NULL UNIQUE,"
	" incident_id INTEGER,"
	" responder_id INTEGER NOT NULL,"
	" responder TEXT NOT NULL,"
	" channel TEXT NOT NULL CHECK (channel IN ('email','webhook','command')),"
	" target TEXT NOT NULL,"
	" reason TEXT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN"
	"  ('pending','retrying','sent','given_up')),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_at INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" sent_at INTEGER,"
	" last_error TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX IF NOT EXISTS notify_due ON notify_outbox(next_at)"
	" WHERE state IN ('pending','retrying');"
	"CREATE INDEX IF NOT EXISTS notify_incident ON notify_outbox(incident_id);"
	"CREATE TABLE IF NOT EXISTS notify_escalations ("
	" incident_id INTEGER NOT NULL,"
	" stage TEXT NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('half','overdue')),"
	" at INTEGER NOT NULL,"
	" PRIMARY KEY (incident_id, stage, kind)"
	") WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS notify_state ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" smtp TEXT NOT NULL DEFAULT '',"
	" sender TEXT NOT NULL DEFAULT '',"
	" lead TEXT NOT NULL DEFAULT '',"
	" categories TEXT NOT NULL DEFAULT '',"
	" min_severity INTEGER NOT NULL DEFAULT 0,"
	" max_attempts INTEGER NOT NULL DEFAULT 0,"
	" started_at INTEGER NOT NULL DEFAULT 0,"
	" sent INTEGER NOT NULL DEFAULT 0,"
	" failed INTEGER NOT NULL DEFAULT 0,"
	" given_up INTEGER NOT NULL DEFAULT 0,"
	" escalations INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT NOT NULL DEFAULT '',"
	" updated_at INTEGER NOT NULL DEFAULT 0"
	");"
	"INSERT OR IGNORE INTO notify_state (id) VALUES (1);";

/*
 * Indicator sets pushed down (store-intel-push.c, docs/NATIONAL.md):
 * per set, the publisher's version this copy is of (a province's copy of
 * a national set; 0 for a set imported here) and how the last update
 * came (full or delta, records, bytes); the changes each import of a
 * local set made (op 'v' marks a version whose changes are all here, so
 * a province that was away catches up with them); the version each
 * province acknowledged; and, on a national database, the sightings of
 * each indicator per province, agency and provincial incident; and the
 * provincial agencies' tree as the alerts describe it (code, name,
 * parent), for `--agency PROVINCE/AGENCY` with its subtree.
 */
static const char schema_v16_intel_push[] =
	"ALTER TABLE intel_sets ADD COLUMN pub_version INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE intel_sets ADD COLUMN pub_kind TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE intel_sets ADD COLUMN pub_records INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE intel_sets ADD COLUMN pub_bytes INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE IF NOT EXISTS intel_delta ("
	" source TEXT NOT NULL,"
	" version INTEGER NOT NULL,"
	" op TEXT NOT NULL,"
	" value TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" confidence INTEGER NOT NULL DEFAULT 50,"
	" tags TEXT NOT NULL DEFAULT '',"
	" first_seen INTEGER NOT NULL DEFAULT 0,"
	" last_seen INTEGER NOT NULL DEFAULT 0,"
	" expires INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (source, version, value, type)"
	") WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS intel_acks ("
	" province TEXT NOT NULL,"
	" source TEXT NOT NULL,"
	" version INTEGER NOT NULL DEFAULT 0,"
	" acked_at INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (province, source)"
	");"
	"CREATE TABLE IF NOT EXISTS intel_sightings ("
	" value TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" province TEXT NOT NULL,"
	" agency TEXT NOT NULL,"
	" incident INTEGER NOT NULL,"
	" count INTEGER NOT NULL DEFAULT 0,"
	" first_seen INTEGER NOT NULL DEFAULT 0,"
	" last_seen INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (value, type, province, incident)"
	");"
	"CREATE INDEX IF NOT EXISTS intel_sightings_value ON intel_sightings (value);"
	"CREATE TABLE IF NOT EXISTS province_tree ("
	" province TEXT NOT NULL,"
	" code TEXT NOT NULL,"
	" name TEXT NOT NULL DEFAULT '',"
	" parent TEXT NOT NULL DEFAULT '',"
	" updated_at INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (province, code)"
	") WITHOUT ROWID;";

/*
 * Endpoints' signature age (issue 18): when a computer's antivirus
 * signatures were last known current (Defender's 2000 at its time, a
 * 1151 health report's time minus the signature age it carries), and
 * the bound the correlator runs with (endpoints.signature_max_age).
 */
static const char schema_v17_ep_signatures[] =
	"ALTER TABLE endpoints ADD COLUMN sig_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE endpoint_conf ADD COLUMN signature_max_age INTEGER NOT"
	" NULL DEFAULT 604800000000000;";

/*
 * The provinces' coverage (store-national.c, docs/NATIONAL.md "Coverage
 * sent up"): on a national database, each province's agencies with their
 * four layers as the province last reported them; a province's record
 * replaces all of its rows.
 */
static const char schema_v18_province_coverage[] =
	"CREATE TABLE IF NOT EXISTS province_coverage ("
	" province TEXT NOT NULL,"
	" agency TEXT NOT NULL,"
	" name TEXT NOT NULL DEFAULT '',"
	" parent TEXT NOT NULL DEFAULT '',"
	" covered INTEGER NOT NULL DEFAULT 0,"
	" state1 INTEGER NOT NULL DEFAULT 2,"
	" reason1 TEXT NOT NULL DEFAULT '',"
	" state2 INTEGER NOT NULL DEFAULT 2,"
	" reason2 TEXT NOT NULL DEFAULT '',"
	" state3 INTEGER NOT NULL DEFAULT 2,"
	" reason3 TEXT NOT NULL DEFAULT '',"
	" state4 INTEGER NOT NULL DEFAULT 2,"
	" reason4 TEXT NOT NULL DEFAULT '',"
	" ep_declared INTEGER NOT NULL DEFAULT -1,"
	" ep_reporting INTEGER NOT NULL DEFAULT 0,"
	" ep_protected INTEGER NOT NULL DEFAULT 0,"
	" reported_at INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (province, agency)"
	") WITHOUT ROWID;";

/*
 * Notifications (store-notify.c, docs/NOTIFY.md): the webhook template a
 * responder names ("" the route's, notify.webhook_template), and how many
 * finished outbox rows were pruned (notify.keep).
 */
static const char schema_v19_notify_more[] =
	"ALTER TABLE responder_contacts ADD COLUMN template TEXT NOT NULL"
	" DEFAULT '';"
	"ALTER TABLE notify_state ADD COLUMN pruned INTEGER NOT NULL DEFAULT 0;";

/*
 * Endpoints (issue 18): the antivirus signature version each computer
 * last reported (Defender's "Signature Version" / "Security
 * intelligence Version" fields) with that report's time; and where a
 * merger moved an agency's endpoints (a log in the mergers' order), so
 * a running correlator holding the old code's entries moves them the
 * same way before it writes, even when the code was created again.
 */
static const char schema_v20_ep_version[] =
	"ALTER TABLE endpoints ADD COLUMN sig_version TEXT NOT NULL"
	" DEFAULT '';"
	"ALTER TABLE endpoints ADD COLUMN sig_version_at INTEGER NOT NULL"
	" DEFAULT 0;"
	"CREATE TABLE IF NOT EXISTS endpoint_moved ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" agency TEXT NOT NULL,"
	" into_agency TEXT NOT NULL,"
	" at INTEGER NOT NULL DEFAULT 0"
	");";

/*
 * The numbered migrations: migrations[v] upgrades a version v database to
 * v + 1 and [0] creates the schema, so a fresh file runs them all in
 * order.  To change the schema, append a step here (never edit one that
 * has shipped) and raise STORE_SCHEMA_VERSION in store.h to match.
 */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
	schema_v1,		/* 0 -> 1 */
	schema_v2_policy,	/* 1 -> 2: security levels, deadlines */
	schema_v3_national,	/* 2 -> 3: the national role */
	schema_v4_search,	/* 3 -> 4: search (incident_fts) */
	schema_v5_incidents,	/* 4 -> 5: category, related, closed_at, audit triggers */
	schema_v6_forward,	/* 5 -> 6: outbox revisions, forward_state */
	schema_v7_roles,	/* 6 -> 7: key roles, incident rule tags */
	schema_v8_windows,	/* 7 -> 8: correlation window counters */
	schema_v9_provinces,	/* 8 -> 9: province bounds, agencies, reloads */
	schema_v10_sensor_checks, /* 9 -> 10: clamped times, acked vs applied */
	schema_v11_intel,	/* 10 -> 11: indicator sets */
	schema_v12_endpoints,	/* 11 -> 12: endpoints, declared computers */
	schema_v13_archive,	/* 12 -> 13: the archive's position */
	schema_v14_notify,	/* 13 -> 14: contacts, notification outbox */
	schema_v15_archive_health, /* 14 -> 15: the archive paused */
	schema_v16_intel_push,	/* 15 -> 16: sets pushed down, acks, sightings */
	schema_v17_ep_signatures, /* 16 -> 17: endpoints' signature age */
	schema_v18_province_coverage, /* 17 -> 18: provinces' coverage */
	schema_v19_notify_more,	/* 18 -> 19: responders' templates, pruned */
	schema_v20_ep_version,	/* 19 -> 20: signature version, endpoint_moved */
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
	store_policy_sql, store_agency_sql,
	store_national_sql,
	store_forward_sql,
	store_stats_sql,
	store_notify_sql,
};

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
	/* one thread per struct store (store.h): no locking inside SQLite */
	if (sqlite3_open_v2(path, &st->db, oflags | SQLITE_OPEN_NOMUTEX,
	    NULL) != SQLITE_OK) {
		store_sqlerr(st, "open");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, 5000);
	if (pragma(st, "PRAGMA foreign_keys = ON") == -1)
		goto fail;
	/* cache_size: a group's transaction must not spill its pages to
	 * the WAL midway; temp_store: the savepoints' sub-journals (a
	 * batch's, an incident's) stay in memory, not in a temp file;
	 * wal_autocheckpoint: pages rewritten by every group (incidents,
	 * their latest evidence) are copied back once per 64 MB of WAL,
	 * not once per commit */
	if (!(flags & STORE_READONLY) && (set_wal(st) == -1 ||
	    pragma(st, "PRAGMA synchronous = FULL") == -1 ||
	    pragma(st, "PRAGMA cache_size = -131072") == -1 ||
	    pragma(st, "PRAGMA temp_store = MEMORY") == -1 ||
	    pragma(st, "PRAGMA wal_autocheckpoint = 16384") == -1))
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
