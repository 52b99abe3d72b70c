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
#include <getopt.h>
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
#include "soc/util.h"
#include "soc-config.h"
#include "intake.h"
#include "logparse.h"
#include "sensor.h"

static volatile sig_atomic_t	sensor_quit;
static volatile sig_atomic_t	sensor_report;

static struct sensor	S;

static void	sensor_flush(struct sensor *s);
static void	sensor_tick(struct sensor *s);
static void	sensor_report_counters(struct sensor *s, int final);

static const struct conf_opt sensor_opts[] = {
	{ "name", CONF_STR, &S.conf.name, 0, 0, "sensor name (observer.name); default: host name" },
	{ "connect", CONF_STR, &S.conf.connect, 0, 0, "correlator endpoint, tcp://HOST:PORT" },
	{ "server_key", CONF_STR, &S.conf.server_key, 0, 0, "correlator public key: file or Z85" },
	{ "key", CONF_STR, &S.conf.key, 0, 0, "this sensor's secret key file" },
	{ "spool", CONF_STR, &S.conf.spool, 0, 0, "spool directory for unacked batches (none: memory only)" },
	{ "spool_max_mb", CONF_INT, &S.conf.spool_max_mb, 1, 1048576, "spool size bound (MiB); oldest batches are dropped and counted past it" },
	{ "output", CONF_STR, &S.conf.output, 0, 0, "uplink | json | null" },
	{ "user", CONF_STR, &S.conf.user, 0, 0, "drop privileges to this user after opening captures" },
	{ "capture.interfaces", CONF_LIST, &S.conf.interfaces, 0, 0, "interfaces to capture on" },
	{ "capture.files", CONF_LIST, &S.conf.pcaps, 0, 0, "pcap files to replay" },
	{ "capture.filter", CONF_STR, &S.conf.bpf, 0, 0, "BPF filter" },
	{ "capture.snaplen", CONF_INT, &S.conf.snaplen, 64, 262144, "bytes kept per packet" },
	{ "capture.promisc", CONF_BOOL, &S.conf.promisc, 0, 1, "promiscuous mode" },
	{ "capture.buffer_mb", CONF_INT, &S.conf.buffer_mb, 1, 4096, "kernel ring size (MiB)" },
	{ "flows.max", CONF_INT, &S.conf.max_flows, 1024, 100000000, "flow table size" },
	{ "flows.tcp_idle_s", CONF_INT, &S.conf.tcp_idle_s, 1, 86400, "TCP flow idle timeout" },
	{ "flows.udp_idle_s", CONF_INT, &S.conf.udp_idle_s, 1, 86400, "UDP flow idle timeout" },
	{ "flows.icmp_idle_s", CONF_INT, &S.conf.icmp_idle_s, 1, 86400, "ICMP flow idle timeout" },
	{ "flows.active_timeout_s", CONF_INT, &S.conf.active_s, 0, 86400, "interim record for long flows (0: never)" },
	{ "defrag.max_datagrams", CONF_INT, &S.conf.frag_max, 1, 1000000, "IP datagrams in reassembly at once" },
	{ "defrag.timeout_s", CONF_INT, &S.conf.frag_timeout_s, 1, 600, "give up an incomplete datagram after" },
	{ "streams.max_buffers", CONF_INT, &S.conf.stream_max, 16, 10000000, "4 KB TCP stream buffers for app-layer parsing" },
	{ "logs.files", CONF_LIST, &S.conf.log_files, 0, 0, "log files to read" },
	{ "logs.state_file", CONF_STR, &S.conf.state_file, 0, 0, "where file positions are kept across restarts" },
	{ "logs.start_at", CONF_STR, &S.conf.start_at, 0, 0, "beginning | end: where to start in a file seen for the first time" },
	{ "syslog.udp", CONF_LIST, &S.conf.syslog_udp, 0, 0, "listen for syslog on UDP ADDR:PORT" },
	{ "syslog.tcp", CONF_LIST, &S.conf.syslog_tcp, 0, 0, "listen for syslog on TCP ADDR:PORT (newline or octet-counted framing)" },
	{ "syslog.max_message", CONF_INT, &S.conf.syslog_max_message, 480, 1048576, "longest syslog message kept whole" },
	{ "logs.timezone", CONF_STR, &S.conf.timezone, 0, 0, "zone name (tzdata) of log stamps without one; sets logs.tz_offset_min" },
	{ "logs.tz_offset_min", CONF_INT, &S.conf.tz_offset_min, -840, 840, "zone of log stamps without one (minutes east of UTC)" },
	{ "uplink.batch_events", CONF_INT, &S.conf.batch_events, 1, 100000, "events per batch" },
	{ "uplink.batch_ms", CONF_INT, &S.conf.batch_ms, 1, 60000, "longest a batch waits before it is sent" },
	{ "uplink.queue_batches", CONF_INT, &S.conf.queue_batches, 1, 1000000, "unacked batches held in memory" },
	{ "uplink.ack_timeout_ms", CONF_INT, &S.conf.ack_timeout_ms, 100, 600000, "resend when an ack is this late" },
	{ "uplink.drain_timeout_s", CONF_INT, &S.conf.drain_timeout_s, 0, 86400, "at exit, wait this long for acks" },
	{ "uplink.heartbeat_s", CONF_INT, &S.conf.heartbeat_s, 1, 3600, "heartbeat interval" },
	{ NULL, 0, NULL, 0, 0, NULL },
};

