/*
 * Log intake besides files: the syslog server (UDP and TCP, RFC 3164 and
 * RFC 5424, TCP framing by newline or octet counting per RFC 6587).
 * main.c polls its descriptors together with the capture handles.
 */
#ifndef SOC_SENSOR_INTAKE_H
#define SOC_SENSOR_INTAKE_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include "sensor.h"

struct syslogd;

/* Opens the listeners in s->conf.syslog_udp / syslog_tcp.  Returns NULL
 * with err empty when none are configured, NULL with err set on failure.
 * Call it before dropping privileges (ports below 1024). */
struct syslogd	*syslogd_open(struct sensor *s, char *err, size_t errlen);
/* Fill up to max pollfds; returns how many. */
int		 syslogd_pollfds(struct syslogd *d, struct pollfd *pfd, int max);
/* Handle the pollfds filled by the last syslogd_pollfds() call. */
void		 syslogd_dispatch(struct syslogd *d, const struct pollfd *pfd, int n);
void		 syslogd_log_counters(struct syslogd *d);
/* Emits what connected clients left unterminated, closes everything. */
void		 syslogd_close(struct syslogd *d);

/*
 * TCP framing (RFC 6587), a pure function so it can be fuzzed alone.
 * Per message: a leading digit means octet counting ("LEN SP MSG"),
 * anything else a newline-terminated message (a CR before the LF is
 * dropped).  Messages longer than max are cut to max and flagged; the
 * rest of them is skipped (st remembers how much), never buffered.  Empty
 * lines and stray CR/LF/NUL between frames are skipped.
 *
 * Returns how many bytes of buf were consumed; *msg (NULL when none) and
 * *msglen give a complete message inside buf.  A return of 0 with *msg
 * NULL means more bytes are needed.  With eof set, an unterminated last
 * message is returned as it is (flagged truncated when an octet count
 * promised more).  The caller's buffer must hold at least max + 16 bytes
 * so that a full buffer always makes progress.
 */
#define SYSLOG_FRAME_TRUNCATED	0x1	/* cut to max, or short at eof */
#define SYSLOG_FRAME_OCTET	0x2	/* octet-counted */
#define SYSLOG_FRAME_EMPTY	0x4	/* "0 " frame: nothing to emit */

struct syslog_frame {
	uint64_t	skip;		/* octet-counted bytes still to drop */
	int		skip_to_lf;	/* dropping the rest of a long line */
};

size_t	syslog_frame_next(struct syslog_frame *st, const char *buf,
	    size_t len, size_t max, int eof, const char **msg, size_t *msglen,
	    int *flags);

#endif
