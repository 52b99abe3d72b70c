#!/usr/bin/env python3
"""Indicators (issue 19) on the real binaries: socctl imports each format
(a typed list, a STIX 2.1 bundle, a MISP feed directory written here), a
real sensor follows a log file, and the correlator raises incidents of
category intel carrying the indicator -- for a set loaded at start and for
sets imported while it runs (no restart, no signal).  Hostile feeds (a
deeply nested JSON, a 2 GB file, 0.0.0.0/0, a domain "." or "com", a
STIX pattern with OR/AND/FOLLOWEDBY, duplicates with different expiry)
are refused or bounded with a reason, and nothing already loaded is
lost."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

from soctest import (CORR, SENSOR, SOCCTL, SRC, check, done, free_port, run,
                     sanitizer_clean, stop, wait_port)

MD5 = "0123456789abcdef0123456789abcdef"


def wait_until(pred, timeout=60, step=0.1):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


class Env:
    def __init__(self, tmp):
        self.tmp = tmp
        self.db = os.path.join(tmp, "soc.db")
        for name in ("correlator", "gw1"):
            self.ctl("keygen", "--out", os.path.join(tmp, name))
        self.ctl("agency", "add", "stttt", "--name", "So TT&TT")
        self.ctl("sensor", "enroll", "gw1", "--agency", "stttt", "--key",
                 os.path.join(tmp, "gw1.pub"))
        self.port = free_port()
        self.rules = os.path.join(tmp, "rules")
        os.mkdir(self.rules)
        shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), self.rules)
        self.logpath = os.path.join(tmp, "corr.err")
        self.log = open(self.logpath, "w+")
        self.proc = self.sensor = None

    def ctl(self, *a, ok=True):
        return run(SOCCTL, "--db", self.db, *a, ok=ok)

    def start(self):
        self.proc = subprocess.Popen(
            [CORR, "--db", self.db, "--rules", self.rules, "--key",
             os.path.join(self.tmp, "correlator.key"),
             "--bind", f"tcp://127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        return wait_port(self.port, self.proc)

    def start_sensor(self, logfile):
        cfg = os.path.join(self.tmp, "sensor.yml")
        t = self.tmp
        with open(cfg, "w") as f:
            f.write(f"name: gw1\nconnect: tcp://127.0.0.1:{self.port}\n"
                    f"server_key: {t}/correlator.pub\nkey: {t}/gw1.key\n"
                    f"logs:\n  files: [{logfile}]\n")
        self.sensor = subprocess.Popen(
            [SENSOR, "-c", cfg], stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(t, "sensor.err"), "w"))

    def corr_log(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def intel_incidents(self):
        con = sqlite3.connect(self.db, timeout=10)
        try:
            return [r[0] for r in con.execute(
                "select id from incidents where category = 'intel' order by id")]
        finally:
            con.close()

    def incident_for(self, value):
        for i in self.intel_incidents():
            js = json.loads(self.ctl("incident", "show", str(i), "--json").stdout)
            if (js.get("indicator") or {}).get("value") == value:
                return js
        return None

    def stop(self):
        if self.sensor is not None and self.sensor.poll() is None:
            stop(self.sensor, 30)
        if self.proc is not None:
            stop(self.proc, 20)
        self.log.seek(0)
        sanitizer_clean(self.log.read(), "correlator")


INTEL_RULE = """title: SSH failure from a blocklisted address
id: 6a1f2c3d-0000-4000-8000-00000000a001
status: test
level: high
description: The Sigma extension |intel tests membership of a set.
logsource:
  product: linux
  service: sshd
detection:
  sel:
    source.ip|intel: blocklist
  condition: sel
