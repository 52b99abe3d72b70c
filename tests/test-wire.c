/*
 * Wire codec: round trips, and refusal of every kind of malformed batch
 * (each with the reason the decoder gives), for event, heartbeat and
 * alert batches.
 */
#include <string.h>

#include "soc/wire.h"
#include "soc/json.h"
#include "check.h"

static struct soc_event ev, out;

static void
make_event(struct soc_event *e)
{
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	soc_event_reset(e);
	e->ts = 1764215000123456789LL;
	soc_event_set_cstr(e, SOC_F_EVENT_DATASET, "log.sshd");
	soc_event_set_cstr(e, SOC_F_USER_NAME, "root");
	soc_event_set_ip4(e, SOC_F_SOURCE_IP, (const uint8_t[]){ 203, 0, 113, 7 });
	soc_event_set_ip6(e, SOC_F_DEST_IP, v6);
	soc_event_set_int(e, SOC_F_SOURCE_PORT, 50022);
	soc_event_set_int(e, SOC_F_EVENT_START, -5);
	soc_event_set_str(e, SOC_F_MESSAGE, "a\0b", 3);
}

static void
test_roundtrip(void)
{
	struct soc_wbuf b;
	struct soc_wire_reader r;
	struct soc_wire_hdr hdr;
	const char *why = NULL;
	size_t len;
	char name[256];
	uint64_t v;

	soc_wbuf_init(&b);
	make_event(&ev);
	soc_wire_begin(&b, SOC_WIRE_EVENTS, 0);
	CHECK(soc_wire_add_event(&b, &ev) == 0);
	CHECK(soc_wire_add_event(&b, &ev) == 0);
	soc_wire_set_seq(b.data, b.len, 42);
	soc_wire_set_prev(b.data, b.len, 41);
	CHECK(soc_wire_open(&r, b.data, b.len, &hdr, &why) == 0);
	CHECK_INT(hdr.seq, 42);
	CHECK_INT(hdr.prev, 41);
	CHECK_INT(hdr.count, 2);
	CHECK_INT(hdr.kind, SOC_WIRE_EVENTS);
	for (int i = 0; i < 2; i++) {
		CHECK_INT(soc_wire_next_event(&r, &out, &why), 1);
		CHECK_INT(out.ts, ev.ts);
		CHECK(memcmp(out.present, ev.present, sizeof(ev.present)) == 0);
		CHECK(soc_ip_equal(soc_event_ip(&out, SOC_F_DEST_IP),
		    soc_event_ip(&ev, SOC_F_DEST_IP)));
		CHECK_INT(soc_event_int(&out, SOC_F_SOURCE_PORT, 0), 50022);
		CHECK_INT(soc_event_int(&out, SOC_F_EVENT_START, 0), -5);
		CHECK(memcmp(soc_event_str(&out, SOC_F_MESSAGE, &len), "a\0b", 3) == 0);
		CHECK_INT(len, 3);
	}
	CHECK_INT(soc_wire_next_event(&r, &out, &why), 0);

	soc_wire_begin(&b, SOC_WIRE_HEARTBEAT, 7);
	soc_wire_add_counter(&b, "captured", 123);
	soc_wire_add_counter(&b, "dropped", 0);
	CHECK(soc_wire_open(&r, b.data, b.len, &hdr, &why) == 0);
	CHECK_INT(soc_wire_next_counter(&r, name, &v, &why), 1);
	CHECK_STR(name, "captured");
	CHECK_INT(v, 123);
	CHECK_INT(soc_wire_next_counter(&r, name, &v, &why), 1);
	CHECK_INT(soc_wire_next_counter(&r, name, &v, &why), 0);
	soc_wbuf_free(&b);
}

/*
 * The truncation mark travels: set as the flag alone (as the intakes do)
 * or as the field, it arrives as both, and the JSON of the decoded event
 * says "soc": {"truncated": true}.  A decoder that does not know the
 * field id (here: the id moved past the registry, as for an old
 * correlator) skips it, counts it and reads the rest of the event.
 */
