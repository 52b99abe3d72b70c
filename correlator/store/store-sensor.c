/*
 * The store's sensors: enrollment and revocation (socctl), lookup by name
 * or CURVE key (the ZAP handler authenticates with it), the last committed
 * batch sequence number that carries the exactly-once promise, and
 * heartbeats with the sensor's counters.
 *
 * store_sensor_set_seq() runs inside the correlator's batch transaction
 * (store.h), so a sequence number is committed with the batch it counts
 * or not at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"

#define SENSOR_COLS	"name, agency, pubkey, revoked, last_seq, last_heartbeat," \
	" coalesce(system, ''), coalesce((SELECT y.level FROM systems y" \
	" WHERE y.agency = sensors.agency AND y.code = sensors.system), 0)," \
	" coalesce(role, '')"

const struct store_sql store_sensor_sql[] = {
	{ S_SENSOR_BY_KEY, "SELECT " SENSOR_COLS " FROM sensors WHERE pubkey = ?1" },
	{ S_SENSOR_BY_NAME, "SELECT " SENSOR_COLS " FROM sensors WHERE name = ?1" },
	{ S_SENSOR_SET_SEQ, "UPDATE sensors SET last_seq = ?2,"
	    " events_received = events_received + ?3, batches = batches + 1,"
	    " last_batch_at = ?4 WHERE name = ?1" },
	{ S_SENSOR_HEARTBEAT, "UPDATE sensors SET last_heartbeat = ?2,"
	    " counters = coalesce(?3, counters) WHERE name = ?1" },
	{ S_SENSOR_ENROLL, "INSERT INTO sensors (name, agency, pubkey, enrolled_at)"
	    " VALUES (?1, ?2, ?3, ?4)" },
	{ S_SENSOR_REVOKE, "UPDATE sensors SET revoked = 1,"
	    " revoked_at = coalesce(revoked_at, ?2) WHERE name = ?1" },
	{ S_SENSOR_LIST, "SELECT name, agency, pubkey, revoked, enrolled_at, last_seq,"
	    " events_received, batches, last_batch_at, last_heartbeat, counters,"
	    " json_valid(counters), coalesce(role, ''), ts_clamped, ack_debt,"
	    " ack_alarm_at FROM sensors WHERE ?1 IS NULL OR agency = ?1 ORDER BY agency, name" },
	{ S_SENSOR_ROLE, "UPDATE sensors SET role = ?2 WHERE name = ?1"
	    " AND (?3 OR role IS NULL)" },
	{ S_SENSOR_CLAMPED, "UPDATE sensors SET ts_clamped = ts_clamped + ?2"
	    " WHERE name = ?1" },
	{ S_SENSOR_ACK_GET, "SELECT events_received, ack_run, ack_based,"
	    " ack_base, ack_debt, ack_grew, ack_alarm_at FROM sensors"
	    " WHERE name = ?1" },
	{ S_SENSOR_ACK_SET, "UPDATE sensors SET ack_run = ?2, ack_based = ?3,"
	    " ack_base = ?4, ack_debt = ?5, ack_grew = ?6, ack_alarm_at = ?7"
	    " WHERE name = ?1" },
	{ S_SENSOR_ACK_SKIP, "UPDATE sensors SET ack_base = CASE WHEN"
	    " ack_base > 9223372036854775807 - ?2 THEN 9223372036854775807"
	    " ELSE ack_base + ?2 END WHERE name = ?1 AND ack_based = 1" },
	{ 0, NULL }
};

static int
sensor_lookup(struct store *st, int idx, const char *key, struct store_sensor *out)
{
	sqlite3_stmt *s;
	int tmp, rc, ret = -1;

	if ((s = store_stmt_get(st, idx, &tmp)) == NULL)
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
		snprintf(out->system, sizeof(out->system), "%s", col_str(s, 6));
		out->system_level = sqlite3_column_int(s, 7);
		snprintf(out->role, sizeof(out->role), "%s", col_str(s, 8));
		ret = 1;
	} else if (rc == SQLITE_DONE)
		ret = 0;
	else
		store_sqlerr(st, "sensor lookup");
	store_stmt_put(s, tmp);
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

/* store_exec() of an update of sensor name: an error if it has no row. */
int
store_exec_sensor(struct store *st, sqlite3_stmt *s, const char *what,
    const char *name)
{
	if (store_exec(st, s, what) == -1)
		return -1;
	if (sqlite3_changes(st->db) == 0) {
		store_seterr(st, "no such sensor '%s'", name);
		return -1;
	}
	return 0;
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
	return store_exec_sensor(st, s, "sensor seq", name);
}

