/*
 * Sigma value translation without YAML: each row gives a field, the
 * modifiers as written after the field name, the values, and either the
 * condition tree rule_value_item() builds (rendered as text) or a
 * fragment of the reason it refuses.  Covers every modifier the engine
 * supports, wildcards and escapes, the checks between modifiers, and the
 * typed comparisons on integer and address fields; and the base64
 * encoder in lib/ against the RFC 4648 vectors.
 *
 * Rendering: /expr/flags for a Hyperscan pattern, flags in the order
 * i (caseless), s (dot-all), m (multi-line), e (allow empty), u (UTF-8
 * mode with Unicode properties);
 * and(...), or(...), not(...); exists, absent, empty; num==N (and >, >=,
 * <, <=); cidr(ADDR/LEN); true, false.  The base64offset rows were
 * checked against the Sigma reference formula (encode 0..2 leading spaces,
 * cut (0,2,3) at the start and (0,3,2) at the end by length mod 3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "soc/base64.h"
#include "soc/event.h"
#include "soc/json.h"
#include "rule-int.h"
#include "check.h"

#define NUL	"\x01"		/* in a row's values: a YAML null */

struct row {
	const char	*field;
	const char	*mods;
	const char	*vals[3];	/* up to three; NULL ends */
	const char	*want;		/* tree, or "!" and an error fragment */
};

/* '?': one UTF-8 character (or a byte that cannot start one) */
#define ONE	"(?:[\\x00-\\x7f]|[\\xc2-\\xdf][\\x80-\\xbf]|" \
	"[\\xe0-\\xef][\\x80-\\xbf]{2}|[\\xf0-\\xf4][\\x80-\\xbf]{3}|" \
	"[\\x80-\\xc1\\xf5-\\xff])"

static const char *const winalt =
    "(?:-|/|\\xe2\\x80\\x93|\\xe2\\x80\\x94|\\xe2\\x80\\x95)";

