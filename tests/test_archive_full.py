#!/usr/bin/env python3
"""A full disk under the archive (issue 20): the correlator runs with a
file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored, as a full disk fails a
write), a real sensor follows a log of incompressible lines until the
archive's segment cannot grow.  Ingest must go on (every line counted in
the database), the archive pauses and says so, and `socctl coverage`
degrades layer 2 of the agency with the reason and the events not
archived; while it writes, the reason is not there."""
import base64
import json
import re
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

from soctest import (CORR, SENSOR, SOCCTL, SRC, check, done, free_port, run,
                     sanitizer_clean, stop, wait_port, wait_received, wait_until)

LIMIT = 12 << 20        # bytes any file of the correlator may reach


def lines(path, first, last):
    with open(path, "a") as f:
        for i in range(first, last):
            pad = base64.b64encode(os.urandom(3000)).decode()
            f.write(f"Nov 27 10:00:{i % 60:02d} gw1 app[1]: line {i:05d} {pad}\n")


def limited():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # EFBIG, not a signal
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def reason(ctl):
    cov = ctl("coverage", "--json").stdout
    return "event archive has been paused" in cov, cov


def main():
    tmp = tempfile.mkdtemp(prefix="soc-archive-full-")
    db = os.path.join(tmp, "soc.db")
    log = os.path.join(tmp, "app.log")
    ctl = lambda *a, **kw: run(SOCCTL, "--db", db, *a, **kw)
    for name in ("correlator", "gw1"):
        ctl("keygen", "--out", os.path.join(tmp, name))
    ctl("agency", "add", "stttt", "--name", "So TT&TT")
    ctl("sensor", "enroll", "gw1", "--agency", "stttt", "--key", os.path.join(tmp, "gw1.pub"))
    port = free_port()
    rules = os.path.join(tmp, "rules")
    os.mkdir(rules)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), rules)
    corr_log = open(os.path.join(tmp, "corr.err"), "w+")
    corr = subprocess.Popen([CORR, "--db", db, "--rules", rules, "--key",
                             os.path.join(tmp, "correlator.key"),
                             "--bind", f"tcp://127.0.0.1:{port}"],
                            stdout=corr_log, stderr=subprocess.STDOUT,
                            preexec_fn=limited)
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
  batch_events: 50
  batch_ms: 50
  heartbeat_s: 1
""")
    err = open(os.path.join(tmp, "sensor.err"), "w+")
    open(log, "w").close()
    s = subprocess.Popen([SENSOR, "-c", cfg], stdout=subprocess.DEVNULL, stderr=err)
    try:
        check(wait_port(port, corr), "correlator listens")
        lines(log, 0, 200)
        check(wait_received(db, 200, timeout=60) == 200, "the first 200 lines arrive")
        paused, cov = reason(ctl)
        check(not paused, "the archive writes: layer 2 does not name it")
        # about 4 KB of JSON a line, barely compressible: 12 MiB is
        # passed well before 6,000 lines
        total = 6000
        lines(log, 200, total)
        n = wait_received(db, total, timeout=120)
        check(n == total, f"ingest goes on past the full archive: {n} of {total}")
        check(corr.poll() is None, "the correlator still runs")
        check(wait_until(lambda: reason(ctl)[0], "coverage names the paused archive", 30),
              "layer 2 degraded: the archive is paused")
        paused, cov = reason(ctl)
        j = json.loads(cov)
        text = json.dumps(j)
        i = text.find("event archive has been paused")
        snippet = text[i:i + 200] if i >= 0 else text[:400]
        m = re.search(r": (\d+) events not archived", snippet)
        check(m is not None and int(m.group(1)) > 0,
              f"the reason counts the events not archived: {snippet}")
    finally:
        if s.poll() is None:
            s.send_signal(signal.SIGTERM)
            try:
                s.wait(30)
            except subprocess.TimeoutExpired:
                s.kill()
        stop(corr, 20)
    corr_log.seek(0)
    out = corr_log.read()
    sanitizer_clean(out, "correlator")
    check("archive paused" in out, "the correlator says the archive paused")
    return done()


if __name__ == "__main__":
    sys.exit(main())
