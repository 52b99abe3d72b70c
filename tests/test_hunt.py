#!/usr/bin/env python3
"""Hunting (issue 20): `socctl hunt` runs Sigma rules, a correlation
included, back over the archive a real correlator wrote from two real
sensors of two agencies.  The same address fails four SSH logins in each
agency: together eight, the brute-force threshold, but windows are per
agency, so that must raise nothing; nine failures of another address in
one agency must.  --since/--until/--agency (a subtree), --json, and
--raise (incidents with sensor hunt, tag soc.hunt and the events' own
times) against nothing written without it.  Then retro intel: the
correlator running with a set holding 203.0.113.45, a new version adds
198.51.100.9, archived two days ago in both agencies: one incident per
agency marked retro at the sighting's time, and none for the indicator
the previous version held."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

from soctest import (CORR, SENSOR, SOCCTL, SRC, check, done, events_received,
                     free_port, run, wait_port, wait_until, stop)

SINGLE = """title: Known bad scanner
id: 5d0c4f3e-0c55-4f4b-9b59-6a1f7f0f0a01
status: stable
author: test
level: medium
logsource:
  product: linux
  service: sshd
detection:
  selection:
    source.ip: 192.0.2.77
  condition: selection
"""


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(t))


def fail(t, host, src, port):
    return (f"{iso(t)} {host} sshd[{port}]: Failed password for root from {src}"
            f" port {port} ssh2\n")


def incidents(db):
    con = sqlite3.connect(db, timeout=10)
    try:
        return con.execute("select count(*) from incidents").fetchone()[0]
    finally:
        con.close()


def main():
    tmp = tempfile.mkdtemp(prefix="soc-hunt-")
    db = os.path.join(tmp, "soc.db")
    ctl = lambda *a, **kw: run(SOCCTL, "--db", db, "--utc", *a, **kw)
    for name in ("correlator", "gw1", "gw2"):
        ctl("keygen", "--out", os.path.join(tmp, name))
    ctl("agency", "add", "stttt", "--name", "So TT&TT")
    ctl("agency", "add", "tinh", "--name", "UBND tinh")
    ctl("agency", "add", "sotc", "--name", "So Tai chinh", "--parent", "tinh")
    ctl("sensor", "enroll", "gw1", "--agency", "stttt", "--key",
        os.path.join(tmp, "gw1.pub"))
    ctl("sensor", "enroll", "gw2", "--agency", "sotc", "--key",
        os.path.join(tmp, "gw2.pub"))
    # the live correlator runs no rule that these lines raise
    live = os.path.join(tmp, "live")
    os.mkdir(live)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), live)
    hunt1 = os.path.join(tmp, "single")
    os.mkdir(hunt1)
    with open(os.path.join(hunt1, "scanner.yml"), "w") as f:
        f.write(SINGLE)
    brute = os.path.join(SRC, "rules", "linux", "ssh-bruteforce.yml")

    # two days ago, on a minute boundary
    t0 = (int(time.time()) - 2 * 86400) // 60 * 60
    l1, l2 = os.path.join(tmp, "gw1.log"), os.path.join(tmp, "gw2.log")
    with open(l1, "w") as f:
        for i in range(4):
            f.write(fail(t0 + i, "web1", "198.51.100.9", 41000 + i))
        for i in range(9):
            f.write(fail(t0 + 10 + i, "web1", "203.0.113.45", 42000 + i))
    with open(l2, "w") as f:
        for i in range(4):
            f.write(fail(t0 + 4 + i, "db1", "198.51.100.9", 43000 + i))
        f.write(fail(t0 + 3600, "db1", "192.0.2.77", 44000))

    port = free_port()
    corr_err = open(os.path.join(tmp, "corr.err"), "w+")
    corr = subprocess.Popen([CORR, "--db", db, "--rules", live, "--key",
                             os.path.join(tmp, "correlator.key"), "--bind",
                             f"tcp://127.0.0.1:{port}"],
                            stdout=corr_err, stderr=subprocess.STDOUT)
    try:
        check(wait_port(port, corr), "correlator listens")
        for name, log in (("gw1", l1), ("gw2", l2)):
            r = subprocess.run([SENSOR, "--connect", f"tcp://127.0.0.1:{port}",
                                "--server-key", os.path.join(tmp, "correlator.pub"),
                                "--key", os.path.join(tmp, f"{name}.key"),
                                "--log-file", log, "--once"],
                               capture_output=True, text=True, timeout=60)
            check(r.returncode == 0, f"sensor {name} replays: {r.stderr[-300:]}")
        check(wait_until(lambda: events_received(db, "gw1") == 13 and
                         events_received(db, "gw2") == 5, "events applied"),
              "18 events applied")
    finally:
        stop(corr, 20)
    check(incidents(db) == 0, "the live rules raised nothing")

    # a single-event rule: the one line of 192.0.2.77, in sotc
    r = ctl("hunt", hunt1, "--json")
    got = json.loads(r.stdout)
    check(len(got) == 1 and got[0]["agency"] == "sotc" and
          got[0]["rule"]["title"] == "Known bad scanner" and
          got[0]["event"]["source"]["ip"] == "192.0.2.77" and
          got[0]["last_seen"].startswith(iso(t0 + 3600)[:19]),
          f"single rule: one alert in sotc at the event's time: {r.stdout[:600]}")
    check("18 events" in r.stderr and "1 alerts" in r.stderr,
          f"counters on stderr: {r.stderr}")
    r = ctl("hunt", os.path.join(hunt1, "scanner.yml"))
    check(r.stdout.count("\n") == 1 and "sotc" in r.stdout and
          "Known bad scanner" in r.stdout and "count 1" in r.stdout,
          f"a rule file, text output: {r.stdout!r}")

    # the correlation: per agency, never the two summed
    r = ctl("hunt", brute, "--json")
    got = json.loads(r.stdout)
    keys = [(a["agency"], a["group_key"]) for a in got]
    check(("stttt", "source.ip=203.0.113.45") in keys,
          f"nine failures in one agency: brute force: {keys}")
    check(not any("198.51.100.9" in k for _, k in keys),
          f"four + four in two agencies never make eight: {keys}")
    check(all(a["agency"] == "stttt" for a in got), f"only stttt: {keys}")

    # the range and the agencies
    r = ctl("hunt", hunt1, brute, "--since", iso(t0 + 1800)[:19], "--json")
    got = json.loads(r.stdout)
    check([a["rule"]["title"] for a in got] == ["Known bad scanner"],
          f"--since after the failures: the scanner only: {r.stdout[:300]}")
    r = ctl("hunt", hunt1, brute, "--until", iso(t0 + 60)[:19], "--json")
    got = json.loads(r.stdout)
    check(got and all(a["rule"]["title"] == "SSH brute force" for a in got),
          f"--until before the scanner: the brute force only: {r.stdout[:300]}")
    r = ctl("hunt", hunt1, brute, "--agency", "tinh", "--json")
    got = json.loads(r.stdout)
    check([a["agency"] for a in got] == ["sotc"],
          f"--agency tinh takes sotc below it: {r.stdout[:300]}")
    r = ctl("hunt", hunt1, brute, "--agency", "stttt", "--json")
    got = json.loads(r.stdout)
    check(got and all(a["agency"] == "stttt" for a in got) and
          all(a["rule"]["title"] == "SSH brute force" for a in got),
          f"--agency stttt: {r.stdout[:300]}")
    r = ctl("hunt", hunt1, "--agency", "nosuch", ok=False)
    check(r.returncode != 0 and "nosuch" in r.stderr,
          f"an unknown agency is an error: {r.stderr}")

    # nothing written without --raise; incidents with it
    check(incidents(db) == 0, "hunting without --raise writes nothing")
    r = ctl("hunt", hunt1, brute, "--raise")
    check(r.returncode == 0 and "incidents opened" in r.stderr,
          f"--raise: {r.stderr}")
    r = ctl("incidents", "--json")
    got = json.loads(r.stdout)
    check(len(got) == 2, f"two incidents raised: {r.stdout[:400]}")
    for inc in got:
        full = json.loads(ctl("incident", "show", str(inc["id"]), "--json").stdout)
        check(full["sensor"] == "hunt" and "soc.hunt" in full["rule"]["tags"],
              f"marked as from a hunt: {full['sensor']} {full['rule']['tags']}")
    byrule = {i["rule"]["title"]: i for i in got}
    sc = byrule.get("Known bad scanner", {})
    check(sc.get("agency") == "sotc" and
          sc.get("first_seen", "").startswith(iso(t0 + 3600)[:19]),
          f"the event's own time: {sc}")
    bf = byrule.get("SSH brute force", {})
    check(bf.get("agency") == "stttt" and
          bf.get("first_seen", "").startswith(iso(t0 + 10)[:16]),
          f"the brute force at its events' time: {bf}")
    show = ctl("incident", "show", str(sc.get("id", 0))).stdout
    check("hunt" in show, f"incident show says hunt: {show[:300]}")

    # retro intel: a set in use when the correlator starts, then a new
    # version adding 198.51.100.9 (archived two days ago in both agencies)
    # beside 203.0.113.45, which the previous version held already
    v1 = os.path.join(tmp, "v1.txt")
    with open(v1, "w") as f:
        f.write("ip 203.0.113.45\n")
    ctl("intel", "import", v1, "--source", "feed1")
    before = {i["id"] for i in json.loads(ctl("incidents", "--json").stdout)}
    corr = subprocess.Popen([CORR, "--db", db, "--rules", live, "--key",
                             os.path.join(tmp, "correlator.key"), "--bind",
                             f"tcp://127.0.0.1:{port}"],
                            stdout=corr_err, stderr=subprocess.STDOUT)
    try:
        check(wait_port(port, corr), "correlator listens again")
        check(wait_until(lambda: "indicators loaded" in open(corr_err.name).read(),
                         "the first set loaded"), "first set loaded")
        v2 = os.path.join(tmp, "v2.txt")
        with open(v2, "w") as f:
            f.write("ip 203.0.113.45\nip 198.51.100.9\n")
        ctl("intel", "import", v2, "--source", "feed2")

        def retro():
            got = json.loads(ctl("incidents", "--json").stdout)
            new = [i for i in got if i["id"] not in before]
            return new if len(new) >= 2 else None
        new = wait_until(retro, "retro incidents", ceiling=60) or []
        time.sleep(0.5)
        new = [i for i in json.loads(ctl("incidents", "--json").stdout)
               if i["id"] not in before]
    finally:
        stop(corr, 20)
    log = open(corr_err.name).read()
    got = {i["agency"]: i for i in new}
    check(len(new) == 2 and set(got) == {"stttt", "sotc"},
          f"one retro incident per agency of the new indicator: {new}")
    for ag, first in (("stttt", t0), ("sotc", t0 + 4)):
        inc = got.get(ag, {})
        full = json.loads(ctl("incident", "show", str(inc.get("id", 0)),
                              "--json").stdout) if inc else {}
        check(full.get("retro") is True and full.get("category") == "intel" and
              full.get("sensor") == "retro" and
              "soc.retro" in full.get("rule", {}).get("tags", []),
              f"{ag}: marked retro, category intel: {json.dumps(full)[:400]}")
        check(full.get("group_key") == "ip 198.51.100.9" and full.get("count") == 4,
              f"{ag}: grouped per indicator and agency: {full.get('group_key')}"
              f" {full.get('count')}")
        check(full.get("first_seen", "").startswith(iso(first)[:19]),
              f"{ag}: the sighting's own time: {full.get('first_seen')}")
        check((full.get("indicator") or {}).get("value") == "198.51.100.9",
              f"{ag}: the indicator noted: {full.get('indicator')}")
    check(not any("203.0.113.45" in i["group_key"] for i in new),
          "an indicator of the previous version is not raised again")
    check("retro intel:" in log and "sightings of new indicators" in log,
          f"the run logged with its counts: {log[-800:]}")
    old = [i for i in json.loads(ctl("incidents", "--json").stdout)
           if i["id"] in before]
    check(all(not i.get("retro") for i in old), "hunt incidents are not retro")
    return done()


if __name__ == "__main__":
    sys.exit(main())
