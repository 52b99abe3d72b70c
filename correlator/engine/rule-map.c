/*
 * The Sigma-to-ECS mapping, rules/mapping.yml: a table of Sigma field
 * names for every logsource, and per logsource (product, category,
 * service; "*" for any) the datasets its events come from, its keyword
 * fields and its own field names.  A rule's logsource picks the most
 * specific entry (rule_mapping_find); its field names are then looked up
 * there, in the common table, then as ECS names (rule_map_field).  An
 * entry with an empty datasets list refuses its log source by name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <yaml.h>

#include "soc-config.h"
#include "rule-int.h"

struct rs_mapping {
	char		*path;
	struct rs_lsmap	*ls;
	size_t		 nls;
	struct rs_fmap	*fields;	/* for every logsource */
	size_t		 nfields;
};

void
rule_mapping_free(struct rs_mapping *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nls; i++) {
		struct rs_lsmap *e = &m->ls[i];

		free(e->product);
		free(e->category);
		free(e->service);
		for (size_t j = 0; j < e->nfields; j++)
			free(e->fields[j].sigma);
		free(e->fields);
		for (size_t j = 0; j < e->nconds; j++) {
			for (size_t k = 0; k < e->conds[j].nvals; k++)
				free(e->conds[j].vals[k]);
			free(e->conds[j].vals);
		}
		free(e->conds);
		free(e->prefix);
	}
	for (size_t j = 0; j < m->nfields; j++)
		free(m->fields[j].sigma);
	free(m->fields);
	free(m->ls);
	free(m->path);
	free(m);
}

static int
dataset_intern(struct ruleset *rs, const char *name)
{
	size_t len = strlen(name);

	for (int i = 0; i < rs->nds; i++)
		if (rs->ds_len[i] == len && memcmp(rs->ds_names[i], name, len) == 0)
			return i;
	if (rs->nds == RS_MAX_DATASETS)
		return -1;
	if ((rs->ds_names[rs->nds] = strdup(name)) == NULL)
		return -1;
	rs->ds_len[rs->nds] = len;
	return rs->nds++;
}


/*
 * An event field for a rule: a fixed registry name, or a dynamic one
 * (winlog.event_data.X, winlog.user_data.X), interned here so that the
 * events that carry it later get the same id (match-hs.c scans an
 * event's dynamic values through m->dynmf).  SOC_F_NONE for any other
 * name, or when the intern table is full.
 */
static int
rm_field_lookup(const char *name, size_t len)
{
	int f = soc_field_lookup(name, len);

	if (f != SOC_F_NONE)
		return f;
	return soc_field_intern(name, len);
}

/* Fills a field table from a YAML map "sigma: ecs.name". */
static int
map_fields(struct rs_load *ld, const char *path, yaml_document_t *d,
    const yaml_node_t *n, struct rs_fmap **out, size_t *nout)
{
	yaml_node_pair_t *p;
	size_t cnt;
	struct rs_fmap *t;

	if (n == NULL)
		return 0;
	if (n->type != YAML_MAPPING_NODE) {
		rs_report(ld, path, ry_line(n), "fields: must be a mapping");
		return -1;
	}
	cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (cnt == 0)
		return 0;
	if ((t = calloc(cnt, sizeof(*t))) == NULL)
		return -1;
	*out = t;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++) {
		yaml_node_t *kn = ry_node(d, p->key), *vn = ry_node(d, p->value);
		const char *k = ry_scalar(kn), *v = ry_scalar(vn);
		int f;

		if (k == NULL || v == NULL) {
			rs_report(ld, path, ry_line(kn), "field mapping must be scalar: scalar");
			return -1;
		}
		if ((f = rm_field_lookup(v, strlen(v))) == SOC_F_NONE) {
			rs_report(ld, path, ry_line(vn), "'%s' is not an event field", v);
			return -1;
		}
		if ((t[*nout].sigma = strdup(k)) == NULL)
			return -1;
		t[(*nout)++].field = f;
	}
	return 0;
}

static int
map_lskey(yaml_document_t *d, const yaml_node_t *e, const char *key,
    char **out)
{
	const char *s = ry_scalar(ry_map_get(d, e, key));

	if (s == NULL)
		return 0;
	return (*out = strdup(s)) == NULL ? -1 : 0;
}

/*
 * conditions: {field: value or [values]}: what picks the logsource's
 * events out of its datasets (a Windows channel, a Sysmon EventID), as
 * pySigma's AddConditionTransformation does.
 */
