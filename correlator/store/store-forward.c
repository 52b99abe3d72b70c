/*
 * The store's side of forwarding: the outbox written in the same
 * transaction as the incident change it records, and the forwarder's
 * state row (forward_state) that socctl and the coverage report read.
 *
 * An outbox record is one revision of one incident: the incident's
 * severity, status, count and times at that revision (the rule, agency
 * and evidence are read from the incident when the record is sent).
 * store_outbox_touch() is idempotent: it compares the incident with its
 * newest record and writes only when something the national side must
 * know has moved.  If that record has not been handed to the forwarder
 * yet, it is rewritten in place with the next revision and given the
 * next id (so it goes to the end of the queue, past any cursor that
 * already saw it); otherwise a new record is added.  Records never
 * reuse an id (max + 1, and only the oldest are ever deleted), which is
 * what lets the CEF writer keep a plain "last id written" cursor.
 *
 * Only a connection that called store_forward_enable() writes records:
 * the correlator's ingest connection and the forwarder's own.  socctl's
 * transitions are picked up by the forwarder from the audit trail
 * (store_forward_sweep), so they reach the outbox too, a moment later.
 */
#include <stdio.h>
#include <string.h>

#include "store-int.h"
#include "soc/util.h"

/* A record with what the forwarder needs of its incident and agency. */
#define OUT_REC_COLS \
	"SELECT o.id, o.incident_id, o.revision, o.severity, o.status, o.count," \
	" o.first_seen, o.last_seen, o.created_at, i.rule_id, i.rule_title," \
	" i.rule_level, i.rule_author, i.agency, coalesce(a.name, '')," \
	" coalesce(a.parent, ''), i.sensor, i.group_key," \
	" coalesce((SELECT event_json FROM evidence e WHERE" \
	" e.incident_id = o.incident_id ORDER BY e.seq LIMIT 1), '')," \
	" i.rule_tags, coalesce(nullif(i.origin_agency, ''), i.agency)" \
	" FROM outbox o JOIN incidents i ON i.id = o.incident_id" \
	" LEFT JOIN agencies a ON a.code = i.agency"

