/*
 * socctl's commands for security levels and reporting deadlines: the
 * information systems of an agency with their level (system add, system
 * list), the policy per level (level list, level set: how far an
 * incident on such a system is raised, how long an assessment stays
 * valid) and the reporting deadlines per severity (deadline list,
 * deadline set).  The numbers are data in the store (store-policy.c);
 * every change is audited with the Unix user who made it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soc/json.h"
#include "soc/util.h"
#include "store.h"
#include "socctl.h"

/* "5d", "72h", "2s": the largest unit that divides ns; "-" for none. */
static void
dur_fmt(int64_t ns, char *buf, size_t len)
{
	static const struct { int64_t ns; char unit; } u[] = {
		{ 86400 * SOC_NS, 'd' }, { 3600 * SOC_NS, 'h' },
		{ 60 * SOC_NS, 'm' }, { SOC_NS, 's' },
	};
	size_t i;

	if (ns <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		if (ns % u[i].ns == 0) {
			snprintf(buf, len, "%lld%c", (long long)(ns / u[i].ns),
			    u[i].unit);
			return;
		}
	}
	snprintf(buf, len, "%lldns", (long long)ns);
}

static int
small_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

/* ---- information systems ---- */

int
cmd_system_add(struct ctx *c, int argc, char **argv)
{
	const char *name = NULL, *level = NULL;
	const struct optspec spec[] = {
		{ "name", &name, NULL }, { "level", &level, NULL },
		{ NULL, NULL, NULL }
	};
	char note[512];
	int lv;

	if (args(c, argc, argv, spec, 2, 2) < 0 || need(c, name, "--name NAME") == -1 ||
	    need(c, level, "--level 1..5") == -1)
		return 1;
	if (small_int(level, 1, 5, &lv) == -1)
		return cmd_err(c, "--level wants a security level 1 to 5, not '%s'",
		    level);
	if (db_open(c) == -1 || store_begin(c->st) == -1)
		return c->st ? db_fail(c) : 1;
	snprintf(note, sizeof(note), "%s/%s (%s), level %d", argv[1], argv[2],
	    name, lv);
	if (db_audit_commit(c, store_system_add(c->st, argv[1], argv[2], name, lv,
	    c->now), "system added", note) != 0)
		return 1;
	printf("system %s of %s added, security level %d\n", argv[2], argv[1], lv);
	return 0;
}

#define SY(f)	offsetof(struct store_system, f)

static void
system_level_get(struct ctx *c, const void *row, struct cell *v)
{
	(void)c;
	v->i = ((const struct store_system *)row)->level;
}

static const struct col system_cols[] = {
	{ "agency", "AGENCY", 0, COL_STR, 0, SY(agency), NULL },
	{ "code", "CODE", 1, COL_STR, 0, SY(code), NULL },
	{ "name", "NAME:48", 2, COL_STR, 0, SY(name), NULL },
	{ "level", ">LEVEL", 3, COL_INT, 0, 0, system_level_get },
	{ "sensors", ">SENSORS", 4, COL_UINT, 0, SY(sensors), NULL },
	{ "created_at", NULL, 0, COL_TIME, 0, SY(created_at), NULL },
};

static int
system_row(void *arg, const struct store_system *y)
{
	return out_row(arg, y);
}

int
cmd_system_list(struct ctx *c, int argc, char **argv)
{
	const char *agency = NULL;
	struct out o;
	enum out_fmt fmt;

	if (list_args(c, argc, argv, &agency, &fmt) != 0)
		return 1;
	out_begin(&o, c, fmt, system_cols, COL_COUNT(system_cols));
	return out_end(&o, store_system_foreach(c->st, agency, system_row, &o),
	    "no systems (add one with `socctl system add AGENCY CODE --name NAME"
	    " --level N`)");
}

/* ---- the policy per level ---- */

static void
lp_int(const void *row, size_t off, struct cell *v)
{
	v->i = *(const int *)(const void *)((const char *)row + off);
}

#define LP(f)	offsetof(struct store_level_policy, f)

static void lp_level(struct ctx *c, const void *r, struct cell *v)
{ (void)c; lp_int(r, LP(level), v); }
static void lp_raise(struct ctx *c, const void *r, struct cell *v)
{ (void)c; lp_int(r, LP(raise_by), v); }
static void lp_months(struct ctx *c, const void *r, struct cell *v)
{ (void)c; lp_int(r, LP(assessment_months), v); }
static void
lp_min(struct ctx *c, const void *r, struct cell *v)
{
	(void)c;
	v->s = store_severity_name(((const struct store_level_policy *)r)->
	    min_severity);
}

