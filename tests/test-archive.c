/*
 * The archive (correlator/archive/): writer and reader round trip, the
 * index (skip, may-match, corrupt), the cut of bytes never committed
 * and of segments never committed, a batch undone, a segment cut
 * mid-frame, the hourly rotation, a write that fails (a file size limit:
 * the same path as ENOSPC) pausing without failing, and retention by age
 * and by size.  Real files in a temporary directory.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "soc/event.h"
#include "soc/json.h"
#include "soc/util.h"
#include "soc/wire.h"
#include "check.h"
#include "fixture.h"
#include "evarchive.h"

#define T0	1796000000000000000LL	/* 2026-11-30 */

static struct soc_event ev;
static struct soc_sbuf js;
static struct soc_wbuf wb;
static char dir[256];

/* Event i: agency, user, an address 10.0.(i/256).(i%256), a domain. */
static void
make(int i, const char *agency)
{
	struct soc_ip ip = { .family = 4, .addr = { 10, 0, (uint8_t)(i / 256),
	    (uint8_t)(i % 256) } };
	char name[64];

	soc_event_reset(&ev);
	ev.ts = T0 + (int64_t)i * 1000000000LL;
	soc_event_set_cstr(&ev, SOC_F_ORGANIZATION_ID, agency);
	soc_event_set_cstr(&ev, SOC_F_EVENT_DATASET, "sshd");
	soc_event_set_ip(&ev, SOC_F_SOURCE_IP, &ip);
	snprintf(name, sizeof(name), "user%d", i);
	soc_event_set_cstr(&ev, SOC_F_USER_NAME, name);
	snprintf(name, sizeof(name), "h%d.Example.COM", i);
	soc_event_set_cstr(&ev, SOC_F_DNS_QNAME, name);
	snprintf(name, sizeof(name), "marker %05d Zebra", i);
	soc_event_set_cstr(&ev, SOC_F_MESSAGE, name);
	soc_sbuf_reset(&js);
	soc_json_event(&js, &ev);
	soc_wire_begin(&wb, SOC_WIRE_EVENTS, 0);
	soc_wire_add_event(&wb, &ev);
}

/* The event as ingest hands it over: its wire bytes. */
static void
add_one(struct archive_writer *w, const char *agency)
{
	archive_writer_add(w, agency, "gw1", wb.data + SOC_WIRE_HDR_LEN,
	    wb.len - SOC_WIRE_HDR_LEN);
}

static void
add_range(struct archive_writer *w, int from, int to, const char *agency)
{
	for (int i = from; i < to; i++) {
		make(i, agency);
		add_one(w, agency);
	}
}

/* A committed group: 1 when a position was recorded. */
static int
commit(struct archive_writer *w, char *seg, uint64_t *off)
{
	uint64_t n;
	int rc = archive_writer_flush(w, seg, off, &n);

	archive_writer_done(w, rc == 1);
	return rc;
}

static int
count_fn(void *arg, const char *line, size_t len, int64_t ts,
    const struct soc_event *e)
{
	(void)line, (void)len, (void)ts, (void)e;
	(*(int *)arg)++;
	return 0;
}

static int
search(const struct archive_query *q, struct archive_rstats *rs)
{
	char err[256];
	int n = 0;

	memset(rs, 0, sizeof(*rs));
	if (archive_search(dir, q, count_fn, &n, NULL, NULL, rs, err,
	    sizeof(err)) == -1)
		return -1;
	return n;
}

static off_t
fsize(const char *seg)
{
	char p[512];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/%s", dir, seg);
	return stat(p, &sb) == 0 ? sb.st_size : -1;
}

