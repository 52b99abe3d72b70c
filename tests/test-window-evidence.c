/*
 * A correlation incident's evidence (issue 9): the events that reached
 * the threshold, through the real ingest against a real SQLite store in
 * a fresh temporary directory, and the ring of window events
 * (correlator/event-ring.c) alone.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "soc-config.h"
#include "soc/event.h"
#include "soc/util.h"
#include "soc/wire.h"
#include "enrich.h"
#include "event-ring.h"
#include "ingest.h"
#include "rules.h"
#include "store.h"
#include "check.h"
#include "fixture.h"

#define MAPPING		SOC_SRCDIR "/rules/mapping.yml"
#define T0	(1700000000LL * 1000000000LL)

static char	 dir[64];
static char	 dbpath[128];
static int	 evn;		/* events made so far: message "... n=<evn>" */
static uint64_t	 seqs[2];	/* next batch number of s1, s2 */

static void
on_rule_err(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "rules: %s\n", msg);
}

/* A text result from a second connection (it sees only what is committed). */
static const char *
raw_text(const char *sql)
{
	static char out[4096];
	sqlite3 *db;
	sqlite3_stmt *s;

	snprintf(out, sizeof(out), "(error)");
	if (sqlite3_open(dbpath, &db) != SQLITE_OK)
		return out;
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			snprintf(out, sizeof(out), "%s", sqlite3_column_text(s, 0) ?
			    (const char *)sqlite3_column_text(s, 0) : "(null)");
		sqlite3_finalize(s);
	} else
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
	return out;
}

static long long
raw_int(const char *sql)
{
	return strtoll(raw_text(sql), NULL, 10);
}

static void
no_reply(void *arg, const struct ingest_reply *r)
{
	(*(int *)arg)++;
	(void)r;
}

static int
feed(struct ingest *in, int sensor, const struct soc_wbuf *b)
{
	const char *name = sensor ? "s2" : "s1";

	return ingest_message(in, name, name, 2, b->data, b->len);
}

/*
 * A brute force (a correlation of 8 failed logins by source address)
 * whose events come in several groups, from two sensors of the agency,
 * mixed with another address's and with events no rule matches: its
 * incident's first evidence rows are the 8 events that reached the
 * threshold, oldest first, then the later one.
 */
static const char window_yml[] =
	"title: window base\n"
	"id: 66666666-6666-4666-8666-666666666666\n"
	"name: window_base\n"
	"level: low\n"
	"logsource:\n  product: linux\n  service: sshd\n"
	"detection:\n  sel:\n    message|contains: BFAIL\n  condition: sel\n"
	"---\n"
	"title: window brute force\n"
	"id: 77777777-7777-4777-8777-777777777777\n"
	"level: high\n"
	"correlation:\n  type: event_count\n  rules:\n    - window_base\n"
	"  group-by:\n    - source.ip\n  timespan: 1h\n  condition:\n    gte: 8\n";

/* n events of ip (source.port port, port + 1, ...), marker in the message. */
static void
add_logins(struct soc_wbuf *b, int n, const char *marker, const char *ip,
    int port)
{
	static struct soc_event ev;
	struct soc_ip a;
	char msg[64];

	for (int i = 0; i < n; i++, evn++) {
		soc_event_reset(&ev);
		ev.ts = T0 + evn * 1000LL;
		soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "log.sshd");
		snprintf(msg, sizeof(msg), "%s n=%d", marker, evn);
		soc_event_set_cstr(&ev, SOC_F_MESSAGE, msg);
		soc_ip_parse(ip, strlen(ip), &a);
		soc_event_set_ip(&ev, SOC_F_SOURCE_IP, &a);
		soc_event_set_int(&ev, SOC_F_SOURCE_PORT, port + i);
		if (soc_wire_add_event(b, &ev) == -1)
			abort();
	}
}

static void
feed_group(struct ingest *in, int sensor, struct soc_wbuf *b)
{
	int replies = 0;

	soc_wire_set_prev(b->data, b->len, seqs[sensor] - 1);
	ingest_group_begin(in);
	CHECK_INT(feed(in, sensor, b), INGEST_APPLY);
	CHECK_INT(ingest_group_end(in, no_reply, &replies), 0);
	CHECK_INT(replies, 1);
}

