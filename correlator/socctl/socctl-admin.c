/*
 * socctl's administration commands: CURVE key pairs, agencies and their
 * tree (add, rename, move, merge, the list flat or as a tree), sensor
 * enrolment and revocation, and the records behind coverage layers 1
 * and 3 (on-site responders, independent assessments).  Every write is
 * one transaction with its admin audit row (db_audit_commit), so the
 * trail names the Unix user who made each change.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soc/json.h"
#include "soc/time.h"
#include "soc/util.h"
#include "store.h"
#include "socctl.h"

/* ---- keygen ---- */

int
cmd_keygen(struct ctx *c, int argc, char **argv)
{
	const char *out = NULL;
	const struct optspec spec[] = { { "out", &out, NULL }, { NULL, NULL, NULL } };
	char err[512], pub[41], path[PATH_MAX];

	if (args(c, argc, argv, spec, 0, 0) < 0 || need(c, out, "--out NAME") == -1)
		return 1;
	if (soc_key_generate(out, err, sizeof(err)) == -1)
		return errx1("keygen: %s", err);
	snprintf(path, sizeof(path), "%s.pub", out);
	if (soc_key_load(path, pub, err, sizeof(err)) == -1)
		return errx1("keygen: %s", err);
	printf("wrote %s.key (secret, mode 0600) and %s.pub\npublic key: %s\n",
	    out, out, pub);
	return 0;
}

/* ---- agencies ---- */

int
cmd_agency_add(struct ctx *c, int argc, char **argv)
{
	const char *name = NULL, *parent = NULL;
	const struct optspec spec[] = {
		{ "name", &name, NULL }, { "parent", &parent, NULL },
		{ NULL, NULL, NULL }
	};
	char note[512];

	if (args(c, argc, argv, spec, 1, 1) < 0 || need(c, name, "--name NAME") == -1)
		return 1;
	if (!soc_code_ok(argv[1]))
		return cmd_err(c, "agency code '%s' must be 1-63 letters, digits,"
		    " '.', '_' or '-'", argv[1]);
	if (db_open(c) == -1 || store_begin(c->st) == -1)
		return c->st ? db_fail(c) : 1;
	snprintf(note, sizeof(note), "%s (%s)%s%s", argv[1], name,
	    parent ? ", parent " : "", parent ? parent : "");
	if (db_audit_commit(c, store_agency_add(c->st, argv[1], name, parent,
	    c->now), "agency added", note) != 0)
		return 1;
	printf("agency %s added\n", argv[1]);
	return 0;
}

#define AG(f)	offsetof(struct store_agency, f)

static const struct col agency_cols[] = {
	{ "code", "CODE", 0, COL_STR, 0, AG(code), NULL },
	{ "name", "NAME:48", 1, COL_STR, 0, AG(name), NULL },
	{ "parent", "PARENT", 2, COL_STR, COL_NULLEMPTY | COL_DASH, AG(parent), NULL },
	{ "sensors", ">SENSORS", 3, COL_UINT, 0, AG(sensors), NULL },
	{ "open_incidents", ">OPEN INCIDENTS", 4, COL_UINT, 0, AG(open_incidents), NULL },
	{ "created_at", NULL, 0, COL_TIME, 0, AG(created_at), NULL },
};

static int
agency_row(void *arg, const struct store_agency *a)
{
	return out_row(arg, a);
}

/* ---- the tree: agencies in memory, children after their parent ---- */

struct tree {
	struct store_agency	*a;	/* strings owned here */
	int			*done;	/* placed in the walk */
	size_t			 n, cap;
	int			 oom;
};

static char *
xstrdup(struct tree *t, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		t->oom = 1;
	return p;
}

static int
tree_add(void *arg, const struct store_agency *a)
{
	struct tree *t = arg;
	struct store_agency *na;
	size_t ncap;

	if (t->n == t->cap) {
		ncap = t->cap ? t->cap * 2 : 64;
		if ((na = reallocarray(t->a, ncap, sizeof(*na))) == NULL) {
			t->oom = 1;
			return -1;
		}
		t->a = na;
		t->cap = ncap;
	}
	na = &t->a[t->n++];
	*na = *a;
	na->code = xstrdup(t, a->code);
	na->name = xstrdup(t, a->name);
	na->parent = xstrdup(t, a->parent);
	return t->oom ? -1 : 0;
}

