/*
 * Who may open the incident database: the file and its -wal and -shm are
 * created 0640 whatever the umask (the correlator's unit runs with 0027,
 * a shell with 0022 or 0077), or 0660 and owned by a group of analysts
 * when one is configured, so `socctl incident ack` run by an analyst in
 * that group can write (the -shm is written by readers too).
 *
 * SQLite creates -wal and -shm with the main file's mode, set by fchmod
 * whatever the umask, but in the creating process's group: the group is
 * set here after the open as well.  A directory that is setgid to the
 * group (systemd/soc.tmpfiles) keeps it on files an analyst's socctl
 * creates while the correlator is down.
 *
 * socctl creates the file the same way (0640 whatever the umask), so a
 * quick start that runs socctl first does not leave it world-readable.
 * A file that someone else owns and that we may not write (made by root's
 * socctl, say, for a correlator that runs as soc) would be opened
 * read-only by SQLite without a word, and the first write would fail as
 * "attempt to write a readonly database": it is refused here instead,
 * naming the file, its owner and the chown to run.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

/* The name of a uid or gid (or its number), copied into buf: getpwuid()
 * and getgrgid() return one static buffer. */
static const char *
user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%lu", (unsigned long)uid);
	return buf;
}

static const char *
group_name(gid_t gid, char *buf, size_t len)
{
	struct group *gr = getgrgid(gid);

	if (gr != NULL)
		snprintf(buf, len, "%s", gr->gr_name);
	else
		snprintf(buf, len, "%lu", (unsigned long)gid);
	return buf;
}

/* A file someone else owns that we cannot write: the reason and the fix. */
static int
not_writable(const char *path, const char *db, const struct stat *sb,
    gid_t gid, char *err, size_t errlen)
{
	char ou[64], og[64], me[64], mg[64];

	snprintf(err, errlen, "%s is owned by %s:%s, mode %04o, and this "
	    "process runs as %s, which may not write it (was it made by "
	    "socctl as another user?); run `chown %s:%s %s %s-wal %s-shm` "
	    "(the -wal and -shm only if they exist), or run as %s",
	    path, user_name(sb->st_uid, ou, sizeof(ou)),
	    group_name(sb->st_gid, og, sizeof(og)),
	    (unsigned)(sb->st_mode & 07777),
	    user_name(geteuid(), me, sizeof(me)), me,
	    group_name(gid != (gid_t)-1 ? gid : getegid(), mg, sizeof(mg)),
	    db, db, db, ou);
	return -1;
}

/*
 * Mode and group of one file that exists and is ours; 0 or -1.  By path,
 * never through a descriptor of our own: closing any descriptor of a
 * file drops every POSIX lock the process holds on it, SQLite's included
 * (the file is already open in SQLite on the second call).
 */
static int
fix_file(const char *path, const char *db, mode_t mode, gid_t gid, int create,
    char *err, size_t errlen)
{
	struct stat sb;
	int fd;

	if (create && (fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) != -1)
		close(fd);		/* new and empty: SQLite not there yet */
	if (lstat(path, &sb) == -1) {
		if (errno == ENOENT && !create)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode))
		return 0;
	if (sb.st_uid != geteuid()) {
		/* not ours: its owner decides, but we must be able to write */
		if (access(path, R_OK | W_OK) == -1 && errno == EACCES)
			return not_writable(path, db, &sb, gid, err, errlen);
		return 0;
	}
	if (((sb.st_mode & 07777) != mode && chmod(path, mode) == -1) ||
	    (gid != (gid_t)-1 && sb.st_gid != gid &&
	    lchown(path, (uid_t)-1, gid) == -1)) {
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
		    errno == EPERM ? " (the correlator's user must be in "
		    "db_group)" : "");
		return -1;
	}
	return 0;
}

int
store_file_access(const char *path, const char *group, int create, char *err,
    size_t errlen)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	gid_t gid = (gid_t)-1;
	mode_t mode = 0640;
	char p[4096];
	struct group *gr;
	size_t i;

	if (group != NULL && *group != '\0') {
		if ((gr = getgrnam(group)) == NULL) {
			snprintf(err, errlen, "db_group %s: no such group", group);
			return -1;
		}
		gid = gr->gr_gid;
		mode = 0660;
	}
	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		if (snprintf(p, sizeof(p), "%s%s", path, suffix[i]) >= (int)sizeof(p)) {
			snprintf(err, errlen, "%s: path too long", path);
			return -1;
		}
		if (fix_file(p, path, mode, gid, create && i == 0, err,
		    errlen) == -1)
			return -1;
	}
	return 0;
}
