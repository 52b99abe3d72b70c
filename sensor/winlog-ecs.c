/*
 * The ECS fields of a Windows event, from its winlog.* fields: the one
 * place that maps EventData names to ECS (winlog.h), whatever filled
 * them (EVTX now; Winlogbeat and NXLog JSON later).  After Winlogbeat's
 * processors (x-pack/winlogbeat/module/sysmon and security, 8.x) where
 * they are cheap: a field already set is never overwritten, so an
 * intake that carries Winlogbeat's own ECS fields keeps them.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "winlog.h"

/*
 * The value of EventData's name.  Every name given here is a string
 * literal, so its field is remembered per thread by the literal's
 * address (an interned name keeps its id for the life of the process):
 * a Sysmon event asks for some twenty names, and a hash, a probe and a
 * compare each was a tenth of the mapping's cost.  A name not interned
 * (no event has carried it) is remembered with the count of names
 * interned then, and looked up again once that count has grown.
 */
static const char *
ed(const struct soc_event *ev, const char *name, size_t *len)
{
	static __thread struct {
		const char	*name;
		int		 f;
		int		 count;	/* f NONE: names interned then */
	} seen[128];
	char full[SOC_F_DYN_NAME_MAX + 1];
	size_t pl = sizeof(SOC_F_DYN_EVENT_DATA) - 1, nl;
	unsigned i = (unsigned)((uintptr_t)name >> 2) & 127;
	int f, count;

	if (seen[i].name == name && seen[i].f != SOC_F_NONE)
		f = seen[i].f;
	else if (seen[i].name == name &&
	    seen[i].count == soc_field_dyn_count())
		return NULL;	/* still not interned: no event has it */
	else {
		count = soc_field_dyn_count();
		nl = strlen(name);
		memcpy(full, SOC_F_DYN_EVENT_DATA, pl);
		memcpy(full + pl, name, nl);
		f = soc_field_lookup(full, pl + nl);
		seen[i].name = name;
		seen[i].f = f;
		seen[i].count = count;
		if (f == SOC_F_NONE)
			return NULL;
	}
	return soc_event_str(ev, f, len);
}

static bool
absent(const struct soc_event *ev, int f)
{
	return !soc_event_has(ev, f);
}

static void
copy_str(struct soc_event *ev, const char *name, int f)
{
	const char *s;
	size_t n;

	if (absent(ev, f) && (s = ed(ev, name, &n)) != NULL && n > 0 &&
	    !(n == 1 && s[0] == '-'))
		soc_event_set_str(ev, f, s, n);
}

/* A decimal, or "0x" hexadecimal (Security's process ids). */
static void
copy_int(struct soc_event *ev, const char *name, int f)
{
	const char *s;
	char tmp[24], *e;
	size_t n;
	long long v;

	if (!absent(ev, f) || (s = ed(ev, name, &n)) == NULL || n == 0 ||
	    n >= sizeof(tmp))
		return;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	v = strtoll(tmp, &e, n > 2 && tmp[0] == '0' && (tmp[1] == 'x' ||
	    tmp[1] == 'X') ? 16 : 10);
	if (*e == '\0' && e != tmp)
		soc_event_set_int(ev, f, v);
}

static void
copy_ip(struct soc_event *ev, const char *name, int f)
{
	struct soc_ip ip;
	const char *s;
	size_t n;

	if (absent(ev, f) && (s = ed(ev, name, &n)) != NULL &&
	    soc_ip_parse(s, n, &ip) == 0)
		soc_event_set_ip(ev, f, &ip);
}

/* The last path component (after '\' or '/') of field from into f. */
static void
base_name(struct soc_event *ev, int from, int f)
{
	const char *s, *b;
	size_t n;

	if (!absent(ev, f) || (s = soc_event_str(ev, from, &n)) == NULL ||
	    n == 0)
		return;
	for (b = s + n; b > s && b[-1] != '\\' && b[-1] != '/'; b--)
		;
	if (b < s + n)
		soc_event_set_str(ev, f, b, (size_t)(s + n - b));
}

