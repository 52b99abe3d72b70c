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

#define STORE_SCHEMA_VERSION	20	/* PRAGMA user_version */
#define STORE_EVIDENCE_MAX	20	/* evidence events kept per incident */

/* Returns NULL with a reason in err. */
struct store	*store_open(const char *path, int flags, char *err, size_t errlen);
void		 store_close(struct store *st);
/*
 * Modes of the database file and its -wal and -shm (store-file.c): 0640,
 * or 0660 and group when group is not NULL; create makes the main file
 * (empty) if missing.  Files owned by someone else are left alone.  Call
 * before store_open() (create) and after it.  0, or -1 with err set.
 */
int		 store_file_access(const char *path, const char *group,
		    int create, char *err, size_t errlen);
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
	char		system[64];	/* information system code, "" none */
	int		system_level;	/* its security level 1-5, 0 none */
	char		role[16];	/* "sensor", "province", "" not yet fixed */
};
/* 1 found, 0 not found, -1 error. */
int	store_sensor_by_key(struct store *st, const char *z85pub, struct store_sensor *out);
int	store_sensor_by_name(struct store *st, const char *name, struct store_sensor *out);
/* Record a committed batch: seq and how many events it carried. */
int	store_sensor_set_seq(struct store *st, const char *name, uint64_t seq,
	    uint64_t nevents, int64_t now_ns);
/*
 * A key's role: "sensor" (sends events) or "province" (sends alerts).
 * force 0 fixes it only if not fixed yet (trust on first use: the kind
 * of a key's first batch); returns 1 when the role is now role, 0 when
 * the key has another one, -1 error (an unknown role or sensor too).
 */
int	store_sensor_set_role(struct store *st, const char *name,
	    const char *role, int force);
/*
 * Events of sensor name whose time was out of bounds and replaced by the
 * receive time (soc_event_bound_time()); in the batch's transaction.
 */
int	store_sensor_add_clamped(struct store *st, const char *name, uint64_t n);

/*
 * The sensor's count of acked events (its heartbeat's events_acked, of
 * the run whose uplink_start is run) against the events applied for its
 * key: a debt that keeps growing means batches acked as resends that were
 * never applied -- the key's sequence pushed ahead by another holder.
 * store_ack_judge() is the pure rule (store-sensor.c says why it ignores
 * ordinary lag); store_sensor_ack_check() reads, judges and writes it in
 * the open transaction: 1 raised now (STORE_ACK_RUNS: by two runs of
 * the key), 0 not, -1 error.  Clearing it
 * (store_sensor_ack_set() with a zeroed state) is `socctl sensor
 * reset-seq`'s business.
 */
#define STORE_ACK_GREW	2	/* quiet heartbeats with a growing debt */
#define STORE_ACK_RUNS	2	/* raised by a run older than the one followed */
struct store_ack {
	int64_t		run;		/* the sensor run followed */
	int		based;		/* base is set */
	int64_t		base;		/* acked - applied at the baseline */
	int64_t		debt;		/* at the last quiet heartbeat */
	int		grew;		/* quiet heartbeats where it grew */
	int64_t		alarm_at;	/* ns; 0 not raised */
};
int	store_ack_judge(struct store_ack *a, int64_t run, int64_t acked,
	    int64_t applied, int64_t unacked, int64_t now_ns);
int	store_sensor_ack_check(struct store *st, const char *name, int64_t run,
	    int64_t acked, int64_t unacked, int64_t now_ns, struct store_ack *out);
int	store_sensor_ack_set(struct store *st, const char *name,
	    const struct store_ack *a);
/*
 * n events of a batch acked but skipped (malformed, wrong role, poison):
 * the sensor counts them acked, so they count as applied -- the baseline
 * moves up by n (once one is taken), in the skip's transaction.
 */
int	store_sensor_ack_skipped(struct store *st, const char *name,
	    uint64_t n);

/* counters_json: a JSON object of the sensor's counters. */
int	store_sensor_heartbeat(struct store *st, const char *name, int64_t now_ns,
	    const char *counters_json);