static void
tree_free(struct tree *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free((char *)t->a[i].code);
		free((char *)t->a[i].name);
		free((char *)t->a[i].parent);
	}
	free(t->a);
	free(t->done);
}

/* A root: no parent, or a parent that is not on record. */
static int
tree_root(const struct tree *t, size_t i)
{
	size_t j;

	if (t->a[i].parent[0] == '\0')
		return 1;
	for (j = 0; j < t->n; j++)
		if (strcmp(t->a[j].code, t->a[i].parent) == 0)
			return 0;
	return 1;
}

/* Table rows for i and everything below, indented two spaces a level. */
static void
tree_rows(struct tree *t, struct out *o, size_t i, int depth)
{
	struct store_agency a = t->a[i];
	char code[160];
	size_t j;

	t->done[i] = 1;
	snprintf(code, sizeof(code), "%*s%s", 2 * (depth > 30 ? 30 : depth), "",
	    a.code);
	a.code = code;
	out_row(o, &a);
	for (j = 0; j < t->n; j++)
		if (!t->done[j] && strcmp(t->a[j].parent, t->a[i].code) == 0)
			tree_rows(t, o, j, depth + 1);
}

/* The JSON object of i with its "children", nested. */
static void
tree_json(struct tree *t, struct ctx *c, struct soc_sbuf *b, size_t i)
{
	size_t j;
	int n = 0;

	t->done[i] = 1;
	soc_sbuf_adds(b, "{");
	out_json_members(b, c, agency_cols, COL_COUNT(agency_cols), &t->a[i]);
	soc_sbuf_adds(b, ",\"children\":[");
	for (j = 0; j < t->n; j++) {
		if (t->done[j] || strcmp(t->a[j].parent, t->a[i].code) != 0)
			continue;
		if (n++ > 0)
			soc_sbuf_adds(b, ",");
		tree_json(t, c, b, j);
	}
	soc_sbuf_adds(b, "]}");
}

static int
agency_tree(struct ctx *c, enum out_fmt fmt)
{
	struct tree t;
	struct out o;
	size_t i, pass;
	int rc, n = 0;

	memset(&t, 0, sizeof(t));
	rc = store_agency_foreach(c->st, tree_add, &t);
	if (rc == 0 && !t.oom && (t.done = calloc(t.n + 1, sizeof(int))) == NULL)
		t.oom = 1;
	if (rc != 0 || t.oom) {
		tree_free(&t);
		return t.oom ? errx1("agency list: out of memory") : db_fail(c);
	}
	out_begin(&o, c, fmt, agency_cols, COL_COUNT(agency_cols));
	/* roots first; then anything a hand-made cycle left unplaced */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < t.n; i++) {
			if (t.done[i] || (pass == 0 && !tree_root(&t, i)))
				continue;
			if (fmt == OUT_JSON) {
				if (n++ > 0)
					soc_sbuf_adds(&o.b, ",");
				tree_json(&t, c, &o.b, i);
			} else
				tree_rows(&t, &o, i, 0);
		}
	}
	if (fmt == OUT_JSON)
		o.n = t.n;
	tree_free(&t);
	return out_end(&o, 0, "no agencies (add one with `socctl agency add"
	    " CODE --name NAME`)");
}

int
cmd_agency_list(struct ctx *c, int argc, char **argv)
{
	struct out o;
	enum out_fmt fmt;
	int json = 0, csv = 0, tree = 0;
	const struct optspec spec[] = {
		{ "json", NULL, &json }, { "csv", NULL, &csv },
		{ "tree", NULL, &tree }, { NULL, NULL, NULL }
	};

	if (args(c, argc, argv, spec, 0, 0) < 0 ||
	    out_fmt_pick(c, json, csv, &fmt) == -1)
		return 1;
	if (tree && fmt == OUT_CSV)
		return cmd_err(c, "--tree is for the table and --json; --csv lists"
		    " each agency with its parent");
	if (db_open(c) == -1)
		return 1;
	if (tree)
		return agency_tree(c, fmt);
	out_begin(&o, c, fmt, agency_cols, COL_COUNT(agency_cols));
	return out_end(&o, store_agency_foreach(c->st, agency_row, &o),
	    "no agencies (add one with `socctl agency add CODE --name NAME`)");
}

