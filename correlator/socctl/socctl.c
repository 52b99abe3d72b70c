/*
 * socctl: the analyst's and administrator's tool.  It manages agencies,
 * sensor keys and enrolment, lists and works incidents (the state machine
 * and audit trail live in the store), prints the 4-layer coverage report
 * and checks rule sets with the same engine the correlator runs.
 *
 * Commands are data: the cmds[] table holds each one's name (one or two
 * words), handler, database mode, usage and help; main() finds the entry,
 * handlers parse their options from an optspec table.  This file holds
 * main, the global options, the table and --help; the helpers every
 * handler uses (option parsing, the database) are socctl-ctx.c's, the
 * handlers live in one file per command family and the output in
 * socctl-out.c (see socctl.h).
 * Output is either for people (aligned columns measured in display
 * characters, so Vietnamese agency names line up; local times and ages)
 * or, with --json, exactly one JSON document, or with --csv, RFC 4180
 * CSV, on stdout.  Text that came from the network (rule titles, group
 * keys, event fields) has its control characters replaced before it
 * reaches a terminal.
 *
 * Exit status: 0 on success, 1 on any error, with a message on stderr
 * that says what to do next.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "soc-config.h"
#include "soc/json.h"
#include "soc/time.h"
#include "soc/util.h"
#include "store.h"
#include "socctl.h"

#define DEFAULT_DB	"/var/lib/soc/soc.db"
#define DEFAULT_TZ	"Asia/Ho_Chi_Minh"
#define DEFAULT_TZ_RULE	"<+07>-7"	/* the same without tzdata */

/* ---- the command table ---- */

static int	cmd_help(struct ctx *, int, char **);

#define INCIDENTS_USAGE \
	"[--status S] [--agency CODE]... [--min-severity L] [--since DUR|DATE]" \
	" [--until DATE] [--ip ADDR|CIDR] [--rule ID|TEXT] [--category C]" \
	" [--country CC] [--assignee NAME] [--text WORDS] [--overdue]" \
	" [--sort updated|created|last_seen|severity] [--limit N]" \
	" [--json | --csv]"

