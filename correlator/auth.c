/*
 * The ZAP handler thread (see auth.h).  A peer that is unknown, revoked,
 * in the wrong domain or not using CURVE gets a "400" reply, never an
 * assert; every decision is logged with the peer address.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "soc/log.h"
#include "auth.h"
#include "store.h"

struct auth {
	void		*zctx;
	void		*rep;
	struct store	*st;
	pthread_t	 thr;
	_Atomic int	 stop;
	_Atomic uint64_t allowed;
	_Atomic uint64_t denied;
};

#define ZAP_FRAMES 7

static void
reply(void *sock, const char *reqid, size_t reqid_len, const char *code,
    const char *text, const char *user)
{
	zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
	zmq_send(sock, reqid, reqid_len, ZMQ_SNDMORE);
	zmq_send(sock, code, strlen(code), ZMQ_SNDMORE);
	zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(sock, user, strlen(user), ZMQ_SNDMORE);
	zmq_send(sock, "", 0, 0);
}

static void
handle(struct auth *a)
{
	zmq_msg_t f[ZAP_FRAMES + 1];
	int n = 0, more = 1;
	struct store_sensor sen;
	char key[41] = "", addr[64] = "", mech[16] = "";
	const char *why = NULL;
	size_t sz;

	while (more && n <= ZAP_FRAMES) {
		zmq_msg_init(&f[n]);
		if (zmq_msg_recv(&f[n], a->rep, 0) == -1) {
			zmq_msg_close(&f[n]);
			goto out;
		}
		more = zmq_msg_more(&f[n]);
		n++;
	}
	while (more) {		/* more frames than the protocol has: drain */
		zmq_msg_t x;

		zmq_msg_init(&x);
		zmq_msg_recv(&x, a->rep, 0);
		more = zmq_msg_more(&x);
		zmq_msg_close(&x);
		why = "malformed ZAP request";
	}
	if (n < 6) {
		/* cannot even echo a request id properly */
		reply(a->rep, n > 1 ? zmq_msg_data(&f[1]) : "",
		    n > 1 ? zmq_msg_size(&f[1]) : 0, "400", "malformed", "");
		goto out;
	}
	sz = zmq_msg_size(&f[3]);
	memcpy(addr, zmq_msg_data(&f[3]), sz < sizeof(addr) - 1 ? sz : sizeof(addr) - 1);
	sz = zmq_msg_size(&f[5]);
	memcpy(mech, zmq_msg_data(&f[5]), sz < sizeof(mech) - 1 ? sz : sizeof(mech) - 1);
	if (why == NULL && (zmq_msg_size(&f[0]) != 3 ||
	    memcmp(zmq_msg_data(&f[0]), "1.0", 3) != 0))
		why = "unsupported ZAP version";
	if (why == NULL && (zmq_msg_size(&f[2]) != strlen(AUTH_DOMAIN) ||
	    memcmp(zmq_msg_data(&f[2]), AUTH_DOMAIN, strlen(AUTH_DOMAIN)) != 0))
		why = "wrong ZAP domain";
	if (why == NULL && (strcmp(mech, "CURVE") != 0 || n != 7 ||
	    zmq_msg_size(&f[6]) != 32))
		why = "not a CURVE client";
	if (why == NULL)
		zmq_z85_encode(key, zmq_msg_data(&f[6]), 32);
	if (why == NULL) {
		switch (store_sensor_by_key(a->st, key, &sen)) {
		case 1:
			if (sen.revoked)
				why = "sensor key revoked";
			break;
		case 0:
			why = "key not enrolled";
			break;
		default:
			why = "database error";
			log_warnx("auth: %s", store_errmsg(a->st));
		}
	}
	if (why != NULL) {
		atomic_fetch_add(&a->denied, 1);
		log_warnx("auth: denied %s (%s%s%s)", addr, why,
		    key[0] ? ", key " : "", key);
		reply(a->rep, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), "400",
		    why, "");
	} else {
		atomic_fetch_add(&a->allowed, 1);
		log_info("auth: sensor %s (agency %s) connected from %s",
		    sen.name, sen.agency, addr);
		reply(a->rep, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), "200",
		    "OK", sen.name);
	}
out:
	for (int i = 0; i < n; i++)
		zmq_msg_close(&f[i]);
}

static void *
auth_main(void *arg)
{
	struct auth *a = arg;

	while (!atomic_load(&a->stop)) {
		zmq_pollitem_t it = { a->rep, 0, ZMQ_POLLIN, 0 };

		if (zmq_poll(&it, 1, 200) > 0)
			handle(a);
	}
	return NULL;
}

struct auth *
auth_start(void *zctx, const char *db_path, char *err, size_t errlen)
{
	struct auth *a;
	int zero = 0;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->zctx = zctx;
	if ((a->st = store_open(db_path, 0, err, errlen)) == NULL)
		goto fail;
	if ((a->rep = zmq_socket(zctx, ZMQ_REP)) == NULL ||
	    zmq_setsockopt(a->rep, ZMQ_LINGER, &zero, sizeof(zero)) == -1 ||
	    zmq_bind(a->rep, "inproc://zeromq.zap.01") == -1) {
		snprintf(err, errlen, "ZAP handler: %s", zmq_strerror(zmq_errno()));
		goto fail;
	}
	if (pthread_create(&a->thr, NULL, auth_main, a) != 0) {
		snprintf(err, errlen, "ZAP handler: cannot start thread");
		goto fail;
	}
	return a;
fail:
	if (a->rep)
		zmq_close(a->rep);
	if (a->st)
		store_close(a->st);
	free(a);
	return NULL;
}

void
auth_stop(struct auth *a)
{
	atomic_store(&a->stop, 1);
	pthread_join(a->thr, NULL);
	zmq_close(a->rep);
	store_close(a->st);
	free(a);
}

uint64_t
auth_denied(struct auth *a)
{
	return atomic_load(&a->denied);
}

uint64_t
auth_allowed(struct auth *a)
{
	return atomic_load(&a->allowed);
}
