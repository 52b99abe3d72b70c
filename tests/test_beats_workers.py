#!/usr/bin/env python3
"""The Beats server's worker threads (beats.workers, issue 17), on the real
sensor binary with -o json:

- many: 24 clients at once, from 24 threads, each sending compressed and
  plain windows, some pipelined, some of Winlogbeat documents, one of
  them larger than a worker encodes (4 MiB: the main thread reads the
  rest of the frame): every event arrives exactly once, each client's
  events in its order, every window acked in order.  The same with
  beats.workers 0 gives the same events.
- refusals inside a compressed frame read by a worker, as without one:
  bad JSON in the middle of a window (the events before it are kept, the
  connection closed unacked, counted as json), an event the reader
  refuses (skipped, counted), a frame whose Adler-32 check is wrong
  (refused as zlib: the check is still made).
- a client that sends a large compressed window and closes at once,
  while a worker holds its frame: the sensor goes on serving the others
  (and under ASan, no use after free).
- clients that send a compressed window and reset the connection
  (SO_LINGER 0) while a worker may hold it, from 6 threads at once: the
  hang-up is reported in the same epoll batch as the worker's "done", and
  the collected client must not be used after it is freed (under ASan:
  no report; the sensor serves a client after it).
"""
import json
import os
import random
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soctest import check, counts, done, free_port, wait_port  # noqa: E402
from test_beats import (WINLOG, Client, Sensor, exactly_once, frame_c,  # noqa: E402
                        frame_j, frame_w, wait_until, write_cfg)

CLIENTS = 24


def big_window(tag, n, size):
    """A compressed window of n events of about size bytes each."""
    pad = "x" * size
    frames = b"".join(frame_j(i + 1, {"message": f"{tag}-{i:05d}",
                                      "process": {"command_line": pad}})
                      for i in range(n))
    return frame_w(n) + frame_c(frames), [f"{tag}-{i:05d}" for i in range(n)]


def client_plan(k):
    """What client k sends: (bytes, acks expected, messages in order)."""
    steps = []
    for w in range(6):
        n = 20 + 37 * ((k + w) % 5)
        msgs = [f"m{k:02d}-{w}-{i:04d}" for i in range(n)]
        if w == 3:	# Winlogbeat documents
            frames = b"".join(frame_j(i + 1, dict(WINLOG, message=m))
                              for i, m in enumerate(msgs))
        else:
            frames = b"".join(frame_j(i + 1, {"message": m})
                              for i, m in enumerate(msgs))
        compress = w != 2
        steps.append((frame_w(n) + (frame_c(frames) if compress else frames),
                      [n], msgs))
    # three windows pipelined, in one send
    data, acks, msgs = b"", [], []
    for w in range(3):
        n = 5 + w
        mm = [f"m{k:02d}-p{w}-{i}" for i in range(n)]
        f = b"".join(frame_j(i + 1, {"message": m}) for i, m in enumerate(mm))
        data += frame_w(n) + frame_c(f)
        acks.append(n)
        msgs += mm
    steps.append((data, acks, msgs))
    if k == 0:	# more than a worker encodes: the rest on the main thread
        data, mm = big_window(f"m{k:02d}-big", 6000, 900)
        steps.append((data, [6000], mm))
    return steps


def run_many(tmp, port, workers):
    cfg = write_cfg(tmp, f"many{workers}.yml", f"""name: gw1
beats:
  listen: 127.0.0.1:{port}
  workers: {workers}
""")
    s = Sensor(tmp, cfg)
    plans = [client_plan(k) for k in range(CLIENTS)]
    bad = []

    def client(k):
        try:
            c = Client(port)
            for data, acks, _ in plans[k]:
                c.send(data, piece=65536)
                got = c.acks(len(acks), timeout=120)
                if got != acks:
                    bad.append(f"client {k}: acks {got}, want {acks}")
                    break
            c.close()
        except Exception as e:	# reported below
            bad.append(f"client {k}: {e}")

    want = [m for p in plans for st in p for m in st[2]]
    try:
        check(wait_port(port, s.proc), "sensor listens on beats.listen")
        th = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
        for t in th:
            t.start()
        for t in th:
            t.join()
        check(not bad, f"workers {workers}: every window acked in order: {bad[:3]}")
        wait_until(lambda: len(s.messages("m")) >= len(want), timeout=60)
    finally:
        s.stop()
    got = s.messages("m")
    exactly_once(got, want, f"workers {workers}: events of {CLIENTS} clients")
    for k in range(CLIENTS):
        mine = [m for m in got if m.startswith(f"m{k:02d}-")]
        order = [m for st in plans[k] for m in st[2]]
        if not check(mine == order, f"workers {workers}: client {k}'s events "
                     f"in its order"):
            break
    check(s.counter("beats_events") == len(want),
          f"beats_events {s.counter('beats_events')} == {len(want)}")
    w = [e for e in s.events() if e.get("message") == "m05-3-0000"]
    check(len(w) == 1 and w[0].get("process", {}).get("pid") == 4242 and
          w[0].get("observer", {}).get("name") == "gw1" and
          w[0].get("soc", {}).get("log", {}).get("source", {}).get("address")
          == "127.0.0.1",
          f"workers {workers}: a Winlogbeat event read whole, with the "
          f"observer and the Beat's address: {w[:1]}")
    # the time of receipt (events without a @timestamp of their own) aside
    return sorted(json.dumps(dict(e, **{"@timestamp": None}), sort_keys=True)
                  for e in s.events() if e.get("message", "").startswith("m"))


