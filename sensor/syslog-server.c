/*
 * Syslog server: receives RFC 3164 and RFC 5424 messages over UDP (one
 * datagram, one message) and TCP (many clients, each framed by newline or
 * by octet counting, RFC 6587, decided per message), and hands each one to
 * the log normalizers with the sender's address as soc.log.source.address.
 *
 * Memory is bounded by configuration, never by what senders do: one UDP
 * buffer, and one buffer of syslog.max_message (+ a framing header) per
 * connected TCP client, at most SD_MAX_CLIENTS of them.  A message longer
 * than the maximum is cut and counted; the rest of it is skipped as it
 * arrives.  A message without a "<PRI>" is still emitted (as a raw
 * log.syslog event) and counted malformed.  No allocation per message.
 *
 * Messages go to the emit callback given at open; nothing here knows the
 * rest of the daemon.
 *
 * Everything is non-blocking and driven by main.c's poll loop: every
 * readable client gets one read per dispatch, so a fast sender cannot
 * starve the others or the capture.
 *
 * Stamps without a zone are read in the sender's zone when syslog.zones
 * names it (log-zone.c); a stamp a whole number of hours off the receive
 * time is counted and its source named in the log (sd_zone_check()).
 *
 * Hostile senders.  Datagrams the kernel drops for want of buffer room
 * are counted (SO_RXQ_OVFL: the socket's drop count rides on the next
 * datagram read) and reported in heartbeats, where the correlator counts
 * them against coverage as it does capture loss; the receive buffer is
 * syslog.rcvbuf_kb.  Silent TCP clients cannot lock others out: a client
 * idle for syslog.tcp_idle_s is closed, one source holds at most
 * syslog.tcp_max_per_source connections (its longest idle one is closed
 * for a new one), and when the table is full a connection of the source
 * holding the most makes room.  A connection that delivered a message
 * within syslog.tcp_idle_s is never closed for a new one (the new one is
 * refused instead), so churn from many addresses cannot close live
 * senders; a sender closed anyway (syslog_tcp_evicted_senders) or a
 * newcomer refused (syslog_tcp_rejected) is counted, and the counts of
 * the last 15 minutes (..._15m) degrade coverage layer 2 at the
 * correlator while they last.  A newcomer over its own source's limit
 * is counted apart (syslog_tcp_refused_own): no one else was shut out.
 * A newcomer from a source holding no connection, when every slot is
 * live, takes one from the source holding the most if that source holds
 * more than its fair share (the table divided by the sources in it):
 * addresses holding every slot with slow senders cannot shut a real
 * client out (syslog_tcp_evicted_hogs).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "soc/log.h"
#include "soc/util.h"
#include "intake.h"
#include "logparse.h"
#include "nxlog.h"

#define SD_MAX_LISTEN	16
#define SD_MAX_CLIENTS	256
#define SD_FRAME_SLACK	16	/* octet-count header room in a buffer */
#define SD_UDP_BURST	256	/* datagrams per listener per dispatch */
#define SD_ACCEPT_BURST	64
#define SD_ADDRSTRLEN	INET6_ADDRSTRLEN

enum sd_kind {
	SD_UDP,
	SD_TCP_LISTEN,
	SD_TCP_CLIENT,
};

struct sd_client {
	int			 fd;		/* -1: free slot */
	int64_t			 active_ms;	/* accepted, or last read (mono) */
	int64_t			 delivered_ms;	/* last message (mono); 0: none */
	uint64_t		 addr_h;	/* hash of addr: counting per source */
	char			 addr[SD_ADDRSTRLEN];
	struct syslog_frame	 fr;
	char			*buf;
	size_t			 have;
};

struct sd_counters {
	uint64_t	udp;		/* messages */
	uint64_t	tcp;
	uint64_t	truncated;
	uint64_t	malformed;
	uint64_t	connections;
	uint64_t	rejected;	/* no slot: every one a live sender */
	uint64_t	read_errors;	/* connections closed on an error */
	uint64_t	udp_errors;
	uint64_t	udp_dropped;	/* by the kernel: no buffer room */
	uint64_t	idle_closed;	/* silent past syslog.tcp_idle_s */
	uint64_t	evicted;	/* closed to make room for a new one */
	uint64_t	evicted_senders; /* of those, ones that had delivered */
	uint64_t	zone_suspect;	/* stamps whole hours off receive time */
	uint64_t	refused_own;	/* over its own source's limit */
	uint64_t	evicted_hogs;	/* live, over its source's fair share */
};