static const struct col level_cols[] = {
	{ "level", ">LEVEL", 0, COL_INT, 0, 0, lp_level },
	{ "raise_by", ">RAISE", 1, COL_INT, 0, 0, lp_raise },
	{ "min_severity", "MIN SEVERITY", 2, COL_STR, 0, 0, lp_min },
	{ "assessment_months", ">ASSESSMENT VALID (MONTHS)", 3, COL_INT, 0, 0,
	  lp_months },
};

static int
level_row(void *arg, const struct store_level_policy *p)
{
	return out_row(arg, p);
}

int
cmd_level_list(struct ctx *c, int argc, char **argv)
{
	struct out o;
	enum out_fmt fmt;

	if (list_args(c, argc, argv, NULL, &fmt) != 0)
		return 1;
	out_begin(&o, c, fmt, level_cols, COL_COUNT(level_cols));
	return out_end(&o, store_level_policy_foreach(c->st, level_row, &o),
	    "no level policy");
}

int
cmd_level_set(struct ctx *c, int argc, char **argv)
{
	const char *raise = NULL, *minsev = NULL, *months = NULL;
	const struct optspec spec[] = {
		{ "raise", &raise, NULL }, { "min-severity", &minsev, NULL },
		{ "assessment-months", &months, NULL }, { NULL, NULL, NULL }
	};
	struct store_level_policy p;
	char note[256];
	int lv, rc;

	if (args(c, argc, argv, spec, 1, 1) < 0)
		return 1;
	if (small_int(argv[1], 1, 5, &lv) == -1)
		return cmd_err(c, "LEVEL is a security level 1 to 5, not '%s'",
		    argv[1]);
	if (raise == NULL && minsev == NULL && months == NULL)
		return cmd_err(c, "nothing to set (--raise, --min-severity or"
		    " --assessment-months)");
	if (db_open(c) == -1)
		return 1;
	if ((rc = store_level_policy_get(c->st, lv, &p)) == -1)
		return db_fail(c);
	if (rc == 0)
		p = (struct store_level_policy){ lv, 0, 0, 24 };
	if (raise != NULL && small_int(raise, 0, 4, &p.raise_by) == -1)
		return cmd_err(c, "--raise wants 0 to 4 steps, not '%s'", raise);
	if (minsev != NULL && (p.min_severity = store_severity_parse(minsev)) < 0)
		return cmd_err(c, "unknown severity '%s' (informational, low,"
		    " medium, high, critical or 0-4)", minsev);
	if (months != NULL && small_int(months, 1, 120, &p.assessment_months) == -1)
		return cmd_err(c, "--assessment-months wants 1 to 120, not '%s'",
		    months);
	if (store_begin(c->st) == -1)
		return db_fail(c);
	snprintf(note, sizeof(note), "level %d: raise %d, at least %s,"
	    " assessment valid %d months", lv, p.raise_by,
	    store_severity_name(p.min_severity), p.assessment_months);
	if (db_audit_commit(c, store_level_policy_set(c->st, &p),
	    "level policy set", note) != 0)
		return 1;
	printf("%s\n", note);
	return 0;
}

/* ---- deadlines per severity ---- */

static void
dl_sev(struct ctx *c, const void *r, struct cell *v)
{
	(void)c;
	v->s = store_severity_name(((const struct store_deadline *)r)->severity);
}

/* The table shows "24h"; JSON and CSV whole seconds, null for none. */
static void
dl_stage(struct ctx *c, const void *r, int stage, int text, struct cell *v)
{
	static char buf[STORE_STAGES][32];
	int64_t ns = ((const struct store_deadline *)r)->after_ns[stage];

	(void)c;
	if (text) {
		dur_fmt(ns, buf[stage], sizeof(buf[stage]));
		v->s = buf[stage];
	} else if (ns > 0)
		v->i = ns / SOC_NS;
	else
		v->null = 1;
}

