/*
 * Logging to stderr, one line per message, with a level word so the
 * journal (or a human) can filter.  After OpenBSD's log.c.
 *
 * Messages carry text that others chose: a sensor's host name, a
 * province's rule name, a path.  The whole line is escaped after
 * formatting, so every caller is covered: C0 control bytes, DEL, the C1
 * controls (U+0080..U+009F as UTF-8) and bytes that are not valid UTF-8
 * become \xNN.  A newline in a host name can then not start a forged
 * line ("soc-correlator: warning: ..."), ESC/OSC cannot drive the
 * operator's terminal, and journald never sees a non-UTF-8 line (which
 * it would show only as "[blob data]").  A backslash is doubled, so a
 * literal "\x0a" in a name reads "\\x0a" and cannot pass for an escaped
 * newline.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soc/log.h"

static const char	*log_progname = "soc";
static int		 log_verbose;

void
log_init(const char *progname, int debug)
{
	log_progname = progname;
	log_verbose = debug;
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return log_verbose;
}

/* Length of the valid UTF-8 sequence at s (n bytes left) that is not a
 * C1 control, or 0. */
static size_t
log_utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 ||
	    cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return len;
}

size_t
log_escape(char *dst, size_t cap, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t n = strlen(src), o = 0, i = 0, k;

	if (cap == 0)
		return 0;
	while (i < n) {
		if (s[i] == '\\') {
			if (o + 2 >= cap)
				break;
			dst[o++] = '\\';
			dst[o++] = '\\';
			i++;
			continue;
		}
		if (s[i] >= 0x20 && s[i] < 0x7f)
			k = 1;
		else
			k = s[i] >= 0x80 ? log_utf8_len(s + i, n - i) : 0;
		if (k > 0) {
			if (o + k >= cap)
				break;
			memcpy(dst + o, s + i, k);
			o += k;
			i += k;
			continue;
		}
		if (o + 4 >= cap)
			break;
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[s[i] >> 4];
		dst[o++] = hex[s[i] & 15];
		i++;
	}
	dst[o] = '\0';
	return o;
}

static void
vlog(const char *level, const char *fmt, va_list ap, const char *suffix)
{
	char msg[2048], line[2300], out[4 * sizeof(line)];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (suffix != NULL)
		snprintf(line, sizeof(line), "%s: %s: %s: %s", log_progname,
		    level, msg, suffix);
	else
		snprintf(line, sizeof(line), "%s: %s: %s", log_progname, level,
		    msg);
	log_escape(out, sizeof(out), line);
	/* one write per line: the message's own newline only */
	fprintf(stderr, "%s\n", out);
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("warning", fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning", fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("info", fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog("debug", fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
