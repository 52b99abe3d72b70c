/*
 * Compile bounds (review H3 of issue 15, docs/RULES.md "Compile bounds"):
 * the static weight of rule_expr_bounded refuses the reviewer's slow
 * expressions before Hyperscan sees them, the heavy expressions of one
 * rule share a budget, and match_hs_compile compiles in a child under a
 * CPU and a memory limit, a child stopped by either being a clear error.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hs/hs.h>

#include "soc-config.h"
#include "rule-int.h"
#include "check.h"
#include "fixture.h"

#define MAPPING		SOC_SRCDIR "/rules/mapping.yml"

static char	errs[16384];

static void
on_err(void *arg, const char *msg)
{
	size_t len = strlen(errs);

	(void)arg;
	snprintf(errs + len, sizeof(errs) - len, "%s\n", msg);
}

static int
bounded(const char *s)
{
	char err[256];

	return rule_expr_bounded(s, NULL, err, sizeof(err));
}

static void
test_static(void)
{
	/* the reviewer's r2/r6: 9 s and 65 MB each, now refused at once */
	CHECK_INT(bounded("(.{0,1000}x){4}"), -1);
	CHECK_INT(bounded(".{0,1000}x.{0,1000}y.{0,1000}z"), -1);
	CHECK_INT(bounded("(a{0,1000}x){4}"), -1);
	CHECK_INT(bounded("(\\w{0,400}\\s){4}"), -1);
	CHECK_INT(bounded("([^x]{0,400}x){4}"), -1);
	CHECK_INT(bounded("(((a{1000}){1000}){1000})"), -1);
	/* what a rule plausibly needs still passes */
	CHECK_INT(bounded("(.{0,250}x){4}"), 0);
	CHECK_INT(bounded("x.{1000}y"), 0);
	CHECK_INT(bounded("(a{0,100}x){20}"), 0);
	CHECK_INT(bounded("^(?:[a-z0-9]{1,63}\\.){1,8}[a-z]{2,24}$"), 0);
}

static int
count(const char *txt, const char *needle)
{
	int n = 0;

	for (const char *p = txt; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* five heavy regexes, each within the bound, over the rule's budget */
static void
test_rule_budget(void)
{
	char dir[64], path[128];
	const char *dirs[1] = { dir };
	struct ruleset *rs;
	size_t nerr = 0;
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/test-compile-bounds.XXXXXX");
	if (mkdtemp(dir) == NULL)
		exit(1);
	snprintf(path, sizeof(path), "%s/r.yml", dir);
	if ((f = fopen(path, "w")) == NULL)
		exit(1);
	fputs("title: t\nid: 11111111-1111-1111-1111-111111111111\n"
	    "logsource:\n  product: linux\n  service: sshd\ndetection:\n"
	    "  sel:\n    message|re:\n", f);
	for (int i = 0; i < 5; i++)
		fprintf(f, "      - '(.{0,250}%c){4}'\n", 'a' + i);
	fputs("  condition: sel\nlevel: low\n", f);
	fclose(f);
	errs[0] = '\0';
	rs = ruleset_load(dirs, 1, MAPPING, on_err, NULL, &nerr);
	CHECK_INT(nerr, 1);
	CHECK(count(errs, "positions total more than") == 1);
	CHECK(strstr(errs, "r.yml:") != NULL);
	ruleset_free(rs);
	fx_rmtree(dir);
}

static int
on_hit(unsigned int i, unsigned long long a, unsigned long long b,
    unsigned int c, void *p)
{
	(void)a;
	(void)b;
	(void)c;
	*(int *)p += i == 7;
	return 0;
}

static void
test_child(void)
{
	const char *ok = "fail(ed)? password", *slow =
	    "(.{0,1000}x){8}", *big = "(((a{1000}){1000}){1000})";
	unsigned int fl = HS_FLAG_SINGLEMATCH, id = 7;
	hs_database_t *db = NULL;
	hs_scratch_t *sc = NULL;
	char err[256];
	int bad, hits = 0;

	/* a database compiled in the child scans in the parent */
	CHECK_INT(match_hs_compile(&ok, &fl, &id, 1, 30, 512u << 20, &db,
	    &bad, err, sizeof(err)), 0);
	CHECK(db != NULL);
	if (db != NULL) {
		CHECK(hs_alloc_scratch(db, &sc) == HS_SUCCESS);
		CHECK(hs_scan(db, "x failed password", 17, 0, sc, on_hit,
		    &hits) == HS_SUCCESS);
		CHECK_INT(hits, 1);
		hs_free_scratch(sc);
		hs_free_database(db);
	}
	/* a syntax error names the expression */
	{
		const char *e2[2] = { "ab", "a(" };
		unsigned int f2[2] = { 0, 0 }, i2[2] = { 1, 2 };

		CHECK_INT(match_hs_compile(e2, f2, i2, 2, 30, 512u << 20, &db,
		    &bad, err, sizeof(err)), -1);
		CHECK_INT(bad, 1);
		CHECK(db == NULL);
	}
	/* 7 s of CPU in UTF-8 mode (this machine) stopped at 1 s */
	db = NULL;
	fl = HS_FLAG_SINGLEMATCH | HS_FLAG_UTF8 | HS_FLAG_UCP;
	CHECK_INT(match_hs_compile(&slow, &fl, &id, 1, 1, 512u << 20, &db,
	    &bad, err, sizeof(err)), -1);
	CHECK(db == NULL);
	CHECK(strstr(err, "CPU limit of 1 s") != NULL);
	fprintf(stderr, "cpu: %s\n", err);
	/* 5.5 GB stopped at 64 MiB (or, under ASan, at the CPU limit) */
	CHECK_INT(match_hs_compile(&big, &fl, &id, 1, 5, 64u << 20, &db,
	    &bad, err, sizeof(err)), -1);
	CHECK(db == NULL);
	CHECK(strstr(err, "limit") != NULL || strstr(err, "memory") != NULL ||
	    strstr(err, "large") != NULL);
	fprintf(stderr, "mem: %s\n", err);
}

int
main(void)
{
	test_static();
	test_rule_budget();
	test_child();
	return check_done();
}
