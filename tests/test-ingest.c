/*
 * Ingest tests: the exactly-once protocol without a daemon or a socket.
 * First every branch of the pure decision (chain check, duplicate, gap,
 * refusal), including sequence numbers at and near 2^64-1.  Then the real
 * ingest against a real SQLite store in a fresh temporary directory and a
 * one-rule set, fed with batches from the real encoder: apply, resends
 * (alone and inside the same group), gap and NACK, malformed batches,
 * unknown senders, heartbeats, a batch whose savepoint fails (a trigger
 * that RAISEs) retried and, after INGEST_POISON_TRIES, skipped and counted,
 * and a commit that fails (file size limit: the WAL cannot grow) with no
 * reply at all.  Every reply is checked, when it is handed out, against
 * what a second connection sees committed: acks only after the commit.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ftw.h>

#include <sqlite3.h>

#include "soc-config.h"
#include "soc/event.h"
#include "soc/util.h"
#include "soc/wire.h"
#include "enrich.h"
#include "ingest.h"
#include "rules.h"
#include "store.h"
#include "check.h"

#define MAPPING		SOC_SRCDIR "/rules/mapping.yml"
#define KEY_A	"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
#define KEY_B	"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
#define KEY_C	"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
#define MAX	UINT64_MAX
#define T0	(1700000000LL * 1000000000LL)

static const char rule_yml[] =
	"title: evil marker\n"
	"id: 22222222-2222-4222-8222-222222222222\n"
	"level: high\n"
	"logsource:\n  product: linux\n  service: sshd\n"
	"detection:\n  sel:\n    message|contains: EVIL\n  condition: sel\n";

static char	 dir[64];
static char	 dbpath[128];

/* ---- the decision ---- */

static enum ingest_verdict
decide(uint64_t last, int kind, uint64_t seq, uint64_t prev)
{
	struct soc_wire_hdr h = { SOC_WIRE_VERSION, (uint8_t)kind, seq, 1, prev };

	return ingest_decide(last, &h);
}