/* One alert from the rule engine, to be aggregated into an incident. */
struct store_hit {
	const char	*rule_id;
	const char	*rule_title;
	const char	*rule_level;	/* informational..critical */
	const char	*rule_author;	/* kept for DRL 1.1 attribution */
	const char	*rule_tags;	/* comma-separated; NULL or "" none */
	int		 severity;	/* 0..4 */
	const char	*agency;	/* from the authenticated sensor */
	const char	*sensor;
	const char	*group_key;	/* "" when none */
	int64_t		 first_ts;	/* ns, event time */
	int64_t		 last_ts;
	uint64_t	 count;		/* events behind this hit */
	const char	*evidence_json;	/* the event, as JSON; may be NULL */
	/* The sensor's information system, copied from struct store_sensor
	 * ("" and 0: none); NULL to have the store look it up by name. */
	const char	*system_code;
	int		 system_level;
};
/*
 * Aggregate into the open incident of (rule, agency, group key), or open
 * a new one.  Keeps at most a bounded number of evidence events per
 * incident.  *id gets the incident id, *created 1 when new.
 */
int	store_incident_hit(struct store *st, const struct store_hit *h,
	    int64_t *id, int *created);

/*
 * The national role (store-national.c): a province's correlator is
 * enrolled like a sensor and forwards one revision of one of its
 * incidents at a time.  Each provincial incident is one national
 * incident, keyed by (origin name, provincial incident id) and kept at
 * its highest revision.  Every string is the caller's; origin_name and
 * agency must come from the enrolled key, never from the alert.
 */
struct store_origin_rev {
	const char	*origin_name;	/* enrolled name of the forwarding key */
	const char	*agency;	/* enrolled agency of that key */
	const char	*origin_agency;	/* provincial agency code (the alert's) */
	int64_t		 origin_incident; /* provincial incident id, >= 1 */
	int64_t		 revision;	/* >= 1 */
	const char	*rule_id;
	const char	*rule_title;
	const char	*rule_level;	/* "" or NULL: the severity's name */
	const char	*rule_author;
	const char	*rule_tags;	/* comma-separated; NULL or "" none */
	int		 severity;	/* 0..4 */
	int		 status;	/* enum store_status */
	const char	*group_key;
	int64_t		 first_seen;
	int64_t		 last_seen;
	uint64_t	 count;
	const char	*evidence_json;	/* kept as the one evidence row; may be NULL */
	const char	*category;	/* one of the ten codes; NULL: "other" */
};
enum store_national_result {
	STORE_NAT_CREATED,	/* first revision seen of this incident */
	STORE_NAT_UPDATED,	/* newer than the one stored: it replaced it */
	STORE_NAT_STALE,	/* same or older revision: nothing changed */
};
/* Refused (out of range, missing fields): nothing stored, the store is
 * fine; store_errmsg() says why.  Distinct from -1, a store failure. */
#define STORE_NAT_REFUSED	(-2)
/*
 * Upsert one revision: atomic on its own outside a transaction; inside
 * the caller's, the caller undoes on -1 (ingest undoes the whole batch).
 * Returns an enum store_national_result, STORE_NAT_REFUSED, or -1 with
 * store_errmsg().  *id gets the national incident id (also when stale).
 */
int	store_national_apply(struct store *st, const struct store_origin_rev *r,
	    int64_t now_ns, int64_t *id);
/* Records that name's key delivered alerts at now_ns (sensors.last_alert_at). */
int	store_national_received(struct store *st, const char *name, int64_t now_ns);

/* Where a national incident came from; 0 for a locally raised one. */
struct store_origin {
	char		name[128];
	char		agency[64];
	int64_t		incident_id;
	int64_t		revision;
};
/* 1 found (a forwarded incident), 0 local or no such incident, -1 error. */
int	store_incident_origin(struct store *st, int64_t id, struct store_origin *out);
/* Last alert received from the key of sensor name, ns; 0 never.  -1 error. */
int	store_sensor_last_alert(struct store *st, const char *name, int64_t *at);

/*
 * The national role's bounds per province key (store-national.c, schema
 * step 9).  store_province_agency() records that province name forwarded
 * an incident (national id incident) naming agency (a valid code: the
 * caller checks): 0 it had named it before, 1 first time but a known
 * agency, 2 first time and unknown here (flagged: new = 1), -1 error.
 * The counters: alerts deferred over national.max_alerts_per_min (one
 * batch each call; alerts 0: the same batch deferred again, only the
 * time is recorded), agency codes new for a province or invalid.
 */
int	store_province_agency(struct store *st, const char *name,
	    const char *agency, int64_t now_ns, int64_t incident);
int	store_province_agency_count(struct store *st, const char *name,
	    int isnew, int invalid, const char *agency);
int	store_province_deferred(struct store *st, const char *name,
	    uint64_t alerts, int64_t now_ns);