static void
test_truncated_mark(void)
{
	struct soc_wbuf b;
	struct soc_wire_reader r;
	struct soc_wire_hdr hdr;
	struct soc_sbuf js;
	const char *why = NULL;
	size_t len;
	uint8_t *p;

	soc_wbuf_init(&b);
	soc_sbuf_init(&js);
	make_event(&ev);
	ev.flags |= SOC_EV_TRUNCATED;	/* the flag alone */
	CHECK(!soc_event_has(&ev, SOC_F_SOC_TRUNCATED));
	soc_wire_begin(&b, SOC_WIRE_EVENTS, 5);
	CHECK(soc_wire_add_event(&b, &ev) == 0);
	make_event(&ev);
	soc_event_set_truncated(&ev);	/* flag and field */
	CHECK(soc_wire_add_event(&b, &ev) == 0);
	make_event(&ev);		/* not cut */
	CHECK(soc_wire_add_event(&b, &ev) == 0);
	CHECK(soc_wire_validate(b.data, b.len, &why) == 0);
	CHECK(soc_wire_open(&r, b.data, b.len, &hdr, &why) == 0);
	for (int i = 0; i < 3; i++) {
		CHECK_INT(soc_wire_next_event(&r, &out, &why), 1);
		CHECK_INT(!!(out.flags & SOC_EV_TRUNCATED), i < 2);
		CHECK_INT(soc_event_truncated(&out), i < 2);
		CHECK_INT(soc_event_int(&out, SOC_F_SOC_TRUNCATED, 0), i < 2);
		CHECK(memcmp(soc_event_str(&out, SOC_F_MESSAGE, &len), "a\0b",
		    3) == 0);
		soc_sbuf_reset(&js);
		soc_json_event(&js, &out);
		CHECK_INT(strstr(js.data, "\"soc\":{\"truncated\":true}") !=
		    NULL, i < 2);
		CHECK(strstr(js.data, "\"truncated\":1") == NULL);
	}
	CHECK_INT(soc_wire_next_event(&r, &out, &why), 0);
	CHECK_INT(r.unknown_fields, 0);

	/* an old decoder: the mark's id is unknown to it */
	soc_wire_begin(&b, SOC_WIRE_EVENTS, 6);
	make_event(&ev);
	ev.flags |= SOC_EV_TRUNCATED;
	CHECK(soc_wire_add_event(&b, &ev) == 0);
	p = b.data + b.len - 12;	/* the mark is the event's last field */
	CHECK_INT(p[0] | p[1] << 8, SOC_F_SOC_TRUNCATED);
	p[0] = (uint8_t)(SOC_F_COUNT + 7);
	p[1] = (uint8_t)((SOC_F_COUNT + 7) >> 8);
	CHECK(soc_wire_validate(b.data, b.len, &why) == 0);
	CHECK(soc_wire_open(&r, b.data, b.len, &hdr, &why) == 0);
	CHECK_INT(soc_wire_next_event(&r, &out, &why), 1);
	CHECK_INT(r.unknown_fields, 1);
	CHECK(!soc_event_truncated(&out));
	CHECK_INT(soc_event_int(&out, SOC_F_SOURCE_PORT, 0), 50022);
	CHECK_INT(soc_wire_next_event(&r, &out, &why), 0);
	soc_sbuf_free(&js);
	soc_wbuf_free(&b);
}

