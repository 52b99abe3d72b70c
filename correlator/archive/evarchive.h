/*
 * The archive (docs/ARCHIVE.md): every applied event, as the ECS JSON
 * line `soc-sensor -o json` writes, appended to time-partitioned segment
 * files compressed with zstd.  A segment is a sequence of complete zstd
 * frames, one per committed group of batches, so `zstdcat SEGMENT | jq`
 * reads it and a frame boundary is a commit point: the daemon records
 * (segment, end offset) in the same SQLite transaction as the incidents
 * of the group, and on start cuts the bytes past that offset.  Beside
 * each closed segment, SEGMENT.idx: its time range, agencies and a Bloom
 * filter over its IPs (and their prefixes), domains (and parent domains),
 * user names, host names and hashes, so a search skips what cannot match.
 *
 * Only libsoc and libzstd: the daemon writes (archive_writer_*), socctl,
 * the tests, the fuzz target and the benchmark read (archive_search(),
 * archive_segment_scan()).
 */
#ifndef SOC_EVARCHIVE_H
#define SOC_EVARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "soc/event.h"

#define ARCHIVE_SEG_SUFFIX	".jsonl.zst"
#define ARCHIVE_IDX_SUFFIX	".idx"
#define ARCHIVE_NAME_MAX	64	/* a segment's file name and its NUL */
#define ARCHIVE_FRAME_MAX	(256u << 20)	/* content of one frame */
#define ARCHIVE_LINE_MAX	(1u << 20)	/* one event's JSON */

/* ---- writing (the daemon) ---- */

struct archive_writer;

struct archive_wstats {
	uint64_t	events;		/* lines committed */
	uint64_t	bytes;		/* compressed bytes committed */
	uint64_t	frames;
	uint64_t	segments;	/* segments opened */
	uint64_t	dropped;	/* events not archived: writes failed */
	uint64_t	write_errors;	/* failed writes (ENOSPC...) */
	uint64_t	cut_bytes;	/* bytes past the committed offset, cut */
	uint64_t	removed;	/* uncommitted segments removed at start */
	int		paused;		/* writes stopped until retry_at */
};

/*
 * Opens the archive in dir (made 0750 if missing) after a start: seg and
 * off are the committed position the database holds ("" when none); that
 * segment is cut to off, segments after it (never committed) are
 * removed, and it is closed (its index written).  The writer then
 * appends to a new segment, whose name archive_writer_position() gives.
 * NULL with the reason in err.
 */
struct archive_writer *archive_writer_open(const char *dir, const char *seg,
		    uint64_t off, char *err, size_t errlen);
/* Writes the open segment's index and frees; NULL is a no-op. */
void		 archive_writer_close(struct archive_writer *w);
/* zstd level (default 1; -7..19); bounds checked by the caller. */
void		 archive_writer_set_level(struct archive_writer *w, int level);
/*
 * archive.sync parallel: the frame's fdatasync runs on a thread of its
 * own while the database commits, archive_writer_done() waiting for it
 * (the acks leave after both); before (the default): synced before the
 * commit.  0 / -1 (no thread).
 */
int		 archive_writer_set_sync(struct archive_writer *w, int parallel);
/* How long a failed write pauses the archive (default 30 s). */
void		 archive_writer_set_retry(struct archive_writer *w, int64_t ms);
/*
 * At the start of each group: the first group of a new hour (now_ns)
 * closes the segment (its index written) and opens the next.
 */
void		 archive_writer_begin(struct archive_writer *w, int64_t now_ns);

/*
 * One applied event of the open group: the wire bytes of one event record
 * (as enriched and time-bounded; the agency and sensor are stamped again
 * from the arguments, as ingest stamps them).  Copied; decoded, indexed,
 * written as JSON and compressed by the writer's encoder thread.  Never
 * fails (an allocation failure drops the event and counts it).
 */
void		 archive_writer_add(struct archive_writer *w, const char *agency,
		    const char *sensor, const void *raw, size_t rawlen);
/* A batch starts (the events before it are handed to the encoder); the
 * mark undoes the batch at its savepoint. */
size_t		 archive_writer_mark(struct archive_writer *w);
void		 archive_writer_undo(struct archive_writer *w, size_t mark);
/*
 * Before the group's commit: compresses the buffered lines into one
 * frame, appends it and syncs it (fdatasync, as SQLite's synchronous
 * FULL); seg/off is the position to record in the same transaction,
 * events the number of events the frame holds.
 * Returns 1 (record seg/off), 0 (nothing to record: no lines, or the
 * archive is paused: the lines are dropped and counted) -- a write error
 * never fails the group.
 */
int		 archive_writer_flush(struct archive_writer *w,
		    char seg[ARCHIVE_NAME_MAX], uint64_t *off, uint64_t *events);
/* After the commit: ok 1 (the position is committed) or 0 (rolled back:
 * the bytes written by the flush are cut). */
void		 archive_writer_done(struct archive_writer *w, int ok);
/* Drops the buffered group (the group failed before its flush). */
void		 archive_writer_discard(struct archive_writer *w);
/* The open segment's name (for the database at start) and offset. */
const char	*archive_writer_position(const struct archive_writer *w,
		    uint64_t *off);
const struct archive_wstats *archive_writer_stats(const struct archive_writer *w);
/* The directory, for retention. */
const char	*archive_writer_dir(const struct archive_writer *w);
/* The open segment's name, from any thread. */
void		 archive_writer_open_name(struct archive_writer *w,
		    char out[ARCHIVE_NAME_MAX]);

/* ---- retention ---- */

