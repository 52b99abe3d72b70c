/*
 * Linux audit (auditd) records: the records of one event (SYSCALL,
 * EXECVE, CWD, PATH, PROCTITLE, SOCKADDR, USER_*, CRED_*, ...), which
 * share the stamp and serial in "msg=audit(SEC.MS:SERIAL)", are joined by
 * libauparse (the audit project's own parser, fed line by line) into one
 * event with ECS and Auditbeat names (process.*, user.*, file.*,
 * auditd.*).  Hex-encoded values (proctitle, EXECVE arguments, names
 * with spaces) are decoded by auparse; user names are taken only from
 * the names the record carries (the enriched "UID=" fields after the
 * 0x1d separator), never from this machine's password file, which
 * knows nothing of the audited host's users.
 *
 * Bounds, all counted (struct auditd_stats):
 *  - open serials: at most max_open events are being assembled; a new
 *    serial in a full table flushes them all (evicted, and each such
 *    event is marked soc.auditd.incomplete);
 *  - an event idle for timeout_ms (its EOE never came, or auditd wrote
 *    none, as it does not to its log) is emitted by auditd_asm_tick();
 *  - a record longer than AU_MAX_RECORD bytes is cut at a field boundary
 *    (cut), records past AU_MAX_RECORDS of one serial are dropped;
 *  - a line that is not "[node=N ]type=T msg=audit(S.M:N): ..." is not
 *    fed to auparse (malformed).
 * Records of interleaved serials (out of order) are joined by auparse,
 * which keys events by time, serial and node.  Records from syslog
 * listeners are given the sender as node when they carry none, so two
 * hosts' serials never join.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <auparse.h>

#include "log-int.h"
#include "soc/event.h"
#include "soc/hash.h"
#include "soc/util.h"

#define AU_MAX_RECORD	(64 * 1024)	/* longer records are cut */
#define AU_MAX_RECORDS	256		/* per serial; more are dropped */
#define AU_CMDLINE_MAX	8192		/* process.command_line */
#define AU_CTX_PATH	256
#define AU_CTX_ADDR	64
#define AU_MSG_MAX	SOC_EVENT_BUFSZ	/* message: the records joined */

struct au_open {
	uint64_t	 key;		/* hash of node, stamp, serial; 0 free */
	int64_t		 last_ms;	/* mono ms of its last record */
	uint32_t	 nrec;
	bool		 enriched;	/* a record had names (after 0x1d) */
	char		 path[AU_CTX_PATH];
	char		 addr[AU_CTX_ADDR];
};

struct auditd_asm {
	auparse_state_t	*au;
	auditd_emit_fn	 emit;
	void		*arg;
	size_t		 max_open;
	size_t		 cap;		/* table slots: a power of two */
	size_t		 nopen;
	int64_t		 timeout_ms;
	int64_t		 now_ms;
	int64_t		 now_ns;
	bool		 forced;	/* flushing for eviction */
	struct au_open	*open;
	struct soc_hash_key hk;		/* keys come from the log's writer */
	char		*line;		/* AU_MAX_RECORD + node + "\n" */
	char		*msg;		/* the records, for message */
	struct auditd_stats st;
	struct soc_event ev;
};

/*
 * Record syntax.
 */

/* Span of "SEC.MS:SERIAL" after "msg=audit(" in line, or false. */
static bool
au_stamp(const char *line, size_t len, size_t *off, size_t *n)
{
	static const char pfx[] = "msg=audit(";
	const char *p, *end = line + len;
	size_t i;

	for (p = line; (size_t)(end - p) >= sizeof(pfx) - 1; p++) {
		if (*p != 'm' || memcmp(p, pfx, sizeof(pfx) - 1) != 0)
			continue;
		p += sizeof(pfx) - 1;
		for (i = 0; p + i < end && p[i] != ')'; i++)
			if (!isdigit((unsigned char)p[i]) && p[i] != '.' &&
			    p[i] != ':')
				return false;
		if (p + i == end || i == 0 || memchr(p, ':', i) == NULL ||
		    memchr(p, '.', i) == NULL)
			return false;
		*off = (size_t)(p - line);
		*n = i;
		return true;
	}
	return false;
}

