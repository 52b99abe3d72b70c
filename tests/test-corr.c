/*
 * Correlation tests, table-driven: each case is a set of Sigma documents
 * (two sshd base rules, "fail" and "ok", and the correlation under test) and a hand-worked stream of events, each
 * with the alerts it must raise and the count of the last one.  Steps
 * can also close windows on a clock (ruleset_tick) or reload the same
 * rules mid-window (ruleset_adopt).  Covers every correlation type, the
 * condition forms (gte, gt, lt, lte, eq, neq, ranges), the absence
 * extension (on events and on the clock), window edges,
 * out-of-order events, aliases, chains, timespan units, one event matched
 * by two referenced rules, and the per-agency bounds on windows.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "soc-config.h"
#include "soc/event.h"
#include "soc/util.h"
#include "rules.h"
#include "rule-int.h"
#include "check.h"
#include "fixture.h"

#define MAPPING		SOC_SRCDIR "/rules/mapping.yml"
#define T0		(1700000000LL * 1000000000LL)
#define SEC		1000000000LL

static const char *bases =
    "title: fail\nname: fail\nid: f1\nlogsource:\n  product: linux\n"
    "  service: sshd\ndetection:\n  sel:\n    event.action: ssh_login\n"
    "    event.outcome: failure\n  condition: sel\n---\n"
    "title: ok\nname: ok\nid: o1\nlogsource:\n  product: linux\n"
    "  service: sshd\ndetection:\n  sel:\n    event.action: ssh_login\n"
    "    event.outcome: success\n  condition: sel\n---\n";

/* A third base rule matching both, for one case. */
#define LOGIN	"title: login\nname: login\nid: l1\nlogsource:\n" \
    "  product: linux\n  service: sshd\ndetection:\n  sel:\n" \
    "    event.action: ssh_login\n  condition: sel\n---\n"

enum { EV = 0, TICK, RELOAD };

struct step {
	int		 kind;
	int		 t;		/* seconds after T0 (TICK: the clock) */
	const char	*outcome;	/* "failure" / "success" */
	const char	*ip, *user;
	int		 alerts;	/* alerts this step must raise */
	uint64_t	 count;		/* count of the last one (0: any) */
	int		 port;		/* source.port, for the metrics (0: none) */
};

struct corr_case {
	const char	*name;
	const char	*corr;		/* the correlation document(s) */
	struct step	 steps[20];
};

#define F(t, ip, u, a, c)	{ EV, t, "failure", ip, u, a, c, 0 }
#define S(t, ip, u, a, c)	{ EV, t, "success", ip, u, a, c, 0 }
#define TK(t, a, c)		{ TICK, t, NULL, NULL, NULL, a, c, 0 }
#define RL			{ RELOAD, 0, NULL, NULL, NULL, 0, 0, 0 }
#define FP(t, ip, p, a, c)	{ EV, t, "failure", ip, "a", a, c, p }
#define METRIC(type, cond) "title: c\ncorrelation:\n  type: " type "\n" \
    "  rules: [fail]\n  group-by: [source.ip]\n  timespan: 10s\n" \
    "  condition: {field: source.port, " cond "}\n"

