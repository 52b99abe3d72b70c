/*
 * Compiling: every string condition of every rule becomes a Hyperscan
 * expression; identical expressions on one field share an id (interning).
 * The expressions of one field form one block-mode database
 * (HS_FLAG_SINGLEMATCH), plus two for its UTF-8-mode regexes (see
 * match-int.h), except for anchored literals (exact, startswith,
 * endswith without wildcards), which go to the field's literal index
 * (match-lit.c).  Then the indexes that decide which rules an event
 * evaluates (match-hs.c): each rule under a necessary set of keys
 * (patterns and integer equalities) chosen for low fan-out, as
 * pattern -> rules and (field, integer) -> rules; and per dataset the
 * few rules that can hold without any key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "soc/hash.h"
#include "match-int.h"

/* Interning table while building: (field, flags, expr) -> global id. */
struct pat_tab {
	uint32_t	*slot;		/* gid + 1, 0 empty */
	size_t		 size;		/* power of two */
	const struct rule_pat **pat;	/* by gid (not owned) */
	const struct rule **owner;	/* first rule using it */
	uint32_t	 n, cap;
	bool		*lit;		/* by gid: in a literal index */
};

int
match_check_regex(const char *expr, unsigned int flags, char *err,
    size_t errlen)
{
	hs_database_t *db = NULL;
	unsigned int f = flags | HS_FLAG_SINGLEMATCH, id = 0;
	int bad;

	if (match_hs_compile(&expr, &f, &id, 1, RS_COMPILE_CPU_S,
	    (uint64_t)RS_COMPILE_MEM_MB << 20, &db, &bad, err, errlen) == -1)
		return -1;
	hs_free_database(db);
	return 0;
}

/* Patterns come from the operator's rules: a plain FNV-1a will do. */
static uint64_t
pat_hash(const struct rule_pat *p)
{
	uint64_t h = soc_fnv1a64(SOC_FNV64_BASIS, &p->field, sizeof(p->field));

	h = soc_fnv1a64(h, &p->flags, sizeof(p->flags));
	return soc_fnv1a64(h, p->expr, strlen(p->expr));
}

static bool
pat_same(const struct rule_pat *a, const struct rule_pat *b)
{
	return a->field == b->field && a->flags == b->flags &&
	    strcmp(a->expr, b->expr) == 0;
}

static int
pt_grow(struct pat_tab *t)
{
	size_t nsize = t->size ? t->size * 2 : 1024;
	uint32_t *ns = calloc(nsize, sizeof(*ns));

	if (ns == NULL)
		return -1;
	for (size_t i = 0; i < t->size; i++) {
		uint32_t g = t->slot[i];
		size_t h;

		if (g == 0)
			continue;
		h = pat_hash(t->pat[g - 1]) & (nsize - 1);
		while (ns[h] != 0)
			h = (h + 1) & (nsize - 1);
		ns[h] = g;
	}
	free(t->slot);
	t->slot = ns;
	t->size = nsize;
	return 0;
}

/* Global id for p, adding it if new; -1 on allocation failure. */
static int64_t
pt_intern(struct pat_tab *t, const struct rule_pat *p, const struct rule *r)
{
	size_t h;

	if ((t->n + 1) * 2 > t->size && pt_grow(t) == -1)
		return -1;
	h = pat_hash(p) & (t->size - 1);
	for (; t->slot[h] != 0; h = (h + 1) & (t->size - 1))
		if (pat_same(t->pat[t->slot[h] - 1], p))
			return t->slot[h] - 1;
	if (t->n == t->cap) {
		uint32_t ncap = t->cap ? t->cap * 2 : 1024;
		const struct rule_pat **np = reallocarray(t->pat, ncap, sizeof(*np));
		const struct rule **no;

		if (np == NULL)
			return -1;
		t->pat = np;
		if ((no = reallocarray(t->owner, ncap, sizeof(*no))) == NULL)
			return -1;
		t->owner = no;
		t->cap = ncap;
	}
	t->pat[t->n] = p;
	t->owner[t->n] = r;
	t->slot[h] = t->n + 1;
	return t->n++;
}

/*
 * Three-valued evaluation with every pattern false (and, with num, every
 * integer equality false too): 0 false, 1 true, 2 maybe.
 */
