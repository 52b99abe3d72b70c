/*
 * `socctl rules update [--package FILE|URL] [--dry-run]`: SigmaHQ's
 * rules kept current in the manner of suricata-update.  The package (the
 * zip SigmaHQ publishes: rule files under rules*) comes from the URL
 * pinned in the correlator's config (update.url) or --package: a local
 * file, a file:// URL (offline) or http(s) through libcurl.  Its SHA-256
 * is checked against update.sha256 (or --sha256): a mismatch is refused,
 * and an http(s) package without a pin too.  The zip is read from memory
 * with every bound checked (socctl-pkg.c).
 *
 * The rule files are staged in RULES/.sigmahq-new.XXXXXX (a dot
 * directory: a reload meanwhile does not read it), each with a header
 * naming its source and the Detection Rule License, and loaded with the
 * correlator's engine, as `rules check` does: a file refused is dropped
 * and the load repeated until nothing is (a correlation goes with the
 * rule it counts).  Refusals by log source ("not mapped to any
 * dataset": logs the sensors do not produce) are counted; the others
 * are listed, and written to REFUSED.txt.  The package's LICENSE files
 * go beside the rules.  The stage then replaces RULES/sigmahq in one
 * rename (RENAME_EXCHANGE), after a check that every rule there was
 * written by us or by scripts/sigmahq-refresh (a local rule is never
 * replaced).  What changed (added, removed, modified: the rule's bytes,
 * the header aside) is printed, or with --json one object.  Last, the
 * running correlator is told: update.reload_command if set, else SIGHUP
 * to the process in pid_file (if it is a soc-correlator).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "soc-config.h"
#include "soc/conf.h"
#include "soc/json.h"
#include "rules.h"
#include "socctl.h"
#include "socctl-pkg.h"

extern char **environ;

#define DEFAULT_CONF	"/etc/soc/correlator.yml"
#define PKG_MAX_BYTES	(256U << 20)	/* the package as fetched */
#define FILE_MAX	(16U << 20)	/* a file of ours read back */
#define MARK		"# socctl rules update:"
#define MARK_REFRESH	"# sigmahq-refresh:"
#define HEADER_LINES	6
#define NOT_PRODUCED	"is not mapped to any dataset"
#define MAX_ROUNDS	16

/* The correlator's config keys this command reads. */
static struct {
	char	*rules, *mapping, *url, *sha256, *reload, *pid_file;
} U;

static const struct conf_opt upd_opts[] = {
	{ .name = "rules", .type = CONF_STR, .dst = &U.rules },
	{ .name = "mapping", .type = CONF_STR, .dst = &U.mapping },
	{ .name = "update.url", .type = CONF_STR, .dst = &U.url },
	{ .name = "update.sha256", .type = CONF_STR, .dst = &U.sha256 },
	{ .name = "update.reload_command", .type = CONF_STR, .dst = &U.reload },
	{ .name = "pid_file", .type = CONF_STR, .dst = &U.pid_file },
	{ .name = CONF_ANY_KEY },
	{ .name = NULL },
};

/* A list of strings. */
struct strs {
	char	**v;
	size_t	  n;
	int	  oom;
};

static void
strs_add(struct strs *l, const char *s)
{
	char **v;

	if (l->oom || (v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL) {
		l->oom = 1;
		return;
	}
	l->v = v;
	if ((v[l->n] = strdup(s)) == NULL)
		l->oom = 1;
	else
		l->n++;
}

static void
strs_free(struct strs *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
strs_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
strs_has(const struct strs *l, const char *s)
{
	return l->n > 0 &&
	    bsearch(&s, l->v, l->n, sizeof(*l->v), strs_cmp) != NULL;
}

struct upd {
	const char	*source;	/* as given */
	char		 sha[65];	/* of the bytes fetched */
	const char	*pin;
	const char	*rules;		/* RULES */
	char		 target[PATH_MAX];
	char		 stage[PATH_MAX];
	const char	*mapping;
	char		 mbuf[PATH_MAX + 32];
	int		 dry_run, json, no_reload;
	struct pkg	 pkg;
	size_t		 files;		/* rule files in the package */
	size_t		 out_of_scope;
	struct strs	 refused;	/* "path:line: reason" */
	struct strs	 msgs;		/* one load's messages */
	struct strs	 kept, old;	/* rule paths, sorted */
	struct strs	 added, removed, modified;
	size_t		 unchanged;
	int		 licenses;
	char		 reload_how[512];
};

/* ---- files ---- */

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)f;
	return (type == FTW_DP ? rmdir(path) : unlink(path)) == -1 &&
	    errno != ENOENT ? -1 : 0;
}

