/*
 * The forwarding store and alert building (store-forward.c, forward.c's
 * forward_alert_build), on a real SQLite file in a fresh temporary
 * directory: outbox records written in the incident's transaction, at or
 * above the threshold only, coalesced to one unsent revision per
 * incident, stable ids, records taken, acked, requeued after a restart,
 * the max_pending bound counted, socctl's changes picked up from the
 * audit trail, the CEF cursor, and layer 4 of the coverage report.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <sqlite3.h>

#include "check.h"
#include "fixture.h"

#define raw_exec(sql)	fx_sql_exec(path, sql)
#define raw_int(sql)	fx_sql_int(path, "%s", sql)
#include "forward.h"
#include "store.h"
#include "store-query.h"
#include "soc/util.h"

static char dir[64];
static char path[128];

static struct store_hit
hit(const char *group, int sev, int64_t ts)
{
	return (struct store_hit){
		.rule_id = "r-1", .rule_title = "Brute | force \\ a=b\nline 2",
		.rule_level = "high", .rule_author = "Florian Roth",
		.rule_tags = "attack.credential_access, attack.t1110",
		.severity = sev, .agency = "stttt", .sensor = "gw1",
		.group_key = group, .first_ts = ts, .last_ts = ts, .count = 1,
		.evidence_json = "{\"source\":{\"ip\":\"203.0.113.7\",\"port\":50022},"
		    "\"destination\":{\"ip\":\"10.0.0.1\",\"port\":22},"
		    "\"user\":{\"name\":\"root\"},\"observer\":{\"name\":\"gw1\"}}",
	};
}

static int64_t
do_hit(struct store *st, const char *group, int sev, int64_t ts)
{
	struct store_hit h = hit(group, sev, ts);
	int64_t id = 0;
	int created;

	CHECK_INT(store_incident_hit(st, &h, &id, &created), 0);
	return id;
}

static long long
rows(const char *where)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM outbox WHERE %s", where);
	return raw_int(sql);
}

struct took {
	int		 n;
	int64_t		 ids[16];
	int64_t		 revs[16];
	char		 alert_id[16][ALERT_ID_LEN];
	struct store	*st;
	struct soc_event ev;
	struct soc_alert a;
};

static int
took_one(void *arg, const struct store_outbox_rec *r)
{
	struct took *t = arg;

	if (t->n < 16) {
		t->ids[t->n] = r->id;
		t->revs[t->n] = r->revision;
		forward_alert_build(t->st, r, "lamdong-soc", &t->ev, &t->a);
		snprintf(t->alert_id[t->n], ALERT_ID_LEN, "%s", t->a.id);
		t->n++;
	}
	return 0;
}

static void
test_outbox(void)
{
	char err[512], want[128];
	struct store *st, *ctl;
	struct took *t = calloc(1, sizeof(*t));
	int64_t a, b, low, now = soc_now_ns();
	struct store_forward_conf fc = { .endpoint = "tcp://127.0.0.1:1",
	    .origin = "lamdong-soc", .min_severity = 2,
	    .ack_within_ns = 600 * SOC_NS, .max_backlog_age_ns = 3600 * SOC_NS,
	    .max_pending = 100 };

	st = store_open(path, STORE_CREATE, err, sizeof(err));
	CHECK(st != NULL);
	if (st == NULL || t == NULL)
		return;
	t->st = st;
	CHECK_INT(store_agency_add(st, "lamdong", "Lâm Đồng", NULL, now), 0);
	CHECK_INT(store_agency_add(st, "ubnd", "UBND", "lamdong", now), 0);
	CHECK_INT(store_agency_add(st, "stttt", "Sở TT", "ubnd", now), 0);
	CHECK_INT(store_forward_configure(st, &fc, now), 0);

	/* Forwarding off (socctl, or no --forward): no record. */
	a = do_hit(st, "g1", 3, 1000);
	CHECK_INT(rows("1"), 0);

	/* On: a change records the incident's state, same transaction. */
	store_forward_enable(st, 2);
	a = do_hit(st, "g1", 3, 2000);
	CHECK_INT(rows("1"), 1);
	CHECK_INT(rows("revision = 1 AND count = 2 AND sent_at IS NULL"), 1);
	/* Below the threshold: nothing. */
	low = do_hit(st, "g-low", 1, 2000);
	CHECK(low > a);
	CHECK_INT(rows("1"), 1);
	/* Coalesced: still one unsent record, the next revision, moved to
	 * the end of the queue. */
	b = do_hit(st, "g2", 4, 2500);
	do_hit(st, "g1", 3, 3000);
	snprintf(want, sizeof(want), "incident_id = %lld", (long long)a);
	CHECK_INT(rows(want), 1);
	CHECK_INT(rows("revision = 2 AND count = 3 AND last_seen = 3000"), 1);
	snprintf(want, sizeof(want), "SELECT incident_id FROM outbox ORDER BY id"
	    " DESC LIMIT 1");
	CHECK_INT(raw_int(want), a);
	/* Touching without a change writes nothing. */
	CHECK_INT(store_outbox_touch(st, a), 0);
	CHECK_INT(raw_int("SELECT max(revision) FROM outbox"), 2);

	/* Taken in order, marked sent; stable ids origin:incident:revision. */
	CHECK_INT(store_outbox_take(st, 10, 777, now, took_one, t), 2);
	CHECK_INT(t->n, 2);
	snprintf(want, sizeof(want), "lamdong-soc:%lld:1", (long long)b);
	CHECK_STR(t->alert_id[0], want);
	snprintf(want, sizeof(want), "lamdong-soc:%lld:2", (long long)a);
	CHECK_STR(t->alert_id[1], want);
	CHECK_STR(t->a.rule_author, "Florian Roth");
	/* the rule's tags, kept on the incident, travel */
	CHECK_INT(t->a.ntags, 2);
	CHECK_STR(t->a.tags[0], "attack.credential_access");
	CHECK_STR(t->a.tags[1], "attack.t1110");
	CHECK_STR(t->a.agency_name, "Sở TT");
	CHECK_INT(t->a.nparents, 2);
	CHECK_STR(t->a.parents[0], "ubnd");
	CHECK_STR(t->a.parents[1], "lamdong");
	CHECK_INT(t->a.src_port, 50022);
	CHECK_INT(t->a.dst_port, 22);
	CHECK_STR(t->a.user_name, "root");
	CHECK_INT(t->a.count, 3);
	CHECK_INT(rows("sent_at IS NULL"), 0);
	CHECK_INT(raw_int("SELECT seq FROM forward_state"), 777);
	CHECK_INT(raw_int("SELECT sent FROM forward_state"), 2);
	/* A sent record never changes: a new change is a new record. */
	do_hit(st, "g1", 3, 4000);
	snprintf(want, sizeof(want), "incident_id = %lld", (long long)a);
	CHECK_INT(rows(want), 2);
	CHECK_INT(rows("revision = 2 AND count = 3"), 1);
	CHECK_INT(rows("revision = 3 AND count = 4 AND sent_at IS NULL"), 1);

	/* The CEF cursor: records after it, a coalesced one moves past it. */
	t->n = 0;
	CHECK_INT(store_outbox_after(st, t->ids[1], 10, took_one, t), 1);
	CHECK_INT(t->revs[0], 3);

	/* Acked: delivered, counted. */
	CHECK_INT(store_outbox_acked(st, t->ids, 0, now), 0);
	{
		int64_t ids[1];

		ids[0] = raw_int("SELECT id FROM outbox WHERE revision = 1");
		CHECK_INT(store_outbox_acked(st, ids, 1, now), 0);
		CHECK_INT(store_outbox_acked(st, ids, 1, now), 0);
	}
	CHECK_INT(raw_int("SELECT acked FROM forward_state"), 1);
	CHECK_INT(raw_int("SELECT last_ack_at FROM forward_state"), now);
	CHECK_INT(rows("acked_at IS NULL"), 2);

	/* A restart: sent but unacked records go back to the queue, and
	 * the older revision of an incident with a newer one goes. */
	CHECK_INT(store_outbox_requeue(st), 0);	/* only the newer, unsent */
	CHECK_INT(rows("acked_at IS NULL"), 1);
	CHECK_INT(rows("acked_at IS NULL AND revision = 3 AND sent_at IS NULL"), 1);
	t->n = 0;
	CHECK_INT(store_outbox_take(st, 10, 778, now, took_one, t), 1);
	CHECK_INT(store_outbox_take(st, 10, 779, now, took_one, t), 0);
	CHECK_INT(store_outbox_requeue(st), 1);
	CHECK_INT(rows("acked_at IS NULL AND revision = 3 AND sent_at IS NULL"), 1);

	/* socctl's connection never writes records; the forwarder's sweep
	 * of the audit trail records the change. */
	ctl = store_open(path, 0, err, sizeof(err));
	CHECK(ctl != NULL);
	if (ctl != NULL) {
		CHECK_INT(store_incident_transition(ctl, b, STORE_ST_ACKNOWLEDGED,
		    "analyst", "", now), 0);
		snprintf(want, sizeof(want), "incident_id = %lld", (long long)b);
		CHECK_INT(rows(want), 1);
		CHECK_INT(store_forward_sweep(st), 1);
		CHECK_INT(rows("status = 'acknowledged' AND revision = 2"), 1);
		CHECK_INT(store_forward_sweep(st), 0);	/* the cursor moved */
		/* the correlator's own transition path records at once */
		CHECK_INT(store_incident_transition(st, b, STORE_ST_RESOLVED,
		    "analyst", "", now), 0);
		CHECK_INT(rows("status = 'resolved' AND revision = 3"), 1);
		snprintf(want, sizeof(want), "incident_id = %lld", (long long)b);
		CHECK_INT(rows(want), 2);	/* coalesced into the unsent one */
		store_close(ctl);
	}

	/* The bound: the oldest pending records go, counted. */
	do_hit(st, "g3", 2, 5000);
	do_hit(st, "g4", 2, 5000);
	CHECK_INT(rows("acked_at IS NULL"), 4);
	CHECK_INT(store_outbox_trim(st, 100), 0);
	CHECK_INT(store_outbox_trim(st, 2), 2);
	CHECK_INT(rows("acked_at IS NULL"), 2);
	CHECK_INT(raw_int("SELECT dropped FROM forward_state"), 2);
	CHECK_INT(rows("acked_at IS NULL AND count = 1"), 2);	/* g3, g4 left */
	{
		struct store_forward_state fs;

		CHECK_INT(store_forward_state_get(st, &fs), 1);
		CHECK_INT(fs.pending, 2);
		CHECK_INT(fs.dropped, 2);
		CHECK_STR(fs.origin, "lamdong-soc");
		CHECK(fs.oldest_pending > 0);
	}

	/* The category travels where the schema has one (a later step adds
	 * it; added here by hand when this schema has none). */
	raw_exec("ALTER TABLE incidents ADD COLUMN category TEXT NOT NULL"
	    " DEFAULT 'other'");
	CHECK_INT(raw_exec("UPDATE incidents SET category = 'brute_force'"), SQLITE_OK);
	t->n = 0;
	CHECK(store_outbox_after(st, 0, 1, took_one, t) == 1);
	CHECK_STR(t->a.category, "brute_force");

	/* A new CEF target starts at the end, the same one keeps its place. */
	CHECK_INT(store_forward_cef(st, 3, 3, 1, NULL, now), 0);
	fc.cef = "tcp://127.0.0.1:2";
	CHECK_INT(store_forward_configure(st, &fc, now), 0);
	CHECK_INT(raw_int("SELECT cef_cursor FROM forward_state"),
	    raw_int("SELECT max(id) FROM outbox"));
	CHECK_INT(store_forward_cef(st, 1, 0, 1, NULL, now), 0);	/* never back */
	CHECK_INT(raw_int("SELECT cef_cursor FROM forward_state"),
	    raw_int("SELECT max(id) FROM outbox"));
	store_close(st);
	free(t);
}