static int
map_conds(struct rs_load *ld, const char *path, yaml_document_t *d,
    const yaml_node_t *n, struct rs_lsmap *ls)
{
	yaml_node_pair_t *p;
	size_t cnt;

	if (n == NULL)
		return 0;
	if (n->type != YAML_MAPPING_NODE) {
		rs_report(ld, path, ry_line(n), "conditions: must be a mapping");
		return -1;
	}
	cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (cnt > RS_MAX_LSCONDS) {
		rs_report(ld, path, ry_line(n), "more than %d conditions",
		    RS_MAX_LSCONDS);
		return -1;
	}
	if (cnt == 0 || (ls->conds = calloc(cnt, sizeof(*ls->conds))) == NULL)
		return cnt == 0 ? 0 : -1;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++) {
		yaml_node_t *kn = ry_node(d, p->key), *vn = ry_node(d, p->value);
		struct rs_lscond *lc = &ls->conds[ls->nconds++];
		const char *k = ry_scalar(kn), *v;
		yaml_node_item_t *it;
		size_t nv = 1;

		if (k == NULL || vn == NULL ||
		    (lc->field = rm_field_lookup(k, strlen(k))) == SOC_F_NONE) {
			rs_report(ld, path, ry_line(kn), "condition on '%s': not "
			    "an event field", k ? k : "?");
			return -1;
		}
		if (vn->type == YAML_SEQUENCE_NODE)
			nv = (size_t)(vn->data.sequence.items.top -
			    vn->data.sequence.items.start);
		if (nv == 0 || nv > RS_MAX_LSVALS ||
		    (lc->vals = calloc(nv, sizeof(char *))) == NULL) {
			rs_report(ld, path, ry_line(vn), "a condition needs 1 to "
			    "%d values", RS_MAX_LSVALS);
			return -1;
		}
		if (vn->type != YAML_SEQUENCE_NODE) {
			if ((v = ry_scalar(vn)) == NULL ||
			    (lc->vals[lc->nvals++] = strdup(v)) == NULL) {
				rs_report(ld, path, ry_line(vn), "condition value "
				    "must be a scalar");
				return -1;
			}
			continue;
		}
		for (it = vn->data.sequence.items.start;
		    it < vn->data.sequence.items.top; it++)
			if ((v = ry_scalar(ry_node(d, *it))) == NULL ||
			    (lc->vals[lc->nvals++] = strdup(v)) == NULL) {
				rs_report(ld, path, ry_line(vn), "condition value "
				    "must be a scalar");
				return -1;
			}
	}
	return 0;
}

static int
map_entry(struct ruleset *rs, struct rs_load *ld, const char *path,
    yaml_document_t *d, const yaml_node_t *e, struct rs_lsmap *ls)
{
	yaml_node_t *ds, *kw;
	yaml_node_item_t *it;

	ls->line = ry_line(e);
	if (e->type != YAML_MAPPING_NODE) {
		rs_report(ld, path, ls->line, "logsource entry must be a mapping");
		return -1;
	}
	if (map_lskey(d, e, "product", &ls->product) == -1 ||
	    map_lskey(d, e, "category", &ls->category) == -1 ||
	    map_lskey(d, e, "service", &ls->service) == -1)
		return -1;
	ds = ry_map_get(d, e, "datasets");
	if (ds == NULL || ds->type != YAML_SEQUENCE_NODE) {
		rs_report(ld, path, ls->line, "logsource entry needs a datasets list");
		return -1;
	}
	for (it = ds->data.sequence.items.start; it < ds->data.sequence.items.top;
	    it++) {
		const char *s = ry_scalar(ry_node(d, *it));
		int id;

		if (s == NULL || (id = dataset_intern(rs, s)) == -1) {
			rs_report(ld, path, ry_line(ds), "bad dataset or more than %d datasets",
			    RS_MAX_DATASETS);
			return -1;
		}
		ls->dsmask |= 1ULL << id;
	}
	kw = ry_map_get(d, e, "keywords");
	if (kw == NULL) {
		ls->kw[ls->nkw++] = SOC_F_MESSAGE;
	} else {
		if (kw->type != YAML_SEQUENCE_NODE) {
			rs_report(ld, path, ry_line(kw), "keywords: must be a list of fields");
			return -1;
		}
		for (it = kw->data.sequence.items.start;
		    it < kw->data.sequence.items.top; it++) {
			const char *s = ry_scalar(ry_node(d, *it));
			int f = s ? rm_field_lookup(s, strlen(s)) : SOC_F_NONE;

			if (f == SOC_F_NONE || ls->nkw == RS_MAX_KWFIELDS) {
				rs_report(ld, path, ry_line(kw), "bad keyword field");
				return -1;
			}
			ls->kw[ls->nkw++] = f;
		}
	}
	if (map_conds(ld, path, d, ry_map_get(d, e, "conditions"), ls) == -1 ||
	    map_lskey(d, e, "field_prefix", &ls->prefix) == -1)
		return -1;
	return map_fields(ld, path, d, ry_map_get(d, e, "fields"), &ls->fields,
	    &ls->nfields);
}

