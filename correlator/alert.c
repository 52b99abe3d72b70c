/*
 * Alert encodings (see alert.h, docs/ALERTS.md).  The JSON is one flat
 * object with dotted ECS names, in a fixed key order, so a receiver can
 * index it as is and a diff of two revisions reads line by line.
 *
 * alert_from_json() runs on the national side over bytes from a province:
 * it is a small recursive descent parser written for hostile input, that
 * checks every byte against the end before reading it, bounds depth,
 * lengths and counts, and names what it refused.  Only valid UTF-8 gets
 * into a struct soc_alert, so what it decodes, alert_to_json() writes
 * back byte for byte (the fuzz target checks that).
 *
 * alert_to_cef() writes one CEF line for SIEMs; CEF allows no newline in
 * its header, so header fields turn CR/LF into spaces, while extension
 * values keep them as \n and \r escapes.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "soc-config.h"
#include "soc/util.h"
#include "alert.h"

#define JP_MAX_DEPTH	8
#define JP_STR		(ALERT_URL_LEN + 8)	/* > every field buffer */

static const char *const severity_names[5] = {
	"informational", "low", "medium", "high", "critical"
};
static const char *const status_names[5] = {
	"new", "acknowledged", "investigating", "resolved", "false_positive"
};
static const int cef_severity[5] = { 0, 3, 5, 8, 10 };
static const int syslog_severity[5] = { 6, 5, 4, 3, 2 };

static const char *const field_names[ALERT_F_COUNT] = {
	[ALERT_F_SOURCE_IP] = "source.ip",
	[ALERT_F_SOURCE_PORT] = "source.port",
	[ALERT_F_DEST_IP] = "destination.ip",
	[ALERT_F_DEST_PORT] = "destination.port",
	[ALERT_F_USER_NAME] = "user.name",
	[ALERT_F_URL] = "url.original",
	[ALERT_F_DNS_NAME] = "dns.question.name",
	[ALERT_F_OBSERVER] = "observer.name",
};

/* ---- Field filter ---- */

void
alert_fields_default(struct alert_fields *f)
{
	f->mask = 1u << ALERT_F_SOURCE_IP | 1u << ALERT_F_SOURCE_PORT |
	    1u << ALERT_F_DEST_IP | 1u << ALERT_F_DEST_PORT |
	    1u << ALERT_F_URL | 1u << ALERT_F_DNS_NAME;
}

void
alert_fields_all(struct alert_fields *f)
{
	f->mask = (1u << ALERT_F_COUNT) - 1;
}

const char *
alert_field_name(enum alert_field f)
{
	if ((int)f < 0 || f >= ALERT_F_COUNT)
		return NULL;
	return field_names[f];
}

int
alert_fields_parse(struct alert_fields *f, const char *list, const char **why)
{
	uint32_t mask = 0;
	const char *p = list;
	size_t n;
	int i;

	for (;;) {
		p += strspn(p, ", \t\n");
		if (*p == '\0')
			break;
		n = strcspn(p, ", \t\n");
		for (i = 0; i < ALERT_F_COUNT; i++)
			if (strlen(field_names[i]) == n &&
			    memcmp(field_names[i], p, n) == 0)
				break;
		if (i == ALERT_F_COUNT) {
			*why = "forward.fields: unknown field (known: source.ip, "
			    "source.port, destination.ip, destination.port, "
			    "user.name, url.original, dns.question.name, "
			    "observer.name)";
			return -1;
		}
		mask |= 1u << i;
		p += n;
	}
	f->mask = mask;
	return 0;
}

static bool
allowed_field(const struct alert_fields *f, enum alert_field which)
{
	struct alert_fields def;

	if (f == NULL) {
		alert_fields_default(&def);
		f = &def;
	}
	return (f->mask & (1u << which)) != 0;
}

/* ---- The struct ---- */

void
alert_init(struct soc_alert *a)
{
	memset(a, 0, sizeof(*a));
	a->src_port = a->dst_port = -1;
}

int
alert_set_id(struct soc_alert *a)
{
	int n;

	n = snprintf(a->id, sizeof(a->id), "%s:%lld:%llu", a->origin_name,
	    (long long)a->incident_id, (unsigned long long)a->revision);
	return n < 0 || (size_t)n >= sizeof(a->id) ? -1 : 0;
}

