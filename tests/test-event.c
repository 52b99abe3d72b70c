/*
 * Event model, registry and JSON writer: nested ECS output, escaping of
 * hostile bytes, truncation instead of overflow, durations, RFC 3339 and
 * the config loader's file:line errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "soc/conf.h"
#include "soc/json.h"
#include "soc/time.h"
#include "soc/util.h"
#include "check.h"

static struct soc_event ev;

static void
test_registry(void)
{
	for (int f = 0; f < SOC_F_COUNT; f++) {
		const char *n = soc_field_name(f);

		CHECK_INT(soc_field_lookup(n, strlen(n)), f);
	}
	CHECK_INT(soc_field_lookup("source.ip", 9), SOC_F_SOURCE_IP);
	CHECK_INT(soc_field_lookup("source.ipx", 10), SOC_F_NONE);
	CHECK_INT(soc_field_lookup("source", 6), SOC_F_NONE);
}

static void
test_json(void)
{
	struct soc_sbuf b;

	soc_sbuf_init(&b);
	soc_event_reset(&ev);
	ev.ts = 1764215000000000000LL;
	soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "log.sshd");
	soc_event_set_ip4(&ev, SOC_F_SOURCE_IP, (const uint8_t[]){ 10, 1, 2, 3 });
	soc_event_set_int(&ev, SOC_F_SOURCE_PORT, 22);
	soc_event_set_str(&ev, SOC_F_MESSAGE, "q\"\\\n\x01\xff\xc3\xa9", 8);
	soc_json_event(&b, &ev);
	CHECK_STR(b.data, "{\"@timestamp\":\"2025-11-27T03:43:20.000000000Z\","
	    "\"event\":{\"dataset\":\"log.sshd\"},"
	    "\"source\":{\"ip\":\"10.1.2.3\",\"port\":22},"
	    "\"message\":\"q\\\"\\\\\\n\\u0001\\u00ff\xc3\xa9\"}");

	soc_sbuf_reset(&b);
	soc_event_reset(&ev);
	soc_json_event(&b, &ev);
	CHECK_STR(b.data, "{\"@timestamp\":\"1970-01-01T00:00:00.000000000Z\"}");
	soc_sbuf_free(&b);
}

static void
test_json_read(void)
{
	static struct soc_event back;
	struct soc_sbuf b;
	const char *why = NULL;
	unsigned unknown = 0;
	size_t len;
	static const char *bad[] = {
		"", "[]", "{", "{\"a\":}", "{\"source\":{\"ip\":\"999.1.1.1\"}}",
		"{\"source\":{\"port\":\"x\"}}", "{\"message\":\"\\q\"}",
		"{\"message\":\"abc}", "{} x", "{\"a\":[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}",
		"{\"@timestamp\":\"yesterday\"}", "{\"message\":\"\\ud800\"", "{\"x\":tru}",
	};

	soc_sbuf_init(&b);
	soc_event_reset(&ev);
	ev.ts = 1764215000123456789LL;
	soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "log.sshd");
	soc_event_set_ip4(&ev, SOC_F_SOURCE_IP, (const uint8_t[]){ 10, 1, 2, 3 });
	soc_event_set_ip6(&ev, SOC_F_DEST_IP, (const uint8_t[16]){ 0x20, 0x01, [15] = 9 });
	soc_event_set_int(&ev, SOC_F_SOURCE_PORT, 22);
	soc_event_set_int(&ev, SOC_F_EVENT_START, 1764215000000000001LL);
	soc_event_set_str(&ev, SOC_F_MESSAGE, "q\"\\\n\t\xc3\xa9 \xf0\x9f\x98\x80", 12);
	soc_json_event(&b, &ev);
	CHECK_INT(soc_json_read_event(b.data, b.len, &back, &why, &unknown), 0);
	CHECK_INT(back.ts, ev.ts);
	CHECK(memcmp(back.present, ev.present, sizeof(ev.present)) == 0);
	CHECK_INT(soc_event_int(&back, SOC_F_SOURCE_PORT, 0), 22);
	CHECK_INT(soc_event_int(&back, SOC_F_EVENT_START, 0), 1764215000000000001LL);
	CHECK(soc_ip_equal(soc_event_ip(&back, SOC_F_DEST_IP), soc_event_ip(&ev, SOC_F_DEST_IP)));
	CHECK(memcmp(soc_event_str(&back, SOC_F_MESSAGE, &len), "q\"\\\n\t\xc3\xa9 \xf0\x9f\x98\x80", 12) == 0);
	CHECK_INT(len, 12);
	/* flat dotted keys, arrays of strings, unknown fields, surrogates */
	const char *flat = "{\"source.ip\":\"192.0.2.1\",\"tags\":[\"a\",\"b\"],"
	    "\"user\":{\"name\":\"\\ud83d\\ude00\"},\"http\":{\"response\":"
	    "{\"status_code\":404}},\"extra\":{\"x\":[1,2,{\"y\":null}]},\"ok\":true}";
	CHECK_INT(soc_json_read_event(flat, strlen(flat), &back, &why, &unknown), 0);
	CHECK_INT(soc_event_int(&back, SOC_F_HTTP_STATUS, 0), 404);
	CHECK(soc_event_ip(&back, SOC_F_SOURCE_IP) != NULL);
	CHECK(memcmp(soc_event_str(&back, SOC_F_USER_NAME, &len), "\xf0\x9f\x98\x80", 4) == 0);
	CHECK(unknown >= 3);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		CHECK_INT(soc_json_read_event(bad[i], strlen(bad[i]), &back, &why, NULL), -1);
		CHECK(why != NULL);
	}
	soc_sbuf_free(&b);
}

