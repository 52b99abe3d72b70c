/*
 * soc-correlator: the provincial SOC's central daemon.  It binds a ZeroMQ
 * ROUTER socket with CURVE, admits only enrolled sensors (auth.c), and
 * hands each batch to ingest.c, which checks it, stamps, matches and
 * stores it, and records the sensor's sequence number -- all in one
 * SQLite transaction -- and only then gives back the acks this file
 * sends.  This file keeps start-up, configuration, the poll loop and
 * signals.
 *
 * SIGHUP reloads the rules: the new set is compiled beside the old one and
 * swapped in only if it loads cleanly; a broken set leaves the old one
 * running and says why.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "soc/conf.h"
#include "soc/log.h"
#include "soc/util.h"
#include "soc/wire.h"
#include "soc-config.h"
#include "auth.h"
#include "enrich.h"
#include "ingest.h"
#include "rules.h"
#include "store.h"

struct corr_conf {
	char		*db;
	char		*rules;
	char		*mapping;
	char		*key;
	char		*bind;
	char		*geoip_city;
	char		*geoip_asn;
};

static struct corr_conf		C;
static struct ruleset		*rs;
static struct rs_scratch	*scratch;
static struct store		*st;
static struct enrich		*en;
static struct ingest		*in;
static volatile sig_atomic_t	quit, reload, report;

static const struct conf_opt corr_opts[] = {
	{ "db", CONF_STR, &C.db, 0, 0, "SQLite database (socctl --db uses the same)" },
	{ "rules", CONF_STR, &C.rules, 0, 0, "directory of Sigma rules" },
	{ "mapping", CONF_STR, &C.mapping, 0, 0, "Sigma field mapping (default: RULES/mapping.yml)" },
	{ "key", CONF_STR, &C.key, 0, 0, "the correlator's secret key file" },
	{ "bind", CONF_STR, &C.bind, 0, 0, "endpoint to listen on, tcp://ADDR:PORT" },
	{ "geoip.city", CONF_STR, &C.geoip_city, 0, 0, "MaxMind City (or Country) database for source.geo.*" },
	{ "geoip.asn", CONF_STR, &C.geoip_asn, 0, 0, "MaxMind ASN database for source.as.*" },
	{ NULL, 0, NULL, 0, 0, NULL },
};

static void
usage(FILE *f)
{
	fprintf(f,
"usage: soc-correlator [-c FILE] [--db PATH] [--rules DIR] [--key FILE]\n"
"                      [--bind ENDPOINT] [--geoip-city F] [--geoip-asn F] [-t] [-d]\n"
"\n"
"Receives event batches from enrolled sensors over ZeroMQ/CURVE, matches\n"
"them against Sigma rules and raises incidents in SQLite.\n"
"\n"
"  -c, --config FILE   YAML config (see soc-correlator(8)); flags override it\n"
"      --db PATH       incident database (default /var/lib/soc/soc.db)\n"
"      --rules DIR     Sigma rules directory (default %s/rules)\n"
"      --key FILE      the correlator's secret key (socctl keygen --out NAME)\n"
"      --bind EP       listen endpoint (default tcp://0.0.0.0:7500)\n"
"      --geoip-city F  MaxMind City/Country database: adds source.geo.*\n"
"      --geoip-asn F   MaxMind ASN database: adds source.as.*\n"
"  -t, --test          load the config, the keys and the rules, then exit\n"
"  -d, --debug         verbose logging\n"
"  -h, --help          this help;  -V, --version  print the version\n"
"\n"
"Signals: SIGHUP reloads the rules, SIGUSR1 logs the counters, SIGTERM stops.\n",
	    SOC_DATADIR);
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

static void
rule_error(void *arg, const char *msg)
{
	(void)arg;
	log_warnx("rules: %s", msg);
}

/* Build a rule set; NULL if anything in it was refused. */
static struct ruleset *
load_rules(void)
{
	const char *dirs[1] = { C.rules };
	struct ruleset *n;
	size_t nerr = 0;

	n = ruleset_load(dirs, 1, C.mapping, rule_error, NULL, &nerr);
	if (n != NULL && nerr > 0) {
		log_warnx("rules: %zu rule(s) refused in %s; fix them "
		    "(`socctl rules check %s`)", nerr, C.rules, C.rules);
		ruleset_free(n);
		return NULL;
	}
	return n;
}

static void
do_reload(void)
{
	struct ruleset *n;
	struct rs_scratch *sc;
	size_t kept;

	log_info("reloading rules from %s", C.rules);
	if ((n = load_rules()) == NULL) {
		log_warnx("reload failed: keeping the %zu rules already running",
		    ruleset_count(rs));
		return;
	}
	if ((sc = rs_scratch_new(n)) == NULL) {
		log_warnx("reload failed: no scratch space");
		ruleset_free(n);
		return;
	}
	kept = ruleset_adopt(n, rs);
	rs_scratch_free(scratch);
	ruleset_free(rs);
	rs = n;
	scratch = sc;
	ingest_set_rules(in, rs, scratch);
	log_info("rules reloaded: %zu rules; %zu correlation windows of "
	    "unchanged rules kept", ruleset_count(rs), kept);
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
	ingest_message(in, zmq_msg_gets(&body, "User-Id"), zmq_msg_data(&ident),
	    zmq_msg_size(&ident), zmq_msg_data(&body), zmq_msg_size(&body));
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
}

