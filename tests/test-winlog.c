/*
 * The Windows record normalizer (sensor/winlog-xml.c, winlog-ecs.c) on
 * handmade XML: System fields, EventData by name and by position
 * (paramN), UserData, entities, CR LF kept, what is refused and counted
 * (a 64 KiB name, nesting past the limit, bad UTF-8, unknown entities,
 * broken XML), and the ECS mapping for Sysmon and Security events.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "winlog.h"

static struct soc_event ev;
static struct winlog_stats st;

static int
parse(const char *xml)
{
	soc_event_reset(&ev);
	memset(&st, 0, sizeof(st));
	int rc = winlog_xml_parse(xml, strlen(xml), &ev, &st);

	winlog_ecs(&ev);
	return rc;
}

static bool
is(int f, const char *want)
{
	size_t len;
	const char *s = f == SOC_F_NONE ? NULL : soc_event_str(&ev, f, &len);

	if (s == NULL || len != strlen(want) || memcmp(s, want, len) != 0) {
		fprintf(stderr, "  %s is \"%.*s\", want \"%s\"\n",
		    f == SOC_F_NONE ? "?" : soc_field_name(f), s ? (int)len : 6,
		    s ? s : "absent", want);
		return false;
	}
	return true;
}

static int
ed(const char *name)
{
	char full[256];

	snprintf(full, sizeof(full), "winlog.event_data.%s", name);
	return soc_field_lookup(full, strlen(full));
}

static int
ud(const char *name)
{
	char full[256];

	snprintf(full, sizeof(full), "winlog.user_data.%s", name);
	return soc_field_lookup(full, strlen(full));
}

#define SYS(prov, id, extra) \
	"<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">" \
	"<System><Provider Name=\"" prov "\" Guid=\"{AB}\"/>" \
	"<EventID Qualifiers=\"16384\">" id "</EventID><Version>2</Version>" \
	"<Level>0</Level><Task>12544</Task><Opcode>0</Opcode>" \
	"<Keywords>0x8010000000000000</Keywords>" \
	"<TimeCreated SystemTime=\"2019-03-19T23:31:08.1234567Z\"/>" \
	"<EventRecordID>7649</EventRecordID>" \
	"<Correlation ActivityID=\"{A1}\"/>" \
	"<Execution ProcessID=\"4\" ThreadID=\"96\"/>" \
	"<Channel>Security</Channel><Computer>pc1.so.gov.vn</Computer>" \
	"<Security UserID=\"S-1-5-18\"/></System>" extra "</Event>"

static void
test_system(void)
{
	CHECK_INT(parse(SYS("Microsoft-Windows-Security-Auditing", "4625",
	    "<EventData><Data Name=\"TargetUserName\">admin</Data>"
	    "<Data Name=\"TargetDomainName\">SO</Data>"
	    "<Data Name=\"IpAddress\">203.0.113.9</Data>"
	    "<Data Name=\"IpPort\">0</Data>"
	    "<Data Name=\"ProcessName\">C:\\Windows\\System32\\lsass.exe</Data>"
	    "</EventData>")), 0);
	CHECK_INT(ev.ts, 1553038268123456700LL);
	CHECK(is(SOC_F_WINLOG_PROVIDER, "Microsoft-Windows-Security-Auditing"));
	CHECK(is(SOC_F_WINLOG_PROVIDER_GUID, "{AB}"));
	CHECK(is(SOC_F_WINLOG_EVENT_ID, "4625"));
	CHECK(is(SOC_F_EVENT_CODE, "4625"));
	CHECK(is(SOC_F_EVENT_PROVIDER, "Microsoft-Windows-Security-Auditing"));
	CHECK_INT(soc_event_int(&ev, SOC_F_WINLOG_VERSION, -1), 2);
	CHECK(is(SOC_F_LOG_LEVEL, "information"));
	CHECK(is(SOC_F_WINLOG_TASK, "12544"));
	CHECK(is(SOC_F_WINLOG_KEYWORDS, "0x8010000000000000"));
	CHECK(is(SOC_F_EVENT_OUTCOME, "failure"));	/* Audit Failure */
	CHECK(is(SOC_F_WINLOG_RECORD_ID, "7649"));
	CHECK(is(SOC_F_WINLOG_ACTIVITY_ID, "{A1}"));
	CHECK_INT(soc_event_int(&ev, SOC_F_WINLOG_PID, -1), 4);
	CHECK_INT(soc_event_int(&ev, SOC_F_WINLOG_TID, -1), 96);
	CHECK(is(SOC_F_WINLOG_CHANNEL, "Security"));
	CHECK(is(SOC_F_WINLOG_COMPUTER, "pc1.so.gov.vn"));
	CHECK(is(SOC_F_HOST_NAME, "pc1.so.gov.vn"));
	CHECK(is(SOC_F_WINLOG_USER_ID, "S-1-5-18"));
	/* Security: the account acted on, the source, the process */
	CHECK(is(SOC_F_USER_NAME, "admin"));
	CHECK(is(SOC_F_USER_DOMAIN, "SO"));
	CHECK(soc_event_ip(&ev, SOC_F_SOURCE_IP) != NULL);
	CHECK(!soc_event_has(&ev, SOC_F_SOURCE_PORT));	/* "0": none */
	CHECK(is(SOC_F_PROCESS_EXE, "C:\\Windows\\System32\\lsass.exe"));
	CHECK(is(SOC_F_PROCESS_NAME, "lsass.exe"));
	CHECK_INT(st.xml_errors, 0);
}

