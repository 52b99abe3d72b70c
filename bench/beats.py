#!/usr/bin/env python3
"""Events/s through the sensor's Beats server (not in make test).

    bench/beats.py [--build build] [--events N] [--conns C] [--window W]
                   [--idle K] [--plain] [--output null|json]

Starts soc-sensor -o null with beats.listen on loopback, opens K idle
connections (agents connected but quiet), then C client threads each
send compressed windows of W Winlogbeat-shaped events (as Winlogbeat
does: one 'W' frame, one zlib 'C' frame), waiting for each ACK before
the next window, until N events are acked.  Prints events/s from the
first send to the last ack, the sensor's beats_events counter (must
equal N: zero loss) and its peak RSS.  The windows are built before the
clock starts, so the figure is the server's, not Python's.
"""
import argparse
import json
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib


def winlog(i):
    return {
        "@timestamp": "2026-12-07T01:02:03.123456Z",
        "agent": {"type": "winlogbeat", "version": "8.11.0"},
        "ecs": {"version": "8.0.0"},
        "event": {"code": "4688", "kind": "event", "action": "Process Creation",
                  "outcome": "success", "provider": "Microsoft-Windows-Security-Auditing"},
        "host": {"hostname": f"ws-{i % 997:03d}", "name": f"ws-{i % 997:03d}.so.local"},
        "log": {"level": "information"},
        "process": {"pid": 4000 + i % 5000, "name": "powershell.exe",
                    "command_line": f"powershell.exe -NoProfile -File C:\\\\s\\\\{i}.ps1"},
        "user": {"name": f"user{i % 300}"},
        "winlog": {"channel": "Security", "event_id": 4688, "record_id": 100000 + i,
                   "computer_name": f"ws-{i % 997:03d}",
                   "event_data": {"NewProcessName": "C:\\Windows\\System32\\powershell.exe",
                                  "SubjectUserName": f"user{i % 300}",
                                  "TokenElevationType": "%%1936"}},
        "message": f"A new process has been created. bench-{i}",
    }


def build_window(w, base, compress):
    frames = b""
    for i in range(w):
        d = json.dumps(winlog(base + i)).encode()
        frames += b"2J" + struct.pack(">II", i + 1, len(d)) + d
    head = b"2W" + struct.pack(">I", w)
    if not compress:
        return head + frames
    z = zlib.compress(frames, 3)
    return head + b"2C" + struct.pack(">I", len(z)) + z


def wait_ack(s, want):
    buf = b""
    while len(buf) < 6:
        d = s.recv(64)
        if not d:
            raise RuntimeError("connection closed")
        buf += d
    seq = struct.unpack(">I", buf[2:6])[0]
    if buf[:2] != b"2A" or seq != want:
        raise RuntimeError(f"bad ack {buf!r}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--events", type=int, default=1000000)
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--window", type=int, default=2048)
    ap.add_argument("--idle", type=int, default=0)
    ap.add_argument("--plain", action="store_true", help="no 'C' frames")
    ap.add_argument("--output", default="null")
    a = ap.parse_args()
    sensor = os.path.join(a.build, "sensor", "soc-sensor")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    tmp = tempfile.mkdtemp(prefix="soc-bench-beats-")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    cfg = os.path.join(tmp, "s.yml")
    with open(cfg, "w") as f:
        f.write(f"name: bench\nbeats:\n  listen: 127.0.0.1:{port}\n"
                f"  max_connections: {a.idle + a.conns + 16}\n  idle_s: 0\n")
    err = open(os.path.join(tmp, "err"), "w+")
    out = open(os.devnull, "w")
    p = subprocess.Popen([sensor, "-c", cfg, "-o", a.output], stdout=out, stderr=err)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    idle = []
    for _ in range(a.idle):
        idle.append(socket.create_connection(("127.0.0.1", port)))
    per = a.events // (a.conns * a.window)
    windows = [build_window(a.window, k * 100000, not a.plain) for k in range(4)]
    total = per * a.conns * a.window
    errors = []

    def client(k):
        try:
            c = socket.create_connection(("127.0.0.1", port))
            for i in range(per):
                c.sendall(windows[(k + i) % len(windows)])
                wait_ack(c, a.window)
            c.close()
        except Exception as e:      # reported below
            errors.append(str(e))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(a.conns)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.time() - t0
    rss = 0
    try:
        with open(f"/proc/{p.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    rss = int(line.split()[1]) // 1024
    except OSError:
        pass
    cpu = 0.0
    try:
        with open(f"/proc/{p.pid}/stat") as f:
            st = f.read().rsplit(")", 1)[1].split()
        cpu = (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        pass
    for c in idle:
        c.close()
    p.send_signal(signal.SIGTERM)
    p.wait(30)
    err.seek(0)
    text = err.read()
    got = 0
    for line in text.splitlines():
        if "counters:" in line:
            for part in line.split("counters:", 1)[1].split(","):
                k, _, v = part.strip().partition(" ")
                if k == "beats_events":
                    got = int(v)
    print(f"beats: {total} events ({a.conns} clients, windows of {a.window}, "
          f"{'plain' if a.plain else 'compressed'}, {a.idle} idle agents) in "
          f"{dt:.2f} s: {total / dt:,.0f} events/s; sensor counted {got}; "
          f"peak RSS {rss} MiB; sensor CPU {cpu:.2f} s = "
          f"{total / cpu if cpu else 0:,.0f} events per CPU-second; "
          f"errors {len(errors)} {errors[:2]}")
    return 0 if got == total and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
