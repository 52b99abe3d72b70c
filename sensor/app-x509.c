/*
 * X.509 certificate reader for the server's TLS Certificate message: the
 * leaf certificate's subject and issuer (RFC 4514 strings, most specific
 * RDN first, as Zeek and "openssl x509 -nameopt RFC2253" print them, and
 * their common names), subject alternative names, validity, serial number
 * (upper-case hex), and public key type and size.
 *
 * The bytes come from the network, so the reader is a strict, bounded DER
 * walk: every tag and length is checked against the bytes left in the
 * enclosing element before it is read, only single-byte tags and definite
 * lengths of at most 3 length octets are accepted, nothing is allocated
 * (the strings go into fixed buffers in struct x509_cert, cut to fit) and
 * nothing recurses: the code follows the fixed shape of a certificate,
 * so the nesting it walks is bounded by construction (at most 7 levels:
 * certificate, tbs, [3], extensions, extension, SAN, GeneralName).  A certificate that does not have that shape yields -1.
 */
#include <stdio.h>
#include <string.h>

#include "decode.h"

/* One DER element: its tag and contents. */
struct der {
	uint8_t		 tag;
	const uint8_t	*v;
	uint32_t	 n;
};

/*
 * Reads the element at *off in d[0..n): tag, length, contents; advances
 * *off past it.  0, or -1 when it is not a sound definite-length element
 * that fits.
 */
static int
der_get(const uint8_t *d, uint32_t n, uint32_t *off, struct der *e)
{
	uint32_t i = *off, l, k;

	if (i >= n || n - i < 2)
		return -1;
	e->tag = d[i++];
	if ((e->tag & 0x1f) == 0x1f)
		return -1;			/* multi-byte tag */
	l = d[i++];
	if (l & 0x80) {
		k = l & 0x7f;
		if (k == 0 || k > 3 || n - i < k)
			return -1;		/* indefinite, or too long */
		for (l = 0; k > 0; k--)
			l = l << 8 | d[i++];
	}
	if (l > n - i)
		return -1;
	e->v = d + i;
	e->n = l;
	*off = i + l;
	return 0;
}

/* Like der_get, and the tag must be the one given. */
static int
der_want(const uint8_t *d, uint32_t n, uint32_t *off, uint8_t tag,
    struct der *e)
{
	if (der_get(d, n, off, e) == -1 || e->tag != tag)
		return -1;
	return 0;
}

static bool
oid_is(const struct der *e, const char *oid, uint32_t len)
{
	return e->tag == 0x06 && e->n == len && memcmp(e->v, oid, len) == 0;
}

/* Appends bytes to a fixed buffer; cut to fit (NUL always kept). */
static void
buf_add(char *b, size_t sz, size_t *len, const char *s, size_t n)
{
	if (*len + 1 >= sz)
		return;
	if (n > sz - 1 - *len)
		n = sz - 1 - *len;
	memcpy(b + *len, s, n);
	*len += n;
	b[*len] = '\0';
}

/* Dotted text of an OID's contents (for attribute types we don't name). */
static void
oid_text(const struct der *e, char *out, size_t sz)
{
	size_t len = 0;
	uint64_t v = 0;
	char num[24];
	bool first = true;

	out[0] = '\0';
	for (uint32_t i = 0; i < e->n; i++) {
		if (v > (UINT64_MAX >> 8))
			return;			/* absurd arc */
		v = v << 7 | (e->v[i] & 0x7f);
		if (e->v[i] & 0x80)
			continue;
		if (first) {
			uint64_t a = v < 80 ? v / 40 : 2;

			snprintf(num, sizeof(num), "%llu.%llu",
			    (unsigned long long)a,
			    (unsigned long long)(v - a * 40));
			first = false;
		} else
			snprintf(num, sizeof(num), ".%llu",
			    (unsigned long long)v);
		buf_add(out, sz, &len, num, strlen(num));
		v = 0;
	}
}

