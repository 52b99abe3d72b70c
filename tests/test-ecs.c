/*
 * The field registry against the Elastic Common Schema: every field name
 * not under the project's own "soc." prefix must be an ECS 8.x field, of
 * a type our type can carry.  The table below is copied by hand from the
 * ECS field reference (https://www.elastic.co/guide/en/ecs/current/,
 * 8.x: the field pages' "type:" lines) for the fields the registry uses;
 * it is the reference, so a new field needs its ECS line here first.
 *
 * No deviations: network.vlan.id and dns.id, integers here before, are
 * keyword twins of soc.network.vlan.id and soc.dns.id (which keep the
 * integers' wire ids), filled from them by the setter and derived again
 * by every reader (test_twins).  log.source.address (a Filebeat name,
 * not ECS) is now soc.log.source.address, the old name an alias.
 */
#include <string.h>

#include "check.h"
#include "soc/event.h"
#include "soc/json.h"
#include "soc/wire.h"

/* ECS types, grouped by the registry type that carries them. */
static const struct {
	const char	*name;
	const char	*ecs_type;
} ecs[] = {
	{ "event.kind",			"keyword" },
	{ "event.category",		"keyword" },
	{ "event.dataset",		"keyword" },
	{ "event.action",		"keyword" },
	{ "event.outcome",		"keyword" },
	{ "event.start",		"date" },
	{ "event.end",			"date" },
	{ "event.duration",		"long" },
	{ "event.reason",		"keyword" },
	{ "event.type",			"keyword" },
	{ "source.ip",			"ip" },
	{ "source.port",		"long" },
	{ "source.bytes",		"long" },
	{ "source.packets",		"long" },
	{ "source.domain",		"keyword" },
	{ "source.geo.country_iso_code", "keyword" },
	{ "source.geo.city_name",	"keyword" },
	{ "source.as.number",		"long" },
	{ "source.as.organization.name", "keyword" },
	{ "destination.ip",		"ip" },
	{ "destination.port",		"long" },
	{ "destination.bytes",		"long" },
	{ "destination.packets",	"long" },
	{ "network.transport",		"keyword" },
	{ "network.type",		"keyword" },
	{ "network.community_id",	"keyword" },
	{ "network.vlan.id",		"keyword" },
	{ "network.bytes",		"long" },
	{ "network.packets",		"long" },
	{ "network.protocol",		"keyword" },
	{ "dns.id",			"keyword" },
	{ "dns.type",			"keyword" },
	{ "dns.question.name",		"keyword" },
	{ "dns.question.type",		"keyword" },
	{ "dns.question.class",		"keyword" },
	{ "dns.response_code",		"keyword" },
	{ "dns.answers.data",		"keyword" },
	{ "dns.header_flags",		"keyword" },
	{ "url.original",		"wildcard" },
	{ "url.domain",			"keyword" },
	{ "url.path",			"wildcard" },
	{ "url.query",			"keyword" },
	{ "url.extension",		"keyword" },
	{ "user_agent.original",	"keyword" },
	{ "http.request.method",	"keyword" },
	{ "http.request.referrer",	"keyword" },
	{ "http.request.body.bytes",	"long" },
	{ "http.response.status_code",	"long" },
	{ "http.response.body.bytes",	"long" },
	{ "http.response.mime_type",	"keyword" },
	{ "http.version",		"keyword" },
	{ "tls.client.server_name",	"keyword" },
	{ "tls.version",		"keyword" },
	{ "tls.next_protocol",		"keyword" },
	{ "tls.server.x509.subject.common_name", "keyword" },
	{ "tls.server.x509.issuer.common_name", "keyword" },
	{ "tls.server.x509.subject.distinguished_name", "keyword" },
	{ "tls.server.x509.issuer.distinguished_name", "keyword" },
	{ "tls.server.x509.alternative_names", "keyword" },
	{ "tls.server.x509.not_before",	"date" },
	{ "tls.server.x509.not_after",	"date" },
	{ "tls.server.x509.serial_number", "keyword" },
	{ "tls.server.x509.public_key_algorithm", "keyword" },
	{ "tls.server.x509.public_key_size", "long" },
	{ "user.name",			"keyword" },
	{ "process.name",		"keyword" },
	{ "process.pid",		"long" },
	{ "process.executable",		"keyword" },
	{ "process.command_line",	"wildcard" },
	{ "process.working_directory",	"keyword" },
	{ "process.parent.executable",	"keyword" },
	{ "process.parent.command_line", "wildcard" },
	{ "process.parent.pid",		"long" },
	{ "process.parent.name",	"keyword" },
	{ "process.title",		"keyword" },
	{ "process.args_count",		"long" },
	{ "file.name",			"keyword" },
	{ "user.id",			"keyword" },
	{ "user.effective.id",		"keyword" },
	{ "user.effective.name",	"keyword" },
	{ "user.group.id",		"keyword" },
	{ "destination.domain",		"keyword" },
	{ "service.name",		"keyword" },
	/* not ECS: Auditbeat's auditd module names them (its fields.yml) */
	{ "user.audit.id",		"keyword" },
	{ "user.audit.name",		"keyword" },
	{ "auditd.message_type",	"keyword" },
	{ "auditd.sequence",		"long" },
	{ "auditd.result",		"keyword" },
	{ "auditd.session",		"keyword" },
	{ "auditd.data.syscall",	"keyword" },
	{ "auditd.data.tty",		"keyword" },
	{ "auditd.data.a0",		"keyword" },
	{ "host.hostname",		"keyword" },
	{ "log.level",			"keyword" },
	{ "log.file.path",		"keyword" },
	{ "message",			"match_only_text" },
	{ "observer.name",		"keyword" },
	{ "organization.id",		"keyword" },
	{ "file.path",			"keyword" },
	{ "threat.software.name",	"keyword" },
	{ "threat.software.type",	"keyword" },
	/* Windows endpoints (issue 17) */
	{ "event.code",			"keyword" },
	{ "event.provider",		"keyword" },
	{ "host.name",			"keyword" },
	{ "host.id",			"keyword" },	/* issue 18 */
	{ "host.os.family",		"keyword" },
	{ "process.executable",		"keyword" },
	{ "process.command_line",	"wildcard" },
	{ "process.working_directory",	"keyword" },
	{ "process.entity_id",		"keyword" },
	{ "process.parent.executable",	"keyword" },
	{ "process.parent.command_line", "wildcard" },
	{ "process.parent.pid",		"long" },
	{ "process.parent.name",	"keyword" },
	{ "process.parent.entity_id",	"keyword" },
	{ "process.hash.md5",		"keyword" },
	{ "process.hash.sha1",		"keyword" },
	{ "process.hash.sha256",	"keyword" },
	{ "file.name",			"keyword" },
	{ "file.hash.md5",		"keyword" },
	{ "file.hash.sha1",		"keyword" },
	{ "file.hash.sha256",		"keyword" },
	{ "registry.path",		"keyword" },
	{ "registry.hive",		"keyword" },
	{ "registry.key",		"keyword" },
	{ "registry.value",		"keyword" },
	{ "registry.data.strings",	"wildcard" },
	{ "user.domain",		"keyword" },
	{ "user.id",			"keyword" },
	{ "destination.domain",		"keyword" },
	/*
	 * Not ECS but Winlogbeat's own fields (winlogbeat/_meta/
	 * fields.common.yml, 8.x), which SigmaHQ's Winlogbeat mapping and
	 * every Winlogbeat user know by these names.
	 */
	{ "winlog.channel",		"keyword" },
	{ "winlog.provider_name",	"keyword" },
	{ "winlog.provider_guid",	"keyword" },
	{ "winlog.event_id",		"keyword" },
	{ "winlog.computer_name",	"keyword" },
	{ "winlog.record_id",		"keyword" },
	{ "winlog.task",		"keyword" },
	{ "winlog.opcode",		"keyword" },
	{ "winlog.keywords",		"keyword" },
	{ "winlog.version",		"long" },
	{ "winlog.process.pid",		"long" },
	{ "winlog.process.thread.id",	"long" },
	{ "winlog.user.identifier",	"keyword" },
	{ "winlog.activity_id",		"keyword" },
	{ "winlog.related_activity_id",	"keyword" },
};

