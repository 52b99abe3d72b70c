/*
 * socctl events: the archive searched (correlator/archive/), newest
 * first; and the archived events around an incident (incident show
 * --context).  The archive's directory is the one the correlator
 * recorded in the database (archive.dir), else archive/ beside it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "soc/json.h"
#include "soc/util.h"
#include "evarchive.h"
#include "socctl.h"
#include "store.h"

#define EVENTS_LIMIT	100
#define EVENTS_LIMIT_MAX 1000000
#define MAX_WORDS	16
#define MAX_AGENCIES	64

struct ev_row {
	int64_t		 ts;
	const char	*agency, *sensor, *dataset, *src, *dst, *summary;
	char		 b_agency[128], b_sensor[128], b_dataset[64];
	char		 b_src[80], b_dst[80], b_summary[256];
};

#define ER(f)	offsetof(struct ev_row, f)
static const struct col ev_cols[] = {
	{ "time", "TIME", 0, COL_TIME, 0, ER(ts), NULL },
	{ "agency", "AGENCY", 1, COL_STR, COL_DASH, ER(agency), NULL },
	{ "sensor", "SENSOR", 2, COL_STR, COL_DASH, ER(sensor), NULL },
	{ "dataset", "DATASET", 3, COL_STR, COL_DASH, ER(dataset), NULL },
	{ "source", "SOURCE", 4, COL_STR, COL_DASH, ER(src), NULL },
	{ "destination", "DESTINATION", 5, COL_STR, COL_DASH, ER(dst), NULL },
	{ "summary", "SUMMARY:60", 6, COL_STR, COL_DASH, ER(summary), NULL },
};

struct ev_out {
	struct ctx	*c;
	int		 json;
	struct out	 o;
	struct soc_sbuf	 jb;		/* --json: the array of events */
	struct soc_event *ev;
	size_t		 n;
	/* the progress line */
	int		 tty;
	int64_t		 t0, shown;
};

static void
addr_port(const struct soc_event *ev, int fip, int fport, char *out, size_t len)
{
	char ip[64];
	int64_t port = soc_event_int(ev, fport, -1);

	out[0] = '\0';
	if (soc_event_text(ev, fip, ip, sizeof(ip)) <= 0)
		return;
	if (port >= 0)
		snprintf(out, len, strchr(ip, ':') ? "[%s]:%lld" : "%s:%lld", ip,
		    (long long)port);
	else
		snprintf(out, len, "%s", ip);
}

static void
summary(const struct soc_event *ev, char *out, size_t len)
{
	static const int f[] = { SOC_F_MESSAGE, SOC_F_DNS_QNAME,
		SOC_F_URL_ORIGINAL, SOC_F_TLS_SNI, SOC_F_EVENT_ACTION,
		SOC_F_NET_PROTOCOL, SOC_F_NET_TRANSPORT };

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (soc_event_text(ev, f[i], out, len) > 0)
			return;
}

static int
ev_print(void *arg, const char *line, size_t len, int64_t ts,
    const struct soc_event *evp)
{
	struct ev_out *eo = arg;
	struct ev_row r;
	const char *why;

	(void)evp;
	eo->n++;
	if (eo->json) {
		if (eo->n > 1)
			soc_sbuf_add(&eo->jb, ",\n", 2);
		soc_sbuf_add(&eo->jb, line, len);
		return 0;
	}
	memset(&r, 0, sizeof(r));
	if (soc_json_read_event(line, len, eo->ev, &why, NULL) == -1)
		soc_event_reset(eo->ev);
	r.ts = ts;
	soc_event_text(eo->ev, SOC_F_ORGANIZATION_ID, r.b_agency,
	    sizeof(r.b_agency));
	soc_event_text(eo->ev, SOC_F_OBSERVER_NAME, r.b_sensor,
	    sizeof(r.b_sensor));
	soc_event_text(eo->ev, SOC_F_EVENT_DATASET, r.b_dataset,
	    sizeof(r.b_dataset));
	addr_port(eo->ev, SOC_F_SOURCE_IP, SOC_F_SOURCE_PORT, r.b_src,
	    sizeof(r.b_src));
	addr_port(eo->ev, SOC_F_DEST_IP, SOC_F_DEST_PORT, r.b_dst,
	    sizeof(r.b_dst));
	summary(eo->ev, r.b_summary, sizeof(r.b_summary));
	r.agency = r.b_agency;
	r.sensor = r.b_sensor;
	r.dataset = r.b_dataset;
	r.src = r.b_src;
	r.dst = r.b_dst;
	r.summary = r.b_summary;
	return out_row(&eo->o, &r) == -1;
}