static int
mapping_doc(struct ruleset *rs, struct rs_load *ld, struct rs_mapping *m,
    yaml_document_t *d)
{
	yaml_node_t *root = yaml_document_get_root_node(d), *ls;
	yaml_node_item_t *it;
	size_t n;

	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		rs_report(ld, m->path, 1, "mapping file must be a YAML mapping");
		return -1;
	}
	if (map_fields(ld, m->path, d, ry_map_get(d, root, "fields"), &m->fields,
	    &m->nfields) == -1)
		return -1;
	ls = ry_map_get(d, root, "logsources");
	if (ls == NULL || ls->type != YAML_SEQUENCE_NODE) {
		rs_report(ld, m->path, ry_line(root), "logsources: list missing");
		return -1;
	}
	n = (size_t)(ls->data.sequence.items.top - ls->data.sequence.items.start);
	if (n == 0 || (m->ls = calloc(n, sizeof(*m->ls))) == NULL)
		return -1;
	for (it = ls->data.sequence.items.start; it < ls->data.sequence.items.top;
	    it++) {
		struct rs_lsmap *e = &m->ls[m->nls++];

		e->common = m->fields;
		e->ncommon = m->nfields;
		if (map_entry(rs, ld, m->path, d, ry_node(d, *it), e) == -1)
			return -1;
	}
	return 0;
}

/* Loads mapping.yml into rs->map.  -1 after reporting why. */
int
rule_mapping_load(struct ruleset *rs, struct rs_load *ld, const char *path)
{
	yaml_parser_t p;
	yaml_document_t d;
	FILE *f;
	int rc = -1;

	if ((rs->map = calloc(1, sizeof(*rs->map))) == NULL ||
	    (rs->map->path = strdup(path)) == NULL)
		return -1;
	if ((f = fopen(path, "r")) == NULL) {
		rs_report(ld, path, 0, "cannot open mapping: %s", strerror(errno));
		return -1;
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	if (!yaml_parser_load(&p, &d)) {
		rs_report(ld, path, (int)p.problem_mark.line + 1, "%s",
		    p.problem ? p.problem : "YAML error");
	} else {
		rc = mapping_doc(rs, ld, rs->map, &d);
		yaml_document_delete(&d);
	}
	yaml_parser_delete(&p);
	fclose(f);
	return rc;
}

const char *
rule_mapping_default(const char *const *dirs, size_t ndirs, char *buf,
    size_t len)
{
	struct stat st;

	for (size_t i = 0; i < ndirs; i++) {
		snprintf(buf, len, "%s/mapping.yml", dirs[i]);
		if (stat(buf, &st) == 0)
			return buf;
	}
	snprintf(buf, len, "%s/rules/mapping.yml", SOC_DATADIR);
	return buf;
}

/* Score of a mapping entry key against the rule's value; -1: no match. */
static int
ls_key_score(const char *want, const char *have)
{
	if (want == NULL)
		return have == NULL ? 0 : -1;
	if (strcmp(want, "*") == 0)
		return 0;
	if (have == NULL || strcasecmp(want, have) != 0)
		return -1;
	return 2;
}

/*
 * The most specific entry for a logsource (exact keys beat "*"), or NULL:
 * none matches, or the best is one with no dataset (a log source the
 * sensors do not produce, listed so that it beats the wildcards).
 */
const struct rs_lsmap *
rule_mapping_find(const struct rs_mapping *m, const char *product,
    const char *category, const char *service)
{
	const struct rs_lsmap *best = NULL;
	int bscore = -1;

	for (size_t i = 0; i < m->nls; i++) {
		const struct rs_lsmap *e = &m->ls[i];
		int a = ls_key_score(e->product, product);
		int b = ls_key_score(e->category, category);
		int c = ls_key_score(e->service, service);

		if (a < 0 || b < 0 || c < 0)
			continue;
		/* on a tie, an entry with datasets beats a refusing one */
		if (a + b + c > bscore || (a + b + c == bscore &&
		    best->dsmask == 0 && e->dsmask != 0)) {
			bscore = a + b + c;
			best = e;
		}
	}
	return best != NULL && best->dsmask != 0 ? best : NULL;
}

static int
fmap_find(const struct rs_fmap *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].sigma, name) == 0)
			return t[i].field;
	return SOC_F_NONE;
}

/*
 * Sigma field name -> registry id for this rule's logsource: the
 * logsource's own table, then the common table, then the ECS name as-is.
 */
int
rule_map_field(const struct rule *r, const char *name)
{
	int f;

	if (r->lsmap != NULL &&
	    (f = fmap_find(r->lsmap->fields, r->lsmap->nfields, name)) != SOC_F_NONE)
		return f;
	if (r->lsmap != NULL && r->lsmap->prefix != NULL &&
	    strchr(name, '.') == NULL) {
		char buf[SOC_F_DYN_NAME_MAX + 1];
		int n = snprintf(buf, sizeof(buf), "%s%s", r->lsmap->prefix, name);

		if (n < 0 || (size_t)n >= sizeof(buf))
			return SOC_F_NONE;
		return rm_field_lookup(buf, (size_t)n);
	}
	if (r->lsmap != NULL &&
	    (f = fmap_find(r->lsmap->common, r->lsmap->ncommon, name)) != SOC_F_NONE)
		return f;
	return rm_field_lookup(name, strlen(name));
}