static const struct row rows[] = {
	/* plain: exact, caseless, wildcards and escapes */
	{ "message", "", { "abc" }, "/^abc\\z/is" },
	{ "message", "", { "Abc" }, "/^Abc\\z/is" },
	{ "message", "", { "a*c" }, "/^a.*c\\z/is" },
	{ "message", "", { "a?c" }, "/^a" ONE "c\\z/is" },
	{ "message", "", { "a\\*c" }, "/^a\\x2ac\\z/is" },
	{ "message", "", { "a\\?c" }, "/^a\\x3fc\\z/is" },
	{ "message", "", { "a\\\\c" }, "/^a\\x5cc\\z/is" },
	{ "message", "", { "a\\c" }, "/^a\\x5cc\\z/is" },
	{ "message", "", { "a\\\\*" }, "/^a\\x5c/is" },
	{ "message", "", { "*abc*" }, "/abc/is" },
	{ "message", "", { "*" }, "exists" },
	{ "message", "", { "**" }, "exists" },
	{ "message", "", { "" }, "empty" },
	{ "message", "", { "\xc3\xa9 x" }, "/^\\xc3\\xa9\\x20x\\z/is" },
	{ "message", "", { "a", "b" }, "or(/^a\\z/is,/^b\\z/is)" },
	{ "message", "", { NUL }, "absent" },
	{ "message", "", { "a", NUL }, "or(/^a\\z/is,absent)" },

	/* contains, startswith, endswith, all, cased */
	{ "message", "contains", { "abc" }, "/abc/is" },
	{ "message", "contains", { "a?" }, "/a" ONE "/is" },
	{ "message", "contains", { "" }, "exists" },
	{ "message", "contains", { "a", "b" }, "or(/a/is,/b/is)" },
	{ "message", "contains|all", { "a", "b", "c" },
	    "and(/a/is,/b/is,/c/is)" },
	{ "message", "all|contains", { "a", "b" }, "and(/a/is,/b/is)" },
	{ "message", "contains|all", { "a" }, "/a/is" },
	{ "message", "contains|cased", { "Abc" }, "/Abc/s" },
	{ "message", "cased", { "Abc" }, "/^Abc\\z/s" },
	{ "message", "startswith", { "abc" }, "/^abc/is" },
	{ "message", "startswith", { "ab*" }, "/^ab/is" },
	{ "message", "startswith", { "*" }, "exists" },
	{ "message", "endswith", { "abc" }, "/abc\\z/is" },
	{ "message", "endswith", { "*.exe" }, "/\\x2eexe\\z/is" },

	/* re and its flags: a search, cased unless i */
	{ "message", "re", { "a.c" }, "/a.c/eu" },
	{ "message", "re|i", { "a.c" }, "/a.c/ieu" },
	{ "message", "re|ignorecase", { "a.c" }, "/a.c/ieu" },
	{ "message", "re|m", { "^a$" }, "/^a$/meu" },
	{ "message", "re|multiline", { "^a$" }, "/^a$/meu" },
	{ "message", "re|s", { "a.c" }, "/a.c/seu" },
	{ "message", "re|dotall", { "a.c" }, "/a.c/seu" },
	{ "message", "re|i|m|s", { "a.c" }, "/a.c/ismeu" },
	{ "message", "re|cased", { "a.c" }, "/a.c/eu" },
	{ "message", "re", { "(" }, "!refused by Hyperscan" },
	{ "message", "re", { "a\xff" }, "/a\xff/e" },	/* not UTF-8: bytes */
	{ "message", "i", { "a" }, "!unknown modifier 'i'" },
	{ "message", "i|re", { "a" }, "!unknown modifier 'i'" },

	/* base64, base64offset: encoded, cased */
	{ "message", "base64", { "abc" }, "/^YWJj\\z/s" },
	{ "message", "contains|base64", { "abc" }, "/YWJj/s" },
	{ "message", "base64|contains", { "ab" }, "/YWI\\x3d/s" },
	{ "message", "base64offset|contains", { "abc" },
	    "or(/YWJj/s,/FiY/s,/hYm/s)" },
	{ "message", "base64offset|contains", { "/bin/sh" },
	    "or(/L2Jpbi9za/s,/9iaW4vc2/s,/vYmluL3No/s)" },
	{ "message", "base64offset|contains", { "" },
	    "!value too short for base64offset" },
	{ "message", "base64", { "a*" }, "!wildcards cannot be base64-encoded" },
	{ "message", "base64|base64offset", { "a" },
	    "!base64 and base64offset together" },
	{ "message", "base64|windash", { "a" },
	    "!windash with base64 is not supported" },
	{ "message", "base64|re", { "a" },
	    "!base64/windash only apply to string matches" },

	/* windash: a dash or slash opening an option, and its look-alikes */
	{ "message", "windash|contains", { " -foo" }, "@ -foo" },
	{ "message", "contains|windash", { "/x" }, "@/x" },
	{ "message", "windash", { "a-b" }, "/^a\\x2db\\z/is" },
	{ "message", "windash|contains", { "x -" }, "/x\\x20\\x2d/is" },
	{ "message", "windash|cidr", { "a" },
	    "!base64/windash only apply to string matches" },

	/* cidr and equality on addresses */
	{ "source.ip", "cidr", { "10.0.0.0/8" }, "cidr(10.0.0.0/8)" },
	{ "source.ip", "cidr", { "10.1.2.3" }, "cidr(10.1.2.3/32)" },
	{ "source.ip", "cidr", { "2001:db8::/32" }, "cidr(2001:db8::/32)" },
	{ "source.ip", "cidr", { "10.0.0.0/8", "192.168.0.0/16" },
	    "or(cidr(10.0.0.0/8),cidr(192.168.0.0/16))" },
	{ "source.ip", "cidr", { "10.0.0.0/33" }, "!bad CIDR '10.0.0.0/33'" },
	{ "source.ip", "cidr", { "10.0.0.0/x" }, "!bad CIDR" },
	{ "source.ip", "cidr", { "nope" }, "!bad CIDR" },
	{ "message", "cidr", { "10.0.0.0/8" }, "!cidr needs an IP field" },
	{ "source.ip", "", { "10.1.2.3" }, "cidr(10.1.2.3/32)" },
	{ "source.ip", "", { "10.1.*" }, "/^10\\x2e1\\x2e/is" },
	{ "source.ip", "cidr|cased", { "10.0.0.0/8" },
	    "!cased only applies to string matches" },

	/* numbers: equality and lt/lte/gt/gte on integer fields */
	{ "source.port", "", { "22" }, "num==22" },
	{ "source.port", "", { "-1" }, "num==-1" },
	{ "source.port", "", { "2*" }, "/^2/is" },
	{ "source.port", "gt", { "1024" }, "num>1024" },
	{ "source.port", "gte", { "1024" }, "num>=1024" },
	{ "source.port", "lt", { "1024" }, "num<1024" },
	{ "source.port", "lte", { "1024" }, "num<=1024" },
	{ "source.port", "gt", { "x" }, "!'x' is not an integer" },
	{ "source.port", "gt", { " 1" }, "!' 1' is not an integer" },
	{ "source.port", "gt", { "99999999999999999999" }, "!is not an integer" },
	{ "message", "gt", { "1" }, "!numeric comparison on non-numeric field message" },
	{ "event.start", "lt", { "5" }, "num<5" },
	{ "source.port", "gt|lt", { "1" }, "!modifier 'lt' conflicts" },

	/* exists and null */
	{ "message", "exists", { "true" }, "exists" },
	{ "message", "exists", { "yes" }, "exists" },
	{ "message", "exists", { "false" }, "absent" },
	{ "message", "exists", { "No" }, "absent" },
	{ "message", "exists", { "maybe" }, "!exists needs true or false" },
	{ "message", "contains", { NUL }, "!null value with a modifier" },
	{ "message", "windash", { NUL }, "!null value with a modifier" },

	/* modifiers refused or unknown, and conflicts */
	{ "message", "contains|startswith", { "a" },
	    "!modifier 'startswith' conflicts with an earlier one" },
	{ "message", "expand", { "%a%" }, "!expand needs a placeholders.yml" },

	/* neq: none of the values (an absent field is different too) */
	{ "message", "neq", { "a" }, "not(/^a\\z/is)" },
	{ "message", "neq", { "a", "b" }, "not(or(/^a\\z/is,/^b\\z/is))" },
	{ "message", "contains|neq", { "a" }, "not(/a/is)" },
	{ "source.port", "neq", { "22" }, "not(num==22)" },
	{ "message", "neq", { NUL }, "not(absent)" },

	/* utf16le/be, utf16 (with BOM), wide; before base64 */
	{ "message", "wide", { "cmd" }, "/^c\\x00m\\x00d\\x00\\z/is" },
	{ "message", "utf16le|contains", { "cmd" }, "/c\\x00m\\x00d\\x00/is" },
	{ "message", "utf16be|contains", { "cmd" }, "/\\x00c\\x00m\\x00d/is" },
	{ "message", "utf16|contains", { "cmd" },
	    "/\\xff\\xfec\\x00m\\x00d\\x00/is" },
	{ "message", "wide|contains", { "\xc3\xa9" }, "/\\xe9\\x00/is" },
	{ "message", "wide|base64offset|contains", { "ping" },
	    "or(/cABpAG4AZw/s,/AAaQBuAGcA/s,/wAGkAbgBnA/s)" },
	{ "message", "wide|base64", { "ab" }, "/^YQBiAA\\x3d\\x3d\\z/s" },
	{ "message", "base64|wide", { "a" }, "!must come before base64" },
	{ "message", "wide", { "a*" }, "!wildcards cannot be UTF-16" },
	{ "message", "wide", { "\xff" }, "!not valid UTF-8" },
	{ "message", "wide|re", { "a" }, "!utf16/wide only apply to string" },

	/* time modifiers: @timestamp or a time field, UTC */
	{ "event.start", "hour", { "3" }, "hour==3" },
	{ "event.start", "minute|gte", { "30" }, "minute>=30" },
	{ "event.start", "week|lt", { "2" }, "week<2" },
	{ "event.start", "year", { "2024", "2025" }, "or(year==2024,year==2025)" },
	{ "message", "hour", { "3" }, "!time modifiers need @timestamp" },
	{ "event.start", "hour|contains", { "3" }, "!time modifiers take a number" },
	{ "event.start", "hour", { "x" }, "!'x' is not an integer" },
	{ "event.start", "hour|day", { "1" }, "!two time modifiers" },

	/* fieldref (with neq) */
	{ "source.ip", "fieldref", { "destination.ip" }, "ref(destination.ip)" },
	{ "source.ip", "fieldref|neq", { "destination.ip" },
	    "not(ref(destination.ip))" },
	{ "source.ip", "fieldref", { "nosuch" }, "!fieldref: unknown field" },
	{ "message", "fieldref|contains", { "user.name" },
	    "!fieldref only combines with neq" },

	/* numbers compare as numbers; what cannot be honoured is refused */
	{ "source.port", "", { "404.0" }, "num==404" },
	{ "source.port", "", { "4.04e2" }, "num==404" },
	{ "source.port", "", { "404.5" }, "!can never equal integer field" },
	{ "source.port", "", { "abc" }, "!'abc' is not a number" },
	{ "source.port", "gt", { "1.5" }, "num>1" },
	{ "source.port", "gte", { "1.5" }, "num>=2" },
	{ "source.port", "lt", { "1.5" }, "num<2" },
	{ "source.port", "lte", { "1.5" }, "num<=1" },
	{ "source.port", "gt", { "-1.5" }, "num>-2" },
	{ "source.port", "gte", { "-1.5" }, "num>=-1" },
	{ "message", "bogus", { "a" }, "!unknown modifier 'bogus'" },
	{ "message", "", { NULL }, "!empty value list" },
};

