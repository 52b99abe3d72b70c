/*
 * The Beats protocol (Lumberjack v2) apart from sockets: frames, windows,
 * compressed frames, the JSON check and JSON to event.  The server
 * (beats.c) feeds each client's bytes to its session here; the fuzz
 * target does the same without a socket.  See beats.c for the protocol
 * and the bounds.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>

#include "soc/json.h"
#include "soc/log.h"
#include "soc/util.h"
#include "beats-int.h"
#include "winlog.h"

#define BEATS_LEGACY_PAIRS 1024

static const char *const reason_names[BEATS_R_COUNT] = {
	[BEATS_R_VERSION] = "version",
	[BEATS_R_TYPE] = "frame_type",
	[BEATS_R_FRAME] = "frame_size",
	[BEATS_R_WINDOW] = "window_size",
	[BEATS_R_ZLIB] = "zlib",
	[BEATS_R_BOMB] = "zlib_bomb",
	[BEATS_R_NESTED] = "nested",
	[BEATS_R_SEQUENCE] = "sequence",
	[BEATS_R_JSON] = "json",
	[BEATS_R_DEPTH] = "json_depth",
	[BEATS_R_EVENT] = "event",
	[BEATS_R_LEGACY] = "legacy",
	[BEATS_R_TLS] = "tls",
	[BEATS_R_CONNS] = "connections",
	[BEATS_R_LOST] = "lost",
};

const char *
beats_reason_name(int r)
{
	return r >= 0 && r < BEATS_R_COUNT ? reason_names[r] : "?";
}

/* Shared by every session: emitting is synchronous, one at a time. */
static struct soc_event	 beats_ev;
static uint8_t		*zbuf;
static size_t		 zcap;

struct beats_frame {
	uint8_t		 type;
	uint32_t	 seq, count;
	const uint8_t	*data;
	size_t		 len;
};

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/*
 * One frame at p: its length, 0 when more bytes are needed, -1 refused.
 * Lengths are checked against max before anything waits for them.
 */
static long
frame_next(const uint8_t *p, size_t n, size_t max, struct beats_frame *f,
    int *reason)
{
	size_t off, k;
	uint32_t pairs;

	if (n < 2)
		return 0;
	if (p[0] != '2') {
		*reason = BEATS_R_VERSION;
		return -1;
	}
	memset(f, 0, sizeof(*f));
	f->type = p[1];
	switch (p[1]) {
	case 'W':
		if (n < 6)
			return 0;
		f->count = be32(p + 2);
		return 6;
	case 'J':
		if (n < 10)
			return 0;
		f->seq = be32(p + 2);
		f->len = be32(p + 6);
		if (f->len > max) {
			*reason = BEATS_R_FRAME;
			return -1;
		}
		if (n < 10 + f->len)
			return 0;
		f->data = p + 10;
		return (long)(10 + f->len);
	case 'C':
		if (n < 6)
			return 0;
		f->len = be32(p + 2);
		if (f->len > max) {
			*reason = BEATS_R_FRAME;
			return -1;
		}
		if (n < 6 + f->len)
			return 0;
		f->data = p + 6;
		return (long)(6 + f->len);
	case 'D':
		if (n < 10)
			return 0;
		f->seq = be32(p + 2);
		f->count = pairs = be32(p + 6);
		if (pairs > BEATS_LEGACY_PAIRS) {
			*reason = BEATS_R_LEGACY;
			return -1;
		}
		for (off = 10; pairs > 0; pairs--) {
			for (int kv = 0; kv < 2; kv++) {
				if (n < off + 4)
					return 0;
				k = be32(p + off);
				if (k > max || off + 4 + k > max + 10) {
					*reason = BEATS_R_FRAME;
					return -1;
				}
				off += 4 + k;
			}
		}
		if (n < off)
			return 0;
		f->data = p + 10;
		f->len = off - 10;
		return (long)off;
	default:
		*reason = BEATS_R_TYPE;
		return -1;
	}
}