const char *
alert_severity_name(int sev)
{
	return sev >= 0 && sev < 5 ? severity_names[sev] : "?";
}

const char *
alert_status_name(int status)
{
	return status >= 0 && status < 5 ? status_names[status] : "?";
}

static int
name_index(const char *const names[5], const char *s)
{
	for (int i = 0; i < 5; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* Length of a valid UTF-8 sequence at s (1..4), or 0 if invalid; the
 * same definition as soc_sbuf_json_str() so decoded text round-trips. */
static size_t
utf8_seq(const unsigned char *s, size_t left)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* ---- JSON out ---- */

static void
jkey(struct soc_sbuf *o, bool *first, const char *k)
{
	soc_sbuf_adds(o, *first ? "{\"" : ",\"");
	soc_sbuf_adds(o, k);
	soc_sbuf_adds(o, "\":");
	*first = false;
}

static void
jstr(struct soc_sbuf *o, bool *first, const char *k, const char *v)
{
	if (v[0] == '\0')
		return;
	jkey(o, first, k);
	soc_sbuf_json_str(o, v, strlen(v));
}

static void
jtime(struct soc_sbuf *o, bool *first, const char *k, int64_t ns)
{
	char t[64];

	soc_time_format(ns, t, sizeof(t));
	jkey(o, first, k);
	soc_sbuf_printf(o, "\"%s\"", t);
}

static void
jip(struct soc_sbuf *o, bool *first, const char *k, const struct soc_ip *ip)
{
	char t[64];

	if (ip->family != 4 && ip->family != 6)
		return;
	soc_ip_format(ip, t, sizeof(t));
	jkey(o, first, k);
	soc_sbuf_printf(o, "\"%s\"", t);
}

static void
jlist(struct soc_sbuf *o, bool *first, const char *k, const char *v,
    size_t stride, int n)
{
	if (n <= 0)
		return;
	jkey(o, first, k);
	for (int i = 0; i < n; i++) {
		const char *s = v + (size_t)i * stride;

		soc_sbuf_adds(o, i ? "," : "[");
		soc_sbuf_json_str(o, s, strnlen(s, stride));
	}
	soc_sbuf_adds(o, "]");
}

void
alert_to_json(const struct soc_alert *a, const struct alert_fields *allowed,
    struct soc_sbuf *o)
{
	bool first = true;
	int sev = a->severity >= 0 && a->severity < 5 ? a->severity : 0;

	jtime(o, &first, "@timestamp", a->last_seen);
	jstr(o, &first, "ecs.version", "8.11.0");
	jstr(o, &first, "event.kind", "alert");
	jstr(o, &first, "event.id", a->id);
	jkey(o, &first, "event.severity");
	soc_sbuf_printf(o, "%d", cef_severity[sev]);
	jtime(o, &first, "event.start", a->first_seen);
	jtime(o, &first, "event.end", a->last_seen);
	jstr(o, &first, "rule.id", a->rule_id);
	jstr(o, &first, "rule.name", a->rule_title);
	jstr(o, &first, "rule.author", a->rule_author);
	jlist(o, &first, "tags", a->tags[0], ALERT_TAG_LEN, a->ntags);
	jstr(o, &first, "organization.id", a->agency);
	jstr(o, &first, "organization.name", a->agency_name);
	if (allowed_field(allowed, ALERT_F_SOURCE_IP))
		jip(o, &first, "source.ip", &a->src_ip);
	if (allowed_field(allowed, ALERT_F_SOURCE_PORT) && a->src_port >= 0) {
		jkey(o, &first, "source.port");
		soc_sbuf_printf(o, "%d", a->src_port);
	}
	if (allowed_field(allowed, ALERT_F_DEST_IP))
		jip(o, &first, "destination.ip", &a->dst_ip);
	if (allowed_field(allowed, ALERT_F_DEST_PORT) && a->dst_port >= 0) {
		jkey(o, &first, "destination.port");
		soc_sbuf_printf(o, "%d", a->dst_port);
	}
	if (allowed_field(allowed, ALERT_F_USER_NAME))
		jstr(o, &first, "user.name", a->user_name);
	if (allowed_field(allowed, ALERT_F_URL))
		jstr(o, &first, "url.original", a->url);
	if (allowed_field(allowed, ALERT_F_DNS_NAME))
		jstr(o, &first, "dns.question.name", a->dns_name);
	if (allowed_field(allowed, ALERT_F_OBSERVER))
		jstr(o, &first, "observer.name", a->sensor);
	jkey(o, &first, "soc.alert.revision");
	soc_sbuf_printf(o, "%llu", (unsigned long long)a->revision);
	jstr(o, &first, "soc.origin.name", a->origin_name);
	jstr(o, &first, "soc.origin.agency", a->origin_agency);
	jkey(o, &first, "soc.origin.incident_id");
	soc_sbuf_printf(o, "%lld", (long long)a->incident_id);
	jstr(o, &first, "soc.rule.level", a->rule_level);
	jlist(o, &first, "soc.organization.parents", a->parents[0],
	    ALERT_NAME_LEN, a->nparents);
	jstr(o, &first, "soc.incident.severity", alert_severity_name(a->severity));
	jstr(o, &first, "soc.incident.status", alert_status_name(a->status));
	jstr(o, &first, "soc.incident.category", a->category);
	jkey(o, &first, "soc.incident.count");
	soc_sbuf_printf(o, "%llu", (unsigned long long)a->count);
	jstr(o, &first, "soc.incident.group_key", a->group_key);
	soc_sbuf_adds(o, "}");
}

/* ---- JSON in ---- */

enum ktype {
	K_SKIP,		/* known, derived from other fields: any value */
	K_STR, K_TIME, K_IP, K_PORT, K_ID, K_U64, K_SEV, K_STATUS, K_LEVEL,
	K_TAGS, K_PARENTS,
};

struct akey {
	const char	*name;
	enum ktype	 type;
	bool		 required;
	size_t		 off;
	size_t		 size;		/* K_STR: buffer size */
};

#define A(f)	offsetof(struct soc_alert, f), sizeof(((struct soc_alert *)0)->f)
static const struct akey keys[] = {
	{ "@timestamp",			K_SKIP,		false, 0, 0 },
	{ "ecs.version",		K_SKIP,		false, 0, 0 },
	{ "event.kind",			K_SKIP,		false, 0, 0 },
	{ "event.severity",		K_SKIP,		false, 0, 0 },
	{ "event.id",			K_STR,		true,  A(id) },
	{ "event.start",		K_TIME,		true,  A(first_seen) },
	{ "event.end",			K_TIME,		true,  A(last_seen) },
	{ "rule.id",			K_STR,		true,  A(rule_id) },
	{ "rule.name",			K_STR,		false, A(rule_title) },
	{ "rule.author",		K_STR,		false, A(rule_author) },
	{ "tags",			K_TAGS,		false, 0, 0 },
	{ "organization.id",		K_STR,		true,  A(agency) },
	{ "organization.name",		K_STR,		false, A(agency_name) },
	{ "source.ip",			K_IP,		false, A(src_ip) },
	{ "source.port",		K_PORT,		false, A(src_port) },
	{ "destination.ip",		K_IP,		false, A(dst_ip) },
	{ "destination.port",		K_PORT,		false, A(dst_port) },
	{ "user.name",			K_STR,		false, A(user_name) },
	{ "url.original",		K_STR,		false, A(url) },
	{ "dns.question.name",		K_STR,		false, A(dns_name) },
	{ "observer.name",		K_STR,		false, A(sensor) },
	{ "soc.alert.revision",		K_U64,		true,  A(revision) },
	{ "soc.origin.name",		K_STR,		true,  A(origin_name) },
	{ "soc.origin.agency",		K_STR,		true,  A(origin_agency) },
	{ "soc.origin.incident_id",	K_ID,		true,  A(incident_id) },
	{ "soc.rule.level",		K_LEVEL,	false, A(rule_level) },
	{ "soc.organization.parents",	K_PARENTS,	false, 0, 0 },
	{ "soc.incident.severity",	K_SEV,		true,  A(severity) },
	{ "soc.incident.status",	K_STATUS,	true,  A(status) },
	{ "soc.incident.category",	K_STR,		false, A(category) },
	{ "soc.incident.count",		K_U64,		true,  A(count) },
	{ "soc.incident.group_key",	K_STR,		false, A(group_key) },
};
#undef A
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

struct jp {
	const unsigned char	*p, *end;
	const char		*why;
	char			 str[JP_STR];	/* the last string decoded */
	size_t			 slen;
	bool			 slong;		/* it did not fit */
	int64_t			 num;		/* the last number, if integral */
	bool			 num_int;	/* integral and in int64 range */
};

static int
jp_fail(struct jp *j, const char *why)
{
	if (j->why == NULL)
		j->why = why;
	return -1;
}

static void
jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
hex4(const unsigned char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			*v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			*v |= c - 'A' + 10;
		else
			return -1;
	}
	return 0;
}

static void
put_byte(struct jp *j, unsigned c)
{
	if (j->slen < sizeof(j->str) - 1)
		j->str[j->slen++] = (char)c;
	else
		j->slong = true;
}

static void
put_utf8(struct jp *j, unsigned cp)
{
	if (cp < 0x80)
		put_byte(j, cp);
	else if (cp < 0x800) {
		put_byte(j, 0xc0 | (cp >> 6));
		put_byte(j, 0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		put_byte(j, 0xe0 | (cp >> 12));
		put_byte(j, 0x80 | ((cp >> 6) & 0x3f));
		put_byte(j, 0x80 | (cp & 0x3f));
	} else {
		put_byte(j, 0xf0 | (cp >> 18));
		put_byte(j, 0x80 | ((cp >> 12) & 0x3f));
		put_byte(j, 0x80 | ((cp >> 6) & 0x3f));
		put_byte(j, 0x80 | (cp & 0x3f));
	}
}

/* A \u escape (p after the "u"): one code point, surrogate pairs joined;
 * a lone surrogate or NUL is refused. */
static int
jp_unicode(struct jp *j)
{
	unsigned cp, lo;

	if (j->end - j->p < 4 || hex4(j->p, &cp) == -1)
		return jp_fail(j, "bad \\u escape");
	j->p += 4;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return jp_fail(j, "lone surrogate in a string");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
		    hex4(j->p + 2, &lo) == -1 || lo < 0xdc00 || lo > 0xdfff)
			return jp_fail(j, "lone surrogate in a string");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		j->p += 6;
	}
	if (cp == 0)
		return jp_fail(j, "NUL in a string");
	put_utf8(j, cp);
	return 0;
}

