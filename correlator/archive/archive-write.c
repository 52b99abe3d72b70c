/*
 * Writing the archive (the daemon's ingest thread).  The events of one
 * group (the batches of one SQLite transaction) are buffered as JSON
 * lines; before the commit they become one zstd frame (more past
 * ARCHIVE_FRAME_MAX) appended at the committed offset and synced, and the
 * caller records the new end in the same transaction.  After the commit
 * the end is the committed offset; after a rollback the bytes are cut.
 * A crash between the write and the commit leaves bytes the database
 * does not know: archive_writer_open() cuts them at the next start, and
 * removes the segments named after the committed one (never committed).
 *
 * The ingest thread only copies each event's wire bytes (with its agency
 * and sensor, stamped again here) into the group's chunks; an encoder
 * thread of the writer reads them there (no second copy), decodes them,
 * indexes them, writes the JSON lines and compresses them (streaming,
 * one frame per group) while ingest goes on matching.  The records are
 * handed over HAND_BYTES at a time by moving a position under the mutex,
 * the encoder woken only when it sleeps, so the group's end waits only
 * for the last few and ingest pays a futex wake per ~100 events, not per
 * batch; a batch undone at its savepoint (rare) makes the encoder begin
 * the group's frame again from the records kept.  The chunks of a group
 * are kept for the next ones (up to CHUNK_KEEP), so a steady stream does
 * not fault fresh pages in.
 *
 * A write that fails (ENOSPC, EIO, a file size limit) never fails the
 * group: the bytes are cut, the archive pauses for retry_ms, logs once,
 * and counts the events it could not keep (archive_wstats.dropped).
 *
 * Segments are named by the UTC time they open, YYYYMMDDTHHMMSSZ-NNN,
 * always after every name in the directory; a new one opens at each
 * start and at the first group of each hour.  The closing segment's
 * index is written then (and at a clean stop); an index lost to a crash
 * is rebuilt by reading the segment at the next start.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "soc/json.h"
#include "soc/log.h"
#include "soc/util.h"
#include "soc/wire.h"
#include "archive-int.h"

#define HOUR_NS		(3600LL * 1000000000LL)
#define RETRY_MS	30000
#define HAND_BYTES	(64u << 10)	/* records handed to the encoder at a time */
#define CHUNK_BYTES	(256u << 10)	/* the group's records, in chunks */
#define CHUNK_KEEP	64		/* chunks kept for the next groups */

/*
 * The group's records: chunks in order, a record never across two.  The
 * ingest thread appends to the last; the encoder reads up to the handed
 * position, which the ingest thread writes past only (the bytes before it
 * and the chunks' len and next are not written again until the encoder is
 * idle: undo, discard, flush).  base: the group's bytes before the chunk,
 * so a position in the group is one number (archive_writer_mark()).
 */
struct chunk {
	struct chunk	*next;
	size_t		 base, len, cap;
	uint8_t		 data[];
};