static void
defaults(void)
{
	char host[256];

	if (gethostname(host, sizeof(host)) == -1)
		strcpy(host, "sensor");
	host[sizeof(host) - 1] = '\0';
	S.conf.name = strdup(host);
	S.conf.output = strdup("uplink");
	S.conf.snaplen = 65535;
	S.conf.promisc = 1;
	S.conf.buffer_mb = 64;
	S.conf.max_flows = 262144;
	S.conf.tcp_idle_s = 300;
	S.conf.udp_idle_s = 60;
	S.conf.icmp_idle_s = 30;
	S.conf.active_s = 120;
	S.conf.frag_max = 64;
	S.conf.frag_timeout_s = 30;
	S.conf.stream_max = 4096;
	S.conf.tz_offset_min = 420;
	S.conf.start_at = strdup("beginning");
	S.conf.syslog_max_message = 65536;	/* Asia/Ho_Chi_Minh, no DST */
	S.conf.batch_events = 1000;
	S.conf.batch_ms = 500;
	S.conf.queue_batches = 256;
	S.conf.spool_max_mb = 1024;
	S.conf.ack_timeout_ms = 10000;
	S.conf.drain_timeout_s = 30;
	S.conf.heartbeat_s = 10;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: soc-sensor [-c FILE] [--connect ENDPOINT] [--server-key FILE|Z85] [--key FILE]\n"
"                  [-i IFACE]... [-r FILE.pcap]... [--log-file PATH]... [--spool DIR]\n"
"                  [--once] [-o json|null] [--name NAME] [-s SNAPLEN] [-f FILTER]\n"
"                  [-B MB] [-p] [--timezone ZONE] [-t] [-d]\n"
"\n"
"Captures packets and reads logs, normalizes them into events and sends\n"
"them to the correlator (or prints them).\n"
"\n"
"  -c, --config FILE      YAML config (see soc-sensor(8)); flags override it\n"
"      --connect EP       correlator endpoint, e.g. tcp://10.0.0.5:7500\n"
"      --server-key K     the correlator's public key (file or Z85 text)\n"
"      --key FILE         this sensor's secret key (from socctl keygen)\n"
"  -i, --interface IFACE  capture live on IFACE (repeatable)\n"
"  -r, --read FILE        replay a pcap file to its end, then exit (repeatable)\n"
"      --log-file PATH    read a log file (repeatable); followed unless --once or -r\n"
"      --once             read every log file to its end, then exit\n"
"  -o, --output MODE      json: print events as JSON lines; null: discard\n"
"  -s, --snaplen N        bytes kept per packet (default 65535)\n"
"  -f, --filter EXPR      BPF filter for live capture\n"
"  -B, --buffer-mb N      kernel capture ring size (default 64)\n"
"  -p, --no-promisc       do not put interfaces in promiscuous mode\n"
"      --timezone ZONE    zone of log stamps that carry none (default Asia/Ho_Chi_Minh)\n"
"      --name NAME        sensor name in events (observer.name)\n"
"      --spool DIR        keep unacked batches on disk (survives outages and crashes)\n"
"  -t, --test             check the configuration and exit\n"
"  -d, --debug            verbose logging\n"
"  -h, --help             this help;  -V, --version  print the version\n"
"\n"
"Exit status: 0 done, 1 bad usage or config, 2 input error, 3 batches left unacked.\n"
"Counters are logged on SIGUSR1 and at exit.\n");
}

