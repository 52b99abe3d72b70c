/*
 * NXLog CE's JSON of a Windows event record (nxlog.h).  The object is
 * untrusted: one pass over its bytes with the lib's JSON string scanner
 * in strict mode (invalid UTF-8, a lone surrogate or NUL refuses the
 * object with the reason), nested values skipped without recursion up to
 * NX_DEPTH_MAX (deeper refuses), names longer than NX_KEY_MAX or than a
 * dynamic name may be skipped and counted, values longer than NX_VAL_MAX
 * cut and the event marked.  No allocation.
 *
 * NXLog's own names (the im_msvistalog fields and what Logstash adds on
 * the way: @timestamp, @version, host, port, tags) are metadata; every
 * other top-level name is the record's EventData.  EventType is both
 * NXLog's (INFO, AUDIT_SUCCESS, ..) and a Sysmon EventData name
 * (SetValue, CreateKey): only NXLog's values are metadata.  The message
 * is set last so that a long one is what gets cut, not the EventData.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soc/json.h"
#include "soc/time.h"
#include "log-int.h"
#include "logparse.h"
#include "nxlog.h"
#include "winlog.h"

#define NX_KEY_MAX	256
#define NX_VAL_MAX	65536
#define NX_DEPTH_MAX	32
#define NX_STAMP_MAX	64

static struct nxlog_stats nx_st;

#define NX_COUNT(f)	__atomic_add_fetch(&nx_st.f, 1, __ATOMIC_RELAXED)

void
nxlog_stats_get(struct nxlog_stats *st)
{
	st->events = __atomic_load_n(&nx_st.events, __ATOMIC_RELAXED);
	st->refused = __atomic_load_n(&nx_st.refused, __ATOMIC_RELAXED);
	st->names_skipped = __atomic_load_n(&nx_st.names_skipped,
	    __ATOMIC_RELAXED);
	st->nested_skipped = __atomic_load_n(&nx_st.nested_skipped,
	    __ATOMIC_RELAXED);
	st->values_cut = __atomic_load_n(&nx_st.values_cut, __ATOMIC_RELAXED);
}

bool
nxlog_looks(const char *s, size_t n)
{
	const char *p = soc_json_ws(s, s + n);

	if (p >= s + n || *p != '{')
		return false;
	n -= (size_t)(p - s);
	return memmem(p, n, "\"EventID\"", 9) != NULL &&
	    memmem(p, n, "\"Channel\"", 9) != NULL;
}

/* Time candidates, best first. */
enum {
	NX_T_CREATED = 1,	/* TimeCreated with a zone */
	NX_T_EVENTTIME,		/* EventTime with a zone */
	NX_T_UTCTIME,		/* Sysmon's UtcTime */
	NX_T_TIMESTAMP,		/* @timestamp with a zone (the shipper's) */
	NX_T_LOCAL,		/* EventTime/TimeCreated without: source zone */
	NX_T_NONE
};

struct nx {
	const struct logparse_ctx *ctx;
	struct soc_event	*ev;
	int			 trank;
	int64_t			 ts;
	char			 local[NX_STAMP_MAX];	/* zoneless stamp */
	size_t			 llen;
	char			 host[256];		/* Hostname */
	size_t			 hlen;
	const char		*severity;
	const char		*msg;		/* Message's opening quote */
	char			 key[NX_KEY_MAX];
	size_t			 klen;
	bool			 kcut;
	char			 val[NX_VAL_MAX];
	size_t			 vlen;
	bool			 vcut;
	bool			 is_str;
	int			 pass;		/* 1: the System fields, 2: EventData */
};

static bool
key_is(const struct nx *x, const char *s)
{
	return x->klen == strlen(s) && memcmp(x->key, s, x->klen) == 0;
}

static bool
val_is(const struct nx *x, const char *s)
{
	return x->vlen == strlen(s) && memcmp(x->val, s, x->vlen) == 0;
}

static void
set_val(struct nx *x, int f)
{
	if (x->vcut) {
		NX_COUNT(values_cut);
		soc_event_set_truncated(x->ev);
	}
	soc_event_set_str(x->ev, f, x->val, x->vlen);
}

static bool
whole(const struct nx *x, int base, long long *v)
{
	char tmp[32], *e;

	if (x->vlen == 0 || x->vlen >= sizeof(tmp))
		return false;
	memcpy(tmp, x->val, x->vlen);
	tmp[x->vlen] = '\0';
	*v = strtoll(tmp, &e, base);
	return *e == '\0';
}

