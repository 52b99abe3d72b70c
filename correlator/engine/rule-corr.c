/*
 * Sigma correlation rules at load time: the correlation block of a
 * document (type, rules, group-by, aliases, timespan, condition,
 * generate) read into a corr_def, then, once every file is read, the
 * references resolved to rules (correlations may reference correlations,
 * up to RS_MAX_CORR_CHAIN deep, never in a cycle), the group-by and
 * value_count fields mapped per referenced rule through the aliases, and
 * each referenced rule told which correlations it feeds.  The windows
 * themselves live in corr-window.c.
 *
 * Supported: event_count, value_count, temporal, temporal_ordered, the
 * metric types value_sum, value_avg, value_percentile (with `percentile:
 * P` in the condition) and value_median (percentile 50), and beyond the
 * specification absence (docs/RULES.md);
 * conditions gt, gte, lt, lte, eq, neq and ranges (several keys, ANDed);
 * timespans "N" + one of s m h d w M y (M = 2629746 s and y = 31556952 s,
 * the average Gregorian month and year, as pySigma).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "rule-int.h"

#define NS	1000000000LL

/* "30s", "5m", "2h", "1d", "1w", "1M", "1y"; -1 if malformed or huge. */
int64_t
rule_parse_timespan(const char *s)
{
	static const struct { char u; int64_t sec; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 604800 }, { 'M', 2629746 }, { 'y', 31556952 },
	};
	int64_t n = 0;
	size_t i = 0;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -1;
	for (; isdigit((unsigned char)s[i]); i++) {
		n = n * 10 + (s[i] - '0');
		if (n > 1000000000LL)
			return -1;
	}
	if (s[i] == '\0' || s[i + 1] != '\0' || n == 0)
		return -1;
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++)
		if (units[u].u == s[i]) {
			if (n > INT64_MAX / NS / units[u].sec)
				return -1;
			return n * units[u].sec * NS;
		}
	return -1;
}

void
corr_def_free(struct corr_def *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->nrefs; i++)
		free(d->refs[i]);
	for (size_t i = 0; i < d->ngroup; i++)
		free(d->group_by[i]);
	for (size_t i = 0; i < d->nvfield; i++)
		free(d->vfield[i]);
	for (size_t a = 0; a < d->naliases; a++) {
		struct corr_alias *al = &d->aliases[a];

		for (size_t i = 0; i < al->n; i++) {
			free(al->rule[i]);
			free(al->field[i]);
		}
		free(al->name);
		free(al->rule);
		free(al->field);
	}
	free(d->aliases);
	free(d->refs);
	free(d->ref_lines);
	free(d->group_by);
	free(d->vfield);
	free(d->bases);
	free(d->gb_fields);
	free(d->gb_alias);
	free(d->vf_fields);
	free(d);
}

/* ---------------------------------------------------------------- */
/* parsing */

int
sg_strlist(struct sg_ctx *c, const yaml_node_t *n, const char *what,
    char ***out, int **lines, size_t *nout)
{
	size_t cnt = 1;

	if (n->type == YAML_SEQUENCE_NODE)
		cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	else if (n->type != YAML_SCALAR_NODE)
		return sg_fail(c, n, "%s: must be a name or a list of names", what);
	if (cnt == 0)
		return sg_fail(c, n, "%s: empty list", what);
	if ((*out = calloc(cnt, sizeof(**out))) == NULL ||
	    (lines != NULL && (*lines = calloc(cnt, sizeof(**lines))) == NULL))
		return sg_fail(c, n, "out of memory");
	for (size_t i = 0; i < cnt; i++) {
		const yaml_node_t *e = n;
		const char *s;

		if (n->type == YAML_SEQUENCE_NODE)
			e = ry_node(c->doc, n->data.sequence.items.start[i]);
		if ((s = ry_scalar(e)) == NULL || *s == '\0')
			return sg_fail(c, e, "%s: entries must be names", what);
		if (((*out)[i] = strdup(s)) == NULL)
			return sg_fail(c, e, "out of memory");
		if (lines != NULL)
			(*lines)[i] = ry_line(e);
		*nout = i + 1;
	}
	return 0;
}

