"""Shared helpers for the Python integration tests: counted checks that
end in the 'N passed, N failed' line, free loopback ports, waiting for a
daemon or a condition, sanitizer report detection, and the project's
binaries.

Timing: a test waits for the condition it needs (wait_until), never for a
fixed time, and every ceiling is multiplied by TIME_SCALE: the
SOC_TEST_TIME_SCALE environment variable (default 1) times 3 in a
sanitizer build, which runs several times slower.  A ceiling only decides
how long a broken test takes to fail; a passing one never waits it out."""
import json
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


def _time_scale():
    try:
        scale = float(os.environ.get("SOC_TEST_TIME_SCALE") or 1)
    except ValueError:
        scale = 1.0
    try:
        with open(os.path.join(BUILD, "meson-info", "intro-buildoptions.json")) as f:
            opts = {o["name"]: o["value"] for o in json.load(f)}
        san = opts.get("b_sanitize", "none")
        if san and san != "none" and san != ["none"]:
            scale *= 3
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return max(scale, 1.0)


TIME_SCALE = _time_scale()


def wait_until(pred, what, ceiling=60, step=0.1):
    """Polls pred() until it returns something true, for at most ceiling
    seconds (times TIME_SCALE); returns that value.  On timeout it counts
    a failure naming what, and returns pred()'s last value."""
    end = time.monotonic() + ceiling * TIME_SCALE
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            check(False, f"timed out after {ceiling * TIME_SCALE:.0f}s waiting: {what}")
            return v
        time.sleep(step)


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
    p = subprocess.run(list(args), capture_output=True, text=True,
                       timeout=120 * TIME_SCALE, **kw)
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
    end = time.monotonic() + timeout * TIME_SCALE
    while time.monotonic() < end:
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
        return proc.wait(timeout * TIME_SCALE)
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
    end = time.monotonic() + timeout * TIME_SCALE
    n = events_received(db)
    while n < want and time.monotonic() < end:
        time.sleep(0.1)
        n = events_received(db)
    time.sleep(settle)
    return events_received(db)


def append_syslog(path, first, last):
    """Appends numbered syslog lines first..last-1 to path."""
    with open(path, "a") as f:
        for i in range(first, last):
            f.write(f"Nov 27 10:00:{i % 60:02d} gw1 app[1]: line {i:05d}\n")


def import_zmq():
    """python3-zmq (Debian's, also seen from another python3 of the same
    version), or exit 77 (skipped) naming the package."""
    try:
        import zmq
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
        try:
            import zmq
        except ImportError:
            print("python3-zmq is missing (apt-get install python3-zmq): skipped")
            sys.exit(77)
    return zmq


def key_of(path):
    """The key in a soc key file (its first line that is not a comment)."""
    with open(path) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")][0]


def need_aiosmtpd():
    """Debian's python3-aiosmtpd lives in the system Python's path, which a
    pyenv python3 on the PATH does not see: run the test again under
    /usr/bin/python3 (once), else exit 77 (skipped) naming the package."""
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        if os.path.exists("/usr/bin/python3") and \
                os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") \
                and not os.environ.get("SOC_NOTIFY_REEXEC"):
            os.environ["SOC_NOTIFY_REEXEC"] = "1"
            os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
        print("SKIP: aiosmtpd not importable (apt-get install python3-aiosmtpd)")
        sys.exit(77)
