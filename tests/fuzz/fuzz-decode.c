/*
 * Fuzz target: the whole packet path (link layers, IPv4/IPv6, fragment
 * reassembly, transport decoders, flow table, TCP stream reassembly, DNS,
 * HTTP, TLS and SSH).  Input: one selector byte, then
 * packets separated by the 4 bytes DE AD BE EF (a seed without separator
 * is a single packet).  Selector bits 0-2 pick the link type; bit 7 makes
 * the wire length exceed the captured length, as under a short snaplen.
 * Tiny pools (flows, fragment slots, stream buffers) and short timeouts
 * drive eviction, exhaustion and expiry too.
 * After every packet the flow table's invariants are checked
 * (flow_table_check; the pool is tiny, so this is cheap).
 * Each input gets its own context, freed before returning.
 */
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "pkt.h"
#include "fuzz.h"

#define NS		1000000000LL
#define MAX_PACKETS	64

static const int linktypes[8] = {
	1,	/* DLT_EN10MB */
	113,	/* DLT_LINUX_SLL */
	276,	/* DLT_LINUX_SLL2 */
	12,	/* DLT_RAW */
	228,	/* LINKTYPE_IPV4 */
	229,	/* LINKTYPE_IPV6 */
	0,	/* DLT_NULL */
	108,	/* DLT_LOOP */
};

static volatile size_t sink;

/* Reads every field of the event, so bad string offsets show up. */
static void
consume(void *arg, struct soc_event *ev)
{
	size_t *total = arg;
	char buf[512];

	for (int f = 0; f < SOC_F_COUNT; f++)
		if (soc_event_has(ev, f) && soc_event_text(ev, f, buf,
		    sizeof(buf)) > 0)
			*total += (unsigned char)buf[0];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t sep[4] = { 0xde, 0xad, 0xbe, 0xef };
	struct pkt_config cfg = { .max_flows = 4, .tcp_idle_ns = 10 * NS,
	    .udp_idle_ns = 5 * NS, .icmp_idle_ns = 4 * NS,
	    .active_ns = 7 * NS, .frag_max = 2, .frag_timeout_ns = 8 * NS,
	    .stream_max = 3 };
	struct pkt_ctx *ctx;
	const uint8_t *p, *end, *next;
	size_t total = 0, len;
	int lt, snap, n = 0;

	if (size < 1)
		return 0;
	lt = linktypes[data[0] & 7];
	snap = (data[0] & 0x80) != 0;
	if ((ctx = pkt_new(&cfg, consume, &total)) == NULL)
		return 0;
	p = data + 1;
	end = data + size;
	while (p <= end && n < MAX_PACKETS) {
		next = (size_t)(end - p) >= sizeof(sep) ?
		    memmem(p, (size_t)(end - p), sep, sizeof(sep)) : NULL;
		len = (size_t)((next != NULL ? next : end) - p);
		pkt_handle(ctx, lt, (int64_t)n * 3 * NS, p, (uint32_t)len,
		    (uint32_t)len + (snap ? 1000 : 0));
		pkt_expire(ctx, (int64_t)n * 3 * NS);
		if (flow_table_check(ctx, NULL) != 0)
			abort();
		n++;
		if (next == NULL)
			break;
		p = next + sizeof(sep);
	}
	pkt_finish(ctx);
	pkt_free(ctx);
	sink = total;
	return 0;
}
