/*
 * Log intake front end: one line in, one normalized event out.
 *
 * The line is first matched against the syslog headers seen in practice:
 * RFC 5424 ("<34>1 2026-11-27T10:00:00.123+07:00 host app procid msgid
 * [sd] msg"), RFC 3164 with or without "<PRI>" ("Dec 10 06:55:46 host
 * sshd[24200]: msg") and the ISO-8601 stamps rsyslog writes to files with
 * its high-precision template ("2026-11-27T10:00:00+07:00 host prog[pid]:
 * msg").  The header fills host, process and timestamp; the message then
 * goes to a normalizer chosen by program name (sshd; sudo, su, useradd &
 * co, passwd, systemd-logind, cron; kernel netfilter lines; web servers)
 * or content (access log lines relayed through syslog).  A line with no
 * syslog header is tried as an access log, then as an Apache or nginx
 * error log, then as ClamAV's own log ("Thu Nov 27 10:00:00 2026 ->
 * msg"), then as a syslog line behind a prefix of extra fields (as
 * cluster logs write: "- 1131566461 2005.11.09 node Nov 10 10:39:01 host
 * prog[pid]: msg", whose own stamp is kept), and otherwise kept whole as a
 * log.syslog event stamped with the reception time: nothing is ever
 * dropped.
 *
 * RFC 3164 stamps carry neither year nor zone: the zone is the
 * configured one, and the year is the reception year unless that puts the
 * stamp more than a month in the future (December lines read in January
 * belong to last year).
 *
 * Header checking is kept apart from dispatching: the header scanners
 * only produce spans in struct sl_hdr, and the fields are set afterwards,
 * short ones first and the message last, so a line longer than the event
 * buffer truncates only the message.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "log-int.h"
#include "logparse.h"
#include "nxlog.h"
#include "soc/event.h"
#include "soc/time.h"

#define SL_TAG_MAX	64	/* longest program name we accept */
#define SL_PREFIX_MAX	128	/* extra fields before an embedded stamp */
#define SL_HOST_MAX	255
/*
 * RFC 3164 stamps have no year: take the current one unless that puts the
 * line more than a day in the future (clock skew, a zone set wrong), in
 * which case it is last year's -- a "Dec 10" line read on Nov 27 is from
 * last December, and Dec 31 read on Jan 1 is from yesterday.
 */
#define SL_FUTURE_SEC	(86400)

struct sl_span {
	const char	*p;
	size_t		 n;
};

struct sl_hdr {
	int		pri;		/* -1: none */
	bool		has_ts;
	bool		zoneless;	/* the stamp named no zone */
	int64_t		ts;
	struct sl_span	host;
	struct sl_span	prog;
	int64_t		pid;		/* -1: none */
	struct sl_span	msg;
};

static const char *const sl_severity[8] = {
	"emergency", "alert", "critical", "error",
	"warning", "notice", "informational", "debug",
};

/*
 * Time of day "hh:mm:ss[.frac]" at p.  Returns bytes used, 0 if invalid;
 * *secs gets the seconds into the day, *frac the nanoseconds.
 */
static size_t
sl_hms(const char *p, size_t n, int64_t *secs, int64_t *frac)
{
	int h, m, s;
	size_t i = 8, nd = 0;
	int64_t f = 0;

	if (n < 8 || p[2] != ':' || p[5] != ':')
		return 0;
	h = log_digits(p, 2);
	m = log_digits(p + 3, 2);
	s = log_digits(p + 6, 2);
	if (h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 60)
		return 0;
	if (i < n && (p[i] == '.' || p[i] == ',')) {
		for (i++; i < n && log_isdigit(p[i]); i++, nd++) {
			if (nd < 9)
				f = f * 10 + (p[i] - '0');
		}
		if (nd == 0)
			return 0;
		for (; nd < 9; nd++)
			f *= 10;
	}
	*secs = h * 3600 + m * 60 + s;
	*frac = f;
	return i;
}

