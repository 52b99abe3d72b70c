/*
 * The store's national role: incidents forwarded by enrolled provinces.
 * A province's correlator is enrolled like a sensor; each alert it sends
 * is one revision of one of its incidents, and each provincial incident
 * is ONE national incident, keyed by (origin name, provincial incident
 * id) and kept at the highest revision seen.  An equal or older revision
 * (a resend across a restart, a reordering) changes nothing.
 *
 * Trust: the caller passes the origin name and agency of the enrolled
 * key, never what the alert claims, so a province can only ever write
 * its own rows under its own agency.
 *
 * The national rows live in the same incidents table as locally raised
 * ones, so socctl lists, filters, acks and resolves them as usual; the
 * origin columns (schema step 2 in store.c) tell them apart.  A new
 * revision carries the province's status, so the national copy follows
 * the province (the contract compares them); each change of status or
 * severity it brings is written to the audit trail.
 *
 * A middle tier (commune -> province -> nation, DESIGN.md 10): a new or
 * newer revision is recorded in the outbox in the same transaction, as a
 * local incident change is (store_outbox_touch; a no-op unless this
 * connection forwards), so a national instance that forwards passes the
 * incidents it receives onward.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"

const struct store_sql store_national_sql[] = {
	{ S_NAT_FIND, "SELECT id, origin_revision, status, severity FROM incidents"
	    " WHERE origin_name = ?1 AND origin_incident = ?2" },
	{ S_NAT_INSERT, "INSERT INTO incidents (rule_id, rule_title, rule_level,"
	    " rule_author, severity, agency, sensor, group_key, status, first_seen,"
	    " last_seen, count, created_at, updated_at, origin_name, origin_agency,"
	    " origin_incident, origin_revision, rule_tags, category) VALUES (?1,"
	    " ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?7, ?14, ?15,"
	    " ?16, ?17, ?18)" },
	{ S_NAT_UPDATE, "UPDATE incidents SET rule_id = ?2, rule_title = ?3,"
	    " rule_level = ?4, rule_author = ?5, severity = ?6, group_key = ?7,"
	    " status = ?8, first_seen = ?9, last_seen = ?10, count = ?11,"
	    " updated_at = ?12, origin_agency = ?13, origin_revision = ?14,"
	    " rule_tags = ?15, category = ?16 WHERE id = ?1" },
	{ S_NAT_EVIDENCE, "INSERT OR REPLACE INTO evidence (incident_id, seq,"
	    " event_json) VALUES (?1, 0, ?2)" },
	{ S_NAT_RECEIVED, "UPDATE sensors SET last_alert_at = max(last_alert_at, ?2)"
	    " WHERE name = ?1" },
	{ S_NAT_ORIGIN, "SELECT origin_name, coalesce(origin_agency, ''),"
	    " coalesce(origin_incident, 0), coalesce(origin_revision, 0)"
	    " FROM incidents WHERE id = ?1 AND origin_name IS NOT NULL" },
	{ S_NAT_LAST_ALERT, "SELECT last_alert_at FROM sensors WHERE name = ?1" },
	{ S_NAT_AG_FIND, "SELECT 1 FROM province_agencies WHERE name = ?1 AND"
	    " agency = ?2" },
	{ S_NAT_AG_ADD, "INSERT OR IGNORE INTO province_agencies (name, agency,"
	    " first_seen, first_incident, new) VALUES (?1, ?2, ?3, ?4, ?5)" },
	{ S_NAT_DEFER, "INSERT INTO province_counts (name, deferred,"
	    " deferred_batches, last_deferred_at) VALUES (?1, ?2, ?2 > 0, ?3)"
	    " ON CONFLICT (name) DO UPDATE SET deferred = deferred + ?2,"
	    " deferred_batches = deferred_batches + (?2 > 0),"
	    " last_deferred_at = max(last_deferred_at, ?3)" },
	{ S_NAT_AG_COUNT, "INSERT INTO province_counts (name, agency_new,"
	    " agency_invalid, last_new_agency) VALUES (?1, ?2, ?3, ?4)"
	    " ON CONFLICT (name) DO UPDATE SET agency_new = agency_new + ?2,"
	    " agency_invalid = agency_invalid + ?3, last_new_agency ="
	    " CASE WHEN ?2 > 0 THEN ?4 ELSE last_new_agency END" },
	{ S_NAT_COUNTS, "SELECT name, deferred, deferred_batches,"
	    " last_deferred_at, agency_new, agency_invalid, last_new_agency"
	    " FROM province_counts ORDER BY name" },
	{ S_NAT_COV_DEL, "DELETE FROM province_coverage WHERE province = ?1" },
	{ S_NAT_COV_ADD, "INSERT OR REPLACE INTO province_coverage (province,"
	    " agency, name, parent, covered, state1, reason1, state2, reason2,"
	    " state3, reason3, state4, reason4, ep_declared, ep_reporting,"
	    " ep_protected, reported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
	    " ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)" },
	{ S_NAT_COV_LIST, "SELECT province, agency, name, parent, covered,"
	    " state1, reason1, state2, reason2, state3, reason3, state4, reason4,"
	    " ep_declared, ep_reporting, ep_protected, reported_at"
	    " FROM province_coverage WHERE ?1 IS NULL OR province = ?1"
	    " ORDER BY province, agency" },
	{ 0, NULL }
};

/* What is stored of a national incident, read before an upsert. */
struct nat_row {
	int64_t	id;
	int64_t	revision;
	int	status;
	int	severity;
};