static void
render(const struct rule *r, uint32_t k, struct soc_sbuf *b)
{
	static const char *const ops[] = { "==", ">", ">=", "<", "<=" };
	const struct rule_node *n = &r->nodes[k];
	char ip[64];

	switch (n->type) {
	case RN_AND:
	case RN_OR:
	case RN_NOT:
		soc_sbuf_adds(b, n->type == RN_AND ? "and(" :
		    n->type == RN_OR ? "or(" : "not(");
		for (uint32_t i = 0; i < n->nkids; i++) {
			if (i > 0)
				soc_sbuf_adds(b, ",");
			render(r, r->kids[n->kid + i], b);
		}
		soc_sbuf_adds(b, ")");
		break;
	case RN_PAT: {
		const struct rule_pat *p = &r->pats[n->u.pat];

		soc_sbuf_printf(b, "/%s/%s%s%s%s%s", p->expr,
		    p->flags & HS_FLAG_CASELESS ? "i" : "",
		    p->flags & HS_FLAG_DOTALL ? "s" : "",
		    p->flags & HS_FLAG_MULTILINE ? "m" : "",
		    p->flags & HS_FLAG_ALLOWEMPTY ? "e" : "",
		    (p->flags & (HS_FLAG_UTF8 | HS_FLAG_UCP)) ==
		    (HS_FLAG_UTF8 | HS_FLAG_UCP) ? "u" : "");
		if (p->field != n->field)
			soc_sbuf_adds(b, "(field?)");
		break;
	}
	case RN_EXISTS:
		soc_sbuf_adds(b, n->u.exists ? "exists" : "absent");
		break;
	case RN_EMPTY:
		soc_sbuf_adds(b, "empty");
		break;
	case RN_NUM:
		soc_sbuf_printf(b, "num%s%lld", n->op < 5 ? ops[n->op] : "?",
		    (long long)n->u.num);
		break;
	case RN_CIDR:
		soc_ip_format(&n->u.cidr.ip, ip, sizeof(ip));
		soc_sbuf_printf(b, "cidr(%s/%u)", ip, n->u.cidr.plen);
		break;
	case RN_TIME: {
		static const char *const parts[] = { "?", "minute", "hour", "day",
		    "week", "month", "year" };

		soc_sbuf_printf(b, "%s%s%lld", parts[n->kid < 7 ? n->kid : 0],
		    n->op < 5 ? ops[n->op] : "?", (long long)n->u.num);
		break;
	}
	case RN_FIELDREF:
		soc_sbuf_printf(b, "ref(%s)", soc_field_name((int)n->u.num));
		break;
	case RN_TRUE:
		soc_sbuf_adds(b, "true");
		break;
	case RN_FALSE:
		soc_sbuf_adds(b, "false");
		break;
	default:
		soc_sbuf_printf(b, "?%d", n->type);
	}
}