static void
test_roundtrip(void)
{
	struct archive_writer *w;
	struct archive_query q = { 0 };
	struct archive_rstats rs;
	char seg[ARCHIVE_NAME_MAX], err[256];
	const char *words[2] = { "MARKER", "zebra" };
	const char *ag[1] = { "other" };
	uint64_t off;

	w = archive_writer_open(dir, "", 0, err, sizeof(err));
	CHECK(w != NULL);
	if (w == NULL)
		return;
	archive_writer_begin(w, T0);
	add_range(w, 0, 500, "stttt");
	CHECK_INT(commit(w, seg, &off), 1);
	CHECK_INT(fsize(seg), (long long)off);
	/* a batch undone at its savepoint leaves nothing */
	size_t m = archive_writer_mark(w);
	add_range(w, 500, 510, "stttt");
	archive_writer_undo(w, m);
	add_range(w, 510, 600, "sotc");
	/* undone after the encoder took some of it: the frame begun again */
	m = archive_writer_mark(w);
	add_range(w, 700, 900, "stttt");
	archive_writer_undo(w, m);
	CHECK_INT(commit(w, seg, &off), 1);
	CHECK_INT(archive_writer_stats(w)->events, 590);
	/* the open segment has no index yet: read whole, counted */
	CHECK_INT(search(&q, &rs), 590);
	CHECK_INT(rs.index_bad, 1);
	/* the match itself, with no index to skip by */
	q.domain = "xample.com";		/* not a label boundary */
	CHECK_INT(search(&q, &rs), 0);
	q.domain = "h7.EXAMPLE.com";
	CHECK_INT(search(&q, &rs), 1);
	q.domain = NULL;
	CHECK(archive_net_parse("10.0.1.0/24", &q.ip) == 0);
	q.has_ip = true;
	CHECK_INT(search(&q, &rs), 256 - 10);
	q.has_ip = false;
	archive_writer_close(w);

	/* closed: the index is there and agrees */
	CHECK_INT(search(&q, &rs), 590);
	CHECK_INT(rs.index_bad, 0);
	CHECK(archive_net_parse("10.0.1.44", &q.ip) == 0);
	q.has_ip = true;
	CHECK_INT(search(&q, &rs), 1);		/* 256 + 44 = 300 */
	CHECK(archive_net_parse("10.0.1.0/24", &q.ip) == 0);
	CHECK_INT(search(&q, &rs), 256 - 10);	/* 500..509 undone */
	CHECK(archive_net_parse("10.0.0.0/8", &q.ip) == 0);
	CHECK_INT(search(&q, &rs), 590);
	CHECK(archive_net_parse("192.0.2.1", &q.ip) == 0);
	CHECK_INT(search(&q, &rs), 0);
	CHECK_INT(rs.skipped, 1);		/* by the index alone */
	CHECK_INT(rs.scanned, 0);
	CHECK(archive_net_parse("10.0.0.0/33", &q.ip) == -1);
	q.has_ip = false;
	q.domain = "example.com";		/* parent of every qname */
	CHECK_INT(search(&q, &rs), 590);
	q.domain = "H7.example.com.";
	CHECK_INT(search(&q, &rs), 1);
	q.domain = "xample.com";		/* not a label boundary */
	CHECK_INT(search(&q, &rs), 0);
	q.domain = NULL;
	q.user = "USER42";
	CHECK_INT(search(&q, &rs), 1);
	q.user = NULL;
	q.words = words;
	q.nwords = 2;
	CHECK_INT(search(&q, &rs), 590);
	words[0] = "marker 00042";
	CHECK_INT(search(&q, &rs), 1);
	words[0] = "marker 00505";		/* undone */
	CHECK_INT(search(&q, &rs), 0);
	words[0] = "marker 00800";		/* undone, already encoded */
	CHECK_INT(search(&q, &rs), 0);
	q.nwords = 0;
	q.agencies = ag;
	q.nagencies = 1;
	CHECK_INT(search(&q, &rs), 0);
	ag[0] = "sotc";
	CHECK_INT(search(&q, &rs), 90);
	q.nagencies = 0;
	q.since = T0 + 100 * 1000000000LL;
	q.until = T0 + 199 * 1000000000LL;
	CHECK_INT(search(&q, &rs), 100);
	q.since = T0 + 10000 * 1000000000LL;	/* after everything */
	q.until = 0;
	CHECK_INT(search(&q, &rs), 0);
	CHECK_INT(rs.skipped, 1);
}

