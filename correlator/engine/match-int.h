/*
 * Internals of matching, shared by match-build.c (compiling the
 * databases and the indexes) and match-hs.c (scanning and evaluating).
 */
#ifndef SOC_CORR_MATCH_INT_H
#define SOC_CORR_MATCH_INT_H

#include <stdint.h>

#include <hs/hs.h>

#include "rule-int.h"

/*
 * A field's databases: db for the byte-mode patterns, and for the regexes
 * compiled in UTF-8 mode (one character per '.', Unicode case folding)
 * u8 and, for a value that is not valid UTF-8, the same patterns in byte
 * mode (raw), so such a value still matches bytewise; and lit, the
 * field's exact, prefix and suffix literals, looked up instead of
 * scanned.  Any may be NULL.
 */
struct match_field {
	int		 field;
	bool		 str;		/* a string field (else as text) */
	hs_database_t	*db, *u8, *raw;
	struct lit_index *lit;		/* anchored literals (match-lit.c) */
};

/* An integer equality of a rule, indexed: (field, value) -> rule. */
struct num_ent {
	int64_t		 value;
	int32_t		 field;
	uint32_t	 rule;
};

#define MATCH_DS_SLOTS	256		/* > 2 * RS_MAX_DATASETS, power of 2 */

struct match_db {
	struct match_field *fields;	/* fields that have a database */
	size_t		 nfields;
	size_t		 nfixed;	/* fields[0..nfixed): fixed ids */
	uint32_t	*dynmf;		/* dynamic id - SOC_F_COUNT -> index + 1 */
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
	uint8_t		 ds_slot[MATCH_DS_SLOTS];	/* hash -> dataset + 1 */
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
	uint64_t	 nevals;	/* rules evaluated, for bench/ */
	bool		 all;		/* tests: evaluate every rule, no index */
};

/* A pattern that matched: its bit, and its id in the list to clear. */
static inline void
match_hit(struct rs_scratch *s, uint32_t id)
{
	if (!(s->bits[id / 64] >> (id % 64) & 1)) {
		s->bits[id / 64] |= 1ULL << (id % 64);
		s->hits[s->nhits++] = id;
	}
}

/* match-build.c */
uint32_t	 match_ds_hash(const char *name, size_t len);
uint32_t	 match_num_lower(const struct num_ent *e, uint32_t n, int f,
		    int64_t v);

/* match-lit.c */
int		 match_cmp_u32(const void *a, const void *b);	/* qsort */
enum { LIT_EXACT, LIT_PREFIX, LIT_SUFFIX, LIT_KINDS };
struct lit_index;
bool		 lit_parse(const char *expr, unsigned int flags, int *kind,
		    char *out, size_t *len, bool *caseless);
struct lit_index *lit_new(void);
int		 lit_add(struct lit_index *x, int kind, bool caseless,
		    const char *b, size_t len, uint32_t gid);
int		 lit_finish(struct lit_index *x);
void		 lit_scan(const struct lit_index *x, const char *p, size_t len,
		    struct rs_scratch *s);
size_t		 lit_bytes(const struct lit_index *x);
void		 lit_free(struct lit_index *x);

#endif