/*
 * Regression (fuzz-json crash-ts-year-overflow, crash-ts-roundtrip-*):
 * times outside int64 nanoseconds are refused, not multiplied past
 * INT64_MAX, and every time the writer can print (INT64_MIN, INT64_MAX,
 * -1) reads back to the same value.
 */
static void
test_json_read_time_range(void)
{
	static struct soc_event back;
	static const struct {
		const char	*json;
		int		 rc;
		int64_t		 ts;
	} cases[] = {
		{ "{\"@timestamp\":\"0001-01-01T00:00:00Z\"}", -1, 0 },
		{ "{\"@timestamp\":\"1677-09-21T00:12:43.145224191Z\"}", -1, 0 },
		{ "{\"@timestamp\":\"9999-12-31T23:59:59Z\"}", -1, 0 },
		{ "{\"@timestamp\":\"2262-04-11T23:47:16.854775808Z\"}", -1, 0 },
		{ "{\"@timestamp\":\"2262-12-31\"}", -1, 0 },
		{ "{\"@timestamp\":\"1969-12-31T23:59:59.999999999Q\"}", -1, 0 },
		{ "{\"@timestamp\":\"1677-09-21T00:12:43.145224192Z\"}", 0, INT64_MIN },
		{ "{\"@timestamp\":\"2262-04-11T23:47:16.854775807Z\"}", 0, INT64_MAX },
		{ "{\"@timestamp\":\"1969-12-31T23:59:59.999999999Z\"}", 0, -1 },
		{ "{\"@timestamp\":\"1970-01-01T06:59:59.999999999+07:00\"}", 0, -1 },
		{ "{\"@timestamp\":\"2026-11-27T10:00:00+07:00\"}", 0, 1795748400LL * SOC_NS },
	};
	const char *why;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why = NULL;
		back.ts = 0;
		CHECK_INT(soc_json_read_event(cases[i].json, strlen(cases[i].json),
		    &back, &why, NULL), cases[i].rc);
		CHECK(cases[i].rc == 0 || why != NULL);
		if (cases[i].rc == 0)
			CHECK_INT(back.ts, cases[i].ts);
	}
}

static void
test_truncation(void)
{
	static char big[SOC_EVENT_BUFSZ + 100];
	size_t len;

	memset(big, 'a', sizeof(big));
	soc_event_reset(&ev);
	soc_event_set_cstr(&ev, SOC_F_USER_NAME, "bob");
	soc_event_set_str(&ev, SOC_F_MESSAGE, big, sizeof(big));
	CHECK(ev.flags & SOC_EV_TRUNCATED);
	CHECK_INT(soc_event_int(&ev, SOC_F_SOC_TRUNCATED, 0), 1);
	CHECK(soc_event_str(&ev, SOC_F_MESSAGE, &len) != NULL);
	CHECK_INT(len, SOC_EVENT_BUFSZ - 3);
	CHECK(memcmp(soc_event_str(&ev, SOC_F_USER_NAME, &len), "bob", 3) == 0);
	/* the correlator's stamps never get cut, however full the event */
	soc_event_set_str(&ev, SOC_F_ORGANIZATION_ID, "forged", 6);
	CHECK(soc_event_str(&ev, SOC_F_ORGANIZATION_ID, &len) != NULL && len == 0);
	soc_event_stamp(&ev, SOC_F_ORGANIZATION_ID, "stttt");
	soc_event_stamp(&ev, SOC_F_OBSERVER_NAME, "gw1");
	CHECK(memcmp(soc_event_str(&ev, SOC_F_ORGANIZATION_ID, &len), "stttt", 5) == 0 && len == 5);
	CHECK(memcmp(soc_event_str(&ev, SOC_F_OBSERVER_NAME, &len), "gw1", 3) == 0 && len == 3);
	/* wrong type setters are ignored */
	soc_event_set_int(&ev, SOC_F_MESSAGE, 5);
	CHECK(soc_event_str(&ev, SOC_F_MESSAGE, &len) != NULL);
}

