/*
 * Hashes, one of each kind.
 *
 * soc_hash() is for in-memory tables whose keys can be chosen by a remote
 * party (flow tuples, user names, IP addresses in correlation keys): it is
 * SipHash-1-3 keyed with a per-table secret from soc_hash_seed(), so a
 * sender cannot aim many keys at one chain.
 *
 * soc_fnv1a64() is for values that are kept on disk and must come out the
 * same in every process (log-file fingerprints) or for tables whose keys
 * come only from the operator (rule patterns).  Never use it for keys a
 * remote party chooses.
 */
#ifndef SOC_HASH_H
#define SOC_HASH_H

#include <stddef.h>
#include <stdint.h>

struct soc_hash_key {
	uint64_t	k0, k1;
};

/* A fresh random key (getrandom; falls back to time and address bits). */
void		soc_hash_seed(struct soc_hash_key *key);
uint64_t	soc_hash(const struct soc_hash_key *key, const void *data,
		    size_t len);

#define SOC_FNV64_BASIS	0xcbf29ce484222325ULL
#define SOC_FNV64_PRIME	0x100000001b3ULL

/* FNV-1a, 64 bit; chain calls by passing the previous result as h. */
static inline uint64_t
soc_fnv1a64(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= SOC_FNV64_PRIME;
	}
	return h;
}

#endif
