/*
 * Matching (match-build.c compiles).  An event costs one hs_scan per field
 * it carries that has a database (two with UTF-8-mode regexes) and a
 * literal lookup per field with anchored literals (match-lit.c), whatever
 * the number of rules.  Both set bits in the scratch's hit bitmap; then
 * only the rules that can be true are evaluated: those whose key is a
 * pattern that hit or an integer equality the event meets, plus, per
 * dataset, the few whose condition can hold without a key (e.g. "not
 * filter").
 * Non-string conditions (numbers, cidr, exists, null) are read straight
 * from the event during that evaluation.  Fields that hold a list
 * (multi_kind) are scanned one value at a time.
 *
 * Threading: a ruleset is read-only here except for the correlation state
 * (corr-window.c); use one rs_scratch per thread and serialise
 * ruleset_match() calls on one ruleset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hs/hs.h>

#include "soc/fmt.h"
#include "soc/hash.h"
#include "soc/log.h"
#include "match-int.h"

struct rs_scratch *
rs_scratch_new(const struct ruleset *rs)
{
	const struct match_db *m = rs->db;
	struct rs_scratch *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((m->proto != NULL && hs_clone_scratch(m->proto, &s->hs) != HS_SUCCESS) ||
	    (s->bits = calloc((m->npat + 64) / 64, sizeof(uint64_t))) == NULL ||
	    (s->hits = calloc(m->npat + 1, sizeof(uint32_t))) == NULL ||
	    (s->seen = calloc(rs->nrules + 1, sizeof(uint32_t))) == NULL ||
	    (s->matched = calloc(rs->nrules + 1, sizeof(uint32_t))) == NULL) {
		rs_scratch_free(s);
		return NULL;
	}
	return s;
}

void
rs_scratch_free(struct rs_scratch *s)
{
	if (s == NULL)
		return;
	hs_free_scratch(s->hs);
	free(s->bits);
	free(s->hits);
	free(s->seen);
	free(s->matched);
	free(s);
}

/* ---------------------------------------------------------------- */
/* matching */

static int
on_hit(unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *ctx)
{
	struct rs_scratch *s = ctx;

	(void)from;
	(void)to;
	(void)flags;
	match_hit(s, id);
	return 0;
}

static bool
cidr_in(const struct soc_ip *ip, const struct rule_node *nd)
{
	const struct soc_ip *net = &nd->u.cidr.ip;
	unsigned int bits = nd->u.cidr.plen, full = bits / 8, rem = bits % 8;

	if (ip->family != net->family)
		return false;
	if (memcmp(ip->addr, net->addr, full) != 0)
		return false;
	if (rem == 0)
		return true;
	return ((ip->addr[full] ^ net->addr[full]) & (0xff << (8 - rem)) & 0xff) == 0;
}

/* cidr on a dynamic (text) field: the value parsed as an address. */
static bool
cidr_text(const struct soc_event *ev, const struct rule_node *nd)
{
	struct soc_ip ip;
	const char *s;
	size_t len;

	return (s = soc_event_str(ev, nd->field, &len)) != NULL &&
	    soc_ip_parse(s, len, &ip) == 0 && cidr_in(&ip, nd);
}

static bool
num_cmp(int64_t v, const struct rule_node *nd)
{
	switch (nd->op) {
	case RN_EQ: return v == nd->u.num;
	case RN_GT: return v > nd->u.num;
	case RN_GTE: return v >= nd->u.num;
	case RN_LT: return v < nd->u.num;
	default: return v <= nd->u.num;
	}
}

/* The Sigma time modifiers' parts of t (ns, UTC). */
static int64_t
time_part(int64_t t, int part)
{
	time_t sec = (time_t)(t / 1000000000LL - (t % 1000000000LL < 0));
	struct tm tm;
	char wk[8];

	if (gmtime_r(&sec, &tm) == NULL)
		return -1;
	switch (part) {
	case TP_MINUTE: return tm.tm_min;
	case TP_HOUR: return tm.tm_hour;
	case TP_DAY: return tm.tm_mday;
	case TP_MONTH: return tm.tm_mon + 1;
	case TP_YEAR: return tm.tm_year + 1900LL;
	default:		/* ISO 8601 week, 1..53 */
		strftime(wk, sizeof(wk), "%V", &tm);
		return atoi(wk);
	}
}

static bool
time_cmp(const struct rule_node *nd, const struct soc_event *ev)
{
	int64_t t;

	if (nd->field == RS_F_TIMESTAMP)
		t = ev->ts;
	else if (soc_event_has(ev, nd->field))
		t = ev->val[nd->field].i;
	else
		return false;
	return num_cmp(time_part(t, (int)nd->kid), nd);
}

