/*
 * The incident store: one SQLite database (WAL mode) shared by
 * soc-correlator (writer) and socctl (analysts, readers and admin
 * writes).  This file owns the schema; nobody else writes SQL against it.
 *
 * The correlator applies a batch inside one transaction:
 * store_begin(), store_incident_hit() for each alert, store_sensor_set_seq(),
 * store_commit(); only then does it ack the batch.
 *
 * Functions that write several rows (store_incident_hit, the incident
 * state changes) are atomic on their own: inside a caller's transaction
 * they use a savepoint, outside one they open and commit their own.
 *
 * Times are integer nanoseconds since the epoch, UTC.  Strings handed to
 * a *_fn callback belong to the store and are valid only during the call.
 * A struct store (its prepared statements) is for one thread at a time:
 * open one per thread, as the ZAP handler does.
 */
#ifndef SOC_CORR_STORE_H
#define SOC_CORR_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

#define STORE_CREATE	0x1	/* create the file and schema if missing */
#define STORE_READONLY	0x2

#define STORE_SCHEMA_VERSION	2	/* PRAGMA user_version */
#define STORE_EVIDENCE_MAX	20	/* evidence events kept per incident */

/* Returns NULL with a reason in err. */
struct store	*store_open(const char *path, int flags, char *err, size_t errlen);
void		 store_close(struct store *st);
const char	*store_errmsg(struct store *st);

int	store_begin(struct store *st);		/* 0 / -1 */
int	store_commit(struct store *st);
int	store_rollback(struct store *st);
/*
 * Inside a transaction, one batch's effects: begin, then end with ok 0 to
 * keep them or non-zero to undo them alone (group commit: many batches
 * share one transaction and one fsync, a failing one is dropped alone).
 */
int	store_batch_begin(struct store *st);
int	store_batch_end(struct store *st, int ok);

/* Sensors, for authentication (ZAP) and sequence tracking. */
struct store_sensor {
	char		name[128];
	char		agency[64];	/* agency code */
	char		pubkey[41];	/* Z85 */
	int		revoked;
	uint64_t	last_seq;	/* last committed batch sequence */
	int64_t		last_heartbeat;	/* ns, 0 = never */
};
/* 1 found, 0 not found, -1 error. */
int	store_sensor_by_key(struct store *st, const char *z85pub, struct store_sensor *out);
int	store_sensor_by_name(struct store *st, const char *name, struct store_sensor *out);
/* Record a committed batch: seq and how many events it carried. */
int	store_sensor_set_seq(struct store *st, const char *name, uint64_t seq,
	    uint64_t nevents, int64_t now_ns);
/* counters_json: a JSON object of the sensor's counters. */
int	store_sensor_heartbeat(struct store *st, const char *name, int64_t now_ns,
	    const char *counters_json);

/* One alert from the rule engine, to be aggregated into an incident. */
struct store_hit {
	const char	*rule_id;
	const char	*rule_title;
	const char	*rule_level;	/* informational..critical */
	const char	*rule_author;	/* kept for DRL 1.1 attribution */
	int		 severity;	/* 0..4 */
	const char	*agency;	/* from the authenticated sensor */
	const char	*sensor;
	const char	*group_key;	/* "" when none */
	int64_t		 first_ts;	/* ns, event time */
	int64_t		 last_ts;
	uint64_t	 count;		/* events behind this hit */
	const char	*evidence_json;	/* the event, as JSON; may be NULL */
};
/*
 * Aggregate into the open incident of (rule, agency, group key), or open
 * a new one.  Keeps at most a bounded number of evidence events per
 * incident.  *id gets the incident id, *created 1 when new.
 */
int	store_incident_hit(struct store *st, const struct store_hit *h,
	    int64_t *id, int *created);

