/*
 * Reading the archive: segments as sequences of zstd frames, each frame
 * JSON lines.  Every byte is untrusted here (a disk, a copy, a hand):
 * a frame that does not say its size, claims more than ARCHIVE_FRAME_MAX
 * or does not decompress is counted and skipped; a segment that ends in
 * an incomplete frame (cut by a crash or a copy) is read up to its last
 * complete frame and counted; a line that is not an event is counted.
 *
 * The words of --text (ASCII letters in either case, other bytes as
 * they are) are found in one pass over each decompressed frame, sixteen
 * bytes at a time: a position is a candidate when its byte and the byte
 * at the word's end agree with the word's (folded), and the same pass
 * counts the lines.  A candidate is compared whole; then the line around
 * it is found and the other words are looked for in that line only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "soc/json.h"
#include "soc/time.h"
#include "archive-int.h"

/* A word of --text, lowercased, and the two bytes a candidate is tried by. */
struct word {
	char		*s;
	size_t		 len;		/* >= 1 */
	size_t		 off1;		/* len - 1 */
	unsigned char	 c0, c1;	/* s[0], s[off1] */
	unsigned char	 f0, f1;	/* 0x20 where that byte is a letter */
};

struct scan {
	const struct archive_query *q;
	archive_match_fn	 fn;
	void			*arg;
	archive_progress_fn	 progress;
	void			*parg;
	struct archive_rstats	*rs;
	ZSTD_DCtx		*dctx;
	char			*out;
	size_t			 outcap;
	uint8_t			*rbuf;		/* a segment's bytes */
	size_t			 rcap;
	struct soc_event	*ev;
	struct word		*words;
	size_t			 nwords;
	int			 nowhere;	/* a word no line can hold */
	int			 needs_ev;	/* parse every line */
	int			 stop;
};

static int
scan_init(struct scan *sc, const struct archive_query *q, int needs_ev,
    struct archive_rstats *rs)
{
	memset(sc, 0, sizeof(*sc));
	sc->q = q;
	sc->rs = rs;
	sc->needs_ev = needs_ev || (q != NULL && (q->parse ||
	    archive_query_needs_event(q)));
	if ((sc->dctx = ZSTD_createDCtx()) == NULL ||
	    (sc->ev = malloc(sizeof(*sc->ev))) == NULL)
		return -1;
	if (q != NULL && q->nwords > 0) {
		if ((sc->words = calloc(q->nwords, sizeof(*sc->words))) == NULL)
			return -1;
		for (size_t i = 0; i < q->nwords; i++) {
			struct word *w = &sc->words[sc->nwords];
			size_t len = strlen(q->words[i]);

			if (len == 0)
				continue;	/* in every line */
			if ((w->s = strdup(q->words[i])) == NULL)
				return -1;
			sc->nwords++;
			for (char *c = w->s; *c; c++) {
				if (*c >= 'A' && *c <= 'Z')
					*c += 'a' - 'A';
				if (*c == '\n')
					sc->nowhere = 1;
			}
			w->len = len;
			w->off1 = len - 1;
			w->c0 = (unsigned char)w->s[0];
			w->c1 = (unsigned char)w->s[w->off1];
			w->f0 = w->c0 >= 'a' && w->c0 <= 'z' ? 0x20 : 0;
			w->f1 = w->c1 >= 'a' && w->c1 <= 'z' ? 0x20 : 0;
		}
	}
	return 0;
}

static void
scan_free(struct scan *sc)
{
	ZSTD_freeDCtx(sc->dctx);
	free(sc->out);
	free(sc->rbuf);
	free(sc->ev);
	for (size_t i = 0; i < sc->nwords; i++)
		free(sc->words[i].s);
	free(sc->words);
}

