"""Shared helpers for the Python integration tests: counted checks that
end in the 'N passed, N failed' line, free loopback ports, waiting for a
daemon, sanitizer report detection, and the project's binaries."""
import os
import signal
import socket
import subprocess
import sys
import time

BUILD = os.environ.get("SOC_BUILD_DIR", "build")
SRC = os.environ.get("SOC_SOURCE_DIR", ".")
SENSOR = os.path.join(BUILD, "sensor", "soc-sensor")
CORR = os.path.join(BUILD, "correlator", "soc-correlator")
SOCCTL = os.path.join(BUILD, "correlator", "socctl")
GEN = os.path.join(BUILD, "tests", "gen-sample")

counts = {"passed": 0, "failed": 0}


def check(cond, what):
    if cond:
        counts["passed"] += 1
    else:
        counts["failed"] += 1
        print("FAIL:", what, file=sys.stderr)
    return cond


def done():
    """Print the closing line; return the exit status."""
    print(f"{counts['passed']} passed, {counts['failed']} failed")
    return 1 if counts["failed"] else 0


def run(*args, ok=True, **kw):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=120, **kw)
    if ok and p.returncode != 0:
        print(" ".join(args), "->", p.returncode, p.stdout, p.stderr, file=sys.stderr)
        raise SystemExit(1)
    return p


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def sanitizer_clean(text, who):
    bad = [l for l in text.splitlines()
           if "runtime error" in l or "AddressSanitizer" in l or "LeakSanitizer" in l]
    return check(not bad, f"{who}: sanitizer reports: {bad[:3]}")


def stop(proc, timeout=20):
    """SIGTERM a daemon and wait; SIGKILL it if it hangs.  Returns the
    exit status (-9 when it had to be killed)."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return -9


def record_national_ack(db):
    """Records in db what a provincial forwarder writes when the national
    receiver acks (forward_state: an endpoint, an ack just now), for tests
    whose subject is not forwarding but that need coverage layer 4 ok.
    The forwarder itself is proven by test_forward.py."""
    import sqlite3
    import time
    con = sqlite3.connect(db)
    now = time.time_ns()
    con.execute("update forward_state set endpoint = 'tcp://national.invalid:7600',"
                " origin = 'test', started_at = ?, last_ack_at = ?, updated_at = ?",
                (now, now, now))
    con.commit()
    con.close()


def events_received(db, sensor="gw1"):
    """Events the correlator committed for sensor (its sensors row)."""
    import sqlite3
    con = sqlite3.connect(db, timeout=10)
    try:
        row = con.execute("select events_received from sensors where name = ?",
                          (sensor,)).fetchone()
        return row[0] if row else 0
    finally:
        con.close()


def wait_received(db, want, timeout=30, settle=0.5):
    """Waits until want events are committed, then settle seconds more so
    that anything extra (a duplicate) arrives too; returns the count."""
    import time
    end = time.time() + timeout
    n = events_received(db)
    while n < want and time.time() < end:
        time.sleep(0.1)
        n = events_received(db)
    time.sleep(settle)
    return events_received(db)


def append_syslog(path, first, last):
    """Appends numbered syslog lines first..last-1 to path."""
    with open(path, "a") as f:
        for i in range(first, last):
            f.write(f"Nov 27 10:00:{i % 60:02d} gw1 app[1]: line {i:05d}\n")
