/*
 * GeoIP and ASN enrichment of source.ip (see enrich.h).  Private, loopback
 * and link-local addresses are skipped without a lookup: agency LANs are
 * mostly that, and the databases know nothing about them.
 *
 * libmaxminddb maps its file shared: a database rewritten or truncated in
 * place by an updater (geoipupdate writes beside and renames, but cp and
 * hand-made updates do not) turns the next lookup into SIGBUS.  So each
 * file is first copied into a sealed memfd -- a private copy nobody can
 * change -- and libmaxminddb opens that copy through /proc/self/fd.  An
 * update is taken by enrich_reload() (SIGHUP), which builds the new
 * copies beside the old ones and swaps them in only if all opened.
 *
 * A file that opens may still be corrupt deeper down (libmaxminddb checks
 * the metadata and the tree's size at open, the records only when read):
 * at open, the records behind a few probe addresses are decoded whole,
 * and a lookup that fails later is counted and its first failure logged,
 * never taken silently as "no geo".
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "soc/log.h"
#include "enrich.h"

struct geodb {
	MMDB_s		db;
	int		open;
	int		warned;		/* a lookup error was logged */
};

struct enrich {
	struct geodb	city;
	struct geodb	asn;
	char		*city_path;
	char		*asn_path;
	uint64_t	hits;
	uint64_t	errors;
};

/* Addresses whose records are decoded at open, IPv4 and IPv6. */
static const char *const probes[] = {
	"1.1.1.1", "8.8.8.8", "81.2.69.142", "89.160.20.112", "123.30.0.1",
	"203.113.0.1", "216.160.83.56", "2001:480:10::1", "2001:4860::8888",
	NULL,
};

/* A sealed in-memory copy of path; the descriptor, or -1 with err set. */
static int
copy_sealed(const char *path, char *err, size_t errlen)
{
	char buf[65536];
	struct stat sb;
	ssize_t n;
	off_t total = 0;
	int in, fd = -1;

	if ((in = open(path, O_RDONLY | O_CLOEXEC)) == -1 || fstat(in, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if ((fd = memfd_create("soc-geoip", MFD_CLOEXEC | MFD_ALLOW_SEALING)) == -1) {
		snprintf(err, errlen, "%s: memfd_create: %s", path, strerror(errno));
		goto fail;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(fd, buf, (size_t)n) != n) {
			snprintf(err, errlen, "%s: copy: %s", path, strerror(errno));
			goto fail;
		}
		total += n;
	}
	if (n == -1 || total != sb.st_size) {
		snprintf(err, errlen, "%s: %s", path, n == -1 ? strerror(errno) :
		    "changed while it was read (an update in progress?)");
		goto fail;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
	    F_SEAL_SEAL) == -1) {
		snprintf(err, errlen, "%s: seal: %s", path, strerror(errno));
		goto fail;
	}
	close(in);
	return fd;
fail:
	if (in != -1)
		close(in);
	if (fd != -1)
		close(fd);
	return -1;
}