/* Bytes that end a run of plain string bytes: '"', '\\' and controls. */
static const uint8_t json_special[256] = {
	[0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1,
};

static int
json_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* A JSON string at s[*i] (its opening quote); -1 if malformed. */
static int
json_skip_string(const char *s, size_t len, size_t *i)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t p = *i + 1;

	for (;;) {
		while (p < len && !json_special[u[p]])
			p++;
		if (p >= len || u[p] < 0x20)
			return -1;
		if (u[p] == '"') {
			*i = p + 1;
			return 0;
		}
		if (p + 1 >= len)		/* a backslash */
			return -1;
		if (u[p + 1] == 'u') {
			if (p + 6 > len || !json_hex(u[p + 2]) ||
			    !json_hex(u[p + 3]) || !json_hex(u[p + 4]) ||
			    !json_hex(u[p + 5]))
				return -1;
			p += 6;
		} else if (u[p + 1] == '"' || u[p + 1] == '\\' ||
		    u[p + 1] == '/' || u[p + 1] == 'b' || u[p + 1] == 'f' ||
		    u[p + 1] == 'n' || u[p + 1] == 'r' || u[p + 1] == 't')
			p += 2;
		else
			return -1;
	}
}

static int
json_skip_scalar(const char *s, size_t len, size_t *i)
{
	size_t p = *i, d;

	if (len - p >= 4 && (!memcmp(s + p, "true", 4) || !memcmp(s + p, "null", 4))) {
		*i = p + 4;
		return 0;
	}
	if (len - p >= 5 && !memcmp(s + p, "false", 5)) {
		*i = p + 5;
		return 0;
	}
	if (p < len && s[p] == '-')
		p++;
	for (d = p; p < len && s[p] >= '0' && s[p] <= '9'; p++)
		;
	if (p == d)
		return -1;
	if (p < len && s[p] == '.') {
		for (d = ++p; p < len && s[p] >= '0' && s[p] <= '9'; p++)
			;
		if (p == d)
			return -1;
	}
	if (p < len && (s[p] == 'e' || s[p] == 'E')) {
		if (++p < len && (s[p] == '+' || s[p] == '-'))
			p++;
		for (d = p; p < len && s[p] >= '0' && s[p] <= '9'; p++)
			;
		if (p == d)
			return -1;
	}
	*i = p;
	return 0;
}

static size_t
json_ws(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	    s[i] == '\r'))
		i++;
	return i;
}

/*
 * A syntax check without recursion, so depth costs one byte of stack per
 * level and is refused past max_depth before any reader sees it.
 */
int
beats_json_check(const char *s, size_t len, int max_depth)
{
	enum { VALUE, FIRST_KEY, KEY, FIRST_VALUE, AFTER } state = VALUE;
	char stack[BEATS_JSON_DEPTH];
	int depth = 0;
	size_t i = json_ws(s, len, 0);

	if (max_depth > BEATS_JSON_DEPTH)
		max_depth = BEATS_JSON_DEPTH;
	if (i >= len || s[i] != '{')
		return BEATS_R_JSON;
	for (;;) {
		i = json_ws(s, len, i);
		if (state == AFTER && depth == 0)
			return i == len ? 0 : BEATS_R_JSON;
		if (i >= len)
			return BEATS_R_JSON;
		switch (state) {
		case FIRST_VALUE:
			if (s[i] == ']') {
				i++;
				depth--;
				state = AFTER;
				break;
			}
			/* FALLTHROUGH */
		case VALUE:
			if (s[i] == '{' || s[i] == '[') {
				if (depth >= max_depth)
					return BEATS_R_DEPTH;
				stack[depth++] = s[i];
				state = s[i++] == '{' ? FIRST_KEY : FIRST_VALUE;
			} else if (s[i] == '"') {
				if (json_skip_string(s, len, &i) == -1)
					return BEATS_R_JSON;
				state = AFTER;
			} else {
				if (json_skip_scalar(s, len, &i) == -1)
					return BEATS_R_JSON;
				state = AFTER;
			}
			break;
		case FIRST_KEY:
			if (s[i] == '}') {
				i++;
				depth--;
				state = AFTER;
				break;
			}
			/* FALLTHROUGH */
		case KEY:
			if (s[i] != '"' || json_skip_string(s, len, &i) == -1)
				return BEATS_R_JSON;
			i = json_ws(s, len, i);
			if (i >= len || s[i++] != ':')
				return BEATS_R_JSON;
			state = VALUE;
			break;
		case AFTER:
			if (s[i] == ',') {
				i++;
				state = stack[depth - 1] == '{' ? KEY : VALUE;
			} else if ((s[i] == '}' && stack[depth - 1] == '{') ||
			    (s[i] == ']' && stack[depth - 1] == '[')) {
				i++;
				depth--;
			} else
				return BEATS_R_JSON;
			break;
		}
	}
}

