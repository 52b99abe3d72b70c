/*
 * The rule engine benchmark (never in `make test`): generates N realistic
 * rules (sshd, web access, DNS and flow; equality, contains, endswith,
 * startswith, regex, cidr and port conditions, and a brute-force
 * correlation per 100 rules) and M realistic events (a few percent of
 * them matching), then prints, on one core: compile time, the size of
 * the engine's databases (Hyperscan and literal indexes), events/s
 * through ruleset_match, rules evaluated per event, and beside it the
 * floor -- Hyperscan alone on the same patterns, bare hs_scan calls over
 * the same field values (bench/floor.c).  Defaults: 1,000 and 10,000
 * rules, one million events.
 *
 *	engine [-r RULES]... [-e EVENTS] [-s SEED] [-k KIND]
 *
 * -k sshd|web|dns|flow keeps the rules of one kind only (events of every
 * kind still come), to see what one kind costs.
 *
 * Targets (issue 10): at least 1,000,000 events/s at 1,000 rules, at least
 * 60% of the floor, at most 1.5x slower at 10,000 rules than at 1,000.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "soc-config.h"
#include "soc/event.h"
#include "rules.h"
#include "match-int.h"
#include "floor.h"

static uint64_t rng = 88172645463325252ULL;
static int	only_kind = -1;		/* -k: i % 4 of the rules kept */
static const char *const kinds[4] = { "sshd", "web", "dns", "flow" };

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static const char *const words[] = {
	"admin", "backup", "oracle", "postgres", "deploy", "jenkins", "test",
	"guest", "ubuntu", "support", "nagios", "ftp", "mysql", "git", "www",
};
#define NWORDS	(sizeof(words) / sizeof(words[0]))

static void
write_rule(FILE *f, uint32_t i)
{
	fprintf(f, "---\ntitle: r%u\nid: r%u\nlevel: medium\n", i, i);
	switch (i % 4) {
	case 0:
		fprintf(f, "name: n%u\nlogsource: {product: linux, service: sshd}\n"
		    "detection:\n  sel:\n    message|contains: 'for %s%u from'\n"
		    "  sel2:\n    user.name|startswith: 'svc%u_'\n"
		    "  condition: sel or sel2\n", i, words[i % NWORDS], i, i);
		if (i % 100 == 0)
			fprintf(f, "---\ntitle: c%u\nid: c%u\ncorrelation:\n"
			    "  type: event_count\n  rules: [n%u]\n"
			    "  group-by: [source.ip]\n  timespan: 2m\n"
			    "  condition: {gte: 8}\n", i, i, i);
		break;
	case 1:
		fprintf(f, "logsource: {category: webserver}\ndetection:\n"
		    "  sel:\n    url.original|contains: '/app%u/'\n"
		    "    http.request.method: POST\n"
		    "  ua:\n    user_agent.original|re: 'scan(ner)?%u[a-z]+'\n"
		    "  condition: sel or ua\n", i, i);
		break;
	case 2:
		fprintf(f, "logsource: {category: dns}\ndetection:\n  sel:\n"
		    "    dns.question.name|endswith: '.bad%u.example'\n"
		    "  condition: sel\n", i);
		break;
	default:
		fprintf(f, "logsource: {category: firewall}\ndetection:\n  sel:\n"
		    "    destination.port: %u\n    source.ip|cidr: 10.%u.0.0/16\n"
		    "  condition: sel\n", 1024 + i % 30000, i % 256);
	}
}

static int
rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "  %s\n", msg);
}

/* Event i, realistic for its kind; about 2% hit some rule of n. */
static void
make_event(struct soc_event *ev, uint32_t i, uint32_t nrules)
{
	char buf[256];
	uint32_t r = rnd(nrules), hit = rnd(50) == 0;
	uint8_t ip[4] = { 10, (uint8_t)rnd(256), (uint8_t)rnd(256),
	    (uint8_t)rnd(256) };

	soc_event_reset(ev);
	ev->ts = 1700000000LL * 1000000000LL + (int64_t)i * 1000000;
	soc_event_set_ip4(ev, SOC_F_SOURCE_IP, ip);
	switch (i % 4) {
	case 0:
		soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, "log.sshd");
		snprintf(buf, sizeof(buf), "sshd[%u]: Failed password for %s%u from "
		    "10.1.2.3 port %u ssh2", 1000 + i % 30000, words[r % NWORDS],
		    hit ? r - r % 4 : nrules + r, 1024 + rnd(60000));
		soc_event_set_cstr(ev, SOC_F_MESSAGE, buf);
		snprintf(buf, sizeof(buf), "%s%u", words[r % NWORDS], r);
		soc_event_set_cstr(ev, SOC_F_USER_NAME, buf);
		soc_event_set_cstr(ev, SOC_F_EVENT_OUTCOME, "failure");
		break;
	case 1:
		soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, "log.web");
		snprintf(buf, sizeof(buf), "/app%u/index.php?id=%u&q=search+term",
		    hit ? r - r % 4 + 1 : nrules + r, rnd(100000));
		soc_event_set_cstr(ev, SOC_F_URL_ORIGINAL, buf);
		soc_event_set_cstr(ev, SOC_F_HTTP_METHOD, rnd(4) ? "GET" : "POST");
		soc_event_set_cstr(ev, SOC_F_USER_AGENT, "Mozilla/5.0 (X11; Linux "
		    "x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0");
		soc_event_set_int(ev, SOC_F_HTTP_STATUS, 200);
		break;
	case 2:
		soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, "network.dns");
		snprintf(buf, sizeof(buf), "host%u.%s%u.example", rnd(1000),
		    hit ? "bad" : "good", r - r % 4 + 2);
		soc_event_set_cstr(ev, SOC_F_DNS_QNAME, buf);
		soc_event_set_cstr(ev, SOC_F_DNS_TYPE, "query");
		break;
	default:
		soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, "network.flow");
		soc_event_set_int(ev, SOC_F_DEST_PORT, hit ? 1024 + r % 30000 :
		    40000 + rnd(20000));
		soc_event_set_cstr(ev, SOC_F_NET_TRANSPORT, "tcp");
		soc_event_set_int(ev, SOC_F_SOURCE_BYTES, rnd(100000));
	}
}

