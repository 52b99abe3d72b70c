#!/usr/bin/env python3
"""Syslog stamps and TCP churn on the real sensor (-o json), issue 15.

- future: one RFC 5424 line stamped 2126-01-01T00:00:00Z over UDP, and
  the same in a followed file, come out with @timestamp near now and
  soc.timestamp.claimed 2126-01-01; a line of 2020 keeps its time (no
  bound behind by default) but is clamped with logs.max_age_s; the count
  is in the counters (log_time_clamped).
- zones: RFC 3164 stamps written in UTC by senders that syslog.zones
  names (by host name glob, and by sender address) land at the right
  time in a sensor set to Asia/Ho_Chi_Minh; a sender that no rule names
  lands 7 h in the past, is counted (syslog_zone_suspect) and named once
  in the log.
- blind: end to end with a real correlator and the shipped SSH brute
  force rule: one sshd failure stamped 2126 over UDP for an address,
  then 10 real failures for it and for a control address: both raise an
  incident (the forged stamp cannot hold the window), and `socctl
  sensors` shows log_time_clamped 1 for the sensor.
- churn: a sender that delivered a message stays connected while 300
  silent connections from 9 other addresses fill and churn the table;
  the newcomers close connections of the busiest source, and no live
  sender is closed (syslog_tcp_evicted_senders stays 0); once every slot
  is a live sender, a newcomer from a source holding none takes a
  connection of a source over its fair share (syslog_tcp_evicted_hogs),
  and is not refused.
- own: a host over syslog.tcp_max_per_source with live connections is
  refused, counted as syslog_tcp_refused_own, not as syslog_tcp_rejected
  (which degrades coverage layer 2): it shut no one else out.
"""
import calendar
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
import time

from soctest import (CORR, SENSOR, SOCCTL, SRC, check, counts, done, free_port,
                     run, sanitizer_clean, stop, wait_port, wait_until,
                     TIME_SCALE)


class Sensor:
    def __init__(self, tmp, tag, cfg_text):
        self.cfg = os.path.join(tmp, f"{tag}.yml")
        self.out = os.path.join(tmp, f"{tag}.out")
        self.errpath = os.path.join(tmp, f"{tag}.err")
        with open(self.cfg, "w") as f:
            f.write(cfg_text)
        out = [] if "output: uplink" in cfg_text else ["-o", "json"]
        self.has_syslog = "\nsyslog:" in "\n" + cfg_text
        self.proc = subprocess.Popen([SENSOR, "-c", self.cfg, *out],
                                     stdout=open(self.out, "w"),
                                     stderr=open(self.errpath, "w"))

    def events(self):
        evs = []
        with open(self.out, errors="replace") as f:
            for ln in f:
                if ln.endswith("\n"):
                    evs.append(json.loads(ln))
        return evs

    def by_message(self, text):
        return [e for e in self.events() if text in e.get("message", "")]

    def err(self):
        with open(self.errpath, errors="replace") as f:
            return f.read()

    def counters(self):
        """SIGUSR1, then the newest counters lines (sensor and syslog)."""
        before = self.err().count("counters:")
        before_s = self.err().count("syslog: messages")
        self.proc.send_signal(signal.SIGUSR1)
        # with a syslog listener its line follows the counters line
        wait_until(lambda: self.err().count("counters:") > before and
                   (not self.has_syslog or
                    self.err().count("syslog: messages") > before_s),
                   "the counters logged on SIGUSR1")
        lines = self.err().splitlines()
        c = [l for l in lines if "counters:" in l]
        s = [l for l in lines if "syslog: messages" in l]
        return (c[-1] if c else ""), (s[-1] if s else "")

    def stop(self):
        rc = stop(self.proc)
        sanitizer_clean(self.err(), "sensor")
        check(rc == 0, f"sensor exits 0, got {rc}")


def counter(line, name):
    for part in line.split(":", 2)[-1].split(","):
        k, _, v = part.strip().rpartition(" ")
        if k == name:
            return int(v)
    return 0


def conns(syslog_line):
    """TCP connections accepted, from the syslog counters line."""
    m = re.search(r"connections (\d+),", syslog_line)
    return int(m.group(1)) if m else 0


