/*
 * Log intake besides files: the syslog server (UDP and TCP, RFC 3164 and
 * RFC 5424, TCP framing by newline or octet counting per RFC 6587).
 * main.c polls its descriptors together with the capture handles.
 */
#ifndef SOC_SENSOR_INTAKE_H
#define SOC_SENSOR_INTAKE_H

#include <poll.h>
#include "sensor.h"

struct syslogd;

/* Opens the listeners in s->conf.syslog_udp / syslog_tcp.  Returns NULL
 * with err empty when none are configured, NULL with err set on failure. */
struct syslogd	*syslogd_open(struct sensor *s, char *err, size_t errlen);
/* Fill up to max pollfds; returns how many. */
int		 syslogd_pollfds(struct syslogd *d, struct pollfd *pfd, int max);
/* Handle the pollfds filled by the last syslogd_pollfds() call. */
void		 syslogd_dispatch(struct syslogd *d, const struct pollfd *pfd, int n);
void		 syslogd_log_counters(struct syslogd *d);
void		 syslogd_close(struct syslogd *d);

#endif
