#!/usr/bin/env python3
"""The archive (issue 20), end to end: a real sensor following a log file
and a real correlator on loopback.  The correlator is SIGKILLed twice
while events flow (once mid-stream, once hung with batches queued) and
restarted; after a clean stop every line must be in the archive exactly
once (counted by its unique marker, read with the zstd command line tool
and Python's json), agree with the correlator's event count and with the
archive position committed in the database, and each closed segment has
its index.  Then `socctl events` (filters, --limit, --json, --csv) and
`incident show --context` on the brute-force incident the same lines
raised; a corrupt index and a segment cut mid-frame are read anyway and
reported."""
import collections
import csv
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

from soctest import (CORR, SENSOR, SOCCTL, SRC, append_syslog, check, counts, done,
                     events_received, free_port, run, wait_received,
                     sanitizer_clean, wait_port, stop, TIME_SCALE)


def sshd_lines(path, first, last, src="203.0.113.45"):
    with open(path, "a") as f:
        for i in range(first, last):
            f.write(f"Nov 27 10:01:{i % 60:02d} gw1 sshd[{900 + i}]: Failed password"
                    f" for root from {src} port {41000 + i} ssh2\n")


def archive_lines(adir):
    """Every JSON line of every segment, through zstdcat."""
    out = []
    for name in sorted(os.listdir(adir)):
        if not name.endswith(".jsonl.zst"):
            continue
        r = subprocess.run(["zstdcat", os.path.join(adir, name)],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"zstdcat {name}: {r.stderr.strip()}")
        out += [json.loads(l) for l in r.stdout.splitlines() if l]
    return out


