/*
 * `socctl report`: the leadership report, the figures a provincial
 * leader asks for, per agency rolled up the tree (a department's figures
 * include its sub-agencies') and per category.  The store sums them in
 * SQL (store_report_foreach, store-search.c); here they are put on the
 * agency tree, joined with the coverage report and printed as a table,
 * JSON or CSV; socctl-leadership-html.c writes the HTML page.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "soc/json.h"
#include "soc/util.h"
#include "store.h"
#include "socctl.h"
#include "socctl-leadership.h"

static void
fig_add(struct rep_fig *to, const struct rep_fig *f)
{
	int i;

	to->incidents += f->incidents;
	for (i = 0; i < 5; i++)
		to->sev[i] += f->sev[i];
	to->acked += f->acked;
	to->resolved += f->resolved;
	to->met += f->met;
	to->missed += f->missed;
	to->ack_sum += f->ack_sum;
	to->res_sum += f->res_sum;
}

/* Adds f to the category list (*cats, *n) under name. */
static int
cat_add(struct rep_cat **cats, size_t *n, const char *name,
    const struct rep_fig *f)
{
	struct rep_cat *nc;
	size_t i;

	for (i = 0; i < *n; i++)
		if ((name == NULL && (*cats)[i].name == NULL) || (name != NULL &&
		    (*cats)[i].name != NULL && strcmp(name, (*cats)[i].name) == 0))
			break;
	if (i == *n) {
		if ((nc = reallocarray(*cats, *n + 1, sizeof(*nc))) == NULL)
			return -1;
		*cats = nc;
		memset(&nc[i], 0, sizeof(nc[i]));
		if (name != NULL && (nc[i].name = strdup(name)) == NULL)
			return -1;
		(*n)++;
	}
	fig_add(&(*cats)[i].f, f);
	return 0;
}

/* The agencies, all of them first (the tree is built after). */
struct rep_all {
	struct rep_agency	*a;
	size_t			 n;
	int			 oom;
};

static int
rep_collect_agency(void *arg, const struct store_agency *ag)
{
	struct rep_all *all = arg;
	struct rep_agency *na, *x;

	if ((na = reallocarray(all->a, all->n + 1, sizeof(*na))) == NULL) {
		all->oom = 1;
		return 1;
	}
	all->a = na;
	x = &na[all->n++];
	memset(x, 0, sizeof(*x));
	x->code = strdup(ag->code);
	x->name = strdup(ag->name);
	x->parent = strdup(ag->parent);
	if (x->code == NULL || x->name == NULL || x->parent == NULL) {
		all->oom = 1;
		return 1;
	}
	return 0;
}

static ssize_t
rep_find(const struct rep_agency *a, size_t n, const char *code)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i].code != NULL && strcmp(a[i].code, code) == 0)
			return (ssize_t)i;
	return -1;
}

/* Moves the subtree of all->a[i] into r in depth-first order (children
 * by code, as store_agency_foreach lists them). */
static void
rep_walk(struct rep *r, struct rep_all *all, size_t i, int depth,
    char *taken)
{
	size_t k, me;

	if (taken[i] || depth > 64)
		return;
	taken[i] = 1;
	me = r->n++;
	r->a[me] = all->a[i];
	r->a[me].depth = depth;
	memset(&all->a[i], 0, sizeof(all->a[i]));	/* moved */
	for (k = 0; k < all->n; k++)
		if (!taken[k] && all->a[k].parent != NULL &&
		    strcmp(all->a[k].parent, r->a[me].code) == 0)
			rep_walk(r, all, k, depth + 1, taken);
}