static int
tri(const struct rule *r, uint32_t n, bool num)
{
	const struct rule_node *nd = &r->nodes[n];
	int v, acc;

	switch (nd->type) {
	case RN_NUM:
		return num && nd->op == RN_EQ ? 0 : 2;
	case RN_PAT:
	case RN_FALSE:
		return 0;
	case RN_TRUE:
		return 1;
	case RN_NOT:
		v = tri(r, r->kids[nd->kid], num);
		return v == 2 ? 2 : !v;
	case RN_AND:
	case RN_OR:
		acc = nd->type == RN_AND ? 1 : 0;
		for (uint32_t i = 0; i < nd->nkids; i++) {
			v = tri(r, r->kids[nd->kid + i], num);
			if (nd->type == RN_AND ? v == 0 : v == 1)
				return v;
			if (v == 2)
				acc = 2;
		}
		return acc;
	default:
		return 2;
	}
}

/* Assigns global ids; rewrites RN_PAT nodes from local to global ids. */
static int
intern_all(struct ruleset *rs, struct pat_tab *t)
{
	for (size_t i = 0; i < rs->nrules; i++) {
		struct rule *r = rs->rules[i];
		int64_t g;

		for (uint32_t j = 0; j < r->npats; j++) {
			if ((g = pt_intern(t, &r->pats[j], r)) == -1)
				return -1;
			r->pats[j].gid = (uint32_t)g;
		}
		for (uint32_t j = 0; j < r->nnodes; j++)
			if (r->nodes[j].type == RN_PAT)
				r->nodes[j].u.pat = r->pats[r->nodes[j].u.pat].gid;
		if (r->corr == NULL)
			r->needs_key = tri(r, r->root, true) == 0;
	}
	return 0;
}

/*
 * Keys.  A rule is evaluated for an event only when one of its keys
 * fires: a pattern (gid) that hit, or one of its integer equalities
 * (KEY_NUM | node) that the event's value meets.  The keys of a rule are
 * a set one of which must fire for the rule to hold, chosen for low
 * fan-out: a shared "Protocol: tcp" or "method: POST" does not make every
 * such event evaluate every rule that has it, when the rule also needs
 * one of its own ports or URLs.
 */
#define KEY_NUM		0x80000000u
#define COST_INF	UINT64_MAX

/* What the indexing needs to price keys. */
struct key_ctx {
	const uint64_t	*pcost;		/* by gid */
	const struct num_ent *nums;	/* every integer equality, sorted */
	uint32_t	 nnums;
};

/* First entry >= (f, v) in a sorted num_ent array. */
uint32_t
match_num_lower(const struct num_ent *e, uint32_t n, int f, int64_t v)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (e[mid].field < f || (e[mid].field == f && e[mid].value < v))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Price of one key: the rules it would point at (those that use it at
 * all), times 256, plus a tie-break that prefers long patterns to short
 * ones and numbers to short words: the data decides how often a key
 * fires, and this is what can be known of it without data.
 */
static uint64_t
num_cost(const struct key_ctx *k, const struct rule_node *nd)
{
	uint32_t i = match_num_lower(k->nums, k->nnums, nd->field, nd->u.num);
	uint32_t n = 0;

	for (; i < k->nnums && k->nums[i].field == nd->field &&
	    k->nums[i].value == nd->u.num; i++)
		n++;
	return (uint64_t)n * 256 + 128;
}

/*
 * What it costs to index a rule under a set of keys one of which must
 * fire for the node to hold: a key alone; the cheapest child of an AND;
 * every child of an OR, summed; COST_INF when no such set exists (not,
 * ranges, cidr, exists, ...).
 */
static uint64_t
key_cost(const struct rule *r, uint32_t n, const struct key_ctx *k)
{
	const struct rule_node *nd = &r->nodes[n];
	uint64_t best, c, sum = 0;

	switch (nd->type) {
	case RN_PAT:
		return k->pcost[nd->u.pat];
	case RN_NUM:
		return nd->op == RN_EQ ? num_cost(k, nd) : COST_INF;
	case RN_FALSE:
		return 0;
	case RN_AND:
		best = COST_INF;
		for (uint32_t i = 0; i < nd->nkids; i++)
			if ((c = key_cost(r, r->kids[nd->kid + i], k)) < best)
				best = c;
		return best;
	case RN_OR:
		for (uint32_t i = 0; i < nd->nkids; i++) {
			if ((c = key_cost(r, r->kids[nd->kid + i], k)) == COST_INF)
				return COST_INF;
			sum += c;
		}
		return sum;
	default:
		return COST_INF;
	}
}