int
cmd_agency_rename(struct ctx *c, int argc, char **argv)
{
	const char *name = NULL;
	const struct optspec spec[] = { { "name", &name, NULL }, { NULL, NULL, NULL } };
	char note[512];

	if (args(c, argc, argv, spec, 1, 1) < 0 || need(c, name, "--name NAME") == -1 ||
	    db_open(c) == -1 || store_begin(c->st) == -1)
		return c->st ? db_fail(c) : 1;
	snprintf(note, sizeof(note), "%s is now named %s", argv[1], name);
	if (db_audit_commit(c, store_agency_rename(c->st, argv[1], name),
	    "agency renamed", note) != 0)
		return 1;
	printf("agency %s renamed\n", argv[1]);
	return 0;
}

int
cmd_agency_move(struct ctx *c, int argc, char **argv)
{
	const char *parent = NULL;
	int root = 0;
	const struct optspec spec[] = {
		{ "parent", &parent, NULL }, { "root", NULL, &root },
		{ NULL, NULL, NULL }
	};
	char note[256];

	if (args(c, argc, argv, spec, 1, 1) < 0)
		return 1;
	if ((parent == NULL) == (root == 0))
		return cmd_err(c, "give either --parent CODE or --root");
	if (parent != NULL && parent[0] == '\0')
		return cmd_err(c, "--parent wants a code (--root for none)");
	if (db_open(c) == -1 || store_begin(c->st) == -1)
		return c->st ? db_fail(c) : 1;
	snprintf(note, sizeof(note), "%s moved %s%s", argv[1],
	    parent ? "under " : "to the root", parent ? parent : "");
	if (db_audit_commit(c, store_agency_move(c->st, argv[1], parent),
	    "agency moved", note) != 0)
		return 1;
	printf("agency %s\n", note);
	return 0;
}

int
cmd_agency_merge(struct ctx *c, int argc, char **argv)
{
	const char *into = NULL;
	const struct optspec spec[] = { { "into", &into, NULL }, { NULL, NULL, NULL } };
	struct store_merge m;
	char note[640], comp[128];
	int rc;

	if (args(c, argc, argv, spec, 1, 1) < 0 || need(c, into, "--into CODE") == -1 ||
	    db_open(c) == -1 || store_begin(c->st) == -1)
		return c->st ? db_fail(c) : 1;
	rc = store_agency_merge(c->st, argv[1], into, &m);
	/* the declared computers add up: the operator checks the sum */
	if (m.computers < 0)
		snprintf(comp, sizeof(comp), "no computers declared");
	else
		snprintf(comp, sizeof(comp), "%s declares %lld computers (both"
		    " added; `socctl agency set %s --computers N` to correct)",
		    into, (long long)m.computers, into);
	snprintf(note, sizeof(note), "%s merged into %s: %llu sensors, %llu"
	    " systems, %llu incidents, %llu responders, %llu assessments,"
	    " %llu sub-agencies, %llu endpoints moved; %s removed; %s",
	    argv[1], into,
	    (unsigned long long)m.sensors, (unsigned long long)m.systems,
	    (unsigned long long)m.incidents, (unsigned long long)m.responders,
	    (unsigned long long)m.assessments, (unsigned long long)m.children,
	    (unsigned long long)m.endpoints, argv[1], comp);
	if (db_audit_commit(c, rc, "agency merged", note) != 0)
		return 1;
	printf("%s\n", note);
	return 0;
}
/* ---- sensors ---- */

