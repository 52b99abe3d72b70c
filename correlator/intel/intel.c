/*
 * The indicator matcher (intel.h): value normalization, the immutable
 * set (one arena of strings, one array of entries, one open-addressed
 * table of 64-bit slots: 32 bits of the key's hash beside the entry's
 * index, so a miss -- nearly every lookup -- reads only the table), and
 * the walk of an event's fields.
 *
 * Keys are a kind byte and the value: 'C' family prefix-length and the
 * masked address for addresses and blocks (an address is a block of 32
 * or 128 bits), 'D' a domain, 'H' a host name, 'U' a URL, 'X' a hex
 * digest (MD5, SHA-1, SHA-256, x509 fingerprints share it: the length
 * tells them apart), 'E' an e-mail address, 'J' a JA4 fingerprint.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soc/event.h"
#include "soc/hash.h"
#include "intel.h"

#define KEY_MAX		(INTEL_VALUE_MAX + 8)
#define ARENA_MAX	(0xfffffff0u)	/* offsets are 32 bits */

static const char *const type_names[INTEL_TYPES] = {
	"ip", "cidr", "domain", "host", "url", "md5", "sha1", "sha256",
	"email", "ja4", "x509",
};

struct ent {
	uint32_t	 key, val, src, tags;	/* arena offsets */
	uint16_t	 klen;
	uint8_t		 type, conf;
	int64_t		 first, last, expires;
};

struct intel_set {
	struct soc_hash_key	 seed;
	char			*arena;
	size_t			 alen, acap;
	struct ent		*ent;
	size_t			 n, ecap;
	uint64_t		*slot;		/* hash32 << 32 | index + 1 */
	size_t			 scap;		/* power of two */
	uint64_t		 v4len;		/* prefix lengths present */
	uint64_t		 v6len[3];
	unsigned		 kinds;		/* bit per key kind present */
	uint8_t			 dmin, dmax;	/* labels of the domains held */
	uint8_t			 v4priv;	/* an indicator in a private range */
	uint8_t			 xlens;		/* hex lengths held: 1 32, 2 40, 4 64 */
	uint64_t		*bloom;		/* a word per lookup: 3 bits */
	unsigned		 bloom_shift;	/* 64 - log2(words) */
	uint64_t		 version;
	/* builder only: interned sources and tags */
	uint32_t		*intern;
	size_t			 icap, in;
};

/* The builder is the set under construction. */
struct intel_builder {
	struct intel_set	 s;
};

enum { K_C = 1, K_D = 2, K_H = 4, K_U = 8, K_X = 16, K_E = 32, K_J = 64 };

const char *
intel_type_name(int t)
{
	return t >= 0 && t < INTEL_TYPES ? type_names[t] : NULL;
}

int
intel_type_parse(const char *s)
{
	int i;

	for (i = 0; i < INTEL_TYPES; i++)
		if (strcmp(s, type_names[i]) == 0)
			return i;
	return -1;
}

/* --- normalization -------------------------------------------------- */

/* Second-level public suffixes refused as domains unless forced (a short
 * list: the ones an agency's feed is likely to carry by mistake). */
static const char *const public_suffixes[] = {
	"com.vn", "net.vn", "org.vn", "edu.vn", "gov.vn", "ac.vn", "info.vn",
	"biz.vn", "name.vn", "pro.vn", "health.vn", "int.vn",
	"co.uk", "org.uk", "ac.uk", "gov.uk", "com.au", "net.au", "co.jp",
	"com.cn", "net.cn", "org.cn", "com.br", "co.kr", "com.sg", "co.in",
	"blogspot.com", "github.io", "cloudfront.net", "herokuapp.com",
	"azurewebsites.net", "appspot.com", "amazonaws.com", NULL
};

static void
trim(const char **v, size_t *len)
{
	while (*len > 0 && isspace((unsigned char)**v)) {
		(*v)++;
		(*len)--;
	}
	while (*len > 0 && isspace((unsigned char)(*v)[*len - 1]))
		(*len)--;
}

static int
norm_ip(int *type, const char *v, size_t len, int force, char *out,
    size_t outlen, const char **why)
{
	char buf[64], *slash;
	unsigned char a[16];
	long plen;
	int fam, bits, i;

	if (len >= sizeof(buf))
		return *why = "not an IP address", -1;
	memcpy(buf, v, len);
	buf[len] = '\0';
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, a) == 1)
		fam = 4, bits = 32;
	else if (inet_pton(AF_INET6, buf, a) == 1)
		fam = 6, bits = 128;
	else
		return *why = "not an IP address or CIDR block", -1;
	plen = bits;
	if (slash != NULL) {
		char *end;

		if (*slash == '\0' || !isdigit((unsigned char)*slash) ||
		    (plen = strtol(slash, &end, 10)) < 0 || plen > bits ||
		    *end != '\0')
			return *why = "bad prefix length", -1;
	}
	if (plen == 0)
		return *why = "a /0 block matches every address", -1;
	if (!force && plen < (fam == 4 ? 16 : 32))
		return *why = "block too broad (wider than /16 for IPv4, /32 for"
		    " IPv6); force to import it", -1;
	for (i = 0; i < bits / 8; i++) {
		int keep = (int)plen - i * 8;

		if (keep <= 0)
			a[i] = 0;
		else if (keep < 8)
			a[i] &= (unsigned char)(0xff << (8 - keep));
	}
	if (inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, buf, sizeof(buf)) == NULL)
		return *why = "not an IP address", -1;
	if (plen == bits) {
		*type = INTEL_IP;
		snprintf(out, outlen, "%s", buf);
	} else {
		*type = INTEL_CIDR;
		snprintf(out, outlen, "%s/%ld", buf, plen);
	}
	return 0;
}

