/*
 * Alerts: what a correlator sends upward (province to nation, or to a
 * commercial SIEM) about one revision of one incident.  One struct, three
 * encodings: ECS-named JSON for the national receiver (alert_to_json,
 * decoded there from untrusted bytes by alert_from_json) and a CEF line
 * behind an RFC 5424 header for SIEMs (alert_to_cef).  The field list,
 * the ECS names and the CEF mapping are documented in docs/ALERTS.md and
 * soc-alert(7); change them there too.
 *
 * Every string lives in a fixed buffer of the struct, so encoding and
 * decoding never allocate (the sbuf grows, and is reused by the caller).
 * An empty string, a port of -1 and an IP of family 0 mean "absent".
 *
 * Which evidence fields leave the province is decided by a struct
 * alert_fields (config key forward.fields), because the published
 * principles for sharing with the national centre exclude private data
 * of the connected parties: user.name is off by default.
 */
#ifndef SOC_ALERT_H
#define SOC_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "soc/event.h"
#include "soc/json.h"

/* Buffer sizes, NUL included; the decoder refuses longer values. */
#define ALERT_ID_LEN		256
#define ALERT_NAME_LEN		64	/* origin name, agency codes, sensor */
#define ALERT_TEXT_LEN		512	/* titles, authors, group key */
#define ALERT_TAG_LEN		128
#define ALERT_MAX_TAGS		32
#define ALERT_MAX_PARENTS	16
#define ALERT_URL_LEN		2048
#define ALERT_HOST_LEN		256	/* agency name, user, DNS name */
#define ALERT_MAX_JSON		(64 * 1024)	/* larger input is refused */

#define ALERT_CEF_VENDOR	"soc"
#define ALERT_CEF_PRODUCT	"soc-correlator"

struct soc_alert {
	char		id[ALERT_ID_LEN];	/* origin:incident:revision */
	/* where the incident was opened */
	char		origin_name[ALERT_NAME_LEN];
	char		origin_agency[ALERT_NAME_LEN];
	int64_t		incident_id;		/* > 0 */
	uint64_t	revision;		/* >= 1, grows per incident */
	/* the rule; the author travels for DRL 1.1 attribution */
	char		rule_id[ALERT_TEXT_LEN];
	char		rule_title[ALERT_TEXT_LEN];
	char		rule_level[16];		/* informational..critical */
	char		rule_author[ALERT_TEXT_LEN];
	char		tags[ALERT_MAX_TAGS][ALERT_TAG_LEN];
	int		ntags;
	/* the agency the incident belongs to, and its parents (nearest
	 * first) up to the root */
	char		agency[ALERT_NAME_LEN];
	char		agency_name[ALERT_HOST_LEN];
	char		parents[ALERT_MAX_PARENTS][ALERT_NAME_LEN];
	int		nparents;
	/* the incident */
	int		severity;	/* 0..4: informational..critical */
	int		status;		/* 0..4: new, acknowledged, investigating,
					   resolved, false_positive */
	char		category[ALERT_NAME_LEN];
	int64_t		first_seen;	/* ns since the epoch, >= 0 */
	int64_t		last_seen;
	uint64_t	count;
	char		group_key[ALERT_TEXT_LEN];
	/* key evidence (filtered by struct alert_fields on the way out) */
	struct soc_ip	src_ip, dst_ip;		/* family 0: absent */
	int		src_port, dst_port;	/* -1: absent */
	char		user_name[ALERT_HOST_LEN];
	char		url[ALERT_URL_LEN];
	char		dns_name[ALERT_HOST_LEN];
	char		sensor[ALERT_NAME_LEN];
};

/* The evidence fields that forward.fields can name. */
enum alert_field {
	ALERT_F_SOURCE_IP,		/* source.ip */
	ALERT_F_SOURCE_PORT,		/* source.port */
	ALERT_F_DEST_IP,		/* destination.ip */
	ALERT_F_DEST_PORT,		/* destination.port */
	ALERT_F_USER_NAME,		/* user.name */
	ALERT_F_URL,			/* url.original */
	ALERT_F_DNS_NAME,		/* dns.question.name */
	ALERT_F_OBSERVER,		/* observer.name (the sensor) */
	ALERT_F_COUNT
};

struct alert_fields {
	uint32_t	mask;		/* bit (1 << enum alert_field) */
};

/* Source and destination IP and port, URL, DNS name: not user.name, not
 * the sensor name.  A NULL struct alert_fields means this default. */
void	alert_fields_default(struct alert_fields *f);
void	alert_fields_all(struct alert_fields *f);
/* Parse forward.fields: ECS names separated by commas and/or blanks;
 * "" allows none.  -1 with *why on an unknown name (f unchanged). */
int	alert_fields_parse(struct alert_fields *f, const char *list,
	    const char **why);
/* The ECS name of a field, or NULL. */
const char *alert_field_name(enum alert_field f);

/* Empty alert: every field absent. */
void	alert_init(struct soc_alert *a);
/* Fill a->id from origin name, incident id and revision.  -1 if cut. */
int	alert_set_id(struct soc_alert *a);

const char *alert_severity_name(int sev);	/* "?" out of range */
const char *alert_status_name(int status);	/* "?" out of range */

/*
 * Append the alert as one JSON object (no newline) to out.  Evidence
 * fields not in allowed are left out.  out->oom tells of a failed append.
 */
void	alert_to_json(const struct soc_alert *a,
	    const struct alert_fields *allowed, struct soc_sbuf *out);

/*
 * Decode untrusted bytes (one JSON object, at most ALERT_MAX_JSON) into
 * out.  Returns 0, or -1 with *why set to a static sentence; out is then
 * undefined.  Refuses: bad JSON, duplicate keys, values of the wrong
 * type, strings that are too long, contain NUL or are not UTF-8, missing
 * required fields, an event.id that does not match the origin, incident
 * and revision, first_seen after last_seen.  Unknown keys are skipped.
 */
int	alert_from_json(const void *buf, size_t len, struct soc_alert *out,
	    const char **why);

/*
 * Append one CEF line behind an RFC 5424 header, newline-terminated:
 *   <PRI>1 TIMESTAMP HOSTNAME soc-correlator - alert - CEF:0|...|ext\n
 * hostname may be NULL ("-").
 */
void	alert_to_cef(const struct soc_alert *a,
	    const struct alert_fields *allowed, const char *hostname,
	    struct soc_sbuf *out);

#endif
