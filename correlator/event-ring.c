/*
 * The ring of the latest events that fed a correlation window
 * (event-ring.h).
 *
 * The arena is addressed by a logical position that only grows: a blob
 * starts at lpos and takes [lpos, lpos + len); one that would cross the
 * arena's end starts again at its beginning (the tail is skipped, the
 * position moves past it).  The bytes of a blob are intact while the
 * write position is at most lpos + size; a slot holds the number whose
 * blob it describes, so a number whose slot was reused is not found.
 */
#include <stdlib.h>
#include <string.h>

#include "event-ring.h"

struct ev_slot {
	uint64_t	 evno;
	uint64_t	 lpos;
	uint32_t	 len;
	int		 used;
};

struct evring {
	struct ev_slot	*slot;
	size_t		 nslots;
	char		*arena;
	size_t		 size;
	uint64_t	 pos;		/* logical write position */
};

struct evring *
evring_new(size_t slots, size_t bytes)
{
	struct evring *r;

	if (slots == 0 || bytes < 1024 || (r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->nslots = slots;
	r->size = bytes;
	if ((r->slot = calloc(slots, sizeof(*r->slot))) == NULL ||
	    (r->arena = malloc(bytes)) == NULL) {
		evring_free(r);
		return NULL;
	}
	return r;
}

void
evring_free(struct evring *r)
{
	if (r == NULL)
		return;
	free(r->slot);
	free(r->arena);
	free(r);
}

void
evring_put(struct evring *r, uint64_t evno, const void *pre, size_t prelen,
    const void *ev, size_t evlen)
{
	struct ev_slot *s = &r->slot[evno % r->nslots];
	size_t len = prelen + evlen, phys;

	if (len > r->size / 4)
		return;
	phys = (size_t)(r->pos % r->size);
	if (phys + len > r->size) {
		r->pos += r->size - phys;
		phys = 0;
	}
	memcpy(r->arena + phys, pre, prelen);
	memcpy(r->arena + phys + prelen, ev, evlen);
	*s = (struct ev_slot){ .evno = evno, .lpos = r->pos,
	    .len = (uint32_t)len, .used = 1 };
	r->pos += len;
}

const void *
evring_get(const struct evring *r, uint64_t evno, size_t *len)
{
	const struct ev_slot *s = &r->slot[evno % r->nslots];

	if (!s->used || s->evno != evno || r->pos > s->lpos + r->size)
		return NULL;
	*len = s->len;
	return r->arena + s->lpos % r->size;
}
