/*
 * A segment's index (SEGMENT.idx) and the query's match on one event.
 *
 * The index holds the segment's size (an index that disagrees with its
 * segment is not used), its event and frame counts, the range of
 * @timestamp, the set of agencies, and one Bloom filter over typed keys:
 * each IP with its prefixes (/16 /24 /32; /32 /48 /64 /128), each
 * domain with its parent domains, user names, host names and hashes
 * (lowercased).  The filter grows to 1 MiB while the segment is open
 * and is folded in halves (bit i | bit i + m/2) while it stays sparse,
 * so a quiet hour's index is small; folding keeps every key's bits.
 * Hashes are FNV-1a (the same in every process: the file outlives it)
 * with a final mix; a forged value can only raise the false positives.
 *
 * Layout (little-endian): "SOCAIX1\n", u64 segment bytes, u64 events,
 * u64 frames, i64 min ts, i64 max ts, u32 flags (1: agencies all), u32
 * agencies, each u16 length + bytes, u8 log2 bits, u8 k, u16 0, the
 * bits, u64 FNV-1a of everything before it.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include "soc/hash.h"
#include "archive-int.h"

static const int ip_fields[] = { SOC_F_SOURCE_IP, SOC_F_DEST_IP };
static const int domain_fields[] = { SOC_F_DNS_QNAME, SOC_F_URL_DOMAIN,
	SOC_F_TLS_SNI, SOC_F_SOURCE_DOMAIN, SOC_F_DEST_DOMAIN };
static const int user_fields[] = { SOC_F_USER_NAME, SOC_F_USER_EFF_NAME,
	SOC_F_USER_AUDIT_NAME };
static const int host_fields[] = { SOC_F_HOST_NAME, SOC_F_HOST_HOSTNAME,
	SOC_F_WINLOG_COMPUTER };
static const int hash_fields[] = { SOC_F_PROCESS_MD5, SOC_F_PROCESS_SHA1,
	SOC_F_PROCESS_SHA256, SOC_F_FILE_MD5, SOC_F_FILE_SHA1,
	SOC_F_FILE_SHA256 };
#define NF(a)	(sizeof(a) / sizeof((a)[0]))

static const int v4_bits[] = { 16, 24, 32 };
static const int v6_bits[] = { 32, 48, 64, 128 };

static uint64_t
mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* The key of a typed value, lowercased. */
static uint64_t
key_text(char type, const char *s, size_t len)
{
	uint64_t h = soc_fnv1a64(SOC_FNV64_BASIS, &type, 1);

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		h = soc_fnv1a64(h, &c, 1);
	}
	return mix(h);
}

static uint64_t
key_ip(const struct soc_ip *ip, int bits)
{
	uint8_t b[19] = { 'i', ip->family, (uint8_t)bits };
	int n = ip->family == 4 ? 4 : 16;

	for (int i = 0; i < n; i++) {
		int keep = bits - i * 8;

		b[3 + i] = keep >= 8 ? ip->addr[i] : keep <= 0 ? 0 :
		    (uint8_t)(ip->addr[i] & (0xff << (8 - keep)));
	}
	return mix(soc_fnv1a64(SOC_FNV64_BASIS, b, 3 + (size_t)n));
}

/*
 * A blocked filter: the k bits of a key lie in one 64-bit word (one
 * cache line touched per key, not k); the word from the low bits, the
 * bit positions from the high ones.  Folding keeps a key in its word.
 * Bit p of a word is bit p % 8 of its byte p / 8 (the file's layout).
 *
 * The words of an open segment's 1 MiB filter are far apart, so each
 * key costs a cache miss: an event's keys are gathered first (their
 * words prefetched) and then set, a word's bits at once, so the misses
 * overlap instead of following one another.
 */
#define KEYS_MAX	32

struct keys {
	size_t		n;
	uint64_t	h[KEYS_MAX];
};

static uint8_t *
bloom_word(const struct archive_index *ix, uint64_t h)
{
	return ix->bits + (h & ((((uint64_t)1) << (ix->log2 - 6)) - 1)) * 8;
}

static void
keys_set(struct archive_index *ix, struct keys *k)
{
	for (size_t i = 0; i < k->n; i++) {
		uint64_t h = k->h[i] >> 32, m = 0, v;
		uint8_t *b = bloom_word(ix, k->h[i]);

		for (unsigned j = 0; j < ix->k; j++, h >>= 6)
			m |= (uint64_t)1 << (h & 63);
		memcpy(&v, b, 8);
		v |= htole64(m);
		memcpy(b, &v, 8);
	}
	k->n = 0;
}