struct store_province_count {
	const char	*name;
	uint64_t	 deferred;		/* alerts NACKed over the bound */
	uint64_t	 deferred_batches;
	int64_t		 last_deferred_at;	/* ns; 0 never */
	uint64_t	 agency_new;		/* alerts naming a new agency */
	uint64_t	 agency_invalid;	/* ... an invalid agency code */
	const char	*last_new_agency;
};
typedef int (*store_province_fn)(void *arg, const struct store_province_count *p);
int	store_province_foreach(struct store *st, store_province_fn fn, void *arg);

/*
 * The 4-layer coverage report (coverage.c), from evidence in the store.
 * socctl shows it; the daemon reads it too: a province's forwarder sends
 * it up to the national centre (forward-coverage.c, DECISIONS.md).
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
	int		 level;			/* highest system level, 0 none */
	size_t		 sub_total;		/* agencies below it in the tree */
	size_t		 sub_covered;		/* of which fully covered */
	/* its computers (issue 18): declared (-1 none), reporting within
	 * endpoints.stale_after, protected; then the same summed over it
	 * and every agency below it that declares computers */
	int64_t		 ep_declared;
	uint64_t	 ep_reporting, ep_protected;
	int64_t		 tree_declared;
	uint64_t	 tree_reporting, tree_protected;
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

/*
 * The provinces' coverage on a national database (store-national.c,
 * schema step 17): store_province_coverage_put() replaces every row of
 * province with the n agencies given (reported at now_ns), in one
 * transaction of its own; store_province_coverage_foreach() calls fn for
 * each row by province then agency (province NULL: all).  0 / -1, or
 * fn's non-zero value.
 */
struct store_province_cov {
	const char	*province;
	const char	*agency;
	const char	*name;
	const char	*parent;
	int		 covered;
	int		 state[STORE_LAYERS];
	const char	*reason[STORE_LAYERS];
	int64_t		 ep_declared;		/* -1 none */
	uint64_t	 ep_reporting, ep_protected;
	int64_t		 reported_at;		/* ns */
};
int	store_province_coverage_put(struct store *st, const char *province,
	    const struct store_province_cov *items, size_t n, int64_t now_ns);
typedef int (*store_province_cov_fn)(void *arg,
	    const struct store_province_cov *c);
int	store_province_coverage_foreach(struct store *st, const char *province,
	    store_province_cov_fn fn, void *arg);

/*
 * The last SIGHUP reload of the correlator and its result (store-stats.c):
 * store_reload_put() replaces the one row; store_reload_get() 1 with it,
 * 0 none yet (message points into a buffer of the store's), -1 error.
 */
struct store_reload {
	int64_t		 at;		/* ns */
	int		 ok;
	uint64_t	 rules;		/* rules running after it */
	const char	*message;
};
int	store_reload_put(struct store *st, const struct store_reload *r);
int	store_reload_get(struct store *st, struct store_reload *r,
	    char *msgbuf, size_t msglen);

/*
 * The alerts of one (rule, agency, group key) aggregated over a
 * transaction (ingest.c), written in one go.  hit carries the sums: count
 * (events), first_ts/last_ts (min/max), severity (max); its evidence_json
 * is unused.  The evidence offered is the transaction's alerts numbered
 * 0..nalerts-1: ev_first holds the first nfirst of them, ev_last the
 * latest nlast (oldest first).  The incident keeps, over its whole life,
 * the first keep_first and the latest keep_last evidence events.
 *
 * With no open incident of the key, the latest closed one decides: a
 * resolved incident closed less than reopen_within_ns ago is reopened
 * (status new, audit "reopened" by "correlator"); otherwise (older, or a
 * false positive) a new incident is opened whose related column names it.
 */
struct store_flush {
	struct store_hit	 hit;
	const char		*category;	/* NULL: "other" */
	uint64_t		 nalerts;
	const char *const	*ev_first;
	size_t			 nfirst;
	const char *const	*ev_last;
	size_t			 nlast;
	int			 keep_first;
	int			 keep_last;
	int64_t			 reopen_within_ns;	/* 0: never reopen */
	int64_t			 now_ns;		/* 0: the clock */
	int			 caller_undoes;	/* inside a transaction whose
						   caller rolls back (to a
						   savepoint of its own) on
						   failure: no savepoint here */
};
#define STORE_FLUSH_CREATED	1	/* *how: a new incident */
#define STORE_FLUSH_REOPENED	2	/* a resolved one reopened */
#define STORE_FLUSH_UPDATED	3	/* the open one */
int	store_incident_flush(struct store *st, const struct store_flush *f,
	    int64_t *id, int *how);

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
	const char	*rule_tags;	/* comma-separated, "" none */
	/* the agency where the incident was first raised: its own agency,
	 * or for one forwarded to us the origin agency it came with */
	const char	*origin_agency;
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
/*
 * Deletes acked records acked before before_ns, at most max looked at per
 * call (cur: two int64_t, zero at first, the cursor between calls).  An
 * incident's newest record stays (it numbers the next revision), so does
 * the outbox's newest (ids are never reused) and, with a SIEM configured,
 * any record it has not been sent.  Returns how many were deleted, or -1.
 */
