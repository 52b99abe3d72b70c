/*
 * TLS ClientHello: one network.tls event per TCP flow with the server
 * name (SNI, tls.client.server_name), the highest version offered
 * (supported_versions when present, else the legacy version; as "1.3",
 * "1.2", ...), the ALPN list (tls.next_protocol, comma-joined, in the
 * client's order) and the JA4 fingerprint (soc.tls.client.ja4, FoxIO's
 * spec: GREASE ignored, ciphers sorted, extensions sorted without SNI
 * and ALPN, then the signature algorithms in wire order, each list
 * hashed with SHA-256 and cut to 12 hex digits).
 *
 * The handshake message may span several records and segments:
 * tcp-reasm.c hands us the client's bytes from the start, and we gather
 * the handshake fragments of consecutive records until the ClientHello
 * is whole.  Every length is checked against its enclosing one; a
 * message that is not a sound ClientHello emits nothing and is counted
 * in stats.tls_malformed.
 *
 * The server's flight (TLS 1.2 and earlier, where it is plaintext):
 * ServerHello, then the Certificate message, whose first certificate,
 * the leaf, app-x509.c reads into one network.x509 event per flow
 * (source is the client, as on network.tls), as Zeek writes one x509
 * record per certificate.  A TLS 1.3 ServerHello (supported_versions
 * 0x0304) ends the direction: its Certificate is encrypted.  The leaf
 * is read from the first 4 KB of the server's bytes (the stream buffer;
 * the records may be split anywhere); a leaf that does not fit is
 * counted in stats.x509_truncated, an unsound one in x509_malformed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "decode.h"

#define TLS_REC_HDR		5
#define TLS_HS_MAX		4096	/* = the stream buffer */
#define TLS_LIST_MAX		512	/* ciphers, extensions, sigalgs kept */
#define TLS_ALPN_MAX		256

/* The first 12 hex digits of the SHA-256 digest (all JA4 needs). */
static void
sha256_hex12(struct sha256_ctx *s, char out[13])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t d[6];

	sha256_digest(s, sizeof(d), d);
	for (int i = 0; i < 6; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[12] = '\0';
}

/* ---- ClientHello ---- */

struct tls_hello {
	uint16_t	legacy;
	uint16_t	best;		/* highest of supported_versions, or 0 */
	uint16_t	cipher[TLS_LIST_MAX], ext[TLS_LIST_MAX],
			sigalg[TLS_LIST_MAX];
	uint32_t	ncipher, next, nsigalg;	/* non-GREASE, all counted */
	const uint8_t	*sni;
	uint32_t	 sni_len;
	bool		 has_sni;
	char		 alpn[TLS_ALPN_MAX];
	size_t		 alpn_len;
	const uint8_t	*alpn0;		/* first ALPN value */
	uint32_t	 alpn0_len;
};

static bool
tls_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

static void
list_add(uint16_t *list, uint32_t *n, uint16_t v)
{
	if (tls_grease(v))
		return;
	if (*n < TLS_LIST_MAX)
		list[*n] = v;
	(*n)++;
}

static int
tls_ext_sni(struct tls_hello *h, const uint8_t *d, uint32_t n)
{
	uint32_t i = 2, l;

	h->has_sni = true;
	if (n < 2 || rd16(d) != n - 2)
		return n == 0 ? 0 : -1;		/* empty in a server echo */
	while (n - i >= 3) {
		l = rd16(d + i + 1);
		if (l > n - i - 3)
			return -1;
		if (d[i] == 0 && h->sni == NULL) {
			h->sni = d + i + 3;
			h->sni_len = l;
		}
		i += 3 + l;
	}
	return i == n ? 0 : -1;
}