/* "DOMAIN\name" (Sysmon's User) into user.domain and user.name. */
static void
domain_user(struct soc_event *ev, const char *name)
{
	const char *s, *bs;
	size_t n;

	if ((s = ed(ev, name, &n)) == NULL || n == 0)
		return;
	if ((bs = memchr(s, '\\', n)) == NULL) {
		if (absent(ev, SOC_F_USER_NAME))
			soc_event_set_str(ev, SOC_F_USER_NAME, s, n);
		return;
	}
	if (absent(ev, SOC_F_USER_DOMAIN))
		soc_event_set_str(ev, SOC_F_USER_DOMAIN, s, (size_t)(bs - s));
	if (absent(ev, SOC_F_USER_NAME))
		soc_event_set_str(ev, SOC_F_USER_NAME, bs + 1,
		    (size_t)(s + n - bs - 1));
}

/*
 * Sysmon's "SHA1=..,MD5=..,SHA256=..,IMPHASH=.." into the hash fields
 * (md5, sha1, sha256 of process.hash or file.hash), lower case as
 * Winlogbeat writes them.
 */
static void
hashes(struct soc_event *ev, bool process)
{
	static const struct {
		const char	*alg;
		int		 pf, ff;
	} algs[] = {
		{ "MD5", SOC_F_PROCESS_MD5, SOC_F_FILE_MD5 },
		{ "SHA1", SOC_F_PROCESS_SHA1, SOC_F_FILE_SHA1 },
		{ "SHA256", SOC_F_PROCESS_SHA256, SOC_F_FILE_SHA256 },
	};
	char low[128];
	const char *s, *e, *item, *eq, *end;
	size_t n;

	if ((s = ed(ev, "Hashes", &n)) == NULL)
		return;
	e = s + n;
	for (item = s; item < e; item = end + 1) {
		if ((end = memchr(item, ',', (size_t)(e - item))) == NULL)
			end = e;
		if ((eq = memchr(item, '=', (size_t)(end - item))) == NULL ||
		    (size_t)(end - eq - 1) > sizeof(low))
			continue;
		for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
			int f = process ? algs[i].pf : algs[i].ff;
			size_t hl = (size_t)(end - eq - 1);

			if ((size_t)(eq - item) != strlen(algs[i].alg) ||
			    strncasecmp(item, algs[i].alg, (size_t)(eq - item))
			    != 0 || !absent(ev, f))
				continue;
			for (size_t k = 0; k < hl; k++)
				low[k] = (char)(eq[1 + k] >= 'A' && eq[1 + k] <= 'Z' ?
				    eq[1 + k] + 32 : eq[1 + k]);
			soc_event_set_str(ev, f, low, hl);
		}
	}
}

/*
 * Sysmon's TargetObject (HKLM\SOFTWARE\..\Value) into registry.path,
 * .hive, .key and .value, as Winlogbeat splits it.
 */
static void
registry(struct soc_event *ev)
{
	static const struct {
		const char	*from, *hive;
	} hives[] = {
		{ "HKLM", "HKLM" }, { "HKU", "HKU" }, { "HKCR", "HKCR" },
		{ "HKCU", "HKCU" }, { "HKCC", "HKCC" },
		{ "HKEY_LOCAL_MACHINE", "HKLM" }, { "HKEY_USERS", "HKU" },
		{ "HKEY_CLASSES_ROOT", "HKCR" }, { "HKEY_CURRENT_USER", "HKCU" },
	};
	const char *s, *bs, *last;
	size_t n;

	copy_str(ev, "TargetObject", SOC_F_REGISTRY_PATH);
	if ((s = soc_event_str(ev, SOC_F_REGISTRY_PATH, &n)) == NULL ||
	    (bs = memchr(s, '\\', n)) == NULL)
		return;
	for (size_t i = 0; i < sizeof(hives) / sizeof(hives[0]); i++)
		if ((size_t)(bs - s) == strlen(hives[i].from) &&
		    memcmp(s, hives[i].from, (size_t)(bs - s)) == 0 &&
		    absent(ev, SOC_F_REGISTRY_HIVE))
			soc_event_set_cstr(ev, SOC_F_REGISTRY_HIVE, hives[i].hive);
	for (last = s + n; last > bs && last[-1] != '\\'; last--)
		;
	if (absent(ev, SOC_F_REGISTRY_VALUE) && last < s + n)
		soc_event_set_str(ev, SOC_F_REGISTRY_VALUE, last,
		    (size_t)(s + n - last));
	if (absent(ev, SOC_F_REGISTRY_KEY) && last - 1 > bs + 1)
		soc_event_set_str(ev, SOC_F_REGISTRY_KEY, bs + 1,
		    (size_t)(last - 1 - bs - 1));
	copy_str(ev, "Details", SOC_F_REGISTRY_DATA);
}