/* ---- layer 4 ---- */

struct cov {
	int	state;
	char	reason[192];
};

static int
cov_one(void *arg, const struct store_coverage *c)
{
	struct cov *x = arg;

	if (strcmp(c->agency, "stttt") == 0) {
		x->state = c->state[3];
		snprintf(x->reason, sizeof(x->reason), "%s", c->reason[3]);
	}
	return 0;
}

static void
test_layer4(void)
{
	struct store_forward_conf fc = { .origin = "lamdong-soc",
	    .min_severity = 2, .ack_within_ns = 2 * SOC_NS,
	    .max_backlog_age_ns = 60 * SOC_NS, .max_pending = 100 };
	struct store_coverage_opts o;
	struct cov x;
	struct store *st;
	char err[512];
	int64_t now = soc_now_ns(), ids[1];

	if ((st = store_open(path, 0, err, sizeof(err))) == NULL) {
		CHECK(st != NULL);
		return;
	}
	store_coverage_opts_init(&o);
	/* not configured */
	CHECK_INT(store_forward_configure(st, &fc, now), 0);
	o.now_ns = now;
	CHECK_INT(store_coverage(st, &o, cov_one, &x, NULL, NULL), 0);
	CHECK_INT(x.state, STORE_LAYER_MISSING);
	CHECK_STR(x.reason, "forwarding not configured");
	/* configured; the last ack (an empty batch's, at now) is fresh,
	 * but the agency's oldest pending record is too old.  The ack is
	 * recorded here, at the clock the report is read with, not taken
	 * from test_outbox: how long that took must not matter. */
	fc.endpoint = "tcp://127.0.0.1:1";
	CHECK_INT(store_forward_configure(st, &fc, now), 0);
	CHECK_INT(store_outbox_acked(st, ids, 0, now), 0);
	o.now_ns = now + SOC_NS;
	CHECK_INT(store_coverage(st, &o, cov_one, &x, NULL, NULL), 0);
	CHECK_INT(x.state, STORE_LAYER_OK);
	o.now_ns = raw_int("SELECT min(created_at) FROM outbox WHERE acked_at IS NULL")
	    + 61 * SOC_NS;
	CHECK_INT(store_outbox_acked(st, ids, 0, o.now_ns), 0);
	CHECK_INT(store_coverage(st, &o, cov_one, &x, NULL, NULL), 0);
	CHECK_INT(x.state, STORE_LAYER_DEGRADED);
	CHECK(strstr(x.reason, "backlog 2, oldest 1m") != NULL);
	/* the national side silent for longer than ack_within */
	o.now_ns += 3 * SOC_NS;
	CHECK_INT(store_coverage(st, &o, cov_one, &x, NULL, NULL), 0);
	CHECK_INT(x.state, STORE_LAYER_DEGRADED);
	CHECK(strstr(x.reason, "last acked 3s ago") != NULL);
	/* everything acked, ack fresh: ok */
	ids[0] = raw_int("SELECT min(id) FROM outbox WHERE acked_at IS NULL");
	CHECK_INT(store_outbox_acked(st, ids, 1, o.now_ns), 0);
	ids[0] = raw_int("SELECT min(id) FROM outbox WHERE acked_at IS NULL");
	CHECK_INT(store_outbox_acked(st, ids, 1, o.now_ns), 0);
	CHECK_INT(store_coverage(st, &o, cov_one, &x, NULL, NULL), 0);
	CHECK_INT(x.state, STORE_LAYER_OK);
	CHECK(strstr(x.reason, "backlog 0") != NULL);
	/* an ack recorded after the report read its clock (the forwarder
	 * heartbeats meanwhile) is fresh, not "never acked" */
	CHECK_INT(store_outbox_acked(st, ids, 0, o.now_ns + SOC_NS / 10), 0);
	CHECK_INT(store_coverage(st, &o, cov_one, &x, NULL, NULL), 0);
	CHECK_INT(x.state, STORE_LAYER_OK);
	store_close(st);
}

