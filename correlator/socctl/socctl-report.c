/*
 * socctl's reports: the 4-layer coverage report per agency (with the
 * roll-up of the agencies below each one in the tree) and the
 * totals of `socctl stats` (with the correlator's correlation windows
 * per agency, which it writes to the store every 10 s).  A future `socctl report` (periodic
 * summaries for the national level) belongs here too.  Both are mostly
 * one document rather than a list; their list parts (one row per agency
 * and layer, one row per sensor) go through the column descriptions of
 * socctl-out.c for --csv, and stats' per-sensor table too.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soc/json.h"
#include "soc/util.h"
#include "store.h"
#include "socctl.h"

/* ---- coverage ---- */

/* One agency's layer, flat, as --csv prints it. */
struct cov_line {
	const char	*code;
	const char	*name;
	const char	*parent;
	int		 covered;
	int64_t		 layer;
	const char	*layer_name;
	const char	*state;
	const char	*reason;
};

#define CL(f)	offsetof(struct cov_line, f)

static const struct col cov_cols[] = {
	{ "code", NULL, 0, COL_STR, 0, CL(code), NULL },
	{ "name", NULL, 0, COL_STR, 0, CL(name), NULL },
	{ "parent", NULL, 0, COL_STR, COL_NULLEMPTY, CL(parent), NULL },
	{ "covered", NULL, 0, COL_BOOL, 0, CL(covered), NULL },
	{ "layer", NULL, 0, COL_INT, 0, CL(layer), NULL },
	{ "layer_name", NULL, 0, COL_STR, 0, CL(layer_name), NULL },
	{ "state", NULL, 0, COL_STR, 0, CL(state), NULL },
	{ "reason", NULL, 0, COL_STR, 0, CL(reason), NULL },
};

static void
coverage_json(struct out *o, const struct store_coverage *cv)
{
	struct soc_sbuf *b = &o->b;
	int i, n = 0, m;

	if (o->n++ > 0)
		soc_sbuf_adds(b, ",");
	soc_sbuf_adds(b, "{");
	j_str(b, &n, "code", cv->agency);
	j_str(b, &n, "name", cv->name);
	j_str(b, &n, "parent", cv->parent[0] ? cv->parent : NULL);
	j_bool(b, &n, "covered", cv->covered);
	j_int(b, &n, "level", cv->level);
	/* the roll-up: every agency below this one in the tree */
	j_int(b, &n, "sub_agencies", (long long)cv->sub_total);
	j_int(b, &n, "sub_agencies_covered", (long long)cv->sub_covered);
	/* its computers (issue 18); null where none are declared */
	j_key(b, &n, "endpoints");
	if (cv->ep_declared < 0)
		soc_sbuf_adds(b, "null");
	else {
		m = 0;
		soc_sbuf_adds(b, "{");
		j_int(b, &m, "declared", (long long)cv->ep_declared);
		j_int(b, &m, "reporting", (long long)cv->ep_reporting);
		j_int(b, &m, "protected", (long long)cv->ep_protected);
		soc_sbuf_adds(b, "}");
	}
	j_key(b, &n, "endpoints_tree");
	if (cv->tree_declared <= 0 && cv->ep_declared < 0)
		soc_sbuf_adds(b, "null");
	else {
		m = 0;
		soc_sbuf_adds(b, "{");
		j_int(b, &m, "declared", (long long)cv->tree_declared);
		j_int(b, &m, "reporting", (long long)cv->tree_reporting);
		j_int(b, &m, "protected", (long long)cv->tree_protected);
		soc_sbuf_adds(b, "}");
	}
	j_key(b, &n, "layers");
	soc_sbuf_adds(b, "[");
	for (i = 0; i < STORE_LAYERS; i++) {
		m = 0;
		soc_sbuf_adds(b, i ? ",{" : "{");
		j_int(b, &m, "layer", i + 1);
		j_str(b, &m, "name", store_layer_name(i));
		j_str(b, &m, "state", store_layer_state_name(cv->state[i]));
		j_str(b, &m, "reason", cv->reason[i]);
		soc_sbuf_adds(b, "}");
	}
	soc_sbuf_adds(b, "]}");
}

