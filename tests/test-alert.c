/*
 * Alert encodings: the JSON round trip (every field back equal, and the
 * same bytes when written again), the forward.fields filter, refusal of
 * malformed or hostile JSON with a reason, and CEF lines checked by a
 * parser written here from the CEF specification (seven unescaped '|'
 * in the header, only the escapes the spec defines, externalId present)
 * for a rule title holding '|', '\', '=', a newline and Vietnamese text.
 */
#include <ctype.h>
#include <string.h>

#include "alert.h"
#include "check.h"

#define TITLE	"Dò quét mật khẩu | SSH \\ brute=force\nlần 2"
#define AGENCY	"Sở Thông tin và Truyền thông"

static struct soc_alert in, out;

static void
make_alert(struct soc_alert *a)
{
	alert_init(a);
	snprintf(a->origin_name, sizeof(a->origin_name), "lamdong-soc");
	snprintf(a->origin_agency, sizeof(a->origin_agency), "stttt");
	a->incident_id = 4711;
	a->revision = 3;
	snprintf(a->rule_id, sizeof(a->rule_id), "ssh-brute-force");
	snprintf(a->rule_title, sizeof(a->rule_title), "%s", TITLE);
	snprintf(a->rule_level, sizeof(a->rule_level), "high");
	snprintf(a->rule_author, sizeof(a->rule_author),
	    "Florian Roth (Nextron Systems), Nguyễn Văn A");
	snprintf(a->tags[0], ALERT_TAG_LEN, "attack.credential-access");
	snprintf(a->tags[1], ALERT_TAG_LEN, "attack.t1110");
	a->ntags = 2;
	snprintf(a->agency, sizeof(a->agency), "stttt");
	snprintf(a->agency_name, sizeof(a->agency_name), AGENCY);
	snprintf(a->parents[0], ALERT_NAME_LEN, "ubnd");
	snprintf(a->parents[1], ALERT_NAME_LEN, "lamdong");
	a->nparents = 2;
	a->severity = 3;
	a->status = 2;
	snprintf(a->category, sizeof(a->category), "intrusion-attempt");
	a->first_seen = 1764215000123456789LL;
	a->last_seen = 1764215060987654321LL;
	a->count = 37;
	snprintf(a->group_key, sizeof(a->group_key), "source.ip=203.0.113.7");
	soc_ip_parse("203.0.113.7", 11, &a->src_ip);
	soc_ip_parse("2001:db8::1", 11, &a->dst_ip);
	a->src_port = 50022;
	a->dst_port = 22;
	snprintf(a->user_name, sizeof(a->user_name), "root");
	snprintf(a->url, sizeof(a->url), "http://portal.example.vn/a?x=1&y=\"2\"");
	snprintf(a->dns_name, sizeof(a->dns_name), "portal.example.vn");
	snprintf(a->sensor, sizeof(a->sensor), "gw1");
	alert_set_id(a);
}

/* Field by field, so a failure names the field. */
static void
check_same(const struct soc_alert *a, const struct soc_alert *b)
{
	CHECK_STR(b->id, a->id);
	CHECK_STR(b->origin_name, a->origin_name);
	CHECK_STR(b->origin_agency, a->origin_agency);
	CHECK_INT(b->incident_id, a->incident_id);
	CHECK_INT(b->revision, a->revision);
	CHECK_STR(b->rule_id, a->rule_id);
	CHECK_STR(b->rule_title, a->rule_title);
	CHECK_STR(b->rule_level, a->rule_level);
	CHECK_STR(b->rule_author, a->rule_author);
	CHECK_INT(b->ntags, a->ntags);
	for (int i = 0; i < a->ntags && i < b->ntags; i++)
		CHECK_STR(b->tags[i], a->tags[i]);
	CHECK_STR(b->agency, a->agency);
	CHECK_STR(b->agency_name, a->agency_name);
	CHECK_INT(b->nparents, a->nparents);
	for (int i = 0; i < a->nparents && i < b->nparents; i++)
		CHECK_STR(b->parents[i], a->parents[i]);
	CHECK_INT(b->severity, a->severity);
	CHECK_INT(b->status, a->status);
	CHECK_STR(b->category, a->category);
	CHECK_INT(b->first_seen, a->first_seen);
	CHECK_INT(b->last_seen, a->last_seen);
	CHECK_INT(b->count, a->count);
	CHECK_STR(b->group_key, a->group_key);
	CHECK_INT(b->src_ip.family, a->src_ip.family);
	CHECK(a->src_ip.family == 0 || soc_ip_equal(&b->src_ip, &a->src_ip));
	CHECK_INT(b->dst_ip.family, a->dst_ip.family);
	CHECK(a->dst_ip.family == 0 || soc_ip_equal(&b->dst_ip, &a->dst_ip));
	CHECK_INT(b->src_port, a->src_port);
	CHECK_INT(b->dst_port, a->dst_port);
	CHECK_STR(b->user_name, a->user_name);
	CHECK_STR(b->url, a->url);
	CHECK_STR(b->dns_name, a->dns_name);
	CHECK_STR(b->sensor, a->sensor);
}

