/*
 * socctl: the analyst's and administrator's tool.  It manages agencies,
 * sensor keys and enrolment, lists and works incidents (the state machine
 * and audit trail live in store.c), prints the 4-layer coverage report
 * and checks rule sets with the same engine the correlator runs.
 *
 * Commands are data: the cmds[] table holds each one's name (one or two
 * words), handler, database mode, usage and help; main() finds the entry,
 * handlers parse their options from an optspec table.  Output is either
 * for people (aligned columns measured in display characters, so
 * Vietnamese agency names line up; local times and ages) or, with
 * --json, exactly one JSON document on stdout.  Text that came from the
 * network (rule titles, group keys, event fields) has its control
 * characters replaced before it reaches a terminal.
 *
 * Exit status: 0 on success, 1 on any error, with a message on stderr
 * that says what to do next.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "soc-config.h"
#include "soc/json.h"
#include "soc/util.h"
#include "rules.h"
#include "store.h"

#define DEFAULT_DB	"/var/lib/soc/soc.db"

enum db_mode {
	DB_NONE,	/* no database */
	DB_READ,	/* read-only; the file must exist */
	DB_WRITE,	/* read-write; the file must exist */
	DB_CREATE,	/* read-write; created with its schema if missing */
};

struct ctx;

struct cmd {
	const char	*name;		/* "agency add" */
	int		(*fn)(struct ctx *, int, char **);
	enum db_mode	 db;
	int		 arg;		/* handler-specific (target status) */
	int		 hidden;	/* alias: not listed in --help */
	const char	*usage;
	const char	*help;
};

struct ctx {
	const char		*db;
	int			 utc;
	const struct cmd	*cmd;
	struct store		*st;
	int64_t			 now;
	char			 actor[64];	/* the Unix user, for admin audit */
};

/* Long options of a command: a string value or a flag. */
struct optspec {
	const char	*name;
	const char	**str;		/* NULL for a flag */
	int		*flag;
};

int	socctl_rules_check(int argc, char **argv);
int	socctl_rules_test(int argc, char **argv);

static int	errx1(const char *, ...) __attribute__((format(printf, 1, 2)));
static int	cmd_err(struct ctx *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* ---- messages ---- */

static int
errx1(const char *fmt, ...)
{
	va_list ap;

	fputs("socctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* An error in how the command was called: the reason, then its usage. */
static int
cmd_err(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "socctl %s: ", c->cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: socctl %s %s\n", c->cmd->name, c->cmd->usage);
	return 1;
}

/* ---- UTF-8 display: width and sanitising ---- */

/*
 * Decodes one UTF-8 sequence at s: returns its length and the code point
 * in *cp, or 1 with *cp = -1 for an invalid byte.
 */
static size_t
utf8_decode(const unsigned char *s, long *cp)
{
	long c;
	size_t n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		*cp = -1;
		return 1;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = -1;
			return 1;
		}
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and out-of-range values are invalid. */
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff)) {
		*cp = -1;
		return 1;
	}
	*cp = c;
	return n;
}

/* Columns a code point takes on a terminal: 0 for combining marks (NFD
 * Vietnamese stacks them), 2 for East Asian wide characters. */
static int
cp_width(long c)
{
	if ((c >= 0x300 && c <= 0x36f) || (c >= 0x1ab0 && c <= 0x1aff) ||
	    (c >= 0x1dc0 && c <= 0x1dff) || (c >= 0x20d0 && c <= 0x20ff) ||
	    (c >= 0xfe20 && c <= 0xfe2f) || (c >= 0x200b && c <= 0x200f) ||
	    c == 0xfeff)
		return 0;
	if ((c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) ||
	    (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
	    (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
	    (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
	    (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x3fffd))
		return 2;
	return 1;
}

static size_t
disp_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;
	long cp;

	while (*p != '\0') {
		p += utf8_decode(p, &cp);
		w += cp < 0 ? 1 : (size_t)cp_width(cp);
	}
	return w;
}

/*
 * Returns a copy of s fit for a terminal: control characters (C0, DEL,
 * C1) and invalid UTF-8 become '?', and if maxw > 0 the text is cut to
 * maxw columns ending in "…".  The caller frees it; NULL on no memory.
 */
static char *
clean_dup(const char *s, size_t maxw)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), n, o = 0, w = 0, cw;
	char *out;
	long cp;

	if ((out = malloc(len + 4)) == NULL)
		return NULL;
	if (maxw > 0 && disp_width(s) <= maxw)
		maxw = 0;
	while (*p != '\0') {
		n = utf8_decode(p, &cp);
		cw = cp < 0 ? 1 : (size_t)cp_width(cp);
		if (maxw > 0 && w + cw > maxw - 1) {
			memcpy(out + o, "\xe2\x80\xa6", 3);	/* … */
			o += 3;
			break;
		}
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
			out[o++] = '?';
		else {
			memcpy(out + o, p, n);
			o += n;
		}
		w += cw;
		p += n;
	}
	out[o] = '\0';
	return out;
}

static void
put_clean(FILE *f, const char *s)
{
	char *t = clean_dup(s, 0);

	fputs(t ? t : "?", f);
	free(t);
}

/* ---- tables for people ---- */

#define TABLE_MAXCOLS	12

struct table {
	int		 ncols;
	const char	*head[TABLE_MAXCOLS];
	int		 right[TABLE_MAXCOLS];	/* right-align (numbers) */
	size_t		 maxw[TABLE_MAXCOLS];	/* 0: no limit */
	char		**cells;
	size_t		 nrows, cap;
	int		 oom;
};

/* spec: "NAME" left, ">NAME" right-aligned, optional ":N" width limit. */
static void
table_init(struct table *t, int ncols, const char *const *spec)
{
	const char *colon;
	int i;

	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	for (i = 0; i < ncols; i++) {
		t->right[i] = spec[i][0] == '>';
		t->head[i] = spec[i] + t->right[i];
		if ((colon = strchr(t->head[i], ':')) != NULL)
			t->maxw[i] = (size_t)atoi(colon + 1);
	}
}

static void
table_row(struct table *t, ...)
{
	va_list ap;
	char **cells;
	const char *v;
	size_t i, n;

	if (t->nrows == t->cap) {
		n = t->cap ? t->cap * 2 : 16;
		cells = reallocarray(t->cells, n * (size_t)t->ncols, sizeof(*cells));
		if (cells == NULL) {
			t->oom = 1;
			return;
		}
		t->cells = cells;
		t->cap = n;
	}
	va_start(ap, t);
	for (i = 0; i < (size_t)t->ncols; i++) {
		v = va_arg(ap, const char *);
		cells = &t->cells[t->nrows * (size_t)t->ncols + i];
		if ((*cells = clean_dup(v ? v : "", t->maxw[i])) == NULL)
			t->oom = 1;
	}
	va_end(ap);
	t->nrows++;
}

static void
pad(size_t n)
{
	while (n-- > 0)
		putchar(' ');
}

static void
table_cell(const struct table *t, int i, const char *s, size_t width, int last)
{
	size_t w = disp_width(s);

	if (t->right[i])
		pad(width - w);
	fputs(s, stdout);
	if (!last && !t->right[i])
		pad(width - w);
	if (!last)
		fputs("  ", stdout);
}

static int
table_print(struct table *t)
{
	size_t width[TABLE_MAXCOLS], r, w, hlen;
	const char *h, *colon;
	char hbuf[64];
	int i, last;

	if (t->oom)
		return errx1("out of memory");
	for (i = 0; i < t->ncols; i++) {
		h = t->head[i];
		colon = strchr(h, ':');
		width[i] = colon ? (size_t)(colon - h) : strlen(h);
		for (r = 0; r < t->nrows; r++) {
			w = disp_width(t->cells[r * (size_t)t->ncols + i]);
			if (w > width[i])
				width[i] = w;
		}
	}
	for (i = 0; i < t->ncols; i++) {
		colon = strchr(t->head[i], ':');
		hlen = colon ? (size_t)(colon - t->head[i]) : strlen(t->head[i]);
		snprintf(hbuf, sizeof(hbuf), "%.*s", (int)hlen, t->head[i]);
		table_cell(t, i, hbuf, width[i], i == t->ncols - 1);
	}
	putchar('\n');
	for (r = 0; r < t->nrows; r++) {
		/* Stop at the last non-empty cell: no trailing blanks. */
		for (last = t->ncols - 1; last > 0; last--)
			if (t->cells[r * (size_t)t->ncols + last][0] != '\0')
				break;
		for (i = 0; i <= last; i++)
			table_cell(t, i, t->cells[r * (size_t)t->ncols + i],
			    width[i], i == last);
		putchar('\n');
	}
	return 0;
}

static void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

/* ---- times ---- */

static void
time_human(struct ctx *c, int64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / SOC_NS);
	struct tm tm, *ok;

	if (ns <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	ok = c->utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm);
	if (ok == NULL || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "?");
}

