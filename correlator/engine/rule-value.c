/*
 * Sigma values -> condition nodes and Hyperscan expressions, one field at
 * a time, without YAML: given a field item's modifiers (parsed by
 * rule-mods.c), each of its values (rule_value) becomes nodes of the rule
 * being built.
 *
 * Value semantics follow the Sigma specification:
 *  - a plain value is an exact, case-insensitive match where * and ? are
 *    wildcards and \ escapes *, ? and itself;
 *  - contains/startswith/endswith keep the wildcards;
 *  - re is a search (unanchored), case-sensitive unless re|i (re|m, re|s
 *    for multi-line and dot-all), as the specification says;
 *  - base64/base64offset match the encoded text, which is case-significant,
 *    so they are matched cased;
 *  - keywords (a list without field) are substring matches on the
 *    logsource's keyword fields (message unless mapping.yml says more);
 *  - null means the field is absent; '' means present and empty.
 * Equality on integer and IP fields compares values, not text ("404.0"
 * is 404; a fraction or a non-number against an integer field is refused;
 * a bound with a fraction becomes the exact integer bound).  '?' is one
 * UTF-8 character; regexes run in UTF-8 mode (see re_node).  neq negates
 * the item, utf16 and wide encode before base64, fieldref compares two
 * fields, minute..year compare a part of a time (UTC).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "soc/base64.h"
#include "soc/json.h"
#include "rule-int.h"

#define TOK_STAR	256
#define TOK_QMARK	257

/* ---------------------------------------------------------------- */
/* patterns (the builder's primitives are rule-build.c's) */

/*
 * The bounds an expression keeps before Hyperscan sees it (docs/RULES.md):
 * its length, each repetition count, and its size once repetitions are
 * expanded, counted as the character positions of its automaton, which
 * Hyperscan's compile time and memory grow with (nested counted repeats
 * multiply: (((a{1000}){1000}){1000}) is 10^9 positions, 34 s and 5.5 GB
 * in hs_compile).  A position of a wide class (., \w, \s, \d, their
 * negations, a negated [^...], \p{..}) weighs RX_WIDE: those overlap the
 * rest of the expression and are what makes (.{0,1000}x){4} take 9 s.
 * An over-estimate rather than a parser: what it does not read it counts
 * as one position, and Hyperscan judges the syntax.  This bounds the
 * common cases cheaply; match-compile.c's limits bound the rest.
 * 0 if within the bounds (*weight, if not NULL, the weighted positions),
 * else -1 and the reason in err.
 */
#define RX_WIDE	2

struct rx_frame {
	uint64_t	 alts;		/* positions of the alternatives closed */
	uint64_t	 cur;		/* ... of the one being read */
	uint64_t	 last;		/* ... of its last atom */
};

#define RX_CAP(x)	((x) > RS_MAX_EXPANDED ? (uint64_t)RS_MAX_EXPANDED + 1 : (x))

/* A counted repeat {m}, {m,} or {m,n} at s; its length, 0 if not one. */
static size_t
rx_counted(const char *s, uint64_t *lo, uint64_t *hi, bool *open)
{
	size_t i = 1;
	uint64_t v = 0;

	*open = false;
	if (!isdigit((unsigned char)s[i]))
		return 0;
	for (; isdigit((unsigned char)s[i]); i++)
		v = v > 1000000 ? v : v * 10 + (uint64_t)(s[i] - '0');
	*lo = *hi = v;
	if (s[i] == ',') {
		i++;
		if (!isdigit((unsigned char)s[i]))
			*open = true;
		for (v = 0; isdigit((unsigned char)s[i]); i++)
			v = v > 1000000 ? v : v * 10 + (uint64_t)(s[i] - '0');
		if (!*open)
			*hi = v;
	}
	return s[i] == '}' ? i + 1 : 0;
}