static void
test_json_roundtrip(void)
{
	struct alert_fields all;
	struct soc_sbuf j1, j2;
	const char *why = NULL;

	alert_fields_all(&all);
	soc_sbuf_init(&j1);
	soc_sbuf_init(&j2);
	make_alert(&in);
	CHECK_STR(in.id, "lamdong-soc:4711:3");
	alert_to_json(&in, &all, &j1);
	CHECK(!j1.oom);
	CHECK(alert_from_json(j1.data, j1.len, &out, &why) == 0);
	if (why != NULL)
		fprintf(stderr, "refused: %s\n%.*s\n", why, (int)j1.len, j1.data);
	check_same(&in, &out);
	alert_to_json(&out, &all, &j2);
	CHECK(j1.len == j2.len && memcmp(j1.data, j2.data, j1.len) == 0);
	/* ECS names as documented in docs/ALERTS.md */
	soc_sbuf_add(&j1, "", 1);
	CHECK(strstr(j1.data, "\"@timestamp\":\"2025-11-27T03:44:20.987654321Z\"") != NULL);
	CHECK(strstr(j1.data, "\"event.id\":\"lamdong-soc:4711:3\"") != NULL);
	CHECK(strstr(j1.data, "\"rule.author\":\"Florian Roth") != NULL);
	CHECK(strstr(j1.data, "\"tags\":[\"attack.credential-access\",\"attack.t1110\"]") != NULL);
	CHECK(strstr(j1.data, "\"organization.name\":\"" AGENCY "\"") != NULL);
	CHECK(strstr(j1.data, "\"destination.ip\":\"2001:db8::1\"") != NULL);
	CHECK(strstr(j1.data, "\"soc.organization.parents\":[\"ubnd\",\"lamdong\"]") != NULL);
	CHECK(strstr(j1.data, "\"soc.incident.status\":\"investigating\"") != NULL);

	/* a minimal alert: absent fields stay absent */
	alert_init(&in);
	snprintf(in.origin_name, sizeof(in.origin_name), "p");
	snprintf(in.origin_agency, sizeof(in.origin_agency), "a");
	snprintf(in.rule_id, sizeof(in.rule_id), "r");
	snprintf(in.agency, sizeof(in.agency), "a");
	in.incident_id = 1;
	in.revision = 1;
	alert_set_id(&in);
	soc_sbuf_reset(&j1);
	alert_to_json(&in, &all, &j1);
	CHECK(alert_from_json(j1.data, j1.len, &out, &why) == 0);
	check_same(&in, &out);
	soc_sbuf_free(&j1);
	soc_sbuf_free(&j2);
}

