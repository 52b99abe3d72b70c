/*
 * The endpoint inventory, second part (issue 18): a merger that lands
 * while a running correlator holds the old code's entries (the race
 * between `socctl agency merge` and the correlator's next flush), the
 * Defender signature version kept per endpoint, and the entry layout's
 * edge cases (host names past the bytes held in the hot lines, the same
 * name in two agencies).  A real SQLite file; the merger through a
 * second connection, as socctl makes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "endpoints.h"
#include "store.h"
#include "soc/event.h"
#include "soc/util.h"

#define SEC	SOC_NS
#define DEF_CH	"Microsoft-Windows-Windows Defender/Operational"
#define DEF_PR	"Microsoft-Windows-Windows Defender"

static char dir[64];
static struct soc_event ev;

static void
ev_host(const char *host, int64_t ts)
{
	soc_event_reset(&ev);
	ev.ts = ts;
	soc_event_set_cstr(&ev, SOC_F_HOST_HOSTNAME, host);
	soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "log.syslog");
}

static void
defender(const char *host, int id, int64_t ts)
{
	char n[16];

	soc_event_reset(&ev);
	ev.ts = ts;
	soc_event_set_cstr(&ev, SOC_F_WINLOG_COMPUTER, host);
	soc_event_set_cstr(&ev, SOC_F_WINLOG_CHANNEL, DEF_CH);
	soc_event_set_cstr(&ev, SOC_F_WINLOG_PROVIDER, DEF_PR);
	snprintf(n, sizeof(n), "%d", id);
	soc_event_set_cstr(&ev, SOC_F_WINLOG_EVENT_ID, n);
}

/* An EventData value, under the name Winlogbeat gives it. */
static void
data(const char *name, const char *v)
{
	char full[160];
	int f;

	snprintf(full, sizeof(full), "winlog.event_data.%s", name);
	f = soc_field_intern(full, strlen(full));
	CHECK(f != SOC_F_NONE);
	if (f != SOC_F_NONE)
		soc_event_set_cstr(&ev, f, v);
}

static struct store_endpoint got;

static int
take(void *arg, const struct store_endpoint *e)
{
	int *n = arg;

	if (strcmp(e->agency, (const char *)got.agency) == 0) {
		got = *e;
		(*n)++;
	}
	return 0;
}

/* The stored row of (agency, host) into got: 1 found, 0 not. */
static int
row(struct store *st, const char *agency, const char *host)
{
	int n = 0;

	memset(&got, 0, sizeof(got));
	snprintf(got.agency, sizeof(got.agency), "%s", agency);
	if (store_endpoint_foreach(st, NULL, 0, host, take, &n) != 0)
		return -1;
	return n;
}

struct count {
	const char	*agency;
	int		 n;
};

static int
count_cb(void *arg, const struct store_endpoint *e)
{
	struct count *c = arg;

	c->n += strcmp(e->agency, c->agency) == 0;
	return 0;
}

/* Rows of a code, whether or not the agency still exists. */
static int
rows_of(struct store *st, const char *agency)
{
	struct count c = { agency, 0 };

	if (store_endpoint_foreach(st, NULL, 0, NULL, count_cb, &c) != 0)
		return -1;
	return c.n;
}

/* A group's flush and commit, as ingest_group_end() makes them. */
static int
group(struct endpoints *ep, struct store *st)
{
	int rc;

	if (store_begin(st) == -1)
		return -1;
	rc = endpoints_flush(ep, st);
	if (rc == 0 && store_commit(st) == 0) {
		endpoints_committed(ep, 1);
		return 0;
	}
	store_rollback(st);
	endpoints_committed(ep, 0);
	return -1;
}

/*
 * The race: the correlator holds agency mfrom's entries (loaded, and a
 * host that started reporting a moment ago, not yet written); socctl
 * merges mfrom into minto; the moved sensors' next events come under
 * minto; then the correlator's flush (every 2 s) comes before its tick
 * (every 10 s).  Before the fix, that flush wrote mfrom's rows back
 * (the new host under a code that no longer exists, a duplicate of a
 * merged one) and overwrote minto's merged rows with what the
 * correlator saw since the merger (a first-seen of now, the old
 * code's events lost).
 */