static const struct cmd cmds[] = {
	{ "keygen", cmd_keygen, DB_NONE, 0, 0, "--out NAME",
	  "Write a CURVE key pair: NAME.key (secret, mode 0600) and NAME.pub\n"
	  "(public, Z85).  Existing files are never overwritten." },
	{ "agency add", cmd_agency_add, DB_CREATE, 0, 0,
	  "CODE --name NAME [--parent CODE]",
	  "Add an agency.  CODE is short (letters, digits, . _ -); NAME is\n"
	  "UTF-8.  Creates the database if it does not exist yet." },
	{ "agency list", cmd_agency_list, DB_READ, 0, 0,
	  "[--tree] [--json | --csv]",
	  "List agencies with their active sensors and open incidents.  --tree\n"
	  "puts each agency under its parent (indented; in JSON, nested in\n"
	  "\"children\")." },
	{ "agencies", cmd_agency_list, DB_READ, 0, 1, "[--tree] [--json | --csv]",
	  "Same as `agency list`." },
	{ "agency rename", cmd_agency_rename, DB_WRITE, 0, 0, "CODE --name NAME",
	  "Give an agency a new name (its code stays)." },
	{ "agency move", cmd_agency_move, DB_WRITE, 0, 0,
	  "CODE (--parent CODE | --root)",
	  "Put an agency under another parent, or at the root.  A move that\n"
	  "would put an agency below itself is refused." },
	{ "agency merge", cmd_agency_merge, DB_WRITE, 0, 0, "CODE --into CODE",
	  "Merge an agency into another: its sensors, systems, incidents,\n"
	  "responders, assessments and sub-agencies move to the new code and\n"
	  "the old code is removed, in one audited transaction." },
	{ "agency set", cmd_agency_set, DB_WRITE, 0, 0,
	  "CODE --computers N|none",
	  "Declare how many computers an agency has: layer 2 of the coverage\n"
	  "report then measures how many of them report and are protected." },
	{ "endpoints", cmd_endpoints, DB_READ, 0, 0,
	  "[--agency CODE]... [--stale DUR] [--unprotected] [--json | --csv]",
	  "The computers that send events (Windows, Linux through auditd or\n"
	  "syslog), per agency of the sensor that sent them: OS, last seen,\n"
	  "channels, events per day and malware protection (Defender, ClamAV).\n"
	  "--agency: that agency and every agency below it (repeat it for\n"
	  "several); --stale: only those silent for longer than DUR;\n"
	  "--unprotected: only those not protected now." },
	{ "endpoint show", cmd_endpoint_show, DB_READ, 0, 0,
	  "HOST [--agency CODE] [--json]",
	  "One endpoint: first and last seen, channels, events per day, its\n"
	  "protection state and latest detection." },
	{ "system add", cmd_system_add, DB_WRITE, 0, 0,
	  "AGENCY CODE --name NAME --level 1..5",
	  "Record an information system of an agency with its security level\n"
	  "(1-5).  Incidents on a level 4 or 5 system are raised by the level\n"
	  "policy; the agency's highest level sets how long an assessment\n"
	  "without its own expiry stays valid." },
	{ "system list", cmd_system_list, DB_READ, 0, 0,
	  "[--agency CODE] [--json | --csv]",
	  "List information systems with their level and sensors." },
	{ "level list", cmd_level_list, DB_READ, 0, 0, "[--json | --csv]",
	  "The policy per security level: severity raise (steps, capped at\n"
	  "critical), minimum severity, assessment validity in months." },
	{ "level set", cmd_level_set, DB_WRITE, 0, 0,
	  "LEVEL [--raise N] [--min-severity L] [--assessment-months N]",
	  "Change the policy of one security level." },
	{ "deadline list", cmd_deadline_list, DB_READ, 0, 0, "[--json | --csv]",
	  "Reporting deadlines per severity: initial notice and details after\n"
	  "the incident opened, final report after it was resolved." },
	{ "deadline set", cmd_deadline_set, DB_WRITE, 0, 0,
	  "SEVERITY [--initial DUR] [--details DUR] [--final DUR]",
	  "Change the deadlines of one severity (DUR: 2s, 24h, 5d; none)." },
	{ "sensor enroll", cmd_sensor_enroll, DB_WRITE, 0, 0,
	  "NAME --agency CODE --key FILE|Z85 [--system CODE] [--role sensor|province]",
	  "Enroll a sensor's public key (a .pub file from `socctl keygen`, or\n"
	  "the 40-character Z85 text) for an agency.  The correlator serves\n"
	  "only enrolled, unrevoked keys; the agency of every event is taken\n"
	  "from this enrolment.  --system names the agency's information\n"
	  "system it watches: its incidents carry that system and level.\n"
	  "--role: a sensor sends events, a province (a provincial\n"
	  "correlator, on a national database) sends alerts; without it the\n"
	  "key's first batch fixes its role." },
	{ "sensor revoke", cmd_sensor_revoke, DB_WRITE, 0, 0, "NAME",
	  "Revoke a sensor: its key gets no service from now on." },
	{ "sensor reset-seq", cmd_sensor_reset_seq, DB_WRITE, 0, 0, "NAME",
	  "Forget a sensor's last sequence number (audited), after its clock\n"
	  "jumped far ahead and back: else its batches count as resends." },
	{ "sensors", cmd_sensors, DB_READ, 0, 0,
	  "[--agency CODE] [--json | --csv]",
	  "List sensors: state (live: heard within 5m; silent; never heard;\n"
	  "revoked), heartbeat and last batch age, events, batches and the\n"
	  "last committed sequence number." },
	{ "sensor list", cmd_sensors, DB_READ, 0, 1,
	  "[--agency CODE] [--json | --csv]",
	  "Same as `sensors`." },
	{ "incidents", cmd_incidents, DB_READ, 0, 0, INCIDENTS_USAGE,
	  "List incidents, most recently updated first.  S: new, acknowledged,\n"
	  "investigating, resolved, false_positive, open (the first three),\n"
	  "closed (the last two) or all (default).  --agency: that agency and\n"
	  "every agency below it (repeat it for several).  L: informational,\n"
	  "low, medium, high, critical or 0-4.  --since: last seen since a\n"
	  "duration ago (15m, 2h, 7d) or a date; --until: first seen before a\n"
	  "date (dates are read in the --tz zone).  --ip: an address or CIDR,\n"
	  "source or destination in the group key or evidence.  --rule: a rule\n"
	  "id or part of its title.  --country: the GeoIP country of a source\n"
	  "address.  --text: words in the title, group key or evidence.\n"
	  "--overdue: a reporting deadline passed and not met." },
	{ "incident list", cmd_incidents, DB_READ, 0, 1, INCIDENTS_USAGE,
	  "Same as `incidents`." },
	{ "incident show", cmd_incident_show, DB_READ, 0, 0,
	  "ID [--context [DUR]] [--json]",
	  "Show one incident with its evidence events and audit trail.\n"
	  "--context adds the archived events of the same source address (or\n"
	  "host) in its agency from DUR (default 1h) before it to DUR after." },
	{ "events", cmd_events, DB_READ, 0, 0,
	  "[--since T] [--until T] [--agency CODE]... [--ip ADDR|CIDR]\n"
	  "       [--domain NAME] [--user NAME] [--host NAME] [--hash H]\n"
	  "       [--text WORDS] [--dataset D] [--limit N] [--json | --csv]",
	  "Search the archive of every applied event, newest first (--limit,\n"
	  "default 100).  --ip matches source or destination in a CIDR block;\n"
	  "--domain the name and its subdomains; --text all words, case-\n"
	  "insensitively, anywhere in the event's JSON.  --json prints the ECS\n"
	  "events themselves.  Segments whose index cannot match are skipped." },
	{ "hunt", cmd_hunt, DB_READ, 0, 0,
	  "RULE.yml|DIR... [--since T] [--until T] [--agency CODE]...\n"
	  "       [--raise] [--json]",
	  "Run Sigma rules, correlations included, over the archive, oldest\n"
	  "event first, and print the alerts with their agency.  Correlation\n"
	  "windows are per agency, as live.  --agency takes the agency and those\n"
	  "below it.  --raise also opens or updates incidents (sensor hunt, tag\n"
	  "soc.hunt, the events' own times); without it nothing is written." },
	{ "incident ack", cmd_incident_move, DB_WRITE, STORE_ST_ACKNOWLEDGED, 0,
	  "ID --by NAME [--note TEXT]",
	  "Acknowledge a new incident." },
	{ "incident investigate", cmd_incident_move, DB_WRITE,
	  STORE_ST_INVESTIGATING, 0, "ID --by NAME [--note TEXT]",
	  "Mark an incident as under investigation." },
	{ "incident resolve", cmd_incident_move, DB_WRITE, STORE_ST_RESOLVED, 0,
	  "ID --by NAME [--note TEXT]",
	  "Close an incident as resolved.  A new hit on the same rule and group\n"
	  "within reopen_within (24h) reopens it; later, a new incident opens." },
	{ "incident false-positive", cmd_incident_move, DB_WRITE,
	  STORE_ST_FALSE_POSITIVE, 0, "ID --by NAME [--note TEXT]",
	  "Close an incident as a false positive." },
	{ "incident reopen", cmd_incident_move, DB_WRITE, STORE_ST_NEW, 0,
	  "ID --by NAME [--note TEXT]",
	  "Reopen a resolved or false_positive incident: back to new, audited\n"
	  "as reopened.  Refused for an open incident, and while another\n"
	  "incident of the same rule, agency and group key is open." },
	{ "incident assign", cmd_incident_assign, DB_WRITE, 0, 0,
	  "ID --to NAME --by NAME [--note TEXT]",
	  "Assign an open incident to an analyst (--to '' unassigns)." },
	{ "incident report", cmd_incident_report, DB_WRITE, 0, 0,
	  "ID --stage initial|details|final --by NAME [--note TEXT]",
	  "Record that a reporting stage was met (see `socctl deadline list`)." },
	{ "incident note", cmd_incident_note, DB_WRITE, 0, 0,
	  "ID --by NAME --note TEXT",
	  "Add a note to an incident's audit trail." },
	{ "audit", cmd_audit, DB_READ, 0, 0, "[--incident ID] [--json | --csv]",
	  "Show the append-only audit trail (all of it, or one incident's)." },
	{ "coverage", cmd_coverage, DB_READ, 0, 0,
	  "[--heartbeat DUR] [--ack-within DUR] [--json | --csv]",
	  "The 4-layer coverage report per agency (on-site force, professional\n"
	  "monitoring, independent assessment, national connection: ok,\n"
	  "degraded or missing, with the reason) and the share of agencies\n"
	  "fully covered.  A sensor counts as live if heard within --heartbeat\n"
	  "(5m); new incidents older than --ack-within (24h, 0 = off) degrade\n"
	  "layer 1.  Layer 4 is judged from the forwarder's state (see\n"
	  "`forward status`).  On a national database each province's\n"
	  "agencies follow, as its last coverage record gave them." },
	{ "forward status", cmd_forward_status, DB_READ, 0, 0, "[--json]",
	  "The national forwarder: endpoint, connected or not, last ack, records\n"
	  "sent and acked, pending (and the oldest one's age), dropped by the\n"
	  "forward.max_pending bound; CEF output and its cursor." },
	{ "stats", cmd_stats, DB_READ, 0, 0, "[--json | --csv]",
	  "Totals: agencies, sensors, events received and batches (per\n"
	  "sensor), incidents by status and severity, alerts forwarded, and\n"
	  "the correlator's correlation windows per agency: held now and\n"
	  "evicted since it started (written every 10 s)." },
	{ "report", cmd_report, DB_READ, 0, 0,
	  "[--since DUR|DATE] [--until DATE] [--agency CODE]"
	  " [--json | --csv | --html FILE]",
	  "The leadership report for a period (--since, default 30d): per\n"
	  "agency, its figures rolled up over the agencies below it, and per\n"
	  "category: incidents opened by severity, mean time to acknowledge\n"
	  "and to resolve (from the audit trail), reporting deadlines met and\n"
	  "missed, and the share of agencies fully covered (layer 4 from the\n"
	  "forwarder's state, as `coverage`).  --html writes one self-contained\n"
	  "page (inline charts, no scripts) to FILE." },
	{ "responder add", cmd_responder_add, DB_WRITE, 0, 0,
	  "AGENCY (NAME | --name NAME) [--contact C] [--email ADDR]\n"
	  "  [--webhook URL] [--command CMD] [--template NAME]",
	  "Put an agency's on-site responder on record (coverage layer 1),\n"
	  "with the contacts notifications go to (docs/NOTIFY.md): an e-mail\n"
	  "address, an http(s) webhook, a command given the incident as JSON\n"
	  "on stdin.  A contact with a newline or control byte is refused.\n"
	  "--template: the webhook's body, json, slack, mattermost, telegram\n"
	  "or custom (notify.webhook_template); unset: the correlator's." },
	{ "responder set", cmd_responder_set, DB_WRITE, 0, 0,
	  "AGENCY NAME [--email ADDR] [--webhook URL] [--command CMD]\n"
	  "  [--template NAME]",
	  "Change a responder's contacts or webhook template (\"\" clears\n"
	  "one; the others are kept)." },
	{ "responder list", cmd_responder_list, DB_READ, 0, 0,
	  "[--agency CODE] [--json | --csv]", "List responders on record." },
	{ "notify status", cmd_notify_status, DB_READ, 0, 0, "[--json]",
	  "The correlator's notification sender: SMTP server and From, routing,\n"
	  "outbox rows by state (pending, retrying, sent, given up), the oldest\n"
	  "pending, attempts sent and failed, escalations, the latest errors." },
	{ "notify test", cmd_notify_test, DB_WRITE, 0, 0,
	  "RESPONDER [--wait DUR]",
	  "Queue a test notification to each contact of RESPONDER (AGENCY/NAME,\n"
	  "or a NAME only one agency has) and wait (default 30s; 0: do not) for\n"
	  "the running correlator's first attempt; exit 0 when all were sent." },
	{ "assessment add", cmd_assessment_add, DB_WRITE, 0, 0,
	  "AGENCY --by ASSESSOR [--expires DATE|DUR] [--at DATE]",
	  "Record an independent assessment (coverage layer 3), made at --at\n"
	  "(default now; not in the future) and valid until --expires: a date\n"
	  "(2027-11-27) or a duration from the assessment (365d, 1y).  Without\n"
	  "--expires it is valid as long as the level policy gives the\n"
	  "agency's highest system level (24, 12 or 6 months by default)." },
	{ "assessment list", cmd_assessment_list, DB_READ, 0, 0,
	  "[--agency CODE] [--json | --csv]", "List assessments on record." },
	{ "rules check", cmd_rules_check, DB_NONE, 0, 0,
	  "DIR... [--mapping FILE] [--min-status experimental|test|stable|any]",
	  "Load the rule sets as the correlator would and report each rule it\n"
	  "refuses as file:line: reason, the rules skipped below --min-status\n"
	  "(default test, as rules.min_status) and the refusals in partial\n"
	  "directories (sigmahq/ or with a .partial file), which the correlator\n"
	  "loads without.  Exit 1 if any rule elsewhere was refused." },
	{ "rules test", cmd_rules_test, DB_NONE, 0, 0,
	  "DIR... (--log FILE | --pcap FILE | --events FILE.jsonl | --evtx FILE...)\n"
	  "    [--mapping FILE] [--json]",
	  "Run a log file, a capture, JSON-lines events or Windows EVTX files\n"
	  "(every file after --evtx up to the next option) through the sensor's\n"
	  "decoders and the correlator's engine and print every alert the rules\n"
	  "raise (windows on event time, as live).  No database is touched." },
	{ "rules update", cmd_rules_update, DB_NONE, 0, 0,
	  "[--package FILE|URL] [--sha256 HEX] [--config FILE] [--rules DIR]\n"
	  "    [--mapping FILE] [--dry-run] [--no-reload] [--json]",
	  "Bring a SigmaHQ release package (a zip of rule files under rules*/)\n"
	  "into RULES/sigmahq, as suricata-update does: the package is\n"
	  "update.url of the correlator's config (--config, $SOC_CONFIG, else\n"
	  "/etc/soc/correlator.yml) or --package, a file, file:// or http(s)\n"
	  "URL; its SHA-256 must be update.sha256 (or --sha256; required for\n"
	  "http(s)).  Keeps the rules that load with the correlator's engine\n"
	  "and mapping (refusals by log source counted, others listed), with\n"
	  "their author and the package's LICENSE, replaces the directory in\n"
	  "one rename and prints what was added, removed and modified.\n"
	  "Then reloads the correlator: update.reload_command, else SIGHUP to\n"
	  "the soc-correlator in pid_file.  --dry-run writes nothing." },
	{ "intel import", cmd_intel_import, DB_CREATE, 0, 0,
	  "FILE|DIR [--source NAME] [--expire DUR] [--force]",
	  "Replace the indicator set --source (default: the file's name) with\n"
	  "the indicators of a MISP feed directory (manifest.json and one\n"
	  "<uuid>.json per event), a STIX 2.1 bundle (.json), a typed list\n"
	  "(.txt: TYPE VALUE per line, TYPE one of ip cidr domain host url md5\n"
	  "sha1 sha256 email ja4; # comments) or a directory of bundles and\n"
	  "lists.  --expire bounds each indicator's life; --force accepts broad\n"
	  "ones (a block wider than /16, a top-level domain).  A file that does\n"
	  "not parse refuses the import whole; single indicators refused are\n"
	  "named with their reason.  A running correlator matches the new set\n"
	  "within seconds." },
	{ "intel list", cmd_intel_list, DB_READ, 0, 0,
	  "[--source NAME] [--json | --csv]", "List indicators." },
	{ "intel show", cmd_intel_show, DB_READ, 0, 0, "VALUE [--json]",
	  "Show the indicator VALUE in every set that holds it and, on a national\n"
	  "database, the provinces and agencies whose incidents saw it, how often\n"
	  "and when (\"sightings\" in --json)." },
	{ "intel sources", cmd_intel_sources, DB_READ, 0, 0, "[--json | --csv]",
	  "List the indicator sets: origin (local, or national for a copy of a\n"
	  "set the national centre pushed down), version, the publisher's\n"
	  "version, indicators, last update, how the last update came (whole\n"
	  "set or changes, records, bytes) and, on the publishing side, how\n"
	  "many provinces acknowledged the version in force (each province's\n"
	  "acknowledged version in --json)." },
	{ "intel check", cmd_intel_check, DB_READ, 0, 0, "VALUE",
	  "Look VALUE up as the correlator would (an address in a block, a\n"
	  "name under a domain): exit 0 and print the indicator, else 1." },
	{ "intel remove", cmd_intel_remove, DB_WRITE, 0, 0,
	  "(--source NAME | VALUE)",
	  "Remove a whole set, or one indicator from every set." },
	{ "help", cmd_help, DB_NONE, 0, 0, "[COMMAND]",
	  "Show the list of commands, or one command's help." },
};
#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