/*
 * A key set lately (in ix->recent, by its hash's middle bits) is not set
 * again: its bits are there, and most of an event's keys are those of
 * the events before it, so the filter's cache misses are skipped too.
 */
static void
keys_add(struct archive_index *ix, struct keys *k, uint64_t h)
{
	if (ix->recent != NULL && h != 0) {
		uint64_t *r = &ix->recent[(h >> 24) & (IDX_RECENT - 1)];

		if (*r == h)
			return;
		*r = h;
	}
	if (k->n == KEYS_MAX)
		keys_set(ix, k);
	__builtin_prefetch(bloom_word(ix, h), 1);
	k->h[k->n++] = h;
}

static int
bloom_has(const struct archive_index *ix, uint64_t h)
{
	uint64_t w = h & ((((uint64_t)1) << (ix->log2 - 6)) - 1);
	const uint8_t *b = ix->bits + w * 8;

	h >>= 32;
	for (unsigned i = 0; i < ix->k; i++, h >>= 6)
		if (!(b[(h & 63) >> 3] & (1 << (h & 7))))
			return 0;
	return 1;
}

/* A domain and each parent (a.b.example.com, b.example.com, ...). */
static void
add_domain(struct archive_index *ix, struct keys *k, const char *s,
    size_t len)
{
	while (len > 0 && s[len - 1] == '.')
		len--;
	while (len > 0) {
		const char *dot;

		keys_add(ix, k, key_text('d', s, len));
		if ((dot = memchr(s, '.', len)) == NULL)
			break;
		len -= (size_t)(dot + 1 - s);
		s = dot + 1;
	}
}

static void
add_texts(struct archive_index *ix, struct keys *k,
    const struct soc_event *ev, char type, const int *f, size_t nf)
{
	const char *s;
	size_t len;

	for (size_t i = 0; i < nf; i++)
		if (soc_event_has(ev, f[i]) &&	/* inline: most are absent */
		    (s = soc_event_str(ev, f[i], &len)) != NULL && len > 0) {
			if (type == 'd')
				add_domain(ix, k, s, len);
			else
				keys_add(ix, k, key_text(type, s, len));
		}
}

static void
add_agency(struct archive_index *ix, const char *s, size_t len)
{
	char **n;

	if (ix->agencies_all || len > 255)
		return;
	if (ix->ag_last > 0 && strlen(ix->ag[ix->ag_last - 1]) == len &&
	    memcmp(ix->ag[ix->ag_last - 1], s, len) == 0)
		return;		/* the last event's: the common case */
	for (size_t i = 0; i < ix->nag; i++)
		if (strlen(ix->ag[i]) == len && memcmp(ix->ag[i], s, len) == 0) {
			ix->ag_last = i + 1;
			return;
		}
	if (ix->nag >= IDX_AGENCY_MAX ||
	    (n = realloc(ix->ag, (ix->nag + 1) * sizeof(*n))) == NULL) {
		ix->agencies_all = 1;
		return;
	}
	ix->ag = n;
	if ((n[ix->nag] = strndup(s, len)) == NULL) {
		ix->agencies_all = 1;
		return;
	}
	ix->ag_last = ++ix->nag;
}

struct archive_index *
archive_index_new(void)
{
	struct archive_index *ix;

	if ((ix = calloc(1, sizeof(*ix))) == NULL)
		return NULL;
	ix->log2 = IDX_LOG2_MAX;
	ix->k = IDX_K;
	ix->min_ts = INT64_MAX;
	ix->max_ts = INT64_MIN;
	if ((ix->bits = calloc(1, (size_t)1 << (ix->log2 - 3))) == NULL) {
		free(ix);
		return NULL;
	}
	return ix;
}

void
archive_index_free(struct archive_index *ix)
{
	if (ix == NULL)
		return;
	for (size_t i = 0; i < ix->nag; i++)
		free(ix->ag[i]);
	free(ix->ag);
	free(ix->bits);
	free(ix->recent);
	free(ix);
}

