/*
 * Endpoints (issue 18): the computers that send events, per agency of
 * the sending sensor (never the agency an event names), with what they
 * send and their malware protection state; the correlator's settings
 * for them; the hosts it refused per agency (over the quota, an id too
 * long); and the number of computers each agency declares.
 *
 * The correlator keeps the inventory in memory (correlator/endpoints.c)
 * and writes the changed entries here once per ingest group, in the
 * group's transaction; socctl and the coverage report read them.
 * Statements are prepared per call: one call writes a whole group's
 * changes.
 */
#include <stdio.h>
#include <string.h>

#include "soc/json.h"
#include "store-int.h"

static sqlite3_stmt *
prep(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		store_sqlerr(st, "endpoints");
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

#define EP_COLS	"agency, host, os, channels, first_seen, last_seen," \
	" last_event, day, day_events, prev_events, engine, av_state," \
	" healthy_at, off_at, detect_at, detect_name, silent_at, sig_at," \
	" sig_version, sig_version_at"

#define EP_PUT	"INSERT OR REPLACE INTO endpoints (" EP_COLS ")" \
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13," \
	" ?14, ?15, ?16, ?17, ?18, ?19, ?20)"

/* One row into EP_PUT. */
static int
put_row(struct store *st, sqlite3_stmt *s, const struct store_endpoint *e)
{
	bind_str(s, 1, e->agency);
	bind_str(s, 2, e->host);
	bind_str(s, 3, e->os);
	bind_str(s, 4, e->channels);
	sqlite3_bind_int64(s, 5, e->first_seen);
	sqlite3_bind_int64(s, 6, e->last_seen);
	sqlite3_bind_int64(s, 7, e->last_event);
	sqlite3_bind_int64(s, 8, e->day);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)e->day_events);
	sqlite3_bind_int64(s, 10, (sqlite3_int64)e->prev_events);
	bind_str(s, 11, e->engine);
	bind_str(s, 12, e->av_state);
	sqlite3_bind_int64(s, 13, e->healthy_at);
	sqlite3_bind_int64(s, 14, e->off_at);
	sqlite3_bind_int64(s, 15, e->detect_at);
	bind_str(s, 16, e->detect_name);
	sqlite3_bind_int64(s, 17, e->silent_at);
	sqlite3_bind_int64(s, 18, e->sig_at);
	bind_str(s, 19, e->sig_version);
	sqlite3_bind_int64(s, 20, e->sig_version_at);
	return store_exec(st, s, "endpoints");
}

int
store_endpoint_put(struct store *st, const struct store_endpoint *e, size_t n)
{
	sqlite3_stmt *s;
	size_t i;
	int own, rc = 0;

	if (n == 0)
		return 0;
	if (store_tx_enter(st, &own) == -1)
		return -1;
	if ((s = prep(st, EP_PUT)) == NULL)
		return store_tx_leave(st, own, -1);
	for (i = 0; i < n && rc == 0; i++)
		rc = put_row(st, s, &e[i]);
	sqlite3_finalize(s);
	return store_tx_leave(st, own, rc);
}

/*
 * The changed endpoints of a flush, by pointer (no copy of the rows):
 * those marked in full[] (new, or more than the times and counts
 * changed) as store_endpoint_put() writes them, the others only their
 * times and day counts, in place (most of a busy inventory's changes:
 * 10,000 hosts reporting write 10,000 rows every 2 s); one whose row is
 * gone is written whole.
 */
