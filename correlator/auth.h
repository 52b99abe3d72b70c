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

#include <stdint.h>

#define AUTH_DOMAIN	"soc"

struct auth;

/* Binds inproc://zeromq.zap.01 in zctx; must run before the server
 * socket binds.  Opens its own connection to the database. */
struct auth	*auth_start(void *zctx, const char *db_path, char *err, size_t errlen);
void		 auth_stop(struct auth *a);
uint64_t	 auth_denied(struct auth *a);
uint64_t	 auth_allowed(struct auth *a);

#endif
