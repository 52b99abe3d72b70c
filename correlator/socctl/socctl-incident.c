/*
 * socctl's incident commands: the list with its filters, one incident
 * with its evidence and audit trail, the analyst's moves (ack,
 * investigate, resolve, false-positive, reopen, assign, note, report a
 * stage)
 * and the audit trail.  The state machine itself is store.c's; these
 * commands parse, call it and say what happened.  An incident's JSON
 * carries its information system and its reporting deadlines.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soc/json.h"
#include "soc/util.h"
#include "intel.h"
#include "store.h"
#include "store-intel.h"
#include "socctl.h"

#define IN(f)	offsetof(struct store_incident, f)

static void
incident_severity(struct ctx *c, const void *row, struct cell *v)
{
	(void)c;
	v->s = store_severity_name(((const struct store_incident *)row)->severity);
}

static void
incident_status(struct ctx *c, const void *row, struct cell *v)
{
	(void)c;
	v->s = store_status_name(((const struct store_incident *)row)->status);
}

/* The table names a rule by its title, or its id when it has none. */
static void
incident_rule(struct ctx *c, const void *row, struct cell *v)
{
	const struct store_incident *in = row;

	(void)c;
	v->s = in->rule_title[0] ? in->rule_title : in->rule_id;
}

/* "system": {"code", "level"}, or null when the sensor has none. */
static void
incident_system(struct ctx *c, const void *row, struct cell *v)
{
	static struct soc_sbuf b;
	const struct store_incident *in = row;
	int n = 0;

	(void)c;
	if (in->system_code[0] == '\0') {
		v->null = 1;
		return;
	}
	soc_sbuf_reset(&b);
	soc_sbuf_adds(&b, "{");
	j_str(&b, &n, "code", in->system_code);
	j_int(&b, &n, "level", in->system_level);
	soc_sbuf_adds(&b, "}");
	v->s = b.oom ? "null" : b.data;
	v->valid = 1;
}

static int
deadline_json(void *arg, const struct store_deadline_state *d)
{
	struct soc_sbuf *b = arg;
	int n = 0;

	if (b->len > 1)
		soc_sbuf_adds(b, ",");
	soc_sbuf_adds(b, "{");
	j_str(b, &n, "stage", store_stage_name(d->stage));
	j_time(b, &n, "due", d->due);
	j_time(b, &n, "done", d->done);
	j_str(b, &n, "by", d->by[0] ? d->by : NULL);
	j_bool(b, &n, "overdue", d->overdue);
	soc_sbuf_adds(b, "}");
	return 0;
}

/* "deadlines": [{"stage", "due", "done", "by", "overdue"}], from the
 * policy of the incident's severity (store-policy.c). */
static void
incident_deadlines(struct ctx *c, const void *row, struct cell *v)
{
	static struct soc_sbuf b;
	const struct store_incident *in = row;

	soc_sbuf_reset(&b);
	soc_sbuf_adds(&b, "[");
	if (store_incident_deadlines(c->st, in->id, c->now, deadline_json,
	    &b) != 0) {
		v->null = 1;
		return;
	}
	soc_sbuf_adds(&b, "]");
	v->s = b.oom ? "null" : b.data;
	v->valid = 1;
}

/*
 * On a national database, where a forwarded incident came from (DESIGN.md
 * 9): {"name", "agency", "incident_id"}; null for one raised here.
 */
static void
incident_origin(struct ctx *c, const void *row, struct cell *v)
{
	static struct soc_sbuf b;
	struct store_origin o;
	int n = 0;

	if (store_incident_origin(c->st, ((const struct store_incident *)row)->id,
	    &o) != 1) {
		v->null = 1;
		return;
	}
	soc_sbuf_reset(&b);
	soc_sbuf_adds(&b, "{");
	j_str(&b, &n, "name", o.name);
	j_str(&b, &n, "agency", o.agency);
	j_int(&b, &n, "incident_id", o.incident_id);
	soc_sbuf_adds(&b, "}");
	v->s = b.oom ? NULL : b.data;
	v->null = b.oom;
	v->valid = 1;
}