/* The keys key_cost chose, into keys. */
static int
key_mark(const struct rule *r, uint32_t n, const struct key_ctx *k,
    struct rule_ivec *keys)
{
	const struct rule_node *nd = &r->nodes[n];
	uint64_t best = COST_INF, c;
	uint32_t pick = 0;

	switch (nd->type) {
	case RN_PAT:
		return rule_ivec_push(keys, nd->u.pat);
	case RN_NUM:
		return rule_ivec_push(keys, KEY_NUM | n);
	case RN_AND:
		for (uint32_t i = 0; i < nd->nkids; i++)
			if ((c = key_cost(r, r->kids[nd->kid + i], k)) < best) {
				best = c;
				pick = r->kids[nd->kid + i];
			}
		return key_mark(r, pick, k, keys);
	case RN_OR:
		for (uint32_t i = 0; i < nd->nkids; i++)
			if (key_mark(r, r->kids[nd->kid + i], k, keys) == -1)
				return -1;
		return 0;
	default:
		return 0;
	}
}

/*
 * The keys of a rule: the cheapest necessary set, else (a condition such
 * as "not (not a)") all its patterns and integer equalities, which are
 * necessary too when the rule needs a key at all.  Rules that need none
 * are evaluated per dataset (index_datasets) and get no keys.
 */
static int
rule_keys(const struct rule *r, const struct key_ctx *k, struct rule_ivec *keys)
{
	keys->n = 0;
	if (r->corr == NULL && !r->needs_key)
		return 0;
	if (r->corr == NULL && key_cost(r, r->root, k) != COST_INF)
		return key_mark(r, r->root, k, keys);
	for (uint32_t j = 0; j < r->npats; j++)
		if (rule_ivec_push(keys, r->pats[j].gid) == -1)
			return -1;
	for (uint32_t j = 0; j < r->nnodes; j++)
		if (r->nodes[j].type == RN_NUM && r->nodes[j].op == RN_EQ &&
		    rule_ivec_push(keys, KEY_NUM | j) == -1)
			return -1;
	return 0;
}

static int
cmp_num(const void *a, const void *b)
{
	const struct num_ent *x = a, *y = b;

	if (x->field != y->field)
		return x->field < y->field ? -1 : 1;
	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* Every integer equality of every rule, sorted, each (rule, value) once. */
static int
all_numbers(const struct ruleset *rs, struct num_ent **out, uint32_t *nout)
{
	struct num_ent *v = NULL;
	uint32_t n = 0, cap = 0, w = 0;

	for (size_t i = 0; i < rs->nrules; i++) {
		const struct rule *r = rs->rules[i];

		for (uint32_t j = 0; r->corr == NULL && j < r->nnodes; j++) {
			const struct rule_node *nd = &r->nodes[j];

			if (nd->type != RN_NUM || nd->op != RN_EQ)
				continue;
			if (n == cap) {
				struct num_ent *nv;

				cap = cap ? cap * 2 : 256;
				if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
					free(v);
					return -1;
				}
				v = nv;
			}
			v[n++] = (struct num_ent){ .value = nd->u.num,
			    .field = nd->field, .rule = (uint32_t)i };
		}
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_num);
	for (uint32_t i = 0; i < n; i++)
		if (w == 0 || cmp_num(&v[w - 1], &v[i]) != 0)
			v[w++] = v[i];
	*out = v;
	*nout = w;
	return 0;
}

/*
 * The key indexes: pattern -> rules (CSR, each rule once per pattern),
 * and (field, value) -> rules for the integer keys, sorted for binary
 * search with the distinct fields listed.
 */
