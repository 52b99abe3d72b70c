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

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "soc-config.h"

#include "soc/fmt.h"
#include "soc/json.h"
#include "soc/time.h"
#include "soc/util.h"
#include "logparse.h"
#include "pkt.h"
#include "evtx.h"
#include "rules.h"
#include "socctl.h"
#include "socctl-rt.h"

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
const char *
rules_mapping(const char **dirs, size_t ndirs, char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n;

	if (buf == NULL || len == 0)
		return NULL;
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

/*
 * `rules test` is also how the engine is measured against SEC (bench/
 * engine.sh), so its path is kept lean: the input is read in large blocks
 * and cut into lines in place, alerts are formatted by hand (lib/fmt.c)
 * into one buffer written about RT_FLUSH bytes at a time, what depends
 * only on the rule is formatted once per rule, and an event that raises
 * two alerts is written as JSON once.  Nothing is allocated per line.
 * The bytes are those of the printf forms this replaced.
 */
#define RT_READ		(1 << 20)	/* input block */

/* s, then spaces up to width bytes: printf's "%-*s". */
static void
rt_pad(struct soc_sbuf *b, const char *s, size_t width)
{
	static const char spaces[] = "                                        ";
	size_t len = strlen(s);

	soc_sbuf_add(b, s, len);
	while (len < width) {
		size_t n = width - len < sizeof(spaces) - 1 ? width - len :
		    sizeof(spaces) - 1;

		soc_sbuf_add(b, spaces, n);
		len += n;
	}
}

static void
rt_json_member(struct soc_sbuf *b, const char *key, const char *val)
{
	soc_sbuf_adds(b, key);
	soc_sbuf_json_str(b, val, strlen(val));
}

/* The output that depends only on the rule, formatted on first use. */
static const struct rt_rule *
rt_rule(struct rt *t, const struct rule *r)
{
	uint64_t h = (uint64_t)(uintptr_t)r * 0x9e3779b97f4a7c15ULL;
	struct rt_rule *rr = &t->rcache[h >> 58];	/* 64 slots */

	if (rr->rule == r)
		return rr;
	rr->rule = r;
	soc_sbuf_reset(&rr->text);
	soc_sbuf_adds(&rr->text, "  ");
	rt_pad(&rr->text, rule_level(r), 8);
	soc_sbuf_adds(&rr->text, "  ");
	rt_pad(&rr->text, rule_title(r), 40);
	soc_sbuf_adds(&rr->text, "  ");
	soc_sbuf_reset(&rr->json);
	rt_json_member(&rr->json, "{\"rule\":{\"id\":", rule_id(r));
	rt_json_member(&rr->json, ",\"title\":", rule_title(r));
	rt_json_member(&rr->json, ",\"level\":", rule_level(r));
	rt_json_member(&rr->json, ",\"author\":", rule_author(r));
	soc_sbuf_adds(&rr->json, "},\"group_key\":");
	if (rr->text.oom || rr->json.oom) {
		rr->rule = NULL;
		t->out.oom = true;
	}
	return rr;
}

static void
rt_time(struct soc_sbuf *b, int64_t ns)
{
	char *o;

	if ((o = soc_sbuf_reserve(b, SOC_FMT_TIME_LEN)) != NULL)
		b->len += soc_fmt_time(ns, o);
}

static void
rt_u64(struct soc_sbuf *b, uint64_t v)
{
	char *o;

	if ((o = soc_sbuf_reserve(b, SOC_FMT_U64_MAX)) != NULL) {
		b->len += (size_t)(soc_fmt_u64(o, v) - o);
		b->data[b->len] = '\0';
	}
}

/* Writes what is pending once there is enough of it (all of it: force). */
static void
rt_flush(struct rt *t, int force)
{
	struct soc_sbuf *b = &t->out;

	if (b->len == 0 || (!force && b->len < t->flush_at))
		return;
	if (b->oom && t->werr == 0)
		t->werr = ENOMEM;
	if (t->werr == 0 && fwrite(b->data, 1, b->len, stdout) != b->len)
		t->werr = errno ? errno : EIO;
	soc_sbuf_reset(b);
	t->ev_len = 0;
}

/* The event as JSON; a second alert of the event being matched copies it. */
static void
rt_event_json(struct rt *t, const struct soc_event *ev)
{
	struct soc_sbuf *b = &t->out;
	char *o;

	if (ev == t->cur && t->ev_len > 0) {
		if ((o = soc_sbuf_reserve(b, t->ev_len)) != NULL) {
			memcpy(o, b->data + t->ev_off, t->ev_len);
			b->len += t->ev_len;
			b->data[b->len] = '\0';
		}
		return;
	}
	t->ev_off = b->len;
	soc_json_event(b, ev);
	if (ev == t->cur && !b->oom)
		t->ev_len = b->len - t->ev_off;
}

void
rt_alert(void *arg, const struct rs_alert *a)
{
	struct rt *t = arg;
	struct soc_sbuf *b = &t->out;
	const struct rt_rule *rr = rt_rule(t, a->rule);
	const char *org = NULL;
	size_t orglen = 0;

	t->alerts++;
	if (t->hook != NULL)
		t->hook(t->hook_arg, a);
	if (t->agency && (org = soc_event_str(a->event, SOC_F_ORGANIZATION_ID,
	    &orglen)) == NULL)
		org = "", orglen = 0;
	if (!t->json) {
		/* "%s  %-8s  %-40s  %-28s  count %llu\n" */
		rt_time(b, a->last_ts);
		if (org != NULL) {	/* hunt: "  %-12s" */
			soc_sbuf_adds(b, "  ");
			soc_sbuf_add(b, org, orglen);
			for (size_t k = orglen; k < 12; k++)
				soc_sbuf_add(b, " ", 1);
		}
		soc_sbuf_add(b, rr->text.data, rr->text.len);
		rt_pad(b, a->group_key, 28);
		soc_sbuf_add(b, "  count ", 8);
		rt_u64(b, a->count);
		soc_sbuf_add(b, "\n", 1);
		if (t->cur == NULL)
			rt_flush(t, 0);
		return;
	}
	soc_sbuf_adds(b, t->first ? "\n  " : ",\n  ");
	t->first = 0;
	soc_sbuf_add(b, rr->json.data, rr->json.len);
	soc_sbuf_json_str(b, a->group_key, strlen(a->group_key));
	if (org != NULL) {
		soc_sbuf_adds(b, ",\"agency\":");
		soc_sbuf_json_str(b, org, orglen);
	}
	soc_sbuf_add(b, ",\"count\":", 9);
	rt_u64(b, a->count);
	soc_sbuf_add(b, ",\"last_seen\":\"", 14);
	rt_time(b, a->last_ts);
	soc_sbuf_add(b, "\",\"event\":", 10);
	rt_event_json(t, a->event);
	soc_sbuf_add(b, "}", 1);
	if (t->cur == NULL)	/* from ruleset_tick: no event to finish */
		rt_flush(t, 0);
}

void
rt_match(struct rt *t, const struct soc_event *ev)
{
	t->events++;
	t->cur = ev;
	t->ev_len = 0;
	ruleset_match(t->rs, t->sc, ev, rt_alert, t);
	t->cur = NULL;
	t->ev_len = 0;
	rt_flush(t, 0);
}

static void
rt_event(void *arg, struct soc_event *ev)
{
	rt_match(arg, ev);
}

void
rt_begin(struct rt *t)
{
	soc_sbuf_init(&t->out);
	/* on a terminal, each event's alerts as they come */
	t->flush_at = isatty(STDOUT_FILENO) ? 0 : RT_FLUSH;
	t->first = 1;
	if (t->json)
		soc_sbuf_add(&t->out, "[", 1);
}

int
rt_finish(struct rt *t, const char *cmd)
{
	/* end of input: judge the windows still open (lt, lte, eq, ranges) */
	ruleset_tick(t->rs, INT64_MAX, rt_alert, t);
	if (t->json)
		soc_sbuf_adds(&t->out, t->first ? "]\n" : "\n]\n");
	rt_flush(t, 1);
	if ((fflush(stdout) == EOF || ferror(stdout)) && t->werr == 0)
		t->werr = errno ? errno : EIO;
	if (t->werr != 0) {
		fprintf(stderr, "socctl: %s: writing the alerts: %s\n", cmd,
		    strerror(t->werr));
		return -1;
	}
	return 0;
}

void
rt_free(struct rt *t)
{
	rs_scratch_free(t->sc);
	ruleset_free(t->rs);
	soc_sbuf_free(&t->out);
	for (int i = 0; i < RT_RCACHE; i++) {
		soc_sbuf_free(&t->rcache[i].text);
		soc_sbuf_free(&t->rcache[i].json);
	}
}

/* One line as getline() gave it (newline included, if any). */
static void
rt_line(struct rt *t, const struct logparse_ctx *ctx, struct soc_event *ev,
    char *line, size_t n, int events)
{
	const char *why;

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	line[n] = '\0';		/* a newline or the spare byte past the input */
	if (!events && log_auditd_record(line, n) >= 0 &&
	    (t->auditd != NULL ||
	    (t->auditd = auditd_asm_new(0, 0, rt_event, t)) != NULL)) {
		auditd_asm_feed(t->auditd, ctx, line, n, NULL, false);
	} else if (!events) {
		log_syslog_parse(ctx, line, n, ev);
		rt_event(t, ev);
	} else if (n > 0) {
		if (soc_json_read_event(line, n, ev, &why, NULL) == -1) {
			t->bad_lines++;
			fprintf(stderr, "%s: skipped a line: %s\n", ctx->path, why);
			return;
		}
		rt_event(t, ev);
	}
}

static int
rt_lines(struct rt *t, const char *path, int events)
{
	static struct soc_event ev;
	struct logparse_ctx ctx = { .now_ns = soc_now_ns(), .path = path,
	    .tz_offset_sec = 7 * 3600 };
	size_t cap = RT_READ, have = 0;
	char *buf, *p, *end, *nl;
	ssize_t n;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		perror(path);
		return -1;
	}
	if ((buf = malloc(cap)) == NULL) {
		close(fd);
		errx1("rules test: out of memory");
		return -1;
	}
	for (;;) {
		if (have + 1 >= cap) {		/* a line longer than the block */
			if ((p = realloc(buf, cap * 2)) == NULL) {
				errx1("rules test: out of memory");
				rc = -1;
				break;
			}
			buf = p;
			cap *= 2;
		}
		/* one byte kept spare, for the NUL after a last line */
		if ((n = read(fd, buf + have, cap - have - 1)) == -1) {
			if (errno == EINTR)
				continue;
			perror(path);
			rc = -1;
			break;
		}
		if (n == 0) {
			if (have > 0)
				rt_line(t, &ctx, &ev, buf, have, events);
			break;
		}
		have += (size_t)n;
		for (p = buf, end = buf + have;
		    (nl = memchr(p, '\n', (size_t)(end - p))) != NULL; p = nl + 1)
			rt_line(t, &ctx, &ev, p, (size_t)(nl - p) + 1, events);
		have = (size_t)(end - p);
		memmove(buf, p, have);
	}
	auditd_asm_free(t->auditd);	/* emits the events still open */
	t->auditd = NULL;
	free(buf);
	close(fd);
	return rc;
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

/*
 * EVTX files (issue 17) through the sensor's own reader (evtxread:
 * libevtx, winlog-xml.c, winlog-ecs.c), each record's event matched as
 * it comes; the counts of what could not be read go to stderr.
 */
static int
rt_evtx(struct rt *t, const char **files, size_t n)
{
	struct evtx_reader r = { .emit = rt_event, .arg = t };
	struct timespec t0, t1;
	double s;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < n; i++)
		if (evtx_read_file(&r, files[i]) == -1)
			rc = -1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* the speed of reading and matching alone, the rules loaded
	 * (bench/windows.py reads it) */
	s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "evtx: %llu records from %zu files read and matched "
	    "in %.3f s (%.0f records/s)\n", (unsigned long long)r.st.records,
	    n, s, s > 0 ? (double)r.st.records / s : 0.0);
	if (r.st.unreadable || r.st.xml_errors || r.st.corrupt_files ||
	    r.st.truncated_files)
		fprintf(stderr, "evtx: %llu records, %llu unreadable, %llu XML "
		    "errors, %llu corrupt files, %llu truncated files\n",
		    (unsigned long long)r.st.records,
		    (unsigned long long)r.st.unreadable,
		    (unsigned long long)r.st.xml_errors,
		    (unsigned long long)r.st.corrupt_files,
		    (unsigned long long)r.st.truncated_files);
	evtx_reader_free(&r);
	return rc;
}

