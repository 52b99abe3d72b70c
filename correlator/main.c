/*
 * soc-correlator: the provincial SOC's central daemon.  It binds a ZeroMQ
 * ROUTER socket with CURVE, admits only enrolled sensors (auth.c), and
 * hands each batch to ingest.c, which checks it, stamps, matches and
 * stores it, and records the sensor's sequence number -- all in one
 * SQLite transaction -- and only then gives back the acks this file
 * sends.  This file keeps start-up, configuration, the poll loop and
 * signals.
 *
 * SIGHUP reloads the rules and the GeoIP files: the new set is compiled
 * on another thread (reload.c) while the old one keeps matching, and
 * swapped in only if it loads cleanly; a broken set (or GeoIP file)
 * leaves the old one running and says why: in the log, to systemd
 * (RELOADING=1, then READY=1 with a STATUS= line saying it failed) and in
 * the store's corr_reload row, which `socctl stats` shows.
 *
 * role: national (a national centre that only receives provinces'
 * alerts) needs no rules: without `rules` it runs with an empty set.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "soc/conf.h"
#include "soc/log.h"
#include "soc/notify.h"
#include "soc/util.h"
#include "soc/wire.h"
#include "soc-config.h"
#include "auth.h"
#include "corr-stats.h"
#include "endpoints.h"
#include "enrich.h"
#include "forward.h"
#include "ingest.h"
#include "evarchive.h"
#include "ingest-intel.h"
#include "intel-watch.h"
#include "notify.h"
#include "intel-push.h"
#include "coverage-up.h"
#include "reload.h"
#include "rules.h"
#include "store.h"

struct corr_conf {
	char		*db;
	char		*rules;
	char		*mapping;
	char		*min_status;	/* rules.min_status */
	char		*key;
	char		*bind;
	char		*geoip_city;
	char		*geoip_asn;
	long long	 evidence_first;
	long long	 evidence_last;
	char		*reopen_within;
	char		*db_group;
	long long	 handshake_s;
	char		*role;		/* province | national */
	long long	 nat_max_per_min; /* national.max_alerts_per_min */
	long long	 max_ahead_s;	/* ingest.max_ahead_s */
	long long	 max_age_s;	/* ingest.max_age_s */
	struct forward_opts fwd;	/* forward.* (forward.c) */
	char		*pid_file;
	char		*update_url;	/* update.*: read by socctl rules update */
	char		*update_sha256;
	char		*update_reload;

	char		*ep_stale;	/* endpoints.stale_after */
	char		*ep_protection;	/* endpoints.protection_within */
	char		*ep_sig_age;	/* endpoints.signature_max_age */
	long long	 ep_max;	/* endpoints.max_per_agency */
	char		*ep_min_share;	/* coverage.endpoints_min_share */
	char		*archive_dir;	/* archive.dir; "off": none */
	char		*archive_keep;	/* archive.keep */
	long long	 archive_max;	/* archive.max_bytes */
	long long	 archive_level;	/* archive.level */
	char		*archive_sync;	/* archive.sync */
	struct notify_opts ntf;		/* notify.* (notify.c) */
	char		*intel_retro;	/* intel.retro */
};

static struct corr_conf		C;
static struct ruleset		*rs;
static struct rs_scratch	*scratch;
static struct store		*st;
static struct enrich		*en;
static struct ingest		*in;
static struct forward		*fwd;
static struct intel_watch	*iw;	/* indicators (intel-watch.c) */
static struct endpoints		*ep;	/* the endpoint inventory */
static struct archive_writer	*arch;	/* the archive (correlator/archive/) */
static struct archive_keeper	*keeper;
static struct notify		*ntf;	/* the notification sender (notify.c) */
static struct intel_push	*ipush;	/* sets served to provinces */
static struct cov_up	*covup;	/* provinces' coverage (coverage-up.c) */
static volatile sig_atomic_t	quit, reload, report;
/* the first reason a load gave (rule_error, on the loading thread: read
 * after reload_finish joined it), and a GeoIP reload's */
static char			load_why[512], geo_why[1100];

/*
 * Every option, once: config key, default, flag and help line.  The
 * getopt arrays and --help are made from this table, and
 * tests/test_options.py holds soc-correlator(8) to it.
 */
