/*
 * Log files: read to the end (replays, --once) or followed as a daemon
 * does, without losing or duplicating a line across appends, rotations
 * and restarts.
 *
 * Lines end in LF or CRLF; a last line without a newline is still a line
 * at end of file (--once) or once its file has been rotated away
 * (following: a writer may still be finishing it otherwise).  A line
 * longer than the buffer is cut into pieces and each piece counted, never
 * dropped.
 *
 * Following.  logs.files holds paths or glob(3) patterns, re-evaluated at
 * every scan so files that appear later are picked up.  A file is known
 * by its inode (while we hold it open, the inode cannot be reused) and,
 * across restarts, by its inode plus an FNV-1a fingerprint of its first
 * min(256, offset) bytes, so a new file that got a recycled inode is not
 * taken for the old one.  For each file we keep one offset: just after
 * the last line handed to sensor_emit.  Nothing is buffered between
 * polls: an unfinished last line is simply read again next time, so one
 * shared read buffer serves every file.
 *
 *  - rename-and-create: the old inode no longer matches any pattern; its
 *    descriptor stays open and is drained for LF_GRACE_MS after it last
 *    grew (writers reopen late), then its unterminated last line is
 *    emitted and it is closed.  The new file at the path is read from its
 *    start.
 *  - copytruncate: the file got shorter than our offset, or its first
 *    bytes no longer match the fingerprint (truncated and rewritten past
 *    our offset between two polls): start over from the beginning.
 *  - logs.start_at ("beginning" | "end") applies to files present at
 *    start-up that the state file does not know; files that appear
 *    later are new, and read from their start.
 *
 * inotify (a watch on the directory of each pattern) only wakes the main
 * loop early: each logfile_follow_poll() reads every file anyway, and
 * re-runs the patterns at most every LF_SCAN_MS, so polling alone is
 * correct when inotify is unavailable (NFS, limits, wildcard dirs).
 *
 * The state file has one line per file, "inode fingerprint offset path",
 * written atomically (temporary file, fsync, rename, fsync of the
 * directory).  logfile_checkpoint() and logfile_state_save() are separate
 * and cheap, so the caller can save only what is safely delivered.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "soc/log.h"
#include "soc/util.h"
#include "logparse.h"
#include "sensor.h"

#define LF_BUFSZ	(1 << 20)
#define LF_MAX_FILES	1024
#define LF_FP_LEN	256		/* bytes of the fingerprint */
#define LF_GRACE_MS	2000		/* rotated-away files: drain this long */
#define LF_SCAN_MS	250		/* glob at most this often */
#define LF_POLL_BUFS	64		/* buffers per file per poll */
#define LF_FNV_BASIS	0xcbf29ce484222325ULL
#define LF_FNV_PRIME	0x100000001b3ULL
#define LF_INO_MASK	(IN_MODIFY | IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO | \
			 IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)

struct lfile {
	char		*path;		/* where we last saw it */
	int		 fd;
	dev_t		 dev;
	ino_t		 ino;
	off_t		 done;		/* just after the last line emitted */
	uint64_t	 fp;		/* FNV-1a of the first fplen bytes */
	size_t		 fplen;		/* min(LF_FP_LEN, done) once computed */
	off_t		 size;		/* at the last check */
	int64_t		 mtime_ns;
	unsigned	 seen;		/* scan generation */
	bool		 gone;		/* no pattern matches it any more */
	int64_t		 grew_ms;	/* last time it gave us a line */
};

/* A position from the state file not yet matched to an open file. */
struct lpend {
	ino_t		 ino;
	uint64_t	 fp;
	off_t		 off;
	char		*path;
};

static struct lfile	 files[LF_MAX_FILES];
static size_t		 nfiles;
static struct lpend	 pend[LF_MAX_FILES];
static size_t		 npend;
static struct sensor	*lf_s;
static char		*lf_buf;
static struct soc_event	 lf_ev;
static int		 lf_ino = -1;
static int		*lf_wd;		/* per pattern, -1: not watched */
static unsigned		 lf_gen;
static int64_t		 lf_last_scan;
static char		*lf_blob;
static size_t		 lf_blobcap;
static uint64_t		 lf_pieces, lf_skipped, lf_save_failed;

