#!/usr/bin/env python3
"""Indicator sets passed down a middle tier (issue 19; docs/NATIONAL.md,
"Indicators pushed down"), with the real daemons on loopback: a national
soc-correlator, a middle one forwarding to it (enrolled there as a
province) and a bottom one forwarding to the middle (enrolled there as a
province).

- a set imported nationally reaches the bottom as national/NAME (not
  national/national/NAME), origin national, at the national version;
  each tier acknowledges to the one above (intel_acks at both);
- the bottom matches a sensor's event against it;
- a second national version reaches the bottom too (whole set below the
  middle tier);
- a set imported at the middle tier is passed down beside it;
- the set removed nationally disappears at the middle and at the bottom,
  and the middle's own set stays at the bottom;
- the bottom stopped while a set is removed: removed on its return;
- a sensor key sending an update to the middle: refused, nothing stored.
No timed asserts: every wait ends on the awaited state, with a ceiling."""
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time

from soctest import (CORR, SENSOR, SOCCTL, SRC, check, done, free_port, run,
                     sanitizer_clean, stop, wait_port, wait_until,
                     import_zmq, key_of)

zmq = import_zmq()

T_IP = 0


def offer(sets):
    body = struct.pack("<H", len(sets))
    for n, v in sets:
        body += bytes([len(n)]) + n.encode() + struct.pack("<Q", v)
    return b"SOCI" + bytes([1, 1, 0, 0]) + body


def chunk(source, frm, to, full, recs):
    out = (b"SOCI" + bytes([1, 3, 0, 0]) + bytes([len(source)]) +
           source.encode() + struct.pack("<QQBIBI", frm, to, 1 if full else 0,
                                         0, 1, len(recs)))
    for op, value in recs:
        v = value.encode()
        out += struct.pack("<BBBqqqH", op, T_IP, 80, 0, 0, 0, len(v)) + v
        out += struct.pack("<H", 0)
    return out


