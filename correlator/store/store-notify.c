/*
 * The store's side of notifications (issue 20): responders' contacts and
 * their checks, the notification outbox written in the incident's own
 * transaction, the deadline escalations, and the sender's state row.
 *
 * An outbox row is one message to one contact of one responder for one
 * reason.  Its key ("soc-INCIDENT-TAG-RESPONDER-CHANNEL") is unique and
 * made from what caused it, so writing the same cause twice (a flush of
 * the same incident, an escalation scan run again) adds nothing, and the
 * key travels in the message (Message-ID, X-SOC-Notification-Id, the
 * JSON's notification_id): delivery is at least once, and a receiver
 * can drop a repeat.  The sender (correlator/notify.c) reads due rows,
 * and records each attempt's outcome here; finished rows are pruned
 * after notify.keep (store_notify_prune), except an open incident's.
 *
 * Routing is per connection (store_notify_enable): only the correlator's
 * connections write rows for incidents; socctl writes test rows only.
 */
#include <stdio.h>
#include <string.h>

#include "store-int.h"

#define NTF_COLS "SELECT id, key, coalesce(incident_id, 0), responder," \
	" channel, target, reason, state, attempts, next_at, created_at," \
	" coalesce(sent_at, 0), last_error, coalesce((SELECT template FROM" \
	" responder_contacts k WHERE k.responder_id =" \
	" notify_outbox.responder_id), '') FROM notify_outbox"

/* The contact of channel ch.channel of responder r, as SQL. */
#define NTF_TARGET "(CASE ch.channel WHEN 'email' THEN k.email" \
	" WHEN 'webhook' THEN k.webhook ELSE k.command END)"
#define NTF_INSERT "INSERT OR IGNORE INTO notify_outbox (key, incident_id," \
	" responder_id, responder, channel, target, reason, next_at, created_at)"

/* stages due longer ago than this are not escalated (an old database
 * opened by a new release must not page the lead for last year) */
#define NTF_ESC_MAX_AGE	"604800000000000"

