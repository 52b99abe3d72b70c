/*
 * soc-sensor: captures packets (libpcap) and reads logs on an agency
 * gateway, normalizes both into events, and streams them in acked batches
 * over ZeroMQ/CURVE to the provincial correlator -- or prints them as
 * JSON lines (-o json), or does all the work and discards it (-o null,
 * for benchmarks).
 *
 * Start-up order matters (after OpenBSD's daemons): parse and check the
 * config, open the capture handles and read the keys while privileged,
 * drop privileges, and only then read a packet or a log line.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "soc/log.h"
#include "soc/notify.h"
#include "soc/util.h"
#include "soc-config.h"
#include "evtx.h"
#include "intake.h"
#include "logparse.h"
#include "nxlog.h"
#include "sensor.h"

static volatile sig_atomic_t	sensor_quit;
static volatile sig_atomic_t	sensor_report;

static struct sensor	S;
static struct evtx_reader	evtx;	/* -r FILE.evtx (issue 17) */

static void	sensor_flush(struct sensor *s);
static void	sensor_release_held(struct sensor *s, int final);
static void	sensor_tick(struct sensor *s);
static void	sensor_report_counters(struct sensor *s, int final);

/* The sensor's own command-line action (the common ones are in conf.h). */
enum { ACT_ONCE = CONF_ACT_OWN };

/*
 * Every option, once: config key, bounds, default, flag and help line.
 * The getopt arrays and --help are made from this table, and
 * tests/test_options.py holds soc-sensor(8) and the example config to it.
 */