int64_t	store_outbox_prune(struct store *st, int64_t before_ns, int max,
	    int64_t cur[2]);
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
/* (What socctl only reads: the totals, the coverage report, search and the
 * leadership report, is in store-query.h.) */

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
	const char	*role;			/* "" not fixed yet */
	uint64_t	 ts_clamped;		/* events given the receive time */
	int64_t		 ack_debt;		/* acked, not applied (store_ack) */
	int64_t		 ack_alarm_at;		/* raised at, ns; 0 not */
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
	const char	*system_code;	/* "" when none */
	int		 system_level;	/* 1-5, 0 when none */
	const char	*category;	/* brute_force, scan, ..., other */
	int64_t		 related;	/* earlier incident of the key, 0 none */
	const char	*rule_tags;	/* comma-separated, "" none */
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
/*
 * A closed incident (resolved or false_positive) back to new by an
 * analyst: audit "reopened", closed_at cleared.  Refused for an open
 * incident, or while another incident of the same key is open.
 */
int	store_incident_reopen(struct store *st, int64_t id, const char *actor,
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
	const char	*email;		/* "" when none (store-notify.c) */
	const char	*webhook;
	const char	*command;
	const char	*tmpl;		/* webhook template, "" the route's */
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
	int64_t		 expires_at;	/* given, or by the agency's level */
	int		 by_level;	/* expiry from the level policy */
};
typedef int (*store_assessment_fn)(void *arg, const struct store_assessment *a);
/* expires_at 0: valid for as long as the level policy gives the agency's
 * highest system level (store-policy.c), recomputed when that changes. */
int	store_assessment_add(struct store *st, const char *agency,
	    const char *assessor, int64_t assessed_at, int64_t expires_at);
/* Latest expiry first. */
int	store_assessment_foreach(struct store *st, const char *agency,
	    store_assessment_fn fn, void *arg);

/*
 * The correlator's correlation windows per agency, held now and evicted
 * since it started (store-stats.c): store_windows_save() replaces the
 * table with n rows stamped now_ns; the foreach lists them, most evicted
 * first.
 */
struct store_window_count {
	const char	*agency;
	uint64_t	 held;
	uint64_t	 evicted;
	int64_t		 updated_at;
};
int	store_windows_save(struct store *st, const struct store_window_count *w,
	    size_t n, int64_t now_ns);
typedef int (*store_window_fn)(void *arg, const struct store_window_count *w);
int	store_windows_foreach(struct store *st, store_window_fn fn, void *arg);

/* ---- The agency tree (store-agency.c): each change is atomic. ---- */

int	store_agency_rename(struct store *st, const char *code, const char *name);
/* parent NULL or "": a root.  Refuses a cycle (code itself or below it). */
int	store_agency_move(struct store *st, const char *code, const char *parent);
/*
 * The merger of agency from into agency into: its sensors, systems,
 * incidents, responders, assessments and sub-agencies move, then the old
 * code is removed.  Refused (nothing changes) when both have a system
 * of the same code or an open incident of the same rule and group.
 * n (may be NULL) gets what moved.
 */
struct store_merge {
	uint64_t	 sensors, systems, incidents, responders, assessments;
	uint64_t	 children;
	uint64_t	 endpoints;	/* the old code's, now the new one's */
	int64_t		 computers;	/* the new code declares; -1 none */
};
int	store_agency_merge(struct store *st, const char *from, const char *into,
	    struct store_merge *n);

/* ---- Security levels and reporting deadlines (store-policy.c) ---- */

/* Information systems of an agency, each with its security level 1-5. */
struct store_system {
	const char	*agency;
	const char	*code;
	const char	*name;
	int		 level;
	int64_t		 created_at;
	uint64_t	 sensors;	/* enrolled, not revoked */
};
typedef int (*store_system_fn)(void *arg, const struct store_system *y);
int	store_system_add(struct store *st, const char *agency, const char *code,
	    const char *name, int level, int64_t now_ns);
