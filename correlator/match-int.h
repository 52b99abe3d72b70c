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

#endif
