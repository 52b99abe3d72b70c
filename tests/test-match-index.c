/*
 * The engine's indexes against brute force (match-build.c, match-lit.c,
 * match-hs.c).  The engine does not evaluate every rule for every event:
 * it keeps exact, prefix and suffix literals out of Hyperscan in a hash
 * index, and evaluates a rule only when one of its keys (a pattern or an
 * integer equality chosen for low fan-out) fires.  Both are shortcuts
 * that must never change a verdict, so:
 *
 *  - lit_parse() on the expressions rule-value.c writes, and on ones it
 *    must leave to Hyperscan;
 *  - a differential run: random rules (plain values, startswith,
 *    endswith, contains, wildcards, cased, regexes, numbers, lists, "not")
 *    over a small alphabet so that values overlap, collide and differ in
 *    case, against random events (mixed case, non-UTF-8 bytes, empty
 *    values, multi-valued DNS answers).  Every event is matched three
 *    ways -- the engine as built, the engine with every rule evaluated
 *    (no key index), and a ruleset loaded with hs_only (no literal index,
 *    every pattern in Hyperscan) -- and the alerting rules must be the
 *    same set;
 *  - fan-out: 300 rules that share "Protocol: tcp" and each need one of
 *    their own ports evaluate one rule for an event, not 300; 3,000
 *    endswith domains that share ".com" still match exactly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hs/hs.h>

#include "soc-config.h"
#include "soc/event.h"
#include "rules.h"
#include "match-int.h"
#include "check.h"
#include "fixture.h"

#define MAPPING		SOC_SRCDIR "/rules/mapping.yml"
#define NRULES		400
#define NEVENTS		4000

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void
on_err(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "  load: %s\n", msg);
}

/* Alerting rules of one match, as a bitmap by the rule number in the id. */
struct seen {
	uint64_t	 bits[(NRULES + 3100 + 63) / 64];
	int		 n;
};

static void
on_alert(void *arg, const struct rs_alert *a)
{
	struct seen *s = arg;
	unsigned int k;

	if (sscanf(rule_title(a->rule), "r%u", &k) == 1 && k < NRULES + 3100) {
		s->bits[k / 64] |= 1ULL << (k % 64);
		s->n++;
	}
}

static struct ruleset *
load(const char *dir, int hs_only)
{
	const char *dirs[1] = { dir };
	struct rs_load_opts o = { .min_status = RS_STATUS_ANY,
	    .hs_only = hs_only };
	size_t nerr = 0;
	struct ruleset *rs;

	rs = ruleset_load_opts(dirs, 1, MAPPING, &o, on_err, NULL, &nerr);
	CHECK(rs != NULL && nerr == 0);
	return rs;
}

/* ---------------------------------------------------------------- */

static void
test_parse(void)
{
	static const struct {
		const char	*expr;
		unsigned int	 flags;
		int		 ok, kind;
		const char	*lit;
		int		 fold;
	} t[] = {
		{ "^abc\\z", HS_FLAG_CASELESS | HS_FLAG_DOTALL, 1, LIT_EXACT, "abc", 1 },
		{ "^ab\\x2ec", HS_FLAG_DOTALL, 1, LIT_PREFIX, "ab.c", 0 },
		{ "\\x2ecom\\z", HS_FLAG_CASELESS, 1, LIT_SUFFIX, ".com", 1 },
		{ "^\\x5cz", 0, 1, LIT_PREFIX, "\\z", 0 },	/* a backslash, then z */
		{ "^\\xc3\\xa9t\\xc3\\xa9\\z", HS_FLAG_CASELESS, 1, LIT_EXACT,
		    "\xc3\xa9t\xc3\xa9", 1 },
		{ "abc", HS_FLAG_CASELESS, 0, 0, NULL, 0 },	/* contains */
		{ "^a.*b\\z", HS_FLAG_DOTALL, 0, 0, NULL, 0 },	/* wildcard */
		{ "^a(?:x|y)", 0, 0, 0, NULL, 0 },
		{ "^abc\\z", HS_FLAG_UTF8 | HS_FLAG_UCP, 0, 0, NULL, 0 },
		{ "^abc\\z", HS_FLAG_MULTILINE, 0, 0, NULL, 0 },
		{ "^\\z", 0, 0, 0, NULL, 0 },			/* empty */
		{ "^ab\\x2", 0, 0, 0, NULL, 0 },		/* cut escape */
		{ "^ab\\d", 0, 0, 0, NULL, 0 },
	};
	char out[64];
	size_t len;
	bool fold;
	int kind;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int ok = lit_parse(t[i].expr, t[i].flags, &kind, out, &len, &fold);

		CHECK_INT(ok, t[i].ok);
		if (!ok || !t[i].ok)
			continue;
		CHECK_INT(kind, t[i].kind);
		CHECK_INT(len, strlen(t[i].lit));
		CHECK(memcmp(out, t[i].lit, len) == 0);
		CHECK_INT(fold, t[i].fold);
	}
}

