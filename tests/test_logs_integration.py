#!/usr/bin/env python3
"""Log intake on the real sensor binary: the syslog server and file
following, checked in its JSON output (-o json).

- Syslog: lines sent over UDP, over TCP with newline framing, with octet
  counting (RFC 6587) and both mixed on one connection, arrive exactly
  once each, with soc.log.source.address = 127.0.0.1; an over-long
  message is cut, not lost, and the next one still arrives.
- Files: a followed file is appended to, rotated by rename-and-create
  (with late writes to the old file) and by copytruncate (rewritten past
  the old offset before the sensor looks), a file matching a glob appears
  later; the sensor is killed with SIGKILL between appends and restarted
  with the same state file, once after the file was rotated while it was
  down.  Every line must be in the union of the outputs exactly once.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from soctest import (SENSOR, TIME_SCALE, check, counts, done, free_port, sanitizer_clean,
                     wait_port, wait_until)


class Sensor:
    """One run of the sensor; its JSON lines go to a file of its own."""

    runs = 0

    def __init__(self, tmp, cfg):
        Sensor.runs += 1
        self.out = os.path.join(tmp, f"out{Sensor.runs}.jsonl")
        self.errpath = os.path.join(tmp, f"err{Sensor.runs}.txt")
        self.proc = subprocess.Popen([SENSOR, "-c", cfg, "-o", "json"],
                                     stdout=open(self.out, "w"),
                                     stderr=open(self.errpath, "w"))

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(30 * TIME_SCALE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        with open(self.errpath) as f:
            self.err = f.read()
        if sig != signal.SIGKILL:
            sanitizer_clean(self.err, "sensor")
            check(rc == 0, f"sensor exits 0 on SIGTERM, got {rc}")
        return rc


def events(tmp):
    """Every event printed by every run so far (partial last lines skipped)."""
    evs = []
    for name in sorted(os.listdir(tmp)):
        if not (name.startswith("out") and name.endswith(".jsonl")):
            continue
        with open(os.path.join(tmp, name), errors="replace") as f:
            for line in f:
                if line.endswith("\n"):
                    evs.append(json.loads(line))
    return evs


def messages(tmp, prefix):
    return [e.get("message", "") for e in events(tmp)
            if e.get("message", "").startswith(prefix)]


def wait_for(tmp, prefix, want, timeout=20):
    """Wait until at least `want` messages with prefix have been printed."""
    end = time.monotonic() + timeout * TIME_SCALE
    while time.monotonic() < end:
        if len(messages(tmp, prefix)) >= want:
            break
        time.sleep(0.1)
    time.sleep(0.4)     # a duplicate, if any, has time to show up
    return messages(tmp, prefix)


def exactly_once(got, want, what):
    missing = sorted(set(want) - set(got))
    dups = sorted({m for m in got if got.count(m) > 1})
    extra = sorted(set(got) - set(want))
    check(not missing, f"{what}: {len(missing)} lost, e.g. {missing[:3]}")
    check(not dups, f"{what}: {len(dups)} duplicated, e.g. {dups[:3]}")
    check(not extra, f"{what}: unexpected {extra[:3]}")


def append(path, first, last, tag="f"):
    with open(path, "a") as f:
        for i in range(first, last):
            f.write(f"{tag}-line-{i:05d} payload\n")
    return [f"{tag}-line-{i:05d} payload" for i in range(first, last)]


def state_caught_up(state, path, timeout=20):
    """Wait until the state file records the whole of path as read."""
    end = time.monotonic() + timeout * TIME_SCALE
    while time.monotonic() < end:
        try:
            st = os.stat(path)
            with open(state) as f:
                for line in f:
                    if line.startswith("#"):
                        continue
                    ino, _fp, off, p = line.rstrip("\n").split(" ", 3)
                    if int(ino) == st.st_ino and int(off) == st.st_size:
                        return True
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    return False


def test_syslog(tmp, cfg, udp_port, tcp_port):
    s = Sensor(tmp, cfg)
    try:
        check(wait_port(tcp_port, s.proc), "sensor listens on the syslog TCP port")
        want = []
        # UDP: one message per datagram
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(200):
            m = f"udp-msg-{i:04d}"
            want.append(m)
            u.sendto(f"<13>Nov 27 10:00:00 gw1 app[7]: {m}\n".encode(), ("127.0.0.1", udp_port))
            if i % 50 == 49:
                time.sleep(0.05)
        u.sendto(b"udp-raw no header", ("127.0.0.1", udp_port))
        u.close()
        # TCP, newline framing, written in odd-sized pieces
        c = socket.create_connection(("127.0.0.1", tcp_port))
        data = b""
        for i in range(300):
            m = f"tcpnl-msg-{i:04d}"
            want.append(m)
            data += f"<13>Nov 27 10:00:00 gw1 app: {m}\r\n".encode()
        for k in range(0, len(data), 777):
            c.sendall(data[k:k + 777])
            time.sleep(0.001)
        c.close()
        # TCP, octet counting, and the last frame split across writes
        c = socket.create_connection(("127.0.0.1", tcp_port))
        data = b""
        for i in range(300):
            m = f"<14>1 2026-11-27T10:00:00+07:00 gw1 app - - - tcpoc-msg-{i:04d}".encode()
            want.append(f"tcpoc-msg-{i:04d}")
            data += str(len(m)).encode() + b" " + m
        c.sendall(data[:-5])
        time.sleep(0.3)
        c.sendall(data[-5:])
        # mixed framings, an empty frame and an over-long line on one connection
        m1 = b"<13>Nov 27 10:00:00 gw1 app: tcpmix-msg-0"
        big = b"<13>Nov 27 10:00:00 gw1 app: tcpbig-msg " + b"A" * 5000
        c.sendall(str(len(m1)).encode() + b" " + m1 + b"\n" +
                  b"<13>Nov 27 10:00:00 gw1 app: tcpmix-msg-1\n" +
                  b"0 " + big + b"\n" +
                  b"<13>Nov 27 10:00:00 gw1 app: tcpmix-msg-2\n" +
                  b"<13>Nov 27 10:00:00 gw1 app: tcpmix-msg-3")  # no LF: at close
        want += ["tcpmix-msg-0", "tcpmix-msg-1", "tcpmix-msg-2", "tcpmix-msg-3"]
        c.close()
        # many clients at once
        conns = [socket.create_connection(("127.0.0.1", tcp_port)) for _ in range(20)]
        for i, c in enumerate(conns):
            m = f"tcpmany-msg-{i:04d}"
            want.append(m)
            c.sendall(f"<13>Nov 27 10:00:00 gw1 app: {m}\n".encode())
        for c in conns:
            c.close()

        end = time.monotonic() + 20 * TIME_SCALE
        while time.monotonic() < end:
            evs = [e for e in events(tmp) if "-msg-" in e.get("message", "")]
            if len(evs) >= len(want):
                break
            time.sleep(0.1)
        time.sleep(0.4)
        evs = [e for e in events(tmp) if "-msg-" in e.get("message", "")
               and not e["message"].startswith("tcpbig")]
        got = [e["message"] for e in evs]
        exactly_once(got, want, "syslog messages")
        check(all(e.get("soc", {}).get("log", {}).get("source", {})
                  .get("address") == "127.0.0.1" for e in evs),
              "every syslog event carries soc.log.source.address")
        check(all("source" not in e.get("log", {}) for e in evs),
              "the old log.source.address is no longer written")
        check(all(e.get("host", {}).get("hostname") == "gw1" for e in evs),
              "syslog header parsed (host.hostname)")
        big_ev = [e for e in events(tmp) if e.get("message", "").startswith("tcpbig")]
        check(len(big_ev) == 1, f"the over-long message arrives once, got {len(big_ev)}")
        if big_ev:
            check(len(big_ev[0]["message"]) < 5000, "the over-long message is cut")
        raw = [e for e in events(tmp) if e.get("message") == "udp-raw no header"]
        check(len(raw) == 1 and raw[0]["event"]["dataset"] == "log.syslog",
              "a message without a header is kept raw")
    finally:
        s.stop()
    check("syslog: messages 201 udp, 625 tcp" in s.err,
          "counters logged at exit")
    check("truncated 1" in s.err, "the cut message is counted")
    check("malformed 2" in s.err, "the raw message and the empty frame are counted")


def test_files(tmp, cfg, log, state, gdir):
    want = append(log, 0, 100)          # present before the first start
    s = Sensor(tmp, cfg)
    try:
        exactly_once(wait_for(tmp, "f-line-", 100), want, "lines present at start")
        want += append(log, 100, 200)
        exactly_once(wait_for(tmp, "f-line-", 200), want, "appended lines")

        # rename-and-create; the writer still finishes the old file a bit
        os.rename(log, log + ".1")
        want += append(log + ".1", 200, 210)
        want += append(log, 210, 300)
        time.sleep(0.5)
        want += append(log + ".1", 300, 305)    # late write, within the grace
        want += append(log, 305, 310)
        exactly_once(wait_for(tmp, "f-line-", 310, timeout=30), want, "rename-and-create")

        # copytruncate, the new content longer than the old offset
        wait_until(lambda: "finished the rotated file" in open(s.errpath).read(),
                   "the rotated file finished (drained for its grace, closed)")
        shutil.copy(log, log + ".2")
        with open(log, "r+") as f:
            f.truncate(0)
        want += append(log, 310, 500)
        exactly_once(wait_for(tmp, "f-line-", 500), want, "copytruncate")

        # copytruncate noticed by size alone
        check(state_caught_up(state, log), "state file caught up before truncation")
        with open(log, "r+") as f:
            f.truncate(0)
        time.sleep(0.6)
        want += append(log, 500, 510)
        exactly_once(wait_for(tmp, "f-line-", 510), want, "truncate, then append")

        # a file matching the glob appears later
        gwant = append(os.path.join(gdir, "a.log"), 0, 30, tag="g")
        exactly_once(wait_for(tmp, "g-line-", 30), gwant, "new file matching the glob")

        # SIGKILL between appends: the restart continues where it left off
        want += append(log, 510, 600)
        exactly_once(wait_for(tmp, "f-line-", 600), want, "before the kill")
        check(state_caught_up(state, log), "state file records the whole file")
    finally:
        s.stop(signal.SIGKILL)
    want += append(log, 600, 700)        # while the sensor is down
    gwant += append(os.path.join(gdir, "a.log"), 30, 40, tag="g")
    s = Sensor(tmp, cfg)
    try:
        want += append(log, 700, 800)
        exactly_once(wait_for(tmp, "f-line-", 800), want, "after SIGKILL and restart")
        exactly_once(wait_for(tmp, "g-line-", 40), gwant, "glob file after restart")
        check(state_caught_up(state, log), "state file caught up again")
    finally:
        s.stop(signal.SIGKILL)

    # rotated (rename-and-create) while the sensor was down
    want += append(log, 800, 850)
    os.rename(log, log + ".1")
    want += append(log, 850, 900)
    s = Sensor(tmp, cfg)
    try:
        exactly_once(wait_for(tmp, "f-line-", 900), want, "rotated while down")
        # and a crash in the middle of a stream loses nothing
        for k in range(900, 2000, 100):
            want += append(log, k, k + 100)
            time.sleep(0.02)
    finally:
        s.stop(signal.SIGKILL)
    s = Sensor(tmp, cfg)
    try:
        got = wait_for(tmp, "f-line-", 2000, timeout=30)
        missing = set(want) - set(got)
        check(not missing, f"SIGKILL mid-stream: {len(missing)} lines lost")
        dups = len(got) - len(set(got))
        if dups:
            print(f"note: {dups} lines emitted twice across a mid-stream SIGKILL "
                  "(emitted before the state was saved)", file=sys.stderr)
    finally:
        s.stop()


def main():
    if not os.access(SENSOR, os.X_OK):
        print(f"{SENSOR} not built", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="soc-logs-")
    log = os.path.join(tmp, "app.log")
    state = os.path.join(tmp, "positions")
    gdir = os.path.join(tmp, "g")
    os.mkdir(gdir)
    udp_port, tcp_port = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    cfg = os.path.join(tmp, "sensor.yml")
    with open(cfg, "w") as f:
        f.write(f"""name: gw1
output: json
logs:
  files:
    - {log}
    - {gdir}/*.log
  state_file: {state}
  start_at: beginning
syslog:
  udp: 127.0.0.1:{udp_port}
  tcp: 127.0.0.1:{tcp_port}
  max_message: 1024
""")
    try:
        test_syslog(tmp, cfg, udp_port, tcp_port)
        test_files(tmp, cfg, log, state, gdir)
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
