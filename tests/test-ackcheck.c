/*
 * store_ack_judge() (issue 15, item 7): a sensor's count of acked events
 * against the events applied for its key, judged at quiet heartbeats.
 * Ordinary lag -- a first baseline taken with a batch committed but its
 * ack not yet counted, heartbeats with batches in flight, a new run of
 * the sensor -- must never raise it; acks without events applied, seen
 * growing at STORE_ACK_GREW quiet heartbeats, must, once.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "store.h"

#define RUN	1796629426533868LL

static void
test_lag(void)
{
	struct store_ack a;
	int i;

	memset(&a, 0, sizeof(a));
	/* in flight: not judged at all */
	CHECK_INT(store_ack_judge(&a, RUN, 0, 50, 3, 1), 0);
	CHECK_INT(a.based, 0);
	/* baseline with 20 events applied whose ack was not counted yet */
	CHECK_INT(store_ack_judge(&a, RUN, 100, 120, 0, 2), 0);
	/* they are counted: one offset, once */
	CHECK_INT(store_ack_judge(&a, RUN, 120, 120, 0, 3), 0);
	CHECK_INT(a.debt, 20);
	CHECK_INT(a.grew, 1);
	/* then both sides move together for ever: never raised */
	for (i = 0; i < 100; i++)
		CHECK_INT(store_ack_judge(&a, RUN, 120 + 10 * i, 120 + 10 * i,
		    i % 3 == 0 ? 2 : 0, 4 + i), 0);
	CHECK_INT(a.alarm_at, 0);
	/* a new run (restart: its spool resent, acked as resends) */
	CHECK_INT(store_ack_judge(&a, RUN + 1, 64, 1200, 0, 200), 0);
	CHECK_INT(store_ack_judge(&a, RUN + 1, 100, 1236, 0, 201), 0);
	CHECK_INT(a.debt, 0);
	CHECK_INT(a.alarm_at, 0);
}

static void
test_push(void)
{
	struct store_ack a;

	memset(&a, 0, sizeof(a));
	CHECK_INT(store_ack_judge(&a, RUN, 10, 10, 0, 1), 0);
	/* another holder's batch applied: the difference falls, base follows */
	CHECK_INT(store_ack_judge(&a, RUN, 10, 11, 0, 2), 0);
	CHECK_INT(a.base, -1);
	/* then the sensor's batches acked as resends, never applied */
	CHECK_INT(store_ack_judge(&a, RUN, 20, 11, 0, 3), 0);
	CHECK_INT(a.debt, 10);
	CHECK_INT(store_ack_judge(&a, RUN, 20, 11, 0, 4), 0);	/* idle */
	CHECK_INT(store_ack_judge(&a, RUN, 30, 11, 5, 5), 0);	/* in flight */
	CHECK_INT(store_ack_judge(&a, RUN, 30, 11, 0, 6), 1);	/* raised */
	CHECK_INT(a.alarm_at, 6);
	CHECK_INT(a.debt, 20);
	CHECK_INT(store_ack_judge(&a, RUN, 40, 11, 0, 7), 0);	/* once */
	CHECK_INT(a.alarm_at, 6);
	/* the sensor restarts: a new baseline, the alarm stays until cleared */
	CHECK_INT(store_ack_judge(&a, RUN + 5, 0, 11, 0, 8), 0);
	CHECK_INT(a.alarm_at, 6);
}

/*
 * Review H2: a thief's heartbeats with changing runs must not wipe the
 * check.  A newer run takes a new baseline; an older one is a second
 * holder of the key: raised at once, nothing reset.
 */
static void
test_runs(void)
{
	struct store_ack a;
	int i;

	memset(&a, 0, sizeof(a));
	CHECK_INT(store_ack_judge(&a, RUN, 10, 10, 0, 1), 0);
	CHECK_INT(store_ack_judge(&a, RUN, 20, 10, 0, 2), 0);
	CHECK_INT(a.debt, 10);
	/* the thief's heartbeat of another (newer) run: a new baseline */
	CHECK_INT(store_ack_judge(&a, RUN + 7, 0, 10, 0, 3), 0);
	CHECK_INT(a.run, RUN + 7);
	/* the real sensor's next heartbeat: its run went back: raised */
	CHECK_INT(store_ack_judge(&a, RUN, 30, 10, 0, 4), STORE_ACK_RUNS);
	CHECK_INT(a.alarm_at, 4);
	CHECK_INT(a.run, RUN + 7);
	/* alternating for ever: raised once, the state never wiped */
	for (i = 0; i < 10; i++) {
		CHECK_INT(store_ack_judge(&a, RUN + (i % 2) * 7, 40 + i, 10, 0,
		    5 + i), 0);
		CHECK_INT(a.alarm_at, 4);
	}
	/* a thief's run far below, before any alarm: raised, not reset */
	memset(&a, 0, sizeof(a));
	CHECK_INT(store_ack_judge(&a, RUN, 10, 10, 0, 1), 0);
	CHECK_INT(store_ack_judge(&a, RUN, 20, 10, 0, 2), 0);
	CHECK_INT(store_ack_judge(&a, 1, 0, 10, 0, 3), STORE_ACK_RUNS);
	CHECK_INT(a.run, RUN);
	CHECK_INT(a.base, 0);
	CHECK_INT(a.debt, 10);
	/* reset-seq (a zeroed state): any run is newer again */
	memset(&a, 0, sizeof(a));
	CHECK_INT(store_ack_judge(&a, 1, 0, 10, 0, 9), 0);
	CHECK_INT(a.alarm_at, 0);
}

/*
 * Review L1: counts at the ends of int64 (a hostile heartbeat's 2^64-1
 * is INT64_MAX once read) must not overflow (UBSan halts the ASan
 * build's run) nor wipe the baseline.
 */
static void
test_extremes(void)
{
	struct store_ack a;

	memset(&a, 0, sizeof(a));
	CHECK_INT(store_ack_judge(&a, RUN, 0, 100, 0, 1), 0);
	CHECK_INT(a.base, -100);
	CHECK_INT(store_ack_judge(&a, RUN, INT64_MAX, 0, 0, 2), 0);
	CHECK(a.debt == INT64_MAX);
	CHECK_INT(a.base, -100);
	CHECK_INT(store_ack_judge(&a, RUN, INT64_MAX, 0, 0, 3), 0);
	CHECK_INT(store_ack_judge(&a, RUN, INT64_MAX, INT64_MAX, 0, 4), 0);
	CHECK_INT(a.base, -100);
	memset(&a, 0, sizeof(a));
	CHECK_INT(store_ack_judge(&a, RUN, INT64_MAX, 0, 0, 1), 0);
	CHECK_INT(store_ack_judge(&a, RUN, 0, INT64_MAX, 0, 2), 0);
	CHECK(a.base == -INT64_MAX);
	CHECK_INT(store_ack_judge(&a, RUN, INT64_MAX, 0, 0, 3), 0);
	CHECK(a.debt == INT64_MAX);
}

int
main(void)
{
	test_lag();
	test_push();
	test_runs();
	test_extremes();
	return check_done();
}
