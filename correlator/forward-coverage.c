/*
 * The coverage report sent up (docs/NATIONAL.md, "Coverage sent up"):
 * on the forwarder's thread, with its own store connection, the 4-layer
 * report socctl coverage shows (store_coverage(), with its defaults) is
 * encoded as one record (coverage-wire.h) and sent to the national
 * receiver beside the alert batches.  It is sent once the link is proven
 * on each connection and then every forward.coverage_every; nothing is
 * acked: the next record replaces it.
 */
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "soc/log.h"
#include "coverage-wire.h"
#include "forward.h"
#include "store.h"

struct cov_send {
	struct soc_sbuf	*b;
	long		 n, skipped;
};

static int
cov_one(void *arg, const struct store_coverage *c)
{
	struct cov_send *s = arg;

	if (cov_wire_add(s->b, c) == -1)
		s->skipped++;
	else
		s->n++;
	return 0;
}

long
forward_coverage_send(struct store *st, void *dealer, struct soc_sbuf *b)
{
	struct store_coverage_opts o;
	struct cov_send s;

	memset(&s, 0, sizeof(s));
	s.b = b;
	store_coverage_opts_init(&o);
	cov_wire_begin(b);
	if (store_coverage(st, &o, cov_one, &s, NULL, NULL) != 0) {
		log_warnx("forward: coverage report: %s", store_errmsg(st));
		return -1;
	}
	if (b->oom) {
		log_warnx("forward: coverage report: out of memory");
		return -1;
	}
	if (s.skipped > 0)
		log_warnx("forward: coverage report: %ld agencies left out (at"
		    " most %d, %u bytes)", s.skipped, COV_WIRE_AGENCIES,
		    COV_WIRE_MAX);
	if (zmq_send(dealer, b->data, b->len, ZMQ_DONTWAIT) == -1) {
		log_debug("forward: coverage report not sent: %s",
		    zmq_strerror(zmq_errno()));
		return -1;
	}
	log_debug("forward: coverage report sent (%ld agencies, %zu bytes)",
	    s.n, b->len);
	return s.n;
}