/* 1 found, 0 none, -1 error. */
static int
nat_find(struct store *st, const struct store_origin_rev *r, struct nat_row *row)
{
	sqlite3_stmt *s = st->stmt[S_NAT_FIND];
	int rc, ret = -1;

	bind_str(s, 1, r->origin_name);
	sqlite3_bind_int64(s, 2, r->origin_incident);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		row->id = sqlite3_column_int64(s, 0);
		row->revision = sqlite3_column_int64(s, 1);
		row->status = store_status_parse(col_str(s, 2));
		row->severity = sqlite3_column_int(s, 3);
		ret = 1;
	} else if (rc == SQLITE_DONE)
		ret = 0;
	else
		store_sqlerr(st, "find forwarded incident");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

static const char *
level_of(const struct store_origin_rev *r)
{
	if (r->rule_level != NULL && r->rule_level[0] != '\0')
		return r->rule_level;
	return store_severity_name(r->severity);
}

/* The category (the caller chose it; "other" when it did not). */
static const char *
category_of_rev(const struct store_origin_rev *r)
{
	return r->category != NULL && r->category[0] != '\0' ? r->category :
	    "other";
}

static int
nat_insert(struct store *st, const struct store_origin_rev *r, int64_t now,
    int64_t *id)
{
	sqlite3_stmt *s = st->stmt[S_NAT_INSERT];
	char note[320];

	bind_str(s, 1, r->rule_id);
	bind_str(s, 2, r->rule_title ? r->rule_title : "");
	bind_str(s, 3, level_of(r));
	bind_str(s, 4, r->rule_author ? r->rule_author : "");
	sqlite3_bind_int(s, 5, r->severity);
	bind_str(s, 6, r->agency);
	bind_str(s, 7, r->origin_name);
	bind_str(s, 8, r->group_key ? r->group_key : "");
	bind_str(s, 9, store_status_name(r->status));
	sqlite3_bind_int64(s, 10, r->first_seen);
	sqlite3_bind_int64(s, 11, r->last_seen);
	sqlite3_bind_int64(s, 12, (sqlite3_int64)r->count);
	sqlite3_bind_int64(s, 13, now);
	bind_str(s, 14, r->origin_agency ? r->origin_agency : "");
	sqlite3_bind_int64(s, 15, r->origin_incident);
	sqlite3_bind_int64(s, 16, r->revision);
	bind_str(s, 17, r->rule_tags ? r->rule_tags : "");
	bind_str(s, 18, category_of_rev(r));
	if (store_exec(st, s, "store forwarded incident") == -1)
		return -1;
	*id = sqlite3_last_insert_rowid(st->db);
	snprintf(note, sizeof(note), "%s severity, forwarded by %s (incident %lld"
	    " revision %lld, agency %s there)", store_severity_name(r->severity),
	    r->origin_name, (long long)r->origin_incident, (long long)r->revision,
	    r->origin_agency ? r->origin_agency : "?");
	return store_audit_add(st, *id, r->origin_name, "created", note, now);
}