/* agency NULL: every system.  By agency, code. */
int	store_system_foreach(struct store *st, const char *agency,
	    store_system_fn fn, void *arg);
/* Ties a sensor to a system of its own agency; NULL or "" unties it. */
int	store_sensor_set_system(struct store *st, const char *sensor,
	    const char *system);
/* 1 with the sensor's system code and level, 0 when it has none, -1. */
int	store_sensor_system(struct store *st, const char *sensor, char *code,
	    size_t codelen, int *level);
/* The agency's highest system level in *level, 0 when it has none. */
int	store_agency_level(struct store *st, const char *agency, int *level);

/*
 * The policy per security level: incidents on a system of that level
 * are raised by raise_by steps (capped at critical) and to at least
 * min_severity; an assessment without its own expiry stays valid
 * assessment_months.  Defaults: levels 1-3 no raise, 24 months; level 4
 * one step, 12 months; level 5 two steps, 6 months.  An agency with no
 * system follows level 1.
 */
struct store_level_policy {
	int	level;
	int	raise_by;
	int	min_severity;
	int	assessment_months;
};
typedef int (*store_level_policy_fn)(void *arg, const struct store_level_policy *p);
int	store_level_policy_get(struct store *st, int level,
	    struct store_level_policy *out);		/* 1/0/-1 */
int	store_level_policy_set(struct store *st, const struct store_level_policy *p);
int	store_level_policy_foreach(struct store *st, store_level_policy_fn fn,
	    void *arg);
/* The severity of an alert of severity sev on a system of this level. */
int	store_severity_for_level(struct store *st, int sev, int level, int *out);
/*
 * For store_incident_hit(): the hit's system (given, else the sensor's),
 * and *sev raised by the policy.  code gets "" and *level 0 for none.
 */
int	store_hit_policy(struct store *st, const struct store_hit *h, char *code,
	    size_t codelen, int *level, int *sev);

/* Reporting stages and the deadline policy per severity. */
enum store_stage {
	STORE_STAGE_INITIAL,	/* notice, after the incident opened */
	STORE_STAGE_DETAILS,	/* cause, scope, remediation, after opened */
	STORE_STAGE_FINAL,	/* final report, after it was resolved */
	STORE_STAGES
};
const char	*store_stage_name(int stage);		/* "initial", ... */
int		 store_stage_parse(const char *s);	/* -1 */

struct store_deadline {
	int		 severity;
	int64_t		 after_ns[STORE_STAGES];	/* 0: no deadline */
};
typedef int (*store_deadline_fn)(void *arg, const struct store_deadline *d);
int	store_deadline_get(struct store *st, int severity, struct store_deadline *out);
int	store_deadline_set(struct store *st, const struct store_deadline *d);
/* From critical down to informational. */
int	store_deadline_foreach(struct store *st, store_deadline_fn fn, void *arg);

/* Records that a stage was met; once per stage; audited. */
int	store_incident_report(struct store *st, int64_t id, int stage,
	    const char *actor, const char *note, int64_t now_ns);

/* One stage of an incident: each stage its severity has a deadline for,
 * and any stage reported anyway. */
struct store_deadline_state {
	int		 stage;
	int64_t		 due;		/* 0: not known yet (final, open) */
	int64_t		 done;		/* 0: not met */
	const char	*by;		/* "" when not met */
	int		 overdue;	/* due, past, not met, not closed as FP */
};
typedef int (*store_deadline_state_fn)(void *arg,
	    const struct store_deadline_state *d);
int	store_incident_deadlines(struct store *st, int64_t id, int64_t now_ns,
	    store_deadline_state_fn fn, void *arg);
/* 1 when a stage of the incident is past due and not met, 0 not, -1. */
int	store_incident_overdue(struct store *st, int64_t id, int64_t now_ns);

/*
 * The same test as an SQL condition on a row of the incidents table
 * (unaliased, FROM incidents), for a list filter; now is an SQL
 * expression for the time in ns, e.g. a bound parameter "?9".  A
 * false positive is never overdue; the final stage is due final_ns after
 * the latest "resolved" audit entry while the incident is resolved.
 */