/* Two fields' values, as text, byte for byte. */
static bool
fieldref_eq(const struct rule_node *nd, const struct soc_event *ev)
{
	char a[512], b[512];
	int la, lb;
	const char *pa, *pb;
	size_t na, nb;

	if (soc_field_type(nd->field) == SOC_T_STR &&
	    soc_field_type((int)nd->u.num) == SOC_T_STR) {
		pa = soc_event_str(ev, nd->field, &na);
		pb = soc_event_str(ev, (int)nd->u.num, &nb);
		return pa != NULL && pb != NULL && na == nb &&
		    memcmp(pa, pb, na) == 0;
	}
	la = soc_event_text(ev, nd->field, a, sizeof(a));
	lb = soc_event_text(ev, (int)nd->u.num, b, sizeof(b));
	return la >= 0 && la == lb && memcmp(a, b, (size_t)la) == 0;
}

/* |intel: who answers membership (ingest, with its indicator set). */
static int	(*intel_hook)(void *, const struct soc_event *, int,
		    const char *);
static void	*intel_hook_arg;

void
ruleset_intel_hook(int (*fn)(void *arg, const struct soc_event *ev,
    int field, const char *set), void *arg)
{
	intel_hook = fn;
	intel_hook_arg = arg;
}

static bool
eval(const struct rule *r, uint32_t n, const struct soc_event *ev,
    const uint64_t *bits)
{
	const struct rule_node *nd = &r->nodes[n];
	size_t len;

	switch (nd->type) {
	case RN_PAT:
		return bits[nd->u.pat / 64] >> (nd->u.pat % 64) & 1;
	case RN_TRUE:
		return true;
	case RN_FALSE:
		return false;
	case RN_EXISTS:
		return soc_event_has(ev, nd->field) == nd->u.exists;
	case RN_EMPTY:
		return soc_event_str(ev, nd->field, &len) != NULL && len == 0;
	case RN_NUM:
		return soc_event_has(ev, nd->field) &&
		    num_cmp(ev->val[nd->field].i, nd);
	case RN_CIDR:
		if (soc_field_dynamic(nd->field))
			return cidr_text(ev, nd);
		return soc_event_has(ev, nd->field) &&
		    cidr_in(&ev->val[nd->field].ip, nd);
	case RN_TIME:
		return time_cmp(nd, ev);
	case RN_FIELDREF:
		return fieldref_eq(nd, ev);
	case RN_INTEL:
		return soc_event_has(ev, nd->field) && intel_hook != NULL &&
		    intel_hook(intel_hook_arg, ev, nd->field,
		    rule_intel_set(nd->u.num));
	case RN_NOT:
		return !eval(r, r->kids[nd->kid], ev, bits);
	case RN_AND:
		for (uint32_t i = 0; i < nd->nkids; i++)
			if (!eval(r, r->kids[nd->kid + i], ev, bits))
				return false;
		return true;
	case RN_OR:
		for (uint32_t i = 0; i < nd->nkids; i++)
			if (eval(r, r->kids[nd->kid + i], ev, bits))
				return true;
		return false;
	}
	return false;
}

static int
dataset_of(const struct ruleset *rs, const struct soc_event *ev)
{
	size_t len;
	const char *d = soc_event_str(ev, SOC_F_EVENT_DATASET, &len);
	uint32_t h;
	int i;

	if (d == NULL)
		return -1;
	for (h = match_ds_hash(d, len); rs->db->ds_slot[h] != 0;
	    h = (h + 1) & (MATCH_DS_SLOTS - 1)) {
		i = rs->db->ds_slot[h] - 1;
		if (rs->ds_len[i] == len && memcmp(rs->ds_names[i], d, len) == 0)
			return i;
	}
	return -1;
}

/* Well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
static bool
utf8_valid(const unsigned char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		else
			return false;
		for (size_t k = 1; k <= n; k++)
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
				return false;
		if ((c == 0xe0 && p[i + 1] < 0xa0) || (c == 0xed && p[i + 1] > 0x9f) ||
		    (c == 0xf0 && p[i + 1] < 0x90) || (c == 0xf4 && p[i + 1] > 0x8f))
			return false;
		i += n + 1;
	}
	return true;
}

static int
scan_one(hs_database_t *db, const char *p, size_t len, struct rs_scratch *s,
    int f)
{
	hs_error_t e;

	if (db == NULL)
		return 0;
	e = hs_scan(db, p, (unsigned int)len, 0, s->hs, on_hit, s);
	if (e != HS_SUCCESS) {
		log_warnx("hs_scan on %s failed: %d", soc_field_name(f), e);
		return -1;
	}
	return 0;
}

/*
 * One value: its anchored literals, the byte-mode database, and the
 * regexes in the right mode.
 */
