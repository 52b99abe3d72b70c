/*
 * Sigma rule loading: walk the rule directories (recursively, sorted by
 * path), parse every *.yml / *.yaml with libyaml's document API (one file
 * may hold several documents: a correlation and its base rules), read
 * each rule's metadata, logsource and correlation block, and assemble the
 * ruleset.  The mapping file is rule-map.c's, the detection rule-cond.c's
 * and the value translation rule-value.c's.
 *
 * The rule is the unit of failure: whatever the engine cannot honour
 * exactly (an unknown modifier or field, an aggregation, a regex Hyperscan
 * refuses, ...) refuses that rule with "file:line: reason" and the others
 * load.  Nothing is silently approximated.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <yaml.h>

#include "soc/json.h"
#include "soc/util.h"
#include "rule-int.h"

#define SG_MAX_DIRDEPTH	32

static const char *const levels[] = {
	"informational", "low", "medium", "high", "critical"
};

/* ---------------------------------------------------------------- */
/* rule metadata */

static int
meta_str(struct sg_ctx *c, const yaml_node_t *root, const char *key,
    char **out, bool required)
{
	yaml_node_t *n = ry_map_get(c->doc, root, key);
	const char *s = ry_scalar(n);

	if (n == NULL || ry_is_null(n)) {
		if (required)
			return sg_fail(c, root, "missing '%s'", key);
		return (*out = strdup("")) == NULL ? -1 : 0;
	}
	if (s == NULL)
		return sg_fail(c, n, "'%s' must be a string", key);
	if ((*out = strdup(s)) == NULL)
		return sg_fail(c, n, "out of memory");
	return 0;
}

static int
meta_tags(struct sg_ctx *c, const yaml_node_t *root)
{
	yaml_node_t *n = ry_map_get(c->doc, root, "tags");
	struct soc_sbuf b = { 0 };
	yaml_node_item_t *it;

	soc_sbuf_adds(&b, "");
	if (n != NULL && n->type == YAML_SEQUENCE_NODE) {
		for (it = n->data.sequence.items.start;
		    it < n->data.sequence.items.top; it++) {
			const char *s = ry_scalar(ry_node(c->doc, *it));

			if (s == NULL)
				continue;
			if (b.len > 0)
				soc_sbuf_adds(&b, ",");
			soc_sbuf_adds(&b, s);
		}
	} else if (n != NULL && !ry_is_null(n)) {
		free(b.data);
		return sg_fail(c, n, "tags must be a list");
	}
	if (b.oom)
		return sg_fail(c, n, "out of memory");
	c->b.r->tags = b.data;
	return 0;
}

static int
meta_level(struct sg_ctx *c, const yaml_node_t *root)
{
	yaml_node_t *n = ry_map_get(c->doc, root, "level");
	const char *s = n ? ry_scalar(n) : "medium";	/* Sigma leaves it optional */

	for (int i = 0; s != NULL && i < 5; i++)
		if (strcmp(s, levels[i]) == 0) {
			c->b.r->severity = i;
			c->b.r->level = strdup(levels[i]);
			return c->b.r->level ? 0 : sg_fail(c, n, "out of memory");
		}
	return sg_fail(c, n ? n : root, "unknown level '%s'", s ? s : "");
}

static int
meta(struct sg_ctx *c, const yaml_node_t *root)
{
	struct rule *r = c->b.r;

	if (meta_str(c, root, "title", &r->title, true) == -1 ||
	    meta_str(c, root, "id", &r->id, false) == -1 ||
	    meta_str(c, root, "name", &r->name, false) == -1 ||
	    meta_str(c, root, "author", &r->author, false) == -1 ||
	    meta_str(c, root, "status", &r->status, false) == -1 ||
	    meta_tags(c, root) == -1 || meta_level(c, root) == -1)
		return -1;
	if (*r->id == '\0') {		/* fall back to name, then title */
		free(r->id);
		if ((r->id = strdup(*r->name ? r->name : r->title)) == NULL)
			return sg_fail(c, root, "out of memory");
	}
	return 0;
}