/* Counts of the last SD_RECENT_MIN minutes, one bucket a minute. */
#define SD_RECENT_MIN	15
struct sd_recent {
	int64_t		 min[SD_RECENT_MIN];	/* the bucket's minute */
	uint64_t	 n[SD_RECENT_MIN];
};

static void
sd_recent_add(struct sd_recent *r, int64_t now_ms)
{
	int64_t m = now_ms / 60000;
	size_t i = (size_t)(m % SD_RECENT_MIN);

	if (r->min[i] != m) {
		r->min[i] = m;
		r->n[i] = 0;
	}
	r->n[i]++;
}

static uint64_t
sd_recent_sum(const struct sd_recent *r, int64_t now_ms)
{
	int64_t m = now_ms / 60000;
	uint64_t t = 0;

	for (size_t i = 0; i < SD_RECENT_MIN; i++)
		if (r->n[i] > 0 && m - r->min[i] < SD_RECENT_MIN)
			t += r->n[i];
	return t;
}

#define SD_ZONE_NAMED	256	/* sources named in a zone warning */
#define SD_ZONE_LINES	10	/* zone warnings per minute, at most */

struct syslogd {
	soc_emit_fn		 emit;
	void			*arg;
	int32_t			 tz_offset_sec;
	int			 udp[SD_MAX_LISTEN];
	uint32_t		 udp_ovfl[SD_MAX_LISTEN]; /* last SO_RXQ_OVFL */
	size_t			 nudp;
	int64_t			 idle_ms;	/* 0: never closed for silence */
	size_t			 max_per_source;
	int64_t			 last_sweep;	/* mono ms */
	struct sd_recent	 rec_rejected, rec_evicted_senders;
	int			 tcp[SD_MAX_LISTEN];
	size_t			 ntcp;
	struct sd_client	 cl[SD_MAX_CLIENTS];
	size_t			 max;		/* longest message kept whole */
	size_t			 bufcap;
	char			*ubuf;		/* max + 1: detects truncation */
	/* what the last syslogd_pollfds() put where */
	uint32_t		 pmap[2 * SD_MAX_LISTEN + SD_MAX_CLIENTS];
	struct sd_counters	 c;
	struct soc_event	 ev;
	const struct logzones	*zones;
	uint64_t		 zone_named[SD_ZONE_NAMED]; /* addr hashes */
	size_t			 nzone_named;
	int64_t			 zone_window;	/* mono ms: this minute's lines */
	unsigned		 zone_lines;
	struct auditd_asm	*auditd;	/* audisp records, or NULL */
	struct auditd_stats	 audit_last;	/* its counters once freed */
};

/*
 * Framing.
 */

size_t
syslog_frame_next(struct syslog_frame *st, const char *buf, size_t len,
    size_t max, int eof, const char **msg, size_t *msglen, int *flags)
{
	const char *nl;
	uint64_t count = 0;
	size_t i, hdr, n;

	*msg = NULL;
	*msglen = 0;
	*flags = 0;
	if (max == 0)
		max = 1;
	if (len == 0)
		return 0;
	if (st->skip > 0) {
		n = st->skip < len ? (size_t)st->skip : len;
		st->skip -= n;
		return n;
	}
	if (st->skip_to_lf) {
		if ((nl = memchr(buf, '\n', len)) == NULL)
			return len;
		st->skip_to_lf = 0;
		return (size_t)(nl - buf) + 1;
	}
	for (i = 0; i < len && (buf[i] == '\n' || buf[i] == '\r' ||
	    buf[i] == '\0'); i++)
		;
	if (i > 0)
		return i;

	if (buf[0] >= '0' && buf[0] <= '9') {
		for (i = 0; i < len && i <= 10 && buf[i] >= '0' &&
		    buf[i] <= '9'; i++)
			count = count * 10 + (uint64_t)(buf[i] - '0');
		if (i == len && i <= 10 && !eof)
			return 0;		/* the count is not complete */
		if (i < len && i <= 10 && buf[i] == ' ') {
			hdr = i + 1;
			*flags = SYSLOG_FRAME_OCTET;
			if (count == 0) {
				*flags |= SYSLOG_FRAME_EMPTY;
				return hdr;
			}
			n = count < max ? (size_t)count : max;
			if (len - hdr < n) {
				if (!eof)
					return 0;
				*msg = buf + hdr;
				*msglen = len - hdr;
				*flags |= SYSLOG_FRAME_TRUNCATED;
				return len;
			}
			*msg = buf + hdr;
			*msglen = n;
			if (count > max) {
				*flags |= SYSLOG_FRAME_TRUNCATED;
				st->skip = count - max;
			}
			return hdr + n;
		}
		/* digits, then no space: a plain line that starts so */
	}

	if ((nl = memchr(buf, '\n', len < max + 1 ? len : max + 1)) != NULL) {
		n = (size_t)(nl - buf);
		*msg = buf;
		*msglen = n > 0 && buf[n - 1] == '\r' ? n - 1 : n;
		return n + 1;
	}
	if (len > max) {
		*msg = buf;
		*msglen = max;
		*flags = SYSLOG_FRAME_TRUNCATED;
		st->skip_to_lf = 1;
		return max;
	}
	if (!eof)
		return 0;
	*msg = buf;
	*msglen = buf[len - 1] == '\r' ? len - 1 : len;
	return len;
}