struct archive_keep_stats {
	uint64_t	runs;
	uint64_t	removed;	/* segments removed */
	uint64_t	removed_bytes;
	uint64_t	errors;
	uint64_t	total_bytes;	/* after the last run */
	uint64_t	segments;	/* after the last run */
};

/*
 * Removes segments (and their indexes), oldest first, whose hour ended
 * more than keep_ns before now_ns (0: no age bound), then while the
 * total is over max_bytes (0: no bound); never the segment named open
 * (may be NULL).  0, or -1 when the directory cannot be read.
 */
int	archive_keep(const char *dir, int64_t keep_ns, uint64_t max_bytes,
	    const char *open, int64_t now_ns, struct archive_keep_stats *ks);

/*
 * The keeper: a thread that runs archive_keep() every interval_ms (and
 * once at its start) off the ingest path, sparing w's open segment, and
 * logs what it removed.  NULL on failure.
 */
struct archive_keeper;
struct archive_keeper *archive_keeper_start(struct archive_writer *w,
	    int64_t keep_ns, uint64_t max_bytes, int64_t interval_ms);
void	archive_keeper_stop(struct archive_keeper *k);
void	archive_keeper_stats(struct archive_keeper *k,
	    struct archive_keep_stats *out);

/* ---- reading (socctl, tests, fuzz, benchmark) ---- */

/* An IP filter: an address and a prefix length (CIDR). */
struct archive_net {
	struct soc_ip	ip;
	int		bits;		/* 0..32 or 0..128 */
};

struct archive_query {
	int64_t		 since, until;	/* ns, inclusive; 0: no bound */
	const char	*const *agencies;
	size_t		 nagencies;
	bool		 has_ip;
	struct archive_net ip;
	const char	*domain;	/* the name or a subdomain of it */
	const char	*user;
	const char	*host;
	const char	*hash;
	const char	*dataset;
	const char	*const *words;	/* each present, case-insensitively */
	size_t		 nwords;
	/* archive_search(): segments oldest first (time order, for hunts)
	 * and every match handed to fn with its parsed event */
	bool		 oldest_first;
	bool		 parse;
};

struct archive_rstats {
	uint64_t	segments;	/* segments in the range */
	uint64_t	skipped;	/* ... skipped by their index */
	uint64_t	scanned;	/* ... read */
	uint64_t	index_bad;	/* index missing, stale or corrupt: scanned */
	uint64_t	cut;		/* segments ending in an incomplete frame */
	uint64_t	frames_bad;	/* frames that did not decompress */
	uint64_t	lines_bad;	/* lines that are not an event */
	uint64_t	events;		/* events looked at */
	uint64_t	matched;
	uint64_t	bytes;		/* compressed bytes read */
};

/* A match: the line (no newline), its time and the parsed event. */
typedef int (*archive_match_fn)(void *arg, const char *line, size_t len,
	    int64_t ts, const struct soc_event *ev);
/* Called between frames with the counts so far: non-zero stops. */
typedef int (*archive_progress_fn)(void *arg, const struct archive_rstats *rs);

/*
 * Searches dir, newest segment first (q->oldest_first: oldest first),
 * calling fn for each matching event of each segment in the order stored; fn returns non-zero to
 * stop.  0, or -1 with err (the directory cannot be read).
 */
int	archive_search(const char *dir, const struct archive_query *q,
	    archive_match_fn fn, void *arg, archive_progress_fn progress,
	    void *parg, struct archive_rstats *rs, char *err, size_t errlen);

/*
 * The newest `limit` matches over dir, newest first (by @timestamp):
 * fn is called for each, in that order.  Segments older than the
 * limit'th match found so far are skipped by their index's time range.
 */
int	archive_search_newest(const char *dir, const struct archive_query *q,
	    size_t limit, archive_match_fn fn, void *arg,
	    archive_progress_fn progress, void *parg, struct archive_rstats *rs,
	    char *err, size_t errlen);

/*
 * One segment's bytes (any bytes: the fuzz target's entry), every event
 * matching q (NULL: all) handed to fn.  Counts go to rs.
 */
void	archive_scan_bytes(const void *data, size_t len,
	    const struct archive_query *q, archive_match_fn fn, void *arg,
	    struct archive_rstats *rs);

/*
 * An index's bytes: 0 when it is well formed and describes a segment of
 * seg_bytes bytes (with *events set), -1 otherwise; and whether a query
 * may match it (1 may, 0 cannot).
 */
struct archive_index;
struct archive_index *archive_index_decode(const void *data, size_t len);
void	archive_index_free(struct archive_index *ix);
uint64_t archive_index_seg_bytes(const struct archive_index *ix);
int	archive_index_may_match(const struct archive_index *ix,
	    const struct archive_query *q);
void	archive_index_range(const struct archive_index *ix, int64_t *min_ts,
	    int64_t *max_ts, uint64_t *events);

/* The segment names in directory dfd, oldest first (malloc'd): n, -1. */
int	archive_seg_list(int dfd, char (**names)[ARCHIVE_NAME_MAX], size_t *n);

/* Parses ADDR or ADDR/BITS: 0 / -1. */
int	archive_net_parse(const char *s, struct archive_net *n);

/*
 * At the group's end, before the other work that precedes the commit:
 * the encoder ends the frame, appends it and (archive.sync before) syncs
 * it meanwhile; archive_writer_flush() then waits for it (and begins it
 * itself when this was not called).  A group that fails after this is
 * dropped with archive_writer_discard(), which cuts what was written.
 */
void	archive_writer_flush_begin(struct archive_writer *w);

#endif
