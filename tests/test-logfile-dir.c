/*
 * Regression (issue 15, item 4): with logs.files ["/var/log/app/ *"],
 * replacing /var/log/app by a symbolic link to /etc made a root sensor
 * ship /etc/shadow line by line, because glob(3) follows a directory
 * link; and a refused link was logged at every scan (54 lines in 15 s).
 * The pattern's directory is now opened with O_NOFOLLOW|O_DIRECTORY, its
 * inode is checked against the one first seen, files are opened relative
 * to it, and each refusal is logged once per path.  Also: a link to a
 * file outside, inside a watched directory, is refused (decided: only a
 * configured path itself may be a link), and a directory that was a
 * link at start is followed as configured.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../sensor/intake.h"
#include "soc/log.h"
#include "check.h"
#include "fixture.h"

static int	 nlines, nsecret;	/* lines emitted; of them from "secret" */
static char	 last[256];
static int	 logfd, saved = -1;

static void
collect(void *arg, struct soc_event *ev)
{
	const char *m;
	size_t n;

	(void)arg;
	if ((m = soc_event_str(ev, SOC_F_MESSAGE, &n)) == NULL)
		m = "", n = 0;
	nlines++;
	if (memmem(m, n, "secret", 6) != NULL)
		nsecret++;
	snprintf(last, sizeof(last), "%.*s", (int)n, m);
}

static void
tick(void *arg)
{
	(void)arg;
}

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");

	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

/* Warnings logged between capture() and logged(). */
static void
capture(void)
{
	fflush(stderr);
	if (ftruncate(logfd, 0) == -1 || lseek(logfd, 0, SEEK_SET) == -1 ||
	    dup2(logfd, 2) == -1)
		perror("capture");
}

static int
logged(const char *what)
{
	char buf[65536], *p = buf;
	ssize_t n;
	int count = 0;

	fflush(stderr);
	dup2(saved, 2);
	n = pread(logfd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	while ((p = strstr(p, what)) != NULL) {
		count++;
		p++;
	}
	if (count == 0 && n > 0)
		fprintf(stderr, "(logged: %s)\n", buf);
	return count;
}

static struct conf_list	pat;
static char		*pv[1];

static struct logfile_set *
follow(const char *pattern)
{
	struct logfile_conf lc = {
		.files = &pat,
		.tz_offset_sec = 25200,
		.start_at = "beginning",
		.scan_ms = 1,
		.grace_ms = 1,
	};
	struct logfile_set *ls;

	pv[0] = (char *)pattern;
	pat.v = pv;
	pat.n = 1;
	nlines = nsecret = 0;
	ls = logfile_open(&lc, collect, tick, NULL);
	CHECK(ls != NULL);
	CHECK_INT(logfile_follow(ls), 0);
	return ls;
}

/* Many scans (scan_ms is 1). */
static void
scans(struct logfile_set *ls, int n)
{
	struct timespec ts = { 0, 3 * 1000000L };

	for (int i = 0; i < n; i++) {
		nanosleep(&ts, NULL);
		logfile_poll(ls);
	}
}

/* snprintf into a 600-byte buffer; a cut path is a broken test */
#define FMT(buf, ...) do { \
	if (snprintf((buf), 600, __VA_ARGS__) >= 600) \
		abort(); \
} while (0)

static void
path(char *buf, const char *dir, const char *name)
{
	FMT(buf, "%s/%s", dir, name);
}

/* The reported attack: the directory becomes a link to /etc. */
static void
test_dir_link(const char *d)
{
	char app[600], old[600], file[600], pattern[600], etc[600];
	struct logfile_set *ls;
	struct logfile_stats st;

	path(app, d, "app");
	path(old, d, "app.old");
	path(etc, d, "etc");
	CHECK(mkdir(app, 0700) == 0 && mkdir(etc, 0700) == 0);
	path(file, app, "a.log");
	put(file, "<13>app line\n");
	path(file, etc, "shadow");
	put(file, "root:secret-hash:19000::\n");
	path(file, etc, "gshadow");
	put(file, "root:*:secret::\n");
	FMT(pattern, "%s/*", app);
	ls = follow(pattern);
	scans(ls, 2);
	CHECK_INT(nlines, 1);
	CHECK_STR(last, "app line");
	capture();
	CHECK(rename(app, old) == 0 && symlink(etc, app) == 0);
	scans(ls, 40);
	CHECK_INT(logged("log directory was expected; refused"), 1);
	CHECK_INT(nsecret, 0);
	logfile_stats(ls, &st);
	CHECK_INT(st.links_refused, 1);
	/* a real directory again, but not the one first seen: refused
	 * too, and not logged again (the path is still refused) */
	capture();
	CHECK(unlink(app) == 0 && mkdir(app, 0700) == 0);
	path(file, app, "b.log");
	put(file, "<13>secret new dir\n");
	scans(ls, 20);
	CHECK_INT(logged("refused"), 0);
	CHECK_INT(nsecret, 0);
	/* the directory first seen, back in place: read again */
	path(file, d, "app.new");
	CHECK(rename(app, file) == 0 && rename(old, app) == 0);
	path(file, app, "a.log");
	put(file, "<13>app back\n");
	scans(ls, 5);
	CHECK_STR(last, "app back");
	logfile_close(ls);
}

