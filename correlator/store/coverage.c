/*
 * The 4-layer coverage report (mô hình 4 lớp, Directive 14/CT-TTg):
 * for each agency, whether each protection layer is in place, judged only
 * from evidence the store holds, with a reason a person can act on.
 *
 *   1 on-site force            responders on record; new incidents
 *                              acknowledged within the agreed time
 *   2 professional monitoring  enrolled sensors heard from recently
 *   3 independent assessment   an assessment on record, not expired;
 *                              without an expiry of its own it is valid
 *                              for as long as the level policy gives the
 *                              agency's highest system level
 *   4 national connection      forwarding configured, acked recently,
 *                              backlog young
 *
 * Built on the store API alone (no SQL here), so the report means the
 * same thing as what `socctl sensors` and `socctl incidents` show.
 *
 * The roll-up: every agency also counts the agencies below it in the
 * tree (all of them, not only its children) and how many of those are
 * fully covered, so a province sees its districts and communes at once.
 * That needs every agency judged before the first is reported: the
 * report is built in memory (a few hundred agencies), then handed out.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store-int.h"	/* store_seterr() only: no SQL here */
#include "soc/util.h"

static const char *const layer_names[STORE_LAYERS] = {
	"on-site force",
	"professional monitoring",
	"independent assessment",
	"national connection",
};

static const char *const state_names[] = { "ok", "degraded", "missing" };

/* One agency of the report, its strings owned here. */
struct cov_item {
	char			*code;
	char			*name;
	char			*parent;
	struct store_coverage	 c;
};

struct cov_ctx {
	struct store				*st;
	struct store_endpoint_conf		 epc;
	struct cov_item				*last;	/* endpoint counting */
	const struct store_coverage_opts	*o;
	struct cov_item				*items;
	size_t					 n, cap;
	int					 oom;
};

const char *
store_layer_name(int layer)
{
	if (layer < 0 || layer >= STORE_LAYERS)
		return "?";
	return layer_names[layer];
}

const char *
store_layer_state_name(int state)
{
	if (state < STORE_LAYER_OK || state > STORE_LAYER_MISSING)
		return "?";
	return state_names[state];
}

void
store_coverage_opts_init(struct store_coverage_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->now_ns = soc_now_ns();
	o->heartbeat_max_ns = 5 * 60 * SOC_NS;
	o->ack_max_ns = 24 * 3600 * SOC_NS;
}

/* YYYY-MM-DD of ns, UTC: assessments are dated, not timed. */
static void
date_format(int64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / SOC_NS);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, len, "?");
}