/* Skips an escape at s ('\\'); its length. */
static size_t
rx_escape(const char *s)
{
	size_t i = 1;

	if (s[i] == '\0')
		return 1;
	if (strchr("xopPNgk", s[i]) != NULL && s[i + 1] == '{') {
		while (s[i] != '\0' && s[i] != '}')
			i++;
		return s[i] == '}' ? i + 1 : i;
	}
	if (s[i] == 'c' && s[i + 1] != '\0')
		return 3;
	return 2;
}

/* Skips a class at s ('['); its length. */
static size_t
rx_class(const char *s)
{
	size_t i = 1;

	if (s[i] == '^')
		i++;
	if (s[i] == ']')
		i++;
	while (s[i] != '\0' && s[i] != ']') {
		if (s[i] == '\\' && s[i + 1] != '\0')
			i += 2;
		else if (s[i] == '[' && s[i + 1] == ':') {
			const char *e = strstr(s + i + 2, ":]");

			i = e != NULL ? (size_t)(e - s) + 2 : i + 1;
		} else
			i++;
	}
	return s[i] == ']' ? i + 1 : i;
}

int
rule_expr_bounded(const char *s, uint64_t *weight, char *err, size_t errlen)
{
	struct rx_frame st[RS_MAX_RE_GROUPS + 1];
	size_t len = strlen(s), d = 0, i = 0, k;
	uint64_t lo, hi, mult, tot, w;
	bool open;

	if (len > RS_MAX_EXPR_BYTES) {
		snprintf(err, errlen, "expression of %zu bytes, over the %d "
		    "allowed", len, RS_MAX_EXPR_BYTES);
		return -1;
	}
	memset(&st[0], 0, sizeof(st[0]));
	while (i < len) {
		struct rx_frame *f = &st[d];

		switch (s[i]) {
		case '\\':
			if (s[i + 1] == 'Q') {
				const char *e = strstr(s + i + 2, "\\E");
				size_t n = e != NULL ? (size_t)(e - s) - i - 2 :
				    len - i - 2;

				f->cur = RX_CAP(f->cur + n);
				f->last = n > 0;
				i += n + 2 + (e != NULL ? 2 : 0);
				continue;
			}
			k = rx_escape(s + i);
			w = strchr("wWsSdDNhHvVRXpPC", s[i + 1]) != NULL &&
			    s[i + 1] != '\0' ? RX_WIDE : 1;
			goto atom;
		case '[':
			k = rx_class(s + i);
			w = s[i + 1] == '^' ? RX_WIDE : 1;
			goto atom;
		case '.':
			k = 1;
			w = RX_WIDE;
			goto atom;
		case '(':
			if (s[i + 1] == '?' && s[i + 2] == '#') {
				const char *e = strchr(s + i, ')');

				i = e != NULL ? (size_t)(e - s) + 1 : len;
				continue;
			}
			if (d == RS_MAX_RE_GROUPS) {
				snprintf(err, errlen, "groups nested deeper than "
				    "%d", RS_MAX_RE_GROUPS);
				return -1;
			}
			memset(&st[++d], 0, sizeof(st[0]));
			i++;
			continue;
		case ')':
			if (d == 0) {
				k = 1;
				break;
			}
			tot = RX_CAP(f->alts + f->cur);
			d--;
			st[d].cur = RX_CAP(st[d].cur + tot);
			st[d].last = tot;
			i++;
			continue;
		case '|':
			f->alts = RX_CAP(f->alts + f->cur);
			f->cur = f->last = 0;
			i++;
			continue;
		case '*':
		case '+':
		case '?':
			i++;
			goto lazy;
		case '{':
			if ((k = rx_counted(s + i, &lo, &hi, &open)) == 0)
				break;
			if (lo > RS_MAX_REPEAT || hi > RS_MAX_REPEAT) {
				snprintf(err, errlen, "repetition count %llu over "
				    "%d", (unsigned long long)(lo > hi ? lo : hi),
				    RS_MAX_REPEAT);
				return -1;
			}
			mult = open ? lo + 1 : hi > lo ? hi : lo;
			if (mult > 1) {
				f->cur = RX_CAP(f->cur - f->last + f->last * mult);
				f->last = RX_CAP(f->last * mult);
			}
			i += k;
lazy:
			if (s[i] == '?' || s[i] == '+')
				i++;
			continue;
		default:
			k = 1;
			break;
		}
		w = 1;
atom:
		f->cur = RX_CAP(f->cur + w);
		f->last = w;
		i += k;
	}
	for (tot = 0; ; d--) {
		tot = RX_CAP(tot + st[d].alts + st[d].cur);
		if (d == 0)
			break;
	}
	if (tot > RS_MAX_EXPANDED) {
		snprintf(err, errlen, "more than %d positions once its "
		    "repetitions are expanded (a wide class such as . or \\w "
		    "counts %d)", RS_MAX_EXPANDED, RX_WIDE);
		return -1;
	}
	if (weight != NULL)
		*weight = tot;
	return 0;
}

