/*
 * DNS over UDP and TCP: one network.dns event per query and per
 * response, with the first question and, for responses, the rcode and
 * the data of the answer records we can print (A, AAAA, CNAME, NS, PTR,
 * MX, TXT, SOA).  Over TCP each message has a 2-byte length prefix;
 * tcp-reasm.c gathers messages that span segments.
 *
 * The header gives, as Zeek's dns.log does: dns.header_flags (the set
 * ones of AA, TC, RD, RA, AD, CD, comma-joined), soc.dns.z (Zeek's Z:
 * the three bits after RA, (flags & 0x0070) >> 4, so AD and CD count)
 * and, for responses, soc.dns.rejected: "true" when the response carries
 * no answer, authority or additional record (Zeek's dns_rejected, which
 * a REFUSED reply usually is), else "false".
 *
 * Names are decompressed with every offset checked against the message,
 * at most DNS_MAX_JUMPS pointers followed and at most 255 bytes of wire
 * name, so a pointer loop ends in a bounded number of steps.  Names are
 * printed lower-cased without the trailing dot; bytes that would make
 * the text ambiguous ('.', '\\', ',', non-printable) are escaped as in
 * zone files (\. or \DDD).  A payload that is not a sound DNS message is
 * counted in stats.dns_malformed and emits nothing.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "decode.h"

#define DNS_HDR_LEN		12
#define DNS_MAX_JUMPS		16
#define DNS_NAME_WIRE_MAX	255
#define DNS_NAME_TEXT_MAX	(DNS_NAME_WIRE_MAX * 4 + 8)
#define DNS_MAX_QUESTIONS	8
#define DNS_MAX_ANSWERS		64
#define DNS_ANSWERS_MAX		4096	/* text of dns.answers.data */

#define T_A		1
#define T_NS		2
#define T_CNAME		5
#define T_SOA		6
#define T_PTR		12
#define T_MX		15
#define T_TXT		16
#define T_AAAA		28

struct dns_text {
	char	*buf;
	size_t	 len, size;
	bool	 full;
};

static void
text_putc(struct dns_text *t, char c)
{
	if (t->len + 1 < t->size)
		t->buf[t->len++] = c;
	else
		t->full = true;
}

/* One byte of a label or TXT string, escaped when it would mislead. */
static void
text_put_byte(struct dns_text *t, uint8_t c, bool lower)
{
	char esc[5];

	if (c < 0x21 || c > 0x7e) {
		snprintf(esc, sizeof(esc), "\\%03u", c);
		for (int i = 0; i < 4; i++)
			text_putc(t, esc[i]);
		return;
	}
	if (c == '.' || c == '\\' || c == ',')
		text_putc(t, '\\');
	if (lower && c >= 'A' && c <= 'Z')
		c = (uint8_t)(c - 'A' + 'a');
	text_putc(t, (char)c);
}

/*
 * Reads the name at *off in message m, appends its text to t and moves
 * *off past the name as it sits at *off (not past a pointer's target).
 * Returns 0, or -1 on any bound or loop violation.
 */
static int
dns_name(const uint8_t *m, uint32_t mlen, uint32_t *off, struct dns_text *t)
{
	uint32_t pos = *off, end = 0, wire = 0;
	int jumps = 0, labels = 0;
	uint8_t c;

	for (;;) {
		if (pos >= mlen)
			return -1;
		c = m[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= mlen || ++jumps > DNS_MAX_JUMPS)
				return -1;
			if (jumps == 1)
				end = pos + 2;
			pos = (uint32_t)(c & 0x3f) << 8 | m[pos + 1];
			continue;
		}
		if (c & 0xc0)
			return -1;		/* extended label types */
		if (c == 0)
			break;
		wire += c + 1u;
		if (wire + 1 > DNS_NAME_WIRE_MAX || c >= mlen - pos)
			return -1;
		if (labels++ > 0)
			text_putc(t, '.');
		for (uint32_t i = 1; i <= c; i++)
			text_put_byte(t, m[pos + i], true);
		pos += 1u + c;
	}
	if (labels == 0)
		text_putc(t, '.');		/* the root */
	*off = jumps > 0 ? end : pos + 1;
	return 0;
}