/* Refuses a secret key file: enrolling it would publish the secret. */
static int
key_is_secret(const char *arg)
{
	char line[256];
	FILE *f;
	int secret = 0;

	if ((f = fopen(arg, "r")) == NULL)
		return 0;
	if (fgets(line, sizeof(line), f) != NULL && line[0] == '#' &&
	    strstr(line, "secret") != NULL)
		secret = 1;
	fclose(f);
	return secret;
}

int
cmd_sensor_enroll(struct ctx *c, int argc, char **argv)
{
	const char *agency = NULL, *key = NULL, *sys = NULL, *role = NULL;
	const struct optspec spec[] = {
		{ "agency", &agency, NULL }, { "key", &key, NULL },
		{ "system", &sys, NULL }, { "role", &role, NULL },
		{ NULL, NULL, NULL }
	};
	char err[512], pub[41], note[384];
	int rc;

	if (args(c, argc, argv, spec, 1, 1) < 0 ||
	    need(c, agency, "--agency CODE") == -1 ||
	    need(c, key, "--key FILE|Z85") == -1)
		return 1;
	/* without --role, the kind of the key's first batch fixes it */
	if (role != NULL && strcmp(role, "sensor") != 0 &&
	    strcmp(role, "province") != 0)
		return errx1("sensor enroll: --role is sensor (sends events) or"
		    " province (a provincial correlator forwarding alerts)");
	if (key_is_secret(key))
		return errx1("sensor enroll: %s is a secret key; enroll the public"
		    " key (the .pub file written by `socctl keygen`)", key);
	if (soc_key_load(key, pub, err, sizeof(err)) == -1)
		return errx1("sensor enroll: %s", err);
	if (db_open(c) == -1)
		return 1;
	if ((rc = store_agency_exists(c->st, agency)) != 1)
		return rc < 0 ? db_fail(c) : errx1("sensor enroll: no such agency"
		    " '%s' (list them with `socctl agency list`, add one with"
		    " `socctl agency add %s --name NAME`)", agency, agency);
	if (store_begin(c->st) == -1)
		return db_fail(c);
	snprintf(note, sizeof(note), "%s for agency %s%s%s%s%s, key %s", argv[1],
	    agency, sys ? ", system " : "", sys ? sys : "",
	    role ? ", role " : "", role ? role : "", pub);
	rc = store_sensor_enroll(c->st, argv[1], agency, pub, c->now);
	if (rc == 0 && sys != NULL)
		rc = store_sensor_set_system(c->st, argv[1], sys);
	if (rc == 0 && role != NULL)
		rc = store_sensor_set_role(c->st, argv[1], role, 1) == 1 ? 0 : -1;
	if (db_audit_commit(c, rc, "sensor enrolled", note) != 0)
		return 1;
	printf("sensor %s enrolled for agency %s%s%s%s%s\n", argv[1], agency,
	    sys ? ", system " : "", sys ? sys : "",
	    role ? ", role " : "", role ? role : "");
	return 0;
}

int
cmd_sensor_revoke(struct ctx *c, int argc, char **argv)
{
	struct store_sensor s;
	int rc;

	if (args(c, argc, argv, NULL, 1, 1) < 0 || db_open(c) == -1)
		return 1;
	if ((rc = store_sensor_by_name(c->st, argv[1], &s)) != 1)
		return rc < 0 ? db_fail(c) : errx1("sensor revoke: no such sensor"
		    " '%s' (see `socctl sensors`)", argv[1]);
	if (s.revoked) {
		printf("sensor %s was already revoked\n", argv[1]);
		return 0;
	}
	if (store_begin(c->st) == -1)
		return db_fail(c);
	rc = store_sensor_revoke(c->st, argv[1], c->now);
	if (db_audit_commit(c, rc == 1 ? 0 : -1, "sensor revoked", argv[1]) != 0)
		return 1;
	printf("sensor %s revoked: its key gets no service from now on\n", argv[1]);
	return 0;
}

/*
 * For a sensor whose numbers went far ahead (a clock jump taken before
 * the correlator refused such numbers, issue 11): its later batches would
 * be taken as resends for ever.  The next batch it sends starts the chain
 * again.  (Counted by the store as one batch of no events.)
 */