/*
 * JSON to event: the only call of the reader, so that a reader knowing
 * the Windows fields (winlog.*) can take its place here alone.
 */
int
beats_json_event(const char *s, size_t len, struct soc_event *ev,
    const char **why)
{
	if (soc_json_read_event(s, len, ev, why, NULL) == -1)
		return -1;
	/* Winlogbeat: the ECS fields its processors fill, from winlog.* (the
	 * EVTX and NXLog intakes' one mapping; fills only what is absent) */
	if (soc_event_has(ev, SOC_F_WINLOG_CHANNEL) ||
	    soc_event_has(ev, SOC_F_WINLOG_EVENT_ID)) {
		winlog_ecs(ev);
		winlog_message(ev);	/* only without Winlogbeat's */
	}
	return 0;
}

struct beats_session *
beats_session_new(const struct beats_conf *bc, soc_emit_fn emit, void *arg,
    struct beats_stats *st)
{
	struct beats_session *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->bc = bc;
	s->emit = emit;
	s->arg = arg;
	s->st = st;
	return s;
}

void
beats_session_free(struct beats_session *s)
{
	free(s);
}

static struct bwin *
sess_last(struct beats_session *s)
{
	return s->n ? &s->w[(s->head + s->n - 1) % BEATS_WINDOWS] : NULL;
}

int64_t
beats_session_done(const struct beats_session *s)
{
	const struct bwin *w = &s->w[s->head];

	return s->n > 0 && w->got == w->count ? (int64_t)w->last_seq : -1;
}

void
beats_session_pop(struct beats_session *s)
{
	if (s->n > 0) {
		s->head = (s->head + 1) % BEATS_WINDOWS;
		s->n--;
	}
}

static void
sess_emit(struct beats_session *s)
{
	s->st->events++;
	s->emit(s->arg, &beats_ev);
}

/* A legacy 'D' frame into ev: "line" or "message" is the message; keys
 * the registry knows as text fields are kept, the rest skipped. */
static void
frame_legacy(const struct beats_frame *f, struct soc_event *ev)
{
	const uint8_t *p = f->data;
	uint32_t kl, vl;
	int fid;

	soc_event_reset(ev);
	ev->ts = soc_now_ns();
	for (uint32_t i = 0; i < f->count; i++) {
		kl = be32(p);
		const char *k = (const char *)p + 4;
		vl = be32(p + 4 + kl);
		const char *v = (const char *)p + 8 + kl;

		p += 8 + kl + vl;
		if ((kl == 4 && !memcmp(k, "line", 4)) ||
		    (kl == 7 && !memcmp(k, "message", 7)))
			fid = SOC_F_MESSAGE;
		else if ((fid = soc_field_lookup(k, kl)) == SOC_F_NONE ||
		    soc_field_type(fid) != SOC_T_STR)
			continue;
		soc_event_set_str(ev, fid, v, vl);
	}
}

/*
 * A data frame into ev: 1 an event, 0 an event to skip (counted by the
 * caller), -1 not JSON (*reason).  The reader first: it is as strict
 * about JSON's syntax as the check (lib/json-read.c), so an event it
 * takes is well formed and only one it refuses needs the check, which
 * tells bad JSON (the connection refused) from an event to skip.
 */
