/*
 * A rule set of no rules, for a correlator in role national that was
 * given no rules directory (issue 15 item 17): it matches nothing, but
 * everything that walks a set (ingest, window expiry, the counters)
 * works on it as on any other.  No mapping is read: the mapping only
 * serves to compile rules.
 */
#include <stdlib.h>

#include "rule-int.h"

struct ruleset *
ruleset_empty(void)
{
	struct rs_load ld = { 0 };
	struct ruleset *rs;

	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return NULL;
	if (match_build(rs, &ld) == -1 || (rs->cs = corr_state_new(rs)) == NULL) {
		ruleset_free(rs);
		return NULL;
	}
	return rs;
}
