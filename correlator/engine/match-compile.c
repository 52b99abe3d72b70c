/*
 * Hyperscan compiles in a child process under a CPU and an address-space
 * limit (docs/RULES.md, "Compile bounds").  The static bounds of
 * rule-value.c (rule_expr_bounded) refuse what is plainly too big, but
 * Hyperscan's compile time and memory are not a function of any count a
 * text check can make (.{0,1000}x.{0,1000}y.{0,1000}z: 3,003 positions,
 * 15 s; (a{0,1000}x){4}: 6 s), and its compiler allocates with C++ new,
 * which hs_set_allocator does not reach.  So the compile runs in a fork:
 * RLIMIT_CPU and RLIMIT_AS (the parent's address space plus the cap) bound
 * it, the database comes back serialized (hs_serialize_database) through a
 * pipe, and a child killed by a limit is a compile error with the reason.
 * The child only compiles, writes and _exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hs/hs.h>

#include "rule-int.h"

/* Built with AddressSanitizer: its shadow memory needs terabytes of
 * address space, so RLIMIT_AS cannot be set (the CPU limit stays). */
#if defined(__SANITIZE_ADDRESS__)
#define MC_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MC_ASAN	1
#endif
#endif
#ifndef MC_ASAN
#define MC_ASAN	0
#endif

/* Child -> parent: a status byte, then for 0 the u64 size and the
 * serialized database; for 1 the i32 expression index and the message. */
static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
child(int fd, const char *const *exprs, const unsigned int *flags,
    const unsigned int *ids, unsigned int n, unsigned int cpu_s,
    uint64_t mem_bytes)
{
	struct rlimit rl;
	hs_database_t *db = NULL;
	hs_compile_error_t *cerr = NULL;
	char *ser = NULL;
	size_t len = 0;
	unsigned long pages = 0, rss;
	uint64_t sz;
	FILE *f;

	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_CORE, &rl);
	rl.rlim_cur = rl.rlim_max = cpu_s;
	setrlimit(RLIMIT_CPU, &rl);
	if (!MC_ASAN && mem_bytes > 0) {
		/* the parent's mappings count too: the cap is on top of them */
		if ((f = fopen("/proc/self/statm", "r")) != NULL) {
			if (fscanf(f, "%lu %lu", &pages, &rss) != 2)
				pages = 0;
			fclose(f);
		}
		rl.rlim_cur = rl.rlim_max = (rlim_t)pages *
		    (rlim_t)sysconf(_SC_PAGESIZE) + mem_bytes;
		setrlimit(RLIMIT_AS, &rl);
	}
	if (hs_compile_multi(exprs, flags, ids, n, HS_MODE_BLOCK, NULL, &db,
	    &cerr) != HS_SUCCESS) {
		int32_t e = cerr != NULL ? cerr->expression : -1;
		const char *msg = cerr != NULL ? cerr->message : "compile error";
		char st = 1;

		if (write_all(fd, &st, 1) == -1 ||
		    write_all(fd, &e, sizeof(e)) == -1 ||
		    write_all(fd, msg, strlen(msg)) == -1)
			_exit(2);
		_exit(0);
	}
	if (hs_serialize_database(db, &ser, &len) != HS_SUCCESS)
		_exit(3);
	sz = len;
	if (write_all(fd, "\0", 1) == -1 ||
	    write_all(fd, &sz, sizeof(sz)) == -1 ||
	    write_all(fd, ser, len) == -1)
		_exit(2);
	_exit(0);
}

int
match_hs_compile(const char *const *exprs, const unsigned int *flags,
    const unsigned int *ids, unsigned int n, unsigned int cpu_s,
    uint64_t mem_bytes, hs_database_t **out, int *bad, char *err,
    size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int p[2], status, rc = -1;
	pid_t pid;
	uint64_t sz;

	*out = NULL;
	*bad = -1;
	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		child(p[1], exprs, flags, ids, n, cpu_s, mem_bytes);
	}
	close(p[1]);
	for (;;) {
		ssize_t r;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nb = realloc(buf, ncap);

			if (nb == NULL) {
				snprintf(err, errlen, "out of memory");
				kill(pid, SIGKILL);
				goto reap;
			}
			buf = nb;
			cap = ncap;
		}
		r = read(p[0], buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	if (len == 0 || (buf[0] == 0 && len < 1 + sizeof(sz)))
		snprintf(err, errlen, "compile failed");
	else if (buf[0] == 1) {
		int32_t e = -1;

		if (len >= 1 + sizeof(e))
			memcpy(&e, buf + 1, sizeof(e));
		*bad = e;
		snprintf(err, errlen, "%.*s", len >= 1 + sizeof(e) ?
		    (int)(len - 1 - sizeof(e)) : 0, buf + 1 + sizeof(e));
	} else {
		memcpy(&sz, buf + 1, sizeof(sz));
		if (sz != len - 1 - sizeof(sz))
			snprintf(err, errlen, "compile failed");
		else if (hs_deserialize_database(buf + 1 + sizeof(sz),
		    (size_t)sz, out) != HS_SUCCESS) {
			*out = NULL;
			snprintf(err, errlen, "cannot load the compiled "
			    "database");
		} else
			rc = 0;
	}
reap:
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		hs_free_database(*out);
		*out = NULL;
		rc = -1;
	}
	if (rc == -1 && *bad == -1) {
		if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGXCPU ||
		    WTERMSIG(status) == SIGKILL))
			snprintf(err, errlen, "compile stopped at its CPU limit "
			    "of %u s: simplify the expression", cpu_s);
		else if (WIFSIGNALED(status) || (WIFEXITED(status) &&
		    WEXITSTATUS(status) != 0))
			snprintf(err, errlen, "compile stopped at its memory "
			    "limit of %llu MiB (or failed): simplify the "
			    "expression", (unsigned long long)(mem_bytes >> 20));
	}
	free(buf);
	return rc;
}