static int
frame_event(const struct beats_frame *f, const char *peer,
    struct soc_event *ev, int *reason)
{
	const char *why;
	int r;

	if (f->type == 'D')
		frame_legacy(f, ev);
	else if (beats_json_event((const char *)f->data, f->len, ev,
	    &why) == -1) {
		if ((r = beats_json_check((const char *)f->data, f->len,
		    BEATS_JSON_DEPTH)) != 0) {
			*reason = r;
			return -1;
		}
		log_debug("beats: %s: event skipped: %s", peer ? peer : "",
		    why);
		return 0;
	} else if (ev->ts == 0)
		ev->ts = soc_now_ns();
	if (peer != NULL)
		soc_event_set_cstr(ev, SOC_F_LOG_SOURCE_ADDR, peer);
	return 1;
}

/* The next outcome of the job being applied (1, or -1 with *reason); 0
 * when the worker left this frame to us. */
static int
sess_replayed(struct beats_session *s, int *reason)
{
	struct beats_job *j = s->replay;
	const uint8_t *rec;
	size_t len;

	if (j == NULL || j->di >= j->nout)
		return 0;
	switch (j->out[j->di++]) {
	case BJ_EVENT:
		rec = j->w.data + j->roff;
		len = 4 + ((size_t)rec[0] | (size_t)rec[1] << 8 |
		    (size_t)rec[2] << 16 | (size_t)rec[3] << 24);
		j->roff += len;
		s->st->events++;
		s->bc->rec(s->arg, rec, len);
		return 1;
	case BJ_SKIP:
		s->st->refused[BEATS_R_EVENT]++;
		return 1;
	case BJ_NOMEM:
		*reason = BEATS_R_LOST;	/* unacked: the Beat sends it again */
		return -1;
	default:
		*reason = j->xreason;
		return -1;
	}
}

static int
sess_data(struct beats_session *s, const struct beats_frame *f, int *reason)
{
	struct bwin *w = sess_last(s);
	int r;

	if (w == NULL || w->got >= w->count) {
		*reason = BEATS_R_SEQUENCE;
		return -1;
	}
	if (f->type == 'D')
		s->st->legacy++;
	if ((r = sess_replayed(s, reason)) == -1)
		return -1;
	if (r == 0) {
		if ((r = frame_event(f, s->peer, &beats_ev, reason)) == -1)
			return -1;
		if (r == 0)
			s->st->refused[BEATS_R_EVENT]++;
		else
			sess_emit(s);
	}
	w->got++;
	w->last_seq = f->seq;
	w->dirty = s->dirty = true;
	return 0;
}

/*
 * Inflates a 'C' frame (a zlib stream) into *zb, at most max bytes: the
 * length, or -1.  libdeflate decompresses a whole buffer at once, its
 * Adler-32 check included, in about half of zlib's instructions (zlib's
 * inflate was a fifth of the Beats server's work); the stream's length
 * is not known before, so the buffer, kept between frames, is doubled
 * and the stream decompressed again until it fits, up to max + 1: a
 * stream that fills that is a bomb.  Bytes after the stream's end are
 * ignored, as zlib's inflate leaves them.
 */
