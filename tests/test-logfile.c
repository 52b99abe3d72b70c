/*
 * Log files through their handle, without a daemon: every line of a file
 * reaches the emit callback exactly once across appends, both rotations
 * (rename-and-create, copytruncate), truncation, a file rewritten behind
 * our back, a last line without a newline, and a checkpoint saved, a new
 * handle and a restore.  The checkpoint's fingerprint is checked against FNV-1a
 * computed here, so state files written before keep matching.  Also
 * soc_write_atomic(), which writes the state file.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../sensor/intake.h"
#include "soc/log.h"
#include "soc/util.h"
#include "check.h"

#define MAXLINES	4096

static char	*got[MAXLINES];
static int	 ngot;
static int	 nsshd;			/* log.sshd events seen */
static int	 ntrunc;		/* events marked truncated */

/* Taken from inside the emit callback, as a batch flush does. */
static struct logfile_set *cp_set;
static int	 cp_after = -1;		/* checkpoint after this many lines */
static char	 cp_buf[65536];
static size_t	 cp_len;

static void
collect(void *arg, struct soc_event *ev)
{
	const char *m;
	size_t n;

	(void)arg;
	if ((m = soc_event_str(ev, SOC_F_EVENT_DATASET, &n)) != NULL &&
	    n == 8 && memcmp(m, "log.sshd", 8) == 0)
		nsshd++;
	if (ev->flags & SOC_EV_TRUNCATED)
		ntrunc++;
	if ((m = soc_event_str(ev, SOC_F_MESSAGE, &n)) == NULL)
		m = "", n = 0;
	if (ngot < MAXLINES)
		got[ngot++] = strndup(m, n);
	if (ngot == cp_after)
		cp_len = logfile_checkpoint(cp_set, cp_buf, sizeof(cp_buf));
}

static void
tick(void *arg)
{
	(void)arg;
}

static void
reset(void)
{
	for (int i = 0; i < ngot; i++)
		free(got[i]);
	ngot = 0;
	nsshd = ntrunc = 0;
	cp_after = -1;
}

/* got[] is exactly the lines want, in order. */
static void
expect(const char *const *want, int n, int line)
{
	int ok = ngot == n;

	for (int i = 0; ok && i < n; i++)
		ok = strcmp(got[i], want[i]) == 0;
	if (ok) {
		check_pass++;
		return;
	}
	check_fail++;
	fprintf(stderr, "test-logfile.c:%d: got %d lines, want %d:\n", line,
	    ngot, n);
	for (int i = 0; i < ngot || i < n; i++)
		fprintf(stderr, "  got \"%s\" want \"%s\"\n",
		    i < ngot ? got[i] : "-", i < n ? want[i] : "-");
}
#define EXPECT(...) do { \
	static const char *const w_[] = { __VA_ARGS__ }; \
	expect(w_, (int)(sizeof(w_) / sizeof(w_[0])), __LINE__); \
} while (0)
#define EXPECT_NONE()	CHECK_INT(ngot, 0)