/*
 * ISO 8601 / RFC 3339 stamp "YYYY-MM-DDThh:mm:ss[.frac][zone]" (the one
 * parser in lib/time.c); a stamp without zone is in the configured zone.
 * Returns bytes used, 0 if the text is not such a stamp.
 */
static size_t
sl_iso(const struct logparse_ctx *ctx, const char *p, size_t n, int64_t *ns)
{
	return soc_time_scan(p, n, 0, ctx->tz_offset_sec, ns);
}

/*
 * Whether an ISO stamp that sl_iso() read carries no zone (only asked
 * when syslog.zones has rules): read in two default zones, it differs.
 */
static bool
sl_iso_zoneless(const struct logparse_ctx *ctx, const char *p, size_t n)
{
	int64_t a, b;

	if (logzones_count(ctx->zones) == 0)
		return false;
	return soc_time_scan(p, n, 0, 0, &a) > 0 &&
	    soc_time_scan(p, n, 0, 3600, &b) > 0 && a != b;
}

/*
 * The calendar work of sl_bsd, kept per thread: the year of "now" (by its
 * day) and the midnights of the month and day last read, in that year and
 * the one before.  A log's lines come in runs from one day, so they cost
 * no calendar arithmetic.
 */
struct sl_cal {
	int64_t		nowday;		/* floor(nowsec / 86400); INT64_MIN: none */
	int64_t		year;
	int		mon;		/* 0: no midnights yet */
	int		mday;
	int64_t		mid;		/* mon/mday of year, 00:00 */
	int64_t		prevmid;	/* the same a year before */
};
static __thread struct sl_cal sl_cal = { .nowday = INT64_MIN };

/*
 * RFC 3164 stamp "Mmm dd hh:mm:ss" (day space- or zero-padded, tolerating
 * a single space before a one-digit day and a fraction after the
 * seconds).  Year and zone come from the context.
 */
static size_t
sl_bsd(const struct logparse_ctx *ctx, const char *p, size_t n, int64_t *ns)
{
	struct sl_cal *c = &sl_cal;
	int mon, mday, nowmon;
	int64_t tod, frac, nowsec, nowday, secs;
	size_t i, used;

	if (n < 14 || (mon = soc_time_month(p)) == 0 || p[3] != ' ')
		return 0;
	i = 4;
	if (p[i] == ' ')
		i++;
	if (!log_isdigit(p[i]))
		return 0;
	mday = p[i++] - '0';
	if (log_isdigit(p[i]))
		mday = mday * 10 + (p[i++] - '0');
	if (mday < 1 || mday > 31 || i >= n || p[i++] != ' ')
		return 0;
	if ((used = sl_hms(p + i, n - i, &tod, &frac)) == 0)
		return 0;
	used += i;

	nowsec = ctx->now_ns / 1000000000LL + ctx->tz_offset_sec;
	nowday = (nowsec >= 0 ? nowsec : nowsec - 86399) / 86400;
	if (c->nowday != nowday) {
		soc_time_civil(nowsec, &c->year, &nowmon);
		c->nowday = nowday;
		c->mon = 0;
	}
	if (c->mon != mon || c->mday != mday) {
		c->mid = soc_time_timegm(c->year, mon, mday, 0, 0, 0);
		c->prevmid = soc_time_timegm(c->year - 1, mon, mday, 0, 0, 0);
		c->mon = mon;
		c->mday = mday;
	}
	secs = c->mid + tod;
	if (secs - nowsec > SL_FUTURE_SEC)
		secs = c->prevmid + tod;
	if (!soc_time_mkns(secs - ctx->tz_offset_sec, frac, ns))
		return 0;
	return used;
}

/* "<PRI>" at p: returns bytes used (0 if none) and the value. */
static size_t
sl_pri(const char *p, size_t n, int *pri)
{
	int64_t v;
	size_t nd;

	if (n < 3 || p[0] != '<')
		return 0;
	nd = log_uint(p + 1, n - 1, 3, &v);
	if (nd == 0 || 1 + nd >= n || p[1 + nd] != '>' || v > 191)
		return 0;
	*pri = (int)v;
	return nd + 2;
}