/* ---- the CEF writer, against a real TCP listener ---- */

/*
 * The ceiling of every wait on the CEF writer thread: generous, since a
 * loaded machine (an ASan build beside another build) can hold a thread
 * or an fsync for seconds; a wait ends as soon as its condition holds.
 */
#define CEF_WAIT_MS	60000

/* Polls sql on a second connection until it gives at least want or
 * CEF_WAIT_MS pass; returns the last value. */
static long long
wait_int(const char *sql, long long want)
{
	long long v;
	int waited;

	for (waited = 0; (v = raw_int(sql)) < want && waited < CEF_WAIT_MS;
	    waited += 50)
		usleep(50000);
	return v;
}

/* Reads from fd until want lines have arrived or CEF_WAIT_MS pass;
 * appends to buf.  Returns the lines counted in buf. */
static int
read_lines(int fd, char *buf, size_t cap, size_t *len, int want)
{
	struct pollfd p = { fd, POLLIN, 0 };
	int n = 0, waited = 0;
	ssize_t r;
	size_t i;

	for (;;) {
		for (n = 0, i = 0; i < *len; i++)
			n += buf[i] == '\n';
		if (n >= want || waited > CEF_WAIT_MS || *len + 1 >= cap)
			return n;
		if (poll(&p, 1, 100) <= 0) {
			waited += 100;
			continue;
		}
		if ((r = read(fd, buf + *len, cap - *len - 1)) <= 0)
			return n;
		*len += (size_t)r;
		buf[*len] = '\0';
	}
}