static int
tls_ext_alpn(struct tls_hello *h, const uint8_t *d, uint32_t n)
{
	uint32_t i = 2, l;

	if (n < 2 || rd16(d) != n - 2)
		return -1;
	while (i < n) {
		l = d[i];
		if (l > n - i - 1)
			return -1;
		if (h->alpn0 == NULL) {
			h->alpn0 = d + i + 1;
			h->alpn0_len = l;
		}
		if (h->alpn_len + l + 1 < sizeof(h->alpn)) {
			if (h->alpn_len > 0)
				h->alpn[h->alpn_len++] = ',';
			memcpy(h->alpn + h->alpn_len, d + i + 1, l);
			h->alpn_len += l;
		}
		i += 1 + l;
	}
	return 0;
}

static int
tls_ext_versions(struct tls_hello *h, const uint8_t *d, uint32_t n)
{
	if (n < 1 || d[0] != n - 1 || d[0] % 2 != 0)
		return -1;
	for (uint32_t i = 1; i + 1 < n; i += 2) {
		uint16_t v = rd16(d + i);

		if (!tls_grease(v) && v > h->best && v <= 0x0304)
			h->best = v;
	}
	return 0;
}

static int
tls_ext_sigalgs(struct tls_hello *h, const uint8_t *d, uint32_t n)
{
	if (n < 2 || rd16(d) != n - 2 || n % 2 != 0)
		return -1;
	for (uint32_t i = 2; i < n; i += 2)
		list_add(h->sigalg, &h->nsigalg, rd16(d + i));
	return 0;
}

static int
tls_extensions(struct tls_hello *h, const uint8_t *d, uint32_t n)
{
	uint32_t i = 0, l;
	uint16_t type;
	int r = 0;

	while (i < n && r == 0) {
		if (n - i < 4)
			return -1;
		type = rd16(d + i);
		l = rd16(d + i + 2);
		if (l > n - i - 4)
			return -1;
		list_add(h->ext, &h->next, type);
		switch (type) {
		case 0x0000:
			r = tls_ext_sni(h, d + i + 4, l);
			break;
		case 0x0010:
			r = tls_ext_alpn(h, d + i + 4, l);
			break;
		case 0x002b:
			r = tls_ext_versions(h, d + i + 4, l);
			break;
		case 0x000d:
			r = tls_ext_sigalgs(h, d + i + 4, l);
			break;
		}
		i += 4 + l;
	}
	return r;
}

/* The ClientHello body (after the 4-byte handshake header). */
static int
tls_client_hello(struct tls_hello *h, const uint8_t *d, uint32_t n)
{
	uint32_t i = 34, l;

	if (n < 35)
		return -1;
	h->legacy = rd16(d);
	l = d[i++];				/* session id */
	if (l > 32 || n - i < l + 2)
		return -1;
	i += l;
	l = rd16(d + i);			/* cipher suites */
	i += 2;
	if (l % 2 != 0 || n - i < l + 1)
		return -1;
	for (uint32_t k = 0; k < l; k += 2)
		list_add(h->cipher, &h->ncipher, rd16(d + i + k));
	i += l;
	l = d[i++];				/* compression methods */
	if (n - i < l)
		return -1;
	i += l;
	if (i == n)
		return 0;			/* no extensions */
	if (n - i < 2 || rd16(d + i) != n - i - 2)
		return -1;
	return tls_extensions(h, d + i + 2, n - i - 2);
}

static int
cmp16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Hashes "xxxx,xxxx,..." of list (n entries) into the running hash. */
static void
hash_list(struct sha256_ctx *s, const uint16_t *list, uint32_t n)
{
	static const char hex[] = "0123456789abcdef";
	char item[5];

	for (uint32_t i = 0; i < n; i++) {
		item[0] = ',';
		for (int k = 0; k < 4; k++)
			item[1 + k] = hex[(list[i] >> (12 - 4 * k)) & 15];
		sha256_update(s, i == 0 ? 4 : 5,
		    (const uint8_t *)(i == 0 ? item + 1 : item));
	}
}

static bool
is_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z');
}