static size_t
words(const char *name)
{
	return strchr(name, ' ') ? 2 : 1;
}

/* Finds the command named by argv's first one or two words. */
static const struct cmd *
cmd_find(int argc, char **argv)
{
	const char *sp;
	size_t i;

	for (i = 0; i < NCMDS; i++) {
		sp = strchr(cmds[i].name, ' ');
		if (sp == NULL) {
			if (strcmp(cmds[i].name, argv[0]) == 0)
				return &cmds[i];
		} else if (argc > 1 && strlen(argv[0]) == (size_t)(sp - cmds[i].name) &&
		    strncmp(cmds[i].name, argv[0], (size_t)(sp - cmds[i].name)) == 0 &&
		    strcmp(sp + 1, argv[1]) == 0)
			return &cmds[i];
	}
	return NULL;
}

/* Lists the commands whose first word is group (all if NULL) on f (just
 * counts them if f is NULL). */
static int
list_cmds(FILE *f, const char *group)
{
	size_t i, glen = group ? strlen(group) : 0;
	int n = 0;

	for (i = 0; i < NCMDS; i++) {
		if (cmds[i].hidden || (group != NULL &&
		    (strncmp(cmds[i].name, group, glen) != 0 ||
		    (cmds[i].name[glen] != ' ' && cmds[i].name[glen] != '\0'))))
			continue;
		if (f != NULL)
			fprintf(f, "  %s %s\n", cmds[i].name, cmds[i].usage);
		n++;
	}
	return n;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: socctl [--db PATH] [--tz ZONE] COMMAND [ARGS...]\n"
	    "       socctl --help | --version | COMMAND --help\n\n"
	    "  --db PATH   the SOC database (default: $SOC_DB, else %s)\n"
	    "  --tz ZONE   the zone times are shown in and dates are read in\n"
	    "              (default: $SOC_TZ, else %s); tables label it\n"
	    "  --utc       the same as --tz UTC\n\n"
	    "commands:\n", DEFAULT_DB, DEFAULT_TZ);
	list_cmds(f, NULL);
	fprintf(f, "\nSee socctl(8) for the details.\n");
}