int
store_endpoint_write(struct store *st, const struct store_endpoint *const *e,
    const unsigned char *full, size_t n)
{
	sqlite3_stmt *s = NULL, *w = NULL;
	size_t i;
	int own, rc = 0;

	if (n == 0)
		return 0;
	if (store_tx_enter(st, &own) == -1)
		return -1;
	if ((s = prep(st, "UPDATE endpoints SET last_seen = ?3,"
	    " last_event = ?4, day = ?5, day_events = ?6, prev_events = ?7"
	    " WHERE agency = ?1 AND host = ?2")) == NULL ||
	    (w = prep(st, EP_PUT)) == NULL) {
		sqlite3_finalize(s);
		return store_tx_leave(st, own, -1);
	}
	for (i = 0; i < n && rc == 0; i++) {
		if (!full[i]) {
			bind_str(s, 1, e[i]->agency);
			bind_str(s, 2, e[i]->host);
			sqlite3_bind_int64(s, 3, e[i]->last_seen);
			sqlite3_bind_int64(s, 4, e[i]->last_event);
			sqlite3_bind_int64(s, 5, e[i]->day);
			sqlite3_bind_int64(s, 6, (sqlite3_int64)e[i]->day_events);
			sqlite3_bind_int64(s, 7, (sqlite3_int64)e[i]->prev_events);
			if ((rc = store_exec(st, s, "endpoints")) == -1 ||
			    sqlite3_changes(st->db) > 0)
				continue;
		}
		rc = put_row(st, w, e[i]);
	}
	sqlite3_finalize(s);
	sqlite3_finalize(w);
	return store_tx_leave(st, own, rc);
}

static void
col_copy(sqlite3_stmt *s, int i, char *dst, size_t len)
{
	snprintf(dst, len, "%s", col_str(s, i));
}

int
store_endpoint_foreach(struct store *st, const char *const *agencies,
    size_t nagencies, const char *host, store_endpoint_fn fn, void *arg)
{
	struct store_endpoint e;
	struct soc_sbuf q;
	sqlite3_stmt *s;
	size_t i;
	int rc, ret = 0;

	/* each agency with the agencies below it (UNION stops a cycle) */
	soc_sbuf_init(&q);
	if (nagencies > 0) {
		soc_sbuf_adds(&q, "WITH RECURSIVE scope(code) AS (SELECT code"
		    " FROM agencies WHERE code IN (");
		for (i = 0; i < nagencies; i++)
			soc_sbuf_printf(&q, "%s?%zu", i ? "," : "", i + 2);
		soc_sbuf_adds(&q, ") UNION SELECT a.code FROM agencies a JOIN"
		    " scope s ON a.parent = s.code) ");
	}
	soc_sbuf_adds(&q, "SELECT " EP_COLS " FROM endpoints WHERE"
	    " (?1 IS NULL OR host = ?1)");
	if (nagencies > 0)
		soc_sbuf_adds(&q, " AND agency IN (SELECT code FROM scope)");
	soc_sbuf_adds(&q, " ORDER BY agency, host");
	if (q.oom) {
		soc_sbuf_free(&q);
		store_seterr(st, "endpoints: out of memory");
		return -1;
	}
	s = prep(st, q.data);
	soc_sbuf_free(&q);
	if (s == NULL)
		return -1;
	bind_str(s, 1, host);
	for (i = 0; i < nagencies; i++)
		bind_str(s, (int)i + 2, agencies[i]);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&e, 0, sizeof(e));
		col_copy(s, 0, e.agency, sizeof(e.agency));
		col_copy(s, 1, e.host, sizeof(e.host));
		col_copy(s, 2, e.os, sizeof(e.os));
		col_copy(s, 3, e.channels, sizeof(e.channels));
		e.first_seen = sqlite3_column_int64(s, 4);
		e.last_seen = sqlite3_column_int64(s, 5);
		e.last_event = sqlite3_column_int64(s, 6);
		e.day = sqlite3_column_int64(s, 7);
		e.day_events = (uint64_t)sqlite3_column_int64(s, 8);
		e.prev_events = (uint64_t)sqlite3_column_int64(s, 9);
		col_copy(s, 10, e.engine, sizeof(e.engine));
		col_copy(s, 11, e.av_state, sizeof(e.av_state));
		e.healthy_at = sqlite3_column_int64(s, 12);
		e.off_at = sqlite3_column_int64(s, 13);
		e.detect_at = sqlite3_column_int64(s, 14);
		col_copy(s, 15, e.detect_name, sizeof(e.detect_name));
		e.silent_at = sqlite3_column_int64(s, 16);
		e.sig_at = sqlite3_column_int64(s, 17);
		col_copy(s, 18, e.sig_version, sizeof(e.sig_version));
		e.sig_version_at = sqlite3_column_int64(s, 19);
		if ((ret = fn(arg, &e)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "endpoints");
		ret = -1;
	}
	sqlite3_finalize(s);
	return ret;
}