/* @timestamp from the head of a line as soc_json_event() writes it. */
static int
line_ts(const char *s, size_t len, int64_t *ts)
{
	static const char head[] = "{\"@timestamp\":\"";
	const char *end;

	if (len < sizeof(head) || memcmp(s, head, sizeof(head) - 1) != 0)
		return -1;
	s += sizeof(head) - 1;
	len -= sizeof(head) - 1;
	if ((end = memchr(s, '"', len < 40 ? len : 40)) == NULL)
		return -1;
	return soc_time_parse(s, (size_t)(end - s), ts);
}

static void
scan_line(struct scan *sc, const char *s, size_t len)
{
	const struct archive_query *q = sc->q;
	struct archive_rstats *rs = sc->rs;
	int64_t ts;

	if (len == 0)
		return;
	if (sc->needs_ev) {
		if (len > ARCHIVE_LINE_MAX ||
		    soc_json_read_event(s, len, sc->ev, &(const char *){ NULL },
		    NULL) == -1) {
			rs->lines_bad++;
			return;
		}
		ts = sc->ev->ts;
		if (q != NULL && !archive_event_match(q, sc->ev))
			return;
	} else {
		if (line_ts(s, len, &ts) == -1) {
			rs->lines_bad++;
			return;
		}
		if (q != NULL && ((q->since != 0 && ts < q->since) ||
		    (q->until != 0 && ts > q->until)))
			return;
	}
	rs->matched++;
	if (sc->fn != NULL && sc->fn(sc->arg, s, len, ts,
	    sc->needs_ev ? sc->ev : NULL) != 0)
		sc->stop = 1;
}

/* ASCII lower case; other bytes as they are. */
static inline unsigned char
lower(unsigned char c)
{
	return (unsigned)(c - 'A') < 26u ? c + 32 : c;
}

/* Whether the word is at p (n bytes there at least). */
static inline int
word_at(const struct word *w, const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	for (size_t k = 0; k < w->len; k++)
		if (lower(u[k]) != (unsigned char)w->s[k])
			return 0;
	return 1;
}

/* The word's first place in [s, s+n), or NULL. */
static const char *
word_find(const struct word *w, const char *s, size_t n)
{
	size_t i = 0;

	if (n < w->len)
		return NULL;
#ifdef __SSE2__
	const __m128i c0 = _mm_set1_epi8((char)w->c0), c1 = _mm_set1_epi8((char)w->c1);
	const __m128i f0 = _mm_set1_epi8((char)w->f0), f1 = _mm_set1_epi8((char)w->f1);

	for (; i + 16 + w->off1 <= n; i += 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)(s + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(s + i + w->off1));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_and_si128(
		    _mm_cmpeq_epi8(_mm_or_si128(a, f0), c0),
		    _mm_cmpeq_epi8(_mm_or_si128(b, f1), c1)));

		for (; m != 0; m &= m - 1) {
			size_t at = i + (size_t)__builtin_ctz(m);

			if (word_at(w, s + at))
				return s + at;
		}
	}
#endif
	for (; i + w->len <= n; i++)
		if (lower((unsigned char)s[i]) == w->c0 && word_at(w, s + i))
			return s + i;
	return NULL;
}

/*
 * The first word found at `at` in buf: the line around it, if it holds
 * the other words, is a match.  The offset after that line.
 */
static size_t
text_hit(struct scan *sc, const char *buf, size_t len, size_t floor,
    size_t at)
{
	const char *e;
	size_t ls = at, le;

	while (ls > floor && buf[ls - 1] != '\n')
		ls--;
	e = memchr(buf + at, '\n', len - at);
	le = e != NULL ? (size_t)(e - buf) : len;
	for (size_t i = 1; i < sc->nwords; i++)
		if (word_find(&sc->words[i], buf + ls, le - ls) == NULL)
			return le + 1;
	scan_line(sc, buf + ls, le - ls);
	return le + 1;
}

/*
 * The frame's lines with the first word (and then the others): one pass
 * that counts the lines too.  The lines counted.
 */