static int
rep_tree(struct rep *r, struct rep_all *all)
{
	char *taken, *root;
	size_t i;
	ssize_t s;

	taken = calloc(all->n + 1, 1);
	root = calloc(all->n + 1, 1);
	if (taken == NULL || root == NULL ||
	    (r->a = calloc(all->n + 1, sizeof(*r->a))) == NULL) {
		free(taken);
		free(root);
		return -1;
	}
	for (i = 0; i < all->n; i++)
		root[i] = all->a[i].parent[0] == '\0' ||
		    rep_find(all->a, all->n, all->a[i].parent) < 0;
	if (r->scope != NULL) {
		if ((s = rep_find(all->a, all->n, r->scope)) >= 0)
			rep_walk(r, all, (size_t)s, 0, taken);
	} else {
		for (i = 0; i < all->n; i++)
			if (root[i])
				rep_walk(r, all, i, 0, taken);
		for (i = 0; i < all->n; i++)	/* a cycle: list it at the top */
			if (!taken[i])
				rep_walk(r, all, i, 0, taken);
	}
	free(taken);
	free(root);
	return 0;
}

static int
rep_row(void *arg, const struct store_report_row *row)
{
	struct rep *r = arg;
	struct rep_fig f;
	ssize_t i;
	int k;

	memset(&f, 0, sizeof(f));
	f.incidents = row->incidents;
	for (k = 0; k < 5; k++)
		f.sev[k] = row->by_severity[k];
	f.acked = row->acknowledged;
	f.ack_sum = row->ack_sum_s;
	f.resolved = row->resolved;
	f.res_sum = row->resolve_sum_s;
	f.met = row->deadlines_met;
	f.missed = row->deadlines_missed;
	r->deadlines = row->deadlines_known;
	if ((i = rep_find(r->a, r->n, row->agency)) < 0)
		return 0;
	fig_add(&r->a[i].f, &f);
	if (cat_add(&r->a[i].cats, &r->a[i].ncats, row->category, &f) == -1) {
		r->oom = 1;
		return 1;
	}
	if (r->a[i].depth == 0 && cat_add(&r->cats, &r->ncats, row->category,
	    &f) == -1) {
		r->oom = 1;
		return 1;
	}
	return 0;
}

/* Coverage per agency, then summed up each one's ancestors. */
static int
rep_coverage(void *arg, const struct store_coverage *cv)
{
	struct rep *r = arg;
	ssize_t i;
	int hops;

	if ((i = rep_find(r->a, r->n, cv->agency)) < 0)
		return 0;		/* outside the scope */
	r->a[i].covered = cv->covered;
	r->a[i].ep_declared = cv->tree_declared;
	r->a[i].ep_reporting = cv->tree_reporting;
	r->a[i].ep_protected = cv->tree_protected;
	r->cov_total++;
	r->cov_covered += cv->covered != 0;
	for (hops = 0; i >= 0 && hops <= 64; hops++) {
		r->a[i].cov_total++;
		r->a[i].cov_covered += cv->covered != 0;
		if (r->a[i].depth == 0)
			break;
		i = rep_find(r->a, r->n, r->a[i].parent);
	}
	return 0;
}

/* Each province's share of agencies fully covered (its last record). */
static int
rep_province(void *arg, const struct store_province_cov *pc)
{
	struct rep *r = arg;
	struct rep_prov *p;

	if (r->nprov == 0 || strcmp(r->prov[r->nprov - 1].name,
	    pc->province) != 0) {
		if ((p = reallocarray(r->prov, r->nprov + 1,
		    sizeof(*p))) == NULL) {
			r->oom = 1;
			return 1;
		}
		r->prov = p;
		p = &r->prov[r->nprov];
		memset(p, 0, sizeof(*p));
		if ((p->name = strdup(pc->province)) == NULL) {
			r->oom = 1;
			return 1;
		}
		p->reported_at = pc->reported_at;
		r->nprov++;
	}
	p = &r->prov[r->nprov - 1];
	p->total++;
	p->covered += pc->covered != 0;
	return 0;
}

