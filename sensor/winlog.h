/*
 * Windows event records (issue 17): one event model whatever the record
 * came in (an EVTX file, later Winlogbeat's JSON over Beats and NXLog's
 * JSON).  Two steps, both in liblogparse so socctl can call them:
 *
 *  - winlog_xml_parse(): the record's XML (as the Windows API and
 *    libevtx render it: <Event><System>..</System><EventData>..) into
 *    winlog.* fields, every EventData/UserData name and value under
 *    winlog.event_data.* / winlog.user_data.* (dynamic fields, event.h),
 *    unnamed Data as param1, param2, .. (their position, as Winlogbeat
 *    names them).  A bounded parser of untrusted text: no allocation, a
 *    depth limit, every byte checked; what it cannot read is counted,
 *    and what it read before stays.
 *  - winlog_ecs(): the one place that maps EventData names to ECS, as
 *    Winlogbeat's Sysmon and Security processors do (process.*, user.*,
 *    file.*, registry.*, dns.question.name, source/destination.*,
 *    hashes), from whatever already filled the winlog.* fields.  Never
 *    overwrites a field already set.
 */
#ifndef SOC_SENSOR_WINLOG_H
#define SOC_SENSOR_WINLOG_H

#include <stddef.h>
#include <stdint.h>
#include "soc/event.h"

struct winlog_stats {
	uint64_t	records;	/* events made */
	uint64_t	recovered;	/* of which recovered (deleted) records,
					   marked soc.winlog.recovered: 1 */
	uint64_t	recovered_dup;	/* recovered copies of records the
					   file still holds: not emitted */
	uint64_t	recovered_bad;	/* recovered but not renderable */
	uint64_t	unreadable;	/* records libevtx could not render */
	uint64_t	corrupt_files;	/* files libevtx marks corrupted */
	uint64_t	truncated_files; /* shorter than their header says */
	uint64_t	xml_errors;	/* records whose XML stopped parsing */
	uint64_t	bad_utf8;	/* values that are not valid UTF-8 */
	uint64_t	bad_utf16;	/* values with U+FFFD: libevtx renders
					   invalid UTF-16 (a lone surrogate)
					   so (one in the source counts too) */
	uint64_t	bad_entities;	/* unknown &..; references, kept as is */
	uint64_t	names_refused;	/* names past the table or too long */
	uint64_t	values_cut;	/* values cut to fit (event marked) */
};

#define WINLOG_DATASET		"log.windows"	/* event.dataset, every intake */
#define WINLOG_DEPTH_MAX	16	/* XML elements open at once */

/*
 * Fills ev (not reset: the caller sets what it knows first) from one
 * record's XML.  @timestamp from System/TimeCreated@SystemTime (100 ns
 * in the record) when it parses.  Returns 0, or -1 when the XML stopped
 * being well formed (counted; the fields read before it are kept).
 */
int	winlog_xml_parse(const char *xml, size_t len, struct soc_event *ev,
	    struct winlog_stats *st);

/* ECS fields from the winlog.* ones (see above). */
void	winlog_ecs(struct soc_event *ev);

/* message from the EventData and UserData values, one a line, when the
 * record carries none (winlog-ecs.c; docs/RULES.md) */
#define WINLOG_MESSAGE_MAX	4096
void	winlog_message(struct soc_event *ev);

#endif