/* A pattern of the rule (expr taken over); its index, or -1. */
int
rule_pat_add(struct rule_build *c, int line, int field, char *expr,
    unsigned int flags)
{
	struct rule *r = c->r;
	char err[160];
	uint64_t w;

	if (rule_expr_bounded(expr, &w, err, sizeof(err)) == -1) {
		free(expr);
		return rb_fail(c, line, "value refused before compiling: %s",
		    err);
	}
	/* the heavy expressions of one rule share a budget */
	if (w > RS_HEAVY_EXPR && (c->heavy += w) > RS_MAX_EXPANDED_RULE) {
		free(expr);
		return rb_fail(c, line, "the rule's expressions of more than %d "
		    "positions total more than %d", RS_HEAVY_EXPR,
		    RS_MAX_EXPANDED_RULE);
	}

	if (r->npats >= RS_MAX_PATS_RULE) {
		free(expr);
		return rb_fail(c, line, "more than %d values in one rule",
		    RS_MAX_PATS_RULE);
	}
	if (r->npats == r->pats_cap) {
		uint32_t ncap = r->pats_cap ? r->pats_cap * 2 : 8;
		struct rule_pat *np = reallocarray(r->pats, ncap, sizeof(*np));

		if (np == NULL) {
			free(expr);
			return rb_fail(c, 0, "out of memory");
		}
		r->pats = np;
		r->pats_cap = ncap;
	}
	r->pats[r->npats].field = field;
	r->pats[r->npats].flags = flags;
	r->pats[r->npats].expr = expr;
	r->pats[r->npats].gid = 0;
	return (int)r->npats++;
}

/* A string condition: one Hyperscan expression (expr is taken over). */
static int
rb_pat(struct rule_build *c, int line, int field, char *expr,
    unsigned int flags)
{
	int idx, p;

	if ((p = rule_pat_add(c, line, field, expr, flags)) == -1)
		return -1;
	if ((idx = rb_node(c, RN_PAT, field)) == -1)
		return -1;
	c->r->nodes[idx].u.pat = (uint32_t)p;
	return idx;
}

/* ---------------------------------------------------------------- */
/* values -> Hyperscan expressions */

static bool
is_word(int t)
{
	return t < 256 && (isalnum(t) || t == '_');
}

/* Sigma string -> tokens: bytes, TOK_STAR, TOK_QMARK (\ escapes *?\). */
static int *
sigma_tokens(const char *s, size_t len, size_t *ntok, bool *wild)
{
	int *t = calloc(len + 1, sizeof(*t));
	size_t n = 0;

	*wild = false;
	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\\' && i + 1 < len &&
		    (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\')) {
			t[n++] = (unsigned char)s[++i];
		} else if (ch == '*') {
			t[n++] = TOK_STAR;
			*wild = true;
		} else if (ch == '?') {
			t[n++] = TOK_QMARK;
			*wild = true;
		} else {
			t[n++] = ch;
		}
	}
	*ntok = n;
	return t;
}

