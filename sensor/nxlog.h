/*
 * NXLog CE's JSON (im_msvistalog + to_json) of a Windows event record
 * into the event the EVTX record gives (issue 17): one flat object whose
 * NXLog metadata (EventID, Channel, Hostname, SourceName, RecordNumber,
 * EventTime, ...) fill the winlog.* fields and whose other top-level
 * names are the record's EventData, kept under winlog.event_data.*, then
 * winlog_ecs().  In liblogparse: log_syslog_parse() calls it for a line,
 * or a syslog message, that is such an object.
 *
 * Time, best first: a zoned TimeCreated or EventTime, Sysmon's UtcTime,
 * a zoned @timestamp, then EventTime (NXLog writes the sender's local
 * time without a zone) in the source's zone (syslog.zones by sender
 * address or Hostname, else the configured zone), else the caller's.
 */
#ifndef SOC_SENSOR_NXLOG_H
#define SOC_SENSOR_NXLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "soc/event.h"

struct logparse_ctx;

/* Counters since start (all threads; read with nxlog_stats_get()). */
struct nxlog_stats {
	uint64_t	events;		/* objects made into events */
	uint64_t	refused;	/* objects refused (kept as log.syslog) */
	uint64_t	names_skipped;	/* names too long or not internable */
	uint64_t	nested_skipped;	/* object/array values skipped */
	uint64_t	values_cut;	/* values cut to fit (event marked) */
};

void	nxlog_stats_get(struct nxlog_stats *st);

/* Whether s (a line or a syslog MSG) looks like NXLog's JSON: an object
 * naming "EventID" and "Channel" (im_msvistalog always writes both). */
bool	nxlog_looks(const char *s, size_t n);

/*
 * Adds the record's fields to ev (not reset: the caller's host, source
 * address and fallback time stay unless the record says better).
 * Returns 0, or -1 with *why (a static reason) when the object is not
 * valid JSON, is nested past its bound or holds invalid UTF-8: counted,
 * and ev may hold some fields (the caller resets it).
 */
int	nxlog_json_parse(const struct logparse_ctx *ctx, const char *s,
	    size_t n, struct soc_event *ev, const char **why);

#endif
