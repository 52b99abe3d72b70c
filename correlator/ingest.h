/*
 * Ingest: the batch protocol that carries the exactly-once promise.  For
 * each message from an authenticated sensor it decides, from the header
 * and the sensor's last committed sequence number, whether to apply the
 * batch, ack it again as a resend, ask for a resend (NACK) or refuse it;
 * it applies a batch under its own savepoint, counts a batch that keeps
 * failing and skips it after INGEST_POISON_TRIES, and commits a group of
 * messages in one transaction before any of their replies may go out.
 *
 * Nothing here touches a socket: the caller receives, hands the bytes and
 * the peer's routing identity to ingest_message(), and sends the replies
 * that ingest_group_end() hands back after the commit.
 *
 * Alerts are aggregated in memory per (rule, agency, group key) and each
 * incident is written once per group, before the commit (or earlier, if
 * the aggregation table fills up): a storm of alerts costs one incident
 * write per key and group, not one per alert.
 *
 * Use: ingest_group_begin(), ingest_message() for each waiting message
 * (at most INGEST_GROUP_MAX), ingest_group_end().
 */
#ifndef SOC_CORR_INGEST_H
#define SOC_CORR_INGEST_H

#include <stddef.h>
#include <stdint.h>
#include "soc/wire.h"

struct store;
struct ruleset;
struct rs_scratch;
struct enrich;
struct ingest;
struct archive_writer;

#define INGEST_GROUP_MAX	64	/* messages sharing one transaction */
#define INGEST_POISON_TRIES	5	/* failures before a batch is skipped */
#define INGEST_PEER_MAX		256	/* a ZeroMQ routing id is 1..255 bytes */
/* The incident raised when a sensor's acked events were not applied. */
#define INGEST_ACK_RULE		"soc-sensor-acked-not-applied"

enum ingest_verdict {
	INGEST_APPLY,		/* in chain order (or a heartbeat): check, apply */
	INGEST_DUPLICATE,	/* seq <= last committed: ack again, apply nothing */
	INGEST_GAP,		/* an earlier batch is missing: NACK with last */
	INGEST_REFUSE,		/* no usable header: count it, reply nothing */
	INGEST_IMPLAUSIBLE,	/* seq too far ahead (ingest.c): count, no reply */
};

/*
 * The pure decision: last is the sensor's last committed sequence number,
 * h the batch header or NULL when soc_wire_open() refused it.  Only the
 * header is looked at; a batch that decides APPLY must still pass
 * soc_wire_validate().
 */
enum ingest_verdict	 ingest_decide(uint64_t last, const struct soc_wire_hdr *h);
/* The same against a given clock (microseconds since the epoch). */
enum ingest_verdict	 ingest_decide_at(uint64_t last,
			    const struct soc_wire_hdr *h, uint64_t now_us);
const char		*ingest_verdict_name(enum ingest_verdict v);

struct ingest_stats {
	uint64_t	batches;
	uint64_t	duplicates;
	uint64_t	gaps;		/* batches refused: an earlier one missing */
	uint64_t	skipped;	/* batches that failed every time */
	uint64_t	refused;	/* malformed batches */
	uint64_t	implausible;	/* seq implausibly far ahead */
	uint64_t	unknown_peer;
	uint64_t	events;
	uint64_t	alerts;
	uint64_t	incidents_new;
	uint64_t	heartbeats;
	uint64_t	commit_failed;
	/* the national role: alert batches from enrolled provinces */
	uint64_t	fwd_alerts;	/* alert records decoded */
	uint64_t	fwd_bad;	/* alert records refused by the decoder */
	uint64_t	fwd_new;	/* national incidents opened */
	uint64_t	fwd_updated;	/* ... moved to a newer revision */
	uint64_t	fwd_stale;	/* same or older revision: ignored */
	uint64_t	fwd_deferred;	/* alerts NACKed over the minute's bound */
	uint64_t	fwd_agency_new;	/* alerts naming an agency new here */
	uint64_t	fwd_agency_bad;	/* ... an invalid agency code */
	uint64_t	incident_writes;	/* aggregated incidents written */
	uint64_t	incidents_reopened;
	uint64_t	early_flushes;		/* aggregation full before the group end */
	uint64_t	evidence_dropped;	/* no room to keep an event's JSON */
	uint64_t	agg_overflow;		/* alerts written alone: table full */
	uint64_t	ts_clamped;		/* events given the receive time */
	uint64_t	ack_alarms;		/* sensors acked but not applied */
};

/* A reply to send after the commit: ACK or NACK of seq to peer. */
struct ingest_reply {
	uint8_t			 peer[INGEST_PEER_MAX];
	size_t			 peerlen;
	uint64_t		 seq;
	enum soc_wire_reply	 kind;
};
typedef void (*ingest_reply_fn)(void *arg, const struct ingest_reply *r);