static uint64_t
text_pass(struct scan *sc, const char *buf, size_t len)
{
	const struct word *w = &sc->words[0];
	uint64_t lines = 0;
	size_t i = 0, next = 0;		/* lines before next are decided */

#ifdef __SSE2__
	const __m128i c0 = _mm_set1_epi8((char)w->c0), c1 = _mm_set1_epi8((char)w->c1);
	const __m128i f0 = _mm_set1_epi8((char)w->f0), f1 = _mm_set1_epi8((char)w->f1);
	const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();

	while (i + 16 + w->off1 <= len && !sc->stop) {
		/* newlines in byte counters, summed every 255 blocks at most */
		__m128i cnt = zero;
		size_t stop = i + 255 * 16;

		if (stop > len - w->off1 - 15)
			stop = len - w->off1 - 15;
		for (; i < stop; i += 16) {
			__m128i a = _mm_loadu_si128((const __m128i *)(buf + i));
			__m128i b = _mm_loadu_si128((const __m128i *)(buf + i + w->off1));
			unsigned m;

			cnt = _mm_sub_epi8(cnt, _mm_cmpeq_epi8(a, nl));
			m = (unsigned)_mm_movemask_epi8(_mm_and_si128(
			    _mm_cmpeq_epi8(_mm_or_si128(a, f0), c0),
			    _mm_cmpeq_epi8(_mm_or_si128(b, f1), c1)));
			for (; m != 0 && !sc->stop; m &= m - 1) {
				size_t at = i + (size_t)__builtin_ctz(m);

				if (at >= next && word_at(w, buf + at))
					next = text_hit(sc, buf, len, next, at);
			}
		}
		cnt = _mm_sad_epu8(cnt, zero);
		lines += (uint64_t)_mm_cvtsi128_si32(cnt) +
		    (uint64_t)_mm_cvtsi128_si32(_mm_srli_si128(cnt, 8));
	}
#endif
	for (; i < len; i++) {
		if (buf[i] == '\n')
			lines++;
		if (!sc->stop && i >= next && i + w->len <= len &&
		    lower((unsigned char)buf[i]) == w->c0 && word_at(w, buf + i))
			next = text_hit(sc, buf, len, next, i);
	}
	return lines;
}

static void
scan_text(struct scan *sc, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;
	uint64_t n = 0;

	if (sc->nwords == 0 || sc->nowhere) {
		while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			n++;
			p = nl + 1;
		}
		sc->rs->events += n + (len > 0 && buf[len - 1] != '\n');
		if (sc->nowhere)
			return;
		for (p = buf; p < end && !sc->stop; p = nl + 1) {
			if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
				nl = end;
			scan_line(sc, p, (size_t)(nl - p));
		}
		return;
	}
	n = text_pass(sc, buf, len);
	sc->rs->events += n + (len > 0 && buf[len - 1] != '\n');
}

/* Room for n bytes of output: 0 / -1. */
static int
out_room(struct scan *sc, size_t n)
{
	char *o;

	if (sc->outcap >= n && sc->out != NULL)
		return 0;
	if ((o = realloc(sc->out, n ? n : 1)) == NULL)
		return -1;
	sc->out = o;
	sc->outcap = n ? n : 1;
	return 0;
}

/*
 * One frame (exactly its bytes), decompressed whole into sc->out.  The
 * writer streams, so its frames do not say their size: they go into the
 * buffer as it is (1 MiB at least), doubled while too small, up to
 * ARCHIVE_FRAME_MAX (the buffer is kept, so that is done once).
 */