/* A metric's bound: a finite number, integer or not. */
static int
metric_bound(struct sg_ctx *c, struct corr_def *d, const yaml_node_t *kn,
    const yaml_node_t *vn)
{
	const char *k = ry_scalar(kn), *s = ry_scalar(vn);
	char *end;
	double v;

	if (k != NULL && strcmp(k, "percentile") == 0) {
		int64_t p;

		if (d->type != CT_VALUE_PERCENTILE)
			return sg_fail(c, kn, "percentile: only applies to "
			    "value_percentile");
		if (rule_parse_int64(s, &p) == -1 || p < 1 || p > 100)
			return sg_fail(c, vn, "percentile needs an integer in 1..100");
		d->percentile = (int)p;
		return 0;
	}
	errno = 0;
	v = s != NULL ? strtod(s, &end) : 0;
	if (s == NULL || *s == '\0' || *end != '\0' || errno != 0 || !isfinite(v))
		return sg_fail(c, vn, "'%s' needs a number", k ? k : "?");
	if (k == NULL)
		return sg_fail(c, kn, "bad correlation condition");
	if (strcmp(k, "gte") == 0 || strcmp(k, "gt") == 0 || strcmp(k, "eq") == 0) {
		if (!d->m_lo || v > d->mlo || (v == d->mlo && k[2] == '\0' &&
		    k[1] == 't')) {
			d->mlo = v;
			d->m_lo_strict = strcmp(k, "gt") == 0;
		}
		d->m_lo = true;
	}
	if (strcmp(k, "lte") == 0 || strcmp(k, "lt") == 0 || strcmp(k, "eq") == 0) {
		if (!d->m_hi || v < d->mhi || (v == d->mhi && strcmp(k, "lt") == 0)) {
			d->mhi = v;
			d->m_hi_strict = strcmp(k, "lt") == 0;
		}
		d->m_hi = true;
	} else if (strcmp(k, "neq") == 0) {
		d->mne = v;
		d->m_ne = true;
	} else if (strcmp(k, "gte") != 0 && strcmp(k, "gt") != 0 &&
	    strcmp(k, "eq") != 0)
		return sg_fail(c, kn, "unknown correlation condition '%s'", k);
	return 0;
}

/* One bound of the condition; several are ANDed into [lo, hi] and ne. */
static int
corr_bound(struct sg_ctx *c, struct corr_def *d, const yaml_node_t *kn,
    const yaml_node_t *vn, bool *has_lo)
{
	const char *k = ry_scalar(kn);
	int64_t v;

	if (k == NULL)
		return sg_fail(c, kn, "bad correlation condition");
	if (strcmp(k, "field") == 0) {
		if (d->type != CT_VALUE_COUNT && !CT_METRIC(d->type))
			return sg_fail(c, kn, "condition field: only applies to "
			    "value_count and the metric types");
		if (CT_METRIC(d->type) && vn->type != YAML_SCALAR_NODE)
			return sg_fail(c, vn, "a metric takes one field");
		return sg_strlist(c, vn, "field", &d->vfield, NULL, &d->nvfield);
	}
	if (CT_METRIC(d->type))
		return metric_bound(c, d, kn, vn);
	if (rule_parse_int64(ry_scalar(vn), &v) == -1 || v < 0 ||
	    v >= RS_MAX_THRESHOLD)
		return sg_fail(c, vn, "'%s' needs an integer in 0..%d", k,
		    RS_MAX_THRESHOLD - 1);
	if (strcmp(k, "gte") == 0 || strcmp(k, "gt") == 0) {
		uint64_t lo = (uint64_t)v + (k[2] == '\0');

		if (!*has_lo || lo > d->lo)
			d->lo = lo;
		*has_lo = true;
	} else if (strcmp(k, "lte") == 0 || strcmp(k, "lt") == 0) {
		if (k[2] == '\0' && v == 0)
			return sg_fail(c, kn, "lt: 0 can never hold");
		uint64_t hi = (uint64_t)v - (k[2] == '\0');

		if (!d->has_hi || hi < d->hi)
			d->hi = hi;
		d->has_hi = true;
	} else if (strcmp(k, "eq") == 0) {
		if (*has_lo && d->lo > (uint64_t)v)
			return sg_fail(c, kn, "condition can never hold");
		d->lo = (uint64_t)v;
		d->hi = (uint64_t)v;
		*has_lo = d->has_hi = true;
	} else if (strcmp(k, "neq") == 0) {
		d->ne = (uint64_t)v;
		d->has_ne = true;
	} else
		return sg_fail(c, kn, "unknown correlation condition '%s'", k);
	return 0;
}

