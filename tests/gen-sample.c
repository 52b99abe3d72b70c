/*
 * Generates the sample data that `make demo` and the integration tests
 * feed to the sensor: a pcap written with libpcap's pcap_dump (HTTP with
 * a scanner user agent, DNS queries incl. a known-bad domain, a VLAN-
 * tagged flow, IPv6 DNS, plain TCP/UDP/ICMP flows) and an sshd/syslog
 * auth log with a brute-force burst.  Deterministic for a given --base
 * time, so tests can state exact expectations.
 *
 * usage: gen-sample --pcap FILE --log FILE [--base EPOCH_SECONDS]
 *        gen-sample --bench-log FILE --lines N     (mixed log lines)
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pcap_dumper_t	*dumper;
static long		 tbase;		/* seconds */
static long		 tusec;		/* running offset, microseconds */

struct l4 {
	const char	*src, *dst;	/* IPv4 or IPv6 text */
	uint16_t	 sport, dport;
	uint8_t		 proto;		/* 6, 17, 1 */
	uint8_t		 flags;		/* TCP flags */
	uint32_t	 seq, ack;
	int		 vlan;		/* 0 = untagged */
};

static uint16_t
csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void
emit(const struct l4 *c, const void *payload, size_t plen, long step_usec)
{
	uint8_t pkt[2048];
	struct pcap_pkthdr h;
	size_t off = 0, l4len, iplen;
	uint8_t src6[16], dst6[16];
	int v6 = strchr(c->src, ':') != NULL;

	memcpy(pkt, "\x00\x16\x3e\x11\x22\x33\x00\x16\x3e\x44\x55\x66", 12);
	off = 12;
	if (c->vlan) {
		put16(pkt + off, 0x8100);
		put16(pkt + off + 2, (uint16_t)c->vlan);
		off += 4;
	}
	put16(pkt + off, v6 ? 0x86dd : 0x0800);
	off += 2;
	l4len = (c->proto == 6 ? 20 : 8) + plen;
	if (v6) {
		inet_pton(AF_INET6, c->src, src6);
		inet_pton(AF_INET6, c->dst, dst6);
		memset(pkt + off, 0, 40);
		pkt[off] = 0x60;
		put16(pkt + off + 4, (uint16_t)l4len);
		pkt[off + 6] = c->proto == 1 ? 58 : c->proto;
		pkt[off + 7] = 64;
		memcpy(pkt + off + 8, src6, 16);
		memcpy(pkt + off + 24, dst6, 16);
		iplen = 40;
	} else {
		memset(pkt + off, 0, 20);
		pkt[off] = 0x45;
		put16(pkt + off + 2, (uint16_t)(20 + l4len));
		pkt[off + 8] = 64;
		pkt[off + 9] = c->proto;
		inet_pton(AF_INET, c->src, pkt + off + 12);
		inet_pton(AF_INET, c->dst, pkt + off + 16);
		put16(pkt + off + 10, csum(pkt + off, 20));
		iplen = 20;
	}
	off += iplen;
	if (c->proto == 6) {
		memset(pkt + off, 0, 20);
		put16(pkt + off, c->sport);
		put16(pkt + off + 2, c->dport);
		put32(pkt + off + 4, c->seq);
		put32(pkt + off + 8, c->ack);
		pkt[off + 12] = 5 << 4;
		pkt[off + 13] = c->flags;
		put16(pkt + off + 14, 65535);
		off += 20;
	} else if (c->proto == 17) {
		put16(pkt + off, c->sport);
		put16(pkt + off + 2, c->dport);
		put16(pkt + off + 4, (uint16_t)l4len);
		put16(pkt + off + 6, 0);
		off += 8;
	} else {
		memset(pkt + off, 0, 8);
		pkt[off] = 8;		/* echo request */
		off += 8;
		l4len = 8 + plen;
	}
	memcpy(pkt + off, payload, plen);
	off += plen;
	tusec += step_usec;
	h.ts.tv_sec = tbase + tusec / 1000000;
	h.ts.tv_usec = tusec % 1000000;
	h.caplen = h.len = (bpf_u_int32)off;
	pcap_dump((u_char *)dumper, &h, pkt);
}