ssize_t
log_auditd_record(const char *line, size_t len)
{
	size_t off = 0, so, sn;
	const char *sp;

	if (len >= 5 && memcmp(line, "node=", 5) == 0) {
		if ((sp = memchr(line, ' ', len)) == NULL)
			return -1;
		off = (size_t)(sp - line) + 1;
	}
	if (len - off < 6 || memcmp(line + off, "type=", 5) != 0 ||
	    line[off + 5] == ' ')
		return -1;
	if (!au_stamp(line + off, len - off > 128 ? 128 : len - off, &so, &sn))
		return -1;
	return (ssize_t)off;
}

/*
 * The open-serial table (open addressing, linear probing).
 */

static uint64_t
au_hash(const struct auditd_asm *a, const char *stamp, size_t sn,
    const char *node, size_t nl)
{
	uint64_t h = soc_hash(&a->hk, stamp, sn) ^
	    (soc_hash(&a->hk, node, nl) * 31);

	return h != 0 ? h : 1;
}

static uint64_t
au_key(const struct auditd_asm *a, const char *line, size_t len)
{
	size_t so, sn, nl = 0;
	if (len >= 5 && memcmp(line, "node=", 5) == 0) {
		const char *sp = memchr(line, ' ', len);

		nl = sp != NULL ? (size_t)(sp - line) : 0;
	}
	if (!au_stamp(line, len, &so, &sn))
		return 0;
	return au_hash(a, line + so, sn, line, nl);
}

static struct au_open *
au_find(struct auditd_asm *a, uint64_t key, bool add)
{
	size_t i = (size_t)key & (a->cap - 1);

	for (;; i = (i + 1) & (a->cap - 1)) {
		if (a->open[i].key == key)
			return &a->open[i];
		if (a->open[i].key == 0)
			break;
	}
	if (!add)
		return NULL;
	a->open[i].key = key;
	a->open[i].nrec = 0;
	a->nopen++;
	return &a->open[i];
}

/* Deletes an entry, moving later ones of its probe run back. */
static void
au_del(struct auditd_asm *a, struct au_open *o)
{
	size_t i = (size_t)(o - a->open), j = i, k;

	a->open[i].key = 0;
	a->nopen--;
	for (;;) {
		j = (j + 1) & (a->cap - 1);
		if (a->open[j].key == 0)
			return;
		k = (size_t)a->open[j].key & (a->cap - 1);
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			a->open[i] = a->open[j];
			a->open[j].key = 0;
			i = j;
		}
	}
}

/*
 * Normalization of one assembled event (auparse's cursor on it).
 */

static void
au_str(struct soc_event *ev, int f, const char *s)
{
	if (s != NULL && *s != '\0' && strcmp(s, "(null)") != 0 &&
	    strcmp(s, "?") != 0)
		soc_event_set_cstr(ev, f, s);
}

static void
au_int(struct soc_event *ev, int f, const char *s)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return;
	v = strtoll(s, &end, 10);
	if (*end == '\0')
		soc_event_set_int(ev, f, v);
}

/* auparse's reading of the current field (syscall names, sockaddr). */
static const char *
au_interp(auparse_state_t *au)
{
	const char *s = auparse_interpret_field(au);

	return s != NULL ? s : auparse_get_field_str(au);
}