const struct store_sql store_notify_sql[] = {
	{ S_NTF_CONTACTS, "INSERT INTO responder_contacts (responder_id, email,"
	    " webhook, command) SELECT id, coalesce(?3, ''), coalesce(?4, ''),"
	    " coalesce(?5, '') FROM responders WHERE agency = ?1 AND name = ?2"
	    " ON CONFLICT (responder_id) DO UPDATE SET email ="
	    " coalesce(?3, email), webhook = coalesce(?4, webhook), command ="
	    " coalesce(?5, command)" },
	/* finished rows older than ?1 (sent: when sent; given up: the last
	 * attempt), at most ?2; an open incident's are kept, since they are
	 * how an update of it knows it was notified (S_NTF_ANY) */
	{ S_NTF_PRUNE, "DELETE FROM notify_outbox WHERE id IN (SELECT o.id"
	    " FROM notify_outbox o WHERE o.state IN ('sent','given_up') AND"
	    " (CASE o.state WHEN 'sent' THEN coalesce(o.sent_at, o.next_at)"
	    " ELSE o.next_at END) < ?1 AND NOT EXISTS (SELECT 1 FROM"
	    " incidents i WHERE i.id = o.incident_id AND i.status IN"
	    " ('new','acknowledged','investigating')) ORDER BY o.id LIMIT ?2)" },
	{ S_NTF_PRUNED, "UPDATE notify_state SET pruned = pruned + ?1,"
	    " updated_at = ?2 WHERE id = 1" },
	{ S_NTF_TEMPLATE, "INSERT INTO responder_contacts (responder_id,"
	    " template) SELECT id, ?3 FROM responders WHERE agency = ?1 AND"
	    " name = ?2 ON CONFLICT (responder_id) DO UPDATE SET template = ?3" },
	/* ?1 incident, ?2 key tag, ?3 reason, ?4 min severity, ?5 categories,
	 * ?6 now: the responders of its agency and every agency above it */
	{ S_NTF_ROUTE, "WITH RECURSIVE up(code, depth) AS ("
	    " SELECT agency, 0 FROM incidents WHERE id = ?1"
	    " UNION ALL SELECT a.parent, up.depth + 1 FROM agencies a"
	    " JOIN up ON a.code = up.code WHERE a.parent IS NOT NULL"
	    " AND up.depth < 32),"
	    " ch(channel) AS (VALUES ('email'), ('webhook'), ('command'))"
	    " " NTF_INSERT
	    " SELECT 'soc-' || i.id || '-' || ?2 || '-' || r.id || '-' ||"
	    " ch.channel, i.id, r.id, r.agency || '/' || r.name, ch.channel,"
	    " " NTF_TARGET ", ?3, ?6, ?6"
	    " FROM incidents i, up, responders r, responder_contacts k, ch"
	    " WHERE i.id = ?1 AND r.agency = up.code AND k.responder_id = r.id"
	    " AND i.severity >= ?4"
	    " AND (?5 = '' OR instr(',' || ?5 || ',', ',' || i.category || ',') > 0)"
	    " AND " NTF_TARGET " != ''"
	    " ORDER BY up.depth, r.id, ch.channel" },
	/* an updated incident: already notified, and does it qualify now */
	{ S_NTF_ANY, "SELECT EXISTS (SELECT 1 FROM notify_outbox WHERE"
	    " incident_id = ?1), severity >= ?2 AND (?3 = '' OR"
	    " instr(',' || ?3 || ',', ',' || category || ',') > 0)"
	    " FROM incidents WHERE id = ?1" },
	{ S_NTF_DUE, NTF_COLS " WHERE state IN ('pending','retrying')"
	    " AND next_at <= ?1 ORDER BY next_at, id LIMIT ?2" },
	{ S_NTF_GET, NTF_COLS " WHERE id = ?1" },
	{ S_NTF_OK, "UPDATE notify_outbox SET state = 'sent', attempts ="
	    " attempts + 1, sent_at = ?2, last_error = '' WHERE id = ?1"
	    " AND state IN ('pending','retrying')" },
	{ S_NTF_FAIL, "UPDATE notify_outbox SET state = ?2, attempts = ?3,"
	    " next_at = ?4, last_error = ?5 WHERE id = ?1"
	    " AND state IN ('pending','retrying')" },
	{ S_NTF_COUNT, "UPDATE notify_state SET sent = sent + ?1, failed ="
	    " failed + ?2, given_up = given_up + ?3, last_error ="
	    " coalesce(?4, last_error), updated_at = ?5 WHERE id = 1" },
	/* each unreported stage past half its time, once per kind */
	{ S_NTF_ESC_SCAN, "SELECT d.incident_id, d.stage,"
	    " CASE WHEN d.due <= ?1 THEN 'overdue' ELSE 'half' END AS kind"
	    " FROM incident_deadlines d JOIN incidents i ON i.id = d.incident_id"
	    " JOIN deadline_policy dp ON dp.severity = i.severity"
	    " WHERE d.done IS NULL AND d.due IS NOT NULL"
	    " AND d.due - (CASE d.stage WHEN 'initial' THEN dp.initial_ns"
	    " WHEN 'details' THEN dp.details_ns ELSE dp.final_ns END) / 2 <= ?1"
	    " AND d.due > ?1 - " NTF_ESC_MAX_AGE
	    " AND NOT EXISTS (SELECT 1 FROM notify_escalations e WHERE"
	    " e.incident_id = d.incident_id AND e.stage = d.stage AND"
	    " e.kind = (CASE WHEN d.due <= ?1 THEN 'overdue' ELSE 'half' END))"
	    " ORDER BY d.incident_id LIMIT ?2" },
	{ S_NTF_ESC_ADD, "INSERT OR IGNORE INTO notify_escalations (incident_id,"
	    " stage, kind, at) VALUES (?1, ?2, ?3, ?4)" },
	{ S_NTF_ESC_COUNT, "UPDATE notify_state SET escalations = escalations"
	    " + ?1, updated_at = ?2 WHERE id = 1" },
	/* ?1 incident (NULL: a test), ?2 key tag, ?3 reason, ?4 responder
	 * ("AGENCY/NAME", or a NAME only one agency has), ?5 now */
	{ S_NTF_LEAD, "WITH ch(channel) AS (VALUES ('email'), ('webhook'),"
	    " ('command')), r AS (SELECT * FROM responders WHERE"
	    " agency || '/' || name = ?4 OR (name = ?4 AND (SELECT count(*)"
	    " FROM responders WHERE name = ?4) = 1))"
	    " " NTF_INSERT
	    " SELECT 'soc-' || coalesce(?1, 'test') || '-' || ?2 || '-' || r.id"
	    " || '-' || ch.channel, ?1, r.id, r.agency || '/' || r.name,"
	    " ch.channel, " NTF_TARGET ", ?3, ?5, ?5 FROM r JOIN"
	    " responder_contacts k ON k.responder_id = r.id, ch"
	    " WHERE " NTF_TARGET " != '' ORDER BY r.id, ch.channel" },
	{ S_NTF_TEST, "SELECT count(*), (SELECT count(*) FROM responders WHERE"
	    " name = ?1) FROM responders WHERE agency || '/' || name = ?1" },
	{ S_NTF_CONF, "UPDATE notify_state SET smtp = ?1, sender = ?2, lead = ?3,"
	    " categories = ?4, min_severity = ?5, max_attempts = ?6,"
	    " started_at = ?7, updated_at = ?7 WHERE id = 1" },
	{ S_NTF_STATE, "SELECT smtp, sender, lead, categories, min_severity,"
	    " max_attempts, started_at, sent, failed, given_up, escalations,"
	    " last_error, pruned FROM notify_state WHERE id = 1" },
	{ S_NTF_STATES, "SELECT state, count(*), min(created_at) FROM"
	    " notify_outbox GROUP BY state" },
	{ S_NTF_ERRORS, NTF_COLS " WHERE last_error != '' ORDER BY id DESC"
	    " LIMIT ?1" },
	{ 0, NULL }
};

