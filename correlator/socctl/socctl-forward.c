/*
 * socctl forward status: what the correlator's forwarder is doing, read
 * from the database (forward_state and the outbox), so an operator can
 * see from any shell whether alerts reach the national receiver: the
 * endpoint, whether the link is up, when the national side last acked,
 * records sent and acked, what is pending and how old the oldest is, and
 * what the forward.max_pending bound dropped.
 */
#include <stdio.h>
#include <string.h>

#include "soc/util.h"
#include "socctl.h"
#include "store.h"

static void
status_json(struct ctx *c, const struct store_forward_state *f)
{
	struct soc_sbuf b;
	int n = 0, m = 0;

	soc_sbuf_init(&b);
	soc_sbuf_adds(&b, "{");
	j_bool(&b, &n, "configured", f->endpoint[0] != '\0');
	j_str(&b, &n, "endpoint", f->endpoint[0] ? f->endpoint : NULL);
	j_str(&b, &n, "origin", f->origin[0] ? f->origin : NULL);
	j_str(&b, &n, "min_severity", store_severity_name(f->min_severity));
	j_bool(&b, &n, "connected", f->connected);
	j_time(&b, &n, "started_at", f->started_at);
	j_time(&b, &n, "last_ack_at", f->last_ack_at);
	if (f->last_ack_at > 0)
		j_int(&b, &n, "last_ack_age_s", (long long)((c->now -
		    f->last_ack_at) / SOC_NS));
	else
		j_str(&b, &n, "last_ack_age_s", NULL);
	j_time(&b, &n, "last_send_at", f->last_send_at);
	j_int(&b, &n, "sent", (long long)f->sent);
	j_int(&b, &n, "acked", (long long)f->acked);
	j_int(&b, &n, "pending", (long long)f->pending);
	j_time(&b, &n, "oldest_pending_at", f->oldest_pending);
	if (f->oldest_pending > 0)
		j_int(&b, &n, "oldest_pending_age_s", (long long)((c->now -
		    f->oldest_pending) / SOC_NS));
	else
		j_str(&b, &n, "oldest_pending_age_s", NULL);
	j_int(&b, &n, "dropped", (long long)f->dropped);
	j_int(&b, &n, "max_pending", (long long)f->max_pending);
	j_int(&b, &n, "ack_within_s", (long long)(f->ack_within_ns / SOC_NS));
	j_int(&b, &n, "max_backlog_age_s",
	    (long long)(f->max_backlog_age_ns / SOC_NS));
	j_int(&b, &n, "seq", (long long)f->seq);
	j_key(&b, &n, "cef");
	soc_sbuf_adds(&b, "{");
	j_str(&b, &m, "endpoint", f->cef[0] ? f->cef : NULL);
	j_bool(&b, &m, "connected", f->cef_connected);
	j_int(&b, &m, "sent", (long long)f->cef_sent);
	j_int(&b, &m, "cursor", (long long)f->cef_cursor);
	soc_sbuf_adds(&b, "}");
	j_str(&b, &n, "last_error", f->last_error[0] ? f->last_error : NULL);
	soc_sbuf_adds(&b, "}");
	j_print(&b);
}

static void
status_text(struct ctx *c, const struct store_forward_state *f)
{
	char t[64], a[64];

	if (f->endpoint[0] == '\0')
		printf("endpoint          none (forwarding not configured:"
		    " soc-correlator --forward)\n");
	else
		printf("endpoint          %s (%s)\n", f->endpoint,
		    f->connected ? "connected" : "not connected");
	if (f->origin[0])
		printf("origin            %s, records at or above %s\n", f->origin,
		    store_severity_name(f->min_severity));
	time_human(c, f->last_ack_at, t, sizeof(t));
	age_human(c, f->last_ack_at, a, sizeof(a));
	printf("last ack          %s (%s)\n", t, a);
	printf("sent              %llu\n", (unsigned long long)f->sent);
	printf("acked             %llu\n", (unsigned long long)f->acked);
	if (f->pending > 0) {
		store_age_format(c->now - f->oldest_pending, a, sizeof(a));
		printf("pending           %llu (oldest %s)\n",
		    (unsigned long long)f->pending, a);
	} else
		printf("pending           0\n");
	printf("dropped           %llu (bound: %llu pending)\n",
	    (unsigned long long)f->dropped, (unsigned long long)f->max_pending);
	if (f->cef[0])
		printf("cef               %s (%s), %llu lines, cursor %lld\n",
		    f->cef, f->cef_connected ? "connected" : "not connected",
		    (unsigned long long)f->cef_sent, (long long)f->cef_cursor);
	if (f->last_error[0]) {
		printf("last error        ");
		put_clean(stdout, f->last_error);
		putchar('\n');
	}
}

int
cmd_forward_status(struct ctx *c, int argc, char **argv)
{
	struct store_forward_state f;
	int json = 0, rc;
	const struct optspec spec[] = {
		{ "json", NULL, &json }, { NULL, NULL, NULL }
	};

	if (args(c, argc, argv, spec, 0, 0) < 0 || db_open(c) == -1)
		return 1;
	if ((rc = store_forward_state_get(c->st, &f)) == -1)
		return db_fail(c);
	if (rc == 0)
		memset(&f, 0, sizeof(f));
	if (json)
		status_json(c, &f);
	else
		status_text(c, &f);
	return 0;
}
