/*
 * HTTP/1.x requests and responses over the bytes tcp-reasm.c hands us:
 * a request line (method token, one space, request target, one space,
 * "HTTP/1.x", end of line) or a status line ("HTTP/1.x NNN ...") and the
 * header lines up to the blank line.  One network.http event per request
 * (method, URL, host, user agent, referrer) and one per response (status
 * code, Content-Length as http.response.body.bytes), both with source
 * the client.  Responses are separate events rather than merged into the
 * request's: pairing them would keep per-flow state for every request in
 * flight.  A message cut by the segment end asks for more bytes
 * (APP_MORE) so the reassembler buffers it; when the buffer is full or
 * the flow ends, what is there is reported.  A body given by
 * Content-Length is skipped as far as it is in the buffer.
 *
 * url.domain comes from an absolute-form target or, failing that, the
 * Host header; it is lower-cased and loses its port and IPv6 brackets.
 *
 * For the Sigma web/proxy/Zeek fields, a request also carries
 * url.extension (from the path), its Content-Length
 * (http.request.body.bytes), its Content-Type header
 * (soc.http.request.content_type: ECS's http.request.mime_type is the
 * type sniffed from the body) and the names of its header lines,
 * upper-cased and joined with commas in their order, as Zeek's
 * client_header_names (soc.http.request.header_names, cut at
 * HTTP_HDRNAMES_MAX bytes); with http.cookies (off by default: session
 * secrets), its Cookie header (soc.http.request.cookie, cut at
 * HTTP_COOKIE_MAX bytes, the event then marked truncated; several
 * Cookie lines are joined with "; " as servers do).  A response with a
 * Content-Length whose body starts in the same buffer as its headers
 * gets http.response.mime_type sniffed from the first bytes (executables
 * and archives only, with Zeek's names), as ECS wants it: from the
 * content, not the header.
 */
#include <string.h>

#include "decode.h"

#define HTTP_METHOD_MAX		24
#define HTTP_HDRNAMES_MAX	512
#define HTTP_COOKIE_MAX		1024

struct http_hdrs;

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

struct http_hdrs {
	struct span	host, ua, ref, ctype;
	int64_t		clen;		/* Content-Length, -1 if none */
	struct span	body;		/* the body's bytes in the buffer */
	char		names[HTTP_HDRNAMES_MAX];	/* "HOST,USER-AGENT" */
	size_t		nnames;
	bool		names_cut;
	bool		want_cookie;	/* http.cookies */
	char		cookie[HTTP_COOKIE_MAX];	/* Cookie lines, "; "-joined */
	size_t		ncookie;
	bool		cookie_cut;
};

/*
 * Appends a Cookie line's value, "; " between lines as servers join
 * them (a cookie hidden in an earlier line is seen too); cut at
 * HTTP_COOKIE_MAX.
 */
static void
http_cookie(struct http_hdrs *h, struct span v)
{
	size_t room;

	if (v.len == 0)
		return;
	room = sizeof(h->cookie) - h->ncookie;
	if (h->ncookie > 0) {
		if (room < 2) {
			h->cookie_cut = true;
			return;
		}
		memcpy(h->cookie + h->ncookie, "; ", 2);
		h->ncookie += 2;
		room -= 2;
	}
	if (v.len > room) {
		v.len = room;
		h->cookie_cut = true;
	}
	memcpy(h->cookie + h->ncookie, v.p, v.len);
	h->ncookie += v.len;
}

/* Appends a header name, upper-cased, to h->names. */
static void
http_hdr_name(struct http_hdrs *h, struct span name)
{
	size_t need = name.len + (h->nnames > 0);

	if (name.len == 0 || h->names_cut)
		return;
	if (need > sizeof(h->names) - h->nnames) {
		h->names_cut = true;
		return;
	}
	if (h->nnames > 0)
		h->names[h->nnames++] = ',';
	for (size_t i = 0; i < name.len; i++) {
		char c = name.p[i];

		h->names[h->nnames++] = (c >= 'a' && c <= 'z') ?
		    (char)(c - 'a' + 'A') : c;
	}
}

static int64_t
span_uint(struct span v)
{
	int64_t n = 0;

	if (v.len == 0 || v.len > 15)
		return -1;
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		n = n * 10 + (v.p[i] - '0');
	}
	return n;
}

/* Complete header lines up to the blank line or the end. */
static void
http_headers(const char *s, size_t len, struct http_hdrs *h)
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
		http_hdr_name(h, span_trim(name));
		if (span_ieq(name, "host"))
			h->host = value;
		else if (span_ieq(name, "user-agent"))
			h->ua = value;
		else if (span_ieq(name, "referer"))
			h->ref = value;
		else if (span_ieq(name, "content-length"))
			h->clen = span_uint(value);
		else if (span_ieq(name, "content-type"))
			h->ctype = value;
		else if (span_ieq(name, "cookie") && h->want_cookie)
			http_cookie(h, value);
	}
}