static void
layer_set(struct store_coverage *c, int layer, int state, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
layer_set(struct store_coverage *c, int layer, int state, const char *fmt, ...)
{
	va_list ap;

	c->state[layer] = state;
	va_start(ap, fmt);
	vsnprintf(c->reason[layer], sizeof(c->reason[layer]), fmt, ap);
	va_end(ap);
}

/* ---- layer 1: on-site force ---- */

struct force_ctx {
	size_t		 n;
	char		 first[96];
	int64_t		 before;	/* created before this is overdue */
	size_t		 overdue;
	int64_t		 oldest;
};

static int
force_responder(void *arg, const struct store_responder *r)
{
	struct force_ctx *f = arg;

	if (f->n++ == 0)
		snprintf(f->first, sizeof(f->first), "%s", r->name);
	return 0;
}

static int
force_incident(void *arg, const struct store_incident *in)
{
	struct force_ctx *f = arg;

	if (in->created_at < f->before) {
		if (f->overdue++ == 0 || in->created_at < f->oldest)
			f->oldest = in->created_at;
	}
	return 0;
}

static int
layer_force(struct cov_ctx *x, struct store_coverage *c)
{
	struct store_incident_filter flt;
	struct force_ctx f;
	char age[32];

	memset(&f, 0, sizeof(f));
	if (store_responder_foreach(x->st, c->agency, force_responder, &f) == -1)
		return -1;
	if (f.n == 0) {
		layer_set(c, 0, STORE_LAYER_MISSING, "no responder on record");
		return 0;
	}
	if (x->o->ack_max_ns > 0) {
		store_incident_filter_init(&flt);
		flt.status = STORE_ST_NEW;
		flt.agency = c->agency;
		f.before = x->o->now_ns - x->o->ack_max_ns;
		if (store_incident_foreach(x->st, &flt, force_incident, &f) == -1)
			return -1;
	}
	if (f.overdue > 0) {
		store_age_format(x->o->now_ns - f.oldest, age, sizeof(age));
		layer_set(c, 0, STORE_LAYER_DEGRADED, "%zu incident%s not"
		    " acknowledged (oldest %s)", f.overdue,
		    f.overdue == 1 ? "" : "s", age);
	} else if (f.n == 1)
		layer_set(c, 0, STORE_LAYER_OK, "responder %s on record", f.first);
	else
		layer_set(c, 0, STORE_LAYER_OK, "%zu responders on record", f.n);
	return 0;
}

/* ---- layer 2: professional monitoring ---- */

/* Capture loss above this share of packets degrades layer 2. */
#define COV_MAX_LOSS	0.01

/* A counter from a heartbeat's JSON object ("name":N), or 0. */
static uint64_t
counter(const char *json, const char *name)
{
	char key[64];
	const char *p;

	if (json == NULL)
		return 0;
	snprintf(key, sizeof(key), "\"%s\":", name);
	if ((p = strstr(json, key)) == NULL)
		return 0;
	return strtoull(p + strlen(key), NULL, 10);
}

struct mon_ctx {
	int64_t		 now, max;
	char		 lossy_name[96];	/* a live sensor losing data */
	double		 lossy_share;
	uint64_t	 lossy_batches;
	size_t		 enrolled, revoked, live, silent, never;
	char		 live_name[96];
	int64_t		 live_heard;
	char		 silent_name[96];	/* the silent one heard most recently */
	int64_t		 silent_heard;
	char		 never_name[96];
	char		 churn_name[96];	/* closing live syslog senders */
	uint64_t	 churn;
	char		 refused_name[96];	/* refusing syslog senders */
	uint64_t	 refused;
	char		 acked_name[96];	/* acked events not applied */
	int64_t		 acked_debt;
	char		 prov[8][96];		/* province keys (national role) */
	size_t		 nprov;
	char		 defer_name[96];	/* one over the national bound */
	uint64_t	 deferred;
	int64_t		 deferred_at;
};

static int
mon_sensor(void *arg, const struct store_sensor_info *s)
{
	struct mon_ctx *m = arg;
	int64_t heard;

	if (s->revoked) {
		m->revoked++;
		return 0;
	}
	m->enrolled++;
	if (strcmp(s->role, "province") == 0 && m->nprov < 8)
		snprintf(m->prov[m->nprov++], sizeof(m->prov[0]), "%s", s->name);
	/* its acked events not applied: the chain pushed ahead (issue 15) */
	if (s->ack_alarm_at > 0 && (m->acked_name[0] == '\0' ||
	    s->ack_debt > m->acked_debt)) {
		snprintf(m->acked_name, sizeof(m->acked_name), "%s", s->name);
		m->acked_debt = s->ack_debt;
	}
	/* A batch is as good a sign of life as a heartbeat. */
	heard = s->last_heartbeat > s->last_batch_at ?
	    s->last_heartbeat : s->last_batch_at;
	if (heard > 0 && m->now - heard <= m->max) {
		/* syslog datagrams the kernel dropped are lost as packets are */
		uint64_t pk = counter(s->counters, "packets") +
		    counter(s->counters, "syslog_udp");
		uint64_t kd = counter(s->counters, "kernel_dropped") +
		    counter(s->counters, "iface_dropped") +
		    counter(s->counters, "syslog_udp_dropped");
		uint64_t bd = counter(s->counters, "batches_dropped");
		double share = pk + kd > 0 ? (double)kd / (double)(pk + kd) : 0;

		if ((share > COV_MAX_LOSS || bd > 0) && (share > m->lossy_share ||
		    bd > m->lossy_batches || m->lossy_name[0] == '\0')) {
			snprintf(m->lossy_name, sizeof(m->lossy_name), "%s", s->name);
			m->lossy_share = share;
			m->lossy_batches = bd;
		}
		/*
		 * live syslog TCP senders closed for newcomers (churn), or
		 * newcomers refused, in the sensor's last 15 minutes: the
		 * cumulative counts would degrade until the sensor restarts
		 */
		if (counter(s->counters, "syslog_tcp_evicted_senders_15m") >
		    m->churn) {
			m->churn = counter(s->counters,
			    "syslog_tcp_evicted_senders_15m");
			snprintf(m->churn_name, sizeof(m->churn_name), "%s",
			    s->name);
		}
		if (counter(s->counters, "syslog_tcp_rejected_15m") >
		    m->refused) {
			m->refused = counter(s->counters,
			    "syslog_tcp_rejected_15m");
			snprintf(m->refused_name, sizeof(m->refused_name), "%s",
			    s->name);
		}
		if (m->live++ == 0 || heard > m->live_heard) {
			snprintf(m->live_name, sizeof(m->live_name), "%s", s->name);
			m->live_heard = heard;
		}
	} else if (heard > 0) {
		if (m->silent++ == 0 || heard > m->silent_heard) {
			snprintf(m->silent_name, sizeof(m->silent_name), "%s", s->name);
			m->silent_heard = heard;
		}
	} else if (m->never++ == 0)
		snprintf(m->never_name, sizeof(m->never_name), "%s", s->name);
	return 0;
}

/*
 * National role: a province of this agency whose alerts were deferred over
 * national.max_alerts_per_min within COV_DEFER_RECENT (they are resent,
 * so nothing is lost, but the national view lags behind the province).
 */
#define COV_DEFER_RECENT	(15 * 60 * SOC_NS)

static int
mon_province(void *arg, const struct store_province_count *p)
{
	struct mon_ctx *m = arg;
	size_t i;

	if (p->last_deferred_at <= 0 ||
	    m->now - p->last_deferred_at > COV_DEFER_RECENT)
		return 0;
	for (i = 0; i < m->nprov; i++)
		if (strcmp(m->prov[i], p->name) == 0)
			break;
	if (i == m->nprov || p->last_deferred_at < m->deferred_at)
		return 0;
	snprintf(m->defer_name, sizeof(m->defer_name), "%s", p->name);
	m->deferred = p->deferred;
	m->deferred_at = p->last_deferred_at;
	return 0;
}

static int
layer_sensors(struct cov_ctx *x, struct store_coverage *c)
{
	struct mon_ctx m;
	char age[32];
	size_t down;

	memset(&m, 0, sizeof(m));
	m.now = x->o->now_ns;
	m.max = x->o->heartbeat_max_ns;
	if (store_sensor_foreach(x->st, c->agency, mon_sensor, &m) == -1)
		return -1;
	if (m.nprov > 0 &&
	    store_province_foreach(x->st, mon_province, &m) == -1)
		return -1;
	down = m.silent + m.never;
	if (m.enrolled == 0) {
		if (m.revoked > 0)
			layer_set(c, 1, STORE_LAYER_MISSING, "no sensor enrolled"
			    " (%zu revoked)", m.revoked);
		else
			layer_set(c, 1, STORE_LAYER_MISSING, "no sensor enrolled");
		return 0;
	}
	if (m.live == 0) {
		if (m.silent > 0) {
			store_age_format(m.now - m.silent_heard, age, sizeof(age));
			if (down == 1)
				layer_set(c, 1, STORE_LAYER_DEGRADED,
				    "sensor %s silent for %s", m.silent_name, age);
			else
				layer_set(c, 1, STORE_LAYER_DEGRADED,
				    "%zu sensors silent (%s for %s)", down,
				    m.silent_name, age);
		} else if (down == 1)
			layer_set(c, 1, STORE_LAYER_DEGRADED,
			    "sensor %s never heard from", m.never_name);
		else
			layer_set(c, 1, STORE_LAYER_DEGRADED,
			    "%zu sensors, none heard from yet", down);
		return 0;
	}
	if (m.acked_name[0] != '\0') {
		layer_set(c, 1, STORE_LAYER_DEGRADED, "sensor %s: events acked"
		    " but not stored (%lld); its sequence was pushed ahead: run"
		    " `socctl sensor reset-seq %s`", m.acked_name,
		    (long long)m.acked_debt, m.acked_name);
		return 0;
	}
	if (m.lossy_name[0] != '\0') {
		if (m.lossy_batches > 0)
			layer_set(c, 1, STORE_LAYER_DEGRADED, "sensor %s dropped %llu"
			    " batches (queue or spool full)", m.lossy_name,
			    (unsigned long long)m.lossy_batches);
		else
			layer_set(c, 1, STORE_LAYER_DEGRADED, "sensor %s loses %.1f%%"
			    " of packets in capture", m.lossy_name, 100 * m.lossy_share);
		return 0;
	}
	if (m.defer_name[0] != '\0') {
		store_age_format(m.now - m.deferred_at, age, sizeof(age));
		layer_set(c, 1, STORE_LAYER_DEGRADED, "province %s over"
		    " national.max_alerts_per_min: %llu alerts deferred, the"
		    " last %s ago (resent by the province; raise the bound if"
		    " this is its real rate)", m.defer_name,
		    (unsigned long long)m.deferred, age);
		return 0;
	}
	if (m.churn > 0) {
		layer_set(c, 1, STORE_LAYER_DEGRADED, "sensor %s closed %llu live"
		    " syslog TCP senders to make room in 15 minutes (connection"
		    " churn)",
		    m.churn_name, (unsigned long long)m.churn);
		return 0;
	}
	if (m.refused > 0) {
		layer_set(c, 1, STORE_LAYER_DEGRADED, "sensor %s refused %llu"
		    " syslog TCP connections in 15 minutes (every slot held by a"
		    " live sender)",
		    m.refused_name, (unsigned long long)m.refused);
		return 0;
	}
	{
		/* events arrive but are not kept: the archive is paused */
		int64_t paused_at;
		uint64_t lost;

		if (store_archive_health_get(x->st, &paused_at, &lost) == -1)
			return -1;
		if (paused_at > 0) {
			store_age_format(m.now - paused_at, age, sizeof(age));
			layer_set(c, 1, STORE_LAYER_DEGRADED, "the event archive"
			    " has been paused for %s (archive.dir full or not"
			    " writable): %llu events not archived", age,
			    (unsigned long long)lost);
			return 0;
		}
	}
	store_age_format(m.now - m.live_heard, age, sizeof(age));
	if (down == 0 && m.live == 1)
		layer_set(c, 1, STORE_LAYER_OK, "sensor %s heard %s ago",
		    m.live_name, age);
	else if (down == 0)
		layer_set(c, 1, STORE_LAYER_OK, "%zu sensors live", m.live);
	else if (m.silent > 0) {
		store_age_format(m.now - m.silent_heard, age, sizeof(age));
		layer_set(c, 1, STORE_LAYER_OK, "%zu of %zu sensors live;"
		    " %s silent for %s", m.live, m.enrolled, m.silent_name, age);
	} else
		layer_set(c, 1, STORE_LAYER_OK, "%zu of %zu sensors live;"
		    " %s never heard from", m.live, m.enrolled, m.never_name);
	return 0;
}

/*
 * Layer 2 also counts computers (issue 18) when the agency declares how
 * many it has: the share reporting within endpoints.stale_after and the
 * share protected must reach coverage.endpoints_min_share; with none
 * reporting the layer is missing, whatever its sensors say.
 */
static int
layer_monitoring(struct cov_ctx *x, struct store_coverage *c)
{
	char words[96];
	size_t k;
	double need;

	if (layer_sensors(x, c) == -1)
		return -1;
	if (c->ep_declared <= 0)
		return 0;
	snprintf(words, sizeof(words), "%llu of %lld computers reporting,"
	    " %llu protected", (unsigned long long)c->ep_reporting,
	    (long long)c->ep_declared, (unsigned long long)c->ep_protected);
	if (c->ep_reporting == 0) {
		layer_set(c, 1, STORE_LAYER_MISSING, "%s (none of the declared"
		    " computers sends events)", words);
		return 0;
	}
	need = x->epc.min_share * (double)c->ep_declared;
	if (c->state[1] == STORE_LAYER_OK && ((double)c->ep_reporting < need ||
	    (double)c->ep_protected < need)) {
		layer_set(c, 1, STORE_LAYER_DEGRADED, "%s (below %.0f%%)", words,
		    100 * x->epc.min_share);
		return 0;
	}
	/* the sensors' reason first, the computers after it */
	k = strlen(c->reason[1]);
	if (k + 2 + strlen(words) < sizeof(c->reason[1]))
		snprintf(c->reason[1] + k, sizeof(c->reason[1]) - k, "; %s",
		    words);
	return 0;
}

/* ---- layer 3: independent assessment ---- */

struct assess_ctx {
	int		 found;
	char		 assessor[96];
	int64_t		 assessed_at, expires_at;
	int		 by_level;
};

static int
assess_first(void *arg, const struct store_assessment *a)
{
	struct assess_ctx *ac = arg;

	/* Listed latest expiry first: the first one decides. */
	ac->found = 1;
	snprintf(ac->assessor, sizeof(ac->assessor), "%s", a->assessor);
	ac->assessed_at = a->assessed_at;
	ac->expires_at = a->expires_at;
	ac->by_level = a->by_level;
	return 1;
}

static int
layer_assessment(struct cov_ctx *x, struct store_coverage *c)
{
	struct assess_ctx ac;
	char d1[32], d2[32];

	memset(&ac, 0, sizeof(ac));
	if (store_assessment_foreach(x->st, c->agency, assess_first, &ac) == -1)
		return -1;
	if (!ac.found) {
		layer_set(c, 2, STORE_LAYER_MISSING, "no assessment on record");
		return 0;
	}
	date_format(ac.assessed_at, d1, sizeof(d1));
	date_format(ac.expires_at, d2, sizeof(d2));
	if (ac.expires_at <= x->o->now_ns)
		layer_set(c, 2, STORE_LAYER_MISSING, "last assessment (%s by %s)"
		    " expired %s%s", d1, ac.assessor, d2, ac.by_level ?
		    " (by the level policy)" : "");
	else
		layer_set(c, 2, STORE_LAYER_OK, "assessed %s by %s, valid until"
		    " %s%s", d1, ac.assessor, d2, ac.by_level ?
		    " (by the level policy)" : "");
	return 0;
}

/* ---- layer 4: national connection ---- */

/*
 * From the forwarder's state in the store (forward_state, written by the
 * correlator: its configuration at start, then every ack) and the
 * agency's own pending outbox records: ok when forwarding is configured,
 * the national receiver acked within forward.ack_within (the forwarder
 * heartbeats when idle, so a quiet link still proves itself) and the
 * agency's oldest pending record is younger than forward.max_backlog_age.
 */
static int
layer_national(struct cov_ctx *x, struct store_coverage *c)
{
	struct store_forward_state fs;
	char a1[32], a2[32];
	uint64_t n;
	int64_t oldest, ack_age, backlog_age;
	int rc;

	if ((rc = store_forward_state_get(x->st, &fs)) == -1)
		return -1;
	if (rc == 0 || fs.endpoint[0] == '\0') {
		layer_set(c, 3, STORE_LAYER_MISSING, "forwarding not configured");
		return 0;
	}
	if (store_forward_backlog(x->st, c->agency, &n, &oldest) == -1)
		return -1;
	/* an ack recorded after the report read its clock (the forwarder
	 * runs meanwhile) is fresh, not "never" */
	ack_age = fs.last_ack_at == 0 ? -1 : fs.last_ack_at > x->o->now_ns ?
	    0 : x->o->now_ns - fs.last_ack_at;
	backlog_age = n ? x->o->now_ns - oldest : 0;
	if (ack_age >= 0)
		store_age_format(ack_age, a1, sizeof(a1));
	store_age_format(backlog_age, a2, sizeof(a2));
	if (ack_age < 0 || ack_age > fs.ack_within_ns) {
		layer_set(c, 3, STORE_LAYER_DEGRADED, "national receiver %s%s%s;"
		    " backlog %llu (oldest %s)", ack_age < 0 ? "never acked" :
		    "last acked ", ack_age < 0 ? "" : a1, ack_age < 0 ? "" : " ago",
		    (unsigned long long)n, a2);
		return 0;
	}
	if (n > 0 && backlog_age > fs.max_backlog_age_ns) {
		layer_set(c, 3, STORE_LAYER_DEGRADED, "backlog %llu, oldest %s"
		    " (last ack %s ago)", (unsigned long long)n, a2, a1);
		return 0;
	}
	layer_set(c, 3, STORE_LAYER_OK, "forwarding to %s, last ack %s ago,"
	    " backlog %llu", fs.endpoint, a1, (unsigned long long)n);
	return 0;
}

static int
cov_collect(void *arg, const struct store_agency *a)
{
	struct cov_ctx *x = arg;
	struct cov_item *it;
	size_t ncap;

	if (x->n == x->cap) {
		ncap = x->cap ? x->cap * 2 : 64;
		if ((it = reallocarray(x->items, ncap, sizeof(*it))) == NULL)
			goto oom;
		x->items = it;
		x->cap = ncap;
	}
	it = &x->items[x->n];
	memset(it, 0, sizeof(*it));
	it->code = strdup(a->code);
	it->name = strdup(a->name);
	it->parent = strdup(a->parent);
	x->n++;
	if (it->code == NULL || it->name == NULL || it->parent == NULL)
		goto oom;
	return 0;
oom:
	x->oom = 1;
	return -1;
}

static struct cov_item *cov_find(struct cov_ctx *x, const char *code);

/* Each endpoint counted in its own agency (listed by agency). */
static int
cov_endpoint(void *arg, const struct store_endpoint *e)
{
	struct cov_ctx *x = arg;
	struct store_coverage *c;

	if (x->last == NULL || strcmp(x->last->code, e->agency) != 0)
		x->last = cov_find(x, e->agency);
	if (x->last == NULL)
		return 0;	/* an agency merged away */
	c = &x->last->c;
	if (x->o->now_ns - e->last_seen > x->epc.stale_after_ns)
		return 0;
	c->ep_reporting++;
	c->ep_protected += store_endpoint_protected(e, &x->epc, x->o->now_ns);
	return 0;
}

static int
cov_endpoints(struct cov_ctx *x)
{
	size_t i;

	if (store_endpoint_conf_get(x->st, &x->epc) == -1)
		return -1;
	for (i = 0; i < x->n; i++)
		if (store_agency_computers(x->st, x->items[i].code,
		    &x->items[i].c.ep_declared) == -1)
			return -1;
	return store_endpoint_foreach(x->st, NULL, 0, NULL, cov_endpoint, x);
}

static int
cov_judge(struct cov_ctx *x, struct cov_item *it)
{
	struct store_coverage *c = &it->c;
	int i;

	c->agency = it->code;
	c->name = it->name;
	c->parent = it->parent;
	if (store_agency_level(x->st, c->agency, &c->level) == -1 ||
	    layer_force(x, c) == -1 || layer_monitoring(x, c) == -1 ||
	    layer_assessment(x, c) == -1 || layer_national(x, c) == -1)
		return -1;
	c->covered = 1;
	for (i = 0; i < STORE_LAYERS; i++)
		if (c->state[i] != STORE_LAYER_OK)
			c->covered = 0;
	return 0;
}

static struct cov_item *
cov_find(struct cov_ctx *x, const char *code)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		if (strcmp(x->items[i].code, code) == 0)
			return &x->items[i];
	return NULL;
}

