/*
 * The agency tree as data, changed by decree: renaming an agency, moving
 * it under another parent (or to the root), and merging one agency into
 * another, as the 2025 merger of Đắk Nông into Lâm Đồng did.  A merger
 * moves everything the old code owns (sensors, information systems,
 * incidents, responders, assessments, sub-agencies, endpoints and the
 * computers it declared: store_endpoint_merge()) to the new code in
 * one transaction and removes the old code, so its incidents are found
 * under the new one from then on.  The caller (socctl) writes the audit
 * row in the same transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"

const struct store_sql store_agency_sql[] = {
	{ S_AG_RENAME, "UPDATE agencies SET name = ?2 WHERE code = ?1" },
	{ S_AG_PARENT, "UPDATE agencies SET parent = ?2 WHERE code = ?1" },
	/* Is ?2 at or below ?1?  UNION stops on a cycle made by hand. */
	{ S_AG_BELOW, "WITH RECURSIVE below(code) AS (SELECT ?1 UNION"
	    " SELECT a.code FROM agencies a JOIN below b ON a.parent = b.code)"
	    " SELECT 1 FROM below WHERE code = ?2" },
	{ S_AG_SYS_CLASH, "SELECT code FROM systems WHERE agency = ?1 AND code IN"
	    " (SELECT code FROM systems WHERE agency = ?2) LIMIT 1" },
	{ S_AG_INC_CLASH, "SELECT a.id, b.id FROM incidents a JOIN incidents b"
	    " ON a.rule_id = b.rule_id AND a.group_key = b.group_key"
	    " WHERE a.agency = ?1 AND b.agency = ?2 AND a.status IN " OPEN_SQL
	    " AND b.status IN " OPEN_SQL " LIMIT 1" },
	{ S_AG_MV_SENSORS, "UPDATE sensors SET agency = ?2 WHERE agency = ?1" },
	{ S_AG_MV_SYSTEMS, "UPDATE systems SET agency = ?2 WHERE agency = ?1" },
	{ S_AG_MV_INCIDENTS, "UPDATE incidents SET agency = ?2 WHERE agency = ?1" },
	{ S_AG_DUP_RESP, "DELETE FROM responders WHERE agency = ?1 AND name IN"
	    " (SELECT name FROM responders WHERE agency = ?2)" },
	{ S_AG_MV_RESP, "UPDATE responders SET agency = ?2 WHERE agency = ?1" },
	{ S_AG_MV_ASSESS, "UPDATE assessments SET agency = ?2 WHERE agency = ?1" },
	/* The new code takes the old one's place when it was its child. */
	{ S_AG_LIFT, "UPDATE agencies SET parent = (SELECT parent FROM agencies"
	    " WHERE code = ?1) WHERE code = ?2 AND parent = ?1" },
	{ S_AG_MV_CHILDREN, "UPDATE agencies SET parent = ?2 WHERE parent = ?1" },
	{ S_AG_DELETE, "DELETE FROM agencies WHERE code = ?1" },
	{ 0, NULL }
};

static int
known(struct store *st, const char *code, const char *what)
{
	int rc = store_agency_exists(st, code);

	if (rc == 0)
		store_seterr(st, "no such %sagency '%s'", what, code);
	return rc == 1 ? 0 : -1;
}

/* Runs statement i on (a, b); *n (may be NULL) gets the rows changed. */
static int
run2(struct store *st, int i, const char *a, const char *b, uint64_t *n,
    const char *what)
{
	sqlite3_stmt *s = st->stmt[i];

	bind_str(s, 1, a);
	bind_str(s, 2, b);
	if (store_exec(st, s, what) == -1)
		return -1;
	if (n != NULL)
		*n = (uint64_t)sqlite3_changes(st->db);
	return 0;
}

int
store_agency_rename(struct store *st, const char *code, const char *name)
{
	if (name == NULL || name[0] == '\0') {
		store_seterr(st, "an agency needs a name");
		return -1;
	}
	if (known(st, code, "") == -1)
		return -1;
	return run2(st, S_AG_RENAME, code, name, NULL, "rename agency");
}

