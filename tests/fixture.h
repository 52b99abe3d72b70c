/*
 * Fixtures shared by the C tests that use files and databases: enrolled
 * sensors' test keys, removing a temporary tree, and a second SQLite
 * connection to look at (or tamper with) a database the code under test
 * holds open -- it sees only what is committed.  Header-only, like
 * check.h; include after check.h.
 */
#ifndef SOC_TEST_FIXTURE_H
#define SOC_TEST_FIXTURE_H

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include <sqlite3.h>

/* Z85 public keys for test sensors (any 40 Z85 characters will do). */
#define KEY_A	"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
#define KEY_B	"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
#define KEY_C	"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"

static inline int
fx_rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Removes dir and everything below it. */
static inline void
fx_rmtree(const char *dir)
{
	nftw(dir, fx_rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

/* sql on a second connection to db: SQLITE_OK or the error (printed). */
static inline int
fx_sql_exec(const char *db, const char *sql)
{
	sqlite3 *h;
	int rc;

	if (sqlite3_open(db, &h) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(h, 5000);
	rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(h));
	sqlite3_close(h);
	return rc;
}

/* The first column of the first row of a query on db, or -999. */
static inline long long
fx_sql_int(const char *db, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline long long
fx_sql_int(const char *db, const char *fmt, ...)
{
	char sql[1024];
	va_list ap;
	sqlite3 *h;
	sqlite3_stmt *s;
	long long v = -999;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	if (sqlite3_open(db, &h) != SQLITE_OK)
		return v;
	sqlite3_busy_timeout(h, 5000);
	if (sqlite3_prepare_v2(h, sql, -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	} else
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(h));
	sqlite3_close(h);
	return v;
}

#endif
