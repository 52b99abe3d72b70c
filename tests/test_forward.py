#!/usr/bin/env python3
"""The national connection end to end, with the real daemons on loopback:
a provincial soc-correlator forwarding to a national soc-correlator (the
same program; SOC_NATIONAL_CORR may name another build of it) and to a
CEF receiver (a plain TCP listener here).

Sensors of three agencies raise 1,200 incidents at or above the threshold
(and some below it).  The national correlator is stopped (SIGSTOP), then
killed (SIGKILL) and restarted mid-stream; the provincial correlator is
killed with SIGKILL while its outbox is not empty and restarted; analysts
acknowledge and resolve incidents with socctl; a sensor replays its log so
open incidents get new revisions.  At the end the national database holds
exactly the provincial incidents at or above the threshold, once each,
with the same count, last_seen, severity and status, all under the agency
enrolled for the province's key.  An unenrolled province key stores
nothing.  Every CEF line parses (seven unescaped '|' in the header, valid
escapes, externalId present), including a rule title with '|', '\\', '='
and a newline, and every outbox record reached the receiver (it drops the
connection once, so the writer must resend).  Layer 4 of the coverage
report, worked out by hand: missing without --forward, degraded while the
national side is down for longer than forward.ack_within (2s here), ok
when healthy; `socctl coverage --json` is what is compared.

When the national binary has no national role (no origin columns in its
schema), the checks of the national database are skipped and said so.
"""
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

from soctest import (BUILD, CORR, SENSOR, SOCCTL, SRC, check, done, free_port,
                     run, sanitizer_clean, stop, wait_port, wait_until)

NATIONAL = os.environ.get("SOC_NATIONAL_CORR", CORR)
NATIONAL_CTL = os.path.join(os.path.dirname(NATIONAL), "socctl")
TITLE = "Fwd | brute \\ force a=b\nsecond line"
PER_AGENCY = 400
AGENCIES = ["a1", "a2", "a3"]

RULES = """title: "Fwd | brute \\\\ force a=b\\nsecond line"
id: 11111111-2222-4333-8444-555555555555
author: Test Author
status: stable
level: high
tags: [attack.t1110]
logsource:
  product: linux
  service: sshd
detection:
  sel:
    event.action: ssh_login
    event.outcome: failure
  condition: sel
---
title: Accepted login
id: 11111111-2222-4333-8444-666666666666
status: stable
level: low
logsource:
  product: linux
  service: sshd
detection:
  sel:
    event.action: ssh_login
    event.outcome: success
  condition: sel
"""


class CefReceiver(threading.Thread):
    """A SIEM stand-in: accepts TCP connections and keeps every line."""

    def __init__(self):
        super().__init__(daemon=True)
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(4)
        self.port = self.srv.getsockname()[1]
        self.lines = []
        self.conns = 0
        self.cur = None
        self.lock = threading.Lock()
        self.quit = False

    def run(self):
        self.srv.settimeout(0.2)
        while not self.quit:
            try:
                c, _ = self.srv.accept()
            except OSError:
                continue
            self.conns += 1
            self.cur = c
            buf = b""
            c.settimeout(0.2)
            while not self.quit:
                try:
                    d = c.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    break
                if not d:
                    break
                buf += d
                *whole, buf = buf.split(b"\n")
                with self.lock:
                    self.lines.extend(whole)
            c.close()
            self.cur = None

    def drop(self):
        """Close the current connection (the writer must resend)."""
        if self.cur is not None:
            try:
                self.cur.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def cef_parse(line):
    """(header fields, extension dict) or raises ValueError."""
    text = line.decode("utf-8")
    i = text.index("CEF:0|")
    hdr, fields, cur, j = text[i:], [], "", 0
    while len(fields) < 7:
        if j >= len(hdr):
            raise ValueError("header ends early")
        ch = hdr[j]
        if ch == "\\":
            if j + 1 >= len(hdr) or hdr[j + 1] not in "|\\":
                raise ValueError(f"bad header escape at {j}")
            cur += hdr[j + 1]
            j += 2
            continue
        if ch in "\r\n":
            raise ValueError("line break in the header")
        if ch == "|":
            fields.append(cur)
            cur = ""
        else:
            cur += ch
        j += 1
    ext, out, key, val, k = hdr[j:], {}, None, "", 0
    # keys are [A-Za-z0-9_]+ right before an unescaped '='
    toks, cur = [], ""
    while k < len(ext):
        ch = ext[k]
        if ch == "\\":
            if k + 1 >= len(ext) or ext[k + 1] not in "\\=nr":
                raise ValueError(f"bad extension escape at {k}")
            cur += {"n": "\n", "r": "\r"}.get(ext[k + 1], ext[k + 1])
            k += 2
            continue
        if ch in "\r\n":
            raise ValueError("raw line break in the extension")
        if ch == "=":
            toks.append(cur)
            cur = ""
        else:
            cur += ch
        k += 1
    toks.append(cur)
    for n in range(len(toks) - 1):
        head = toks[n]
        key = head.rsplit(" ", 1)[-1] if n else head
        if not key or not all(c.isalnum() or c == "_" for c in key):
            raise ValueError(f"bad key {key!r}")
        nxt = toks[n + 1]
        val = nxt.rsplit(" ", 1)[0] if n + 1 < len(toks) - 1 else nxt
        out[key] = val
    return fields, out


