/*
 * Log files: read to the end (replays, --once) or followed as a daemon
 * does, without losing or duplicating a line across appends, rotations
 * and restarts.
 *
 * Lines end in LF or CRLF; a last line without a newline is still a line
 * at end of file (--once) or once its file has been rotated away
 * (following: a writer may still be finishing it otherwise).  A line
 * longer than the buffer (1 MiB) is cut: its first 1 MiB is emitted,
 * marked truncated (soc.truncated) and counted, and the rest of it up to
 * the next newline is dropped -- never parsed as lines of their own, which
 * would let one long line carry a forged event in its tail.  A position
 * saved inside such a line (the byte before it is not a newline) resumes
 * by skipping to the next line, for the same reason.
 *
 * Links: a configured path that is a symbolic link at start is followed
 * as the operator asked; any other file is opened with O_NOFOLLOW, so a
 * followed file replaced by a link (to /etc/shadow, say) is refused,
 * counted and logged, never read.  A link inside a watched directory
 * (/var/log/app/x -> /etc/shadow) is refused the same way: only the
 * configured path itself may be one.
 *
 * Directories (logfile-dir.c): each pattern's directory is opened with
 * O_DIRECTORY|O_NOFOLLOW and must keep the inode it had when first seen,
 * so a directory replaced by a link (/var/log/app -> /etc) is never
 * read; its files are listed with readdir + fnmatch(3) and opened
 * relative to it (openat).  Wildcards in directory components are
 * expanded by glob(3), each directory found then checked the same way.
 * Every refusal is logged once per path, never at every scan.
 *
 * Following.  logs.files holds paths or glob(3) patterns, re-evaluated at
 * every scan so files that appear later are picked up.  A file is known
 * by its inode (while we hold it open, the inode cannot be reused) and,
 * across restarts, by its inode plus an FNV-1a fingerprint of its first
 * min(256, offset) bytes, so a new file that got a recycled inode is not
 * taken for the old one.  For each file we keep one offset: just after
 * the last line handed to the emit callback.  Nothing is buffered between
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
 * loop early: each logfile_poll() reads every file anyway, and
 * re-runs the patterns at most every LF_SCAN_MS, so polling alone is
 * correct when inotify is unavailable (NFS, limits, wildcard dirs).
 *
 * The state file has one line per file, "inode fingerprint offset path",
 * written atomically by soc_write_atomic().  logfile_checkpoint() and
 * logfile_save() are separate and cheap, so the caller saves only what is
 * safely delivered: the uplink after the spool write or the ack, main.c
 * after flushing JSON.  The module itself never saves.
 *
 * Pausing: logfile_pause() (from inside the emit or tick callback, when
 * the uplink cannot take a batch) stops reading after the line just
 * emitted; offsets stay just after it, so the rest stays in the file and
 * is read once the caller resumes -- a file is never read past what the
 * caller could keep.
 *
 * All state lives in a struct logfile_set; lines go to the emit callback
 * given to logfile_open(), which may take a checkpoint from inside.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "soc/hash.h"
#include "soc/log.h"
#include "soc/util.h"
#include "intake.h"
#include "logfile-dir.h"
#include "logparse.h"

#define LF_BUFSZ	(1 << 20)
#define LF_MAX_FILES	1024
#define LF_FP_LEN	256		/* bytes of the fingerprint */
#define LF_GRACE_MS	2000		/* rotated-away files: drain this long */
#define LF_SCAN_MS	250		/* glob at most this often */
#define LF_FP_EMPTY	SOC_FNV64_BASIS	/* fingerprint of no bytes */
#define LF_POLL_BUFS	64		/* buffers per file per poll */
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
	bool		 skip_to_lf;	/* dropping the rest of a long line */
	int64_t		 grew_ms;	/* last time it gave us a line */
};

/* A position from the state file not yet matched to an open file. */
struct lpend {
	ino_t		 ino;
	uint64_t	 fp;
	off_t		 off;
	char		*path;
};