static const struct corr_case cases[] = {
	{ "event_count: gte 3, one event matched by two referenced rules "
	  "counts once",
	  LOGIN "title: c\ncorrelation:\n  type: event_count\n  rules: [fail, login]\n"
	  "  group-by: [source.ip]\n  timespan: 1m\n  condition: {gte: 3}\n",
	  { F(0, "1.1.1.1", "a", 0, 0), F(1, "1.1.1.1", "a", 0, 0),
	    F(2, "1.1.1.1", "a", 1, 3),
	    S(3, "1.1.1.1", "a", 2, 1) } },	/* login feeds, ok alerts */
	{ "event_count: gt 2 with the window edge inclusive",
	  "title: c\ncorrelation:\n  type: event_count\n  rules: [fail]\n"
	  "  group-by: [source.ip]\n  timespan: 10s\n  condition: {gt: 2}\n",
	  { F(0, "1.1.1.1", "a", 0, 0), F(5, "1.1.1.1", "a", 0, 0),
	    F(10, "1.1.1.1", "a", 1, 3),
	    F(100, "2.2.2.2", "a", 0, 0), F(105, "2.2.2.2", "a", 0, 0),
	    F(111, "2.2.2.2", "a", 0, 0),	/* 100 left the window */
	    F(89, "2.2.2.2", "a", 0, 0),	/* too old: ignored */
	    F(104, "2.2.2.2", "a", 1, 3) } },	/* out of order, inside */
	{ "value_count: 3 distinct users from one address",
	  "title: c\ncorrelation:\n  type: value_count\n  rules: [fail]\n"
	  "  group-by: [source.ip]\n  timespan: 1m\n"
	  "  condition:\n    field: user.name\n    gte: 3\n",
	  { F(0, "1.1.1.1", "a", 0, 0), F(1, "1.1.1.1", "a", 0, 0),
	    F(2, "1.1.1.1", "b", 0, 0), F(3, "1.1.1.1", "b", 0, 0),
	    F(4, "1.1.1.2", "c", 0, 0),		/* another group */
	    F(5, "1.1.1.1", "c", 1, 3), F(6, "1.1.1.1", "d", 1, 1),
	    F(200, "1.1.1.1", "e", 0, 0) } },
	{ "value_count: state kept across a reload",
	  "title: c\ncorrelation:\n  type: value_count\n  rules: [fail]\n"
	  "  group-by: [source.ip]\n  timespan: 1m\n"
	  "  condition:\n    field: user.name\n    gte: 3\n",
	  { F(0, "1.1.1.1", "a", 0, 0), F(1, "1.1.1.1", "b", 0, 0), RL,
	    F(2, "1.1.1.1", "c", 1, 3) } },
	{ "temporal: both rules, any order, same user",
	  "title: c\ncorrelation:\n  type: temporal\n  rules: [fail, ok]\n"
	  "  group-by: [user.name]\n  timespan: 1m\n",
	  { S(0, "1.1.1.1", "a", 0, 0), S(1, "1.1.1.1", "a", 0, 0),
	    F(2, "1.1.1.1", "b", 0, 0), F(30, "1.1.1.1", "a", 1, 2),
	    F(200, "1.1.1.1", "a", 0, 0) } },
	{ "temporal_ordered: failure then success within a minute",
	  "title: c\ncorrelation:\n  type: temporal_ordered\n"
	  "  rules: [fail, ok]\n  group-by: [user.name]\n  timespan: 1m\n",
	  { S(0, "1.1.1.1", "a", 0, 0), F(10, "1.1.1.1", "a", 0, 0), RL,
	    S(20, "1.1.1.1", "a", 1, 2), S(25, "1.1.1.1", "a", 1, 1),
	    F(100, "1.1.1.1", "a", 0, 0), S(161, "1.1.1.1", "a", 0, 0),
	    S(150, "1.1.1.1", "a", 1, 2) } },
	/* issue 15: the second step arriving first was never reconsidered */
	{ "temporal_ordered on event time, whatever the arrival order",
	  "title: c\ncorrelation:\n  type: temporal_ordered\n"
	  "  rules: [fail, ok]\n  group-by: [user.name]\n  timespan: 1m\n",
	  { S(10, "1.1.1.1", "a", 0, 0),
	    F(10, "1.1.1.1", "a", 1, 2),	/* same time, arrived after */
	    S(100, "1.1.1.1", "b", 0, 0),
	    F(80, "1.1.1.1", "b", 1, 2),	/* earlier, arrived after */
	    F(90, "1.1.1.1", "b", 1, 1),	/* the same chain again */
	    S(200, "1.1.1.1", "c", 0, 0),
	    F(139, "1.1.1.1", "c", 0, 0),	/* 61 s before: too far */
	    F(150, "1.1.1.1", "c", 1, 2),
	    S(300, "1.1.1.1", "d", 0, 0),
	    F(301, "1.1.1.1", "d", 0, 0),	/* after its success: no */
	    F(400, "1.1.1.1", "e", 0, 0), S(420, "1.1.1.1", "e", 1, 2),
	    S(470, "1.1.1.1", "e", 0, 0),	/* 70 s after the failure */
	    F(440, "1.1.1.1", "e", 1, 2),	/* a new chain, 440..470 */
	    S(330, "1.1.1.1", "e", 0, 0) } },	/* older than the reach */
	{ "temporal on the same arrival order (for comparison)",
	  "title: c\ncorrelation:\n  type: temporal\n"
	  "  rules: [fail, ok]\n  group-by: [user.name]\n  timespan: 1m\n",
	  { S(10, "1.1.1.1", "a", 0, 0), F(10, "1.1.1.1", "a", 1, 2),
	    S(100, "1.1.1.1", "b", 0, 0), F(80, "1.1.1.1", "b", 1, 2) } },
	{ "event_count lt 3: judged when the window closes",
	  "title: c\ncorrelation:\n  type: event_count\n  rules: [fail]\n"
	  "  group-by: [source.ip]\n  timespan: 1m\n  condition: {lt: 3}\n",
	  { F(0, "1.1.1.1", "a", 0, 0), F(10, "1.1.1.1", "a", 0, 0),
	    F(60, "1.1.1.1", "a", 0, 0),	/* edge: still inside */
	    F(61, "1.1.1.1", "a", 0, 0),	/* closes 0..60 with 3 */
	    F(70, "1.1.1.1", "a", 0, 0), RL,
	    F(200, "1.1.1.1", "a", 1, 2),	/* closes 61..70 with 2 */
	    TK(260, 0, 0),			/* 200..260 not over yet */
	    TK(261, 1, 1) } },
	{ "event_count range gte 2 lte 3, and eq, on the clock",
	  "title: c\ncorrelation:\n  type: event_count\n  rules: [fail]\n"
	  "  group-by: [source.ip]\n  timespan: 1m\n"
	  "  condition: {gte: 2, lte: 3}\n---\n"
	  "title: e\ncorrelation:\n  type: event_count\n  rules: [fail]\n"
	  "  group-by: [source.ip]\n  timespan: 1m\n  condition: {eq: 1}\n",
	  { F(0, "1.1.1.1", "a", 0, 0), F(1, "1.1.1.1", "a", 0, 0),
	    F(2, "2.2.2.2", "a", 0, 0), F(3, "2.2.2.2", "a", 0, 0),
	    F(4, "2.2.2.2", "a", 0, 0), F(5, "2.2.2.2", "a", 0, 0),
	    F(6, "3.3.3.3", "a", 0, 0),
	    TK(1000, 2, 0) } },		/* 1.1.1.1 (2) and 3.3.3.3 (eq 1) */
	{ "value_count neq 2 at close",
	  "title: c\ncorrelation:\n  type: value_count\n  rules: [fail]\n"
	  "  group-by: [source.ip]\n  timespan: 1m\n"
	  "  condition: {field: user.name, neq: 2}\n",
	  { F(0, "1.1.1.1", "a", 0, 0), F(1, "1.1.1.1", "b", 0, 0),
	    F(2, "2.2.2.2", "a", 0, 0), F(3, "2.2.2.2", "a", 0, 0),
	    TK(100, 1, 2) } },
	{ "aliases: one address as source here and user there",
	  "title: c\ncorrelation:\n  type: temporal\n  rules: [fail, ok]\n"
	  "  group-by: [who]\n  timespan: 1m\n  aliases:\n    who:\n"
	  "      fail: source.ip\n      ok: user.name\n",
	  { F(0, "9.9.9.9", "x", 0, 0), S(1, "1.1.1.1", "8.8.8.8", 0, 0),
	    S(2, "1.1.1.1", "9.9.9.9", 1, 2) } },
	{ "chain: many failures then a success (the spec's example)",
	  "title: c\ncorrelation:\n  type: temporal_ordered\n"
	  "  rules: [many_failed, ok]\n  group-by: [user.name]\n"
	  "  timespan: 10m\n---\n"
	  "title: many\nname: many_failed\ncorrelation:\n  type: event_count\n"
	  "  rules: [fail]\n  group-by: [user.name]\n  timespan: 10m\n"
	  "  condition: {gte: 3}\n",
	  { S(0, "1.1.1.1", "a", 0, 0), F(1, "1.1.1.1", "a", 0, 0),
	    F(2, "1.1.1.1", "a", 0, 0), F(3, "1.1.1.1", "a", 0, 0),
	    F(4, "1.1.1.1", "a", 0, 0), S(5, "1.1.1.1", "b", 0, 0),
	    S(6, "1.1.1.1", "a", 1, 2) } },
	{ "absence: started and not finished within 6h",
	  "title: c\ncorrelation:\n  type: absence\n  rules: [fail, ok]\n"
	  "  group-by: [user.name]\n  timespan: 6h\n",
	  { F(0, "1.1.1.1", "a", 0, 0), S(100, "1.1.1.1", "a", 0, 0),
	    F(200, "1.1.1.1", "a", 0, 0), F(300, "1.1.1.1", "a", 0, 0),
	    TK(21800, 0, 0),			/* the edge: not over yet */
	    TK(21801, 1, 1), TK(50000, 0, 0),
	    F(30000, "1.1.1.1", "b", 0, 0),
	    F(60000, "1.1.1.1", "b", 1, 1),	/* closes 30000's, opens anew */
	    S(60001, "1.1.1.1", "b", 0, 0), TK(999999, 0, 0) } },
	{ "absence: heartbeats stop",
	  "title: c\ncorrelation:\n  type: absence\n  rules: [ok]\n"
	  "  group-by: [source.ip]\n  timespan: 1m\n",
	  { S(0, "1.1.1.1", "a", 0, 0), S(10, "1.1.1.1", "a", 0, 0),
	    S(20, "1.1.1.1", "a", 0, 0), S(5, "1.1.1.1", "a", 0, 0),
	    TK(80, 0, 0), TK(81, 1, 1), TK(200, 0, 0) } },
	{ "timespan in weeks",
	  "title: c\ncorrelation:\n  type: event_count\n  rules: [fail]\n"
	  "  group-by: [source.ip]\n  timespan: 1w\n  condition: {gte: 2}\n",
	  { F(0, "1.1.1.1", "a", 0, 0), F(604800, "1.1.1.1", "a", 1, 2),
	    F(1209601, "1.1.1.1", "a", 0, 0) } },
	/* metrics: judged when the window closes, count = events in it */
	{ "value_sum gt 100: 50+40+20 alerts, 60+40 does not",
	  METRIC("value_sum", "gt: 100"),
	  { FP(0, "1.1.1.1", 50, 0, 0), FP(2, "1.1.1.1", 40, 0, 0),
	    FP(5, "1.1.1.1", 20, 0, 0),
	    FP(11, "1.1.1.1", 1, 1, 3),		/* closes 0..10 (110) */
	    TK(30, 0, 0),			/* 11..21 holds 1 */
	    FP(100, "2.2.2.2", 60, 0, 0), FP(101, "2.2.2.2", 40, 0, 0),
	    TK(110, 0, 0),			/* the edge: not over yet */
	    TK(112, 0, 0) } },			/* exactly 100: no */
	{ "value_sum gte 100: an event too old is not added, an event "
	  "without the field not counted",
	  METRIC("value_sum", "gte: 100"),
	  { FP(10, "1.1.1.1", 50, 0, 0), FP(-5, "1.1.1.1", 50, 0, 0),
	    F(6, "1.1.1.1", "a", 0, 0),
	    FP(5, "1.1.1.1", 50, 0, 0),		/* out of order, inside */
	    TK(30, 1, 2) } },
	{ "value_avg range gte 10.5 lt 20",
	  METRIC("value_avg", "gte: 10.5, lt: 20"),
	  { FP(0, "1.1.1.1", 10, 0, 0), F(1, "1.1.1.1", "a", 0, 0),
	    FP(1, "1.1.1.1", 11, 0, 0), TK(20, 1, 2),	/* 10.5 */
	    FP(30, "1.1.1.1", 20, 0, 0), FP(31, "1.1.1.1", 20, 0, 0),
	    TK(50, 0, 0),			/* 20: not below 20 */
	    FP(60, "1.1.1.1", 12, 0, 0), FP(61, "1.1.1.1", 8, 0, 0),
	    TK(80, 0, 0) } },			/* 10: no */
	{ "value_percentile 90 gte 900: nearest rank",
	  METRIC("value_percentile", "percentile: 90, gte: 900"),
	  { FP(0, "1.1.1.1", 1000, 0, 0), FP(1, "1.1.1.1", 100, 0, 0),
	    FP(1, "1.1.1.1", 900, 0, 0), FP(2, "1.1.1.1", 200, 0, 0),
	    FP(2, "1.1.1.1", 800, 0, 0), FP(3, "1.1.1.1", 300, 0, 0),
	    FP(3, "1.1.1.1", 700, 0, 0), FP(4, "1.1.1.1", 400, 0, 0),
	    FP(4, "1.1.1.1", 600, 0, 0), FP(5, "1.1.1.1", 500, 0, 0),
	    TK(20, 1, 10),			/* 9th of 10 is 900 */
	    FP(30, "1.1.1.1", 899, 0, 0), FP(31, "1.1.1.1", 5000, 0, 0),
	    FP(32, "1.1.1.1", 1, 0, 0),		/* 90% of 3: 3rd, 5000 */
	    TK(50, 1, 3),
	    FP(60, "1.1.1.1", 899, 0, 0), TK(80, 0, 0) } },
	{ "value_median lte 10, state kept across a reload",
	  METRIC("value_median", "lte: 10"),
	  { FP(0, "1.1.1.1", 5, 0, 0), FP(1, "1.1.1.1", 100, 0, 0), RL,
	    FP(2, "1.1.1.1", 7, 0, 0), TK(20, 1, 3),	/* 5 7 100: 7 */
	    FP(30, "1.1.1.1", 100, 0, 0), FP(31, "1.1.1.1", 3, 0, 0),
	    FP(32, "1.1.1.1", 100, 0, 0), FP(33, "1.1.1.1", 11, 0, 0),
	    TK(50, 0, 0),			/* 3 11 100 100: 11 */
	    FP(60, "1.1.1.1", 11, 0, 0), FP(61, "1.1.1.1", 3, 0, 0),
	    TK(80, 1, 2) } },			/* 3 11: the lower, 3 */
	/*
	 * An event without a group-by field joins no group (issue 15: all
	 * of them pooled under "user.name=", 70,000 unrelated failures one
	 * incident); an empty value is a value.
	 */
	{ "group-by a field the event lacks: event_count joins no group",
	  "title: c\ncorrelation:\n  type: event_count\n  rules: [fail]\n"
	  "  group-by: [user.name]\n  timespan: 1m\n  condition: {gte: 3}\n",
	  { F(0, "1.1.1.1", NULL, 0, 0), F(1, "1.1.1.2", NULL, 0, 0),
	    F(2, "1.1.1.3", NULL, 0, 0), F(3, "1.1.1.4", NULL, 0, 0),
	    F(4, "1.1.1.1", "", 0, 0), F(5, "1.1.1.1", "", 0, 0),
	    F(6, "1.1.1.1", "", 1, 3),		/* present and empty */
	    F(7, "1.1.1.1", "a", 0, 0), F(8, "1.1.1.1", "a", 0, 0),
	    F(9, "1.1.1.1", "a", 1, 3) } },
	{ "group-by a field the event lacks: value_count, at close, "
	  "temporal, absence",
	  "title: c\ncorrelation:\n  type: value_count\n  rules: [fail]\n"
	  "  group-by: [user.name]\n  timespan: 1m\n"
	  "  condition: {field: source.ip, gte: 2}\n---\n"
	  "title: d\ncorrelation:\n  type: event_count\n  rules: [fail]\n"
	  "  group-by: [user.name, source.ip]\n  timespan: 1m\n"
	  "  condition: {lte: 5}\n---\n"
	  "title: e\ncorrelation:\n  type: temporal\n  rules: [fail, ok]\n"
	  "  group-by: [user.name]\n  timespan: 1m\n---\n"
	  "title: g\ncorrelation:\n  type: absence\n  rules: [fail, ok]\n"
	  "  group-by: [user.name]\n  timespan: 1m\n",
	  { F(0, "1.1.1.1", NULL, 0, 0), F(1, "1.1.1.2", NULL, 0, 0),
	    S(2, "1.1.1.2", NULL, 0, 0), TK(1000, 0, 0),
	    F(1001, "1.1.1.1", "a", 0, 0), F(1002, "1.1.1.2", "a", 1, 2),
	    S(1003, "1.1.1.2", "a", 1, 2),	/* temporal; absence closed */
	    TK(2000, 2, 0) } },			/* d: (a, .1) and (a, .2) */
	{ "value_sum eq 30, one event matched by two rules counts once",
	  LOGIN "title: c\ncorrelation:\n  type: value_sum\n"
	  "  rules: [fail, login]\n  group-by: [source.ip]\n  timespan: 10s\n"
	  "  condition: {field: source.port, eq: 30}\n",
	  { FP(0, "1.1.1.1", 30, 0, 0), TK(20, 1, 1) } },
};