static void
run(const struct row *t)
{
	struct rule *r = calloc(1, sizeof(*r));
	struct rule_build c = { .r = r };
	struct soc_sbuf b = { 0 };
	const char *vals[3];
	char want[512];
	size_t nv = 0;
	int field, k;

	if (r == NULL)
		abort();
	field = soc_field_lookup(t->field, strlen(t->field));
	CHECK(field != SOC_F_NONE);
	for (; nv < 3 && t->vals[nv] != NULL; nv++)
		vals[nv] = strcmp(t->vals[nv], NUL) == 0 ? NULL : t->vals[nv];
	/* "@ -foo": contains, with the dash as the windash alternation */
	if (t->want[0] == '@')
		snprintf(want, sizeof(want), "/%s%s%s/is",
		    t->want[1] == ' ' ? "\\x20" : "", winalt,
		    t->want + (t->want[1] == ' ' ? 3 : 2));
	else
		snprintf(want, sizeof(want), "%s", t->want);
	k = rule_value_item(&c, field, t->mods, vals, nv);
	if (want[0] == '!') {
		if (k != -1 || strstr(c.err, want + 1) == NULL)
			fprintf(stderr, "%s|%s %s: got %d \"%s\", want error \"%s\"\n",
			    t->field, t->mods, t->vals[0] ? t->vals[0] : "(none)",
			    k, c.err, want + 1);
		CHECK(k == -1 && strstr(c.err, want + 1) != NULL);
	} else {
		if (k >= 0)
			render(r, (uint32_t)k, &b);
		if (k < 0 || b.data == NULL || strcmp(b.data, want) != 0)
			fprintf(stderr, "%s|%s %s: got \"%s\" (%s), want \"%s\"\n",
			    t->field, t->mods, t->vals[0] ? t->vals[0] : "(null)",
			    b.data ? b.data : "", c.err, want);
		CHECK(k >= 0 && b.data != NULL && strcmp(b.data, want) == 0);
		/* every pattern is one Hyperscan accepts */
		for (uint32_t i = 0; k >= 0 && i < r->npats; i++) {
			char err[256];

			CHECK(match_check_regex(r->pats[i].expr, r->pats[i].flags,
			    err, sizeof(err)) == 0);
		}
	}
	soc_sbuf_free(&b);
	rule_free(r);
}

