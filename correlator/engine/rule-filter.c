/*
 * Sigma filter documents (the filters specification): false-positive
 * tuning kept apart from the rules it tunes.  A filter names the rules it
 * applies to (by id or name; `rules: any`, `all` or an empty list: every
 * rule its logsource covers), has its own logsource (its field names map
 * through it) and a detection-like block.  As pySigma applies it (sigma-cli
 * and the SigmaHQ documentation), each target's condition becomes
 * "condition and (filter condition)": the filter says what may still
 * alert, so an exclusion is written `condition: not selection`.
 *
 * A filter applies to a rule only if its logsource covers the rule's:
 * each of product, category and service the filter names, the rule names
 * too, with the same value (pySigma's `rule.logsource in
 * filter.logsource`).  A named rule it does not cover refuses the filter
 * (file:line) rather than being skipped silently.
 *
 * Beyond the specification, for a provincial SOC: `agencies: [a, b]`
 * inside the filter block limits it to events of those agencies
 * (organization.id, exact), so one agency's tuning never hides another's
 * alerts: "condition and (not agency in [a, b] or filter condition)".
 * Per-site tuning is a filter in the site's own rules directory.
 *
 * A filter referencing an unknown rule, a correlation or a refused rule
 * is refused as a whole (file:line); `rules: any` passes over
 * correlations and refused rules.  Filters themselves raise nothing;
 * which filter applies to which rule is kept for `socctl rules check`
 * (ruleset_filter_use).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "rule-int.h"

struct rs_filter_use {
	char		*filter_id, *filter_title, *file;
	int		 line;
	const struct rule *rule;
};

/* The filter: block of a document (logsource already read). */
int
sg_filter(struct sg_ctx *c, const yaml_node_t *fn)
{
	struct rule *r = c->b.r;
	yaml_node_t *n;

	r->is_filter = true;
	if (fn->type != YAML_MAPPING_NODE)
		return sg_fail(c, fn, "filter must be a mapping");
	if ((n = ry_map_get(c->doc, fn, "rules")) == NULL)
		return sg_fail(c, fn, "filter names no rules (`rules: any` for "
		    "all the rules its logsource covers)");
	if ((n->type == YAML_SCALAR_NODE && ry_scalar(n) != NULL &&
	    (strcasecmp(ry_scalar(n), "any") == 0 ||
	    strcasecmp(ry_scalar(n), "all") == 0)) ||
	    (n->type == YAML_SEQUENCE_NODE &&
	    n->data.sequence.items.top == n->data.sequence.items.start))
		r->fany = true;
	else if (sg_strlist(c, n, "rules", &r->ftargets, &r->ftlines,
	    &r->nftargets) == -1)
		return -1;
	if ((n = ry_map_get(c->doc, fn, "agencies")) != NULL &&
	    sg_strlist(c, n, "agencies", &r->fagencies, NULL, &r->nfagencies) == -1)
		return -1;
	c->filter = true;
	return sg_detection(c, fn);
}

void
rule_filter_free(struct rule *r)
{
	for (size_t i = 0; i < r->nftargets; i++)
		free(r->ftargets[i]);
	for (size_t i = 0; i < r->nfagencies; i++)
		free(r->fagencies[i]);
	free(r->ftargets);
	free(r->ftlines);
	free(r->fagencies);
}