static int
ev_progress(void *arg, const struct archive_rstats *rs)
{
	struct ev_out *eo = arg;
	int64_t now = soc_mono_ms();

	if (!eo->tty || now - eo->t0 < 1000 || now - eo->shown < 200)
		return 0;
	eo->shown = now;
	fprintf(stderr, "\rsearching: %llu segments read, %llu skipped by their"
	    " index, %llu events, %llu matches ",
	    (unsigned long long)rs->scanned, (unsigned long long)rs->skipped,
	    (unsigned long long)rs->events, (unsigned long long)rs->matched);
	return 0;
}

/* The archive's directory: as the correlator recorded it, else beside. */
int
socctl_archive_dir(struct ctx *c, char *dir, size_t len)
{
	char seg[ARCHIVE_NAME_MAX];
	const char *slash;
	uint64_t off;

	if (store_archive_get(c->st, dir, len, seg, sizeof(seg), &off,
	    NULL) == -1)
		return db_fail(c);
	if (dir[0] != '\0')
		return 0;
	if ((slash = strrchr(c->db, '/')) != NULL)
		snprintf(dir, len, "%.*s/archive", (int)(slash - c->db), c->db);
	else
		snprintf(dir, len, "archive");
	return 0;
}

/* Searches and prints: 0, or 1 after saying why. */
static int
run_search(struct ctx *c, const struct archive_query *q, size_t limit,
    enum out_fmt fmt, const char *none, struct soc_sbuf *into)
{
	struct archive_rstats rs = { 0 };
	struct ev_out eo;
	char dir[4096], err[512];
	int rc;

	if (socctl_archive_dir(c, dir, sizeof(dir)) != 0)
		return 1;
	memset(&eo, 0, sizeof(eo));
	eo.c = c;
	eo.json = fmt == OUT_JSON;
	eo.tty = isatty(2);
	eo.t0 = soc_mono_ms();
	soc_sbuf_init(&eo.jb);
	if ((eo.ev = malloc(sizeof(*eo.ev))) == NULL)
		return errx1("out of memory");
	if (!eo.json)
		out_begin(&eo.o, c, fmt, ev_cols, COL_COUNT(ev_cols));
	rc = archive_search_newest(dir, q, limit, ev_print, &eo, ev_progress,
	    &eo, &rs, err, sizeof(err));
	if (eo.tty && eo.shown != 0)
		fprintf(stderr, "\r%*s\r", 79, "");
	free(eo.ev);
	if (rc == -1) {
		if (!eo.json)
			out_free(&eo.o);
		soc_sbuf_free(&eo.jb);
		return errx1("%s", err);
	}
	if (rs.index_bad > 1 || rs.cut > 0 || rs.frames_bad > 0 ||
	    rs.lines_bad > 0)
		fprintf(stderr, "socctl: archive: %llu segments read without"
		    " a usable index, %llu cut short, %llu frames and %llu"
		    " lines unreadable\n", (unsigned long long)rs.index_bad,
		    (unsigned long long)rs.cut,
		    (unsigned long long)rs.frames_bad,
		    (unsigned long long)rs.lines_bad);
	if (eo.json) {
		soc_sbuf_adds(&eo.jb, eo.n > 0 ? "\n]" : "]");
		if (eo.jb.oom) {
			soc_sbuf_free(&eo.jb);
			return errx1("out of memory");
		}
		if (into != NULL) {
			soc_sbuf_adds(into, "[");
			soc_sbuf_add(into, eo.jb.data, eo.jb.len);
		} else
			printf("[%s%s\n", eo.n > 0 ? "\n" : "", eo.jb.data);
		soc_sbuf_free(&eo.jb);
		return 0;
	}
	return out_end(&eo.o, 0, none);
}