/*
 * Forwarding to the national receiver and to a SIEM (store-forward.c).
 *
 * The outbox holds one record per revision of an incident at or above
 * the forwarding threshold, written in the transaction that changed the
 * incident (store_outbox_touch, called by the incident write paths).
 * Only a connection on which store_forward_enable() was called writes
 * records: the correlator's, never socctl's.  A record not yet handed to
 * the forwarder is "unsent"; an incident has at most one, and a newer
 * change raises that record's revision (and moves it to the end of the
 * queue) instead of adding another.  Sent records are immutable, so a
 * resend carries the same revision.
 */
void	store_forward_enable(struct store *st, int min_severity); /* -1: off */
/* Record the incident's current state if it changed since its last
 * record (no-op when forwarding is off or the incident is below the
 * threshold).  0 / -1. */
int	store_outbox_touch(struct store *st, int64_t incident_id);

/* What the correlator was started with: written at start (NULL endpoint:
 * forwarding not configured), read by socctl and the coverage report. */
struct store_forward_conf {
	const char	*endpoint;	/* national receiver; NULL/"" none */
	const char	*cef;		/* tcp:// or udp://; NULL/"" none */
	const char	*origin;	/* this correlator's name in alert ids */
	int		 min_severity;
	int64_t		 ack_within_ns;
	int64_t		 max_backlog_age_ns;
	uint64_t	 max_pending;
};
int	store_forward_configure(struct store *st, const struct store_forward_conf *c,
	    int64_t now_ns);

struct store_forward_state {
	char		endpoint[256];
	char		cef[256];
	char		origin[64];
	int		min_severity;
	int64_t		ack_within_ns;
	int64_t		max_backlog_age_ns;
	uint64_t	max_pending;
	int64_t		started_at;
	int		connected;	/* CURVE handshake done, not lost since */
	int64_t		last_ack_at;	/* ns, 0 never */
	int64_t		last_send_at;
	uint64_t	sent;		/* records sent (resends not counted) */
	uint64_t	acked;		/* records acked by the national receiver */
	uint64_t	dropped;	/* records dropped by the max_pending bound */
	uint64_t	seq;		/* last batch sequence number used */
	int64_t		audit_cursor;	/* last audit row swept, -1 not yet */
	int64_t		cef_cursor;	/* last outbox id written to the SIEM */
	uint64_t	cef_sent;
	int		cef_connected;
	char		last_error[256];
	int64_t		updated_at;
	/* from the outbox, not the state row */
	uint64_t	pending;	/* records not acked */
	int64_t		oldest_pending;	/* created_at of the oldest, 0 none */
};
/* 1 and *out filled, 0 no state recorded yet, -1 error. */
int	store_forward_state_get(struct store *st, struct store_forward_state *out);
/* Pending records of one agency's incidents: count and oldest created_at. */
int	store_forward_backlog(struct store *st, const char *agency,
	    uint64_t *n, int64_t *oldest);

/* One record as the forwarder sends it (strings valid during the call). */
struct store_outbox_rec {
	int64_t		 id;		/* outbox row: the send order */
	int64_t		 incident_id;
	int64_t		 revision;
	int		 severity;
	int		 status;
	uint64_t	 count;
	int64_t		 first_seen, last_seen;
	int64_t		 created_at;
	const char	*rule_id, *rule_title, *rule_level, *rule_author;
	const char	*agency, *agency_name, *agency_parent;
	const char	*sensor, *group_key;
	const char	*evidence;	/* first evidence event (JSON) or "" */
	const char	*category;	/* "" where the schema has none */
};
typedef int (*store_outbox_fn)(void *arg, const struct store_outbox_rec *r);
/*
 * The forwarder's side (its own connection).  take: up to max unsent
 * records in order, marked sent and seq recorded, in one transaction;
 * fn is called inside it for each.  Returns the number taken or -1.
 */
int	store_outbox_take(struct store *st, int max, uint64_t seq, int64_t now_ns,
	    store_outbox_fn fn, void *arg);
