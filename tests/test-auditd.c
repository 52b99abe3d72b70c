/*
 * sensor/log-auditd.c: audit records joined by serial through libauparse.
 * Assembly, hex decoding, interleaved serials, an event whose end never
 * comes (flushed when idle), the open-serial bound under a million
 * serials, cut lines, an EXECVE of 100,000 arguments, names taken only
 * from the record, nodes kept apart.  With "data", the real audit logs
 * of ../shared/data/auditd against ausearch (exit 77 when absent).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "logparse.h"
#include "soc/event.h"
#include "soc/util.h"

#define MAXEV 64

static struct soc_event evs[MAXEV];
static size_t nev, nall;

static void
keep(void *arg, struct soc_event *ev)
{
	(void)arg;
	if (nev < MAXEV)
		soc_event_copy(&evs[nev++], ev);
	nall++;
}

static const char *
str(const struct soc_event *ev, int f)
{
	static char buf[4][20000];
	static int k;
	size_t n;
	const char *s = soc_event_str(ev, f, &n);

	if (s == NULL)
		return NULL;
	k = (k + 1) % 4;
	if (n >= sizeof(buf[k]))
		n = sizeof(buf[k]) - 1;
	memcpy(buf[k], s, n);
	buf[k][n] = '\0';
	return buf[k];
}

static void
feed(struct auditd_asm *a, const char *line)
{
	struct logparse_ctx ctx = { .now_ns = 1, .path = "/var/log/audit/audit.log" };

	auditd_asm_feed(a, &ctx, line, strlen(line), NULL, false);
}

static struct auditd_asm *
fresh(size_t max_open)
{
	nev = nall = 0;
	return auditd_asm_new(max_open, 0, keep, NULL);
}

static const char *const EXEC[] = {
	"type=SYSCALL msg=audit(1604994496.155:92733): arch=c000003e "
	"syscall=59 success=yes exit=0 a0=558e251634a0 a1=558e25162a50 "
	"a2=558e25160800 a3=8 items=2 ppid=29002 pid=1631 auid=1000 uid=1000 "
	"gid=1000 euid=0 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 "
	"tty=pts0 ses=104 comm=\"arp\" exe=\"/usr/sbin/arp\" key=\"recon\"",
	"type=EXECVE msg=audit(1604994496.155:92733): argc=3 a0=\"arp\" "
	"a1=2D61 a2=68656C6C6F20776F726C64",
	"type=CWD msg=audit(1604994496.155:92733): cwd=\"/home/wardog\"",
	"type=PATH msg=audit(1604994496.155:92733): item=0 name=\"/usr/sbin/arp\" "
	"inode=13181 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 "
	"nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0",
	"type=PROCTITLE msg=audit(1604994496.155:92733): "
	"proctitle=617270002D610068656C6C6F20776F726C64",
	NULL
};

static void
test_assembly(void)
{
	struct auditd_asm *a = fresh(0);
	struct auditd_stats st;
	struct soc_event *ev = &evs[0];

	for (int i = 0; EXEC[i] != NULL; i++)
		feed(a, EXEC[i]);
	CHECK_INT(nall, 0);			/* no EOE yet: still open */
	feed(a, "type=EOE msg=audit(1604994496.155:92733): ");
	auditd_asm_flush(a);
	CHECK_INT(nall, 1);
	CHECK_STR(str(ev, SOC_F_EVENT_DATASET), "log.auditd.process");
	CHECK_STR(str(ev, SOC_F_EVENT_CATEGORY), "process");
	CHECK_STR(str(ev, SOC_F_EVENT_TYPE), "start");
	CHECK_STR(str(ev, SOC_F_EVENT_OUTCOME), "success");
	CHECK_STR(str(ev, SOC_F_AUDITD_MSG_TYPE), "syscall");
	CHECK_STR(str(ev, SOC_F_SOC_AUDITD_TYPE), "EXECVE");
	CHECK_INT(soc_event_int(ev, SOC_F_AUDITD_SEQUENCE, 0), 92733);
	CHECK_INT(ev->ts, 1604994496155000000LL);
	CHECK_STR(str(ev, SOC_F_AUDITD_SYSCALL), "execve");
	CHECK_STR(str(ev, SOC_F_PROCESS_EXE), "/usr/sbin/arp");
	CHECK_STR(str(ev, SOC_F_PROCESS_NAME), "arp");
	CHECK_INT(soc_event_int(ev, SOC_F_PROCESS_PID, 0), 1631);
	CHECK_INT(soc_event_int(ev, SOC_F_PPROCESS_PID, 0), 29002);
	CHECK_INT(soc_event_int(ev, SOC_F_PROCESS_ARGS_COUNT, 0), 3);
	/* hex-encoded arguments and proctitle decoded */
	CHECK_STR(str(ev, SOC_F_SOC_AUDITD_ARG1), "-a");
	CHECK_STR(str(ev, SOC_F_SOC_AUDITD_ARG2), "hello world");
	CHECK_STR(str(ev, SOC_F_PROCESS_CMDLINE), "arp -a hello world");
	CHECK_STR(str(ev, SOC_F_PROCESS_TITLE), "arp -a hello world");
	CHECK_STR(str(ev, SOC_F_PROCESS_CWD), "/home/wardog");
	CHECK_STR(str(ev, SOC_F_FILE_PATH), "/usr/sbin/arp");
	CHECK_STR(str(ev, SOC_F_FILE_NAME), "arp");
	CHECK_STR(str(ev, SOC_F_USER_ID), "1000");
	CHECK_STR(str(ev, SOC_F_USER_EFF_ID), "0");
	CHECK_STR(str(ev, SOC_F_USER_AUDIT_ID), "1000");
	CHECK_STR(str(ev, SOC_F_AUDITD_SESSION), "104");
	CHECK_STR(str(ev, SOC_F_SOC_AUDITD_KEY), "recon");
	CHECK_STR(str(ev, SOC_F_LOG_FILE_PATH), "/var/log/audit/audit.log");
	/* names only from the record: this machine's uid 1000 is not asked */
	CHECK(!soc_event_has(ev, SOC_F_USER_NAME));
	CHECK(!soc_event_has(ev, SOC_F_SOC_AUDITD_INCOMPLETE));
	CHECK(str(ev, SOC_F_MESSAGE) != NULL &&
	    strstr(str(ev, SOC_F_MESSAGE), "type=CWD") != NULL);
	auditd_asm_stats(a, &st);
	CHECK_INT(st.records, 6);
	CHECK_INT(st.events, 1);
	CHECK_INT(st.open, 0);
	auditd_asm_free(a);
}

