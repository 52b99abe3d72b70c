#!/usr/bin/env python3
"""The endpoint inventory (issue 18) on the real binaries: two sensors of
two agencies send Windows events (NXLog JSON lines over syslog TCP:
Microsoft Defender's 1116 detection, 5001 real-time protection off,
1150/2000 healthy), syslog lines from a Linux host and a followed
audit.log to a real correlator; then

- `socctl endpoints --json` lists every host under the agency of the
  sensor that sent it, with OS, channels, events per day and protection;
  `endpoint show`, `--unprotected`, `--stale`, `--agency` (the subtree);
- `socctl agency set --computers N` and the coverage JSON's `endpoints`
  object and layer 2's reason in words ("5 of 10 computers reporting, 2
  protected"); an agency declaring computers with none reporting is not
  covered; the roll-up up the tree;
- the Defender detection is an incident of category malware;
- hostile: a 10 KiB host name is refused and counted; a flood of distinct
  host names stops at endpoints.max_per_agency, counted; a Defender event
  from agency B naming agency A's computer only touches B's inventory;
- restarted with endpoints.stale_after 2s: the inventory is loaded from
  the database, every silent endpoint raises soc-endpoint-silent once,
  and one that reports again is re-armed.
"""
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

from soctest import (CORR, SENSOR, SOCCTL, SRC, check, done, free_port, run,
                     sanitizer_clean, stop, wait_port, wait_until)

DEFENDER = "Microsoft-Windows-Windows Defender"
QUOTA = 20


def stamp():
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def nx(host, eid, channel=DEFENDER + "/Operational", source=DEFENDER, **data):
    rec = {"@timestamp": stamp(), "Hostname": host, "EventID": eid,
           "SourceName": source, "Channel": channel}
    rec.update(data)
    return json.dumps(rec)


def linux_line(host, prog, msg):
    t = time.strftime("%b %e %H:%M:%S", time.gmtime())
    return f"<30>{t} {host} {prog}[42]: {msg}"


def find_key(o, key):
    """Every value under key, anywhere in a JSON document."""
    if isinstance(o, dict):
        for k, v in o.items():
            if k == key:
                yield v
            yield from find_key(v, key)
    elif isinstance(o, list):
        for v in o:
            yield from find_key(v, key)