"""


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def sshd_line(ip, n):
    return (f"Nov 27 10:00:{n:02d} gw1 sshd[{100 + n}]: Failed password for "
            f"root from {ip} port 4{n:04d} ssh2\n")


def stix_bundle(objs):
    return json.dumps({"type": "bundle", "id": "bundle--1", "objects": objs})


def stix_ind(pattern, **kw):
    o = {"type": "indicator", "spec_version": "2.1", "pattern_type": "stix",
         "id": "indicator--1", "pattern": pattern}
    o.update(kw)
    return o


def misp_feed(d, uuid, attrs):
    os.makedirs(d)
    write(os.path.join(d, "manifest.json"), json.dumps(
        {uuid: {"info": "test event", "timestamp": "1700000000",
                "Tag": [{"name": "tlp:green"}]}}))
    write(os.path.join(d, f"{uuid}.json"), json.dumps(
        {"Event": {"uuid": uuid, "info": "test event", "threat_level_id": "1",
                   "Tag": [{"name": "tlp:green"}], "Attribute": attrs}}))


def main():
    tmp = tempfile.mkdtemp(prefix="soc-intel-")
    env = Env(tmp)
    try:
        # a typed list, before the correlator starts: loaded at start
        lst = os.path.join(tmp, "blocklist.txt")
        write(lst, "# addresses seen in the campaign\nip 203.0.113.9\n"
              "cidr 198.18.0.0/24\ndomain evil.example\n")
        p = env.ctl("intel", "import", lst)
        check("set blocklist: 3 indicators" in p.stdout,
              f"list imported: {p.stdout!r}")
        write(os.path.join(env.rules, "intel.yml"), INTEL_RULE)
        p = env.ctl("rules", "check", env.rules, ok=False)
        check(p.returncode == 0, f"a rule with |intel loads: {p.stdout} {p.stderr}")
        check(env.start(), "correlator listens")
        log = os.path.join(tmp, "auth.log")
        write(log, sshd_line("192.0.2.200", 1) + sshd_line("203.0.113.9", 2))
        env.start_sensor(log)
        check(wait_until(lambda: env.incident_for("203.0.113.9") is not None),
              "an sshd line from a listed address raises an intel incident")
        js = env.incident_for("203.0.113.9") or {}
        check(js.get("category") == "intel", f"category intel: {js.get('category')}")
        check(js.get("indicator", {}).get("type") == "ip" and
              js["indicator"].get("source") == "blocklist",
              f"the indicator object: {js.get('indicator')}")
        check(js.get("agency") == "stttt", f"the sensor's agency: {js.get('agency')}")
        check(any("203.0.113.9" in json.dumps(e) for e in js.get("evidence", [])),
              "the event is the evidence")
        check(env.incident_for("192.0.2.200") is None,
              "an address in no set raises nothing")

        def rule_hits():
            con = sqlite3.connect(env.db, timeout=10)
            try:
                return con.execute(
                    "select group_key, count from incidents where rule_id ="
                    " '6a1f2c3d-0000-4000-8000-00000000a001'").fetchall()
            finally:
                con.close()
        check(wait_until(lambda: rule_hits() == [("source.ip=203.0.113.9", 1)]),
              f"the |intel rule fires for the listed address only: {rule_hits()}")
        text = env.ctl("incident", "show", str(js.get("id", 0))).stdout
        check("indicator: ip 203.0.113.9 (set blocklist" in text,
              f"the text view names the indicator: {text[:400]!r}")

        # STIX and MISP, imported while the correlator runs
        bundle = os.path.join(tmp, "campaign.json")
        write(bundle, stix_bundle([
            stix_ind("[ipv4-addr:value = '198.51.100.7']", labels=["c2"],
                     confidence=85),
            stix_ind("[domain-name:value = 'a.example'] OR "
                     "[domain-name:value = 'b.example']"),
        ]))
        p = env.ctl("intel", "import", bundle, "--source", "stix-feed")
        check("set stix-feed: 1 indicators" in p.stdout and "1 refused" in p.stdout,
              f"STIX imported, the OR refused: {p.stdout!r}")
        check("STIX pattern with OR" in p.stderr, f"the reason: {p.stderr!r}")
        feed = os.path.join(tmp, "misp")
        misp_feed(feed, "5f0c1e2a-1111-2222-3333-444455556666", [
            {"type": "md5", "value": MD5.upper(), "to_ids": True,
             "Tag": [{"name": "malware:x"}]},
            {"type": "domain", "value": "context-only.example", "to_ids": False},
        ])
        p = env.ctl("intel", "import", feed, "--source", "misp-feed")
        check("set misp-feed: 1 indicators" in p.stdout, f"MISP imported: {p.stdout!r}")
        check(wait_until(lambda: "indicators reloaded: 5" in env.corr_log(), 30),
              "the running correlator reloads the sets by itself")
        with open(log, "a") as f:
            f.write(sshd_line("198.51.100.7", 3))
            f.write(f"Nov 27 10:00:04 gw1 app[7]: dropped payload MD5={MD5.upper()}\n")
        check(wait_until(lambda: env.incident_for("198.51.100.7") is not None),
              "a STIX indicator imported live matches")
        js = env.incident_for("198.51.100.7") or {}
        ind = js.get("indicator", {})
        check(ind.get("source") == "stix-feed" and ind.get("tags") == "c2" and
              ind.get("confidence") == 85, f"its context: {ind}")
        check(js.get("severity") == "high", f"confidence 85 is high: {js.get('severity')}")
        check(wait_until(lambda: env.incident_for(MD5) is not None),
              "a MISP hash in a log message matches")
        js = env.incident_for(MD5) or {}
        check((js.get("indicator") or {}).get("tags") == "tlp:green,malware:x",
              f"MISP tags: {js.get('indicator')}")
        # the same indicator again: the same incident, counted
        n0 = len(env.intel_incidents())
        with open(log, "a") as f:
            f.write(sshd_line("203.0.113.9", 5))
        check(wait_until(lambda: (env.incident_for("203.0.113.9") or {}).get("count") == 2),
              "a second hit of one indicator adds to its incident")
        check(len(env.intel_incidents()) == n0, "and opens no other")

        # check, show
        p = env.ctl("intel", "check", "x.y.evil.example")
        check(p.returncode == 0 and "domain evil.example (set blocklist" in p.stdout,
              f"check walks the domain: {p.stdout!r}")
        p = env.ctl("intel", "check", "198.18.0.77")
        check(p.returncode == 0 and "cidr 198.18.0.0/24" in p.stdout,
              f"check finds the block: {p.stdout!r}")
        p = env.ctl("intel", "check", "notevil.example", ok=False)
        check(p.returncode == 1, f"check: 1 when absent ({p.returncode})")
        p = env.ctl("intel", "show", "198.51.100.7", "--json")
        rows = json.loads(p.stdout)
        check(len(rows) == 1 and rows[0]["source"] == "stix-feed", f"show: {rows}")

        # hostile feeds: each refused with a reason, nothing lost
        before = env.ctl("intel", "list", "--json").stdout
        deep = os.path.join(tmp, "deep.json")
        write(deep, '{"type":"bundle","objects":' + "[" * 100000 + "]" * 100000 + "}")
        p = env.ctl("intel", "import", deep, "--source", "stix-feed", ok=False)
        check(p.returncode == 1 and "nested too deep" in p.stderr and
              'set "stix-feed" is as it was' in p.stderr,
              f"deep nesting refused: {p.stderr!r}")
        big = os.path.join(tmp, "big.txt")
        with open(big, "w") as f:
            f.truncate(2 << 30)	# sparse: 2 GB that take no room
        p = env.ctl("intel", "import", big, "--source", "blocklist", ok=False)
        check(p.returncode == 1 and "larger than" in p.stderr,
              f"a 2 GB file refused: {p.stderr!r}")
        broad = os.path.join(tmp, "broad.txt")
        write(broad, "cidr 0.0.0.0/0\ncidr 10.0.0.0/8\ndomain .\ndomain com\n"
              "domain com.vn\n")
        p = env.ctl("intel", "import", broad, ok=False)
        check(p.returncode == 1 and "matches every address" in p.stderr and
              "too broad" in p.stderr and "matches every name" in p.stderr and
              "top-level domain" in p.stderr and "public suffix" in p.stderr,
              f"broad indicators refused: {p.stderr!r}")
        p = env.ctl("intel", "import", broad, "--force", ok=False)
        check(p.returncode == 0 and "set broad: 3 indicators" in p.stdout and
              "matches every address" in p.stderr,
              f"--force takes a /8 and a TLD, never /0 or '.': {p.stdout!r}")
        env.ctl("intel", "remove", "--source", "broad")
        ops = os.path.join(tmp, "ops.json")
        write(ops, stix_bundle([
            stix_ind("[ipv4-addr:value = '192.0.2.1'] AND [ipv4-addr:value = '192.0.2.2']"),
            stix_ind("[ipv4-addr:value = '192.0.2.1'] FOLLOWEDBY [ipv4-addr:value = '192.0.2.2']"),
            stix_ind("[ipv4-addr:value = '192.0.2.3'] OR [ipv4-addr:value = '192.0.2.4']"),
        ]))
        p = env.ctl("intel", "import", ops, ok=False)
        check(p.returncode == 1 and all(f"STIX pattern with {k}" in p.stderr
                                        for k in ("AND", "FOLLOWEDBY", "OR")),
              f"STIX operators refused by name: {p.stderr!r}")
        dup = os.path.join(tmp, "dup.json")
        write(dup, stix_bundle([
            stix_ind("[ipv4-addr:value = '192.0.2.50']", valid_until="2090-01-01T00:00:00Z"),
            stix_ind("[ipv4-addr:value = '192.0.2.50']", valid_until="2095-01-01T00:00:00Z"),
            stix_ind("[ipv4-addr:value = '192.0.2.51']", valid_until="2001-01-01T00:00:00Z"),
        ]))
        p = env.ctl("intel", "import", dup, ok=False)
        check(p.returncode == 0 and "1 indicators" in p.stdout and
              "1 duplicates merged" in p.stdout and "expired already" in p.stderr,
              f"duplicates merged, expired refused: {p.stdout!r} {p.stderr!r}")
        rows = json.loads(env.ctl("intel", "show", "192.0.2.50", "--json").stdout)
        check(len(rows) == 1 and rows[0]["expires"].startswith("2095-01-01"),
              f"the later expiry wins: {rows}")
        env.ctl("intel", "remove", "--source", "dup")
        mf = os.path.join(tmp, "badfeed")
        os.makedirs(mf)
        write(os.path.join(mf, "manifest.json"), '{"../../etc/passwd": {}}')
        p = env.ctl("intel", "import", mf, ok=False)
        check(p.returncode == 1 and "not an event uuid" in p.stderr,
              f"a manifest naming a path refused: {p.stderr!r}")
        after = env.ctl("intel", "list", "--json").stdout
        check(json.loads(after) == json.loads(before),
              "the sets already stored are as they were")
        check(env.proc.poll() is None, "the correlator is still running")

        # remove: the next reload drops the set, the correlator goes on
        p = env.ctl("intel", "remove", "--source", "stix-feed")
        check("set stix-feed removed (1 indicators)" in p.stdout, f"remove: {p.stdout!r}")
        p = env.ctl("intel", "check", "198.51.100.7", ok=False)
        check(p.returncode == 1, "removed: no longer in a set")
    finally:
        env.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