static void
emit_byte(struct soc_sbuf *b, int ch)
{
	char tmp[8];

	if (isalnum(ch)) {
		tmp[0] = (char)ch;
		soc_sbuf_add(b, tmp, 1);
	} else {
		snprintf(tmp, sizeof(tmp), "\\x%02x", ch);
		soc_sbuf_adds(b, tmp);
	}
}

enum { RX_PATTERN, RX_EXISTS, RX_EMPTY };

/*
 * '?': one UTF-8 character, in byte mode (no Hyperscan UTF-8 flag, which
 * would need valid input): a well-formed sequence, or one byte that can
 * never start one (so a value that is not UTF-8 still matches bytewise).
 */
#define RX_ONECHAR	"(?:[\\x00-\\x7f]|[\\xc2-\\xdf][\\x80-\\xbf]|" \
	"[\\xe0-\\xef][\\x80-\\xbf]{2}|[\\xf0-\\xf4][\\x80-\\xbf]{3}|" \
	"[\\x80-\\xc1\\xf5-\\xff])"

/*
 * Tokens -> expression.  Leading/trailing stars drop the anchor they
 * touch; a value with nothing left matches any (RX_EXISTS) or only the
 * empty string (RX_EMPTY), which Hyperscan cannot express.
 */
static int
tokens_regex(const int *t, size_t n, bool astart, bool aend, bool windash,
    struct soc_sbuf *b)
{
	size_t lo = 0, hi = n;

	if (astart && lo < hi && t[lo] == TOK_STAR)
		astart = false;
	if (aend && hi > lo && t[hi - 1] == TOK_STAR)
		aend = false;
	if (!astart)
		while (lo < hi && t[lo] == TOK_STAR)
			lo++;
	if (!aend)
		while (hi > lo && t[hi - 1] == TOK_STAR)
			hi--;
	if (lo == hi)
		return astart && aend ? RX_EMPTY : RX_EXISTS;
	if (astart)
		soc_sbuf_adds(b, "^");
	for (size_t i = lo; i < hi; i++) {
		if (t[i] == TOK_STAR)
			soc_sbuf_adds(b, ".*");
		else if (t[i] == TOK_QMARK)
			soc_sbuf_adds(b, RX_ONECHAR);
		else if (windash && (t[i] == '-' || t[i] == '/') &&
		    (i == 0 || !is_word(t[i - 1])) && i + 1 < n &&
		    is_word(t[i + 1]))
			soc_sbuf_adds(b, "(?:-|/|\\xe2\\x80\\x93|\\xe2\\x80\\x94|\\xe2\\x80\\x95)");
		else
			emit_byte(b, t[i]);
	}
	if (aend)
		soc_sbuf_adds(b, "\\z");
	return RX_PATTERN;
}

static bool
match_anchors(int match, bool *astart, bool *aend)
{
	*astart = match == RM_EQ || match == RM_STARTS;
	*aend = match == RM_EQ || match == RM_ENDS;
	return true;
}

/* One literal (already encoded) as a pattern with the match anchors. */
static int
literal_node(struct rule_build *c, int line, int field, int match,
    const char *lit, size_t len)
{
	struct soc_sbuf b = { 0 };
	bool as, ae;
	int *t, rx, k;

	if ((t = calloc(len + 1, sizeof(*t))) == NULL)
		return rb_fail(c, line, "out of memory");
	for (size_t i = 0; i < len; i++)
		t[i] = (unsigned char)lit[i];
	match_anchors(match, &as, &ae);
	rx = tokens_regex(t, len, as, ae, false, &b);
	free(t);
	if (b.oom)
		return rb_fail(c, line, "out of memory");
	if (rx != RX_PATTERN) {
		free(b.data);
		if ((k = rb_node(c, rx == RX_EMPTY ? RN_EMPTY : RN_EXISTS, field)) >= 0)
			c->r->nodes[k].u.exists = true;
		return k;
	}
	return rb_pat(c, line, field, b.data, HS_FLAG_DOTALL);
}