struct archive_writer {
	char			 dir[PATH_MAX];
	int			 dfd;
	char			 seg[ARCHIVE_NAME_MAX];
	int			 fd;		/* -1: not created yet */
	uint64_t		 off;		/* committed end */
	uint64_t		 woff;		/* end after the pending frame */
	int			 pending;	/* written, not yet committed */
	uint64_t		 pend_lines;
	int64_t			 hour;		/* of the segment's opening */
	struct archive_index	*ix;		/* the encoder's while it runs */
	struct chunk		*head, *tail;	/* the group's records */
	struct chunk		*spare;		/* kept for the next groups */
	size_t			 nspare;
	size_t			 handed;	/* group bytes given to the encoder */
	uint64_t		 nlines;	/* records in the group */
	ZSTD_CCtx		*cctx;
	int			 level;
	uint8_t			*z;		/* the group's frame(s) */
	size_t			 zlen, zcap;
	/* the encoder thread (under mu) */
	pthread_t		 eth;
	pthread_cond_t		 ecv;
	struct chunk		*hc;		/* handed: up to hc->data + hoff */
	size_t			 hoff;
	struct chunk		*ec;		/* the encoder's: from ec + eoff */
	size_t			 eoff;
	int			 ebusy, eend, estop, eerr;
	/* the frame's write (and sync, archive.sync before) by the encoder
	 * once it ends the frame, while ingest writes the group's incidents:
	 * asked (ewrite), done (ewrote: bytes past off), failed (werr) */
	int			 ewrite, ewrote, werr, ecreated;
	int			 fbegun;	/* the ingest thread's: begun */
	const char		*wwhat;
	size_t			 fbytes;	/* JSON in the open frame */
	int			 enc;		/* the thread runs */
	struct soc_sbuf		 lines;		/* the encoder's JSON */
	struct soc_event	*ev;
	uint64_t		 ebad;		/* records that did not decode */
	int64_t			 retry_at;	/* mono ms */
	int64_t			 retry_ms;
	uint64_t		 dropped_at_pause;
	pthread_mutex_t		 mu;		/* seg, for the keeper */
	struct archive_wstats	 st;
	/* archive.sync parallel: the frame's fdatasync on its own thread,
	 * beside the database's commit; archive_writer_done() waits */
	int			 async;
	pthread_t		 sth;
	pthread_cond_t		 scv;
	int			 sfd;		/* to sync; -1 none */
	int			 sbusy, serr, sstop;
};

static void	*enc_main(void *);
static void	 enc_wait(struct archive_writer *);
static void	 hand_over(struct archive_writer *);
static void	 chunks_put(struct archive_writer *, struct chunk *);

static void
seg_format(char out[ARCHIVE_NAME_MAX], int64_t secs, unsigned seq)
{
	struct tm tm;
	time_t t = (time_t)secs;

	gmtime_r(&t, &tm);
	snprintf(out, ARCHIVE_NAME_MAX, "%04d%02d%02dT%02d%02d%02dZ-%03u%s",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, seq % 1000, ARCHIVE_SEG_SUFFIX);
}

/* A name after every segment in the directory, from now on. */
static int
seg_new_name(struct archive_writer *w, int64_t now_ns)
{
	char (*names)[ARCHIVE_NAME_MAX] = NULL, name[ARCHIVE_NAME_MAX];
	int64_t secs = now_ns / 1000000000LL, last;
	size_t n = 0;

	if (archive_seg_list(w->dfd, &names, &n) == -1)
		return -1;
	seg_format(name, secs, 0);
	if (n > 0 && strcmp(name, names[n - 1]) <= 0) {
		unsigned seq = (unsigned)atoi(names[n - 1] + 17);

		archive_seg_name(names[n - 1], &last);
		last /= 1000000000LL;
		if (seq < 999)
			seg_format(name, last, seq + 1);
		else
			seg_format(name, last + 1, 0);
	}
	free(names);
	pthread_mutex_lock(&w->mu);
	memcpy(w->seg, name, sizeof(name));
	pthread_mutex_unlock(&w->mu);
	w->hour = now_ns / HOUR_NS;
	return 0;
}

static void
unlink_seg(int dfd, const char *seg)
{
	char idx[ARCHIVE_NAME_MAX + 8];

	snprintf(idx, sizeof(idx), "%s%s", seg, ARCHIVE_IDX_SUFFIX);
	unlinkat(dfd, seg, 0);
	unlinkat(dfd, idx, 0);
}