static void
test_event_data(void)
{
	CHECK_INT(parse(SYS("App", "1",
	    "<EventData><Data>first</Data><Data Name=\"N\">a &lt;b&gt; &amp; "
	    "&quot;c&quot; &apos;d&apos; &#233;&#x1F600;</Data>"
	    "<Data></Data><Data/><Data>line1\r\nline2</Data>"
	    "<Binary>00FF</Binary><Data Name=\"E\"><![CDATA[x<y]]></Data>"
	    "</EventData>")), 0);
	/* unnamed Data: param + its position, as Winlogbeat names them */
	CHECK(is(ed("param1"), "first"));
	CHECK(is(ed("N"), "a <b> & \"c\" 'd' \xc3\xa9\xf0\x9f\x98\x80"));
	CHECK(is(ed("param3"), ""));		/* empty values kept */
	CHECK(is(ed("param4"), ""));
	CHECK(is(ed("param5"), "line1\r\nline2"));	/* CR LF kept */
	CHECK(is(ed("Binary"), "00FF"));
	CHECK(is(ed("E"), "x<y"));
	CHECK(ed("param2") == SOC_F_NONE || !soc_event_has(&ev, ed("param2")));
	CHECK(is(SOC_F_LOG_LEVEL, "information"));
	CHECK_INT(st.bad_entities, 0);
}

static void
test_user_data(void)
{
	CHECK_INT(parse(SYS("Microsoft-Windows-Eventlog", "1102",
	    "<UserData><LogFileCleared xmlns=\"http://manifests\">"
	    "<SubjectUserSid>S-1-5-21-1</SubjectUserSid>"
	    "<SubjectUserName>bob</SubjectUserName>"
	    "<Nested><Inner>v</Inner></Nested><Empty/>"
	    "</LogFileCleared></UserData>")), 0);
	CHECK(is(ud("xml_name"), "LogFileCleared"));
	CHECK(is(ud("SubjectUserSid"), "S-1-5-21-1"));
	CHECK(is(ud("SubjectUserName"), "bob"));
	CHECK(is(ud("Nested.Inner"), "v"));
	CHECK(is(ud("Empty"), ""));
	CHECK(ud("Nested") == SOC_F_NONE || !soc_event_has(&ev, ud("Nested")));
}

