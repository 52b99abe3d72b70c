/*
 * soc-sensor's daemon side, shared by main.c and uplink.c: the
 * configuration, the event sink (JSON, null or the uplink) and its
 * counters.  The intake modules (intake.h) know none of this: main.c
 * hands them their configuration and callbacks.
 */
#ifndef SOC_SENSOR_H
#define SOC_SENSOR_H

#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "soc/conf.h"
#include "soc/event.h"
#include "soc/json.h"
#include "soc/wire.h"
#include "intake.h"
#include "beats.h"

enum sensor_output {
	OUT_UPLINK,
	OUT_JSON,
	OUT_NULL,
};

struct sensor_conf {
	char		*name;		/* observer.name */
	char		*connect;
	char		*server_key;
	char		*key;
	char		*spool;
	char		*output;
	char		*user;		/* drop privileges to this user */
	char		*bpf;
	struct conf_list interfaces;
	struct conf_list pcaps;
	struct conf_list log_files;	/* paths or glob patterns */
	char		*state_file;	/* file positions across restarts */
	char		*start_at;	/* "beginning" | "end" for new files */
	struct conf_list syslog_udp;	/* "ADDR:PORT" to listen on */
	struct conf_list syslog_tcp;
	struct conf_list syslog_zones;	/* "MATCH ZONE" */
	long long	 syslog_max_message;
	long long	 syslog_rcvbuf_kb;
	long long	 syslog_tcp_idle_s;
	long long	 syslog_tcp_per_source;
	long long	 log_max_ahead_s;	/* bound on log stamps ahead */
	long long	 log_max_age_s;		/* and behind; 0: none */
	long long	 snaplen;
	int		 promisc;
	long long	 buffer_mb;
	long long	 max_flows;
	long long	 tcp_idle_s, udp_idle_s, icmp_idle_s, active_s;
	long long	 frag_max, frag_timeout_s, stream_max;
	int		 http_cookies;
	long long	 batch_events;
	long long	 batch_ms;
	long long	 queue_batches;	/* unacked batches held in memory */
	long long	 heartbeat_s;
	long long	 ack_timeout_ms;
	long long	 drain_timeout_s;
	long long	 tz_offset_min;
	char		*timezone;
	long long	 spool_max_mb;
	int		 once;
	char		*beats_listen;	/* Beats (Lumberjack v2) server */
	char		*beats_tls_cert;
	char		*beats_tls_key;
	char		*beats_tls_ca;
	long long	 beats_max_window;
	long long	 beats_max_frame_kb;
	long long	 beats_max_conns;
	long long	 beats_idle_s;
	long long	 beats_max_buffer_mb;
	long long	 beats_workers;
};

struct sensor_counters {
	uint64_t	events;
	uint64_t	encode_failed;
	uint64_t	time_clamped;	/* log stamps outside the bounds */
};

struct uplink;

struct sensor {
	struct sensor_conf	 conf;
	enum sensor_output	 out;
	struct capture		*cap;		/* NULL: no packets to read */
	struct logfile_set	*logs;
	struct syslogd		*syslogd;
	struct syslogd_stats	 syslog_last;	/* after syslogd_close() */
	struct logzones		*zones;		/* syslog.zones, or NULL */
	struct uplink		*up;
	struct sensor_counters	 c;
	struct soc_sbuf		 json;
	struct soc_wbuf		 batch;
	int64_t			 batch_started;	/* mono ms */
	int			 batch_logs;	/* it holds log-file lines */
	/* live mode: a batch of log-file lines the uplink had no room for,
	 * kept (log files paused) until it has; nothing overtakes it */
	struct soc_wbuf		 held;
	char			*held_cp;	/* its checkpoint */
	size_t			 held_cp_len, held_cp_cap;
	int			 positions_lost; /* log lines were dropped:
						   no position saved again
						   until a restart re-reads */
	FILE			*jsonout;
	int			 following;	/* log files followed, not replayed */
	struct beats		*beats;		/* NULL: beats.listen not set */
	struct soc_wbuf		 bbatch;	/* Beats events, batched apart so
						   each batch's fate is known */
	uint64_t		 beats_mark;	/* json/null: batches handed on */
	struct beats_stats	 beats_last;	/* after beats_close() */
};

/*
 * uplink.c: a thread owning the ZeroMQ socket to the correlator.  save,
 * when not NULL, is called from that thread with a checkpoint once the
 * lines before it are durable (spooled, or acked without a spool); stop
 * is set by a signal handler and ends a replay's wait for room.
 */
typedef void (*uplink_save_fn)(void *arg, const char *cp, size_t len);

struct uplink	*uplink_start(const struct sensor_conf *conf,
		    uplink_save_fn save, void *save_arg,
		    const volatile sig_atomic_t *stop, char *err, size_t errlen);
/* Takes a copy of a finished batch: 0, or -1 when it was dropped
 * (counted).  Waits for room when uplink_waits(), else never blocks
 * capture. */
int		 uplink_submit(struct uplink *u, const uint8_t *batch, size_t len,
		    const char *cp, size_t cp_len);
/* One try, never waiting, never counting: 0 taken, -1 no room now. */
int		 uplink_offer(struct uplink *u, const uint8_t *batch, size_t len,
		    const char *cp, size_t cp_len);
/* Messages put in the pipe so far: the last one's number. */
uint64_t	 uplink_submitted(const struct uplink *u);
/* In pipe order, everything up to *durable is spooled or acked (or was
 * dropped); *lost is the newest one dropped after the pipe (0: none). */
void		 uplink_durable(struct uplink *u, uint64_t *durable,
		    uint64_t *lost);
/* Whether uplink_submit() waits for room (replay, or no capture). */
int		 uplink_waits(const struct uplink *u);
/* Waits for every batch to be acked (up to the drain timeout), stops the
 * thread.  Returns the number of batches left unacked; *refused (if not
 * NULL) says whether the correlator refused this sensor's key (ZAP status
 * 400: the uplink then stopped at once and sent SIGTERM to the process). */
uint64_t	 uplink_finish(struct uplink *u, int *refused);
void		 uplink_counters(struct uplink *u, struct soc_wbuf *hb);
void		 uplink_log_counters(struct uplink *u);

#endif
