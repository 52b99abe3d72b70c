/*
 * The national role in ingest: a batch of kind ALERTS from an enrolled
 * province takes ingest.c's chain, duplicate, gap, poison and savepoint
 * path; here each of its records is decoded (alert_from_json, hostile
 * input) and stored as one revision of one provincial incident
 * (store-national.c), under the agency and name of the key, never what
 * the alert claims.
 *
 * Bounds on what one province can do (issue 15 item 9):
 * - national.max_alerts_per_min per province key and wall-clock minute.
 *   A batch that would pass it is refused whole with a NACK (the last
 *   number applied), before anything of it is decoded: the province keeps
 *   it in its outbox and resends it, so nothing is lost, which merging
 *   the excess into other incidents could not promise (forwarding
 *   promises every revision arrives).  Each refusal is counted per
 *   province in the store (socctl stats) and logged once a minute per
 *   province, with the previous minute's total.
 * - the provincial agency code (soc.origin.agency) must be a code: 1-63
 *   letters, digits, '.', '_', '-'.  An invalid one is never stored: the
 *   key's enrolled agency stands in for it, counted and logged.  A valid
 *   code the province never forwarded before, and that is not an agency
 *   known here, is accepted but recorded as new (province_agencies.new),
 *   counted and logged.
 * - the category: the alert's soc.incident.category when it is one of
 *   the ten codes, else the one our table gives the alert's tags.
 */
#include <stdio.h>
#include <string.h>

#include "soc/json.h"
#include "soc/log.h"
#include "soc/util.h"
#include "soc/wire.h"
#include "alert.h"
#include "category.h"
#include "intel.h"
#include "ingest.h"
#include "ingest-int.h"
#include "store.h"
#include "store-intel.h"

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

/* A hostile string made printable for a log line (at most 64 bytes). */
static const char *
printable(const char *s, char *buf, size_t len)
{
	size_t i, o = 0;

	for (i = 0; s[i] != '\0' && o + 5 < len && i < 64; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
	}
	buf[o] = '\0';
	return buf;
}

void
ingest_set_national_bound(struct ingest *in, uint64_t max_per_min)
{
	in->nat_bound = max_per_min;
}

/* The slot of a province key, taken (the oldest one) when it has none. */
static struct nat_slot *
nat_slot(struct ingest *in, const char *name)
{
	struct nat_slot *s, *pick = NULL;
	int i;

	for (i = 0; i < NAT_SLOTS; i++) {
		s = &in->nat[i];
		if (strcmp(s->name, name) == 0)
			return s;
		if (pick == NULL || (pick->name[0] != '\0' &&
		    (s->name[0] == '\0' || s->minute < pick->minute)))
			pick = s;
	}
	memset(pick, 0, sizeof(*pick));
	snprintf(pick->name, sizeof(pick->name), "%s", name);
	return pick;
}

/*
 * Whether a batch of nrec alerts from sen fits the current minute's
 * bound: 1 taken (counted), 0 deferred (counted, logged once a minute).
 */
static int
nat_admit(struct ingest *in, const struct store_sensor *sen,
    const struct soc_wire_hdr *hdr, uint64_t nrec, int64_t now)
{
	struct nat_slot *s;
	int64_t minute = now / (60 * 1000000000LL);

	if (in->nat_bound == 0 || nrec == 0)
		return 1;
	s = nat_slot(in, sen->name);
	if (s->minute != minute) {
		if (s->deferred > 0)
			log_warnx("%s: %llu alerts in %llu batches deferred in"
			    " the last minute over national.max_alerts_per_min"
			    " (%llu); they are resent", sen->name,
			    (unsigned long long)s->deferred,
			    (unsigned long long)s->nbatches,
			    (unsigned long long)in->nat_bound);
		s->minute = minute;
		s->taken = s->deferred = s->nbatches = 0;
	}
	if (s->taken + nrec <= in->nat_bound) {
		s->taken += nrec;
		return 1;
	}
	if (hdr->seq == s->deferred_seq) {
		/*
		 * A resend of the batch deferred last (every few seconds until
		 * it fits): counted once, but its time is stored again once a
		 * minute, so a batch that never fits keeps the province's
		 * deferral recent (coverage) without a write per resend.
		 */
		if (s->deferred_touch != minute) {
			s->deferred_touch = minute;
			if (store_province_deferred(in->st, sen->name, 0,
			    now) == -1)
				log_warnx("%s: deferral not recorded: %s",
				    sen->name, store_errmsg(in->st));
		}
		return 0;
	}
	s->deferred_seq = hdr->seq;
	s->deferred_touch = minute;
	if (s->deferred == 0)
		log_warnx("%s: alert batch %llu (%llu alerts) deferred: %llu"
		    " alerts taken this minute, national.max_alerts_per_min is"
		    " %llu%s; NACKed, the province resends it (counted in"
		    " `socctl stats`)", sen->name, (unsigned long long)hdr->seq,
		    (unsigned long long)nrec, (unsigned long long)s->taken,
		    (unsigned long long)in->nat_bound, nrec > in->nat_bound ?
		    "; this batch alone is larger, raise the bound to take it" :
		    "");
	s->deferred += nrec;
	s->nbatches++;
	in->n.fwd_deferred += nrec;
	if (store_province_deferred(in->st, sen->name, nrec, now) == -1)
		log_warnx("%s: deferred alerts not counted: %s", sen->name,
		    store_errmsg(in->st));
	return 0;
}

