/*
 * Alert aggregation per transaction (incident-agg.h).
 *
 * Keys: (rule pointer, agency, group key) in an open hash table of fixed
 * size (chains of entry indexes), hashed with SipHash under a per-table
 * secret (group keys carry attacker-chosen values).  Entries are appended
 * in first-alert order; a batch's new entries are at the end, so undoing
 * a batch truncates the entries and the arena back to where the batch
 * began.
 *
 * Strings (agency, sensor, group key, evidence blobs) live in one arena:
 * a header {len, fwd} then the bytes and a NUL, 8-aligned.  An event's
 * blob is stored once however many alerts it raised (evno).  The ring of the
 * latest events leaves dead strings behind; when the arena is full, the
 * live strings are copied to a spare arena of the same size (fwd marks a
 * string already copied, so a shared one stays shared) and the two are
 * swapped.  If even that leaves no room, the event is not kept as
 * evidence (counted): the count, never the evidence, is what must be
 * right.
 */
#include <stdlib.h>
#include <string.h>

#include "soc/hash.h"
#include "incident-agg.h"

#define NONE		UINT32_MAX

struct str_hdr {
	uint32_t	len;
	uint32_t	fwd;	/* offset in the new arena while compacting */
};

/* The sums of one key over a stretch of alerts (the group's or a batch's). */
struct part {
	uint64_t	count, nalerts;
	int64_t		first_ts, last_ts;
	int		severity;
	uint16_t	nfirst, nlast, head;
	uint32_t	first[AGG_EV_MAX];	/* arena offsets, NONE: no JSON */
	uint32_t	last[AGG_EV_MAX];	/* ring from head */
};

struct entry {
	const struct rule	*rule;
	uint64_t		 hash;
	uint32_t		 next;		/* chain */
	uint32_t		 agency, sensor, gkey;
	int			 touched;	/* in this batch */
	struct part		 g, b;
};

struct agg {
	struct entry	*e;
	uint32_t	 n, cap;
	uint32_t	*bucket;
	uint32_t	 mask;
	uint32_t	*touched;
	uint32_t	 ntouched;
	uint32_t	 mark_n;		/* entries before this batch */
	size_t		 mark_len;		/* arena used before this batch */
	char		*arena, *spare;
	size_t		 len, size;
	uint64_t	 evno;			/* event whose JSON is at evoff */
	uint32_t	 evoff;
	uint32_t	 last;			/* entry of the last agg_add */
	int		 keep_first, keep_last;
	uint64_t	 dropped;
	struct soc_hash_key key;
};

struct agg *
agg_new(size_t slots, size_t arena_bytes)
{
	struct agg *a;
	uint32_t nb = 1;

	if (slots < 1 || slots > (1u << 24) || arena_bytes < 4096 ||
	    arena_bytes >= NONE)
		return NULL;
	while (nb < slots * 2)
		nb <<= 1;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->cap = (uint32_t)slots;
	a->mask = nb - 1;
	a->size = arena_bytes;
	a->e = calloc(slots, sizeof(*a->e));
	a->touched = calloc(slots, sizeof(*a->touched));
	a->bucket = malloc(nb * sizeof(*a->bucket));
	a->arena = malloc(arena_bytes);
	a->spare = malloc(arena_bytes);
	if (a->e == NULL || a->touched == NULL || a->bucket == NULL ||
	    a->arena == NULL || a->spare == NULL) {
		agg_free(a);
		return NULL;
	}
	memset(a->bucket, 0xff, nb * sizeof(*a->bucket));
	soc_hash_seed(&a->key);
	a->keep_first = a->keep_last = 10;
	a->evno = UINT64_MAX;
	a->last = NONE;
	return a;
}

void
agg_free(struct agg *a)
{
	if (a == NULL)
		return;
	free(a->e);
	free(a->touched);
	free(a->bucket);
	free(a->arena);
	free(a->spare);
	free(a);
}

void
agg_set_evidence(struct agg *a, int first, int last)
{
	a->keep_first = first < 0 ? 0 : first > AGG_EV_MAX ? AGG_EV_MAX : first;
	a->keep_last = last < 0 ? 0 : last > AGG_EV_MAX ? AGG_EV_MAX : last;
}

