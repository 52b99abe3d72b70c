/*
 * Ingest: at-least-once on the wire, exactly-once in effect.  A batch is
 * checked whole, its events are stamped with the agency and name of the
 * authenticated sensor (never what the event claims), enriched, matched,
 * and the alerts aggregated into incidents; the sensor's sequence number
 * is recorded in the same transaction, and the ack goes out only after
 * that transaction commits.  A resend (seq <= last committed) is acked
 * without being applied again; a batch whose predecessor is missing is
 * answered with a NACK so the sensor resends in chain order.
 *
 * Group commit: up to INGEST_GROUP_MAX waiting messages share one
 * transaction (one fsync), each batch under its own savepoint so a
 * failing one is undone alone.  Replies are queued and handed out only
 * after the commit -- including acks of resends, which may repeat a batch
 * applied earlier in the same group.
 *
 * Incidents: the alerts are summed per (rule, agency, group key) in
 * memory (incident-agg.c), per batch and then per group, and each
 * incident is written once, at the group end before the commit: the
 * acks still leave only after it.  A batch undone at its savepoint takes
 * its alerts with it.  If the aggregation fills up, the group's sums are
 * written early, between batches, in the same transaction.
 *
 * The national role: a batch of kind ALERTS from an enrolled province
 * (its correlator's key, enrolled like a sensor) takes the same chain,
 * duplicate, gap, poison and savepoint path; each record is then one
 * revision of one provincial incident (ingest-national.c, store-national.c).
 * Each key has a role, given at enrolment (--role) or fixed by the kind
 * of its first batch (trust on first use): alert batches from a sensor
 * key and event batches from a province key are refused, counted and
 * acked like a malformed batch, so one stolen sensor key cannot write
 * incidents past the rules (role_allows).
 *
 * Nothing here allocates per message: the event, the JSON buffers, the
 * aggregation and the reply queue live in struct ingest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "soc/json.h"
#include "soc/log.h"
#include "soc/util.h"
#include "soc/wire.h"
#include "alert.h"
#include "evarchive.h"
#include "category.h"
#include "endpoints.h"
#include "enrich.h"
#include "event-ring.h"
#include "incident-agg.h"
#include "ingest.h"
#include "ingest-int.h"
#include "ingest-intel.h"
#include "rules.h"
#include "store.h"


/*
 * Whether seq is a plausible next number after last (seq > last here).
 * A sensor numbers its batches from its wall clock in microseconds at
 * start (or from a floor kept on disk, a block of 10^6 above its last
 * number) and counts up by one per batch: it is ahead of our clock only
 * by the clocks' disagreement.  A number beyond now + SEQ_AHEAD_CLOCK
 * (2^40 us, 12.7 days: a sensor clock off by days, a wrong date, still
 * passes) is refused -- taken once, a number near 2^64 would make every
 * later batch of that sensor a "resend" for ever; this caps what any
 * number of forged batches can do at 12.7 days past our clock.  A number
 * at most SEQ_AHEAD_STEP above last passes whatever the clocks say, so a
 * chain already ahead (our clock set back) goes on; past the cap a stolen
 * key gains only that much per batch.  `socctl sensor reset-seq` mends a
 * chain pushed ahead.
 */
static int
seq_plausible(uint64_t last, uint64_t seq, uint64_t now_us)
{
	if (seq - last <= SEQ_AHEAD_STEP)
		return 1;
	return seq <= now_us + SEQ_AHEAD_CLOCK;
}

enum ingest_verdict
ingest_decide(uint64_t last, const struct soc_wire_hdr *h)
{
	return ingest_decide_at(last, h, (uint64_t)soc_now_ns() / 1000);
}

enum ingest_verdict
ingest_decide_at(uint64_t last, const struct soc_wire_hdr *h, uint64_t now_us)
{
	if (h == NULL)
		return INGEST_REFUSE;
	if (h->kind == SOC_WIRE_HEARTBEAT)
		return INGEST_APPLY;	/* heartbeats are not chained */
	if (h->seq <= last)
		return INGEST_DUPLICATE;
	/* never skip over a batch lost in transit: apply in chain order
	 * (a malformed batch too must not be acked past a missing one).
	 * prev below last is applied: the sensor's spool dropped batches. */
	if (h->prev != 0 && h->prev > last)
		return INGEST_GAP;
	if (!seq_plausible(last, h->seq, now_us))
		return INGEST_IMPLAUSIBLE;
	return INGEST_APPLY;
}

const char *
ingest_verdict_name(enum ingest_verdict v)
{
	switch (v) {
	case INGEST_APPLY: return "apply";
	case INGEST_DUPLICATE: return "duplicate";
	case INGEST_GAP: return "gap";
	case INGEST_REFUSE: return "refuse";
	case INGEST_IMPLAUSIBLE: return "implausible";
	}
	return "?";
}

struct ingest *
ingest_new(struct store *st, struct ruleset *rs, struct rs_scratch *scratch,
    struct enrich *en)
{
	struct ingest *in;

	char err[256];

	if ((in = calloc(1, sizeof(*in))) == NULL)
		return NULL;
	in->st = st;
	in->rs = rs;
	in->scratch = scratch;
	in->en = en;
	in->keep_first = in->keep_last = 10;
	in->reopen_within = REOPEN_WITHIN;
	in->max_ahead = INGEST_MAX_AHEAD_DEFAULT;
	soc_wbuf_init(&in->rewire);
	soc_sbuf_init(&in->fjson);
	soc_sbuf_init(&in->ajson);
	if ((in->agg = agg_new(AGG_KEYS, AGG_ARENA)) == NULL ||
	    (in->evring = evring_new(EVRING_SLOTS, EVRING_BYTES)) == NULL ||
	    (in->cats_builtin = category_default(err, sizeof(err))) == NULL) {
		ingest_free(in);
		return NULL;
	}
	agg_set_evidence(in->agg, in->keep_first, in->keep_last);
	in->cats = in->cats_builtin;
	return in;
}