/* The table's ORIGIN: NAME/AGENCY#ID of a forwarded incident, else "". */
static void
incident_origin_text(struct ctx *c, const void *row, struct cell *v)
{
	static char buf[256];
	struct store_origin o;

	buf[0] = '\0';
	if (store_incident_origin(c->st, ((const struct store_incident *)row)->id,
	    &o) == 1)
		snprintf(buf, sizeof(buf), "%s/%s#%lld", o.name, o.agency,
		    (long long)o.incident_id);
	v->s = buf;
}

/* The rule's tags, a JSON array (stored comma-separated). */
static void
incident_tags(struct ctx *c, const void *row, struct cell *v)
{
	static struct soc_sbuf b;
	const char *p = ((const struct store_incident *)row)->rule_tags, *e;
	int n = 0;

	(void)c;
	soc_sbuf_reset(&b);
	soc_sbuf_adds(&b, "[");
	while (p != NULL && *p != '\0') {
		e = p + strcspn(p, ",");
		if (e > p) {
			soc_sbuf_adds(&b, n++ ? "," : "");
			soc_sbuf_json_str(&b, p, (size_t)(e - p));
		}
		p = *e == ',' ? e + 1 : e;
	}
	soc_sbuf_adds(&b, "]");
	v->s = b.oom ? "[]" : b.data;
	v->valid = 1;
}

/* Raised by retro intel (tag soc.retro): true or false. */
static void
incident_retro(struct ctx *c, const void *row, struct cell *v)
{
	const char *p = ((const struct store_incident *)row)->rule_tags;
	size_t n = strlen("soc.retro");
	int yes = 0;

	(void)c;
	while (p != NULL && *p != '\0' && !yes) {
		size_t len = strcspn(p, ",");

		yes = len == n && memcmp(p, "soc.retro", n) == 0;
		p += len + (p[len] == ',');
	}
	v->s = yes ? "true" : "false";
	v->valid = 1;
}

/* The earlier incident of the same key this one follows, or null. */
static void
incident_related(struct ctx *c, const void *row, struct cell *v)
{
	const struct store_incident *in = row;

	(void)c;
	v->i = in->related;
	v->null = in->related == 0;
}

/* The incident table; on a national database an ORIGIN column too. */
#define INCIDENT_COLS\
	{ "id", ">ID", 0, COL_INT, 0, IN(id), NULL },\
	{ "rule.id", NULL, 0, COL_STR, 0, IN(rule_id), NULL },\
	{ "rule.title", NULL, 0, COL_STR, 0, IN(rule_title), NULL },\
	{ "rule.level", NULL, 0, COL_STR, 0, IN(rule_level), NULL },\
	{ "rule.author", NULL, 0, COL_STR, 0, IN(rule_author), NULL },\
	{ "rule.tags", NULL, 0, COL_RAW, 0, 0, incident_tags },\
	{ NULL, "RULE:44", 4, COL_STR, 0, 0, incident_rule },\
	{ "agency", "AGENCY", 3, COL_STR, 0, IN(agency), NULL },\
	{ "sensor", NULL, 0, COL_STR, 0, IN(sensor), NULL },\
	{ "severity", "SEVERITY", 1, COL_STR, 0, 0, incident_severity },\
	{ "status", "STATUS", 2, COL_STR, 0, 0, incident_status },\
	{ "assignee", "ASSIGNEE", 8, COL_STR, COL_NULLEMPTY | COL_DASH,\
	  IN(assignee), NULL },\
	{ "group_key", "GROUP:32", 5, COL_STR, COL_DASH, IN(group_key), NULL },\
	{ "first_seen", NULL, 0, COL_TIME, 0, IN(first_seen), NULL },\
	{ "last_seen", "LAST SEEN", 7, COL_TIME, 0, IN(last_seen), NULL },\
	{ "count", ">COUNT", 6, COL_UINT, 0, IN(count), NULL },\
	{ "created_at", NULL, 0, COL_TIME, 0, IN(created_at), NULL },\
	{ "updated_at", NULL, 0, COL_TIME, 0, IN(updated_at), NULL },\
	{ "evidence_kept", NULL, 0, COL_UINT, 0, IN(evidence), NULL },\
	{ "system", NULL, 0, COL_RAW, 0, 0, incident_system },\
	{ "deadlines", NULL, 0, COL_RAW, 0, 0, incident_deadlines },\
	{ "origin", NULL, 0, COL_RAW, 0, 0, incident_origin },\
	{ "category", NULL, 0, COL_STR, 0, IN(category), NULL },\
	{ "related", NULL, 0, COL_INT, 0, 0, incident_related },\
	{ "retro", NULL, 0, COL_RAW, 0, 0, incident_retro },