static void
rm_tree(const char *path)
{
	if (path[0] != '\0')
		(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *
read_all(const char *path, size_t *len)
{
	struct fetch_buf b = { .max = FILE_MAX };
	char chunk[16384];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return NULL;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 ||
	    (n == -1 && errno == EINTR))
		if (n > 0 && fetch_add(&b, chunk, (size_t)n) == -1)
			break;
	close(fd);
	if (fetch_add(&b, "", 1) == -1) {
		free(b.d);
		return NULL;
	}
	*len = b.n - 1;
	return b.d;
}

/* The rule's own bytes: the comment lines at the top (our header) skipped. */
static const char *
body_of(const char *s)
{
	while (*s == '#') {
		const char *nl = strchr(s, '\n');

		if (nl == NULL)
			return s + strlen(s);
		s = nl + 1;
	}
	return s;
}

static int
is_rule_name(const char *name)
{
	size_t n = strlen(name);

	return (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
	    (n > 5 && strcmp(name + n - 5, ".yaml") == 0);
}

/* Rule files under dir (relative paths, sorted); dot entries skipped as
 * the loader skips them.  strict: a rule without our mark or a file
 * that is not ours is an error (the directory is about to be replaced). */
static int
list_rules(const char *dir, const char *rel, struct strs *out, int strict,
    int depth)
{
	char path[PATH_MAX], sub[PATH_MAX];
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int rc = 0;

	snprintf(path, sizeof(path), "%s%s%s", dir, rel[0] ? "/" : "", rel);
	if (depth > 16 || (d = opendir(path)) == NULL)
		return depth == 0 && errno == ENOENT ? 0 :
		    -errx1("rules update: %s: %s", path, strerror(errno));
	while ((de = readdir(d)) != NULL && rc == 0) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "",
		    de->d_name) >= (int)sizeof(sub) || snprintf(path,
		    sizeof(path), "%s/%s", dir, sub) >= (int)sizeof(path) ||
		    lstat(path, &sb) == -1)
			continue;
		if (S_ISDIR(sb.st_mode)) {
			rc = list_rules(dir, sub, out, strict, depth + 1);
			continue;
		}
		if (is_rule_name(de->d_name) && S_ISREG(sb.st_mode)) {
			if (strict) {
				size_t n;
				char *t = read_all(path, &n);
				int ours = t != NULL &&
				    (strncmp(t, MARK, strlen(MARK)) == 0 ||
				    strncmp(t, MARK_REFRESH, strlen(MARK_REFRESH)) == 0);

				free(t);
				if (!ours) {
					rc = -errx1("rules update: %s: not written by "
					    "socctl rules update; refusing to replace %s"
					    " (keep local rules in another directory)",
					    path, dir);
					break;
				}
			}
			strs_add(out, sub);
		} else if (strict && !(depth == 0 && S_ISREG(sb.st_mode) &&
		    (strcmp(de->d_name, "REFUSED.txt") == 0 ||
		    strcmp(de->d_name, "PACKAGE.txt") == 0 ||
		    strncmp(de->d_name, "LICENSE", 7) == 0))) {
			rc = -errx1("rules update: %s: not written by socctl rules"
			    " update; refusing to replace %s", path, dir);
		}
	}
	closedir(d);
	return rc;
}