static const char *
attr_name(const struct der *oid, char *tmp, size_t sz)
{
	static const struct {
		const char	*oid;
		uint32_t	 len;
		const char	*name;
	} names[] = {
		{ "\x55\x04\x03", 3, "CN" },
		{ "\x55\x04\x06", 3, "C" },
		{ "\x55\x04\x07", 3, "L" },
		{ "\x55\x04\x08", 3, "ST" },
		{ "\x55\x04\x09", 3, "street" },
		{ "\x55\x04\x0a", 3, "O" },
		{ "\x55\x04\x0b", 3, "OU" },
		{ "\x55\x04\x05", 3, "serialNumber" },
		{ "\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01", 9, "emailAddress" },
		{ "\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x19", 10, "DC" },
		{ "\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x01", 10, "UID" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (oid_is(oid, names[i].oid, names[i].len))
			return names[i].name;
	oid_text(oid, tmp, sz);
	return tmp;
}

/*
 * Appends an attribute value, RFC 4514 escaped: the specials with a
 * backslash, control bytes as \XX; other bytes (UTF-8) as they are.
 * BMPString is turned into UTF-8.
 */
static void
dn_value(char *b, size_t sz, size_t *len, const struct der *v)
{
	static const char hex[] = "0123456789ABCDEF";
	bool bmp = v->tag == 0x1e;
	uint32_t step = bmp ? 2 : 1;
	char out[4];

	for (uint32_t i = 0; i + step <= v->n; i += step) {
		uint32_t c = bmp ? rd16(v->v + i) : v->v[i];
		size_t k = 0;

		if (bmp && c >= 0x80) {
			if (c < 0x800) {
				out[k++] = (char)(0xc0 | c >> 6);
			} else {
				out[k++] = (char)(0xe0 | c >> 12);
				out[k++] = (char)(0x80 | ((c >> 6) & 0x3f));
			}
			out[k++] = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x20 || c == 0x7f) {
			out[k++] = '\\';
			out[k++] = hex[c >> 4];
			out[k++] = hex[c & 15];
		} else {
			if (strchr(",+\"\\<>;", (int)c) != NULL ||
			    (i == 0 && (c == '#' || c == ' ')) ||
			    (i + step >= v->n && c == ' '))
				out[k++] = '\\';
			out[k++] = (char)c;
		}
		buf_add(b, sz, len, out, k);
	}
}

/*
 * A Name: SEQUENCE OF RDN (SET OF SEQUENCE { type OID, value }), written
 * as OpenSSL's RFC 2253 form (and so Zeek) writes it: every attribute in
 * reverse DER order, "," between RDNs and "+" inside one; the first CN in
 * DER order is copied to cn.  Past X509_ATTR_MAX attributes the rest are
 * dropped.
 */
#define X509_ATTR_MAX	64
static int
x509_name(const struct der *name, char *dn, size_t dnsz, size_t *dnlen,
    char *cn, size_t cnsz, size_t *cnlen)
{
	struct der oid[X509_ATTR_MAX], val[X509_ATTR_MAX], rdn, atv;
	uint32_t set[X509_ATTR_MAX], na = 0, nset = 0, off = 0;
	char tmp[64];
	const char *an;

	*dnlen = *cnlen = 0;
	dn[0] = cn[0] = '\0';
	while (off < name->n) {
		uint32_t aoff = 0;

		if (der_want(name->v, name->n, &off, 0x31, &rdn) == -1)
			return -1;
		while (aoff < rdn.n) {
			uint32_t voff = 0;

			if (na == X509_ATTR_MAX)
				break;
			if (der_want(rdn.v, rdn.n, &aoff, 0x30, &atv) == -1 ||
			    der_want(atv.v, atv.n, &voff, 0x06,
			    &oid[na]) == -1 ||
			    der_get(atv.v, atv.n, &voff, &val[na]) == -1)
				return -1;
			if (*cnlen == 0 && oid_is(&oid[na], "\x55\x04\x03", 3))
				dn_value(cn, cnsz, cnlen, &val[na]);
			set[na++] = nset;
		}
		nset++;
	}
	for (uint32_t i = na; i-- > 0;) {
		if (i != na - 1)
			buf_add(dn, dnsz, dnlen, set[i] == set[i + 1] ? "+" : ",",
			    1);
		an = attr_name(&oid[i], tmp, sizeof(tmp));
		buf_add(dn, dnsz, dnlen, an, strlen(an));
		buf_add(dn, dnsz, dnlen, "=", 1);
		dn_value(dn, dnsz, dnlen, &val[i]);
	}
	return 0;
}

static int
two(const uint8_t *p, int *v)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	*v = (p[0] - '0') * 10 + (p[1] - '0');
	return 0;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t
days_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ, in ns. */
static int
x509_time(const struct der *t, int64_t *ns)
{
	const uint8_t *p = t->v;
	int c = 0, y, mo, d, h, mi, s;
	int64_t year, secs;

	if (t->tag == 0x17 && t->n == 13) {
		if (two(p, &y) == -1)
			return -1;
		year = y < 50 ? 2000 + y : 1900 + y;
		p += 2;
	} else if (t->tag == 0x18 && t->n == 15) {
		if (two(p, &c) == -1 || two(p + 2, &y) == -1)
			return -1;
		year = c * 100 + y;
		p += 4;
	} else
		return -1;
	if (two(p, &mo) == -1 || two(p + 2, &d) == -1 ||
	    two(p + 4, &h) == -1 || two(p + 6, &mi) == -1 ||
	    two(p + 8, &s) == -1 || p[10] != 'Z' || mo < 1 || mo > 12 ||
	    d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return -1;
	secs = days_civil(year, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	/* 9999-12-31 ("no expiry") is past what int64 ns holds: clamp. */
	if (secs > INT64_MAX / 1000000000)
		secs = INT64_MAX / 1000000000;
	*ns = secs * 1000000000;
	return 0;
}

/* Bits of a positive DER INTEGER's contents. */
static uint32_t
int_bits(const struct der *e)
{
	uint32_t i = 0, b;

	while (i < e->n && e->v[i] == 0)
		i++;
	if (i == e->n)
		return 0;
	for (b = 8; b > 0 && !(e->v[i] & (1u << (b - 1))); b--)
		;
	return (e->n - i - 1) * 8 + b;
}

/* SubjectPublicKeyInfo: key type and size. */
static int
x509_spki(const struct der *spki, struct x509_cert *c)
{
	struct der alg, oid, par, key, seq, n;
	uint32_t off = 0, aoff = 0, k = 0, s = 0;

	if (der_want(spki->v, spki->n, &off, 0x30, &alg) == -1 ||
	    der_want(spki->v, spki->n, &off, 0x03, &key) == -1 ||
	    der_want(alg.v, alg.n, &aoff, 0x06, &oid) == -1)
		return -1;
	memset(&par, 0, sizeof(par));
	if (aoff < alg.n && der_get(alg.v, alg.n, &aoff, &par) == -1)
		return -1;
	if (oid_is(&oid, "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01", 9) ||
	    oid_is(&oid, "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a", 9)) {
		c->key_type = "rsa";
		/* BIT STRING: unused-bits octet, SEQUENCE { n, e } */
		if (key.n >= 1 && key.v[0] == 0 &&
		    der_want(key.v + 1, key.n - 1, &k, 0x30, &seq) == 0 &&
		    der_want(seq.v, seq.n, &s, 0x02, &n) == 0)
			c->key_bits = int_bits(&n);
	} else if (oid_is(&oid, "\x2a\x86\x48\xce\x3d\x02\x01", 7)) {
		c->key_type = "ecdsa";
		if (oid_is(&par, "\x2a\x86\x48\xce\x3d\x03\x01\x07", 8) ||
		    oid_is(&par, "\x2b\x81\x04\x00\x0a", 5))
			c->key_bits = 256;
		else if (oid_is(&par, "\x2b\x81\x04\x00\x22", 5))
			c->key_bits = 384;
		else if (oid_is(&par, "\x2b\x81\x04\x00\x23", 5))
			c->key_bits = 521;
	} else if (oid_is(&oid, "\x2a\x86\x48\xce\x38\x04\x01", 7)) {
		c->key_type = "dsa";
		if (par.tag == 0x30 &&
		    der_want(par.v, par.n, &s, 0x02, &n) == 0)
			c->key_bits = int_bits(&n);
	} else if (oid_is(&oid, "\x2b\x65\x70", 3))
		c->key_type = "ed25519";
	else if (oid_is(&oid, "\x2b\x65\x71", 3))
		c->key_type = "ed448";
	return 0;
}

/* One GeneralName of the SAN list, comma-joined into c->san. */
static void
x509_gname(struct x509_cert *c, const struct der *g)
{
	char ip[64];

	switch (g->tag) {
	case 0x81:				/* rfc822Name */
	case 0x82:				/* dNSName */
	case 0x86:				/* URI */
		break;
	case 0x87:				/* iPAddress */
		if (g->n == 4)
			snprintf(ip, sizeof(ip), "%u.%u.%u.%u", g->v[0],
			    g->v[1], g->v[2], g->v[3]);
		else if (g->n == 16) {
			struct soc_ip a = { .family = 6 };

			memcpy(a.addr, g->v, 16);
			soc_ip_format(&a, ip, sizeof(ip));
		} else
			return;
		if (c->san_len > 0)
			buf_add(c->san, sizeof(c->san), &c->san_len, ",", 1);
		buf_add(c->san, sizeof(c->san), &c->san_len, ip, strlen(ip));
		c->nsan++;
		return;
	default:
		return;
	}
	if (c->san_len > 0)
		buf_add(c->san, sizeof(c->san), &c->san_len, ",", 1);
	buf_add(c->san, sizeof(c->san), &c->san_len, (const char *)g->v, g->n);
	c->nsan++;
}

/* [3] Extensions: the subjectAltName one. */
static int
x509_extensions(const struct der *x, struct x509_cert *c)
{
	struct der list, ext, oid, val, crit, names, g;
	uint32_t off = 0, loff = 0;

	if (der_want(x->v, x->n, &off, 0x30, &list) == -1)
		return -1;
	while (loff < list.n) {
		uint32_t eoff = 0, noff = 0, goff = 0;

		if (der_want(list.v, list.n, &loff, 0x30, &ext) == -1 ||
		    der_want(ext.v, ext.n, &eoff, 0x06, &oid) == -1 ||
		    der_get(ext.v, ext.n, &eoff, &val) == -1)
			return -1;
		if (val.tag == 0x01) {		/* critical */
			crit = val;
			if (crit.n != 1 ||
			    der_get(ext.v, ext.n, &eoff, &val) == -1)
				return -1;
		}
		if (val.tag != 0x04)
			return -1;
		if (!oid_is(&oid, "\x55\x1d\x11", 3))
			continue;
		if (der_want(val.v, val.n, &noff, 0x30, &names) == -1)
			return -1;
		while (goff < names.n) {
			if (der_get(names.v, names.n, &goff, &g) == -1)
				return -1;
			x509_gname(c, &g);
		}
	}
	return 0;
}

int
x509_parse(const uint8_t *d, uint32_t n, struct x509_cert *c)
{
	static const char hex[] = "0123456789ABCDEF";
	struct der cert, tbs, e, serial, issuer, validity, nb, na, subject;
	uint32_t off = 0, t = 0, v = 0;

	memset(c, 0, sizeof(*c));
	if (der_want(d, n, &off, 0x30, &cert) == -1 ||
	    der_want(cert.v, cert.n, &t, 0x30, &tbs) == -1)
		return -1;
	off = 0;
	if (der_get(tbs.v, tbs.n, &off, &e) == -1)
		return -1;
	if (e.tag == 0xa0) {			/* [0] version */
		if (der_get(tbs.v, tbs.n, &off, &e) == -1)
			return -1;
	}
	serial = e;
	if (serial.tag != 0x02 || serial.n == 0 ||
	    der_want(tbs.v, tbs.n, &off, 0x30, &e) == -1 ||	/* sig alg */
	    der_want(tbs.v, tbs.n, &off, 0x30, &issuer) == -1 ||
	    der_want(tbs.v, tbs.n, &off, 0x30, &validity) == -1 ||
	    der_get(validity.v, validity.n, &v, &nb) == -1 ||
	    der_get(validity.v, validity.n, &v, &na) == -1 ||
	    x509_time(&nb, &c->not_before) == -1 ||
	    x509_time(&na, &c->not_after) == -1 ||
	    der_want(tbs.v, tbs.n, &off, 0x30, &subject) == -1 ||
	    der_want(tbs.v, tbs.n, &off, 0x30, &e) == -1 ||	/* spki */
	    x509_spki(&e, c) == -1)
		return -1;
	/* serial: upper-case hex, without the sign octet */
	v = serial.n > 1 && serial.v[0] == 0 ? 1 : 0;
	for (; v < serial.n && c->serial_len + 2 < sizeof(c->serial); v++) {
		c->serial[c->serial_len++] = hex[serial.v[v] >> 4];
		c->serial[c->serial_len++] = hex[serial.v[v] & 15];
	}
	c->serial[c->serial_len] = '\0';
	if (x509_name(&issuer, c->issuer, sizeof(c->issuer), &c->issuer_len,
	    c->issuer_cn, sizeof(c->issuer_cn), &c->issuer_cn_len) == -1 ||
	    x509_name(&subject, c->subject, sizeof(c->subject),
	    &c->subject_len, c->subject_cn, sizeof(c->subject_cn),
	    &c->subject_cn_len) == -1)
		return -1;
	while (off < tbs.n) {			/* [1], [2] unique ids, [3] */
		if (der_get(tbs.v, tbs.n, &off, &e) == -1)
			return -1;
		if (e.tag == 0xa3 && x509_extensions(&e, c) == -1)
			return -1;
	}
	return 0;
}
