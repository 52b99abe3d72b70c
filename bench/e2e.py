#!/usr/bin/env python3
"""bench/e2e: one real sensor and one real correlator on loopback, a
generated sshd log, and two rule sets: the shipped rules (rules/) and a
storm set where every line raises an alert (24 single sshd rules, one per
user name, plus a brute-force correlation by source address).

Throughput: `soc-sensor --once` reads the whole log (default 1,000,000
lines) and exits once every batch is acked, i.e. committed with its
incidents; events/s = lines / (sensor start .. exit).  Zero loss is
checked in the database: the sensor's events_received equals the number
of lines and, in the storm, the incident counts of the 24 single rules
sum to it.

Delay: a second sensor follows a file that this script appends to at a
steady rate (default: half the throughput just measured), in chunks
every 10 ms, noting each chunk's write time.  A reader polls the
sensor's events_received (committed in the same transaction as the
incidents of those events) every 2 ms; a chunk's delay is the first poll
that sees its last line committed minus its write time.  So the delay
runs from the line's write (before the sensor reads it) to its
incident's commit, plus at most one poll interval: an upper bound.

The storm comes from 256 source addresses (--ips): single-event alerts
group by source address, so that is 768 storm incidents (24 users x 256
addresses, combined as i % 24 and i * K % 256 give) and 256 brute-force
ones.  --ips 4096 gives 16,384 incidents: far fewer alerts per incident
and transaction to aggregate, so a lower figure.

--intel N imports N generated indicators (public addresses, /24 blocks,
domains, URLs, digests, e-mail addresses; none of the log's addresses)
before the correlator starts, to compare events/s with a large set
loaded against the run without (issue 19: at least 90%).

usage: e2e.py BUILD [--lines N] [--set shipped|storm|both] [--rate EV_S]
              [--seconds S] [--ips N] [--intel N]
"""
import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
USERS = 24
IPS = 256	# source addresses: 768 (user, address) keys + 256 brute-force


def line(i):
    """Line i of the log: user{i % 24}, one of IPS addresses, a failed
    password (every line is one sshd event).  Event time: 1000 lines a
    second from 10:00:00."""
    s = i // 1000
    a = (i * 2654435761) % IPS
    return (f"Nov 27 {10 + s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d} gw1 "
            f"sshd[{1000 + i % 30000}]: Failed password for user{i % USERS} "
            f"from 10.66.{a >> 8}.{a & 255} port {1024 + i % 60000} ssh2\n")


def write_log(path, n):
    with open(path, "w") as f:
        buf = []
        for i in range(n):
            buf.append(line(i))
            if len(buf) == 10000:
                f.write("".join(buf))
                buf = []
        f.write("".join(buf))


STORM_RULE = """title: SSH storm user{k}
id: 5e0c0000-0000-4000-8000-{k:012d}
status: test
description: Every failed login of user{k} (bench/e2e storm set).
author: bench
level: {level}
tags:
  - attack.credential_access
  - attack.t1110
logsource:
  product: linux
  service: sshd
detection:
  selection:
    event.action: ssh_login
    user.name: user{k}
  condition: selection
"""

STORM_CORR = """title: SSH failed login (storm base)
id: 5e0c0000-0000-4000-8000-100000000000
name: storm_failed_login
status: test
author: bench
level: low
logsource:
  product: linux
  service: sshd
detection:
  selection:
    event.action: ssh_login
    event.outcome: failure
  condition: selection
---
title: SSH brute force (storm)
id: 5e0c0000-0000-4000-8000-100000000001
status: test
author: bench
level: high
tags:
  - attack.t1110.001
correlation:
  type: event_count
  rules:
    - storm_failed_login
  group-by:
    - source.ip
  timespan: 2m
  condition:
    gte: 8
"""


def storm_rules(d):
    os.makedirs(d)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), d)
    levels = ("low", "medium", "high", "critical")
    for k in range(USERS):
        with open(os.path.join(d, f"storm-{k:02d}.yml"), "w") as f:
            f.write(STORM_RULE.format(k=k, level=levels[k % 4]))
    with open(os.path.join(d, "storm-bruteforce.yml"), "w") as f:
        f.write(STORM_CORR)


def octet1(h):
    """A public first octet (feeds leave RFC 1918 and loopback out)."""
    o = 11 + (h >> 24) % 200
    return o + 1 if o in (127, 172, 192) else o