static char errs[8192];

static void
on_err(void *arg, const char *msg)
{
	size_t len = strlen(errs);

	(void)arg;
	snprintf(errs + len, sizeof(errs) - len, "%s\n", msg);
}

struct got {
	int		 n;
	uint64_t	 last_count;
	char		 rule[64];
	char		 key[128];
	uint64_t	 refs[RS_ALERT_MAXREFS];
	size_t		 nrefs;
};

static void
on_alert(void *arg, const struct rs_alert *a)
{
	struct got *g = arg;

	g->n++;
	g->last_count = a->count;
	snprintf(g->rule, sizeof(g->rule), "%s", rule_id(a->rule));
	snprintf(g->key, sizeof(g->key), "%s", a->group_key);
	g->nrefs = a->nrefs;
	if (a->nrefs > 0)
		memcpy(g->refs, a->refs, a->nrefs * sizeof(*a->refs));
}

static struct ruleset *
load_text(const char *corr, size_t *nerr)
{
	char dir[64], path[128];
	const char *dirs[1] = { dir };
	struct ruleset *rs;
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/test-corr.XXXXXX");
	if (mkdtemp(dir) == NULL)
		exit(1);
	snprintf(path, sizeof(path), "%s/c.yml", dir);
	if ((f = fopen(path, "w")) == NULL)
		exit(1);
	fputs(bases, f);
	fputs(corr, f);
	fclose(f);
	errs[0] = '\0';
	rs = ruleset_load(dirs, 1, MAPPING, on_err, NULL, nerr);
	fx_rmtree(dir);
	return rs;
}

