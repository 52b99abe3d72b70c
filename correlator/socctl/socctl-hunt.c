/*
 * socctl hunt RULE.yml|DIR... [--since T] [--until T] [--agency CODE]...
 * [--raise] [--json]: Sigma rules, correlations included, run back over
 * the archive (docs/ARCHIVE.md, "Hunting").  The rules load as `rules
 * test` loads them and the alerts print the same way with the agency
 * added (socctl-rt.h).  The segments are read oldest first, each one's
 * events in the order stored, so correlation windows see event time
 * going forward as live; windows are per agency inside the engine (the
 * agency leads the window's key), so one agency's events never complete
 * another's correlation.  At the end the windows still open are judged.
 *
 * --agency takes the agency and every agency below it.  Without --raise
 * nothing is written; with it each alert goes through store_incident_hit()
 * as the correlator's would, with sensor "hunt", the rule's tags plus
 * soc.hunt, and the events' own times, in short transactions (the
 * correlator keeps writing).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "soc/json.h"
#include "soc/util.h"
#include "evarchive.h"
#include "rules.h"
#include "socctl.h"
#include "socctl-rt.h"
#include "store.h"

#define HUNT_MAX_AGENCIES	4096
#define HUNT_TX_HITS		256	/* incidents written per transaction */
#define HUNT_TX_MS		500	/* ... or a transaction held this long */

struct hunt {
	struct ctx		*c;
	struct rt		 t;
	/* --raise */
	int			 raise;
	int			 in_tx;
	int			 failed;
	size_t			 tx_hits;
	int64_t			 tx_t0;
	uint64_t		 created, updated;
	struct soc_sbuf		 ev, tags;
	/* the progress line */
	int			 tty;
	int64_t			 t0, shown;
};

/* The agency tree, for --agency's subtrees. */
struct agtree {
	char		**code, **parent;
	size_t		  n, cap;
	int		  oom;
};

static int
agtree_add(void *arg, const struct store_agency *a)
{
	struct agtree *at = arg;

	if (at->n == at->cap) {
		size_t cap = at->cap ? at->cap * 2 : 64;
		char **c = realloc(at->code, cap * sizeof(*c));

		if (c == NULL)
			return at->oom = 1;
		at->code = c;
		if ((c = realloc(at->parent, cap * sizeof(*c))) == NULL)
			return at->oom = 1;
		at->parent = c;
		at->cap = cap;
	}
	at->code[at->n] = strdup(a->code);
	at->parent[at->n] = strdup(a->parent);
	if (at->code[at->n] == NULL || at->parent[at->n] == NULL) {
		free(at->code[at->n]);
		free(at->parent[at->n]);
		return at->oom = 1;
	}
	at->n++;
	return 0;
}

static void
agtree_free(struct agtree *at)
{
	for (size_t i = 0; i < at->n; i++) {
		free(at->code[i]);
		free(at->parent[i]);
	}
	free(at->code);
	free(at->parent);
}