static void
test_decide(void)
{
	static const struct {
		uint64_t	last, seq, prev;
		int		kind;
		enum ingest_verdict want;
	} t[] = {
		/* first batch of a new sensor */
		{ 0, 1, 0, SOC_WIRE_EVENTS, INGEST_APPLY },
		{ 0, 0, 0, SOC_WIRE_EVENTS, INGEST_DUPLICATE },
		{ 0, 2, 1, SOC_WIRE_EVENTS, INGEST_GAP },
		/* in chain order, or prev 0: nothing known outstanding */
		{ 10, 11, 10, SOC_WIRE_EVENTS, INGEST_APPLY },
		{ 10, 11, 0, SOC_WIRE_EVENTS, INGEST_APPLY },
		{ 10, 1000, 0, SOC_WIRE_EVENTS, INGEST_APPLY },
		/* prev below last: the sensor's spool dropped batches */
		{ 10, 20, 5, SOC_WIRE_EVENTS, INGEST_APPLY },
		{ 10, 11, 1, SOC_WIRE_EVENTS, INGEST_APPLY },
		/* resends: at or below last, whatever prev says */
		{ 10, 10, 9, SOC_WIRE_EVENTS, INGEST_DUPLICATE },
		{ 10, 9, 0, SOC_WIRE_EVENTS, INGEST_DUPLICATE },
		{ 10, 0, 0, SOC_WIRE_EVENTS, INGEST_DUPLICATE },
		{ 10, 5, 11, SOC_WIRE_EVENTS, INGEST_DUPLICATE },
		{ 10, 10, MAX, SOC_WIRE_EVENTS, INGEST_DUPLICATE },
		/* a missing predecessor: one past last is already a gap */
		{ 10, 12, 11, SOC_WIRE_EVENTS, INGEST_GAP },
		{ 10, 13, 12, SOC_WIRE_EVENTS, INGEST_GAP },
		{ 10, MAX, MAX - 1, SOC_WIRE_EVENTS, INGEST_GAP },
		/* heartbeats are not chained: seq and prev do not matter */
		{ 10, 0, 0, SOC_WIRE_HEARTBEAT, INGEST_APPLY },
		{ 10, 5, 99, SOC_WIRE_HEARTBEAT, INGEST_APPLY },
		{ MAX, MAX, MAX, SOC_WIRE_HEARTBEAT, INGEST_APPLY },
		/* at and near 2^64-1 */
		{ MAX - 1, MAX, MAX - 1, SOC_WIRE_EVENTS, INGEST_APPLY },
		{ MAX - 1, MAX, 0, SOC_WIRE_EVENTS, INGEST_APPLY },
		{ MAX - 1, MAX, MAX, SOC_WIRE_EVENTS, INGEST_GAP },
		{ MAX - 1, MAX - 1, MAX - 2, SOC_WIRE_EVENTS, INGEST_DUPLICATE },
		{ MAX - 2, MAX - 1, MAX - 2, SOC_WIRE_EVENTS, INGEST_APPLY },
		{ MAX - 2, MAX, MAX - 1, SOC_WIRE_EVENTS, INGEST_GAP },
		{ MAX, MAX, MAX, SOC_WIRE_EVENTS, INGEST_DUPLICATE },
		{ MAX, MAX, 0, SOC_WIRE_EVENTS, INGEST_DUPLICATE },
		{ MAX, MAX - 1, MAX - 2, SOC_WIRE_EVENTS, INGEST_DUPLICATE },
		{ MAX, 0, 0, SOC_WIRE_EVENTS, INGEST_DUPLICATE },
		{ MAX, 1, 0, SOC_WIRE_EVENTS, INGEST_DUPLICATE },
		{ 0, MAX, MAX, SOC_WIRE_EVENTS, INGEST_GAP },
		{ 0, MAX, MAX - 1, SOC_WIRE_EVENTS, INGEST_GAP },
		/* implausibly far ahead (issue 11; test_seq_ahead) */
		{ 0, MAX, 0, SOC_WIRE_EVENTS, INGEST_IMPLAUSIBLE },
		{ 10, MAX, 10, SOC_WIRE_EVENTS, INGEST_IMPLAUSIBLE },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum ingest_verdict v = decide(t[i].last, t[i].kind, t[i].seq,
		    t[i].prev);

		if (v != t[i].want)
			fprintf(stderr, "case %zu: last %llu seq %llu prev %llu "
			    "kind %d: %s, want %s\n", i,
			    (unsigned long long)t[i].last,
			    (unsigned long long)t[i].seq,
			    (unsigned long long)t[i].prev, t[i].kind,
			    ingest_verdict_name(v), ingest_verdict_name(t[i].want));
		CHECK(v == t[i].want);
	}
	CHECK(ingest_decide(0, NULL) == INGEST_REFUSE);
	CHECK(ingest_decide(MAX, NULL) == INGEST_REFUSE);
	CHECK_STR(ingest_verdict_name(INGEST_APPLY), "apply");
	CHECK_STR(ingest_verdict_name(INGEST_DUPLICATE), "duplicate");
	CHECK_STR(ingest_verdict_name(INGEST_GAP), "gap");
	CHECK_STR(ingest_verdict_name(INGEST_REFUSE), "refuse");
}

/* ---- the real ingest ---- */

static void
on_rule_err(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "rules: %s\n", msg);
}

static long long
raw_int(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* One integer from a second connection: it sees only what is committed. */
static long long
raw_int(const char *fmt, ...)
{
	char sql[512];
	va_list ap;
	sqlite3 *db;
	sqlite3_stmt *s;
	long long v = -999;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	if (sqlite3_open(dbpath, &db) != SQLITE_OK)
		return v;
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	} else
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
	return v;
}