static void
age_human(struct ctx *c, int64_t ns, char *buf, size_t len)
{
	char a[24];

	if (ns <= 0) {
		snprintf(buf, len, "never");
		return;
	}
	if (ns > c->now) {
		snprintf(buf, len, "in future");
		return;
	}
	store_age_format(c->now - ns, a, sizeof(a));
	snprintf(buf, len, "%s ago", a);
}

/*
 * A point in time: RFC 3339 ("2027-03-01", "2026-11-27T10:00:00Z") or a
 * duration from now ("90d", "1y"), forward when sign > 0, back when < 0.
 */
static int
parse_when(const char *s, int64_t now, int sign, int64_t *out)
{
	int64_t d;
	char *end;
	long long y;

	if ((d = soc_parse_rfc3339(s, strlen(s))) >= 0) {
		*out = d;
		return 0;
	}
	errno = 0;
	y = strtoll(s, &end, 10);
	if (end != s && end[0] == 'y' && end[1] == '\0' && errno == 0 &&
	    y > 0 && y < 100) {
		*out = now + sign * y * 365 * 86400 * SOC_NS;
		return 0;
	}
	if ((d = soc_parse_duration(s)) < 0)
		return -1;
	*out = now + sign * d;
	return 0;
}

/* ---- JSON helpers (one object member at a time; *n counts members) ---- */

static void
j_key(struct soc_sbuf *b, int *n, const char *k)
{
	if ((*n)++ > 0)
		soc_sbuf_adds(b, ",");
	soc_sbuf_json_str(b, k, strlen(k));
	soc_sbuf_adds(b, ":");
}

static void
j_str(struct soc_sbuf *b, int *n, const char *k, const char *v)
{
	j_key(b, n, k);
	if (v == NULL)
		soc_sbuf_adds(b, "null");
	else
		soc_sbuf_json_str(b, v, strlen(v));
}

static void
j_int(struct soc_sbuf *b, int *n, const char *k, long long v)
{
	j_key(b, n, k);
	soc_sbuf_printf(b, "%lld", v);
}

static void
j_bool(struct soc_sbuf *b, int *n, const char *k, int v)
{
	j_key(b, n, k);
	soc_sbuf_adds(b, v ? "true" : "false");
}

/* RFC 3339 UTC, or null for "never". */
static void
j_time(struct soc_sbuf *b, int *n, const char *k, int64_t ns)
{
	char t[64];

	if (ns <= 0) {
		j_str(b, n, k, NULL);
		return;
	}
	soc_time_format(ns, t, sizeof(t));
	j_str(b, n, k, t);
}

static int
j_print(struct soc_sbuf *b)
{
	int ret = 0;

	if (b->oom)
		ret = errx1("out of memory building JSON output");
	else {
		fwrite(b->data, 1, b->len, stdout);
		putchar('\n');
	}
	soc_sbuf_free(b);
	return ret;
}

/* ---- options and arguments ---- */

/*
 * Parses --name VALUE, --name=VALUE and --flag per spec; everything else
 * (and everything after "--") is positional, moved to the front of argv
 * in order.  argv[0] is the command name.  -1 after printing the error.
 */
static int
opts_parse(struct ctx *c, int argc, char **argv, const struct optspec *spec,
    int *npos)
{
	const struct optspec *o;
	const char *a, *eq;
	size_t len;
	int i, n = 0, rest = 0;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (rest || a[0] != '-' || a[1] == '\0') {
			argv[1 + n++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			rest = 1;
			continue;
		}
		if (a[1] != '-') {
			cmd_err(c, "unknown option %s", a);
			return -1;
		}
		a += 2;
		eq = strchr(a, '=');
		len = eq ? (size_t)(eq - a) : strlen(a);
		for (o = spec; o != NULL && o->name != NULL; o++)
			if (strlen(o->name) == len && strncmp(o->name, a, len) == 0)
				break;
		if (o == NULL || o->name == NULL) {
			cmd_err(c, "unknown option --%.*s", (int)len, a);
			return -1;
		}
		if (o->flag != NULL) {
			if (eq != NULL) {
				cmd_err(c, "--%s takes no value", o->name);
				return -1;
			}
			*o->flag = 1;
		} else if (eq != NULL)
			*o->str = eq + 1;
		else if (i + 1 < argc)
			*o->str = argv[++i];
		else {
			cmd_err(c, "--%s needs a value", o->name);
			return -1;
		}
	}
	*npos = n;
	return 0;
}

/* Parses options and checks the positional count is within [min, max]. */
static int
args(struct ctx *c, int argc, char **argv, const struct optspec *spec,
    int min, int max)
{
	int n;

	if (opts_parse(c, argc, argv, spec, &n) == -1)
		return -1;
	if (n < min) {
		cmd_err(c, "missing argument");
		return -1;
	}
	if (max >= 0 && n > max) {
		cmd_err(c, "unexpected argument '%s'", argv[1 + max]);
		return -1;
	}
	return n;
}

static int
need(struct ctx *c, const char *v, const char *what)
{
	if (v != NULL && v[0] != '\0')
		return 0;
	cmd_err(c, "%s is required", what);
	return -1;
}

static int
parse_id(struct ctx *c, const char *s, int64_t *id)
{
	char *end;
	long long v;

	if (s[0] == '#')
		s++;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 0) {
		cmd_err(c, "'%s' is not an incident id (a number, as listed by"
		    " `socctl incidents`)", s);
		return -1;
	}
	*id = v;
	return 0;
}

/* ---- the database ---- */

static int
db_open(struct ctx *c)
{
	char err[768];
	struct stat sb;
	int flags;

	if (c->cmd->db == DB_NONE || c->st != NULL)
		return 0;
	if (c->cmd->db != DB_CREATE && stat(c->db, &sb) == -1 && errno == ENOENT) {
		errx1("no such database %s (create it with `socctl --db %s agency"
		    " add CODE --name NAME`, or point --db or SOC_DB at the"
		    " correlator's database)", c->db, c->db);
		return -1;
	}
	flags = c->cmd->db == DB_READ ? STORE_READONLY :
	    c->cmd->db == DB_CREATE ? STORE_CREATE : 0;
	if ((c->st = store_open(c->db, flags, err, sizeof(err))) == NULL) {
		if (strstr(err, "unable to open") != NULL)
			errx1("%s (does the directory exist, and may you write"
			    " to it?)", err);
		else
			errx1("%s", err);
		return -1;
	}
	return 0;
}

/* The store's reason, with a hint when another writer held the lock. */
static const char *
db_why(struct ctx *c)
{
	static char buf[640];
	const char *m = store_errmsg(c->st);

	if (strstr(m, "database is locked") == NULL)
		return m;
	snprintf(buf, sizeof(buf), "%s (another writer held it for 5s; try"
	    " again)", m);
	return buf;
}

static int
db_fail(struct ctx *c)
{
	return errx1("%s: %s", c->cmd->name, db_why(c));
}

/* Runs a write and its admin audit row as one transaction. */
static int
db_audit_commit(struct ctx *c, int ok, const char *action, const char *note)
{
	if (ok == 0 && store_audit_add(c->st, 0, c->actor, action, note,
	    c->now) == 0 && store_commit(c->st) == 0)
		return 0;
	db_fail(c);
	store_rollback(c->st);
	return 1;
}

/* ---- keygen ---- */

static int
cmd_keygen(struct ctx *c, int argc, char **argv)
{
	const char *out = NULL;
	const struct optspec spec[] = { { "out", &out, NULL }, { NULL, NULL, NULL } };
	char err[512], pub[41], path[PATH_MAX];

	if (args(c, argc, argv, spec, 0, 0) < 0 || need(c, out, "--out NAME") == -1)
		return 1;
	if (soc_key_generate(out, err, sizeof(err)) == -1)
		return errx1("keygen: %s", err);
	snprintf(path, sizeof(path), "%s.pub", out);
	if (soc_key_load(path, pub, err, sizeof(err)) == -1)
		return errx1("keygen: %s", err);
	printf("wrote %s.key (secret, mode 0600) and %s.pub\npublic key: %s\n",
	    out, out, pub);
	return 0;
}

/* ---- agencies ---- */

static int
code_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'A' && s[i] <= 'Z') || strchr("._-", s[i]) != NULL))
			return 0;
	return i > 0 && i < 64;
}