static const char *
tls_version_name(uint16_t v, bool ja4)
{
	switch (v) {
	case 0x0304:
		return ja4 ? "13" : "1.3";
	case 0x0303:
		return ja4 ? "12" : "1.2";
	case 0x0302:
		return ja4 ? "11" : "1.1";
	case 0x0301:
		return ja4 ? "10" : "1.0";
	case 0x0300:
		return ja4 ? "s3" : "3.0";
	case 0x0002:
		return ja4 ? "s2" : "2.0";
	}
	return ja4 ? "00" : NULL;
}

/* JA4 "t13d1516h2_8daaf6152771_e5627efa2ab1" into out[37]. */
static void
tls_ja4(struct tls_hello *h, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	uint16_t v = h->best != 0 ? h->best : h->legacy;
	uint32_t nc = h->ncipher < TLS_LIST_MAX ? h->ncipher : TLS_LIST_MAX;
	uint32_t ne = h->next < TLS_LIST_MAX ? h->next : TLS_LIST_MAX;
	uint32_t ns = h->nsigalg < TLS_LIST_MAX ? h->nsigalg : TLS_LIST_MAX;
	uint32_t k = 0;
	struct sha256_ctx s;
	char a0 = '0', a1 = '0', hb[13], hc[13];

	if (h->alpn0 != NULL && h->alpn0_len > 0) {
		uint8_t f = h->alpn0[0], l = h->alpn0[h->alpn0_len - 1];

		if (is_alnum(f) && is_alnum(l)) {
			a0 = (char)f;
			a1 = (char)l;
		} else {
			a0 = hex[f >> 4];
			a1 = hex[l & 15];
		}
	}
	qsort(h->cipher, nc, sizeof(h->cipher[0]), cmp16);
	if (nc == 0)
		memcpy(hb, "000000000000", 13);
	else {
		sha256_init(&s);
		hash_list(&s, h->cipher, nc);
		sha256_hex12(&s, hb);
	}
	for (uint32_t i = 0; i < ne; i++)	/* without SNI and ALPN */
		if (h->ext[i] != 0x0000 && h->ext[i] != 0x0010)
			h->ext[k++] = h->ext[i];
	qsort(h->ext, k, sizeof(h->ext[0]), cmp16);
	if (k == 0)
		memcpy(hc, "000000000000", 13);
	else {
		sha256_init(&s);
		hash_list(&s, h->ext, k);
		if (ns > 0) {
			sha256_update(&s, 1, (const uint8_t *)"_");
			hash_list(&s, h->sigalg, ns);
		}
		sha256_hex12(&s, hc);
	}
	snprintf(out, 37, "t%s%c%02u%02u%c%c_%s_%s", tls_version_name(v, true),
	    h->has_sni ? 'd' : 'i', h->ncipher > 99 ? 99 : h->ncipher,
	    h->next > 99 ? 99 : h->next, a0, a1, hb, hc);
}

static void
tls_emit(struct pkt_ctx *ctx, const struct pkt_packet *p, struct tls_hello *h)
{
	struct soc_event *ev = &ctx->ev;
	const char *ver = tls_version_name(h->best ? h->best : h->legacy, false);
	char ja4[37];

	tls_ja4(h, ja4);
	decode_event_init(ctx, p, "network.tls", true);
	soc_event_set_cstr(ev, SOC_F_EVENT_ACTION, "tls_client_hello");
	soc_event_set_cstr(ev, SOC_F_NET_PROTOCOL, "tls");
	if (h->sni != NULL && h->sni_len > 0)
		soc_event_set_str(ev, SOC_F_TLS_SNI, (const char *)h->sni,
		    h->sni_len);
	if (ver != NULL)
		soc_event_set_cstr(ev, SOC_F_TLS_VERSION, ver);
	if (h->alpn_len > 0)
		soc_event_set_str(ev, SOC_F_TLS_NEXT_PROTOCOL, h->alpn,
		    h->alpn_len);
	soc_event_set_cstr(ev, SOC_F_TLS_JA4, ja4);
	ctx->stats.tls_events++;
	decode_emit(ctx);
}

