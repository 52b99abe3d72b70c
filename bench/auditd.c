/*
 * auditd: records/s that the sensor's auditd path (sensor/log-auditd.c:
 * libauparse joining the records by serial, then the ECS event) takes on
 * one core, and the open-serial bound under a million serials that never
 * end.  Not part of make test.
 *
 *   auditd [--events N] [--file AUDIT.LOG]
 *
 * Without --file the records are generated: execve events of six records
 * (SYSCALL, EXECVE, CWD, two PATH, PROCTITLE, as auditd writes them, no
 * EOE), serials counting up, a new second every thousand events.  With
 * --file, the file's lines are fed over and over (serials as they are:
 * auparse joins the repeats into the open events, so generated records
 * are the fairer figure).  One thread: pin it with taskset for one core.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include "logparse.h"
#include "soc/event.h"

static uint64_t	 nevents;

static void
count(void *arg, struct soc_event *ev)
{
	(void)arg;
	(void)ev;
	nevents++;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

int
main(int argc, char **argv)
{
	struct logparse_ctx ctx = { .now_ns = 1, .path = "audit.log" };
	struct auditd_asm *a;
	struct auditd_stats st;
	long nev = 200000;
	const char *file = NULL;
	char line[1024];
	uint64_t records = 0;
	double t0, t, c0, c;
	size_t maxopen = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--events") == 0 && i + 1 < argc)
			nev = atol(argv[++i]);
		else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc)
			file = argv[++i];
		else {
			fprintf(stderr, "usage: auditd [--events N] [--file F]\n");
			return 2;
		}
	}
	if ((a = auditd_asm_new(0, 0, count, NULL)) == NULL)
		return 1;
	t0 = now_s();
	c0 = cpu_s();
	if (file != NULL) {
		char *buf = NULL;
		size_t cap = 0;
		ssize_t n;

		for (long round = 0; records < (uint64_t)nev * 6; round++) {
			FILE *f = fopen(file, "r");

			if (f == NULL) {
				perror(file);
				return 1;
			}
			while ((n = getline(&buf, &cap, f)) > 0) {
				if (buf[n - 1] == '\n')
					n--;
				auditd_asm_feed(a, &ctx, buf, (size_t)n, NULL,
				    false);
				records++;
			}
			fclose(f);
		}
		free(buf);
	} else {
		for (long i = 0; i < nev; i++) {
			long sec = 1700000000 + i / 1000, ms = i % 1000,
			    serial = i + 1;
			int n;

			n = snprintf(line, sizeof(line), "type=SYSCALL msg=audit("
			    "%ld.%03ld:%ld): arch=c000003e syscall=59 success=yes "
			    "exit=0 a0=558e251634a0 a1=558e25162a50 a2=558e251608"
			    "00 a3=8 items=2 ppid=29002 pid=%ld auid=1000 uid=1000"
			    " gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 "
			    "sgid=1000 fsgid=1000 tty=pts0 ses=104 comm=\"arp\" "
			    "exe=\"/usr/sbin/arp\" key=(null)", sec, ms, serial,
			    1000 + i % 30000);
			auditd_asm_feed(a, &ctx, line, (size_t)n, NULL, false);
			n = snprintf(line, sizeof(line), "type=EXECVE msg=audit("
			    "%ld.%03ld:%ld): argc=3 a0=\"arp\" a1=\"-a\" a2=2D6E",
			    sec, ms, serial);
			auditd_asm_feed(a, &ctx, line, (size_t)n, NULL, false);
			n = snprintf(line, sizeof(line), "type=CWD msg=audit("
			    "%ld.%03ld:%ld): cwd=\"/home/wardog\"", sec, ms,
			    serial);
			auditd_asm_feed(a, &ctx, line, (size_t)n, NULL, false);
			for (int k = 0; k < 2; k++) {
				n = snprintf(line, sizeof(line), "type=PATH msg="
				    "audit(%ld.%03ld:%ld): item=%d name=\"%s\" "
				    "inode=13181 dev=08:01 mode=0100755 ouid=0 "
				    "ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 "
				    "cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0",
				    sec, ms, serial, k, k == 0 ? "/usr/sbin/arp" :
				    "/lib64/ld-linux-x86-64.so.2");
				auditd_asm_feed(a, &ctx, line, (size_t)n, NULL,
				    false);
			}
			n = snprintf(line, sizeof(line), "type=PROCTITLE msg="
			    "audit(%ld.%03ld:%ld): proctitle=617270002D61002D6E",
			    sec, ms, serial);
			auditd_asm_feed(a, &ctx, line, (size_t)n, NULL, false);
			records += 6;
		}
	}
	auditd_asm_flush(a);
	t = now_s() - t0;
	c = cpu_s() - c0;
	auditd_asm_stats(a, &st);
	printf("auditd: %llu records, %llu events in %.2f s (%.2f s on the "
	    "thread's CPU): %.0f records/s of CPU, %.0f of wall clock; "
	    "%llu flushed for room (max rss %ld KiB)\n",
	    (unsigned long long)records, (unsigned long long)st.events, t, c,
	    (double)records / c, (double)records / t,
	    (unsigned long long)st.evicted, maxrss_kb());
	auditd_asm_free(a);

	/* a million serials that never end: the table stays bounded */
	nevents = 0;
	if ((a = auditd_asm_new(0, 0, count, NULL)) == NULL)
		return 1;
	t0 = now_s();
	c0 = cpu_s();
	for (long i = 0; i < 1000000; i++) {
		int n = snprintf(line, sizeof(line), "type=SYSCALL msg=audit("
		    "1700000000.000:%ld): arch=c000003e syscall=2 success=yes "
		    "exit=3 pid=7 uid=0 comm=\"x\" exe=\"/bin/x\" key=(null)",
		    i + 1);

		auditd_asm_feed(a, &ctx, line, (size_t)n, NULL, false);
		auditd_asm_stats(a, &st);
		if (st.open > maxopen)
			maxopen = st.open;
	}
	auditd_asm_flush(a);
	t = now_s() - t0;
	c = cpu_s() - c0;
	(void)c;
	auditd_asm_stats(a, &st);
	printf("auditd: 1000000 open serials in %.2f s: at most %zu open, "
	    "%llu evicted, %llu events (max rss %ld KiB)\n", t, maxopen,
	    (unsigned long long)st.evicted, (unsigned long long)st.events,
	    maxrss_kb());
	auditd_asm_free(a);
	return 0;
}
