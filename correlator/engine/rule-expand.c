/*
 * The expand modifier: %name% placeholders in values, replaced by the
 * value lists of placeholders.yml (the first found in the rule
 * directories), overridden per agency:
 *
 *	placeholders:
 *	  admins: [root, admin]
 *	agencies:
 *	  agency-a:
 *	    admins: [root, operator]
 *
 * A value with placeholders becomes every combination of their values
 * (bounded by RS_MAX_PATS_RULE).  When an agency overrides a placeholder
 * the value is compiled once per such agency, guarded by organization.id,
 * and once with the defaults for every other agency; a placeholder with
 * no default matches nothing for the agencies that do not define it.  An
 * undefined placeholder refuses the rule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "soc/json.h"
#include "rule-int.h"

#define PH_MAXNAMES	8	/* placeholders in one value */

struct ph_entry {
	char		*agency;	/* NULL: the default */
	char		*name;
	char		**vals;
	size_t		 nvals;
};

struct rs_placeholders {
	struct ph_entry	*e;
	size_t		 n;
	char		**agencies;	/* distinct agencies overriding */
	size_t		 nagencies;
};

void
rule_placeholders_free(struct rs_placeholders *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		for (size_t j = 0; j < p->e[i].nvals; j++)
			free(p->e[i].vals[j]);
		free(p->e[i].vals);
		free(p->e[i].name);
		free(p->e[i].agency);
	}
	for (size_t i = 0; i < p->nagencies; i++)
		free(p->agencies[i]);
	free(p->agencies);
	free(p->e);
	free(p);
}

static int
ph_add(struct rs_placeholders *p, yaml_document_t *d, const char *agency,
    const yaml_node_t *map)
{
	yaml_node_pair_t *kv;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return -1;
	for (kv = map->data.mapping.pairs.start; kv < map->data.mapping.pairs.top;
	    kv++) {
		const char *name = ry_scalar(ry_node(d, kv->key));
		yaml_node_t *v = ry_node(d, kv->value);
		struct ph_entry *ne, *e;
		size_t nv = v->type == YAML_SEQUENCE_NODE ? (size_t)
		    (v->data.sequence.items.top - v->data.sequence.items.start) : 1;

		if (name == NULL || (v->type != YAML_SEQUENCE_NODE &&
		    ry_scalar(v) == NULL))
			return -1;
		if ((ne = reallocarray(p->e, p->n + 1, sizeof(*ne))) == NULL)
			return -1;
		p->e = ne;
		e = &p->e[p->n++];
		memset(e, 0, sizeof(*e));
		if ((e->name = strdup(name)) == NULL ||
		    (agency != NULL && (e->agency = strdup(agency)) == NULL) ||
		    (e->vals = calloc(nv + 1, sizeof(char *))) == NULL)
			return -1;
		for (size_t i = 0; i < nv; i++) {
			const char *s = v->type == YAML_SEQUENCE_NODE ?
			    ry_scalar(ry_node(d, v->data.sequence.items.start[i])) :
			    ry_scalar(v);

			if (s == NULL || (e->vals[e->nvals++] = strdup(s)) == NULL)
				return -1;
		}
	}
	return 0;
}

