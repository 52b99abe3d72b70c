/*
 * Retention: archive.keep (age) and archive.max_bytes (size), oldest
 * segment first, counted; on a thread of its own so an unlink of a large
 * file never holds up a group.  A segment's age is from the end of the
 * hour it opened in (it holds nothing received later), and the open
 * segment is never removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "soc/log.h"
#include "soc/util.h"
#include "archive-int.h"

#define HOUR_NS		(3600LL * 1000000000LL)

static uint64_t
seg_size(int dfd, const char *seg)
{
	char idx[ARCHIVE_NAME_MAX + 8];
	struct stat sb;
	uint64_t n = 0;

	if (fstatat(dfd, seg, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		n += (uint64_t)sb.st_size;
	snprintf(idx, sizeof(idx), "%s%s", seg, ARCHIVE_IDX_SUFFIX);
	if (fstatat(dfd, idx, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		n += (uint64_t)sb.st_size;
	return n;
}

static int
seg_remove(int dfd, const char *seg, uint64_t size,
    struct archive_keep_stats *ks)
{
	char idx[ARCHIVE_NAME_MAX + 8];

	snprintf(idx, sizeof(idx), "%s%s", seg, ARCHIVE_IDX_SUFFIX);
	if (unlinkat(dfd, seg, 0) == -1 && errno != ENOENT) {
		ks->errors++;
		return -1;
	}
	unlinkat(dfd, idx, 0);
	ks->removed++;
	ks->removed_bytes += size;
	return 0;
}

int
archive_keep(const char *dir, int64_t keep_ns, uint64_t max_bytes,
    const char *open_seg, int64_t now_ns, struct archive_keep_stats *ks)
{
	char (*names)[ARCHIVE_NAME_MAX] = NULL;
	uint64_t *size, total = 0;
	size_t n = 0, i, first = 0;
	int64_t start;
	int dfd;

	ks->runs++;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    archive_seg_list(dfd, &names, &n) == -1) {
		if (dfd != -1)
			close(dfd);
		ks->errors++;
		return -1;
	}
	if ((size = calloc(n + 1, sizeof(*size))) == NULL) {
		free(names);
		close(dfd);
		ks->errors++;
		return -1;
	}
	for (i = 0; i < n; i++) {
		size[i] = seg_size(dfd, names[i]);
		total += size[i];
	}
	for (i = 0; i < n; i++) {
		int is_open = open_seg != NULL && strcmp(names[i], open_seg) == 0;
		int old = keep_ns > 0 && archive_seg_name(names[i], &start) &&
		    (start / HOUR_NS + 1) * HOUR_NS < now_ns - keep_ns;
		int big = max_bytes > 0 && total > max_bytes;

		if (is_open || (!old && !big))
			break;
		if (seg_remove(dfd, names[i], size[i], ks) == 0)
			total -= size[i];
		first = i + 1;
	}
	ks->total_bytes = total;
	ks->segments = n - first;
	free(size);
	free(names);
	close(dfd);
	return 0;
}

struct archive_keeper {
	struct archive_writer	*w;
	int64_t			 keep_ns;
	uint64_t		 max_bytes;
	int64_t			 interval_ms;
	pthread_t		 th;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 stop;
	struct archive_keep_stats ks;
};

static void *
keeper_main(void *arg)
{
	struct archive_keeper *k = arg;
	char open_seg[ARCHIVE_NAME_MAX];
	struct archive_keep_stats ks;
	struct timespec ts;
	uint64_t before;

	pthread_setname_np(pthread_self(), "archive-keep");
	pthread_mutex_lock(&k->mu);
	while (!k->stop) {
		ks = k->ks;
		pthread_mutex_unlock(&k->mu);
		archive_writer_open_name(k->w, open_seg);
		before = ks.removed;
		if (archive_keep(archive_writer_dir(k->w), k->keep_ns,
		    k->max_bytes, open_seg, soc_now_ns(), &ks) == -1)
			log_warn("archive retention: %s",
			    archive_writer_dir(k->w));
		else if (ks.removed > before)
			log_info("archive retention: %llu segments removed"
			    " (archive.keep, archive.max_bytes); %llu left,"
			    " %llu bytes", (unsigned long long)(ks.removed -
			    before), (unsigned long long)ks.segments,
			    (unsigned long long)ks.total_bytes);
		pthread_mutex_lock(&k->mu);
		k->ks = ks;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += k->interval_ms / 1000;
		ts.tv_nsec += (k->interval_ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		while (!k->stop && pthread_cond_timedwait(&k->cv, &k->mu,
		    &ts) == 0)
			;
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

struct archive_keeper *
archive_keeper_start(struct archive_writer *w, int64_t keep_ns,
    uint64_t max_bytes, int64_t interval_ms)
{
	struct archive_keeper *k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	k->w = w;
	k->keep_ns = keep_ns;
	k->max_bytes = max_bytes;
	k->interval_ms = interval_ms > 0 ? interval_ms : 60000;
	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->cv, NULL);
	if (pthread_create(&k->th, NULL, keeper_main, k) != 0) {
		pthread_mutex_destroy(&k->mu);
		pthread_cond_destroy(&k->cv);
		free(k);
		return NULL;
	}
	return k;
}

void
archive_keeper_stop(struct archive_keeper *k)
{
	if (k == NULL)
		return;
	pthread_mutex_lock(&k->mu);
	k->stop = 1;
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->th, NULL);
	pthread_mutex_destroy(&k->mu);
	pthread_cond_destroy(&k->cv);
	free(k);
}

void
archive_keeper_stats(struct archive_keeper *k, struct archive_keep_stats *out)
{
	pthread_mutex_lock(&k->mu);
	*out = k->ks;
	pthread_mutex_unlock(&k->mu);
}