/*
 * base64 / base64offset: the value (no wildcards allowed) is encoded; for
 * base64offset the three alignments, trimmed of the characters that
 * depend on neighbouring bytes, as in the Sigma reference implementation.
 */
static int
b64_node(struct rule_build *c, int line, int field,
    const struct rule_mods *m, const int *t, size_t n)
{
	static const size_t start_off[3] = { 0, 2, 3 };
	unsigned char *raw;
	uint32_t kids[3];
	size_t nk = 0;

	if ((raw = malloc(n + 3)) == NULL)
		return rb_fail(c, line, "out of memory");
	for (int shift = 0; shift < (m->b64off ? 3 : 1); shift++) {
		char *enc;
		size_t elen, lo, hi, rem;
		int k;

		memset(raw, ' ', (size_t)shift);
		for (size_t i = 0; i < n; i++)
			raw[shift + i] = (unsigned char)t[i];
		if ((enc = soc_base64_encode(raw, n + (size_t)shift)) == NULL) {
			free(raw);
			return rb_fail(c, line, "out of memory");
		}
		elen = strlen(enc);
		lo = m->b64off ? start_off[shift] : 0;
		hi = elen;
		rem = (n + (size_t)shift) % 3;
		if (m->b64off && rem == 1)
			hi = elen >= 3 ? elen - 3 : 0;
		else if (m->b64off && rem == 2)
			hi = elen >= 2 ? elen - 2 : 0;
		if (hi <= lo) {
			free(enc);
			continue;
		}
		k = literal_node(c, line, field, m->match, enc + lo, hi - lo);
		free(enc);
		if (k == -1) {
			free(raw);
			return -1;
		}
		kids[nk++] = (uint32_t)k;
	}
	free(raw);
	if (nk == 0)
		return rb_fail(c, line, "value too short for base64offset");
	return rb_group(c, RN_OR, kids, nk);
}

static int
cidr_parse(const char *s, struct soc_ip *ip, uint8_t *plen)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	int64_t p;
	int max;

	if (soc_ip_parse(s, alen, ip) == -1)
		return -1;
	max = ip->family == 4 ? 32 : 128;
	if (slash == NULL) {
		*plen = (uint8_t)max;
		return 0;
	}
	if (rule_parse_int64(slash + 1, &p) == -1 || p < 0 || p > max)
		return -1;
	*plen = (uint8_t)p;
	return 0;
}

/*
 * The set names of |intel (an extension: the field's value is an
 * indicator of that set, or of any set for "any"), interned for the
 * process: node u.num is the index (0: any).  A few dozen at most.
 */
#define INTEL_SETS_MAX	64
static char	*intel_sets[INTEL_SETS_MAX] = { (char *)"any" };
static int	 intel_nsets = 1;

const char *
rule_intel_set(int64_t i)
{
	return i > 0 && i < intel_nsets ? intel_sets[i] : NULL;
}

static int
intel_node(struct rule_build *c, int line, int field, const char *s)
{
	int n, i;

	if (s[0] == '\0' || strlen(s) > 127)
		return rb_fail(c, line, "intel needs a set name (or any)");
	for (i = 0; i < intel_nsets; i++)
		if (strcmp(intel_sets[i], s) == 0)
			break;
	if (i == intel_nsets) {
		if (i == INTEL_SETS_MAX || (intel_sets[i] = strdup(s)) == NULL)
			return rb_fail(c, line, "too many indicator sets named");
		intel_nsets++;
	}
	if ((n = rb_node(c, RN_INTEL, field)) == -1)
		return -1;
	c->r->nodes[n].u.num = i;
	return n;
}

