#!/usr/bin/env python3
"""Indicator sets pushed down and sightings sent up (issue 19), with the
real daemons on loopback: a national soc-correlator and two provincial
ones forwarding to it (docs/NATIONAL.md, "Indicators pushed down").

- a set imported nationally is committed by both provinces as
  national/NAME (origin national) and matched there on a sensor's event;
  `socctl intel sources` nationally shows both acknowledgements;
- the hit travels up as an intel incident (category kept) and the
  national `intel show VALUE` lists the province and agency that saw it;
- a province stopped while two updates are published catches up on its
  restart with the changes only (records and bytes far below the set's);
- a sensor key, and an unenrolled key, sending an update to a provincial
  correlator, and a province key sending one to the national correlator:
  refused and counted, nothing stored;
- a stand-in national holding the national key (as after a replay):
  an old version and changes that do not follow the version held are
  ignored; a proper next version from it is committed (the control).
No timed asserts: every wait ends on the awaited row, with a ceiling."""
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

BULK = 3000		# indicators besides the few the test follows
T_IP = 0		# enum intel_type


# ---- correlator/intel/intel-wire.h ----

def offer(sets):
    body = struct.pack("<H", len(sets))
    for n, v in sets:
        body += bytes([len(n)]) + n.encode() + struct.pack("<Q", v)
    return b"SOCI" + bytes([1, 1, 0, 0]) + body


def chunk(source, frm, to, full, recs, index=0, last=True):
    out = (b"SOCI" + bytes([1, 3, 0, 0]) + bytes([len(source)]) +
           source.encode() + struct.pack("<QQBIBI", frm, to, 1 if full else 0,
                                         index, 1 if last else 0, len(recs)))
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


def sshd_line(ip, n):
    return (f"Nov 27 10:00:{n % 60:02d} gw sshd[{100 + n}]: Failed password "
            f"for root from {ip} port 4{n:04d} ssh2\n")