/* The audit rows of a newer revision: what it changed that people act on. */
static int
nat_audit_changes(struct store *st, const struct store_origin_rev *r,
    const struct nat_row *old, int64_t now)
{
	char note[160];

	if (r->severity != old->severity) {
		snprintf(note, sizeof(note), "severity %s -> %s (revision %lld)",
		    store_severity_name(old->severity),
		    store_severity_name(r->severity), (long long)r->revision);
		if (store_audit_add(st, old->id, r->origin_name,
		    r->severity > old->severity ? "escalated" : "de-escalated",
		    note, now) == -1)
			return -1;
	}
	if (r->status != old->status) {
		snprintf(note, sizeof(note), "status %s at the origin (revision %lld)",
		    store_status_name(r->status), (long long)r->revision);
		if (store_audit_add(st, old->id, r->origin_name,
		    store_status_name(r->status), note, now) == -1)
			return -1;
	}
	return 0;
}

static int
nat_update(struct store *st, const struct store_origin_rev *r,
    const struct nat_row *old, int64_t now)
{
	sqlite3_stmt *s = st->stmt[S_NAT_UPDATE];

	/* the audit rows first: the schema refuses a status change that its
	 * latest audit row (at the new updated_at) does not record */
	if (nat_audit_changes(st, r, old, now) == -1)
		return -1;
	sqlite3_bind_int64(s, 1, old->id);
	bind_str(s, 2, r->rule_id);
	bind_str(s, 3, r->rule_title ? r->rule_title : "");
	bind_str(s, 4, level_of(r));
	bind_str(s, 5, r->rule_author ? r->rule_author : "");
	sqlite3_bind_int(s, 6, r->severity);
	bind_str(s, 7, r->group_key ? r->group_key : "");
	bind_str(s, 8, store_status_name(r->status));
	sqlite3_bind_int64(s, 9, r->first_seen);
	sqlite3_bind_int64(s, 10, r->last_seen);
	sqlite3_bind_int64(s, 11, (sqlite3_int64)r->count);
	sqlite3_bind_int64(s, 12, now);
	bind_str(s, 13, r->origin_agency ? r->origin_agency : "");
	sqlite3_bind_int64(s, 14, r->revision);
	bind_str(s, 15, r->rule_tags ? r->rule_tags : "");
	bind_str(s, 16, category_of_rev(r));
	return store_exec(st, s, "update forwarded incident");
}

static int
nat_evidence(struct store *st, int64_t id, const char *json)
{
	sqlite3_stmt *s = st->stmt[S_NAT_EVIDENCE];

	sqlite3_bind_int64(s, 1, id);
	bind_str(s, 2, json);
	return store_exec(st, s, "forwarded evidence");
}

/* The checks the schema cannot make on what a province sent. */
static int
nat_valid(struct store *st, const struct store_origin_rev *r)
{
	if (r->origin_name == NULL || r->origin_name[0] == '\0' ||
	    r->agency == NULL || r->agency[0] == '\0' ||
	    r->rule_id == NULL || r->rule_id[0] == '\0') {
		store_seterr(st, "forwarded incident without origin, agency or rule");
		return -1;
	}
	if (r->origin_incident < 1 || r->revision < 1) {
		store_seterr(st, "forwarded incident id and revision start at 1");
		return -1;
	}
	if (r->severity < 0 || r->severity > 4 || r->status < 0 ||
	    r->status >= STORE_ST_COUNT || r->first_seen > r->last_seen ||
	    r->count > INT64_MAX) {
		store_seterr(st, "forwarded incident out of range (severity,"
		    " status, times or count)");
		return -1;
	}
	return 0;
}

/*
 * Atomic on its own when no transaction is open.  Inside the caller's
 * (ingest: each alert batch under its own savepoint, undone whole when
 * this returns -1) it takes no savepoint of its own: one per alert cost
 * about a tenth of the national ingest's CPU (each savepoint also makes
 * FTS5 flush incident_fts's pending terms), and the batch's undo covers
 * it.
 */
