/*
 * soc_hash is SipHash-1-3: the expected values are CPython's hash() of the
 * same bytes with PYTHONHASHSEED=0 (CPython 3.11+ uses SipHash-1-3 with an
 * all-zero key then), so they come from an independent implementation.
 */
#include <string.h>

#include "soc/hash.h"
#include "check.h"

int
main(void)
{
	struct soc_hash_key zero = { 0, 0 }, a, b;
	static const struct { const char *in; long long want; } v[] = {
		{ "a", 4644417185603328019LL },
		{ "abc", -4594863902769663758LL },
		{ "hello world!!", -8602798515680944651LL },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		CHECK_INT((long long)soc_hash(&zero, v[i].in, strlen(v[i].in)),
		    v[i].want);
	soc_hash_seed(&a);
	soc_hash_seed(&b);
	CHECK(a.k0 != b.k0 || a.k1 != b.k1);
	CHECK(soc_hash(&a, "abc", 3) != soc_hash(&zero, "abc", 3));
	/* FNV-1a 64 reference values (Fowler/Noll/Vo test suite). */
	CHECK(soc_fnv1a64(SOC_FNV64_BASIS, "", 0) == 0xcbf29ce484222325ULL);
	CHECK(soc_fnv1a64(SOC_FNV64_BASIS, "a", 1) == 0xaf63dc4c8601ec8cULL);
	CHECK(soc_fnv1a64(SOC_FNV64_BASIS, "foobar", 6) == 0x85944171f73967e8ULL);
	return check_done();
}
