/*
 * GeoIP and ASN enrichment of source.ip (see enrich.h).  Private, loopback
 * and link-local addresses are skipped without a lookup: agency LANs are
 * mostly that, and the databases know nothing about them.
 */
#include <arpa/inet.h>
#include <maxminddb.h>
#include <stdlib.h>
#include <string.h>

#include "enrich.h"

struct enrich {
	MMDB_s		city;
	MMDB_s		asn;
	int		have_city;
	int		have_asn;
	uint64_t	hits;
};

static int
open_db(const char *path, MMDB_s *db, char *err, size_t errlen)
{
	int rc = MMDB_open(path, MMDB_MODE_MMAP, db);

	if (rc != MMDB_SUCCESS) {
		snprintf(err, errlen, "%s: %s", path, MMDB_strerror(rc));
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
	if (city_db && *city_db) {
		if (open_db(city_db, &en->city, err, errlen) == -1)
			goto fail;
		en->have_city = 1;
	}
	if (asn_db && *asn_db) {
		if (open_db(asn_db, &en->asn, err, errlen) == -1)
			goto fail;
		en->have_asn = 1;
	}
	return en;
fail:
	enrich_close(en);
	return NULL;
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

static void
set_str(struct soc_event *ev, int f, MMDB_entry_s *e, const char *const *path)
{
	MMDB_entry_data_s d;

	if (MMDB_aget_value(e, &d, path) == MMDB_SUCCESS && d.has_data &&
	    d.type == MMDB_DATA_TYPE_UTF8_STRING)
		soc_event_set_str(ev, f, d.utf8_string, d.data_size);
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

	if (en == NULL || (!en->have_city && !en->have_asn) ||
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
	if (en->have_city) {
		r = MMDB_lookup_sockaddr(&en->city, (struct sockaddr *)&ss, &err);
		if (err == MMDB_SUCCESS && r.found_entry) {
			set_str(ev, SOC_F_SRC_GEO_COUNTRY, &r.entry, country);
			set_str(ev, SOC_F_SRC_GEO_CITY, &r.entry, city);
			en->hits++;
		}
	}
	if (en->have_asn) {
		r = MMDB_lookup_sockaddr(&en->asn, (struct sockaddr *)&ss, &err);
		if (err == MMDB_SUCCESS && r.found_entry) {
			if (MMDB_aget_value(&r.entry, &d, asn) == MMDB_SUCCESS &&
			    d.has_data && d.type == MMDB_DATA_TYPE_UINT32)
				soc_event_set_int(ev, SOC_F_SRC_AS_NUMBER, d.uint32);
			set_str(ev, SOC_F_SRC_AS_ORG, &r.entry, asorg);
			en->hits++;
		}
	}
}

uint64_t
enrich_hits(const struct enrich *en)
{
	return en ? en->hits : 0;
}

void
enrich_close(struct enrich *en)
{
	if (en == NULL)
		return;
	if (en->have_city)
		MMDB_close(&en->city);
	if (en->have_asn)
		MMDB_close(&en->asn);
	free(en);
}