/* Decode a string into j->str, NUL-terminated; p at the opening quote. */
static int
jp_string(struct jp *j)
{
	size_t n;

	j->slen = 0;
	j->slong = false;
	j->p++;
	while (j->p < j->end && *j->p != '"') {
		unsigned c = *j->p;

		if (c < 0x20)
			return jp_fail(j, "control character in a string");
		if (c >= 0x80) {
			if ((n = utf8_seq(j->p, (size_t)(j->end - j->p))) == 0)
				return jp_fail(j, "string is not valid UTF-8");
			for (size_t i = 0; i < n; i++)
				put_byte(j, j->p[i]);
			j->p += n;
			continue;
		}
		j->p++;
		if (c != '\\') {
			put_byte(j, c);
			continue;
		}
		if (j->p >= j->end)
			break;
		switch (*j->p++) {
		case '"': put_byte(j, '"'); break;
		case '\\': put_byte(j, '\\'); break;
		case '/': put_byte(j, '/'); break;
		case 'b': put_byte(j, '\b'); break;
		case 'f': put_byte(j, '\f'); break;
		case 'n': put_byte(j, '\n'); break;
		case 'r': put_byte(j, '\r'); break;
		case 't': put_byte(j, '\t'); break;
		case 'u':
			if (jp_unicode(j) == -1)
				return -1;
			break;
		default:
			return jp_fail(j, "bad escape in a string");
		}
	}
	if (j->p >= j->end)
		return jp_fail(j, "unterminated string");
	j->p++;
	j->str[j->slen] = '\0';
	return 0;
}

