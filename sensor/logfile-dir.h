/*
 * The directories of the log-file patterns: opened without following a
 * link that was not there at start, inode kept, listed by pattern; and
 * the once-per-path refusal log.  Used by logfile.c only; see
 * logfile-dir.c.
 */
#ifndef SOC_LOGFILE_DIR_H
#define SOC_LOGFILE_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LFD_MAX_DIRS	256		/* directories whose inode we keep */
#define LFD_MAX_REFUSED	256		/* paths refused, logged once each */

struct lf_dir {
	char		*path;
	dev_t		 dev;
	ino_t		 ino;		/* when first seen */
	bool		 linked;	/* a link at start: followed */
};

struct lf_dirs {
	struct lf_dir	 dirs[LFD_MAX_DIRS];
	size_t		 ndirs;
	char		*refused[LFD_MAX_REFUSED];
	size_t		 nrefused;
	bool		 full_logged;
	uint64_t	 refusals;	/* links and replaced directories */
};

/* A refusal of path: true the first time (log it and count it), false
 * while it stays refused. */
bool	lfd_refuse_new(struct lf_dirs *ds, const char *path);
/* A link where a log file should be: refused, counted, logged once. */
void	lfd_refuse_link(struct lf_dirs *ds, const char *path);
/* path was read again: its next refusal is logged. */
void	lfd_accept(struct lf_dirs *ds, const char *path);
/* The directory part of path into dir ("." or "/" at least) and *base
 * the rest; false if it does not fit. */
bool	lfd_dirname(const char *path, char *dir, size_t cap,
	    const char **base);
/* A directory descriptor for path, or -1: absent, refused (logged once,
 * counted) or an error (*failed set: keep the files we have).  initial:
 * the start-up scan, where a link is the operator's choice. */
int	lfd_open(struct lf_dirs *ds, const char *path, bool initial,
	    bool *failed);
/* A file a pattern matched: name in the checked directory dfd (open it
 * with openat), path as glob(3) would give it. */
typedef void	(*lfd_file_fn)(void *arg, int dfd, const char *name,
		    const char *path);
/* Calls fn for each file that pattern matches (sorted, a leading dot only
 * by a dot, as glob(3)), in directories lfd_open() accepted; *failed set
 * on a read error (keep the files we have). */
void	lfd_scan(struct lf_dirs *ds, const char *pattern, bool initial,
	    bool *failed, lfd_file_fn fn, void *arg);
void	lfd_free(struct lf_dirs *ds);

#endif
