/*
 * Endpoints (issue 18): `socctl endpoints`, `socctl endpoint show` and
 * `socctl agency set CODE --computers N`.  The correlator keeps the
 * inventory (every host that sends events, per agency of the sending
 * sensor) and writes it with its ingest groups; this file only reads it,
 * judging "stale" and "protected" at the time it runs with the settings
 * the correlator stored (endpoints.stale_after,
 * endpoints.protection_within).
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soc/util.h"
#include "socctl.h"
#include "store.h"

#define EP_DAY_NS	(86400 * SOC_NS)

/* One row: the stored endpoint and what it means now. */
struct ep_row {
	struct store_endpoint	 e;
	int			 protected;
	int			 stale;
	uint64_t		 today, yesterday;
	char			 prot[96];	/* the table's PROTECTION */
	char			 chans[STORE_EP_CHANNELS * 2 + 8]; /* JSON */
	/* COL_STR columns read pointers: into e and prot */
	const char		*agency, *host, *os, *channels, *engine;
	const char		*state, *detect, *protection, *sigver;
};

struct ep_ctx {
	struct ctx			*c;
	struct out			*o;
	struct store_endpoint_conf	 conf;
	int64_t				 stale_ns;	/* --stale; 0 any */
	int				 unprotected;
	int				 show;		/* endpoint show */
	size_t				 n;
	struct ep_row			 first;		/* endpoint show */
};

/* The pointers into the row itself (again after a copy). */
static void
row_point(struct ep_row *r)
{
	r->agency = r->e.agency;
	r->host = r->e.host;
	r->os = r->e.os;
	r->channels = r->e.channels;
	r->engine = r->e.engine;
	r->state = r->e.av_state;
	r->detect = r->e.detect_name;
	r->protection = r->prot;
	r->sigver = r->e.sig_version;
}

static void
row_judge(struct ep_ctx *x, const struct store_endpoint *e, struct ep_row *r)
{
	int64_t today = x->c->now / EP_DAY_NS;
	char age[32];
	const char *p, *q;
	size_t k;

	memset(r, 0, sizeof(*r));
	r->e = *e;
	row_point(r);
	r->protected = store_endpoint_protected(e, &x->conf, x->c->now);
	r->stale = x->c->now - e->last_seen > x->conf.stale_after_ns;
	if (e->day == today) {
		r->today = e->day_events;
		r->yesterday = e->prev_events;
	} else if (e->day == today - 1)
		r->yesterday = e->day_events;
	if (r->protected)
		snprintf(r->prot, sizeof(r->prot), "protected (%s)", e->engine);
	else if (e->engine[0] == '\0')
		snprintf(r->prot, sizeof(r->prot), "no antivirus seen");
	else if (e->off_at > e->healthy_at)
		snprintf(r->prot, sizeof(r->prot), "NO: %s (%s)", e->av_state,
		    e->engine);
	else if (store_endpoint_sig_old(e, &x->conf, x->c->now))
		snprintf(r->prot, sizeof(r->prot), "NO: signatures %lld days old"
		    " (%s)", (long long)((x->c->now - e->sig_at) / EP_DAY_NS),
		    e->engine);
	else {
		store_age_format(x->c->now - e->healthy_at, age, sizeof(age));
		snprintf(r->prot, sizeof(r->prot), "NO: healthy %s ago (%s)",
		    age, e->engine);
	}
	/* the channels as a JSON array (none holds a comma) */
	snprintf(r->chans, sizeof(r->chans), "[");
	for (p = e->channels; *p != '\0'; p = *q ? q + 1 : q) {
		q = p + strcspn(p, ",");
		k = strlen(r->chans);
		snprintf(r->chans + k, sizeof(r->chans) - k, "%s\"", k > 1 ?
		    "," : "");
		for (; p < q; p++) {
			k = strlen(r->chans);
			if (k + 8 >= sizeof(r->chans))
				break;
			if (*p == '"' || *p == '\\')
				snprintf(r->chans + k, sizeof(r->chans) - k,
				    "\\%c", *p);
			else if ((unsigned char)*p < 0x20)
				snprintf(r->chans + k, sizeof(r->chans) - k,
				    "\\u%04x", (unsigned char)*p);
			else
				snprintf(r->chans + k, sizeof(r->chans) - k,
				    "%c", *p);
		}
		k = strlen(r->chans);
		snprintf(r->chans + k, sizeof(r->chans) - k, "\"");
	}
	k = strlen(r->chans);
	snprintf(r->chans + k, sizeof(r->chans) - k, "]");
}

#define EPR(f)	offsetof(struct ep_row, f)

