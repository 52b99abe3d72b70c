#!/usr/bin/env python3
"""A stolen key's sequence push must not be silent (issue 15, item 7), on
the real sensor and correlator:

- lag is not a push: a real sensor (spool, heartbeats every second)
  sends lines while the correlator is stopped and restarted, and while
  it is itself killed with SIGKILL and restarted (its spool resent, acked
  as resends): no incident, coverage layer 2 not degraded for it;
- the push: a hostile peer holding gw1's key sends one batch numbered
  2^19 past the last one (within the plausible bound, so it is applied);
  the real sensor's next 50 events are acked as resends and none is
  stored.  Its heartbeats count them acked: the correlator opens an
  incident of rule soc-sensor-acked-not-applied, logs a warning naming
  `socctl sensor reset-seq`, `socctl sensors --json` shows the debt and
  coverage layer 2 is degraded naming the command;
- `socctl sensor reset-seq gw1` mends it: later lines are stored and
  layer 2 is no longer degraded by it.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from soctest import (SENSOR, TIME_SCALE, check, done, events_received,
                     sanitizer_clean, wait_until)
from hostile_peer import EVENTS, ACK, Correlator, Peer, batch, zmq

RULE = "soc-sensor-acked-not-applied"


def start_sensor(tmp, cfg, tag):
    err = os.path.join(tmp, f"{tag}.err")
    p = subprocess.Popen([SENSOR, "-c", cfg], stdout=subprocess.DEVNULL,
                         stderr=open(err, "w"))
    p.errpath = err
    return p


def end_sensor(p, sig=signal.SIGTERM):
    p.send_signal(sig)
    try:
        p.wait(40 * TIME_SCALE)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    with open(p.errpath, errors="replace") as f:
        text = f.read()
    if sig != signal.SIGKILL:
        sanitizer_clean(text, "sensor")
    return text


def alarms(corr):
    return [i for i in json.loads(corr.ctl("incidents", "--json").stdout)
            if i.get("rule", {}).get("id") == RULE]


def layer2(corr):
    out = corr.ctl("coverage", "--json").stdout
    return out


def sensor_row(corr):
    rows = json.loads(corr.ctl("sensors", "--json").stdout)
    return {r["name"]: r for r in rows}.get("gw1", {})


def main():
    tmp = tempfile.mkdtemp(prefix="soc-seqpush-")
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
    n = 0

    def append(k):
        nonlocal n
        with open(log, "a") as f:
            for _ in range(k):
                f.write(f"Nov 27 10:00:{n % 60:02d} gw1 app[1]: line {n:05d}\n")
                n += 1

    def heartbeats_pass(k):
        """Waits until k more heartbeats were stored."""
        def hb():
            r = corr.q("select last_heartbeat from sensors where name='gw1'")
            return r[0][0] if r else 0
        for _ in range(k):
            last = hb()
            wait_until(lambda: hb() > last, "a heartbeat stored")

    zctx = zmq.Context()
    s = None
    try:
        check(corr.start(), "correlator listens")
        s = start_sensor(tmp, cfg, "s1")
        # ---- lag is not a push ----
        for _ in range(4):
            append(7)
            time.sleep(0.3)
        wait_until(lambda: events_received(corr.db) == n, f"{n} lines stored")
        heartbeats_pass(2)
        # the correlator away while lines keep coming, then back
        corr.stop()
        append(20)
        time.sleep(1.5)
        check(corr.start(), "correlator restarted")
        append(5)
        wait_until(lambda: events_received(corr.db) == n,
                   f"{n} lines stored after the correlator's restart")
        heartbeats_pass(3)
        # the sensor killed: its spool is resent (some acked as resends)
        append(10)
        end_sensor(s, signal.SIGKILL)
        s = start_sensor(tmp, cfg, "s2")
        append(10)
        wait_until(lambda: events_received(corr.db) == n,
                   f"{n} lines stored after the sensor's SIGKILL")
        for _ in range(3):
            append(5)
            heartbeats_pass(1)
        heartbeats_pass(2)
        check(not alarms(corr), "no incident from lag, restarts or resends")
        check(RULE not in corr.text() and "acked but not" not in layer2(corr),
              "layer 2 not degraded by lag")
        stored = events_received(corr.db)
        check(stored == n, f"all {n} lines stored once: {stored}")

        # ---- the push ----
        last = corr.q("select last_seq from sensors where name='gw1'")[0][0]
        thief = Peer(zctx, corr.endpoint, os.path.join(tmp, "gw1"),
                     corr.server_pub)
        check(thief.send(batch(EVENTS, last + (1 << 19), [])) ==
              (ACK, last + (1 << 19)), "the pushed batch is applied")
        thief.close()
        before = events_received(corr.db)
        for _ in range(5):
            append(10)
            heartbeats_pass(1)
        wait_until(lambda: alarms(corr),
                   "an incident is raised for the acked events not stored")
        check(events_received(corr.db) == before,
              "(the pushed chain: none of the 50 was stored)")
        a = alarms(corr)
        if a:
            check(a[0].get("agency") == "stttt" and a[0].get("severity") ==
                  "high", f"high, of gw1's agency: {a[0]}")
        check("socctl sensor reset-seq gw1" in corr.text(),
              "the correlator's warning names socctl sensor reset-seq")
        row = sensor_row(corr)
        check(row.get("acked_not_applied", 0) > 0 and row.get("acked_alarm_at"),
              f"socctl sensors shows it: {row.get('acked_not_applied')} "
              f"{row.get('acked_alarm_at')}")
        cov = layer2(corr)
        check("reset-seq gw1" in cov and "degraded" in cov,
              f"coverage layer 2 degraded, naming reset-seq: {cov}")

        # ---- mended ----
        corr.ctl("sensor", "reset-seq", "gw1")
        before = events_received(corr.db)
        append(10)
        wait_until(lambda: events_received(corr.db) > before,
                   "after reset-seq the sensor's lines are stored again")
        heartbeats_pass(1)
        check("reset-seq gw1" not in layer2(corr),
              "layer 2 no longer degraded by it")
        check(len(alarms(corr)) == 1, "one incident, not one per heartbeat")
    except Exception as e:
        check(False, f"{type(e).__name__}: {e}")
    finally:
        if s is not None and s.poll() is None:
            end_sensor(s)
        corr.stop()
        # destroy, not term: a socket an exception left open would make
        # term() wait forever, a failure turned into the test's timeout
        zctx.destroy(linger=0)
        if not os.environ.get("SOC_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
