/*
 * Anchored literals out of Hyperscan: a field's patterns that are a plain
 * string equal to the whole value, or to its start or its end (Sigma's
 * plain values, startswith, endswith without wildcards), looked up in a
 * hash table instead of scanned.
 *
 * Why: Hyperscan's literal matcher filters on a few bytes of each
 * literal, and thousands of literals that share those bytes (a list of
 * bad domains all ending in ".com", user names ending in digits) make
 * every occurrence of them a confirm storm: 2,500 `endswith` domains cost
 * 160 times what 250 do.  Here a value costs one pass over its bytes (a
 * running hash forwards for exact and prefix keys, backwards for suffix
 * keys) and, per distinct literal length at most the value's, one bit of
 * a filter; the table is probed only when the filter bit is set, and a
 * probe is confirmed byte for byte.  The cost depends on the lengths
 * present, not on the number of literals.
 *
 * Semantics are Hyperscan's for the same expression: caseless folds ASCII
 * letters only (no HS_FLAG_UTF8 on these), bytes are compared as bytes.
 * Contains literals stay in Hyperscan (no anchor to hash from).
 */
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "match-int.h"

#define LIT_FILTER_BITS	16		/* 8 KiB filter */

struct lit_ent {
	uint64_t	 key;
	uint32_t	 gid;
	uint32_t	 off;		/* bytes in pool (folded if caseless) */
	uint32_t	 len;
	uint8_t		 kind;		/* LIT_* */
	uint8_t		 fold;
};

struct lit_index {
	struct lit_ent	*ent;
	uint32_t	 nent, cap;
	uint32_t	*slot;		/* entry + 1, 0 empty */
	uint32_t	 mask;		/* slots - 1 */
	char		*pool;
	size_t		 npool, poolcap;
	uint32_t	*lens[LIT_KINDS];	/* distinct lengths, ascending */
	uint32_t	 nlens[LIT_KINDS];
	uint32_t	 maxlen[LIT_KINDS];
	bool		 has[LIT_KINDS][2];	/* [kind][fold] present */
	uint64_t	 filter[(1u << LIT_FILTER_BITS) / 64];
};

static inline unsigned char
lit_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static inline uint64_t
lit_step(uint64_t h, unsigned char c)
{
	return (h ^ c) * 0x100000001b3ULL;
}

#define LIT_BASIS	0xcbf29ce484222325ULL