static void
count_alert(void *arg, const struct rs_alert *a)
{
	(void)a;
	(*(uint64_t *)arg)++;
}

static int
run(uint32_t nrules, uint32_t nevents)
{
	char dir[64], path[128];
	const char *dirs[1] = { dir };
	static struct soc_event ev[4096];
	struct ruleset *rs;
	struct rs_scratch *s;
	struct en_floor fl = { 0 };
	size_t nerr = 0;
	uint64_t alerts = 0;
	double t0, tc, tm, tf;
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/bench-engine.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/rules.yml", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	for (uint32_t i = 0; i < nrules; i++)
		if (only_kind == -1 || (int)(i % 4) == only_kind)
			write_rule(f, i);
	fclose(f);
	t0 = bench_now();
	rs = ruleset_load(dirs, 1, SOC_SRCDIR "/rules/mapping.yml", quiet, NULL,
	    &nerr);
	tc = bench_now() - t0;
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	if (rs == NULL || (s = rs_scratch_new(rs)) == NULL ||
	    en_floor_build(rs, &fl) == -1)
		return -1;
	for (uint32_t i = 0; i < 4096; i++)
		make_event(&ev[i], i, nrules);
	t0 = bench_now();
	for (uint32_t i = 0; i < nevents; i++) {
		ev[i % 4096].ts += 4096 * 1000000LL;
		ruleset_match(rs, s, &ev[i % 4096], count_alert, &alerts);
	}
	tm = bench_now() - t0;
	t0 = bench_now();
	for (uint32_t i = 0; i < nevents; i++)
		en_floor_scan(&fl, &ev[i % 4096]);
	tf = bench_now() - t0;
	printf("%6u rules (%zu loaded, %zu refused): compile %.2f s, databases %.1f MB; "
	    "%u events: %.0f events/s, floor (bare hs_scan) %.0f events/s "
	    "(%.0f%%), %llu alerts, %.3f rules evaluated per event\n", nrules,
	    ruleset_count(rs), nerr, tc, (double)match_db_bytes(rs) / 1e6, nevents, nevents / tm,
	    nevents / tf, 100.0 * tf / tm, (unsigned long long)alerts,
	    (double)s->nevals / nevents);
	en_floor_free(&fl);
	rs_scratch_free(s);
	ruleset_free(rs);
	return 0;
}

int
main(int argc, char **argv)
{
	uint32_t sizes[8], nsizes = 0, nevents = 1000000;
	int ch;

	while ((ch = getopt(argc, argv, "r:e:s:k:")) != -1) {
		switch (ch) {
		case 'r':
			if (nsizes < 8)
				sizes[nsizes++] = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'e':
			nevents = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 's':
			rng = strtoull(optarg, NULL, 10) | 1;
			break;
		case 'k':
			for (int k = 0; k < 4; k++)
				if (strcmp(optarg, kinds[k]) == 0)
					only_kind = k;
			if (only_kind == -1) {
				fprintf(stderr, "engine: -k sshd|web|dns|flow\n");
				return 1;
			}
			break;
		default:
			fprintf(stderr, "usage: engine [-r RULES]... [-e EVENTS] "
			    "[-s SEED] [-k sshd|web|dns|flow]\n");
			return 1;
		}
	}
	if (nsizes == 0) {
		sizes[nsizes++] = 1000;
		sizes[nsizes++] = 10000;
	}
	for (uint32_t i = 0; i < nsizes; i++)
		if (run(sizes[i], nevents) == -1) {
			fprintf(stderr, "engine: run with %u rules failed\n", sizes[i]);
			return 1;
		}
	return 0;
}
