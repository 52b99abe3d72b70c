#!/usr/bin/env python3
"""Log positions across a clean stop (SIGTERM), with a real correlator.

The last lines read before the stop wait in the open batch (batch_ms is
long here), so they leave in the final batch, whose checkpoint the uplink
saves.  That checkpoint must still name the followed file: it was taken
after the log files were closed once, and then said "no file", the state
file lost every position and a restart read the whole file again.  Here
the state file must name the file after the stop, and a restart must not
send a line twice."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from soctest import (CORR, SENSOR, SOCCTL, SRC, append_syslog, check, counts, done,
                     events_received, free_port, run, wait_received,
                     sanitizer_clean, wait_port, stop, TIME_SCALE)


def main():
    tmp = tempfile.mkdtemp(prefix="soc-stop-")
    db = os.path.join(tmp, "soc.db")
    log = os.path.join(tmp, "app.log")
    state = os.path.join(tmp, "positions")
    ctl = lambda *a: run(SOCCTL, "--db", db, *a)
    for name in ("correlator", "gw1"):
        ctl("keygen", "--out", os.path.join(tmp, name))
    ctl("agency", "add", "stttt", "--name", "Sở TT&TT")
    ctl("sensor", "enroll", "gw1", "--agency", "stttt", "--key", os.path.join(tmp, "gw1.pub"))
    port = free_port()
    rules = os.path.join(tmp, "rules")
    os.mkdir(rules)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), rules)
    corr_log = open(os.path.join(tmp, "corr.err"), "w+")
    corr = subprocess.Popen([CORR, "--db", db, "--rules", rules, "--key",
                             os.path.join(tmp, "correlator.key"),
                             "--bind", f"tcp://127.0.0.1:{port}"],
                            stdout=corr_log, stderr=subprocess.STDOUT)
    cfg = os.path.join(tmp, "sensor.yml")
    with open(cfg, "w") as f:
        f.write(f"""name: gw1
connect: tcp://127.0.0.1:{port}
server_key: {tmp}/correlator.pub
key: {tmp}/gw1.key
spool: {tmp}/spool
logs:
  files: [{log}]
  state_file: {state}
uplink:
  batch_ms: 60000
  heartbeat_s: 1
""")
    procs = []

    def start():
        err = open(os.path.join(tmp, f"sensor{len(procs)}.err"), "w+")
        p = subprocess.Popen([SENSOR, "-c", cfg], stdout=subprocess.DEVNULL, stderr=err)
        procs.append((p, err))
        return p

    try:
        check(wait_port(port, corr), "correlator listens")
        append_syslog(log, 0, 20)
        s = start()
        time.sleep(1.5)		# read, but held in the open batch
        check(events_received(db) == 0, "lines wait in the open batch")
        s.send_signal(signal.SIGTERM)
        check(s.wait(30 * TIME_SCALE) == 0, "sensor exits cleanly on SIGTERM")
        check(events_received(db) == 20, "the final batch is acked")
        with open(state) as f:
            text = f.read()
        check(log in text, f"the state file still names the log file: {text!r}")

        s = start()
        time.sleep(1.5)
        append_syslog(log, 20, 25)
        time.sleep(0.5)
        s.send_signal(signal.SIGTERM)
        check(s.wait(30 * TIME_SCALE) == 0, "restarted sensor exits cleanly")
        n = wait_received(db, 25, settle=1.0)
        check(n == 25, f"after a restart: {n} events for 25 lines")
    finally:
        for p, _ in procs:
            if p.poll() is None:
                p.kill()
        stop(corr, 20)
    for p, err in procs:
        err.seek(0)
        text = err.read()
        sanitizer_clean(text, "sensor")
        if counts["failed"]:
            print(text[-3000:], file=sys.stderr)
    corr_log.seek(0)
    sanitizer_clean(corr_log.read(), "correlator")
    return done()


if __name__ == "__main__":
    sys.exit(main())