/* Pulls every --agency CODE out of argv: the rest stays for args(). */
static int
take_agencies(struct ctx *c, int *argc, char **argv, const char **ag,
    size_t *nag)
{
	int i, j = 1;

	*nag = 0;
	for (i = 1; i < *argc; i++) {
		const char *v = NULL;

		if (strcmp(argv[i], "--") == 0) {
			while (i < *argc)
				argv[j++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--agency") == 0) {
			if (i + 1 >= *argc)
				return cmd_err(c, "--agency needs a value");
			v = argv[++i];
		} else if (strncmp(argv[i], "--agency=", 9) == 0)
			v = argv[i] + 9;
		if (v == NULL) {
			argv[j++] = argv[i];
			continue;
		}
		if (*nag == MAX_AGENCIES)
			return cmd_err(c, "at most %d --agency", MAX_AGENCIES);
		ag[(*nag)++] = v;
	}
	*argc = j;
	return 0;
}

int
cmd_events(struct ctx *c, int argc, char **argv)
{
	const char *since = NULL, *until = NULL, *ip = NULL, *limit_s = NULL;
	const char *ag[MAX_AGENCIES], *words[MAX_WORDS], *text = NULL;
	struct archive_query q;
	enum out_fmt fmt;
	size_t nag, nwords = 0;
	long long limit = EVENTS_LIMIT;
	char *tbuf = NULL, *w, *save;
	int json = 0, csv = 0, rc;
	struct optspec spec[] = {
		{ "since", &since, NULL }, { "until", &until, NULL },
		{ "ip", &ip, NULL }, { "domain", NULL, NULL },
		{ "user", NULL, NULL }, { "host", NULL, NULL },
		{ "hash", NULL, NULL }, { "text", &text, NULL },
		{ "dataset", NULL, NULL }, { "limit", &limit_s, NULL },
		{ "json", NULL, &json }, { "csv", NULL, &csv },
		{ NULL, NULL, NULL }
	};

	memset(&q, 0, sizeof(q));
	spec[3].str = &q.domain;
	spec[4].str = &q.user;
	spec[5].str = &q.host;
	spec[6].str = &q.hash;
	spec[8].str = &q.dataset;
	if (take_agencies(c, &argc, argv, ag, &nag) != 0 ||
	    args(c, argc, argv, spec, 0, 0) < 0 ||
	    out_fmt_pick(c, json, csv, &fmt) == -1)
		return 1;
	q.agencies = ag;
	q.nagencies = nag;
	if (since != NULL && parse_when(since, c->now, -1, &q.since) == -1)
		return cmd_err(c, "--since %s: a time (2026-12-01, 2026-12-01T08:00)"
		    " or a duration back from now (24h, 7d)", since);
	if (until != NULL && parse_when(until, c->now, -1, &q.until) == -1)
		return cmd_err(c, "--until %s: a time or a duration back from"
		    " now", until);
	if (ip != NULL) {
		if (archive_net_parse(ip, &q.ip) == -1)
			return cmd_err(c, "--ip %s: an address or ADDR/BITS", ip);
		q.has_ip = true;
	}
	if (limit_s != NULL) {
		char *end;

		limit = strtoll(limit_s, &end, 10);
		if (*limit_s == '\0' || *end != '\0' || limit < 1 ||
		    limit > EVENTS_LIMIT_MAX)
			return cmd_err(c, "--limit %s: 1 to %d", limit_s,
			    EVENTS_LIMIT_MAX);
	}
	if (text != NULL) {
		if ((tbuf = strdup(text)) == NULL)
			return errx1("out of memory");
		for (w = strtok_r(tbuf, " \t", &save); w != NULL;
		    w = strtok_r(NULL, " \t", &save)) {
			if (nwords == MAX_WORDS) {
				free(tbuf);
				return cmd_err(c, "--text: at most %d words",
				    MAX_WORDS);
			}
			words[nwords++] = w;
		}
		q.words = words;
		q.nwords = nwords;
	}
	if (db_open(c) == -1) {
		free(tbuf);
		return 1;
	}
	rc = run_search(c, &q, (size_t)limit, fmt, "no archived event matches",
	    NULL);
	free(tbuf);
	return rc;
}

/* The first evidence event's source IP and host name. */
struct ctx_key {
	struct soc_event	*ev;
	char			 ip[64];
	char			 host[256];
};

static int
ctx_evidence(void *arg, int seq, const char *json, int valid)
{
	struct ctx_key *k = arg;
	const char *why;

	(void)seq;
	if (!valid || k->ip[0] != '\0' || k->host[0] != '\0' ||
	    soc_json_read_event(json, strlen(json), k->ev, &why, NULL) == -1)
		return 0;
	if (soc_event_text(k->ev, SOC_F_SOURCE_IP, k->ip, sizeof(k->ip)) <= 0)
		k->ip[0] = '\0';
	if (k->ip[0] == '\0' && soc_event_text(k->ev, SOC_F_HOST_NAME,
	    k->host, sizeof(k->host)) <= 0 && soc_event_text(k->ev,
	    SOC_F_HOST_HOSTNAME, k->host, sizeof(k->host)) <= 0)
		k->host[0] = '\0';
	return 0;
}

struct ctx_inc {
	int64_t	first, last;
	char	agency[128];
};

static int
ctx_incident(void *arg, const struct store_incident *in)
{
	struct ctx_inc *ci = arg;

	ci->first = in->first_seen;
	ci->last = in->last_seen;
	snprintf(ci->agency, sizeof(ci->agency), "%s", in->agency);
	return 0;
}

int
events_context(struct ctx *c, int64_t id, int64_t dur_ns,
    struct soc_sbuf *json)
{
	struct ctx_key k = { 0 };
	struct ctx_inc ci = { 0 };
	struct archive_query q;
	const char *ag[1];
	int rc;

	if (store_incident_get(c->st, id, ctx_incident, &ci) != 1)
		return db_fail(c);
	if ((k.ev = malloc(sizeof(*k.ev))) == NULL)
		return errx1("out of memory");
	rc = store_evidence_foreach(c->st, id, ctx_evidence, &k);
	free(k.ev);
	if (rc != 0)
		return db_fail(c);
	memset(&q, 0, sizeof(q));
	q.since = ci.first - dur_ns;
	q.until = ci.last + dur_ns;
	ag[0] = ci.agency;
	q.agencies = ag;
	q.nagencies = 1;
	if (k.ip[0] != '\0' && archive_net_parse(k.ip, &q.ip) == 0)
		q.has_ip = true;
	else if (k.host[0] != '\0')
		q.host = k.host;
	else if (json != NULL) {
		soc_sbuf_adds(json, "[]");
		return 0;
	} else
		return errx1("incident %lld: no source address or host name in"
		    " its evidence to look for", (long long)id);
	if (json == NULL)
		printf("\nArchived events of %s within %lld minutes (agency %s):\n",
		    k.ip[0] ? k.ip : k.host, (long long)(dur_ns / 60000000000LL),
		    ci.agency);
	return run_search(c, &q, EVENTS_LIMIT_MAX / 1000, json ? OUT_JSON :
	    OUT_TABLE, "no archived event around it", json);
}