enum { OPT_CONNECT = 256, OPT_SERVER_KEY, OPT_KEY, OPT_LOG_FILE, OPT_SPOOL,
	OPT_ONCE, OPT_NAME, OPT_TZ };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "connect", required_argument, NULL, OPT_CONNECT },
	{ "server-key", required_argument, NULL, OPT_SERVER_KEY },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "interface", required_argument, NULL, 'i' },
	{ "read", required_argument, NULL, 'r' },
	{ "log-file", required_argument, NULL, OPT_LOG_FILE },
	{ "spool", required_argument, NULL, OPT_SPOOL },
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "output", required_argument, NULL, 'o' },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "snaplen", required_argument, NULL, 's' },
	{ "filter", required_argument, NULL, 'f' },
	{ "buffer-mb", required_argument, NULL, 'B' },
	{ "no-promisc", no_argument, NULL, 'p' },
	{ "timezone", required_argument, NULL, OPT_TZ },
	{ "test", no_argument, NULL, 't' },
	{ "debug", no_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void
set_opt(const char *name, const char *value)
{
	conf_set_or_die(sensor_opts, name, value);
}

static void
parse_args(int argc, char **argv, int *test, int *debug)
{
	int ch;

	/* first pass: the config file, so that flags can override it */
	conf_load_args(argc, argv, "c:i:r:o:s:f:B:ptdhV", longopts, sensor_opts);
	while ((ch = getopt_long(argc, argv, "c:i:r:o:s:f:B:ptdhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': break;
		case OPT_CONNECT: set_opt("connect", optarg); break;
		case OPT_SERVER_KEY: set_opt("server_key", optarg); break;
		case OPT_KEY: set_opt("key", optarg); break;
		case 'i': set_opt("capture.interfaces", optarg); break;
		case 'r': set_opt("capture.files", optarg); break;
		case OPT_LOG_FILE: set_opt("logs.files", optarg); break;
		case OPT_SPOOL: set_opt("spool", optarg); break;
		case OPT_ONCE: S.conf.once = 1; break;
		case 'o': set_opt("output", optarg); break;
		case OPT_NAME: set_opt("name", optarg); break;
		case 's': set_opt("capture.snaplen", optarg); break;
		case 'f': set_opt("capture.filter", optarg); break;
		case 'B': set_opt("capture.buffer_mb", optarg); break;
		case 'p': set_opt("capture.promisc", "false"); break;
		case OPT_TZ: set_opt("logs.timezone", optarg); break;
		case 't': *test = 1; break;
		case 'd': *debug = 1; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("soc-sensor %s\n", SOC_VERSION); exit(0);
		default: usage(stderr); exit(1);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "soc-sensor: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		exit(1);
	}
}

/*
 * A zone name (Asia/Ho_Chi_Minh) becomes the offset of its time now: the
 * stamps it serves (RFC 3164, error logs) carry no zone.  Zones that
 * change offset (DST) are taken at today's offset; Vietnam has none.
 */
static void
resolve_timezone(void)
{
	char path[512];
	time_t now = time(NULL);
	struct tm tm;

	if (S.conf.timezone == NULL)
		return;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", S.conf.timezone);
	if (S.conf.timezone[0] == '\0' || strstr(S.conf.timezone, "..") ||
	    access(path, R_OK) != 0)
		fatalx("timezone \"%s\": no such zone in /usr/share/zoneinfo "
		    "(use a name like Asia/Ho_Chi_Minh, or logs.tz_offset_min)",
		    S.conf.timezone);
	setenv("TZ", S.conf.timezone, 1);
	tzset();
	localtime_r(&now, &tm);
	S.conf.tz_offset_min = tm.tm_gmtoff / 60;
	unsetenv("TZ");
	tzset();
}

/* Resolve key arguments to Z85 text and check what the mode needs. */
static void
check_conf(void)
{
	char key[41], err[1024];

	resolve_timezone();
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
	    S.conf.syslog_tcp.n == 0)
		fatalx("nothing to read: give -i IFACE, -r FILE, --log-file PATH "
		    "or syslog listeners in the config");
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
	if (soc_key_load(S.conf.key, key, err, sizeof(err)) == -1)
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

/* Hands the open batch on. */
static void
sensor_flush(struct sensor *s)
{
	static char *cp;
	static size_t cap;
	size_t cp_len = 0;
	char *n;

	if (s->batch.count > 0 && s->out == OUT_UPLINK) {
		/* the positions travel with the batch: saved once it is safe;
		 * the buffer grows with the number of followed files */
		while (s->following &&
		    (cp_len = logfile_checkpoint(s->logs, cp, cap)) == 0 &&
		    (n = realloc(cp, cap ? cap * 2 : 65536)) != NULL) {
			cp = n;
			cap = cap ? cap * 2 : 65536;
		}
		uplink_submit(s->up, s->batch.data, s->batch.len, cp, cp_len);
	}
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
	PS(http_events), PS(tls_events), PS(tls_malformed), PS(ssh_events),
	PS(stream_exhausted), PS(stream_overflow), PS(stream_ooo),
	PS(stream_dropped),
};
#undef PS

struct counter {
	const char	*name;
	uint64_t	 value;
};

#define MAX_COUNTERS	64

static size_t
collect_counters(struct sensor *s, struct counter *c)
{
	static const struct pkt_stats none;
	const struct pkt_stats *ps = capture_pkt_stats(s->cap);
	struct logfile_stats ls;
	uint64_t kdrop, ifdrop;
	size_t n = 0;

	if (ps == NULL)
		ps = &none;
	capture_drops(s->cap, &kdrop, &ifdrop);
	logfile_stats(s->logs, &ls);
	c[n++] = (struct counter){ "events", s->c.events };
	c[n++] = (struct counter){ "log_lines", ls.lines };
	c[n++] = (struct counter){ "kernel_dropped", kdrop };
	c[n++] = (struct counter){ "iface_dropped", ifdrop };
	c[n++] = (struct counter){ "encode_failed", s->c.encode_failed };
	c[n++] = (struct counter){ "log_files_failed", ls.files_failed };
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
	int n, ifd, nsd;

	while (!sensor_quit) {
		n = capture_pollfds(s->cap, pfd, SENSOR_MAX_POLL);
		ifd = logfile_fd(s->logs);
		pfd[n] = (struct pollfd){ .fd = ifd, .events = POLLIN };
		nsd = s->syslogd ? syslogd_pollfds(s->syslogd, pfd + n + 1,
		    SENSOR_MAX_POLL - n - 1) : 0;
		if (poll(pfd, (nfds_t)(n + 1 + nsd), 250) == -1 && errno != EINTR)
			fatal("poll");
		capture_dispatch(s->cap);
		if (s->syslogd && syslogd_dispatch(s->syslogd, pfd + n + 1, nsd))
			sensor_flush_json(s);
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
	};
	struct syslogd_conf sc = {
		.udp = &s->conf.syslog_udp,
		.tcp = &s->conf.syslog_tcp,
		.max_message = (size_t)s->conf.syslog_max_message,
		.tz_offset_sec = (int32_t)(s->conf.tz_offset_min * 60),
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
	/* the flow table and stream pools only when packets will come */
	if ((s->conf.interfaces.n > 0 || s->conf.pcaps.n > 0) &&
	    (s->cap = capture_open(&cc, &pc, sensor_emit, tick_cb, s)) == NULL)
		fatalx("cannot open the capture interfaces");
	/* listeners may need a privileged port: before the drop */
	if ((s->syslogd = syslogd_open(&sc, sensor_emit, s, err,
	    sizeof(err))) == NULL && err[0] != '\0')
		fatalx("%s", err);
	/* before the uplink, which may save positions from the spool */
	if ((s->logs = logfile_open(&lc, sensor_emit, tick_cb, s)) == NULL)
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
	int test = 0, debug = 0, rc = 0, replay;
	char err[1024];
	uint64_t left;

	log_init("soc-sensor", 0);
	defaults();
	parse_args(argc, argv, &test, &debug);
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
	for (size_t i = 0; i < S.conf.pcaps.n && !sensor_quit; i++)
		if (capture_read_file(S.cap, S.conf.pcaps.v[i]) == -1)
			rc = 2;
	if (replay) {
		for (size_t i = 0; i < S.conf.log_files.n && !sensor_quit; i++)
			if (logfile_read_once(S.logs, S.conf.log_files.v[i]) == -1)
				rc = 2;
	} else {
		logfile_follow(S.logs);
		sensor_run(&S);
		sensor_flush_json(&S);
		sensor_save_positions(&S);
	}
	if (S.syslogd != NULL) {
		/* emits what TCP clients left unterminated */
		syslogd_log_counters(S.syslogd);
		syslogd_close(S.syslogd);
		S.syslogd = NULL;
	}
	capture_finish(S.cap);
	/* the files stay open: this batch's checkpoint names them */
	sensor_flush(&S);
	if (S.out == OUT_JSON)
		fflush(stdout);
	sensor_report_counters(&S, 1);
	if (S.up != NULL) {
		send_heartbeat(&S);	/* final counters */
		if ((left = uplink_finish(S.up)) > 0) {
			log_warnx("%llu batches were not acknowledged by %s "
			    "within %llds", (unsigned long long)left,
			    S.conf.connect, S.conf.drain_timeout_s);
			rc = 3;
		} else
			log_info("all batches acknowledged by the correlator");
	}
	capture_close(S.cap);
	logfile_close(S.logs);	/* after the uplink thread's last save */
	soc_sbuf_free(&S.json);
	soc_wbuf_free(&S.batch);
	return rc;
}
