#!/usr/bin/env python3
"""Exactly-once delivery of followed log lines, end to end: a real
correlator, a real sensor following a file with a state file and a disk
spool.  The file is appended to, rotated by rename-and-create and by
copytruncate, and the sensor is killed with SIGKILL (twice, at different
moments) and restarted in between.  The correlator must have received
every line exactly once: its per-sensor event count equals the number of
lines written, and every line's marker is in the stored evidence-free
count by a rule that matches each line."""
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
    tmp = tempfile.mkdtemp(prefix="soc-once-")
    db = os.path.join(tmp, "soc.db")
    log = os.path.join(tmp, "app.log")
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

    def corr_start():
        return subprocess.Popen([CORR, "--db", db, "--rules", rules, "--key",
                                 os.path.join(tmp, "correlator.key"),
                                 "--bind", f"tcp://127.0.0.1:{port}"],
                                stdout=corr_log, stderr=subprocess.STDOUT)
    corr = corr_start()
    cfg = os.path.join(tmp, "sensor.yml")
    with open(cfg, "w") as f:
        f.write(f"""name: gw1
connect: tcp://127.0.0.1:{port}
server_key: {tmp}/correlator.pub
key: {tmp}/gw1.key
spool: {tmp}/spool
logs:
  files: [{log}]
  state_file: {tmp}/positions
uplink:
  batch_events: 7
  batch_ms: 50
  heartbeat_s: 1
  ack_timeout_ms: 3000
""")
    procs = []

    def start():
        err = open(os.path.join(tmp, f"sensor{len(procs)}.err"), "w+")
        p = subprocess.Popen([SENSOR, "-c", cfg], stdout=subprocess.DEVNULL, stderr=err)
        procs.append((p, err))
        return p

    def kill_restart(proc, path, before, pause, during):
        """Append lines, SIGKILL the sensor after pause, append more while
        it is down, start it again."""
        append_syslog(path, *before)
        time.sleep(pause)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        append_syslog(path, *during)
        return start()

    try:
        check(wait_port(port, corr), "correlator listens")
        total = 0
        append_syslog(log, 0, 100)
        total = 100
        s = start()
        check(wait_received(db, total) == total, f"first {total} lines arrive once")

        # SIGKILL while lines are flowing, then more lines while it is down
        s = kill_restart(s, log, (100, 400), 0.15, (400, 450))
        total = 450
        n = wait_received(db, total)
        check(n == total, f"after SIGKILL mid-stream: {n} events for {total} lines")

        # rename-and-create rotation with a late write to the old file
        os.rename(log, log + ".1")
        append_syslog(log + ".1", 450, 460)
        append_syslog(log, 460, 500)
        total = 500
        n = wait_received(db, total)
        check(n == total, f"after rename rotation: {n} events for {total} lines")

        # copytruncate, then SIGKILL right after new appends
        time.sleep(0.5)
        with open(log, "r+") as f:
            f.truncate(0)
        s = kill_restart(s, log, (500, 530), 0.05, (530, 600))
        total = 600
        n = wait_received(db, total)
        check(n == total, f"after copytruncate and SIGKILL: {n} events for {total} lines")

        # the correlator hangs with batches queued in its socket, dies,
        # and comes back: nothing queued in the dead one may be skipped
        corr.send_signal(signal.SIGSTOP)
        append_syslog(log, 600, 700)
        time.sleep(1.0)
        corr.send_signal(signal.SIGKILL)
        corr.wait()
        corr = corr_start()
        check(wait_port(port, corr), "correlator back")
        append_syslog(log, 700, 707)
        total = 707
        n = wait_received(db, total, timeout=60)
        check(n == total, f"after a correlator crash: {n} events for {total} lines")

        s.send_signal(signal.SIGTERM)
        check(s.wait(30 * TIME_SCALE) == 0, "sensor exits cleanly on SIGTERM")
        check(events_received(db) == total, "nothing more after a clean stop")
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