/* Occurrences of needle in s. */
static int
count_str(const char *s, const char *needle)
{
	int n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s++;
	}
	return n;
}

/*
 * The mark in JSON: written once whether set as flag or field, read back
 * as both; the --events reader marks an event whose strings it had to cut
 * (a string over 8 KiB, an array over 4 KiB joined).
 */
static void
test_truncated_json(void)
{
	static struct soc_event back;
	static char line[20000];
	struct soc_sbuf b;
	const char *why = NULL;
	size_t len, n;

	soc_sbuf_init(&b);
	soc_event_reset(&ev);
	soc_event_set_cstr(&ev, SOC_F_MESSAGE, "m");
	ev.flags |= SOC_EV_TRUNCATED;
	soc_json_event(&b, &ev);
	CHECK(strstr(b.data, "\"soc\":{\"truncated\":true}") != NULL);
	CHECK_INT(count_str(b.data, "\"soc\""), 1);
	CHECK_INT(soc_json_read_event(b.data, b.len, &back, &why, NULL), 0);
	CHECK(soc_event_truncated(&back));
	/* the flag alone beside other soc. fields: one soc object */
	soc_event_set_cstr(&ev, SOC_F_TCP_FLAGS, "S");
	soc_event_set_cstr(&ev, SOC_F_LOG_SOURCE_ADDR, "192.0.2.1");
	soc_sbuf_reset(&b);
	soc_json_event(&b, &ev);
	CHECK_INT(count_str(b.data, "\"soc\""), 1);
	CHECK_INT(count_str(b.data, "truncated"), 1);
	CHECK(strstr(b.data, "\"soc\":{\"tcp\":{\"flags\":\"S\"},\"log\":"
	    "{\"source\":{\"address\":\"192.0.2.1\"}},\"truncated\":true}") !=
	    NULL);
	CHECK_INT(soc_json_read_event(b.data, b.len, &back, &why, NULL), 0);
	CHECK(soc_event_truncated(&back));
	CHECK(soc_event_has(&back, SOC_F_TCP_FLAGS));
	CHECK(soc_event_has(&back, SOC_F_LOG_SOURCE_ADDR));
	soc_event_unset(&ev, SOC_F_TCP_FLAGS);
	soc_event_unset(&ev, SOC_F_LOG_SOURCE_ADDR);
	soc_event_set_truncated(&ev);
	soc_sbuf_reset(&b);
	soc_json_event(&b, &ev);
	/* the soc object sits where soc.tcp.flags (id 23) put it */
	CHECK(strstr(b.data, "\"soc\":{\"truncated\":true}") != NULL);
	CHECK(strstr(b.data + (strstr(b.data, "truncated") - b.data) + 1,
	    "truncated") == NULL);	/* once */
	CHECK_INT(soc_json_read_event(b.data, b.len, &back, &why, NULL), 0);
	CHECK(back.flags & SOC_EV_TRUNCATED);
	CHECK_INT(soc_event_int(&back, SOC_F_SOC_TRUNCATED, 0), 1);
	/* not cut: no mark */
	soc_event_reset(&ev);
	soc_event_set_cstr(&ev, SOC_F_MESSAGE, "m");
	soc_sbuf_reset(&b);
	soc_json_event(&b, &ev);
	CHECK(strstr(b.data, "soc") == NULL);
	CHECK_INT(soc_json_read_event(b.data, b.len, &back, &why, NULL), 0);
	CHECK(!soc_event_truncated(&back));
	/* a 10 KiB message is cut at 8 KiB, and the event says so */
	n = (size_t)snprintf(line, sizeof(line), "{\"message\":\"");
	memset(line + n, 'x', 10240);
	n += 10240;
	n += (size_t)snprintf(line + n, sizeof(line) - n, "\"}");
	CHECK_INT(soc_json_read_event(line, n, &back, &why, NULL), 0);
	CHECK(soc_event_str(&back, SOC_F_MESSAGE, &len) != NULL);
	CHECK_INT(len, 8192);
	CHECK(back.flags & SOC_EV_TRUNCATED);
	CHECK_INT(soc_event_int(&back, SOC_F_SOC_TRUNCATED, 0), 1);
	/* exactly 8 KiB fits: no mark */
	n = (size_t)snprintf(line, sizeof(line), "{\"message\":\"");
	memset(line + n, 'x', 8192);
	n += 8192;
	n += (size_t)snprintf(line + n, sizeof(line) - n, "\"}");
	CHECK_INT(soc_json_read_event(line, n, &back, &why, NULL), 0);
	CHECK(!soc_event_truncated(&back));
	/* an array whose values do not all fit the joined 4 KiB */
	n = (size_t)snprintf(line, sizeof(line), "{\"dns\":{\"answers\":"
	    "{\"data\":[");
	for (int i = 0; i < 600; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n,
		    "%s\"10.0.0.%d\"", i ? "," : "", i % 250);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "]}}}");
	CHECK_INT(soc_json_read_event(line, n, &back, &why, NULL), 0);
	CHECK(back.flags & SOC_EV_TRUNCATED);
	/* "soc.truncated": 1 (flat) sets the flag too */
	CHECK_INT(soc_json_read_event("{\"soc.truncated\":1}", 19, &back, &why,
	    NULL), 0);
	CHECK(back.flags & SOC_EV_TRUNCATED);
	soc_sbuf_free(&b);
}