void
ingest_free(struct ingest *in)
{
	if (in == NULL)
		return;
	soc_sbuf_free(&in->fjson);
	soc_sbuf_free(&in->ajson);
	soc_wbuf_free(&in->rewire);
	agg_free(in->agg);
	evring_free(in->evring);
	category_free(in->cats_builtin);
	category_free(in->cats_file);
	free(in);
}

int
ingest_set_incident_opts(struct ingest *in, int evidence_first,
    int evidence_last, int64_t reopen_within_ns)
{
	if (evidence_first < 0 || evidence_first > INGEST_EVIDENCE_MAX ||
	    evidence_last < 0 || evidence_last > INGEST_EVIDENCE_MAX ||
	    reopen_within_ns < 0)
		return -1;
	in->keep_first = evidence_first;
	in->keep_last = evidence_last;
	in->reopen_within = reopen_within_ns;
	agg_clear(in->agg);	/* between groups: nothing in it */
	agg_set_evidence(in->agg, evidence_first, evidence_last);
	return 0;
}

int
ingest_set_time_bounds(struct ingest *in, int64_t max_ahead_ns,
    int64_t max_behind_ns)
{
	if (max_ahead_ns < 0 || max_behind_ns < 0)
		return -1;
	in->max_ahead = max_ahead_ns;
	in->max_behind = max_behind_ns;
	return 0;
}

int
ingest_set_agg_limits(struct ingest *in, size_t keys, size_t arena_bytes)
{
	struct agg *a;

	if ((a = agg_new(keys, arena_bytes)) == NULL)
		return -1;
	agg_free(in->agg);
	in->agg = a;
	agg_set_evidence(a, in->keep_first, in->keep_last);
	return 0;
}

int
ingest_load_categories(struct ingest *in, const char *rules_dir, char *err,
    size_t errlen)
{
	struct category_map *m;
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", rules_dir, CATEGORY_FILE);
	if (access(path, F_OK) != 0)
		m = NULL;
	else if ((m = category_load(path, err, errlen)) == NULL)
		return -1;
	category_free(in->cats_file);
	in->cats_file = m;
	in->cats = m != NULL ? m : in->cats_builtin;
	return 0;
}

void
ingest_set_rules(struct ingest *in, struct ruleset *rs, struct rs_scratch *scratch)
{
	in->rs = rs;
	in->scratch = scratch;
}

const struct ingest_stats *
ingest_stats(const struct ingest *in)
{
	return &in->n;
}

int
ingest_pending(const struct ingest *in)
{
	return in->nreplies;
}

static void
queue_reply(struct ingest *in, const void *peer, size_t peerlen, uint64_t seq,
    enum soc_wire_reply kind)
{
	struct ingest_reply *r;

	if (in->nreplies >= INGEST_GROUP_MAX)
		return;		/* the caller passed more than a group */
	r = &in->replies[in->nreplies++];
	memcpy(r->peer, peer, peerlen);
	r->peerlen = peerlen;
	r->seq = seq;
	r->kind = kind;
}

/*
 * The JSON of an evidence blob (sensor name, NUL, the event's wire
 * bytes), appended NUL-terminated to in->fjson: decoded, stamped and
 * enriched again exactly as when it was matched.  Its offset, or -1.
 */
static ssize_t
blob_json(struct ingest *in, const char *agency, const char *blob, size_t len)
{
	struct soc_wire_reader r;
	const char *why;
	size_t nlen, off = in->fjson.len;

	if (blob == NULL || (nlen = strnlen(blob, len)) == len)
		return -1;
	r = (struct soc_wire_reader){
		.p = (const uint8_t *)blob + nlen + 1,
		.left = len - nlen - 1,
		.remaining = 1,
		.kind = SOC_WIRE_EVENTS,
	};
	if (soc_wire_next_event(&r, &in->fev, &why) != 1)
		return -1;
	soc_event_stamp(&in->fev, SOC_F_ORGANIZATION_ID, agency);
	soc_event_stamp(&in->fev, SOC_F_OBSERVER_NAME, blob);
	enrich_event(in->en, &in->fev);
	soc_json_event(&in->fjson, &in->fev);
	soc_sbuf_add(&in->fjson, "", 1);
	return in->fjson.oom ? -1 : (ssize_t)off;
}

/* The JSON of n blobs: their offsets in in->fjson (-1 where none). */
static void
blobs_json(struct ingest *in, const char *agency, const char *const *blob,
    const size_t *len, size_t n, ssize_t *off)
{
	size_t i;

	for (i = 0; i < n; i++)
		off[i] = blob_json(in, agency, blob[i], len[i]);
}

