/*
 * The normalized event: one model for packets and logs, named after the
 * Elastic Common Schema.  Every field is an interned id from the registry
 * below (never a string compare on the hot path).  An event owns a fixed
 * inline buffer for its strings, so building one allocates nothing; a
 * string that does not fit is truncated and the event is marked
 * (SOC_EV_TRUNCATED) rather than dropped.
 *
 * The mark travels as the field soc.truncated (1), so that the wire
 * carries it to the correlator (an old decoder skips the unknown id) and
 * rules can test it; in JSON it is written "soc": {"truncated": true}.
 * The flag and the field say the same thing: soc_event_set_truncated()
 * sets both, and the wire and JSON writers treat either as the mark.
 *
 * Field ids are part of the wire format: append new fields at the end of
 * the list, never reorder or remove one (see wire.h).  A name may change
 * (the wire carries ids); names are ECS 8.x fields, or under "soc." where
 * ECS has none (tests/test-ecs.c holds the ECS table they are checked
 * against).  Names renamed to "soc." are still found by
 * soc_field_lookup() under their old spelling for one release.
 *
 * Twins: network.vlan.id and dns.id are keyword in ECS but were integers
 * here (ids 19 and 26, 8 bytes on the wire).  The integers are now
 * soc.network.vlan.id and soc.dns.id, and the ECS names are keyword
 * fields of their own (appended) that soc_event_set_int() fills with the
 * decimal text whenever it sets the integer.  The keyword twin is derived:
 * the wire writer leaves it out and every reader (wire, JSON) derives it
 * again, so old and new sensors and correlators agree on both names.
 */
#ifndef SOC_EVENT_H
#define SOC_EVENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

enum soc_ftype {
	SOC_T_STR = 1,		/* bytes, usually UTF-8 (not guaranteed) */
	SOC_T_INT = 2,		/* signed 64-bit */
	SOC_T_IP = 3,		/* IPv4 or IPv6 address */
	SOC_T_TIME = 4,		/* nanoseconds since the epoch, UTC */
};