/* Next space-delimited token at *pos (which must sit on it). */
static bool
sl_token(const char *p, size_t n, size_t *pos, size_t max, struct sl_span *t)
{
	size_t i = *pos, start = i;

	while (i < n && p[i] != ' ' && i - start <= max)
		i++;
	if (i == start || i - start > max || i >= n)
		return false;
	t->p = p + start;
	t->n = i - start;
	*pos = i + 1;
	return true;
}

/*
 * Tag "prog[pid]: " or "prog: " at p.  Returns bytes used up to the
 * message, 0 when the text does not start with a tag.
 */
static size_t
sl_tag(const char *p, size_t n, struct sl_span *prog, int64_t *pid)
{
	size_t i = 0, nd, plen;
	int64_t v, pv = -1;

	while (i < n && i <= SL_TAG_MAX && p[i] != '[' && p[i] != ':' &&
	    p[i] != ' ')
		i++;
	if (i == 0 || i > SL_TAG_MAX || i >= n)
		return 0;
	plen = i;
	if (p[i] == '[') {
		nd = log_uint(p + i + 1, n - i - 1, 10, &v);
		if (nd > 0 && i + 1 + nd < n && p[i + 1 + nd] == ']')
			pv = v;
		/* Non-numeric procids ("prog[abc]") are skipped over. */
		while (i < n && p[i] != ']' && p[i] != ' ')
			i++;
		if (i >= n || p[i] != ']')
			return 0;
		i++;
	}
	if (i >= n || p[i] != ':')
		return 0;
	i++;
	if (i < n && p[i] == ' ')
		i++;
	prog->p = p;
	prog->n = plen;
	*pid = pv;
	return i;
}

/*
 * After a 3164 or ISO stamp: "host tag: msg", or "tag: msg" when the
 * sender left the host out (local /dev/log messages), or "host msg" with
 * no tag at all.
 */
static void
sl_rest_bsd(const char *p, size_t n, struct sl_hdr *h)
{
	size_t pos = 0, used;
	struct sl_span tok;

	h->msg.p = p;
	h->msg.n = n;
	if ((used = sl_tag(p, n, &h->prog, &h->pid)) > 0) {
		h->msg.p = p + used;
		h->msg.n = n - used;
		return;
	}
	if (!sl_token(p, n, &pos, SL_HOST_MAX, &tok)) {
		/* A lone word: the host with an empty message. */
		if (n > 0 && n <= SL_HOST_MAX && memchr(p, ' ', n) == NULL) {
			h->host.p = p;
			h->host.n = n;
			h->msg.n = 0;
		}
		return;
	}
	h->host = tok;
	h->msg.p = p + pos;
	h->msg.n = n - pos;
	if ((used = sl_tag(p + pos, n - pos, &h->prog, &h->pid)) > 0) {
		h->msg.p = p + pos + used;
		h->msg.n = n - pos - used;
	}
}

/*
 * Structured data of RFC 5424: "-" or one or more "[id k="v" ...]" with
 * '\' escaping '"', '\' and ']' inside values.  Returns bytes used, or 0
 * if it is malformed (unterminated).
 */
static size_t
sl_sd(const char *p, size_t n)
{
	size_t i = 0;
	bool quoted = false;

	if (n >= 1 && p[0] == '-')
		return 1;
	while (i < n && p[i] == '[') {
		for (i++; i < n; i++) {
			if (quoted) {
				if (p[i] == '\\')
					i++;
				else if (p[i] == '"')
					quoted = false;
			} else if (p[i] == '"')
				quoted = true;
			else if (p[i] == ']')
				break;
		}
		if (i >= n)
			return 0;
		i++;
	}
	return i;
}

/* A 5424 header field: "-" is nil (empty span). */
static bool
sl_field5424(const char *p, size_t n, size_t *pos, size_t max,
    struct sl_span *t)
{
	if (!sl_token(p, n, pos, max, t))
		return false;
	if (t->n == 1 && t->p[0] == '-')
		t->n = 0;
	return true;
}

