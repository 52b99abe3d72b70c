/*
 * The notification sender (issue 20; notify.h says what, docs/NOTIFY.md
 * how to set it up).  One thread, its own database connection.
 *
 * Up to notify.max_inflight rows are in flight at once: e-mails and
 * webhooks as transfers of one libcurl multi handle, commands as child
 * processes, all polled from one loop, each with its own deadline
 * (notify.timeout_s).  A webhook that hangs holds one slot until its
 * timeout; mail and the other rows keep moving in the others.  A row
 * is marked sent only after its transfer (or command) succeeded, so a
 * crash in between sends it again after the restart, with the same key
 * (at least once; the key is the Message-ID, the X-SOC-Notification-Id
 * header and the JSON's notification_id).  A failed attempt is retried
 * after notify.backoff_s doubled per attempt (capped at an hour), and
 * given up after notify.max_attempts.
 *
 * Once per notify.escalate_s the thread also runs the deadline
 * escalation scan (store_notify_escalate), and once a minute it deletes
 * finished rows older than notify.keep (store_notify_prune, bounded).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "soc/base64.h"
#include "soc/json.h"
#include "soc/log.h"
#include "soc/time.h"
#include "soc/util.h"
#include "notify.h"
#include "store.h"

#define NTF_MAX_INFLIGHT	64
#define NTF_BACKOFF_CAP_NS	(3600LL * SOC_NS)
#define NTF_PASSWORD_MAX	1024
#define NTF_PRUNE_MS		60000	/* finished rows pruned this often */
#define NTF_PRUNE_MAX		1000	/* at most this many per pass */

enum { CH_EMAIL, CH_WEBHOOK, CH_COMMAND };

/* What a message says about its incident (copied out of the store). */
struct ntf_incident {
	int64_t		 id;
	char		 rule_id[128], title[256], level[32], agency[64];
	char		 sensor[128], group_key[256], category[32], status[24];
	int		 severity;
	int64_t		 first_seen, last_seen;
	uint64_t	 count;
};

struct ntf_job {
	int		 used;
	int64_t		 id;
	char		 key[192];
	char		 responder[192];
	char		 reason[48];
	char		 target[2049];
	int		 channel;
	int		 attempts;
	struct soc_sbuf	 body;		/* what is sent */
	size_t		 off;		/* SMTP upload position */
	CURL		*h;
	struct curl_slist *hdrs, *rcpt;
	char		 cerr[CURL_ERROR_SIZE];
	pid_t		 pid;
	int64_t		 deadline_ms;
	int		 done, ok;
	char		 err[300];
};

struct notify {
	const struct notify_opts *o;
	char		*db;
	struct store	*st;
	pthread_t	 thread;
	int		 started;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 stop;
	CURLM		*multi;
	struct ntf_job	 jobs[NTF_MAX_INFLIGHT];
	int		 max;
	char		 domain[128];	/* Message-ID's right side */
	char		 password[NTF_PASSWORD_MAX + 1]; /* SMTP AUTH; "" none */
	/* counters, for the log (the database has its own); written by
	 * the thread, read by SIGUSR1's log line: atomics */
	uint64_t	 sent, failed, given_up, escalations, pruned;
	int64_t		 keep_ns;	/* notify.keep; 0 keeps all */
};

/*
 * Reads notify.smtp_password_file into buf: its first line, without the
 * line end.  The file must not be readable by others (it is the relay's
 * password).  Messages name the file, never what it holds.
 */
static int
password_load(const char *path, char *buf, size_t len, char *err,
    size_t errlen)
{
	struct stat sb;
	size_t n = 0;
	ssize_t r;
	char *nl;
	int fd;

	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "notify.smtp_password_file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "notify.smtp_password_file %s: not a"
		    " regular file", path);
		goto fail;
	}
	if (sb.st_mode & S_IROTH) {
		snprintf(err, errlen, "notify.smtp_password_file %s is readable"
		    " by everyone (chmod o-rwx)", path);
		goto fail;
	}
	while (n < len - 1 && (r = read(fd, buf + n, len - 1 - n)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(err, errlen, "notify.smtp_password_file %s: %s",
			    path, strerror(errno));
			goto fail;
		}
		n += (size_t)r;
	}
	if ((nl = memchr(buf, '\n', n)) == NULL && n == len - 1) {
		snprintf(err, errlen, "notify.smtp_password_file %s: longer"
		    " than %zu bytes", path, len - 2);
		goto fail;
	}
	if (nl != NULL)
		n = (size_t)(nl - buf);
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL) {
		snprintf(err, errlen, "notify.smtp_password_file %s: a NUL"
		    " byte in the password", path);
		goto fail;
	}
	if (buf[0] == '\0') {
		snprintf(err, errlen, "notify.smtp_password_file %s: empty"
		    " first line", path);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	explicit_bzero(buf, len);
	close(fd);
	return -1;
}

/*
 * smtp://USER:PASS@HOST: any '@' is taken for userinfo (a password may
 * hold '/', '?' or '#' unencoded, and a URL without its scheme is read by
 * libcurl as smtp://), so the URL is never echoed anywhere.
 */
static int
url_has_userinfo(const char *url)
{
	return strchr(url, '@') != NULL;
}