/* X(id, "ecs.name", type) -- the order is the wire id: append only. */
#define SOC_FIELDS(X) \
	X(EVENT_KIND,		"event.kind",			SOC_T_STR) \
	X(EVENT_CATEGORY,	"event.category",		SOC_T_STR) \
	X(EVENT_DATASET,	"event.dataset",		SOC_T_STR) \
	X(EVENT_ACTION,		"event.action",			SOC_T_STR) \
	X(EVENT_OUTCOME,	"event.outcome",		SOC_T_STR) \
	X(EVENT_START,		"event.start",			SOC_T_TIME) \
	X(EVENT_END,		"event.end",			SOC_T_TIME) \
	X(EVENT_DURATION,	"event.duration",		SOC_T_INT) \
	X(SOURCE_IP,		"source.ip",			SOC_T_IP) \
	X(SOURCE_PORT,		"source.port",			SOC_T_INT) \
	X(SOURCE_BYTES,		"source.bytes",			SOC_T_INT) \
	X(SOURCE_PACKETS,	"source.packets",		SOC_T_INT) \
	X(DEST_IP,		"destination.ip",		SOC_T_IP) \
	X(DEST_PORT,		"destination.port",		SOC_T_INT) \
	X(DEST_BYTES,		"destination.bytes",		SOC_T_INT) \
	X(DEST_PACKETS,		"destination.packets",		SOC_T_INT) \
	X(NET_TRANSPORT,	"network.transport",		SOC_T_STR) \
	X(NET_TYPE,		"network.type",			SOC_T_STR) \
	X(NET_COMMUNITY_ID,	"network.community_id",		SOC_T_STR) \
	X(NET_VLAN_ID,		"soc.network.vlan.id",		SOC_T_INT) \
	X(NET_BYTES,		"network.bytes",		SOC_T_INT) \
	X(NET_PACKETS,		"network.packets",		SOC_T_INT) \
	X(NET_PROTOCOL,		"network.protocol",		SOC_T_STR) \
	X(TCP_FLAGS,		"soc.tcp.flags",		SOC_T_STR) \
	X(ICMP_TYPE,		"soc.icmp.type",		SOC_T_INT) \
	X(ICMP_CODE,		"soc.icmp.code",		SOC_T_INT) \
	X(DNS_ID,		"soc.dns.id",			SOC_T_INT) \
	X(DNS_TYPE,		"dns.type",			SOC_T_STR) \
	X(DNS_QNAME,		"dns.question.name",		SOC_T_STR) \
	X(DNS_QTYPE,		"dns.question.type",		SOC_T_STR) \
	X(DNS_QCLASS,		"dns.question.class",		SOC_T_STR) \
	X(DNS_RCODE,		"dns.response_code",		SOC_T_STR) \
	X(DNS_ANSWERS,		"dns.answers.data",		SOC_T_STR) \
	X(URL_ORIGINAL,		"url.original",			SOC_T_STR) \
	X(URL_DOMAIN,		"url.domain",			SOC_T_STR) \
	X(URL_PATH,		"url.path",			SOC_T_STR) \
	X(URL_QUERY,		"url.query",			SOC_T_STR) \
	X(USER_AGENT,		"user_agent.original",		SOC_T_STR) \
	X(HTTP_METHOD,		"http.request.method",		SOC_T_STR) \
	X(HTTP_REFERRER,	"http.request.referrer",	SOC_T_STR) \
	X(HTTP_STATUS,		"http.response.status_code",	SOC_T_INT) \
	X(HTTP_RESP_BYTES,	"http.response.body.bytes",	SOC_T_INT) \
	X(HTTP_VERSION,		"http.version",			SOC_T_STR) \
	X(TLS_SNI,		"tls.client.server_name",	SOC_T_STR) \
	X(TLS_VERSION,		"tls.version",			SOC_T_STR) \
	X(USER_NAME,		"user.name",			SOC_T_STR) \
	X(PROCESS_NAME,		"process.name",			SOC_T_STR) \
	X(PROCESS_PID,		"process.pid",			SOC_T_INT) \
	X(HOST_HOSTNAME,	"host.hostname",		SOC_T_STR) \
	X(LOG_LEVEL,		"log.level",			SOC_T_STR) \
	X(LOG_FILE_PATH,	"log.file.path",		SOC_T_STR) \
	X(LOG_SOURCE_ADDR,	"soc.log.source.address",	SOC_T_STR) \
	X(MESSAGE,		"message",			SOC_T_STR) \
	X(OBSERVER_NAME,	"observer.name",		SOC_T_STR) \
	X(ORGANIZATION_ID,	"organization.id",		SOC_T_STR) \
	X(SRC_GEO_COUNTRY,	"source.geo.country_iso_code",	SOC_T_STR) \
	X(SRC_GEO_CITY,		"source.geo.city_name",		SOC_T_STR) \
	X(SRC_AS_NUMBER,	"source.as.number",		SOC_T_INT) \
	X(SRC_AS_ORG,		"source.as.organization.name",	SOC_T_STR) \
	X(SSH_CLIENT_VERSION,	"soc.ssh.client.version",	SOC_T_STR) \
	X(SSH_SERVER_VERSION,	"soc.ssh.server.version",	SOC_T_STR) \
	X(EVENT_REASON,		"event.reason",			SOC_T_STR) \
	X(TLS_NEXT_PROTOCOL,	"tls.next_protocol",		SOC_T_STR) \
	X(TLS_JA4,		"soc.tls.client.ja4",		SOC_T_STR) \
	X(EVENT_TYPE,		"event.type",			SOC_T_STR) \
	X(SOURCE_DOMAIN,	"source.domain",		SOC_T_STR) \
	X(FILE_PATH,		"file.path",			SOC_T_STR) \
	X(THREAT_SW_NAME,	"threat.software.name",		SOC_T_STR) \
	X(THREAT_SW_TYPE,	"threat.software.type",		SOC_T_STR) \
	X(SOC_TRUNCATED,	"soc.truncated",		SOC_T_INT) \
	X(URL_EXTENSION,	"url.extension",		SOC_T_STR) \
	X(HTTP_REQ_BYTES,	"http.request.body.bytes",	SOC_T_INT) \
	X(SOC_HTTP_CTYPE,	"soc.http.request.content_type", SOC_T_STR) \
	X(SOC_HTTP_HDRNAMES,	"soc.http.request.header_names", SOC_T_STR) \
	X(HTTP_RESP_MIME,	"http.response.mime_type",	SOC_T_STR) \
	X(X509_SUBJECT_CN,	"tls.server.x509.subject.common_name", SOC_T_STR) \
	X(X509_ISSUER_CN,	"tls.server.x509.issuer.common_name", SOC_T_STR) \
	X(X509_SUBJECT_DN,	"tls.server.x509.subject.distinguished_name", \
	    SOC_T_STR) \
	X(X509_ISSUER_DN,	"tls.server.x509.issuer.distinguished_name", \
	    SOC_T_STR) \
	X(X509_ALT_NAMES,	"tls.server.x509.alternative_names", SOC_T_STR) \
	X(X509_NOT_BEFORE,	"tls.server.x509.not_before",	SOC_T_TIME) \
	X(X509_NOT_AFTER,	"tls.server.x509.not_after",	SOC_T_TIME) \
	X(X509_SERIAL,		"tls.server.x509.serial_number", SOC_T_STR) \
	X(X509_KEY_ALG,		"tls.server.x509.public_key_algorithm", \
	    SOC_T_STR) \
	X(X509_KEY_SIZE,	"tls.server.x509.public_key_size", SOC_T_INT) \
	X(SOC_FW_BLOCKED,	"soc.firewall.blocked",		SOC_T_STR) \
	X(SOC_DNS_REJECTED,	"soc.dns.rejected",		SOC_T_STR) \
	X(SOC_DNS_Z,		"soc.dns.z",			SOC_T_INT) \
	X(DNS_HEADER_FLAGS,	"dns.header_flags",		SOC_T_STR) \
	X(NET_VLAN_ID_KW,	"network.vlan.id",		SOC_T_STR) \
	X(DNS_ID_KW,		"dns.id",			SOC_T_STR) \
	X(SOC_HTTP_COOKIE,	"soc.http.request.cookie",	SOC_T_STR) \
	X(SOC_TS_CLAIMED,	"soc.timestamp.claimed",	SOC_T_TIME) \
	X(WINLOG_CHANNEL,	"winlog.channel",		SOC_T_STR) \
	X(WINLOG_PROVIDER,	"winlog.provider_name",		SOC_T_STR) \
	X(WINLOG_PROVIDER_GUID,	"winlog.provider_guid",		SOC_T_STR) \
	X(WINLOG_EVENT_ID,	"winlog.event_id",		SOC_T_STR) \
	X(WINLOG_COMPUTER,	"winlog.computer_name",		SOC_T_STR) \
	X(WINLOG_RECORD_ID,	"winlog.record_id",		SOC_T_STR) \
	X(WINLOG_TASK,		"winlog.task",			SOC_T_STR) \
	X(WINLOG_OPCODE,	"winlog.opcode",		SOC_T_STR) \
	X(WINLOG_KEYWORDS,	"winlog.keywords",		SOC_T_STR) \
	X(WINLOG_VERSION,	"winlog.version",		SOC_T_INT) \
	X(WINLOG_PID,		"winlog.process.pid",		SOC_T_INT) \
	X(WINLOG_TID,		"winlog.process.thread.id",	SOC_T_INT) \
	X(WINLOG_USER_ID,	"winlog.user.identifier",	SOC_T_STR) \
	X(WINLOG_ACTIVITY_ID,	"winlog.activity_id",		SOC_T_STR) \
	X(WINLOG_RELATED_ID,	"winlog.related_activity_id",	SOC_T_STR) \
	X(EVENT_CODE,		"event.code",			SOC_T_STR) \
	X(EVENT_PROVIDER,	"event.provider",		SOC_T_STR) \
	X(HOST_NAME,		"host.name",			SOC_T_STR) \
	X(PROCESS_EXE,		"process.executable",		SOC_T_STR) \
	X(PROCESS_CMDLINE,	"process.command_line",		SOC_T_STR) \
	X(PROCESS_CWD,		"process.working_directory",	SOC_T_STR) \
	X(PROCESS_ENTITY_ID,	"process.entity_id",		SOC_T_STR) \
	X(PPROCESS_EXE,		"process.parent.executable",	SOC_T_STR) \
	X(PPROCESS_CMDLINE,	"process.parent.command_line",	SOC_T_STR) \
	X(PPROCESS_PID,		"process.parent.pid",		SOC_T_INT) \
	X(PPROCESS_NAME,	"process.parent.name",		SOC_T_STR) \
	X(PPROCESS_ENTITY_ID,	"process.parent.entity_id",	SOC_T_STR) \
	X(PROCESS_MD5,		"process.hash.md5",		SOC_T_STR) \
	X(PROCESS_SHA1,		"process.hash.sha1",		SOC_T_STR) \
	X(PROCESS_SHA256,	"process.hash.sha256",		SOC_T_STR) \
	X(FILE_NAME,		"file.name",			SOC_T_STR) \
	X(FILE_MD5,		"file.hash.md5",		SOC_T_STR) \
	X(FILE_SHA1,		"file.hash.sha1",		SOC_T_STR) \
	X(FILE_SHA256,		"file.hash.sha256",		SOC_T_STR) \
	X(REGISTRY_PATH,	"registry.path",		SOC_T_STR) \
	X(REGISTRY_HIVE,	"registry.hive",		SOC_T_STR) \
	X(REGISTRY_KEY,		"registry.key",			SOC_T_STR) \
	X(REGISTRY_VALUE,	"registry.value",		SOC_T_STR) \
	X(REGISTRY_DATA,	"registry.data.strings",	SOC_T_STR) \
	X(USER_DOMAIN,		"user.domain",			SOC_T_STR) \
	X(USER_ID,		"user.id",			SOC_T_STR) \
	X(DEST_DOMAIN,		"destination.domain",		SOC_T_STR) \
	X(SOC_WINLOG_RECOVERED,	"soc.winlog.recovered",		SOC_T_INT) \
	X(PROCESS_TITLE,	"process.title",			SOC_T_STR) \
	X(PROCESS_ARGS_COUNT,	"process.args_count",		SOC_T_INT) \
	X(USER_EFF_ID,		"user.effective.id",		SOC_T_STR) \
	X(USER_EFF_NAME,	"user.effective.name",		SOC_T_STR) \
	X(USER_AUDIT_ID,	"user.audit.id",			SOC_T_STR) \
	X(USER_AUDIT_NAME,	"user.audit.name",		SOC_T_STR) \
	X(USER_GROUP_ID,	"user.group.id",			SOC_T_STR) \
	X(SERVICE_NAME,		"service.name",			SOC_T_STR) \
	X(AUDITD_MSG_TYPE,	"auditd.message_type",		SOC_T_STR) \
	X(AUDITD_SEQUENCE,	"auditd.sequence",		SOC_T_INT) \
	X(AUDITD_RESULT,	"auditd.result",			SOC_T_STR) \
	X(AUDITD_SESSION,	"auditd.session",		SOC_T_STR) \
	X(AUDITD_SYSCALL,	"auditd.data.syscall",		SOC_T_STR) \
	X(AUDITD_TTY,		"auditd.data.tty",		SOC_T_STR) \
	X(AUDITD_A0,		"auditd.data.a0",		SOC_T_STR) \
	X(SOC_AUDITD_TYPE,	"soc.auditd.record_type",		SOC_T_STR) \
	X(SOC_AUDITD_KEY,	"soc.auditd.key",		SOC_T_STR) \
	X(SOC_AUDITD_NAMETYPE,	"soc.auditd.path.nametype",	SOC_T_STR) \
	X(SOC_AUDITD_RECORDS,	"soc.auditd.records",		SOC_T_INT) \
	X(SOC_AUDITD_INCOMPLETE, "soc.auditd.incomplete",		SOC_T_INT) \
	X(SOC_AUDITD_ARG0,	"soc.auditd.execve.a0",		SOC_T_STR) \
	X(SOC_AUDITD_ARG1,	"soc.auditd.execve.a1",		SOC_T_STR) \
	X(SOC_AUDITD_ARG2,	"soc.auditd.execve.a2",		SOC_T_STR) \
	X(SOC_AUDITD_ARG3,	"soc.auditd.execve.a3",		SOC_T_STR) \
	X(SOC_AUDITD_ARG4,	"soc.auditd.execve.a4",		SOC_T_STR) \
	X(SOC_AUDITD_ARG5,	"soc.auditd.execve.a5",		SOC_T_STR) \
	X(SOC_AUDITD_ARG6,	"soc.auditd.execve.a6",		SOC_T_STR) \
	X(SOC_AUDITD_ARG7,	"soc.auditd.execve.a7",		SOC_T_STR) \
	X(SOC_AUDITD_ARG8,	"soc.auditd.execve.a8",		SOC_T_STR) \
	X(SOC_AUDITD_ARG9,	"soc.auditd.execve.a9",		SOC_T_STR) \
	X(SOC_NET_INITIATED,	"soc.network.initiated",		SOC_T_STR) \
	X(HOST_ID,		"host.id",			SOC_T_STR) \
	X(HOST_OS_FAMILY,	"host.os.family",		SOC_T_STR)

