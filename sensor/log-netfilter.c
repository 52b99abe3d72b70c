/*
 * Kernel netfilter LOG lines (iptables -j LOG, nftables "log", ufw) as
 * firewall events:
 *
 *   [UFW BLOCK] IN=eth0 OUT= MAC=... SRC=1.2.3.4 DST=5.6.7.8 LEN=60 TOS=0x00
 *   PREC=0x00 TTL=52 ID=4321 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=29200
 *   RES=0x00 SYN URGP=0
 *
 * The log prefix the administrator chose ("[UFW BLOCK] ", "DROP-IN: ",
 * often glued to "IN=") becomes event.action, lower-cased with every run
 * of other characters turned into one '_' ("ufw_block", "drop_in").  Its
 * words also say whether the packet was stopped: block, drop, reject or
 * deny (and their past tenses) set soc.firewall.blocked "true"; allow,
 * accept or pass set "false"; none of them, or both kinds, leave it unset
 * (a "[UFW AUDIT]" or "NEW-CONN" prefix says nothing about the verdict).
 * SigmaHQ's firewall rules test it as `blocked: 'false'`.  The
 * line is one pass over "KEY=VALUE" tokens; an ICMP error quotes the
 * offending packet in brackets ("[SRC=... DST=... ]"), and the scan stops
 * there so the quoted addresses never replace the real ones.
 *
 * Recognition needs "IN=" followed by " OUT=" and both SRC= and DST= as
 * addresses; anything else is left to the caller (a log.syslog event).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "log-int.h"
#include "soc/event.h"

#define NF_ACTION_MAX	64
#define NF_IP_MAX	64

struct nf_span {
	const char	*p;
	size_t		 n;
};

struct nf_line {
	struct nf_span	prefix;
	struct soc_ip	src, dst;
	bool		has_src, has_dst;
	struct nf_span	proto;
	int64_t		spt, dpt, type, code, len;	/* -1: absent */
};

/* Length of the token at p (up to a space or the end). */
static size_t
nf_toklen(const char *p, size_t n)
{
	const char *sp = memchr(p, ' ', n);

	return sp != NULL ? (size_t)(sp - p) : n;
}

/* "[ 1234.567890] " dmesg stamp at p: bytes to skip, 0 if none. */
static size_t
nf_dmesg_stamp(const char *p, size_t n)
{
	size_t i = 1;

	if (n < 4 || p[0] != '[')
		return 0;
	while (i < n && p[i] == ' ')
		i++;
	if (i >= n || !log_isdigit(p[i]))
		return 0;
	while (i < n && (log_isdigit(p[i]) || p[i] == '.'))
		i++;
	if (i >= n || p[i] != ']')
		return 0;
	i++;
	if (i < n && p[i] == ' ')
		i++;
	return i;
}

/*
 * Where the "IN=" list starts: the first "IN=" whose value is followed by
 * " OUT=".  Returns its index or n.
 */
static size_t
nf_find_in(const char *p, size_t n)
{
	const char *q;
	size_t i = 0, t;

	while (i + 3 <= n && (q = memmem(p + i, n - i, "IN=", 3)) != NULL) {
		i = (size_t)(q - p);
		t = nf_toklen(p + i, n - i);
		if (LOG_PREFIX(p + i + t, n - i - t, " OUT="))
			return i;
		i += 3;
	}
	return n;
}

static int64_t
nf_num(const char *p, size_t n)
{
	int64_t v;

	return n > 0 && n <= 10 && log_uint(p, n, 10, &v) == n ? v : -1;
}

static bool
nf_ip(const char *p, size_t n, struct soc_ip *ip)
{
	return n > 0 && n <= NF_IP_MAX && soc_ip_parse(p, n, ip) == 0;
}

/* One KEY=VALUE token into l. */
static void
nf_token(const char *p, size_t t, struct nf_line *l)
{
	const char *eq = memchr(p, '=', t);
	size_t k, vn;
	const char *v;

	if (eq == NULL)
		return;		/* a flag: DF, SYN, ACK, ... */
	k = (size_t)(eq - p);
	v = eq + 1;
	vn = t - k - 1;
	switch (k) {
	case 3:
		if (memcmp(p, "SRC", 3) == 0)
			l->has_src = nf_ip(v, vn, &l->src);
		else if (memcmp(p, "DST", 3) == 0)
			l->has_dst = nf_ip(v, vn, &l->dst);
		else if (memcmp(p, "SPT", 3) == 0)
			l->spt = nf_num(v, vn);
		else if (memcmp(p, "DPT", 3) == 0)
			l->dpt = nf_num(v, vn);
		else if (memcmp(p, "LEN", 3) == 0 && l->len < 0)
			l->len = nf_num(v, vn);	/* the IP length, first */
		break;
	case 4:
		if (memcmp(p, "TYPE", 4) == 0)
			l->type = nf_num(v, vn);
		else if (memcmp(p, "CODE", 4) == 0)
			l->code = nf_num(v, vn);
		break;
	case 5:
		if (memcmp(p, "PROTO", 5) == 0) {
			l->proto.p = v;
			l->proto.n = vn;
		}
		break;
	}
}

/* Shape check and scan; false when the line is not a netfilter log. */
static bool
nf_scan(const char *p, size_t n, struct nf_line *l)
{
	size_t i, t;

	memset(l, 0, sizeof(*l));
	l->spt = l->dpt = l->type = l->code = l->len = -1;
	i = nf_dmesg_stamp(p, n);
	p += i;
	n -= i;
	if ((i = nf_find_in(p, n)) == n)
		return false;
	l->prefix.p = p;
	l->prefix.n = i;
	while (i < n) {
		if (p[i] == ' ') {
			i++;
			continue;
		}
		if (p[i] == '[')
			break;		/* the packet an ICMP error quotes */
		t = nf_toklen(p + i, n - i);
		nf_token(p + i, t, l);
		i += t;
	}
	return l->has_src && l->has_dst;
}