static const char *
dns_type_name(uint16_t type, char *buf, size_t bufsz)
{
	static const struct { uint16_t type; const char *name; } names[] = {
		{ 1, "A" }, { 2, "NS" }, { 5, "CNAME" }, { 6, "SOA" },
		{ 12, "PTR" }, { 13, "HINFO" }, { 15, "MX" }, { 16, "TXT" },
		{ 28, "AAAA" }, { 33, "SRV" }, { 35, "NAPTR" }, { 41, "OPT" },
		{ 43, "DS" }, { 46, "RRSIG" }, { 47, "NSEC" }, { 48, "DNSKEY" },
		{ 50, "NSEC3" }, { 52, "TLSA" }, { 64, "SVCB" }, { 65, "HTTPS" },
		{ 99, "SPF" }, { 250, "TSIG" }, { 251, "IXFR" }, { 252, "AXFR" },
		{ 255, "ANY" }, { 257, "CAA" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == type)
			return names[i].name;
	snprintf(buf, bufsz, "TYPE%u", type);
	return buf;
}

static const char *
dns_class_name(uint16_t class, char *buf, size_t bufsz)
{
	switch (class) {
	case 1:
		return "IN";
	case 3:
		return "CH";
	case 4:
		return "HS";
	case 254:
		return "NONE";
	case 255:
		return "ANY";
	}
	snprintf(buf, bufsz, "CLASS%u", class);
	return buf;
}

static const char *
dns_rcode_name(unsigned rcode, char *buf, size_t bufsz)
{
	static const char *names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
		"REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
		"NOTZONE",
	};

	if (rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	snprintf(buf, bufsz, "RCODE%u", rcode);
	return buf;
}

/* TXT: character-strings, concatenated (as SPF and DKIM read them). */
static int
dns_txt(const uint8_t *r, uint32_t rdlen, struct dns_text *t)
{
	uint32_t i = 0, n;

	while (i < rdlen) {
		n = r[i++];
		if (n > rdlen - i)
			return -1;
		for (uint32_t j = 0; j < n; j++)
			text_put_byte(t, r[i + j], false);
		i += n;
	}
	return 0;
}

/* SOA: "mname rname serial refresh retry expire minimum", as in zones. */
static int
dns_soa(const uint8_t *m, uint32_t mlen, uint32_t rd, uint32_t rdlen,
    struct dns_text *t)
{
	char num[16];
	uint32_t off = rd;

	if (dns_name(m, mlen, &off, t) == -1 || off > rd + rdlen)
		return -1;
	text_putc(t, ' ');
	if (dns_name(m, mlen, &off, t) == -1 || off > rd + rdlen ||
	    rd + rdlen - off != 20)
		return -1;
	for (int i = 0; i < 5; i++) {
		snprintf(num, sizeof(num), " %u", rd32(m + off + 4 * i));
		for (const char *c = num; *c != '\0'; c++)
			text_putc(t, *c);
	}
	return 0;
}

/* Appends the printable data of one record; 0, or -1 if malformed. */
static int
dns_rdata(const uint8_t *m, uint32_t mlen, uint16_t type, uint32_t rd,
    uint32_t rdlen, struct dns_text *t)
{
	char addr[INET6_ADDRSTRLEN];
	uint32_t off = rd;

	switch (type) {
	case T_A:
	case T_AAAA:
		if (rdlen != (type == T_A ? 4u : 16u))
			return -1;
		inet_ntop(type == T_A ? AF_INET : AF_INET6, m + rd, addr,
		    sizeof(addr));
		for (const char *s = addr; *s != '\0'; s++)
			text_putc(t, *s);
		return 0;
	case T_MX:
		if (rdlen < 3)
			return -1;
		off += 2;
		/* FALLTHROUGH */
	case T_CNAME:
	case T_NS:
	case T_PTR:
		if (dns_name(m, mlen, &off, t) == -1 || off > rd + rdlen)
			return -1;
		return 0;
	case T_TXT:
		return dns_txt(m + rd, rdlen, t);
	case T_SOA:
		return dns_soa(m, mlen, rd, rdlen, t);
	}
	return 1;	/* not printed */
}

/* Walks the answer section at *off, filling t; stops at the first fault. */
static void
dns_answers(const uint8_t *m, uint32_t mlen, uint32_t off, unsigned count,
    struct dns_text *t)
{
	struct dns_text skip;
	char scratch[DNS_NAME_TEXT_MAX];
	uint16_t type;
	uint32_t rdlen;
	size_t mark;

	if (count > DNS_MAX_ANSWERS)
		count = DNS_MAX_ANSWERS;
	for (unsigned a = 0; a < count && !t->full; a++) {
		skip = (struct dns_text){ scratch, 0, sizeof(scratch), false };
		if (dns_name(m, mlen, &off, &skip) == -1 || mlen - off < 10)
			return;
		type = rd16(m + off);
		rdlen = rd16(m + off + 8);
		off += 10;
		if (rdlen > mlen - off)
			return;
		mark = t->len;
		if (t->len > 0)
			text_putc(t, ',');
		if (dns_rdata(m, mlen, type, off, rdlen, t) != 0 || t->full) {
			t->len = mark;		/* drop a partial item */
			if (t->full)
				return;
		}
		off += rdlen;
	}
}

/* The first question; *off moves past all questions.  0 or -1. */
static int
dns_questions(const uint8_t *m, uint32_t mlen, uint32_t *off,
    unsigned count, struct dns_text *qname, uint16_t *qtype, uint16_t *qclass)
{
	char scratch[DNS_NAME_TEXT_MAX];
	struct dns_text skip = { scratch, 0, sizeof(scratch), false };

	if (count > DNS_MAX_QUESTIONS)
		return -1;
	for (unsigned q = 0; q < count; q++) {
		skip.len = 0;
		if (dns_name(m, mlen, off, q == 0 ? qname : &skip) == -1 ||
		    mlen - *off < 4)
			return -1;
		if (q == 0) {
			*qtype = rd16(m + *off);
			*qclass = rd16(m + *off + 2);
		}
		*off += 4;
	}
	return 0;
}

void
dns_handle(struct pkt_ctx *ctx, const struct pkt_packet *p)
{
	(void)dns_message(ctx, p, p->payload, p->payload_len);
}

/* Over TCP: messages behind 2-byte lengths, one per call. */
enum app_res
dns_tcp_parse(struct pkt_ctx *ctx, const struct pkt_packet *p, struct flow *f,
    const uint8_t *buf, uint32_t len, bool full, uint32_t *used)
{
	uint32_t mlen;

	(void)f;
	if (len < 2 || len - 2 < (mlen = rd16(buf))) {
		if (!full)
			return APP_MORE;
		ctx->stats.dns_malformed++;
		return APP_END;
	}
	*used = 2 + mlen;
	if (dns_message(ctx, p, buf + 2, mlen) == -1)
		return APP_END;		/* lost framing: stop reading */
	return APP_NEXT;
}

/* Header flags (ECS dns.header_flags) and Zeek's Z. */
static void
dns_header(struct soc_event *ev, uint16_t flags)
{
	static const struct {
		uint16_t	 bit;
		const char	*name;
	} fl[] = {
		{ 0x0400, "AA" }, { 0x0200, "TC" }, { 0x0100, "RD" },
		{ 0x0080, "RA" }, { 0x0020, "AD" }, { 0x0010, "CD" },
	};
	char out[sizeof(fl) / sizeof(fl[0]) * 3];
	size_t o = 0;

	for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
		if ((flags & fl[i].bit) == 0)
			continue;
		if (o > 0)
			out[o++] = ',';
		memcpy(out + o, fl[i].name, 2);
		o += 2;
	}
	if (o > 0)
		soc_event_set_str(ev, SOC_F_DNS_HEADER_FLAGS, out, o);
	soc_event_set_int(ev, SOC_F_SOC_DNS_Z, (flags & 0x0070) >> 4);
}