/* A number per the JSON grammar; j->num_int when it is an int64. */
static int
jp_number(struct jp *j)
{
	bool neg = false, over = false;
	uint64_t v = 0;

	j->num_int = false;
	if (j->p < j->end && *j->p == '-') {
		neg = true;
		j->p++;
	}
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return jp_fail(j, "bad number");
	if (*j->p == '0')
		j->p++;
	else
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
			if (v > (UINT64_MAX - 9) / 10)
				over = true;
			else
				v = v * 10 + (uint64_t)(*j->p - '0');
			j->p++;
		}
	j->num_int = !over && v <= (neg ? (uint64_t)INT64_MAX + 1 :
	    (uint64_t)INT64_MAX);
	if (j->num_int)
		j->num = neg ? (int64_t)(0 - v) : (int64_t)v;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		j->num_int = false;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return jp_fail(j, "bad number");
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		j->num_int = false;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return jp_fail(j, "bad number");
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	return 0;
}

static int
jp_literal(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return jp_fail(j, "bad literal");
	j->p += n;
	return 0;
}

/* Any value, checked and thrown away (unknown keys). */
static int
jp_skip(struct jp *j, int depth)
{
	int n = 0;

	if (depth > JP_MAX_DEPTH)
		return jp_fail(j, "nested too deep");
	jp_ws(j);
	if (j->p >= j->end)
		return jp_fail(j, "value expected");
	switch (*j->p) {
	case '"':
		return jp_string(j);
	case 't':
		return jp_literal(j, "true");
	case 'f':
		return jp_literal(j, "false");
	case 'n':
		return jp_literal(j, "null");
	case '[':
	case '{': {
		unsigned char close = *j->p == '[' ? ']' : '}';
		bool obj = close == '}';

		j->p++;
		for (;; n++) {
			jp_ws(j);
			if (n == 0 && j->p < j->end && *j->p == close)
				break;
			if (obj) {
				if (j->p >= j->end || *j->p != '"' ||
				    jp_string(j) == -1)
					return jp_fail(j, "key expected");
				jp_ws(j);
				if (j->p >= j->end || *j->p++ != ':')
					return jp_fail(j, "':' expected");
			}
			if (jp_skip(j, depth + 1) == -1)
				return -1;
			jp_ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p < j->end && *j->p == close)
				break;
			return jp_fail(j, "',' or end of list expected");
		}
		j->p++;
		return 0;
	}
	default:
		return jp_number(j);
	}
}

