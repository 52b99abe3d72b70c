/*
 * Web server access logs: Apache and nginx "common", "combined" and
 * Apache's "vhost_combined" ("host:port client ident user [time]
 * "request" status bytes "referer" "agent"").  Fields that follow the
 * agent (nginx $http_x_forwarded_for, Apache %D, ...) are ignored.
 *
 * Recognition is a shape check, not a guess: three or four tokens, a
 * bracketed "[10/Oct/2000:13:55:36 -0700]" stamp, a quoted request and a
 * three-digit status.  The line is scanned once into struct lw_line and
 * fields are set only when the whole shape matched, so a line that is
 * not an access log leaves the event untouched for the caller's fallback.
 *
 * The request is what the client sent: Apache escapes quotes in it as
 * \" and nginx as \x22, so the closing quote is the first unescaped one
 * followed by a status code.  A request that is not "METHOD TARGET
 * HTTP/x" (TLS handshakes sent to port 80 show up as "\x16\x03...") is
 * kept raw in url.original with no method.
 *
 * Error logs (log.web_error) are Apache 2.4's "[Sun Dec 04 04:47:44.123456
 * 2005] [core:error] [pid 1:tid 2] [client 1.2.3.4:5678] AH00124: msg",
 * Apache 2.2's "[Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] msg"
 * and nginx's "2026/11/27 10:00:00 [error] 123#0: *1 msg, client:
 * 1.2.3.4, server: x, request: ...".  Their stamps have no zone: the
 * configured one applies.  nginx writes the client after a message that
 * may quote the (decoded) request path, and the request, host and
 * referrer after it, so a client can write ", client: 6.6.6.6, server: "
 * into the line on either side: when more than one candidate is found,
 * source.ip is left out rather than guessed.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "log-int.h"
#include "soc/event.h"
#include "soc/time.h"

#define LW_TOKEN_MAX	1024	/* vhost, client, ident, user */
#define LW_METHOD_MAX	32
#define LW_STAMP_LEN	28	/* "[10/Oct/2000:13:55:36 -0700]" */
#define LW_LEVEL_MAX	64	/* "[module:level]" */
#define LW_IP_MAX	64

struct lw_span {
	const char	*p;
	size_t		 n;
};

struct lw_line {
	struct lw_span	vhost;		/* n == 0: none */
	struct lw_span	client;
	struct lw_span	user;
	int64_t		ts;
	struct lw_span	request;
	int		status;
	int64_t		bytes;		/* -1: "-" */
	bool		has_referrer;
	struct lw_span	referrer;
	bool		has_agent;
	struct lw_span	agent;
};

/* Space-terminated token at *pos; false if empty, too long or last. */
static bool
lw_token(const char *p, size_t n, size_t *pos, struct lw_span *t)
{
	size_t i = *pos, lim = n - i < LW_TOKEN_MAX ? n : i + LW_TOKEN_MAX;
	const char *sp = memchr(p + i, ' ', lim - i);

	if (sp == NULL || sp == p + i)
		return false;
	t->p = p + i;
	t->n = (size_t)(sp - (p + i));
	*pos = i + t->n + 1;
	return true;
}

/* "[10/Oct/2000:13:55:36 -0700]" at p (n >= LW_STAMP_LEN). */
static bool
lw_stamp(const char *p, int64_t *ns)
{
	int d, mon, y, h, mi, s, zh, zm;
	int64_t secs, off;

	if (p[0] != '[' || p[3] != '/' || p[7] != '/' || p[12] != ':' ||
	    p[15] != ':' || p[18] != ':' || p[21] != ' ' ||
	    (p[22] != '+' && p[22] != '-') || p[27] != ']')
		return false;
	d = log_digits(p + 1, 2);
	mon = soc_time_month(p + 4);
	y = log_digits(p + 8, 4);
	h = log_digits(p + 13, 2);
	mi = log_digits(p + 16, 2);
	s = log_digits(p + 19, 2);
	zh = log_digits(p + 23, 2);
	zm = log_digits(p + 25, 2);
	if (d < 1 || d > 31 || mon == 0 || y < 0 || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || s < 0 || s > 60 || zh < 0 || zh > 23 ||
	    zm < 0 || zm > 59)
		return false;
	off = (int64_t)zh * 3600 + zm * 60;
	if (p[22] == '-')
		off = -off;
	secs = soc_time_timegm(y, mon, d, h, mi, s) - off;
	return soc_time_mkns(secs, 0, ns);
}