static const struct conf_opt corr_opts[] = {
	{ .flag = "config", .letter = 'c', .arg = "FILE", .action = CONF_ACT_CONFIG,
	  .help = "YAML config (see soc-correlator(8)); flags override it" },
	{ .name = "db", .type = CONF_STR, .dst = &C.db,
	  .def = "/var/lib/soc/soc.db", .flag = "db", .arg = "PATH",
	  .help = "incident database, shared with socctl --db" },
	{ .name = "db_group", .type = CONF_STR, .dst = &C.db_group,
	  .help = "analysts' group: the database is made 0660 and theirs" },
	{ .name = "handshake_s", .type = CONF_INT, .dst = &C.handshake_s,
	  .min = 1, .max = 3600, .def = "10",
	  .help = "seconds a new connection has to finish its CURVE handshake" },
	{ .name = "role", .type = CONF_STR, .dst = &C.role,
	  .def = "province", .flag = "role", .arg = "ROLE",
	  .help = "province (matches sensors' events) or national (receives "
	  "provinces' alerts; rules optional)" },
	{ .name = "rules", .type = CONF_STR, .dst = &C.rules,
	  .flag = "rules", .arg = "DIR",
	  .help = "Sigma rules directory (unset: " SOC_DATADIR "/rules, or "
	  "none in role national)" },
	{ .name = "mapping", .type = CONF_STR, .dst = &C.mapping,
	  .help = "Sigma field mapping (default: RULES/mapping.yml)" },
	{ .name = "rules.min_status", .type = CONF_STR, .dst = &C.min_status,
	  .def = "test",
	  .help = "rules below this status (experimental, test, stable) do not load" },
	{ .name = "key", .type = CONF_STR, .dst = &C.key,
	  .flag = "key", .arg = "FILE",
	  .help = "the correlator's secret key (socctl keygen --out NAME)" },
	{ .name = "bind", .type = CONF_STR, .dst = &C.bind,
	  .def = "tcp://0.0.0.0:7500", .flag = "bind", .arg = "ENDPOINT",
	  .help = "listen endpoint" },
	{ .name = "geoip.city", .type = CONF_STR, .dst = &C.geoip_city,
	  .flag = "geoip-city", .arg = "FILE",
	  .help = "MaxMind City/Country database: adds source.geo.*" },
	{ .name = "geoip.asn", .type = CONF_STR, .dst = &C.geoip_asn,
	  .flag = "geoip-asn", .arg = "FILE",
	  .help = "MaxMind ASN database: adds source.as.*" },
	{ .name = "incidents.evidence_first", .type = CONF_INT,
	  .dst = &C.evidence_first, .min = 0, .max = 64, .def = "10",
	  .help = "evidence events an incident keeps: its first N" },
	{ .name = "incidents.evidence_last", .type = CONF_INT,
	  .dst = &C.evidence_last, .min = 0, .max = 64, .def = "10",
	  .help = "evidence events an incident keeps: its latest M" },
	{ .name = "incidents.reopen_within", .type = CONF_STR,
	  .dst = &C.reopen_within, .def = "24h",
	  .help = "a resolved incident that fires again within this reopens "
	  "(0: never; later: a new, related incident)" },
	{ .name = "ingest.max_ahead_s", .type = CONF_INT, .dst = &C.max_ahead_s,
	  .min = 0, .max = 31536000, .def = "300",
	  .help = "an event stamped further ahead of our clock is kept, but "
	  "windowed at its receive time" },
	{ .name = "ingest.max_age_s", .type = CONF_INT, .dst = &C.max_age_s,
	  .min = 0, .max = 3153600000LL, .def = "0",
	  .help = "the same for an event older than this (0: no bound)" },
	{ .name = "notify.smtp", .type = CONF_STR, .dst = &C.ntf.smtp,
	  .flag = "smtp", .arg = "smtp://HOST:PORT",
	  .help = "SMTP server for e-mail notifications (STARTTLS when offered)" },
	{ .name = "notify.from", .type = CONF_STR, .dst = &C.ntf.from,
	  .def = "soc-correlator@localhost", .flag = "notify-from", .arg = "ADDR",
	  .help = "From address of e-mail notifications" },
	{ .name = "notify.min_severity", .type = CONF_STR,
	  .dst = &C.ntf.min_severity, .def = "medium",
	  .help = "notify responders of incidents at or above this severity" },
	{ .name = "notify.categories", .type = CONF_LIST,
	  .dst = &C.ntf.categories,
	  .help = "only incidents of these categories (unset: any)" },
	{ .name = "notify.lead", .type = CONF_STR, .dst = &C.ntf.lead,
	  .help = "the SOC lead (responder AGENCY/NAME) told of missed deadlines" },
	{ .name = "notify.webhook_template", .type = CONF_STR,
	  .dst = &C.ntf.webhook_template,
	  .help = "webhook body with $text, $id, ... (unset: the incident JSON)" },
	{ .name = "notify.timeout_s", .type = CONF_INT, .dst = &C.ntf.timeout_s,
	  .min = 1, .max = 600, .def = "10",
	  .help = "seconds one e-mail, webhook or command may take" },
	{ .name = "notify.max_attempts", .type = CONF_INT,
	  .dst = &C.ntf.max_attempts, .min = 1, .max = 1000, .def = "8",
	  .help = "attempts before a notification is given up" },
	{ .name = "notify.backoff_s", .type = CONF_INT, .dst = &C.ntf.backoff_s,
	  .min = 1, .max = 3600, .def = "30",
	  .help = "first retry delay, doubled per attempt (at most 1 h)" },
	{ .name = "notify.escalate_s", .type = CONF_INT,
	  .dst = &C.ntf.escalate_s, .min = 1, .max = 86400, .def = "60",
	  .help = "how often reporting deadlines are checked for escalation" },
	{ .name = "notify.max_inflight", .type = CONF_INT,
	  .dst = &C.ntf.max_inflight, .min = 1, .max = 64, .def = "16",
	  .help = "notifications sent at once (a hanging one holds one)" },
	{ .name = "notify.smtp_user", .type = CONF_STR, .dst = &C.ntf.smtp_user,
	  .help = "SMTP login (AUTH) user, with notify.smtp_password_file" },
	{ .name = "notify.smtp_password_file", .type = CONF_STR,
	  .dst = &C.ntf.smtp_password_file,
	  .help = "file whose first line is the SMTP password (not world-readable)" },
	{ .name = "notify.smtp_ca_file", .type = CONF_STR,
	  .dst = &C.ntf.smtp_ca_file,
	  .help = "CA certificates (PEM) the SMTP server's must chain to" },
	{ .name = "notify.smtp_insecure_login", .type = CONF_BOOL,
	  .dst = &C.ntf.smtp_insecure_login, .def = "false",
	  .help = "send the SMTP password without TLS when none is offered" },
	{ .name = "notify.keep", .type = CONF_STR, .dst = &C.ntf.keep,
	  .def = "30d",
	  .help = "sent and given-up notifications are deleted after this "
	  "(0: kept)" },
	{ .name = "forward.endpoint", .type = CONF_STR, .dst = &C.fwd.endpoint,
	  .flag = "forward", .arg = "ENDPOINT",
	  .help = "forward alerts to the national receiver (tcp://HOST:PORT)" },
	{ .name = "forward.server_key", .type = CONF_STR, .dst = &C.fwd.server_key,
	  .flag = "forward-server-key", .arg = "FILE|Z85",
	  .help = "the national receiver's public key" },
	{ .name = "forward.min_severity", .type = CONF_STR,
	  .dst = &C.fwd.min_severity, .def = "medium",
	  .flag = "forward-min-severity", .arg = "L",
	  .help = "forward incidents at or above this severity" },
	{ .name = "forward.cef", .type = CONF_STR, .dst = &C.fwd.cef,
	  .flag = "cef", .arg = "URL",
	  .help = "also write CEF lines to a SIEM (tcp:// or udp://HOST:PORT)" },
	{ .name = "forward.fields", .type = CONF_STR, .dst = &C.fwd.fields,
	  .def = "source.ip source.port destination.ip destination.port"
	  " url.original dns.question.name",
	  .help = "evidence fields that leave the province" },
	{ .name = "forward.max_pending", .type = CONF_INT,
	  .dst = &C.fwd.max_pending, .min = 1, .max = 1000000000,
	  .def = "1000000",
	  .help = "outbox bound: beyond it the oldest alerts are dropped (counted)" },
	{ .name = "forward.ack_within", .type = CONF_STR, .dst = &C.fwd.ack_within,
	  .def = "10m",
	  .help = "layer 4 is degraded when the national ack is older" },
	{ .name = "forward.max_backlog_age", .type = CONF_STR,
	  .dst = &C.fwd.max_backlog_age, .def = "1h",
	  .help = "layer 4 is degraded when a pending alert is older" },
	{ .name = "forward.keep_acked", .type = CONF_STR,
	  .dst = &C.fwd.keep_acked, .def = "7d",
	  .help = "acked outbox records older than this are pruned" },
	{ .name = "forward.coverage_every", .type = CONF_STR,
	  .dst = &C.fwd.coverage_every, .def = "5m",
	  .help = "the coverage report is sent up this often (0: never)" },
	{ .name = "forward.name", .type = CONF_STR, .dst = &C.fwd.name,
	  .flag = "forward-name", .arg = "NAME",
	  .help = "this correlator's name in alert ids and CEF headers, as "
	  "enrolled nationally (required to forward)" },
	{ .name = "national.max_alerts_per_min", .type = CONF_INT,
	  .dst = &C.nat_max_per_min, .min = INGEST_NAT_MIN_BOUND,
	  .max = 1000000000, .def = "1000",
	  .help = "alerts taken per province per minute; more are NACKed and "
	  "resent later (counted)" },
	{ .name = "pid_file", .type = CONF_STR, .dst = &C.pid_file,
	  .flag = "pid-file", .arg = "FILE",
	  .help = "write the process id here (socctl rules update signals it)" },
	{ .name = "update.url", .type = CONF_STR, .dst = &C.update_url,
	  .help = "SigmaHQ release package for socctl rules update (file or URL)" },
	{ .name = "update.sha256", .type = CONF_STR, .dst = &C.update_sha256,
	  .help = "the package's SHA-256, checked by socctl rules update" },
	{ .name = "update.reload_command", .type = CONF_STR,
	  .dst = &C.update_reload,
	  .help = "what socctl rules update runs to reload us (else pid_file)" },

	{ .name = "endpoints.stale_after", .type = CONF_STR,
	  .dst = &C.ep_stale, .def = "24h",
	  .help = "an endpoint silent this long raises soc-endpoint-silent and"
	  " stops counting as reporting" },
	{ .name = "endpoints.protection_within", .type = CONF_STR,
	  .dst = &C.ep_protection, .def = "24h",
	  .help = "a computer is protected when its antivirus said healthy"
	  " within this and was not turned off since" },
	{ .name = "endpoints.signature_max_age", .type = CONF_STR,
	  .dst = &C.ep_sig_age, .def = "7d",
	  .help = "a computer whose antivirus signatures are older (Defender's"
	  " health report says their age) is not protected" },
	{ .name = "endpoints.max_per_agency", .type = CONF_INT, .dst = &C.ep_max,
	  .min = 1, .max = 100000000, .def = "50000",
	  .help = "endpoints held per agency; new hosts beyond are counted,"
	  " not added" },
	{ .name = "coverage.endpoints_min_share", .type = CONF_STR,
	  .dst = &C.ep_min_share, .def = "0.95",
	  .help = "layer 2 is degraded when fewer of the declared computers"
	  " report (or are protected)" },
	{ .name = "archive.dir", .type = CONF_STR, .dst = &C.archive_dir,
	  .help = "every applied event kept here as zstd JSON lines (default:"
	  " archive/ beside the database; off: none)" },
	{ .name = "archive.keep", .type = CONF_STR, .dst = &C.archive_keep,
	  .def = "90d",
	  .help = "archive segments older than this are removed (0: no age bound)" },
	{ .name = "archive.max_bytes", .type = CONF_INT, .dst = &C.archive_max,
	  .min = 0, .max = INT64_MAX, .def = "0",
	  .help = "oldest archive segments removed past this size (0: no bound)" },
	{ .name = "archive.sync", .type = CONF_STR, .dst = &C.archive_sync,
	  .def = "before",
	  .help = "before: each frame synced before its commit; parallel: beside"
	  " it (faster; a power failure may lose the last frame)" },
	{ .name = "archive.level", .type = CONF_INT, .dst = &C.archive_level,
	  .min = -7, .max = 19, .def = "1",
	  .help = "zstd compression level of the archive" },
	{ .name = "intel.retro", .type = CONF_STR, .dst = &C.intel_retro,
	  .def = "30d",
	  .help = "a new indicator set is searched for in this much of the"
	  " archive, its new indicators raising incidents marked retro (0: off)" },
	{ .flag = "test", .letter = 't', .action = CONF_ACT_TEST,
	  .help = "load the config, the keys and the rules, then exit" },
	CONF_OPTS_COMMON,
	{ .name = NULL },
};

