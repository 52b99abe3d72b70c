/*
 * The indicator benchmark (never in `make test`): writes N indicators
 * (default 1,000,000: addresses, blocks, domains, hosts, URLs, SHA-256
 * and MD5 digests, e-mail addresses) into a fresh database as `socctl
 * intel import` does, loads them as the correlator does (intel_load on
 * its own connection, the work of the loader thread), and prints the
 * import and load times, the resident memory the set adds, and events/s
 * through intel_match_event with the set and with an empty one (events
 * with addresses, a DNS name, a URL and a message with Sysmon hashes;
 * one in 100 hits).
 *
 *	intel [-n INDICATORS] [-e EVENTS] [-d DIR] [-M]
 *
 * -M builds the set in memory only (no database): the matcher alone.
 * -s makes the events sshd failures as bench/e2e sends them (a private
 * source address, a user name, the line as message).
 *
 * Targets (issue 19): 1,000,000 indicators loaded in at most 5 s and at
 * most 300 MB resident in the correlator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "soc/event.h"
#include "soc/util.h"
#include "intel.h"
#include "intel-load.h"
#include "store.h"
#include "store-intel.h"

static uint64_t rng = 88172645463325252ULL;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* VmRSS or VmHWM of this process, in kB. */
static long
status_kb(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, strlen(key)) == 0)
			v = atol(line + strlen(key) + 1);
	fclose(f);
	return v;
}

/* A public first octet (feeds leave RFC 1918 and loopback out). */
static unsigned
octet1(uint32_t h)
{
	unsigned o = 11 + (h >> 24) % 200;

	return o == 127 || o == 172 || o == 192 ? o + 1 : o;
}

/* The i-th indicator of the generated set (deterministic). */
static void
nth(uint32_t i, int *type, char *v, size_t len)
{
	uint32_t h = i * 2654435761u;

	switch (i % 10) {
	case 0: case 1: case 2: case 3:
		*type = INTEL_IP;
		snprintf(v, len, "%u.%u.%u.%u", octet1(h),
		    (h >> 16) & 255, (h >> 8) & 255, h & 255);
		break;
	case 4:
		*type = INTEL_CIDR;
		snprintf(v, len, "%u.%u.%u.0/24", octet1(h),
		    (h >> 16) & 255, (h >> 8) & 255);
		break;
	case 5: case 6:
		*type = INTEL_DOMAIN;
		snprintf(v, len, "d%08x.bad%u.example", h, i % 97);
		break;
	case 7:
		*type = INTEL_SHA256;
		snprintf(v, len, "%08x%08x%08x%08x%08x%08x%08x%08x", h, i, h ^ 1,
		    i ^ 2, h ^ 3, i ^ 4, h ^ 5, i ^ 6);
		break;
	case 8:
		*type = INTEL_URL;
		snprintf(v, len, "u%08x.example/p/%u.php", h, i);
		break;
	default:
		*type = i % 20 == 9 ? INTEL_MD5 : INTEL_EMAIL;
		if (*type == INTEL_MD5)
			snprintf(v, len, "%08x%08x%08x%08x", h, i, h ^ 7, i ^ 9);
		else
			snprintf(v, len, "u%u@m%08x.example", i, h);
		break;
	}
}

struct gen {
	uint32_t	 i, n;
	char		 v[128];
};

static int
gen_next(void *arg, struct intel_ind *out)
{
	struct gen *g = arg;
	int type;

	if (g->i >= g->n)
		return 0;
	nth(g->i++, &type, g->v, sizeof(g->v));
	*out = (struct intel_ind){ .type = type, .value = g->v,
	    .tags = g->i % 3 ? "c2,apt-x" : "phishing", .confidence = 70 };
	return 1;
}

static void
nop_hit(void *arg, const struct intel_ind *ind, const char *field)
{
	(void)ind;
	(void)field;
	(*(uint64_t *)arg)++;
}

/* The values of one generated event, compact (events are built into
 * one struct per match, as ingest decodes each into the same one). */
struct evvals {
	uint8_t		 src[4], dst[4];
	char		 name[128];
	char		 msg[256];
	uint8_t		 url, hashes, sshd;
};

static void
build(struct soc_event *ev, const struct evvals *e)
{
	soc_event_reset(ev);
	if (e->sshd) {
		soc_event_set_ip4(ev, SOC_F_SOURCE_IP, e->src);
		soc_event_set_cstr(ev, SOC_F_USER_NAME, "user7");
		soc_event_set_cstr(ev, SOC_F_MESSAGE, e->msg);
		return;
	}
	soc_event_set_ip4(ev, SOC_F_SOURCE_IP, e->src);
	soc_event_set_ip4(ev, SOC_F_DEST_IP, e->dst);
	soc_event_set_cstr(ev, SOC_F_DNS_QNAME, e->name);
	if (e->url) {
		soc_event_set_cstr(ev, SOC_F_URL_DOMAIN, e->name);
		soc_event_set_cstr(ev, SOC_F_URL_ORIGINAL, "/index.php?id=7");
	}
	if (e->hashes)
		soc_event_set_cstr(ev, SOC_F_MESSAGE, e->msg);
}

static double
match_rate(const struct intel_set *s, const struct evvals *vals, int nev,
    int rounds, uint64_t *hits)
{
	static struct soc_event ev;
	double t0 = now_s();
	int64_t now = soc_now_ns();
	int r, i;

	for (r = 0; r < rounds; r++)
		for (i = 0; i < nev; i++) {
			build(&ev, &vals[i]);
			if (s != NULL)
				intel_match_event(s, &ev, now, nop_hit, hits);
		}
	return (double)nev * rounds / (now_s() - t0);
}