def main():
    tmp = tempfile.mkdtemp(prefix="soc-intel-push-")
    k = lambda n: os.path.join(tmp, n)
    ndb = k("national.db")
    pdb = {"p1": k("p1.db"), "p2": k("p2.db")}
    nctl = lambda *a, **kw: run(SOCCTL, "--db", ndb, *a, **kw)
    pctl = lambda p, *a, **kw: run(SOCCTL, "--db", pdb[p], *a, **kw)
    for n in ("nat", "p1", "p2", "gw1", "gw2", "stranger", "natgw"):
        nctl("keygen", "--out", k(n))
    nctl("agency", "add", "lamdong", "--name", "Lâm Đồng")
    nctl("agency", "add", "daklak", "--name", "Đắk Lắk")
    nctl("sensor", "enroll", "p1-soc", "--agency", "lamdong", "--role",
         "province", "--key", k("p1.pub"))
    nctl("sensor", "enroll", "p2-soc", "--agency", "daklak", "--role",
         "province", "--key", k("p2.pub"))
    nctl("sensor", "enroll", "natgw", "--agency", "lamdong", "--role",
         "sensor", "--key", k("natgw.pub"))
    pctl("p1", "agency", "add", "ubnd", "--name", "UBND tỉnh")
    for p, gw, code in (("p1", "gw1", "stttt"), ("p2", "gw2", "sokhcn")):
        pctl(p, "agency", "add", code, "--name", f"Agency {code}",
             *(["--parent", "ubnd"] if p == "p1" else []))
        pctl(p, "sensor", "enroll", gw, "--agency", code, "--key", k(gw + ".pub"))
    rules = k("rules")
    os.mkdir(rules)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), rules)
    cfg = k("prov.yml")
    with open(cfg, "w") as f:
        f.write("forward:\n  ack_within: 2s\n")
    nport = free_port()
    pport = {"p1": free_port(), "p2": free_port()}
    errs = []

    def daemon(argv, name):
        err = open(k(f"{name}{len(errs)}.err"), "w+")
        errs.append((name, err))
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err), err

    def national():
        return daemon([CORR, "--role", "national", "--db", ndb, "--key",
                       k("nat.key"), "--bind", f"tcp://127.0.0.1:{nport}"],
                      "national")

    def province(p):
        return daemon([CORR, "-c", cfg, "--db", pdb[p], "--rules", rules,
                       "--key", k(p + ".key"), "--bind",
                       f"tcp://127.0.0.1:{pport[p]}", "--forward",
                       f"tcp://127.0.0.1:{nport}", "--forward-server-key",
                       k("nat.pub"), "--forward-name", p + "-soc"], p)

    def text(err):
        with open(err.name, errors="replace") as f:
            return f.read()

    def sources(ctl_db):
        p = run(SOCCTL, "--db", ctl_db, "intel", "sources", "--json", ok=False)
        if p.returncode != 0:
            return {}
        return {s["source"]: s for s in json.loads(p.stdout)}

    def held(p, source="national/feed"):
        return sources(pdb[p]).get(source, {})

    def nat_version():
        return sources(ndb).get("feed", {}).get("version", 0)

    def send(p, gw, ip, n):
        log = k(f"{gw}-{n}.log")
        with open(log, "w") as f:
            f.write(sshd_line(ip, n))
        r = run(SENSOR, "--connect", f"tcp://127.0.0.1:{pport[p]}",
                "--server-key", k(p + ".pub"), "--key", k(gw + ".key"),
                "--log-file", log, "--once", ok=False)
        check(r.returncode == 0, f"sensor {gw} delivered: {r.stderr[-300:]}")

    def intel_incident(db, ip):
        return q(db, "select count(*) from incidents where category = 'intel'"
                 " and group_key = ?", "ip " + ip)[0][0]

    feed = k("feed.txt")

    def publish(lines):
        with open(feed, "w") as f:
            f.write("".join(f"ip {ip}\n" for ip in lines))
        nctl("intel", "import", feed, "--source", "feed")

    bulk = [f"100.{64 + i // 65536}.{i // 256 % 256}.{i % 256}" for i in range(BULK)]
    nat, nerr = national()
    procs = {}
    zctx = zmq.Context()
    try:
        check(wait_port(nport, nat), "national correlator listens")
        for p in ("p1", "p2"):
            procs[p] = province(p)
            check(wait_port(pport[p], procs[p][0]), f"{p} listens")

        # 1. published nationally: both provinces commit it and ack it
        publish(["198.51.100.7", "198.51.100.8"] + bulk)
        v1 = nat_version()
        for p in ("p1", "p2"):
            wait_until(lambda: held(p).get("published_version") == v1,
                       f"{p} commits national/feed version {v1}")
            h = held(p)
            check(h.get("origin") == "national" and h.get("count") == BULK + 2,
                  f"{p}: the set as committed: {h}")
            check((h.get("received") or {}).get("kind") == "full",
                  f"{p}: the first update is the whole set: {h.get('received')}")
        full_bytes = held("p1").get("received", {}).get("bytes", 0)
        wait_until(lambda: sources(ndb).get("feed", {}).get("acked") == 2,
                   "both provinces' acks recorded nationally")
        s = sources(ndb).get("feed", {})
        check(sorted(a["name"] for a in s.get("provinces", [])) ==
              ["p1-soc", "p2-soc"] and all(a["version"] == v1 for a in
                                           s.get("provinces", [])),
              f"intel sources nationally: {s}")
        tbl = nctl("intel", "sources").stdout
        check("ACKED" in tbl and "feed" in tbl, f"sources table: {tbl}")

        # a set whose province copy could not be named (the prefix makes it
        # too long) is not offered at all, rather than pushed and refused
        # again and again
        long_name = "l" * 120
        with open(k("long.txt"), "w") as f:
            f.write("ip 198.51.100.250\n")
        nctl("intel", "import", k("long.txt"), "--source", long_name)
        wait_until(lambda: "is not offered to the provinces" in text(nerr),
                   "the national centre says the long-named set is not offered")
        check(sources(ndb).get(long_name, {}).get("acked", 0) == 0 and
              not held("p1", "national/" + long_name),
              "no province holds or acks the long-named set")

        # 2. matched in a province; the sighting counted nationally
        wait_until(lambda: f"indicators reloaded: {BULK + 2} " in
                   text(procs["p1"][1]), "p1's matcher has the set")
        send("p1", "gw1", "198.51.100.7", 1)
        wait_until(lambda: intel_incident(pdb["p1"], "198.51.100.7") == 1,
                   "p1 raises an intel incident from the national set")
        wait_until(lambda: intel_incident(ndb, "198.51.100.7") == 1,
                   "the intel incident reaches the national centre, category kept")
        shown = json.loads(nctl("intel", "show", "198.51.100.7", "--json").stdout)
        seen = shown[0].get("sightings") if shown else None
        check(seen and seen[0]["province"] == "p1-soc" and
              seen[0]["agency"] == "stttt" and seen[0]["count"] >= 1 and
              seen[0]["first_seen"], f"national intel show sightings: {seen}")
        check("p1-soc" in nctl("intel", "show", "198.51.100.7").stdout,
              "the table names the province")

        # 3. p2 away while two updates are published: changes only
        stop(procs["p2"][0])
        publish(["198.51.100.7", "198.51.100.9"] + bulk)
        v2 = nat_version()
        publish(["198.51.100.7", "198.51.100.9", "203.0.113.5"] + bulk)
        v3 = nat_version()
        check(v3 > v2 > v1, f"versions {v1} {v2} {v3}")
        wait_until(lambda: held("p1").get("published_version") == v3,
                   "p1 follows both updates")
        procs["p2"] = province("p2")
        check(wait_port(pport["p2"], procs["p2"][0]), "p2 listens again")
        wait_until(lambda: held("p2").get("published_version") == v3,
                   "p2 catches up after its restart")
        r = held("p2").get("received") or {}
        check(r.get("kind") == "delta" and r.get("records") == 3 and
              0 < r.get("bytes", 0) < full_bytes / 20,
              f"p2 caught up with the changes only ({r}; whole set was "
              f"{full_bytes} bytes)")
        check(pctl("p2", "intel", "check", "198.51.100.9", ok=False).returncode == 0
              and pctl("p2", "intel", "check", "203.0.113.5", ok=False).returncode == 0
              and pctl("p2", "intel", "check", "198.51.100.8", ok=False).returncode == 1,
              "p2's copy has the additions and not the removal")
        check(held("p2").get("count") == BULK + 3, f"p2 count: {held('p2')}")
        wait_until(lambda: f"indicators reloaded: {BULK + 3} " in
                   text(procs["p2"][1]), "p2's matcher has the changes")
        send("p2", "gw2", "203.0.113.5", 2)
        wait_until(lambda: intel_incident(pdb["p2"], "203.0.113.5") == 1,
                   "p2 matches an indicator that came as a change")

        # 3b. the national incident table: ORIGIN, provincial agencies
        wait_until(lambda: intel_incident(ndb, "203.0.113.5") == 1,
                   "p2's intel incident reaches the national centre")
        tbl = nctl("incidents").stdout
        check("ORIGIN" in tbl.splitlines()[0] and "p1-soc/stttt#1" in tbl
              and "p2-soc/sokhcn#1" in tbl, f"national ORIGIN column: {tbl}")
        check("ORIGIN" not in pctl("p1", "incidents").stdout.splitlines()[0],
              "no ORIGIN column on a province")

        def by_agency(code):
            r = nctl("incidents", "--agency", code, "--json", ok=False)
            if r.returncode != 0:
                return None
            return sorted((i["origin"] or {}).get("name") for i in json.loads(r.stdout))
        check(by_agency("stttt") == ["p1-soc"], f"--agency stttt: {by_agency('stttt')}")
        check(by_agency("p2-soc/sokhcn") == ["p2-soc"] and
              by_agency("daklak/sokhcn") == ["p2-soc"],
              "--agency PROVINCE/AGENCY (key name or its agency here)")
        check(by_agency("lamdong/sokhcn") is None and by_agency("nosuch") is None,
              "--agency: an agency no province named is an error")
        check(by_agency("lamdong") == ["p1-soc"], "--agency of the province itself")
        check(by_agency("ubnd") == ["p1-soc"] and by_agency("p1-soc/ubnd") ==
              ["p1-soc"] and by_agency("daklak/ubnd") is None,
              "--agency of a provincial parent takes its subtree")
        tree = q(ndb, "select code, name, parent from province_tree where"
                 " province = 'p1-soc' order by code")
        check(tree == [("stttt", "Agency stttt", "ubnd"), ("ubnd", "", "")],
              f"the provincial tree as the alerts describe it: {tree}")

        # 4. nobody else publishes
        def dealer(keyname, port, server):
            s = zctx.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            s.curve_secretkey = key_of(k(keyname + ".key")).encode()
            s.curve_publickey = key_of(k(keyname + ".pub")).encode()
            s.curve_serverkey = key_of(k(server + ".pub")).encode()
            s.connect(f"tcp://127.0.0.1:{port}")
            return s

        evil = chunk("feed", 0, 99, True, [(1, "192.0.2.99")])
        for who, port, server, log in (("gw1", pport["p1"], "p1", procs["p1"][1]),
                                       ("p2", nport, "nat", nerr)):
            s = dealer(who, port, server)
            s.send(offer([("feed", 99)]))
            s.send(evil)
            wait_until(lambda: f"indicator message from {who if who != 'p2' else 'p2-soc'}"
                       " refused" in text(log), f"{who}'s update refused and logged")
            s.close()
        # a sensor key asking the national side for its sets: no answer
        s = dealer("natgw", nport, "nat")
        s.send(offer([]).replace(bytes([1, 1, 0, 0]), bytes([1, 2, 0, 0]), 1))
        wait_until(lambda: "indicator message from natgw refused: the key is"
                   " not a province's" in text(nerr), "a sensor's STATE refused")
        check(s.poll(1000) == 0, "nothing sent to a sensor key")
        s.close()
        s = dealer("stranger", pport["p1"], "p1")
        s.send(evil)
        time.sleep(1)
        s.close()
        check(pctl("p1", "intel", "check", "192.0.2.99", ok=False).returncode == 1
              and nctl("intel", "check", "192.0.2.99", ok=False).returncode == 1,
              "no forged update stored")

        # 5. a stand-in national (the national key): old versions ignored
        stop(nat)
        srv = zctx.socket(zmq.ROUTER)
        srv.setsockopt(zmq.LINGER, 0)
        srv.curve_server = True
        srv.curve_secretkey = key_of(k("nat.key")).encode()
        srv.bind(f"tcp://127.0.0.1:{nport}")
        peer, got_state = None, False
        end = time.monotonic() + 60
        while time.monotonic() < end and not got_state:
            if not srv.poll(500):
                continue
            ident, body = srv.recv_multipart()
            if body[:4] == b"SOCB":		# ack every batch: its link is up
                seq = struct.unpack("<Q", body[8:16])[0]
                srv.send_multipart([ident, b"SOCA" + bytes([1, 0, 0, 0]) +
                                    struct.pack("<Q", seq)])
            elif body[:4] == b"SOCI" and body[5] == 2:
                peer, got_state = ident, True
        check(got_state, "a province sends its STATE to the national key")
        if got_state:
            # which province: the one whose copy we follow below
            srv.send_multipart([peer, chunk("feed", 0, v1, True,
                                            [(1, "192.0.2.66")])])
            srv.send_multipart([peer, chunk("feed", v1, v3 + 1, False,
                                            [(1, "192.0.2.67")])])
            srv.send_multipart([peer, chunk("feed", v3, v3 + 1, False,
                                            [(1, "192.0.2.77")])])

            def any_at(v):
                return [p for p in ("p1", "p2")
                        if held(p).get("published_version") == v]
            moved = wait_until(lambda: any_at(v3 + 1),
                               "the next version from the national key is committed")
            if moved:
                p = moved[0]
                check(pctl(p, "intel", "check", "192.0.2.77", ok=False).returncode == 0,
                      "the control change is there")
                check(pctl(p, "intel", "check", "192.0.2.66", ok=False).returncode == 1 and
                      pctl(p, "intel", "check", "192.0.2.67", ok=False).returncode == 1,
                      f"{p}: the old version and the unfollowed changes were ignored")
                check("ignored" in text(procs[p][1]), f"{p} logs what it ignored")
        srv.close()
    finally:
        for p, (proc, _) in procs.items():
            if proc.poll() is None:
                stop(proc)
        if nat.poll() is None:
            stop(nat)
        zctx.destroy(linger=0)
        for name, err in errs:
            sanitizer_clean(text(err), name)
    if counts_failed():
        for name, err in errs:
            print(f"--- {name} ---\n" + text(err)[-3000:], file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


def counts_failed():
    import soctest
    return soctest.counts["failed"] > 0


if __name__ == "__main__":
    sys.exit(main())