def stamp_of(e):
    return calendar.timegm(time.strptime(e["@timestamp"][:19],
                                         "%Y-%m-%dT%H:%M:%S"))


def future(tmp):
    udp = free_port(socket.SOCK_DGRAM)
    log = os.path.join(tmp, "future.log")
    with open(log, "w") as f:
        f.write("<13>1 2126-01-01T00:00:00Z h1 sshd 12 - - Failed password "
                "for root from 10.9.9.9 port 22 ssh2 file-future\n")
        f.write("<13>1 2020-01-01T00:00:00Z h1 app 12 - - file-old\n")
    s = Sensor(tmp, "future", f"""output: json
logs:
  files: [{log}]
syslog:
  udp: 127.0.0.1:{udp}
""")
    try:
        wait_until(lambda: len(s.by_message("file-")) >= 2,
                   "the file's lines come out", 20)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(b"<13>1 2126-01-01T00:00:00Z h1 sshd 12 - - Failed password "
                 b"for root from 10.9.9.8 port 22 ssh2 udp-future",
                 ("127.0.0.1", udp))
        u.sendto(b"<13>1 2020-01-01T00:00:00Z h1 app 12 - - udp-old",
                 ("127.0.0.1", udp))
        # the ends of the range: the last second of int64 nanoseconds,
        # and one before 1970
        u.sendto(b"<13>1 2262-04-11T23:47:16Z h1 app 12 - - udp-edge-max",
                 ("127.0.0.1", udp))
        u.sendto(b"<13>1 1969-12-31T23:59:59Z h1 app 12 - - udp-edge-min",
                 ("127.0.0.1", udp))
        wait_until(lambda: len(s.by_message("udp-")) >= 4,
                   "the datagrams come out", 20)
        for tag, claim in (("udp-edge-max", "2262-04-11T23:47:16"),
                           ("udp-edge-min", "1969-12-31T23:59:59")):
            ev = s.by_message(tag)
            check(len(ev) == 1 and abs(stamp_of(ev[0]) - time.time()) < 120
                  and ev[0].get("soc", {}).get("timestamp", {})
                  .get("claimed", "").startswith(claim),
                  f"{tag}: receive time, claim kept: {ev[:1]}")
        now = time.time()
        for tag in ("file-future", "udp-future"):
            ev = s.by_message(tag)
            if not check(len(ev) == 1, f"{tag}: one event"):
                continue
            e = ev[0]
            check(abs(stamp_of(e) - now) < 120,
                  f"{tag}: @timestamp is the receive time, got {e['@timestamp']}")
            claimed = e.get("soc", {}).get("timestamp", {}).get("claimed", "")
            check(claimed.startswith("2126-01-01T00:00:00"),
                  f"{tag}: soc.timestamp.claimed = 2126-01-01, got {claimed!r}")
            check(e.get("source", {}).get("ip") in ("10.9.9.9", "10.9.9.8"),
                  f"{tag}: the event is kept whole")
        for tag in ("file-old", "udp-old"):
            ev = s.by_message(tag)
            check(len(ev) == 1 and ev[0]["@timestamp"].startswith("2020-01-01")
                  and "timestamp" not in ev[0].get("soc", {}),
                  f"{tag}: an old stamp keeps its time by default")
        c, _ = s.counters()
        check(counter(c, "log_time_clamped") == 4,
              f"log_time_clamped 4 in the counters: {c}")
    finally:
        s.stop()

    # a bound behind, when asked for
    log2 = os.path.join(tmp, "old.log")
    with open(log2, "w") as f:
        f.write("<13>1 2020-01-01T00:00:00Z h1 app 12 - - aged-line\n")
    s = Sensor(tmp, "aged", f"""output: json
logs:
  files: [{log2}]
  max_age_s: 86400
""")
    try:
        wait_until(lambda: len(s.by_message("aged-line")) >= 1,
                   "aged line comes out", 20)
        ev = s.by_message("aged-line")
        check(ev and abs(stamp_of(ev[0]) - time.time()) < 120 and
              ev[0].get("soc", {}).get("timestamp", {}).get("claimed", "")
              .startswith("2020-01-01"),
              f"logs.max_age_s clamps an old stamp: {ev[:1]}")
    finally:
        s.stop()


