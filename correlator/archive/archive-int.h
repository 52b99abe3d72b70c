/*
 * Inside the archive (archive-*.c): the index builder and the query's
 * match on one event, shared by the writer, the reader and retention.
 */
#ifndef SOC_ARCHIVE_INT_H
#define SOC_ARCHIVE_INT_H

#include "evarchive.h"

#define IDX_MAGIC	"SOCAIX1\n"
#define IDX_LOG2_MAX	23	/* a Bloom filter of 1 MiB while it fills */
#define IDX_LOG2_MIN	10	/* ... folded down to 128 bytes at least */
#define IDX_K		4	/* bits per key (<= 5: 6 bits of the hash each) */
#define IDX_AGENCY_MAX	1024	/* more: the set is "all" */

struct archive_index {
	uint64_t	 seg_bytes;
	uint64_t	 events;
	uint64_t	 frames;
	int64_t		 min_ts, max_ts;	/* min > max: no event */
	int		 agencies_all;
	size_t		 nag;
	char		**ag;
	unsigned	 log2;			/* bits = 1 << log2 */
	unsigned	 k;
	uint8_t		*bits;
	/* the writer's (archive_index_add()): keys set lately, each skipped
	 * when it comes again (the same hosts, users, addresses event after
	 * event), and the agency of the last event */
	uint64_t	*recent;		/* IDX_RECENT, or NULL */
	size_t		 ag_last;		/* its index in ag + 1; 0 none */
};
#define IDX_RECENT	1024

/* archive-index.c */
struct archive_index *archive_index_new(void);
void	archive_index_add(struct archive_index *ix, const struct soc_event *ev);
/* The encoded index (folded while it stays sparse): malloc'd, or NULL. */
void	*archive_index_encode(const struct archive_index *ix, size_t *len);
/* Writes dir/NAME.idx atomically: 0 / -1. */
int	archive_index_write(int dfd, const char *seg,
	    const struct archive_index *ix);
/* Reads dir/NAME.idx: the index, or NULL (missing or corrupt). */
struct archive_index *archive_index_read(int dfd, const char *seg);
/* Whether the event matches every filter of q but the words. */
int	archive_event_match(const struct archive_query *q,
	    const struct soc_event *ev);
/* Whether q needs the parsed event (filters beyond time and words). */
int	archive_query_needs_event(const struct archive_query *q);

/* archive-read.c: scans the segment file name in dfd into an index. */
struct archive_index *archive_index_build(int dfd, const char *seg,
	    uint64_t *cut);
/* Whether name is a segment's file name; its start (ns) if so. */
int	archive_seg_name(const char *name, int64_t *start_ns);

#endif