/* Appends src's condition tree to dst; its root in dst, or -1. */
static int
graft(struct rule_build *b, const struct rule *src)
{
	struct rule *dst = b->r;
	uint32_t noff = dst->nnodes, poff = dst->npats, koff = dst->nkids;
	struct rule_ivec kids = { 0 };
	int rc = -1;

	/* patterns first, so that each RN_PAT node is made with its own */
	for (uint32_t i = 0; i < src->nnodes; i++) {
		const struct rule_node *sn = &src->nodes[i];
		int k;

		if (sn->type == RN_AND || sn->type == RN_OR || sn->type == RN_NOT) {
			/* kids are appended below; node made with an empty group */
			if ((k = rb_node(b, sn->type, -1)) == -1)
				goto out;
		} else if ((k = rb_node(b, sn->type, sn->field)) == -1)
			goto out;
		dst->nodes[k] = *sn;
		if (sn->type == RN_PAT) {
			const struct rule_pat *sp = &src->pats[sn->u.pat];
			char *e = strdup(sp->expr);

			if (e == NULL || rule_pat_add(b, 0, sp->field, e, sp->flags) == -1)
				goto out;
			dst->nodes[k].u.pat = dst->npats - 1;
		}
	}
	for (uint32_t i = 0; i < src->nkids; i++)
		if (rule_ivec_push(&kids, src->kids[i] + noff) == -1)
			goto out;
	if (rule_kids_add(b, kids.v, kids.n) == -1)
		goto out;
	for (uint32_t i = noff; i < dst->nnodes; i++) {
		struct rule_node *dn = &dst->nodes[i];

		if (dn->type == RN_AND || dn->type == RN_OR || dn->type == RN_NOT)
			dn->kid += koff;
	}
	rc = (int)(src->root + noff);
	(void)poff;
out:
	free(kids.v);
	return rc;
}

/* "and (not agency in [...] or filter)" on target t. */
static int
apply(struct rule *t, const struct rule *f)
{
	struct rule_build b = { .r = t };
	struct rule_mods m = { .cased = true };
	struct rule_ivec ag = { 0 };
	uint32_t two[2], one;
	int fr, k;

	if ((fr = graft(&b, f)) == -1)
		return -1;
	if (f->nfagencies > 0) {
		for (size_t i = 0; i < f->nfagencies; i++) {
			k = rule_value(&b, 0, SOC_F_ORGANIZATION_ID, &m, f->fagencies[i],
			    strlen(f->fagencies[i]), false);
			if (k == -1 || rule_ivec_push(&ag, (uint32_t)k) == -1) {
				free(ag.v);
				return -1;
			}
		}
		k = rb_group(&b, RN_OR, ag.v, ag.n);
		free(ag.v);
		one = (uint32_t)k;
		if (k == -1 || (k = rb_group(&b, RN_NOT, &one, 1)) == -1)
			return -1;
		two[0] = (uint32_t)k;
		two[1] = (uint32_t)fr;
		if ((fr = rb_group(&b, RN_OR, two, 2)) == -1)
			return -1;
	}
	two[0] = t->root;
	two[1] = (uint32_t)fr;
	if ((k = rb_group(&b, RN_AND, two, 2)) == -1)
		return -1;
	t->root = (uint32_t)k;
	return 0;
}

/* Whether f's logsource covers t's (pySigma: t.logsource in f.logsource). */
static bool
covers(const struct rule *f, const struct rule *t)
{
	const char *fv[3] = { f->ls_product, f->ls_category, f->ls_service };
	const char *tv[3] = { t->ls_product, t->ls_category, t->ls_service };

	for (int i = 0; i < 3; i++)
		if (fv[i] != NULL && (tv[i] == NULL || strcmp(fv[i], tv[i]) != 0))
			return false;
	return true;
}

static const char *
ls_text(const struct rule *r, char *buf, size_t len)
{
	snprintf(buf, len, "product=%s category=%s service=%s",
	    r->ls_product ? r->ls_product : "-",
	    r->ls_category ? r->ls_category : "-",
	    r->ls_service ? r->ls_service : "-");
	return buf;
}

static struct rule *
find_target(struct rule **all, size_t n, const char *ref)
{
	for (size_t i = 0; i < n; i++)
		if (!all[i]->is_filter && ((*all[i]->name &&
		    strcmp(all[i]->name, ref) == 0) || strcmp(all[i]->id, ref) == 0))
			return all[i];
	return NULL;
}

static int
use_add(struct ruleset *rs, const struct rule *f, const struct rule *t)
{
	struct rs_filter_use *nu, *u;

	if ((nu = reallocarray(rs->fuses, rs->nfuses + 1, sizeof(*nu))) == NULL)
		return -1;
	rs->fuses = nu;
	u = &rs->fuses[rs->nfuses];
	u->filter_id = strdup(f->id);
	u->filter_title = strdup(f->title);
	u->file = strdup(f->file);
	u->line = f->line;
	u->rule = t;
	rs->nfuses++;
	return u->filter_id && u->filter_title && u->file ? 0 : -1;
}