static int
cmd_agency_add(struct ctx *c, int argc, char **argv)
{
	const char *name = NULL, *parent = NULL;
	const struct optspec spec[] = {
		{ "name", &name, NULL }, { "parent", &parent, NULL },
		{ NULL, NULL, NULL }
	};
	char note[512];

	if (args(c, argc, argv, spec, 1, 1) < 0 || need(c, name, "--name NAME") == -1)
		return 1;
	if (!code_valid(argv[1]))
		return cmd_err(c, "agency code '%s' must be 1-63 letters, digits,"
		    " '.', '_' or '-'", argv[1]);
	if (db_open(c) == -1 || store_begin(c->st) == -1)
		return c->st ? db_fail(c) : 1;
	snprintf(note, sizeof(note), "%s (%s)%s%s", argv[1], name,
	    parent ? ", parent " : "", parent ? parent : "");
	if (db_audit_commit(c, store_agency_add(c->st, argv[1], name, parent,
	    c->now), "agency added", note) != 0)
		return 1;
	printf("agency %s added\n", argv[1]);
	return 0;
}

struct list_ctx {
	struct ctx	*c;
	struct table	 t;
	struct soc_sbuf	 b;
	int		 json;
	size_t		 n;
};

static void
list_begin(struct list_ctx *l, struct ctx *c, int json)
{
	memset(l, 0, sizeof(*l));
	l->c = c;
	l->json = json;
	soc_sbuf_init(&l->b);
	if (json)
		soc_sbuf_adds(&l->b, "[");
}

/* Prints what was collected: the JSON array or the table (or `none`). */
static int
list_end(struct list_ctx *l, int rc, const char *none)
{
	int ret = 0;

	if (rc != 0) {
		soc_sbuf_free(&l->b);
		table_free(&l->t);
		return rc < 0 ? db_fail(l->c) : 1;
	}
	if (l->json) {
		soc_sbuf_adds(&l->b, "]");
		ret = j_print(&l->b);
	} else {
		if (l->n == 0)
			printf("%s\n", none);
		else
			ret = table_print(&l->t);
		soc_sbuf_free(&l->b);
	}
	table_free(&l->t);
	return ret;
}

static void
list_item(struct list_ctx *l)
{
	if (l->json && l->n > 0)
		soc_sbuf_adds(&l->b, ",");
	l->n++;
}

static int
agency_row(void *arg, const struct store_agency *a)
{
	struct list_ctx *l = arg;
	char ns[24], no[24];
	int n = 0;

	list_item(l);
	if (l->json) {
		soc_sbuf_adds(&l->b, "{");
		j_str(&l->b, &n, "code", a->code);
		j_str(&l->b, &n, "name", a->name);
		j_str(&l->b, &n, "parent", a->parent[0] ? a->parent : NULL);
		j_int(&l->b, &n, "sensors", (long long)a->sensors);
		j_int(&l->b, &n, "open_incidents", (long long)a->open_incidents);
		j_time(&l->b, &n, "created_at", a->created_at);
		soc_sbuf_adds(&l->b, "}");
		return 0;
	}
	snprintf(ns, sizeof(ns), "%llu", (unsigned long long)a->sensors);
	snprintf(no, sizeof(no), "%llu", (unsigned long long)a->open_incidents);
	table_row(&l->t, a->code, a->name, a->parent[0] ? a->parent : "-", ns, no);
	return 0;
}

static int
cmd_agency_list(struct ctx *c, int argc, char **argv)
{
	static const char *const cols[] = {
		"CODE", "NAME:48", "PARENT", ">SENSORS", ">OPEN INCIDENTS"
	};
	struct list_ctx l;
	int json = 0;
	const struct optspec spec[] = { { "json", NULL, &json }, { NULL, NULL, NULL } };

	if (args(c, argc, argv, spec, 0, 0) < 0 || db_open(c) == -1)
		return 1;
	list_begin(&l, c, json);
	table_init(&l.t, 5, cols);
	return list_end(&l, store_agency_foreach(c->st, agency_row, &l),
	    "no agencies (add one with `socctl agency add CODE --name NAME`)");
}

/* ---- sensors ---- */

/* Refuses a secret key file: enrolling it would publish the secret. */
static int
key_is_secret(const char *arg)
{
	char line[256];
	FILE *f;
	int secret = 0;

	if ((f = fopen(arg, "r")) == NULL)
		return 0;
	if (fgets(line, sizeof(line), f) != NULL && line[0] == '#' &&
	    strstr(line, "secret") != NULL)
		secret = 1;
	fclose(f);
	return secret;
}

static int
cmd_sensor_enroll(struct ctx *c, int argc, char **argv)
{
	const char *agency = NULL, *key = NULL;
	const struct optspec spec[] = {
		{ "agency", &agency, NULL }, { "key", &key, NULL },
		{ NULL, NULL, NULL }
	};
	char err[512], pub[41], note[256];
	int rc;

	if (args(c, argc, argv, spec, 1, 1) < 0 ||
	    need(c, agency, "--agency CODE") == -1 ||
	    need(c, key, "--key FILE|Z85") == -1)
		return 1;
	if (key_is_secret(key))
		return errx1("sensor enroll: %s is a secret key; enroll the public"
		    " key (the .pub file written by `socctl keygen`)", key);
	if (soc_key_load(key, pub, err, sizeof(err)) == -1)
		return errx1("sensor enroll: %s", err);
	if (db_open(c) == -1)
		return 1;
	if ((rc = store_agency_exists(c->st, agency)) != 1)
		return rc < 0 ? db_fail(c) : errx1("sensor enroll: no such agency"
		    " '%s' (list them with `socctl agency list`, add one with"
		    " `socctl agency add %s --name NAME`)", agency, agency);
	if (store_begin(c->st) == -1)
		return db_fail(c);
	snprintf(note, sizeof(note), "%s for agency %s, key %s", argv[1], agency, pub);
	if (db_audit_commit(c, store_sensor_enroll(c->st, argv[1], agency, pub,
	    c->now), "sensor enrolled", note) != 0)
		return 1;
	printf("sensor %s enrolled for agency %s\n", argv[1], agency);
	return 0;
}

static int
cmd_sensor_revoke(struct ctx *c, int argc, char **argv)
{
	struct store_sensor s;
	int rc;

	if (args(c, argc, argv, NULL, 1, 1) < 0 || db_open(c) == -1)
		return 1;
	if ((rc = store_sensor_by_name(c->st, argv[1], &s)) != 1)
		return rc < 0 ? db_fail(c) : errx1("sensor revoke: no such sensor"
		    " '%s' (see `socctl sensors`)", argv[1]);
	if (s.revoked) {
		printf("sensor %s was already revoked\n", argv[1]);
		return 0;
	}
	if (store_begin(c->st) == -1)
		return db_fail(c);
	rc = store_sensor_revoke(c->st, argv[1], c->now);
	if (db_audit_commit(c, rc == 1 ? 0 : -1, "sensor revoked", argv[1]) != 0)
		return 1;
	printf("sensor %s revoked: its key gets no service from now on\n", argv[1]);
	return 0;
}

static int
sensor_row(void *arg, const struct store_sensor_info *s)
{
	struct list_ctx *l = arg;
	struct ctx *c = l->c;
	char hb[32], lb[32], ev[24], nb[24], seq[24], en[32];
	const char *state;
	int64_t heard;
	int n = 0;

	list_item(l);
	heard = s->last_heartbeat > s->last_batch_at ? s->last_heartbeat :
	    s->last_batch_at;
	if (s->revoked)
		state = "revoked";
	else if (heard == 0)
		state = "never heard";
	else if (c->now - heard <= 5 * 60 * SOC_NS)
		state = "live";
	else
		state = "silent";
	if (l->json) {
		soc_sbuf_adds(&l->b, "{");
		j_str(&l->b, &n, "name", s->name);
		j_str(&l->b, &n, "agency", s->agency);
		j_str(&l->b, &n, "pubkey", s->pubkey);
		j_str(&l->b, &n, "state", state);
		j_bool(&l->b, &n, "revoked", s->revoked);
		j_time(&l->b, &n, "enrolled_at", s->enrolled_at);
		j_time(&l->b, &n, "last_heartbeat", s->last_heartbeat);
		if (s->last_heartbeat > 0)
			j_int(&l->b, &n, "heartbeat_age_s",
			    (c->now - s->last_heartbeat) / SOC_NS);
		else
			j_str(&l->b, &n, "heartbeat_age_s", NULL);
		j_time(&l->b, &n, "last_batch_at", s->last_batch_at);
		j_int(&l->b, &n, "last_seq", (long long)s->last_seq);
		j_int(&l->b, &n, "events_received", (long long)s->events_received);
		j_int(&l->b, &n, "batches", (long long)s->batches);
		j_key(&l->b, &n, "counters");
		if (s->counters_valid)
			soc_sbuf_adds(&l->b, s->counters);
		else
			soc_sbuf_json_str(&l->b, s->counters, strlen(s->counters));
		soc_sbuf_adds(&l->b, "}");
		return 0;
	}
	age_human(c, s->last_heartbeat, hb, sizeof(hb));
	age_human(c, s->last_batch_at, lb, sizeof(lb));
	snprintf(ev, sizeof(ev), "%llu", (unsigned long long)s->events_received);
	snprintf(nb, sizeof(nb), "%llu", (unsigned long long)s->batches);
	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)s->last_seq);
	time_human(c, s->enrolled_at, en, sizeof(en));
	table_row(&l->t, s->name, s->agency, state, hb, lb, ev, nb, seq, en);
	return 0;
}

