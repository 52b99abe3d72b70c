#!/usr/bin/env python3
"""The Beats server (Lumberjack v2) on the real sensor binary:

- plain: our own client (stdlib only) sends windows of JSON frames in odd
  pieces, a window inside a zlib 'C' frame, legacy 'D' frames and three
  pipelined windows; every event arrives once (-o json), each ACK carries
  the last sequence number of its window, in order.
- npm: the third-party npm package lumberjack-client (installed once into
  the build directory) sends a window over plain TCP and over TLS with a
  client certificate; its events arrive once and it is acked.
- tls: beats.tls_cert/tls_key/tls_ca with client certificates made here
  by openssl: a client with a certificate of the CA is served; one without
  a certificate and one with a certificate of another CA are refused and
  counted (beats_refused_tls).
- hostile: a frame claiming 4 GiB, a zlib bomb, a window of a million
  events, JSON nested 10,000 deep, a version-1 frame and an unknown frame
  type: each is refused with its reason (counted), its connection closed
  without an ack, the events of the window received before it are not
  lost, and a client connected all along is still served.
- limits: a silent client and one stopped mid-frame are closed after
  beats.idle_s; past beats.max_connections a client is closed, counted.
- durable: output to a real correlator.  Without a spool a window is not
  acked while the correlator is down, and is acked once it has committed
  the events; with a spool it is acked once spooled, correlator down.
"""
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import zlib

from soctest import (BUILD, CORR, SENSOR, SOCCTL, SRC, check, counts, done,
                     events_received, free_port, run, sanitizer_clean, stop,
                     wait_port)


def frame_w(n):
    return b"2W" + struct.pack(">I", n)


def frame_j(seq, obj):
    data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return b"2J" + struct.pack(">II", seq, len(data)) + data


def frame_c(inner):
    z = zlib.compress(inner)
    return b"2C" + struct.pack(">I", len(z)) + z


def frame_d(seq, pairs):
    out = b"2D" + struct.pack(">II", seq, len(pairs))
    for k, v in pairs.items():
        out += struct.pack(">I", len(k)) + k.encode()
        out += struct.pack(">I", len(v)) + v.encode()
    return out


def window(msgs, compress=False, extra=None):
    frames = b"".join(frame_j(i + 1, dict(extra or {}, message=m))
                      for i, m in enumerate(msgs))
    return frame_w(len(msgs)) + (frame_c(frames) if compress else frames)


class Client:
    """A Lumberjack v2 client: send bytes, read ACK frames."""

    def __init__(self, port, ctx=None):
        s = socket.create_connection(("127.0.0.1", port), 10)
        self.s = ctx.wrap_socket(s, server_hostname="127.0.0.1") if ctx else s
        self.buf = b""
        self.keepalives = 0

    def send(self, data, piece=None):
        if piece is None:
            self.s.sendall(data)
            return
        for k in range(0, len(data), piece):
            self.s.sendall(data[k:k + piece])

    def acks(self, n, timeout=20):
        """The next n ACK sequence numbers, or fewer if none come; ACK 0
        is a keep-alive (counted apart), as a Beat reads it."""
        out = []
        end = time.time() + timeout
        try:
            while len(out) < n:
                while len(self.buf) >= 6 and len(out) < n:
                    if self.buf[:2] != b"2A":
                        return out + ["bad frame %r" % self.buf[:6]]
                    seq = struct.unpack(">I", self.buf[2:6])[0]
                    self.buf = self.buf[6:]
                    if seq == 0:
                        self.keepalives += 1
                    else:
                        out.append(seq)
                if len(out) == n or time.time() >= end:
                    break
                self.s.settimeout(max(end - time.time(), 0.01))
                d = self.s.recv(4096)
                if not d:
                    break
                self.buf += d
        except (socket.timeout, OSError):
            pass
        return out

    def closed(self, timeout=20):
        """Whether the server closes the connection (an ACK is not closing)."""
        end = time.time() + timeout
        try:
            while time.time() < end:
                self.s.settimeout(max(end - time.time(), 0.01))
                d = self.s.recv(4096)
                if not d:
                    return True
                self.buf += d
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            return True
        except (socket.timeout, OSError):
            return False
        return False

    def close(self):
        self.s.close()