static int
cidr_node(struct rule_build *c, int line, int field, const char *s)
{
	struct soc_ip ip;
	uint8_t plen;
	int n;

	/* a dynamic (EventData) field is text: its value is parsed as an
	 * address when matched (match-hs.c) */
	if (soc_field_type(field) != SOC_T_IP && !soc_field_dynamic(field))
		return rb_fail(c, line, "cidr needs an IP field, %s is not one",
		    soc_field_name(field));
	if (cidr_parse(s, &ip, &plen) == -1)
		return rb_fail(c, line, "bad CIDR '%s'", s);
	if ((n = rb_node(c, RN_CIDR, field)) == -1)
		return -1;
	c->r->nodes[n].u.cidr.ip = ip;
	c->r->nodes[n].u.cidr.plen = plen;
	return n;
}

/*
 * A number as written: 0 if an integer (*iv), 1 if a finite number with
 * a fraction (*dv), -1 if not a number.  "404.0" and "4.04e2" are 404.
 */
static int
parse_number(const char *s, int64_t *iv, double *dv)
{
	char *end;
	double d;

	if (rule_parse_int64(s, iv) == 0)
		return 0;
	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !(d > -9e18 && d < 9e18))
		return -1;
	if (d == (double)(int64_t)d) {
		*iv = (int64_t)d;
		return 0;
	}
	*dv = d;
	return 1;
}

static int
num_node(struct rule_build *c, int line, int field, int op,
    const char *s)
{
	int64_t v;
	double d;
	int n, kind;

	if (soc_field_type(field) != SOC_T_INT && soc_field_type(field) != SOC_T_TIME)
		return rb_fail(c, line, "numeric comparison on non-numeric field %s",
		    soc_field_name(field));
	if ((kind = parse_number(s, &v, &d)) == -1)
		return rb_fail(c, line, "'%s' is not an integer", s);
	if (kind == 1) {
		/* integers against a fraction: the exact integer bound */
		if (op == RN_EQ)
			return rb_fail(c, line, "'%s' can never equal integer "
			    "field %s", s, soc_field_name(field));
		v = (int64_t)d;		/* toward zero */
		if (d < 0 && (op == RN_GTE || op == RN_LT))
			;		/* ceil of a negative fraction */
		else if (d < 0)
			v--;		/* floor */
		else if (op == RN_GTE || op == RN_LT)
			v++;		/* ceil */
	}
	if ((n = rb_node(c, RN_NUM, field)) == -1)
		return -1;
	c->r->nodes[n].op = (uint8_t)op;
	c->r->nodes[n].u.num = v;
	return n;
}

/* @timestamp|hour: 3 and the other time modifiers (UTC). */
static int
time_node(struct rule_build *c, int line, int field,
    const struct rule_mods *m, const char *s)
{
	static const int ops[] = { [RM_EQ] = RN_EQ, [RM_GT] = RN_GT,
	    [RM_GTE] = RN_GTE, [RM_LT] = RN_LT, [RM_LTE] = RN_LTE };
	int64_t v;
	int n;

	if (field != RS_F_TIMESTAMP && soc_field_type(field) != SOC_T_TIME)
		return rb_fail(c, line, "time modifiers need @timestamp or a time "
		    "field, %s is not one", soc_field_name(field));
	if (rule_parse_int64(s, &v) == -1)
		return rb_fail(c, line, "'%s' is not an integer", s);
	if ((n = rb_node(c, RN_TIME, field)) == -1)
		return -1;
	c->r->nodes[n].op = (uint8_t)ops[m->match];
	c->r->nodes[n].kid = m->tpart;
	c->r->nodes[n].u.num = v;
	return n;
}

/* field|fieldref: other -- the two fields' values are equal. */
static int
fieldref_node(struct rule_build *c, int line, int field, const char *s)
{
	int other = rule_map_field(c->r, s);
	int n;

	if (other == SOC_F_NONE)
		return rb_fail(c, line, "fieldref: unknown field '%s'", s);
	if ((n = rb_node(c, RN_FIELDREF, field)) == -1)
		return -1;
	c->r->nodes[n].u.num = other;
	return n;
}