static void
test_fields(void)
{
	struct alert_fields f;
	struct soc_sbuf j;
	const char *why = NULL;

	soc_sbuf_init(&j);
	make_alert(&in);
	/* the default keeps private data of connected parties at home */
	alert_to_json(&in, NULL, &j);
	CHECK(alert_from_json(j.data, j.len, &out, &why) == 0);
	CHECK_STR(out.user_name, "");
	CHECK_STR(out.sensor, "");
	CHECK(soc_ip_equal(&out.src_ip, &in.src_ip));
	CHECK_INT(out.dst_port, 22);
	CHECK_STR(out.url, in.url);
	CHECK_STR(out.dns_name, in.dns_name);
	CHECK_STR(out.rule_author, in.rule_author);	/* never filtered */

	CHECK(alert_fields_parse(&f, "user.name, observer.name", &why) == 0);
	soc_sbuf_reset(&j);
	alert_to_json(&in, &f, &j);
	CHECK(alert_from_json(j.data, j.len, &out, &why) == 0);
	CHECK_STR(out.user_name, "root");
	CHECK_STR(out.sensor, "gw1");
	CHECK_INT(out.src_ip.family, 0);
	CHECK_INT(out.src_port, -1);
	CHECK_STR(out.url, "");

	CHECK(alert_fields_parse(&f, "", &why) == 0);
	CHECK_INT(f.mask, 0);
	CHECK(alert_fields_parse(&f, "source.ip\tdestination.ip", &why) == 0);
	CHECK_INT(f.mask, 1u << ALERT_F_SOURCE_IP | 1u << ALERT_F_DEST_IP);
	CHECK(alert_fields_parse(&f, "source.ip,user.email", &why) == -1);
	CHECK_INT(f.mask, 1u << ALERT_F_SOURCE_IP | 1u << ALERT_F_DEST_IP);
	CHECK_STR(alert_field_name(ALERT_F_DNS_NAME), "dns.question.name");

	/* CEF obeys the same filter */
	soc_sbuf_reset(&j);
	alert_to_cef(&in, NULL, "corr1", &j);
	soc_sbuf_add(&j, "", 1);
	CHECK(strstr(j.data, " suser=") == NULL);
	CHECK(strstr(j.data, " dvchost=") == NULL);
	CHECK(strstr(j.data, " src=203.0.113.7") != NULL);
	soc_sbuf_free(&j);
}

struct bad {
	const char	*json;
	const char	*why;		/* NULL: any reason */
};

#define OK_HEAD	"{\"event.id\":\"p:1:1\",\"event.start\":\"2026-01-01T00:00:00Z\"," \
	"\"event.end\":\"2026-01-01T00:00:01Z\",\"rule.id\":\"r\"," \
	"\"organization.id\":\"a\",\"soc.alert.revision\":1," \
	"\"soc.origin.name\":\"p\",\"soc.origin.agency\":\"a\"," \
	"\"soc.origin.incident_id\":1,\"soc.incident.severity\":\"low\"," \
	"\"soc.incident.status\":\"new\",\"soc.incident.count\":1"

static const struct bad bads[] = {
	{ "", "not a JSON object" },
	{ "[]", "not a JSON object" },
	{ OK_HEAD "}x", "trailing bytes after the object" },
	{ OK_HEAD ",\"rule.id\":\"s\"}", "duplicate key" },
	{ "{\"event.id\":\"p:1:1\"}", NULL },	/* missing fields */
	{ OK_HEAD ",\"source.ip\":\"300.1.1.1\"}", "bad IP address" },
	{ OK_HEAD ",\"source.port\":70000}", "port out of range" },
	{ OK_HEAD ",\"source.port\":-1}", "port out of range" },
	{ OK_HEAD ",\"source.port\":22.5}", "an integer was expected" },
	{ OK_HEAD ",\"source.port\":\"22\"}", "a number was expected" },
	{ OK_HEAD ",\"user.name\":\"a\\u0000b\"}", "NUL in a string" },
	{ OK_HEAD ",\"user.name\":\"\\ud800\"}", "lone surrogate in a string" },
	{ OK_HEAD ",\"user.name\":\"\xff\"}", "string is not valid UTF-8" },
	{ OK_HEAD ",\"user.name\":\"\xc0\xaf\"}", "string is not valid UTF-8" },
	{ OK_HEAD ",\"user.name\":\"a\nb\"}", "control character in a string" },
	{ OK_HEAD ",\"user.name\":\"\\x\"}", "bad escape in a string" },
	{ OK_HEAD ",\"user.name\":12}", "a string was expected" },
	{ OK_HEAD ",\"soc.rule.level\":\"severe\"}", "unknown severity or level" },
	{ OK_HEAD ",\"tags\":[\"a\",1]}", "a string was expected" },
	{ OK_HEAD ",\"x\":[[[[[[[[[[1]]]]]]]]]]}", "nested too deep" },
	{ OK_HEAD ",\"x\":01}", "',' or '}' expected" },
	{ OK_HEAD ",\"x\":tru}", "bad literal" },
	{ OK_HEAD ",\"x\":1e}", "bad number" },
	{ OK_HEAD ",\"x\":\"abc}", "unterminated string" },
	{ OK_HEAD ",\"soc.incident.count\":1}", "duplicate key" },
	{ OK_HEAD ",\"x\" 1}", "':' expected" },
};