/*
 * Messages.
 */

/* True if the message starts with a well-formed "<PRI>". */
static bool
sd_has_pri(const char *p, size_t n)
{
	size_t i;

	if (n < 3 || p[0] != '<')
		return false;
	for (i = 1; i < n && i <= 4 && p[i] >= '0' && p[i] <= '9'; i++)
		;
	return i > 1 && i < n && i <= 4 && p[i] == '>';
}

/* FNV-1a of a sender address: counting connections, naming sources. */
static uint64_t
sd_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h | 1;	/* never 0: 0 marks an empty slot */
}

/*
 * A stamp a whole number of hours (1 to 26) off the receive time, give or
 * take two minutes, is most likely a sender in another zone writing
 * stamps that carry none (RFC 3164): counted, and each source (sender
 * address and host name) named once in the log, the first SD_ZONE_NAMED
 * of them and at most SD_ZONE_LINES lines a minute, so an operator can
 * give it its zone in syslog.zones.
 */
static void
sd_zone_check(struct syslogd *d, const char *addr, const struct soc_event *ev,
    int64_t now_ns)
{
	int64_t off, abs, hours, rest, mono;
	uint64_t h;
	char host[64];
	size_t i;

	if (ev->ts == now_ns)
		return;		/* no stamp of its own */
	off = ev->ts / SOC_NS - now_ns / SOC_NS;
	abs = off < 0 ? -off : off;
	hours = (abs + 1800) / 3600;
	rest = abs - hours * 3600;
	if (hours < 1 || hours > 26 || rest < -120 || rest > 120)
		return;
	d->c.zone_suspect++;
	if (soc_event_text(ev, SOC_F_HOST_HOSTNAME, host, sizeof(host)) == -1)
		strcpy(host, "-");
	/* a relay forwards for many hosts: each is named */
	h = sd_hash(addr) ^ (sd_hash(host) * 31);
	for (i = 0; i < d->nzone_named && d->zone_named[i] != h; i++)
		;
	if (i < d->nzone_named)
		return;
	mono = soc_mono_ms();
	if (mono - d->zone_window >= 60000) {
		d->zone_window = mono;
		d->zone_lines = 0;
	}
	/* over the rate: named at one of its next stamps */
	if (d->zone_lines >= SD_ZONE_LINES)
		return;
	d->zone_lines++;
	if (d->nzone_named < SD_ZONE_NAMED)
		d->zone_named[d->nzone_named++] = h;
	for (char *p = host; *p != '\0'; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
			*p = '?';	/* a name from the wire: no control bytes */
	log_warnx("syslog: %s (host %s): stamps %lld h %s the receive time; "
	    "a sender in another zone? give it its zone in syslog.zones "
	    "(counted as syslog_zone_suspect)", addr, host, (long long)hours,
	    off < 0 ? "behind" : "ahead of");
}

/*
 * An audit record in the message ("audispd: type=SYSCALL msg=audit(...)",
 * audisp-syslog's form): joined with the others of its event, the sender
 * (host name, else address) standing for its node.
 */
static bool
sd_auditd(struct syslogd *d, const struct logparse_ctx *ctx, int flags)
{
	const char *m, *h;
	size_t ml, hl;
	char node[256];

	m = soc_event_str(&d->ev, SOC_F_MESSAGE, &ml);
	if (m == NULL || log_auditd_record(m, ml) < 0)
		return false;
	if (d->auditd == NULL &&
	    (d->auditd = auditd_asm_new(0, 0, d->emit, d->arg)) == NULL)
		return false;
	if ((h = soc_event_str(&d->ev, SOC_F_HOST_HOSTNAME, &hl)) == NULL ||
	    hl == 0) {
		h = ctx->source_addr != NULL ? ctx->source_addr : "";
		hl = strlen(h);
	}
	if (hl >= sizeof(node))
		hl = sizeof(node) - 1;
	memcpy(node, h, hl);
	node[hl] = '\0';
	auditd_asm_feed(d->auditd, ctx, m, ml, node,
	    (flags & SYSLOG_FRAME_TRUNCATED) != 0 ||
	    soc_event_truncated(&d->ev));
	return true;
}

static void
sd_emit(struct syslogd *d, const char *addr, const char *msg, size_t n,
    int flags)
{
	struct logparse_ctx ctx = {
		.now_ns = soc_now_ns(),
		.path = NULL,
		.source_addr = addr,
		.tz_offset_sec = d->tz_offset_sec,
		.zones = d->zones,
	};

	if (flags & SYSLOG_FRAME_TRUNCATED)
		d->c.truncated++;
	if (!sd_has_pri(msg, n) && !nxlog_looks(msg, n))
		d->c.malformed++;	/* a raw NXLog JSON line is not */
	log_syslog_parse(&ctx, msg, n, &d->ev);
	if (sd_auditd(d, &ctx, flags))
		return;
	if (flags & SYSLOG_FRAME_TRUNCATED)
		d->ev.flags |= SOC_EV_TRUNCATED;	/* soc.truncated */
	sd_zone_check(d, addr, &d->ev, ctx.now_ns);
	d->emit(d->arg, &d->ev);
}

/*
 * UDP.
 */

/* The socket's kernel drop count rides on each datagram (SO_RXQ_OVFL). */
static void
sd_udp_ovfl(struct syslogd *d, size_t li, struct msghdr *mh)
{
	struct cmsghdr *cm;
	uint32_t v;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SO_RXQ_OVFL ||
		    cm->cmsg_len < CMSG_LEN(sizeof(v)))
			continue;
		memcpy(&v, CMSG_DATA(cm), sizeof(v));
		d->c.udp_dropped += (uint32_t)(v - d->udp_ovfl[li]);
		d->udp_ovfl[li] = v;
	}
}