static int
logsource(struct sg_ctx *c, const yaml_node_t *root)
{
	yaml_node_t *ls = ry_map_get(c->doc, root, "logsource");
	const char *pr, *ca, *se;

	if (ls == NULL || ls->type != YAML_MAPPING_NODE)
		return sg_fail(c, root, "missing logsource");
	pr = ry_scalar(ry_map_get(c->doc, ls, "product"));
	ca = ry_scalar(ry_map_get(c->doc, ls, "category"));
	se = ry_scalar(ry_map_get(c->doc, ls, "service"));
	if (pr == NULL && ca == NULL && se == NULL)
		return sg_fail(c, ls, "logsource names no product, category or service");
	c->b.r->lsmap = rule_mapping_find(c->rs->map, pr, ca, se);
	if (c->b.r->lsmap == NULL)
		return sg_fail(c, ls, "logsource (product=%s category=%s service=%s) "
		    "is not mapped to any dataset", pr ? pr : "-", ca ? ca : "-",
		    se ? se : "-");
	c->b.r->dsmask = c->b.r->lsmap->dsmask;
	if ((pr != NULL && (c->b.r->ls_product = strdup(pr)) == NULL) ||
	    (ca != NULL && (c->b.r->ls_category = strdup(ca)) == NULL) ||
	    (se != NULL && (c->b.r->ls_service = strdup(se)) == NULL))
		return sg_fail(c, ls, "out of memory");
	return 0;
}

/* ---------------------------------------------------------------- */
/* documents, files, directories */

void
rule_free(struct rule *r)
{
	if (r == NULL)
		return;
	free(r->file);
	free(r->id);
	free(r->name);
	free(r->title);
	free(r->level);
	free(r->author);
	free(r->tags);
	free(r->status);
	free(r->ls_product);
	free(r->ls_category);
	free(r->ls_service);
	for (uint32_t i = 0; i < r->npats; i++)
		free(r->pats[i].expr);
	free(r->pats);
	free(r->nodes);
	free(r->kids);
	free(r->feeds);
	rule_filter_free(r);
	corr_def_free(r->corr);
	free(r);
}

struct rule_vec {
	struct rule	**v;
	size_t		  n, cap;
};

static int
rv_push(struct rule_vec *rv, struct rule *r)
{
	if (rv->n == rv->cap) {
		size_t ncap = rv->cap ? rv->cap * 2 : 64;
		struct rule **nv = reallocarray(rv->v, ncap, sizeof(*nv));

		if (nv == NULL)
			return -1;
		rv->v = nv;
		rv->cap = ncap;
	}
	rv->v[rv->n++] = r;
	return 0;
}

static int
document(struct sg_ctx *c, const yaml_node_t *root)
{
	yaml_node_t *cn, *det;

	if (root->type != YAML_MAPPING_NODE)
		return sg_fail(c, root, "a rule must be a YAML mapping");
	if (ry_map_get(c->doc, root, "action") != NULL)
		return sg_fail(c, root, "rule collections (action:) are not supported");
	if (meta(c, root) == -1)
		return -1;
	if ((cn = ry_map_get(c->doc, root, "correlation")) != NULL)
		return sg_correlation(c, root, cn);
	if ((det = ry_map_get(c->doc, root, "filter")) != NULL) {
		if (ry_map_get(c->doc, root, "detection") != NULL)
			return sg_fail(c, root, "a document has either detection "
			    "or filter");
		if (logsource(c, root) == -1)
			return -1;
		return sg_filter(c, det);
	}
	if ((det = ry_map_get(c->doc, root, "detection")) == NULL)
		return sg_fail(c, root, "rule has neither detection nor correlation");
	if (logsource(c, root) == -1)
		return -1;
	return sg_detection(c, det);	/* with the logsource's conditions */
}

/* Parses one document; a good rule is appended to rv, a bad one reported. */
static int
load_document(struct ruleset *rs, struct rs_load *ld, const char *file,
    yaml_document_t *doc, yaml_node_t *root, struct rule_vec *rv)
{
	struct sg_ctx c = { .rs = rs, .file = file, .doc = doc,
	    .b.ph = rs->ph };
	int rc;

	if ((c.b.r = calloc(1, sizeof(*c.b.r))) == NULL ||
	    (c.b.r->file = strdup(file)) == NULL) {
		rule_free(c.b.r);
		return -1;
	}
	c.b.r->line = ry_line(root);
	rc = document(&c, root);
	free(c.sels);
	if (rc == -1) {
		rs_report(ld, file, c.b.errline ? c.b.errline : c.b.r->line, "%s", c.b.err);
		rule_free(c.b.r);
		return 0;
	}
	if (rv_push(rv, c.b.r) == -1) {
		rule_free(c.b.r);
		return -1;
	}
	return 0;
}