static void
rep_free(struct rep *r)
{
	size_t i, k;

	for (i = 0; i < r->nprov; i++)
		free(r->prov[i].name);
	free(r->prov);

	for (i = 0; i < r->n; i++) {
		free(r->a[i].code);
		free(r->a[i].name);
		free(r->a[i].parent);
		for (k = 0; k < r->a[i].ncats; k++)
			free(r->a[i].cats[k].name);
		free(r->a[i].cats);
	}
	free(r->a);
	for (k = 0; k < r->ncats; k++)
		free(r->cats[k].name);
	free(r->cats);
}

static int
rep_build(struct rep *r)
{
	struct store_report_opts ro;
	struct store_coverage_opts co;
	struct rep_all all;
	size_t i, nc, nt;
	int rc;

	memset(&all, 0, sizeof(all));
	if (store_agency_foreach(r->c->st, rep_collect_agency, &all) == -1)
		return db_fail(r->c);
	rc = all.oom ? -1 : rep_tree(r, &all);
	for (i = 0; i < all.n; i++) {
		free(all.a[i].code);
		free(all.a[i].name);
		free(all.a[i].parent);
	}
	free(all.a);
	if (rc == -1)
		return errx1("out of memory");
	memset(&ro, 0, sizeof(ro));
	ro.since_ns = r->since;
	ro.until_ns = r->until;
	ro.now_ns = r->c->now;
	ro.agency = r->scope;
	if ((rc = store_search_has_deadlines(r->c->st)) == -1 ||
	    store_report_foreach(r->c->st, &ro, rep_row, r) == -1)
		return db_fail(r->c);
	r->deadlines = rc;
	if (r->oom)
		return errx1("out of memory");
	for (i = 0; i < r->n; i++)
		if (r->a[i].depth == 0)
			fig_add(&r->total, &r->a[i].f);
	store_coverage_opts_init(&co);
	co.now_ns = r->c->now;
	if (store_coverage(r->c->st, &co, rep_coverage, r, &nc, &nt) == -1)
		return db_fail(r->c);
	/* a national database: the provinces' own shares (not scoped) */
	if (r->scope == NULL && (rc = store_province_coverage_foreach(r->c->st,
	    NULL, rep_province, r)) != 0) {
		if (r->oom)
			return errx1("out of memory");
		return db_fail(r->c);
	}
	return 0;
}

/* ---- report: JSON and CSV ---- */

static void
j_mean(struct soc_sbuf *b, int *n, const char *k, double sum, uint64_t cnt)
{
	j_key(b, n, k);
	if (cnt == 0)
		soc_sbuf_adds(b, "null");
	else
		soc_sbuf_printf(b, "%.3f", sum / (double)cnt);
}

static void
j_share(struct soc_sbuf *b, int *n, size_t covered, size_t total)
{
	int m = 0;

	j_key(b, n, "coverage");
	soc_sbuf_adds(b, "{");
	j_int(b, &m, "covered", (long long)covered);
	j_int(b, &m, "total", (long long)total);
	j_key(b, &m, "share");
	if (total == 0)
		soc_sbuf_adds(b, "null");
	else
		soc_sbuf_printf(b, "%.4f", (double)covered / (double)total);
	soc_sbuf_adds(b, "}");
}

static void
j_fig(struct soc_sbuf *b, int *n, const struct rep *r, const struct rep_fig *f)
{
	int i, m = 0;

	j_int(b, n, "incidents", (long long)f->incidents);
	j_key(b, n, "by_severity");
	soc_sbuf_adds(b, "{");
	for (i = 0; i < 5; i++)
		j_int(b, &m, store_severity_name(i), (long long)f->sev[i]);
	soc_sbuf_adds(b, "}");
	j_int(b, n, "acknowledged", (long long)f->acked);
	j_mean(b, n, "mean_time_to_acknowledge_s", f->ack_sum, f->acked);
	j_int(b, n, "resolved", (long long)f->resolved);
	j_mean(b, n, "mean_time_to_resolve_s", f->res_sum, f->resolved);
	if (r->deadlines) {
		j_int(b, n, "deadlines_met", (long long)f->met);
		j_int(b, n, "deadlines_missed", (long long)f->missed);
	} else {
		j_str(b, n, "deadlines_met", NULL);
		j_str(b, n, "deadlines_missed", NULL);
	}
}