struct logfile_set {
	struct logfile_conf	 conf;
	soc_emit_fn		 emit;
	intake_tick_fn		 tick;
	void			*arg;
	struct lfile		 files[LF_MAX_FILES];
	size_t			 nfiles;
	struct lpend		 pend[LF_MAX_FILES];	/* from the state file */
	size_t			 npend;
	char			*buf;		/* following: one for every file */
	struct soc_event	 ev;
	int			 ino;		/* inotify, or -1 */
	int			*wd;		/* per pattern, -1: not watched */
	unsigned		 gen;		/* scan generation */
	int64_t			 last_scan;	/* mono ms */
	bool			*linked;	/* per pattern: a link at start */
	struct lf_dirs		 dirs;		/* checked; refusals logged */
	char			*blob;		/* logfile_save_positions() */
	size_t			 blobcap;
	uint64_t		 skipped;	/* files over LF_MAX_FILES */
	uint64_t		 save_failed;	/* in a row; the saving thread's */
	bool			 paused;	/* logfile_pause(): read nothing */
	struct logfile_stats	 st;
	struct auditd_asm	*auditd;	/* audit.log records, or NULL */
};

static void
emit_line(struct logfile_set *ls, const char *path, const char *line,
    size_t len, int64_t now, bool cut)
{
	struct logparse_ctx ctx = {
		.now_ns = now,
		.path = path,
		.tz_offset_sec = ls->conf.tz_offset_sec,
		.zones = ls->conf.zones,	/* by the line's host name */
	};

	if (len > 0 && line[len - 1] == '\r')
		len--;
	ls->st.lines++;
	/* audit.log: records are joined by serial, emitted when complete */
	if (log_auditd_record(line, len) >= 0 && (ls->auditd != NULL ||
	    (ls->auditd = auditd_asm_new(0, 0, ls->emit, ls->arg)) != NULL)) {
		auditd_asm_feed(ls->auditd, &ctx, line, len, NULL, cut);
		return;
	}
	log_syslog_parse(&ctx, line, len, &ls->ev);
	if (cut)
		soc_event_set_truncated(&ls->ev);
	ls->emit(ls->arg, &ls->ev);
}

/*
 * Emit every complete line in buf[0..len); returns how many bytes of an
 * unfinished last line remain (moved to the front of buf).  A full buffer
 * with no newline is emitted as one cut line, and *skip set: what follows
 * up to the next newline is dropped.
 */
static size_t
split_lines(struct logfile_set *ls, const char *path, char *buf, size_t len,
    size_t cap, bool *skip)
{
	int64_t now = soc_now_ns();
	size_t start = 0;
	char *nl;

	if (*skip) {
		if ((nl = memchr(buf, '\n', len)) == NULL)
			return 0;
		*skip = false;
		start = (size_t)(nl - buf) + 1;
	}
	while (start < len &&
	    (nl = memchr(buf + start, '\n', len - start)) != NULL) {
		emit_line(ls, path, buf + start, (size_t)(nl - (buf + start)),
		    now, false);
		start = (size_t)(nl - buf) + 1;
	}
	if (start == 0 && len == cap) {
		ls->st.pieces++;
		emit_line(ls, path, buf, len, now, true);
		*skip = true;
		return 0;
	}
	memmove(buf, buf + start, len - start);
	return len - start;
}

int
logfile_read_once(struct logfile_set *ls, const char *path)
{
	char *buf;
	size_t have = 0;
	bool skip = false;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s", path);
		ls->st.files_failed++;
		return -1;
	}
	if ((buf = malloc(LF_BUFSZ)) == NULL) {
		close(fd);
		return -1;
	}
	while ((n = read(fd, buf + have, LF_BUFSZ - have)) > 0) {
		have = split_lines(ls, path, buf, have + (size_t)n, LF_BUFSZ,
		    &skip);
		ls->tick(ls->arg);
	}
	if (n == -1)
		log_warn("%s", path);
	if (have > 0)				/* no newline */
		emit_line(ls, path, buf, have, soc_now_ns(), false);
	auditd_asm_flush(ls->auditd);
	free(buf);
	close(fd);
	return n == -1 ? -1 : 0;
}

/*
 * Fingerprints.
 */

