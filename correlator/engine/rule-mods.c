/*
 * A field item's modifiers ("contains|all", "re|i", "wide|base64offset",
 * "hour|gte", ...): each parsed into a rule_mods (rule_mod), the
 * combination checked (rule_mods_check), and the item's values combined
 * (rule_value_finish: OR, AND under |all, negated under |neq).
 * rule_value_item does a whole field item from strings, for the unit
 * tests; rule-value.c translates the values themselves.
 */
#include <stdlib.h>
#include <string.h>

#include "rule-int.h"

static int
set_match(struct rule_build *c, int line, struct rule_mods *m,
    int match, const char *name)
{
	if (m->match != RM_EQ)
		return rb_fail(c, line, "modifier '%s' conflicts with an earlier one",
		    name);
	m->match = match;
	return 0;
}

int
rule_mod(struct rule_build *c, int line, struct rule_mods *m,
    const char *mod)
{
	static const struct { const char *name; int match; } mt[] = {
		{ "contains", RM_CONTAINS }, { "startswith", RM_STARTS },
		{ "endswith", RM_ENDS }, { "re", RM_RE }, { "cidr", RM_CIDR },
		{ "exists", RM_EXISTS }, { "gt", RM_GT }, { "gte", RM_GTE },
		{ "lt", RM_LT }, { "lte", RM_LTE }, { "intel", RM_INTEL },
	};
	static const char *const tparts[] = { "minute", "hour", "day", "week",
	    "month", "year" };
	static const char *const utf16[] = { "utf16le", "utf16be", "utf16",
	    "wide" };

	for (size_t i = 0; i < sizeof(tparts) / sizeof(tparts[0]); i++)
		if (strcmp(mod, tparts[i]) == 0) {
			if (m->tpart != TP_NONE)
				return rb_fail(c, line, "two time modifiers");
			m->tpart = (uint8_t)(TP_MINUTE + i);
			return 0;
		}
	for (size_t i = 0; i < sizeof(utf16) / sizeof(utf16[0]); i++)
		if (strcmp(mod, utf16[i]) == 0) {
			if (m->b64 || m->b64off)
				return rb_fail(c, line, "'%s' must come before "
				    "base64 (the text is encoded, then base64)", mod);
			if (m->utf16)
				return rb_fail(c, line, "two UTF-16 modifiers");
			m->utf16 = (uint8_t)(i == 3 ? 1 : i + 1);
			return 0;
		}
	if (strcmp(mod, "neq") == 0) {
		m->neq = true;
		return 0;
	}
	if (strcmp(mod, "fieldref") == 0) {
		m->fieldref = true;
		return 0;
	}
	if (strcmp(mod, "expand") == 0) {
		m->expand = true;
		return 0;
	}
	for (size_t i = 0; i < sizeof(mt) / sizeof(mt[0]); i++)
		if (strcmp(mod, mt[i].name) == 0)
			return set_match(c, line, m, mt[i].match, mod);
	if (strcmp(mod, "all") == 0)
		m->all = true;
	else if (strcmp(mod, "cased") == 0)
		m->cased = true;
	else if (strcmp(mod, "base64") == 0)
		m->b64 = true;
	else if (strcmp(mod, "base64offset") == 0)
		m->b64off = true;
	else if (strcmp(mod, "windash") == 0)
		m->windash = true;
	else if (m->match == RM_RE && (strcmp(mod, "i") == 0 ||
	    strcmp(mod, "ignorecase") == 0))
		m->re_i = true;
	else if (m->match == RM_RE && (strcmp(mod, "m") == 0 ||
	    strcmp(mod, "multiline") == 0))
		m->re_m = true;
	else if (m->match == RM_RE && (strcmp(mod, "s") == 0 ||
	    strcmp(mod, "dotall") == 0))
		m->re_s = true;
	else
		return rb_fail(c, line, "unknown modifier '%s'", mod);
	return 0;
}

/* Combinations the engine would otherwise have to guess at. */
int
rule_mods_check(struct rule_build *c, int line, const struct rule_mods *m)
{
	bool strmatch = m->match == RM_EQ || m->match == RM_CONTAINS ||
	    m->match == RM_STARTS || m->match == RM_ENDS;

	if (m->b64 && m->b64off)
		return rb_fail(c, line, "base64 and base64offset together");
	if ((m->b64 || m->b64off || m->windash) && !strmatch)
		return rb_fail(c, line, "base64/windash only apply to string matches");
	if ((m->b64 || m->b64off) && m->windash)
		return rb_fail(c, line, "windash with base64 is not supported");
	if (m->cased && !strmatch && m->match != RM_RE)
		return rb_fail(c, line, "cased only applies to string matches");
	if (m->utf16 && (!strmatch || m->windash))
		return rb_fail(c, line, "utf16/wide only apply to string matches");
	if (m->tpart != TP_NONE && (m->b64 || m->b64off || m->windash ||
	    m->utf16 || m->cased || m->fieldref || (m->match != RM_EQ &&
	    m->match != RM_GT && m->match != RM_GTE && m->match != RM_LT &&
	    m->match != RM_LTE)))
		return rb_fail(c, line, "time modifiers take a number, "
		    "optionally with gt, gte, lt or lte");
	if (m->fieldref && (m->match != RM_EQ || m->b64 || m->b64off ||
	    m->windash || m->utf16 || m->cased))
		return rb_fail(c, line, "fieldref only combines with neq and all");
	return 0;
}


/*
 * A field item without YAML: mods as written after the field name
 * ("contains|all", "" for none), one or more values (NULL for a YAML
 * null), combined by OR, or AND under |all.  For the unit tests; the YAML
 * reader makes the same calls in the same order.
 */
int
rule_value_item(struct rule_build *c, int field, const char *mods,
    const char *const *vals, size_t nvals)
{
	struct rule_mods m = { 0 };
	struct rule_ivec kids = { 0 };
	char *dup, *mod, *save = NULL;
	int k = -1;

	if ((dup = strdup(mods)) == NULL)
		return rb_fail(c, 0, "out of memory");
	for (mod = strtok_r(dup, "|", &save); mod != NULL;
	    mod = strtok_r(NULL, "|", &save))
		if (rule_mod(c, 0, &m, mod) == -1)
			goto out;
	if (rule_mods_check(c, 0, &m) == -1)
		goto out;
	if (nvals == 0) {
		rb_fail(c, 0, "empty value list");
		goto out;
	}
	for (size_t i = 0; i < nvals; i++) {
		int v = rule_value(c, 0, field, &m, vals[i],
		    vals[i] != NULL ? strlen(vals[i]) : 0, vals[i] == NULL);

		if (v == -1 || rule_ivec_push(&kids, (uint32_t)v) == -1)
			goto out;
	}
	k = rule_value_finish(c, 0, &m, kids.v, kids.n);
out:
	if (k == -1)
		rb_fail(c, 0, "out of memory");
	free(kids.v);
	free(dup);
	return k;
}

/* The values of one item: ORed (ANDed under |all), negated under |neq. */
int
rule_value_finish(struct rule_build *c, int line, const struct rule_mods *m,
    const uint32_t *kids, size_t n)
{
	uint32_t k;
	int g;

	(void)line;
	if ((g = rb_group(c, m->all ? RN_AND : RN_OR, kids, n)) == -1 || !m->neq)
		return g;
	k = (uint32_t)g;
	return rb_group(c, RN_NOT, &k, 1);
}