/* A whole TCP session: handshake, request, response, FIN both ways. */
static void
tcp_session(struct l4 c, const char *req, const char *resp)
{
	struct l4 s = c;
	uint32_t cseq = 1000, sseq = 5000;

	s.src = c.dst; s.dst = c.src; s.sport = c.dport; s.dport = c.sport;
	c.flags = 0x02; c.seq = cseq++; c.ack = 0; emit(&c, "", 0, 1000);
	s.flags = 0x12; s.seq = sseq++; s.ack = cseq; emit(&s, "", 0, 500);
	c.flags = 0x10; c.seq = cseq; c.ack = sseq; emit(&c, "", 0, 500);
	if (req) {
		c.flags = 0x18; emit(&c, req, strlen(req), 300);
		cseq += (uint32_t)strlen(req);
	}
	if (resp) {
		s.flags = 0x18; s.seq = sseq; s.ack = cseq;
		emit(&s, resp, strlen(resp), 2000);
		sseq += (uint32_t)strlen(resp);
	}
	c.flags = 0x11; c.seq = cseq++; c.ack = sseq; emit(&c, "", 0, 300);
	s.flags = 0x11; s.seq = sseq++; s.ack = cseq; emit(&s, "", 0, 300);
	c.flags = 0x10; c.seq = cseq; c.ack = sseq; emit(&c, "", 0, 300);
}

static size_t
dns_query(uint8_t *out, uint16_t id, const char *name, uint16_t qtype)
{
	size_t off = 12;
	const char *p = name;

	memset(out, 0, 12);
	put16(out, id);
	put16(out + 2, 0x0100);		/* RD */
	put16(out + 4, 1);
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		out[off++] = (uint8_t)n;
		memcpy(out + off, p, n);
		off += n;
		p += n + (dot ? 1 : 0);
	}
	out[off++] = 0;
	put16(out + off, qtype);
	put16(out + off + 2, 1);
	return off + 4;
}

static void
dns(const char *cli, const char *srv, uint16_t sport, uint16_t id,
    const char *name, uint16_t qtype, const uint8_t answer_ip[4])
{
	uint8_t q[512], r[512];
	size_t n = dns_query(q, id, name, qtype), m = n;
	struct l4 c = { cli, srv, sport, 53, 17, 0, 0, 0, 0 };
	struct l4 s = { srv, cli, 53, sport, 17, 0, 0, 0, 0 };

	emit(&c, q, n, 5000);
	memcpy(r, q, n);
	put16(r + 2, answer_ip ? 0x8180 : 0x8183);	/* NOERROR / NXDOMAIN */
	if (answer_ip) {
		put16(r + 6, 1);
		memcpy(r + m, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04", 12);
		memcpy(r + m + 12, answer_ip, 4);
		m += 16;
	}
	emit(&s, r, m, 20000);
}

static int
write_pcap(const char *path)
{
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	static const uint8_t ip1[4] = { 93, 184, 216, 34 };
	char req[512];

	if ((dumper = pcap_dump_open(dead, path)) == NULL) {
		fprintf(stderr, "gen-sample: %s: %s\n", path, pcap_geterr(dead));
		return -1;
	}
	dns("10.10.1.23", "10.10.1.1", 40001, 0x1001, "www.example.gov.vn", 1, ip1);
	dns("10.10.1.23", "10.10.1.1", 40002, 0x1002, "malware-c2.example", 1, NULL);
	dns("fd00:10::23", "fd00:10::1", 40003, 0x1003, "portal.example.gov.vn", 28, NULL);
	tcp_session((struct l4){ "10.10.1.23", "93.184.216.34", 51000, 80, 6, 0, 0, 0, 0 },
	    "GET /index.html HTTP/1.1\r\nHost: www.example.gov.vn\r\n"
	    "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: */*\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	snprintf(req, sizeof(req), "GET /login.php?id=1%%27%%20OR%%201=1 HTTP/1.1\r\n"
	    "Host: portal.example.gov.vn\r\nUser-Agent: sqlmap/1.7.2#stable "
	    "(https://sqlmap.org)\r\nAccept: */*\r\n\r\n");
	tcp_session((struct l4){ "198.51.100.77", "10.10.1.80", 52000, 80, 6, 0, 0, 0, 0 },
	    req, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	tcp_session((struct l4){ "10.10.2.15", "10.10.1.80", 53000, 443, 6, 0, 0, 0, 20 },
	    NULL, NULL);
	emit(&(struct l4){ "10.10.1.23", "10.10.1.1", 0, 0, 1, 0, 0, 0, 0 },
	    "pingpingpingping", 16, 1000);
	pcap_dump_close(dumper);
	pcap_close(dead);
	return 0;
}

static int
write_log(const char *path)
{
	static const char *mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	FILE *f = fopen(path, "w");
	time_t t = (time_t)tbase + 7 * 3600;	/* stamps in Asia/Ho_Chi_Minh */
	struct tm tm;
	int pid = 4100;

	if (f == NULL) {
		perror(path);
		return -1;
	}
#define STAMP() (gmtime_r(&t, &tm), fprintf(f, "%s %2d %02d:%02d:%02d gw1 ", \
	mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec))
	STAMP(); fprintf(f, "CRON[%d]: (root) CMD (run-parts /etc/cron.hourly)\n", pid++);
	t += 3;
	STAMP(); fprintf(f, "sshd[%d]: Accepted publickey for admin from 10.10.1.5 port 50122 ssh2: ED25519 SHA256:abc\n", pid++);
	/* brute force: 10 failures from one source in 45 seconds */
	for (int i = 0; i < 10; i++) {
		t += 5;
		STAMP();
		if (i % 3 == 2)
			fprintf(f, "sshd[%d]: Failed password for invalid user oracle from 203.0.113.45 port %d ssh2\n", pid, 40000 + i);
		else
			fprintf(f, "sshd[%d]: Failed password for root from 203.0.113.45 port %d ssh2\n", pid, 40000 + i);
	}
	pid++;
	/* a few failures from another source: below the threshold */
	for (int i = 0; i < 3; i++) {
		t += 20;
		STAMP(); fprintf(f, "sshd[%d]: Failed password for nguyenvana from 10.10.1.66 port %d ssh2\n", pid++, 41000 + i);
	}
	t += 2;
	STAMP(); fprintf(f, "sshd[%d]: Invalid user test from 203.0.113.99 port 42000\n", pid++);
	t += 2;
	STAMP(); fprintf(f, "kernel: [12345.678] usb 1-1: new high-speed USB device number 2\n");
	t += 2;
	/* last line without a newline, CRLF before it */
	STAMP(); fprintf(f, "systemd[1]: Started Session 42 of user admin.\r\n");
	t += 1;
	STAMP(); fprintf(f, "sudo[%d]:    admin : TTY=pts/0 ; PWD=/home/admin ; USER=root ; COMMAND=/usr/bin/id", pid);
#undef STAMP
	fclose(f);
	return 0;
}

