/*
 * The endpoint inventory (issue 18): every host that sends events is an
 * endpoint of the sending sensor's agency (the agency its key was
 * enrolled under, never one an event names), kept in memory and written
 * to the store with the ingest group's transaction, never per event.
 *
 * Use: endpoints_new(), endpoints_load() at start; endpoints_event()
 * for each event applied (endpoints_prefetch() some work before it); when endpoints_due(), endpoints_flush() inside
 * the group's transaction before its commit and endpoints_committed()
 * after it (or endpoints_sync() between groups and at a stop);
 * endpoints_tick() between groups (the silent endpoints' incidents).
 */
#ifndef SOC_CORR_ENDPOINTS_H
#define SOC_CORR_ENDPOINTS_H

#include <stddef.h>
#include <stdint.h>
#include "soc/event.h"
#include "store.h"

struct endpoints;

/* The incident raised once for an endpoint silent for stale_after. */
#define ENDPOINT_SILENT_RULE	"soc-endpoint-silent"

struct endpoints_stats {
	size_t		endpoints;	/* held, every agency */
	uint64_t	over_quota;	/* new hosts past endpoints.max_per_agency */
	uint64_t	too_long;	/* host ids over STORE_EP_HOST_MAX bytes */
	uint64_t	silent_raised;	/* soc-endpoint-silent incidents raised */
};

struct endpoints *endpoints_new(const struct store_endpoint_conf *c);
void	endpoints_free(struct endpoints *ep);
/* The endpoints already in the store (at start); -1 on error. */
int	endpoints_load(struct endpoints *ep, struct store *st);

/*
 * The host an event comes from, as the inventory keys it: host.id where
 * the event gives one, else the lower-cased computer or host name; an
 * auditd record without one is the sensor's own host.  1 and id set, 0
 * no host, -1 an id longer than STORE_EP_HOST_MAX (refused).
 */
int	endpoints_host_of(const struct soc_event *ev, const char *sensor,
	    char *id, size_t idlen);
/* The entry of the event's host fetched into the caches ahead of
 * endpoints_event() with the same arguments (the work between hides
 * the memory's latency); optional. */
void	endpoints_prefetch(struct endpoints *ep, const char *agency,
	    const char *sensor, const struct soc_event *ev);
/* One event applied for agency (the sensor's), received at now_ns. */
void	endpoints_event(struct endpoints *ep, const char *agency,
	    const char *sensor, const struct soc_event *ev, int64_t now_ns);
/* Writes the changed endpoints and refusal counts in the open
 * transaction; endpoints_committed() says whether it committed. */
int	endpoints_flush(struct endpoints *ep, struct store *st);
void	endpoints_committed(struct endpoints *ep, int ok);
/* Whether a flush is due: something changed and the last flush is at
 * least EP_FLUSH_MS old (mono_ms: soc_mono_ms()). */
int	endpoints_due(const struct endpoints *ep, int64_t mono_ms);
/* Flushes what changed in a transaction of its own (between groups, and
 * at a stop); 0 when nothing had to be written. */
int	endpoints_sync(struct endpoints *ep, struct store *st);
/*
 * Raises soc-endpoint-silent once for each endpoint not heard for
 * stale_after (re-armed when it reports again), in a transaction of its
 * own with the changed endpoints.  Between groups.  The number raised,
 * or -1.
 */
int	endpoints_tick(struct endpoints *ep, struct store *st, int64_t now_ns);
void	endpoints_stats(const struct endpoints *ep, struct endpoints_stats *s);

#endif
