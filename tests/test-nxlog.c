/*
 * NXLog CE's JSON normalizer (sensor/log-nxlog.c): one Sysmon record as
 * NXLog ships it gives the same event as its XML through the EVTX
 * normalizer; the time rule (a zoned stamp or UtcTime before the
 * zoneless EventTime, which is read in the source's zone); what is
 * refused with a reason (nesting 10,000 deep, invalid UTF-8, broken
 * JSON) and what is skipped and counted (a 64 KiB name, nested values).
 * Also the JSON event reader: a name past its path limit is skipped and
 * counted, no longer failing the event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "soc/json.h"
#include "logparse.h"
#include "nxlog.h"
#include "winlog.h"

static struct soc_event ev, ev2;
static const char *why;

static struct logparse_ctx ctx = {
	.now_ns = 1000000000,
	.tz_offset_sec = 7 * 3600,
};

static int
nx(const char *s)
{
	soc_event_reset(&ev);
	why = NULL;
	return nxlog_json_parse(&ctx, s, strlen(s), &ev, &why);
}

static const char *
str(int f)
{
	static char buf[512];
	size_t n;
	const char *s = soc_event_str(&ev, f, &n);

	if (s == NULL)
		return "(absent)";
	snprintf(buf, sizeof(buf), "%.*s", (int)n, s);
	return buf;
}

static int
ed(const char *name)
{
	char full[256];

	snprintf(full, sizeof(full), "winlog.event_data.%s", name);
	return soc_field_lookup(full, strlen(full));
}

/* The same Sysmon 1 record: its XML, and NXLog's JSON of it. */
static const char pair_xml[] =
    "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">"
    "<System><Provider Name=\"Microsoft-Windows-Sysmon\" "
    "Guid=\"{5770385F-C22A-43E0-BF4C-06F5698FFBD9}\"/>"
    "<EventID>1</EventID><Version>5</Version><Level>4</Level>"
    "<Task>1</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords>"
    "<TimeCreated SystemTime=\"2020-09-21T23:26:20.869Z\"/>"
    "<EventRecordID>3227632</EventRecordID><Correlation/>"
    "<Execution ProcessID=\"3172\" ThreadID=\"4048\"/>"
    "<Channel>Microsoft-Windows-Sysmon/Operational</Channel>"
    "<Computer>WORKSTATION5.theshire.local</Computer>"
    "<Security UserID=\"S-1-5-18\"/></System><EventData>"
    "<Data Name=\"RuleName\">-</Data>"
    "<Data Name=\"UtcTime\">2020-09-21 23:26:20.869</Data>"
    "<Data Name=\"ProcessGuid\">{b34bc01c-369c-5f69-7901-000000000900}</Data>"
    "<Data Name=\"ProcessId\">7460</Data>"
    "<Data Name=\"Image\">C:\\Windows\\System32\\net.exe</Data>"
    "<Data Name=\"CommandLine\">\"C:\\windows\\system32\\net.exe\" user</Data>"
    "<Data Name=\"User\">THESHIRE\\pgustavo</Data>"
    "<Data Name=\"Hashes\">SHA1=5B9EA3C45A11D4AEB1B1AC0F72C4C19308FC7D0B,"
    "MD5=A63DF9A6E9098CC189F2A3EFC37600F6</Data>"
    "<Data Name=\"ParentProcessId\">7456</Data>"
    "<Data Name=\"ParentImage\">C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe</Data>"
    "</EventData></Event>";