/* 1 when b is a or below a, 0 not, -1. */
static int
is_below(struct store *st, const char *a, const char *b)
{
	sqlite3_stmt *s = st->stmt[S_AG_BELOW];
	int rc;

	bind_str(s, 1, a);
	bind_str(s, 2, b);
	rc = store_step1(st, s, "agency tree");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

int
store_agency_move(struct store *st, const char *code, const char *parent)
{
	int rc;

	if (parent != NULL && parent[0] == '\0')
		parent = NULL;
	if (known(st, code, "") == -1)
		return -1;
	if (parent != NULL) {
		if (known(st, parent, "parent ") == -1)
			return -1;
		if ((rc = is_below(st, code, parent)) != 0) {
			if (rc == 1)
				store_seterr(st, "%s is %s%s; moving it there"
				    " would make a cycle", parent,
				    strcmp(parent, code) == 0 ? "the agency itself" :
				    "below ", strcmp(parent, code) == 0 ? "" : code);
			return -1;
		}
	}
	return run2(st, S_AG_PARENT, code, parent, NULL, "move agency");
}

/* Refuses a merger that would break a uniqueness rule, saying which. */
static int
merge_clashes(struct store *st, const char *from, const char *into)
{
	sqlite3_stmt *s = st->stmt[S_AG_SYS_CLASH];
	int rc;

	bind_str(s, 1, from);
	bind_str(s, 2, into);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		store_seterr(st, "both agencies have a system '%s'; rename one"
		    " first", col_str(s, 0));
	else if (rc != SQLITE_DONE)
		store_sqlerr(st, "merge");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE)
		return -1;
	s = st->stmt[S_AG_INC_CLASH];
	bind_str(s, 1, from);
	bind_str(s, 2, into);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		store_seterr(st, "open incidents %lld (%s) and %lld (%s) have the"
		    " same rule and group; close one first",
		    (long long)sqlite3_column_int64(s, 0), from,
		    (long long)sqlite3_column_int64(s, 1), into);
	else if (rc != SQLITE_DONE)
		store_sqlerr(st, "merge");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_agency_merge(struct store *st, const char *from, const char *into,
    struct store_merge *n)
{
	struct store_merge m;
	uint64_t dup;
	int own;

	memset(&m, 0, sizeof(m));
	m.computers = -1;
	if (n != NULL)
		memset(n, 0, sizeof(*n));
	if (strcmp(from, into) == 0) {
		store_seterr(st, "an agency cannot be merged into itself");
		return -1;
	}
	if (known(st, from, "") == -1 || known(st, into, "") == -1)
		return -1;
	if (store_tx_enter(st, &own) == -1)
		return -1;
	if (merge_clashes(st, from, into) == -1 ||
	    run2(st, S_AG_MV_SENSORS, from, into, &m.sensors, "merge") == -1 ||
	    run2(st, S_AG_MV_SYSTEMS, from, into, &m.systems, "merge") == -1 ||
	    run2(st, S_AG_MV_INCIDENTS, from, into, &m.incidents, "merge") == -1 ||
	    run2(st, S_AG_DUP_RESP, from, into, &dup, "merge") == -1 ||
	    run2(st, S_AG_MV_RESP, from, into, &m.responders, "merge") == -1 ||
	    run2(st, S_AG_MV_ASSESS, from, into, &m.assessments, "merge") == -1 ||
	    run2(st, S_AG_LIFT, from, into, NULL, "merge") == -1 ||
	    run2(st, S_AG_MV_CHILDREN, from, into, &m.children, "merge") == -1 ||
	    store_endpoint_merge(st, from, into, &m.endpoints,
	    &m.computers) == -1 ||
	    run2(st, S_AG_DELETE, from, NULL, NULL, "merge") == -1)
		return store_tx_leave(st, own, -1);
	m.responders += dup;	/* already on record for the new code */
	if (store_tx_leave(st, own, 0) == -1)
		return -1;
	if (n != NULL)
		*n = m;
	return 0;
}