/* The newest first, limited. */
static int
newest_fn(void *arg, const char *line, size_t len, int64_t ts,
    const struct soc_event *e)
{
	int64_t *last = arg;

	(void)line, (void)len, (void)e;
	if (last[0] != 0 && ts > last[0])
		last[1] = 1;		/* out of order */
	last[0] = ts;
	last[2]++;
	return 0;
}

static void
test_newest(void)
{
	struct archive_query q = { 0 };
	struct archive_rstats rs = { 0 };
	int64_t st[3] = { 0, 0, 0 };
	char err[256];

	CHECK(archive_search_newest(dir, &q, 7, newest_fn, st, NULL, NULL, &rs,
	    err, sizeof(err)) == 0);
	CHECK_INT(st[2], 7);
	CHECK_INT(st[1], 0);
	CHECK_INT(st[0], T0 + 593 * 1000000000LL);
}

/* A crash between the write and the commit, then a start. */
static void
test_recover(void)
{
	struct archive_writer *w;
	struct archive_query q = { 0 };
	struct archive_rstats rs;
	char seg[ARCHIVE_NAME_MAX], seg2[ARCHIVE_NAME_MAX], err[256], p[512];
	uint64_t off, off2, n;
	int before, fd;

	before = search(&q, &rs);
	w = archive_writer_open(dir, "", 0, err, sizeof(err));
	CHECK(w != NULL);
	if (w == NULL)
		return;
	archive_writer_begin(w, T0);
	add_range(w, 1000, 1100, "stttt");
	CHECK_INT(commit(w, seg, &off), 1);
	add_range(w, 1100, 1200, "stttt");
	CHECK_INT(archive_writer_flush(w, seg2, &off2, &n), 1);
	CHECK_INT(n, 100);
	CHECK(off2 > off);
	/* the crash: no commit; the process is gone with its bytes */
	archive_writer_close(w);
	CHECK_INT(fsize(seg), (long long)off2);
	/* and a segment created after the committed one, never committed */
	snprintf(p, sizeof(p), "%s/21001231T235959Z-000.jsonl.zst", dir);
	fd = open(p, O_WRONLY | O_CREAT, 0640);
	CHECK(fd != -1 && write(fd, "junk", 4) == 4);
	close(fd);

	w = archive_writer_open(dir, seg, off, err, sizeof(err));
	CHECK(w != NULL);
	if (w == NULL)
		return;
	CHECK_INT(fsize(seg), (long long)off);
	CHECK_INT(archive_writer_stats(w)->cut_bytes, (long long)(off2 - off));
	CHECK_INT(archive_writer_stats(w)->removed, 1);
	CHECK(access(p, F_OK) == -1);
	CHECK(strcmp(archive_writer_position(w, &n), seg) > 0);
	archive_writer_close(w);
	CHECK_INT(search(&q, &rs), before + 100);
	CHECK_INT(rs.index_bad, 0);		/* rebuilt at the start */

	/* a rollback cuts the frame at once */
	w = archive_writer_open(dir, seg, off, err, sizeof(err));
	CHECK(w != NULL);
	if (w == NULL)
		return;
	add_range(w, 2000, 2010, "stttt");
	CHECK_INT(archive_writer_flush(w, seg2, &off2, &n), 1);
	archive_writer_done(w, 0);
	CHECK_INT(fsize(seg2), 0);
	archive_writer_close(w);
	CHECK_INT(search(&q, &rs), before + 100);
}

