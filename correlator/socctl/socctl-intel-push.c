/*
 * `socctl intel sources` and the sightings `intel show` adds on a
 * national database (docs/NATIONAL.md, "Indicators pushed down"):
 * store-intel-push.c's tables, read.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soc/json.h"
#include "socctl.h"
#include "store.h"
#include "store-intel.h"

/* ---- sources ---- */

struct srcrow {
	struct store_intel_set	 s;
	char			*acks;		/* JSON array */
	char			 received[96];	/* table text */
};

#define SR(f)	offsetof(struct srcrow, f)

static void
sr_pub(struct ctx *c, const void *row, struct cell *v)
{
	(void)c;
	v->i = ((const struct srcrow *)row)->s.pub_version;
	v->null = v->i == 0;
}

static void
sr_received(struct ctx *c, const void *row, struct cell *v)
{
	const struct srcrow *r = row;
	static char js[160];

	(void)c;
	if (r->s.pub_kind == NULL || r->s.pub_kind[0] == '\0') {
		v->null = 1;
		return;
	}
	snprintf(js, sizeof(js), "{\"kind\":\"%s\",\"records\":%lld,"
	    "\"bytes\":%lld}", strcmp(r->s.pub_kind, "delta") == 0 ? "delta" :
	    "full", (long long)r->s.pub_records, (long long)r->s.pub_bytes);
	v->s = js;
	v->valid = 1;
}

static void
sr_received_text(struct ctx *c, const void *row, struct cell *v)
{
	(void)c;
	v->s = ((const struct srcrow *)row)->received;
}

static void
sr_acks(struct ctx *c, const void *row, struct cell *v)
{
	(void)c;
	v->s = ((const struct srcrow *)row)->acks;
	v->valid = 1;
}

static void
sr_acked(struct ctx *c, const void *row, struct cell *v)
{
	(void)c;
	v->i = ((const struct srcrow *)row)->s.acked;
}

static const struct col src_cols[] = {
	{ "source", "SOURCE", 0, COL_STR, 0, SR(s.source), NULL },
	{ "origin", "ORIGIN", 1, COL_STR, 0, SR(s.origin), NULL },
	{ "version", ">VERSION", 2, COL_INT, 0, SR(s.version), NULL },
	{ "published_version", ">PUBLISHED", 3, COL_INT, COL_DASH, 0, sr_pub },
	{ "count", ">INDICATORS", 4, COL_INT, 0, SR(s.count), NULL },
	{ "updated_at", "UPDATED", 5, COL_TIME, 0, SR(s.updated_at), NULL },
	{ "received", NULL, 0, COL_RAW, 0, 0, sr_received },
	{ NULL, "RECEIVED", 6, COL_STR, COL_DASH, 0, sr_received_text },
	{ "acked", ">ACKED", 7, COL_INT, 0, 0, sr_acked },
	{ "provinces", NULL, 0, COL_RAW, 0, 0, sr_acks },
};

struct src_ctx {
	struct ctx	*c;
	struct out	*o;
	struct soc_sbuf	 b;
	int		 first;
};

static int
ack_one(void *arg, const struct store_intel_ackrow *a)
{
	struct src_ctx *x = arg;
	int n = 0;

	soc_sbuf_adds(&x->b, x->first ? "{" : ",{");
	x->first = 0;
	j_str(&x->b, &n, "name", a->province);
	j_int(&x->b, &n, "version", a->version);
	j_time(&x->b, &n, "acked_at", a->acked_at);
	soc_sbuf_adds(&x->b, "}");
	return 0;
}

static int
src_one(void *arg, const struct store_intel_set *s)
{
	struct src_ctx *x = arg;
	struct srcrow r;

	memset(&r, 0, sizeof(r));
	r.s = *s;
	soc_sbuf_reset(&x->b);
	soc_sbuf_adds(&x->b, "[");
	x->first = 1;
	if (store_intel_acks(x->c->st, s->source, ack_one, x) == -1)
		return -1;
	soc_sbuf_add(&x->b, "]", 2);
	if (x->b.oom)
		return -1;
	r.acks = x->b.data;
	if (s->pub_kind != NULL && s->pub_kind[0] != '\0')
		snprintf(r.received, sizeof(r.received), "%s, %lld records,"
		    " %lld bytes", s->pub_kind, (long long)s->pub_records,
		    (long long)s->pub_bytes);
	return out_row(x->o, &r);
}

int
cmd_intel_sources(struct ctx *c, int argc, char **argv)
{
	struct src_ctx x;
	struct out o;
	enum out_fmt fmt;
	int rc;

	if (list_args(c, argc, argv, NULL, &fmt) != 0)
		return 1;
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.o = &o;
	soc_sbuf_init(&x.b);
	out_begin(&o, c, fmt, src_cols, COL_COUNT(src_cols));
	rc = store_intel_sets(c->st, src_one, &x);
	soc_sbuf_free(&x.b);
	return out_end(&o, rc, "no indicator sets (import one with `socctl"
	    " intel import FILE`)");
}

/* ---- sightings (intel show on a national database) ---- */

struct seen_ctx {
	struct ctx	*c;
	struct soc_sbuf	*b;
	struct table	*t;
	int		 n;
};

static int
seen_json(void *arg, const struct store_intel_seen *s)
{
	struct seen_ctx *x = arg;
	int n = 0;

	soc_sbuf_adds(x->b, x->n++ ? ",{" : "{");
	j_str(x->b, &n, "province", s->province);
	j_str(x->b, &n, "agency", s->agency);
	j_int(x->b, &n, "incidents", s->incidents);
	j_int(x->b, &n, "count", s->count);
	j_time(x->b, &n, "first_seen", s->first_seen);
	j_time(x->b, &n, "last_seen", s->last_seen);
	soc_sbuf_adds(x->b, "}");
	return 0;
}

int
intel_sightings_json(struct ctx *c, const char *value, struct soc_sbuf *b)
{
	struct seen_ctx x = { c, b, NULL, 0 };

	soc_sbuf_reset(b);
	soc_sbuf_adds(b, "[");
	if (store_intel_sightings(c->st, value, seen_json, &x) == -1)
		return -1;
	soc_sbuf_add(b, "]", 2);
	return b->oom ? -1 : 0;
}

static int
seen_row(void *arg, const struct store_intel_seen *s)
{
	struct seen_ctx *x = arg;
	char inc[32], cnt[32], first[64], last[64];
	const char *cells[6];

	snprintf(inc, sizeof(inc), "%lld", (long long)s->incidents);
	snprintf(cnt, sizeof(cnt), "%lld", (long long)s->count);
	time_human(x->c, s->first_seen, first, sizeof(first));
	time_human(x->c, s->last_seen, last, sizeof(last));
	cells[0] = s->province;
	cells[1] = s->agency;
	cells[2] = inc;
	cells[3] = cnt;
	cells[4] = first;
	cells[5] = last;
	table_add(x->t, cells);
	x->n++;
	return 0;
}

int
intel_sightings_print(struct ctx *c, const char *value)
{
	static const char *const head[] = { "PROVINCE", "AGENCY",
	    ">INCIDENTS", ">COUNT", "FIRST SEEN", "LAST SEEN" };
	struct table t;
	struct seen_ctx x = { c, NULL, &t, 0 };
	int rc;

	table_init(&t, 6, head);
	if (store_intel_sightings(c->st, value, seen_row, &x) == -1) {
		table_free(&t);
		return -1;
	}
	if (x.n > 0) {
		printf("\nseen by provinces:\n");
		rc = table_print(&t);
	} else
		rc = 0;
	table_free(&t);
	return rc;
}