static const struct conf_opt sensor_opts[] = {
	{ .flag = "config", .letter = 'c', .arg = "FILE", .action = CONF_ACT_CONFIG,
	  .help = "YAML config (see soc-sensor(8)); flags override it" },
	{ .name = "connect", .type = CONF_STR, .dst = &S.conf.connect,
	  .flag = "connect", .arg = "ENDPOINT",
	  .help = "correlator endpoint, e.g. tcp://10.0.0.5:7500" },
	{ .name = "server_key", .type = CONF_STR, .dst = &S.conf.server_key,
	  .flag = "server-key", .arg = "KEY",
	  .help = "the correlator's public key (file or Z85 text)" },
	{ .name = "key", .type = CONF_STR, .dst = &S.conf.key,
	  .flag = "key", .arg = "FILE",
	  .help = "this sensor's secret key (from socctl keygen)" },
	{ .name = "capture.interfaces", .type = CONF_LIST,
	  .dst = &S.conf.interfaces, .flag = "interface", .letter = 'i',
	  .arg = "IFACE", .help = "capture live on IFACE (repeatable)" },
	{ .name = "capture.files", .type = CONF_LIST, .dst = &S.conf.pcaps,
	  .flag = "read", .letter = 'r', .arg = "FILE",
	  .help = "replay a pcap or EVTX file to its end, then exit (repeatable)" },
	{ .name = "logs.files", .type = CONF_LIST, .dst = &S.conf.log_files,
	  .flag = "log-file", .arg = "PATH",
	  .help = "read a log file (repeatable); followed unless --once or -r" },
	{ .flag = "once", .action = ACT_ONCE,
	  .help = "read every log file to its end, then exit" },
	{ .name = "output", .type = CONF_STR, .dst = &S.conf.output,
	  .def = "uplink", .flag = "output", .letter = 'o', .arg = "MODE",
	  .help = "json: print events as JSON lines; null: discard; uplink: send" },
	{ .name = "capture.snaplen", .type = CONF_INT, .dst = &S.conf.snaplen,
	  .min = 64, .max = 262144, .def = "65535",
	  .flag = "snaplen", .letter = 's', .arg = "N",
	  .help = "bytes kept per packet" },
	{ .name = "capture.filter", .type = CONF_STR, .dst = &S.conf.bpf,
	  .flag = "filter", .letter = 'f', .arg = "EXPR",
	  .help = "BPF filter for live capture" },
	{ .name = "capture.buffer_mb", .type = CONF_INT,
	  .dst = &S.conf.buffer_mb, .min = 1, .max = 4096, .def = "64",
	  .flag = "buffer-mb", .letter = 'B', .arg = "N",
	  .help = "kernel capture ring size in MiB" },
	{ .name = "capture.promisc", .type = CONF_BOOL, .dst = &S.conf.promisc,
	  .def = "true", .flag = "no-promisc", .letter = 'p', .value = "false",
	  .help = "do not put interfaces in promiscuous mode" },
	{ .name = "logs.timezone", .type = CONF_STR, .dst = &S.conf.timezone,
	  .flag = "timezone", .arg = "ZONE",
	  .help = "tzdata zone of log stamps that carry none (over "
	  "logs.tz_offset_min)" },
	{ .name = "name", .type = CONF_STR, .dst = &S.conf.name,
	  .flag = "name", .arg = "NAME",
	  .help = "sensor name in events (observer.name); default: host name" },
	{ .name = "spool", .type = CONF_STR, .dst = &S.conf.spool,
	  .flag = "spool", .arg = "DIR",
	  .help = "keep unacked batches on disk (survives outages and crashes)" },
	{ .flag = "test", .letter = 't', .action = CONF_ACT_TEST,
	  .help = "check the configuration and exit" },
	CONF_OPTS_COMMON,

	/* config file only */
	{ .name = "spool_max_mb", .type = CONF_INT, .dst = &S.conf.spool_max_mb,
	  .min = 1, .max = 1048576, .def = "1024",
	  .help = "spool size bound (MiB); oldest batches are dropped and counted past it" },
	{ .name = "user", .type = CONF_STR, .dst = &S.conf.user,
	  .help = "drop privileges to this user after opening captures" },
	{ .name = "flows.max", .type = CONF_INT, .dst = &S.conf.max_flows,
	  .min = 1024, .max = 100000000, .def = "262144",
	  .help = "flow table size" },
	{ .name = "flows.tcp_idle_s", .type = CONF_INT, .dst = &S.conf.tcp_idle_s,
	  .min = 1, .max = 86400, .def = "300",
	  .help = "TCP flow idle timeout" },
	{ .name = "flows.udp_idle_s", .type = CONF_INT, .dst = &S.conf.udp_idle_s,
	  .min = 1, .max = 86400, .def = "60",
	  .help = "UDP flow idle timeout" },
	{ .name = "flows.icmp_idle_s", .type = CONF_INT,
	  .dst = &S.conf.icmp_idle_s, .min = 1, .max = 86400, .def = "30",
	  .help = "ICMP flow idle timeout" },
	{ .name = "flows.active_timeout_s", .type = CONF_INT,
	  .dst = &S.conf.active_s, .min = 0, .max = 86400, .def = "120",
	  .help = "interim record for long flows (0: never)" },
	{ .name = "defrag.max_datagrams", .type = CONF_INT,
	  .dst = &S.conf.frag_max, .min = 1, .max = 1000000, .def = "64",
	  .help = "IP datagrams in reassembly at once" },
	{ .name = "defrag.timeout_s", .type = CONF_INT,
	  .dst = &S.conf.frag_timeout_s, .min = 1, .max = 600, .def = "30",
	  .help = "give up an incomplete datagram after" },
	{ .name = "streams.max_buffers", .type = CONF_INT,
	  .dst = &S.conf.stream_max, .min = 16, .max = 10000000, .def = "4096",
	  .help = "4 KB TCP stream buffers for app-layer parsing" },
	{ .name = "http.cookies", .type = CONF_BOOL, .dst = &S.conf.http_cookies,
	  .def = "false",
	  .help = "copy HTTP requests' Cookie headers into events (session "
	  "secrets: off unless rules need them)" },
	{ .name = "logs.state_file", .type = CONF_STR, .dst = &S.conf.state_file,
	  .help = "where file positions are kept across restarts" },
	{ .name = "logs.start_at", .type = CONF_STR, .dst = &S.conf.start_at,
	  .def = "beginning",
	  .help = "beginning | end: where to start in a file seen for the first time" },
	{ .name = "logs.tz_offset_min", .type = CONF_INT,
	  .dst = &S.conf.tz_offset_min, .min = -840, .max = 840,
	  .def = "420",		/* Asia/Ho_Chi_Minh, no DST */
	  .help = "zone of log stamps without one (minutes east of UTC)" },
	{ .name = "logs.max_ahead_s", .type = CONF_INT,
	  .dst = &S.conf.log_max_ahead_s, .min = 0, .max = 31622400,
	  .def = "300", .help = "a log stamp further ahead of the receive "
	  "time is kept in soc.timestamp.claimed and replaced by it" },
	{ .name = "logs.max_age_s", .type = CONF_INT,
	  .dst = &S.conf.log_max_age_s, .min = 0, .max = 3162240000LL,
	  .def = "0", .help = "the same for stamps older than this "
	  "(0: no bound, so old logs replay at their own time)" },
	{ .name = "syslog.udp", .type = CONF_LIST, .dst = &S.conf.syslog_udp,
	  .help = "listen for syslog on UDP ADDR:PORT" },
	{ .name = "syslog.tcp", .type = CONF_LIST, .dst = &S.conf.syslog_tcp,
	  .help = "listen for syslog on TCP ADDR:PORT (newline or octet-counted framing)" },
	{ .name = "syslog.zones", .type = CONF_LIST, .dst = &S.conf.syslog_zones,
	  .help = "\"MATCH ZONE\": stamps without a zone from senders in "
	  "MATCH (ADDR, ADDR/BITS or a host name glob) are in ZONE" },
	{ .name = "syslog.max_message", .type = CONF_INT,
	  .dst = &S.conf.syslog_max_message, .min = 480, .max = 1048576,
	  .def = "65536", .help = "longest syslog message kept whole" },
	{ .name = "syslog.rcvbuf_kb", .type = CONF_INT,
	  .dst = &S.conf.syslog_rcvbuf_kb, .min = 16, .max = 1048576,
	  .def = "4096", .help = "UDP receive buffer (KiB); what overflows "
	  "it is counted (syslog_udp_dropped)" },
	{ .name = "syslog.tcp_idle_s", .type = CONF_INT,
	  .dst = &S.conf.syslog_tcp_idle_s, .min = 0, .max = 86400,
	  .def = "300", .help = "close a TCP client silent this long (0: never)" },
	{ .name = "syslog.tcp_max_per_source", .type = CONF_INT,
	  .dst = &S.conf.syslog_tcp_per_source, .min = 1, .max = 256,
	  .def = "32", .help = "TCP connections one address may hold; its "
	  "longest idle one is closed for a new one" },
	{ .name = "uplink.batch_events", .type = CONF_INT,
	  .dst = &S.conf.batch_events, .min = 1, .max = 100000, .def = "1000",
	  .help = "events per batch" },
	{ .name = "uplink.batch_ms", .type = CONF_INT, .dst = &S.conf.batch_ms,
	  .min = 1, .max = 60000, .def = "500",
	  .help = "longest a batch waits before it is sent" },
	{ .name = "uplink.queue_batches", .type = CONF_INT,
	  .dst = &S.conf.queue_batches, .min = 1, .max = 1000000, .def = "256",
	  .help = "unacked batches held in memory" },
	{ .name = "uplink.ack_timeout_ms", .type = CONF_INT,
	  .dst = &S.conf.ack_timeout_ms, .min = 100, .max = 600000,
	  .def = "10000", .help = "resend when an ack is this late" },
	{ .name = "uplink.drain_timeout_s", .type = CONF_INT,
	  .dst = &S.conf.drain_timeout_s, .min = 0, .max = 86400, .def = "30",
	  .help = "at exit, wait this long for acks" },
	{ .name = "uplink.heartbeat_s", .type = CONF_INT,
	  .dst = &S.conf.heartbeat_s, .min = 1, .max = 3600, .def = "10",
	  .help = "heartbeat interval" },
	{ .name = "beats.listen", .type = CONF_STR, .dst = &S.conf.beats_listen,
	  .help = "Beats (Lumberjack v2) server on ADDR:PORT, e.g. 0.0.0.0:5044 "
	  "(Winlogbeat, Filebeat)" },
	{ .name = "beats.tls_cert", .type = CONF_STR,
	  .dst = &S.conf.beats_tls_cert,
	  .help = "Beats server certificate (PEM); with tls_key, TLS only" },
	{ .name = "beats.tls_key", .type = CONF_STR, .dst = &S.conf.beats_tls_key,
	  .help = "Beats server private key (PEM)" },
	{ .name = "beats.tls_ca", .type = CONF_STR, .dst = &S.conf.beats_tls_ca,
	  .help = "CA (PEM) that must have signed each Beat's client certificate" },
	{ .name = "beats.max_window", .type = CONF_INT,
	  .dst = &S.conf.beats_max_window, .min = 1, .max = 1000000,
	  .def = "16384", .help = "events one window may announce; more is "
	  "refused (beats_refused_window_size)" },
	{ .name = "beats.max_frame_kb", .type = CONF_INT,
	  .dst = &S.conf.beats_max_frame_kb, .min = 64, .max = 1048576,
	  .def = "32768", .help = "longest frame, also once inflated (KiB)" },
	{ .name = "beats.max_connections", .type = CONF_INT,
	  .dst = &S.conf.beats_max_conns, .min = 1, .max = 1000000,
	  .def = "10000", .help = "Beats clients connected at once" },
	{ .name = "beats.idle_s", .type = CONF_INT, .dst = &S.conf.beats_idle_s,
	  .min = 0, .max = 86400, .def = "300",
	  .help = "close a Beats client silent this long (0: never)" },
	{ .name = "beats.max_buffer_mb", .type = CONF_INT,
	  .dst = &S.conf.beats_max_buffer_mb, .min = 1, .max = 1048576,
	  .def = "256", .help = "input buffers of all Beats clients together "
	  "(MiB); a client past it is not read until room frees" },
	{ .name = "beats.workers", .type = CONF_INT,
	  .dst = &S.conf.beats_workers, .min = 0, .max = 64, .def = "2",
	  .help = "threads that inflate and read compressed Beats frames, "
	  "each client's in order (0: the main thread)" },
	{ .name = NULL },
};