static void
test_sysmon(void)
{
	CHECK_INT(parse(SYS("Microsoft-Windows-Sysmon", "1",
	    "<EventData><Data Name=\"Image\">C:\\Windows\\System32\\cmd.exe</Data>"
	    "<Data Name=\"CommandLine\">cmd /c whoami</Data>"
	    "<Data Name=\"ProcessId\">8052</Data>"
	    "<Data Name=\"User\">NT AUTHORITY\\SYSTEM</Data>"
	    "<Data Name=\"Hashes\">SHA1=8C54,MD5=975B,SHA256=3656AB,IMPHASH=27</Data>"
	    "<Data Name=\"ParentImage\">C:\\Windows\\explorer.exe</Data>"
	    "<Data Name=\"ParentProcessId\">732</Data></EventData>")), 0);
	CHECK(is(SOC_F_PROCESS_EXE, "C:\\Windows\\System32\\cmd.exe"));
	CHECK(is(SOC_F_PROCESS_NAME, "cmd.exe"));
	CHECK(is(SOC_F_PROCESS_CMDLINE, "cmd /c whoami"));
	CHECK_INT(soc_event_int(&ev, SOC_F_PROCESS_PID, -1), 8052);
	CHECK(is(SOC_F_USER_NAME, "SYSTEM"));
	CHECK(is(SOC_F_USER_DOMAIN, "NT AUTHORITY"));
	CHECK(is(SOC_F_PROCESS_MD5, "975b"));
	CHECK(is(SOC_F_PROCESS_SHA1, "8c54"));
	CHECK(is(SOC_F_PROCESS_SHA256, "3656ab"));
	CHECK(!soc_event_has(&ev, SOC_F_FILE_MD5));
	CHECK(is(SOC_F_PPROCESS_EXE, "C:\\Windows\\explorer.exe"));
	CHECK(is(SOC_F_PPROCESS_NAME, "explorer.exe"));
	CHECK_INT(soc_event_int(&ev, SOC_F_PPROCESS_PID, -1), 732);

	CHECK_INT(parse(SYS("Microsoft-Windows-Sysmon", "3",
	    "<EventData><Data Name=\"Protocol\">tcp</Data>"
	    "<Data Name=\"SourceIp\">10.1.2.3</Data>"
	    "<Data Name=\"SourcePort\">49152</Data>"
	    "<Data Name=\"DestinationIp\">2001:db8::1</Data>"
	    "<Data Name=\"DestinationPort\">443</Data>"
	    "<Data Name=\"DestinationHostname\">x.example</Data></EventData>")),
	    0);
	CHECK(soc_event_ip(&ev, SOC_F_SOURCE_IP) != NULL);
	CHECK(soc_event_ip(&ev, SOC_F_DEST_IP) != NULL &&
	    soc_event_ip(&ev, SOC_F_DEST_IP)->family == 6);
	CHECK_INT(soc_event_int(&ev, SOC_F_SOURCE_PORT, -1), 49152);
	CHECK_INT(soc_event_int(&ev, SOC_F_DEST_PORT, -1), 443);
	CHECK(is(SOC_F_NET_TRANSPORT, "tcp"));
	CHECK(is(SOC_F_DEST_DOMAIN, "x.example"));

	CHECK_INT(parse(SYS("Microsoft-Windows-Sysmon", "13",
	    "<EventData><Data Name=\"TargetObject\">HKLM\\SOFTWARE\\Microsoft"
	    "\\Windows\\CurrentVersion\\Run\\evil</Data>"
	    "<Data Name=\"Details\">C:\\evil.exe</Data></EventData>")), 0);
	CHECK(is(SOC_F_REGISTRY_PATH, "HKLM\\SOFTWARE\\Microsoft\\Windows\\"
	    "CurrentVersion\\Run\\evil"));
	CHECK(is(SOC_F_REGISTRY_HIVE, "HKLM"));
	CHECK(is(SOC_F_REGISTRY_KEY,
	    "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run"));
	CHECK(is(SOC_F_REGISTRY_VALUE, "evil"));
	CHECK(is(SOC_F_REGISTRY_DATA, "C:\\evil.exe"));

	CHECK_INT(parse(SYS("Microsoft-Windows-Sysmon", "22",
	    "<EventData><Data Name=\"QueryName\">evil.example</Data>"
	    "</EventData>")), 0);
	CHECK(is(SOC_F_DNS_QNAME, "evil.example"));
	CHECK_INT(parse(SYS("Microsoft-Windows-Sysmon", "11",
	    "<EventData><Data Name=\"TargetFilename\">C:\\t\\a.ps1</Data>"
	    "</EventData>")), 0);
	CHECK(is(SOC_F_FILE_PATH, "C:\\t\\a.ps1"));
	CHECK(is(SOC_F_FILE_NAME, "a.ps1"));
}

static void
test_hostile(void)
{
	static char big[80000], xml[90000];
	char deep[4096];
	size_t n = 0;

	/* a 64 KiB name: refused and counted, the other values kept */
	memset(big, 'N', 65536);
	big[65536] = '\0';
	snprintf(xml, sizeof(xml), SYS("App", "1", "<EventData><Data Name=\"%s\">"
	    "v</Data><Data Name=\"ok\">w</Data></EventData>"), big);
	CHECK_INT(parse(xml), 0);
	CHECK_INT(st.names_refused, 1);
	CHECK(is(ed("ok"), "w"));
	CHECK_INT(soc_event_dyn_count(&ev), 1);
	/* a value past the event's buffer: cut and marked */
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(xml, sizeof(xml), SYS("App", "1",
	    "<EventData><Data Name=\"long\">%s</Data></EventData>"), big);
	CHECK_INT(parse(xml), 0);
	CHECK_INT(st.values_cut, 1);
	CHECK(soc_event_truncated(&ev));
	CHECK(soc_event_has(&ev, SOC_F_WINLOG_CHANNEL));
	/* nesting past the limit: an XML error, counted, no crash */
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "<a>");
	CHECK_INT(parse(deep), -1);
	CHECK_INT(st.xml_errors, 1);
	/* bad UTF-8 kept byte for byte and counted; unknown entity kept */
	CHECK_INT(parse(SYS("App", "1", "<EventData><Data Name=\"b\">\xff"
	    "&bogus;&#xZZ;</Data></EventData>")), 0);
	CHECK(is(ed("b"), "\xff&bogus;&#xZZ;"));
	CHECK_INT(st.bad_utf8, 1);
	CHECK_INT(st.bad_entities, 2);
	/* broken XML: what was read before stays */
	CHECK_INT(parse("<Event><System><Channel>Security</Channel>"
	    "<Computer>x</Comp"), -1);
	CHECK(is(SOC_F_WINLOG_CHANNEL, "Security"));
	CHECK_INT(parse("<Event><System></Sys></Event>"), -1);
	CHECK_INT(parse("<Event a=b></Event>"), -1);
	CHECK_INT(parse(""), 0);
	CHECK_INT(parse("<"), -1);
	CHECK_INT(parse("<!-- c --><?xml x?><Event/>"), 0);
}

int
main(void)
{
	test_system();
	test_event_data();
	test_user_data();
	test_sysmon();
	test_hostile();
	return check_done();
}
