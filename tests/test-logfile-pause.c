/*
 * Pausing followed log files (logfile_pause), as the sensor does when the
 * uplink has no room for a batch of their lines: reading stops right after
 * the line being emitted, from the emit callback or between buffers from
 * the tick callback; the checkpoint then names the position after that
 * line; nothing is read while paused; resumed, reading goes on with the
 * next line.  Every line arrives once, in order, across many pauses, over
 * more than one read buffer, and across a saved checkpoint and a new
 * handle.  The lines of a file rotated away arrive through pauses too,
 * its unterminated last line last.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../sensor/intake.h"
#include "soc/log.h"
#include "check.h"

#define NLINES		120000		/* 1.4 MiB: more than one buffer */
#define LINELEN		12		/* "line %06d\n" */

static struct logfile_set *ls;
static int	 next_want;		/* line number expected next */
static int	 in_order = 1;
static int	 ngot;
static int	 pause_every;		/* pause from emit after this many */
static int	 pause_in_tick;		/* pause from the tick callback */
static int	 last_pause_at = -1;	/* ngot when the last pause was asked */

static void
collect(void *arg, struct soc_event *ev)
{
	const char *m;
	size_t n;
	int k = -1;

	(void)arg;
	if ((m = soc_event_str(ev, SOC_F_MESSAGE, &n)) != NULL && n > 5 &&
	    memcmp(m, "line ", 5) == 0)
		k = atoi(m + 5);
	if (k != next_want)
		in_order = 0;
	next_want = k + 1;
	ngot++;
	if (pause_every > 0 && ngot % pause_every == 0) {
		logfile_pause(ls, 1);
		last_pause_at = ngot;
	}
}

static void
tick(void *arg)
{
	(void)arg;
	if (pause_in_tick) {
		logfile_pause(ls, 1);
		last_pause_at = ngot;
	}
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static struct conf_list	pat;

static struct logfile_set *
open_set(const char *path, const char *state)
{
	struct logfile_conf lc = {
		.files = &pat,
		.state_file = state,
		.start_at = "beginning",
		.scan_ms = 20,
		.grace_ms = 100,
	};

	pat.v[0] = (char *)path;
	pat.n = 1;
	return logfile_open(&lc, collect, tick, NULL);
}

/* Byte offset just after line k. */
static long
after_line(int k)
{
	return (long)(k + 1) * LINELEN;
}

/* The offset a checkpoint names for path, or -1. */
static long
cp_offset(const char *path)
{
	static char buf[65536];
	size_t len = logfile_checkpoint(ls, buf, sizeof(buf) - 1);
	char *l, *sp;

	buf[len] = '\0';
	for (l = strtok(buf, "\n"); l != NULL; l = strtok(NULL, "\n")) {
		if (l[0] == '#' || (sp = strrchr(l, ' ')) == NULL ||
		    strcmp(sp + 1, path) != 0)
			continue;
		*sp = '\0';
		if ((sp = strrchr(l, ' ')) != NULL)
			return atol(sp + 1);
	}
	return -1;
}

static void
write_lines(const char *path, const char *mode, int first, int last)
{
	FILE *f = fopen(path, mode);

	CHECK(f != NULL);
	if (f == NULL)
		return;
	for (int i = first; i < last; i++)
		fprintf(f, "line %06d\n", i);
	fclose(f);
}

/* Paused from emit every 997 lines: stops right there, resumes after. */
static void
test_pause_from_emit(const char *dir)
{
	char path[600], state[600];
	int polls = 0;

	snprintf(path, sizeof(path), "%s/a.log", dir);
	snprintf(state, sizeof(state), "%s/a.state", dir);
	write_lines(path, "w", 0, NLINES);
	ls = open_set(path, state);
	CHECK(ls != NULL);
	CHECK_INT(logfile_follow(ls), 0);
	pause_every = 997;
	while (ngot < NLINES && polls++ < 1000) {
		int before = ngot;

		logfile_poll(ls);
		if (ngot == NLINES)
			break;
		/* stopped right after the line that paused it */
		CHECK_INT(logfile_paused(ls), 1);
		CHECK_INT(ngot, last_pause_at);
		CHECK(ngot > before);
		CHECK_INT(cp_offset(path), after_line(ngot - 1));
		/* nothing is read while paused */
		CHECK_INT(logfile_poll(ls), 0);
		CHECK_INT(ngot, last_pause_at);
		logfile_pause(ls, 0);
	}
	CHECK_INT(ngot, NLINES);
	CHECK(in_order);

	/* a checkpoint taken at a pause, a new handle: the next line */
	pause_every = 0;
	write_lines(path, "a", NLINES, NLINES + 10);
	pause_every = 3;
	logfile_pause(ls, 0);
	logfile_poll(ls);
	CHECK_INT(ngot, NLINES + 3);
	CHECK_INT(logfile_save_positions(ls), 0);
	logfile_close(ls);
	pause_every = 0;
	ls = open_set(path, state);
	CHECK_INT(logfile_follow(ls), 0);
	logfile_poll(ls);
	CHECK_INT(ngot, NLINES + 10);
	CHECK(in_order);
	logfile_close(ls);
}

/* Paused from the tick callback, between read buffers. */
static void
test_pause_from_tick(const char *dir)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/b.log", dir);
	write_lines(path, "w", 0, NLINES);
	next_want = 0;
	ngot = 0;
	ls = open_set(path, NULL);
	CHECK_INT(logfile_follow(ls), 0);
	pause_in_tick = 1;
	logfile_poll(ls);
	/* one buffer's whole lines, then the tick paused it */
	CHECK_INT(logfile_paused(ls), 1);
	CHECK(ngot > 0 && ngot < NLINES);
	CHECK_INT(ngot, (1 << 20) / LINELEN);
	CHECK_INT(cp_offset(path), after_line(ngot - 1));
	pause_in_tick = 0;
	logfile_pause(ls, 0);
	logfile_poll(ls);
	CHECK_INT(ngot, NLINES);
	CHECK(in_order);
	logfile_close(ls);
}

/* A file rotated away: drained through pauses, then finished. */
static void
test_pause_rotated(const char *dir)
{
	char path[600], old[600];
	int polls = 0;

	snprintf(path, sizeof(path), "%s/c.log", dir);
	snprintf(old, sizeof(old), "%s/c.log.1", dir);
	write_lines(path, "w", 0, 10);
	next_want = 0;
	ngot = 0;
	ls = open_set(path, NULL);
	CHECK_INT(logfile_follow(ls), 0);
	logfile_poll(ls);
	CHECK_INT(ngot, 10);
	/* more lines, the last without a newline, then rotated away */
	write_lines(path, "a", 10, 40);
	{
		FILE *f = fopen(path, "a");

		CHECK(f != NULL);
		if (f != NULL) {
			fputs("line 000040", f);
			fclose(f);
		}
	}
	CHECK_INT(rename(path, old), 0);
	pause_every = 7;
	while (ngot < 41 && polls++ < 200) {
		sleep_ms(30);
		logfile_poll(ls);
		logfile_pause(ls, 0);
	}
	pause_every = 0;
	CHECK_INT(ngot, 41);
	CHECK(in_order);
	logfile_close(ls);
}

int
main(void)
{
	char dir[] = "/tmp/soc-test-logfile-pause-XXXXXX";
	char *pv[1];
	char cmd[100];

	log_init("test-logfile-pause", 0);
	pat.v = pv;
	CHECK(mkdtemp(dir) != NULL);
	test_pause_from_emit(dir);
	test_pause_from_tick(dir);
	test_pause_rotated(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return check_done();
}
