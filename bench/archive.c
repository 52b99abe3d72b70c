/*
 * bench/archive: the archive's costs in one process (libarchive, as the
 * daemon and socctl run it).
 *
 *   archive [-c] [-k] [-r N] [-l LEVEL[,LEVEL...]] [EVENTS] [SEGMENTS] [DIR]
 *   archive [-c] [-r N] -s DIR
 *
 * 1. bytes per event stored for flows, DNS answers and sshd lines
 *    (200,000 of each, groups of 1,000 events per frame as ingest writes)
 *    at each zstd LEVEL (default: the writer's, archive.level), and the
 *    CPU the writer spends per event on all its threads (the copy here;
 *    decode, index, JSON, zstd on its encoder thread);
 * 2. EVENTS mixed events (default 2,000,000) spread over SEGMENTS hourly
 *    segments (default 720: a month), from 1,000,000 addresses, at the
 *    first LEVEL, in groups of MONTH_GROUP events (each group's frame
 *    is written and synced: 100,000,000 events in groups of 1,000 would
 *    be 100,000 fdatasyncs); then a search by one IP using the segment
 *    indexes (time, segments skipped), and an unindexed --text search
 *    that matches nothing, scanning every event (events/s on one core).
 *    It needs about 40 bytes of disk per event (4 GB for 100,000,000),
 *    removed at the end.  -c: the files are dropped from the page cache
 *    before each search, so the searches read the disk.  Each search
 *    prints its wall-clock time and the process's CPU time (events/s per
 *    core is the events over the CPU seconds).
 * -k keeps DIR (and step 2's archive in DIR/month); -s DIR only searches
 * the archive a -k run left in DIR (the same files, so two builds can be
 * compared on them); -r N: each search N times.
 * Targets (issue 20): 100,000,000 events searched by IP in <= 5 s; text
 * scan >= 2,000,000 events/s per core.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "soc/event.h"
#include "soc/json.h"
#include "soc/util.h"
#include "soc/wire.h"
#include "evarchive.h"

#define T0	1796000000000000000LL
#define GROUP	1000
#define MONTH_GROUP	20000
#define LEVELS_MAX	16

static struct soc_event ev;
static struct soc_sbuf js;
static struct soc_wbuf wb;
static uint64_t rng = 88172645463325252ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double
clock_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* CPU time of the process: every thread, the writer's encoder included */
static double
cpu_s(void)
{
	return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static void
ip4(int f, uint32_t a)
{
	struct soc_ip ip = { .family = 4, .addr = { a >> 24, a >> 16, a >> 8, a } };

	soc_event_set_ip(&ev, f, &ip);
}

/* kind 0 flow, 1 DNS, 2 sshd; addr the source; json: its size wanted. */
static void
make(int kind, int64_t ts, uint32_t addr, int json)
{
	char b[160];

	soc_event_reset(&ev);
	ev.ts = ts;
	soc_event_set_cstr(&ev, SOC_F_ORGANIZATION_ID, "so-tttt");
	soc_event_set_cstr(&ev, SOC_F_OBSERVER_NAME, "gw1");
	ip4(SOC_F_SOURCE_IP, addr);
	soc_event_set_int(&ev, SOC_F_SOURCE_PORT, 1024 + (int64_t)(next() % 60000));
	switch (kind) {
	case 0:
		soc_event_set_cstr(&ev, SOC_F_EVENT_KIND, "event");
		soc_event_set_cstr(&ev, SOC_F_EVENT_CATEGORY, "network");
		soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "flow");
		ip4(SOC_F_DEST_IP, 0x0a000000u | (uint32_t)(next() % 65536));
		soc_event_set_int(&ev, SOC_F_DEST_PORT, next() % 2 ? 443 : 80);
		soc_event_set_cstr(&ev, SOC_F_NET_TRANSPORT, "tcp");
		soc_event_set_int(&ev, SOC_F_SOURCE_BYTES, (int64_t)(next() % 100000));
		soc_event_set_int(&ev, SOC_F_DEST_BYTES, (int64_t)(next() % 1000000));
		soc_event_set_int(&ev, SOC_F_SOURCE_PACKETS, (int64_t)(next() % 100));
		soc_event_set_int(&ev, SOC_F_DEST_PACKETS, (int64_t)(next() % 1000));
		snprintf(b, sizeof(b), "1:%011llx%016llx=", (unsigned long long)
		    (next() & 0xfffffffffffULL), (unsigned long long)next());
		soc_event_set_cstr(&ev, SOC_F_NET_COMMUNITY_ID, b);
		break;
	case 1:
		soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "dns");
		ip4(SOC_F_DEST_IP, 0x0a000035u);
		soc_event_set_int(&ev, SOC_F_DEST_PORT, 53);
		soc_event_set_cstr(&ev, SOC_F_NET_TRANSPORT, "udp");
		snprintf(b, sizeof(b), "h%llu.d%llu.example.vn",
		    (unsigned long long)(next() % 1000),
		    (unsigned long long)(next() % 5000));
		soc_event_set_cstr(&ev, SOC_F_DNS_QNAME, b);
		soc_event_set_cstr(&ev, SOC_F_DNS_QTYPE, "A");
		soc_event_set_cstr(&ev, SOC_F_DNS_RCODE, "NOERROR");
		snprintf(b, sizeof(b), "203.0.%llu.%llu",
		    (unsigned long long)(next() % 256),
		    (unsigned long long)(next() % 256));
		soc_event_set_cstr(&ev, SOC_F_DNS_ANSWERS, b);
		break;
	default:
		soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "sshd");
		soc_event_set_cstr(&ev, SOC_F_EVENT_ACTION, "ssh_login");
		soc_event_set_cstr(&ev, SOC_F_EVENT_OUTCOME, "failure");
		snprintf(b, sizeof(b), "u%llu", (unsigned long long)(next() % 500));
		soc_event_set_cstr(&ev, SOC_F_USER_NAME, b);
		soc_event_set_cstr(&ev, SOC_F_HOST_HOSTNAME, "gw1");
		soc_event_set_cstr(&ev, SOC_F_PROCESS_NAME, "sshd");
		soc_event_set_int(&ev, SOC_F_PROCESS_PID, (int64_t)(next() % 30000));
		snprintf(b, sizeof(b), "Failed password for u%llu from %u.%u.%u.%u"
		    " port %llu ssh2", (unsigned long long)(next() % 500),
		    addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255, addr & 255,
		    (unsigned long long)(next() % 60000));
		soc_event_set_cstr(&ev, SOC_F_MESSAGE, b);
		break;
	}
	if (json) {
		soc_sbuf_reset(&js);
		soc_json_event(&js, &ev);
	}
	soc_wire_begin(&wb, SOC_WIRE_EVENTS, 0);
	soc_wire_add_event(&wb, &ev);
}