class Sensor:
    runs = 0

    def __init__(self, tmp, cfg, output="json"):
        Sensor.runs += 1
        self.out = os.path.join(tmp, f"out{Sensor.runs}.jsonl")
        self.errpath = os.path.join(tmp, f"err{Sensor.runs}.txt")
        self.proc = subprocess.Popen([SENSOR, "-c", cfg, "-o", output],
                                     stdout=open(self.out, "w"),
                                     stderr=open(self.errpath, "w"))
        self.err = ""

    def events(self):
        evs = []
        with open(self.out, errors="replace") as f:
            for line in f:
                if line.endswith("\n"):
                    evs.append(json.loads(line))
        return evs

    def messages(self, prefix):
        return [e.get("message", "") for e in self.events()
                if e.get("message", "").startswith(prefix)]

    def stop(self):
        rc = stop(self.proc)
        with open(self.errpath) as f:
            self.err = f.read()
        sanitizer_clean(self.err, "sensor")
        check(rc == 0, f"sensor exits 0 on SIGTERM, got {rc}")
        return rc

    def counter(self, name):
        """A counter from the last "counters:" line logged (at exit)."""
        val = 0
        for line in self.err.splitlines():
            if "counters:" in line:
                for part in line.split("counters:", 1)[1].split(","):
                    k, _, v = part.strip().partition(" ")
                    if k == name:
                        val = int(v)
        return val


