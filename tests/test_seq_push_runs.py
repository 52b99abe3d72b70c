#!/usr/bin/env python3
"""A key thief must not switch the acked-count check off with heartbeats
of its own (review H2 of issue 15), on the real sensor and correlator:

- small runs: the thief pushes gw1's sequence ahead, then sends
  heartbeats every 0.3 s with a changing uplink_start (1001, 1002, ...,
  all older than the real sensor's run) and nothing acked, while the real
  sensor's 50 next events are acked as resends and never stored.  Before
  the fix every run change wiped the check: no incident.  Now a run older
  than the one followed is itself the alarm (two holders of one key):
  the incident soc-sensor-acked-not-applied, a warning naming the two
  runs and `socctl sensor reset-seq`, coverage layer 2 degraded;
- reset-seq mends it and the real sensor is followed again;
- big runs: the thief's heartbeat says uplink_start 2^64-1 (read as
  INT64_MAX, review L1: no overflow) and events_acked 2^64-1: newer, so it
  takes a new baseline, and the real sensor's next heartbeat is older:
  raised again.
"""
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

from soctest import (SENSOR, check, done, events_received,
                     sanitizer_clean, wait_until)
from hostile_peer import (EVENTS, HEARTBEAT, ACK, Correlator, Peer, batch,
                          zmq)

RULE = "soc-sensor-acked-not-applied"


def heartbeat(run, acked, unacked=0):
    recs = []
    for name, v in (("uplink_start", run), ("events_acked", acked),
                    ("batches_unacked", unacked)):
        recs.append(bytes([len(name)]) + name.encode() + struct.pack("<Q", v))
    return batch(HEARTBEAT, 0, recs)


def alarms(corr):
    return [i for i in json.loads(corr.ctl("incidents", "--json").stdout)
            if i.get("rule", {}).get("id") == RULE]


def sensor_row(corr):
    rows = json.loads(corr.ctl("sensors", "--json").stdout)
    return {r["name"]: r for r in rows}.get("gw1", {})


def raised(corr):
    return bool(sensor_row(corr).get("acked_alarm_at"))


def main():
    tmp = tempfile.mkdtemp(prefix="soc-seqruns-")
    corr = Correlator(tmp)
    log = os.path.join(tmp, "app.log")
    cfg = os.path.join(tmp, "sensor.yml")
    with open(cfg, "w") as f:
        f.write(corr.uplink_conf() + f"""spool: {tmp}/spool
logs:
  files: [{log}]
  state_file: {tmp}/positions
uplink:
  batch_events: 5
  batch_ms: 50
  ack_timeout_ms: 1000
  heartbeat_s: 1
""")
    os.mkdir(os.path.join(tmp, "spool"))
    serr = os.path.join(tmp, "sensor.err")
    n = 0

    def append(k):
        nonlocal n
        with open(log, "a") as f:
            for _ in range(k):
                f.write(f"Nov 27 10:00:{n % 60:02d} gw1 app[1]: line {n:05d}\n")
                n += 1

    def hb_at():
        r = corr.q("select last_heartbeat from sensors where name='gw1'")
        return r[0][0] if r else 0

    def heartbeats_pass(k):
        for _ in range(k):
            last = hb_at()
            wait_until(lambda: hb_at() > last, "a heartbeat", 20)

    zctx = zmq.Context()
    s = None
    stop_hb = threading.Event()
    th = None
    try:
        check(corr.start(), "correlator listens")
        s = subprocess.Popen([SENSOR, "-c", cfg], stdout=subprocess.DEVNULL,
                             stderr=open(serr, "w"))
        append(10)
        wait_until(lambda: events_received(corr.db) == n, f"{n} lines stored", 30)
        heartbeats_pass(2)
        check(not alarms(corr), "no incident before the thief")

        # ---- small runs, alternating with the real sensor's ----
        last = corr.q("select last_seq from sensors where name='gw1'")[0][0]
        thief = Peer(zctx, corr.endpoint, os.path.join(tmp, "gw1"),
                     corr.server_pub)
        check(thief.send(batch(EVENTS, last + (1 << 19), [])) ==
              (ACK, last + (1 << 19)), "the pushed batch is applied")

        def hb_loop():
            k = 0
            while not stop_hb.is_set():
                k += 1
                thief.s.send(heartbeat(1000 + k, 0))
                stop_hb.wait(0.3)
        th = threading.Thread(target=hb_loop, daemon=True)
        th.start()
        before = events_received(corr.db)
        for _ in range(5):
            append(10)
            heartbeats_pass(1)
        wait_until(lambda: alarms(corr), "an incident is raised although the thief's runs keep changing", 60)
        stop_hb.set()
        th.join()
        check(events_received(corr.db) == before,
              "(the pushed chain: none of the 50 was stored)")
        a = alarms(corr)
        if a:
            check(a[0].get("agency") == "stttt" and a[0].get("severity") ==
                  "high", f"high, of gw1's agency: {a[0]}")
        text = corr.text()
        check("two holders of its key" in text and
              "socctl sensor reset-seq gw1" in text,
              "the warning says two holders and names reset-seq")
        check(raised(corr), "socctl sensors shows it raised")
        cov = corr.ctl("coverage", "--json").stdout
        check("reset-seq gw1" in cov and "degraded" in cov,
              f"coverage layer 2 degraded, naming reset-seq: {cov}")

        # ---- mended ----
        corr.ctl("sensor", "reset-seq", "gw1")
        before = events_received(corr.db)
        append(10)
        wait_until(lambda: events_received(corr.db) > before, "after reset-seq the sensor's lines are stored again", 40)
        heartbeats_pass(2)
        check(not raised(corr), "the real sensor alone raises nothing")

        # ---- big runs: 2^64-1 ----
        thief.s.send(heartbeat(2**64 - 1, 2**64 - 1))
        thief.s.send(heartbeat(2**64 - 1, 2**64 - 1))
        append(5)
        wait_until(lambda: raised(corr), "a thief's run 2^64-1 then the real sensor's: raised again", 30)
        check(len(alarms(corr)) == 1, "one incident for the sensor")
        thief.close()
    except Exception as e:
        check(False, f"{type(e).__name__}: {e}")
    finally:
        stop_hb.set()
        if th is not None:
            th.join()
        if s is not None and s.poll() is None:
            s.send_signal(signal.SIGTERM)
            try:
                s.wait(40)
            except subprocess.TimeoutExpired:
                s.kill()
                s.wait()
            with open(serr, errors="replace") as f:
                sanitizer_clean(f.read(), "sensor")
        corr.stop()
        zctx.destroy(linger=0)
        if not os.environ.get("SOC_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