static int
cmd_sensors(struct ctx *c, int argc, char **argv)
{
	static const char *const cols[] = {
		"NAME", "AGENCY", "STATE", "HEARTBEAT", "LAST BATCH", ">EVENTS",
		">BATCHES", ">LAST SEQ", "ENROLLED"
	};
	const char *agency = NULL;
	struct list_ctx l;
	int json = 0;
	const struct optspec spec[] = {
		{ "json", NULL, &json }, { "agency", &agency, NULL },
		{ NULL, NULL, NULL }
	};

	if (args(c, argc, argv, spec, 0, 0) < 0 || db_open(c) == -1)
		return 1;
	list_begin(&l, c, json);
	table_init(&l.t, 9, cols);
	return list_end(&l, store_sensor_foreach(c->st, agency, sensor_row, &l),
	    "no sensors (enroll one with `socctl sensor enroll NAME --agency CODE"
	    " --key FILE`)");
}

/* ---- incidents ---- */

static void
incident_json(struct soc_sbuf *b, const struct store_incident *in)
{
	int n = 0, r = 0;

	j_int(b, &n, "id", in->id);
	j_key(b, &n, "rule");
	soc_sbuf_adds(b, "{");
	j_str(b, &r, "id", in->rule_id);
	j_str(b, &r, "title", in->rule_title);
	j_str(b, &r, "level", in->rule_level);
	j_str(b, &r, "author", in->rule_author);
	soc_sbuf_adds(b, "}");
	j_str(b, &n, "agency", in->agency);
	j_str(b, &n, "sensor", in->sensor);
	j_str(b, &n, "severity", store_severity_name(in->severity));
	j_str(b, &n, "status", store_status_name(in->status));
	j_str(b, &n, "assignee", in->assignee[0] ? in->assignee : NULL);
	j_str(b, &n, "group_key", in->group_key);
	j_time(b, &n, "first_seen", in->first_seen);
	j_time(b, &n, "last_seen", in->last_seen);
	j_int(b, &n, "count", (long long)in->count);
	j_time(b, &n, "created_at", in->created_at);
	j_time(b, &n, "updated_at", in->updated_at);
	j_int(b, &n, "evidence_kept", (long long)in->evidence);
}

static int
incident_row(void *arg, const struct store_incident *in)
{
	struct list_ctx *l = arg;
	char id[24], cnt[24], last[32];

	list_item(l);
	if (l->json) {
		soc_sbuf_adds(&l->b, "{");
		incident_json(&l->b, in);
		soc_sbuf_adds(&l->b, "}");
		return 0;
	}
	snprintf(id, sizeof(id), "%lld", (long long)in->id);
	snprintf(cnt, sizeof(cnt), "%llu", (unsigned long long)in->count);
	time_human(l->c, in->last_seen, last, sizeof(last));
	table_row(&l->t, id, store_severity_name(in->severity),
	    store_status_name(in->status), in->agency, in->rule_title[0] ?
	    in->rule_title : in->rule_id, in->group_key[0] ? in->group_key : "-",
	    cnt, last, in->assignee[0] ? in->assignee : "-");
	return 0;
}

static int
cmd_incidents(struct ctx *c, int argc, char **argv)
{
	static const char *const cols[] = {
		">ID", "SEVERITY", "STATUS", "AGENCY", "RULE:44", "GROUP:32",
		">COUNT", "LAST SEEN", "ASSIGNEE"
	};
	const char *status = NULL, *agency = NULL, *minsev = NULL, *since = NULL;
	const char *limit = NULL;
	struct store_incident_filter f;
	struct list_ctx l;
	char *end;
	int json = 0;
	const struct optspec spec[] = {
		{ "status", &status, NULL }, { "agency", &agency, NULL },
		{ "min-severity", &minsev, NULL }, { "since", &since, NULL },
		{ "limit", &limit, NULL }, { "json", NULL, &json },
		{ NULL, NULL, NULL }
	};

	if (args(c, argc, argv, spec, 0, 0) < 0)
		return 1;
	store_incident_filter_init(&f);
	f.agency = agency;
	if (status != NULL && strcmp(status, "open") == 0)
		f.open_only = 1;
	else if (status != NULL && strcmp(status, "closed") == 0)
		f.closed_only = 1;
	else if (status != NULL && strcmp(status, "all") != 0 &&
	    (f.status = store_status_parse(status)) < 0)
		return cmd_err(c, "unknown status '%s' (new, acknowledged,"
		    " investigating, resolved, false_positive, open, closed or all)", status);
	if (minsev != NULL && (f.min_severity = store_severity_parse(minsev)) < 0)
		return cmd_err(c, "unknown severity '%s' (informational, low,"
		    " medium, high, critical or 0-4)", minsev);
	if (since != NULL && parse_when(since, c->now, -1, &f.since_ns) == -1)
		return cmd_err(c, "--since wants a duration (15m, 2h, 7d) or a"
		    " date (2026-11-27), not '%s'", since);
	if (limit != NULL && ((f.limit = strtoll(limit, &end, 10)) <= 0 || *end))
		return cmd_err(c, "--limit wants a positive number");
	if (db_open(c) == -1)
		return 1;
	list_begin(&l, c, json);
	table_init(&l.t, 9, cols);
	return list_end(&l, store_incident_foreach(c->st, &f, incident_row, &l),
	    "no incidents");
}

struct show_ctx {
	struct ctx	*c;
	struct soc_sbuf	 b;
	int		 json;
	int		 n;
};

static int
show_incident(void *arg, const struct store_incident *in)
{
	struct show_ctx *s = arg;
	char t1[32], t2[32];

	if (s->json) {
		incident_json(&s->b, in);
		return 0;
	}
	printf("Incident %lld: ", (long long)in->id);
	put_clean(stdout, in->rule_title);
	printf("\n  status:    %s", store_status_name(in->status));
	if (in->assignee[0] != '\0') {
		fputs(", assigned to ", stdout);
		put_clean(stdout, in->assignee);
	}
	printf("\n  severity:  %s\n  rule:      ", store_severity_name(in->severity));
	put_clean(stdout, in->rule_id);
	printf(" (level %s", in->rule_level);
	if (in->rule_author[0] != '\0') {
		fputs(", author ", stdout);
		put_clean(stdout, in->rule_author);
	}
	printf(")\n  agency:    %s\n  sensor:    ", in->agency);
	put_clean(stdout, in->sensor);
	fputs("\n  group:     ", stdout);
	put_clean(stdout, in->group_key[0] ? in->group_key : "-");
	time_human(s->c, in->first_seen, t1, sizeof(t1));
	time_human(s->c, in->last_seen, t2, sizeof(t2));
	printf("\n  events:    %llu, first %s, last %s\n",
	    (unsigned long long)in->count, t1, t2);
	time_human(s->c, in->created_at, t1, sizeof(t1));
	time_human(s->c, in->updated_at, t2, sizeof(t2));
	printf("  opened:    %s, updated %s\n", t1, t2);
	printf("\nEvidence (%llu of %llu events kept):\n",
	    (unsigned long long)in->evidence, (unsigned long long)in->count);
	return 0;
}

static int
show_evidence(void *arg, int seq, const char *json, int valid)
{
	struct show_ctx *s = arg;

	if (s->json) {
		if (s->n++ > 0)
			soc_sbuf_adds(&s->b, ",");
		if (valid)
			soc_sbuf_adds(&s->b, json);
		else
			soc_sbuf_json_str(&s->b, json, strlen(json));
		return 0;
	}
	printf("  %2d ", seq + 1);
	put_clean(stdout, json);
	putchar('\n');
	return 0;
}

static int
show_audit(void *arg, const struct store_audit *a)
{
	struct show_ctx *s = arg;
	char t[32];
	int n = 0;

	if (s->json) {
		if (s->n++ > 0)
			soc_sbuf_adds(&s->b, ",");
		soc_sbuf_adds(&s->b, "{");
		j_time(&s->b, &n, "at", a->at);
		j_str(&s->b, &n, "actor", a->actor);
		j_str(&s->b, &n, "action", a->action);
		j_str(&s->b, &n, "note", a->note[0] ? a->note : NULL);
		soc_sbuf_adds(&s->b, "}");
		return 0;
	}
	time_human(s->c, a->at, t, sizeof(t));
	printf("  %s  ", t);
	put_clean(stdout, a->actor);
	printf("  %s", a->action);
	if (a->note[0] != '\0') {
		fputs("  ", stdout);
		put_clean(stdout, a->note);
	}
	putchar('\n');
	return 0;
}

