/*
 * Sigma rule loading: walk the rule directories (recursively, sorted by
 * path), parse every *.yml / *.yaml with libyaml's document API (one file
 * may hold several documents: a correlation and its base rules), map the
 * Sigma field names to event fields through rules/mapping.yml, and build
 * each rule's condition tree (struct rule_node, see rule-int.h).
 *
 * The rule is the unit of failure: whatever the engine cannot honour
 * exactly (an unknown modifier or field, an aggregation, a regex Hyperscan
 * refuses, ...) refuses that rule with "file:line: reason" and the others
 * load.  Nothing is silently approximated.
 *
 * Value semantics follow the Sigma specification:
 *  - a plain value is an exact, case-insensitive match where * and ? are
 *    wildcards and \ escapes *, ? and itself;
 *  - contains/startswith/endswith keep the wildcards;
 *  - re is a search (unanchored), case-sensitive unless re|i (re|m, re|s
 *    for multi-line and dot-all), as the specification says;
 *  - base64/base64offset match the encoded text, which is case-significant,
 *    so they are matched cased;
 *  - keywords (a list without field) are substring matches on the
 *    logsource's keyword fields (message unless mapping.yml says more);
 *  - null means the field is absent; '' means present and empty.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <hs/hs.h>
#include <yaml.h>

#include "soc-config.h"
#include "soc/util.h"
#include "rule-int.h"

#define SG_MAX_KWFIELDS	8
#define SG_MAX_DEPTH	64	/* condition nesting */
#define SG_MAX_DIRDEPTH	32

/* Sigma field name -> registry id. */
struct rs_fmap {
	char		*sigma;
	int		 field;
};

/* One logsource entry of mapping.yml. */
struct rs_lsmap {
	char		*product, *category, *service;	/* NULL: absent; "*": any */
	int		 line;
	uint64_t	 dsmask;
	struct rs_fmap	*fields;
	size_t		 nfields;
	int		 kw[SG_MAX_KWFIELDS];	/* keyword fields */
	int		 nkw;
	const struct rs_fmap *common;	/* the mapping's table for all */
	size_t		 ncommon;
};

struct rs_mapping {
	char		*path;
	struct rs_lsmap	*ls;
	size_t		 nls;
	struct rs_fmap	*fields;	/* for every logsource */
	size_t		 nfields;
};

struct sg_sel {
	const char	*name;		/* points into the YAML document */
	uint32_t	 node;
};

/* Parse state for one YAML document. */
struct sg_ctx {
	struct ruleset	*rs;
	const char	*file;
	yaml_document_t	*doc;
	struct rule	*r;
	struct sg_sel	*sels;
	size_t		 nsels;
	int		 depth;
	int		 errline;
	char		 err[512];
};

struct ivec {
	uint32_t	*v;
	size_t		 n, cap;
};

enum sg_match { M_EQ = 0, M_CONTAINS, M_STARTS, M_ENDS, M_RE, M_CIDR,
	M_EXISTS, M_GT, M_GTE, M_LT, M_LTE };

struct sg_mods {
	int		 match;		/* enum sg_match */
	bool		 all, cased, b64, b64off, windash, re_i, re_m, re_s;
};

#define TOK_STAR	256
#define TOK_QMARK	257

static const char *const levels[] = {
	"informational", "low", "medium", "high", "critical"
};

/* ---------------------------------------------------------------- */
/* small helpers */