static void
login(struct soc_event *ev, int64_t ts, const char *outcome, const char *ip,
    const char *user, const char *agency)
{
	struct soc_ip a;

	soc_event_reset(ev);
	ev->ts = ts;
	soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, "log.sshd");
	soc_event_set_cstr(ev, SOC_F_EVENT_ACTION, "ssh_login");
	soc_event_set_cstr(ev, SOC_F_EVENT_OUTCOME, outcome);
	soc_ip_parse(ip, strlen(ip), &a);
	soc_event_set_ip(ev, SOC_F_SOURCE_IP, &a);
	if (user != NULL)	/* NULL: the event has no user.name */
		soc_event_set_cstr(ev, SOC_F_USER_NAME, user);
	if (agency != NULL)
		soc_event_stamp(ev, SOC_F_ORGANIZATION_ID, agency);
}

static void
run_case(const struct corr_case *c)
{
	static struct soc_event ev;
	struct ruleset *rs, *rs2;
	struct rs_scratch *s;
	size_t nerr = 0;
	const char *why;

	rs = load_text(c->corr, &nerr);
	if (rs == NULL || nerr != 0) {
		fprintf(stderr, "%s: did not load:\n%s", c->name, errs);
		CHECK(0);
		ruleset_free(rs);
		return;
	}
	s = rs_scratch_new(rs);
	for (size_t i = 0; i < sizeof(c->steps) / sizeof(c->steps[0]); i++) {
		const struct step *st = &c->steps[i];
		struct got g = { 0 };
		int n;

		if (st->kind == EV && st->outcome == NULL)
			break;
		if (st->kind == RELOAD) {
			rs2 = load_text(c->corr, &nerr);
			CHECK(rs2 != NULL && ruleset_adopt(rs2, rs) > 0);
			ruleset_free(rs);
			rs_scratch_free(s);
			rs = rs2;
			s = rs_scratch_new(rs);
			continue;
		}
		if (st->kind == TICK)
			n = ruleset_tick(rs, T0 + st->t * SEC, on_alert, &g);
		else {
			login(&ev, T0 + st->t * SEC, st->outcome, st->ip, st->user,
			    NULL);
			if (st->port != 0)
				soc_event_set_int(&ev, SOC_F_SOURCE_PORT, st->port);
			n = ruleset_match(rs, s, &ev, on_alert, &g);
		}
		if (n != st->alerts || g.n != st->alerts ||
		    (st->count != 0 && g.last_count != st->count)) {
			fprintf(stderr, "%s: step %zu (t=%d): %d alerts (count %llu), "
			    "want %d (count %llu)\n", c->name, i, st->t, n,
			    (unsigned long long)g.last_count, st->alerts,
			    (unsigned long long)st->count);
			CHECK(0);
		} else
			CHECK(1);
		why = NULL;
		if (corr_state_check(rs->cs, &why) != 0) {
			fprintf(stderr, "%s: step %zu: state: %s\n", c->name, i, why);
			CHECK(0);
		}
	}
	rs_scratch_free(s);
	ruleset_free(rs);
}