static void
emit_line(struct sensor *s, const char *path, const char *line, size_t len,
    int64_t now)
{
	struct logparse_ctx ctx = {
		.now_ns = now,
		.path = path,
		.tz_offset_sec = (int32_t)(s->conf.tz_offset_min * 60),
	};

	if (len > 0 && line[len - 1] == '\r')
		len--;
	s->c.log_lines++;
	logparse_line(&ctx, line, len, &lf_ev);
	sensor_emit(s, &lf_ev);
}

/*
 * Emit every complete line in buf[0..len); returns how many bytes of an
 * unfinished last line remain (moved to the front of buf).  A full buffer
 * with no newline is emitted as one piece.
 */
static size_t
split_lines(struct sensor *s, const char *path, char *buf, size_t len,
    size_t cap)
{
	int64_t now = soc_now_ns();
	size_t start = 0;
	char *nl;

	while (start < len &&
	    (nl = memchr(buf + start, '\n', len - start)) != NULL) {
		emit_line(s, path, buf + start, (size_t)(nl - (buf + start)),
		    now);
		start = (size_t)(nl - buf) + 1;
	}
	if (start == 0 && len == cap) {
		lf_pieces++;
		emit_line(s, path, buf, len, now);
		return 0;
	}
	memmove(buf, buf + start, len - start);
	return len - start;
}

int
logfile_read_once(struct sensor *s, const char *path)
{
	char *buf;
	size_t have = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s", path);
		s->c.log_files_failed++;
		return -1;
	}
	if ((buf = malloc(LF_BUFSZ)) == NULL) {
		close(fd);
		return -1;
	}
	while ((n = read(fd, buf + have, LF_BUFSZ - have)) > 0) {
		have = split_lines(s, path, buf, have + (size_t)n, LF_BUFSZ);
		sensor_tick(s);
	}
	if (n == -1)
		log_warn("%s", path);
	if (have > 0)
		emit_line(s, path, buf, have, soc_now_ns());	/* no newline */
	free(buf);
	close(fd);
	return n == -1 ? -1 : 0;
}

/*
 * Fingerprints.
 */

static uint64_t
lf_fnv(const char *p, size_t n)
{
	uint64_t h = LF_FNV_BASIS;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= LF_FNV_PRIME;
	}
	return h;
}

/* Fingerprint of the first min(LF_FP_LEN, upto) bytes; -1 on error. */
static int
lf_fingerprint(int fd, off_t upto, uint64_t *fp, size_t *fplen)
{
	char b[LF_FP_LEN];
	size_t want = upto < LF_FP_LEN ? (size_t)upto : LF_FP_LEN;
	ssize_t r = want > 0 ? pread(fd, b, want, 0) : 0;

	if (r < 0 || (size_t)r != want)
		return -1;
	*fp = lf_fnv(b, want);
	*fplen = want;
	return 0;
}

/* Keeps f->fp over the first min(LF_FP_LEN, done) bytes. */
static void
lf_refresh_fp(struct lfile *f)
{
	if (f->fplen < LF_FP_LEN && (off_t)f->fplen < f->done)
		lf_fingerprint(f->fd, f->done, &f->fp, &f->fplen);
}

static void
lf_restart(struct lfile *f, const char *why)
{
	log_info("%s: %s, reading from the start", f->path, why);
	f->done = 0;
	f->fp = lf_fnv(NULL, 0);
	f->fplen = 0;
}

/*
 * Reading.
 */

/*
 * Emits the lines appended since f->done (at most LF_POLL_BUFS buffers);
 * with final, an unterminated last line too.  Returns whether it emitted.
 */