def zones(tmp):
    udp = free_port(socket.SOCK_DGRAM)
    flog = os.path.join(tmp, "zones-file.log")
    open(flog, "w").close()
    s = Sensor(tmp, "zones", f"""output: json
logs:
  timezone: Asia/Ho_Chi_Minh
  files: ["{flog}"]
syslog:
  udp: 127.0.0.1:{udp}
  zones:
    - "utc-* UTC"
    - 127.0.0.2/32 Asia/Tokyo
""")
    try:
        wait_until(lambda: "listening" in s.err(), "sensor listens", 20)
        now = time.time()

        def bsd(t):
            return time.strftime("%b %e %H:%M:%S", time.gmtime(t))
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(5):
            u.sendto(f"<13>{bsd(now)} utc-web1 app: zone-by-host {i}".encode(),
                     ("127.0.0.1", udp))
            u.sendto(f"<13>{bsd(now)} other app: zone-unknown {i}".encode(),
                     ("127.0.0.1", udp))
        v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        v.bind(("127.0.0.2", 0))
        v.sendto(f"<13>{bsd(now + 9 * 3600)} tokyo app: zone-by-addr".encode(),
                 ("127.0.0.1", udp))
        with open(flog, "a") as f:	# a followed file: by host name
            f.write(f"{bsd(now)} utc-db2 app: zone-by-host-in-file\n")
        wait_until(lambda: len(s.by_message("zone-")) >= 12,
                   "every zone line comes out", 20)
        check(len(s.by_message("zone-by-host-in-file")) == 1,
              "the followed file's line too")
        for e in s.by_message("zone-by-"):
            check(abs(stamp_of(e) - now) < 120,
                  f"{e['message']}: read in its source's zone, got "
                  f"{e['@timestamp']}")
        unk = s.by_message("zone-unknown")
        check(len(unk) == 5 and all(abs(stamp_of(e) - (now - 7 * 3600)) < 120
                                    for e in unk),
              "a sender no rule names is read in the sensor's zone")
        c, sl = s.counters()
        check(counter(c, "syslog_zone_suspect") == 5,
              f"syslog_zone_suspect 5: {c}")
        named = [l for l in s.err().splitlines()
                 if "127.0.0.1 (host other)" in l and "7 h behind" in l]
        check(len(named) == 1, f"the source is named once: {named}")
        check(not [l for l in s.err().splitlines() if "utc-web1" in l or
                   "host tokyo" in l], "sources with a zone are not named")
    finally:
        s.stop()