static void
test_timespans(void)
{
	static const struct { const char *s; int64_t sec; } t[] = {
		{ "30s", 30 }, { "2m", 120 }, { "1h", 3600 }, { "1d", 86400 },
		{ "1w", 604800 }, { "1M", 2629746 }, { "1y", 31556952 },
		{ "90m", 5400 }, { "1", -1 }, { "m", -1 }, { "1x", -1 },
		{ "1.5h", -1 }, { "0s", -1 }, { "1h30m", -1 }, { "-1s", -1 },
		{ "", -1 }, { "99999999999y", -1 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t got = rule_parse_timespan(t[i].s);

		if (got != (t[i].sec < 0 ? -1 : t[i].sec * SEC))
			fprintf(stderr, "timespan '%s': %lld\n", t[i].s,
			    (long long)got);
		CHECK_INT(got, t[i].sec < 0 ? -1 : t[i].sec * SEC);
	}
}

/* What the loader refuses, with the line it names. */
static void
test_corr_refusals(void)
{
	static const struct { const char *doc, *want; } t[] = {
		{ "title: c\ncorrelation:\n  type: value_avg\n  rules: [fail]\n"
		  "  timespan: 1m\n  condition: {gte: 1}\n", "needs 'field'" },
		{ METRIC("value_percentile", "gte: 1"), "needs 'percentile: P'" },
		{ METRIC("value_percentile", "percentile: 0, gte: 1"), "1..100" },
		{ METRIC("value_sum", "gte: many"), "'gte' needs a number" },
		{ METRIC("value_sum", "percentile: 5, gte: 1"),
		  "only applies to value_percentile" },
		{ METRIC("value_sum", "gt: 5, lt: 5"), "can never hold" },
		{ "title: c\ncorrelation:\n  type: value_sum\n  rules: [fail]\n"
		  "  timespan: 1m\n  condition: {field: user.name, gte: 1}\n",
		  "'user.name' is not an integer field" },
		{ "title: c\ncorrelation:\n  type: value_mode\n  rules: [fail]\n"
		  "  timespan: 1m\n  condition: {gte: 1}\n", "unknown correlation type" },
		{ "title: c\ncorrelation:\n  type: event_count\n  rules: [fail]\n"
		  "  timespan: 1h30m\n  condition: {gte: 1}\n", "bad timespan" },
		{ "title: c\ncorrelation:\n  type: value_count\n  rules: [fail]\n"
		  "  timespan: 1m\n  condition: {gte: 1}\n", "needs 'field'" },
		{ "title: c\ncorrelation:\n  type: temporal_ordered\n"
		  "  rules: [fail, ok]\n  timespan: 1m\n  condition: {gte: 1}\n",
		  "takes no condition" },
		{ "title: c\nname: c\ncorrelation:\n  type: event_count\n"
		  "  rules: [d]\n  timespan: 1m\n  condition: {gte: 1}\n---\n"
		  "title: d\nname: d\ncorrelation:\n  type: event_count\n"
		  "  rules: [c]\n  timespan: 1m\n  condition: {gte: 1}\n", "cycle" },
		{ "title: c\ncorrelation:\n  type: temporal\n  rules: [fail, ok]\n"
		  "  group-by: [who]\n  timespan: 1m\n  aliases:\n    who:\n"
		  "      fail: source.ip\n", "alias 'who' names no field for rule 'ok'" },
		{ "title: c\ncorrelation:\n  type: event_count\n  rules: [fail]\n"
		  "  timespan: 1m\n  condition: {lt: 0}\n", "lt: 0 can never hold" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t nerr = 0;
		struct ruleset *rs = load_text(t[i].doc, &nerr);

		if (strstr(errs, t[i].want) == NULL)
			fprintf(stderr, "refusal %zu: want '%s', got:\n%s", i,
			    t[i].want, errs);
		CHECK(nerr > 0 && strstr(errs, t[i].want) != NULL &&
		    strstr(errs, "c.yml:") != NULL);
		ruleset_free(rs);
	}
}

/*
 * Issue 11: agency A sends failures from 70,000 distinct addresses; B's
 * brute force (the shipped rule: 8 in 2 minutes) still fires, A's
 * evictions are counted and raise soc-corr-eviction alerts, B's none.
 */
static void
test_agency_bounds(void)
{
	static struct soc_event ev;
	const char *dirs[1] = { SOC_SRCDIR "/rules/linux" };
	struct ruleset *rs;
	struct rs_scratch *s;
	struct got g = { 0 }, gb = { 0 };
	char ip[32];
	size_t nerr = 0, keys;
	uint64_t evicted, aev = 0, bev = 0;
	int evalerts = 0;

	rs = ruleset_load(dirs, 1, MAPPING, on_err, NULL, &nerr);
	CHECK(rs != NULL);
	if (rs == NULL)
		return;
	s = rs_scratch_new(rs);
	for (int i = 0; i < 4; i++) {
		login(&ev, T0 + i * SEC, "failure", "192.0.2.1", "root", "b");
		ruleset_match(rs, s, &ev, on_alert, &gb);
	}
	for (int i = 0; i < 70000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16, (i >> 8) & 255,
		    i & 255);
		login(&ev, T0 + 5 * SEC, "failure", ip, "root", "a");
		g.n = 0;
		ruleset_match(rs, s, &ev, on_alert, &g);
		evalerts += g.n;
		if (g.n > 0) {
			CHECK_STR(g.rule, RS_RULE_CORR_EVICTION);
			CHECK_STR(g.key, "organization.id=a");
		}
	}
	CHECK_INT(evalerts, 1);		/* the first; then once a minute */
	for (int i = 4; i < 8; i++) {
		login(&ev, T0 + 10 * SEC + i * SEC, "failure", "192.0.2.1", "root",
		    "b");
		ruleset_match(rs, s, &ev, on_alert, &gb);
	}
	CHECK_INT(gb.n, 1);
	CHECK_INT(gb.last_count, 8);
	CHECK_STR(gb.key, "source.ip=192.0.2.1");
	ruleset_corr_stats(rs, &keys, &evicted);
	CHECK(keys <= RS_CORR_MAXKEYS);
	CHECK_INT(evicted, 70000 - RS_CORR_AGENCY_MAXKEYS);
	for (size_t i = 0; i < ruleset_corr_agencies(rs); i++) {
		const char *name;
		size_t k;
		uint64_t e;

		CHECK_INT(ruleset_corr_agency(rs, i, &name, &k, &e), 0);
		if (strcmp(name, "a") == 0)
			aev = e;
		if (strcmp(name, "b") == 0)
			bev = e;
	}
	CHECK_INT(aev, 70000 - RS_CORR_AGENCY_MAXKEYS);
	CHECK_INT(bev, 0);
	CHECK_INT(ruleset_corr_agency(rs, ruleset_corr_agencies(rs), NULL, NULL,
	    NULL), -1);
	CHECK(corr_state_check(rs->cs, NULL) == 0);
	rs_scratch_free(s);
	ruleset_free(rs);
}

/*
 * Percentiles past RS_CORR_METRIC_VALUES distinct values in one window:
 * the histogram stays bounded and the median stays near the exact one
 * (values 1..1000: exact 500; the bound lte 520 must hold, lte 480 not).
 */
static void
test_metric_bound(void)
{
	static struct soc_event ev;
	static const struct { const char *cond; int alerts; } t[] = {
		{ "lte: 520", 1 }, { "lte: 480", 0 },
	};

	for (size_t c = 0; c < sizeof(t) / sizeof(t[0]); c++) {
		char doc[512];
		struct ruleset *rs;
		struct rs_scratch *s;
		struct got g = { 0 };
		size_t nerr = 0;

		snprintf(doc, sizeof(doc), "title: c\ncorrelation:\n"
		    "  type: value_median\n  rules: [fail]\n"
		    "  group-by: [source.ip]\n  timespan: 1h\n"
		    "  condition: {field: source.port, %s}\n", t[c].cond);
		rs = load_text(doc, &nerr);
		CHECK(rs != NULL && nerr == 0);
		if (rs == NULL)
			continue;
		s = rs_scratch_new(rs);
		for (int i = 0; i < 1000; i++) {
			/* 1..1000 in a scattered order */
			int v = (i * 617) % 1000 + 1;

			login(&ev, T0 + SEC, "failure", "1.1.1.1", "a", NULL);
			soc_event_set_int(&ev, SOC_F_SOURCE_PORT, v);
			ruleset_match(rs, s, &ev, on_alert, &g);
		}
		CHECK(corr_state_check(rs->cs, NULL) == 0);
		CHECK_INT(ruleset_tick(rs, T0 + 7200 * SEC, on_alert, &g),
		    t[c].alerts);
		CHECK_INT(g.n, t[c].alerts);
		if (t[c].alerts > 0)
			CHECK_INT(g.last_count, 1000);
		rs_scratch_free(s);
		ruleset_free(rs);
	}
}

/* Matches one failed or good login of ip at t seconds under reference ref. */
static int
match_ref(struct ruleset *rs, struct rs_scratch *s, struct got *g, uint64_t ref,
    int t, const char *outcome, const char *ip)
{
	static struct soc_event ev;

	memset(g, 0, sizeof(*g));
	login(&ev, T0 + t * SEC, outcome, ip, "a", NULL);
	ruleset_set_ref(rs, ref);
	return ruleset_match(rs, s, &ev, on_alert, g);
}

/*
 * A crossing alert hands back the references of its window's events,
 * oldest first: the ones that reached the threshold, not those that
 * slid out, of another key or of a rule the correlation ignores.
 */
static void
test_refs(void)
{
	struct ruleset *rs;
	struct rs_scratch *s;
	struct got g;
	size_t nerr = 0;

	rs = load_text("title: c\ncorrelation:\n  type: event_count\n"
	    "  rules: [fail]\n  group-by: [source.ip]\n  timespan: 1m\n"
	    "  condition: {gte: 4}\n", &nerr);
	CHECK(rs != NULL && nerr == 0);
	if (rs == NULL)
		return;
	s = rs_scratch_new(rs);
	match_ref(rs, s, &g, 100, 0, "failure", "1.1.1.1");
	CHECK(ruleset_ref_kept(rs));
	match_ref(rs, s, &g, 101, 1, "failure", "2.2.2.2");
	match_ref(rs, s, &g, 102, 2, "success", "1.1.1.1");
	CHECK(!ruleset_ref_kept(rs));	/* ok feeds nothing */
	match_ref(rs, s, &g, 103, 3, "failure", "1.1.1.1");
	/* 100 and 103 slide out of the minute */
	for (int i = 0; i < 3; i++) {
		CHECK_INT(match_ref(rs, s, &g, 104 + (uint64_t)i, 100 + i,
		    "failure", "1.1.1.1"), 0);
		match_ref(rs, s, &g, 200 + (uint64_t)i, 100 + i, "failure",
		    "2.2.2.2");
	}
	CHECK_INT(match_ref(rs, s, &g, 107, 103, "failure", "1.1.1.1"), 1);
	CHECK_INT(g.last_count, 4);
	CHECK_INT(g.nrefs, 4);
	for (size_t i = 0; i < 4 && i < g.nrefs; i++)
		CHECK_INT(g.refs[i], 104 + i);
	/* a later event of the window: count 1, no references */
	CHECK_INT(match_ref(rs, s, &g, 108, 104, "failure", "1.1.1.1"), 1);
	CHECK_INT(g.last_count, 1);
	CHECK_INT(g.nrefs, 0);
	rs_scratch_free(s);
	ruleset_free(rs);

	/* temporal_ordered: the step events, in order */
	rs = load_text("title: c\ncorrelation:\n  type: temporal_ordered\n"
	    "  rules: [fail, ok]\n  group-by: [source.ip]\n  timespan: 1m\n",
	    &nerr);
	CHECK(rs != NULL && nerr == 0);
	if (rs == NULL)
		return;
	s = rs_scratch_new(rs);
	match_ref(rs, s, &g, 1, 0, "failure", "1.1.1.1");
	match_ref(rs, s, &g, 2, 1, "failure", "1.1.1.1");
	CHECK_INT(match_ref(rs, s, &g, 3, 2, "success", "1.1.1.1"), 1);
	CHECK_INT(g.nrefs, 2);
	if (g.nrefs == 2) {
		CHECK_INT(g.refs[0], 2);
		CHECK_INT(g.refs[1], 3);
	}
	rs_scratch_free(s);
	ruleset_free(rs);
}

int
main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_timespans();
	test_corr_refusals();
	test_metric_bound();
	test_agency_bounds();
	test_refs();
	return check_done() != 0;
}