static int
raw_exec(const char *sql)
{
	sqlite3 *db;
	int rc;

	if (sqlite3_open(dbpath, &db) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
	return rc;
}

static long long
seq_of(const char *sensor)
{
	return raw_int("SELECT last_seq FROM sensors WHERE name = '%s'", sensor);
}

static long long
events_of(const char *sensor)
{
	return raw_int("SELECT events_received FROM sensors WHERE name = '%s'", sensor);
}

/* Events behind incidents: each matching event counts once. */
static long long
hits(void)
{
	return raw_int("SELECT coalesce(sum(count), 0) FROM incidents");
}

/* The replies of one group, as handed out after the commit. */
struct got {
	int		n;
	char		peer[8][32];
	uint64_t	seq[8];
	int		kind[8];
	int		uncommitted;	/* replies the DB did not yet back */
};

static void
on_reply(void *arg, const struct ingest_reply *r)
{
	struct got *g = arg;
	char peer[32];
	long long last;

	snprintf(peer, sizeof(peer), "%.*s", (int)r->peerlen, (const char *)r->peer);
	/* peers are named after their sensors: "s1" replies go to "s1" */
	last = seq_of(peer);
	if (r->kind == SOC_WIRE_ACK ? (uint64_t)last < r->seq :
	    (uint64_t)last != r->seq) {
		fprintf(stderr, "reply %s %llu to %s before the store has it "
		    "(committed %lld)\n", r->kind ? "NACK" : "ACK",
		    (unsigned long long)r->seq, peer, last);
		g->uncommitted++;
	}
	if (g->n < 8) {
		snprintf(g->peer[g->n], sizeof(g->peer[0]), "%s", peer);
		g->seq[g->n] = r->seq;
		g->kind[g->n] = r->kind;
	}
	g->n++;
}

/* A batch of n events, the first nevil of them carrying the marker. */
static void
make_batch(struct soc_wbuf *b, uint64_t seq, uint64_t prev, int n, int nevil)
{
	static struct soc_event ev;
	char msg[64];
	int i;

	soc_wire_begin(b, SOC_WIRE_EVENTS, seq);
	for (i = 0; i < n; i++) {
		soc_event_reset(&ev);
		ev.ts = T0 + i;
		soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "log.sshd");
		snprintf(msg, sizeof(msg), "%s line %d", i < nevil ? "EVIL" : "fine", i);
		soc_event_set_cstr(&ev, SOC_F_MESSAGE, msg);
		/* a forged agency: the stamp from the key must win */
		soc_event_set_cstr(&ev, SOC_F_ORGANIZATION_ID, "forged");
		if (soc_wire_add_event(b, &ev) == -1)
			abort();
	}
	soc_wire_set_prev(b->data, b->len, prev);
}

/* One message from sensor name (its peer has the same name). */
static int
feed(struct ingest *in, const char *name, const struct soc_wbuf *b)
{
	return ingest_message(in, name, name, strlen(name), b->data, b->len);
}

/* A group of one batch; the replies land in g. */
static int
one(struct ingest *in, const char *name, const struct soc_wbuf *b, struct got *g)
{
	int v;

	memset(g, 0, sizeof(*g));
	ingest_group_begin(in);
	v = feed(in, name, b);
	if (ingest_group_end(in, on_reply, g) == -1)
		return -100;
	CHECK_INT(g->uncommitted, 0);
	return v;
}

static int
is_ack(const struct got *g, int i, const char *peer, uint64_t seq)
{
	return g->n > i && g->kind[i] == SOC_WIRE_ACK && g->seq[i] == seq &&
	    strcmp(g->peer[i], peer) == 0;
}