static const char *const template_names[] = {
	"json", "slack", "mattermost", "telegram", "custom", NULL
};

static const char *const contact_names[STORE_CONTACTS] = {
	"email", "webhook", "command"
};

const char *
store_contact_name(int kind)
{
	return kind >= 0 && kind < STORE_CONTACTS ? contact_names[kind] : "?";
}

/* A byte that may not appear in any contact: controls, DEL. */
static const char *
contact_bad_byte(const char *v)
{
	const unsigned char *p;

	for (p = (const unsigned char *)v; *p != '\0'; p++) {
		if (*p == '\n')
			return "a newline";
		if (*p == '\r')
			return "a carriage return";
		if (*p < 0x20 || *p == 0x7f)
			return "a control byte";
	}
	return NULL;
}

static int
email_check(const char *v, char *err, size_t errlen)
{
	const char *at = strchr(v, '@'), *p;

	if (strlen(v) > 254) {
		snprintf(err, errlen, "e-mail address longer than 254 bytes");
		return -1;
	}
	if (at == NULL || at == v || at[1] == '\0' || strchr(at + 1, '@')) {
		snprintf(err, errlen, "e-mail address '%s' is not local@domain",
		    v);
		return -1;
	}
	for (p = v; *p != '\0'; p++) {
		if (strchr(" <>()[],;:\\\"", *p) != NULL) {
			snprintf(err, errlen, "e-mail address '%s' holds '%c'"
			    " (give the bare address)", v, *p);
			return -1;
		}
	}
	return 0;
}

static int
url_check(const char *v, char *err, size_t errlen)
{
	const char *host;

	if (strncmp(v, "http://", 7) == 0)
		host = v + 7;
	else if (strncmp(v, "https://", 8) == 0)
		host = v + 8;
	else {
		snprintf(err, errlen, "webhook '%s': only http:// and https://"
		    " URLs", v);
		return -1;
	}
	if (*host == '\0' || *host == '/') {
		snprintf(err, errlen, "webhook '%s' has no host", v);
		return -1;
	}
	if (strlen(v) > 2048 || strchr(v, ' ') != NULL) {
		snprintf(err, errlen, "webhook URL with a space or over 2048"
		    " bytes");
		return -1;
	}
	return 0;
}

int
store_contact_check(int kind, const char *v, char *err, size_t errlen)
{
	const char *bad;

	if (kind < 0 || kind >= STORE_CONTACTS) {
		snprintf(err, errlen, "unknown contact kind %d", kind);
		return -1;
	}
	if (v == NULL || v[0] == '\0')
		return 0;
	if ((bad = contact_bad_byte(v)) != NULL) {
		snprintf(err, errlen, "%s contains %s: refused", kind ==
		    STORE_CONTACT_EMAIL ? "e-mail address" : kind ==
		    STORE_CONTACT_WEBHOOK ? "webhook URL" : "command", bad);
		return -1;
	}
	if (kind == STORE_CONTACT_EMAIL)
		return email_check(v, err, errlen);
	if (kind == STORE_CONTACT_WEBHOOK)
		return url_check(v, err, errlen);
	if (strlen(v) > 1024) {
		snprintf(err, errlen, "command longer than 1024 bytes");
		return -1;
	}
	return 0;
}