/* The enriched form: names after 0x1d are the audited host's. */
static void
test_enriched_names(void)
{
	struct auditd_asm *a = fresh(0);
	char ip[64];

	feed(a, "type=USER_LOGIN msg=audit(1700000000.100:7): pid=912 uid=0 "
	    "auid=1001 ses=3 msg='op=login id=1001 exe=\"/usr/sbin/sshd\" "
	    "hostname=? addr=192.0.2.9 terminal=sshd res=failed'\x1dUID=\"root\" "
	    "AUID=\"alice\" ID=\"alice\"");
	auditd_asm_flush(a);
	CHECK_INT(nall, 1);
	CHECK_STR(str(&evs[0], SOC_F_AUDITD_MSG_TYPE), "user_login");
	CHECK_STR(str(&evs[0], SOC_F_SOC_AUDITD_TYPE), "USER_LOGIN");
	CHECK_STR(str(&evs[0], SOC_F_EVENT_CATEGORY), "authentication");
	CHECK_STR(str(&evs[0], SOC_F_EVENT_OUTCOME), "failure");
	CHECK_STR(str(&evs[0], SOC_F_USER_NAME), "root");
	CHECK_STR(str(&evs[0], SOC_F_USER_AUDIT_NAME), "alice");
	CHECK_STR(str(&evs[0], SOC_F_USER_AUDIT_ID), "1001");
	CHECK_STR(str(&evs[0], SOC_F_PROCESS_EXE), "/usr/sbin/sshd");
	CHECK(soc_event_text(&evs[0], SOC_F_SOURCE_IP, ip, sizeof(ip)) > 0 &&
	    strcmp(ip, "192.0.2.9") == 0);
	auditd_asm_free(a);
}