int
store_endpoint_conf_put(struct store *st, const struct store_endpoint_conf *c)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = prep(st, "INSERT OR REPLACE INTO endpoint_conf (id,"
	    " stale_after, protection_within, max_per_agency, min_share,"
	    " signature_max_age) VALUES (1, ?1, ?2, ?3, ?4, ?5)")) == NULL)
		return -1;
	sqlite3_bind_int64(s, 5, c->sig_max_age_ns);
	sqlite3_bind_int64(s, 1, c->stale_after_ns);
	sqlite3_bind_int64(s, 2, c->protection_within_ns);
	sqlite3_bind_int64(s, 3, c->max_per_agency);
	sqlite3_bind_double(s, 4, c->min_share);
	rc = store_exec(st, s, "endpoint settings");
	sqlite3_finalize(s);
	return rc;
}

int
store_endpoint_conf_get(struct store *st, struct store_endpoint_conf *c)
{
	sqlite3_stmt *s;
	int rc;

	c->stale_after_ns = STORE_EP_STALE_DEFAULT;
	c->protection_within_ns = STORE_EP_PROTECTION_DEFAULT;
	c->max_per_agency = STORE_EP_MAX_DEFAULT;
	c->min_share = STORE_EP_MIN_SHARE_DEFAULT;
	c->sig_max_age_ns = STORE_EP_SIG_AGE_DEFAULT;
	if ((s = prep(st, "SELECT stale_after, protection_within,"
	    " max_per_agency, min_share, signature_max_age FROM endpoint_conf"
	    " WHERE id = 1")) == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		c->stale_after_ns = sqlite3_column_int64(s, 0);
		c->protection_within_ns = sqlite3_column_int64(s, 1);
		c->max_per_agency = sqlite3_column_int64(s, 2);
		c->min_share = sqlite3_column_double(s, 3);
		c->sig_max_age_ns = sqlite3_column_int64(s, 4);
	} else if (rc != SQLITE_DONE) {
		store_sqlerr(st, "endpoint settings");
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

int
store_endpoint_refused_add(struct store *st, const char *agency,
    uint64_t over_quota, uint64_t too_long)
{
	sqlite3_stmt *s;
	int rc;

	if (over_quota == 0 && too_long == 0)
		return 0;
	if ((s = prep(st, "INSERT INTO endpoint_refused (agency, over_quota,"
	    " too_long) VALUES (?1, ?2, ?3) ON CONFLICT (agency) DO UPDATE SET"
	    " over_quota = over_quota + excluded.over_quota,"
	    " too_long = too_long + excluded.too_long")) == NULL)
		return -1;
	bind_str(s, 1, agency);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)over_quota);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)too_long);
	rc = store_exec(st, s, "endpoints refused");
	sqlite3_finalize(s);
	return rc;
}

int
store_endpoint_refused_get(struct store *st, const char *agency,
    uint64_t *over_quota, uint64_t *too_long)
{
	sqlite3_stmt *s;
	int rc;

	*over_quota = *too_long = 0;
	if ((s = prep(st, "SELECT over_quota, too_long FROM endpoint_refused"
	    " WHERE agency = ?1")) == NULL)
		return -1;
	bind_str(s, 1, agency);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*over_quota = (uint64_t)sqlite3_column_int64(s, 0);
		*too_long = (uint64_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "endpoints refused");
		return -1;
	}
	return 0;
}

int
store_endpoint_sig_old(const struct store_endpoint *e,
    const struct store_endpoint_conf *c, int64_t now_ns)
{
	return e->sig_at > 0 && c->sig_max_age_ns > 0 &&
	    now_ns - e->sig_at > c->sig_max_age_ns;
}

int
store_endpoint_protected(const struct store_endpoint *e,
    const struct store_endpoint_conf *c, int64_t now_ns)
{
	return e->healthy_at > 0 &&
	    now_ns - e->healthy_at <= c->protection_within_ns &&
	    e->healthy_at > e->off_at && !store_endpoint_sig_old(e, c, now_ns);
}