static int
scan_value(const struct match_field *mf, const char *p, size_t len,
    struct rs_scratch *s)
{
	if (mf->lit != NULL)
		lit_scan(mf->lit, p, len, s);
	if (scan_one(mf->db, p, len, s, mf->field) == -1)
		return -1;
	if (mf->u8 != NULL && scan_one(utf8_valid((const unsigned char *)p,
	    len) ? mf->u8 : mf->raw, p, len, s, mf->field) == -1)
		return -1;
	return 0;
}

/*
 * Fields that hold a list, comma-joined by the sensor: 1 for values as
 * sent (TLS ALPN ids), 2 for values in which a ',' is escaped as "\,"
 * (DNS answers, zone-file escapes, which also escape '\'); 0 otherwise.
 * Each value is scanned on its own, so a condition holds when any value
 * matches, as ECS-based backends do with arrays (docs/RULES.md).
 */
static int
multi_kind(int f)
{
	switch (f) {
	case SOC_F_TLS_NEXT_PROTOCOL:
	case SOC_F_X509_ALT_NAMES:
		return 1;
	case SOC_F_DNS_ANSWERS:
		return 2;
	}
	return 0;
}

static int
scan_list(const struct match_field *mf, const char *p, size_t len, int kind,
    struct rs_scratch *s)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && kind == 2 && p[i] == '\\') {
			i++;		/* the escaped byte is part of the value */
			continue;
		}
		if (i < len && p[i] != ',')
			continue;
		if (scan_value(mf, p + start, (i < len ? i : len) - start, s) == -1)
			return -1;
		start = i + 1;
	}
	return 0;
}

/* hs_scan per field that has a database and a value (two with regexes). */
static int
scan_fields(const struct match_db *m, struct rs_scratch *s,
    const struct soc_event *ev)
{
	char buf[128];
	const char *p;
	size_t len;
	int kind;

	for (size_t i = 0; i < m->nfixed; i++) {
		const struct match_field *mf = &m->fields[i];
		int f = mf->field;

		if (!soc_event_has(ev, f))
			continue;
		if (mf->str) {
			p = ev->buf + ev->val[f].s.off;
			len = ev->val[f].s.len;
		} else {
			int n = soc_event_text(ev, f, buf, sizeof(buf));

			if (n < 0)
				continue;
			p = buf;
			len = (size_t)n;
		}
		if ((kind = multi_kind(f)) != 0) {
			if (scan_list(mf, p, len, kind, s) == -1)
				return -1;
		} else if (scan_value(mf, p, len, s) == -1)
			return -1;
	}
	/* the event's dynamic values that a rule names: one lookup each */
	for (unsigned i = 0; m->dynmf != NULL && i < soc_event_dyn_count(ev);
	    i++) {
		int f = soc_event_dyn_at(ev, i, &p, &len);
		uint32_t k;

		if (f < SOC_F_COUNT || f >= SOC_F_COUNT + SOC_F_DYN_MAX ||
		    (k = m->dynmf[f - SOC_F_COUNT]) == 0)
			continue;
		if (scan_value(&m->fields[k - 1], p, len, s) == -1)
			return -1;
	}
	return 0;
}

static void
consider(const struct ruleset *rs, struct rs_scratch *s, uint32_t ri,
    uint64_t dsbit, const struct soc_event *ev, uint32_t *nmatched)
{
	const struct rule *r = rs->rules[ri];

	if (s->seen[ri] == s->epoch || !(r->dsmask & dsbit))
		return;
	s->seen[ri] = s->epoch;
	s->nevals++;
	if (eval(r, r->root, ev, s->bits))
		s->matched[(*nmatched)++] = ri;
}

/* The rules with an equality on field f that this event's value meets. */
static void
consider_num(const struct ruleset *rs, struct rs_scratch *s, int f,
    uint64_t dsbit, const struct soc_event *ev, uint32_t *nmatched)
{
	const struct match_db *m = rs->db;
	uint32_t lo;
	int64_t v;

	if (!soc_event_has(ev, f))
		return;
	v = ev->val[f].i;
	lo = match_num_lower(m->num, m->nnum, f, v);
	for (; lo < m->nnum && m->num[lo].field == f && m->num[lo].value == v; lo++)
		consider(rs, s, m->num[lo].rule, dsbit, ev, nmatched);
}