/* Applies f to t and records it; t refused if out of memory. */
static void
apply_one(struct ruleset *rs, struct rule *f, struct rule *t,
    struct rs_load *ld)
{
	if (apply(t, f) == -1 || use_add(rs, f, t) == -1) {
		rs_report(ld, t->file, t->line, "out of memory applying "
		    "filter %s", f->id);
		t->refused = true;
	}
}

/*
 * Applies every loaded filter to its targets (before match_build); a
 * filter that cannot apply to all the rules it names is refused and
 * applies to none.
 */
void
rule_filters_apply(struct ruleset *rs, struct rule **all, size_t n,
    struct rs_load *ld)
{
	char fls[256], tls[256];

	for (size_t i = 0; i < n; i++) {
		struct rule *f = all[i];
		bool ok = true;

		if (!f->is_filter || f->refused)
			continue;
		f->refused = true;	/* filters raise nothing themselves */
		if (f->fany) {
			size_t nt = 0;

			for (size_t j = 0; j < n; j++) {
				struct rule *t = all[j];

				if (!t->is_filter && !t->refused &&
				    t->corr == NULL && covers(f, t)) {
					apply_one(rs, f, t, ld);
					nt++;
				}
			}
			/* a filter that tunes nothing is a mistake, not a no-op */
			if (nt == 0)
				rs_report(ld, f->file, f->line, "filter '%s' with "
				    "rules: any applies to no rule: its logsource "
				    "(%s) covers none of the loaded rules", f->title,
				    ls_text(f, fls, sizeof(fls)));
			continue;
		}
		for (size_t j = 0; j < f->nftargets && ok; j++) {
			struct rule *t = find_target(all, n, f->ftargets[j]);
			const char *why = t == NULL ? "unknown" : t->refused ?
			    "refused" : t->corr != NULL ? "a correlation" : NULL;

			if (why != NULL) {
				rs_report(ld, f->file, f->ftlines[j], "filter names "
				    "%s rule '%s'", why, f->ftargets[j]);
				ok = false;
			} else if (!covers(f, t)) {
				rs_report(ld, f->file, f->ftlines[j], "filter's "
				    "logsource (%s) does not cover rule '%s' (%s, "
				    "%s:%d)", ls_text(f, fls, sizeof(fls)),
				    f->ftargets[j], ls_text(t, tls, sizeof(tls)),
				    t->file, t->line);
				ok = false;
			}
		}
		for (size_t j = 0; j < f->nftargets && ok; j++)
			apply_one(rs, f, find_target(all, n, f->ftargets[j]), ld);
	}
}

/* Forgets the uses whose rule was refused after all (freed by compact). */
void
rule_filters_prune(struct ruleset *rs)
{
	size_t n = 0;

	for (size_t i = 0; i < rs->nfuses; i++) {
		if (rs->fuses[i].rule->refused) {
			free(rs->fuses[i].filter_id);
			free(rs->fuses[i].filter_title);
			free(rs->fuses[i].file);
			continue;
		}
		rs->fuses[n++] = rs->fuses[i];
	}
	rs->nfuses = n;
}

void
rule_filters_free(struct ruleset *rs)
{
	for (size_t i = 0; i < rs->nfuses; i++) {
		free(rs->fuses[i].filter_id);
		free(rs->fuses[i].filter_title);
		free(rs->fuses[i].file);
	}
	free(rs->fuses);
}

size_t
ruleset_filter_uses(const struct ruleset *rs)
{
	return rs->nfuses;
}

int
ruleset_filter_use(const struct ruleset *rs, size_t i, const char **filter_id,
    const char **filter_title, const char **file, int *line,
    const struct rule **rule)
{
	const struct rs_filter_use *u;

	if (i >= rs->nfuses)
		return -1;
	u = &rs->fuses[i];
	if (filter_id != NULL)
		*filter_id = u->filter_id;
	if (filter_title != NULL)
		*filter_title = u->filter_title;
	if (file != NULL)
		*file = u->file;
	if (line != NULL)
		*line = u->line;
	if (rule != NULL)
		*rule = u->rule;
	return 0;
}