/* Writes one incident's sums (agg_flush() callback); 0 / -1. */
static int
flush_one(void *arg, const struct agg_out *o)
{
	struct ingest *in = arg;
	const char *first[AGG_EV_MAX], *last[AGG_EV_MAX];
	ssize_t offf[AGG_EV_MAX], offl[AGG_EV_MAX];
	struct store_flush f;
	int64_t id;
	size_t i;
	int how;

	/* JSON only for the events kept: offsets first (the buffer grows) */
	soc_sbuf_reset(&in->fjson);
	blobs_json(in, o->agency, o->ev_first, o->ev_first_len, o->nfirst, offf);
	blobs_json(in, o->agency, o->ev_last, o->ev_last_len, o->nlast, offl);
	for (i = 0; i < o->nfirst; i++)
		first[i] = offf[i] < 0 ? NULL : in->fjson.data + offf[i];
	for (i = 0; i < o->nlast; i++)
		last[i] = offl[i] < 0 ? NULL : in->fjson.data + offl[i];

	f = (struct store_flush){
		.hit = {
			.rule_id = rule_id(o->rule),
			.rule_title = rule_title(o->rule),
			.rule_level = rule_level(o->rule),
			.rule_author = rule_author(o->rule),
			.rule_tags = rule_tags(o->rule),
			.severity = o->severity,
			.agency = o->agency,
			.sensor = o->sensor,
			.group_key = o->group_key,
			.first_ts = o->first_ts,
			.last_ts = o->last_ts,
			.count = o->count,
		},
		.category = ingest_intel_rule(o->rule) ? "intel" :
		    category_of(in->cats, rule_tags(o->rule)),
		.nalerts = o->nalerts,
		.ev_first = first,
		.nfirst = o->nfirst,
		.ev_last = last,
		.nlast = o->nlast,
		.keep_first = in->keep_first,
		.keep_last = in->keep_last,
		.reopen_within_ns = in->reopen_within,
		.caller_undoes = 1,	/* the group, or the batch (safe mode) */
	};
	in->n.incident_writes++;
	if (store_incident_flush(in->st, &f, &id, &how) == -1) {
		log_warnx("incident of rule %s, agency %s: %s", f.hit.rule_id,
		    o->agency, store_errmsg(in->st));
		return -1;
	}
	if (ingest_intel_rule(o->rule) &&
	    ingest_intel_flushed(in, id, o->group_key) == -1)
		return -1;
	if (how == STORE_FLUSH_CREATED) {
		in->n.incidents_new++;
		/* a storm opens thousands: the first few by name */
		if (in->logged++ < LOG_NEW_MAX)
			log_info("incident %lld: %s [%s] agency %s %s",
			    (long long)id, f.hit.rule_title, f.hit.rule_level,
			    o->agency, o->group_key);
	} else if (how == STORE_FLUSH_REOPENED) {
		in->n.incidents_reopened++;
		log_info("incident %lld reopened: %s agency %s %s", (long long)id,
		    f.hit.rule_title, o->agency, o->group_key);
	}
	return 0;
}

/* Writes the group's sums so far; a failure fails the whole group. */
static void
flush_incidents(struct ingest *in)
{
	if (agg_flush(in->agg, flush_one, in) != 0)
		in->agg_failed = 1;
}

/*
 * A correlation's crossing alert: its evidence is the events of its
 * window (oldest first, those the ring still holds; the last one is
 * usually the event just decoded), so the incident's first N hold the
 * events that reached the threshold.  0, or -1 when the table is full.
 */
static int
add_window(struct ingest *in, struct batch_ctx *bc, const struct rs_alert *a)
{
	const char *sen = bc->sen->name;
	const void *pre, *ev;
	size_t prelen, evlen, i;
	int first = 1;

	for (i = 0; i < a->nrefs; i++) {
		if (a->refs[i] == in->evno) {
			pre = sen;
			prelen = strlen(sen) + 1;
			ev = in->raw;
			evlen = in->rawlen;
		} else if ((ev = evring_get(in->evring, a->refs[i], &evlen)) != NULL) {
			pre = "";
			prelen = 0;
		} else
			continue;	/* older than the ring */
		if (!first) {
			agg_add_ev(in->agg, a->refs[i], pre, prelen, ev, evlen);
			continue;
		}
		if (agg_add(in->agg, a->rule, bc->sen->agency, sen, a->group_key,
		    a->first_ts, a->last_ts, a->count, rule_severity(a->rule),
		    a->refs[i], pre, prelen, ev, evlen) == -1)
			return -1;
		first = 0;
	}
	if (!first)
		return 0;
	return agg_add(in->agg, a->rule, bc->sen->agency, sen, a->group_key,
	    a->first_ts, a->last_ts, a->count, rule_severity(a->rule), in->evno,
	    sen, strlen(sen) + 1, in->raw, in->rawlen);
}

/*
 * One alert: summed into the batch's part of its key.  Its evidence is
 * the event's wire bytes (with the sensor's name), copied once per event;
 * JSON is made at the flush, only of the events still kept.  The alert's
 * event is the one just decoded (a correlation's too: the event that
 * completed it); a correlation's crossing alert brings its window's
 * events instead (add_window).
 */
static void
on_alert(void *arg, const struct rs_alert *a)
{
	struct batch_ctx *bc = arg;
	struct ingest *in = bc->in;
	struct store_hit h;
	int64_t id;
	int created;

	in->n.alerts++;
	if (a->nrefs > 0 && (in->keep_first > 0 || in->keep_last > 0)) {
		if (add_window(in, bc, a) == 0)
			return;
	} else if (agg_add(in->agg, a->rule, bc->sen->agency, bc->sen->name,
	    a->group_key, a->first_ts, a->last_ts, a->count,
	    rule_severity(a->rule), in->evno, bc->sen->name,
	    strlen(bc->sen->name) + 1, in->keep_first > 0 || in->keep_last > 0 ?
	    in->raw : NULL, in->rawlen) == 0)
		return;
	soc_sbuf_reset(&in->fjson);
	soc_json_event(&in->fjson, a->event);
	/* the table is full inside a batch: this one is written alone */
	in->n.agg_overflow++;
	h = (struct store_hit){
		.rule_id = rule_id(a->rule),
		.rule_title = rule_title(a->rule),
		.rule_level = rule_level(a->rule),
		.rule_author = rule_author(a->rule),
		.rule_tags = rule_tags(a->rule),
		.severity = rule_severity(a->rule),
		.agency = bc->sen->agency,
		.sensor = bc->sen->name,
		.group_key = a->group_key,
		.first_ts = a->first_ts,
		.last_ts = a->last_ts,
		.count = a->count,
		.evidence_json = in->fjson.oom ? NULL : in->fjson.data,
	};
	in->n.incident_writes++;
	if (store_incident_hit(in->st, &h, &id, &created) == -1) {
		bc->failed = 1;
		return;
	}
	if (created)
		in->n.incidents_new++;
}