/*
 * An RFC 5424 stamp the time parser refused although it has a stamp's
 * shape ("YYYY-MM-DDT..."): past what int64 nanoseconds hold
 * (2262-04-11T23:47:17Z, year 9999) or with a zone out of range
 * (+99:99).  The message is still parsed (a hostile stamp must not hide
 * an sshd line): a year past 2262 or before 1678 is saturated to the
 * int64 end, which soc_event_bound_time() then replaces by the receive
 * time, keeping the saturated value as the claim and counting it; any
 * other is not a usable claim and the receive time stands.  False if
 * the field is not stamp-shaped (then the line is not RFC 5424).
 */
static bool
sl_iso_out_of_range(const char *p, size_t n, struct sl_hdr *h)
{
	int64_t year = 0;

	if (n < 11 || p[4] != '-' || p[7] != '-' || (p[10] != 'T' &&
	    p[10] != 't'))
		return false;
	for (size_t i = 0; i < 4; i++) {
		if (!log_isdigit(p[i]))
			return false;
		year = year * 10 + (p[i] - '0');
	}
	if (year >= 2262 || year < 1678) {
		h->ts = year >= 2262 ? INT64_MAX : INT64_MIN;
		h->has_ts = true;
	}
	return true;
}

/* RFC 5424 after "<PRI>": "1 TS HOST APP PROCID MSGID SD [MSG]". */
static bool
sl_rfc5424(const struct logparse_ctx *ctx, const char *p, size_t n,
    struct sl_hdr *h)
{
	struct sl_span ts, procid, msgid;
	size_t pos = 0;
	int64_t v;

	if (n < 2 || !log_isdigit(p[0]))
		return false;
	pos = log_isdigit(p[1]) ? 2 : 1;
	if (pos >= n || p[pos] != ' ')
		return false;
	pos++;
	if (!sl_field5424(p, n, &pos, 64, &ts) ||
	    !sl_field5424(p, n, &pos, SL_HOST_MAX, &h->host) ||
	    !sl_field5424(p, n, &pos, 48, &h->prog) ||
	    !sl_field5424(p, n, &pos, 128, &procid) ||
	    !sl_field5424(p, n, &pos, 32, &msgid))
		return false;
	if (ts.n > 0 && sl_iso(ctx, ts.p, ts.n, &h->ts) == ts.n) {
		h->has_ts = true;
		h->zoneless = sl_iso_zoneless(ctx, ts.p, ts.n);
	} else if (ts.n > 0 && !sl_iso_out_of_range(ts.p, ts.n, h))
		return false;
	if (procid.n > 0 && log_uint(procid.p, procid.n, 10, &v) == procid.n)
		h->pid = v;
	/* Malformed SD counts 0 bytes: it stays in the message. */
	pos += sl_sd(p + pos, n - pos);
	if (pos < n && p[pos] == ' ')
		pos++;
	if (LOG_PREFIX(p + pos, n - pos, "\xef\xbb\xbf"))
		pos += 3;
	if (pos < n && p[pos] == ' ')
		pos++;		/* rsyslog's: see sl_msg_trim() */
	h->msg.p = p + pos;
	h->msg.n = n - pos;
	return true;
}

/*
 * Header scanner.  Returns true when a syslog header was found; h holds
 * spans into the line.
 */
static bool
sl_header(const struct logparse_ctx *ctx, const char *p, size_t n,
    struct sl_hdr *h)
{
	size_t pos, used;

	memset(h, 0, sizeof(*h));
	h->pri = -1;
	h->pid = -1;
	pos = sl_pri(p, n, &h->pri);
	if (pos > 0 && sl_rfc5424(ctx, p + pos, n - pos, h))
		return true;
	h->host.n = h->prog.n = 0;
	h->pid = -1;
	h->has_ts = false;
	h->zoneless = true;
	if ((used = sl_bsd(ctx, p + pos, n - pos, &h->ts)) == 0) {
		used = sl_iso(ctx, p + pos, n - pos, &h->ts);
		h->zoneless = used > 0 && sl_iso_zoneless(ctx, p + pos,
		    n - pos);
	}
	if (used > 0) {
		h->has_ts = true;
		pos += used;
		if (pos < n && p[pos] == ' ')
			pos++;
		sl_rest_bsd(p + pos, n - pos, h);
		return true;
	}
	if (h->pri >= 0) {
		/* "<13>text": a bare relay message, no stamp nor host. */
		h->msg.p = p + pos;
		h->msg.n = n - pos;
		return true;
	}
	return false;
}

