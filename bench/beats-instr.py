#!/usr/bin/env python3
"""bench/beats-instr: instructions per Winlogbeat event, counted by
callgrind, so two builds can be compared on a machine whose load moves
the times (bench/beats-e2e.py's figures) by more than a change does.

- sensor: `soc-sensor -o null` with `beats.listen` (no workers) under
  callgrind; --windows windows of 2,048 of bench/beats-e2e.py's
  Winlogbeat-shaped Sysmon events (compressed), each acked before the
  next; the whole run's instructions over the events (start-up
  included: a few per cent).
- correlator: a real correlator (shipped rules) under callgrind fed by
  a real sensor (native) over ZeroMQ/CURVE; run twice, with 2 and with
  2 + --windows windows, and the difference taken, so start-up (the
  rules' compilation) drops out.  Under callgrind the correlator is
  slow, so its groups commit fewer events each than in a native run:
  SQLite's share is larger here than there.  With --sshd, the same
  for bench/e2e's sshd lines (the peer the Beats rate is held to).

usage: beats-instr.py [--build DIR] [--base DIR] [--windows N] [--sshd]
Needs valgrind.  Never in `make test`.
"""
import argparse
import importlib.util
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import e2e  # noqa: E402

spec = importlib.util.spec_from_file_location(
    "beats_e2e", os.path.join(HERE, "beats-e2e.py"))
be = importlib.util.module_from_spec(spec)
spec.loader.exec_module(be)

SRC = e2e.SRC
WIN = 2048


def total_ir(out):
    text = subprocess.run(["callgrind_annotate", out], capture_output=True,
                          text=True).stdout
    m = re.search(r"([0-9,]+) \(100\.0%\)\s+PROGRAM TOTALS", text)
    return int(m[1].replace(",", "")) if m else None


def connect(port, proc):
    end = time.time() + 900	# valgrind compiling the rules, on a busy machine
    while time.time() < end:
        try:
            return socket.create_connection(("127.0.0.1", port))
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("the process exited")
            time.sleep(0.1)
    raise RuntimeError("no listener")


def send_windows(s, n):
    r = random.Random(7)
    for k in range(n):
        s.sendall(be.build_window(WIN, k * WIN, r))
        be.read_ack(s, WIN)


def sensor_ir(build, tmp, nwin):
    port = be.free_port()
    cfg = os.path.join(tmp, "null.yml")
    with open(cfg, "w") as f:
        f.write(f"name: gw1\nbeats:\n  listen: 127.0.0.1:{port}\n"
                f"  workers: 0\n")
    out = os.path.join(tmp, "sensor.cg")
    p = subprocess.Popen(["valgrind", "--tool=callgrind",
                          f"--callgrind-out-file={out}",
                          os.path.join(build, "sensor", "soc-sensor"), "-c",
                          cfg, "-o", "null"], stderr=subprocess.DEVNULL)
    s = connect(port, p)
    send_windows(s, nwin)
    s.close()
    p.send_signal(signal.SIGTERM)
    p.wait()
    return total_ir(out) / (nwin * WIN)


def correlator_run(build, tmp, nwin, sshd):
    d = tempfile.mkdtemp(dir=tmp)
    out = os.path.join(d, "corr.cg")
    s = e2e.Setup(build, d, os.path.join(SRC, "rules"),
                  prefix=("valgrind", "--tool=callgrind",
                          f"--callgrind-out-file={out}"),
                  wait_s=900)	# valgrind compiling the rules
    n = nwin * WIN
    bport = be.free_port()
    conf = os.path.join(d, "gw1.yml")
    if sshd:
        log = os.path.join(d, "auth.log")
        e2e.write_log(log, n)
        intake = f"logs:\n  files: [{log}]\n"
    else:
        intake = f"beats:\n  listen: 127.0.0.1:{bport}\n"
    with open(conf, "w") as f:
        f.write(f"name: gw1\nconnect: tcp://127.0.0.1:{s.port}\n"
                f"server_key: {d}/correlator.pub\nkey: {d}/gw1.key\n"
                + intake + "uplink:\n  batch_events: 1000\n  batch_ms: 20\n"
                "  queue_batches: 256\n  ack_timeout_ms: 600000\n"
                "  drain_timeout_s: 600\n")
    sensor = os.path.join(build, "sensor", "soc-sensor")
    if sshd:
        subprocess.run([sensor, "-c", conf, "--once"], check=True,
                       capture_output=True)
    else:
        p = subprocess.Popen([sensor, "-c", conf], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        c = connect(bport, p)
        send_windows(c, nwin)
        c.close()
        p.terminate()
        p.wait()
    con = sqlite3.connect(s.db)
    got = e2e.received(con, "gw1")
    con.close()
    s.corr.send_signal(signal.SIGTERM)
    s.corr.wait()
    if got != n:
        raise RuntimeError(f"correlator stored {got} of {n}")
    return total_ir(out)


def correlator_ir(build, tmp, nwin, sshd):
    small = correlator_run(build, tmp, 2, sshd)
    big = correlator_run(build, tmp, 2 + nwin, sshd)
    return (big - small) / (nwin * WIN)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--base", help="another build to compare with")
    ap.add_argument("--windows", type=int, default=8)
    ap.add_argument("--sshd", action="store_true",
                    help="also the correlator on bench/e2e's sshd lines")
    a = ap.parse_args()
    if shutil.which("valgrind") is None:
        print("bench/beats-instr: valgrind is not installed", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="soc-bench-beats-instr.")
    try:
        builds = [("base", a.base)] if a.base else []
        builds.append(("build", a.build))
        res = {}
        for tag, b in builds:
            b = os.path.abspath(b)
            si = sensor_ir(b, tmp, a.windows)
            print(f"  {tag} ({b}): instructions per Winlogbeat event: "
                  f"sensor {si:,.0f} (-o null)", flush=True)
            ci = correlator_ir(b, tmp, a.windows, False)
            print(f"  {tag}: instructions per Winlogbeat event: correlator "
                  f"{ci:,.0f}", flush=True)
            res[tag] = (si, ci)
            if a.sshd:
                print(f"  {tag}: instructions per sshd line: correlator "
                      f"{correlator_ir(b, tmp, a.windows, True):,.0f}",
                      flush=True)
        if a.base:
            (bs, bc), (ns, nc) = res["base"], res["build"]
            print(f"  build over base: sensor {100 * ns / bs:.0f}%, "
                  f"correlator {100 * nc / bc:.0f}%")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
