/*
 * Log files: read to the end (replays, --once) or followed as a daemon
 * does.  Lines end in LF or CRLF; a last line without a newline is still a
 * line at end of file.  A line longer than the buffer is cut into pieces
 * and each piece counted, never dropped.  Following re-reads what was
 * appended, starts over when a file shrinks (copytruncate) and reopens
 * the path when its inode changes (rename-and-create), after draining the
 * old file.  (Restart-safe positions come with the state file; see
 * docs/DECISIONS.md.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "soc/log.h"
#include "soc/util.h"
#include "logparse.h"
#include "sensor.h"

#define LF_BUFSZ	(1 << 20)
#define LF_MAX_FILES	64

struct lfile {
	const char	*path;
	int		 fd;
	ino_t		 ino;
	off_t		 off;
	size_t		 partial;	/* bytes of an unfinished line in buf */
	char		*buf;
};

static struct lfile	files[LF_MAX_FILES];
static size_t		nfiles;
static struct soc_event	lf_ev;

static void
emit_line(struct sensor *s, const char *path, const char *line, size_t len)
{
	struct logparse_ctx ctx = {
		.now_ns = soc_now_ns(),
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
	size_t start = 0;
	char *nl;

	while (start < len &&
	    (nl = memchr(buf + start, '\n', len - start)) != NULL) {
		emit_line(s, path, buf + start, (size_t)(nl - (buf + start)));
		start = (size_t)(nl - buf) + 1;
	}
	if (start == 0 && len == cap) {
		emit_line(s, path, buf, len);
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
		emit_line(s, path, buf, have);	/* no newline at the end */
	free(buf);
	close(fd);
	return n == -1 ? -1 : 0;
}

static int
lf_open(struct lfile *f, int at_end)
{
	struct stat st;

	if ((f->fd = open(f->path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(f->fd, &st) == -1) {
		close(f->fd);
		f->fd = -1;
		return -1;
	}
	f->ino = st.st_ino;
	f->off = at_end ? st.st_size : 0;
	f->partial = 0;
	return 0;
}

int
logfile_follow_open(struct sensor *s)
{
	for (size_t i = 0; i < s->conf.log_files.n && nfiles < LF_MAX_FILES; i++) {
		struct lfile *f = &files[nfiles];

		f->path = s->conf.log_files.v[i];
		if ((f->buf = malloc(LF_BUFSZ)) == NULL)
			return -1;
		/* a file present at start is read from its start */
		if (lf_open(f, 0) == -1)
			log_warn("%s (will retry)", f->path);
		nfiles++;
	}
	return 0;
}

static void
lf_drain(struct sensor *s, struct lfile *f)
{
	ssize_t n;

	while ((n = pread(f->fd, f->buf + f->partial, LF_BUFSZ - f->partial,
	    f->off)) > 0) {
		f->off += n;
		f->partial = split_lines(s, f->path, f->buf,
		    f->partial + (size_t)n, LF_BUFSZ);
	}
}

void
logfile_follow_poll(struct sensor *s)
{
	struct stat st, pst;

	for (size_t i = 0; i < nfiles; i++) {
		struct lfile *f = &files[i];

		if (f->fd == -1) {
			if (lf_open(f, 0) == -1)
				continue;
			log_info("%s: appeared, following", f->path);
		}
		if (fstat(f->fd, &st) == 0 && st.st_size < f->off) {
			log_info("%s: truncated, reading from the start", f->path);
			f->off = 0;
			f->partial = 0;
		}
		lf_drain(s, f);
		if (stat(f->path, &pst) == 0 && pst.st_ino != f->ino) {
			/* rotated: finish the old file, then take the new one */
			lf_drain(s, f);
			if (f->partial > 0)
				emit_line(s, f->path, f->buf, f->partial);
			close(f->fd);
			if (lf_open(f, 0) == 0) {
				log_info("%s: rotated, following the new file", f->path);
				lf_drain(s, f);
			}
		}
	}
}

void
logfile_follow_close(void)
{
	for (size_t i = 0; i < nfiles; i++) {
		if (files[i].fd != -1)
			close(files[i].fd);
		free(files[i].buf);
	}
	nfiles = 0;
}