static long
frame_inflate(const uint8_t *data, size_t len, uint8_t **zb, size_t *zc,
    size_t max, int *reason)
{
	struct libdeflate_decompressor *d;
	enum libdeflate_result rc;
	size_t cap = *zc, in_used, out = 0;
	uint8_t *nb;

	if ((d = libdeflate_alloc_decompressor()) == NULL) {
		*reason = BEATS_R_ZLIB;
		return -1;
	}
	if (cap < 65536)
		cap = 65536;
	for (;;) {
		if (cap > max + 1)
			cap = max + 1;
		if (cap > *zc) {
			if ((nb = realloc(*zb, cap)) == NULL) {
				rc = LIBDEFLATE_BAD_DATA;
				break;
			}
			*zb = nb;
			*zc = cap;
		}
		rc = libdeflate_zlib_decompress_ex(d, data, len, *zb, cap,
		    &in_used, &out);
		if (rc != LIBDEFLATE_INSUFFICIENT_SPACE || cap >= max + 1)
			break;
		cap *= 2;
	}
	libdeflate_free_decompressor(d);
	/* the last pass has room for max + 1: a stream that fills it
	 * exactly ends "successfully", and is a bomb all the same */
	if (rc == LIBDEFLATE_INSUFFICIENT_SPACE ||
	    (rc == LIBDEFLATE_SUCCESS && out > max)) {
		*reason = BEATS_R_BOMB;
		return -1;
	}
	if (rc != LIBDEFLATE_SUCCESS) {
		*reason = BEATS_R_ZLIB;
		return -1;
	}
	return (long)out;
}

static int sess_frame(struct beats_session *, const struct beats_frame *,
    int, int *);

static int
sess_compressed(struct beats_session *s, const struct beats_frame *f,
    int *reason)
{
	struct beats_frame in;
	long n, k;
	size_t off = 0;
	int rc;

	const uint8_t *zb;

	if (s->replay != NULL) {
		if (s->replay->reason != 0) {
			*reason = s->replay->reason;
			return -1;
		}
		zb = s->replay->z;
		n = (long)s->replay->zlen;
	} else {
		if ((n = frame_inflate(f->data, f->len, &zbuf, &zcap,
		    s->bc->max_frame, reason)) == -1)
			return -1;
		zb = zbuf;
	}
	s->st->compressed++;
	while (off < (size_t)n) {
		if ((k = frame_next(zb + off, (size_t)n - off,
		    s->bc->max_frame, &in, reason)) == -1)
			return -1;
		if (k == 0) {		/* a frame cut at the end */
			*reason = BEATS_R_ZLIB;
			return -1;
		}
		/* in.data points into zb, which nothing below reallocates */
		if ((rc = sess_frame(s, &in, 1, reason)) != 1)
			return rc == 0 ? (*reason = BEATS_R_SEQUENCE, -1) : -1;
		off += (size_t)k;
	}
	return 1;
}

/* 1 taken, 0 no room for another window yet, -1 refused. */
static int
sess_frame(struct beats_session *s, const struct beats_frame *f, int inner,
    int *reason)
{
	struct bwin *w;

	s->st->frames++;
	switch (f->type) {
	case 'W':
		if (f->count > s->bc->max_window) {
			*reason = BEATS_R_WINDOW;
			return -1;
		}
		if (f->count == 0)
			return 1;
		w = sess_last(s);
		if (w != NULL && w->got < w->count) {
			if (w->got > 0) {
				*reason = BEATS_R_SEQUENCE;
				return -1;
			}
			w->count = f->count;	/* announced again */
			return 1;
		}
		if (s->n == BEATS_WINDOWS) {
			s->st->frames--;	/* seen again later */
			return 0;
		}
		w = &s->w[(s->head + s->n++) % BEATS_WINDOWS];
		memset(w, 0, sizeof(*w));
		w->count = f->count;
		s->st->windows++;
		return 1;
	case 'J':
	case 'D':
		return sess_data(s, f, reason) == -1 ? -1 : 1;
	case 'C':
		if (inner) {
			*reason = BEATS_R_NESTED;
			return -1;
		}
		return sess_compressed(s, f, reason);
	default:
		*reason = BEATS_R_TYPE;
		return -1;
	}
}