def q(db, sql, *args):
    con = sqlite3.connect(db, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def main():
    tmp = tempfile.mkdtemp(prefix="soc-intel-tier-")
    k = lambda n: os.path.join(tmp, n)
    db = {t: k(t + ".db") for t in ("nat", "mid", "bot")}
    ctl = lambda t, *a, **kw: run(SOCCTL, "--db", db[t], *a, **kw)
    for n in ("nat", "mid", "bot", "gw"):
        ctl("nat", "keygen", "--out", k(n))
    ctl("nat", "agency", "add", "lamdong", "--name", "Lâm Đồng")
    ctl("nat", "sensor", "enroll", "mid-soc", "--agency", "lamdong", "--role",
        "province", "--key", k("mid.pub"))
    ctl("mid", "agency", "add", "baoloc", "--name", "Bảo Lộc")
    ctl("mid", "sensor", "enroll", "bot-soc", "--agency", "baoloc", "--role",
        "province", "--key", k("bot.pub"))
    ctl("mid", "sensor", "enroll", "gw", "--agency", "baoloc", "--key",
        k("gw.pub"))
    ctl("bot", "agency", "add", "stttt", "--name", "Sở TTTT")
    ctl("bot", "sensor", "enroll", "gw", "--agency", "stttt", "--key",
        k("gw.pub"))
    rules = k("rules")
    os.mkdir(rules)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), rules)
    cfg = k("prov.yml")
    with open(cfg, "w") as f:
        f.write("forward:\n  ack_within: 2s\n")
    port = {t: free_port() for t in ("nat", "mid", "bot")}
    errs = []

    def daemon(argv, name):
        err = open(k(f"{name}{len(errs)}.err"), "w+")
        errs.append((name, err))
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err), err

    def below(t, up):
        return daemon([CORR, "-c", cfg, "--db", db[t], "--rules", rules,
                       "--key", k(t + ".key"), "--bind",
                       f"tcp://127.0.0.1:{port[t]}", "--forward",
                       f"tcp://127.0.0.1:{port[up]}", "--forward-server-key",
                       k(up + ".pub"), "--forward-name", t + "-soc"], t)

    def text(err):
        with open(err.name, errors="replace") as f:
            return f.read()

    def sources(t):
        p = ctl(t, "intel", "sources", "--json", ok=False)
        if p.returncode != 0:
            return {}
        return {s["source"]: s for s in json.loads(p.stdout)}

    def has(t, value):
        return ctl(t, "intel", "check", value, ok=False).returncode == 0

    feed = k("feed.txt")

    def publish(t, name, lines):
        with open(feed, "w") as f:
            f.write("".join(f"ip {ip}\n" for ip in lines))
        ctl(t, "intel", "import", feed, "--source", name)

    procs = {}
    zctx = zmq.Context()
    try:
        procs["nat"] = daemon([CORR, "--role", "national", "--db", db["nat"],
                               "--key", k("nat.key"), "--bind",
                               f"tcp://127.0.0.1:{port['nat']}"], "nat")
        check(wait_port(port["nat"], procs["nat"][0]), "national listens")
        procs["mid"] = below("mid", "nat")
        check(wait_port(port["mid"], procs["mid"][0]), "middle listens")
        procs["bot"] = below("bot", "mid")
        check(wait_port(port["bot"], procs["bot"][0]), "bottom listens")

        # 1. published nationally: the middle and the bottom commit it
        publish("nat", "feed", ["198.51.100.7", "198.51.100.8"])
        v1 = sources("nat").get("feed", {}).get("version", 0)
        for t in ("mid", "bot"):
            wait_until(lambda: sources(t).get("national/feed", {})
                       .get("published_version") == v1,
                       f"{t} commits national/feed version {v1}")
            h = sources(t).get("national/feed", {})
            check(h.get("origin") == "national" and h.get("count") == 2,
                  f"{t}: the set as committed: {h}")
        check(not any(s.startswith("national/national")
                      for s in sources("bot")),
              f"the name does not grow: {list(sources('bot'))}")
        wait_until(lambda: q(db["nat"], "select province, version from"
                             " intel_acks where source = 'feed'") ==
                   [("mid-soc", v1)], "the middle acks to the national centre")
        wait_until(lambda: q(db["mid"], "select province, version from"
                             " intel_acks where source = 'national/feed'") ==
                   [("bot-soc", v1)], "the bottom acks to the middle")

        # 2. the bottom matches an event against the national set
        wait_until(lambda: "indicators reloaded: 2 " in text(procs["bot"][1]),
                   "the bottom's matcher has the set")
        log = k("gw.log")
        with open(log, "w") as f:
            f.write("Nov 27 10:00:01 gw sshd[101]: Failed password for root"
                    " from 198.51.100.7 port 40001 ssh2\n")
        r = run(SENSOR, "--connect", f"tcp://127.0.0.1:{port['bot']}",
                "--server-key", k("bot.pub"), "--key", k("gw.key"),
                "--log-file", log, "--once", ok=False)
        check(r.returncode == 0, f"sensor delivered: {r.stderr[-300:]}")
        wait_until(lambda: q(db["bot"], "select count(*) from incidents where"
                             " category = 'intel' and group_key ="
                             " 'ip 198.51.100.7'")[0][0] == 1,
                   "the bottom raises an intel incident from the national set")

        # 3. a second national version, and a set of the middle's own
        publish("nat", "feed", ["198.51.100.7", "203.0.113.5"])
        v2 = sources("nat").get("feed", {}).get("version", 0)
        check(v2 > v1, f"versions {v1} {v2}")
        publish("mid", "midfeed", ["192.0.2.44"])
        wait_until(lambda: sources("bot").get("national/feed", {})
                   .get("published_version") == v2,
                   f"the bottom follows to version {v2}")
        check(has("bot", "203.0.113.5") and not has("bot", "198.51.100.8"),
              "the bottom's copy is the second version")
        wait_until(lambda: "national/midfeed" in sources("bot"),
                   "the middle's own set reaches the bottom")

        # 4. a sensor key cannot publish at the middle tier
        s = zctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.curve_secretkey = key_of(k("gw.key")).encode()
        s.curve_publickey = key_of(k("gw.pub")).encode()
        s.curve_serverkey = key_of(k("mid.pub")).encode()
        s.connect(f"tcp://127.0.0.1:{port['mid']}")
        s.send(offer([("feed", 99)]))
        s.send(chunk("feed", 0, 99, True, [(1, "192.0.2.99")]))
        wait_until(lambda: "indicator message from gw refused" in
                   text(procs["mid"][1]), "the sensor's update refused")
        s.close()
        check(not has("mid", "192.0.2.99") and not has("bot", "192.0.2.99"),
              "no forged update stored")

        # 5. removed nationally: gone at both tiers below
        ctl("nat", "intel", "remove", "--source", "feed")
        for t in ("mid", "bot"):
            wait_until(lambda: "national/feed" not in sources(t),
                       f"{t} removes national/feed")
            check(not has(t, "203.0.113.5"), f"{t}: its indicators are gone")
        check("national/midfeed" in sources("bot") and has("bot", "192.0.2.44"),
              "the middle's own set stays at the bottom")
        check("removed: no longer published" in text(procs["bot"][1]),
              "the bottom logs the removal")

        # 6. the bottom away while a set is removed: its STATE still lists
        # the set on its return, and the middle's answer removes it
        publish("nat", "feed2", ["198.51.100.20"])
        wait_until(lambda: "national/feed2" in sources("bot"),
                   "the bottom commits national/feed2")
        stop(procs["bot"][0])
        ctl("nat", "intel", "remove", "--source", "feed2")
        wait_until(lambda: "national/feed2" not in sources("mid"),
                   "the middle removes national/feed2")
        check("national/feed2" in sources("bot"),
              "the stopped bottom still holds national/feed2")
        procs["bot"] = below("bot", "mid")
        check(wait_port(port["bot"], procs["bot"][0]), "bottom listens again")
        wait_until(lambda: "national/feed2" not in sources("bot"),
                   "the bottom removes national/feed2 on its return")
        check("national/midfeed" in sources("bot"),
              "the middle's own set still there")
    finally:
        for t, (proc, _) in procs.items():
            if proc.poll() is None:
                stop(proc)
        zctx.destroy(linger=0)
        for name, err in errs:
            sanitizer_clean(text(err), name)
    import soctest
    if soctest.counts["failed"] > 0:
        for name, err in errs:
            print(f"--- {name} ---\n" + text(err)[-3000:], file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