int
store_sensor_set_role(struct store *st, const char *name, const char *role,
    int force)
{
	struct store_sensor cur;
	sqlite3_stmt *s = st->stmt[S_SENSOR_ROLE];
	int rc;

	if (strcmp(role, "sensor") != 0 && strcmp(role, "province") != 0) {
		store_seterr(st, "role must be sensor or province, not '%s'", role);
		return -1;
	}
	bind_str(s, 1, name);
	bind_str(s, 2, role);
	sqlite3_bind_int(s, 3, force != 0);
	if (store_exec(st, s, "sensor role") == -1)
		return -1;
	if (sqlite3_changes(st->db) > 0)
		return 1;
	if ((rc = store_sensor_by_name(st, name, &cur)) != 1) {
		if (rc == 0)
			store_seterr(st, "no such sensor '%s'", name);
		return -1;
	}
	return strcmp(cur.role, role) == 0;
}

int
store_sensor_heartbeat(struct store *st, const char *name, int64_t now_ns,
    const char *counters_json)
{
	sqlite3_stmt *s = st->stmt[S_SENSOR_HEARTBEAT];

	bind_str(s, 1, name);
	sqlite3_bind_int64(s, 2, now_ns);
	bind_str(s, 3, counters_json);
	return store_exec_sensor(st, s, "sensor heartbeat", name);
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
		store_seterr(st, "sensor name must be 1 to %zu bytes",
		    sizeof(owner.name) - 1);
		return -1;
	}
	if (!z85_valid(z85pub)) {
		store_seterr(st, "not a CURVE public key (want 40 Z85 characters)");
		return -1;
	}
	if ((rc = store_agency_exists(st, agency)) != 1) {
		if (rc == 0)
			store_seterr(st, "no such agency '%s'", agency);
		return -1;
	}
	if ((rc = store_sensor_by_name(st, name, &owner)) != 0) {
		if (rc == 1)
			store_seterr(st, "sensor '%s' is already enrolled (agency %s%s)",
			    name, owner.agency, owner.revoked ? ", revoked" : "");
		return -1;
	}
	if ((rc = store_sensor_by_key(st, z85pub, &owner)) != 0) {
		if (rc == 1)
			store_seterr(st, "this key is already enrolled for sensor '%s'",
			    owner.name);
		return -1;
	}
	bind_str(s, 1, name);
	bind_str(s, 2, agency);
	bind_str(s, 3, z85pub);
	sqlite3_bind_int64(s, 4, now_ns);
	return store_exec(st, s, "enroll sensor");
}

int
store_sensor_revoke(struct store *st, const char *name, int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_SENSOR_REVOKE];

	bind_str(s, 1, name);
	sqlite3_bind_int64(s, 2, now_ns);
	if (store_exec(st, s, "revoke sensor") == -1)
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

	if ((s = store_stmt_get(st, S_SENSOR_LIST, &tmp)) == NULL)
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
		si.role = col_str(s, 12);
		si.ts_clamped = (uint64_t)sqlite3_column_int64(s, 13);
		si.ack_debt = sqlite3_column_int64(s, 14);
		si.ack_alarm_at = sqlite3_column_int64(s, 15);
		if ((ret = fn(arg, &si)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "list sensors");
		ret = -1;
	}
	store_stmt_put(s, tmp);
	return ret;
}

int
store_sensor_add_clamped(struct store *st, const char *name, uint64_t n)
{
	sqlite3_stmt *s = st->stmt[S_SENSOR_CLAMPED];

	bind_str(s, 1, name);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)n);
	return store_exec_sensor(st, s, "sensor clamped", name);
}

