/*
 * Dynamic fields (winlog.event_data.*, winlog.user_data.*; issue 17):
 * interning, the accessors on dynamic ids, the per-event bound, copy,
 * the wire (by name; a batch of today's main still read; a decoder that
 * refuses the names skips and counts them), JSON nested as Winlogbeat
 * writes it and read back, and two threads interning the same names.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "soc/event.h"
#include "soc/json.h"
#include "soc/wire.h"

/* written by main at ab2ef91: lib/wire.c before issue 17 */
static const uint8_t batch_main[] = {
	0x53, 0x4f, 0x43, 0x42, 0x01, 0x01, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x4f, 0x00, 0x00, 0x00, 0x15, 0xcd, 0xc4, 0x5c,
	0x54, 0xee, 0x7c, 0x18, 0x05, 0x00, 0x02, 0x00, 0x08, 0x00, 0x6c, 0x6f,
	0x67, 0x2e, 0x73, 0x73, 0x68, 0x64, 0x08, 0x00, 0x04, 0x00, 0xc0, 0x00,
	0x02, 0x07, 0x09, 0x00, 0x08, 0x00, 0x9e, 0x13, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x2d, 0x00, 0x04, 0x00, 0x72, 0x6f, 0x6f, 0x74, 0x34, 0x00,
	0x19, 0x00, 0x46, 0x61, 0x69, 0x6c, 0x65, 0x64, 0x20, 0x70, 0x61, 0x73,
	0x73, 0x77, 0x6f, 0x72, 0x64, 0x0d, 0x0a, 0x66, 0x6f, 0x72, 0x20, 0x72,
	0x6f, 0x6f, 0x74,
};

static struct soc_event ev, back;

static int
in(const char *s)
{
	return soc_field_intern(s, strlen(s));
}

static bool
str_is(const struct soc_event *e, int f, const char *want)
{
	size_t len;
	const char *s = soc_event_str(e, f, &len);

	return s != NULL && len == strlen(want) && memcmp(s, want, len) == 0;
}

static void
test_intern(void)
{
	char name[SOC_F_DYN_NAME_MAX + 2];
	uint64_t refused = soc_field_dyn_refused();
	int a, b, u;

	CHECK_INT(soc_field_lookup("winlog.event_data.Image", 23), SOC_F_NONE);
	a = in("winlog.event_data.Image");
	CHECK(a >= SOC_F_COUNT);
	CHECK(soc_field_dynamic(a));
	CHECK_INT(in("winlog.event_data.Image"), a);	/* the same name */
	CHECK_INT(soc_field_lookup("winlog.event_data.Image", 23), a);
	b = in("winlog.event_data.image");		/* case matters */
	CHECK(b != a && b >= SOC_F_COUNT);
	u = in("winlog.user_data.xml_name");
	CHECK(u >= SOC_F_COUNT && u != a && u != b);
	CHECK_STR(soc_field_name(a), "winlog.event_data.Image");
	CHECK_STR(soc_field_name(u), "winlog.user_data.xml_name");
	CHECK_INT(soc_field_type(a), SOC_T_STR);
	CHECK(soc_field_name(SOC_F_COUNT + SOC_F_DYN_MAX) == NULL);
	CHECK_INT(soc_field_type(SOC_F_COUNT + SOC_F_DYN_MAX), 0);
	/* the fixed names are not interned, nor other prefixes */
	CHECK_INT(in("winlog.channel"), SOC_F_NONE);
	CHECK_INT(in("process.madeup"), SOC_F_NONE);
	CHECK_INT(in("winlog.event_data."), SOC_F_NONE);	/* no name */
	CHECK_INT(soc_field_intern("winlog.event_data.A\0B", 20), SOC_F_NONE);
	CHECK_INT(soc_field_lookup("winlog.channel", 14), SOC_F_WINLOG_CHANNEL);
	/* bounded length, prefix included */
	memset(name, 'x', sizeof(name));
	memcpy(name, "winlog.event_data.", 18);
	CHECK(soc_field_intern(name, SOC_F_DYN_NAME_MAX) >= SOC_F_COUNT);
	CHECK_INT(soc_field_intern(name, SOC_F_DYN_NAME_MAX + 1), SOC_F_NONE);
	CHECK_INT(soc_field_dyn_refused() - refused, 5);
}