/* The table's defaults; the name's is the host's, known only at run time. */
static void
defaults(void)
{
	char host[256], err[512];

	if (conf_defaults(sensor_opts, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (gethostname(host, sizeof(host)) == -1)
		strcpy(host, "sensor");
	host[sizeof(host) - 1] = '\0';
	S.conf.name = strdup(host);
}

static void
usage(FILE *f)
{
	conf_synopsis(f, "soc-sensor", sensor_opts);
	fprintf(f, "\n"
"Captures packets and reads logs, normalizes them into events and sends\n"
"them to the correlator (or prints them).\n"
"\n");
	conf_usage(f, sensor_opts);
	fprintf(f, "\n"
"Exit status: 0 done, 1 bad usage or config, 2 input error, 3 batches left unacked.\n"
"Counters are logged on SIGUSR1 and at exit.\n");
}

/* The sensor's own flag: --once. */
static void
own_action(int act)
{
	if (act == ACT_ONCE)
		S.conf.once = 1;
}

/*
 * A zone name (Asia/Ho_Chi_Minh) becomes the offset of its time now: the
 * stamps it serves (RFC 3164, error logs) carry no zone.  Zones that
 * change offset (DST) are taken at today's offset; Vietnam has none.
 * Returns -1 when there is no such zone.
 */
static int
zone_offset(const char *zone, int32_t *off)
{
	char path[512], *old, *save = NULL;
	time_t now = time(NULL);
	struct tm tm;

	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
	if (zone[0] == '\0' || zone[0] == '/' || strstr(zone, "..") ||
	    access(path, R_OK) != 0)
		return -1;
	if ((old = getenv("TZ")) != NULL && (save = strdup(old)) == NULL)
		return -1;
	setenv("TZ", zone, 1);
	tzset();
	localtime_r(&now, &tm);
	*off = (int32_t)tm.tm_gmtoff;
	if (save != NULL) {
		setenv("TZ", save, 1);
		free(save);
	} else
		unsetenv("TZ");
	tzset();
	return 0;
}

static void
resolve_timezone(void)
{
	int32_t off;

	if (S.conf.timezone == NULL)
		return;
	if (zone_offset(S.conf.timezone, &off) == -1)
		fatalx("timezone \"%s\": no such zone in /usr/share/zoneinfo "
		    "(use a name like Asia/Ho_Chi_Minh, or logs.tz_offset_min)",
		    S.conf.timezone);
	S.conf.tz_offset_min = off / 60;
}

/* syslog.zones: "MATCH ZONE" rules, in order. */
static void
resolve_zones(void)
{
	const struct conf_list *l = &S.conf.syslog_zones;
	char match[256], err[512];
	const char *sp, *zone;
	int32_t off;

	if (l->n == 0)
		return;
	if ((S.zones = logzones_new()) == NULL)
		fatalx("syslog.zones: out of memory");
	for (size_t i = 0; i < l->n; i++) {
		sp = strchr(l->v[i], ' ');
		if (sp == NULL || (size_t)(sp - l->v[i]) >= sizeof(match))
			fatalx("syslog.zones \"%s\": use \"MATCH ZONE\", e.g. "
			    "\"10.1.0.0/16 UTC\" or \"web-*.example.vn "
			    "Asia/Bangkok\"", l->v[i]);
		memcpy(match, l->v[i], (size_t)(sp - l->v[i]));
		match[sp - l->v[i]] = '\0';
		for (zone = sp; *zone == ' '; zone++)
			;
		if (zone_offset(zone, &off) == -1)
			fatalx("syslog.zones \"%s\": no zone \"%s\" in "
			    "/usr/share/zoneinfo", l->v[i], zone);
		if (logzones_add(S.zones, match, off, err, sizeof(err)) == -1)
			fatalx("syslog.zones \"%s\": %s", l->v[i], err);
	}
}

/* Resolve key arguments to Z85 text and check what the mode needs. */
static void
check_conf(void)
{
	char key[41], err[1024];

	resolve_timezone();
	resolve_zones();
	if (strcmp(S.conf.output, "json") == 0)
		S.out = OUT_JSON;
	else if (strcmp(S.conf.output, "null") == 0)
		S.out = OUT_NULL;
	else if (strcmp(S.conf.output, "uplink") == 0)
		S.out = OUT_UPLINK;
	else
		fatalx("output \"%s\": use json, null or uplink", S.conf.output);
	if (S.conf.interfaces.n == 0 && S.conf.pcaps.n == 0 &&
	    S.conf.log_files.n == 0 && S.conf.syslog_udp.n == 0 &&
	    S.conf.syslog_tcp.n == 0 && S.conf.beats_listen == NULL)
		fatalx("nothing to read: give -i IFACE, -r FILE, --log-file PATH "
		    "or syslog or beats listeners in the config");
	if (S.out != OUT_UPLINK)
		return;
	if (S.conf.connect == NULL)
		fatalx("no correlator: give --connect tcp://HOST:PORT (or -o json)");
	if (S.conf.server_key == NULL || S.conf.key == NULL)
		fatalx("CURVE keys needed: --server-key (the correlator's .pub) "
		    "and --key (this sensor's .key, from `socctl keygen`)");
	if (soc_key_load(S.conf.server_key, key, err, sizeof(err)) == -1)
		fatalx("server key: %s", err);
	free(S.conf.server_key);
	S.conf.server_key = strdup(key);
	if (soc_key_load_secret(S.conf.key, key, err, sizeof(err)) == -1)
		fatalx("key: %s", err);
	free(S.conf.key);
	S.conf.key = strdup(key);
}

static void
drop_user(void)
{
	struct passwd *pw;

	if ((pw = getpwnam(S.conf.user)) == NULL)
		fatalx("user \"%s\" does not exist", S.conf.user);
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("cannot drop privileges to %s", S.conf.user);
	log_info("running as %s", S.conf.user);
}

/*
 * With the capture handles open, nothing else needs a capability: clear
 * the ambient set and the effective/permitted/inheritable sets (systemd
 * grants CAP_NET_RAW for pcap_activate only), then change user if asked.
 */
static void
drop_privileges(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (S.conf.user != NULL && *S.conf.user != '\0')
		drop_user();
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) == -1)
		log_warn("cannot clear capabilities");
}