void
archive_index_add(struct archive_index *ix, const struct soc_event *ev)
{
	const struct soc_ip *ip;
	const char *s;
	struct keys k;
	size_t len;

	k.n = 0;
	if (ix->recent == NULL)		/* none (no memory): every key set */
		ix->recent = calloc(IDX_RECENT, sizeof(*ix->recent));
	if (ev->ts < ix->min_ts)
		ix->min_ts = ev->ts;
	if (ev->ts > ix->max_ts)
		ix->max_ts = ev->ts;
	if ((s = soc_event_str(ev, SOC_F_ORGANIZATION_ID, &len)) != NULL)
		add_agency(ix, s, len);
	for (size_t i = 0; i < NF(ip_fields); i++) {
		if ((ip = soc_event_ip(ev, ip_fields[i])) == NULL)
			continue;
		if (ip->family == 4)
			for (size_t j = 0; j < NF(v4_bits); j++)
				keys_add(ix, &k, key_ip(ip, v4_bits[j]));
		else
			for (size_t j = 0; j < NF(v6_bits); j++)
				keys_add(ix, &k, key_ip(ip, v6_bits[j]));
	}
	add_texts(ix, &k, ev, 'd', domain_fields, NF(domain_fields));
	add_texts(ix, &k, ev, 'u', user_fields, NF(user_fields));
	add_texts(ix, &k, ev, 'h', host_fields, NF(host_fields));
	add_texts(ix, &k, ev, 'x', hash_fields, NF(hash_fields));
	keys_set(ix, &k);
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static size_t
popcount(const uint8_t *b, size_t n)
{
	size_t c = 0, i;
	uint64_t w;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, b + i, 8);
		c += (size_t)__builtin_popcountll(w);
	}
	for (; i < n; i++)
		c += (size_t)__builtin_popcount(b[i]);
	return c;
}

void *
archive_index_encode(const struct archive_index *ix, size_t *lenp)
{
	size_t nb = (size_t)1 << (ix->log2 - 3), len, off, i;
	unsigned log2 = ix->log2;
	uint8_t *out, *bits;

	/* fold while the half would stay under a quarter full */
	if ((bits = malloc(nb)) == NULL)
		return NULL;
	memcpy(bits, ix->bits, nb);
	while (log2 > IDX_LOG2_MIN && popcount(bits, nb) < nb * 8 / 2 / 4) {
		nb /= 2;
		for (i = 0; i < nb; i++)
			bits[i] |= bits[i + nb];
		log2--;
	}
	len = 8 + 5 * 8 + 8;
	for (i = 0; i < ix->nag; i++)
		len += 2 + strlen(ix->ag[i]);
	len += 4 + nb + 8;
	if ((out = malloc(len)) == NULL) {
		free(bits);
		return NULL;
	}
	memcpy(out, IDX_MAGIC, 8);
	put64(out + 8, ix->seg_bytes);
	put64(out + 16, ix->events);
	put64(out + 24, ix->frames);
	put64(out + 32, (uint64_t)ix->min_ts);
	put64(out + 40, (uint64_t)ix->max_ts);
	put64(out + 48, (uint64_t)ix->agencies_all | (uint64_t)ix->nag << 32);
	off = 56;
	for (i = 0; i < ix->nag; i++) {
		size_t l = strlen(ix->ag[i]);

		out[off] = (uint8_t)l;
		out[off + 1] = (uint8_t)(l >> 8);
		memcpy(out + off + 2, ix->ag[i], l);
		off += 2 + l;
	}
	out[off] = (uint8_t)log2;
	out[off + 1] = (uint8_t)ix->k;
	out[off + 2] = out[off + 3] = 0;
	memcpy(out + off + 4, bits, nb);
	off += 4 + nb;
	put64(out + off, soc_fnv1a64(SOC_FNV64_BASIS, out, off));
	free(bits);
	*lenp = off + 8;
	return out;
}

struct archive_index *
archive_index_decode(const void *data, size_t len)
{
	const uint8_t *p = data;
	struct archive_index *ix;
	uint64_t w;
	size_t off, nag, nb, i;

	if (len < 56 + 4 + 8 || memcmp(p, IDX_MAGIC, 8) != 0 ||
	    get64(p + len - 8) != soc_fnv1a64(SOC_FNV64_BASIS, p, len - 8))
		return NULL;
	if ((ix = calloc(1, sizeof(*ix))) == NULL)
		return NULL;
	ix->seg_bytes = get64(p + 8);
	ix->events = get64(p + 16);
	ix->frames = get64(p + 24);
	ix->min_ts = (int64_t)get64(p + 32);
	ix->max_ts = (int64_t)get64(p + 40);
	w = get64(p + 48);
	ix->agencies_all = (int)(w & 1);
	nag = (size_t)(w >> 32);
	if ((w & 0xfffffffeULL) != 0 || nag > IDX_AGENCY_MAX)
		goto fail;
	off = 56;
	if ((ix->ag = calloc(nag + 1, sizeof(*ix->ag))) == NULL)
		goto fail;
	for (i = 0; i < nag; i++) {
		size_t l;

		if (len - 8 - off < 2)
			goto fail;
		l = (size_t)p[off] | (size_t)p[off + 1] << 8;
		if (l > 255 || len - 8 - off - 2 < l ||
		    (ix->ag[i] = strndup((const char *)p + off + 2, l)) == NULL)
			goto fail;
		ix->nag++;
		off += 2 + l;
	}
	if (len - 8 - off < 4)
		goto fail;
	ix->log2 = p[off];
	ix->k = p[off + 1];
	if (ix->log2 < IDX_LOG2_MIN || ix->log2 > IDX_LOG2_MAX || ix->k < 1 ||
	    ix->k > 5 || p[off + 2] != 0 || p[off + 3] != 0)
		goto fail;
	nb = (size_t)1 << (ix->log2 - 3);
	if (len - 8 - off - 4 != nb || (ix->bits = malloc(nb)) == NULL)
		goto fail;
	memcpy(ix->bits, p + off + 4, nb);
	return ix;
fail:
	archive_index_free(ix);
	return NULL;
}