size_t
agg_keys(const struct agg *a)
{
	return a->n;
}

uint64_t
agg_dropped(const struct agg *a)
{
	return a->dropped;
}

static const char *
str_at(const struct agg *a, uint32_t off)
{
	return off == NONE ? NULL : a->arena + off + sizeof(struct str_hdr);
}

static size_t
str_len(const struct agg *a, uint32_t off)
{
	struct str_hdr h;

	if (off == NONE)
		return 0;
	memcpy(&h, a->arena + off, sizeof(h));
	return h.len;
}

/* Copies p then s into arena buf at *len; the offset, NONE if no room. */
static uint32_t
str_put2(char *buf, size_t size, size_t *len, const void *p, size_t plen,
    const void *s, size_t slen)
{
	struct str_hdr h = { (uint32_t)(plen + slen), NONE };
	size_t need = (sizeof(h) + plen + slen + 1 + 7) & ~(size_t)7;
	uint32_t off = (uint32_t)*len;

	if (plen + slen >= NONE / 2 || need > size - *len)
		return NONE;
	memcpy(buf + off, &h, sizeof(h));
	memcpy(buf + off + sizeof(h), p, plen);
	memcpy(buf + off + sizeof(h) + plen, s, slen);
	buf[off + sizeof(h) + plen + slen] = '\0';
	*len += need;
	return off;
}

static uint32_t
str_put(char *buf, size_t size, size_t *len, const char *s, size_t slen)
{
	return str_put2(buf, size, len, "", 0, s, slen);
}

/* While compacting: the string at off in the new arena (copied once). */
static uint32_t
str_move(struct agg *a, uint32_t off, size_t *nlen)
{
	struct str_hdr h;
	uint32_t noff;

	if (off == NONE)
		return NONE;
	memcpy(&h, a->arena + off, sizeof(h));
	if (h.fwd != NONE)
		return h.fwd;
	noff = str_put(a->spare, a->size, nlen, a->arena + off + sizeof(h), h.len);
	h.fwd = noff;
	memcpy(a->arena + off, &h, sizeof(h));
	return noff;
}

static void
part_move(struct agg *a, struct part *p, size_t *nlen)
{
	uint16_t i;

	for (i = 0; i < p->nfirst; i++)
		p->first[i] = str_move(a, p->first[i], nlen);
	for (i = 0; i < p->nlast; i++)
		p->last[i] = str_move(a, p->last[i], nlen);
}

/*
 * Copies the live strings into the spare arena and swaps: the dead ones
 * (events pushed out of a ring) are gone.  The live ones always fit (they
 * were in an arena of the same size).
 */
static void
compact(struct agg *a)
{
	struct entry *en;
	size_t nlen = 0;
	char *t;
	uint32_t i;

	for (i = 0; i < a->n; i++) {
		en = &a->e[i];
		en->agency = str_move(a, en->agency, &nlen);
		en->sensor = str_move(a, en->sensor, &nlen);
		en->gkey = str_move(a, en->gkey, &nlen);
		part_move(a, &en->g, &nlen);
		part_move(a, &en->b, &nlen);
	}
	t = a->arena;
	a->arena = a->spare;
	a->spare = t;
	a->len = nlen;
	/* an undone batch's strings now sit below the mark: dead, harmless */
	a->mark_len = nlen;
	a->evno = UINT64_MAX;
}

/* Whether need bytes fit, compacting once if not. */
static int
room(struct agg *a, size_t need)
{
	if (need <= a->size - a->len)
		return 1;
	compact(a);
	return need <= a->size - a->len;
}

static size_t
str_need(size_t slen)
{
	return (sizeof(struct str_hdr) + slen + 1 + 7) & ~(size_t)7;
}

static uint64_t
key_hash(const struct agg *a, const struct rule *r, const char *agency,
    const char *gkey)
{
	char buf[512];
	size_t al = strlen(agency), gl = strlen(gkey);
	uint64_t h;

	if (sizeof(r) + al + 1 + gl <= sizeof(buf)) {
		memcpy(buf, &r, sizeof(r));
		memcpy(buf + sizeof(r), agency, al + 1);
		memcpy(buf + sizeof(r) + al + 1, gkey, gl);
		return soc_hash(&a->key, buf, sizeof(r) + al + 1 + gl);
	}
	h = soc_hash(&a->key, gkey, gl);
	return h ^ soc_hash(&a->key, agency, al) * 31 ^ (uint64_t)(uintptr_t)r;
}