static int
index_keys(struct ruleset *rs, struct match_db *m, const struct pat_tab *t)
{
	uint32_t *last, *fill = NULL, *freq = NULL, total = 0, nnum = 0;
	uint64_t *pcost = NULL;
	struct rule_ivec keys = { 0 };
	struct key_ctx k = { 0 };
	struct num_ent *nums = NULL;
	int rc = -1;

	if ((m->pr_off = calloc(m->npat + 1, sizeof(uint32_t))) == NULL ||
	    (last = calloc(m->npat + 1, sizeof(uint32_t))) == NULL)
		return -1;
	if ((freq = calloc(m->npat + 1, sizeof(uint32_t))) == NULL ||
	    (pcost = calloc(m->npat + 1, sizeof(uint64_t))) == NULL ||
	    all_numbers(rs, &nums, &k.nnums) == -1)
		goto out;
	for (size_t i = 0; i < rs->nrules; i++)	/* rules per pattern */
		for (uint32_t j = 0; j < rs->rules[i]->npats; j++) {
			uint32_t g = rs->rules[i]->pats[j].gid;

			if (last[g] != i + 1)
				freq[g]++;
			last[g] = (uint32_t)i + 1;
		}
	for (uint32_t g = 0; g < m->npat; g++) {
		size_t len = strlen(t->pat[g]->expr);

		pcost[g] = (uint64_t)freq[g] * 256 + 255 - (len < 255 ? len : 255);
	}
	k.pcost = pcost;
	k.nums = nums;
	for (int pass = 0; pass < 2; pass++) {
		memset(last, 0, (m->npat + 1) * sizeof(uint32_t));
		if (pass && ((fill = calloc(m->npat + 1, sizeof(uint32_t))) == NULL ||
		    (m->pr_rule = calloc(total + 1, sizeof(uint32_t))) == NULL ||
		    (m->num = calloc(nnum + 1, sizeof(*m->num))) == NULL ||
		    (m->numf = calloc(SOC_F_COUNT, sizeof(*m->numf))) == NULL))
			goto out;
		nnum = 0;
		for (size_t i = 0; i < rs->nrules; i++) {
			const struct rule *r = rs->rules[i];

			if (rule_keys(r, &k, &keys) == -1)
				goto out;
			for (size_t j = 0; j < keys.n; j++) {
				uint32_t g = keys.v[j];

				if (g & KEY_NUM) {
					const struct rule_node *nd =
					    &r->nodes[g & ~KEY_NUM];

					if (pass == 1)
						m->num[nnum] = (struct num_ent){
						    .value = nd->u.num,
						    .field = nd->field,
						    .rule = (uint32_t)i };
					nnum++;
					continue;
				}
				if (last[g] == i + 1)
					continue;
				last[g] = (uint32_t)i + 1;
				if (pass == 0) {
					m->pr_off[g + 1]++;
					total++;
				} else
					m->pr_rule[m->pr_off[g] + fill[g]++] = (uint32_t)i;
			}
		}
		if (pass == 0)
			for (uint32_t g = 0; g < m->npat; g++)
				m->pr_off[g + 1] += m->pr_off[g];
	}
	/* sorted; a rule listed twice under one value is considered once */
	if (nnum > 0)
		qsort(m->num, nnum, sizeof(*m->num), cmp_num);
	m->nnum = nnum;
	for (uint32_t i = 0; i < nnum; i++)
		if (m->nnumf == 0 || m->numf[m->nnumf - 1] != m->num[i].field)
			m->numf[m->nnumf++] = m->num[i].field;
	rc = 0;
out:
	free(keys.v);
	free(fill);
	free(freq);
	free(pcost);
	free(nums);
	free(last);
	return rc;
}

/*
 * The hash of a dataset name for match_db.ds_slot (match-hs.c): length
 * and three bytes, which tell the mapping's few dozen names apart and
 * cost less than hashing every byte (this runs once per event).
 */
uint32_t
match_ds_hash(const char *name, size_t len)
{
	uint32_t h;

	if (len == 0)
		return 0;
	h = (uint32_t)len * 0x9e3779b1u ^
	    (uint32_t)(unsigned char)name[len - 1] * 0x85ebca6bu ^
	    (uint32_t)(unsigned char)name[len / 2] * 0xc2b2ae35u ^
	    (uint32_t)(unsigned char)name[len / 3] * 0x27d4eb2fu;
	return (h ^ h >> 16) & (MATCH_DS_SLOTS - 1);
}

/* Dataset name -> index, open addressing; the names are the mapping's. */
static void
index_dataset_names(const struct ruleset *rs, struct match_db *m)
{
	for (int i = 0; i < rs->nds; i++) {
		uint32_t h = match_ds_hash(rs->ds_names[i], rs->ds_len[i]);

		while (m->ds_slot[h] != 0)
			h = (h + 1) & (MATCH_DS_SLOTS - 1);
		m->ds_slot[h] = (uint8_t)(i + 1);
	}
}

