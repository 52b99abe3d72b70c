/*
 * What both senders of the outbox share, below them: the national
 * forwarder (forward.c) and the CEF sender (forward-cef.c) each build an
 * alert from an outbox record (forward_alert_build) and delete acked
 * records older than forward.keep_acked (forward_prune: at most once a
 * minute, at most FWD_PRUNE_MAX rows looked at per pass).  Calls neither.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soc/json.h"
#include "soc/log.h"
#include "soc/util.h"
#include "forward.h"
#include "store.h"

#define FWD_PRUNE_MS	60000		/* acked records pruned at most this often */
#define FWD_PRUNE_MAX	4096		/* ... looked at per pass */

/* ---- alerts from outbox records ---- */

static void
copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* Evidence string field f into dst, if the event has it. */
static void
ev_str(const struct soc_event *ev, int f, char *dst, size_t len)
{
	size_t n;
	const char *s = soc_event_str(ev, f, &n);

	if (s == NULL)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static void
alert_evidence(const char *json, struct soc_event *ev, struct soc_alert *a)
{
	const struct soc_ip *ip;
	const char *why;

	if (json == NULL || json[0] == '\0' ||
	    soc_json_read_event(json, strlen(json), ev, &why, NULL) == -1)
		return;
	if ((ip = soc_event_ip(ev, SOC_F_SOURCE_IP)) != NULL)
		a->src_ip = *ip;
	if ((ip = soc_event_ip(ev, SOC_F_DEST_IP)) != NULL)
		a->dst_ip = *ip;
	a->src_port = (int)soc_event_int(ev, SOC_F_SOURCE_PORT, -1);
	a->dst_port = (int)soc_event_int(ev, SOC_F_DEST_PORT, -1);
	if (a->src_port < -1 || a->src_port > 65535)
		a->src_port = -1;
	if (a->dst_port < -1 || a->dst_port > 65535)
		a->dst_port = -1;
	ev_str(ev, SOC_F_USER_NAME, a->user_name, sizeof(a->user_name));
	ev_str(ev, SOC_F_URL_ORIGINAL, a->url, sizeof(a->url));
	ev_str(ev, SOC_F_DNS_QNAME, a->dns_name, sizeof(a->dns_name));
	ev_str(ev, SOC_F_OBSERVER_NAME, a->sensor, sizeof(a->sensor));
}

/* The incident's rule tags (comma-separated) into a->tags, bounded. */
static void
alert_tags(const char *list, struct soc_alert *a)
{
	const char *p = list, *e;
	size_t n;

	while (p != NULL && *p != '\0' && a->ntags < ALERT_MAX_TAGS) {
		p += strspn(p, " ,");
		e = p + strcspn(p, ",");
		n = (size_t)(e - p);
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n > 0 && n < ALERT_TAG_LEN) {
			memcpy(a->tags[a->ntags], p, n);
			a->tags[a->ntags++][n] = '\0';
		}
		p = e;
	}
}

void
forward_alert_build(struct store *st, const struct store_outbox_rec *r,
    const char *origin, struct soc_event *ev, struct soc_alert *a)
{
	char code[ALERT_NAME_LEN], parent[ALERT_NAME_LEN];

	alert_init(a);
	copy_str(a->origin_name, sizeof(a->origin_name), origin);
	/* the identity (origin name, incident, revision) is this tier's, the
	 * one its receiver keys on; the origin agency is where the incident
	 * was first raised, carried through every tier (docs/NATIONAL.md) */
	copy_str(a->origin_agency, sizeof(a->origin_agency),
	    r->origin_agency != NULL && r->origin_agency[0] != '\0' ?
	    r->origin_agency : r->agency);
	a->incident_id = r->incident_id;
	a->revision = r->revision > 0 ? (uint64_t)r->revision : 1;
	alert_set_id(a);
	copy_str(a->rule_id, sizeof(a->rule_id), r->rule_id);
	copy_str(a->rule_title, sizeof(a->rule_title), r->rule_title);
	copy_str(a->rule_level, sizeof(a->rule_level), r->rule_level);
	copy_str(a->rule_author, sizeof(a->rule_author), r->rule_author);
	alert_tags(r->rule_tags, a);
	copy_str(a->agency, sizeof(a->agency), r->agency);
	copy_str(a->agency_name, sizeof(a->agency_name), r->agency_name);
	/* the parent chain, nearest first, bounded against a cycle */
	copy_str(code, sizeof(code), r->agency_parent);
	while (code[0] != '\0' && a->nparents < ALERT_MAX_PARENTS) {
		copy_str(a->parents[a->nparents++], ALERT_NAME_LEN, code);
		if (store_agency_parent(st, code, parent, sizeof(parent)) != 1)
			break;
		memcpy(code, parent, sizeof(code));
	}
	a->severity = r->severity;
	a->status = r->status < 0 ? 0 : r->status;
	a->first_seen = r->first_seen < 0 ? 0 : r->first_seen;
	a->last_seen = r->last_seen < a->first_seen ? a->first_seen : r->last_seen;
	a->count = r->count;
	copy_str(a->group_key, sizeof(a->group_key), r->group_key);
	copy_str(a->category, sizeof(a->category), r->category);
	alert_evidence(r->evidence, ev, a);
	if (a->sensor[0] == '\0')
		copy_str(a->sensor, sizeof(a->sensor), r->sensor);
}

void
forward_prune(struct store *st, const struct forward_conf *c,
    struct forward_prune *p, int64_t now_ms, const char *who)
{
	int64_t n;

	if (c->keep_acked_ns <= 0 || (p->last_ms != 0 &&
	    now_ms - p->last_ms < FWD_PRUNE_MS))
		return;
	p->last_ms = now_ms;
	if ((n = store_outbox_prune(st, soc_now_ns() - c->keep_acked_ns,
	    FWD_PRUNE_MAX, p->cur)) == -1)
		log_warnx("%s: pruning acked records: %s", who, store_errmsg(st));
	else if (n > 0) {
		p->pruned += (uint64_t)n;
		log_debug("%s: %lld acked records older than forward.keep_acked"
		    " deleted", who, (long long)n);
	}
}
