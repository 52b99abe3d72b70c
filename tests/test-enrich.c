/*
 * GeoIP/ASN enrichment against MaxMind's test databases in
 * ../shared/data/geoip, checked against the expected lookups listed with
 * the data.  Without the shared data only the checks that need no
 * database run, and the test exits 77 (meson's "skipped") if they pass,
 * so a missing data set is not mistaken for a pass.  Then (issue 11) a
 * database rewritten in place under an open enrich (SIGBUS when it was
 * mapped shared), reloaded, and made corrupt deep down (nesting past
 * libmaxminddb's limit), which must be refused with the reason.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "enrich.h"
#include "check.h"

static struct soc_event ev;

static void
lookup(struct enrich *en, const char *ip)
{
	struct soc_ip a;

	soc_event_reset(&ev);
	soc_ip_parse(ip, strlen(ip), &a);
	soc_event_set_ip(&ev, SOC_F_SOURCE_IP, &a);
	enrich_event(en, &ev);
}

static const char *
str(int f)
{
	static char buf[256];

	return soc_event_text(&ev, f, buf, sizeof(buf)) >= 0 ? buf : "";
}

static int
copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in, *out;
	size_t n;
	int rc = 0;

	if ((in = fopen(from, "rb")) == NULL)
		return -1;
	if ((out = fopen(to, "wb")) == NULL) {
		fclose(in);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -1;
	fclose(in);
	if (fclose(out) != 0)
		rc = -1;
	return rc;
}

/*
 * A MaxMind DB that opens (a sound search tree and metadata: every IPv4
 * address leads to record 0) but whose record is a map nested depth
 * levels deep, past libmaxminddb's limit of 512: corrupt deeper down.
 */
