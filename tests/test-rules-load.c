/*
 * Rule loading beyond single rules: Sigma filter documents (global and
 * per-agency tuning, what they refuse, their effect on correlations, and
 * the filter/rule pairs `rules check` reports), the expand modifier with
 * placeholders.yml (defaults and per-agency lists), and the compile bounds
 * (file size, YAML depth and aliases, values per rule), each refused with
 * file:line while the other rules of the directory load; and fields that
 * hold a list (DNS answers, TLS ALPN), where a condition holds when any
 * value matches; and rules.min_status and partial directories.
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
#include "rules.h"
#include "check.h"
#include "fixture.h"

#define MAPPING		SOC_SRCDIR "/rules/mapping.yml"
#define T0		(1700000000LL * 1000000000LL)
#define SEC		1000000000LL

static const char *base =
    "title: fail\nname: fail\nid: f1\nlogsource:\n  product: linux\n"
    "  service: sshd\ndetection:\n  sel:\n    event.action: ssh_login\n"
    "    event.outcome: failure\n  condition: sel\n";

static char	errs[16384];

static void
on_err(void *arg, const char *msg)
{
	size_t len = strlen(errs);

	(void)arg;
	snprintf(errs + len, sizeof(errs) - len, "%s\n", msg);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		exit(1);
	fputs(text, f);
	fclose(f);
}

/* Loads files (name, text, name, text, ..., NULL) from a fresh directory. */
static struct ruleset *
load(size_t *nerr, char *dirout, ...)
{
	char dir[64];
	const char *dirs[1] = { dir };
	struct ruleset *rs;
	const char *name;
	va_list ap;

	snprintf(dir, sizeof(dir), "/tmp/test-rules-load.XXXXXX");
	if (mkdtemp(dir) == NULL)
		exit(1);
	va_start(ap, dirout);
	while ((name = va_arg(ap, const char *)) != NULL)
		write_file(dir, name, va_arg(ap, const char *));
	va_end(ap);
	errs[0] = '\0';
	rs = ruleset_load(dirs, 1, MAPPING, on_err, NULL, nerr);
	if (dirout != NULL)
		strcpy(dirout, dir);
	fx_rmtree(dir);
	return rs;
}

static int
fails(struct ruleset *rs, const char *user, const char *agency, int n)
{
	static struct soc_event ev;
	struct rs_scratch *s = rs_scratch_new(rs);
	int total = 0;

	for (int i = 0; i < n; i++) {
		soc_event_reset(&ev);
		ev.ts = T0 + i * SEC;
		soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "log.sshd");
		soc_event_set_cstr(&ev, SOC_F_EVENT_ACTION, "ssh_login");
		soc_event_set_cstr(&ev, SOC_F_EVENT_OUTCOME, "failure");
		soc_event_set_cstr(&ev, SOC_F_USER_NAME, user);
		if (agency != NULL)
			soc_event_stamp(&ev, SOC_F_ORGANIZATION_ID, agency);
		total += ruleset_match(rs, s, &ev, NULL, NULL);
	}
	rs_scratch_free(s);
	return total;
}