static int
cmd_incident_show(struct ctx *c, int argc, char **argv)
{
	struct show_ctx s;
	int64_t id;
	int json = 0, rc;
	const struct optspec spec[] = { { "json", NULL, &json }, { NULL, NULL, NULL } };

	if (args(c, argc, argv, spec, 1, 1) < 0 || parse_id(c, argv[1], &id) == -1 ||
	    db_open(c) == -1)
		return 1;
	memset(&s, 0, sizeof(s));
	s.c = c;
	s.json = json;
	soc_sbuf_init(&s.b);
	if (json)
		soc_sbuf_adds(&s.b, "{");
	if ((rc = store_incident_get(c->st, id, show_incident, &s)) != 1) {
		soc_sbuf_free(&s.b);
		return rc < 0 ? db_fail(c) : errx1("incident show: no such incident"
		    " %lld (see `socctl incidents`)", (long long)id);
	}
	if (json)
		soc_sbuf_adds(&s.b, ",\"evidence\":[");
	if (store_evidence_foreach(c->st, id, show_evidence, &s) != 0)
		goto fail;
	if (json)
		soc_sbuf_adds(&s.b, "],\"audit\":[");
	else
		printf("\nAudit trail:\n");
	s.n = 0;
	if (store_audit_foreach(c->st, id, show_audit, &s) != 0)
		goto fail;
	if (json) {
		soc_sbuf_adds(&s.b, "]}");
		return j_print(&s.b);
	}
	soc_sbuf_free(&s.b);
	return 0;
fail:
	soc_sbuf_free(&s.b);
	return db_fail(c);
}

/* ack, investigate, resolve, false-positive: the target is cmd->arg. */
static int
cmd_incident_move(struct ctx *c, int argc, char **argv)
{
	static const char *const done[STORE_ST_COUNT] = {
		"reopened", "acknowledged", "under investigation",
		"resolved", "closed as false positive"
	};
	const char *by = NULL, *note = NULL;
	const struct optspec spec[] = {
		{ "by", &by, NULL }, { "note", &note, NULL }, { NULL, NULL, NULL }
	};
	int64_t id;

	if (args(c, argc, argv, spec, 1, 1) < 0 || parse_id(c, argv[1], &id) == -1 ||
	    need(c, by, "--by NAME (who does it, for the audit trail)") == -1 ||
	    db_open(c) == -1)
		return 1;
	if (store_incident_transition(c->st, id, c->cmd->arg, by, note, c->now) == -1)
		return errx1("%s", db_why(c));
	printf("incident %lld %s by %s\n", (long long)id,
	    done[c->cmd->arg], by);
	return 0;
}

static int
cmd_incident_assign(struct ctx *c, int argc, char **argv)
{
	const char *by = NULL, *to = NULL, *note = NULL;
	const struct optspec spec[] = {
		{ "to", &to, NULL }, { "by", &by, NULL }, { "note", &note, NULL },
		{ NULL, NULL, NULL }
	};
	int64_t id;

	if (args(c, argc, argv, spec, 1, 1) < 0 || parse_id(c, argv[1], &id) == -1)
		return 1;
	if (to == NULL)
		return cmd_err(c, "--to NAME is required (--to '' unassigns)");
	if (need(c, by, "--by NAME (who does it, for the audit trail)") == -1 ||
	    db_open(c) == -1)
		return 1;
	if (store_incident_assign(c->st, id, to, by, note, c->now) == -1)
		return errx1("%s", db_why(c));
	if (to[0] != '\0')
		printf("incident %lld assigned to %s by %s\n", (long long)id, to, by);
	else
		printf("incident %lld unassigned by %s\n", (long long)id, by);
	return 0;
}

static int
cmd_incident_note(struct ctx *c, int argc, char **argv)
{
	const char *by = NULL, *note = NULL;
	const struct optspec spec[] = {
		{ "by", &by, NULL }, { "note", &note, NULL }, { NULL, NULL, NULL }
	};
	int64_t id;

	if (args(c, argc, argv, spec, 1, 1) < 0 || parse_id(c, argv[1], &id) == -1 ||
	    need(c, by, "--by NAME") == -1 || need(c, note, "--note TEXT") == -1 ||
	    db_open(c) == -1)
		return 1;
	if (store_incident_note(c->st, id, by, note, c->now) == -1)
		return errx1("%s", db_why(c));
	printf("note added to incident %lld\n", (long long)id);
	return 0;
}

static int
audit_row(void *arg, const struct store_audit *a)
{
	struct list_ctx *l = arg;
	char id[24], t[32];
	int n = 0;

	list_item(l);
	if (l->json) {
		soc_sbuf_adds(&l->b, "{");
		j_int(&l->b, &n, "id", a->id);
		if (a->incident_id > 0)
			j_int(&l->b, &n, "incident", a->incident_id);
		else
			j_str(&l->b, &n, "incident", NULL);
		j_time(&l->b, &n, "at", a->at);
		j_str(&l->b, &n, "actor", a->actor);
		j_str(&l->b, &n, "action", a->action);
		j_str(&l->b, &n, "note", a->note[0] ? a->note : NULL);
		soc_sbuf_adds(&l->b, "}");
		return 0;
	}
	if (a->incident_id > 0)
		snprintf(id, sizeof(id), "%lld", (long long)a->incident_id);
	else
		snprintf(id, sizeof(id), "-");
	time_human(l->c, a->at, t, sizeof(t));
	table_row(&l->t, t, id, a->actor, a->action, a->note);
	return 0;
}

static int
cmd_audit(struct ctx *c, int argc, char **argv)
{
	static const char *const cols[] = {
		"AT", ">INCIDENT", "ACTOR", "ACTION", "NOTE:60"
	};
	const char *inc = NULL;
	struct list_ctx l;
	int64_t id = -1;
	int json = 0;
	const struct optspec spec[] = {
		{ "incident", &inc, NULL }, { "json", NULL, &json }, { NULL, NULL, NULL }
	};

	if (args(c, argc, argv, spec, 0, 0) < 0 ||
	    (inc != NULL && parse_id(c, inc, &id) == -1) || db_open(c) == -1)
		return 1;
	list_begin(&l, c, json);
	table_init(&l.t, 5, cols);
	return list_end(&l, store_audit_foreach(c->st, id, audit_row, &l),
	    "no audit entries");
}

/* ---- responders and assessments (coverage layers 1 and 3) ---- */

static int
agency_known(struct ctx *c, const char *code, const char *what)
{
	int rc = store_agency_exists(c->st, code);

	if (rc == 1)
		return 0;
	if (rc < 0)
		db_fail(c);
	else
		errx1("%s: no such agency '%s' (see `socctl agency list`)", what,
		    code);
	return -1;
}

static int
cmd_responder_add(struct ctx *c, int argc, char **argv)
{
	const char *name = NULL, *contact = NULL;
	const struct optspec spec[] = {
		{ "name", &name, NULL }, { "contact", &contact, NULL },
		{ NULL, NULL, NULL }
	};
	char note[512];

	if (args(c, argc, argv, spec, 1, 1) < 0 || need(c, name, "--name NAME") == -1 ||
	    db_open(c) == -1 || agency_known(c, argv[1], "responder add") == -1)
		return 1;
	if (store_begin(c->st) == -1)
		return db_fail(c);
	snprintf(note, sizeof(note), "%s for agency %s", name, argv[1]);
	if (db_audit_commit(c, store_responder_add(c->st, argv[1], name, contact,
	    c->now), "responder added", note) != 0)
		return 1;
	printf("responder %s on record for %s\n", name, argv[1]);
	return 0;
}

static int
responder_row(void *arg, const struct store_responder *r)
{
	struct list_ctx *l = arg;
	char t[32];
	int n = 0;

	list_item(l);
	if (l->json) {
		soc_sbuf_adds(&l->b, "{");
		j_str(&l->b, &n, "agency", r->agency);
		j_str(&l->b, &n, "name", r->name);
		j_str(&l->b, &n, "contact", r->contact[0] ? r->contact : NULL);
		j_time(&l->b, &n, "added_at", r->added_at);
		soc_sbuf_adds(&l->b, "}");
		return 0;
	}
	time_human(l->c, r->added_at, t, sizeof(t));
	table_row(&l->t, r->agency, r->name, r->contact[0] ? r->contact : "-", t);
	return 0;
}

static int
cmd_responder_list(struct ctx *c, int argc, char **argv)
{
	static const char *const cols[] = { "AGENCY", "NAME", "CONTACT", "ADDED" };
	const char *agency = NULL;
	struct list_ctx l;
	int json = 0;
	const struct optspec spec[] = {
		{ "agency", &agency, NULL }, { "json", NULL, &json }, { NULL, NULL, NULL }
	};

	if (args(c, argc, argv, spec, 0, 0) < 0 || db_open(c) == -1)
		return 1;
	list_begin(&l, c, json);
	table_init(&l.t, 4, cols);
	return list_end(&l, store_responder_foreach(c->st, agency, responder_row,
	    &l), "no responders on record");
}

