/*
 * A rule's detection: its named selections (field items, lists of them,
 * keywords) and the condition that combines them ("sel and not filter",
 * "1 of sel_*", "all of them"), into the rule's condition tree.  The
 * condition parser (rule_cond_parse) works on a string and needs no YAML;
 * precedence is or < and < not < atom.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "rule-int.h"

/* ---------------------------------------------------------------- */
/* the condition string: or < and < not < atom; "1 of x*", "all of them" */

struct cp {
	struct rule_build *c;
	int		 line;
	const struct rule_sel *sels;
	size_t		 nsels;
	int		 depth;
	const char	*s;
	size_t		 pos;
	char		 tok[128];
};

static void
cp_next(struct cp *p)
{
	size_t len = 0;

	while (isspace((unsigned char)p->s[p->pos]))
		p->pos++;
	if (p->s[p->pos] == '(' || p->s[p->pos] == ')') {
		p->tok[0] = p->s[p->pos++];
		p->tok[1] = '\0';
		return;
	}
	while (p->s[p->pos] != '\0' && !isspace((unsigned char)p->s[p->pos]) &&
	    p->s[p->pos] != '(' && p->s[p->pos] != ')') {
		if (len + 1 < sizeof(p->tok))
			p->tok[len++] = p->s[p->pos];
		p->pos++;
	}
	p->tok[len] = '\0';
}

static bool
cp_is(const struct cp *p, const char *w)
{
	return strcasecmp(p->tok, w) == 0;
}

static int cp_or(struct cp *p);

static int
cp_sel(struct cp *p, const char *name)
{
	for (size_t i = 0; i < p->nsels; i++)
		if (strcmp(p->sels[i].name, name) == 0)
			return (int)p->sels[i].node;
	return rb_fail(p->c, p->line, "condition names unknown selection '%s'", name);
}

/* "1 of X" / "all of X": X is "them" or a pattern over selection names. */
static int
cp_quant(struct cp *p, bool all)
{
	struct rule_ivec kids = { 0 };
	bool them;
	int k = -1;

	cp_next(p);
	if (!cp_is(p, "of"))
		return rb_fail(p->c, p->line, "expected 'of' after '%s'",
		    all ? "all" : "1");
	cp_next(p);
	if (p->tok[0] == '\0' || p->tok[0] == '(' || p->tok[0] == ')')
		return rb_fail(p->c, p->line, "expected selection pattern after 'of'");
	them = cp_is(p, "them");
	for (size_t i = 0; i < p->nsels; i++) {
		const char *nm = p->sels[i].name;

		if (them ? nm[0] == '_' : fnmatch(p->tok, nm, 0) != 0)
			continue;
		if (rule_ivec_push(&kids, p->sels[i].node) == -1)
			goto out;
	}
	if (kids.n == 0) {
		rb_fail(p->c, p->line, "'%s' matches no selection", p->tok);
		goto out;
	}
	k = rb_group(p->c, all ? RN_AND : RN_OR, kids.v, kids.n);
	cp_next(p);
out:
	free(kids.v);
	return k;
}

static int
cp_atom(struct cp *p)
{
	int k;

	if (p->tok[0] == '\0')
		return rb_fail(p->c, p->line, "condition ends unexpectedly");
	if (p->tok[0] == '(') {
		if (++p->depth > RS_MAX_DEPTH)
			return rb_fail(p->c, p->line, "condition nested too deep");
		cp_next(p);
		if ((k = cp_or(p)) == -1)
			return -1;
		if (p->tok[0] != ')')
			return rb_fail(p->c, p->line, "missing ')' in condition");
		p->depth--;
		cp_next(p);
		return k;
	}
	if (cp_is(p, "1") || cp_is(p, "all"))
		return cp_quant(p, cp_is(p, "all"));
	if (cp_is(p, "and") || cp_is(p, "or") || cp_is(p, "not") || p->tok[0] == ')')
		return rb_fail(p->c, p->line, "unexpected '%s' in condition", p->tok);
	if (strchr(p->tok, '*') != NULL)
		return rb_fail(p->c, p->line, "wildcard '%s' needs '1 of' or 'all of'",
		    p->tok);
	if ((k = cp_sel(p, p->tok)) == -1)
		return -1;
	cp_next(p);
	return k;
}

