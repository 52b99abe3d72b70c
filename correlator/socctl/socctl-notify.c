/*
 * socctl notify status and notify test (issue 20): what the correlator's
 * notification sender is doing, read from the database (notify_state and
 * the notification outbox), and a test message to one responder.
 *
 * socctl never sends anything itself: `notify test` writes rows to the
 * outbox (one per contact of the responder) and waits for the running
 * correlator's sender to make its first attempt at each, then reports
 * what happened, so the test goes through exactly the path an incident
 * takes (the same SMTP server, From address, timeouts and templates).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "soc/util.h"
#include "socctl.h"
#include "store.h"

struct errs {
	struct ctx		*c;
	struct soc_sbuf		*b;	/* JSON; NULL: text */
	int			 n;
};

static int
error_row(void *arg, const struct store_notification *r)
{
	struct errs *e = arg;
	char t[64];
	int m = 0;

	if (e->b == NULL) {
		time_human(e->c, r->next_at, t, sizeof(t));
		printf("  #%lld %s %s %s (%s, %d attempts): ", (long long)r->id,
		    r->responder, r->channel, r->reason, r->state, r->attempts);
		put_clean(stdout, r->last_error);
		putchar('\n');
		return 0;
	}
	soc_sbuf_adds(e->b, e->n++ ? ",{" : "{");
	j_int(e->b, &m, "id", (long long)r->id);
	j_str(e->b, &m, "key", r->key);
	j_str(e->b, &m, "responder", r->responder);
	j_str(e->b, &m, "channel", r->channel);
	j_str(e->b, &m, "reason", r->reason);
	j_str(e->b, &m, "state", r->state);
	j_int(e->b, &m, "attempts", r->attempts);
	j_str(e->b, &m, "error", r->last_error);
	soc_sbuf_adds(e->b, "}");
	return 0;
}

static int
status_json(struct ctx *c, const struct store_notify_status *s)
{
	struct soc_sbuf b;
	struct errs e = { c, NULL, 0 };
	int n = 0, m = 0, rc;

	soc_sbuf_init(&b);
	e.b = &b;
	soc_sbuf_adds(&b, "{");
	j_bool(&b, &n, "configured", s->started_at > 0);
	j_str(&b, &n, "smtp", s->smtp[0] ? s->smtp : NULL);
	j_str(&b, &n, "from", s->from[0] ? s->from : NULL);
	j_str(&b, &n, "lead", s->lead[0] ? s->lead : NULL);
	j_str(&b, &n, "categories", s->categories[0] ? s->categories : NULL);
	j_str(&b, &n, "min_severity", store_severity_name(s->min_severity));
	j_int(&b, &n, "max_attempts", s->max_attempts);
	j_time(&b, &n, "started_at", s->started_at);
	j_key(&b, &n, "outbox");
	soc_sbuf_adds(&b, "{");
	j_int(&b, &m, "pending", (long long)s->pending);
	j_int(&b, &m, "retrying", (long long)s->retrying);
	j_int(&b, &m, "sent", (long long)s->done);
	j_int(&b, &m, "given_up", (long long)s->abandoned);
	soc_sbuf_adds(&b, "}");
	j_time(&b, &n, "oldest_pending_at", s->oldest_pending);
	if (s->oldest_pending > 0)
		j_int(&b, &n, "oldest_pending_age_s", (long long)((c->now -
		    s->oldest_pending) / SOC_NS));
	else
		j_str(&b, &n, "oldest_pending_age_s", NULL);
	m = 0;
	j_key(&b, &n, "counters");
	soc_sbuf_adds(&b, "{");
	j_int(&b, &m, "sent", (long long)s->sent);
	j_int(&b, &m, "failed", (long long)s->failed);
	j_int(&b, &m, "given_up", (long long)s->given_up);
	j_int(&b, &m, "escalations", (long long)s->escalations);
	j_int(&b, &m, "pruned", (long long)s->pruned);
	soc_sbuf_adds(&b, "}");
	j_str(&b, &n, "last_error", s->last_error[0] ? s->last_error : NULL);
	j_key(&b, &n, "errors");
	soc_sbuf_adds(&b, "[");
	rc = store_notify_errors(c->st, 10, error_row, &e);
	soc_sbuf_adds(&b, "]}");
	if (rc == -1) {
		soc_sbuf_free(&b);
		return db_fail(c);
	}
	return j_print(&b);
}