static const struct col incident_cols[] = {
	INCIDENT_COLS
};

static const struct col incident_cols_national[] = {
	INCIDENT_COLS
	{ NULL, "ORIGIN", 9, COL_STR, COL_DASH, 0, incident_origin_text },
};

static int
incident_row(void *arg, const struct store_incident *in)
{
	return out_row(arg, in);
}

/*
 * Takes every "--NAME VALUE" / "--NAME=VALUE" out of argv (a repeatable
 * option, which args() would keep only the last of) into v[].  Returns
 * how many, or -1 after the error.
 */
static int
take_repeated(struct ctx *c, int *argc, char **argv, const char *name,
    const char **v, size_t max)
{
	size_t nlen = strlen(name), n = 0;
	int i, o = 1;
	const char *a;

	for (i = 1; i < *argc; i++) {
		a = argv[i];
		if (strcmp(a, "--") == 0) {
			while (i < *argc)
				argv[o++] = argv[i++];
			break;
		}
		if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, nlen) != 0 ||
		    (a[2 + nlen] != '\0' && a[2 + nlen] != '=')) {
			argv[o++] = argv[i];
			continue;
		}
		if (n == max) {
			cmd_err(c, "at most %zu --%s", max, name);
			return -1;
		}
		if (a[2 + nlen] == '=')
			v[n++] = a + 3 + nlen;
		else if (i + 1 < *argc)
			v[n++] = argv[++i];
		else {
			cmd_err(c, "--%s needs a value", name);
			return -1;
		}
	}
	*argc = o;
	return (int)n;
}

/* --status: a state, or open / closed / all. */
static int
search_status(struct ctx *c, const char *status, struct store_search *q)
{
	if (status == NULL || strcmp(status, "all") == 0)
		return 0;
	if (strcmp(status, "open") == 0)
		q->open_only = 1;
	else if (strcmp(status, "closed") == 0)
		q->closed_only = 1;
	else if ((q->status = store_status_parse(status)) < 0) {
		cmd_err(c, "unknown status '%s' (new, acknowledged, investigating,"
		    " resolved, false_positive, open, closed or all)", status);
		return -1;
	}
	return 0;
}