/* Whether a registry type carries an ECS type. */
static bool
carries(enum soc_ftype t, const char *ecs_type)
{
	switch (t) {
	case SOC_T_STR:
		return strcmp(ecs_type, "keyword") == 0 ||
		    strcmp(ecs_type, "wildcard") == 0 ||
		    strcmp(ecs_type, "match_only_text") == 0 ||
		    strcmp(ecs_type, "text") == 0;
	case SOC_T_INT:
		return strcmp(ecs_type, "long") == 0 ||
		    strcmp(ecs_type, "integer") == 0;
	case SOC_T_IP:
		return strcmp(ecs_type, "ip") == 0;
	case SOC_T_TIME:
		return strcmp(ecs_type, "date") == 0;
	}
	return false;
}

static void
test_registry_is_ecs(void)
{
	for (int f = 0; f < SOC_F_COUNT; f++) {
		const char *name = soc_field_name(f);
		size_t i;

		if (strncmp(name, "soc.", 4) == 0)
			continue;
		for (i = 0; i < sizeof(ecs) / sizeof(ecs[0]); i++)
			if (strcmp(ecs[i].name, name) == 0)
				break;
		if (i == sizeof(ecs) / sizeof(ecs[0])) {
			fprintf(stderr, "field %s: not in the ECS table and not"
			    " under soc.\n", name);
			CHECK(!"every field is ECS or soc.");
			continue;
		}
		if (!carries(soc_field_type(f), ecs[i].ecs_type)) {
			fprintf(stderr, "field %s: ECS type %s\n", name,
			    ecs[i].ecs_type);
			CHECK(!"the registry type carries the ECS type");
		} else
			CHECK(1);
	}
	/* the table lists only fields the registry has */
	for (size_t i = 0; i < sizeof(ecs) / sizeof(ecs[0]); i++)
		CHECK(soc_field_lookup(ecs[i].name, strlen(ecs[i].name)) !=
		    SOC_F_NONE);
}