static int
status_text(struct ctx *c, const struct store_notify_status *s)
{
	struct errs e = { c, NULL, 0 };
	char t[64], a[64];

	if (s->started_at == 0)
		printf("sender            not started (no correlator has run"
		    " with notify.* settings)\n");
	else {
		time_human(c, s->started_at, t, sizeof(t));
		printf("sender            started %s\n", t);
	}
	printf("smtp              %s\n", s->smtp[0] ? s->smtp : "none");
	printf("from              %s\n", s->from[0] ? s->from : "none");
	printf("routing           %s and above, categories %s, lead %s\n",
	    store_severity_name(s->min_severity), s->categories[0] ?
	    s->categories : "any", s->lead[0] ? s->lead : "none");
	printf("outbox            %llu pending, %llu retrying, %llu sent,"
	    " %llu given up\n", (unsigned long long)s->pending,
	    (unsigned long long)s->retrying, (unsigned long long)s->done,
	    (unsigned long long)s->abandoned);
	if (s->oldest_pending > 0) {
		store_age_format(c->now - s->oldest_pending, a, sizeof(a));
		printf("oldest pending    %s\n", a);
	}
	printf("attempts          %llu sent, %llu failed, %llu given up"
	    " (max %d attempts)\n", (unsigned long long)s->sent,
	    (unsigned long long)s->failed, (unsigned long long)s->given_up,
	    s->max_attempts);
	printf("escalations       %llu\n", (unsigned long long)s->escalations);
	printf("pruned            %llu finished rows (notify.keep)\n",
	    (unsigned long long)s->pruned);
	if (s->last_error[0]) {
		printf("last error        ");
		put_clean(stdout, s->last_error);
		putchar('\n');
		printf("latest errors:\n");
		if (store_notify_errors(c->st, 5, error_row, &e) == -1)
			return db_fail(c);
	}
	return 0;
}

int
cmd_notify_status(struct ctx *c, int argc, char **argv)
{
	struct store_notify_status s;
	int json = 0;
	const struct optspec spec[] = {
		{ "json", NULL, &json }, { NULL, NULL, NULL }
	};

	if (args(c, argc, argv, spec, 0, 0) < 0 || db_open(c) == -1)
		return 1;
	if (store_notify_status_get(c->st, &s) == -1)
		return db_fail(c);
	return json ? status_json(c, &s) : status_text(c, &s);
}

/* The test rows' state, for the wait: how many have had an attempt. */
struct test_wait {
	int		 tried, sent;
};

static int
test_row(void *arg, const struct store_notification *r)
{
	struct test_wait *w = arg;

	if (r->attempts > 0 || strcmp(r->state, "pending") != 0)
		w->tried++;
	if (strcmp(r->state, "sent") == 0)
		w->sent++;
	return 0;
}

static int
test_report(void *arg, const struct store_notification *r)
{
	(void)arg;
	printf("%s %s: %s", r->channel, r->target, strcmp(r->state, "sent") ==
	    0 ? "sent" : r->attempts == 0 ? "not attempted yet" : r->state);
	if (r->last_error[0]) {
		printf(" (");
		put_clean(stdout, r->last_error);
		printf(")");
	}
	printf(" [%s]\n", r->key);
	return 0;
}

static int
test_poll(struct ctx *c, int64_t first, int n, struct test_wait *w)
{
	int64_t id;

	memset(w, 0, sizeof(*w));
	for (id = first; id < first + n; id++)
		if (store_notify_get(c->st, id, test_row, w) < 0)
			return -1;
	return 0;
}

int
cmd_notify_test(struct ctx *c, int argc, char **argv)
{
	const char *wait = NULL;
	const struct optspec spec[] = {
		{ "wait", &wait, NULL }, { NULL, NULL, NULL }
	};
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	struct test_wait w;
	int64_t first, limit = 30 * SOC_NS, t0 = soc_mono_ms(), id;
	int n;

	if (args(c, argc, argv, spec, 1, 1) < 0)
		return 1;
	if (wait != NULL && (limit = strcmp(wait, "0") == 0 ? 0 :
	    soc_parse_duration(wait)) < 0)
		return cmd_err(c, "--wait wants a duration (30s, 2m) or 0, not"
		    " '%s'", wait);
	if (db_open(c) == -1)
		return 1;
	if (store_notify_test(c->st, argv[1], c->now, &first, &n) == -1)
		return db_fail(c);
	printf("queued %d test notification%s to %s\n", n, n == 1 ? "" : "s",
	    argv[1]);
	if (limit == 0)
		return 0;
	for (;;) {
		if (test_poll(c, first, n, &w) == -1)
			return db_fail(c);
		if (w.tried == n || (soc_mono_ms() - t0) * 1000000 >= limit)
			break;
		nanosleep(&ts, NULL);
	}
	for (id = first; id < first + n; id++)
		if (store_notify_get(c->st, id, test_report, NULL) < 0)
			return db_fail(c);
	if (w.tried < n)
		return errx1("notify test: no attempt within %s: is soc-correlator"
		    " running with this database?", wait ? wait : "30s");
	return w.sent == n ? 0 : 1;
}
