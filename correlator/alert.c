/*
 * Alert encodings out (see alert.h, docs/ALERTS.md); the decoder is in
 * alert-decode.c.  The JSON is one flat object with dotted ECS names, in
 * a fixed key order, so a receiver can index it as is and a diff of two
 * revisions reads line by line.
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
#include "alert.h"
#include "soc/json.h"
#include "soc/time.h"

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
	jlist(o, &first, "tags", a->tags[0], ALERT_TAG_LEN,
	    a->ntags < ALERT_MAX_TAGS ? a->ntags : ALERT_MAX_TAGS);
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
	    ALERT_NAME_LEN, a->nparents < ALERT_MAX_PARENTS ? a->nparents :
	    ALERT_MAX_PARENTS);
	jstr(o, &first, "soc.incident.severity", alert_severity_name(a->severity));
	jstr(o, &first, "soc.incident.status", alert_status_name(a->status));
	jstr(o, &first, "soc.incident.category", a->category);
	jkey(o, &first, "soc.incident.count");
	soc_sbuf_printf(o, "%llu", (unsigned long long)a->count);
	jstr(o, &first, "soc.incident.group_key", a->group_key);
	soc_sbuf_adds(o, "}");
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

		if (c >= 0x80 && (n = soc_utf8_seq(p + i, len - i)) > 0) {
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
	cef_join(t, sizeof(t), a->tags[0], ALERT_TAG_LEN,
	    a->ntags < ALERT_MAX_TAGS ? a->ntags : ALERT_MAX_TAGS);
	cef_custom(o, "cs3", "tags", t);
	cef_custom(o, "cs4", "organizationId", a->agency);
	cef_custom(o, "cs5", "groupKey", a->group_key);
	cef_join(t, sizeof(t), a->parents[0], ALERT_NAME_LEN,
	    a->nparents < ALERT_MAX_PARENTS ? a->nparents : ALERT_MAX_PARENTS);
	cef_custom(o, "cs6", "organizationParents", t);
	cef_custom(o, "flexString1", "organizationName", a->agency_name);
	cef_custom(o, "flexString2", "status", alert_status_name(a->status));
	soc_sbuf_printf(o, " cn1Label=incidentId cn1=%lld"
	    " cn2Label=revision cn2=%llu", (long long)a->incident_id,
	    (unsigned long long)a->revision);
	cef_kv(o, "deviceExternalId", a->origin_name);
	soc_sbuf_adds(o, "\n");
}
