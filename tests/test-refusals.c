/*
 * Refused handshakes are logged per source per minute (issue 15, item
 * 10), and in total (review L2): 300 sources (an IPv6 /64 offers any
 * number) refused once each must not write 300 lines; the lines past
 * REFUSE_LINES_MAX a minute are said in one summary line at the minute's
 * end, and a new minute logs at once again.  The log goes to stderr,
 * redirected here to a temp file whose lines are counted.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "soc/log.h"
#include "auth.h"

static FILE *logfp;

/* Lines logged since the last call that contain needle. */
static int
lines(const char *needle)
{
	static long off;
	char buf[2048];
	int n = 0;

	fflush(stderr);
	fseek(logfp, off, SEEK_SET);
	while (fgets(buf, sizeof(buf), logfp) != NULL)
		if (strstr(buf, needle) != NULL)
			n++;
	off = ftell(logfp);
	return n;
}

int
main(void)
{
	struct refusals *t;
	char src[64];
	int out, i, n;

	log_init("test-refusals", 0);
	if ((logfp = tmpfile()) == NULL || (out = dup(2)) == -1 ||
	    dup2(fileno(logfp), 2) == -1)
		return 1;
	if ((t = refusals_new()) == NULL)
		return 1;

	/* one source, 100 tries: one line now, one summary a minute on */
	for (i = 0; i < 100; i++)
		refusals_note(t, "192.0.2.1", 0, 1000 + i, "handshake refused"
		    " from %s (try %d)", "192.0.2.1", i);
	refusals_tick(t, 2000);
	n = lines("refused");
	refusals_tick(t, 61000);
	CHECK_INT(n, 1);
	CHECK_INT(lines("99 more refused handshakes from 192.0.2.1"), 1);

	/* 300 sources, once each, in one minute: capped */
	for (i = 0; i < 300; i++) {
		snprintf(src, sizeof(src), "2001:db8::%x", i + 1);
		refusals_note(t, src, 0, 70000 + i, "handshake refused from %s",
		    src);
	}
	refusals_tick(t, 71000);
	n = lines("refused");
	CHECK(n <= 30);
	CHECK(n >= 1);
	/* the minute's end: what the cap held back, in one line */
	refusals_tick(t, 70000 + 60000 + 300);
	CHECK_INT(lines("not logged in the last minute"), 1);
	CHECK(lines("refused") == 0);
	/* a new minute: a new source logs at once */
	refusals_note(t, "198.51.100.7", 0, 140000, "handshake refused from %s",
	    "198.51.100.7");
	CHECK_INT(lines("198.51.100.7"), 1);

	refusals_free(t);
	fflush(stderr);
	dup2(out, 2);
	return check_done();
}
