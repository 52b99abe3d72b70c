/*
 * Log path of soc-sensor: turns one log line (from a file or a syslog
 * message) into a normalized event.  Known formats get ECS fields and
 * event.action/outcome (log.sshd, ...); anything else stays a log.syslog
 * event with its message.  Never allocates; never fails: an unparseable
 * line becomes an event with the raw message.
 */
#ifndef SOC_SENSOR_LOGPARSE_H
#define SOC_SENSOR_LOGPARSE_H

#include <stddef.h>
#include <stdint.h>
#include "soc/event.h"

struct logparse_ctx {
	int64_t		now_ns;		/* reception time: fallback timestamp,
					   and the year for RFC 3164 stamps */
	const char	*path;		/* log.file.path, or NULL */
	const char	*source_addr;	/* soc.log.source.address (the syslog
					   sender), or NULL */
	int32_t		tz_offset_sec;	/* zone for stamps that carry none
					   (RFC 3164): 25200 = Asia/Ho_Chi_Minh */
	const struct logzones *zones;	/* per-source zones, or NULL */
};

/*
 * log-zone.c: zones of syslog sources (syslog.zones).  A stamp without a
 * zone from a source that a rule names (by sender address or CIDR block,
 * or by a glob on the header's host name; first match wins) is read in
 * that rule's zone instead of tz_offset_sec.
 */
struct logzones;

struct logzones	*logzones_new(void);
void		 logzones_free(struct logzones *z);
size_t		 logzones_count(const struct logzones *z);
/* match: "ADDR", "ADDR/BITS" or a host name glob.  0, or -1 and err. */
int		 logzones_add(struct logzones *z, const char *match,
		    int32_t offset_sec, char *err, size_t errlen);
/* 1 and *offset_sec when a rule matches the sender or the host name. */
int		 logzones_find(const struct logzones *z, const char *addr,
		    const char *host, size_t hostlen, int32_t *offset_sec);

/*
 * Fill ev (which the function resets) from one line without its line
 * ending (the caller strips LF/CRLF).  Returns the dataset chosen.
 */
const char	*log_syslog_parse(const struct logparse_ctx *ctx,
		    const char *line, size_t len, struct soc_event *ev);
/*
 * The old name, for callers not yet renamed (sensor/logfile.c,
 * sensor/syslog-server.c, correlator/socctl/socctl-rules.c).
 */

#endif
