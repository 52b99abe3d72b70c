/*
 * A SigmaHQ release package read from memory (socctl-pkg.h): libarchive,
 * zip only.  Two passes over the bytes: the first reads the entries'
 * names (how many, which are unsafe, whether they all sit below one
 * directory), the second the data of the files kept, each bounded as it
 * is decompressed (a zip's declared sizes are not believed).
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socctl-pkg.h"

#define PKG_NAME_MAX	1024

static int
pkg_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

const char *
pkg_name_unsafe(const char *name)
{
	const char *c, *p;
	size_t n;

	if (name == NULL || name[0] == '\0')
		return "an empty name";
	if (strlen(name) > PKG_NAME_MAX)
		return "a name longer than 1024 bytes";
	if (name[0] == '/')
		return "an absolute path";
	for (p = name; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "a control character in the name";
		if (*p == '\\')
			return "a backslash in the name";
	}
	for (c = name;; c = p + 1) {
		p = strchr(c, '/');
		n = p != NULL ? (size_t)(p - c) : strlen(c);
		if (n == 0 && p != NULL)
			return "an empty path component";
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return "a path that climbs (..)";
		if (n == 1 && c[0] == '.')
			return "a '.' path component";
		if (p == NULL)
			return NULL;
	}
}

static int
has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0;
}

/* What a name below the common directory is: 1 a rule file, 2 a
 * licence file, 0 neither. */
static int
pkg_kind(const char *rest)
{
	const char *sl = strchr(rest, '/');

	if (sl == NULL)
		return strncmp(rest, "LICENSE", 7) == 0 ? 2 : 0;
	if (strncmp(rest, "rules", 5) != 0)
		return 0;
	return has_suffix(rest, ".yml") || has_suffix(rest, ".yaml") ? 1 : 0;
}

static int
pkg_unsafe(struct pkg *p, const char *name, const char *why)
{
	char **n, **w;

	if ((n = realloc(p->unsafe, (p->nunsafe + 1) * sizeof(*n))) == NULL)
		return -1;
	p->unsafe = n;
	if ((w = realloc(p->unsafe_why, (p->nunsafe + 1) * sizeof(*w))) == NULL)
		return -1;
	p->unsafe_why = w;
	if ((n[p->nunsafe] = strdup(name)) == NULL)
		return -1;
	w[p->nunsafe++] = (char *)why;	/* a literal */
	return 0;
}

static struct archive *
pkg_open(const void *buf, size_t len, char *err, size_t errlen)
{
	struct archive *a;

	if ((a = archive_read_new()) == NULL) {
		pkg_fail(err, errlen, "out of memory");
		return NULL;
	}
	if (archive_read_support_format_zip(a) != ARCHIVE_OK ||
	    archive_read_open_memory(a, buf, len) != ARCHIVE_OK) {
		pkg_fail(err, errlen, "not a zip package: %s",
		    archive_error_string(a) ? archive_error_string(a) :
		    "unreadable");
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static const char *
entry_name(struct archive_entry *e)
{
	const char *n = archive_entry_pathname(e);

	return n != NULL ? n : archive_entry_pathname_utf8(e);
}

static int
entry_is_link(struct archive_entry *e)
{
	return archive_entry_filetype(e) == AE_IFLNK ||
	    archive_entry_symlink(e) != NULL || archive_entry_hardlink(e) != NULL;
}

/*
 * The first pass: counts, unsafe names, the common directory.  Rule
 * files under rules* at the top win; else, when every entry is below
 * one directory, that directory is the prefix.
 */
static int
pkg_scan(const void *buf, size_t len, const struct pkg_limits *lim,
    struct pkg *p, char *err, size_t errlen)
{
	struct archive *a;
	struct archive_entry *e;
	char first[PKG_NAME_MAX + 1] = "";
	const char *name, *why, *sl;
	int r, top_rules = 0, one_dir = 1, rc = -1;

	if ((a = pkg_open(buf, len, err, errlen)) == NULL)
		return -1;
	while ((r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN) {
			pkg_fail(err, errlen, "entry %zu: %s", p->entries + 1,
			    archive_error_string(a) ? archive_error_string(a) :
			    "unreadable");
			goto out;
		}
		if (++p->entries > lim->max_entries) {
			pkg_fail(err, errlen, "more than %zu entries",
			    lim->max_entries);
			goto out;
		}
		name = entry_name(e);
		why = name == NULL ? "a name that is not text" :
		    entry_is_link(e) ? "a link" : pkg_name_unsafe(name);
		if (why != NULL) {
			if (pkg_unsafe(p, name ? name : "(no name)", why) == -1) {
				pkg_fail(err, errlen, "out of memory");
				goto out;
			}
			continue;
		}
		if ((sl = strchr(name, '/')) == NULL)
			one_dir = 0;
		else if (first[0] == '\0')
			snprintf(first, sizeof(first), "%.*s", (int)(sl - name),
			    name);
		else if (strlen(first) != (size_t)(sl - name) ||
		    strncmp(first, name, (size_t)(sl - name)) != 0)
			one_dir = 0;
		if (archive_entry_filetype(e) == AE_IFREG && pkg_kind(name) == 1)
			top_rules = 1;
	}
	p->prefix = strdup(!top_rules && one_dir ? first : "");
	if (p->prefix == NULL)
		pkg_fail(err, errlen, "out of memory");
	else
		rc = 0;
out:
	archive_read_free(a);
	return rc;
}

/* Reads the entry's data, bounded; NULL (after the error) on failure. */
static char *
pkg_data(struct archive *a, const char *name, const struct pkg_limits *lim,
    size_t *total, size_t *outlen, char *err, size_t errlen)
{
	size_t cap = 0, n = 0;
	char *d = NULL, *nd;
	la_ssize_t got;

	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap == 0 ? 16384 : cap * 2;
			if ((nd = realloc(d, cap)) == NULL) {
				pkg_fail(err, errlen, "out of memory");
				goto fail;
			}
			d = nd;
		}
		if ((got = archive_read_data(a, d + n, cap - n - 1)) < 0) {
			pkg_fail(err, errlen, "%s: %s", name,
			    archive_error_string(a) ? archive_error_string(a) :
			    "unreadable");
			goto fail;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > lim->max_entry) {
			pkg_fail(err, errlen, "%s: larger than %zu bytes", name,
			    lim->max_entry);
			goto fail;
		}
		if (*total + n > lim->max_total) {
			pkg_fail(err, errlen, "the rule files pass %zu bytes",
			    lim->max_total);
			goto fail;
		}
	}
	d[n] = '\0';
	*total += n;
	*outlen = n;
	return d;
fail:
	free(d);
	return NULL;
}

