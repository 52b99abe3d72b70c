/*
 * Minimal test harness: CHECK() records a failure with file:line and goes
 * on; check_done() prints "N passed, N failed" and returns the exit code.
 * Tests are table-driven from raw bytes and deterministic.
 */
#ifndef SOC_TEST_CHECK_H
#define SOC_TEST_CHECK_H

#include <stdio.h>
#include <string.h>
#include <stdlib.h>

static int check_pass, check_fail;

#define CHECK(cond) do { \
	if (cond) check_pass++; \
	else { check_fail++; \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	if (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0) check_pass++; \
	else { check_fail++; \
		fprintf(stderr, "%s:%d: %s is \"%s\", want \"%s\"\n", __FILE__, __LINE__, \
		    #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); } \
} while (0)

#define CHECK_INT(got, want) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	if (g_ == w_) check_pass++; \
	else { check_fail++; \
		fprintf(stderr, "%s:%d: %s is %lld, want %lld\n", __FILE__, __LINE__, \
		    #got, g_, w_); } \
} while (0)

static inline int
check_done(void)
{
	printf("%d passed, %d failed\n", check_pass, check_fail);
	return check_fail ? 1 : 0;
}

/* Path to ../shared/data (SOC_TEST_DATA overrides); NULL when absent. */
static inline const char *
check_data_dir(void)
{
	const char *d = getenv("SOC_TEST_DATA");
	static char buf[4096];
	FILE *f;

	if (d == NULL || *d == '\0')
		d = SOC_SHARED_DATA;
	snprintf(buf, sizeof(buf), "%s/README.md", d);
	if ((f = fopen(buf, "r")) == NULL)
		return NULL;
	fclose(f);
	return d;
}

#endif
