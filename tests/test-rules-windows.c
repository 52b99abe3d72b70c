/*
 * SigmaHQ-style Windows rules through rules/mapping.yml (issue 17) on
 * events made the way every Windows intake makes them: a record's XML
 * through winlog_xml_parse() and winlog_ecs() (liblogparse), then the
 * engine.  A service is its channel, a category its Sysmon EventID
 * (pySigma's Windows and Sysmon pipelines), process_creation also
 * Security 4688 with its own names (NewProcessName -> Image), a field
 * name without a '.' an EventData name (winlog.event_data.*), and the
 * System names (EventID, Channel, Computer) the winlog.* fields.  Each
 * rule fires on its positive and not on a near miss: the same values in
 * another channel or EventID, or another value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "soc-config.h"
#include "soc/event.h"
#include "rules.h"
#include "../sensor/winlog.h"
#include "check.h"
#include "fixture.h"

#define MAPPING		SOC_SRCDIR "/rules/mapping.yml"

#define REC(...)	REC_(__VA_ARGS__)	/* SYSMON etc. expand first */
#define REC_(prov, chan, id, data) \
	"<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">" \
	"<System><Provider Name=\"" prov "\"/>" \
	"<EventID>" id "</EventID><Version>2</Version>" \
	"<TimeCreated SystemTime=\"2026-12-01T03:00:00.0000000Z\"/>" \
	"<EventRecordID>1</EventRecordID>" \
	"<Channel>" chan "</Channel><Computer>pc1.so.gov.vn</Computer>" \
	"</System><EventData>" data "</EventData></Event>"
#define D(n, v)		"<Data Name=\"" n "\">" v "</Data>"
#define SYSMON		"Microsoft-Windows-Sysmon", \
			"Microsoft-Windows-Sysmon/Operational"
#define SECURITY	"Microsoft-Windows-Security-Auditing", "Security"
#define PS		"Microsoft-Windows-PowerShell", \
			"Microsoft-Windows-PowerShell/Operational"

static const char *rules =
    "title: word shell\nid: w1\nlogsource:\n  product: windows\n"
    "  category: process_creation\ndetection:\n  sel:\n"
    "    ParentImage|endswith: '\\winword.exe'\n"
    "    Image|endswith: ['\\cmd.exe', '\\powershell.exe']\n"
    "  condition: sel\n---\n"
    "title: renamed\nid: w2\nlogsource:\n  product: windows\n"
    "  category: process_creation\ndetection:\n  sel:\n"
    "    OriginalFileName: 'Cmd.Exe'\n  filter:\n"
    "    Image|endswith: '\\cmd.exe'\n  condition: sel and not filter\n---\n"
    "title: log cleared\nid: w3\nlogsource:\n  product: windows\n"
    "  service: security\ndetection:\n  sel:\n    EventID: 1102\n"
    "  condition: sel\n---\n"
    "title: smb out\nid: w4\nlogsource:\n  product: windows\n"
    "  category: network_connection\ndetection:\n  sel:\n"
    "    DestinationPort: 445\n    DestinationIp|cidr: 10.0.0.0/8\n"
    "    Initiated: 'true'\n  condition: sel\n---\n"
    "title: iex\nid: w5\nlogsource:\n  product: windows\n"
    "  category: ps_script\ndetection:\n  sel:\n"
    "    ScriptBlockText|contains: 'IEX (New-Object'\n"
    "  condition: sel\n---\n"
    "title: host\nid: w6\nlogsource:\n  product: windows\n"
    "  service: sysmon\ndetection:\n  sel:\n    Computer: PC1.so.gov.vn\n"
    "    EventID: 1\n    Channel: 'Microsoft-Windows-Sysmon/Operational'\n"
    "  condition: sel\n---\n"
    "title: rdp lan\nid: w7\nlogsource:\n  product: windows\n"
    "  service: security\ndetection:\n  sel:\n    EventID: 4624\n"
    "    LogonType: 10\n    IpAddress|cidr: ['10.0.0.0/8', 'fd00::/8']\n"
    "  condition: sel\n";