int
cmd_incidents(struct ctx *c, int argc, char **argv)
{
	const char *status = NULL, *minsev = NULL, *since = NULL, *until = NULL;
	const char *limit = NULL, *sort = NULL;
	struct store_search q;
	struct out o;
	enum out_fmt fmt;
	char *end;
	int json = 0, csv = 0, n;
	const struct optspec spec[] = {
		{ "status", &status, NULL }, { "min-severity", &minsev, NULL },
		{ "since", &since, NULL }, { "until", &until, NULL },
		{ "ip", &q.ip, NULL }, { "rule", &q.rule, NULL },
		{ "category", &q.category, NULL }, { "country", &q.country, NULL },
		{ "assignee", &q.assignee, NULL }, { "text", &q.text, NULL },
		{ "overdue", NULL, &q.overdue }, { "sort", &sort, NULL },
		{ "limit", &limit, NULL }, { "json", NULL, &json },
		{ "csv", NULL, &csv }, { NULL, NULL, NULL }
	};

	store_search_init(&q);
	if ((n = take_repeated(c, &argc, argv, "agency", q.agencies,
	    STORE_SEARCH_AGENCIES)) < 0)
		return 1;
	q.nagencies = (size_t)n;
	if (args(c, argc, argv, spec, 0, 0) < 0 ||
	    out_fmt_pick(c, json, csv, &fmt) == -1 ||
	    search_status(c, status, &q) == -1)
		return 1;
	q.now_ns = c->now;
	if (minsev != NULL && (q.min_severity = store_severity_parse(minsev)) < 0)
		return cmd_err(c, "unknown severity '%s' (informational, low,"
		    " medium, high, critical or 0-4)", minsev);
	if (since != NULL && parse_when(since, c->now, -1, &q.since_ns) == -1)
		return cmd_err(c, "--since wants a duration (15m, 2h, 7d) or a"
		    " date (2026-11-27, read in %s), not '%s'", c->tz, since);
	if (until != NULL && parse_when(until, c->now, -1, &q.until_ns) == -1)
		return cmd_err(c, "--until wants a date (2026-11-27, read in %s)"
		    " or a duration ago, not '%s'", c->tz, until);
	if (sort != NULL && (q.sort = store_sort_parse(sort)) < 0)
		return cmd_err(c, "--sort wants updated, created, last_seen or"
		    " severity, not '%s'", sort);
	if (limit != NULL && ((q.limit = strtoll(limit, &end, 10)) <= 0 || *end))
		return cmd_err(c, "--limit wants a positive number");
	if (db_open(c) == -1)
		return 1;
	if (fmt == OUT_TABLE && store_has_forwarded(c->st) == 1)
		out_begin(&o, c, fmt, incident_cols_national,
		    COL_COUNT(incident_cols_national));
	else
		out_begin(&o, c, fmt, incident_cols, COL_COUNT(incident_cols));
	return out_end(&o, store_search_foreach(c->st, &q, incident_row, &o),
	    "no incidents");
}

struct show_ctx {
	struct ctx	*c;
	struct soc_sbuf	 b;
	int		 json;
	int		 n;
};

static int
show_deadline(void *arg, const struct store_deadline_state *d)
{
	struct show_ctx *s = arg;
	char t[32], u[32];

	time_human(s->c, d->due, t, sizeof(t));
	if (s->n++ == 0)
		printf("\nDeadlines:\n");
	printf("  %-8s due %s", store_stage_name(d->stage),
	    d->due ? t : "after resolution");
	if (d->done != 0) {
		time_human(s->c, d->done, u, sizeof(u));
		printf(", met %s by ", u);
		put_clean(stdout, d->by);
	} else if (d->overdue)
		fputs(", OVERDUE", stdout);
	putchar('\n');
	return 0;
}

/* The indicator behind an incident of category intel (store-intel.c). */
static int
show_indicator(void *arg, const struct intel_ind *ind, const char *field)
{
	struct show_ctx *s = arg;
	int n = 0;

	if (s->json) {
		soc_sbuf_adds(&s->b, ",\"indicator\":{");
		j_str(&s->b, &n, "type", intel_type_name(ind->type));
		j_str(&s->b, &n, "value", ind->value);
		j_str(&s->b, &n, "source", ind->source);
		j_str(&s->b, &n, "tags", ind->tags);
		j_int(&s->b, &n, "confidence", ind->confidence);
		soc_sbuf_adds(&s->b, "}");
		return 0;
	}
	printf("  indicator: %s ", intel_type_name(ind->type));
	put_clean(stdout, ind->value);
	fputs(" (set ", stdout);
	put_clean(stdout, ind->source);
	printf(", confidence %d", ind->confidence);
	if (ind->tags[0] != '\0') {
		fputs(", tags ", stdout);
		put_clean(stdout, ind->tags);
	}
	fputs(")\n", stdout);
	(void)field;
	return 0;
}