/*
 * The sensor's count of acked events against ours (store_ack_judge()):
 * a debt that keeps growing is raised once, as an incident of the
 * sensor's agency and a warning; coverage layer 2 shows it until `socctl
 * sensor reset-seq` clears it.  The incident goes in the group's
 * transaction, like the heartbeat.
 */
static void
check_acked(struct ingest *in, const struct store_sensor *sen, int64_t run,
    int64_t acked, int64_t unacked)
{
	struct store_ack a;
	struct store_hit h;
	struct soc_sbuf ev;
	char key[192], msg[512];
	int64_t now = soc_now_ns(), id;
	int created, rc;

	rc = store_sensor_ack_check(in->st, sen->name, run, acked, unacked, now,
	    &a);
	if (rc == -1) {
		log_warnx("sensor %s: acked count not checked: %s", sen->name,
		    store_errmsg(in->st));
		return;
	}
	if (rc == 0)
		return;
	in->n.ack_alarms++;
	if (rc == STORE_ACK_RUNS)
		snprintf(msg, sizeof(msg), "sensor %s sent a heartbeat of a run"
		    " (uplink_start %lld) older than the run %lld it sent"
		    " before: two holders of its key are talking (or its clock"
		    " went back across a restart); run `socctl sensor reset-seq"
		    " %s`, and `socctl sensor revoke %s` if the key is stolen",
		    sen->name, (long long)run, (long long)a.run,
		    sen->name, sen->name);
	else
		snprintf(msg, sizeof(msg), "sensor %s reports %lld events"
		    " acknowledged that were never applied: its batches are taken"
		    " as resends, so its sequence number was pushed ahead (another"
		    " holder of its key?); run `socctl sensor reset-seq %s`, and"
		    " `socctl sensor revoke %s` if the key is stolen", sen->name,
		    (long long)a.debt, sen->name, sen->name);
	log_warnx("%s", msg);
	/* the evidence: nested like an event's JSON */
	soc_sbuf_init(&ev);
	soc_sbuf_adds(&ev, "{\"observer\":{\"name\":");
	soc_sbuf_json_str(&ev, sen->name, strlen(sen->name));
	soc_sbuf_printf(&ev, "},\"soc\":{\"sensor\":{\"acked_not_applied\":"
	    "%lld}},\"message\":", (long long)a.debt);
	soc_sbuf_json_str(&ev, msg, strlen(msg));
	soc_sbuf_add(&ev, "}", 2);
	snprintf(key, sizeof(key), "observer.name=%s", sen->name);
	h = (struct store_hit){
		.rule_id = INGEST_ACK_RULE,
		.rule_title = "Sensor's events acknowledged but not stored"
		    " (sequence pushed ahead)",
		.rule_level = "high",
		.rule_author = "soc-correlator",
		.severity = 3,
		.agency = sen->agency,
		.sensor = sen->name,
		.group_key = key,
		.first_ts = now,
		.last_ts = now,
		.count = (uint64_t)a.debt,
		.evidence_json = ev.oom ? NULL : ev.data,
	};
	if (store_incident_hit(in->st, &h, &id, &created) == -1)
		log_warnx("sensor %s: incident not written: %s", sen->name,
		    store_errmsg(in->st));
	else if (created)
		in->n.incidents_new++;
	soc_sbuf_free(&ev);
}

static void
apply_heartbeat(struct ingest *in, const struct store_sensor *sen,
    const void *data, size_t len)
{
	struct soc_wire_reader r;
	struct soc_wire_hdr hdr;
	struct soc_sbuf js;
	const char *why;
	char name[256];
	uint64_t v;
	int64_t acked = 0, unacked = 0, run = 0;
	int rc, have = 0;

	if (soc_wire_open(&r, data, len, &hdr, &why) == -1)
		return;
	soc_sbuf_init(&js);
	soc_sbuf_add(&js, "{", 1);
	while ((rc = soc_wire_next_counter(&r, name, &v, &why)) == 1) {
		/* the peer's numbers: past int64 is INT64_MAX, never negative */
		int64_t iv = v > INT64_MAX ? INT64_MAX : (int64_t)v;

		if (strcmp(name, "events_acked") == 0)
			acked = iv, have |= 1;
		else if (strcmp(name, "batches_unacked") == 0)
			unacked = iv, have |= 2;
		else if (strcmp(name, "uplink_start") == 0)
			run = iv, have |= 4;
		if (js.len > 1)
			soc_sbuf_add(&js, ",", 1);
		soc_sbuf_json_str(&js, name, strlen(name));
		soc_sbuf_printf(&js, ":%llu", (unsigned long long)v);
	}
	soc_sbuf_add(&js, "}", 1);
	if (rc == 0 && !js.oom) {
		in->n.heartbeats++;
		if (store_sensor_heartbeat(in->st, sen->name, soc_now_ns(), js.data) == -1)
			log_warnx("heartbeat of %s: %s", sen->name, store_errmsg(in->st));
		else if (have == 7)
			check_acked(in, sen, run, acked, unacked);
	} else
		log_warnx("sensor %s: malformed heartbeat (%s)", sen->name, why);
	soc_sbuf_free(&js);
}