static void
sd_udp_read(struct syslogd *d, size_t li)
{
	struct sockaddr_storage ss;
	char addr[SD_ADDRSTRLEN];
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(sizeof(uint32_t))];
	} ctl;
	struct iovec iov;
	struct msghdr mh;
	ssize_t r;
	size_t n;
	int flags;

	for (int k = 0; k < SD_UDP_BURST; k++) {
		iov = (struct iovec){ d->ubuf, d->max + 1 };
		mh = (struct msghdr){ .msg_name = &ss,
		    .msg_namelen = sizeof(ss), .msg_iov = &iov, .msg_iovlen = 1,
		    .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
		r = recvmsg(d->udp[li], &mh, MSG_DONTWAIT | MSG_TRUNC);
		if (r < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				d->c.udp_errors++;
			return;
		}
		sd_udp_ovfl(d, li, &mh);
		flags = 0;
		n = (size_t)r;
		if (n > d->max) {
			n = d->max;
			flags = SYSLOG_FRAME_TRUNCATED;
		}
		/* senders often end a datagram with LF (or CRLF, or NUL) */
		while (n > 0 && (d->ubuf[n - 1] == '\n' ||
		    d->ubuf[n - 1] == '\r' || d->ubuf[n - 1] == '\0'))
			n--;
		soc_addr_text(&ss, addr, sizeof(addr));
		d->c.udp++;
		sd_emit(d, addr, d->ubuf, n, flags);
	}
}

/*
 * TCP.
 */