/* Each case damages a valid two-event batch and names the reason. */
static void
test_malformed(void)
{
	struct soc_wbuf b;
	uint8_t bad[4096];
	const char *why;
	size_t n;

	soc_wbuf_init(&b);
	make_event(&ev);
	soc_wire_begin(&b, SOC_WIRE_EVENTS, 1);
	soc_wire_add_event(&b, &ev);
	soc_wire_add_event(&b, &ev);
	CHECK(b.len < sizeof(bad));
	CHECK(soc_wire_validate(b.data, b.len, &why) == 0);

	/* every truncation is refused */
	for (n = 0; n < b.len; n++) {
		why = NULL;
		CHECK(soc_wire_validate(b.data, n, &why) == -1 && why != NULL);
	}
	/* trailing garbage */
	memcpy(bad, b.data, b.len);
	bad[b.len] = 0;
	CHECK(soc_wire_validate(bad, b.len + 1, &why) == -1);
	CHECK_STR(why, "trailing bytes after the last record");
	/* magic, version, kind */
	memcpy(bad, b.data, b.len);
	bad[0] = 'X';
	CHECK(soc_wire_validate(bad, b.len, &why) == -1);
	CHECK_STR(why, "bad magic (not a soc batch)");
	memcpy(bad, b.data, b.len);
	bad[4] = 9;
	CHECK(soc_wire_validate(bad, b.len, &why) == -1);
	CHECK_STR(why, "unsupported wire version");
	memcpy(bad, b.data, b.len);
	bad[5] = 77;
	CHECK(soc_wire_validate(bad, b.len, &why) == -1);
	/* count larger than the records present */
	memcpy(bad, b.data, b.len);
	bad[16] = 3;
	CHECK(soc_wire_validate(bad, b.len, &why) == -1);
	CHECK_STR(why, "event header truncated");
	/* event length pointing past the batch */
	memcpy(bad, b.data, b.len);
	bad[SOC_WIRE_HDR_LEN + 3] = 0x7f;
	CHECK(soc_wire_validate(bad, b.len, &why) == -1);
	CHECK_STR(why, "event length exceeds the batch");
	/* an INT field whose length is not 8: first field is event.dataset
	 * (STR); find source.port's length and damage it */
	memcpy(bad, b.data, b.len);
	for (n = SOC_WIRE_HDR_LEN + 14; n + 4 < b.len; ) {
		uint16_t id = (uint16_t)(bad[n] | bad[n + 1] << 8);
		uint16_t len = (uint16_t)(bad[n + 2] | bad[n + 3] << 8);

		if (id == SOC_F_SOURCE_PORT) {
			bad[n + 2] = 7;
			bad[n + 4 + 7] = 0;	/* keep the walk aligned-ish */
			break;
		}
		n += 4 + len;
	}
	CHECK(soc_wire_validate(bad, b.len, &why) == -1);
	/* unknown field ids from a newer sensor are skipped, not fatal */
	memcpy(bad, b.data, b.len);
	bad[SOC_WIRE_HDR_LEN + 14] = 0xff;
	bad[SOC_WIRE_HDR_LEN + 15] = 0x7f;
	CHECK(soc_wire_validate(bad, b.len, &why) == 0);
	soc_wbuf_free(&b);

	/* acks */
	uint8_t ack[SOC_WIRE_ACK_LEN];
	uint64_t seq = 0;

	soc_wire_ack_encode(ack, 99, SOC_WIRE_ACK);
	CHECK_INT(soc_wire_ack_decode(ack, sizeof(ack), &seq), SOC_WIRE_ACK);
	CHECK_INT(seq, 99);
	soc_wire_ack_encode(ack, 98, SOC_WIRE_NACK);
	CHECK_INT(soc_wire_ack_decode(ack, sizeof(ack), &seq), SOC_WIRE_NACK);
	CHECK_INT(seq, 98);
	ack[5] = 7;
	CHECK(soc_wire_ack_decode(ack, sizeof(ack), &seq) == -1);
	ack[5] = 0;
	CHECK(soc_wire_ack_decode(ack, sizeof(ack) - 1, &seq) == -1);
	ack[0] = 'Z';
	CHECK(soc_wire_ack_decode(ack, sizeof(ack), &seq) == -1);
}

