/*
 * Fuzz target: the endpoint inventory (correlator/endpoints.c) on
 * events whose host and Defender fields come from an untrusted sender:
 * the host id (lower-cased, bounded), the signature version and age
 * read from a 1116/1117/1150/1151/2000/5007's EventData, the channel
 * list.  Input: byte 0 picks the event id, byte 1 the field name, then
 * "host\nvalue".  The table is kept across inputs (bounded by its
 * quota), as a running correlator keeps it.
 */
#include <stdio.h>
#include <string.h>

#include "endpoints.h"
#include "soc/event.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ids[] = { "1116", "1117", "1150", "1151",
	    "2000", "5007", "5001", "1000" };
	static const char *const names[] = { "Signature Version",
	    "Security intelligence Version", "AV signature version",
	    "Current security intelligence Version", "New Value",
	    "AV signature age", "Last security intelligence age",
	    "Threat Name" };
	static struct store_endpoint_conf c = { 3600000000000LL,
	    3600000000000LL, 64, 0.95, 0 };
	static struct endpoints *ep;
	static struct soc_event ev;
	struct endpoints_stats s;
	char full[SOC_F_DYN_NAME_MAX + 1];
	const char *p, *nl;
	size_t n;
	int f;

	if (ep == NULL && (ep = endpoints_new(&c)) == NULL)
		return 0;
	if (size < 2)
		return 0;
	soc_event_reset(&ev);
	ev.ts = 1700000000000000000LL + (int64_t)data[0] * 1000000000LL;
	soc_event_set_cstr(&ev, SOC_F_WINLOG_CHANNEL,
	    "Microsoft-Windows-Windows Defender/Operational");
	soc_event_set_cstr(&ev, SOC_F_WINLOG_EVENT_ID, ids[data[0] % 8]);
	p = (const char *)data + 2;
	n = size - 2;
	if ((nl = memchr(p, '\n', n)) == NULL)
		nl = p + n;
	soc_event_set_str(&ev, SOC_F_WINLOG_COMPUTER, p, (size_t)(nl - p));
	if (nl < p + n) {
		snprintf(full, sizeof(full), "winlog.event_data.%s",
		    names[data[1] % 8]);
		if ((f = soc_field_intern(full, strlen(full))) != SOC_F_NONE)
			soc_event_set_str(&ev, f, nl + 1,
			    (size_t)(p + n - nl - 1));
	}
	endpoints_prefetch(ep, "fz", "gw", &ev);
	endpoints_event(ep, data[1] & 0x80 ? "fz2" : "fz", "gw", &ev,
	    ev.ts);
	endpoints_stats(ep, &s);
	if (s.endpoints > 2 * 64)
		__builtin_trap();	/* the quota bounds every agency */
	return 0;
}
