/*
 * A Windows event record's XML into the event (winlog.h).  The XML comes
 * from libevtx (or any renderer of the Windows event schema) and is
 * untrusted: the record's bytes are the attacker's as much as the
 * system's.  So: one pass, no allocation, at most WINLOG_DEPTH_MAX open
 * elements, names pointing into the input, values decoded (the five
 * entities and numeric references) into one bounded scratch buffer.
 *
 * What goes where:
 *   System/Provider@Name, @Guid		winlog.provider_name, _guid
 *   System/EventID				winlog.event_id, event.code
 *   System/Version, Level, Task, Opcode	winlog.version, log.level
 *						(as Winlogbeat names levels),
 *						winlog.task, winlog.opcode
 *   System/Keywords				winlog.keywords; event.outcome
 *						from the audit bits
 *   System/TimeCreated@SystemTime		@timestamp
 *   System/EventRecordID, Channel, Computer	winlog.record_id, .channel,
 *						.computer_name
 *   System/Correlation@ActivityID, @Related..	winlog.activity_id, ..
 *   System/Execution@ProcessID, @ThreadID	winlog.process.pid, .thread.id
 *   System/Security@UserID			winlog.user.identifier
 *   EventData/Data@Name (or paramN), Binary	winlog.event_data.NAME
 *   ProcessingErrorData children		winlog.event_data.NAME
 *   UserData/X/Y				winlog.user_data.Y, xml_name X
 *   RenderingInfo/Message			message
 * Values are kept byte for byte (CR LF inside included), empty ones too.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "soc/json.h"
#include "soc/time.h"
#include "winlog.h"

#define WX_TEXT_MAX	SOC_EVENT_BUFSZ	/* a longer value is cut anyway */
#define WX_KEY_MAX	(SOC_F_DYN_NAME_MAX + 1)

enum wx_ctx {
	WX_OTHER = 0,		/* skipped (its text too) */
	WX_EVENT,
	WX_SYSTEM,
	WX_SYS_FIELD,		/* a System child whose text is a field */
	WX_EDATA,		/* EventData, ProcessingErrorData */
	WX_EDATA_VALUE,		/* Data, Binary, ...: text is a value */
	WX_UDATA,
	WX_UDATA_ROOT,		/* UserData's one child: its name is xml_name */
	WX_UDATA_VALUE,		/* below it: text is a value, keys dotted */
	WX_RENDER,
	WX_RENDER_MESSAGE,
};

struct wx_open {
	const char	*name;
	size_t		 nlen;
	enum wx_ctx	 ctx;
	int		 field;		/* WX_SYS_FIELD: which; values: the id */
	size_t		 klen;		/* WX_UDATA_VALUE: key length so far */
	int		 kids;		/* element children so far */
};

struct wx {
	const char		*p, *end;
	struct soc_event	*ev;
	struct winlog_stats	*st;
	struct wx_open		 open[WINLOG_DEPTH_MAX];
	int			 depth;
	char			 key[WX_KEY_MAX + 8];	/* user_data key path */
	char			 txt[WX_TEXT_MAX + 1];
	size_t			 tlen;
	bool			 tcut;
	bool			 have_text;
};

/* System children with a text value (field ids of our own below 0). */
#define WX_F_LEVEL	(-2)
#define WX_F_VERSION	(-3)
#define WX_F_KEYWORDS	(-4)
#define WX_F_EVENTID	(-5)

