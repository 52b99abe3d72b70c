#!/usr/bin/env python3
"""bench/intel_push: a 100,000-indicator update published nationally and
committed in two provinces over their forward connections, on loopback
(issue 19: within 10 s of its publication in every province).

A national soc-correlator and two provincial ones forwarding to it (as
bench/forward.py starts them).  Two rounds:
  full  -- a set of N indicators imported nationally: each province gets
           it whole (no copy before);
  delta -- the set replaced by N other indicators: each province gets the
           changes (N removed, N added).
The time per province is from the national commit of the import
(intel_sets.updated_at there) to the province's commit of its copy
(intel_sets.updated_at of national/bench there), both written by the
databases, not by this script's polling.

  python3 bench/intel_push.py [--build build] [--n 100000]

Never run by `make test`.
"""
import argparse
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"port {port} never opened")


def row(db, sql, *a):
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute(sql, a).fetchone()
    finally:
        con.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--n", type=int, default=100000)
    a = ap.parse_args()
    corr = os.path.join(a.build, "correlator", "soc-correlator")
    ctl = os.path.join(a.build, "correlator", "socctl")
    tmp = tempfile.mkdtemp(prefix="soc-bench-intel-push-")
    k = lambda n: os.path.join(tmp, n)
    ndb = k("n.db")
    pdb = {p: k(p + ".db") for p in ("p1", "p2")}
    run = lambda *c: subprocess.run(c, check=True, capture_output=True)
    for n in ("nat", "p1", "p2"):
        run(ctl, "--db", ndb, "keygen", "--out", k(n))
    for p in pdb:
        run(ctl, "--db", ndb, "agency", "add", p, "--name", p)
        run(ctl, "--db", ndb, "sensor", "enroll", p + "-soc", "--agency", p,
            "--role", "province", "--key", k(p + ".pub"))
        run(ctl, "--db", pdb[p], "agency", "add", "a1", "--name", "A1")
    rules = k("rules")
    os.mkdir(rules)
    with open(os.path.join(rules, "mapping.yml"), "w") as f, \
            open(os.path.join(HERE, "..", "rules", "mapping.yml")) as src:
        f.write(src.read())
    nport = free_port()
    log = open(k("daemons.err"), "w")
    procs = [subprocess.Popen([corr, "--role", "national", "--db", ndb, "--key",
                               k("nat.key"), "--bind", f"tcp://127.0.0.1:{nport}"],
                              stdout=log, stderr=log)]
    wait_port(nport)
    for p in pdb:
        port = free_port()
        procs.append(subprocess.Popen(
            [corr, "--db", pdb[p], "--rules", rules, "--key", k(p + ".key"),
             "--bind", f"tcp://127.0.0.1:{port}", "--forward",
             f"tcp://127.0.0.1:{nport}", "--forward-server-key", k("nat.pub"),
             "--forward-name", p + "-soc"], stdout=log, stderr=log))
        wait_port(port)
    try:
        time.sleep(2)		# the provinces' first STATE: they are known
        for rnd, base in (("full", 0), ("delta", a.n)):
            feed = k(f"bench-{rnd}.txt")
            with open(feed, "w") as f:
                for i in range(base, base + a.n):
                    f.write(f"ip 100.{64 + i // 65536}.{i // 256 % 256}.{i % 256}\n")
            t = time.time()
            run(ctl, "--db", ndb, "intel", "import", feed, "--source", "bench")
            imp = time.time() - t
            ver, pub = row(ndb, "select version, updated_at from intel_sets"
                           " where source = 'bench'")
            out = []
            for p in pdb:
                end = time.time() + 120
                while time.time() < end:
                    r = row(pdb[p], "select pub_version, updated_at, pub_kind,"
                            " pub_records, pub_bytes, count from intel_sets"
                            " where source = 'national/bench'")
                    if r and r[0] == ver:
                        break
                    time.sleep(0.05)
                else:
                    sys.exit(f"{p} never committed version {ver}")
                out.append(f"{p} {(r[1] - pub) / 1e9:.2f}s ({r[2]}, {r[3]}"
                           f" records, {r[4] / 1e6:.1f} MB, {r[5]} indicators)")
            print(f"{rnd}: {a.n} indicators imported nationally in {imp:.2f}s;"
                  f" committed after the national commit in: " + "; ".join(out)
                  + " (target <= 10s)")
    finally:
        for pr in procs:
            pr.terminate()
        for pr in procs:
            pr.wait(30)


if __name__ == "__main__":
    main()
