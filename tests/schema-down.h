/*
 * Undoing the newest schema steps, for the migration tests: each test
 * takes a current database back to the version before the step it tests
 * (newest step first), then checks that opening it migrates forward with
 * its rows intact.  A new step in correlator/store.c adds its undo here.
 */
#ifndef SOC_TEST_SCHEMA_DOWN_H
#define SOC_TEST_SCHEMA_DOWN_H

/* 4 -> 3: search */
#define SCHEMA_DOWN_V4 \
	"DROP VIEW incident_deadlines;" \
	" DROP TRIGGER search_incident_insert;" \
	" DROP TRIGGER search_incident_update;" \
	" DROP TRIGGER search_incident_delete;" \
	" DROP TABLE incident_fts;"

#endif