static void
test_filters(void)
{
	const char *flt =
	    "title: admins\nid: flt1\nlogsource:\n  product: linux\n"
	    "  service: sshd\nfilter:\n  rules:\n    - fail\n"
	    "  selection:\n    user.name|startswith: adm_\n"
	    "  condition: not selection\n";
	const char *agf =
	    "title: agency a admins\nid: flt2\nlogsource:\n  product: linux\n"
	    "  service: sshd\nfilter:\n  rules: [f1]\n  agencies: [a]\n"
	    "  sel:\n    user.name: ops\n  condition: not sel\n";
	const char *corr = "---\ntitle: brute\nid: b1\ncorrelation:\n"
	    "  type: event_count\n  rules: [fail]\n  group-by: [user.name]\n"
	    "  timespan: 1m\n  condition: {gte: 3}\n";
	char both[2048], dir[64];
	const char *fid, *ftitle, *file;
	const struct rule *r;
	struct ruleset *rs;
	size_t nerr;
	int line;

	snprintf(both, sizeof(both), "%s%s", base, corr);
	rs = load(&nerr, NULL, "a.yml", base, "mf_admins.yml", flt,
	    "mf_ops.yml", agf, NULL);
	CHECK(rs != NULL && nerr == 0);
	if (rs == NULL)
		return;
	CHECK_INT(ruleset_count(rs), 1);	/* filters raise nothing */
	CHECK_INT(fails(rs, "root", NULL, 1), 1);
	CHECK_INT(fails(rs, "adm_joe", NULL, 1), 0);
	CHECK_INT(fails(rs, "ADM_joe", "b", 1), 0);	/* caseless, all agencies */
	CHECK_INT(fails(rs, "ops", "a", 1), 0);		/* a's own tuning */
	CHECK_INT(fails(rs, "ops", "b", 1), 1);		/* not b's */
	CHECK_INT(fails(rs, "ops", NULL, 1), 1);
	CHECK_INT(ruleset_filter_uses(rs), 2);
	CHECK_INT(ruleset_filter_use(rs, 0, &fid, &ftitle, &file, &line, &r), 0);
	CHECK_STR(fid, "flt1");
	CHECK_STR(ftitle, "admins");
	CHECK_STR(rule_id(r), "f1");
	CHECK_INT(line, 1);
	CHECK(strstr(file, "mf_admins.yml") != NULL);
	CHECK_INT(ruleset_filter_use(rs, 2, NULL, NULL, NULL, NULL, NULL), -1);
	ruleset_free(rs);

	/* filtered events do not count toward a correlation either */
	rs = load(&nerr, NULL, "a.yml", both, "mf_admins.yml", flt, NULL);
	CHECK(rs != NULL && nerr == 0);
	if (rs != NULL) {
		CHECK_INT(fails(rs, "adm_x", NULL, 5), 0);
		CHECK_INT(fails(rs, "root", NULL, 3), 1);
		ruleset_free(rs);
	}

	/* refused: unknown rule, a correlation; the rules stay unfiltered */
	rs = load(&nerr, dir, "a.yml", both, "mf_bad.yml",
	    "title: bad\nid: x1\nlogsource:\n  product: linux\n  service: sshd\n"
	    "filter:\n  rules:\n    - fail\n    - nosuch\n  sel:\n"
	    "    user.name: root\n  condition: sel\n---\n"
	    "title: bad2\nid: x2\nlogsource:\n  product: linux\n  service: sshd\n"
	    "filter:\n  rules: [b1]\n  sel:\n    user.name: root\n"
	    "  condition: sel\n---\n"
	    "title: bad3\nid: x3\nlogsource:\n  product: linux\n  service: sshd\n"
	    "filter:\n  rules: [fail]\n  sel:\n    user.name: x\n", NULL);
	CHECK(rs != NULL && nerr == 3);
	CHECK(strstr(errs, "mf_bad.yml:9: filter names unknown rule 'nosuch'")
	    != NULL);
	CHECK(strstr(errs, "mf_bad.yml:20: filter names a correlation rule "
	    "'b1'") != NULL);
	CHECK(strstr(errs, "has no condition") != NULL);
	if (rs != NULL) {
		CHECK_INT(ruleset_filter_uses(rs), 0);
		CHECK_INT(fails(rs, "root", NULL, 3), 1);
		ruleset_free(rs);
	}
	if (nerr != 3 || getenv("TEST_VERBOSE"))
		fputs(errs, stderr);
}

/*
 * Filters as pySigma and sigma-cli apply them (issue 15): "rule and
 * (filter condition)", so the exclusion SigmaHQ documents is written
 * `condition: not selection`; `rules: any` (or all, or []) tunes every
 * rule the filter's logsource covers; a named rule outside that
 * logsource refuses the filter with file:line.  The engine used to apply
 * "rule and not (condition)": the sigma-cli filter below hid everything
 * but the admins it meant to hide.
 */