/* Writes data under the stage at rel, making its directories. */
static int
stage_write(struct upd *u, const char *rel, const char *head,
    const char *data, size_t len)
{
	char path[PATH_MAX], *sl;
	FILE *f;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", u->stage, rel) >=
	    (int)sizeof(path))
		return -errx1("rules update: %s: path too long", rel);
	for (sl = path + strlen(u->stage) + 1; (sl = strchr(sl, '/')) != NULL;
	    sl++) {
		*sl = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return -errx1("rules update: %s: %s", path, strerror(errno));
		*sl = '/';
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1)
		return -errx1("rules update: %s: %s%s", rel, strerror(errno),
		    errno == EEXIST ? " (twice in the package)" : "");
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return -errx1("rules update: %s: %s", path, strerror(errno));
	}
	if (head != NULL)
		fputs(head, f);
	fwrite(data, 1, len, f);
	if (fflush(f) == EOF || ferror(f) || fsync(fileno(f)) == -1) {
		fclose(f);
		return -errx1("rules update: %s: %s", path, strerror(errno));
	}
	fclose(f);
	return 0;
}

/* A package path to the rule's path under sigmahq/: rules/linux/x.yml
 * -> linux/x.yml (as sigmahq-refresh writes it); rules-emerging-threats/
 * and the others keep their directory.  NULL: not a file the loader
 * would read (a dot component, mapping.yml, placeholders.yml). */
static const char *
rule_dest(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (strstr(path, "/.") != NULL || strcmp(base, "mapping.yml") == 0 ||
	    strcmp(base, "placeholders.yml") == 0)
		return NULL;
	return strncmp(path, "rules/", 6) == 0 ? path + 6 : path;
}

static int
stage_rules(struct upd *u)
{
	char head[1024];
	const char *dst;

	for (size_t i = 0; i < u->pkg.nfiles; i++) {
		const struct pkg_file *f = &u->pkg.files[i];

		if (f->license || (dst = rule_dest(f->path)) == NULL)
			continue;
		u->files++;
		snprintf(head, sizeof(head), MARK " from a SigmaHQ package, %s\n"
		    "# https://github.com/SigmaHQ/sigma -- Detection Rule License"
		    " (DRL) 1.1,\n"
		    "# https://github.com/SigmaHQ/Detection-Rule-License (text in"
		    " the LICENSE\n"
		    "# files beside these rules).  The rule's author field below"
		    " is kept as\n"
		    "# the license requires; do not edit this copy: `socctl rules"
		    " update`\n"
		    "# replaces it (local tuning belongs in local rules).\n",
		    f->path);
		if (stage_write(u, dst, head, f->data, f->len) == -1)
			return -1;
	}
	return 0;
}

/* ---- the check ---- */

static void
upd_msg(void *arg, const char *msg)
{
	strs_add(arg, msg);
}

/*
 * One load of the stage.  Each refused file is removed and recorded;
 * returns how many, or -1 when no set could be built.
 */
