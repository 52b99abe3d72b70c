/*
 * Fuzz target: the indicator file readers (socctl intel import reads
 * feeds from anywhere).  The first byte picks the reader (list, STIX,
 * MISP event, manifest); every value a reader hands over is normalized,
 * and what passes goes into a set that must then find it again.
 */
#include <stdlib.h>
#include <string.h>

#include "intel.h"
#include "intel-parse.h"
#include "fuzz.h"

static struct intel_builder *b;

static int
on_raw(void *arg, const struct intel_raw *r)
{
	char out[INTEL_VALUE_MAX];
	const char *why;
	int type = r->type;
	struct intel_ind ind = { 0 };

	(void)arg;
	if (type < 0)
		return why = r->why, why == NULL ? (abort(), 0) : 0;
	if (r->tags == NULL || r->confidence < 0 || r->confidence > 100)
		abort();
	if (intel_normalize(&type, r->value, r->len, 1, out, sizeof(out),
	    &why) == -1)
		return 0;
	ind.type = type;
	ind.value = out;
	ind.source = "fuzz";
	ind.tags = r->tags;
	return intel_builder_add(b, &ind);
}

static int
on_uuid(void *arg, const char *uuid)
{
	(void)arg;
	if (strchr(uuid, '/') != NULL || strchr(uuid, '.') != NULL)
		abort();	/* a uuid is never a path */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;
	struct intel_set *s;
	struct intel_ind ind;
	char err[256];

	if (size < 1)
		return 0;
	b = intel_builder_new();
	switch (data[0] & 3) {
	case 0:
		intel_parse_list(p, size - 1, on_raw, NULL, err, sizeof(err));
		break;
	case 1:
		intel_parse_json(p, size - 1, on_raw, NULL, err, sizeof(err));
		break;
	case 2:
		intel_parse_misp_event(p, size - 1, on_raw, NULL, err, sizeof(err));
		break;
	case 3:
		intel_parse_misp_manifest(p, size - 1, on_uuid, NULL, err,
		    sizeof(err));
		break;
	}
	s = intel_builder_finish(b, 1);
	/* any bytes as a value to look up: no crash */
	intel_lookup_any(s, p, size - 1 > 300 ? 300 : size - 1, 0, &ind);
	intel_set_free(s);
	return 0;
}