static void
log_counters(struct auth *a)
{
	const struct ingest_stats *n = ingest_stats(in);

	log_info("batches %llu (duplicates %llu, out of order %llu, refused %llu, failed %llu, skipped %llu), "
	    "events %llu, alerts %llu, new incidents %llu, heartbeats %llu, "
	    "peers admitted %llu, denied %llu",
	    (unsigned long long)n->batches, (unsigned long long)n->duplicates,
	    (unsigned long long)n->gaps,
	    (unsigned long long)n->refused, (unsigned long long)n->commit_failed,
	    (unsigned long long)n->skipped,
	    (unsigned long long)n->events, (unsigned long long)n->alerts,
	    (unsigned long long)n->incidents_new, (unsigned long long)n->heartbeats,
	    (unsigned long long)auth_allowed(a), (unsigned long long)auth_denied(a));
}

enum { OPT_DB = 256, OPT_RULES, OPT_KEY, OPT_BIND, OPT_GEO_CITY, OPT_GEO_ASN };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "db", required_argument, NULL, OPT_DB },
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "bind", required_argument, NULL, OPT_BIND },
	{ "geoip-city", required_argument, NULL, OPT_GEO_CITY },
	{ "geoip-asn", required_argument, NULL, OPT_GEO_ASN },
	{ "test", no_argument, NULL, 't' },
	{ "debug", no_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void
set_opt(const char *name, const char *value)
{
	conf_set_or_die(corr_opts, name, value);
}

static void
parse_args(int argc, char **argv, int *test, int *debug)
{
	int ch;

	C.db = strdup("/var/lib/soc/soc.db");
	C.rules = strdup(SOC_DATADIR "/rules");
	C.bind = strdup("tcp://0.0.0.0:7500");
	conf_load_args(argc, argv, "c:tdhV", longopts, corr_opts);
	while ((ch = getopt_long(argc, argv, "c:tdhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': break;
		case OPT_DB: set_opt("db", optarg); break;
		case OPT_RULES: set_opt("rules", optarg); break;
		case OPT_KEY: set_opt("key", optarg); break;
		case OPT_BIND: set_opt("bind", optarg); break;
		case OPT_GEO_CITY: set_opt("geoip.city", optarg); break;
		case OPT_GEO_ASN: set_opt("geoip.asn", optarg); break;
		case 't': *test = 1; break;
		case 'd': *debug = 1; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("soc-correlator %s\n", SOC_VERSION); exit(0);
		default: usage(stderr); exit(1);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "soc-correlator: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	char err[1024], secret[41];
	void *zctx, *router;
	struct auth *auth;
	int test = 0, debug = 0, one = 1, zero = 0;
	int64_t last_expire = soc_mono_ms();

	log_init("soc-correlator", 0);
	parse_args(argc, argv, &test, &debug);
	log_setverbose(debug);
	if (C.key == NULL)
		fatalx("no key: give --key FILE (create one with `socctl keygen --out correlator`)");
	if (soc_key_load(C.key, secret, err, sizeof(err)) == -1)
		fatalx("key: %s", err);
	/* -t looks, it does not create: a missing database is only noted */
	if (test && access(C.db, F_OK) != 0)
		printf("soc-correlator: database %s does not exist yet; it will "
		    "be created at start\n", C.db);
	else if ((st = store_open(C.db, test ? 0 : STORE_CREATE, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((en = enrich_open(C.geoip_city, C.geoip_asn, err, sizeof(err))) == NULL)
		fatalx("GeoIP: %s", err);
	if ((rs = load_rules()) == NULL)
		fatalx("rules in %s did not load; nothing started", C.rules);
	if (test) {
		printf("soc-correlator: configuration OK (%zu rules, database %s)\n",
		    ruleset_count(rs), C.db);
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
	/* nothing a sensor sends is larger: a peer that tries is cut off */
	int64_t maxmsg = SOC_WIRE_MAX_BATCH;
	zmq_setsockopt(router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
	if (zmq_setsockopt(router, ZMQ_CURVE_SERVER, &one, sizeof(one)) == -1 ||
	    zmq_setsockopt(router, ZMQ_CURVE_SECRETKEY, secret, 41) == -1 ||
	    zmq_setsockopt(router, ZMQ_ZAP_DOMAIN, AUTH_DOMAIN, strlen(AUTH_DOMAIN)) == -1)
		fatalx("CURVE setup: %s (is libzmq built with libsodium?)",
		    zmq_strerror(zmq_errno()));
	if (zmq_bind(router, C.bind) == -1)
		fatalx("bind %s: %s", C.bind, zmq_strerror(zmq_errno()));
	log_info("listening on %s with %zu rules, database %s", C.bind,
	    ruleset_count(rs), C.db);

	while (!quit) {
		zmq_pollitem_t it = { router, 0, ZMQ_POLLIN, 0 };

		if (zmq_poll(&it, 1, 1000) > 0)
			on_readable(router);
		if (soc_mono_ms() - last_expire >= 10000) {
			/* frees windows nobody fed for a while (wall clock) */
			last_expire = soc_mono_ms();
			ruleset_expire(rs, soc_now_ns());
		}
		if (reload) {
			reload = 0;
			do_reload();
		}
		if (report) {
			report = 0;
			log_counters(auth);
		}
	}
	log_counters(auth);
	zmq_close(router);
	auth_stop(auth);
	zmq_ctx_term(zctx);
	ingest_free(in);
	rs_scratch_free(scratch);
	ruleset_free(rs);
	store_close(st);
	enrich_close(en);
	return 0;
}