/*
 * The evidence of an event is its wire bytes, decoded again at the
 * flush: a bounded one is encoded again, so its evidence shows the
 * receive time and the claim, as it was matched.  Rare (a forged or
 * broken clock), so the copy costs nothing in the common case.
 */
static void
bound_raw(struct ingest *in)
{
	soc_wire_begin(&in->rewire, SOC_WIRE_EVENTS, 0);
	if (soc_wire_add_event(&in->rewire, &in->ev) == -1 ||
	    in->rewire.len <= SOC_WIRE_HDR_LEN)
		return;		/* the claimed bytes stay the evidence */
	in->raw = in->rewire.data + SOC_WIRE_HDR_LEN;
	in->rawlen = in->rewire.len - SOC_WIRE_HDR_LEN;
}

/*
 * The event to the archive: its wire bytes (the sensor's, or as bounded
 * in time); re-encoded only when enrichment added to it, so the common
 * case costs a copy on this thread and the rest is the archive's encoder.
 */
static void
archive_event(struct ingest *in, const struct store_sensor *sen)
{
	if (soc_event_has(&in->ev, SOC_F_SRC_GEO_COUNTRY) ||
	    soc_event_has(&in->ev, SOC_F_SRC_GEO_CITY) ||
	    soc_event_has(&in->ev, SOC_F_SRC_AS_NUMBER) ||
	    soc_event_has(&in->ev, SOC_F_SRC_AS_ORG))
		bound_raw(in);
	archive_writer_add(in->arch, sen->agency, sen->name, in->raw,
	    in->rawlen);
}

/* At most once a minute (the counts are per sensor in the store). */
static void
log_clamped(struct ingest *in, const struct store_sensor *sen, uint64_t n)
{
	int64_t now = soc_mono_ms();

	if (in->clamped_logged != 0 && now - in->clamped_logged < 60000)
		return;
	in->clamped_logged = now;
	log_warnx("sensor %s: %llu events stamped outside ingest.max_ahead_s/"
	    "max_age_s of our clock were given the receive time (claim kept in"
	    " soc.timestamp.claimed; `socctl sensors` counts them): a sensor"
	    " clock off, or forged stamps", sen->name, (unsigned long long)n);
}

/*
 * Apply one event batch inside the open transaction, under its own
 * savepoint: 0 = applied (ack it after the commit), -1 = undone alone,
 * -2 = not tried (the group is lost already: the batch is not to blame).
 */
static int
apply_events(struct ingest *in, const struct store_sensor *sen,
    const struct soc_wire_hdr *hdr, const void *data, size_t len)
{
	struct batch_ctx bc = { in, sen, 0 };
	struct soc_wire_reader r;
	struct soc_wire_hdr h2;
	const char *why;
	uint64_t clamped = 0;
	int64_t now = soc_now_ns();
	size_t amark = in->arch != NULL ? archive_writer_mark(in->arch) : 0;

	if (agg_should_flush(in->agg)) {
		in->n.early_flushes++;
		flush_incidents(in);
	}
	if (in->agg_failed)
		return -2;
	if (store_batch_begin(in->st) == -1)
		return -1;
	soc_wire_open(&r, data, len, &h2, &why);
	for (;;) {
		in->raw = r.p;
		if (soc_wire_next_event(&r, &in->ev, &why) != 1)
			break;
		in->rawlen = (size_t)(r.p - in->raw);
		in->evno++;
		/* a stamp far from our clock must not move a window (issue
		 * 15): the receive time, the claim kept beside it */
		if (soc_event_bound_time(&in->ev, now, in->max_ahead,
		    in->max_behind)) {
			clamped++;
			bound_raw(in);
		} else if (soc_event_cap_time(&in->ev, now))
			/* ahead within the tolerance: still never later than
			 * the receive time, or a window holding it skips the
			 * real events behind it (a line stamped now+280 s
			 * blinds a 2-minute rule); not counted: a clock a
			 * little fast is not forging */
			bound_raw(in);
		/* the agency and sensor come from the key, never the event */
		soc_event_stamp(&in->ev, SOC_F_ORGANIZATION_ID, sen->agency);
		soc_event_stamp(&in->ev, SOC_F_OBSERVER_NAME, sen->name);
		enrich_event(in->en, &in->ev);
		in->n.events++;
		if (in->ep != NULL)	/* in the caches by endpoints_event() */
			endpoints_prefetch(in->ep, sen->agency, sen->name,
			    &in->ev);
		ruleset_set_ref(in->rs, in->evno);
		if (ruleset_match(in->rs, in->scratch, &in->ev, on_alert, &bc) == -1)
			bc.failed = 1;
		if (ingest_intel_event(in, &bc) == -1)	/* indicators */
			bc.failed = 1;
		if (in->arch != NULL)
			archive_event(in, sen);
		if (in->ep != NULL)	/* the host it came from (issue 18) */
			endpoints_event(in->ep, sen->agency, sen->name, &in->ev,
			    now);
		/* kept for the crossing alert of a window it is in */
		if (ruleset_ref_kept(in->rs) && (in->keep_first > 0 ||
		    in->keep_last > 0))
			evring_put(in->evring, in->evno, sen->name,
			    strlen(sen->name) + 1, in->raw, in->rawlen);
		if (bc.failed)
			break;
	}
	if (!bc.failed && in->safe_groups > 0) {
		/* after a failure: this batch's sums alone, in its savepoint */
		agg_batch_end(in->agg, 1);
		flush_incidents(in);
		bc.failed = in->agg_failed;
		in->agg_failed = 0;
	}
	if (!bc.failed && clamped > 0 &&
	    store_sensor_add_clamped(in->st, sen->name, clamped) == -1)
		bc.failed = 1;
	if (bc.failed || store_sensor_set_seq(in->st, sen->name, hdr->seq,
	    hdr->count, soc_now_ns()) == -1) {
		log_warnx("batch %llu of %s not applied (%s); the sensor will resend",
		    (unsigned long long)hdr->seq, sen->name, store_errmsg(in->st));
		store_batch_end(in->st, -1);
		agg_batch_end(in->agg, 0);
		if (in->arch != NULL)
			archive_writer_undo(in->arch, amark);
		in->n.commit_failed++;
		return -1;
	}
	if (store_batch_end(in->st, 0) == -1) {
		/* RELEASE failed: the savepoint may be gone; take no chances */
		agg_batch_end(in->agg, 0);
		if (in->arch != NULL)
			archive_writer_undo(in->arch, amark);
		in->agg_failed = 1;
		return -1;
	}
	agg_batch_end(in->agg, 1);
	if (clamped > 0) {
		in->n.ts_clamped += clamped;
		log_clamped(in, sen, clamped);
	}
	return 0;
}