static void
scan_frame(struct scan *sc, const void *p, size_t n)
{
	unsigned long long cs = ZSTD_getFrameContentSize(p, n);
	size_t r, cap;

	if (cs == ZSTD_CONTENTSIZE_UNKNOWN) {
		cap = sc->outcap < (1u << 20) ? 1u << 20 : sc->outcap;
		for (;;) {
			if (out_room(sc, cap) == -1) {
				sc->rs->frames_bad++;
				return;
			}
			r = ZSTD_decompressDCtx(sc->dctx, sc->out, cap, p, n);
			if (!ZSTD_isError(r))
				break;
			if (ZSTD_getErrorCode(r) != ZSTD_error_dstSize_tooSmall ||
			    cap >= ARCHIVE_FRAME_MAX) {
				sc->rs->frames_bad++;
				return;
			}
			cap = cap > ARCHIVE_FRAME_MAX / 2 ? ARCHIVE_FRAME_MAX :
			    cap * 2;
		}
		cs = r;
	} else if (cs == ZSTD_CONTENTSIZE_ERROR || cs > ARCHIVE_FRAME_MAX ||
	    out_room(sc, (size_t)cs) == -1) {
		sc->rs->frames_bad++;
		return;
	} else {
		r = ZSTD_decompressDCtx(sc->dctx, sc->out, cs, p, n);
		if (ZSTD_isError(r) || r != cs) {
			sc->rs->frames_bad++;
			return;
		}
	}
	scan_text(sc, sc->out, cs);
	if (sc->progress != NULL && sc->progress(sc->parg, sc->rs) != 0)
		sc->stop = 1;
}

/*
 * The frames in [p, p+len): the bytes consumed.  At eof, what is left
 * is an incomplete or unreadable frame: counted as a cut.
 */
static size_t
scan_frames(struct scan *sc, const uint8_t *p, size_t len, int eof)
{
	size_t off = 0, fs;

	while (off < len && !sc->stop) {
		fs = ZSTD_findFrameCompressedSize(p + off, len - off);
		if (ZSTD_isError(fs)) {
			if (eof || ZSTD_getErrorCode(fs) != ZSTD_error_srcSize_wrong) {
				sc->rs->cut++;
				return len;
			}
			break;
		}
		scan_frame(sc, p + off, fs);
		off += fs;
	}
	return off;
}

void
archive_scan_bytes(const void *data, size_t len, const struct archive_query *q,
    archive_match_fn fn, void *arg, struct archive_rstats *rs)
{
	struct scan sc;

	if (scan_init(&sc, q, 0, rs) == 0) {
		sc.fn = fn;
		sc.arg = arg;
		rs->bytes += len;
		scan_frames(&sc, data, len, 1);
	}
	scan_free(&sc);
}

/*
 * A segment file, read in chunks of 4 MiB (a frame at least: the buffer
 * grows for a larger one), the kernel asked for the next RA_AHEAD bytes
 * beyond each chunk so that the disk reads while the frames decompress.
 * The buffer is kept for the next segment.
 */
#define RA_AHEAD	(8u << 20)