static int
rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
setup(struct store **st, struct ruleset **rs, struct rs_scratch **sc,
    struct enrich **en)
{
	const char *dirs[1];
	char path[192], err[256];
	size_t nerr = 0;
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/test-ingest.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(dbpath, sizeof(dbpath), "%s/soc.db", dir);
	snprintf(path, sizeof(path), "%s/rules", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/rules/evil.yml", dir);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fputs(rule_yml, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/rules", dir);
	dirs[0] = path;
	*rs = ruleset_load(dirs, 1, MAPPING, on_rule_err, NULL, &nerr);
	if (*rs == NULL || nerr != 0 || ruleset_count(*rs) != 1) {
		fprintf(stderr, "the test rule did not load\n");
		exit(1);
	}
	if ((*sc = rs_scratch_new(*rs)) == NULL ||
	    (*en = enrich_open(NULL, NULL, err, sizeof(err))) == NULL ||
	    (*st = store_open(dbpath, STORE_CREATE, err, sizeof(err))) == NULL) {
		fprintf(stderr, "setup: %s\n", err);
		exit(1);
	}
	if (store_agency_add(*st, "ag1", "Agency 1", "", T0) == -1 ||
	    store_agency_add(*st, "ag2", "Agency 2", "", T0) == -1 ||
	    store_sensor_enroll(*st, "s1", "ag1", KEY_A, T0) == -1 ||
	    store_sensor_enroll(*st, "s2", "ag2", KEY_B, T0) == -1 ||
	    store_sensor_enroll(*st, "s3", "ag2", KEY_C, T0) == -1) {
		fprintf(stderr, "setup: %s\n", store_errmsg(*st));
		exit(1);
	}
}

/* Apply, resend alone and within one group, gap and NACK, chain resumed. */
static void
test_chain(struct ingest *in, struct soc_wbuf *b, struct soc_wbuf *b2)
{
	const struct ingest_stats *n = ingest_stats(in);
	struct got g;

	make_batch(b, 100, 0, 3, 2);
	CHECK_INT(one(in, "s1", b, &g), INGEST_APPLY);
	CHECK(g.n == 1 && is_ack(&g, 0, "s1", 100));
	CHECK_INT(seq_of("s1"), 100);
	CHECK_INT(events_of("s1"), 3);
	CHECK_INT(hits(), 2);
	CHECK_INT(raw_int("SELECT count(*) FROM incidents"), 1);
	/* the agency comes from the key, not from the event */
	CHECK_INT(raw_int("SELECT count(*) FROM incidents WHERE agency = 'ag1'"
	    " AND sensor = 's1'"), 1);
	CHECK_INT(n->batches, 1);
	CHECK_INT(n->events, 3);
	CHECK_INT(n->alerts, 2);
	CHECK_INT(n->incidents_new, 1);

	/* resend: acked again, applied once */
	CHECK_INT(one(in, "s1", b, &g), INGEST_DUPLICATE);
	CHECK(g.n == 1 && is_ack(&g, 0, "s1", 100));
	CHECK_INT(events_of("s1"), 3);
	CHECK_INT(hits(), 2);
	CHECK_INT(n->duplicates, 1);
	CHECK_INT(n->events, 3);

	/* a batch and its resend in one group: two acks, one application;
	 * nothing replied before the group commits */
	make_batch(b, 101, 100, 2, 1);
	memset(&g, 0, sizeof(g));
	ingest_group_begin(in);
	CHECK_INT(feed(in, "s1", b), INGEST_APPLY);
	CHECK_INT(feed(in, "s1", b), INGEST_DUPLICATE);
	CHECK_INT(ingest_pending(in), 2);
	CHECK_INT(g.n, 0);
	CHECK_INT(seq_of("s1"), 100);		/* not yet committed */
	CHECK_INT(ingest_group_end(in, on_reply, &g), 0);
	CHECK(g.n == 2 && is_ack(&g, 0, "s1", 101) && is_ack(&g, 1, "s1", 101));
	CHECK_INT(g.uncommitted, 0);
	CHECK_INT(events_of("s1"), 5);
	CHECK_INT(hits(), 3);
	CHECK_INT(n->duplicates, 2);

	/* 102 lost in transit: 103 is answered NACK 101, not applied */
	make_batch(b2, 103, 102, 1, 1);
	CHECK_INT(one(in, "s1", b2, &g), INGEST_GAP);
	CHECK(g.n == 1 && g.kind[0] == SOC_WIRE_NACK && g.seq[0] == 101);
	CHECK_INT(seq_of("s1"), 101);
	CHECK_INT(events_of("s1"), 5);
	CHECK_INT(n->gaps, 1);

	/* the resend from 102 on, in one group */
	make_batch(b, 102, 101, 1, 0);
	memset(&g, 0, sizeof(g));
	ingest_group_begin(in);
	CHECK_INT(feed(in, "s1", b), INGEST_APPLY);
	CHECK_INT(feed(in, "s1", b2), INGEST_APPLY);
	CHECK_INT(ingest_group_end(in, on_reply, &g), 0);
	CHECK(g.n == 2 && is_ack(&g, 0, "s1", 102) && is_ack(&g, 1, "s1", 103));
	CHECK_INT(g.uncommitted, 0);
	CHECK_INT(seq_of("s1"), 103);
	CHECK_INT(events_of("s1"), 7);
	CHECK_INT(hits(), 4);
}