def main():
    if shutil.which("zstdcat") is None:
        print("zstdcat not installed (Debian zstd)")
        return 77
    tmp = tempfile.mkdtemp(prefix="soc-archive-")
    db = os.path.join(tmp, "soc.db")
    adir = os.path.join(tmp, "archive")
    log = os.path.join(tmp, "app.log")
    ctl = lambda *a, **kw: run(SOCCTL, "--db", db, *a, **kw)
    for name in ("correlator", "gw1"):
        ctl("keygen", "--out", os.path.join(tmp, name))
    ctl("agency", "add", "stttt", "--name", "Sở TT&TT")
    ctl("sensor", "enroll", "gw1", "--agency", "stttt", "--key", os.path.join(tmp, "gw1.pub"))
    port = free_port()
    rules = os.path.join(tmp, "rules")
    os.mkdir(rules)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), rules)
    shutil.copy(os.path.join(SRC, "rules", "linux", "ssh-bruteforce.yml"), rules)
    corr_log = open(os.path.join(tmp, "corr.err"), "w+")

    def corr_start():
        return subprocess.Popen([CORR, "--db", db, "--rules", rules, "--key",
                                 os.path.join(tmp, "correlator.key"),
                                 "--bind", f"tcp://127.0.0.1:{port}"],
                                stdout=corr_log, stderr=subprocess.STDOUT)
    corr = corr_start()
    cfg = os.path.join(tmp, "sensor.yml")
    with open(cfg, "w") as f:
        f.write(f"""name: gw1
connect: tcp://127.0.0.1:{port}
server_key: {tmp}/correlator.pub
key: {tmp}/gw1.key
spool: {tmp}/spool
logs:
  files: [{log}]
  state_file: {tmp}/positions
uplink:
  batch_events: 7
  batch_ms: 50
  heartbeat_s: 1
  ack_timeout_ms: 3000
""")
    err = open(os.path.join(tmp, "sensor.err"), "w+")
    s = subprocess.Popen([SENSOR, "-c", cfg], stdout=subprocess.DEVNULL, stderr=err)
    try:
        check(wait_port(port, corr), "correlator listens")
        append_syslog(log, 0, 100)
        sshd_lines(log, 0, 10)
        total = 110
        check(wait_received(db, total) == total, f"first {total} lines arrive once")

        # SIGKILL the correlator while lines flow
        append_syslog(log, 100, 600)
        time.sleep(0.15)
        corr.send_signal(signal.SIGKILL)
        corr.wait()
        corr = corr_start()
        check(wait_port(port, corr), "correlator back after SIGKILL")
        total = 610
        n = wait_received(db, total, timeout=60)
        check(n == total, f"after SIGKILL mid-stream: {n} events for {total} lines")

        # hung with batches queued, then killed: the frame written for a
        # group that never committed must be cut at the next start
        corr.send_signal(signal.SIGSTOP)
        append_syslog(log, 600, 700)
        time.sleep(1.0)
        corr.send_signal(signal.SIGKILL)
        corr.wait()
        corr = corr_start()
        check(wait_port(port, corr), "correlator back after a hang")
        append_syslog(log, 700, 707)
        total = 717
        n = wait_received(db, total, timeout=60)
        check(n == total, f"after a correlator crash: {n} events for {total} lines")
        s.send_signal(signal.SIGTERM)
        check(s.wait(30 * TIME_SCALE) == 0, "sensor exits cleanly")
    finally:
        if s.poll() is None:
            s.kill()
        stop(corr, 20)

    # exactly once: every marker once, and the counts agree
    evs = archive_lines(adir)
    marks = collections.Counter()
    for e in evs:
        msg = e.get("message", "")
        if "line " in msg:
            marks["app " + msg.split("line ")[1]] += 1
        elif "Failed password" in msg:
            marks["sshd " + str(e["source"]["port"])] += 1
    dup = [k for k, v in marks.items() if v != 1]
    check(not dup, f"no line archived twice: {dup[:5]}")
    check(len(marks) == total, f"every line archived: {len(marks)} of {total}")
    check(len(evs) == events_received(db), f"archive ({len(evs)}) agrees with"
          f" the events applied ({events_received(db)})")
    con = sqlite3.connect(db)
    seg, off, nev = con.execute("SELECT segment, seg_offset, events FROM"
                                " archive_state").fetchone()
    con.close()
    check(nev == len(evs), f"committed archive count {nev} = {len(evs)}")
    check(os.path.getsize(os.path.join(adir, seg)) == off,
          "the last segment ends at its committed offset")
    check(all(e["organization"]["id"] == "stttt" and e["observer"]["name"] == "gw1"
              for e in evs), "events carry their agency and sensor")
    segs = [n for n in os.listdir(adir) if n.endswith(".jsonl.zst")]
    nonempty = [n for n in segs if os.path.getsize(os.path.join(adir, n)) > 0]
    check(all(os.path.exists(os.path.join(adir, n + ".idx")) for n in nonempty),
          f"each segment has its index after a clean stop: {sorted(os.listdir(adir))}")

    # a crash between a frame's write and its commit, made by hand on the
    # real daemon: bytes past the committed offset (valid frames: events
    # archived twice if they were kept) and a later segment never
    # committed; the next start cuts the one and removes the other
    segp = os.path.join(adir, seg)
    first = sorted(n for n in nonempty)[0]
    with open(os.path.join(adir, first), "rb") as f:
        frames = f.read()
    with open(segp, "ab") as f:
        f.write(frames)
    later = os.path.join(adir, "21000101T000000Z-000.jsonl.zst")
    with open(later, "wb") as f:
        f.write(frames)
    corr_log.seek(0, 2)
    corr = corr_start()
    try:
        check(wait_port(port, corr), "correlator starts after the made crash")
    finally:
        stop(corr, 20)
    check(os.path.getsize(segp) == off, "bytes past the committed offset cut")
    check(not os.path.exists(later), "a segment never committed removed")
    evs2 = archive_lines(adir)
    check(len(evs2) == len(evs), f"still every event once: {len(evs2)} for {len(evs)}")

    # socctl events
    r = ctl("events", "--text", "LINE 00042", "--json")
    got = json.loads(r.stdout)
    check(len(got) == 1 and got[0]["message"].endswith("line 00042"),
          f"--text finds one line, case-insensitively: {r.stdout[:300]}")
    r = ctl("events", "--text", "line 00042 nosuchword")
    check("no archived event matches" in r.stdout, "--text needs every word")
    r = ctl("events", "--ip", "203.0.113.0/24", "--json", "--limit", "1000")
    got = json.loads(r.stdout)
    check(len(got) == 10 and all(e["source"]["ip"] == "203.0.113.45" for e in got),
          f"--ip CIDR finds the 10 sshd lines: {len(got)}")
    r = ctl("events", "--ip", "198.51.100.7", "--json")
    check(json.loads(r.stdout) == [], "--ip of an unseen address: none")
    r = ctl("events", "--user", "ROOT", "--agency", "stttt", "--csv")
    rows = list(csv.reader(io.StringIO(r.stdout)))
    check(rows[0][:3] == ["time", "agency", "sensor"] and len(rows) == 11,
          f"--user --agency --csv: {len(rows) - 1} rows")
    r = ctl("events", "--user", "root", "--agency", "nosuch")
    check("no archived event matches" in r.stdout, "--agency of none: none")
    r = ctl("events", "--limit", "5", "--json")
    got = json.loads(r.stdout)
    ts = [e["@timestamp"] for e in got]
    check(len(got) == 5 and ts == sorted(ts, reverse=True),
          f"--limit 5, newest first: {ts}")
    r = ctl("events", "--ip", "203.0.113.45", "--limit", "3")
    lines = r.stdout.splitlines()
    check(lines[0].split()[:7] == ["TIME", "AGENCY", "SENSOR", "DATASET", "SOURCE",
                                   "DESTINATION", "SUMMARY"] and len(lines) == 4,
          f"table: {r.stdout[:400]}")
    r = ctl("events", "--ip", "not-an-ip", ok=False)
    check(r.returncode != 0, "--ip refuses what is not an address")

    # the brute force incident and its context
    r = ctl("incidents", "--json")
    inc = [i for i in json.loads(r.stdout) if "brute" in i["rule"]["title"].lower()]
    check(len(inc) == 1, f"one brute-force incident: {r.stdout[:300]}")
    if inc:
        r = ctl("incident", "show", str(inc[0]["id"]), "--context", "2h", "--json")
        got = json.loads(r.stdout)
        ctxev = got.get("context", [])
        check(len(ctxev) == 10 and all(e["source"]["ip"] == "203.0.113.45"
                                       for e in ctxev),
              f"incident show --context: the 10 events of its source: {len(ctxev)}")
        r = ctl("incident", "show", str(inc[0]["id"]), "--context")
        check("Archived events of 203.0.113.45" in r.stdout and
              r.stdout.count("203.0.113.45:") >= 10, "--context as a table")

    # a corrupt index: the segment is read anyway, and it is said
    idx = [n for n in os.listdir(adir) if n.endswith(".idx")]
    for n in idx:
        with open(os.path.join(adir, n), "r+b") as f:
            f.seek(20)
            f.write(b"\xff\xff\xff")
    r = ctl("events", "--ip", "203.0.113.45", "--json", "--limit", "1000")
    check(len(json.loads(r.stdout)) == 10 and "without a usable index" in r.stderr,
          f"corrupt indexes: segments scanned, reported: {r.stderr.strip()}")
    # a segment cut in the middle of its last frame
    big = max(nonempty, key=lambda n: os.path.getsize(os.path.join(adir, n)))
    p = os.path.join(adir, big)
    os.truncate(p, os.path.getsize(p) - 7)
    r = ctl("events", "--text", "line", "--json", "--limit", "100000")
    n = len(json.loads(r.stdout))
    check(0 < n < 707 and "1 cut short" in r.stderr,
          f"a cut segment is read to its last whole frame ({n}), reported: {r.stderr.strip()}")

    err.seek(0)
    sanitizer_clean(err.read(), "sensor")
    corr_log.seek(0)
    text = corr_log.read()
    sanitizer_clean(text, "correlator")
    check("bytes past the committed offset" in text and "never committed" in text,
          "the cuts at start are logged")
    if counts["failed"]:
        print(text[-3000:], file=sys.stderr)
    return done()


if __name__ == "__main__":
    sys.exit(main())
