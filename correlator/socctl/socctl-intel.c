/*
 * socctl intel: indicator sets (import, list, show, check, remove).
 *
 * An import reads every file first -- a MISP feed directory (manifest.json
 * and one <uuid>.json per event), a STIX 2.1 bundle, a typed list, or a
 * directory of bundles and lists -- and writes nothing unless all of
 * them parse: a file past a bound (size, nesting, values) or a feed with
 * a missing event refuses the whole import, and the set already stored
 * is left as it was.  Single indicators that do not pass (a bad value, a
 * block or domain too broad without --force, an expired one) are
 * reported with their file, line or object and reason, and the rest is
 * imported.  The source's set is then replaced in one transaction; the
 * running correlator notices the new intel version within seconds.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "soc/json.h"
#include "soc/util.h"
#include "intel.h"
#include "intel-load.h"
#include "intel-parse.h"
#include "socctl.h"
#include "store.h"
#include "store-intel.h"

#define IMPORT_BYTES_MAX	(1ULL << 30)	/* all files of one import */
#define IMPORT_COUNT_MAX	(10u << 20)	/* indicators of one import */
#define REFUSED_SHOWN		20

/* One accepted indicator: strings in the import's arena. */
struct imp_row {
	size_t		 voff, toff;
	int		 type, confidence;
	int64_t		 first, last, expires;
};

struct import {
	struct ctx	*c;
	const char	*file;		/* for messages */
	int		 force;
	int64_t		 expire_ns;	/* --expire: 0 none */
	struct soc_sbuf	 strs;
	struct imp_row	*rows;
	size_t		 n, cap, next;
	size_t		 refused, skipped_expired;
	uint64_t	 bytes;
	int		 oom;
	char		 err[512];
	const char	*dir;		/* MISP feed */
};

static int
imp_add(void *arg, const struct intel_raw *r)
{
	struct import *im = arg;
	char val[INTEL_VALUE_MAX];
	const char *why = r->why;
	int type = r->type;
	struct imp_row *row;

	if (type >= 0) {
		if (intel_normalize(&type, r->value, r->len, im->force, val,
		    sizeof(val), &why) == -1)
			type = -1;
		else if (r->expires != 0 && r->expires <= im->c->now) {
			why = "expired already";
			type = -1;
		}
	}
	if (type < 0) {
		if (im->refused++ < REFUSED_SHOWN)
			fprintf(stderr, "socctl: %s:%ld: refused: %s%s%.*s\n",
			    im->file, r->where, why ? why : "refused",
			    r->len > 0 ? ": " : "", (int)(r->len > 80 ? 80 : r->len),
			    r->value ? r->value : "");
		return 0;
	}
	if (im->n >= IMPORT_COUNT_MAX) {
		snprintf(im->err, sizeof(im->err), "more than %u indicators in"
		    " one import", IMPORT_COUNT_MAX);
		return -1;
	}
	if (im->n == im->cap) {
		size_t cap = im->cap ? im->cap * 2 : 1024;
		struct imp_row *nr = realloc(im->rows, cap * sizeof(*nr));

		if (nr == NULL)
			return im->oom = 1, -1;
		im->rows = nr;
		im->cap = cap;
	}
	row = &im->rows[im->n++];
	row->type = type;
	row->confidence = r->confidence;
	row->first = r->first_seen;
	row->last = r->last_seen;
	row->expires = r->expires;
	if (im->expire_ns > 0 && (row->expires == 0 ||
	    row->expires > im->c->now + im->expire_ns))
		row->expires = im->c->now + im->expire_ns;
	row->voff = im->strs.len;
	soc_sbuf_add(&im->strs, val, strlen(val) + 1);
	row->toff = im->strs.len;
	soc_sbuf_add(&im->strs, r->tags ? r->tags : "", strlen(r->tags ?
	    r->tags : "") + 1);
	if (im->strs.oom)
		return im->oom = 1, -1;
	return 0;
}