static void
usage(FILE *f)
{
	conf_synopsis(f, "soc-correlator", corr_opts);
	fprintf(f, "\n"
"Receives event batches from enrolled sensors over ZeroMQ/CURVE, matches\n"
"them against Sigma rules and raises incidents in SQLite.\n"
"\n");
	conf_usage(f, corr_opts);
	fprintf(f, "\n"
"Signals: SIGHUP reloads the rules and GeoIP files, SIGUSR1 logs the counters\n"
"(and the forwarder's), SIGTERM stops.\n");
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else if (sig == SIGUSR1)
		report = 1;
	else
		quit = 1;
}

/* pid_file, for `socctl rules update`: written once listening. */
static void
pid_write(void)
{
	char err[512], buf[32];
	int n;

	if (C.pid_file == NULL)
		return;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (soc_write_atomic(C.pid_file, buf, (size_t)n, 0644, err,
	    sizeof(err)) == -1)
		fatalx("pid_file: %s", err);
}

static void
rule_error(void *arg, const char *msg)
{
	(void)arg;
	log_warnx("rules: %s", msg);
	if (load_why[0] == '\0')
		snprintf(load_why, sizeof(load_why), "%s", msg);
}

/* endpoints.* and coverage.endpoints_min_share, checked. */
static int
endpoint_conf(struct store_endpoint_conf *c, char *err, size_t errlen)
{
	char *end;

	memset(c, 0, sizeof(*c));
	if ((c->stale_after_ns = soc_parse_duration(C.ep_stale)) <= 0) {
		snprintf(err, errlen, "endpoints.stale_after \"%s\": not a"
		    " duration (24h, 90m)", C.ep_stale);
		return -1;
	}
	if ((c->protection_within_ns = soc_parse_duration(C.ep_protection))
	    <= 0) {
		snprintf(err, errlen, "endpoints.protection_within \"%s\": not"
		    " a duration (24h, 90m)", C.ep_protection);
		return -1;
	}
	if ((c->sig_max_age_ns = soc_parse_duration(C.ep_sig_age)) <= 0) {
		snprintf(err, errlen, "endpoints.signature_max_age \"%s\": not"
		    " a duration (7d, 36h)", C.ep_sig_age);
		return -1;
	}
	c->max_per_agency = C.ep_max;
	c->min_share = strtod(C.ep_min_share, &end);
	if (end == C.ep_min_share || *end != '\0' || !(c->min_share >= 0) ||
	    c->min_share > 1) {
		snprintf(err, errlen, "coverage.endpoints_min_share \"%s\": a"
		    " share from 0 to 1 (0.95)", C.ep_min_share);
		return -1;
	}
	return 0;
}

