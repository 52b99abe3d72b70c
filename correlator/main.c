/*
 * soc-correlator: the provincial SOC's central daemon.  It binds a ZeroMQ
 * ROUTER socket with CURVE, admits only enrolled sensors (auth.c), and
 * for each batch: checks it whole, stamps every event with the agency of
 * the authenticated sensor, matches it against the Hyperscan-compiled
 * Sigma rules, aggregates alerts into incidents, records the sensor's
 * sequence number -- all in one SQLite transaction -- and only then acks.
 * A resent batch (seq <= last committed) is acked without being applied
 * again: at-least-once on the wire, exactly-once in effect.
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
#include "soc/json.h"
#include "soc/log.h"
#include "soc/util.h"
#include "soc/wire.h"
#include "soc-config.h"
#include "auth.h"
#include "enrich.h"
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

struct corr_stats {
	uint64_t	batches;
	uint64_t	duplicates;
	uint64_t	gaps;		/* batches refused: an earlier one missing */
	uint64_t	skipped;	/* batches that failed every time */
	uint64_t	refused;	/* malformed batches */
	uint64_t	unknown_peer;
	uint64_t	events;
	uint64_t	alerts;
	uint64_t	incidents_new;
	uint64_t	heartbeats;
	uint64_t	commit_failed;
};

static struct corr_conf		C;
static struct corr_stats	N;
static struct ruleset		*rs;
static struct rs_scratch	*scratch;
static struct store		*st;
static struct enrich		*en;
static volatile sig_atomic_t	quit, reload, report;
static struct soc_event		ev;
static struct soc_sbuf		evjson;

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
	log_info("rules reloaded: %zu rules; %zu correlation windows of "
	    "unchanged rules kept", ruleset_count(rs), kept);
}

struct batch_ctx {
	const struct store_sensor *sen;
	int		 failed;
};

static void
on_alert(void *arg, const struct rs_alert *a)
{
	struct batch_ctx *bc = arg;
	struct store_hit h;
	int64_t id;
	int created;

	soc_sbuf_reset(&evjson);
	soc_json_event(&evjson, a->event);
	h = (struct store_hit){
		.rule_id = rule_id(a->rule),
		.rule_title = rule_title(a->rule),
		.rule_level = rule_level(a->rule),
		.rule_author = rule_author(a->rule),
		.severity = rule_severity(a->rule),
		.agency = bc->sen->agency,
		.sensor = bc->sen->name,
		.group_key = a->group_key,
		.first_ts = a->first_ts,
		.last_ts = a->last_ts,
		.count = a->count,
		.evidence_json = evjson.oom ? NULL : evjson.data,
	};
	N.alerts++;
	if (store_incident_hit(st, &h, &id, &created) == -1) {
		bc->failed = 1;
		return;
	}
	if (created) {
		N.incidents_new++;
		log_info("incident %lld: %s [%s] agency %s %s", (long long)id,
		    h.rule_title, h.rule_level, h.agency, h.group_key);
	}
}

static void
send_ack(void *router, zmq_msg_t *ident, uint64_t seq, int kind)
{
	uint8_t ack[SOC_WIRE_ACK_LEN];

	soc_wire_ack_encode(ack, seq, (enum soc_wire_reply)kind);
	zmq_send(router, zmq_msg_data(ident), zmq_msg_size(ident), ZMQ_SNDMORE);
	zmq_send(router, ack, sizeof(ack), 0);
}

static void
apply_heartbeat(const struct store_sensor *sen, const void *data, size_t len)
{
	struct soc_wire_reader r;
	struct soc_wire_hdr hdr;
	struct soc_sbuf js;
	const char *why;
	char name[256];
	uint64_t v;
	int rc;

	if (soc_wire_open(&r, data, len, &hdr, &why) == -1)
		return;
	soc_sbuf_init(&js);
	soc_sbuf_add(&js, "{", 1);
	while ((rc = soc_wire_next_counter(&r, name, &v, &why)) == 1) {
		if (js.len > 1)
			soc_sbuf_add(&js, ",", 1);
		soc_sbuf_json_str(&js, name, strlen(name));
		soc_sbuf_printf(&js, ":%llu", (unsigned long long)v);
	}
	soc_sbuf_add(&js, "}", 1);
	if (rc == 0 && !js.oom) {
		N.heartbeats++;
		if (store_sensor_heartbeat(st, sen->name, soc_now_ns(), js.data) == -1)
			log_warnx("heartbeat of %s: %s", sen->name, store_errmsg(st));
	} else
		log_warnx("sensor %s: malformed heartbeat (%s)", sen->name, why);
	soc_sbuf_free(&js);
}

/*
 * Apply one event batch inside the open transaction, under its own
 * savepoint: 0 = applied (ack it after the commit), -1 = undone alone.
 */
