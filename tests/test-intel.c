/*
 * Indicators: value normalization and refusals, the matcher (longest
 * prefix for addresses, the suffix walk for domains, case-insensitive
 * digests, expiry, duplicates), an event's fields, the file readers
 * (typed list, STIX patterns, MISP events and manifests, hostile JSON),
 * and the store round trip the correlator's loader makes, on its thread.
 */
#include <unistd.h>

#include "soc/event.h"
#include "soc/util.h"
#include "check.h"
#include "fixture.h"
#include "intel.h"
#include "intel-load.h"
#include "intel-parse.h"
#include "store.h"
#include "store-intel.h"

static void
test_normalize(void)
{
	static const struct {
		int		 type;
		const char	*in;
		int		 force;
		const char	*want;	/* NULL: refused */
		int		 wtype;
	} t[] = {
		{ INTEL_IP, "10.1.2.3", 0, "10.1.2.3", INTEL_IP },
		{ INTEL_IP, " 10.1.2.3\t", 0, "10.1.2.3", INTEL_IP },
		{ INTEL_IP, "10.1.2.3/24", 0, "10.1.2.0/24", INTEL_CIDR },
		{ INTEL_CIDR, "10.1.2.3/32", 0, "10.1.2.3", INTEL_IP },
		{ INTEL_CIDR, "0.0.0.0/0", 1, NULL, 0 },
		{ INTEL_CIDR, "::/0", 1, NULL, 0 },
		{ INTEL_CIDR, "10.0.0.0/8", 0, NULL, 0 },
		{ INTEL_CIDR, "10.0.0.0/8", 1, "10.0.0.0/8", INTEL_CIDR },
		{ INTEL_CIDR, "10.0.0.0/33", 1, NULL, 0 },
		{ INTEL_CIDR, "10.0.0.0/", 1, NULL, 0 },
		{ INTEL_IP, "2001:DB8::1/128", 0, "2001:db8::1", INTEL_IP },
		{ INTEL_CIDR, "2001:db8::/16", 0, NULL, 0 },
		{ INTEL_CIDR, "2001:db8:1::/48", 0, "2001:db8:1::/48", INTEL_CIDR },
		{ INTEL_IP, "300.1.1.1", 0, NULL, 0 },
		{ INTEL_DOMAIN, "Evil.Example.", 0, "evil.example", INTEL_DOMAIN },
		{ INTEL_DOMAIN, "*.evil.example", 0, "evil.example", INTEL_DOMAIN },
		{ INTEL_DOMAIN, "com", 0, NULL, 0 },
		{ INTEL_DOMAIN, "com", 1, "com", INTEL_DOMAIN },
		{ INTEL_DOMAIN, ".", 1, NULL, 0 },
		{ INTEL_DOMAIN, "com.vn", 0, NULL, 0 },
		{ INTEL_DOMAIN, "a..b", 1, NULL, 0 },
		{ INTEL_DOMAIN, "a b.example", 1, NULL, 0 },
		{ INTEL_HOST, "localhost", 0, "localhost", INTEL_HOST },
		{ INTEL_MD5, "D41D8CD98F00B204E9800998ECF8427E", 0,
		    "d41d8cd98f00b204e9800998ecf8427e", INTEL_MD5 },
		{ INTEL_SHA1, "d41d8cd98f00b204e9800998ecf8427e", 0, NULL, 0 },
		{ INTEL_X509, "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01",
		    0, "abcdef0123456789abcdef0123456789abcdef01", INTEL_X509 },
		{ INTEL_URL, "HTTPS://Evil.Example", 0, "evil.example/", INTEL_URL },
		{ INTEL_URL, "http://Evil.Example/A.php?x=1#frag", 0,
		    "evil.example/A.php?x=1", INTEL_URL },
		{ INTEL_URL, "http:///x", 0, NULL, 0 },
		{ INTEL_EMAIL, "Bad@Evil.Example", 0, "bad@evil.example", INTEL_EMAIL },
		{ INTEL_EMAIL, "a@b@c", 0, NULL, 0 },
		{ INTEL_JA4, "t13d1516h2_8daaf6152771_B186095E22B6", 0,
		    "t13d1516h2_8daaf6152771_b186095e22b6", INTEL_JA4 },
		{ INTEL_JA4, "t13d;rm", 0, NULL, 0 },
	};
	char out[INTEL_VALUE_MAX];
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int type = t[i].type, rc;

		why = NULL;
		rc = intel_normalize(&type, t[i].in, strlen(t[i].in), t[i].force,
		    out, sizeof(out), &why);
		if (t[i].want == NULL) {
			if (rc != -1 || why == NULL)
				fprintf(stderr, "case %zu (%s) not refused\n", i,
				    t[i].in);
			CHECK(rc == -1 && why != NULL);
			continue;
		}
		CHECK_INT(rc, 0);
		if (rc == 0) {
			CHECK_STR(out, t[i].want);
			CHECK_INT(type, t[i].wtype);
		}
	}
}

