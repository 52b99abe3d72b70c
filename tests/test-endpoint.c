/*
 * The endpoint inventory (issue 18): the host an event names
 * (endpoints_host_of), the in-memory inventory per agency of the sending
 * sensor with its quota and refusals, the protection state from Defender
 * and ClamAV events, the flush into a real SQLite file only after a
 * commit, loading it back, soc-endpoint-silent raised once and re-armed,
 * and the store's side: declared computers, settings, refusal counts and
 * coverage layer 2 counting computers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"
#include "endpoints.h"
#include "store.h"
#include "store-query.h"
#include "soc/event.h"
#include "soc/util.h"

#define SEC	SOC_NS

static char dir[64];
static char path[128];
static struct soc_event ev;
static int64_t T0;

static void
ev_win(const char *host, const char *channel, const char *provider, int id,
    int64_t ts)
{
	char n[16];

	soc_event_reset(&ev);
	ev.ts = ts;
	soc_event_set_cstr(&ev, SOC_F_WINLOG_COMPUTER, host);
	soc_event_set_cstr(&ev, SOC_F_HOST_NAME, host);
	soc_event_set_cstr(&ev, SOC_F_WINLOG_CHANNEL, channel);
	if (provider != NULL)
		soc_event_set_cstr(&ev, SOC_F_WINLOG_PROVIDER, provider);
	snprintf(n, sizeof(n), "%d", id);
	soc_event_set_cstr(&ev, SOC_F_WINLOG_EVENT_ID, n);
}

#define DEF_CH	"Microsoft-Windows-Windows Defender/Operational"
#define DEF_PR	"Microsoft-Windows-Windows Defender"

static void
defender(const char *host, int id, int64_t ts)
{
	ev_win(host, DEF_CH, DEF_PR, id, ts);
}

struct found {
	struct store_endpoint	e[64];
	int			n;
};

static int
collect(void *arg, const struct store_endpoint *e)
{
	struct found *f = arg;

	if (f->n < 64)
		f->e[f->n] = *e;
	f->n++;
	return 0;
}

static struct found F;

static const struct store_endpoint *
stored(struct store *st, const char *agency, const char *host)
{
	const char *ag[1] = { agency };

	F.n = 0;
	if (store_endpoint_foreach(st, ag, 1, host, collect, &F) != 0)
		return NULL;
	for (int i = 0; i < F.n && i < 64; i++)
		if (strcmp(F.e[i].agency, agency) == 0)
			return &F.e[i];
	return NULL;
}

static void
test_host_of(void)
{
	char id[STORE_EP_HOST_MAX + 1], big[400];

	soc_event_reset(&ev);
	CHECK_INT(endpoints_host_of(&ev, "gw1", id, sizeof(id)), 0);
	soc_event_set_cstr(&ev, SOC_F_HOST_HOSTNAME, "Web1");
	CHECK_INT(endpoints_host_of(&ev, "gw1", id, sizeof(id)), 1);
	CHECK_STR(id, "web1");
	soc_event_set_cstr(&ev, SOC_F_HOST_NAME, "PC-01.Local");
	CHECK_INT(endpoints_host_of(&ev, "gw1", id, sizeof(id)), 1);
	CHECK_STR(id, "pc-01.local");
	soc_event_set_cstr(&ev, SOC_F_WINLOG_COMPUTER, "PC-02");
	CHECK_INT(endpoints_host_of(&ev, "gw1", id, sizeof(id)), 1);
	CHECK_STR(id, "pc-02");
	/* host.id first: stable across renames */
	soc_event_set_cstr(&ev, SOC_F_HOST_ID, "5D4A-UUID");
	CHECK_INT(endpoints_host_of(&ev, "gw1", id, sizeof(id)), 1);
	CHECK_STR(id, "5d4a-uuid");
	/* control bytes never reach a table */
	soc_event_reset(&ev);
	soc_event_set_str(&ev, SOC_F_HOST_NAME, "a\x1b[2Jb", 6);
	CHECK_INT(endpoints_host_of(&ev, "gw1", id, sizeof(id)), 1);
	CHECK_STR(id, "a?[2jb");
	/* 255 bytes pass, 256 are refused */
	memset(big, 'x', sizeof(big));
	soc_event_reset(&ev);
	soc_event_set_str(&ev, SOC_F_HOST_NAME, big, 255);
	CHECK_INT(endpoints_host_of(&ev, "gw1", id, sizeof(id)), 1);
	CHECK_INT(strlen(id), 255);
	soc_event_set_str(&ev, SOC_F_HOST_NAME, big, 256);
	CHECK_INT(endpoints_host_of(&ev, "gw1", id, sizeof(id)), -1);
	/* a local audit.log: the sensor's own host; other logs: none */
	soc_event_reset(&ev);
	soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "log.auditd.process");
	CHECK_INT(endpoints_host_of(&ev, "GW1", id, sizeof(id)), 1);
	CHECK_STR(id, "gw1");
	soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "log.web");
	CHECK_INT(endpoints_host_of(&ev, "GW1", id, sizeof(id)), 0);
}