static int
check_round(struct upd *u)
{
	struct rs_load_opts o = { .min_status = RS_STATUS_ANY };
	const char *dirs[1] = { u->stage };
	struct strs bad = { 0 }, why = { 0 };
	struct ruleset *rs;
	size_t nerr = 0, plen = strlen(u->stage);
	int n = 0;

	strs_free(&u->msgs);
	rs = ruleset_load_opts(dirs, 1, u->mapping, &o, upd_msg, &u->msgs, &nerr);
	if (rs == NULL) {
		for (size_t i = 0; i < u->msgs.n; i++)
			fprintf(stderr, "%s\n", u->msgs.v[i]);
		return -errx1("rules update: the rules could not be loaded at all"
		    " (see above)");
	}
	ruleset_free(rs);
	for (size_t i = 0; i < u->msgs.n; i++) {
		const char *m = u->msgs.v[i], *c = NULL, *y, *z;
		char rel[PATH_MAX], text[PATH_MAX + 1024];
		long line = 0;
		size_t k;

		if (strncmp(m, u->stage, plen) == 0 && m[plen] == '/') {
			y = strstr(m + plen, ".yml:");
			z = strstr(m + plen, ".yaml:");
			c = y && (!z || y < z) ? y + 4 : z ? z + 5 : NULL;
		}
		if (c == NULL) {	/* not about a rule file */
			fprintf(stderr, "socctl: rules update: %s\n", m);
			continue;
		}
		snprintf(rel, sizeof(rel), "%.*s", (int)(c - m - plen - 1),
		    m + plen + 1);
		c++;
		if (*c >= '0' && *c <= '9') {
			line = strtol(c, (char **)&c, 10) - HEADER_LINES;
			if (*c == ':')
				c++;
		}
		while (*c == ' ')
			c++;
		snprintf(text, sizeof(text), "%s:%ld: %s", rel,
		    line < 1 ? 1 : line, c);
		/* a file's first reason; all by log source: out of scope */
		for (k = 0; k < bad.n && strcmp(bad.v[k], rel) != 0; k++)
			;
		if (k == bad.n) {
			strs_add(&bad, rel);
			strs_add(&why, text);
		} else if (k < why.n && strstr(why.v[k], NOT_PRODUCED) != NULL &&
		    strstr(c, NOT_PRODUCED) == NULL) {
			char *t = strdup(text);

			if (t != NULL) {
				free(why.v[k]);
				why.v[k] = t;
			}
		}
	}
	for (size_t k = 0; k < bad.n; k++) {
		char path[PATH_MAX * 2];

		snprintf(path, sizeof(path), "%s/%s", u->stage, bad.v[k]);
		if (unlink(path) == -1)
			continue;	/* named twice, or not a file of ours */
		n++;
		if (k < why.n && strstr(why.v[k], NOT_PRODUCED) != NULL)
			u->out_of_scope++;
		else
			strs_add(&u->refused, k < why.n ? why.v[k] : bad.v[k]);
	}
	if (bad.oom || why.oom)
		n = -errx1("rules update: out of memory");
	strs_free(&bad);
	strs_free(&why);
	return n;
}

static int
check_stage(struct upd *u)
{
	char src[PATH_MAX], dst[PATH_MAX + 32];
	char *t;
	size_t len;
	int n, rounds = 0;

	/* the placeholders of the rules directory, for |expand */
	snprintf(src, sizeof(src), "%s/placeholders.yml", u->rules);
	snprintf(dst, sizeof(dst), "%s/placeholders.yml", u->stage);
	if ((t = read_all(src, &len)) != NULL) {
		n = stage_write(u, "placeholders.yml", NULL, t, len);
		free(t);
		if (n == -1)
			return -1;
	}
	while ((n = check_round(u)) > 0)
		if (++rounds == MAX_ROUNDS)
			return -errx1("rules update: still refusing rules after %d"
			    " rounds", MAX_ROUNDS);
	(void)unlink(dst);
	return n;
}

/* ---- what changed ---- */