static void
sd_client_close(struct sd_client *c)
{
	close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->have = 0;
}

/* Emits every complete frame in the client's buffer. */
static void
sd_client_frames(struct syslogd *d, struct sd_client *c, int eof)
{
	const char *msg;
	size_t off = 0, used, mlen;
	int flags;

	for (;;) {
		used = syslog_frame_next(&c->fr, c->buf + off, c->have - off,
		    d->max, eof, &msg, &mlen, &flags);
		if (msg != NULL) {
			d->c.tcp++;
			c->delivered_ms = soc_mono_ms();
			sd_emit(d, c->addr, msg, mlen, flags);
		} else if (flags & SYSLOG_FRAME_EMPTY)
			d->c.malformed++;
		if (used == 0)
			break;
		off += used;
	}
	if (off > 0) {
		memmove(c->buf, c->buf + off, c->have - off);
		c->have -= off;
	}
}

static void
sd_client_read(struct syslogd *d, struct sd_client *c)
{
	ssize_t r;

	r = read(c->fd, c->buf + c->have, d->bufcap - c->have);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (r <= 0) {
		if (r < 0) {
			d->c.read_errors++;
			log_debug("syslog: %s: %s", c->addr, strerror(errno));
		}
		sd_client_frames(d, c, 1);
		sd_client_close(c);
		return;
	}
	c->have += (size_t)r;
	c->active_ms = soc_mono_ms();
	sd_client_frames(d, c, 0);
}

/* Closes a client, emitting what it left unterminated. */
static void
sd_client_end(struct syslogd *d, struct sd_client *c)
{
	sd_client_frames(d, c, 1);
	sd_client_close(c);
}

/*
 * Whether a connection may be closed to make room: never one that
 * delivered a message within syslog.tcp_idle_s (with no idle timeout, one
 * that ever delivered), so churn from many addresses cannot close live
 * senders.
 */
static bool
sd_evictable(const struct syslogd *d, const struct sd_client *c, int64_t now)
{
	if (c->delivered_ms == 0)
		return true;
	return d->idle_ms > 0 && now - c->delivered_ms >= d->idle_ms;
}

/* Connections held by c's source. */
static size_t
sd_held(const struct syslogd *d, const struct sd_client *c)
{
	size_t n = 0;

	for (size_t j = 0; j < SD_MAX_CLIENTS; j++)
		if (d->cl[j].fd != -1 && d->cl[j].addr_h == c->addr_h &&
		    strcmp(d->cl[j].addr, c->addr) == 0)
			n++;
	return n;
}

/*
 * The slot for a new client from addr: a free one, unless addr is at its
 * limit (then its own longest idle closable connection is closed, else
 * it is refused: *own).  In a full table a closable connection of the
 * source holding the most connections is closed, its longest idle one;
 * if none is closable and addr holds none, the longest idle connection
 * of the source holding the most, if that is over its fair share.  NULL
 * when nothing may be closed: the new client is refused (counted) rather
 * than a live sender closed.
 */