/* A batch never applied: its number is recorded so the chain goes on. */
static void
skip_batch(struct ingest *in, const void *peer, size_t peerlen,
    const struct store_sensor *sen, const struct soc_wire_hdr *h)
{
	int rc;

	/*
	 * The sensor counts its events acked: for the acked-count check
	 * (check_acked()) they count as applied, in the same transaction,
	 * so two skipped batches in a run do not look like a pushed chain.
	 */
	if (store_batch_begin(in->st) == -1)
		return;
	rc = store_sensor_set_seq(in->st, sen->name, h->seq, 0, soc_now_ns());
	if (rc == 0 && h->count > 0)
		rc = store_sensor_ack_skipped(in->st, sen->name, h->count);
	if (store_batch_end(in->st, rc) == 0)
		queue_reply(in, peer, peerlen, h->seq, SOC_WIRE_ACK);
}

/*
 * Failed attempts per (sensor, batch), for the few sensors that have one
 * right now; returns the attempts of this one so far.
 */
static int
poison_count(struct ingest *in, const char *name, uint64_t seq)
{
	struct poison *p = in->poison;
	int i, free_slot = -1;

	for (i = 0; i < POISON_SLOTS; i++) {
		if (p[i].tries > 0 && strcmp(p[i].name, name) == 0) {
			if (p[i].seq != seq) {
				p[i].seq = seq;
				p[i].tries = 0;
			}
			return ++p[i].tries;
		}
		if (p[i].tries == 0 && free_slot == -1)
			free_slot = i;
	}
	if (free_slot == -1)
		free_slot = (int)(seq % POISON_SLOTS);
	snprintf(p[free_slot].name, sizeof(p[free_slot].name), "%s", name);
	p[free_slot].seq = seq;
	p[free_slot].tries = 1;
	return 1;
}

static void
log_duplicate(const struct store_sensor *sen, const struct soc_wire_hdr *h)
{
	if (h->prev == 0 && sen->last_seq - h->seq > SEQ_FAR_BEHIND)
		log_warnx("sensor %s: batch %llu is far below the last one "
		    "applied (%llu) and is taken as a resend; if the "
		    "sensor's clock was set back, give it a spool or a "
		    "state file so its numbers keep growing (and `socctl "
		    "sensor reset-seq %s` once)", sen->name,
		    (unsigned long long)h->seq, (unsigned long long)sen->last_seq,
		    sen->name);
}

/*
 * Not replied to: the sensor keeps the batch and resends it, so the
 * warning is given at most once a minute (the counter counts them all).
 */
static void
log_implausible(struct ingest *in, const struct store_sensor *sen,
    const struct soc_wire_hdr *h)
{
	int64_t now = soc_mono_ms();

	if (in->implausible_logged != 0 && now - in->implausible_logged < 60000)
		return;
	in->implausible_logged = now;
	log_warnx("sensor %s: batch %llu refused: sequence number implausibly "
	    "far ahead of the last one applied (%llu) and of our clock; a "
	    "sensor clock set far ahead, or a stolen key (then `socctl "
	    "sensor revoke %s`)", sen->name, (unsigned long long)h->seq,
	    (unsigned long long)sen->last_seq, sen->name);
}

/*
 * Whether sen's role lets it send a batch of h's kind: 1 yes, 0 no, -1
 * the store failed.  A key enrolled without a role gets the one its first
 * batch implies, in the group's transaction (undone with it).
 */
static int
role_allows(struct ingest *in, const struct store_sensor *sen,
    const struct soc_wire_hdr *h)
{
	const char *want = h->kind == SOC_WIRE_ALERTS ? "province" : "sensor";
	int rc;

	if (sen->role[0] != '\0')
		return strcmp(sen->role, want) == 0;
	if ((rc = store_sensor_set_role(in->st, sen->name, want, 0)) == 1)
		log_info("%s: role %s, fixed by its first batch (%s)", sen->name,
		    want, h->kind == SOC_WIRE_ALERTS ? "alerts" : "events");
	return rc;
}