/* Every event from every intake comes through here. */
static void
sensor_emit(void *arg, struct soc_event *ev)
{
	struct sensor *s = arg;

	s->c.events++;
	if (s->conf.name != NULL && !soc_event_has(ev, SOC_F_OBSERVER_NAME))
		soc_event_set_cstr(ev, SOC_F_OBSERVER_NAME, s->conf.name);
	if (s->out == OUT_JSON) {
		soc_sbuf_reset(&s->json);
		soc_json_event(&s->json, ev);
		soc_sbuf_add(&s->json, "\n", 1);
		fwrite(s->json.data, 1, s->json.len, s->jsonout);
		return;
	}
	/* null still encodes, so benchmarks measure the whole pipeline */
	if (s->batch.count == 0)
		s->batch_started = soc_mono_ms();
	if (soc_wire_add_event(&s->batch, ev) == -1)
		s->c.encode_failed++;
	/* bounded in bytes too: events can be 16 KiB, the wire takes 8 MiB */
	if (s->batch.count >= (uint32_t)s->conf.batch_events ||
	    s->batch.len >= SOC_WIRE_MAX_BATCH / 2)
		sensor_flush(s);
}

/*
 * A log's stamp is whatever its writer claims: one line stamped a century
 * ahead would hold a correlation window open for as long.  Outside
 * logs.max_ahead_s / logs.max_age_s of the receive time it is kept as
 * soc.timestamp.claimed, @timestamp becomes the receive time, and the
 * event is counted (log_time_clamped).
 */
static void
sensor_bound_time(struct sensor *s, struct soc_event *ev)
{
	if (soc_event_bound_time(ev, soc_now_ns(),
	    s->conf.log_max_ahead_s * SOC_NS, s->conf.log_max_age_s * SOC_NS))
		s->c.time_clamped++;
}

/* Log-file lines go in batches like any event, marked as being there. */
static void
sensor_emit_log(void *arg, struct soc_event *ev)
{
	struct sensor *s = arg;

	sensor_bound_time(s, ev);
	s->batch_logs = 1;	/* before: sensor_emit() may flush */
	sensor_emit(s, ev);
}

/* Syslog messages: their stamps are bounded like a file's lines. */
static void
sensor_emit_syslog(void *arg, struct soc_event *ev)
{
	struct sensor *s = arg;

	sensor_bound_time(s, ev);
	sensor_emit(s, ev);
}

/*
 * Beats events go in batches of their own, so the server learns which
 * batch took each window and acks it once that batch is durable: JSON
 * flushed, null at once, the uplink once it is spooled or acked.
 */
static void	sensor_flush_beats(struct sensor *s);

static void
sensor_emit_beats(void *arg, struct soc_event *ev)
{
	struct sensor *s = arg;

	if (s->out == OUT_JSON) {
		sensor_emit(s, ev);
		return;
	}
	s->c.events++;
	if (s->conf.name != NULL && !soc_event_has(ev, SOC_F_OBSERVER_NAME))
		soc_event_set_cstr(ev, SOC_F_OBSERVER_NAME, s->conf.name);
	if (soc_wire_add_event(&s->bbatch, ev) == -1)
		s->c.encode_failed++;
	if (s->bbatch.count >= (uint32_t)s->conf.batch_events ||
	    s->bbatch.len >= SOC_WIRE_MAX_BATCH / 2)
		sensor_flush_beats(s);
}

/*
 * An event a Beats worker read and encoded (beats.c), in its client's
 * order: appended to the batch as it is; JSON output decodes it back.
 */
static void
sensor_emit_beats_rec(void *arg, const uint8_t *rec, size_t len)
{
	static struct soc_event ev;
	struct sensor *s = arg;
	struct soc_wire_reader r = { .p = rec, .left = len, .remaining = 1,
	    .kind = SOC_WIRE_EVENTS };
	const char *why;

	if (s->out == OUT_JSON) {
		if (soc_wire_next_event(&r, &ev, &why) == 1)
			sensor_emit(s, &ev);
		else
			s->c.encode_failed++;
		return;
	}
	s->c.events++;
	if (soc_wire_add_record(&s->bbatch, rec, len) == -1)
		s->c.encode_failed++;
	if (s->bbatch.count >= (uint32_t)s->conf.batch_events ||
	    s->bbatch.len >= SOC_WIRE_MAX_BATCH / 2)
		sensor_flush_beats(s);
}

/* Hands the Beats batch on and tells the server where it went. */
static void
sensor_flush_beats(struct sensor *s)
{
	uint64_t mark;
	int ok = 1;

	if (s->beats == NULL)
		return;
	if (s->out == OUT_UPLINK) {
		if (s->bbatch.count > 0)
			ok = uplink_submit(s->up, s->bbatch.data, s->bbatch.len,
			    NULL, 0) == 0;
		mark = uplink_submitted(s->up);
	} else {
		if (s->out == OUT_JSON)
			fflush(s->jsonout);
		mark = ++s->beats_mark;
	}
	beats_handed_on(s->beats, mark, ok);
	soc_wire_begin(&s->bbatch, SOC_WIRE_EVENTS, 0);
	if (s->out != OUT_UPLINK)
		beats_durable(s->beats, mark, 0);
}

