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

from soctest import (CORR, SENSOR, SOCCTL, SRC, TIME_SCALE, check, done, free_port,
                     run, sanitizer_clean, stop, wait_port)

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
    s.settimeout(30 * TIME_SCALE)
    return s


def wait_for(sock, what, proc):
    """Reads messages until one holds the line what; returns all lines read."""
    seen = []
    end = time.monotonic() + 30 * TIME_SCALE
    while time.monotonic() < end and proc.poll() is None:
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


def start_corr(db, extra=(), cfg=None, umask=None, env=None):
    """A correlator on a free port; returns (proc, port, log file)."""
    port = free_port()
    err = open(os.path.join(TMP, f"corr-{port}.err"), "w+")
    args = [CORR]
    if cfg is not None:
        args += ["-c", cfg]
    args += ["--db", db, "--rules", rules_dir(), "--key", keys(),
             "--bind", f"tcp://127.0.0.1:{port}", *extra]
    pre = (lambda: os.umask(umask)) if umask is not None else None
    p = subprocess.Popen(args, stdout=err, stderr=subprocess.STDOUT, preexec_fn=pre, env=env)
    check(wait_port(port, p), f"correlator starts: {' '.join(args)}")
    return p, port, err


def finish(p, err, who="correlator"):
    check(stop(p) == 0, f"{who} exits 0")
    err.seek(0)
    text = err.read()
    sanitizer_clean(text, who)
    return text


def test_keys():
    """A secret key readable by group or others is refused with the chmod;
    Z85 text is warned about."""
    key = os.path.join(TMP, "loose.key")
    shutil.copy(keys(), key)
    os.chmod(key, 0o640)
    p = run(CORR, "-t", "--db", os.path.join(TMP, "none.db"), "--rules", rules_dir(),
            "--key", key, ok=False)
    check(p.returncode != 0 and f"chmod 600 {key}" in p.stderr,
          f"a 0640 secret key is refused with the chmod: {p.stderr.strip()}")
    os.chmod(key, 0o600)
    p = run(CORR, "-t", "--db", os.path.join(TMP, "none.db"), "--rules", rules_dir(),
            "--key", key, ok=False)
    check(p.returncode == 0, f"a 0600 secret key is taken: {p.stderr.strip()}")
    with open(key) as f:
        z85 = [l.strip() for l in f if not l.startswith("#") and l.strip()][0]
    p = run(CORR, "-t", "--db", os.path.join(TMP, "none.db"), "--rules", rules_dir(),
            "--key", z85, ok=False)
    check("shows in `ps`" in p.stderr, f"a secret key as text is warned about: {p.stderr.strip()}")


def modes(db):
    return {sfx: stat.S_IMODE(os.stat(db + sfx).st_mode) for sfx in ("", "-wal", "-shm")
            if os.path.exists(db + sfx)}


def test_db_modes():
    """The database and its -wal/-shm are 0640 under any umask, 0660 and the
    group's with db_group; an analyst's socctl can then write."""
    for um in (0o022, 0o077, 0o000):
        db = os.path.join(TMP, f"modes-{um:03o}.db")
        p, port, err = start_corr(db, umask=um)
        m = modes(db)
        check(len(m) == 3 and all(v == 0o640 for v in m.values()),
              f"umask {um:03o}: db, -wal, -shm are 0640: { {k: oct(v) for k, v in m.items()} }")
        finish(p, err)
    group = grp.getgrgid(os.getgid()).gr_name
    db = os.path.join(TMP, "group.db")
    cfg = os.path.join(TMP, "group.yml")
    with open(cfg, "w") as f:
        f.write(f"db_group: {group}\n")
    p, port, err = start_corr(db, cfg=cfg, umask=0o077)
    m = modes(db)
    check(len(m) == 3 and all(v == 0o660 for v in m.values()),
          f"db_group: db, -wal, -shm are 0660: { {k: oct(v) for k, v in m.items()} }")
    check(all(os.stat(db + s).st_gid == os.getgid() for s in ("", "-wal", "-shm")),
          "db_group: the files belong to the group")
    ctl(db, "agency", "add", "ag1", "--name", "Agency 1")	# an analyst's write
    finish(p, err)
    if os.geteuid() == 0:
        as_analyst(group)


def as_analyst(own_group):
    """Run as root: nobody in group nogroup writes to a database whose
    db_group is nogroup, and cannot without it."""
    try:
        gid = grp.getgrnam("nogroup").gr_gid
    except KeyError:
        return
    d = os.path.join(TMP, "analyst")
    os.mkdir(d)
    os.chmod(TMP, 0o711)
    os.chmod(d, 0o2770)
    os.chown(d, 0, gid)

    def analyst():
        os.setgroups([])
        os.setgid(gid)
        os.setuid(65534)

    for group, want in (("nogroup", True), (None, False)):
        db = os.path.join(d, f"{group}.db")
        cfg = os.path.join(TMP, "analyst.yml")
        with open(cfg, "w") as f:
            f.write(f"db_group: {group}\n" if group else "bind: tcp://127.0.0.1:1\n")
        p, port, err = start_corr(db, cfg=cfg, umask=0o022)
        r = subprocess.run([SOCCTL, "--db", db, "agency", "add", "an1", "--name", "By analyst"],
                           capture_output=True, text=True, preexec_fn=analyst, timeout=60)
        check((r.returncode == 0) == want,
              f"db_group {group}: an analyst in nogroup {'can' if want else 'cannot'} write: "
              f"{r.returncode} {r.stderr.strip()}")
        finish(p, err)
    with open(cfg, "w") as f:
        f.write("db_group: no-such-group-soc\n")
    r = run(CORR, "-c", cfg, "--db", os.path.join(TMP, "nogroup.db"), "--rules", rules_dir(),
            "--key", keys(), "--bind", f"tcp://127.0.0.1:{free_port()}", ok=False)
    check(r.returncode != 0 and "no-such-group-soc" in r.stderr,
          f"an unknown db_group is refused: {r.stderr.strip()}")