/*
 * UTF-16 of the tokens (valid UTF-8, no wildcards), little or big endian,
 * with a byte order mark for utf16; a new token array in *out.
 */
static int
utf16_tokens(const int *t, size_t n, int enc, int **out, size_t *nout)
{
	int *o = calloc(n * 4 + 4, sizeof(*o));
	size_t k = 0;

	if (o == NULL)
		return -1;
	if (enc == 3) {
		o[k++] = 0xff;
		o[k++] = 0xfe;
	}
	for (size_t i = 0; i < n;) {
		uint32_t cp, u[2];
		int len, nu = 1;

		if (t[i] < 0x80) {
			cp = (uint32_t)t[i];
			len = 1;
		} else if ((t[i] & 0xe0) == 0xc0) {
			cp = t[i] & 0x1f;
			len = 2;
		} else if ((t[i] & 0xf0) == 0xe0) {
			cp = t[i] & 0x0f;
			len = 3;
		} else if ((t[i] & 0xf8) == 0xf0) {
			cp = t[i] & 0x07;
			len = 4;
		} else
			goto bad;
		if (i + (size_t)len > n)
			goto bad;
		for (int j = 1; j < len; j++) {
			if (t[i + j] > 0xff || (t[i + j] & 0xc0) != 0x80)
				goto bad;
			cp = cp << 6 | (uint32_t)(t[i + j] & 0x3f);
		}
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		i += (size_t)len;
		u[0] = cp;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			u[0] = 0xd800 | (cp >> 10);
			u[1] = 0xdc00 | (cp & 0x3ff);
			nu = 2;
		}
		for (int j = 0; j < nu; j++) {
			int lo = (int)(u[j] & 0xff), hi = (int)(u[j] >> 8);

			o[k++] = enc == 2 ? hi : lo;
			o[k++] = enc == 2 ? lo : hi;
		}
	}
	*out = o;
	*nout = k;
	return 0;
bad:
	free(o);
	return -1;
}

/*
 * A regex: in UTF-8 mode with Unicode properties ('.' is one character,
 * re|i folds non-ASCII letters, as PCRE in UTF-8 mode), which match-hs.c
 * scans only on well-formed values and replaces by the byte-mode pattern
 * on the others.  A regex that UTF-8 mode refuses (bytes that are not
 * UTF-8 in it) is byte mode only.
 */
static int
re_node(struct rule_build *c, int line, int field,
    const struct rule_mods *m, const char *s)
{
	unsigned int flags = HS_FLAG_ALLOWEMPTY;
	char err[256], *expr;

	if (m->re_i)
		flags |= HS_FLAG_CASELESS;
	if (m->re_m)
		flags |= HS_FLAG_MULTILINE;
	if (m->re_s)
		flags |= HS_FLAG_DOTALL;
	if (rule_expr_bounded(s, NULL, err, sizeof(err)) == -1)
		return rb_fail(c, line, "regex /%.200s/ refused before compiling: "
		    "%s", s, err);
	if (match_check_regex(s, flags, err, sizeof(err)) == -1)
		return rb_fail(c, line, "regex /%s/ refused by Hyperscan: %s", s, err);
	if (match_check_regex(s, flags | HS_FLAG_UTF8 | HS_FLAG_UCP, err,
	    sizeof(err)) == 0)
		flags |= HS_FLAG_UTF8 | HS_FLAG_UCP;
	if ((expr = strdup(s)) == NULL)
		return rb_fail(c, line, "out of memory");
	return rb_pat(c, line, field, expr, flags);
}