static int
show_incident(void *arg, const struct store_incident *in)
{
	struct show_ctx *s = arg;
	struct store_origin o;
	char t1[32], t2[32];

	if (s->json) {
		out_json_members(&s->b, s->c, incident_cols,
		    COL_COUNT(incident_cols), in);
		return 0;
	}
	printf("Incident %lld: ", (long long)in->id);
	put_clean(stdout, in->rule_title);
	printf("\n  status:    %s", store_status_name(in->status));
	if (in->assignee[0] != '\0') {
		fputs(", assigned to ", stdout);
		put_clean(stdout, in->assignee);
	}
	printf("\n  severity:  %s\n  rule:      ", store_severity_name(in->severity));
	put_clean(stdout, in->rule_id);
	printf(" (level %s", in->rule_level);
	if (in->rule_author[0] != '\0') {
		fputs(", author ", stdout);
		put_clean(stdout, in->rule_author);
	}
	printf(")\n  category:  %s", in->category);
	if (in->related != 0)
		printf(" (follows incident %lld)", (long long)in->related);
	printf("\n  agency:    %s\n  sensor:    ", in->agency);
	put_clean(stdout, in->sensor);
	if (in->system_code[0] != '\0') {
		fputs("\n  system:    ", stdout);
		put_clean(stdout, in->system_code);
		printf(" (security level %d)", in->system_level);
	}
	if (store_incident_origin(s->c->st, in->id, &o) == 1) {
		fputs("\n  origin:    ", stdout);
		put_clean(stdout, o.name);
		printf(" incident %lld revision %lld, agency ",
		    (long long)o.incident_id, (long long)o.revision);
		put_clean(stdout, o.agency);
	}
	fputs("\n  group:     ", stdout);
	put_clean(stdout, in->group_key[0] ? in->group_key : "-");
	time_human(s->c, in->first_seen, t1, sizeof(t1));
	time_human(s->c, in->last_seen, t2, sizeof(t2));
	printf("\n  events:    %llu, first %s, last %s\n",
	    (unsigned long long)in->count, t1, t2);
	time_human(s->c, in->created_at, t1, sizeof(t1));
	time_human(s->c, in->updated_at, t2, sizeof(t2));
	printf("  opened:    %s, updated %s\n", t1, t2);
	if (store_intel_incident(s->c->st, in->id, show_indicator, s) == -1)
		return -1;
	s->n = 0;
	if (store_incident_deadlines(s->c->st, in->id, s->c->now, show_deadline,
	    s) != 0)
		return -1;
	s->n = 0;
	printf("\nEvidence (%llu of %llu events kept):\n",
	    (unsigned long long)in->evidence, (unsigned long long)in->count);
	return 0;
}

static int
show_evidence(void *arg, int seq, const char *json, int valid)
{
	struct show_ctx *s = arg;

	if (s->json) {
		if (s->n++ > 0)
			soc_sbuf_adds(&s->b, ",");
		if (valid)
			soc_sbuf_adds(&s->b, json);
		else
			soc_sbuf_json_str(&s->b, json, strlen(json));
		return 0;
	}
	printf("  %2d ", seq + 1);
	put_clean(stdout, json);
	putchar('\n');
	return 0;
}

static int
show_audit(void *arg, const struct store_audit *a)
{
	struct show_ctx *s = arg;
	char t[32];
	int n = 0;

	if (s->json) {
		if (s->n++ > 0)
			soc_sbuf_adds(&s->b, ",");
		soc_sbuf_adds(&s->b, "{");
		j_time(&s->b, &n, "at", a->at);
		j_str(&s->b, &n, "actor", a->actor);
		j_str(&s->b, &n, "action", a->action);
		j_str(&s->b, &n, "note", a->note[0] ? a->note : NULL);
		soc_sbuf_adds(&s->b, "}");
		return 0;
	}
	time_human(s->c, a->at, t, sizeof(t));
	printf("  %s  ", t);
	put_clean(stdout, a->actor);
	printf("  %s", a->action);
	if (a->note[0] != '\0') {
		fputs("  ", stdout);
		put_clean(stdout, a->note);
	}
	putchar('\n');
	return 0;
}

