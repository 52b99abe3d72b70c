/*
 * Indicators of compromise (threat intelligence): the in-memory matcher
 * the correlator runs on every event, and the value rules shared by the
 * importer (socctl intel) and the loader.
 *
 * A set is immutable once built: the correlator builds a new one off the
 * ingest path (intel-load.c) and swaps it in between groups, as rule
 * reloads do, so a load never stalls ingest and nothing points into a
 * set while it is replaced.
 *
 * Lookup cost does not grow with the number of indicators: every value
 * is a key in one open-addressed hash table (SipHash, seeded per set);
 * an address is looked up once per prefix length present in the set,
 * longest first (at most 33 for IPv4, 129 for IPv6: longest-prefix
 * match without a tree to walk); a domain is looked up once per label
 * of the name, longest suffix first (a.b.example.com, b.example.com,
 * example.com, com).
 *
 * Values are normalized before they are stored and before they are
 * looked up (intel_normalize): lowercase names without a trailing dot,
 * addresses in their usual notation, CIDR blocks with the host bits
 * cleared, hex digests in lowercase, URLs without their scheme.  Broad
 * indicators -- a CIDR wider than /16 (IPv4) or /32 (IPv6), a top-level
 * domain or a public suffix -- are refused unless forced; 0.0.0.0/0, ::/0
 * and "." always.
 */
#ifndef SOC_CORR_INTEL_H
#define SOC_CORR_INTEL_H

#include <stddef.h>
#include <stdint.h>

struct soc_event;

enum intel_type {
	INTEL_IP, INTEL_CIDR, INTEL_DOMAIN, INTEL_HOST, INTEL_URL, INTEL_MD5,
	INTEL_SHA1, INTEL_SHA256, INTEL_EMAIL, INTEL_JA4, INTEL_X509,
	INTEL_TYPES
};

#define INTEL_VALUE_MAX		2048	/* a normalized value, bytes */
#define INTEL_TAGS_MAX		1024	/* comma-separated tags */
#define INTEL_SOURCE_MAX	128
#define INTEL_CATEGORY		"intel"	/* incidents of an indicator hit */
#define INTEL_HITS_MAX		8	/* distinct hits reported per event */

/* "ip", "cidr", ... "x509"; NULL out of range. */
const char	*intel_type_name(int t);
/* The type of a name (those above, plus MISP and STIX spellings are
 * not here: see intel-parse.c); -1 if none. */
int		 intel_type_parse(const char *s);

/*
 * Normalizes v (len bytes) as an indicator of type *type into out
 * (NUL-terminated).  An "ip" with a prefix becomes a "cidr", a "cidr"
 * of a single address an "ip" (*type changes).  force accepts broad
 * indicators (not /0 nor ".").  0, or -1 with a static reason in *why.
 */
int	intel_normalize(int *type, const char *v, size_t len, int force,
	    char *out, size_t outlen, const char **why);

/* One indicator, as given to the builder and handed back by lookups. */
struct intel_ind {
	int		 type;		/* enum intel_type */
	const char	*value;		/* normalized */
	const char	*source;
	const char	*tags;		/* comma-separated, "" none */
	int		 confidence;	/* 0..100 */
	int64_t		 first_seen, last_seen;	/* ns, 0 unknown */
	int64_t		 expires;	/* ns, 0 never */
};

struct intel_builder;
struct intel_set;

struct intel_builder *intel_builder_new(void);
/* Copies *ind (its value normalized already).  Of two indicators with
 * the same value, the higher confidence wins, then the later expiry.
 * 0, or -1 on allocation failure (the builder is still freeable). */
int		 intel_builder_add(struct intel_builder *b,
		    const struct intel_ind *ind);
/* The set (the builder is consumed either way); NULL on allocation
 * failure.  version is kept for intel_set_version(). */
struct intel_set *intel_builder_finish(struct intel_builder *b,
		    uint64_t version);
void		 intel_builder_free(struct intel_builder *b);
void		 intel_set_free(struct intel_set *s);
size_t		 intel_set_count(const struct intel_set *s);
uint64_t	 intel_set_version(const struct intel_set *s);
size_t		 intel_set_bytes(const struct intel_set *s);

/*
 * The indicator that matches a value of the given type, as events carry
 * it (type INTEL_IP: an address, longest prefix; INTEL_DOMAIN: a name,
 * its own entry as a host or a domain, else the longest domain suffix;
 * INTEL_URL, INTEL_EMAIL, INTEL_JA4: exact; INTEL_MD5/SHA1/SHA256/X509:
 * a hex digest, any of the four).  Expired at now_ns: no match.  Returns
 * 1 and fills *out (pointers into the set), or 0.
 */
int	intel_lookup(const struct intel_set *s, int type, const char *v,
	    size_t len, int64_t now_ns, struct intel_ind *out);
/* The same for any value: tried as each kind it could be. */
int	intel_lookup_any(const struct intel_set *s, const char *v, size_t len,
	    int64_t now_ns, struct intel_ind *out);
/* Exactly the stored indicator (type, normalized value), expired or not. */
int	intel_find(const struct intel_set *s, int type, const char *value,
	    struct intel_ind *out);

/*
 * Every indicator the event's fields hit (source and destination
 * address, DNS question and answers, TLS SNI, HTTP host and URL, x509
 * names, JA4, user e-mail, hex digests in the message), at most
 * INTEL_HITS_MAX distinct ones, each once; fn gets each with the name of
 * the field it was found in.  The number of hits.
 */
typedef void (*intel_hit_fn)(void *arg, const struct intel_ind *ind,
    const char *field);
int	intel_match_event(const struct intel_set *s, const struct soc_event *ev,
	    int64_t now_ns, intel_hit_fn fn, void *arg);

#endif
