#!/usr/bin/env python3
"""Issue 15 item 19: a failed SIGHUP reload is reported, not only logged.
A REAL soc-correlator runs with $NOTIFY_SOCKET naming a datagram socket
this test made (as systemd does); it reads what the daemon sends:

- a reload whose rules do not load: RELOADING=1, then READY=1 with
  STATUS=reload failed: ... (the reason) and ERRNO=22; the daemon keeps
  running the set it had; `socctl stats` shows the last reload FAILED
  with the reason and its time (`--json`: last_reload.ok false);
- a good reload afterwards: READY=1 with STATUS=N rules reloaded and
  ERRNO=0; `socctl stats` shows ok.

Before the change the failed reload sent READY=1 alone (systemd saw
success) and socctl showed nothing.  No timed asserts: each wait ends on
the awaited message, with a generous limit."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from soctest import (CORR, SOCCTL, SRC, check, counts, done, free_port, run,
                     sanitizer_clean, stop, wait_port, TIME_SCALE)

RULE = """title: Test login failures
id: 7c3f1c1e-5f7e-4b55-9d0e-0c1a2b3c4d5e
status: test
logsource:
  product: linux
  service: sshd
detection:
  selection:
    event.action: ssh_login_failed
  condition: selection
level: low
"""


def messages(sock, proc, until):
    """Datagrams until one for which until(msg) holds, for at most a
    minute times TIME_SCALE; returns them all."""
    seen = []
    end = time.monotonic() + 60 * TIME_SCALE
    while time.monotonic() < end and proc.poll() is None:
        try:
            msg = sock.recv(8192).decode(errors="replace")
        except socket.timeout:
            break
        seen.append(msg)
        if until(msg):
            break
    return seen


def lines(msg):
    return msg.split("\n")


def main():
    tmp = tempfile.mkdtemp(prefix="soc-reload-")
    db = os.path.join(tmp, "soc.db")
    run(SOCCTL, "keygen", "--out", os.path.join(tmp, "correlator"))
    rules = os.path.join(tmp, "rules")
    os.mkdir(rules)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), rules)
    with open(os.path.join(rules, "login.yml"), "w") as f:
        f.write(RULE)
    path = os.path.join(tmp, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(60 * TIME_SCALE)
    port = free_port()
    env = dict(os.environ, NOTIFY_SOCKET=path)
    err = open(os.path.join(tmp, "correlator.err"), "w+")
    corr = subprocess.Popen([CORR, "--db", db, "--rules", rules, "--key",
                             os.path.join(tmp, "correlator.key"),
                             "--bind", f"tcp://127.0.0.1:{port}"],
                            env=env, stdout=err, stderr=subprocess.STDOUT)
    ctl = lambda *a: run(SOCCTL, "--db", db, *a)
    try:
        seen = messages(sock, corr, lambda m: "READY=1" in lines(m))
        check(any("READY=1" in lines(m) for m in seen), f"READY=1 at start: {seen}")
        check(wait_port(port, corr), "the correlator listens")
        check("last reload       none" in ctl("stats").stdout,
              "no reload yet: socctl stats says so")

        # a rule set that does not load
        with open(os.path.join(rules, "broken.yml"), "w") as f:
            f.write("title: broken\ndetection: [unclosed\n")
        corr.send_signal(signal.SIGHUP)
        seen = messages(sock, corr, lambda m: "READY=1" in lines(m))
        rel = [i for i, m in enumerate(seen) if "RELOADING=1" in lines(m)]
        fin = [i for i, m in enumerate(seen) if "READY=1" in lines(m)]
        check(rel and fin and rel[0] < fin[-1], f"RELOADING=1 then READY=1: {seen}")
        last = lines(seen[-1]) if seen else []
        status = [l for l in last if l.startswith("STATUS=")]
        check(status and status[0].startswith("STATUS=reload failed: ")
              and "refused" in status[0] and "running the 1 rules" in status[0],
              f"the failure, its reason and the set kept, in STATUS=: {last}")
        check("ERRNO=22" in last, f"ERRNO=22 with it: {last}")
        check(corr.poll() is None, "the correlator keeps running")
        st = json.loads(ctl("stats", "--json").stdout).get("last_reload") or {}
        check(st.get("ok") is False and "refused" in st.get("message", "")
              and st.get("rules") == 1 and st.get("at"),
              f"socctl stats --json: the failed reload: {st}")
        text = ctl("stats").stdout
        check("last reload" in text and "FAILED" in text and "refused" in text,
              f"socctl stats shows it: {text}")

        # mended: the next reload works and says so
        os.unlink(os.path.join(rules, "broken.yml"))
        corr.send_signal(signal.SIGHUP)
        seen = messages(sock, corr, lambda m: "READY=1" in lines(m))
        last = lines(seen[-1]) if seen else []
        check("STATUS=1 rules reloaded" in last and "ERRNO=0" in last,
              f"a good reload: STATUS= and ERRNO=0: {last}")
        st = json.loads(ctl("stats", "--json").stdout).get("last_reload") or {}
        check(st.get("ok") is True and st.get("message") == "1 rules reloaded",
              f"socctl stats --json: ok: {st}")
        check(" ok, 1 rules reloaded" in ctl("stats").stdout, "the table says ok")
    finally:
        check(stop(corr) == 0, "correlator exits 0")
        sock.close()
        err.seek(0)
        log = err.read()
        err.close()
        sanitizer_clean(log, "correlator")
    if counts["failed"]:
        print(log[-3000:], file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
