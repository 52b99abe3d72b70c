#!/usr/bin/env python3
"""Batches the correlator skips (acked, never applied: malformed, or for
the key's wrong role) must not raise the acked-count alarm (review M5 of
issue 15), against the real correlator.

A peer holding gw1's key plays the sensor and counts its acked events as
the real sensor does: one good batch of 5 events, a quiet heartbeat (the
baseline), a malformed batch of 3, a quiet heartbeat, an alert batch of 4
(gw1 is a sensor: refused for its role), two quiet heartbeats.  Both
skipped batches are acked; their events count as applied for the check
(its baseline moves up by them), so the sensor's acked count and ours
agree: no incident, no alarm; events_received still counts only what
was applied.  Before the
fix the two skipped batches made the debt grow at two heartbeats: a high
incident "acknowledged but not stored".
"""
import json
import os
import shutil
import struct
import sys
import tempfile
import time

from soctest import check, done
from hostile_peer import (EVENTS, HEARTBEAT, ACK, Correlator, Peer, batch,
                          ssh_failure, zmq)

ALERTS = 3
RULE = "soc-sensor-acked-not-applied"
RUN = 1796629426533868


def heartbeat(acked):
    recs = []
    for name, v in (("uplink_start", RUN), ("events_acked", acked),
                    ("batches_unacked", 0)):
        recs.append(bytes([len(name)]) + name.encode() + struct.pack("<Q", v))
    return batch(HEARTBEAT, 0, recs)


def main():
    tmp = tempfile.mkdtemp(prefix="soc-ackskip-")
    corr = Correlator(tmp)
    zctx = zmq.Context()
    try:
        check(corr.start(), "correlator listens")
        p = Peer(zctx, corr.endpoint, os.path.join(tmp, "gw1"),
                 corr.server_pub)
        now = time.time_ns()
        recs = [ssh_failure(now, "192.0.2.1") for _ in range(5)]
        check(p.send(batch(EVENTS, 1, recs)) == (ACK, 1), "5 events acked")
        acked = 5
        p.s.send(heartbeat(acked))
        # malformed: 3 records announced, the last one cut short
        bad = batch(EVENTS, 2, [ssh_failure(now, "192.0.2.1")
                                for _ in range(3)], prev=1)[:-3]
        check(p.send(bad) == (ACK, 2), "the malformed batch is acked")
        acked += 3
        p.s.send(heartbeat(acked))
        # alerts from a sensor's key: refused for its role, acked
        al = batch(ALERTS, 3, [ssh_failure(now, "192.0.2.1")
                               for _ in range(4)], prev=2)
        check(p.send(al) == (ACK, 3), "the alert batch is acked")
        acked += 4
        for _ in range(3):
            p.s.send(heartbeat(acked))
        # one more good batch: its ack comes after the heartbeats'
        # transaction, so they are all judged by then
        check(p.send(batch(EVENTS, 4, recs, prev=3)) == (ACK, 4),
              "5 more events acked")
        acked += 5
        for _ in range(2):
            p.s.send(heartbeat(acked))
        check(p.send(batch(EVENTS, 5, recs, prev=4)) == (ACK, 5),
              "and 5 more")
        p.close()
        rows = {r["name"]: r for r in
                json.loads(corr.ctl("sensors", "--json").stdout)}
        row = rows.get("gw1", {})
        check(row.get("events_received") == 15,
              f"only the applied events count as received: "
              f"{row.get('events_received')}")
        check(not row.get("acked_alarm_at") and
              not row.get("acked_not_applied"),
              f"no acked-count alarm: {row.get('acked_not_applied')} "
              f"{row.get('acked_alarm_at')}")
        incs = [i for i in json.loads(corr.ctl("incidents", "--json").stdout)
                if i.get("rule", {}).get("id") == RULE]
        check(not incs, f"no incident for skipped batches: {incs}")
        check("refused" in corr.text(), "the skipped batches are logged")
    except Exception as e:
        check(False, f"{type(e).__name__}: {e}")
    finally:
        corr.stop()
        zctx.destroy(linger=0)
        if not os.environ.get("SOC_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