static int
apply_events(const struct store_sensor *sen, const struct soc_wire_hdr *hdr,
    const void *data, size_t len)
{
	struct batch_ctx bc = { sen, 0 };
	struct soc_wire_reader r;
	struct soc_wire_hdr h2;
	const char *why;

	if (store_batch_begin(st) == -1)
		return -1;
	soc_wire_open(&r, data, len, &h2, &why);
	while (soc_wire_next_event(&r, &ev, &why) == 1) {
		/* the agency and sensor come from the key, never the event */
		soc_event_stamp(&ev, SOC_F_ORGANIZATION_ID, sen->agency);
		soc_event_stamp(&ev, SOC_F_OBSERVER_NAME, sen->name);
		enrich_event(en, &ev);
		N.events++;
		if (ruleset_match(rs, scratch, &ev, on_alert, &bc) == -1)
			bc.failed = 1;
		if (bc.failed)
			break;
	}
	if (bc.failed ||
	    store_sensor_set_seq(st, sen->name, hdr->seq, hdr->count, soc_now_ns()) == -1) {
		log_warnx("batch %llu of %s not applied (%s); the sensor will resend",
		    (unsigned long long)hdr->seq, sen->name, store_errmsg(st));
		store_batch_end(st, -1);
		N.commit_failed++;
		return -1;
	}
	return store_batch_end(st, 0);
}

/*
 * Group commit: up to GROUP_MAX waiting messages share one transaction
 * (one fsync), and their acks go out only after it commits -- including
 * acks of resends, which may repeat a batch applied earlier in the group.
 */
#define GROUP_MAX	64

struct pending_ack {
	zmq_msg_t	ident;
	uint64_t	seq;
	int		kind;		/* SOC_WIRE_ACK or SOC_WIRE_NACK */
};

static struct pending_ack	acks[GROUP_MAX];
static int			nacks;

static void
queue_reply(zmq_msg_t *ident, uint64_t seq, int kind)
{
	zmq_msg_init(&acks[nacks].ident);
	zmq_msg_copy(&acks[nacks].ident, ident);
	acks[nacks].seq = seq;
	acks[nacks].kind = kind;
	nacks++;
}

static void
queue_ack(zmq_msg_t *ident, uint64_t seq)
{
	queue_reply(ident, seq, SOC_WIRE_ACK);
}

/* A batch never applied: its number is recorded so the chain goes on. */
static void
skip_batch(zmq_msg_t *ident, const struct store_sensor *sen, uint64_t seq)
{
	if (store_batch_begin(st) == 0 &&
	    store_batch_end(st, store_sensor_set_seq(st, sen->name, seq, 0,
	    soc_now_ns())) == 0)
		queue_ack(ident, seq);
}

/*
 * Failed attempts per (sensor, batch), for the few sensors that have one
 * right now.  A batch that fails POISON_TRIES times is skipped, counted.
 */
#define POISON_TRIES	5
#define POISON_SLOTS	64
#define SEQ_FAR_BEHIND	(3600ULL * 1000000)	/* an hour of microseconds */

static struct {
	char		name[128];
	uint64_t	seq;
	int		tries;
} poison[POISON_SLOTS];

static int
poison_count(const char *name, uint64_t seq)
{
	int i, free_slot = -1;

	for (i = 0; i < POISON_SLOTS; i++) {
		if (poison[i].tries > 0 && strcmp(poison[i].name, name) == 0) {
			if (poison[i].seq != seq) {
				poison[i].seq = seq;
				poison[i].tries = 0;
			}
			return ++poison[i].tries;
		}
		if (poison[i].tries == 0 && free_slot == -1)
			free_slot = i;
	}
	if (free_slot == -1)
		free_slot = (int)(seq % POISON_SLOTS);
	snprintf(poison[free_slot].name, sizeof(poison[free_slot].name), "%s", name);
	poison[free_slot].seq = seq;
	poison[free_slot].tries = 1;
	return 1;
}