static void
put(const char *path, const char *mode, const char *text)
{
	FILE *f = fopen(path, mode);

	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static struct conf_list	pat;

/*
 * A rotated-away file is drained this long after it last grew.  The test
 * of "still within the grace period" needs the time between two polls
 * to stay below it: a second, not 150 ms, so that a loaded machine
 * descheduling this thread does not end the grace early.
 */
#define TEST_GRACE_MS	1000

static struct logfile_set *
open_set(const char *path, const char *state, const char *start_at)
{
	struct logfile_conf lc = {
		.files = &pat,
		.state_file = state,
		.start_at = start_at,
		.tz_offset_sec = 25200,
		.scan_ms = 20,
		.grace_ms = TEST_GRACE_MS,
	};
	struct logfile_set *ls;

	pat.v[0] = (char *)path;
	pat.n = 1;
	ls = logfile_open(&lc, collect, tick, NULL);
	CHECK(ls != NULL);
	return ls;
}

/* A poll after the scan interval: new files are looked for. */
static int
poll_scan(struct logfile_set *ls)
{
	sleep_ms(30);
	return logfile_poll(ls);
}

static void
test_read_once(const char *dir)
{
	char path[600];
	struct logfile_set *ls;
	struct logfile_stats st;

	snprintf(path, sizeof(path), "%s/once.log", dir);
	put(path, "w", "<13>one\n<13>two\r\n\n<13>three");
	ls = open_set(path, NULL, NULL);
	CHECK_INT(logfile_read_once(ls, path), 0);
	/* the empty line is a line; CR dropped; last line without LF kept */
	EXPECT("one", "two", "", "three");
	CHECK_INT(logfile_read_once(ls, "/nonexistent/x.log"), -1);
	logfile_stats(ls, &st);
	CHECK_INT(st.lines, 4);
	CHECK_INT(st.files_failed, 1);
	logfile_close(ls);
	reset();
}

static void
test_appends(const char *dir)
{
	char path[600];
	struct logfile_set *ls;

	snprintf(path, sizeof(path), "%s/app.log", dir);
	put(path, "w", "<13>a1\n<13>a2\n");
	ls = open_set(path, NULL, "beginning");
	CHECK_INT(logfile_follow(ls), 0);
	CHECK_INT(logfile_poll(ls), 1);
	EXPECT("a1", "a2");
	reset();
	CHECK_INT(logfile_poll(ls), 0);
	EXPECT_NONE();
	/* an unfinished line waits for its newline */
	put(path, "a", "<13>a3\n<13>a4 part");
	logfile_poll(ls);
	EXPECT("a3");
	reset();
	put(path, "a", "ial\n");
	logfile_poll(ls);
	EXPECT("a4 partial");
	reset();
	logfile_close(ls);
}

static void
test_start_at_end(const char *dir)
{
	char path[600];
	struct logfile_set *ls;

	snprintf(path, sizeof(path), "%s/end.log", dir);
	put(path, "w", "<13>old1\n<13>old2\n");
	ls = open_set(path, NULL, "end");
	CHECK_INT(logfile_follow(ls), 0);
	logfile_poll(ls);
	EXPECT_NONE();
	put(path, "a", "<13>new1\n");
	logfile_poll(ls);
	EXPECT("new1");
	reset();
	logfile_close(ls);
}

static void
test_rename_create(const char *dir)
{
	char path[600], old[620];
	struct logfile_set *ls;

	snprintf(path, sizeof(path), "%s/rot.log", dir);
	snprintf(old, sizeof(old), "%s.1", path);
	put(path, "w", "<13>r1\n<13>r2\n");
	ls = open_set(path, NULL, "beginning");
	CHECK_INT(logfile_follow(ls), 0);
	logfile_poll(ls);
	EXPECT("r1", "r2");
	reset();
	/* logrotate: rename, create; the writer still has the old file */
	CHECK(rename(path, old) == 0);
	put(path, "w", "<13>n1\n");
	put(old, "a", "<13>r3\n<13>r4 unterminated");
	poll_scan(ls);
	EXPECT("r3", "n1");
	reset();
	/* the old file still grows within its grace period */
	put(old, "a", " still\n<13>r5 last");
	put(path, "a", "<13>n2\n");
	poll_scan(ls);
	EXPECT("r4 unterminated still", "n2");
	reset();
	/* past the grace period: its last line without LF, then closed */
	sleep_ms(TEST_GRACE_MS + 50);
	poll_scan(ls);
	EXPECT("r5 last");
	reset();
	put(old, "a", "\n<13>r6 too late\n");
	put(path, "a", "<13>n3\n");
	poll_scan(ls);
	EXPECT("n3");
	reset();
	logfile_close(ls);
}

static void
test_copytruncate(const char *dir)
{
	char path[600], copy[620];
	struct logfile_set *ls;

	snprintf(path, sizeof(path), "%s/ct.log", dir);
	snprintf(copy, sizeof(copy), "%s.1", path);
	put(path, "w", "<13>c1 some longer line\n<13>c2 another one\n");
	ls = open_set(path, NULL, "beginning");
	CHECK_INT(logfile_follow(ls), 0);
	logfile_poll(ls);
	EXPECT("c1 some longer line", "c2 another one");
	reset();
	/* copy (not a pattern match), truncate in place, writer goes on */
	put(copy, "w", "<13>c1 some longer line\n<13>c2 another one\n");
	CHECK(truncate(path, 0) == 0);
	put(path, "a", "<13>c3\n");
	poll_scan(ls);
	EXPECT("c3");
	reset();
	put(path, "a", "<13>c4\n");
	logfile_poll(ls);
	EXPECT("c4");
	reset();
	logfile_close(ls);
}

/*
 * Truncated, then refilled with the same first 256 bytes but shorter than
 * our offset (a program that logs the same line over and over): the
 * fingerprint still matches, only the size tells.
 */
static void
test_truncated_same_start(const char *dir)
{
	static const char same[] = "<13>the same line, over and over again\n";
	char path[600];
	struct logfile_set *ls;

	snprintf(path, sizeof(path), "%s/same.log", dir);
	put(path, "w", "");
	for (int i = 0; i < 10; i++)
		put(path, "a", same);
	ls = open_set(path, NULL, "beginning");
	CHECK_INT(logfile_follow(ls), 0);
	logfile_poll(ls);
	CHECK_INT(ngot, 10);
	reset();
	CHECK(truncate(path, 0) == 0);
	for (int i = 0; i < 8; i++)
		put(path, "a", same);
	CHECK(8 * (sizeof(same) - 1) > 256);
	logfile_poll(ls);
	CHECK_INT(ngot, 8);
	reset();
	logfile_close(ls);
}

/* Truncated and written past our offset between two polls: only the
 * fingerprint can tell. */
static void
test_rewritten(const char *dir)
{
	char path[600];
	struct logfile_set *ls;

	snprintf(path, sizeof(path), "%s/rw.log", dir);
	put(path, "w", "<13>w1\n<13>w2\n");
	ls = open_set(path, NULL, "beginning");
	CHECK_INT(logfile_follow(ls), 0);
	logfile_poll(ls);
	EXPECT("w1", "w2");
	reset();
	put(path, "w", "<13>x1 longer than before\n<13>x2\n");
	logfile_poll(ls);
	EXPECT("x1 longer than before", "x2");
	reset();
	logfile_close(ls);
}

/* FNV-1a 64 written out here, as state files on disk were made by it. */
static uint64_t
fnv(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * A checkpoint taken inside the emit callback after line 5 (a batch
 * flushed mid-read), saved as the uplink saves it, restored by a new
 * handle: lines 6.. come once, nothing before them again.  start_at
 * "end" would skip them all if the position were not recognised.
 */
static void
test_checkpoint(const char *dir)
{
	char path[600], state[600], text[8192], want_fp[32], *line;
	struct logfile_set *ls;
	struct stat st;
	size_t pos5 = 0;
	int n = 0;

	snprintf(path, sizeof(path), "%s/cp.log", dir);
	snprintf(state, sizeof(state), "%s/positions", dir);
	for (int i = 1; i <= 10; i++) {
		n += snprintf(text + n, sizeof(text) - (size_t)n,
		    "<13>line %02d with padding to pass the fingerprint "
		    "length\n", i);
		if (i == 5)
			pos5 = (size_t)n;
	}
	put(path, "w", text);
	CHECK(stat(path, &st) == 0);

	ls = open_set(path, state, "beginning");
	CHECK_INT(logfile_follow(ls), 0);
	cp_set = ls;
	cp_after = 5;
	logfile_poll(ls);
	CHECK_INT(ngot, 10);
	CHECK(cp_len > 0);
	/* "inode fingerprint offset path", fingerprint over 256 bytes */
	snprintf(want_fp, sizeof(want_fp), "%016" PRIx64,
	    fnv(text, pos5 < 256 ? pos5 : 256));
	line = memchr(cp_buf, '\n', cp_len);
	CHECK(line != NULL);
	if (line != NULL) {
		char want[1024];

		snprintf(want, sizeof(want), "%llu %s %zu %s\n",
		    (unsigned long long)st.st_ino, want_fp, pos5, path);
		CHECK(cp_len - (size_t)(line + 1 - cp_buf) == strlen(want));
		CHECK(memcmp(line + 1, want, strlen(want)) == 0);
	}
	CHECK_INT(logfile_save(ls, cp_buf, cp_len), 0);
	logfile_close(ls);
	reset();

	/* while stopped: two more lines */
	put(path, "a", "<13>line 11\n<13>line 12\n");
	ls = open_set(path, state, "end");
	CHECK_INT(logfile_follow(ls), 0);
	logfile_poll(ls);
	EXPECT("line 06 with padding to pass the fingerprint length",
	    "line 07 with padding to pass the fingerprint length",
	    "line 08 with padding to pass the fingerprint length",
	    "line 09 with padding to pass the fingerprint length",
	    "line 10 with padding to pass the fingerprint length",
	    "line 11", "line 12");
	reset();
	/* saved as main.c does after JSON is flushed: the whole file */
	CHECK_INT(logfile_save_positions(ls), 0);
	logfile_close(ls);
	put(path, "a", "<13>line 13\n");
	ls = open_set(path, state, "beginning");
	CHECK_INT(logfile_follow(ls), 0);
	logfile_poll(ls);
	EXPECT("line 13");
	reset();
	logfile_close(ls);
}

static void
test_write_atomic(const char *dir)
{
	char path[600], tmp[620], err[256], buf[64];
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/atomic", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	umask(022);
	CHECK_INT(soc_write_atomic(path, "first version\n", 14, 0600, err,
	    sizeof(err)), 0);
	CHECK_INT(soc_write_atomic(path, "second\n", 7, 0600, err,
	    sizeof(err)), 0);
	CHECK((fd = open(path, O_RDONLY)) != -1);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	CHECK_INT(n, 7);
	CHECK(n == 7 && memcmp(buf, "second\n", 7) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(access(tmp, F_OK) == -1);
	err[0] = '\0';
	CHECK_INT(soc_write_atomic("/nonexistent-dir/x", "x", 1, 0600, err,
	    sizeof(err)), -1);
	CHECK(strstr(err, "/nonexistent-dir/x.tmp") != NULL);
	/* a failed write leaves the old file whole */
	CHECK(mkdir(tmp, 0700) == 0);
	CHECK_INT(soc_write_atomic(path, "third\n", 6, 0600, err,
	    sizeof(err)), -1);
	CHECK((fd = open(path, O_RDONLY)) != -1);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	CHECK(n == 7 && memcmp(buf, "second\n", 7) == 0);
	rmdir(tmp);
}

/*
 * Regression (issue 11, item 6): a line longer than the read buffer was
 * cut into pieces and each piece parsed as a line of its own, so a long
 * line could carry a forged "sshd[1]: Failed password" tail.  The line is
 * cut, marked truncated, and the rest of it up to its newline dropped:
 * read once, followed, and resumed from a checkpoint taken mid-line.
 */
#define LONG_HEAD	"Nov 27 10:00:00 gw1 app[2]: "
/* the forged tail starts right after the 1 MiB read buffer */
#define LONG_LINE	((1 << 20) - (int)sizeof(LONG_HEAD) + 1)

static void
put_forged(const char *path, const char *mode)
{
	static const char tail[] = "Nov 27 10:00:00 gw1 sshd[1]: Failed "
	    "password for root from 203.0.113.9 port 22 ssh2\n";
	FILE *f = fopen(path, mode);

	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs(LONG_HEAD, f);
	for (int i = 0; i < LONG_LINE; i++)
		fputc('A', f);
	fputs(tail, f);
	fputs("Nov 27 10:00:01 gw1 app[2]: after\n", f);
	fclose(f);
}

static void
test_long_line(const char *dir)
{
	char path[600], state[600];
	struct logfile_set *ls;

	snprintf(path, sizeof(path), "%s/long.log", dir);
	snprintf(state, sizeof(state), "%s/long.state", dir);
	put_forged(path, "w");
	ls = open_set(path, NULL, NULL);
	CHECK_INT(logfile_read_once(ls, path), 0);
	CHECK_INT(ngot, 2);
	CHECK_INT(nsshd, 0);
	CHECK_INT(ntrunc, 1);
	CHECK(ngot == 2 && strcmp(got[1], "after") == 0);
	logfile_close(ls);
	reset();

	/* followed: the same, and the position ends after the last line */
	unlink(path);
	put_forged(path, "w");
	ls = open_set(path, state, NULL);
	CHECK_INT(logfile_follow(ls), 0);
	while (logfile_poll(ls))
		;
	CHECK_INT(ngot, 2);
	CHECK_INT(nsshd, 0);
	CHECK_INT(ntrunc, 1);
	CHECK(ngot == 2 && strcmp(got[1], "after") == 0);
	logfile_close(ls);
	reset();

	/* a restart whose saved position is inside a long line (a crash
	 * right after the cut piece was sent) skips to the next line */
	unlink(path);
	put_forged(path, "w");
	ls = open_set(path, state, NULL);
	cp_set = ls;
	cp_after = 1;
	CHECK_INT(logfile_follow(ls), 0);
	while (logfile_poll(ls))
		;
	CHECK(cp_len > 0);
	CHECK_INT(logfile_save(ls, cp_buf, cp_len), 0);
	logfile_close(ls);
	reset();
	ls = open_set(path, state, NULL);
	CHECK_INT(logfile_follow(ls), 0);
	while (logfile_poll(ls))
		;
	CHECK_INT(nsshd, 0);
	EXPECT("after");
	logfile_close(ls);
	reset();
}

/*
 * Regression (issue 11, item 7): a followed file replaced by a symlink to
 * a file the sensor may read but should not ship (/etc/shadow) had the
 * target's contents sent as events.  A link that appears after start is
 * refused; a configured path that is a link at start is followed.
 */
static void
test_symlink(const char *dir)
{
	char path[600], secret[600], real[600], link[600];
	struct logfile_set *ls;
	struct logfile_stats st;

	snprintf(path, sizeof(path), "%s/sym.log", dir);
	snprintf(secret, sizeof(secret), "%s/shadow", dir);
	put(secret, "w", "root:$6$secret-hash:19000:0:99999:7:::\n");
	put(path, "w", "<13>before\n");
	ls = open_set(path, NULL, NULL);
	CHECK_INT(logfile_follow(ls), 0);
	CHECK_INT(logfile_poll(ls), 1);
	EXPECT("before");
	reset();
	/* rotated away, and a link to the secret put in its place */
	CHECK(unlink(path) == 0);
	CHECK(symlink(secret, path) == 0);
	for (int i = 0; i < 10; i++)
		poll_scan(ls);
	EXPECT_NONE();
	logfile_stats(ls, &st);
	CHECK(st.links_refused >= 1);
	logfile_close(ls);
	reset();

	/* a configured path that is a link at start is the operator's
	 * choice: followed (to a real log, here) */
	snprintf(real, sizeof(real), "%s/real.log", dir);
	snprintf(link, sizeof(link), "%s/link.log", dir);
	put(real, "w", "<13>via link\n");
	CHECK(symlink(real, link) == 0);
	ls = open_set(link, NULL, NULL);
	CHECK_INT(logfile_follow(ls), 0);
	poll_scan(ls);
	EXPECT("via link");
	logfile_close(ls);
	reset();
}

int
main(void)
{
	char dir[] = "/tmp/soc-test-logfile-XXXXXX";
	char *pv[1];
	char cmd[100];

	log_init("test-logfile", 0);
	pat.v = pv;
	CHECK(mkdtemp(dir) != NULL);
	test_read_once(dir);
	test_appends(dir);
	test_start_at_end(dir);
	test_rename_create(dir);
	test_copytruncate(dir);
	test_truncated_same_start(dir);
	test_rewritten(dir);
	test_checkpoint(dir);
	test_write_atomic(dir);
	test_long_line(dir);
	test_symlink(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (check_fail == 0 && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_done();
}