int
notify_check(const struct notify_opts *o, char *err, size_t errlen)
{
	char pw[NTF_PASSWORD_MAX + 1];
	const unsigned char *p;

	if (o->keep != NULL && strcmp(o->keep, "0") != 0 &&
	    soc_parse_duration(o->keep) <= 0) {
		snprintf(err, errlen, "notify.keep \"%s\": a duration (30d,"
		    " 12w) or 0 (keep all)", o->keep);
		return -1;
	}
	if (o->smtp != NULL && url_has_userinfo(o->smtp)) {
		/* the URL is not echoed: it may hold a password */
		snprintf(err, errlen, "notify.smtp: no user or password in the"
		    " URL (give notify.smtp_user and notify.smtp_password_file)");
		return -1;
	}
	if ((o->smtp_user != NULL) != (o->smtp_password_file != NULL)) {
		snprintf(err, errlen, "notify.smtp_user and"
		    " notify.smtp_password_file go together");
		return -1;
	}
	if (o->smtp_user != NULL) {
		for (p = (const unsigned char *)o->smtp_user; *p != '\0'; p++)
			if (*p < 0x20 || *p == 0x7f)
				break;
		if (*p != '\0' || o->smtp_user[0] == '\0' ||
		    strlen(o->smtp_user) > 256) {
			snprintf(err, errlen, "notify.smtp_user: 1 to 256 bytes,"
			    " no control bytes");
			return -1;
		}
		if (password_load(o->smtp_password_file, pw, sizeof(pw), err,
		    errlen) == -1)
			return -1;
		explicit_bzero(pw, sizeof(pw));
	}
	if (o->webhook_template != NULL && strspn(o->webhook_template,
	    "abcdefghijklmnopqrstuvwxyz") == strlen(o->webhook_template) &&
	    o->webhook_template[0] != '\0' &&
	    (store_template_check(o->webhook_template, err, errlen) == -1 ||
	    strcmp(o->webhook_template, "custom") == 0)) {
		snprintf(err, errlen, "notify.webhook_template \"%.64s\": a"
		    " template body, or one of json, slack, mattermost,"
		    " telegram", o->webhook_template);
		return -1;
	}
	if (o->smtp_ca_file != NULL && access(o->smtp_ca_file, R_OK) == -1) {
		snprintf(err, errlen, "notify.smtp_ca_file %s: %s",
		    o->smtp_ca_file, strerror(errno));
		return -1;
	}
	return 0;
}

int
notify_route(struct store *st, const struct notify_opts *o, char *err,
    size_t errlen)
{
	struct store_notify_route r;
	char cats[256] = "";
	size_t i;
	int sev;

	if ((sev = store_severity_parse(o->min_severity)) < 0) {
		snprintf(err, errlen, "notify.min_severity \"%s\": one of"
		    " informational, low, medium, high, critical",
		    o->min_severity);
		return -1;
	}
	for (i = 0; i < o->categories.n; i++) {
		if (strchr(o->categories.v[i], ',') != NULL ||
		    strlen(cats) + strlen(o->categories.v[i]) + 2 >= sizeof(cats)) {
			snprintf(err, errlen, "notify.categories: a list of"
			    " category codes (brute_force, scan, ...)");
			return -1;
		}
		if (i > 0)
			strcat(cats, ",");
		strcat(cats, o->categories.v[i]);
	}
	if (o->smtp != NULL && strncmp(o->smtp, "smtp://", 7) != 0 &&
	    strncmp(o->smtp, "smtps://", 8) != 0) {
		/* not echoed: it may hold a password */
		snprintf(err, errlen, "notify.smtp: smtp://HOST:PORT or"
		    " smtps://HOST:PORT");
		return -1;
	}
	if (store_contact_check(STORE_CONTACT_EMAIL, o->from, err,
	    errlen) == -1 || notify_check(o, err, errlen) == -1)
		return -1;
	r.min_severity = sev;
	r.categories = cats;
	r.lead = o->lead ? o->lead : "";
	store_notify_enable(st, &r);
	return 0;
}

/* ---- the message ---- */

static int
incident_copy(void *arg, const struct store_incident *in)
{
	struct ntf_incident *x = arg;

	x->id = in->id;
	snprintf(x->rule_id, sizeof(x->rule_id), "%s", in->rule_id);
	snprintf(x->title, sizeof(x->title), "%s", in->rule_title);
	snprintf(x->level, sizeof(x->level), "%s", in->rule_level);
	snprintf(x->agency, sizeof(x->agency), "%s", in->agency);
	snprintf(x->sensor, sizeof(x->sensor), "%s", in->sensor);
	snprintf(x->group_key, sizeof(x->group_key), "%s", in->group_key);
	snprintf(x->category, sizeof(x->category), "%s", in->category);
	snprintf(x->status, sizeof(x->status), "%s",
	    store_status_name(in->status));
	x->severity = in->severity;
	x->first_seen = in->first_seen;
	x->last_seen = in->last_seen;
	x->count = in->count;
	return 0;
}