/*
 * The forwarder's connections commit without waiting for the disk
 * (synchronous=NORMAL in WAL: safe across a crash of the process, not a
 * power cut).  Everything they write can be redone: a "sent" or "acked"
 * mark lost to a power cut means a resend the receiver recognises.
 */
int	store_forward_relax(struct store *st);
/* Records that batch number seq is about to be used (heartbeats). */
int	store_forward_seq(struct store *st, uint64_t seq, int64_t now_ns);
/* Records with id > after, in order, whatever their state (CEF). */
int	store_outbox_after(struct store *st, int64_t after, int max,
	    store_outbox_fn fn, void *arg);
/* One agency's parent code ("" at the root): 1, 0 unknown, -1. */
int	store_agency_parent(struct store *st, const char *code, char *parent,
	    size_t len);
/* The national receiver committed these records (n may be 0: an ack of
 * a heartbeat); last_ack_at and the acked count move. */
int	store_outbox_acked(struct store *st, const int64_t *ids, size_t n,
	    int64_t now_ns);
/* Delivered elsewhere (CEF only, no national endpoint): marked alone. */
int	store_outbox_delivered(struct store *st, const int64_t *ids, size_t n,
	    int64_t now_ns);
/* At start: records sent but never acked become unsent again (the newer
 * unsent revision of the same incident wins).  Returns how many. */
int	store_outbox_requeue(struct store *st);
/* Drops the oldest pending records beyond max (counted in the state).
 * Returns how many were dropped, or -1. */
int64_t	store_outbox_trim(struct store *st, uint64_t max);
/* Records incidents changed by others (socctl's transitions) since the
 * audit cursor.  Returns how many incidents were looked at, or -1. */
int	store_forward_sweep(struct store *st);
/* The forwarder's live state, one write. */
struct store_forward_live {
	int		 connected;
	int64_t		 last_ack_at;
	int64_t		 last_send_at;
	uint64_t	 sent_add, acked_add;
	const char	*last_error;	/* NULL: unchanged */
};
int	store_forward_live(struct store *st, const struct store_forward_live *l,
	    int64_t now_ns);
/* CEF: the last outbox id written, lines added, connected or not. */
int	store_forward_cef(struct store *st, int64_t cursor, uint64_t sent_add,
	    int connected, const char *last_error, int64_t now_ns);

/* ---- Everything below serves socctl and the coverage report. ---- */

/*
 * Errors that the caller can act on (unknown agency, duplicate key,
 * invalid transition) are reported by returning -1 with a sentence in
 * store_errmsg(); SQLite failures use the same path.
 */

/* Severity 0..4 <-> informational, low, medium, high, critical. */
const char	*store_severity_name(int sev);		/* "?" if out of range */
int		 store_severity_parse(const char *s);	/* name or digit; -1 */

/* Agencies.  The hierarchy (parent) is data, changed by decree. */
struct store_agency {
	const char	*code;
	const char	*name;		/* UTF-8 */
	const char	*parent;	/* "" for none */
	int64_t		 created_at;
	uint64_t	 sensors;	/* enrolled, not revoked */
	uint64_t	 open_incidents;
};
typedef int (*store_agency_fn)(void *arg, const struct store_agency *a);

/* -1 if the code exists or the parent does not. */
int	store_agency_add(struct store *st, const char *code, const char *name,
	    const char *parent, int64_t now_ns);
int	store_agency_exists(struct store *st, const char *code);	/* 1/0/-1 */
/* Calls fn for each agency by code; stops early when fn returns non-zero
 * and returns that value.  Same convention for every *_foreach below. */
int	store_agency_foreach(struct store *st, store_agency_fn fn, void *arg);