/*
 * Bounds before the document loader sees a file: its size, and one pass
 * over its events for the nesting depth and the aliases (a deep or
 * alias-laden file costs the loader, and the rule walk, far more than its
 * size).  0 if within them; else reported and -1.
 */
static int
prescan(struct rs_load *ld, const char *path, const char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, aliases = 0, rc = 0;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev))
			break;		/* the loader reports it */
		if (ev.type == YAML_MAPPING_START_EVENT ||
		    ev.type == YAML_SEQUENCE_START_EVENT)
			depth++;
		else if (ev.type == YAML_MAPPING_END_EVENT ||
		    ev.type == YAML_SEQUENCE_END_EVENT)
			depth--;
		else if (ev.type == YAML_ALIAS_EVENT)
			aliases++;
		if (depth > RS_MAX_YAML_DEPTH || aliases > RS_MAX_YAML_ALIASES) {
			rs_report(ld, path, (int)ev.start_mark.line + 1,
			    depth > RS_MAX_YAML_DEPTH ? "YAML nested deeper than %d" :
			    "more than %d YAML aliases", depth > RS_MAX_YAML_DEPTH ?
			    RS_MAX_YAML_DEPTH : RS_MAX_YAML_ALIASES);
			rc = -1;
		}
		if (ev.type == YAML_STREAM_END_EVENT || rc == -1) {
			yaml_event_delete(&ev);
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

/* The whole file, at most RS_MAX_FILE_BYTES; NULL if reported. */
static char *
slurp(struct rs_load *ld, const char *path, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		rs_report(ld, path, 0, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) == -1 || st.st_size > RS_MAX_FILE_BYTES) {
		rs_report(ld, path, 0, "file larger than %d bytes",
		    RS_MAX_FILE_BYTES);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		rs_report(ld, path, 0, "out of memory");
		goto out;
	}
	*len = fread(buf, 1, (size_t)st.st_size, f);
	buf[*len] = '\0';
	if (ferror(f)) {
		rs_report(ld, path, 0, "read error");
		free(buf);
		buf = NULL;
	}
out:
	fclose(f);
	return buf;
}

static int
load_file(struct ruleset *rs, struct rs_load *ld, const char *path,
    struct rule_vec *rv)
{
	yaml_parser_t p;
	yaml_document_t doc;
	yaml_node_t *root;
	size_t len = 0;
	char *buf;
	int rc = 0;