static void
get_perday(struct ctx *c, const void *row, struct cell *v)
{
	const struct ep_row *r = row;

	(void)c;
	v->i = (long long)(r->yesterday > r->today ? r->yesterday : r->today);
}

static void
get_chans(struct ctx *c, const void *row, struct cell *v)
{
	(void)c;
	v->s = ((const struct ep_row *)row)->chans;
	v->valid = 1;
}

static void
get_time_or_null(const void *row, size_t off, struct cell *v)
{
	int64_t t = *(const int64_t *)(const void *)((const char *)row + off);

	if (t > 0)
		v->i = t;
	else
		v->null = 1;
}

static void
get_healthy(struct ctx *c, const void *row, struct cell *v)
{
	(void)c;
	get_time_or_null(row, EPR(e.healthy_at), v);
}

static void
get_off(struct ctx *c, const void *row, struct cell *v)
{
	(void)c;
	get_time_or_null(row, EPR(e.off_at), v);
}

static void
get_detect(struct ctx *c, const void *row, struct cell *v)
{
	(void)c;
	get_time_or_null(row, EPR(e.detect_at), v);
}

static void
get_silent(struct ctx *c, const void *row, struct cell *v)
{
	(void)c;
	get_time_or_null(row, EPR(e.silent_at), v);
}

static void
get_sig(struct ctx *c, const void *row, struct cell *v)
{
	(void)c;
	get_time_or_null(row, EPR(e.sig_at), v);
}

static void
get_sigver_at(struct ctx *c, const void *row, struct cell *v)
{
	(void)c;
	get_time_or_null(row, EPR(e.sig_version_at), v);
}

static void
get_last_event(struct ctx *c, const void *row, struct cell *v)
{
	(void)c;
	get_time_or_null(row, EPR(e.last_event), v);
}

static const struct col ep_cols[] = {
	{ "agency", "AGENCY", 0, COL_STR, 0, EPR(agency), NULL },
	{ "host", "HOST:40", 1, COL_STR, 0, EPR(host), NULL },
	{ "os", "OS", 2, COL_STR, COL_NULLEMPTY | COL_DASH, EPR(os), NULL },
	{ "first_seen", NULL, 0, COL_TIME, 0, EPR(e.first_seen), NULL },
	{ "last_seen", "LAST-SEEN", 3, COL_AGE, 0, EPR(e.last_seen), NULL },
	{ "last_event", NULL, 0, COL_TIME, 0, 0, get_last_event },
	{ "stale", NULL, 0, COL_BOOL, 0, EPR(stale), NULL },
	{ NULL, "CHANNELS:40", 4, COL_STR, COL_DASH, EPR(channels), NULL },
	{ "channels", NULL, 0, COL_RAW, 0, 0, get_chans },
	{ "events_per_day", ">EVENTS/DAY", 5, COL_INT, 0, 0, get_perday },
	{ "events_today", NULL, 0, COL_UINT, 0, EPR(today), NULL },
	{ "events_yesterday", NULL, 0, COL_UINT, 0, EPR(yesterday), NULL },
	{ NULL, "PROTECTION", 6, COL_STR, 0, EPR(protection), NULL },
	{ "protection.protected", NULL, 0, COL_BOOL, 0, EPR(protected), NULL },
	{ "protection.engine", NULL, 0, COL_STR, COL_NULLEMPTY,
	  EPR(engine), NULL },
	{ "protection.state", NULL, 0, COL_STR, COL_NULLEMPTY,
	  EPR(state), NULL },
	{ "protection.healthy_at", NULL, 0, COL_TIME, 0, 0, get_healthy },
	{ "protection.off_at", NULL, 0, COL_TIME, 0, 0, get_off },
	{ "protection.detection_at", NULL, 0, COL_TIME, 0, 0, get_detect },
	{ "protection.detection", NULL, 0, COL_STR, COL_NULLEMPTY,
	  EPR(detect), NULL },
	{ "protection.signatures_at", NULL, 0, COL_TIME, 0, 0, get_sig },
	{ "protection.signature_version", NULL, 0, COL_STR, COL_NULLEMPTY,
	  EPR(sigver), NULL },
	{ "protection.signature_version_at", NULL, 0, COL_TIME, 0, 0,
	  get_sigver_at },
	{ "silent_incident_at", NULL, 0, COL_TIME, 0, 0, get_silent },
};

static int
ep_row(void *arg, const struct store_endpoint *e)
{
	struct ep_ctx *x = arg;
	struct ep_row r;

	row_judge(x, e, &r);
	if (x->stale_ns > 0 && x->c->now - e->last_seen <= x->stale_ns)
		return 0;
	if (x->unprotected && r.protected)
		return 0;
	if (x->show) {
		if (x->n++ == 0) {
			x->first = r;
			row_point(&x->first);
		}
		return 0;
	}
	x->n++;
	return out_row(x->o, &r);
}