int
cmd_sensor_reset_seq(struct ctx *c, int argc, char **argv)
{
	struct store_ack ack;
	struct store_sensor s;
	char note[192];
	int rc;

	if (args(c, argc, argv, NULL, 1, 1) < 0 || db_open(c) == -1)
		return 1;
	if ((rc = store_sensor_by_name(c->st, argv[1], &s)) != 1)
		return rc < 0 ? db_fail(c) : errx1("sensor reset-seq: no such "
		    "sensor '%s' (see `socctl sensors`)", argv[1]);
	snprintf(note, sizeof(note), "%s (was %llu)", argv[1],
	    (unsigned long long)s.last_seq);
	if (store_begin(c->st) == -1)
		return db_fail(c);
	/* and the acked-but-not-applied check starts over (issue 15) */
	memset(&ack, 0, sizeof(ack));
	if (db_audit_commit(c, store_sensor_set_seq(c->st, argv[1], 0, 0,
	    c->now) == 0 ? store_sensor_ack_set(c->st, argv[1], &ack) : -1,
	    "sensor seq reset", note) != 0)
		return 1;
	printf("sensor %s: sequence reset (was %llu); its next batch starts "
	    "the chain again\n", argv[1], (unsigned long long)s.last_seq);
	return 0;
}

#define SE(f)	offsetof(struct store_sensor_info, f)

static void
sensor_state(struct ctx *c, const void *row, struct cell *v)
{
	const struct store_sensor_info *s = row;
	int64_t heard;

	heard = s->last_heartbeat > s->last_batch_at ? s->last_heartbeat :
	    s->last_batch_at;
	if (s->revoked)
		v->s = "revoked";
	else if (heard == 0)
		v->s = "never heard";
	else if (c->now - heard <= 5 * 60 * SOC_NS)
		v->s = "live";
	else
		v->s = "silent";
}

static void
sensor_hb_age(struct ctx *c, const void *row, struct cell *v)
{
	const struct store_sensor_info *s = row;

	if (s->last_heartbeat > 0)
		v->i = (c->now - s->last_heartbeat) / SOC_NS;
	else
		v->null = 1;
}

static void
sensor_counters(struct ctx *c, const void *row, struct cell *v)
{
	const struct store_sensor_info *s = row;

	(void)c;
	v->s = s->counters;
	v->valid = s->counters_valid;
}

/* National role: when this (province) key last delivered alerts. */
static void
sensor_last_alert(struct ctx *c, const void *row, struct cell *v)
{
	int64_t at;

	if (store_sensor_last_alert(c->st, ((const struct store_sensor_info *)
	    row)->name, &at) == -1 || at <= 0)
		v->null = 1;
	else
		v->i = at;
}

/* When its acked events were found not applied (issue 15); null: not. */
static void
sensor_ack_alarm(struct ctx *c, const void *row, struct cell *v)
{
	const struct store_sensor_info *s = row;

	(void)c;
	if (s->ack_alarm_at > 0)
		v->i = s->ack_alarm_at;
	else
		v->null = 1;
}

static const struct col sensor_cols[] = {
	{ "name", "NAME", 0, COL_STR, 0, SE(name), NULL },
	{ "agency", "AGENCY", 1, COL_STR, 0, SE(agency), NULL },
	{ "pubkey", NULL, 0, COL_STR, 0, SE(pubkey), NULL },
	{ "state", "STATE", 2, COL_STR, 0, 0, sensor_state },
	{ "revoked", NULL, 0, COL_BOOL, 0, SE(revoked), NULL },
	{ "enrolled_at", "ENROLLED", 8, COL_TIME, 0, SE(enrolled_at), NULL },
	{ "last_heartbeat", "HEARTBEAT", 3, COL_AGE, 0, SE(last_heartbeat), NULL },
	{ "heartbeat_age_s", NULL, 0, COL_INT, 0, 0, sensor_hb_age },
	{ "last_batch_at", "LAST BATCH", 4, COL_AGE, 0, SE(last_batch_at), NULL },
	{ "last_seq", ">LAST SEQ", 7, COL_UINT, 0, SE(last_seq), NULL },
	{ "events_received", ">EVENTS", 5, COL_UINT, 0, SE(events_received), NULL },
	{ "batches", ">BATCHES", 6, COL_UINT, 0, SE(batches), NULL },
	{ "counters", NULL, 0, COL_RAW, 0, 0, sensor_counters },
	{ "last_alert", "LAST ALERT", 9, COL_AGE, COL_DASH, 0, sensor_last_alert },
	{ "role", "ROLE", 10, COL_STR, COL_NULLEMPTY | COL_DASH, SE(role), NULL },
	{ "ts_clamped", ">CLAMPED", 11, COL_UINT, 0, SE(ts_clamped), NULL },
	{ "acked_not_applied", NULL, 0, COL_INT, 0, SE(ack_debt), NULL },
	{ "acked_alarm_at", NULL, 0, COL_TIME, 0, 0, sensor_ack_alarm },
};