/* A DNS name: lowercase, no trailing dot, labels of [a-z0-9_-]. */
static int
norm_name(int type, const char *v, size_t len, int force, char *out,
    size_t outlen, const char **why)
{
	size_t i, lab = 0, dots = 0;
	int j;

	if (len >= 2 && v[0] == '*' && v[1] == '.') {
		v += 2;		/* *.example.com: the domain and below */
		len -= 2;
	}
	if (len > 0 && v[len - 1] == '.')
		len--;
	if (len == 0)
		return *why = "an empty name (or \".\") matches every name", -1;
	if (len > 253 || len >= outlen)
		return *why = "name longer than 253 bytes", -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)tolower((unsigned char)v[i]);

		if (c == '.') {
			if (lab == 0)
				return *why = "empty label in name", -1;
			lab = 0;
			dots++;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++lab > 63)
				return *why = "label longer than 63 bytes", -1;
		} else
			return *why = "not a domain or host name", -1;
		out[i] = (char)c;
	}
	if (lab == 0)
		return *why = "empty label in name", -1;
	out[len] = '\0';
	if (type == INTEL_DOMAIN && !force) {
		if (dots == 0)
			return *why = "a top-level domain matches a whole TLD; "
			    "force to import it", -1;
		for (j = 0; public_suffixes[j] != NULL; j++)
			if (strcmp(out, public_suffixes[j]) == 0)
				return *why = "a public suffix matches every "
				    "domain below it; force to import it", -1;
	}
	return 0;
}

static int
norm_hex(int type, const char *v, size_t len, char *out, size_t outlen,
    const char **why)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (type == INTEL_X509 && v[i] == ':')
			continue;
		if (!isxdigit((unsigned char)v[i]))
			return *why = "not a hex digest", -1;
		if (n + 1 >= outlen)
			return *why = "digest too long", -1;
		out[n++] = (char)tolower((unsigned char)v[i]);
	}
	out[n] = '\0';
	switch (type) {
	case INTEL_MD5:	return n == 32 ? 0 : (*why = "an MD5 has 32 hex digits", -1);
	case INTEL_SHA1: return n == 40 ? 0 : (*why = "a SHA-1 has 40 hex digits", -1);
	case INTEL_SHA256: return n == 64 ? 0 :
		    (*why = "a SHA-256 has 64 hex digits", -1);
	}
	return n == 32 || n == 40 || n == 64 ? 0 :
	    (*why = "an x509 fingerprint has 32, 40 or 64 hex digits", -1);
}

/* A URL without its scheme and fragment, host in lowercase, a path. */
static int
norm_url(const char *v, size_t len, char *out, size_t outlen,
    const char **why)
{
	size_t i, n = 0, h;
	const char *p;

	for (i = 0; i < len && i < 16 && isalpha((unsigned char)v[i]); i++)
		;
	if (i > 0 && i + 3 <= len && memcmp(v + i, "://", 3) == 0) {
		v += i + 3;
		len -= i + 3;
	}
	if ((p = memchr(v, '#', len)) != NULL)
		len = (size_t)(p - v);
	for (h = 0; h < len && v[h] != '/' && v[h] != '?'; h++)
		;
	if (h == 0)
		return *why = "a URL needs a host", -1;
	if (len + 2 > outlen)
		return *why = "URL too long", -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c <= ' ' || c == 0x7f)
			return *why = "space or control byte in URL", -1;
		out[n++] = (char)(i < h ? tolower(c) : c);
		if (i + 1 == h && (h == len || v[h] == '?'))
			out[n++] = '/';
	}
	out[n] = '\0';
	return 0;
}