static void
test_refusals(void)
{
	char buf[4096];
	const char *why;
	size_t n, len;
	int i;

	for (i = 0; i < (int)(sizeof(bads) / sizeof(bads[0])); i++) {
		why = NULL;
		CHECK_INT(alert_from_json(bads[i].json, strlen(bads[i].json),
		    &out, &why), -1);
		if (bads[i].why != NULL)
			CHECK_STR(why, bads[i].why);
		else
			CHECK(why != NULL);
	}
	/* field-level refusals, from the valid head with one value changed */
	static const struct { const char *from, *to, *why; } subs[] = {
		{ "\"p:1:1\"", "\"p:1:2\"", "event.id is not origin:incident:revision" },
		{ "revision\":1", "revision\":0", "revision 0 (revisions start at 1)" },
		{ "incident_id\":1", "incident_id\":0", "number out of range" },
		{ "count\":1", "count\":18446744073709551616", "an integer was expected" },
		{ "00:00:01Z", "00:00:01+25", "bad time (RFC 3339, 1970 to 2261)" },
		{ "00:00:01Z", "xx", "bad time (RFC 3339, 1970 to 2261)" },
		{ "2026-01-01T00:00:01Z", "2025-01-01T00:00:01Z", "first seen after last seen" },
		{ "\"new\"", "\"closed\"", "unknown status" },
		{ "\"low\"", "\"LOW\"", "unknown severity or level" },
		{ "\"rule.id\":\"r\"", "\"rule.id\":\"\"", "an identifying field is empty" },
		{ "\"soc.origin.name\":\"p\"", "\"soc.origin.name\":null", "a string was expected" },
	};
	for (i = 0; i < (int)(sizeof(subs) / sizeof(subs[0])); i++) {
		const char *at = strstr(OK_HEAD "}", subs[i].from);

		CHECK(at != NULL);
		if (at == NULL)
			continue;
		n = (size_t)(at - (OK_HEAD "}"));
		len = (size_t)snprintf(buf, sizeof(buf), "%.*s%s%s", (int)n,
		    OK_HEAD "}", subs[i].to, at + strlen(subs[i].from));
		why = NULL;
		CHECK_INT(alert_from_json(buf, len, &out, &why), -1);
		CHECK_STR(why, subs[i].why);
	}
	/* too long: a value one byte over its buffer */
	len = (size_t)snprintf(buf, sizeof(buf), OK_HEAD ",\"observer.name\":\"%0*d\"}",
	    ALERT_NAME_LEN, 0);
	CHECK_INT(alert_from_json(buf, len, &out, &why), -1);
	CHECK_STR(why, "string value too long");
	len = (size_t)snprintf(buf, sizeof(buf), OK_HEAD ",\"observer.name\":\"%0*d\"}",
	    ALERT_NAME_LEN - 1, 0);
	CHECK_INT(alert_from_json(buf, len, &out, &why), 0);
	/* unknown keys of any shape are skipped; null means absent */
	len = (size_t)snprintf(buf, sizeof(buf), OK_HEAD ",\"x.y\":{\"a\":[1,-2.5e3,"
	    "{\"b\":null}],\"c\":true},\"user.name\":null,\"z\":\"\\u00e0\"}");
	CHECK_INT(alert_from_json(buf, len, &out, &why), 0);
	CHECK_STR(out.user_name, "");
	CHECK_INT(out.count, 1);
	/* larger than the limit */
	CHECK_INT(alert_from_json(buf, ALERT_MAX_JSON + 1, &out, &why), -1);
	CHECK_STR(why, "alert larger than the limit");
	/* every truncation of a valid alert is refused, none crashes */
	len = (size_t)snprintf(buf, sizeof(buf), "%s}", OK_HEAD);
	CHECK_INT(alert_from_json(buf, len, &out, &why), 0);
	for (n = 0; n < len; n++) {
		why = NULL;
		CHECK(alert_from_json(buf, n, &out, &why) == -1 && why != NULL);
	}
}

/* ---- A CEF parser from the specification ---- */

