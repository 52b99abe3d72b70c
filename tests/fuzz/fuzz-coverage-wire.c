/*
 * Fuzz target: the coverage record a province sends up
 * (correlator/coverage-wire.c), read by the national correlator from any
 * enrolled province key.  What decodes must be in bounds (codes that
 * pass soc_code_ok, states 0..2, strings NUL-terminated within their
 * buffers, covered derived from the states) and must encode back to the
 * same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "soc/util.h"
#include "coverage-wire.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cov_wire_agency *a;
	struct store_coverage c;
	struct soc_sbuf b;
	const char *why;
	size_t n, i;
	int l, cov;

	if (cov_wire_decode(data, size, &a, &n, &why) == -1) {
		if (why == NULL || a != NULL || n != 0)
			abort();
		return 0;
	}
	if (n > COV_WIRE_AGENCIES)
		abort();
	soc_sbuf_init(&b);
	cov_wire_begin(&b);
	for (i = 0; i < n; i++) {
		if (!soc_code_ok(a[i].code) || memchr(a[i].name, '\0',
		    sizeof(a[i].name)) == NULL)
			abort();
		cov = 1;
		memset(&c, 0, sizeof(c));
		for (l = 0; l < STORE_LAYERS; l++) {
			if (a[i].state[l] < 0 || a[i].state[l] > 2 ||
			    strlen(a[i].reason[l]) > COV_WIRE_REASON)
				abort();
			cov &= a[i].state[l] == 0;
			c.state[l] = a[i].state[l];
			memcpy(c.reason[l], a[i].reason[l],
			    strlen(a[i].reason[l]) + 1);
		}
		if (cov != a[i].covered)
			abort();
		c.agency = a[i].code;
		c.name = a[i].name;
		c.parent = a[i].parent;
		c.ep_declared = a[i].ep_declared;
		c.ep_reporting = a[i].ep_reporting;
		c.ep_protected = a[i].ep_protected;
		if (cov_wire_add(&b, &c) == -1)
			abort();
	}
	/* what decoded whole encodes back to the same bytes */
	if (!b.oom && (b.len != size || memcmp(b.data, data, size) != 0))
		abort();
	soc_sbuf_free(&b);
	free(a);
	return 0;
}