static bool
lf_drain(struct sensor *s, struct lfile *f, bool final)
{
	bool emitted = false;
	size_t start;
	ssize_t r;
	char *nl;
	int64_t now;

	for (int k = 0; k < LF_POLL_BUFS; k++) {
		off_t base = f->done;

		if ((r = pread(f->fd, lf_buf, LF_BUFSZ, base)) <= 0)
			break;
		now = soc_now_ns();
		start = 0;
		/*
		 * f->done moves past each line before it is emitted: a batch
		 * flushed inside sensor_emit() checkpoints after that line,
		 * so a restart neither loses nor repeats it.
		 */
		while (start < (size_t)r && (nl = memchr(lf_buf + start, '\n',
		    (size_t)r - start)) != NULL) {
			size_t next = (size_t)(nl - lf_buf) + 1;

			f->done = base + (off_t)next;
			emit_line(s, f->path, lf_buf + start,
			    (size_t)(nl - (lf_buf + start)), now);
			start = next;
		}
		if (start == 0 && r == LF_BUFSZ) {
			lf_pieces++;
			f->done = base + LF_BUFSZ;
			emit_line(s, f->path, lf_buf, LF_BUFSZ, now);
			start = LF_BUFSZ;
		}
		if (final && r < LF_BUFSZ && start < (size_t)r) {
			f->done = base + r;
			emit_line(s, f->path, lf_buf + start,
			    (size_t)r - start, now);
			start = (size_t)r;
		}
		f->done = base + (off_t)start;
		emitted |= start > 0;
		if (r < LF_BUFSZ)
			break;		/* end of file */
		sensor_tick(s);
	}
	if (emitted) {
		f->grew_ms = soc_mono_ms();
		lf_refresh_fp(f);
	}
	return emitted;
}

/* Copytruncate: shorter than our offset, or first bytes rewritten. */
static void
lf_check_truncated(struct lfile *f)
{
	struct stat st;
	uint64_t fp;
	size_t fplen;
	int64_t mt;

	if (fstat(f->fd, &st) == -1)
		return;
	mt = (int64_t)st.st_mtim.tv_sec * SOC_NS + st.st_mtim.tv_nsec;
	if (st.st_size == f->size && mt == f->mtime_ns)
		return;
	f->size = st.st_size;
	f->mtime_ns = mt;
	if (st.st_size < f->done) {
		lf_restart(f, "truncated");
		return;
	}
	if (f->fplen > 0 && (lf_fingerprint(f->fd, (off_t)f->fplen, &fp,
	    &fplen) == -1 || fp != f->fp))
		lf_restart(f, "rewritten");
}

/*
 * The file table.
 */

static struct lfile *
lf_find(dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < nfiles; i++)
		if (files[i].ino == ino && files[i].dev == dev)
			return &files[i];
	return NULL;
}

/* A saved position for this open file, if inode and fingerprint match. */
static bool
lf_match_pending(int fd, ino_t ino, off_t size, off_t *off)
{
	uint64_t fp;
	size_t fplen;

	for (size_t i = 0; i < npend; i++) {
		if (pend[i].ino != ino)
			continue;
		if (lf_fingerprint(fd, pend[i].off < size ? pend[i].off : size,
		    &fp, &fplen) == -1 || fp != pend[i].fp)
			continue;
		/* shorter than the saved offset: truncated while we were away */
		*off = pend[i].off <= size ? pend[i].off : 0;
		free(pend[i].path);
		pend[i] = pend[--npend];
		return true;
	}
	return false;
}

