/*
 * Internal interface between the log normalizers: log-syslog.c finds the
 * header and dispatches; log-sshd.c, log-auth.c, log-netfilter.c and
 * log-web.c turn one message into ECS fields; and the small scanners
 * they share (the clock and calendar helpers are in soc/time.h).
 *
 * Every scanner works on (pointer, length) spans: input lines are not
 * NUL-terminated and may hold NUL bytes.  Nothing here allocates.
 */
#ifndef SOC_SENSOR_LOG_INT_H
#define SOC_SENSOR_LOG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "logparse.h"
#include "soc/event.h"

/* Dataset names, returned by log_syslog_parse(). */
#define LOGPARSE_DS_SYSLOG	"log.syslog"
#define LOGPARSE_DS_SSHD	"log.sshd"
#define LOGPARSE_DS_WEB		"log.web"
#define LOGPARSE_DS_WEB_ERROR	"log.web_error"
#define LOGPARSE_DS_AUTH	"log.auth"
#define LOGPARSE_DS_CRON	"log.cron"
#define LOGPARSE_DS_FIREWALL	"log.firewall"
#define LOGPARSE_DS_CLAMAV	"log.clamav"
#define LOGPARSE_DS_WINLOG	"winlog"	/* returned, not set: as EVTX */
#define LOGPARSE_DS_AUDITD	"log.auditd"		/* other records */
#define LOGPARSE_DS_AUDITD_PROCESS "log.auditd.process"	/* execve */
#define LOGPARSE_DS_AUDITD_FILE	"log.auditd.file"	/* file syscalls */
#define LOGPARSE_DS_AUDITD_NETWORK "log.auditd.network"	/* connect, ... */

/*
 * sshd message (the text after "sshd[pid]: ") -> dataset, category,
 * action, outcome, user, source.  Sets neither message nor timestamp: the
 * caller sets the message last, so a huge message cannot crowd the short
 * fields out of the event buffer.
 */
void	log_sshd_parse(struct soc_event *ev, const char *msg, size_t len);

/*
 * The older PAM form "sshd(pam_unix)[pid]: authentication failure; ...
 * rhost=HOST user=NAME" (the message after the tag): normalized as
 * "pam_unix(sshd:auth)" lines are (log.sshd, pam_auth, failure).
 */
void	log_sshd_pam_parse(struct soc_event *ev, const char *msg, size_t len);

/*
 * ClamAV: clamd / clamonacc / clamscan detections ("PATH: SIGNATURE
 * FOUND") and freshclam update failures, chosen by program name (prog
 * may be empty for clamd's own log file).  Returns the dataset and fills
 * category, action, outcome, file.path and threat.* (not the message), or
 * returns NULL with ev untouched when the line is neither.
 */
const char *log_clamav_parse(struct soc_event *ev, const char *prog,
	    size_t plen, const char *msg, size_t len);

/*
 * Apache/nginx access log line (common, combined, vhost_combined).
 * Returns 0 and fills ev (timestamp, web fields, message = the line)
 * when it recognized the line; returns -1 and leaves ev untouched
 * otherwise.  Does not reset ev, so a syslog header parsed before stays.
 */
int	log_web_parse(const struct logparse_ctx *ctx, const char *line,
	    size_t len, struct soc_event *ev);

/*
 * Apache (2.2 and 2.4) and nginx error log line.  Returns 0 and fills ev
 * (timestamp in ctx's zone, dataset, log.level, source.ip, message = the
 * line) when it recognized the line; -1 and ev untouched otherwise.
 * With nostamp, Apache's stampless syslog form ("[core:error] [pid 1]
 * ...") is accepted too, and the timestamp left as it was.
 */
int	log_web_error_parse(const struct logparse_ctx *ctx, const char *line,
	    size_t len, bool nostamp, struct soc_event *ev);

/*
 * Authentication and account programs (sudo, su, useradd & co, passwd,
 * systemd-logind, cron), chosen by program name.  Returns the dataset
 * and fills category, action, outcome and user (not the message), or
 * returns NULL and leaves ev untouched when prog is none of them.
 */
const char *log_auth_parse(struct soc_event *ev, const char *prog,
	    size_t plen, const char *msg, size_t len);

/*
 * Kernel netfilter LOG line (iptables, nftables, ufw): the text after
 * "kernel: ".  Returns 0 and fills the firewall fields (not the
 * message), or -1 with ev untouched when it is not one.
 */
int	log_netfilter_parse(struct soc_event *ev, const char *msg, size_t len);

/*
 * event.outcome of a normalized action.  The sshd and auth normalizers
 * set action and outcome together, through log_action().
 */
enum log_outcome {
	LOG_FAILURE,
	LOG_SUCCESS,
	LOG_UNKNOWN,
};

static inline void
log_action(struct soc_event *ev, const char *action, enum log_outcome o)
{
	soc_event_set_cstr(ev, SOC_F_EVENT_ACTION, action);
	soc_event_set_cstr(ev, SOC_F_EVENT_OUTCOME,
	    o == LOG_FAILURE ? "failure" :
	    o == LOG_SUCCESS ? "success" : "unknown");
}

/* Span helpers. */
static inline bool
log_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

/* True if [p, p+n) starts with the literal. */
static inline bool
log_prefix(const char *p, size_t n, const char *lit, size_t litlen)
{
	return n >= litlen && memcmp(p, lit, litlen) == 0;
}
#define LOG_PREFIX(p, n, lit)	log_prefix((p), (n), (lit), sizeof(lit) - 1)

/* Advances past a literal prefix; false (nothing moved) if absent. */
static inline bool
log_skip(const char **p, size_t *n, const char *lit, size_t litlen)
{
	if (!log_prefix(*p, *n, lit, litlen))
		return false;
	*p += litlen;
	*n -= litlen;
	return true;
}
#define LOG_SKIP(p, n, lit)	log_skip(&(p), &(n), (lit), sizeof(lit) - 1)

/*
 * Reads exactly ndig decimal digits at p (caller checked the length).
 * Returns the value or -1.
 */
static inline int
log_digits(const char *p, int ndig)
{
	int v = 0;

	for (int i = 0; i < ndig; i++) {
		if (!log_isdigit(p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/*
 * Reads up to maxdig decimal digits at p (at most n bytes).  Returns the
 * number of digits read (0: none) and the value in *v.
 */
static inline size_t
log_uint(const char *p, size_t n, size_t maxdig, int64_t *v)
{
	size_t i;
	int64_t x = 0;

	for (i = 0; i < n && i < maxdig && log_isdigit(p[i]); i++)
		x = x * 10 + (p[i] - '0');
	*v = x;
	return i;
}

#endif