/* A string value into dst of size dstsz. */
static int
jp_str_into(struct jp *j, char *dst, size_t dstsz, const char *toolong)
{
	jp_ws(j);
	if (j->p >= j->end || *j->p != '"')
		return jp_fail(j, "a string was expected");
	if (jp_string(j) == -1)
		return -1;
	if (j->slong || j->slen >= dstsz)
		return jp_fail(j, toolong);
	memcpy(dst, j->str, j->slen + 1);
	return 0;
}

/* An integer value into j->num. */
static int
jp_int(struct jp *j)
{
	jp_ws(j);
	if (j->p >= j->end || (*j->p != '-' && (*j->p < '0' || *j->p > '9')))
		return jp_fail(j, "a number was expected");
	if (jp_number(j) == -1)
		return -1;
	if (!j->num_int)
		return jp_fail(j, "an integer was expected");
	return 0;
}

/* An array of strings into rows of a 2-D buffer. */
static int
jp_list(struct jp *j, char *rows, size_t stride, int max, int *n)
{
	*n = 0;
	jp_ws(j);
	if (j->p >= j->end || *j->p != '[')
		return jp_fail(j, "a list was expected");
	j->p++;
	jp_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return 0;
	}
	for (;;) {
		if (*n >= max)
			return jp_fail(j, "list too long");
		if (jp_str_into(j, rows + (size_t)*n * stride, stride,
		    "list item too long") == -1)
			return -1;
		(*n)++;
		jp_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return 0;
		}
		return jp_fail(j, "',' or ']' expected");
	}
}