uint64_t
archive_index_seg_bytes(const struct archive_index *ix)
{
	return ix->seg_bytes;
}

void
archive_index_range(const struct archive_index *ix, int64_t *min_ts,
    int64_t *max_ts, uint64_t *events)
{
	*min_ts = ix->min_ts;
	*max_ts = ix->max_ts;
	*events = ix->events;
}

int
archive_index_write(int dfd, const char *seg, const struct archive_index *ix)
{
	char tmp[ARCHIVE_NAME_MAX + 16], dst[ARCHIVE_NAME_MAX + 8];
	size_t len, done = 0;
	uint8_t *b;
	ssize_t n;
	int fd, rc = -1;

	if ((b = archive_index_encode(ix, &len)) == NULL)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s%s.tmp", seg, ARCHIVE_IDX_SUFFIX);
	snprintf(dst, sizeof(dst), "%s%s", seg, ARCHIVE_IDX_SUFFIX);
	if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0640)) == -1)
		goto out;
	while (done < len && (n = write(fd, b + done, len - done)) > 0)
		done += (size_t)n;
	if (close(fd) == 0 && done == len && renameat(dfd, tmp, dfd, dst) == 0)
		rc = 0;
	else
		unlinkat(dfd, tmp, 0);
out:
	free(b);
	return rc;
}

struct archive_index *
archive_index_read(int dfd, const char *seg)
{
	char name[ARCHIVE_NAME_MAX + 8];
	struct archive_index *ix = NULL;
	uint8_t *b = NULL;
	size_t len = 0, cap = 0;
	struct stat sb;
	ssize_t n;
	int fd;

	snprintf(name, sizeof(name), "%s%s", seg, ARCHIVE_IDX_SUFFIX);
	if ((fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1)
		return NULL;
	/* not a file (a FIFO would never end): as if there were no index */
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return NULL;
	}
	for (;;) {
		if (len == cap) {
			uint8_t *nb;

			/* the largest index: 1 MiB of bits and the agencies */
			if (cap >= (2u << 20) ||
			    (nb = realloc(b, cap = cap ? cap * 2 : 65536)) == NULL)
				goto out;
			b = nb;
		}
		if ((n = read(fd, b + len, cap - len)) <= 0)
			break;
		len += (size_t)n;
	}
	if (n == 0)
		ix = archive_index_decode(b, len);
out:
	close(fd);
	free(b);
	return ix;
}

/* The largest indexed prefix not longer than bits, or -1. */
static int
index_prefix(int family, int bits)
{
	const int *t = family == 4 ? v4_bits : v6_bits;
	int n = family == 4 ? (int)NF(v4_bits) : (int)NF(v6_bits), best = -1;

	for (int i = 0; i < n; i++)
		if (t[i] <= bits)
			best = t[i];
	return best;
}

static int
domain_key_has(const struct archive_index *ix, const char *d)
{
	size_t len = strlen(d);

	while (len > 0 && d[len - 1] == '.')
		len--;
	return bloom_has(ix, key_text('d', d, len));
}