static void
part_reset(struct part *p)
{
	p->count = p->nalerts = 0;
	p->nfirst = p->nlast = p->head = 0;
	p->severity = 0;
	p->first_ts = p->last_ts = 0;
}

/* Adds an alert's event (offset ev) to a part: a ring of keep_last. */
static void
part_push_ev(struct part *p, int keep_first, int keep_last, uint32_t ev)
{
	if (p->nfirst < keep_first)
		p->first[p->nfirst++] = ev;
	if (keep_last == 0)
		return;
	if (p->nlast < keep_last)
		p->last[(p->head + p->nlast++) % keep_last] = ev;
	else {
		p->last[p->head] = ev;		/* the oldest of the latest */
		p->head = (uint16_t)((p->head + 1) % keep_last);
	}
}

/* The i-th oldest of the latest events. */
static uint32_t
ring_at(const struct part *p, int keep_last, uint16_t i)
{
	return p->last[(p->head + i) % keep_last];
}

static void
part_sum(struct part *p, uint64_t count, uint64_t nalerts, int64_t first_ts,
    int64_t last_ts, int severity)
{
	if (p->nalerts == 0 || first_ts < p->first_ts)
		p->first_ts = first_ts;
	if (p->nalerts == 0 || last_ts > p->last_ts)
		p->last_ts = last_ts;
	if (p->nalerts == 0 || severity > p->severity)
		p->severity = severity;
	p->count += count;
	p->nalerts += nalerts;
}

/* The arena offset of event evno's blob, stored once per event; NONE. */
static uint32_t
ev_put(struct agg *a, uint64_t evno, const void *pre, size_t prelen,
    const void *ev, size_t evlen)
{
	if (a->evno != evno) {
		a->evoff = room(a, str_need(prelen + evlen)) ? str_put2(a->arena,
		    a->size, &a->len, pre, prelen, ev, evlen) : NONE;
		a->evno = a->evoff == NONE ? UINT64_MAX : evno;
		if (a->evoff == NONE)
			a->dropped++;
	}
	return a->evno == evno ? a->evoff : NONE;
}

int
agg_add(struct agg *a, const struct rule *r, const char *agency,
    const char *sensor, const char *group_key, int64_t first_ts,
    int64_t last_ts, uint64_t count, int severity, uint64_t evno,
    const void *pre, size_t prelen, const void *ev, size_t evlen)
{
	struct entry *en;
	uint64_t h;
	uint32_t i, evoff;

	a->last = NONE;
	if (group_key == NULL)
		group_key = "";
	h = key_hash(a, r, agency, group_key);
	for (i = a->bucket[h & a->mask]; i != NONE; i = a->e[i].next) {
		en = &a->e[i];
		if (en->hash == h && en->rule == r &&
		    strcmp(str_at(a, en->agency), agency) == 0 &&
		    strcmp(str_at(a, en->gkey), group_key) == 0)
			break;
	}
	if (i == NONE) {
		if (a->n == a->cap)
			return -1;
		en = &a->e[a->n];
		en->rule = r;
		en->hash = h;
		en->touched = 0;
		part_reset(&en->g);
		part_reset(&en->b);
		/* room first: compacting moves the strings of the others */
		if (!room(a, str_need(strlen(agency)) + str_need(strlen(sensor)) +
		    str_need(strlen(group_key))))
			return -1;
		en->agency = str_put(a->arena, a->size, &a->len, agency,
		    strlen(agency));
		en->sensor = str_put(a->arena, a->size, &a->len, sensor,
		    strlen(sensor));
		en->gkey = str_put(a->arena, a->size, &a->len, group_key,
		    strlen(group_key));
		en->next = a->bucket[h & a->mask];
		a->bucket[h & a->mask] = a->n++;
	}
	if (!en->touched) {
		en->touched = 1;
		a->touched[a->ntouched++] = (uint32_t)(en - a->e);
	}
	if (last_ts < first_ts)
		last_ts = first_ts;
	part_sum(&en->b, count ? count : 1, 1, first_ts, last_ts, severity);
	a->last = (uint32_t)(en - a->e);
	if (ev == NULL || (a->keep_first == 0 && a->keep_last == 0))
		return 0;
	evoff = ev_put(a, evno, pre, prelen, ev, evlen);
	part_push_ev(&en->b, a->keep_first, a->keep_last, evoff);
	return 0;
}