static void
test_set_get(void)
{
	int img = in("winlog.event_data.Image"), cmd =
	    in("winlog.event_data.CommandLine"), other =
	    in("winlog.event_data.NotSet");
	char txt[64];
	const char *s;
	size_t len;

	soc_event_reset(&ev);
	CHECK(!soc_event_has(&ev, img));
	soc_event_set_cstr(&ev, img, "C:\\Windows\\cmd.exe");
	soc_event_set_str(&ev, cmd, "cmd /c \"a\"\r\nb", 13);
	soc_event_set_cstr(&ev, SOC_F_WINLOG_CHANNEL, "Security");
	CHECK(soc_event_has(&ev, img));
	CHECK(soc_event_has(&ev, cmd));
	CHECK(!soc_event_has(&ev, other));
	CHECK(soc_event_str(&ev, other, &len) == NULL);
	CHECK(str_is(&ev, img, "C:\\Windows\\cmd.exe"));
	CHECK(str_is(&ev, cmd, "cmd /c \"a\"\r\nb"));	/* CR LF kept */
	CHECK_INT(soc_event_dyn_count(&ev), 2);
	CHECK_INT(soc_event_text(&ev, img, txt, 8), 7);
	CHECK_STR(txt, "C:\\Wind");
	CHECK_INT(soc_event_int(&ev, img, -5), -5);	/* not an integer */
	/* setting again replaces; the iterator sees each field once */
	soc_event_set_cstr(&ev, img, "x.exe");
	CHECK(str_is(&ev, img, "x.exe"));
	CHECK_INT(soc_event_dyn_count(&ev), 2);
	CHECK_INT(soc_event_dyn_at(&ev, 1, &s, &len), cmd);
	CHECK(len == 13 && memcmp(s, "cmd", 3) == 0);
	soc_event_unset(&ev, img);
	CHECK(!soc_event_has(&ev, img));
	CHECK(soc_event_has(&ev, cmd));
	CHECK_INT(soc_event_dyn_count(&ev), 1);
	soc_event_set_cstr(&ev, -7, "nothing");		/* bad ids: ignored */
	soc_event_set_cstr(&ev, SOC_F_COUNT + SOC_F_DYN_MAX - 1, "nothing");
	CHECK_INT(soc_event_dyn_count(&ev), 1);
	soc_event_reset(&ev);
	CHECK_INT(soc_event_dyn_count(&ev), 0);
	CHECK(!soc_event_has(&ev, cmd));
	CHECK(!soc_event_truncated(&ev));
}

static void
test_bounds(void)
{
	static char big[SOC_EVENT_BUFSZ + 100];
	uint64_t dropped = soc_event_dyn_dropped();
	char name[64];
	int ids[SOC_EVENT_DYN_MAX + 1];
	size_t len;

	for (int i = 0; i <= SOC_EVENT_DYN_MAX; i++) {
		snprintf(name, sizeof(name), "winlog.event_data.param%d", i + 1);
		ids[i] = in(name);
		CHECK(ids[i] >= SOC_F_COUNT);
	}
	soc_event_reset(&ev);
	for (int i = 0; i <= SOC_EVENT_DYN_MAX; i++)
		soc_event_set_cstr(&ev, ids[i], "v");
	CHECK_INT(soc_event_dyn_count(&ev), SOC_EVENT_DYN_MAX);
	CHECK(soc_event_has(&ev, ids[SOC_EVENT_DYN_MAX - 1]));
	CHECK(!soc_event_has(&ev, ids[SOC_EVENT_DYN_MAX]));
	CHECK(soc_event_truncated(&ev));
	CHECK_INT(soc_event_dyn_dropped() - dropped, 1);
	/* a value past the buffer is cut and marked, like a fixed one */
	soc_event_reset(&ev);
	memset(big, 'A', sizeof(big));
	soc_event_set_str(&ev, ids[0], big, sizeof(big));
	CHECK(soc_event_truncated(&ev));
	CHECK(soc_event_str(&ev, ids[0], &len) != NULL);
	CHECK_INT(len, SOC_EVENT_BUFSZ);
	/* the stamps still fit in the reserve */
	soc_event_stamp(&ev, SOC_F_ORGANIZATION_ID, "sotttt");
	CHECK(str_is(&ev, SOC_F_ORGANIZATION_ID, "sotttt"));
}

