/*
 * The endpoint inventory (issue 18).  Every event that names the host it
 * comes from (a Windows record's computer or host.id, a syslog header's
 * host name, an auditd record's node, or the sensor's own host for a
 * local audit.log) makes that host an endpoint of the agency of the
 * sensor that sent it: the agency comes from the sensor's key, so an
 * event naming another agency's computer only ever adds a host to the
 * sender's own inventory.
 *
 * Kept in memory: a SipHash table (keys chosen by whoever writes the
 * logs) of (agency, host) entries, each the store's row plus a dirty
 * mark; per agency a count bounded by endpoints.max_per_agency (a new
 * host past it is counted, not added) and the hosts refused for an id
 * over STORE_EP_HOST_MAX bytes.  Nothing is written per event: the
 * changed entries (a list of them, so a flush costs what changed) are
 * written once per ingest group, in its transaction
 * (endpoints_flush()), and marked clean only once it committed.  A batch
 * undone at its savepoint keeps its effect here (its events were seen;
 * the resent batch counts them again in events per day).
 *
 * Malware protection, from the events themselves: Microsoft Defender's
 * Operational channel (1116/1117 detections; 5001 real-time protection
 * off, 5010/5012 scanning off, 2001/2003 updates failing; 1000/1001
 * scans, 1150/1151 the client's health heartbeat, 2000 signatures
 * updated, 5000/5009/5011 protection on: healthy) and ClamAV (a FOUND
 * line, freshclam's failures, "Database updated"/"up-to-date"/clamd's
 * "Database status OK": healthy).  Times are the events' own (bounded
 * by the receive time), so a replayed old log cannot make a computer
 * protected today.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "soc/hash.h"
#include "soc/json.h"
#include "soc/log.h"
#include "soc/util.h"
#include "endpoints.h"

#define EP_DAY_NS	(86400 * 1000000000LL)
#define EP_CHAN_MAX	64	/* bytes of one channel name in the list */
/*
 * The changes are written at most this often: a group of 1,000 events
 * from 1,000 hosts would otherwise write 1,000 rows, one per event (the
 * cost bench/endpoints.py measures).  Last-seen and the day's count of a
 * busy host move with every event; the database holds them at most this
 * late (and loses at most this much of them if the correlator is
 * killed; a clean stop writes them).
 */
#define EP_FLUSH_MS	2000

/*
 * An entry: one cache line (64 bytes, aligned) holds all an ordinary
 * event touches: the host's length and first 16 bytes, the times and
 * counts, which channels it is known to send.  With 10,000 hosts in
 * turn every lookup misses the caches; the store's row spread over
 * four lines cost four misses (bench/endpoints.py), two lines still
 * cost more than one.  The entries are the table's slots (open
 * addressing, linear probing, at most half full): a host's slot is
 * known from its hash alone, so endpoints_prefetch() fetches it while
 * the rules work, with no pointer to follow first, and 10,000 entries
 * take consecutive pages instead of 10,000 scattered ones.  The row (r;
 * NULL: an empty slot) is read at a flush, a new channel or OS, a
 * protection event, a day's turn, and for a host id over EP_HEAD bytes
 * (its tail); its last_seen, last_event, day and day_events are the
 * entry's as of the last flush (sync_row()).
 */
#define EP_HEAD		16	/* bytes of the host held in the entry */
#define EP_CHANS	32	/* channels known by a bit in an entry */
#define EP_DIRTY	0x01	/* in ep->dirty */
#define EP_OS		0x02	/* r->os known */
#define EP_SILENT	0x04	/* r->silent_at set */
#define EP_ROW		0x08	/* more than the times and counts changed
				   since the last commit: written whole */

struct ep_entry {
	uint32_t		 tag;		/* the hash's upper half */
	uint16_t		 agency;	/* index in ep->agencies */
	uint8_t			 host_len;
	uint8_t			 flags;
	uint32_t		 chans;		/* bit b: ep->chan[b] is in
						   r->channels */
	int32_t			 day;
	struct store_endpoint	*r;		/* the row; NULL an empty slot */
	int64_t			 last_seen;
	int64_t			 last_event;
	uint64_t		 day_events;
	char			 head[EP_HEAD];	/* host[0 .. EP_HEAD) */
};
_Static_assert(sizeof(struct ep_entry) == 64, "an entry is a cache line");
_Static_assert(STORE_EP_HOST_MAX <= UINT8_MAX, "host_len holds a host id");

/* A channel name interned: an entry knows it by a bit. */
struct ep_chan {
	size_t		len;
	char		name[EP_CHAN_MAX];
};

struct ep_agency {
	char		code[64];
	size_t		n;		/* endpoints held */
	uint64_t	over_quota, too_long;	/* since start */
	uint64_t	over_pending, long_pending;	/* not yet written */
	uint64_t	over_flushed, long_flushed;	/* written, uncommitted */
};

struct endpoints {
	struct store_endpoint_conf conf;
	struct soc_hash_key	 key;
	struct ep_entry		*slots;		/* nslots, a power of 2 */
	size_t			 nslots, count;
	struct ep_agency	*agencies;
	size_t			 nagencies, cap_agencies;
	size_t			 last_agency;	/* cache: batches are per sensor */
	uint32_t		*dirty;		/* slots changed since the
						   last commit */
	size_t			 ndirty;	/* room for nslots */
	struct ep_chan		 chan[EP_CHANS];
	size_t			 nchan, chan_hit;
	const struct store_endpoint **out;	/* a flush's rows */
	unsigned char		*full;		/* ... written whole */
	size_t			 nout, cap_out;
	/* endpoints_prefetch()'s work for the event it was given */
	struct {
		const struct soc_event	*ev;
		const char		*agency;
		int64_t			 ts;
		int			 r;	/* host_of() */
		size_t			 ai;
		uint64_t		 h;
		char			 id[STORE_EP_HOST_MAX + 1];
	}			 pend;
	uint64_t		 silent_raised;
	int64_t			 flushed_ms;	/* mono ms of the last flush */
	int64_t			 warned;	/* mono ms of the last quota warning */
	int64_t			 moved_seq;	/* the last merger's move applied */
};

static int	rekey_merged(struct endpoints *, struct store *);