static void
set_int(struct nx *x, int f)
{
	long long v;

	if (whole(x, 10, &v))
		soc_event_set_int(x->ev, f, v);
}

/*
 * A stamp: zoned (read in UTC either way) at rank zoned, zoneless kept
 * for the source zone at rank NX_T_LOCAL (utc: read it as UTC).
 */
static void
stamp(struct nx *x, int zoned, bool utc)
{
	int64_t a, b;
	unsigned fl = SOC_TIME_SPACE;

	if (soc_time_scan(x->val, x->vlen, fl, 0, &a) != x->vlen ||
	    soc_time_scan(x->val, x->vlen, fl, 3600, &b) != x->vlen)
		return;
	if (a == b || utc) {
		if (zoned < x->trank) {
			x->trank = zoned;
			x->ts = a;
		}
	} else if (NX_T_LOCAL < x->trank && x->vlen < sizeof(x->local)) {
		x->trank = NX_T_LOCAL;
		memcpy(x->local, x->val, x->vlen);
		x->llen = x->vlen;
	}
}

static void
keywords(struct nx *x)
{
	unsigned long long kw;
	long long v;
	char hex[24], *e;

	if (!x->is_str && whole(x, 10, &v)) {	/* Logstash: a signed int */
		kw = (unsigned long long)v;
		snprintf(hex, sizeof(hex), "0x%016llx", kw);
		soc_event_set_cstr(x->ev, SOC_F_WINLOG_KEYWORDS, hex);
	} else {
		set_val(x, SOC_F_WINLOG_KEYWORDS);
		if (x->vlen == 0 || x->vlen > 18)
			return;
		memcpy(hex, x->val, x->vlen);
		hex[x->vlen] = '\0';
		kw = strtoull(hex, &e, 16);
		if (*e != '\0')
			return;
	}
	if (kw & 0x20000000000000ull)		/* Audit Success */
		soc_event_set_cstr(x->ev, SOC_F_EVENT_OUTCOME, "success");
	else if (kw & 0x10000000000000ull)	/* Audit Failure */
		soc_event_set_cstr(x->ev, SOC_F_EVENT_OUTCOME, "failure");
}

static void
level(struct nx *x)
{
	static const char *const names[] = { "information", "critical",
	    "error", "warning", "information", "verbose" };
	long long v;

	if (whole(x, 10, &v) && v >= 0 && v <= 5)
		soc_event_set_cstr(x->ev, SOC_F_LOG_LEVEL, names[v]);
	else if (x->vlen > 0)
		set_val(x, SOC_F_LOG_LEVEL);
}