static int
cmd_assessment_add(struct ctx *c, int argc, char **argv)
{
	const char *by = NULL, *expires = NULL, *at = NULL;
	const struct optspec spec[] = {
		{ "by", &by, NULL }, { "expires", &expires, NULL },
		{ "at", &at, NULL }, { NULL, NULL, NULL }
	};
	char note[512], d[64];
	int64_t when = c->now, until;

	if (args(c, argc, argv, spec, 1, 1) < 0 ||
	    need(c, by, "--by ASSESSOR") == -1 ||
	    need(c, expires, "--expires DATE|DURATION") == -1)
		return 1;
	if (at != NULL && parse_when(at, c->now, -1, &when) == -1)
		return cmd_err(c, "--at wants a date (2026-11-27) or a duration"
		    " ago (30d), not '%s'", at);
	if (parse_when(expires, when, 1, &until) == -1)
		return cmd_err(c, "--expires wants a date (2027-11-27) or a"
		    " duration (365d, 1y), not '%s'", expires);
	if (until <= when)
		return cmd_err(c, "--expires must be after the assessment date");
	if (db_open(c) == -1 || agency_known(c, argv[1], "assessment add") == -1)
		return 1;
	if (store_begin(c->st) == -1)
		return db_fail(c);
	soc_time_format(until, d, sizeof(d));
	snprintf(note, sizeof(note), "%s by %s, expires %.10s", argv[1], by, d);
	if (db_audit_commit(c, store_assessment_add(c->st, argv[1], by, when, until),
	    "assessment added", note) != 0)
		return 1;
	printf("assessment of %s by %s on record, valid until %.10s\n", argv[1],
	    by, d);
	return 0;
}

static int
assessment_row(void *arg, const struct store_assessment *a)
{
	struct list_ctx *l = arg;
	char t1[32], t2[32];
	int n = 0;

	list_item(l);
	if (l->json) {
		soc_sbuf_adds(&l->b, "{");
		j_str(&l->b, &n, "agency", a->agency);
		j_str(&l->b, &n, "assessor", a->assessor);
		j_time(&l->b, &n, "assessed_at", a->assessed_at);
		j_time(&l->b, &n, "expires_at", a->expires_at);
		j_bool(&l->b, &n, "expired", a->expires_at <= l->c->now);
		soc_sbuf_adds(&l->b, "}");
		return 0;
	}
	time_human(l->c, a->assessed_at, t1, sizeof(t1));
	time_human(l->c, a->expires_at, t2, sizeof(t2));
	table_row(&l->t, a->agency, a->assessor, t1, t2,
	    a->expires_at <= l->c->now ? "expired" : "valid");
	return 0;
}

static int
cmd_assessment_list(struct ctx *c, int argc, char **argv)
{
	static const char *const cols[] = {
		"AGENCY", "ASSESSOR", "ASSESSED", "EXPIRES", "STATE"
	};
	const char *agency = NULL;
	struct list_ctx l;
	int json = 0;
	const struct optspec spec[] = {
		{ "agency", &agency, NULL }, { "json", NULL, &json }, { NULL, NULL, NULL }
	};

	if (args(c, argc, argv, spec, 0, 0) < 0 || db_open(c) == -1)
		return 1;
	list_begin(&l, c, json);
	table_init(&l.t, 5, cols);
	return list_end(&l, store_assessment_foreach(c->st, agency,
	    assessment_row, &l), "no assessments on record");
}

/* ---- coverage ---- */

static int
coverage_row(void *arg, const struct store_coverage *cv)
{
	struct list_ctx *l = arg;
	size_t w, lw = 0;
	int i, n, m;

	if (l->json) {
		list_item(l);
		n = 0;
		soc_sbuf_adds(&l->b, "{");
		j_str(&l->b, &n, "code", cv->agency);
		j_str(&l->b, &n, "name", cv->name);
		j_str(&l->b, &n, "parent", cv->parent[0] ? cv->parent : NULL);
		j_bool(&l->b, &n, "covered", cv->covered);
		j_key(&l->b, &n, "layers");
		soc_sbuf_adds(&l->b, "[");
		for (i = 0; i < STORE_LAYERS; i++) {
			m = 0;
			soc_sbuf_adds(&l->b, i ? ",{" : "{");
			j_int(&l->b, &m, "layer", i + 1);
			j_str(&l->b, &m, "name", store_layer_name(i));
			j_str(&l->b, &m, "state", store_layer_state_name(cv->state[i]));
			j_str(&l->b, &m, "reason", cv->reason[i]);
			soc_sbuf_adds(&l->b, "}");
		}
		soc_sbuf_adds(&l->b, "]}");
		return 0;
	}
	if (l->n++ > 0)
		putchar('\n');
	printf("%s  ", cv->agency);
	put_clean(stdout, cv->name);
	printf("  [%s]\n", cv->covered ? "covered" : "not covered");
	for (i = 0; i < STORE_LAYERS; i++)
		if ((w = strlen(store_layer_name(i))) > lw)
			lw = w;
	for (i = 0; i < STORE_LAYERS; i++) {
		printf("  %d %-*s  %-8s  ", i + 1, (int)lw, store_layer_name(i),
		    store_layer_state_name(cv->state[i]));
		put_clean(stdout, cv->reason[i]);
		putchar('\n');
	}
	return 0;
}

static int
cmd_coverage(struct ctx *c, int argc, char **argv)
{
	const char *hb = NULL, *ack = NULL;
	struct store_coverage_opts o;
	struct list_ctx l;
	size_t ncov = 0, ntot = 0;
	double share;
	int json = 0, forwarding = 0, rc, n = 0;
	const struct optspec spec[] = {
		{ "json", NULL, &json }, { "heartbeat", &hb, NULL },
		{ "ack-within", &ack, NULL }, { "forwarding", NULL, &forwarding },
		{ NULL, NULL, NULL }
	};

	if (args(c, argc, argv, spec, 0, 0) < 0)
		return 1;
	store_coverage_opts_init(&o);
	o.now_ns = c->now;
	o.forwarding = forwarding;
	if (hb != NULL && (o.heartbeat_max_ns = soc_parse_duration(hb)) <= 0)
		return cmd_err(c, "--heartbeat wants a duration (5m), not '%s'", hb);
	if (ack != NULL && strcmp(ack, "0") == 0)
		o.ack_max_ns = 0;
	else if (ack != NULL && (o.ack_max_ns = soc_parse_duration(ack)) <= 0)
		return cmd_err(c, "--ack-within wants a duration (24h) or 0, not"
		    " '%s'", ack);
	if (db_open(c) == -1)
		return 1;
	memset(&l, 0, sizeof(l));
	l.c = c;
	l.json = json;
	soc_sbuf_init(&l.b);
	if (json)
		soc_sbuf_adds(&l.b, "{\"agencies\":[");
	rc = store_coverage(c->st, &o, coverage_row, &l, &ncov, &ntot);
	if (rc != 0) {
		soc_sbuf_free(&l.b);
		return db_fail(c);
	}
	share = ntot ? (double)ncov / (double)ntot : 0.0;
	if (json) {
		soc_sbuf_adds(&l.b, "]");
		n = 1;
		j_int(&l.b, &n, "covered", (long long)ncov);
		j_int(&l.b, &n, "total", (long long)ntot);
		j_key(&l.b, &n, "share");
		soc_sbuf_printf(&l.b, "%.4f", share);
		soc_sbuf_adds(&l.b, "}");
		return j_print(&l.b);
	}
	soc_sbuf_free(&l.b);
	if (ntot == 0) {
		printf("no agencies (add one with `socctl agency add CODE --name"
		    " NAME`)\n");
		return 0;
	}
	printf("\nfully covered: %zu of %zu agencies (%.0f%%; target 100%%)\n",
	    ncov, ntot, share * 100.0);
	return 0;
}

/* ---- stats ---- */

static int
stats_sensor(void *arg, const struct store_sensor_info *s)
{
	struct list_ctx *l = arg;
	char ev[24], nb[24], seq[24], lb[32];
	int n = 0;

	list_item(l);
	if (l->json) {
		soc_sbuf_adds(&l->b, "{");
		j_str(&l->b, &n, "name", s->name);
		j_str(&l->b, &n, "agency", s->agency);
		j_bool(&l->b, &n, "revoked", s->revoked);
		j_int(&l->b, &n, "events_received", (long long)s->events_received);
		j_int(&l->b, &n, "batches", (long long)s->batches);
		j_int(&l->b, &n, "last_seq", (long long)s->last_seq);
		j_time(&l->b, &n, "last_batch_at", s->last_batch_at);
		soc_sbuf_adds(&l->b, "}");
		return 0;
	}
	snprintf(ev, sizeof(ev), "%llu", (unsigned long long)s->events_received);
	snprintf(nb, sizeof(nb), "%llu", (unsigned long long)s->batches);
	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)s->last_seq);
	age_human(l->c, s->last_batch_at, lb, sizeof(lb));
	table_row(&l->t, s->name, s->agency, ev, nb, seq, lb);
	return 0;
}

