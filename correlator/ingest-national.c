/*
 * The national role in ingest: a batch of kind ALERTS from an enrolled
 * province takes ingest.c's chain, duplicate, gap, poison and savepoint
 * path; here each of its records is decoded (alert_from_json, hostile
 * input) and stored as one revision of one provincial incident
 * (store-national.c), under the agency and name of the key, never what
 * the alert claims.
 */
#include <stdio.h>
#include <string.h>

#include "soc/json.h"
#include "soc/log.h"
#include "soc/util.h"
#include "soc/wire.h"
#include "alert.h"
#include "ingest.h"
#include "ingest-int.h"
#include "store.h"

/*
 * The alert's tags as the incidents table keeps them, comma-separated (a
 * tag with a comma in it is left out: it would read back as two).
 */
static void
tags_join(const struct soc_alert *a, char *buf, size_t len)
{
	size_t off = 0, n;
	int i;

	buf[0] = '\0';
	for (i = 0; i < a->ntags && i < ALERT_MAX_TAGS; i++) {
		n = strlen(a->tags[i]);
		if (n == 0 || memchr(a->tags[i], ',', n) != NULL ||
		    off + n + 2 > len)
			continue;
		if (off > 0)
			buf[off++] = ',';
		memcpy(buf + off, a->tags[i], n);
		off += n;
		buf[off] = '\0';
	}
}

/*
 * The national role: one decoded alert as a revision of a provincial
 * incident.  The origin name and the agency are the enrolled key's; what
 * the alert says of them (soc.origin.name, organization.id) stays in the
 * evidence row only.
 */
static void
alert_revision(const struct soc_alert *a, const struct store_sensor *sen,
    const char *evidence, const char *tags, struct store_origin_rev *r)
{
	*r = (struct store_origin_rev){
		.origin_name = sen->name,
		.agency = sen->agency,
		.origin_agency = a->origin_agency,
		.origin_incident = a->incident_id,
		.revision = a->revision > INT64_MAX ? -1 : (int64_t)a->revision,
		.rule_id = a->rule_id,
		.rule_title = a->rule_title,
		.rule_level = a->rule_level,
		.rule_author = a->rule_author,
		.rule_tags = tags,
		.severity = a->severity,
		.status = a->status,
		.group_key = a->group_key,
		.first_seen = a->first_seen,
		.last_seen = a->last_seen,
		.count = a->count,
		.evidence_json = evidence,
	};
}

/*
 * One decoded alert into the store: 0 (stored, stale or refused, *ngood
 * counting the first two), or -1 when the store failed.
 */
static int
apply_alert(struct ingest *in, const struct store_sensor *sen, int64_t now,
    uint64_t *ngood)
{
	struct alert_fields all;
	struct store_origin_rev r;
	int64_t id;
	int rc;

	alert_fields_all(&all);	/* the province chose what left it */
	soc_sbuf_reset(&in->ajson);
	alert_to_json(&in->alert, &all, &in->ajson);
	tags_join(&in->alert, in->atags, sizeof(in->atags));
	alert_revision(&in->alert, sen, in->ajson.oom ? NULL :
	    in->ajson.data, in->atags, &r);
	if ((rc = store_national_apply(in->st, &r, now, &id)) == -1)
		return -1;
	if (rc != STORE_NAT_REFUSED)
		(*ngood)++;
	switch (rc) {
	case STORE_NAT_REFUSED:
		/* resending cannot mend it: counted, and the batch goes on */
		in->n.fwd_bad++;
		log_warnx("%s: incident %lld revision %lld refused: %s",
		    r.origin_name, (long long)r.origin_incident,
		    (long long)r.revision, store_errmsg(in->st));
		break;
	case STORE_NAT_CREATED:
		in->n.fwd_new++;
		/* by name up to LOG_NEW_MAX per group, as local incidents are
		 * (ingest_group_end counts the rest): a province draining its
		 * outbox must not cost a log line per alert */
		if (in->logged++ < LOG_NEW_MAX)
			log_info("incident %lld: %s [%s] agency %s, forwarded"
			    " by %s (incident %lld there)", (long long)id,
			    r.rule_title, store_severity_name(r.severity),
			    r.agency, r.origin_name,
			    (long long)r.origin_incident);
		break;
	case STORE_NAT_UPDATED:
		in->n.fwd_updated++;
		break;
	default:
		in->n.fwd_stale++;
		log_debug("%s: incident %lld revision %lld is not newer than"
		    " the one stored", r.origin_name,
		    (long long)r.origin_incident, (long long)r.revision);
		break;
	}
	return 0;
}

/*
 * Apply one alert batch from an enrolled province inside the open
 * transaction, under its own savepoint, as apply_events() does for
 * events: 0 = applied, -1 = undone alone.  A record the decoder refuses
 * is counted and logged and the rest of the batch goes on: resending
 * cannot mend it, and holding the chain would stop every alert behind it.
 */
int
ingest_apply_alerts(struct ingest *in, const struct store_sensor *sen,
    const struct soc_wire_hdr *hdr, const void *data, size_t len)
{
	struct soc_wire_reader r;
	struct soc_wire_hdr h2;
	const void *blob;
	const char *why;
	uint64_t nrec = 0, ngood = 0;
	int64_t now = soc_now_ns();
	size_t blen;
	int failed = 0;

	if (store_batch_begin(in->st) == -1)
		return -1;
	soc_wire_open(&r, data, len, &h2, &why);
	while (!failed && soc_wire_next_blob(&r, &blob, &blen, &why) == 1) {
		nrec++;
		if (alert_from_json(blob, blen, &in->alert, &why) == -1) {
			in->n.fwd_bad++;
			log_warnx("%s: alert %llu of batch %llu refused: %s",
			    sen->name, (unsigned long long)nrec,
			    (unsigned long long)hdr->seq, why);
			continue;
		}
		in->n.fwd_alerts++;
		failed = apply_alert(in, sen, now, &ngood) == -1;
	}
	if (failed || (ngood > 0 &&
	    store_national_received(in->st, sen->name, now) == -1) ||
	    store_sensor_set_seq(in->st, sen->name, hdr->seq, nrec, now) == -1) {
		log_warnx("alert batch %llu of %s not applied (%s); it will be"
		    " resent", (unsigned long long)hdr->seq, sen->name,
		    store_errmsg(in->st));
		store_batch_end(in->st, -1);
		in->n.commit_failed++;
		return -1;
	}
	return store_batch_end(in->st, 0);
}