static int
scan_fd(struct scan *sc, int fd)
{
	size_t have = 0, used;
	uint8_t *nb;
	ssize_t n;
	off_t pos = 0, ra = 0;
	int eof = 0;

	if (sc->rbuf == NULL) {
		if ((sc->rbuf = malloc(4u << 20)) == NULL)
			return -1;
		sc->rcap = 4u << 20;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while (!sc->stop) {
		if (!eof && ra < pos + (off_t)sc->rcap + (off_t)RA_AHEAD / 2) {
			(void)posix_fadvise(fd, ra, RA_AHEAD, POSIX_FADV_WILLNEED);
			ra += RA_AHEAD;
		}
		while (!eof && have < sc->rcap) {
			if ((n = read(fd, sc->rbuf + have, sc->rcap - have)) < 0) {
				if (errno == EINTR)
					continue;
				return -1;
			}
			if (n == 0)
				eof = 1;
			have += (size_t)n;
			pos += n;
			sc->rs->bytes += (size_t)n;
		}
		used = scan_frames(sc, sc->rbuf, have, eof);
		if (eof && (used == have || sc->stop))
			break;
		if (used == 0) {
			/* one frame larger than the buffer: grow, bounded */
			if (sc->rcap >= 2 * (size_t)ARCHIVE_FRAME_MAX ||
			    (nb = realloc(sc->rbuf, sc->rcap * 2)) == NULL) {
				sc->rs->cut++;
				break;
			}
			sc->rbuf = nb;
			sc->rcap *= 2;
			continue;
		}
		memmove(sc->rbuf, sc->rbuf + used, have - used);
		have -= used;
		if (eof && have == 0)
			break;
	}
	return 0;
}

int
archive_seg_name(const char *name, int64_t *start_ns)
{
	/* YYYYMMDDTHHMMSSZ-NNN.jsonl.zst */
	static const char pat[] = "99999999T999999Z-999";
	size_t plen = sizeof(pat) - 1, i;
	int64_t y;
	int mo, d, h, mi, s;

	if (strlen(name) != plen + strlen(ARCHIVE_SEG_SUFFIX) ||
	    strcmp(name + plen, ARCHIVE_SEG_SUFFIX) != 0)
		return 0;
	for (i = 0; i < plen; i++)
		if (pat[i] == '9' ? (name[i] < '0' || name[i] > '9') :
		    name[i] != pat[i])
			return 0;
	y = 0;
	for (i = 0; i < 4; i++)
		y = y * 10 + (name[i] - '0');
	mo = (name[4] - '0') * 10 + name[5] - '0';
	d = (name[6] - '0') * 10 + name[7] - '0';
	h = (name[9] - '0') * 10 + name[10] - '0';
	mi = (name[11] - '0') * 10 + name[12] - '0';
	s = (name[13] - '0') * 10 + name[14] - '0';
	if (y < 1970 || y > 2200 || !soc_time_valid(y, mo, d, h, mi, s))
		return 0;
	if (start_ns != NULL)
		*start_ns = soc_time_timegm(y, mo, d, h, mi, s) * 1000000000LL;
	return 1;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int
archive_seg_list(int dfd, char (**names)[ARCHIVE_NAME_MAX], size_t *np)
{
	char (*v)[ARCHIVE_NAME_MAX] = NULL, (*nv)[ARCHIVE_NAME_MAX];
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int fd;

	if ((fd = dup(dfd)) == -1 || lseek(fd, 0, SEEK_SET) == -1 ||
	    (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (!archive_seg_name(de->d_name, NULL))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				free(v);
				closedir(d);
				return -1;
			}
			v = nv;
		}
		memcpy(v[n++], de->d_name, strlen(de->d_name) + 1);
	}
	closedir(d);
	if (n > 0)
		qsort(v, n, sizeof(*v), name_cmp);
	*names = v;
	*np = n;
	return (int)n;
}

/* Scans one segment of dfd: 0, or -1 (cannot be opened). */
static int
scan_seg(struct scan *sc, int dfd, const char *name)
{
	struct stat sb;
	int fd, rc;

	if ((fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1)
		return -1;
	/* not a file (a FIFO would never end): as if it were not there */
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -1;
	}
	rc = scan_fd(sc, fd);
	close(fd);
	return rc;
}

/* Builds a segment's index by reading it (a crash lost the writer's). */
static int
build_one(void *arg, const char *line, size_t len, int64_t ts,
    const struct soc_event *ev)
{
	struct archive_index *ix = arg;

	(void)line, (void)len, (void)ts;
	if (ev != NULL) {
		archive_index_add(ix, ev);
		ix->events++;
	}
	return 0;
}

struct archive_index *
archive_index_build(int dfd, const char *seg, uint64_t *cut)
{
	struct archive_rstats rs = { 0 };
	struct archive_index *ix;
	struct scan sc;
	struct stat sb;
	int fd;

	if ((fd = openat(dfd, seg, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1 || fstat(fd, &sb) == -1 ||
	    !S_ISREG(sb.st_mode) || (ix = archive_index_new()) == NULL) {
		if (fd != -1)
			close(fd);
		return NULL;
	}
	if (scan_init(&sc, NULL, 1, &rs) == -1 ||
	    (sc.fn = build_one, sc.arg = ix, scan_fd(&sc, fd)) == -1) {
		scan_free(&sc);
		close(fd);
		archive_index_free(ix);
		return NULL;
	}
	scan_free(&sc);
	close(fd);
	ix->seg_bytes = (uint64_t)sb.st_size;
	if (cut != NULL)
		*cut = rs.cut;
	return ix;
}

typedef int (*skip_fn)(void *arg, const struct archive_index *ix);

/*
 * The segments are visited in order, but their indexes are read up to
 * IX_AHEAD segments ahead (the kernel asked for the index files SEG_AHEAD
 * ahead), and the start of each segment an index does not rule out is
 * asked for then: the disk reads while the frames before decompress.
 */
#define IX_AHEAD	8
#define SEG_AHEAD	32

struct ahead {
	struct archive_index	*ix;	/* NULL: none, stale or corrupt */
	int			 read;
	int			 stale;	/* missing, stale or corrupt */
	int			 may;	/* the query may match it */
};

static void
willneed(int dfd, const char *name, off_t len)
{
	int fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1)
		return;
	(void)posix_fadvise(fd, 0, len, POSIX_FADV_WILLNEED);
	close(fd);
}

/* Reads segment name's index into a (once) and asks for its start. */
static void
ahead_read(struct ahead *a, int dfd, const char *name,
    const struct archive_query *q)
{
	struct stat sb;

	if (a->read)
		return;
	a->read = 1;
	a->ix = archive_index_read(dfd, name);
	if (a->ix == NULL || fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
	    (uint64_t)sb.st_size != a->ix->seg_bytes) {
		archive_index_free(a->ix);
		a->ix = NULL;
		a->stale = 1;
		a->may = 1;
	} else
		a->may = q == NULL || archive_index_may_match(a->ix, q);
	if (a->may)
		willneed(dfd, name, RA_AHEAD);
}

static int
search_dir(const char *dir, const struct archive_query *q, archive_match_fn fn,
    void *arg, archive_progress_fn progress, void *parg, skip_fn skip,
    void *sarg, struct archive_rstats *rs, char *err, size_t errlen)
{
	char (*names)[ARCHIVE_NAME_MAX] = NULL;
	struct ahead *ah = NULL;
	struct scan sc;
	size_t n = 0, idx_asked = 0;
	int dfd, rc = -1;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "archive %s: %s", dir, strerror(errno));
		return -1;
	}
	if (archive_seg_list(dfd, &names, &n) == -1) {
		snprintf(err, errlen, "archive %s: %s", dir, strerror(errno));
		close(dfd);
		return -1;
	}
	if (scan_init(&sc, q, 0, rs) == -1 ||
	    (n > 0 && (ah = calloc(n, sizeof(*ah))) == NULL)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	sc.fn = fn;
	sc.arg = arg;
	sc.progress = progress;
	sc.parg = parg;
#define AT(k)	(q != NULL && q->oldest_first ? (k) : n - 1 - (k))
	for (size_t k = 0; k < n && !sc.stop; k++) {
		size_t i = AT(k);
		struct ahead *a = &ah[i];

		for (; idx_asked < n && idx_asked < k + SEG_AHEAD; idx_asked++) {
			char in[ARCHIVE_NAME_MAX + 8];

			snprintf(in, sizeof(in), "%s%s", names[AT(idx_asked)],
			    ARCHIVE_IDX_SUFFIX);
			willneed(dfd, in, 0);
		}
		for (size_t j = k; j < n && j <= k + IX_AHEAD; j++)
			ahead_read(&ah[AT(j)], dfd, names[AT(j)], q);
		rs->segments++;
		if (a->stale)
			rs->index_bad++;
		else if (!a->may || (skip != NULL && skip(sarg, a->ix))) {
			rs->skipped++;
			archive_index_free(a->ix);
			a->ix = NULL;
			continue;
		}
		archive_index_free(a->ix);
		a->ix = NULL;
		rs->scanned++;
		scan_seg(&sc, dfd, names[i]);
	}
#undef AT
	rc = 0;
out:
	if (ah != NULL)
		for (size_t i = 0; i < n; i++)
			archive_index_free(ah[i].ix);
	free(ah);
	scan_free(&sc);
	free(names);
	close(dfd);
	return rc;
}

int
archive_search(const char *dir, const struct archive_query *q,
    archive_match_fn fn, void *arg, archive_progress_fn progress, void *parg,
    struct archive_rstats *rs, char *err, size_t errlen)
{
	return search_dir(dir, q, fn, arg, progress, parg, NULL, NULL, rs, err,
	    errlen);
}

/* The newest matches so far: a min-heap on (ts, order). */
struct hit {
	int64_t		 ts;
	uint64_t	 order;
	char		*line;
	size_t		 len;
};

struct newest {
	struct hit	*h;
	size_t		 n, limit;
	uint64_t	 order;
	int		 oom;
};

static int
hit_less(const struct hit *a, const struct hit *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->order < b->order);
}