/* Header-safe: control bytes become spaces. */
static void
clean(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static const char *
reason_text(const char *reason, char *buf, size_t len)
{
	if (strcmp(reason, "opened") == 0)
		return "a new incident";
	if (strcmp(reason, "reopened") == 0)
		return "a resolved incident fired again and was reopened";
	if (strcmp(reason, "raised") == 0)
		return "the incident rose to the notification threshold";
	if (strncmp(reason, "half-", 5) == 0) {
		snprintf(buf, len, "half of the time for the '%s' report has"
		    " passed and it is not recorded", reason + 5);
		return buf;
	}
	if (strncmp(reason, "overdue-", 8) == 0) {
		snprintf(buf, len, "the '%s' report is OVERDUE", reason + 8);
		return buf;
	}
	return reason;
}

/* The plain text: a subject line, then the facts, one per line. */
static void
text_build(struct soc_sbuf *b, const struct ntf_job *j,
    const struct ntf_incident *x, int subject_only)
{
	char t1[SOC_TIME_FORMAT_LEN], t2[SOC_TIME_FORMAT_LEN], rb[128];

	if (x == NULL) {
		soc_sbuf_printf(b, "[SOC] test notification to %s", j->responder);
		if (!subject_only)
			soc_sbuf_printf(b, "\nThis is a test from soc-correlator"
			    " (socctl notify test).\nNotification id: %s\n",
			    j->key);
		return;
	}
	soc_sbuf_printf(b, "[SOC] %s incident #%lld (%s): %s",
	    store_severity_name(x->severity), (long long)x->id, j->reason,
	    x->title);
	if (subject_only)
		return;
	soc_time_format(x->first_seen, t1, sizeof(t1));
	soc_time_format(x->last_seen, t2, sizeof(t2));
	soc_sbuf_printf(b, "\nWhy: %s\nAgency: %s\nCategory: %s\nStatus: %s\n"
	    "Rule: %s (%s)\nEvents: %llu, first %s, last %s\n",
	    reason_text(j->reason, rb, sizeof(rb)), x->agency, x->category,
	    x->status, x->rule_id, x->level, (unsigned long long)x->count,
	    t1, t2);
	if (x->group_key[0])
		soc_sbuf_printf(b, "Group: %s\n", x->group_key);
	if (x->sensor[0])
		soc_sbuf_printf(b, "Sensor: %s\n", x->sensor);
	soc_sbuf_printf(b, "See: socctl incident show %lld\nNotification id:"
	    " %s\n", (long long)x->id, j->key);
}

static void
jstr(struct soc_sbuf *b, const char *k, const char *v, int comma)
{
	soc_sbuf_printf(b, "%s\"%s\":", comma ? "," : "", k);
	soc_sbuf_json_str(b, v, strlen(v));
}

static void
incident_json(struct soc_sbuf *b, const struct ntf_incident *x)
{
	char t[SOC_TIME_FORMAT_LEN];

	if (x == NULL) {
		soc_sbuf_adds(b, "null");
		return;
	}
	soc_sbuf_printf(b, "{\"id\":%lld,\"rule\":{", (long long)x->id);
	jstr(b, "id", x->rule_id, 0);
	jstr(b, "title", x->title, 1);
	jstr(b, "level", x->level, 1);
	soc_sbuf_adds(b, "}");
	jstr(b, "agency", x->agency, 1);
	jstr(b, "severity", store_severity_name(x->severity), 1);
	jstr(b, "status", x->status, 1);
	jstr(b, "category", x->category, 1);
	soc_time_format(x->first_seen, t, sizeof(t));
	jstr(b, "first_seen", t, 1);
	soc_time_format(x->last_seen, t, sizeof(t));
	jstr(b, "last_seen", t, 1);
	soc_sbuf_printf(b, ",\"count\":%llu", (unsigned long long)x->count);
	jstr(b, "group_key", x->group_key, 1);
	jstr(b, "sensor", x->sensor, 1);
	soc_sbuf_adds(b, "}");
}

/* The JSON document webhooks and commands get. */
static void
doc_build(struct soc_sbuf *b, const struct ntf_job *j,
    const struct ntf_incident *x)
{
	struct soc_sbuf t;

	soc_sbuf_init(&t);
	text_build(&t, j, x, 0);
	soc_sbuf_adds(b, "{");
	jstr(b, "notification_id", j->key, 0);
	jstr(b, "reason", j->reason, 1);
	jstr(b, "responder", j->responder, 1);
	jstr(b, "text", t.data ? t.data : "", 1);
	soc_sbuf_adds(b, ",\"incident\":");
	incident_json(b, x);
	soc_sbuf_adds(b, "}");
	soc_sbuf_free(&t);
}

/* s JSON-escaped without its quotes. */
static void
json_inner(struct soc_sbuf *b, const char *s)
{
	struct soc_sbuf t;

	soc_sbuf_init(&t);
	soc_sbuf_json_str(&t, s, strlen(s));
	if (t.len >= 2)
		soc_sbuf_add(b, t.data + 1, t.len - 2);
	soc_sbuf_free(&t);
}

/*
 * notify.webhook_template: $text, $subject, $title, $severity, $agency,
 * $reason, $responder, $notification_id are replaced by their value
 * escaped for a JSON string (write them inside quotes), $id by the
 * incident id (0 for a test), $incident by the incident object.
 */
static void
template_apply(struct soc_sbuf *b, const char *tpl, const struct ntf_job *j,
    const struct ntf_incident *x)
{
	static const char *const names[] = { "notification_id", "incident",
	    "responder", "severity", "subject", "agency", "reason", "title",
	    "text", "id", NULL };
	struct soc_sbuf v;
	const char *p;
	size_t n;
	int k;

	for (p = tpl; *p != '\0'; p++) {
		if (*p != '$') {
			soc_sbuf_add(b, p, 1);
			continue;
		}
		for (k = 0; names[k] != NULL; k++) {
			n = strlen(names[k]);
			if (strncmp(p + 1, names[k], n) == 0)
				break;
		}
		if (names[k] == NULL) {
			soc_sbuf_add(b, p, 1);
			continue;
		}
		soc_sbuf_init(&v);
		if (strcmp(names[k], "incident") == 0)
			incident_json(b, x);
		else if (strcmp(names[k], "id") == 0)
			soc_sbuf_printf(b, "%lld", x ? (long long)x->id : 0LL);
		else {
			if (strcmp(names[k], "text") == 0)
				text_build(&v, j, x, 0);
			else if (strcmp(names[k], "subject") == 0)
				text_build(&v, j, x, 1);
			else if (strcmp(names[k], "notification_id") == 0)
				soc_sbuf_adds(&v, j->key);
			else if (strcmp(names[k], "responder") == 0)
				soc_sbuf_adds(&v, j->responder);
			else if (strcmp(names[k], "reason") == 0)
				soc_sbuf_adds(&v, j->reason);
			else if (x == NULL)
				soc_sbuf_adds(&v, "");
			else if (strcmp(names[k], "severity") == 0)
				soc_sbuf_adds(&v, store_severity_name(x->severity));
			else if (strcmp(names[k], "agency") == 0)
				soc_sbuf_adds(&v, x->agency);
			else
				soc_sbuf_adds(&v, x->title);
			json_inner(b, v.data ? v.data : "");
		}
		soc_sbuf_free(&v);
		p += n;
	}
}

static void
job_fail(struct ntf_job *j, const char *fmt, const char *a)
{
	j->done = 1;
	j->ok = 0;
	snprintf(j->err, sizeof(j->err), fmt, a);
}

/*
 * The templates a responder (store_template_check's names) or the route
 * (notify.webhook_template) can name.  Slack's and Mattermost's
 * incoming webhooks post "text"; Telegram's sendMessage takes "text" in
 * the body and chat_id from the URL's query string (docs/NOTIFY.md).
 */
static const struct {
	const char	*name, *body;
} builtin_tpl[] = {
	{ "slack", "{\"text\": \"$text\"}" },
	{ "mattermost", "{\"text\": \"$text\"}" },
	{ "telegram", "{\"text\": \"$text\", \"disable_web_page_preview\":"
	    " true}" },
	{ NULL, NULL }
};

/* notify.webhook_template holding one word names a template; else it
 * is the custom body. */
static int
tpl_is_name(const char *t)
{
	return t != NULL && t[0] != '\0' &&
	    strspn(t, "abcdefghijklmnopqrstuvwxyz") == strlen(t);
}

/*
 * The webhook body of job j after the template named tpl ("" the
 * route's): 0, or -1 with the reason in j->err.
 */
static int
webhook_build(struct notify *nt, struct ntf_job *j, const char *tpl,
    const struct ntf_incident *x)
{
	const char *route = nt->o->webhook_template;
	int k;

	if (tpl == NULL || tpl[0] == '\0')
		tpl = tpl_is_name(route) ? route : route != NULL &&
		    route[0] != '\0' ? "custom" : "json";
	if (strcmp(tpl, "json") == 0) {
		doc_build(&j->body, j, x);
		return 0;
	}
	if (strcmp(tpl, "custom") == 0) {
		if (route == NULL || route[0] == '\0' || tpl_is_name(route)) {
			job_fail(j, "%s", "template custom: notify.webhook_template"
			    " holds no template body");
			return -1;
		}
		template_apply(&j->body, route, j, x);
		return 0;
	}
	for (k = 0; builtin_tpl[k].name != NULL; k++)
		if (strcmp(tpl, builtin_tpl[k].name) == 0) {
			template_apply(&j->body, builtin_tpl[k].body, j, x);
			return 0;
		}
	job_fail(j, "unknown webhook template '%.64s'", tpl);
	return -1;
}

/* RFC 2047 for a subject with bytes outside ASCII. */
static void
subject_header(struct soc_sbuf *b, const char *s)
{
	const unsigned char *p;
	char *e;

	for (p = (const unsigned char *)s; *p != '\0' && *p < 0x80; p++)
		;
	if (*p == '\0') {
		soc_sbuf_printf(b, "Subject: %s\r\n", s);
		return;
	}
	if ((e = soc_base64_encode(s, strlen(s))) == NULL) {
		soc_sbuf_adds(b, "Subject: [SOC] notification\r\n");
		return;
	}
	soc_sbuf_printf(b, "Subject: =?UTF-8?B?%s?=\r\n", e);
	free(e);
}

static void
mail_build(struct notify *nt, struct ntf_job *j, const struct ntf_incident *x)
{
	struct soc_sbuf t;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	const char *p;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	soc_sbuf_printf(&j->body, "From: %s\r\nTo: %s\r\nDate: %s\r\n"
	    "Message-ID: <%s@%s>\r\nX-SOC-Notification-Id: %s\r\n",
	    nt->o->from, j->target, date, j->key, nt->domain, j->key);
	soc_sbuf_init(&t);
	text_build(&t, j, x, 1);
	if (t.data != NULL) {
		clean(t.data);
		subject_header(&j->body, t.data);
	}
	soc_sbuf_reset(&t);
	soc_sbuf_adds(&j->body, "MIME-Version: 1.0\r\nContent-Type: text/plain;"
	    " charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
	text_build(&t, j, x, 0);
	for (p = t.data ? t.data : ""; *p != '\0'; p++) {
		if (*p == '\n')
			soc_sbuf_add(&j->body, "\r\n", 2);
		else if (*p != '\r')
			soc_sbuf_add(&j->body, p, 1);
	}
	soc_sbuf_free(&t);
}

/* ---- sending ---- */

static size_t
upload_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct ntf_job *j = arg;
	size_t n = size * nitems, left = j->body.len - j->off;

	if (n > left)
		n = left;
	memcpy(buf, j->body.data + j->off, n);
	j->off += n;
	return n;
}

static size_t
discard_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	(void)buf;
	(void)arg;
	return size * nitems;
}