/* Starts following a file; initial: a file of the start-up scan. */
static struct lfile *
lf_add(struct sensor *s, const char *path, bool initial)
{
	struct lfile *f;
	struct stat st;
	off_t off = 0;
	int fd;

	if (nfiles == LF_MAX_FILES) {
		if (lf_skipped++ == 0)
			log_warnx("%s: more than %d log files, not followed",
			    path, LF_MAX_FILES);
		return NULL;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s (will retry)", path);
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    lf_find(st.st_dev, st.st_ino) != NULL) {
		close(fd);
		return NULL;
	}
	f = &files[nfiles];
	memset(f, 0, sizeof(*f));
	if ((f->path = strdup(path)) == NULL) {
		close(fd);
		return NULL;
	}
	f->fd = fd;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->seen = lf_gen;
	f->grew_ms = soc_mono_ms();
	if (lf_match_pending(fd, st.st_ino, st.st_size, &off))
		log_info("%s: resuming at offset %lld", path, (long long)off);
	else if (initial && s->conf.start_at != NULL &&
	    strcmp(s->conf.start_at, "end") == 0)
		off = st.st_size;
	f->done = off;
	f->fp = lf_fnv(NULL, 0);
	lf_refresh_fp(f);
	nfiles++;
	log_debug("%s: following from offset %lld", path, (long long)off);
	return f;
}

static void
lf_remove(struct lfile *f)
{
	close(f->fd);
	free(f->path);
	*f = files[--nfiles];
}

/* inotify watch on the directory of pattern i, if it has no wildcard. */
static void
lf_watch(size_t i, const char *pattern)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(pattern, '/');
	size_t n;

	if (lf_ino == -1 || lf_wd[i] != -1)
		return;
	if (slash == NULL)
		strcpy(dir, ".");
	else {
		n = slash == pattern ? 1 : (size_t)(slash - pattern);
		if (n >= sizeof(dir))
			return;
		memcpy(dir, pattern, n);
		dir[n] = '\0';
	}
	if (strpbrk(dir, "*?[") != NULL)
		return;
	lf_wd[i] = inotify_add_watch(lf_ino, dir, LF_INO_MASK);
}

/*
 * Runs the patterns: new files are added, known ones get their current
 * path, and files no pattern matches any more start their grace period.
 */
static void
lf_scan(struct sensor *s, bool initial)
{
	const struct conf_list *l = &s->conf.log_files;
	struct lfile *f;
	struct stat st;
	bool failed = false;
	glob_t g;
	int rc;

	lf_gen++;
	lf_last_scan = soc_mono_ms();
	for (size_t i = 0; i < l->n; i++) {
		lf_watch(i, l->v[i]);
		if ((rc = glob(l->v[i], 0, NULL, &g)) != 0) {
			/* a read error is not a rotation: keep what we have */
			failed |= rc != GLOB_NOMATCH;
			globfree(&g);
			continue;
		}
		for (size_t k = 0; k < g.gl_pathc; k++) {
			if (stat(g.gl_pathv[k], &st) == -1 ||
			    !S_ISREG(st.st_mode))
				continue;
			if ((f = lf_find(st.st_dev, st.st_ino)) == NULL) {
				lf_add(s, g.gl_pathv[k], initial);
				continue;
			}
			f->seen = lf_gen;
			f->gone = false;
			if (strcmp(f->path, g.gl_pathv[k]) != 0) {
				char *p = strdup(g.gl_pathv[k]);

				if (p != NULL) {
					free(f->path);
					f->path = p;
				}
			}
		}
		globfree(&g);
	}
	for (size_t i = 0; i < nfiles && !failed; i++) {
		if (files[i].seen != lf_gen && !files[i].gone) {
			files[i].gone = true;
			log_info("%s: rotated or removed, finishing the old file",
			    files[i].path);
		}
	}
}

/*
 * A saved position whose file is no longer at its path: logrotate's
 * "path.1" is where a file rotated while we were down usually is.
 */
static void
lf_find_rotated(struct sensor *s)
{
	char alt[PATH_MAX];
	struct stat st;
	struct lfile *f;

	for (size_t i = 0; i < npend;) {
		size_t before = npend;

		if (snprintf(alt, sizeof(alt), "%s.1", pend[i].path) <
		    (int)sizeof(alt) && stat(alt, &st) == 0 &&
		    st.st_ino == pend[i].ino && (f = lf_add(s, alt, false)) !=
		    NULL) {
			if (npend < before) {
				log_info("%s: rotated while stopped, finishing it",
				    alt);
				f->gone = true;
			} else
				lf_remove(f);	/* a different file */
		}
		if (npend == before)
			i++;
	}
}