/* Corrupt index, cut segment, garbage: read anyway, counted. */
static void
test_damage(void)
{
	struct archive_query q = { 0 };
	struct archive_rstats rs;
	char (*names)[ARCHIVE_NAME_MAX] = NULL;
	char p[512], idx[600];
	size_t n = 0;
	int dfd, total, fd;
	struct stat sb;

	total = search(&q, &rs);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(archive_seg_list(dfd, &names, &n) > 0);
	close(dfd);
	if (n == 0)
		return;
	snprintf(p, sizeof(p), "%s/%s", dir, names[0]);
	snprintf(idx, sizeof(idx), "%s%s", p, ARCHIVE_IDX_SUFFIX);
	/* one byte of the index changed: not used, the segment read */
	fd = open(idx, O_RDWR);
	CHECK(fd != -1 && pwrite(fd, "\x7f", 1, 60) == 1);
	close(fd);
	CHECK(archive_net_parse("192.0.2.1", &q.ip) == 0);
	q.has_ip = true;
	CHECK_INT(search(&q, &rs), 0);
	CHECK(rs.index_bad >= 1);
	CHECK(rs.scanned >= 1);
	q.has_ip = false;
	CHECK_INT(search(&q, &rs), total);
	/* the segment cut in its last frame: the frames before it read */
	CHECK(stat(p, &sb) == 0);
	CHECK(truncate(p, sb.st_size - 5) == 0);
	int got = search(&q, &rs);
	CHECK(got > 0 && got < total);
	CHECK_INT(rs.cut, 1);
	/* garbage appended: counted, what came before still read */
	struct archive_rstats rs2 = { 0 };
	archive_scan_bytes("\x28\xb5\x2f\xfd garbage", 12, NULL, NULL, NULL, &rs2);
	CHECK_INT(rs2.cut, 1);
	CHECK_INT(rs2.matched, 0);
	memset(&rs2, 0, sizeof(rs2));
	archive_scan_bytes("", 0, NULL, NULL, NULL, &rs2);
	CHECK_INT(rs2.matched, 0);
	free(names);
}

static void
test_rotate_and_fail(void)
{
	struct archive_writer *w;
	struct archive_query q = { 0 };
	struct archive_rstats rs;
	char seg[ARCHIVE_NAME_MAX], seg2[ARCHIVE_NAME_MAX], err[256];
	struct rlimit rl, old;
	uint64_t off, n;
	int before = search(&q, &rs);

	w = archive_writer_open(dir, "", 0, err, sizeof(err));
	CHECK(w != NULL);
	if (w == NULL)
		return;
	archive_writer_begin(w, soc_now_ns());
	add_range(w, 3000, 3010, "stttt");
	CHECK_INT(commit(w, seg, &off), 1);
	/* the first group of the next hour: a new segment, the old indexed */
	archive_writer_begin(w, soc_now_ns() + 3600 * 1000000000LL);
	add_range(w, 3010, 3020, "stttt");
	CHECK_INT(commit(w, seg2, &off), 1);
	CHECK(strcmp(seg2, seg) > 0);
	char ip[512];
	snprintf(ip, sizeof(ip), "%s/%s%s", dir, seg, ARCHIVE_IDX_SUFFIX);
	CHECK(access(ip, F_OK) == 0);

	/* a write that fails (EFBIG; ENOSPC takes the same path) */
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	rl = old;
	rl.rlim_cur = (rlim_t)off + 16;
	setrlimit(RLIMIT_FSIZE, &rl);
	add_range(w, 3020, 3500, "stttt");
	CHECK_INT(archive_writer_flush(w, seg2, &n, &n), 0);
	CHECK_INT(archive_writer_stats(w)->paused, 1);
	CHECK_INT(archive_writer_stats(w)->write_errors, 1);
	CHECK_INT(archive_writer_stats(w)->dropped, 480);
	CHECK_INT(fsize(seg2), (long long)off);	/* the partial write cut */
	/* while paused: dropped at once, counted, no write tried */
	add_range(w, 3500, 3510, "stttt");
	CHECK_INT(archive_writer_flush(w, seg2, &n, &n), 0);
	CHECK_INT(archive_writer_stats(w)->dropped, 490);
	CHECK_INT(archive_writer_stats(w)->write_errors, 1);
	/* room again and the pause over: resumed */
	setrlimit(RLIMIT_FSIZE, &old);
	archive_writer_set_retry(w, 0);
	add_range(w, 3510, 3530, "stttt");
	CHECK_INT(commit(w, seg2, &off), 1);
	CHECK_INT(archive_writer_stats(w)->paused, 0);
	archive_writer_close(w);
	int after = search(&q, &rs);
	CHECK_INT(after, before + 40);
}