static void
add(struct intel_builder *b, int type, const char *v, const char *src,
    int conf, int64_t expires)
{
	struct intel_ind ind = { .type = type, .value = v, .source = src,
	    .tags = "t1,t2", .confidence = conf, .expires = expires };

	CHECK_INT(intel_builder_add(b, &ind), 0);
}

static int
look(const struct intel_set *s, const char *v, int64_t now, const char **val,
    const char **src)
{
	struct intel_ind ind;

	if (!intel_lookup_any(s, v, strlen(v), now, &ind))
		return 0;
	*val = ind.value;
	*src = ind.source;
	return 1;
}

struct hitlog {
	char	 got[512];
};

static void
on_hit(void *arg, const struct intel_ind *ind, const char *field)
{
	struct hitlog *h = arg;
	size_t n = strlen(h->got);

	snprintf(h->got + n, sizeof(h->got) - n, "%s%s=%s", n ? ";" : "",
	    field, ind->value);
}

static void
test_matcher(void)
{
	struct intel_builder *b = intel_builder_new();
	struct intel_set *s;
	struct soc_event *ev;
	struct hitlog h;
	const char *v = NULL, *src = NULL;
	int64_t now = 1000000000000LL;
	uint8_t a4[4] = { 10, 1, 2, 3 }, a4b[4] = { 192, 0, 2, 1 };

	add(b, INTEL_CIDR, "10.1.0.0/16", "A", 30, 0);
	add(b, INTEL_CIDR, "10.1.2.0/24", "B", 80, 0);
	add(b, INTEL_IP, "10.1.2.3", "C", 50, 0);
	add(b, INTEL_CIDR, "2001:db8:1::/48", "V6", 50, 0);
	add(b, INTEL_DOMAIN, "evil.example", "D", 50, 0);
	add(b, INTEL_HOST, "www.bad.test", "H", 50, 0);
	add(b, INTEL_MD5, "d41d8cd98f00b204e9800998ecf8427e", "M", 50, 0);
	add(b, INTEL_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "S", 50, 0);
	add(b, INTEL_IP, "192.0.2.1", "E1", 50, now + 1000);
	/* a duplicate with a later expiry and the same confidence wins */
	add(b, INTEL_IP, "192.0.2.1", "E2", 50, now + 5000);
	/* ... and one with a lower confidence does not */
	add(b, INTEL_IP, "192.0.2.1", "E3", 10, 0);
	add(b, INTEL_URL, "evil.example/x.php", "U", 50, 0);
	add(b, INTEL_EMAIL, "bad@evil.example", "EM", 50, 0);
	CHECK((s = intel_builder_finish(b, 7)) != NULL);
	if (s == NULL)
		return;
	CHECK_INT(intel_set_count(s), 11);
	CHECK_INT(intel_set_version(s), 7);

	/* longest prefix wins */
	CHECK(look(s, "10.1.2.3", now, &v, &src) && strcmp(src, "C") == 0);
	CHECK(look(s, "10.1.2.4", now, &v, &src) && strcmp(src, "B") == 0);
	CHECK(look(s, "10.1.9.9", now, &v, &src) && strcmp(src, "A") == 0);
	CHECK(!look(s, "10.2.0.1", now, &v, &src));
	CHECK(look(s, "2001:db8:1:ffff::7", now, &v, &src) &&
	    strcmp(v, "2001:db8:1::/48") == 0);
	CHECK(!look(s, "2001:db8:2::7", now, &v, &src));

	/* the suffix walk: the name and below, at label boundaries */
	CHECK(look(s, "evil.example", now, &v, &src) && strcmp(src, "D") == 0);
	CHECK(look(s, "A.B.Evil.Example.", now, &v, &src) && strcmp(src, "D") == 0);
	CHECK(!look(s, "notevil.example", now, &v, &src));
	CHECK(!look(s, "example", now, &v, &src));
	/* a host is that name only */
	CHECK(look(s, "WWW.bad.test", now, &v, &src) && strcmp(src, "H") == 0);
	CHECK(!look(s, "x.www.bad.test", now, &v, &src));
	CHECK(!look(s, "bad.test", now, &v, &src));

	/* digests in any case */
	CHECK(look(s, "D41D8CD98F00B204E9800998ECF8427E", now, &v, &src) &&
	    strcmp(src, "M") == 0);
	CHECK(!look(s, "d41d8cd98f00b204e9800998ecf8427f", now, &v, &src));

	/* expiry: the duplicate's later one, then nothing */
	CHECK(look(s, "192.0.2.1", now + 2000, &v, &src) && strcmp(src, "E2") == 0);
	CHECK(!look(s, "192.0.2.1", now + 5000, &v, &src));

	/* an event: addresses, names, URL path + host, Sysmon hashes */
	ev = calloc(1, sizeof(*ev));
	soc_event_reset(ev);
	soc_event_set_ip4(ev, SOC_F_SOURCE_IP, a4);
	soc_event_set_ip4(ev, SOC_F_DEST_IP, a4b);
	soc_event_set_cstr(ev, SOC_F_DNS_QNAME, "cdn.evil.example");
	soc_event_set_cstr(ev, SOC_F_URL_DOMAIN, "Evil.Example");
	soc_event_set_cstr(ev, SOC_F_URL_ORIGINAL, "/x.php");
	soc_event_set_cstr(ev, SOC_F_USER_NAME, "Bad@Evil.Example");
	soc_event_set_cstr(ev, SOC_F_MESSAGE, "Hashes: SHA1=aaaa,MD5="
	    "D41D8CD98F00B204E9800998ECF8427E,SHA256=E3B0C44298FC1C149AFBF4C8"
	    "996FB92427AE41E4649B934CA495991B7852B855x IMPHASH=00");
	memset(&h, 0, sizeof(h));
	CHECK_INT(intel_match_event(s, ev, now, on_hit, &h), 6);
	/* the SHA-256 run is glued to an "x": not a digest on its own */
	CHECK_STR(h.got, "source.ip=10.1.2.3;destination.ip=192.0.2.1;"
	    "dns.question.name=evil.example;url.original=evil.example/x.php;"
	    "user.name=bad@evil.example;"
	    "message=d41d8cd98f00b204e9800998ecf8427e");
	/* the same indicator in two fields is one hit */
	soc_event_reset(ev);
	soc_event_set_cstr(ev, SOC_F_DNS_QNAME, "evil.example");
	soc_event_set_cstr(ev, SOC_F_TLS_SNI, "www.evil.example");
	soc_event_set_cstr(ev, SOC_F_DNS_ANSWERS, "10.1.9.9,198.51.100.1");
	soc_event_set_cstr(ev, SOC_F_MESSAGE, "MD5=d41d8cd98f00b204e9800998ecf8427e");
	memset(&h, 0, sizeof(h));
	CHECK_INT(intel_match_event(s, ev, now, on_hit, &h), 3);
	CHECK_STR(h.got, "dns.question.name=evil.example;"
	    "dns.answers.data=10.1.0.0/16;message=d41d8cd98f00b204e9800998ecf8427e");
	free(ev);
	intel_set_free(s);

	/* an empty set matches nothing and costs nothing */
	s = intel_builder_finish(intel_builder_new(), 0);
	CHECK(s != NULL && !look(s, "10.1.2.3", now, &v, &src));
	intel_set_free(s);
}