/* Sensors as the analyst sees them. */
struct store_sensor_info {
	const char	*name;
	const char	*agency;
	const char	*pubkey;
	int		 revoked;
	int64_t		 enrolled_at;
	uint64_t	 last_seq;
	uint64_t	 events_received;
	uint64_t	 batches;
	int64_t		 last_batch_at;		/* 0 = never */
	int64_t		 last_heartbeat;	/* 0 = never */
	const char	*counters;		/* JSON object text as sent */
	int		 counters_valid;	/* counters parses as JSON */
};
typedef int (*store_sensor_fn)(void *arg, const struct store_sensor_info *s);

/* -1 if the name or key is taken or the agency unknown. */
int	store_sensor_enroll(struct store *st, const char *name, const char *agency,
	    const char *z85pub, int64_t now_ns);
/* 1 revoked, 0 no such sensor, -1 error (already revoked is 1). */
int	store_sensor_revoke(struct store *st, const char *name, int64_t now_ns);
/* agency NULL: every sensor.  Ordered by agency, name. */
int	store_sensor_foreach(struct store *st, const char *agency,
	    store_sensor_fn fn, void *arg);

/* Incidents. */
enum store_status {
	STORE_ST_NEW,
	STORE_ST_ACKNOWLEDGED,
	STORE_ST_INVESTIGATING,
	STORE_ST_RESOLVED,
	STORE_ST_FALSE_POSITIVE,
	STORE_ST_COUNT
};
const char	*store_status_name(int status);		/* "new", ... */
int		 store_status_parse(const char *s);	/* also "false-positive"; -1 */
/* 1 if the state machine allows from -> to. */
int		 store_status_allowed(int from, int to);

struct store_incident {
	int64_t		 id;
	const char	*rule_id;
	const char	*rule_title;
	const char	*rule_level;
	const char	*rule_author;
	int		 severity;
	const char	*agency;
	const char	*sensor;
	const char	*group_key;
	int		 status;	/* enum store_status */
	const char	*assignee;	/* "" when none */
	int64_t		 first_seen;
	int64_t		 last_seen;
	uint64_t	 count;
	int64_t		 created_at;
	int64_t		 updated_at;
	uint64_t	 evidence;	/* evidence events kept */
};
typedef int (*store_incident_fn)(void *arg, const struct store_incident *in);

struct store_incident_filter {
	int		 status;	/* enum store_status, or -1 any */
	int		 open_only;	/* new, acknowledged, investigating */
	int		 closed_only;	/* resolved, false_positive */
	const char	*agency;	/* NULL any */
	int		 min_severity;	/* 0 any */
	int64_t		 since_ns;	/* last_seen >= since_ns; 0 any */
	int64_t		 limit;		/* 0 no limit */
};
void	store_incident_filter_init(struct store_incident_filter *f);
/* Newest activity first (last_seen, then id, descending). */
int	store_incident_foreach(struct store *st, const struct store_incident_filter *f,
	    store_incident_fn fn, void *arg);
/* 1 found (fn called once), 0 not found, -1 error. */
int	store_incident_get(struct store *st, int64_t id, store_incident_fn fn,
	    void *arg);

typedef int (*store_evidence_fn)(void *arg, int seq, const char *json, int valid_json);
int	store_evidence_foreach(struct store *st, int64_t incident_id,
	    store_evidence_fn fn, void *arg);

/*
 * Analyst actions: each changes the incident and appends one audit row,
 * atomically.  -1 with a sentence in store_errmsg() for no such incident
 * or a transition the state machine refuses.
 */
int	store_incident_transition(struct store *st, int64_t id, int to,
	    const char *actor, const char *note, int64_t now_ns);
int	store_incident_assign(struct store *st, int64_t id, const char *assignee,
	    const char *actor, const char *note, int64_t now_ns);
int	store_incident_note(struct store *st, int64_t id, const char *actor,
	    const char *note, int64_t now_ns);

