/*
 * Internals of the rule engine, shared by its files and by nobody else
 * (the unit tests aside):
 *  - rule-sigma.c reads the Sigma YAML (files, documents, metadata,
 *    correlation blocks) and assembles the ruleset;
 *  - rule-map.c loads rules/mapping.yml (logsource -> datasets, Sigma
 *    field names -> event fields);
 *  - rule-cond.c turns a detection (selections and the condition over
 *    them) into condition nodes;
 *  - rule-value.c translates one field's modifiers and value into nodes
 *    and Hyperscan expressions, without YAML;
 *  - match-hs.c compiles the string conditions into one Hyperscan
 *    database per field and evaluates the nodes;
 *  - corr-window.c keeps the correlation windows, corr-query.c their
 *    counters and the caller's event references;
 *  - at the bottom, calling nothing above: rule-yaml.c (libyaml readers,
 *    rs_report, sg_fail) and rule-build.c (rb_fail, the node builder).
 * Everything here is owned by the ruleset and freed by ruleset_free().
 */
#ifndef SOC_CORR_RULE_INT_H
#define SOC_CORR_RULE_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules.h"

struct hs_database;
struct yaml_document_s;
struct yaml_node_s;

#define RS_MAX_DATASETS		64	/* a rule's datasets are a uint64 mask */
#define RS_MAX_GROUPBY		8
#define RS_MAX_THRESHOLD	100000	/* event_count: largest N accepted */
#define RS_CORR_MAXKEYS		65536	/* correlation keys kept overall */
#define RS_CORR_AGENCY_MAXKEYS	32768	/* ... and by one agency */
#define RS_CORR_MAXAGENCIES	4096	/* agencies tracked apart */
#define RS_CORR_METRIC_VALUES	256	/* percentile: distinct values per window */
#define RS_MAX_CORR_CHAIN	8	/* correlations of correlations */
#define RS_MAX_KWFIELDS		8	/* keyword fields of a logsource */
#define RS_MAX_LSCONDS		4	/* conditions of a logsource */
#define RS_MAX_LSVALS		16	/* values of one of them */
#define RS_MAX_DEPTH		64	/* condition nesting */
/* Compile bounds (docs/RULES.md): refused with file:line past these. */
#define RS_MAX_PATS_RULE	5000	/* string values of one rule */
#define RS_MAX_PATS_FIELD	50000	/* patterns of one field's database */
#define RS_MAX_YAML_DEPTH	64	/* nested mappings and lists */
#define RS_MAX_YAML_ALIASES	64	/* YAML aliases (*x) in one file */
#define RS_MAX_FILE_BYTES	(4 << 20)	/* one rule file */
#define RS_MAX_EXPR_BYTES	12000	/* one expression (Hyperscan: 16000) */
#define RS_MAX_REPEAT		1000	/* a{n}: largest n (as RE2) */
#define RS_MAX_EXPANDED		2500	/* positions once repeats expand */
#define RS_HEAVY_EXPR		256	/* an expression past this is heavy */
#define RS_MAX_EXPANDED_RULE	10000	/* heavy expressions' total, one rule */
#define RS_COMPILE_CPU_S	30	/* CPU of one database's compile */
#define RS_COMPILE_MEM_MB	2048	/* memory of one database's compile */
#define RS_MAX_RE_GROUPS	256	/* nested groups of one regex */

/* Condition nodes.  AND/OR/NOT have children in rule->kids. */
enum rn_type {
	RN_AND = 1,
	RN_OR,
	RN_NOT,
	RN_PAT,		/* Hyperscan pattern hit (u.pat) */
	RN_EXISTS,	/* field present (u.exists) or absent */
	RN_EMPTY,	/* string field present and empty */
	RN_NUM,		/* integer compare (op, u.num) */
	RN_CIDR,	/* IP field inside u.cidr */
	RN_TRUE,
	RN_FALSE,
	RN_TIME,	/* part kid of the time (UTC) compared (op, u.num) */
	RN_FIELDREF,	/* field's text equals field u.num's text */
	RN_INTEL,	/* field's value in indicator set u.num (rule_intel_set) */
};

/* Time parts of RN_TIME (the Sigma time modifiers). */
enum rn_tpart { TP_NONE = 0, TP_MINUTE, TP_HOUR, TP_DAY, TP_WEEK, TP_MONTH,
	TP_YEAR };
#define RS_F_TIMESTAMP	(-2)	/* @timestamp (ev->ts) as a field id */

enum rn_op { RN_EQ = 0, RN_GT, RN_GTE, RN_LT, RN_LTE };

