/*
 * The sensor's intake: packet capture (capture.c), log files (logfile.c)
 * and the syslog server (syslog-server.c: UDP and TCP, RFC 3164 and RFC
 * 5424, TCP framing by newline or octet counting per RFC 6587).
 *
 * Each module is a handle opened from its own configuration and the
 * callbacks it hands its output to; none of them knows the rest of the
 * daemon.  main.c polls their descriptors together and decides where
 * events go (uplink, JSON, null).  Positions of log files are handed out
 * as checkpoints and saved only when the caller says they are safe.
 */
#ifndef SOC_SENSOR_INTAKE_H
#define SOC_SENSOR_INTAKE_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "soc/conf.h"
#include "logparse.h"
#include "pkt.h"

/* Called between large reads: timers, batches, reports. */
typedef void (*intake_tick_fn)(void *arg);

/*
 * capture.c: pcap files for replay and live interfaces.  Packets go to the
 * packet path, which emits events through emit.
 */
struct capture_conf {
	const struct conf_list	*interfaces;
	const char		*bpf;		/* live filter, or NULL */
	int			 snaplen;
	int			 promisc;
	int			 buffer_mb;
	/* set by a signal handler: stop a replay between reads */
	const volatile sig_atomic_t *stop;
};

struct capture;

/* Builds the packet path and opens the live interfaces (privileged).
 * Returns NULL after logging why. */
struct capture	*capture_open(const struct capture_conf *cc,
		    const struct pkt_config *pc, soc_emit_fn emit,
		    intake_tick_fn tick, void *arg);
/* Replays a pcap file to its end; 0, or -1 after logging why. */
int		 capture_read_file(struct capture *c, const char *path);
int		 capture_pollfds(struct capture *c, struct pollfd *pfd, int max);
void		 capture_dispatch(struct capture *c);	/* read what rings hold */
void		 capture_expire(struct capture *c, int64_t now_ns);
void		 capture_finish(struct capture *c);	/* emit remaining flows */
const struct pkt_stats *capture_pkt_stats(const struct capture *c);
void		 capture_drops(struct capture *c, uint64_t *kernel,
		    uint64_t *iface);
void		 capture_close(struct capture *c);

/*
 * logfile.c: log files read to their end or followed (see there).  Lines
 * over 1 MiB are cut and marked; a file replaced by a symbolic link after
 * start is refused.
 */
struct logfile_conf {
	const struct conf_list	*files;		/* paths or glob patterns */
	const char		*state_file;	/* NULL: positions not kept */
	const char		*start_at;	/* "end": skip what new files
						   held at start-up */
	int32_t			 tz_offset_sec;	/* stamps without a zone */
	const struct logzones	*zones;		/* syslog.zones (host names) */
	int64_t			 scan_ms;	/* glob this often; 0 = 250 */
	int64_t			 grace_ms;	/* drain rotated files; 0 = 2000 */
};

struct logfile_stats {
	uint64_t	lines;
	uint64_t	files_failed;	/* read_once could not open or read */
	uint64_t	pieces;		/* over-long lines cut */
	uint64_t	links_refused;	/* a link where a file was expected */
	struct auditd_stats audit;	/* audit.log records (logparse.h) */
};

struct logfile_set;

/* No I/O yet; lc is copied but its strings and list must outlive the set.
 * Returns NULL when out of memory. */
struct logfile_set *logfile_open(const struct logfile_conf *lc,
		    soc_emit_fn emit, intake_tick_fn tick, void *arg);
/* Reads one file to its end, its last line even without a newline. */
int		 logfile_read_once(struct logfile_set *ls, const char *path);
/* Loads the state file and starts following the patterns; -1 when out of
 * memory (logged). */
int		 logfile_follow(struct logfile_set *ls);
/* Reads what was appended; returns whether any line was emitted.  Saves
 * nothing: the caller decides when positions are safe. */
int		 logfile_poll(struct logfile_set *ls);
int		 logfile_fd(const struct logfile_set *ls); /* inotify, or -1 */
/* Paused, nothing more is read (following only): from inside the emit or
 * tick callback, reading stops after the line just emitted, and the rest
 * stays in the files until logfile_pause(ls, 0).  The caller leaves the
 * inotify descriptor out of its poll meanwhile. */
void		 logfile_pause(struct logfile_set *ls, int paused);
int		 logfile_paused(const struct logfile_set *ls);
/* Positions just after the last line emitted, in the state-file format;
 * returns the length, 0 when none or it does not fit. */
size_t		 logfile_checkpoint(struct logfile_set *ls, char *buf,
		    size_t cap);
