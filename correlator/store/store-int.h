/*
 * Private to the store (store.c, store-sensor.c, store-incident.c,
 * store-record.c, store-policy.c, store-agency.c; coverage.c for its
 * errors): the struct store, the prepared-statement cache and the
 * helpers these files share.  Nothing outside the store includes it;
 * everyone else codes against store.h.  The shared helpers are at the
 * bottom, below every file that calls them: store-sql.c (errors, the
 * statement cache, transactions) and store-util.c (names, the state
 * machine, the audit append, ages); store.c (open, schema, migrations)
 * is at the top (docs/DECISIONS.md has the order).
 *
 * Every statement has an index in one enum below.  Its SQL lives in the
 * file that runs it, in a table of { index, sql } (store_*_sql[]);
 * store_open() collects the tables, checks that each index has exactly one
 * SQL text, and prepares them all once.  A new statement is an enum entry
 * here plus a line in its file's table.
 */
#ifndef SOC_CORR_STORE_INT_H
#define SOC_CORR_STORE_INT_H

#include <sqlite3.h>

#include "store.h"
#include "store-query.h"

/* The open statuses, for SQL (schema, incident and agency queries). */
#define OPEN_SQL	"('new','acknowledged','investigating')"

enum {
	/* store.c: transactions */
	S_BEGIN, S_COMMIT, S_ROLLBACK, S_SAVEPOINT, S_RELEASE, S_ROLLBACK_TO,
	S_BATCH_SAVE, S_BATCH_RELEASE, S_BATCH_UNDO,
	/* store-sensor.c */
	S_SENSOR_BY_KEY, S_SENSOR_BY_NAME, S_SENSOR_SET_SEQ, S_SENSOR_HEARTBEAT,
	S_SENSOR_ENROLL, S_SENSOR_REVOKE, S_SENSOR_LIST,
	S_SENSOR_ROLE, S_SENSOR_CLAMPED, S_SENSOR_ACK_GET, S_SENSOR_ACK_SET,
	S_SENSOR_ACK_SKIP,
	/* store-incident.c */
	S_INC_FIND_OPEN, S_INC_UPDATE_HIT, S_INC_INSERT, S_EVIDENCE_ADD,
	S_INC_LIST, S_INC_GET, S_INC_STATE, S_INC_SET_STATUS, S_INC_SET_ASSIGNEE,
	S_INC_TOUCH, S_EVIDENCE_LIST,
	S_AUDIT_ADD, S_AUDIT_LIST,
	S_INC_FIND_CLOSED, S_INC_REOPEN, S_EVIDENCE_NEXT, S_EVIDENCE_TRIM,
	S_INC_OPEN_TWIN,
	/* store-record.c */
	S_AGENCY_ADD, S_AGENCY_EXISTS, S_AGENCY_LIST,
	S_RESP_ADD, S_RESP_EXISTS, S_RESP_LIST, S_ASSESS_ADD, S_ASSESS_LIST,
	S_STATS, S_STATS_STATUS, S_STATS_SEVERITY,
	/* store-policy.c */
	S_SYS_ADD, S_SYS_EXISTS, S_SYS_LIST, S_SENSOR_SET_SYS, S_SENSOR_SYS,
	S_AGENCY_LEVEL, S_LEVEL_GET, S_LEVEL_SET, S_LEVEL_LIST,
	S_DL_GET, S_DL_SET, S_DL_LIST, S_REPORT_ADD, S_REPORT_EXISTS,
	S_INC_DEADLINE, S_INC_OVERDUE,
	/* store-agency.c */
	S_AG_RENAME, S_AG_PARENT, S_AG_BELOW, S_AG_SYS_CLASH, S_AG_INC_CLASH,
	S_AG_MV_SENSORS, S_AG_MV_SYSTEMS, S_AG_MV_INCIDENTS, S_AG_DUP_RESP,
	S_AG_MV_RESP, S_AG_MV_ASSESS, S_AG_LIFT, S_AG_MV_CHILDREN, S_AG_DELETE,
	/* store-national.c */
	S_NAT_FIND, S_NAT_INSERT, S_NAT_UPDATE, S_NAT_EVIDENCE, S_NAT_RECEIVED,
	S_NAT_ORIGIN, S_NAT_LAST_ALERT, S_NAT_AG_FIND, S_NAT_AG_ADD,
	S_NAT_DEFER, S_NAT_AG_COUNT, S_NAT_COUNTS,
	S_NAT_COV_DEL, S_NAT_COV_ADD, S_NAT_COV_LIST,
	/* store-forward.c */
	S_OUT_INC, S_OUT_LAST, S_OUT_MOVE, S_OUT_INSERT, S_OUT_TAKE, S_OUT_MARK,
	S_OUT_AFTER, S_OUT_ACK, S_OUT_REQUEUE_DEL, S_OUT_REQUEUE, S_OUT_TRIM, S_OUT_PRUNE_SCAN, S_OUT_PRUNE,
	S_OUT_BACKLOG, S_OUT_PENDING, S_FWD_CONF, S_FWD_GET, S_FWD_SEQ,
	S_FWD_LIVE, S_FWD_CEF, S_FWD_DROPPED, S_FWD_AUDIT, S_FWD_CURSOR,
	S_FWD_PARENT,
	/* store-stats.c */
	S_WIN_CLEAR, S_WIN_PUT, S_WIN_LIST, S_RELOAD_PUT, S_RELOAD_GET,
	/* store-notify.c */
	S_NTF_CONTACTS, S_NTF_ROUTE, S_NTF_ANY, S_NTF_DUE, S_NTF_GET,
	S_NTF_OK, S_NTF_FAIL, S_NTF_COUNT, S_NTF_ESC_SCAN, S_NTF_ESC_ADD,
	S_NTF_LEAD, S_NTF_TEST, S_NTF_CONF, S_NTF_STATE, S_NTF_STATES,
	S_NTF_ERRORS, S_NTF_ESC_COUNT, S_NTF_TEMPLATE, S_NTF_PRUNE,
	S_NTF_PRUNED,
	S_COUNT
};