static void
test_filters_sigma(void)
{
	const char *other = "---\ntitle: web\nid: w1\nlogsource:\n"
	    "  category: webserver\ndetection:\n  sel:\n"
	    "    user.name|startswith: adm_\n  condition: sel\n";
	const char *keep =
	    "title: only admins\nid: flt3\nlogsource:\n  product: linux\n"
	    "filter:\n  rules: fail\n  sel:\n    user.name|startswith: adm_\n"
	    "  condition: sel\n";
	char rules[2048], dir[64];
	struct ruleset *rs;
	size_t nerr;

	snprintf(rules, sizeof(rules), "%s%s", base, other);
	/* the sigma-cli exclusion: admins hidden, everyone else alerts */
	rs = load(&nerr, NULL, "a.yml", rules, "mf_admins.yml",
	    "title: admins\nid: flt1\nlogsource:\n  product: linux\n"
	    "  service: sshd\nfilter:\n  rules:\n    - 6f3e2987\n    - fail\n"
	    "  selection:\n    user.name|startswith: adm_\n"
	    "  condition: not selection\n---\ntitle: pad\nid: 6f3e2987\n"
	    "logsource:\n  product: linux\n  service: sshd\ndetection:\n"
	    "  sel:\n    event.action: nosuch\n  condition: sel\n", NULL);
	CHECK(rs != NULL && nerr == 0);
	if (rs != NULL) {
		CHECK_INT(fails(rs, "root", NULL, 1), 1);
		CHECK_INT(fails(rs, "adm_joe", NULL, 1), 0);
		CHECK_INT(ruleset_filter_uses(rs), 2);
		ruleset_free(rs);
	}
	if (nerr != 0)
		fputs(errs, stderr);

	/* a positive condition keeps only what it names; one rule by name */
	rs = load(&nerr, NULL, "a.yml", base, "mf_keep.yml", keep, NULL);
	CHECK(rs != NULL && nerr == 0);
	if (rs != NULL) {
		CHECK_INT(fails(rs, "root", NULL, 1), 0);
		CHECK_INT(fails(rs, "adm_joe", NULL, 1), 1);
		ruleset_free(rs);
	}

	/* rules: any, all and []: every rule the logsource covers, and only */
	for (int i = 0; i < 3; i++) {
		static const char *anyv[] = { "any", "All", "[]" };
		char flt[512];
		const char *fid, *ftitle, *file;
		const struct rule *r;
		int line;

		snprintf(flt, sizeof(flt), "title: not admins\nid: flt4\n"
		    "logsource:\n  product: linux\nfilter:\n  rules: %s\n"
		    "  sel:\n    user.name|startswith: adm_\n"
		    "  condition: not sel\n", anyv[i]);
		rs = load(&nerr, NULL, "a.yml", rules, "mf_any.yml", flt, NULL);
		CHECK(rs != NULL && nerr == 0);
		if (rs == NULL)
			continue;
		CHECK_INT(ruleset_filter_uses(rs), 1);	/* not the web rule */
		CHECK_INT(ruleset_filter_use(rs, 0, &fid, &ftitle, &file, &line,
		    &r), 0);
		CHECK_STR(rule_id(r), "f1");
		CHECK_INT(fails(rs, "adm_joe", NULL, 1), 0);
		CHECK_INT(fails(rs, "root", NULL, 1), 1);
		ruleset_free(rs);
	}

	/* rules: any that covers no rule is refused, not silent (review M7) */
	rs = load(&nerr, NULL, "a.yml", rules, "mf_none.yml",
	    "title: hide lab\nid: flt7\nlogsource:\n  product: linux\n"
	    "  service: syslog\nfilter:\n  rules: any\n  sel:\n"
	    "    user.name: lab\n  condition: not sel\n", NULL);
	CHECK(rs != NULL && nerr == 1);
	CHECK(strstr(errs, "mf_none.yml:1: filter 'hide lab' with rules: any "
	    "applies to no rule: its logsource (product=linux category=- "
	    "service=syslog) covers none of the loaded rules") != NULL);
	if (rs != NULL) {
		CHECK_INT(ruleset_filter_uses(rs), 0);
		ruleset_free(rs);
	}
	if (nerr != 1 || getenv("TEST_VERBOSE"))
		fputs(errs, stderr);

	/* agencies: a's tuning leaves b's events alone */
	rs = load(&nerr, NULL, "a.yml", base, "mf_a.yml",
	    "title: a ops\nid: flt5\nlogsource:\n  product: linux\n"
	    "filter:\n  rules: any\n  agencies: [a]\n  sel:\n"
	    "    user.name: ops\n  condition: not sel\n", NULL);
	CHECK(rs != NULL && nerr == 0);
	if (rs != NULL) {
		CHECK_INT(fails(rs, "ops", "a", 1), 0);
		CHECK_INT(fails(rs, "root", "a", 1), 1);
		CHECK_INT(fails(rs, "ops", "b", 1), 1);
		CHECK_INT(fails(rs, "ops", NULL, 1), 1);
		ruleset_free(rs);
	}

	/* a named rule outside the filter's logsource refuses the filter */
	rs = load(&nerr, dir, "a.yml", rules, "mf_web.yml",
	    "title: web admins\nid: flt6\nlogsource:\n  product: linux\n"
	    "  service: sshd\nfilter:\n  rules:\n    - fail\n    - w1\n"
	    "  sel:\n    user.name|startswith: adm_\n"
	    "  condition: not sel\n", NULL);
	CHECK(rs != NULL && nerr == 1);
	CHECK(strstr(errs, "mf_web.yml:9: filter's logsource (product=linux "
	    "category=- service=sshd) does not cover rule 'w1' (product=- "
	    "category=webserver service=-, ") != NULL);
	if (rs != NULL) {
		CHECK_INT(ruleset_filter_uses(rs), 0);
		CHECK_INT(fails(rs, "adm_x", NULL, 1), 1);
		ruleset_free(rs);
	}
	if (nerr != 1 || getenv("TEST_VERBOSE"))
		fputs(errs, stderr);
}

