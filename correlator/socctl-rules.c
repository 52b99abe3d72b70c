/*
 * socctl's rule commands, which need no database.  `rules check` loads
 * rule sets with the correlator's engine and reports each refusal as
 * file:line: reason.  `rules test DIR... (--log FILE | --pcap FILE |
 * --events FILE.jsonl) [--mapping FILE] [--json]` runs input through the
 * same decoders and normalizers as the sensor and the same engine as the
 * correlator, and prints every alert, so a rule author sees what a rule
 * would raise before it is deployed.  Correlation windows run on event
 * time, as live; at the end of the input the windows still open are
 * judged (conditions with an upper bound).
 *
 * Without --mapping, both look for mapping.yml in the rule directories,
 * then beside the binary (../../rules: build/correlator/socctl in a
 * source checkout), then in the installed prefix, then in the source
 * tree the binary was built from (SOC_SRCDIR/rules), so that they work
 * from a checkout with no install.
 */
#include <sys/stat.h>

#include <libgen.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "soc-config.h"

#include "soc/json.h"
#include "soc/time.h"
#include "soc/util.h"
#include "logparse.h"
#include "pkt.h"
#include "rules.h"
#include "socctl.h"

static bool
file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * The mapping file when none is given (see the top of the file), in buf;
 * NULL to let ruleset_load take a rule directory's or report the
 * installed one missing.
 */
static const char *
rules_mapping(const char **dirs, size_t ndirs, char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n;

	for (size_t i = 0; i < ndirs; i++) {
		snprintf(buf, len, "%s/mapping.yml", dirs[i]);
		if (file_exists(buf))
			return NULL;
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		exe[n] = '\0';
		snprintf(buf, len, "%s/../../rules/mapping.yml", dirname(exe));
		if (file_exists(buf))
			return buf;
	}
	snprintf(buf, len, "%s/rules/mapping.yml", SOC_DATADIR);
	if (file_exists(buf))
		return buf;
	snprintf(buf, len, "%s/rules/mapping.yml", SOC_SRCDIR);
	return file_exists(buf) ? buf : NULL;
}

static void
rules_error(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s\n", msg);
}

/*
 * `socctl rules check DIR... [--mapping FILE]`: loads the rule sets with
 * the correlator's engine and reports each refusal as file:line: reason,
 * and which Sigma filter applies to which rule.
 * argv[0] is the command name.  Exit 1 if any rule was refused.
 */
int
cmd_rules_check(struct ctx *c, int argc, char **argv)
{
	const char *mapping = NULL, *minst = "test";
	const char **dirs;
	char mbuf[PATH_MAX + 32];
	struct ruleset *rs;
	struct rs_load_opts o = { .min_status = RS_STATUS_TEST, .partial_dirs = 1 };
	size_t nerr = 0, nok, nskip, npart, ndirs = 0;
	int i;

	(void)c;
	if ((dirs = calloc((size_t)argc, sizeof(*dirs))) == NULL)
		return errx1("out of memory");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mapping") == 0 && i + 1 < argc)
			mapping = argv[++i];
		else if (strncmp(argv[i], "--mapping=", 10) == 0)
			mapping = argv[i] + 10;
		else if (strcmp(argv[i], "--min-status") == 0 && i + 1 < argc)
			minst = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			free(dirs);
			return errx1("rules check: unknown option %s (usage: socctl"
			    " rules check DIR... [--mapping FILE] [--min-status"
			    " experimental|test|stable|any])", argv[i]);
		} else
			dirs[ndirs++] = argv[i];
	}
	if (ndirs == 0) {
		free(dirs);
		return errx1("rules check: give at least one rule directory"
		    " (usage: socctl rules check DIR... [--mapping FILE])");
	}
	if (strcmp(minst, "any") == 0)
		o.min_status = RS_STATUS_ANY;
	else if ((o.min_status = rs_status_parse(minst)) == -2) {
		free(dirs);
		return errx1("rules check: --min-status %s: give experimental,"
		    " test, stable or any", minst);
	}
	if (mapping == NULL)
		mapping = rules_mapping(dirs, ndirs, mbuf, sizeof(mbuf));
	rs = ruleset_load_opts(dirs, ndirs, mapping, &o, rules_error, NULL, &nerr);
	free(dirs);
	if (rs == NULL)
		return errx1("rules check: no usable rule set could be built"
		    " (see the messages above)");
	nok = ruleset_count(rs);
	for (size_t u = 0; u < ruleset_filter_uses(rs); u++) {
		const char *fid, *ftitle, *file;
		const struct rule *r;
		int line;

		ruleset_filter_use(rs, u, &fid, &ftitle, &file, &line, &r);
		printf("filter %s (%s) from %s:%d applies to %s (%s)\n", fid,
		    ftitle, file, line, rule_id(r), rule_title(r));
	}
	/* what rules.min_status leaves out, as the correlator would */
	nskip = ruleset_skipped(rs);
	for (size_t k = 0; k < nskip; k++) {
		const char *file, *title, *status, *why;
		int line;

		if (ruleset_skipped_rule(rs, k, &file, &line, &title, &status,
		    &why) == 0)
			printf("skipped %s:%d %s (status %s): %s\n", file, line,
			    title, status, why);
	}
	npart = ruleset_refused_partial(rs);
	ruleset_free(rs);
	printf("%zu rule%s loaded, %zu refused", nok, nok == 1 ? "" : "s", nerr);
	if (npart > 0)
		printf(", %zu refused in partial directories (loaded without them)",
		    npart);
	if (nskip > 0)
		printf(", %zu skipped below status %s", nskip, minst);
	printf("\n");
	return nerr > 0 ? 1 : 0;
}

