/*
 * Undoing the newest schema steps, for the migration tests: each test
 * takes a current database back to the version before the step it tests
 * (newest step first), then checks that opening it migrates forward with
 * its rows intact.  A new step in correlator/store.c adds its undo here.
 */
#ifndef SOC_TEST_SCHEMA_DOWN_H
#define SOC_TEST_SCHEMA_DOWN_H

/* 9 -> 8: indicator sets */
#define SCHEMA_DOWN_V9 \
	"DROP TABLE intel_sets;" \
	" DROP TABLE indicators;" \
	" DROP TABLE intel_state;" \
	" DROP TABLE incident_indicators;"

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

#endif
