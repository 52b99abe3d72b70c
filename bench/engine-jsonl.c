/*
 * engine-jsonl: the rule engine's throughput beside its floor on given rules
 * (for bench/engine.sh).
 *
 *   engine-jsonl [--json] [--label TEXT] --mapping FILE --events FILE.jsonl DIR...
 *
 * Loads the rule directories with librules (the correlator's engine) and
 * times it: compile time is ruleset_load (YAML, mapping, Hyperscan
 * compile); events/s is ruleset_match over every event of the JSONL file,
 * alerts counted, nothing printed.  The floor is what no engine built on
 * these databases can beat: the same patterns (the loaded rules'
 * Hyperscan expressions and flags, interned per field as match-hs.c
 * does) compiled here into one block database per field, and one bare
 * hs_scan per field an event carries, with a callback that only counts.
 * Database size is the sum of hs_database_size over those databases.
 *
 * Events are parsed in chunks of EN_CHUNK outside the timed regions (a
 * struct soc_event is 17 KB; a million of them would not fit), and each
 * chunk goes through the engine and then through the floor, so both see
 * the same warm data.  One thread: pin it with taskset for one core.
 *
 * Reads librules' internal struct rule (rule-int.h) for the patterns: a
 * benchmark may look inside what it measures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hs/hs.h>

#include "soc/event.h"
#include "soc/json.h"
#include "rule-int.h"
#include "rules.h"

#define EN_CHUNK	1024

struct en_field {
	int		 field;
	hs_database_t	*db;
};

struct en_floor {
	struct en_field	 f[SOC_F_COUNT];
	size_t		 nf;
	size_t		 npat;
	size_t		 bytes;
	double		 compile_s;
	hs_scratch_t	*scratch;
};

static uint64_t	 en_alerts, en_hits;

static double
en_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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

static int
en_hit(unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *ctx)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	(void)ctx;
	en_hits++;
	return 0;
}

/* Orders patterns by field, flags, expression, so duplicates sit together. */
static int
en_cmp(const void *a, const void *b)
{
	const struct rule_pat *p = *(const struct rule_pat *const *)a;
	const struct rule_pat *q = *(const struct rule_pat *const *)b;

	if (p->field != q->field)
		return p->field < q->field ? -1 : 1;
	if (p->flags != q->flags)
		return p->flags < q->flags ? -1 : 1;
	return strcmp(p->expr, q->expr);
}

/* The floor's databases: the loaded rules' patterns, one per field. */
static int
en_floor_build(const struct ruleset *rs, struct en_floor *fl)
{
	const struct rule_pat **pv = NULL;
	const char **ex = NULL;
	unsigned int *fg = NULL, *id = NULL;
	hs_compile_error_t *cerr = NULL;
	size_t n = 0, cap = 0, m;
	double t0;
	int rc = -1;

	for (size_t i = 0; i < ruleset_count(rs); i++) {
		const struct rule *r = ruleset_rule(rs, i);

		for (uint32_t k = 0; k < r->npats; k++) {
			if (n == cap) {
				cap = cap ? cap * 2 : 1024;
				if ((pv = reallocarray(pv, cap, sizeof(*pv))) == NULL)
					goto out;
			}
			pv[n++] = &r->pats[k];
		}
	}
	if ((ex = calloc(n + 1, sizeof(*ex))) == NULL ||
	    (fg = calloc(n + 1, sizeof(*fg))) == NULL ||
	    (id = calloc(n + 1, sizeof(*id))) == NULL)
		goto out;
	t0 = en_now();
	qsort(pv, n, sizeof(*pv), en_cmp);
	for (size_t i = 0; i < n;) {
		hs_database_t *db = NULL;
		int f = pv[i]->field;
		size_t nu = 0;

		/* the field's patterns, each distinct one once (as interned) */
		for (; i < n && pv[i]->field == f; i++) {
			if (nu > 0 && en_cmp(&pv[i], &pv[i - 1]) == 0)
				continue;
			fg[nu] = pv[i]->flags | HS_FLAG_SINGLEMATCH;
			id[nu] = (unsigned int)nu;
			ex[nu++] = pv[i]->expr;
		}
		if (hs_compile_multi(ex, fg, id, (unsigned int)nu, HS_MODE_BLOCK,
		    NULL, &db, &cerr) != HS_SUCCESS) {
			fprintf(stderr, "engine: hs_compile_multi: %s\n",
			    cerr ? cerr->message : "error");
			hs_free_compile_error(cerr);
			goto out;
		}
		if (hs_alloc_scratch(db, &fl->scratch) != HS_SUCCESS)
			goto out;
		hs_database_size(db, &m);
		fl->bytes += m;
		fl->npat += nu;
		fl->f[fl->nf].field = f;
		fl->f[fl->nf++].db = db;
	}
	fl->compile_s = en_now() - t0;
	rc = 0;
out:
	free(pv);
	free(ex);
	free(fg);
	free(id);
	return rc;
}