/* The help of every command of a family ("incident"): its usage and
 * text, indented. */
static void
family_help(FILE *f, const char *group)
{
	size_t i, glen = strlen(group);
	const char *p, *nl;

	fprintf(f, "usage: socctl [--db PATH] %s COMMAND [ARGS...]\n", group);
	for (i = 0; i < NCMDS; i++) {
		if (cmds[i].hidden || strncmp(cmds[i].name, group, glen) != 0 ||
		    (cmds[i].name[glen] != ' ' && cmds[i].name[glen] != '\0'))
			continue;
		fprintf(f, "\n  %s %s\n", cmds[i].name, cmds[i].usage);
		for (p = cmds[i].help; *p != '\0'; p = *nl ? nl + 1 : nl) {
			if ((nl = strchr(p, '\n')) == NULL)
				nl = p + strlen(p);
			fprintf(f, "      %.*s\n", (int)(nl - p), p);
		}
	}
	fprintf(f, "\nSee socctl(8) for the details.\n");
}

static void
cmd_usage(const struct cmd *cmd)
{
	printf("usage: socctl [--db PATH] %s %s\n\n%s\n", cmd->name, cmd->usage,
	    cmd->help);
}

static int
cmd_help(struct ctx *c, int argc, char **argv)
{
	const struct cmd *cmd;

	(void)c;
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	if ((cmd = cmd_find(argc - 1, argv + 1)) != NULL) {
		cmd_usage(cmd);
		return 0;
	}
	if (list_cmds(NULL, argv[1]) > 0) {
		family_help(stdout, argv[1]);
		return 0;
	}
	return errx1("help: no command '%s' (see `socctl --help`)", argv[1]);
}