/* n empty slots, aligned to their 64 bytes; NULL out of memory. */
static struct ep_entry *
slots_new(size_t n)
{
	struct ep_entry *t;
	size_t len, huge = 2 << 20;

	if (n > SIZE_MAX / sizeof(*t) - huge)
		return NULL;
	len = n * sizeof(*t);
	/* 2 MiB pages where the kernel gives them: 10,000 hosts in turn
	 * then miss the TLB on one page, not 512 */
	if (len >= huge) {
		len = (len + huge - 1) & ~(huge - 1);
		if ((t = aligned_alloc(huge, len)) != NULL)
			(void)madvise(t, len, MADV_HUGEPAGE);
	} else
		t = aligned_alloc(64, len);
	if (t == NULL)
		return NULL;
	memset(t, 0, len);
	return t;
}

struct endpoints *
endpoints_new(const struct store_endpoint_conf *c)
{
	struct endpoints *ep;

	if ((ep = calloc(1, sizeof(*ep))) == NULL)
		return NULL;
	ep->conf = *c;
	soc_hash_seed(&ep->key);
	ep->nslots = 1024;
	if ((ep->slots = slots_new(ep->nslots)) == NULL ||
	    (ep->dirty = calloc(ep->nslots, sizeof(*ep->dirty))) == NULL) {
		free(ep->slots);
		free(ep);
		return NULL;
	}
	ep->last_agency = (size_t)-1;
	return ep;
}

void
endpoints_free(struct endpoints *ep)
{
	size_t i;

	if (ep == NULL)
		return;
	for (i = 0; i < ep->nslots; i++)
		free(ep->slots[i].r);
	free(ep->slots);
	free(ep->dirty);
	free(ep->agencies);
	free(ep->out);
	free(ep->full);
	free(ep);
}

void
endpoints_stats(const struct endpoints *ep, struct endpoints_stats *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->endpoints = ep->count;
	s->silent_raised = ep->silent_raised;
	for (i = 0; i < ep->nagencies; i++) {
		s->over_quota += ep->agencies[i].over_quota;
		s->too_long += ep->agencies[i].too_long;
	}
}

/* The agency's index, added on first sight; (size_t)-1 out of memory. */
static size_t
agency_index(struct endpoints *ep, const char *code)
{
	struct ep_agency *a;
	size_t i, ncap;

	if (ep->last_agency < ep->nagencies &&
	    strcmp(ep->agencies[ep->last_agency].code, code) == 0)
		return ep->last_agency;
	for (i = 0; i < ep->nagencies; i++)
		if (strcmp(ep->agencies[i].code, code) == 0)
			return ep->last_agency = i;
	if (ep->nagencies > UINT16_MAX)
		return (size_t)-1;	/* an entry's agency is 16 bits */
	if (ep->nagencies == ep->cap_agencies) {
		ncap = ep->cap_agencies ? ep->cap_agencies * 2 : 16;
		if ((a = reallocarray(ep->agencies, ncap, sizeof(*a))) == NULL)
			return (size_t)-1;
		ep->agencies = a;
		ep->cap_agencies = ncap;
	}
	a = &ep->agencies[ep->nagencies];
	memset(a, 0, sizeof(*a));
	snprintf(a->code, sizeof(a->code), "%s", code);
	return ep->last_agency = ep->nagencies++;
}

/*
 * The host's hash, the agency mixed in (the same name in two agencies
 * takes two chains); keyed, as the names are chosen by whoever writes
 * the logs.
 */
static uint64_t
entry_hash(const struct endpoints *ep, size_t ai, const char *host,
    size_t n)
{
	return soc_hash(&ep->key, host, n) + (uint64_t)ai * 0x9e3779b97f4a7c15ULL;
}

/* The row's hot fields as the entry holds them. */
static void
sync_row(struct ep_entry *x)
{
	x->r->last_seen = x->last_seen;
	x->r->last_event = x->last_event;
	x->r->day = x->day;	/* (int32: days since 1970) */
	x->r->day_events = x->day_events;
}

/* The entry's hot fields from its row (loaded, or merged into). */
static void
sync_hot(struct ep_entry *x)
{
	x->last_seen = x->r->last_seen;
	x->last_event = x->r->last_event;
	x->day = (int32_t)x->r->day;
	x->day_events = x->r->day_events;
	x->flags = (uint8_t)((x->flags & EP_DIRTY) |
	    (x->r->os[0] != '\0' ? EP_OS : 0) |
	    (x->r->silent_at != 0 ? EP_SILENT : 0));
}

/* The dirty slots again from the marks (the slots moved). */
static void
relist(struct endpoints *ep)
{
	size_t i;

	ep->ndirty = 0;
	for (i = 0; i < ep->nslots; i++)
		if (ep->slots[i].r != NULL && (ep->slots[i].flags & EP_DIRTY))
			ep->dirty[ep->ndirty++] = (uint32_t)i;
}

/* n bytes alike: the short compares of every event, inline (a call to
 * memcmp costs more than the bytes). */