static int
coverage_row(void *arg, const struct store_coverage *cv)
{
	struct out *o = arg;
	struct cov_line cl;
	size_t w, lw = 0;
	int i;

	if (o->fmt == OUT_JSON) {
		coverage_json(o, cv);
		return 0;
	}
	if (o->fmt == OUT_CSV) {
		for (i = 0; i < STORE_LAYERS; i++) {
			cl = (struct cov_line){ cv->agency, cv->name, cv->parent,
			    cv->covered, i + 1, store_layer_name(i),
			    store_layer_state_name(cv->state[i]), cv->reason[i] };
			out_row(o, &cl);
		}
		return 0;
	}
	if (o->n++ > 0)
		putchar('\n');
	printf("%s  ", cv->agency);
	put_clean(stdout, cv->name);
	printf("  [%s]", cv->covered ? "covered" : "not covered");
	if (cv->sub_total > 0)
		printf("  sub-agencies: %zu of %zu fully covered",
		    cv->sub_covered, cv->sub_total);
	putchar('\n');
	for (i = 0; i < STORE_LAYERS; i++)
		if ((w = strlen(store_layer_name(i))) > lw)
			lw = w;
	for (i = 0; i < STORE_LAYERS; i++) {
		printf("  %d %-*s  %-8s  ", i + 1, (int)lw, store_layer_name(i),
		    store_layer_state_name(cv->state[i]));
		put_clean(stdout, cv->reason[i]);
		putchar('\n');
	}
	return 0;
}

/*
 * A national database: each province's agencies as its last coverage
 * record gave them (docs/NATIONAL.md, "Coverage sent up").  One pass,
 * by province then agency; a province's totals close its group.
 */
struct prov_walk {
	struct out	*o;
	int64_t		 now;
	char		 cur[128];	/* "" before the first */
	size_t		 covered, total, nprov, na;
	int64_t		 reported_at;
};

static void
prov_close(struct prov_walk *w)
{
	struct soc_sbuf *b = &w->o->b;
	int n = 1;

	if (w->cur[0] == '\0')
		return;
	if (w->o->fmt == OUT_JSON) {
		soc_sbuf_adds(b, "]");
		j_int(b, &n, "covered", (long long)w->covered);
		j_int(b, &n, "total", (long long)w->total);
		j_key(b, &n, "share");
		soc_sbuf_printf(b, "%.4f", w->total ? (double)w->covered /
		    (double)w->total : 0.0);
		soc_sbuf_adds(b, "}");
	} else
		printf("\nprovince ");
	if (w->o->fmt != OUT_JSON) {
		put_clean(stdout, w->cur);
		printf(": fully covered %zu of %zu agencies (%.0f%%)\n",
		    w->covered, w->total, w->total ? 100.0 *
		    (double)w->covered / (double)w->total : 0.0);
	}
}

static int
prov_row(void *arg, const struct store_province_cov *pc)
{
	struct prov_walk *w = arg;
	struct soc_sbuf *b = &w->o->b;
	struct store_coverage cv;
	char age[32];
	int i, n = 0;

	if (strcmp(w->cur, pc->province) != 0) {
		prov_close(w);
		snprintf(w->cur, sizeof(w->cur), "%s", pc->province);
		w->covered = w->total = 0;
		w->reported_at = pc->reported_at;
		store_age_format(w->now - pc->reported_at, age, sizeof(age));
		if (w->o->fmt == OUT_JSON) {
			soc_sbuf_adds(b, w->nprov++ ? ",{" : "{");
			j_str(b, &n, "name", pc->province);
			j_int(b, &n, "reported_at", (long long)pc->reported_at);
			j_str(b, &n, "age", age);
			j_key(b, &n, "agencies");
			soc_sbuf_adds(b, "[");
			w->o->n = 0;
		} else {
			w->nprov++;
			printf("\n== province ");
			put_clean(stdout, pc->province);
			printf(", as it reported %s ago ==\n", age);
		}
	}
	w->total++;
	w->covered += pc->covered != 0;
	memset(&cv, 0, sizeof(cv));
	cv.agency = pc->agency;
	cv.name = pc->name;
	cv.parent = pc->parent;
	cv.covered = pc->covered;
	for (i = 0; i < STORE_LAYERS; i++) {
		cv.state[i] = pc->state[i];
		snprintf(cv.reason[i], sizeof(cv.reason[i]), "%s",
		    pc->reason[i]);
	}
	cv.ep_declared = pc->ep_declared;
	cv.ep_reporting = pc->ep_reporting;
	cv.ep_protected = pc->ep_protected;
	/* no roll-up from a record: the agency alone */
	cv.tree_declared = pc->ep_declared < 0 ? 0 : pc->ep_declared;
	cv.tree_reporting = pc->ep_reporting;
	cv.tree_protected = pc->ep_protected;
	if (w->o->fmt != OUT_JSON)
		w->o->n = 1;	/* a blank line before each */
	return coverage_row(w->o, &cv);
}