int
main(int argc, char **argv)
{
	struct gen g = { 0 };
	struct store *st;
	struct intel_set *s, *empty;
	struct evvals *vals;
	char dir[256] = "/tmp/bench-intel-XXXXXX", path[300], err[512], v[128];
	const char *base = NULL;
	size_t count;
	int64_t version;
	long rss0, rss1;
	double t0, t_import, t_load, with, without, base_rate;
	uint64_t hits = 0;
	int c, nev = 100000, i, type, mem = 0, sshd = 0;
	uint32_t n = 1000000;

	while ((c = getopt(argc, argv, "n:e:d:Ms")) != -1) {
		switch (c) {
		case 's': sshd = 1; break;
		case 'M': mem = 1; break;
		case 'n': n = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'e': nev = atoi(optarg); break;
		case 'd': base = optarg; break;
		default:
			fprintf(stderr, "usage: intel [-n INDICATORS] [-e EVENTS]"
			    " [-d DIR]\n");
			return 2;
		}
	}
	if (base != NULL)
		snprintf(dir, sizeof(dir), "%s/bench-intel-XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/soc.db", dir);
	if ((st = store_open(path, STORE_CREATE, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	g.n = n;
	if (mem) {
		struct intel_builder *b = intel_builder_new();
		struct intel_ind ind;

		rss0 = status_kb("VmRSS:");
		t0 = now_s();
		while (gen_next(&g, &ind) == 1)
			intel_builder_add(b, &ind);
		s = intel_builder_finish(b, 1);
		t_load = now_s() - t0;
		rss1 = status_kb("VmRSS:");
		count = intel_set_count(s);
		t_import = 0;
		goto events;
	}
	t0 = now_s();
	if (store_intel_import(st, "bench", "local", gen_next, &g, soc_now_ns(),
	    &count, &version) == -1) {
		fprintf(stderr, "import: %s\n", store_errmsg(st));
		return 1;
	}
	t_import = now_s() - t0;
	store_close(st);

	/* the load, as the correlator's loader thread does it */
	rss0 = status_kb("VmRSS:");
	t0 = now_s();
	if ((st = store_open(path, STORE_READONLY, err, sizeof(err))) == NULL ||
	    (s = intel_load(st, soc_now_ns(), err, sizeof(err))) == NULL) {
		fprintf(stderr, "load: %s\n", err);
		return 1;
	}
	store_close(st);
	t_load = now_s() - t0;
	rss1 = status_kb("VmRSS:");

events:
	/* events: addresses, a name, a URL, Sysmon hashes; 1% hit */
	vals = calloc((size_t)nev, sizeof(*vals));
	for (i = 0; i < nev; i++) {
		struct evvals *e = &vals[i];

		e->src[0] = 192, e->src[1] = 168;
		e->src[2] = (uint8_t)rnd(), e->src[3] = (uint8_t)rnd();
		e->dst[0] = (uint8_t)(1 + rnd() % 9), e->dst[1] = (uint8_t)rnd();
		e->dst[2] = (uint8_t)rnd(), e->dst[3] = (uint8_t)rnd();
		if (i % 100 == 0) {
			nth(rnd() % n, &type, v, sizeof(v));
			if (type == INTEL_IP)
				sscanf(v, "%hhu.%hhu.%hhu.%hhu", &e->dst[0],
				    &e->dst[1], &e->dst[2], &e->dst[3]);
		} else
			type = -1;
		if (type == INTEL_DOMAIN)
			snprintf(e->name, sizeof(e->name), "%s", v);
		else
			snprintf(e->name, sizeof(e->name), "www.site%u.example.com",
			    rnd() % 5000);
		e->url = i % 3 == 0;
		e->hashes = i % 4 == 0;
		snprintf(e->msg, sizeof(e->msg), "Process Create: Hashes: "
		    "MD5=%08x%08x%08x%08x,SHA256=%s", rnd(), rnd(), rnd(), rnd(),
		    type == INTEL_SHA256 ? v : "e3b0c44298fc1c149afbf4c8996fb924"
		    "27ae41e4649b934ca495991b7852b855");
		if (type == INTEL_SHA256)
			e->hashes = 1;
		if (sshd) {
			e->sshd = 1;
			e->src[0] = 10, e->src[1] = 66;
			snprintf(e->msg, sizeof(e->msg), "Failed password for user7"
			    " from 10.66.%u.%u port %u ssh2", e->src[2], e->src[3],
			    1024 + i % 60000);
		}
	}
	empty = intel_builder_finish(intel_builder_new(), 0);
	base_rate = match_rate(NULL, vals, nev, 10, &hits);
	without = match_rate(empty, vals, nev, 10, &hits);
	with = match_rate(s, vals, nev, 10, &hits);

	printf("indicators:        %zu stored (%u generated)\n", count, n);
	printf("import (socctl):   %.2f s\n", t_import);
	printf("load (correlator): %.2f s   (target <= 5 s)\n", t_load);
	printf("resident added:    %.1f MB (set %.1f MB; peak VmHWM %.1f MB)"
	    "   (target <= 300 MB)\n", (double)(rss1 - rss0) / 1024,
	    (double)intel_set_bytes(s) / 1048576,
	    (double)status_kb("VmHWM:") / 1024);
	printf("events built only: %.0f events/s\n", base_rate);
	printf("... + empty set:   %.0f events/s\n", without);
	printf("... + the set:     %.0f events/s (%llu hits)\n", with,
	    (unsigned long long)hits);
	printf("matcher per event: %.0f ns (beyond building the event)\n",
	    1e9 / with - 1e9 / base_rate);
	intel_set_free(s);
	intel_set_free(empty);
	free(vals);
	snprintf(err, sizeof(err), "rm -rf '%s'", dir);
	if (system(err) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return 0;
}