struct rule_node {
	uint8_t		 type;		/* enum rn_type */
	uint8_t		 op;		/* enum rn_op for RN_NUM */
	int16_t		 field;		/* registry id, or -1 */
	uint32_t	 nkids;
	uint32_t	 kid;		/* first child in rule->kids */
	union {
		uint32_t	 pat;	/* index in rule->pats, then global id */
		int64_t		 num;
		bool		 exists;
		struct {
			struct soc_ip	 ip;
			uint8_t		 plen;
		} cidr;
	} u;
};

/* A string condition as a Hyperscan expression (expr owned by the rule). */
struct rule_pat {
	int		 field;
	unsigned int	 flags;		/* HS_FLAG_* */
	char		*expr;
	uint32_t	 gid;		/* global pattern id after match_build */
};

enum corr_type { CT_EVENT_COUNT = 0, CT_VALUE_COUNT, CT_TEMPORAL,
	CT_TEMPORAL_ORDERED, CT_ABSENCE, CT_VALUE_SUM, CT_VALUE_AVG,
	CT_VALUE_PERCENTILE, CT_VALUE_MEDIAN };
#define CT_METRIC(t)	((t) >= CT_VALUE_SUM)

/* aliases: name -> (rule name -> field name), as written. */
struct corr_alias {
	char		 *name;
	char		**rule, **field;
	size_t		  n;
};

/*
 * A Sigma correlation as parsed (rule-corr.c); refs resolved by
 * corr_resolve.  The condition is a range of counts [lo, hi]: gte/gt set
 * lo, lte/lt set hi, eq sets both, neq sets ne.  Without an upper bound
 * (or neq) the correlation fires as soon as a sliding window reaches lo;
 * with one it is judged when its window closes (corr-window.c).
 */
struct corr_def {
	int		  type;		/* enum corr_type */
	char		**refs;		/* rule names or ids, as written */
	int		 *ref_lines;
	size_t		  nrefs;
	struct rule	**bases;	/* resolved, nrefs entries */
	char		**group_by;	/* Sigma field names or aliases */
	size_t		  ngroup;
	int		 *gb_fields;	/* [nrefs * ngroup] registry ids per base */
	bool		 *gb_alias;	/* [ngroup]: an alias, shown by its name */
	char		**vfield;	/* value_count: condition field(s) */
	size_t		  nvfield;
	int		 *vf_fields;	/* [nrefs * nvfield] */
	struct corr_alias *aliases;
	size_t		  naliases;
	int64_t		  timespan;	/* ns */
	uint64_t	  lo, hi, ne;	/* count bounds (see above) */
	bool		  has_hi, has_ne;
	bool		  at_close;	/* judged when the window closes */
	double		  mlo, mhi, mne;	/* metric types: bounds on the value */
	bool		  m_lo, m_lo_strict, m_hi, m_hi_strict, m_ne;
	int		  percentile;	/* value_percentile: 1..100 (median 50) */
	bool		  generate;
	int		  line;
	uint32_t	  index;	/* among correlation rules */
};

/* A correlation fed by a base rule, and which of its bases that is. */
struct rule_feed {
	struct rule	*corr;
	uint32_t	 base;
};

/* Sigma field name -> registry id. */
struct rs_fmap {
	char		*sigma;
	int		 field;
};

/* One logsource entry of mapping.yml. */
/* A logsource's own condition: field is one of the values (any case). */
struct rs_lscond {
	int		 field;
	char		**vals;
	size_t		 nvals;
};

struct rs_lsmap {
	char		*product, *category, *service;	/* NULL: absent; "*": any */
	int		 line;
	struct rs_lscond *conds;	/* ANDed with the rule's condition */
	size_t		 nconds;
	char		*prefix;	/* a name without '.': prefix + name */
	uint64_t	 dsmask;
	struct rs_fmap	*fields;
	size_t		 nfields;
	int		 kw[RS_MAX_KWFIELDS];	/* keyword fields */
	int		 nkw;
	const struct rs_fmap *common;	/* the mapping's table for all */
	size_t		 ncommon;
};

struct rule {
	char		*file;
	int		 line;
	char		*id, *name, *title, *level, *author, *tags, *status;
	int		 severity;
	bool		 refused;
	bool		 skipped;	/* ... because of rules.min_status */
	const char	*skipwhy;	/* static text */
	bool		 generate;	/* raise own alerts (see corr_resolve) */
	bool		 needs_key;	/* false unless a pattern hits or an
					   integer equality holds */
	uint32_t	 index;		/* in ruleset->rules */
	uint64_t	 dsmask;	/* datasets the logsource maps to */
	const struct rs_lsmap *lsmap;	/* mapping entry of the logsource */

	struct rule_node *nodes;
	uint32_t	 nnodes, nodes_cap;
	uint32_t	*kids;
	uint32_t	 nkids, kids_cap;
	uint32_t	 root;
	struct rule_pat	*pats;
	uint32_t	 npats, pats_cap;

