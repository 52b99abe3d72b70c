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

int
main(void)
{
	test_lag();
	test_push();
	return check_done();
}
