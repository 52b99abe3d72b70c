/*
 * The field registry and event accessors.  The registry is generated from
 * SOC_FIELDS in event.h; lookups by name go through a small open-addressing
 * hash built once, so the rule compiler and JSON reader never walk the
 * list (and names renamed under "soc." are still found under their old
 * spelling).  Setters copy strings into the event's inline buffer and never
 * allocate.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "soc/event.h"
#include "soc/fmt.h"
#include "soc/time.h"

static const struct {
	const char	*name;
	enum soc_ftype	 type;
} registry[SOC_F_COUNT] = {
#define SOC_X_REG(id, n, t) [SOC_F_##id] = { n, t },
	SOC_FIELDS(SOC_X_REG)
#undef SOC_X_REG
};

/* power of two, > 8 * SOC_F_COUNT: a name that is no field (most of a
 * Winlogbeat event's) meets an empty slot at once */
#define HASH_SLOTS 4096
_Static_assert(HASH_SLOTS > 8 * SOC_F_COUNT, "grow HASH_SLOTS");
_Static_assert(SOC_EVENT_BUFSZ + SOC_EVENT_RESERVE <= 65535,
    "string offsets are 16-bit");
_Static_assert(SOC_F_COUNT + SOC_F_DYN_MAX < 65535, "dynamic ids are 16-bit");

static int16_t		hash_slot[HASH_SLOTS];
static uint8_t		reg_len[SOC_F_COUNT];	/* strlen of each name */
static pthread_once_t	hash_once = PTHREAD_ONCE_INIT;

/*
 * Eight bytes at a time (a field name's whole path is hashed for every
 * value a JSON event holds: byte at a time, this was most of a lookup).
 * Only this process's tables depend on it.
 */
static uint32_t
hash_name(const char *s, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15u ^ len, w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	if (len > 0) {
		w = 0;
		memcpy(&w, s, len);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
	}
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53u;
	h ^= h >> 29;
	return (uint32_t)h;
}

static void
hash_build(void)
{
	for (int i = 0; i < HASH_SLOTS; i++)
		hash_slot[i] = -1;
	for (int f = 0; f < SOC_F_COUNT; f++) {
		uint32_t h = hash_name(registry[f].name, strlen(registry[f].name));

		reg_len[f] = (uint8_t)strlen(registry[f].name);
		while (hash_slot[h & (HASH_SLOTS - 1)] != -1)
			h++;
		hash_slot[h & (HASH_SLOTS - 1)] = (int16_t)f;
	}
}

/*
 * Interned dynamic names.  Append-only: an entry is written in full
 * under the mutex, then published by a release store of its hash slot
 * (and of the count), so readers take no lock: a slot they see filled
 * points at a complete name.  Names live as long as the process.
 */
#define DYN_SLOTS	(SOC_F_DYN_MAX * 2)	/* power of two */
_Static_assert((DYN_SLOTS & (DYN_SLOTS - 1)) == 0, "DYN_SLOTS");

static const char	*dyn_name[SOC_F_DYN_MAX];
static uint8_t		 dyn_len[SOC_F_DYN_MAX];
static _Atomic uint16_t	 dyn_slot[DYN_SLOTS];	/* index + 1, 0 = empty */
static _Atomic int	 dyn_n;
static _Atomic int	 dyn_found;	/* of them, findable in dyn_slot */
static _Atomic uint64_t	 dyn_refused, dyn_dropped;
static pthread_mutex_t	 dyn_mu = PTHREAD_MUTEX_INITIALIZER;

static bool
dyn_prefixed(const char *name, size_t len)
{
	static const size_t ed = sizeof(SOC_F_DYN_EVENT_DATA) - 1,
	    ud = sizeof(SOC_F_DYN_USER_DATA) - 1;

	return (len > ed && memcmp(name, SOC_F_DYN_EVENT_DATA, ed) == 0) ||
	    (len > ud && memcmp(name, SOC_F_DYN_USER_DATA, ud) == 0);
}

static int	soc_field_intern_slow(const char *, size_t);