static void
test_merge_race(const char *path)
{
	struct store_endpoint_conf c = { 3600 * SEC, 3600 * SEC, 1000, 0.95,
	    7 * 86400 * SEC };
	struct store_endpoint e[3];
	struct store_merge m;
	struct store *st, *ctl;
	struct endpoints *ep;
	int64_t now = soc_now_ns(), day = now / (86400 * SEC);

	st = store_open(path, STORE_CREATE, NULL, 0);
	CHECK(st != NULL);
	if (st == NULL)
		return;
	CHECK(store_agency_add(st, "mfrom", "F", NULL, now) == 0);
	CHECK(store_agency_add(st, "minto", "I", NULL, now) == 0);
	CHECK(store_agency_add(st, "mlast", "L", NULL, now) == 0);
	memset(e, 0, sizeof(e));
	snprintf(e[0].agency, sizeof(e[0].agency), "mfrom");
	snprintf(e[0].host, sizeof(e[0].host), "shared");
	e[0].first_seen = now - 100 * SEC;
	e[0].last_seen = now - 40 * SEC;
	e[0].day = day;
	e[0].day_events = 5;
	snprintf(e[0].engine, sizeof(e[0].engine), "defender");
	snprintf(e[0].av_state, sizeof(e[0].av_state), "healthy");
	e[0].healthy_at = now - 90 * SEC;
	e[1] = e[0];
	snprintf(e[1].host, sizeof(e[1].host), "only-from");
	e[1].first_seen = now - 50 * SEC;
	e[1].day_events = 3;
	e[2] = e[0];
	snprintf(e[2].agency, sizeof(e[2].agency), "minto");
	e[2].first_seen = now - 60 * SEC;
	e[2].last_seen = now - 30 * SEC;
	e[2].day_events = 7;
	CHECK(store_endpoint_put(st, e, 3) == 0);

	ep = endpoints_new(&c);
	CHECK(ep != NULL && endpoints_load(ep, st) == 0);
	if (ep == NULL)
		goto out;
	/* just before the merger: a new host, and one both hold */
	ev_host("fresh", now - 3 * SEC);
	endpoints_event(ep, "mfrom", "gw9", &ev, now - 3 * SEC);
	ev_host("shared", now - 3 * SEC);
	endpoints_event(ep, "mfrom", "gw9", &ev, now - 3 * SEC);

	/* socctl, on its own connection */
	ctl = store_open(path, 0, NULL, 0);
	CHECK(ctl != NULL);
	if (ctl == NULL)
		goto out;
	CHECK(store_agency_merge(ctl, "mfrom", "minto", &m) == 0);
	CHECK_INT(m.endpoints, 2);

	/* the moved sensor's events, now under minto, before any tick */
	ev_host("shared", now - 2 * SEC);
	endpoints_event(ep, "minto", "gw9", &ev, now - 2 * SEC);
	ev_host("only-from", now - 2 * SEC);
	endpoints_event(ep, "minto", "gw9", &ev, now - 2 * SEC);
	CHECK(group(ep, st) == 0);

	CHECK_INT(rows_of(st, "mfrom"), 0);	/* no row back */
	CHECK_INT(rows_of(st, "minto"), 3);
	CHECK_INT(row(st, "minto", "fresh"), 1);
	CHECK_INT(got.first_seen, now - 3 * SEC);
	CHECK_INT(got.day_events, 1);
	CHECK_INT(row(st, "minto", "shared"), 1);
	CHECK_INT(got.first_seen, now - 100 * SEC);
	CHECK_INT(got.last_seen, now - 2 * SEC);
	CHECK_INT(got.day_events, 5 + 1 + 7 + 1);
	CHECK_STR(got.av_state, "healthy");
	CHECK_INT(got.healthy_at, now - 90 * SEC);
	CHECK_INT(row(st, "minto", "only-from"), 1);
	CHECK_INT(got.first_seen, now - 50 * SEC);
	CHECK_INT(got.day_events, 3 + 1);

	/* the tick and a stop's sync change nothing more */
	CHECK(endpoints_tick(ep, st, now) >= 0);
	CHECK(endpoints_sync(ep, st) >= 0);
	CHECK_INT(rows_of(st, "mfrom"), 0);
	CHECK_INT(row(st, "minto", "shared"), 1);
	CHECK_INT(got.day_events, 14);

	/* a second merger behind the first: followed to the end */
	ev_host("shared", now - SEC);
	endpoints_event(ep, "minto", "gw9", &ev, now - SEC);
	CHECK(store_agency_merge(ctl, "minto", "mlast", &m) == 0);
	CHECK(store_agency_add(ctl, "x1", "X", NULL, now) == 0);
	CHECK(store_agency_merge(ctl, "mlast", "x1", &m) == 0);
	ev_host("late", now);
	endpoints_event(ep, "x1", "gw9", &ev, now);
	CHECK(endpoints_sync(ep, st) == 0);
	CHECK_INT(rows_of(st, "minto") + rows_of(st, "mlast"), 0);
	CHECK_INT(rows_of(st, "x1"), 4);
	CHECK_INT(row(st, "x1", "shared"), 1);
	CHECK_INT(got.day_events, 15);
	CHECK_INT(got.first_seen, now - 100 * SEC);

	/*
	 * A code merged away and created again before the next write (a
	 * rename by two mergers: ra -> rb, then a new ra): the entries the
	 * correlator holds under ra are the old agency's, moved to rb; the
	 * new ra starts empty.  Deciding by whether ra exists wrote them
	 * back under the new ra (the host twice, rb's count short).
	 */
	CHECK(store_agency_add(ctl, "ra", "A", NULL, now) == 0);
	CHECK(store_agency_add(ctl, "rb", "B", NULL, now) == 0);
	ev_host("h1", now - 2 * SEC);
	endpoints_event(ep, "ra", "gw9", &ev, now - 2 * SEC);
	CHECK(group(ep, st) == 0);
	ev_host("h1", now - SEC);
	endpoints_event(ep, "ra", "gw9", &ev, now - SEC);
	CHECK(store_agency_merge(ctl, "ra", "rb", &m) == 0);
	CHECK(store_agency_add(ctl, "ra", "A again", NULL, now) == 0);
	CHECK(group(ep, st) == 0);
	CHECK_INT(rows_of(st, "ra"), 0);
	CHECK_INT(row(st, "rb", "h1"), 1);
	CHECK_INT(got.day_events, 2);
	/* the new ra's own host stays ra's, and a later merger of it moves
	 * only it */
	ev_host("h2", now);
	endpoints_event(ep, "ra", "gw9", &ev, now);
	CHECK(endpoints_sync(ep, st) == 0);
	CHECK_INT(rows_of(st, "ra"), 1);
	CHECK_INT(rows_of(st, "rb"), 1);
	CHECK(store_agency_merge(ctl, "ra", "rb", &m) == 0);
	ev_host("h2", now);
	endpoints_event(ep, "ra", "gw9", &ev, now);
	CHECK(endpoints_sync(ep, st) == 0);
	CHECK_INT(rows_of(st, "ra"), 0);
	CHECK_INT(rows_of(st, "rb"), 2);
	CHECK_INT(row(st, "rb", "h2"), 1);
	CHECK_INT(got.day_events, 2);
	store_close(ctl);
out:
	endpoints_free(ep);
	store_close(st);
}

