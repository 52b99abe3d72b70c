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
 *
 * Then the national role: alert batches from an enrolled province key
 * (applied once, duplicates, gaps, revision order, agency from the key,
 * a refused record counted, a malformed batch, a revoked key) and the
 * migration of a schema-1 database.  Over 900 lines on purpose: that
 * part mirrors the chain tests and needs their harness (the real store,
 * replies checked against a second connection); a second file would
 * copy it.
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

#include <sqlite3.h>

#include "soc-config.h"
#include "soc/event.h"
#include "soc/util.h"
#include "soc/wire.h"
#include "alert.h"
#include "enrich.h"
#include "ingest.h"
#include "rules.h"
#include "store.h"
#include "check.h"
#include "fixture.h"

#define raw_exec(sql)	fx_sql_exec(dbpath, sql)
#define raw_int(...)	fx_sql_int(dbpath, __VA_ARGS__)
#include "schema-down.h"

#define MAPPING		SOC_SRCDIR "/rules/mapping.yml"
#define KEY_P	"E/4]B1E4L9i:E>{fRVq5L*!AGR2MUf&t@8pH(?0!"
#define MAX	UINT64_MAX
#define T0	(1700000000LL * 1000000000LL)

static const char rule_yml[] =
	"title: evil marker\n"
	"id: 22222222-2222-4222-8222-222222222222\n"
	"level: high\n"
	"tags:\n  - attack.t1110\n  - attack.initial_access\n"
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
	/* the rule's tags are kept on the incident (they are forwarded) */
	CHECK_INT(raw_int("SELECT count(*) FROM incidents WHERE rule_tags ="
	    " 'attack.t1110,attack.initial_access'"), 1);
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
 * Incidents that cannot be written: the sums are written at the group
 * end, so the first such group fails whole (nothing acked, nothing
 * applied).  The groups after it write per batch: the failing batch is
 * undone alone (the other sensor's batch in the same group commits), not
 * acked, applied once when it succeeds; one that fails
 * INGEST_POISON_TRIES times is skipped and counted.
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
	CHECK_INT(ingest_group_end(in, on_reply, &g), -1);
	CHECK_INT(g.n, 0);
	CHECK_INT(seq_of("s1"), 104);
	CHECK_INT(seq_of("s2"), 0);
	CHECK_INT(n->commit_failed, 1);
	/* both resend: now s2's batch is undone alone */
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
	CHECK_INT(n->commit_failed, 2);

	/* retried: still failing, still not acked */
	CHECK_INT(one(in, "s2", b2, &g), INGEST_APPLY);
	CHECK_INT(g.n, 0);
	CHECK_INT(n->commit_failed, 3);
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

/* ---- the national role ---- */

/* One revision of provincial incident inc, claiming agency "ag1". */
static void
make_alert(struct soc_alert *a, int64_t inc, uint64_t rev, uint64_t count,
    int sev, int status)
{
	alert_init(a);
	snprintf(a->origin_name, sizeof(a->origin_name), "claimed-name");
	snprintf(a->origin_agency, sizeof(a->origin_agency), "stttt");
	a->incident_id = inc;
	a->revision = rev;
	snprintf(a->rule_id, sizeof(a->rule_id), "ssh-brute-force");
	snprintf(a->rule_title, sizeof(a->rule_title), "SSH brute force r%llu",
	    (unsigned long long)rev);
	snprintf(a->rule_level, sizeof(a->rule_level), "high");
	snprintf(a->rule_author, sizeof(a->rule_author), "Florian Roth");
	snprintf(a->tags[0], sizeof(a->tags[0]), "attack.t1110");
	a->ntags = 1;
	/* a forged agency: the key's must win */
	snprintf(a->agency, sizeof(a->agency), "ag1");
	snprintf(a->category, sizeof(a->category), "intrusion-attempt");
	snprintf(a->group_key, sizeof(a->group_key), "source.ip=203.0.113.7");
	a->severity = sev;
	a->status = status;
	a->first_seen = T0;
	a->last_seen = T0 + (int64_t)rev * 1000;
	a->count = count;
	a->src_port = 50022;
	if (alert_set_id(a) == -1)
		abort();
}

/* Starts an ALERTS batch; add records with add_alert() or add_blob(). */
static void
alerts_begin(struct soc_wbuf *b, uint64_t seq)
{
	soc_wire_begin(b, SOC_WIRE_ALERTS, seq);
}

static void
add_alert(struct soc_wbuf *b, int64_t inc, uint64_t rev, uint64_t count,
    int sev, int status)
{
	static struct soc_alert a;
	struct soc_sbuf j;

	make_alert(&a, inc, rev, count, sev, status);
	soc_sbuf_init(&j);
	alert_to_json(&a, NULL, &j);
	if (j.oom || soc_wire_add_blob(b, j.data, j.len) == -1)
		abort();
	soc_sbuf_free(&j);
}

static void
add_blob(struct soc_wbuf *b, const char *s)
{
	if (soc_wire_add_blob(b, s, strlen(s)) == -1)
		abort();
}

static long long
nat_int(const char *col, int64_t inc)
{
	return raw_int("SELECT %s FROM incidents WHERE origin_name = 'lamdong-soc'"
	    " AND origin_incident = %lld", col, (long long)inc);
}

/* Batches in chain order: applied once, resends, gaps. */
static void
test_national_chain(struct ingest *in, struct soc_wbuf *b, struct soc_wbuf *b2)
{
	const struct ingest_stats *n = ingest_stats(in);
	struct got g;

	alerts_begin(b, 1);
	add_alert(b, 7, 1, 5, 3, STORE_ST_NEW);
	add_alert(b, 8, 1, 2, 2, STORE_ST_NEW);
	CHECK_INT(one(in, "lamdong-soc", b, &g), INGEST_APPLY);
	CHECK(g.n == 1 && is_ack(&g, 0, "lamdong-soc", 1));
	CHECK_INT(seq_of("lamdong-soc"), 1);
	CHECK_INT(raw_int("SELECT count(*) FROM incidents WHERE origin_name"
	    " IS NOT NULL"), 2);
	CHECK_INT(n->fwd_alerts, 2);
	CHECK_INT(n->fwd_new, 2);
	/* agency and origin name from the key; the rest from the alert */
	CHECK_INT(raw_int("SELECT count(*) FROM incidents WHERE origin_name ="
	    " 'lamdong-soc' AND agency = 'lamdong' AND sensor = 'lamdong-soc'"
	    " AND origin_agency = 'stttt'"), 2);
	CHECK_INT(raw_int("SELECT count(*) FROM incidents WHERE agency = 'ag1'"
	    " AND origin_name IS NOT NULL"), 0);
	CHECK_INT(nat_int("count", 7), 5);
	CHECK_INT(nat_int("severity", 7), 3);
	CHECK_INT(nat_int("origin_revision", 7), 1);
	CHECK_INT(nat_int("rule_tags = 'attack.t1110'", 7), 1);
	CHECK_INT(nat_int("rule_author = 'Florian Roth' AND rule_level = 'high'"
	    " AND group_key = 'source.ip=203.0.113.7' AND status = 'new'", 7), 1);
	/* the evidence row: the alert, tags and category included */
	CHECK_INT(raw_int("SELECT count(*) FROM evidence e JOIN incidents i ON"
	    " i.id = e.incident_id WHERE i.origin_incident = 7"
	    " AND json_extract(e.event_json, '$.tags[0]') = 'attack.t1110'"
	    " AND json_extract(e.event_json, '$.\"soc.incident.category\"')"
	    " = 'intrusion-attempt'"), 1);
	CHECK(raw_int("SELECT last_alert_at FROM sensors WHERE name ="
	    " 'lamdong-soc'") > 0);
	CHECK_INT(raw_int("SELECT last_alert_at FROM sensors WHERE name = 's1'"), 0);

	/* resend: acked again, nothing applied twice */
	CHECK_INT(one(in, "lamdong-soc", b, &g), INGEST_DUPLICATE);
	CHECK(g.n == 1 && is_ack(&g, 0, "lamdong-soc", 1));
	CHECK_INT(n->fwd_alerts, 2);
	CHECK_INT(raw_int("SELECT count(*) FROM incidents WHERE origin_name"
	    " IS NOT NULL"), 2);

	/* 2 lost in transit: 3 is answered NACK 1 */
	alerts_begin(b2, 3);
	add_alert(b2, 7, 2, 6, 3, STORE_ST_NEW);	/* older than 2's */
	add_blob(b2, "{\"event.id\":");		/* refused, counted */
	add_alert(b2, 9, 1, 1, 4, STORE_ST_NEW);
	soc_wire_set_prev(b2->data, b2->len, 2);
	CHECK_INT(one(in, "lamdong-soc", b2, &g), INGEST_GAP);
	CHECK(g.n == 1 && g.kind[0] == SOC_WIRE_NACK && g.seq[0] == 1);
	CHECK_INT(n->fwd_alerts, 2);

	/* revisions 1, 3, 2: the final state is revision 3's */
	alerts_begin(b, 2);
	add_alert(b, 7, 3, 9, 4, STORE_ST_INVESTIGATING);
	soc_wire_set_prev(b->data, b->len, 1);
	CHECK_INT(one(in, "lamdong-soc", b, &g), INGEST_APPLY);
	CHECK(g.n == 1 && is_ack(&g, 0, "lamdong-soc", 2));
	CHECK_INT(n->fwd_updated, 1);
	CHECK_INT(one(in, "lamdong-soc", b2, &g), INGEST_APPLY);
	CHECK(g.n == 1 && is_ack(&g, 0, "lamdong-soc", 3));
	CHECK_INT(n->fwd_stale, 1);
	CHECK_INT(n->fwd_bad, 1);
	CHECK_INT(n->fwd_new, 3);		/* 9, behind the bad record */
	CHECK_INT(nat_int("count", 7), 9);
	CHECK_INT(nat_int("severity", 7), 4);
	CHECK_INT(nat_int("origin_revision", 7), 3);
	CHECK_INT(nat_int("status = 'investigating'", 7), 1);
	CHECK_INT(nat_int("last_seen", 7), T0 + 3000);
	CHECK_INT(nat_int("rule_title = 'SSH brute force r3'", 7), 1);
	CHECK_INT(raw_int("SELECT count(*) FROM evidence e JOIN incidents i ON"
	    " i.id = e.incident_id WHERE i.origin_incident = 7"
	    " AND json_extract(e.event_json, '$.\"soc.alert.revision\"') = 3"), 1);
	CHECK_INT(nat_int("count", 9), 1);
	CHECK_INT(seq_of("lamdong-soc"), 3);
	/* each provincial incident is one national incident, whatever its
	 * rule, agency and group key share with another */
	CHECK_INT(raw_int("SELECT count(*) FROM incidents WHERE origin_name"
	    " IS NOT NULL AND status IN ('new','acknowledged','investigating')"), 3);
	/* the escalation and the status the province set are audited */
	CHECK_INT(raw_int("SELECT count(*) FROM audit a JOIN incidents i ON"
	    " i.id = a.incident_id WHERE i.origin_incident = 7 AND a.action IN"
	    " ('created', 'escalated', 'investigating')"), 3);
}

/* The role of sensor name ("" not fixed yet, "?" no such sensor). */
static const char *
role_of(struct store *st, const char *name)
{
	static struct store_sensor sen;

	if (store_sensor_by_name(st, name, &sen) != 1)
		return "?";
	return sen.role;
}

#define KEY_E	"Pq3mZ8vL0kR7tY2wX9nB4cD6fG1hJ5sA8eU3iO0p"

/*
 * Issue 8 follow-up: a key's role.  s1 sent events first (a sensor),
 * lamdong-soc alerts first (a province): each is refused the other kind
 * of batch, which is counted, recorded and acked so its chain goes on.
 * A key enrolled as a province never becomes a sensor.  A record the
 * store refuses (not the decoder) is counted and the batch goes on.
 */
static void
test_roles(struct store *st, struct ingest *in, struct soc_wbuf *b)
{
	const struct ingest_stats *n = ingest_stats(in);
	uint64_t refused = n->refused, bad = n->fwd_bad;
	long long seq = seq_of("s1");
	struct got g;

	CHECK_STR(role_of(st, "s1"), "sensor");
	CHECK_STR(role_of(st, "lamdong-soc"), "province");
	/* a stolen sensor key forging alerts: nothing stored */
	alerts_begin(b, (uint64_t)seq + 1);
	add_alert(b, 30, 1, 1, 4, STORE_ST_NEW);
	CHECK_INT(one(in, "s1", b, &g), INGEST_APPLY);
	CHECK(g.n == 1 && is_ack(&g, 0, "s1", (uint64_t)seq + 1));
	CHECK_INT(seq_of("s1"), seq + 1);
	CHECK_INT(n->refused, refused + 1);
	CHECK_INT(raw_int("SELECT count(*) FROM incidents WHERE origin_name ="
	    " 's1' OR origin_incident = 30"), 0);
	CHECK_STR(role_of(st, "s1"), "sensor");

	/* a key enrolled --role province sends events: refused */
	if (store_sensor_enroll(st, "prov2", "lamdong", KEY_E, T0) == -1 ||
	    store_sensor_set_role(st, "prov2", "province", 1) != 1) {
		fprintf(stderr, "prov2: %s\n", store_errmsg(st));
		CHECK(0);
		return;
	}
	CHECK_INT(store_sensor_set_role(st, "prov2", "sensor", 0), 0);
	CHECK_INT(store_sensor_set_role(st, "prov2", "nation", 1), -1);
	make_batch(b, 1, 0, 3, 0);
	CHECK_INT(one(in, "prov2", b, &g), INGEST_APPLY);
	CHECK(g.n == 1 && is_ack(&g, 0, "prov2", 1));
	CHECK_INT(n->refused, refused + 2);
	CHECK_INT(events_of("prov2"), 0);
	CHECK_STR(role_of(st, "prov2"), "province");

	/* a record the store refuses between two good ones: both kept */
	alerts_begin(b, 2);
	add_alert(b, 20, 1, 1, 3, STORE_ST_NEW);
	add_alert(b, 21, 1, (1ULL << 63) + 1, 3, STORE_ST_NEW);
	add_alert(b, 22, 1, 1, 3, STORE_ST_NEW);
	soc_wire_set_prev(b->data, b->len, 1);
	CHECK_INT(one(in, "prov2", b, &g), INGEST_APPLY);
	CHECK(g.n == 1 && is_ack(&g, 0, "prov2", 2));
	CHECK_INT(n->fwd_bad, bad + 1);
	CHECK_INT(raw_int("SELECT count(*) FROM incidents WHERE origin_name ="
	    " 'prov2' AND origin_incident IN (20, 22)"), 2);
	CHECK_INT(raw_int("SELECT count(*) FROM incidents WHERE origin_name ="
	    " 'prov2' AND origin_incident = 21"), 0);
}

/*
 * The same revision again in a new batch, a batch cut short, an analyst's
 * move and the province's next revision.
 */
static void
test_national_more(struct store *st, struct ingest *in, struct soc_wbuf *b)
{
	const struct ingest_stats *n = ingest_stats(in);
	struct store_origin o;
	struct got g;
	int64_t id = nat_int("id", 8);

	alerts_begin(b, 4);
	add_alert(b, 7, 3, 100, 0, STORE_ST_NEW);	/* equal: stale */
	CHECK_INT(one(in, "lamdong-soc", b, &g), INGEST_APPLY);
	CHECK(g.n == 1 && is_ack(&g, 0, "lamdong-soc", 4));
	CHECK_INT(n->fwd_stale, 2);
	CHECK_INT(nat_int("count", 7), 9);

	/* malformed as a whole: refused, recorded and acked, nothing stored */
	alerts_begin(b, 5);
	add_alert(b, 10, 1, 1, 4, STORE_ST_NEW);
	b->len -= 3;
	CHECK_INT(one(in, "lamdong-soc", b, &g), INGEST_REFUSE);
	CHECK(g.n == 1 && is_ack(&g, 0, "lamdong-soc", 5));
	CHECK_INT(seq_of("lamdong-soc"), 5);
	CHECK_INT(nat_int("count(*)", 10), 0);

	/* national analysts work on these incidents as on any other */
	CHECK_INT(store_incident_transition(st, id, STORE_ST_ACKNOWLEDGED,
	    "analyst", NULL, T0), 0);
	CHECK_INT(nat_int("status = 'acknowledged'", 8), 1);
	CHECK_INT(store_incident_origin(st, id, &o), 1);
	CHECK_STR(o.name, "lamdong-soc");
	CHECK_STR(o.agency, "stttt");
	CHECK_INT(o.incident_id, 8);
	CHECK_INT(o.revision, 1);
	CHECK_INT(store_incident_origin(st, raw_int("SELECT min(id) FROM incidents"
	    " WHERE origin_name IS NULL"), &o), 0);
	/* the province resolves it: the national copy follows */
	alerts_begin(b, 6);
	add_alert(b, 8, 2, 2, 2, STORE_ST_RESOLVED);
	CHECK_INT(one(in, "lamdong-soc", b, &g), INGEST_APPLY);
	CHECK_INT(nat_int("status = 'resolved' AND origin_revision = 2", 8), 1);

	/* a revoked province key: nothing decided, nothing stored */
	CHECK_INT(store_sensor_revoke(st, "lamdong-soc", T0), 1);
	alerts_begin(b, 7);
	add_alert(b, 11, 1, 1, 4, STORE_ST_NEW);
	CHECK_INT(one(in, "lamdong-soc", b, &g), -1);
	CHECK_INT(g.n, 0);
	CHECK_INT(nat_int("count(*)", 11), 0);
	CHECK_INT(seq_of("lamdong-soc"), 6);
}

/*
 * A schema-1 database (made by taking the step-2 additions off a fresh
 * one) with a local incident migrates: the incident stays, local
 * aggregation stays unique per key, forwarded rows can be stored.
 */
static void
test_migration(void)
{
	static const char down[] =
		SCHEMA_DOWN_V20 " " SCHEMA_DOWN_V19 " " SCHEMA_DOWN_V18 " " SCHEMA_DOWN_V17 " " SCHEMA_DOWN_V16 " " SCHEMA_DOWN_V15 " " SCHEMA_DOWN_V14 " " SCHEMA_DOWN_V13 " " SCHEMA_DOWN_V12 " " SCHEMA_DOWN_V11 " " SCHEMA_DOWN_V10 " " SCHEMA_DOWN_V9 " " SCHEMA_DOWN_V7 " " SCHEMA_DOWN_V6 " " SCHEMA_DOWN_V5 " " SCHEMA_DOWN_V4
		"DROP INDEX incidents_origin; DROP INDEX incidents_open;"
		"ALTER TABLE incidents DROP COLUMN origin_name;"
		"ALTER TABLE incidents DROP COLUMN origin_agency;"
		"ALTER TABLE incidents DROP COLUMN origin_incident;"
		"ALTER TABLE incidents DROP COLUMN origin_revision;"
		"ALTER TABLE sensors DROP COLUMN last_alert_at;"
		"CREATE UNIQUE INDEX incidents_open ON incidents(rule_id, agency,"
		" group_key) WHERE status IN ('new','acknowledged','investigating');"
		"PRAGMA user_version = 2";	/* the step before the national one */
	struct store_origin_rev r = {
		.origin_name = "p", .agency = "ag1", .origin_agency = "x",
		.origin_incident = 1, .revision = 1, .rule_id = "r",
		.group_key = "k", .first_seen = T0, .last_seen = T0, .count = 1,
	};
	struct store_hit h = {
		.rule_id = "r", .agency = "ag1", .group_key = "k",
		.first_ts = T0, .last_ts = T0, .count = 1,
	};
	char saved[sizeof(dbpath)], err[256];
	struct store *st;
	int64_t id, id2;
	int created;

	memcpy(saved, dbpath, sizeof(saved));
	snprintf(dbpath, sizeof(dbpath), "%s/old.db", dir);
	if ((st = store_open(dbpath, STORE_CREATE, err, sizeof(err))) == NULL ||
	    store_agency_add(st, "ag1", "Agency 1", "", T0) == -1 ||
	    store_incident_hit(st, &h, &id, &created) == -1) {
		fprintf(stderr, "migration setup: %s\n", st ? store_errmsg(st) : err);
		abort();
	}
	store_close(st);
	CHECK_INT(raw_exec(down), SQLITE_OK);
	CHECK_INT(raw_int("PRAGMA user_version"), 2);
	st = store_open(dbpath, 0, err, sizeof(err));
	CHECK(st != NULL);
	if (st == NULL) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	CHECK_INT(raw_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	CHECK_INT(raw_int("SELECT count(*) FROM incidents WHERE origin_name IS NULL"
	    " AND count = 1"), 1);
	/* a forwarded incident on the same key does not collide... */
	CHECK_INT(store_national_apply(st, &r, T0, &id2), STORE_NAT_CREATED);
	CHECK(id2 != id);
	/* ...and a second open local one on the key still does */
	CHECK_INT(raw_exec("INSERT INTO incidents (rule_id, severity, agency,"
	    " group_key, first_seen, last_seen, count, created_at, updated_at)"
	    " VALUES ('r', 1, 'ag1', 'k', 0, 0, 1, 0, 0)"), SQLITE_CONSTRAINT);
	CHECK_INT(raw_exec("INSERT INTO incidents (rule_id, severity, agency,"
	    " group_key, first_seen, last_seen, count, created_at, updated_at)"
	    " VALUES ('r', 1, 'ag1', 'other', 0, 0, 1, 0, 0)"), SQLITE_OK);
	store_close(st);
out:
	memcpy(dbpath, saved, sizeof(saved));
}

static void
test_national(struct store *st, struct ingest *in, struct soc_wbuf *b,
    struct soc_wbuf *b2)
{
	if (store_agency_add(st, "lamdong", "Lâm Đồng", "", T0) == -1 ||
	    store_sensor_enroll(st, "lamdong-soc", "lamdong", KEY_P, T0) == -1) {
		fprintf(stderr, "national setup: %s\n", store_errmsg(st));
		exit(1);
	}
	test_national_chain(in, b, b2);
	test_roles(st, in, b);
	test_national_more(st, in, b);
	test_migration();
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
	test_national(st, in, &b, &b2);
	test_seq_ahead(in, st, &b);

	soc_wbuf_free(&b);
	soc_wbuf_free(&b2);
	ingest_free(in);
	store_close(st);
	rs_scratch_free(sc);
	ruleset_free(rs);
	enrich_close(en);
	fx_rmtree(dir);
	return check_done();
}