/* Decodes the whole record behind each probe address: 0 or -1. */
static int
check_db(MMDB_s *db, const char *path, char *err, size_t errlen)
{
	MMDB_entry_data_list_s *list;
	MMDB_lookup_result_s r;
	int i, gai, rc;

	if ((rc = MMDB_get_metadata_as_entry_data_list(db, &list)) != MMDB_SUCCESS)
		goto bad;
	MMDB_free_entry_data_list(list);
	for (i = 0; probes[i] != NULL; i++) {
		r = MMDB_lookup_string(db, probes[i], &gai, &rc);
		if (gai != 0 || rc == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
			continue;
		if (rc != MMDB_SUCCESS)
			goto bad;
		if (!r.found_entry)
			continue;
		list = NULL;
		rc = MMDB_get_entry_data_list(&r.entry, &list);
		MMDB_free_entry_data_list(list);
		if (rc != MMDB_SUCCESS)
			goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "%s: opens, but is corrupt: %s", path,
	    MMDB_strerror(rc));
	return -1;
}

static int
open_db(const char *path, struct geodb *g, char *err, size_t errlen)
{
	char fdpath[64];
	int fd, rc;

	memset(g, 0, sizeof(*g));
	if ((fd = copy_sealed(path, err, errlen)) == -1)
		return -1;
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	rc = MMDB_open(fdpath, MMDB_MODE_MMAP, &g->db);
	close(fd);			/* the mapping keeps the copy */
	if (rc != MMDB_SUCCESS) {
		snprintf(err, errlen, "%s: %s", path, rc == MMDB_IO_ERROR ?
		    strerror(errno) : MMDB_strerror(rc));
		return -1;
	}
	g->open = 1;
	if (check_db(&g->db, path, err, errlen) == -1) {
		MMDB_close(&g->db);
		g->open = 0;
		return -1;
	}
	return 0;
}

static void
close_db(struct geodb *g)
{
	if (g->open)
		MMDB_close(&g->db);
	g->open = 0;
}

/* Opens both into city and asn (each closed when not configured). */
static int
open_both(const char *city_db, const char *asn_db, struct geodb *city,
    struct geodb *asn, char *err, size_t errlen)
{
	memset(city, 0, sizeof(*city));
	memset(asn, 0, sizeof(*asn));
	if (city_db != NULL && open_db(city_db, city, err, errlen) == -1)
		return -1;
	if (asn_db != NULL && open_db(asn_db, asn, err, errlen) == -1) {
		close_db(city);
		return -1;
	}
	return 0;
}

struct enrich *
enrich_open(const char *city_db, const char *asn_db, char *err, size_t errlen)
{
	struct enrich *en = calloc(1, sizeof(*en));

	if (en == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((city_db && *city_db && (en->city_path = strdup(city_db)) == NULL) ||
	    (asn_db && *asn_db && (en->asn_path = strdup(asn_db)) == NULL)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (open_both(en->city_path, en->asn_path, &en->city, &en->asn, err,
	    errlen) == -1)
		goto fail;
	return en;
fail:
	enrich_close(en);
	return NULL;
}

int
enrich_reload(struct enrich *en, char *err, size_t errlen)
{
	struct geodb city, asn;

	if (en == NULL || (en->city_path == NULL && en->asn_path == NULL))
		return 0;
	if (open_both(en->city_path, en->asn_path, &city, &asn, err,
	    errlen) == -1)
		return -1;
	close_db(&en->city);
	close_db(&en->asn);
	en->city = city;
	en->asn = asn;
	return 0;
}

static int
is_local(const struct soc_ip *ip)
{
	const uint8_t *a = ip->addr;

	if (ip->family == 4)
		return a[0] == 10 || a[0] == 127 || a[0] == 0 ||
		    (a[0] == 172 && (a[1] & 0xf0) == 16) ||
		    (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254) ||
		    (a[0] == 100 && (a[1] & 0xc0) == 64);
	return (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||
	    (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15) == 0 && a[15] <= 1);
}

/* A lookup that failed: counted, and the first one per file logged. */
static void
lookup_error(struct enrich *en, struct geodb *g, int rc)
{
	en->errors++;
	if (g->warned)
		return;
	g->warned = 1;
	log_warnx("GeoIP %s: lookup failed: %s (counted; replace the file "
	    "and send SIGHUP)", g == &en->city ? en->city_path : en->asn_path,
	    MMDB_strerror(rc));
}

static void
set_str(struct enrich *en, struct geodb *g, struct soc_event *ev, int f,
    MMDB_entry_s *e, const char *const *path)
{
	MMDB_entry_data_s d;
	int rc;

	rc = MMDB_aget_value(e, &d, path);
	if (rc == MMDB_SUCCESS && d.has_data &&
	    d.type == MMDB_DATA_TYPE_UTF8_STRING)
		soc_event_set_str(ev, f, d.utf8_string, d.data_size);
	else if (rc != MMDB_SUCCESS &&
	    rc != MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR)
		lookup_error(en, g, rc);
}

void
enrich_event(struct enrich *en, struct soc_event *ev)
{
	static const char *const country[] = { "country", "iso_code", NULL };
	static const char *const city[] = { "city", "names", "en", NULL };
	static const char *const asn[] = { "autonomous_system_number", NULL };
	static const char *const asorg[] = { "autonomous_system_organization", NULL };
	const struct soc_ip *ip;
	struct sockaddr_storage ss;
	MMDB_lookup_result_s r;
	MMDB_entry_data_s d;
	int err;

	if (en == NULL || (!en->city.open && !en->asn.open) ||
	    (ip = soc_event_ip(ev, SOC_F_SOURCE_IP)) == NULL || is_local(ip))
		return;
	memset(&ss, 0, sizeof(ss));
	if (ip->family == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ip->addr, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ip->addr, 16);
	}
	if (en->city.open) {
		r = MMDB_lookup_sockaddr(&en->city.db, (struct sockaddr *)&ss, &err);
		if (err == MMDB_SUCCESS && r.found_entry) {
			set_str(en, &en->city, ev, SOC_F_SRC_GEO_COUNTRY, &r.entry,
			    country);
			set_str(en, &en->city, ev, SOC_F_SRC_GEO_CITY, &r.entry, city);
			en->hits++;
		} else if (err != MMDB_SUCCESS &&
		    err != MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
			lookup_error(en, &en->city, err);
	}
	if (en->asn.open) {
		r = MMDB_lookup_sockaddr(&en->asn.db, (struct sockaddr *)&ss, &err);
		if (err == MMDB_SUCCESS && r.found_entry) {
			if (MMDB_aget_value(&r.entry, &d, asn) == MMDB_SUCCESS &&
			    d.has_data && d.type == MMDB_DATA_TYPE_UINT32)
				soc_event_set_int(ev, SOC_F_SRC_AS_NUMBER, d.uint32);
			set_str(en, &en->asn, ev, SOC_F_SRC_AS_ORG, &r.entry, asorg);
			en->hits++;
		} else if (err != MMDB_SUCCESS &&
		    err != MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
			lookup_error(en, &en->asn, err);
	}
}

uint64_t
enrich_hits(const struct enrich *en)
{
	return en ? en->hits : 0;
}

uint64_t
enrich_errors(const struct enrich *en)
{
	return en ? en->errors : 0;
}

void
enrich_close(struct enrich *en)
{
	if (en == NULL)
		return;
	close_db(&en->city);
	close_db(&en->asn);
	free(en->city_path);
	free(en->asn_path);
	free(en);
}
