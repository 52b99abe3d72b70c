/*
 * Clocks, duration parsing, CURVE key files, and atomic file replacement.
 */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "soc/log.h"
#include "soc/util.h"

int64_t
soc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * SOC_NS + ts.tv_nsec;
}

int64_t
soc_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
soc_parse_duration(const char *s)
{
	int64_t total = 0, n;
	bool any = false;

	while (*s != '\0') {
		if (!isdigit((unsigned char)*s))
			return -1;
		n = 0;
		while (isdigit((unsigned char)*s)) {
			if (n > 1000000000LL)
				return -1;
			n = n * 10 + (*s++ - '0');
		}
		switch (*s) {
		case 's': total += n * SOC_NS; break;
		case 'm': total += n * 60 * SOC_NS; break;
		case 'h': total += n * 3600 * SOC_NS; break;
		case 'd': total += n * 86400 * SOC_NS; break;
		case 'w': total += n * 7 * 86400 * SOC_NS; break;
		default: return -1;
		}
		s++;
		any = true;
	}
	return any ? total : -1;
}

static bool
z85_valid(const char *s)
{
	static const char z85[] = "0123456789abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

	if (strlen(s) != 40)
		return false;
	for (int i = 0; i < 40; i++)
		if (strchr(z85, s[i]) == NULL)
			return false;
	return true;
}

int
soc_key_load(const char *arg, char out[41], char *err, size_t errlen)
{
	char line[256];
	FILE *f;

	if (z85_valid(arg) && access(arg, F_OK) != 0) {
		memcpy(out, arg, 41);
		return 0;
	}
	if ((f = fopen(arg, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s (give a key file written by "
		    "`socctl keygen` or a 40-character Z85 key)", arg,
		    strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		fclose(f);
		if (!z85_valid(line)) {
			snprintf(err, errlen, "%s: not a Z85 CURVE key "
			    "(expected 40 characters)", arg);
			return -1;
		}
		memcpy(out, line, 41);
		return 0;
	}
	fclose(f);
	snprintf(err, errlen, "%s: no key in file", arg);
	return -1;
}

int
soc_key_load_secret(const char *arg, char out[41], char *err, size_t errlen)
{
	struct stat sb;

	if (z85_valid(arg) && access(arg, F_OK) != 0) {
		/* as ssh refuses -i with a world-readable file, in spirit */
		log_warnx("a secret key given as text shows in `ps` and in "
		    "shell history: give a key file (socctl keygen) instead");
		return soc_key_load(arg, out, err, errlen);
	}
	if (stat(arg, &sb) == 0 && (sb.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: secret key readable by group or "
		    "others (mode %04o); run: chmod 600 %s", arg,
		    (unsigned)(sb.st_mode & 07777), arg);
		return -1;
	}
	return soc_key_load(arg, out, err, errlen);
}

int
soc_key_public(const char secret[41], char pub[41])
{
	return zmq_curve_public(pub, secret) == 0 ? 0 : -1;
}

static int
write_file(const char *path, mode_t mode, const char *text, char *err,
    size_t errlen)
{
	int fd;
	size_t len = strlen(text);

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
		    errno == EEXIST ? " (refusing to overwrite a key; "
		    "remove it first)" : "");
		return -1;
	}
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

int
soc_key_generate(const char *name, char *err, size_t errlen)
{
	char pub[41], sec[41], path[4096], text[512];

	if (zmq_curve_keypair(pub, sec) != 0) {
		snprintf(err, errlen, "zmq_curve_keypair: %s (libzmq built "
		    "without CURVE?)", zmq_strerror(zmq_errno()));
		return -1;
	}
	snprintf(path, sizeof(path), "%s.key", name);
	snprintf(text, sizeof(text), "# CURVE secret key: keep private\n"
	    "# public key: %s\n%s\n", pub, sec);
	if (write_file(path, 0600, text, err, errlen) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s.pub", name);
	snprintf(text, sizeof(text), "%s\n", pub);
	if (write_file(path, 0644, text, err, errlen) == -1)
		return -1;
	return 0;
}

/*
 * Atomic replace: the data goes to "path.tmp", is fsynced, renamed over
 * path, and the directory is fsynced so the rename survives a crash too.
 * A reader sees the old file or the new one, never a mix.
 */
int
soc_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
    char *err, size_t errlen)
{
	char tmp[4096], dir[4096];
	const char *p = data, *slash;
	ssize_t w;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode)) == -1)
		goto fail;
	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail_close;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) == -1)
		goto fail_close;
	if (close(fd) == -1)
		goto fail;
	if (rename(tmp, path) == -1)
		goto fail;
	/* the rename itself must survive a crash; best effort */
	slash = strrchr(path, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(fd);
		close(fd);
	}
	return 0;
fail_close:
	snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
	close(fd);
	return -1;
fail:
	snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
	return -1;
}

int
soc_code_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return i > 0 && i < 64;
}

void
soc_addr_text(const struct sockaddr_storage *ss, char *out, size_t outsz)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

	out[0] = '\0';
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &s4->sin_addr, out, (socklen_t)outsz);
	else if (ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out,
		    (socklen_t)outsz);
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)outsz);
}