class Env:
    def __init__(self, tmp):
        self.tmp = tmp
        self.db = os.path.join(tmp, "soc.db")
        for name in ("correlator", "gw1", "gw2"):
            self.ctl("keygen", "--out", os.path.join(tmp, name))
        self.ctl("agency", "add", "prov", "--name", "Province")
        self.ctl("agency", "add", "aga", "--name", "Agency A", "--parent", "prov")
        self.ctl("agency", "add", "agb", "--name", "Agency B")
        self.ctl("agency", "add", "agc", "--name", "Agency C")
        self.ctl("sensor", "enroll", "gw1", "--agency", "aga", "--key",
                 os.path.join(tmp, "gw1.pub"))
        self.ctl("sensor", "enroll", "gw2", "--agency", "agb", "--key",
                 os.path.join(tmp, "gw2.pub"))
        self.port = free_port()
        self.rules = os.path.join(tmp, "rules")
        os.mkdir(self.rules)
        shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), self.rules)
        for r in ("windows-defender.yml", "malware-clamav.yml"):
            shutil.copy(os.path.join(SRC, "rules", "province", r), self.rules)
        self.audit = os.path.join(tmp, "audit.log")
        open(self.audit, "w").close()
        self.proc = None
        self.sensors = {}
        self.syslog = {}
        self.logs = []

    def ctl(self, *a, ok=True):
        return run(SOCCTL, "--db", self.db, *a, ok=ok)

    def js(self, *a):
        return json.loads(self.ctl(*a, "--json").stdout)

    def start(self, stale):
        cfg = os.path.join(self.tmp, "corr.yml")
        with open(cfg, "w") as f:
            f.write(f"endpoints:\n  stale_after: {stale}\n"
                    f"  protection_within: 1h\n  max_per_agency: {QUOTA}\n")
        log = open(os.path.join(self.tmp, f"corr{len(self.logs)}.err"), "w+")
        self.logs.append(log)
        self.proc = subprocess.Popen(
            [CORR, "-c", cfg, "--db", self.db, "--rules", self.rules, "--key",
             os.path.join(self.tmp, "correlator.key"),
             "--bind", f"tcp://127.0.0.1:{self.port}"],
            stdout=log, stderr=subprocess.STDOUT)
        return wait_port(self.port, self.proc)

    def start_sensor(self, name, audit=False):
        port = free_port()
        cfg = os.path.join(self.tmp, f"{name}.yml")
        t = self.tmp
        with open(cfg, "w") as f:
            f.write(f"name: {name}\nconnect: tcp://127.0.0.1:{self.port}\n"
                    f"server_key: {t}/correlator.pub\nkey: {t}/{name}.key\n"
                    f"syslog:\n  tcp: 127.0.0.1:{port}\n  max_message: 65536\n"
                    f"  zones: [\"127.0.0.1 UTC\"]\n")
            if audit:
                f.write(f"logs:\n  files: [\"{self.audit}\"]\n")
        p = subprocess.Popen([SENSOR, "-c", cfg], stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(t, f"{name}.err"), "w"))
        self.sensors[name] = p
        self.syslog[name] = port
        return wait_port(port, p)

    def send(self, name, lines):
        c = socket.create_connection(("127.0.0.1", self.syslog[name]))
        c.sendall("".join(l + "\n" for l in lines).encode())
        c.close()

    def endpoints(self, *a):
        return self.js("endpoints", *a)

    def ep(self, agency, host):
        for e in self.endpoints("--agency", agency):
            if e["agency"] == agency and e["host"] == host:
                return e
        return None

    def stop(self):
        for p in self.sensors.values():
            if p.poll() is None:
                stop(p, 30)
        self.sensors = {}
        if self.proc is not None:
            stop(self.proc, 20)
            self.proc = None

    def finish(self):
        self.stop()
        for log in self.logs:
            log.seek(0)
            sanitizer_clean(log.read(), "correlator")


