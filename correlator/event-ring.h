/*
 * The latest events that fed a correlation window, as opaque blobs
 * (ingest.c stores the sensor's name and the event's wire bytes), found
 * again by their number (ingest's evno, the reference the rule engine
 * kept in the window: ruleset_set_ref), so a correlation incident's
 * evidence can hold the events that reached its threshold.
 *
 * Bounded, allocation-free after evring_new(): a byte arena written as a
 * ring and a table of slots indexed by number modulo its size.  An event
 * is gone once its bytes are written over or its slot is taken by a later
 * number: evring_get() then says so (NULL), it never returns another
 * event's bytes.
 */
#ifndef SOC_CORR_EVENT_RING_H
#define SOC_CORR_EVENT_RING_H

#include <stddef.h>
#include <stdint.h>

struct evring;

/* slots: numbers remembered; bytes: the arena (a blob is at most 1/4). */
struct evring	*evring_new(size_t slots, size_t bytes);
void		 evring_free(struct evring *r);
/* Keeps pre then ev (one blob) as event evno; too large: not kept. */
void		 evring_put(struct evring *r, uint64_t evno, const void *pre,
		    size_t prelen, const void *ev, size_t evlen);
/* The blob of event evno and its length, or NULL if no longer held. */
const void	*evring_get(const struct evring *r, uint64_t evno, size_t *len);

#endif
