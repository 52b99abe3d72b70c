/*
 * Differential fuzz target for matching (match-hs.c, match-lit.c): the
 * input's bytes are an event's field values (split on NUL: message,
 * user.name, DNS query name, DNS answers), matched against one fixed rule
 * set loaded twice -- as the correlator builds it (literal index, keys)
 * and with hs_only (every pattern in Hyperscan) evaluating every rule.
 * The two must raise the same alerts; any difference aborts.  The rules
 * cover exact, prefix, suffix and contains values, cased and caseless,
 * wildcards, UTF-8 and escapes, numbers and "not"; the values are
 * attacker bytes (any byte, any length, invalid UTF-8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "soc-config.h"
#include "soc/event.h"
#include "rules.h"
#include "match-int.h"
#include "fuzz.h"

static const char rules_yml[] =
    "title: r0\nid: r0\nlevel: low\n"
    "logsource: {product: linux, service: sshd}\ndetection:\n"
    "  a:\n    message:\n      - 'Failed password'\n      - 'x'\n"
    "      - \"\\xc3\\xa9t\\xc3\\xa9\"\n"
    "  b:\n    user.name|startswith: ['adm', 'ro', 'A\\*']\n"
    "  condition: a or b\n"
    "---\ntitle: r1\nid: r1\nlevel: low\n"
    "logsource: {product: linux, service: sshd}\ndetection:\n"
    "  a:\n    message|endswith|cased: ['ssh2', 'SSH2', 'port 22']\n"
    "  b:\n    user.name: ['root', 'r?ot', 'ro*t']\n"
    "  condition: a and not b\n"
    "---\ntitle: r2\nid: r2\nlevel: low\n"
    "logsource: {product: linux, service: sshd}\ndetection:\n"
    "  a:\n    message|contains: ['from 10.', 'invalid']\n"
    "  b:\n    message|startswith|cased: ['Accepted', 'accepted']\n"
    "  p:\n    process.pid: [1, 22]\n"
    "  condition: (a and b) or p\n"
    "---\ntitle: r3\nid: r3\nlevel: low\n"
    "logsource: {category: dns}\ndetection:\n"
    "  a:\n    query|endswith: ['.com', '.evil.com', '.xn--p1ai', 'a']\n"
    "  b:\n    answers: ['1.2.3.4', '::1', '']\n"
    "  c:\n    answers|startswith: ['10.', 'FE80']\n"
    "  condition: a or b or c\n"
    "---\ntitle: r4\nid: r4\nlevel: low\n"
    "logsource: {category: dns}\ndetection:\n"
    "  a:\n    query: ['evil.com', 'EVIL.COM.', 'x\\\\y']\n"
    "  b:\n    query|re: '^[a-z]+\\.com$'\n"
    "  condition: a or b\n";

static struct ruleset	*fast, *slow;
static struct rs_scratch *sfast, *sslow;

static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static struct ruleset *
load(const char *dir, int hs_only)
{
	const char *dirs[1] = { dir };
	struct rs_load_opts o = { .min_status = RS_STATUS_ANY,
	    .hs_only = hs_only };
	size_t nerr = 0;
	struct ruleset *rs;

	rs = ruleset_load_opts(dirs, 1, SOC_SRCDIR "/rules/mapping.yml", &o,
	    quiet, NULL, &nerr);
	if (rs == NULL || nerr != 0 || ruleset_count(rs) != 5) {
		fprintf(stderr, "fuzz-match: the fixed rules did not load\n");
		abort();
	}
	return rs;
}

static void
setup(void)
{
	char dir[] = "/tmp/fuzz-match.XXXXXX", path[128];
	FILE *f;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/r.yml", dir);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs(rules_yml, f);
	fclose(f);
	fast = load(dir, 0);
	slow = load(dir, 1);
	unlink(path);
	rmdir(dir);
	sfast = rs_scratch_new(fast);
	sslow = rs_scratch_new(slow);
	if (sfast == NULL || sslow == NULL)
		abort();
	sslow->all = true;
}

static void
on_alert(void *arg, const struct rs_alert *a)
{
	unsigned int k;

	if (sscanf(rule_title(a->rule), "r%u", &k) == 1 && k < 32)
		*(uint32_t *)arg |= 1u << k;
}

/* The next NUL-separated part of the input. */
static const uint8_t *
part(const uint8_t **p, size_t *left, size_t *len)
{
	const uint8_t *s = *p, *z = memchr(s, 0, *left);

	*len = z ? (size_t)(z - s) : *left;
	*p += *len + (z != NULL);
	*left -= *len + (z != NULL);
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct soc_event ev;
	const uint8_t *p = data, *v;
	size_t left = size, len;
	uint32_t a = 0, b = 0;
	int dns;

	if (fast == NULL)
		setup();
	if (size == 0)
		return 0;
	dns = data[0] & 1;
	p++;
	left--;
	soc_event_reset(&ev);
	soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, dns ? "network.dns" :
	    "log.sshd");
	if (dns) {
		v = part(&p, &left, &len);
		soc_event_set_str(&ev, SOC_F_DNS_QNAME, (const char *)v, len);
		if (left > 0) {
			v = part(&p, &left, &len);
			soc_event_set_str(&ev, SOC_F_DNS_ANSWERS, (const char *)v,
			    len);
		}
	} else {
		v = part(&p, &left, &len);
		soc_event_set_str(&ev, SOC_F_MESSAGE, (const char *)v, len);
		if (left > 0) {
			v = part(&p, &left, &len);
			soc_event_set_str(&ev, SOC_F_USER_NAME, (const char *)v,
			    len);
		}
		if (data[0] & 2)
			soc_event_set_int(&ev, SOC_F_PROCESS_PID, data[0] >> 2);
	}
	ruleset_match(fast, sfast, &ev, on_alert, &a);
	ruleset_match(slow, sslow, &ev, on_alert, &b);
	if (a != b) {
		fprintf(stderr, "fuzz-match: engine alerts %#x, every pattern in "
		    "Hyperscan %#x\n", a, b);
		abort();
	}
	return 0;
}
