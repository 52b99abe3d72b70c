/*
 * The disk spool: records survive a reopen in order with their
 * checkpoints, a torn tail is cut and counted, acked segments are deleted,
 * and the size bound drops the oldest segments and counts them.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../sensor/spool.h"
#include "soc/log.h"
#include "check.h"

static struct spool_rec	got[4096];
static int		ngot;

static void
collect(void *arg, const struct spool_rec *r)
{
	(void)arg;
	if (ngot < 4096)
		got[ngot++] = *r;
}

static int
count_segs(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	while (d && (de = readdir(d)) != NULL)
		n += strstr(de->d_name, ".seg") != NULL;
	if (d)
		closedir(d);
	return n;
}

static void
test_reopen(const char *dir)
{
	char err[256], *cp = NULL, batch[3000], buf[3000], cpbuf[32];
	struct spool_rec r;
	struct spool_stats st;
	struct spool *sp;
	size_t cp_len;

	ngot = 0;
	sp = spool_open(dir, 1 << 30, collect, NULL, &cp, &cp_len, err, sizeof(err));
	CHECK(sp != NULL);
	CHECK(cp == NULL);
	for (int i = 0; i < 10; i++) {
		memset(batch, 'a' + i, sizeof(batch));
		snprintf(cpbuf, sizeof(cpbuf), "pos %d", i);
		CHECK_INT(spool_append(sp, 100 + (uint64_t)i, cpbuf, strlen(cpbuf),
		    batch, 1000 + (size_t)i, &r), 0);
	}
	CHECK_INT(spool_read(sp, &r, buf), 0);
	CHECK(buf[0] == 'j' && r.batch_len == 1009);
	spool_close(sp);

	ngot = 0;
	sp = spool_open(dir, 1 << 30, collect, NULL, &cp, &cp_len, err, sizeof(err));
	CHECK(sp != NULL);
	CHECK_INT(ngot, 10);
	CHECK_INT(got[0].seq, 100);
	CHECK_INT(got[9].seq, 109);
	CHECK(cp != NULL && cp_len == 5 && memcmp(cp, "pos 9", 5) == 0);
	free(cp);
	CHECK_INT(spool_read(sp, &got[3], buf), 0);
	CHECK(buf[0] == 'd' && buf[1002] == 'd' && got[3].batch_len == 1003);
	/* acking part of the only segment keeps it; acking all removes it */
	spool_ack(sp, 105);
	CHECK_INT(count_segs(dir), 1);
	spool_ack(sp, 109);
	CHECK_INT(count_segs(dir), 0);
	spool_stats(sp, &st);
	CHECK_INT(st.records, 0);
	CHECK_INT(st.bytes, 0);
	spool_close(sp);
}

static void
test_torn_tail(const char *dir)
{
	char err[256], *cp = NULL, batch[500], path[1024];
	struct spool_rec r;
	struct spool_stats st;
	struct spool *sp;
	size_t cp_len;
	struct stat sb;

	memset(batch, 'x', sizeof(batch));
	sp = spool_open(dir, 1 << 30, collect, NULL, &cp, &cp_len, err, sizeof(err));
	for (int i = 0; i < 3; i++)
		spool_append(sp, 200 + (uint64_t)i, "", 0, batch, sizeof(batch), &r);
	spool_close(sp);
	/* power loss in the middle of the last record */
	snprintf(path, sizeof(path), "%s/%020d.seg", dir, 200);
	CHECK_INT(stat(path, &sb), 0);
	CHECK_INT(truncate(path, sb.st_size - 100), 0);
	ngot = 0;
	sp = spool_open(dir, 1 << 30, collect, NULL, &cp, &cp_len, err, sizeof(err));
	spool_stats(sp, &st);
	CHECK_INT(ngot, 2);
	CHECK_INT(st.corrupt, 1);
	/* a flipped byte inside a record is caught by its CRC */
	spool_close(sp);
	int fd = open(path, O_RDWR);
	CHECK(fd != -1);
	CHECK(pwrite(fd, "Z", 1, 600) == 1);
	close(fd);
	ngot = 0;
	sp = spool_open(dir, 1 << 30, collect, NULL, &cp, &cp_len, err, sizeof(err));
	CHECK_INT(ngot, 1);
	spool_ack(sp, 1000);
	spool_close(sp);
	free(cp);
}

static void
test_bound(const char *dir)
{
	static char batch[1 << 20];
	char err[256], *cp = NULL;
	struct spool_rec r;
	struct spool_stats st;
	struct spool *sp;
	size_t cp_len;
	uint64_t seq = 1000;

	memset(batch, 'y', sizeof(batch));
	/* 20 MiB bound, 1 MiB records, 16 MiB segments: the 21st record
	 * forces the first segment (16 records) out */
	sp = spool_open(dir, 20 << 20, collect, NULL, &cp, &cp_len, err, sizeof(err));
	for (int i = 0; i < 21; i++)
		CHECK_INT(spool_append(sp, seq++, "", 0, batch, sizeof(batch) - 64, &r), 0);
	spool_stats(sp, &st);
	CHECK_INT(st.dropped, 16);
	CHECK_INT(st.records, 5);
	CHECK(st.bytes <= (20u << 20));
	CHECK_INT(spool_first_seq(sp), 1016);
	spool_close(sp);
	free(cp);
}

int
main(void)
{
	char dir[] = "/tmp/soc-test-spool-XXXXXX", sub[600];

	log_init("test-spool", 0);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(sub, sizeof(sub), "%s/a", dir);
	test_reopen(sub);
	snprintf(sub, sizeof(sub), "%s/b", dir);
	test_torn_tail(sub);
	snprintf(sub, sizeof(sub), "%s/c", dir);
	test_bound(sub);
	return check_done();
}