/* The id of an interned name, or SOC_F_NONE; no lock. */
static int
dyn_find(const char *name, size_t len, uint32_t h)
{
	unsigned k;

	for (uint32_t i = h;; i++) {
		k = atomic_load_explicit(&dyn_slot[i & (DYN_SLOTS - 1)],
		    memory_order_acquire);
		if (k == 0)
			return SOC_F_NONE;
		if (dyn_len[k - 1] == len && memcmp(dyn_name[k - 1], name,
		    len) == 0)
			return SOC_F_COUNT + (int)k - 1;
	}
}

/*
 * Interned names remembered per thread (the wire decoder of each
 * thread interns the same few names in every event of a kind): placed
 * by length and first and last eight bytes, compared whole, so a hit
 * costs one compare instead of the checks, a hash and a probe.  Only
 * names interned are remembered; an id never changes once given.
 */
#define INTERN_SEEN	256	/* power of two */

static __thread struct {
	uint8_t		len;
	uint16_t	f;		/* id - SOC_F_COUNT + 1; 0: empty */
} intern_seen[INTERN_SEEN];

static unsigned
intern_slot(const char *name, size_t len)
{
	uint64_t a = 0, b = 0, h;
	size_t k = len < 8 ? len : 8;

	memcpy(&a, name, k);
	memcpy(&b, name + len - k, k);
	h = (a * 0x9e3779b97f4a7c15u) ^ (b * 0xff51afd7ed558ccdu) ^ len;
	h ^= h >> 29;
	return (unsigned)(h ^ (h >> 17)) & (INTERN_SEEN - 1);
}

int
soc_field_intern(const char *name, size_t len)
{
	unsigned i = 0;
	int f;

	if (len > 0 && len <= SOC_F_DYN_NAME_MAX) {
		i = intern_slot(name, len);
		if (intern_seen[i].len == len && intern_seen[i].f != 0 &&
		    memcmp(dyn_name[intern_seen[i].f - 1], name, len) == 0)
			return SOC_F_COUNT + intern_seen[i].f - 1;
	}
	if ((f = soc_field_intern_slow(name, len)) != SOC_F_NONE) {
		intern_seen[i].len = (uint8_t)len;
		intern_seen[i].f = (uint16_t)(f - SOC_F_COUNT + 1);
	}
	return f;
}

static int
soc_field_intern_slow(const char *name, size_t len)
{
	uint32_t h;
	int f, n;
	char *copy;

	if (len > SOC_F_DYN_NAME_MAX || !dyn_prefixed(name, len) ||
	    memchr(name, '\0', len) != NULL) {
		atomic_fetch_add(&dyn_refused, 1);
		return SOC_F_NONE;
	}
	h = hash_name(name, len);
	if ((f = dyn_find(name, len, h)) != SOC_F_NONE)
		return f;
	pthread_mutex_lock(&dyn_mu);
	if ((f = dyn_find(name, len, h)) != SOC_F_NONE)
		goto out;	/* another thread was first */
	n = atomic_load_explicit(&dyn_n, memory_order_relaxed);
	if (n >= SOC_F_DYN_MAX || (copy = malloc(len + 1)) == NULL) {
		atomic_fetch_add(&dyn_refused, 1);
		goto out;
	}
	memcpy(copy, name, len);
	copy[len] = '\0';
	dyn_name[n] = copy;
	dyn_len[n] = (uint8_t)len;
	atomic_store_explicit(&dyn_n, n + 1, memory_order_release);
	while (atomic_load_explicit(&dyn_slot[h & (DYN_SLOTS - 1)],
	    memory_order_relaxed) != 0)
		h++;
	atomic_store_explicit(&dyn_slot[h & (DYN_SLOTS - 1)], (uint16_t)(n + 1),
	    memory_order_release);
	/* counted once findable (soc_field_dyn_count()) */
	atomic_store_explicit(&dyn_found, n + 1, memory_order_release);
	f = SOC_F_COUNT + n;
out:
	pthread_mutex_unlock(&dyn_mu);
	return f;
}

/* Names findable by soc_field_lookup(): raised after the slot is set,
 * so a lookup that misses after reading n has n too low. */
int
soc_field_dyn_count(void)
{
	return atomic_load_explicit(&dyn_found, memory_order_acquire);
}

