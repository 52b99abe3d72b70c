/*
 * What the Beats server (beats.c) knows of a session (beats-proto.c):
 * the ring of windows in flight, whose marks the server sets when their
 * batch is handed on and reads when it acks.
 */
#ifndef SOC_SENSOR_BEATS_INT_H
#define SOC_SENSOR_BEATS_INT_H

#include <stdbool.h>
#include <stdint.h>
#include "soc/wire.h"
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

/*
 * A compressed frame decoded by a worker thread (beats.c), apart from the
 * session: inflated, each data frame read and encoded for the wire.  The
 * session then takes it as it would have taken the frame itself
 * (beats_session_apply), in the client's order, on the main thread.
 */
#define BEATS_JOB_MAX_OUT (4u << 20)	/* encoded bytes; the rest of the
					   frame is read on the main thread */
struct beats_job {
	/* in: the 'C' payload (in the client's buffer, left alone meanwhile) */
	const struct beats_conf	*bc;
	const char		*peer;
	const uint8_t		*data;
	size_t			 len;
	/* out */
	int			 reason;	/* inflating failed: why */
	uint8_t			*z;		/* inflated */
	size_t			 zlen, zcap;
	struct soc_wbuf		 w;		/* records of the events */
	uint8_t			*out;		/* per data frame, in order */
	size_t			 nout, outcap;
	int			 xreason;	/* of the 'X' */
	/* the session's, while it applies the job */
	size_t			 di, roff;
	struct soc_event	 ev;
};
enum { BJ_EVENT = 'E', BJ_SKIP = 'S', BJ_BAD = 'X', BJ_NOMEM = 'M' };

struct beats_session {
	const struct beats_conf	*bc;
	soc_emit_fn		 emit;
	void			*arg;
	struct beats_stats	*st;
	const char		*peer;		/* soc.log.source.address */
	struct bwin		 w[BEATS_WINDOWS];
	unsigned		 head, n;
	bool			 dirty;		/* some window is */
	/* beats_session_feed() stops before a 'C' frame (returns 2) and
	 * leaves it to a worker: pend says where it is */
	bool			 async;
	struct {
		const uint8_t	*data;
		size_t		 len;		/* the payload */
		size_t		 frame;		/* the whole frame */
	}			 pend;
	struct beats_job	*replay;	/* being applied */
};

/* Frees the inflate buffer the sessions share. */
void	beats_proto_free(void);
/* A worker's part: thread safe, touches only j. */
void	beats_job_run(struct beats_job *j);
void	beats_job_free(struct beats_job *j);
/* The job of s->pend, taken: 1, or -1 refused (*reason set, counted). */
int	beats_session_apply(struct beats_session *s, struct beats_job *j,
	    int *reason);

#endif