int
store_template_check(const char *name, char *err, size_t errlen)
{
	size_t i;

	if (name == NULL || name[0] == '\0')
		return 0;
	for (i = 0; template_names[i] != NULL; i++)
		if (strcmp(name, template_names[i]) == 0)
			return 0;
	snprintf(err, errlen, "webhook template '%.64s': one of json, slack,"
	    " mattermost, telegram, custom (notify.webhook_template)", name);
	return -1;
}

int
store_responder_set_template(struct store *st, const char *agency,
    const char *name, const char *tpl)
{
	sqlite3_stmt *s = st->stmt[S_NTF_TEMPLATE];
	char why[300];

	if (store_template_check(tpl, why, sizeof(why)) == -1) {
		store_seterr(st, "%s", why);
		return -1;
	}
	bind_str(s, 1, agency);
	bind_str(s, 2, name);
	bind_str(s, 3, tpl ? tpl : "");
	if (store_exec(st, s, "responder template") == -1)
		return -1;
	if (sqlite3_changes(st->db) == 0) {
		store_seterr(st, "no responder '%s' for %s", name, agency);
		return -1;
	}
	return 0;
}

int
store_responder_set_contacts(struct store *st, const char *agency,
    const char *name, const char *const contacts[STORE_CONTACTS])
{
	sqlite3_stmt *s = st->stmt[S_NTF_CONTACTS];
	char why[300];
	int k;

	for (k = 0; k < STORE_CONTACTS; k++) {
		if (store_contact_check(k, contacts[k], why, sizeof(why)) == -1) {
			store_seterr(st, "%s", why);
			return -1;
		}
	}
	bind_str(s, 1, agency);
	bind_str(s, 2, name);
	for (k = 0; k < STORE_CONTACTS; k++)
		bind_str(s, 3 + k, contacts[k]);
	if (store_exec(st, s, "responder contacts") == -1)
		return -1;
	if (sqlite3_changes(st->db) == 0) {
		store_seterr(st, "no responder '%s' for %s", name, agency);
		return -1;
	}
	return 0;
}

void
store_notify_enable(struct store *st, const struct store_notify_route *r)
{
	st->ntf_on = r != NULL;
	if (r == NULL)
		return;
	st->ntf_min = r->min_severity < 0 ? 0 : r->min_severity > 4 ? 4 :
	    r->min_severity;
	snprintf(st->ntf_cats, sizeof(st->ntf_cats), "%s",
	    r->categories ? r->categories : "");
	snprintf(st->ntf_lead, sizeof(st->ntf_lead), "%s",
	    r->lead ? r->lead : "");
}