static void
test_window_evidence(struct store *st, struct enrich *en, struct soc_wbuf *b)
{
	struct rs_scratch *sc;
	struct ruleset *rs;
	struct ingest *in;
	const char *dirs[1];
	char path[192];
	size_t nerr = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/window", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/window/bf.yml", dir);
	if ((f = fopen(path, "w")) == NULL) {
		CHECK(f != NULL);
		return;
	}
	fputs(window_yml, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/window", dir);
	dirs[0] = path;
	rs = ruleset_load(dirs, 1, MAPPING, on_rule_err, NULL, &nerr);
	if (rs == NULL || nerr != 0 || (sc = rs_scratch_new(rs)) == NULL) {
		CHECK(rs != NULL && nerr == 0);
		return;
	}
	if ((in = ingest_new(st, rs, sc, en)) == NULL)
		abort();
	soc_wire_begin(b, SOC_WIRE_EVENTS, ++seqs[0]);
	add_logins(b, 3, "BFAIL", "10.0.0.1", 40001);
	add_logins(b, 2, "BFAIL", "10.0.0.2", 50001);
	feed_group(in, 0, b);
	soc_wire_begin(b, SOC_WIRE_EVENTS, ++seqs[1]);	/* the other sensor */
	add_logins(b, 2, "NOISE", "10.0.0.1", 60001);
	add_logins(b, 3, "BFAIL", "10.0.0.1", 40004);
	add_logins(b, 5, "BFAIL", "10.0.0.2", 50003);
	feed_group(in, 1, b);
	CHECK_INT(raw_int("SELECT count(*) FROM incidents WHERE group_key ="
	    " 'source.ip=10.0.0.1'"), 0);
	soc_wire_begin(b, SOC_WIRE_EVENTS, ++seqs[0]);
	add_logins(b, 1, "NOISE", "10.0.0.1", 60003);
	add_logins(b, 2, "BFAIL", "10.0.0.1", 40007);	/* the 8th: 40008 */
	feed_group(in, 0, b);
	soc_wire_begin(b, SOC_WIRE_EVENTS, ++seqs[0]);
	add_logins(b, 1, "BFAIL", "10.0.0.1", 40009);
	feed_group(in, 0, b);

	CHECK_INT(raw_int("SELECT count FROM incidents WHERE group_key ="
	    " 'source.ip=10.0.0.1'"), 9);
	CHECK_STR(raw_text("SELECT group_concat(seq || ':' || json_extract("
	    "event_json, '$.source.port') || '/' || json_extract(event_json,"
	    " '$.observer.name'), ',') FROM (SELECT e.* FROM evidence e JOIN"
	    " incidents i ON i.id = e.incident_id WHERE i.group_key ="
	    " 'source.ip=10.0.0.1' ORDER BY e.seq)"),
	    "0:40001/s1,1:40002/s1,2:40003/s1,3:40004/s2,4:40005/s2,"
	    "5:40006/s2,6:40007/s1,7:40008/s1,8:40009/s1");
	/* the other address: 7 events, no incident */
	CHECK_INT(raw_int("SELECT count(*) FROM incidents WHERE group_key ="
	    " 'source.ip=10.0.0.2'"), 0);

	ingest_free(in);
	rs_scratch_free(sc);
	ruleset_free(rs);
}

/*
 * The ring of window events: found by number, gone once written over
 * (the arena wrapped past it) or once a later number took its slot.
 */
static void
test_evring(void)
{
	struct evring *r = evring_new(64, 4096);	/* blobs up to 1024 */
	char blob[600];
	const char *p;
	size_t len = 0;

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK(evring_get(r, 0, &len) == NULL);
	memset(blob, 'a', sizeof(blob));
	evring_put(r, 10, "s1", 3, blob, 500);
	p = evring_get(r, 10, &len);
	CHECK(p != NULL && len == 503 && strcmp(p, "s1") == 0 && p[3] == 'a');
	evring_put(r, 11, "", 0, blob, 2000);	/* too large: not kept */
	CHECK(evring_get(r, 11, &len) == NULL);
	CHECK(evring_get(r, 10, &len) != NULL);
	evring_put(r, 74, "", 0, blob, 10);	/* 10's slot */
	CHECK(evring_get(r, 10, &len) == NULL);
	CHECK(evring_get(r, 74, &len) != NULL && len == 10);
	for (uint64_t n = 20; n < 27; n++) {	/* 7 x 600: past 4096 */
		memset(blob, (int)('a' + n - 20), sizeof(blob));
		evring_put(r, n, "", 0, blob, sizeof(blob));
	}
	CHECK(evring_get(r, 74, &len) == NULL);	/* written over */
	CHECK(evring_get(r, 21, &len) == NULL);
	CHECK(evring_get(r, 22, &len) != NULL);
	p = evring_get(r, 26, &len);
	CHECK(p != NULL && len == 600 && p[0] == 'g' && p[599] == 'g');
	p = evring_get(r, 25, &len);
	CHECK(p != NULL && p[0] == 'f' && p[599] == 'f');
	evring_free(r);
}

int
main(void)
{
	struct store *st;
	struct enrich *en;
	struct soc_wbuf b;
	char err[256];

	test_evring();
	snprintf(dir, sizeof(dir), "/tmp/test-window-evidence.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/soc.db", dir);
	if ((en = enrich_open(NULL, NULL, err, sizeof(err))) == NULL ||
	    (st = store_open(dbpath, STORE_CREATE, err, sizeof(err))) == NULL) {
		fprintf(stderr, "setup: %s\n", err);
		return 1;
	}
	if (store_agency_add(st, "ag1", "Agency 1", "", T0) == -1 ||
	    store_sensor_enroll(st, "s1", "ag1", KEY_A, T0) == -1 ||
	    store_sensor_enroll(st, "s2", "ag1", KEY_B, T0) == -1) {
		fprintf(stderr, "setup: %s\n", store_errmsg(st));
		return 1;
	}
	soc_wbuf_init(&b);
	test_window_evidence(st, en, &b);
	soc_wbuf_free(&b);
	store_close(st);
	enrich_close(en);
	fx_rmtree(dir);
	return check_done();
}