static struct sd_client *
sd_slot(struct syslogd *d, const char *addr, bool *own)
{
	struct sd_client *c, *freec = NULL, *mine = NULL, *pick = NULL,
	    *hog = NULL;
	uint64_t h = sd_hash(addr);
	size_t same = 0, pick_n = 0, hog_n = 0, nsrc = 0, n;
	int64_t now = soc_mono_ms();
	bool hogged = false;

	*own = false;
	for (size_t i = 0; i < SD_MAX_CLIENTS; i++) {
		c = &d->cl[i];
		if (c->fd == -1) {
			if (freec == NULL)
				freec = c;
			continue;
		}
		if (c->addr_h != h || strcmp(c->addr, addr) != 0)
			continue;
		same++;
		if (sd_evictable(d, c, now) &&
		    (mine == NULL || c->active_ms < mine->active_ms))
			mine = c;
	}
	if (same >= d->max_per_source) {
		if ((c = mine) == NULL) {
			*own = true;
			return NULL;
		}
	} else if (freec != NULL)
		return freec;
	else {
		/* the source with the most connections pays, not the idle */
		for (size_t i = 0; i < SD_MAX_CLIENTS; i++) {
			c = &d->cl[i];
			if (c->fd == -1)
				continue;
			n = sd_held(d, c);
			/* sources in the table: each counted at its first */
			for (size_t j = 0; j <= i; j++)
				if (d->cl[j].fd != -1 && d->cl[j].addr_h ==
				    c->addr_h && strcmp(d->cl[j].addr,
				    c->addr) == 0) {
					nsrc += j == i;
					break;
				}
			if (hog == NULL || n > hog_n || (n == hog_n &&
			    c->active_ms < hog->active_ms)) {
				hog = c;
				hog_n = n;
			}
			if (!sd_evictable(d, c, now))
				continue;
			if (pick == NULL || n > pick_n || (n == pick_n &&
			    c->active_ms < pick->active_ms)) {
				pick = c;
				pick_n = n;
			}
		}
		c = pick;
		if (c == NULL && same == 0 && hog != NULL && nsrc > 0 &&
		    hog_n > SD_MAX_CLIENTS / nsrc) {
			c = hog;
			hogged = true;
		}
	}
	if (c == NULL)
		return NULL;
	log_debug("syslog: %s: closing %s connection for a new one", c->addr,
	    hogged ? "a live" : "an idle");
	d->c.evicted++;
	if (hogged)
		d->c.evicted_hogs++;
	else if (c->delivered_ms != 0) {
		d->c.evicted_senders++;
		sd_recent_add(&d->rec_evicted_senders, now);
	}
	sd_client_end(d, c);
	return c;
}

/* Closes the clients silent for longer than the idle timeout. */
static void
sd_sweep(struct syslogd *d)
{
	int64_t now = soc_mono_ms();

	if (d->idle_ms <= 0 || now - d->last_sweep < 1000)
		return;
	d->last_sweep = now;
	for (size_t i = 0; i < SD_MAX_CLIENTS; i++) {
		struct sd_client *c = &d->cl[i];

		if (c->fd == -1 || now - c->active_ms < d->idle_ms)
			continue;
		log_debug("syslog: %s: idle, closed", c->addr);
		d->c.idle_closed++;
		sd_client_end(d, c);
	}
}

static void
sd_accept(struct syslogd *d, int lfd)
{
	struct sockaddr_storage ss;
	char addr[SD_ADDRSTRLEN];
	socklen_t sl;
	struct sd_client *c;
	bool own;
	int fd;

	for (int k = 0; k < SD_ACCEPT_BURST; k++) {
		own = false;
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1)
			return;
		soc_addr_text(&ss, addr, sizeof(addr));
		if ((c = sd_slot(d, addr, &own)) == NULL ||
		    (c->buf = malloc(d->bufcap)) == NULL) {
			if (own)
				d->c.refused_own++;
			else {
				d->c.rejected++;
				sd_recent_add(&d->rec_rejected, soc_mono_ms());
			}
			close(fd);
			continue;
		}
		c->fd = fd;
		c->have = 0;
		c->active_ms = soc_mono_ms();
		c->delivered_ms = 0;
		c->addr_h = sd_hash(addr);
		memset(&c->fr, 0, sizeof(c->fr));
		memcpy(c->addr, addr, sizeof(c->addr));
		d->c.connections++;
	}
}

/*
 * Listeners.
 */

/* "ADDR:PORT", "[V6]:PORT", "*:PORT" or ":PORT" -> host, port. */
static int
sd_split(const char *spec, char *host, size_t hostsz, const char **port)
{
	const char *colon, *end;
	size_t hl;

	if (spec[0] == '[') {
		if ((end = strchr(spec, ']')) == NULL || end[1] != ':')
			return -1;
		spec++;
		colon = end + 1;
		hl = (size_t)(end - spec);
	} else {
		if ((colon = strrchr(spec, ':')) == NULL)
			return -1;
		hl = (size_t)(colon - spec);
	}
	if (hl >= hostsz || colon[1] == '\0')
		return -1;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (strcmp(host, "*") == 0)
		host[0] = '\0';
	*port = colon + 1;
	return 0;
}

