/*
 * EVTX files (Windows XML Event Logs) through libevtx: `soc-sensor -r
 * FILE.evtx` replays one like a pcap.  Every record becomes one event:
 * libevtx renders its XML (UTF-16 decoded to UTF-8) and winlog-xml.c
 * reads it; winlog-ecs.c adds the ECS fields.  The records libevtx
 * recovers from the file's free space come after the others, counted
 * apart.  Nothing in a file is fatal: a record that cannot be rendered,
 * a corrupt chunk (libevtx skips it and marks the file corrupted) or a
 * truncated file is counted and logged, and reading goes on.
 */
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soc/log.h"
#include "evtx.h"

#define EVTX_XML_MAX	(4u << 20)	/* a record is at most 64 KiB of
					   binary XML; its text far less */

/*
 * Whether the file is shorter than the chunks its header counts (the
 * header is 4096 bytes, a chunk 65536; the count is at offset 42).
 * libevtx reads the chunks that are whole and says nothing of the rest.
 */
static bool
evtx_truncated(const char *path)
{
	unsigned char h[44];
	struct stat sb;
	FILE *f;
	bool cut = false;

	if ((f = fopen(path, "rb")) == NULL)
		return false;
	if (fread(h, 1, sizeof(h), f) == sizeof(h) && fstat(fileno(f), &sb) ==
	    0)
		cut = (uint64_t)sb.st_size < 4096 + 65536 *
		    (uint64_t)(h[42] | h[43] << 8);
	fclose(f);
	return cut;
}

bool
evtx_is_file(const char *path)
{
	char magic[8];
	FILE *f;
	bool yes;

	if ((f = fopen(path, "rb")) == NULL)
		return false;
	yes = fread(magic, 1, 8, f) == 8 && memcmp(magic, EVTX_MAGIC, 8) == 0;
	fclose(f);
	return yes;
}

/* FILETIME (100 ns since 1601) to ns since 1970, clamped to int64 (a
 * forged record can say anything). */
int64_t
evtx_filetime_ns(uint64_t ft)
{
	const uint64_t epoch = 116444736000000000ULL;
	uint64_t d;

	if (ft >= epoch) {
		d = ft - epoch;
		return d > (uint64_t)INT64_MAX / 100 ? INT64_MAX :
		    (int64_t)d * 100;
	}
	d = epoch - ft;			/* before 1970: at most 1.2e19 ns */
	return d > (uint64_t)INT64_MAX / 100 ? INT64_MIN : -(int64_t)d * 100;
}

#ifdef HAVE_LIBEVTX
#include <libevtx.h>

static void
evtx_err(const char *path, const char *what, libevtx_error_t **err)
{
	char buf[512];

	buf[0] = '\0';
	if (*err != NULL) {
		libevtx_error_sprint(*err, buf, sizeof(buf));
		libevtx_error_free(err);
	}
	log_warnx("%s: %s%s%s", path, what, buf[0] ? ": " : "", buf);
}

/* One record into ev and out; false when it could not be rendered. */
static bool
evtx_record(struct evtx_reader *r, libevtx_record_t *rec,
    struct soc_event *ev)
{
	libevtx_error_t *err = NULL;
	uint64_t ft = 0;
	size_t sz = 0;
	char *n;