/* A metric's condition, once read: always judged when its window closes. */
static int
metric_condition(struct sg_ctx *c, struct corr_def *d, const yaml_node_t *n)
{
	if (d->nvfield == 0)
		return sg_fail(c, n, "a metric correlation needs 'field' in its "
		    "condition");
	if (d->type == CT_VALUE_MEDIAN)
		d->percentile = 50;
	if (d->type == CT_VALUE_PERCENTILE && d->percentile == 0)
		return sg_fail(c, n, "value_percentile needs 'percentile: P' "
		    "(1..100) in its condition: which percentile to compare");
	if (!d->m_lo && !d->m_hi && !d->m_ne)
		return sg_fail(c, n, "correlation condition has no bound");
	if (d->m_lo && d->m_hi && (d->mlo > d->mhi || (d->mlo == d->mhi &&
	    (d->m_lo_strict || d->m_hi_strict))))
		return sg_fail(c, n, "condition can never hold");
	d->lo = 1;		/* a window holds at least one event */
	d->at_close = true;
	return 0;
}

static int
corr_condition(struct sg_ctx *c, struct corr_def *d, const yaml_node_t *n)
{
	bool has_lo = false;
	yaml_node_pair_t *p;

	if (d->type == CT_ABSENCE) {
		if (n != NULL)
			return sg_fail(c, n, "absence takes no condition");
		d->lo = 1;
		d->at_close = true;	/* judged when its window ends */
		return 0;
	}
	if (n == NULL && (d->type == CT_TEMPORAL || d->type == CT_TEMPORAL_ORDERED)) {
		d->lo = 0;		/* all the rules: set by corr_resolve */
		return 0;
	}
	if (n == NULL || n->type != YAML_MAPPING_NODE)
		return sg_fail(c, n, "correlation condition must be a mapping "
		    "such as {gte: 10}");
	if (d->type == CT_TEMPORAL_ORDERED)
		return sg_fail(c, n, "temporal_ordered takes no condition: all "
		    "the rules, in order");
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
		if (corr_bound(c, d, ry_node(c->doc, p->key),
		    ry_node(c->doc, p->value), &has_lo) == -1)
			return -1;
	if (d->type == CT_VALUE_COUNT && d->nvfield == 0)
		return sg_fail(c, n, "value_count needs 'field' in its condition");
	if (CT_METRIC(d->type))
		return metric_condition(c, d, n);
	if (!has_lo && !d->has_hi && !d->has_ne)
		return sg_fail(c, n, "correlation condition has no bound");
	if (d->lo == 0)
		d->lo = 1;		/* a window holds at least one event */
	if (d->has_hi && d->hi < d->lo)
		return sg_fail(c, n, "condition can never hold (%llu..%llu)",
		    (unsigned long long)d->lo, (unsigned long long)d->hi);
	d->at_close = d->has_hi || d->has_ne;
	return 0;
}