uint64_t
soc_field_dyn_refused(void)
{
	return atomic_load(&dyn_refused);
}

uint64_t
soc_event_dyn_dropped(void)
{
	return atomic_load(&dyn_dropped);
}

const char *
soc_field_name(int f)
{
	if (f >= 0 && f < SOC_F_COUNT)
		return registry[f].name;
	if (f >= SOC_F_COUNT && f - SOC_F_COUNT <
	    atomic_load_explicit(&dyn_n, memory_order_acquire))
		return dyn_name[f - SOC_F_COUNT];
	return NULL;
}

const char *
soc_field_dyn_name(int f, size_t *len)
{
	if (f >= SOC_F_COUNT && f - SOC_F_COUNT <
	    atomic_load_explicit(&dyn_n, memory_order_acquire)) {
		*len = dyn_len[f - SOC_F_COUNT];
		return dyn_name[f - SOC_F_COUNT];
	}
	return NULL;
}

enum soc_ftype
soc_field_type(int f)
{
	if (f >= 0 && f < SOC_F_COUNT)
		return registry[f].type;
	if (f >= SOC_F_COUNT && f - SOC_F_COUNT <
	    atomic_load_explicit(&dyn_n, memory_order_acquire))
		return SOC_T_STR;
	return 0;
}

/*
 * Names fields had before they moved under "soc." (ECS has no such
 * field): still read, in JSON input and in rules, for one release.
 */
#define OLD_NAME(n, f)	{ n, sizeof(n) - 1, f }
static const struct {
	const char	*name;
	size_t		 len;
	int		 field;
} old_names[] = {
	OLD_NAME("tcp.flags",		SOC_F_TCP_FLAGS),
	OLD_NAME("icmp.type",		SOC_F_ICMP_TYPE),
	OLD_NAME("icmp.code",		SOC_F_ICMP_CODE),
	OLD_NAME("ssh.client.version",	SOC_F_SSH_CLIENT_VERSION),
	OLD_NAME("ssh.server.version",	SOC_F_SSH_SERVER_VERSION),
	OLD_NAME("tls.client.ja4",	SOC_F_TLS_JA4),
	OLD_NAME("log.source.address",	SOC_F_LOG_SOURCE_ADDR),
};
#undef OLD_NAME

int
soc_field_lookup(const char *name, size_t len)
{
	uint32_t h;
	int f;

	pthread_once(&hash_once, hash_build);
	h = hash_name(name, len);
	for (uint32_t k = h; (f = hash_slot[k & (HASH_SLOTS - 1)]) != -1;
	    k++)
		if (reg_len[f] == len && memcmp(registry[f].name, name, len) == 0)
			return f;
	for (size_t i = 0; i < sizeof(old_names) / sizeof(old_names[0]); i++)
		if (old_names[i].len == len &&
		    memcmp(old_names[i].name, name, len) == 0)
			return old_names[i].field;
	if (len <= SOC_F_DYN_NAME_MAX && dyn_prefixed(name, len))
		return dyn_find(name, len, h);
	return SOC_F_NONE;
}

static inline void
mark(struct soc_event *ev, int f)
{
	ev->present[f / 64] |= (uint64_t)1 << (f % 64);
}

void
soc_event_reset(struct soc_event *ev)
{
	ev->ts = 0;
	ev->flags = 0;
	memset(ev->present, 0, sizeof(ev->present));
	ev->buf_len = 0;
	ev->ndyn = 0;
}

/* The dyn[] entry of f, or NULL. */
static struct soc_dyn *
dyn_entry(const struct soc_event *ev, int f)
{
	for (uint32_t i = 0; i < ev->ndyn; i++)
		if (ev->dyn[i].id == f)
			return (struct soc_dyn *)&ev->dyn[i];
	return NULL;
}

bool
soc_event_dyn_has(const struct soc_event *ev, int f)
{
	return dyn_entry(ev, f) != NULL;
}

/* The dyn[] entry for dynamic string f, added if new; NULL when f is
 * not one or the event has no room for another (counted, cut). */
