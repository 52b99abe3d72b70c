/*
 * Copies the rule engine's per-agency correlation-window counters
 * (ruleset_corr_agency) into the store, so `socctl stats` shows what
 * SIGUSR1 logs (issue 11, item 2): how many windows each agency holds
 * and how many of its windows were evicted.  The main loop calls it
 * every 10 s; a digest of the last rows written skips writes when
 * nothing moved (an idle correlator does not write its database).
 */
#include <stdlib.h>
#include <string.h>

#include "corr-stats.h"

static uint64_t	last_digest;	/* of the rows last written; 0 none */

static uint64_t
digest_add(uint64_t h, const void *p, size_t len)
{
	const unsigned char *c = p;

	while (len-- > 0)
		h = (h ^ *c++) * 1099511628211ULL;
	return h;
}

int
corr_windows_save(struct store *st, const struct ruleset *rs, int64_t now_ns)
{
	struct store_window_count *w;
	const char *name;
	uint64_t evicted, h = 14695981039346656037ULL;
	size_t i, k = 0, keys, n = ruleset_corr_agencies(rs);
	int rc;

	if ((w = calloc(n, sizeof(*w))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (ruleset_corr_agency(rs, i, &name, &keys, &evicted) == -1 ||
		    (keys == 0 && evicted == 0))
			continue;
		w[k].agency = name;
		w[k].held = keys;
		w[k].evicted = evicted;
		h = digest_add(h, name, strlen(name) + 1);
		h = digest_add(h, &w[k].held, sizeof(w[k].held));
		h = digest_add(h, &w[k].evicted, sizeof(w[k].evicted));
		k++;
	}
	if (h == last_digest) {
		free(w);
		return 0;
	}
	if ((rc = store_windows_save(st, w, k, now_ns)) == 0)
		last_digest = h;
	free(w);
	return rc;
}