const struct store_sql store_forward_sql[] = {
	{ S_OUT_INC, "SELECT severity, status, count, first_seen, last_seen"
	    " FROM incidents WHERE id = ?1" },
	{ S_OUT_LAST, "SELECT id, revision, sent_at IS NULL, severity, status,"
	    " count, first_seen, last_seen FROM outbox WHERE incident_id = ?1"
	    " ORDER BY revision DESC LIMIT 1" },
	{ S_OUT_MOVE, "UPDATE outbox SET id = (SELECT max(id) FROM outbox) + 1,"
	    " revision = ?2, severity = ?3, status = ?4, count = ?5,"
	    " first_seen = ?6, last_seen = ?7 WHERE id = ?1" },
	{ S_OUT_INSERT, "INSERT INTO outbox (id, incident_id, created_at, payload,"
	    " revision, severity, status, count, first_seen, last_seen)"
	    " VALUES ((SELECT coalesce(max(id), 0) + 1 FROM outbox), ?1, ?2, '',"
	    " ?3, ?4, ?5, ?6, ?7, ?8)" },
	{ S_OUT_TAKE, OUT_REC_COLS " WHERE o.sent_at IS NULL ORDER BY o.id"
	    " LIMIT ?1" },
	{ S_OUT_MARK, "UPDATE outbox SET sent_at = ?2, attempts = attempts + 1"
	    " WHERE sent_at IS NULL AND id <= ?1" },
	{ S_OUT_AFTER, OUT_REC_COLS " WHERE o.id > ?2 ORDER BY o.id LIMIT ?1" },
	{ S_OUT_ACK, "UPDATE outbox SET acked_at = ?2 WHERE id = ?1"
	    " AND acked_at IS NULL" },
	{ S_OUT_REQUEUE_DEL, "DELETE FROM outbox WHERE acked_at IS NULL AND"
	    " EXISTS (SELECT 1 FROM outbox n WHERE n.incident_id ="
	    " outbox.incident_id AND n.acked_at IS NULL AND n.revision >"
	    " outbox.revision)" },
	{ S_OUT_REQUEUE, "UPDATE outbox SET sent_at = NULL WHERE acked_at IS NULL"
	    " AND sent_at IS NOT NULL" },
	{ S_OUT_TRIM, "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
	    " WHERE acked_at IS NULL ORDER BY id LIMIT ?1)" },
	/* pruning: the next max acked rows older than the cut-off, in
	 * (acked_at, id) order from a cursor; of those, the ones that are not
	 * their incident's newest record (it numbers the next revision), not
	 * the outbox's newest (ids are never reused) and already written to
	 * the SIEM when there is one */
	{ S_OUT_PRUNE_SCAN, "WITH s AS (SELECT acked_at, id FROM outbox"
	    " WHERE acked_at IS NOT NULL AND acked_at < ?1"
	    " AND (acked_at, id) > (?2, ?3) ORDER BY acked_at, id LIMIT ?4),"
	    " l AS (SELECT acked_at, id FROM s ORDER BY acked_at DESC, id DESC"
	    " LIMIT 1) SELECT (SELECT count(*) FROM s),"
	    " coalesce((SELECT acked_at FROM l), 0), coalesce((SELECT id FROM l), 0)" },
	{ S_OUT_PRUNE, "DELETE FROM outbox WHERE id IN (SELECT s.id FROM"
	    " (SELECT id, incident_id, revision FROM outbox WHERE acked_at IS NOT"
	    " NULL AND acked_at < ?1 AND (acked_at, id) > (?2, ?3)"
	    " ORDER BY acked_at, id LIMIT ?4) s"
	    " WHERE s.id < (SELECT max(id) FROM outbox)"
	    " AND s.id <= (SELECT CASE WHEN f.cef = '' THEN s.id ELSE f.cef_cursor"
	    " END FROM forward_state f WHERE f.id = 1)"
	    " AND EXISTS (SELECT 1 FROM outbox n WHERE n.incident_id ="
	    " s.incident_id AND n.revision > s.revision))" },
	{ S_OUT_BACKLOG, "SELECT count(*), coalesce(min(o.created_at), 0)"
	    " FROM outbox o JOIN incidents i ON i.id = o.incident_id"
	    " WHERE o.acked_at IS NULL AND i.agency = ?1" },
	{ S_OUT_PENDING, "SELECT count(*), coalesce(min(created_at), 0)"
	    " FROM outbox WHERE acked_at IS NULL" },
	{ S_FWD_CONF, "UPDATE forward_state SET endpoint = ?1, cef = ?2,"
	    " origin = ?3, min_severity = ?4, ack_within = ?5,"
	    " max_backlog_age = ?6, max_pending = ?7, started_at = ?8,"
	    " connected = 0, cef_connected = 0, last_error = '', updated_at = ?8,"
	    " audit_cursor = CASE WHEN audit_cursor < 0 THEN"
	    " (SELECT coalesce(max(id), 0) FROM audit) ELSE audit_cursor END,"
	    " cef_cursor = CASE WHEN cef = ?2 THEN cef_cursor ELSE"
	    " (SELECT coalesce(max(id), 0) FROM outbox) END WHERE id = 1" },
	{ S_FWD_GET, "SELECT endpoint, cef, origin, min_severity, ack_within,"
	    " max_backlog_age, max_pending, started_at, connected, last_ack_at,"
	    " last_send_at, sent, acked, dropped, seq, audit_cursor, cef_cursor,"
	    " cef_sent, cef_connected, last_error, updated_at"
	    " FROM forward_state WHERE id = 1" },
	{ S_FWD_SEQ, "UPDATE forward_state SET seq = max(seq, ?1),"
	    " sent = sent + ?2, last_send_at = ?3, updated_at = ?3 WHERE id = 1" },
	{ S_FWD_LIVE, "UPDATE forward_state SET connected = ?1,"
	    " last_ack_at = max(last_ack_at, ?2), last_send_at ="
	    " max(last_send_at, ?3), sent = sent + ?4, acked = acked + ?5,"
	    " last_error = coalesce(?6, last_error), updated_at = ?7 WHERE id = 1" },
	{ S_FWD_CEF, "UPDATE forward_state SET cef_cursor = max(cef_cursor, ?1),"
	    " cef_sent = cef_sent + ?2, cef_connected = ?3,"
	    " last_error = coalesce(?4, last_error), updated_at = ?5 WHERE id = 1" },
	{ S_FWD_DROPPED, "UPDATE forward_state SET dropped = dropped + ?1,"
	    " updated_at = ?2 WHERE id = 1" },
	{ S_FWD_AUDIT, "SELECT id, coalesce(incident_id, 0), action FROM audit"
	    " WHERE id > ?1 ORDER BY id LIMIT ?2" },
	{ S_FWD_CURSOR, "UPDATE forward_state SET audit_cursor = ?1 WHERE id = 1" },
	{ S_FWD_PARENT, "SELECT coalesce(parent, '') FROM agencies WHERE code = ?1" },
	{ 0, NULL }
};