int
store_national_apply(struct store *st, const struct store_origin_rev *r,
    int64_t now_ns, int64_t *id)
{
	struct nat_row old;
	int own = 0, outer, rc, result;

	*id = 0;
	if (nat_valid(st, r) == -1)
		return STORE_NAT_REFUSED;
	outer = !sqlite3_get_autocommit(st->db);
	if (!outer && store_tx_enter(st, &own) == -1)
		return -1;
	if ((rc = nat_find(st, r, &old)) == -1)
		goto fail;
	if (rc == 1 && r->revision <= old.revision) {
		*id = old.id;
		result = STORE_NAT_STALE;
		goto done;
	}
	if (rc == 0) {
		if (nat_insert(st, r, now_ns, id) == -1)
			goto fail;
		result = STORE_NAT_CREATED;
	} else {
		*id = old.id;
		if (nat_update(st, r, &old, now_ns) == -1)
			goto fail;
		result = STORE_NAT_UPDATED;
	}
	if (r->evidence_json != NULL && nat_evidence(st, *id, r->evidence_json) == -1)
		goto fail;
	if (store_outbox_touch(st, *id) == -1)	/* onward: same transaction */
		goto fail;
done:
	if (outer)
		return result;
	return store_tx_leave(st, own, 0) == 0 ? result : -1;
fail:
	*id = 0;
	return outer ? -1 : store_tx_leave(st, own, -1);
}

int
store_national_received(struct store *st, const char *name, int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_NAT_RECEIVED];

	bind_str(s, 1, name);
	sqlite3_bind_int64(s, 2, now_ns);
	return store_exec_sensor(st, s, "alerts received", name);
}

int
store_incident_origin(struct store *st, int64_t id, struct store_origin *out)
{
	sqlite3_stmt *s;
	int tmp, rc, ret = -1;

	if ((s = store_stmt_get(st, S_NAT_ORIGIN, &tmp)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		snprintf(out->name, sizeof(out->name), "%s", col_str(s, 0));
		snprintf(out->agency, sizeof(out->agency), "%s", col_str(s, 1));
		out->incident_id = sqlite3_column_int64(s, 2);
		out->revision = sqlite3_column_int64(s, 3);
		ret = 1;
	} else if (rc == SQLITE_DONE)
		ret = 0;
	else
		store_sqlerr(st, "incident origin");
	store_stmt_put(s, tmp);
	return ret;
}

int
store_sensor_last_alert(struct store *st, const char *name, int64_t *at)
{
	sqlite3_stmt *s;
	int tmp, rc, ret = 0;

	*at = 0;
	if ((s = store_stmt_get(st, S_NAT_LAST_ALERT, &tmp)) == NULL)
		return -1;
	bind_str(s, 1, name);
	if ((rc = store_step1(st, s, "last alert")) == 1)
		*at = sqlite3_column_int64(s, 0);
	else if (rc == -1)
		ret = -1;
	store_stmt_put(s, tmp);
	return ret;
}

/* ---- the province bounds (issue 15 item 9) ---- */

int
store_province_agency(struct store *st, const char *name, const char *agency,
    int64_t now_ns, int64_t incident)
{
	sqlite3_stmt *s;
	int tmp, rc, known;

	if ((s = store_stmt_get(st, S_NAT_AG_FIND, &tmp)) == NULL)
		return -1;
	bind_str(s, 1, name);
	bind_str(s, 2, agency);
	rc = store_step1(st, s, "province agencies");
	store_stmt_put(s, tmp);
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	if ((known = store_agency_exists(st, agency)) == -1)
		return -1;
	s = st->stmt[S_NAT_AG_ADD];
	bind_str(s, 1, name);
	bind_str(s, 2, agency);
	sqlite3_bind_int64(s, 3, now_ns);
	sqlite3_bind_int64(s, 4, incident);
	sqlite3_bind_int(s, 5, !known);
	if (store_exec(st, s, "province agencies") == -1)
		return -1;
	return known ? 1 : 2;
}

int
store_province_agency_count(struct store *st, const char *name, int isnew,
    int invalid, const char *agency)
{
	sqlite3_stmt *s = st->stmt[S_NAT_AG_COUNT];

	bind_str(s, 1, name);
	sqlite3_bind_int(s, 2, isnew);
	sqlite3_bind_int(s, 3, invalid);
	bind_str(s, 4, agency != NULL ? agency : "");
	return store_exec(st, s, "province counters");
}

int
store_province_deferred(struct store *st, const char *name, uint64_t alerts,
    int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_NAT_DEFER];

	bind_str(s, 1, name);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)alerts);
	sqlite3_bind_int64(s, 3, now_ns);
	return store_exec(st, s, "province counters");
}

