/*
 * gen-traffic: writes a synthetic but realistic pcap for bench/sensor.sh
 * and the tshark agreement test, with libpcap's pcap_dump.
 *
 *   gen-traffic --mix FILE [--packets N] [--seed S]
 *	interleaved sessions (64 open at a time): HTTP/1.1 request and
 *	response, TLS handshakes with SNI and ALPN followed by records,
 *	DNS queries and answers over UDP, SSH banners and key exchange,
 *	ICMP echo request and reply, bulk TCP transfers; a quarter over
 *	IPv6, one in ten with an 802.1Q tag.  Every TCP session has its
 *	handshake and FIN exchange.  395000 packets make about 200 MB in
 *	about 22000 flows (the mix of bench/sensor.sh).
 *   gen-traffic --flows FILE [--packets N]
 *	N TCP SYNs of N distinct flows, 1 us apart (all concurrent).
 *
 * Deterministic for a given seed.  Checksums are left zero.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACTIVE		64
#define SNAP		65535

enum kind { K_HTTP, K_TLS, K_DNS, K_BULK, K_SSH, K_ICMP, K_COUNT };

struct session {
	enum kind	kind;
	int		v6, vlan, step, nsteps;
	uint8_t		cli[16], srv[16];
	uint16_t	cport, sport;
	uint32_t	cseq, sseq;
	unsigned	n;		/* serial, for names */
};

static uint64_t rng_state = 88172645463325252ull;
static pcap_dumper_t *dumper;
static int64_t now_us = 1700000000LL * 1000000;
static uint64_t written;
static unsigned serial;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

static void
w16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
w32(uint8_t *p, uint32_t v)
{
	w16(p, v >> 16);
	w16(p + 2, v & 0xffff);
}