static struct soc_dyn *
dyn_take(struct soc_event *ev, int f)
{
	struct soc_dyn *d;

	if (soc_field_type(f) != SOC_T_STR)
		return NULL;
	if ((d = dyn_entry(ev, f)) == NULL) {
		if (ev->ndyn >= SOC_EVENT_DYN_MAX) {
			atomic_fetch_add_explicit(&dyn_dropped, 1,
			    memory_order_relaxed);
			soc_event_set_truncated(ev);
			return NULL;
		}
		d = &ev->dyn[ev->ndyn++];
		d->id = (uint16_t)f;
	}
	return d;
}

/* A dynamic string: a new value goes in the buffer like any string. */
static void
put_dyn(struct soc_event *ev, int f, const char *s, size_t len, size_t limit)
{
	size_t room = ev->buf_len < limit ? limit - ev->buf_len : 0;
	struct soc_dyn *d;

	if ((d = dyn_take(ev, f)) == NULL)
		return;
	if (len > room) {
		len = room;
		soc_event_set_truncated(ev);
	}
	if (len > 0)
		memcpy(ev->buf + ev->buf_len, s, len);
	d->off = (uint16_t)ev->buf_len;
	d->len = (uint16_t)len;
	ev->buf_len += (uint32_t)len;
}

void
soc_event_set_str_in(struct soc_event *ev, int f, size_t off, size_t len)
{
	struct soc_dyn *d;

	if (off > ev->buf_len || len > ev->buf_len - off)
		return;		/* not in the buffer: a caller's bug */
	if (f >= SOC_F_COUNT) {
		if ((d = dyn_take(ev, f)) == NULL)
			return;
		d->off = (uint16_t)off;
		d->len = (uint16_t)len;
		return;
	}
	if (f < 0 || registry[f].type != SOC_T_STR)
		return;
	ev->val[f].s.off = (uint16_t)off;
	ev->val[f].s.len = (uint16_t)len;
	mark(ev, f);
}

/* Copy s into the buffer below limit, cutting (and flagging) to fit. */
static void
put_str(struct soc_event *ev, int f, const char *s, size_t len, size_t limit)
{
	size_t room = ev->buf_len < limit ? limit - ev->buf_len : 0;

	if (__builtin_expect(f >= SOC_F_COUNT, 0)) {
		put_dyn(ev, f, s, len, limit);
		return;
	}
	if (f < 0 || registry[f].type != SOC_T_STR)
		return;
	if (len > room) {
		len = room;
		soc_event_set_truncated(ev);
	}
	if (len > 0)
		memcpy(ev->buf + ev->buf_len, s, len);
	ev->val[f].s.off = (uint16_t)ev->buf_len;
	ev->val[f].s.len = (uint16_t)len;
	ev->buf_len += (uint32_t)len;
	mark(ev, f);
}

void
soc_event_set_str(struct soc_event *ev, int f, const char *s, size_t len)
{
	put_str(ev, f, s, len, SOC_EVENT_BUFSZ);
}

void
soc_event_stamp(struct soc_event *ev, int f, const char *s)
{
	/* set_str never writes past SOC_EVENT_BUFSZ, so the reserve holds
	 * a few stamps per event (an agency code and a sensor name) */
	put_str(ev, f, s, strlen(s), SOC_EVENT_BUFSZ + SOC_EVENT_RESERVE);
}

void
soc_event_set_cstr(struct soc_event *ev, int f, const char *s)
{
	soc_event_set_str(ev, f, s, strlen(s));
}

/*
 * The decimal text of v into the keyword twin kw: over its old text when
 * that is long enough (setting the integer again does not use the buffer
 * up), else appended like any string (a full event cuts it and is marked).
 */
static void
set_twin(struct soc_event *ev, int kw, int64_t v)
{
	char txt[SOC_FMT_I64_MAX];
	int n = (int)(soc_fmt_i64(txt, v) - txt);

	if (soc_event_has(ev, kw) && ev->val[kw].s.len >= n) {
		memcpy(ev->buf + ev->val[kw].s.off, txt, (size_t)n);
		ev->val[kw].s.len = (uint16_t)n;
		return;
	}
	put_str(ev, kw, txt, (size_t)n, SOC_EVENT_BUFSZ);
}

