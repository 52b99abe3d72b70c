/*
 * Sigma keywords (a list without field) on Windows events (issue 17):
 * keywords search message, and a record that carries none (an EVTX file)
 * gets one from its EventData and UserData values, one a line
 * (winlog_message(), sensor/winlog-ecs.c), as every intake makes it: the
 * record's XML through winlog_xml_parse(), winlog_ecs(), winlog_message(),
 * then the engine with rules/mapping.yml.  A keyword finds a value
 * whatever its name; near misses: another value, a keyword split across
 * two values, the right value in another EventID; a rendered message
 * (Winlogbeat's, NXLog's) is kept and searched instead; the message is
 * bounded and never marks the event cut.
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

#define REC(...)	REC_(__VA_ARGS__)
#define REC_(prov, chan, id, data) \
	"<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">" \
	"<System><Provider Name=\"" prov "\"/>" \
	"<EventID>" id "</EventID><Version>2</Version>" \
	"<TimeCreated SystemTime=\"2026-12-01T03:00:00.0000000Z\"/>" \
	"<EventRecordID>1</EventRecordID>" \
	"<Channel>" chan "</Channel><Computer>pc1.so.gov.vn</Computer>" \
	"</System>" data "</Event>"
#define ED(x)		"<EventData>" x "</EventData>"
#define D(n, v)		"<Data Name=\"" n "\">" v "</Data>"
#define SYSMON		"Microsoft-Windows-Sysmon", \
			"Microsoft-Windows-Sysmon/Operational"
#define SECURITY	"Microsoft-Windows-Security-Auditing", "Security"

/* SigmaHQ's win_alert_mimikatz_keywords (product windows alone) and
 * win_system_possible_zerologon_exploitation_using_wellknown_tools'
 * "selection and keywords", cut down */
static const char *rules =
    "title: mimikatz\nid: k1\nlogsource:\n  product: windows\n"
    "detection:\n  keywords:\n    - 'sekurlsa::'\n    - 'privilege::debug'\n"
    "    - '\\mimilib.dll'\n  filter:\n    EventID: 15\n"
    "  condition: keywords and not filter\n---\n"
    "title: zerologon tools\nid: k2\nlogsource:\n  product: windows\n"
    "  service: system\ndetection:\n  selection:\n"
    "    EventID: [5805, 5723]\n  keywords:\n    - kali\n    - mimikatz\n"
    "  condition: selection and keywords\n";

