/*
 * Rules the daemon raises itself, not written in YAML (today: the three
 * indicator-hit rules of ingest-intel.c, by confidence).  They carry only
 * the metadata an incident needs (rules.h: rule_id() ... rule_tags()) and
 * never match an event; their address is their identity for aggregation.
 * Freed as any rule is (rule_free).
 */
#include <stdlib.h>
#include <string.h>

#include "rule-int.h"
#include "rules.h"

struct rule *
rule_builtin_new(const char *id, const char *title, const char *level,
    const char *tags, int severity)
{
	struct rule *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->id = strdup(id)) == NULL || (r->name = strdup(id)) == NULL ||
	    (r->title = strdup(title)) == NULL ||
	    (r->level = strdup(level)) == NULL ||
	    (r->author = strdup("")) == NULL ||
	    (r->tags = strdup(tags)) == NULL ||
	    (r->status = strdup("stable")) == NULL) {
		rule_builtin_free(r);
		return NULL;
	}
	r->severity = severity;
	return r;
}

void
rule_builtin_free(struct rule *r)
{
	rule_free(r);		/* the fields it never set are NULL */
}