/* True if p[i..] is " ddd" followed by a space or the end. */
static bool
lw_status_follows(const char *p, size_t n, size_t i)
{
	return i + 4 <= n && p[i] == ' ' && log_isdigit(p[i + 1]) &&
	    log_isdigit(p[i + 2]) && log_isdigit(p[i + 3]) &&
	    (i + 4 == n || p[i + 4] == ' ');
}

/*
 * Closing quote of the request opened before *pos: the first unescaped
 * '"' followed by a status.  Returns its index, or n if there is none.
 */
static size_t
lw_request_end(const char *p, size_t n, size_t pos)
{
	for (size_t i = pos; i < n; i++) {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '"' && lw_status_follows(p, n, i + 1))
			return i;
	}
	return n;
}

/*
 * Quoted field at *pos (on the opening quote).  Ends at the first
 * unescaped '"' followed by a space or the end of line; broken quoting
 * runs to the end of the line.
 */
static bool
lw_quoted(const char *p, size_t n, size_t *pos, struct lw_span *t)
{
	size_t i = *pos;

	if (i >= n || p[i] != '"')
		return false;
	t->p = p + ++i;
	for (; i < n; i++) {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '"' && (i + 1 == n || p[i + 1] == ' '))
			break;
	}
	if (i > n)
		i = n;
	t->n = (size_t)(p + i - t->p);
	*pos = i < n ? i + 1 : n;
	return true;
}

/* Referrer and agent of the combined format, if present. */
static void
lw_combined(const char *p, size_t n, size_t pos, struct lw_line *l)
{
	if (pos >= n || p[pos] != ' ')
		return;
	pos++;
	if (!lw_quoted(p, n, &pos, &l->referrer))
		return;
	l->has_referrer = true;
	if (pos >= n || p[pos] != ' ')
		return;
	pos++;
	l->has_agent = lw_quoted(p, n, &pos, &l->agent);
}

/* Shape check of the whole line into l.  Returns false if no match. */
static bool
lw_scan(const char *p, size_t n, struct lw_line *l)
{
	struct lw_span t[4];
	size_t pos = 0, end;
	int64_t v;
	int nt;

	memset(l, 0, sizeof(*l));
	l->bytes = -1;
	for (nt = 0; nt < 4; nt++) {
		if (nt >= 3 && pos < n && p[pos] == '[')
			break;
		if (!lw_token(p, n, &pos, &t[nt]))
			return false;
	}
	if (nt < 3 || n - pos < LW_STAMP_LEN + 2 || !lw_stamp(p + pos, &l->ts))
		return false;
	if (nt == 4)
		l->vhost = t[0];
	l->client = t[nt - 3];
	l->user = t[nt - 1];
	pos += LW_STAMP_LEN;
	if (p[pos] != ' ' || p[pos + 1] != '"')
		return false;
	pos += 2;
	if ((end = lw_request_end(p, n, pos)) == n)
		return false;
	l->request.p = p + pos;
	l->request.n = end - pos;
	l->status = log_digits(p + end + 2, 3);
	pos = end + 5;
	if (pos >= n || p[pos] != ' ')
		return pos >= n;	/* common format cut after status */
	pos++;
	if (pos < n && p[pos] == '-')
		pos++;
	else if ((end = log_uint(p + pos, n - pos, 18, &v)) > 0) {
		l->bytes = v;
		pos += end;
	} else
		return false;
	lw_combined(p, n, pos, l);
	return true;
}

/*
 * url.extension (ECS): what follows the last dot of the path's last
 * segment, without the dot; none for "/a", "/a." or "/.htaccess".
 */