static const char pair_json[] =
    "{\"EventTime\":\"2020-09-21 19:26:20\",\"Hostname\":"
    "\"WORKSTATION5.theshire.local\",\"Keywords\":-9223372036854775808,"
    "\"EventType\":\"INFO\",\"SeverityValue\":2,\"Severity\":\"INFO\","
    "\"EventID\":1,\"SourceName\":\"Microsoft-Windows-Sysmon\","
    "\"ProviderGuid\":\"{5770385F-C22A-43E0-BF4C-06F5698FFBD9}\","
    "\"Version\":5,\"Task\":1,\"OpcodeValue\":0,\"RecordNumber\":3227632,"
    "\"ExecutionProcessID\":3172,\"ThreadID\":4048,"
    "\"Channel\":\"Microsoft-Windows-Sysmon/Operational\","
    "\"Domain\":\"NT AUTHORITY\",\"AccountName\":\"SYSTEM\","
    "\"UserID\":\"S-1-5-18\",\"AccountType\":\"User\","
    "\"Category\":\"Process Create (rule: ProcessCreate)\","
    "\"Opcode\":\"Info\",\"RuleName\":\"-\","
    "\"UtcTime\":\"2020-09-21 23:26:20.869\","
    "\"ProcessGuid\":\"{b34bc01c-369c-5f69-7901-000000000900}\","
    "\"ProcessId\":\"7460\","
    "\"Image\":\"C:\\\\Windows\\\\System32\\\\net.exe\","
    "\"CommandLine\":\"\\\"C:\\\\windows\\\\system32\\\\net.exe\\\" user\","
    "\"User\":\"THESHIRE\\\\pgustavo\","
    "\"Hashes\":\"SHA1=5B9EA3C45A11D4AEB1B1AC0F72C4C19308FC7D0B,"
    "MD5=A63DF9A6E9098CC189F2A3EFC37600F6\","
    "\"ParentProcessId\":\"7456\","
    "\"ParentImage\":\"C:\\\\Windows\\\\System32\\\\WindowsPowerShell\\\\v1.0\\\\powershell.exe\","
    "\"EventReceivedTime\":\"2020-09-21 19:26:21\","
    "\"SourceModuleName\":\"eventlog\",\"SourceModuleType\":\"im_msvistalog\","
    "\"@timestamp\":\"2020-09-21T23:26:21.517Z\",\"@version\":\"1\","
    "\"host\":\"wec.internal.cloudapp.net\",\"port\":64545,"
    "\"tags\":[\"mordorDataset\"]}";

static void
test_pair(void)
{
	struct winlog_stats st;
	struct soc_sbuf a, b;

	memset(&st, 0, sizeof(st));
	soc_event_reset(&ev2);
	CHECK_INT(winlog_xml_parse(pair_xml, strlen(pair_xml), &ev2, &st), 0);
	winlog_ecs(&ev2);
	winlog_message(&ev2);		/* as sensor/evtx.c */
	CHECK_INT(nx(pair_json), 0);
	soc_sbuf_init(&a);
	soc_sbuf_init(&b);
	soc_json_event(&a, &ev2);
	soc_json_event(&b, &ev);
	soc_sbuf_add(&a, "", 0);
	soc_sbuf_add(&b, "", 0);
	CHECK_STR(b.data, a.data);
	CHECK_STR(str(SOC_F_EVENT_CODE), "1");
	CHECK_STR(str(SOC_F_HOST_NAME), "WORKSTATION5.theshire.local");
	CHECK_STR(str(SOC_F_PROCESS_EXE), "C:\\Windows\\System32\\net.exe");
	CHECK_STR(str(ed("CommandLine")), "\"C:\\windows\\system32\\net.exe\" user");
	soc_sbuf_free(&a);
	soc_sbuf_free(&b);
}

