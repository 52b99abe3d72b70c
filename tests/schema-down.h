/*
 * Undoing the newest schema steps, for the migration tests: each test
 * takes a current database back to the version before the step it tests
 * (newest step first), then checks that opening it migrates forward with
 * its rows intact.  A new step in correlator/store/store.c adds its undo here.
 */
#ifndef SOC_TEST_SCHEMA_DOWN_H
#define SOC_TEST_SCHEMA_DOWN_H

/* 8 -> 7: correlation window counters */
#define SCHEMA_DOWN_V8 \
	"DROP TABLE corr_windows;"

/* 9 -> 8: province bounds and agencies, the last reload */
#define SCHEMA_DOWN_V9 \
	"DROP TABLE province_counts;" \
	" DROP TABLE province_agencies;" \
	" DROP TABLE corr_reload;"

/* 10 -> 9: clamped event times, acked vs applied (issue 15) */
#define SCHEMA_DOWN_V10 \
	"ALTER TABLE sensors DROP COLUMN ts_clamped;" \
	" ALTER TABLE sensors DROP COLUMN ack_run;" \
	" ALTER TABLE sensors DROP COLUMN ack_based;" \
	" ALTER TABLE sensors DROP COLUMN ack_base;" \
	" ALTER TABLE sensors DROP COLUMN ack_debt;" \
	" ALTER TABLE sensors DROP COLUMN ack_grew;" \
	" ALTER TABLE sensors DROP COLUMN ack_alarm_at;"

/* 11 -> 10: indicator sets */
#define SCHEMA_DOWN_V11 \
	"DROP TABLE intel_sets;" \
	" DROP TABLE indicators;" \
	" DROP TABLE intel_state;" \
	" DROP TABLE incident_indicators;"

/* 12 -> 11: endpoints, declared computers (issue 18) */
#define SCHEMA_DOWN_V12 \
	"DROP TABLE endpoints;" \
	" DROP TABLE endpoint_conf;" \
	" DROP TABLE endpoint_refused;" \
	" DROP TABLE agency_computers;"

/* 13 -> 12: the archive's position */
#define SCHEMA_DOWN_V13 \
	"DROP TABLE archive_state;"

/* 14 -> 13: responders' contacts, notifications */
#define SCHEMA_DOWN_V14 \
	"DROP TABLE notify_outbox;" \
	" DROP TABLE notify_escalations;" \
	" DROP TABLE notify_state;" \
	" DROP TABLE responder_contacts;"

/* 16 -> 15: indicator sets pushed down, acks, sightings */
#define SCHEMA_DOWN_V16 \
	"ALTER TABLE intel_sets DROP COLUMN pub_version;" \
	" ALTER TABLE intel_sets DROP COLUMN pub_kind;" \
	" ALTER TABLE intel_sets DROP COLUMN pub_records;" \
	" ALTER TABLE intel_sets DROP COLUMN pub_bytes;" \
	" DROP TABLE intel_delta;" \
	" DROP TABLE intel_acks;" \
	" DROP TABLE intel_sightings;" \
	" DROP TABLE province_tree;"

/* 17 -> 16: endpoints' signature age */
#define SCHEMA_DOWN_V17 \
	"ALTER TABLE endpoints DROP COLUMN sig_at;" \
	" ALTER TABLE endpoint_conf DROP COLUMN signature_max_age;"

/* 18 -> 17: the provinces' coverage */
#define SCHEMA_DOWN_V18 \
	"DROP TABLE province_coverage;"

/* 19 -> 18: responders' webhook templates, pruned notifications */
#define SCHEMA_DOWN_V19 \
	"ALTER TABLE responder_contacts DROP COLUMN template;" \
	" ALTER TABLE notify_state DROP COLUMN pruned;"

/* 20 -> 19: endpoints' signature version, where mergers moved them */
#define SCHEMA_DOWN_V20 \
	"DROP TABLE endpoint_moved;" \
	" ALTER TABLE endpoints DROP COLUMN sig_version_at;" \
	" ALTER TABLE endpoints DROP COLUMN sig_version;"

/* 7 -> 6: key roles, incident rule tags */
#define SCHEMA_DOWN_V7 \
	"ALTER TABLE sensors DROP COLUMN role;" \
	" ALTER TABLE incidents DROP COLUMN rule_tags;"

/* 6 -> 5: forwarding */
#define SCHEMA_DOWN_V6 \
	"DROP TABLE forward_state;" \
	" DROP INDEX outbox_incident;" \
	" DROP INDEX outbox_unsent;" \
	" ALTER TABLE outbox DROP COLUMN revision;" \
	" ALTER TABLE outbox DROP COLUMN severity;" \
	" ALTER TABLE outbox DROP COLUMN status;" \
	" ALTER TABLE outbox DROP COLUMN count;" \
	" ALTER TABLE outbox DROP COLUMN first_seen;" \
	" ALTER TABLE outbox DROP COLUMN last_seen;"

/* 5 -> 4: category, related, closed_at, the audit guard */
#define SCHEMA_DOWN_V5 \
	"DROP TRIGGER incidents_status_audited;" \
	" DROP TRIGGER incidents_assignee_audited;" \
	" DROP INDEX incidents_closed;" \
	" ALTER TABLE incidents DROP COLUMN category;" \
	" ALTER TABLE incidents DROP COLUMN related;" \
	" ALTER TABLE incidents DROP COLUMN closed_at;"

/* 4 -> 3: search */
#define SCHEMA_DOWN_V4 \
	"DROP VIEW incident_deadlines;" \
	" DROP TRIGGER search_incident_insert;" \
	" DROP TRIGGER search_incident_update;" \
	" DROP TRIGGER search_incident_delete;" \
	" DROP TABLE incident_fts;"

/* 15 -> 14: the archive's health */
#define SCHEMA_DOWN_V15 \
	"DROP TABLE archive_health;"

#endif