static int
au_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * The decoded value of the current field, as the kernel encodes strings:
 * "quoted" as is, or hex when it holds a space, a quote, a control byte
 * or NUL (proctitle's NULs between arguments become spaces); anything
 * else raw.  Decoded here rather than by auparse_interpret_field(),
 * whose proctitle result is not always NUL-terminated (libauparse 3.0.9,
 * found by fuzz-log-auditd).
 */
static const char *
au_decoded(auparse_state_t *au)
{
	static char buf[AU_MAX_RECORD + 1];
	const char *v = auparse_get_field_str(au), *q;
	size_t n, i, o = 0;
	int hi, lo;

	if (v == NULL)
		return NULL;
	n = strlen(v);
	if (v[0] == '"') {
		q = memchr(v + 1, '"', n - 1);
		n = q != NULL ? (size_t)(q - v - 1) : n - 1;
		if (n > AU_MAX_RECORD)
			n = AU_MAX_RECORD;
		memcpy(buf, v + 1, n);
		buf[n] = '\0';
		return buf;
	}
	if (n == 0 || n % 2 != 0 || n / 2 > AU_MAX_RECORD)
		return v;
	for (i = 0; i < n; i += 2) {
		if ((hi = au_hexval((unsigned char)v[i])) < 0 ||
		    (lo = au_hexval((unsigned char)v[i + 1])) < 0)
			return v;
		buf[o++] = (char)(hi << 4 | lo);
	}
	while (o > 0 && buf[o - 1] == '\0')	/* a trailing NUL */
		o--;
	for (i = 0; i < o; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[o] = '\0';
	return buf;
}

/* A uid as Auditbeat writes it; the unset id (-1) is left out. */
static void
au_uid(struct soc_event *ev, int f, const char *s)
{
	if (s != NULL && strcmp(s, "4294967295") != 0 && strcmp(s, "-1") != 0)
		au_str(ev, f, s);
}

/*
 * The name of the current uid field, only from the record's own enriched
 * part (after 0x1d: UID="root"), which auparse interprets from; without
 * one auparse would ask this machine's password file, which does not
 * know the audited host's users.
 */
static void
au_name(struct soc_event *ev, int f, auparse_state_t *au, bool enriched)
{
	const char *s;

	if (!enriched || (s = auparse_interpret_field(au)) == NULL ||
	    strncmp(s, "unknown(", 8) == 0 || strcmp(s, "unset") == 0)
		return;
	au_str(ev, f, s);
}

struct au_norm {
	char		 cmd[AU_CMDLINE_MAX];
	size_t		 cmdlen;
	int		 argi;		/* last aN seen, -1 none */
	bool		 execve, cmd_cut;
	bool		 enriched;	/* the records carry names (0x1d) */
	char		 type[32];	/* first record's */
	char		 syscall[32];
	char		 path[1024];	/* chosen PATH name */
	char		 nametype[16];
};

static void
au_cmd_add(struct au_norm *n, const char *s, bool sep)
{
	size_t l = strlen(s);

	if (sep && n->cmdlen > 0) {
		if (n->cmdlen + 1 >= sizeof(n->cmd)) {
			n->cmd_cut = true;
			return;
		}
		n->cmd[n->cmdlen++] = ' ';
	}
	if (l > sizeof(n->cmd) - 1 - n->cmdlen) {
		l = sizeof(n->cmd) - 1 - n->cmdlen;
		n->cmd_cut = true;
	}
	memcpy(n->cmd + n->cmdlen, s, l);
	n->cmdlen += l;
	n->cmd[n->cmdlen] = '\0';
}

static void
au_execve_field(struct au_norm *n, struct soc_event *ev, const char *name,
    auparse_state_t *au)
{
	const char *p = name + 1, *v;
	char *end;
	long i;

	if (strcmp(name, "argc") == 0) {
		au_int(ev, SOC_F_PROCESS_ARGS_COUNT, auparse_get_field_str(au));
		return;
	}
	if (name[0] != 'a' || !isdigit((unsigned char)*p))
		return;
	i = strtol(p, &end, 10);
	if (*end == '_')			/* aN_len=... */
		return;
	v = au_decoded(au);
	if (v == NULL)
		return;
	au_cmd_add(n, v, *end != '[' || i != n->argi);
	if (*end == '\0' && i >= 0 && i <= 9)
		soc_event_set_cstr(ev, SOC_F_SOC_AUDITD_ARG0 + (int)i, v);
	n->argi = (int)i;
}

/* "{ fam=inet laddr=192.0.2.1 lport=80 }" (auparse's saddr). */
static void
au_sockaddr(struct soc_event *ev, const char *s)
{
	const char *a = strstr(s, "addr="), *p = strstr(s, "port=");
	struct soc_ip ip;
	size_t n;

	if (a != NULL) {
		a += 5;
		n = strcspn(a, " }");
		if (n < 64 && soc_ip_parse(a, n, &ip) == 0)
			soc_event_set_ip(ev, SOC_F_DEST_IP, &ip);
	}
	if (p != NULL) {
		char port[8];

		p += 5;
		n = strcspn(p, " }");
		if (n > 0 && n < sizeof(port)) {
			memcpy(port, p, n);
			port[n] = '\0';
			au_int(ev, SOC_F_DEST_PORT, port);
		}
	}
}

static void
au_field(struct au_norm *n, struct soc_event *ev, auparse_state_t *au,
    const char *rtype)
{
	const char *name = auparse_get_field_name(au), *v;

	if (name == NULL)
		return;
	v = auparse_get_field_str(au);
	if (strcmp(rtype, "EXECVE") == 0) {
		au_execve_field(n, ev, name, au);
		return;
	}
	if (strcmp(rtype, "PATH") == 0) {
		if (strcmp(name, "name") == 0) {
			const char *d = au_decoded(au);

			if (d != NULL && (n->path[0] == '\0' ||
			    strcmp(n->nametype, "PARENT") == 0))
				snprintf(n->path, sizeof(n->path), "%s", d);
		} else if (strcmp(name, "nametype") == 0 && v != NULL &&
		    (n->nametype[0] == '\0' || strcmp(n->nametype, "PARENT") == 0))
			snprintf(n->nametype, sizeof(n->nametype), "%s", v);
		return;
	}
	if (strcmp(name, "proctitle") == 0) {
		au_str(ev, SOC_F_PROCESS_TITLE, au_decoded(au));
	} else if (strcmp(name, "cwd") == 0) {
		au_str(ev, SOC_F_PROCESS_CWD, au_decoded(au));
	} else if (strcmp(name, "saddr") == 0) {
		if ((v = au_interp(au)) != NULL)
			au_sockaddr(ev, v);
	} else if (strcmp(name, "syscall") == 0) {
		if ((v = au_interp(au)) != NULL) {
			snprintf(n->syscall, sizeof(n->syscall), "%s", v);
			au_str(ev, SOC_F_AUDITD_SYSCALL, v);
		}
	} else if (strcmp(name, "success") == 0 || strcmp(name, "res") == 0) {
		bool ok = v != NULL && (strcmp(v, "yes") == 0 ||
		    strcmp(v, "success") == 0 || strcmp(v, "1") == 0);

		soc_event_set_cstr(ev, SOC_F_AUDITD_RESULT, ok ? "success" :
		    "fail");
		soc_event_set_cstr(ev, SOC_F_EVENT_OUTCOME, ok ? "success" :
		    "failure");
	} else if (strcmp(name, "pid") == 0) {
		au_int(ev, SOC_F_PROCESS_PID, v);
	} else if (strcmp(name, "ppid") == 0) {
		au_int(ev, SOC_F_PPROCESS_PID, v);
	} else if (strcmp(name, "uid") == 0) {
		au_uid(ev, SOC_F_USER_ID, v);
		au_name(ev, SOC_F_USER_NAME, au, n->enriched);
	} else if (strcmp(name, "euid") == 0) {
		au_uid(ev, SOC_F_USER_EFF_ID, v);
		au_name(ev, SOC_F_USER_EFF_NAME, au, n->enriched);
	} else if (strcmp(name, "auid") == 0) {
		au_uid(ev, SOC_F_USER_AUDIT_ID, v);
		au_name(ev, SOC_F_USER_AUDIT_NAME, au, n->enriched);
	} else if (strcmp(name, "gid") == 0) {
		au_uid(ev, SOC_F_USER_GROUP_ID, v);
	} else if (strcmp(name, "acct") == 0) {
		if (!soc_event_has(ev, SOC_F_USER_NAME))
			au_str(ev, SOC_F_USER_NAME, au_decoded(au));
	} else if (strcmp(name, "ses") == 0) {
		au_uid(ev, SOC_F_AUDITD_SESSION, v);
	} else if (strcmp(name, "tty") == 0) {
		au_str(ev, SOC_F_AUDITD_TTY, v);
	} else if (strcmp(name, "comm") == 0) {
		au_str(ev, SOC_F_PROCESS_NAME, au_decoded(au));
	} else if (strcmp(name, "exe") == 0) {
		au_str(ev, SOC_F_PROCESS_EXE, au_decoded(au));
	} else if (strcmp(name, "key") == 0) {
		au_str(ev, SOC_F_SOC_AUDITD_KEY, au_decoded(au));
	} else if (strcmp(name, "a0") == 0 && strcmp(rtype, "SYSCALL") == 0) {
		au_str(ev, SOC_F_AUDITD_A0, v);
	} else if (strcmp(name, "unit") == 0) {
		au_str(ev, SOC_F_SERVICE_NAME, au_decoded(au));
	} else if (strcmp(name, "op") == 0) {
		au_str(ev, SOC_F_EVENT_ACTION, au_decoded(au));
	} else if (strcmp(name, "addr") == 0 && v != NULL) {
		struct soc_ip ip;

		if (strlen(v) < 64 && soc_ip_parse(v, strlen(v), &ip) == 0)
			soc_event_set_ip(ev, SOC_F_SOURCE_IP, &ip);
	}
}

static bool
au_is(const char *s, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

/* Dataset and event.category/type/action from what the event did. */
static const char *
au_classify(const struct au_norm *n, struct soc_event *ev)
{
	static const char *const exec[] = { "execve", "execveat", NULL };
	static const char *const net[] = { "connect", "accept", "accept4",
	    "bind", NULL };
	static const char *const file[] = { "open", "openat", "openat2",
	    "creat", "unlink", "unlinkat", "rename", "renameat", "renameat2",
	    "truncate", "ftruncate", "chmod", "fchmod", "fchmodat", "chown",
	    "fchown", "fchownat", "lchown", "link", "linkat", "symlink",
	    "symlinkat", "mknod", "mknodat", "mkdir", "mkdirat", "rmdir",
	    "setxattr", "lsetxattr", "fsetxattr", "removexattr", NULL };

	if (n->execve || au_is(n->syscall, exec)) {
		soc_event_set_cstr(ev, SOC_F_EVENT_CATEGORY, "process");
		soc_event_set_cstr(ev, SOC_F_EVENT_TYPE, "start");
		if (!soc_event_has(ev, SOC_F_EVENT_ACTION))
			soc_event_set_cstr(ev, SOC_F_EVENT_ACTION, "executed");
		return LOGPARSE_DS_AUDITD_PROCESS;
	}
	if (au_is(n->syscall, net)) {
		soc_event_set_cstr(ev, SOC_F_EVENT_CATEGORY, "network");
		soc_event_set_cstr(ev, SOC_F_EVENT_TYPE, "connection");
		/* Sysmon's Initiated: this host opened it (connect) */
		soc_event_set_cstr(ev, SOC_F_SOC_NET_INITIATED,
		    strcmp(n->syscall, "connect") == 0 ? "true" : "false");
		if (!soc_event_has(ev, SOC_F_EVENT_ACTION))
			soc_event_set_cstr(ev, SOC_F_EVENT_ACTION,
			    strcmp(n->syscall, "connect") == 0 ?
			    "connected-to" : "accepted-from");
		return LOGPARSE_DS_AUDITD_NETWORK;
	}
	if (au_is(n->syscall, file)) {
		soc_event_set_cstr(ev, SOC_F_EVENT_CATEGORY, "file");
		soc_event_set_cstr(ev, SOC_F_EVENT_TYPE, strcmp(n->nametype,
		    "CREATE") == 0 ? "creation" : strcmp(n->nametype,
		    "DELETE") == 0 ? "deletion" : "change");
		return LOGPARSE_DS_AUDITD_FILE;
	}
	if (strncmp(n->type, "USER_LOGIN", 10) == 0 ||
	    strcmp(n->type, "USER_AUTH") == 0 ||
	    strcmp(n->type, "USER_ERR") == 0) {
		soc_event_set_cstr(ev, SOC_F_EVENT_CATEGORY, "authentication");
	} else if (strcmp(n->type, "ADD_USER") == 0 ||
	    strcmp(n->type, "DEL_USER") == 0 ||
	    strcmp(n->type, "ADD_GROUP") == 0 ||
	    strcmp(n->type, "DEL_GROUP") == 0 ||
	    strcmp(n->type, "USER_MGMT") == 0 ||
	    strcmp(n->type, "USER_CHAUTHTOK") == 0) {
		soc_event_set_cstr(ev, SOC_F_EVENT_CATEGORY, "iam");
	}
	return LOGPARSE_DS_AUDITD;
}

static void
au_lower(char *dst, size_t dsz, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < dsz; i++)
		dst[i] = (char)tolower((unsigned char)s[i]);
	dst[i] = '\0';
}

static void
au_normalize(struct auditd_asm *a, auparse_state_t *au,
    const struct au_open *o)
{
	static struct au_norm n;
	struct soc_event *ev = &a->ev;
	const au_event_t *t;
	const char *rt, *ds, *txt;
	char low[32];
	unsigned nrec = 0;
	size_t ml = 0;

	n.cmdlen = 0;
	n.cmd[0] = '\0';
	n.argi = -1;
	n.execve = n.cmd_cut = false;
	n.type[0] = n.syscall[0] = n.path[0] = n.nametype[0] = '\0';
	soc_event_reset(ev);
	soc_event_set_cstr(ev, SOC_F_EVENT_KIND, "event");
	if (o != NULL && o->path[0] != '\0')
		soc_event_set_cstr(ev, SOC_F_LOG_FILE_PATH, o->path);
	if (o != NULL && o->addr[0] != '\0')
		soc_event_set_cstr(ev, SOC_F_LOG_SOURCE_ADDR, o->addr);
	soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, LOGPARSE_DS_AUDITD);
	ev->ts = a->now_ns;
	if (auparse_first_record(au) <= 0)
		return;
	if ((t = auparse_get_timestamp(au)) != NULL) {
		/* a stamp past 2262 does not fit: the receive time (the
		 * sensor bounds stamps against its clock afterwards anyway) */
		if (t->sec >= 0 && t->sec < INT64_MAX / 1000000000 - 1 &&
		    t->milli < 1000)
			ev->ts = (int64_t)t->sec * 1000000000 +
			    (int64_t)t->milli * 1000000;
		else
			ev->ts = a->now_ns;
		soc_event_set_int(ev, SOC_F_AUDITD_SEQUENCE, (int64_t)t->serial);
		if (t->host != NULL && (o == NULL || o->addr[0] == '\0' ||
		    strcmp(t->host, o->addr) != 0))
			soc_event_set_cstr(ev, SOC_F_HOST_HOSTNAME, t->host);
	} else
		ev->ts = a->now_ns;
	do {
		if ((rt = auparse_get_type_name(au)) == NULL)
			rt = "UNKNOWN";
		if (nrec++ == 0) {
			snprintf(n.type, sizeof(n.type), "%s", rt);
			au_lower(low, sizeof(low), rt);
			soc_event_set_cstr(ev, SOC_F_AUDITD_MSG_TYPE, low);
		}
		if (strcmp(rt, "EXECVE") == 0)
			n.execve = true;
		n.enriched = o != NULL && o->enriched;
		if (auparse_first_field(au) <= 0)
			continue;
		do
			au_field(&n, ev, au, rt);
		while (auparse_next_field(au) > 0);
	} while (auparse_next_record(au) > 0);
	soc_event_set_cstr(ev, SOC_F_SOC_AUDITD_TYPE, n.execve ? "EXECVE" :
	    n.type);
	soc_event_set_int(ev, SOC_F_SOC_AUDITD_RECORDS, nrec);
	if (n.cmdlen > 0)
		soc_event_set_str(ev, SOC_F_PROCESS_CMDLINE, n.cmd, n.cmdlen);
	else if (soc_event_has(ev, SOC_F_PROCESS_TITLE)) {
		size_t l;
		const char *s = soc_event_str(ev, SOC_F_PROCESS_TITLE, &l);

		soc_event_set_str(ev, SOC_F_PROCESS_CMDLINE, s, l);
	}
	if (n.cmd_cut)
		soc_event_set_truncated(ev);
	if (n.path[0] != '\0') {
		const char *b = strrchr(n.path, '/');

		soc_event_set_cstr(ev, SOC_F_FILE_PATH, n.path);
		if (b != NULL && b[1] != '\0')
			soc_event_set_cstr(ev, SOC_F_FILE_NAME, b + 1);
	}
	if (n.nametype[0] != '\0')
		soc_event_set_cstr(ev, SOC_F_SOC_AUDITD_NAMETYPE, n.nametype);
	ds = au_classify(&n, ev);
	soc_event_set_cstr(ev, SOC_F_EVENT_DATASET, ds);
	if (a->forced) {
		soc_event_set_int(ev, SOC_F_SOC_AUDITD_INCOMPLETE, 1);
		a->st.incomplete++;
	}
	/* the records, last: a huge one cannot crowd the fields out */
	auparse_first_record(au);
	do {
		size_t l;

		if ((txt = auparse_get_record_text(au)) == NULL)
			continue;
		l = strlen(txt);
		if (ml + l + 1 > AU_MSG_MAX)
			break;
		if (ml > 0)
			a->msg[ml++] = '\n';
		memcpy(a->msg + ml, txt, l);
		ml += l;
	} while (auparse_next_record(au) > 0);
	soc_event_set_str(ev, SOC_F_MESSAGE, a->msg, ml);
}

static void
au_ready(auparse_state_t *au, auparse_cb_event_t type, void *arg)
{
	struct auditd_asm *a = arg;
	const au_event_t *t;
	struct au_open *o = NULL, copy;
	char kb[128];
	int kn;

	if (type != AUPARSE_CB_EVENT_READY)
		return;
	if ((t = auparse_get_timestamp(au)) != NULL) {
		/* the key the line gave: node, then "SEC.MS:SERIAL" */
		kn = snprintf(kb, sizeof(kb), "%lu.%03u:%lu", (unsigned long)
		    t->sec, t->milli, t->serial);
		if (kn > 0 && (size_t)kn < sizeof(kb)) {
			char nb[300];
			int nn = 0;

			if (t->host != NULL)
				nn = snprintf(nb, sizeof(nb), "node=%s",
				    t->host);
			if (nn >= 0 && (size_t)nn < sizeof(nb))
				o = au_find(a, au_hash(a, kb, (size_t)kn, nb,
				    (size_t)nn), false);
		}
	}
	if (o != NULL) {
		copy = *o;
		au_del(a, o);
		o = &copy;
	}
	a->st.events++;
	au_normalize(a, au, o);
	a->emit(a->arg, &a->ev);
}

/*
 * The assembler.
 */

struct auditd_asm *
auditd_asm_new(size_t max_open, int64_t timeout_ms, auditd_emit_fn emit,
    void *arg)
{
	struct auditd_asm *a;

	if (max_open == 0)
		max_open = AUDITD_MAX_OPEN;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	for (a->cap = 16; a->cap < 2 * max_open; a->cap *= 2)
		;
	a->max_open = max_open;
	soc_hash_seed(&a->hk);
	a->timeout_ms = timeout_ms > 0 ? timeout_ms : AUDITD_TIMEOUT_MS;
	a->emit = emit;
	a->arg = arg;
	a->open = calloc(a->cap, sizeof(*a->open));
	a->line = malloc(AU_MAX_RECORD + 300);
	a->msg = malloc(AU_MSG_MAX);
	a->au = auparse_init(AUSOURCE_FEED, NULL);
	if (a->open == NULL || a->line == NULL || a->msg == NULL || a->au == NULL) {
		auditd_asm_free(a);
		return NULL;
	}
	auparse_set_escape_mode(a->au, AUPARSE_ESC_RAW);
	auparse_add_callback(a->au, au_ready, a, NULL);
	return a;
}

static void
au_flush(struct auditd_asm *a, bool forced)
{
	a->forced = forced;
	auparse_flush_feed(a->au);
	a->forced = false;
	/* entries whose event auparse did not give back (none expected) */
	memset(a->open, 0, a->cap * sizeof(*a->open));
	a->nopen = 0;
}

void
auditd_asm_flush(struct auditd_asm *a)
{
	if (a != NULL && a->au != NULL && a->nopen > 0)
		au_flush(a, false);
}

void
auditd_asm_free(struct auditd_asm *a)
{
	if (a == NULL)
		return;
	if (a->au != NULL) {
		auditd_asm_flush(a);
		auparse_destroy(a->au);
	}
	free(a->open);
	free(a->line);
	free(a->msg);
	free(a);
}

size_t
auditd_asm_tick(struct auditd_asm *a, int64_t now_ms)
{
	uint64_t before;

	if (a == NULL || a->nopen == 0)
		return 0;
	for (size_t i = 0; i < a->cap; i++) {
		if (a->open[i].key == 0 ||
		    now_ms - a->open[i].last_ms < a->timeout_ms)
			continue;
		before = a->st.events;
		a->st.timed_out += a->nopen;
		au_flush(a, false);
		return (size_t)(a->st.events - before);
	}
	return 0;
}

/* Cuts a record over AU_MAX_RECORD at the last space before it. */
static size_t
au_cut(const char *p, size_t n)
{
	size_t i;

	if (n <= AU_MAX_RECORD)
		return n;
	for (i = AU_MAX_RECORD; i > 0 && p[i] != ' '; i--)
		;
	return i > 0 ? i : AU_MAX_RECORD;
}

void
auditd_asm_feed(struct auditd_asm *a, const struct logparse_ctx *ctx,
    const char *line, size_t len, const char *node, bool cut)
{
	struct au_open *o;
	uint64_t key;
	size_t n, off = 0, nl = 0, i;
	ssize_t r;

	a->st.records++;
	a->now_ns = ctx != NULL ? ctx->now_ns : soc_now_ns();
	if (cut)
		a->st.cut++;
	if (line == NULL || (r = log_auditd_record(line, len)) < 0) {
		a->st.malformed++;
		return;
	}
	if (r == 0 && node != NULL && *node != '\0') {
		nl = strlen(node);
		if (nl > 255)
			nl = 255;
		memcpy(a->line, "node=", 5);
		memcpy(a->line + 5, node, nl);
		for (i = 5; i < 5 + nl; i++)	/* one token */
			if (a->line[i] == ' ' || a->line[i] == '\n' ||
			    a->line[i] == '\0')
				a->line[i] = '_';
		a->line[5 + nl] = ' ';
		off = 5 + nl + 1;
	}
	n = au_cut(line, len);
	if (n < len)
		a->st.cut++;
	memcpy(a->line + off, line, n);
	for (i = off; i < off + n; i++)
		if (a->line[i] == '\n' || a->line[i] == '\0')
			a->line[i] = ' ';
	n += off;
	a->line[n++] = '\n';
	if ((key = au_key(a, a->line, n - 1)) == 0) {
		a->st.malformed++;
		return;
	}
	if ((o = au_find(a, key, false)) == NULL) {
		if (a->nopen >= a->max_open) {
			a->st.evicted += a->nopen;
			au_flush(a, true);
		}
		o = au_find(a, key, true);
		o->path[0] = o->addr[0] = '\0';
		o->enriched = false;
		if (ctx != NULL && ctx->path != NULL)
			snprintf(o->path, sizeof(o->path), "%s", ctx->path);
		if (ctx != NULL && ctx->source_addr != NULL)
			snprintf(o->addr, sizeof(o->addr), "%s",
			    ctx->source_addr);
	}
	if (++o->nrec > AU_MAX_RECORDS) {
		a->st.dropped++;
		return;
	}
	if (memchr(line, 0x1d, len) != NULL)
		o->enriched = true;
	o->last_ms = a->now_ms = soc_mono_ms();
	auparse_feed(a->au, a->line, n);
}

void
auditd_asm_stats(const struct auditd_asm *a, struct auditd_stats *st)
{
	*st = a->st;
	st->open = a->nopen;
}

void
auditd_stats_add(struct auditd_stats *dst, const struct auditd_stats *src)
{
	dst->records += src->records;
	dst->events += src->events;
	dst->malformed += src->malformed;
	dst->cut += src->cut;
	dst->dropped += src->dropped;
	dst->evicted += src->evicted;
	dst->incomplete += src->incomplete;
	dst->timed_out += src->timed_out;
	dst->open += src->open;
}

/*
 * One record alone (socctl rules test --log): assembled and emitted at
 * once.
 */
struct au_one {
	struct soc_event	*ev;
	bool			 got;
};

static void
au_one_emit(void *arg, struct soc_event *ev)
{
	struct au_one *x = arg;

	if (!x->got)
		soc_event_copy(x->ev, ev);
	x->got = true;
}

const char *
log_auditd_parse(const struct logparse_ctx *ctx, const char *line,
    size_t len, struct soc_event *ev)
{
	struct au_one x = { ev, false };
	struct auditd_asm *a;
	size_t l;
	const char *ds;

	if (log_auditd_record(line, len) < 0 ||
	    (a = auditd_asm_new(1, 0, au_one_emit, &x)) == NULL)
		return NULL;
	auditd_asm_feed(a, ctx, line, len, NULL, false);
	auditd_asm_free(a);
	if (!x.got)
		return NULL;
	ds = soc_event_str(ev, SOC_F_EVENT_DATASET, &l);
	return ds != NULL && l == strlen(LOGPARSE_DS_AUDITD_PROCESS) &&
	    memcmp(ds, LOGPARSE_DS_AUDITD_PROCESS, l) == 0 ?
	    LOGPARSE_DS_AUDITD_PROCESS : LOGPARSE_DS_AUDITD;
}