static int
national(void)
{
	return strcmp(C.role, "national") == 0;
}

/* The directory categories.txt is read from (the rules', or the shipped). */
static const char *
cats_dir(void)
{
	return C.rules != NULL ? C.rules : SOC_DATADIR "/rules";
}

/* What did not load: counts, and (listing) the partial refusals. */
static void
log_rules(const struct ruleset *r, int listing)
{
	size_t np = ruleset_refused_partial(r), i;
	const char *m;

	log_info("rules: %zu loaded, %zu refused in partial directories, %zu "
	    "skipped below rules.min_status %s (`socctl rules check`)",
	    ruleset_count(r), np, ruleset_skipped(r), C.min_status);
	for (i = 0; listing && i < 50 && (m = ruleset_refused_partial_msg(r,
	    i)) != NULL; i++)
		log_info("  refused: %s", m);
	if (listing && np > i)
		log_info("  ... and %zu more", np - i);
}

/*
 * Build a rule set; NULL if a rule was refused outside the partial
 * directories (named sigmahq, or holding a .partial file).  Runs on the
 * reload thread too: it logs, and touches no global but the options.
 */
static struct ruleset *
load_rules(void)
{
	const char *dirs[1] = { C.rules };
	struct rs_load_opts o = { .min_status = rs_status_parse(C.min_status),
	    .partial_dirs = 1 };
	struct ruleset *n;
	size_t nerr = 0;

	load_why[0] = '\0';
	if (C.rules == NULL) {		/* role national without rules */
		if ((n = ruleset_empty()) == NULL)
			snprintf(load_why, sizeof(load_why), "out of memory");
		return n;
	}
	n = ruleset_load_opts(dirs, 1, C.mapping, &o, rule_error, NULL, &nerr);
	if (n != NULL && nerr > 0) {
		log_warnx("rules: %zu rule(s) refused in %s; fix them "
		    "(`socctl rules check %s`)", nerr, C.rules, C.rules);
		snprintf(load_why, sizeof(load_why), "%zu rule(s) refused in"
		    " %s (`socctl rules check %s`)", nerr, C.rules, C.rules);
		ruleset_free(n);
		return NULL;
	}
	if (n == NULL && load_why[0] == '\0')
		snprintf(load_why, sizeof(load_why), "rules in %s did not load",
		    C.rules);
	if (n != NULL)
		log_rules(n, 0);
	return n;
}

/*
 * The end of a reload, whatever became of it: the store's corr_reload row
 * (`socctl stats`) and systemd (READY=1 ends the RELOADING=1 sent at the
 * signal; STATUS= says how it went, `systemctl status` shows it).
 */
static void
reload_result(int ok, const char *fmt, ...)
{
	struct store_reload r;
	char msg[1200], note[1300], *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (p = msg; *p != '\0'; p++)		/* STATUS= is one line */
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	r = (struct store_reload){ .at = soc_now_ns(), .ok = ok,
	    .rules = ruleset_count(rs), .message = msg };
	if (store_reload_put(st, &r) == -1)
		log_warnx("reload result not recorded: %s", store_errmsg(st));
	snprintf(note, sizeof(note), "READY=1\nSTATUS=%s%s\nERRNO=%d",
	    ok ? "" : "reload failed: ", msg, ok ? 0 : EINVAL);
	if (!quit)		/* not after STOPPING=1 */
		soc_notify(note);
}