void
soc_event_set_int(struct soc_event *ev, int f, int64_t v)
{
	int kw;

	if (f < 0 || f >= SOC_F_COUNT ||
	    (registry[f].type != SOC_T_INT && registry[f].type != SOC_T_TIME))
		return;
	ev->val[f].i = v;
	mark(ev, f);
	if ((kw = soc_field_twin(f)) != SOC_F_NONE)
		set_twin(ev, kw, v);
}

void
soc_event_set_truncated(struct soc_event *ev)
{
	ev->flags |= SOC_EV_TRUNCATED;
	ev->val[SOC_F_SOC_TRUNCATED].i = 1;
	mark(ev, SOC_F_SOC_TRUNCATED);
}

bool
soc_event_truncated(const struct soc_event *ev)
{
	return (ev->flags & SOC_EV_TRUNCATED) ||
	    (soc_event_has(ev, SOC_F_SOC_TRUNCATED) &&
	    ev->val[SOC_F_SOC_TRUNCATED].i != 0);
}

void
soc_event_set_ip(struct soc_event *ev, int f, const struct soc_ip *ip)
{
	if (f < 0 || f >= SOC_F_COUNT || registry[f].type != SOC_T_IP)
		return;
	ev->val[f].ip = *ip;
	mark(ev, f);
}

void
soc_event_set_ip4(struct soc_event *ev, int f, const uint8_t a[4])
{
	struct soc_ip ip = { .family = 4 };

	memcpy(ip.addr, a, 4);
	soc_event_set_ip(ev, f, &ip);
}

void
soc_event_set_ip6(struct soc_event *ev, int f, const uint8_t a[16])
{
	struct soc_ip ip = { .family = 6 };

	memcpy(ip.addr, a, 16);
	soc_event_set_ip(ev, f, &ip);
}

void
soc_event_unset(struct soc_event *ev, int f)
{
	struct soc_dyn *d;

	if (f >= 0 && f < SOC_F_COUNT)
		ev->present[f / 64] &= ~((uint64_t)1 << (f % 64));
	else if (f >= SOC_F_COUNT && (d = dyn_entry(ev, f)) != NULL) {
		ev->ndyn--;
		memmove(d, d + 1, (size_t)(ev->dyn + ev->ndyn - d) * sizeof(*d));
	}
}

/* Only the used parts: the buffer, then the dyn[] entries in use. */
void
soc_event_copy(struct soc_event *dst, const struct soc_event *src)
{
	memcpy(dst, src, offsetof(struct soc_event, buf) + src->buf_len);
	if (src->ndyn > 0)
		memcpy(dst->dyn, src->dyn, src->ndyn * sizeof(src->dyn[0]));
}

const char *
soc_event_str(const struct soc_event *ev, int f, size_t *len)
{
	const struct soc_dyn *d;

	if (__builtin_expect(f >= SOC_F_COUNT, 0)) {
		if ((d = dyn_entry(ev, f)) == NULL)
			return NULL;
		*len = d->len;
		return ev->buf + d->off;
	}
	if (f < 0 || registry[f].type != SOC_T_STR ||
	    !soc_event_has(ev, f))
		return NULL;
	*len = ev->val[f].s.len;
	return ev->buf + ev->val[f].s.off;
}

int64_t
soc_event_int(const struct soc_event *ev, int f, int64_t def)
{
	if (f < 0 || f >= SOC_F_COUNT || !soc_event_has(ev, f) ||
	    (registry[f].type != SOC_T_INT && registry[f].type != SOC_T_TIME))
		return def;
	return ev->val[f].i;
}

const struct soc_ip *
soc_event_ip(const struct soc_event *ev, int f)
{
	if (f < 0 || f >= SOC_F_COUNT || registry[f].type != SOC_T_IP ||
	    !soc_event_has(ev, f))
		return NULL;
	return &ev->val[f].ip;
}