int
archive_index_may_match(const struct archive_index *ix,
    const struct archive_query *q)
{
	int p;

	if (ix->events == 0 || ix->min_ts > ix->max_ts)
		return 0;
	if ((q->since != 0 && ix->max_ts < q->since) ||
	    (q->until != 0 && ix->min_ts > q->until))
		return 0;
	if (q->nagencies > 0 && !ix->agencies_all) {
		size_t i, j;

		for (i = 0; i < q->nagencies; i++)
			for (j = 0; j < ix->nag; j++)
				if (strcmp(q->agencies[i], ix->ag[j]) == 0)
					goto agency_ok;
		return 0;
	}
agency_ok:
	if (q->has_ip && (p = index_prefix(q->ip.ip.family, q->ip.bits)) != -1 &&
	    !bloom_has(ix, key_ip(&q->ip.ip, p)))
		return 0;
	if (q->domain != NULL && !domain_key_has(ix, q->domain))
		return 0;
	if (q->user != NULL && !bloom_has(ix, key_text('u', q->user,
	    strlen(q->user))))
		return 0;
	if (q->host != NULL && !bloom_has(ix, key_text('h', q->host,
	    strlen(q->host))))
		return 0;
	if (q->hash != NULL && !bloom_has(ix, key_text('x', q->hash,
	    strlen(q->hash))))
		return 0;
	return 1;
}

int
archive_net_parse(const char *s, struct archive_net *n)
{
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	int max;

	if (soc_ip_parse(s, len, &n->ip) == -1)
		return -1;
	max = n->ip.family == 4 ? 32 : 128;
	n->bits = max;
	if (slash != NULL) {
		char *end;
		long b;

		errno = 0;
		b = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || errno != 0 || b < 0 ||
		    b > max)
			return -1;
		n->bits = (int)b;
	}
	return 0;
}

static int
net_has(const struct archive_net *n, const struct soc_ip *ip)
{
	int bits = n->bits, i;

	if (ip->family != n->ip.family)
		return 0;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (ip->addr[i] != n->ip.addr[i])
			return 0;
	return bits == 0 || ((ip->addr[i] ^ n->ip.addr[i]) &
	    (0xff << (8 - bits)) & 0xff) == 0;
}

static int
text_is(const struct soc_event *ev, const int *f, size_t nf, const char *want)
{
	size_t wl = strlen(want), len;
	const char *s;

	for (size_t i = 0; i < nf; i++)
		if ((s = soc_event_str(ev, f[i], &len)) != NULL && len == wl &&
		    strncasecmp(s, want, wl) == 0)
			return 1;
	return 0;
}

/* The name, or a subdomain of it (case-insensitive, trailing dots). */
static int
domain_is(const struct soc_event *ev, const char *want)
{
	size_t wl = strlen(want), len;
	const char *s;

	while (wl > 0 && want[wl - 1] == '.')
		wl--;
	for (size_t i = 0; i < NF(domain_fields); i++) {
		if ((s = soc_event_str(ev, domain_fields[i], &len)) == NULL)
			continue;
		while (len > 0 && s[len - 1] == '.')
			len--;
		if (len < wl || strncasecmp(s + len - wl, want, wl) != 0)
			continue;
		if (len == wl || s[len - wl - 1] == '.')
			return 1;
	}
	return 0;
}

int
archive_query_needs_event(const struct archive_query *q)
{
	return q->nagencies > 0 || q->has_ip || q->domain != NULL ||
	    q->user != NULL || q->host != NULL || q->hash != NULL ||
	    q->dataset != NULL;
}

int
archive_event_match(const struct archive_query *q, const struct soc_event *ev)
{
	const char *s;
	size_t len;

	if ((q->since != 0 && ev->ts < q->since) ||
	    (q->until != 0 && ev->ts > q->until))
		return 0;
	if (q->nagencies > 0) {
		size_t i;

		if ((s = soc_event_str(ev, SOC_F_ORGANIZATION_ID, &len)) == NULL)
			return 0;
		for (i = 0; i < q->nagencies; i++)
			if (strlen(q->agencies[i]) == len &&
			    memcmp(q->agencies[i], s, len) == 0)
				break;
		if (i == q->nagencies)
			return 0;
	}
	if (q->dataset != NULL && ((s = soc_event_str(ev, SOC_F_EVENT_DATASET,
	    &len)) == NULL || len != strlen(q->dataset) ||
	    memcmp(s, q->dataset, len) != 0))
		return 0;
	if (q->has_ip) {
		const struct soc_ip *ip;
		size_t i;

		for (i = 0; i < NF(ip_fields); i++)
			if ((ip = soc_event_ip(ev, ip_fields[i])) != NULL &&
			    net_has(&q->ip, ip))
				break;
		if (i == NF(ip_fields))
			return 0;
	}
	if (q->domain != NULL && !domain_is(ev, q->domain))
		return 0;
	if (q->user != NULL && !text_is(ev, user_fields, NF(user_fields), q->user))
		return 0;
	if (q->host != NULL && !text_is(ev, host_fields, NF(host_fields), q->host))
		return 0;
	if (q->hash != NULL && !text_is(ev, hash_fields, NF(hash_fields), q->hash))
		return 0;
	return 1;
}