/* Names moved under soc. keep their wire id and their old spelling. */
static void
test_renamed(void)
{
	static const struct {
		const char	*old, *now;
		int		 id;
	} r[] = {
		{ "tcp.flags", "soc.tcp.flags", SOC_F_TCP_FLAGS },
		{ "icmp.type", "soc.icmp.type", SOC_F_ICMP_TYPE },
		{ "icmp.code", "soc.icmp.code", SOC_F_ICMP_CODE },
		{ "ssh.client.version", "soc.ssh.client.version",
		    SOC_F_SSH_CLIENT_VERSION },
		{ "ssh.server.version", "soc.ssh.server.version",
		    SOC_F_SSH_SERVER_VERSION },
		{ "tls.client.ja4", "soc.tls.client.ja4", SOC_F_TLS_JA4 },
		{ "log.source.address", "soc.log.source.address",
		    SOC_F_LOG_SOURCE_ADDR },
	};

	/* wire ids: the positions in SOC_FIELDS, never changed */
	CHECK_INT(SOC_F_TCP_FLAGS, 23);
	CHECK_INT(SOC_F_ICMP_TYPE, 24);
	CHECK_INT(SOC_F_ICMP_CODE, 25);
	CHECK_INT(SOC_F_SSH_CLIENT_VERSION, 59);
	CHECK_INT(SOC_F_SSH_SERVER_VERSION, 60);
	CHECK_INT(SOC_F_TLS_JA4, 63);
	CHECK_INT(SOC_F_LOG_SOURCE_ADDR, 51);
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		CHECK_STR(soc_field_name(r[i].id), r[i].now);
		CHECK_INT(soc_field_lookup(r[i].now, strlen(r[i].now)), r[i].id);
		CHECK_INT(soc_field_lookup(r[i].old, strlen(r[i].old)), r[i].id);
	}
	CHECK_INT(soc_field_lookup("tcp.flag", 8), SOC_F_NONE);
}