void
store_forward_enable(struct store *st, int min_severity)
{
	st->fwd_min = min_severity < 0 ? -1 : min_severity > 4 ? 4 : min_severity;
}

/* The incident's forwarded state: what a revision carries. */
struct fwd_snap {
	int		severity;
	char		status[32];
	int64_t		count, first_seen, last_seen;
};

static int
snap_equal(const struct fwd_snap *a, const struct fwd_snap *b)
{
	return a->severity == b->severity && strcmp(a->status, b->status) == 0 &&
	    a->count == b->count && a->first_seen == b->first_seen &&
	    a->last_seen == b->last_seen;
}

/* Reads the snapshot from columns first.. of s. */
static void
snap_read(sqlite3_stmt *s, int first, struct fwd_snap *n)
{
	n->severity = sqlite3_column_int(s, first);
	snprintf(n->status, sizeof(n->status), "%s", col_str(s, first + 1));
	n->count = sqlite3_column_int64(s, first + 2);
	n->first_seen = sqlite3_column_int64(s, first + 3);
	n->last_seen = sqlite3_column_int64(s, first + 4);
}

static void
done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

static int
snap_bind(sqlite3_stmt *s, int first, const struct fwd_snap *n)
{
	sqlite3_bind_int(s, first, n->severity);
	bind_str(s, first + 1, n->status);
	sqlite3_bind_int64(s, first + 2, n->count);
	sqlite3_bind_int64(s, first + 3, n->first_seen);
	return sqlite3_bind_int64(s, first + 4, n->last_seen);
}

int
store_outbox_touch(struct store *st, int64_t incident_id)
{
	sqlite3_stmt *s;
	struct fwd_snap cur, last;
	int64_t last_id = 0, last_rev = 0;
	int rc, unsent = 0;

	if (st->fwd_min < 0)
		return 0;
	s = st->stmt[S_OUT_INC];
	sqlite3_bind_int64(s, 1, incident_id);
	if ((rc = store_step1(st, s, "outbox: incident")) == 1)
		snap_read(s, 0, &cur);
	done(s);
	if (rc <= 0 || cur.severity < st->fwd_min)
		return rc < 0 ? -1 : 0;
	s = st->stmt[S_OUT_LAST];
	sqlite3_bind_int64(s, 1, incident_id);
	if ((rc = store_step1(st, s, "outbox: last record")) == 1) {
		last_id = sqlite3_column_int64(s, 0);
		last_rev = sqlite3_column_int64(s, 1);
		unsent = sqlite3_column_int(s, 2);
		snap_read(s, 3, &last);
	}
	done(s);
	if (rc == -1)
		return -1;
	if (rc == 1 && snap_equal(&cur, &last))
		return 0;
	if (rc == 1 && unsent) {
		/* coalesce: one unsent revision per incident */
		s = st->stmt[S_OUT_MOVE];
		sqlite3_bind_int64(s, 1, last_id);
		sqlite3_bind_int64(s, 2, last_rev + 1);
		snap_bind(s, 3, &cur);
		return store_exec(st, s, "outbox: coalesce");
	}
	s = st->stmt[S_OUT_INSERT];
	sqlite3_bind_int64(s, 1, incident_id);
	sqlite3_bind_int64(s, 2, soc_now_ns());
	sqlite3_bind_int64(s, 3, last_rev + 1);
	snap_bind(s, 4, &cur);
	return store_exec(st, s, "outbox: record");
}