int
store_agency_set_computers(struct store *st, const char *code, int64_t n)
{
	sqlite3_stmt *s;
	int rc;

	if (store_agency_exists(st, code) != 1) {
		store_seterr(st, "no such agency '%s'", code);
		return -1;
	}
	if ((s = prep(st, n < 0 ? "DELETE FROM agency_computers WHERE"
	    " agency = ?1" : "INSERT OR REPLACE INTO agency_computers (agency,"
	    " computers) VALUES (?1, ?2)")) == NULL)
		return -1;
	bind_str(s, 1, code);
	if (n >= 0)
		sqlite3_bind_int64(s, 2, n);
	rc = store_exec(st, s, "agency computers");
	sqlite3_finalize(s);
	return rc;
}

int
store_agency_computers(struct store *st, const char *code, int64_t *n)
{
	sqlite3_stmt *s;
	int rc;

	*n = -1;
	if ((s = prep(st, "SELECT computers FROM agency_computers WHERE"
	    " agency = ?1")) == NULL)
		return -1;
	bind_str(s, 1, code);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW &&
	    sqlite3_column_type(s, 0) != SQLITE_NULL)
		*n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "agency computers");
		return -1;
	}
	return 0;
}

int
store_endpoint_totals(struct store *st, uint64_t *held, uint64_t *over_quota,
    uint64_t *too_long)
{
	sqlite3_stmt *s;
	int rc;

	*held = *over_quota = *too_long = 0;
	if ((s = prep(st, "SELECT (SELECT count(*) FROM endpoints),"
	    " (SELECT coalesce(sum(over_quota), 0) FROM endpoint_refused),"
	    " (SELECT coalesce(sum(too_long), 0) FROM endpoint_refused)")) == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*held = (uint64_t)sqlite3_column_int64(s, 0);
		*over_quota = (uint64_t)sqlite3_column_int64(s, 1);
		*too_long = (uint64_t)sqlite3_column_int64(s, 2);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW) {
		store_sqlerr(st, "endpoint totals");
		return -1;
	}
	return 0;
}

/*
 * `socctl agency merge FROM --into INTO`: FROM's endpoints become INTO's.
 * A host both inventories hold becomes one: first seen the earlier, last
 * seen and the event times the later, the day's counts added (the later
 * day's when they differ), the protection state and the detection of
 * the later report, the longer channel list, the OS and the silent mark
 * of the one seen last.  The refusal counts add up; the declared
 * computers add up (an agency that declared none counts 0; *computers:
 * INTO's number after, -1 when neither declared).  In the caller's
 * transaction.
 */
