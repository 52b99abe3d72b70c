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
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
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

/*
 * log-auditd.c: Linux audit records ("[node=N ]type=T msg=audit(S.M:N):
 * ...") joined by their serial into one event through libauparse.  Lines
 * go in with auditd_asm_feed(); events come out through emit, when
 * auparse finds them complete, when auditd_asm_tick() finds them idle
 * for timeout_ms, or at auditd_asm_flush().  At most max_open events are
 * open: a new serial in a full table flushes them (counted as evicted,
 * the events marked soc.auditd.incomplete).
 */
#define AUDITD_MAX_OPEN		1024
#define AUDITD_TIMEOUT_MS	2000

typedef void (*auditd_emit_fn)(void *arg, struct soc_event *ev);

struct auditd_stats {
	uint64_t	records;	/* lines fed */
	uint64_t	events;		/* events emitted */
	uint64_t	malformed;	/* not an audit record: not fed */
	uint64_t	cut;		/* records cut (long, or a cut line) */
	uint64_t	dropped;	/* records past the per-serial bound */
	uint64_t	evicted;	/* open events flushed for a full table */
	uint64_t	incomplete;	/* events emitted by such a flush */
	uint64_t	timed_out;	/* open events flushed when idle */
	uint64_t	open;		/* events being assembled now */
};

struct auditd_asm;

/* NULL when out of memory; max_open 0 and timeout_ms 0 take defaults. */
struct auditd_asm *auditd_asm_new(size_t max_open, int64_t timeout_ms,
		    auditd_emit_fn emit, void *arg);
/* Flushes what is open, then frees. */
void		 auditd_asm_free(struct auditd_asm *a);
/*
 * One line without its line end.  node (or NULL) names the sender for a
 * record that carries no "node=": a syslog source.  cut: the line was cut
 * by the reader.
 */
void		 auditd_asm_feed(struct auditd_asm *a,
		    const struct logparse_ctx *ctx, const char *line,
		    size_t len, const char *node, bool cut);
/* Emits every open event when one has been idle for timeout_ms. */
size_t		 auditd_asm_tick(struct auditd_asm *a, int64_t now_ms);
void		 auditd_asm_flush(struct auditd_asm *a);
void		 auditd_asm_stats(const struct auditd_asm *a,
		    struct auditd_stats *st);
/* Adds every counter of src to dst (two intakes' sums). */
void		 auditd_stats_add(struct auditd_stats *dst,
		    const struct auditd_stats *src);
/* Offset of "type=" when line is an audit record, else -1. */
ssize_t		 log_auditd_record(const char *line, size_t len);
/* One record alone as an event (socctl rules test); NULL: not one. */
const char	*log_auditd_parse(const struct logparse_ctx *ctx,
		    const char *line, size_t len, struct soc_event *ev);

#endif