/* What the uplink has made durable: the Beats acks now due. */
static void
sensor_beats_acks(struct sensor *s)
{
	uint64_t durable, lost;

	if (s->beats == NULL || s->out != OUT_UPLINK || !beats_waiting(s->beats))
		return;
	uplink_durable(s->up, &durable, &lost);
	beats_durable(s->beats, durable, lost);
}

/*
 * Log lines were dropped (a replay told to stop while waiting, or a held
 * batch at exit): any later checkpoint would pass them, so none is saved
 * again in this run; a restart reads them again from the last saved one.
 */
static void
sensor_positions_lost(struct sensor *s)
{
	if (!s->following || s->positions_lost)
		return;
	s->positions_lost = 1;
	log_warnx("log lines were dropped on the way to the uplink: positions "
	    "are no longer saved, those lines are read again at the next start");
}

/*
 * Live mode, no room in the uplink for a batch with log-file lines: keep
 * it (the buffers swap, nothing is copied) with its checkpoint, and stop
 * reading the files; the lines after it stay in them.
 */
static void
sensor_hold(struct sensor *s, const char *cp, size_t cp_len)
{
	struct soc_wbuf t = s->held;
	char *n;

	if (cp_len > s->held_cp_cap) {
		if ((n = realloc(s->held_cp, cp_len)) == NULL)
			cp_len = 0;	/* sent without: saved later */
		else {
			s->held_cp = n;
			s->held_cp_cap = cp_len;
		}
	}
	if (cp_len > 0)
		memcpy(s->held_cp, cp, cp_len);
	s->held_cp_len = cp_len;
	s->held = s->batch;
	s->batch = t;
	logfile_pause(s->logs, 1);
	log_debug("uplink full: log files paused");
}

/* The held batch, offered again; with final, it goes or is dropped. */
static void
sensor_release_held(struct sensor *s, int final)
{
	if (s->held.count == 0)
		return;
	if (uplink_offer(s->up, s->held.data, s->held.len, s->held_cp,
	    s->held_cp_len) == -1) {
		if (!final)
			return;
		if (uplink_submit(s->up, s->held.data, s->held.len, s->held_cp,
		    s->held_cp_len) == -1)
			sensor_positions_lost(s);
	}
	s->held.count = 0;
	s->held.len = 0;
	logfile_pause(s->logs, 0);
	log_debug("uplink has room: log files resumed");
}

/*
 * Hands the open batch on.  Its checkpoint names the positions after the
 * last line emitted, all of them in this batch or before it.  Live mode
 * never drops a batch with log-file lines (it is held, and the files
 * paused, until the uplink has room); batches of packets and syslog
 * messages behind a held one go without a checkpoint if there is room,
 * else are dropped and counted.
 */
static void
sensor_flush(struct sensor *s)
{
	static char *cp;
	static size_t cap;
	size_t cp_len = 0;
	char *n;

	if (s->batch.count > 0 && s->out == OUT_UPLINK) {
		sensor_release_held(s, 0);	/* it goes first */
		/* the positions travel with the batch: saved once it is safe;
		 * the buffer grows with the number of followed files */
		while (s->following && !s->positions_lost &&
		    (cp_len = logfile_checkpoint(s->logs, cp, cap)) == 0 &&
		    (n = realloc(cp, cap ? cap * 2 : 65536)) != NULL) {
			cp = n;
			cap = cap ? cap * 2 : 65536;
		}
		if (s->held.count > 0) {
			if (uplink_submit(s->up, s->batch.data, s->batch.len,
			    NULL, 0) == -1 && s->batch_logs)
				sensor_positions_lost(s);
		} else if (s->batch_logs && !uplink_waits(s->up)) {
			if (uplink_offer(s->up, s->batch.data, s->batch.len, cp,
			    cp_len) == -1)
				sensor_hold(s, cp, cp_len);
		} else if (uplink_submit(s->up, s->batch.data, s->batch.len, cp,
		    cp_len) == -1 && s->batch_logs)
			sensor_positions_lost(s);
	}
	s->batch_logs = 0;
	soc_wire_begin(&s->batch, SOC_WIRE_EVENTS, 0);
}

/*
 * Every counter the sensor reports, in one table: heartbeats carry them
 * all to the correlator (`socctl sensors`), SIGUSR1 and exit log them.
 */
#define PS(f)	{ #f, offsetof(struct pkt_stats, f) }
static const struct {
	const char	*name;
	size_t		 off;
} pkt_counters[] = {
	PS(packets), PS(bytes), PS(truncated), PS(malformed), PS(unsupported),
	PS(fragments), PS(frag_reassembled), PS(frag_timeouts), PS(frag_evicted),
	PS(frag_bad), PS(anomalies), PS(flows_created), PS(flows_emitted),
	PS(flows_evicted), PS(flows_interim), PS(dns_events), PS(dns_malformed),
	PS(http_events), PS(tls_events), PS(tls_malformed), PS(x509_events),
	PS(x509_malformed), PS(x509_truncated), PS(ssh_events),
	PS(stream_exhausted), PS(stream_overflow), PS(stream_ooo),
	PS(stream_dropped),
};
#undef PS

struct counter {
	const char	*name;
	uint64_t	 value;
};

#define MAX_COUNTERS	128