static void
dump(const uint8_t *frame, uint32_t len)
{
	struct pcap_pkthdr h;

	now_us += 1 + rng() % 20;
	h.ts.tv_sec = (time_t)(now_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(now_us % 1000000);
	h.caplen = h.len = len;
	pcap_dump((u_char *)dumper, &h, frame);
	written++;
}

/*
 * One packet of session s, from the client when fromc; proto 6 or 17;
 * for TCP, flags and the sequence numbers of the session advance.
 */
static void
emit(struct session *s, int fromc, int proto, unsigned flags,
    const void *data, uint32_t n)
{
	static uint8_t f[2048];
	uint8_t *p = f, *ip, *l4;
	const uint8_t *src = fromc ? s->cli : s->srv;
	const uint8_t *dst = fromc ? s->srv : s->cli;
	uint32_t l4len = (proto == 6 ? 20 : 8) + n;

	if (proto == 1 && s->v6)
		proto = 58;
	uint32_t *seq = fromc ? &s->cseq : &s->sseq;

	memcpy(p, "\x00\x16\x3e\x11\x22\x33\x00\x16\x3e\x44\x55\x66", 12);
	p += 12;
	if (s->vlan) {
		w16(p, 0x8100);
		w16(p + 2, 100 + s->vlan);
		p += 4;
	}
	w16(p, s->v6 ? 0x86dd : 0x0800);
	p += 2;
	ip = p;
	if (s->v6) {
		memset(ip, 0, 40);
		ip[0] = 0x60;
		w16(ip + 4, l4len);
		ip[6] = (uint8_t)proto;
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
		l4 = ip + 40;
	} else {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		w16(ip + 2, 20 + l4len);
		w16(ip + 6, 0x4000);
		ip[8] = 64;
		ip[9] = (uint8_t)proto;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		l4 = ip + 20;
	}
	w16(l4, fromc ? s->cport : s->sport);
	w16(l4 + 2, fromc ? s->sport : s->cport);
	if (proto == 1 || proto == 58) {	/* echo request, reply */
		l4[0] = proto == 1 ? (fromc ? 8 : 0) : (fromc ? 128 : 129);
		l4[1] = 0;
		w16(l4 + 2, 0);
		w16(l4 + 4, s->cport);
		w16(l4 + 6, s->n & 0xffff);
		memcpy(l4 + 8, data, n);
	} else if (proto == 6) {
		memset(l4 + 4, 0, 16);
		w32(l4 + 4, *seq);
		w32(l4 + 8, fromc ? s->sseq : s->cseq);
		l4[12] = 5 << 4;
		l4[13] = (uint8_t)flags;
		w16(l4 + 14, 64240);
		memcpy(l4 + 20, data, n);
		*seq += n + ((flags & 0x03) ? 1 : 0);	/* SYN, FIN */
	} else {
		w16(l4 + 4, l4len);
		w16(l4 + 6, 0);
		memcpy(l4 + 8, data, n);
	}
	dump(f, (uint32_t)(l4 - f) + l4len);
}

#define SYN	0x02
#define ACK	0x10
#define FIN	0x01
#define PSH	0x08

static size_t
client_hello(uint8_t *b, const char *sni)
{
	static const uint8_t ciphers[] = { 0x13, 0x01, 0x13, 0x02, 0x13, 0x03,
	    0xc0, 0x2b, 0xc0, 0x2f, 0xcc, 0xa9, 0xc0, 0x13, 0x00, 0x9c };
	size_t sl = strlen(sni), n = 0, ext, hs;
	uint8_t *e;

	b[0] = 22; b[1] = 3; b[2] = 1;
	hs = 5;
	b[hs] = 1;
	n = hs + 4;
	w16(b + n, 0x0303);
	n += 2;
	for (int i = 0; i < 32; i++)
		b[n++] = (uint8_t)rng();
	b[n++] = 0;
	w16(b + n, sizeof(ciphers));
	n += 2;
	memcpy(b + n, ciphers, sizeof(ciphers));
	n += sizeof(ciphers);
	b[n++] = 1;
	b[n++] = 0;
	ext = n;
	n += 2;
	e = b + n;
	w16(e, 0); w16(e + 2, (unsigned)sl + 5); w16(e + 4, (unsigned)sl + 3);
	e[6] = 0; w16(e + 7, (unsigned)sl);
	memcpy(e + 9, sni, sl);
	n += 9 + sl;
	e = b + n;			/* ALPN h2, http/1.1 */
	memcpy(e, "\x00\x10\x00\x0e\x00\x0c\x02h2\x08http/1.1", 18);
	n += 18;
	e = b + n;			/* supported versions */
	memcpy(e, "\x00\x2b\x00\x05\x04\x03\x04\x03\x03", 9);
	n += 9;
	e = b + n;			/* signature algorithms */
	memcpy(e, "\x00\x0d\x00\x08\x00\x06\x04\x03\x08\x04\x04\x01", 12);
	n += 12;
	e = b + n;			/* groups, key share (x25519) */
	memcpy(e, "\x00\x0a\x00\x04\x00\x02\x00\x1d", 8);
	n += 8;
	e = b + n;
	w16(e, 0x33); w16(e + 2, 38); w16(e + 4, 36); w16(e + 6, 0x1d);
	w16(e + 8, 32);
	for (int i = 0; i < 32; i++)
		e[10 + i] = (uint8_t)rng();
	n += 42;
	w16(b + ext, (unsigned)(n - ext - 2));
	b[hs + 1] = 0;
	w16(b + hs + 2, (unsigned)(n - hs - 4));
	w16(b + 3, (unsigned)(n - 5));
	return n;
}

static void
addr(struct session *s)
{
	unsigned c = rng(), v = rng();

	memset(s->cli, 0, 16);
	memset(s->srv, 0, 16);
	if (s->v6) {
		memcpy(s->cli, "\x20\x01\x0d\xb8\x00\x01", 6);
		memcpy(s->srv, "\x20\x01\x0d\xb8\x00\x02", 6);
		w32(s->cli + 12, c % 5000);
		w32(s->srv + 12, v % 200);
	} else {
		s->cli[0] = 10; s->cli[1] = (uint8_t)(c >> 16);
		s->cli[2] = (uint8_t)(c >> 8); s->cli[3] = (uint8_t)(c | 1);
		s->srv[0] = 192; s->srv[1] = 0; s->srv[2] = 2;
		s->srv[3] = (uint8_t)(1 + v % 200);
	}
}

static void
session_new(struct session *s)
{
	static const int steps[K_COUNT] = { 10, 12, 2, 80, 20, 2 };
	unsigned r = rng() % 100;

	memset(s, 0, sizeof(*s));
	s->kind = r < 32 ? K_HTTP : r < 60 ? K_TLS : r < 72 ? K_DNS :
	    r < 82 ? K_BULK : r < 94 ? K_SSH : K_ICMP;
	s->v6 = rng() % 4 == 0;
	s->vlan = rng() % 10 == 0 ? 1 + (int)(rng() % 3) : 0;
	addr(s);
	s->cport = (uint16_t)(20000 + rng() % 40000);
	s->sport = s->kind == K_HTTP ? 80 : s->kind == K_TLS ? 443 :
	    s->kind == K_DNS ? 53 : s->kind == K_SSH ? 22 :
	    s->kind == K_ICMP ? 0 : 8000 + (uint16_t)(rng() % 10);
	if (s->kind == K_BULK)
		s->sport = 5001;
	s->cseq = rng();
	s->sseq = rng();
	s->nsteps = steps[s->kind];
	s->n = serial++;
}

static void
step_dns(struct session *s)
{
	uint8_t m[512];
	char name[64];
	size_t n = 12, l;
	int len;

	len = snprintf(name, sizeof(name), "host%u.example%u.com", s->n % 50000,
	    s->n % 7);
	memset(m, 0, 12);
	w16(m, s->n & 0xffff);
	w16(m + 2, s->step == 0 ? 0x0100 : 0x8180);
	w16(m + 4, 1);
	w16(m + 6, s->step == 0 ? 0 : 1);
	for (char *lab = name; *lab != '\0';) {
		char *dot = strchr(lab, '.');

		l = dot != NULL ? (size_t)(dot - lab) : strlen(lab);
		m[n++] = (uint8_t)l;
		memcpy(m + n, lab, l);
		n += l;
		lab += l + (dot != NULL);
	}
	(void)len;
	m[n++] = 0;
	w16(m + n, s->v6 ? 28 : 1);
	w16(m + n + 2, 1);
	n += 4;
	if (s->step == 1) {
		memcpy(m + n, "\xc0\x0c", 2);
		w16(m + n + 2, s->v6 ? 28 : 1);
		w16(m + n + 4, 1);
		w32(m + n + 6, 300);
		w16(m + n + 10, s->v6 ? 16 : 4);
		n += 12;
		for (int i = 0; i < (s->v6 ? 16 : 4); i++)
			m[n++] = (uint8_t)rng();
	}
	emit(s, s->step == 0, 17, 0, m, (uint32_t)n);
}

/* Emits the next packet of s; returns 0 when the session is over. */
static int
session_step(struct session *s)
{
	static uint8_t buf[1500];
	char txt[512];
	int n, st;

	if (s->kind == K_DNS) {
		step_dns(s);
		return ++s->step < s->nsteps;
	}
	if (s->kind == K_ICMP) {
		memset(buf, 0x5a, 56);
		emit(s, s->step == 0, 1, 0, buf, 56);
		return ++s->step < s->nsteps;
	}
	st = s->step++;
	if (st == 0)
		emit(s, 1, 6, SYN, NULL, 0);
	else if (st == 1)
		emit(s, 0, 6, SYN | ACK, NULL, 0);
	else if (st == 2)
		emit(s, 1, 6, ACK, NULL, 0);
	else if (st == s->nsteps - 3)
		emit(s, 1, 6, FIN | ACK, NULL, 0);
	else if (st == s->nsteps - 2)
		emit(s, 0, 6, FIN | ACK, NULL, 0);
	else if (st == s->nsteps - 1)
		emit(s, 1, 6, ACK, NULL, 0);
	else if (s->kind == K_HTTP && st == 3) {
		n = snprintf(txt, sizeof(txt), "GET /item/%u?page=%u HTTP/1.1\r\n"
		    "Host: www%u.example.org\r\nUser-Agent: Mozilla/5.0 (bench)\r\n"
		    "Accept: */*\r\nReferer: http://www%u.example.org/\r\n\r\n",
		    s->n, s->n % 10, s->n % 1000, s->n % 1000);
		emit(s, 1, 6, PSH | ACK, txt, (uint32_t)n);
	} else if (s->kind == K_HTTP && st == 5) {
		n = snprintf((char *)buf, sizeof(buf), "HTTP/1.1 200 OK\r\n"
		    "Content-Type: text/html\r\nContent-Length: 1000\r\n\r\n");
		memset(buf + n, 'x', 1000);
		emit(s, 0, 6, PSH | ACK, buf, (uint32_t)n + 1000);
	} else if (s->kind == K_TLS && st == 3) {
		snprintf(txt, sizeof(txt), "api%u.service%u.example.net",
		    s->n % 3000, s->n % 5);
		n = (int)client_hello(buf, txt);
		emit(s, 1, 6, PSH | ACK, buf, (uint32_t)n);
	} else if (s->kind == K_SSH && (st == 3 || st == 4)) {
		n = snprintf(txt, sizeof(txt), st == 3 ?
		    "SSH-2.0-OpenSSH_9.%u\r\n" : "SSH-2.0-OpenSSH_8.%up1 Debian\r\n",
		    s->n % 9);
		emit(s, st == 3, 6, PSH | ACK, txt, (uint32_t)n);
	} else if (s->kind == K_SSH) {	/* key exchange, then records */
		memset(buf, 0, 5);
		w32(buf, 596);
		buf[4] = 4;
		buf[5] = st == 5 || st == 6 ? 20 : 94;	/* KEXINIT */
		for (int i = 6; i < 600; i += 8)
			buf[i] = (uint8_t)rng();
		emit(s, st % 2 != 0, 6, PSH | ACK, buf, 600);
	} else if ((s->kind == K_TLS && st % 2 == 0) ||
	    (s->kind == K_HTTP && st % 2 == 0) || s->kind == K_BULK) {
		/* server records or bulk data */
		buf[0] = s->kind == K_TLS && st == 4 ? 22 : 23;
		buf[1] = 3; buf[2] = 3;
		w16(buf + 3, 1395);
		for (int i = 5; i < 1400; i += 8)
			buf[i] = (uint8_t)rng();
		emit(s, s->kind == K_BULK ? st % 2 != 0 : 0, 6, ACK, buf,
		    s->kind != K_BULK ? 1400 : st % 2 == 0 ? 0 : 1100);
	} else
		emit(s, 1, 6, ACK, NULL, 0);
	return s->step < s->nsteps;
}

static void
gen_mix(uint64_t packets)
{
	static struct session act[ACTIVE];

	for (int i = 0; i < ACTIVE; i++)
		session_new(&act[i]);
	while (written < packets) {
		struct session *s = &act[rng() % ACTIVE];

		if (!session_step(s))
			session_new(s);
	}
}

static void
gen_flows(uint64_t n)
{
	struct session s;

	memset(&s, 0, sizeof(s));
	s.sport = 443;
	s.srv[0] = 192; s.srv[1] = 0; s.srv[2] = 2; s.srv[3] = 1;
	for (uint64_t i = 0; i < n; i++) {
		s.cli[0] = 10;
		s.cli[1] = (uint8_t)(i >> 16);
		s.cli[2] = (uint8_t)(i >> 8);
		s.cli[3] = (uint8_t)i;
		s.cport = (uint16_t)(1024 + (i >> 24));
		s.cseq = (uint32_t)i;
		now_us -= 1;		/* dump adds 1..20: keep it tight */
		emit(&s, 1, 6, SYN, NULL, 0);
	}
}

int
main(int argc, char **argv)
{
	const char *out = NULL, *mode = NULL;
	uint64_t packets = 1000000;
	pcap_t *p;

	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "--mix") == 0 ||
		    strcmp(argv[i], "--flows") == 0) && i + 1 < argc) {
			mode = argv[i];
			out = argv[++i];
		} else if (strcmp(argv[i], "--packets") == 0 && i + 1 < argc)
			packets = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			rng_state ^= strtoull(argv[++i], NULL, 10) * 2654435761u;
		else {
			fprintf(stderr, "usage: gen-traffic --mix|--flows FILE "
			    "[--packets N] [--seed S]\n");
			return 1;
		}
	}
	if (out == NULL) {
		fprintf(stderr, "gen-traffic: give --mix FILE or --flows FILE\n");
		return 1;
	}
	if ((p = pcap_open_dead(DLT_EN10MB, SNAP)) == NULL ||
	    (dumper = pcap_dump_open(p, out)) == NULL) {
		fprintf(stderr, "gen-traffic: %s: %s\n", out,
		    p != NULL ? pcap_geterr(p) : "pcap_open_dead failed");
		return 1;
	}
	if (strcmp(mode, "--mix") == 0)
		gen_mix(packets);
	else
		gen_flows(packets);
	pcap_dump_close(dumper);
	pcap_close(p);
	fprintf(stderr, "gen-traffic: %llu packets to %s\n",
	    (unsigned long long)written, out);
	return 0;
}
