/*
 * Fuzz target: the archive's readers of untrusted bytes (a segment: zstd
 * frames of JSON lines; an index).  The first byte picks the reader; the
 * rest is the file.  Must never crash, hang or leak; matches are counted.
 */
#include <stddef.h>
#include <stdint.h>

#include "evarchive.h"

#include "fuzz.h"

static int
on_match(void *arg, const char *line, size_t len, int64_t ts,
    const struct soc_event *ev)
{
	(void)line, (void)len, (void)ts, (void)ev;
	(*(uint64_t *)arg)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct archive_rstats rs = { 0 };
	struct archive_query q = { 0 };
	struct archive_index *ix;
	const char *words[2] = { "a", "a" };
	uint64_t n = 0;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		archive_scan_bytes(data + 1, size - 1, NULL, on_match, &n, &rs);
		break;
	case 1:
		q.words = words;
		q.nwords = 1 + data[0] / 3 % 2;
		if (data[0] / 3 % 2)
			words[0] = "\"@tIMe";	/* its first and last bytes */
		q.user = "root";
		archive_scan_bytes(data + 1, size - 1, &q, on_match, &n, &rs);
		break;
	case 2:
		if ((ix = archive_index_decode(data + 1, size - 1)) != NULL) {
			q.domain = "example.com";
			archive_index_may_match(ix, &q);
			archive_index_free(ix);
		}
		break;
	}
	return 0;
}