static void
add_one(struct archive_writer *w)
{
	archive_writer_add(w, "so-tttt", "gw1", wb.data + SOC_WIRE_HDR_LEN,
	    wb.len - SOC_WIRE_HDR_LEN);
}

static void
commit(struct archive_writer *w)
{
	char seg[ARCHIVE_NAME_MAX];
	uint64_t off, n;

	if (archive_writer_flush(w, seg, &off, &n) == 1)
		archive_writer_done(w, 1);
}

static void
rmdir_all(const char *d)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", d);
}

static struct archive_writer *
writer(const char *d, int level)
{
	struct archive_writer *w;
	char err[256];

	if ((w = archive_writer_open(d, "", 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	if (level != INT32_MIN)
		archive_writer_set_level(w, level);
	return w;
}

/* level: INT32_MIN for the writer's default */
static void
per_kind(const char *base, int level)
{
	static const char *const name[] = { "flow", "DNS", "sshd" };
	char d[600], lv[32];
	const int n = 200000;

	if (level == INT32_MIN)
		snprintf(lv, sizeof(lv), "default");
	else
		snprintf(lv, sizeof(lv), "%d", level);
	for (int k = 0; k < 3; k++) {
		struct archive_writer *w;
		uint64_t json = 0;
		double t, c, cg;

		/* the JSON's size; then the events alone, made, to subtract */
		for (int i = 0; i < n / 10; i++) {
			make(k, T0 + i * 1000000LL, 0xc6336400u | (uint32_t)(next() % 65536), 1);
			json += js.len + 1;
		}
		cg = cpu_s();
		for (int i = 0; i < n; i++)
			make(k, T0 + i * 1000000LL, 0xc6336400u | (uint32_t)(next() % 65536), 0);
		cg = cpu_s() - cg;

		snprintf(d, sizeof(d), "%s/kind%d", base, k);
		w = writer(d, level);
		archive_writer_begin(w, soc_now_ns());
		t = now_s();
		c = cpu_s();
		for (int i = 0; i < n; i++) {
			make(k, T0 + i * 1000000LL, 0xc6336400u | (uint32_t)(next() % 65536), 0);
			add_one(w);
			if ((i + 1) % GROUP == 0)
				commit(w);
		}
		commit(w);
		c = cpu_s() - c;
		t = now_s() - t;
		printf("  level %-7s %-5s %5.1f bytes/event stored (JSON %5.1f,"
		    " zstd ratio %4.1f); writer CPU %.2f us/event (all threads);"
		    " wall %.2f us/event with a write and fdatasync per %d\n",
		    lv, name[k], (double)archive_writer_stats(w)->bytes / n,
		    (double)json * 10 / n, (double)json * 10 /
		    archive_writer_stats(w)->bytes, (c - cg) * 1e6 / n,
		    t * 1e6 / n - cg * 1e6 / n, GROUP);
		archive_writer_close(w);
		rmdir_all(d);
	}
}

static int
count(void *arg, const char *line, size_t len, int64_t ts,
    const struct soc_event *e)
{
	(void)line, (void)len, (void)ts, (void)e;
	(*(uint64_t *)arg)++;
	return 0;
}

/* The month's files out of the page cache: the search reads the disk. */
static void
uncache(const char *d)
{
	char cmd[700];

	/* dd's nocache flag: posix_fadvise(DONTNEED) on each file, ours only */
	snprintf(cmd, sizeof(cmd), "for f in '%s'/*; do dd if=\"$f\" iflag=nocache"
	    " count=0 status=none; done", d);
	if (system(cmd) != 0)
		fprintf(stderr, "could not drop %s from the page cache\n", d);
}

static void
usage(void)
{
	fprintf(stderr, "usage: archive [-c] [-k] [-r N] [-l LEVEL[,LEVEL...]]"
	    " [EVENTS] [SEGMENTS] [DIR]\n"
	    "       archive [-c] [-r N] -s DIR\n");
	exit(2);
}

/* The two searches of step 2 over d, rounds times each. */
static void
searches(const char *d, uint32_t want, int cold, int rounds)
{
	struct archive_query q;
	struct archive_rstats rs;
	const char *words[1] = { "zzqq-nowhere" };
	char err[256];
	uint64_t found;
	double t, c;

	for (int r = 0; r < rounds; r++) {
		memset(&q, 0, sizeof(q));
		memset(&rs, 0, sizeof(rs));
		if (cold)
			uncache(d);
		snprintf(err, sizeof(err), "%u.%u.%u.%u", want >> 24,
		    (want >> 16) & 255, (want >> 8) & 255, want & 255);
		archive_net_parse(err, &q.ip);
		q.has_ip = true;
		found = 0;
		t = now_s();
		c = cpu_s();
		archive_search(d, &q, count, &found, NULL, NULL, &rs, err,
		    sizeof(err));
		c = cpu_s() - c;
		t = now_s() - t;
		printf("  search --ip %u.%u.%u.%u%s: %llu matches in %.3f s"
		    " (CPU %.3f s); %llu of %llu segments skipped by their"
		    " index, %llu events read\n", want >> 24,
		    (want >> 16) & 255, (want >> 8) & 255, want & 255,
		    cold ? " (files dropped from the page cache first)" : "",
		    (unsigned long long)found, t, c,
		    (unsigned long long)rs.skipped,
		    (unsigned long long)rs.segments,
		    (unsigned long long)rs.events);
	}
	for (int r = 0; r < rounds; r++) {
		memset(&q, 0, sizeof(q));
		memset(&rs, 0, sizeof(rs));
		if (cold)
			uncache(d);
		q.words = words;
		q.nwords = 1;
		found = 0;
		t = now_s();
		c = cpu_s();
		archive_search(d, &q, count, &found, NULL, NULL, &rs, err,
		    sizeof(err));
		c = cpu_s() - c;
		t = now_s() - t;
		printf("  search --text (unindexed, no match%s): %llu events in"
		    " %.2f s = %.0f events/s wall-clock (%.0f MB/s compressed);"
		    " CPU %.2f s = %.0f events/s per core\n",
		    cold ? ", from disk" : "", (unsigned long long)rs.events,
		    t, rs.events / t, rs.bytes / t / 1e6, c,
		    rs.events / (c > 0 ? c : 1e-9));
	}
	printf("  targets: search by IP over 100M events <= 5 s; text scan >="
	    " 2,000,000 events/s per core\n");
}

int
main(int argc, char **argv)
{
	long long events = 2000000, segs = 720;
	char base[512], d[600], *p, *e;
	struct archive_writer *w;
	const char *only = NULL;
	uint64_t per;
	uint32_t want = 0;
	int levels[LEVELS_MAX] = { INT32_MIN }, nlevels = 1, cold = 0, ch;
	int keep = 0, rounds = 1;
	double t, c;
	FILE *f;

	while ((ch = getopt(argc, argv, "ckl:r:s:")) != -1)
		switch (ch) {
		case 'c':
			cold = 1;
			break;
		case 'k':
			keep = 1;
			break;
		case 'r':
			if ((rounds = atoi(optarg)) < 1)
				usage();
			break;
		case 's':
			only = optarg;
			break;
		case 'l':
			nlevels = 0;
			for (p = optarg; *p != '\0' && nlevels < LEVELS_MAX; p = e) {
				levels[nlevels++] = (int)strtol(p, &e, 10);
				if (e == p || levels[nlevels - 1] < -7 ||
				    levels[nlevels - 1] > 19 || (*e != ',' &&
				    *e != '\0'))
					usage();
				if (*e == ',')
					e++;
			}
			if (nlevels == 0)
				usage();
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (only != NULL) {
		unsigned a[4];

		if (argc > 0)
			usage();
		snprintf(d, sizeof(d), "%s/ip", only);
		if ((f = fopen(d, "r")) == NULL || fscanf(f, "%u.%u.%u.%u",
		    &a[0], &a[1], &a[2], &a[3]) != 4) {
			fprintf(stderr, "%s: not left by archive -k\n", d);
			return 1;
		}
		fclose(f);
		want = a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
		snprintf(d, sizeof(d), "%s/month", only);
		printf("bench/archive: the searches over %s\n", d);
		searches(d, want, cold, rounds);
		return 0;
	}
	if (argc > 0)
		events = atoll(argv[0]);
	if (argc > 1)
		segs = atoll(argv[1]);
	if (argc > 2)
		snprintf(base, sizeof(base), "%s", argv[2]);
	else
		snprintf(base, sizeof(base), "/tmp/soc-bench-archive.%d", (int)getpid());
	if (argc > 3 || events < segs || segs < 1)
		usage();
	soc_sbuf_init(&js);
	soc_wbuf_init(&wb);
	if (mkdir(base, 0700) == -1) {
		perror(base);
		return 1;
	}
	printf("bench/archive: libarchive in one process\n");
	for (int i = 0; i < nlevels; i++)
		per_kind(base, levels[i]);

	snprintf(d, sizeof(d), "%s/month", base);
	w = writer(d, levels[0]);
	per = (uint64_t)(events / segs);
	t = now_s();
	c = cpu_s();
	for (long long i = 0, ing = 0, hour = -1; i < events; i++) {
		/* each hour its own addresses mostly: a province's churn */
		uint32_t h = (uint32_t)(i / (long long)per);
		uint32_t a = 0x64000000u + h * 4096u + (uint32_t)(next() % 4096);

		if (h != hour || ing == MONTH_GROUP) {
			/* a group ends at its size or the hour's end; the
			 * next one starts, in the hour the events are in */
			commit(w);
			archive_writer_begin(w, soc_now_ns() + (int64_t)h *
			    3600LL * 1000000000LL);
			hour = h;
			ing = 0;
		}
		ing++;
		if (i == events / 2)
			want = a;
		make((int)(next() % 3), T0 + i * 1000000LL, a, 0);
		add_one(w);
		if ((i + 1) % 10000000 == 0) {
			double dt = now_s() - t;

			fprintf(stderr, "  ... %lld events written in %.0f s;"
			    " all %lld in about %.0f s more\n", i + 1, dt,
			    events, dt * (double)(events - i - 1) / (double)(i + 1));
		}
	}
	commit(w);
	uint64_t bytes = archive_writer_stats(w)->bytes;
	archive_writer_close(w);
	t = now_s() - t;
	c = cpu_s() - c;
	printf("  wrote %lld mixed events in %lld hourly segments, groups of %d:"
	    " %.1f s (%.0f events/s; %.2f us/event of CPU, making them"
	    " included), %.1f bytes/event\n", events, segs, MONTH_GROUP, t,
	    events / t, c * 1e6 / events, (double)bytes / (double)events);
	searches(d, want, cold, rounds);
	if (keep) {
		snprintf(d, sizeof(d), "%s/ip", base);
		if ((f = fopen(d, "w")) != NULL) {
			fprintf(f, "%u.%u.%u.%u\n", want >> 24,
			    (want >> 16) & 255, (want >> 8) & 255, want & 255);
			fclose(f);
		}
		printf("  kept in %s (archive -s %s searches it again)\n",
		    base, base);
	} else
		rmdir_all(base);
	soc_sbuf_free(&js);
	return 0;
}