/* Malformed batches, strangers, heartbeats. */
static void
test_refusals(struct ingest *in, struct soc_wbuf *b)
{
	const struct ingest_stats *n = ingest_stats(in);
	static const char junk[] = "this is not a batch at all, not even close";
	struct got g;
	int v;

	/* no usable header: counted, nothing recorded, no reply */
	memset(&g, 0, sizeof(g));
	ingest_group_begin(in);
	v = ingest_message(in, "s1", "s1", 2, junk, sizeof(junk));
	CHECK_INT(v, INGEST_REFUSE);
	CHECK_INT(ingest_group_end(in, on_reply, &g), 0);
	CHECK_INT(g.n, 0);
	CHECK_INT(n->refused, 1);
	CHECK_INT(seq_of("s1"), 103);

	/* a good header over a cut body: refused whole, recorded and acked
	 * so the sensor moves on, nothing of it applied */
	make_batch(b, 104, 103, 3, 3);
	b->len -= 5;
	CHECK_INT(one(in, "s1", b, &g), INGEST_REFUSE);
	CHECK(g.n == 1 && is_ack(&g, 0, "s1", 104));
	CHECK_INT(n->refused, 2);
	CHECK_INT(seq_of("s1"), 104);
	CHECK_INT(events_of("s1"), 7);
	CHECK_INT(hits(), 4);

	/* a cut body behind a missing batch is a gap first: never acked
	 * past the hole */
	make_batch(b, 106, 105, 3, 3);
	b->len -= 5;
	CHECK_INT(one(in, "s1", b, &g), INGEST_GAP);
	CHECK(g.n == 1 && g.kind[0] == SOC_WIRE_NACK && g.seq[0] == 104);
	CHECK_INT(seq_of("s1"), 104);

	/* unknown or unauthenticated sender: ignored, counted */
	make_batch(b, 1, 0, 1, 1);
	CHECK_INT(one(in, "nobody", b, &g), -1);
	CHECK_INT(g.n, 0);
	memset(&g, 0, sizeof(g));
	ingest_group_begin(in);
	CHECK_INT(ingest_message(in, NULL, "x", 1, b->data, b->len), -1);
	CHECK_INT(ingest_group_end(in, on_reply, &g), 0);
	CHECK_INT(g.n, 0);
	CHECK_INT(n->unknown_peer, 2);
	CHECK_INT(hits(), 4);

	/* a heartbeat: stored, not chained, not acked */
	soc_wire_begin(b, SOC_WIRE_HEARTBEAT, 0);
	soc_wire_add_counter(b, "packets", 42);
	CHECK_INT(one(in, "s1", b, &g), INGEST_APPLY);
	CHECK_INT(g.n, 0);
	CHECK_INT(n->heartbeats, 1);
	CHECK(raw_int("SELECT last_heartbeat FROM sensors WHERE name = 's1'") > 0);
	CHECK_INT(raw_int("SELECT json_extract(counters, '$.packets') FROM sensors"
	    " WHERE name = 's1'"), 42);
	CHECK_INT(seq_of("s1"), 104);
}