static void
new_epoch(const struct ruleset *rs, struct rs_scratch *s)
{
	if (++s->epoch == 0) {
		memset(s->seen, 0, rs->nrules * sizeof(*s->seen));
		s->epoch = 1;
	}
}

/*
 * Group key of a single-event alert: incidents of one rule aggregate per
 * attacker or per host, as an analyst works them -- "source.ip=A", else
 * "host.hostname=H", else "" (one incident per rule and agency).
 */
static const char *
single_group_key(const struct soc_event *ev, char *buf, size_t cap)
{
	static const int fields[] = { SOC_F_SOURCE_IP, SOC_F_HOST_HOSTNAME };
	char val[256];
	const char *name;
	size_t n;
	int len;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if ((len = soc_event_text(ev, fields[i], val, sizeof(val))) >= 0) {
			name = soc_field_name(fields[i]);
			n = soc_fmt_cat(buf, cap, 0, name, strlen(name));
			n = soc_fmt_cat(buf, cap, n, "=", 1);
			soc_fmt_cat(buf, cap, n, val, (size_t)len);
			return buf;
		}
	return "";
}

/* Alerts for the matched rules, in rule order; returns their number. */
static int
fire(struct ruleset *rs, struct rs_scratch *s, uint32_t nmatched,
    const struct soc_event *ev, rs_alert_fn fn, void *arg)
{
	int nalerts = 0;

	qsort(s->matched, nmatched, sizeof(*s->matched), match_cmp_u32);
	corr_next_event(rs->cs);
	for (uint32_t i = 0; i < nmatched; i++) {
		const struct rule *r = rs->rules[s->matched[i]];

		if (r->generate) {
			char key[320];
			struct rs_alert a = { .rule = r, .event = ev,
			    .group_key = single_group_key(ev, key, sizeof(key)),
			    .first_ts = ev->ts, .last_ts = ev->ts, .count = 1 };

			if (fn != NULL)
				fn(arg, &a);
			nalerts++;
		}
		if (r->nfeeds > 0)
			nalerts += corr_feed(rs, r, ev, fn, arg);
	}
	return nalerts;
}

/* Bytes of every Hyperscan database and literal index of the ruleset. */
size_t
match_db_bytes(const struct ruleset *rs)
{
	const struct match_db *m = rs->db;
	size_t total = 0, n;

	for (size_t i = 0; i < m->nfields; i++) {
		hs_database_t *d[3] = { m->fields[i].db, m->fields[i].u8,
		    m->fields[i].raw };

		for (int j = 0; j < 3; j++)
			if (d[j] != NULL && hs_database_size(d[j], &n) == HS_SUCCESS)
				total += n;
		total += lit_bytes(m->fields[i].lit);
	}
	return total;
}

int
ruleset_match(struct ruleset *rs, struct rs_scratch *s,
    const struct soc_event *ev, rs_alert_fn fn, void *arg)
{
	const struct match_db *m = rs->db;
	uint32_t nmatched = 0;
	uint64_t dsbit;
	int ds, rc;

	if ((ds = dataset_of(rs, ev)) == -1 || !(m->dsmask >> ds & 1))
		return 0;
	dsbit = 1ULL << ds;
	rc = scan_fields(m, s, ev);
	new_epoch(rs, s);
	for (uint32_t h = 0; rc == 0 && h < s->nhits; h++) {
		uint32_t g = s->hits[h];

		for (uint32_t k = m->pr_off[g]; k < m->pr_off[g + 1]; k++)
			consider(rs, s, m->pr_rule[k], dsbit, ev, &nmatched);
	}
	for (uint32_t k = m->ds_off[ds]; rc == 0 && k < m->ds_off[ds + 1]; k++)
		consider(rs, s, m->ds_rule[k], dsbit, ev, &nmatched);
	for (size_t f = 0; rc == 0 && f < m->nnumf; f++)
		consider_num(rs, s, m->numf[f], dsbit, ev, &nmatched);
	for (uint32_t ri = 0; s->all && rc == 0 && ri < rs->nrules; ri++)
		if (rs->rules[ri]->corr == NULL)
			consider(rs, s, ri, dsbit, ev, &nmatched);
	for (uint32_t h = 0; h < s->nhits; h++)
		s->bits[s->hits[h] / 64] &= ~(1ULL << (s->hits[h] % 64));
	s->nhits = 0;
	if (rc == -1)
		return -1;
	return fire(rs, s, nmatched, ev, fn, arg);
}