static int
corr_aliases(struct sg_ctx *c, struct corr_def *d, const yaml_node_t *n)
{
	yaml_node_pair_t *p, *q;
	size_t na;

	if (n == NULL)
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return sg_fail(c, n, "aliases must map alias -> {rule: field}");
	na = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if ((d->aliases = calloc(na + 1, sizeof(*d->aliases))) == NULL)
		return sg_fail(c, n, "out of memory");
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		struct corr_alias *al = &d->aliases[d->naliases];
		const yaml_node_t *kn = ry_node(c->doc, p->key);
		const yaml_node_t *vn = ry_node(c->doc, p->value);
		size_t nr;

		if (ry_scalar(kn) == NULL || vn->type != YAML_MAPPING_NODE)
			return sg_fail(c, kn, "aliases must map alias -> {rule: field}");
		nr = (size_t)(vn->data.mapping.pairs.top - vn->data.mapping.pairs.start);
		if ((al->name = strdup(ry_scalar(kn))) == NULL ||
		    (al->rule = calloc(nr + 1, sizeof(char *))) == NULL ||
		    (al->field = calloc(nr + 1, sizeof(char *))) == NULL) {
			d->naliases++;
			return sg_fail(c, kn, "out of memory");
		}
		d->naliases++;
		for (q = vn->data.mapping.pairs.start; q < vn->data.mapping.pairs.top;
		    q++) {
			const char *r = ry_scalar(ry_node(c->doc, q->key));
			const char *f = ry_scalar(ry_node(c->doc, q->value));

			if (r == NULL || f == NULL || *f == '\0')
				return sg_fail(c, vn, "alias '%s': rule: field "
				    "pairs expected", al->name);
			if ((al->rule[al->n] = strdup(r)) == NULL ||
			    (al->field[al->n++] = strdup(f)) == NULL)
				return sg_fail(c, vn, "out of memory");
		}
	}
	return 0;
}

static int
corr_generate(struct sg_ctx *c, const yaml_node_t *n, bool *out)
{
	int b;

	if (n == NULL)
		return 0;
	if ((b = ry_bool(ry_scalar(n))) == -1)
		return sg_fail(c, n, "generate must be true or false");
	*out = b == 1;
	return 0;
}

int
sg_correlation(struct sg_ctx *c, const yaml_node_t *root, const yaml_node_t *cn)
{
	static const char *const types[] = { "event_count", "value_count",
	    "temporal", "temporal_ordered", "absence", "value_sum", "value_avg",
	    "value_percentile", "value_median" };
	struct corr_def *d;
	yaml_node_t *n;
	const char *type, *ts;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return sg_fail(c, cn, "out of memory");
	c->b.r->corr = d;
	d->line = ry_line(cn);
	if (ry_map_get(c->doc, root, "detection") != NULL)
		return sg_fail(c, root, "a rule has either detection or correlation");
	if (cn->type != YAML_MAPPING_NODE)
		return sg_fail(c, cn, "correlation must be a mapping");
	if ((type = ry_scalar(ry_map_get(c->doc, cn, "type"))) == NULL)
		return sg_fail(c, cn, "correlation has no type");
	d->type = -1;
	for (int i = 0; i < (int)(sizeof(types) / sizeof(types[0])); i++)
		if (strcmp(type, types[i]) == 0)
			d->type = i;
	if (d->type == -1)
		return sg_fail(c, cn, "unknown correlation type '%s'", type);
	if ((n = ry_map_get(c->doc, cn, "rules")) == NULL)
		return sg_fail(c, cn, "correlation has no rules");
	if (sg_strlist(c, n, "rules", &d->refs, &d->ref_lines, &d->nrefs) == -1)
		return -1;
	if ((n = ry_map_get(c->doc, cn, "group-by")) != NULL &&
	    sg_strlist(c, n, "group-by", &d->group_by, NULL, &d->ngroup) == -1)
		return -1;
	if (d->ngroup > RS_MAX_GROUPBY)
		return sg_fail(c, n, "more than %d group-by fields", RS_MAX_GROUPBY);
	if (corr_aliases(c, d, ry_map_get(c->doc, cn, "aliases")) == -1)
		return -1;
	n = ry_map_get(c->doc, cn, "timespan");
	if ((ts = ry_scalar(n)) == NULL)
		return sg_fail(c, cn, "correlation has no timespan");
	if ((d->timespan = rule_parse_timespan(ts)) <= 0)
		return sg_fail(c, n, "bad timespan '%s' (a number and one of "
		    "s m h d w M y, e.g. 30s, 2m, 1h)", ts);
	if (corr_condition(c, d, ry_map_get(c->doc, cn, "condition")) == -1)
		return -1;
	if (d->nvfield > RS_MAX_GROUPBY)
		return sg_fail(c, cn, "more than %d value_count fields",
		    RS_MAX_GROUPBY);
	/* generate: accepted inside correlation: and at the top level */
	if (corr_generate(c, ry_map_get(c->doc, cn, "generate"), &d->generate) == -1 ||
	    corr_generate(c, ry_map_get(c->doc, root, "generate"), &d->generate) == -1)
		return -1;
	return 0;
}