/* expand: placeholders.yml, defaults and per-agency lists. */
static void
test_expand(void)
{
	const char *ph = "placeholders:\n  admins: [root, 'adm_*']\n"
	    "  hosts: [h1]\nagencies:\n  a:\n    admins: [ops]\n"
	    "  b:\n    svc: [backup]\n";
	const char *rule = "title: admin\nid: e1\nlogsource:\n  product: linux\n"
	    "  service: sshd\ndetection:\n  sel:\n    event.action: ssh_login\n"
	    "    user.name|expand: '%admins%'\n  condition: sel\n---\n"
	    "title: svc\nid: e2\nlogsource:\n  product: linux\n"
	    "  service: sshd\ndetection:\n  sel:\n"
	    "    user.name|expand|startswith: '%svc%-%hosts%'\n"
	    "  condition: sel\n";
	struct ruleset *rs;
	size_t nerr;

	rs = load(&nerr, NULL, "placeholders.yml", ph, "a.yml", rule, NULL);
	CHECK(rs != NULL && nerr == 0 && ruleset_count(rs) == 2);
	if (nerr != 0)
		fputs(errs, stderr);
	if (rs == NULL)
		return;
	CHECK_INT(fails(rs, "root", NULL, 1), 1);	/* the defaults */
	CHECK_INT(fails(rs, "adm_x", "b", 1), 1);
	CHECK_INT(fails(rs, "ops", "b", 1), 0);
	CHECK_INT(fails(rs, "ops", "a", 1), 1);		/* a's own list */
	CHECK_INT(fails(rs, "root", "a", 1), 0);
	CHECK_INT(fails(rs, "backup-h1x", "b", 1), 1);	/* only b has svc */
	CHECK_INT(fails(rs, "backup-h1x", "a", 1), 0);
	ruleset_free(rs);
	rs = load(&nerr, NULL, "placeholders.yml", ph, "a.yml",
	    "title: x\nlogsource:\n  product: linux\n  service: sshd\n"
	    "detection:\n  sel:\n    user.name|expand: '%nosuch%'\n"
	    "  condition: sel\n", NULL);
	CHECK(rs != NULL && nerr == 1 &&
	    strstr(errs, "a.yml:7: placeholder %nosuch% in '%nosuch%' is not "
	    "defined") != NULL);
	ruleset_free(rs);
}

static void
test_bounds(void)
{
	char *big, *deep, *alias, *many;
	struct ruleset *rs;
	size_t nerr, off = 0;

	/* a file over the size bound */
	big = malloc(5 << 20);
	if (big == NULL)
		exit(1);
	memset(big, '#', (5 << 20) - 2);
	big[(5 << 20) - 2] = '\n';
	big[(5 << 20) - 1] = '\0';
	rs = load(&nerr, NULL, "a.yml", base, "big.yml", big, NULL);
	CHECK(rs != NULL && ruleset_count(rs) == 1 && nerr == 1);
	CHECK(strstr(errs, "big.yml: file larger than") != NULL);
	ruleset_free(rs);
	free(big);

	/* nesting: 200,000 levels are refused at the 65th, at once */
	deep = malloc(400100);
	if (deep == NULL)
		exit(1);
	off = (size_t)sprintf(deep, "title: deep\ndetection:\n  sel: ");
	for (int i = 0; i < 200000; i++)
		deep[off++] = '[';
	deep[off] = '\0';
	rs = load(&nerr, NULL, "a.yml", base, "deep.yml", deep, NULL);
	CHECK(rs != NULL && ruleset_count(rs) == 1 && nerr == 1);
	CHECK(strstr(errs, "deep.yml:3: YAML nested deeper than 64") != NULL);
	ruleset_free(rs);
	free(deep);

	/* aliases: a "billion laughs" is refused before the walk */
	alias = malloc(8192);
	if (alias == NULL)
		exit(1);
	off = (size_t)sprintf(alias, "title: laughs\nx0: &a0 [lol]\n");
	for (int i = 1; i < 40; i++)
		off += (size_t)sprintf(alias + off, "x%d: &a%d [*a%d, *a%d]\n",
		    i, i, i - 1, i - 1);
	rs = load(&nerr, NULL, "a.yml", base, "laughs.yml", alias, NULL);
	CHECK(rs != NULL && ruleset_count(rs) == 1 && nerr == 1);
	CHECK(strstr(errs, "laughs.yml:35: more than 64 YAML aliases") != NULL);
	if (getenv("TEST_VERBOSE"))
		fputs(errs, stderr);
	ruleset_free(rs);
	free(alias);

	/* values per rule */
	many = malloc(200000);
	if (many == NULL)
		exit(1);
	off = (size_t)sprintf(many, "title: many\nlogsource:\n  product: linux\n"
	    "  service: sshd\ndetection:\n  sel:\n    message|contains:\n");
	for (int i = 0; i < 5001; i++)
		off += (size_t)sprintf(many + off, "      - v%d\n", i);
	sprintf(many + off, "  condition: sel\n");
	rs = load(&nerr, NULL, "a.yml", base, "many.yml", many, NULL);
	CHECK(rs != NULL && ruleset_count(rs) == 1 && nerr == 1);
	CHECK(strstr(errs, "many.yml:5008: more than 5000 values in one rule")
	    != NULL);
	ruleset_free(rs);
	free(many);
	if (getenv("TEST_VERBOSE"))
		fputs(errs, stderr);
}