static int
cp_not(struct cp *p)
{
	uint32_t kid;
	int k;

	if (!cp_is(p, "not"))
		return cp_atom(p);
	if (++p->depth > RS_MAX_DEPTH)
		return rb_fail(p->c, p->line, "condition nested too deep");
	cp_next(p);
	if ((k = cp_not(p)) == -1)
		return -1;
	p->depth--;
	kid = (uint32_t)k;
	return rb_group(p->c, RN_NOT, &kid, 1);
}

static int
cp_chain(struct cp *p, const char *op, int type, int (*sub)(struct cp *))
{
	struct rule_ivec kids = { 0 };
	int k = -1;

	for (;;) {
		int v = sub(p);

		if (v == -1 || rule_ivec_push(&kids, (uint32_t)v) == -1)
			goto out;
		if (!cp_is(p, op))
			break;
		cp_next(p);
	}
	k = rb_group(p->c, type, kids.v, kids.n);
out:
	free(kids.v);
	return k;
}

static int
cp_and(struct cp *p)
{
	return cp_chain(p, "and", RN_AND, cp_not);
}

static int
cp_or(struct cp *p)
{
	return cp_chain(p, "or", RN_OR, cp_and);
}

/*
 * One condition string over the named selections; returns its node.
 * Aggregations ("| count() > 5") are refused: correlation rules say that.
 */
int
rule_cond_parse(struct rule_build *c, int line, const char *s,
    const struct rule_sel *sels, size_t nsels)
{
	struct cp p = { .c = c, .line = line, .sels = sels, .nsels = nsels,
	    .s = s };
	int k;

	if (strchr(p.s, '|') != NULL)
		return rb_fail(c, line, "aggregation ('|') is not supported; "
		    "use a correlation rule");
	cp_next(&p);
	if ((k = cp_or(&p)) == -1)
		return -1;
	if (p.tok[0] != '\0')
		return rb_fail(c, line, "unexpected '%s' in condition", p.tok);
	return k;
}

/* ---------------------------------------------------------------- */
/* field items, selections */

/* One value of a field item (rule-value.c does the translation). */
static int
value_node(struct sg_ctx *c, const yaml_node_t *vn, int field,
    const struct rule_mods *m)
{
	const char *s = ry_scalar(vn);

	if (s == NULL)
		return sg_fail(c, vn, "value must be a scalar");
	return rule_value(&c->b, ry_line(vn), field, m, s,
	    vn->data.scalar.length, ry_is_null(vn));
}

/* The values of an item, each through one(c, value node, arg). */
static int
item_values(struct sg_ctx *c, const yaml_node_t *vn, const struct rule_mods *m,
    int (*one)(struct sg_ctx *, const yaml_node_t *, const struct rule_mods *,
    int), int field)
{
	struct rule_ivec kids = { 0 };
	int k = -1;

	if (vn->type == YAML_SEQUENCE_NODE) {
		yaml_node_item_t *it;

		if (vn->data.sequence.items.start == vn->data.sequence.items.top)
			return sg_fail(c, vn, "empty value list");
		for (it = vn->data.sequence.items.start;
		    it < vn->data.sequence.items.top; it++) {
			int v = one(c, ry_node(c->doc, *it), m, field);

			if (v == -1 || rule_ivec_push(&kids, (uint32_t)v) == -1)
				goto out;
		}
	} else {
		int v = one(c, vn, m, field);

		if (v == -1 || rule_ivec_push(&kids, (uint32_t)v) == -1)
			goto out;
	}
	k = rule_value_finish(&c->b, ry_line(vn), m, kids.v, kids.n);
out:
	if (k == -1)
		sg_fail(c, vn, "out of memory");
	free(kids.v);
	return k;
}

static int
value_one(struct sg_ctx *c, const yaml_node_t *vn, const struct rule_mods *m,
    int field)
{
	return value_node(c, vn, field, m);
}