/*
 * State file.
 */

static void
lf_load_state(const char *path)
{
	char line[PATH_MAX + 128], *p, *end;
	unsigned long long ino, fp;
	long long off;
	FILE *fp_in;
	size_t n;

	if (path == NULL || (fp_in = fopen(path, "re")) == NULL) {
		if (path != NULL && errno != ENOENT)
			log_warn("%s", path);
		return;
	}
	while (fgets(line, sizeof(line), fp_in) != NULL && npend < LF_MAX_FILES) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		n = strlen(line);
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		errno = 0;
		ino = strtoull(line, &p, 10);
		if (*p != ' ')
			goto bad;
		fp = strtoull(p + 1, &end, 16);
		if (*end != ' ' || end == p + 1)
			goto bad;
		off = strtoll(end + 1, &p, 10);
		if (*p != ' ' || off < 0 || errno != 0 || p[1] == '\0')
			goto bad;
		if ((pend[npend].path = strdup(p + 1)) == NULL)
			break;
		pend[npend].ino = (ino_t)ino;
		pend[npend].fp = fp;
		pend[npend].off = (off_t)off;
		npend++;
		continue;
bad:
		log_warnx("%s: ignoring a malformed line", path);
	}
	fclose(fp_in);
}

/* Appends "inode fp offset path\n"; false if it does not fit. */
static bool
lf_put(char *buf, size_t cap, size_t *len, ino_t ino, uint64_t fp, off_t off,
    const char *path)
{
	int n = snprintf(buf + *len, cap - *len, "%llu %016" PRIx64 " %lld ",
	    (unsigned long long)ino, fp, (long long)off);
	size_t pl = strlen(path);

	if (n < 0 || (size_t)n + pl + 1 >= cap - *len)
		return false;
	*len += (size_t)n;
	for (size_t i = 0; i < pl; i++)
		buf[(*len)++] = path[i] == '\n' ? '?' : path[i];
	buf[(*len)++] = '\n';
	return true;
}

size_t
logfile_checkpoint(char *buf, size_t cap)
{
	static const char head[] = "# soc-sensor log positions: inode "
	    "fingerprint offset path\n";
	size_t len = sizeof(head) - 1;

	if (cap <= len)
		return 0;
	memcpy(buf, head, len);
	for (size_t i = 0; i < nfiles; i++) {
		/* the fingerprint must cover min(LF_FP_LEN, offset) bytes, as a
		 * restart checks it: a checkpoint may be taken mid-drain */
		lf_refresh_fp(&files[i]);
		if (!lf_put(buf, cap, &len, files[i].ino, files[i].fp,
		    files[i].done, files[i].path))
			return 0;
	}
	for (size_t i = 0; i < npend; i++)
		if (!lf_put(buf, cap, &len, pend[i].ino, pend[i].fp,
		    pend[i].off, pend[i].path))
			return 0;
	return len;
}

static int
lf_write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
logfile_state_save(const char *blob, size_t len)
{
	const char *path = lf_s != NULL ? lf_s->conf.state_file : NULL;
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *slash;
	int fd;

	if (path == NULL || *path == '\0')
		return 0;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		goto fail;
	if (lf_write_all(fd, blob, len) == -1 || fsync(fd) == -1) {
		close(fd);
		goto fail;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1)
		goto fail;
	/* the rename itself must survive a crash */
	slash = strrchr(path, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(fd);
		close(fd);
	}
	lf_save_failed = 0;
	return 0;
fail:
	if (lf_save_failed++ == 0)
		log_warn("%s: cannot save log positions", path);
	return -1;
}