#define STORE_OVERDUE_SQL(now) \
	"(incidents.status != 'false_positive' AND EXISTS (SELECT 1 FROM" \
	" deadline_policy dp WHERE dp.severity = incidents.severity AND (" \
	"(dp.initial_ns IS NOT NULL AND incidents.created_at + dp.initial_ns < " now \
	" AND NOT EXISTS (SELECT 1 FROM incident_reports r WHERE" \
	" r.incident_id = incidents.id AND r.stage = 'initial'))" \
	" OR (dp.details_ns IS NOT NULL AND incidents.created_at + dp.details_ns < " now \
	" AND NOT EXISTS (SELECT 1 FROM incident_reports r WHERE" \
	" r.incident_id = incidents.id AND r.stage = 'details'))" \
	" OR (dp.final_ns IS NOT NULL AND incidents.status = 'resolved'" \
	" AND (SELECT max(a.at) FROM audit a WHERE a.incident_id = incidents.id" \
	" AND a.action = 'resolved') + dp.final_ns < " now \
	" AND NOT EXISTS (SELECT 1 FROM incident_reports r WHERE" \
	" r.incident_id = incidents.id AND r.stage = 'final')))))"

/*
 * Endpoints (store-endpoint.c, issue 18): every host that sends events,
 * per agency of the sending sensor, with its malware protection state.
 * The correlator keeps them in memory (correlator/endpoints.c) and
 * writes the changed ones in the transaction of an ingest group; socctl
 * and the coverage report read them.
 */
#define STORE_EP_HOST_MAX	255	/* bytes of a host id */
#define STORE_EP_CHANNELS	160	/* bytes of the channel list */
struct store_endpoint {
	char		agency[64];
	/* the times and counts first: an event touches them, and a lookup
	 * among 10,000 entries then costs fewer cache lines */
	int64_t		first_seen;	/* receive time, ns */
	int64_t		last_seen;
	int64_t		last_event;	/* the latest event's own time */
	int64_t		day;		/* UTC day of last_seen (days since 1970) */
	uint64_t	day_events;	/* events received that day */
	uint64_t	prev_events;	/* ... the day before it */
	int64_t		healthy_at;	/* an engine last said healthy */
	int64_t		off_at;		/* ... turned off or failing */
	int64_t		detect_at;	/* the latest detection */
	int64_t		silent_at;	/* soc-endpoint-silent raised; 0 armed */
	int64_t		sig_at;		/* its signatures were current (a
					   Defender 2000's time, a 1151's
					   minus its age); 0 unknown */
	char		host[STORE_EP_HOST_MAX + 1];	/* host.id, or the
						   lower-cased name */
	char		os[16];		/* windows, linux, "" unknown */
	char		channels[STORE_EP_CHANNELS];	/* comma-separated */
	char		engine[16];	/* defender, clamav, "" none seen */
	char		av_state[48];	/* the latest state in words */
	char		detect_name[96];	/* its threat name */
	char		sig_version[32];	/* the antivirus signature
						   version last reported */
	int64_t		sig_version_at;	/* that report's time; 0 none */
};
/* The settings the correlator runs with (written at its start). */
struct store_endpoint_conf {
	int64_t		stale_after_ns;		/* endpoints.stale_after */
	int64_t		protection_within_ns;	/* endpoints.protection_within */
	int64_t		max_per_agency;		/* endpoints.max_per_agency */
	double		min_share;		/* coverage.endpoints_min_share */
	int64_t		sig_max_age_ns;		/* endpoints.signature_max_age;
						   0 no bound */
};
typedef int (*store_endpoint_fn)(void *arg, const struct store_endpoint *e);
/* Insert or replace n endpoints (inside the caller's transaction, or in
 * one of its own). */
int	store_endpoint_put(struct store *st, const struct store_endpoint *e,
	    size_t n);
/* n endpoints by pointer: full[i] as store_endpoint_put(), else only
 * their times and day counts (the row written whole if missing). */
int	store_endpoint_write(struct store *st,
	    const struct store_endpoint *const *e, const unsigned char *full,
	    size_t n);
/* Each endpoint of the agencies given and every agency below them (none
 * given: all), of host (NULL: all), by agency and host. */
int	store_endpoint_foreach(struct store *st, const char *const *agencies,
	    size_t nagencies, const char *host, store_endpoint_fn fn, void *arg);
int	store_endpoint_conf_put(struct store *st,
	    const struct store_endpoint_conf *c);
/* The stored settings, the defaults where the correlator never wrote. */
int	store_endpoint_conf_get(struct store *st, struct store_endpoint_conf *c);
/* Hosts refused per agency: over the quota, or a host id too long. */
int	store_endpoint_refused_add(struct store *st, const char *agency,
	    uint64_t over_quota, uint64_t too_long);
int	store_endpoint_refused_get(struct store *st, const char *agency,
	    uint64_t *over_quota, uint64_t *too_long);