static int
sensor_row(void *arg, const struct store_sensor_info *s)
{
	return out_row(arg, s);
}

int
cmd_sensors(struct ctx *c, int argc, char **argv)
{
	const char *agency = NULL;
	struct out o;
	enum out_fmt fmt;
	int json = 0, csv = 0;
	const struct optspec spec[] = {
		{ "json", NULL, &json }, { "csv", NULL, &csv },
		{ "agency", &agency, NULL }, { NULL, NULL, NULL }
	};

	if (args(c, argc, argv, spec, 0, 0) < 0 ||
	    out_fmt_pick(c, json, csv, &fmt) == -1 || db_open(c) == -1)
		return 1;
	out_begin(&o, c, fmt, sensor_cols, COL_COUNT(sensor_cols));
	return out_end(&o, store_sensor_foreach(c->st, agency, sensor_row, &o),
	    "no sensors (enroll one with `socctl sensor enroll NAME --agency CODE"
	    " --key FILE`)");
}
/* ---- responders and assessments (coverage layers 1 and 3) ---- */

static int
agency_known(struct ctx *c, const char *code, const char *what)
{
	int rc = store_agency_exists(c->st, code);

	if (rc == 1)
		return 0;
	if (rc < 0)
		db_fail(c);
	else
		errx1("%s: no such agency '%s' (see `socctl agency list`)", what,
		    code);
	return -1;
}

/*
 * responder add AGENCY NAME [--contact TEXT] [--email ADDR] [--webhook URL]
 * [--command CMD] [--template NAME]: NAME as an argument or --name (the older form).  The
 * contacts are checked before anything is written (store_contact_check).
 */
int
cmd_responder_add(struct ctx *c, int argc, char **argv)
{
	const char *name = NULL, *contact = NULL, *tpl = NULL;
	const char *k[STORE_CONTACTS] = { NULL, NULL, NULL };
	const struct optspec spec[] = {
		{ "name", &name, NULL }, { "contact", &contact, NULL },
		{ "email", &k[STORE_CONTACT_EMAIL], NULL },
		{ "webhook", &k[STORE_CONTACT_WEBHOOK], NULL },
		{ "command", &k[STORE_CONTACT_COMMAND], NULL },
		{ "template", &tpl, NULL },
		{ NULL, NULL, NULL }
	};
	char note[512], why[300];
	int n, i, ok;

	if ((n = args(c, argc, argv, spec, 1, 2)) < 0)
		return 1;
	if (n == 2 && name != NULL)
		return cmd_err(c, "give the name once (NAME or --name NAME)");
	if (n == 2)
		name = argv[2];
	if (need(c, name, "NAME") == -1)
		return 1;
	for (i = 0; i < STORE_CONTACTS; i++)
		if (store_contact_check(i, k[i], why, sizeof(why)) == -1)
			return cmd_err(c, "--%s: %s", store_contact_name(i), why);
	if (store_template_check(tpl, why, sizeof(why)) == -1)
		return cmd_err(c, "--template: %s", why);
	if (db_open(c) == -1 || agency_known(c, argv[1], "responder add") == -1)
		return 1;
	if (store_begin(c->st) == -1)
		return db_fail(c);
	snprintf(note, sizeof(note), "%s for agency %s", name, argv[1]);
	ok = store_responder_add(c->st, argv[1], name, contact, c->now);
	if (ok == 0)
		ok = store_responder_set_contacts(c->st, argv[1], name, k);
	if (ok == 0 && tpl != NULL)
		ok = store_responder_set_template(c->st, argv[1], name, tpl);
	if (db_audit_commit(c, ok, "responder added", note) != 0)
		return 1;
	printf("responder %s on record for %s\n", name, argv[1]);
	return 0;
}