/* A link swapped in above the pattern's directory. */
static void
test_parent_link(const char *d)
{
	char top[600], app[600], fake[600], file[600], pattern[600];
	struct logfile_set *ls;

	path(top, d, "top");
	path(fake, d, "fake");
	CHECK(mkdir(top, 0700) == 0 && mkdir(fake, 0700) == 0);
	path(app, top, "app");
	CHECK(mkdir(app, 0700) == 0);
	path(file, app, "x.log");
	put(file, "<13>top line\n");
	path(app, fake, "app");
	CHECK(mkdir(app, 0700) == 0);
	path(file, app, "x.log");
	put(file, "<13>secret via parent\n");
	FMT(pattern, "%s/app/*.log", top);
	ls = follow(pattern);
	scans(ls, 2);
	CHECK_INT(nlines, 1);
	capture();
	path(file, d, "top.old");
	CHECK(rename(top, file) == 0 && symlink(fake, top) == 0);
	scans(ls, 20);
	CHECK_INT(logged("the directory was replaced"), 1);
	CHECK_INT(nsecret, 0);
	logfile_close(ls);
}

/*
 * Links inside a watched directory to files outside it are refused
 * (several of them: a refusal "once per path in a row" logged them at
 * every scan in turn), and logged once each.
 */
static void
test_file_links(const char *d)
{
	char dir[600], file[600], secret[600], pattern[600];
	struct logfile_set *ls;
	struct logfile_stats st;

	path(dir, d, "links");
	CHECK(mkdir(dir, 0700) == 0);
	path(secret, d, "shadow2");
	put(secret, "root:secret:1::\n");
	path(file, dir, "ok.log");
	put(file, "<13>ok line\n");
	path(file, dir, "evil1.log");
	CHECK(symlink(secret, file) == 0);
	path(file, dir, "evil2.log");
	CHECK(symlink(secret, file) == 0);
	path(file, dir, "evil3.log");
	CHECK(symlink("/etc/passwd", file) == 0);
	FMT(pattern, "%s/*.log", dir);
	capture();
	ls = follow(pattern);
	scans(ls, 30);
	CHECK_INT(logged("a symbolic link appeared where a log file"), 3);
	CHECK_INT(nlines, 1);
	CHECK_INT(nsecret, 0);
	logfile_stats(ls, &st);
	CHECK_INT(st.links_refused, 3);
	logfile_close(ls);
}

/* A directory that is a link at start is the operator's choice: followed;
 * pointed elsewhere later, refused. */
static void
test_dir_linked_at_start(const char *d)
{
	char real[600], other[600], link[600], file[600], pattern[600];
	struct logfile_set *ls;

	path(real, d, "realdir");
	path(other, d, "otherdir");
	path(link, d, "linkdir");
	CHECK(mkdir(real, 0700) == 0 && mkdir(other, 0700) == 0);
	CHECK(symlink(real, link) == 0);
	path(file, real, "r.log");
	put(file, "<13>via dir link\n");
	path(file, other, "r.log");
	put(file, "<13>secret other\n");
	FMT(pattern, "%s/*.log", link);
	ls = follow(pattern);
	scans(ls, 2);
	CHECK_INT(nlines, 1);
	CHECK_STR(last, "via dir link");
	capture();
	path(file, d, "linkdir.new");
	CHECK(symlink(other, file) == 0 && rename(file, link) == 0);
	scans(ls, 20);
	CHECK_INT(logged("the directory was replaced"), 1);
	CHECK_INT(nsecret, 0);
	logfile_close(ls);
}

/* Wildcards in a directory component: a directory link that appears
 * later is refused, a real directory that appears later is read. */
static void
test_wild_dirs(const char *d)
{
	char w[600], sub[600], file[600], pattern[600], sec[600];
	struct logfile_set *ls;

	path(w, d, "w");
	CHECK(mkdir(w, 0700) == 0);
	path(sub, w, "a");
	CHECK(mkdir(sub, 0700) == 0);
	path(file, sub, "x.log");
	put(file, "<13>wild a\n");
	path(sec, d, "secdir");
	CHECK(mkdir(sec, 0700) == 0);
	path(file, sec, "x.log");
	put(file, "<13>secret wild\n");
	FMT(pattern, "%s/*/x.log", w);
	ls = follow(pattern);
	scans(ls, 2);
	CHECK_INT(nlines, 1);
	capture();
	path(sub, w, "b");
	CHECK(symlink(sec, sub) == 0);
	path(sub, w, "c");
	CHECK(mkdir(sub, 0700) == 0);
	path(file, sub, "x.log");
	put(file, "<13>wild c\n");
	scans(ls, 20);
	CHECK_INT(logged("log directory was expected; refused"), 1);
	CHECK_INT(nlines, 2);
	CHECK_STR(last, "wild c");
	CHECK_INT(nsecret, 0);
	logfile_close(ls);
}

int
main(void)
{
	char dir[] = "/tmp/soc-test-logfile-dir-XXXXXX";
	char logpath[] = "/tmp/soc-test-logfile-dir-log-XXXXXX";

	log_init("test-logfile-dir", 0);
	if (mkdtemp(dir) == NULL || (logfd = mkstemp(logpath)) == -1 ||
	    (saved = dup(2)) == -1) {
		perror("test-logfile-dir");
		return 1;
	}
	unlink(logpath);
	test_dir_link(dir);
	test_parent_link(dir);
	test_file_links(dir);
	test_dir_linked_at_start(dir);
	test_wild_dirs(dir);
	if (check_fail == 0)
		fx_rmtree(dir);
	return check_done();
}
