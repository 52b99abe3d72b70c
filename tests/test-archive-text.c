/*
 * The archive's --text matching (archive-read.c): every word in the same
 * line, ASCII letters in either case, other bytes as they are.  Frames
 * of JSON lines are compressed here and read with archive_scan_bytes();
 * cases chosen by hand (a word across a line's end, in two events, case,
 * bytes the fast filter folds wrongly, a frame larger than the
 * reader's first buffer that does not say its size), then random frames and words
 * against a plain reference (a lowercased line and memmem); and a FIFO
 * among the segments.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "check.h"
#include "evarchive.h"

#define HEAD	"{\"@timestamp\":\"2026-11-30T00:53:20.000000000Z\",\"m\":\""
#define LINES_MAX	400

struct got {
	size_t	 n;
	char	*line[LINES_MAX];
	int	 stop_after;		/* 0: never */
};

static int
got_fn(void *arg, const char *line, size_t len, int64_t ts,
    const struct soc_event *ev)
{
	struct got *g = arg;

	(void)ts, (void)ev;
	if (g->n < LINES_MAX) {
		g->line[g->n] = malloc(len + 1);
		memcpy(g->line[g->n], line, len);
		g->line[g->n][len] = '\0';
	}
	g->n++;
	return g->stop_after != 0 && g->n >= (size_t)g->stop_after;
}

static void
got_free(struct got *g)
{
	for (size_t i = 0; i < g->n && i < LINES_MAX; i++)
		free(g->line[i]);
	g->n = 0;
}

/* text (lines) as one zstd frame; its size in *n */
static void *
frame(const char *text, size_t len, size_t *n)
{
	size_t cap = ZSTD_compressBound(len);
	void *z = malloc(cap);

	*n = ZSTD_compress(z, cap, text, len, 1);
	if (ZSTD_isError(*n))
		abort();
	return z;
}

/* Matches of words (NULL-ended) over text; the events counted in *ev. */
static size_t
scan(const char *text, const char **words, struct got *g, uint64_t *ev)
{
	struct archive_query q = { 0 };
	struct archive_rstats rs = { 0 };
	size_t zn, nw = 0;
	void *z;

	while (words[nw] != NULL)
		nw++;
	q.words = words;
	q.nwords = nw;
	z = frame(text, strlen(text), &zn);
	archive_scan_bytes(z, zn, &q, got_fn, g, &rs);
	free(z);
	if (ev != NULL)
		*ev = rs.events;
	CHECK_INT(rs.frames_bad, 0);
	CHECK_INT(rs.lines_bad, 0);
	return g->n;
}

static size_t
count(const char *text, const char *w0, const char *w1)
{
	const char *w[3] = { w0, w1, NULL };
	struct got g = { 0 };
	size_t n = scan(text, w, &g, NULL);

	got_free(&g);
	return n;
}

static void
test_cases(void)
{
	const char *two = HEAD "login Failed for root\"}\n"
	    HEAD "nothing here\"}\n"
	    HEAD "FAILED PASSWORD for admin\"}\n";
	const char *split = HEAD "ends in foo\"}\n" HEAD "bar starts\"}";
	const char *utf = HEAD "\xc3\x89" "cole \xe1\xbb\x9b\"}\n";
	struct got g = { 0 };
	uint64_t ev;

	/* a word in two events, in either case */
	CHECK_INT(count(two, "failed", NULL), 2);
	CHECK_INT(count(two, "FaIlEd", NULL), 2);
	CHECK_INT(count(two, "failed", "ROOT"), 1);
	CHECK_INT(count(two, "root", "failed"), 1);
	/* both words, but in different events */
	CHECK_INT(count(two, "root", "admin"), 0);
	CHECK_INT(count(two, "password", "login"), 0);
	/* an empty word is in every line */
	CHECK_INT(count(two, "", NULL), 3);
	CHECK_INT(count(two, "", "admin"), 1);
	/* across a line's end: in neither line */
	CHECK_INT(count(split, "foo\"}", NULL), 1);
	CHECK_INT(count(split, "foobar", NULL), 0);
	CHECK_INT(count(split, "foo\"}\n{", NULL), 0);
	CHECK_INT(count(split, "}\n", NULL), 0);
	CHECK_INT(count(split, "bar starts\"}", NULL), 1);	/* no newline at the end */
	/* bytes that are not ASCII letters are as they are: '@' is not '`' */
	CHECK_INT(count(two, "\"@timestamp", NULL), 3);
	CHECK_INT(count(two, "\"`timestamp", NULL), 0);
	CHECK_INT(count(two, "{\"@TIMESTAMP\":", NULL), 3);
	CHECK_INT(count(two, "[\"@timestamp", NULL), 0);	/* '[' | 0x20 is '{' */
	CHECK_INT(count(utf, "\xc3\x89" "COLE", NULL), 1);
	CHECK_INT(count(utf, "\xc3\xa9" "cole", NULL), 0);	/* é is not É */
	CHECK_INT(count(utf, "\xe1\xbb\x9b", NULL), 1);
	CHECK_INT(count(utf, "\xe1\xbb\x9a", NULL), 0);
	/* one letter; the events counted, the frame's whole even when stopped */
	CHECK_INT(scan(two, (const char *[]){ "x", NULL }, &g, &ev), 0);
	CHECK_INT(ev, 3);
	g.stop_after = 1;
	CHECK_INT(scan(two, (const char *[]){ "e", NULL }, &g, &ev), 1);
	CHECK_INT(ev, 3);
	got_free(&g);
	g.stop_after = 0;
	CHECK_INT(scan(split, (const char *[]){ "s", NULL }, &g, &ev), 2);
	CHECK_INT(ev, 2);
	CHECK(g.n == 2 && strstr(g.line[1], "bar starts") != NULL);
	got_free(&g);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static const char alpha[] = "aAbBzZeE@`[{]}\\\"01 :.-_\xc3\x89\xa9\x80\xff";

static void
lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s += 'a' - 'A';
}