/* The changes of one group, committed (or not). */
static int
group(struct endpoints *ep, struct store *st, int commit)
{
	int rc;

	if (store_begin(st) == -1)
		return -1;
	rc = endpoints_flush(ep, st);
	if (commit && rc == 0 && store_commit(st) == 0) {
		endpoints_committed(ep, 1);
		return 0;
	}
	store_rollback(st);
	endpoints_committed(ep, 0);
	return rc;
}

static void
test_inventory(struct store *st)
{
	struct store_endpoint_conf c = { 3600 * SEC, 3600 * SEC, 3, 0.95, 7 * 86400 * SEC };
	struct endpoints *ep = endpoints_new(&c);
	struct endpoints_stats es;
	const struct store_endpoint *e;
	uint64_t over, toolong;
	char big[300];
	int f;

	CHECK(ep != NULL);
	if (ep == NULL)
		return;
	/* A's pc-01: detection, healthy */
	defender("PC-01", 1116, T0);
	f = soc_field_intern("winlog.event_data.Threat Name", 29);
	CHECK(f != SOC_F_NONE);
	soc_event_set_cstr(&ev, f, "Trojan:Win32/Occamy.C");
	endpoints_event(ep, "aga", "gw1", &ev, T0 + 1);
	defender("PC-01", 1150, T0 + 2 * SEC);
	endpoints_event(ep, "aga", "gw1", &ev, T0 + 2 * SEC);
	/* B claims A's pc-01 is off: lands in B's inventory only */
	defender("pc-01", 5001, T0 + 3 * SEC);
	endpoints_event(ep, "agb", "gw2", &ev, T0 + 3 * SEC);
	/* a Security event of pc-01: a second channel */
	ev_win("pc-01", "Security", "Microsoft-Windows-Security-Auditing", 4624,
	    T0 + 4 * SEC);
	endpoints_event(ep, "aga", "gw1", &ev, T0 + 4 * SEC);
	/* not written before the group commits */
	CHECK(stored(st, "aga", "pc-01") == NULL);
	CHECK_INT(group(ep, st, 0), 0);		/* rolled back */
	CHECK(stored(st, "aga", "pc-01") == NULL);
	CHECK_INT(group(ep, st, 1), 0);		/* written at the next one */
	e = stored(st, "aga", "pc-01");
	CHECK(e != NULL);
	if (e != NULL) {
		CHECK_STR(e->os, "windows");
		CHECK_STR(e->channels, DEF_CH ",Security");
		CHECK_INT(e->day_events, 3);
		CHECK_INT(e->first_seen, T0 + 1);
		CHECK_INT(e->last_seen, T0 + 4 * SEC);
		CHECK_INT(e->last_event, T0 + 4 * SEC);
		CHECK_STR(e->engine, "defender");
		CHECK_STR(e->av_state, "healthy");
		CHECK_INT(e->healthy_at, T0 + 2 * SEC);
		CHECK_INT(e->off_at, 0);
		CHECK_STR(e->detect_name, "Trojan:Win32/Occamy.C");
	}
	e = stored(st, "agb", "pc-01");
	CHECK(e != NULL && strcmp(e->av_state, "real-time protection off") == 0);
	/* the quota: agb has 1; 2 more fit, the rest are counted */
	for (int i = 0; i < 5; i++) {
		char h[16];

		snprintf(h, sizeof(h), "flood-%d", i);
		defender(h, 1000, T0);
		endpoints_event(ep, "agb", "gw2", &ev, T0 + 5 * SEC);
	}
	defender("pc-01", 1150, T0 + 6 * SEC);	/* known: still updated */
	endpoints_event(ep, "agb", "gw2", &ev, T0 + 6 * SEC);
	memset(big, 'h', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	defender(big, 1150, T0);
	endpoints_event(ep, "aga", "gw1", &ev, T0 + 6 * SEC);
	endpoints_stats(ep, &es);
	CHECK_INT(es.endpoints, 4);
	CHECK_INT(es.over_quota, 3);
	CHECK_INT(es.too_long, 1);
	CHECK_INT(group(ep, st, 1), 0);
	CHECK(store_endpoint_refused_get(st, "agb", &over, &toolong) == 0);
	CHECK_INT(over, 3);
	CHECK_INT(toolong, 0);
	CHECK(store_endpoint_refused_get(st, "aga", &over, &toolong) == 0);
	CHECK_INT(toolong, 1);
	/* written once: a second group adds nothing */
	CHECK_INT(group(ep, st, 1), 0);
	CHECK(store_endpoint_refused_get(st, "agb", &over, &toolong) == 0);
	CHECK_INT(over, 3);
	e = stored(st, "agb", "pc-01");
	CHECK(e != NULL && e->healthy_at == T0 + 6 * SEC &&
	    strcmp(e->av_state, "healthy") == 0);
	F.n = 0;
	CHECK(store_endpoint_foreach(st, NULL, 0, NULL, collect, &F) == 0);
	CHECK_INT(F.n, 4);

	/* loaded back into a new inventory (a restart) */
	endpoints_free(ep);
	ep = endpoints_new(&c);
	CHECK(endpoints_load(ep, st) == 0);
	endpoints_stats(ep, &es);
	CHECK_INT(es.endpoints, 4);
	defender("pc-01", 1000, T0 + 7 * SEC);
	endpoints_event(ep, "aga", "gw1", &ev, T0 + 7 * SEC);
	CHECK_INT(group(ep, st, 1), 0);
	e = stored(st, "aga", "pc-01");
	CHECK(e != NULL && e->first_seen == T0 + 1 && e->day_events == 4);
	endpoints_free(ep);
}

/*
 * The write cadence (bench/endpoints.py measures it): after a flush, new
 * events are not due for EP_FLUSH_MS however many hosts they touch;
 * nothing changed is never due; endpoints_sync() writes them.
 */
static void
test_cadence(struct store *st)
{
	struct store_endpoint_conf c = { 3600 * SEC, 3600 * SEC, 1000, 0.95, 7 * 86400 * SEC };
	struct endpoints *ep = endpoints_new(&c);
	const struct store_endpoint *e;
	int64_t t0;
	char h[16];

	CHECK(ep != NULL);
	if (ep == NULL)
		return;
	CHECK(endpoints_load(ep, st) == 0);
	t0 = soc_mono_ms();
	CHECK_INT(endpoints_due(ep, t0 + 600000), 0);	/* nothing changed */
	CHECK_INT(endpoints_sync(ep, st), 0);
	defender("cad-0", 1000, T0);
	endpoints_event(ep, "agd", "gw3", &ev, T0 + 1);
	CHECK_INT(endpoints_due(ep, t0 + 600000), 1);
	CHECK_INT(group(ep, st, 1), 0);
	CHECK(stored(st, "agd", "cad-0") != NULL);
	/* 100 hosts right after a flush: not due, not written */
	for (int i = 0; i < 100; i++) {
		snprintf(h, sizeof(h), "cad-%d", i);
		defender(h, 1000, T0 + 2);
		endpoints_event(ep, "agd", "gw3", &ev, T0 + 2);
	}
	CHECK_INT(endpoints_due(ep, t0), 0);
	CHECK_INT(endpoints_due(ep, t0 + 600000), 1);
	CHECK(stored(st, "agd", "cad-99") == NULL);
	CHECK_INT(endpoints_sync(ep, st), 0);
	CHECK(stored(st, "agd", "cad-99") != NULL);
	e = stored(st, "agd", "cad-0");
	CHECK(e != NULL && e->day_events == 2 && e->last_seen == T0 + 2);
	CHECK_INT(endpoints_due(ep, t0 + 600000), 0);	/* all written */
	endpoints_free(ep);
}

struct rows {
	const char	*agency;
	int		 n;
};

static int
count_rows(void *arg, const struct store_endpoint *e)
{
	struct rows *r = arg;

	r->n += strcmp(e->agency, r->agency) == 0;
	return 0;
}

/* Rows of one agency code, whether or not it still exists. */
static int
rows_of(struct store *st, const char *agency)
{
	struct rows r = { agency, 0 };

	if (store_endpoint_foreach(st, NULL, 0, NULL, count_rows, &r) != 0)
		return -1;
	return r.n;
}

/*
 * `socctl agency merge`: the old code's endpoints, refusals and declared
 * computers go to the new code (a host both hold becomes one); a running
 * correlator drops the old code's entries at its tick, never writing
 * them back.
 */
static void
test_merge(struct store *st)
{
	struct store_endpoint_conf c = { 3600 * SEC, 3600 * SEC, 1000, 0.95, 7 * 86400 * SEC };
	struct store_endpoint e[4];
	const struct store_endpoint *g;
	struct store_merge m;
	struct endpoints *ep;
	uint64_t over, toolong;
	int64_t now = soc_now_ns(), n;

	CHECK(store_agency_add(st, "mfrom", "F", NULL, now) == 0);
	CHECK(store_agency_add(st, "minto", "I", NULL, now) == 0);
	memset(e, 0, sizeof(e));
	snprintf(e[0].agency, sizeof(e[0].agency), "mfrom");
	snprintf(e[0].host, sizeof(e[0].host), "only-from");
	e[0].first_seen = e[0].last_seen = now - 50 * SEC;
	e[1] = e[0];
	snprintf(e[1].host, sizeof(e[1].host), "shared");
	e[1].first_seen = now - 100 * SEC;
	e[1].last_seen = now - 40 * SEC;
	e[1].day = now / (86400 * SEC);
	e[1].day_events = 5;
	snprintf(e[1].engine, sizeof(e[1].engine), "defender");
	snprintf(e[1].av_state, sizeof(e[1].av_state), "scanning off");
	e[1].healthy_at = now - 90 * SEC;
	e[1].off_at = now - 45 * SEC;
	e[2] = e[1];
	snprintf(e[2].agency, sizeof(e[2].agency), "minto");
	e[2].first_seen = now - 60 * SEC;
	e[2].last_seen = now - 30 * SEC;
	e[2].day_events = 7;
	snprintf(e[2].av_state, sizeof(e[2].av_state), "healthy");
	e[2].healthy_at = now - 80 * SEC;
	e[2].off_at = 0;
	snprintf(e[2].channels, sizeof(e[2].channels), "Security");
	e[3] = e[2];
	snprintf(e[3].host, sizeof(e[3].host), "only-into");
	CHECK(store_endpoint_put(st, e, 4) == 0);
	CHECK(store_endpoint_refused_add(st, "mfrom", 3, 1) == 0);
	CHECK(store_agency_set_computers(st, "mfrom", 5) == 0);
	CHECK(store_agency_set_computers(st, "minto", 7) == 0);

	/* a correlator holding the old code's endpoints */
	ep = endpoints_new(&c);
	CHECK(ep != NULL && endpoints_load(ep, st) == 0);
	defender("only-from", 1000, now - 10 * SEC);
	endpoints_event(ep, "mfrom", "gw9", &ev, now - 10 * SEC);

	CHECK(store_agency_merge(st, "mfrom", "minto", &m) == 0);
	CHECK_INT(m.endpoints, 2);
	CHECK_INT(m.computers, 12);
	CHECK(store_agency_computers(st, "minto", &n) == 0 && n == 12);
	CHECK(store_agency_computers(st, "mfrom", &n) == 0 && n == -1);
	CHECK(store_endpoint_refused_get(st, "minto", &over, &toolong) == 0);
	CHECK(over == 3 && toolong == 1);
	CHECK(stored(st, "minto", "only-from") != NULL);
	CHECK(stored(st, "minto", "only-into") != NULL);
	g = stored(st, "minto", "shared");
	CHECK(g != NULL);
	if (g != NULL) {
		CHECK_INT(g->first_seen, now - 100 * SEC);
		CHECK_INT(g->last_seen, now - 30 * SEC);
		CHECK_INT(g->day_events, 12);
		/* the later report: turned off 45 s ago, after healthy 80 s */
		CHECK_STR(g->av_state, "scanning off");
		CHECK_INT(g->healthy_at, now - 80 * SEC);
		CHECK_INT(g->off_at, now - 45 * SEC);
		CHECK_STR(g->channels, "Security");
	}

	CHECK_INT(rows_of(st, "mfrom"), 0);
	/* its tick drops them, unwritten: the old code's rows stay gone */
	CHECK(endpoints_tick(ep, st, now) >= 0);
	CHECK(endpoints_sync(ep, st) == 0);
	CHECK_INT(rows_of(st, "mfrom"), 0);
	CHECK_INT(rows_of(st, "minto"), 3);
	CHECK(store_endpoint_refused_get(st, "mfrom", &over, &toolong) == 0);
	CHECK(over == 0 && toolong == 0);
	endpoints_free(ep);
}

/* A Defender 1151 health report with its signature age in days. */
static void
sig_report(const char *host, const char *days, int64_t ts)
{
	int f;

	defender(host, 1151, ts);
	f = soc_field_intern("winlog.event_data.AV signature age", 34);
	CHECK(f != SOC_F_NONE);
	soc_event_set_cstr(&ev, f, days);
}

static void
test_protection(void)
{
	struct store_endpoint_conf c = { 3600 * SEC, 3600 * SEC, 100, 0.95, 7 * 86400 * SEC };
	struct endpoints *ep = endpoints_new(&c);
	struct store *st;
	const struct store_endpoint *e;
	char p2[160];

	snprintf(p2, sizeof(p2), "%s/prot.db", dir);
	st = store_open(p2, STORE_CREATE, NULL, 0);
	CHECK(st != NULL && ep != NULL);
	if (st == NULL || ep == NULL)
		return;
	CHECK(store_agency_add(st, "aga", "A", NULL, T0) == 0);
	/* healthy, then off within the same second: off (received later) */
	defender("pc-02", 2000, T0);
	endpoints_event(ep, "aga", "gw1", &ev, T0);
	defender("pc-02", 5001, T0);
	endpoints_event(ep, "aga", "gw1", &ev, T0);
	/* scanning off, updates failing, then healthy again */
	defender("pc-03", 1150, T0);
	endpoints_event(ep, "aga", "gw1", &ev, T0);
	defender("pc-03", 5012, T0 + SEC);
	endpoints_event(ep, "aga", "gw1", &ev, T0 + SEC);
	defender("pc-04", 2001, T0);
	endpoints_event(ep, "aga", "gw1", &ev, T0);
	defender("pc-05", 5010, T0);
	endpoints_event(ep, "aga", "gw1", &ev, T0);
	defender("pc-05", 5000, T0 + 2 * SEC);
	endpoints_event(ep, "aga", "gw1", &ev, T0 + 2 * SEC);
	/* an old healthy report after a newer off does not win */
	defender("pc-06", 5001, T0 + 5 * SEC);
	endpoints_event(ep, "aga", "gw1", &ev, T0 + 5 * SEC);
	defender("pc-06", 1150, T0 + SEC);
	endpoints_event(ep, "aga", "gw1", &ev, T0 + 6 * SEC);
	/* a Windows event of another provider with id 5001: not Defender */
	ev_win("pc-07", "System", "Service Control Manager", 5001, T0);
	endpoints_event(ep, "aga", "gw1", &ev, T0);
	/* ClamAV on a Linux host */
	soc_event_reset(&ev);
	ev.ts = T0;
	soc_event_set_cstr(&ev, SOC_F_HOST_HOSTNAME, "srv1");
	soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "log.clamav");
	soc_event_set_cstr(&ev, SOC_F_MESSAGE, "daily.cld database is up-to-date"
	    " (version: 27000)");
	endpoints_event(ep, "aga", "gw1", &ev, T0);
	soc_event_set_cstr(&ev, SOC_F_MESSAGE, "/tmp/x: Eicar-Signature FOUND");
	soc_event_set_cstr(&ev, SOC_F_EVENT_ACTION, "malware_detected");
	soc_event_set_cstr(&ev, SOC_F_THREAT_SW_NAME, "Eicar-Signature");
	ev.ts = T0 + SEC;
	endpoints_event(ep, "aga", "gw1", &ev, T0 + SEC);
	/* clamd says its database is old: not protected */
	soc_event_reset(&ev);
	ev.ts = T0;
	soc_event_set_cstr(&ev, SOC_F_HOST_HOSTNAME, "srv3");
	soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "log.clamav");
	soc_event_set_cstr(&ev, SOC_F_MESSAGE, "Database correctly reloaded"
	    " (8713482 signatures)");
	endpoints_event(ep, "aga", "gw1", &ev, T0);
	ev.ts = T0 + SEC;
	soc_event_set_cstr(&ev, SOC_F_MESSAGE, "*** The virus database is"
	    " older than 7 days! ***");
	endpoints_event(ep, "aga", "gw1", &ev, T0 + SEC);
	soc_event_reset(&ev);
	ev.ts = T0;
	soc_event_set_cstr(&ev, SOC_F_HOST_HOSTNAME, "srv2");
	soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "log.clamav");
	soc_event_set_cstr(&ev, SOC_F_EVENT_ACTION, "av_update_failed");
	endpoints_event(ep, "aga", "gw1", &ev, T0);
	/* signature age: a 1151 health report saying 12 days (over
	 * endpoints.signature_max_age, 7 days); one saying 1; one whose
	 * signatures a 2000 later updated; Defender's "none" (UINT_MAX) */
	sig_report("pc-08", "12", T0);
	endpoints_event(ep, "aga", "gw1", &ev, T0);
	sig_report("pc-09", "1", T0);
	endpoints_event(ep, "aga", "gw1", &ev, T0);
	sig_report("pc-10", "30", T0);
	endpoints_event(ep, "aga", "gw1", &ev, T0);
	defender("pc-10", 2000, T0 + SEC);
	endpoints_event(ep, "aga", "gw1", &ev, T0 + SEC);
	sig_report("pc-11", "4294967295", T0);
	endpoints_event(ep, "aga", "gw1", &ev, T0);
	CHECK_INT(group(ep, st, 1), 0);