enum soc_field {
#define SOC_X_ENUM(id, name, type) SOC_F_##id,
	SOC_FIELDS(SOC_X_ENUM)
#undef SOC_X_ENUM
	SOC_F_COUNT
};

#define SOC_F_NONE		(-1)
#define SOC_EVENT_BUFSZ		16384	/* inline string storage per event */
#define SOC_EVENT_RESERVE	512	/* kept for organization.id and
					   observer.name, which the correlator
					   stamps from the sensor's key: a full
					   event cannot truncate them */
#define SOC_EV_TRUNCATED	0x1	/* a string was cut to fit (or a
					   line: soc.truncated) */

struct soc_ip {
	uint8_t		family;		/* 4 or 6 */
	uint8_t		addr[16];	/* v4 in the first 4 bytes */
};

struct soc_val {
	union {
		int64_t		i;		/* SOC_T_INT, SOC_T_TIME */
		struct {
			uint16_t off;		/* into soc_event.buf */
			uint16_t len;
		} s;				/* SOC_T_STR */
		struct soc_ip	ip;		/* SOC_T_IP */
	};
};

/*
 * Dynamic fields: Windows EventData and UserData have an open set of
 * names.  Each is kept under "winlog.event_data." or "winlog.user_data."
 * (Winlogbeat's names) as a string field whose id is interned once per
 * process: ids from SOC_F_COUNT on, in the order names were first seen,
 * so they never cross a process (the wire carries the name).  The table
 * is bounded; a name past it, or longer than SOC_F_DYN_NAME_MAX, is
 * refused (SOC_F_NONE) and counted.  An event holds at most
 * SOC_EVENT_DYN_MAX of them, in its one string buffer; a value past that
 * is dropped, counted and the event marked cut.
 */