static void dl_i(struct ctx *c, const void *r, struct cell *v)
{ dl_stage(c, r, STORE_STAGE_INITIAL, 0, v); }
static void dl_d(struct ctx *c, const void *r, struct cell *v)
{ dl_stage(c, r, STORE_STAGE_DETAILS, 0, v); }
static void dl_f(struct ctx *c, const void *r, struct cell *v)
{ dl_stage(c, r, STORE_STAGE_FINAL, 0, v); }
static void dl_ti(struct ctx *c, const void *r, struct cell *v)
{ dl_stage(c, r, STORE_STAGE_INITIAL, 1, v); }
static void dl_td(struct ctx *c, const void *r, struct cell *v)
{ dl_stage(c, r, STORE_STAGE_DETAILS, 1, v); }
static void dl_tf(struct ctx *c, const void *r, struct cell *v)
{ dl_stage(c, r, STORE_STAGE_FINAL, 1, v); }

static const struct col deadline_cols[] = {
	{ "severity", "SEVERITY", 0, COL_STR, 0, 0, dl_sev },
	{ "initial_s", NULL, 0, COL_INT, 0, 0, dl_i },
	{ "details_s", NULL, 0, COL_INT, 0, 0, dl_d },
	{ "final_s", NULL, 0, COL_INT, 0, 0, dl_f },
	{ NULL, ">INITIAL (AFTER OPENED)", 1, COL_STR, 0, 0, dl_ti },
	{ NULL, ">DETAILS (AFTER OPENED)", 2, COL_STR, 0, 0, dl_td },
	{ NULL, ">FINAL (AFTER RESOLVED)", 3, COL_STR, 0, 0, dl_tf },
};

static int
deadline_row(void *arg, const struct store_deadline *d)
{
	return out_row(arg, d);
}

int
cmd_deadline_list(struct ctx *c, int argc, char **argv)
{
	struct out o;
	enum out_fmt fmt;

	if (list_args(c, argc, argv, NULL, &fmt) != 0)
		return 1;
	out_begin(&o, c, fmt, deadline_cols, COL_COUNT(deadline_cols));
	return out_end(&o, store_deadline_foreach(c->st, deadline_row, &o),
	    "no deadline policy");
}

/* A stage's duration: "24h", "5d", "2s"; "none" or "0" for no deadline. */
static int
dl_parse(struct ctx *c, const char *opt, const char *v, int64_t *out)
{
	if (v == NULL)
		return 0;
	if (strcmp(v, "none") == 0 || strcmp(v, "0") == 0) {
		*out = 0;
		return 0;
	}
	if ((*out = soc_parse_duration(v)) <= 0) {
		cmd_err(c, "--%s wants a duration (2s, 24h, 5d) or none, not '%s'",
		    opt, v);
		return -1;
	}
	return 0;
}

int
cmd_deadline_set(struct ctx *c, int argc, char **argv)
{
	const char *v[STORE_STAGES] = { NULL, NULL, NULL };
	const struct optspec spec[] = {
		{ "initial", &v[0], NULL }, { "details", &v[1], NULL },
		{ "final", &v[2], NULL }, { NULL, NULL, NULL }
	};
	struct store_deadline d;
	char note[256], t[STORE_STAGES][32];
	int sev, i;

	if (args(c, argc, argv, spec, 1, 1) < 0)
		return 1;
	if ((sev = store_severity_parse(argv[1])) < 0)
		return cmd_err(c, "unknown severity '%s' (informational, low,"
		    " medium, high, critical)", argv[1]);
	if (v[0] == NULL && v[1] == NULL && v[2] == NULL)
		return cmd_err(c, "nothing to set (--initial, --details or --final)");
	if (db_open(c) == -1)
		return 1;
	if (store_deadline_get(c->st, sev, &d) == -1)
		return db_fail(c);
	for (i = 0; i < STORE_STAGES; i++)
		if (dl_parse(c, store_stage_name(i), v[i], &d.after_ns[i]) == -1)
			return 1;
	for (i = 0; i < STORE_STAGES; i++)
		dur_fmt(d.after_ns[i], t[i], sizeof(t[i]));
	snprintf(note, sizeof(note), "%s: initial %s, details %s, final %s after"
	    " resolution", store_severity_name(sev), t[0], t[1], t[2]);
	if (store_begin(c->st) == -1)
		return db_fail(c);
	if (db_audit_commit(c, store_deadline_set(c->st, &d), "deadline set",
	    note) != 0)
		return 1;
	printf("deadlines %s\n", note);
	return 0;
}