/*
 * SIGHUP: the GeoIP files here, the rules on a thread (reload.c) while
 * the old set keeps matching; reload_done() swaps them when it is done.
 */
static struct reload *
reload_begin(void)
{
	char err[1024];
	struct reload *r;

	geo_why[0] = '\0';
	if (enrich_reload(en, err, sizeof(err)) == -1) {
		log_warnx("GeoIP reload failed, keeping the databases already "
		    "open: %s", err);
		snprintf(geo_why, sizeof(geo_why), "GeoIP: %s", err);
	}
	log_info("reloading rules from %s", C.rules != NULL ? C.rules :
	    "nowhere (role national, no rules)");
	if ((r = reload_start(load_rules)) == NULL) {
		log_warnx("reload failed: cannot start a thread; keeping the "
		    "%zu rules already running", ruleset_count(rs));
		reload_result(0, "cannot start a thread; running the %zu rules"
		    " loaded before", ruleset_count(rs));
	}
	return r;
}

static void
reload_done(struct reload *r)
{
	char err[1024];
	struct ruleset *n;
	struct rs_scratch *sc;
	long long ms;
	int64_t t0 = soc_mono_ms(), t1;
	size_t kept;

	if ((n = reload_finish(r, &sc, &ms)) == NULL) {
		log_warnx("reload failed: keeping the %zu rules already running",
		    ruleset_count(rs));
		reload_result(0, "%s; running the %zu rules loaded before%s%s",
		    load_why[0] ? load_why : "the rules did not load",
		    ruleset_count(rs), geo_why[0] ? "; " : "", geo_why);
		return;
	}
	err[0] = '\0';
	if (ingest_load_categories(in, cats_dir(), err, sizeof(err)) == -1)
		log_warnx("categories: %s; keeping the table in use", err);
	kept = ruleset_adopt(n, rs);
	ingest_set_rules(in, n, sc);
	reload_dispose(rs, scratch);	/* freed on a thread */
	rs = n;
	scratch = sc;
	t1 = soc_mono_ms();
	log_info("rules reloaded: %zu rules (compiled in %lld ms beside the "
	    "running set, swapped in %lld ms); %zu correlation windows of "
	    "unchanged rules kept", ruleset_count(rs), ms, (long long)(t1 - t0),
	    kept);
	if (geo_why[0] != '\0' || err[0] != '\0')
		reload_result(0, "%zu rules reloaded, but %s%s%s%s",
		    ruleset_count(rs), geo_why, geo_why[0] && err[0] ? "; " : "",
		    err[0] ? "categories: " : "", err);
	else
		reload_result(1, "%zu rules reloaded", ruleset_count(rs));
}

/* Sends one reply queued by ingest, after its group committed. */
static void
send_reply(void *router, const struct ingest_reply *r)
{
	uint8_t ack[SOC_WIRE_ACK_LEN];

	soc_wire_ack_encode(ack, r->seq, r->kind);
	zmq_send(router, r->peer, r->peerlen, ZMQ_SNDMORE);
	zmq_send(router, ack, sizeof(ack), 0);
}

/* Hands one message to ingest if one is waiting; returns 0 when none was. */
static int
on_message(void *router, int flags)
{
	zmq_msg_t ident, body;

	zmq_msg_init(&ident);
	zmq_msg_init(&body);
	if (zmq_msg_recv(&ident, router, flags) == -1) {
		zmq_msg_close(&ident);
		zmq_msg_close(&body);
		return 0;
	}
	if (!zmq_msg_more(&ident) || zmq_msg_recv(&body, router, 0) == -1)
		goto out;
	while (zmq_msg_more(&body)) {		/* extra frames: not ours */
		zmq_msg_close(&body);
		zmq_msg_init(&body);
		zmq_msg_recv(&body, router, 0);
	}
	/* indicator messages (intel-push.c) and coverage records
	 * (coverage-up.c) are not batches */
	if (!intel_push_message(ipush, zmq_msg_gets(&body, "User-Id"),
	    zmq_msg_data(&ident), zmq_msg_size(&ident), zmq_msg_data(&body),
	    zmq_msg_size(&body)) &&
	    !cov_up_message(covup, zmq_msg_gets(&body, "User-Id"),
	    zmq_msg_data(&body), zmq_msg_size(&body)))
		ingest_message(in, zmq_msg_gets(&body, "User-Id"),
		    zmq_msg_data(&ident), zmq_msg_size(&ident),
		    zmq_msg_data(&body), zmq_msg_size(&body));
out:
	zmq_msg_close(&ident);
	zmq_msg_close(&body);
	return 1;
}

/* Group commit: the waiting messages share one transaction. */
static void
on_readable(void *router)
{
	ingest_group_begin(in);
	for (int i = 0; i < INGEST_GROUP_MAX; i++)
		if (!on_message(router, i ? ZMQ_DONTWAIT : 0))
			break;
	ingest_group_end(in, send_reply, router);
	intel_push_run(ipush, st, router);	/* outside the group */
	cov_up_run(covup, st);
}

/* Correlation windows held and evicted, in all and per agency. */
static void
log_windows(void)
{
	const char *name;
	uint64_t evicted;
	size_t keys, i, n = ruleset_corr_agencies(rs);

	ruleset_corr_stats(rs, &keys, &evicted);
	log_info("correlation windows: %zu held, %llu evicted", keys,
	    (unsigned long long)evicted);
	for (i = 0; i < n; i++)
		if (ruleset_corr_agency(rs, i, &name, &keys, &evicted) == 0 &&
		    (keys > 0 || evicted > 0))
			log_info("  agency %s: %zu held, %llu evicted", name, keys,
			    (unsigned long long)evicted);
}

