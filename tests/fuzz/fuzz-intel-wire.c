/*
 * Fuzz target: the indicator push messages (correlator/intel/intel-wire.c)
 * a province reads from its national connection and a correlator reads
 * from any enrolled key (a STATE).  Every kind is decoded to its end;
 * what a record hands over must be in range, NUL-terminated where the
 * decoder said, and a decoded OFFER/STATE must encode back to a message
 * that decodes to the same sets.
 */
#include <stdlib.h>
#include <string.h>

#include "intel.h"
#include "intel-wire.h"
#include "fuzz.h"

static char value[INTEL_VALUE_MAX], tags[INTEL_TAGS_MAX];

static void
sets(const uint8_t *data, size_t size)
{
	struct intel_wire_reader r, r2;
	struct soc_wbuf b;
	const char *why;
	char name[INTEL_SOURCE_MAX], name2[INTEL_SOURCE_MAX];
	uint64_t v, v2;
	int rc;

	if (intel_wire_sets_open(&r, data, size, &why) == -1)
		return;
	soc_wbuf_init(&b);
	intel_wire_sets_begin(&b, INTEL_WIRE_STATE);
	while ((rc = intel_wire_sets_next(&r, name, &v, &why)) == 1) {
		if (strlen(name) == 0 || strlen(name) >= INTEL_SOURCE_MAX)
			abort();
		if (intel_wire_sets_add(&b, name, v) == -1)
			abort();
	}
	if (rc == 0) {
		/* what decoded whole encodes back the same */
		if (intel_wire_sets_open(&r2, b.data, b.len, &why) == -1)
			abort();
		intel_wire_sets_open(&r, data, size, &why);
		while (intel_wire_sets_next(&r, name, &v, &why) == 1) {
			if (intel_wire_sets_next(&r2, name2, &v2, &why) != 1 ||
			    strcmp(name, name2) != 0 || v != v2)
				abort();
		}
		if (intel_wire_sets_next(&r2, name2, &v2, &why) != 0)
			abort();
	}
	soc_wbuf_free(&b);
}

static void
chunk(const uint8_t *data, size_t size)
{
	struct intel_wire_reader r;
	struct intel_wire_chunk c;
	struct intel_ind ind;
	const char *why;
	int op;

	if (intel_wire_chunk_open(&r, data, size, &c, &why) == -1)
		return;
	if (c.to == 0 || (!c.full && c.from >= c.to))
		abort();
	while (intel_wire_chunk_next(&r, &op, &ind, value, tags, &why) == 1) {
		if ((op != INTEL_OP_ADD && op != INTEL_OP_DEL) || ind.type < 0 ||
		    ind.type >= INTEL_TYPES || ind.confidence < 0 ||
		    ind.confidence > 100 || strlen(ind.value) == 0 ||
		    strlen(ind.tags) >= INTEL_TAGS_MAX)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	switch (intel_wire_kind(data, size)) {
	case INTEL_WIRE_OFFER:
	case INTEL_WIRE_STATE:
		sets(data, size);
		break;
	case INTEL_WIRE_CHUNK:
		chunk(data, size);
		break;
	}
	return 0;
}