/* The records in an alert batch, counted without decoding them. */
static uint64_t
batch_records(const void *data, size_t len)
{
	struct soc_wire_reader r;
	struct soc_wire_hdr h;
	const void *blob;
	const char *why;
	size_t blen;
	uint64_t n = 0;

	soc_wire_open(&r, data, len, &h, &why);
	while (soc_wire_next_blob(&r, &blob, &blen, &why) == 1)
		n++;
	return n;
}

/*
 * The provincial agency code of an alert: itself when valid (recorded
 * per province, a new one flagged), else the key's own; counted and
 * logged (once a minute per province).  -1 when the store failed.
 */
static int
check_agency(struct ingest *in, const struct store_sensor *sen,
    const char **agency, int64_t id, int64_t now)
{
	struct nat_slot *s;
	char buf[360];
	int64_t minute = now / (60 * 1000000000LL);
	int rc, loud;

	s = nat_slot(in, sen->name);
	loud = s->agency_logged != minute + 1;
	if (!soc_code_ok(*agency)) {
		if (loud)
			log_warnx("%s: incident %lld names agency \"%s\", not a"
			    " code (1-63 letters, digits, '.', '_', '-'); stored"
			    " under %s, counted in `socctl stats`", sen->name,
			    (long long)in->alert.incident_id,
			    printable(*agency, buf, sizeof(buf)), sen->agency);
		s->agency_logged = minute + 1;
		in->n.fwd_agency_bad++;
		*agency = sen->agency;
		return store_province_agency_count(in->st, sen->name, 0, 1,
		    NULL);
	}
	if ((rc = store_province_agency(in->st, sen->name, *agency, now,
	    id)) != 2)
		return rc == -1 ? -1 : 0;
	if (loud)
		log_warnx("%s: names agency %s for the first time (national"
		    " incident %lld), not an agency known here; accepted and"
		    " counted (`socctl stats`): if it is not one of that"
		    " province's agencies, ask the province", sen->name,
		    *agency, (long long)id);
	s->agency_logged = minute + 1;
	in->n.fwd_agency_new++;
	return store_province_agency_count(in->st, sen->name, 1, 0, *agency);
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
 * A province's claimed first and last seen, bounded as events are
 * (ingest.max_ahead_s ahead of our clock, or before 1970: the receive
 * time), so a hostile province cannot make a national incident "last
 * seen 2262" and sort it to the top.  Only the incident's columns: the
 * stored alert (evidence) keeps what the province claimed.  Returns 1
 * when a time was replaced.
 */
static int
bound_alert_time(const struct ingest *in, int64_t now,
    struct store_origin_rev *r)
{
	int n = 0;

	if (soc_time_outside(r->last_seen, now, in->max_ahead, 0)) {
		r->last_seen = now;
		n = 1;
	}
	if (soc_time_outside(r->first_seen, now, in->max_ahead, 0)) {
		r->first_seen = now;
		n = 1;
	}
	if (r->first_seen > r->last_seen)
		r->first_seen = r->last_seen;
	return n;
}

/* At most once a minute (the counts are per province key in the store). */
static void
log_alert_clamped(struct ingest *in, const struct store_sensor *sen,
    uint64_t n)
{
	int64_t now = soc_mono_ms();

	if (in->clamped_logged != 0 && now - in->clamped_logged < 60000)
		return;
	in->clamped_logged = now;
	log_warnx("%s: %llu alerts first or last seen outside ingest.max_ahead_s"
	    " of our clock (or before 1970) were given the receive time for the"
	    " national incident (the claim kept in its evidence; `socctl"
	    " sensors` counts them): a provincial clock off, or forged times",
	    sen->name, (unsigned long long)n);
}

/* The alert's category when it is one of ours, else our tags' view. */
static const char *
alert_category(const struct ingest *in, const char *tags)
{
	const char *c;

	if ((c = category_code(in->alert.category)) != NULL)
		return c;
	/* an indicator hit (ingest-intel.c) keeps its category nationally */
	if (strcmp(in->alert.category, INTEL_CATEGORY) == 0)
		return INTEL_CATEGORY;
	return in->cats != NULL ? category_of(in->cats, tags) : CATEGORY_OTHER;
}

/*
 * An indicator hit forwarded by a province (category intel, group key
 * "TYPE VALUE", ingest-intel.c): one sighting per provincial incident,
 * updated with each revision (`socctl intel show VALUE`).  0 / -1.
 */
static int
sighting(struct ingest *in, const struct store_origin_rev *r, int64_t id)
{
	const char *sp = strchr(r->group_key, ' ');
	char type[16];

	if (strcmp(r->category, INTEL_CATEGORY) != 0 || sp == NULL ||
	    sp == r->group_key || (size_t)(sp - r->group_key) >= sizeof(type) ||
	    sp[1] == '\0')
		return 0;
	memcpy(type, r->group_key, (size_t)(sp - r->group_key));
	type[sp - r->group_key] = '\0';
	if (intel_type_parse(type) < 0)
		return 0;
	return store_intel_sighting(in->st, type, sp + 1, r->origin_name,
	    soc_code_ok(in->alert.origin_agency) ? in->alert.origin_agency :
	    r->agency, id, r->count > INT64_MAX ? INT64_MAX : (int64_t)r->count,
	    r->first_seen, r->last_seen);
}

/*
 * The provincial agency and its parents as the alert names them
 * (organization.name, soc.organization.parents), under the province key:
 * `--agency PROVINCE/AGENCY` nationally takes the subtree.  The chain
 * stops at the first code that is not one.  0 / -1.
 */
static int
tree(struct ingest *in, const struct store_sensor *sen, int64_t now)
{
	const char *chain[ALERT_MAX_PARENTS];
	size_t n;

	if (!soc_code_ok(in->alert.origin_agency) ||
	    strcmp(in->alert.agency, in->alert.origin_agency) != 0)
		return 0;
	for (n = 0; n < (size_t)in->alert.nparents && n < ALERT_MAX_PARENTS &&
	    soc_code_ok(in->alert.parents[n]); n++)
		chain[n] = in->alert.parents[n];
	return store_province_tree(in->st, sen->name, in->alert.origin_agency,
	    in->alert.agency_name, chain, n, now);
}

/*
 * One decoded alert into the store: 0 (stored, stale or refused, *ngood
 * counting the first two), or -1 when the store failed.
 */
static int
apply_alert(struct ingest *in, const struct store_sensor *sen, int64_t now,
    uint64_t *ngood, uint64_t *nclamped)
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
	r.category = alert_category(in, in->atags);
	if (bound_alert_time(in, now, &r))
		(*nclamped)++;
	if (!soc_code_ok(r.origin_agency))	/* never stored as sent */
		r.origin_agency = sen->agency;
	if ((rc = store_national_apply(in->st, &r, now, &id)) == -1)
		return -1;
	if (rc != STORE_NAT_REFUSED && rc != STORE_NAT_STALE) {
		r.origin_agency = in->alert.origin_agency;
		if (check_agency(in, sen, &r.origin_agency, id, now) == -1)
			return -1;
	}
	if (rc != STORE_NAT_REFUSED)
		(*ngood)++;
	if ((rc == STORE_NAT_CREATED || rc == STORE_NAT_UPDATED) &&
	    (sighting(in, &r, id) == -1 || tree(in, sen, now) == -1))
		return -1;
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
	uint64_t nrec = 0, ngood = 0, nclamped = 0;
	int64_t now = soc_now_ns();
	size_t blen;
	int failed = 0;

	if (!nat_admit(in, sen, hdr, batch_records(data, len), now))
		return INGEST_NAT_DEFER;
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
		failed = apply_alert(in, sen, now, &ngood, &nclamped) == -1;
	}
	if (failed || (ngood > 0 &&
	    store_national_received(in->st, sen->name, now) == -1) ||
	    (nclamped > 0 &&
	    store_sensor_add_clamped(in->st, sen->name, nclamped) == -1) ||
	    store_sensor_set_seq(in->st, sen->name, hdr->seq, nrec, now) == -1) {
		log_warnx("alert batch %llu of %s not applied (%s); it will be"
		    " resent", (unsigned long long)hdr->seq, sen->name,
		    store_errmsg(in->st));
		store_batch_end(in->st, -1);
		in->n.commit_failed++;
		return -1;
	}
	if (store_batch_end(in->st, 0) == -1)
		return -1;
	if (nclamped > 0) {
		in->n.ts_clamped += nclamped;
		log_alert_clamped(in, sen, nclamped);
	}
	return 0;
}