#define PROT(h, want) do { \
	e = stored(st, "aga", h); \
	CHECK(e != NULL); \
	if (e != NULL) \
		CHECK_INT(store_endpoint_protected(e, &c, T0 + 10 * SEC), want); \
} while (0)
	PROT("pc-02", 0);
	CHECK(e != NULL && strcmp(e->av_state, "real-time protection off") == 0);
	PROT("pc-03", 0);
	CHECK(e != NULL && strcmp(e->av_state, "scanning off") == 0);
	PROT("pc-04", 0);
	CHECK(e != NULL && strcmp(e->av_state, "updates failing") == 0);
	PROT("pc-05", 1);
	PROT("pc-06", 0);
	PROT("pc-07", 0);
	CHECK(e != NULL && e->engine[0] == '\0');
	PROT("srv1", 1);
	CHECK(e != NULL && strcmp(e->engine, "clamav") == 0 &&
	    strcmp(e->detect_name, "Eicar-Signature") == 0);
	CHECK(e != NULL && e->sig_at == T0);	/* the database's age */
	PROT("srv2", 0);
	PROT("srv3", 0);
	CHECK(e != NULL && strcmp(e->av_state, "signatures outdated") == 0 &&
	    e->sig_at == T0);
	PROT("pc-08", 0);
	CHECK(e != NULL && e->sig_at == T0 - 12 * 86400 * SEC &&
	    strcmp(e->av_state, "healthy") == 0 &&
	    store_endpoint_sig_old(e, &c, T0 + 10 * SEC));
	PROT("pc-09", 1);
	CHECK(e != NULL && e->sig_at == T0 - 86400 * SEC);
	PROT("pc-10", 1);
	CHECK(e != NULL && e->sig_at == T0 + SEC);
	PROT("pc-11", 1);
	CHECK(e != NULL && e->sig_at == 0);
	/* with no bound (0), old signatures do not count */
	e = stored(st, "aga", "pc-08");
	c.sig_max_age_ns = 0;
	CHECK(e != NULL && store_endpoint_protected(e, &c, T0 + 10 * SEC));
	c.sig_max_age_ns = 7 * 86400 * SEC;
	/* healthy, but longer ago than protection_within */
	e = stored(st, "aga", "srv1");
	CHECK(e != NULL && !store_endpoint_protected(e, &c, T0 + 7200 * SEC));
	endpoints_free(ep);
	store_close(st);
}

