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
 * Nothing here allocates per message: the event, the JSON buffer and the
 * reply queue live in struct ingest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soc/json.h"
#include "soc/log.h"
#include "soc/util.h"
#include "soc/wire.h"
#include "enrich.h"
#include "ingest.h"
#include "rules.h"
#include "store.h"

#define POISON_SLOTS	64
#define SEQ_FAR_BEHIND	(3600ULL * 1000000)	/* an hour of microseconds */
#define SEQ_AHEAD_CLOCK	(1ULL << 40)		/* 12.7 days of microseconds */
#define SEQ_AHEAD_STEP	(1ULL << 20)		/* about a sensor's floor block */

/* Failed attempts of one sensor's current batch. */
struct poison {
	char		name[128];
	uint64_t	seq;
	int		tries;
};

struct ingest {
	struct store		*st;
	struct ruleset		*rs;
	struct rs_scratch	*scratch;
	struct enrich		*en;
	struct ingest_stats	 n;
	int			 in_tx;
	int			 nreplies;
	struct ingest_reply	 replies[INGEST_GROUP_MAX];
	struct poison		 poison[POISON_SLOTS];
	int64_t			 implausible_logged;	/* mono ms */
	struct soc_event	 ev;
	struct soc_sbuf		 evjson;
};

/* What on_alert needs while one batch is applied. */
struct batch_ctx {
	struct ingest			*in;
	const struct store_sensor	*sen;
	int				 failed;
};

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
	if (h->kind != SOC_WIRE_EVENTS)
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

	if ((in = calloc(1, sizeof(*in))) == NULL)
		return NULL;
	in->st = st;
	in->rs = rs;
	in->scratch = scratch;
	in->en = en;
	soc_sbuf_init(&in->evjson);
	return in;
}

void
ingest_free(struct ingest *in)
{
	if (in == NULL)
		return;
	soc_sbuf_free(&in->evjson);
	free(in);
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

static void
on_alert(void *arg, const struct rs_alert *a)
{
	struct batch_ctx *bc = arg;
	struct ingest *in = bc->in;
	struct store_hit h;
	int64_t id;
	int created;

	soc_sbuf_reset(&in->evjson);
	soc_json_event(&in->evjson, a->event);
	h = (struct store_hit){
		.rule_id = rule_id(a->rule),
		.rule_title = rule_title(a->rule),
		.rule_level = rule_level(a->rule),
		.rule_author = rule_author(a->rule),
		.severity = rule_severity(a->rule),
		.agency = bc->sen->agency,
		.sensor = bc->sen->name,
		.group_key = a->group_key,
		.first_ts = a->first_ts,
		.last_ts = a->last_ts,
		.count = a->count,
		.evidence_json = in->evjson.oom ? NULL : in->evjson.data,
	};
	in->n.alerts++;
	if (store_incident_hit(in->st, &h, &id, &created) == -1) {
		bc->failed = 1;
		return;
	}
	if (created) {
		in->n.incidents_new++;
		log_info("incident %lld: %s [%s] agency %s %s", (long long)id,
		    h.rule_title, h.rule_level, h.agency, h.group_key);
	}
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
	int rc;

	if (soc_wire_open(&r, data, len, &hdr, &why) == -1)
		return;
	soc_sbuf_init(&js);
	soc_sbuf_add(&js, "{", 1);
	while ((rc = soc_wire_next_counter(&r, name, &v, &why)) == 1) {
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
	} else
		log_warnx("sensor %s: malformed heartbeat (%s)", sen->name, why);
	soc_sbuf_free(&js);
}

/*
 * Apply one event batch inside the open transaction, under its own
 * savepoint: 0 = applied (ack it after the commit), -1 = undone alone.
 */
static int
apply_events(struct ingest *in, const struct store_sensor *sen,
    const struct soc_wire_hdr *hdr, const void *data, size_t len)
{
	struct batch_ctx bc = { in, sen, 0 };
	struct soc_wire_reader r;
	struct soc_wire_hdr h2;
	const char *why;

	if (store_batch_begin(in->st) == -1)
		return -1;
	soc_wire_open(&r, data, len, &h2, &why);
	while (soc_wire_next_event(&r, &in->ev, &why) == 1) {
		/* the agency and sensor come from the key, never the event */
		soc_event_stamp(&in->ev, SOC_F_ORGANIZATION_ID, sen->agency);
		soc_event_stamp(&in->ev, SOC_F_OBSERVER_NAME, sen->name);
		enrich_event(in->en, &in->ev);
		in->n.events++;
		if (ruleset_match(in->rs, in->scratch, &in->ev, on_alert, &bc) == -1)
			bc.failed = 1;
		if (bc.failed)
			break;
	}
	if (bc.failed || store_sensor_set_seq(in->st, sen->name, hdr->seq,
	    hdr->count, soc_now_ns()) == -1) {
		log_warnx("batch %llu of %s not applied (%s); the sensor will resend",
		    (unsigned long long)hdr->seq, sen->name, store_errmsg(in->st));
		store_batch_end(in->st, -1);
		in->n.commit_failed++;
		return -1;
	}
	return store_batch_end(in->st, 0);
}

/* A batch never applied: its number is recorded so the chain goes on. */
static void
skip_batch(struct ingest *in, const void *peer, size_t peerlen,
    const struct store_sensor *sen, uint64_t seq)
{
	if (store_batch_begin(in->st) == 0 &&
	    store_batch_end(in->st, store_sensor_set_seq(in->st, sen->name, seq,
	    0, soc_now_ns())) == 0)
		queue_reply(in, peer, peerlen, seq, SOC_WIRE_ACK);
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

/* An event batch in chain order, checked whole: apply it or count it. */
static void
take_events(struct ingest *in, const void *peer, size_t peerlen,
    const struct store_sensor *sen, const struct soc_wire_hdr *h,
    const void *data, size_t len)
{
	in->n.batches++;
	if (h->prev != 0 && h->prev != sen->last_seq)
		log_info("sensor %s: batch %llu follows %llu, %llu was applied "
		    "last (batches dropped by the sensor's spool bound, or two "
		    "sensors sharing one key)", sen->name,
		    (unsigned long long)h->seq, (unsigned long long)h->prev,
		    (unsigned long long)sen->last_seq);
	if (apply_events(in, sen, h, data, len) == 0) {
		queue_reply(in, peer, peerlen, h->seq, SOC_WIRE_ACK);
		return;
	}
	/* a batch that fails every time must not stall its sensor forever */
	if (poison_count(in, sen->name, h->seq) >= INGEST_POISON_TRIES) {
		log_warnx("sensor %s: batch %llu failed %d times (%s); skipping "
		    "it so the batches behind it are not held up", sen->name,
		    (unsigned long long)h->seq, INGEST_POISON_TRIES,
		    store_errmsg(in->st));
		skip_batch(in, peer, peerlen, sen, h->seq);
		in->n.skipped++;
	}
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
		if (hdr.kind == SOC_WIRE_EVENTS)
			skip_batch(in, peer, peerlen, &sen, hdr.seq);
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
	int i, rc = 0;

	if (in->in_tx) {
		in->in_tx = 0;
		if (store_commit(in->st) == -1) {
			log_warnx("commit failed (%s): %d batches not acked; the "
			    "sensors will resend", store_errmsg(in->st),
			    in->nreplies);
			store_rollback(in->st);
			in->n.commit_failed++;
			rc = -1;
		}
	}
	if (rc == 0)
		for (i = 0; i < in->nreplies; i++)
			fn(arg, &in->replies[i]);
	in->nreplies = 0;
	return rc;
}