#define CEF_MAX_KV	64

struct cef {
	char	hdr[7][1024];		/* CEF:0, vendor ... severity */
	char	key[CEF_MAX_KV][64];
	char	val[CEF_MAX_KV][2048];
	int	nkv;
	int	pipes;			/* unescaped '|' seen in the header */
};

static const char *
cef_get(const struct cef *c, const char *k)
{
	for (int i = 0; i < c->nkv; i++)
		if (strcmp(c->key[i], k) == 0)
			return c->val[i];
	return NULL;
}

/* A key starts at s: [A-Za-z0-9_]+ followed by '='.  Its length or 0. */
static size_t
cef_keylen(const char *s)
{
	size_t n = 0;

	while (isalnum((unsigned char)s[n]) || s[n] == '_')
		n++;
	return n > 0 && s[n] == '=' ? n : 0;
}

/* Returns 0, or -1 with a reason on stderr. */
static int
cef_parse(const char *line, size_t len, struct cef *c)
{
	const char *p, *end = line + len;
	size_t n = 0, kl;
	int f = 0;

	memset(c, 0, sizeof(*c));
	if (len == 0 || line[len - 1] != '\n' || memchr(line, '\n', len - 1) ||
	    memchr(line, '\r', len)) {
		fprintf(stderr, "cef: not one newline-terminated line\n");
		return -1;
	}
	end--;
	/* RFC 5424: <PRI>VERSION SP TIMESTAMP SP HOST SP APP SP PROCID SP MSGID SP SD SP */
	if (line[0] != '<' || (p = strstr(line, "CEF:")) == NULL) {
		fprintf(stderr, "cef: no syslog header or no CEF\n");
		return -1;
	}
	for (const char *q = line; q < p; q++)
		n += *q == ' ';
	if (n != 7 || strncmp(strchr(line, '>'), ">1 ", 3) != 0) {
		fprintf(stderr, "cef: syslog header has %zu fields\n", n);
		return -1;
	}
	/* header: '|' separates, only \| and \\ are escapes */
	n = 0;
	for (; p < end && c->pipes < 7; p++) {
		if (*p == '\\') {
			if (p + 1 >= end || (p[1] != '|' && p[1] != '\\')) {
				fprintf(stderr, "cef: bad escape in header\n");
				return -1;
			}
			p++;
		} else if (*p == '|') {
			c->pipes++;
			f++;
			n = 0;
			continue;
		}
		if (f < 7 && n + 1 < sizeof(c->hdr[0]))
			c->hdr[f][n++] = *p;
	}
	if (c->pipes != 7) {
		fprintf(stderr, "cef: %d unescaped '|' in the header\n", c->pipes);
		return -1;
	}
	/* extension: key=value, space separated; \\ \= \n \r in values */
	while (p < end) {
		if ((kl = cef_keylen(p)) == 0 || kl >= sizeof(c->key[0]) ||
		    c->nkv == CEF_MAX_KV) {
			fprintf(stderr, "cef: key expected at \"%.20s\"\n", p);
			return -1;
		}
		memcpy(c->key[c->nkv], p, kl);
		p += kl + 1;
		n = 0;
		while (p < end) {
			char ch = *p;

			if (ch == ' ' && cef_keylen(p + 1) > 0) {
				p++;
				break;
			}
			if (ch == '=') {
				fprintf(stderr, "cef: unescaped '=' in a value\n");
				return -1;
			}
			if (ch == '\\') {
				if (p + 1 >= end) {
					fprintf(stderr, "cef: dangling '\\'\n");
					return -1;
				}
				switch (p[1]) {
				case '\\': ch = '\\'; break;
				case '=': ch = '='; break;
				case 'n': ch = '\n'; break;
				case 'r': ch = '\r'; break;
				default:
					fprintf(stderr, "cef: bad escape \\%c\n", p[1]);
					return -1;
				}
				p++;
			}
			if (n + 1 < sizeof(c->val[0]))
				c->val[c->nkv][n++] = ch;
			p++;
		}
		c->nkv++;
	}
	return 0;
}