/* The first error wins; the rule's nodes stay usable after one. */
static void
test_first_error(void)
{
	struct rule *r = calloc(1, sizeof(*r));
	struct rule_build c = { .r = r };
	const char *v[1] = { "a" };
	int f = soc_field_lookup("message", 7);

	if (r == NULL)
		abort();
	CHECK_INT(rule_value_item(&c, f, "bogus", v, 1), -1);
	CHECK_INT(rule_value_item(&c, f, "expand", v, 1), -1);
	CHECK(strstr(c.err, "unknown modifier 'bogus'") != NULL);
	CHECK_INT(c.errline, 0);
	rule_free(r);
}

/* lib/base64.c against the RFC 4648 section 10 vectors. */
static void
test_base64(void)
{
	static const char *const v[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	const unsigned char all[3] = { 0xff, 0xfe, 0x00 };
	char *e;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		e = soc_base64_encode(v[i][0], strlen(v[i][0]));
		CHECK_STR(e, v[i][1]);
		CHECK_INT(SOC_BASE64_LEN(strlen(v[i][0])), strlen(v[i][1]));
		free(e);
	}
	e = soc_base64_encode(all, sizeof(all));
	CHECK_STR(e, "//4A");
	free(e);
}

int
main(void)
{
	test_base64();
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run(&rows[i]);
	test_first_error();
	return check_done();
}