static const struct {
	const char	*xml, *rendered, *want;
} cases[] = {
	/* a value of any name: CommandLine, a UserData value, param1 */
	{ REC(SYSMON, "1", ED(D("Image", "C:\\t\\m.exe")
	    D("CommandLine", "m.exe \"SEKURLSA::logonpasswords\" exit"))),
	    NULL, "mimikatz " },
	{ REC("Microsoft-Windows-Eventlog", "System", "7045",
	    "<UserData><X xmlns=\"u\"><ImagePath>C:\\x\\MimiLib.dll</ImagePath>"
	    "</X></UserData>"), NULL, "mimikatz " },
	{ REC("Service Control Manager", "System", "7036",
	    ED("<Data>privilege::debug</Data><Data>running</Data>")), NULL,
	    "mimikatz " },
	/* near misses: one colon; the keyword split across two values; the
	 * rule's filter (Sysmon 15) */
	{ REC(SYSMON, "1", ED(D("Image", "C:\\t\\m.exe")
	    D("CommandLine", "m.exe sekurlsa:logonpasswords"))), NULL, "" },
	{ REC(SYSMON, "1", ED(D("Image", "C:\\t\\sekurlsa")
	    D("CommandLine", "::logonpasswords"))), NULL, "" },
	{ REC(SYSMON, "15", ED(D("TargetFilename", "C:\\r\\sekurlsa::x.yml"))),
	    NULL, "" },
	/* selection and keywords: the value in 5805, not in 5806 */
	{ REC("NETLOGON", "System", "5805", ED(D("Computer", "MIMIKATZ")
	    D("Account", "x"))), NULL, "zerologon tools " },
	{ REC("NETLOGON", "System", "5806", ED(D("Computer", "MIMIKATZ"))),
	    NULL, "" },
	/* a rendered message is kept: the values are not searched then */
	{ REC(SYSMON, "1", ED(D("CommandLine", "m.exe sekurlsa::x"))),
	    "Process Create: (rendered)", "" },
	{ REC(SYSMON, "1", ED(D("CommandLine", "m.exe"))),
	    "Process Create: sekurlsa::x", "mimikatz " },
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

static struct soc_event ev;
static struct winlog_stats st;

static void
make(const char *xml, const char *rendered)
{
	soc_event_reset(&ev);
	CHECK_INT(winlog_xml_parse(xml, strlen(xml), &ev, &st), 0);
	winlog_ecs(&ev);
	if (rendered != NULL)
		soc_event_set_cstr(&ev, SOC_F_MESSAGE, rendered);
	winlog_message(&ev);
}

static bool
msg_is(const char *want)
{
	size_t n;
	const char *s = soc_event_str(&ev, SOC_F_MESSAGE, &n);

	return s != NULL && n == strlen(want) && memcmp(s, want, n) == 0;
}

/* The message: values one a line, "-" and empty ones left out; none
 * without values; bounded, whole values only, the event never cut. */
static void
test_message(struct ruleset *rs, struct rs_scratch *s)
{
	char *xml, *p, got[256] = "";
	size_t n;
	const char *m;

	make(REC(SECURITY, "4624", ED(D("TargetUserName", "an")
	    D("IpAddress", "-") D("Empty", "") D("LogonType", "10"))), NULL);
	CHECK(msg_is("an\n10"));
	make(REC(SECURITY, "1102", ""), NULL);
	CHECK(!soc_event_has(&ev, SOC_F_MESSAGE));

	/* 40 values of 200 bytes, the keyword in the last: past the bound */
	if ((xml = malloc(16384)) == NULL)
		return;
	p = xml + sprintf(xml, "<Event><System><Provider Name=\"P\"/>"
	    "<EventID>1</EventID><Channel>Application</Channel></System>"
	    "<EventData>");
	for (int i = 0; i < 40; i++) {
		p += sprintf(p, "<Data Name=\"v%d\">", i);
		memset(p, 'a' + i % 26, 200);
		if (i == 39)
			memcpy(p + 10, "sekurlsa::", 10);
		p += 200;
		p += sprintf(p, "</Data>");
	}
	sprintf(p, "</EventData></Event>");
	make(xml, NULL);
	free(xml);
	m = soc_event_str(&ev, SOC_F_MESSAGE, &n);
	CHECK(m != NULL && n <= WINLOG_MESSAGE_MAX && n >= WINLOG_MESSAGE_MAX -
	    201);
	CHECK(m != NULL && n % 201 == 200);	/* whole values */
	CHECK(!(ev.flags & SOC_EV_TRUNCATED));
	ruleset_match(rs, s, &ev, on_title, got);
	CHECK_STR(got, "");
}

int
main(void)
{
	char dir[] = "/tmp/test-winlog-keywords.XXXXXX", path[512];
	const char *dirs[1] = { dir };
	struct ruleset *rs;
	struct rs_scratch *s;
	size_t nerr = 0;
	FILE *f;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/k.yml", dir);
	if ((f = fopen(path, "w")) == NULL)
		return 1;
	fputs(rules, f);
	fclose(f);
	rs = ruleset_load(dirs, 1, MAPPING, on_err, NULL, &nerr);
	fx_rmtree(dir);
	CHECK(rs != NULL && nerr == 0 && ruleset_count(rs) == 2);
	if (rs == NULL)
		return check_done();
	s = rs_scratch_new(rs);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char got[256] = "";

		make(cases[i].xml, cases[i].rendered);
		ruleset_match(rs, s, &ev, on_title, got);
		if (strcmp(got, cases[i].want) != 0)
			fprintf(stderr, "case %zu\n", i);
		CHECK_STR(got, cases[i].want);
	}
	test_message(rs, s);
	rs_scratch_free(s);
	ruleset_free(rs);
	return check_done();
}