static int
wait_accept(int lfd)
{
	struct pollfd p = { lfd, POLLIN, 0 };

	if (poll(&p, 1, CEF_WAIT_MS) <= 0)
		return -1;
	return accept(lfd, NULL, NULL);
}

static void
test_cef(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	struct forward_conf c;
	struct forward_cef *w;
	struct store *st;
	char err[512], *buf;
	size_t len = 0;
	int lfd, fd, i, n;
	long long top;

	buf = malloc(1 << 20);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    listen(lfd, 4) == 0 && getsockname(lfd, (struct sockaddr *)&sa, &sl) == 0);
	if ((st = store_open(path, 0, err, sizeof(err))) == NULL || buf == NULL) {
		CHECK(st != NULL);
		free(buf);
		return;
	}
	memset(&c, 0, sizeof(c));
	c.db = path;
	snprintf(err, sizeof(err), "tcp://127.0.0.1:%d", ntohs(sa.sin_port));
	c.cef = err;
	snprintf(c.origin, sizeof(c.origin), "lamdong-soc");
	c.min_severity = 2;
	alert_fields_default(&c.fields);
	c.max_pending = 1000;
	{
		struct store_forward_conf fc = { .cef = c.cef, .origin = c.origin,
		    .min_severity = 2, .ack_within_ns = SOC_NS,
		    .max_backlog_age_ns = SOC_NS, .max_pending = 1000 };

		/* a new target starts at the end: only new records go */
		CHECK_INT(store_forward_configure(st, &fc, soc_now_ns()), 0);
	}
	store_forward_enable(st, 2);
	for (i = 0; i < 5; i++) {
		char g[16];

		snprintf(g, sizeof(g), "cef%d", i);
		do_hit(st, g, 3, 9000 + i);
	}
	w = forward_cef_start(&c, 0, err, sizeof(err));
	CHECK(w != NULL);
	if (w == NULL)
		goto out;
	fd = wait_accept(lfd);
	CHECK(fd >= 0);
	n = read_lines(fd, buf, 1 << 20, &len, 5);
	CHECK_INT(n, 5);
	CHECK(strncmp(buf, "<35>1 ", 6) == 0);
	CHECK(strstr(buf, "CEF:0|soc|soc-correlator|") != NULL);
	CHECK(strstr(buf, "|Brute \\| force \\\\ a=b line 2|") != NULL);
	CHECK(strstr(buf, "msg=Brute | force \\\\ a\\=b\\nline 2") != NULL);
	CHECK(strstr(buf, "externalId=lamdong-soc:") != NULL);
	/* the cursor follows what the peer's TCP acknowledged */
	top = raw_int("SELECT max(id) FROM outbox");
	CHECK_INT(wait_int("SELECT cef_cursor FROM forward_state", top), top);
	/* the SIEM goes away; new records wait, then arrive after the
	 * reconnect, none skipped */
	close(fd);
	/* one record alone into the dead connection: the write succeeds,
	 * the peer answers with a reset, nothing acknowledged it */
	n = (int)raw_int("SELECT cef_sent FROM forward_state");
	do_hit(st, "cef5", 3, 9005);
	CHECK_INT(wait_int("SELECT cef_sent FROM forward_state", n + 1), n + 1);
	for (i = 6; i < 8; i++) {
		char g[16];

		snprintf(g, sizeof(g), "cef%d", i);
		do_hit(st, g, 3, 9000 + i);
	}
	fd = wait_accept(lfd);
	CHECK(fd >= 0);
	len = 0;
	n = read_lines(fd, buf, 1 << 20, &len, 3);
	CHECK(n >= 3);
	CHECK(strstr(buf, "cef5") != NULL && strstr(buf, "cef7") != NULL);
	top = raw_int("SELECT max(id) FROM outbox");
	CHECK_INT(wait_int("SELECT cef_cursor FROM forward_state", top), top);
	CHECK(raw_int("SELECT cef_sent FROM forward_state") >= 8);
	forward_cef_stop(w);
	close(fd);