static int
write_deep_db(const char *path, int depth)
{
	static const unsigned char tree[] = {
		0x00, 0x00, 0x11, 0x00, 0x00, 0x11,	/* node 0: both -> data 0 */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	static const unsigned char meta[] =
	    "\xab\xcd\xefMaxMind.com"
	    "\xe9"
	    "\x4anode_count" "\xc1\x01"
	    "\x4brecord_size" "\xa1\x18"
	    "\x4aip_version" "\xa1\x04"
	    "\x4d" "database_type" "\x44Test"
	    "\x49languages" "\x00\x04"
	    "\x5b" "binary_format_major_version" "\xa1\x02"
	    "\x5b" "binary_format_minor_version" "\xa0"
	    "\x4b" "build_epoch" "\x01\x02\x01"
	    "\x4b" "description" "\xe0";
	FILE *f;
	int i;

	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	fwrite(tree, 1, sizeof(tree), f);
	for (i = 0; i < depth; i++)
		fwrite("\xe1\x47" "country", 1, 9, f);
	fwrite("\x41x", 1, 2, f);
	fwrite(meta, 1, sizeof(meta) - 1, f);
	return fclose(f);
}

/*
 * Issue 11 item 8: a database replaced or rewritten in place under a
 * running correlator must not kill it (a shared mapping of a truncated
 * file is SIGBUS), and one that opens but is corrupt deeper down is
 * reported, not taken as "no geo".
 */
static void
test_in_place(const char *d)
{
	char src[1024], tmp[64], path[128], err[512];
	struct enrich *en;

	snprintf(src, sizeof(src), "%s/geoip/GeoIP2-City-Test.mmdb", d);
	snprintf(tmp, sizeof(tmp), "/tmp/test-enrich.XXXXXX");
	if (mkdtemp(tmp) == NULL) {
		CHECK(0);
		return;
	}
	snprintf(path, sizeof(path), "%s/city.mmdb", tmp);
	CHECK(copy_file(src, path) == 0);
	en = enrich_open(path, NULL, err, sizeof(err));
	CHECK(en != NULL);
	if (en == NULL)
		goto out;
	/* an update that rewrites the file in place: truncate, then write */
	CHECK(truncate(path, 0) == 0);
	lookup(en, "81.2.69.142");
	CHECK_STR(str(SOC_F_SRC_GEO_COUNTRY), "GB");
	CHECK(write_deep_db(path, 8) == 0);
	lookup(en, "89.160.20.112");
	CHECK_STR(str(SOC_F_SRC_GEO_CITY), "Link\xc3\xb6ping");
	/* SIGHUP: the new file is read; a broken one leaves the old */
	snprintf(src, sizeof(src), "%s/geoip/GeoIP2-Country-Test.mmdb", d);
	CHECK(copy_file(src, path) == 0);
	CHECK(enrich_reload(en, err, sizeof(err)) == 0);
	lookup(en, "81.2.69.142");
	CHECK_STR(str(SOC_F_SRC_GEO_COUNTRY), "GB");
	CHECK(!soc_event_has(&ev, SOC_F_SRC_GEO_CITY));	/* no cities */
	CHECK(write_deep_db(path, 600) == 0);
	CHECK(enrich_reload(en, err, sizeof(err)) == -1);
	CHECK(strstr(err, "corrupt") != NULL);
	lookup(en, "89.160.20.112");
	CHECK_STR(str(SOC_F_SRC_GEO_COUNTRY), "SE");
	CHECK_INT(enrich_errors(en), 0);
	enrich_close(en);

	/* shallow: a sound file (no country.iso_code: nothing set) */
	CHECK(write_deep_db(path, 8) == 0);
	en = enrich_open(path, NULL, err, sizeof(err));
	if (en == NULL)
		fprintf(stderr, "shallow test db: %s\n", err);
	CHECK(en != NULL);
	enrich_close(en);
	/* deep: opens in libmaxminddb, refused here with the reason */
	CHECK(write_deep_db(path, 600) == 0);
	err[0] = '\0';
	en = enrich_open(path, NULL, err, sizeof(err));
	CHECK(en == NULL);
	CHECK(strstr(err, path) != NULL);
	if (en == NULL)
		printf("deep test db refused: %s\n", err);
	enrich_close(en);
out:
	unlink(path);
	rmdir(tmp);
}

int
main(void)
{
	const char *d = check_data_dir();
	char city[1024], asn[1024], err[512];
	struct enrich *en;

	en = enrich_open("/nonexistent.mmdb", NULL, err, sizeof(err));
	CHECK(en == NULL && strstr(err, "/nonexistent.mmdb") != NULL);
	en = enrich_open(NULL, NULL, err, sizeof(err));
	lookup(en, "81.2.69.142");
	CHECK(!soc_event_has(&ev, SOC_F_SRC_GEO_COUNTRY));
	enrich_close(en);
	if (d == NULL) {
		printf("skip: no shared data; GeoIP lookups not checked\n");
		return check_done() != 0 ? 1 : 77;
	}
	snprintf(city, sizeof(city), "%s/geoip/GeoIP2-City-Test.mmdb", d);
	snprintf(asn, sizeof(asn), "%s/geoip/GeoLite2-ASN-Test.mmdb", d);
	en = enrich_open(city, asn, err, sizeof(err));
	CHECK(en != NULL);
	if (en == NULL)
		return check_done();
	lookup(en, "81.2.69.142");
	CHECK_STR(str(SOC_F_SRC_GEO_COUNTRY), "GB");
	CHECK_STR(str(SOC_F_SRC_GEO_CITY), "London");
	CHECK(!soc_event_has(&ev, SOC_F_SRC_AS_NUMBER));
	lookup(en, "89.160.20.112");
	CHECK_STR(str(SOC_F_SRC_GEO_COUNTRY), "SE");
	CHECK_STR(str(SOC_F_SRC_GEO_CITY), "Link\xc3\xb6ping");
	CHECK_INT(soc_event_int(&ev, SOC_F_SRC_AS_NUMBER, 0), 29518);
	CHECK_STR(str(SOC_F_SRC_AS_ORG), "Bredband2 AB");
	lookup(en, "2001:480:10::1");
	CHECK_STR(str(SOC_F_SRC_GEO_CITY), "San Diego");
	lookup(en, "1.128.0.1");
	CHECK(!soc_event_has(&ev, SOC_F_SRC_GEO_COUNTRY));
	CHECK_INT(soc_event_int(&ev, SOC_F_SRC_AS_NUMBER, 0), 1221);
	lookup(en, "183.62.140.253");
	CHECK_INT(soc_event_int(&ev, SOC_F_SRC_AS_NUMBER, 0), 4134);
	lookup(en, "10.0.0.1");
	CHECK(!soc_event_has(&ev, SOC_F_SRC_GEO_COUNTRY) &&
	    !soc_event_has(&ev, SOC_F_SRC_AS_NUMBER));
	enrich_close(en);
	test_in_place(d);
	return check_done();
}
