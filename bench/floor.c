/*
 * The floor of the engine benchmarks (bench/engine.c, bench/engine-jsonl.c):
 * what Hyperscan alone does with a ruleset's patterns.  Every string
 * pattern of the loaded rules (their Hyperscan expressions and flags,
 * each distinct one once per field, as match-build.c interns them) in one
 * block-mode database per field, and one bare hs_scan per field an event
 * carries with a callback that only counts.  It does not depend on how
 * the engine indexes (the engine keeps exact, prefix and suffix literals
 * out of Hyperscan, match-lit.c), so the engine may beat it.
 *
 * Reads librules' internal struct rule (rule-int.h) for the patterns: a
 * benchmark may look inside what it measures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hs/hs.h>

#include "floor.h"

uint64_t	 en_hits;

double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
en_hit(unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *ctx)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	(void)ctx;
	en_hits++;
	return 0;
}

/* Orders patterns by field, flags, expression, so duplicates sit together. */
static int
en_cmp(const void *a, const void *b)
{
	const struct rule_pat *p = *(const struct rule_pat *const *)a;
	const struct rule_pat *q = *(const struct rule_pat *const *)b;

	if (p->field != q->field)
		return p->field < q->field ? -1 : 1;
	if (p->flags != q->flags)
		return p->flags < q->flags ? -1 : 1;
	return strcmp(p->expr, q->expr);
}

/* The floor's databases: the loaded rules' patterns, one per field. */
int
en_floor_build(const struct ruleset *rs, struct en_floor *fl)
{
	const struct rule_pat **pv = NULL;
	const char **ex = NULL;
	unsigned int *fg = NULL, *id = NULL;
	hs_compile_error_t *cerr = NULL;
	size_t n = 0, cap = 0, m;
	double t0;
	int rc = -1;

	for (size_t i = 0; i < ruleset_count(rs); i++) {
		const struct rule *r = ruleset_rule(rs, i);

		for (uint32_t k = 0; k < r->npats; k++) {
			if (n == cap) {
				cap = cap ? cap * 2 : 1024;
				if ((pv = reallocarray(pv, cap, sizeof(*pv))) == NULL)
					goto out;
			}
			pv[n++] = &r->pats[k];
		}
	}
	if ((ex = calloc(n + 1, sizeof(*ex))) == NULL ||
	    (fg = calloc(n + 1, sizeof(*fg))) == NULL ||
	    (id = calloc(n + 1, sizeof(*id))) == NULL)
		goto out;
	t0 = bench_now();
	qsort(pv, n, sizeof(*pv), en_cmp);
	for (size_t i = 0; i < n;) {
		hs_database_t *db = NULL;
		int f = pv[i]->field;
		size_t nu = 0;

		/* the field's patterns, each distinct one once (as interned) */
		for (; i < n && pv[i]->field == f; i++) {
			if (nu > 0 && en_cmp(&pv[i], &pv[i - 1]) == 0)
				continue;
			fg[nu] = pv[i]->flags | HS_FLAG_SINGLEMATCH;
			id[nu] = (unsigned int)nu;
			ex[nu++] = pv[i]->expr;
		}
		if (hs_compile_multi(ex, fg, id, (unsigned int)nu, HS_MODE_BLOCK,
		    NULL, &db, &cerr) != HS_SUCCESS) {
			fprintf(stderr, "engine: hs_compile_multi: %s\n",
			    cerr ? cerr->message : "error");
			hs_free_compile_error(cerr);
			goto out;
		}
		if (hs_alloc_scratch(db, &fl->scratch) != HS_SUCCESS)
			goto out;
		hs_database_size(db, &m);
		fl->bytes += m;
		fl->npat += nu;
		fl->f[fl->nf].field = f;
		fl->f[fl->nf++].db = db;
	}
	fl->compile_s = bench_now() - t0;
	rc = 0;
out:
	free(pv);
	free(ex);
	free(fg);
	free(id);
	return rc;
}

/* Bare scans: one hs_scan per field with a database and a value. */
void
en_floor_scan(const struct en_floor *fl, const struct soc_event *ev)
{
	char buf[128];
	const char *p;
	size_t len;

	for (size_t i = 0; i < fl->nf; i++) {
		int f = fl->f[i].field;

		if (!soc_event_has(ev, f))
			continue;
		if (soc_field_type(f) == SOC_T_STR)
			p = soc_event_str(ev, f, &len);
		else {
			int k = soc_event_text(ev, f, buf, sizeof(buf));

			if (k < 0)
				continue;
			p = buf;
			len = (size_t)k;
		}
		hs_scan(fl->f[i].db, p, (unsigned int)len, 0, fl->scratch,
		    en_hit, NULL);
	}
}

void
en_floor_free(struct en_floor *fl)
{
	for (size_t i = 0; i < fl->nf; i++)
		hs_free_database(fl->f[i].db);
	hs_free_scratch(fl->scratch);
	memset(fl, 0, sizeof(*fl));
}