static int
diff(struct upd *u)
{
	if (list_rules(u->target, "", &u->old, 1, 0) == -1 ||
	    list_rules(u->stage, "", &u->kept, 0, 0) == -1)
		return -1;
	if (u->old.oom || u->kept.oom)
		return -errx1("rules update: out of memory");
	if (u->old.n > 0)
		qsort(u->old.v, u->old.n, sizeof(*u->old.v), strs_cmp);
	if (u->kept.n > 0)
		qsort(u->kept.v, u->kept.n, sizeof(*u->kept.v), strs_cmp);
	for (size_t i = 0; i < u->kept.n; i++) {
		char a[PATH_MAX * 2], b[PATH_MAX * 2], *x, *y;
		size_t xn, yn;

		if (!strs_has(&u->old, u->kept.v[i])) {
			strs_add(&u->added, u->kept.v[i]);
			continue;
		}
		snprintf(a, sizeof(a), "%s/%s", u->target, u->kept.v[i]);
		snprintf(b, sizeof(b), "%s/%s", u->stage, u->kept.v[i]);
		x = read_all(a, &xn);
		y = read_all(b, &yn);
		if (x == NULL || y == NULL || strcmp(body_of(x), body_of(y)) != 0)
			strs_add(&u->modified, u->kept.v[i]);
		else
			u->unchanged++;
		free(x);
		free(y);
	}
	for (size_t i = 0; i < u->old.n; i++)
		if (!strs_has(&u->kept, u->old.v[i]))
			strs_add(&u->removed, u->old.v[i]);
	return 0;
}

static int
write_notes(struct upd *u)
{
	struct soc_sbuf b;
	int rc;

	for (size_t i = 0; i < u->pkg.nfiles; i++)
		if (u->pkg.files[i].license) {
			if (stage_write(u, u->pkg.files[i].path, NULL,
			    u->pkg.files[i].data, u->pkg.files[i].len) == -1)
				return -1;
			u->licenses++;
		}
	soc_sbuf_init(&b);
	soc_sbuf_printf(&b, "# SigmaHQ rules the engine refused (socctl rules"
	    " update, package sha256 %s)\n", u->sha);
	for (size_t i = 0; i < u->refused.n; i++)
		soc_sbuf_printf(&b, "%s\n", u->refused.v[i]);
	rc = b.oom ? -errx1("rules update: out of memory") :
	    stage_write(u, "REFUSED.txt", NULL, b.data, b.len);
	soc_sbuf_reset(&b);
	soc_sbuf_printf(&b, "source: %s\nsha256: %s\nrule_files: %zu\nkept: %zu\n"
	    "out_of_scope: %zu\nrefused: %zu\n", u->source, u->sha, u->files,
	    u->kept.n, u->out_of_scope, u->refused.n);
	if (rc == 0)
		rc = b.oom ? -errx1("rules update: out of memory") :
		    stage_write(u, "PACKAGE.txt", NULL, b.data, b.len);
	soc_sbuf_free(&b);
	return rc;
}

/* The stage becomes the target in one step; the old copy goes. */
static int
swap_in(struct upd *u)
{
	struct stat sb;

	if (lstat(u->target, &sb) == -1) {
		if (rename(u->stage, u->target) == -1)
			return -errx1("rules update: rename to %s: %s", u->target,
			    strerror(errno));
		u->stage[0] = '\0';
		return 0;
	}
	if (renameat2(AT_FDCWD, u->stage, AT_FDCWD, u->target,
	    RENAME_EXCHANGE) == -1) {
		char old[PATH_MAX + 16];

		if (errno != EINVAL && errno != ENOSYS)
			return -errx1("rules update: exchange %s: %s", u->target,
			    strerror(errno));
		/* a file system without RENAME_EXCHANGE: two renames */
		snprintf(old, sizeof(old), "%s.old", u->stage);
		if (rename(u->target, old) == -1)
			return -errx1("rules update: rename %s: %s", u->target,
			    strerror(errno));
		if (rename(u->stage, u->target) == -1) {
			(void)rename(old, u->target);
			return -errx1("rules update: rename to %s: %s", u->target,
			    strerror(errno));
		}
		rm_tree(old);
		u->stage[0] = '\0';
		return 0;
	}
	rm_tree(u->stage);	/* now the old copy */
	u->stage[0] = '\0';
	return 0;
}

/* ---- reload ---- */

