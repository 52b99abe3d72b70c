/*
 * A SigmaHQ release package (a zip) read from memory, for `socctl rules
 * update` (socctl-update.c).  The bytes come from a download: every bound
 * is checked and no name from the package reaches the file system
 * unchecked.  Kept: the rule files (*.yml, *.yaml) under a top directory
 * named rules* (rules/, rules-emerging-threats/, ...), and the licence
 * files at the top (LICENSE*); all of them may sit below one common
 * directory (a GitHub archive's sigma-r2024-.../).  Everything else is
 * skipped unread.
 */
#ifndef SOCCTL_PKG_H
#define SOCCTL_PKG_H

#include <stddef.h>

struct pkg_limits {
	size_t	max_entries;	/* entries of any kind in the package */
	size_t	max_entry;	/* bytes of one kept file, uncompressed */
	size_t	max_total;	/* bytes of all kept files, uncompressed */
};

/* The bounds `rules update` uses. */
#define PKG_MAX_ENTRIES		100000
#define PKG_MAX_ENTRY		(1U << 20)
#define PKG_MAX_TOTAL		(256U << 20)

struct pkg_file {
	char	*path;		/* below the common directory, if any */
	char	*data;		/* len bytes and a NUL */
	size_t	 len;
	int	 license;	/* a LICENSE* file at the top */
};

struct pkg {
	struct pkg_file	*files;
	size_t		 nfiles;
	size_t		 entries;	/* entries seen */
	char		**unsafe;	/* names refused (never written) */
	char		**unsafe_why;
	size_t		 nunsafe;
	char		*prefix;	/* the common directory, or "" */
};

/*
 * Reads the zip in buf.  0, or -1 with the reason in err (not a zip, a
 * bound passed, a damaged entry, entries below two different top
 * directories): then nothing of it is kept.  An entry whose name is
 * absolute, climbs (..), has a backslash, an empty component or a
 * control character, or that is a link, is listed in unsafe and skipped.
 */
int	pkg_read(const void *buf, size_t len, const struct pkg_limits *lim,
	    struct pkg *p, char *err, size_t errlen);
void	pkg_free(struct pkg *p);
/* NULL when name is safe to write below a directory, else why not. */
const char *pkg_name_unsafe(const char *name);

#endif