int
intel_normalize(int *type, const char *v, size_t len, int force, char *out,
    size_t outlen, const char **why)
{
	size_t i;
	const char *at;

	trim(&v, &len);
	if (len == 0)
		return *why = "empty value", -1;
	if (len >= INTEL_VALUE_MAX || outlen < 64)
		return *why = "value too long", -1;
	if (memchr(v, '\0', len) != NULL)
		return *why = "NUL byte in value", -1;
	switch (*type) {
	case INTEL_IP:
	case INTEL_CIDR:
		return norm_ip(type, v, len, force, out, outlen, why);
	case INTEL_DOMAIN:
	case INTEL_HOST:
		return norm_name(*type, v, len, force, out, outlen, why);
	case INTEL_URL:
		return norm_url(v, len, out, outlen, why);
	case INTEL_MD5:
	case INTEL_SHA1:
	case INTEL_SHA256:
	case INTEL_X509:
		return norm_hex(*type, v, len, out, outlen, why);
	case INTEL_EMAIL:
		if ((at = memchr(v, '@', len)) == NULL || at == v ||
		    memchr(at + 1, '@', len - (size_t)(at - v) - 1) != NULL)
			return *why = "not an e-mail address", -1;
		if (norm_name(INTEL_HOST, at + 1, len - (size_t)(at - v) - 1, 1,
		    out + (at - v) + 1, outlen - (size_t)(at - v) - 1, why) == -1)
			return *why = "not an e-mail address (its domain)", -1;
		for (i = 0; i < (size_t)(at - v); i++) {
			if ((unsigned char)v[i] <= ' ')
				return *why = "not an e-mail address", -1;
			out[i] = (char)tolower((unsigned char)v[i]);
		}
		out[i] = '@';
		return 0;
	case INTEL_JA4:
		if (len > 128)
			return *why = "not a JA4 fingerprint", -1;
		for (i = 0; i < len; i++) {
			if (!isalnum((unsigned char)v[i]) && v[i] != '_')
				return *why = "not a JA4 fingerprint", -1;
			out[i] = (char)tolower((unsigned char)v[i]);
		}
		out[len] = '\0';
		return 0;
	}
	return *why = "unknown indicator type", -1;
}

/* --- keys ------------------------------------------------------------- */

/* The key of a normalized value; its length, or 0 when none. */
static size_t
make_key(int type, const char *v, char *k)
{
	unsigned char a[16];
	char buf[64], *slash;
	size_t n = strlen(v);
	int fam, plen;

	switch (type) {
	case INTEL_IP:
	case INTEL_CIDR:
		snprintf(buf, sizeof(buf), "%s", v);
		if ((slash = strchr(buf, '/')) != NULL)
			*slash++ = '\0';
		if (inet_pton(AF_INET, buf, a) == 1)
			fam = 4;
		else if (inet_pton(AF_INET6, buf, a) == 1)
			fam = 6;
		else
			return 0;
		plen = slash ? atoi(slash) : fam == 4 ? 32 : 128;
		k[0] = 'C';
		k[1] = (char)fam;
		k[2] = (char)plen;
		memcpy(k + 3, a, fam == 4 ? 4 : 16);
		return fam == 4 ? 7 : 19;
	case INTEL_DOMAIN: k[0] = 'D'; break;
	case INTEL_HOST: k[0] = 'H'; break;
	case INTEL_URL: k[0] = 'U'; break;
	case INTEL_EMAIL: k[0] = 'E'; break;
	case INTEL_JA4: k[0] = 'J'; break;
	default: k[0] = 'X'; break;
	}
	if (n + 1 > KEY_MAX)
		return 0;
	memcpy(k + 1, v, n);
	return n + 1;
}

static unsigned
kind_bit(char k)
{
	switch (k) {
	case 'C': return K_C;
	case 'D': return K_D;
	case 'H': return K_H;
	case 'U': return K_U;
	case 'X': return K_X;
	case 'E': return K_E;
	case 'J': return K_J;
	}
	return 0;
}

/*
 * The blocked Bloom filter in front of the table: one 64-bit word per
 * key, three bits in it, 16 bits per key (2 MB for a million).  Nearly
 * every lookup is a miss, and a miss then costs one read of a small
 * array instead of a cache miss in the large table.
 */
static inline uint64_t
bloom_bits(uint64_t h, size_t *word, unsigned shift)
{
	uint64_t x = h * 0x9e3779b97f4a7c15ULL;

	*word = (size_t)(x >> shift);
	return 1ULL << (x & 63) | 1ULL << ((x >> 6) & 63) |
	    1ULL << ((x >> 12) & 63);
}

/* The entry with key k, or -1; *slot_at the slot it is in or would go. */
static long
find_key(const struct intel_set *s, const char *k, size_t klen, uint64_t h,
    size_t *slot_at)
{
	size_t mask = s->scap - 1, i = (size_t)h & mask, w;
	uint32_t tag = (uint32_t)(h >> 32);
	uint64_t bits;

	if (s->scap == 0)
		return -1;
	if (s->bloom != NULL && slot_at == NULL) {
		bits = bloom_bits(h, &w, s->bloom_shift);
		if ((s->bloom[w] & bits) != bits)
			return -1;
	}
	for (;; i = (i + 1) & mask) {
		uint64_t sl = s->slot[i];
		const struct ent *e;

		if (sl == 0) {
			if (slot_at)
				*slot_at = i;
			return -1;
		}
		if ((uint32_t)(sl >> 32) != tag)
			continue;
		e = &s->ent[(uint32_t)sl - 1];
		if (e->klen == klen && memcmp(s->arena + e->key, k, klen) == 0) {
			if (slot_at)
				*slot_at = i;
			return (long)((uint32_t)sl - 1);
		}
	}
}