int
store_forward_configure(struct store *st, const struct store_forward_conf *c,
    int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_FWD_CONF];

	bind_str(s, 1, c->endpoint ? c->endpoint : "");
	bind_str(s, 2, c->cef ? c->cef : "");
	bind_str(s, 3, c->origin ? c->origin : "");
	sqlite3_bind_int(s, 4, c->min_severity);
	sqlite3_bind_int64(s, 5, c->ack_within_ns);
	sqlite3_bind_int64(s, 6, c->max_backlog_age_ns);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)c->max_pending);
	sqlite3_bind_int64(s, 8, now_ns);
	return store_exec(st, s, "forward state");
}

static int
pending_get(struct store *st, uint64_t *n, int64_t *oldest)
{
	sqlite3_stmt *s;
	int tmp, rc;

	if ((s = store_stmt_get(st, S_OUT_PENDING, &tmp)) == NULL)
		return -1;
	if ((rc = store_step1(st, s, "outbox: pending")) == 1) {
		*n = (uint64_t)sqlite3_column_int64(s, 0);
		*oldest = sqlite3_column_int64(s, 1);
	}
	store_stmt_put(s, tmp);
	return rc == 1 ? 0 : -1;
}

int
store_forward_state_get(struct store *st, struct store_forward_state *o)
{
	sqlite3_stmt *s;
	int tmp, rc;

	memset(o, 0, sizeof(*o));
	if ((s = store_stmt_get(st, S_FWD_GET, &tmp)) == NULL)
		return -1;
	if ((rc = store_step1(st, s, "forward state")) == 1) {
		snprintf(o->endpoint, sizeof(o->endpoint), "%s", col_str(s, 0));
		snprintf(o->cef, sizeof(o->cef), "%s", col_str(s, 1));
		snprintf(o->origin, sizeof(o->origin), "%s", col_str(s, 2));
		o->min_severity = sqlite3_column_int(s, 3);
		o->ack_within_ns = sqlite3_column_int64(s, 4);
		o->max_backlog_age_ns = sqlite3_column_int64(s, 5);
		o->max_pending = (uint64_t)sqlite3_column_int64(s, 6);
		o->started_at = sqlite3_column_int64(s, 7);
		o->connected = sqlite3_column_int(s, 8);
		o->last_ack_at = sqlite3_column_int64(s, 9);
		o->last_send_at = sqlite3_column_int64(s, 10);
		o->sent = (uint64_t)sqlite3_column_int64(s, 11);
		o->acked = (uint64_t)sqlite3_column_int64(s, 12);
		o->dropped = (uint64_t)sqlite3_column_int64(s, 13);
		o->seq = (uint64_t)sqlite3_column_int64(s, 14);
		o->audit_cursor = sqlite3_column_int64(s, 15);
		o->cef_cursor = sqlite3_column_int64(s, 16);
		o->cef_sent = (uint64_t)sqlite3_column_int64(s, 17);
		o->cef_connected = sqlite3_column_int(s, 18);
		snprintf(o->last_error, sizeof(o->last_error), "%s", col_str(s, 19));
		o->updated_at = sqlite3_column_int64(s, 20);
	}
	store_stmt_put(s, tmp);
	if (rc == 1 && pending_get(st, &o->pending, &o->oldest_pending) == -1)
		return -1;
	return rc;
}

int
store_forward_backlog(struct store *st, const char *agency, uint64_t *n,
    int64_t *oldest)
{
	sqlite3_stmt *s;
	int tmp, rc;

	*n = 0;
	*oldest = 0;
	if ((s = store_stmt_get(st, S_OUT_BACKLOG, &tmp)) == NULL)
		return -1;
	bind_str(s, 1, agency);
	if ((rc = store_step1(st, s, "outbox: backlog")) == 1) {
		*n = (uint64_t)sqlite3_column_int64(s, 0);
		*oldest = sqlite3_column_int64(s, 1);
	}
	store_stmt_put(s, tmp);
	return rc == 1 ? 0 : -1;
}