static void
test_time(void)
{
	/* UtcTime before the zoneless EventTime */
	CHECK_INT(nx(pair_json), 0);
	CHECK_INT(ev.ts, 1600730780869000000LL);
	/* a zoned TimeCreated first of all */
	CHECK_INT(nx("{\"EventID\":1,\"TimeCreated\":\"2020-11-02T04:12:58.211Z\","
	    "\"@timestamp\":\"2020-11-02T05:00:00Z\",\"UtcTime\":"
	    "\"2020-11-02 04:12:57.000\"}"), 0);
	CHECK_INT(ev.ts, 1604290378211000000LL);
	/* a zoned @timestamp before the zoneless EventTime */
	CHECK_INT(nx("{\"EventID\":4624,\"EventTime\":\"2020-09-21 19:26:05\","
	    "\"@timestamp\":\"2020-09-21T23:26:07.434Z\"}"), 0);
	CHECK_INT(ev.ts, 1600730767434000000LL);
	/* EventTime alone: the configured zone (UTC+7) */
	CHECK_INT(nx("{\"EventID\":4624,\"EventTime\":\"2020-09-21 19:26:05\"}"), 0);
	CHECK_INT(ev.ts, 1600691165000000000LL);
	/* ... or the zone syslog.zones gives its Hostname */
	{
		struct logzones *z = logzones_new();
		char err[128];

		CHECK_INT(logzones_add(z, "ws*.so.local", -4 * 3600, err,
		    sizeof(err)), 0);
		ctx.zones = z;
		CHECK_INT(nx("{\"EventID\":4624,\"Hostname\":\"ws1.so.local\","
		    "\"EventTime\":\"2020-09-21 19:26:05\"}"), 0);
		CHECK_INT(ev.ts, 1600730765000000000LL);
		ctx.zones = NULL;
		logzones_free(z);
	}
	/* no stamp: the caller's time stays */
	soc_event_reset(&ev);
	ev.ts = 42;
	CHECK_INT(nxlog_json_parse(&ctx, "{\"EventID\":1}", 13, &ev, &why), 0);
	CHECK_INT(ev.ts, 42);
}

static void
test_fields(void)
{
	CHECK_INT(nx("{\"EventID\":4625,\"Channel\":\"Security\",\"SourceName\":"
	    "\"Microsoft-Windows-Security-Auditing\",\"Keywords\":"
	    "\"0x8010000000000000\",\"Level\":\"0\",\"TargetUserName\":\"bob\","
	    "\"EventType\":\"AUDIT_FAILURE\",\"Message\":\"An account failed"
	    " to log on.\\r\\n\\tx\",\"Empty\":\"\",\"N\":null,\"T\":true}"), 0);
	CHECK_STR(str(SOC_F_WINLOG_CHANNEL), "Security");
	CHECK_STR(str(SOC_F_EVENT_OUTCOME), "failure");
	CHECK_STR(str(SOC_F_LOG_LEVEL), "information");
	CHECK_STR(str(ed("TargetUserName")), "bob");
	CHECK_STR(str(SOC_F_USER_NAME), "bob");
	CHECK_STR(str(SOC_F_MESSAGE), "An account failed to log on.\r\n\tx");
	CHECK_STR(str(ed("Empty")), "");
	CHECK_STR(str(ed("T")), "true");
	CHECK_INT(ed("N") == SOC_F_NONE || !soc_event_has(&ev, ed("N")), 1);
	CHECK_INT(ed("EventType") == SOC_F_NONE ||
	    !soc_event_has(&ev, ed("EventType")), 1);
	/* Sysmon's own EventType is EventData */
	CHECK_INT(nx("{\"EventID\":13,\"EventType\":\"SetValue\"}"), 0);
	CHECK_STR(str(ed("EventType")), "SetValue");
	CHECK_INT(nxlog_looks("  {\"EventID\":1,\"Channel\":\"A\"}", 29), 1);
	CHECK_INT(nxlog_looks("{\"EventID\":1}", 13), 0);
	CHECK_INT(nxlog_looks("{\"a\":1}", 7), 0);
	CHECK_INT(nxlog_looks("x{\"EventID\":1}", 14), 0);
}