/* An event batch in chain order, checked whole: apply it or count it. */
static void
take_events(struct ingest *in, const void *peer, size_t peerlen,
    const struct store_sensor *sen, const struct soc_wire_hdr *h,
    const void *data, size_t len)
{
	in->n.batches++;
	switch (role_allows(in, sen, h)) {
	case 0:
		/* recorded and acked so the key moves on: counted, logged */
		log_warnx("%s: %s batch %llu refused: the key is enrolled as a"
		    " %s", sen->name, h->kind == SOC_WIRE_ALERTS ? "alert" :
		    "event", (unsigned long long)h->seq, sen->role[0] != '\0' ?
		    sen->role : h->kind == SOC_WIRE_ALERTS ? "sensor" : "province");
		skip_batch(in, peer, peerlen, sen, h);
		in->n.refused++;
		return;
	case -1:
		log_warnx("%s: role not recorded (%s); the batch will be resent",
		    sen->name, store_errmsg(in->st));
		in->n.commit_failed++;
		return;
	}
	if (h->prev != 0 && h->prev != sen->last_seq)
		log_info("sensor %s: batch %llu follows %llu, %llu was applied "
		    "last (batches dropped by the sensor's spool bound, or two "
		    "sensors sharing one key)", sen->name,
		    (unsigned long long)h->seq, (unsigned long long)h->prev,
		    (unsigned long long)sen->last_seq);
	switch (h->kind == SOC_WIRE_ALERTS ? ingest_apply_alerts(in, sen, h, data, len) :
	    apply_events(in, sen, h, data, len)) {
	case 0:
		queue_reply(in, peer, peerlen, h->seq, SOC_WIRE_ACK);
		return;
	case -2:
		return;
	case INGEST_NAT_DEFER:	/* over the province's bound: resent later */
		queue_reply(in, peer, peerlen, sen->last_seq, SOC_WIRE_NACK);
		return;
	}
	/* a batch that fails every time must not stall its sensor forever */
	if (poison_count(in, sen->name, h->seq) >= INGEST_POISON_TRIES) {
		log_warnx("sensor %s: batch %llu failed %d times (%s); skipping "
		    "it so the batches behind it are not held up", sen->name,
		    (unsigned long long)h->seq, INGEST_POISON_TRIES,
		    store_errmsg(in->st));
		skip_batch(in, peer, peerlen, sen, h);
		in->n.skipped++;
	}
}

/* A correlation judged on the clock: written at once (they are rare). */
struct tick_ctx {
	struct ingest	*in;
	int		 failed;
	uint64_t	 n;
};

static void
on_tick_alert(void *arg, const struct rs_alert *a)
{
	struct tick_ctx *tc = arg;
	struct ingest *in = tc->in;
	struct store_hit h;
	char agency[128];
	int64_t id;
	int created;

	/* the stand-in event carries the agency the window belongs to */
	if (soc_event_text(a->event, SOC_F_ORGANIZATION_ID, agency,
	    sizeof(agency)) <= 0)
		return;
	soc_sbuf_reset(&in->fjson);
	soc_json_event(&in->fjson, a->event);
	h = (struct store_hit){
		.rule_id = rule_id(a->rule),
		.rule_title = rule_title(a->rule),
		.rule_level = rule_level(a->rule),
		.rule_author = rule_author(a->rule),
		.severity = rule_severity(a->rule),
		.agency = agency,
		.sensor = "correlator",
		.group_key = a->group_key,
		.first_ts = a->first_ts,
		.last_ts = a->last_ts,
		.count = a->count,
		.evidence_json = in->fjson.oom ? NULL : in->fjson.data,
	};
	in->n.alerts++;
	tc->n++;
	if (store_incident_hit(in->st, &h, &id, &created) == -1)
		tc->failed = 1;
	else if (created)
		in->n.incidents_new++;
}

int
ingest_tick(struct ingest *in, int64_t now_ns)
{
	struct tick_ctx tc = { in, 0, 0 };

	if (in->in_tx)
		return -1;		/* only between groups */
	if (store_begin(in->st) == -1)
		return -1;
	ruleset_tick(in->rs, now_ns, on_tick_alert, &tc);
	if (tc.failed) {
		log_warnx("correlations judged on the clock not written: %s",
		    store_errmsg(in->st));
		store_rollback(in->st);
		return -1;
	}
	if (store_commit(in->st) == -1) {
		store_rollback(in->st);
		return -1;
	}
	return (int)tc.n;
}

void
ingest_set_endpoints(struct ingest *in, struct endpoints *ep)
{
	in->ep = ep;
}

void
ingest_set_archive(struct ingest *in, struct archive_writer *w)
{
	in->arch = w;
	in->arch_paused_at = 0;
	in->arch_dropped = UINT64_MAX;	/* written with the first group */
}

/*
 * The group's frame, written before the commit; its position goes into
 * the same transaction.  A write that fails pauses the archive (counted
 * there) and never the group; only the store failing fails it.
 */
static int
archive_group(struct ingest *in)
{
	char seg[ARCHIVE_NAME_MAX];
	uint64_t off, events;
	const struct archive_wstats *aw;
	int64_t paused_at;
	int r;

	if (in->arch == NULL)
		return 0;
	r = archive_writer_flush(in->arch, seg, &off, &events);
	if (r == 1 && store_archive_set(in->st, seg, off, events,
	    soc_now_ns()) == -1)
		return -1;
	/*
	 * A paused archive (a full disk) degrades layer 2 of the coverage
	 * report: its state goes into the same transaction when it changed.
	 */
	aw = archive_writer_stats(in->arch);
	paused_at = !aw->paused ? 0 : in->arch_paused_at > 0 ?
	    in->arch_paused_at : soc_now_ns();
	if (paused_at != in->arch_paused_at || aw->dropped != in->arch_dropped) {
		if (store_archive_health_set(in->st, paused_at, aw->dropped,
		    soc_now_ns()) == -1)
			return -1;
		in->arch_paused_at = paused_at;
		in->arch_dropped = aw->dropped;
	}
	return 0;
}

void
ingest_group_begin(struct ingest *in)
{
	in->nreplies = 0;
}