/* ---------------------------------------------------------------- */
/* differential */

static const char *const atoms[] = {
	"a", "A", "ab", "Ab", "b", "ba", ".", "x.y", "-", "\xc3\xa9", "\xc3\x89",
	"1", "12", "z", "admin", "ADMIN", "\\", "%",
};
#define NATOMS	(sizeof(atoms) / sizeof(atoms[0]))

static void
rand_value(char *buf, size_t cap, int minatoms)
{
	int n = minatoms + (int)rnd(4);

	buf[0] = '\0';
	for (int i = 0; i < n; i++)
		strncat(buf, atoms[rnd(NATOMS)], cap - strlen(buf) - 1);
}

/* A YAML single-quoted scalar. */
static void
yq(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		fputc(*s, f);
	}
	fputc('\'', f);
}

static void
write_cond(FILE *f, const char *field)
{
	static const char *const mods[] = { "", "|startswith", "|endswith",
	    "|contains", "|cased", "|startswith|cased", "|endswith|cased",
	    "|re", "|re|i" };
	const char *mod = mods[rnd(sizeof(mods) / sizeof(mods[0]))];
	int nv = 1 + (int)rnd(3);
	char v[64];

	fprintf(f, "    %s%s:\n", field, mod);
	for (int i = 0; i < nv; i++) {
		if (strncmp(mod, "|re", 3) == 0)
			snprintf(v, sizeof(v), "%s%s", rnd(2) ? "^" : "",
			    atoms[rnd(14)][0] == '.' ? "x" : atoms[rnd(6)]);
		else {
			rand_value(v, sizeof(v), 2);
			if (rnd(6) == 0)	/* a wildcard keeps it in Hyperscan */
				strncat(v, rnd(2) ? "*" : "?", sizeof(v) - strlen(v) - 1);
		}
		fputs("      - ", f);
		yq(f, v);
		fputc('\n', f);
	}
}

static void
write_rules(const char *dir, const char *ufield)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/rules.yml", dir);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	for (int i = 0; i < NRULES; i++) {
		int dns = i % 5 == 4;

		fprintf(f, "---\ntitle: r%d\nid: r%d\nlevel: low\n", i, i);
		if (dns) {
			fprintf(f, "logsource: {category: dns}\ndetection:\n"
			    "  sel:\n");
			write_cond(f, rnd(2) ? "query" : "answers");
			fprintf(f, "  condition: sel\n");
			continue;
		}
		fprintf(f, "logsource: {product: linux, service: sshd}\n"
		    "detection:\n  a:\n");
		write_cond(f, "message");
		fprintf(f, "  b:\n");
		write_cond(f, ufield);
		fprintf(f, "  p:\n    process.pid:\n      - %u\n      - %u\n",
		    rnd(8), rnd(8));
		switch (rnd(6)) {
		case 0: fprintf(f, "  condition: a and b\n"); break;
		case 1: fprintf(f, "  condition: a or b\n"); break;
		case 2: fprintf(f, "  condition: a and not b\n"); break;
		case 3: fprintf(f, "  condition: p and (a or b)\n"); break;
		case 4: fprintf(f, "  condition: p or a\n"); break;
		default: fprintf(f, "  condition: p and not a\n"); break;
		}
	}
	fclose(f);
}

/* A random event; values drawn from the rules' alphabet, bytes mixed in. */
static void
rand_event(struct soc_event *ev, int ufield, int n0, int n1)
{
	char v[96];

	soc_event_reset(ev);
	if (n0 >= 0) {		/* other dynamic values, no rng draw */
		soc_event_set_cstr(ev, n0, "admin");
		soc_event_set_cstr(ev, n1, "ab");
	}
	ev->ts = 1700000000LL * 1000000000LL;
	if (rnd(5) == 0) {
		soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, "network.dns");
		rand_value(v, sizeof(v), 0);
		soc_event_set_cstr(ev, SOC_F_DNS_QNAME, v);
		if (rnd(2)) {
			char w[64];

			rand_value(w, sizeof(w), 1);
			strncat(v, ",", sizeof(v) - strlen(v) - 1);
			strncat(v, w, sizeof(v) - strlen(v) - 1);
			soc_event_set_cstr(ev, SOC_F_DNS_ANSWERS, v);
		}
		return;
	}
	soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, "log.sshd");
	rand_value(v, sizeof(v), 0);
	if (rnd(8) == 0) {		/* a byte that is not UTF-8 */
		size_t n = strlen(v);

		v[n] = (char)0xff;
		v[n + 1] = '\0';
	}
	soc_event_set_cstr(ev, SOC_F_MESSAGE, v);
	if (rnd(4) != 0) {
		rand_value(v, sizeof(v), 0);
		soc_event_set_cstr(ev, ufield, v);
	}
	if (rnd(2))
		soc_event_set_int(ev, SOC_F_PROCESS_PID, rnd(8));
}