def test_refusals(tmp, port):
    cfg = write_cfg(tmp, "refuse.yml", f"""name: gw1
beats:
  listen: 127.0.0.1:{port}
  workers: 2
""")
    s = Sensor(tmp, cfg)
    try:
        check(wait_port(port, s.proc), "sensor listens on beats.listen")
        # bad JSON as the 4th of 6 in a compressed window
        frames = b"".join(frame_j(i + 1, {"message": f"rj-{i}"}) for i in range(3))
        frames += frame_j(4, b'{"message": "rj-3", ')
        frames += b"".join(frame_j(i + 1, {"message": f"rj-{i}"}) for i in range(4, 6))
        c = Client(port)
        c.send(frame_w(6) + frame_c(frames))
        check(c.closed(), "bad JSON in a compressed window: connection closed")
        check(c.acks(1, timeout=1) == [], "... without an ack")
        # an event the reader refuses, skipped; the window is acked
        frames = b"".join(frame_j(i + 1, {"message": f"rs-{i}"}) for i in range(2))
        frames += frame_j(3, {"message": "rs-bad", "process": {"pid": "many"}})
        c = Client(port)
        c.send(frame_w(3) + frame_c(frames))
        check(c.acks(1) == [3], "a window with an event refused is acked")
        c.close()
        # a wrong Adler-32: refused as zlib
        frames = b"".join(frame_j(i + 1, {"message": f"rz-{i}"}) for i in range(4))
        z = bytearray(zlib.compress(frames))
        z[-1] ^= 0x01
        c2 = Client(port)
        c2.send(frame_w(4) + b"2C" + struct.pack(">I", len(z)) + bytes(z))
        check(c2.closed(), "a wrong zlib check: connection closed")
        # a big window sent, the client gone before its ack
        data, _ = big_window("rg", 3000, 400)
        g = Client(port)
        g.send(data)
        g.close()
        # still serving
        c3 = Client(port)
        c3.send(frame_w(2) + frame_c(b"".join(frame_j(i + 1, {"message": f"ro-{i}"})
                                              for i in range(2))))
        check(c3.acks(1) == [2], "the sensor serves a client after all that")
        c3.close()
        wait_until(lambda: len(s.messages("ro-")) == 2)
    finally:
        s.stop()
    check(s.messages("rj-") == ["rj-0", "rj-1", "rj-2"],
          f"the events before bad JSON are kept: {s.messages('rj-')}")
    check(s.messages("rs-") == ["rs-0", "rs-1"], "the refused event is skipped")
    check(s.messages("rz-") == [], "nothing of a frame with a wrong check")
    check(s.counter("beats_refused_json") == 1, "refused json counted")
    check(s.counter("beats_refused_event") == 1, "refused event counted")
    check(s.counter("beats_refused_zlib") == 1, "refused zlib counted")


def test_resets(tmp, port):
    cfg = write_cfg(tmp, "resets.yml", f"""name: gw1
beats:
  listen: 127.0.0.1:{port}
  workers: 2
""")
    s = Sensor(tmp, cfg)
    pad = "x" * 900
    frames = b"".join(frame_j(i + 1, {"message": f"rr-{i}",
                                      "process": {"command_line": pad}})
                      for i in range(200))
    data = frame_w(200) + frame_c(frames)

    def storm(t):
        rnd = random.Random(t)
        for _ in range(60):
            try:
                c = socket.create_connection(("127.0.0.1", port))
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
                c.sendall(data)
                time.sleep(rnd.random() * 0.02)
                c.close()       # a reset, not a FIN
            except OSError:
                pass
    try:
        check(wait_port(port, s.proc), "sensor listens on beats.listen")
        ths = [threading.Thread(target=storm, args=(t,)) for t in range(6)]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        check(s.proc.poll() is None, "the sensor lives through 360 resets")
        c = Client(port)
        c.send(frame_w(1) + frame_c(frame_j(1, {"message": "ra-0"})))
        check(c.acks(1) == [1], "the sensor serves a client after the resets")
        c.close()
    finally:
        s.stop()        # under ASan: no use after free reported


def main():
    tmp = tempfile.mkdtemp(prefix="soc-beats-workers-")
    try:
        with_workers = run_many(tmp, free_port(), 3)
        without = run_many(tmp, free_port(), 0)
        check(with_workers == without, "the same events with workers as "
              "without (timestamps aside, none differ)")
        test_refusals(tmp, free_port())
        test_resets(tmp, free_port())
    finally:
        if counts["failed"]:
            for name in sorted(os.listdir(tmp)):
                if name.startswith("err"):
                    with open(os.path.join(tmp, name)) as f:
                        print(f"--- {name}\n" + f.read()[-3000:], file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