static int
wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

/*
 * The display and input zone: --tz, else $SOC_TZ, else Vietnam's, never
 * the host's (a server kept on UTC must still say 07:00 for 07:00 in
 * Hanoi).  Put in TZ so localtime_r() and mktime() follow it.  A zone
 * name must exist in the tz database; without tzdata installed the
 * default falls back to its fixed rule (UTC+7, no DST since 1975).
 */
static int
zone_known(const char *tz)
{
	const char *dir = getenv("TZDIR");
	char path[PATH_MAX];
	struct stat sb;

	if (tz[0] == ':')
		tz++;
	if (strcmp(tz, "UTC") == 0 || strcmp(tz, "GMT") == 0 ||
	    strchr(tz, '<') != NULL || strpbrk(tz, "0123456789") != NULL)
		return 1;	/* UTC, or a POSIX rule ("<+07>-7", "ICT-7") */
	if (strstr(tz, "..") != NULL || tz[0] == '\0')
		return 0;
	if (tz[0] == '/')
		return stat(tz, &sb) == 0 && S_ISREG(sb.st_mode);
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir :
	    "/usr/share/zoneinfo", tz);
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int
zone_init(struct ctx *c, const char *opt)
{
	const char *tz = opt;

	if (tz == NULL && c->utc)
		tz = "UTC";
	if (tz == NULL && (tz = getenv("SOC_TZ")) != NULL && *tz == '\0')
		tz = NULL;
	if (tz == NULL) {
		tz = zone_known(DEFAULT_TZ) ? DEFAULT_TZ : DEFAULT_TZ_RULE;
	} else if (!zone_known(tz))
		return errx1("unknown time zone '%s' (a tz database name such as"
		    " Asia/Ho_Chi_Minh or UTC)", tz);
	c->tz = tz;
	if (setenv("TZ", tz, 1) == -1)
		return errx1("setenv TZ: out of memory");
	tzset();
	return 0;
}