/* Bare scans: one hs_scan per field with a database and a value. */
static void
en_floor_scan(const struct en_floor *fl, const struct soc_event *ev)
{
	char buf[128];
	const char *p;
	size_t len;

	for (size_t i = 0; i < fl->nf; i++) {
		int f = fl->f[i].field;

		if (!soc_event_has(ev, f))
			continue;
		if (soc_field_type(f) == SOC_T_STR)
			p = soc_event_str(ev, f, &len);
		else {
			int k = soc_event_text(ev, f, buf, sizeof(buf));

			if (k < 0)
				continue;
			p = buf;
			len = (size_t)k;
		}
		hs_scan(fl->f[i].db, p, (unsigned int)len, 0, fl->scratch,
		    en_hit, NULL);
	}
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
		t0 = en_now();
		for (size_t i = 0; i < n; i++)
			ruleset_match(rs, sc, &ev[i], en_alert, NULL);
		res->eng_s += en_now() - t0;
		t0 = en_now();
		for (size_t i = 0; i < n; i++)
			en_floor_scan(fl, &ev[i]);
		res->floor_s += en_now() - t0;
		res->events += n;
	}
	fclose(f);
	free(line);
	return 0;
}

static void
en_print(int json, const char *label, size_t nrules, double load_s,
    const struct en_floor *fl, const struct en_result *r)
{
	double eps = r->events / r->eng_s, fps = r->events / r->floor_s;

	if (json)
		printf("{\"label\":\"%s\",\"rules\":%zu,\"compile_s\":%.3f,"
		    "\"db_bytes\":%zu,\"db_fields\":%zu,\"patterns\":%zu,"
		    "\"floor_compile_s\":%.3f,\"events\":%llu,\"bad_lines\":%llu,"
		    "\"alerts\":%llu,\"engine_s\":%.3f,\"events_per_s\":%.0f,"
		    "\"floor_s\":%.3f,\"floor_events_per_s\":%.0f,"
		    "\"of_floor\":%.3f}\n", label, nrules, load_s, fl->bytes,
		    fl->nf, fl->npat, fl->compile_s, (unsigned long long)r->events,
		    (unsigned long long)r->bad, (unsigned long long)en_alerts,
		    r->eng_s, eps, r->floor_s, fps, r->floor_s / r->eng_s);
	else
		printf("%s%s%zu rules: compile %.2f s (floor's own compile %.2f s);"
		    " databases %.1f KiB (%zu fields, %zu patterns)\n"
		    "  %llu events, %llu alerts: engine %.0f events/s (%.2f s),"
		    " floor %.0f events/s (%.2f s): %.0f%% of the floor\n",
		    label, *label ? ": " : "", nrules, load_s, fl->compile_s,
		    fl->bytes / 1024.0, fl->nf, fl->npat,
		    (unsigned long long)r->events, (unsigned long long)en_alerts,
		    eps, r->eng_s, fps, r->floor_s, 100.0 * r->floor_s / r->eng_s);
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

	t0 = en_now();
	rs = ruleset_load(dirs, ndirs, mapping, en_error, NULL, &nerr);
	load_s = en_now() - t0;
	if (rs == NULL || nerr > 0) {
		fprintf(stderr, "engine: %zu rules refused\n", nerr);
		return 1;
	}
	if ((sc = rs_scratch_new(rs)) == NULL || en_floor_build(rs, &fl) == -1 ||
	    en_run(rs, sc, &fl, events, &res) == -1)
		return 1;
	en_print(json, label, ruleset_count(rs), load_s, &fl, &res);
	for (size_t i = 0; i < fl.nf; i++)
		hs_free_database(fl.f[i].db);
	hs_free_scratch(fl.scratch);
	rs_scratch_free(sc);
	ruleset_free(rs);
	free(dirs);
	return 0;
}