/* The table key of a running hash: kind, fold and length mixed in. */
static inline uint64_t
lit_key(uint64_t h, int kind, int fold, uint32_t len)
{
	h ^= ((uint64_t)len << 8 | (uint64_t)kind << 1 | (uint64_t)fold) *
	    0x9e3779b97f4a7c15ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static inline bool
lit_filter_has(const struct lit_index *x, uint64_t key)
{
	uint64_t b = key >> (64 - LIT_FILTER_BITS);

	return x->filter[b / 64] >> (b % 64) & 1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Is expr (with flags) an anchored literal as rule-value.c writes them:
 * "^" and/or "\z" around letters, digits and \xHH escapes, no flag but
 * caseless, dot-all (no dot here) and single-match?  Fills kind, the
 * bytes (out, at least strlen(expr) long) and their length.
 */
bool
lit_parse(const char *expr, unsigned int flags, int *kind, char *out,
    size_t *len, bool *caseless)
{
	size_t n = strlen(expr), o = 0, i = 0;
	bool as = false, ae = false;

	if (flags & ~(unsigned int)(HS_FLAG_CASELESS | HS_FLAG_DOTALL |
	    HS_FLAG_SINGLEMATCH))
		return false;
	if (n > 0 && expr[0] == '^') {
		as = true;
		i = 1;
	}
	if (n >= 2 && expr[n - 2] == '\\' && expr[n - 1] == 'z' &&
	    (n < 3 || expr[n - 3] != '\\')) {
		ae = true;
		n -= 2;
	}
	if (!as && !ae)
		return false;
	while (i < n) {
		char c = expr[i];

		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z')) {
			out[o++] = c;
			i++;
		} else if (c == '\\' && i + 3 < n && expr[i + 1] == 'x' &&
		    hexval(expr[i + 2]) >= 0 && hexval(expr[i + 3]) >= 0) {
			out[o++] = (char)(hexval(expr[i + 2]) << 4 |
			    hexval(expr[i + 3]));
			i += 4;
		} else
			return false;
	}
	if (o == 0)
		return false;
	*kind = as && ae ? LIT_EXACT : as ? LIT_PREFIX : LIT_SUFFIX;
	*len = o;
	*caseless = (flags & HS_FLAG_CASELESS) != 0;
	return true;
}

struct lit_index *
lit_new(void)
{
	return calloc(1, sizeof(struct lit_index));
}

void
lit_free(struct lit_index *x)
{
	if (x == NULL)
		return;
	free(x->ent);
	free(x->slot);
	free(x->pool);
	for (int k = 0; k < LIT_KINDS; k++)
		free(x->lens[k]);
	free(x);
}

/* The running hash of b as a key of kind: forwards, or backwards. */
static uint64_t
lit_hash(const char *b, size_t len, int kind)
{
	uint64_t h = LIT_BASIS;

	for (size_t i = 0; i < len; i++)
		h = lit_step(h, (unsigned char)b[kind == LIT_SUFFIX ?
		    len - 1 - i : i]);
	return h;
}

int
lit_add(struct lit_index *x, int kind, bool caseless, const char *b,
    size_t len, uint32_t gid)
{
	struct lit_ent *e;

	if (len > UINT32_MAX / 2)
		return -1;
	if (x->nent == x->cap) {
		uint32_t ncap = x->cap ? x->cap * 2 : 64;
		struct lit_ent *ne = reallocarray(x->ent, ncap, sizeof(*ne));

		if (ne == NULL)
			return -1;
		x->ent = ne;
		x->cap = ncap;
	}
	if (x->npool + len > x->poolcap) {
		size_t ncap = (x->poolcap + len) * 2;
		char *np = realloc(x->pool, ncap);

		if (np == NULL)
			return -1;
		x->pool = np;
		x->poolcap = ncap;
	}
	e = &x->ent[x->nent];
	e->off = (uint32_t)x->npool;
	for (size_t i = 0; i < len; i++)
		x->pool[x->npool++] = caseless ? (char)lit_lower((unsigned char)b[i]) :
		    b[i];
	e->len = (uint32_t)len;
	e->kind = (uint8_t)kind;
	e->fold = caseless;
	e->gid = gid;
	e->key = lit_key(lit_hash(x->pool + e->off, len, kind), kind, caseless,
	    e->len);
	x->nent++;
	return 0;
}

/* The table, the filter and the length lists, once every literal is in. */
int
lit_finish(struct lit_index *x)
{
	uint32_t size = 16;

	while (size < x->nent * 2)
		size *= 2;
	if ((x->slot = calloc(size, sizeof(*x->slot))) == NULL)
		return -1;
	x->mask = size - 1;
	for (uint32_t i = 0; i < x->nent; i++) {
		const struct lit_ent *e = &x->ent[i];
		uint32_t h = (uint32_t)e->key & x->mask;
		uint64_t b = e->key >> (64 - LIT_FILTER_BITS);

		while (x->slot[h] != 0)
			h = (h + 1) & x->mask;
		x->slot[h] = i + 1;
		x->filter[b / 64] |= 1ULL << (b % 64);
		x->has[e->kind][e->fold] = true;
	}
	for (int k = 0; k < LIT_KINDS; k++) {
		uint32_t n = 0;

		if ((x->lens[k] = calloc(x->nent + 1, sizeof(uint32_t))) == NULL)
			return -1;
		for (uint32_t i = 0; i < x->nent; i++)
			if (x->ent[i].kind == k)
				x->lens[k][n++] = x->ent[i].len;
		qsort(x->lens[k], n, sizeof(uint32_t), match_cmp_u32);
		x->nlens[k] = 0;
		for (uint32_t i = 0; i < n; i++)
			if (x->nlens[k] == 0 ||
			    x->lens[k][x->nlens[k] - 1] != x->lens[k][i])
				x->lens[k][x->nlens[k]++] = x->lens[k][i];
		x->maxlen[k] = x->nlens[k] ? x->lens[k][x->nlens[k] - 1] : 0;
	}
	return 0;
}

size_t
lit_bytes(const struct lit_index *x)
{
	if (x == NULL)
		return 0;
	return sizeof(*x) + x->cap * sizeof(*x->ent) +
	    (x->mask + 1) * sizeof(*x->slot) + x->poolcap +
	    3 * (x->nent + 1) * sizeof(uint32_t);
}

/* Does the value's part at p (len bytes, the literal's place) equal e? */
static bool
lit_same(const struct lit_index *x, const struct lit_ent *e, const char *p)
{
	const char *q = x->pool + e->off;

	if (!e->fold)
		return memcmp(p, q, e->len) == 0;
	for (uint32_t i = 0; i < e->len; i++)
		if (lit_lower((unsigned char)p[i]) != (unsigned char)q[i])
			return false;
	return true;
}

/* Every entry of (kind, fold, len) whose key is key and bytes are p's. */
static void
lit_probe(const struct lit_index *x, uint64_t key, int kind, int fold,
    uint32_t len, const char *p, struct rs_scratch *s)
{
	uint32_t h = (uint32_t)key & x->mask, i;

	if (!lit_filter_has(x, key))
		return;
	for (; (i = x->slot[h]) != 0; h = (h + 1) & x->mask) {
		const struct lit_ent *e = &x->ent[i - 1];

		if (e->key == key && e->kind == kind && e->fold == fold &&
		    e->len == len && lit_same(x, e, p))
			match_hit(s, e->gid);
	}
}

/* Is n one of the lengths of kind's literals (binary search)? */
static bool
lit_has_len(const struct lit_index *x, int kind, uint32_t n)
{
	uint32_t lo = 0, hi = x->nlens[kind];

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (x->lens[kind][mid] < n)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < x->nlens[kind] && x->lens[kind][lo] == n;
}

/*
 * The literals of one value: a pass forwards (prefix lengths as they are
 * reached, the whole value for exact keys), a pass backwards (suffix
 * lengths), each with the folded and the raw hash as the kinds present
 * need.  No allocation.
 */
void
lit_scan(const struct lit_index *x, const char *p, size_t len,
    struct rs_scratch *s)
{
	uint64_t hf = LIT_BASIS, hr = LIT_BASIS;
	bool ef, er;
	bool pf = x->has[LIT_PREFIX][1], pr = x->has[LIT_PREFIX][0];
	uint32_t k = 0, stop;

	if (len > UINT32_MAX / 2)
		return;
	/* exact keys only if some exact literal has this length */
	ef = er = lit_has_len(x, LIT_EXACT, (uint32_t)len);
	ef = ef && x->has[LIT_EXACT][1];
	er = er && x->has[LIT_EXACT][0];
	/* forwards: prefixes, then the exact key at the end */
	stop = ef || er ? (uint32_t)len : x->maxlen[LIT_PREFIX] < len ?
	    x->maxlen[LIT_PREFIX] : (uint32_t)len;
	for (uint32_t i = 0; i < stop; i++) {
		unsigned char c = (unsigned char)p[i];

		hf = lit_step(hf, lit_lower(c));
		hr = lit_step(hr, c);
		while (k < x->nlens[LIT_PREFIX] && x->lens[LIT_PREFIX][k] < i + 1)
			k++;
		if (k < x->nlens[LIT_PREFIX] && x->lens[LIT_PREFIX][k] == i + 1) {
			if (pf)
				lit_probe(x, lit_key(hf, LIT_PREFIX, 1, i + 1),
				    LIT_PREFIX, 1, i + 1, p, s);
			if (pr)
				lit_probe(x, lit_key(hr, LIT_PREFIX, 0, i + 1),
				    LIT_PREFIX, 0, i + 1, p, s);
		}
	}
	if (stop == len && len > 0) {
		if (ef)
			lit_probe(x, lit_key(hf, LIT_EXACT, 1, (uint32_t)len),
			    LIT_EXACT, 1, (uint32_t)len, p, s);
		if (er)
			lit_probe(x, lit_key(hr, LIT_EXACT, 0, (uint32_t)len),
			    LIT_EXACT, 0, (uint32_t)len, p, s);
	}
	/* backwards: suffixes */
	if (x->nlens[LIT_SUFFIX] == 0)
		return;
	hf = hr = LIT_BASIS;
	k = 0;
	stop = x->maxlen[LIT_SUFFIX] < len ? x->maxlen[LIT_SUFFIX] : (uint32_t)len;
	for (uint32_t i = 0; i < stop; i++) {
		unsigned char c = (unsigned char)p[len - 1 - i];

		hf = lit_step(hf, lit_lower(c));
		hr = lit_step(hr, c);
		while (x->lens[LIT_SUFFIX][k] < i + 1)
			k++;
		if (x->lens[LIT_SUFFIX][k] != i + 1)
			continue;
		if (x->has[LIT_SUFFIX][1])
			lit_probe(x, lit_key(hf, LIT_SUFFIX, 1, i + 1), LIT_SUFFIX,
			    1, i + 1, p + len - 1 - i, s);
		if (x->has[LIT_SUFFIX][0])
			lit_probe(x, lit_key(hr, LIT_SUFFIX, 0, i + 1), LIT_SUFFIX,
			    0, i + 1, p + len - 1 - i, s);
	}
}

int
match_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}