static void
j_cats(struct soc_sbuf *b, int *n, const struct rep *r,
    const struct rep_cat *cats, size_t ncats)
{
	size_t k;
	int m;

	j_key(b, n, "categories");
	soc_sbuf_adds(b, "[");
	for (k = 0; k < ncats; k++) {
		m = 0;
		soc_sbuf_adds(b, k ? ",{" : "{");
		j_str(b, &m, "category", cats[k].name);
		j_fig(b, &m, r, &cats[k].f);
		soc_sbuf_adds(b, "}");
	}
	soc_sbuf_adds(b, "]");
}

static int
rep_json(const struct rep *r)
{
	struct soc_sbuf b;
	size_t i;
	int n = 0, m;

	soc_sbuf_init(&b);
	soc_sbuf_adds(&b, "{");
	j_time(&b, &n, "since", r->since);
	j_time(&b, &n, "until", r->until);
	j_str(&b, &n, "zone", r->c->tz);
	j_str(&b, &n, "agency", r->scope);
	j_bool(&b, &n, "deadlines_kept", r->deadlines);
	j_share(&b, &n, r->cov_covered, r->cov_total);
	j_key(&b, &n, "total");
	soc_sbuf_adds(&b, "{");
	m = 0;
	j_fig(&b, &m, r, &r->total);
	soc_sbuf_adds(&b, "}");
	j_cats(&b, &n, r, r->cats, r->ncats);
	j_key(&b, &n, "agencies");
	soc_sbuf_adds(&b, "[");
	for (i = 0; i < r->n; i++) {
		m = 0;
		soc_sbuf_adds(&b, i ? ",{" : "{");
		j_str(&b, &m, "code", r->a[i].code);
		j_str(&b, &m, "name", r->a[i].name);
		j_str(&b, &m, "parent", r->a[i].parent[0] ? r->a[i].parent : NULL);
		j_int(&b, &m, "depth", r->a[i].depth);
		j_bool(&b, &m, "covered", r->a[i].covered);
		j_share(&b, &m, r->a[i].cov_covered, r->a[i].cov_total);
		j_fig(&b, &m, r, &r->a[i].f);
		j_cats(&b, &m, r, r->a[i].cats, r->a[i].ncats);
		soc_sbuf_adds(&b, "}");
	}
	soc_sbuf_adds(&b, "]");
	/* a national database: per province, the share of its agencies
	 * with all four layers, as its last coverage record gave them */
	j_key(&b, &n, "provinces");
	soc_sbuf_adds(&b, "[");
	for (i = 0; i < r->nprov; i++) {
		m = 0;
		soc_sbuf_adds(&b, i ? ",{" : "{");
		j_str(&b, &m, "name", r->prov[i].name);
		j_int(&b, &m, "reported_at", (long long)r->prov[i].reported_at);
		j_share(&b, &m, r->prov[i].covered, r->prov[i].total);
		soc_sbuf_adds(&b, "}");
	}
	soc_sbuf_adds(&b, "]}");
	return j_print(&b);
}

/* One CSV line: an agency, all its incidents (kind "all") or those of
 * one category (kind "category", category empty for none); or, on a
 * national database, a province's share of agencies fully covered as its
 * last coverage record gave it (kind "province": the incident columns
 * empty, reported_at set). */
struct rep_line {
	const char	*code, *name, *parent, *kind, *category;
	int64_t		 depth;
	const char	*incidents, *sev[5], *acked, *resolved;
	const char	*mtta, *mttr, *met, *missed, *share;
	uint64_t	 cov_covered, cov_total;
	int64_t		 reported_at;	/* ns; 0 (empty) but for provinces */
};

#define RL(f)	offsetof(struct rep_line, f)
#define RL_NUM	(COL_NULLEMPTY | COL_NUMTEXT)