void
agg_add_ev(struct agg *a, uint64_t evno, const void *pre, size_t prelen,
    const void *ev, size_t evlen)
{
	struct entry *en;
	uint32_t evoff;

	if (a->last == NONE || ev == NULL ||
	    (a->keep_first == 0 && a->keep_last == 0))
		return;
	en = &a->e[a->last];
	/* evoff first: compacting moves strings, never entries */
	evoff = ev_put(a, evno, pre, prelen, ev, evlen);
	en->b.nalerts++;
	part_push_ev(&en->b, a->keep_first, a->keep_last, evoff);
}

/* Folds a batch's part into the group's: counts add, events follow on. */
static void
part_fold(struct part *g, const struct part *b, int keep_first, int keep_last)
{
	uint16_t i;

	part_sum(g, b->count, b->nalerts, b->first_ts, b->last_ts, b->severity);
	for (i = 0; i < b->nfirst && g->nfirst < keep_first; i++)
		g->first[g->nfirst++] = b->first[i];
	for (i = 0; i < b->nlast; i++)
		part_push_ev(g, 0, keep_last, ring_at(b, keep_last, i));
}

void
agg_batch_end(struct agg *a, int keep)
{
	struct entry *en;
	uint32_t i;

	for (i = 0; i < a->ntouched; i++) {
		en = &a->e[a->touched[i]];
		if (keep)
			part_fold(&en->g, &en->b, a->keep_first, a->keep_last);
		part_reset(&en->b);
		en->touched = 0;
	}
	a->ntouched = 0;
	if (!keep) {
		/* the batch's new keys are the last ones, each at its
		 * chain's head: unlink them newest first */
		while (a->n > a->mark_n) {
			en = &a->e[--a->n];
			a->bucket[en->hash & a->mask] = en->next;
		}
		if (a->len > a->mark_len)
			a->len = a->mark_len;
	}
	a->evno = UINT64_MAX;
	a->last = NONE;
	a->mark_n = a->n;
	a->mark_len = a->len;
}

int
agg_should_flush(const struct agg *a)
{
	return a->n > a->cap / 2 || a->len > a->size / 2;
}

void
agg_clear(struct agg *a)
{
	uint32_t i;

	for (i = 0; i < a->n; i++)
		a->bucket[a->e[i].hash & a->mask] = NONE;
	a->n = a->ntouched = a->mark_n = 0;
	a->len = a->mark_len = 0;
	a->evno = UINT64_MAX;
	a->last = NONE;
}

int
agg_flush(struct agg *a, agg_flush_fn fn, void *arg)
{
	struct agg_out o;
	struct entry *en;
	uint32_t i;
	uint16_t k;
	int rc = 0;

	for (i = 0; i < a->n && rc == 0; i++) {
		en = &a->e[i];
		if (en->g.nalerts == 0)
			continue;
		o.rule = en->rule;
		o.agency = str_at(a, en->agency);
		o.sensor = str_at(a, en->sensor);
		o.group_key = str_at(a, en->gkey);
		o.count = en->g.count;
		o.nalerts = en->g.nalerts;
		o.first_ts = en->g.first_ts;
		o.last_ts = en->g.last_ts;
		o.severity = en->g.severity;
		o.nfirst = en->g.nfirst;
		for (k = 0; k < en->g.nfirst; k++) {
			o.ev_first[k] = str_at(a, en->g.first[k]);
			o.ev_first_len[k] = str_len(a, en->g.first[k]);
		}
		o.nlast = en->g.nlast;
		for (k = 0; k < en->g.nlast; k++) {
			o.ev_last[k] = str_at(a, ring_at(&en->g, a->keep_last, k));
			o.ev_last_len[k] = str_len(a, ring_at(&en->g, a->keep_last, k));
		}
		rc = fn(arg, &o);
	}
	agg_clear(a);
	return rc;
}