static int
cmd_stats(struct ctx *c, int argc, char **argv)
{
	static const char *const cols[] = {
		"SENSOR", "AGENCY", ">EVENTS", ">BATCHES", ">LAST SEQ", "LAST BATCH"
	};
	struct store_stats ss;
	struct list_ctx l;
	int json = 0, i, n = 0, m = 0;
	const struct optspec spec[] = { { "json", NULL, &json }, { NULL, NULL, NULL } };

	if (args(c, argc, argv, spec, 0, 0) < 0 || db_open(c) == -1)
		return 1;
	if (store_stats_get(c->st, &ss) == -1)
		return db_fail(c);
	if (!json) {
		printf("agencies          %llu\n", (unsigned long long)ss.agencies);
		printf("sensors           %llu enrolled, %llu revoked\n",
		    (unsigned long long)ss.sensors,
		    (unsigned long long)ss.sensors_revoked);
		printf("events received   %llu in %llu batches\n",
		    (unsigned long long)ss.events_received,
		    (unsigned long long)ss.batches);
		printf("incidents         %llu:", (unsigned long long)ss.incidents);
		for (i = 0; i < STORE_ST_COUNT; i++)
			printf("%s %s %llu", i ? "," : "", store_status_name(i),
			    (unsigned long long)ss.by_status[i]);
		printf("\nby severity      ");
		for (i = 0; i < 5; i++)
			printf("%s %s %llu", i ? "," : "", store_severity_name(i),
			    (unsigned long long)ss.by_severity[i]);
		printf("\nevidence events   %llu\naudit entries     %llu\n",
		    (unsigned long long)ss.evidence, (unsigned long long)ss.audit);
		printf("forwarded         %llu (%llu pending)\n\n",
		    (unsigned long long)ss.forwarded,
		    (unsigned long long)ss.outbox_pending);
	}
	list_begin(&l, c, json);
	if (json) {
		soc_sbuf_reset(&l.b);
		soc_sbuf_adds(&l.b, "{");
		j_int(&l.b, &n, "agencies", (long long)ss.agencies);
		j_int(&l.b, &n, "sensors", (long long)ss.sensors);
		j_int(&l.b, &n, "sensors_revoked", (long long)ss.sensors_revoked);
		j_int(&l.b, &n, "events_received", (long long)ss.events_received);
		j_int(&l.b, &n, "batches", (long long)ss.batches);
		j_int(&l.b, &n, "incidents", (long long)ss.incidents);
		j_key(&l.b, &n, "by_status");
		soc_sbuf_adds(&l.b, "{");
		for (i = 0; i < STORE_ST_COUNT; i++)
			j_int(&l.b, &m, store_status_name(i), (long long)ss.by_status[i]);
		soc_sbuf_adds(&l.b, "}");
		j_key(&l.b, &n, "by_severity");
		soc_sbuf_adds(&l.b, "{");
		for (i = 0, m = 0; i < 5; i++)
			j_int(&l.b, &m, store_severity_name(i),
			    (long long)ss.by_severity[i]);
		soc_sbuf_adds(&l.b, "}");
		j_int(&l.b, &n, "evidence", (long long)ss.evidence);
		j_int(&l.b, &n, "audit", (long long)ss.audit);
		j_int(&l.b, &n, "forwarded", (long long)ss.forwarded);
		j_int(&l.b, &n, "outbox_pending", (long long)ss.outbox_pending);
		j_key(&l.b, &n, "per_sensor");
		soc_sbuf_adds(&l.b, "[");
	}
	table_init(&l.t, 6, cols);
	if (store_sensor_foreach(c->st, NULL, stats_sensor, &l) != 0) {
		soc_sbuf_free(&l.b);
		table_free(&l.t);
		return db_fail(c);
	}
	if (json) {
		soc_sbuf_adds(&l.b, "]}");
		table_free(&l.t);
		return j_print(&l.b);
	}
	soc_sbuf_free(&l.b);
	i = l.n ? table_print(&l.t) : 0;
	table_free(&l.t);
	return i;
}

/* ---- rules ---- */

static void
rules_error(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s\n", msg);
}

/*
 * `socctl rules check DIR... [--mapping FILE]`: loads the rule sets with
 * the correlator's engine and reports each refusal as file:line: reason.
 * argv[0] is the command name.  Exit 1 if any rule was refused.
 */
int
socctl_rules_check(int argc, char **argv)
{
	const char *mapping = NULL;
	const char **dirs;
	struct ruleset *rs;
	size_t nerr = 0, nok, ndirs = 0;
	int i;

	if ((dirs = calloc((size_t)argc, sizeof(*dirs))) == NULL)
		return errx1("out of memory");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mapping") == 0 && i + 1 < argc)
			mapping = argv[++i];
		else if (strncmp(argv[i], "--mapping=", 10) == 0)
			mapping = argv[i] + 10;
		else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			free(dirs);
			return errx1("rules check: unknown option %s (usage: socctl"
			    " rules check DIR... [--mapping FILE])", argv[i]);
		} else
			dirs[ndirs++] = argv[i];
	}
	if (ndirs == 0) {
		free(dirs);
		return errx1("rules check: give at least one rule directory"
		    " (usage: socctl rules check DIR... [--mapping FILE])");
	}
	rs = ruleset_load(dirs, ndirs, mapping, rules_error, NULL, &nerr);
	free(dirs);
	if (rs == NULL)
		return errx1("rules check: no usable rule set could be built"
		    " (see the messages above)");
	nok = ruleset_count(rs);
	ruleset_free(rs);
	printf("%zu rule%s loaded, %zu refused\n", nok, nok == 1 ? "" : "s", nerr);
	return nerr > 0 ? 1 : 0;
}

static int
cmd_rules_check(struct ctx *c, int argc, char **argv)
{
	(void)c;
	return socctl_rules_check(argc, argv);
}

static int
cmd_rules_test(struct ctx *c, int argc, char **argv)
{
	(void)c;
	return socctl_rules_test(argc, argv);
}

/* ---- the command table ---- */

static int	cmd_help(struct ctx *, int, char **);