int
beats_session_feed(struct beats_session *s, const uint8_t *buf, size_t len,
    size_t *used, int *reason)
{
	struct beats_frame f;
	size_t off = 0;
	long k;
	int rc = 0;

	while (off < len) {
		if ((k = frame_next(buf + off, len - off, s->bc->max_frame, &f,
		    reason)) == -1) {
			rc = -1;
			break;
		}
		if (k == 0)
			break;
		/* a compressed frame may hold a window: room for it first */
		if (f.type == 'C' && s->n == BEATS_WINDOWS &&
		    sess_last(s)->got == sess_last(s)->count) {
			rc = 1;
			break;
		}
		if (f.type == 'C' && s->async) {
			s->pend.data = f.data;
			s->pend.len = f.len;
			s->pend.frame = (size_t)k;
			rc = 2;		/* for a worker: beats_session_apply() */
			break;
		}
		if ((rc = sess_frame(s, &f, 0, reason)) == -1)
			break;
		if (rc == 0) {
			rc = 1;		/* stalled until an ack */
			break;
		}
		rc = 0;
		off += (size_t)k;
	}
	*used = off;
	if (rc == -1)
		s->st->refused[*reason]++;
	return rc;
}

/*
 * A worker's part of a 'C' frame: inflated, walked as sess_compressed()
 * walks it, each data frame read into an event and encoded; it stops at
 * the first error (the session meets it again when it applies the job)
 * or once BEATS_JOB_MAX_OUT bytes are encoded (the session reads the
 * rest itself).  Whether the frames fit the windows is the session's.
 */
void
beats_job_run(struct beats_job *j)
{
	const struct beats_conf *bc = j->bc;
	struct beats_frame in;
	size_t off = 0;
	long n, k;
	int r, rsn;
	uint8_t o;

	j->reason = 0;
	j->nout = j->di = 0;
	j->zlen = 0;
	soc_wire_begin(&j->w, SOC_WIRE_EVENTS, 0);
	if ((n = frame_inflate(j->data, j->len, &j->z, &j->zcap, bc->max_frame,
	    &j->reason)) == -1)
		return;
	j->zlen = (size_t)n;
	while (off < (size_t)n && j->w.len < BEATS_JOB_MAX_OUT) {
		if ((k = frame_next(j->z + off, (size_t)n - off, bc->max_frame,
		    &in, &rsn)) <= 0)
			return;		/* the session finds it again */
		off += (size_t)k;
		if (in.type != 'J' && in.type != 'D')
			continue;
		if (j->nout == j->outcap) {
			size_t nc = j->outcap ? j->outcap * 2 : 4096;
			uint8_t *no = realloc(j->out, nc);

			if (no == NULL)
				return;	/* the rest on the main thread */
			j->out = no;
			j->outcap = nc;
		}
		if ((r = frame_event(&in, j->peer, &j->ev, &rsn)) == -1) {
			j->xreason = rsn;
			j->out[j->nout++] = BJ_BAD;
			return;
		}
		o = BJ_SKIP;
		if (r == 1) {
			if (bc->observer != NULL &&
			    !soc_event_has(&j->ev, SOC_F_OBSERVER_NAME))
				soc_event_set_cstr(&j->ev, SOC_F_OBSERVER_NAME,
				    bc->observer);
			o = soc_wire_add_event(&j->w, &j->ev) == 0 ? BJ_EVENT :
			    BJ_NOMEM;
		}
		j->out[j->nout++] = o;
		if (o == BJ_NOMEM)
			return;
	}
}

void
beats_job_free(struct beats_job *j)
{
	if (j == NULL)
		return;
	free(j->z);
	free(j->out);
	soc_wbuf_free(&j->w);
	free(j);
}

int
beats_session_apply(struct beats_session *s, struct beats_job *j,
    int *reason)
{
	struct beats_frame f = { .type = 'C', .data = s->pend.data,
	    .len = s->pend.len };
	int rc;

	s->replay = j;
	j->di = 0;
	j->roff = SOC_WIRE_HDR_LEN;
	rc = sess_frame(s, &f, 0, reason);
	s->replay = NULL;
	if (rc == -1)
		s->st->refused[*reason]++;
	return rc == 1 ? 1 : -1;
}

void
beats_proto_free(void)
{
	free(zbuf);
	zbuf = NULL;
	zcap = 0;
}