static const struct col rep_cols[] = {
	{ "agency", NULL, 0, COL_STR, 0, RL(code), NULL },
	{ "name", NULL, 0, COL_STR, 0, RL(name), NULL },
	{ "parent", NULL, 0, COL_STR, COL_NULLEMPTY, RL(parent), NULL },
	{ "depth", NULL, 0, COL_INT, 0, RL(depth), NULL },
	{ "kind", NULL, 0, COL_STR, 0, RL(kind), NULL },
	{ "category", NULL, 0, COL_STR, COL_NULLEMPTY, RL(category), NULL },
	{ "incidents", NULL, 0, COL_STR, RL_NUM, RL(incidents), NULL },
	{ "informational", NULL, 0, COL_STR, RL_NUM, RL(sev[0]), NULL },
	{ "low", NULL, 0, COL_STR, RL_NUM, RL(sev[1]), NULL },
	{ "medium", NULL, 0, COL_STR, RL_NUM, RL(sev[2]), NULL },
	{ "high", NULL, 0, COL_STR, RL_NUM, RL(sev[3]), NULL },
	{ "critical", NULL, 0, COL_STR, RL_NUM, RL(sev[4]), NULL },
	{ "acknowledged", NULL, 0, COL_STR, RL_NUM, RL(acked), NULL },
	{ "mean_time_to_acknowledge_s", NULL, 0, COL_STR, RL_NUM, RL(mtta), NULL },
	{ "resolved", NULL, 0, COL_STR, RL_NUM, RL(resolved), NULL },
	{ "mean_time_to_resolve_s", NULL, 0, COL_STR, RL_NUM, RL(mttr), NULL },
	{ "deadlines_met", NULL, 0, COL_STR, RL_NUM, RL(met), NULL },
	{ "deadlines_missed", NULL, 0, COL_STR, RL_NUM, RL(missed), NULL },
	{ "agencies_covered", NULL, 0, COL_UINT, 0, RL(cov_covered), NULL },
	{ "agencies_total", NULL, 0, COL_UINT, 0, RL(cov_total), NULL },
	{ "coverage_share", NULL, 0, COL_STR, RL_NUM, RL(share), NULL },
	{ "reported_at", NULL, 0, COL_TIME, 0, RL(reported_at), NULL },
};

static void
fmt_mean(char *buf, size_t len, double sum, uint64_t n)
{
	if (n == 0)
		buf[0] = '\0';
	else
		snprintf(buf, len, "%.3f", sum / (double)n);
}

static void
fmt_share(char *buf, size_t len, size_t covered, size_t total)
{
	if (total == 0)
		buf[0] = '\0';
	else
		snprintf(buf, len, "%.4f", (double)covered / (double)total);
}

static void
rep_csv_line(struct out *o, const struct rep *r, const struct rep_agency *a,
    const char *cat, const struct rep_fig *f)
{
	char mtta[32], mttr[32], met[24], missed[24], share[16];
	char num[9][24];
	struct rep_line l;
	int i;

	memset(&l, 0, sizeof(l));
	l.code = a->code;
	l.name = a->name;
	l.parent = a->parent;
	l.kind = cat == NULL ? "all" : "category";
	l.category = cat;
	l.depth = a->depth;
	snprintf(num[0], sizeof(num[0]), "%llu",
	    (unsigned long long)f->incidents);
	l.incidents = num[0];
	for (i = 0; i < 5; i++) {
		snprintf(num[1 + i], sizeof(num[0]), "%llu",
		    (unsigned long long)f->sev[i]);
		l.sev[i] = num[1 + i];
	}
	snprintf(num[6], sizeof(num[0]), "%llu", (unsigned long long)f->acked);
	snprintf(num[7], sizeof(num[0]), "%llu",
	    (unsigned long long)f->resolved);
	l.acked = num[6];
	l.resolved = num[7];
	fmt_mean(mtta, sizeof(mtta), f->ack_sum, f->acked);
	fmt_mean(mttr, sizeof(mttr), f->res_sum, f->resolved);
	l.mtta = mtta;
	l.mttr = mttr;
	met[0] = missed[0] = '\0';
	if (r->deadlines) {
		snprintf(met, sizeof(met), "%llu", (unsigned long long)f->met);
		snprintf(missed, sizeof(missed), "%llu",
		    (unsigned long long)f->missed);
	}
	l.met = met;
	l.missed = missed;
	l.cov_covered = a->cov_covered;
	l.cov_total = a->cov_total;
	fmt_share(share, sizeof(share), a->cov_covered, a->cov_total);
	l.share = share;
	out_row(o, &l);
}