static int
sd_listen(const char *spec, int type, int rcvbuf, char *err, size_t errlen)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char host[256];
	const char *port;
	int fd = -1, on = 1, rc;

	if (sd_split(spec, host, sizeof(host), &port) == -1) {
		snprintf(err, errlen, "syslog listener \"%s\": use ADDR:PORT "
		    "or [ADDR]:PORT", spec);
		return -1;
	}
	hints.ai_socktype = type;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints,
	    &ai)) != 0) {
		snprintf(err, errlen, "syslog listener \"%s\": %s", spec,
		    gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	else {
		/* bursts of datagrams; as root, past net.core.rmem_max */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		    sizeof(rcvbuf)) == -1)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			    sizeof(rcvbuf));
		/* what the kernel drops is counted, not silent */
		setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on));
	}
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1)
		goto fail;
	if (type == SOCK_STREAM && listen(fd, 128) == -1)
		goto fail;
	freeaddrinfo(ai);
	log_info("syslog: listening on %s/%s", spec,
	    type == SOCK_STREAM ? "tcp" : "udp");
	return fd;
fail:
	snprintf(err, errlen, "syslog listener \"%s\" (%s): %s", spec,
	    type == SOCK_STREAM ? "tcp" : "udp", strerror(errno));
	if (fd != -1)
		close(fd);
	freeaddrinfo(ai);
	return -1;
}

struct syslogd *
syslogd_open(const struct syslogd_conf *sc, soc_emit_fn emit, void *arg,
    char *err, size_t errlen)
{
	const struct conf_list *u = sc->udp, *t = sc->tcp;
	struct syslogd *d;
	int fd, rcvbuf = sc->rcvbuf_kb > 0 ? (int)sc->rcvbuf_kb * 1024 :
	    4 << 20;

	err[0] = '\0';
	if (u->n == 0 && t->n == 0)
		return NULL;
	if (u->n > SD_MAX_LISTEN || t->n > SD_MAX_LISTEN) {
		snprintf(err, errlen, "at most %d syslog listeners per protocol",
		    SD_MAX_LISTEN);
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errlen, "syslog: out of memory");
		return NULL;
	}
	d->emit = emit;
	d->arg = arg;
	d->tz_offset_sec = sc->tz_offset_sec;
	d->zones = sc->zones;
	d->max = sc->max_message > 0 ? sc->max_message : 65536;
	d->bufcap = d->max + SD_FRAME_SLACK;
	d->idle_ms = sc->tcp_idle_s * 1000;
	d->max_per_source = sc->tcp_max_per_source > 0 ?
	    sc->tcp_max_per_source : SD_MAX_CLIENTS;
	for (size_t i = 0; i < SD_MAX_CLIENTS; i++)
		d->cl[i].fd = -1;
	if ((d->ubuf = malloc(d->max + 1)) == NULL) {
		snprintf(err, errlen, "syslog: out of memory");
		goto fail;
	}
	for (size_t i = 0; i < u->n; i++) {
		if ((fd = sd_listen(u->v[i], SOCK_DGRAM, rcvbuf, err,
		    errlen)) == -1)
			goto fail;
		d->udp[d->nudp++] = fd;
	}
	for (size_t i = 0; i < t->n; i++) {
		if ((fd = sd_listen(t->v[i], SOCK_STREAM, 0, err,
		    errlen)) == -1)
			goto fail;
		d->tcp[d->ntcp++] = fd;
	}
	return d;
fail:
	syslogd_close(d, NULL);
	return NULL;
}

#define SD_MAP(kind, idx)	(((uint32_t)(kind) << 16) | (uint32_t)(idx))

int
syslogd_pollfds(struct syslogd *d, struct pollfd *pfd, int max)
{
	int n = 0;

	if (d == NULL)
		return 0;
	for (size_t i = 0; i < d->nudp && n < max; i++, n++) {
		pfd[n] = (struct pollfd){ .fd = d->udp[i], .events = POLLIN };
		d->pmap[n] = SD_MAP(SD_UDP, i);
	}
	for (size_t i = 0; i < d->ntcp && n < max; i++, n++) {
		pfd[n] = (struct pollfd){ .fd = d->tcp[i], .events = POLLIN };
		d->pmap[n] = SD_MAP(SD_TCP_LISTEN, i);
	}
	for (size_t i = 0; i < SD_MAX_CLIENTS && n < max; i++) {
		if (d->cl[i].fd == -1)
			continue;
		pfd[n] = (struct pollfd){ .fd = d->cl[i].fd, .events = POLLIN };
		d->pmap[n++] = SD_MAP(SD_TCP_CLIENT, i);
	}
	return n;
}