static void
test_silent(struct store *st)
{
	struct store_endpoint_conf c = { 60 * SEC, 3600 * SEC, 100, 0.95, 7 * 86400 * SEC };
	struct endpoints *ep = endpoints_new(&c);
	const struct store_endpoint *e;
	int64_t now = soc_now_ns();
	char p2[160];
	struct store *s2;

	snprintf(p2, sizeof(p2), "%s/silent.db", dir);
	s2 = store_open(p2, STORE_CREATE, NULL, 0);
	CHECK(s2 != NULL && ep != NULL);
	if (s2 == NULL || ep == NULL)
		return;
	(void)st;
	CHECK(store_agency_add(s2, "aga", "A", NULL, now) == 0);
	defender("pc-01", 1150, now - 120 * SEC);
	endpoints_event(ep, "aga", "gw1", &ev, now - 120 * SEC);
	defender("pc-02", 1150, now - 10 * SEC);
	endpoints_event(ep, "aga", "gw1", &ev, now - 10 * SEC);
	/* an agency merged away: quiet, no incident, no failing tick */
	defender("old-pc", 1150, now - 120 * SEC);
	endpoints_event(ep, "gone", "gw9", &ev, now - 120 * SEC);
	CHECK_INT(group(ep, s2, 1), 0);
	CHECK_INT(endpoints_tick(ep, s2, now), 1);	/* pc-01 only */
	CHECK_INT(fx_sql_int(p2, "SELECT count(*) FROM incidents WHERE"
	    " agency = 'gone'"), 0);
	CHECK_INT(endpoints_tick(ep, s2, now + SEC), 0);	/* once */
	CHECK_INT(fx_sql_int(p2, "SELECT count(*) FROM incidents WHERE"
	    " rule_id = 'soc-endpoint-silent' AND agency = 'aga' AND"
	    " group_key = 'host.id=pc-01'"), 1);
	e = stored(s2, "aga", "pc-01");
	CHECK(e != NULL && e->silent_at == now);
	/* it reports: re-armed; silent again later: raised again */
	defender("pc-01", 1150, now);
	endpoints_event(ep, "aga", "gw1", &ev, now);
	CHECK_INT(group(ep, s2, 1), 0);
	e = stored(s2, "aga", "pc-01");
	CHECK(e != NULL && e->silent_at == 0);
	CHECK_INT(endpoints_tick(ep, s2, now + 100 * SEC), 2);
	CHECK_INT(fx_sql_int(p2, "SELECT count FROM incidents WHERE"
	    " rule_id = 'soc-endpoint-silent' AND group_key = 'host.id=pc-01'"),
	    2);
	endpoints_free(ep);
	store_close(s2);
}