/* Totals over every agency: endpoints held, hosts refused. */
int	store_endpoint_totals(struct store *st, uint64_t *held,
	    uint64_t *over_quota, uint64_t *too_long);
/* Whether e is protected at now: an engine said healthy within
 * protection_within and was not turned off since. */
/* FROM's endpoints, refusal counts and declared computers to INTO (in
 * the merger's transaction): store-endpoint.c says how two become one. */
int	store_endpoint_merge(struct store *st, const char *from,
	    const char *into, uint64_t *moved, int64_t *computers);
/* The mergers' moves of endpoints after seq, in their order: fn(arg,
 * seq, from, into) (-1 stops).  How many, or -1. */
int	store_endpoint_moves(struct store *st, int64_t after,
	    int (*fn)(void *, int64_t, const char *, const char *),
	    void *arg);
/* The last move's seq (0 none). */
int	store_endpoint_moves_last(struct store *st, int64_t *seq);
/* Signatures known and older than endpoints.signature_max_age. */
int	store_endpoint_sig_old(const struct store_endpoint *e,
	    const struct store_endpoint_conf *c, int64_t now_ns);
int	store_endpoint_protected(const struct store_endpoint *e,
	    const struct store_endpoint_conf *c, int64_t now_ns);
/* Declared computers of an agency: -1 when none is declared. */
int	store_agency_set_computers(struct store *st, const char *code,
	    int64_t n);
int	store_agency_computers(struct store *st, const char *code,
	    int64_t *n);
#define STORE_EP_STALE_DEFAULT		(24 * 3600 * 1000000000LL)
#define STORE_EP_PROTECTION_DEFAULT	(24 * 3600 * 1000000000LL)
#define STORE_EP_MAX_DEFAULT		50000
#define STORE_EP_MIN_SHARE_DEFAULT	0.95
#define STORE_EP_SIG_AGE_DEFAULT	(7 * 86400 * 1000000000LL)

/*
 * The archive's committed position (store-archive.c): get it at start
 * (segment "" when none yet; dir may be NULL), set it inside the group's
 * transaction with the events the frame added.  0 / -1.
 */
int	store_archive_get(struct store *st, char *dir, size_t dirlen,
	    char *seg, size_t seglen, uint64_t *off, uint64_t *events);
int	store_archive_set(struct store *st, const char *seg, uint64_t off,
	    uint64_t events_added, int64_t now_ns);
/* At start, in its own transaction: the directory and the new segment
 * the writer will append to (offset 0).  0 / -1. */
int	store_archive_start(struct store *st, const char *dir, const char *seg);
/* The archive's health, inside the group's transaction when it changed:
 * paused since paused_at (0: writing), events not archived in all.  The
 * coverage report degrades layer 2 while it is paused.  0 / -1. */
int	store_archive_health_set(struct store *st, int64_t paused_at,
	    uint64_t not_archived, int64_t now_ns);
int	store_archive_health_get(struct store *st, int64_t *paused_at,
	    uint64_t *not_archived);

/* ---- Notifications (store-notify.c, issue 20) ---- */

/*
 * A responder's contacts: an e-mail address, a webhook URL (http or
 * https) and a command (run by /bin/sh with the incident as JSON on
 * stdin); "" none.  store_contact_check() is the one test every writer
 * and the sender apply: 0, or -1 with a sentence in err (a newline, a
 * CR or any control byte is refused, so nothing can be smuggled into a
 * mail header or a request line).
 */
enum store_contact { STORE_CONTACT_EMAIL, STORE_CONTACT_WEBHOOK,
	STORE_CONTACT_COMMAND, STORE_CONTACTS };
const char	*store_contact_name(int kind);	/* "email", ... */
int	store_contact_check(int kind, const char *v, char *err, size_t errlen);
/* Sets the contacts of responder (agency, name): NULL keeps one, ""
 * clears it.  Checked; 0, or -1 with store_errmsg(). */
int	store_responder_set_contacts(struct store *st, const char *agency,
	    const char *name, const char *const contacts[STORE_CONTACTS]);
/*
 * The webhook template a responder's webhook gets (docs/NOTIFY.md): json
 * (the notification JSON), slack or mattermost ({"text": ...}), telegram
 * (sendMessage's text), custom (notify.webhook_template); "" the
 * route's.  store_template_check: 0, or -1 with a sentence in err.
 */
int	store_template_check(const char *name, char *err, size_t errlen);
int	store_responder_set_template(struct store *st, const char *agency,
	    const char *name, const char *tpl);