/* A million-address set stays a hash: the prefix lengths are few. */
static void
test_many(void)
{
	struct intel_builder *b = intel_builder_new();
	struct intel_set *s;
	char v[32];
	const char *val, *src;
	int i;

	for (i = 0; i < 200000; i++) {
		snprintf(v, sizeof(v), "10.%d.%d.%d", (i >> 16) & 255,
		    (i >> 8) & 255, i & 255);
		add(b, INTEL_IP, v, "bulk", 50, 0);
	}
	s = intel_builder_finish(b, 1);
	CHECK_INT(intel_set_count(s), 200000);
	CHECK(look(s, "10.2.255.255", 1, &val, &src));
	CHECK(look(s, "10.0.0.0", 1, &val, &src));
	CHECK(!look(s, "10.3.13.64", 1, &val, &src));
	intel_set_free(s);
}

struct rawlog {
	int	 n, refused;
	char	 got[1024];
};

static int
on_raw(void *arg, const struct intel_raw *r)
{
	struct rawlog *l = arg;
	size_t n = strlen(l->got);

	if (r->type < 0) {
		l->refused++;
		snprintf(l->got + n, sizeof(l->got) - n, "%s!%s", n ? ";" : "",
		    r->why);
		return 0;
	}
	l->n++;
	snprintf(l->got + n, sizeof(l->got) - n, "%s%s:%.*s[%s]", n ? ";" : "",
	    intel_type_name(r->type), (int)r->len, r->value, r->tags);
	return 0;
}