/* The audit trail: append-only (the schema refuses UPDATE and DELETE). */
struct store_audit {
	int64_t		 id;
	int64_t		 incident_id;	/* 0 for non-incident actions */
	int64_t		 at;
	const char	*actor;
	const char	*action;	/* created, acknowledged, assigned, ... */
	const char	*note;		/* "" when none */
};
typedef int (*store_audit_fn)(void *arg, const struct store_audit *a);
/* incident_id 0: actions not tied to an incident (enroll, revoke, ...). */
int	store_audit_add(struct store *st, int64_t incident_id, const char *actor,
	    const char *action, const char *note, int64_t now_ns);
/* incident_id < 0: the whole trail.  Oldest first. */
int	store_audit_foreach(struct store *st, int64_t incident_id,
	    store_audit_fn fn, void *arg);

/* Evidence for coverage layers 1 and 3. */
struct store_responder {
	const char	*agency;
	const char	*name;
	const char	*contact;	/* "" when none */
	int64_t		 added_at;
};
typedef int (*store_responder_fn)(void *arg, const struct store_responder *r);
int	store_responder_add(struct store *st, const char *agency, const char *name,
	    const char *contact, int64_t now_ns);
int	store_responder_foreach(struct store *st, const char *agency,
	    store_responder_fn fn, void *arg);

struct store_assessment {
	const char	*agency;
	const char	*assessor;
	int64_t		 assessed_at;
	int64_t		 expires_at;
};
typedef int (*store_assessment_fn)(void *arg, const struct store_assessment *a);
int	store_assessment_add(struct store *st, const char *agency,
	    const char *assessor, int64_t assessed_at, int64_t expires_at);
/* Latest expiry first. */
int	store_assessment_foreach(struct store *st, const char *agency,
	    store_assessment_fn fn, void *arg);

/* Totals for `socctl stats`. */
struct store_stats {
	uint64_t	agencies;
	uint64_t	sensors;		/* enrolled, not revoked */
	uint64_t	sensors_revoked;
	uint64_t	events_received;	/* committed, all sensors */
	uint64_t	batches;
	uint64_t	incidents;
	uint64_t	by_status[STORE_ST_COUNT];
	uint64_t	by_severity[5];
	uint64_t	evidence;
	uint64_t	audit;
	uint64_t	outbox_pending;		/* alerts not yet acked nationally */
	uint64_t	forwarded;		/* acked by the national receiver */
};
int	store_stats_get(struct store *st, struct store_stats *out);

/*
 * The 4-layer coverage report (coverage.c), from evidence in the store.
 * Layers: 1 on-site force, 2 professional monitoring, 3 independent
 * assessment, 4 national connection.
 */
#define STORE_LAYERS	4
enum store_layer_state {
	STORE_LAYER_OK,
	STORE_LAYER_DEGRADED,
	STORE_LAYER_MISSING
};
const char	*store_layer_name(int layer);		/* 0..3 */
const char	*store_layer_state_name(int state);	/* ok, degraded, missing */

struct store_coverage_opts {
	int64_t		 now_ns;
	int64_t		 heartbeat_max_ns;	/* layer 2: live if heard within (5m) */
	int64_t		 ack_max_ns;		/* layer 1: new incidents older than
						   this degrade it; 0 = off */
};
void	store_coverage_opts_init(struct store_coverage_opts *o);

struct store_coverage {
	const char	*agency;
	const char	*name;
	const char	*parent;
	int		 state[STORE_LAYERS];	/* enum store_layer_state */
	char		 reason[STORE_LAYERS][192];
	int		 covered;		/* all four layers ok */
};
typedef int (*store_coverage_fn)(void *arg, const struct store_coverage *c);
/* "42s", "3m", "5h", "12d": the coarse age used in reasons and tables. */
void	store_age_format(int64_t ns, char *buf, size_t len);

/*
 * Calls fn for each agency (by code) and counts agencies and those fully
 * covered.  Returns 0, -1 on error, or fn's non-zero value.
 */
int	store_coverage(struct store *st, const struct store_coverage_opts *o,
	    store_coverage_fn fn, void *arg, size_t *ncovered, size_t *ntotal);

#endif
