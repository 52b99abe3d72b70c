/*
 * The directories of the log-file patterns (logfile.c), checked before
 * anything in them is read.
 *
 * glob(3) follows a directory replaced by a link: with logs.files
 * ["/var/log/app/ *"], /var/log/app -> /etc made a root sensor ship
 * /etc/shadow.  So each pattern's directory is opened here with
 * O_DIRECTORY|O_NOFOLLOW (without O_NOFOLLOW only if it was a link when
 * the sensor started: the operator's choice), its inode is remembered the
 * first time it is seen, and a directory with another inode at that path
 * is refused until the sensor restarts -- which also catches a link
 * swapped in above it (/var/log -> /tmp/x).  The caller lists it with
 * lfd_list() (readdir + fnmatch(3), sorted, as glob(3) would) and opens
 * the files relative to the descriptor (openat), so what is read is
 * inside the directory that was checked.  The inode of a directory is
 * never forgotten: forgetting it when it disappears would let a link
 * above it be swapped in while it is away.  A directory first seen after
 * start is taken if its last component is not a link.
 *
 * Refusals (of directories here, of files in logfile.c) are logged once
 * per path, until the path is accepted again, never at every scan (a scan
 * every 250 ms logged 54 lines in 15 s).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "soc/log.h"
#include "logfile-dir.h"

/*
 * Refusals are logged once per path, until the path is accepted again
 * (lfd_accept): a scan every 250 ms must not repeat them.  Returns whether
 * this one is new (and so logged and counted by the caller).
 */
bool
lfd_refuse_new(struct lf_dirs *ds, const char *path)
{
	char *p;

	for (size_t i = 0; i < ds->nrefused; i++)
		if (strcmp(ds->refused[i], path) == 0)
			return false;
	if (ds->nrefused == LFD_MAX_REFUSED) {
		if (!ds->full_logged)
			log_warnx("log files: more than %d paths refused; "
			    "further refusals are counted, not logged",
			    LFD_MAX_REFUSED);
		ds->full_logged = true;
		ds->refusals++;
		return false;
	}
	if ((p = strdup(path)) == NULL)
		return false;
	ds->refused[ds->nrefused++] = p;
	return true;
}

void
lfd_accept(struct lf_dirs *ds, const char *path)
{
	for (size_t i = 0; i < ds->nrefused; i++)
		if (strcmp(ds->refused[i], path) == 0) {
			free(ds->refused[i]);
			ds->refused[i] = ds->refused[--ds->nrefused];
			return;
		}
}

/* A link where a log file should be: refused, counted, logged once. */
void
lfd_refuse_link(struct lf_dirs *ds, const char *path)
{
	if (!lfd_refuse_new(ds, path))
		return;
	ds->refusals++;
	log_warnx("%s: a symbolic link appeared where a log file was "
	    "expected; refused (configure the link's path itself to follow "
	    "it)", path);
}

/* The directory part of a pattern or path ("." or "/" at least). */
bool
lfd_dirname(const char *path, char *dir, size_t cap, const char **base)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL) {
		*base = path;
		return snprintf(dir, cap, ".") < (int)cap;
	}
	*base = slash + 1;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= cap)
		return false;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return true;
}

static struct lf_dir *
lfd_find(struct lf_dirs *ds, const char *path)
{
	for (size_t i = 0; i < ds->ndirs; i++)
		if (strcmp(ds->dirs[i].path, path) == 0)
			return &ds->dirs[i];
	return NULL;
}

/*
 * Opens a directory of the patterns, or -1 (nothing to read there now;
 * *failed set when that is an error rather than an absence, so no file
 * is taken for rotated).  A link is refused unless it was one at start;
 * a directory whose inode is not the one first seen at this path is
 * refused.  Each refusal is logged once per path.
 */