/* 0, or -1 (the message printed). */
static int
coverage_provinces(struct ctx *c, struct out *o)
{
	struct prov_walk w;

	memset(&w, 0, sizeof(w));
	w.o = o;
	w.now = c->now;
	if (o->fmt == OUT_JSON)
		soc_sbuf_adds(&o->b, ",\"provinces\":[");
	if (store_province_coverage_foreach(c->st, NULL, prov_row, &w) != 0) {
		fprintf(stderr, "socctl: province coverage: %s\n",
		    store_errmsg(c->st));
		return -1;
	}
	prov_close(&w);
	if (o->fmt == OUT_JSON)
		soc_sbuf_adds(&o->b, "]");
	return 0;
}

int
cmd_coverage(struct ctx *c, int argc, char **argv)
{
	const char *hb = NULL, *ack = NULL;
	struct store_coverage_opts co;
	struct out o;
	enum out_fmt fmt;
	size_t ncov = 0, ntot = 0;
	double share;
	int json = 0, csv = 0, rc, n = 0;
	const struct optspec spec[] = {
		{ "json", NULL, &json }, { "csv", NULL, &csv },
		{ "heartbeat", &hb, NULL }, { "ack-within", &ack, NULL },
		{ NULL, NULL, NULL }
	};

	if (args(c, argc, argv, spec, 0, 0) < 0 ||
	    out_fmt_pick(c, json, csv, &fmt) == -1)
		return 1;
	store_coverage_opts_init(&co);
	co.now_ns = c->now;
	if (hb != NULL && (co.heartbeat_max_ns = soc_parse_duration(hb)) <= 0)
		return cmd_err(c, "--heartbeat wants a duration (5m), not '%s'", hb);
	if (ack != NULL && strcmp(ack, "0") == 0)
		co.ack_max_ns = 0;
	else if (ack != NULL && (co.ack_max_ns = soc_parse_duration(ack)) <= 0)
		return cmd_err(c, "--ack-within wants a duration (24h) or 0, not"
		    " '%s'", ack);
	if (db_open(c) == -1)
		return 1;
	out_begin(&o, c, fmt, cov_cols, COL_COUNT(cov_cols));
	if (fmt == OUT_JSON) {
		soc_sbuf_reset(&o.b);
		soc_sbuf_adds(&o.b, "{\"agencies\":[");
	}
	rc = store_coverage(c->st, &co, coverage_row, &o, &ncov, &ntot);
	if (rc != 0 || fmt == OUT_CSV)
		return out_end(&o, rc, "");
	share = ntot ? (double)ncov / (double)ntot : 0.0;
	if (fmt == OUT_JSON) {
		soc_sbuf_adds(&o.b, "]");
		if (coverage_provinces(c, &o) == -1) {
			out_free(&o);
			return 1;
		}
		n = 1;
		j_int(&o.b, &n, "covered", (long long)ncov);
		j_int(&o.b, &n, "total", (long long)ntot);
		j_key(&o.b, &n, "share");
		soc_sbuf_printf(&o.b, "%.4f", share);
		soc_sbuf_adds(&o.b, "}");
		rc = j_print(&o.b);
		out_free(&o);
		return rc;
	}
	if (ntot == 0)
		printf("no agencies (add one with `socctl agency add CODE --name"
		    " NAME`)\n");
	else
		printf("\nfully covered: %zu of %zu agencies (%.0f%%; target"
		    " 100%%)\n", ncov, ntot, share * 100.0);
	rc = coverage_provinces(c, &o);
	out_free(&o);
	return rc == 0 ? 0 : 1;
}