/* ---------------------------------------------------------------- */
/* resolution */

static struct rule *
find_rule(struct rule **all, size_t n, const char *ref)
{
	for (size_t i = 0; i < n; i++)
		if (!all[i]->refused && *all[i]->name && strcmp(all[i]->name, ref) == 0)
			return all[i];
	for (size_t i = 0; i < n; i++)
		if (!all[i]->refused && strcmp(all[i]->id, ref) == 0)
			return all[i];
	return NULL;
}

/* A rule skipped for its status (rules.min_status) named ref, or NULL. */
static const struct rule *
find_skipped(struct rule **all, size_t n, const char *ref)
{
	for (size_t i = 0; i < n; i++)
		if (all[i]->skipped && ((*all[i]->name &&
		    strcmp(all[i]->name, ref) == 0) || strcmp(all[i]->id, ref) == 0))
			return all[i];
	return NULL;
}

/* A field of the events a rule passes on (a correlation: its first base's). */
static int
base_field(const struct rule *b, const char *name, int depth)
{
	if (b->corr == NULL)
		return rule_map_field(b, name);
	if (depth > RS_MAX_CORR_CHAIN || b->corr->bases == NULL ||
	    b->corr->nrefs == 0)
		return SOC_F_NONE;
	return base_field(b->corr->bases[0], name, depth + 1);
}

/* name, or what alias `name` says for base b (referenced as ref). */
static const char *
alias_for(const struct corr_def *d, const char *name, const struct rule *b,
    const char *ref, bool *missing)
{
	*missing = false;
	for (size_t a = 0; a < d->naliases; a++) {
		const struct corr_alias *al = &d->aliases[a];

		if (strcmp(al->name, name) != 0)
			continue;
		for (size_t i = 0; i < al->n; i++)
			if (strcmp(al->rule[i], ref) == 0 ||
			    (*b->name && strcmp(al->rule[i], b->name) == 0) ||
			    strcmp(al->rule[i], b->id) == 0)
				return al->field[i];
		*missing = true;
		return NULL;
	}
	return name;
}

static int
map_fields(struct rule *c, struct rs_load *ld, char **names, size_t nnames,
    int *out, size_t bi, const char *what)
{
	struct corr_def *d = c->corr;
	struct rule *b = d->bases[bi];

	for (size_t g = 0; g < nnames; g++) {
		bool missing;
		const char *fn = alias_for(d, names[g], b, d->refs[bi], &missing);
		int f;

		if (missing) {
			rs_report(ld, c->file, d->line, "alias '%s' names no field "
			    "for rule '%s'", names[g], d->refs[bi]);
			return -1;
		}
		if ((f = base_field(b, fn, 0)) == SOC_F_NONE) {
			rs_report(ld, c->file, d->line, "%s field '%s' is unknown "
			    "for rule '%s'", what, fn, d->refs[bi]);
			return -1;
		}
		out[bi * nnames + g] = f;
	}
	return 0;
}

static int
chain_depth(const struct rule *r)
{
	int depth = 0;

	if (r->corr == NULL || r->corr->bases == NULL)
		return 0;
	for (size_t i = 0; i < r->corr->nrefs; i++) {
		int dd = chain_depth(r->corr->bases[i]);

		if (dd > depth)
			depth = dd;
	}
	return depth + 1;
}

/*
 * Resolves references and fields; refuses the rule on failure.  1 if it
 * must wait for a referenced correlation not resolved yet.
 */