static int
reload(struct upd *u)
{
	char buf[64], comm[64], path[64];
	size_t n;
	long pid;
	char *t;

	if (U.reload != NULL) {
		char *argv[] = { "sh", "-c", U.reload, NULL };
		pid_t p;
		int status;

		if ((errno = posix_spawn(&p, "/bin/sh", NULL, NULL, argv,
		    environ)) != 0 || waitpid(p, &status, 0) == -1)
			return -errx1("rules update: update.reload_command: %s",
			    strerror(errno));
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			return -errx1("rules update: the rules are written, but"
			    " update.reload_command failed (%s %d): %s",
			    WIFEXITED(status) ? "exit" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) :
			    WTERMSIG(status), U.reload);
		snprintf(u->reload_how, sizeof(u->reload_how),
		    "correlator reloaded: ran %s", U.reload);
		return 0;
	}
	if (U.pid_file == NULL) {
		snprintf(u->reload_how, sizeof(u->reload_how), "no running "
		    "correlator known (set pid_file or update.reload_command in "
		    "its config): reload it (systemctl reload soc-correlator)");
		return 0;
	}
	if ((t = read_all(U.pid_file, &n)) == NULL && errno == ENOENT) {
		snprintf(u->reload_how, sizeof(u->reload_how), "correlator not "
		    "running (no %s): it loads the new rules when it starts",
		    U.pid_file);
		return 0;
	}
	if (t == NULL)
		return -errx1("rules update: the rules are written, but %s: %s",
		    U.pid_file, strerror(errno));
	pid = strtol(t, NULL, 10);
	free(t);
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	comm[0] = '\0';
	if (pid > 1 && (t = read_all(path, &n)) != NULL) {
		snprintf(comm, sizeof(comm), "%s", t);
		free(t);
	}
	if (pid <= 1 || strncmp(comm, "soc-correlator", 14) != 0)
		return -errx1("rules update: the rules are written, but pid_file "
		    "%s names no running soc-correlator (pid %ld)", U.pid_file,
		    pid);
	if (kill((pid_t)pid, SIGHUP) == -1)
		return -errx1("rules update: the rules are written, but SIGHUP to"
		    " pid %ld: %s", pid, strerror(errno));
	snprintf(buf, sizeof(buf), "%ld", pid);
	snprintf(u->reload_how, sizeof(u->reload_how), "correlator reloading:"
	    " SIGHUP sent to soc-correlator pid %s (%s)", buf, U.pid_file);
	return 0;
}

/* ---- output ---- */

static void
j_list(struct soc_sbuf *b, int *n, const char *k, const struct strs *l)
{
	j_key(b, n, k);
	soc_sbuf_adds(b, "[");
	for (size_t i = 0; i < l->n; i++) {
		if (i > 0)
			soc_sbuf_adds(b, ",");
		soc_sbuf_json_str(b, l->v[i], strlen(l->v[i]));
	}
	soc_sbuf_adds(b, "]");
}

