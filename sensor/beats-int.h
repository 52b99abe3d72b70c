/*
 * What the Beats server (beats.c) knows of a session (beats-proto.c):
 * the ring of windows in flight, whose marks the server sets when their
 * batch is handed on and reads when it acks.
 */
#ifndef SOC_SENSOR_BEATS_INT_H
#define SOC_SENSOR_BEATS_INT_H

#include <stdbool.h>
#include <stdint.h>
#include "beats.h"

#define BEATS_WINDOWS	16		/* windows in flight per client */

struct bwin {
	uint32_t	count;		/* announced */
	uint32_t	got;		/* data frames received */
	uint32_t	last_seq;	/* the ack for it, once complete */
	bool		dirty;		/* emitted since the last hand-on */
	uint64_t	mark;		/* batch holding its newest events */
	uint64_t	first_mark;	/* batch holding its oldest */
};

struct beats_session {
	const struct beats_conf	*bc;
	soc_emit_fn		 emit;
	void			*arg;
	struct beats_stats	*st;
	const char		*peer;		/* soc.log.source.address */
	struct bwin		 w[BEATS_WINDOWS];
	unsigned		 head, n;
	bool			 dirty;		/* some window is */
};

/* Frees the inflate buffer the sessions share. */
void	beats_proto_free(void);

#endif
