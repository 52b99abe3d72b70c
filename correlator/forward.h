/*
 * The forwarder: delivers the outbox (store-forward.c) to the national
 * receiver over ZeroMQ/CURVE (forward.c) and, optionally, to a SIEM as
 * CEF lines over TCP or UDP (forward-cef.c).  Each runs on its own thread
 * with its own SQLite connection (WAL lets it read while ingest writes),
 * so ingest never waits for the network.  Everything a person needs to
 * judge the link is written to the forward_state row, which socctl reads.
 */
#ifndef SOC_CORR_FORWARD_H
#define SOC_CORR_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "soc/json.h"

struct store;
struct store_outbox_rec;
struct forward;

struct forward_conf {
	const char		*db;		/* the correlator's database */
	const char		*endpoint;	/* national receiver; NULL: none */
	char			 server_key[41];	/* its public key (Z85) */
	char			 secret_key[41];	/* ours (--key) */
	const char		*cef;		/* tcp:// or udp://; NULL: none */
	char			 origin[64];	/* forward.name */
	int			 min_severity;
	struct alert_fields	 fields;	/* forward.fields */
	uint64_t		 max_pending;
	int64_t			 ack_within_ns;
	int64_t			 max_backlog_age_ns;
	int64_t			 keep_acked_ns;	/* forward.keep_acked */
	int64_t			 coverage_every_ns; /* forward.coverage_every */
};

/* The forward.* options as the config table fills them (main.c). */
struct forward_opts {
	char		*endpoint;	/* forward.endpoint, --forward */
	char		*server_key;	/* forward.server_key */
	char		*min_severity;	/* forward.min_severity */
	char		*cef;		/* forward.cef, --cef */
	char		*fields;	/* forward.fields */
	long long	 max_pending;	/* forward.max_pending */
	char		*ack_within;	/* forward.ack_within */
	char		*max_backlog_age; /* forward.max_backlog_age */
	char		*name;		/* forward.name */
	char		*keep_acked;	/* forward.keep_acked; NULL: 7d */
	char		*coverage_every; /* forward.coverage_every; NULL: 5m */
};

/*
 * Checks the options and fills c (db and the secret key are the
 * correlator's own).  0, or -1 with a reason in err: --forward without
 * --forward-server-key, a bad key, severity, field list or duration,
 * forwarding (endpoint or cef) without forward.name, a name that is not
 * 1-63 letters, digits, '.', '_', '-' (soc_code_ok).
 */
int	forward_conf_parse(struct forward_conf *c, const struct forward_opts *o,
	    const char *db, const char secret[41], char *err, size_t errlen);

/*
 * Records the configuration in forward_state and starts the threads that
 * are configured (none when neither endpoint nor cef is set: then only
 * the state is written, so the coverage report says "not configured").
 * NULL with a reason in err.  The conf is copied.
 */
struct forward	*forward_start(const struct forward_conf *c, char *err,
		    size_t errlen);
/*
 * Acked outbox records older than forward.keep_acked are deleted, a
 * bounded batch per pass, a pass a minute at most (the thread that marks
 * records acked calls it from its tick; cur[2] and last_ms are its own).
 */
struct forward_prune {
	int64_t		 cur[2];
	int64_t		 last_ms;
	uint64_t	 pruned;
};
void	forward_prune(struct store *st, const struct forward_conf *c,
	    struct forward_prune *p, int64_t now_ms, const char *who);

/* Stops the threads; what is pending stays in the outbox for next time. */
void		 forward_stop(struct forward *f);
void		 forward_log_counters(struct forward *f);

/*
 * Fills an alert from an outbox record: identity, rule, agency and its
 * parent chain (read through st), incident state and the key evidence
 * fields of its first evidence event (parsed into ev, the caller's
 * scratch).  Shared by the national and the CEF senders, so it and
 * forward_prune() live below both, in forward-outbox.c.
 */
void	forward_alert_build(struct store *st, const struct store_outbox_rec *r,
	    const char *origin, struct soc_event *ev, struct soc_alert *a);

/*
 * forward-coverage.c: this correlator's 4-layer coverage report as one
 * record (coverage-wire.h) sent on the national connection; b is the
 * caller's scratch.  The number of agencies sent, or -1 (logged).
 */
long	forward_coverage_send(struct store *st, void *dealer,
	    struct soc_sbuf *b);

/* forward-cef.c: the SIEM writer (one thread). */
struct forward_cef;
struct forward_cef	*forward_cef_start(const struct forward_conf *c,
			    int mark_acked, char *err, size_t errlen);
void			 forward_cef_stop(struct forward_cef *fc);
void			 forward_cef_log_counters(struct forward_cef *fc);

#endif