def phase1(env):
    """Inventory, protection, socctl, coverage, hostile cases."""
    if not check(env.start("1h"), "correlator listens"):
        return False
    if not (check(env.start_sensor("gw1", audit=True), "gw1 listens") and
            check(env.start_sensor("gw2"), "gw2 listens")):
        return False
    env.send("gw1", [
        # pc-01: detection, then the client's healthy heartbeat
        nx("PC-01.aga.local", 1116, **{"Threat Name": "Trojan:Win32/Occamy.C",
           "Path": "file:_C:\\Users\\a\\evil.exe"}),
        nx("PC-01.aga.local", 1150),
        # pc-02: healthy, then real-time protection turned off
        nx("pc-02.aga.local", 2000),
        nx("pc-02.aga.local", 5001),
        # pc-03: signatures updated; a Security channel event too
        nx("pc-03.aga.local", 2000),
        nx("pc-03.aga.local", 4624, channel="Security",
           source="Microsoft-Windows-Security-Auditing"),
        # a Linux server over syslog
        linux_line("web1", "sshd", "Accepted publickey for root from"
                   " 192.0.2.1 port 5000 ssh2"),
        # hostile: a host name of 10 KiB
        nx("H" * 10240, 1150),
    ])
    # the sensor's own audit.log (no node=): the sensor's host
    with open(env.audit, "a") as f:
        s = f"{time.time():.3f}"
        f.write(f"type=SYSCALL msg=audit({s}:7): arch=c000003e syscall=59"
                f" success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1"
                f" pid=99 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0"
                f" sgid=0 fsgid=0 tty=pts0 ses=1 comm=\"id\" exe=\"/usr/bin/id\""
                f" key=(null)\n")
        f.write(f"type=EXECVE msg=audit({s}:7): argc=1 a0=\"id\"\n")
        f.write(f"type=EOE msg=audit({s}:7): \n")
    # agency B: its own pc, then a Defender event naming A's pc-01 (real-
    # time protection off) and a flood of distinct names
    env.send("gw2", [nx("pc-b1", 1150), nx("PC-01.aga.local", 5001)] +
             [nx(f"flood-{i:03d}", 1000) for i in range(60)])

    want_a = {"pc-01.aga.local", "pc-02.aga.local", "pc-03.aga.local",
              "web1", "gw1"}
    got = wait_until(lambda: want_a <= {e["host"] for e in
                     env.endpoints("--agency", "aga")},
                     "agency A's five endpoints", 60)
    wait_until(lambda: len(env.endpoints("--agency", "agb")) >= QUOTA,
               "agency B's endpoints up to the quota", 60)
    a = {e["host"]: e for e in env.endpoints("--agency", "aga")}
    check(set(a) == want_a, f"agency A holds exactly its hosts: {sorted(a)}")
    p1 = a.get("pc-01.aga.local", {})
    check(p1.get("os") == "windows", f"pc-01 is windows: {p1.get('os')}")
    check(DEFENDER + "/Operational" in p1.get("channels", []),
          f"pc-01's channel: {p1.get('channels')}")
    check(p1.get("events_today", 0) == 2 and p1.get("events_per_day") == 2,
          f"pc-01 sent 2 events today: {p1.get('events_today')}")
    pr = p1.get("protection", {})
    check(pr.get("protected") is True and pr.get("engine") == "defender",
          f"pc-01 protected by defender (1150 after the detection): {pr}")
    check(pr.get("detection") == "Trojan:Win32/Occamy.C" and
          pr.get("detection_at"), f"pc-01's detection kept: {pr}")
    p2 = a.get("pc-02.aga.local", {}).get("protection", {})
    check(p2.get("protected") is False and
          p2.get("state") == "real-time protection off",
          f"pc-02 unprotected after 5001: {p2}")
    p3 = a.get("pc-03.aga.local", {})
    check(p3.get("protection", {}).get("protected") is True,
          f"pc-03 protected after 2000: {p3.get('protection')}")
    check(set(p3.get("channels", [])) == {DEFENDER + "/Operational",
          "Security"}, f"pc-03's two channels: {p3.get('channels')}")
    w = a.get("web1", {})
    check("log.sshd" in w.get("channels", []) and
          w.get("protection", {}).get("engine") is None,
          f"web1 over syslog, no antivirus: {w}")
    g = a.get("gw1", {})
    check(g.get("os") == "linux" and any(c.startswith("log.auditd")
          for c in g.get("channels", [])),
          f"the local audit.log is the sensor's host, linux: {g}")

    # B's event naming A's pc-01 stays in B
    check(p1.get("protection", {}).get("off_at") is None,
          "B's 5001 for pc-01 did not touch A's pc-01")
    b = {e["host"]: e for e in env.endpoints("--agency", "agb")}
    check("pc-01.aga.local" in b and b["pc-01.aga.local"]["protection"]
          ["state"] == "real-time protection off",
          "B's claim about pc-01 is recorded in B's inventory only")
    check(len(b) == QUOTA, f"agency B bounded at {QUOTA}: {len(b)}")
    check(all(e["agency"] in ("aga",) for e in env.endpoints("--agency", "aga")),
          "--agency aga lists aga only")
    sub = env.endpoints("--agency", "prov")
    check({e["host"] for e in sub} == want_a,
          "--agency prov includes its sub-agency aga")

    # the counts of refusals: visible in `socctl endpoints`
    txt = wait_until(lambda: (lambda t: t if "agency agb: 42 new hosts"
                     in t and "agency aga: 1 events with a host id" in t
                     else None)(env.ctl("endpoints").stdout),
                     "refusals counted in `socctl endpoints`", 30)
    check(bool(txt), f"flood and 10 KiB name counted: "
          f"{env.ctl('endpoints').stdout[-300:]}")

    st = env.js("stats")["endpoints"]
    check(st == {"held": 25, "over_quota": 42, "too_long": 1},
          f"socctl stats counts them: {st}")
    # endpoint show, --unprotected, --stale
    sh = env.js("endpoint", "show", "PC-02.AGA.LOCAL")
    check(sh.get("host") == "pc-02.aga.local" and sh.get("agency") == "aga",
          f"endpoint show (case folded): {sh.get('host')}")
    t = env.ctl("endpoint", "show", "pc-01.aga.local", ok=False)
    check(t.returncode != 0 and "--agency" in t.stderr,
          f"pc-01 is in two agencies: show asks for --agency: {t.stderr}")
    t = env.ctl("endpoint", "show", "pc-01.aga.local", "--agency", "aga")
    check("Trojan:Win32/Occamy.C" in t.stdout and "protected" in t.stdout,
          f"endpoint show text: {t.stdout}")
    un = {e["host"] for e in env.endpoints("--agency", "aga", "--unprotected")}
    check(un == {"pc-02.aga.local", "web1", "gw1"},
          f"--unprotected: {sorted(un)}")
    check(env.endpoints("--stale", "1h") == [], "--stale 1h: none yet")
    tab = env.ctl("endpoints", "--agency", "aga").stdout
    check("PROTECTION" in tab and "EVENTS/DAY" in tab and
          "NO: real-time protection off" in tab, f"the table: {tab[:400]}")
    csv = env.ctl("endpoints", "--agency", "aga", "--csv").stdout
    check(csv.count("\n") == 6, f"--csv: a header and 5 rows: {csv[:200]}")

    # the malware incident
    inc = wait_until(lambda: [i for i in env.js("incidents", "--agency", "aga")
                              if i.get("category") == "malware"],
                     "a malware incident for the Defender detection", 30)
    check(bool(inc), "Defender 1116 raised a malware incident")
    if inc:
        js = env.js("incident", "show", str(inc[0]["id"]))
        evs = list(find_key(js, "threat"))
        files = list(find_key(js, "file"))
        check(any(t.get("software", {}).get("name") == "Trojan:Win32/Occamy.C"
                  for t in evs), f"the incident carries the threat: {evs[:1]}")
        check(any(f.get("path") == "C:\\Users\\a\\evil.exe" for f in files),
              f"... and the file path, file:_ taken off: {files[:1]}")
        check(any(h.get("name") == "PC-01.aga.local"
                  for h in find_key(js, "host")), "... and the host")

    # coverage: declared computers
    env.ctl("agency", "set", "aga", "--computers", "10")
    env.ctl("agency", "set", "agc", "--computers", "3")
    t = env.ctl("agency", "set", "aga", "--computers", "-4", ok=False)
    check(t.returncode != 0, "a negative number of computers is refused")
    t = env.ctl("agency", "set", "nope", "--computers", "4", ok=False)
    check(t.returncode != 0 and "nope" in t.stderr, "an unknown agency")
    cov = {a["code"]: a for a in env.js("coverage")["agencies"]}
    ea = cov["aga"]["endpoints"]
    check(ea == {"declared": 10, "reporting": 5, "protected": 2},
          f"aga's endpoints object: {ea}")
    r2 = cov["aga"]["layers"][1]
    check(r2["state"] == "degraded" and
          "5 of 10 computers reporting, 2 protected" in r2["reason"],
          f"aga's layer 2 in words: {r2}")
    check(cov["agb"]["endpoints"] is None, "agb declares none: null")
    rc = cov["agc"]["layers"][1]
    check(rc["state"] == "missing" and "0 of 3 computers reporting" in
          rc["reason"] and not cov["agc"]["covered"],
          f"agc declares 3, none reporting: {rc}")
    check(cov["prov"]["endpoints"] is None and
          cov["prov"]["endpoints_tree"] == {"declared": 10, "reporting": 5,
                                            "protected": 2},
          f"rolled up to prov: {cov['prov'].get('endpoints_tree')}")
    env.ctl("agency", "set", "aga", "--computers", "5")
    cov = {a["code"]: a for a in env.js("coverage")["agencies"]}
    check(cov["aga"]["layers"][1]["state"] == "degraded",
          "5 of 5 reporting but 2 protected: still degraded")
    html = os.path.join(env.tmp, "report.html")
    env.ctl("report", "--html", html)
    with open(html, encoding="utf-8") as f:
        page = f.read()
    check("Máy tính gửi dữ liệu và được bảo vệ" in page and
          page.count("100% / 40%") == 2 and 'stroke="#dc2626"' in page,
          "the leadership report: computers reporting / protected for aga"
          " and prov, the 100% line")

    # Defender's signature age: pc-04's health report says 12 days (over
    # endpoints.signature_max_age, 7d), pc-05's 1 day
    env.send("gw1", [nx("pc-04.aga.local", 1151, **{"AV signature age": "12",
                                                    "AV signature version":
                                                    "1.401.12.0"}),
                     nx("pc-05.aga.local", 1151, **{"AV signature age": "1"})])
    wait_until(lambda: env.ep("aga", "pc-04.aga.local") and
               env.ep("aga", "pc-05.aga.local"), "pc-04 and pc-05", 60)
    p4 = (env.ep("aga", "pc-04.aga.local") or {}).get("protection", {})
    check(p4.get("protected") is False and p4.get("state") == "healthy" and
          p4.get("signatures_at"),
          f"pc-04 healthy but signatures 12 days old: not protected: {p4}")
    p5 = (env.ep("aga", "pc-05.aga.local") or {}).get("protection", {})
    check(p5.get("protected") is True and p5.get("signatures_at"),
          f"pc-05's signatures 1 day old: protected: {p5}")
    show = env.ctl("endpoint", "show", "pc-04.aga.local").stdout
    check("NO: signatures 12 days old (defender)" in show and
          "over endpoints.signature_max_age" in show,
          f"`endpoint show` says the signatures' age: {show}")
    # the signature version the health report carried
    check(p4.get("signature_version") == "1.401.12.0" and
          p4.get("signature_version_at"),
          f"pc-04's signature version in --json: {p4}")
    check("version    1.401.12.0 (signatures, reported" in show,
          f"`endpoint show` says the signature version: {show}")
    return True