static void
heap_down(struct newest *nw, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct hit t;

		if (l < nw->n && hit_less(&nw->h[l], &nw->h[m]))
			m = l;
		if (r < nw->n && hit_less(&nw->h[r], &nw->h[m]))
			m = r;
		if (m == i)
			return;
		t = nw->h[i];
		nw->h[i] = nw->h[m];
		nw->h[m] = t;
		i = m;
	}
}

static int
newest_add(void *arg, const char *line, size_t len, int64_t ts,
    const struct soc_event *ev)
{
	struct newest *nw = arg;
	struct hit h = { ts, nw->order++, NULL, len };

	(void)ev;
	if (nw->n == nw->limit && !hit_less(&nw->h[0], &h))
		return 0;
	if ((h.line = malloc(len + 1)) == NULL) {
		nw->oom = 1;
		return 1;
	}
	memcpy(h.line, line, len);
	h.line[len] = '\0';
	if (nw->n < nw->limit) {
		size_t i = nw->n++;

		nw->h[i] = h;
		while (i > 0 && hit_less(&nw->h[i], &nw->h[(i - 1) / 2])) {
			struct hit t = nw->h[i];

			nw->h[i] = nw->h[(i - 1) / 2];
			nw->h[(i - 1) / 2] = t;
			i = (i - 1) / 2;
		}
		return 0;
	}
	free(nw->h[0].line);
	nw->h[0] = h;
	heap_down(nw, 0);
	return 0;
}