static void
test_differential(void)
{
	char dir[] = "/tmp/test-match-index.XXXXXX";
	static struct soc_event ev;
	struct ruleset *fast, *slow;
	struct rs_scratch *sf, *sa, *ss;
	int differ = 0, alerts = 0;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	write_rules(dir, "user.name");
	fast = load(dir, 0);
	slow = load(dir, 1);
	fx_rmtree(dir);
	if (fast == NULL || slow == NULL)
		return;
	CHECK_INT(ruleset_count(fast), NRULES);
	CHECK_INT(ruleset_count(slow), NRULES);
	sf = rs_scratch_new(fast);
	sa = rs_scratch_new(fast);
	ss = rs_scratch_new(slow);
	sa->all = true;
	for (int i = 0; i < NEVENTS; i++) {
		struct seen a = { 0 }, b = { 0 }, c = { 0 };

		rand_event(&ev, SOC_F_USER_NAME, -1, -1);
		ruleset_match(fast, sf, &ev, on_alert, &a);
		ruleset_match(fast, sa, &ev, on_alert, &b);
		ruleset_match(slow, ss, &ev, on_alert, &c);
		alerts += a.n;
		if (memcmp(&a, &b, sizeof(a)) != 0 ||
		    memcmp(&a, &c, sizeof(a)) != 0) {
			if (differ++ < 5)
				fprintf(stderr, "event %d: engine %d alerts, "
				    "every rule %d, hs_only %d\n", i, a.n, b.n, c.n);
		}
	}
	CHECK_INT(differ, 0);
	/* the run means something: many alerts, far fewer evaluations */
	CHECK(alerts > NEVENTS);
	CHECK(sf->nevals * 2 < sa->nevals);
	printf("differential: %d events, %d alerts, %llu rules evaluated "
	    "(every rule: %llu)\n", NEVENTS, alerts,
	    (unsigned long long)sf->nevals, (unsigned long long)sa->nevals);
	rs_scratch_free(sf);
	rs_scratch_free(sa);
	rs_scratch_free(ss);
	ruleset_free(fast);
	ruleset_free(slow);
}

/*
 * The same rules and events with user.name moved to a dynamic field
 * (winlog.event_data.User, interned at load; the events also carry two
 * other dynamic values, one interned before the rules and one after):
 * the alerts must be those of the fixed field, event for event, through
 * the index, every rule, and hs_only.
 */
static void
test_dynamic(void)
{
	char dfix[] = "/tmp/test-match-index.XXXXXX";
	char ddyn[] = "/tmp/test-match-index.XXXXXX";
	const char *uname = "winlog.event_data.User";
	static struct soc_event ev;
	struct ruleset *fix, *dyn, *dynhs;
	struct rs_scratch *sf, *sd, *sa, *sh;
	uint64_t seed = rng, evseed;
	int noise, noise1, differ = 0, alerts = 0, uf;

	noise = soc_field_intern("winlog.event_data.Noise0", 24);
	CHECK(noise >= SOC_F_COUNT);
	if (mkdtemp(dfix) == NULL || mkdtemp(ddyn) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	write_rules(dfix, "user.name");
	rng = seed;
	write_rules(ddyn, uname);
	fix = load(dfix, 0);
	dyn = load(ddyn, 0);
	dynhs = load(ddyn, 1);
	fx_rmtree(dfix);
	fx_rmtree(ddyn);
	if (fix == NULL || dyn == NULL || dynhs == NULL)
		return;
	uf = soc_field_lookup(uname, strlen(uname));
	CHECK(uf >= SOC_F_COUNT);
	noise1 = soc_field_intern("winlog.event_data.Noise1", 24);
	CHECK(noise1 > uf);
	sf = rs_scratch_new(fix);
	sd = rs_scratch_new(dyn);
	sa = rs_scratch_new(dyn);
	sh = rs_scratch_new(dynhs);
	sa->all = true;
	for (int i = 0; i < NEVENTS; i++) {
		struct seen a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };

		evseed = rng;
		rand_event(&ev, SOC_F_USER_NAME, -1, -1);
		ruleset_match(fix, sf, &ev, on_alert, &a);
		rng = evseed;
		rand_event(&ev, uf, i % 2 ? noise : -1, noise1);
		ruleset_match(dyn, sd, &ev, on_alert, &b);
		ruleset_match(dyn, sa, &ev, on_alert, &c);
		ruleset_match(dynhs, sh, &ev, on_alert, &d);
		alerts += a.n;
		if (memcmp(&a, &b, sizeof(a)) != 0 ||
		    memcmp(&a, &c, sizeof(a)) != 0 ||
		    memcmp(&a, &d, sizeof(a)) != 0) {
			if (differ++ < 5)
				fprintf(stderr, "event %d: fixed %d alerts, dynamic "
				    "%d, every rule %d, hs_only %d\n", i, a.n, b.n,
				    c.n, d.n);
		}
	}
	CHECK_INT(differ, 0);
	CHECK(alerts > NEVENTS);
	printf("dynamic: %d events, %d alerts, same as the fixed field\n",
	    NEVENTS, alerts);
	rs_scratch_free(sf);
	rs_scratch_free(sd);
	rs_scratch_free(sa);
	rs_scratch_free(sh);
	ruleset_free(fix);
	ruleset_free(dyn);
	ruleset_free(dynhs);
}