/* JSON writes the new names and reads the old ones too. */
static void
test_renamed_json(void)
{
	static struct soc_event ev, back;
	static const char old[] = "{\"@timestamp\":\"2026-12-01T00:00:00Z\","
	    "\"tcp\":{\"flags\":\"SA\"},\"icmp\":{\"type\":8},"
	    "\"tls\":{\"client\":{\"ja4\":\"t13d\"}},"
	    "\"log\":{\"source\":{\"address\":\"192.0.2.7\"}}}";
	struct soc_sbuf b;
	const char *why = NULL, *s;
	unsigned unknown = 99;
	size_t len;

	soc_sbuf_init(&b);
	soc_event_reset(&ev);
	soc_event_set_cstr(&ev, SOC_F_TCP_FLAGS, "S");
	soc_event_set_cstr(&ev, SOC_F_SSH_CLIENT_VERSION, "SSH-2.0-x");
	soc_json_event(&b, &ev);
	CHECK(strstr(b.data, "\"soc\":{\"tcp\":{\"flags\":\"S\"},"
	    "\"ssh\":{\"client\":{\"version\":\"SSH-2.0-x\"}}}") != NULL);
	CHECK_INT(soc_json_read_event(b.data, b.len, &back, &why, &unknown), 0);
	CHECK_INT(unknown, 0);
	CHECK((s = soc_event_str(&back, SOC_F_TCP_FLAGS, &len)) != NULL &&
	    len == 1 && s[0] == 'S');
	CHECK_INT(soc_json_read_event(old, strlen(old), &back, &why, &unknown),
	    0);
	CHECK_INT(unknown, 0);
	CHECK((s = soc_event_str(&back, SOC_F_TCP_FLAGS, &len)) != NULL &&
	    len == 2 && memcmp(s, "SA", 2) == 0);
	CHECK_INT(soc_event_int(&back, SOC_F_ICMP_TYPE, -1), 8);
	CHECK(soc_event_has(&back, SOC_F_TLS_JA4));
	CHECK((s = soc_event_str(&back, SOC_F_LOG_SOURCE_ADDR, &len)) != NULL &&
	    len == 9 && memcmp(s, "192.0.2.7", 9) == 0);
	soc_sbuf_free(&b);
}

static bool
str_is(const struct soc_event *ev, int f, const char *want)
{
	size_t len;
	const char *s = soc_event_str(ev, f, &len);

	return s != NULL && len == strlen(want) && memcmp(s, want, len) == 0;
}

/*
 * network.vlan.id and dns.id: keyword twins of the integers, which keep
 * ids 19 and 26; set by the setter, left off the wire and derived again
 * by the reader, read from JSON under either name.
 */