static size_t
collect_counters(struct sensor *s, struct counter *c)
{
	static const struct pkt_stats none;
	const struct pkt_stats *ps = capture_pkt_stats(s->cap);
	struct logfile_stats ls;
	struct syslogd_stats sy;
	struct beats_stats bs;
	struct nxlog_stats nx;
	uint64_t kdrop, ifdrop;
	size_t n = 0;

	if (ps == NULL)
		ps = &none;
	capture_drops(s->cap, &kdrop, &ifdrop);
	logfile_stats(s->logs, &ls);
	if (s->syslogd != NULL)
		syslogd_stats(s->syslogd, &sy);
	else
		sy = s->syslog_last;
	c[n++] = (struct counter){ "events", s->c.events };
	c[n++] = (struct counter){ "log_lines", ls.lines };
	c[n++] = (struct counter){ "kernel_dropped", kdrop };
	c[n++] = (struct counter){ "iface_dropped", ifdrop };
	c[n++] = (struct counter){ "encode_failed", s->c.encode_failed };
	c[n++] = (struct counter){ "log_files_failed", ls.files_failed };
	c[n++] = (struct counter){ "log_lines_cut", ls.pieces };
	c[n++] = (struct counter){ "log_links_refused", ls.links_refused };
	c[n++] = (struct counter){ "log_time_clamped", s->c.time_clamped };
	c[n++] = (struct counter){ "syslog_udp", sy.udp };
	c[n++] = (struct counter){ "syslog_tcp", sy.tcp };
	c[n++] = (struct counter){ "syslog_truncated", sy.truncated };
	c[n++] = (struct counter){ "syslog_udp_dropped", sy.udp_dropped };
	c[n++] = (struct counter){ "syslog_tcp_rejected", sy.tcp_rejected };
	c[n++] = (struct counter){ "syslog_tcp_idle_closed", sy.tcp_idle_closed };
	c[n++] = (struct counter){ "syslog_tcp_evicted", sy.tcp_evicted };
	c[n++] = (struct counter){ "syslog_tcp_evicted_senders",
	    sy.tcp_evicted_senders };
	c[n++] = (struct counter){ "syslog_zone_suspect", sy.zone_suspect };
	c[n++] = (struct counter){ "syslog_tcp_refused_own", sy.tcp_refused_own };
	c[n++] = (struct counter){ "syslog_tcp_evicted_hogs", sy.tcp_evicted_hogs };
	c[n++] = (struct counter){ "syslog_tcp_rejected_15m", sy.tcp_rejected_15m };
	c[n++] = (struct counter){ "syslog_tcp_evicted_senders_15m",
	    sy.tcp_evicted_senders_15m };
	c[n++] = (struct counter){ "evtx_records", evtx.st.records };
	c[n++] = (struct counter){ "evtx_recovered", evtx.st.recovered };
	c[n++] = (struct counter){ "evtx_recovered_dup", evtx.st.recovered_dup };
	c[n++] = (struct counter){ "evtx_recovered_bad", evtx.st.recovered_bad };
	c[n++] = (struct counter){ "evtx_unreadable", evtx.st.unreadable };
	c[n++] = (struct counter){ "evtx_corrupt_files", evtx.st.corrupt_files };
	c[n++] = (struct counter){ "evtx_truncated_files", evtx.st.truncated_files };
	c[n++] = (struct counter){ "winlog_xml_errors", evtx.st.xml_errors };
	c[n++] = (struct counter){ "winlog_bad_utf8", evtx.st.bad_utf8 };
	c[n++] = (struct counter){ "winlog_bad_utf16", evtx.st.bad_utf16 };
	c[n++] = (struct counter){ "winlog_names_refused", evtx.st.names_refused };
	c[n++] = (struct counter){ "winlog_values_cut", evtx.st.values_cut };
	{
		struct auditd_stats a = ls.audit;

		auditd_stats_add(&a, &sy.audit);
		c[n++] = (struct counter){ "auditd_records", a.records };
		c[n++] = (struct counter){ "auditd_events", a.events };
		c[n++] = (struct counter){ "auditd_malformed", a.malformed };
		c[n++] = (struct counter){ "auditd_cut", a.cut };
		c[n++] = (struct counter){ "auditd_dropped", a.dropped };
		c[n++] = (struct counter){ "auditd_evicted", a.evicted };
		c[n++] = (struct counter){ "auditd_incomplete", a.incomplete };
		c[n++] = (struct counter){ "auditd_timed_out", a.timed_out };
		c[n++] = (struct counter){ "auditd_open", a.open };
	}
	nxlog_stats_get(&nx);
	c[n++] = (struct counter){ "nxlog_events", nx.events };
	c[n++] = (struct counter){ "nxlog_refused", nx.refused };
	c[n++] = (struct counter){ "nxlog_names_skipped", nx.names_skipped };
	c[n++] = (struct counter){ "nxlog_nested_skipped", nx.nested_skipped };
	c[n++] = (struct counter){ "nxlog_values_cut", nx.values_cut };
	if (s->beats != NULL)
		beats_stats(s->beats, &bs);
	else
		bs = s->beats_last;
	c[n++] = (struct counter){ "beats_connections", bs.connections };
	c[n++] = (struct counter){ "beats_open", bs.open };
	c[n++] = (struct counter){ "beats_frames", bs.frames };
	c[n++] = (struct counter){ "beats_windows", bs.windows };
	c[n++] = (struct counter){ "beats_events", bs.events };
	c[n++] = (struct counter){ "beats_acks", bs.acks };
	c[n++] = (struct counter){ "beats_compressed", bs.compressed };
	c[n++] = (struct counter){ "beats_legacy", bs.legacy };
	c[n++] = (struct counter){ "beats_idle_closed", bs.idle_closed };
	c[n++] = (struct counter){ "beats_keepalives", bs.keepalives };
	c[n++] = (struct counter){ "beats_buffer_waits", bs.buffer_waits };
	c[n++] = (struct counter){ "beats_buffer_bytes", bs.buffer_bytes };
	for (int r = 0; r < BEATS_R_COUNT; r++) {
		static char names[BEATS_R_COUNT][48];

		snprintf(names[r], sizeof(names[r]), "beats_refused_%s",
		    beats_reason_name(r));
		c[n++] = (struct counter){ names[r], bs.refused[r] };
	}
	for (size_t i = 0; i < sizeof(pkt_counters) / sizeof(pkt_counters[0]); i++)
		c[n++] = (struct counter){ pkt_counters[i].name,
		    *(const uint64_t *)((const char *)ps + pkt_counters[i].off) };
	return n;
}

static void
send_heartbeat(struct sensor *s)
{
	struct counter c[MAX_COUNTERS];
	struct soc_wbuf hb;
	size_t n = collect_counters(s, c);

	soc_wbuf_init(&hb);
	soc_wire_begin(&hb, SOC_WIRE_HEARTBEAT, 0);
	for (size_t i = 0; i < n; i++)
		soc_wire_add_counter(&hb, c[i].name, c[i].value);
	uplink_counters(s->up, &hb);
	uplink_submit(s->up, hb.data, hb.len, NULL, 0);
	soc_wbuf_free(&hb);
}