/* Time order: [0] last ts, [1] steps back, [2] events, [3] without ev. */
static int
order_fn(void *arg, const char *line, size_t len, int64_t ts,
    const struct soc_event *e)
{
	int64_t *st = arg;

	(void)line, (void)len;
	if (st[2] > 0 && ts < st[0])
		st[1]++;
	if (e == NULL || e->ts != ts)
		st[3]++;
	st[0] = ts;
	st[2]++;
	return 0;
}

/* Hunts read the segments oldest first, each event parsed. */
static void
test_oldest(void)
{
	struct archive_query q = { 0 };
	struct archive_rstats rs = { 0 };
	int64_t st[4] = { 0 }, back[4] = { 0 };
	char err[256];
	int all = search(&q, &rs);

	CHECK(rs.segments >= 3);
	CHECK(archive_search(dir, &q, order_fn, back, NULL, NULL, &rs, err,
	    sizeof(err)) == 0);
	CHECK(back[1] > 0);		/* the default: newest segment first */
	q.oldest_first = true;
	q.parse = true;
	memset(&rs, 0, sizeof(rs));
	CHECK(archive_search(dir, &q, order_fn, st, NULL, NULL, &rs, err,
	    sizeof(err)) == 0);
	CHECK_INT(st[2], all);
	CHECK_INT(st[1], 0);		/* never back in time */
	CHECK_INT(st[3], 0);		/* every event parsed */
	CHECK_INT(st[0], T0 + 3529 * 1000000000LL);
	/* with a time range: the same order, fewer */
	q.since = T0 + 3010 * 1000000000LL;
	memset(st, 0, sizeof(st));
	CHECK(archive_search(dir, &q, order_fn, st, NULL, NULL, &rs, err,
	    sizeof(err)) == 0);
	CHECK_INT(st[2], 30);
	CHECK_INT(st[1], 0);
}

static void
test_keep(void)
{
	struct archive_keep_stats ks = { 0 };
	char p[512], (*names)[ARCHIVE_NAME_MAX] = NULL;
	size_t n0 = 0, n = 0;
	int dfd, fd;

	static const char *const old[] = { "20200101T000000Z-000.jsonl.zst",
		"20200101T010000Z-000.jsonl.zst", "20200102T000000Z-000.jsonl.zst" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, old[i]);
		fd = open(p, O_WRONLY | O_CREAT, 0640);
		CHECK(fd != -1 && write(fd, "0123456789", 10) == 10);
		close(fd);
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	archive_seg_list(dfd, &names, &n0);
	free(names);
	/* by age: the two of 1 January 2020 before the 2nd at 02:30 */
	CHECK(archive_keep(dir, 24 * 3600 * 1000000000LL, 0, NULL,
	    1577932200LL * 1000000000LL, &ks) == 0);
	CHECK_INT(ks.removed, 2);
	snprintf(p, sizeof(p), "%s/%s", dir, old[2]);
	CHECK(access(p, F_OK) == 0);
	/* by size: down to 1 byte, but never the open segment */
	archive_seg_list(dfd, &names, &n);
	CHECK_INT(n, n0 - 2);
	CHECK(archive_keep(dir, 0, 1, names[n - 1], soc_now_ns(), &ks) == 0);
	CHECK_INT(ks.removed, 2 + n - 1);
	CHECK_INT(ks.segments, 1);
	free(names);
	archive_seg_list(dfd, &names, &n);
	CHECK_INT(n, 1);
	free(names);
	close(dfd);
}

