/*
 * Helpers several files of the store share, below all of them but
 * store-sql.c: the names of severities and statuses and the incident
 * state machine, the audit trail's append, and an age as text.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "store-int.h"
#include "soc/util.h"

static const char *const severity_names[5] = {
	"informational", "low", "medium", "high", "critical"
};
static const char *const status_names[STORE_ST_COUNT] = {
	"new", "acknowledged", "investigating", "resolved", "false_positive"
};

/* ---- names and the state machine ---- */

const char *
store_severity_name(int sev)
{
	if (sev < 0 || sev > 4)
		return "?";
	return severity_names[sev];
}

int
store_severity_parse(const char *s)
{
	int i;

	if (s[0] >= '0' && s[0] <= '4' && s[1] == '\0')
		return s[0] - '0';
	if (strcasecmp(s, "info") == 0)
		return 0;
	for (i = 0; i < 5; i++)
		if (strcasecmp(s, severity_names[i]) == 0)
			return i;
	return -1;
}

const char *
store_status_name(int status)
{
	if (status < 0 || status >= STORE_ST_COUNT)
		return "?";
	return status_names[status];
}

int
store_status_parse(const char *s)
{
	int i;

	if (strcmp(s, "false-positive") == 0 || strcmp(s, "fp") == 0)
		return STORE_ST_FALSE_POSITIVE;
	if (strcmp(s, "ack") == 0)
		return STORE_ST_ACKNOWLEDGED;
	for (i = 0; i < STORE_ST_COUNT; i++)
		if (strcmp(s, status_names[i]) == 0)
			return i;
	return -1;
}

/*
 * The state machine only moves forward: new -> acknowledged ->
 * investigating -> resolved | false_positive, skipping steps allowed
 * (triage may close a false positive straight from new).  The one way
 * back is a reopen to new: by an analyst (store_incident_reopen(), from
 * resolved or false_positive), or by the correlator when a resolved
 * incident's key fires again within reopen_within (see
 * store_incident_flush()); later, or for a false positive, a new incident
 * opens whose related column names the closed one.
 */
int
store_status_allowed(int from, int to)
{
	if (from < 0 || to < 0 || to >= STORE_ST_COUNT)
		return 0;
	if (from >= STORE_ST_RESOLVED)
		return 0;
	return to > from;
}

/* ---- audit ---- */

int
store_audit_add(struct store *st, int64_t incident_id, const char *actor,
    const char *action, const char *note, int64_t now_ns)
{
	sqlite3_stmt *s;
	int tmp, ret;

	if ((s = store_stmt_get(st, S_AUDIT_ADD, &tmp)) == NULL)
		return -1;
	if (incident_id > 0)
		sqlite3_bind_int64(s, 1, incident_id);
	else
		sqlite3_bind_null(s, 1);
	sqlite3_bind_int64(s, 2, now_ns);
	bind_str(s, 3, actor);
	bind_str(s, 4, action);
	bind_str(s, 5, note ? note : "");
	ret = store_exec(st, s, "audit");
	store_stmt_put(s, tmp);
	return ret;
}

/* ---- ages ---- */

void
store_age_format(int64_t ns, char *buf, size_t len)
{
	int64_t s = ns / SOC_NS;

	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else if (s < 48 * 3600)
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
}
