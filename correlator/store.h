/*
 * The incident store: one SQLite database (WAL mode) shared by
 * soc-correlator (writer) and socctl (analysts, readers and admin
 * writes).  This file owns the schema; nobody else writes SQL against it.
 *
 * The correlator applies a batch inside one transaction:
 * store_begin(), store_incident_hit() for each alert, store_sensor_set_seq(),
 * store_commit(); only then does it ack the batch.
 */
#ifndef SOC_CORR_STORE_H
#define SOC_CORR_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

#define STORE_CREATE	0x1	/* create the file and schema if missing */
#define STORE_READONLY	0x2

/* Returns NULL with a reason in err. */
struct store	*store_open(const char *path, int flags, char *err, size_t errlen);
void		 store_close(struct store *st);
const char	*store_errmsg(struct store *st);

int	store_begin(struct store *st);		/* 0 / -1 */
int	store_commit(struct store *st);
int	store_rollback(struct store *st);

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

#endif
