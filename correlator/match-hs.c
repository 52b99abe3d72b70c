/*
 * Compiling and matching.  Every string condition of every rule becomes a
 * Hyperscan expression; identical expressions on one field share an id.
 * The expressions of one field form one block-mode database
 * (HS_FLAG_SINGLEMATCH), so an event costs one hs_scan per field it
 * carries, whatever the number of rules.  A scan sets bits in the
 * scratch's hit bitmap; then only the rules that can be true are
 * evaluated: those a hit points at, plus, per dataset, the few whose
 * condition can hold without any hit (e.g. "not filter", numbers only).
 * Non-string conditions (numbers, cidr, exists, null) are read straight
 * from the event during that evaluation.
 *
 * Threading: a ruleset is read-only here except for the correlation state
 * (corr-window.c); use one rs_scratch per thread and serialise
 * ruleset_match() calls on one ruleset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hs/hs.h>

#include "soc/hash.h"
#include "soc/log.h"
#include "rule-int.h"

/*
 * A field's databases: db for the byte-mode patterns, and for the regexes
 * compiled in UTF-8 mode (one character per '.', Unicode case folding)
 * u8 and, for a value that is not valid UTF-8, the same patterns in byte
 * mode (raw), so such a value still matches bytewise.  Any may be NULL.
 */
struct match_field {
	int		 field;
	hs_database_t	*db, *u8, *raw;
};

/* An integer equality of a rule, indexed: (field, value) -> rule. */
struct num_ent {
	int64_t		 value;
	int32_t		 field;
	uint32_t	 rule;
};

struct match_db {
	struct match_field *fields;	/* fields that have a database */
	size_t		 nfields;
	struct num_ent	*num;		/* sorted by field, value */
	uint32_t	 nnum;
	int		*numf;		/* distinct fields in num */
	size_t		 nnumf;
	uint32_t	 npat;
	uint32_t	*pr_off;	/* pattern -> rules: [pr_off[g], pr_off[g+1]) */
	uint32_t	*pr_rule;
	uint32_t	*ds_off;	/* dataset -> rules evaluated without hit */
	uint32_t	*ds_rule;
	uint64_t	 dsmask;	/* datasets some rule applies to */
	hs_scratch_t	*proto;		/* cloned by rs_scratch_new */
};

struct rs_scratch {
	hs_scratch_t	*hs;
	uint64_t	*bits;		/* pattern hit bitmap */
	uint32_t	*hits;		/* ids set in bits, to clear them */
	uint32_t	 nhits;
	uint32_t	*seen;		/* per rule: epoch last evaluated */
	uint32_t	*matched;	/* rules matched by this event */
	uint32_t	 epoch;
};

/* Interning table while building: (field, flags, expr) -> global id. */
struct pat_tab {
	uint32_t	*slot;		/* gid + 1, 0 empty */
	size_t		 size;		/* power of two */
	const struct rule_pat **pat;	/* by gid (not owned) */
	const struct rule **owner;	/* first rule using it */
	uint32_t	 n, cap;
};

int
match_check_regex(const char *expr, unsigned int flags, char *err,
    size_t errlen)
{
	hs_database_t *db = NULL;
	hs_compile_error_t *cerr = NULL;

	if (hs_compile(expr, flags | HS_FLAG_SINGLEMATCH, HS_MODE_BLOCK, NULL,
	    &db, &cerr) != HS_SUCCESS) {
		snprintf(err, errlen, "%s", cerr ? cerr->message : "compile error");
		hs_free_compile_error(cerr);
		return -1;
	}
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
		if (r->corr == NULL) {
			r->needs_hit = tri(r, r->root, false) == 0;
			r->needs_num = !r->needs_hit && tri(r, r->root, true) == 0;
		}
	}
	return 0;
}

#define COST_INF	UINT64_MAX

/*
 * What it costs to index a rule under a set of patterns one of which must
 * hit for the node to hold (the rules those patterns point at, summed):
 * a pattern alone; the cheapest child of an AND; every child of an OR;
 * COST_INF when no such set exists (not, numbers, exists, ...).
 */