static void
rec_read(sqlite3_stmt *s, struct store_outbox_rec *r)
{
	r->id = sqlite3_column_int64(s, 0);
	r->incident_id = sqlite3_column_int64(s, 1);
	r->revision = sqlite3_column_int64(s, 2);
	r->severity = sqlite3_column_int(s, 3);
	r->status = store_status_parse(col_str(s, 4));
	r->count = (uint64_t)sqlite3_column_int64(s, 5);
	r->first_seen = sqlite3_column_int64(s, 6);
	r->last_seen = sqlite3_column_int64(s, 7);
	r->created_at = sqlite3_column_int64(s, 8);
	r->rule_id = col_str(s, 9);
	r->rule_title = col_str(s, 10);
	r->rule_level = col_str(s, 11);
	r->rule_author = col_str(s, 12);
	r->agency = col_str(s, 13);
	r->agency_name = col_str(s, 14);
	r->agency_parent = col_str(s, 15);
	r->sensor = col_str(s, 16);
	r->group_key = col_str(s, 17);
	r->evidence = col_str(s, 18);
	r->rule_tags = col_str(s, 19);
	r->origin_agency = col_str(s, 20);
}

/*
 * The incident's category, where the schema has one (a later schema step
 * adds it): prepared per call, so a database without the column simply
 * sends none.  Returns the statement or NULL.
 */
static sqlite3_stmt *
category_stmt(struct store *st)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, "SELECT category FROM incidents WHERE"
	    " id = ?1", -1, &s, NULL) != SQLITE_OK) {
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

static void
category_get(sqlite3_stmt *cat, int64_t id, char *buf, size_t len)
{
	buf[0] = '\0';
	if (cat == NULL)
		return;
	sqlite3_bind_int64(cat, 1, id);
	if (sqlite3_step(cat) == SQLITE_ROW)
		snprintf(buf, len, "%s", col_str(cat, 0));
	sqlite3_reset(cat);
}

/* Runs a record query; returns the rows seen, the last id in *last. */
static int
rec_foreach(struct store *st, sqlite3_stmt *s, store_outbox_fn fn, void *arg,
    int64_t *last)
{
	struct store_outbox_rec r;
	sqlite3_stmt *cat = fn != NULL ? category_stmt(st) : NULL;
	char category[64];
	int rc, n = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		rec_read(s, &r);
		category_get(cat, r.incident_id, category, sizeof(category));
		r.category = category;
		*last = r.id;
		n++;
		if (fn != NULL && fn(arg, &r) != 0)
			break;
	}
	sqlite3_finalize(cat);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "outbox: read");
		return -1;
	}
	return n;
}

int
store_outbox_take(struct store *st, int max, uint64_t seq, int64_t now_ns,
    store_outbox_fn fn, void *arg)
{
	sqlite3_stmt *s = st->stmt[S_OUT_TAKE];
	int64_t last = 0;
	int own, n;

	if (store_tx_enter(st, &own) == -1)
		return -1;
	sqlite3_bind_int(s, 1, max);
	n = rec_foreach(st, s, fn, arg, &last);
	done(s);
	if (n <= 0)
		return store_tx_leave(st, own, n) == 0 ? 0 : -1;
	s = st->stmt[S_OUT_MARK];
	sqlite3_bind_int64(s, 1, last);
	sqlite3_bind_int64(s, 2, now_ns);
	if (store_exec(st, s, "outbox: mark sent") == -1)
		goto fail;
	s = st->stmt[S_FWD_SEQ];
	sqlite3_bind_int64(s, 1, (sqlite3_int64)seq);
	sqlite3_bind_int64(s, 2, n);
	sqlite3_bind_int64(s, 3, now_ns);
	if (store_exec(st, s, "forward state: seq") == -1)
		goto fail;
	return store_tx_leave(st, own, 0) == 0 ? n : -1;
fail:
	store_tx_leave(st, own, -1);
	return -1;
}

int
store_forward_relax(struct store *st)
{
	if (sqlite3_exec(st->db, "PRAGMA synchronous = NORMAL", NULL, NULL,
	    NULL) != SQLITE_OK) {
		store_sqlerr(st, "synchronous");
		return -1;
	}
	return 0;
}

int
store_forward_seq(struct store *st, uint64_t seq, int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_FWD_SEQ];

	sqlite3_bind_int64(s, 1, (sqlite3_int64)seq);
	sqlite3_bind_int64(s, 2, 0);
	sqlite3_bind_int64(s, 3, now_ns);
	return store_exec(st, s, "forward state: seq");
}