/* `socctl rules test`; argv[0] is the command name. */
int
cmd_rules_test(struct ctx *c, int argc, char **argv)
{
	const char *mapping = NULL, *log = NULL, *pcap = NULL, *events = NULL;
	const char **dirs, **evtx;
	char mbuf[PATH_MAX + 32];
	size_t ndirs = 0, nerr = 0, nevtx = 0;
	struct rt t = { .first = 1 };
	int i, rc = 0;

	(void)c;
	if ((dirs = calloc((size_t)argc, sizeof(*dirs))) == NULL)
		return 1;
	if ((evtx = calloc((size_t)argc, sizeof(*evtx))) == NULL) {
		free(dirs);
		return 1;
	}
	for (i = 1; i < argc; i++) {
		const char **dst = NULL;

		if (!strcmp(argv[i], "--evtx")) {	/* FILE... up to an option */
			if (i + 1 >= argc || argv[i + 1][0] == '-') {
				fprintf(stderr, "socctl: rules test: --evtx needs "
				    "a file\n");
				free(dirs);
				free(evtx);
				return 1;
			}
			while (i + 1 < argc && argv[i + 1][0] != '-')
				evtx[nevtx++] = argv[++i];
			continue;
		}

		if (!strcmp(argv[i], "--mapping")) dst = &mapping;
		else if (!strcmp(argv[i], "--log")) dst = &log;
		else if (!strcmp(argv[i], "--pcap")) dst = &pcap;
		else if (!strcmp(argv[i], "--events")) dst = &events;
		else if (!strcmp(argv[i], "--json")) { t.json = 1; continue; }
		else if (argv[i][0] == '-') {
			fprintf(stderr, "socctl: rules test: unknown option %s\n", argv[i]);
			free(dirs);
			free(evtx);
			return 1;
		} else {
			dirs[ndirs++] = argv[i];
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "socctl: rules test: %s needs a value\n", argv[i]);
			free(dirs);
			free(evtx);
			return 1;
		}
		*dst = argv[++i];
	}
	if (ndirs == 0 || (!log && !pcap && !events && nevtx == 0)) {
		fprintf(stderr, "usage: socctl rules test DIR... (--log FILE | --pcap FILE |"
		    " --events FILE.jsonl | --evtx FILE...) [--mapping FILE] [--json]\n");
		free(dirs);
		free(evtx);
		return 1;
	}
	if (mapping == NULL)
		mapping = rules_mapping(dirs, ndirs, mbuf, sizeof(mbuf));
	t.rs = ruleset_load(dirs, ndirs, mapping, rules_error, NULL, &nerr);
	free(dirs);
	if (t.rs == NULL || (t.sc = rs_scratch_new(t.rs)) == NULL) {
		ruleset_free(t.rs);
		free(evtx);
		return 1;
	}
	rt_begin(&t);
	if ((pcap && rt_pcap(&t, pcap) == -1) || (log && rt_lines(&t, log, 0) == -1) ||
	    (events && rt_lines(&t, events, 1) == -1) ||
	    (nevtx > 0 && rt_evtx(&t, evtx, nevtx) == -1))
		rc = 1;
	free(evtx);
	if (rt_finish(&t, "rules test") == -1)
		rc = 1;
	fprintf(stderr, "%zu rules (%zu refused), %llu events, %llu alerts%s\n",
	    ruleset_count(t.rs), nerr, (unsigned long long)t.events,
	    (unsigned long long)t.alerts, t.bad_lines ? ", some input lines skipped" : "");
	rt_free(&t);
	return rc;
}