	if (libevtx_record_get_utf8_xml_string_size(rec, &sz, &err) != 1 ||
	    sz == 0 || sz > EVTX_XML_MAX) {
		libevtx_error_free(&err);
		return false;
	}
	if (sz > r->xml_cap) {
		if ((n = realloc(r->xml, sz)) == NULL)
			return false;
		r->xml = n;
		r->xml_cap = sz;
	}
	if (libevtx_record_get_utf8_xml_string(rec, (uint8_t *)r->xml, sz,
	    &err) != 1) {
		libevtx_error_free(&err);
		return false;
	}
	soc_event_reset(ev);
	if (libevtx_record_get_written_time(rec, &ft, &err) == 1)
		ev->ts = evtx_filetime_ns(ft);	/* TimeCreated wins */
	libevtx_error_free(&err);
	winlog_xml_parse(r->xml, strnlen(r->xml, sz), ev, &r->st);
	winlog_ecs(ev);
	winlog_message(ev);		/* libevtx renders no message */
	return true;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
evtx_read_file(struct evtx_reader *r, const char *path)
{
	libevtx_file_t *file = NULL;
	libevtx_record_t *rec;
	libevtx_error_t *err = NULL;
	int n = 0, nrec = 0, rc = 0;
	uint64_t before = r->st.records, bad = r->st.unreadable, id, *ids = NULL;
	uint64_t rec_before = r->st.recovered;
	size_t nids = 0;

	if (libevtx_file_initialize(&file, &err) != 1) {
		evtx_err(path, "cannot start libevtx", &err);
		return -1;
	}
	if (libevtx_file_open(file, path, LIBEVTX_OPEN_READ, &err) != 1) {
		evtx_err(path, "not a readable EVTX file", &err);
		libevtx_file_free(&file, NULL);
		r->st.corrupt_files++;
		return -1;
	}
	if (libevtx_file_get_number_of_records(file, &n, &err) != 1) {
		evtx_err(path, "cannot count its records", &err);
		n = 0;
		rc = -1;
	}
	/* the record numbers the file holds: a recovered copy of one is
	 * not emitted twice */
	if (n > 0 && (ids = calloc((size_t)n, sizeof(*ids))) == NULL)
		n = 0;
	for (int i = 0; i < n && (r->stop == NULL || !*r->stop); i++) {
		rec = NULL;
		if (libevtx_file_get_record_by_index(file, i, &rec, &err) != 1 ||
		    !evtx_record(r, rec, &r->ev)) {
			libevtx_error_free(&err);
			r->st.unreadable++;
		} else {
			if (libevtx_record_get_identifier(rec, &id, &err) == 1)
				ids[nids++] = id;
			libevtx_error_free(&err);
			r->st.records++;
			r->emit(r->arg, &r->ev);
		}
		libevtx_record_free(&rec, NULL);
		if (r->tick != NULL && (i & 255) == 255)
			r->tick(r->arg);
	}
	if (libevtx_file_get_number_of_recovered_records(file, &nrec, &err) !=
	    1) {
		libevtx_error_free(&err);
		nrec = 0;
	}
	if (nids > 0)
		qsort(ids, nids, sizeof(*ids), cmp_u64);
	for (int i = 0; i < nrec && (r->stop == NULL || !*r->stop); i++) {
		rec = NULL;
		if (libevtx_file_get_recovered_record_by_index(file, i, &rec,
		    &err) != 1 || !evtx_record(r, rec, &r->ev))
			r->st.recovered_bad++;	/* slack: not a failure */
		else if (libevtx_record_get_identifier(rec, &id, &err) == 1 &&
		    nids > 0 && bsearch(&id, ids, nids, sizeof(*ids),
		    cmp_u64) != NULL)
			r->st.recovered_dup++;
		else {
			soc_event_set_int(&r->ev, SOC_F_SOC_WINLOG_RECOVERED, 1);
			r->st.records++;
			r->st.recovered++;
			r->emit(r->arg, &r->ev);
		}
		libevtx_error_free(&err);
		libevtx_record_free(&rec, NULL);
	}
	free(ids);
	if (libevtx_file_is_corrupted(file, &err) == 1) {
		r->st.corrupt_files++;
		log_warnx("%s: corrupt (a chunk or the header failed its "
		    "checks): the readable records were read", path);
		rc = -1;
	}
	libevtx_error_free(&err);
	if (evtx_truncated(path)) {
		r->st.truncated_files++;
		log_warnx("%s: truncated (shorter than the chunks its header "
		    "counts): the whole chunks were read", path);
		rc = -1;
	}
	if (r->st.unreadable > bad) {
		log_warnx("%s: %llu records could not be rendered", path,
		    (unsigned long long)(r->st.unreadable - bad));
		rc = -1;
	}
	log_info("%s: %llu records (%d recovered from free space, of which "
	    "%llu new)", path, (unsigned long long)(r->st.records - before),
	    nrec, (unsigned long long)(r->st.recovered - rec_before));
	libevtx_file_close(file, NULL);
	libevtx_file_free(&file, NULL);
	return rc;
}

#else

int
evtx_read_file(struct evtx_reader *r, const char *path)
{
	log_warnx("%s: an EVTX file, but this soc-sensor was built without "
	    "libevtx (meson -Devtx=enabled)", path);
	r->st.corrupt_files++;
	return -1;
}

#endif

void
evtx_reader_free(struct evtx_reader *r)
{
	free(r->xml);
	r->xml = NULL;
	r->xml_cap = 0;
}