def phase2(env):
    """Restart with a short stale_after: loaded, silent, re-armed."""
    env.stop()
    if not check(env.start("2s"), "correlator restarts"):
        return
    # loaded from the database: pc-01's first_seen kept
    def silent():
        return {e["host"]: e for e in env.endpoints("--agency", "aga")
                if e.get("silent_incident_at")}
    got = wait_until(lambda: len(silent()) == 7, "every aga endpoint raised"
                     " soc-endpoint-silent", 60)
    check(bool(got), "silent endpoints marked")
    con = sqlite3.connect(env.db, timeout=10)
    rows = con.execute("select agency, group_key, count from incidents where"
                       " rule_id = 'soc-endpoint-silent' order by group_key"
                       ).fetchall()
    con.close()
    keys = [r[1] for r in rows if r[0] == "aga"]
    check(keys == sorted("host.id=" + h for h in ("gw1", "pc-01.aga.local",
          "pc-02.aga.local", "pc-03.aga.local", "pc-04.aga.local",
          "pc-05.aga.local", "web1")),
          f"one incident per silent aga endpoint: {keys}")
    check(all(r[2] == 1 for r in rows), "each raised once")
    check(len([r for r in rows if r[0] == "agb"]) == QUOTA,
          "agb's endpoints raised in agb")
    check(env.endpoints("--stale", "1s") != [], "--stale 1s lists them")
    # pc-02 reports again: re-armed
    if check(env.start_sensor("gw1"), "gw1 again"):
        env.send("gw1", [nx("pc-02.aga.local", 1150)])
        e = wait_until(lambda: (lambda x: x if x and x.get(
            "silent_incident_at") is None else None)(env.ep("aga",
                                                            "pc-02.aga.local")),
                       "pc-02 re-armed after reporting again", 30)
        check(bool(e) and e["protection"]["protected"] is True and
              e["protection"]["state"] == "healthy",
              f"pc-02's 1150 after its 5001: protected again: {e}")


def main():
    for b in (CORR, SENSOR, SOCCTL):
        if not os.path.exists(b):
            print(f"{b} not built", file=sys.stderr)
            return 1
    tmp = tempfile.mkdtemp(prefix="soc-endpoints-")
    env = Env(tmp)
    try:
        if phase1(env):
            phase2(env)
    finally:
        env.finish()
    rc = done()
    if rc == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"kept {tmp}", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