static bool
sl_is_prog(const struct sl_span *s, const char *name, size_t len)
{
	return s->n == len && memcmp(s->p, name, len) == 0;
}

/* sshd, and sshd-session / sshd-auth of OpenSSH >= 9.8. */
static bool
sl_is_sshd(const struct sl_span *s)
{
	return s->n >= 4 && memcmp(s->p, "sshd", 4) == 0 &&
	    (s->n == 4 || s->p[4] == '-');
}

static bool
sl_is_httpd(const struct sl_span *s)
{
	return sl_is_prog(s, "nginx", 5) || sl_is_prog(s, "httpd", 5) ||
	    sl_is_prog(s, "apache", 6) || sl_is_prog(s, "apache2", 7);
}

/*
 * Cheap content check before trying a message as an access log: its
 * first byte must be able to start an address or a vhost name.
 */
static bool
sl_maybe_web(const char *p, size_t n)
{
	unsigned char c;

	if (n < 20)
		return false;
	c = (unsigned char)p[0];
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || c == ':' || c == '[';
}

/* Kernel text that may be a netfilter LOG line. */
static bool
sl_is_netfilter(const struct sl_span *m)
{
	return memmem(m->p, m->n, " SRC=", 5) != NULL &&
	    memmem(m->p, m->n, " DST=", 5) != NULL;
}

/*
 * rsyslog's RFC 5424 templates (RSYSLOG_SyslogProtocol23Format) send MSG
 * as it stood after the tag, with the space that followed the colon,
 * and end the frame with an LF that an octet-counted frame keeps.  That
 * space is dropped (as the 3164 tag scanner drops it), so the message is
 * the same whichever template carried it; line ends are dropped always.
 */
static void
sl_msg_trim(struct sl_span *m)
{
	while (m->n > 0 && (m->p[m->n - 1] == '\n' || m->p[m->n - 1] == '\r' ||
	    m->p[m->n - 1] == '\0'))
		m->n--;
}

/* The fields every line's event starts with. */
static void
sl_begin(const struct logparse_ctx *ctx, struct soc_event *ev)
{
	soc_event_reset(ev);
	soc_event_set_cstr(ev, SOC_F_EVENT_KIND, "event");
	if (ctx->path != NULL)
		soc_event_set_cstr(ev, SOC_F_LOG_FILE_PATH, ctx->path);
	if (ctx->source_addr != NULL)
		soc_event_set_cstr(ev, SOC_F_LOG_SOURCE_ADDR, ctx->source_addr);
}

/*
 * NXLog's JSON of a Windows record (log-nxlog.c), alone on a line or as a
 * syslog message: the event the EVTX record gives, stamped ts when the
 * record carries no time.  Refused (counted), the event is begun again
 * with event.reason saying why, and the caller reads the line as text.
 */
static bool
sl_nxlog(const struct logparse_ctx *ctx, const char *p, size_t n,
    int64_t ts, struct soc_event *ev)
{
	const char *why;

	if (!nxlog_looks(p, n))
		return false;
	ev->ts = ts;
	if (nxlog_json_parse(ctx, p, n, ev, &why) == 0)
		return true;
	sl_begin(ctx, ev);
	soc_event_set_cstr(ev, SOC_F_EVENT_REASON, why);
	return false;
}

/* Fields of a recognized header, then the message to its normalizer. */
static const char *
sl_dispatch(const struct logparse_ctx *ctx, struct sl_hdr *h,
    struct soc_event *ev)
{
	const char *ds;

