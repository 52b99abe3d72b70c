/*
 * The tiny logging API (after OpenBSD's log.c): one line per message to
 * stderr, which systemd sends to the journal.  log_warn() appends
 * strerror(errno); the x variants do not.  fatal() exits with status 1 and
 * is only for start-up errors and broken internal invariants.
 *
 * Every line is escaped after formatting (log_escape()), so text from a
 * sensor or a province cannot forge lines or reach the terminal as
 * control sequences.  stderr is the only output: systemd puts it in the
 * journal.
 */
#ifndef SOC_LOG_H
#define SOC_LOG_H

#include <stddef.h>

void	log_init(const char *progname, int debug);
void	log_setverbose(int v);
int	log_getverbose(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Copies src to dst (cap bytes, NUL-terminated), control bytes, DEL, C1
 * controls and invalid UTF-8 as \xNN; cut at a whole character.  Returns
 * the length written. */
size_t	log_escape(char *dst, size_t cap, const char *src);

#endif