static void
test_time(void)
{
	CHECK_INT(soc_parse_duration("2m"), 120LL * SOC_NS);
	CHECK_INT(soc_parse_duration("1h30m"), 5400LL * SOC_NS);
	CHECK_INT(soc_parse_duration("7d"), 7LL * 86400 * SOC_NS);
	CHECK_INT(soc_parse_duration(""), -1);
	CHECK_INT(soc_parse_duration("5"), -1);
	CHECK_INT(soc_parse_duration("m"), -1);
	CHECK_INT(soc_parse_rfc3339("2026-11-27T10:00:00+07:00", 25),
	    1795748400LL * SOC_NS);
	CHECK_INT(soc_parse_rfc3339("2026-11-27T03:00:00.5Z", 22),
	    1795748400LL * SOC_NS + SOC_NS / 2);
	CHECK_INT(soc_parse_rfc3339("2026-11-27", 10), 1795737600LL * SOC_NS);
	CHECK_INT(soc_parse_rfc3339("2026-13-27", 10), -1);
	CHECK_INT(soc_parse_rfc3339("9999-12-31", 10), -1);	/* past int64 ns */
	CHECK_INT(soc_parse_rfc3339("1066-10-14", 10), -1);
	CHECK_INT(soc_parse_rfc3339("2026-11-27T03:00", 16), -1);
}

static void
test_conf(void)
{
	char dir[] = "/tmp/soc-test-conf-XXXXXX", path[256], err[512];
	char *name = NULL;
	long long n = 5;
	int flag = 0;
	struct conf_list l = { 0 };
	const struct conf_opt opts[] = {
		{ .name = "name", .type = CONF_STR, .dst = &name },
		{ .name = "limits.n", .type = CONF_INT, .dst = &n, .min = 1, .max = 10 },
		{ .name = "flag", .type = CONF_BOOL, .dst = &flag },
		{ .name = "files", .type = CONF_LIST, .dst = &l },
		{ .name = NULL },
	};
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/a.yml", dir);
	f = fopen(path, "w");
	fputs("# comment\nname: gw1\nlimits:\n  n: 7\nflag: yes\nfiles: [a, b]\n", f);
	fclose(f);
	CHECK_INT(conf_load(path, opts, err, sizeof(err)), 0);
	CHECK_STR(name, "gw1");
	CHECK_INT(n, 7);
	CHECK_INT(flag, 1);
	CHECK_INT(l.n, 2);
	f = fopen(path, "w");
	fputs("name: gw1\nlimits:\n  n: 70\n", f);
	fclose(f);
	CHECK_INT(conf_load(path, opts, err, sizeof(err)), -1);
	CHECK(strstr(err, "a.yml:3: limits.n: 70 is out of range (1 to 10)") != NULL);
	f = fopen(path, "w");
	fputs("name: gw1\nnmae: x\n", f);
	fclose(f);
	CHECK_INT(conf_load(path, opts, err, sizeof(err)), -1);
	CHECK(strstr(err, "a.yml:2: unknown option \"nmae\"") != NULL);
	f = fopen(path, "w");
	fputs("name: [unclosed\n", f);
	fclose(f);
	CHECK_INT(conf_load(path, opts, err, sizeof(err)), -1);
	CHECK(strstr(err, "a.yml:") != NULL);
	CHECK_INT(conf_set(opts, "limits.n", "3", err, sizeof(err)), 0);
	CHECK_INT(n, 3);
	unlink(path);
	rmdir(dir);
	free(name);
	conf_list_free(&l);
}

