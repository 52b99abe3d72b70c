/*
 * Fuzz target: the wire batch decoder, which reads bytes from any peer
 * that passed CURVE.  Also round-trips each decoded record (event,
 * counter or alert blob) through the encoder, which must reproduce a
 * batch the decoder accepts.
 */
#include <stdlib.h>
#include <string.h>

#include "soc/wire.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct soc_event ev;
	struct soc_wire_reader r;
	struct soc_wire_hdr hdr;
	struct soc_wbuf out;
	const char *why;
	char name[256];
	const void *blob;
	size_t blen;
	uint64_t v;
	int rc;

	if (soc_wire_open(&r, data, size, &hdr, &why) == -1)
		return 0;
	soc_wbuf_init(&out);
	soc_wire_begin(&out, hdr.kind, hdr.seq);
	for (;;) {
		if (hdr.kind == SOC_WIRE_EVENTS) {
			if ((rc = soc_wire_next_event(&r, &ev, &why)) != 1)
				break;
			soc_wire_add_event(&out, &ev);
		} else if (hdr.kind == SOC_WIRE_ALERTS) {
			if ((rc = soc_wire_next_blob(&r, &blob, &blen, &why)) != 1)
				break;
			soc_wire_add_blob(&out, blob, blen);
		} else {
			if ((rc = soc_wire_next_counter(&r, name, &v, &why)) != 1)
				break;
			soc_wire_add_counter(&out, name, v);
		}
	}
	if (rc == 0 && soc_wire_validate(out.data, out.len, &why) != 0)
		abort();	/* what we encode, we must decode */
	soc_wbuf_free(&out);
	return 0;
}