int
cmd_incident_show(struct ctx *c, int argc, char **argv)
{
	struct show_ctx s;
	int64_t id, context = -1;
	int json = 0, rc, i, j;
	const struct optspec spec[] = { { "json", NULL, &json }, { NULL, NULL, NULL } };

	/* --context [DUR]: the value is optional, so it is taken here */
	for (i = j = 1; i < argc; i++) {
		if (strcmp(argv[i], "--context") != 0) {
			argv[j++] = argv[i];
			continue;
		}
		context = 3600 * SOC_NS;
		if (i + 1 < argc && argv[i + 1][0] != '-' &&
		    soc_parse_duration(argv[i + 1]) > 0)
			context = soc_parse_duration(argv[++i]);
	}
	argc = j;
	if (args(c, argc, argv, spec, 1, 1) < 0 || parse_id(c, argv[1], &id) == -1 ||
	    db_open(c) == -1)
		return 1;
	memset(&s, 0, sizeof(s));
	s.c = c;
	s.json = json;
	soc_sbuf_init(&s.b);
	if (json)
		soc_sbuf_adds(&s.b, "{");
	if ((rc = store_incident_get(c->st, id, show_incident, &s)) != 1) {
		soc_sbuf_free(&s.b);
		return rc < 0 ? db_fail(c) : errx1("incident show: no such incident"
		    " %lld (see `socctl incidents`)", (long long)id);
	}
	if (json && store_intel_incident(c->st, id, show_indicator, &s) == -1)
		goto fail;
	if (json)
		soc_sbuf_adds(&s.b, ",\"evidence\":[");
	if (store_evidence_foreach(c->st, id, show_evidence, &s) != 0)
		goto fail;
	if (json)
		soc_sbuf_adds(&s.b, "],\"audit\":[");
	else
		printf("\nAudit trail:\n");
	s.n = 0;
	if (store_audit_foreach(c->st, id, show_audit, &s) != 0)
		goto fail;
	if (json) {
		soc_sbuf_adds(&s.b, "]");
		if (context >= 0) {
			soc_sbuf_adds(&s.b, ",\"context\":");
			if (events_context(c, id, context, &s.b) != 0) {
				soc_sbuf_free(&s.b);
				return 1;
			}
		}
		soc_sbuf_adds(&s.b, "}");
		return j_print(&s.b);
	}
	soc_sbuf_free(&s.b);
	if (context >= 0)
		return events_context(c, id, context, NULL);
	return 0;
fail:
	soc_sbuf_free(&s.b);
	return db_fail(c);
}

/* ack, investigate, resolve, false-positive: the target is cmd->arg;
 * reopen (new): a closed incident back to new. */
int
cmd_incident_move(struct ctx *c, int argc, char **argv)
{
	static const char *const done[STORE_ST_COUNT] = {
		"reopened", "acknowledged", "under investigation",
		"resolved", "closed as false positive"
	};
	const char *by = NULL, *note = NULL;
	const struct optspec spec[] = {
		{ "by", &by, NULL }, { "note", &note, NULL }, { NULL, NULL, NULL }
	};
	int64_t id;

	if (args(c, argc, argv, spec, 1, 1) < 0 || parse_id(c, argv[1], &id) == -1 ||
	    need(c, by, "--by NAME (who does it, for the audit trail)") == -1 ||
	    db_open(c) == -1)
		return 1;
	if (c->cmd->arg == STORE_ST_NEW) {
		if (store_incident_reopen(c->st, id, by, note, c->now) == -1)
			return errx1("%s", db_why(c));
	} else if (store_incident_transition(c->st, id, c->cmd->arg, by, note,
	    c->now) == -1)
		return errx1("%s", db_why(c));
	printf("incident %lld %s by %s\n", (long long)id,
	    done[c->cmd->arg], by);
	return 0;
}

int
cmd_incident_assign(struct ctx *c, int argc, char **argv)
{
	const char *by = NULL, *to = NULL, *note = NULL;
	const struct optspec spec[] = {
		{ "to", &to, NULL }, { "by", &by, NULL }, { "note", &note, NULL },
		{ NULL, NULL, NULL }
	};
	int64_t id;

	if (args(c, argc, argv, spec, 1, 1) < 0 || parse_id(c, argv[1], &id) == -1)
		return 1;
	if (to == NULL)
		return cmd_err(c, "--to NAME is required (--to '' unassigns)");
	if (need(c, by, "--by NAME (who does it, for the audit trail)") == -1 ||
	    db_open(c) == -1)
		return 1;
	if (store_incident_assign(c->st, id, to, by, note, c->now) == -1)
		return errx1("%s", db_why(c));
	if (to[0] != '\0')
		printf("incident %lld assigned to %s by %s\n", (long long)id, to, by);
	else
		printf("incident %lld unassigned by %s\n", (long long)id, by);
	return 0;
}

