/*
 * Disk spool for unacked batches (format and guarantees in spool.h).
 * Segments are append-only files; the index of live records is kept by
 * the uplink, this file keeps only per-segment bookkeeping.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "soc/log.h"
#include "spool.h"

#define SP_MAGIC	0x53434f53u	/* "SOCS" little-endian */
#define SP_HDR		12		/* magic, len, crc */
#define SP_FIXED	16		/* seq, cp_len, batch_len */
#define SP_SEG_MAX	(16u << 20)	/* roll to a new segment past this */
#define SP_MAX_SEGS	4096

struct seg {
	uint64_t	first_seq;
	uint64_t	last_seq;
	uint64_t	size;
	uint64_t	nrec;		/* records in this segment */
	int		fd;
};

struct spool {
	char		*dir;
	uint64_t	 max_bytes;
	struct seg	 segs[SP_MAX_SEGS];	/* oldest first */
	uint32_t	 nsegs;
	uint32_t	 base;			/* index of segs[0] for spool_rec.seg */
	struct spool_stats st;
};

static uint32_t crc_table[256];

static void
crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t
crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void
le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void
seg_path(const struct spool *sp, uint64_t first, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%020" PRIu64 ".seg", sp->dir, first);
}

static struct seg *
seg_of(struct spool *sp, uint32_t id)
{
	if (id < sp->base || id - sp->base >= sp->nsegs)
		return NULL;
	return &sp->segs[id - sp->base];
}

/* Remove segs[0]; counts its records as dropped when not acked. */
static void
seg_drop_oldest(struct spool *sp, int acked)
{
	char path[4096];
	struct seg *s = &sp->segs[0];

	seg_path(sp, s->first_seq, path, sizeof(path));
	if (s->fd != -1)
		close(s->fd);
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("spool: %s", path);
	sp->st.bytes -= s->size;
	if (!acked)
		log_warnx("spool: full (%" PRIu64 " bytes); dropped batches %"
		    PRIu64 "..%" PRIu64 " unsent", sp->max_bytes, s->first_seq,
		    s->last_seq);
	memmove(&sp->segs[0], &sp->segs[1], (sp->nsegs - 1) * sizeof(*s));
	sp->nsegs--;
	sp->base++;
}

/* Scan one segment; report valid records; cut a bad tail. */
static int
seg_scan(struct spool *sp, struct seg *s, uint32_t id,
    void (*fn)(void *, const struct spool_rec *), void *arg,
    char **last_cp, size_t *last_cp_len)
{
	uint8_t hdr[SP_HDR + SP_FIXED], *buf = NULL;
	struct stat stt;
	uint64_t off = 0;

	if (fstat(s->fd, &stt) == -1)
		return -1;
	while (off + sizeof(hdr) <= (uint64_t)stt.st_size) {
		uint32_t len, cp_len, blen;
		struct spool_rec r;
		uint8_t *nb;

		if (pread(s->fd, hdr, sizeof(hdr), (off_t)off) != (ssize_t)sizeof(hdr))
			break;
		len = rd32(hdr + 4);
		cp_len = rd32(hdr + 20);
		blen = rd32(hdr + 24);
		if (rd32(hdr) != SP_MAGIC || len != SP_FIXED + cp_len + blen ||
		    off + SP_HDR + len > (uint64_t)stt.st_size)
			break;
		if ((nb = realloc(buf, len)) == NULL)
			break;
		buf = nb;
		if (pread(s->fd, buf, len, (off_t)(off + SP_HDR)) != (ssize_t)len ||
		    crc32_update(0, buf, len) != rd32(hdr + 8))
			break;
		r = (struct spool_rec){ rd64(buf), id, off, blen, cp_len };
		if (s->first_seq == 0)
			s->first_seq = r.seq;
		s->last_seq = r.seq;
		s->nrec++;
		sp->st.records++;
		fn(arg, &r);
		free(*last_cp);
		*last_cp = NULL;
		*last_cp_len = 0;
		if (cp_len > 0 && (*last_cp = malloc(cp_len)) != NULL) {
			memcpy(*last_cp, buf + SP_FIXED, cp_len);
			*last_cp_len = cp_len;
		}
		off += SP_HDR + len;
	}
	free(buf);
	if (off < (uint64_t)stt.st_size) {
		sp->st.corrupt++;
		log_warnx("spool: segment %" PRIu64 ": cut a torn or corrupt "
		    "tail of %" PRIu64 " bytes", s->first_seq,
		    (uint64_t)stt.st_size - off);
		if (ftruncate(s->fd, (off_t)off) == -1)
			log_warn("spool: truncate");
	}
	s->size = off;
	sp->st.bytes += off;
	return 0;
}

static int
cmp_seq(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct spool *
spool_open(const char *dir, uint64_t max_bytes,
    void (*fn)(void *, const struct spool_rec *), void *arg,
    char **last_cp, size_t *last_cp_len, char *err, size_t errlen)
{
	struct spool *sp;
	uint64_t firsts[SP_MAX_SEGS];
	uint32_t n = 0;
	struct dirent *de;
	char path[4096];
	DIR *d;

	crc_init();
	*last_cp = NULL;
	*last_cp_len = 0;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "spool %s: %s", dir, strerror(errno));
		return NULL;
	}
	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "spool %s: %s", dir, strerror(errno));
		return NULL;
	}
	while ((de = readdir(d)) != NULL && n < SP_MAX_SEGS) {
		char *end;
		unsigned long long v = strtoull(de->d_name, &end, 10);

		if (end != de->d_name && strcmp(end, ".seg") == 0)
			firsts[n++] = v;
	}
	closedir(d);
	qsort(firsts, n, sizeof(firsts[0]), cmp_seq);
	if ((sp = calloc(1, sizeof(*sp))) == NULL || (sp->dir = strdup(dir)) == NULL) {
		free(sp);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sp->max_bytes = max_bytes;
	for (uint32_t i = 0; i < n; i++) {
		struct seg *s = &sp->segs[sp->nsegs];

		seg_path(sp, firsts[i], path, sizeof(path));
		memset(s, 0, sizeof(*s));
		if ((s->fd = open(path, O_RDWR | O_CLOEXEC)) == -1) {
			log_warn("spool: %s", path);
			continue;
		}
		sp->nsegs++;
		seg_scan(sp, s, sp->base + sp->nsegs - 1, fn, arg, last_cp, last_cp_len);
		s->first_seq = firsts[i];	/* the name is authoritative */
		if (s->size == 0) {		/* nothing valid: remove */
			close(s->fd);
			unlink(path);
			sp->nsegs--;
		}
	}
	if (sp->st.records > 0)
		log_info("spool %s: %" PRIu64 " unacked batches to resend",
		    dir, sp->st.records);
	return sp;
}