	sl_msg_trim(&h->msg);
	if (sl_nxlog(ctx, h->msg.p, h->msg.n, h->has_ts ? h->ts : ctx->now_ns,
	    ev))
		return LOGPARSE_DS_WINLOG;
	ev->ts = h->has_ts ? h->ts : ctx->now_ns;
	if (h->host.n > 0)
		soc_event_set_str(ev, SOC_F_HOST_HOSTNAME, h->host.p, h->host.n);
	if (h->prog.n > 0)
		soc_event_set_str(ev, SOC_F_PROCESS_NAME, h->prog.p, h->prog.n);
	if (h->pid >= 0)
		soc_event_set_int(ev, SOC_F_PROCESS_PID, h->pid);
	if (h->pri >= 0)
		soc_event_set_cstr(ev, SOC_F_LOG_LEVEL, sl_severity[h->pri & 7]);

	if (sl_is_sshd(&h->prog)) {
		log_sshd_parse(ev, h->msg.p, h->msg.n);
		soc_event_set_str(ev, SOC_F_MESSAGE, h->msg.p, h->msg.n);
		return LOGPARSE_DS_SSHD;
	}
	/* the older PAM form of sshd's failures (Linux 2.6-era syslogs) */
	if (sl_is_prog(&h->prog, "sshd(pam_unix)", 14)) {
		log_sshd_pam_parse(ev, h->msg.p, h->msg.n);
		soc_event_set_str(ev, SOC_F_MESSAGE, h->msg.p, h->msg.n);
		return LOGPARSE_DS_SSHD;
	}
	if (h->prog.n > 0 && (ds = log_clamav_parse(ev, h->prog.p, h->prog.n,
	    h->msg.p, h->msg.n)) != NULL) {
		soc_event_set_str(ev, SOC_F_MESSAGE, h->msg.p, h->msg.n);
		return ds;
	}
	if (sl_is_prog(&h->prog, "kernel", 6) && sl_is_netfilter(&h->msg) &&
	    log_netfilter_parse(ev, h->msg.p, h->msg.n) == 0) {
		soc_event_set_str(ev, SOC_F_MESSAGE, h->msg.p, h->msg.n);
		return LOGPARSE_DS_FIREWALL;
	}
	if ((ds = log_auth_parse(ev, h->prog.p, h->prog.n, h->msg.p,
	    h->msg.n)) != NULL) {
		soc_event_set_str(ev, SOC_F_MESSAGE, h->msg.p, h->msg.n);
		return ds;
	}
	if ((sl_is_httpd(&h->prog) || sl_maybe_web(h->msg.p, h->msg.n)) &&
	    log_web_parse(ctx, h->msg.p, h->msg.n, ev) == 0)
		return LOGPARSE_DS_WEB;
	if (sl_is_httpd(&h->prog) &&
	    log_web_error_parse(ctx, h->msg.p, h->msg.n, true, ev) == 0)
		return LOGPARSE_DS_WEB_ERROR;
	soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, LOGPARSE_DS_SYSLOG);
	soc_event_set_str(ev, SOC_F_MESSAGE, h->msg.p, h->msg.n);
	return LOGPARSE_DS_SYSLOG;
}

/*
 * A syslog header behind extra fields: an RFC 3164 stamp after a space
 * within the first SL_PREFIX_MAX bytes, followed by what a header has.
 */
static bool
sl_header_behind(const struct logparse_ctx *ctx, const char *p, size_t n,
    struct sl_hdr *h)
{
	int64_t ns;

	for (size_t i = 2; i < n && i <= SL_PREFIX_MAX; i++) {
		if (p[i - 1] != ' ' || sl_bsd(ctx, p + i, n - i, &ns) == 0)
			continue;
		if (sl_header(ctx, p + i, n - i, h) && h->has_ts)
			return true;
	}
	return false;
}

/*
 * ClamAV's own log files: "Www Mmm dd hh:mm:ss yyyy -> msg" (ctime(3)
 * form, day space-padded), in the configured zone.  Returns the bytes up
 * to the message, 0 if the line does not start so.
 */