static int
imp_next(void *arg, struct intel_ind *out)
{
	struct import *im = arg;
	const struct imp_row *r;

	if (im->next >= im->n)
		return 0;
	r = &im->rows[im->next++];
	*out = (struct intel_ind){
		.type = r->type, .value = im->strs.data + r->voff,
		.tags = im->strs.data + r->toff, .confidence = r->confidence,
		.first_seen = r->first, .last_seen = r->last,
		.expires = r->expires,
	};
	return 1;
}

/* Reads a regular file whole, under the bounds: NULL with the reason. */
static char *
slurp(struct import *im, const char *path, size_t *len)
{
	struct stat sb;
	char *buf = NULL;
	size_t got = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK)) == -1) {
		snprintf(im->err, sizeof(im->err), "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		snprintf(im->err, sizeof(im->err), "%s: not a regular file", path);
		goto fail;
	}
	if ((uint64_t)sb.st_size > INTEL_FILE_MAX) {
		snprintf(im->err, sizeof(im->err), "%s: %lld MB, larger than the"
		    " %u MB an indicator file may be", path,
		    (long long)(sb.st_size >> 20), INTEL_FILE_MAX >> 20);
		goto fail;
	}
	if ((im->bytes += (uint64_t)sb.st_size) > IMPORT_BYTES_MAX) {
		snprintf(im->err, sizeof(im->err), "%s: the files of one import "
		    "may hold %llu MB in all", path, IMPORT_BYTES_MAX >> 20);
		goto fail;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		snprintf(im->err, sizeof(im->err), "%s: out of memory", path);
		goto fail;
	}
	/* the size may change under us: never read past what we sized */
	while (got < (size_t)sb.st_size && (r = read(fd, buf + got,
	    (size_t)sb.st_size - got)) > 0)
		got += (size_t)r;
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

static int
ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0;
}

/* One file by its kind: .txt a typed list, .json a bundle or an event. */
static int
import_file(struct import *im, const char *path)
{
	char *data;
	size_t len;
	int rc;

	if ((data = slurp(im, path, &len)) == NULL)
		return -1;
	im->file = path;
	if (ends_with(path, ".json"))
		rc = intel_parse_json(data, len, imp_add, im, im->err,
		    sizeof(im->err));
	else
		rc = intel_parse_list(data, len, imp_add, im, im->err,
		    sizeof(im->err));
	free(data);
	if (rc == -1 && strncmp(im->err, path, strlen(path)) != 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s", im->err);
		snprintf(im->err, sizeof(im->err), "%.200s: %.300s", path, why);
	}
	return rc;
}