int
store_outbox_after(struct store *st, int64_t after, int max, store_outbox_fn fn,
    void *arg)
{
	sqlite3_stmt *s;
	int64_t last = 0;
	int tmp, n;

	if ((s = store_stmt_get(st, S_OUT_AFTER, &tmp)) == NULL)
		return -1;
	sqlite3_bind_int(s, 1, max);
	sqlite3_bind_int64(s, 2, after);
	n = rec_foreach(st, s, fn, arg, &last);
	store_stmt_put(s, tmp);
	return n;
}

int
store_agency_parent(struct store *st, const char *code, char *parent,
    size_t len)
{
	sqlite3_stmt *s = st->stmt[S_FWD_PARENT];
	int rc;

	bind_str(s, 1, code);
	if ((rc = store_step1(st, s, "agency parent")) == 1)
		snprintf(parent, len, "%s", col_str(s, 0));
	done(s);
	return rc;
}

/* Marks records delivered; national: it was the national receiver's ack. */
static int
outbox_mark(struct store *st, const int64_t *ids, size_t n, int64_t now_ns,
    int national)
{
	sqlite3_stmt *s = st->stmt[S_OUT_ACK];
	struct store_forward_live l;
	uint64_t acked = 0;
	int own;
	size_t i;

	if (store_tx_enter(st, &own) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(s, 1, ids[i]);
		sqlite3_bind_int64(s, 2, now_ns);
		if (store_exec(st, s, "outbox: ack") == -1)
			goto fail;
		acked += (uint64_t)sqlite3_changes(st->db);
	}
	if (national) {
		memset(&l, 0, sizeof(l));
		l.connected = 1;
		l.last_ack_at = now_ns;
		l.acked_add = acked;
		if (store_forward_live(st, &l, now_ns) == -1)
			goto fail;
	}
	return store_tx_leave(st, own, 0);
fail:
	return store_tx_leave(st, own, -1);
}

int
store_outbox_acked(struct store *st, const int64_t *ids, size_t n,
    int64_t now_ns)
{
	return outbox_mark(st, ids, n, now_ns, 1);
}

int
store_outbox_delivered(struct store *st, const int64_t *ids, size_t n,
    int64_t now_ns)
{
	return outbox_mark(st, ids, n, now_ns, 0);
}

int
store_outbox_requeue(struct store *st)
{
	int own, n;

	if (store_tx_enter(st, &own) == -1)
		return -1;
	if (store_exec_idx(st, S_OUT_REQUEUE_DEL, "outbox: superseded") == -1 ||
	    store_exec_idx(st, S_OUT_REQUEUE, "outbox: requeue") == -1)
		goto fail;
	n = sqlite3_changes(st->db);
	return store_tx_leave(st, own, 0) == 0 ? n : -1;
fail:
	store_tx_leave(st, own, -1);
	return -1;
}

int64_t
store_outbox_trim(struct store *st, uint64_t max)
{
	sqlite3_stmt *s;
	uint64_t n = 0;
	int64_t oldest, dropped;
	int own;

	if (pending_get(st, &n, &oldest) == -1)
		return -1;
	if (n <= max)
		return 0;
	if (store_tx_enter(st, &own) == -1)
		return -1;
	s = st->stmt[S_OUT_TRIM];
	sqlite3_bind_int64(s, 1, (sqlite3_int64)(n - max));
	if (store_exec(st, s, "outbox: trim") == -1)
		goto fail;
	dropped = sqlite3_changes(st->db);
	s = st->stmt[S_FWD_DROPPED];
	sqlite3_bind_int64(s, 1, dropped);
	sqlite3_bind_int64(s, 2, soc_now_ns());
	if (store_exec(st, s, "forward state: dropped") == -1)
		goto fail;
	return store_tx_leave(st, own, 0) == 0 ? dropped : -1;
fail:
	store_tx_leave(st, own, -1);
	return -1;
}

/*
 * One bounded pass of pruning: the scan's last row is kept in cur (two
 * values: acked_at and id) for the next pass, and reset when the scan
 * reached the end, so the passes go round the acked rows.
 */