static uint64_t
key_cost(const struct rule *r, uint32_t n, const uint32_t *freq)
{
	const struct rule_node *nd = &r->nodes[n];
	uint64_t best, c, sum = 0;

	switch (nd->type) {
	case RN_PAT:
		return freq[nd->u.pat];
	case RN_FALSE:
		return 0;
	case RN_AND:
		best = COST_INF;
		for (uint32_t i = 0; i < nd->nkids; i++)
			if ((c = key_cost(r, r->kids[nd->kid + i], freq)) < best)
				best = c;
		return best;
	case RN_OR:
		for (uint32_t i = 0; i < nd->nkids; i++) {
			if ((c = key_cost(r, r->kids[nd->kid + i], freq)) == COST_INF)
				return COST_INF;
			sum += c;
		}
		return sum;
	default:
		return COST_INF;
	}
}

/* The patterns key_cost chose, into keys (gids). */
static int
key_mark(const struct rule *r, uint32_t n, const uint32_t *freq,
    struct rule_ivec *keys)
{
	const struct rule_node *nd = &r->nodes[n];
	uint64_t best = COST_INF, c;
	uint32_t pick = 0;

	switch (nd->type) {
	case RN_PAT:
		return rule_ivec_push(keys, nd->u.pat);
	case RN_AND:
		for (uint32_t i = 0; i < nd->nkids; i++)
			if ((c = key_cost(r, r->kids[nd->kid + i], freq)) < best) {
				best = c;
				pick = r->kids[nd->kid + i];
			}
		return key_mark(r, pick, freq, keys);
	case RN_OR:
		for (uint32_t i = 0; i < nd->nkids; i++)
			if (key_mark(r, r->kids[nd->kid + i], freq, keys) == -1)
				return -1;
		return 0;
	default:
		return 0;
	}
}

/*
 * The patterns a rule is indexed under: a set one of which must hit for
 * the rule to hold, chosen to point at few other rules (a shared
 * "method: POST" does not make every POST evaluate every rule that has
 * it), else all its patterns.
 */
static int
rule_keys(const struct rule *r, const uint32_t *freq, struct rule_ivec *keys)
{
	keys->n = 0;
	if (r->corr == NULL && r->needs_hit &&
	    key_cost(r, r->root, freq) != COST_INF)
		return key_mark(r, r->root, freq, keys);
	for (uint32_t j = 0; j < r->npats; j++)
		if (rule_ivec_push(keys, r->pats[j].gid) == -1)
			return -1;
	return 0;
}