/* ---- The server's flight ---- */

static uint32_t
rd24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* Whether a whole ServerHello body selects TLS 1.3. */
static bool
tls_server_hello_13(const uint8_t *d, uint32_t n)
{
	uint32_t i = 34, l;

	if (n < 35 || (l = d[i++]) > 32 || n - i < l + 3)
		return false;
	i += l + 3;				/* session id, cipher, comp */
	if (n - i < 2 || rd16(d + i) > n - i - 2)
		return false;
	n = i + 2 + rd16(d + i);
	i += 2;
	while (n - i >= 4) {
		l = rd16(d + i + 2);
		if (l > n - i - 4)
			return false;
		if (rd16(d + i) == 0x002b && l == 2 && rd16(d + i + 4) == 0x0304)
			return true;
		i += 4 + l;
	}
	return false;
}

static void
x509_emit(struct pkt_ctx *ctx, const struct pkt_packet *p,
    const struct x509_cert *c)
{
	struct soc_event *ev = &ctx->ev;

	decode_event_init(ctx, p, "network.x509", false); /* server sent */
	soc_event_set_cstr(ev, SOC_F_EVENT_ACTION, "tls_server_certificate");
	soc_event_set_cstr(ev, SOC_F_NET_PROTOCOL, "tls");
	if (c->subject_len > 0)
		soc_event_set_str(ev, SOC_F_X509_SUBJECT_DN, c->subject,
		    c->subject_len);
	if (c->issuer_len > 0)
		soc_event_set_str(ev, SOC_F_X509_ISSUER_DN, c->issuer,
		    c->issuer_len);
	if (c->subject_cn_len > 0)
		soc_event_set_str(ev, SOC_F_X509_SUBJECT_CN, c->subject_cn,
		    c->subject_cn_len);
	if (c->issuer_cn_len > 0)
		soc_event_set_str(ev, SOC_F_X509_ISSUER_CN, c->issuer_cn,
		    c->issuer_cn_len);
	if (c->san_len > 0)
		soc_event_set_str(ev, SOC_F_X509_ALT_NAMES, c->san, c->san_len);
	soc_event_set_int(ev, SOC_F_X509_NOT_BEFORE, c->not_before);
	soc_event_set_int(ev, SOC_F_X509_NOT_AFTER, c->not_after);
	soc_event_set_str(ev, SOC_F_X509_SERIAL, c->serial, c->serial_len);
	if (c->key_type != NULL)
		soc_event_set_cstr(ev, SOC_F_X509_KEY_ALG, c->key_type);
	if (c->key_bits > 0)
		soc_event_set_int(ev, SOC_F_X509_KEY_SIZE, c->key_bits);
	ctx->stats.x509_events++;
	decode_emit(ctx);
}

/*
 * The handshake messages gathered from the server's records: returns
 * APP_END when done (leaf read, or none to read), APP_MORE when the leaf
 * may still come; *trunc set when the leaf began but is not whole.
 */
static enum app_res
tls_server_msgs(struct pkt_ctx *ctx, const struct pkt_packet *p,
    const uint8_t *hs, uint32_t n, bool *trunc)
{
	struct x509_cert c;
	uint32_t i = 0, mlen, avail, list, clen;

	while (n - i >= 4) {
		mlen = rd24(hs + i + 1);
		avail = n - i - 4;
		switch (hs[i]) {
		case 2:				/* ServerHello */
			if (mlen > avail)
				return APP_MORE;
			if (tls_server_hello_13(hs + i + 4, mlen))
				return APP_END;
			break;
		case 11:			/* Certificate */
			if (avail < 3)
				return APP_MORE;
			list = rd24(hs + i + 4);
			if (list == 0)
				return APP_END;	/* no certificate sent */
			if (mlen < 3 || list > mlen - 3 || list < 3) {
				ctx->stats.x509_malformed++;
				return APP_END;
			}
			if (avail < 6)
				return APP_MORE;
			clen = rd24(hs + i + 7);
			if (clen > list - 3) {
				ctx->stats.x509_malformed++;
				return APP_END;
			}
			if (clen > avail - 6) {
				*trunc = true;
				return APP_MORE;
			}
			if (x509_parse(hs + i + 10, clen, &c) == -1) {
				ctx->stats.x509_malformed++;
				return APP_END;
			}
			x509_emit(ctx, p, &c);
			return APP_END;
		default:			/* resumed, anonymous, ... */
			return APP_END;
		}
		i += 4 + mlen;
	}
	return APP_MORE;
}

