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
#include "archive-int.h"

#define HOUR_NS		(3600LL * 1000000000LL)
#define RETRY_MS	30000

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
	struct archive_index	*ix;
	struct soc_sbuf		 buf;		/* the group's lines */
	uint64_t		 nlines;
	ZSTD_CCtx		*cctx;
	int			 level;
	uint8_t			*z;
	size_t			 zcap;
	int64_t			 retry_at;	/* mono ms */
	int64_t			 retry_ms;
	uint64_t		 dropped_at_pause;
	pthread_mutex_t		 mu;		/* seg, for the keeper */
	struct archive_wstats	 st;
};

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
	w->level = 3;
	w->retry_ms = RETRY_MS;
	pthread_mutex_init(&w->mu, NULL);
	soc_sbuf_init(&w->buf);
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
	    (w->ix = archive_index_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
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
	if (w->ix != NULL)
		seg_close(w);
	if (w->dfd != -1)
		close(w->dfd);
	archive_index_free(w->ix);
	ZSTD_freeCCtx(w->cctx);
	soc_sbuf_free(&w->buf);
	free(w->z);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

void
archive_writer_begin(struct archive_writer *w, int64_t now_ns)
{
	struct archive_index *ix;

	if (now_ns / HOUR_NS == w->hour || w->pending)
		return;
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

void
archive_writer_add(struct archive_writer *w, const struct soc_event *ev,
    const char *json, size_t len)
{
	if (w->st.paused && soc_mono_ms() < w->retry_at) {
		w->st.dropped++;
		return;
	}
	soc_sbuf_add(&w->buf, json, len);
	soc_sbuf_add(&w->buf, "\n", 1);
	if (w->buf.oom) {
		w->st.dropped += w->nlines + 1;
		soc_sbuf_free(&w->buf);
		soc_sbuf_init(&w->buf);
		w->nlines = 0;
		return;
	}
	w->nlines++;
	archive_index_add(w->ix, ev);
}

size_t
archive_writer_mark(const struct archive_writer *w)
{
	return w->buf.len;
}

void
archive_writer_undo(struct archive_writer *w, size_t mark)
{
	if (mark >= w->buf.len)
		return;
	for (size_t i = mark; i < w->buf.len; i++)
		if (w->buf.data[i] == '\n')
			w->nlines--;
	w->buf.len = mark;
}

void
archive_writer_discard(struct archive_writer *w)
{
	soc_sbuf_reset(&w->buf);
	w->nlines = 0;
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

/* Compresses [s, s+len) into w->z from zlen: frames of complete lines. */
static int
compress_lines(struct archive_writer *w, const char *s, size_t len,
    size_t *zlen)
{
	while (len > 0) {
		size_t chunk = len, need, r;

		if (chunk > ARCHIVE_FRAME_MAX) {
			chunk = ARCHIVE_FRAME_MAX;
			while (chunk > 0 && s[chunk - 1] != '\n')
				chunk--;
			if (chunk == 0)
				return -1;
		}
		need = *zlen + ZSTD_compressBound(chunk);
		if (need > w->zcap) {
			uint8_t *z;

			if ((z = realloc(w->z, need)) == NULL)
				return -1;
			w->z = z;
			w->zcap = need;
		}
		ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel,
		    w->level);
		r = ZSTD_compress2(w->cctx, w->z + *zlen, w->zcap - *zlen, s,
		    chunk);
		if (ZSTD_isError(r))
			return -1;
		*zlen += r;
		s += chunk;
		len -= chunk;
	}
	return 0;
}

int
archive_writer_flush(struct archive_writer *w, char seg[ARCHIVE_NAME_MAX],
    uint64_t *off, uint64_t *events)
{
	size_t zlen = 0, done = 0;
	ssize_t n;

	if (w->nlines == 0 || w->pending)
		return 0;
	if (w->st.paused) {
		if (soc_mono_ms() < w->retry_at) {
			w->st.dropped += w->nlines;
			archive_writer_discard(w);
			return 0;
		}
	}
	if (compress_lines(w, w->buf.data, w->buf.len, &zlen) == -1) {
		errno = ENOMEM;
		return write_failed(w, "compressing for");
	}
	if (w->fd == -1) {
		if ((w->fd = openat(w->dfd, w->seg, O_WRONLY | O_CREAT |
		    O_CLOEXEC | O_NOFOLLOW, 0640)) == -1)
			return write_failed(w, "creating");
		fsync(w->dfd);
		w->st.segments++;
	}
	while (done < zlen) {
		n = pwrite(w->fd, w->z + done, zlen - done,
		    (off_t)(w->off + done));
		if (n <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			if (n == 0)
				errno = ENOSPC;
			return write_failed(w, "writing");
		}
		done += (size_t)n;
	}
	if (fdatasync(w->fd) == -1)
		return write_failed(w, "syncing");
	if (w->st.paused) {
		log_info("archive resumed: %s/%s writable again; %llu events"
		    " were not archived meanwhile", w->dir, w->seg,
		    (unsigned long long)(w->st.dropped - w->dropped_at_pause));
		w->st.paused = 0;
	}
	w->woff = w->off + zlen;
	w->pending = 1;
	w->pend_lines = w->nlines;
	archive_writer_discard(w);
	memcpy(seg, w->seg, ARCHIVE_NAME_MAX);
	*off = w->woff;
	*events = w->pend_lines;
	return 1;
}

void
archive_writer_done(struct archive_writer *w, int ok)
{
	if (!w->pending)
		return;
	w->pending = 0;
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
