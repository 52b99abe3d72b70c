/*
 * JSON: writing events as JSON lines (nested ECS objects, one event per
 * line) and a small string builder with correct escaping.  Invalid UTF-8
 * is never passed through: each bad byte becomes \u00XX of its value so
 * the output stays valid JSON and nothing is silently dropped.
 */
#ifndef SOC_JSON_H
#define SOC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "soc/event.h"

struct soc_sbuf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	bool	 oom;		/* an append failed; content is incomplete */
};

void	soc_sbuf_init(struct soc_sbuf *b);
void	soc_sbuf_free(struct soc_sbuf *b);
void	soc_sbuf_reset(struct soc_sbuf *b);
void	soc_sbuf_add(struct soc_sbuf *b, const char *s, size_t len);
void	soc_sbuf_adds(struct soc_sbuf *b, const char *s);
/* Room for n more bytes (and the NUL): where they go, or NULL (oom set). */
char	*soc_sbuf_reserve(struct soc_sbuf *b, size_t n);
void	soc_sbuf_printf(struct soc_sbuf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Appends s as a quoted, escaped JSON string. */
void	soc_sbuf_json_str(struct soc_sbuf *b, const char *s, size_t len);

/* Appends the event as one JSON object (no newline). */
void	soc_json_event(struct soc_sbuf *b, const struct soc_event *ev);

/*
 * Parse one JSON object (as soc_json_event writes, or any nested ECS
 * object) into ev.  Returns 0, or -1 with *why.  Fields not in the
 * registry are skipped and counted in *unknown (may be NULL).
 */
int	soc_json_read_event(const char *s, size_t len, struct soc_event *ev,
	    const char **why, unsigned *unknown);

/*
 * Length of a valid UTF-8 sequence at s (1..4), or 0 if it is not one
 * (overlong forms, surrogates and code points past U+10FFFF refused); left
 * is the bytes available.  The JSON writer escapes what this refuses, so
 * every reader of our JSON uses the same definition.
 */
size_t	soc_utf8_seq(const unsigned char *s, size_t left);
/* The UTF-8 bytes of code point cp (at most U+10FFFF) into out: 1..4. */
size_t	soc_utf8_encode(unsigned cp, unsigned char out[4]);
/* The four hex digits of a JSON \u escape at p: 0 and *v, or -1. */
int	soc_json_hex4(const void *p, unsigned *v);

/*
 * The readers' scanner (lib/json-read.c), shared by the event reader and
 * the national alert decoder.  soc_json_ws(): p past JSON white space.
 * soc_json_string(): the string at *p (its opening quote) decoded into
 * out, at most cap - 1 bytes and a NUL (*len bytes; *cut when some were
 * lost to cap), *p left after the closing quote.  strict refuses what
 * is not valid UTF-8, a lone surrogate and NUL (the alert decoder: what
 * it keeps is written back byte for byte); otherwise bytes are kept as
 * they come and a lone surrogate becomes its three bytes.  0, or -1 with
 * *why (a static reason).
 */
const char *soc_json_ws(const char *p, const char *end);
int	soc_json_string(const char **p, const char *end, char *out, size_t cap,
	    size_t *len, bool *cut, bool strict, const char **why);

#endif