#define SOC_F_DYN_MAX		8192	/* interned names per process */
#define SOC_F_DYN_NAME_MAX	128	/* bytes of a name, prefix included */
#define SOC_EVENT_DYN_MAX	128	/* dynamic values per event */
#define SOC_F_DYN_EVENT_DATA	"winlog.event_data."
#define SOC_F_DYN_USER_DATA	"winlog.user_data."

struct soc_dyn {
	uint16_t	id;			/* >= SOC_F_COUNT */
	uint16_t	off;			/* into soc_event.buf */
	uint16_t	len;
};

struct soc_event {
	int64_t		ts;			/* @timestamp, ns since epoch */
	uint32_t	flags;			/* SOC_EV_* */
	uint64_t	present[(SOC_F_COUNT + 63) / 64];
	uint32_t	ndyn;			/* dyn[] entries in use */
	struct soc_val	val[SOC_F_COUNT];
	uint32_t	buf_len;
	char		buf[SOC_EVENT_BUFSZ + SOC_EVENT_RESERVE];
	/* after the buffer: an event without them copies as it did */
	struct soc_dyn	dyn[SOC_EVENT_DYN_MAX];	/* in the order first set */
};

/* Registry (fixed and interned ids alike). */
const char	*soc_field_name(int f);
/* A dynamic field's name and its length (no strlen); NULL if none. */
const char	*soc_field_dyn_name(int f, size_t *len);
enum soc_ftype	 soc_field_type(int f);
/* Field id for an ECS name of given length (or an interned dynamic
 * name: it is not interned here), or SOC_F_NONE. */