/* Stamps outside the receiver's bounds are kept as claimed, not used. */
static void
test_bound_time(void)
{
	struct soc_event *e = &ev;
	const int64_t s = 1000000000LL, now = 1765000000LL * s;

	soc_event_reset(e);
	e->ts = now + 299 * s;
	CHECK(!soc_event_bound_time(e, now, 300 * s, 0));
	CHECK_INT(e->ts, now + 299 * s);
	CHECK(!soc_event_has(e, SOC_F_SOC_TS_CLAIMED));

	e->ts = now + 301 * s;
	CHECK(soc_event_bound_time(e, now, 300 * s, 0));
	CHECK_INT(e->ts, now);
	CHECK_INT(soc_event_int(e, SOC_F_SOC_TS_CLAIMED, 0), now + 301 * s);
	/* bounded again further along: the first claim stays */
	e->ts = INT64_MAX;
	CHECK(soc_event_bound_time(e, now + s, 300 * s, 0));
	CHECK_INT(e->ts, now + s);
	CHECK_INT(soc_event_int(e, SOC_F_SOC_TS_CLAIMED, 0), now + 301 * s);

	/* behind: unbounded by default (replays), bounded when asked */
	soc_event_reset(e);
	e->ts = now - 86400 * 365 * s;
	CHECK(!soc_event_bound_time(e, now, 300 * s, 0));
	CHECK(soc_event_bound_time(e, now, 300 * s, 86400 * s));
	CHECK_INT(e->ts, now);
	/* before 1970 and the extremes, without overflow */
	soc_event_reset(e);
	e->ts = INT64_MIN;
	CHECK(soc_event_bound_time(e, now, 300 * s, 0));
	CHECK_INT(e->ts, now);
	CHECK_INT(soc_event_int(e, SOC_F_SOC_TS_CLAIMED, 0), INT64_MIN);
	soc_event_reset(e);
	e->ts = INT64_MAX;
	CHECK(soc_event_bound_time(e, now, INT64_MAX, 0) == false);
	soc_event_reset(e);
	e->ts = 0;
	CHECK(!soc_event_bound_time(e, now, 300 * s, 0));

	/* the cap: anything later than now becomes now, the claim kept */
	soc_event_reset(e);
	e->ts = now + 5 * s;
	CHECK(!soc_event_bound_time(e, now, 300 * s, 0));
	CHECK(soc_event_cap_time(e, now));
	CHECK_INT(e->ts, now);
	CHECK_INT(soc_event_int(e, SOC_F_SOC_TS_CLAIMED, 0), now + 5 * s);
	CHECK(!soc_event_cap_time(e, now));
	e->ts = now - s;
	CHECK(!soc_event_cap_time(e, now));
	CHECK_INT(e->ts, now - s);
}

/* Codes: agency codes, sensor and province names, forward.name. */
static void
test_code_ok(void)
{
	char big[80];

	CHECK(soc_code_ok("lamdong"));
	CHECK(soc_code_ok("so-tttt.hue_2"));
	CHECK(!soc_code_ok(""));
	CHECK(!soc_code_ok("a b"));
	CHECK(!soc_code_ok("a/b"));
	CHECK(!soc_code_ok("=cmd"));
	CHECK(!soc_code_ok("x\ny"));
	CHECK(!soc_code_ok("L\xc3\xa2m"));
	memset(big, 'a', sizeof(big));
	big[63] = '\0';
	CHECK(soc_code_ok(big));
	big[63] = 'a';
	big[64] = '\0';
	CHECK(!soc_code_ok(big));
}

int
main(void)
{
	test_registry();
	test_json();
	test_json_read();
	test_json_read_time_range();
	test_truncation();
	test_truncated_json();
	test_time();
	test_conf();
	test_bound_time();
	test_code_ok();
	return check_done();
}