static void
test_twins(void)
{
	static struct soc_event ev, back;
	static const char *const in[] = {
		"{\"network\":{\"vlan\":{\"id\":100}},\"dns\":{\"id\":\"4660\"}}",
		"{\"soc\":{\"network\":{\"vlan\":{\"id\":100}},"
		    "\"dns\":{\"id\":4660}}}",
	};
	static const char hex[] = "{\"dns\":{\"id\":\"0x12\"}}";
	static const char lead[] = "{\"dns\":{\"id\":\"007\"}}";
	struct soc_wbuf b;
	struct soc_wire_reader r;
	struct soc_wire_hdr hdr;
	struct soc_sbuf js;
	const char *why = NULL;
	unsigned unknown;

	CHECK_INT(SOC_F_NET_VLAN_ID, 19);
	CHECK_INT(SOC_F_DNS_ID, 26);
	CHECK_STR(soc_field_name(SOC_F_NET_VLAN_ID), "soc.network.vlan.id");
	CHECK_INT(soc_field_lookup("network.vlan.id", 15), SOC_F_NET_VLAN_ID_KW);
	CHECK_INT(soc_field_type(SOC_F_DNS_ID_KW), SOC_T_STR);
	CHECK_INT(soc_field_twin(SOC_F_DNS_ID), SOC_F_DNS_ID_KW);
	CHECK(soc_field_derived(SOC_F_NET_VLAN_ID_KW));
	CHECK(!soc_field_derived(SOC_F_NET_VLAN_ID));

	/* the setter fills the twin, and setting again reuses its bytes */
	soc_event_reset(&ev);
	soc_event_set_int(&ev, SOC_F_NET_VLAN_ID, 4095);
	CHECK(str_is(&ev, SOC_F_NET_VLAN_ID_KW, "4095"));
	soc_event_set_int(&ev, SOC_F_NET_VLAN_ID, 7);
	CHECK(str_is(&ev, SOC_F_NET_VLAN_ID_KW, "7"));
	CHECK_INT(ev.buf_len, 4);
	soc_event_set_int(&ev, SOC_F_DNS_ID, 65535);
	CHECK(str_is(&ev, SOC_F_DNS_ID_KW, "65535"));

	/* the wire carries the integers only; the reader derives the twins */
	soc_wbuf_init(&b);
	soc_wire_begin(&b, SOC_WIRE_EVENTS, 1);
	CHECK_INT(soc_wire_add_event(&b, &ev), 0);
	CHECK_INT(b.len, SOC_WIRE_HDR_LEN + 4 + 8 + 2 + 2 * (4 + 8));
	CHECK(soc_wire_open(&r, b.data, b.len, &hdr, &why) == 0);
	CHECK_INT(soc_wire_next_event(&r, &back, &why), 1);
	CHECK_INT(soc_event_int(&back, SOC_F_NET_VLAN_ID, -1), 7);
	CHECK(str_is(&back, SOC_F_NET_VLAN_ID_KW, "7"));
	CHECK(str_is(&back, SOC_F_DNS_ID_KW, "65535"));
	/* a twin a peer sends anyway is dropped: only the integer counts */
	soc_wire_begin(&b, SOC_WIRE_EVENTS, 2);
	soc_event_reset(&ev);
	soc_event_set_cstr(&ev, SOC_F_MESSAGE, "999");
	CHECK_INT(soc_wire_add_event(&b, &ev), 0);
	b.data[SOC_WIRE_HDR_LEN + 4 + 8 + 2] = (uint8_t)SOC_F_DNS_ID_KW;	/* LE */
	b.data[SOC_WIRE_HDR_LEN + 4 + 8 + 3] = (uint8_t)(SOC_F_DNS_ID_KW >> 8);
	CHECK(soc_wire_open(&r, b.data, b.len, &hdr, &why) == 0);
	CHECK_INT(soc_wire_next_event(&r, &back, &why), 1);
	CHECK(!soc_event_has(&back, SOC_F_DNS_ID_KW));
	CHECK(!soc_event_has(&back, SOC_F_MESSAGE));
	soc_wbuf_free(&b);
	soc_event_reset(&ev);
	soc_event_set_int(&ev, SOC_F_NET_VLAN_ID, 7);

	/* JSON: written under both names, read back under either */
	soc_sbuf_init(&js);
	soc_json_event(&js, &ev);
	CHECK(strstr(js.data, "\"vlan\":{\"id\":\"7\"}") != NULL);
	CHECK(strstr(js.data, "\"vlan\":{\"id\":7}") != NULL);
	soc_sbuf_free(&js);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		unknown = 99;
		CHECK_INT(soc_json_read_event(in[i], strlen(in[i]), &back, &why,
		    &unknown), 0);
		CHECK_INT(soc_event_int(&back, SOC_F_NET_VLAN_ID, -1), 100);
		CHECK(str_is(&back, SOC_F_NET_VLAN_ID_KW, "100"));
		CHECK_INT(soc_event_int(&back, SOC_F_DNS_ID, -1), 4660);
		CHECK(str_is(&back, SOC_F_DNS_ID_KW, "4660"));
	}
	/* text that is not a plain whole number stays text, no integer */
	CHECK_INT(soc_json_read_event(hex, strlen(hex), &back, &why, &unknown), 0);
	CHECK(str_is(&back, SOC_F_DNS_ID_KW, "0x12"));
	CHECK(!soc_event_has(&back, SOC_F_DNS_ID));
	CHECK_INT(soc_json_read_event(lead, strlen(lead), &back, &why, &unknown),
	    0);
	CHECK(str_is(&back, SOC_F_DNS_ID_KW, "007"));
	CHECK(!soc_event_has(&back, SOC_F_DNS_ID));
}

int
main(void)
{
	test_registry_is_ecs();
	test_renamed();
	test_renamed_json();
	test_twins();
	return check_done();
}