/* Handle one message if one is waiting; returns 0 when none was. */
static int
on_message(void *router, int flags, int *in_tx)
{
	zmq_msg_t ident, body;
	struct store_sensor sen;
	struct soc_wire_hdr hdr;
	struct soc_wire_reader r;
	const char *user, *why;
	size_t len;
	void *data;
	int hdr_ok;

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
	if (!*in_tx) {
		if (store_begin(st) == -1) {
			log_warnx("cannot start a transaction: %s", store_errmsg(st));
			goto out;		/* not acked: the sensor resends */
		}
		*in_tx = 1;
	}
	data = zmq_msg_data(&body);
	len = zmq_msg_size(&body);
	user = zmq_msg_gets(&body, "User-Id");
	if (user == NULL || store_sensor_by_name(st, user, &sen) != 1 || sen.revoked) {
		N.unknown_peer++;
		log_warnx("message from %s ignored: sensor unknown or revoked",
		    user ? user : "an unauthenticated peer");
		goto out;
	}
	/* a resend is recognised from the header alone, before the work of
	 * checking the whole batch: cheap under a resend storm */
	hdr_ok = soc_wire_open(&r, data, len, &hdr, &why) == 0;
	if (hdr_ok && hdr.kind == SOC_WIRE_EVENTS && hdr.seq <= sen.last_seq) {
		N.batches++;
		N.duplicates++;
		if (hdr.prev == 0 && sen.last_seq - hdr.seq > SEQ_FAR_BEHIND)
			log_warnx("sensor %s: batch %llu is far below the last one "
			    "applied (%llu) and is taken as a resend; if the "
			    "sensor's clock was set back, give it a spool or a "
			    "state file so its numbers keep growing", sen.name,
			    (unsigned long long)hdr.seq,
			    (unsigned long long)sen.last_seq);
		queue_ack(&ident, hdr.seq);
		goto out;
	}
	/* never skip over a batch lost in transit: apply in chain order
	 * (a malformed batch too must not be acked past a missing one) */
	if (hdr_ok && hdr.kind == SOC_WIRE_EVENTS && hdr.prev != 0 &&
	    hdr.prev > sen.last_seq) {
		N.gaps++;
		log_debug("sensor %s: batch %llu follows %llu, which is "
		    "missing; asking to resend after %llu", sen.name,
		    (unsigned long long)hdr.seq, (unsigned long long)hdr.prev,
		    (unsigned long long)sen.last_seq);
		queue_reply(&ident, sen.last_seq, SOC_WIRE_NACK);
		goto out;
	}
	if (soc_wire_validate(data, len, &why) == -1) {
		log_warnx("sensor %s: batch refused: %s (%zu bytes)", sen.name, why, len);
		/* recorded and acked so the sensor moves on: counted, logged */
		if (hdr_ok && hdr.kind == SOC_WIRE_EVENTS)
			skip_batch(&ident, &sen, hdr.seq);
		N.refused++;
		goto out;
	}
	if (hdr.kind == SOC_WIRE_HEARTBEAT) {
		apply_heartbeat(&sen, data, len);
		goto out;
	}
	N.batches++;
	if (hdr.prev != 0 && hdr.prev != sen.last_seq)
		log_info("sensor %s: batch %llu follows %llu, %llu was applied "
		    "last (batches dropped by the sensor's spool bound, or two "
		    "sensors sharing one key)", sen.name,
		    (unsigned long long)hdr.seq, (unsigned long long)hdr.prev,
		    (unsigned long long)sen.last_seq);
	if (apply_events(&sen, &hdr, data, len) == 0) {
		queue_ack(&ident, hdr.seq);
		goto out;
	}
	/* a batch that fails every time must not stall its sensor forever */
	if (poison_count(sen.name, hdr.seq) >= POISON_TRIES) {
		log_warnx("sensor %s: batch %llu failed %d times (%s); skipping "
		    "it so the batches behind it are not held up", sen.name,
		    (unsigned long long)hdr.seq, POISON_TRIES, store_errmsg(st));
		skip_batch(&ident, &sen, hdr.seq);
		N.skipped++;
	}
out:
	zmq_msg_close(&ident);
	zmq_msg_close(&body);
	return 1;
}

static void
on_readable(void *router)
{
	int in_tx = 0, committed = 1;

	nacks = 0;
	for (int i = 0; i < GROUP_MAX; i++)
		if (!on_message(router, i ? ZMQ_DONTWAIT : 0, &in_tx))
			break;
	if (in_tx && store_commit(st) == -1) {
		log_warnx("commit failed (%s): %d batches not acked; the sensors "
		    "will resend", store_errmsg(st), nacks);
		store_rollback(st);
		N.commit_failed++;
		committed = 0;
	}
	for (int i = 0; i < nacks; i++) {
		if (committed)
			send_ack(router, &acks[i].ident, acks[i].seq, acks[i].kind);
		zmq_msg_close(&acks[i].ident);
	}
}

static void
log_counters(struct auth *a)
{
	log_info("batches %llu (duplicates %llu, out of order %llu, refused %llu, failed %llu, skipped %llu), "
	    "events %llu, alerts %llu, new incidents %llu, heartbeats %llu, "
	    "peers admitted %llu, denied %llu",
	    (unsigned long long)N.batches, (unsigned long long)N.duplicates,
	    (unsigned long long)N.gaps,
	    (unsigned long long)N.refused, (unsigned long long)N.commit_failed,
	    (unsigned long long)N.skipped,
	    (unsigned long long)N.events, (unsigned long long)N.alerts,
	    (unsigned long long)N.incidents_new, (unsigned long long)N.heartbeats,
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
	soc_sbuf_init(&evjson);

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
	rs_scratch_free(scratch);
	ruleset_free(rs);
	store_close(st);
	enrich_close(en);
	soc_sbuf_free(&evjson);
	return 0;
}
