#!/usr/bin/env python3
"""The Beats clients' shared buffer budget (beats.max_buffer_mb, issue 17)
on the real sensor binary:

- 40 clients each send 90% of one window in one compressed frame of about
  170 KiB (values that compress little), all of them before any sends the
  rest: without a budget the sensor would hold 40 frames in part (10 MiB
  of buffers).  With beats.max_buffer_mb: 1 the buffers the sensor holds
  (beats_buffer_bytes, logged on SIGUSR1) stay under the budget plus one
  frame, and clients were paused for it (beats_buffer_waits).
- Then every client sends the rest: each window is acked, every event of
  every window is output exactly once (back-pressure never drops), no
  client is refused or closed, and the buffers are all given back.
"""
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

from soctest import SENSOR, check, counts, done, free_port, \
    sanitizer_clean, stop, wait_port

CLIENTS = 40
EVENTS = 30		# per window
PAD = 10000		# random hex bytes per event: a frame of ~170 KiB
BUDGET_MB = 1


def window(k, rnd):
    frames = b""
    for i in range(EVENTS):
        d = json.dumps({"message": f"c{k}-e{i}",
                        "labels": {"pad": f"{rnd.getrandbits(PAD * 4):0{PAD}x}"}}).encode()
        frames += b"2J" + struct.pack(">II", i + 1, len(d)) + d
    z = zlib.compress(frames, 1)
    return b"2W" + struct.pack(">I", EVENTS) + b"2C" + \
        struct.pack(">I", len(z)) + z


def counters(errpath, before):
    """The counters of the first "counters:" line after `before` bytes
    (those at 0 are not logged)."""
    with open(errpath) as f:
        f.seek(before)
        text = f.read()
    for line in text.splitlines():
        if "counters:" in line:
            out = {}
            for part in line.split("counters:", 1)[1].split(","):
                k, _, v = part.strip().partition(" ")
                if v.strip().isdigit():
                    out[k] = int(v)
            return out
    return None


def usr1(proc, errpath):
    before = os.path.getsize(errpath)
    proc.send_signal(signal.SIGUSR1)
    end = time.time() + 20
    while time.time() < end:
        c = counters(errpath, before)
        if c is not None:
            return c
        time.sleep(0.05)
    return {}


def read_ack(s, want, timeout=60):
    buf = b""
    end = time.time() + timeout
    try:
        while time.time() < end:
            while len(buf) >= 6:
                seq = struct.unpack(">I", buf[2:6])[0]
                if buf[:2] != b"2A":
                    return False
                buf = buf[6:]
                if seq == want:
                    return True
            s.settimeout(max(end - time.time(), 0.01))
            d = s.recv(64)
            if not d:
                return False
            buf += d
    except OSError:
        pass
    return False


def main():
    if not os.access(SENSOR, os.X_OK):
        print(f"{SENSOR} not built", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="soc-beats-budget-")
    port = free_port()
    cfg = os.path.join(tmp, "s.yml")
    with open(cfg, "w") as f:
        f.write(f"name: gw1\nbeats:\n  listen: 127.0.0.1:{port}\n"
                f"  max_buffer_mb: {BUDGET_MB}\n  idle_s: 0\n")
    out = os.path.join(tmp, "out.jsonl")
    errpath = os.path.join(tmp, "err.txt")
    proc = subprocess.Popen([SENSOR, "-c", cfg, "-o", "json"],
                            stdout=open(out, "w"), stderr=open(errpath, "w"))
    err = ""
    try:
        check(wait_port(port, proc), "the sensor listens")
        rnd = random.Random(17)
        wins = [window(k, rnd) for k in range(CLIENTS)]
        frame = len(wins[0])
        socks = [socket.create_connection(("127.0.0.1", port), 10)
                 for _ in range(CLIENTS)]
        # 90% of every window before any sends the rest (a client the
        # sensor does not read blocks in sendall: its own thread)
        cut = frame * 9 // 10

        def part(k):
            try:
                socks[k].sendall(wins[k][:cut])
            except OSError:
                pass
        th = [threading.Thread(target=part, args=(k,)) for k in range(CLIENTS)]
        for t in th:
            t.start()
        # until the sensor has read what it will read
        last, stable, c = -1, 0, {}
        end = time.time() + 60
        while time.time() < end and stable < 4:
            c = usr1(proc, errpath)
            now = (c.get("beats_buffer_bytes", 0), c.get("beats_buffer_waits", 0))
            stable = stable + 1 if now == last else 0
            last = now
            time.sleep(0.2)
        held = c.get("beats_buffer_bytes", -1)
        bound = BUDGET_MB << 20
        # one client may pass the budget by the one buffer it grows
        one = 1 << (frame + 16 - 1).bit_length()
        check(0 < held <= bound + one,
              f"buffers held with {CLIENTS} clients mid-frame: {held} bytes, "
              f"at most {bound} + {one} (a {frame}-byte frame each; "
              f"{CLIENTS * frame} without a budget)")
        check(c.get("beats_buffer_waits", 0) > 0,
              f"clients were paused for the budget: {c.get('beats_buffer_waits')}")
        check(c.get("beats_events", -1) < CLIENTS * EVENTS,
              "no window is whole yet")

        # the rest: every window acked, every event output once
        def rest(k):
            try:
                socks[k].sendall(wins[k][cut:])
            except OSError:
                pass
        for t in th:
            t.join(120)
        th2 = [threading.Thread(target=rest, args=(k,)) for k in range(CLIENTS)]
        for t in th2:
            t.start()
        acked = [read_ack(socks[k], EVENTS, 120) for k in range(CLIENTS)]
        for t in th2:
            t.join(120)
        check(all(acked), f"every window acked: {acked.count(False)} not")
        c = usr1(proc, errpath)
        # the log leaves out counters at 0
        check(c and c.get("beats_buffer_bytes", 0) == 0,
              f"the buffers are given back: {c.get('beats_buffer_bytes')}")
        check(c.get("beats_events", -1) == CLIENTS * EVENTS,
              f"beats_events {c.get('beats_events')}, want {CLIENTS * EVENTS}")
        refused = {k: v for k, v in c.items()
                   if k.startswith("beats_refused_") and v}
        check(not refused, f"no client refused: {refused}")
        for s in socks:
            s.close()
    finally:
        rc = stop(proc)
        with open(errpath) as f:
            err = f.read()
        sanitizer_clean(err, "sensor")
        check(rc == 0, f"sensor exits 0 on SIGTERM, got {rc}")
    got = []
    with open(out) as f:
        for line in f:
            if line.endswith("\n"):
                got.append(json.loads(line).get("message", ""))
    want = {f"c{k}-e{i}" for k in range(CLIENTS) for i in range(EVENTS)}
    dups = len(got) - len(set(got))
    check(set(got) == want and dups == 0,
          f"every event once: {len(want - set(got))} lost, {dups} twice")
    if counts["failed"]:
        print(err[-3000:], file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
