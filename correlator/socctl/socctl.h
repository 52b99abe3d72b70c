/*
 * socctl's insides, shared by its files: the command context and table
 * entry (socctl.c), option and database helpers (socctl-ctx.c), output
 * for people and programs (socctl-out.c) and the command handlers, one file
 * per family: socctl-admin.c (keys, agencies, sensors, responders,
 * assessments), socctl-incident.c (incidents and the audit trail),
 * socctl-report.c (stats, coverage), socctl-leadership.c (report),
 * socctl-rules.c (rules check and rules test) and socctl-policy.c
 * (systems, level policy, deadlines).
 *
 * A list is described once, as an array of columns (struct col): the
 * same description prints the aligned table, the --json array and the
 * --csv file, so the three always carry the same rows.
 */
#ifndef SOCCTL_H
#define SOCCTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "soc/json.h"
#include "store-query.h"

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
	const char		*tz;		/* display and input zone (TZ) */
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

/* socctl-ctx.c: messages, options, arguments, the database. */
int	errx1(const char *, ...) __attribute__((format(printf, 1, 2)));
int	cmd_err(struct ctx *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	args(struct ctx *c, int argc, char **argv, const struct optspec *spec,
	    int min, int max);
int	need(struct ctx *c, const char *v, const char *what);
int	parse_id(struct ctx *c, const char *s, int64_t *id);
int	parse_when(const char *s, int64_t now, int sign, int64_t *out);
int	parse_local(const char *s, int64_t *out);
int	db_open(struct ctx *c);
const char *db_why(struct ctx *c);
int	db_fail(struct ctx *c);
int	db_audit_commit(struct ctx *c, int ok, const char *action,
	    const char *note);

/* socctl-out.c: text for terminals. */
char	*clean_dup(const char *s, size_t maxw);
void	 put_clean(FILE *f, const char *s);
size_t	 disp_width(const char *s);
void	 time_human(struct ctx *c, int64_t ns, char *buf, size_t len);
void	 age_human(struct ctx *c, int64_t ns, char *buf, size_t len);
void	 zone_label(int64_t ns, char *buf, size_t len);

/* socctl-out.c: JSON, one object member at a time (*n counts members). */
void	j_key(struct soc_sbuf *b, int *n, const char *k);
void	j_str(struct soc_sbuf *b, int *n, const char *k, const char *v);
void	j_int(struct soc_sbuf *b, int *n, const char *k, long long v);
void	j_bool(struct soc_sbuf *b, int *n, const char *k, int v);
void	j_time(struct soc_sbuf *b, int *n, const char *k, int64_t ns);
int	j_print(struct soc_sbuf *b);

/* socctl-out.c: aligned tables for people. */
#define TABLE_MAXCOLS	16

struct table {
	int		 ncols;
	const char	*head[TABLE_MAXCOLS];
	int		 right[TABLE_MAXCOLS];	/* right-align (numbers) */
	size_t		 maxw[TABLE_MAXCOLS];	/* 0: no limit */
	char		**cells;
	size_t		 nrows, cap;
	int		 oom;
};

void	table_init(struct table *t, int ncols, const char *const *spec);
void	table_add(struct table *t, const char *const *cells);
int	table_print(struct table *t);
void	table_free(struct table *t);

/* socctl-out.c: one list described once, printed as table, JSON or CSV. */
enum out_fmt { OUT_TABLE, OUT_JSON, OUT_CSV };

enum col_type {
	COL_STR,	/* const char * */
	COL_INT,	/* int64_t */
	COL_UINT,	/* uint64_t */
	COL_BOOL,	/* int */
	COL_TIME,	/* int64_t ns; table: local time; else RFC 3339 UTC */
	COL_AGE,	/* as COL_TIME, but the table shows "3m ago" */
	COL_RAW,	/* JSON text, kept as is when cell.valid, else a string */
};

#define COL_NULLEMPTY	0x01	/* "" is null in JSON, empty in CSV */
#define COL_DASH	0x02	/* "" or null is "-" in the table */
#define COL_NUMTEXT	0x04	/* COL_STR holding a number we formatted:
				   CSV keeps it as is (no formula guard) */

/* A value as a getter hands it over; null for JSON null. */
struct cell {
	int		 null;
	const char	*s;
	long long	 i;
	int		 valid;		/* COL_RAW: s parses as JSON */
};

struct col {
	const char	*key;	/* JSON member and CSV header; "a.b" nests
				 * under "a"; NULL: the table only */
	const char	*head;	/* table header ("NAME", ">RIGHT", "NAME:48"
				 * cut to 48 columns); NULL: not in the table */
	int		 tpos;	/* position in the table (0-based) */
	enum col_type	 type;
	int		 flags;
	size_t		 off;	/* field offset in the row, when get is NULL */
	void		(*get)(struct ctx *, const void *row, struct cell *);
};

#define COL_COUNT(a)	((int)(sizeof(a) / sizeof((a)[0])))

struct out {
	struct ctx		*c;
	enum out_fmt		 fmt;
	const struct col	*cols;
	int			 ncols;
	struct table		 t;
	struct soc_sbuf		 b;	/* JSON or CSV, printed at the end */
	size_t			 n;	/* rows so far */
};

/* socctl-ctx.c: reads --json and --csv into a format; -1 (after the
 * error) for both. */
int	out_fmt_pick(struct ctx *c, int json, int csv, enum out_fmt *fmt);
/* socctl-ctx.c: a plain list's --json/--csv (and --agency CODE, checked,
 * when agency is not NULL), then the database; 0 or 1. */
int	list_args(struct ctx *c, int argc, char **argv, const char **agency,
	    enum out_fmt *fmt);
void	out_begin(struct out *o, struct ctx *c, enum out_fmt fmt,
	    const struct col *cols, int ncols);
int	out_row(struct out *o, const void *row);
int	out_end(struct out *o, int rc, const char *none);
void	out_free(struct out *o);
void	out_json_members(struct soc_sbuf *b, struct ctx *c,
	    const struct col *cols, int ncols, const void *row);

/* Command handlers. */
/* socctl-intel.c: indicator sets. */
int	cmd_intel_import(struct ctx *, int, char **);
int	cmd_intel_list(struct ctx *, int, char **);
int	cmd_intel_show(struct ctx *, int, char **);
/* socctl-intel-push.c: sets pushed down; sightings (national). */
int	cmd_intel_sources(struct ctx *, int, char **);
int	intel_sightings_json(struct ctx *c, const char *value,
	    struct soc_sbuf *b);
int	intel_sightings_print(struct ctx *c, const char *value);
int	cmd_intel_check(struct ctx *, int, char **);
int	cmd_intel_remove(struct ctx *, int, char **);
/* socctl-endpoint.c: the endpoint inventory (issue 18). */
int	cmd_endpoints(struct ctx *, int, char **);
int	cmd_endpoint_show(struct ctx *, int, char **);
int	cmd_agency_set(struct ctx *, int, char **);
int	cmd_keygen(struct ctx *, int, char **);
int	cmd_forward_status(struct ctx *, int, char **);
int	cmd_agency_add(struct ctx *, int, char **);
int	cmd_agency_list(struct ctx *, int, char **);
int	cmd_sensor_enroll(struct ctx *, int, char **);
int	cmd_sensor_revoke(struct ctx *, int, char **);
int	cmd_sensor_reset_seq(struct ctx *, int, char **);
int	cmd_sensors(struct ctx *, int, char **);
int	cmd_responder_add(struct ctx *, int, char **);
int	cmd_responder_list(struct ctx *, int, char **);
int	cmd_responder_set(struct ctx *, int, char **);
int	cmd_notify_status(struct ctx *, int, char **);
int	cmd_notify_test(struct ctx *, int, char **);
int	cmd_assessment_add(struct ctx *, int, char **);
int	cmd_assessment_list(struct ctx *, int, char **);
int	cmd_incidents(struct ctx *, int, char **);
int	cmd_incident_show(struct ctx *, int, char **);
int	cmd_incident_move(struct ctx *, int, char **);
int	cmd_incident_assign(struct ctx *, int, char **);
int	cmd_incident_note(struct ctx *, int, char **);
int	cmd_audit(struct ctx *, int, char **);
int	cmd_coverage(struct ctx *, int, char **);
int	cmd_agency_rename(struct ctx *, int, char **);
int	cmd_agency_move(struct ctx *, int, char **);
int	cmd_agency_merge(struct ctx *, int, char **);
int	cmd_incident_report(struct ctx *, int, char **);
/* socctl-policy.c: security levels and reporting deadlines. */
int	cmd_system_add(struct ctx *, int, char **);
int	cmd_system_list(struct ctx *, int, char **);
int	cmd_level_list(struct ctx *, int, char **);
int	cmd_level_set(struct ctx *, int, char **);
int	cmd_deadline_list(struct ctx *, int, char **);
int	cmd_deadline_set(struct ctx *, int, char **);
int	cmd_stats(struct ctx *, int, char **);
int	cmd_report(struct ctx *, int, char **);
int	cmd_rules_check(struct ctx *, int, char **);
/* socctl-events.c: the archive. */
/* The archive directory (socctl-events.c): as the correlator recorded it,
 * else archive/ beside the database.  0, or 1 after saying why. */
int	socctl_archive_dir(struct ctx *, char *, size_t);
int	cmd_events(struct ctx *, int, char **);
int	cmd_hunt(struct ctx *, int, char **);
/* The archived events around incident id (dur_ns each side), printed,
 * or appended to json as an array: 0, or 1 after saying why. */
int	events_context(struct ctx *c, int64_t id, int64_t dur_ns,
	    struct soc_sbuf *json);
int	cmd_rules_test(struct ctx *, int, char **);
/* socctl-rules.c: the mapping file when none is given (NULL: a rule
 * directory's own); socctl-update.c: rules update. */
const char *rules_mapping(const char **dirs, size_t ndirs, char *buf,
	    size_t len);
int	cmd_rules_update(struct ctx *, int, char **);
/* socctl-fetch.c: a file, file:// or http(s) URL into memory, at most
 * max bytes (fetch_bytes: 0, or -1 after the message); SHA-256 in hex. */
struct fetch_buf {
	char	*d;
	size_t	 n, cap, max;
};
int	fetch_add(struct fetch_buf *b, const void *p, size_t n);
int	fetch_bytes(const char *src, struct fetch_buf *b);
int	fetch_is_http(const char *s);
void	sha256_hex(const void *p, size_t n, char out[65]);

#endif