static inline int
same(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* The slot of (ai, host) or the empty one where it would go. */
static struct ep_entry *
probe(struct endpoints *ep, size_t ai, const char *host, size_t n, uint64_t h)
{
	struct ep_entry *x;
	size_t i = h & (ep->nslots - 1), k = n < EP_HEAD ? n : EP_HEAD;

	for (;; i = (i + 1) & (ep->nslots - 1)) {
		x = &ep->slots[i];
		if (x->r == NULL || (x->tag == (uint32_t)(h >> 32) &&
		    x->agency == ai &&
		    x->host_len == n && same(x->head, host, k) &&
		    (n <= EP_HEAD || memcmp(x->r->host + EP_HEAD,
		    host + EP_HEAD, n - EP_HEAD) == 0)))
			return x;
	}
}

static struct ep_entry *
find(struct endpoints *ep, size_t ai, const char *host, size_t n, uint64_t h)
{
	struct ep_entry *x = probe(ep, ai, host, n, h);

	return x->r != NULL ? x : NULL;
}

/* An entry moved into the table (its empty slot by hash and host). */
static struct ep_entry *
place(struct endpoints *ep, const struct ep_entry *o)
{
	uint64_t h = entry_hash(ep, o->agency, o->r->host, o->host_len);
	struct ep_entry *x = probe(ep, o->agency, o->r->host, o->host_len, h);

	*x = *o;
	return x;
}

/* The room for every slot's index in the dirty list; -1 out of memory. */
static int
dirty_room(struct endpoints *ep, size_t n)
{
	uint32_t *d;

	if ((d = reallocarray(ep->dirty, n, sizeof(*d))) == NULL)
		return -1;
	ep->dirty = d;
	return 0;
}

/* Twice the slots (the table at most half full); -1 out of memory. */
static int
grow(struct endpoints *ep)
{
	struct ep_entry *old = ep->slots, *nt = NULL;
	size_t n = ep->nslots, i;

	if (n * 2 > UINT32_MAX || (nt = slots_new(n * 2)) == NULL ||
	    dirty_room(ep, n * 2) == -1) {
		free(nt);
		return -1;
	}
	ep->slots = nt;
	ep->nslots = n * 2;
	for (i = 0; i < n; i++)
		if (old[i].r != NULL)
			(void)place(ep, &old[i]);
	free(old);
	relist(ep);
	return 0;
}

static struct ep_entry *
insert(struct endpoints *ep, size_t ai, const char *host, size_t n,
    uint64_t h)
{
	struct ep_entry *x;

	if (n > STORE_EP_HOST_MAX)
		return NULL;
	if ((ep->count + 1) * 2 > ep->nslots && grow(ep) == -1)
		return NULL;
	x = probe(ep, ai, host, n, h);
	memset(x, 0, sizeof(*x));
	if ((x->r = calloc(1, sizeof(*x->r))) == NULL)
		return NULL;
	snprintf(x->r->agency, sizeof(x->r->agency), "%s",
	    ep->agencies[ai].code);
	memcpy(x->r->host, host, n);
	x->r->host[n] = '\0';
	memcpy(x->head, host, n < EP_HEAD ? n : EP_HEAD);
	x->host_len = (uint8_t)n;
	x->agency = (uint16_t)ai;
	x->tag = (uint32_t)(h >> 32);
	x->flags = EP_ROW;
	ep->agencies[ai].n++;
	ep->count++;
	return x;
}

/* On the dirty list, once: a flush walks only what changed. */
static void
mark(struct endpoints *ep, struct ep_entry *x)
{
	if (x->flags & EP_DIRTY)
		return;
	x->flags |= EP_DIRTY;
	ep->dirty[ep->ndirty++] = (uint32_t)(x - ep->slots);
}

static int
load_one(void *arg, const struct store_endpoint *e)
{
	struct endpoints *ep = arg;
	struct ep_entry *x;
	size_t ai, n;
	uint64_t h;

	if ((ai = agency_index(ep, e->agency)) == (size_t)-1)
		return -1;
	n = strlen(e->host);
	h = entry_hash(ep, ai, e->host, n);
	if ((x = find(ep, ai, e->host, n, h)) == NULL &&
	    (x = insert(ep, ai, e->host, n, h)) == NULL)
		return -1;
	*x->r = *e;
	sync_hot(x);
	return 0;
}

int
endpoints_load(struct endpoints *ep, struct store *st)
{
	/* the rows read are after every merger so far */
	if (store_endpoint_moves_last(st, &ep->moved_seq) == -1)
		return -1;
	return store_endpoint_foreach(st, NULL, 0, NULL, load_one, ep);
}

/* One string field into id, lower-cased: its length, 0 absent or
 * empty, -1 long. */
static int
host_field(const struct soc_event *ev, int f, char *id, size_t idlen)
{
	const char *s;
	size_t n, i;

	if ((s = soc_event_str(ev, f, &n)) == NULL || n == 0)
		return 0;
	if (n > STORE_EP_HOST_MAX || n >= idlen)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		/* control bytes would break the tables that show it */
		id[i] = c < 0x20 || c == 0x7f ? '?' :
		    c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : (char)c;
	}
	id[n] = '\0';
	return (int)n;
}

static int
str_is(const struct soc_event *ev, int f, const char *lit)
{
	const char *s;
	size_t n;

	return (s = soc_event_str(ev, f, &n)) != NULL && n == strlen(lit) &&
	    memcmp(s, lit, n) == 0;
}

static int
str_prefix(const struct soc_event *ev, int f, const char *lit)
{
	const char *s;
	size_t n;

	return (s = soc_event_str(ev, f, &n)) != NULL && n >= strlen(lit) &&
	    memcmp(s, lit, strlen(lit)) == 0;
}

/* endpoints_host_of(), the id's length for 1. */
static int
host_of(const struct soc_event *ev, const char *sensor, char *id,
    size_t idlen)
{
	static const int fields[] = { SOC_F_HOST_ID, SOC_F_WINLOG_COMPUTER,
	    SOC_F_HOST_NAME, SOC_F_HOST_HOSTNAME };
	size_t i, n;
	int r;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if ((r = host_field(ev, fields[i], id, idlen)) != 0)
			return r;
	/* a local audit.log: the sensor's own host */
	if (sensor != NULL && str_prefix(ev, SOC_F_EVENT_DATASET, "log.auditd")) {
		if ((n = strlen(sensor)) == 0 || n > STORE_EP_HOST_MAX ||
		    n >= idlen)
			return n == 0 ? 0 : -1;
		for (i = 0; i <= n; i++)
			id[i] = sensor[i] >= 'A' && sensor[i] <= 'Z' ?
			    (char)(sensor[i] - 'A' + 'a') : sensor[i];
		return (int)n;
	}
	return 0;
}

int
endpoints_host_of(const struct soc_event *ev, const char *sensor, char *id,
    size_t idlen)
{
	int r = host_of(ev, sensor, id, idlen);

	return r > 0 ? 1 : r;
}