/* The committed segment after a start: cut, index, later ones removed. */
static int
recover(struct archive_writer *w, const char *seg, uint64_t off)
{
	char (*names)[ARCHIVE_NAME_MAX] = NULL;
	struct archive_index *ix;
	struct stat sb;
	size_t n = 0, i;
	uint64_t cut = 0;
	int fd;

	if (archive_seg_list(w->dfd, &names, &n) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (strcmp(names[i], seg) > 0) {
			log_info("archive: %s was never committed; removed",
			    names[i]);
			unlink_seg(w->dfd, names[i]);
			w->st.removed++;
		}
	free(names);
	if (fstatat(w->dfd, seg, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;	/* nothing was written to it */
	if ((uint64_t)sb.st_size > off) {
		if ((fd = openat(w->dfd, seg, O_WRONLY | O_CLOEXEC |
		    O_NOFOLLOW)) == -1 || ftruncate(fd, (off_t)off) == -1 ||
		    fsync(fd) == -1) {
			if (fd != -1)
				close(fd);
			return -1;
		}
		close(fd);
		w->st.cut_bytes += (uint64_t)sb.st_size - off;
		log_info("archive: %s: %llu bytes past the committed offset %llu"
		    " cut", seg, (unsigned long long)sb.st_size - off,
		    (unsigned long long)off);
	} else if ((uint64_t)sb.st_size < off)
		log_warnx("archive: %s is shorter (%llu bytes) than its"
		    " committed offset %llu: bytes lost outside the correlator",
		    seg, (unsigned long long)sb.st_size, (unsigned long long)off);
	ix = archive_index_read(w->dfd, seg);
	if (ix == NULL || fstatat(w->dfd, seg, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
	    ix->seg_bytes != (uint64_t)sb.st_size) {
		archive_index_free(ix);
		if ((ix = archive_index_build(w->dfd, seg, &cut)) != NULL)
			archive_index_write(w->dfd, seg, ix);
	}
	archive_index_free(ix);
	return 0;
}

struct archive_writer *
archive_writer_open(const char *dir, const char *seg, uint64_t off, char *err,
    size_t errlen)
{
	struct archive_writer *w;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->fd = w->dfd = -1;
	w->level = 1;
	w->retry_ms = RETRY_MS;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->ecv, NULL);
	soc_sbuf_init(&w->lines);
	snprintf(w->dir, sizeof(w->dir), "%s", dir);
	if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "archive %s: %s", dir, strerror(errno));
		goto fail;
	}
	if ((w->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "archive %s: %s", dir, strerror(errno));
		goto fail;
	}
	if ((w->cctx = ZSTD_createCCtx()) == NULL ||
	    (w->ix = archive_index_new()) == NULL ||
	    (w->ev = malloc(sizeof(*w->ev))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, w->level);
	if (pthread_create(&w->eth, NULL, enc_main, w) != 0) {
		snprintf(err, errlen, "cannot start the archive's encoder");
		goto fail;
	}
	w->enc = 1;
	if (seg != NULL && seg[0] != '\0' && archive_seg_name(seg, NULL) &&
	    recover(w, seg, off) == -1) {
		snprintf(err, errlen, "archive %s/%s: %s", dir, seg,
		    strerror(errno));
		goto fail;
	}
	if (seg_new_name(w, soc_now_ns()) == -1) {
		snprintf(err, errlen, "archive %s: %s", dir, strerror(errno));
		goto fail;
	}
	return w;
fail:
	archive_writer_close(w);
	return NULL;
}

void
archive_writer_set_level(struct archive_writer *w, int level)
{
	w->level = level;
	enc_wait(w);
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, level);
}

static void *
sync_main(void *arg)
{
	struct archive_writer *w = arg;
	int fd, rc;

	pthread_setname_np(pthread_self(), "archive-sync");
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->sstop && w->sfd == -1)
			pthread_cond_wait(&w->scv, &w->mu);
		if (w->sfd == -1)
			break;
		fd = w->sfd;
		pthread_mutex_unlock(&w->mu);
		rc = fdatasync(fd);
		pthread_mutex_lock(&w->mu);
		w->serr = rc == -1 ? errno : 0;
		w->sfd = -1;
		w->sbusy = 0;
		pthread_cond_broadcast(&w->scv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* The frame's sync, when it runs on the thread: 0, or its errno. */
static int
sync_wait(struct archive_writer *w)
{
	int e;

	if (!w->async)
		return 0;
	pthread_mutex_lock(&w->mu);
	while (w->sbusy)
		pthread_cond_wait(&w->scv, &w->mu);
	e = w->serr;
	w->serr = 0;
	pthread_mutex_unlock(&w->mu);
	return e;
}

int
archive_writer_set_sync(struct archive_writer *w, int parallel)
{
	if (!parallel || w->async)
		return 0;
	w->sfd = -1;
	pthread_cond_init(&w->scv, NULL);
	if (pthread_create(&w->sth, NULL, sync_main, w) != 0) {
		pthread_cond_destroy(&w->scv);
		return -1;
	}
	w->async = 1;
	return 0;
}

void
archive_writer_set_retry(struct archive_writer *w, int64_t ms)
{
	w->retry_ms = ms;
	if (w->st.paused)
		w->retry_at = soc_mono_ms() + ms;
}

/* The open segment is done: its index, its descriptor. */
static void
seg_close(struct archive_writer *w)
{
	if (w->fd == -1)
		return;
	w->ix->seg_bytes = w->off;
	if (w->off > 0 && archive_index_write(w->dfd, w->seg, w->ix) == -1)
		log_warn("archive: index of %s", w->seg);
	close(w->fd);
	w->fd = -1;
}

void
archive_writer_close(struct archive_writer *w)
{
	if (w == NULL)
		return;
	if (w->async) {
		sync_wait(w);
		pthread_mutex_lock(&w->mu);
		w->sstop = 1;
		pthread_cond_broadcast(&w->scv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->sth, NULL);
		pthread_cond_destroy(&w->scv);
	}
	if (w->enc) {
		enc_wait(w);
		pthread_mutex_lock(&w->mu);
		w->estop = 1;
		pthread_cond_broadcast(&w->ecv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->eth, NULL);
	}
	if (w->ix != NULL)
		seg_close(w);
	if (w->dfd != -1)
		close(w->dfd);
	archive_index_free(w->ix);
	ZSTD_freeCCtx(w->cctx);
	w->nspare = CHUNK_KEEP;		/* so that the chunks are freed */
	chunks_put(w, w->head);
	chunks_put(w, w->spare);
	soc_sbuf_free(&w->lines);
	free(w->ev);
	free(w->z);
	pthread_cond_destroy(&w->ecv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

void
archive_writer_begin(struct archive_writer *w, int64_t now_ns)
{
	struct archive_index *ix;

	/* only between groups: nothing buffered, the encoder idle */
	if (now_ns / HOUR_NS == w->hour || w->pending || w->nlines > 0)
		return;
	enc_wait(w);
	if (w->fd == -1 || w->off == 0) {
		w->hour = now_ns / HOUR_NS;
		return;
	}
	if ((ix = archive_index_new()) == NULL)
		return;		/* the hour goes on in this segment */
	seg_close(w);
	archive_index_free(w->ix);
	w->ix = ix;
	w->off = w->woff = 0;
	if (seg_new_name(w, now_ns) == -1)
		log_warn("archive %s", w->dir);
}

/*
 * The group's records.  One record: u16 agency length, agency, u16
 * sensor length, sensor, u32 wire length, the event's wire bytes (one
 * event record).
 */
static uint32_t
get_u(const uint8_t *p, size_t n)
{
	uint32_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

/* The bytes of the record at p. */
static size_t
rec_len(const uint8_t *p)
{
	size_t al = get_u(p, 2), sl = get_u(p + 2 + al, 2);

	return 8 + al + sl + get_u(p + 4 + al + sl, 4);
}

static uint8_t *
put_u(uint8_t *o, uint32_t v, size_t n)
{
	for (size_t i = 0; i < n; i++, v >>= 8)
		o[i] = (uint8_t)v;
	return o + n;
}

/* A chunk for a record of need bytes: a spare, or new; NULL: no memory. */
static struct chunk *
chunk_get(struct archive_writer *w, size_t need)
{
	struct chunk *c;
	size_t cap = need > CHUNK_BYTES ? need : CHUNK_BYTES;

	if (cap == CHUNK_BYTES && (c = w->spare) != NULL) {
		w->spare = c->next;
		w->nspare--;
	} else if ((c = malloc(sizeof(*c) + cap)) == NULL)
		return NULL;
	else
		c->cap = cap;
	c->next = NULL;
	c->len = 0;
	return c;
}

/* The chunks from c on, kept for later groups (CHUNK_KEEP) or freed. */
static void
chunks_put(struct archive_writer *w, struct chunk *c)
{
	struct chunk *n;

	for (; c != NULL; c = n) {
		n = c->next;
		if (c->cap == CHUNK_BYTES && w->nspare < CHUNK_KEEP) {
			c->next = w->spare;
			w->spare = c;
			w->nspare++;
		} else
			free(c);
	}
}

/* The group's bytes so far: the position archive_writer_mark() gives. */
static size_t
group_pos(const struct archive_writer *w)
{
	return w->tail == NULL ? 0 : w->tail->base + w->tail->len;
}

/* The group's records gone (the encoder idle): the chunks kept. */
static void
records_clear(struct archive_writer *w)
{
	chunks_put(w, w->head);
	w->head = w->tail = NULL;
	pthread_mutex_lock(&w->mu);
	w->hc = w->ec = NULL;
	w->hoff = w->eoff = 0;
	pthread_mutex_unlock(&w->mu);
	w->nlines = w->handed = 0;
}

void
archive_writer_add(struct archive_writer *w, const char *agency,
    const char *sensor, const void *raw, size_t rawlen)
{
	size_t al = strlen(agency), sl = strlen(sensor), need;
	struct chunk *c = w->tail;
	uint8_t *o;

	if (w->st.paused && soc_mono_ms() < w->retry_at) {
		w->st.dropped++;
		return;
	}
	if (al > 0xffff || sl > 0xffff || rawlen > SOC_WIRE_MAX_BATCH) {
		w->st.dropped++;
		return;
	}
	need = 8 + al + sl + rawlen;
	if (c == NULL || c->cap - c->len < need) {
		if ((c = chunk_get(w, need)) == NULL) {
			/* the group's records so far go too: counted */
			w->st.dropped += w->nlines + 1;
			archive_writer_discard(w);
			return;
		}
		/* the encoder reads the old tail's len and next only once it
		 * is handed a chunk after it: both are final by then */
		c->base = group_pos(w);
		if (w->tail != NULL)
			w->tail->next = c;
		else
			w->head = c;
		w->tail = c;
	}
	o = c->data + c->len;
	o = put_u(o, (uint32_t)al, 2);
	memcpy(o, agency, al);
	o = put_u(o + al, (uint32_t)sl, 2);
	memcpy(o, sensor, sl);
	o = put_u(o + sl, (uint32_t)rawlen, 4);
	memcpy(o, raw, rawlen);
	c->len += need;
	w->nlines++;
	/* the encoder follows closely, so the group's end waits little */
	if (group_pos(w) - w->handed >= HAND_BYTES)
		hand_over(w);
}

/*
 * Gives the records not yet handed over to the encoder: a position moved
 * under the mutex (a broadcast with no waiter costs no system call).
 */
static void
hand_over(struct archive_writer *w)
{
	size_t pos = group_pos(w);

	if (pos <= w->handed)
		return;
	pthread_mutex_lock(&w->mu);
	w->hc = w->tail;
	w->hoff = w->tail->len;
	w->ebusy = 1;
	pthread_cond_broadcast(&w->ecv);
	pthread_mutex_unlock(&w->mu);
	w->handed = pos;
}

size_t
archive_writer_mark(struct archive_writer *w)
{
	return group_pos(w);
}

void
archive_writer_undo(struct archive_writer *w, size_t mark)
{
	struct chunk *c, *k;
	size_t off;

	if (mark >= group_pos(w))
		return;
	if (mark < w->handed) {
		/* (rare) the encoder has some of the batch undone: the
		 * group's frame is begun again from the records kept */
		enc_wait(w);
		ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_only);
		w->zlen = 0;
		w->fbytes = 0;
		w->handed = 0;
		pthread_mutex_lock(&w->mu);
		w->hc = w->ec = NULL;
		w->hoff = w->eoff = 0;
		pthread_mutex_unlock(&w->mu);
	}
	for (c = w->head; mark > c->base + c->len; c = c->next)
		;
	off = mark - c->base;
	for (k = c; k != NULL; k = k->next, off = 0)
		for (; off < k->len; off += rec_len(k->data + off))
			w->nlines--;	/* the records undone */
	c->len = mark - c->base;
	chunks_put(w, c->next);
	c->next = NULL;
	w->tail = c;
}

/* Waits for the encoder to be idle (everything handed over, encoded). */
static void
enc_wait(struct archive_writer *w)
{
	pthread_mutex_lock(&w->mu);
	while (w->ebusy || w->eend)
		pthread_cond_wait(&w->ecv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

void
archive_writer_discard(struct archive_writer *w)
{
	if (w->handed > 0) {
		enc_wait(w);
		ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_only);
		w->zlen = 0;
		w->fbytes = 0;
	}
	if (w->ewrote) {
		/* begun (archive_writer_flush_begin()), never flushed: the
		 * group failed; the frame the encoder wrote is cut */
		if (ftruncate(w->fd, (off_t)w->off) == -1)
			log_warn("archive: cutting %s back", w->seg);
		w->ewrote = 0;
	}
	w->werr = 0;
	w->fbegun = 0;
	if (w->ecreated) {
		w->ecreated = 0;
		w->st.segments++;
	}
	records_clear(w);
}

/* The encoder: output of the stream appended to w->z. */
static int
enc_compress(struct archive_writer *w, const char *s, size_t len,
    ZSTD_EndDirective end)
{
	ZSTD_inBuffer in = { s, len, 0 };
	size_t r;

	do {
		ZSTD_outBuffer out;

		if (w->zcap - w->zlen < ZSTD_CStreamOutSize()) {
			size_t cap = w->zcap ? w->zcap * 2 : 1u << 20;
			uint8_t *z;

			if ((z = realloc(w->z, cap)) == NULL)
				return -1;
			w->z = z;
			w->zcap = cap;
		}
		out = (ZSTD_outBuffer){ w->z + w->zlen, w->zcap - w->zlen, 0 };
		r = ZSTD_compressStream2(w->cctx, &out, &in, end);
		if (ZSTD_isError(r))
			return -1;
		w->zlen += out.pos;
	} while (end == ZSTD_e_end ? r != 0 : in.pos < in.size);
	return 0;
}

/* One record at p: decoded, stamped, indexed, its JSON line added. */
static void
enc_record(struct archive_writer *w, const uint8_t *p)
{
	struct soc_wire_reader r;
	char agency[256], sensor[256];
	const char *why;
	size_t al = get_u(p, 2), sl, rl, l0;

	memcpy(agency, p + 2, al < 255 ? al : 255);
	agency[al < 255 ? al : 255] = '\0';
	sl = get_u(p + 2 + al, 2);
	memcpy(sensor, p + 4 + al, sl < 255 ? sl : 255);
	sensor[sl < 255 ? sl : 255] = '\0';
	rl = get_u(p + 4 + al + sl, 4);
	r = (struct soc_wire_reader){ .p = p + 8 + al + sl, .left = rl,
	    .remaining = 1, .kind = SOC_WIRE_EVENTS };
	if (soc_wire_next_event(&r, w->ev, &why) != 1) {
		w->ebad++;
		return;
	}
	soc_event_stamp(w->ev, SOC_F_ORGANIZATION_ID, agency);
	soc_event_stamp(w->ev, SOC_F_OBSERVER_NAME, sensor);
	archive_index_add(w->ix, w->ev);
	l0 = w->lines.len;
	soc_json_event(&w->lines, w->ev);
	soc_sbuf_add(&w->lines, "\n", 1);
	/* a frame holds at most ARCHIVE_FRAME_MAX of JSON */
	if (w->fbytes + w->lines.len > ARCHIVE_FRAME_MAX) {
		if (enc_compress(w, w->lines.data, l0, ZSTD_e_end) == -1)
			w->eerr = 1;
		memmove(w->lines.data, w->lines.data + l0, w->lines.len - l0);
		w->lines.len -= l0;
		w->fbytes = 0;
	}
}

/* The records from the encoder's position to hc + hoff, in place. */
static void
enc_records(struct archive_writer *w, struct chunk *hc, size_t hoff)
{
	soc_sbuf_reset(&w->lines);
	if (w->ec == NULL) {
		w->ec = w->head;
		w->eoff = 0;
	}
	for (;;) {
		struct chunk *c = w->ec;
		size_t end = c == hc ? hoff : c->len;

		while (w->eoff < end && !w->eerr) {
			const uint8_t *p = c->data + w->eoff;

			w->eoff += rec_len(p);
			enc_record(w, p);
		}
		if (c == hc || w->eerr)
			break;
		w->ec = c->next;
		w->eoff = 0;
	}
	/* a failure: the rest is not encoded (the group is dropped) */
	w->ec = hc;
	w->eoff = hoff;
	if (w->lines.oom || enc_compress(w, w->lines.data, w->lines.len,
	    ZSTD_e_continue) == -1)
		w->eerr = 1;
	w->fbytes += w->lines.len;
}

/*
 * The encoder: the group's frame appended at the committed offset (the
 * segment created first if need be) and, archive.sync before, synced.
 * 0, or the errno with what failed in w->wwhat.
 */
static int
frame_write(struct archive_writer *w)
{
	size_t done = 0;
	ssize_t n;

	if (w->fd == -1) {
		if ((w->fd = openat(w->dfd, w->seg, O_WRONLY | O_CREAT |
		    O_CLOEXEC | O_NOFOLLOW, 0640)) == -1) {
			w->wwhat = "creating";
			return errno;
		}
		fsync(w->dfd);
		w->ecreated = 1;
	}
	w->ewrote = 1;
	while (done < w->zlen) {
		n = pwrite(w->fd, w->z + done, w->zlen - done,
		    (off_t)(w->off + done));
		if (n <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			w->wwhat = "writing";
			return n == 0 ? ENOSPC : errno;
		}
		done += (size_t)n;
	}
	if (!w->async && fdatasync(w->fd) == -1) {
		w->wwhat = "syncing";
		return errno;
	}
	return 0;
}

/* Whether records were handed that the encoder has not read (under mu). */
static int
enc_more(const struct archive_writer *w)
{
	return w->hc != NULL && (w->ec != w->hc || w->eoff < w->hoff);
}

static void *
enc_main(void *arg)
{
	struct archive_writer *w = arg;
	struct chunk *hc;
	size_t hoff;

	pthread_setname_np(pthread_self(), "archive-enc");
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->estop && !enc_more(w) && !w->eend) {
			w->ebusy = 0;
			pthread_cond_broadcast(&w->ecv);
			pthread_cond_wait(&w->ecv, &w->mu);
		}
		if (enc_more(w)) {
			hc = w->hc;
			hoff = w->hoff;
			pthread_mutex_unlock(&w->mu);
			enc_records(w, hc, hoff);
			pthread_mutex_lock(&w->mu);
			continue;
		}
		if (w->eend) {
			pthread_mutex_unlock(&w->mu);
			if (w->fbytes > 0 && enc_compress(w, "", 0, ZSTD_e_end) == -1)
				w->eerr = 1;
			w->fbytes = 0;
			if (w->ewrite && !w->eerr)
				w->werr = frame_write(w);
			w->ewrite = 0;
			pthread_mutex_lock(&w->mu);
			w->eend = 0;
			pthread_cond_broadcast(&w->ecv);
			continue;
		}
		break;		/* estop, nothing left */
	}
	w->ebusy = 0;
	pthread_cond_broadcast(&w->ecv);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* A write failed: cut what it left, pause, say so once. */
static int
write_failed(struct archive_writer *w, const char *what)
{
	int e = errno;

	if (w->fd != -1 && ftruncate(w->fd, (off_t)w->off) == -1)
		log_warn("archive: cutting %s back", w->seg);
	w->st.write_errors++;
	w->st.dropped += w->nlines;
	if (!w->st.paused) {
		errno = e;
		log_warn("archive paused: %s %s/%s; events are not archived"
		    " (counted) and writes are tried again every %lld s", what,
		    w->dir, w->seg, (long long)(w->retry_ms / 1000));
		w->dropped_at_pause = w->st.dropped - w->nlines;
	}
	w->st.paused = 1;
	w->retry_at = soc_mono_ms() + w->retry_ms;
	archive_writer_discard(w);
	return 0;
}

void
archive_writer_flush_begin(struct archive_writer *w)
{
	if (w->nlines == 0 || w->pending || w->fbegun ||
	    (w->st.paused && soc_mono_ms() < w->retry_at))
		return;
	hand_over(w);
	pthread_mutex_lock(&w->mu);
	w->eend = 1;
	w->ewrite = 1;
	w->fbegun = 1;
	w->werr = 0;
	pthread_cond_broadcast(&w->ecv);
	pthread_mutex_unlock(&w->mu);
}

int
archive_writer_flush(struct archive_writer *w, char seg[ARCHIVE_NAME_MAX],
    uint64_t *off, uint64_t *events)
{
	if (w->nlines == 0 || w->pending)
		return 0;
	if (w->st.paused && soc_mono_ms() < w->retry_at) {
		w->st.dropped += w->nlines;
		archive_writer_discard(w);
		return 0;
	}
	archive_writer_flush_begin(w);	/* unless the caller began it */
	enc_wait(w);
	w->fbegun = 0;
	if (w->ecreated) {
		w->ecreated = 0;
		w->st.segments++;
	}
	if (w->eerr) {
		w->eerr = 0;
		errno = ENOMEM;
		return write_failed(w, "compressing for");
	}
	if (w->werr != 0) {
		errno = w->werr;
		w->werr = 0;
		return write_failed(w, w->wwhat);
	}
	w->ewrote = 0;		/* pending now: done() cuts it if need be */
	if (w->async) {
		pthread_mutex_lock(&w->mu);
		w->sfd = w->fd;
		w->sbusy = 1;
		pthread_cond_broadcast(&w->scv);
		pthread_mutex_unlock(&w->mu);
	}
	if (w->st.paused) {
		log_info("archive resumed: %s/%s writable again; %llu events"
		    " were not archived meanwhile", w->dir, w->seg,
		    (unsigned long long)(w->st.dropped - w->dropped_at_pause));
		w->st.paused = 0;
	}
	w->woff = w->off + w->zlen;
	w->pending = 1;
	w->pend_lines = w->nlines;
	w->zlen = 0;
	records_clear(w);
	memcpy(seg, w->seg, ARCHIVE_NAME_MAX);
	*off = w->woff;
	*events = w->pend_lines;
	return 1;
}

void
archive_writer_done(struct archive_writer *w, int ok)
{
	int e;

	if (!w->pending)
		return;
	w->pending = 0;
	if ((e = sync_wait(w)) != 0) {
		/* committed, written, not known durable: only a power
		 * failure now loses it; said, counted */
		errno = e;
		log_warn("archive: syncing %s/%s", w->dir, w->seg);
		w->st.write_errors++;
	}
	if (ok) {
		w->st.events += w->pend_lines;
		w->st.bytes += w->woff - w->off;
		w->st.frames++;
		w->ix->events += w->pend_lines;
		w->ix->frames++;
		w->off = w->woff;
		return;
	}
	/* rolled back: the sensors resend these events */
	if (ftruncate(w->fd, (off_t)w->off) == -1)
		log_warn("archive: cutting %s back", w->seg);
}

const char *
archive_writer_position(const struct archive_writer *w, uint64_t *off)
{
	*off = w->off;
	return w->seg;
}

void
archive_writer_open_name(struct archive_writer *w, char out[ARCHIVE_NAME_MAX])
{
	pthread_mutex_lock(&w->mu);
	memcpy(out, w->seg, ARCHIVE_NAME_MAX);
	pthread_mutex_unlock(&w->mu);
}

const struct archive_wstats *
archive_writer_stats(const struct archive_writer *w)
{
	return &w->st;
}

const char *
archive_writer_dir(const struct archive_writer *w)
{
	return w->dir;
}