/* ---- stats ---- */

#define SS(f)	offsetof(struct store_sensor_info, f)

static const struct col stats_cols[] = {
	{ "name", "SENSOR", 0, COL_STR, 0, SS(name), NULL },
	{ "agency", "AGENCY", 1, COL_STR, 0, SS(agency), NULL },
	{ "revoked", NULL, 0, COL_BOOL, 0, SS(revoked), NULL },
	{ "events_received", ">EVENTS", 2, COL_UINT, 0, SS(events_received), NULL },
	{ "batches", ">BATCHES", 3, COL_UINT, 0, SS(batches), NULL },
	{ "last_seq", ">LAST SEQ", 4, COL_UINT, 0, SS(last_seq), NULL },
	{ "last_batch_at", "LAST BATCH", 5, COL_AGE, 0, SS(last_batch_at), NULL },
};

static int
stats_sensor(void *arg, const struct store_sensor_info *s)
{
	return out_row(arg, s);
}

static void
stats_text(const struct store_stats *ss)
{
	int i;

	printf("agencies          %llu\n", (unsigned long long)ss->agencies);
	printf("sensors           %llu enrolled, %llu revoked\n",
	    (unsigned long long)ss->sensors,
	    (unsigned long long)ss->sensors_revoked);
	printf("events received   %llu in %llu batches\n",
	    (unsigned long long)ss->events_received,
	    (unsigned long long)ss->batches);
	printf("incidents         %llu:", (unsigned long long)ss->incidents);
	for (i = 0; i < STORE_ST_COUNT; i++)
		printf("%s %s %llu", i ? "," : "", store_status_name(i),
		    (unsigned long long)ss->by_status[i]);
	printf("\nby severity      ");
	for (i = 0; i < 5; i++)
		printf("%s %s %llu", i ? "," : "", store_severity_name(i),
		    (unsigned long long)ss->by_severity[i]);
	printf("\nevidence events   %llu\naudit entries     %llu\n",
	    (unsigned long long)ss->evidence, (unsigned long long)ss->audit);
	printf("forwarded         %llu (%llu pending)\n",
	    (unsigned long long)ss->forwarded,
	    (unsigned long long)ss->outbox_pending);
}

/* Correlation windows per agency, as the correlator last wrote them. */
struct win_out {
	struct soc_sbuf	*b;		/* JSON, or NULL: text */
	int64_t		 now;
	int		 n;
};

static int
stats_window(void *arg, const struct store_window_count *w)
{
	struct win_out *wo = arg;
	char age[32];
	int n = 0;

	if (wo->b == NULL) {
		if (wo->n++ == 0) {
			store_age_format(wo->now - w->updated_at, age, sizeof(age));
			printf("correlation windows (the correlator's, %s ago)\n",
			    age);
		}
		printf("  %-16s %llu held, %llu evicted\n", w->agency,
		    (unsigned long long)w->held, (unsigned long long)w->evicted);
		return 0;
	}
	soc_sbuf_adds(wo->b, wo->n++ ? ",{" : "{");
	j_str(wo->b, &n, "agency", w->agency);
	j_int(wo->b, &n, "held", (long long)w->held);
	j_int(wo->b, &n, "evicted", (long long)w->evicted);
	soc_sbuf_adds(wo->b, "}");
	return 0;
}

/*
 * The national role's bounds per province (issue 15 item 9): alerts
 * deferred over national.max_alerts_per_min, agency codes new or invalid.
 */