	if ((buf = slurp(ld, path, &len)) == NULL)
		return 0;
	if (prescan(ld, path, buf, len) == -1) {
		free(buf);
		return 0;
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	for (;;) {
		if (!yaml_parser_load(&p, &doc)) {
			rs_report(ld, path, (int)p.problem_mark.line + 1,
			    "YAML: %s%s%s", p.problem ? p.problem : "error",
			    p.context ? " " : "", p.context ? p.context : "");
			break;
		}
		if ((root = yaml_document_get_root_node(&doc)) == NULL) {
			yaml_document_delete(&doc);
			break;
		}
		rc = load_document(rs, ld, path, &doc, root, rv);
		yaml_document_delete(&doc);
		if (rc == -1)
			break;
	}
	yaml_parser_delete(&p);
	free(buf);
	return rc;
}

struct path_vec {
	char	**v;
	size_t	  n, cap;
};

static int
pv_push(struct path_vec *pv, const char *s)
{
	if (pv->n == pv->cap) {
		size_t ncap = pv->cap ? pv->cap * 2 : 64;
		char **nv = reallocarray(pv->v, ncap, sizeof(*nv));

		if (nv == NULL)
			return -1;
		pv->v = nv;
		pv->cap = ncap;
	}
	if ((pv->v[pv->n] = strdup(s)) == NULL)
		return -1;
	pv->n++;
	return 0;
}

static bool
is_rule_file(const char *name)
{
	size_t n = strlen(name);

	/* the mapping, placeholders and categories tables are not rules */
	if (strcmp(name, "mapping.yml") == 0 || strcmp(name, "mapping.yaml") == 0 ||
	    strcmp(name, "placeholders.yml") == 0 ||
	    strcmp(name, "categories.yml") == 0)
		return false;
	return (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
	    (n > 5 && strcmp(name + n - 5, ".yaml") == 0);
}

/* Collects rule files under path (hidden entries skipped). */
static int
walk(struct rs_load *ld, const char *path, int depth, struct path_vec *pv)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	char sub[4096];
	int rc = 0;

	if (stat(path, &st) == -1) {
		rs_report(ld, path, 0, "%s", strerror(errno));
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return pv_push(pv, path);
	if (depth > SG_MAX_DIRDEPTH || (d = opendir(path)) == NULL) {
		rs_report(ld, path, 0, "cannot read directory");
		return 0;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >=
		    sizeof(sub))
			continue;
		if (stat(sub, &st) == -1)
			continue;
		if (S_ISDIR(st.st_mode))
			rc = walk(ld, sub, depth + 1, pv);
		else if (S_ISREG(st.st_mode) && is_rule_file(de->d_name))
			rc = pv_push(pv, sub);
	}
	closedir(d);
	return rc;
}

static int
cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Two rules with one id (or one name) make references ambiguous. */
static void
refuse_duplicates(struct rule **v, size_t n, struct rs_load *ld)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i && !v[i]->refused; j++) {
			if (v[j]->refused)
				continue;
			if (strcmp(v[i]->id, v[j]->id) == 0 ||
			    (*v[i]->name && strcmp(v[i]->name, v[j]->name) == 0)) {
				v[i]->refused = true;
				rs_report(ld, v[i]->file, v[i]->line,
				    "duplicate id or name '%s' (first in %s:%d)",
				    strcmp(v[i]->id, v[j]->id) == 0 ? v[i]->id :
				    v[i]->name, v[j]->file, v[j]->line);
			}
		}
	}
}

static int
collect(struct ruleset *rs, struct rs_load *ld, const char *const *dirs,
    size_t ndirs, struct rule_vec *rv)
{
	struct path_vec pv = { 0 };
	int rc = 0;

	for (size_t i = 0; i < ndirs && rc == 0; i++) {
		size_t first = pv.n;

		rc = walk(ld, dirs[i], 0, &pv);
		if (pv.n > first)	/* qsort(NULL, 0, ...) is undefined */
			qsort(pv.v + first, pv.n - first, sizeof(*pv.v), cmp_path);
	}
	for (size_t i = 0; i < pv.n && rc == 0; i++)
		rc = load_file(rs, ld, pv.v[i], rv);
	for (size_t i = 0; i < pv.n; i++)
		free(pv.v[i]);
	free(pv.v);
	return rc;
}

/*
 * Patterns per field database: a rule whose patterns would take a
 * field's database past RS_MAX_PATS_FIELD is refused (compile time grows
 * faster than linearly with a database's size).
 */
static void
limit_fields(struct rule **v, size_t n, struct rs_load *ld)
{
	uint32_t *cnt = calloc(SOC_F_COUNT + SOC_F_DYN_MAX, sizeof(*cnt));

	if (cnt == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		struct rule *r = v[i];
		bool over = false;

		if (r->refused)
			continue;
		for (uint32_t j = 0; j < r->npats; j++)
			over |= ++cnt[r->pats[j].field] > RS_MAX_PATS_FIELD;
		if (!over)
			continue;
		for (uint32_t j = 0; j < r->npats; j++)
			cnt[r->pats[j].field]--;
		rs_report(ld, r->file, r->line, "field database over %d patterns "
		    "with this rule", RS_MAX_PATS_FIELD);
		r->refused = true;
	}
	free(cnt);
}

/* Keeps the rules that survived; frees the refused ones. */
static int
compact(struct ruleset *rs, struct rule_vec *rv)
{
	size_t n = 0;

	for (size_t i = 0; i < rv->n; i++) {
		if (rv->v[i]->refused) {
			if (rv->v[i]->skipped)	/* listed; out of memory: not */
				(void)rule_status_record(rs, rv->v[i]);
			rule_free(rv->v[i]);
			continue;
		}
		rv->v[i]->index = (uint32_t)n;
		rv->v[n++] = rv->v[i];
	}
	rs->rules = rv->v;
	rs->nrules = n;
	rv->v = NULL;	/* the ruleset owns them now, failure or not */
	rv->n = rv->cap = 0;
	return 0;
}

