/*
 * Inside the alert module (alert.c, alert-decode.c), not for its users.
 */
#ifndef SOC_ALERT_INT_H
#define SOC_ALERT_INT_H

#include <stddef.h>

/* Length of a valid UTF-8 sequence at s (1..4), or 0 if invalid: the
 * definition soc_sbuf_json_str() uses, so decoded text round-trips. */
size_t	alert_utf8_seq(const unsigned char *s, size_t left);

#endif