int		 soc_field_lookup(const char *name, size_t len);
/*
 * The id of a dynamic name (under SOC_F_DYN_EVENT_DATA or
 * SOC_F_DYN_USER_DATA), interned on first sight; SOC_F_NONE for another
 * prefix, an empty or over-long name, or a full table (counted).  Thread
 * safe: inserts take a mutex, lookups take none.
 */
int		 soc_field_intern(const char *name, size_t len);
static inline bool
soc_field_dynamic(int f)
{
	return f >= SOC_F_COUNT;
}
/* Names refused by soc_field_intern() since start (table full, too long),
 * and dynamic values dropped from full events. */
uint64_t	 soc_field_dyn_refused(void);
/* Names interned and findable so far (grows only; raised after a name
 * can be found): a lookup that misses, made after reading the count,
 * misses until the count changes. */
int		 soc_field_dyn_count(void);
uint64_t	 soc_event_dyn_dropped(void);

/* Building.  Setters never allocate; a string that does not fit is cut. */
void	soc_event_reset(struct soc_event *ev);
void	soc_event_set_str(struct soc_event *ev, int f, const char *s, size_t len);
/* f's value is the len bytes already at off in ev->buf (below buf_len):
 * nothing copied (the wire decoder copies a record's bytes at once). */
void	soc_event_set_str_in(struct soc_event *ev, int f, size_t off,
	    size_t len);