out:
	close(lfd);
	store_close(st);
	free(buf);
}

static void
cleanup(void)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char p[200];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
}

/* Takes what is unsent and marks it acked at ack_ns. */
static void
send_ack(struct store *st, struct took *t, int64_t ack_ns)
{
	t->n = 0;
	CHECK(store_outbox_take(st, 16, 900, soc_now_ns(), took_one, t) >= 0);
	CHECK_INT(store_outbox_acked(st, t->ids, (size_t)t->n, ack_ns), 0);
}

static int64_t
rec_id(int64_t inc, int rev)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT coalesce(max(id), 0) FROM outbox WHERE"
	    " incident_id = %lld AND revision = %d", (long long)inc, rev);
	return raw_int(sql);
}

/*
 * Issue 8 follow-up: acked records older than forward.keep_acked go, a
 * bounded number looked at per pass; an incident's newest record stays
 * (it numbers the next revision), and so does one the SIEM has not had.
 */
static void
test_prune(void)
{
	char err[512], saved[128];
	struct store *st;
	struct took *t = calloc(1, sizeof(*t));
	int64_t now = soc_now_ns(), old = now - 30 * 86400 * SOC_NS;
	int64_t cut = now - 7 * 86400 * SOC_NS, cur[2] = { 0, 0 }, a, b, c, d;
	struct store_forward_conf fc = { .origin = "lamdong-soc",
	    .min_severity = 2, .ack_within_ns = 600 * SOC_NS,
	    .max_backlog_age_ns = 3600 * SOC_NS, .max_pending = 100 };
	int i;

	memcpy(saved, path, sizeof(saved));
	snprintf(path, sizeof(path), "%s/prune.db", dir);
	st = store_open(path, STORE_CREATE, err, sizeof(err));
	CHECK(st != NULL);
	if (st == NULL || t == NULL)
		goto out;
	t->st = st;
	CHECK_INT(store_agency_add(st, "stttt", "Sở TT", NULL, now), 0);
	CHECK_INT(store_forward_configure(st, &fc, now), 0);
	store_forward_enable(st, 2);
	for (i = 0; i < 3; i++) {		/* a: 3 revisions, acked long ago */
		a = do_hit(st, "a", 3, 1000 + i);
		send_ack(st, t, old);
	}
	for (i = 0; i < 2; i++) {		/* b: acked just now */
		b = do_hit(st, "b", 3, 1000 + i);
		send_ack(st, t, now);
	}
	c = do_hit(st, "c", 3, 1000);		/* c: acked long ago, then */
	send_ack(st, t, old);
	do_hit(st, "c", 3, 1001);		/* a pending revision */
	CHECK_INT(rows("1"), 7);

	/* one row looked at per pass: a1, a2, then a3 (its newest) stays */
	CHECK_INT(store_outbox_prune(st, cut, 1, cur), 1);
	CHECK_INT(rec_id(a, 1), 0);
	CHECK_INT(store_outbox_prune(st, cut, 1, cur), 1);
	CHECK_INT(store_outbox_prune(st, cut, 1, cur), 0);
	CHECK(rec_id(a, 3) > 0);
	CHECK_INT(cur[1], rec_id(a, 3));
	/* the rest of the round: c1 goes, c2 (pending) stays; b (acked
	 * within keep_acked) stays; the round ends, the cursor goes back */
	CHECK_INT(store_outbox_prune(st, cut, 4096, cur), 1);
	CHECK_INT(cur[0], 0);
	CHECK_INT(rec_id(c, 1), 0);
	CHECK(rec_id(c, 2) > 0 && rec_id(b, 1) > 0 && rec_id(b, 2) > 0);
	CHECK_INT(store_outbox_prune(st, cut, 4096, cur), 0);
	CHECK_INT(rows("1"), 4);
	/* the next revision of a still follows its last one */
	do_hit(st, "a", 3, 2000);
	CHECK(rec_id(a, 4) > 0);

	/* d: acked long ago but not yet written to the SIEM: kept */
	for (i = 0; i < 2; i++) {
		d = do_hit(st, "d", 3, 1000 + i);
		send_ack(st, t, old);
	}
	CHECK_INT(raw_exec("UPDATE forward_state SET cef = 'tcp://127.0.0.1:2',"
	    " cef_cursor = 0"), SQLITE_OK);
	CHECK_INT(store_outbox_prune(st, cut, 4096, cur), 0);
	CHECK(rec_id(d, 1) > 0);
	CHECK_INT(raw_exec("UPDATE forward_state SET cef_cursor ="
	    " (SELECT max(id) FROM outbox)"), SQLITE_OK);
	/* d1 goes, and a3 too, now that a4 numbers a's revisions */
	CHECK_INT(store_outbox_prune(st, cut, 4096, cur), 2);
	CHECK_INT(rec_id(d, 1), 0);
	CHECK_INT(rec_id(a, 3), 0);
	CHECK(rec_id(d, 2) > 0 && rec_id(a, 4) > 0);
	store_close(st);
out:
	memcpy(path, saved, sizeof(path));
	free(t);
}

