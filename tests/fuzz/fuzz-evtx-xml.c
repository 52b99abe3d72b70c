/*
 * Fuzz target: a Windows event record's XML (sensor/winlog-xml.c), as
 * libevtx renders it from an untrusted EVTX file, then the ECS mapping
 * (winlog-ecs.c).  Whatever it makes must survive the wire and JSON.
 */
#include <stdlib.h>
#include <string.h>

#include "soc/json.h"
#include "soc/wire.h"
#include "winlog.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct soc_event ev, back;
	struct winlog_stats st = { 0 };
	struct soc_wbuf w;
	struct soc_sbuf b;
	struct soc_wire_reader r;
	struct soc_wire_hdr h;
	const char *why;

	soc_event_reset(&ev);
	winlog_xml_parse((const char *)data, size, &ev, &st);
	winlog_ecs(&ev);
	winlog_message(&ev);
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