/* Rows for the incident's routing; tag makes the key, reason is shown. */
static int
route(struct store *st, int64_t id, const char *tag, const char *reason,
    int64_t now)
{
	sqlite3_stmt *s;
	int tmp, rc;

	if ((s = store_stmt_get(st, S_NTF_ROUTE, &tmp)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	bind_str(s, 2, tag);
	bind_str(s, 3, reason);
	sqlite3_bind_int(s, 4, st->ntf_min);
	bind_str(s, 5, st->ntf_cats);
	sqlite3_bind_int64(s, 6, now);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
	if (rc == -1)
		store_sqlerr(st, "notification outbox");
	store_stmt_put(s, tmp);
	return rc;
}

int
store_notify_touch(struct store *st, int64_t incident_id, int how,
    int64_t now_ns)
{
	sqlite3_stmt *s;
	char tag[48];
	int tmp, rc, news = 0;

	if (!st->ntf_on)
		return 0;
	if (how == STORE_FLUSH_CREATED)
		return route(st, incident_id, "opened", "opened", now_ns);
	if (how == STORE_FLUSH_REOPENED) {
		/* each reopening is news: the time makes its own key */
		snprintf(tag, sizeof(tag), "reopened.%lld", (long long)now_ns);
		return route(st, incident_id, tag, "reopened", now_ns);
	}
	/* an update: news only the first time the routing takes it (it
	 * was opened below the threshold and has risen) */
	if ((s = store_stmt_get(st, S_NTF_ANY, &tmp)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, incident_id);
	sqlite3_bind_int(s, 2, st->ntf_min);
	bind_str(s, 3, st->ntf_cats);
	if ((rc = store_step1(st, s, "notification outbox")) == 1)
		news = sqlite3_column_int(s, 0) == 0 &&
		    sqlite3_column_int(s, 1) != 0;
	store_stmt_put(s, tmp);
	if (rc == -1)
		return -1;
	return news ? route(st, incident_id, "raised", "raised", now_ns) : 0;
}

static void
row_read(sqlite3_stmt *s, struct store_notification *n)
{
	n->id = sqlite3_column_int64(s, 0);
	n->key = col_str(s, 1);
	n->incident_id = sqlite3_column_int64(s, 2);
	n->responder = col_str(s, 3);
	n->channel = col_str(s, 4);
	n->target = col_str(s, 5);
	n->reason = col_str(s, 6);
	n->state = col_str(s, 7);
	n->attempts = sqlite3_column_int(s, 8);
	n->next_at = sqlite3_column_int64(s, 9);
	n->created_at = sqlite3_column_int64(s, 10);
	n->sent_at = sqlite3_column_int64(s, 11);
	n->last_error = col_str(s, 12);
	n->tmpl = col_str(s, 13);
}

/* Runs statement idx with one integer (and a limit) and hands each row to fn. */
static int
rows(struct store *st, int idx, int64_t a, int limit, int nbind,
    store_notification_fn fn, void *arg)
{
	struct store_notification n;
	sqlite3_stmt *s;
	int tmp, rc, ret = 0, seen = 0;

	if ((s = store_stmt_get(st, idx, &tmp)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, a);
	if (nbind > 1)
		sqlite3_bind_int(s, 2, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		seen = 1;
		row_read(s, &n);
		if ((ret = fn(arg, &n)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(st, "notification outbox");
		ret = -1;
	}
	store_stmt_put(s, tmp);
	return ret != 0 ? ret : seen;
}

int
store_notify_due(struct store *st, int64_t now_ns, int limit,
    store_notification_fn fn, void *arg)
{
	int rc = rows(st, S_NTF_DUE, now_ns, limit, 2, fn, arg);

	return rc < 0 ? -1 : 0;
}

int
store_notify_get(struct store *st, int64_t id, store_notification_fn fn,
    void *arg)
{
	return rows(st, S_NTF_GET, id, 0, 1, fn, arg);
}

int
store_notify_errors(struct store *st, int limit, store_notification_fn fn,
    void *arg)
{
	/* S_NTF_ERRORS takes the limit first */
	int rc = rows(st, S_NTF_ERRORS, limit, 0, 1, fn, arg);

	return rc < 0 ? -1 : 0;
}

int
store_notify_result(struct store *st, int64_t id, int ok, const char *error,
    int attempts, int max_attempts, int64_t retry_at, int64_t now_ns)
{
	sqlite3_stmt *s;
	int own, gave_up = !ok && attempts >= max_attempts, r = 0;

	if (store_tx_enter(st, &own) == -1)
		return -1;
	if (ok) {
		s = st->stmt[S_NTF_OK];
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int64(s, 2, now_ns);
	} else {
		s = st->stmt[S_NTF_FAIL];
		sqlite3_bind_int64(s, 1, id);
		bind_str(s, 2, gave_up ? "given_up" : "retrying");
		sqlite3_bind_int(s, 3, attempts);
		/* given up: next_at keeps the last attempt's time (pruning) */
		sqlite3_bind_int64(s, 4, gave_up ? now_ns : retry_at);
		bind_str(s, 5, error ? error : "failed");
	}
	if (store_exec(st, s, "notification result") == -1)
		r = -1;
	else if (sqlite3_changes(st->db) == 0)	/* sent or gone: no news */
		return store_tx_leave(st, own, 0);
	s = st->stmt[S_NTF_COUNT];
	sqlite3_bind_int(s, 1, ok);
	sqlite3_bind_int(s, 2, !ok);
	sqlite3_bind_int(s, 3, gave_up);
	bind_str(s, 4, ok ? NULL : error);
	sqlite3_bind_int64(s, 5, now_ns);
	if (r == 0 && store_exec(st, s, "notification counters") == -1)
		r = -1;
	return store_tx_leave(st, own, r);
}

int64_t
store_notify_prune(struct store *st, int64_t before_ns, int max,
    int64_t now_ns)
{
	sqlite3_stmt *s;
	int64_t n;
	int own;

	if (store_tx_enter(st, &own) == -1)
		return -1;
	s = st->stmt[S_NTF_PRUNE];
	sqlite3_bind_int64(s, 1, before_ns);
	sqlite3_bind_int(s, 2, max);
	if (store_exec(st, s, "notification outbox: prune") == -1)
		goto fail;
	if ((n = sqlite3_changes(st->db)) > 0) {
		s = st->stmt[S_NTF_PRUNED];
		sqlite3_bind_int64(s, 1, n);
		sqlite3_bind_int64(s, 2, now_ns);
		if (store_exec(st, s, "notification outbox: pruned") == -1)
			goto fail;
	}
	return store_tx_leave(st, own, 0) == 0 ? n : -1;
fail:
	store_tx_leave(st, own, -1);
	return -1;
}

/* Rows for responder spec (the lead, or a test); *n gets how many. */
static int
to_responder(struct store *st, int64_t incident, const char *tag,
    const char *reason, const char *who, int64_t now, int *n)
{
	sqlite3_stmt *s;
	int tmp, rc;

	if ((s = store_stmt_get(st, S_NTF_LEAD, &tmp)) == NULL)
		return -1;
	if (incident > 0)
		sqlite3_bind_int64(s, 1, incident);
	bind_str(s, 2, tag);
	bind_str(s, 3, reason);
	bind_str(s, 4, who);
	sqlite3_bind_int64(s, 5, now);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
	if (rc == -1)
		store_sqlerr(st, "notification outbox");
	else if (n != NULL)
		*n = sqlite3_changes(st->db);
	store_stmt_put(s, tmp);
	return rc;
}

/* One escalation: recorded once, and its rows, in one transaction. */
static int
escalate_one(struct store *st, int64_t id, const char *stage,
    const char *kind, int64_t now)
{
	sqlite3_stmt *s = st->stmt[S_NTF_ESC_ADD];
	char tag[64];
	int own, r;

	if (store_tx_enter(st, &own) == -1)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	bind_str(s, 2, stage);
	bind_str(s, 3, kind);
	sqlite3_bind_int64(s, 4, now);
	r = store_exec(st, s, "escalation");
	snprintf(tag, sizeof(tag), "%s-%s", kind, stage);
	if (r == 0 && strcmp(kind, "half") == 0)
		r = route(st, id, tag, tag, now);
	else if (r == 0 && st->ntf_lead[0] != '\0')
		r = to_responder(st, id, tag, tag, st->ntf_lead, now, NULL);
	if (r == 0) {
		s = st->stmt[S_NTF_ESC_COUNT];
		sqlite3_bind_int(s, 1, 1);
		sqlite3_bind_int64(s, 2, now);
		r = store_exec(st, s, "escalation count");
	}
	return store_tx_leave(st, own, r);
}

int
store_notify_escalate(struct store *st, int64_t now_ns, int *n)
{
	struct { int64_t id; char stage[16]; char kind[16]; } e[64];
	sqlite3_stmt *s;
	int tmp, rc, k, m = 0;

	*n = 0;
	if (!st->ntf_on)
		return 0;
	if ((s = store_stmt_get(st, S_NTF_ESC_SCAN, &tmp)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now_ns);
	sqlite3_bind_int(s, 2, (int)(sizeof(e) / sizeof(e[0])));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		e[m].id = sqlite3_column_int64(s, 0);
		snprintf(e[m].stage, sizeof(e[m].stage), "%s", col_str(s, 1));
		snprintf(e[m].kind, sizeof(e[m].kind), "%s", col_str(s, 2));
		m++;
	}
	if (rc != SQLITE_DONE)
		store_sqlerr(st, "escalation scan");
	store_stmt_put(s, tmp);
	if (rc != SQLITE_DONE)
		return -1;
	for (k = 0; k < m; k++) {
		if (escalate_one(st, e[k].id, e[k].stage, e[k].kind, now_ns) == -1)
			return -1;
		(*n)++;
	}
	return 0;
}

int
store_notify_test(struct store *st, const char *responder, int64_t now_ns,
    int64_t *first, int *n)
{
	sqlite3_stmt *s;
	char tag[32];
	int tmp, rc, exact = 0, byname = 0;

	*n = 0;
	*first = 0;
	if ((s = store_stmt_get(st, S_NTF_TEST, &tmp)) == NULL)
		return -1;
	bind_str(s, 1, responder);
	if ((rc = store_step1(st, s, "responder")) == 1) {
		exact = sqlite3_column_int(s, 0);
		byname = sqlite3_column_int(s, 1);
	}
	store_stmt_put(s, tmp);
	if (rc == -1)
		return -1;
	if (exact == 0 && byname == 0) {
		store_seterr(st, "no responder '%s' (AGENCY/NAME or NAME; see"
		    " `socctl responder list`)", responder);
		return -1;
	}
	if (exact == 0 && byname > 1) {
		store_seterr(st, "%d responders are named '%s': give"
		    " AGENCY/NAME", byname, responder);
		return -1;
	}
	snprintf(tag, sizeof(tag), "%lld", (long long)now_ns);
	if (to_responder(st, 0, tag, "test", responder, now_ns, n) == -1)
		return -1;
	if (*n == 0) {
		store_seterr(st, "responder '%s' has no contact (add --email,"
		    " --webhook or --command)", responder);
		return -1;
	}
	*first = sqlite3_last_insert_rowid(st->db) - *n + 1;
	return 0;
}

int
store_notify_configure(struct store *st, const struct store_notify_conf *c,
    int64_t now_ns)
{
	sqlite3_stmt *s = st->stmt[S_NTF_CONF];

	bind_str(s, 1, c->smtp ? c->smtp : "");
	bind_str(s, 2, c->from ? c->from : "");
	bind_str(s, 3, c->lead ? c->lead : "");
	bind_str(s, 4, c->categories ? c->categories : "");
	sqlite3_bind_int(s, 5, c->min_severity);
	sqlite3_bind_int(s, 6, c->max_attempts);
	sqlite3_bind_int64(s, 7, now_ns);
	return store_exec(st, s, "notify state");
}

static void
states_add(struct store_notify_status *o, const char *state, uint64_t n,
    int64_t oldest)
{
	if (strcmp(state, "pending") == 0 || strcmp(state, "retrying") == 0) {
		if (strcmp(state, "pending") == 0)
			o->pending = n;
		else
			o->retrying = n;
		if (oldest > 0 && (o->oldest_pending == 0 ||
		    oldest < o->oldest_pending))
			o->oldest_pending = oldest;
	} else if (strcmp(state, "sent") == 0)
		o->done = n;
	else if (strcmp(state, "given_up") == 0)
		o->abandoned = n;
}

int
store_notify_status_get(struct store *st, struct store_notify_status *o)
{
	sqlite3_stmt *s;
	int tmp, rc;

	memset(o, 0, sizeof(*o));
	if ((s = store_stmt_get(st, S_NTF_STATE, &tmp)) == NULL)
		return -1;
	if ((rc = store_step1(st, s, "notify state")) == 1) {
		snprintf(o->smtp, sizeof(o->smtp), "%s", col_str(s, 0));
		snprintf(o->from, sizeof(o->from), "%s", col_str(s, 1));
		snprintf(o->lead, sizeof(o->lead), "%s", col_str(s, 2));
		snprintf(o->categories, sizeof(o->categories), "%s",
		    col_str(s, 3));
		o->min_severity = sqlite3_column_int(s, 4);
		o->max_attempts = sqlite3_column_int(s, 5);
		o->started_at = sqlite3_column_int64(s, 6);
		o->sent = (uint64_t)sqlite3_column_int64(s, 7);
		o->failed = (uint64_t)sqlite3_column_int64(s, 8);
		o->given_up = (uint64_t)sqlite3_column_int64(s, 9);
		o->escalations = (uint64_t)sqlite3_column_int64(s, 10);
		snprintf(o->last_error, sizeof(o->last_error), "%s",
		    col_str(s, 11));
		o->pruned = (uint64_t)sqlite3_column_int64(s, 12);
	}
	store_stmt_put(s, tmp);
	if (rc == -1)
		return -1;
	if ((s = store_stmt_get(st, S_NTF_STATES, &tmp)) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		states_add(o, col_str(s, 0), (uint64_t)sqlite3_column_int64(s, 1),
		    sqlite3_column_int64(s, 2));
	if (rc != SQLITE_DONE)
		store_sqlerr(st, "notification outbox");
	store_stmt_put(s, tmp);
	return rc == SQLITE_DONE ? 0 : -1;
}