static struct store_coverage cov[8];
static char cov_codes[8][16], cov_reason[8][200];
static int ncov;

static int
cov_cb(void *arg, const struct store_coverage *cv)
{
	(void)arg;
	if (ncov < 8) {
		cov[ncov] = *cv;
		snprintf(cov_codes[ncov], sizeof(cov_codes[0]), "%s", cv->agency);
		snprintf(cov_reason[ncov], sizeof(cov_reason[0]), "%s",
		    cv->reason[1]);
		cov[ncov].agency = cov_codes[ncov];
	}
	ncov++;
	return 0;
}

static void
test_store_side(struct store *st)
{
	struct store_endpoint_conf c;
	struct store_coverage_opts o;
	int64_t n;

	CHECK(store_endpoint_conf_get(st, &c) == 0);
	CHECK_INT(c.stale_after_ns, STORE_EP_STALE_DEFAULT);
	CHECK_INT(c.max_per_agency, STORE_EP_MAX_DEFAULT);
	c.stale_after_ns = 3600 * SEC;
	c.protection_within_ns = 3600 * SEC;
	c.min_share = 0.5;
	CHECK(store_endpoint_conf_put(st, &c) == 0);
	CHECK(store_endpoint_conf_get(st, &c) == 0);
	CHECK_INT(c.stale_after_ns, 3600 * SEC);
	CHECK(c.min_share == 0.5);
	CHECK(store_agency_computers(st, "aga", &n) == 0);
	CHECK_INT(n, -1);
	CHECK(store_agency_set_computers(st, "aga", 4) == 0);
	CHECK(store_agency_computers(st, "aga", &n) == 0);
	CHECK_INT(n, 4);
	CHECK(store_agency_set_computers(st, "nope", 4) == -1);
	CHECK(store_agency_set_computers(st, "agc", 2) == 0);

	/* coverage at T0 + 10 s: aga has pc-01 (healthy at T0 + 7 s) */
	store_coverage_opts_init(&o);
	o.now_ns = T0 + 10 * SEC;
	CHECK(store_coverage(st, &o, cov_cb, NULL, NULL, NULL) == 0);
}