/*
 * responder set AGENCY NAME [--email ADDR] [--webhook URL] [--command CMD]
 * [--template NAME]: changes the given contacts ("" clears one), keeps
 * the others; audited.
 */
int
cmd_responder_set(struct ctx *c, int argc, char **argv)
{
	const char *k[STORE_CONTACTS] = { NULL, NULL, NULL }, *tpl = NULL;
	const struct optspec spec[] = {
		{ "email", &k[STORE_CONTACT_EMAIL], NULL },
		{ "webhook", &k[STORE_CONTACT_WEBHOOK], NULL },
		{ "command", &k[STORE_CONTACT_COMMAND], NULL },
		{ "template", &tpl, NULL },
		{ NULL, NULL, NULL }
	};
	char note[512], why[300];
	int i, ok = 0;

	if (args(c, argc, argv, spec, 2, 2) < 0)
		return 1;
	if (k[0] == NULL && k[1] == NULL && k[2] == NULL && tpl == NULL)
		return cmd_err(c, "nothing to set (--email, --webhook, --command,"
		    " --template)");
	for (i = 0; i < STORE_CONTACTS; i++)
		if (store_contact_check(i, k[i], why, sizeof(why)) == -1)
			return cmd_err(c, "--%s: %s", store_contact_name(i), why);
	if (store_template_check(tpl, why, sizeof(why)) == -1)
		return cmd_err(c, "--template: %s", why);
	if (db_open(c) == -1 || agency_known(c, argv[1], "responder set") == -1)
		return 1;
	if (store_begin(c->st) == -1)
		return db_fail(c);
	snprintf(note, sizeof(note), "contacts of %s for agency %s", argv[2],
	    argv[1]);
	if (k[0] != NULL || k[1] != NULL || k[2] != NULL)
		ok = store_responder_set_contacts(c->st, argv[1], argv[2], k);
	if (ok == 0 && tpl != NULL)
		ok = store_responder_set_template(c->st, argv[1], argv[2], tpl);
	if (db_audit_commit(c, ok, "responder changed", note) != 0)
		return 1;
	printf("responder %s of %s changed\n", argv[2], argv[1]);
	return 0;
}

#define RE(f)	offsetof(struct store_responder, f)

static const struct col responder_cols[] = {
	{ "agency", "AGENCY", 0, COL_STR, 0, RE(agency), NULL },
	{ "name", "NAME", 1, COL_STR, 0, RE(name), NULL },
	{ "contact", "CONTACT", 2, COL_STR, COL_NULLEMPTY | COL_DASH, RE(contact), NULL },
	{ "added_at", "ADDED", 3, COL_TIME, 0, RE(added_at), NULL },
	{ "email", "EMAIL", 4, COL_STR, COL_NULLEMPTY | COL_DASH, RE(email), NULL },
	{ "webhook", "WEBHOOK", 5, COL_STR, COL_NULLEMPTY | COL_DASH, RE(webhook), NULL },
	{ "command", "COMMAND", 6, COL_STR, COL_NULLEMPTY | COL_DASH, RE(command), NULL },
	{ "template", "TEMPLATE", 7, COL_STR, COL_NULLEMPTY | COL_DASH, RE(tmpl), NULL },
};

static int
responder_row(void *arg, const struct store_responder *r)
{
	return out_row(arg, r);
}