/* The size bound forces the oldest segment out: its batches are lost. */
static void
seg_drop_unsent(struct spool *sp)
{
	sp->st.dropped += sp->segs[0].nrec;
	sp->st.records -= sp->segs[0].nrec;
	seg_drop_oldest(sp, 0);
}

static struct seg *
seg_for_append(struct spool *sp, uint64_t seq, size_t need)
{
	struct seg *s;
	char path[4096];

	/* make room: drop whole segments, oldest first (counted, logged) */
	while (sp->nsegs > 0 && sp->st.bytes + need > sp->max_bytes)
		seg_drop_unsent(sp);
	s = sp->nsegs ? &sp->segs[sp->nsegs - 1] : NULL;
	if (s != NULL && s->size + need <= SP_SEG_MAX)
		return s;
	if (sp->nsegs == SP_MAX_SEGS)
		seg_drop_unsent(sp);
	s = &sp->segs[sp->nsegs];
	memset(s, 0, sizeof(*s));
	s->first_seq = seq;
	seg_path(sp, seq, path, sizeof(path));
	if ((s->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1) {
		log_warn("spool: %s", path);
		return NULL;
	}
	sp->nsegs++;
	return s;
}

int
spool_append(struct spool *sp, uint64_t seq, const void *cp, size_t cp_len,
    const void *batch, size_t batch_len, struct spool_rec *r)
{
	uint8_t hdr[SP_HDR + SP_FIXED];
	uint32_t len = (uint32_t)(SP_FIXED + cp_len + batch_len), crc;
	struct iovec_s { const void *p; size_t n; } parts[3];
	struct seg *s;
	uint64_t off;

	if ((s = seg_for_append(sp, seq, SP_HDR + len)) == NULL)
		return -1;
	le32(hdr, SP_MAGIC);
	le32(hdr + 4, len);
	le64(hdr + 12, seq);
	le32(hdr + 20, (uint32_t)cp_len);
	le32(hdr + 24, (uint32_t)batch_len);
	crc = crc32_update(0, hdr + 12, SP_FIXED);
	crc = crc32_update(crc, cp, cp_len);
	crc = crc32_update(crc, batch, batch_len);
	le32(hdr + 8, crc);
	parts[0] = (struct iovec_s){ hdr, sizeof(hdr) };
	parts[1] = (struct iovec_s){ cp, cp_len };
	parts[2] = (struct iovec_s){ batch, batch_len };
	off = s->size;
	for (int i = 0; i < 3; i++) {
		if (parts[i].n == 0)
			continue;
		if (pwrite(s->fd, parts[i].p, parts[i].n, (off_t)off) !=
		    (ssize_t)parts[i].n) {
			log_warn("spool: write");
			if (ftruncate(s->fd, (off_t)s->size) == -1)
				log_warn("spool: truncate");
			return -1;
		}
		off += parts[i].n;
	}
	if (fdatasync(s->fd) == -1) {
		log_warn("spool: fdatasync");
		return -1;
	}
	*r = (struct spool_rec){ seq, sp->base + (uint32_t)(s - sp->segs),
	    s->size, (uint32_t)batch_len, (uint32_t)cp_len };
	s->size = off;
	s->last_seq = seq;
	s->nrec++;
	sp->st.bytes += SP_HDR + len;
	sp->st.records++;
	return 0;
}

int
spool_read(struct spool *sp, const struct spool_rec *r, void *buf)
{
	struct seg *s = seg_of(sp, r->seg);
	off_t at = (off_t)(r->off + SP_HDR + SP_FIXED + r->cp_len);

	if (s == NULL)
		return -2;		/* dropped by the size bound */
	if (pread(s->fd, buf, r->batch_len, at) != (ssize_t)r->batch_len) {
		log_warn("spool: read");
		return -1;
	}
	return 0;
}

void
spool_ack(struct spool *sp, uint64_t seq)
{
	/* whole segments whose last record is acked go; keep the active one
	 * unless it too is fully acked (then the next append starts anew) */
	while (sp->nsegs > 0 && sp->segs[0].last_seq != 0 &&
	    sp->segs[0].last_seq <= seq) {
		sp->st.records -= sp->segs[0].nrec;
		seg_drop_oldest(sp, 1);
	}
}

uint64_t
spool_first_seq(struct spool *sp)
{
	return sp->nsegs ? sp->segs[0].first_seq : 0;
}

void
spool_stats(struct spool *sp, struct spool_stats *st)
{
	*st = sp->st;
}

void
spool_close(struct spool *sp)
{
	for (uint32_t i = 0; i < sp->nsegs; i++)
		if (sp->segs[i].fd != -1)
			close(sp->segs[i].fd);
	free(sp->dir);
	free(sp);
}
