#!/usr/bin/env python3
"""A stamp INSIDE ingest.max_ahead_s must not blind a correlation either
(review H1 of issue 15): a correlation window never uses a time later
than the receive time.

- peer: from a hostile sensor holding gw1's key, one event stamped
  max_ahead_s minus 5 s ahead for 203.0.113.7, then 10 real failed SSH
  logins for it and for a control address: both fire (the shipped rule's
  window is 2 minutes: before the fix the window sat 295 s ahead and
  skipped every real failure); the incident is not last seen in the
  future, the evidence keeps the claim in soc.timestamp.claimed, and the
  event is not counted as clamped (within tolerance).
- syslog: end to end with a real sensor and correlator: one RFC 5424 sshd
  line stamped now+280 s over UDP, then 10 real failures for the address
  and a control address: both raise an incident; neither the sensor nor
  the correlator counts it as clamped.
"""
import calendar
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from soctest import (SENSOR, check, done, free_port as free_udp,
                     sanitizer_clean, stop, wait_until)
from hostile_peer import (run_cases, EVENTS, ACK, Correlator, Peer, batch, ssh_failure,
                          zmq)

MAX_AHEAD = 300		# ingest.max_ahead_s and logs.max_ahead_s defaults


def incidents(corr):
    return json.loads(corr.ctl("incidents", "--json").stdout)


def by_ip(incs, ip):
    return [i for i in incs if i.get("group_key") == f"source.ip={ip}"]


def sensors(corr):
    return {r["name"]: r for r in json.loads(corr.ctl("sensors", "--json").stdout)}


def seen(i, key):
    return calendar.timegm(time.strptime(i[key][:19], "%Y-%m-%dT%H:%M:%S"))


def peer(tmp, zctx):
    corr = Correlator(tmp, rules=["linux/ssh-bruteforce.yml"])
    try:
        check(corr.start(), "correlator listens")
        p = Peer(zctx, corr.endpoint, os.path.join(tmp, "gw1"), corr.server_pub)
        ahead = time.time_ns() + (MAX_AHEAD - 5) * 10**9
        check(p.send(batch(EVENTS, 1, [ssh_failure(ahead, "203.0.113.7")]))
              == (ACK, 1), "the event stamped 295 s ahead is acked")
        now = time.time_ns()
        recs = [ssh_failure(now + i * 10**6, ip) for i in range(10)
                for ip in ("203.0.113.7", "203.0.113.8")]
        check(p.send(batch(EVENTS, 2, recs, prev=1)) == (ACK, 2),
              "20 real failures acked")
        wait_until(lambda: by_ip(incidents(corr), "203.0.113.8"),
                   "the control address fires", 20)
        incs = incidents(corr)
        check(by_ip(incs, "203.0.113.8"), "the control address fires")
        hit = by_ip(incs, "203.0.113.7")
        check(hit, f"the address stamped 295 s ahead fires too: {incs}")
        for i in hit:
            check(seen(i, "last_seen") <= time.time() + 2,
                  f"its last seen is not in the future: {i.get('last_seen')}")
        if hit:
            show = corr.ctl("incident", "show", str(hit[0]["id"]),
                            "--json").stdout
            claim = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(ahead / 1e9))
            check("claimed" in show and claim in show,
                  f"its evidence keeps the claimed time {claim}: "
                  f"{show[show.find('claimed'):][:200]}")
        row = sensors(corr).get("gw1", {})
        check(row.get("ts_clamped") == 0,
              f"within tolerance: not counted as clamped: "
              f"{row.get('ts_clamped')}")
        p.close()
    finally:
        corr.stop()


def syslog(tmp, zctx):
    corr = Correlator(tmp, rules=["linux/ssh-bruteforce.yml"])
    s = None
    serr = os.path.join(tmp, "sensor.err")
    try:
        if not check(corr.start(), "correlator listens"):
            return
        udp = free_udp(socket.SOCK_DGRAM)
        cfg = os.path.join(tmp, "sensor.yml")
        with open(cfg, "w") as f:
            f.write(corr.uplink_conf() + f"""output: uplink
syslog:
  udp: 127.0.0.1:{udp}
uplink:
  batch_ms: 100
  heartbeat_s: 1
""")
        s = subprocess.Popen([SENSOR, "-c", cfg], stdout=subprocess.DEVNULL,
                             stderr=open(serr, "w"))

        def err():
            with open(serr, errors="replace") as f:
                return f.read()

        def received():
            r = corr.q("select events_received from sensors where name='gw1'")
            return (r[0][0] or 0) if r else 0
        wait_until(lambda: "listening" in err(), "sensor listens", 20)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        ft = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                           time.gmtime(time.time() + MAX_AHEAD - 20))
        u.sendto(f"<38>1 {ft} h1 sshd 12 - - Failed password for root from "
                 f"10.66.0.1 port 22 ssh2".encode(), ("127.0.0.1", udp))
        wait_until(lambda: received() >= 1, "the line stamped 280 s ahead reaches the correlator", 30)
        for i in range(10):
            t = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            for ip in ("10.66.0.1", "10.66.0.2"):
                u.sendto(f"<38>1 {t} h1 sshd 12 - - Failed password for root "
                         f"from {ip} port {4000 + i} ssh2".encode(),
                         ("127.0.0.1", udp))
        wait_until(lambda: received() >= 21, f"21 events reach the correlator: {received()}", 30)
        wait_until(lambda: by_ip(incidents(corr), "10.66.0.2"), "the control address raises a brute-force incident", 30)
        wait_until(lambda: by_ip(incidents(corr), "10.66.0.1"), "the address with a stamp 280 s ahead raises one too", 10)
        row = sensors(corr).get("gw1", {})
        check(row.get("ts_clamped") == 0,
              f"the correlator counts none as clamped: {row.get('ts_clamped')}")
        c = row.get("counters") or {}
        c = c if isinstance(c, dict) else json.loads(c)
        check(not c.get("log_time_clamped"),
              f"nor does the sensor: {c.get('log_time_clamped')}")
    finally:
        if s is not None:
            rc = stop(s)
            sanitizer_clean(open(serr, errors="replace").read(), "sensor")
            check(rc == 0, f"sensor exits 0, got {rc}")
        corr.stop()


def main():
    return run_cases((peer, syslog), "soc-tahead")


if __name__ == "__main__":
    sys.exit(main())