/* One known key's value into the alert. */
static int
jp_assign(struct jp *j, const struct akey *k, struct soc_alert *a)
{
	char *dst = (char *)a + k->off;
	char tmp[64];
	int64_t v;
	int i;

	switch (k->type) {
	case K_SKIP:
		return jp_skip(j, 1);
	case K_STR:
		return jp_str_into(j, dst, k->size, "string value too long");
	case K_TIME:
		if (jp_str_into(j, tmp, sizeof(tmp), "bad time") == -1)
			return -1;
		if ((v = soc_parse_rfc3339(tmp, strlen(tmp))) < 0)
			return jp_fail(j, "bad time (RFC 3339, 1970 to 2261)");
		memcpy(dst, &v, sizeof(v));
		return 0;
	case K_IP:
		if (jp_str_into(j, tmp, sizeof(tmp), "bad IP address") == -1)
			return -1;
		if (soc_ip_parse(tmp, strlen(tmp), (struct soc_ip *)dst) == -1)
			return jp_fail(j, "bad IP address");
		return 0;
	case K_PORT:
		if (jp_int(j) == -1)
			return -1;
		if (j->num < 0 || j->num > 65535)
			return jp_fail(j, "port out of range");
		i = (int)j->num;
		memcpy(dst, &i, sizeof(i));
		return 0;
	case K_ID:
	case K_U64:
		if (jp_int(j) == -1)
			return -1;
		if (j->num < (k->type == K_ID ? 1 : 0))
			return jp_fail(j, "number out of range");
		if (k->type == K_ID)
			memcpy(dst, &j->num, sizeof(j->num));
		else {
			uint64_t u = (uint64_t)j->num;

			memcpy(dst, &u, sizeof(u));
		}
		return 0;
	case K_SEV:
	case K_STATUS:
	case K_LEVEL:
		if (jp_str_into(j, tmp, sizeof(tmp), "unknown severity or "
		    "status") == -1)
			return -1;
		i = name_index(k->type == K_STATUS ? status_names :
		    severity_names, tmp);
		if (i == -1)
			return jp_fail(j, k->type == K_STATUS ? "unknown status" :
			    "unknown severity or level");
		if (k->type == K_LEVEL)
			memcpy(dst, tmp, strlen(tmp) + 1);
		else
			memcpy(dst, &i, sizeof(i));
		return 0;
	case K_TAGS:
		return jp_list(j, a->tags[0], ALERT_TAG_LEN, ALERT_MAX_TAGS,
		    &a->ntags);
	case K_PARENTS:
		return jp_list(j, a->parents[0], ALERT_NAME_LEN,
		    ALERT_MAX_PARENTS, &a->nparents);
	}
	return jp_fail(j, "internal: unknown key type");
}

static const struct akey *
key_find(const char *s, size_t len, size_t *idx)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strlen(keys[i].name) == len &&
		    memcmp(keys[i].name, s, len) == 0) {
			*idx = i;
			return &keys[i];
		}
	return NULL;
}

/* The top-level object. */
static int
jp_alert(struct jp *j, struct soc_alert *a, uint64_t *seen)
{
	const struct akey *k;
	char key[64];
	size_t idx;

	jp_ws(j);
	if (j->p >= j->end || *j->p != '{')
		return jp_fail(j, "not a JSON object");
	j->p++;
	jp_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return 0;
	}
	for (;;) {
		jp_ws(j);
		if (j->p >= j->end || *j->p != '"' || jp_string(j) == -1)
			return jp_fail(j, "key expected");
		k = NULL;
		if (!j->slong && j->slen < sizeof(key)) {
			memcpy(key, j->str, j->slen + 1);
			k = key_find(key, j->slen, &idx);
		}
		jp_ws(j);
		if (j->p >= j->end || *j->p++ != ':')
			return jp_fail(j, "':' expected");
		if (k == NULL) {
			if (jp_skip(j, 1) == -1)
				return -1;
		} else {
			if (*seen & (1ull << idx))
				return jp_fail(j, "duplicate key");
			*seen |= 1ull << idx;
			jp_ws(j);
			if (!k->required && j->end - j->p >= 4 &&
			    memcmp(j->p, "null", 4) == 0)
				j->p += 4;	/* absent, as alert_init left it */
			else if (jp_assign(j, k, a) == -1)
				return -1;
		}
		jp_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return 0;
		}
		return jp_fail(j, "',' or '}' expected");
	}
}