int
cmd_incident_note(struct ctx *c, int argc, char **argv)
{
	const char *by = NULL, *note = NULL;
	const struct optspec spec[] = {
		{ "by", &by, NULL }, { "note", &note, NULL }, { NULL, NULL, NULL }
	};
	int64_t id;

	if (args(c, argc, argv, spec, 1, 1) < 0 || parse_id(c, argv[1], &id) == -1 ||
	    need(c, by, "--by NAME") == -1 || need(c, note, "--note TEXT") == -1 ||
	    db_open(c) == -1)
		return 1;
	if (store_incident_note(c->st, id, by, note, c->now) == -1)
		return errx1("%s", db_why(c));
	printf("note added to incident %lld\n", (long long)id);
	return 0;
}

int
cmd_incident_report(struct ctx *c, int argc, char **argv)
{
	const char *by = NULL, *note = NULL, *stage = NULL;
	const struct optspec spec[] = {
		{ "stage", &stage, NULL }, { "by", &by, NULL },
		{ "note", &note, NULL }, { NULL, NULL, NULL }
	};
	int64_t id;
	int st;

	if (args(c, argc, argv, spec, 1, 1) < 0 || parse_id(c, argv[1], &id) == -1 ||
	    need(c, stage, "--stage initial|details|final") == -1 ||
	    need(c, by, "--by NAME (who reported, for the audit trail)") == -1)
		return 1;
	if ((st = store_stage_parse(stage)) < 0)
		return cmd_err(c, "unknown stage '%s' (initial, details or final)",
		    stage);
	if (db_open(c) == -1)
		return 1;
	if (store_incident_report(c->st, id, st, by, note, c->now) == -1)
		return errx1("%s", db_why(c));
	printf("incident %lld: %s report on record, by %s\n", (long long)id,
	    stage, by);
	return 0;
}

#define AU(f)	offsetof(struct store_audit, f)

static void
audit_incident(struct ctx *c, const void *row, struct cell *v)
{
	const struct store_audit *a = row;

	(void)c;
	if (a->incident_id > 0)
		v->i = a->incident_id;
	else
		v->null = 1;
}

static const struct col audit_cols[] = {
	{ "id", NULL, 0, COL_INT, 0, AU(id), NULL },
	{ "incident", ">INCIDENT", 1, COL_INT, COL_DASH, 0, audit_incident },
	{ "at", "AT", 0, COL_TIME, 0, AU(at), NULL },
	{ "actor", "ACTOR", 2, COL_STR, 0, AU(actor), NULL },
	{ "action", "ACTION", 3, COL_STR, 0, AU(action), NULL },
	{ "note", "NOTE:60", 4, COL_STR, COL_NULLEMPTY, AU(note), NULL },
};

static int
audit_row(void *arg, const struct store_audit *a)
{
	return out_row(arg, a);
}

int
cmd_audit(struct ctx *c, int argc, char **argv)
{
	const char *inc = NULL;
	struct out o;
	enum out_fmt fmt;
	int64_t id = -1;
	int json = 0, csv = 0;
	const struct optspec spec[] = {
		{ "incident", &inc, NULL }, { "json", NULL, &json },
		{ "csv", NULL, &csv }, { NULL, NULL, NULL }
	};

	if (args(c, argc, argv, spec, 0, 0) < 0 ||
	    out_fmt_pick(c, json, csv, &fmt) == -1 ||
	    (inc != NULL && parse_id(c, inc, &id) == -1) || db_open(c) == -1)
		return 1;
	out_begin(&o, c, fmt, audit_cols, COL_COUNT(audit_cols));
	return out_end(&o, store_audit_foreach(c->st, id, audit_row, &o),
	    "no audit entries");
}