/*
 * Expressions are bounded before Hyperscan sees them (issue 15): '*?'
 * 150 times translated past Hyperscan's pattern length and the failed
 * build freed rules twice (SIGSEGV in `rules check`, on SIGHUP and at
 * every restart); (((a{1000}){1000}){1000}) took 34 s and 5.5 GB inside
 * hs_compile.  Each is refused with file:line, at once, and the other
 * rules load.
 */
static void
test_expr_bounds(void)
{
	char wild[1024], *rx[] = {
	    "(((a{1000}){1000}){1000})",	/* positions */
	    "((.*a|b.*){100}){50}",		/* 30 s in hs_compile */
	    "a{1001}",				/* one count */
	    "x{2,5000}",
	    "(?:(?:(?:ab){40}){40}){40}",
	};
	const char *ok[] = { "a{1000}", "(ab|cd){10,20}x", "[{]{3}\\{5}",
	    "\\Q{9999}\\E", "(?#{9999})z", "[a-z]{1,64}\\.(com|net)" };
	char rule[1024];
	struct ruleset *rs;
	size_t nerr, off;

	off = (size_t)snprintf(wild, sizeof(wild), "title: w\nid: w1\n"
	    "logsource:\n  product: linux\n  service: sshd\ndetection:\n"
	    "  sel:\n    message: '");
	for (int i = 0; i < 150; i++)
		off += (size_t)snprintf(wild + off, sizeof(wild) - off, "*?");
	snprintf(wild + off, sizeof(wild) - off, "'\n  condition: sel\n");
	rs = load(&nerr, NULL, "a.yml", base, "wild.yml", wild, NULL);
	CHECK(rs != NULL && nerr == 1 && ruleset_count(rs) == 1);
	CHECK(strstr(errs, "wild.yml:8: value refused before compiling: "
	    "expression of ") != NULL);
	if (rs != NULL)
		CHECK_INT(fails(rs, "root", NULL, 1), 1);
	ruleset_free(rs);
	for (size_t i = 0; i < sizeof(rx) / sizeof(rx[0]); i++) {
		snprintf(rule, sizeof(rule), "title: r\nid: r1\nlogsource:\n"
		    "  product: linux\n  service: sshd\ndetection:\n  sel:\n"
		    "    message|re: '%s'\n  condition: sel\n", rx[i]);
		rs = load(&nerr, NULL, "a.yml", base, "re.yml", rule, NULL);
		CHECK(rs != NULL && nerr == 1 && ruleset_count(rs) == 1);
		CHECK(strstr(errs, "re.yml:8: regex /") != NULL &&
		    strstr(errs, "refused before compiling: ") != NULL);
		if (nerr != 1 || getenv("TEST_VERBOSE"))
			fprintf(stderr, "%s: %s", rx[i], errs);
		ruleset_free(rs);
	}
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(rule, sizeof(rule), "title: r\nid: r1\nlogsource:\n"
		    "  product: linux\n  service: sshd\ndetection:\n  sel:\n"
		    "    message|re: '%s'\n  condition: sel\n", ok[i]);
		rs = load(&nerr, NULL, "a.yml", base, "re.yml", rule, NULL);
		CHECK(rs != NULL && nerr == 0 && ruleset_count(rs) == 2);
		if (nerr != 0)
			fprintf(stderr, "%s: %s", ok[i], errs);
		ruleset_free(rs);
	}
}

#define DNSRULE(t, sel) "---\ntitle: " t "\nlogsource:\n  category: dns\n" \
    "detection:\n  sel:\n    " sel "\n  condition: sel\n"