/* --agency, repeated: the codes, checked; how many, or -1. */
static int
take_agencies(struct ctx *c, int *argc, char **argv, const char **v,
    size_t max)
{
	int i, o = 1, n = 0;

	for (i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--agency") != 0 &&
		    strncmp(argv[i], "--agency=", 9) != 0) {
			argv[o++] = argv[i];
			continue;
		}
		if ((size_t)n == max) {
			cmd_err(c, "at most %zu --agency", max);
			return -1;
		}
		if (argv[i][8] == '=')
			v[n++] = argv[i] + 9;
		else if (i + 1 < *argc)
			v[n++] = argv[++i];
		else {
			cmd_err(c, "--agency needs a value");
			return -1;
		}
	}
	*argc = o;
	return n;
}

/* Hosts refused per agency (a flood of names, ids too long), after the
 * table: counted by the correlator, never silent. */
static int
ep_refused(void *arg, const struct store_agency *a)
{
	struct ctx *c = arg;
	uint64_t over, toolong;

	if (store_endpoint_refused_get(c->st, a->code, &over, &toolong) == -1)
		return -1;
	if (over > 0)
		printf("agency %s: %llu new hosts not added (over"
		    " endpoints.max_per_agency)\n", a->code,
		    (unsigned long long)over);
	if (toolong > 0)
		printf("agency %s: %llu events with a host id over %d bytes"
		    " (refused)\n", a->code, (unsigned long long)toolong,
		    STORE_EP_HOST_MAX);
	return 0;
}

int
cmd_endpoints(struct ctx *c, int argc, char **argv)
{
	const char *agencies[STORE_SEARCH_AGENCIES], *stale = NULL;
	struct ep_ctx x;
	struct out o;
	enum out_fmt fmt;
	int json = 0, csv = 0, unprot = 0, n, i, rc;
	const struct optspec spec[] = {
		{ "json", NULL, &json }, { "csv", NULL, &csv },
		{ "stale", &stale, NULL }, { "unprotected", NULL, &unprot },
		{ NULL, NULL, NULL }
	};

	if ((n = take_agencies(c, &argc, argv, agencies,
	    STORE_SEARCH_AGENCIES)) < 0 ||
	    args(c, argc, argv, spec, 0, 0) < 0 ||
	    out_fmt_pick(c, json, csv, &fmt) == -1)
		return 1;
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.unprotected = unprot;
	if (stale != NULL && (x.stale_ns = soc_parse_duration(stale)) <= 0)
		return cmd_err(c, "--stale '%s': a duration (24h, 90m, 7d)",
		    stale);
	if (db_open(c) == -1)
		return 1;
	for (i = 0; i < n; i++)
		if ((rc = store_agency_exists(c->st, agencies[i])) != 1)
			return rc < 0 ? db_fail(c) : cmd_err(c, "no such agency"
			    " '%s' (see `socctl agency list`)", agencies[i]);
	if (store_endpoint_conf_get(c->st, &x.conf) == -1)
		return db_fail(c);
	out_begin(&o, c, fmt, ep_cols, COL_COUNT(ep_cols));
	x.o = &o;
	rc = store_endpoint_foreach(c->st, agencies, (size_t)n, NULL, ep_row,
	    &x);
	rc = out_end(&o, rc, "no endpoints");
	if (rc == 0 && fmt == OUT_TABLE &&
	    store_agency_foreach(c->st, ep_refused, c) != 0)
		return db_fail(c);
	return rc;
}