def write_log(path, agency, ip_net, first, last, accepted=0):
    with open(path, "a") as f:
        for i in range(first, last):
            f.write(f"Nov 27 10:{i // 60 % 60:02d}:{i % 60:02d} {agency}-gw sshd[12]: Failed "
                    f"password for root from 10.{ip_net}.{i // 250}.{i % 250 + 1} "
                    f"port 50022 ssh2\n")
        for i in range(accepted):
            f.write(f"Nov 27 11:00:{i:02d} {agency}-gw sshd[12]: Accepted password "
                    f"for alice from 10.99.{ip_net}.{i + 1} port 5555 ssh2\n")


def q(db, sql, *args):
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def wait_for(what, fn, timeout=60):
    return wait_until(fn, what, ceiling=timeout, step=0.2)


def main():
    tmp = tempfile.mkdtemp(prefix="soc-fwd-")
    pdb, ndb, rdb = (os.path.join(tmp, n) for n in ("p.db", "n.db", "r.db"))
    pctl = lambda *a, ok=True: run(SOCCTL, "--db", pdb, *a, ok=ok)
    nctl = lambda *a, ok=True: run(NATIONAL_CTL, "--db", ndb, *a, ok=ok)
    key = lambda n: os.path.join(tmp, n)
    for n in ["prov", "nat", "rogue"] + [f"gw-{a}" for a in AGENCIES]:
        pctl("keygen", "--out", key(n))
    pctl("agency", "add", "lamdong", "--name", "Lâm Đồng")
    for a in AGENCIES:
        pctl("agency", "add", a, "--name", f"Agency {a}", "--parent", "lamdong")
        pctl("sensor", "enroll", f"gw-{a}", "--agency", a, "--key", key(f"gw-{a}.pub"))
    nctl("agency", "add", "lamdong", "--name", "Lâm Đồng")
    nctl("sensor", "enroll", "lamdong-soc", "--agency", "lamdong", "--key", key("prov.pub"))
    rules = os.path.join(tmp, "rules")
    os.mkdir(rules)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), rules)
    with open(os.path.join(rules, "fwd.yml"), "w") as f:
        f.write(RULES)
    pport, nport = free_port(), free_port()
    cef = CefReceiver()
    cef.start()
    cfg = os.path.join(tmp, "prov.yml")
    with open(cfg, "w") as f:
        f.write("forward:\n  ack_within: 2s\n  max_backlog_age: 2s\n"
                "  fields: source.ip destination.port\n")
    logs = {a: os.path.join(tmp, f"{a}.log") for a in AGENCIES}
    for n, a in enumerate(AGENCIES):
        write_log(logs[a], a, n + 1, 0, PER_AGENCY, accepted=5)
    errs = []

    def daemon(argv, name):
        err = open(os.path.join(tmp, f"{name}{len(errs)}.err"), "w+")
        errs.append((name, err))
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)

    def national():
        return daemon([NATIONAL, "--db", ndb, "--rules", rules, "--key", key("nat.key"),
                       "--bind", f"tcp://127.0.0.1:{nport}"], "national")

    def province(forward=True):
        argv = [CORR, "-c", cfg, "--db", pdb, "--rules", rules, "--key", key("prov.key"),
                "--bind", f"tcp://127.0.0.1:{pport}"]
        if forward:
            argv += ["--forward", f"tcp://127.0.0.1:{nport}", "--forward-server-key",
                     key("nat.pub"), "--forward-name", "lamdong-soc",
                     "--cef", f"tcp://127.0.0.1:{cef.port}"]
        return daemon(argv, "province")

    def send(agency):
        p = run(SENSOR, "--connect", f"tcp://127.0.0.1:{pport}", "--server-key",
                key("prov.pub"), "--key", key(f"gw-{agency}.key"), "--log-file",
                logs[agency], "--once", ok=False)
        check(p.returncode == 0, f"sensor {agency} delivered its log: {p.stderr[-500:]}")

    def fstatus(db=pdb):
        return json.loads(run(SOCCTL, "--db", db, "forward", "status", "--json").stdout)

    def layer4():
        cov = json.loads(pctl("coverage", "--json").stdout)
        return {a["code"]: a["layers"][3] for a in cov["agencies"]}

    def layer4_ok():
        """Layer 4 when ok for every agency, else None.  Ok needs an ack
        younger than ack_within (2s) when the report is read: on a loaded
        machine a heartbeat's ack can come late, so callers wait for it."""
        l4 = layer4()
        return l4 if all(v["state"] == "ok" for v in l4.values()) else None

    nat = prov = rogue = None
    try:
        # forwarding absent: layer 4 missing for every agency
        prov = province(forward=False)
        check(wait_port(pport, prov), "province listens (no forwarding)")
        l4 = layer4()
        check(all(v["state"] == "missing" and v["reason"] == "forwarding not configured"
                  for v in l4.values()), f"layer 4 missing without --forward: {l4}")
        stop(prov)

        nat = national()
        check(wait_port(nport, nat), "national listens")
        prov = province()
        check(wait_port(pport, prov), "province listens")
        wait_for("first ack (heartbeat)", lambda: fstatus()["last_ack_at"] is not None)
        st = fstatus()
        check(st["configured"] and st["endpoint"] == f"tcp://127.0.0.1:{nport}",
              f"forward status names the endpoint: {st}")
        l4 = wait_until(layer4_ok, "layer 4 ok when healthy")
        check(l4 is not None, f"layer 4 ok when healthy: {l4 or layer4()}")

        # 1. a healthy link
        send("a1")
        wait_for("a1 forwarded", lambda: fstatus()["pending"] == 0 and fstatus()["acked"] >= PER_AGENCY)
        cef.drop()

        # 2. the national side hangs, then dies, then comes back
        nat.send_signal(signal.SIGSTOP)
        send("a2")
        # degraded once no ack came for longer than ack_within (2s)
        wait_until(lambda: "national receiver last acked" in layer4()["a2"]["reason"],
                   "layer 4 degraded without an ack")
        st = fstatus()
        check(st["pending"] > 0, f"alerts wait in the outbox while the national side hangs: {st}")
        l4 = layer4()
        check(l4["a2"]["state"] == "degraded" and "national receiver last acked" in
              l4["a2"]["reason"], f"layer 4 degraded after 2s without an ack: {l4['a2']}")
        out = pctl("coverage").stdout
        check("degraded" in out and "backlog" in out, "the text report gives the reason")
        nat.send_signal(signal.SIGKILL)
        nat.wait()
        nat = national()
        check(wait_port(nport, nat), "national back")
        wait_for("a2 forwarded after the national restart",
                 lambda: fstatus()["pending"] == 0, timeout=90)

        # 3. the province dies with alerts in its outbox
        nat.send_signal(signal.SIGSTOP)
        send("a3")
        check(fstatus()["pending"] > 0, "outbox not empty before the province is killed")
        wait_for("records in flight (sent, not acked)", lambda: q(
            pdb, "select count(*) from outbox where sent_at is not null and acked_at is null"
            " and incident_id in (select id from incidents where agency = 'a3')")[0][0] > 0)
        prov.send_signal(signal.SIGKILL)
        prov.wait()
        nat.send_signal(signal.SIGCONT)
        prov = province()
        check(wait_port(pport, prov), "province back")
        wait_for("a3 forwarded after the province restart",
                 lambda: fstatus()["pending"] == 0, timeout=90)

        # 4. analysts' changes (socctl) and new revisions (a replay)
        ids = [r[0] for r in q(pdb, "select id from incidents where severity >= 2 "
                                    "order by id limit 15")]
        for i in ids[:10]:
            pctl("incident", "ack", str(i), "--by", "analyst")
        for i in ids[10:]:
            pctl("incident", "resolve", str(i), "--by", "analyst")
        wait_for("changes forwarded", lambda: fstatus()["pending"] == 0 and
                 q(pdb, "select count(*) from outbox where status = 'resolved'")[0][0] == 5)
        # a replay: new revisions; the five resolved ones fire again within
        # incidents.reopen_within and reopen (issue 9), which is forwarded too
        send("a1")
        wait_for("the replay's revisions forwarded", lambda: fstatus()["pending"] == 0 and
                 q(pdb, "select count(*) from audit where action = 'reopened'")[0][0] ==
                 q(pdb, "select count(*) from incidents where id in (%s) and agency = 'a1'"
                   % ",".join(map(str, ids[10:])))[0][0])
        # the forwarder's sweep (once a second) has seen every audit row,
        # and what it recorded from them is acked: the cursor first, then
        # pending, as the sweep moves the cursor in its records' transaction
        wait_for("the sweep caught up with the audit trail and all forwarded", lambda: q(
            pdb, "select (select audit_cursor from forward_state) >="
            " (select coalesce(max(id), 0) from audit)")[0][0] == 1
            and fstatus()["pending"] == 0)
        st = fstatus()
        check(st["dropped"] == 0 and st["acked"] >= 3 * PER_AGENCY,
              f"nothing dropped, every record acked: {st}")
        check(pctl("stats", "--json").stdout and
              json.loads(pctl("stats", "--json").stdout)["outbox_pending"] == 0,
              "socctl stats: nothing pending")

        # 5. the national database holds each incident once, up to date
        prov_rows = {r[0]: r[1:] for r in q(pdb, "select id, count, last_seen, severity, "
                                                 "status from incidents where severity >= 2")}
        check(len(prov_rows) >= 3 * PER_AGENCY, f"{len(prov_rows)} provincial incidents")
        check(q(pdb, "select count(*) from incidents where severity < 2")[0][0] == 15,
              "low-severity incidents exist and stay home")
        cols = [r[1] for r in q(ndb, "pragma table_info(incidents)")]
        if "origin_name" in cols:
            nat_rows = q(ndb, "select origin_incident, count, last_seen, severity, status, "
                              "agency from incidents where origin_name = 'lamdong-soc'")
            got = {r[0]: r[1:5] for r in nat_rows}
            check(len(nat_rows) == len(got) == len(prov_rows),
                  f"national: {len(nat_rows)} rows, {len(got)} incidents, want {len(prov_rows)}")
            diff = [k for k in prov_rows if got.get(k) != prov_rows[k]]
            check(not diff, f"national rows equal the provincial ones: {diff[:5]}")
            check(all(r[5] == "lamdong" for r in nat_rows),
                  "stored under the key's agency, not the alert's")
            inc = json.loads(nctl("incidents", "--limit", "1", "--json").stdout)
            check(inc and inc[0].get("origin", {}).get("name") == "lamdong-soc",
                  f"national incidents --json carries origin: {inc[:1]}")
        else:
            print("SKIP: national checks: this soc-correlator has no national role",
                  file=sys.stderr)

        # 6. an unenrolled province key stores nothing
        src = sqlite3.connect(pdb)
        dst = sqlite3.connect(rdb)
        src.backup(dst)
        src.close()
        dst.execute("update outbox set acked_at = null, sent_at = null")
        dst.execute("update forward_state set acked = 0, sent = 0, last_ack_at = 0")
        dst.commit()
        dst.close()
        before = q(ndb, "select count(*) from incidents")[0][0]
        rogue = daemon([CORR, "--db", rdb, "--rules", rules, "--key", key("rogue.key"),
                        "--bind", f"tcp://127.0.0.1:{free_port()}", "--forward",
                        f"tcp://127.0.0.1:{nport}", "--forward-server-key", key("nat.pub"),
                        "--forward-name", "rogue"], "rogue")
        wait_for("the rogue's handshake refused",
                 lambda: "handshake" in (fstatus(rdb)["last_error"] or ""))
        st = fstatus(rdb)
        check(st["acked"] == 0 and not st["connected"] and st["pending"] > 0 and
              "handshake" in (st["last_error"] or ""),
              f"an unenrolled key gets no service: {st}")
        check(q(ndb, "select count(*) from incidents")[0][0] == before,
              "an unenrolled key stores nothing")
        stop(rogue)
        rogue = None

        # 7. CEF: every record reached the SIEM, every line parses
        want = {f"lamdong-soc:{i}:{r}" for i, r in
                q(pdb, "select incident_id, revision from outbox")}
        top = q(pdb, "select max(id) from outbox")[0][0]
        wait_for("CEF caught up", lambda: fstatus()["cef"]["cursor"] >= top)

        def cef_ids():
            with cef.lock:
                return {m.group(1).decode() for m in
                        (re.search(rb"externalId=(\S+)", l) for l in cef.lines) if m}
        # TCP acknowledged them; the receiver thread reads them in its time
        wait_for("the CEF receiver read every record", lambda: want <= cef_ids())
        with cef.lock:
            lines = list(cef.lines)
        bad, seen, titles = [], set(), set()
        for line in lines:
            try:
                hdr, ext = cef_parse(line)
                check_ext = "externalId" in ext and hdr[0] == "CEF:0"
                if not check_ext:
                    bad.append(line[:200])
                seen.add(ext.get("externalId"))
                titles.add((hdr[5], ext.get("msg")))
            except (ValueError, UnicodeDecodeError) as e:
                bad.append((str(e), line[:200]))
        check(not bad, f"every CEF line parses: {bad[:3]}")
        check(want <= seen, f"every record written to the SIEM: {len(want - seen)} missing")
        check(("Fwd | brute \\ force a=b second line", TITLE) in titles,
              f"the title survives the escaping: {list(titles)[:2]}")
        check(cef.conns >= 2, f"the writer reconnected after the drop ({cef.conns})")
        check(all(b" spt=" not in l for l in lines) and any(b" src=10." in l for l in lines),
              "forward.fields filters the evidence (source.ip kept, source.port not)")

        # healthy again: layer 4 ok
        l4 = wait_until(layer4_ok, "layer 4 ok at the end")
        check(l4 is not None, f"layer 4 ok at the end: {l4 or layer4()}")
    finally:
        for p in (rogue, prov, nat):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGCONT)
                stop(p, 20)
        cef.quit = True
    for name, err in errs:
        err.seek(0)
        text = err.read()
        sanitizer_clean(text, name)
        if counts_failed():
            print(f"--- {name}\n" + text[-2000:], file=sys.stderr)
    rc = done()
    if rc == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    return rc


def counts_failed():
    from soctest import counts
    return counts["failed"]


if __name__ == "__main__":
    sys.exit(main())