int
lfd_open(struct lf_dirs *ds, const char *path, bool initial,
    bool *failed)
{
	struct lf_dir *d = lfd_find(ds, path);
	struct stat st;
	bool linked;
	int fd, e;

	linked = d != NULL ? d->linked : initial &&
	    lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    (linked ? 0 : O_NOFOLLOW));
	if (fd == -1) {
		e = errno;
		if (e == ENOENT)
			return -1;
		if ((e == ENOTDIR || e == ELOOP) && lstat(path, &st) == 0 &&
		    S_ISLNK(st.st_mode)) {
			if (lfd_refuse_new(ds, path)) {
				ds->refusals++;
				log_warnx("%s: a symbolic link appeared where a "
				    "log directory was expected; refused", path);
			}
			return -1;
		}
		if (e == ENOTDIR)
			return -1;	/* a file: no directory to read */
		*failed = true;
		if (lfd_refuse_new(ds, path)) {
			errno = e;
			log_warn("%s (will retry)", path);
		}
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		*failed = true;
		close(fd);
		return -1;
	}
	if (d == NULL && ds->ndirs < LFD_MAX_DIRS) {
		d = &ds->dirs[ds->ndirs];
		if ((d->path = strdup(path)) == NULL) {
			close(fd);
			*failed = true;
			return -1;
		}
		d->dev = st.st_dev;
		d->ino = st.st_ino;
		d->linked = linked;
		ds->ndirs++;
		if (linked)
			log_info("%s: a symbolic link, followed as configured",
			    path);
	} else if (d == NULL || d->dev != st.st_dev || d->ino != st.st_ino) {
		if (lfd_refuse_new(ds, path)) {
			ds->refusals++;
			if (d == NULL)
				log_warnx("%s: more than %d log directories, "
				    "refused", path, LFD_MAX_DIRS);
			else
				log_warnx("%s: the directory was replaced (a "
				    "link above it, or removed and made again) "
				    "since the sensor first saw it; refused "
				    "until the sensor restarts", path);
		}
		close(fd);
		return -1;
	}
	lfd_accept(ds, path);
	return fd;
}

static int
lfd_namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The names in directory dfd that match base (as glob(3) would: sorted,
 * a leading dot matched only by a dot); *names is malloc'ed, each name
 * too.  -1 on error.
 */
static int
lfd_list(int dfd, const char *base, char ***names, size_t *n)
{
	struct dirent *de;
	char **v = NULL, **nv;
	size_t cap = 0;
	DIR *dp;
	int fd;

	*n = 0;
	if (strpbrk(base, "*?[\\") == NULL) {	/* a plain name */
		if ((v = malloc(sizeof(*v))) == NULL ||
		    (v[0] = strdup(base)) == NULL) {
			free(v);
			return -1;
		}
		*names = v;
		*n = 1;
		return 0;
	}
	if ((fd = dup(dfd)) == -1)
		return -1;
	if ((dp = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	rewinddir(dp);
	while ((de = readdir(dp)) != NULL) {
		if (fnmatch(base, de->d_name, FNM_PERIOD) != 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				break;
			v = nv;
		}
		if ((v[*n] = strdup(de->d_name)) == NULL)
			break;
		(*n)++;
	}
	closedir(dp);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), lfd_namecmp);
	*names = v;
	return 0;
}

/* The files of one pattern in one directory. */
static void
lfd_scan_dir(struct lf_dirs *ds, const char *dir, const char *base,
    bool bare, bool initial, bool *failed, lfd_file_fn fn, void *arg)
{
	char path[PATH_MAX], **names = NULL;
	size_t n = 0;
	int dfd;

	if ((dfd = lfd_open(ds, dir, initial, failed)) == -1)
		return;
	if (lfd_list(dfd, base, &names, &n) == -1) {
		*failed = true;
		close(dfd);
		return;
	}
	for (size_t k = 0; k < n; k++) {
		/* the path glob(3) would give, so state files still match */
		if ((bare ? snprintf(path, sizeof(path), "%s", names[k]) :
		    snprintf(path, sizeof(path), "%s%s%s", dir,
		    strcmp(dir, "/") == 0 ? "" : "/", names[k])) <
		    (int)sizeof(path))
			fn(arg, dfd, names[k], path);
		free(names[k]);
	}
	free(names);
	close(dfd);
}

void
lfd_scan(struct lf_dirs *ds, const char *pattern, bool initial, bool *failed,
    lfd_file_fn fn, void *arg)
{
	char dir[PATH_MAX];
	const char *base;
	glob_t g;
	int rc;

	if (!lfd_dirname(pattern, dir, sizeof(dir), &base) || *base == '\0')
		return;
	if (strpbrk(dir, "*?[\\") == NULL) {
		lfd_scan_dir(ds, dir, base, strchr(pattern, '/') == NULL,
		    initial, failed, fn, arg);
		return;
	}
	/* wildcards in directories: each one found is checked */
	if ((rc = glob(dir, GLOB_ONLYDIR, NULL, &g)) != 0) {
		*failed |= rc != GLOB_NOMATCH;
		globfree(&g);
		return;
	}
	for (size_t k = 0; k < g.gl_pathc; k++)
		lfd_scan_dir(ds, g.gl_pathv[k], base, false, initial, failed,
		    fn, arg);
	globfree(&g);
}

void
lfd_free(struct lf_dirs *ds)
{
	for (size_t i = 0; i < ds->ndirs; i++)
		free(ds->dirs[i].path);
	for (size_t i = 0; i < ds->nrefused; i++)
		free(ds->refused[i]);
	ds->ndirs = ds->nrefused = 0;
}