int
syslogd_dispatch(struct syslogd *d, const struct pollfd *pfd, int n)
{
	struct sd_client *c;
	uint64_t before;
	uint32_t idx;

	if (d == NULL)
		return 0;
	before = d->c.udp + d->c.tcp;
	sd_sweep(d);
	auditd_asm_tick(d->auditd, soc_mono_ms());
	for (int i = 0; i < n && i < (int)(sizeof(d->pmap) /
	    sizeof(d->pmap[0])); i++) {
		if (pfd[i].revents == 0)
			continue;
		idx = d->pmap[i] & 0xffff;
		switch (d->pmap[i] >> 16) {
		case SD_UDP:
			if (idx < d->nudp && d->udp[idx] == pfd[i].fd)
				sd_udp_read(d, idx);
			break;
		case SD_TCP_LISTEN:
			if (idx < d->ntcp && d->tcp[idx] == pfd[i].fd)
				sd_accept(d, pfd[i].fd);
			break;
		case SD_TCP_CLIENT:
			/* a slot closed and refilled since poll: skip it */
			c = idx < SD_MAX_CLIENTS ? &d->cl[idx] : NULL;
			if (c != NULL && c->fd == pfd[i].fd)
				sd_client_read(d, c);
			break;
		}
	}
	return d->c.udp + d->c.tcp != before;
}

void
syslogd_log_counters(struct syslogd *d)
{
	if (d == NULL)
		return;
	log_info("syslog: messages %llu udp, %llu tcp; truncated %llu, "
	    "malformed %llu; connections %llu, rejected %llu, closed on "
	    "error %llu, idle %llu, for a new one %llu (of them senders "
	    "%llu); udp errors %llu, dropped by the kernel %llu; stamps "
	    "whole hours off %llu",
	    (unsigned long long)d->c.udp, (unsigned long long)d->c.tcp,
	    (unsigned long long)d->c.truncated,
	    (unsigned long long)d->c.malformed,
	    (unsigned long long)d->c.connections,
	    (unsigned long long)d->c.rejected,
	    (unsigned long long)d->c.read_errors,
	    (unsigned long long)d->c.idle_closed,
	    (unsigned long long)d->c.evicted,
	    (unsigned long long)d->c.evicted_senders,
	    (unsigned long long)d->c.udp_errors,
	    (unsigned long long)d->c.udp_dropped,
	    (unsigned long long)d->c.zone_suspect);
}

void
syslogd_stats(const struct syslogd *d, struct syslogd_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (d == NULL)
		return;
	st->udp = d->c.udp;
	st->tcp = d->c.tcp;
	st->truncated = d->c.truncated;
	st->udp_dropped = d->c.udp_dropped;
	st->tcp_rejected = d->c.rejected;
	st->tcp_idle_closed = d->c.idle_closed;
	st->tcp_evicted = d->c.evicted;
	st->tcp_evicted_senders = d->c.evicted_senders;
	st->zone_suspect = d->c.zone_suspect;
	st->tcp_refused_own = d->c.refused_own;
	st->tcp_evicted_hogs = d->c.evicted_hogs;
	st->tcp_rejected_15m = sd_recent_sum(&d->rec_rejected, soc_mono_ms());
	st->tcp_evicted_senders_15m = sd_recent_sum(&d->rec_evicted_senders,
	    soc_mono_ms());
	if (d->auditd != NULL)
		auditd_asm_stats(d->auditd, &st->audit);
	else
		st->audit = d->audit_last;
}

void
syslogd_close(struct syslogd *d, struct syslogd_stats *last)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < SD_MAX_CLIENTS; i++)
		if (d->cl[i].fd != -1)
			sd_client_end(d, &d->cl[i]);
	if (d->auditd != NULL) {
		auditd_asm_flush(d->auditd);	/* emits what is open */
		auditd_asm_stats(d->auditd, &d->audit_last);
		auditd_asm_free(d->auditd);
		d->auditd = NULL;
	}
	if (last != NULL) {
		syslogd_log_counters(d);
		syslogd_stats(d, last);
	}
	for (size_t i = 0; i < d->nudp; i++)
		close(d->udp[i]);
	for (size_t i = 0; i < d->ntcp; i++)
		close(d->tcp[i]);
	free(d->ubuf);
	free(d);
}