/* Timers: batches, heartbeats, reports. */
static void
sensor_tick(struct sensor *s)
{
	static int64_t last_hb, last_out;
	int64_t now = soc_mono_ms();

	sensor_release_held(s, 0);	/* resumes the log files */
	if (s->out == OUT_JSON && now - last_out >= 250) {
		last_out = now;
		fflush(s->jsonout);	/* a reader sees events as they come */
	}
	if (s->batch.count > 0 && now - s->batch_started >= s->conf.batch_ms)
		sensor_flush(s);
	if (s->out == OUT_UPLINK && now - last_hb >= s->conf.heartbeat_s * 1000) {
		last_hb = now;
		send_heartbeat(s);
	}
	if (sensor_report) {
		sensor_report = 0;
		sensor_report_counters(s, 0);
	}
}

static void
sensor_report_counters(struct sensor *s, int final)
{
	struct counter c[MAX_COUNTERS];
	size_t n = collect_counters(s, c), len = 0;
	char line[4096];

	/* one line; zero counters are left out to keep it readable */
	for (size_t i = 0; i < n && len < sizeof(line); i++)
		if (c[i].value != 0 || i < 4)
			len += (size_t)snprintf(line + len, sizeof(line) - len,
			    "%s%s %llu", len ? ", " : "", c[i].name,
			    (unsigned long long)c[i].value);
	log_info("counters: %s", line);
	if (s->up != NULL && !final)
		uplink_log_counters(s->up);
	if (s->syslogd != NULL)
		syslogd_log_counters(s->syslogd);
}

/*
 * The live loop: capture handles, syslog listeners and the log files'
 * inotify descriptor in one poll; timers for flow expiry, log polling
 * (the fallback when inotify misses something) and batches.
 */
#define SENSOR_MAX_POLL	1024

/* JSON lines are for people and scripts watching: no stdio delay. */
static void
sensor_flush_json(struct sensor *s)
{
	if (s->out == OUT_JSON && s->jsonout != NULL)
		fflush(s->jsonout);
}

/*
 * Log positions are saved here only when emitted means delivered (JSON
 * flushed, or null); sending to a correlator, the uplink saves them once
 * the lines are spooled or acked, never before (uplink.c).
 */
static void
sensor_save_positions(struct sensor *s)
{
	if (s->out != OUT_UPLINK)
		logfile_save_positions(s->logs);
}

static void
sensor_run(struct sensor *s)
{
	static struct pollfd pfd[SENSOR_MAX_POLL];
	int64_t last_poll = 0, now;
	int n, ifd, nsd, paused;

	while (!sensor_quit) {
		n = capture_pollfds(s->cap, pfd, SENSOR_MAX_POLL);
		/* paused log files: their events wait (-1: not polled), and
		 * the held batch is offered again soon */
		paused = logfile_paused(s->logs);
		ifd = paused ? -1 : logfile_fd(s->logs);
		pfd[n] = (struct pollfd){ .fd = ifd, .events = POLLIN };
		nsd = s->syslogd ? syslogd_pollfds(s->syslogd, pfd + n + 1,
		    SENSOR_MAX_POLL - n - 2) : 0;
		pfd[n + 1 + nsd] = (struct pollfd){ .fd = s->beats ?
		    beats_fd(s->beats) : -1, .events = POLLIN };
		/* windows waiting for the uplink: look again soon */
		if (poll(pfd, (nfds_t)(n + 2 + nsd), paused ? 20 : s->beats &&
		    beats_waiting(s->beats) ? 5 : 250) == -1 && errno != EINTR)
			fatal("poll");
		capture_dispatch(s->cap);
		if (s->syslogd && syslogd_dispatch(s->syslogd, pfd + n + 1, nsd))
			sensor_flush_json(s);
		if (s->beats != NULL) {
			/* always: it also closes idle clients */
			beats_dispatch(s->beats);
			if (beats_waiting(s->beats))
				sensor_flush_beats(s);
			sensor_beats_acks(s);
		}
		now = soc_mono_ms();
		if ((ifd != -1 && (pfd[n].revents & POLLIN)) || now - last_poll >= 250) {
			if (now - last_poll >= 250)
				capture_expire(s->cap, soc_now_ns());
			last_poll = now;
			if (logfile_poll(s->logs)) {
				sensor_flush_json(s);	/* emitted means written */
				sensor_save_positions(s);
			}
		}
		sensor_tick(s);
		soc_notify_watchdog();
	}
}

static void
tick_cb(void *arg)
{
	sensor_tick(arg);
}

static void
save_cb(void *arg, const char *cp, size_t len)
{
	logfile_save(arg, cp, len);
}

static void
open_intake(struct sensor *s)
{
	struct capture_conf cc = {
		.interfaces = &s->conf.interfaces,
		.bpf = s->conf.bpf,
		.snaplen = (int)s->conf.snaplen,
		.promisc = (int)s->conf.promisc,
		.buffer_mb = (int)s->conf.buffer_mb,
		.stop = &sensor_quit,
	};
	struct logfile_conf lc = {
		.files = &s->conf.log_files,
		.state_file = s->conf.state_file,
		.start_at = s->conf.start_at,
		.tz_offset_sec = (int32_t)(s->conf.tz_offset_min * 60),
		.zones = s->zones,
	};
	struct syslogd_conf sc = {
		.udp = &s->conf.syslog_udp,
		.tcp = &s->conf.syslog_tcp,
		.max_message = (size_t)s->conf.syslog_max_message,
		.tz_offset_sec = (int32_t)(s->conf.tz_offset_min * 60),
		.rcvbuf_kb = s->conf.syslog_rcvbuf_kb,
		.tcp_idle_s = s->conf.syslog_tcp_idle_s,
		.tcp_max_per_source = (size_t)s->conf.syslog_tcp_per_source,
		.zones = s->zones,
	};
	struct beats_conf bc = {
		.listen = s->conf.beats_listen,
		.tls_cert = s->conf.beats_tls_cert,
		.tls_key = s->conf.beats_tls_key,
		.tls_ca = s->conf.beats_tls_ca,
		.max_frame = (size_t)s->conf.beats_max_frame_kb << 10,
		.max_window = (uint32_t)s->conf.beats_max_window,
		.max_conns = (size_t)s->conf.beats_max_conns,
		.idle_s = s->conf.beats_idle_s,
		.max_buffer = (size_t)s->conf.beats_max_buffer_mb << 20,
		.workers = (unsigned)s->conf.beats_workers,
		.rec = sensor_emit_beats_rec,
		.observer = s->conf.name,
	};
	struct pkt_config pc = { 0 };
	char err[1024];

	pc.max_flows = (uint32_t)s->conf.max_flows;
	pc.tcp_idle_ns = s->conf.tcp_idle_s * SOC_NS;
	pc.udp_idle_ns = s->conf.udp_idle_s * SOC_NS;
	pc.icmp_idle_ns = s->conf.icmp_idle_s * SOC_NS;
	pc.active_ns = s->conf.active_s > 0 ? s->conf.active_s * SOC_NS : -1;
	pc.frag_max = (uint32_t)s->conf.frag_max;
	pc.frag_timeout_ns = s->conf.frag_timeout_s * SOC_NS;
	pc.stream_max = (uint32_t)s->conf.stream_max;
	pc.http_cookies = s->conf.http_cookies;
	/* the flow table and stream pools only when packets will come */
	if ((s->conf.interfaces.n > 0 || s->conf.pcaps.n > 0) &&
	    (s->cap = capture_open(&cc, &pc, sensor_emit, tick_cb, s)) == NULL)
		fatalx("cannot open the capture interfaces");
	/* listeners may need a privileged port: before the drop */
	if ((s->syslogd = syslogd_open(&sc, sensor_emit_syslog, s, err,
	    sizeof(err))) == NULL && err[0] != '\0')
		fatalx("%s", err);
	/* keys are read while privileged */
	if ((s->beats = beats_open(&bc, sensor_emit_beats, s, err,
	    sizeof(err))) == NULL && err[0] != '\0')
		fatalx("%s", err);
	/* before the uplink, which may save positions from the spool */
	if ((s->logs = logfile_open(&lc, sensor_emit_log, tick_cb, s)) == NULL)
		fatalx("log files: out of memory");
}

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		sensor_report = 1;
	else
		sensor_quit = 1;
}