/*
 * Defender's signature version, under the names Winlogbeat gives the
 * EventData fields: a detection's "Signature Version" (the AV part of
 * "AV: ..., AS: ..., NIS: ..."; the EVTX sample in ../shared/data
 * carries it so), the health report's "AV signature version", an
 * update's "Current security intelligence Version", a 5007's registry
 * value; the latest report by its time wins, and what is not a version
 * is not kept.
 */
static void
test_sig_version(const char *path)
{
	struct store_endpoint_conf c = { 3600 * SEC, 3600 * SEC, 1000, 0.95,
	    7 * 86400 * SEC };
	struct store *st = store_open(path, STORE_CREATE, NULL, 0);
	struct endpoints *ep = endpoints_new(&c);
	int64_t t = soc_now_ns() - 600 * SEC;
	char big[300];

	CHECK(st != NULL && ep != NULL);
	if (st == NULL || ep == NULL)
		goto out;
	CHECK(store_agency_add(st, "sv", "S", NULL, t) == 0);
#define SEND(ts) endpoints_event(ep, "sv", "gw1", &ev, (ts))
	defender("PC-1", 1116, t);
	data("Signature Version",
	    "AV: 1.297.1333.0, AS: 1.297.1333.0, NIS: 1.297.1333.0");
	SEND(t);
	CHECK(endpoints_sync(ep, st) == 0);
	CHECK_INT(row(st, "sv", "pc-1"), 1);
	CHECK_STR(got.sig_version, "1.297.1333.0");
	CHECK_INT(got.sig_version_at, t);

	defender("PC-1", 1151, t + 10 * SEC);
	data("AV signature version", "1.401.12.0");
	data("AV signature age", "1");
	SEND(t + 10 * SEC);
	/* replayed: an older update does not go back */
	defender("PC-1", 2000, t + 5 * SEC);
	data("Current security intelligence Version", "1.401.5.0");
	SEND(t + 11 * SEC);
	CHECK(endpoints_sync(ep, st) == 0);
	CHECK_INT(row(st, "sv", "pc-1"), 1);
	CHECK_STR(got.sig_version, "1.401.12.0");

	defender("PC-1", 2000, t + 20 * SEC);
	data("Current security intelligence Version", "1.401.60.0");
	data("Previous security intelligence Version", "1.401.12.0");
	SEND(t + 20 * SEC);
	CHECK(endpoints_sync(ep, st) == 0);
	CHECK_INT(row(st, "sv", "pc-1"), 1);
	CHECK_STR(got.sig_version, "1.401.60.0");
	CHECK_INT(got.sig_version_at, t + 20 * SEC);

	defender("PC-1", 5007, t + 30 * SEC);
	data("New Value", "HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\"
	    "Signature Updates\\AVSignatureVersion = 1.401.70.0");
	SEND(t + 30 * SEC);
	CHECK(endpoints_sync(ep, st) == 0);
	CHECK_INT(row(st, "sv", "pc-1"), 1);
	CHECK_STR(got.sig_version, "1.401.70.0");

	/* not versions: kept out */
	defender("PC-1", 1151, t + 40 * SEC);
	data("AV signature version", "1.2.3.4; DROP TABLE");
	SEND(t + 40 * SEC);
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	defender("PC-1", 1151, t + 41 * SEC);
	data("AV signature version", big);
	SEND(t + 41 * SEC);
	defender("PC-1", 5007, t + 42 * SEC);
	data("New Value", "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows"
	    " Defender\\Real-Time Protection\\DisableRealtimeMonitoring = 0x1");
	SEND(t + 42 * SEC);
	CHECK(endpoints_sync(ep, st) == 0);
	CHECK_INT(row(st, "sv", "pc-1"), 1);
	CHECK_STR(got.sig_version, "1.401.70.0");
	CHECK_INT(got.sig_version_at, t + 30 * SEC);

	/* loaded back by a restarted correlator, and kept by a merger */
	endpoints_free(ep);
	ep = endpoints_new(&c);
	CHECK(ep != NULL && endpoints_load(ep, st) == 0);
	if (ep == NULL)
		goto out;
	defender("PC-1", 1000, t + 50 * SEC);
	SEND(t + 50 * SEC);
	CHECK(endpoints_sync(ep, st) == 0);
	CHECK_INT(row(st, "sv", "pc-1"), 1);
	CHECK_STR(got.sig_version, "1.401.70.0");
	CHECK(store_agency_add(st, "sv2", "S2", NULL, t) == 0);
	CHECK(store_agency_merge(st, "sv", "sv2", NULL) == 0);
	CHECK_INT(row(st, "sv2", "pc-1"), 1);
	CHECK_STR(got.sig_version, "1.401.70.0");
#undef SEND
out:
	endpoints_free(ep);
	store_close(st);
}

