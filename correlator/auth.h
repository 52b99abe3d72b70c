/*
 * Sensor authentication: a ZAP handler (RFC 27) answering libzmq's
 * questions about every CURVE client.  Only keys enrolled with `socctl
 * sensor enroll` and not revoked are admitted; the reply's user id is the
 * sensor name, which the correlator reads back from each message
 * ("User-Id") to find the sensor and its agency.  Nothing in the event
 * can choose its agency.
 */
#ifndef SOC_CORR_AUTH_H
#define SOC_CORR_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_DOMAIN	"soc"

struct auth;

/* Binds inproc://zeromq.zap.01 in zctx; must run before the server
 * socket binds.  Opens its own connection to the database. */
struct auth	*auth_start(void *zctx, const char *db_path, char *err, size_t errlen);
void		 auth_stop(struct auth *a);
uint64_t	 auth_denied(struct auth *a);
uint64_t	 auth_allowed(struct auth *a);

/*
 * Refused handshakes, logged per source: the first of a source at once,
 * then at most one line per source per minute with how many more there
 * were (a client retries every 100 ms: one line each would drown the log),
 * and at most REFUSE_LINES_MAX (auth.c) lines a minute over all sources
 * (many IPv6 addresses), what the cap held back said in one more line.
 * One table per thread; refusals_tick() writes the summaries that are due.
 */
struct refusals;
struct refusals	*refusals_new(void);
void		 refusals_free(struct refusals *t);
void		 refusals_note(struct refusals *t, const char *src, int kind,
		    int64_t now_ms, const char *fmt, ...)
		    __attribute__((format(printf, 5, 6)));
void		 refusals_tick(struct refusals *t, int64_t now_ms);

/*
 * The server socket's handshake failures that never reach the ZAP
 * handler: a client whose CURVE HELLO does not decrypt was given a wrong
 * server key, and is told so in our log (with our public key and the
 * peer's address), rate-limited as above.  auth_watch() before the
 * socket binds; auth_watch_poll() from the same thread, often.
 */
struct auth_watch;
struct auth_watch *auth_watch(void *zctx, void *server, const char *our_pub,
		    char *err, size_t errlen);
void		 auth_watch_poll(struct auth_watch *w);
void		 auth_watch_stop(struct auth_watch *w);
uint64_t	 auth_watch_failed(const struct auth_watch *w);

#endif
