/*
 * Indicator hits inside ingest (ingest-intel.h).  A hit goes through the
 * same aggregation as a rule's alert (incident-agg.c): the key is one of
 * three built-in "rules" (by the indicator's confidence: low, medium,
 * high), the agency, and the group key "TYPE VALUE", so a storm of hits
 * on one indicator is one incident write per group, and an undone batch
 * takes its hits with it.  When the incident is written, the indicator
 * as the set holds it is recorded beside it (store_intel_note).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "soc/json.h"
#include "soc/log.h"
#include "soc/util.h"
#include "incident-agg.h"
#include "ingest-int.h"
#include "ingest-intel.h"
#include "intel.h"
#include "rules.h"
#include "store-intel.h"

/* The three built-in rules (rule-builtin.c), made once per process. */
static struct rule	*intel_rules[3];
static pthread_once_t	 intel_rules_once = PTHREAD_ONCE_INIT;

static void
intel_rules_make(void)
{
	static const char *const lvl[3] = { "low", "medium", "high" };

	for (int i = 0; i < 3; i++)
		if ((intel_rules[i] = rule_builtin_new("intel",
		    "Threat intelligence indicator seen", lvl[i], "intel",
		    i + 1)) == NULL)
			fatalx("out of memory for the indicator rules");
}

static uint64_t hits_total;

struct hit_ctx {
	struct ingest		*in;
	struct batch_ctx	*bc;
	int			 failed;
};

int
ingest_intel_rule(const struct rule *r)
{
	pthread_once(&intel_rules_once, intel_rules_make);
	return r != NULL && (r == intel_rules[0] || r == intel_rules[1] ||
	    r == intel_rules[2]);
}

/*
 * Sigma's |intel: the field's value (an address, a name, a digest, ...)
 * looked up as the matcher would; set NULL is any set, else the value's
 * indicator must come from that set (of two sets holding one value, the
 * set keeps the indicator of higher confidence).
 */
static int
rule_member(void *arg, const struct soc_event *ev, int field, const char *set)
{
	struct ingest *in = arg;
	struct intel_ind ind;
	char buf[INTEL_VALUE_MAX];
	int len;

	if (in->intel == NULL ||
	    (len = soc_event_text(ev, field, buf, sizeof(buf))) <= 0 ||
	    !intel_lookup_any(in->intel, buf, (size_t)len, soc_now_ns(), &ind))
		return 0;
	return set == NULL || strcmp(ind.source, set) == 0;
}

struct intel_set *
ingest_set_intel(struct ingest *in, struct intel_set *s)
{
	struct intel_set *old = in->intel;

	in->intel = s;
	ruleset_intel_hook(s != NULL ? rule_member : NULL, s != NULL ? in : NULL);
	return old;
}

uint64_t
ingest_intel_hits(const struct ingest *in)
{
	(void)in;
	return hits_total;
}

const struct rule *
ingest_intel_rule_of(int confidence)
{
	pthread_once(&intel_rules_once, intel_rules_make);
	return intel_rules[confidence >= 75 ? 2 : confidence >= 40 ? 1 : 0];
}

/* The aggregation is full: this hit is written alone, now. */
static int
write_alone(struct ingest *in, const struct store_sensor *sen,
    const struct rule *r, const char *key, const struct intel_ind *ind,
    const char *field)
{
	const char *ev[1];
	struct store_flush f;
	int64_t id;
	int how;

	soc_sbuf_reset(&in->fjson);
	soc_json_event(&in->fjson, &in->ev);
	soc_sbuf_add(&in->fjson, "", 1);
	ev[0] = in->fjson.oom ? NULL : in->fjson.data;
	f = (struct store_flush){
		.hit = {
			.rule_id = rule_id(r), .rule_title = rule_title(r),
			.rule_level = rule_level(r), .rule_author = rule_author(r),
			.rule_tags = rule_tags(r), .severity = rule_severity(r),
			.agency = sen->agency, .sensor = sen->name,
			.group_key = key, .first_ts = in->ev.ts,
			.last_ts = in->ev.ts, .count = 1,
		},
		.category = INTEL_CATEGORY,
		.nalerts = 1,
		.ev_first = ev, .nfirst = 1,
		.keep_first = in->keep_first, .keep_last = in->keep_last,
		.reopen_within_ns = in->reopen_within,
		.caller_undoes = 1,
	};
	in->n.incident_writes++;
	if (store_incident_flush(in->st, &f, &id, &how) == -1 ||
	    store_intel_note(in->st, id, ind, field) == -1)
		return -1;
	if (how == STORE_FLUSH_CREATED)
		in->n.incidents_new++;
	return 0;
}

static void
on_hit(void *arg, const struct intel_ind *ind, const char *field)
{
	struct hit_ctx *h = arg;
	struct ingest *in = h->in;
	const struct store_sensor *sen = h->bc->sen;
	const struct rule *r = ingest_intel_rule_of(ind->confidence);
	char key[INTEL_VALUE_MAX + 16];
	int keep = in->keep_first > 0 || in->keep_last > 0;

	hits_total++;
	in->n.alerts++;
	snprintf(key, sizeof(key), "%s %s", intel_type_name(ind->type),
	    ind->value);
	if (agg_add(in->agg, r, sen->agency, sen->name, key, in->ev.ts,
	    in->ev.ts, 1, rule_severity(r), in->evno, sen->name,
	    strlen(sen->name) + 1, keep ? in->raw : NULL, in->rawlen) == 0)
		return;
	in->n.agg_overflow++;
	if (write_alone(in, sen, r, key, ind, field) == -1)
		h->failed = 1;
}

int
ingest_intel_event(struct ingest *in, struct batch_ctx *bc)
{
	struct hit_ctx h = { in, bc, 0 };

	if (in->intel == NULL)
		return 0;
	intel_match_event(in->intel, &in->ev, soc_now_ns(), on_hit, &h);
	return h.failed ? -1 : 0;
}

int
ingest_intel_flushed(struct ingest *in, int64_t id, const char *group_key)
{
	struct intel_ind ind;
	const char *sp;
	char type[16];
	int t;

	if ((sp = strchr(group_key, ' ')) == NULL ||
	    (size_t)(sp - group_key) >= sizeof(type))
		return 0;
	memcpy(type, group_key, (size_t)(sp - group_key));
	type[sp - group_key] = '\0';
	if ((t = intel_type_parse(type)) < 0 ||
	    !intel_find(in->intel, t, sp + 1, &ind))
		return 0;	/* not in the set any more: the key says it */
	if (store_intel_note(in->st, id, &ind, NULL) == -1) {
		log_warnx("indicator of incident %lld: %s", (long long)id,
		    store_errmsg(in->st));
		return -1;
	}
	return 0;
}