/* ---------------------------------------------------------------- */
/* fan-out */

static void
test_fanout(void)
{
	char dir[] = "/tmp/test-match-index.XXXXXX", path[512];
	static struct soc_event ev;
	struct ruleset *rs;
	struct rs_scratch *s;
	struct seen got = { 0 };
	FILE *f;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/rules.yml", dir);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	for (int i = 0; i < 300; i++)
		fprintf(f, "---\ntitle: r%d\nid: r%d\nlevel: low\n"
		    "logsource: {category: network_connection}\ndetection:\n"
		    "  sel:\n    DestinationPort:\n      - %d\n      - %d\n"
		    "    Protocol: tcp\n  src:\n    SourceIp|cidr: 10.0.0.0/8\n"
		    "  condition: sel and src\n", i, i, 2000 + 2 * i, 2001 + 2 * i);
	for (int i = 300; i < 3300; i++)
		fprintf(f, "---\ntitle: r%d\nid: r%d\nlevel: low\n"
		    "logsource: {category: dns}\ndetection:\n  sel:\n"
		    "    query|endswith: '.host%d-x.com'\n  condition: sel\n", i,
		    i, i);
	fclose(f);
	rs = load(dir, 0);
	fx_rmtree(dir);
	if (rs == NULL)
		return;
	s = rs_scratch_new(rs);
	soc_event_reset(&ev);
	soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "network.flow");
	soc_event_set_ip4(&ev, SOC_F_SOURCE_IP, (const uint8_t[4]){ 10, 1, 2, 3 });
	soc_event_set_cstr(&ev, SOC_F_NET_TRANSPORT, "tcp");
	soc_event_set_int(&ev, SOC_F_DEST_PORT, 2001 + 2 * 7);
	ruleset_match(rs, s, &ev, on_alert, &got);
	CHECK_INT(got.n, 1);
	CHECK(got.bits[0] == 1ULL << 7);
	/* keyed on its ports, not on the "tcp" all 300 share */
	CHECK(s->nevals <= 2);
	soc_event_set_int(&ev, SOC_F_DEST_PORT, 80);
	memset(&got, 0, sizeof(got));
	ruleset_match(rs, s, &ev, on_alert, &got);
	CHECK_INT(got.n, 0);

	/* 3,000 suffixes sharing ".com": exact verdicts, case folded */
	soc_event_reset(&ev);
	soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "network.dns");
	soc_event_set_cstr(&ev, SOC_F_DNS_QNAME, "www.HOST2345-x.Com");
	memset(&got, 0, sizeof(got));
	ruleset_match(rs, s, &ev, on_alert, &got);
	CHECK_INT(got.n, 1);
	CHECK(got.bits[2345 / 64] == 1ULL << (2345 % 64));
	soc_event_set_cstr(&ev, SOC_F_DNS_QNAME, "www.host2345-x.com.evil");
	memset(&got, 0, sizeof(got));
	ruleset_match(rs, s, &ev, on_alert, &got);
	CHECK_INT(got.n, 0);
	soc_event_set_cstr(&ev, SOC_F_DNS_QNAME, "host2345-x.com");	/* no dot */
	memset(&got, 0, sizeof(got));
	ruleset_match(rs, s, &ev, on_alert, &got);
	CHECK_INT(got.n, 0);
	rs_scratch_free(s);
	ruleset_free(rs);
}

int
main(void)
{
	test_parse();
	test_differential();
	test_dynamic();
	test_fanout();
	return check_done();
}