static bool
str_eq(const struct soc_event *ev, int f, const char *lit)
{
	const char *s;
	size_t n;

	return (s = soc_event_str(ev, f, &n)) != NULL && n == strlen(lit) &&
	    memcmp(s, lit, n) == 0;
}

static void
sysmon(struct soc_event *ev, long id)
{
	copy_str(ev, "Image", SOC_F_PROCESS_EXE);
	copy_str(ev, "CommandLine", SOC_F_PROCESS_CMDLINE);
	copy_str(ev, "CurrentDirectory", SOC_F_PROCESS_CWD);
	copy_str(ev, "ProcessGuid", SOC_F_PROCESS_ENTITY_ID);
	copy_int(ev, "ProcessId", SOC_F_PROCESS_PID);
	copy_str(ev, "ParentImage", SOC_F_PPROCESS_EXE);
	copy_str(ev, "ParentCommandLine", SOC_F_PPROCESS_CMDLINE);
	copy_str(ev, "ParentProcessGuid", SOC_F_PPROCESS_ENTITY_ID);
	copy_int(ev, "ParentProcessId", SOC_F_PPROCESS_PID);
	domain_user(ev, "User");
	copy_str(ev, "TargetFilename", SOC_F_FILE_PATH);
	copy_str(ev, "ImageLoaded", SOC_F_FILE_PATH);
	copy_str(ev, "QueryName", SOC_F_DNS_QNAME);
	if (id == 3) {
		copy_ip(ev, "SourceIp", SOC_F_SOURCE_IP);
		copy_int(ev, "SourcePort", SOC_F_SOURCE_PORT);
		copy_ip(ev, "DestinationIp", SOC_F_DEST_IP);
		copy_int(ev, "DestinationPort", SOC_F_DEST_PORT);
		copy_str(ev, "Protocol", SOC_F_NET_TRANSPORT);
		copy_str(ev, "SourceHostname", SOC_F_SOURCE_DOMAIN);
		copy_str(ev, "DestinationHostname", SOC_F_DEST_DOMAIN);
	}
	if (id == 12 || id == 13 || id == 14)
		registry(ev);
	hashes(ev, id == 1);
}

static void
security(struct soc_event *ev)
{
	/* the account acted on, else the one acting (Winlogbeat's order) */
	copy_str(ev, "TargetUserName", SOC_F_USER_NAME);
	copy_str(ev, "TargetDomainName", SOC_F_USER_DOMAIN);
	copy_str(ev, "TargetUserSid", SOC_F_USER_ID);
	copy_str(ev, "SubjectUserName", SOC_F_USER_NAME);
	copy_str(ev, "SubjectDomainName", SOC_F_USER_DOMAIN);
	copy_str(ev, "SubjectUserSid", SOC_F_USER_ID);
	copy_ip(ev, "IpAddress", SOC_F_SOURCE_IP);
	if (absent(ev, SOC_F_SOURCE_PORT)) {
		copy_int(ev, "IpPort", SOC_F_SOURCE_PORT);
		if (soc_event_int(ev, SOC_F_SOURCE_PORT, 1) == 0)
			soc_event_unset(ev, SOC_F_SOURCE_PORT);	/* "0": none */
	}
	copy_str(ev, "WorkstationName", SOC_F_SOURCE_DOMAIN);
	/* 4688: the new process; others name the process acting */
	copy_str(ev, "NewProcessName", SOC_F_PROCESS_EXE);
	copy_int(ev, "NewProcessId", SOC_F_PROCESS_PID);
	copy_str(ev, "CommandLine", SOC_F_PROCESS_CMDLINE);
	copy_str(ev, "ParentProcessName", SOC_F_PPROCESS_EXE);
	copy_str(ev, "ProcessName", SOC_F_PROCESS_EXE);
	copy_int(ev, "ProcessId", SOC_F_PROCESS_PID);
}

/*
 * Microsoft Defender's detections (1116, 1117; issue 18): the threat and
 * the first file of "Path", which lists resources as "file:_C:\x.exe"
 * separated by ";".
 */