/* "[UFW BLOCK] " -> "ufw_block"; false when nothing is left. */
static bool
nf_action(const struct nf_span *pre, char *out, size_t *outn)
{
	size_t o = 0;
	bool sep = false;

	for (size_t i = 0; i < pre->n && o < NF_ACTION_MAX; i++) {
		unsigned char c = (unsigned char)pre->p[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (sep && o > 0 && o + 1 < NF_ACTION_MAX)
				out[o++] = '_';
			out[o++] = (char)c;
			sep = false;
		} else
			sep = true;
	}
	*outn = o;
	return o > 0;
}

/*
 * The verdict the action's words name: 1 blocked, 0 let through, -1
 * unknown (no verdict word, or words of both kinds).
 */
static int
nf_blocked(const char *a, size_t n)
{
	static const struct {
		const char	*w;
		int		 v;
	} words[] = {
		{ "block", 1 }, { "blocked", 1 }, { "drop", 1 },
		{ "dropped", 1 }, { "reject", 1 }, { "rejected", 1 },
		{ "deny", 1 }, { "denied", 1 },
		{ "allow", 0 }, { "allowed", 0 }, { "accept", 0 },
		{ "accepted", 0 }, { "pass", 0 }, { "passed", 0 },
	};
	size_t i = 0, w;
	int v = -1;

	while (i < n) {
		w = 0;
		while (i + w < n && a[i + w] != '_')
			w++;
		for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
			if (strlen(words[k].w) == w &&
			    memcmp(words[k].w, a + i, w) == 0) {
				if (v != -1 && v != words[k].v)
					return -1;
				v = words[k].v;
			}
		i += w + 1;
	}
	return v;
}

/* PROTO=TCP / PROTO=ICMPv6 / PROTO=47 -> network.transport. */
static void
nf_transport(struct soc_event *ev, const struct nf_span *pr, int family)
{
	static const struct {
		int64_t		 num;
		const char	*name;
	} nums[] = {
		{ 1, "icmp" }, { 2, "igmp" }, { 6, "tcp" }, { 17, "udp" },
		{ 47, "gre" }, { 50, "esp" }, { 51, "ah" }, { 58, "ipv6-icmp" },
		{ 132, "sctp" },
	};
	char lc[16];
	int64_t v;

	if (pr->n == 0 || pr->n >= sizeof(lc))
		return;
	if ((v = nf_num(pr->p, pr->n)) >= 0) {
		for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
			if (nums[i].num == v) {
				soc_event_set_cstr(ev, SOC_F_NET_TRANSPORT,
				    nums[i].name);
				return;
			}
		return;
	}
	for (size_t i = 0; i < pr->n; i++) {
		char c = pr->p[i];

		lc[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	if ((pr->n == 6 && memcmp(lc, "icmpv6", 6) == 0) ||
	    (pr->n == 4 && family == 6 && memcmp(lc, "icmp", 4) == 0))
		soc_event_set_cstr(ev, SOC_F_NET_TRANSPORT, "ipv6-icmp");
	else
		soc_event_set_str(ev, SOC_F_NET_TRANSPORT, lc, pr->n);
}

int
log_netfilter_parse(struct soc_event *ev, const char *msg, size_t len)
{
	struct nf_line l;
	char action[NF_ACTION_MAX];
	size_t an;
	bool icmp;

	if (msg == NULL || !nf_scan(msg, len, &l))
		return -1;
	soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, LOGPARSE_DS_FIREWALL);
	soc_event_set_cstr(ev, SOC_F_EVENT_CATEGORY, "network");
	if (nf_action(&l.prefix, action, &an)) {
		soc_event_set_str(ev, SOC_F_EVENT_ACTION, action, an);
		switch (nf_blocked(action, an)) {
		case 1:
			soc_event_set_cstr(ev, SOC_F_SOC_FW_BLOCKED, "true");
			break;
		case 0:
			soc_event_set_cstr(ev, SOC_F_SOC_FW_BLOCKED, "false");
			break;
		}
	}
	soc_event_set_cstr(ev, SOC_F_NET_TYPE, l.src.family == 4 ? "ipv4" :
	    "ipv6");
	soc_event_set_ip(ev, SOC_F_SOURCE_IP, &l.src);
	soc_event_set_ip(ev, SOC_F_DEST_IP, &l.dst);
	nf_transport(ev, &l.proto, l.src.family);
	icmp = l.type >= 0 && l.proto.n >= 4 &&
	    (l.proto.p[0] == 'I' || l.proto.p[0] == 'i');
	if (!icmp && l.spt >= 0 && l.spt <= 65535)
		soc_event_set_int(ev, SOC_F_SOURCE_PORT, l.spt);
	if (!icmp && l.dpt >= 0 && l.dpt <= 65535)
		soc_event_set_int(ev, SOC_F_DEST_PORT, l.dpt);
	if (icmp && l.type <= 255)
		soc_event_set_int(ev, SOC_F_ICMP_TYPE, l.type);
	if (icmp && l.code >= 0 && l.code <= 255)
		soc_event_set_int(ev, SOC_F_ICMP_CODE, l.code);
	if (l.len >= 0)
		soc_event_set_int(ev, SOC_F_NET_BYTES, l.len);
	return 0;
}