static int
resolve_one(struct rule *c, struct rule **all, size_t n, struct rs_load *ld,
    const bool *done)
{
	struct corr_def *d = c->corr;
	size_t nb = 0;

	for (size_t i = 0; i < d->nrefs; i++) {
		struct rule *b = find_rule(all, n, d->refs[i]);

		if (b == c) {
			rs_report(ld, c->file, d->ref_lines[i],
			    "correlation references itself");
			return -1;
		}
		if (b != NULL && b->corr != NULL && !done[b->index])
			return 1;
	}
	if ((d->bases = calloc(d->nrefs, sizeof(*d->bases))) == NULL ||
	    (d->gb_fields = calloc(d->nrefs * d->ngroup + 1, sizeof(int))) == NULL ||
	    (d->vf_fields = calloc(d->nrefs * d->nvfield + 1, sizeof(int))) == NULL ||
	    (d->gb_alias = calloc(d->ngroup + 1, sizeof(bool))) == NULL)
		return -1;
	for (size_t g = 0; g < d->ngroup; g++)
		for (size_t a = 0; a < d->naliases; a++)
			d->gb_alias[g] |= strcmp(d->aliases[a].name, d->group_by[g]) == 0;
	for (size_t i = 0; i < d->nrefs; i++) {
		struct rule *b = find_rule(all, n, d->refs[i]);
		bool dup = false;

		if (b == NULL && find_skipped(all, n, d->refs[i]) != NULL) {
			c->skipped = true;	/* not an error: skipped with it */
			c->skipwhy = "references a rule skipped for its status";
			return -1;
		}
		if (b == NULL) {
			rs_report(ld, c->file, d->ref_lines[i],
			    "correlation references unknown or refused rule '%s'",
			    d->refs[i]);
			return -1;
		}
		for (size_t j = 0; j < nb; j++)
			dup |= d->bases[j] == b;
		if (dup) {
			free(d->refs[i]);	/* not kept: nrefs shrinks below */
			d->refs[i] = NULL;
			continue;
		}
		if (nb != i) {		/* keep the names of bases[] in refs[] */
			d->refs[nb] = d->refs[i];
			d->ref_lines[nb] = d->ref_lines[i];
			d->refs[i] = NULL;
		}
		d->bases[nb] = b;
		if (map_fields(c, ld, d->group_by, d->ngroup, d->gb_fields, nb,
		    "group-by") == -1 ||
		    map_fields(c, ld, d->vfield, d->nvfield, d->vf_fields, nb,
		    CT_METRIC(d->type) ? "metric" : "value_count") == -1)
			return -1;
		if (CT_METRIC(d->type) &&
		    soc_field_type(d->vf_fields[nb]) != SOC_T_INT) {
			rs_report(ld, c->file, d->line, "metric field '%s' is not "
			    "an integer field", d->vfield[0]);
			return -1;
		}
		nb++;
	}
	d->nrefs = nb;
	if (chain_depth(c) > RS_MAX_CORR_CHAIN) {
		rs_report(ld, c->file, d->line, "correlations chained more than "
		    "%d deep", RS_MAX_CORR_CHAIN);
		return -1;
	}
	if ((d->type == CT_TEMPORAL || d->type == CT_TEMPORAL_ORDERED) &&
	    d->lo == 0)
		d->lo = d->nrefs;
	if (d->type == CT_ABSENCE && d->nrefs > 2) {
		rs_report(ld, c->file, d->line, "absence takes one rule (whose "
		    "events must keep coming) or two (the first not followed by "
		    "the second)");
		return -1;
	}
	if (d->type == CT_TEMPORAL && (d->lo > d->nrefs ||
	    (d->has_hi && d->hi > d->nrefs && d->lo > d->nrefs))) {
		rs_report(ld, c->file, d->line, "temporal condition asks for more "
		    "than its %zu rules", d->nrefs);
		return -1;
	}
	return 0;
}

static int
add_feed(struct rule *b, struct rule *c, uint32_t bi)
{
	struct rule_feed *nf = reallocarray(b->feeds, b->nfeeds + 1, sizeof(*nf));

	if (nf == NULL)
		return -1;
	b->feeds = nf;
	b->feeds[b->nfeeds].corr = c;
	b->feeds[b->nfeeds++].base = bi;
	return 0;
}

static void
link_feeds(struct rule *c, struct rs_load *ld)
{
	for (size_t b = 0; b < c->corr->nrefs; b++) {
		if (add_feed(c->corr->bases[b], c, (uint32_t)b) == 0)
			continue;
		rs_report(ld, c->file, c->line, "out of memory");
		c->refused = true;
		while (b-- > 0)		/* take back this rule's feeds */
			c->corr->bases[b]->nfeeds--;
		return;
	}
}