/* Any incident work for sensor s2 fails, whether it opens or updates one. */
#define FAIL_S2	"CREATE TRIGGER fail_s2 BEFORE INSERT ON incidents" \
		" WHEN NEW.sensor = 's2' BEGIN SELECT RAISE(ABORT, 'test'); END;" \
		"CREATE TRIGGER fail_s2u BEFORE UPDATE ON incidents" \
		" WHEN NEW.sensor = 's2' BEGIN SELECT RAISE(ABORT, 'test'); END"
#define UNFAIL_S2 "DROP TRIGGER fail_s2; DROP TRIGGER fail_s2u"

/*
 * A batch whose savepoint fails: undone alone (the other sensor's batch
 * in the same group commits), not acked, applied once when it succeeds;
 * one that fails INGEST_POISON_TRIES times is skipped and counted.
 */
static void
test_failures(struct ingest *in, struct soc_wbuf *b, struct soc_wbuf *b2)
{
	const struct ingest_stats *n = ingest_stats(in);
	struct got g;
	int i;

	CHECK_INT(raw_exec(FAIL_S2), SQLITE_OK);
	make_batch(b, 105, 104, 1, 1);
	make_batch(b2, 1, 0, 2, 2);
	memset(&g, 0, sizeof(g));
	ingest_group_begin(in);
	CHECK_INT(feed(in, "s1", b), INGEST_APPLY);
	CHECK_INT(feed(in, "s2", b2), INGEST_APPLY);
	CHECK_INT(ingest_group_end(in, on_reply, &g), 0);
	CHECK(g.n == 1 && is_ack(&g, 0, "s1", 105));
	CHECK_INT(g.uncommitted, 0);
	CHECK_INT(seq_of("s1"), 105);
	CHECK_INT(seq_of("s2"), 0);
	CHECK_INT(events_of("s2"), 0);
	CHECK_INT(raw_int("SELECT count(*) FROM incidents WHERE sensor = 's2'"), 0);
	CHECK_INT(n->commit_failed, 1);

	/* retried: still failing, still not acked */
	CHECK_INT(one(in, "s2", b2, &g), INGEST_APPLY);
	CHECK_INT(g.n, 0);
	CHECK_INT(n->commit_failed, 2);
	CHECK_INT(n->skipped, 0);
	/* the cause goes away: applied once, acked */
	CHECK_INT(raw_exec(UNFAIL_S2), SQLITE_OK);
	CHECK_INT(one(in, "s2", b2, &g), INGEST_APPLY);
	CHECK(g.n == 1 && is_ack(&g, 0, "s2", 1));
	CHECK_INT(seq_of("s2"), 1);
	CHECK_INT(events_of("s2"), 2);
	CHECK_INT(raw_int("SELECT sum(count) FROM incidents WHERE sensor = 's2'"), 2);

	/* poison: four failures unacked, the fifth skips it, acked */
	CHECK_INT(raw_exec(FAIL_S2), SQLITE_OK);
	make_batch(b2, 2, 1, 1, 1);
	for (i = 1; i < INGEST_POISON_TRIES; i++) {
		CHECK_INT(one(in, "s2", b2, &g), INGEST_APPLY);
		CHECK_INT(g.n, 0);
		CHECK_INT(n->skipped, 0);
		CHECK_INT(seq_of("s2"), 1);
	}
	CHECK_INT(one(in, "s2", b2, &g), INGEST_APPLY);
	CHECK(g.n == 1 && is_ack(&g, 0, "s2", 2));
	CHECK_INT(n->skipped, 1);
	CHECK_INT(seq_of("s2"), 2);
	CHECK_INT(events_of("s2"), 2);		/* recorded, nothing of it applied */
	CHECK_INT(raw_int("SELECT sum(count) FROM incidents WHERE sensor = 's2'"), 2);
	/* and the chain goes on behind it */
	CHECK_INT(raw_exec(UNFAIL_S2), SQLITE_OK);
	make_batch(b2, 3, 2, 1, 1);
	CHECK_INT(one(in, "s2", b2, &g), INGEST_APPLY);
	CHECK(g.n == 1 && is_ack(&g, 0, "s2", 3));
	CHECK_INT(events_of("s2"), 3);
}