int
cmd_responder_list(struct ctx *c, int argc, char **argv)
{
	const char *agency = NULL;
	struct out o;
	enum out_fmt fmt;

	if (list_args(c, argc, argv, &agency, &fmt) != 0)
		return 1;
	out_begin(&o, c, fmt, responder_cols, COL_COUNT(responder_cols));
	return out_end(&o, store_responder_foreach(c->st, agency, responder_row,
	    &o), "no responders on record");
}
int
cmd_assessment_add(struct ctx *c, int argc, char **argv)
{
	const char *by = NULL, *expires = NULL, *at = NULL;
	const struct optspec spec[] = {
		{ "by", &by, NULL }, { "expires", &expires, NULL },
		{ "at", &at, NULL }, { NULL, NULL, NULL }
	};
	char note[512], d[64];
	int64_t when = c->now, until;

	if (args(c, argc, argv, spec, 1, 1) < 0 ||
	    need(c, by, "--by ASSESSOR") == -1)
		return 1;
	if (at != NULL && parse_when(at, c->now, -1, &when) == -1)
		return cmd_err(c, "--at wants a date (2026-11-27) or a duration"
		    " ago (30d), not '%s'", at);
	if (when > c->now)
		return cmd_err(c, "--at is in the future; record an assessment"
		    " once it has been made");
	if (expires == NULL)
		until = 0;	/* by the agency's highest system level */
	else if (parse_when(expires, when, 1, &until) == -1)
		return cmd_err(c, "--expires wants a date (2027-11-27) or a"
		    " duration (365d, 1y), not '%s'", expires);
	else if (until <= when)
		return cmd_err(c, "--expires must be after the assessment date");
	if (db_open(c) == -1 || agency_known(c, argv[1], "assessment add") == -1)
		return 1;
	if (store_begin(c->st) == -1)
		return db_fail(c);
	if (until != 0)
		soc_time_format(until, d, sizeof(d));
	else
		snprintf(d, sizeof(d), "by level");
	snprintf(note, sizeof(note), "%s by %s, expires %.10s", argv[1], by, d);
	if (db_audit_commit(c, store_assessment_add(c->st, argv[1], by, when, until),
	    "assessment added", note) != 0)
		return 1;
	if (until != 0)
		printf("assessment of %s by %s on record, valid until %.10s\n",
		    argv[1], by, d);
	else
		printf("assessment of %s by %s on record, valid for the term the"
		    " level policy gives the agency's highest system level\n",
		    argv[1], by);
	return 0;
}

#define AS(f)	offsetof(struct store_assessment, f)

static void
assessment_expired(struct ctx *c, const void *row, struct cell *v)
{
	const struct store_assessment *a = row;

	v->i = a->expires_at <= c->now;
}

static void
assessment_state(struct ctx *c, const void *row, struct cell *v)
{
	const struct store_assessment *a = row;

	v->s = a->expires_at <= c->now ? "expired" : "valid";
}

static const struct col assessment_cols[] = {
	{ "agency", "AGENCY", 0, COL_STR, 0, AS(agency), NULL },
	{ "assessor", "ASSESSOR", 1, COL_STR, 0, AS(assessor), NULL },
	{ "assessed_at", "ASSESSED", 2, COL_TIME, 0, AS(assessed_at), NULL },
	{ "expires_at", "EXPIRES", 3, COL_TIME, 0, AS(expires_at), NULL },
	{ "expired", NULL, 0, COL_BOOL, 0, 0, assessment_expired },
	{ "expiry_by_level", NULL, 0, COL_BOOL, 0, AS(by_level), NULL },
	{ NULL, "STATE", 4, COL_STR, 0, 0, assessment_state },
};

static int
assessment_row(void *arg, const struct store_assessment *a)
{
	return out_row(arg, a);
}

int
cmd_assessment_list(struct ctx *c, int argc, char **argv)
{
	const char *agency = NULL;
	struct out o;
	enum out_fmt fmt;

	if (list_args(c, argc, argv, &agency, &fmt) != 0)
		return 1;
	out_begin(&o, c, fmt, assessment_cols, COL_COUNT(assessment_cols));
	return out_end(&o, store_assessment_foreach(c->st, agency,
	    assessment_row, &o), "no assessments on record");
}