static void
fill(struct soc_event *e)
{
	uint8_t a[4] = { 10, 1, 2, 3 };

	soc_event_reset(e);
	e->ts = 1553038268123456700LL;
	soc_event_set_cstr(e, SOC_F_WINLOG_CHANNEL,
	    "Microsoft-Windows-Sysmon/Operational");
	soc_event_set_cstr(e, SOC_F_WINLOG_EVENT_ID, "1");
	soc_event_set_cstr(e, SOC_F_EVENT_CODE, "1");
	soc_event_set_int(e, SOC_F_WINLOG_PID, 1234);
	soc_event_set_ip4(e, SOC_F_SOURCE_IP, a);
	soc_event_set_cstr(e, in("winlog.event_data.Image"),
	    "C:\\Windows\\System32\\cmd.exe");
	soc_event_set_cstr(e, in("winlog.event_data.CommandLine"),
	    "cmd.exe /c \"echo \xc3\xa9\"\r\n");
	soc_event_set_cstr(e, in("winlog.event_data.Odd \"name\""), "x");
	soc_event_set_cstr(e, in("winlog.user_data.xml_name"),
	    "LogFileCleared");
	soc_event_set_cstr(e, in("winlog.user_data.SubjectUserName"), "bob");
}

static bool
same_event(const struct soc_event *a, const struct soc_event *b)
{
	const char *s, *t;
	size_t n, m;

	if (a->ts != b->ts || soc_event_dyn_count(a) != soc_event_dyn_count(b))
		return false;
	for (int f = 0; f < SOC_F_COUNT; f++) {
		char x[256], y[256];

		if (soc_event_has(a, f) != soc_event_has(b, f))
			return false;
		if (soc_event_has(a, f) && (soc_event_text(a, f, x,
		    sizeof(x)) != soc_event_text(b, f, y, sizeof(y)) ||
		    strcmp(x, y) != 0))
			return false;
	}
	for (unsigned i = 0; i < soc_event_dyn_count(a); i++) {
		int f = soc_event_dyn_at(a, i, &s, &n);

		if ((t = soc_event_str(b, f, &m)) == NULL || m != n ||
		    memcmp(s, t, n) != 0)
			return false;
	}
	return true;
}

static void
test_copy(void)
{
	static struct soc_event c;

	fill(&ev);
	memset(&c, 0x5a, sizeof(c));
	soc_event_copy(&c, &ev);
	CHECK(same_event(&ev, &c));
	CHECK(str_is(&c, in("winlog.user_data.SubjectUserName"), "bob"));
}