static void
log_counters(struct auth *a)
{
	const struct ingest_stats *n = ingest_stats(in);

	log_info("batches %llu (duplicates %llu, out of order %llu, refused %llu, "
	    "implausible seq %llu, failed %llu, skipped %llu), "
	    "events %llu, alerts %llu, new incidents %llu, heartbeats %llu, "
	    "peers admitted %llu, denied %llu, GeoIP lookup errors %llu, "
	    "event times bounded %llu, sensors acked but not applied %llu",
	    (unsigned long long)n->batches, (unsigned long long)n->duplicates,
	    (unsigned long long)n->gaps,
	    (unsigned long long)n->refused, (unsigned long long)n->implausible,
	    (unsigned long long)n->commit_failed,
	    (unsigned long long)n->skipped,
	    (unsigned long long)n->events, (unsigned long long)n->alerts,
	    (unsigned long long)n->incidents_new, (unsigned long long)n->heartbeats,
	    (unsigned long long)auth_allowed(a), (unsigned long long)auth_denied(a),
	    (unsigned long long)enrich_errors(en),
	    (unsigned long long)n->ts_clamped, (unsigned long long)n->ack_alarms);
	log_info("incidents: written %llu, reopened %llu, early flushes %llu, "
	    "alerts written alone %llu, evidence dropped %llu; forwarded "
	    "alerts %llu (refused %llu, new %llu, updated %llu, stale %llu)",
	    (unsigned long long)n->incident_writes,
	    (unsigned long long)n->incidents_reopened,
	    (unsigned long long)n->early_flushes,
	    (unsigned long long)n->agg_overflow,
	    (unsigned long long)n->evidence_dropped,
	    (unsigned long long)n->fwd_alerts, (unsigned long long)n->fwd_bad,
	    (unsigned long long)n->fwd_new, (unsigned long long)n->fwd_updated,
	    (unsigned long long)n->fwd_stale);
	if (n->fwd_deferred > 0 || n->fwd_agency_new > 0 ||
	    n->fwd_agency_bad > 0)
		log_info("provinces: alerts deferred over"
		    " national.max_alerts_per_min %llu, naming a new agency"
		    " %llu, an invalid agency code %llu",
		    (unsigned long long)n->fwd_deferred,
		    (unsigned long long)n->fwd_agency_new,
		    (unsigned long long)n->fwd_agency_bad);
	log_info("indicators: %zu loaded, %llu hits", intel_watch_count(iw),
	    (unsigned long long)ingest_intel_hits(in));
	if (ep != NULL) {
		struct endpoints_stats es;

		endpoints_stats(ep, &es);
		log_info("endpoints: %zu held, new hosts over"
		    " endpoints.max_per_agency %llu, host ids too long %llu,"
		    " silent incidents %llu", es.endpoints,
		    (unsigned long long)es.over_quota,
		    (unsigned long long)es.too_long,
		    (unsigned long long)es.silent_raised);
	}
	if (arch != NULL) {
		const struct archive_wstats *aw = archive_writer_stats(arch);
		struct archive_keep_stats ks;

		archive_keeper_stats(keeper, &ks);
		log_info("archive: events %llu, bytes %llu, frames %llu,"
		    " segments %llu, not archived %llu (write errors %llu%s),"
		    " cut at start %llu bytes, removed by retention %llu",
		    (unsigned long long)aw->events, (unsigned long long)aw->bytes,
		    (unsigned long long)aw->frames,
		    (unsigned long long)aw->segments,
		    (unsigned long long)aw->dropped,
		    (unsigned long long)aw->write_errors,
		    aw->paused ? ", paused" : "",
		    (unsigned long long)aw->cut_bytes,
		    (unsigned long long)ks.removed);
	}
	intel_push_log_counters(ipush);
	cov_up_log_counters(covup);
	log_windows();
	log_rules(rs, 1);
	forward_log_counters(fwd);
	notify_log_counters(ntf);
}

/*
 * The archive: archive.dir, or archive/ beside the database.  The bytes
 * past the committed position are cut, and the new segment is recorded
 * before the first group, so every later file is known uncommitted.
 */