/* A province's line: its share, as the JSON's provinces[] gives it. */
static void
rep_csv_province(struct out *o, const struct rep_prov *p)
{
	char share[16];
	struct rep_line l;
	int i;

	memset(&l, 0, sizeof(l));
	l.code = l.name = p->name;
	l.parent = l.category = "";
	l.kind = "province";
	l.incidents = l.acked = l.resolved = l.mtta = l.mttr = "";
	l.met = l.missed = "";
	for (i = 0; i < 5; i++)
		l.sev[i] = "";
	l.cov_covered = p->covered;
	l.cov_total = p->total;
	fmt_share(share, sizeof(share), p->covered, p->total);
	l.share = share;
	l.reported_at = p->reported_at;
	out_row(o, &l);
}

/* One line per agency, then one per category of its incidents; on a
 * national database, one per province after them. */
static int
rep_csv(struct rep *r)
{
	struct out o;
	size_t i, k;

	out_begin(&o, r->c, OUT_CSV, rep_cols, COL_COUNT(rep_cols));
	for (i = 0; i < r->n; i++) {
		rep_csv_line(&o, r, &r->a[i], NULL, &r->a[i].f);
		for (k = 0; k < r->a[i].ncats; k++)
			rep_csv_line(&o, r, &r->a[i], r->a[i].cats[k].name ?
			    r->a[i].cats[k].name : "", &r->a[i].cats[k].f);
	}
	for (i = 0; i < r->nprov; i++)
		rep_csv_province(&o, &r->prov[i]);
	return out_end(&o, 0, "");
}

/* ---- report: text ---- */

static void
mean_human(char *buf, size_t len, double sum, uint64_t n)
{
	if (n == 0)
		snprintf(buf, len, "-");
	else
		store_age_format((int64_t)(sum / (double)n * 1e9), buf, len);
}