int
store_province_foreach(struct store *st, store_province_fn fn, void *arg)
{
	struct store_province_count p;
	sqlite3_stmt *s;
	int tmp, rc, ret = 0;

	if ((s = store_stmt_get(st, S_NAT_COUNTS, &tmp)) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		p.name = col_str(s, 0);
		p.deferred = (uint64_t)sqlite3_column_int64(s, 1);
		p.deferred_batches = (uint64_t)sqlite3_column_int64(s, 2);
		p.last_deferred_at = sqlite3_column_int64(s, 3);
		p.agency_new = (uint64_t)sqlite3_column_int64(s, 4);
		p.agency_invalid = (uint64_t)sqlite3_column_int64(s, 5);
		p.last_new_agency = col_str(s, 6);
		if ((ret = fn(arg, &p)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "province counters");
		ret = -1;
	}
	store_stmt_put(s, tmp);
	return ret;
}

int
store_province_coverage_put(struct store *st, const char *province,
    const struct store_province_cov *items, size_t n, int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_NAT_COV_ADD];
	size_t i;
	int l, own;

	if (store_tx_enter(st, &own) == -1)
		return -1;
	bind_str(st->stmt[S_NAT_COV_DEL], 1, province);
	if (store_exec_idx(st, S_NAT_COV_DEL, "province coverage") == -1)
		goto fail;
	for (i = 0; i < n; i++) {
		const struct store_province_cov *c = &items[i];

		bind_str(s, 1, province);
		bind_str(s, 2, c->agency);
		bind_str(s, 3, c->name);
		bind_str(s, 4, c->parent);
		sqlite3_bind_int(s, 5, c->covered != 0);
		for (l = 0; l < STORE_LAYERS; l++) {
			sqlite3_bind_int(s, 6 + 2 * l, c->state[l]);
			bind_str(s, 7 + 2 * l, c->reason[l]);
		}
		sqlite3_bind_int64(s, 14, c->ep_declared);
		sqlite3_bind_int64(s, 15, (sqlite3_int64)c->ep_reporting);
		sqlite3_bind_int64(s, 16, (sqlite3_int64)c->ep_protected);
		sqlite3_bind_int64(s, 17, now_ns);
		if (store_exec(st, s, "province coverage") == -1)
			goto fail;
	}
	return store_tx_leave(st, own, 0);
fail:
	store_tx_leave(st, own, -1);
	return -1;
}

int
store_province_coverage_foreach(struct store *st, const char *province,
    store_province_cov_fn fn, void *arg)
{
	struct store_province_cov c;
	sqlite3_stmt *s;
	int tmp, rc, l, ret = 0;

	if ((s = store_stmt_get(st, S_NAT_COV_LIST, &tmp)) == NULL)
		return -1;
	if (province != NULL)
		bind_str(s, 1, province);
	else
		sqlite3_bind_null(s, 1);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		c.province = col_str(s, 0);
		c.agency = col_str(s, 1);
		c.name = col_str(s, 2);
		c.parent = col_str(s, 3);
		c.covered = sqlite3_column_int(s, 4);
		for (l = 0; l < STORE_LAYERS; l++) {
			c.state[l] = sqlite3_column_int(s, 5 + 2 * l);
			c.reason[l] = col_str(s, 6 + 2 * l);
		}
		c.ep_declared = sqlite3_column_int64(s, 13);
		c.ep_reporting = (uint64_t)sqlite3_column_int64(s, 14);
		c.ep_protected = (uint64_t)sqlite3_column_int64(s, 15);
		c.reported_at = sqlite3_column_int64(s, 16);
		if ((ret = fn(arg, &c)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "province coverage");
		ret = -1;
	}
	store_stmt_put(s, tmp);
	return ret;
}