def test_handshake():
    """Idle raw TCP connections are dropped after handshake_s (libzmq would
    keep them 30 s), so they cannot hold every descriptor."""
    db = os.path.join(TMP, "hs.db")
    cfg = os.path.join(TMP, "hs.yml")
    with open(cfg, "w") as f:
        f.write("handshake_s: 1\n")
    p, port, err = start_corr(db, cfg=cfg)
    conns = [socket.create_connection(("127.0.0.1", port), 5) for _ in range(20)]
    closed = 0
    for c in conns:
        c.settimeout(20)		# far below libzmq's own 30 s
        try:
            while c.recv(4096):
                pass
            closed += 1
        except ConnectionResetError:
            closed += 1
        except socket.timeout:
            pass
        c.close()
    check(closed == len(conns), f"idle connections dropped by the correlator: {closed}/{len(conns)}")
    finish(p, err)


def test_seq_ahead():
    """A sensor whose first number is near 2^64 (its floor file says so):
    refused and counted; once the floor is gone its batches are applied;
    reset-seq (audited) mends a chain already pushed ahead."""
    db = os.path.join(TMP, "seq.db")
    ctl(db, "agency", "add", "ag1", "--name", "Agency 1")
    keys()
    ctl(db, "sensor", "enroll", "gw1", "--agency", "ag1", "--key", os.path.join(TMP, "gw1.pub"))
    p, port, err = start_corr(db)
    log = os.path.join(TMP, "seq.log")
    state = os.path.join(TMP, "seq.state")
    with open(log, "w") as f:
        for i in range(5):
            f.write(f"Nov 27 10:00:0{i} gw1 app[1]: line {i}\n")

    cfg = os.path.join(TMP, "seq-sensor.yml")
    with open(cfg, "w") as f:
        f.write(f"logs:\n  state_file: {state}\n")

    def rm(path):
        if os.path.exists(path):
            os.unlink(path)

    def sensor(wait_events=None):
        args = [SENSOR, "-c", cfg, "--connect", f"tcp://127.0.0.1:{port}", "--server-key",
                os.path.join(TMP, "correlator.pub"), "--key", os.path.join(TMP, "gw1.key"),
                "--once", "--log-file", log]
        s = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if wait_events is None:
            try:
                s.stderr_text = s.communicate(timeout=60)[1]
            except subprocess.TimeoutExpired:
                s.kill()
                s.stderr_text = s.communicate()[1]
        return s

    def seen():
        con = sqlite3.connect(db, timeout=10)
        try:
            return con.execute("select events_received, last_seq from sensors "
                               "where name='gw1'").fetchone()
        finally:
            con.close()

    with open(state + ".seq", "w") as f:
        f.write(f"{2**64 - 1000}\n")
    s = sensor(wait_events=True)
    end = time.monotonic() + 30 * TIME_SCALE
    while time.monotonic() < end and "implausibly far ahead" not in open(err.name).read():
        time.sleep(0.1)
    stop(s)
    check("implausibly far ahead" in open(err.name).read(), "the correlator says why it refused")
    check(seen() == (0, 0), f"nothing applied from a number near 2^64: {seen()}")
    rm(state + ".seq")
    rm(state)
    s = sensor()
    check(s.returncode == 0, f"the sensor's real numbers are acked: {s.stderr_text[-300:]}")
    ev, last = seen()
    check(ev == 5 and 0 < last < 2**62, f"then its batches are applied: {ev} events, seq {last}")
    # a chain pushed ahead (before this check existed): every batch a resend
    con = sqlite3.connect(db, timeout=10)
    con.execute("update sensors set last_seq = -2 where name = 'gw1'")
    con.commit()
    con.close()
    rm(state)
    sensor()
    check(seen()[0] == 5, "a chain pushed ahead takes the batches as resends")
    r = ctl(db, "sensor", "reset-seq", "gw1")
    check("sequence reset" in r.stdout, f"reset-seq says so: {r.stdout.strip()}")
    con = sqlite3.connect(db, timeout=10)
    audited = con.execute("select count(*) from audit where action = 'sensor seq reset'").fetchone()[0]
    con.close()
    check(audited == 1, "reset-seq is in the audit trail")
    rm(state)
    s = sensor()
    check(seen()[0] == 10, f"after reset-seq the batches are applied: {seen()}")
    text = finish(p, err)
    check("implausible seq 0," not in text and "implausible seq" in text,
          "counted in the counters")


def test_geoip_t():
    """-t opens the GeoIP files: a missing one fails the test."""
    p = run(CORR, "-t", "--db", os.path.join(TMP, "none.db"), "--rules", rules_dir(),
            "--key", keys(), "--geoip-city", os.path.join(TMP, "missing.mmdb"), ok=False)
    check(p.returncode != 0 and "missing.mmdb" in p.stderr,
          f"-t fails on a missing GeoIP file: {p.stderr.strip()}")


def main():
    try:
        test_notify()
        test_keys()
        test_db_modes()
        test_handshake()
        test_seq_ahead()
        test_geoip_t()
    finally:
        os.environ.get("KEEP") or shutil.rmtree(TMP, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