/*
 * A commit that fails: the WAL is emptied and the file size limit set to
 * zero, so the commit cannot write it (as on a full disk).  Nothing is
 * replied, nothing is applied; the resend is applied once.
 */
static void
test_commit_failure(struct ingest *in, struct soc_wbuf *b)
{
	const struct ingest_stats *n = ingest_stats(in);
	struct rlimit old, lim;
	struct got g;
	uint64_t failed = n->commit_failed;
	long long ev = events_of("s1"), h = hits();
	int rc;

	CHECK_INT(raw_exec("PRAGMA wal_checkpoint(TRUNCATE)"), SQLITE_OK);
	make_batch(b, 106, 105, 2, 2);
	memset(&g, 0, sizeof(g));
	ingest_group_begin(in);
	CHECK_INT(feed(in, "s1", b), INGEST_APPLY);
	CHECK_INT(ingest_pending(in), 1);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 0;
	setrlimit(RLIMIT_FSIZE, &lim);
	rc = ingest_group_end(in, on_reply, &g);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	CHECK_INT(rc, -1);
	CHECK_INT(g.n, 0);
	CHECK_INT(ingest_pending(in), 0);
	CHECK_INT(n->commit_failed, failed + 1);
	CHECK_INT(seq_of("s1"), 105);
	CHECK_INT(events_of("s1"), ev);
	CHECK_INT(hits(), h);

	/* the sensor resends: applied once */
	CHECK_INT(one(in, "s1", b, &g), INGEST_APPLY);
	CHECK(g.n == 1 && is_ack(&g, 0, "s1", 106));
	CHECK_INT(seq_of("s1"), 106);
	CHECK_INT(events_of("s1"), ev + 2);
	CHECK_INT(hits(), h + 2);
}

/* Numbers at the top of the range survive the store and the decision. */
static void
test_top_of_range(struct ingest *in, struct soc_wbuf *b)
{
	struct got g;

	/* a chain already up there (a number far ahead is refused
	 * otherwise, see test_seq_ahead) */
	raw_exec("UPDATE sensors SET last_seq = -3 WHERE name = 's3'");
	make_batch(b, MAX - 1, 0, 1, 0);
	CHECK_INT(one(in, "s3", b, &g), INGEST_APPLY);
	CHECK(g.n == 1 && is_ack(&g, 0, "s3", MAX - 1));
	make_batch(b, MAX, MAX - 1, 1, 0);
	CHECK_INT(one(in, "s3", b, &g), INGEST_APPLY);
	CHECK(g.n == 1 && is_ack(&g, 0, "s3", MAX));
	CHECK_INT(seq_of("s3"), -1);		/* stored as the same 64 bits */
	CHECK_INT(events_of("s3"), 2);
	/* every later batch is a resend: `socctl sensor reset-seq` mends it */
	make_batch(b, 5, 0, 1, 0);
	CHECK_INT(one(in, "s3", b, &g), INGEST_DUPLICATE);
	CHECK(g.n == 1 && is_ack(&g, 0, "s3", 5));
	CHECK_INT(events_of("s3"), 2);
}