struct ruleset *
ruleset_load(const char *const *dirs, size_t ndirs, const char *mapping_path,
    rs_error_fn err, void *arg, size_t *nerrors)
{
	static const struct rs_load_opts all = { .min_status = RS_STATUS_ANY };

	return ruleset_load_opts(dirs, ndirs, mapping_path, &all, err, arg,
	    nerrors);
}

struct ruleset *
ruleset_load_opts(const char *const *dirs, size_t ndirs,
    const char *mapping_path, const struct rs_load_opts *o, rs_error_fn err,
    void *arg, size_t *nerrors)
{
	struct rs_load ld = { .err = err, .arg = arg,
	    .roots = o->partial_dirs ? dirs : NULL, .nroots = ndirs,
	    .hs_only = o->hs_only != 0 };
	struct rule_vec rv = { 0 };
	struct ruleset *rs;
	char mbuf[4096];

	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		goto fail;
	if (mapping_path == NULL)
		mapping_path = rule_mapping_default(dirs, ndirs, mbuf, sizeof(mbuf));
	if (rule_mapping_load(rs, &ld, mapping_path) == -1)
		goto fail;
	if (rule_placeholders_load(rs, &ld, dirs, ndirs) == -1 ||
	    collect(rs, &ld, dirs, ndirs, &rv) == -1)
		goto fail;
	/* each step may refuse rules the next ones must not rely on */
	rule_status_skip(rv.v, rv.n, o->min_status);
	refuse_duplicates(rv.v, rv.n, &ld);
	rule_filters_apply(rs, rv.v, rv.n, &ld);
	limit_fields(rv.v, rv.n, &ld);
	corr_resolve(rv.v, rv.n, &ld);
	rule_filters_prune(rs);
	compact(rs, &rv);
	rs->soft = ld.soft;
	rs->nsoft = ld.nsoft;
	rs->nsoft_total = ld.nsoft_total;
	ld.soft = NULL;
	ld.nsoft = 0;
	if (match_build(rs, &ld) == -1)
		goto fail;
	if ((rs->cs = corr_state_new(rs)) == NULL)
		goto fail;
	if (nerrors != NULL)
		*nerrors = ld.nerrors;
	return rs;
fail:
	for (size_t i = 0; i < ld.nsoft; i++)
		free(ld.soft[i]);
	free(ld.soft);
	for (size_t i = 0; i < rv.n; i++)
		rule_free(rv.v[i]);
	free(rv.v);
	ruleset_free(rs);
	if (nerrors != NULL)
		*nerrors = ld.nerrors ? ld.nerrors : 1;
	return NULL;
}

void
ruleset_free(struct ruleset *rs)
{
	if (rs == NULL)
		return;
	corr_state_free(rs->cs);
	match_free(rs->db);
	rule_filters_free(rs);
	rule_status_free(rs);
	rule_placeholders_free(rs->ph);
	for (size_t i = 0; i < rs->nrules; i++)
		rule_free(rs->rules[i]);
	free(rs->rules);
	for (int i = 0; i < rs->nds; i++)
		free(rs->ds_names[i]);
	rule_mapping_free(rs->map);
	free(rs);
}

size_t
ruleset_count(const struct ruleset *rs)
{
	return rs->nrules;
}

const struct rule *
ruleset_rule(const struct ruleset *rs, size_t i)
{
	return i < rs->nrules ? rs->rules[i] : NULL;
}

const char *rule_id(const struct rule *r) { return r->id; }
const char *rule_title(const struct rule *r) { return r->title; }
const char *rule_level(const struct rule *r) { return r->level; }
int rule_severity(const struct rule *r) { return r->severity; }
const char *rule_author(const struct rule *r) { return r->author; }
const char *rule_tags(const struct rule *r) { return r->tags; }
const char *rule_file(const struct rule *r) { return r->file; }
int rule_is_correlation(const struct rule *r) { return r->corr != NULL; }