/* Records of two serials interleaved: each event gets its own. */
static void
test_out_of_order(void)
{
	struct auditd_asm *a = fresh(0);
	const struct soc_event *e1, *e2;

	feed(a, "type=SYSCALL msg=audit(1700000000.001:11): arch=c000003e "
	    "syscall=59 success=yes exit=0 pid=1 ppid=0 uid=0 comm=\"one\" "
	    "exe=\"/bin/one\" key=(null)");
	feed(a, "type=SYSCALL msg=audit(1700000000.001:12): arch=c000003e "
	    "syscall=42 success=no exit=-111 pid=2 ppid=0 uid=0 comm=\"two\" "
	    "exe=\"/bin/two\" key=(null)");
	feed(a, "type=SOCKADDR msg=audit(1700000000.001:12): "
	    "saddr=02000050C00002070000000000000000");
	feed(a, "type=EXECVE msg=audit(1700000000.001:11): argc=1 a0=\"one\"");
	feed(a, "type=CWD msg=audit(1700000000.001:11): cwd=\"/tmp\"");
	auditd_asm_flush(a);
	CHECK_INT(nall, 2);
	e1 = soc_event_int(&evs[0], SOC_F_AUDITD_SEQUENCE, 0) == 11 ? &evs[0] :
	    &evs[1];
	e2 = e1 == &evs[0] ? &evs[1] : &evs[0];
	CHECK_INT(soc_event_int(e1, SOC_F_AUDITD_SEQUENCE, 0), 11);
	CHECK_INT(soc_event_int(e2, SOC_F_AUDITD_SEQUENCE, 0), 12);
	CHECK_STR(str(e1, SOC_F_PROCESS_CMDLINE), "one");
	CHECK_STR(str(e1, SOC_F_PROCESS_CWD), "/tmp");
	CHECK(!soc_event_has(e1, SOC_F_DEST_IP));
	CHECK_STR(str(e2, SOC_F_EVENT_DATASET), "log.auditd.network");
	CHECK_STR(str(e2, SOC_F_AUDITD_SYSCALL), "connect");
	CHECK_STR(str(e2, SOC_F_AUDITD_RESULT), "fail");
	CHECK_STR(str(e2, SOC_F_SOC_NET_INITIATED), "true");
	CHECK_INT(soc_event_int(e2, SOC_F_DEST_PORT, 0), 80);
	CHECK(soc_event_ip(e2, SOC_F_DEST_IP) != NULL &&
	    memcmp(soc_event_ip(e2, SOC_F_DEST_IP)->addr, "\xc0\x00\x02\x07",
	    4) == 0);
	CHECK(!soc_event_has(e2, SOC_F_PROCESS_CMDLINE));
	auditd_asm_free(a);
}

/* No EOE, nothing after: the idle tick emits it, not before. */
static void
test_timeout(void)
{
	struct auditd_asm *a = fresh(0);
	struct auditd_stats st;

	feed(a, EXEC[0]);
	feed(a, EXEC[1]);
	CHECK_INT(auditd_asm_tick(a, soc_mono_ms()), 0);
	CHECK_INT(nall, 0);
	CHECK_INT(auditd_asm_tick(a, soc_mono_ms() + AUDITD_TIMEOUT_MS + 1), 1);
	CHECK_INT(nall, 1);
	CHECK_STR(str(&evs[0], SOC_F_PROCESS_CMDLINE), "arp -a hello world");
	auditd_asm_stats(a, &st);
	CHECK_INT(st.timed_out, 1);
	CHECK_INT(st.open, 0);
	auditd_asm_free(a);
}

/* A million serials that never end: never more than max_open open. */
static void
test_eviction(void)
{
	struct auditd_asm *a = fresh(64);
	struct auditd_stats st;
	char line[256];
	size_t maxopen = 0;
	const long N = 1000000;

	for (long i = 0; i < N; i++) {
		snprintf(line, sizeof(line), "type=SYSCALL msg=audit(1700000000."
		    "000:%ld): arch=c000003e syscall=2 success=yes exit=3 pid=7 "
		    "uid=0 comm=\"x\" exe=\"/bin/x\" key=(null)", i + 1);
		feed(a, line);
		auditd_asm_stats(a, &st);
		if (st.open > maxopen)
			maxopen = st.open;
	}
	auditd_asm_flush(a);
	auditd_asm_stats(a, &st);
	CHECK(maxopen <= 64);
	CHECK_INT(st.records, N);
	CHECK_INT(st.events, N);		/* none lost */
	CHECK_INT(nall, N);
	CHECK(st.evicted >= (uint64_t)N - 64);
	CHECK(st.incomplete >= (uint64_t)N - 64);
	CHECK_INT(soc_event_int(&evs[0], SOC_F_SOC_AUDITD_INCOMPLETE, 0), 1);
	auditd_asm_free(a);
}