	char		*ls_product, *ls_category, *ls_service;	/* as written,
					   NULL: absent (filters' coverage) */
	bool		 is_filter;	/* a Sigma filter (rule-filter.c) */
	bool		 fany;		/* filter: rules: any (or all, or []) */
	char		**ftargets;	/* filter: rules it applies to */
	int		 *ftlines;
	size_t		  nftargets;
	char		**fagencies;	/* filter: only these agencies */
	size_t		  nfagencies;

	struct corr_def	*corr;		/* non-NULL for correlation rules */
	struct rule_feed *feeds;	/* correlations this rule feeds */
	size_t		 nfeeds;
};

struct rs_mapping;
struct match_db;
struct corr_state;

struct ruleset {
	struct rule	**rules;	/* loaded rules, owned */
	size_t		  nrules;
	struct rs_mapping *map;
	char		 *ds_names[RS_MAX_DATASETS];
	size_t		  ds_len[RS_MAX_DATASETS];
	int		  nds;
	struct match_db	 *db;
	struct corr_state *cs;
	struct rs_placeholders *ph;	/* placeholders.yml, for |expand */
	struct rs_filter_use *fuses;	/* which filter applies to which rule */
	size_t		  nfuses;
	struct rs_skip	 *skips;	/* below rules.min_status (rule-status.c) */
	size_t		  nskips;
	char		**soft;		/* refusals in partial directories */
	size_t		  nsoft, nsoft_total;
};

/* A rule skipped for its status, as `rules check` lists it. */
struct rs_skip {
	char		*file, *title, *status;
	const char	*why;
	int		 line;
};

#define RS_MAX_SOFT_LISTED	4096	/* partial refusals kept as text */

/* Load-time error reporting: "file:line: reason", counted. */
struct rs_load {
	rs_error_fn	 err;
	void		*arg;
	size_t		 nerrors;
	/* partial directories (rule-status.c); roots NULL: none */
	const char *const *roots;
	size_t		 nroots;
	char		**soft;
	size_t		 nsoft, nsoft_total;
	char		 pdir[1024];	/* the last directory judged ... */
	bool		 pdir_partial;	/* ... and whether it was partial */
	bool		 hs_only;	/* rs_load_opts.hs_only */
};

/* rule-status.c */
bool	rs_report_soft(struct rs_load *ld, const char *file, const char *msg);
void	rule_status_skip(struct rule **v, size_t n, int min_status);
int	rule_status_record(struct ruleset *rs, const struct rule *r);
void	rule_status_free(struct ruleset *rs);