static void
fill(const struct intel_set *s, const struct ent *e, struct intel_ind *o)
{
	o->type = e->type;
	o->value = s->arena + e->val;
	o->source = s->arena + e->src;
	o->tags = s->arena + e->tags;
	o->confidence = e->conf;
	o->first_seen = e->first;
	o->last_seen = e->last;
	o->expires = e->expires;
}

/* --- building --------------------------------------------------------- */

/* RFC 1918 and loopback: one side of most gateway flows. */
static int
v4_private(const unsigned char *a)
{
	return a[0] == 10 || a[0] == 127 || (a[0] == 172 &&
	    (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168);
}

static long
arena_put(struct intel_set *s, const void *p, size_t n, int nul)
{
	size_t need = s->alen + n + (nul ? 1 : 0);
	long off = (long)s->alen;

	if (need > ARENA_MAX)
		return -1;
	if (need > s->acap) {
		size_t cap = s->acap ? s->acap : 1 << 16;
		char *a;

		while (cap < need)
			cap *= 2;
		if (cap > ARENA_MAX)
			cap = ARENA_MAX;
		if ((a = realloc(s->arena, cap)) == NULL)
			return -1;
		s->arena = a;
		s->acap = cap;
	}
	memcpy(s->arena + s->alen, p, n);
	s->alen += n;
	if (nul)
		s->arena[s->alen++] = '\0';
	return off;
}

/* An interned NUL-terminated string: sources and tags repeat a lot. */
static long
intern(struct intel_set *s, const char *str)
{
	size_t n = strlen(str), i, mask;
	uint64_t h = soc_hash(&s->seed, str, n);
	long off;

	if (s->in * 2 >= s->icap) {
		size_t cap = s->icap ? s->icap * 2 : 256, j;
		uint32_t *t = calloc(cap, sizeof(*t));

		if (t == NULL)
			return -1;
		for (j = 0; j < s->icap; j++) {
			const char *o;

			if (s->intern[j] == 0)
				continue;
			o = s->arena + s->intern[j] - 1;
			for (i = soc_hash(&s->seed, o, strlen(o)) & (cap - 1);
			    t[i] != 0; i = (i + 1) & (cap - 1))
				;
			t[i] = s->intern[j];
		}
		free(s->intern);
		s->intern = t;
		s->icap = cap;
	}
	mask = s->icap - 1;
	for (i = h & mask; s->intern[i] != 0; i = (i + 1) & mask)
		if (strcmp(s->arena + s->intern[i] - 1, str) == 0)
			return (long)s->intern[i] - 1;
	if ((off = arena_put(s, str, n, 1)) < 0)
		return -1;
	s->intern[i] = (uint32_t)off + 1;
	s->in++;
	return off;
}

static int
grow_slots(struct intel_set *s)
{
	size_t cap = s->scap ? s->scap * 2 : 1024, i, j;
	uint64_t *t;

	if ((t = calloc(cap, sizeof(*t))) == NULL)
		return -1;
	for (i = 0; i < s->n; i++) {
		const struct ent *e = &s->ent[i];
		uint64_t h = soc_hash(&s->seed, s->arena + e->key, e->klen);

		for (j = (size_t)h & (cap - 1); t[j] != 0; j = (j + 1) & (cap - 1))
			;
		t[j] = (h >> 32) << 32 | (uint64_t)(i + 1);
	}
	free(s->slot);
	s->slot = t;
	s->scap = cap;
	return 0;
}

struct intel_builder *
intel_builder_new(void)
{
	struct intel_builder *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	soc_hash_seed(&b->s.seed);
	if (arena_put(&b->s, "", 0, 1) < 0) {	/* offset 0: "" */
		free(b);
		return NULL;
	}
	return b;
}

/* Whether a should replace b: higher confidence, then later expiry. */
static int
better(int conf, int64_t exp, const struct ent *b)
{
	if (conf != b->conf)
		return conf > b->conf;
	if (b->expires == 0)
		return 0;
	return exp == 0 || exp > b->expires;
}

int
intel_builder_add(struct intel_builder *b, const struct intel_ind *ind)
{
	struct intel_set *s = &b->s;
	char k[KEY_MAX];
	size_t klen, at;
	uint64_t h;
	long idx, ko, vo, so, to;
	struct ent *e;
	int conf = ind->confidence < 0 ? 0 : ind->confidence > 100 ? 100 :
	    ind->confidence;

	if ((klen = make_key(ind->type, ind->value, k)) == 0 || klen > 0xffff)
		return 0;	/* not normalized: skipped */
	if ((s->n + 1) * 2 > s->scap && grow_slots(s) == -1)
		return -1;
	h = soc_hash(&s->seed, k, klen);
	if ((idx = find_key(s, k, klen, h, &at)) >= 0) {
		e = &s->ent[idx];
		if (e->first == 0 || (ind->first_seen != 0 &&
		    ind->first_seen < e->first))
			e->first = ind->first_seen;
		if (ind->last_seen > e->last)
			e->last = ind->last_seen;
		if (!better(conf, ind->expires, e))
			return 0;
		if ((so = intern(s, ind->source ? ind->source : "")) < 0 ||
		    (to = intern(s, ind->tags ? ind->tags : "")) < 0)
			return -1;
		e->src = (uint32_t)so;
		e->tags = (uint32_t)to;
		e->conf = (uint8_t)conf;
		e->expires = ind->expires;
		e->type = (uint8_t)ind->type;
		return 0;
	}
	if (s->n == s->ecap) {
		size_t cap = s->ecap ? s->ecap * 2 : 1024;
		struct ent *ne = realloc(s->ent, cap * sizeof(*ne));

		if (ne == NULL)
			return -1;
		s->ent = ne;
		s->ecap = cap;
	}
	if ((ko = arena_put(s, k, klen, 0)) < 0 ||
	    (vo = k[0] == 'C' ? arena_put(s, ind->value, strlen(ind->value), 1) :
	    ko + 1) < 0 ||
	    (k[0] != 'C' && arena_put(s, "", 0, 1) < 0) ||
	    (so = intern(s, ind->source ? ind->source : "")) < 0 ||
	    (to = intern(s, ind->tags ? ind->tags : "")) < 0)
		return -1;
	e = &s->ent[s->n];
	*e = (struct ent){
		.key = (uint32_t)ko, .val = (uint32_t)vo, .src = (uint32_t)so,
		.tags = (uint32_t)to, .klen = (uint16_t)klen,
		.type = (uint8_t)ind->type, .conf = (uint8_t)conf,
		.first = ind->first_seen, .last = ind->last_seen,
		.expires = ind->expires,
	};
	s->slot[at] = (h >> 32) << 32 | (uint64_t)(s->n + 1);
	s->n++;
	s->kinds |= kind_bit(k[0]);
	if (k[0] == 'D') {
		size_t j, labels = 1;

		for (j = 1; j < klen; j++)
			labels += k[j] == '.';
		if (labels > 255)
			labels = 255;
		if (s->dmin == 0 || labels < s->dmin)
			s->dmin = (uint8_t)labels;
		if (labels > s->dmax)
			s->dmax = (uint8_t)labels;
	} else if (k[0] == 'X')
		s->xlens |= klen == 33 ? 1 : klen == 41 ? 2 : klen == 65 ? 4 : 0;
	if (k[0] == 'C') {
		int plen = (unsigned char)k[2];

		if (k[1] == 4) {
			s->v4len |= 1ULL << plen;
			if (plen < 16 || v4_private((const unsigned char *)k + 3))
				s->v4priv = 1;
		} else
			s->v6len[plen / 64] |= 1ULL << (plen % 64);
	}
	return 0;
}

void
intel_builder_free(struct intel_builder *b)
{
	if (b != NULL)
		intel_set_free((struct intel_set *)b);
}

struct intel_set *
intel_builder_finish(struct intel_builder *b, uint64_t version)
{
	struct intel_set *s = &b->s;

	free(s->intern);
	s->intern = NULL;
	s->icap = s->in = 0;
	if (s->scap == 0 && grow_slots(s) == -1) {
		intel_set_free(s);
		return NULL;
	}
	if (s->n > 0) {
		size_t words = 64, i, w;
		unsigned lg = 6;

		while (words * 64 < s->n * 16) {
			words *= 2;
			lg++;
		}
		if ((s->bloom = calloc(words, sizeof(uint64_t))) == NULL) {
			intel_set_free(s);
			return NULL;
		}
		s->bloom_shift = 64 - lg;
		for (i = 0; i < s->n; i++) {
			const struct ent *e = &s->ent[i];
			uint64_t bits = bloom_bits(soc_hash(&s->seed,
			    s->arena + e->key, e->klen), &w, s->bloom_shift);

			s->bloom[w] |= bits;
		}
	}
	s->version = version;
	return s;	/* first member: the builder is the set */
}

void
intel_set_free(struct intel_set *s)
{
	if (s == NULL)
		return;
	free(s->arena);
	free(s->ent);
	free(s->slot);
	free(s->intern);
	free(s->bloom);
	free(s);
}

size_t
intel_set_count(const struct intel_set *s)
{
	return s ? s->n : 0;
}

uint64_t
intel_set_version(const struct intel_set *s)
{
	return s ? s->version : 0;
}

size_t
intel_set_bytes(const struct intel_set *s)
{
	size_t words = s && s->bloom ? (size_t)1 << (64 - s->bloom_shift) : 0;

	return s ? s->acap + s->ecap * sizeof(struct ent) +
	    s->scap * sizeof(uint64_t) + words * sizeof(uint64_t) : 0;
}

/* --- lookups ---------------------------------------------------------- */

static long
get_h(const struct intel_set *s, const char *k, size_t klen, uint64_t h,
    int64_t now)
{
	long i = find_key(s, k, klen, h, NULL);

	if (i >= 0 && s->ent[i].expires != 0 && s->ent[i].expires <= now)
		return -1;
	return i;
}

static long
get(const struct intel_set *s, const char *k, size_t klen, int64_t now)
{
	return get_h(s, k, klen, soc_hash(&s->seed, k, klen), now);
}

/*
 * The hash of a key about to be looked up, with its Bloom word fetched
 * ahead: the keys of one value (an address's prefix lengths, a name's
 * suffixes) are hashed and fetched first and tested after, so their
 * cache misses overlap instead of adding up.
 */
static uint64_t
hash_ahead(const struct intel_set *s, const char *k, size_t klen)
{
	uint64_t h = soc_hash(&s->seed, k, klen);
	size_t w;

	if (s->bloom != NULL) {
		(void)bloom_bits(h, &w, s->bloom_shift);
		__builtin_prefetch(&s->bloom[w]);
	}
	return h;
}

static long
find_ip(const struct intel_set *s, int fam, const unsigned char *a,
    int64_t now)
{
	char k[129][19];
	uint64_t h[129];
	int plen, bits = fam == 4 ? 32 : 128, n = bits / 8, i, nk = 0;
	long r;

	if (!(s->kinds & K_C))
		return -1;
	/* a private address is looked up only if the set holds one */
	if (fam == 4 && !s->v4priv && v4_private(a))
		return -1;
	for (plen = bits; plen > 0; plen--) {
		if (fam == 4 ? !(s->v4len >> plen & 1) :
		    !(s->v6len[plen / 64] >> (plen % 64) & 1))
			continue;
		k[nk][0] = 'C';
		k[nk][1] = (char)fam;
		k[nk][2] = (char)plen;
		for (i = 0; i < n; i++) {
			int keep = plen - i * 8;

			k[nk][3 + i] = (char)(keep >= 8 ? a[i] : keep <= 0 ? 0 :
			    a[i] & (0xff << (8 - keep)));
		}
		h[nk] = hash_ahead(s, k[nk], (size_t)(3 + n));
		nk++;
	}
	/* longest first */
	for (i = 0; i < nk; i++)
		if ((r = get_h(s, k[i], (size_t)(3 + n), h[i], now)) >= 0)
			return r;
	return -1;
}

/* A name as events carry it: lowercased into k + 1, no trailing dot. */
static size_t
lower_name(const char *v, size_t len, char *k)
{
	size_t i;

	while (len > 0 && v[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++)
		k[1 + i] = (char)tolower((unsigned char)v[i]);
	return len;
}

static long
find_name(const struct intel_set *s, const char *v, size_t len, int64_t now)
{
	char k[260];
	size_t n, i, labels, at[128];
	uint64_t h[128];
	int nk = 0, j;
	long r;

	if (!(s->kinds & (K_D | K_H)) || (n = lower_name(v, len, k)) == 0)
		return -1;
	if (s->kinds & K_H) {
		k[0] = 'H';
		if ((r = get(s, k, n + 1, now)) >= 0)
			return r;
	}
	if (!(s->kinds & K_D))
		return -1;
	for (i = 1, labels = 1; i <= n; i++)
		labels += k[i] == '.';
	/* the name, then each parent: k + i is 'D' then a suffix; only
	 * suffixes with as many labels as some domain in the set */
	for (i = 0; i < n && nk < 128; i++) {
		if (i > 0 && k[i] != '.')
			continue;
		if (i > 0)
			labels--;
		if (labels > s->dmax)
			continue;
		if (labels < s->dmin)
			break;
		k[i] = 'D';
		h[nk] = hash_ahead(s, k + i, n + 1 - i);
		k[i] = '.';
		at[nk++] = i;
	}
	for (j = 0; j < nk; j++) {
		i = at[j];
		k[i] = 'D';
		r = get_h(s, k + i, n + 1 - i, h[j], now);
		k[i] = '.';
		if (r >= 0)
			return r;
	}
	return -1;
}

static long
find_text(const struct intel_set *s, char kind, const char *v, size_t len,
    int lower, int64_t now)
{
	char k[KEY_MAX];
	size_t i;

	if (!(s->kinds & kind_bit(kind)) || len == 0 || len + 1 > KEY_MAX)
		return -1;
	k[0] = kind;
	for (i = 0; i < len; i++)
		k[1 + i] = lower ? (char)tolower((unsigned char)v[i]) : v[i];
	return get(s, k, len + 1, now);
}

/* A URL as an event carries it: url.original, maybe only a path. */
static long
find_url(const struct intel_set *s, const char *host, size_t hlen,
    const char *v, size_t len, int64_t now)
{
	char buf[INTEL_VALUE_MAX];
	const char *why;
	int t = INTEL_URL;

	if (!(s->kinds & K_U))
		return -1;
	if (len > 0 && v[0] == '/') {
		if (host == NULL || hlen == 0 || hlen + len >= sizeof(buf))
			return -1;
		memcpy(buf, host, hlen);
		memcpy(buf + hlen, v, len);
		v = buf;
		len += hlen;
	}
	{
		char out[INTEL_VALUE_MAX];

		if (intel_normalize(&t, v, len, 1, out, sizeof(out), &why) == -1)
			return -1;
		return find_text(s, 'U', out, strlen(out), 0, now);
	}
}

static long
find_any(const struct intel_set *s, const char *v, size_t len, int64_t now)
{
	char buf[64];
	unsigned char a[16];
	const char *at;
	long r;

	if (len < sizeof(buf)) {
		memcpy(buf, v, len);
		buf[len] = '\0';
		if (inet_pton(AF_INET, buf, a) == 1)
			return find_ip(s, 4, a, now);
		if (inet_pton(AF_INET6, buf, a) == 1)
			return find_ip(s, 6, a, now);
	}
	if ((at = memchr(v, '@', len)) != NULL)
		return find_text(s, 'E', v, len, 1, now);
	if ((r = find_text(s, 'X', v, len, 1, now)) >= 0 ||
	    (r = find_text(s, 'J', v, len, 1, now)) >= 0)
		return r;
	if (memchr(v, '/', len) != NULL)
		return find_url(s, NULL, 0, v, len, now);
	return find_name(s, v, len, now);
}

int
intel_lookup(const struct intel_set *s, int type, const char *v, size_t len,
    int64_t now_ns, struct intel_ind *out)
{
	long r = -1;

	if (s == NULL)
		return 0;
	switch (type) {
	case INTEL_IP:
	case INTEL_CIDR:
	case INTEL_DOMAIN:
	case INTEL_HOST:
		r = find_any(s, v, len, now_ns);
		break;
	case INTEL_URL:
		r = find_url(s, NULL, 0, v, len, now_ns);
		break;
	case INTEL_EMAIL:
		r = find_text(s, 'E', v, len, 1, now_ns);
		break;
	case INTEL_JA4:
		r = find_text(s, 'J', v, len, 1, now_ns);
		break;
	default:
		r = find_text(s, 'X', v, len, 1, now_ns);
		break;
	}
	if (r < 0)
		return 0;
	fill(s, &s->ent[r], out);
	return 1;
}

int
intel_lookup_any(const struct intel_set *s, const char *v, size_t len,
    int64_t now_ns, struct intel_ind *out)
{
	long r;

	if (s == NULL || (r = find_any(s, v, len, now_ns)) < 0)
		return 0;
	fill(s, &s->ent[r], out);
	return 1;
}

int
intel_find(const struct intel_set *s, int type, const char *value,
    struct intel_ind *out)
{
	char k[KEY_MAX];
	size_t klen;
	long r;

	if (s == NULL || (klen = make_key(type, value, k)) == 0 ||
	    (r = find_key(s, k, klen, soc_hash(&s->seed, k, klen), NULL)) < 0)
		return 0;
	fill(s, &s->ent[r], out);
	return 1;
}

/* --- events ----------------------------------------------------------- */

struct hits {
	const struct intel_set	*s;
	const char		*names[4];	/* looked up already */
	size_t			 nlen[4];
	int			 nnames;
	long			 seen[INTEL_HITS_MAX];
	int			 n;
	intel_hit_fn		 fn;
	void			*arg;
};

static void
hit(struct hits *h, long r, int f)
{
	struct intel_ind ind;
	int i;

	if (r < 0 || h->n >= INTEL_HITS_MAX)
		return;
	for (i = 0; i < h->n; i++)
		if (h->seen[i] == r)
			return;
	h->seen[h->n++] = r;
	fill(h->s, &h->s->ent[r], &ind);
	h->fn(h->arg, &ind, soc_field_name(f));
}

static void
match_ip(struct hits *h, const struct soc_event *ev, int f, int64_t now)
{
	const struct soc_ip *ip;

	if (soc_event_has(ev, f) && (ip = soc_event_ip(ev, f)) != NULL)
		hit(h, find_ip(h->s, ip->family, ip->addr, now), f);
}

static void
match_name(struct hits *h, const struct soc_event *ev, int f, int64_t now)
{
	const char *v;
	size_t len;

	int i;

	if (!soc_event_has(ev, f) || (v = soc_event_str(ev, f, &len)) == NULL)
		return;
	/* the query name, the SNI and the URL's host are often one name */
	for (i = 0; i < h->nnames; i++)
		if (h->nlen[i] == len && memcmp(h->names[i], v, len) == 0)
			return;
	if (h->nnames < 4) {
		h->names[h->nnames] = v;
		h->nlen[h->nnames++] = len;
	}
	hit(h, find_name(h->s, v, len, now), f);
}

/* A list (answers, alternative names): each token an address or a name. */
static void
match_list(struct hits *h, const struct soc_event *ev, int f, int64_t now)
{
	const char *v, *p, *end;
	size_t len;

	if (!soc_event_has(ev, f) || (v = soc_event_str(ev, f, &len)) == NULL)
		return;
	for (p = v, end = v + len; p < end; ) {
		const char *t = p;

		while (p < end && *p != ',' && *p != ' ' && *p != ';')
			p++;
		if (p > t)
			hit(h, find_any(h->s, t, (size_t)(p - t), now), f);
		p++;
	}
}

/* 1 hex digit, 2 other letter or digit: the hex scan's classes. */
static const uint8_t cls[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['g'] = 2, ['h'] = 2, ['i'] = 2, ['j'] = 2, ['k'] = 2, ['l'] = 2,
	['m'] = 2, ['n'] = 2, ['o'] = 2, ['p'] = 2, ['q'] = 2, ['r'] = 2,
	['s'] = 2, ['t'] = 2, ['u'] = 2, ['v'] = 2, ['w'] = 2, ['x'] = 2,
	['y'] = 2, ['z'] = 2,
	['G'] = 2, ['H'] = 2, ['I'] = 2, ['J'] = 2, ['K'] = 2, ['L'] = 2,
	['M'] = 2, ['N'] = 2, ['O'] = 2, ['P'] = 2, ['Q'] = 2, ['R'] = 2,
	['S'] = 2, ['T'] = 2, ['U'] = 2, ['V'] = 2, ['W'] = 2, ['X'] = 2,
	['Y'] = 2, ['Z'] = 2,
};

static int
alnum(char c)
{
	return cls[(unsigned char)c] != 0;
}

/* Hex runs of 32, 40 or 64 digits standing alone (Sysmon's Hashes). */
static void
match_hex(struct hits *h, const struct soc_event *ev, int f, int64_t now)
{
	const char *v, *p, *end;
	size_t len;

	if (!(h->s->kinds & K_X) || !soc_event_has(ev, f) ||
	    (v = soc_event_str(ev, f, &len)) == NULL)
		return;
	for (p = v, end = v + len; p < end; ) {
		const char *t = p;
		size_t n;

		while (p < end && cls[(unsigned char)*p] == 1)
			p++;
		n = (size_t)(p - t);
		if (((n == 32 && (h->s->xlens & 1)) || (n == 40 &&
		    (h->s->xlens & 2)) || (n == 64 && (h->s->xlens & 4))) &&
		    (t == v || !alnum(t[-1])) &&
		    (p == end || !alnum(*p)))
			hit(h, find_text(h->s, 'X', t, n, 1, now), f);
		if (p == t)
			p++;
		else
			while (p < end && alnum(*p))
				p++;
	}
}

int
intel_match_event(const struct intel_set *s, const struct soc_event *ev,
    int64_t now, intel_hit_fn fn, void *arg)
{
	struct hits h = { .s = s, .fn = fn, .arg = arg };
	const char *v, *dom;
	size_t len, dlen = 0;

	if (s == NULL || s->n == 0)
		return 0;
	match_ip(&h, ev, SOC_F_SOURCE_IP, now);
	match_ip(&h, ev, SOC_F_DEST_IP, now);
	if (s->kinds & (K_D | K_H | K_C)) {
		match_name(&h, ev, SOC_F_DNS_QNAME, now);
		match_name(&h, ev, SOC_F_TLS_SNI, now);
		match_name(&h, ev, SOC_F_URL_DOMAIN, now);
		match_name(&h, ev, SOC_F_SOURCE_DOMAIN, now);
		match_name(&h, ev, SOC_F_X509_SUBJECT_CN, now);
		match_list(&h, ev, SOC_F_DNS_ANSWERS, now);
		match_list(&h, ev, SOC_F_X509_ALT_NAMES, now);
	}
	if ((s->kinds & K_U) && soc_event_has(ev, SOC_F_URL_ORIGINAL) &&
	    (v = soc_event_str(ev, SOC_F_URL_ORIGINAL, &len)) != NULL) {
		if ((dom = soc_event_str(ev, SOC_F_URL_DOMAIN, &dlen)) == NULL)
			dlen = 0;
		hit(&h, find_url(s, dom, dlen, v, len, now), SOC_F_URL_ORIGINAL);
	}
	if ((s->kinds & K_J) && soc_event_has(ev, SOC_F_TLS_JA4) &&
	    (v = soc_event_str(ev, SOC_F_TLS_JA4, &len)) != NULL)
		hit(&h, find_text(s, 'J', v, len, 1, now), SOC_F_TLS_JA4);
	if ((s->kinds & K_E) && soc_event_has(ev, SOC_F_USER_NAME) &&
	    (v = soc_event_str(ev, SOC_F_USER_NAME, &len)) != NULL &&
	    memchr(v, '@', len) != NULL)
		hit(&h, find_text(s, 'E', v, len, 1, now), SOC_F_USER_NAME);
	match_hex(&h, ev, SOC_F_MESSAGE, now);
	match_hex(&h, ev, SOC_F_FILE_PATH, now);
	return h.n;
}