/*
 * The store, rules, scratch and enrichment are borrowed, not owned: the
 * caller frees them after ingest_free().  NULL on allocation failure.
 */
struct ingest	*ingest_new(struct store *st, struct ruleset *rs,
		    struct rs_scratch *scratch, struct enrich *en);
void		 ingest_free(struct ingest *in);
/* After a rule reload, between groups; windows are the ruleset's business. */
void		 ingest_set_rules(struct ingest *in, struct ruleset *rs,
		    struct rs_scratch *scratch);
const struct ingest_stats *ingest_stats(const struct ingest *in);

/*
 * Incidents: how many evidence events each keeps (the first and the
 * latest, each 0..INGEST_EVIDENCE_MAX; defaults 10 and 10) and how long
 * after being resolved an incident is reopened by a new alert of its key
 * (ns; default 24 h; 0 never).  Between groups.
 */
#define INGEST_EVIDENCE_MAX	64
int	ingest_set_incident_opts(struct ingest *in, int evidence_first,
	    int evidence_last, int64_t reopen_within_ns);
/*
 * The aggregation's size (defaults 8192 keys, 32 MB of strings): the
 * group's incidents are written early, between batches, once either is
 * half full.  Between groups; -1 on allocation failure (the old kept).
 */
int	ingest_set_agg_limits(struct ingest *in, size_t keys, size_t arena_bytes);
/*
 * Bounds on event time against our clock (soc_event_bound_time()): an
 * event more than max_ahead_ns ahead, or more than max_behind_ns behind
 * (0: no bound), keeps its claim in soc.timestamp.claimed and is matched
 * and windowed at the receive time.  Defaults 300 s and 0.  -1 if
 * negative.
 */
#define INGEST_MAX_AHEAD_DEFAULT	(300 * 1000000000LL)
int	ingest_set_time_bounds(struct ingest *in, int64_t max_ahead_ns,
	    int64_t max_behind_ns);

/*
 * The category table (category.h): loads rules_dir/categories.txt, or
 * keeps the built-in table when there is no such file.  At start and on
 * the rules' reload, between groups.  A table that does not parse leaves
 * the one in use and returns -1 with the reason in err.
 */
int	ingest_load_categories(struct ingest *in, const char *rules_dir,
	    char *err, size_t errlen);
/*
 * The national role's bound (ingest-national.c): alerts accepted per
 * province key per wall-clock minute (national.max_alerts_per_min; 0: no
 * bound).  A batch that would pass it is NACKed, not applied: the
 * province resends it later, nothing is lost; it is counted per province
 * (socctl stats) and logged once a minute.
 */
#define INGEST_NAT_MIN_BOUND	128	/* a province's batch (forward.c) */
void	ingest_set_national_bound(struct ingest *in, uint64_t max_per_min);

/*
 * Judges the correlation windows that close on the clock (conditions with
 * an upper bound, absence rules: ruleset_tick()) and writes their
 * incidents in a transaction of their own, under the agency of each
 * window and sensor "correlator".  Between groups, before
 * ruleset_expire().  The number of alerts, or -1.
 */
int	ingest_tick(struct ingest *in, int64_t now_ns);

/*
 * The archive (correlator/archive/): every applied event, after
 * enrichment, goes to w with its group; the frame is written before the
 * commit and its position recorded in the group's transaction.  Borrowed;
 * NULL: no archive.  Between groups.
 */
void	ingest_set_archive(struct ingest *in, struct archive_writer *w);

void	ingest_group_begin(struct ingest *in);
/*
 * One message: sensor is the authenticated name (ZeroMQ's User-Id; NULL
 * for none), peer the routing identity its replies go to.  Opens the
 * group's transaction on the first message.  The reply, if any, is queued
 * for ingest_group_end().  Returns the verdict taken (INGEST_REFUSE also
 * for a batch whose header passed but whose body did not: that one is
 * recorded and acked so the sensor moves on), or -1 when nothing was
 * decided (no transaction, unknown or revoked sensor, peer too long).
 */
int	ingest_message(struct ingest *in, const char *sensor, const void *peer,
	    size_t peerlen, const void *data, size_t len);
/* Replies queued so far in this group (not yet sent). */
int	ingest_pending(const struct ingest *in);
/*
 * Commits the group.  Only if the commit succeeds is fn called for each
 * queued reply, in order; returns 0, or -1 when the commit failed (rolled
 * back, nothing replied: the sensors resend).  No transaction open: 0.
 */
int	ingest_group_end(struct ingest *in, ingest_reply_fn fn, void *arg);

/*
 * The endpoint inventory (endpoints.c, issue 18), borrowed: each applied
 * event updates it, each group writes its changes before the commit.
 * NULL (the default): none.  Between groups.
 */
struct endpoints;
void	ingest_set_endpoints(struct ingest *in, struct endpoints *ep);

#endif