static const struct store_coverage *
cov_of(const char *code, const char **reason)
{
	for (int i = 0; i < ncov && i < 8; i++)
		if (strcmp(cov_codes[i], code) == 0) {
			*reason = cov_reason[i];
			return &cov[i];
		}
	return NULL;
}

static void
test_coverage(void)
{
	const struct store_coverage *c;
	const char *why = "";

	c = cov_of("aga", &why);
	CHECK(c != NULL);
	if (c != NULL) {
		/* pc-01 and the two flood-free hosts: aga holds pc-01 and
		 * the 300-byte name was refused: 1 reporting of 4 */
		CHECK_INT(c->ep_declared, 4);
		CHECK_INT(c->ep_reporting, 1);
		CHECK_INT(c->ep_protected, 1);
		CHECK_INT(c->state[1], STORE_LAYER_MISSING);	/* no sensor */
		CHECK(strstr(why, "1 of 4 computers reporting, 1 protected")
		    != NULL);
	}
	c = cov_of("agc", &why);
	CHECK(c != NULL && c->ep_declared == 2 && c->ep_reporting == 0 &&
	    c->state[1] == STORE_LAYER_MISSING &&
	    strstr(why, "0 of 2 computers reporting") != NULL);
	c = cov_of("agb", &why);
	CHECK(c != NULL && c->ep_declared == -1);
	c = cov_of("prov", &why);
	CHECK(c != NULL && c->ep_declared == -1 && c->tree_declared == 4 &&
	    c->tree_reporting == 1);
}

int
main(void)
{
	struct store *st;
	char err[256];
	int64_t now;

	snprintf(dir, sizeof(dir), "/tmp/test-endpoint.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/soc.db", dir);
	T0 = (soc_now_ns() / SEC - 3600) * SEC;
	now = soc_now_ns();
	test_host_of();
	st = store_open(path, STORE_CREATE, err, sizeof(err));
	CHECK(st != NULL);
	if (st == NULL)
		goto out;
	CHECK(store_agency_add(st, "prov", "P", NULL, now) == 0);
	CHECK(store_agency_add(st, "aga", "A", "prov", now) == 0);
	CHECK(store_agency_add(st, "agb", "B", NULL, now) == 0);
	CHECK(store_agency_add(st, "agc", "C", NULL, now) == 0);
	CHECK(store_agency_add(st, "agd", "D", NULL, now) == 0);
	test_inventory(st);
	test_cadence(st);
	test_merge(st);
	test_protection();
	test_silent(st);
	test_store_side(st);
	test_coverage();
	store_close(st);
out:
	fx_rmtree(dir);
	return check_done();
}