/* ---- rules test ---- */

struct rt {
	struct ruleset		*rs;
	struct rs_scratch	*sc;
	int			 json;
	uint64_t		 events;
	uint64_t		 alerts;
	uint64_t		 bad_lines;
	struct soc_sbuf		 out;
	int			 first;
};

static void
rt_alert(void *arg, const struct rs_alert *a)
{
	struct rt *t = arg;
	char ts[48];

	t->alerts++;
	soc_time_format(a->last_ts, ts, sizeof(ts));
	if (!t->json) {
		printf("%s  %-8s  %-40s  %-28s  count %llu\n", ts,
		    rule_level(a->rule), rule_title(a->rule), a->group_key,
		    (unsigned long long)a->count);
		return;
	}
	soc_sbuf_reset(&t->out);
	soc_sbuf_adds(&t->out, t->first ? "\n  " : ",\n  ");
	t->first = 0;
	soc_sbuf_adds(&t->out, "{\"rule\":{\"id\":");
	soc_sbuf_json_str(&t->out, rule_id(a->rule), strlen(rule_id(a->rule)));
	soc_sbuf_adds(&t->out, ",\"title\":");
	soc_sbuf_json_str(&t->out, rule_title(a->rule), strlen(rule_title(a->rule)));
	soc_sbuf_adds(&t->out, ",\"level\":");
	soc_sbuf_json_str(&t->out, rule_level(a->rule), strlen(rule_level(a->rule)));
	soc_sbuf_adds(&t->out, ",\"author\":");
	soc_sbuf_json_str(&t->out, rule_author(a->rule), strlen(rule_author(a->rule)));
	soc_sbuf_adds(&t->out, "},\"group_key\":");
	soc_sbuf_json_str(&t->out, a->group_key, strlen(a->group_key));
	soc_sbuf_printf(&t->out, ",\"count\":%llu,\"last_seen\":\"%s\",\"event\":",
	    (unsigned long long)a->count, ts);
	soc_json_event(&t->out, a->event);
	soc_sbuf_adds(&t->out, "}");
	fwrite(t->out.data, 1, t->out.len, stdout);
}

static void
rt_event(void *arg, struct soc_event *ev)
{
	struct rt *t = arg;

	t->events++;
	ruleset_match(t->rs, t->sc, ev, rt_alert, t);
}

static int
rt_lines(struct rt *t, const char *path, int events)
{
	static struct soc_event ev;
	struct logparse_ctx ctx = { .now_ns = soc_now_ns(), .path = path,
	    .tz_offset_sec = 7 * 3600 };
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		return -1;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		const char *why;

		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (!events) {
			log_syslog_parse(&ctx, line, (size_t)n, &ev);
			rt_event(t, &ev);
		} else if (n > 0) {
			if (soc_json_read_event(line, (size_t)n, &ev, &why, NULL) == -1) {
				t->bad_lines++;
				fprintf(stderr, "%s: skipped a line: %s\n", path, why);
				continue;
			}
			rt_event(t, &ev);
		}
	}
	free(line);
	fclose(f);
	return 0;
}