/* Alert batches: opaque blobs, same header and chain as events. */
static void
test_alerts(void)
{
	struct soc_wbuf b;
	struct soc_wire_reader r;
	struct soc_wire_hdr hdr;
	const char *why = NULL;
	const void *p;
	size_t len, n;
	uint8_t bad[256];
	static const char a1[] = "{\"event.id\":\"lamdong:1:1\"}";

	soc_wbuf_init(&b);
	soc_wire_begin(&b, SOC_WIRE_ALERTS, 0);
	CHECK(soc_wire_add_blob(&b, a1, sizeof(a1) - 1) == 0);
	CHECK(soc_wire_add_blob(&b, "", 0) == 0);
	CHECK(soc_wire_add_blob(&b, "x\0y", 3) == 0);
	soc_wire_set_seq(b.data, b.len, 9);
	soc_wire_set_prev(b.data, b.len, 8);
	CHECK(soc_wire_validate(b.data, b.len, &why) == 0);
	CHECK(soc_wire_open(&r, b.data, b.len, &hdr, &why) == 0);
	CHECK_INT(hdr.kind, SOC_WIRE_ALERTS);
	CHECK_INT(hdr.seq, 9);
	CHECK_INT(hdr.prev, 8);
	CHECK_INT(hdr.count, 3);
	CHECK_INT(soc_wire_next_blob(&r, &p, &len, &why), 1);
	CHECK(len == sizeof(a1) - 1 && memcmp(p, a1, len) == 0);
	CHECK_INT(soc_wire_next_blob(&r, &p, &len, &why), 1);
	CHECK_INT(len, 0);
	CHECK_INT(soc_wire_next_blob(&r, &p, &len, &why), 1);
	CHECK(len == 3 && memcmp(p, "x\0y", 3) == 0);
	CHECK_INT(soc_wire_next_blob(&r, &p, &len, &why), 0);

	/* records of one kind are never read as another */
	CHECK(soc_wire_open(&r, b.data, b.len, &hdr, &why) == 0);
	CHECK_INT(soc_wire_next_event(&r, &out, &why), -1);
	CHECK_STR(why, "not an event batch");
	CHECK(b.len < sizeof(bad));
	memcpy(bad, b.data, b.len);
	bad[5] = SOC_WIRE_EVENTS;
	CHECK(soc_wire_open(&r, bad, b.len, &hdr, &why) == 0);
	CHECK_INT(soc_wire_next_blob(&r, &p, &len, &why), -1);
	CHECK_STR(why, "not an alert batch");

	/* every truncation is refused */
	for (n = 0; n < b.len; n++) {
		why = NULL;
		CHECK(soc_wire_validate(b.data, n, &why) == -1 && why != NULL);
	}
	memcpy(bad, b.data, b.len);
	bad[b.len] = 0;
	CHECK(soc_wire_validate(bad, b.len + 1, &why) == -1);
	CHECK_STR(why, "trailing bytes after the last record");
	/* a blob length pointing past the batch */
	memcpy(bad, b.data, b.len);
	bad[SOC_WIRE_HDR_LEN + 3] = 0x80;
	CHECK(soc_wire_validate(bad, b.len, &why) == -1);
	CHECK_STR(why, "blob length exceeds the batch");
	/* count larger than the records present */
	memcpy(bad, b.data, b.len);
	bad[16] = 4;
	CHECK(soc_wire_validate(bad, b.len, &why) == -1);
	CHECK_STR(why, "blob header truncated");
	/* the encoder refuses what no batch could hold */
	CHECK(soc_wire_add_blob(&b, a1, (size_t)SOC_WIRE_MAX_BATCH + 1) == -1);
	soc_wbuf_free(&b);
	CHECK(soc_wire_add_blob(&b, a1, 1) == -1);	/* no batch begun */
}

int
main(void)
{
	test_roundtrip();
	test_malformed();
	test_truncated_mark();
	test_alerts();
	return check_done();
}
