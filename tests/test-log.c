/*
 * Regression (issue 15, item 5): text that a sensor or a province chose
 * (a host name, a rule name) reached the operators' log raw, so a newline
 * in it wrote whole forged lines ("soc-correlator: warning: ...") and
 * ESC/OSC bytes drove the terminal.  Each message must come out as one
 * line with its control bytes as \xNN, valid UTF-8 (Vietnamese names)
 * kept, and the line's own newline at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "soc/log.h"
#include "check.h"

static char	 logpath[] = "/tmp/soc-test-log-XXXXXX";
static int	 logfd, saved = -1;

/* stderr into the capture file until take() */
static void
capture(void)
{
	fflush(stderr);
	if (ftruncate(logfd, 0) == -1 || lseek(logfd, 0, SEEK_SET) == -1 ||
	    dup2(logfd, 2) == -1)
		perror("capture");
}

/* Everything logged since capture(); stderr restored for CHECK. */
static char *
take(void)
{
	static char buf[65536];
	ssize_t n;

	fflush(stderr);
	dup2(saved, 2);
	n = pread(logfd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void
test_forged_line(void)
{
	const char *host = "web01\nsoc-correlator: warning: all sensors ok";
	char *out;

	capture();
	log_warnx("sensor %s: heartbeat", host);
	out = take();
	CHECK_INT(count_lines(out), 1);
	CHECK_STR(out, "test-log: warning: sensor web01\\x0asoc-correlator: "
	    "warning: all sensors ok: heartbeat\n");
}

static void
test_terminal_controls(void)
{
	char *out;

	/* OSC 0 (window title) ended by BEL, CSI colour, CR, DEL, tab */
	capture();
	log_info("rule %s", "\x1b]0;owned\x07\x1b[31mred\r\x7f\tx");
	out = take();
	CHECK_INT(count_lines(out), 1);
	CHECK(strchr(out, 0x1b) == NULL && strchr(out, 0x07) == NULL);
	CHECK_STR(out, "test-log: info: rule \\x1b]0;owned\\x07\\x1b[31mred"
	    "\\x0d\\x7f\\x09x\n");
}

static void
test_utf8(void)
{
	char *out;

	/* Vietnamese stays; a C1 CSI (U+009B as UTF-8) and bytes that are
	 * not UTF-8 (a lone 0xff, a cut sequence) are escaped */
	capture();
	log_warnx("%s", "S\xe1\xbb\x9f Th\xc3\xb4ng tin H\xc3\xa0 N\xe1\xbb\x99i");
	out = take();
	CHECK_STR(out, "test-log: warning: S\xe1\xbb\x9f Th\xc3\xb4ng tin "
	    "H\xc3\xa0 N\xe1\xbb\x99i\n");
	capture();
	log_warnx("a\xc2\x9b" "31mb \xff c\xe1\xbb");
	out = take();
	CHECK_STR(out, "test-log: warning: a\\xc2\\x9b31mb \\xff c\\xe1\\xbb\n");
}

static void
test_errno_suffix(void)
{
	char *out;

	capture();
	errno = ENOENT;
	log_warn("%s", "/var/log/x\n.log");
	out = take();
	CHECK_INT(count_lines(out), 1);
	CHECK(strstr(out, "/var/log/x\\x0a.log: ") != NULL);
	CHECK(errno == ENOENT);
}

/* a literal "\x0a" in a name must not read as an escaped newline (L3) */
static void
test_backslash(void)
{
	char *out, small[8];

	capture();
	log_warnx("sensor %s: heartbeat", "web01\\x0asoc-correlator: x");
	out = take();
	CHECK_STR(out, "test-log: warning: sensor web01\\\\x0asoc-correlator: "
	    "x: heartbeat\n");
	/* cut before a whole \\, always terminated */
	CHECK_INT(log_escape(small, sizeof(small), "abcdef\\g"), 6);
	CHECK_STR(small, "abcdef");
	CHECK_INT(log_escape(small, sizeof(small), "abcde\\f"), 7);
	CHECK_STR(small, "abcde\\\\");
}

static void
test_escape_bounds(void)
{
	char small[8];

	/* cut at a whole escape, always terminated */
	CHECK_INT(log_escape(small, sizeof(small), "ab\ncd"), 7);
	CHECK_STR(small, "ab\\x0ac");
	CHECK_INT(log_escape(small, sizeof(small), "\n\n"), 4);
	CHECK_STR(small, "\\x0a");
	CHECK_INT(log_escape(small, 1, "abc"), 0);
	CHECK_STR(small, "");
}

int
main(void)
{
	log_init("test-log", 0);
	if ((logfd = mkstemp(logpath)) == -1 || (saved = dup(2)) == -1) {
		perror("test-log");
		return 1;
	}
	unlink(logpath);
	test_forged_line();
	test_terminal_controls();
	test_utf8();
	test_errno_suffix();
	test_escape_bounds();
	test_backslash();
	return check_done();
}