/* Reads DIR/placeholders.yml of the first dir that has one (none: 0). */
int
rule_placeholders_load(struct ruleset *rs, struct rs_load *ld,
    const char *const *dirs, size_t ndirs)
{
	char path[4096];
	struct stat st;
	yaml_parser_t yp;
	yaml_document_t doc;
	yaml_node_t *root, *ags;
	struct rs_placeholders *p;
	FILE *f = NULL;
	int rc = -1;

	for (size_t i = 0; i < ndirs && f == NULL; i++) {
		snprintf(path, sizeof(path), "%s/placeholders.yml", dirs[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			f = fopen(path, "r");
	}
	if (f == NULL)
		return 0;
	if (st.st_size > RS_MAX_FILE_BYTES || (p = calloc(1, sizeof(*p))) == NULL) {
		rs_report(ld, path, 0, "too large, or out of memory");
		fclose(f);
		return 0;
	}
	yaml_parser_initialize(&yp);
	yaml_parser_set_input_file(&yp, f);
	if (!yaml_parser_load(&yp, &doc)) {
		rs_report(ld, path, (int)yp.problem_mark.line + 1, "YAML: %s",
		    yp.problem ? yp.problem : "error");
		goto out;
	}
	root = yaml_document_get_root_node(&doc);
	if (root != NULL && (ph_add(p, &doc, NULL,
	    ry_map_get(&doc, root, "placeholders")) == -1 ||
	    ((ags = ry_map_get(&doc, root, "agencies")) != NULL &&
	    ags->type != YAML_MAPPING_NODE)))
		rs_report(ld, path, 1, "placeholders: must map name -> list");
	else if (root != NULL && ags != NULL) {
		rc = 0;
		for (yaml_node_pair_t *kv = ags->data.mapping.pairs.start;
		    kv < ags->data.mapping.pairs.top && rc == 0; kv++) {
			const char *a = ry_scalar(ry_node(&doc, kv->key));
			char **na;

			if (a == NULL || ph_add(p, &doc, a,
			    ry_node(&doc, kv->value)) == -1 || (na = reallocarray(
			    p->agencies, p->nagencies + 1, sizeof(*na))) == NULL) {
				rs_report(ld, path, ry_line(ry_node(&doc, kv->key)),
				    "agencies: must map agency -> {name: list}");
				rc = -1;
				break;
			}
			p->agencies = na;
			if ((na[p->nagencies] = strdup(a)) == NULL)
				rc = -1;
			else
				p->nagencies++;
		}
		rc = rc == 0 ? 1 : -1;
	} else
		rc = 1;
	yaml_document_delete(&doc);
out:
	yaml_parser_delete(&yp);
	fclose(f);
	if (rc == 1) {
		rs->ph = p;
		return 0;
	}
	rule_placeholders_free(p);
	return 0;
}

/* The values of placeholder name for agency (NULL: default), or NULL. */
static const struct ph_entry *
ph_find(const struct rs_placeholders *p, const char *name, const char *agency)
{
	for (size_t i = 0; p != NULL && i < p->n; i++)
		if (strcmp(p->e[i].name, name) == 0 && (agency == NULL ?
		    p->e[i].agency == NULL : (p->e[i].agency != NULL &&
		    strcmp(p->e[i].agency, agency) == 0)))
			return &p->e[i];
	return NULL;
}

struct ph_value {
	const char	*segs[2 * PH_MAXNAMES + 1];	/* literal, name, ... */
	size_t		 seglen[2 * PH_MAXNAMES + 1];
	size_t		 nsegs;
};

/* Defined for anyone at all? */
static bool
ph_any(const struct rs_placeholders *p, const char *name)
{
	for (size_t i = 0; p != NULL && i < p->n; i++)
		if (strcmp(p->e[i].name, name) == 0)
			return true;
	return false;
}

/*
 * Every combination of the placeholders' values for one agency (NULL:
 * the defaults), ORed; false if a placeholder has no value for it.
 */
static int
combos(struct rule_build *c, int line, int field, const struct rule_mods *m,
    const struct ph_value *pv, const char *agency, const char *s)
{
	const struct ph_entry *ents[PH_MAXNAMES];
	size_t idx[PH_MAXNAMES] = { 0 }, nn = 0, seg;
	struct rule_ivec kids = { 0 };
	struct soc_sbuf b = { 0 };
	char name[128];
	int k = -1;

	for (size_t i = 1; i < pv->nsegs; i += 2) {
		snprintf(name, sizeof(name), "%.*s", (int)pv->seglen[i], pv->segs[i]);
		if (!ph_any(c->ph, name))
			return rb_fail(c, line, "placeholder %%%s%% in '%s' is not "
			    "defined in placeholders.yml", name, s);
		ents[nn] = agency ? ph_find(c->ph, name, agency) : NULL;
		if (ents[nn] == NULL)
			ents[nn] = ph_find(c->ph, name, NULL);
		if (ents[nn] == NULL || ents[nn]->nvals == 0)
			return rb_node(c, RN_FALSE, -1);
		nn++;
	}
	for (;;) {
		int v;

		soc_sbuf_reset(&b);
		for (size_t i = 0, e = 0; i < pv->nsegs; i++) {
			if (i % 2 == 0)
				soc_sbuf_add(&b, pv->segs[i], pv->seglen[i]);
			else {
				soc_sbuf_adds(&b, ents[e]->vals[idx[e]]);
				e++;
			}
		}
		if (b.oom || kids.n >= RS_MAX_PATS_RULE) {
			rb_fail(c, line, b.oom ? "out of memory" : "'%s' expands to "
			    "too many values", s);
			goto out;
		}
		v = rule_value(c, line, field, m, b.data ? b.data : "", b.len, false);
		if (v == -1 || rule_ivec_push(&kids, (uint32_t)v) == -1)
			goto out;
		for (seg = 0; seg < nn; seg++) {	/* the next combination */
			if (++idx[seg] < ents[seg]->nvals)
				break;
			idx[seg] = 0;
		}
		if (seg == nn)
			break;
	}
	k = rb_group(c, RN_OR, kids.v, kids.n);
out:
	free(kids.v);
	soc_sbuf_free(&b);
	return k;
}

/* organization.id is exactly agency. */
static int
agency_is(struct rule_build *c, int line, const char *agency)
{
	struct rule_mods m = { .cased = true };

	return rule_value(c, line, SOC_F_ORGANIZATION_ID, &m, agency,
	    strlen(agency), false);
}

/* One value of a field item with the expand modifier. */
int
rule_expand_node(struct rule_build *c, int line, int field,
    const struct rule_mods *m, const char *s)
{
	struct rule_mods m2 = *m;
	struct ph_value pv = { 0 };
	struct rule_ivec kids = { 0 }, others = { 0 };
	const char *p = s, *q, *r;
	uint32_t two[2];
	int k = -1, v;

	m2.expand = m2.neq = m2.all = false;
	if (c->ph == NULL)
		return rb_fail(c, line, "expand needs a placeholders.yml in the "
		    "rule directory");
	while ((q = strchr(p, '%')) != NULL && (r = strchr(q + 1, '%')) != NULL &&
	    pv.nsegs + 2 < sizeof(pv.segs) / sizeof(pv.segs[0])) {
		pv.segs[pv.nsegs] = p;
		pv.seglen[pv.nsegs++] = (size_t)(q - p);
		pv.segs[pv.nsegs] = q + 1;
		pv.seglen[pv.nsegs++] = (size_t)(r - q - 1);
		p = r + 1;
	}
	if (pv.nsegs == 0)
		return rb_fail(c, line, "expand: no %%placeholder%% in '%s'", s);
	if (strchr(p, '%') != NULL && strchr(strchr(p, '%') + 1, '%') != NULL)
		return rb_fail(c, line, "expand: more than %d placeholders in '%s'",
		    PH_MAXNAMES, s);
	pv.segs[pv.nsegs] = p;
	pv.seglen[pv.nsegs++] = strlen(p);
	/* each agency overriding one of the names, then everyone else */
	for (size_t a = 0; a < c->ph->nagencies; a++) {
		const char *ag = c->ph->agencies[a];
		bool over = false;
		char name[128];

		for (size_t i = 1; i < pv.nsegs; i += 2) {
			snprintf(name, sizeof(name), "%.*s", (int)pv.seglen[i],
			    pv.segs[i]);
			over |= ph_find(c->ph, name, ag) != NULL;
		}
		if (!over)
			continue;
		if ((v = agency_is(c, line, ag)) == -1 ||
		    rule_ivec_push(&others, (uint32_t)v) == -1)
			goto out;
		two[0] = (uint32_t)v;
		if ((v = combos(c, line, field, &m2, &pv, ag, s)) == -1)
			goto out;
		two[1] = (uint32_t)v;
		if ((v = rb_group(c, RN_AND, two, 2)) == -1 ||
		    rule_ivec_push(&kids, (uint32_t)v) == -1)
			goto out;
	}
	if ((v = combos(c, line, field, &m2, &pv, NULL, s)) == -1)
		goto out;
	if (others.n > 0) {
		two[1] = (uint32_t)v;
		if ((v = rb_group(c, RN_OR, others.v, others.n)) == -1)
			goto out;
		two[0] = (uint32_t)v;
		if ((v = rb_group(c, RN_NOT, two, 1)) == -1)
			goto out;
		two[0] = (uint32_t)v;
		if ((v = rb_group(c, RN_AND, two, 2)) == -1)
			goto out;
	}
	if (rule_ivec_push(&kids, (uint32_t)v) == -1)
		goto out;
	k = rb_group(c, RN_OR, kids.v, kids.n);
out:
	free(kids.v);
	free(others.v);
	return k;
}

/*
 * One value of a field: with the expand modifier, the placeholders'
 * values (each through rule_value_one); otherwise rule_value_one's.
 */
int
rule_value(struct rule_build *c, int line, int field,
    const struct rule_mods *m, const char *s, size_t len, bool null)
{
	if (!null && m->expand)
		return rule_expand_node(c, line, field, m, s);
	return rule_value_one(c, line, field, m, s, len, null);
}