static size_t
sl_ctime(const struct logparse_ctx *ctx, const char *p, size_t n, int64_t *ns)
{
	int64_t tod, frac, year;
	int mon, mday;
	size_t i = 8, used;

	if (n < 28 || p[3] != ' ' || (mon = soc_time_month(p + 4)) == 0 ||
	    p[7] != ' ')
		return 0;
	if (p[i] == ' ')
		i++;
	if (!log_isdigit(p[i]))
		return 0;
	mday = p[i++] - '0';
	if (i < n && log_isdigit(p[i]))
		mday = mday * 10 + (p[i++] - '0');
	if (mday < 1 || mday > 31 || i >= n || p[i++] != ' ' ||
	    (used = sl_hms(p + i, n - i, &tod, &frac)) == 0)
		return 0;
	i += used;
	if (i + 5 >= n || p[i] != ' ' || log_uint(p + i + 1, 4, 4, &year) != 4)
		return 0;
	i += 5;
	if (!LOG_PREFIX(p + i, n - i, " -> ") || !soc_time_mkns(
	    soc_time_timegm(year, mon, mday, 0, 0, 0) + tod -
	    ctx->tz_offset_sec, frac, ns))
		return 0;
	return i + 4;
}

/*
 * A stamp without a zone from a source that syslog.zones names: the
 * header is read again in that zone, and the context returned (zc, or
 * ctx when nothing changes) serves the rest of the line too.
 */
static const struct logparse_ctx *
sl_zone(const struct logparse_ctx *ctx, struct logparse_ctx *zc,
    const char *p, size_t n, struct sl_hdr *h, bool behind)
{
	int32_t off;

	if (!h->has_ts || !h->zoneless || logzones_count(ctx->zones) == 0 ||
	    !logzones_find(ctx->zones, ctx->source_addr, h->host.p, h->host.n,
	    &off) || off == ctx->tz_offset_sec)
		return ctx;
	*zc = *ctx;
	zc->tz_offset_sec = off;
	if (behind ? sl_header_behind(zc, p, n, h) : sl_header(zc, p, n, h))
		return zc;
	/* cannot happen (only the zone changed); read it as it was */
	if (behind)
		sl_header_behind(ctx, p, n, h);
	else
		sl_header(ctx, p, n, h);
	return ctx;
}

const char *
log_syslog_parse(const struct logparse_ctx *ctx, const char *line, size_t len,
    struct soc_event *ev)
{
	struct logparse_ctx zc;
	struct sl_hdr h;
	const char *ds;
	size_t used;

	if (line == NULL)
		len = 0;
	sl_begin(ctx, ev);
	if (len > 0 && line[0] == '{' && sl_nxlog(ctx, line, len, ctx->now_ns,
	    ev))
		return LOGPARSE_DS_WINLOG;
	if (len > 0 && sl_header(ctx, line, len, &h))
		return sl_dispatch(sl_zone(ctx, &zc, line, len, &h, false), &h,
		    ev);
	if (len > 0 && log_web_parse(ctx, line, len, ev) == 0)
		return LOGPARSE_DS_WEB;
	if (len > 0 && log_web_error_parse(ctx, line, len, false, ev) == 0)
		return LOGPARSE_DS_WEB_ERROR;
	if ((used = sl_ctime(ctx, line, len, &ev->ts)) > 0 &&
	    (ds = log_clamav_parse(ev, "", 0, line + used, len - used)) !=
	    NULL) {
		soc_event_set_str(ev, SOC_F_MESSAGE, line + used, len - used);
		return ds;
	}
	if (used == 0 && len > 0 && sl_header_behind(ctx, line, len, &h))
		return sl_dispatch(sl_zone(ctx, &zc, line, len, &h, true), &h,
		    ev);
	ev->ts = ctx->now_ns;
	soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, LOGPARSE_DS_SYSLOG);
	soc_event_set_str(ev, SOC_F_MESSAGE, line != NULL ? line : "", len);
	return LOGPARSE_DS_SYSLOG;
}
