/*
 * Per-protocol fuzz targets for the packet-side app parsers: the fuzz
 * input is the application payload, wrapped here in raw IPv4/UDP or TCP
 * packets to the protocol's port (and split in two segments for TCP so
 * reassembly runs), then fed through pkt_handle() as the sensor would.
 */
#ifndef SOC_FUZZ_APP_H
#define SOC_FUZZ_APP_H

#include <pcap/pcap.h>
#include <string.h>

#include "pkt.h"

static void
fuzz_app_emit(void *arg, struct soc_event *ev)
{
	(void)arg;
	(void)ev;
}

static uint16_t
fuzz_app_put(uint8_t *pkt, uint8_t proto, uint16_t sport, uint16_t dport,
    uint32_t seq, uint8_t flags, const uint8_t *pl, size_t n, int reverse)
{
	size_t l4 = proto == 6 ? 20 : 8, tot = 20 + l4 + n;
	static const uint8_t a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 2 };

	memset(pkt, 0, 20 + l4);
	pkt[0] = 0x45;
	pkt[2] = (uint8_t)(tot >> 8);
	pkt[3] = (uint8_t)tot;
	pkt[8] = 64;
	pkt[9] = proto;
	memcpy(pkt + 12, reverse ? b : a, 4);
	memcpy(pkt + 16, reverse ? a : b, 4);
	pkt[20] = (uint8_t)(sport >> 8);
	pkt[21] = (uint8_t)sport;
	pkt[22] = (uint8_t)(dport >> 8);
	pkt[23] = (uint8_t)dport;
	if (proto == 6) {
		pkt[24] = (uint8_t)(seq >> 24);
		pkt[25] = (uint8_t)(seq >> 16);
		pkt[26] = (uint8_t)(seq >> 8);
		pkt[27] = (uint8_t)seq;
		pkt[32] = 5 << 4;
		pkt[33] = flags;
	} else {
		pkt[24] = (uint8_t)((8 + n) >> 8);
		pkt[25] = (uint8_t)(8 + n);
	}
	if (n > 0)		/* pl is NULL for SYN and SYN-ACK */
		memcpy(pkt + 20 + l4, pl, n);
	return (uint16_t)tot;
}

/* Feed data as the payload of one UDP datagram, or of a TCP session's
 * first two client segments (split at the first byte's value) plus the
 * same bytes as the server's answer. */
static int
fuzz_app_run(const uint8_t *data, size_t size, uint8_t proto, uint16_t port)
{
	static uint8_t pkt[70000];
	struct pkt_config cfg = { .max_flows = 64, .stream_max = 16, .frag_max = 2,
	    .http_cookies = 1 };		/* the optional paths too */
	struct pkt_ctx *ctx;
	uint16_t len;
	size_t cut;

	if (size > 60000 || (ctx = pkt_new(&cfg, fuzz_app_emit, NULL)) == NULL)
		return 0;
	if (proto == 17) {
		len = fuzz_app_put(pkt, 17, 40000, port, 0, 0, data, size, 0);
		pkt_handle(ctx, DLT_RAW, 1, pkt, len, len);
		len = fuzz_app_put(pkt, 17, port, 40000, 0, 0, data, size, 1);
		pkt_handle(ctx, DLT_RAW, 2, pkt, len, len);
	} else {
		cut = size ? data[0] % (size + 1) : 0;
		len = fuzz_app_put(pkt, 6, 40000, port, 1000, 0x02, NULL, 0, 0);
		pkt_handle(ctx, DLT_RAW, 1, pkt, len, len);
		len = fuzz_app_put(pkt, 6, port, 40000, 5000, 0x12, NULL, 0, 1);
		pkt_handle(ctx, DLT_RAW, 2, pkt, len, len);
		len = fuzz_app_put(pkt, 6, 40000, port, 1001, 0x18, data, cut, 0);
		pkt_handle(ctx, DLT_RAW, 3, pkt, len, len);
		len = fuzz_app_put(pkt, 6, 40000, port, 1001 + (uint32_t)cut, 0x18,
		    data + cut, size - cut, 0);
		pkt_handle(ctx, DLT_RAW, 4, pkt, len, len);
		len = fuzz_app_put(pkt, 6, port, 40000, 5001, 0x18, data, size, 1);
		pkt_handle(ctx, DLT_RAW, 5, pkt, len, len);
	}
	pkt_finish(ctx);
	pkt_free(ctx);
	return 0;
}

#endif