int
ingest_message(struct ingest *in, const char *sensor, const void *peer,
    size_t peerlen, const void *data, size_t len)
{
	struct store_sensor sen;
	struct soc_wire_hdr hdr;
	struct soc_wire_reader r;
	enum ingest_verdict v;
	const char *why;
	int hdr_ok;

	if (peerlen > INGEST_PEER_MAX)
		return -1;
	if (!in->in_tx) {
		if (store_begin(in->st) == -1) {
			log_warnx("cannot start a transaction: %s",
			    store_errmsg(in->st));
			return -1;	/* not acked: the sensor resends */
		}
		in->in_tx = 1;
		if (in->arch != NULL)
			archive_writer_begin(in->arch, soc_now_ns());
	}
	if (sensor == NULL || store_sensor_by_name(in->st, sensor, &sen) != 1 ||
	    sen.revoked) {
		in->n.unknown_peer++;
		log_warnx("message from %s ignored: sensor unknown or revoked",
		    sensor ? sensor : "an unauthenticated peer");
		return -1;
	}
	/* a resend is recognised from the header alone, before the work of
	 * checking the whole batch: cheap under a resend storm */
	hdr_ok = soc_wire_open(&r, data, len, &hdr, &why) == 0;
	v = ingest_decide(sen.last_seq, hdr_ok ? &hdr : NULL);
	switch (v) {
	case INGEST_DUPLICATE:
		in->n.batches++;
		in->n.duplicates++;
		log_duplicate(&sen, &hdr);
		queue_reply(in, peer, peerlen, hdr.seq, SOC_WIRE_ACK);
		return v;
	case INGEST_GAP:
		in->n.gaps++;
		log_debug("sensor %s: batch %llu follows %llu, which is "
		    "missing; asking to resend after %llu", sen.name,
		    (unsigned long long)hdr.seq, (unsigned long long)hdr.prev,
		    (unsigned long long)sen.last_seq);
		queue_reply(in, peer, peerlen, sen.last_seq, SOC_WIRE_NACK);
		return v;
	case INGEST_REFUSE:
		log_warnx("sensor %s: batch refused: %s (%zu bytes)", sen.name,
		    why, len);
		in->n.refused++;
		return v;
	case INGEST_IMPLAUSIBLE:
		log_implausible(in, &sen, &hdr);
		in->n.implausible++;
		return v;
	case INGEST_APPLY:
		break;
	}
	if (soc_wire_validate(data, len, &why) == -1) {
		log_warnx("sensor %s: batch refused: %s (%zu bytes)", sen.name, why, len);
		/* recorded and acked so the sensor moves on: counted, logged */
		if (hdr.kind != SOC_WIRE_HEARTBEAT)
			skip_batch(in, peer, peerlen, &sen, &hdr);
		in->n.refused++;
		return INGEST_REFUSE;
	}
	if (hdr.kind == SOC_WIRE_HEARTBEAT)
		apply_heartbeat(in, &sen, data, len);
	else
		take_events(in, peer, peerlen, &sen, &hdr, data, len);
	return v;
}

int
ingest_group_end(struct ingest *in, ingest_reply_fn fn, void *arg)
{
	int i, rc = 0, ep_rc = 0, ep_flushed = 0;

	if (in->in_tx) {
		in->in_tx = 0;
		/* the archive's frame is written and synced meanwhile */
		if (in->arch != NULL && !in->agg_failed)
			archive_writer_flush_begin(in->arch);
		if (!in->agg_failed)
			flush_incidents(in);
		if (in->logged > LOG_NEW_MAX)
			log_info("and %llu more new incidents",
			    (unsigned long long)(in->logged - LOG_NEW_MAX));
		in->logged = 0;
		/* the inventory's changes, at most every few seconds (not a
		 * row per host per group), in a savepoint of their own: a
		 * failure keeps them for the next group, not the acks back */
		if (in->ep != NULL && !in->agg_failed &&
		    endpoints_due(in->ep, soc_mono_ms())) {
			ep_flushed = 1;
			if ((ep_rc = endpoints_flush(in->ep, in->st)) == -1)
				log_warnx("endpoints not written (%s); kept for"
				    " the next group", store_errmsg(in->st));
		}
		if (in->agg_failed) {
			log_warnx("incidents not written (%s): %d batches not "
			    "acked; the sensors will resend, and the next %d "
			    "groups write per batch", store_errmsg(in->st),
			    in->nreplies, SAFE_GROUPS);
			in->safe_groups = SAFE_GROUPS;
			rc = -1;
		} else if (archive_group(in) == -1 ||
		    store_commit(in->st) == -1) {
			log_warnx("commit failed (%s): %d batches not acked; the "
			    "sensors will resend", store_errmsg(in->st),
			    in->nreplies);
			rc = -1;
		} else if (in->safe_groups > 0)
			in->safe_groups--;
		if (rc == -1) {
			store_rollback(in->st);
			in->n.commit_failed++;
		}
		if (ep_flushed)
			endpoints_committed(in->ep, rc == 0 && ep_rc == 0);
		if (in->arch != NULL && rc != 0)
			in->arch_dropped = UINT64_MAX;	/* not written */
		if (in->arch != NULL) {
			/* cut the frame if the commit did not take it */
			archive_writer_done(in->arch, rc == 0);
			archive_writer_discard(in->arch);
		}
	}
	if (rc == 0)
		for (i = 0; i < in->nreplies; i++)
			fn(arg, &in->replies[i]);
	in->nreplies = 0;
	in->agg_failed = 0;
	agg_clear(in->agg);
	in->n.evidence_dropped = agg_dropped(in->agg);
	return rc;
}