static int
has(const char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/*
 * The codes given and every agency below them, into out (at most max):
 * the count, or -1 after saying why.
 */
static int
subtrees(struct ctx *c, const char **given, size_t ngiven, struct agtree *at,
    const char **out, size_t max)
{
	size_t n = 0, before;

	if (store_agency_foreach(c->st, agtree_add, at) != 0 || at->oom) {
		if (at->oom)
			errx1("out of memory");
		else
			db_fail(c);
		return -1;
	}
	for (size_t i = 0; i < ngiven; i++) {
		size_t k;

		for (k = 0; k < at->n && strcmp(at->code[k], given[i]) != 0; k++)
			;
		if (k == at->n) {
			cmd_err(c, "no such agency '%s' (see `socctl agency list`)",
			    given[i]);
			return -1;
		}
		if (has(out, n, at->code[k]))
			continue;
		if (n == max) {
			cmd_err(c, "--agency: more than %zu agencies", max);
			return -1;
		}
		out[n++] = at->code[k];
	}
	do {		/* children of what is in, until nothing is added */
		before = n;
		for (size_t k = 0; k < at->n; k++) {
			if (at->parent[k][0] == '\0' || has(out, n, at->code[k]) ||
			    !has(out, n, at->parent[k]))
				continue;
			if (n == max) {
				cmd_err(c, "--agency: more than %zu agencies", max);
				return -1;
			}
			out[n++] = at->code[k];
		}
	} while (n != before);
	return (int)n;
}

/* --raise: a transaction is committed after a few hits or a short while. */
static void
hunt_commit(struct hunt *h)
{
	if (!h->in_tx)
		return;
	if (store_commit(h->c->st) == -1) {
		fprintf(stderr, "socctl: hunt: writing the incidents: %s\n",
		    db_why(h->c));
		store_rollback(h->c->st);
		h->failed = 1;
	}
	h->in_tx = 0;
	h->tx_hits = 0;
}

static void
hunt_raise(void *arg, const struct rs_alert *a)
{
	struct hunt *h = arg;
	struct store_hit sh;
	const char *org, *tags = rule_tags(a->rule);
	size_t orglen = 0;
	char agency[128];
	int64_t id;
	int created;

	if (h->failed || (org = soc_event_str(a->event, SOC_F_ORGANIZATION_ID,
	    &orglen)) == NULL || orglen == 0 || orglen >= sizeof(agency))
		return;
	memcpy(agency, org, orglen);
	agency[orglen] = '\0';
	if (!h->in_tx) {
		if (store_begin(h->c->st) == -1) {
			fprintf(stderr, "socctl: hunt: %s\n", db_why(h->c));
			h->failed = 1;
			return;
		}
		h->in_tx = 1;
		h->tx_t0 = soc_mono_ms();
	}
	soc_sbuf_reset(&h->ev);
	soc_json_event(&h->ev, a->event);
	soc_sbuf_reset(&h->tags);
	soc_sbuf_adds(&h->tags, tags);
	soc_sbuf_adds(&h->tags, tags[0] != '\0' ? ",soc.hunt" : "soc.hunt");
	sh = (struct store_hit){
		.rule_id = rule_id(a->rule),
		.rule_title = rule_title(a->rule),
		.rule_level = rule_level(a->rule),
		.rule_author = rule_author(a->rule),
		.rule_tags = h->tags.oom ? "soc.hunt" : h->tags.data,
		.severity = rule_severity(a->rule),
		.agency = agency,
		.sensor = "hunt",
		.group_key = a->group_key,
		.first_ts = a->first_ts,
		.last_ts = a->last_ts,
		.count = a->count,
		.evidence_json = h->ev.oom ? NULL : h->ev.data,
		.system_code = "",
		.system_level = 0,
	};
	if (store_incident_hit(h->c->st, &sh, &id, &created) == -1) {
		fprintf(stderr, "socctl: hunt: incident of rule %s, agency %s:"
		    " %s\n", sh.rule_id, agency, db_why(h->c));
		store_rollback(h->c->st);
		h->in_tx = 0;
		h->failed = 1;
		return;
	}
	if (created)
		h->created++;
	else
		h->updated++;
	if (++h->tx_hits >= HUNT_TX_HITS ||
	    soc_mono_ms() - h->tx_t0 >= HUNT_TX_MS)
		hunt_commit(h);
}

static int
hunt_event(void *arg, const char *line, size_t len, int64_t ts,
    const struct soc_event *ev)
{
	struct hunt *h = arg;

	(void)line, (void)len, (void)ts;
	if (ev != NULL)
		rt_match(&h->t, ev);
	return h->failed;
}

static int
hunt_progress(void *arg, const struct archive_rstats *rs)
{
	struct hunt *h = arg;
	int64_t now = soc_mono_ms();

	if (h->in_tx && now - h->tx_t0 >= HUNT_TX_MS)
		hunt_commit(h);
	if (!h->tty || now - h->t0 < 1000 || now - h->shown < 200)
		return h->failed;
	h->shown = now;
	fprintf(stderr, "\rhunting: %llu segments read, %llu skipped, %llu"
	    " events, %llu alerts ", (unsigned long long)rs->scanned,
	    (unsigned long long)rs->skipped, (unsigned long long)rs->events,
	    (unsigned long long)h->t.alerts);
	return h->failed;
}

static void
rules_err(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s\n", msg);
}

int
cmd_hunt(struct ctx *c, int argc, char **argv)
{
	static const char usage[] = "usage: socctl hunt RULE.yml|DIR..."
	    " [--since T] [--until T] [--agency CODE]... [--raise] [--json]";
	const char *since = NULL, *until = NULL, *mapping = NULL;
	const char **paths, **given, **ag = NULL;
	struct archive_rstats rs = { 0 };
	struct archive_query q;
	struct agtree at = { 0 };
	struct cmd wr;
	struct hunt h;
	char mbuf[PATH_MAX + 32], dir[4096], err[512];
	size_t npaths = 0, ngiven = 0, nerr = 0;
	int i, n, rc = 1;

	memset(&h, 0, sizeof(h));
	memset(&q, 0, sizeof(q));
	h.c = c;
	if ((paths = calloc((size_t)argc, sizeof(*paths))) == NULL ||
	    (given = calloc((size_t)argc, sizeof(*given))) == NULL) {
		free(paths);
		return errx1("out of memory");
	}
	for (i = 1; i < argc; i++) {
		const char **dst = NULL;

		if (!strcmp(argv[i], "--json")) {
			h.t.json = 1;
			continue;
		} else if (!strcmp(argv[i], "--raise")) {
			h.raise = 1;
			continue;
		} else if (!strcmp(argv[i], "--since"))
			dst = &since;
		else if (!strcmp(argv[i], "--until"))
			dst = &until;
		else if (!strcmp(argv[i], "--mapping"))
			dst = &mapping;
		else if (!strcmp(argv[i], "--agency"))
			dst = &given[ngiven++];
		else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			rc = cmd_err(c, "unknown option %s (%s)", argv[i], usage);
			goto out;
		} else {
			paths[npaths++] = argv[i];
			continue;
		}
		if (i + 1 >= argc) {
			rc = cmd_err(c, "%s needs a value", argv[i]);
			goto out;
		}
		*dst = argv[++i];
	}
	if (npaths == 0) {
		rc = cmd_err(c, "which rules? (%s)", usage);
		goto out;
	}
	if (since != NULL && parse_when(since, c->now, -1, &q.since) == -1) {
		rc = cmd_err(c, "--since %s: a time (2026-12-01, 2026-12-01T08:00)"
		    " or a duration back from now (24h, 7d)", since);
		goto out;
	}
	if (until != NULL && parse_when(until, c->now, -1, &q.until) == -1) {
		rc = cmd_err(c, "--until %s: a time or a duration back from now",
		    until);
		goto out;
	}
	if (h.raise) {		/* the only case that writes */
		wr = *c->cmd;
		wr.db = DB_WRITE;
		c->cmd = &wr;
	}
	if (db_open(c) == -1 || socctl_archive_dir(c, dir, sizeof(dir)) != 0)
		goto out;
	if (ngiven > 0) {
		if ((ag = calloc(HUNT_MAX_AGENCIES, sizeof(*ag))) == NULL) {
			rc = errx1("out of memory");
			goto out;
		}
		if ((n = subtrees(c, given, ngiven, &at, ag,
		    HUNT_MAX_AGENCIES)) < 0)
			goto out;
		q.agencies = ag;
		q.nagencies = (size_t)n;
	}
	if (mapping == NULL)
		mapping = rules_mapping(paths, npaths, mbuf, sizeof(mbuf));
	h.t.rs = ruleset_load(paths, npaths, mapping, rules_err, NULL, &nerr);
	if (h.t.rs == NULL || (h.t.sc = rs_scratch_new(h.t.rs)) == NULL)
		goto out;
	h.t.agency = 1;
	if (h.raise) {
		h.t.hook = hunt_raise;
		h.t.hook_arg = &h;
		soc_sbuf_init(&h.ev);
		soc_sbuf_init(&h.tags);
	}
	q.oldest_first = true;
	q.parse = true;
	h.tty = isatty(2);
	h.t0 = soc_mono_ms();
	rt_begin(&h.t);
	if (archive_search(dir, &q, hunt_event, &h, hunt_progress, &h, &rs,
	    err, sizeof(err)) == -1) {
		if (h.tty && h.shown != 0)
			fprintf(stderr, "\r%*s\r", 79, "");
		rc = errx1("%s", err);
		goto out;
	}
	if (h.tty && h.shown != 0)
		fprintf(stderr, "\r%*s\r", 79, "");
	rc = rt_finish(&h.t, "hunt") == -1 ? 1 : 0;
	hunt_commit(&h);
	if (h.failed)
		rc = 1;
	if (rs.index_bad > 1 || rs.cut > 0 || rs.frames_bad > 0 ||
	    rs.lines_bad > 0)
		fprintf(stderr, "socctl: archive: %llu segments read without"
		    " a usable index, %llu cut short, %llu frames and %llu"
		    " lines unreadable\n", (unsigned long long)rs.index_bad,
		    (unsigned long long)rs.cut,
		    (unsigned long long)rs.frames_bad,
		    (unsigned long long)rs.lines_bad);
	fprintf(stderr, "%zu rules (%zu refused); %llu segments: %llu skipped,"
	    " %llu scanned; %llu events, %llu matched the range, %llu"
	    " alerts", ruleset_count(h.t.rs), nerr,
	    (unsigned long long)rs.segments, (unsigned long long)rs.skipped,
	    (unsigned long long)rs.scanned, (unsigned long long)rs.events,
	    (unsigned long long)rs.matched, (unsigned long long)h.t.alerts);
	if (h.raise)
		fprintf(stderr, "; %llu incidents opened, %llu updated",
		    (unsigned long long)h.created, (unsigned long long)h.updated);
	fputc('\n', stderr);
out:
	if (h.in_tx)
		store_rollback(c->st);
	rt_free(&h.t);
	soc_sbuf_free(&h.ev);
	soc_sbuf_free(&h.tags);
	agtree_free(&at);
	free(ag);
	free(paths);
	free(given);
	return rc;
}