/* Writes a checkpoint to the state file atomically; 0, or -1 (logged
 * once per run of failures).  Safe from another thread: it reads only
 * the configuration. */
int		 logfile_save(struct logfile_set *ls, const char *blob,
		    size_t len);
/* Saves the current positions (following only): when nothing downstream
 * can lose what was emitted (JSON flushed, null).  0, or -1. */
int		 logfile_save_positions(struct logfile_set *ls);
void		 logfile_stats(const struct logfile_set *ls,
		    struct logfile_stats *st);
/* Closes every file and frees ls; saves nothing. */
void		 logfile_close(struct logfile_set *ls);

/*
 * syslog-server.c
 */
struct syslogd_conf {
	const struct conf_list	*udp;		/* "ADDR:PORT" to listen on */
	const struct conf_list	*tcp;
	size_t			 max_message;	/* 0 = 65536 */
	int32_t			 tz_offset_sec;
	int64_t			 rcvbuf_kb;	/* UDP receive buffer; 0 = 4096 */
	int64_t			 tcp_idle_s;	/* close silent clients; 0 = never */
	size_t			 tcp_max_per_source; /* 0 = no limit */
	const struct logzones	*zones;		/* syslog.zones, or NULL */
};

struct syslogd_stats {
	uint64_t	udp, tcp;	/* messages */
	uint64_t	truncated;
	uint64_t	udp_dropped;	/* by the kernel (SO_RXQ_OVFL) */
	uint64_t	tcp_rejected;
	uint64_t	tcp_idle_closed;
	uint64_t	tcp_evicted;	/* closed to make room */
	uint64_t	tcp_evicted_senders; /* of them, ones that had sent
					   messages: live senders lost */
	uint64_t	zone_suspect;	/* stamps a whole number of hours off
					   the receive time */
	uint64_t	tcp_refused_own; /* over its own source's limit */
	uint64_t	tcp_evicted_hogs; /* live, over a fair share */
	uint64_t	tcp_rejected_15m; /* tcp_rejected, last 15 minutes */
	uint64_t	tcp_evicted_senders_15m;
	struct auditd_stats audit;	/* audisp records */
};

struct syslogd;

/* Opens the listeners.  Returns NULL with err empty when none are
 * configured, NULL with err set on failure.  Call it before dropping
 * privileges (ports below 1024). */
struct syslogd	*syslogd_open(const struct syslogd_conf *sc, soc_emit_fn emit,
		    void *arg, char *err, size_t errlen);
/* Fill up to max pollfds; returns how many. */
int		 syslogd_pollfds(struct syslogd *d, struct pollfd *pfd, int max);
/* Handle the pollfds filled by the last syslogd_pollfds() call; returns
 * whether any message was emitted. */
int		 syslogd_dispatch(struct syslogd *d, const struct pollfd *pfd,
		    int n);
void		 syslogd_log_counters(struct syslogd *d);
/* Zeros when d is NULL. */
void		 syslogd_stats(const struct syslogd *d, struct syslogd_stats *st);
/* Emits what connected clients left unterminated, logs the counters and
 * leaves them in *last (when not NULL), closes everything. */
void		 syslogd_close(struct syslogd *d, struct syslogd_stats *last);

/*
 * TCP framing (RFC 6587), a pure function so it can be fuzzed alone.
 * Per message: a leading digit means octet counting ("LEN SP MSG"),
 * anything else a newline-terminated message (a CR before the LF is
 * dropped).  Messages longer than max are cut to max and flagged; the
 * rest of them is skipped (st remembers how much), never buffered.  Empty
 * lines and stray CR/LF/NUL between frames are skipped.
 *
 * Returns how many bytes of buf were consumed; *msg (NULL when none) and
 * *msglen give a complete message inside buf.  A return of 0 with *msg
 * NULL means more bytes are needed.  With eof set, an unterminated last
 * message is returned as it is (flagged truncated when an octet count
 * promised more).  The caller's buffer must hold at least max + 16 bytes
 * so that a full buffer always makes progress.
 */
#define SYSLOG_FRAME_TRUNCATED	0x1	/* cut to max, or short at eof */
#define SYSLOG_FRAME_OCTET	0x2	/* octet-counted */
#define SYSLOG_FRAME_EMPTY	0x4	/* "0 " frame: nothing to emit */

struct syslog_frame {
	uint64_t	skip;		/* octet-counted bytes still to drop */
	int		skip_to_lf;	/* dropping the rest of a long line */
};

size_t	syslog_frame_next(struct syslog_frame *st, const char *buf,
	    size_t len, size_t max, int eof, const char **msg, size_t *msglen,
	    int *flags);

#endif
