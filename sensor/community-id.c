/*
 * Community ID v1 (https://github.com/corelight/community-id-spec), seed
 * 0: "1:" + base64(SHA-1(seed . saddr . daddr . proto . 0 . sport .
 * dport)), all in network byte order, the endpoints ordered so the
 * smaller address (then port) comes first.  ICMP and ICMPv6 use the type
 * as source port and, for request/reply types, the type of the reply as
 * destination port (else the code); one-way types are not reordered.
 * This makes our network.community_id equal to Zeek's and Suricata's for
 * the same traffic.
 *
 * SHA-1 comes from nettle; it is not used for anything that needs
 * collision resistance.  The digest is computed once per flow (flow.c
 * keeps it in the flow entry) and turned into text per event.
 */
#include <string.h>

#include <nettle/sha1.h>

#include "decode.h"

static void
base64_20(const uint8_t in[20], char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t v;
	int i, o = 0;

	for (i = 0; i + 3 <= 20; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	v = (uint32_t)in[18] << 16 | (uint32_t)in[19] << 8;	/* 2 left */
	out[o++] = tab[v >> 18];
	out[o++] = tab[(v >> 12) & 63];
	out[o++] = tab[(v >> 6) & 63];
	out[o++] = '=';
	out[o] = '\0';
}

/*
 * Zeek's mapping of ICMP types to a port pair: a request or reply type
 * is paired with its counterpart (so both make one flow); *one_way is
 * set for the others, which keep the code as second port.
 */
static uint16_t
icmp_counterpart(uint8_t proto, uint16_t type, uint16_t code, bool *one_way)
{
	static const uint8_t v4[][2] = {
		{ 8, 0 }, { 0, 8 }, { 13, 14 }, { 14, 13 }, { 15, 16 },
		{ 16, 15 }, { 10, 9 }, { 9, 10 }, { 17, 18 }, { 18, 17 },
	};
	static const uint8_t v6[][2] = {
		{ 128, 129 }, { 129, 128 }, { 130, 131 }, { 131, 130 },
		{ 133, 134 }, { 134, 133 }, { 135, 136 }, { 136, 135 },
		{ 139, 140 }, { 140, 139 }, { 144, 145 }, { 145, 144 },
	};
	const uint8_t (*tab)[2] = proto == IPPROTO_NUM_ICMP ? v4 : v6;
	size_t n = proto == IPPROTO_NUM_ICMP ? sizeof(v4) / sizeof(v4[0]) :
	    sizeof(v6) / sizeof(v6[0]);

	for (size_t i = 0; i < n; i++)
		if (tab[i][0] == type) {
			*one_way = false;
			return tab[i][1];
		}
	*one_way = true;
	return code;
}

void
community_id_digest(uint8_t family, uint8_t proto, const uint8_t *src,
    const uint8_t *dst, uint16_t sport, uint16_t dport,
    uint8_t digest[COMMUNITY_ID_DIGEST])
{
	struct sha1_ctx sc;
	uint8_t buf[2 + 16 + 16 + 2 + 4];
	size_t alen = family == 4 ? 4 : 16, n = 0;
	bool ports, one_way = false;
	int c;

	if (proto == IPPROTO_NUM_ICMP || proto == IPPROTO_NUM_ICMPV6)
		dport = icmp_counterpart(proto, sport, dport, &one_way);
	ports = proto == IPPROTO_NUM_TCP || proto == IPPROTO_NUM_UDP ||
	    proto == IPPROTO_NUM_ICMP || proto == IPPROTO_NUM_ICMPV6 ||
	    proto == 132;	/* SCTP */
	c = memcmp(src, dst, alen);
	if (!one_way && (c > 0 || (c == 0 && ports && sport > dport))) {
		const uint8_t *t = src;
		uint16_t tp = sport;

		src = dst;
		dst = t;
		sport = dport;
		dport = tp;
	}
	buf[n++] = 0;		/* seed 0 */
	buf[n++] = 0;
	memcpy(buf + n, src, alen);
	n += alen;
	memcpy(buf + n, dst, alen);
	n += alen;
	buf[n++] = proto;
	buf[n++] = 0;
	if (ports) {
		buf[n++] = (uint8_t)(sport >> 8);
		buf[n++] = (uint8_t)sport;
		buf[n++] = (uint8_t)(dport >> 8);
		buf[n++] = (uint8_t)dport;
	}
	sha1_init(&sc);
	sha1_update(&sc, n, buf);
	sha1_digest(&sc, COMMUNITY_ID_DIGEST, digest);
}

void
community_id_format(const uint8_t digest[COMMUNITY_ID_DIGEST],
    char out[COMMUNITY_ID_LEN + 1])
{
	out[0] = '1';
	out[1] = ':';
	base64_20(digest, out + 2);
}

void
community_id(uint8_t family, uint8_t proto, const uint8_t *src,
    const uint8_t *dst, uint16_t sport, uint16_t dport,
    char out[COMMUNITY_ID_LEN + 1])
{
	uint8_t digest[COMMUNITY_ID_DIGEST];

	community_id_digest(family, proto, src, dst, sport, dport, digest);
	community_id_format(digest, out);
}