static int
report(struct upd *u, int changed)
{
	static const char *const sign[] = { "+", "-", "~" };
	const struct strs *lists[] = { &u->added, &u->removed, &u->modified };
	struct soc_sbuf b;
	int n = 0;

	if (u->json) {
		struct strs unsafe = { 0 };

		for (size_t i = 0; i < u->pkg.nunsafe; i++) {
			char t[2048];

			snprintf(t, sizeof(t), "%s: %s", u->pkg.unsafe[i],
			    u->pkg.unsafe_why[i]);
			strs_add(&unsafe, t);
		}
		soc_sbuf_init(&b);
		soc_sbuf_adds(&b, "{");
		j_str(&b, &n, "package", u->source);
		j_str(&b, &n, "sha256", u->sha);
		j_bool(&b, &n, "verified", u->pin != NULL);
		j_str(&b, &n, "target", u->target);
		j_int(&b, &n, "rule_files", (long long)u->files);
		j_int(&b, &n, "kept", (long long)u->kept.n);
		j_int(&b, &n, "out_of_scope", (long long)u->out_of_scope);
		j_list(&b, &n, "refused", &u->refused);
		j_list(&b, &n, "unsafe", &unsafe);
		j_list(&b, &n, "added", &u->added);
		j_list(&b, &n, "removed", &u->removed);
		j_list(&b, &n, "modified", &u->modified);
		j_int(&b, &n, "unchanged", (long long)u->unchanged);
		j_bool(&b, &n, "dry_run", u->dry_run);
		j_bool(&b, &n, "changed", changed);
		j_str(&b, &n, "reload", u->reload_how[0] ? u->reload_how : NULL);
		soc_sbuf_adds(&b, "}");
		strs_free(&unsafe);
		return j_print(&b);
	}
	printf("package %s\n  sha256 %s (%s)\n", u->source, u->sha,
	    u->pin ? "verified" : "not pinned: set update.sha256 to check it");
	for (size_t i = 0; i < u->pkg.nunsafe; i++) {
		printf("unsafe entry skipped: ");
		put_clean(stdout, u->pkg.unsafe[i]);
		printf(": %s\n", u->pkg.unsafe_why[i]);
	}
	printf("%zu rule files: %zu kept, %zu for log sources the sensors do not"
	    " produce, %zu refused\n", u->files, u->kept.n, u->out_of_scope,
	    u->refused.n);
	for (size_t i = 0; i < u->refused.n; i++) {
		printf("refused: ");
		put_clean(stdout, u->refused.v[i]);
		printf("\n");
	}
	printf("%s: %zu added, %zu removed, %zu modified, %zu unchanged\n",
	    u->target, u->added.n, u->removed.n, u->modified.n, u->unchanged);
	for (size_t k = 0; k < 3; k++)
		for (size_t i = 0; i < lists[k]->n; i++) {
			printf("  %s ", sign[k]);
			put_clean(stdout, lists[k]->v[i]);
			printf("\n");
		}
	if (u->dry_run)
		printf("dry run: nothing written\n");
	else if (!changed)
		printf("nothing changed; the correlator was not reloaded\n");
	else if (u->reload_how[0])
		printf("%s\n", u->reload_how);
	return fflush(stdout) == EOF ? 1 : 0;
}

/* ---- the command ---- */

static int
load_config(const char *given)
{
	const char *path = given;
	char err[1024];

	if (path == NULL && (path = getenv("SOC_CONFIG")) != NULL && !*path)
		path = NULL;
	if (path == NULL) {
		if (access(DEFAULT_CONF, F_OK) != 0)
			return 0;
		path = DEFAULT_CONF;
	}
	if (conf_load(path, upd_opts, err, sizeof(err)) == -1)
		return -errx1("rules update: %s", err);
	return 0;
}

static int
upd_free(struct upd *u, int rc)
{
	if (u->stage[0] != '\0')
		rm_tree(u->stage);
	pkg_free(&u->pkg);
	strs_free(&u->refused);
	strs_free(&u->msgs);
	strs_free(&u->kept);
	strs_free(&u->old);
	strs_free(&u->added);
	strs_free(&u->removed);
	strs_free(&u->modified);
	return rc;
}