static int
stats_province(void *arg, const struct store_province_count *p)
{
	struct win_out *wo = arg;
	char age[32];
	int n = 0;

	if (wo->b == NULL) {
		if (wo->n++ == 0)
			printf("provinces (alerts deferred over"
			    " national.max_alerts_per_min; agency codes new or"
			    " invalid)\n");
		if (p->last_deferred_at > 0)
			store_age_format(wo->now - p->last_deferred_at, age,
			    sizeof(age));
		printf("  %-16s deferred %llu in %llu batches%s%s%s, new agency"
		    " %llu%s%s%s, invalid agency %llu\n", p->name,
		    (unsigned long long)p->deferred,
		    (unsigned long long)p->deferred_batches,
		    p->last_deferred_at > 0 ? " (last " : "",
		    p->last_deferred_at > 0 ? age : "",
		    p->last_deferred_at > 0 ? " ago)" : "",
		    (unsigned long long)p->agency_new,
		    p->last_new_agency[0] ? " (last " : "", p->last_new_agency,
		    p->last_new_agency[0] ? ")" : "",
		    (unsigned long long)p->agency_invalid);
		return 0;
	}
	soc_sbuf_adds(wo->b, wo->n++ ? ",{" : "{");
	j_str(wo->b, &n, "name", p->name);
	j_int(wo->b, &n, "deferred", (long long)p->deferred);
	j_int(wo->b, &n, "deferred_batches", (long long)p->deferred_batches);
	if (p->last_deferred_at > 0)
		j_time(wo->b, &n, "last_deferred", p->last_deferred_at);
	else {
		j_key(wo->b, &n, "last_deferred");
		soc_sbuf_adds(wo->b, "null");
	}
	j_int(wo->b, &n, "agency_new", (long long)p->agency_new);
	j_int(wo->b, &n, "agency_invalid", (long long)p->agency_invalid);
	j_str(wo->b, &n, "last_new_agency", p->last_new_agency);
	soc_sbuf_adds(wo->b, "}");
	return 0;
}

/* The last SIGHUP reload (issue 15 item 19), as text or a JSON member. */
static int
stats_reload(struct ctx *c, struct soc_sbuf *b, int *n)
{
	struct store_reload r;
	char msg[1300], age[32];
	int rc, m = 0;

	if ((rc = store_reload_get(c->st, &r, msg, sizeof(msg))) == -1)
		return -1;
	if (b == NULL) {
		if (rc == 0) {
			printf("last reload       none since the database was"
			    " made\n\n");
			return 0;
		}
		store_age_format(c->now - r.at, age, sizeof(age));
		printf("last reload       %s ago: %s, %s\n\n", age,
		    r.ok ? "ok" : "FAILED", r.message);
		return 0;
	}
	j_key(b, n, "last_reload");
	if (rc == 0) {
		soc_sbuf_adds(b, "null");
		return 0;
	}
	soc_sbuf_adds(b, "{");
	j_time(b, &m, "at", r.at);
	j_bool(b, &m, "ok", r.ok);
	j_int(b, &m, "rules", (long long)r.rules);
	j_str(b, &m, "message", r.message);
	soc_sbuf_adds(b, "}");
	return 0;
}

/* The endpoint inventory's totals (issue 18), as text or a JSON member. */
static int
stats_endpoints(struct ctx *c, struct soc_sbuf *b, int *n)
{
	uint64_t held, over, toolong;
	int m = 0;

	if (store_endpoint_totals(c->st, &held, &over, &toolong) == -1)
		return -1;
	if (b == NULL) {
		printf("endpoints         %llu (hosts refused: %llu over"
		    " endpoints.max_per_agency, %llu with an id too long)\n",
		    (unsigned long long)held, (unsigned long long)over,
		    (unsigned long long)toolong);
		return 0;
	}
	j_key(b, n, "endpoints");
	soc_sbuf_adds(b, "{");
	j_int(b, &m, "held", (long long)held);
	j_int(b, &m, "over_quota", (long long)over);
	j_int(b, &m, "too_long", (long long)toolong);
	soc_sbuf_adds(b, "}");
	return 0;
}