/* The reference: every word in the lowercased line. */
static int
ref_match(const char *line, char **w, size_t nw)
{
	char *l = strdup(line);
	int ok = 1;

	lower(l);
	for (size_t i = 0; i < nw && ok; i++) {
		char *lw = strdup(w[i]);

		lower(lw);
		ok = strstr(l, lw) != NULL;
		free(lw);
	}
	free(l);
	return ok;
}

static void
test_random(void)
{
	static char text[LINES_MAX * 200];
	char *lines[LINES_MAX], *w[4];
	int bad = 0;

	for (int round = 0; round < 3000 && bad < 5; round++) {
		size_t nl = 1 + rnd(round % 10 == 0 ? LINES_MAX : 12), len = 0;
		size_t nw = 1 + rnd(3), want = 0, k = 0;
		struct got g = { 0 };
		uint64_t ev;

		for (size_t i = 0; i < nl; i++) {
			size_t n = rnd(round % 3 == 0 ? 120 : 24);
			char *l = malloc(sizeof(HEAD) + n + 3);

			memcpy(l, HEAD, sizeof(HEAD) - 1);
			for (size_t j = 0; j < n; j++)
				l[sizeof(HEAD) - 1 + j] = alpha[rnd(sizeof(alpha) - 1)];
			memcpy(l + sizeof(HEAD) - 1 + n, "\"}", 3);
			lines[i] = l;
			len += (size_t)snprintf(text + len, sizeof(text) - len,
			    "%s%s", l, i + 1 < nl || rnd(2) ? "\n" : "");
		}
		for (size_t i = 0; i < nw; i++) {
			size_t n = 1 + rnd(round % 4 == 0 ? 30 : 5);

			w[i] = malloc(n + 1);
			if (rnd(3) != 0) {
				/* a piece of the frame, its case changed */
				size_t at = rnd((unsigned)len);

				if (at + n > len)
					n = len - at;
				memcpy(w[i], text + at, n);
				for (size_t j = 0; j < n; j++)
					if (rnd(2) && w[i][j] >= 'a' && w[i][j] <= 'z')
						w[i][j] -= 'a' - 'A';
			} else
				for (size_t j = 0; j < n; j++)
					w[i][j] = alpha[rnd(sizeof(alpha) - 1)];
			w[i][n] = '\0';
		}
		w[nw] = NULL;
		scan(text, (const char **)w, &g, &ev);
		CHECK_INT(ev, nl);
		for (size_t i = 0; i < nl; i++) {
			if (!ref_match(lines[i], w, nw))
				continue;
			want++;
			if (k < g.n && k < LINES_MAX && strcmp(g.line[k], lines[i]) == 0)
				k++;
		}
		if (g.n != want || k != want) {
			bad++;
			fprintf(stderr, "round %d: %zu matches, want %zu (%zu in"
			    " order); words:", round, g.n, want, k);
			for (size_t i = 0; i < nw; i++)
				fprintf(stderr, " [%s]", w[i]);
			fprintf(stderr, "\n");
		}
		CHECK_INT(g.n, want);
		CHECK_INT(k, want);
		got_free(&g);
		for (size_t i = 0; i < nl; i++)
			free(lines[i]);
		for (size_t i = 0; i < nw; i++)
			free(w[i]);
	}
}

/*
 * A frame that does not say its size (the writer streams) larger than
 * the reader's first buffer: read whole all the same.
 */