static void
test_cef(void)
{
	static struct cef c;
	struct alert_fields all;
	struct soc_sbuf o;
	const char *v;

	soc_sbuf_init(&o);
	alert_fields_all(&all);
	make_alert(&in);
	alert_to_cef(&in, &all, "corr 1", &o);
	CHECK(!o.oom);
	CHECK_INT(cef_parse(o.data, o.len, &c), 0);
	CHECK_INT(c.pipes, 7);
	CHECK(strncmp(o.data, "<35>1 2025-11-27T03:44:20.987654Z corr_1 "
	    "soc-correlator - alert - CEF:0|", 64) == 0);
	CHECK_STR(c.hdr[0], "CEF:0");
	CHECK_STR(c.hdr[1], ALERT_CEF_VENDOR);
	CHECK_STR(c.hdr[2], ALERT_CEF_PRODUCT);
	CHECK_STR(c.hdr[4], "ssh-brute-force");
	/* the header cannot hold a newline: it became a space */
	CHECK_STR(c.hdr[5], "Dò quét mật khẩu | SSH \\ brute=force lần 2");
	CHECK_STR(c.hdr[6], "8");
	CHECK_STR(cef_get(&c, "externalId"), "lamdong-soc:4711:3");
	CHECK_STR(cef_get(&c, "msg"), TITLE);
	CHECK_STR(cef_get(&c, "rt"), "1764215060987");
	CHECK_STR(cef_get(&c, "start"), "1764215000123");
	CHECK_STR(cef_get(&c, "end"), "1764215060987");
	CHECK_STR(cef_get(&c, "cnt"), "37");
	CHECK_STR(cef_get(&c, "cat"), "intrusion-attempt");
	CHECK_STR(cef_get(&c, "src"), "203.0.113.7");
	CHECK_STR(cef_get(&c, "spt"), "50022");
	CHECK(cef_get(&c, "dst") == NULL);		/* IPv6 goes to c6a3 */
	CHECK_STR(cef_get(&c, "c6a3"), "2001:db8::1");
	CHECK_STR(cef_get(&c, "c6a3Label"), "destinationIPv6Address");
	CHECK_STR(cef_get(&c, "dpt"), "22");
	CHECK_STR(cef_get(&c, "suser"), "root");
	CHECK_STR(cef_get(&c, "request"), in.url);
	CHECK_STR(cef_get(&c, "dvchost"), "gw1");
	CHECK_STR(cef_get(&c, "cs1Label"), "ruleAuthor");
	CHECK_STR(cef_get(&c, "cs1"), in.rule_author);
	CHECK_STR(cef_get(&c, "cs2"), "portal.example.vn");
	CHECK_STR(cef_get(&c, "cs3"), "attack.credential-access,attack.t1110");
	CHECK_STR(cef_get(&c, "cs4"), "stttt");
	CHECK_STR(cef_get(&c, "cs5"), "source.ip=203.0.113.7");
	CHECK_STR(cef_get(&c, "cs6"), "ubnd,lamdong");
	CHECK_STR(cef_get(&c, "flexString1"), AGENCY);
	CHECK_STR(cef_get(&c, "flexString2"), "investigating");
	CHECK_STR(cef_get(&c, "cn1"), "4711");
	CHECK_STR(cef_get(&c, "cn2"), "3");
	CHECK_STR(cef_get(&c, "deviceExternalId"), "lamdong-soc");

	/* hostile text in every string: still one parseable line */
	snprintf(in.rule_id, sizeof(in.rule_id), "a|b\\c\r\n=");
	snprintf(in.url, sizeof(in.url), " x=y \\n z\\");
	snprintf(in.user_name, sizeof(in.user_name), "bad\xff utf8\x01");
	snprintf(in.group_key, sizeof(in.group_key), "k= v");
	soc_sbuf_reset(&o);
	alert_to_cef(&in, &all, NULL, &o);
	CHECK_INT(cef_parse(o.data, o.len, &c), 0);
	CHECK_STR(c.hdr[4], "a|b\\c  =");
	CHECK_STR(cef_get(&c, "request"), in.url);
	CHECK_STR(cef_get(&c, "suser"), "bad\xef\xbf\xbd utf8 ");
	CHECK_STR(cef_get(&c, "cs5"), "k= v");
	CHECK((v = strstr(o.data, " - soc-correlator ")) != NULL);
	soc_sbuf_free(&o);
}

int
main(void)
{
	test_json_roundtrip();
	test_fields();
	test_refusals();
	test_cef();
	return check_done();
}
