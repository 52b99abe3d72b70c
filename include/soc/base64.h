/*
 * Base64 (RFC 4648, standard alphabet, with padding).  Encoding only: the
 * rule engine matches base64-encoded Sigma values.
 */
#ifndef SOC_BASE64_H
#define SOC_BASE64_H

#include <stddef.h>

/* Encoded length of len bytes, without the NUL. */
#define SOC_BASE64_LEN(len)	(4 * (((len) + 2) / 3))

/* Encodes len bytes into a new NUL-terminated string; NULL if out of memory. */
char	*soc_base64_encode(const void *in, size_t len);

#endif