/* A plain/contains/startswith/endswith value (wildcards honoured). */
static int
str_node(struct rule_build *c, int line, int field,
    const struct rule_mods *m, const char *s, size_t len)
{
	struct soc_sbuf b = { 0 };
	size_t n;
	bool wild, as, ae;
	int *t, rx, k;
	unsigned int flags = HS_FLAG_DOTALL;
	int64_t iv;
	double dv;
	struct soc_ip ip;

	if ((t = sigma_tokens(s, len, &n, &wild)) == NULL)
		return rb_fail(c, line, "out of memory");
	/* equality on numbers and addresses is exact, not textual */
	if (m->match == RM_EQ && !m->b64 && !m->b64off && !m->windash &&
	    !m->utf16) {
		if (soc_field_type(field) == SOC_T_INT && !wild) {
			free(t);
			if (parse_number(s, &iv, &dv) == -1)
				return rb_fail(c, line, "'%s' is not a number; %s "
				    "holds integers", s, soc_field_name(field));
			return num_node(c, line, field, RN_EQ, s);
		}
		if (soc_field_type(field) == SOC_T_IP &&
		    soc_ip_parse(s, len, &ip) == 0) {
			free(t);
			return cidr_node(c, line, field, s);
		}
	}
	if (m->utf16) {
		int *u;
		size_t nu;

		if (wild) {
			free(t);
			return rb_fail(c, line, "wildcards cannot be UTF-16-encoded");
		}
		if (utf16_tokens(t, n, m->utf16, &u, &nu) == -1) {
			free(t);
			return rb_fail(c, line, "'%s' is not valid UTF-8", s);
		}
		free(t);
		t = u;
		n = nu;
	}
	if (m->b64 || m->b64off) {
		if (wild) {
			free(t);
			return rb_fail(c, line, "wildcards cannot be base64-encoded");
		}
		k = b64_node(c, line, field, m, t, n);
		free(t);
		return k;
	}
	match_anchors(m->match, &as, &ae);
	rx = tokens_regex(t, n, as, ae, m->windash, &b);
	free(t);
	if (b.oom)
		return rb_fail(c, line, "out of memory");
	if (rx != RX_PATTERN) {
		free(b.data);
		if ((k = rb_node(c, rx == RX_EMPTY ? RN_EMPTY : RN_EXISTS, field)) >= 0)
			c->r->nodes[k].u.exists = true;
		return k;
	}
	if (!m->cased)
		flags |= HS_FLAG_CASELESS;
	return rb_pat(c, line, field, b.data, flags);
}

/*
 * One value of a field, dispatched on the modifiers: s (len bytes) as
 * written, or null for a YAML null (the field must be absent).  The
 * expand modifier is rule_value()'s (rule-expand.c), above this file.
 */
int
rule_value_one(struct rule_build *c, int line, int field,
    const struct rule_mods *m, const char *s, size_t len, bool null)
{
	int k, b;

	if (null) {
		if (m->match != RM_EQ || m->b64 || m->b64off || m->windash ||
		    m->utf16 || m->tpart || m->fieldref || m->expand)
			return rb_fail(c, line, "null value with a modifier");
		if ((k = rb_node(c, RN_EXISTS, field)) >= 0)
			c->r->nodes[k].u.exists = false;
		return k;
	}
	if (m->tpart != TP_NONE)
		return time_node(c, line, field, m, s);
	if (m->fieldref)
		return fieldref_node(c, line, field, s);
	switch (m->match) {
	case RM_EXISTS:
		if ((b = ry_bool(s)) == -1)
			return rb_fail(c, line, "exists needs true or false");
		if ((k = rb_node(c, RN_EXISTS, field)) >= 0)
			c->r->nodes[k].u.exists = b == 1;
		return k;
	case RM_CIDR:
		return cidr_node(c, line, field, s);
	case RM_INTEL:
		return intel_node(c, line, field, s);
	case RM_GT:
		return num_node(c, line, field, RN_GT, s);
	case RM_GTE:
		return num_node(c, line, field, RN_GTE, s);
	case RM_LT:
		return num_node(c, line, field, RN_LT, s);
	case RM_LTE:
		return num_node(c, line, field, RN_LTE, s);
	case RM_RE:
		return re_node(c, line, field, m, s);
	default:
		return str_node(c, line, field, m, s, len);
	}
}
