/*
 * Alert decoder: alert_from_json() runs on the national side over bytes
 * from a province.  A small recursive descent parser written for hostile
 * input: it checks every byte against the end before reading it, bounds
 * depth, lengths and counts, and names what it refused.  Only valid UTF-8
 * (by the same definition as soc_sbuf_json_str()) gets into a struct
 * soc_alert, so what it decodes, alert_to_json() writes back byte for
 * byte (the fuzz target checks that).
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "soc/util.h"
#include "soc/time.h"
#include "alert.h"
#include "soc/json.h"

#define JP_MAX_DEPTH	8
#define JP_STR		(ALERT_URL_LEN + 8)	/* > every field buffer */

/* Index 0..4 of s among the names of severities or statuses, or -1. */
static int
name_index(const char *(*name)(int), const char *s)
{
	for (int i = 0; i < 5; i++)
		if (strcmp(name(i), s) == 0)
			return i;
	return -1;
}

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
	const char		*p, *end;
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
	j->p = soc_json_ws(j->p, j->end);
}

/* Decode a string into j->str, strictly (see soc_json_string). */
static int
jp_string(struct jp *j)
{
	const char *why = NULL;

	if (soc_json_string(&j->p, j->end, j->str, sizeof(j->str), &j->slen,
	    &j->slong, true, &why) == -1)
		return jp_fail(j, why);
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
		i = name_index(k->type == K_STATUS ? alert_status_name :
		    alert_severity_name, tmp);
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