/* Checkpoint into a buffer that grows (rarely) as files are added. */
static void
lf_save(void)
{
	size_t len;
	char *nb;

	/* sending to a correlator, the uplink saves positions once the
	 * lines are spooled or acked, never before (uplink.c) */
	if (lf_s->conf.state_file == NULL || lf_s->out == OUT_UPLINK)
		return;
	while ((len = logfile_checkpoint(lf_blob, lf_blobcap)) == 0) {
		size_t cap = lf_blobcap ? lf_blobcap * 2 : 65536;

		if ((nb = realloc(lf_blob, cap)) == NULL)
			return;
		lf_blob = nb;
		lf_blobcap = cap;
	}
	logfile_state_save(lf_blob, len);
}

/*
 * Following.
 */

int
logfile_follow_fd(void)
{
	return lf_ino;
}

void
logfile_init(struct sensor *s)
{
	lf_s = s;
}

int
logfile_follow_open(struct sensor *s)
{
	lf_s = s;
	if (s->conf.log_files.n == 0)
		return 0;
	if ((lf_buf = malloc(LF_BUFSZ)) == NULL ||
	    (lf_wd = calloc(s->conf.log_files.n, sizeof(*lf_wd))) == NULL) {
		log_warnx("log files: out of memory");
		return -1;
	}
	for (size_t i = 0; i < s->conf.log_files.n; i++)
		lf_wd[i] = -1;
	if ((lf_ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		log_warn("inotify unavailable, polling log files");
	lf_load_state(s->conf.state_file);
	lf_scan(s, true);
	lf_find_rotated(s);
	for (size_t i = 0; i < s->conf.log_files.n; i++)
		if (lf_wd[i] == -1 && lf_ino != -1)
			log_debug("%s: not watched, polled", s->conf.log_files.v[i]);
	return 0;
}

/* Reads and discards pending inotify events (they only wake us). */
static void
lf_inotify_drain(void)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (lf_ino == -1)
		return;
	while (read(lf_ino, buf, sizeof(buf)) > 0)
		;
}

void
logfile_follow_poll(struct sensor *s)
{
	bool emitted = false;
	struct lfile *f;
	int64_t now;

	if (lf_buf == NULL)
		return;
	lf_inotify_drain();
	/* what was appended to the files we know, before any new file */
	for (size_t i = 0; i < nfiles; i++) {
		lf_check_truncated(&files[i]);
		emitted |= lf_drain(s, &files[i], false);
	}
	now = soc_mono_ms();
	if (now - lf_last_scan >= LF_SCAN_MS) {
		size_t known = nfiles;

		lf_scan(s, false);
		for (size_t i = known; i < nfiles; i++)
			emitted |= lf_drain(s, &files[i], false);
		for (size_t i = 0; i < nfiles;) {
			f = &files[i];
			if (!f->gone || now - f->grew_ms < LF_GRACE_MS) {
				i++;
				continue;
			}
			emitted |= lf_drain(s, f, true);
			log_info("%s: finished the rotated file", f->path);
			lf_remove(f);
		}
	}
	if (emitted) {
		if (s->out == OUT_JSON && s->jsonout != NULL)
			fflush(s->jsonout);	/* emitted means written */
		lf_save();
	}
}

void
logfile_follow_close(void)
{
	if (lf_s != NULL && lf_buf != NULL) {
		if (lf_s->out == OUT_JSON && lf_s->jsonout != NULL)
			fflush(lf_s->jsonout);
		lf_save();
	}
	if (lf_pieces > 0)
		log_info("log files: %llu over-long lines cut into pieces",
		    (unsigned long long)lf_pieces);
	while (nfiles > 0)
		lf_remove(&files[nfiles - 1]);
	for (size_t i = 0; i < npend; i++)
		free(pend[i].path);
	npend = 0;
	if (lf_ino != -1)
		close(lf_ino);
	lf_ino = -1;
	free(lf_wd);
	lf_wd = NULL;
	free(lf_buf);
	lf_buf = NULL;
	free(lf_blob);
	lf_blob = NULL;
	lf_blobcap = 0;
}
