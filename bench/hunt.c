/*
 * bench/hunt: `socctl hunt` over a generated archive (issue 20: 1,000
 * rules over 10,000,000 archived events in <= 30 s).  Never run by
 * `make test`; bench/hunt.sh makes its input and runs it.
 *
 *   hunt SOCCTL RULES EVENTS.jsonl N [DIR]
 *
 * Archives N events (the lines of EVENTS.jsonl over and over, one
 * millisecond apart, two agencies taking turns, 1,000 events per frame,
 * a new segment every 3,600,000 events) with libevarchive as the daemon
 * writes them, makes the database beside (socctl agency add), then times
 * `socctl hunt RULES` over it and prints events/s and the time projected
 * for 10,000,000 events.
 */
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "soc/event.h"
#include "soc/json.h"
#include "soc/util.h"
#include "soc/wire.h"
#include "evarchive.h"

#define T0	1796000000000000000LL
#define GROUP	1000
#define PER_SEG	3600000LL	/* an hour of 1,000 events/s */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
sh(char *const argv[], int quiet)
{
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (quiet && freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The lines of the file that are events. */
struct recs {
	char	**line;
	size_t	 *len;
	size_t	  n;
};

static int
load(const char *path, struct recs *r)
{
	static struct soc_event ev;
	FILE *f;
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t len;
	const char *why;

	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		return -1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (len == 0 || soc_json_read_event(line, (size_t)len, &ev, &why,
		    NULL) == -1)
			continue;
		if (r->n == alloc) {
			alloc = alloc ? alloc * 2 : 4096;
			if ((r->line = realloc(r->line, alloc * sizeof(char *))) ==
			    NULL || (r->len = realloc(r->len, alloc *
			    sizeof(size_t))) == NULL)
				return -1;
		}
		if ((r->line[r->n] = strndup(line, (size_t)len)) == NULL)
			return -1;
		r->len[r->n++] = (size_t)len;
	}
	free(line);
	fclose(f);
	return r->n > 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static struct soc_event ev;
	struct recs r = { 0 };
	struct soc_wbuf wb;
	struct archive_writer *w;
	char base[512], d[600], db[600], err[256], seg[ARCHIVE_NAME_MAX];
	long long n;
	uint64_t off, k;
	double t;
	int rc;

	if (argc < 5 || (n = atoll(argv[4])) < 1) {
		fprintf(stderr, "usage: hunt SOCCTL RULES EVENTS.jsonl N [DIR]\n");
		return 2;
	}
	if (argc > 5)
		snprintf(base, sizeof(base), "%s", argv[5]);
	else
		snprintf(base, sizeof(base), "/tmp/soc-bench-hunt.%d", (int)getpid());
	if (load(argv[3], &r) == -1) {
		fprintf(stderr, "%s: no events\n", argv[3]);
		return 1;
	}
	if (mkdir(base, 0700) == -1) {
		perror(base);
		return 1;
	}
	snprintf(d, sizeof(d), "%s/archive", base);
	snprintf(db, sizeof(db), "%s/soc.db", base);
	if ((w = archive_writer_open(d, "", 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	soc_wbuf_init(&wb);
	t = now_s();
	for (long long i = 0; i < n; i++) {
		size_t j = (size_t)i % r.n;
		const char *ag = i % 2 ? "sotc" : "stttt";
		const char *why;

		if (i % GROUP == 0)
			archive_writer_begin(w, soc_now_ns() + i / PER_SEG *
			    3600LL * 1000000000LL);
		/* the record again with its own time (one ms apart) */
		if (soc_json_read_event(r.line[j], r.len[j], &ev, &why,
		    NULL) == -1)
			continue;
		ev.ts = T0 + i * 1000000LL;
		soc_wire_begin(&wb, SOC_WIRE_EVENTS, 0);
		soc_wire_add_event(&wb, &ev);
		archive_writer_add(w, ag, "gw1", wb.data + SOC_WIRE_HDR_LEN,
		    wb.len - SOC_WIRE_HDR_LEN);
		if ((i + 1) % GROUP == 0 &&
		    archive_writer_flush(w, seg, &off, &k) == 1)
			archive_writer_done(w, 1);
	}
	if (archive_writer_flush(w, seg, &off, &k) == 1)
		archive_writer_done(w, 1);
	archive_writer_close(w);
	printf("bench/hunt: archived %lld events (%zu distinct) in %.1f s\n", n,
	    r.n, now_s() - t);

	char *mk[] = { argv[1], "--db", db, "agency", "add", "stttt", "--name",
	    "A", NULL };
	char *mk2[] = { argv[1], "--db", db, "agency", "add", "sotc", "--name",
	    "B", NULL };
	if (sh(mk, 1) != 0 || sh(mk2, 1) != 0) {
		fprintf(stderr, "socctl agency add failed\n");
		return 1;
	}
	char *hunt[] = { argv[1], "--db", db, "hunt", argv[2], NULL };
	struct rusage ru0, ru1;
	double cpu;

	getrusage(RUSAGE_CHILDREN, &ru0);
	t = now_s();
	rc = sh(hunt, 1);
	t = now_s() - t;
	getrusage(RUSAGE_CHILDREN, &ru1);
	cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
	    (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
	    (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
	    (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
	printf("  socctl hunt %s: exit %d, %.2f s = %.0f events/s (rules loaded"
	    " included; CPU %.2f s); 10,000,000 events: %.1f s projected"
	    " (target <= 30 s)\n", argv[2], rc, t, n / t, cpu, 1e7 / (n / t));
	snprintf(d, sizeof(d), "rm -rf '%s'", base);
	if (system(d) != 0)
		fprintf(stderr, "could not remove %s\n", base);
	return rc == 0 ? 0 : 1;
}