static int
rt_pcap(struct rt *t, const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct pkt_ctx *pc;
	pcap_t *p;
	int64_t last = 0;

	if ((p = pcap_open_offline(path, errbuf)) == NULL) {
		fprintf(stderr, "%s: %s\n", path, errbuf);
		return -1;
	}
	if ((pc = pkt_new(&(struct pkt_config){ 0 }, rt_event, t)) == NULL) {
		pcap_close(p);
		return -1;
	}
	while (pcap_next_ex(p, &h, &data) == 1) {
		int64_t ts = (int64_t)h->ts.tv_sec * SOC_NS + (int64_t)h->ts.tv_usec * 1000;

		pkt_handle(pc, pcap_datalink(p), ts, data, h->caplen, h->len);
		if (ts - last >= SOC_NS) {
			pkt_expire(pc, ts);
			last = ts;
		}
	}
	pkt_finish(pc);
	pkt_free(pc);
	pcap_close(p);
	return 0;
}

/* `socctl rules test`; argv[0] is the command name. */
int
cmd_rules_test(struct ctx *c, int argc, char **argv)
{
	const char *mapping = NULL, *log = NULL, *pcap = NULL, *events = NULL;
	const char **dirs;
	char mbuf[PATH_MAX + 32];
	size_t ndirs = 0, nerr = 0;
	struct rt t = { .first = 1 };
	int i, rc = 0;

	(void)c;
	if ((dirs = calloc((size_t)argc, sizeof(*dirs))) == NULL)
		return 1;
	for (i = 1; i < argc; i++) {
		const char **dst = NULL;

		if (!strcmp(argv[i], "--mapping")) dst = &mapping;
		else if (!strcmp(argv[i], "--log")) dst = &log;
		else if (!strcmp(argv[i], "--pcap")) dst = &pcap;
		else if (!strcmp(argv[i], "--events")) dst = &events;
		else if (!strcmp(argv[i], "--json")) { t.json = 1; continue; }
		else if (argv[i][0] == '-') {
			fprintf(stderr, "socctl: rules test: unknown option %s\n", argv[i]);
			free(dirs);
			return 1;
		} else {
			dirs[ndirs++] = argv[i];
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "socctl: rules test: %s needs a value\n", argv[i]);
			free(dirs);
			return 1;
		}
		*dst = argv[++i];
	}
	if (ndirs == 0 || (!log && !pcap && !events)) {
		fprintf(stderr, "usage: socctl rules test DIR... (--log FILE | --pcap FILE |"
		    " --events FILE.jsonl) [--mapping FILE] [--json]\n");
		free(dirs);
		return 1;
	}
	if (mapping == NULL)
		mapping = rules_mapping(dirs, ndirs, mbuf, sizeof(mbuf));
	t.rs = ruleset_load(dirs, ndirs, mapping, rules_error, NULL, &nerr);
	free(dirs);
	if (t.rs == NULL || (t.sc = rs_scratch_new(t.rs)) == NULL) {
		ruleset_free(t.rs);
		return 1;
	}
	soc_sbuf_init(&t.out);
	if (t.json)
		fputs("[", stdout);
	if ((pcap && rt_pcap(&t, pcap) == -1) || (log && rt_lines(&t, log, 0) == -1) ||
	    (events && rt_lines(&t, events, 1) == -1))
		rc = 1;
	/* end of input: judge the windows still open (lt, lte, eq, ranges) */
	ruleset_tick(t.rs, INT64_MAX, rt_alert, &t);
	if (t.json)
		fputs(t.first ? "]\n" : "\n]\n", stdout);
	fprintf(stderr, "%zu rules (%zu refused), %llu events, %llu alerts%s\n",
	    ruleset_count(t.rs), nerr, (unsigned long long)t.events,
	    (unsigned long long)t.alerts, t.bad_lines ? ", some input lines skipped" : "");
	rs_scratch_free(t.sc);
	ruleset_free(t.rs);
	soc_sbuf_free(&t.out);
	return rc;
}