static const struct {
	const char	*xml, *want;
} cases[] = {
	{ REC(SYSMON, "1", D("Image", "C:\\Windows\\System32\\cmd.exe")
	    D("OriginalFileName", "Cmd.Exe")
	    D("ParentImage", "C:\\Program Files\\Office\\WINWORD.EXE")),
	    "word shell host " },
	/* the same process from Security 4688's names */
	{ REC(SECURITY, "4688",
	    D("NewProcessName", "C:\\Windows\\System32\\cmd.exe")
	    D("ParentProcessName", "C:\\Program Files\\Office\\WINWORD.EXE")),
	    "word shell " },
	/* near misses: another parent; the same values in Sysmon event 3,
	 * in Security 4624 */
	{ REC(SYSMON, "1", D("Image", "C:\\Windows\\System32\\cmd.exe")
	    D("ParentImage", "C:\\Windows\\explorer.exe")), "host " },
	{ REC(SYSMON, "3", D("Image", "C:\\Windows\\System32\\cmd.exe")
	    D("ParentImage", "C:\\Program Files\\Office\\WINWORD.EXE")), "" },
	{ REC(SECURITY, "4624", D("ProcessName", "C:\\x\\cmd.exe")
	    D("ParentProcessName", "C:\\Program Files\\Office\\WINWORD.EXE")),
	    "" },
	{ REC(SYSMON, "1", D("Image", "C:\\Temp\\svc.exe")
	    D("OriginalFileName", "Cmd.Exe")), "renamed host " },
	{ REC(SECURITY, "1102", D("SubjectUserName", "admin")), "log cleared " },
	{ REC("Microsoft-Windows-Eventlog", "System", "1102", D("x", "y")), "" },
	{ REC(SYSMON, "3", D("Image", "C:\\x\\a.exe") D("Initiated", "true")
	    D("DestinationIp", "10.1.2.3") D("DestinationPort", "445")),
	    "smb out " },
	{ REC(SYSMON, "3", D("Image", "C:\\x\\a.exe") D("Initiated", "true")
	    D("DestinationIp", "192.0.2.3") D("DestinationPort", "445")), "" },
	{ REC(PS, "4104", D("ScriptBlockText", "iex (new-object Net.WebClient)")),
	    "iex " },
	{ REC(PS, "4103", D("ScriptBlockText", "iex (new-object Net.WebClient)")),
	    "" },
	/* cidr on an EventData (text) value: parsed when matched */
	{ REC(SECURITY, "4624", D("LogonType", "10") D("IpAddress", "10.9.8.7")),
	    "rdp lan " },
	{ REC(SECURITY, "4624", D("LogonType", "10") D("IpAddress", "fd12::1")),
	    "rdp lan " },
	{ REC(SECURITY, "4624", D("LogonType", "10") D("IpAddress", "11.9.8.7")),
	    "" },
	{ REC(SECURITY, "4624", D("LogonType", "10") D("IpAddress", "-")), "" },
	{ REC(SECURITY, "4624", D("LogonType", "3") D("IpAddress", "10.9.8.7")),
	    "" },
};

static void
on_title(void *arg, const struct rs_alert *a)
{
	char *out = arg;
	size_t len = strlen(out);

	snprintf(out + len, 256 - len, "%s ", rule_title(a->rule));
}

static void
on_err(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "  load: %s\n", msg);
}

int
main(void)
{
	char dir[] = "/tmp/test-rules-windows.XXXXXX", path[512];
	const char *dirs[1] = { dir };
	static struct soc_event ev;
	struct winlog_stats st = { 0 };
	struct ruleset *rs;
	struct rs_scratch *s;
	size_t nerr = 0;
	FILE *f;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/w.yml", dir);
	if ((f = fopen(path, "w")) == NULL)
		return 1;
	fputs(rules, f);
	fclose(f);
	rs = ruleset_load(dirs, 1, MAPPING, on_err, NULL, &nerr);
	fx_rmtree(dir);
	CHECK(rs != NULL && nerr == 0 && ruleset_count(rs) == 7);
	if (rs == NULL)
		return check_done();
	s = rs_scratch_new(rs);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char got[256] = "";

		soc_event_reset(&ev);
		CHECK_INT(winlog_xml_parse(cases[i].xml, strlen(cases[i].xml),
		    &ev, &st), 0);
		winlog_ecs(&ev);
		ruleset_match(rs, s, &ev, on_title, got);
		if (strcmp(got, cases[i].want) != 0)
			fprintf(stderr, "case %zu\n", i);
		CHECK_STR(got, cases[i].want);
	}
	rs_scratch_free(s);
	ruleset_free(rs);
	return check_done();
}