static int
rep_text(struct rep *r)
{
	static const char *const head[] = {
		"AGENCY", ">INCIDENTS", ">CRIT", ">HIGH", ">MED", ">LOW", ">INFO",
		">ACK", ">RESOLVE", ">DEADLINES", ">COVERED"
	};
	char num[8][24], ack[24], res[24], dl[48], cov[32], t1[40], t2[40];
	char name[512];
	const char *cells[11];
	struct table t;
	const struct rep_fig *f;
	size_t i, k;
	int s, rc;

	time_human(r->c, r->since, t1, sizeof(t1));
	time_human(r->c, r->until, t2, sizeof(t2));
	printf("Incidents opened from %s to %s (%s)\n", t1, t2, r->c->tz);
	printf("agencies fully covered: %zu of %zu\n\n", r->cov_covered,
	    r->cov_total);
	table_init(&t, 11, head);
	for (i = 0; i < r->n; i++) {
		f = &r->a[i].f;
		snprintf(name, sizeof(name), "%*s%s %s", r->a[i].depth * 2, "",
		    r->a[i].code, r->a[i].name);
		snprintf(num[0], sizeof(num[0]), "%llu",
		    (unsigned long long)f->incidents);
		for (s = 0; s < 5; s++)
			snprintf(num[1 + s], sizeof(num[0]), "%llu",
			    (unsigned long long)f->sev[4 - s]);
		mean_human(ack, sizeof(ack), f->ack_sum, f->acked);
		mean_human(res, sizeof(res), f->res_sum, f->resolved);
		if (r->deadlines)
			snprintf(dl, sizeof(dl), "%llu met, %llu missed",
			    (unsigned long long)f->met,
			    (unsigned long long)f->missed);
		else
			snprintf(dl, sizeof(dl), "-");
		snprintf(cov, sizeof(cov), "%zu/%zu", r->a[i].cov_covered,
		    r->a[i].cov_total);
		cells[0] = name;
		for (s = 0; s < 6; s++)
			cells[1 + s] = num[s];
		cells[7] = ack;
		cells[8] = res;
		cells[9] = dl;
		cells[10] = cov;
		table_add(&t, cells);
	}
	rc = r->n ? table_print(&t) : (printf("no agencies\n"), 0);
	table_free(&t);
	if (rc == 0 && r->nprov > 0) {
		printf("\nprovinces' agencies fully covered (their last"
		    " coverage record):\n");
		for (k = 0; k < r->nprov; k++) {
			store_age_format(r->c->now - r->prov[k].reported_at,
			    cov, sizeof(cov));
			printf("  ");
			put_clean(stdout, r->prov[k].name);
			printf("  %zu of %zu agencies (%.0f%%), reported %s"
			    " ago\n", r->prov[k].covered, r->prov[k].total,
			    r->prov[k].total ? 100.0 *
			    (double)r->prov[k].covered /
			    (double)r->prov[k].total : 0.0, cov);
		}
	}
	if (rc != 0 || r->ncats == 0)
		return rc;
	printf("\nby category:\n");
	for (k = 0; k < r->ncats; k++) {
		f = &r->cats[k].f;
		printf("  %-20s %llu incidents (%llu critical, %llu high)\n",
		    r->cats[k].name ? r->cats[k].name : "(none)",
		    (unsigned long long)f->incidents,
		    (unsigned long long)f->sev[4], (unsigned long long)f->sev[3]);
	}
	if (!r->deadlines)
		printf("\n(this database keeps no reporting deadlines)\n");
	return 0;
}

int
cmd_report(struct ctx *c, int argc, char **argv)
{
	const char *since = NULL, *until = NULL, *html = NULL;
	struct rep r;
	enum out_fmt fmt;
	int json = 0, csv = 0, rc;
	const struct optspec spec[] = {
		{ "since", &since, NULL }, { "until", &until, NULL },
		{ "agency", &r.scope, NULL }, { "json", NULL, &json },
		{ "csv", NULL, &csv }, { "html", &html, NULL },
		{ NULL, NULL, NULL }
	};

	memset(&r, 0, sizeof(r));
	r.c = c;
	if (args(c, argc, argv, spec, 0, 0) < 0 ||
	    out_fmt_pick(c, json, csv, &fmt) == -1)
		return 1;
	if (html != NULL && fmt != OUT_TABLE)
		return cmd_err(c, "--html and --%s: pick one", json ? "json" : "csv");
	r.until = c->now;
	if (parse_when(since ? since : "30d", c->now, -1, &r.since) == -1)
		return cmd_err(c, "--since wants a duration (30d) or a date"
		    " (2026-11-01, read in %s), not '%s'", c->tz, since);
	if (until != NULL && parse_when(until, c->now, -1, &r.until) == -1)
		return cmd_err(c, "--until wants a date (read in %s), not '%s'",
		    c->tz, until);
	if (db_open(c) == -1)
		return 1;
	if (r.scope != NULL && (rc = store_agency_exists(c->st, r.scope)) != 1) {
		if (rc == -1)
			return db_fail(c);
		return errx1("report: unknown agency '%s' (see `socctl agency"
		    " list`)", r.scope);
	}
	if ((rc = rep_build(&r)) == 0) {
		if (html != NULL)
			rc = report_html(&r, html);
		else if (fmt == OUT_JSON)
			rc = rep_json(&r);
		else if (fmt == OUT_CSV)
			rc = rep_csv(&r);
		else
			rc = rep_text(&r);
	}
	rep_free(&r);
	return rc;
}
