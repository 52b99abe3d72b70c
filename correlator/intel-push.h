/*
 * Indicator sets pushed down the forward connection (docs/NATIONAL.md,
 * "Indicators pushed down"; messages in intel/intel-wire.h).
 *
 * Serving side (intel-push.c, the receiving correlator: the national
 * centre): a province's STATE, from its enrolled province key only,
 * records its acks and is answered with what it lacks (the changes since
 * its version while they are kept, else the whole set); a change of the
 * sets here is OFFERed to every province that sent a STATE.  An update
 * (OFFER or CHUNK) arriving on the server socket -- from a sensor or a
 * province -- is refused and counted: only the connection a correlator
 * opened to its national centre can publish to it.
 *
 * Receiving side (forward-intel.c, the forwarder's thread): OFFERs and
 * CHUNKs arrive only on the forwarder's CURVE connection, whose server
 * key is the national key given by --forward-server-key; the chunks of
 * one update are kept in memory, committed as the set "national/NAME"
 * (origin national), and acknowledged by the next STATE.
 */
#ifndef SOC_CORR_INTEL_PUSH_H
#define SOC_CORR_INTEL_PUSH_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct intel_push;
struct fwd_intel;

#define INTEL_PUSH_PREFIX	"national/"	/* a province's copy of a set */
/* The most records a province holds of one update in memory before it
 * commits (forward-intel.c); a larger set is not offered at all, since the
 * province could never commit it and would ask again and again. */
#define INTEL_PUSH_MAX_RECORDS	(4u << 20)

struct intel_push *intel_push_new(void);
void	intel_push_free(struct intel_push *p);
/* A message from the server socket: 1 when it was an indicator message
 * (queued or refused), 0 when it is not one (ingest's). */
int	intel_push_message(struct intel_push *p, const char *user,
	    const void *peer, size_t peerlen, const void *data, size_t len);
/* Between groups: answers the queued STATEs, offers new versions. */
void	intel_push_run(struct intel_push *p, struct store *st, void *router);
void	intel_push_log_counters(const struct intel_push *p);

struct fwd_intel *fwd_intel_new(void);
void	fwd_intel_free(struct fwd_intel *fi);
/* The connection was (re)made or lost: a partial update is dropped. */
void	fwd_intel_reset(struct fwd_intel *fi);
/* A message from the national side: 1 when it was an indicator one. */
int	fwd_intel_message(struct fwd_intel *fi, struct store *st,
	    void *dealer, const void *data, size_t len);
/* From the forwarder's loop: sends a STATE when one is due (after the
 * first ack of a connection, an OFFER of something new, a commit, a
 * stalled update, and every FWD_INTEL_STATE_MS). */
void	fwd_intel_tick(struct fwd_intel *fi, struct store *st, void *dealer,
	    int64_t now_ms, int linked);
void	fwd_intel_log_counters(const struct fwd_intel *fi);

#endif