/* Adds a channel to the bounded, comma-separated list if it fits. */
static int
add_channel(struct store_endpoint *e, const char *s, size_t n)
{
	char c[EP_CHAN_MAX + 1];
	size_t i, have = strlen(e->channels);
	const char *p;

	if (n == 0 || n > EP_CHAN_MAX)
		return 0;
	for (i = 0; i < n; i++)
		c[i] = s[i] == ',' || (unsigned char)s[i] < 0x20 ? '_' : s[i];
	c[n] = '\0';
	for (p = e->channels; *p != '\0'; p += strcspn(p, ",") + (p[strcspn(p,
	    ",")] == ',')) {
		if (strncmp(p, c, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 0;
	}
	if (have + (have > 0) + n + 1 > sizeof(e->channels))
		return 0;		/* full: the first ones are kept */
	snprintf(e->channels + have, sizeof(e->channels) - have, "%s%s",
	    have > 0 ? "," : "", c);
	return 1;
}

static long
event_id(const struct soc_event *ev)
{
	char tmp[16];

	if (soc_event_text(ev, SOC_F_WINLOG_EVENT_ID, tmp, sizeof(tmp)) <= 0)
		return -1;
	return strtol(tmp, NULL, 10);
}

/* A dynamic EventData value by name, "" when absent. */
static void
event_data(const struct soc_event *ev, const char *name, char *out,
    size_t outlen)
{
	char full[SOC_F_DYN_NAME_MAX + 1];
	int f;

	out[0] = '\0';
	snprintf(full, sizeof(full), "%s%s", SOC_F_DYN_EVENT_DATA, name);
	if ((f = soc_field_lookup(full, strlen(full))) != SOC_F_NONE)
		(void)soc_event_text(ev, f, out, outlen);
}

/*
 * Healthy and off compare by the events' times; of two with one stamp
 * (logs stamped to the second), the one received later wins: its time
 * is taken 1 ns later.
 */
static void
healthy(struct store_endpoint *e, const char *engine, int64_t t,
    const char *why)
{
	snprintf(e->engine, sizeof(e->engine), "%s", engine);
	if (t == e->off_at)
		t++;
	if (t >= e->healthy_at) {
		e->healthy_at = t;
		if (t > e->off_at)
			snprintf(e->av_state, sizeof(e->av_state), "%s", why);
	}
}

static void
turned_off(struct store_endpoint *e, const char *engine, int64_t t,
    const char *why)
{
	snprintf(e->engine, sizeof(e->engine), "%s", engine);
	if (t == e->healthy_at)
		t++;
	if (t >= e->off_at) {
		e->off_at = t;
		if (t > e->healthy_at)
			snprintf(e->av_state, sizeof(e->av_state), "%s", why);
	}
}

static void
detected(struct store_endpoint *e, const char *engine, int64_t t,
    const char *name)
{
	snprintf(e->engine, sizeof(e->engine), "%s", engine);
	if (t >= e->detect_at) {
		e->detect_at = t;
		snprintf(e->detect_name, sizeof(e->detect_name), "%s",
		    name[0] != '\0' ? name : "?");
	}
}

static int
msg_has(const struct soc_event *ev, const char *lit)
{
	const char *s;
	size_t n, k = strlen(lit), i;

	if ((s = soc_event_str(ev, SOC_F_MESSAGE, &n)) == NULL)
		return 0;
	for (i = 0; i + k <= n; i++)
		if (memcmp(s + i, lit, k) == 0)
			return 1;
	return 0;
}

/*
 * The antivirus signature age a Defender 1151 health report carries, in
 * days ("AV signature age"; older clients spell it out).  Defender
 * writes 4294967295 when it has none: -1 then, as when absent.
 */
static long
sig_age_days(const struct soc_event *ev)
{
	static const char *const names[] = { "AV signature age",
	    "AV Signature Age", "Antivirus signature age",
	    "Antivirus Signature Age", "AV security intelligence age",
	    "Last security intelligence age" };
	char v[24], *end;
	size_t i;
	long d;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		event_data(ev, names[i], v, sizeof(v));
		if (v[0] == '\0')
			continue;
		d = strtol(v, &end, 10);
		return end != v && *end == '\0' && d >= 0 && d <= 36500 ?
		    d : -1;
	}
	return -1;
}

/*
 * The antivirus signature (security intelligence) version an event
 * carries, into v ("" none): Defender names it per event and per client
 * version (Winlogbeat keeps the EventData names: winlog.event_data.*).
 * 1116/1117 detections carry "AV: 1.297.1333.0, AS: ..., NIS: ..." (the
 * AV part is kept); a 5007 configuration change of the signature
 * registry value carries "...\AVSignatureVersion = 1.2.3.4".  Only
 * digits and dots, at most 31 bytes; anything else is not a version.
 */
static void
sig_version(const struct soc_event *ev, long id, char *v, size_t vlen)
{
	static const char *const health[] = { "AV signature version",
	    "AV security intelligence version",
	    "Antivirus security intelligence version" };
	static const char *const update[] = { "Current Signature Version",
	    "Current security intelligence Version",
	    "Current Security intelligence Version" };
	static const char *const detect[] = { "Signature Version",
	    "Security intelligence Version" };
	static const char *const config[] = { "New Value" };
	static const char reg[] = "\\AVSignatureVersion = ";
	const char *const *names;
	char full[SOC_F_DYN_NAME_MAX + 1];
	const char *p = NULL, *q;
	size_t i, n = 0, k, nn;
	int f;

	v[0] = '\0';
	switch (id) {
	case 1150: case 1151: names = health; nn = 3; break;
	case 2000: names = update; nn = 3; break;
	case 1116: case 1117: names = detect; nn = 2; break;
	case 5007: names = config; nn = 1; break;
	default: return;
	}
	/* the value in the event itself, whole (a copy could be cut) */
	for (i = 0; i < nn && p == NULL; i++) {
		snprintf(full, sizeof(full), "%s%s", SOC_F_DYN_EVENT_DATA,
		    names[i]);
		if ((f = soc_field_lookup(full, strlen(full))) != SOC_F_NONE)
			p = soc_event_str(ev, f, &n);
	}
	if (p == NULL)
		return;
	if (id == 5007) {
		if ((q = memmem(p, n, reg, sizeof(reg) - 1)) == NULL)
			return;
		n -= (size_t)(q - p) + sizeof(reg) - 1;
		p = q + sizeof(reg) - 1;
	} else if (n >= 4 && memcmp(p, "AV: ", 4) == 0) {
		p += 4;
		n -= 4;
	}
	for (k = 0; k < n && ((p[k] >= '0' && p[k] <= '9') || p[k] == '.'); k++)
		;
	if (k == 0 || k >= vlen || k > 31 || (k < n && p[k] != ','))
		return;
	memcpy(v, p, k);
	v[k] = '\0';
}

/* The version the latest report carried (by the events' times). */
static void
sig_version_seen(struct store_endpoint *e, const struct soc_event *ev, long id)
{
	char v[sizeof(e->sig_version)];

	sig_version(ev, id, v, sizeof(v));
	if (v[0] != '\0' && ev->ts >= e->sig_version_at) {
		e->sig_version_at = ev->ts;
		memcpy(e->sig_version, v, sizeof(v));
	}
}

/* Signatures known current at t (only ever moves later). */
static void
sig_current(struct store_endpoint *e, int64_t t)
{
	if (t > e->sig_at)
		e->sig_at = t;
}

/* The protection state an event reports, if it reports one: 1 an
 * antivirus event (the row may have changed), 0 another. */
static int
protection(struct store_endpoint *e, const struct soc_event *ev,
    const char *ch, size_t nch, const char *ds, size_t nds)
{
	static const char defender[] =
	    "Microsoft-Windows-Windows Defender/Operational";
	char name[96];
	int64_t t = ev->ts;
	long age, id;

	/* the channel and dataset as endpoints_event() read them */
	if ((ch != NULL && nch == sizeof(defender) - 1 &&
	    memcmp(ch, defender, nch) == 0) ||
	    str_is(ev, SOC_F_WINLOG_PROVIDER,
	    "Microsoft-Windows-Windows Defender")) {
		id = event_id(ev);
		sig_version_seen(e, ev, id);
		switch (id) {
		case 1116:
		case 1117:
			event_data(ev, "Threat Name", name, sizeof(name));
			if (name[0] == '\0')
				(void)soc_event_text(ev, SOC_F_THREAT_SW_NAME,
				    name, sizeof(name));
			detected(e, "defender", t, name);
			break;
		case 5001:
			turned_off(e, "defender", t, "real-time protection off");
			break;
		case 5010:
		case 5012:
			turned_off(e, "defender", t, "scanning off");
			break;
		case 2001:
		case 2003:
			turned_off(e, "defender", t, "updates failing");
			break;
		case 1151:	/* health report: its signature age */
			if ((age = sig_age_days(ev)) >= 0)
				sig_current(e, t - age * 86400 * SOC_NS);
			healthy(e, "defender", t, "healthy");
			break;
		case 2000:	/* signatures updated: current now */
			sig_current(e, t);
			healthy(e, "defender", t, "healthy");
			break;
		case 1000:
		case 1001:
		case 1150:
		case 5000:
		case 5009:
		case 5011:
			healthy(e, "defender", t, "healthy");
			break;
		}
		return 1;
	}
	if (ds == NULL || nds != 10 || !same(ds, "log.clamav", 10))
		return 0;
	if (str_is(ev, SOC_F_EVENT_ACTION, "malware_detected")) {
		name[0] = '\0';
		(void)soc_event_text(ev, SOC_F_THREAT_SW_NAME, name, sizeof(name));
		detected(e, "clamav", t, name);
	} else if (str_is(ev, SOC_F_EVENT_ACTION, "av_update_failed"))
		turned_off(e, "clamav", t, "updates failing");
	else if (msg_has(ev, "virus database is older than"))
		/* clamd: "*** The virus database is older than 7 days! ***" */
		turned_off(e, "clamav", t, "signatures outdated");
	else if (msg_has(ev, "Database updated") || msg_has(ev, "up-to-date") ||
	    msg_has(ev, "up to date") || msg_has(ev, "Database correctly reloaded")) {
		/* freshclam or clamd: the database is current now (its age
		 * counts from here, endpoints.signature_max_age) */
		sig_current(e, t);
		healthy(e, "clamav", t, "healthy");
	} else if (msg_has(ev, "Database status OK"))
		healthy(e, "clamav", t, "healthy");
	return 1;
}

static void
warn_quota(struct endpoints *ep, const char *agency)
{
	int64_t now = soc_mono_ms();

	if (ep->warned != 0 && now - ep->warned < 60000)
		return;
	ep->warned = now;
	log_warnx("agency %s: endpoints.max_per_agency (%lld) reached; new"
	    " hosts are counted, not added (`socctl endpoints` shows the"
	    " count): a flood of forged host names, or raise the bound",
	    agency, (long long)ep->conf.max_per_agency);
}

/*
 * The bit of a channel name (interned on first sight, the first
 * EP_CHANS), or -1: then the row's list is looked at each time.
 */
static int
chan_bit(struct endpoints *ep, const char *s, size_t n)
{
	struct ep_chan *c = &ep->chan[ep->chan_hit];
	size_t i;

	if (ep->chan_hit < ep->nchan && c->len == n && same(c->name, s, n))
		return (int)ep->chan_hit;
	for (i = 0; i < ep->nchan; i++)
		if (ep->chan[i].len == n && same(ep->chan[i].name, s, n))
			return (int)(ep->chan_hit = i);
	if (ep->nchan == EP_CHANS || n == 0 || n > EP_CHAN_MAX)
		return -1;
	c = &ep->chan[ep->nchan];
	memcpy(c->name, s, n);
	c->len = n;
	return (int)(ep->chan_hit = ep->nchan++);
}

/*
 * The host's id, agency and hash into ep->pend; 0, or -1 when the event
 * makes no entry (no host, the agency out of memory).
 */
static int
pend_event(struct endpoints *ep, const char *agency, const char *sensor,
    const struct soc_event *ev)
{
	ep->pend.ev = ev;
	ep->pend.agency = agency;
	ep->pend.ts = ev->ts;
	if ((ep->pend.r = host_of(ev, sensor, ep->pend.id,
	    sizeof(ep->pend.id))) == 0 ||
	    (ep->pend.ai = agency_index(ep, agency)) == (size_t)-1) {
		ep->pend.r = 0;
		return -1;
	}
	if (ep->pend.r > 0)
		ep->pend.h = entry_hash(ep, ep->pend.ai, ep->pend.id,
		    (size_t)ep->pend.r);
	return 0;
}

/*
 * Among 10,000 hosts the entry is in no cache: fetched here, while the
 * rules and the archive work on the event, it is there when
 * endpoints_event() (with the same arguments) comes.
 */
void
endpoints_prefetch(struct endpoints *ep, const char *agency,
    const char *sensor, const struct soc_event *ev)
{
	const struct ep_entry *x;

	if (pend_event(ep, agency, sensor, ev) == -1 || ep->pend.r < 0)
		return;
	x = &ep->slots[ep->pend.h & (ep->nslots - 1)];
	__builtin_prefetch(x, 1);
	/* a longer id is compared in the row too: its line, the slot's
	 * pointer read now (a wait here instead of in the lookup) */
	if (ep->pend.r > EP_HEAD && x->r != NULL)
		__builtin_prefetch(x->r->host + EP_HEAD);
}

void
endpoints_event(struct endpoints *ep, const char *agency, const char *sensor,
    const struct soc_event *ev, int64_t now_ns)
{
	struct ep_entry *x;
	struct store_endpoint *e;
	struct ep_agency *a;
	const char *s, *id, *ch, *ds;
	size_t ai, n, nch = 0, nds = 0;
	uint64_t h;
	int64_t day;
	int r, b;

	/* what endpoints_prefetch() found for this event, else now */
	if ((ep->pend.ev != ev || ep->pend.agency != agency ||
	    ep->pend.ts != ev->ts) &&
	    pend_event(ep, agency, sensor, ev) == -1) {
		ep->pend.ev = NULL;
		return;
	}
	ep->pend.ev = NULL;
	if ((r = ep->pend.r) == 0)
		return;
	id = ep->pend.id;
	ai = ep->pend.ai;
	h = ep->pend.h;
	a = &ep->agencies[ai];
	if (r == -1) {
		a->too_long++;
		a->long_pending++;
		return;
	}
	if ((x = find(ep, ai, id, (size_t)r, h)) == NULL) {
		if ((int64_t)a->n >= ep->conf.max_per_agency) {
			a->over_quota++;
			a->over_pending++;
			warn_quota(ep, agency);
			return;
		}
		if ((x = insert(ep, ai, id, (size_t)r, h)) == NULL)
			return;
		x->r->first_seen = now_ns;
		log_debug("agency %s: new endpoint %s", agency, id);
	}
	/* the hot lines first; the row (e) only when something in it moves */
	e = x->r;
	if (now_ns > x->last_seen)
		x->last_seen = now_ns;
	if (ev->ts > x->last_event)
		x->last_event = ev->ts;
	day = now_ns / EP_DAY_NS;
	if (day != x->day) {
		e->prev_events = day == x->day + 1 ? x->day_events : 0;
		x->day_events = 0;
		x->day = (int32_t)day;
	}
	x->day_events++;
	ch = soc_event_str(ev, SOC_F_WINLOG_CHANNEL, &nch);
	ds = soc_event_str(ev, SOC_F_EVENT_DATASET, &nds);
	if ((s = soc_event_str(ev, SOC_F_HOST_OS_FAMILY, &n)) != NULL &&
	    n > 0 && n < sizeof(e->os)) {
		if (strncmp(e->os, s, n) != 0 || e->os[n] != '\0') {
			memcpy(e->os, s, n);
			e->os[n] = '\0';
			x->flags |= EP_ROW;
		}
		x->flags |= EP_OS;
	} else if (!(x->flags & EP_OS) && ch != NULL) {
		snprintf(e->os, sizeof(e->os), "windows");
		x->flags |= EP_OS | EP_ROW;
	} else if (!(x->flags & EP_OS) && ds != NULL && nds >= 10 &&
	    same(ds, "log.auditd", 10)) {
		snprintf(e->os, sizeof(e->os), "linux");
		x->flags |= EP_OS | EP_ROW;
	}
	if ((s = ch) != NULL || (s = ds) != NULL) {
		n = s == ch ? nch : nds;
		b = chan_bit(ep, s, n);
		if (b < 0 || !(x->chans & (1u << b))) {
			if (add_channel(e, s, n))
				x->flags |= EP_ROW;
			if (b >= 0)
				x->chans |= 1u << b;
		}
	}
	if (x->flags & EP_SILENT) {
		log_info("agency %s: endpoint %s reports again", agency, id);
		e->silent_at = 0;	/* re-armed */
		x->flags |= EP_ROW;
		x->flags &= ~EP_SILENT;
	}
	if (protection(e, ev, ch, nch, ds, nds))
		x->flags |= EP_ROW;
	mark(ep, x);
}

/* Anything changed since the last commit (an entry or a refusal count). */
static int
changed(const struct endpoints *ep)
{
	size_t i;

	if (ep->ndirty > 0)
		return 1;
	for (i = 0; i < ep->nagencies; i++)
		if (ep->agencies[i].over_pending > 0 ||
		    ep->agencies[i].long_pending > 0)
			return 1;
	return 0;
}

int
endpoints_due(const struct endpoints *ep, int64_t mono_ms)
{
	return mono_ms - ep->flushed_ms >= EP_FLUSH_MS && changed(ep);
}

int
endpoints_flush(struct endpoints *ep, struct store *st)
{
	const struct store_endpoint **no;
	unsigned char *nf;
	struct ep_entry *x;
	struct ep_agency *a;
	size_t i, ncap;

	ep->flushed_ms = soc_mono_ms();
	ep->nout = 0;
	/* an agency merged since the last flush: its entries are its
	 * successor's before anything is written (same transaction) */
	if (rekey_merged(ep, st) == -1)
		return -1;
	if (ep->ndirty > ep->cap_out) {
		ncap = ep->ndirty + 256;
		if ((no = reallocarray(ep->out, ncap, sizeof(*no))) == NULL)
			return -1;
		ep->out = no;
		if ((nf = realloc(ep->full, ncap)) == NULL)
			return -1;
		ep->full = nf;
		ep->cap_out = ncap;
	}
	for (i = 0; i < ep->ndirty; i++) {
		x = &ep->slots[ep->dirty[i]];
		sync_row(x);
		ep->full[ep->nout] = (x->flags & EP_ROW) != 0;
		ep->out[ep->nout++] = x->r;
	}
	if (store_endpoint_write(st, ep->out, ep->full, ep->nout) == -1)
		return -1;
	for (i = 0; i < ep->nagencies; i++) {
		a = &ep->agencies[i];
		if (store_endpoint_refused_add(st, a->code, a->over_pending,
		    a->long_pending) == -1)
			return -1;
		a->over_flushed = a->over_pending;
		a->long_flushed = a->long_pending;
	}
	return 0;
}

void
endpoints_committed(struct endpoints *ep, int ok)
{
	struct ep_agency *a;
	size_t i;

	for (i = 0; i < ep->nagencies; i++) {
		a = &ep->agencies[i];
		if (ok) {
			a->over_pending -= a->over_flushed;
			a->long_pending -= a->long_flushed;
		}
		a->over_flushed = a->long_flushed = 0;
	}
	/* nothing changes between a flush and its commit (both at a group's
	 * end, or in one tick): what was written is the whole list */
	if (ok) {
		for (i = 0; i < ep->ndirty; i++)
			ep->slots[ep->dirty[i]].flags &= ~(EP_DIRTY | EP_ROW);
		ep->ndirty = 0;
	}
	ep->nout = 0;
}

int
endpoints_sync(struct endpoints *ep, struct store *st)
{
	int rc;

	if (!changed(ep))
		return 0;
	if (store_begin(st) == -1)
		return -1;
	if ((rc = endpoints_flush(ep, st)) == 0)
		rc = store_commit(st);
	if (rc == -1) {
		log_warnx("endpoints not written (%s); kept for the next"
		    " attempt", store_errmsg(st));
		store_rollback(st);
	}
	endpoints_committed(ep, rc == 0);
	return rc;
}

/* soc-endpoint-silent for one endpoint, in the open transaction. */
static int
raise_silent(struct endpoints *ep, struct store *st, struct store_endpoint *e,
    int64_t now_ns)
{
	struct store_hit h;
	struct soc_sbuf ev;
	char key[STORE_EP_HOST_MAX + 16], msg[STORE_EP_HOST_MAX + 256], age[32];
	int64_t id, silent = now_ns - e->last_seen;
	int created, rc;

	snprintf(age, sizeof(age), "%lldh%02lldm",
	    (long long)(silent / (3600 * SOC_NS)),
	    (long long)(silent / (60 * SOC_NS) % 60));
	snprintf(msg, sizeof(msg), "endpoint %s of agency %s has sent no event"
	    " for %s (endpoints.stale_after): switched off, its agent or log"
	    " forwarding stopped, or taken off the network", e->host, e->agency,
	    age);
	soc_sbuf_init(&ev);
	soc_sbuf_adds(&ev, "{\"host\":{\"id\":");
	soc_sbuf_json_str(&ev, e->host, strlen(e->host));
	soc_sbuf_adds(&ev, ",\"os\":{\"family\":");
	soc_sbuf_json_str(&ev, e->os, strlen(e->os));
	soc_sbuf_adds(&ev, "}},\"organization\":{\"id\":");
	soc_sbuf_json_str(&ev, e->agency, strlen(e->agency));
	soc_sbuf_adds(&ev, "},\"message\":");
	soc_sbuf_json_str(&ev, msg, strlen(msg));
	soc_sbuf_add(&ev, "}", 2);
	snprintf(key, sizeof(key), "host.id=%s", e->host);
	h = (struct store_hit){
		.rule_id = ENDPOINT_SILENT_RULE,
		.rule_title = "Endpoint silent (no event for endpoints.stale_after)",
		.rule_level = "medium",
		.rule_author = "soc-correlator",
		.rule_tags = "",
		.severity = 2,
		.agency = e->agency,
		.sensor = "correlator",
		.group_key = key,
		.first_ts = e->last_seen,
		.last_ts = now_ns,
		.count = 1,
		.evidence_json = ev.oom ? NULL : ev.data,
		.system_code = "",
		.system_level = 0,
	};
	rc = store_incident_hit(st, &h, &id, &created);
	soc_sbuf_free(&ev);
	if (rc == 0) {
		ep->silent_raised++;
		log_info("%s", msg);
	}
	return rc;
}

/*
 * One entry of a merged agency folded into its successor's entry for the
 * same host, as store_endpoint_merge() folds their rows: both hold the
 * whole history this correlator saw (loaded at start, then every event),
 * so the sum is what the database holds after the merger plus what was
 * not written yet.
 */
static void
fold(struct ep_entry *y, struct ep_entry *x)
{
	struct store_endpoint *d = y->r, *o = x->r;

	sync_row(x);
	sync_row(y);
	if ((o->last_seen > d->last_seen && o->os[0] != '\0') ||
	    d->os[0] == '\0')
		memcpy(d->os, o->os, sizeof(d->os));
	if (strlen(o->channels) > strlen(d->channels))
		memcpy(d->channels, o->channels, sizeof(d->channels));
	if (d->first_seen == 0 || (o->first_seen != 0 &&
	    o->first_seen < d->first_seen))
		d->first_seen = o->first_seen;
	if (o->day == d->day) {
		d->day_events += o->day_events;
		d->prev_events += o->prev_events;
	} else if (o->day > d->day) {
		d->day = o->day;
		d->day_events = o->day_events;
		d->prev_events = o->prev_events;
	}
	if ((o->healthy_at > o->off_at ? o->healthy_at : o->off_at) >
	    (d->healthy_at > d->off_at ? d->healthy_at : d->off_at)) {
		memcpy(d->engine, o->engine, sizeof(d->engine));
		memcpy(d->av_state, o->av_state, sizeof(d->av_state));
	}
	if (o->healthy_at > d->healthy_at)
		d->healthy_at = o->healthy_at;
	if (o->off_at > d->off_at)
		d->off_at = o->off_at;
	if (o->detect_at > d->detect_at) {
		d->detect_at = o->detect_at;
		memcpy(d->detect_name, o->detect_name, sizeof(d->detect_name));
	}
	if (o->last_seen > d->last_seen)
		d->silent_at = o->silent_at;
	if (o->sig_at > d->sig_at)
		d->sig_at = o->sig_at;
	if (o->sig_version_at > d->sig_version_at) {
		d->sig_version_at = o->sig_version_at;
		memcpy(d->sig_version, o->sig_version, sizeof(d->sig_version));
	}
	if (o->last_seen > d->last_seen)
		d->last_seen = o->last_seen;
	if (o->last_event > d->last_event)
		d->last_event = o->last_event;
	sync_hot(y);
	y->chans = 0;		/* the list may be x's now */
}

/*
 * The agency's entries to agency "to" (index; (size_t)-1 drops them):
 * the table is built again, the moved entries last, each folded into
 * the successor's entry for the same host where there is one, else
 * placed under the successor; every moved entry is written at the next
 * flush.  -1 out of memory (nothing changed).
 */
static int
move_agency(struct endpoints *ep, size_t ai, size_t to)
{
	struct ep_entry *old = ep->slots, *x, *y;
	struct ep_agency *a = &ep->agencies[ai], *b;
	size_t n = ep->nslots, i;
	uint64_t h;

	if ((ep->slots = slots_new(n)) == NULL) {
		ep->slots = old;
		return -1;
	}
	ep->count -= a->n;
	a->n = 0;
	for (i = 0; i < n; i++)
		if (old[i].r != NULL && old[i].agency != ai)
			(void)place(ep, &old[i]);
	for (i = 0; i < n; i++) {
		x = &old[i];
		if (x->r == NULL || x->agency != ai)
			continue;
		if (to == (size_t)-1) {
			free(x->r);
			continue;
		}
		x->agency = (uint16_t)to;
		h = entry_hash(ep, to, x->r->host, x->host_len);
		x->tag = (uint32_t)(h >> 32);
		snprintf(x->r->agency, sizeof(x->r->agency), "%s",
		    ep->agencies[to].code);
		x->flags |= EP_DIRTY | EP_ROW;
		if ((y = find(ep, to, x->r->host, x->host_len, h)) != NULL) {
			fold(y, x);
			y->flags |= EP_DIRTY | EP_ROW;
			free(x->r);
			continue;
		}
		(void)place(ep, x);	/* room: as many entries as before */
		ep->count++;
		ep->agencies[to].n++;
	}
	free(old);
	relist(ep);
	if (to == (size_t)-1)
		goto out;
	b = &ep->agencies[to];
	b->over_quota += a->over_quota;
	b->too_long += a->too_long;
	b->over_pending += a->over_pending;
	b->long_pending += a->long_pending;
out:
	a->over_pending = a->long_pending = 0;
	a->over_flushed = a->long_flushed = 0;
	return 0;
}

/*
 * `socctl agency merge OLD --into NEW` moved OLD's rows to NEW in the
 * database (folding a host both held) and removed OLD, while this
 * correlator held OLD's entries, and perhaps NEW entries for hosts
 * that reported through the moved sensors since.  Writing them as they
 * are would bring OLD's rows back and overwrite NEW's merged rows with
 * what the correlator saw since the merger.  So before anything is
 * written (in the writing transaction, so no merger comes between),
 * the mergers logged since the last one applied (endpoint_moved, in
 * their order: a chain A -> B -> C, or OLD created again and merged
 * again, each step as it happened) move the entries held under their
 * OLD to their NEW, as the merger moved the rows.  An agency held that
 * no longer exists and that no merger moved (removed): its entries are
 * dropped unwritten.  0, or -1 (a database error, out of memory).
 */
struct rekey {
	struct endpoints	*ep;
	int64_t			 seq;
};

static int
rekey_one(void *arg, int64_t seq, const char *from, const char *into)
{
	struct rekey *k = arg;
	struct endpoints *ep = k->ep;
	size_t ai, to;

	for (ai = 0; ai < ep->nagencies; ai++)
		if (strcmp(ep->agencies[ai].code, from) == 0)
			break;
	if (ai < ep->nagencies && strcmp(from, into) != 0 &&
	    (ep->agencies[ai].n > 0 || ep->agencies[ai].over_pending > 0 ||
	    ep->agencies[ai].long_pending > 0)) {
		if ((to = agency_index(ep, into)) == (size_t)-1)
			return -1;
		log_info("agency %s was merged into %s: its %zu endpoints are"
		    " %s's", from, into, ep->agencies[ai].n, into);
		if (move_agency(ep, ai, to) == -1)
			return -1;	/* nothing moved: tried again */
	}
	k->seq = seq;
	return 0;
}

static int
rekey_merged(struct endpoints *ep, struct store *st)
{
	struct rekey k = { ep, ep->moved_seq };
	struct ep_agency *a;
	size_t ai;
	int rc;

	rc = store_endpoint_moves(st, ep->moved_seq, rekey_one, &k);
	ep->moved_seq = k.seq;	/* the moves applied, even on a failure */
	if (rc == -1)
		return -1;
	for (ai = 0; ai < ep->nagencies; ai++) {
		a = &ep->agencies[ai];
		if (a->n == 0 && a->over_pending == 0 && a->long_pending == 0)
			continue;
		if ((rc = store_agency_exists(st, a->code)) != 0) {
			if (rc == -1)
				return -1;
			continue;
		}
		log_info("agency %s no longer exists: its %zu endpoints"
		    " leave the memory unwritten", a->code, a->n);
		if (move_agency(ep, ai, (size_t)-1) == -1)
			return -1;
	}
	return 0;
}

int
endpoints_tick(struct endpoints *ep, struct store *st, int64_t now_ns)
{
	struct ep_entry *x;
	size_t i;
	int n = 0, failed = 0, rc;

	if (rekey_merged(ep, st) == -1)
		return -1;
	for (i = 0; i < ep->nslots; i++)
		if ((x = &ep->slots[i])->r != NULL &&
		    !(x->flags & EP_SILENT) && x->last_seen > 0 &&
		    now_ns - x->last_seen > ep->conf.stale_after_ns)
			n++;
	if (n == 0)
		return 0;
	if (store_begin(st) == -1)
		return -1;
	n = 0;
	for (i = 0; i < ep->nslots && !failed; i++) {
		if ((x = &ep->slots[i])->r == NULL ||
		    (x->flags & EP_SILENT) || x->last_seen <= 0 ||
		    now_ns - x->last_seen <= ep->conf.stale_after_ns)
			continue;
		sync_row(x);
		/* an agency merged away (`socctl agency merge`): its
		 * sensors moved, its old endpoints only go quiet */
		if ((rc = store_agency_exists(st, x->r->agency)) == 0) {
			x->r->silent_at = now_ns;
			x->flags |= EP_SILENT | EP_ROW;
			mark(ep, x);
		} else if (rc == -1 ||
		    raise_silent(ep, st, x->r, now_ns) == -1)
			failed = 1;
		else {
			x->r->silent_at = now_ns;
			x->flags |= EP_SILENT | EP_ROW;
			mark(ep, x);
			n++;
		}
	}
	if (failed || endpoints_flush(ep, st) == -1 || store_commit(st) == -1) {
		log_warnx("silent endpoints not recorded: %s", store_errmsg(st));
		store_rollback(st);
		endpoints_committed(ep, 0);
		/* raised again at the next tick */
		for (i = 0; i < ep->nslots; i++)
			if ((x = &ep->slots[i])->r != NULL &&
			    x->r->silent_at == now_ns) {
				x->r->silent_at = 0;
				x->flags &= ~EP_SILENT;
			}
		return -1;
	}
	endpoints_committed(ep, 1);
	return n;
}