static void
on_title(void *arg, const struct rs_alert *a)
{
	char *out = arg;
	size_t len = strlen(out);

	snprintf(out + len, 256 - len, "%s ", rule_title(a->rule));
}

/*
 * Multi-valued fields: each comma-joined value is matched on its own.
 * DNS answers escape a ',' inside a value as "\,"; ALPN ids are as sent
 * (the TLS field on a DNS event here: only the scan is under test).
 */
static void
test_multi(void)
{
	static const struct { const char *answers, *alpn, *want; } t[] = {
		{ "10.0.0.1,10.0.0.2", NULL, "eq " },
		{ "10.0.0.2,10.0.0.1", NULL, "eq " },
		{ "10.0.0.10,10.0.0.11", NULL, "" },
		{ "b.evil.com,a.example", NULL, "end " },
		{ "a.example,b.evil.com", NULL, "end " },
		{ "x\\,y.example,z", NULL, "esc " },	/* x\,y.example and z */
		{ "x\\\\,y", NULL, "y " },		/* x\\ and y */
		{ "x\\,y", NULL, "" },			/* one value: x\,y */
		{ "aaa.one,bbb.two", NULL, "all " },	/* as ECS backends */
		{ NULL, "http/1.1,h2", "alpn " },
		{ NULL, "h2c,http/1.1", "" },
		{ "10.0.0.1", "h2", "eq alpn " },
	};
	static struct soc_event ev;
	struct ruleset *rs;
	struct rs_scratch *s;
	size_t nerr = 0;

	rs = load(&nerr, NULL, "m.yml",
	    DNSRULE("eq", "dns.answers.data: 10.0.0.1")
	    DNSRULE("end", "answers|endswith: .evil.com")
	    DNSRULE("esc", "answers: 'x\\,y.example'")
	    DNSRULE("y", "answers: 'y'")
	    DNSRULE("all", "answers|contains|all: [aaa, bbb]")
	    DNSRULE("alpn", "tls.next_protocol: h2"), NULL);
	CHECK(rs != NULL && nerr == 0);
	if (rs == NULL || nerr != 0) {
		fputs(errs, stderr);
		ruleset_free(rs);
		return;
	}
	s = rs_scratch_new(rs);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char got[256] = "";

		soc_event_reset(&ev);
		ev.ts = T0;
		soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "network.dns");
		if (t[i].answers != NULL)
			soc_event_set_cstr(&ev, SOC_F_DNS_ANSWERS, t[i].answers);
		if (t[i].alpn != NULL)
			soc_event_set_cstr(&ev, SOC_F_TLS_NEXT_PROTOCOL, t[i].alpn);
		ruleset_match(rs, s, &ev, on_title, got);
		if (strcmp(got, t[i].want) != 0)
			fprintf(stderr, "multi %zu (%s|%s): matched '%s', want '%s'\n",
			    i, t[i].answers ? t[i].answers : "-",
			    t[i].alpn ? t[i].alpn : "-", got, t[i].want);
		CHECK_STR(got, t[i].want);
	}
	rs_scratch_free(s);
	ruleset_free(rs);
}

#define SSHRULE(t, st) "title: " t "\nname: " t "\n" st "logsource:\n" \
    "  product: linux\n  service: sshd\ndetection:\n  sel:\n" \
    "    event.action: ssh_login\n  condition: sel\n---\n"

static size_t
loaded_with(int min_status, size_t *nskip, const char **why_corr)
{
	char dir[64];
	const char *dirs[1] = { dir }, *title, *why;
	struct rs_load_opts o = { .min_status = min_status };
	struct ruleset *rs;
	size_t nerr = 0, n;

	snprintf(dir, sizeof(dir), "/tmp/test-rules-load.XXXXXX");
	if (mkdtemp(dir) == NULL)
		exit(1);
	write_file(dir, "s.yml", SSHRULE("st", "status: stable\n")
	    SSHRULE("te", "status: test\n") SSHRULE("ex", "status: experimental\n")
	    SSHRULE("de", "status: deprecated\n") SSHRULE("un", "status: unsupported\n")
	    SSHRULE("fo", "status: foo\n") SSHRULE("no", "")
	    "title: c\nstatus: stable\ncorrelation:\n  type: event_count\n"
	    "  rules: [ex]\n  timespan: 1m\n  condition: {gte: 2}\n");
	errs[0] = '\0';
	rs = ruleset_load_opts(dirs, 1, MAPPING, &o, on_err, NULL, &nerr);
	fx_rmtree(dir);
	CHECK(rs != NULL);
	if (rs == NULL)
		return 0;
	CHECK_INT(nerr, 0);
	n = ruleset_count(rs);
	*nskip = ruleset_skipped(rs);
	*why_corr = NULL;
	for (size_t i = 0; i < *nskip; i++) {
		CHECK(ruleset_skipped_rule(rs, i, NULL, NULL, &title, NULL,
		    &why) == 0);
		if (strcmp(title, "c") == 0)
			*why_corr = strstr(why, "references") ? "references" : why;
	}
	CHECK(ruleset_skipped_rule(rs, *nskip, NULL, NULL, NULL, NULL,
	    NULL) == -1);
	ruleset_free(rs);
	return n;
}