static int
curl_begin(struct notify *nt, struct ntf_job *j)
{
	long ms = (long)nt->o->timeout_s * 1000;
	char mailbox[2100];

	if ((j->h = curl_easy_init()) == NULL)
		return -1;
	curl_easy_setopt(j->h, CURLOPT_PRIVATE, j);
	curl_easy_setopt(j->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(j->h, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(j->h, CURLOPT_CONNECTTIMEOUT_MS, ms);
	curl_easy_setopt(j->h, CURLOPT_ERRORBUFFER, j->cerr);
	if (j->channel == CH_EMAIL) {
		curl_easy_setopt(j->h, CURLOPT_URL, nt->o->smtp);
		curl_easy_setopt(j->h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
		/* a password goes only over TLS unless told otherwise:
		 * STARTTLS required (smtps:// is TLS from the start) */
		curl_easy_setopt(j->h, CURLOPT_USE_SSL, nt->password[0] &&
		    !nt->o->smtp_insecure_login ? (long)CURLUSESSL_ALL :
		    (long)CURLUSESSL_TRY);
		if (nt->password[0]) {
			curl_easy_setopt(j->h, CURLOPT_USERNAME,
			    nt->o->smtp_user);
			curl_easy_setopt(j->h, CURLOPT_PASSWORD, nt->password);
		}
		if (nt->o->smtp_ca_file != NULL) {
			/* in place of the system's: libcurl's built-in
			 * CA path (/etc/ssl/certs on Debian) is dropped */
			curl_easy_setopt(j->h, CURLOPT_CAINFO,
			    nt->o->smtp_ca_file);
			curl_easy_setopt(j->h, CURLOPT_CAPATH, NULL);
		}
		snprintf(mailbox, sizeof(mailbox), "<%s>", nt->o->from);
		curl_easy_setopt(j->h, CURLOPT_MAIL_FROM, mailbox);
		snprintf(mailbox, sizeof(mailbox), "<%s>", j->target);
		if ((j->rcpt = curl_slist_append(NULL, mailbox)) == NULL)
			return -1;
		curl_easy_setopt(j->h, CURLOPT_MAIL_RCPT, j->rcpt);
		curl_easy_setopt(j->h, CURLOPT_READFUNCTION, upload_cb);
		curl_easy_setopt(j->h, CURLOPT_READDATA, j);
		curl_easy_setopt(j->h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(j->h, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)j->body.len);
	} else {
		snprintf(mailbox, sizeof(mailbox), "X-SOC-Notification-Id: %s",
		    j->key);
		j->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
		if (j->hdrs == NULL || curl_slist_append(j->hdrs, mailbox) == NULL)
			return -1;
		curl_easy_setopt(j->h, CURLOPT_URL, j->target);
		curl_easy_setopt(j->h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(j->h, CURLOPT_HTTPHEADER, j->hdrs);
		curl_easy_setopt(j->h, CURLOPT_POSTFIELDS, j->body.data);
		curl_easy_setopt(j->h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)j->body.len);
		curl_easy_setopt(j->h, CURLOPT_WRITEFUNCTION, discard_cb);
		curl_easy_setopt(j->h, CURLOPT_USERAGENT, "soc-correlator");
	}
	return curl_multi_add_handle(nt->multi, j->h) == CURLM_OK ? 0 : -1;
}

/* Runs /bin/sh -c TARGET with the JSON on stdin, in its own group. */
static int
command_begin(struct notify *nt, struct ntf_job *j, int64_t incident)
{
	char e1[256], e2[64], e3[80], *envp[5];
	const char *path = getenv("PATH");
	char pathv[1024];
	int fd;

	if ((fd = memfd_create("soc-notify", MFD_CLOEXEC)) == -1)
		return -1;
	if (write(fd, j->body.data, j->body.len) != (ssize_t)j->body.len ||
	    lseek(fd, 0, SEEK_SET) == -1) {
		close(fd);
		return -1;
	}
	snprintf(e1, sizeof(e1), "SOC_NOTIFICATION_ID=%s", j->key);
	snprintf(e2, sizeof(e2), "SOC_INCIDENT_ID=%lld", (long long)incident);
	snprintf(e3, sizeof(e3), "SOC_REASON=%s", j->reason);
	snprintf(pathv, sizeof(pathv), "PATH=%s", path ? path :
	    "/usr/bin:/bin");
	envp[0] = e1; envp[1] = e2; envp[2] = e3; envp[3] = pathv;
	envp[4] = NULL;
	if ((j->pid = fork()) == -1) {
		close(fd);
		return -1;
	}
	if (j->pid == 0) {
		/* only async-signal-safe calls until exec */
		int null = open("/dev/null", O_WRONLY);

		setpgid(0, 0);
		dup2(fd, 0);
		if (null != -1)
			dup2(null, 1);
		close_range(3, ~0U, 0);
		execle("/bin/sh", "sh", "-c", j->target, (char *)NULL, envp);
		_exit(127);
	}
	close(fd);
	(void)nt;
	return 0;
}

static void
job_clear(struct notify *nt, struct ntf_job *j)
{
	if (j->h != NULL) {
		curl_multi_remove_handle(nt->multi, j->h);
		curl_easy_cleanup(j->h);
	}
	curl_slist_free_all(j->hdrs);
	curl_slist_free_all(j->rcpt);
	soc_sbuf_free(&j->body);
	memset(j, 0, sizeof(*j));
}

/* Builds the message of row r into a free slot and starts it. */
static int
job_start(void *arg, const struct store_notification *r)
{
	struct notify *nt = arg;
	struct ntf_incident x, *xp = NULL;
	struct ntf_job *j = NULL;
	char why[300];
	int k, rc;

	for (k = 0; k < nt->max; k++) {
		if (nt->jobs[k].used && nt->jobs[k].id == r->id)
			return 0;	/* already in flight */
		if (!nt->jobs[k].used && j == NULL)
			j = &nt->jobs[k];
	}
	if (j == NULL)
		return 1;		/* full: stop the scan */
	memset(j, 0, sizeof(*j));
	j->used = 1;
	j->id = r->id;
	j->attempts = r->attempts;
	soc_sbuf_init(&j->body);
	snprintf(j->key, sizeof(j->key), "%s", r->key);
	snprintf(j->responder, sizeof(j->responder), "%s", r->responder);
	snprintf(j->reason, sizeof(j->reason), "%s", r->reason);
	snprintf(j->target, sizeof(j->target), "%s", r->target);
	j->channel = strcmp(r->channel, "email") == 0 ? CH_EMAIL :
	    strcmp(r->channel, "webhook") == 0 ? CH_WEBHOOK : CH_COMMAND;
	j->deadline_ms = soc_mono_ms() + nt->o->timeout_s * 1000;
	/* the row may have been written by another hand: check again */
	if (store_contact_check(j->channel, r->target, why, sizeof(why)) == -1) {
		job_fail(j, "%s", why);
		return 0;
	}
	if (r->incident_id > 0) {
		memset(&x, 0, sizeof(x));
		if ((rc = store_incident_get(nt->st, r->incident_id,
		    incident_copy, &x)) != 1) {
			job_fail(j, "%s", rc == 0 ? "no such incident" :
			    store_errmsg(nt->st));
			return 0;
		}
		xp = &x;
	}
	if (j->channel == CH_EMAIL && (nt->o->smtp == NULL || *nt->o->smtp == '\0')) {
		job_fail(j, "%s", "no SMTP server (notify.smtp, --smtp)");
		return 0;
	}
	if (j->channel == CH_EMAIL)
		mail_build(nt, j, xp);
	else if (j->channel == CH_WEBHOOK) {
		if (webhook_build(nt, j, r->tmpl, xp) == -1)
			return 0;
	} else
		doc_build(&j->body, j, xp);
	if (j->body.oom || j->body.data == NULL) {
		job_fail(j, "%s", "out of memory");
		return 0;
	}
	rc = j->channel == CH_COMMAND ? command_begin(nt, j, r->incident_id) :
	    curl_begin(nt, j);
	if (rc == -1)
		job_fail(j, "cannot start: %s", strerror(errno));
	return 0;
}

/* Transfers that ended, commands that exited, deadlines passed. */
static void
jobs_reap(struct notify *nt)
{
	struct ntf_job *j;
	CURLMsg *m;
	long code = 0;
	int left, k, status;
	pid_t p;

	while ((m = curl_multi_info_read(nt->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		j->done = 1;
		if (m->data.result == CURLE_USE_SSL_FAILED &&
		    j->channel == CH_EMAIL && nt->password[0]) {
			snprintf(j->err, sizeof(j->err), "the SMTP server offers"
			    " no STARTTLS: the password is not sent in clear"
			    " (notify.smtp_insecure_login)");
			continue;
		}
		if (m->data.result != CURLE_OK) {
			snprintf(j->err, sizeof(j->err), "%s", j->cerr[0] ?
			    j->cerr : curl_easy_strerror(m->data.result));
			continue;
		}
		if (j->channel == CH_WEBHOOK) {
			curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &code);
			if (code < 200 || code > 299) {
				snprintf(j->err, sizeof(j->err), "HTTP %ld", code);
				continue;
			}
		}
		j->ok = 1;
	}
	for (k = 0; k < nt->max; k++) {
		j = &nt->jobs[k];
		if (!j->used || j->done || j->channel != CH_COMMAND)
			continue;
		if ((p = waitpid(j->pid, &status, WNOHANG)) == j->pid) {
			j->done = 1;
			j->ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
			if (!j->ok)
				snprintf(j->err, sizeof(j->err), "command %s %d",
				    WIFEXITED(status) ? "exited" : "killed by signal",
				    WIFEXITED(status) ? WEXITSTATUS(status) :
				    WTERMSIG(status));
		} else if (soc_mono_ms() > j->deadline_ms) {
			kill(-j->pid, SIGKILL);
			waitpid(j->pid, &status, 0);
			j->done = 1;
			snprintf(j->err, sizeof(j->err), "command timed out after"
			    " %llds", nt->o->timeout_s);
		}
	}
}

/* Records finished jobs; 1 if any finished. */
static int
jobs_record(struct notify *nt)
{
	struct ntf_job *j;
	int64_t now = soc_now_ns(), delay;
	int k, any = 0, a;

	for (k = 0; k < nt->max; k++) {
		j = &nt->jobs[k];
		if (!j->used || !j->done)
			continue;
		any = 1;
		a = j->attempts + 1;
		delay = nt->o->backoff_s * SOC_NS;
		for (int i = 1; i < a && delay < NTF_BACKOFF_CAP_NS; i++)
			delay *= 2;
		if (delay > NTF_BACKOFF_CAP_NS)
			delay = NTF_BACKOFF_CAP_NS;
		if (j->ok)
			__atomic_fetch_add(&nt->sent, 1, __ATOMIC_RELAXED);
		else {
			__atomic_fetch_add(&nt->failed, 1, __ATOMIC_RELAXED);
			if (a >= nt->o->max_attempts)
				__atomic_fetch_add(&nt->given_up, 1,
				    __ATOMIC_RELAXED);
			log_warnx("notify: %s %s to %s (%s): %s%s", j->key,
			    j->channel == CH_EMAIL ? "e-mail" : j->channel ==
			    CH_WEBHOOK ? "webhook" : "command", j->responder,
			    j->reason, j->err, a >= nt->o->max_attempts ?
			    "; given up" : "; will retry");
		}
		if (store_notify_result(nt->st, j->id, j->ok, j->err, a,
		    (int)nt->o->max_attempts, now + delay, now) == -1)
			log_warnx("notify: recording %s: %s", j->key,
			    store_errmsg(nt->st));
		job_clear(nt, j);
	}
	return any;
}

static int
inflight(struct notify *nt)
{
	int k, n = 0;

	for (k = 0; k < nt->max; k++)
		n += nt->jobs[k].used;
	return n;
}

static int
stopping(struct notify *nt, int wait_ms)
{
	struct timespec ts;
	int s;

	pthread_mutex_lock(&nt->mu);
	if (!nt->stop && wait_ms > 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += wait_ms / 1000;
		ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&nt->cv, &nt->mu, &ts);
	}
	s = nt->stop;
	pthread_mutex_unlock(&nt->mu);
	return s;
}

/* One bounded pass over the finished rows older than notify.keep; the
 * time of the next one. */
static int64_t
prune(struct notify *nt)
{
	int64_t n, now = soc_now_ns();

	if ((n = store_notify_prune(nt->st, now - nt->keep_ns, NTF_PRUNE_MAX,
	    now)) == -1) {
		log_warnx("notify: pruning the outbox: %s", store_errmsg(nt->st));
		return soc_mono_ms() + NTF_PRUNE_MS;
	}
	if (n > 0) {
		__atomic_fetch_add(&nt->pruned, (uint64_t)n, __ATOMIC_RELAXED);
		log_info("notify: %lld finished notification%s older than"
		    " notify.keep (%s) deleted", (long long)n, n == 1 ? "" : "s",
		    nt->o->keep);
	}
	/* a full pass: more are waiting, go on after the next round */
	return soc_mono_ms() + (n >= NTF_PRUNE_MAX ? 0 : NTF_PRUNE_MS);
}

static void *
notify_main(void *arg)
{
	struct notify *nt = arg;
	int64_t next_fetch = 0, next_esc = 0, next_prune = 0;
	int still, n;

	while (!stopping(nt, 0)) {
		if (nt->keep_ns > 0 && soc_mono_ms() >= next_prune)
			next_prune = prune(nt);
		if (soc_mono_ms() >= next_esc) {
			next_esc = soc_mono_ms() + nt->o->escalate_s * 1000;
			if (store_notify_escalate(nt->st, soc_now_ns(), &n) == -1)
				log_warnx("notify: deadline escalation: %s",
				    store_errmsg(nt->st));
			else if (n > 0) {
				__atomic_fetch_add(&nt->escalations,
				    (uint64_t)n, __ATOMIC_RELAXED);
				log_info("notify: %d deadline escalation%s", n,
				    n == 1 ? "" : "s");
			}
		}
		if (inflight(nt) < nt->max && soc_mono_ms() >= next_fetch) {
			next_fetch = soc_mono_ms() + 1000;
			if (store_notify_due(nt->st, soc_now_ns(), nt->max * 2,
			    job_start, nt) == -1)
				log_warnx("notify: reading the outbox: %s",
				    store_errmsg(nt->st));
		}
		if (inflight(nt) == 0) {
			stopping(nt, 500);
			continue;
		}
		curl_multi_perform(nt->multi, &still);
		curl_multi_poll(nt->multi, NULL, 0, 100, NULL);
		curl_multi_perform(nt->multi, &still);
		jobs_reap(nt);
		if (jobs_record(nt))
			next_fetch = 0;	/* a slot is free: refill now */
	}
	return NULL;
}

struct notify *
notify_start(const char *db, const struct notify_opts *o, char *err,
    size_t errlen)
{
	struct store_notify_conf c;
	struct notify *nt;
	const char *at;
	char cats[256] = "";
	size_t i;

	if ((nt = calloc(1, sizeof(*nt))) == NULL ||
	    (nt->db = strdup(db)) == NULL) {
		free(nt);
		snprintf(err, errlen, "notify: out of memory");
		return NULL;
	}
	nt->o = o;
	nt->max = (int)o->max_inflight;
	nt->keep_ns = o->keep == NULL || strcmp(o->keep, "0") == 0 ? 0 :
	    soc_parse_duration(o->keep);
	at = strrchr(o->from, '@');
	snprintf(nt->domain, sizeof(nt->domain), "%s", at ? at + 1 :
	    "soc-correlator");
	pthread_mutex_init(&nt->mu, NULL);
	pthread_cond_init(&nt->cv, NULL);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (nt->multi = curl_multi_init()) == NULL) {
		snprintf(err, errlen, "notify: libcurl did not start");
		goto fail;
	}
	if ((nt->st = store_open(db, 0, err, errlen)) == NULL)
		goto fail;
	if (notify_route(nt->st, o, err, errlen) == -1)
		goto fail;
	if (o->smtp_user != NULL && password_load(o->smtp_password_file,
	    nt->password, sizeof(nt->password), err, errlen) == -1)
		goto fail;
	for (i = 0; i < o->categories.n; i++)
		snprintf(cats + strlen(cats), sizeof(cats) - strlen(cats),
		    "%s%s", i ? "," : "", o->categories.v[i]);
	c.smtp = o->smtp;
	c.from = o->from;
	c.lead = o->lead;
	c.categories = cats;
	c.min_severity = store_severity_parse(o->min_severity);
	c.max_attempts = (int)o->max_attempts;
	if (store_notify_configure(nt->st, &c, soc_now_ns()) == -1) {
		snprintf(err, errlen, "notify: %s", store_errmsg(nt->st));
		goto fail;
	}
	if (pthread_create(&nt->thread, NULL, notify_main, nt) != 0) {
		snprintf(err, errlen, "notify: cannot start its thread");
		goto fail;
	}
	nt->started = 1;
	log_info("notify: sending through %s as %s (%s and above%s%s)%s%s%s",
	    o->smtp ? o->smtp : "no SMTP server", o->from, o->min_severity,
	    o->lead ? ", lead " : "", o->lead ? o->lead : "",
	    o->smtp_user ? "; SMTP login " : "", o->smtp_user ? o->smtp_user :
	    "", o->smtp_user == NULL ? "" : o->smtp_insecure_login ?
	    " (TLS when offered)" : " (TLS required)");
	return nt;
fail:
	notify_stop(nt);
	return NULL;
}

void
notify_stop(struct notify *nt)
{
	int k;

	if (nt == NULL)
		return;
	if (nt->started) {
		pthread_mutex_lock(&nt->mu);
		nt->stop = 1;
		pthread_cond_signal(&nt->cv);
		pthread_mutex_unlock(&nt->mu);
		pthread_join(nt->thread, NULL);
	}
	/* rows in flight stay pending: sent again after a restart */
	for (k = 0; k < NTF_MAX_INFLIGHT; k++) {
		if (nt->jobs[k].used && nt->jobs[k].pid > 0 &&
		    !nt->jobs[k].done) {
			kill(-nt->jobs[k].pid, SIGKILL);
			waitpid(nt->jobs[k].pid, NULL, 0);
		}
		if (nt->jobs[k].used)
			job_clear(nt, &nt->jobs[k]);
	}
	if (nt->multi != NULL)
		curl_multi_cleanup(nt->multi);
	curl_global_cleanup();
	store_close(nt->st);
	explicit_bzero(nt->password, sizeof(nt->password));
	pthread_mutex_destroy(&nt->mu);
	pthread_cond_destroy(&nt->cv);
	free(nt->db);
	free(nt);
}

void
notify_log_counters(struct notify *nt)
{
	if (nt == NULL)
		return;
	log_info("notify: sent %llu, failed attempts %llu, given up %llu,"
	    " escalations %llu, pruned %llu",
	    (unsigned long long)__atomic_load_n(&nt->sent, __ATOMIC_RELAXED),
	    (unsigned long long)__atomic_load_n(&nt->failed, __ATOMIC_RELAXED),
	    (unsigned long long)__atomic_load_n(&nt->given_up, __ATOMIC_RELAXED),
	    (unsigned long long)__atomic_load_n(&nt->escalations,
	    __ATOMIC_RELAXED),
	    (unsigned long long)__atomic_load_n(&nt->pruned, __ATOMIC_RELAXED));
}