static void
test_streamed(void)
{
	struct archive_query q = { 0 };
	struct archive_rstats rs = { 0 };
	const char *w[2] = { "NEEDLE", "line 4" };
	size_t n = 6000, len = 0, cap = n * 420, zcap;
	char *text = malloc(cap);
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	ZSTD_inBuffer in;
	ZSTD_outBuffer out;
	struct got g = { 0 };

	for (size_t i = 0; i < n; i++) {
		len += (size_t)snprintf(text + len, cap - len, "%sline %zu %s"
		    "%0300d\"}\n", HEAD, i, i % 1000 == 999 ? "needle" : "", 0);
	}
	zcap = ZSTD_compressBound(len);
	out = (ZSTD_outBuffer){ malloc(zcap), zcap, 0 };
	/* in two steps, no size pledged: the header does not say it */
	in = (ZSTD_inBuffer){ text, len / 2, 0 };
	while (in.pos < in.size)
		ZSTD_compressStream2(cc, &out, &in, ZSTD_e_continue);
	in = (ZSTD_inBuffer){ text, len, len / 2 };
	CHECK_INT(ZSTD_compressStream2(cc, &out, &in, ZSTD_e_end), 0);
	CHECK(ZSTD_getFrameContentSize(out.dst, out.pos) ==
	    ZSTD_CONTENTSIZE_UNKNOWN);
	CHECK(len > (2u << 20));
	q.words = w;
	q.nwords = 2;
	archive_scan_bytes(out.dst, out.pos, &q, got_fn, &g, &rs);
	CHECK_INT(rs.frames_bad, 0);
	CHECK_INT(rs.events, n);
	CHECK_INT(g.n, 1);		/* 4999 of 999, 1999, ... 5999 */
	CHECK(g.n == 1 && strstr(g.line[0], "line 4999 needle") != NULL);
	got_free(&g);
	w[1] = "9 Needle";
	archive_scan_bytes(out.dst, out.pos, &q, got_fn, &g, &rs);
	CHECK_INT(g.n, 6);
	got_free(&g);
	/* cut short: counted, not read */
	memset(&rs, 0, sizeof(rs));
	archive_scan_bytes(out.dst, out.pos - 1, &q, got_fn, &g, &rs);
	CHECK_INT(rs.cut, 1);
	CHECK_INT(g.n, 0);
	ZSTD_freeCCtx(cc);
	free(out.dst);
	free(text);
}

/*
 * A real segment whose index is a FIFO: the index is not waited on, the
 * segment is read as if it had none.
 */
static void
test_fifo_index(const char *d)
{
	static const char line[] =
	    "{\"@timestamp\":\"2026-11-30T00:53:20.000000000Z\",\"m\":\"x\"}\n";
	struct archive_query q = { 0 };
	struct archive_rstats rs = { 0 };
	const char *w[1] = { "x" };
	char p[200], ip[256], err[256], z[512];
	struct got g = { 0 };
	size_t zn;
	int fd;

	zn = ZSTD_compress(z, sizeof(z), line, sizeof(line) - 1, 1);
	CHECK(!ZSTD_isError(zn));
	snprintf(p, sizeof(p), "%s/20261130T000000Z-000.jsonl.zst", d);
	snprintf(ip, sizeof(ip), "%s%s", p, ARCHIVE_IDX_SUFFIX);
	CHECK((fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0600)) != -1);
	CHECK(write(fd, z, zn) == (ssize_t)zn);
	close(fd);
	CHECK(mkfifo(ip, 0600) == 0);
	q.words = w;
	q.nwords = 1;
	alarm(20);		/* the reader waiting for a writer: failed */
	CHECK_INT(archive_search(d, &q, got_fn, &g, NULL, NULL, &rs, err,
	    sizeof(err)), 0);
	alarm(0);
	CHECK_INT(rs.events, 1);
	CHECK_INT(g.n, 1);
	got_free(&g);
	unlink(ip);
	unlink(p);
}

/* A FIFO named as a segment is passed over, not waited on. */
static void
test_fifo(void)
{
	struct archive_query q = { 0 };
	struct archive_rstats rs = { 0 };
	const char *w[1] = { "x" };
	char d[] = "/tmp/soc-test-archive-text.XXXXXX", p[128], err[256];
	struct got g = { 0 };

	if (mkdtemp(d) == NULL) {
		CHECK(0);
		return;
	}
	snprintf(p, sizeof(p), "%s/20261130T000000Z-000.jsonl.zst", d);
	CHECK(mkfifo(p, 0600) == 0);
	q.words = w;
	q.nwords = 1;
	alarm(20);		/* the reader waiting for a writer: failed */
	CHECK_INT(archive_search(d, &q, got_fn, &g, NULL, NULL, &rs, err,
	    sizeof(err)), 0);
	alarm(0);
	CHECK_INT(rs.segments, 1);
	CHECK_INT(rs.events, 0);
	unlink(p);
	test_fifo_index(d);
	rmdir(d);
}

int
main(void)
{
	test_cases();
	test_random();
	test_streamed();
	test_fifo();
	return check_done();
}
