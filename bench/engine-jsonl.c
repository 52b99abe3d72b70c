/*
 * engine-jsonl: the rule engine's throughput beside its floor on given rules
 * (for bench/engine.sh).
 *
 *   engine-jsonl [--json] [--label TEXT] --mapping FILE --events FILE.jsonl DIR...
 *
 * Loads the rule directories with librules (the correlator's engine) and
 * times it: compile time is ruleset_load (YAML, mapping, Hyperscan
 * compile); events/s is ruleset_match over every event of the JSONL file,
 * alerts counted, nothing printed.  The floor (bench/floor.c) is
 * Hyperscan alone on the same patterns: one database per field, one bare
 * hs_scan per field an event carries.  Database sizes: the engine's
 * (Hyperscan databases and literal indexes) and the floor's.
 *
 * Events are parsed in chunks of EN_CHUNK outside the timed regions (a
 * struct soc_event is 17 KB; a million of them would not fit), and each
 * chunk goes through the engine and then through the floor, so both see
 * the same warm data.  One thread: pin it with taskset for one core.
 *
 * Reads the scratch's count of rules evaluated (match-int.h): a benchmark
 * may look inside what it measures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hs/hs.h>

#include "soc/event.h"
#include "soc/json.h"
#include "match-int.h"
#include "floor.h"
#include "rules.h"

#define EN_CHUNK	1024

static uint64_t	 en_alerts;

static void
en_error(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s\n", msg);
}

static void
en_alert(void *arg, const struct rs_alert *a)
{
	(void)arg;
	(void)a;
	en_alerts++;
}

static void
usage(void)
{
	fprintf(stderr, "usage: engine [--json] [--label TEXT] --mapping FILE"
	    " --events FILE.jsonl DIR...\n");
	exit(2);
}

/* Timings of one run. */
struct en_result {
	uint64_t	 events, bad;
	uint64_t	 evals;		/* rules evaluated (match-int.h) */
	double		 eng_s, floor_s;
};

/*
 * Every event of the file through the engine, then through the floor,
 * a chunk at a time; parsing is outside both timed regions.
 */
static int
en_run(struct ruleset *rs, struct rs_scratch *sc, const struct en_floor *fl,
    const char *events, struct en_result *res)
{
	static struct soc_event ev[EN_CHUNK];
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	double t0;
	FILE *f;

	if ((f = fopen(events, "r")) == NULL) {
		perror(events);
		return -1;
	}
	for (;;) {
		size_t n = 0;
		const char *why;

		while (n < EN_CHUNK && (len = getline(&line, &cap, f)) > 0) {
			if (line[len - 1] == '\n')
				len--;
			if (soc_json_read_event(line, (size_t)len, &ev[n], &why,
			    NULL) == -1)
				res->bad++;
			else
				n++;
		}
		if (n == 0)
			break;
		t0 = bench_now();
		for (size_t i = 0; i < n; i++)
			ruleset_match(rs, sc, &ev[i], en_alert, NULL);
		res->eng_s += bench_now() - t0;
		t0 = bench_now();
		for (size_t i = 0; i < n; i++)
			en_floor_scan(fl, &ev[i]);
		res->floor_s += bench_now() - t0;
		res->events += n;
	}
	fclose(f);
	free(line);
	return 0;
}

static void
en_print(int json, const char *label, const struct ruleset *rs, double load_s,
    const struct en_floor *fl, const struct en_result *r)
{
	double eps = r->events / r->eng_s, fps = r->events / r->floor_s;
	size_t nrules = ruleset_count(rs), dbb = match_db_bytes(rs);

	if (json)
		printf("{\"label\":\"%s\",\"rules\":%zu,\"compile_s\":%.3f,"
		    "\"db_bytes\":%zu,\"floor_db_bytes\":%zu,\"db_fields\":%zu,"
		    "\"patterns\":%zu,\"floor_compile_s\":%.3f,\"events\":%llu,"
		    "\"bad_lines\":%llu,\"alerts\":%llu,\"engine_s\":%.3f,"
		    "\"events_per_s\":%.0f,\"floor_s\":%.3f,"
		    "\"floor_events_per_s\":%.0f,\"of_floor\":%.3f,"
		    "\"evals_per_event\":%.3f}\n", label, nrules, load_s, dbb,
		    fl->bytes, fl->nf, fl->npat, fl->compile_s,
		    (unsigned long long)r->events, (unsigned long long)r->bad,
		    (unsigned long long)en_alerts, r->eng_s, eps, r->floor_s, fps,
		    r->floor_s / r->eng_s, (double)r->evals / r->events);
	else
		printf("%s%s%zu rules: compile %.2f s (floor's own compile %.2f s);"
		    " databases %.1f KiB (floor's %.1f KiB, %zu fields, %zu"
		    " patterns)\n"
		    "  %llu events, %llu alerts: engine %.0f events/s (%.2f s),"
		    " floor %.0f events/s (%.2f s): %.0f%% of the floor;"
		    " %.3f rules evaluated per event\n",
		    label, *label ? ": " : "", nrules, load_s, fl->compile_s,
		    dbb / 1024.0, fl->bytes / 1024.0, fl->nf, fl->npat,
		    (unsigned long long)r->events, (unsigned long long)en_alerts,
		    eps, r->eng_s, fps, r->floor_s, 100.0 * r->floor_s / r->eng_s,
		    (double)r->evals / r->events);
}

int
main(int argc, char **argv)
{
	const char *mapping = NULL, *events = NULL, *label = "";
	const char **dirs;
	struct en_floor fl = { 0 };
	struct en_result res = { 0 };
	struct ruleset *rs;
	struct rs_scratch *sc;
	size_t ndirs = 0, nerr = 0;
	double t0, load_s;
	int json = 0;

	if ((dirs = calloc((size_t)argc, sizeof(*dirs))) == NULL)
		return 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--mapping") == 0 && i + 1 < argc)
			mapping = argv[++i];
		else if (strcmp(argv[i], "--events") == 0 && i + 1 < argc)
			events = argv[++i];
		else if (strcmp(argv[i], "--label") == 0 && i + 1 < argc)
			label = argv[++i];
		else if (argv[i][0] == '-')
			usage();
		else
			dirs[ndirs++] = argv[i];
	}
	if (ndirs == 0 || events == NULL)
		usage();

	t0 = bench_now();
	rs = ruleset_load(dirs, ndirs, mapping, en_error, NULL, &nerr);
	load_s = bench_now() - t0;
	if (rs == NULL || nerr > 0) {
		fprintf(stderr, "engine: %zu rules refused\n", nerr);
		return 1;
	}
	if ((sc = rs_scratch_new(rs)) == NULL || en_floor_build(rs, &fl) == -1 ||
	    en_run(rs, sc, &fl, events, &res) == -1)
		return 1;
	res.evals = sc->nevals;
	en_print(json, label, rs, load_s, &fl, &res);
	en_floor_free(&fl);
	rs_scratch_free(sc);
	ruleset_free(rs);
	free(dirs);
	return 0;
}