/* a - b, saturated: the counts come from a hostile peer's heartbeat */
static int64_t
sub_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/*
 * The sensor's own count of acked events against what was applied, read
 * at heartbeats that say nothing was in flight (unacked 0).  The sensor's
 * uplink sets both counters as the heartbeat leaves, so then every batch
 * sent before it is acked and in its count, and none sent after it can
 * overtake it on the connection: acked - applied is the same at every
 * such heartbeat of one run of the sensor, whatever the lag (acks on the
 * way, a correlator restart, resends after a timeout, each counted once
 * on each side).  The first such heartbeat of a run is the baseline (a
 * restarted sensor's spool resends are counted before it).  The debt, the
 * difference minus the baseline, grows only with acks given for events
 * never applied: batches taken as resends because another holder of the
 * key pushed the chain ahead (or batches refused and acked as malformed).
 * It is raised once it grew at STORE_ACK_GREW quiet heartbeats, so one
 * odd reading is not enough.  A difference that falls (events applied
 * that this run did not send: the other holder's) takes the baseline
 * down with it.
 *
 * Only a newer run (uplink_start, the sensor's start time, greater than
 * the one followed) takes a new baseline.  A run older than the one
 * followed is a second holder of the key (heartbeats of two runs
 * alternating, or a thief sending changing runs to wipe the check): that
 * is raised at once and changes nothing else, so the thief cannot reset
 * the check.  A sensor whose clock went back between two runs raises it
 * too; `socctl sensor reset-seq` clears it.
 *
 * Returns 1 when the debt is raised now, STORE_ACK_RUNS when an older run
 * raised it now, else 0.
 */
int
store_ack_judge(struct store_ack *a, int64_t run, int64_t acked,
    int64_t applied, int64_t unacked, int64_t now_ns)
{
	int64_t x, d;

	if (run < a->run) {
		if (a->alarm_at != 0)
			return 0;
		a->alarm_at = now_ns;
		return STORE_ACK_RUNS;
	}
	if (run > a->run) {
		int64_t alarm = a->alarm_at;

		memset(a, 0, sizeof(*a));
		a->run = run;
		a->alarm_at = alarm;	/* until reset-seq clears it */
	}
	if (unacked != 0)
		return 0;
	x = sub_sat(acked, applied);
	if (!a->based) {
		a->based = 1;
		a->base = x;
		a->debt = 0;
		a->grew = 0;
		return 0;
	}
	d = sub_sat(x, a->base);
	if (d < 0) {
		a->base = x;
		d = 0;
	}
	if (d == 0) {
		a->debt = 0;
		a->grew = 0;
		return 0;
	}
	if (d > a->debt)
		a->grew++;
	a->debt = d;
	if (a->grew >= STORE_ACK_GREW && a->alarm_at == 0) {
		a->alarm_at = now_ns;
		return 1;
	}
	return 0;
}

int
store_sensor_ack_check(struct store *st, const char *name, int64_t run,
    int64_t acked, int64_t unacked, int64_t now_ns, struct store_ack *out)
{
	sqlite3_stmt *s;
	int64_t applied;
	int rc, tmp, raised;

	if ((s = store_stmt_get(st, S_SENSOR_ACK_GET, &tmp)) == NULL)
		return -1;
	bind_str(s, 1, name);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			store_seterr(st, "no such sensor '%s'", name);
		else
			store_sqlerr(st, "sensor ack check");
		store_stmt_put(s, tmp);
		return -1;
	}
	applied = sqlite3_column_int64(s, 0);
	out->run = sqlite3_column_int64(s, 1);
	out->based = sqlite3_column_int(s, 2);
	out->base = sqlite3_column_int64(s, 3);
	out->debt = sqlite3_column_int64(s, 4);
	out->grew = sqlite3_column_int(s, 5);
	out->alarm_at = sqlite3_column_int64(s, 6);
	store_stmt_put(s, tmp);
	raised = store_ack_judge(out, run, acked, applied, unacked, now_ns);
	if (store_sensor_ack_set(st, name, out) == -1)
		return -1;
	return raised;
}

int
store_sensor_ack_skipped(struct store *st, const char *name, uint64_t n)
{
	sqlite3_stmt *s = st->stmt[S_SENSOR_ACK_SKIP];

	bind_str(s, 1, name);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)(n > INT64_MAX ? INT64_MAX : n));
	return store_exec(st, s, "sensor ack skipped");	/* not based: 0 rows */
}

int
store_sensor_ack_set(struct store *st, const char *name,
    const struct store_ack *a)
{
	sqlite3_stmt *s = st->stmt[S_SENSOR_ACK_SET];

	bind_str(s, 1, name);
	sqlite3_bind_int64(s, 2, a->run);
	sqlite3_bind_int(s, 3, a->based);
	sqlite3_bind_int64(s, 4, a->base);
	sqlite3_bind_int64(s, 5, a->debt);
	sqlite3_bind_int(s, 6, a->grew);
	sqlite3_bind_int64(s, 7, a->alarm_at);
	return store_exec_sensor(st, s, "sensor ack state", name);
}