static void
lw_extension(struct soc_event *ev, const char *p, size_t n)
{
	size_t i = n;

	while (i > 0 && p[i - 1] != '/' && p[i - 1] != '.')
		i--;
	if (i == 0 || p[i - 1] != '.' || i == n || i < 2 || p[i - 2] == '/')
		return;
	soc_event_set_str(ev, SOC_F_URL_EXTENSION, p + i, n - i);
}

/* "/path?query#frag" -> url.path, url.extension, url.query. */
static void
lw_path_query(struct soc_event *ev, const char *p, size_t n)
{
	size_t i, q;

	for (i = 0; i < n && p[i] != '?' && p[i] != '#'; i++)
		;
	if (i > 0) {
		soc_event_set_str(ev, SOC_F_URL_PATH, p, i);
		lw_extension(ev, p, i);
	}
	if (i < n && p[i] == '?') {
		for (q = ++i; i < n && p[i] != '#'; i++)
			;
		soc_event_set_str(ev, SOC_F_URL_QUERY, p + q, i - q);
	}
}

/* Host of "[v6]:port", "host:port" or "host" -> url.domain. */
static void
lw_domain(struct soc_event *ev, const char *p, size_t n)
{
	const char *c;

	if (n > 0 && p[0] == '[') {
		if ((c = memchr(p, ']', n)) != NULL && c > p + 1)
			soc_event_set_str(ev, SOC_F_URL_DOMAIN, p + 1,
			    (size_t)(c - p - 1));
		return;
	}
	if ((c = memchr(p, ':', n)) != NULL &&
	    memchr(c + 1, ':', n - (size_t)(c - p) - 1) == NULL)
		n = (size_t)(c - p);	/* one colon: host:port */
	if (n > 0)
		soc_event_set_str(ev, SOC_F_URL_DOMAIN, p, n);
}

/* Request target: origin form, absolute form (proxies) or other. */
static void
lw_target(struct soc_event *ev, const char *p, size_t n, bool has_domain)
{
	size_t i, a;

	if (n > 0 && p[0] == '/') {
		lw_path_query(ev, p, n);
		return;
	}
	if (LOG_PREFIX(p, n, "http://"))
		a = 7;
	else if (LOG_PREFIX(p, n, "https://"))
		a = 8;
	else
		return;		/* "*", CONNECT authority, junk */
	for (i = a; i < n && p[i] != '/' && p[i] != '?' && p[i] != '#'; i++)
		;
	if (!has_domain) {
		const char *at = memchr(p + a, '@', i - a);
		size_t h = at != NULL ? (size_t)(at - p) + 1 : a;

		lw_domain(ev, p + h, i - h);
	}
	lw_path_query(ev, p + i, n - i);
}

static bool
lw_is_method(const char *p, size_t n)
{
	if (n == 0 || n > LW_METHOD_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!((p[i] >= 'A' && p[i] <= 'Z') || p[i] == '-' ||
		    p[i] == '_'))
			return false;
	}
	return true;
}

/* "METHOD TARGET HTTP/x" -> method, url.*, version; else raw only. */
static void
lw_request(struct soc_event *ev, const struct lw_span *r, bool has_domain)
{
	const char *p = r->p, *sp;
	size_t n = r->n, m, t;

	if (n == 0 || (n == 1 && p[0] == '-'))
		return;
	sp = memchr(p, ' ', n);
	m = sp != NULL ? (size_t)(sp - p) : n;
	if (sp == NULL || !lw_is_method(p, m) || m + 1 >= n) {
		soc_event_set_str(ev, SOC_F_URL_ORIGINAL, p, n);
		return;
	}
	soc_event_set_str(ev, SOC_F_HTTP_METHOD, p, m);
	p += m + 1;
	n -= m + 1;
	/* The version is the last word when it looks like one. */
	for (t = n; t > 0 && p[t - 1] != ' '; t--)
		;
	if (t > 0 && LOG_PREFIX(p + t, n - t, "HTTP/")) {
		if (n - t > 5)
			soc_event_set_str(ev, SOC_F_HTTP_VERSION, p + t + 5,
			    n - t - 5);
		n = t - 1;
	}
	if (n == 0)
		return;
	lw_target(ev, p, n, has_domain);
	soc_event_set_str(ev, SOC_F_URL_ORIGINAL, p, n);
}