static void
test_wire(void)
{
	static const char want[] = "\xff\xff\x33\x00\x17"
	    "winlog.event_data.ImageC:\\Windows\\System32\\cmd.exe";
	struct soc_wbuf b;
	struct soc_wire_reader r;
	struct soc_wire_hdr h;
	const char *why = NULL;
	uint8_t bad[128];
	size_t n;

	soc_wbuf_init(&b);
	fill(&ev);
	soc_wire_begin(&b, SOC_WIRE_EVENTS, 7);
	CHECK_INT(soc_wire_add_event(&b, &ev), 0);
	soc_event_reset(&back);		/* a network event: no dyn fields */
	soc_event_set_cstr(&back, SOC_F_NET_TRANSPORT, "tcp");
	CHECK_INT(soc_wire_add_event(&b, &back), 0);
	CHECK_INT(soc_wire_validate(b.data, b.len, &why), 0);
	CHECK_INT(soc_wire_open(&r, b.data, b.len, &h, &why), 0);
	CHECK_INT(soc_wire_next_event(&r, &back, &why), 1);
	CHECK(same_event(&ev, &back));
	CHECK_INT(soc_wire_next_event(&r, &back, &why), 1);
	CHECK_INT(soc_event_dyn_count(&back), 0);
	CHECK(str_is(&back, SOC_F_NET_TRANSPORT, "tcp"));
	CHECK_INT(soc_wire_next_event(&r, &back, &why), 0);
	CHECK_INT(r.unknown_fields, 0);
	/* the named field's framing: id 0xffff | len | namelen | name | value
	 * -- the id/len framing by which every version 1 decoder skips an
	 * id it does not know */
	CHECK(memmem(b.data, b.len, want, sizeof(want) - 1) != NULL);

	/* a batch written by today's main (before dynamic fields): read */
	CHECK_INT(soc_wire_validate(batch_main, sizeof(batch_main), &why), 0);
	CHECK_INT(soc_wire_open(&r, batch_main, sizeof(batch_main), &h, &why),
	    0);
	CHECK_INT(h.seq, 42);
	CHECK_INT(soc_wire_next_event(&r, &back, &why), 1);
	CHECK_INT(back.ts, 1764547200123456789LL);
	CHECK(str_is(&back, SOC_F_EVENT_DATASET, "log.sshd"));
	CHECK(str_is(&back, SOC_F_USER_NAME, "root"));
	CHECK(str_is(&back, SOC_F_MESSAGE, "Failed password\r\nfor root"));
	CHECK_INT(soc_event_int(&back, SOC_F_SOURCE_PORT, 0), 5022);
	CHECK(soc_event_ip(&back, SOC_F_SOURCE_IP) != NULL);
	CHECK_INT(soc_event_dyn_count(&back), 0);
	CHECK_INT(soc_wire_next_event(&r, &back, &why), 0);
	CHECK_INT(r.unknown_fields, 0);

	/* malformed named fields are refused with a reason */
	soc_event_reset(&back);
	soc_wire_begin(&b, SOC_WIRE_EVENTS, 8);
	soc_event_set_cstr(&back, in("winlog.event_data.A"), "v");
	soc_wire_add_event(&b, &back);
	n = b.len;
	CHECK(n < sizeof(bad));
	memcpy(bad, b.data, n);
	CHECK_INT(bad[n - 1 - 19 - 1], 19);	/* namelen */
	bad[n - 1 - 19 - 1] = 60;		/* past the field */
	CHECK_INT(soc_wire_validate(bad, n, &why), -1);
	bad[n - 1 - 19 - 1] = 0;		/* empty */
	CHECK_INT(soc_wire_validate(bad, n, &why), -1);
	bad[n - 1 - 19 - 1] = 19;
	CHECK_INT(soc_wire_validate(bad, n, &why), 0);
	/* another prefix: skipped and counted, the rest kept */
	memcpy(bad + n - 1 - 19, "process.event_data.", 19);
	CHECK_INT(soc_wire_open(&r, bad, n, &h, &why), 0);
	CHECK_INT(soc_wire_next_event(&r, &back, &why), 1);
	CHECK_INT(soc_event_dyn_count(&back), 0);
	CHECK_INT(r.unknown_fields, 1);
	soc_wbuf_free(&b);
}

static void
test_json(void)
{
	static const char wb[] = "{\"@timestamp\":\"2019-03-19T23:31:08.1234567Z\","
	    "\"winlog\":{\"record_id\":7649,\"event_data\":{\"ProcessId\":"
	    "\"4\",\"Num\":12,\"List\":[\"a\",\"b\"]},\"channel\":\"System\"},"
	    "\"event\":{\"code\":\"7045\"}}";
	struct soc_sbuf b;
	const char *why = NULL;
	unsigned unknown = 9;
	int fails = check_fail;

	soc_sbuf_init(&b);
	fill(&ev);
	soc_json_event(&b, &ev);
	/* one winlog object: the fixed fields, then event_data, user_data */
	CHECK(strstr(b.data, "\"winlog\":{\"channel\":"
	    "\"Microsoft-Windows-Sysmon/Operational\",\"event_id\":\"1\","
	    "\"process\":{\"pid\":1234},\"event_data\":{\"Image\":"
	    "\"C:\\\\Windows\\\\System32\\\\cmd.exe\",\"CommandLine\":"
	    "\"cmd.exe /c \\\"echo \xc3\xa9\\\"\\r\\n\",\"Odd \\\"name\\\"\":"
	    "\"x\"},\"user_data\":{\"xml_name\":\"LogFileCleared\","
	    "\"SubjectUserName\":\"bob\"}}") != NULL);
	CHECK(strstr(b.data, "\"event\":{\"code\":\"1\"}") != NULL);
	if (check_fail > fails)
		fprintf(stderr, "%s\n", b.data);
	CHECK_INT(soc_json_read_event(b.data, b.len, &back, &why, &unknown), 0);
	CHECK_INT(unknown, 0);
	CHECK(same_event(&ev, &back));
	/* Winlogbeat's own shape reads too: numbers and arrays as text */
	CHECK_INT(soc_json_read_event(wb, strlen(wb), &back, &why, &unknown),
	    0);
	CHECK(str_is(&back, SOC_F_WINLOG_RECORD_ID, "7649"));
	CHECK(str_is(&back, in("winlog.event_data.ProcessId"), "4"));
	CHECK(str_is(&back, in("winlog.event_data.Num"), "12"));
	CHECK(str_is(&back, in("winlog.event_data.List"), "a,b"));
	CHECK(str_is(&back, SOC_F_WINLOG_CHANNEL, "System"));
	CHECK_INT(back.ts, 1553038268123456700LL);
	soc_sbuf_free(&b);
}