/* A full heap whose oldest is newer than the whole segment: skip it. */
static int
newest_skip(void *arg, const struct archive_index *ix)
{
	struct newest *nw = arg;

	return nw->n == nw->limit && ix->max_ts < nw->h[0].ts;
}

static int
hit_newer(const void *a, const void *b)
{
	return hit_less(b, a) ? -1 : hit_less(a, b) ? 1 : 0;
}

int
archive_search_newest(const char *dir, const struct archive_query *q,
    size_t limit, archive_match_fn fn, void *arg, archive_progress_fn progress,
    void *parg, struct archive_rstats *rs, char *err, size_t errlen)
{
	struct newest nw = { .limit = limit };
	int rc;

	if (limit == 0)
		return 0;
	if ((nw.h = calloc(limit, sizeof(*nw.h))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = search_dir(dir, q, newest_add, &nw, progress, parg, newest_skip,
	    &nw, rs, err, errlen);
	if (rc == 0 && nw.oom) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	if (rc == 0) {
		qsort(nw.h, nw.n, sizeof(*nw.h), hit_newer);
		for (size_t i = 0; i < nw.n; i++)
			if (fn(arg, nw.h[i].line, nw.h[i].len, nw.h[i].ts,
			    NULL) != 0)
				break;
	}
	for (size_t i = 0; i < nw.n; i++)
		free(nw.h[i].line);
	free(nw.h);
	return rc;
}