/* Lines cut mid-field, and garbage: counted, never a crash. */
static void
test_cut_lines(void)
{
	static const char *const bad[] = {
		"type=SYSCALL msg=audit(1604994496.1",
		"type=SYSCALL msg=audit(",
		"type=SYSCALL msg=audit():",
		"type=SYSCALL msg=audit(1:2): ",
		"type= msg=audit(1.2:3)",
		"node=",
		"type=",
		"hello",
		"",
	};
	struct auditd_asm *a = fresh(0);
	struct auditd_stats st;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		feed(a, bad[i]);
	auditd_asm_stats(a, &st);
	CHECK_INT(st.malformed, i);
	CHECK_INT(nall, 0);
	/* a record cut inside its fields is still one: what it has is kept */
	feed(a, "type=SYSCALL msg=audit(1604994496.155:1): arch=c000003e "
	    "syscall=59 success=yes exit=0 pid=42 comm=\"cu");
	feed(a, "type=EXECVE msg=audit(1604994496.155:1): argc=2 a0=\"ls\" a1=");
	feed(a, "type=PROCTITLE msg=audit(1604994496.155:1): proctitle=6C730");
	auditd_asm_flush(a);
	CHECK_INT(nall, 1);
	CHECK_INT(soc_event_int(&evs[0], SOC_F_PROCESS_PID, 0), 42);
	CHECK_STR(str(&evs[0], SOC_F_SOC_AUDITD_ARG0), "ls");
	/* a stamp past 2262: the receive time, no overflow */
	feed(a, "type=SYSCALL msg=audit(1700000000000.001:2): arch=c000003e "
	    "syscall=59 success=yes exit=0 pid=43");
	auditd_asm_flush(a);
	CHECK_INT(nall, 2);
	CHECK_INT(evs[1].ts, 1);
	CHECK_INT(soc_event_int(&evs[1], SOC_F_PROCESS_PID, 0), 43);
	auditd_asm_free(a);
}

/* argc 100,000 in one record, and a serial of a thousand records. */
static void
test_huge_execve(void)
{
	struct auditd_asm *a = fresh(0);
	struct auditd_stats st;
	size_t cap = 2 * 1024 * 1024, n;
	char *line = malloc(cap);
	const char *cmd;

	n = (size_t)snprintf(line, cap, "type=EXECVE msg=audit(1700000001.000:5):"
	    " argc=100000");
	for (int i = 0; i < 100000; i++)
		n += (size_t)snprintf(line + n, cap - n, " a%d=\"arg%d\"", i, i);
	feed(a, "type=SYSCALL msg=audit(1700000001.000:5): arch=c000003e "
	    "syscall=59 success=yes exit=0 pid=9 comm=\"big\" exe=\"/bin/big\"");
	feed(a, line);
	for (int i = 0; i < 1000; i++)
		feed(a, "type=PATH msg=audit(1700000001.000:5): item=0 "
		    "name=\"/bin/big\" nametype=NORMAL");
	auditd_asm_flush(a);
	auditd_asm_stats(a, &st);
	CHECK_INT(nall, 1);
	CHECK_INT(st.cut, 1);			/* the record, at 64 KiB */
	CHECK_INT(st.dropped, 1002 - 256);	/* past 256 records */
	CHECK_INT(soc_event_int(&evs[0], SOC_F_PROCESS_ARGS_COUNT, 0), 100000);
	CHECK_STR(str(&evs[0], SOC_F_SOC_AUDITD_ARG9), "arg9");
	cmd = str(&evs[0], SOC_F_PROCESS_CMDLINE);
	CHECK(cmd != NULL && strncmp(cmd, "arg0 arg1 arg2", 14) == 0 &&
	    strlen(cmd) < 8192);
	CHECK(soc_event_truncated(&evs[0]));
	free(line);
	auditd_asm_free(a);
}