/*
 * Issue 8 follow-up: a middle tier.  An incident a province forwarded is
 * recorded in the outbox like a local one, so it goes onward; the alert
 * keeps this tier's identity and the first province's agency.
 */
static void
test_middle_tier(void)
{
	char err[512], saved[128], want[128];
	struct store *st;
	struct took *t = calloc(1, sizeof(*t));
	int64_t now = soc_now_ns(), id = 0;
	struct store_forward_conf fc = { .origin = "lamdong-soc",
	    .min_severity = 2, .ack_within_ns = 600 * SOC_NS,
	    .max_backlog_age_ns = 3600 * SOC_NS, .max_pending = 100 };
	struct store_origin_rev r = {
		.origin_name = "commune-7", .agency = "stttt",
		.origin_agency = "xa-phuong-7", .origin_incident = 41,
		.revision = 1, .rule_id = "r-9", .rule_title = "Scan",
		.rule_tags = "attack.discovery", .severity = 3,
		.status = STORE_ST_NEW, .group_key = "k", .first_seen = 1,
		.last_seen = 2, .count = 5,
	};

	memcpy(saved, path, sizeof(saved));
	snprintf(path, sizeof(path), "%s/middle.db", dir);
	st = store_open(path, STORE_CREATE, err, sizeof(err));
	CHECK(st != NULL);
	if (st == NULL || t == NULL)
		goto out;
	t->st = st;
	CHECK_INT(store_agency_add(st, "stttt", "Sở TT", NULL, now), 0);
	CHECK_INT(store_forward_configure(st, &fc, now), 0);
	store_forward_enable(st, 2);
	CHECK_INT(store_national_apply(st, &r, now, &id), STORE_NAT_CREATED);
	CHECK_INT(rows("revision = 1 AND count = 5 AND sent_at IS NULL"), 1);
	CHECK_INT(store_national_apply(st, &r, now, &id), STORE_NAT_STALE);
	CHECK_INT(rows("1"), 1);
	r.revision = 2;
	r.count = 9;
	CHECK_INT(store_national_apply(st, &r, now, &id), STORE_NAT_UPDATED);
	CHECK_INT(rows("1"), 1);		/* coalesced: unsent */
	CHECK_INT(rows("revision = 2 AND count = 9"), 1);
	CHECK_INT(store_outbox_take(st, 10, 1, now, took_one, t), 1);
	snprintf(want, sizeof(want), "lamdong-soc:%lld:2", (long long)id);
	CHECK_STR(t->alert_id[0], want);
	CHECK_STR(t->a.origin_name, "lamdong-soc");
	CHECK_STR(t->a.origin_agency, "xa-phuong-7");
	CHECK_STR(t->a.agency, "stttt");
	CHECK_INT(t->a.ntags, 1);
	CHECK_INT(t->a.count, 9);
	/* below the threshold: not forwarded onward */
	r.origin_incident = 42;
	r.severity = 1;
	CHECK_INT(store_national_apply(st, &r, now, &id), STORE_NAT_CREATED);
	CHECK_INT(rows("1"), 1);
	store_close(st);
out:
	memcpy(path, saved, sizeof(path));
	free(t);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test-forward.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/soc.db", dir);
	test_outbox();
	test_layer4();
	test_cef();
	test_prune();
	test_middle_tier();
	cleanup();
	return check_done();
}