int
main(int argc, char **argv)
{
	uplink_save_fn save = NULL;
	int test = 0, debug = 0, rc = 0, replay, refused;
	char err[1024];
	uint64_t left;

	log_init("soc-sensor", 0);
	defaults();
	conf_parse_args(sensor_opts, argc, argv, "soc-sensor", SOC_VERSION, usage,
	    own_action, &test, &debug);
	log_setverbose(debug);
	check_conf();
	if (test) {
		printf("soc-sensor: configuration OK (%zu interfaces, %zu pcap "
		    "files, %zu log files, output %s)\n", S.conf.interfaces.n,
		    S.conf.pcaps.n, S.conf.log_files.n, S.conf.output);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);

	soc_sbuf_init(&S.json);
	soc_wbuf_init(&S.batch);
	soc_wire_begin(&S.batch, SOC_WIRE_EVENTS, 0);
	soc_wbuf_init(&S.bbatch);
	soc_wire_begin(&S.bbatch, SOC_WIRE_EVENTS, 0);
	S.jsonout = stdout;
	open_intake(&S);
	drop_privileges();
	/* the uplink first: a spool may hold newer log positions; it saves
	 * them only when log files are followed */
	if (S.conf.state_file != NULL && !S.conf.once && S.conf.pcaps.n == 0)
		save = save_cb;
	if (S.out == OUT_UPLINK && (S.up = uplink_start(&S.conf, save, S.logs,
	    &sensor_quit, err, sizeof(err))) == NULL)
		fatalx("%s", err);

	/* replay: pcaps and logs are read to their end, then we exit */
	replay = S.conf.once || (S.conf.pcaps.n > 0 && S.conf.interfaces.n == 0);
	S.following = !replay && S.conf.log_files.n > 0;
	evtx.emit = sensor_emit;
	evtx.tick = tick_cb;
	evtx.arg = &S;
	evtx.stop = &sensor_quit;
	for (size_t i = 0; i < S.conf.pcaps.n && !sensor_quit; i++)
		if (evtx_is_file(S.conf.pcaps.v[i]) ?
		    evtx_read_file(&evtx, S.conf.pcaps.v[i]) == -1 :
		    capture_read_file(S.cap, S.conf.pcaps.v[i]) == -1)
			rc = 2;
	if (replay) {
		for (size_t i = 0; i < S.conf.log_files.n && !sensor_quit; i++)
			if (logfile_read_once(S.logs, S.conf.log_files.v[i]) == -1)
				rc = 2;
	} else {
		logfile_follow(S.logs);
		soc_notify("READY=1");	/* intake open, uplink started */
		sensor_run(&S);
		sensor_flush_json(&S);
		sensor_save_positions(&S);
	}
	if (S.beats != NULL) {
		/* what was taken goes on; unacked windows are sent again */
		sensor_flush_beats(&S);
		beats_stats(S.beats, &S.beats_last);
		beats_close(S.beats);
		S.beats = NULL;
	}
	if (S.syslogd != NULL) {
		/* emits what TCP clients left unterminated; the final
		 * heartbeat still reports the counters */
		syslogd_close(S.syslogd, &S.syslog_last);
		S.syslogd = NULL;
	}
	capture_finish(S.cap);
	/* a held batch goes first, or is dropped (positions then stay) */
	if (S.out == OUT_UPLINK)
		sensor_release_held(&S, 1);
	/* the files stay open: this batch's checkpoint names them */
	sensor_flush(&S);
	if (S.out == OUT_JSON)
		fflush(stdout);
	sensor_report_counters(&S, 1);
	if (S.up != NULL) {
		send_heartbeat(&S);	/* final counters */
		if ((left = uplink_finish(S.up, &refused)) > 0 && refused) {
			log_warnx("the correlator refused this sensor's key: "
			    "%llu batches not sent", (unsigned long long)left);
		} else if (left > 0) {
			log_warnx("%llu batches were not acknowledged by %s "
			    "within %llds", (unsigned long long)left,
			    S.conf.connect, S.conf.drain_timeout_s);
			rc = 3;
		} else if (!refused)
			log_info("all batches acknowledged by the correlator");
		if (refused)
			rc = 4;
	}
	capture_close(S.cap);
	logfile_close(S.logs);	/* after the uplink thread's last save */
	logzones_free(S.zones);
	evtx_reader_free(&evtx);
	soc_sbuf_free(&S.json);
	soc_wbuf_free(&S.batch);
	soc_wbuf_free(&S.bbatch);
	soc_wbuf_free(&S.held);
	free(S.held_cp);
	return rc;
}