static const struct cmd cmds[] = {
	{ "keygen", cmd_keygen, DB_NONE, 0, 0, "--out NAME",
	  "Write a CURVE key pair: NAME.key (secret, mode 0600) and NAME.pub\n"
	  "(public, Z85).  Existing files are never overwritten." },
	{ "agency add", cmd_agency_add, DB_CREATE, 0, 0,
	  "CODE --name NAME [--parent CODE]",
	  "Add an agency.  CODE is short (letters, digits, . _ -); NAME is\n"
	  "UTF-8.  Creates the database if it does not exist yet." },
	{ "agency list", cmd_agency_list, DB_READ, 0, 0, "[--json]",
	  "List agencies with their active sensors and open incidents." },
	{ "agencies", cmd_agency_list, DB_READ, 0, 1, "[--json]",
	  "Same as `agency list`." },
	{ "sensor enroll", cmd_sensor_enroll, DB_WRITE, 0, 0,
	  "NAME --agency CODE --key FILE|Z85",
	  "Enroll a sensor's public key (a .pub file from `socctl keygen`, or\n"
	  "the 40-character Z85 text) for an agency.  The correlator serves\n"
	  "only enrolled, unrevoked keys; the agency of every event is taken\n"
	  "from this enrolment." },
	{ "sensor revoke", cmd_sensor_revoke, DB_WRITE, 0, 0, "NAME",
	  "Revoke a sensor: its key gets no service from now on." },
	{ "sensors", cmd_sensors, DB_READ, 0, 0, "[--agency CODE] [--json]",
	  "List sensors: state (live: heard within 5m; silent; never heard;\n"
	  "revoked), heartbeat and last batch age, events, batches and the\n"
	  "last committed sequence number." },
	{ "sensor list", cmd_sensors, DB_READ, 0, 1, "[--agency CODE] [--json]",
	  "Same as `sensors`." },
	{ "incidents", cmd_incidents, DB_READ, 0, 0,
	  "[--status S] [--agency CODE] [--min-severity L] [--since DUR] [--limit N] [--json]",
	  "List incidents, most recent activity first.  S: new, acknowledged,\n"
	  "investigating, resolved, false_positive, open (the first three),\n"
	  "closed (the last two) or all (default).  L: informational, low,\n"
	  "medium, high, critical or 0-4.  DUR: 15m, 2h, 7d, or a date (last\n"
	  "seen since then)." },
	{ "incident list", cmd_incidents, DB_READ, 0, 1,
	  "[--status S] [--agency CODE] [--min-severity L] [--since DUR] [--json]",
	  "Same as `incidents`." },
	{ "incident show", cmd_incident_show, DB_READ, 0, 0, "ID [--json]",
	  "Show one incident with its evidence events and audit trail." },
	{ "incident ack", cmd_incident_move, DB_WRITE, STORE_ST_ACKNOWLEDGED, 0,
	  "ID --by NAME [--note TEXT]",
	  "Acknowledge a new incident." },
	{ "incident investigate", cmd_incident_move, DB_WRITE,
	  STORE_ST_INVESTIGATING, 0, "ID --by NAME [--note TEXT]",
	  "Mark an incident as under investigation." },
	{ "incident resolve", cmd_incident_move, DB_WRITE, STORE_ST_RESOLVED, 0,
	  "ID --by NAME [--note TEXT]",
	  "Close an incident as resolved.  Closed incidents do not change; a\n"
	  "new hit on the same rule and group opens a new incident." },
	{ "incident false-positive", cmd_incident_move, DB_WRITE,
	  STORE_ST_FALSE_POSITIVE, 0, "ID --by NAME [--note TEXT]",
	  "Close an incident as a false positive." },
	{ "incident assign", cmd_incident_assign, DB_WRITE, 0, 0,
	  "ID --to NAME --by NAME [--note TEXT]",
	  "Assign an open incident to an analyst (--to '' unassigns)." },
	{ "incident note", cmd_incident_note, DB_WRITE, 0, 0,
	  "ID --by NAME --note TEXT",
	  "Add a note to an incident's audit trail." },
	{ "audit", cmd_audit, DB_READ, 0, 0, "[--incident ID] [--json]",
	  "Show the append-only audit trail (all of it, or one incident's)." },
	{ "coverage", cmd_coverage, DB_READ, 0, 0,
	  "[--heartbeat DUR] [--ack-within DUR] [--forwarding] [--json]",
	  "The 4-layer coverage report per agency (on-site force, professional\n"
	  "monitoring, independent assessment, national connection: ok,\n"
	  "degraded or missing, with the reason) and the share of agencies\n"
	  "fully covered.  A sensor counts as live if heard within --heartbeat\n"
	  "(5m); new incidents older than --ack-within (24h, 0 = off) degrade\n"
	  "layer 1; --forwarding says the national forwarder is configured." },
	{ "stats", cmd_stats, DB_READ, 0, 0, "[--json]",
	  "Totals: agencies, sensors, events received and batches (per\n"
	  "sensor), incidents by status and severity, alerts forwarded." },
	{ "responder add", cmd_responder_add, DB_WRITE, 0, 0,
	  "AGENCY --name NAME [--contact C]",
	  "Put an agency's on-site responder on record (coverage layer 1)." },
	{ "responder list", cmd_responder_list, DB_READ, 0, 0,
	  "[--agency CODE] [--json]", "List responders on record." },
	{ "assessment add", cmd_assessment_add, DB_WRITE, 0, 0,
	  "AGENCY --by ASSESSOR --expires DATE|DUR [--at DATE]",
	  "Record an independent assessment (coverage layer 3), made at --at\n"
	  "(default now) and valid until --expires: a date (2027-11-27) or a\n"
	  "duration from the assessment (365d, 1y)." },
	{ "assessment list", cmd_assessment_list, DB_READ, 0, 0,
	  "[--agency CODE] [--json]", "List assessments on record." },
	{ "rules check", cmd_rules_check, DB_NONE, 0, 0,
	  "DIR... [--mapping FILE]",
	  "Load the rule sets as the correlator would and report each rule it\n"
	  "refuses as file:line: reason.  Exit 1 if any rule was refused." },
	{ "rules test", cmd_rules_test, DB_NONE, 0, 0,
	  "DIR... (--log FILE | --pcap FILE | --events FILE.jsonl) [--mapping FILE] [--json]",
	  "Run a log file, a capture or JSON-lines events through the sensor's\n"
	  "decoders and the correlator's engine and print every alert the rules\n"
	  "raise (windows on event time, as live).  No database is touched." },
	{ "help", cmd_help, DB_NONE, 0, 0, "[COMMAND]",
	  "Show the list of commands, or one command's help." },
};
#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

static size_t
words(const char *name)
{
	return strchr(name, ' ') ? 2 : 1;
}

/* Finds the command named by argv's first one or two words. */
static const struct cmd *
cmd_find(int argc, char **argv)
{
	const char *sp;
	size_t i;

	for (i = 0; i < NCMDS; i++) {
		sp = strchr(cmds[i].name, ' ');
		if (sp == NULL) {
			if (strcmp(cmds[i].name, argv[0]) == 0)
				return &cmds[i];
		} else if (argc > 1 && strlen(argv[0]) == (size_t)(sp - cmds[i].name) &&
		    strncmp(cmds[i].name, argv[0], (size_t)(sp - cmds[i].name)) == 0 &&
		    strcmp(sp + 1, argv[1]) == 0)
			return &cmds[i];
	}
	return NULL;
}

/* Lists the commands whose first word is group (all if NULL) on f (just
 * counts them if f is NULL). */
static int
list_cmds(FILE *f, const char *group)
{
	size_t i, glen = group ? strlen(group) : 0;
	int n = 0;

	for (i = 0; i < NCMDS; i++) {
		if (cmds[i].hidden || (group != NULL &&
		    (strncmp(cmds[i].name, group, glen) != 0 ||
		    (cmds[i].name[glen] != ' ' && cmds[i].name[glen] != '\0'))))
			continue;
		if (f != NULL)
			fprintf(f, "  %s %s\n", cmds[i].name, cmds[i].usage);
		n++;
	}
	return n;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: socctl [--db PATH] [--utc] COMMAND [ARGS...]\n"
	    "       socctl --help | --version | COMMAND --help\n\n"
	    "  --db PATH   the SOC database (default: $SOC_DB, else %s)\n"
	    "  --utc       print times in UTC instead of local time\n\n"
	    "commands:\n", DEFAULT_DB);
	list_cmds(f, NULL);
	fprintf(f, "\nSee socctl(8) for the details.\n");
}

static void
cmd_usage(const struct cmd *cmd)
{
	printf("usage: socctl [--db PATH] %s %s\n\n%s\n", cmd->name, cmd->usage,
	    cmd->help);
}

static int
cmd_help(struct ctx *c, int argc, char **argv)
{
	const struct cmd *cmd;

	(void)c;
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	if ((cmd = cmd_find(argc - 1, argv + 1)) != NULL) {
		cmd_usage(cmd);
		return 0;
	}
	if (list_cmds(stdout, argv[1]) > 0)
		return 0;
	return errx1("help: no command '%s' (see `socctl --help`)", argv[1]);
}

static int
wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

static void
actor_init(struct ctx *c)
{
	const char *u = getenv("SUDO_USER");
	struct passwd *pw;

	if ((u == NULL || *u == '\0') && (pw = getpwuid(geteuid())) != NULL)
		u = pw->pw_name;
	snprintf(c->actor, sizeof(c->actor), "%s", u && *u ? u : "unknown");
}

int
main(int argc, char **argv)
{
	static char name[128];
	const struct cmd *cmd;
	struct ctx c;
	int i, ret;

	memset(&c, 0, sizeof(c));
	c.db = getenv("SOC_DB");
	if (c.db == NULL || c.db[0] == '\0')
		c.db = DEFAULT_DB;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("socctl %s (schema %d)\n", SOC_VERSION,
			    STORE_SCHEMA_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--utc") == 0)
			c.utc = 1;
		else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			c.db = argv[++i];
		else if (strncmp(argv[i], "--db=", 5) == 0)
			c.db = argv[i] + 5;
		else {
			errx1("unknown option %s (see `socctl --help`)", argv[i]);
			return 1;
		}
	}
	argc -= i;
	argv += i;
	if (argc == 0) {
		usage(stderr);
		return 1;
	}
	if ((cmd = cmd_find(argc, argv)) == NULL) {
		if (list_cmds(NULL, argv[0]) == 0)
			return errx1("unknown command '%s' (see `socctl --help`)",
			    argv[0]);
		if (argc > 1)
			errx1("unknown command '%s %s'; '%s' has:", argv[0],
			    argv[1], argv[0]);
		else
			errx1("%s: which one?", argv[0]);
		list_cmds(stderr, argv[0]);
		return 1;
	}
	if (words(cmd->name) == 2) {
		argc--;
		argv++;
	}
	snprintf(name, sizeof(name), "socctl %s", cmd->name);
	argv[0] = name;
	if (cmd->fn != cmd_help && wants_help(argc, argv)) {
		cmd_usage(cmd);
		return 0;
	}
	c.cmd = cmd;
	c.now = soc_now_ns();
	actor_init(&c);
	ret = cmd->fn(&c, argc, argv);
	store_close(c.st);
	return ret;
}