/* Dataset -> rules that must be evaluated even without a pattern hit. */
static int
index_datasets(struct ruleset *rs, struct match_db *m)
{
	uint32_t n = 0;

	if ((m->ds_off = calloc(RS_MAX_DATASETS + 1, sizeof(uint32_t))) == NULL)
		return -1;
	for (int d = 0; d < RS_MAX_DATASETS; d++) {
		m->ds_off[d] = n;
		for (size_t i = 0; i < rs->nrules; i++) {
			struct rule *r = rs->rules[i];

			m->dsmask |= r->dsmask;
			if (r->corr == NULL && !r->needs_key &&
			    (r->dsmask >> d & 1))
				n++;
		}
	}
	m->ds_off[RS_MAX_DATASETS] = n;
	if ((m->ds_rule = calloc(n + 1, sizeof(uint32_t))) == NULL)
		return -1;
	n = 0;
	for (int d = 0; d < RS_MAX_DATASETS; d++)
		for (size_t i = 0; i < rs->nrules; i++) {
			struct rule *r = rs->rules[i];

			if (r->corr == NULL && !r->needs_key &&
			    (r->dsmask >> d & 1))
				m->ds_rule[n++] = (uint32_t)i;
		}
	return 0;
}

#define U8FLAGS	(HS_FLAG_UTF8 | HS_FLAG_UCP)

/*
 * One database of the patterns of field whose UTF-8 flags are (u8) or
 * are not set, with them (keep) or without; *out NULL if there are none.
 */
static int
compile_db(struct match_db *m, const struct pat_tab *t, int field, bool u8,
    bool keep, hs_database_t **out, struct rs_load *ld)
{
	const char **exprs = NULL;
	unsigned int *flags = NULL, *ids = NULL, n = 0;
	hs_database_t *db = NULL;
	char err[256];
	int e, rc = -1;

	*out = NULL;
	if ((exprs = calloc(t->n, sizeof(*exprs))) == NULL ||
	    (flags = calloc(t->n, sizeof(*flags))) == NULL ||
	    (ids = calloc(t->n, sizeof(*ids))) == NULL)
		goto out;
	for (uint32_t g = 0; g < t->n; g++) {
		if (t->pat[g]->field != field || t->lit[g] ||
		    ((t->pat[g]->flags & HS_FLAG_UTF8) != 0) != u8)
			continue;
		exprs[n] = t->pat[g]->expr;
		flags[n] = t->pat[g]->flags | HS_FLAG_SINGLEMATCH;
		if (!keep)
			flags[n] &= ~(unsigned int)U8FLAGS;
		ids[n++] = g;
	}
	if (n == 0) {
		rc = 0;
		goto out;
	}
	if (match_hs_compile(exprs, flags, ids, n, RS_COMPILE_CPU_S,
	    (uint64_t)RS_COMPILE_MEM_MB << 20, &db, &e, err, sizeof(err)) == -1) {
		const struct rule *r = t->owner[ids[e >= 0 && (unsigned int)e < n ?
		    e : 0]];

		rs_report(ld, r->file, r->line, "Hyperscan: field %s, /%.200s/: %s",
		    soc_field_name(field), exprs[e >= 0 && (unsigned int)e < n ?
		    e : 0], err);
		goto out;
	}
	if (hs_alloc_scratch(db, &m->proto) != HS_SUCCESS) {
		rs_report(ld, "hyperscan", 0, "cannot allocate scratch");
		hs_free_database(db);
		goto out;
	}
	*out = db;
	rc = 0;
out:
	free(exprs);
	free(flags);
	free(ids);
	return rc;
}

/* The databases of one field; takes lit (may be NULL). */
static int
compile_field(struct match_db *m, const struct pat_tab *t, int field,
    struct lit_index *lit, struct rs_load *ld)
{
	struct match_field *mf = &m->fields[m->nfields];

	mf->field = field;
	mf->str = soc_field_type(field) == SOC_T_STR;
	if ((mf->lit = lit) != NULL && lit_finish(lit) == -1) {
		rs_report(ld, "rules", 0, "out of memory");
		lit_free(lit);
		return -1;
	}
	if (compile_db(m, t, field, false, false, &mf->db, ld) == -1 ||
	    compile_db(m, t, field, true, true, &mf->u8, ld) == -1 ||
	    compile_db(m, t, field, true, false, &mf->raw, ld) == -1) {
		hs_free_database(mf->db);
		hs_free_database(mf->u8);
		lit_free(mf->lit);
		return -1;
	}
	m->nfields++;
	return 0;
}