int
dns_message(struct pkt_ctx *ctx, const struct pkt_packet *p,
    const uint8_t *m, uint32_t mlen)
{
	char name[DNS_NAME_TEXT_MAX], ans[DNS_ANSWERS_MAX], nb[16];
	struct dns_text qname = { name, 0, sizeof(name), false };
	struct dns_text answers = { ans, 0, sizeof(ans), false };
	uint32_t off = DNS_HDR_LEN;
	uint16_t flags, qd, qtype = 0, qclass = 0;
	bool response;
	struct soc_event *ev = &ctx->ev;

	if (mlen < DNS_HDR_LEN)
		goto bad;
	flags = rd16(m + 2);
	qd = rd16(m + 4);
	response = (flags & 0x8000) != 0;
	if ((!response && qd == 0) ||
	    dns_questions(m, mlen, &off, qd, &qname, &qtype, &qclass) == -1)
		goto bad;
	if (response)
		dns_answers(m, mlen, off, rd16(m + 6), &answers);

	decode_event_init(ctx, p, "network.dns", !response);
	soc_event_set_cstr(ev, SOC_F_NET_PROTOCOL, "dns");
	soc_event_set_int(ev, SOC_F_DNS_ID, rd16(m));
	soc_event_set_cstr(ev, SOC_F_DNS_TYPE, response ? "answer" : "query");
	dns_header(ev, flags);
	if (qd > 0) {
		soc_event_set_str(ev, SOC_F_DNS_QNAME, name, qname.len);
		soc_event_set_cstr(ev, SOC_F_DNS_QTYPE,
		    dns_type_name(qtype, nb, sizeof(nb)));
		soc_event_set_cstr(ev, SOC_F_DNS_QCLASS,
		    dns_class_name(qclass, nb, sizeof(nb)));
	}
	if (response) {
		soc_event_set_cstr(ev, SOC_F_DNS_RCODE,
		    dns_rcode_name(flags & 0x0f, nb, sizeof(nb)));
		if (answers.len > 0)
			soc_event_set_str(ev, SOC_F_DNS_ANSWERS, ans, answers.len);
		/* Zeek's "rejected": no record in any section */
		soc_event_set_cstr(ev, SOC_F_SOC_DNS_REJECTED,
		    rd16(m + 6) == 0 && rd16(m + 8) == 0 && rd16(m + 10) == 0 ?
		    "true" : "false");
	}
	ctx->stats.dns_events++;
	decode_emit(ctx);
	return 0;
bad:
	ctx->stats.dns_malformed++;
	return -1;
}
