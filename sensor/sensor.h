/*
 * soc-sensor internals shared by main.c, capture.c, logfile.c and
 * uplink.c: the configuration, the event sink (JSON, null or the uplink)
 * and the counters every part reports.
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
#include "pkt.h"

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
	long long	 syslog_max_message;
	long long	 snaplen;
	long long	 promisc;
	long long	 buffer_mb;
	long long	 max_flows;
	long long	 tcp_idle_s, udp_idle_s, icmp_idle_s, active_s;
	long long	 frag_max, frag_timeout_s, stream_max;
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
};

struct sensor_counters {
	uint64_t	events;
	uint64_t	log_lines;
	uint64_t	log_files_failed;
	uint64_t	pcap_dropped;	/* kernel drops (pcap_stats) */
	uint64_t	pcap_ifdropped;
	uint64_t	encode_failed;
};

struct uplink;
struct syslogd;

struct sensor {
	struct sensor_conf	 conf;
	enum sensor_output	 out;
	struct pkt_ctx		*pkt;
	struct uplink		*up;
	struct syslogd		*syslogd;
	struct sensor_counters	 c;
	struct soc_sbuf		 json;
	struct soc_wbuf		 batch;
	int64_t			 batch_started;	/* mono ms */
	FILE			*jsonout;
	int			 cur_linktype;
	int			 following;	/* log files followed, not replayed */
};

extern volatile sig_atomic_t	sensor_quit;
extern volatile sig_atomic_t	sensor_report;

/* main.c */
void	sensor_emit(void *arg, struct soc_event *ev);
void	sensor_flush(struct sensor *s);		/* hand the open batch on */
void	sensor_tick(struct sensor *s);		/* timers: batches, reports */
void	sensor_report_counters(struct sensor *s, int final);

/* capture.c: returns 0, or -1 after logging why. */
int	capture_read_file(struct sensor *s, const char *path);
int	capture_open_live(struct sensor *s);
int	capture_pollfds(struct pollfd *pfd, int max);	/* live handles */
void	capture_dispatch(struct sensor *s);	/* read what they hold */
void	capture_close(struct sensor *s);
void	capture_stats(struct sensor *s);

/* logfile.c */
/* Before anything saves positions (the uplink may, from the spool). */
void	logfile_init(struct sensor *s);
int	logfile_read_once(struct sensor *s, const char *path);
int	logfile_follow_open(struct sensor *s);
void	logfile_follow_poll(struct sensor *s);	/* read what was appended */
void	logfile_follow_close(void);
/* logfile.c: wake-ups and restart-safe positions */
int	logfile_follow_fd(void);	/* inotify fd to poll, or -1 */
/* Current positions (just after the last line handed to sensor_emit) in
 * the state-file format; returns the length, 0 if it does not fit. */
size_t	logfile_checkpoint(char *buf, size_t cap);
/* Writes blob to conf.state_file atomically; 0, or -1 (logged once). */
int	logfile_state_save(const char *blob, size_t len);
/* Positions just after the last line emitted, in state-file format;
 * returns the length (0 if none or it does not fit). */
size_t	logfile_checkpoint(char *buf, size_t cap);
/* Write a checkpoint to the state file atomically (any thread). */
int	logfile_state_save(const char *blob, size_t len);

/* uplink.c: a thread owning the ZeroMQ socket to the correlator. */
struct uplink	*uplink_start(struct sensor *s, char *err, size_t errlen);
/* Takes a copy of a finished batch; never blocks capture (counts drops). */
void		 uplink_submit(struct uplink *u, const uint8_t *batch, size_t len,
		    const char *cp, size_t cp_len);
/* Waits for every batch to be acked (up to the drain timeout), stops the
 * thread.  Returns the number of batches left unacked. */
uint64_t	 uplink_finish(struct uplink *u);
void		 uplink_counters(struct uplink *u, struct soc_wbuf *hb);
void		 uplink_log_counters(struct uplink *u);

#endif