/* The totals as JSON members, up to the opening of "per_sensor". */
static int
stats_json(struct ctx *c, struct soc_sbuf *b, const struct store_stats *ss)
{
	struct win_out wo = { b, c->now, 0 };
	int i, n = 0, m = 0;

	soc_sbuf_adds(b, "{");
	j_int(b, &n, "agencies", (long long)ss->agencies);
	j_int(b, &n, "sensors", (long long)ss->sensors);
	j_int(b, &n, "sensors_revoked", (long long)ss->sensors_revoked);
	j_int(b, &n, "events_received", (long long)ss->events_received);
	j_int(b, &n, "batches", (long long)ss->batches);
	j_int(b, &n, "incidents", (long long)ss->incidents);
	j_key(b, &n, "by_status");
	soc_sbuf_adds(b, "{");
	for (i = 0; i < STORE_ST_COUNT; i++)
		j_int(b, &m, store_status_name(i), (long long)ss->by_status[i]);
	soc_sbuf_adds(b, "}");
	j_key(b, &n, "by_severity");
	soc_sbuf_adds(b, "{");
	for (i = 0, m = 0; i < 5; i++)
		j_int(b, &m, store_severity_name(i), (long long)ss->by_severity[i]);
	soc_sbuf_adds(b, "}");
	j_int(b, &n, "evidence", (long long)ss->evidence);
	j_int(b, &n, "audit", (long long)ss->audit);
	j_int(b, &n, "forwarded", (long long)ss->forwarded);
	j_int(b, &n, "outbox_pending", (long long)ss->outbox_pending);
	j_key(b, &n, "correlation_windows");
	soc_sbuf_adds(b, "[");
	if (store_windows_foreach(c->st, stats_window, &wo) != 0)
		return -1;
	soc_sbuf_adds(b, "]");
	wo.n = 0;
	j_key(b, &n, "provinces");
	soc_sbuf_adds(b, "[");
	if (store_province_foreach(c->st, stats_province, &wo) != 0)
		return -1;
	soc_sbuf_adds(b, "]");
	if (stats_reload(c, b, &n) == -1)
		return -1;
	if (stats_endpoints(c, b, &n) == -1)
		return -1;
	j_key(b, &n, "per_sensor");
	soc_sbuf_adds(b, "[");
	return 0;
}

/* --csv prints only the per-sensor list (the totals are one line each
 * in the text form and one object in JSON). */
int
cmd_stats(struct ctx *c, int argc, char **argv)
{
	struct store_stats ss;
	struct win_out wo = { NULL, c->now, 0 };
	struct out o;
	enum out_fmt fmt;
	int json = 0, csv = 0, rc;
	const struct optspec spec[] = {
		{ "json", NULL, &json }, { "csv", NULL, &csv }, { NULL, NULL, NULL }
	};

	if (args(c, argc, argv, spec, 0, 0) < 0 ||
	    out_fmt_pick(c, json, csv, &fmt) == -1 || db_open(c) == -1)
		return 1;
	if (store_stats_get(c->st, &ss) == -1)
		return db_fail(c);
	if (fmt == OUT_TABLE) {
		stats_text(&ss);
		if (stats_endpoints(c, NULL, NULL) == -1 ||
		    stats_reload(c, NULL, NULL) == -1)	/* ends the totals */
			return db_fail(c);
		if (store_windows_foreach(c->st, stats_window, &wo) != 0)
			return db_fail(c);
		if (wo.n > 0)
			printf("\n");
		wo.n = 0;
		if (store_province_foreach(c->st, stats_province, &wo) != 0)
			return db_fail(c);
		if (wo.n > 0)
			printf("\n");
	}
	out_begin(&o, c, fmt, stats_cols, COL_COUNT(stats_cols));
	if (fmt == OUT_JSON) {
		soc_sbuf_reset(&o.b);
		if (stats_json(c, &o.b, &ss) == -1) {
			out_free(&o);
			return db_fail(c);
		}
	}
	rc = store_sensor_foreach(c->st, NULL, stats_sensor, &o);
	if (rc != 0 || fmt == OUT_CSV)
		return out_end(&o, rc, "");
	if (fmt == OUT_JSON) {
		soc_sbuf_adds(&o.b, "]}");
		rc = j_print(&o.b);
	} else
		rc = o.n ? table_print(&o.t) : 0;
	out_free(&o);
	return rc;
}