static void
actor_init(struct ctx *c)
{
	const char *u = getenv("SUDO_USER");
	struct passwd *pw;

	if ((u == NULL || *u == '\0') && (pw = getpwuid(geteuid())) != NULL)
		u = pw->pw_name;
	snprintf(c->actor, sizeof(c->actor), "%s", u && *u ? u : "unknown");
}

int
main(int argc, char **argv)
{
	static char name[128];
	const struct cmd *cmd;
	const char *tz = NULL;
	struct ctx c;
	int i, ret;

	memset(&c, 0, sizeof(c));
	c.db = getenv("SOC_DB");
	if (c.db == NULL || c.db[0] == '\0')
		c.db = DEFAULT_DB;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("socctl %s (schema %d)\n", SOC_VERSION,
			    STORE_SCHEMA_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--utc") == 0)
			c.utc = 1;
		else if (strcmp(argv[i], "--tz") == 0 && i + 1 < argc)
			tz = argv[++i];
		else if (strncmp(argv[i], "--tz=", 5) == 0)
			tz = argv[i] + 5;
		else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			c.db = argv[++i];
		else if (strncmp(argv[i], "--db=", 5) == 0)
			c.db = argv[i] + 5;
		else {
			errx1("unknown option %s (see `socctl --help`)", argv[i]);
			return 1;
		}
	}
	argc -= i;
	argv += i;
	if (zone_init(&c, tz) != 0)
		return 1;
	if (argc == 0) {
		usage(stderr);
		return 1;
	}
	if ((cmd = cmd_find(argc, argv)) == NULL) {
		if (list_cmds(NULL, argv[0]) == 0)
			return errx1("unknown command '%s' (see `socctl --help`)",
			    argv[0]);
		/* `socctl incident --help`: the family's help */
		if (wants_help(argc, argv) || (argc > 1 &&
		    strcmp(argv[1], "help") == 0)) {
			family_help(stdout, argv[0]);
			return 0;
		}
		if (argc > 1)
			errx1("unknown command '%s %s'; '%s' has:", argv[0],
			    argv[1], argv[0]);
		else
			errx1("%s: which one?", argv[0]);
		list_cmds(stderr, argv[0]);
		return 1;
	}
	if (words(cmd->name) == 2) {
		argc--;
		argv++;
	}
	snprintf(name, sizeof(name), "socctl %s", cmd->name);
	argv[0] = name;
	if (cmd->fn != cmd_help && wants_help(argc, argv)) {
		cmd_usage(cmd);
		return 0;
	}
	c.cmd = cmd;
	c.now = soc_now_ns();
	actor_init(&c);
	ret = cmd->fn(&c, argc, argv);
	store_close(c.st);
	return ret;
}
