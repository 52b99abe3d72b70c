/*
 * HTTP/1.x request sniffer: a TCP segment whose payload starts with a
 * request line (method token, one space, request target, one space,
 * "HTTP/1.x", end of line) yields one network.http event, on any port.
 * The headers read are those found in the same segment (Host,
 * User-Agent, Referer); there is no reassembly yet, so a request line cut
 * by the segment end is not reported.  A retransmitted segment (same
 * sequence number on the same flow) is reported once.
 *
 * url.domain comes from an absolute-form target or, failing that, the
 * Host header; it is lower-cased and loses its port and IPv6 brackets.
 */
#include <string.h>

#include "decode.h"

#define HTTP_METHOD_MAX		24

struct span {
	const char	*p;
	size_t		 len;
};

/* Request line: method, target, minor version; returns its length + EOL. */
static size_t
http_request_line(const char *s, size_t len, struct span *method,
    struct span *target, char *minor)
{
	size_t i = 0, t;

	while (i < len && i < HTTP_METHOD_MAX &&
	    ((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-' || s[i] == '_'))
		i++;
	if (i < 3 || i >= len || s[i] != ' ')
		return 0;
	*method = (struct span){ s, i };
	t = ++i;
	while (i < len && (unsigned char)s[i] > 0x20 && s[i] != 0x7f)
		i++;
	if (i == t || len - i < 10 || memcmp(s + i, " HTTP/1.", 8) != 0)
		return 0;
	*target = (struct span){ s + t, i - t };
	i += 8;
	if (s[i] != '0' && s[i] != '1')
		return 0;
	*minor = s[i++];
	if (s[i] == '\r' && i + 1 < len)
		i++;
	if (s[i] != '\n')
		return 0;
	return i + 1;
}

static bool
span_ieq(struct span a, const char *b)
{
	size_t n = strlen(b);

	if (a.len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = a.p[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != b[i])
			return false;
	}
	return true;
}

static struct span
span_trim(struct span s)
{
	while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return s;
}

/* Complete header lines up to the blank line or the segment end. */
static void
http_headers(const char *s, size_t len, struct span *host, struct span *ua,
    struct span *ref)
{
	const char *eol, *colon;
	struct span line, name, value;

	while (len > 0 && (eol = memchr(s, '\n', len)) != NULL) {
		line = (struct span){ s, (size_t)(eol - s) };
		len -= line.len + 1;
		s = eol + 1;
		if (line.len > 0 && line.p[line.len - 1] == '\r')
			line.len--;
		if (line.len == 0)
			return;
		if ((colon = memchr(line.p, ':', line.len)) == NULL)
			continue;
		name = (struct span){ line.p, (size_t)(colon - line.p) };
		value = span_trim((struct span){ colon + 1,
		    line.len - name.len - 1 });
		if (span_ieq(name, "host"))
			*host = value;
		else if (span_ieq(name, "user-agent"))
			*ua = value;
		else if (span_ieq(name, "referer"))
			*ref = value;
	}
}

/* Host of an authority ("user@host:port", "[v6]:port"), lower-cased. */
static void
http_set_domain(struct soc_event *ev, struct span a)
{
	char buf[256];
	const char *at, *end;
	size_t n = 0;

	if ((at = memchr(a.p, '@', a.len)) != NULL) {
		a.len -= (size_t)(at + 1 - a.p);
		a.p = at + 1;
	}
	if (a.len > 0 && a.p[0] == '[') {
		end = memchr(a.p, ']', a.len);
		a.p++;
		a.len = end != NULL ? (size_t)(end - a.p) : a.len - 1;
	} else if ((end = memchr(a.p, ':', a.len)) != NULL)
		a.len = (size_t)(end - a.p);
	for (; n < a.len && n < sizeof(buf); n++) {
		char c = a.p[n];

		buf[n] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	if (n > 0)
		soc_event_set_str(ev, SOC_F_URL_DOMAIN, buf, n);
}

/* url.path and url.query of a target; *authority set for absolute form. */
static void
http_set_url(struct soc_event *ev, struct span t, struct span *authority)
{
	const char *q, *h;
	size_t skip = 0, plen;

	if (t.len > 7 && span_ieq((struct span){ t.p, 7 }, "http://"))
		skip = 7;
	else if (t.len > 8 && span_ieq((struct span){ t.p, 8 }, "https://"))
		skip = 8;
	if (skip > 0) {
		t.p += skip;
		t.len -= skip;
		for (plen = 0; plen < t.len && t.p[plen] != '/' &&
		    t.p[plen] != '?' && t.p[plen] != '#'; plen++)
			;
		*authority = (struct span){ t.p, plen };
		t.p += plen;
		t.len -= plen;
	} else if (t.len == 0 || t.p[0] != '/')
		return;		/* authority-form (CONNECT) or "*" */
	if ((h = memchr(t.p, '#', t.len)) != NULL)
		t.len = (size_t)(h - t.p);
	q = memchr(t.p, '?', t.len);
	plen = q != NULL ? (size_t)(q - t.p) : t.len;
	soc_event_set_str(ev, SOC_F_URL_PATH, plen > 0 ? t.p : "/",
	    plen > 0 ? plen : 1);
	if (q != NULL)
		soc_event_set_str(ev, SOC_F_URL_QUERY, q + 1,
		    t.len - plen - 1);
}

void
http_handle(struct pkt_ctx *ctx, const struct pkt_packet *p, struct flow *f)
{
	const char *s = (const char *)p->payload;
	struct span method, target, host = { 0 }, ua = { 0 }, ref = { 0 };
	struct span authority = { 0 };
	struct soc_event *ev = &ctx->ev;
	size_t n;
	char minor;

	n = http_request_line(s, p->payload_len, &method, &target, &minor);
	if (n == 0 || !flow_new_request(f, p->tcp_seq))
		return;
	http_headers(s + n, p->payload_len - n, &host, &ua, &ref);

	decode_event_init(ctx, p, "network.http", true);
	soc_event_set_cstr(ev, SOC_F_NET_PROTOCOL, "http");
	soc_event_set_str(ev, SOC_F_HTTP_METHOD, method.p, method.len);
	soc_event_set_str(ev, SOC_F_URL_ORIGINAL, target.p, target.len);
	soc_event_set_cstr(ev, SOC_F_HTTP_VERSION, minor == '1' ? "1.1" : "1.0");
	http_set_url(ev, target, &authority);
	if (authority.len == 0 && span_ieq(method, "connect"))
		authority = target;
	if (authority.len == 0)
		authority = host;
	if (authority.len > 0)
		http_set_domain(ev, authority);
	if (ua.len > 0)
		soc_event_set_str(ev, SOC_F_USER_AGENT, ua.p, ua.len);
	if (ref.len > 0)
		soc_event_set_str(ev, SOC_F_HTTP_REFERRER, ref.p, ref.len);
	ctx->stats.http_events++;
	if (ctx->emit != NULL)
		ctx->emit(ctx->arg, ev);
}
