/*
 * The bottom of socctl: what every command handler and the output use
 * (messages and exit status, option parsing, times given on the command
 * line, opening the database and reporting its errors).  It calls no
 * other file of socctl: socctl.c (main, the command table) is the top,
 * the handlers (socctl-*.c) between, socctl-out.c just above this file.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "soc/json.h"
#include "soc/time.h"
#include "soc/util.h"
#include "store.h"
#include "socctl.h"

/* ---- messages ---- */

int
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
int
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

/* ---- options and arguments ---- */

/*
 * A stamp read in the display zone (ctx.tz, put in TZ by main): "2026-12-01"
 * is midnight there, "2026-12-01 08:30" or "...T08:30:00" that time there;
 * a stamp with its own zone ("Z", "+07:00") keeps it.  0 / -1.
 */
int
parse_local(const char *s, int64_t *out)
{
	const unsigned fl = SOC_TIME_SPACE | SOC_TIME_DATE;
	size_t len = strlen(s);
	int64_t a, b, t;
	struct tm tm;
	time_t sec;
	char hm[24];
	int i;

	/* "2026-12-01 08:30": seconds may be left out */
	if (len == 16 && s[13] == ':' && (s[10] == ' ' || s[10] == 'T')) {
		snprintf(hm, sizeof(hm), "%s:00", s);
		s = hm;
		len += 3;
	}
	if (len == 0 || soc_time_scan(s, len, fl, 0, &a) != len ||
	    soc_time_scan(s, len, fl, 3600, &b) != len)
		return -1;
	if (a == b) {		/* the stamp names its zone */
		*out = a;
		return 0;
	}
	/* a is the wall time read as UTC; find the offset in force then
	 * (twice: the first guess may sit across a DST change). */
	t = a;
	for (i = 0; i < 2; i++) {
		sec = (time_t)(t / SOC_NS);
		if (localtime_r(&sec, &tm) == NULL)
			return -1;
		t = a - (int64_t)tm.tm_gmtoff * SOC_NS;
	}
	*out = t;
	return 0;
}

/*
 * A point in time: a stamp (parse_local: a date is its midnight in the
 * display zone) or a duration from now ("90d", "1y"), forward when
 * sign > 0, back when < 0.
 */
int
parse_when(const char *s, int64_t now, int sign, int64_t *out)
{
	int64_t d;
	char *end;
	long long y;

	if (parse_local(s, out) == 0)
		return 0;
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
int
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

/*
 * The options of a plain list command: --json or --csv, and --agency
 * CODE when agency is not NULL (an unknown code is an error, not an
 * empty list); then the database.  0, or 1 after saying why.
 */
int
list_args(struct ctx *c, int argc, char **argv, const char **agency,
    enum out_fmt *fmt)
{
	int json = 0, csv = 0, rc;
	struct optspec spec[] = {
		{ "json", NULL, &json }, { "csv", NULL, &csv },
		{ "agency", agency, NULL }, { NULL, NULL, NULL }
	};

	if (agency == NULL)	/* --agency is not an option of this list */
		spec[2].name = NULL;
	if (args(c, argc, argv, spec, 0, 0) < 0 ||
	    out_fmt_pick(c, json, csv, fmt) == -1 || db_open(c) == -1)
		return 1;
	if (agency != NULL && *agency != NULL &&
	    (rc = store_agency_exists(c->st, *agency)) != 1)
		return rc < 0 ? db_fail(c) : cmd_err(c, "no such agency '%s'"
		    " (see `socctl agency list`)", *agency);
	return 0;
}

int
need(struct ctx *c, const char *v, const char *what)
{
	if (v != NULL && v[0] != '\0')
		return 0;
	cmd_err(c, "%s is required", what);
	return -1;
}

int
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

int
db_open(struct ctx *c)
{
	char err[768];
	struct stat sb;
	int flags, created;

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
	/* a new database is 0640 whatever the umask, as the correlator
	 * makes it (store-file.c); one that exists keeps its modes */
	created = c->cmd->db == DB_CREATE && stat(c->db, &sb) == -1 &&
	    errno == ENOENT;
	if (created && store_file_access(c->db, NULL, 1, err,
	    sizeof(err)) == -1) {
		errx1("%s", err);
		return -1;
	}
	if ((c->st = store_open(c->db, flags, err, sizeof(err))) == NULL) {
		if (strstr(err, "unable to open") != NULL)
			errx1("%s (does the directory exist, and may you write"
			    " to it?)", err);
		else
			errx1("%s", err);
		return -1;
	}
	if (created && store_file_access(c->db, NULL, 0, err,
	    sizeof(err)) == -1) {
		errx1("%s", err);
		return -1;
	}
	return 0;
}

/* The store's reason, with a hint when another writer held the lock. */
const char *
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

int
db_fail(struct ctx *c)
{
	return errx1("%s: %s", c->cmd->name, db_why(c));
}

/* Runs a write and its admin audit row as one transaction. */
int
db_audit_commit(struct ctx *c, int ok, const char *action, const char *note)
{
	if (ok == 0 && store_audit_add(c->st, 0, c->actor, action, note,
	    c->now) == 0 && store_commit(c->st) == 0)
		return 0;
	db_fail(c);
	store_rollback(c->st);
	return 1;
}

int
out_fmt_pick(struct ctx *c, int json, int csv, enum out_fmt *fmt)
{
	if (json && csv) {
		cmd_err(c, "--json and --csv: pick one");
		return -1;
	}
	*fmt = json ? OUT_JSON : csv ? OUT_CSV : OUT_TABLE;
	return 0;
}
