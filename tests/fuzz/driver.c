/*
 * Stand-alone driver for the fuzz targets, used when they are not built
 * with libFuzzer: replays every file of the corpus directory, then runs a
 * bounded, seeded mutation loop over the corpus (bit flips, byte sets,
 * truncation, splicing, length-field garbling) so `make test` exercises
 * each parser under ASan/UBSan with any compiler, deterministically.
 *
 * usage: fuzz-smoke-X CORPUS_DIR [-runs=N] [-seed=S] [FILE...]
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define MAX_SEEDS	256
#define FUZZ_MAX_INPUT	65536

static uint8_t	*seed[MAX_SEEDS];
static size_t	 seed_len[MAX_SEEDS];
static int	 nseeds;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	uint64_t x = rng_state;	/* xorshift64* */

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static void
load_file(const char *path)
{
	FILE *f;
	uint8_t *buf;
	size_t n;

	if (nseeds >= MAX_SEEDS || (f = fopen(path, "rb")) == NULL)
		return;
	buf = malloc(FUZZ_MAX_INPUT);
	n = buf ? fread(buf, 1, FUZZ_MAX_INPUT, f) : 0;
	fclose(f);
	if (buf == NULL)
		return;
	seed[nseeds] = buf;
	seed_len[nseeds++] = n;
}

static void
load_dir(const char *dir)
{
	struct dirent **ents;
	char path[4096];
	int n;

	if ((n = scandir(dir, &ents, NULL, alphasort)) < 0)
		return;
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
			load_file(path);
		}
		free(ents[i]);
	}
	free(ents);
}

static size_t
mutate(uint8_t *buf, size_t len)
{
	int rounds = 1 + (int)(rng() % 4);

	for (int r = 0; r < rounds; r++) {
		size_t at = len ? rng() % len : 0;
		const uint8_t *o;
		size_t olen, take;
		int k;

		switch (rng() % 7) {
		case 0:
			if (len)
				buf[at] ^= (uint8_t)(1u << (rng() % 8));
			break;
		case 1:
			if (len)
				buf[at] = (uint8_t)rng();
			break;
		case 2:
			if (len)
				buf[at] = (uint8_t[]){0, 0xff, 0x7f, 0x80, '\n', '"', '%', '.'}[rng() % 8];
			break;
		case 3:
			len = len ? rng() % len : 0;	/* truncate */
			break;
		case 4:		/* splice a piece of another seed */
			k = (int)(rng() % nseeds);
			o = seed[k];
			olen = seed_len[k];
			take = olen ? rng() % olen : 0;
			if (at + take > FUZZ_MAX_INPUT)
				take = FUZZ_MAX_INPUT - at;
			memcpy(buf + at, o, take);
			if (at + take > len)
				len = at + take;
			break;
		case 5:		/* large 16/32-bit value (length fields) */
			if (len >= 2) {
				at = rng() % (len - 1);
				buf[at] = 0xff;
				buf[at + 1] = (uint8_t)rng();
			}
			break;
		case 6:		/* duplicate a chunk */
			if (len && len < FUZZ_MAX_INPUT / 2) {
				take = rng() % (len - at);
				memmove(buf + at + take, buf + at, len - at);
				len += take;
			}
			break;
		}
	}
	return len;
}

int
main(int argc, char **argv)
{
	long runs = 10000;
	uint8_t *buf;
	int i;

	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "-runs=", 6) == 0)
			runs = atol(argv[i] + 6);
		else if (strncmp(argv[i], "-seed=", 6) == 0)
			rng_state = strtoull(argv[i] + 6, NULL, 0) | 1;
		else if (argv[i][0] != '-') {
			load_dir(argv[i]);
			load_file(argv[i]);	/* a plain file works too */
		}
	}
	if (nseeds == 0) {
		static uint8_t empty[1];

		seed[0] = empty;
		seed_len[0] = 0;
		nseeds = 1;
	}
	for (i = 0; i < nseeds; i++)
		LLVMFuzzerTestOneInput(seed[i], seed_len[i]);
	if ((buf = malloc(FUZZ_MAX_INPUT)) == NULL)
		return 1;
	for (long r = 0; r < runs; r++) {
		int s = (int)(rng() % nseeds);
		size_t len = seed_len[s];

		memcpy(buf, seed[s], len);
		len = mutate(buf, len);
		LLVMFuzzerTestOneInput(buf, len);
	}
	free(buf);
	printf("%d seeds, %ld mutated inputs: no crash\n", nseeds, runs);
	return 0;
}