static int thr_ids[2][1000];

static void *
thr_intern(void *arg)
{
	int t = (int)(intptr_t)arg;
	char name[64];

	for (int i = 0; i < 1000; i++) {
		int k = t ? 999 - i : i;	/* opposite orders */

		snprintf(name, sizeof(name), "winlog.event_data.T%d", k);
		thr_ids[t][k] = soc_field_intern(name, strlen(name));
	}
	return NULL;
}

static void
test_threads(void)
{
	pthread_t a, b;
	char name[64];
	int same = 0;

	pthread_create(&a, NULL, thr_intern, (void *)(intptr_t)0);
	pthread_create(&b, NULL, thr_intern, (void *)(intptr_t)1);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "winlog.event_data.T%d", i);
		same += thr_ids[0][i] == thr_ids[1][i] && thr_ids[0][i] >=
		    SOC_F_COUNT && soc_field_lookup(name, strlen(name)) ==
		    thr_ids[0][i] && strcmp(soc_field_name(thr_ids[0][i]),
		    name) == 0;
	}
	CHECK_INT(same, 1000);
}

/* Last: fills the process's table. */
static void
test_full(void)
{
	struct soc_wbuf b;
	struct soc_wire_reader r;
	struct soc_wire_hdr h;
	const char *why;
	uint64_t refused;
	uint8_t *p;
	char name[64];
	int f = 0, n = 0, keep = in("winlog.event_data.Image");

	/* a batch with names this process will not be able to intern */
	soc_wbuf_init(&b);
	soc_wire_begin(&b, SOC_WIRE_EVENTS, 9);
	soc_event_reset(&ev);
	soc_event_set_cstr(&ev, SOC_F_HOST_NAME, "pc1");
	soc_event_set_cstr(&ev, keep, "a.exe");
	soc_event_set_cstr(&ev, in("winlog.event_data.Fresh1"), "v1");
	soc_event_set_cstr(&ev, in("winlog.event_data.Fresh2"), "v2");
	soc_wire_add_event(&b, &ev);
	while ((p = memmem(b.data, b.len, "Fresh", 5)) != NULL)
		memcpy(p, "Never", 5);		/* names never interned */
	for (int i = 0; f != SOC_F_NONE && i < SOC_F_DYN_MAX + 10; i++) {
		snprintf(name, sizeof(name), "winlog.event_data.F%d", i);
		if ((f = in(name)) != SOC_F_NONE)
			n++;
	}
	CHECK(f == SOC_F_NONE);
	CHECK(n < SOC_F_DYN_MAX && n > SOC_F_DYN_MAX - 2000);
	refused = soc_field_dyn_refused();
	CHECK_INT(in("winlog.event_data.OneMore"), SOC_F_NONE);
	CHECK_INT(soc_field_dyn_refused() - refused, 1);
	CHECK_INT(in("winlog.event_data.Image"), keep);	/* still there */
	snprintf(name, sizeof(name), "winlog.event_data.F%d", n - 1);
	CHECK_STR(soc_field_name(SOC_F_COUNT + SOC_F_DYN_MAX - 1), name);
	/* the decoder skips and counts what it cannot intern, as one from
	 * before dynamic fields does; the rest of the event is kept */
	CHECK_INT(soc_wire_open(&r, b.data, b.len, &h, &why), 0);
	CHECK_INT(soc_wire_next_event(&r, &back, &why), 1);
	CHECK_INT(r.unknown_fields, 2);
	CHECK(str_is(&back, SOC_F_HOST_NAME, "pc1"));
	CHECK(str_is(&back, keep, "a.exe"));
	CHECK_INT(soc_event_dyn_count(&back), 1);
	soc_wbuf_free(&b);
}

int
main(void)
{
	test_intern();
	test_set_get();
	test_bounds();
	test_copy();
	test_wire();
	test_json();
	test_threads();
	test_full();
	return check_done();
}