/* rules.min_status: what loads at each level; the rest is listed. */
static void
test_status(void)
{
	const char *why;
	size_t nskip;

	/* no selection (ruleset_load): everything, as before */
	CHECK_INT(loaded_with(RS_STATUS_ANY, &nskip, &why), 8);
	CHECK_INT(nskip, 0);
	/* test: stable, test, no status; experimental, deprecated,
	 * unsupported, foo and the correlation over ex skipped */
	CHECK_INT(loaded_with(RS_STATUS_TEST, &nskip, &why), 3);
	CHECK_INT(nskip, 5);
	CHECK(why != NULL && strcmp(why, "references") == 0);
	CHECK_INT(loaded_with(RS_STATUS_STABLE, &nskip, &why), 2);
	CHECK_INT(nskip, 6);
	CHECK_INT(loaded_with(RS_STATUS_EXPERIMENTAL, &nskip, &why), 5);
	CHECK_INT(nskip, 3);
	CHECK_INT(rs_status_parse("test"), RS_STATUS_TEST);
	CHECK_INT(rs_status_parse("deprecated"), -2);
	CHECK_INT(rs_status_parse(NULL), -2);
}

/*
 * Partial directories: refusals under sigmahq/ or a directory with a
 * .partial file are listed, not counted; one in own/ still counts.
 */
static void
test_partial(void)
{
	static const char *bad = "title: bad\nlogsource:\n  product: linux\n"
	    "  service: sshd\ndetection:\n  sel:\n    nosuchfield: x\n"
	    "  condition: sel\n";
	char dir[64], sub[128];
	const char *dirs[1] = { dir };
	struct rs_load_opts o = { .min_status = RS_STATUS_TEST, .partial_dirs = 1 };
	struct ruleset *rs;
	size_t nerr = 0;

	snprintf(dir, sizeof(dir), "/tmp/test-rules-load.XXXXXX");
	if (mkdtemp(dir) == NULL)
		exit(1);
	snprintf(sub, sizeof(sub), "%s/sigmahq", dir);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/sigmahq/deep", dir);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/vendor", dir);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/own", dir);
	mkdir(sub, 0700);
	write_file(dir, "sigmahq/deep/bad.yml", bad);
	write_file(dir, "sigmahq/good.yml", SSHRULE("g1", "status: test\n")
	    "title: g2\nlogsource:\n  product: linux\n  service: sshd\n"
	    "detection:\n  sel:\n    user.name: root\n  condition: sel\n");
	write_file(dir, "vendor/.partial", "");
	write_file(dir, "vendor/bad.yml", bad);
	write_file(dir, "own/fine.yml", base);
	errs[0] = '\0';
	rs = ruleset_load_opts(dirs, 1, MAPPING, &o, on_err, NULL, &nerr);
	CHECK(rs != NULL);
	CHECK_INT(nerr, 0);
	if (rs != NULL) {
		CHECK_INT(ruleset_count(rs), 3);
		CHECK_INT(ruleset_refused_partial(rs), 2);
		CHECK(ruleset_refused_partial_msg(rs, 0) != NULL &&
		    strstr(ruleset_refused_partial_msg(rs, 0),
		    "sigmahq/deep/bad.yml:") != NULL);
		CHECK(ruleset_refused_partial_msg(rs, 1) != NULL &&
		    strstr(ruleset_refused_partial_msg(rs, 1), "vendor/bad.yml:")
		    != NULL);
		CHECK(ruleset_refused_partial_msg(rs, 2) == NULL);
	}
	CHECK(strstr(errs, "vendor/bad.yml:") != NULL);	/* still reported */
	ruleset_free(rs);
	/* one refusal in the operator's own directory counts */
	write_file(dir, "own/bad.yml", bad);
	rs = ruleset_load_opts(dirs, 1, MAPPING, &o, on_err, NULL, &nerr);
	CHECK_INT(nerr, 1);
	CHECK(rs != NULL && ruleset_refused_partial(rs) == 2);
	ruleset_free(rs);
	/* without partial_dirs every refusal counts */
	o.partial_dirs = 0;
	rs = ruleset_load_opts(dirs, 1, MAPPING, &o, on_err, NULL, &nerr);
	CHECK_INT(nerr, 3);
	ruleset_free(rs);
	fx_rmtree(dir);
}