/* Fingerprint of the first min(LF_FP_LEN, upto) bytes; -1 on error. */
static int
lf_fingerprint(int fd, off_t upto, uint64_t *fp, size_t *fplen)
{
	char b[LF_FP_LEN];
	size_t want = upto < LF_FP_LEN ? (size_t)upto : LF_FP_LEN;
	ssize_t r = want > 0 ? pread(fd, b, want, 0) : 0;

	if (r < 0 || (size_t)r != want)
		return -1;
	*fp = soc_fnv1a64(SOC_FNV64_BASIS, b, want);
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
	f->fp = LF_FP_EMPTY;
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
lf_drain(struct logfile_set *ls, struct lfile *f, bool final)
{
	bool emitted = false;
	size_t start;
	ssize_t r;
	char *nl;
	int64_t now;

	for (int k = 0; k < LF_POLL_BUFS && !ls->paused; k++) {
		off_t base = f->done;

		if ((r = pread(f->fd, ls->buf, LF_BUFSZ, base)) <= 0)
			break;
		now = soc_now_ns();
		start = 0;
		if (f->skip_to_lf) {
			/* the rest of a cut line: up to its newline, dropped */
			if ((nl = memchr(ls->buf, '\n', (size_t)r)) == NULL) {
				f->done = base + r;
				if (r < LF_BUFSZ)
					break;
				continue;
			}
			f->skip_to_lf = false;
			start = (size_t)(nl - ls->buf) + 1;
			f->done = base + (off_t)start;
		}
		/*
		 * f->done moves past each line before it is emitted: a batch
		 * flushed inside the emit callback checkpoints after that line,
		 * so a restart neither loses nor repeats it.
		 */
		while (start < (size_t)r && (nl = memchr(ls->buf + start, '\n',
		    (size_t)r - start)) != NULL) {
			size_t next = (size_t)(nl - ls->buf) + 1;

			f->done = base + (off_t)next;
			emit_line(ls, f->path, ls->buf + start,
			    (size_t)(nl - (ls->buf + start)), now, false);
			start = next;
			if (ls->paused)		/* the rest stays in the file */
				break;
		}
		if (start == 0 && r == LF_BUFSZ) {
			ls->st.pieces++;
			f->done = base + LF_BUFSZ;
			f->skip_to_lf = true;
			emit_line(ls, f->path, ls->buf, LF_BUFSZ, now, true);
			start = LF_BUFSZ;
		}
		if (final && !ls->paused && r < LF_BUFSZ && start < (size_t)r) {
			f->done = base + r;
			emit_line(ls, f->path, ls->buf + start,
			    (size_t)r - start, now, false);
			start = (size_t)r;
		}
		f->done = base + (off_t)start;
		emitted |= start > 0;
		if (r < LF_BUFSZ || ls->paused)
			break;		/* end of file, or told to stop */
		ls->tick(ls->arg);
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
lf_find(struct logfile_set *ls, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < ls->nfiles; i++)
		if (ls->files[i].ino == ino && ls->files[i].dev == dev)
			return &ls->files[i];
	return NULL;
}

/* A saved position for this open file, if inode and fingerprint match. */
static bool
lf_match_pending(struct logfile_set *ls, int fd, ino_t ino, off_t size,
    off_t *off)
{
	uint64_t fp;
	size_t fplen;

	for (size_t i = 0; i < ls->npend; i++) {
		if (ls->pend[i].ino != ino)
			continue;
		if (lf_fingerprint(fd, ls->pend[i].off < size ? ls->pend[i].off : size,
		    &fp, &fplen) == -1 || fp != ls->pend[i].fp)
			continue;
		/* shorter than the saved offset: truncated while we were away */
		*off = ls->pend[i].off <= size ? ls->pend[i].off : 0;
		free(ls->pend[i].path);
		ls->pend[i] = ls->pend[--ls->npend];
		return true;
	}
	return false;
}

/*
 * Starts following a file; initial: a file of the start-up scan; follow:
 * the path may be a symbolic link (a configured path that was one at
 * start).
 */
static struct lfile *
lf_add(struct logfile_set *ls, int dfd, const char *name, const char *path,
    bool initial, bool follow)
{
	struct lfile *f;
	struct stat st;
	off_t off = 0;
	int fd;

	if (ls->nfiles == LF_MAX_FILES) {
		if (ls->skipped++ == 0)
			log_warnx("%s: more than %d log files, not followed",
			    path, LF_MAX_FILES);
		return NULL;
	}
	if ((fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
	    (follow ? 0 : O_NOFOLLOW))) == -1) {
		if (errno == ELOOP)
			lfd_refuse_link(&ls->dirs, path);
		else if (lfd_refuse_new(&ls->dirs, path))
			log_warn("%s (will retry)", path);
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    lf_find(ls, st.st_dev, st.st_ino) != NULL) {
		close(fd);
		return NULL;
	}
	f = &ls->files[ls->nfiles];
	memset(f, 0, sizeof(*f));
	if ((f->path = strdup(path)) == NULL) {
		close(fd);
		return NULL;
	}
	f->fd = fd;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->seen = ls->gen;
	f->grew_ms = soc_mono_ms();
	if (lf_match_pending(ls, fd, st.st_ino, st.st_size, &off)) {
		char prev;

		log_info("%s: resuming at offset %lld", path, (long long)off);
		/* saved inside a cut line: its rest is not a line */
		f->skip_to_lf = off > 0 && pread(fd, &prev, 1, off - 1) == 1 &&
		    prev != '\n';
	} else if (initial && ls->conf.start_at != NULL &&
	    strcmp(ls->conf.start_at, "end") == 0)
		off = st.st_size;
	lfd_accept(&ls->dirs, path);	/* a file again: log the next refusal */
	f->done = off;
	f->fp = LF_FP_EMPTY;
	lf_refresh_fp(f);
	ls->nfiles++;
	log_debug("%s: following from offset %lld", path, (long long)off);
	return f;
}

static void
lf_remove(struct logfile_set *ls, struct lfile *f)
{
	close(f->fd);
	free(f->path);
	*f = ls->files[--ls->nfiles];
}

/* inotify watch on the directory of pattern i, if it has no wildcard. */
static void
lf_watch(struct logfile_set *ls, size_t i, const char *pattern)
{
	char dir[PATH_MAX];
	const char *base;

	if (ls->ino == -1 || ls->wd[i] != -1 ||
	    !lfd_dirname(pattern, dir, sizeof(dir), &base) ||
	    strpbrk(dir, "*?[") != NULL)
		return;
	ls->wd[i] = inotify_add_watch(ls->ino, dir, LF_INO_MASK);
}

/* One file found by pattern i in directory dfd. */
static void
lf_scan_file(struct logfile_set *ls, size_t i, int dfd, const char *name,
    const char *path, bool initial)
{
	bool follow = ls->linked[i] && strcmp(path, ls->conf.files->v[i]) == 0;
	struct lfile *f;
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return;
	if (S_ISLNK(st.st_mode)) {
		if (!follow) {
			lfd_refuse_link(&ls->dirs, path);
			return;
		}
		if (fstatat(dfd, name, &st, 0) == -1)
			return;
	}
	if (!S_ISREG(st.st_mode))
		return;
	if ((f = lf_find(ls, st.st_dev, st.st_ino)) == NULL) {
		lf_add(ls, dfd, name, path, initial, follow);
		return;
	}
	f->seen = ls->gen;
	f->gone = false;
	if (strcmp(f->path, path) != 0) {
		char *p = strdup(path);

		if (p != NULL) {
			free(f->path);
			f->path = p;
		}
	}
}

/* lfd_scan()'s callback: ctx is the set and the pattern's index. */
struct lf_scan_ctx {
	struct logfile_set	*ls;
	size_t			 i;
	bool			 initial;
};

static void
lf_scan_cb(void *arg, int dfd, const char *name, const char *path)
{
	struct lf_scan_ctx *x = arg;

	lf_scan_file(x->ls, x->i, dfd, name, path, x->initial);
}

/*
 * Runs the patterns: new files are added, known ones get their current
 * path, and files no pattern matches any more start their grace period.
 */
static void
lf_scan(struct logfile_set *ls, bool initial)
{
	const struct conf_list *l = ls->conf.files;
	struct lf_scan_ctx x = { .ls = ls, .initial = initial };
	bool failed = false;

	ls->gen++;
	ls->last_scan = soc_mono_ms();
	for (size_t i = 0; i < l->n; i++) {
		lf_watch(ls, i, l->v[i]);
		x.i = i;
		lfd_scan(&ls->dirs, l->v[i], initial, &failed, lf_scan_cb, &x);
	}
	/* a read error is not a rotation: keep what we have */
	for (size_t i = 0; i < ls->nfiles && !failed; i++) {
		if (ls->files[i].seen != ls->gen && !ls->files[i].gone) {
			ls->files[i].gone = true;
			log_info("%s: rotated or removed, finishing the old file",
			    ls->files[i].path);
		}
	}
}

/*
 * A saved position whose file is no longer at its path: logrotate's
 * "path.1" is where a file rotated while we were down usually is.
 */
static void
lf_find_rotated(struct logfile_set *ls)
{
	char alt[PATH_MAX], dir[PATH_MAX];
	const char *base;
	struct stat st;
	struct lfile *f;
	bool failed = false;

	for (size_t i = 0; i < ls->npend;) {
		size_t before = ls->npend;
		int dfd = -1;

		/* in the same checked directory, never through a link */
		if (snprintf(alt, sizeof(alt), "%s.1", ls->pend[i].path) <
		    (int)sizeof(alt) && lfd_dirname(alt, dir, sizeof(dir),
		    &base) && (dfd = lfd_open(&ls->dirs, dir, true, &failed)) != -1 &&
		    fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && st.st_ino == ls->pend[i].ino &&
		    (f = lf_add(ls, dfd, base, alt, false, false)) != NULL) {
			if (ls->npend < before) {
				log_info("%s: rotated while stopped, finishing it",
				    alt);
				f->gone = true;
			} else
				lf_remove(ls, f);	/* a different file */
		}
		if (dfd != -1)
			close(dfd);
		if (ls->npend == before)
			i++;
	}
}

/*
 * State file.
 */

static void
lf_load_state(struct logfile_set *ls, const char *path)
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
	while (fgets(line, sizeof(line), fp_in) != NULL && ls->npend < LF_MAX_FILES) {
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
		if ((ls->pend[ls->npend].path = strdup(p + 1)) == NULL)
			break;
		ls->pend[ls->npend].ino = (ino_t)ino;
		ls->pend[ls->npend].fp = fp;
		ls->pend[ls->npend].off = (off_t)off;
		ls->npend++;
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
logfile_checkpoint(struct logfile_set *ls, char *buf, size_t cap)
{
	static const char head[] = "# soc-sensor log positions: inode "
	    "fingerprint offset path\n";
	size_t len = sizeof(head) - 1;

	if (cap <= len)
		return 0;
	memcpy(buf, head, len);
	for (size_t i = 0; i < ls->nfiles; i++) {
		/* the fingerprint must cover min(LF_FP_LEN, offset) bytes, as a
		 * restart checks it: a checkpoint may be taken mid-drain */
		lf_refresh_fp(&ls->files[i]);
		if (!lf_put(buf, cap, &len, ls->files[i].ino, ls->files[i].fp,
		    ls->files[i].done, ls->files[i].path))
			return 0;
	}
	for (size_t i = 0; i < ls->npend; i++)
		if (!lf_put(buf, cap, &len, ls->pend[i].ino, ls->pend[i].fp,
		    ls->pend[i].off, ls->pend[i].path))
			return 0;
	return len;
}

int
logfile_save(struct logfile_set *ls, const char *blob, size_t len)
{
	const char *path = ls->conf.state_file;
	char err[512];

	if (path == NULL || *path == '\0')
		return 0;
	if (soc_write_atomic(path, blob, len, 0600, err, sizeof(err)) == -1) {
		if (ls->save_failed++ == 0)
			log_warnx("%s: cannot save log positions: %s", path,
			    err);
		return -1;
	}
	ls->save_failed = 0;
	return 0;
}

/* Checkpoint into a buffer that grows (rarely) as files are added. */
int
logfile_save_positions(struct logfile_set *ls)
{
	size_t len;
	char *nb;

	if (ls == NULL || ls->buf == NULL || ls->conf.state_file == NULL)
		return 0;
	while ((len = logfile_checkpoint(ls, ls->blob, ls->blobcap)) == 0) {
		size_t cap = ls->blobcap ? ls->blobcap * 2 : 65536;

		if ((nb = realloc(ls->blob, cap)) == NULL)
			return -1;
		ls->blob = nb;
		ls->blobcap = cap;
	}
	return logfile_save(ls, ls->blob, len);
}

/*
 * The set.
 */

struct logfile_set *
logfile_open(const struct logfile_conf *lc, soc_emit_fn emit,
    intake_tick_fn tick, void *arg)
{
	struct logfile_set *ls;

	if ((ls = calloc(1, sizeof(*ls))) == NULL)
		return NULL;
	ls->conf = *lc;
	if (ls->conf.scan_ms <= 0)
		ls->conf.scan_ms = LF_SCAN_MS;
	if (ls->conf.grace_ms <= 0)
		ls->conf.grace_ms = LF_GRACE_MS;
	ls->emit = emit;
	ls->tick = tick;
	ls->arg = arg;
	ls->ino = -1;
	return ls;
}

void
logfile_stats(const struct logfile_set *ls, struct logfile_stats *st)
{
	*st = ls->st;
	st->links_refused += ls->dirs.refusals;
	memset(&st->audit, 0, sizeof(st->audit));
	if (ls->auditd != NULL)
		auditd_asm_stats(ls->auditd, &st->audit);
}

int
logfile_fd(const struct logfile_set *ls)
{
	return ls != NULL ? ls->ino : -1;
}

int
logfile_follow(struct logfile_set *ls)
{
	const struct conf_list *l = ls->conf.files;

	if (l == NULL || l->n == 0)
		return 0;
	if ((ls->buf = malloc(LF_BUFSZ)) == NULL ||
	    (ls->wd = calloc(l->n, sizeof(*ls->wd))) == NULL ||
	    (ls->linked = calloc(l->n, sizeof(*ls->linked))) == NULL) {
		log_warnx("log files: out of memory");
		return -1;
	}
	for (size_t i = 0; i < l->n; i++) {
		struct stat st;

		ls->wd[i] = -1;
		/* the operator named a link: that one is followed */
		ls->linked[i] = lstat(l->v[i], &st) == 0 && S_ISLNK(st.st_mode);
		if (ls->linked[i])
			log_info("%s: a symbolic link, followed as configured",
			    l->v[i]);
	}
	if ((ls->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		log_warn("inotify unavailable, polling log files");
	lf_load_state(ls, ls->conf.state_file);
	lf_scan(ls, true);
	lf_find_rotated(ls);
	for (size_t i = 0; i < l->n; i++)
		if (ls->wd[i] == -1 && ls->ino != -1)
			log_debug("%s: not watched, polled", l->v[i]);
	return 0;
}

/* Reads and discards pending inotify events (they only wake us). */
static void
lf_inotify_drain(struct logfile_set *ls)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (ls->ino == -1)
		return;
	while (read(ls->ino, buf, sizeof(buf)) > 0)
		;
}

int
logfile_poll(struct logfile_set *ls)
{
	bool emitted = false;
	struct lfile *f;
	int64_t now;

	/* paused: the inotify events stay pending (the caller leaves the
	 * descriptor out of its poll until it resumes) */
	if (ls == NULL || ls->buf == NULL || ls->paused)
		return 0;
	lf_inotify_drain(ls);
	auditd_asm_tick(ls->auditd, soc_mono_ms());
	/* what was appended to the files we know, before any new file */
	for (size_t i = 0; i < ls->nfiles && !ls->paused; i++) {
		lf_check_truncated(&ls->files[i]);
		emitted |= lf_drain(ls, &ls->files[i], false);
	}
	now = soc_mono_ms();
	if (!ls->paused && now - ls->last_scan >= ls->conf.scan_ms) {
		size_t known = ls->nfiles;

		lf_scan(ls, false);
		for (size_t i = known; i < ls->nfiles && !ls->paused; i++)
			emitted |= lf_drain(ls, &ls->files[i], false);
		for (size_t i = 0; i < ls->nfiles && !ls->paused;) {
			f = &ls->files[i];
			if (!f->gone || now - f->grew_ms < ls->conf.grace_ms) {
				i++;
				continue;
			}
			emitted |= lf_drain(ls, f, true);
			if (ls->paused)
				break;	/* maybe not finished: next time */
			log_info("%s: finished the rotated file", f->path);
			lf_remove(ls, f);
		}
	}
	return emitted;
}

void
logfile_pause(struct logfile_set *ls, int paused)
{
	if (ls != NULL)
		ls->paused = paused != 0;
}

int
logfile_paused(const struct logfile_set *ls)
{
	return ls != NULL && ls->paused;
}

void
logfile_close(struct logfile_set *ls)
{
	if (ls == NULL)
		return;
	if (ls->st.pieces > 0)
		log_info("log files: %llu over-long lines cut, their rest dropped",
		    (unsigned long long)ls->st.pieces);
	if (ls->auditd != NULL) {
		struct auditd_stats as;

		auditd_asm_flush(ls->auditd);
		auditd_asm_stats(ls->auditd, &as);
		log_info("audit records: %llu read, %llu events; malformed "
		    "%llu, cut %llu, dropped %llu; open events flushed for "
		    "room %llu, idle %llu", (unsigned long long)as.records,
		    (unsigned long long)as.events,
		    (unsigned long long)as.malformed,
		    (unsigned long long)as.cut, (unsigned long long)as.dropped,
		    (unsigned long long)as.evicted,
		    (unsigned long long)as.timed_out);
		auditd_asm_free(ls->auditd);
	}
	while (ls->nfiles > 0)
		lf_remove(ls, &ls->files[ls->nfiles - 1]);
	for (size_t i = 0; i < ls->npend; i++)
		free(ls->pend[i].path);
	lfd_free(&ls->dirs);
	if (ls->ino != -1)
		close(ls->ino);
	free(ls->wd);
	free(ls->linked);
	free(ls->buf);
	free(ls->blob);
	free(ls);
}