int
alert_from_json(const void *buf, size_t len, struct soc_alert *out,
    const char **why)
{
	struct jp j;
	char id[ALERT_ID_LEN];
	uint64_t seen = 0;

	*why = NULL;
	if (len > ALERT_MAX_JSON) {
		*why = "alert larger than the limit";
		return -1;
	}
	memset(&j, 0, offsetof(struct jp, str));
	j.p = buf;
	j.end = j.p + len;
	alert_init(out);
	if (jp_alert(&j, out, &seen) == -1)
		goto fail;
	jp_ws(&j);
	if (j.p != j.end) {
		jp_fail(&j, "trailing bytes after the object");
		goto fail;
	}
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].required && !(seen & (1ull << i))) {
			jp_fail(&j, "a required field is missing (event.id, "
			    "event.start, event.end, rule.id, organization.id, "
			    "soc.alert.revision, soc.origin.*, "
			    "soc.incident.severity/status/count)");
			goto fail;
		}
	if (out->origin_name[0] == '\0' || out->origin_agency[0] == '\0' ||
	    out->agency[0] == '\0' || out->rule_id[0] == '\0') {
		jp_fail(&j, "an identifying field is empty");
		goto fail;
	}
	if (out->revision == 0) {
		jp_fail(&j, "revision 0 (revisions start at 1)");
		goto fail;
	}
	if (out->first_seen > out->last_seen) {
		jp_fail(&j, "first seen after last seen");
		goto fail;
	}
	memcpy(id, out->id, sizeof(id));
	if (alert_set_id(out) == -1 || strcmp(id, out->id) != 0) {
		jp_fail(&j, "event.id is not origin:incident:revision");
		goto fail;
	}
	return 0;
fail:
	*why = j.why != NULL ? j.why : "malformed alert";
	return -1;
}

/* ---- CEF ---- */

/* Escape for a CEF header field (hdr) or an extension value: valid UTF-8
 * passes, an invalid byte becomes U+FFFD, control bytes a space. */
static void
cef_escape(struct soc_sbuf *o, const char *s, bool hdr)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, run = 0, n;

	while (i < len) {
		unsigned char c = p[i];
		const char *e;

		if (c >= 0x80 && (n = utf8_seq(p + i, len - i)) > 0) {
			i += n;
			run += n;
			continue;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\' &&
		    c != (hdr ? '|' : '=')) {
			i++;
			run++;
			continue;
		}
		soc_sbuf_add(o, (const char *)p + i - run, run);
		run = 0;
		if (c == '\\')
			e = "\\\\";
		else if (c == '|')
			e = "\\|";
		else if (c == '=')
			e = "\\=";
		else if (c == '\n')
			e = hdr ? " " : "\\n";
		else if (c == '\r')
			e = hdr ? " " : "\\r";
		else if (c >= 0x80)
			e = "\xef\xbf\xbd";
		else
			e = " ";
		soc_sbuf_adds(o, e);
		i++;
	}
	soc_sbuf_add(o, (const char *)p + i - run, run);
}

static void
cef_kv(struct soc_sbuf *o, const char *k, const char *v)
{
	if (v[0] == '\0')
		return;
	soc_sbuf_printf(o, " %s=", k);
	cef_escape(o, v, false);
}

/* cs<n>Label=label cs<n>=v, only when v is set. */
static void
cef_custom(struct soc_sbuf *o, const char *k, const char *label, const char *v)
{
	if (v[0] == '\0')
		return;
	soc_sbuf_printf(o, " %sLabel=%s", k, label);
	cef_kv(o, k, v);
}

static void
cef_ip(struct soc_sbuf *o, const char *k4, const char *k6, const char *label6,
    const struct soc_ip *ip)
{
	char t[64];

	if (ip->family != 4 && ip->family != 6)
		return;
	soc_ip_format(ip, t, sizeof(t));
	if (ip->family == 4)
		cef_kv(o, k4, t);
	else
		cef_custom(o, k6, label6, t);
}

/* Rows of a 2-D buffer joined with ",". */
static void
cef_join(char *out, size_t outsz, const char *rows, size_t stride, int n)
{
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i < n && len < outsz; i++)
		len += (size_t)snprintf(out + len, outsz - len, "%s%.*s",
		    i ? "," : "", (int)stride, rows + (size_t)i * stride);
}

/* RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD */
static void
cef_syslog_header(struct soc_sbuf *o, const struct soc_alert *a,
    const char *hostname)
{
	int sev = a->severity >= 0 && a->severity < 5 ? a->severity : 0;
	int64_t ns = a->last_seen > 0 ? a->last_seen : 0;
	time_t secs = (time_t)(ns / 1000000000LL);
	struct tm tm;
	size_t n = 0;

	gmtime_r(&secs, &tm);
	soc_sbuf_printf(o, "<%d>1 %04d-%02d-%02dT%02d:%02d:%02d.%06ldZ ",
	    4 * 8 + syslog_severity[sev], tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (long)(ns % 1000000000LL / 1000));
	/* HOSTNAME is 1..255 printable US-ASCII */
	for (const char *h = hostname ? hostname : ""; *h && n < 255; h++, n++)
		soc_sbuf_add(o, *h > 32 && *h < 127 ? h : "_", 1);
	soc_sbuf_adds(o, n == 0 ? "- " : " ");
	soc_sbuf_adds(o, "soc-correlator - alert - ");
}

void
alert_to_cef(const struct soc_alert *a, const struct alert_fields *allowed,
    const char *hostname, struct soc_sbuf *o)
{
	int sev = a->severity >= 0 && a->severity < 5 ? a->severity : 0;
	char t[ALERT_MAX_TAGS * ALERT_TAG_LEN];

	cef_syslog_header(o, a, hostname);
	soc_sbuf_adds(o, "CEF:0|" ALERT_CEF_VENDOR "|" ALERT_CEF_PRODUCT "|");
	cef_escape(o, SOC_VERSION, true);
	soc_sbuf_adds(o, "|");
	cef_escape(o, a->rule_id, true);
	soc_sbuf_adds(o, "|");
	cef_escape(o, a->rule_title, true);
	soc_sbuf_printf(o, "|%d|", cef_severity[sev]);
	/* extension: externalId first, so a receiver dedupes cheaply */
	soc_sbuf_adds(o, "externalId=");
	cef_escape(o, a->id, false);
	soc_sbuf_printf(o, " rt=%lld start=%lld end=%lld cnt=%llu",
	    (long long)(a->last_seen / 1000000), (long long)(a->first_seen /
	    1000000), (long long)(a->last_seen / 1000000),
	    (unsigned long long)a->count);
	cef_kv(o, "cat", a->category);
	cef_kv(o, "msg", a->rule_title);
	if (allowed_field(allowed, ALERT_F_SOURCE_IP))
		cef_ip(o, "src", "c6a2", "sourceIPv6Address", &a->src_ip);
	if (allowed_field(allowed, ALERT_F_SOURCE_PORT) && a->src_port >= 0)
		soc_sbuf_printf(o, " spt=%d", a->src_port);
	if (allowed_field(allowed, ALERT_F_DEST_IP))
		cef_ip(o, "dst", "c6a3", "destinationIPv6Address", &a->dst_ip);
	if (allowed_field(allowed, ALERT_F_DEST_PORT) && a->dst_port >= 0)
		soc_sbuf_printf(o, " dpt=%d", a->dst_port);
	if (allowed_field(allowed, ALERT_F_USER_NAME))
		cef_kv(o, "suser", a->user_name);
	if (allowed_field(allowed, ALERT_F_URL))
		cef_kv(o, "request", a->url);
	if (allowed_field(allowed, ALERT_F_OBSERVER))
		cef_kv(o, "dvchost", a->sensor);
	cef_custom(o, "cs1", "ruleAuthor", a->rule_author);
	if (allowed_field(allowed, ALERT_F_DNS_NAME))
		cef_custom(o, "cs2", "dnsQuestionName", a->dns_name);
	cef_join(t, sizeof(t), a->tags[0], ALERT_TAG_LEN, a->ntags);
	cef_custom(o, "cs3", "tags", t);
	cef_custom(o, "cs4", "organizationId", a->agency);
	cef_custom(o, "cs5", "groupKey", a->group_key);
	cef_join(t, sizeof(t), a->parents[0], ALERT_NAME_LEN, a->nparents);
	cef_custom(o, "cs6", "organizationParents", t);
	cef_custom(o, "flexString1", "organizationName", a->agency_name);
	cef_custom(o, "flexString2", "status", alert_status_name(a->status));
	soc_sbuf_printf(o, " cn1Label=incidentId cn1=%lld"
	    " cn2Label=revision cn2=%llu", (long long)a->incident_id,
	    (unsigned long long)a->revision);
	cef_kv(o, "deviceExternalId", a->origin_name);
	soc_sbuf_adds(o, "\n");
}
