/*
 * Fuzz target: the DER certificate reader (sensor/app-x509.c) on its
 * own, as the server's Certificate message hands it the leaf; the seed
 * corpus is the two certificates of tests/gen-x509-cert.sh.  Whatever it
 * accepts must have filled the strings within their buffers.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "decode.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct x509_cert c;

	if (size > UINT32_MAX)
		return 0;
	if (x509_parse(data, (uint32_t)size, &c) == 0) {
		if (strlen(c.subject) != c.subject_len ||
		    strlen(c.issuer) != c.issuer_len ||
		    strlen(c.subject_cn) != c.subject_cn_len ||
		    strlen(c.issuer_cn) != c.issuer_cn_len ||
		    c.san_len >= sizeof(c.san) ||
		    c.serial_len >= sizeof(c.serial))
			abort();
	}
	return 0;
}