/*
 * Patterns that are anchored literals into their field's literal index
 * (match-lit.c) instead of Hyperscan, unless ld->hs_only.
 */
static int
split_literals(struct pat_tab *t, struct lit_index **lits, bool hs_only)
{
	char *buf = NULL;
	size_t cap = 0, len;
	bool fold;
	int kind, rc = -1;

	if ((t->lit = calloc(t->n + 1, sizeof(*t->lit))) == NULL)
		return -1;
	for (uint32_t g = 0; !hs_only && g < t->n; g++) {
		const struct rule_pat *p = t->pat[g];
		size_t need = strlen(p->expr) + 1;

		if (need > cap) {
			char *nb = realloc(buf, need);

			if (nb == NULL)
				goto out;
			buf = nb;
			cap = need;
		}
		if (!lit_parse(p->expr, p->flags, &kind, buf, &len, &fold))
			continue;
		if (lits[p->field] == NULL &&
		    (lits[p->field] = lit_new()) == NULL)
			goto out;
		if (lit_add(lits[p->field], kind, fold, buf, len, g) == -1)
			goto out;
		t->lit[g] = true;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

/*
 * Per-field tables span the fixed ids and the interned (dynamic) ones,
 * SOC_F_COUNT + SOC_F_DYN_MAX: a rule may name winlog.event_data.X.  The
 * fields with a database come in id order, so the fixed ones first
 * (m->nfixed of them), then the dynamic ones, which m->dynmf maps from
 * id - SOC_F_COUNT (index + 1) for the scan of an event's dynamic values.
 */
int
match_build(struct ruleset *rs, struct rs_load *ld)
{
	enum { NF = SOC_F_COUNT + SOC_F_DYN_MAX };
	struct pat_tab t = { 0 };
	struct match_db *m;
	struct lit_index **lits;
	bool *used;
	size_t nused = 0;
	int rc = -1;

	lits = calloc(NF, sizeof(*lits));
	used = calloc(NF, sizeof(*used));
	if (lits == NULL || used == NULL || (m = calloc(1, sizeof(*m))) == NULL) {
		free(lits);
		free(used);
		return -1;
	}
	rs->db = m;
	if (intern_all(rs, &t) == -1)
		goto out;
	m->npat = t.n;
	index_dataset_names(rs, m);
	if (index_keys(rs, m, &t) == -1 || index_datasets(rs, m) == -1 ||
	    split_literals(&t, lits, ld->hs_only) == -1)
		goto out;
	for (uint32_t g = 0; g < t.n; g++) {
		int f = t.pat[g]->field;

		if (f < 0 || f >= NF)
			goto out;
		if (!used[f])
			nused++;
		used[f] = true;
	}
	if ((m->fields = calloc(nused + 1, sizeof(*m->fields))) == NULL)
		goto out;
	for (int f = 0; f < NF; f++) {
		if (!used[f])
			continue;
		if (soc_field_dynamic(f) && m->dynmf == NULL &&
		    (m->dynmf = calloc(SOC_F_DYN_MAX, sizeof(*m->dynmf))) == NULL)
			goto out;
		if (compile_field(m, &t, f, lits[f], ld) == -1) {
			lits[f] = NULL;
			goto out;
		}
		lits[f] = NULL;
		if (soc_field_dynamic(f))
			m->dynmf[f - SOC_F_COUNT] = (uint32_t)m->nfields;
		else
			m->nfixed = m->nfields;
	}
	rc = 0;
out:
	for (int f = 0; f < NF; f++)
		lit_free(lits[f]);
	free(lits);
	free(used);
	free(t.slot);
	free(t.pat);
	free(t.owner);
	free(t.lit);
	return rc;
}

void
match_free(struct match_db *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nfields; i++) {
		hs_free_database(m->fields[i].db);
		hs_free_database(m->fields[i].u8);
		hs_free_database(m->fields[i].raw);
		lit_free(m->fields[i].lit);
	}
	free(m->fields);
	free(m->pr_off);
	free(m->pr_rule);
	free(m->ds_off);
	free(m->ds_rule);
	free(m->num);
	free(m->numf);
	free(m->dynmf);
	hs_free_scratch(m->proto);
	free(m);
}