/* A keyword: the value on each keyword field of the logsource (OR). */
static int
keyword_one(struct sg_ctx *c, const yaml_node_t *vn, const struct rule_mods *m,
    int field)
{
	uint32_t kids[RS_MAX_KWFIELDS];
	const struct rs_lsmap *ls = c->b.r->lsmap;
	struct rule_mods km = *m;
	int k;

	(void)field;
	if (ry_scalar(vn) == NULL || ry_is_null(vn))
		return sg_fail(c, vn, "keyword must be a non-null scalar");
	km.all = km.neq = false;	/* they apply to the list */
	if (km.match == RM_EQ)
		km.match = RM_CONTAINS;	/* keywords are substrings */
	for (int i = 0; i < ls->nkw; i++) {
		if ((k = value_node(c, vn, ls->kw[i], &km)) == -1)
			return -1;
		kids[i] = (uint32_t)k;
	}
	return rb_group(&c->b, RN_OR, kids, (size_t)ls->nkw);
}

static int
field_item(struct sg_ctx *c, const yaml_node_t *kn, const yaml_node_t *vn)
{
	struct rule_mods m = { 0 };
	char *key, *name = NULL, *mod, *save = NULL;
	const char *ks = ry_scalar(kn);
	int field, k = -1;

	if (ks == NULL)
		return sg_fail(c, kn, "field name must be a scalar");
	if ((key = strdup(ks)) == NULL)
		return sg_fail(c, kn, "out of memory");
	if (*ks != '|' && (name = strtok_r(key, "|", &save)) == NULL) {
		free(key);
		return sg_fail(c, kn, "missing field name");
	}
	for (mod = strtok_r(name != NULL ? NULL : key, "|", &save); mod != NULL;
	    mod = strtok_r(NULL, "|", &save))
		if (rule_mod(&c->b, ry_line(kn), &m, mod) == -1)
			goto out;
	if (rule_mods_check(&c->b, ry_line(kn), &m) == -1)
		goto out;
	if (name == NULL) {		/* '|all': keywords with modifiers */
		k = item_values(c, vn, &m, keyword_one, -1);
		goto out;
	}
	if (strcmp(name, "@timestamp") == 0 && m.tpart != TP_NONE)
		field = RS_F_TIMESTAMP;
	else if ((field = rule_map_field(c->b.r, name)) == SOC_F_NONE) {
		sg_fail(c, kn, "unknown field '%s' (no mapping for this logsource)",
		    name);
		goto out;
	}
	k = item_values(c, vn, &m, value_one, field);
out:
	free(key);
	return k;
}

/* A keyword: substring match on each keyword field of the logsource. */
static int
keyword_node(struct sg_ctx *c, const yaml_node_t *vn)
{
	struct rule_mods m = { .match = RM_CONTAINS };

	return keyword_one(c, vn, &m, -1);
}

static int
map_node(struct sg_ctx *c, const yaml_node_t *n)
{
	struct rule_ivec kids = { 0 };
	yaml_node_pair_t *p;
	int k = -1;

	if (n->data.mapping.pairs.start == n->data.mapping.pairs.top)
		return sg_fail(c, n, "empty selection");
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		int v = field_item(c, ry_node(c->doc, p->key), ry_node(c->doc, p->value));

		if (v == -1 || rule_ivec_push(&kids, (uint32_t)v) == -1)
			goto out;
	}
	k = rb_group(&c->b, RN_AND, kids.v, kids.n);
out:
	free(kids.v);
	return k;
}

/* A selection: map (AND), list of maps (OR), keyword list (OR). */
static int
selection_node(struct sg_ctx *c, const yaml_node_t *n)
{
	struct rule_ivec kids = { 0 };
	yaml_node_item_t *it;
	int k = -1;

	if (n->type == YAML_MAPPING_NODE)
		return map_node(c, n);
	if (n->type == YAML_SCALAR_NODE)
		return keyword_node(c, n);
	if (n->data.sequence.items.start == n->data.sequence.items.top)
		return sg_fail(c, n, "empty selection");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++) {
		yaml_node_t *e = ry_node(c->doc, *it);
		int v;

		if (e->type == YAML_MAPPING_NODE)
			v = map_node(c, e);
		else if (e->type == YAML_SCALAR_NODE)
			v = keyword_node(c, e);
		else
			v = sg_fail(c, e, "nested lists are not a selection");
		if (v == -1 || rule_ivec_push(&kids, (uint32_t)v) == -1)
			goto out;
	}
	k = rb_group(&c->b, RN_OR, kids.v, kids.n);
out:
	free(kids.v);
	return k;
}