static void
defender(struct soc_event *ev)
{
	const char *s;
	size_t n, i;

	copy_str(ev, "Threat Name", SOC_F_THREAT_SW_NAME);
	copy_str(ev, "Category Name", SOC_F_THREAT_SW_TYPE);
	copy_str(ev, "Process Name", SOC_F_PROCESS_EXE);
	if (!absent(ev, SOC_F_FILE_PATH) || (s = ed(ev, "Path", &n)) == NULL)
		return;
	for (i = 0; i < n && s[i] != ';'; i++)
		;
	n = i;
	if (n > 6 && memcmp(s, "file:_", 6) == 0) {
		s += 6;
		n -= 6;
	}
	if (n > 0)
		soc_event_set_str(ev, SOC_F_FILE_PATH, s, n);
}

void
winlog_ecs(struct soc_event *ev)
{
	const char *s;
	char tmp[16];
	size_t n;
	long id = -1;

	if (absent(ev, SOC_F_EVENT_KIND))
		soc_event_set_cstr(ev, SOC_F_EVENT_KIND, "event");
	if (absent(ev, SOC_F_EVENT_DATASET))	/* rules/mapping.yml */
		soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, WINLOG_DATASET);
	if (absent(ev, SOC_F_HOST_NAME) &&
	    (s = soc_event_str(ev, SOC_F_WINLOG_COMPUTER, &n)) != NULL)
		soc_event_set_str(ev, SOC_F_HOST_NAME, s, n);
	if ((s = soc_event_str(ev, SOC_F_WINLOG_EVENT_ID, &n)) != NULL) {
		if (absent(ev, SOC_F_EVENT_CODE))
			soc_event_set_str(ev, SOC_F_EVENT_CODE, s, n);
		if (n > 0 && n < sizeof(tmp)) {
			memcpy(tmp, s, n);
			tmp[n] = '\0';
			id = strtol(tmp, NULL, 10);
		}
	}
	if (absent(ev, SOC_F_EVENT_PROVIDER) &&
	    (s = soc_event_str(ev, SOC_F_WINLOG_PROVIDER, &n)) != NULL)
		soc_event_set_str(ev, SOC_F_EVENT_PROVIDER, s, n);
	if (str_eq(ev, SOC_F_WINLOG_PROVIDER, "Microsoft-Windows-Sysmon"))
		sysmon(ev, id);
	else if (str_eq(ev, SOC_F_WINLOG_PROVIDER,
	    "Microsoft-Windows-Security-Auditing"))
		security(ev);
	else if (str_eq(ev, SOC_F_WINLOG_PROVIDER,
	    "Microsoft-Windows-Windows Defender") && (id == 1116 || id == 1117))
		defender(ev);
	base_name(ev, SOC_F_PROCESS_EXE, SOC_F_PROCESS_NAME);
	base_name(ev, SOC_F_PPROCESS_EXE, SOC_F_PPROCESS_NAME);
	base_name(ev, SOC_F_FILE_PATH, SOC_F_FILE_NAME);
}

/*
 * message, when the record has none (an EVTX file: libevtx cannot render
 * the provider's message text without its resource DLLs): the EventData
 * and UserData values in the record's order, one a line, as Hayabusa and
 * Chainsaw search them.  So a Sigma rule of keywords only (a list
 * without field, which searches message) finds a value whatever its
 * name.  Bounded by WINLOG_MESSAGE_MAX and by the room the event has
 * left: a value that would pass the bound is left out whole (the
 * message is derived, so the event is not marked cut).  Winlogbeat's and NXLog's
 * rendered message, when they carry one, is kept instead.
 */
void
winlog_message(struct soc_event *ev)
{
	char msg[WINLOG_MESSAGE_MAX];
	const char *s;
	size_t n, len = 0, cap = sizeof(msg), room;
	unsigned i, nd = soc_event_dyn_count(ev);

	if (nd == 0 || !absent(ev, SOC_F_MESSAGE))
		return;
	room = ev->buf_len < SOC_EVENT_BUFSZ ? SOC_EVENT_BUFSZ - ev->buf_len :
	    0;
	if (room < cap)
		cap = room;
	for (i = 0; i < nd; i++) {
		(void)soc_event_dyn_at(ev, i, &s, &n);
		if (n == 0 || (n == 1 && s[0] == '-'))	/* "-": none */
			continue;
		if (len + (len > 0) + n > cap)
			continue;	/* past the bound: left out */
		if (len > 0)
			msg[len++] = '\n';
		memcpy(msg + len, s, n);
		len += n;
	}
	if (len > 0)
		soc_event_set_str(ev, SOC_F_MESSAGE, msg, len);
}