/* Pattern -> rules (CSR, each rule once per pattern). */
static int
index_patterns(struct ruleset *rs, struct match_db *m)
{
	uint32_t *last, *fill = NULL, *freq, total = 0;
	struct rule_ivec keys = { 0 };
	int rc = -1;

	if ((m->pr_off = calloc(m->npat + 1, sizeof(uint32_t))) == NULL ||
	    (last = calloc(m->npat + 1, sizeof(uint32_t))) == NULL)
		return -1;
	if ((freq = calloc(m->npat + 1, sizeof(uint32_t))) == NULL)
		goto out;
	for (size_t i = 0; i < rs->nrules; i++)	/* rules per pattern */
		for (uint32_t j = 0; j < rs->rules[i]->npats; j++) {
			uint32_t g = rs->rules[i]->pats[j].gid;

			if (last[g] != i + 1)
				freq[g]++;
			last[g] = (uint32_t)i + 1;
		}
	for (int pass = 0; pass < 2; pass++) {
		memset(last, 0, (m->npat + 1) * sizeof(uint32_t));
		if (pass && ((fill = calloc(m->npat + 1, sizeof(uint32_t))) == NULL ||
		    (m->pr_rule = calloc(total + 1, sizeof(uint32_t))) == NULL))
			goto out;
		for (size_t i = 0; i < rs->nrules; i++) {
			if (rule_keys(rs->rules[i], freq, &keys) == -1)
				goto out;
			for (size_t j = 0; j < keys.n; j++) {
				uint32_t g = keys.v[j];

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
	rc = 0;
out:
	free(keys.v);
	free(fill);
	free(freq);
	free(last);
	return rc;
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
			if (r->corr == NULL && !r->needs_hit && !r->needs_num &&
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

			if (r->corr == NULL && !r->needs_hit && !r->needs_num &&
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
	hs_compile_error_t *cerr = NULL;
	hs_database_t *db = NULL;
	int rc = -1;

	*out = NULL;
	if ((exprs = calloc(t->n, sizeof(*exprs))) == NULL ||
	    (flags = calloc(t->n, sizeof(*flags))) == NULL ||
	    (ids = calloc(t->n, sizeof(*ids))) == NULL)
		goto out;
	for (uint32_t g = 0; g < t->n; g++) {
		if (t->pat[g]->field != field ||
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
	if (hs_compile_multi(exprs, flags, ids, n, HS_MODE_BLOCK, NULL, &db,
	    &cerr) != HS_SUCCESS) {
		int e = cerr && cerr->expression >= 0 ? cerr->expression : 0;
		const struct rule *r = t->owner[ids[e]];

		rs_report(ld, r->file, r->line, "Hyperscan: field %s, /%s/: %s",
		    soc_field_name(field), exprs[e],
		    cerr ? cerr->message : "compile error");
		hs_free_compile_error(cerr);
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

/* The databases of one field. */
static int
compile_field(struct match_db *m, const struct pat_tab *t, int field,
    struct rs_load *ld)
{
	struct match_field *mf = &m->fields[m->nfields];

	mf->field = field;
	if (compile_db(m, t, field, false, false, &mf->db, ld) == -1 ||
	    compile_db(m, t, field, true, true, &mf->u8, ld) == -1 ||
	    compile_db(m, t, field, true, false, &mf->raw, ld) == -1) {
		hs_free_database(mf->db);
		hs_free_database(mf->u8);
		return -1;
	}
	m->nfields++;
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

/*
 * (field, value) -> rules that cannot hold unless a pattern hits or one
 * of their integer equalities holds (port lists, status codes): such a
 * rule is evaluated only for events carrying one of its values, not for
 * every event of its datasets.
 */
static int
index_numbers(struct ruleset *rs, struct match_db *m)
{
	uint32_t n = 0, cap = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < rs->nrules; i++) {
			const struct rule *r = rs->rules[i];

			for (uint32_t j = 0; r->needs_num && j < r->nnodes; j++) {
				const struct rule_node *nd = &r->nodes[j];

				if (nd->type != RN_NUM || nd->op != RN_EQ)
					continue;
				if (pass == 1)
					m->num[n] = (struct num_ent){ .value = nd->u.num,
					    .field = nd->field, .rule = (uint32_t)i };
				n++;
			}
		}
		if (pass == 0) {
			cap = n;
			n = 0;
			if ((m->num = calloc(cap + 1, sizeof(*m->num))) == NULL ||
			    (m->numf = calloc(SOC_F_COUNT, sizeof(*m->numf))) == NULL)
				return -1;
		}
	}
	qsort(m->num, n, sizeof(*m->num), cmp_num);
	m->nnum = n;
	for (uint32_t i = 0; i < n; i++)
		if (m->nnumf == 0 || m->numf[m->nnumf - 1] != m->num[i].field)
			m->numf[m->nnumf++] = m->num[i].field;
	return 0;
}

int
match_build(struct ruleset *rs, struct rs_load *ld)
{
	struct pat_tab t = { 0 };
	struct match_db *m;
	bool used[SOC_F_COUNT] = { false };
	int rc = -1;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	rs->db = m;
	if (intern_all(rs, &t) == -1)
		goto out;
	m->npat = t.n;
	if (index_patterns(rs, m) == -1 || index_datasets(rs, m) == -1 ||
	    index_numbers(rs, m) == -1)
		goto out;
	for (uint32_t g = 0; g < t.n; g++)
		used[t.pat[g]->field] = true;
	if ((m->fields = calloc(SOC_F_COUNT, sizeof(*m->fields))) == NULL)
		goto out;
	for (int f = 0; f < SOC_F_COUNT; f++)
		if (used[f] && compile_field(m, &t, f, ld) == -1)
			goto out;
	rc = 0;
out:
	free(t.slot);
	free(t.pat);
	free(t.owner);
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
	}
	free(m->fields);
	free(m->pr_off);
	free(m->pr_rule);
	free(m->ds_off);
	free(m->ds_rule);
	free(m->num);
	free(m->numf);
	hs_free_scratch(m->proto);
	free(m);
}

struct rs_scratch *
rs_scratch_new(const struct ruleset *rs)
{
	const struct match_db *m = rs->db;
	struct rs_scratch *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((m->proto != NULL && hs_clone_scratch(m->proto, &s->hs) != HS_SUCCESS) ||
	    (s->bits = calloc((m->npat + 64) / 64, sizeof(uint64_t))) == NULL ||
	    (s->hits = calloc(m->npat + 1, sizeof(uint32_t))) == NULL ||
	    (s->seen = calloc(rs->nrules + 1, sizeof(uint32_t))) == NULL ||
	    (s->matched = calloc(rs->nrules + 1, sizeof(uint32_t))) == NULL) {
		rs_scratch_free(s);
		return NULL;
	}
	return s;
}

void
rs_scratch_free(struct rs_scratch *s)
{
	if (s == NULL)
		return;
	hs_free_scratch(s->hs);
	free(s->bits);
	free(s->hits);
	free(s->seen);
	free(s->matched);
	free(s);
}

/* ---------------------------------------------------------------- */
/* matching */

static int
on_hit(unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *ctx)
{
	struct rs_scratch *s = ctx;

	(void)from;
	(void)to;
	(void)flags;
	if (!(s->bits[id / 64] >> (id % 64) & 1)) {
		s->bits[id / 64] |= 1ULL << (id % 64);
		s->hits[s->nhits++] = id;
	}
	return 0;
}

static bool
cidr_in(const struct soc_ip *ip, const struct rule_node *nd)
{
	const struct soc_ip *net = &nd->u.cidr.ip;
	unsigned int bits = nd->u.cidr.plen, full = bits / 8, rem = bits % 8;

	if (ip->family != net->family)
		return false;
	if (memcmp(ip->addr, net->addr, full) != 0)
		return false;
	if (rem == 0)
		return true;
	return ((ip->addr[full] ^ net->addr[full]) & (0xff << (8 - rem)) & 0xff) == 0;
}

static bool
num_cmp(int64_t v, const struct rule_node *nd)
{
	switch (nd->op) {
	case RN_EQ: return v == nd->u.num;
	case RN_GT: return v > nd->u.num;
	case RN_GTE: return v >= nd->u.num;
	case RN_LT: return v < nd->u.num;
	default: return v <= nd->u.num;
	}
}

/* The Sigma time modifiers' parts of t (ns, UTC). */
static int64_t
time_part(int64_t t, int part)
{
	time_t sec = (time_t)(t / 1000000000LL - (t % 1000000000LL < 0));
	struct tm tm;
	char wk[8];

	if (gmtime_r(&sec, &tm) == NULL)
		return -1;
	switch (part) {
	case TP_MINUTE: return tm.tm_min;
	case TP_HOUR: return tm.tm_hour;
	case TP_DAY: return tm.tm_mday;
	case TP_MONTH: return tm.tm_mon + 1;
	case TP_YEAR: return tm.tm_year + 1900LL;
	default:		/* ISO 8601 week, 1..53 */
		strftime(wk, sizeof(wk), "%V", &tm);
		return atoi(wk);
	}
}

static bool
time_cmp(const struct rule_node *nd, const struct soc_event *ev)
{
	int64_t t;

	if (nd->field == RS_F_TIMESTAMP)
		t = ev->ts;
	else if (soc_event_has(ev, nd->field))
		t = ev->val[nd->field].i;
	else
		return false;
	return num_cmp(time_part(t, (int)nd->kid), nd);
}

/* Two fields' values, as text, byte for byte. */
static bool
fieldref_eq(const struct rule_node *nd, const struct soc_event *ev)
{
	char a[512], b[512];
	int la, lb;
	const char *pa, *pb;
	size_t na, nb;

	if (soc_field_type(nd->field) == SOC_T_STR &&
	    soc_field_type((int)nd->u.num) == SOC_T_STR) {
		pa = soc_event_str(ev, nd->field, &na);
		pb = soc_event_str(ev, (int)nd->u.num, &nb);
		return pa != NULL && pb != NULL && na == nb &&
		    memcmp(pa, pb, na) == 0;
	}
	la = soc_event_text(ev, nd->field, a, sizeof(a));
	lb = soc_event_text(ev, (int)nd->u.num, b, sizeof(b));
	return la >= 0 && la == lb && memcmp(a, b, (size_t)la) == 0;
}

static bool
eval(const struct rule *r, uint32_t n, const struct soc_event *ev,
    const uint64_t *bits)
{
	const struct rule_node *nd = &r->nodes[n];
	size_t len;

	switch (nd->type) {
	case RN_PAT:
		return bits[nd->u.pat / 64] >> (nd->u.pat % 64) & 1;
	case RN_TRUE:
		return true;
	case RN_FALSE:
		return false;
	case RN_EXISTS:
		return soc_event_has(ev, nd->field) == nd->u.exists;
	case RN_EMPTY:
		return soc_event_str(ev, nd->field, &len) != NULL && len == 0;
	case RN_NUM:
		return soc_event_has(ev, nd->field) &&
		    num_cmp(ev->val[nd->field].i, nd);
	case RN_CIDR:
		return soc_event_has(ev, nd->field) &&
		    cidr_in(&ev->val[nd->field].ip, nd);
	case RN_TIME:
		return time_cmp(nd, ev);
	case RN_FIELDREF:
		return fieldref_eq(nd, ev);
	case RN_NOT:
		return !eval(r, r->kids[nd->kid], ev, bits);
	case RN_AND:
		for (uint32_t i = 0; i < nd->nkids; i++)
			if (!eval(r, r->kids[nd->kid + i], ev, bits))
				return false;
		return true;
	case RN_OR:
		for (uint32_t i = 0; i < nd->nkids; i++)
			if (eval(r, r->kids[nd->kid + i], ev, bits))
				return true;
		return false;
	}
	return false;
}

static int
dataset_of(const struct ruleset *rs, const struct soc_event *ev)
{
	size_t len;
	const char *d = soc_event_str(ev, SOC_F_EVENT_DATASET, &len);

	if (d == NULL)
		return -1;
	for (int i = 0; i < rs->nds; i++)
		if (rs->ds_len[i] == len && memcmp(rs->ds_names[i], d, len) == 0)
			return i;
	return -1;
}

/* Well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
static bool
utf8_valid(const unsigned char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		else
			return false;
		for (size_t k = 1; k <= n; k++)
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
				return false;
		if ((c == 0xe0 && p[i + 1] < 0xa0) || (c == 0xed && p[i + 1] > 0x9f) ||
		    (c == 0xf0 && p[i + 1] < 0x90) || (c == 0xf4 && p[i + 1] > 0x8f))
			return false;
		i += n + 1;
	}
	return true;
}

static int
scan_one(hs_database_t *db, const char *p, size_t len, struct rs_scratch *s,
    int f)
{
	hs_error_t e;

	if (db == NULL)
		return 0;
	e = hs_scan(db, p, (unsigned int)len, 0, s->hs, on_hit, s);
	if (e != HS_SUCCESS) {
		log_warnx("hs_scan on %s failed: %d", soc_field_name(f), e);
		return -1;
	}
	return 0;
}

/* hs_scan per field that has a database and a value (two with regexes). */
static int
scan_fields(const struct match_db *m, struct rs_scratch *s,
    const struct soc_event *ev)
{
	char buf[128];
	const char *p;
	size_t len;

	for (size_t i = 0; i < m->nfields; i++) {
		const struct match_field *mf = &m->fields[i];
		int f = mf->field;

		if (!soc_event_has(ev, f))
			continue;
		if (soc_field_type(f) == SOC_T_STR) {
			p = soc_event_str(ev, f, &len);
		} else {
			int n = soc_event_text(ev, f, buf, sizeof(buf));

			if (n < 0)
				continue;
			p = buf;
			len = (size_t)n;
		}
		if (scan_one(mf->db, p, len, s, f) == -1)
			return -1;
		if (mf->u8 != NULL && scan_one(utf8_valid((const unsigned char *)p,
		    len) ? mf->u8 : mf->raw, p, len, s, f) == -1)
			return -1;
	}
	return 0;
}

static void
consider(const struct ruleset *rs, struct rs_scratch *s, uint32_t ri,
    uint64_t dsbit, const struct soc_event *ev, uint32_t *nmatched)
{
	const struct rule *r = rs->rules[ri];

	if (s->seen[ri] == s->epoch || !(r->dsmask & dsbit))
		return;
	s->seen[ri] = s->epoch;
	if (eval(r, r->root, ev, s->bits))
		s->matched[(*nmatched)++] = ri;
}

/* The rules with an equality on field f that this event's value meets. */
static void
consider_num(const struct ruleset *rs, struct rs_scratch *s, int f,
    uint64_t dsbit, const struct soc_event *ev, uint32_t *nmatched)
{
	const struct match_db *m = rs->db;
	uint32_t lo = 0, hi = m->nnum;
	int64_t v;

	if (!soc_event_has(ev, f))
		return;
	v = ev->val[f].i;
	while (lo < hi) {		/* first entry >= (f, v) */
		uint32_t mid = lo + (hi - lo) / 2;
		const struct num_ent *e = &m->num[mid];

		if (e->field < f || (e->field == f && e->value < v))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < m->nnum && m->num[lo].field == f && m->num[lo].value == v; lo++)
		consider(rs, s, m->num[lo].rule, dsbit, ev, nmatched);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
new_epoch(const struct ruleset *rs, struct rs_scratch *s)
{
	if (++s->epoch == 0) {
		memset(s->seen, 0, rs->nrules * sizeof(*s->seen));
		s->epoch = 1;
	}
}

/*
 * Group key of a single-event alert: incidents of one rule aggregate per
 * attacker or per host, as an analyst works them -- "source.ip=A", else
 * "host.hostname=H", else "" (one incident per rule and agency).
 */
static const char *
single_group_key(const struct soc_event *ev, char *buf, size_t cap)
{
	static const int fields[] = { SOC_F_SOURCE_IP, SOC_F_HOST_HOSTNAME };
	char val[256];

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (soc_event_text(ev, fields[i], val, sizeof(val)) >= 0) {
			snprintf(buf, cap, "%s=%s", soc_field_name(fields[i]), val);
			return buf;
		}
	return "";
}

/* Alerts for the matched rules, in rule order; returns their number. */
static int
fire(struct ruleset *rs, struct rs_scratch *s, uint32_t nmatched,
    const struct soc_event *ev, rs_alert_fn fn, void *arg)
{
	int nalerts = 0;

	qsort(s->matched, nmatched, sizeof(*s->matched), cmp_u32);
	corr_next_event(rs->cs);
	for (uint32_t i = 0; i < nmatched; i++) {
		const struct rule *r = rs->rules[s->matched[i]];

		if (r->generate) {
			char key[320];
			struct rs_alert a = { .rule = r, .event = ev,
			    .group_key = single_group_key(ev, key, sizeof(key)),
			    .first_ts = ev->ts, .last_ts = ev->ts, .count = 1 };

			if (fn != NULL)
				fn(arg, &a);
			nalerts++;
		}
		if (r->nfeeds > 0)
			nalerts += corr_feed(rs, r, ev, fn, arg);
	}
	return nalerts;
}

/* The floor for bench/engine: the scans alone, no evaluation. */
int
match_scan_floor(const struct ruleset *rs, struct rs_scratch *s,
    const struct soc_event *ev)
{
	int rc = scan_fields(rs->db, s, ev);

	for (uint32_t h = 0; h < s->nhits; h++)
		s->bits[s->hits[h] / 64] &= ~(1ULL << (s->hits[h] % 64));
	s->nhits = 0;
	return rc;
}

/* Bytes of every Hyperscan database of the ruleset. */
size_t
match_db_bytes(const struct ruleset *rs)
{
	const struct match_db *m = rs->db;
	size_t total = 0, n;

	for (size_t i = 0; i < m->nfields; i++) {
		hs_database_t *d[3] = { m->fields[i].db, m->fields[i].u8,
		    m->fields[i].raw };

		for (int j = 0; j < 3; j++)
			if (d[j] != NULL && hs_database_size(d[j], &n) == HS_SUCCESS)
				total += n;
	}
	return total;
}

int
ruleset_match(struct ruleset *rs, struct rs_scratch *s,
    const struct soc_event *ev, rs_alert_fn fn, void *arg)
{
	const struct match_db *m = rs->db;
	uint32_t nmatched = 0;
	uint64_t dsbit;
	int ds, rc;

	if ((ds = dataset_of(rs, ev)) == -1 || !(m->dsmask >> ds & 1))
		return 0;
	dsbit = 1ULL << ds;
	rc = scan_fields(m, s, ev);
	new_epoch(rs, s);
	for (uint32_t h = 0; rc == 0 && h < s->nhits; h++) {
		uint32_t g = s->hits[h];

		for (uint32_t k = m->pr_off[g]; k < m->pr_off[g + 1]; k++)
			consider(rs, s, m->pr_rule[k], dsbit, ev, &nmatched);
	}
	for (uint32_t k = m->ds_off[ds]; rc == 0 && k < m->ds_off[ds + 1]; k++)
		consider(rs, s, m->ds_rule[k], dsbit, ev, &nmatched);
	for (size_t f = 0; rc == 0 && f < m->nnumf; f++)
		consider_num(rs, s, m->numf[f], dsbit, ev, &nmatched);
	for (uint32_t h = 0; h < s->nhits; h++)
		s->bits[s->hits[h] / 64] &= ~(1ULL << (s->hits[h] % 64));
	s->nhits = 0;
	if (rc == -1)
		return -1;
	return fire(rs, s, nmatched, ev, fn, arg);
}