/*
 * An entry holds a host's first 16 bytes: names alike in those and
 * different after them are two endpoints; the longest id (255 bytes)
 * is one; one name in two agencies is two.
 */
static void
test_layout(const char *path)
{
	struct store_endpoint_conf c = { 3600 * SEC, 3600 * SEC, 1000, 0.95,
	    7 * 86400 * SEC };
	struct store *st = store_open(path, STORE_CREATE, NULL, 0);
	struct endpoints *ep = endpoints_new(&c);
	struct endpoints_stats s;
	int64_t now = soc_now_ns();
	char a[256], b[256];
	int i;

	CHECK(st != NULL && ep != NULL);
	if (st == NULL || ep == NULL)
		goto out;
	CHECK(store_agency_add(st, "la", "A", NULL, now) == 0);
	CHECK(store_agency_add(st, "lb", "B", NULL, now) == 0);
	memset(a, 'h', 255);
	a[255] = '\0';
	memcpy(b, a, sizeof(b));
	b[254] = 'z';
	for (i = 0; i < 3; i++) {
		ev_host(a, now);
		endpoints_event(ep, "la", "gw", &ev, now);
		ev_host(b, now);
		endpoints_event(ep, "la", "gw", &ev, now);
		ev_host(a, now);
		endpoints_event(ep, "lb", "gw", &ev, now);
		/* 41 bytes, the 41st differing */
		ev_host("pc-with-a-long-name-0123456789abcdef-0001", now);
		endpoints_event(ep, "la", "gw", &ev, now);
		ev_host("pc-with-a-long-name-0123456789abcdef-0002", now);
		endpoints_event(ep, "la", "gw", &ev, now);
		/* 16 bytes and 17, alike in the 16 the entry holds */
		ev_host("0123456789abcdef", now);
		endpoints_event(ep, "la", "gw", &ev, now);
		ev_host("0123456789abcdefg", now);
		endpoints_event(ep, "la", "gw", &ev, now);
	}
	endpoints_stats(ep, &s);
	CHECK_INT(s.endpoints, 7);
	CHECK(endpoints_sync(ep, st) == 0);
	CHECK_INT(rows_of(st, "la"), 6);
	CHECK_INT(rows_of(st, "lb"), 1);
	CHECK_INT(row(st, "la", a), 1);
	CHECK_INT(got.day_events, 3);
	CHECK_INT(row(st, "la", "pc-with-a-long-name-0123456789abcdef-0002"), 1);
	CHECK_INT(got.day_events, 3);
	CHECK_INT(row(st, "la", "0123456789abcdef"), 1);
	CHECK_INT(got.day_events, 3);
	CHECK_INT(row(st, "la", "0123456789abcdefg"), 1);
	CHECK_INT(got.day_events, 3);
	/* a restart finds each again, not a second entry */
	endpoints_free(ep);
	ep = endpoints_new(&c);
	CHECK(ep != NULL && endpoints_load(ep, st) == 0);
	if (ep == NULL)
		goto out;
	ev_host(b, now);
	endpoints_event(ep, "la", "gw", &ev, now);
	endpoints_stats(ep, &s);
	CHECK_INT(s.endpoints, 7);
	CHECK(endpoints_sync(ep, st) == 0);
	CHECK_INT(row(st, "la", b), 1);
	CHECK_INT(got.day_events, 4);
out:
	endpoints_free(ep);
	store_close(st);
}

int
main(void)
{
	char p[128];

	snprintf(dir, sizeof(dir), "/tmp/test-endpoint-inv.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(p, sizeof(p), "%s/race.db", dir);
	test_merge_race(p);
	snprintf(p, sizeof(p), "%s/sigver.db", dir);
	test_sig_version(p);
	snprintf(p, sizeof(p), "%s/layout.db", dir);
	test_layout(p);
	fx_rmtree(dir);
	return check_done();
}