/* Counts each agency in every ancestor's roll-up; at most n steps up, so
 * a cycle made by hand in the database cannot loop. */
static void
cov_rollup(struct cov_ctx *x)
{
	struct cov_item *up;
	size_t i, steps;

	for (i = 0; i < x->n; i++) {
		struct store_coverage *c = &x->items[i].c;

		if (c->ep_declared >= 0) {
			c->tree_declared += c->ep_declared;
			c->tree_reporting += c->ep_reporting;
			c->tree_protected += c->ep_protected;
		}
	}
	for (i = 0; i < x->n; i++) {
		const struct store_coverage *c = &x->items[i].c;

		up = &x->items[i];
		for (steps = 0; steps < x->n && up->parent[0] != '\0' &&
		    c->ep_declared >= 0; steps++) {
			if ((up = cov_find(x, up->parent)) == NULL ||
			    up == &x->items[i])
				break;
			up->c.tree_declared += c->ep_declared;
			up->c.tree_reporting += c->ep_reporting;
			up->c.tree_protected += c->ep_protected;
		}
	}
	for (i = 0; i < x->n; i++) {
		up = &x->items[i];
		for (steps = 0; steps < x->n && up->parent[0] != '\0'; steps++) {
			if ((up = cov_find(x, up->parent)) == NULL ||
			    up == &x->items[i])
				break;
			up->c.sub_total++;
			up->c.sub_covered += x->items[i].c.covered;
		}
	}
}

int
store_coverage(struct store *st, const struct store_coverage_opts *o,
    store_coverage_fn fn, void *arg, size_t *ncovered, size_t *ntotal)
{
	struct cov_ctx x;
	size_t i, ncov = 0;
	int ret;

	memset(&x, 0, sizeof(x));
	x.st = st;
	x.o = o;
	ret = store_agency_foreach(st, cov_collect, &x);
	if (x.oom)
		store_seterr(st, "coverage: out of memory");
	if (ret == 0)
		ret = cov_endpoints(&x);
	for (i = 0; ret == 0 && i < x.n; i++)
		ret = cov_judge(&x, &x.items[i]);
	if (ret == 0)
		cov_rollup(&x);
	for (i = 0; ret == 0 && i < x.n; i++) {
		ncov += x.items[i].c.covered;
		if (fn != NULL)
			ret = fn(arg, &x.items[i].c);
	}
	if (ncovered != NULL)
		*ncovered = ret == 0 ? ncov : 0;
	if (ntotal != NULL)
		*ntotal = ret == 0 ? x.n : 0;
	for (i = 0; i < x.n; i++) {
		free(x.items[i].code);
		free(x.items[i].name);
		free(x.items[i].parent);
	}
	free(x.items);
	return ret;
}