static void
archive_start(int64_t keep_ns)
{
	char dir[4096], seg[ARCHIVE_NAME_MAX], err[1024];
	const char *slash;
	uint64_t off;

	if (C.archive_dir != NULL && strcmp(C.archive_dir, "off") == 0)
		return;
	if (C.archive_dir != NULL)
		snprintf(dir, sizeof(dir), "%s", C.archive_dir);
	else if ((slash = strrchr(C.db, '/')) != NULL)
		snprintf(dir, sizeof(dir), "%.*s/archive", (int)(slash - C.db),
		    C.db);
	else
		snprintf(dir, sizeof(dir), "archive");
	if (store_archive_get(st, NULL, 0, seg, sizeof(seg), &off, NULL) == -1)
		fatalx("archive position: %s", store_errmsg(st));
	if ((arch = archive_writer_open(dir, seg, off, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	archive_writer_set_level(arch, (int)C.archive_level);
	if (strcmp(C.archive_sync, "before") != 0 &&
	    strcmp(C.archive_sync, "parallel") != 0)
		fatalx("archive.sync \"%s\": before or parallel", C.archive_sync);
	if (archive_writer_set_sync(arch, strcmp(C.archive_sync,
	    "parallel") == 0) == -1)
		fatalx("cannot start the archive's sync thread");
	if (store_archive_start(st, dir, archive_writer_position(arch,
	    &off)) == -1)
		fatalx("archive position: %s", store_errmsg(st));
	ingest_set_archive(in, arch);
	if ((keeper = archive_keeper_start(arch, keep_ns,
	    (uint64_t)C.archive_max, 60000)) == NULL)
		fatalx("cannot start the archive's retention thread");
	log_info("archive %s (keep %s, max_bytes %lld)", dir, C.archive_keep,
	    C.archive_max);
}

int
main(int argc, char **argv)
{
	char err[1024], secret[41], pub[41] = "";
	struct forward_conf fc;
	struct auth_watch *watch;
	void *zctx, *router;
	struct auth *auth;
	int test = 0, debug = 0, one = 1, zero = 0;
	int64_t last_expire = soc_mono_ms(), reopen_ns, keep_ns, retro_ns;
	struct reload *rl = NULL;	/* a reload compiling on its thread */
	struct store_endpoint_conf epc;

	log_init("soc-correlator", 0);
	if (conf_defaults(corr_opts, err, sizeof(err)) == -1)
		fatalx("%s", err);
	conf_parse_args(corr_opts, argc, argv, "soc-correlator", SOC_VERSION,
	    usage, NULL, &test, &debug);
	log_setverbose(debug);
	if (strcmp(C.role, "province") != 0 && !national())
		fatalx("role \"%s\": province (matches its sensors' events) or"
		    " national (receives provinces' alerts)", C.role);
	if (C.rules == NULL && !national() &&
	    (C.rules = strdup(SOC_DATADIR "/rules")) == NULL)
		fatalx("out of memory");
	if (rs_status_parse(C.min_status) < 0)
		fatalx("rules.min_status \"%s\": one of experimental, test, "
		    "stable", C.min_status);
	if ((reopen_ns = strcmp(C.reopen_within, "0") == 0 ? 0 :
	    soc_parse_duration(C.reopen_within)) < 0)
		fatalx("incidents.reopen_within \"%s\": not a duration (24h, "
		    "90m, 0)", C.reopen_within);
	if (endpoint_conf(&epc, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if ((keep_ns = strcmp(C.archive_keep, "0") == 0 ? 0 :
	    soc_parse_duration(C.archive_keep)) < 0)
		fatalx("archive.keep \"%s\": not a duration (90d, 12w, 0)",
		    C.archive_keep);
	if ((retro_ns = strcmp(C.intel_retro, "0") == 0 ? 0 :
	    soc_parse_duration(C.intel_retro)) < 0)
		fatalx("intel.retro \"%s\": not a duration (30d, 72h, 0)",
		    C.intel_retro);
	if (C.key == NULL)
		fatalx("no key: give --key FILE (create one with `socctl keygen --out correlator`)");
	if (soc_key_load_secret(C.key, secret, err, sizeof(err)) == -1)
		fatalx("key: %s", err);
	/*
	 * -t looks, it neither creates nor migrates: a missing database or an
	 * older schema is only noted (a pre-upgrade check must leave the
	 * database readable by the binary still running).
	 */
	if (test && access(C.db, F_OK) != 0)
		printf("soc-correlator: database %s does not exist yet; it will "
		    "be created at start\n", C.db);
	else if (test && (st = store_open(C.db, STORE_READONLY, err,
	    sizeof(err))) == NULL && strstr(err, "needs an upgrade") != NULL)
		printf("soc-correlator: database %s: schema older than this "
		    "program; it will be upgraded at start\n", C.db);
	else if (test && st == NULL)
		fatalx("%s", err);
	else if (!test) {
		/* 0640 (or db_group's 0660) whatever the umask: the file
		 * before SQLite makes it, the -wal and -shm after */
		if (store_file_access(C.db, C.db_group, 1, err,
		    sizeof(err)) == -1)
			fatalx("%s", err);
		if ((st = store_open(C.db, STORE_CREATE, err,
		    sizeof(err))) == NULL)
			fatalx("%s", err);
		if (store_file_access(C.db, C.db_group, 0, err,
		    sizeof(err)) == -1)
			fatalx("%s", err);
	}
	if ((en = enrich_open(C.geoip_city, C.geoip_asn, err, sizeof(err))) == NULL)
		fatalx("GeoIP: %s", err);
	if ((rs = load_rules()) == NULL)
		fatalx("rules in %s did not load; nothing started", C.rules ?
		    C.rules : "(none)");
	if (forward_conf_parse(&fc, &C.fwd, C.db, secret, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (!national() && notify_check(&C.ntf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (st != NULL && !national() &&
	    notify_route(st, &C.ntf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (test) {
		printf("soc-correlator: configuration OK (role %s, %zu rules%s,"
		    " database %s%s%s)\n", C.role, ruleset_count(rs),
		    C.rules == NULL ? ", none asked" : "", C.db,
		    fc.endpoint != NULL || fc.cef != NULL ? ", forwarding as " :
		    "", fc.endpoint != NULL || fc.cef != NULL ? fc.origin : "");
		ruleset_free(rs);
		if (st != NULL)
			store_close(st);
		enrich_close(en);
		return 0;
	}
	if ((scratch = rs_scratch_new(rs)) == NULL)
		fatalx("cannot allocate Hyperscan scratch");
	if ((in = ingest_new(st, rs, scratch, en)) == NULL)
		fatalx("cannot allocate the ingest state");
	if (ingest_set_incident_opts(in, (int)C.evidence_first,
	    (int)C.evidence_last, reopen_ns) == -1)
		fatalx("incident options refused");
	if (ingest_set_time_bounds(in, C.max_ahead_s * SOC_NS,
	    C.max_age_s * SOC_NS) == -1)
		fatalx("ingest time bounds refused");
	if (ingest_load_categories(in, cats_dir(), err, sizeof(err)) == -1)
		fatalx("categories: %s", err);
	ingest_set_national_bound(in, (uint64_t)C.nat_max_per_min);
	if ((ep = endpoints_new(&epc)) == NULL ||
	    store_endpoint_conf_put(st, &epc) == -1 ||
	    endpoints_load(ep, st) == -1)
		fatalx("endpoints: %s", ep == NULL ? "out of memory" :
		    store_errmsg(st));
	ingest_set_endpoints(in, ep);
	archive_start(keep_ns);
	if ((iw = intel_watch_start(C.db, st, in)) == NULL ||
	    (ipush = intel_push_new()) == NULL ||
	    (covup = cov_up_new()) == NULL)
		fatalx("cannot allocate the indicator state");
	if (arch != NULL)
		intel_watch_set_retro(iw, archive_writer_dir(arch), retro_ns,
		    fc.endpoint != NULL || fc.cef != NULL ? fc.min_severity : -1);
	/* the outbox is written by ingest's transactions from here on */
	if (fc.endpoint != NULL || fc.cef != NULL)
		store_forward_enable(st, fc.min_severity);
	if ((fwd = forward_start(&fc, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (!national() && (ntf = notify_start(C.db, &C.ntf, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);

	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGUSR1, on_signal);

	if ((zctx = zmq_ctx_new()) == NULL)
		fatalx("zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
	/* the ZAP handler must exist before the server socket binds */
	if ((auth = auth_start(zctx, C.db, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((router = zmq_socket(zctx, ZMQ_ROUTER)) == NULL)
		fatalx("zmq_socket: %s", zmq_strerror(zmq_errno()));
	zmq_setsockopt(router, ZMQ_LINGER, &zero, sizeof(zero));
	/* a connection that never finishes its handshake (an idle raw TCP
	 * client) holds a descriptor only this long (libzmq: 30 s) */
	int hs_ms = (int)C.handshake_s * 1000;
	zmq_setsockopt(router, ZMQ_HANDSHAKE_IVL, &hs_ms, sizeof(hs_ms));
	/* nothing a sensor sends is larger: a peer that tries is cut off */
	int64_t maxmsg = SOC_WIRE_MAX_BATCH;
	zmq_setsockopt(router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
	if (zmq_setsockopt(router, ZMQ_CURVE_SERVER, &one, sizeof(one)) == -1 ||
	    zmq_setsockopt(router, ZMQ_CURVE_SECRETKEY, secret, 41) == -1 ||
	    zmq_setsockopt(router, ZMQ_ZAP_DOMAIN, AUTH_DOMAIN, strlen(AUTH_DOMAIN)) == -1)
		fatalx("CURVE setup: %s (is libzmq built with libsodium?)",
		    zmq_strerror(zmq_errno()));
	/* before the bind, so the first failed handshake is seen */
	if (soc_key_public(secret, pub) == -1 ||
	    (watch = auth_watch(zctx, router, pub, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (zmq_bind(router, C.bind) == -1)
		fatalx("bind %s: %s", C.bind, zmq_strerror(zmq_errno()));
	log_info("listening on %s (role %s) with %zu rules, database %s",
	    C.bind, C.role, ruleset_count(rs), C.db);
	pid_write();
	snprintf(err, sizeof(err), "READY=1\nSTATUS=running, role %s, %zu"
	    " rules", C.role, ruleset_count(rs));
	soc_notify(err);		/* rules loaded, socket bound */

	while (!quit) {
		zmq_pollitem_t it[2] = { { router, 0, ZMQ_POLLIN, 0 },
		    { NULL, rl != NULL ? reload_fd(rl) : -1, ZMQ_POLLIN, 0 } };

		if (zmq_poll(it, rl != NULL ? 2 : 1, 1000) > 0 &&
		    (it[0].revents & ZMQ_POLLIN))
			on_readable(router);
		auth_watch_poll(watch);	/* wrong server keys, rate-limited */
		if (soc_mono_ms() - last_expire >= 10000) {
			/* frees windows nobody fed for a while (wall clock) */
			last_expire = soc_mono_ms();
			/* windows that close on the clock are judged first */
			ingest_tick(in, soc_now_ns());
			ruleset_expire(rs, soc_now_ns());
			/* endpoints silent for endpoints.stale_after */
			endpoints_tick(ep, st, soc_now_ns());
			/* per-agency window counters for `socctl stats` */
			if (corr_windows_save(st, rs, soc_now_ns()) == -1)
				log_warnx("correlation window counters: %s",
				    store_errmsg(st));
		}
		if (rl != NULL && (it[1].revents & ZMQ_POLLIN)) {
			reload_done(rl);	/* a SIGHUP meanwhile: another */
			rl = NULL;		/* READY=1: reload_result() */
		}
		/* the inventory's changes when no group wrote them */
		if (endpoints_due(ep, soc_mono_ms()))
			(void)endpoints_sync(ep, st);
		intel_watch_tick(iw, st, in, reload);	/* between groups */
		intel_push_run(ipush, st, router);	/* offers on a change */
		if (reload && rl == NULL) {
			reload = 0;
			soc_notify_reloading();
			rl = reload_begin();
		}
		if (report) {
			report = 0;
			log_counters(auth);
		}
		soc_notify_watchdog();
	}
	soc_notify("STOPPING=1");
	if (C.pid_file != NULL)
		(void)unlink(C.pid_file);
	if (rl != NULL)
		reload_done(rl);
	log_counters(auth);
	notify_stop(ntf);
	forward_stop(fwd);
	zmq_socket_monitor(router, NULL, 0);
	auth_watch_stop(watch);
	intel_watch_stop(iw, in);
	intel_push_free(ipush);
	cov_up_free(covup);
	zmq_close(router);
	auth_stop(auth);
	zmq_ctx_term(zctx);
	archive_keeper_stop(keeper);
	ingest_free(in);
	(void)endpoints_sync(ep, st);	/* what changed since the last flush */
	endpoints_free(ep);
	archive_writer_close(arch);	/* the open segment's index */
	rs_scratch_free(scratch);
	ruleset_free(rs);
	store_close(st);
	enrich_close(en);
	return 0;
}