int
pkg_read(const void *buf, size_t len, const struct pkg_limits *lim,
    struct pkg *p, char *err, size_t errlen)
{
	struct archive *a;
	struct archive_entry *e;
	struct pkg_file *f;
	const char *name, *rest;
	size_t plen, total = 0;
	int r, kind;

	memset(p, 0, sizeof(*p));
	if (pkg_scan(buf, len, lim, p, err, errlen) == -1 ||
	    (a = pkg_open(buf, len, err, errlen)) == NULL) {
		pkg_free(p);
		return -1;
	}
	plen = strlen(p->prefix);
	while ((r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN) {
			pkg_fail(err, errlen, "%s", archive_error_string(a) ?
			    archive_error_string(a) : "unreadable entry");
			goto fail;
		}
		name = entry_name(e);
		if (name == NULL || entry_is_link(e) || pkg_name_unsafe(name) ||
		    archive_entry_filetype(e) != AE_IFREG)
			continue;
		if (plen > 0 && (strncmp(name, p->prefix, plen) != 0 ||
		    name[plen] != '/'))
			continue;
		rest = name + plen + (plen > 0);
		if ((kind = pkg_kind(rest)) == 0)
			continue;
		if (archive_entry_size_is_set(e) &&
		    archive_entry_size(e) > (la_int64_t)lim->max_entry) {
			pkg_fail(err, errlen, "%s: larger than %zu bytes", name,
			    lim->max_entry);
			goto fail;
		}
		if ((f = realloc(p->files, (p->nfiles + 1) * sizeof(*f))) == NULL) {
			pkg_fail(err, errlen, "out of memory");
			goto fail;
		}
		p->files = f;
		f = &p->files[p->nfiles];
		memset(f, 0, sizeof(*f));
		f->license = kind == 2;
		if ((f->path = strdup(rest)) == NULL) {
			pkg_fail(err, errlen, "out of memory");
			goto fail;
		}
		p->nfiles++;
		if ((f->data = pkg_data(a, name, lim, &total, &f->len, err,
		    errlen)) == NULL)
			goto fail;
	}
	archive_read_free(a);
	return 0;
fail:
	archive_read_free(a);
	pkg_free(p);
	return -1;
}

void
pkg_free(struct pkg *p)
{
	for (size_t i = 0; i < p->nfiles; i++) {
		free(p->files[i].path);
		free(p->files[i].data);
	}
	free(p->files);
	for (size_t i = 0; i < p->nunsafe; i++)
		free(p->unsafe[i]);
	free(p->unsafe);
	free(p->unsafe_why);
	free(p->prefix);
	memset(p, 0, sizeof(*p));
}