def write_intel(path, n):
    """n typed-list indicators, as bench/intel.c generates them."""
    with open(path, "w") as f:
        buf = []
        for i in range(n):
            h = (i * 2654435761) & 0xffffffff
            k = i % 10
            if k < 4:
                buf.append(f"ip {octet1(h)}.{(h >> 16) & 255}."
                           f"{(h >> 8) & 255}.{h & 255}\n")
            elif k == 4:
                buf.append(f"cidr {octet1(h)}.{(h >> 16) & 255}."
                           f"{(h >> 8) & 255}.0/24\n")
            elif k < 7:
                buf.append(f"domain d{h:08x}.bad{i % 97}.example\n")
            elif k == 7:
                buf.append(f"sha256 {h:08x}{i:08x}" + "0" * 48 + "\n")
            elif k == 8:
                buf.append(f"url http://u{h:08x}.example/p/{i}.php\n")
            elif i % 20 == 9:
                buf.append(f"md5 {h:08x}{i:08x}" + "0" * 16 + "\n")
            else:
                buf.append(f"email u{i}@m{h:08x}.example\n")
            if len(buf) == 10000:
                f.write("".join(buf))
                buf = []
        f.write("".join(buf))


class Setup:
    def __init__(self, build, tmp, rules, intel=None, corr_args=(),
                 prefix=(), wait_s=30):
        """prefix: a command the correlator runs under (valgrind);
        wait_s: how long to wait for it to listen."""
        self.build, self.tmp, self.rules = build, tmp, rules
        self.db = os.path.join(tmp, "soc.db")
        self.socctl = os.path.join(build, "correlator", "socctl")
        for name in ("correlator", "gw1", "gw2"):
            self.ctl("keygen", "--out", os.path.join(tmp, name))
        self.ctl("agency", "add", "bench", "--name", "Bench")
        for name in ("gw1", "gw2"):
            self.ctl("sensor", "enroll", name, "--agency", "bench", "--key",
                     os.path.join(tmp, name + ".pub"))
        if intel:
            self.ctl("intel", "import", intel, "--source", "bench")
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.corr_err = open(os.path.join(tmp, "corr.err"), "w+")
        self.corr = subprocess.Popen(
            [*prefix, os.path.join(build, "correlator", "soc-correlator"),
             "--db", self.db,
             "--rules", rules, "--key", os.path.join(tmp, "correlator.key"),
             "--bind", f"tcp://127.0.0.1:{self.port}", *corr_args],
            stdout=self.corr_err, stderr=subprocess.STDOUT)
        end = time.time() + wait_s
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)

    def ctl(self, *a):
        subprocess.run([self.socctl, "--db", self.db, *a], check=True,
                       capture_output=True)

    def sensor_conf(self, name, log, batch_ms):
        p = os.path.join(self.tmp, name + ".yml")
        with open(p, "w") as f:
            f.write(f"""name: {name}
connect: tcp://127.0.0.1:{self.port}
server_key: {self.tmp}/correlator.pub
key: {self.tmp}/{name}.key
logs:
  files: [{log}]
uplink:
  batch_events: 1000
  batch_ms: {batch_ms}
  queue_batches: 256
  ack_timeout_ms: 30000
  drain_timeout_s: 600
""")
        return p

    def sensor_cmd(self, conf, once):
        return [os.path.join(self.build, "sensor", "soc-sensor"), "-c", conf] + \
            (["--once"] if once else [])

    def stop(self):
        self.corr.terminate()
        try:
            self.corr.wait(60)
        except subprocess.TimeoutExpired:
            self.corr.kill()
            self.corr.wait()


def received(con, name):
    r = con.execute("select events_received from sensors where name = ?",
                    (name,)).fetchone()
    return r[0] if r else 0


def throughput(s, log, n, storm):
    conf = s.sensor_conf("gw1", log, 50)
    t0 = time.monotonic()
    p = subprocess.run(s.sensor_cmd(conf, True), capture_output=True, text=True)
    dt = time.monotonic() - t0
    con = sqlite3.connect(f"file:{s.db}?mode=ro", uri=True, timeout=30)
    got = received(con, "gw1")
    single = con.execute("select coalesce(sum(count), 0) from incidents where"
                         " rule_title like 'SSH storm user%'").fetchone()[0]
    incidents = con.execute("select count(*), coalesce(sum(count), 0) from"
                            " incidents").fetchone()
    con.close()
    ok = p.returncode == 0 and got == n and (not storm or single == n)
    if p.returncode != 0:
        print(p.stderr[-2000:], file=sys.stderr)
    return dt, got, single, incidents, ok