void	soc_event_set_cstr(struct soc_event *ev, int f, const char *s);
/* For the correlator's trusted stamps (agency, sensor name): written in
 * the reserve, so however full the event, they are never cut. */
void	soc_event_stamp(struct soc_event *ev, int f, const char *s);
void	soc_event_set_int(struct soc_event *ev, int f, int64_t v);
void	soc_event_set_ip(struct soc_event *ev, int f, const struct soc_ip *ip);
void	soc_event_set_ip4(struct soc_event *ev, int f, const uint8_t a[4]);
void	soc_event_set_ip6(struct soc_event *ev, int f, const uint8_t a[16]);
void	soc_event_unset(struct soc_event *ev, int f);
/* Deep copy (compact: copies only the used part of the buffer). */
void	soc_event_copy(struct soc_event *dst, const struct soc_event *src);

bool	soc_event_dyn_has(const struct soc_event *ev, int f);

static inline bool
soc_event_has(const struct soc_event *ev, int f)
{
	if (__builtin_expect(f >= SOC_F_COUNT, 0))
		return soc_event_dyn_has(ev, f);
	return (ev->present[f / 64] >> (f % 64)) & 1;
}

/* The event's dynamic fields, in the order they were first set:
 * i from 0 to soc_event_dyn_count() - 1. */