static void
test_hostile(void)
{
	static char big[70000], deep[30000];
	struct nxlog_stats before, after;
	size_t n = 0;

	/* a 64 KiB name: skipped and counted, the rest kept */
	nxlog_stats_get(&before);
	n = (size_t)snprintf(big, sizeof(big), "{\"EventID\":7,\"");
	memset(big + n, 'A', 65536);
	n += 65536;
	snprintf(big + n, sizeof(big) - n, "\":\"v\",\"Channel\":\"C\"}");
	CHECK_INT(nx(big), 0);
	CHECK_STR(str(SOC_F_WINLOG_CHANNEL), "C");
	nxlog_stats_get(&after);
	CHECK_INT(after.names_skipped - before.names_skipped, 1);
	/* a name too long for a dynamic field: the same */
	CHECK_INT(nx("{\"EventID\":7,\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\":\"v\"}"), 0);
	/* nested 10,000 deep: refused with the reason */
	n = (size_t)snprintf(deep, sizeof(deep), "{\"EventID\":1,\"x\":");
	for (int i = 0; i < 10000; i++)
		deep[n++] = '[';
	for (int i = 0; i < 10000; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n] = '\0';
	CHECK_INT(nx(deep), -1);
	CHECK_STR(why, "nested too deeply");
	/* shallow nesting: skipped, counted */
	nxlog_stats_get(&before);
	CHECK_INT(nx("{\"EventID\":1,\"tags\":[\"a\",{\"b\":[1,2]}],\"C\":\"d\"}"), 0);
	CHECK_STR(str(ed("C")), "d");
	nxlog_stats_get(&after);
	CHECK_INT(after.nested_skipped - before.nested_skipped, 1);
	/* invalid UTF-8, NUL, lone surrogate, broken JSON: refused */
	CHECK_INT(nx("{\"EventID\":1,\"a\":\"\xff\"}"), -1);
	CHECK_STR(why, "string is not valid UTF-8");
	CHECK_INT(nx("{\"EventID\":1,\"a\":\"\\u0000\"}"), -1);
	CHECK_INT(nx("{\"EventID\":1,\"a\":\"\\ud800\"}"), -1);
	CHECK_INT(nx("{\"EventID\":1,\"a\":\"x"), -1);
	CHECK_INT(nx("{\"EventID\":1,\"a\":[}"), -1);
	CHECK_INT(nx("{\"EventID\":1,}"), -1);
	CHECK_INT(nx("{\"EventID\":1} x"), -1);
	CHECK_INT(nx("{\"EventID\":1,\"a\":@}"), -1);
	CHECK_INT(nx("["), -1);
	CHECK_INT(nx(""), -1);
}

/* lib/json-read.c: a name past the path limit is skipped, counted. */
static void
test_json_read_long_name(void)
{
	static char in[1200];
	unsigned unknown = 0;
	size_t n;

	n = (size_t)snprintf(in, sizeof(in), "{\"message\":\"m\",\"");
	memset(in + n, 'k', 300);
	n += 300;
	snprintf(in + n, sizeof(in) - n, "\":{\"a\":[\"x\"],\"b\":true},"
	    "\"host\":{\"name\":\"h\"}}");
	CHECK_INT(soc_json_read_event(in, strlen(in), &ev, &why, &unknown), 0);
	CHECK_INT(unknown, 1);
	CHECK_STR(str(SOC_F_HOST_NAME), "h");
	CHECK_STR(str(SOC_F_MESSAGE), "m");
	/* under a nested object whose path runs past the limit */
	n = (size_t)snprintf(in, sizeof(in), "{\"winlog\":{\"event_data\":{\"");
	memset(in + n, 'k', 250);
	n += 250;
	snprintf(in + n, sizeof(in) - n, "\":\"v\",\"ok\":\"w\"}}}");
	CHECK_INT(soc_json_read_event(in, strlen(in), &ev, &why, &unknown), 0);
	CHECK_INT(unknown, 1);
	CHECK_STR(str(ed("ok")), "w");
}

int
main(void)
{
	test_pair();
	test_time();
	test_fields();
	test_hostile();
	test_json_read_long_name();
	return check_done();
}