int
cmd_endpoint_show(struct ctx *c, int argc, char **argv)
{
	const char *agency = NULL, *ag[1];
	char host[STORE_EP_HOST_MAX + 1];
	struct soc_sbuf b;
	struct ep_ctx x;
	struct ep_row *r;
	int json = 0, n = 0;
	size_t i;
	const struct optspec spec[] = {
		{ "json", NULL, &json }, { "agency", &agency, NULL },
		{ NULL, NULL, NULL }
	};

	if (args(c, argc, argv, spec, 1, 1) < 0 || db_open(c) == -1)
		return 1;
	if (strlen(argv[1]) > STORE_EP_HOST_MAX)
		return cmd_err(c, "a host id is at most %d bytes",
		    STORE_EP_HOST_MAX);
	for (i = 0; argv[1][i] != '\0'; i++)
		host[i] = (char)tolower((unsigned char)argv[1][i]);
	host[i] = '\0';
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.show = 1;
	if (store_endpoint_conf_get(c->st, &x.conf) == -1)
		return db_fail(c);
	ag[0] = agency;
	if (store_endpoint_foreach(c->st, ag, agency != NULL, host, ep_row,
	    &x) != 0)
		return db_fail(c);
	if (x.n == 0)
		return errx1("endpoint show: no endpoint '%s' (see `socctl"
		    " endpoints`)", argv[1]);
	if (x.n > 1)
		return errx1("endpoint show: '%s' is an endpoint of %zu agencies;"
		    " give --agency CODE", argv[1], x.n);
	r = &x.first;
	if (json) {
		soc_sbuf_init(&b);
		soc_sbuf_adds(&b, "{");
		out_json_members(&b, c, ep_cols, COL_COUNT(ep_cols), r);
		soc_sbuf_adds(&b, "}");
		return j_print(&b);
	}
	{
		char t1[64], t2[64], t3[64];

		time_human(c, r->e.first_seen, t1, sizeof(t1));
		age_human(c, r->e.last_seen, t2, sizeof(t2));
		printf("host         ");
		put_clean(stdout, r->e.host);
		printf("\nagency       %s\nos           %s\nfirst seen   %s\n"
		    "last seen    %s%s\n", r->e.agency, r->e.os[0] ? r->e.os :
		    "-", t1, t2, r->stale ? " (stale)" : "");
		if (r->e.last_event > 0) {
			time_human(c, r->e.last_event, t3, sizeof(t3));
			printf("last event   %s\n", t3);
		}
		printf("channels     ");
		put_clean(stdout, r->e.channels[0] ? r->e.channels : "-");
		printf("\nevents/day   %llu today, %llu yesterday\n",
		    (unsigned long long)r->today,
		    (unsigned long long)r->yesterday);
		printf("protection   %s\n", r->prot);
		if (r->e.healthy_at > 0) {
			time_human(c, r->e.healthy_at, t3, sizeof(t3));
			printf("  healthy    %s\n", t3);
		}
		if (r->e.off_at > 0) {
			time_human(c, r->e.off_at, t3, sizeof(t3));
			printf("  off        %s (%s)\n", t3, r->e.av_state);
		}
		if (r->e.sig_at > 0) {
			time_human(c, r->e.sig_at, t3, sizeof(t3));
			printf("  signatures %s (%lld days old%s)\n", t3,
			    (long long)((c->now - r->e.sig_at) / EP_DAY_NS),
			    store_endpoint_sig_old(&r->e, &x.conf, c->now) ?
			    ", over endpoints.signature_max_age" : "");
		}
		if (r->e.sig_version[0] != '\0') {
			time_human(c, r->e.sig_version_at, t3, sizeof(t3));
			printf("  version    ");
			put_clean(stdout, r->e.sig_version);
			printf(" (signatures, reported %s)\n", t3);
		}
		if (r->e.detect_at > 0) {
			time_human(c, r->e.detect_at, t3, sizeof(t3));
			printf("  detection  %s: ", t3);
			put_clean(stdout, r->e.detect_name);
			printf("\n");
		}
		if (r->e.silent_at > 0) {
			time_human(c, r->e.silent_at, t3, sizeof(t3));
			printf("silent       soc-endpoint-silent raised %s\n", t3);
		}
	}
	(void)n;
	return 0;
}

int
cmd_agency_set(struct ctx *c, int argc, char **argv)
{
	const char *computers = NULL;
	const struct optspec spec[] = {
		{ "computers", &computers, NULL }, { NULL, NULL, NULL }
	};
	char note[256], *end;
	long long n;

	if (args(c, argc, argv, spec, 1, 1) < 0 ||
	    need(c, computers, "--computers N") == -1)
		return 1;
	if (strcmp(computers, "none") == 0)
		n = -1;
	else {
		n = strtoll(computers, &end, 10);
		if (end == computers || *end != '\0' || n < 0 ||
		    n > 100000000)
			return cmd_err(c, "--computers '%s': a number of"
			    " computers (0 to 100000000), or none", computers);
	}
	if (db_open(c) == -1 || store_begin(c->st) == -1)
		return c->st ? db_fail(c) : 1;
	if (n < 0)
		snprintf(note, sizeof(note), "%s declares no number of"
		    " computers", argv[1]);
	else
		snprintf(note, sizeof(note), "%s declares %lld computers",
		    argv[1], n);
	if (db_audit_commit(c, store_agency_set_computers(c->st, argv[1], n),
	    "agency computers", note) != 0)
		return 1;
	printf("%s\n", note);
	return 0;
}
