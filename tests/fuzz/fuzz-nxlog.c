/*
 * Fuzz target: NXLog CE's JSON of a Windows record (sensor/log-nxlog.c),
 * alone on a line and behind a syslog header (log_syslog_parse), from an
 * untrusted sender.  Whatever it makes must survive the wire and JSON.
 */
#include <stdlib.h>
#include <string.h>

#include "soc/json.h"
#include "soc/wire.h"
#include "logparse.h"
#include "nxlog.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct soc_event ev, back;
	static char line[70000];
	struct logparse_ctx ctx = { .now_ns = 1, .tz_offset_sec = 25200 };
	struct soc_wbuf w;
	struct soc_sbuf b;
	struct soc_wire_reader r;
	struct soc_wire_hdr h;
	const char *why;
	size_t n;

	soc_event_reset(&ev);
	nxlog_json_parse(&ctx, (const char *)data, size, &ev, &why);
	n = strlen("<14>Dec  7 09:00:00 ws1 nxlog: ");
	if (size < sizeof(line) - n) {
		memcpy(line, "<14>Dec  7 09:00:00 ws1 nxlog: ", n);
		memcpy(line + n, data, size);
		log_syslog_parse(&ctx, line, n + size, &ev);
	}
	soc_wbuf_init(&w);
	soc_wire_begin(&w, SOC_WIRE_EVENTS, 1);
	if (soc_wire_add_event(&w, &ev) == 0 &&
	    (soc_wire_open(&r, w.data, w.len, &h, &why) == -1 ||
	    soc_wire_next_event(&r, &back, &why) != 1 ||
	    soc_event_dyn_count(&back) != soc_event_dyn_count(&ev)))
		abort();	/* we must read what we write */
	soc_wbuf_free(&w);
	soc_sbuf_init(&b);
	soc_json_event(&b, &ev);
	if (!b.oom && soc_json_read_event(b.data, b.len, &back, &why, NULL) == -1)
		abort();
	soc_sbuf_free(&b);
	return 0;
}