/* vhost "host:port": url.domain and destination.port. */
static void
lw_vhost(struct soc_event *ev, const struct lw_span *v)
{
	const char *c;
	int64_t port;
	size_t nd;

	lw_domain(ev, v->p, v->n);
	for (c = v->p + v->n; c > v->p && c[-1] != ':'; c--)
		;
	if (c == v->p || (v->p[0] != '[' && memchr(v->p, ':',
	    (size_t)(c - v->p) - 1) != NULL))
		return;		/* no port, or a bare IPv6 address */
	nd = log_uint(c, (size_t)(v->p + v->n - c), 6, &port);
	if (nd > 0 && nd == (size_t)(v->p + v->n - c) && port <= 65535)
		soc_event_set_int(ev, SOC_F_DEST_PORT, port);
}

static bool
lw_nil(const struct lw_span *s)
{
	return s->n == 0 || (s->n == 1 && s->p[0] == '-');
}

/* Fields of a scanned line, short ones first, the raw line last. */
static void
lw_emit(const struct lw_line *l, const char *line, size_t len,
    struct soc_event *ev)
{
	struct soc_ip ip;

	ev->ts = l->ts;
	soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, LOGPARSE_DS_WEB);
	soc_event_set_cstr(ev, SOC_F_EVENT_CATEGORY, "web");
	soc_event_set_cstr(ev, SOC_F_EVENT_OUTCOME,
	    l->status < 400 ? "success" : "failure");
	if (l->client.n <= 64 && soc_ip_parse(l->client.p, l->client.n,
	    &ip) == 0)
		soc_event_set_ip(ev, SOC_F_SOURCE_IP, &ip);
	soc_event_set_int(ev, SOC_F_HTTP_STATUS, l->status);
	if (l->bytes >= 0)
		soc_event_set_int(ev, SOC_F_HTTP_RESP_BYTES, l->bytes);
	if (!lw_nil(&l->user))
		soc_event_set_str(ev, SOC_F_USER_NAME, l->user.p, l->user.n);
	if (l->vhost.n > 0)
		lw_vhost(ev, &l->vhost);
	lw_request(ev, &l->request, l->vhost.n > 0);
	if (l->has_referrer && !lw_nil(&l->referrer))
		soc_event_set_str(ev, SOC_F_HTTP_REFERRER, l->referrer.p,
		    l->referrer.n);
	if (l->has_agent && !lw_nil(&l->agent))
		soc_event_set_str(ev, SOC_F_USER_AGENT, l->agent.p,
		    l->agent.n);
	soc_event_set_str(ev, SOC_F_MESSAGE, line, len);
}

int
log_web_parse(const struct logparse_ctx *ctx, const char *line, size_t len,
    struct soc_event *ev)
{
	struct lw_line l;

	(void)ctx;
	if (line == NULL || !lw_scan(line, len, &l))
		return -1;
	lw_emit(&l, line, len, ev);
	return 0;
}

/*
 * Error logs.
 */

static bool
lw_ip(const char *p, size_t n, struct soc_ip *ip)
{
	return n > 0 && n <= LW_IP_MAX && soc_ip_parse(p, n, ip) == 0;
}

/* Seconds of a civil time in the context's zone, false if invalid. */
static bool
lw_local(const struct logparse_ctx *ctx, int y, int mon, int d, int h,
    int mi, int s, int64_t frac, int64_t *ns)
{
	if (y < 0 || mon < 1 || mon > 12 || d < 1 || d > 31 || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60)
		return false;
	return soc_time_mkns(soc_time_timegm(y, mon, d, h, mi, s) -
	    ctx->tz_offset_sec, frac, ns);
}

/*
 * "[Sun Dec 04 04:47:44[.123456] 2005]" at p.  Returns bytes used, 0 if
 * it is not such a stamp.
 */