static enum app_res
tls_server(struct pkt_ctx *ctx, const struct pkt_packet *p,
    const uint8_t *buf, uint32_t len, bool full, uint32_t *used)
{
	uint8_t hs[TLS_HS_MAX];
	uint32_t off = 0, n = 0, rlen, take;
	bool stop = false, trunc = false;
	enum app_res r;

	*used = len;
	while (len - off >= TLS_REC_HDR && n < sizeof(hs)) {
		if (buf[off] != 22 || buf[off + 1] != 3) {
			stop = true;		/* no more handshake records */
			break;
		}
		rlen = rd16(buf + off + 3);
		take = len - off - TLS_REC_HDR;	/* a split record: its start */
		if (take > rlen)
			take = rlen;
		if (take > sizeof(hs) - n)
			take = (uint32_t)sizeof(hs) - n;
		memcpy(hs + n, buf + off + TLS_REC_HDR, take);
		n += take;
		if (rlen > len - off - TLS_REC_HDR)
			break;
		off += TLS_REC_HDR + rlen;
	}
	if (off == 0 && stop)
		return APP_END;			/* not a handshake */
	r = tls_server_msgs(ctx, p, hs, n, &trunc);
	if (r == APP_MORE && (full || stop || n == sizeof(hs))) {
		if (trunc)
			ctx->stats.x509_truncated++;
		r = APP_END;
	}
	return r;
}

enum app_res
tls_parse(struct pkt_ctx *ctx, const struct pkt_packet *p, struct flow *f,
    const uint8_t *buf, uint32_t len, bool full, uint32_t *used)
{
	struct tls_hello h;
	uint8_t hs[TLS_HS_MAX];
	uint32_t off = 0, n = 0, rlen, need = 0;

	*used = len;
	if (f != NULL && p->side != f->init)
		return tls_server(ctx, p, buf, len, full, used);
	/* Gather handshake bytes from consecutive records. */
	while (len - off >= TLS_REC_HDR) {
		if (buf[off] != 22 || buf[off + 1] != 3)
			break;
		rlen = rd16(buf + off + 3);
		if (rlen > len - off - TLS_REC_HDR)
			break;			/* record incomplete */
		if (rlen > sizeof(hs) - n)
			rlen = (uint32_t)sizeof(hs) - n;
		memcpy(hs + n, buf + off + TLS_REC_HDR, rlen);
		n += rlen;
		off += TLS_REC_HDR + rd16(buf + off + 3);
		if (n >= 4 && (need = 4 + ((uint32_t)hs[1] << 16 |
		    (uint32_t)hs[2] << 8 | hs[3])) <= n)
			break;
	}
	if (off == 0 && len >= TLS_REC_HDR && (buf[0] != 22 || buf[1] != 3))
		return APP_END;			/* not a handshake: not TLS */
	if (n >= 1 && hs[0] != 1) {
		ctx->stats.tls_malformed++;
		return APP_END;			/* not a ClientHello */
	}
	if (n < 4 || need > n) {
		if (!full && (need == 0 || need <= TLS_HS_MAX))
			return APP_MORE;
		ctx->stats.tls_malformed++;
		return APP_END;
	}
	memset(&h, 0, sizeof(h));
	if (tls_client_hello(&h, hs + 4, need - 4) == -1) {
		ctx->stats.tls_malformed++;
		return APP_END;
	}
	tls_emit(ctx, p, &h);
	return APP_END;
}