def wait_until(pred, timeout=20, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def exactly_once(got, want, what):
    missing = sorted(set(want) - set(got))
    dups = sorted({m for m in got if got.count(m) > 1})
    extra = sorted(set(got) - set(want))
    check(not missing, f"{what}: {len(missing)} lost, e.g. {missing[:3]}")
    check(not dups, f"{what}: {len(dups)} duplicated, e.g. {dups[:3]}")
    check(not extra, f"{what}: unexpected {extra[:3]}")


def write_cfg(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


WINLOG = {
    "@timestamp": "2026-12-07T01:02:03.123456Z",
    "@metadata": {"beat": "winlogbeat", "type": "_doc", "version": "8.11.0"},
    "agent": {"type": "winlogbeat", "version": "8.11.0"},
    "ecs": {"version": "8.0.0"},
    "event": {"code": "4688", "kind": "event", "provider": "Microsoft-Windows-Security-Auditing",
              "action": "Process Creation", "outcome": "success"},
    "host": {"hostname": "ws-042", "name": "ws-042.so.local"},
    "log": {"level": "information"},
    "process": {"pid": 4242, "name": "powershell.exe",
                "command_line": "powershell -enc SQBFAFgA"},
    "user": {"name": "nguyenvana"},
    "winlog": {"channel": "Security", "event_id": 4688, "computer_name": "ws-042",
               "record_id": 123456, "provider_name": "Microsoft-Windows-Security-Auditing",
               "event_data": {"NewProcessName": "C:\\Windows\\System32\\powershell.exe",
                              "SubjectUserName": "nguyenvana"}},
}


def test_plain(tmp, port):
    cfg = write_cfg(tmp, "plain.yml", f"""name: gw1
beats:
  listen: 127.0.0.1:{port}
""")
    s = Sensor(tmp, cfg)
    want = []
    try:
        check(wait_port(port, s.proc), "sensor listens on beats.listen")
        c = Client(port)
        # a window of JSON frames in odd-sized pieces
        msgs = [f"plain-a-{i:04d}" for i in range(50)]
        want += msgs
        c.send(window(msgs), piece=97)
        check(c.acks(1) == [50], "a window of 50 JSON frames is acked with seq 50")
        # a window inside one compressed frame
        msgs = [f"plain-c-{i:04d}" for i in range(200)]
        want += msgs
        c.send(window(msgs, compress=True), piece=1000)
        check(c.acks(1) == [200], "a compressed window of 200 is acked with 200")
        # legacy key/value frames
        want += ["plain-d-0", "plain-d-1", "plain-d-2"]
        c.send(frame_w(3) + b"".join(frame_d(i + 1, {"line": f"plain-d-{i}",
                                                     "host.hostname": "old-beat"})
                                     for i in range(3)))
        check(c.acks(1) == [3], "legacy 'D' frames are acked")
        # three windows pipelined, compressed and not, acked in order
        data = b""
        for w, n in enumerate((10, 20, 30)):
            msgs = [f"plain-p{w}-{i:04d}" for i in range(n)]
            want += msgs
            data += window(msgs, compress=w != 1)
        c.send(data)
        got = c.acks(3)
        check(got == [10, 20, 30], f"pipelined windows acked in order: {got}")
        # more windows at once than a client may have in flight (16): the
        # rest waits in the buffer until acks free room
        data = b""
        for w in range(24):
            msgs = [f"plain-q{w:02d}-{i}" for i in range(w + 1)]
            want += msgs
            data += window(msgs, compress=w % 3 == 0)
        c.send(data)
        got = c.acks(24)
        check(got == list(range(1, 25)), f"24 pipelined windows acked in order: {got}")
        # a Winlogbeat event
        c.send(frame_w(1) + frame_j(1, dict(WINLOG, message="plain-winlog")))
        want.append("plain-winlog")
        check(c.acks(1) == [1], "a Winlogbeat event is acked")
        # many clients at once, each one window
        many = [Client(port) for _ in range(40)]
        for k, m in enumerate(many):
            msgs = [f"plain-m{k:02d}-{i}" for i in range(5)]
            want += msgs
            m.send(window(msgs, compress=k % 2 == 0))
        check(all(m.acks(1) == [5] for m in many), "40 clients at once are each acked")
        for m in many:
            m.close()
        c.close()
        wait_until(lambda: len(s.messages("plain-")) >= len(want))
    finally:
        s.stop()
    got = s.messages("plain-")
    exactly_once(got, want, "beats events")
    evs = [e for e in s.events() if e.get("message", "").startswith("plain-")]
    check(all(e.get("soc", {}).get("log", {}).get("source", {}).get("address") ==
              "127.0.0.1" for e in evs), "every event carries the Beat's address")
    w = [e for e in evs if e["message"] == "plain-winlog"]
    if check(len(w) == 1, "the Winlogbeat event is printed"):
        w = w[0]
        check(w.get("@timestamp") == "2026-12-07T01:02:03.123456000Z",
              f"its @timestamp is kept to the microsecond: {w.get('@timestamp')}")
        check(w.get("process", {}).get("pid") == 4242 and
              w.get("user", {}).get("name") == "nguyenvana" and
              w.get("host", {}).get("hostname") == "ws-042" and
              w.get("event", {}).get("action") == "Process Creation",
              f"its ECS fields are read: {w}")
    d = [e for e in evs if e["message"] == "plain-d-1"]
    check(len(d) == 1 and d[0].get("host", {}).get("hostname") == "old-beat",
          "a legacy frame's known keys are kept")
    n = len(want)
    check(s.counter("beats_events") == n, f"beats_events {s.counter('beats_events')} == {n}")
    check(s.counter("beats_acks") == 7 + 24 + 40, f"beats_acks {s.counter('beats_acks')}")
    # and wait_port()'s probe
    check(s.counter("beats_connections") == 42, "beats_connections counted")
    check(s.counter("beats_compressed") == 1 + 2 + 8 + 20,
          f"beats_compressed {s.counter('beats_compressed')}")
    check(s.counter("beats_legacy") == 3, "beats_legacy counted")
    check(s.counter("beats_keepalives") == 0, "no keep-alive when acks come at once")


def npm_client(tmp):
    """The npm package lumberjack-client, installed once under the build
    directory.  None when node or npm is absent."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return None
    base = os.path.join(os.path.abspath(BUILD), "npm-lumberjack")
    mod = os.path.join(base, "node_modules", "lumberjack-client")
    if not os.path.isdir(mod):
        os.makedirs(base, exist_ok=True)
        p = subprocess.run(["npm", "install", "--no-audit", "--no-fund",
                            "--prefix", base, "lumberjack-client@1"],
                           capture_output=True, text=True, timeout=300)
        if not check(p.returncode == 0 and os.path.isdir(mod),
                     f"npm install lumberjack-client: {p.stderr[-500:]}"):
            return False
    script = os.path.join(tmp, "lj.js")
    with open(script, "w") as f:
        f.write("""
const fs = require('fs')
const LJ = require(process.argv[2])
const [n, port, prefix, certdir] = [+process.argv[3], +process.argv[4], process.argv[5], process.argv[6]]
const cfg = { host: '127.0.0.1', port }
if (certdir) {
  cfg.cert = fs.readFileSync(certdir + '/client.crt')
  cfg.key = fs.readFileSync(certdir + '/client.key')
  cfg.ca = [fs.readFileSync(certdir + '/ca.crt')]
}
const c = new LJ(cfg, !!certdir)
// logged while connecting: queued and sent as one window
for (let i = 0; i < n; i++)
  c.log({ message: prefix + i, host: { hostname: 'npm-host' }, process: { pid: i } })
let buf = Buffer.alloc(0)
c.socket.on('data', (d) => {
  buf = Buffer.concat([buf, d])
  while (buf.length >= 6) {
    const seq = buf.readUInt32BE(2)
    console.log('ACK ' + buf.slice(0, 2).toString() + ' ' + seq)
    buf = buf.slice(6)
    if (seq === n) process.exit(0)
  }
})
setTimeout(() => { console.log('TIMEOUT'); process.exit(1) }, 30000)
""")
    return lambda port, n, prefix, certdir="": subprocess.run(
        ["node", script, mod, str(n), str(port), prefix, certdir],
        capture_output=True, text=True, timeout=60)


def test_npm(tmp, port, npm):
    cfg = write_cfg(tmp, "npm.yml", f"""name: gw1
beats:
  listen: 127.0.0.1:{port}
""")
    s = Sensor(tmp, cfg)
    try:
        check(wait_port(port, s.proc), "sensor listens (npm)")
        p = npm(port, 300, "npm-plain-")
        check(p.returncode == 0 and "ACK 2A 300" in p.stdout,
              f"lumberjack-client is acked: {p.stdout[-300:]} {p.stderr[-300:]}")
        wait_until(lambda: len(s.messages("npm-plain-")) >= 300)
    finally:
        s.stop()
    exactly_once(s.messages("npm-plain-"), [f"npm-plain-{i}" for i in range(300)],
                 "lumberjack-client events")
    # over TLS with a client certificate
    d = os.path.join(tmp, "npm-certs")
    make_certs(d)
    cfg = write_cfg(tmp, "npm-tls.yml", f"""name: gw1
beats:
  listen: 127.0.0.1:{port}
  tls_cert: {d}/server.crt
  tls_key: {d}/server.key
  tls_ca: {d}/ca.crt
""")
    s2 = Sensor(tmp, cfg)
    try:
        check(wait_port(port, s2.proc), "sensor listens (npm, TLS)")
        p = npm(port, 50, "npm-tls-", d)
        check(p.returncode == 0 and "ACK 2A 50" in p.stdout,
              f"lumberjack-client over TLS with a client certificate is acked: "
              f"{p.stdout[-300:]} {p.stderr[-300:]}")
        wait_until(lambda: len(s2.messages("npm-tls-")) >= 50)
    finally:
        s2.stop()
    exactly_once(s2.messages("npm-tls-"), [f"npm-tls-{i}" for i in range(50)],
                 "lumberjack-client events over TLS")
    ev = [e for e in s.events() if e.get("message") == "npm-plain-7"]
    check(len(ev) == 1 and ev[0].get("process", {}).get("pid") == 7 and
          ev[0].get("host", {}).get("hostname") == "npm-host",
          "lumberjack-client's fields are read")


def make_certs(d):
    os.makedirs(d, exist_ok=True)

    def ossl(*a):
        run("openssl", *a, cwd=d)

    for ca in ("ca", "rogue"):
        ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN=test {ca}", "-keyout", f"{ca}.key", "-out", f"{ca}.crt")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, ca in (("server", "ca"), ("client", "ca"), ("rogueclient", "rogue")):
        ossl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
             "-keyout", f"{name}.key", "-out", f"{name}.csr")
        ossl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey",
             f"{ca}.key", "-CAcreateserial", "-days", "2", "-out", f"{name}.crt",
             "-extfile", "san.ext")


def tls_ctx(d, client=None):
    ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.crt"))
    if client:
        ctx.load_cert_chain(os.path.join(d, f"{client}.crt"), os.path.join(d, f"{client}.key"))
    return ctx


def test_tls(tmp, port):
    d = os.path.join(tmp, "certs")
    make_certs(d)
    cfg = write_cfg(tmp, "tls.yml", f"""name: gw1
beats:
  listen: 127.0.0.1:{port}
  tls_cert: {d}/server.crt
  tls_key: {d}/server.key
  tls_ca: {d}/ca.crt
""")
    s = Sensor(tmp, cfg)
    want = []
    try:
        check(wait_port(port, s.proc), "sensor listens (TLS)")
        c = Client(port, tls_ctx(d, "client"))
        msgs = [f"tls-ok-{i}" for i in range(100)]
        want += msgs
        c.send(window(msgs[:60], compress=True) + window(msgs[60:]))
        check(c.acks(2) == [60, 40], "a client with a certificate of the CA is acked")
        refused = 0
        for who in (None, "rogueclient"):
            try:
                r = Client(port, tls_ctx(d, who))
                r.send(window([f"tls-bad-{who}"]))
                if r.acks(1, timeout=5) == []:
                    refused += 1
                r.close()
            except (ssl.SSLError, ConnectionResetError, BrokenPipeError, OSError):
                refused += 1
        check(refused == 2, "clients without a certificate of the CA are refused")
        try:
            plain = Client(port)
            plain.send(window(["tls-plaintext"]))
            check(plain.acks(1, timeout=5) == [], "plain TCP to the TLS port is refused")
        except OSError:
            check(True, "plain TCP to the TLS port is refused")
        # the good client is still served
        c.send(window(["tls-ok-after"]))
        want.append("tls-ok-after")
        check(c.acks(1) == [1], "the good client is served after the refusals")
        c.close()
        wait_until(lambda: len(s.messages("tls-")) >= len(want))
    finally:
        s.stop()
    exactly_once(s.messages("tls-"), want, "TLS events")
    # no certificate, another CA's, plain TCP, and wait_port()'s probe
    check(s.counter("beats_refused_tls") == 4,
          f"four refused handshakes counted: {s.counter('beats_refused_tls')}")


def test_hostile(tmp, port):
    cfg = write_cfg(tmp, "hostile.yml", f"""name: gw1
beats:
  listen: 127.0.0.1:{port}
  max_frame_kb: 1024
""")
    s = Sensor(tmp, cfg)
    deep = b'{"a":' * 10000 + b"1" + b"}" * 10000
    bomb = zlib.compress(frame_j(1, {"message": "x"}) + b"\0" * (64 << 20), 9)
    # one byte past the bound inflated (1 MiB): a bomb too
    edge = frame_j(1, {"message": "x"})
    edge = zlib.compress(edge + b"\0" * ((1024 << 10) + 1 - len(edge)), 9)
    badsum = zlib.compress(frame_j(1, {"message": "hostile-zlib-badsum"}))
    badsum = badsum[:-1] + bytes([badsum[-1] ^ 1])
    cases = [
        ("frame_size", frame_j(1, {"message": "x"})[:6] + b"\xff\xff\xff\xff" + b"{}"),
        ("zlib_bomb", b"2C" + struct.pack(">I", len(bomb)) + bomb),
        ("zlib_bomb", b"2C" + struct.pack(">I", len(edge)) + edge),
        # a whole stream whose Adler-32 check is wrong (the check is all
        # that is wrong: the inflater must compare it)
        ("zlib", b"2C" + struct.pack(">I", len(badsum)) + badsum),
        ("window_size", frame_w(1000000)),
        ("json_depth", frame_j(1, deep)),
        ("version", b"1W" + struct.pack(">I", 1)),
        ("frame_type", b"2Z" + b"\0" * 8),
        # a number JSON does not allow, in a field no reader keeps: the
        # reader must refuse it as the syntax check does (issue 17: the
        # check runs only on what the reader refuses)
        ("json", frame_j(1, b'{"message":"x","n":1.5e}')),
    ]
    want = []
    try:
        check(wait_port(port, s.proc), "sensor listens (hostile)")
        good = Client(port)
        for k, (reason, payload) in enumerate(cases):
            h = Client(port)
            ok = [f"hostile-{reason}-{k}-acked-{i}" for i in range(3)]
            h.send(window(ok))
            acked = h.acks(1)
            want += ok
            # a window whose first four events come before the hostile frame
            # (the window header itself, for window_size)
            pre = [f"hostile-{reason}-{k}-pre-{i}" for i in range(4)]
            data = payload
            if reason != "window_size":
                data = frame_w(10) + b"".join(frame_j(i + 1, {"message": m})
                                              for i, m in enumerate(pre)) + payload
                want += pre
            try:
                h.send(data)
            except OSError:
                pass
            check(acked == [3] and h.closed(), f"{reason}: connection closed after "
                  f"its first window was acked ({acked})")
            check(h.buf == b"", f"{reason}: no ack for the hostile window: {h.buf!r}")
            h.close()
            msgs = [f"hostile-good-{k}-{i}" for i in range(5)]
            want += msgs
            good.send(window(msgs, compress=True))
            check(good.acks(1) == [5], f"{reason}: another client is still served")
        # well-formed JSON the reader refuses (no RFC 3339 @timestamp):
        # that event skipped and counted, its window acked, the client kept
        good.send(frame_w(2) + frame_j(1, {"@timestamp": "x", "message": "hostile-skip"})
                  + frame_j(2, {"message": "hostile-kept"}))
        check(good.acks(1) == [2], "a window with an event skipped is acked")
        want.append("hostile-kept")
        good.close()
        wait_until(lambda: len(s.messages("hostile-")) >= len(want))
    finally:
        s.stop()
    exactly_once(s.messages("hostile-"), want, "events received before hostile frames")
    for reason in sorted(set(r for r, _ in cases)):
        n = sum(1 for r, _ in cases if r == reason)
        check(s.counter(f"beats_refused_{reason}") == n,
              f"beats_refused_{reason} is {n}: {s.counter('beats_refused_' + reason)}")
    check(s.counter("beats_refused_event") == 1,
          f"beats_refused_event is 1: {s.counter('beats_refused_event')}")
    check("refused (json_depth)" in s.err and "refused (zlib_bomb)" in s.err,
          "refusals are logged with their reason")


def test_limits(tmp, port):
    """Silent clients and half frames are closed after beats.idle_s; past
    beats.max_connections a client is closed at once and counted."""
    cfg = write_cfg(tmp, "limits.yml", f"""name: gw1
beats:
  listen: 127.0.0.1:{port}
  idle_s: 1
  max_connections: 4
""")
    s = Sensor(tmp, cfg)
    try:
        check(wait_port(port, s.proc), "sensor listens (limits)")
        silent = Client(port)
        half = Client(port)
        half.send(frame_w(2) + frame_j(1, {"message": "limits-half-0"})[:7])
        check(silent.closed() and half.closed(),
              "a silent client and one stopped mid-frame are closed")
        full = [Client(port) for _ in range(4)]
        extra = Client(port)
        check(extra.closed(), "a client past beats.max_connections is closed")
        full[0].send(window(["limits-ok"]))
        check(full[0].acks(1) == [1], "the clients within the limit are served")
        for c in full + [extra, silent, half]:
            c.close()
    finally:
        s.stop()
    check(s.counter("beats_idle_closed") >= 2,
          f"beats_idle_closed {s.counter('beats_idle_closed')}")
    check(s.counter("beats_refused_connections") == 1,
          f"beats_refused_connections {s.counter('beats_refused_connections')}")
    check(s.messages("limits-") == ["limits-ok"], "only the whole event is taken")


def test_durable(tmp, port):
    db = os.path.join(tmp, "soc.db")
    ctl = lambda *a: run(SOCCTL, "--db", db, *a)
    for name in ("correlator", "gw1"):
        ctl("keygen", "--out", os.path.join(tmp, name))
    ctl("agency", "add", "stttt", "--name", "So TT&TT")
    ctl("sensor", "enroll", "gw1", "--agency", "stttt", "--key", os.path.join(tmp, "gw1.pub"))
    cport = free_port()
    rules = os.path.join(tmp, "rules")
    os.makedirs(rules, exist_ok=True)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), rules)
    corr_log = open(os.path.join(tmp, "corr.err"), "w+")
    base = f"""name: gw1
connect: tcp://127.0.0.1:{cport}
server_key: {tmp}/correlator.pub
key: {tmp}/gw1.key
beats:
  listen: 127.0.0.1:{port}
uplink:
  batch_events: 7
  batch_ms: 50
  heartbeat_s: 1
  ack_timeout_ms: 1000
"""
    corr = None
    # no spool: durable only once the correlator has committed
    s = Sensor(tmp, write_cfg(tmp, "mem.yml", base), output="uplink")
    try:
        check(wait_port(port, s.proc), "sensor listens (uplink)")
        c = Client(port)
        c.send(window([f"durable-mem-{i}" for i in range(25)], compress=True))
        check(c.acks(1, timeout=4) == [], "no ack while the correlator is down (no spool)")
        check(c.keepalives >= 1, "keep-alives (ACK 0) while the window waits")
        corr = subprocess.Popen([CORR, "--db", db, "--rules", rules, "--key",
                                 os.path.join(tmp, "correlator.key"),
                                 "--bind", f"tcp://127.0.0.1:{cport}"],
                                stdout=corr_log, stderr=subprocess.STDOUT)
        check(c.acks(1, timeout=30) == [25], "acked once the correlator has the events")
        check(events_received(db) == 25,
              f"the correlator committed them before the ack: {events_received(db)}")
        c.close()
    finally:
        s.stop()
        if corr is not None:
            stop(corr)
    # a spool: durable once on disk, correlator down
    s = Sensor(tmp, write_cfg(tmp, "spool.yml", base + f"spool: {tmp}/spool\n"),
               output="uplink")
    try:
        check(wait_port(port, s.proc), "sensor listens (uplink, spool)")
        c = Client(port)
        c.send(window([f"durable-spool-{i}" for i in range(25)]))
        check(c.acks(1, timeout=30) == [25], "acked once spooled, correlator down")
        c.close()
    finally:
        s.proc.send_signal(signal.SIGKILL)
        s.proc.wait()


def main():
    """No argument: our client's tests.  "npm": the lumberjack-client
    tests (exit 77 without node and npm).  Or name the parts to run."""
    if not os.access(SENSOR, os.X_OK):
        print(f"{SENSOR} not built", file=sys.stderr)
        return 1
    only = sys.argv[1:] or ["plain", "tls", "hostile", "limits", "durable"]
    tmp = tempfile.mkdtemp(prefix="soc-beats-")
    try:
        if "npm" in only:
            npm = npm_client(tmp)
            if npm is None:
                print("node or npm absent: skipped", file=sys.stderr)
                return 77
            if npm:
                test_npm(tmp, free_port(), npm)
        if "plain" in only:
            test_plain(tmp, free_port())
        if "tls" in only:
            test_tls(tmp, free_port())
        if "hostile" in only:
            test_hostile(tmp, free_port())
        if "limits" in only:
            test_limits(tmp, free_port())
        if "durable" in only:
            test_durable(tmp, free_port())
    finally:
        if counts["failed"]:
            for name in sorted(os.listdir(tmp)):
                if name.startswith("err") or name.endswith(".err"):
                    with open(os.path.join(tmp, name)) as f:
                        print(f"--- {name}\n" + f.read()[-3000:], file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