/* ---------------------------------------------------------------- */
/* detection: selections and the condition over them */

static int
condition_one(struct sg_ctx *c, const yaml_node_t *n)
{
	const char *s = ry_scalar(n);

	if (s == NULL)
		return sg_fail(c, n, "condition must be a string");
	return rule_cond_parse(&c->b, ry_line(n), s, c->sels, c->nsels);
}

/* A condition, or a list of them (any one raises the alert). */
static int
condition_node(struct sg_ctx *c, const yaml_node_t *n)
{
	struct rule_ivec kids = { 0 };
	yaml_node_item_t *it;
	int k = -1;

	if (n->type != YAML_SEQUENCE_NODE)
		return condition_one(c, n);
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++) {
		int v = condition_one(c, ry_node(c->doc, *it));

		if (v == -1 || rule_ivec_push(&kids, (uint32_t)v) == -1)
			goto out;
	}
	if (kids.n == 0)
		sg_fail(c, n, "empty condition list");
	else
		k = rb_group(&c->b, RN_OR, kids.v, kids.n);
out:
	free(kids.v);
	return k;
}

/*
 * The logsource's conditions ANDed with the rule's: each field one of its
 * values (Sigma's default match: whole value, any case).
 */
static int
logsource_conds(struct rule_build *c, int line)
{
	const struct rs_lsmap *ls = c->r->lsmap;
	struct rule_mods m = { .match = RM_EQ };
	uint32_t and[1 + RS_MAX_LSCONDS], or[RS_MAX_LSVALS];
	size_t nand = 0;
	int k;

	if (ls == NULL || ls->nconds == 0)
		return 0;
	and[nand++] = c->r->root;
	for (size_t i = 0; i < ls->nconds && i < RS_MAX_LSCONDS; i++) {
		const struct rs_lscond *lc = &ls->conds[i];
		size_t nor = 0;

		for (size_t j = 0; j < lc->nvals && j < RS_MAX_LSVALS; j++) {
			if ((k = rule_value_one(c, line, lc->field, &m,
			    lc->vals[j], strlen(lc->vals[j]), false)) < 0)
				return -1;
			or[nor++] = (uint32_t)k;
		}
		if ((k = rb_group(c, RN_OR, or, nor)) < 0)
			return -1;
		and[nand++] = (uint32_t)k;
	}
	if ((k = rb_group(c, RN_AND, and, nand)) < 0)
		return -1;
	c->r->root = (uint32_t)k;
	return 0;
}

int
sg_detection(struct sg_ctx *c, const yaml_node_t *det)
{
	yaml_node_pair_t *p;
	yaml_node_t *cond = NULL;
	size_t n;
	int root;

	if (det->type != YAML_MAPPING_NODE)
		return sg_fail(c, det, "detection must be a mapping");
	n = (size_t)(det->data.mapping.pairs.top - det->data.mapping.pairs.start);
	if ((c->sels = calloc(n + 1, sizeof(*c->sels))) == NULL)
		return sg_fail(c, det, "out of memory");
	for (p = det->data.mapping.pairs.start; p < det->data.mapping.pairs.top;
	    p++) {
		yaml_node_t *kn = ry_node(c->doc, p->key), *vn = ry_node(c->doc, p->value);
		const char *k = ry_scalar(kn);
		int v;

		if (k == NULL)
			return sg_fail(c, kn, "selection name must be a scalar");
		if (strcmp(k, "condition") == 0) {
			cond = vn;
			continue;
		}
		if (c->filter && (strcmp(k, "rules") == 0 ||
		    strcmp(k, "agencies") == 0))
			continue;
		if (strcmp(k, "timeframe") == 0)
			return sg_fail(c, kn, "timeframe (aggregation) is not "
			    "supported; use a correlation rule");
		if ((v = selection_node(c, vn)) == -1)
			return -1;
		c->sels[c->nsels].name = k;
		c->sels[c->nsels++].node = (uint32_t)v;
	}
	if (cond == NULL)
		return sg_fail(c, det, "detection has no condition");
	if ((root = condition_node(c, cond)) == -1)
		return -1;
	c->b.r->root = (uint32_t)root;
	return c->filter ? 0 : logsource_conds(&c->b, c->b.r->line);
}