/* rule-yaml.c */
void	rs_report(struct rs_load *ld, const char *file, int line,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Building one rule's condition tree.  The first error wins: rb_fail()
 * records it (line 0: none known) and returns -1, later ones are dropped.
 * Node-making functions return the node's index in r->nodes, or -1.
 */
struct rs_placeholders;
struct rule_build {
	struct rule	*r;
	const struct rs_placeholders *ph;	/* for |expand, may be NULL */
	int		 errline;
	char		 err[512];
	uint64_t	 heavy;		/* positions of its heavy expressions */
};

/* A growing list of node indices. */
struct rule_ivec {
	uint32_t	*v;
	size_t		 n, cap;
};

/* What a field's modifiers ask for (rule-value.c). */
enum rule_match { RM_EQ = 0, RM_CONTAINS, RM_STARTS, RM_ENDS, RM_RE, RM_CIDR,
	RM_EXISTS, RM_GT, RM_GTE, RM_LT, RM_LTE, RM_INTEL };

struct rule_mods {
	int		 match;		/* enum rule_match */
	bool		 all, cased, b64, b64off, windash, re_i, re_m, re_s;
	bool		 neq, fieldref, expand;
	uint8_t		 utf16;		/* 0, or 1 le, 2 be, 3 le with BOM */
	uint8_t		 tpart;		/* enum rn_tpart */
};

/* A named selection of a detection, for the condition parser. */
struct rule_sel {
	const char	*name;		/* points into the YAML document */
	uint32_t	 node;
};

/* Parse state for one YAML document (rule-sigma.c, rule-cond.c). */
struct sg_ctx {
	struct rule_build b;
	struct ruleset	*rs;
	const char	*file;
	struct yaml_document_s *doc;
	struct rule_sel	*sels;
	size_t		 nsels;
	bool		 filter;	/* detection of a filter: skip its rules */
};

/* rule-sigma.c */
void	rule_free(struct rule *r);
/* rule-yaml.c */
int	sg_fail(struct sg_ctx *c, const struct yaml_node_s *n,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* libyaml document readers */
struct yaml_node_s *ry_node(struct yaml_document_s *d, int idx);
const char *ry_scalar(const struct yaml_node_s *n);	/* NULL if none */
bool	ry_is_null(const struct yaml_node_s *n);
struct yaml_node_s *ry_map_get(struct yaml_document_s *d,
	    const struct yaml_node_s *map, const char *key);
int	ry_line(const struct yaml_node_s *n);
int	ry_bool(const char *s);		/* 1, 0, or -1 if neither */

/* rule-map.c */
struct rs_mapping;
int	rule_mapping_load(struct ruleset *rs, struct rs_load *ld,
	    const char *path);
void	rule_mapping_free(struct rs_mapping *m);
const char *rule_mapping_default(const char *const *dirs, size_t ndirs,
	    char *buf, size_t len);
const struct rs_lsmap *rule_mapping_find(const struct rs_mapping *m,
	    const char *product, const char *category, const char *service);
int	rule_map_field(const struct rule *r, const char *name);

/* rule-cond.c */
int	sg_detection(struct sg_ctx *c, const struct yaml_node_s *det);
int	rule_cond_parse(struct rule_build *c, int line, const char *s,
	    const struct rule_sel *sels, size_t nsels);

/* rule-build.c */
int	rb_fail(struct rule_build *c, int line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	rb_vfail(struct rule_build *c, int line, const char *fmt, va_list ap)
	    __attribute__((format(printf, 3, 0)));
int	rb_node(struct rule_build *c, int type, int field);
int	rule_kids_add(struct rule_build *c, const uint32_t *kids, size_t n);
int	rb_group(struct rule_build *c, int type, const uint32_t *kids,
	    size_t n);
int	rule_ivec_push(struct rule_ivec *v, uint32_t x);
int	rule_parse_int64(const char *s, int64_t *out);
/* rule-value.c */
int	rule_pat_add(struct rule_build *c, int line, int field, char *expr,
	    unsigned int flags);
int	rule_expr_bounded(const char *expr, uint64_t *weight, char *err,
	    size_t errlen);
int	rule_mod(struct rule_build *c, int line, struct rule_mods *m,
	    const char *mod);
int	rule_mods_check(struct rule_build *c, int line,
	    const struct rule_mods *m);
int	rule_value_one(struct rule_build *c, int line, int field,
	    const struct rule_mods *m, const char *s, size_t len, bool null);
int	rule_value_item(struct rule_build *c, int field, const char *mods,
	    const char *const *vals, size_t nvals);
int	rule_value_finish(struct rule_build *c, int line,
	    const struct rule_mods *m, const uint32_t *kids, size_t n);

/* match-compile.c */
int	match_hs_compile(const char *const *exprs, const unsigned int *flags,
	    const unsigned int *ids, unsigned int n, unsigned int cpu_s,
	    uint64_t mem_bytes, struct hs_database **out, int *bad, char *err,
	    size_t errlen);
/* match-hs.c */
int	match_check_regex(const char *expr, unsigned int flags, char *err,
	    size_t errlen);
int	match_build(struct ruleset *rs, struct rs_load *ld);
size_t	match_db_bytes(const struct ruleset *rs);
void	match_free(struct match_db *db);

/* rule-expand.c */
int	rule_placeholders_load(struct ruleset *rs, struct rs_load *ld,
	    const char *const *dirs, size_t ndirs);
void	rule_placeholders_free(struct rs_placeholders *p);
int	rule_expand_node(struct rule_build *c, int line, int field,
	    const struct rule_mods *m, const char *s);
int	rule_value(struct rule_build *c, int line, int field,
	    const struct rule_mods *m, const char *s, size_t len, bool null);

/* rule-filter.c */
int	sg_filter(struct sg_ctx *c, const struct yaml_node_s *fn);
void	rule_filter_free(struct rule *r);
void	rule_filters_apply(struct ruleset *rs, struct rule **all, size_t n,
	    struct rs_load *ld);
void	rule_filters_prune(struct ruleset *rs);
void	rule_filters_free(struct ruleset *rs);

/* rule-corr.c */
int	sg_strlist(struct sg_ctx *c, const struct yaml_node_s *n,
	    const char *what, char ***out, int **lines, size_t *nout);
int	sg_correlation(struct sg_ctx *c, const struct yaml_node_s *root,
	    const struct yaml_node_s *cn);
int64_t	rule_parse_timespan(const char *s);
void	corr_def_free(struct corr_def *c);
void	corr_resolve(struct rule **all, size_t n, struct rs_load *ld);
bool	corr_same(const struct rule *a, const struct rule *b);

/* corr-window.c */
struct corr_state *corr_state_new(const struct ruleset *rs);
void	corr_state_free(struct corr_state *cs);
int	corr_state_check(const struct corr_state *cs, const char **why);
void	corr_next_event(struct corr_state *cs);
int	corr_feed(struct ruleset *rs, const struct rule *base,
	    const struct soc_event *ev, rs_alert_fn fn, void *arg);

#endif