void
rs_report(struct rs_load *ld, const char *file, int line, const char *fmt, ...)
{
	char msg[1024], out[1400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(out, sizeof(out), "%s:%d: %s", file, line, msg);
	else
		snprintf(out, sizeof(out), "%s: %s", file, msg);
	ld->nerrors++;
	if (ld->err != NULL)
		ld->err(ld->arg, out);
}

static int
sg_fail(struct sg_ctx *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first reason the current rule is refused; returns -1. */
static int
sg_fail(struct sg_ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	if (c->err[0] != '\0')
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	c->errline = n != NULL ? (int)n->start_mark.line + 1 : 0;
	return -1;
}

static int
ivec_push(struct ivec *v, uint32_t x)
{
	if (v->n == v->cap) {
		size_t ncap = v->cap ? v->cap * 2 : 8;
		uint32_t *nv = reallocarray(v->v, ncap, sizeof(*nv));

		if (nv == NULL)
			return -1;
		v->v = nv;
		v->cap = ncap;
	}
	v->v[v->n++] = x;
	return 0;
}

static yaml_node_t *
ynode(yaml_document_t *d, int idx)
{
	return yaml_document_get_node(d, idx);
}

/* Scalar text or NULL. */
static const char *
yscalar(const yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

static bool
yis_null(const yaml_node_t *n)
{
	const char *s = yscalar(n);

	if (s == NULL || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return *s == '\0' || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
	    strcmp(s, "NULL") == 0 || strcmp(s, "~") == 0;
}

static yaml_node_t *
ymap_get(yaml_document_t *d, const yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;
	const char *k;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	    p++) {
		k = yscalar(ynode(d, p->key));
		if (k != NULL && strcmp(k, key) == 0)
			return ynode(d, p->value);
	}
	return NULL;
}

static int
yline(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

/* Parses "true"/"false" (YAML 1.1 spellings too); -1 if neither. */
static int
ybool(const yaml_node_t *n)
{
	const char *s = yscalar(n);

	if (s == NULL)
		return -1;
	if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0)
		return 1;
	if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0)
		return 0;
	return -1;
}

static int
parse_int64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* ---------------------------------------------------------------- */
/* mapping.yml */

static void
mapping_free(struct rs_mapping *m)
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
		rs_report(ld, path, yline(n), "fields: must be a mapping");
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
		yaml_node_t *kn = ynode(d, p->key), *vn = ynode(d, p->value);
		const char *k = yscalar(kn), *v = yscalar(vn);
		int f;

		if (k == NULL || v == NULL) {
			rs_report(ld, path, yline(kn), "field mapping must be scalar: scalar");
			return -1;
		}
		if ((f = soc_field_lookup(v, strlen(v))) == SOC_F_NONE) {
			rs_report(ld, path, yline(vn), "'%s' is not an event field", v);
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
	const char *s = yscalar(ymap_get(d, e, key));

	if (s == NULL)
		return 0;
	return (*out = strdup(s)) == NULL ? -1 : 0;
}

static int
map_entry(struct ruleset *rs, struct rs_load *ld, const char *path,
    yaml_document_t *d, const yaml_node_t *e, struct rs_lsmap *ls)
{
	yaml_node_t *ds, *kw;
	yaml_node_item_t *it;

	ls->line = yline(e);
	if (e->type != YAML_MAPPING_NODE) {
		rs_report(ld, path, ls->line, "logsource entry must be a mapping");
		return -1;
	}
	if (map_lskey(d, e, "product", &ls->product) == -1 ||
	    map_lskey(d, e, "category", &ls->category) == -1 ||
	    map_lskey(d, e, "service", &ls->service) == -1)
		return -1;
	ds = ymap_get(d, e, "datasets");
	if (ds == NULL || ds->type != YAML_SEQUENCE_NODE) {
		rs_report(ld, path, ls->line, "logsource entry needs a datasets list");
		return -1;
	}
	for (it = ds->data.sequence.items.start; it < ds->data.sequence.items.top;
	    it++) {
		const char *s = yscalar(ynode(d, *it));
		int id;

		if (s == NULL || (id = dataset_intern(rs, s)) == -1) {
			rs_report(ld, path, yline(ds), "bad dataset or more than %d datasets",
			    RS_MAX_DATASETS);
			return -1;
		}
		ls->dsmask |= 1ULL << id;
	}
	kw = ymap_get(d, e, "keywords");
	if (kw == NULL) {
		ls->kw[ls->nkw++] = SOC_F_MESSAGE;
	} else {
		if (kw->type != YAML_SEQUENCE_NODE) {
			rs_report(ld, path, yline(kw), "keywords: must be a list of fields");
			return -1;
		}
		for (it = kw->data.sequence.items.start;
		    it < kw->data.sequence.items.top; it++) {
			const char *s = yscalar(ynode(d, *it));
			int f = s ? soc_field_lookup(s, strlen(s)) : SOC_F_NONE;

			if (f == SOC_F_NONE || ls->nkw == SG_MAX_KWFIELDS) {
				rs_report(ld, path, yline(kw), "bad keyword field");
				return -1;
			}
			ls->kw[ls->nkw++] = f;
		}
	}
	return map_fields(ld, path, d, ymap_get(d, e, "fields"), &ls->fields,
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
	if (map_fields(ld, m->path, d, ymap_get(d, root, "fields"), &m->fields,
	    &m->nfields) == -1)
		return -1;
	ls = ymap_get(d, root, "logsources");
	if (ls == NULL || ls->type != YAML_SEQUENCE_NODE) {
		rs_report(ld, m->path, yline(root), "logsources: list missing");
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
		if (map_entry(rs, ld, m->path, d, ynode(d, *it), e) == -1)
			return -1;
	}
	return 0;
}

/* Loads mapping.yml into rs->map.  -1 after reporting why. */
static int
mapping_load(struct ruleset *rs, struct rs_load *ld, const char *path)
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

static const char *
default_mapping(const char *const *dirs, size_t ndirs, char *buf, size_t len)
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

/* The most specific entry for a logsource (exact keys beat "*"). */
static const struct rs_lsmap *
mapping_find(const struct rs_mapping *m, const char *product,
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
		if (a + b + c > bscore) {
			bscore = a + b + c;
			best = e;
		}
	}
	return best;
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
	if (r->lsmap != NULL &&
	    (f = fmap_find(r->lsmap->common, r->lsmap->ncommon, name)) != SOC_F_NONE)
		return f;
	return soc_field_lookup(name, strlen(name));
}

/* ---------------------------------------------------------------- */
/* node building */

static int
node_new(struct rule *r, int type)
{
	if (r->nnodes == r->nodes_cap) {
		uint32_t ncap = r->nodes_cap ? r->nodes_cap * 2 : 16;
		struct rule_node *nn = reallocarray(r->nodes, ncap, sizeof(*nn));

		if (nn == NULL)
			return -1;
		r->nodes = nn;
		r->nodes_cap = ncap;
	}
	memset(&r->nodes[r->nnodes], 0, sizeof(r->nodes[0]));
	r->nodes[r->nnodes].type = (uint8_t)type;
	r->nodes[r->nnodes].field = -1;
	return (int)r->nnodes++;
}

static int
sg_node(struct sg_ctx *c, int type, int field)
{
	int n = node_new(c->r, type);

	if (n == -1)
		return sg_fail(c, NULL, "out of memory");
	c->r->nodes[n].field = (int16_t)field;
	return n;
}

/* AND/OR/NOT over kids (a group of one collapses to the kid). */
static int
sg_group(struct sg_ctx *c, int type, const uint32_t *kids, size_t n)
{
	struct rule *r = c->r;
	int idx;

	if (n == 1 && type != RN_NOT)
		return (int)kids[0];
	if (n == 0)
		return sg_node(c, type == RN_AND ? RN_TRUE : RN_FALSE, -1);
	if (r->nkids + n > r->kids_cap) {
		uint32_t ncap = r->kids_cap ? r->kids_cap : 16;
		uint32_t *nk;

		while (ncap < r->nkids + n)
			ncap *= 2;
		if ((nk = reallocarray(r->kids, ncap, sizeof(*nk))) == NULL)
			return sg_fail(c, NULL, "out of memory");
		r->kids = nk;
		r->kids_cap = ncap;
	}
	if ((idx = sg_node(c, type, -1)) == -1)
		return -1;
	r->nodes[idx].kid = r->nkids;
	r->nodes[idx].nkids = (uint32_t)n;
	memcpy(&r->kids[r->nkids], kids, n * sizeof(*kids));
	r->nkids += (uint32_t)n;
	return idx;
}

/* A string condition: one Hyperscan expression (expr is taken over). */
static int
sg_pat(struct sg_ctx *c, int field, char *expr, unsigned int flags)
{
	struct rule *r = c->r;
	int idx;

	if (r->npats == r->pats_cap) {
		uint32_t ncap = r->pats_cap ? r->pats_cap * 2 : 8;
		struct rule_pat *np = reallocarray(r->pats, ncap, sizeof(*np));

		if (np == NULL) {
			free(expr);
			return sg_fail(c, NULL, "out of memory");
		}
		r->pats = np;
		r->pats_cap = ncap;
	}
	if ((idx = sg_node(c, RN_PAT, field)) == -1) {
		free(expr);
		return -1;
	}
	r->pats[r->npats].field = field;
	r->pats[r->npats].flags = flags;
	r->pats[r->npats].expr = expr;
	r->pats[r->npats].gid = 0;
	r->nodes[idx].u.pat = r->npats++;
	return idx;
}

/* ---------------------------------------------------------------- */
/* values -> Hyperscan expressions */

struct sbuf {
	char	*p;
	size_t	 n, cap;
	bool	 oom;
};

static void
sb_add(struct sbuf *b, const char *s, size_t len)
{
	if (b->oom)
		return;
	if (b->n + len + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 64;
		char *np;

		while (ncap < b->n + len + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static bool
is_word(int t)
{
	return t < 256 && (isalnum(t) || t == '_');
}

/* Sigma string -> tokens: bytes, TOK_STAR, TOK_QMARK (\ escapes *?\). */
static int *
sigma_tokens(const char *s, size_t len, size_t *ntok, bool *wild)
{
	int *t = calloc(len + 1, sizeof(*t));
	size_t n = 0;

	*wild = false;
	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\\' && i + 1 < len &&
		    (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\')) {
			t[n++] = (unsigned char)s[++i];
		} else if (ch == '*') {
			t[n++] = TOK_STAR;
			*wild = true;
		} else if (ch == '?') {
			t[n++] = TOK_QMARK;
			*wild = true;
		} else {
			t[n++] = ch;
		}
	}
	*ntok = n;
	return t;
}

static void
emit_byte(struct sbuf *b, int ch)
{
	char tmp[8];

	if (isalnum(ch)) {
		tmp[0] = (char)ch;
		sb_add(b, tmp, 1);
	} else {
		snprintf(tmp, sizeof(tmp), "\\x%02x", ch);
		sb_str(b, tmp);
	}
}

enum { RX_PATTERN, RX_EXISTS, RX_EMPTY };

/*
 * Tokens -> expression.  Leading/trailing stars drop the anchor they
 * touch; a value with nothing left matches any (RX_EXISTS) or only the
 * empty string (RX_EMPTY), which Hyperscan cannot express.
 */
static int
tokens_regex(const int *t, size_t n, bool astart, bool aend, bool windash,
    struct sbuf *b)
{
	size_t lo = 0, hi = n;

	if (astart && lo < hi && t[lo] == TOK_STAR)
		astart = false;
	if (aend && hi > lo && t[hi - 1] == TOK_STAR)
		aend = false;
	if (!astart)
		while (lo < hi && t[lo] == TOK_STAR)
			lo++;
	if (!aend)
		while (hi > lo && t[hi - 1] == TOK_STAR)
			hi--;
	if (lo == hi)
		return astart && aend ? RX_EMPTY : RX_EXISTS;
	if (astart)
		sb_str(b, "^");
	for (size_t i = lo; i < hi; i++) {
		if (t[i] == TOK_STAR)
			sb_str(b, ".*");
		else if (t[i] == TOK_QMARK)
			sb_str(b, ".");
		else if (windash && (t[i] == '-' || t[i] == '/') &&
		    (i == 0 || !is_word(t[i - 1])) && i + 1 < n &&
		    is_word(t[i + 1]))
			sb_str(b, "(?:-|/|\\xe2\\x80\\x93|\\xe2\\x80\\x94|\\xe2\\x80\\x95)");
		else
			emit_byte(b, t[i]);
	}
	if (aend)
		sb_str(b, "\\z");
	return RX_PATTERN;
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding; returns a new string. */
static char *
b64_encode(const unsigned char *in, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		*o++ = b64chars[(v >> 18) & 63];
		*o++ = b64chars[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64chars[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? b64chars[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static bool
match_anchors(int match, bool *astart, bool *aend)
{
	*astart = match == M_EQ || match == M_STARTS;
	*aend = match == M_EQ || match == M_ENDS;
	return true;
}

/* One literal (already encoded) as a pattern with the match anchors. */
static int
literal_node(struct sg_ctx *c, const yaml_node_t *vn, int field, int match,
    const char *lit, size_t len)
{
	struct sbuf b = { 0 };
	bool as, ae;
	int *t, rx, k;

	if ((t = calloc(len + 1, sizeof(*t))) == NULL)
		return sg_fail(c, vn, "out of memory");
	for (size_t i = 0; i < len; i++)
		t[i] = (unsigned char)lit[i];
	match_anchors(match, &as, &ae);
	rx = tokens_regex(t, len, as, ae, false, &b);
	free(t);
	if (b.oom)
		return sg_fail(c, vn, "out of memory");
	if (rx != RX_PATTERN) {
		free(b.p);
		if ((k = sg_node(c, rx == RX_EMPTY ? RN_EMPTY : RN_EXISTS, field)) >= 0)
			c->r->nodes[k].u.exists = true;
		return k;
	}
	return sg_pat(c, field, b.p, HS_FLAG_DOTALL);
}

/*
 * base64 / base64offset: the value (no wildcards allowed) is encoded; for
 * base64offset the three alignments, trimmed of the characters that
 * depend on neighbouring bytes, as in the Sigma reference implementation.
 */
static int
b64_node(struct sg_ctx *c, const yaml_node_t *vn, int field,
    const struct sg_mods *m, const int *t, size_t n)
{
	static const size_t start_off[3] = { 0, 2, 3 };
	unsigned char *raw;
	uint32_t kids[3];
	size_t nk = 0;

	if ((raw = malloc(n + 3)) == NULL)
		return sg_fail(c, vn, "out of memory");
	for (int shift = 0; shift < (m->b64off ? 3 : 1); shift++) {
		char *enc;
		size_t elen, lo, hi, rem;
		int k;

		memset(raw, ' ', (size_t)shift);
		for (size_t i = 0; i < n; i++)
			raw[shift + i] = (unsigned char)t[i];
		if ((enc = b64_encode(raw, n + (size_t)shift)) == NULL) {
			free(raw);
			return sg_fail(c, vn, "out of memory");
		}
		elen = strlen(enc);
		lo = m->b64off ? start_off[shift] : 0;
		hi = elen;
		rem = (n + (size_t)shift) % 3;
		if (m->b64off && rem == 1)
			hi = elen >= 3 ? elen - 3 : 0;
		else if (m->b64off && rem == 2)
			hi = elen >= 2 ? elen - 2 : 0;
		if (hi <= lo) {
			free(enc);
			continue;
		}
		k = literal_node(c, vn, field, m->match, enc + lo, hi - lo);
		free(enc);
		if (k == -1) {
			free(raw);
			return -1;
		}
		kids[nk++] = (uint32_t)k;
	}
	free(raw);
	if (nk == 0)
		return sg_fail(c, vn, "value too short for base64offset");
	return sg_group(c, RN_OR, kids, nk);
}

static int
cidr_parse(const char *s, struct soc_ip *ip, uint8_t *plen)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	int64_t p;
	int max;

	if (soc_ip_parse(s, alen, ip) == -1)
		return -1;
	max = ip->family == 4 ? 32 : 128;
	if (slash == NULL) {
		*plen = (uint8_t)max;
		return 0;
	}
	if (parse_int64(slash + 1, &p) == -1 || p < 0 || p > max)
		return -1;
	*plen = (uint8_t)p;
	return 0;
}

static int
cidr_node(struct sg_ctx *c, const yaml_node_t *vn, int field, const char *s)
{
	struct soc_ip ip;
	uint8_t plen;
	int n;

	if (soc_field_type(field) != SOC_T_IP)
		return sg_fail(c, vn, "cidr needs an IP field, %s is not one",
		    soc_field_name(field));
	if (cidr_parse(s, &ip, &plen) == -1)
		return sg_fail(c, vn, "bad CIDR '%s'", s);
	if ((n = sg_node(c, RN_CIDR, field)) == -1)
		return -1;
	c->r->nodes[n].u.cidr.ip = ip;
	c->r->nodes[n].u.cidr.plen = plen;
	return n;
}

static int
num_node(struct sg_ctx *c, const yaml_node_t *vn, int field, int op,
    const char *s)
{
	int64_t v;
	int n;

	if (soc_field_type(field) != SOC_T_INT && soc_field_type(field) != SOC_T_TIME)
		return sg_fail(c, vn, "numeric comparison on non-numeric field %s",
		    soc_field_name(field));
	if (parse_int64(s, &v) == -1)
		return sg_fail(c, vn, "'%s' is not an integer", s);
	if ((n = sg_node(c, RN_NUM, field)) == -1)
		return -1;
	c->r->nodes[n].op = (uint8_t)op;
	c->r->nodes[n].u.num = v;
	return n;
}

static int
re_node(struct sg_ctx *c, const yaml_node_t *vn, int field,
    const struct sg_mods *m, const char *s)
{
	unsigned int flags = HS_FLAG_ALLOWEMPTY;
	char err[256], *expr;

	if (m->re_i)
		flags |= HS_FLAG_CASELESS;
	if (m->re_m)
		flags |= HS_FLAG_MULTILINE;
	if (m->re_s)
		flags |= HS_FLAG_DOTALL;
	if (match_check_regex(s, flags, err, sizeof(err)) == -1)
		return sg_fail(c, vn, "regex /%s/ refused by Hyperscan: %s", s, err);
	if ((expr = strdup(s)) == NULL)
		return sg_fail(c, vn, "out of memory");
	return sg_pat(c, field, expr, flags);
}

/* A plain/contains/startswith/endswith value (wildcards honoured). */
static int
str_node(struct sg_ctx *c, const yaml_node_t *vn, int field,
    const struct sg_mods *m, const char *s, size_t len)
{
	struct sbuf b = { 0 };
	size_t n;
	bool wild, as, ae;
	int *t, rx, k;
	unsigned int flags = HS_FLAG_DOTALL;
	int64_t iv;
	struct soc_ip ip;

	/* equality on numbers and addresses is exact, not textual */
	if (m->match == M_EQ && !m->b64 && !m->b64off && !m->windash) {
		if (soc_field_type(field) == SOC_T_INT && parse_int64(s, &iv) == 0)
			return num_node(c, vn, field, RN_EQ, s);
		if (soc_field_type(field) == SOC_T_IP &&
		    soc_ip_parse(s, len, &ip) == 0)
			return cidr_node(c, vn, field, s);
	}
	if ((t = sigma_tokens(s, len, &n, &wild)) == NULL)
		return sg_fail(c, vn, "out of memory");
	if (m->b64 || m->b64off) {
		if (wild) {
			free(t);
			return sg_fail(c, vn, "wildcards cannot be base64-encoded");
		}
		k = b64_node(c, vn, field, m, t, n);
		free(t);
		return k;
	}
	match_anchors(m->match, &as, &ae);
	rx = tokens_regex(t, n, as, ae, m->windash, &b);
	free(t);
	if (b.oom)
		return sg_fail(c, vn, "out of memory");
	if (rx != RX_PATTERN) {
		free(b.p);
		if ((k = sg_node(c, rx == RX_EMPTY ? RN_EMPTY : RN_EXISTS, field)) >= 0)
			c->r->nodes[k].u.exists = true;
		return k;
	}
	if (!m->cased)
		flags |= HS_FLAG_CASELESS;
	return sg_pat(c, field, b.p, flags);
}

/* One value of a field item, dispatched on the modifiers. */
static int
value_node(struct sg_ctx *c, const yaml_node_t *vn, int field,
    const struct sg_mods *m)
{
	const char *s = yscalar(vn);
	int k, b;

	if (s == NULL)
		return sg_fail(c, vn, "value must be a scalar");
	if (yis_null(vn)) {
		if (m->match != M_EQ || m->b64 || m->b64off || m->windash)
			return sg_fail(c, vn, "null value with a modifier");
		if ((k = sg_node(c, RN_EXISTS, field)) >= 0)
			c->r->nodes[k].u.exists = false;
		return k;
	}
	switch (m->match) {
	case M_EXISTS:
		if ((b = ybool(vn)) == -1)
			return sg_fail(c, vn, "exists needs true or false");
		if ((k = sg_node(c, RN_EXISTS, field)) >= 0)
			c->r->nodes[k].u.exists = b == 1;
		return k;
	case M_CIDR:
		return cidr_node(c, vn, field, s);
	case M_GT:
		return num_node(c, vn, field, RN_GT, s);
	case M_GTE:
		return num_node(c, vn, field, RN_GTE, s);
	case M_LT:
		return num_node(c, vn, field, RN_LT, s);
	case M_LTE:
		return num_node(c, vn, field, RN_LTE, s);
	case M_RE:
		return re_node(c, vn, field, m, s);
	default:
		return str_node(c, vn, field, m, s, vn->data.scalar.length);
	}
}

/* ---------------------------------------------------------------- */
/* modifiers, field items, selections */

static int
set_match(struct sg_ctx *c, const yaml_node_t *kn, struct sg_mods *m,
    int match, const char *name)
{
	if (m->match != M_EQ)
		return sg_fail(c, kn, "modifier '%s' conflicts with an earlier one",
		    name);
	m->match = match;
	return 0;
}

static int
parse_mod(struct sg_ctx *c, const yaml_node_t *kn, struct sg_mods *m,
    const char *mod)
{
	static const struct { const char *name; int match; } mt[] = {
		{ "contains", M_CONTAINS }, { "startswith", M_STARTS },
		{ "endswith", M_ENDS }, { "re", M_RE }, { "cidr", M_CIDR },
		{ "exists", M_EXISTS }, { "gt", M_GT }, { "gte", M_GTE },
		{ "lt", M_LT }, { "lte", M_LTE },
	};
	static const char *const unsupported[] = {
		"expand", "fieldref", "utf16le", "utf16be", "utf16", "wide",
		"neq", "minute", "hour", "day", "week", "month", "year",
	};

	for (size_t i = 0; i < sizeof(mt) / sizeof(mt[0]); i++)
		if (strcmp(mod, mt[i].name) == 0)
			return set_match(c, kn, m, mt[i].match, mod);
	if (strcmp(mod, "all") == 0)
		m->all = true;
	else if (strcmp(mod, "cased") == 0)
		m->cased = true;
	else if (strcmp(mod, "base64") == 0)
		m->b64 = true;
	else if (strcmp(mod, "base64offset") == 0)
		m->b64off = true;
	else if (strcmp(mod, "windash") == 0)
		m->windash = true;
	else if (m->match == M_RE && (strcmp(mod, "i") == 0 ||
	    strcmp(mod, "ignorecase") == 0))
		m->re_i = true;
	else if (m->match == M_RE && (strcmp(mod, "m") == 0 ||
	    strcmp(mod, "multiline") == 0))
		m->re_m = true;
	else if (m->match == M_RE && (strcmp(mod, "s") == 0 ||
	    strcmp(mod, "dotall") == 0))
		m->re_s = true;
	else {
		for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
			if (strcmp(mod, unsupported[i]) == 0)
				return sg_fail(c, kn, "modifier '%s' is not supported",
				    mod);
		return sg_fail(c, kn, "unknown modifier '%s'", mod);
	}
	return 0;
}

/* Combinations the engine would otherwise have to guess at. */
static int
check_mods(struct sg_ctx *c, const yaml_node_t *kn, const struct sg_mods *m)
{
	bool strmatch = m->match == M_EQ || m->match == M_CONTAINS ||
	    m->match == M_STARTS || m->match == M_ENDS;

	if (m->b64 && m->b64off)
		return sg_fail(c, kn, "base64 and base64offset together");
	if ((m->b64 || m->b64off || m->windash) && !strmatch)
		return sg_fail(c, kn, "base64/windash only apply to string matches");
	if ((m->b64 || m->b64off) && m->windash)
		return sg_fail(c, kn, "windash with base64 is not supported");
	if (m->cased && !strmatch && m->match != M_RE)
		return sg_fail(c, kn, "cased only applies to string matches");
	return 0;
}

static int
field_item(struct sg_ctx *c, const yaml_node_t *kn, const yaml_node_t *vn)
{
	struct sg_mods m = { 0 };
	struct ivec kids = { 0 };
	char *key, *name, *mod, *save = NULL;
	int field, k = -1;

	if (yscalar(kn) == NULL)
		return sg_fail(c, kn, "field name must be a scalar");
	if ((key = strdup(yscalar(kn))) == NULL)
		return sg_fail(c, kn, "out of memory");
	name = strtok_r(key, "|", &save);
	if (name == NULL || *yscalar(kn) == '|') {
		free(key);
		return sg_fail(c, kn, "missing field name");
	}
	while ((mod = strtok_r(NULL, "|", &save)) != NULL)
		if (parse_mod(c, kn, &m, mod) == -1)
			goto out;
	if (check_mods(c, kn, &m) == -1)
		goto out;
	if ((field = rule_map_field(c->r, name)) == SOC_F_NONE) {
		sg_fail(c, kn, "unknown field '%s' (no mapping for this logsource)",
		    name);
		goto out;
	}
	if (vn->type == YAML_SEQUENCE_NODE) {
		yaml_node_item_t *it;

		if (vn->data.sequence.items.start == vn->data.sequence.items.top) {
			sg_fail(c, vn, "empty value list for '%s'", name);
			goto out;
		}
		for (it = vn->data.sequence.items.start;
		    it < vn->data.sequence.items.top; it++) {
			int v = value_node(c, ynode(c->doc, *it), field, &m);

			if (v == -1 || ivec_push(&kids, (uint32_t)v) == -1)
				goto out;
		}
	} else {
		int v = value_node(c, vn, field, &m);

		if (v == -1 || ivec_push(&kids, (uint32_t)v) == -1)
			goto out;
	}
	k = sg_group(c, m.all ? RN_AND : RN_OR, kids.v, kids.n);
out:
	if (k == -1)
		sg_fail(c, kn, "out of memory");
	free(kids.v);
	free(key);
	return k;
}

/* A keyword: substring match on each keyword field of the logsource. */
static int
keyword_node(struct sg_ctx *c, const yaml_node_t *vn)
{
	struct sg_mods m = { .match = M_CONTAINS };
	uint32_t kids[SG_MAX_KWFIELDS];
	const struct rs_lsmap *ls = c->r->lsmap;
	int k;

	if (yscalar(vn) == NULL || yis_null(vn))
		return sg_fail(c, vn, "keyword must be a non-null scalar");
	for (int i = 0; i < ls->nkw; i++) {
		if ((k = value_node(c, vn, ls->kw[i], &m)) == -1)
			return -1;
		kids[i] = (uint32_t)k;
	}
	return sg_group(c, RN_OR, kids, (size_t)ls->nkw);
}

static int
map_node(struct sg_ctx *c, const yaml_node_t *n)
{
	struct ivec kids = { 0 };
	yaml_node_pair_t *p;
	int k = -1;

	if (n->data.mapping.pairs.start == n->data.mapping.pairs.top)
		return sg_fail(c, n, "empty selection");
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		int v = field_item(c, ynode(c->doc, p->key), ynode(c->doc, p->value));

		if (v == -1 || ivec_push(&kids, (uint32_t)v) == -1)
			goto out;
	}
	k = sg_group(c, RN_AND, kids.v, kids.n);
out:
	free(kids.v);
	return k;
}

/* A selection: map (AND), list of maps (OR), keyword list (OR). */
static int
selection_node(struct sg_ctx *c, const yaml_node_t *n)
{
	struct ivec kids = { 0 };
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
		yaml_node_t *e = ynode(c->doc, *it);
		int v;

		if (e->type == YAML_MAPPING_NODE)
			v = map_node(c, e);
		else if (e->type == YAML_SCALAR_NODE)
			v = keyword_node(c, e);
		else
			v = sg_fail(c, e, "nested lists are not a selection");
		if (v == -1 || ivec_push(&kids, (uint32_t)v) == -1)
			goto out;
	}
	k = sg_group(c, RN_OR, kids.v, kids.n);
out:
	free(kids.v);
	return k;
}

/* ---------------------------------------------------------------- */
/* condition: or < and < not < atom; "1 of x*", "all of them" */

struct cp {
	struct sg_ctx	*c;
	const yaml_node_t *n;
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
	for (size_t i = 0; i < p->c->nsels; i++)
		if (strcmp(p->c->sels[i].name, name) == 0)
			return (int)p->c->sels[i].node;
	return sg_fail(p->c, p->n, "condition names unknown selection '%s'", name);
}

/* "1 of X" / "all of X": X is "them" or a pattern over selection names. */
static int
cp_quant(struct cp *p, bool all)
{
	struct ivec kids = { 0 };
	bool them;
	int k = -1;

	cp_next(p);
	if (!cp_is(p, "of"))
		return sg_fail(p->c, p->n, "expected 'of' after '%s'",
		    all ? "all" : "1");
	cp_next(p);
	if (p->tok[0] == '\0' || p->tok[0] == '(' || p->tok[0] == ')')
		return sg_fail(p->c, p->n, "expected selection pattern after 'of'");
	them = cp_is(p, "them");
	for (size_t i = 0; i < p->c->nsels; i++) {
		const char *nm = p->c->sels[i].name;

		if (them ? nm[0] == '_' : fnmatch(p->tok, nm, 0) != 0)
			continue;
		if (ivec_push(&kids, p->c->sels[i].node) == -1)
			goto out;
	}
	if (kids.n == 0) {
		sg_fail(p->c, p->n, "'%s' matches no selection", p->tok);
		goto out;
	}
	k = sg_group(p->c, all ? RN_AND : RN_OR, kids.v, kids.n);
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
		return sg_fail(p->c, p->n, "condition ends unexpectedly");
	if (p->tok[0] == '(') {
		if (++p->c->depth > SG_MAX_DEPTH)
			return sg_fail(p->c, p->n, "condition nested too deep");
		cp_next(p);
		if ((k = cp_or(p)) == -1)
			return -1;
		if (p->tok[0] != ')')
			return sg_fail(p->c, p->n, "missing ')' in condition");
		p->c->depth--;
		cp_next(p);
		return k;
	}
	if (cp_is(p, "1") || cp_is(p, "all"))
		return cp_quant(p, cp_is(p, "all"));
	if (cp_is(p, "and") || cp_is(p, "or") || cp_is(p, "not") || p->tok[0] == ')')
		return sg_fail(p->c, p->n, "unexpected '%s' in condition", p->tok);
	if (strchr(p->tok, '*') != NULL)
		return sg_fail(p->c, p->n, "wildcard '%s' needs '1 of' or 'all of'",
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
	if (++p->c->depth > SG_MAX_DEPTH)
		return sg_fail(p->c, p->n, "condition nested too deep");
	cp_next(p);
	if ((k = cp_not(p)) == -1)
		return -1;
	p->c->depth--;
	kid = (uint32_t)k;
	return sg_group(p->c, RN_NOT, &kid, 1);
}

static int
cp_chain(struct cp *p, const char *op, int type, int (*sub)(struct cp *))
{
	struct ivec kids = { 0 };
	int k = -1;

	for (;;) {
		int v = sub(p);

		if (v == -1 || ivec_push(&kids, (uint32_t)v) == -1)
			goto out;
		if (!cp_is(p, op))
			break;
		cp_next(p);
	}
	k = sg_group(p->c, type, kids.v, kids.n);
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

static int
condition_one(struct sg_ctx *c, const yaml_node_t *n)
{
	struct cp p = { .c = c, .n = n, .s = yscalar(n) };
	int k;

	if (p.s == NULL)
		return sg_fail(c, n, "condition must be a string");
	if (strchr(p.s, '|') != NULL)
		return sg_fail(c, n, "aggregation ('|') is not supported; "
		    "use a correlation rule");
	c->depth = 0;
	cp_next(&p);
	if ((k = cp_or(&p)) == -1)
		return -1;
	if (p.tok[0] != '\0')
		return sg_fail(c, n, "unexpected '%s' in condition", p.tok);
	return k;
}

/* A condition, or a list of them (any one raises the alert). */
static int
condition_node(struct sg_ctx *c, const yaml_node_t *n)
{
	struct ivec kids = { 0 };
	yaml_node_item_t *it;
	int k = -1;

	if (n->type != YAML_SEQUENCE_NODE)
		return condition_one(c, n);
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++) {
		int v = condition_one(c, ynode(c->doc, *it));

		if (v == -1 || ivec_push(&kids, (uint32_t)v) == -1)
			goto out;
	}
	if (kids.n == 0)
		sg_fail(c, n, "empty condition list");
	else
		k = sg_group(c, RN_OR, kids.v, kids.n);
out:
	free(kids.v);
	return k;
}

static int
detection(struct sg_ctx *c, const yaml_node_t *det)
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
		yaml_node_t *kn = ynode(c->doc, p->key), *vn = ynode(c->doc, p->value);
		const char *k = yscalar(kn);
		int v;

		if (k == NULL)
			return sg_fail(c, kn, "selection name must be a scalar");
		if (strcmp(k, "condition") == 0) {
			cond = vn;
			continue;
		}
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
	c->r->root = (uint32_t)root;
	return 0;
}

/* ---------------------------------------------------------------- */
/* rule metadata */

static int
meta_str(struct sg_ctx *c, const yaml_node_t *root, const char *key,
    char **out, bool required)
{
	yaml_node_t *n = ymap_get(c->doc, root, key);
	const char *s = yscalar(n);

	if (n == NULL || yis_null(n)) {
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
	yaml_node_t *n = ymap_get(c->doc, root, "tags");
	struct sbuf b = { 0 };
	yaml_node_item_t *it;

	sb_str(&b, "");
	if (n != NULL && n->type == YAML_SEQUENCE_NODE) {
		for (it = n->data.sequence.items.start;
		    it < n->data.sequence.items.top; it++) {
			const char *s = yscalar(ynode(c->doc, *it));

			if (s == NULL)
				continue;
			if (b.n > 0)
				sb_str(&b, ",");
			sb_str(&b, s);
		}
	} else if (n != NULL && !yis_null(n)) {
		free(b.p);
		return sg_fail(c, n, "tags must be a list");
	}
	if (b.oom)
		return sg_fail(c, n, "out of memory");
	c->r->tags = b.p;
	return 0;
}

static int
meta_level(struct sg_ctx *c, const yaml_node_t *root)
{
	yaml_node_t *n = ymap_get(c->doc, root, "level");
	const char *s = n ? yscalar(n) : "medium";	/* Sigma leaves it optional */

	for (int i = 0; s != NULL && i < 5; i++)
		if (strcmp(s, levels[i]) == 0) {
			c->r->severity = i;
			c->r->level = strdup(levels[i]);
			return c->r->level ? 0 : sg_fail(c, n, "out of memory");
		}
	return sg_fail(c, n ? n : root, "unknown level '%s'", s ? s : "");
}

static int
meta(struct sg_ctx *c, const yaml_node_t *root)
{
	struct rule *r = c->r;

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
	yaml_node_t *ls = ymap_get(c->doc, root, "logsource");
	const char *pr, *ca, *se;

	if (ls == NULL || ls->type != YAML_MAPPING_NODE)
		return sg_fail(c, root, "missing logsource");
	pr = yscalar(ymap_get(c->doc, ls, "product"));
	ca = yscalar(ymap_get(c->doc, ls, "category"));
	se = yscalar(ymap_get(c->doc, ls, "service"));
	if (pr == NULL && ca == NULL && se == NULL)
		return sg_fail(c, ls, "logsource names no product, category or service");
	c->r->lsmap = mapping_find(c->rs->map, pr, ca, se);
	if (c->r->lsmap == NULL)
		return sg_fail(c, ls, "logsource (product=%s category=%s service=%s) "
		    "is not mapped to any dataset", pr ? pr : "-", ca ? ca : "-",
		    se ? se : "-");
	c->r->dsmask = c->r->lsmap->dsmask;
	return 0;
}

/* ---------------------------------------------------------------- */
/* correlation rules (the windows themselves live in corr-window.c) */

static int
corr_strlist(struct sg_ctx *c, const yaml_node_t *n, const char *what,
    char ***out, int **lines, size_t *nout)
{
	yaml_node_item_t *it;
	size_t cnt = 1;

	if (n->type == YAML_SEQUENCE_NODE)
		cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (cnt == 0)
		return sg_fail(c, n, "%s: empty list", what);
	if ((*out = calloc(cnt, sizeof(**out))) == NULL ||
	    (lines != NULL && (*lines = calloc(cnt, sizeof(**lines))) == NULL))
		return sg_fail(c, n, "out of memory");
	for (size_t i = 0; i < cnt; i++) {
		const yaml_node_t *e = n;
		const char *s;

		if (n->type == YAML_SEQUENCE_NODE) {
			it = n->data.sequence.items.start + i;
			e = ynode(c->doc, *it);
		}
		if ((s = yscalar(e)) == NULL || *s == '\0')
			return sg_fail(c, e, "%s: entries must be names", what);
		if (((*out)[i] = strdup(s)) == NULL)
			return sg_fail(c, e, "out of memory");
		if (lines != NULL)
			(*lines)[i] = yline(e);
		*nout = i + 1;
	}
	return 0;
}

static int
corr_condition(struct sg_ctx *c, struct corr_def *d, const yaml_node_t *n)
{
	yaml_node_pair_t *p;
	const char *k;
	int64_t v;

	if (n == NULL || n->type != YAML_MAPPING_NODE)
		return sg_fail(c, n, "correlation condition must be a mapping "
		    "such as {gte: 10}");
	if (n->data.mapping.pairs.top - n->data.mapping.pairs.start != 1)
		return sg_fail(c, n, "range conditions are not supported yet; "
		    "use one of gte or gt");
	p = n->data.mapping.pairs.start;
	k = yscalar(ynode(c->doc, p->key));
	if (k == NULL)
		return sg_fail(c, n, "bad correlation condition");
	if (strcmp(k, "gte") == 0)
		d->op = CORR_GTE;
	else if (strcmp(k, "gt") == 0)
		d->op = CORR_GT;
	else if (strcmp(k, "lt") == 0 || strcmp(k, "lte") == 0 ||
	    strcmp(k, "eq") == 0)
		return sg_fail(c, n, "condition '%s' is not supported yet: it needs "
		    "evaluation when the window closes", k);
	else
		return sg_fail(c, n, "unknown correlation condition '%s'", k);
	if (parse_int64(yscalar(ynode(c->doc, p->value)), &v) == -1 || v < 0 ||
	    v >= RS_MAX_THRESHOLD)
		return sg_fail(c, n, "threshold must be an integer in 0..%d",
		    RS_MAX_THRESHOLD - 1);
	d->threshold = (uint64_t)v;
	if (d->op == CORR_GTE && d->threshold == 0)
		d->threshold = 1;
	return 0;
}

static int
corr_generate(struct sg_ctx *c, const yaml_node_t *n, bool *out)
{
	int b;

	if (n == NULL)
		return 0;
	if ((b = ybool(n)) == -1)
		return sg_fail(c, n, "generate must be true or false");
	*out = b == 1;
	return 0;
}

static int
correlation(struct sg_ctx *c, const yaml_node_t *root, const yaml_node_t *cn)
{
	struct corr_def *d;
	yaml_node_t *n;
	const char *type, *ts;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return sg_fail(c, cn, "out of memory");
	c->r->corr = d;
	if (ymap_get(c->doc, root, "detection") != NULL)
		return sg_fail(c, root, "a rule has either detection or correlation");
	if (cn->type != YAML_MAPPING_NODE)
		return sg_fail(c, cn, "correlation must be a mapping");
	type = yscalar(ymap_get(c->doc, cn, "type"));
	if (type == NULL)
		return sg_fail(c, cn, "correlation has no type");
	if (strcmp(type, "value_count") == 0 || strcmp(type, "temporal") == 0 ||
	    strcmp(type, "temporal_ordered") == 0 || strncmp(type, "value_", 6) == 0)
		return sg_fail(c, cn, "correlation type '%s' is not supported yet",
		    type);
	if (strcmp(type, "event_count") != 0)
		return sg_fail(c, cn, "unknown correlation type '%s'", type);
	if (ymap_get(c->doc, cn, "aliases") != NULL)
		return sg_fail(c, cn, "correlation aliases are not supported yet");
	if ((n = ymap_get(c->doc, cn, "rules")) == NULL)
		return sg_fail(c, cn, "correlation has no rules");
	if (corr_strlist(c, n, "rules", &d->refs, &d->ref_lines, &d->nrefs) == -1)
		return -1;
	if ((n = ymap_get(c->doc, cn, "group-by")) != NULL &&
	    corr_strlist(c, n, "group-by", &d->group_by, NULL, &d->ngroup) == -1)
		return -1;
	if (d->ngroup > RS_MAX_GROUPBY)
		return sg_fail(c, n, "more than %d group-by fields", RS_MAX_GROUPBY);
	n = ymap_get(c->doc, cn, "timespan");
	if ((ts = yscalar(n)) == NULL)
		return sg_fail(c, cn, "correlation has no timespan");
	if ((d->timespan = soc_parse_duration(ts)) <= 0)
		return sg_fail(c, n, "bad timespan '%s' (e.g. 30s, 2m, 1h, 1d)", ts);
	if (corr_condition(c, d, ymap_get(c->doc, cn, "condition")) == -1)
		return -1;
	/* generate: accepted inside correlation: and at the top level */
	if (corr_generate(c, ymap_get(c->doc, cn, "generate"), &d->generate) == -1 ||
	    corr_generate(c, ymap_get(c->doc, root, "generate"), &d->generate) == -1)
		return -1;
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
	for (uint32_t i = 0; i < r->npats; i++)
		free(r->pats[i].expr);
	free(r->pats);
	free(r->nodes);
	free(r->kids);
	free(r->feeds);
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
	if (ymap_get(c->doc, root, "action") != NULL)
		return sg_fail(c, root, "rule collections (action:) are not supported");
	if (meta(c, root) == -1)
		return -1;
	if ((cn = ymap_get(c->doc, root, "correlation")) != NULL)
		return correlation(c, root, cn);
	if ((det = ymap_get(c->doc, root, "detection")) == NULL)
		return sg_fail(c, root, "rule has neither detection nor correlation");
	if (logsource(c, root) == -1)
		return -1;
	return detection(c, det);
}

/* Parses one document; a good rule is appended to rv, a bad one reported. */
static int
load_document(struct ruleset *rs, struct rs_load *ld, const char *file,
    yaml_document_t *doc, yaml_node_t *root, struct rule_vec *rv)
{
	struct sg_ctx c = { .rs = rs, .file = file, .doc = doc };
	int rc;

	if ((c.r = calloc(1, sizeof(*c.r))) == NULL ||
	    (c.r->file = strdup(file)) == NULL) {
		rule_free(c.r);
		return -1;
	}
	c.r->line = yline(root);
	rc = document(&c, root);
	free(c.sels);
	if (rc == -1) {
		rs_report(ld, file, c.errline ? c.errline : c.r->line, "%s", c.err);
		rule_free(c.r);
		return 0;
	}
	if (rv_push(rv, c.r) == -1) {
		rule_free(c.r);
		return -1;
	}
	return 0;
}

static int
load_file(struct ruleset *rs, struct rs_load *ld, const char *path,
    struct rule_vec *rv)
{
	yaml_parser_t p;
	yaml_document_t doc;
	yaml_node_t *root;
	FILE *f;
	int rc = 0;

	if ((f = fopen(path, "r")) == NULL) {
		rs_report(ld, path, 0, "%s", strerror(errno));
		return 0;
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
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
	fclose(f);
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

	if (strcmp(name, "mapping.yml") == 0 || strcmp(name, "mapping.yaml") == 0)
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

/* Keeps the rules that survived; frees the refused ones. */
static int
compact(struct ruleset *rs, struct rule_vec *rv)
{
	size_t n = 0;

	for (size_t i = 0; i < rv->n; i++) {
		if (rv->v[i]->refused) {
			rule_free(rv->v[i]);
			continue;
		}
		rv->v[i]->index = (uint32_t)n;
		rv->v[n++] = rv->v[i];
	}
	rs->rules = rv->v;
	rs->nrules = n;
	rv->v = NULL;
	return 0;
}

struct ruleset *
ruleset_load(const char *const *dirs, size_t ndirs, const char *mapping_path,
    rs_error_fn err, void *arg, size_t *nerrors)
{
	struct rs_load ld = { .err = err, .arg = arg };
	struct rule_vec rv = { 0 };
	struct ruleset *rs;
	char mbuf[4096];

	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		goto fail;
	if (mapping_path == NULL)
		mapping_path = default_mapping(dirs, ndirs, mbuf, sizeof(mbuf));
	if (mapping_load(rs, &ld, mapping_path) == -1)
		goto fail;
	if (collect(rs, &ld, dirs, ndirs, &rv) == -1)
		goto fail;
	refuse_duplicates(rv.v, rv.n, &ld);
	corr_resolve(rv.v, rv.n, &ld);
	compact(rs, &rv);
	if (match_build(rs, &ld) == -1)
		goto fail;
	if ((rs->cs = corr_state_new(rs)) == NULL)
		goto fail;
	if (nerrors != NULL)
		*nerrors = ld.nerrors;
	return rs;
fail:
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
	for (size_t i = 0; i < rs->nrules; i++)
		rule_free(rs->rules[i]);
	free(rs->rules);
	for (int i = 0; i < rs->nds; i++)
		free(rs->ds_names[i]);
	mapping_free(rs->map);
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