int
cmd_rules_update(struct ctx *c, int argc, char **argv)
{
	const char *pkg = NULL, *sha = NULL, *config = NULL, *rules = NULL;
	const char *mapping = NULL;
	struct pkg_limits lim = { PKG_MAX_ENTRIES, PKG_MAX_ENTRY, PKG_MAX_TOTAL };
	struct upd u;
	const struct optspec spec[] = {
		{ "package", &pkg, NULL }, { "sha256", &sha, NULL },
		{ "config", &config, NULL }, { "rules", &rules, NULL },
		{ "mapping", &mapping, NULL }, { "dry-run", NULL, &u.dry_run },
		{ "json", NULL, &u.json }, { "no-reload", NULL, &u.no_reload },
		{ NULL, NULL, NULL } };
	struct fetch_buf b = { .max = PKG_MAX_BYTES };
	char err[1024];
	struct stat sb;
	int changed, rc;

	memset(&u, 0, sizeof(u));
	if (args(c, argc, argv, spec, 0, 0) != 0)
		return 1;
	if (load_config(config) != 0)
		return 1;
	if ((u.source = pkg ? pkg : U.url) == NULL)
		return errx1("rules update: no package: give --package FILE|URL or"
		    " set update.url in the correlator's config");
	u.pin = sha ? sha : U.sha256;	/* the pin holds for --package too */
	if (u.pin != NULL && u.pin[0] == '\0')
		u.pin = NULL;
	if (u.pin == NULL && fetch_is_http(u.source))
		return errx1("rules update: %s: a downloaded package needs its "
		    "SHA-256 pinned (update.sha256 or --sha256)", u.source);
	if (u.pin != NULL && strlen(u.pin) != 64)
		return errx1("rules update: SHA-256 '%s': give 64 hex digits",
		    u.pin);
	if (fetch_bytes(u.source, &b) != 0) {
		free(b.d);
		return 1;
	}
	sha256_hex(b.d ? b.d : "", b.n, u.sha);
	if (u.pin != NULL && strcasecmp(u.pin, u.sha) != 0) {
		free(b.d);
		return errx1("rules update: %s: SHA-256 mismatch: the package is"
		    " %s, the pin says %s; nothing changed (a new release needs a"
		    " new pin)", u.source, u.sha, u.pin);
	}
	rc = pkg_read(b.d ? b.d : "", b.n, &lim, &u.pkg, err, sizeof(err));
	free(b.d);
	if (rc == -1)
		return errx1("rules update: %s: %s; nothing changed", u.source, err);

	u.rules = rules ? rules : U.rules ? U.rules : SOC_DATADIR "/rules";
	if (stat(u.rules, &sb) == -1 || !S_ISDIR(sb.st_mode))
		return upd_free(&u, errx1("rules update: rules directory %s: %s",
		    u.rules, errno ? strerror(errno) : "not a directory"));
	snprintf(u.target, sizeof(u.target), "%s/sigmahq", u.rules);
	if ((u.mapping = mapping ? mapping : U.mapping) == NULL) {
		snprintf(u.mbuf, sizeof(u.mbuf), "%s/mapping.yml", u.rules);
		u.mapping = access(u.mbuf, R_OK) == 0 ? u.mbuf :
		    rules_mapping(&u.rules, 1, u.mbuf, sizeof(u.mbuf));
	}
	snprintf(u.stage, sizeof(u.stage), "%s/.sigmahq-new.XXXXXX", u.rules);
	if (mkdtemp(u.stage) == NULL) {
		rc = errx1("rules update: %s: %s", u.stage, strerror(errno));
		u.stage[0] = '\0';
		return upd_free(&u, rc);
	}
	(void)chmod(u.stage, 0755);
	if (stage_rules(&u) == -1 || check_stage(&u) == -1 || diff(&u) == -1 ||
	    write_notes(&u) == -1)
		return upd_free(&u, 1);
	if (u.refused.oom || u.added.oom || u.removed.oom || u.modified.oom)
		return upd_free(&u, errx1("rules update: out of memory"));
	if (u.kept.n == 0)
		return upd_free(&u, errx1("rules update: %s: no rule of the package"
		    " loads here (%zu rule files under rules*/); nothing changed",
		    u.source, u.files));
	if (u.licenses == 0)
		fprintf(stderr, "socctl: rules update: warning: no LICENSE file in"
		    " the package; put the Detection Rule License 1.1 text in %s\n",
		    u.target);
	changed = u.added.n + u.removed.n + u.modified.n > 0;
	if (!u.dry_run && swap_in(&u) == -1)
		return upd_free(&u, 1);
	rc = 0;
	if (!u.dry_run && changed && !u.no_reload)
		rc = reload(&u) == 0 ? 0 : 1;
	if (report(&u, changed) != 0)
		rc = 1;
	return upd_free(&u, rc);
}