static int
misp_event(void *arg, const char *uuid)
{
	struct import *im = arg;
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s.json", im->dir, uuid);
	return import_file(im, path);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory: a MISP feed, or the .txt and .json files in it. */
static int
import_dir(struct import *im, const char *dir)
{
	char path[4096], **names = NULL;
	struct dirent *de;
	size_t n = 0, i;
	DIR *d;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	if (access(path, F_OK) == 0) {
		char *data;
		size_t len;

		if ((data = slurp(im, path, &len)) == NULL)
			return -1;
		im->dir = dir;
		im->file = path;
		rc = intel_parse_misp_manifest(data, len, misp_event, im,
		    im->err, sizeof(im->err));
		free(data);
		return rc;
	}
	if ((d = opendir(dir)) == NULL) {
		snprintf(im->err, sizeof(im->err), "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char **nn;

		if (de->d_name[0] == '.' || (!ends_with(de->d_name, ".txt") &&
		    !ends_with(de->d_name, ".json")))
			continue;
		if ((nn = realloc(names, (n + 1) * sizeof(*nn))) == NULL ||
		    (nn[n] = strdup(de->d_name)) == NULL) {
			names = nn ? nn : names;
			rc = -1;
			snprintf(im->err, sizeof(im->err), "out of memory");
			break;
		}
		names = nn;
		n++;
	}
	closedir(d);
	if (rc == 0 && n == 0) {
		snprintf(im->err, sizeof(im->err), "%s: no manifest.json, no"
		    " .txt or .json files", dir);
		rc = -1;
	}
	if (rc == 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		if (rc == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			rc = import_file(im, path);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

/* The set's default name: the file's or directory's, without .ext. */
static void
default_source(const char *path, char *out, size_t len)
{
	const char *b;
	char *dot;
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	for (b = path + n; b > path && b[-1] != '/'; b--)
		;
	snprintf(out, len, "%.*s", (int)(path + n - b), b);
	if ((dot = strrchr(out, '.')) != NULL && dot != out)
		*dot = '\0';
}

static int
source_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= INTEL_SOURCE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || s[i] == 0x7f)
			return 0;
	return 1;
}

int
cmd_intel_import(struct ctx *c, int argc, char **argv)
{
	const char *source = NULL, *expire = NULL;
	struct import im;
	struct stat sb;
	char src[INTEL_SOURCE_MAX], note[512];
	size_t count = 0;
	int64_t version = 0;
	int force = 0, rc;
	const struct optspec spec[] = {
		{ "source", &source, NULL }, { "expire", &expire, NULL },
		{ "force", NULL, &force }, { NULL, NULL, NULL }
	};

	if (args(c, argc, argv, spec, 1, 1) < 0)
		return 1;
	memset(&im, 0, sizeof(im));
	im.c = c;
	im.force = force;
	if (expire != NULL && (im.expire_ns = soc_parse_duration(expire)) <= 0)
		return cmd_err(c, "--expire wants a duration (30d, 12h), not '%s'",
		    expire);
	if (source == NULL) {
		default_source(argv[1], src, sizeof(src));
		source = src;
	}
	if (!source_ok(source))
		return cmd_err(c, "--source wants a name of 1 to %d printable "
		    "characters without spaces", INTEL_SOURCE_MAX - 1);
	if (stat(argv[1], &sb) == -1)
		return errx1("intel import: %s: %s", argv[1], strerror(errno));
	soc_sbuf_init(&im.strs);
	rc = S_ISDIR(sb.st_mode) ? import_dir(&im, argv[1]) :
	    import_file(&im, argv[1]);
	if (rc == -1 || im.oom) {
		errx1("intel import: %s; nothing imported, the set \"%s\" is as it"
		    " was", im.oom ? "out of memory" : im.err, source);
		goto fail;
	}
	if (im.refused > REFUSED_SHOWN)
		fprintf(stderr, "socctl: and %zu more refused\n",
		    im.refused - REFUSED_SHOWN);
	if (im.n == 0) {
		errx1("intel import: no indicator to import in %s (%zu refused);"
		    " the set \"%s\" is as it was", argv[1], im.refused, source);
		goto fail;
	}
	if (db_open(c) == -1)
		goto fail;
	/* short transactions of its own: the correlator keeps writing */
	if (store_intel_import(c->st, source, "local", imp_next, &im, c->now,
	    &count, &version) == -1) {
		errx1("intel import: %s; the set \"%s\" is as it was",
		    db_why(c), source);
		goto fail;
	}
	snprintf(note, sizeof(note), "%.100s: %zu indicators from %.200s",
	    source, count, argv[1]);
	if (store_begin(c->st) == -1) {
		db_fail(c);
		goto fail;
	}
	if (db_audit_commit(c, 0, "intel import", note) != 0)
		goto fail;
	printf("set %s: %zu indicators (version %lld)", source, count,
	    (long long)version);
	if (im.n > count)
		printf(", %zu duplicates merged", im.n - count);
	if (im.refused > 0)
		printf(", %zu refused", im.refused);
	printf("\n");
	free(im.rows);
	soc_sbuf_free(&im.strs);
	return 0;
fail:
	free(im.rows);
	soc_sbuf_free(&im.strs);
	return 1;
}

/* ---- list, show ---- */

#define IN(f)	offsetof(struct intel_ind, f)

static void
ind_type(struct ctx *c, const void *row, struct cell *v)
{
	(void)c;
	v->s = intel_type_name(((const struct intel_ind *)row)->type);
}

static void
ind_conf(struct ctx *c, const void *row, struct cell *v)
{
	(void)c;
	v->i = ((const struct intel_ind *)row)->confidence;
}

#define TIME_OR_NULL(name, f)						\
static void								\
name(struct ctx *c, const void *row, struct cell *v)			\
{									\
	(void)c;							\
	v->i = ((const struct intel_ind *)row)->f;			\
	v->null = v->i == 0;						\
}
TIME_OR_NULL(ind_first, first_seen)
TIME_OR_NULL(ind_last, last_seen)
TIME_OR_NULL(ind_expires, expires)

static const struct col ind_cols[] = {
	{ "type", "TYPE", 0, COL_STR, 0, 0, ind_type },
	{ "value", "VALUE:60", 1, COL_STR, 0, IN(value), NULL },
	{ "source", "SOURCE", 2, COL_STR, 0, IN(source), NULL },
	{ "confidence", ">CONF", 3, COL_INT, 0, 0, ind_conf },
	{ "tags", "TAGS:40", 4, COL_STR, COL_DASH, IN(tags), NULL },
	{ "first_seen", NULL, 0, COL_TIME, 0, 0, ind_first },
	{ "last_seen", NULL, 0, COL_TIME, 0, 0, ind_last },
	{ "expires", "EXPIRES", 5, COL_TIME, COL_DASH, 0, ind_expires },
};

static int
ind_row(void *arg, const struct intel_ind *ind)
{
	return out_row(arg, ind);
}

/* show: each indicator with the provinces that saw it (national). */
static struct soc_sbuf seen;

static void
ind_seen(struct ctx *c, const void *row, struct cell *v)
{
	if (intel_sightings_json(c, ((const struct intel_ind *)row)->value,
	    &seen) == -1) {
		v->null = 1;
		return;
	}
	v->s = seen.data;
	v->valid = 1;
}

static const struct col show_cols[] = {
	{ "type", "TYPE", 0, COL_STR, 0, 0, ind_type },
	{ "value", "VALUE:60", 1, COL_STR, 0, IN(value), NULL },
	{ "source", "SOURCE", 2, COL_STR, 0, IN(source), NULL },
	{ "confidence", ">CONF", 3, COL_INT, 0, 0, ind_conf },
	{ "tags", "TAGS:40", 4, COL_STR, COL_DASH, IN(tags), NULL },
	{ "first_seen", NULL, 0, COL_TIME, 0, 0, ind_first },
	{ "last_seen", NULL, 0, COL_TIME, 0, 0, ind_last },
	{ "expires", "EXPIRES", 5, COL_TIME, COL_DASH, 0, ind_expires },
	{ "sightings", NULL, 0, COL_RAW, 0, 0, ind_seen },
};

int
cmd_intel_list(struct ctx *c, int argc, char **argv)
{
	const char *source = NULL;
	struct out o;
	enum out_fmt fmt;
	int json = 0, csv = 0;
	const struct optspec spec[] = {
		{ "source", &source, NULL }, { "json", NULL, &json },
		{ "csv", NULL, &csv }, { NULL, NULL, NULL }
	};

	if (args(c, argc, argv, spec, 0, 0) < 0 ||
	    out_fmt_pick(c, json, csv, &fmt) == -1 || db_open(c) == -1)
		return 1;
	out_begin(&o, c, fmt, ind_cols, COL_COUNT(ind_cols));
	return out_end(&o, store_intel_foreach(c->st, source, NULL, ind_row, &o),
	    source ? "no indicators in that set" :
	    "no indicators (import a set with `socctl intel import FILE`)");
}

/* VALUE as stored: normalized as the first type it passes for. */
static void
guess_value(const char *v, char *out, size_t len)
{
	static const int order[] = { INTEL_IP, INTEL_EMAIL, INTEL_SHA256,
	    INTEL_SHA1, INTEL_MD5, INTEL_X509, INTEL_URL, INTEL_DOMAIN };
	const char *why;
	size_t i;
	int t;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		t = order[i];
		if (t == INTEL_URL && strchr(v, '/') == NULL)
			continue;
		if (intel_normalize(&t, v, strlen(v), 1, out, len, &why) == 0)
			return;
	}
	snprintf(out, len, "%s", v);
}

int
cmd_intel_show(struct ctx *c, int argc, char **argv)
{
	char val[INTEL_VALUE_MAX];
	struct out o;
	int json = 0, rc;
	const struct optspec spec[] = {
		{ "json", NULL, &json }, { NULL, NULL, NULL }
	};

	if (args(c, argc, argv, spec, 1, 1) < 0 || db_open(c) == -1)
		return 1;
	guess_value(argv[1], val, sizeof(val));
	soc_sbuf_init(&seen);
	out_begin(&o, c, json ? OUT_JSON : OUT_TABLE, show_cols,
	    COL_COUNT(show_cols));
	if (store_intel_foreach(c->st, NULL, val, ind_row, &o) == -1) {
		out_free(&o);
		soc_sbuf_free(&seen);
		return db_fail(c);
	}
	if (o.n == 0) {
		out_free(&o);
		soc_sbuf_free(&seen);
		return errx1("intel show: %s is in no indicator set (`socctl "
		    "intel check` also tries the blocks and domains it is in)",
		    argv[1]);
	}
	rc = out_end(&o, 0, "");
	soc_sbuf_free(&seen);
	if (rc == 0 && !json && intel_sightings_print(c, val) == -1)
		return db_fail(c);
	return rc;
}

/* ---- check, remove ---- */

int
cmd_intel_check(struct ctx *c, int argc, char **argv)
{
	struct intel_set *s;
	struct intel_ind ind;
	char err[512];

	if (args(c, argc, argv, NULL, 1, 1) < 0 || db_open(c) == -1)
		return 1;
	if ((s = intel_load(c->st, c->now, err, sizeof(err))) == NULL)
		return errx1("intel check: %s", err);
	if (!intel_lookup_any(s, argv[1], strlen(argv[1]), c->now, &ind)) {
		intel_set_free(s);
		printf("%s: in no indicator set\n", argv[1]);
		return 1;
	}
	printf("%s: %s %s", argv[1], intel_type_name(ind.type), ind.value);
	printf(" (set %s, confidence %d", ind.source, ind.confidence);
	if (ind.tags[0] != '\0')
		printf(", tags %s", ind.tags);
	printf(")\n");
	intel_set_free(s);
	return 0;
}

int
cmd_intel_remove(struct ctx *c, int argc, char **argv)
{
	const char *source = NULL;
	char val[INTEL_VALUE_MAX], note[256];
	int64_t n;
	const struct optspec spec[] = {
		{ "source", &source, NULL }, { NULL, NULL, NULL }
	};
	int nargs;

	if ((nargs = args(c, argc, argv, spec, 0, 1)) < 0)
		return 1;
	if ((source == NULL) == (nargs == 0))
		return cmd_err(c, "give either --source NAME or a VALUE");
	if (db_open(c) == -1)
		return 1;
	if (source != NULL) {
		n = store_intel_remove_source(c->st, source);
		snprintf(note, sizeof(note), "set %.200s", source);
	} else {
		guess_value(argv[1], val, sizeof(val));
		n = store_intel_remove_value(c->st, val);
		snprintf(note, sizeof(note), "indicator %.200s", val);
	}
	if (n < 0)
		return db_fail(c);
	if (store_begin(c->st) == -1)
		return db_fail(c);
	if (db_audit_commit(c, 0, "intel remove", note) != 0)
		return 1;
	if (n == 0)
		return errx1("intel remove: %s: no such %s", source ? source :
		    argv[1], source ? "set" : "indicator");
	printf("%s removed (%lld indicators)\n", note, (long long)n);
	return 0;
}
