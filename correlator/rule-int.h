/*
 * Internals of the rule engine, shared by its three files and by nobody
 * else: rule-sigma.c parses Sigma YAML into rules made of condition
 * nodes, match-hs.c compiles their string conditions into one Hyperscan
 * database per field and evaluates the nodes, corr-window.c keeps the
 * event_count windows.  Everything here is owned by the ruleset and freed
 * by ruleset_free().
 */
#ifndef SOC_CORR_RULE_INT_H
#define SOC_CORR_RULE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules.h"

#define RS_MAX_DATASETS		64	/* a rule's datasets are a uint64 mask */
#define RS_MAX_GROUPBY		8
#define RS_MAX_THRESHOLD	100000	/* event_count: largest N accepted */
#define RS_CORR_MAXKEYS		65536	/* correlation keys kept overall */

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
};

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

enum corr_op { CORR_GTE = 0, CORR_GT };

/* Sigma correlation (event_count) as parsed; refs resolved by corr_resolve. */
struct corr_def {
	char		**refs;		/* rule names or ids, as written */
	int		 *ref_lines;
	size_t		  nrefs;
	struct rule	**bases;	/* resolved, nrefs entries */
	char		**group_by;	/* Sigma field names, as written */
	size_t		  ngroup;
	int		 *gb_fields;	/* [nrefs * ngroup] registry ids per base */
	int64_t		  timespan;	/* ns */
	int		  op;		/* enum corr_op */
	uint64_t	  threshold;
	bool		  generate;
	uint32_t	  index;	/* among correlation rules */
};

/* A correlation fed by a base rule, and which of its bases that is. */
struct rule_feed {
	struct rule	*corr;
	uint32_t	 base;
};

struct rs_lsmap;

struct rule {
	char		*file;
	int		 line;
	char		*id, *name, *title, *level, *author, *tags, *status;
	int		 severity;
	bool		 refused;
	bool		 generate;	/* raise own alerts (see corr_resolve) */
	bool		 needs_hit;	/* false unless some pattern hit */
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
};

/* Load-time error reporting: "file:line: reason", counted. */
struct rs_load {
	rs_error_fn	 err;
	void		*arg;
	size_t		 nerrors;
};

void	rs_report(struct rs_load *ld, const char *file, int line,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* rule-sigma.c */
void	rule_free(struct rule *r);
int	rule_map_field(const struct rule *r, const char *name);

/* match-hs.c */
int	match_check_regex(const char *expr, unsigned int flags, char *err,
	    size_t errlen);
int	match_build(struct ruleset *rs, struct rs_load *ld);
void	match_free(struct match_db *db);

/* corr-window.c */
void	corr_def_free(struct corr_def *c);
void	corr_resolve(struct rule **all, size_t n, struct rs_load *ld);
struct corr_state *corr_state_new(const struct ruleset *rs);
void	corr_state_free(struct corr_state *cs);
int	corr_feed(struct ruleset *rs, const struct rule *base,
	    const struct soc_event *ev, rs_alert_fn fn, void *arg);

#endif
