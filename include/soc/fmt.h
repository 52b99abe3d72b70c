/*
 * Formatting without printf for the per-event output paths (JSON events,
 * `socctl rules test`): integers, RFC 3339 stamps and IP addresses written
 * straight into the caller's buffer.  Each gives byte for byte what the
 * printf form or library call it replaces gives (tests/test-fmt.c checks
 * them against those), only without parsing a format string per field.
 */
#ifndef SOC_FMT_H
#define SOC_FMT_H

#include <stddef.h>
#include <stdint.h>
#include "soc/event.h"

/* Longest outputs, NUL not included. */
#define SOC_FMT_U64_MAX		20	/* 18446744073709551615 */
#define SOC_FMT_I64_MAX		20	/* -9223372036854775808 */
#define SOC_FMT_TIME_LEN	30	/* 2026-11-27T03:40:33.123456789Z */
#define SOC_FMT_IP_MAX		46	/* INET6_ADDRSTRLEN less the NUL */
#define SOC_FMT_IP4_MAX		15	/* 255.255.255.255 */

/* "%llu" / "%lld" at p; returns the end (no NUL written). */
char	*soc_fmt_u64(char *p, uint64_t v);
char	*soc_fmt_i64(char *p, int64_t v);

/*
 * soc_time_format()'s text of ns at p (SOC_FMT_TIME_LEN + 1 bytes, NUL
 * written); returns the length.
 */
size_t	 soc_fmt_time(int64_t ns, char *p);

/*
 * inet_ntop()'s text at p (SOC_FMT_IP_MAX + 1 bytes, NUL written; an IPv4
 * address takes at most SOC_FMT_IP4_MAX + 1); returns the length.  IPv4
 * without inet_ntop's sprintf (soc_ip_format uses this), IPv6 through it.
 */
size_t	 soc_fmt_ip(const struct soc_ip *ip, char *p);

/*
 * Appends len bytes of s to the text of n bytes in out (cap bytes), as
 * snprintf(out + n, cap - n, "%s", s) would: cut to fit, NUL-terminated
 * when n < cap; returns n + len (the length it would have), so a cut is
 * n >= cap, as with snprintf.
 */
size_t	 soc_fmt_cat(char *out, size_t cap, size_t n, const char *s,
	    size_t len);

#endif
