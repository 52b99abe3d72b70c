/*
 * The spool: unacked batches on disk, so that neither a correlator outage
 * nor a crash of the sensor loses them.  Owned by the uplink thread.
 *
 * A spool directory holds segment files named by the sequence number of
 * their first record.  A record is
 *
 *   magic "SOCS" | len u32 | crc32 u32 | seq u64 | cp_len u32 | batch_len u32
 *   | checkpoint[cp_len] | batch[batch_len]
 *
 * (len counts from seq to the end; crc32 covers the same bytes).  The
 * checkpoint is the log-file positions just after the last line in the
 * batch, so a restarted sensor resumes reading exactly after what it had
 * spooled, and resends the spooled batches with their original sequence
 * numbers, which the correlator recognises: exactly-once in effect.
 *
 * A segment is deleted once every record in it is acked.  The total size
 * is bounded; when a new record does not fit, the oldest segment is
 * dropped and its unacked batches are counted as lost.  A torn or corrupt
 * tail (power loss mid-write) is cut off at open and counted.
 */
#ifndef SOC_SENSOR_SPOOL_H
#define SOC_SENSOR_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct spool;

struct spool_rec {
	uint64_t	seq;
	uint32_t	seg;		/* segment index (internal) */
	uint64_t	off;		/* record offset in its segment */
	uint32_t	batch_len;
	uint32_t	cp_len;
};

struct spool_stats {
	uint64_t	bytes;		/* on disk now */
	uint64_t	records;	/* unacked records on disk */
	uint64_t	dropped;	/* batches lost to the size bound */
	uint64_t	corrupt;	/* records cut off at open */
};

/*
 * Opens (creating) dir.  Records already there are reported through fn in
 * sequence order so the caller can queue them for resending; *last_cp
 * gets a malloc'ed copy of the newest record's checkpoint (NULL if none).
 * Returns NULL with err set on failure.
 */
struct spool	*spool_open(const char *dir, uint64_t max_bytes,
		    void (*fn)(void *arg, const struct spool_rec *r), void *arg,
		    char **last_cp, size_t *last_cp_len, char *err, size_t errlen);
/* Appends and fdatasyncs a record; fills *r.  -1 on I/O error (logged). */
int		 spool_append(struct spool *sp, uint64_t seq, const void *cp,
		    size_t cp_len, const void *batch, size_t batch_len,
		    struct spool_rec *r);
/* Reads a record's batch into buf (cap >= r->batch_len).  0, -1 on an
 * I/O error, -2 when the size bound dropped the record. */
int		 spool_read(struct spool *sp, const struct spool_rec *r, void *buf);
/* Everything up to seq is acked: delete the segments that are done. */
void		 spool_ack(struct spool *sp, uint64_t seq);
/* Lowest seq still on disk after the bound forced drops (0 = none). */
uint64_t	 spool_first_seq(struct spool *sp);
void		 spool_stats(struct spool *sp, struct spool_stats *st);
void		 spool_close(struct spool *sp);

#endif