static size_t
lw_apache_stamp(const struct logparse_ctx *ctx, const char *p, size_t n,
    int64_t *ns)
{
	size_t i, nd = 0;
	int d, mon, h, mi, s, y;
	int64_t frac = 0;

	if (n < 26 || p[0] != '[' || p[4] != ' ' || p[8] != ' ' ||
	    p[11] != ' ' || p[14] != ':' || p[17] != ':')
		return 0;
	mon = soc_time_month(p + 5);
	d = p[9] == ' ' ? log_digits(p + 10, 1) : log_digits(p + 9, 2);
	h = log_digits(p + 12, 2);
	mi = log_digits(p + 15, 2);
	s = log_digits(p + 18, 2);
	i = 20;
	if (p[i] == '.') {
		for (i++; i < n && log_isdigit(p[i]); i++, nd++)
			if (nd < 9)
				frac = frac * 10 + (p[i] - '0');
		if (nd == 0)
			return 0;
		for (; nd < 9; nd++)
			frac *= 10;
	}
	if (i + 6 > n || p[i] != ' ' || p[i + 5] != ']')
		return 0;
	y = log_digits(p + i + 1, 4);
	if (!lw_local(ctx, y, mon, d, h, mi, s, frac, ns))
		return 0;
	return i + 6;
}

/* "[...]" at *pos followed by a space or the end: its contents. */
static bool
lw_bracket(const char *p, size_t n, size_t *pos, size_t max,
    struct lw_span *t)
{
	size_t i = *pos;
	const char *e;

	if (i >= n || p[i] != '[')
		return false;
	e = memchr(p + i + 1, ']', n - i - 1 < max ? n - i - 1 : max);
	if (e == NULL)
		return false;
	t->p = p + i + 1;
	t->n = (size_t)(e - t->p);
	i = (size_t)(e - p) + 1;
	if (i < n && p[i] == ' ')
		i++;
	*pos = i;
	return true;
}

/* "1.2.3.4:5678" (2.4) or "1.2.3.4" (2.2) -> source.ip, source.port. */
static void
lw_apache_client(struct soc_event *ev, const struct lw_span *c, bool v24)
{
	struct soc_ip ip;
	const char *colon = NULL;
	int64_t port;

	if (v24) {
		for (size_t i = c->n; i > 0; i--)
			if (c->p[i - 1] == ':') {
				colon = c->p + i - 1;
				break;
			}
	}
	if (colon != NULL && lw_ip(c->p, (size_t)(colon - c->p), &ip)) {
		size_t pn = (size_t)(c->p + c->n - colon - 1);

		soc_event_set_ip(ev, SOC_F_SOURCE_IP, &ip);
		if (pn > 0 && log_uint(colon + 1, pn, 6, &port) == pn &&
		    port <= 65535)
			soc_event_set_int(ev, SOC_F_SOURCE_PORT, port);
	} else if (lw_ip(c->p, c->n, &ip))
		soc_event_set_ip(ev, SOC_F_SOURCE_IP, &ip);
}

static bool
lw_level_ok(const char *p, size_t n)
{
	if (n == 0 || n > 16)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || log_isdigit(p[i])))
			return false;
	return true;
}

