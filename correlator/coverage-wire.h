/*
 * The coverage record a province sends up the forward connection
 * (docs/NATIONAL.md, "Coverage sent up"): its 4-layer coverage report,
 * one entry per agency, beside the alert batches on the same CURVE
 * connection.  Integers little-endian; one ZeroMQ frame:
 *
 *   msg    := "SOCC" | version u8 (1) | kind u8 (1 REPORT) | pad u16
 *             | count u16 | agency{count}
 *   agency := clen u8 | code | nlen u8 | name | plen u8 | parent
 *             | (state u8 | rlen u8 | reason){4}
 *             | ep_declared i64 (-1 none) | ep_reporting u64
 *             | ep_protected u64
 *
 * The decoder trusts nothing: every length against what is left, at most
 * COV_WIRE_AGENCIES agencies and COV_WIRE_MAX bytes, codes (and a parent
 * when given) that pass soc_code_ok(), states 0..2, names and reasons
 * without control bytes, no bytes left over.  "covered" is not sent: the
 * receiver derives it from the four states.  Fuzzed by
 * tests/fuzz/fuzz-coverage-wire.c.
 */
#ifndef SOC_CORR_COVERAGE_WIRE_H
#define SOC_CORR_COVERAGE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "soc/json.h"
#include "store.h"

#define COV_WIRE_MAGIC		"SOCC"
#define COV_WIRE_HDR		8
#define COV_WIRE_REPORT		1
#define COV_WIRE_AGENCIES	2000		/* agencies in one record */
#define COV_WIRE_REASON		191		/* bytes of a reason */
#define COV_WIRE_MAX		(1u << 20)	/* bytes of one record */

struct cov_wire_agency {
	char		 code[64];
	char		 name[256];
	char		 parent[64];
	int		 state[STORE_LAYERS];
	char		 reason[STORE_LAYERS][COV_WIRE_REASON + 1];
	int		 covered;	/* derived: all four ok */
	int64_t		 ep_declared;
	uint64_t	 ep_reporting, ep_protected;
};

/* Encoder: begin, then add each agency (0, or -1 past COV_WIRE_AGENCIES
 * or COV_WIRE_MAX: not added); the count in the header is kept current. */
void	cov_wire_begin(struct soc_sbuf *b);
int	cov_wire_add(struct soc_sbuf *b, const struct store_coverage *c);

/* 1 when data starts with the magic (a coverage message, valid or not). */
int	cov_wire_is(const void *data, size_t len);
/* The whole record into *out (n entries, calloc'ed; the caller frees),
 * 0, or -1 with *why (static). */
int	cov_wire_decode(const void *data, size_t len,
	    struct cov_wire_agency **out, size_t *n, const char **why);

#endif