/* The same serial from two syslog senders: two events. */
static void
test_nodes(void)
{
	struct auditd_asm *a = fresh(0);
	struct logparse_ctx c1 = { .now_ns = 1, .source_addr = "192.0.2.1" };
	struct logparse_ctx c2 = { .now_ns = 1, .source_addr = "192.0.2.2" };
	const char *r = "type=SYSCALL msg=audit(1700000000.000:77): "
	    "arch=c000003e syscall=59 success=yes exit=0 pid=1 comm=\"a\"";

	auditd_asm_feed(a, &c1, r, strlen(r), "web1", false);
	auditd_asm_feed(a, &c2, r, strlen(r), "web2", false);
	auditd_asm_flush(a);
	CHECK_INT(nall, 2);
	CHECK(nall == 2 && strcmp(str(&evs[0], SOC_F_HOST_HOSTNAME),
	    str(&evs[1], SOC_F_HOST_HOSTNAME)) != 0);
	CHECK(nall == 2 && strcmp(str(&evs[0], SOC_F_LOG_SOURCE_ADDR),
	    str(&evs[1], SOC_F_LOG_SOURCE_ADDR)) != 0);
	CHECK_INT(log_auditd_record("node=web1 type=EOE msg=audit(1.2:3): ",
	    36), 10);
	auditd_asm_free(a);
}

/*
 * The real logs, against ausearch (the audit project's own reader, an
 * independent process): the same events by serial, the same executables.
 */
static int
test_data(void)
{
	static const char *const files[] = {
		"sh_arp_cache_2020-11-10074812.log",
		"sh_binary_padding_dd_2020-11-10081941.log",
	};
	const char *dir = check_data_dir();
	char path[4096], cmd[8192], row[4096];
	FILE *f, *p;

	if (dir == NULL) {
		printf("skip: shared test data absent (set SOC_TEST_DATA)\n");
		return 77;
	}
	for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
		struct auditd_asm *a = fresh(0);
		char *line = NULL;
		size_t cap = 0, nlines = 0, rows = 0;
		ssize_t n;

		snprintf(path, sizeof(path), "%s/auditd/%s", dir, files[k]);
		if ((f = fopen(path, "r")) == NULL) {
			CHECK(!"real audit log present");
			continue;
		}
		while ((n = getline(&line, &cap, f)) > 0) {
			struct logparse_ctx ctx = { .now_ns = 1, .path = path };

			if (line[n - 1] == '\n')
				n--;
			auditd_asm_feed(a, &ctx, line, (size_t)n, NULL, false);
			nlines++;
		}
		free(line);
		fclose(f);
		auditd_asm_flush(a);
		CHECK(nall > 0 && nall < nlines);
		if (access("/sbin/ausearch", X_OK) != 0 &&
		    access("/usr/sbin/ausearch", X_OK) != 0) {
			printf("note: no ausearch, %s not compared\n", files[k]);
			auditd_asm_free(a);
			continue;
		}
		snprintf(cmd, sizeof(cmd), "ausearch -if '%s' --format csv "
		    "2>/dev/null", path);
		if ((p = popen(cmd, "r")) == NULL) {
			CHECK(!"ausearch runs");
			auditd_asm_free(a);
			continue;
		}
		/* NODE,EVENT,DATE,TIME,SERIAL_NUM,...,OBJ_PRIME,... */
		while (fgets(row, sizeof(row), p) != NULL) {
			char *fld[16] = { 0 }, *s = row, *serial, *obj;
			int nf = 0;
			bool found = false;

			if (strncmp(row, "NODE,", 5) == 0)
				continue;
			row[strcspn(row, "\n")] = '\0';
			while (nf < 16 && (fld[nf] = strsep(&s, ",")) != NULL)
				nf++;
			if (nf < 13)
				continue;
			rows++;
			serial = fld[4];
			obj = fld[12];
			for (size_t i = 0; i < nev; i++) {
				char sb[32];

				snprintf(sb, sizeof(sb), "%lld", (long long)
				    soc_event_int(&evs[i], SOC_F_AUDITD_SEQUENCE,
				    -1));
				if (strcmp(sb, serial) != 0)
					continue;
				found = true;
				CHECK_STR(str(&evs[i], SOC_F_PROCESS_EXE), obj);
			}
			if (!found)
				fprintf(stderr, "ausearch's serial %s: no event\n",
				    serial);
			CHECK(found);
		}
		pclose(p);
		CHECK_INT(rows, nall);
		printf("%s: %zu records, %zu events, ausearch %zu\n", files[k],
		    nlines, nall, rows);
		auditd_asm_free(a);
	}
	return check_done();
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "data") == 0)
		return test_data();
	test_assembly();
	test_enriched_names();
	test_out_of_order();
	test_timeout();
	test_eviction();
	test_cut_lines();
	test_huge_execve();
	test_nodes();
	return check_done();
}