/*
 * Routing, set on a connection like store_forward_enable(): incidents at
 * or above min_severity, of one of categories (comma-separated; "" any),
 * notify the responders of their agency and of every agency above it,
 * one outbox row per contact.  lead ("AGENCY/NAME" or a unique NAME) is
 * the responder told when a reporting deadline is missed.
 */
struct store_notify_route {
	int		 min_severity;
	const char	*categories;
	const char	*lead;
};
/* NULL: off (the default; socctl's connections never write rows). */
void	store_notify_enable(struct store *st, const struct store_notify_route *r);
/*
 * In the incident's transaction (store_incident_flush calls it): how is
 * STORE_FLUSH_*; a new incident is "opened", a reopened one "reopened",
 * an updated one "raised" the first time it reaches the routing.  Rows
 * already written are not written again.  0 / -1.
 */
int	store_notify_touch(struct store *st, int64_t incident_id, int how,
	    int64_t now_ns);

/* One row of the notification outbox. */
struct store_notification {
	int64_t		 id;
	const char	*key;		/* the stable id the message carries */
	int64_t		 incident_id;	/* 0: a test */
	const char	*responder;	/* AGENCY/NAME */
	const char	*channel;	/* email, webhook, command */
	const char	*target;	/* address, URL, command */
	const char	*reason;	/* opened, reopened, raised, half-STAGE,
					   overdue-STAGE, test */
	const char	*state;		/* pending, retrying, sent, given_up */
	int		 attempts;
	int64_t		 next_at;
	int64_t		 created_at;
	int64_t		 sent_at;	/* 0: not sent */
	const char	*last_error;
	const char	*tmpl;		/* the responder's webhook template,
					   "" the route's (now, not when
					   written) */
};
typedef int (*store_notification_fn)(void *arg,
	    const struct store_notification *n);
/* Rows due at now (pending or retrying), oldest due first, at most limit. */
int	store_notify_due(struct store *st, int64_t now_ns, int limit,
	    store_notification_fn fn, void *arg);
/* 1 found, 0 not, -1. */
int	store_notify_get(struct store *st, int64_t id, store_notification_fn fn,
	    void *arg);
/*
 * Deletes at most max finished rows (sent before before_ns, or given up
 * with their last attempt before it), except those of incidents still
 * open, and counts them in notify_state.  How many, or -1.
 */
int64_t	store_notify_prune(struct store *st, int64_t before_ns, int max,
	    int64_t now_ns);
/*
 * The outcome of one attempt: ok marks the row sent; else attempts
 * grows, and the row is retried at retry_at or, with attempts at
 * max_attempts, given up.  Counted in notify_state.
 */
int	store_notify_result(struct store *st, int64_t id, int ok,
	    const char *error, int attempts, int max_attempts, int64_t retry_at,
	    int64_t now_ns);
/*
 * Deadline escalation: every reporting stage past half its time without
 * its report notifies the incident's routing again ("half-STAGE"); past
 * due, the lead ("overdue-STAGE").  Each once (notify_escalations).
 * *n gets the escalations made.  0 / -1.
 */
int	store_notify_escalate(struct store *st, int64_t now_ns, int *n);
/*
 * A test notification to responder ("AGENCY/NAME" or a unique NAME): a
 * row per contact, reason "test".  *first gets the first row's id and
 * *n how many; 0, or -1 (unknown responder, no contact) with errmsg.
 */
int	store_notify_test(struct store *st, const char *responder,
	    int64_t now_ns, int64_t *first, int *n);

/* The sender's settings (written at start) and counters. */
struct store_notify_conf {
	const char	*smtp;
	const char	*from;
	const char	*lead;
	const char	*categories;
	int		 min_severity;
	int		 max_attempts;
};
int	store_notify_configure(struct store *st, const struct store_notify_conf *c,
	    int64_t now_ns);
struct store_notify_status {
	char		 smtp[256];
	char		 from[256];
	char		 lead[192];
	char		 categories[256];
	int		 min_severity;
	int		 max_attempts;
	int64_t		 started_at;	/* 0: never started with notify */
	uint64_t	 sent, failed, given_up, escalations;	/* counters */
	uint64_t	 pruned;	/* finished rows deleted (notify.keep) */
	uint64_t	 pending, retrying, done, abandoned;	/* rows by state */
	int64_t		 oldest_pending;	/* created_at; 0 none */
	char		 last_error[512];
};
int	store_notify_status_get(struct store *st, struct store_notify_status *o);
/* The latest rows with an error, newest first. */
int	store_notify_errors(struct store *st, int limit,
	    store_notification_fn fn, void *arg);

#endif
