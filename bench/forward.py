#!/usr/bin/env python3
"""bench/forward: alerts per second from the provincial outbox to the
national commit, on loopback, and the delay from incident commit (the
provincial outbox record's created_at, written in the incident's
transaction) to national commit (the national incident's updated_at).

Two phases with the real daemons:
  drain   -- N incidents are raised while the national receiver is down,
             then it starts: alerts/s = N / time from the national side's
             first batch to the last ack (the time until the forwarder
             reconnects, at most its 0.5 s backoff, is printed apart), and
             N / time from the national start until the outbox is empty;
  healthy -- the national receiver is up and a sensor follows a log
             written at --rate lines/s (one incident each) until N more
             incidents: p50/p99 of the commit-to-commit delay.
Target (issue 8): at least 20,000 alerts/s, p99 under 2 s while healthy.

  python3 bench/forward.py [--build build] [--n 50000] [--rate 10000]
                           [--national path/to/soc-correlator]

Never run by `make test`.  Needs a soc-correlator with the national role.
"""
import argparse
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RULE = """title: Bench failed login
id: 22222222-2222-4333-8444-555555555555
status: stable
level: high
logsource:
  product: linux
  service: sshd
detection:
  sel:
    event.action: ssh_login
    event.outcome: failure
  condition: sel
"""


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


def write_log(path, net, n):
    with open(path, "w") as f:
        for i in range(n):
            ip = f"{net}.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
            f.write(f"Nov 27 10:00:00 gw sshd[1]: Failed password for root from "
                    f"{ip} port 1 ssh2\n")