/* How many events hold the word (case-insensitively), or -1. */
static int
count_word(const char *word)
{
	const char *words[1] = { word };
	struct archive_query q = { 0 };
	struct archive_rstats rs;

	q.words = words;
	q.nwords = 1;
	return search(&q, &rs);
}

/*
 * A group over several of the writer's chunks (256 KiB of records
 * each), batches undone across a chunk's end after the encoder took some
 * of them, and inside one before it did; then a group on the chunks kept
 * from the first; a group whose frame was begun, then dropped.  Each
 * marker is there once, the undone and dropped ones never (archive.sync
 * parallel).
 */
static void
test_chunks(void)
{
	char saved[sizeof(dir)], seg[ARCHIVE_NAME_MAX], err[256];
	struct archive_query q = { 0 };
	struct archive_rstats rs;
	struct archive_writer *w;
	uint64_t off;
	size_t m;

	memcpy(saved, dir, sizeof(saved));
	snprintf(dir, sizeof(dir), "%.200s/chunks", saved);
	w = archive_writer_open(dir, "", 0, err, sizeof(err));
	CHECK(w != NULL);
	if (w == NULL)
		goto out;
	/* archive.sync parallel here (the other tests: before) */
	CHECK_INT(archive_writer_set_sync(w, 1), 0);
	archive_writer_begin(w, T0);
	add_range(w, 0, 3000, "stttt");
	m = archive_writer_mark(w);
	add_range(w, 3000, 5000, "stttt");
	archive_writer_undo(w, m);
	add_range(w, 5000, 6000, "stttt");
	m = archive_writer_mark(w);
	add_range(w, 6000, 6010, "stttt");
	archive_writer_undo(w, m);
	add_range(w, 6010, 8000, "stttt");
	CHECK_INT(commit(w, seg, &off), 1);
	CHECK_INT(archive_writer_stats(w)->events, 5990);
	add_range(w, 8000, 9000, "stttt");
	CHECK_INT(commit(w, seg, &off), 1);
	CHECK_INT(archive_writer_stats(w)->events, 6990);
	/* begun (the encoder writes the frame meanwhile), then the group
	 * failed before its flush: the frame is cut */
	add_range(w, 9000, 9100, "stttt");
	archive_writer_flush_begin(w);
	archive_writer_discard(w);
	CHECK_INT(fsize(seg), (long long)off);
	add_range(w, 9100, 9110, "stttt");
	archive_writer_flush_begin(w);
	CHECK_INT(commit(w, seg, &off), 1);
	CHECK_INT(fsize(seg), (long long)off);
	CHECK_INT(archive_writer_stats(w)->events, 7000);
	archive_writer_close(w);
	CHECK_INT(search(&q, &rs), 7000);
	CHECK_INT(rs.lines_bad, 0);
	CHECK_INT(count_word("marker 00000 "), 1);
	CHECK_INT(count_word("marker 02999 "), 1);
	CHECK_INT(count_word("marker 03000 "), 0);
	CHECK_INT(count_word("marker 04999 "), 0);
	CHECK_INT(count_word("marker 05000 "), 1);
	CHECK_INT(count_word("marker 06000 "), 0);
	CHECK_INT(count_word("marker 06009 "), 0);
	CHECK_INT(count_word("marker 06010 "), 1);
	CHECK_INT(count_word("marker 08999 "), 1);
	CHECK_INT(count_word("marker 09000 "), 0);
	CHECK_INT(count_word("marker 09100 "), 1);
	fx_rmtree(dir);
out:
	memcpy(dir, saved, sizeof(dir));
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/soc-test-archive-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	soc_sbuf_init(&js);
	soc_wbuf_init(&wb);
	test_roundtrip();
	test_newest();
	test_recover();
	test_damage();
	test_rotate_and_fail();
	test_oldest();
	test_keep();
	test_chunks();
	soc_sbuf_free(&js);
	soc_wbuf_free(&wb);
	fx_rmtree(dir);
	return check_done();
}
