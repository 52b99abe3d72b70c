/*
 * Base64 encoding (RFC 4648 section 4: standard alphabet, '=' padding).
 */
#include <stdint.h>
#include <stdlib.h>

#include "soc/base64.h"

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
soc_base64_encode(const void *data, size_t len)
{
	const unsigned char *in = data;
	char *out, *o;

	if (len > (SIZE_MAX - 1) / 4 * 3 - 2)
		return NULL;
	if ((out = malloc(SOC_BASE64_LEN(len) + 1)) == NULL)
		return NULL;
	o = out;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		*o++ = b64chars[(v >> 18) & 63];
		*o++ = b64chars[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64chars[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? b64chars[v & 63] : '=';
	}
	*o = '\0';
	return out;
}