int64_t
store_outbox_prune(struct store *st, int64_t before_ns, int max, int64_t cur[2])
{
	sqlite3_stmt *s;
	int64_t n = 0, last_at = 0, last_id = 0, pruned;
	int own, rc;

	if (store_tx_enter(st, &own) == -1)
		return -1;
	s = st->stmt[S_OUT_PRUNE_SCAN];
	sqlite3_bind_int64(s, 1, before_ns);
	sqlite3_bind_int64(s, 2, cur[0]);
	sqlite3_bind_int64(s, 3, cur[1]);
	sqlite3_bind_int(s, 4, max);
	if ((rc = store_step1(st, s, "outbox: prune scan")) == 1) {
		n = sqlite3_column_int64(s, 0);
		last_at = sqlite3_column_int64(s, 1);
		last_id = sqlite3_column_int64(s, 2);
	}
	done(s);
	if (rc != 1)
		goto fail;
	s = st->stmt[S_OUT_PRUNE];
	sqlite3_bind_int64(s, 1, before_ns);
	sqlite3_bind_int64(s, 2, cur[0]);
	sqlite3_bind_int64(s, 3, cur[1]);
	sqlite3_bind_int(s, 4, max);
	if (store_exec(st, s, "outbox: prune") == -1)
		goto fail;
	pruned = sqlite3_changes(st->db);
	if (store_tx_leave(st, own, 0) == -1)
		return -1;
	if (n < max)
		cur[0] = cur[1] = 0;
	else {
		cur[0] = last_at;
		cur[1] = last_id;
	}
	return pruned;
fail:
	store_tx_leave(st, own, -1);
	return -1;
}

#define SWEEP_MAX	4096	/* audit rows per sweep */

int
store_forward_sweep(struct store *st)
{
	struct store_forward_state fs;
	sqlite3_stmt *s;
	int64_t cursor, id, inc;
	int own, rc, n = 0;

	if (st->fwd_min < 0)
		return 0;
	if (store_tx_enter(st, &own) == -1)
		return -1;
	s = st->stmt[S_FWD_GET];
	if ((rc = store_step1(st, s, "forward state")) == 1)
		fs.audit_cursor = sqlite3_column_int64(s, 15);
	done(s);
	if (rc != 1)
		goto fail;
	cursor = fs.audit_cursor < 0 ? 0 : fs.audit_cursor;
	s = st->stmt[S_FWD_AUDIT];
	sqlite3_bind_int64(s, 1, cursor);
	sqlite3_bind_int(s, 2, SWEEP_MAX);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *action = col_str(s, 2);

		id = sqlite3_column_int64(s, 0);
		inc = sqlite3_column_int64(s, 1);
		cursor = id;
		/* the correlator's own changes were recorded as they happened */
		if (inc <= 0 || strcmp(action, "created") == 0 ||
		    strcmp(action, "escalated") == 0)
			continue;
		n++;
		if (store_outbox_touch(st, inc) == -1) {
			done(s);
			goto fail;
		}
	}
	done(s);
	if (rc != SQLITE_DONE) {
		store_sqlerr(st, "forward: audit");
		goto fail;
	}
	s = st->stmt[S_FWD_CURSOR];
	sqlite3_bind_int64(s, 1, cursor);
	if (store_exec(st, s, "forward state: cursor") == -1)
		goto fail;
	return store_tx_leave(st, own, 0) == 0 ? n : -1;
fail:
	store_tx_leave(st, own, -1);
	return -1;
}

int
store_forward_live(struct store *st, const struct store_forward_live *l,
    int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_FWD_LIVE];

	sqlite3_bind_int(s, 1, l->connected);
	sqlite3_bind_int64(s, 2, l->last_ack_at);
	sqlite3_bind_int64(s, 3, l->last_send_at);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)l->sent_add);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)l->acked_add);
	bind_str(s, 6, l->last_error);
	sqlite3_bind_int64(s, 7, now_ns);
	return store_exec(st, s, "forward state: live");
}

int
store_forward_cef(struct store *st, int64_t cursor, uint64_t sent_add,
    int connected, const char *last_error, int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_FWD_CEF];

	sqlite3_bind_int64(s, 1, cursor);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)sent_add);
	sqlite3_bind_int(s, 3, connected);
	bind_str(s, 4, last_error);
	sqlite3_bind_int64(s, 5, now_ns);
	return store_exec(st, s, "forward state: cef");
}
