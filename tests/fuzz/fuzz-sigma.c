/*
 * Fuzz target for the Sigma loader: the input is written as one rule file
 * (possibly several YAML documents) in a temporary directory created once
 * and reused, loaded with the repository's rules/mapping.yml, matched
 * against a few fixed events of two agencies, its open correlation
 * windows closed, and freed.  Refusals are expected; crashes, leaks and
 * undefined behaviour are not.  The corpus has hostile YAML too (aliases,
 * nesting, sizes) and every correlation type, filters and modifiers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "soc-config.h"
#include "soc/event.h"
#include "rules.h"
#include "fuzz.h"

static char	 dir[64];
static char	 path[128];

static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static void
cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static int
setup(void)
{
	if (dir[0] != '\0')
		return 0;
	snprintf(dir, sizeof(dir), "/tmp/fuzz-sigma.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/rule.yml", dir);
	atexit(cleanup);
	return 0;
}

static void
exercise(struct ruleset *rs)
{
	static struct soc_event ev;
	struct rs_scratch *s = rs_scratch_new(rs);
	const char *ds[] = { "log.sshd", "log.syslog", "log.web", "network.dns" };

	if (s == NULL)
		return;
	for (size_t i = 0; i < sizeof(ds) / sizeof(ds[0]); i++) {
		soc_event_reset(&ev);
		ev.ts = (int64_t)i * 1000000000LL;
		soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, ds[i]);
		soc_event_set_cstr(&ev, SOC_F_MESSAGE, "Failed password for root");
		soc_event_set_cstr(&ev, SOC_F_EVENT_ACTION, "ssh_login");
		soc_event_set_cstr(&ev, SOC_F_USER_NAME, "root");
		soc_event_set_int(&ev, SOC_F_SOURCE_PORT, 22);
		soc_event_set_ip4(&ev, SOC_F_SOURCE_IP, (const uint8_t[4]){ 10, 0, 0, 1 });
		soc_event_stamp(&ev, SOC_F_ORGANIZATION_ID, i % 2 ? "a" : "b");
		ruleset_match(rs, s, &ev, NULL, NULL);
		soc_event_set_cstr(&ev, SOC_F_EVENT_OUTCOME, "success");
		ruleset_match(rs, s, &ev, NULL, NULL);
	}
	ruleset_tick(rs, INT64_MAX, NULL, NULL);	/* windows judged at close */
	ruleset_expire(rs, 1000000000000LL);
	rs_scratch_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dirs[1];
	struct ruleset *rs;
	size_t nerr;
	FILE *f;

	if (setup() == -1 || (f = fopen(path, "w")) == NULL)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	dirs[0] = dir;
	rs = ruleset_load(dirs, 1, SOC_SRCDIR "/rules/mapping.yml", quiet, NULL,
	    &nerr);
	if (rs != NULL)
		exercise(rs);
	ruleset_free(rs);
	return 0;
}