static const char *
severity(const struct nx *x)
{
	static const struct { const char *nx, *level; } map[] = {
		{ "INFO", "information" }, { "WARNING", "warning" },
		{ "ERROR", "error" }, { "CRITICAL", "critical" },
		{ "DEBUG", "verbose" }, { "VERBOSE", "verbose" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (val_is(x, map[i].nx))
			return map[i].level;
	return NULL;
}

/* Names NXLog (or a shipper on the way) adds, the System fields among
 * them: not EventData. */
static bool
metadata(const struct nx *x)
{
	static const char *const names[] = {
		"AccountName", "AccountType", "Category", "Domain",
		"EventReceivedTime", "EventTypeOrignal", "Opcode",
		"Severity", "SeverityValue", "SourceModuleName",
		"SourceModuleType", "MessageSourceAddress", "@version",
		"host", "port", "tags", "EventTime", "TimeCreated",
		"@timestamp", "Level", "EventID", "Channel", "SourceName",
		"ProviderGuid", "RecordNumber", "Task", "OpcodeValue",
		"UserID", "ActivityID", "RelatedActivityID", "Hostname",
		"Keywords", "Version", "ExecutionProcessID", "ThreadID",
	};
	static const char *const types[] = {
		"INFO", "AUDIT_SUCCESS", "AUDIT_FAILURE", "ERROR", "WARNING",
		"CRITICAL", "VERBOSE", "DEBUG",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (key_is(x, names[i]))
			return true;
	if (key_is(x, "EventType"))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (val_is(x, types[i]))
				return true;
	return false;
}

/* One top-level name and its scalar value. */
static void
member(struct nx *x)
{
	static const struct { const char *name; int f; } sys[] = {
		{ "Channel", SOC_F_WINLOG_CHANNEL },
		{ "SourceName", SOC_F_WINLOG_PROVIDER },
		{ "ProviderGuid", SOC_F_WINLOG_PROVIDER_GUID },
		{ "RecordNumber", SOC_F_WINLOG_RECORD_ID },
		{ "Task", SOC_F_WINLOG_TASK },
		{ "OpcodeValue", SOC_F_WINLOG_OPCODE },
		{ "UserID", SOC_F_WINLOG_USER_ID },
		{ "ActivityID", SOC_F_WINLOG_ACTIVITY_ID },
		{ "RelatedActivityID", SOC_F_WINLOG_RELATED_ID },
	};
	char name[SOC_F_DYN_NAME_MAX + 1];
	size_t pl = sizeof(SOC_F_DYN_EVENT_DATA) - 1;
	int f;

	if (x->kcut) {
		if (x->pass == 2)
			NX_COUNT(names_skipped);
		return;
	}
	if (x->pass == 2)
		goto event_data;
	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		if (key_is(x, sys[i].name)) {
			set_val(x, sys[i].f);
			return;
		}
	if (key_is(x, "EventID")) {
		set_val(x, SOC_F_WINLOG_EVENT_ID);
		set_val(x, SOC_F_EVENT_CODE);
		return;
	}
	if (key_is(x, "Hostname")) {
		set_val(x, SOC_F_WINLOG_COMPUTER);
		set_val(x, SOC_F_HOST_NAME);
		x->hlen = x->vlen < sizeof(x->host) ? x->vlen : 0;
		memcpy(x->host, x->val, x->hlen);
		return;
	}
	if (key_is(x, "Keywords")) {
		keywords(x);
		return;
	}
	if (key_is(x, "Version")) {
		set_int(x, SOC_F_WINLOG_VERSION);
		return;
	}
	if (key_is(x, "ExecutionProcessID")) {
		set_int(x, SOC_F_WINLOG_PID);
		return;
	}
	if (key_is(x, "ThreadID")) {
		set_int(x, SOC_F_WINLOG_TID);
		return;
	}
	if (key_is(x, "EventTime"))
		stamp(x, NX_T_EVENTTIME, false);
	else if (key_is(x, "TimeCreated"))
		stamp(x, NX_T_CREATED, false);
	else if (key_is(x, "@timestamp"))
		stamp(x, NX_T_TIMESTAMP, false);
	else if (key_is(x, "Level"))
		level(x);
	else if (key_is(x, "Severity"))
		x->severity = severity(x);
	else if (key_is(x, "UtcTime"))
		stamp(x, NX_T_UTCTIME, true);	/* and EventData, pass 2 */
	return;
event_data:
	if (key_is(x, "Message") || metadata(x))
		return;
	if (x->klen == 0 || pl + x->klen > SOC_F_DYN_NAME_MAX) {
		NX_COUNT(names_skipped);
		return;
	}
	if (!x->is_str && val_is(x, "null"))
		return;
	memcpy(name, SOC_F_DYN_EVENT_DATA, pl);
	memcpy(name + pl, x->key, x->klen);
	if ((f = soc_field_intern(name, pl + x->klen)) == SOC_F_NONE) {
		NX_COUNT(names_skipped);
		return;
	}
	set_val(x, f);
}

/* A nested object or array at *pp, skipped: brackets matched, strings
 * checked as the rest, depth bounded. */
static int
skip_nested(const char **pp, const char *end, const char **why)
{
	char stack[NX_DEPTH_MAX], tmp[1];
	const char *p = *pp;
	size_t depth = 0, n;
	bool cut;

	while (p < end) {
		switch (*p) {
		case '{':
		case '[':
			if (depth >= NX_DEPTH_MAX) {
				*why = "nested too deeply";
				return -1;
			}
			stack[depth++] = *p == '{' ? '}' : ']';
			p++;
			break;
		case '}':
		case ']':
			if (depth == 0 || stack[depth - 1] != *p) {
				*why = "unbalanced brackets";
				return -1;
			}
			p++;
			if (--depth == 0) {
				*pp = p;
				return 0;
			}
			break;
		case '"':
			if (soc_json_string(&p, end, tmp, sizeof(tmp), &n, &cut,
			    true, why) == -1)
				return -1;
			break;
		default:
			p++;
		}
	}
	*why = "unterminated object or array";
	return -1;
}

/* A scalar value at *pp into x->val. */
static int
scalar(struct nx *x, const char **pp, const char *end, const char **why)
{
	const char *p = *pp, *start = p;

	if (*p == '"') {
		x->is_str = true;
		if (soc_json_string(pp, end, x->val, sizeof(x->val), &x->vlen,
		    &x->vcut, true, why) == -1)
			return -1;
		return 0;
	}
	x->is_str = false;
	x->vcut = false;
	while (p < end && ((*p >= '0' && *p <= '9') || (*p >= 'a' &&
	    *p <= 'z') || *p == '-' || *p == '+' || *p == '.' || *p == 'E'))
		p++;
	if (p == start || (size_t)(p - start) >= 64) {
		*why = "unexpected character";
		return -1;
	}
	x->vlen = (size_t)(p - start);
	memcpy(x->val, start, x->vlen);
	*pp = p;
	return 0;
}

static void
finish_time(struct nx *x)
{
	const struct logparse_ctx *c = x->ctx;
	int32_t off = c->tz_offset_sec;
	int64_t ns;

	if (x->trank == NX_T_LOCAL) {
		if (c->zones != NULL)
			logzones_find(c->zones, c->source_addr, x->host,
			    x->hlen, &off);
		if (soc_time_scan(x->local, x->llen, SOC_TIME_SPACE, off,
		    &ns) == x->llen)
			x->ev->ts = ns;
	} else if (x->trank < NX_T_LOCAL)
		x->ev->ts = x->ts;
}

/* One pass over the object: 0, or -1 and *why. */
static int
nx_pass(struct nx *xp, const char *s, size_t n, const char **why)
{
#define x (*xp)
	const char *p, *end = s + n;

	p = soc_json_ws(s, end);
	if (p >= end || *p != '{') {
		*why = "a JSON object expected";
		goto refused;
	}
	p = soc_json_ws(p + 1, end);
	if (p < end && *p == '}')
		p++;
	else for (;;) {
		p = soc_json_ws(p, end);
		if (p >= end || *p != '"') {
			*why = "object key expected";
			goto refused;
		}
		if (soc_json_string(&p, end, x.key, sizeof(x.key), &x.klen,
		    &x.kcut, true, why) == -1)
			goto refused;
		p = soc_json_ws(p, end);
		if (p >= end || *p++ != ':') {
			*why = "':' expected";
			goto refused;
		}
		p = soc_json_ws(p, end);
		if (p >= end) {
			*why = "value expected";
			goto refused;
		}
		if (*p == '{' || *p == '[') {
			if (skip_nested(&p, end, why) == -1)
				goto refused;
			if (x.pass == 2)
				NX_COUNT(nested_skipped);
		} else {
			if (!x.kcut && key_is(&x, "Message"))
				x.msg = p;
			if (scalar(&x, &p, end, why) == -1)
				goto refused;
			member(&x);
		}
		p = soc_json_ws(p, end);
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == '}') {
			p++;
			break;
		}
		*why = "',' or '}' expected";
		goto refused;
	}
	if (soc_json_ws(p, end) != end) {
		*why = "trailing characters after the object";
		goto refused;
	}
	return 0;
refused:
	return -1;
#undef x
}

/*
 * Two passes, so that a record too big for the event loses EventData
 * values (cut, marked) rather than its System fields: the first reads
 * the System fields and checks the whole object, the second the
 * EventData; then the ECS fields, and the message last.
 */
int
nxlog_json_parse(const struct logparse_ctx *ctx, const char *s, size_t n,
    struct soc_event *ev, const char **why)
{
	static __thread struct nx x;
	const char *end = s + n;

	x.ctx = ctx;
	x.ev = ev;
	x.trank = NX_T_NONE;
	x.llen = x.hlen = 0;
	x.severity = NULL;
	x.msg = NULL;
	*why = NULL;
	x.pass = 1;
	if (nx_pass(&x, s, n, why) == -1)
		goto refused;
	finish_time(&x);
	if (x.severity != NULL && !soc_event_has(ev, SOC_F_LOG_LEVEL))
		soc_event_set_cstr(ev, SOC_F_LOG_LEVEL, x.severity);
	x.pass = 2;
	x.msg = NULL;
	(void)nx_pass(&x, s, n, why);	/* read once already */
	*why = NULL;
	winlog_ecs(ev);
	if (x.msg != NULL && *x.msg == '"' &&
	    scalar(&x, &x.msg, end, why) == 0)
		set_val(&x, SOC_F_MESSAGE);
	winlog_message(ev);		/* only without NXLog's Message */
	NX_COUNT(events);
	return 0;
refused:
	if (*why == NULL)
		*why = "invalid JSON";
	NX_COUNT(refused);
	return -1;
}
