/*
 * Bytes from somewhere, for socctl commands that take a file or a URL
 * (`rules update`): a local path, a file:// URL (works offline) or an
 * http(s) URL through libcurl (redirects to http(s) only, a size bound,
 * timeouts on a stalled transfer; the proxy variables are libcurl's).
 * Whatever the source, the bytes are bounded by the caller's max.  And
 * the SHA-256 a download is pinned to (nettle).
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "soc-config.h"
#include "socctl.h"

int
fetch_add(struct fetch_buf *b, const void *p, size_t n)
{
	char *d;

	if (b->n + n > b->max)
		return -1;
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1 << 16;

		while (cap < b->n + n)
			cap *= 2;
		if ((d = realloc(b->d, cap)) == NULL)
			return -1;
		b->d = d;
		b->cap = cap;
	}
	memcpy(b->d + b->n, p, n);
	b->n += n;
	return 0;
}

static int
fetch_file(const char *path, struct fetch_buf *b)
{
	char chunk[65536];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errx1("%s: %s", path, strerror(errno));
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			close(fd);
			return -errx1("%s: %s", path, strerror(errno));
		}
		if (fetch_add(b, chunk, (size_t)n) == -1) {
			close(fd);
			return -errx1("%s: larger than %zu MiB (or out of memory)",
			    path, b->max >> 20);
		}
	}
	close(fd);
	return 0;
}

static size_t
curl_sink(char *p, size_t size, size_t n, void *arg)
{
	return fetch_add(arg, p, size * n) == 0 ? size * n : 0;
}

static int
fetch_url(const char *url, struct fetch_buf *b)
{
	char cerr[CURL_ERROR_SIZE] = "";
	CURLcode rc;
	CURL *h;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (h = curl_easy_init()) == NULL)
		return -errx1("cannot start libcurl");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)b->max);
	curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "socctl/" SOC_VERSION);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, curl_sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	rc = curl_easy_perform(h);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	if (rc != CURLE_OK)
		return -errx1("%s: %s", url, cerr[0] ? cerr :
		    curl_easy_strerror(rc));
	return 0;
}

int
fetch_is_http(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

int
fetch_bytes(const char *src, struct fetch_buf *b)
{
	if (strncmp(src, "file://", 7) == 0) {
		if (src[7] != '/')
			return -errx1("%s: a file URL names an"
			    " absolute path (file:///path)", src);
		return fetch_file(src + 7, b);
	}
	if (fetch_is_http(src))
		return fetch_url(src, b);
	if (strstr(src, "://") != NULL)
		return -errx1("%s: give a file, a file:// URL or an"
		    " http(s) URL", src);
	return fetch_file(src, b);
}

void
sha256_hex(const void *p, size_t n, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t d[SHA256_DIGEST_SIZE];
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, n, p);
	sha256_digest(&ctx, sizeof(d), d);
	for (size_t i = 0; i < sizeof(d); i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}