/* Apache: stamp (unless nostamp), level, then optional fields. */
static bool
lw_apache_error(const struct logparse_ctx *ctx, const char *p, size_t n,
    bool nostamp, struct soc_event *ev)
{
	struct lw_span lvl, t, client = { NULL, 0 };
	size_t pos, colon;
	int64_t ts = 0;
	bool v24, has_ts;

	pos = lw_apache_stamp(ctx, p, n, &ts);
	if ((has_ts = pos > 0) == false && !nostamp)
		return false;
	if (pos < n && p[pos] == ' ')
		pos++;
	if (!lw_bracket(p, n, &pos, LW_LEVEL_MAX, &lvl))
		return false;
	/* 2.4: "[module:level]" (module may be empty); 2.2: "[level]" */
	for (colon = lvl.n; colon > 0 && lvl.p[colon - 1] != ':'; colon--)
		;
	v24 = colon > 0;
	if (!lw_level_ok(lvl.p + colon, lvl.n - colon))
		return false;
	while (pos < n && p[pos] == '[' && lw_bracket(p, n, &pos,
	    LW_IP_MAX + 16, &t)) {
		if (LOG_PREFIX(t.p, t.n, "client ") ||
		    LOG_PREFIX(t.p, t.n, "remote ")) {
			if (client.n == 0) {
				client.p = t.p + 7;
				client.n = t.n - 7;
			}
		} else if (LOG_PREFIX(t.p, t.n, "pid "))
			v24 = true;
		else
			break;
	}
	if (has_ts)
		ev->ts = ts;	/* else the caller's (syslog) stamp stays */
	soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, LOGPARSE_DS_WEB_ERROR);
	soc_event_set_cstr(ev, SOC_F_EVENT_CATEGORY, "web");
	soc_event_set_str(ev, SOC_F_LOG_LEVEL, lvl.p + colon, lvl.n - colon);
	if (client.n > 0)
		lw_apache_client(ev, &client, v24);
	return true;
}

/*
 * nginx ", client: IP, server: " -> source.ip, when exactly one such
 * candidate is in the line (see the top of the file).
 */
static void
lw_nginx_client(struct soc_event *ev, const char *p, size_t n)
{
	struct soc_ip ip, found;
	const char *q;
	size_t i = 0, t, hits = 0;

	while (i < n && (q = memmem(p + i, n - i, ", client: ", 10)) != NULL) {
		i = (size_t)(q - p) + 10;
		for (t = 0; i + t < n && p[i + t] != ','; t++)
			if (t > LW_IP_MAX)
				break;
		if (!lw_ip(p + i, t, &ip))
			continue;
		if (i + t < n && !LOG_PREFIX(p + i + t, n - i - t, ", server: "))
			continue;
		found = ip;
		if (++hits > 1)
			return;
	}
	if (hits == 1)
		soc_event_set_ip(ev, SOC_F_SOURCE_IP, &found);
}

/* nginx: "YYYY/MM/DD hh:mm:ss [level] pid#tid: [*cid ]message". */
static bool
lw_nginx_error(const struct logparse_ctx *ctx, const char *p, size_t n,
    struct soc_event *ev)
{
	struct lw_span lvl;
	size_t pos = 20;
	int64_t ts, v;
	size_t nd;

	if (n < 24 || p[4] != '/' || p[7] != '/' || p[10] != ' ' ||
	    p[13] != ':' || p[16] != ':' || p[19] != ' ')
		return false;
	if (!lw_local(ctx, log_digits(p, 4), log_digits(p + 5, 2),
	    log_digits(p + 8, 2), log_digits(p + 11, 2), log_digits(p + 14, 2),
	    log_digits(p + 17, 2), 0, &ts))
		return false;
	if (!lw_bracket(p, n, &pos, 16, &lvl) || !lw_level_ok(lvl.p, lvl.n))
		return false;
	/* "123#0: " */
	nd = log_uint(p + pos, n - pos, 10, &v);
	if (nd == 0 || pos + nd >= n || p[pos + nd] != '#')
		return false;
	ev->ts = ts;
	soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, LOGPARSE_DS_WEB_ERROR);
	soc_event_set_cstr(ev, SOC_F_EVENT_CATEGORY, "web");
	soc_event_set_str(ev, SOC_F_LOG_LEVEL, lvl.p, lvl.n);
	lw_nginx_client(ev, p + pos, n - pos);
	return true;
}

int
log_web_error_parse(const struct logparse_ctx *ctx, const char *line,
    size_t len, bool nostamp, struct soc_event *ev)
{
	bool ok;

	if (line == NULL || len < 8)
		return -1;
	if (line[0] == '[')
		ok = lw_apache_error(ctx, line, len, nostamp, ev);
	else if (log_isdigit(line[0]))
		ok = lw_nginx_error(ctx, line, len, ev);
	else
		return -1;
	if (!ok)
		return -1;
	soc_event_set_str(ev, SOC_F_MESSAGE, line, len);
	return 0;
}