/* A mixed log for benchmarks: sshd, sudo, kernel firewall and access log. */
static int
write_bench_log(const char *path, long lines)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		perror(path);
		return -1;
	}
	for (long i = 0; i < lines; i++) {
		unsigned a = (unsigned)(i * 2654435761u);

		switch (i % 4) {
		case 0:
			fprintf(f, "Nov 27 10:%02ld:%02ld gw1 sshd[%ld]: Failed password for "
			    "user%u from 203.0.%u.%u port %u ssh2\n", (i / 60) % 60, i % 60,
			    1000 + i % 30000, a % 1000, (a >> 8) & 255, a & 255, 1024 + a % 60000);
			break;
		case 1:
			fprintf(f, "Nov 27 10:%02ld:%02ld gw1 sudo[%ld]:    admin : TTY=pts/0 ; "
			    "PWD=/home/admin ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx\n",
			    (i / 60) % 60, i % 60, 2000 + i % 30000);
			break;
		case 2:
			fprintf(f, "Nov 27 10:%02ld:%02ld gw1 kernel: [%ld.%03ld] IN=eth0 OUT= "
			    "MAC=00:16:3e:11:22:33:00:16:3e:44:55:66:08:00 SRC=198.51.%u.%u "
			    "DST=10.10.1.80 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=%u DF PROTO=TCP "
			    "SPT=%u DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0\n", (i / 60) % 60, i % 60,
			    i, i % 1000, (a >> 8) & 255, a & 255, a & 0xffff, 1024 + a % 60000);
			break;
		default:
			fprintf(f, "10.10.%u.%u - - [27/Nov/2026:10:%02ld:%02ld +0700] \"GET "
			    "/portal/news?id=%u HTTP/1.1\" 200 %u \"https://portal.example.gov.vn/\" "
			    "\"Mozilla/5.0 (Windows NT 10.0; Win64; x64)\"\n", (a >> 8) & 255, a & 255,
			    (i / 60) % 60, i % 60, a % 100000, 512 + a % 40000);
		}
	}
	fclose(f);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pcap", required_argument, NULL, 'p' },
		{ "log", required_argument, NULL, 'l' },
		{ "base", required_argument, NULL, 'b' },
		{ "bench-log", required_argument, NULL, 'B' },
		{ "lines", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pcap = NULL, *log = NULL, *blog = NULL;
	long lines = 1000000;
	int ch;

	tbase = (long)time(NULL) - 3600;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': pcap = optarg; break;
		case 'l': log = optarg; break;
		case 'b': tbase = atol(optarg); break;
		case 'B': blog = optarg; break;
		case 'n': lines = atol(optarg); break;
		case 'h':
			printf("usage: gen-sample --pcap FILE --log FILE [--base EPOCH]\n"
			    "       gen-sample --bench-log FILE [--lines N]\n");
			return 0;
		default:
			return 1;
		}
	}
	if (!pcap && !log && !blog) {
		fprintf(stderr, "gen-sample: nothing to write (see --help)\n");
		return 1;
	}
	if ((pcap && write_pcap(pcap) == -1) || (log && write_log(log) == -1) ||
	    (blog && write_bench_log(blog, lines) == -1))
		return 1;
	return 0;
}