/* Offset just past the blank line ending the headers, or 0. */
static size_t
http_headers_end(const char *s, size_t len)
{
	const char *nl;
	size_t i = 0;

	while (i < len && (nl = memchr(s + i, '\n', len - i)) != NULL) {
		size_t j = (size_t)(nl - s) + 1;

		if (j < len && s[j] == '\n')
			return j + 1;
		if (j + 1 < len && s[j] == '\r' && s[j + 1] == '\n')
			return j + 2;
		i = j;
	}
	return 0;
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

/*
 * url.extension (ECS): what follows the last dot of the path's last
 * segment, without the dot; none for "/a", "/a." or "/.htaccess".
 */
static void
http_set_extension(struct soc_event *ev, struct span path)
{
	size_t i = path.len;

	while (i > 0 && path.p[i - 1] != '/' && path.p[i - 1] != '.')
		i--;
	if (i < 2 || path.p[i - 1] != '.' || i == path.len ||
	    path.p[i - 2] == '/')
		return;
	soc_event_set_str(ev, SOC_F_URL_EXTENSION, path.p + i, path.len - i);
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
	http_set_extension(ev, (struct span){ t.p, plen });
	if (q != NULL)
		soc_event_set_str(ev, SOC_F_URL_QUERY, q + 1,
		    t.len - plen - 1);
}

bool
http_is_request(const uint8_t *d, uint32_t len)
{
	uint32_t i = 0;

	while (i < len && i < HTTP_METHOD_MAX &&
	    ((d[i] >= 'A' && d[i] <= 'Z') || d[i] == '-' || d[i] == '_'))
		i++;
	return i >= 3 && i < len && d[i] == ' ';
}

bool
http_is_response(const uint8_t *d, uint32_t len)
{
	return len >= 7 && memcmp(d, "HTTP/1.", 7) == 0;
}

/* Could s (no end of line yet) be the start of a request line? */
static bool
http_request_prefix(const char *s, size_t len)
{
	static const char tail[] = " HTTP/1.";
	size_t i = 0, rest;

	while (i < len && i < HTTP_METHOD_MAX &&
	    ((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-' || s[i] == '_'))
		i++;
	if (i == len)
		return i < HTTP_METHOD_MAX;
	if (i < 3 || s[i] != ' ')
		return false;
	for (i++; i < len && (unsigned char)s[i] > 0x20 && s[i] != 0x7f; i++)
		;
	if (i == len)
		return true;
	rest = len - i;
	if (rest <= 8)
		return memcmp(s + i, tail, rest) == 0;
	return rest <= 10 && memcmp(s + i, tail, 8) == 0 &&
	    (s[i + 8] == '0' || s[i + 8] == '1') &&
	    (rest == 9 || s[i + 9] == '\r');
}

/* Bytes of a message: headers, then the body as far as it is here. */
static uint32_t
http_consumed(size_t hend, int64_t clen, uint32_t len)
{
	if (clen > 0 && (uint64_t)clen < (uint64_t)(len - hend))
		return (uint32_t)(hend + (size_t)clen);
	return clen > 0 ? len : (uint32_t)hend;
}

/*
 * The header block after a start line of n bytes: parses it into h and
 * sets *used to what the message takes of the len bytes.  -1 when the
 * headers are not complete yet and more may come (!full).
 */
static int
http_head(const char *s, size_t n, uint32_t len, bool full,
    struct http_hdrs *h, uint32_t *used)
{
	size_t hend;

	if ((hend = http_headers_end(s + n - 1, len - n + 1)) != 0)
		hend += n - 1;		/* no headers: the line's own EOL */
	else if (!full)
		return -1;
	else
		hend = len;
	http_headers(s + n, hend - n, h);
	*used = http_consumed(hend, h->clen, len);
	h->body = (struct span){ s + hend, *used - hend };
	return 0;
}

static enum app_res
http_request(struct pkt_ctx *ctx, const struct pkt_packet *p, const char *s,
    uint32_t len, bool full, uint32_t *used)
{
	struct span method, target, authority = { 0 };
	struct http_hdrs h = { .clen = -1,
	    .want_cookie = ctx->cfg.http_cookies != 0 };
	struct soc_event *ev = &ctx->ev;
	size_t n;
	char minor;

	n = http_request_line(s, len, &method, &target, &minor);
	if (n == 0) {
		if (!full && http_request_prefix(s, len))
			return APP_MORE;
		*used = len;
		return APP_NEXT;	/* not a message start */
	}
	if (http_head(s, n, len, full, &h, used) == -1)
		return APP_MORE;

	decode_event_init(ctx, p, "network.http", true);
	soc_event_set_cstr(ev, SOC_F_EVENT_ACTION, "http_request");
	soc_event_set_cstr(ev, SOC_F_NET_PROTOCOL, "http");
	soc_event_set_str(ev, SOC_F_HTTP_METHOD, method.p, method.len);
	soc_event_set_str(ev, SOC_F_URL_ORIGINAL, target.p, target.len);
	soc_event_set_cstr(ev, SOC_F_HTTP_VERSION, minor == '1' ? "1.1" : "1.0");
	http_set_url(ev, target, &authority);
	if (authority.len == 0 && span_ieq(method, "connect"))
		authority = target;
	if (authority.len == 0)
		authority = h.host;
	if (authority.len > 0)
		http_set_domain(ev, authority);
	if (h.ua.len > 0)
		soc_event_set_str(ev, SOC_F_USER_AGENT, h.ua.p, h.ua.len);
	if (h.ref.len > 0)
		soc_event_set_str(ev, SOC_F_HTTP_REFERRER, h.ref.p, h.ref.len);
	if (h.clen >= 0)
		soc_event_set_int(ev, SOC_F_HTTP_REQ_BYTES, h.clen);
	if (h.ctype.len > 0)
		soc_event_set_str(ev, SOC_F_SOC_HTTP_CTYPE, h.ctype.p,
		    h.ctype.len);
	if (h.nnames > 0)
		soc_event_set_str(ev, SOC_F_SOC_HTTP_HDRNAMES, h.names,
		    h.nnames);
	if (h.ncookie > 0) {
		soc_event_set_str(ev, SOC_F_SOC_HTTP_COOKIE, h.cookie, h.ncookie);
		if (h.cookie_cut)
			soc_event_set_truncated(ev);
	}
	ctx->stats.http_events++;
	decode_emit(ctx);
	return APP_NEXT;
}

/* "HTTP/1.x NNN[ reason]" EOL; returns the line length or 0. */
static size_t
http_status_line(const char *s, size_t len, char *minor, int *status)
{
	const char *nl = memchr(s, '\n', len);

	if (nl == NULL || len < 12 || (s[7] != '0' && s[7] != '1') ||
	    s[8] != ' ')
		return 0;
	for (int i = 9; i < 12; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	if ((size_t)(nl - s) < 12)
		return 0;
	if (s[12] != ' ' && s[12] != '\r' && s[12] != '\n')
		return 0;
	*minor = s[7];
	*status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	return (size_t)(nl - s) + 1;
}

/* Type of a body from its first bytes (Zeek's signatures), or NULL. */
static const char *
http_sniff(struct span b)
{
	static const struct {
		const char	*magic;
		size_t		 len;
		const char	*type;
	} sig[] = {
		{ "MZ", 2, "application/x-dosexec" },
		{ "\x7f" "ELF", 4, "application/x-executable" },
		{ "\xca\xfe\xba\xbe", 4, "application/x-java-applet" },
		{ "PK\x03\x04", 4, "application/zip" },
		{ "Rar!\x1a\x07", 6, "application/x-rar" },
		{ "7z\xbc\xaf\x27\x1c", 6, "application/x-7z-compressed" },
		{ "\x1f\x8b", 2, "application/x-gzip" },
		{ "%PDF-", 5, "application/pdf" },
	};

	for (size_t i = 0; i < sizeof(sig) / sizeof(sig[0]); i++)
		if (b.len >= sig[i].len &&
		    memcmp(b.p, sig[i].magic, sig[i].len) == 0)
			return sig[i].type;
	return NULL;
}

static enum app_res
http_response(struct pkt_ctx *ctx, const struct pkt_packet *p, const char *s,
    uint32_t len, bool full, uint32_t *used)
{
	struct http_hdrs h = { .clen = -1 };
	struct soc_event *ev = &ctx->ev;
	const char *mime;
	size_t n;
	int status;
	char minor;

	if ((n = http_status_line(s, len, &minor, &status)) == 0) {
		if (!full && memchr(s, '\n', len) == NULL && len < 256)
			return APP_MORE;
		*used = len;
		return APP_NEXT;
	}
	if (http_head(s, n, len, full, &h, used) == -1)
		return APP_MORE;

	decode_event_init(ctx, p, "network.http", false);
	soc_event_set_cstr(ev, SOC_F_EVENT_ACTION, "http_response");
	soc_event_set_cstr(ev, SOC_F_NET_PROTOCOL, "http");
	soc_event_set_cstr(ev, SOC_F_HTTP_VERSION, minor == '1' ? "1.1" : "1.0");
	soc_event_set_int(ev, SOC_F_HTTP_STATUS, status);
	if (h.clen >= 0)
		soc_event_set_int(ev, SOC_F_HTTP_RESP_BYTES, h.clen);
	if ((mime = http_sniff(h.body)) != NULL)
		soc_event_set_cstr(ev, SOC_F_HTTP_RESP_MIME, mime);
	ctx->stats.http_events++;
	decode_emit(ctx);
	return APP_NEXT;
}

enum app_res
http_parse(struct pkt_ctx *ctx, const struct pkt_packet *p, struct flow *f,
    const uint8_t *buf, uint32_t len, bool full, uint32_t *used)
{
	const char *s = (const char *)buf;

	(void)f;
	*used = len;
	if (len < 7 && !full && (memcmp(s, "HTTP/1.", len) == 0 ||
	    http_request_prefix(s, len)))
		return APP_MORE;
	if (http_is_response(buf, len))
		return http_response(ctx, p, s, len, full, used);
	return http_request(ctx, p, s, len, full, used);
}
