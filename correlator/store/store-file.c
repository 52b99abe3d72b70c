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
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

/*
 * Mode and group of one file that exists and is ours; 0 or -1.  By path,
 * never through a descriptor of our own: closing any descriptor of a
 * file drops every POSIX lock the process holds on it, SQLite's included
 * (the file is already open in SQLite on the second call).
 */
static int
fix_file(const char *path, mode_t mode, gid_t gid, int create, char *err,
    size_t errlen)
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
	if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid())
		return 0;		/* not ours: its owner decides */
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
		if (fix_file(p, mode, gid, create && i == 0, err, errlen) == -1)
			return -1;
	}
	return 0;
}