def blind(tmp):
    d = os.path.join(tmp, "blind")
    os.mkdir(d)
    db = os.path.join(d, "soc.db")

    def ctl(*a):
        return run(SOCCTL, "--db", db, *a)
    for name in ("correlator", "gw1"):
        ctl("keygen", "--out", os.path.join(d, name))
    ctl("agency", "add", "stttt", "--name", "So TT&TT")
    ctl("sensor", "enroll", "gw1", "--agency", "stttt", "--key",
        os.path.join(d, "gw1.pub"))
    rules = os.path.join(d, "rules")
    os.mkdir(rules)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), rules)
    shutil.copy(os.path.join(SRC, "rules", "linux", "ssh-bruteforce.yml"), rules)
    port = free_port()
    clog = open(os.path.join(tmp, "blind-corr.err"), "w+")
    corr = subprocess.Popen([CORR, "--db", db, "--rules", rules, "--key",
                             os.path.join(d, "correlator.key"),
                             "--bind", f"tcp://127.0.0.1:{port}"],
                            stdout=clog, stderr=subprocess.STDOUT)
    s = None
    try:
        if not check(wait_port(port, corr), "correlator listens"):
            return
        udp = free_port(socket.SOCK_DGRAM)
        s = Sensor(tmp, "blind", f"""name: gw1
connect: tcp://127.0.0.1:{port}
server_key: {d}/correlator.pub
key: {d}/gw1.key
output: uplink
syslog:
  udp: 127.0.0.1:{udp}
uplink:
  batch_ms: 100
  heartbeat_s: 1
""")

        def received():
            con = sqlite3.connect(db, timeout=10)
            try:
                r = con.execute("select events_received from sensors "
                                "where name='gw1'").fetchone()
                return (r[0] or 0) if r else 0
            finally:
                con.close()

        def incidents(ip):
            con = sqlite3.connect(db, timeout=10)
            try:
                return con.execute("select count(*) from incidents where "
                                   "group_key like ?", (f"%{ip}%",)
                                   ).fetchone()[0]
            finally:
                con.close()
        wait_until(lambda: "listening" in s.err(), "sensor listens", 20)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(b"<38>1 2126-01-01T00:00:00Z h1 sshd 12 - - Failed password "
                 b"for root from 10.66.0.1 port 22 ssh2", ("127.0.0.1", udp))
        wait_until(lambda: received() >= 1,
                   "the forged line reaches the correlator", 30)
        for i in range(10):
            t = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            for ip in ("10.66.0.1", "10.66.0.2"):
                u.sendto(f"<38>1 {t} h1 sshd 12 - - Failed password for root "
                         f"from {ip} port {4000 + i} ssh2".encode(),
                         ("127.0.0.1", udp))
        check(wait_until(lambda: received() >= 21, "21 events reach the correlator", 30),
              f"21 events reach the correlator: {received()}")
        wait_until(lambda: incidents("10.66.0.2") > 0,
                   "the control address raises a brute-force incident", 30)
        wait_until(lambda: incidents("10.66.0.1") > 0,
                   "the address with a forged 2126 stamp raises one too", 10)

        def clamped():
            rows = json.loads(ctl("sensors", "--json").stdout)
            rows = rows if isinstance(rows, list) else rows.get("sensors", [])
            for r in rows:
                if r.get("name") == "gw1":
                    c = r.get("counters") or {}
                    c = c if isinstance(c, dict) else json.loads(c)
                    return c.get("log_time_clamped")
            return None
        check(wait_until(lambda: clamped() == 1, "socctl sensors shows log_time_clamped 1", 30),
              f"socctl sensors shows log_time_clamped 1: {clamped()}")
    finally:
        if s is not None:
            s.stop()
        stop(corr, 20)
        clog.seek(0)
        sanitizer_clean(clog.read(), "correlator")