/* One line of a statement table; a table ends with sql NULL. */
struct store_sql {
	int		 idx;		/* S_* */
	const char	*sql;
};
extern const struct store_sql store_sensor_sql[];
extern const struct store_sql store_incident_sql[];
extern const struct store_sql store_record_sql[];
extern const struct store_sql store_policy_sql[];
extern const struct store_sql store_agency_sql[];
extern const struct store_sql store_national_sql[];
extern const struct store_sql store_forward_sql[];
extern const struct store_sql store_stats_sql[];
extern const struct store_sql store_notify_sql[];

struct store {
	sqlite3		*db;
	sqlite3_stmt	*stmt[S_COUNT];
	const char	*sql[S_COUNT];	/* texts, for temporary copies */
	int		 flags;
	int		 fwd_min;	/* store_forward_enable(): -1 off */
	int		 ntf_on;	/* store_notify_enable() */
	int		 ntf_min;
	char		 ntf_cats[256];
	char		 ntf_lead[192];
	char		 err[512];
};

/* store-sql.c: errors.  store_sqlerr() prefixes SQLite's reason with what. */
void	store_seterr(struct store *st, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	store_sqlerr(struct store *st, const char *what);

/*
 * store-sql.c: the statement cache.  store_stmt_get() returns statement i
 * ready to bind; if it is in use (a foreach whose callback re-enters the
 * store) a temporary copy is prepared, *tmp says so, and store_stmt_put()
 * finalizes it (else resets and clears it).
 */
sqlite3_stmt	*store_stmt_get(struct store *st, int i, int *tmp);
void		 store_stmt_put(sqlite3_stmt *s, int tmp);
/* Runs a statement that returns no rows, then resets it.  0 / -1. */
int		 store_exec(struct store *st, sqlite3_stmt *s, const char *what);
int		 store_step1(struct store *st, sqlite3_stmt *s, const char *what);
int		 store_exec_idx(struct store *st, int i, const char *what);
int		 store_exec_sensor(struct store *st, sqlite3_stmt *s,
		    const char *what, const char *name);

/*
 * store-sql.c: makes the next writes atomic: their own IMMEDIATE transaction
 * when none is open, a savepoint inside the caller's.  store_tx_leave()
 * commits when ok is 0, else undoes, keeping the first error message;
 * it returns 0 only on commit.
 */
int	store_tx_enter(struct store *st, int *own);
int	store_tx_leave(struct store *st, int own, int ok);

/* Binds a string, NULL as SQL NULL.  The caller keeps v alive until reset. */
static inline int
bind_str(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Column i as text, "" for NULL. */
static inline const char *
col_str(sqlite3_stmt *s, int i)
{
	const char *v = (const char *)sqlite3_column_text(s, i);

	return v ? v : "";
}

#endif