int
soc_event_text(const struct soc_event *ev, int f, char *out, size_t outsz)
{
	const char *s;
	size_t len;

	if (outsz == 0 || f < 0 || !soc_event_has(ev, f))
		return -1;
	switch (soc_field_type(f)) {
	case SOC_T_STR:
		s = soc_event_str(ev, f, &len);
		if (len >= outsz)
			len = outsz - 1;
		memcpy(out, s, len);
		out[len] = '\0';
		return (int)len;
	case SOC_T_INT:
		return snprintf(out, outsz, "%lld", (long long)ev->val[f].i);
	case SOC_T_TIME:
		soc_time_format(ev->val[f].i, out, outsz);
		return (int)strlen(out);
	case SOC_T_IP:
		soc_ip_format(&ev->val[f].ip, out, outsz);
		return (int)strlen(out);
	}
	return -1;
}

/* The receive time for the event, its first claim kept. */
static void
claim_now(struct soc_event *ev, int64_t now_ns)
{
	if (!soc_event_has(ev, SOC_F_SOC_TS_CLAIMED))
		soc_event_set_int(ev, SOC_F_SOC_TS_CLAIMED, ev->ts);
	ev->ts = now_ns;
}

bool
soc_time_outside(int64_t t, int64_t now_ns, int64_t max_ahead_ns,
    int64_t max_behind_ns)
{
	bool ahead = t > now_ns && (uint64_t)t - (uint64_t)now_ns >
	    (uint64_t)max_ahead_ns;
	bool behind = max_behind_ns > 0 && t < now_ns &&
	    (uint64_t)now_ns - (uint64_t)t > (uint64_t)max_behind_ns;

	return ahead || behind || t < 0;
}

bool
soc_event_bound_time(struct soc_event *ev, int64_t now_ns,
    int64_t max_ahead_ns, int64_t max_behind_ns)
{
	if (!soc_time_outside(ev->ts, now_ns, max_ahead_ns, max_behind_ns))
		return false;
	claim_now(ev, now_ns);
	return true;
}

bool
soc_event_cap_time(struct soc_event *ev, int64_t now_ns)
{
	if (ev->ts <= now_ns && ev->ts >= 0)
		return false;
	claim_now(ev, now_ns);
	return true;
}

/*
 * A dotted quad as inet_pton(AF_INET) reads one (four parts of 1-3
 * digits, no leading zero, at most 255, nothing else) without the copy
 * and the library call: every log line with an address comes here.
 * False sends anything else to inet_pton.
 */
static bool
ip4_parse(const char *s, size_t len, struct soc_ip *ip)
{
	uint8_t a[4];
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		size_t nd = 0;

		if (part > 0 && (i >= len || s[i++] != '.'))
			return false;
		for (; i < len && s[i] >= '0' && s[i] <= '9' && nd < 4; nd++)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (nd == 0 || nd > 3 || v > 255 || (nd > 1 && s[i - nd] == '0'))
			return false;
		a[part] = (uint8_t)v;
	}
	if (i != len)
		return false;
	memset(ip, 0, sizeof(*ip));
	ip->family = 4;
	memcpy(ip->addr, a, 4);
	return true;
}

int
soc_ip_parse(const char *s, size_t len, struct soc_ip *ip)
{
	char tmp[INET6_ADDRSTRLEN + 1];

	if (ip4_parse(s, len, ip))
		return 0;
	/* inet_pton refuses it too: not a quad, and IPv6 text has a ':'
	 * (a NUL would end the text early: that goes to inet_pton) */
	if (len == 0 || len >= sizeof(tmp) || (memchr(s, ':', len) == NULL &&
	    memchr(s, '\0', len) == NULL))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, tmp, ip->addr) == 1) {
		ip->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, ip->addr) == 1) {
		ip->family = 6;
		return 0;
	}
	return -1;
}

void
soc_ip_format(const struct soc_ip *ip, char *out, size_t outsz)
{
	if (ip->family == 4 && outsz > SOC_FMT_IP4_MAX) {
		soc_fmt_ip(ip, out);	/* inet_ntop's text, without sprintf */
		return;
	}
	if (inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->addr, out,
	    (socklen_t)outsz) == NULL && outsz > 0)
		out[0] = '\0';
}

bool
soc_ip_equal(const struct soc_ip *a, const struct soc_ip *b)
{
	return a->family == b->family &&
	    memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16) == 0;
}