/* A refused correlation takes the correlations that reference it along. */
static void
refuse_dependents(struct rule **all, size_t n, struct rs_load *ld)
{
	bool again = true;

	while (again) {
		again = false;
		for (size_t i = 0; i < n; i++) {
			struct corr_def *d = all[i]->corr;

			if (d == NULL || all[i]->refused || d->bases == NULL)
				continue;
			for (size_t b = 0; b < d->nrefs; b++)
				if (d->bases[b]->skipped) {
					all[i]->skipped = true;
					all[i]->skipwhy = "references a rule skipped "
					    "for its status";
					all[i]->refused = again = true;
					break;
				} else if (d->bases[b]->refused) {
					rs_report(ld, all[i]->file, d->ref_lines[b],
					    "references refused rule '%s'", d->refs[b]);
					all[i]->refused = again = true;
					break;
				}
		}
	}
}

void
corr_resolve(struct rule **all, size_t n, struct rs_load *ld)
{
	bool *done = calloc(n + 1, sizeof(*done)), progress = true;
	uint32_t idx = 0;

	if (done == NULL) {
		for (size_t i = 0; i < n; i++)
			if (all[i]->corr != NULL && !all[i]->refused) {
				rs_report(ld, all[i]->file, all[i]->line, "out of memory");
				all[i]->refused = true;
			}
		return;
	}
	for (size_t i = 0; i < n; i++)
		all[i]->index = (uint32_t)i;
	while (progress) {
		progress = false;
		for (size_t i = 0; i < n; i++) {
			struct rule *c = all[i];
			int rc;

			if (c->corr == NULL || c->refused || done[i])
				continue;
			if ((rc = resolve_one(c, all, n, ld, done)) == 1)
				continue;
			done[i] = progress = true;
			if (rc == -1)
				c->refused = true;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (all[i]->corr != NULL && !all[i]->refused && !done[i]) {
			rs_report(ld, all[i]->file, all[i]->corr->line,
			    "correlations reference each other in a cycle");
			all[i]->refused = true;
		}
	refuse_dependents(all, n, ld);
	for (size_t i = 0; i < n; i++) {
		struct rule *c = all[i];

		if (c->corr == NULL || c->refused)
			continue;
		c->corr->index = idx++;
		link_feeds(c, ld);
	}
	for (size_t i = 0; i < n; i++) {
		struct rule *r = all[i];

		r->generate = r->nfeeds == 0;
		for (size_t f = 0; f < r->nfeeds; f++)
			if (!r->feeds[f].corr->refused && r->feeds[f].corr->corr->generate)
				r->generate = true;
	}
	free(done);
}

static bool
strv_same(char *const *a, char *const *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

/* Same correlation, as far as its windows are concerned. */
bool
corr_same(const struct rule *a, const struct rule *b)
{
	const struct corr_def *x = a->corr, *y = b->corr;

	if (strcmp(a->id, b->id) != 0 || x->type != y->type ||
	    x->timespan != y->timespan || x->lo != y->lo || x->hi != y->hi ||
	    x->ne != y->ne || x->has_hi != y->has_hi || x->has_ne != y->has_ne ||
	    x->ngroup != y->ngroup || x->nrefs != y->nrefs ||
	    x->nvfield != y->nvfield || x->naliases != y->naliases ||
	    x->percentile != y->percentile || x->m_lo != y->m_lo ||
	    x->m_hi != y->m_hi || x->m_ne != y->m_ne ||
	    (x->m_lo && (x->mlo != y->mlo || x->m_lo_strict != y->m_lo_strict)) ||
	    (x->m_hi && (x->mhi != y->mhi || x->m_hi_strict != y->m_hi_strict)) ||
	    (x->m_ne && x->mne != y->mne))
		return false;
	if (!strv_same(x->group_by, y->group_by, x->ngroup) ||
	    !strv_same(x->refs, y->refs, x->nrefs) ||
	    !strv_same(x->vfield, y->vfield, x->nvfield))
		return false;
	for (size_t i = 0; i < x->naliases; i++) {
		const struct corr_alias *p = &x->aliases[i], *q = &y->aliases[i];

		if (strcmp(p->name, q->name) != 0 || p->n != q->n ||
		    !strv_same(p->rule, q->rule, p->n) ||
		    !strv_same(p->field, q->field, p->n))
			return false;
	}
	return true;
}
