/*
 * Indicator sets pushed down the forward connection (docs/NATIONAL.md,
 * "Indicators pushed down"): the messages a serving correlator (the
 * national centre) and a forwarding one (a province) exchange beside the
 * alert batches, on the same CURVE connection.  All integers are
 * little-endian; every message is one ZeroMQ frame:
 *
 *   msg    := "SOCI" | version u8 (1) | kind u8 | pad u16 | body
 *   OFFER  (serving -> forwarding) and STATE (forwarding -> serving):
 *           count u16 | (namelen u8 | name | version u64){count}
 *           OFFER: the newest version of each published set; STATE: the
 *           version of each set the forwarder has committed (its ack, and
 *           its request for what it lacks).
 *   CHUNK  (serving -> forwarding): namelen u8 | name | from u64 | to u64
 *           | full u8 | index u32 | last u8 | count u32 | rec{count}
 *           full: the whole set at version `to`; else the changes from
 *           `from` to `to`, in version order.
 *   rec    := op u8 (1 add, 2 delete) | type u8 | confidence u8
 *           | first i64 | last i64 | expires i64 | vlen u16 | value
 *           | tlen u16 | tags
 *
 * The decoder trusts nothing (every length checked against what is left,
 * types and confidence in range, names printable); the values are
 * normalized again by the receiver before they are stored.  Fuzzed by
 * tests/fuzz/fuzz-intel-wire.c.
 */
#ifndef SOC_CORR_INTEL_WIRE_H
#define SOC_CORR_INTEL_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include "soc/wire.h"
#include "intel.h"

#define INTEL_WIRE_MAGIC	"SOCI"
#define INTEL_WIRE_HDR		8
#define INTEL_WIRE_SETS_MAX	1024	/* sets in one OFFER or STATE */
#define INTEL_WIRE_PER_CHUNK	4000	/* records per CHUNK (encoder) */

enum intel_wire_kind {
	INTEL_WIRE_OFFER = 1,
	INTEL_WIRE_STATE = 2,
	INTEL_WIRE_CHUNK = 3,
};

enum intel_wire_op {
	INTEL_OP_ADD = 1,
	INTEL_OP_DEL = 2,
};

/* The kind of a message, or -1 when it is not one (or a broken header). */
int	intel_wire_kind(const void *data, size_t len);

/* OFFER / STATE: begin, add one (name, version) per set. */
void	intel_wire_sets_begin(struct soc_wbuf *b, enum intel_wire_kind kind);
int	intel_wire_sets_add(struct soc_wbuf *b, const char *name,
	    uint64_t version);

struct intel_wire_reader {
	const uint8_t	*p;
	size_t		 left;
	uint32_t	 remaining;
};

/* Opens an OFFER or STATE (kind checked by the caller); 0 / -1 (*why). */
int	intel_wire_sets_open(struct intel_wire_reader *r, const void *data,
	    size_t len, const char **why);
/* Next set: 1 got one (name NUL-terminated), 0 end, -1 malformed. */
int	intel_wire_sets_next(struct intel_wire_reader *r,
	    char name[INTEL_SOURCE_MAX], uint64_t *version, const char **why);

struct intel_wire_chunk {
	char		source[INTEL_SOURCE_MAX];
	uint64_t	from, to;
	int		full;
	uint32_t	index;
	int		last;
	uint32_t	count;
};

/* CHUNK: begin (the count is patched as records are added), add. */
void	intel_wire_chunk_begin(struct soc_wbuf *b,
	    const struct intel_wire_chunk *c);
int	intel_wire_chunk_add(struct soc_wbuf *b, int op,
	    const struct intel_ind *ind);
/* Opens a CHUNK: 0 with *c filled, -1 (*why). */
int	intel_wire_chunk_open(struct intel_wire_reader *r, const void *data,
	    size_t len, struct intel_wire_chunk *c, const char **why);
/* Next record: 1 got one (ind->value and ind->tags point into the
 * caller's buffers, NUL-terminated; source left NULL), 0 end, -1. */
int	intel_wire_chunk_next(struct intel_wire_reader *r, int *op,
	    struct intel_ind *ind, char value[INTEL_VALUE_MAX],
	    char tags[INTEL_TAGS_MAX], const char **why);

#endif