static void
test_parsers(void)
{
	static const char list[] =
	    "# a list\n"
	    "ip 10.1.2.3\n"
	    "  domain   evil.example   # trailing comment\n"
	    "\n"
	    "sha256\n"
	    "x509 ab\n";
	static const char stix[] =
	    "{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":["
	    "{\"type\":\"identity\",\"name\":\"x\"},"
	    "{\"type\":\"indicator\",\"pattern_type\":\"stix\",\"labels\":[\"c2\"],"
	    "\"pattern\":\"[ipv4-addr:value = '198.51.100.7']\",\"confidence\":85},"
	    "{\"type\":\"indicator\",\"pattern_type\":\"stix\","
	    "\"pattern\":\"[file:hashes.'SHA-256' = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855']\"},"
	    "{\"type\":\"indicator\",\"pattern_type\":\"stix\","
	    "\"pattern\":\"[domain-name:value = 'a.example'] OR [domain-name:value = 'b.example']\"},"
	    "{\"type\":\"indicator\",\"pattern_type\":\"stix\","
	    "\"pattern\":\"[process:name = 'x']\"},"
	    "{\"type\":\"indicator\",\"revoked\":true,\"pattern_type\":\"stix\","
	    "\"pattern\":\"[ipv4-addr:value = '198.51.100.8']\"}"
	    "]}";
	static const char misp[] =
	    "{\"Event\":{\"uuid\":\"5f0c\",\"threat_level_id\":\"1\","
	    "\"Tag\":[{\"name\":\"tlp:green\"}],"
	    "\"Attribute\":[{\"type\":\"ip-dst\",\"value\":\"203.0.113.9\","
	    "\"to_ids\":true,\"Tag\":[{\"name\":\"c2\"}]},"
	    "{\"type\":\"comment\",\"value\":\"hi\",\"to_ids\":false},"
	    "{\"type\":\"domain\",\"value\":\"ctx.example\",\"to_ids\":false},"
	    "{\"type\":\"domain|ip\",\"value\":\"d.example|203.0.113.10\",\"to_ids\":true}],"
	    "\"Object\":[{\"Attribute\":[{\"type\":\"filename|md5\","
	    "\"value\":\"a.exe|d41d8cd98f00b204e9800998ecf8427e\",\"to_ids\":true}]}]}}";
	struct rawlog l;
	char err[256], val[64], deep[300];
	const char *why;
	int type, i;

	memset(&l, 0, sizeof(l));
	CHECK_INT(intel_parse_list(list, sizeof(list) - 1, on_raw, &l, err,
	    sizeof(err)), 0);
	CHECK_INT(l.n, 2);
	CHECK_INT(l.refused, 2);
	CHECK(strncmp(l.got, "ip:10.1.2.3[];domain:evil.example[];!no value;!unknown type",
	    58) == 0);

	memset(&l, 0, sizeof(l));
	CHECK_INT(intel_parse_json(stix, sizeof(stix) - 1, on_raw, &l, err,
	    sizeof(err)), 0);
	CHECK_INT(l.n, 2);
	CHECK_INT(l.refused, 2);
	CHECK(strstr(l.got, "ip:198.51.100.7[c2]") != NULL);
	CHECK(strstr(l.got, "sha256:E3B0C442") != NULL);
	CHECK(strstr(l.got, "!STIX pattern with OR") != NULL);
	CHECK(strstr(l.got, "object path not supported") != NULL);
	CHECK(strstr(l.got, "198.51.100.8") == NULL);	/* revoked */

	static const struct { const char *p; const char *why; } pats[] = {
		{ "[ipv4-addr:value = '1.2.3.4'] AND [ipv4-addr:value = '1.2.3.5']", "AND" },
		{ "[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [ipv4-addr:value = '1.2.3.5']", "FOLLOWEDBY" },
		{ "[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS", "WITHIN" },
		{ "[ipv4-addr:value != '1.2.3.4']", "equality" },
		{ "[ipv4-addr:value = '1.2.3.4'", "comparison" },
		{ "[url:value = 'http://x.example/OR AND']", NULL },
		{ "[domain-name:value = 'it\\'s.example']", NULL },
	};
	for (i = 0; i < (int)(sizeof(pats) / sizeof(pats[0])); i++) {
		int rc = intel_stix_pattern(pats[i].p, strlen(pats[i].p), &type,
		    val, sizeof(val), &why);

		if (pats[i].why == NULL)
			CHECK_INT(rc, 0);
		else
			CHECK(rc == -1 && strstr(why, pats[i].why) != NULL);
	}
	CHECK(intel_stix_pattern(pats[6].p, strlen(pats[6].p), &type, val,
	    sizeof(val), &why) == 0 && strcmp(val, "it's.example") == 0);

	memset(&l, 0, sizeof(l));
	CHECK_INT(intel_parse_json(misp, sizeof(misp) - 1, on_raw, &l,
	    err, sizeof(err)), 0);
	CHECK_STR(l.got, "ip:203.0.113.9[tlp:green,c2];domain:d.example[tlp:green];"
	    "ip:203.0.113.10[tlp:green];md5:d41d8cd98f00b204e9800998ecf8427e[tlp:green]");

	/* hostile JSON: too deep, not JSON, trailing junk, a bad uuid */
	memset(deep, '[', sizeof(deep));
	memset(&l, 0, sizeof(l));
	CHECK_INT(intel_parse_stix(deep, sizeof(deep), on_raw, &l, err,
	    sizeof(err)), -1);
	CHECK(strstr(err, "nested too deep") != NULL);
	CHECK_INT(intel_parse_misp_event("{\"Event\":{}} x", 14, on_raw, &l, err,
	    sizeof(err)), -1);
	CHECK_INT(intel_parse_misp_event("{\"Event\":\"\\u00", 14, on_raw, &l, err,
	    sizeof(err)), -1);
	CHECK_INT(intel_parse_json("{\"type\":\"x\"}", 12, on_raw, &l, err,
	    sizeof(err)), -1);
	CHECK(strstr(err, "neither a STIX bundle") != NULL);
	CHECK_INT(intel_parse_misp_manifest("{\"../../etc/passwd\":{}}", 23,
	    NULL, NULL, err, sizeof(err)), -1);
	CHECK(strstr(err, "not an event uuid") != NULL);
	CHECK_INT(l.n, 0);

	/* a "billion laughs" of tiny values: refused at the node bound */
	{
		size_t n = (size_t)INTEL_JSON_NODES + 16, j;
		char *big = malloc(2 * n + 64), *p = big;

		p += sprintf(p, "{\"type\":\"bundle\",\"objects\":[");
		for (j = 0; j < n; j++) {
			*p++ = '0';
			*p++ = ',';
		}
		p += sprintf(p, "0]}");
		CHECK_INT(intel_parse_json(big, (size_t)(p - big), on_raw, &l, err,
		    sizeof(err)), -1);
		CHECK(strstr(err, "too many JSON values") != NULL);
		free(big);
	}
}

static int
next_two(void *arg, struct intel_ind *out)
{
	int *i = arg;
	static const char *const v[] = { "10.9.9.9", "bad.example" };

	if (*i >= 2)
		return 0;
	*out = (struct intel_ind){ .type = *i == 0 ? INTEL_IP : INTEL_DOMAIN,
	    .value = v[*i], .tags = "", .confidence = 60 };
	(*i)++;
	return 1;
}

/*
 * A big import: rows 10.20.x.y; at row mid (a few chunks committed) the
 * set in force is looked at from another connection; at row fail_at the
 * import fails (an allocation failure in the reader).
 */
struct many {
	const char	*path;
	int		 i, n, mid, fail_at;
	size_t		 seen_mid;	/* indicators another reader saw */
	int		 mid_hit;	/* ... and whether it saw a new one */
	char		 v[32];
};

static int
next_many(void *arg, struct intel_ind *out)
{
	struct many *m = arg;
	struct intel_ind ind;
	struct intel_set *s;
	struct store *st;
	char err[256];

	if (m->i == m->fail_at)
		return -1;
	if (m->i == m->mid &&
	    (st = store_open(m->path, STORE_READONLY, err, sizeof(err))) != NULL) {
		if ((s = intel_load(st, soc_now_ns(), err, sizeof(err))) != NULL) {
			m->seen_mid = intel_set_count(s);
			m->mid_hit = intel_lookup_any(s, "10.20.0.1", 9,
			    soc_now_ns(), &ind);
			intel_set_free(s);
		}
		store_close(st);
	}
	if (m->i >= m->n)
		return 0;
	snprintf(m->v, sizeof(m->v), "10.%d.%d.%d", 20 + (m->i >> 16),
	    m->i >> 8 & 255, m->i & 255);
	*out = (struct intel_ind){ .type = INTEL_IP, .value = m->v, .tags = "",
	    .confidence = 50 };
	m->i++;
	return 1;
}

/* The database round trip, and a load on the loader's thread. */
static void
test_store(void)
{
	char dir[] = "/tmp/test-intel-XXXXXX", path[256], err[256];
	struct store *st;
	struct intel_loader *l;
	struct intel_set *s;
	struct intel_ind ind;
	size_t count;
	int64_t version, v0, v1;
	long long ms;
	int i = 0, spins = 0;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/db.sqlite", dir);
	CHECK((st = store_open(path, STORE_CREATE, err, sizeof(err))) != NULL);
	if (st == NULL)
		return;
	CHECK_INT(store_intel_version(st, &v0), 0);
	CHECK_INT(store_intel_import(st, "feed", "local", next_two, &i,
	    soc_now_ns(), &count, &version), 0);
	CHECK_INT(count, 2);
	CHECK_INT(version, 1);
	CHECK_INT(store_intel_version(st, &v1), 0);
	CHECK(v1 > v0);
	l = intel_loader_start(path);
	CHECK(l != NULL);
	while (l != NULL && !intel_loader_done(l) && spins++ < 30000)
		usleep(1000);
	s = l ? intel_loader_finish(l, err, sizeof(err), &ms) : NULL;
	CHECK(s != NULL);
	CHECK_INT(intel_set_count(s), 2);
	CHECK_INT(intel_set_version(s), v1);
	CHECK(intel_lookup_any(s, "x.bad.example", 13, soc_now_ns(), &ind) &&
	    strcmp(ind.source, "feed") == 0 && ind.confidence == 60);
	intel_set_free(s);
	/* a re-import replaces the set and raises its version */
	i = 1;
	CHECK_INT(store_intel_import(st, "feed", "local", next_two, &i,
	    soc_now_ns(), &count, &version), 0);
	CHECK_INT(count, 1);
	CHECK_INT(version, 2);
	CHECK((s = intel_load(st, soc_now_ns(), err, sizeof(err))) != NULL);
	CHECK_INT(intel_set_count(s), 1);
	CHECK(!intel_lookup_any(s, "10.9.9.9", 8, soc_now_ns(), &ind));
	intel_set_free(s);
	CHECK_INT(store_intel_remove_source(st, "feed"), 1);
	CHECK_INT(store_intel_version(st, &v0), 0);
	CHECK(v0 > v1);

	/* an import in chunks: the set in force stays whole meanwhile ... */
	{
		struct many m = { .path = path, .n = 50000, .mid = 45000,
		    .fail_at = -1 };

		i = 0;
		CHECK_INT(store_intel_import(st, "big", "local", next_two, &i,
		    soc_now_ns(), &count, &version), 0);
		CHECK_INT(store_intel_import(st, "big", "local", next_many, &m,
		    soc_now_ns(), &count, &version), 0);
		CHECK_INT(m.seen_mid, 2);
		CHECK_INT(m.mid_hit, 0);
		CHECK_INT(count, 50000);
		CHECK_INT(version, 2);
		/* ... and the old version's rows are gone after the switch */
		CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM indicators"), 50000);
		/* a failed import leaves the set in force as it was */
		m = (struct many){ .path = path, .n = 60000, .mid = -1,
		    .fail_at = 45000 };
		m.i = 0;
		CHECK_INT(store_intel_import(st, "big", "local", next_many, &m,
		    soc_now_ns(), &count, &version), -1);
		CHECK((s = intel_load(st, soc_now_ns(), err, sizeof(err))) != NULL);
		CHECK_INT(intel_set_count(s), 50000);
		CHECK_INT(intel_set_version(s), v0 + 2);
		intel_set_free(s);
		CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM indicators"), 50000);
		/* rows a crash left above the version in force: not loaded,
		 * removed by the next import */
		CHECK_INT(fx_sql_exec(path, "INSERT INTO indicators (value, type,"
		    " source, version) VALUES ('192.0.2.99', 'ip', 'big', 9)"), 0);
		CHECK((s = intel_load(st, soc_now_ns(), err, sizeof(err))) != NULL);
		CHECK(!intel_lookup_any(s, "192.0.2.99", 10, soc_now_ns(), &ind));
		intel_set_free(s);
		i = 1;
		CHECK_INT(store_intel_import(st, "big", "local", next_two, &i,
		    soc_now_ns(), &count, &version), 0);
		CHECK_INT(version, 10);
		CHECK_INT(fx_sql_int(path, "SELECT count(*) FROM indicators"), 1);
	}
	store_close(st);
	fx_rmtree(dir);
}

int
main(void)
{
	test_normalize();
	test_matcher();
	test_many();
	test_parsers();
	test_store();
	return check_done();
}