static bool
is(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static bool
name_byte(unsigned char c)
{
	return c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '/' &&
	    c != '>' && c != '=' && c != '<' && c != '"' && c != '\'';
}

static void
skip_ws(struct wx *w)
{
	while (w->p < w->end && (*w->p == ' ' || *w->p == '\t' ||
	    *w->p == '\r' || *w->p == '\n'))
		w->p++;
}

static void
txt_put(struct wx *w, const char *s, size_t n)
{
	if (n > WX_TEXT_MAX - w->tlen) {
		n = WX_TEXT_MAX - w->tlen;
		w->tcut = true;
	}
	memcpy(w->txt + w->tlen, s, n);
	w->tlen += n;
}

/*
 * Decodes s[0..n) (text or an attribute value) onto the scratch: the
 * five entities and &#N; / &#xH; references; anything else after '&' is
 * kept as it is and counted.
 */
static void
txt_decode(struct wx *w, const char *s, size_t n)
{
	const char *e = s + n, *amp, *semi;
	unsigned char u[4];

	while (s < e) {
		if ((amp = memchr(s, '&', (size_t)(e - s))) == NULL) {
			txt_put(w, s, (size_t)(e - s));
			return;
		}
		txt_put(w, s, (size_t)(amp - s));
		s = amp;
		semi = memchr(s, ';', (size_t)(e - s) < 12 ? (size_t)(e - s) : 12);
		if (semi == NULL)
			goto literal;
		if (is(s + 1, (size_t)(semi - s - 1), "lt"))
			txt_put(w, "<", 1);
		else if (is(s + 1, (size_t)(semi - s - 1), "gt"))
			txt_put(w, ">", 1);
		else if (is(s + 1, (size_t)(semi - s - 1), "amp"))
			txt_put(w, "&", 1);
		else if (is(s + 1, (size_t)(semi - s - 1), "quot"))
			txt_put(w, "\"", 1);
		else if (is(s + 1, (size_t)(semi - s - 1), "apos"))
			txt_put(w, "'", 1);
		else if (semi - s >= 3 && s[1] == '#') {
			unsigned long cp = 0;
			const char *q = s + 2;
			int base = 10;

			if (*q == 'x' || *q == 'X') {
				base = 16;
				q++;
			}
			if (q == semi)
				goto literal;
			for (; q < semi; q++) {
				int d;

				if (*q >= '0' && *q <= '9')
					d = *q - '0';
				else if (base == 16 && *q >= 'a' && *q <= 'f')
					d = *q - 'a' + 10;
				else if (base == 16 && *q >= 'A' && *q <= 'F')
					d = *q - 'A' + 10;
				else
					goto literal;
				cp = cp * (unsigned long)base + (unsigned long)d;
				if (cp > 0x10ffff)
					goto literal;
			}
			txt_put(w, (const char *)u, soc_utf8_encode((unsigned)cp, u));
		} else
			goto literal;
		s = semi + 1;
		continue;
literal:
		w->st->bad_entities++;
		txt_put(w, "&", 1);
		s++;
	}
}

/* The scratch as a string value of field f (counted if not UTF-8). */
static void
set_value(struct wx *w, int f)
{
	const unsigned char *s = (const unsigned char *)w->txt;
	size_t i = 0, k;

	while (i < w->tlen) {
		if ((k = soc_utf8_seq(s + i, w->tlen - i)) == 0) {
			w->st->bad_utf8++;
			break;
		}
		i += k;
	}
	if (w->tlen >= 3 && memmem(w->txt, w->tlen, "\xef\xbf\xbd", 3) != NULL)
		w->st->bad_utf16++;
	if (w->tcut) {
		w->st->values_cut++;
		soc_event_set_truncated(w->ev);
	}
	soc_event_set_str(w->ev, f, w->txt, w->tlen);
}

/* The id of a dynamic name: prefix + s[0..n). */
static int
dyn_id(struct wx *w, const char *prefix, const char *s, size_t n)
{
	char name[WX_KEY_MAX];
	size_t pl = strlen(prefix);
	int f;

	if (n == 0 || pl + n > SOC_F_DYN_NAME_MAX) {
		w->st->names_refused++;
		return SOC_F_NONE;
	}
	memcpy(name, prefix, pl);
	memcpy(name + pl, s, n);
	if ((f = soc_field_intern(name, pl + n)) == SOC_F_NONE)
		w->st->names_refused++;
	return f;
}

static int64_t
whole(const char *s, size_t n, int base, bool *ok)
{
	char tmp[32], *e;
	long long v;

	*ok = false;
	if (n == 0 || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	v = strtoll(tmp, &e, base);
	*ok = *e == '\0';
	return v;
}

static void
set_level(struct soc_event *ev, const char *s, size_t n)
{
	static const char *const names[] = { "information", "critical",
	    "error", "warning", "information", "verbose" };
	bool ok;
	int64_t v = whole(s, n, 10, &ok);

	if (ok && v >= 0 && v <= 5)
		soc_event_set_cstr(ev, SOC_F_LOG_LEVEL, names[v]);
	else if (n > 0)
		soc_event_set_str(ev, SOC_F_LOG_LEVEL, s, n);
}

/* A System child's text, at its end tag. */
static void
sys_text(struct wx *w, int f)
{
	uint64_t kw;
	bool ok;
	int64_t v;

	switch (f) {
	case WX_F_LEVEL:
		set_level(w->ev, w->txt, w->tlen);
		return;
	case WX_F_VERSION:
		if ((v = whole(w->txt, w->tlen, 10, &ok)), ok)
			soc_event_set_int(w->ev, SOC_F_WINLOG_VERSION, v);
		return;
	case WX_F_EVENTID:
		set_value(w, SOC_F_WINLOG_EVENT_ID);
		return;
	case WX_F_KEYWORDS:
		set_value(w, SOC_F_WINLOG_KEYWORDS);
		if (w->tlen == 0 || w->tlen > 18)
			return;
		{
			char tmp[24], *e;

			memcpy(tmp, w->txt, w->tlen);
			tmp[w->tlen] = '\0';
			kw = strtoull(tmp, &e, 16);
			if (*e != '\0')
				return;
		}
		if (kw & 0x20000000000000ull)		/* Audit Success */
			soc_event_set_cstr(w->ev, SOC_F_EVENT_OUTCOME, "success");
		else if (kw & 0x10000000000000ull)	/* Audit Failure */
			soc_event_set_cstr(w->ev, SOC_F_EVENT_OUTCOME, "failure");
		return;
	}
	set_value(w, f);
}

/* One attribute of a start tag (name n, raw value v). */
static void
attribute(struct wx *w, const struct wx_open *o, const char *n, size_t nl,
    const char *v, size_t vl, const char **dname, size_t *dlen)
{
	int f = SOC_F_NONE;
	bool ok;
	int64_t x;

	if (o->ctx == WX_EDATA_VALUE) {
		if (is(n, nl, "Name")) {	/* decoded later */
			*dname = v;
			*dlen = vl;
		}
		return;
	}
	if (o->ctx != WX_SYS_FIELD && o->ctx != WX_OTHER)
		return;
	if (w->depth != 3 || w->open[1].ctx != WX_SYSTEM)
		return;
	if (is(o->name, o->nlen, "Provider")) {
		if (is(n, nl, "Name"))
			f = SOC_F_WINLOG_PROVIDER;
		else if (is(n, nl, "Guid"))
			f = SOC_F_WINLOG_PROVIDER_GUID;
	} else if (is(o->name, o->nlen, "TimeCreated") &&
	    is(n, nl, "SystemTime")) {
		w->tlen = 0;
		w->tcut = false;
		txt_decode(w, v, vl);
		if (soc_time_parse(w->txt, w->tlen, &x) == 0)
			w->ev->ts = x;
		return;
	} else if (is(o->name, o->nlen, "Correlation")) {
		if (is(n, nl, "ActivityID"))
			f = SOC_F_WINLOG_ACTIVITY_ID;
		else if (is(n, nl, "RelatedActivityID"))
			f = SOC_F_WINLOG_RELATED_ID;
	} else if (is(o->name, o->nlen, "Execution")) {
		if ((x = whole(v, vl, 10, &ok)), !ok)
			return;
		if (is(n, nl, "ProcessID"))
			soc_event_set_int(w->ev, SOC_F_WINLOG_PID, x);
		else if (is(n, nl, "ThreadID"))
			soc_event_set_int(w->ev, SOC_F_WINLOG_TID, x);
		return;
	} else if (is(o->name, o->nlen, "Security") && is(n, nl, "UserID"))
		f = SOC_F_WINLOG_USER_ID;
	if (f == SOC_F_NONE)
		return;
	w->tlen = 0;
	w->tcut = false;
	txt_decode(w, v, vl);
	set_value(w, f);
}

/* What a new element under parent means. */
static void
classify(struct wx *w, struct wx_open *o, struct wx_open *parent)
{
	static const struct {
		const char	*name;
		int		 field;
	} sys[] = {
		{ "EventID", WX_F_EVENTID },
		{ "Version", WX_F_VERSION },
		{ "Level", WX_F_LEVEL },
		{ "Task", SOC_F_WINLOG_TASK },
		{ "Opcode", SOC_F_WINLOG_OPCODE },
		{ "Keywords", WX_F_KEYWORDS },
		{ "EventRecordID", SOC_F_WINLOG_RECORD_ID },
		{ "Channel", SOC_F_WINLOG_CHANNEL },
		{ "Computer", SOC_F_WINLOG_COMPUTER },
	};
	const char *n = o->name;
	size_t nl = o->nlen;

	o->ctx = WX_OTHER;
	o->field = SOC_F_NONE;
	o->kids = 0;
	if (parent == NULL) {
		if (is(n, nl, "Event"))
			o->ctx = WX_EVENT;
		return;
	}
	parent->kids++;
	switch (parent->ctx) {
	case WX_EVENT:
		if (is(n, nl, "System"))
			o->ctx = WX_SYSTEM;
		else if (is(n, nl, "EventData") ||
		    is(n, nl, "ProcessingErrorData"))
			o->ctx = WX_EDATA;
		else if (is(n, nl, "UserData"))
			o->ctx = WX_UDATA;
		else if (is(n, nl, "RenderingInfo"))
			o->ctx = WX_RENDER;
		return;
	case WX_SYSTEM:
		for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
			if (is(n, nl, sys[i].name)) {
				o->ctx = WX_SYS_FIELD;
				o->field = sys[i].field;
			}
		return;
	case WX_EDATA:
		o->ctx = WX_EDATA_VALUE;	/* the name: @Name or paramN */
		return;
	case WX_UDATA:
		if (parent->kids == 1) {
			o->ctx = WX_UDATA_ROOT;
			w->tlen = 0;
			w->tcut = false;
			txt_put(w, n, nl);
			if ((o->field = dyn_id(w, SOC_F_DYN_USER_DATA,
			    "xml_name", 8)) != SOC_F_NONE)
				set_value(w, o->field);
			o->klen = 0;
		}
		return;
	case WX_UDATA_ROOT:
	case WX_UDATA_VALUE:
		o->ctx = WX_UDATA_VALUE;
		o->klen = parent->ctx == WX_UDATA_VALUE ? parent->klen + 1 + nl :
		    nl;
		if (o->klen > WX_KEY_MAX) {
			o->klen = WX_KEY_MAX + 1;	/* refused at its end */
			return;
		}
		if (parent->ctx == WX_UDATA_VALUE)
			w->key[parent->klen] = '.';
		memcpy(w->key + o->klen - nl, n, nl);
		return;
	case WX_RENDER:
		if (is(n, nl, "Message"))
			o->ctx = WX_RENDER_MESSAGE;
		return;
	default:
		return;
	}
}

/* The element at the top is complete (its end tag, or "/>"). */
static void
close_top(struct wx *w)
{
	struct wx_open *o = &w->open[w->depth - 1];
	int f;

	switch (o->ctx) {
	case WX_SYS_FIELD:
		if (o->field != SOC_F_NONE)
			sys_text(w, o->field);
		break;
	case WX_EDATA_VALUE:
		if (o->field != SOC_F_NONE)
			set_value(w, o->field);
		break;
	case WX_UDATA_VALUE:
		if (o->kids > 0)
			break;		/* an object: its leaves have the values */
		if (o->klen > WX_KEY_MAX) {
			w->st->names_refused++;
			break;
		}
		if ((f = dyn_id(w, SOC_F_DYN_USER_DATA, w->key, o->klen)) !=
		    SOC_F_NONE)
			set_value(w, f);
		break;
	case WX_RENDER_MESSAGE:
		set_value(w, SOC_F_MESSAGE);
		break;
	default:
		break;
	}
	w->depth--;
}

/* A start tag at w->p (after '<').  0, or -1 when malformed. */
static int
start_tag(struct wx *w)
{
	struct wx_open *o, *parent = w->depth > 0 ? &w->open[w->depth - 1] :
	    NULL;
	const char *n = w->p, *an, *av, *dname = NULL;
	size_t anl, avl, dlen = 0;
	char q, num[16];

	while (w->p < w->end && name_byte((unsigned char)*w->p))
		w->p++;
	if (w->p == n)
		return -1;
	if (w->depth >= WINLOG_DEPTH_MAX)
		return -1;
	o = &w->open[w->depth++];
	o->name = n;
	o->nlen = (size_t)(w->p - n);
	classify(w, o, parent);
	for (;;) {
		skip_ws(w);
		if (w->p >= w->end)
			return -1;
		if (*w->p == '>' || *w->p == '/')
			break;
		an = w->p;
		while (w->p < w->end && name_byte((unsigned char)*w->p))
			w->p++;
		anl = (size_t)(w->p - an);
		skip_ws(w);
		if (anl == 0 || w->p >= w->end || *w->p++ != '=')
			return -1;
		skip_ws(w);
		if (w->p >= w->end || (*w->p != '"' && *w->p != '\''))
			return -1;
		q = *w->p++;
		av = w->p;
		while (w->p < w->end && *w->p != q)
			w->p++;
		if (w->p >= w->end)
			return -1;
		avl = (size_t)(w->p++ - av);
		attribute(w, o, an, anl, av, avl, &dname, &dlen);
	}
	if (o->ctx == WX_EDATA_VALUE) {
		if (dname != NULL) {
			w->tlen = 0;
			w->tcut = false;
			txt_decode(w, dname, dlen);
			o->field = w->tcut ? SOC_F_NONE :
			    dyn_id(w, SOC_F_DYN_EVENT_DATA, w->txt, w->tlen);
			if (w->tcut)
				w->st->names_refused++;
		} else if (is(o->name, o->nlen, "Data")) {
			/* Winlogbeat: paramN, N the position among the values */
			int k = 0, v = parent->kids;

			memcpy(num, "param", 5);
			k = 5;
			{
				char d[12];
				int nd = 0;

				do
					d[nd++] = (char)('0' + v % 10);
				while ((v /= 10) > 0);
				while (nd > 0)
					num[k++] = d[--nd];
			}
			o->field = dyn_id(w, SOC_F_DYN_EVENT_DATA, num, (size_t)k);
		} else
			o->field = dyn_id(w, SOC_F_DYN_EVENT_DATA, o->name,
			    o->nlen);
	}
	w->tlen = 0;
	w->tcut = false;
	w->have_text = true;
	if (*w->p == '/') {
		if (++w->p >= w->end || *w->p != '>')
			return -1;
		w->p++;
		close_top(w);		/* empty: its value is "" */
		w->have_text = false;
		return 0;
	}
	w->p++;
	return 0;
}

static int
end_tag(struct wx *w)
{
	const char *n = w->p;
	struct wx_open *o;

	while (w->p < w->end && name_byte((unsigned char)*w->p))
		w->p++;
	if (w->depth == 0)
		return -1;
	o = &w->open[w->depth - 1];
	if ((size_t)(w->p - n) != o->nlen || memcmp(n, o->name, o->nlen) != 0)
		return -1;
	skip_ws(w);
	if (w->p >= w->end || *w->p++ != '>')
		return -1;
	if (!w->have_text || o->kids > 0)
		w->tlen = 0;	/* formatting between child elements */
	close_top(w);
	w->have_text = false;
	return 0;
}

/* Skips to the end of s (a comment, PI, DOCTYPE): -1 if never found. */
static int
skip_past(struct wx *w, const char *s)
{
	const char *e = memmem(w->p, (size_t)(w->end - w->p), s, strlen(s));

	if (e == NULL)
		return -1;
	w->p = e + strlen(s);
	return 0;
}

int
winlog_xml_parse(const char *xml, size_t len, struct soc_event *ev,
    struct winlog_stats *st)
{
	static __thread struct wx w;
	const char *lt;
	int rc = 0;

	w.p = xml;
	w.end = xml + len;
	w.ev = ev;
	w.st = st;
	w.depth = 0;
	w.tlen = 0;
	w.tcut = false;
	w.have_text = false;
	while (w.p < w.end) {
		if ((lt = memchr(w.p, '<', (size_t)(w.end - w.p))) == NULL)
			lt = w.end;
		if (w.have_text && w.depth > 0)
			txt_decode(&w, w.p, (size_t)(lt - w.p));
		if ((w.p = lt) >= w.end)
			break;
		w.p++;
		if (w.p >= w.end) {
			rc = -1;
			break;
		}
		if (*w.p == '/') {
			w.p++;
			rc = end_tag(&w);
		} else if (*w.p == '?')
			rc = skip_past(&w, "?>");
		else if (w.end - w.p >= 3 && memcmp(w.p, "!--", 3) == 0)
			rc = skip_past(&w, "-->");
		else if (w.end - w.p >= 8 && memcmp(w.p, "![CDATA[", 8) == 0) {
			const char *s = w.p + 8;

			if ((rc = skip_past(&w, "]]>")) == 0 && w.have_text)
				txt_put(&w, s, (size_t)(w.p - 3 - s));
		} else if (*w.p == '!')
			rc = skip_past(&w, ">");
		else
			rc = start_tag(&w);
		if (rc == -1)
			break;
	}
	if (rc == 0 && w.depth != 0)
		rc = -1;		/* ended inside an element */
	if (rc == -1)
		st->xml_errors++;
	return rc;
}