static inline unsigned
soc_event_dyn_count(const struct soc_event *ev)
{
	return ev->ndyn;
}

static inline int
soc_event_dyn_at(const struct soc_event *ev, unsigned i, const char **s,
    size_t *len)
{
	*s = ev->buf + ev->dyn[i].off;
	*len = ev->dyn[i].len;
	return ev->dyn[i].id;
}

/*
 * The other field of a twin pair (see the top of this file): the keyword
 * of an integer, the integer of a keyword; SOC_F_NONE for other fields.
 * A keyword twin is derived: filled from its integer, not sent.
 */
static inline int
soc_field_twin(int f)
{
	switch (f) {
	case SOC_F_NET_VLAN_ID:		return SOC_F_NET_VLAN_ID_KW;
	case SOC_F_NET_VLAN_ID_KW:	return SOC_F_NET_VLAN_ID;
	case SOC_F_DNS_ID:		return SOC_F_DNS_ID_KW;
	case SOC_F_DNS_ID_KW:		return SOC_F_DNS_ID;
	}
	return SOC_F_NONE;
}

static inline bool
soc_field_derived(int f)
{
	return f == SOC_F_NET_VLAN_ID_KW || f == SOC_F_DNS_ID_KW;
}

/* Marks the event cut (a string, or the line it came from). */
void	soc_event_set_truncated(struct soc_event *ev);
/* Whether it is marked: the flag, or soc.truncated set non-zero. */
bool	soc_event_truncated(const struct soc_event *ev);

/* String value; *len set; NULL when absent or not a string. */
const char	*soc_event_str(const struct soc_event *ev, int f, size_t *len);
/* Integer/time value, or def when absent. */
int64_t		 soc_event_int(const struct soc_event *ev, int f, int64_t def);
const struct soc_ip *soc_event_ip(const struct soc_event *ev, int f);

/*
 * Value as text in a caller buffer (IPs in their usual notation, ints in
 * decimal, times in RFC 3339).  Returns the length, or -1 if absent.
 * The result is NUL-terminated and cut to fit.
 */
int	soc_event_text(const struct soc_event *ev, int f, char *out, size_t outsz);

/*
 * Bounds the event's time against the receiver's clock: a stamp more than
 * max_ahead_ns after now, more than max_behind_ns before it (0: no bound
 * behind), or before 1970 is kept in soc.timestamp.claimed and @timestamp
 * becomes now, so one forged stamp cannot move a correlation window.
 * Returns true when the time was replaced.  An event already bounded (it
 * carries soc.timestamp.claimed) keeps its first claim.
 */
bool	soc_event_bound_time(struct soc_event *ev, int64_t now_ns,
	    int64_t max_ahead_ns, int64_t max_behind_ns);
/* The test alone, for a stamp that is not an event's (a national alert's
 * first and last seen): outside the bounds, or before 1970. */
bool	soc_time_outside(int64_t t, int64_t now_ns, int64_t max_ahead_ns,
	    int64_t max_behind_ns);
/*
 * The receiver's cap: a stamp later than now (or before 1970) becomes now,
 * its claim kept as above; the correlator applies it to every event after
 * the bounds, so no window ever sees a time ahead of the receive time.
 * True when the time was replaced.
 */
bool	soc_event_cap_time(struct soc_event *ev, int64_t now_ns);

/* IP helpers. */
int	soc_ip_parse(const char *s, size_t len, struct soc_ip *ip);	/* 0/-1 */
void	soc_ip_format(const struct soc_ip *ip, char *out, size_t outsz);
bool	soc_ip_equal(const struct soc_ip *a, const struct soc_ip *b);

#endif