/*
 * Issue 11 item 1: a number implausibly far ahead (near 2^64, from a
 * stolen key or a clock jump) is refused, counted and not replied to, so
 * it cannot turn every later batch of its sensor into a "resend".
 */
#define KEY_D	"e7P5Ty^wJ9QeyEp&Kfa5Db6Wv[&kF@x.vl.!jG/N"

static void
test_seq_ahead(struct ingest *in, struct store *st, struct soc_wbuf *b)
{
	uint64_t now_us = (uint64_t)soc_now_ns() / 1000;
	const struct ingest_stats *n = ingest_stats(in);
	uint64_t implausible = n->implausible, now = 1700000000000000ULL;
	struct soc_wire_hdr h = { SOC_WIRE_VERSION, SOC_WIRE_EVENTS, 0, 1, 0 };
	struct got g;
	int v;

	/* the bounds: 2^40 us past our clock, or a small step past last */
	h.seq = now + (1ULL << 40);
	CHECK_INT(ingest_decide_at(0, &h, now), INGEST_APPLY);
	h.seq++;
	CHECK_INT(ingest_decide_at(0, &h, now), INGEST_IMPLAUSIBLE);
	CHECK_INT(ingest_decide_at(h.seq - (1 << 20), &h, now), INGEST_APPLY);
	CHECK_INT(ingest_decide_at(h.seq - (1 << 20) - 1, &h, now),
	    INGEST_IMPLAUSIBLE);
	h.seq = MAX;
	CHECK_INT(ingest_decide_at(now, &h, now), INGEST_IMPLAUSIBLE);
	CHECK_INT(ingest_decide_at(MAX - 5, &h, now), INGEST_APPLY);
	CHECK_STR(ingest_verdict_name(INGEST_IMPLAUSIBLE), "implausible");

	if (store_sensor_enroll(st, "s4", "ag1", KEY_D, T0) == -1) {
		fprintf(stderr, "enroll s4: %s\n", store_errmsg(st));
		CHECK(0);
		return;
	}
	make_batch(b, MAX - 1, 0, 1, 0);
	v = one(in, "s4", b, &g);
	CHECK(v != INGEST_APPLY);
	CHECK_INT(v, INGEST_IMPLAUSIBLE);
	CHECK(n->implausible == implausible + 1);
	CHECK_INT(g.n, 0);			/* no ack: nothing taken */
	CHECK_INT(seq_of("s4"), 0);
	/* the sensor's real numbers (its clock in microseconds) go on */
	make_batch(b, now_us, 0, 2, 0);
	CHECK_INT(one(in, "s4", b, &g), INGEST_APPLY);
	CHECK(g.n == 1 && is_ack(&g, 0, "s4", now_us));
	CHECK_INT(events_of("s4"), 2);
	make_batch(b, now_us + 1, now_us, 1, 0);
	CHECK_INT(one(in, "s4", b, &g), INGEST_APPLY);
	CHECK_INT(events_of("s4"), 3);
}

int
main(void)
{
	struct store *st;
	struct ruleset *rs;
	struct rs_scratch *sc;
	struct enrich *en;
	struct ingest *in;
	struct soc_wbuf b, b2;

	test_decide();

	setup(&st, &rs, &sc, &en);
	if ((in = ingest_new(st, rs, sc, en)) == NULL)
		abort();
	soc_wbuf_init(&b);
	soc_wbuf_init(&b2);
	test_chain(in, &b, &b2);
	test_refusals(in, &b);
	test_failures(in, &b, &b2);
	test_commit_failure(in, &b);
	test_top_of_range(in, &b);
	test_seq_ahead(in, st, &b);

	soc_wbuf_free(&b);
	soc_wbuf_free(&b2);
	ingest_free(in);
	store_close(st);
	rs_scratch_free(sc);
	ruleset_free(rs);
	enrich_close(en);
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	return check_done();
}