/*
 * A dynamic field name in a rule: winlog.event_data.Image interned before
 * the load, CommandLine interned by it; both match an event's dynamic
 * values (exact, endswith, contains, regex, "not"), whatever their place
 * among the event's other dynamic values.  A name under no dynamic
 * prefix is still not a field.
 */
static void
test_dynamic_field(void)
{
	static const struct { const char *image, *cmd, *want; } t[] = {
		{ "C:\\Windows\\cmd.exe", "cmd /c whoami", "img cmd " },
		{ "C:\\WINDOWS\\CMD.EXE", "x", "img " },
		{ "C:\\Windows\\cmd.exe2", "-enc AAAA", "enc re " },
		{ NULL, "whoami", "cmd notimg " },
		{ "whoami", NULL, "notimg " },
		{ NULL, NULL, "notimg " },
	};
	const char *name = "winlog.event_data.Image";
	static struct soc_event ev;
	struct ruleset *rs;
	struct rs_scratch *s;
	size_t nerr;
	int fi, fc, fo;

	fi = soc_field_intern(name, strlen(name));
	CHECK(fi >= SOC_F_COUNT);
	rs = load(&nerr, NULL, "a.yml", base, "d.yml",
	    "title: img\nid: d1\nlogsource:\n  product: linux\n"
	    "  service: sshd\ndetection:\n  sel:\n"
	    "    winlog.event_data.Image|endswith: '\\cmd.exe'\n"
	    "  condition: sel\n---\n"
	    "title: cmd\nid: d2\nlogsource:\n  product: linux\n"
	    "  service: sshd\ndetection:\n  sel:\n"
	    "    winlog.event_data.CommandLine|contains: whoami\n"
	    "  condition: sel\n---\n"
	    "title: enc\nid: d3\nlogsource:\n  product: linux\n"
	    "  service: sshd\ndetection:\n  sel:\n"
	    "    winlog.event_data.CommandLine: '-enc *'\n"
	    "  condition: sel\n---\n"
	    "title: re\nid: d4\nlogsource:\n  product: linux\n"
	    "  service: sshd\ndetection:\n  sel:\n"
	    "    winlog.event_data.CommandLine|re: '^-e[n]c '\n"
	    "  condition: sel\n---\n"
	    "title: notimg\nid: d5\nlogsource:\n  product: linux\n"
	    "  service: sshd\ndetection:\n  sel:\n"
	    "    winlog.event_data.Image|contains: Windows\n"
	    "  condition: not sel\n---\n"
	    "title: bad\nid: d6\nlogsource:\n  product: linux\n"
	    "  service: sshd\ndetection:\n  sel:\n"
	    "    winlog.other.Image: x\n  condition: sel\n", NULL);
	CHECK(rs != NULL && nerr == 1 && ruleset_count(rs) == 6);
	fc = soc_field_lookup("winlog.event_data.CommandLine", 29);
	CHECK(fc >= SOC_F_COUNT && fc != fi);
	fo = soc_field_intern("winlog.event_data.Other", 23);
	if (rs == NULL)
		return;
	s = rs_scratch_new(rs);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char got[256] = "";

		soc_event_reset(&ev);
		ev.ts = T0;
		soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "log.sshd");
		if (i % 2)	/* another dynamic value first, or last */
			soc_event_set_cstr(&ev, fo, "whoami cmd.exe -enc ");
		if (t[i].cmd != NULL)
			soc_event_set_cstr(&ev, fc, t[i].cmd);
		if (t[i].image != NULL)
			soc_event_set_cstr(&ev, fi, t[i].image);
		if (i % 2 == 0)
			soc_event_set_cstr(&ev, fo, "whoami cmd.exe -enc ");
		ruleset_match(rs, s, &ev, on_title, got);
		if (strcmp(got, t[i].want) != 0)
			fprintf(stderr, "dynamic case %zu\n", i);
		CHECK_STR(got, t[i].want);
	}
	rs_scratch_free(s);
	ruleset_free(rs);
}

int
main(void)
{
	test_status();
	test_partial();
	test_multi();
	test_filters();
	test_filters_sigma();
	test_expand();
	test_bounds();
	test_expr_bounds();
	test_dynamic_field();
	return check_done() != 0;
}