def pending(db):
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute("select count(*) from outbox where acked_at is null").fetchone()[0]
    finally:
        con.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--n", type=int, default=50000)
    ap.add_argument("--rate", type=int, default=10000,
                    help="incidents/s in the healthy phase")
    ap.add_argument("--national")
    a = ap.parse_args()
    corr = os.path.join(a.build, "correlator", "soc-correlator")
    ctl = os.path.join(a.build, "correlator", "socctl")
    sensor = os.path.join(a.build, "sensor", "soc-sensor")
    national = a.national or corr
    nctl = os.path.join(os.path.dirname(national), "socctl")
    tmp = tempfile.mkdtemp(prefix="soc-bench-fwd-")
    pdb, ndb = os.path.join(tmp, "p.db"), os.path.join(tmp, "n.db")
    k = lambda n: os.path.join(tmp, n)
    run = lambda *c: subprocess.run(c, check=True, capture_output=True)
    for n in ("prov", "nat", "gw"):
        run(ctl, "--db", pdb, "keygen", "--out", k(n))
    run(ctl, "--db", pdb, "agency", "add", "a1", "--name", "A1")
    run(ctl, "--db", pdb, "sensor", "enroll", "gw", "--agency", "a1", "--key", k("gw.pub"))
    run(nctl, "--db", ndb, "agency", "add", "prov", "--name", "Province")
    run(nctl, "--db", ndb, "sensor", "enroll", "prov-soc", "--agency", "prov",
        "--key", k("prov.pub"))
    rules = os.path.join(tmp, "rules")
    os.mkdir(rules)
    shutil.copy(os.path.join(HERE, "..", "rules", "mapping.yml"), rules)
    with open(os.path.join(rules, "r.yml"), "w") as f:
        f.write(RULE)
    pport, nport = free_port(), free_port()
    log = open(os.path.join(tmp, "daemons.err"), "w")
    nat_cmd = [national, "--db", ndb, "--rules", rules, "--key", k("nat.key"),
               "--bind", f"tcp://127.0.0.1:{nport}"]
    prov = subprocess.Popen([corr, "--db", pdb, "--rules", rules, "--key", k("prov.key"),
                             "--bind", f"tcp://127.0.0.1:{pport}", "--forward",
                             f"tcp://127.0.0.1:{nport}", "--forward-server-key",
                             k("nat.pub"), "--forward-name", "prov-soc"],
                            stdout=log, stderr=log)
    nat = None
    try:
        wait_port(pport)

        def send(net):
            path = os.path.join(tmp, f"{net}.log")
            write_log(path, net, a.n)
            t = time.time()
            run(sensor, "--connect", f"tcp://127.0.0.1:{pport}", "--server-key",
                k("prov.pub"), "--key", k("gw.key"), "--log-file", path, "--once")
            return time.time() - t

        t_in = send(11)
        print(f"raised {a.n} incidents in {t_in:.1f}s ({a.n / t_in:.0f}/s, national down)")
        nat = subprocess.Popen(nat_cmd, stdout=log, stderr=log)
        t0 = time.time()
        while pending(pdb) > 0 and time.time() - t0 < 600:
            time.sleep(0.05)
        dt = time.time() - t0
        # from the databases, not this loop's polling: the national side
        # starts its first batch (incidents.created_at, the batch's clock)
        # once the forwarder reconnected; the last ack is written after
        # the last national commit
        con = sqlite3.connect(pdb, timeout=30)
        con.execute(f"attach '{ndb}' as n")
        first, last = con.execute(
            "select (select min(created_at) from n.incidents),"
            " (select max(acked_at) from outbox)").fetchone()
        con.close()
        link = first / 1e9 - t0
        busy = (last - first) / 1e9
        print(f"drain: {a.n} alerts outbox -> national commit in {dt:.2f}s after "
              f"the national start ({a.n / dt:.0f} alerts/s); link up after "
              f"{link:.2f}s (reconnect backoff), then {busy:.2f}s: "
              f"{a.n / busy:.0f} alerts/s (target >= 20000)")

        # healthy: a sensor follows a log written at --rate lines/s
        path = os.path.join(tmp, "12.log")
        open(path, "w").close()
        sen = subprocess.Popen([sensor, "--connect", f"tcp://127.0.0.1:{pport}",
                                "--server-key", k("prov.pub"), "--key", k("gw.key"),
                                "--log-file", path], stdout=log, stderr=log)
        time.sleep(1)
        t0, i = time.time(), 0
        with open(path, "a") as f:
            while i < a.n:
                due = int((time.time() - t0) * a.rate)
                while i < min(due, a.n):
                    f.write(f"Nov 27 10:00:00 gw sshd[1]: Failed password for root from "
                            f"12.{i // 65536 % 256}.{i // 256 % 256}.{i % 256} port 1 ssh2\n")
                    i += 1
                f.flush()
                time.sleep(0.01)
        while time.time() - t0 < 600:
            con = sqlite3.connect(pdb, timeout=30)
            got = con.execute("select count(*) from incidents where group_key like "
                              "'source.ip=12.%'").fetchone()[0]
            con.close()
            if got >= a.n and pending(pdb) == 0:
                break
            time.sleep(0.05)
        sen.terminate()
        sen.wait(30)
        con = sqlite3.connect(pdb)
        con.execute(f"attach '{ndb}' as n")
        d = [r[0] / 1e9 for r in con.execute(
            "select n.incidents.updated_at - o.created_at from outbox o join "
            "n.incidents on n.incidents.origin_incident = o.incident_id and "
            "n.incidents.origin_name = 'prov-soc' join incidents i on i.id = o.incident_id "
            "where o.revision = 1 and i.group_key like 'source.ip=12.%'")]
        con.close()
        d.sort()
        if not d:
            sys.exit("no delays measured (does the national binary have the national role?)")
        p = lambda q: d[min(len(d) - 1, int(q * len(d)))]
        print(f"healthy at {a.rate}/s: {len(d)} alerts, delay incident commit -> national commit "
              f"p50 {p(0.5):.3f}s p99 {p(0.99):.3f}s max {d[-1]:.3f}s (target p99 < 2s)")
        st = json.loads(subprocess.run([ctl, "--db", pdb, "forward", "status", "--json"],
                                       capture_output=True, text=True).stdout)
        print(f"forward status: sent {st['sent']} acked {st['acked']} dropped {st['dropped']}")
    finally:
        for p in (prov, nat):
            if p is not None:
                p.terminate()
                p.wait(30)
    if not os.environ.get("KEEP"): shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
