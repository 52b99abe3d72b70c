"""A hostile sensor for the integration tests of issue 15: a CURVE client
made with python3-zmq that holds an enrolled sensor's key and sends what
it likes (events stamped in 2126 or at INT64_MAX, batches numbered ahead
of the real sensor), and a correlator in a temp dir to send it to.

The wire format is include/soc/wire.h; field ids are read from the
SOC_FIELDS list in include/soc/event.h (the list's order is the wire id),
so this file follows the registry as it grows."""
import os
import re
import shutil
import socket
import sqlite3
import struct
import subprocess
import tempfile
import sys

from soctest import (CORR, SOCCTL, SRC, TIME_SCALE, run, sanitizer_clean, stop,
                     wait_port, wait_until,
                     import_zmq, key_of)

zmq = import_zmq()

EVENTS, HEARTBEAT = 1, 2
ACK, NACK = 0, 1
T_STR, T_INT, T_IP, T_TIME = 1, 2, 3, 4
INT64_MAX = 2**63 - 1
INT64_MIN = -2**63


def _fields():
    with open(os.path.join(SRC, "include", "soc", "event.h")) as f:
        text = f.read()
    body = text[text.index("#define SOC_FIELDS(X)"):]
    body = body[:body.index("enum soc_field")]
    out = {}
    for i, m in enumerate(re.finditer(
            r'X\(\s*\w+,\s*"([^"]+)",\s*SOC_T_(\w+)\)', body)):
        out[m.group(1)] = (i, {"STR": T_STR, "INT": T_INT, "IP": T_IP,
                               "TIME": T_TIME}[m.group(2)])
    return out


FIELDS = _fields()


def event(ts_ns, **fields):
    """One event record; keyword names use '__' for '.'."""
    body = b""
    for k, v in fields.items():
        fid, t = FIELDS[k.replace("__", ".")]
        if t == T_STR:
            val = v.encode()
        elif t == T_IP:
            val = socket.inet_aton(v)
        else:
            val = struct.pack("<q", v)
        body += struct.pack("<HH", fid, len(val)) + val
    rec = struct.pack("<qH", ts_ns, len(fields)) + body
    return struct.pack("<I", len(rec)) + rec


def batch(kind, seq, records, prev=0):
    """SOCB | version | kind | flags | seq | count | prev | records."""
    return (b"SOCB" + struct.pack("<BBHQIQ", 1, kind, 0, seq, len(records),
                                  prev) + b"".join(records))


def ssh_failure(ts_ns, ip):
    return event(ts_ns, event__dataset="log.sshd", event__action="ssh_login",
                 event__outcome="failure", source__ip=ip, user__name="root")


def reply(data):
    if len(data) != 16 or data[:4] != b"SOCA":
        return None
    _, kind, _, seq = struct.unpack("<BBHQ", data[4:])
    return kind, seq


class Peer:
    """A CURVE DEALER holding keyfile.key/.pub, talking to endpoint."""

    def __init__(self, zctx, endpoint, keyfile, server_pub):
        self.s = zctx.socket(zmq.DEALER)
        self.s.setsockopt(zmq.LINGER, 0)
        self.s.curve_secretkey = key_of(keyfile + ".key").encode()
        self.s.curve_publickey = key_of(keyfile + ".pub").encode()
        self.s.curve_serverkey = server_pub.encode()
        self.s.connect(endpoint)

    def send(self, data, wait_ms=None):
        """Sends one batch; returns its reply (kind, seq) or None.  The
        reply is awaited 20 s times TIME_SCALE: a hang, not a slow
        machine, makes it None."""
        self.s.send(data)
        if self.s.poll(int(20000 * TIME_SCALE) if wait_ms is None else wait_ms) == 0:
            return None
        return reply(self.s.recv())

    def close(self):
        self.s.close()


class Correlator:
    """A correlator with agency stttt and sensor gw1 enrolled, the given
    rule files copied beside mapping.yml, in tmp."""

    def __init__(self, tmp, rules=(), extra=()):
        self.tmp = tmp
        self.db = os.path.join(tmp, "soc.db")
        for name in ("correlator", "gw1"):
            self.ctl("keygen", "--out", os.path.join(tmp, name))
        self.ctl("agency", "add", "stttt", "--name", "So TT&TT")
        self.ctl("sensor", "enroll", "gw1", "--agency", "stttt", "--key",
                 os.path.join(tmp, "gw1.pub"))
        self.port = free_port()
        self.endpoint = f"tcp://127.0.0.1:{self.port}"
        self.rules = os.path.join(tmp, "rules")
        os.mkdir(self.rules)
        shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), self.rules)
        for r in rules:
            shutil.copy(os.path.join(SRC, "rules", r), self.rules)
        self.extra = list(extra)
        self.logpath = os.path.join(tmp, "corr.err")
        self.proc = None
        self.server_pub = key_of(os.path.join(tmp, "correlator.pub"))

    def ctl(self, *a, **kw):
        return run(SOCCTL, "--db", self.db, *a, **kw)

    def start(self):
        before = self.text().count("listening on") if self.proc is None and \
            os.path.exists(self.logpath) else 0
        self.log = open(self.logpath, "a")
        self.proc = subprocess.Popen(
            [CORR, "--db", self.db, "--rules", self.rules, "--key",
             os.path.join(self.tmp, "correlator.key"),
             "--bind", self.endpoint] + self.extra,
            stdout=self.log, stderr=subprocess.STDOUT)
        # ours listening, not whatever took the port after free_port
        said = lambda: self.text().count("listening on") > before
        return (wait_port(self.port, self.proc) and
                bool(wait_until(lambda: said() or self.proc.poll() is not None,
                                "the correlator says it listens")) and said())

    def stop(self):
        rc = None
        if self.proc is not None:
            rc = stop(self.proc, 20)
            self.proc = None
            self.log.close()
        sanitizer_clean(self.text(), "correlator")
        return rc

    def text(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def q(self, sql, *args):
        con = sqlite3.connect(self.db, timeout=10)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def uplink_conf(self, key="gw1", server_key=None):
        t = self.tmp
        return (f"name: {key}\nconnect: {self.endpoint}\n"
                f"server_key: {server_key or t + '/correlator.pub'}\n"
                f"key: {t}/{key}.key\n")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port



def run_cases(cases, prefix):
    """Runs each case(tmp, zctx) in a temp dir of its own: a case that
    breaks is a failure, not a skip.  The context is destroyed, not
    terminated: a socket an exception left open would make term() wait
    forever, a failure turned into the test's timeout."""
    from soctest import check, done
    zctx = zmq.Context()
    for case in cases:
        tmp = tempfile.mkdtemp(prefix=f"{prefix}-{case.__name__}-")
        try:
            case(tmp, zctx)
        except Exception as e:
            check(False, f"{case.__name__}: {type(e).__name__}: {e}")
        finally:
            if not os.environ.get("SOC_KEEP_TMP"):
                shutil.rmtree(tmp, ignore_errors=True)
    zctx.destroy(linger=0)
    return done()