int
store_endpoint_merge(struct store *st, const char *from, const char *into,
    uint64_t *moved, int64_t *computers)
{
	static const char *const sql[] = {
		"INSERT INTO endpoints (" EP_COLS ") SELECT ?2, host, os,"
		" channels, first_seen, last_seen, last_event, day, day_events,"
		" prev_events, engine, av_state, healthy_at, off_at, detect_at,"
		" detect_name, silent_at, sig_at, sig_version, sig_version_at"
		" FROM endpoints WHERE agency = ?1"
		" ON CONFLICT (agency, host) DO UPDATE SET"
		" os = CASE WHEN (excluded.last_seen > last_seen AND"
		"  excluded.os <> '') OR os = '' THEN excluded.os ELSE os END,"
		" channels = CASE WHEN length(excluded.channels) >"
		"  length(channels) THEN excluded.channels ELSE channels END,"
		" first_seen = min(first_seen, excluded.first_seen),"
		" last_seen = max(last_seen, excluded.last_seen),"
		" last_event = max(last_event, excluded.last_event),"
		" day_events = CASE WHEN excluded.day = day THEN day_events +"
		"  excluded.day_events WHEN excluded.day > day THEN"
		"  excluded.day_events ELSE day_events END,"
		" prev_events = CASE WHEN excluded.day = day THEN prev_events +"
		"  excluded.prev_events WHEN excluded.day > day THEN"
		"  excluded.prev_events ELSE prev_events END,"
		" day = max(day, excluded.day),"
		" engine = CASE WHEN max(excluded.healthy_at, excluded.off_at) >"
		"  max(healthy_at, off_at) THEN excluded.engine ELSE engine END,"
		" av_state = CASE WHEN max(excluded.healthy_at, excluded.off_at) >"
		"  max(healthy_at, off_at) THEN excluded.av_state ELSE av_state"
		"  END,"
		" healthy_at = max(healthy_at, excluded.healthy_at),"
		" off_at = max(off_at, excluded.off_at),"
		" detect_name = CASE WHEN excluded.detect_at > detect_at THEN"
		"  excluded.detect_name ELSE detect_name END,"
		" detect_at = max(detect_at, excluded.detect_at),"
		" silent_at = CASE WHEN excluded.last_seen > last_seen THEN"
		"  excluded.silent_at ELSE silent_at END,"
		" sig_at = max(sig_at, excluded.sig_at),"
		" sig_version = CASE WHEN excluded.sig_version_at >"
		"  sig_version_at THEN excluded.sig_version ELSE sig_version END,"
		" sig_version_at = max(sig_version_at, excluded.sig_version_at)",
		"DELETE FROM endpoints WHERE agency = ?1",
		/* for a correlator holding FROM's entries: moved, to INTO */
		"INSERT INTO endpoint_moved (agency, into_agency, at)"
		" VALUES (?1, ?2, CAST(strftime('%s','now') AS INTEGER))",
		"INSERT INTO endpoint_refused (agency, over_quota, too_long)"
		" SELECT ?2, over_quota, too_long FROM endpoint_refused WHERE"
		" agency = ?1 ON CONFLICT (agency) DO UPDATE SET"
		" over_quota = over_quota + excluded.over_quota,"
		" too_long = too_long + excluded.too_long",
		"DELETE FROM endpoint_refused WHERE agency = ?1",
		"INSERT INTO agency_computers (agency, computers) SELECT ?2,"
		" computers FROM agency_computers WHERE agency = ?1"
		" ON CONFLICT (agency) DO UPDATE SET"
		" computers = computers + excluded.computers",
		"DELETE FROM agency_computers WHERE agency = ?1",
	};
	sqlite3_stmt *s;
	size_t i;
	int own, rc = 0;

	*moved = 0;
	if (store_tx_enter(st, &own) == -1)
		return -1;
	for (i = 0; i < sizeof(sql) / sizeof(sql[0]) && rc == 0; i++) {
		if ((s = prep(st, sql[i])) == NULL) {
			rc = -1;
			break;
		}
		bind_str(s, 1, from);
		bind_str(s, 2, into);
		rc = store_exec(st, s, "merge endpoints");
		if (rc == 0 && i == 1)
			*moved = (uint64_t)sqlite3_changes(st->db);
		sqlite3_finalize(s);
	}
	if (rc == 0)
		rc = store_agency_computers(st, into, computers);
	return store_tx_leave(st, own, rc);
}

int
store_endpoint_moves(struct store *st, int64_t after,
    int (*fn)(void *, int64_t, const char *, const char *), void *arg)
{
	sqlite3_stmt *s;
	int rc, n = 0;

	if ((s = prep(st, "SELECT seq, agency, into_agency FROM endpoint_moved"
	    " WHERE seq > ?1 ORDER BY seq")) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, after);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		n++;
		if (fn(arg, sqlite3_column_int64(s, 0), col_str(s, 1),
		    col_str(s, 2)) == -1) {
			sqlite3_finalize(s);
			return -1;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_sqlerr(st, "endpoint_moved");
		return -1;
	}
	return n;
}

int
store_endpoint_moves_last(struct store *st, int64_t *seq)
{
	sqlite3_stmt *s;
	int rc;

	*seq = 0;
	if ((s = prep(st, "SELECT coalesce(max(seq), 0) FROM endpoint_moved"))
	    == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*seq = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW) {
		store_sqlerr(st, "endpoint_moved");
		return -1;
	}
	return 0;
}
