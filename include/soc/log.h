/*
 * The tiny logging API (after OpenBSD's log.c): one line per message to
 * stderr, which systemd sends to the journal.  log_warn() appends
 * strerror(errno); the x variants do not.  fatal() exits with status 1 and
 * is only for start-up errors and broken internal invariants.
 */
#ifndef SOC_LOG_H
#define SOC_LOG_H

void	log_init(const char *progname, int debug);
void	log_setverbose(int v);
int	log_getverbose(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