def churn(tmp):
    port = free_port()
    s = Sensor(tmp, "churn", f"""output: json
syslog:
  tcp: ["127.0.0.1:{port}"]
  tcp_idle_s: 120
""")
    attackers = []
    try:
        check(wait_port(port, s.proc), "sensor listens on TCP")
        live = socket.create_connection(("127.0.0.1", port), 5)
        live.sendall(b"<13>Nov 27 10:00:00 gw1 app[1]: churn-live 0\n")
        wait_until(lambda: len(s.by_message("churn-live")) >= 1,
                   "the live sender's first line arrives", 20)
        base = conns(s.counters()[1])
        # 300 silent connections from 9 other addresses, round robin
        for k in range(300):
            c = socket.socket()
            c.bind((f"127.0.0.{2 + k % 9}", 0))
            c.connect(("127.0.0.1", port))
            attackers.append(c)
        state = {}

        def accepted():
            state["c"], state["s"] = s.counters()
            return conns(state["s"]) >= base + 300
        check(wait_until(accepted, "the sensor accepted all 300 connections", 30, 0.2),
              f"the sensor accepted all 300 connections: {state.get('s')}")
        live.setblocking(False)
        try:
            closed = live.recv(1) == b""
        except BlockingIOError:
            closed = False
        except OSError:
            closed = True
        check(not closed, "the live sender is still connected after the churn")
        if not closed:
            live.setblocking(True)
            live.sendall(b"<13>Nov 27 10:00:00 gw1 app[1]: churn-live 1\n")
            wait_until(lambda: len(s.by_message("churn-live")) >= 2,
                       "the live sender's next line arrives", 20)
        check("for a new one 45 (of them senders 0)" in state.get("s", ""),
              f"45 silent connections closed for newcomers, no sender: "
              f"{state.get('s')}")
        check(counter(state.get("c", ""), "syslog_tcp_evicted_senders") == 0,
              "syslog_tcp_evicted_senders stays 0")
        # the busiest source paid: no address fell below its share
        per, alive = {}, []
        for c in attackers:
            c.setblocking(False)
            try:
                gone = c.recv(1) == b""
            except BlockingIOError:
                gone = False
            except OSError:
                gone = True
            if not gone:
                alive.append(c)
                a = c.getsockname()[0]
                per[a] = per.get(a, 0) + 1
        check(sum(per.values()) == 255 and max(per.values()) -
              min(per.values()) <= 1,
              f"the newcomers closed the busiest sources' connections: {per}")
        # every slot a live sender: a newcomer is refused, none closed
        kept = []
        for c in alive:
            try:
                c.setblocking(True)
                c.sendall(b"<13>Nov 27 10:00:00 gw1 app[2]: churn-att\n")
                kept.append(c)
            except OSError:
                pass
        wait_until(lambda: len(s.by_message("churn-att")) >= len(kept),
                   "the other connections' lines arrive", 30)
        # every slot live, 9 addresses over their fair share (256 / 10):
        # a newcomer holding none takes one of theirs, and is not refused
        # (review M4: slow senders on 8 addresses shut rsyslog out)
        late = socket.socket()
        late.bind(("127.0.0.11", 0))
        late.connect(("127.0.0.1", port))
        late.sendall(b"<13>Nov 27 10:00:00 gw1 app[3]: churn-late\n")
        wait_until(lambda: len(s.by_message("churn-late")) >= 1,
                   "a newcomer from a source holding none gets a slot", 20)
        late.close()
        c, sl = s.counters()
        check(counter(c, "syslog_tcp_rejected") == 0 and
              counter(c, "syslog_tcp_evicted_hogs") == 1 and
              counter(c, "syslog_tcp_evicted_senders") == 0 and
              counter(c, "syslog_tcp_rejected_15m") == 0,
              f"one hog's connection closed, none refused, no sender "
              f"counted lost: {c}")
        live.setblocking(False)
        try:
            closed = live.recv(1) == b""
        except BlockingIOError:
            closed = False
        except OSError:
            closed = True
        check(not closed, "the live sender is still connected")
        live.close()
    finally:
        for c in attackers:
            c.close()
        s.stop()


def own(tmp):
    port = free_port()
    s = Sensor(tmp, "own", f"""output: json
syslog:
  tcp: ["127.0.0.1:{port}"]
  tcp_idle_s: 120
  tcp_max_per_source: 2
""")
    socks = []
    try:
        check(wait_port(port, s.proc), "sensor listens on TCP")
        for k in range(2):
            c = socket.create_connection(("127.0.0.1", port), 5)
            c.sendall(f"<13>Nov 27 10:00:00 gw1 app[1]: own-{k}\n".encode())
            socks.append(c)
        check(wait_until(lambda: len(s.by_message("own-")) >= 2, "own- lines", 20),
              "the host's two lines arrive")
        third = socket.create_connection(("127.0.0.1", port), 5)
        third.settimeout(20 * TIME_SCALE)
        try:
            refused = third.recv(1) == b""
        except socket.timeout:	# left open: not refused
            refused = False
        except OSError:
            refused = True
        third.close()
        check(refused, "a third connection over the host's limit is refused")
        c, sl = s.counters()
        check(counter(c, "syslog_tcp_refused_own") == 1 and
              counter(c, "syslog_tcp_rejected") == 0 and
              counter(c, "syslog_tcp_rejected_15m") == 0,
              f"counted as refused_own, not rejected: {c}")
    finally:
        for c in socks:
            c.close()
        s.stop()


def main():
    if not os.access(SENSOR, os.X_OK):
        print(f"{SENSOR} not built", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="soc-slt-")
    cases = {"future": future, "zones": zones, "blind": blind, "churn": churn,
             "own": own}
    only = sys.argv[1:] or list(cases)
    try:
        for name in only:
            before = counts["failed"]
            cases[name](tmp)
            print(f"{name}: {'ok' if counts['failed'] == before else 'FAILED'}")
    finally:
        if counts["failed"]:
            for name in sorted(os.listdir(tmp)):
                if name.endswith(".err"):
                    with open(os.path.join(tmp, name)) as f:
                        print(f"--- {name}\n" + f.read()[-2500:], file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