def delay(s, tmp, rate, seconds):
    log = os.path.join(tmp, "follow.log")
    open(log, "w").close()
    conf = s.sensor_conf("gw2", log, 20)
    sensor = subprocess.Popen(s.sensor_cmd(conf, False), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    chunk = max(1, int(rate / 100))		# every 10 ms
    nchunks = int(seconds * 100)
    written = []		# (cumulative lines, write time)
    seen = []		# (time, events_received)
    stop = threading.Event()

    def poll():
        con = sqlite3.connect(f"file:{s.db}?mode=ro", uri=True, timeout=30)
        while not stop.is_set():
            seen.append((time.monotonic(), received(con, "gw2")))
            time.sleep(0.002)
        con.close()
    th = threading.Thread(target=poll)
    th.start()
    total = 0
    text = [("".join(line(1000000 + c * chunk + j) for j in range(chunk))).encode()
            for c in range(min(nchunks, 50))]
    with open(log, "ab", buffering=0) as f:
        start = time.monotonic()
        for c in range(nchunks):
            due = start + c * 0.01
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            f.write(text[c % len(text)])
            total += chunk
            written.append((total, time.monotonic()))
    end = time.monotonic() + 60
    while time.monotonic() < end and (not seen or seen[-1][1] < total):
        time.sleep(0.05)
    stop.set()
    th.join()
    sensor.terminate()
    sensor.wait(60)
    delays, j = [], 0
    for cum, wt in written:
        while j < len(seen) and seen[j][1] < cum:
            j += 1
        if j == len(seen):
            return None, total, seen[-1][1] if seen else 0
        delays.append(max(0.0, seen[j][0] - wt))
    delays.sort()
    pct = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))] * 1000
    return (pct(0.50), pct(0.99)), total, seen[-1][1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--lines", type=int, default=1000000)
    ap.add_argument("--set", default="both", choices=("shipped", "storm", "both"))
    ap.add_argument("--rate", type=float, default=0)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--ips", type=int, default=IPS)
    ap.add_argument("--intel", type=int, default=0)
    args = ap.parse_args()
    globals()["IPS"] = args.ips
    build = os.path.abspath(args.build)
    tmp = tempfile.mkdtemp(prefix="soc-bench-e2e.")
    ok = True
    try:
        log = os.path.join(tmp, "sshd.log")
        write_log(log, args.lines)
        storm_rules(os.path.join(tmp, "storm-rules"))
        intel = None
        if args.intel:
            intel = os.path.join(tmp, "indicators.txt")
            write_intel(intel, args.intel)
        sets = (("shipped", os.path.join(SRC, "rules")),
                ("storm", os.path.join(tmp, "storm-rules")))
        print(f"bench/e2e: {args.lines} sshd lines from {IPS} addresses, one"
              f" sensor, one correlator, loopback"
              f"{f', {args.intel} indicators loaded' if args.intel else ''}")
        for name, rules in sets:
            if args.set not in ("both", name):
                continue
            d = os.path.join(tmp, name)
            os.mkdir(d)
            s = Setup(build, d, rules, intel)
            try:
                dt, got, single, inc, good = throughput(s, log, args.lines,
                                                        name == "storm")
                rate = args.lines / dt
                print(f"  {name:8s} {rate:10.0f} events/s  ({got} of {args.lines} "
                      f"events stored, {inc[0]} incidents counting {inc[1]} "
                      f"events{', storm rules ' + str(single) if name == 'storm' else ''})"
                      f"  {'zero loss' if good else 'LOSS OR FAILURE'}")
                ok = ok and good
                prate = args.rate or rate / 2
                pct, total, last = delay(s, d, prate, args.seconds)
                if pct is None:
                    print(f"  {name:8s} delay at {prate:.0f} ev/s: only {last} of "
                          f"{total} events committed within 60 s")
                    ok = False
                else:
                    print(f"  {name:8s} delay at {prate:8.0f} ev/s: p50 {pct[0]:6.1f} ms"
                          f"  p99 {pct[1]:6.1f} ms  (read to incident commit,"
                          f" {total} events)")
            finally:
                s.stop()
                s.corr_err.seek(0)
                errs = [l for l in s.corr_err.read().splitlines() if "warning" in l]
                if errs:
                    print("  correlator warnings:", *errs[:5], sep="\n    ")
        print("  targets (2 cores): >= 500000 events/s shipped, >= 300000 storm,"
              " p99 < 500 ms")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
