#!/usr/bin/env python3
"""Hostile rules against the real socctl and soc-correlator (issue 15).

- a value of '*?' 150 times (an expression past Hyperscan's pattern
  length) made `socctl rules check` die of SIGSEGV: the failure path of
  the loader freed the rules the rule set had already taken over.  Now it
  is refused with file:line and a reason, exit 1;
- (((a{1000}){1000}){1000}) spent 34 s and 5.5 GB in Hyperscan: refused
  with file:line before Hyperscan sees it;
- a running correlator sent SIGHUP with such a rule in its directory
  died (and died again at every restart): it must log the refusal, keep
  its running set (an event after the reload still raises the old rule's
  incident), and stop cleanly; started with it, it refuses to start with
  the reason instead of a signal.
"""
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from soctest import (CORR, SENSOR, SOCCTL, SRC, check, done, free_port, run,
                     sanitizer_clean, stop, wait_port, wait_until)

TMP = tempfile.mkdtemp(prefix="soc-rules-hostile-")
SSH_ID = "22222222-0000-4000-8000-000000000001"

GOOD = f"""title: Test SSH failed login
id: {SSH_ID}
status: test
level: medium
logsource:
  product: linux
  service: sshd
detection:
  selection:
    event.action: ssh_login
    event.outcome: failure
  condition: selection
"""

HOSTILE = {
    "wild.yml": ("message: '" + "*?" * 150 + "'", "value refused before compiling"),
    "nested.yml": ("message|re: '(((a{1000}){1000}){1000})'",
                   "refused before compiling: more than"),
}


def hostile(sel):
    return f"""title: hostile
status: test
logsource:
  product: linux
  service: sshd
detection:
  sel:
    {sel}
  condition: sel
"""


def rules_dir(name, files):
    d = os.path.join(TMP, name)
    os.mkdir(d)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), d)
    for fn, text in files.items():
        with open(os.path.join(d, fn), "w") as f:
            f.write(text)
    return d


def test_check():
    for fn, (sel, why) in HOSTILE.items():
        d = rules_dir("check-" + fn[:-4], {"ssh.yml": GOOD, fn: hostile(sel)})
        p = run(SOCCTL, "rules", "check", d, ok=False)
        check(p.returncode == 1,
              f"rules check {fn}: exit 1, not a signal ({p.returncode}): {p.stderr[-500:]}")
        check(f"{fn}:8: " in p.stderr and why in p.stderr,
              f"rules check {fn}: file:line and the reason: {p.stderr[-500:]}")
        sanitizer_clean(p.stderr, "socctl")


def wait_log(path, what, proc):
    def text():
        with open(path, errors="replace") as f:
            return f.read()
    wait_until(lambda: what in text() or proc.poll() is not None,
               f"the log says {what!r} (or the process exits)")
    return text()


def test_reload():
    db = os.path.join(TMP, "soc.db")
    ctl = lambda *a, ok=True: run(SOCCTL, "--db", db, *a, ok=ok)
    for name in ("correlator", "gw1"):
        ctl("keygen", "--out", os.path.join(TMP, name))
    ctl("agency", "add", "stttt", "--name", "Sở TT&TT")
    ctl("sensor", "enroll", "gw1", "--agency", "stttt", "--key", os.path.join(TMP, "gw1.pub"))
    rules = rules_dir("live", {"ssh.yml": GOOD})
    port = free_port()
    endpoint = f"tcp://127.0.0.1:{port}"
    errpath = os.path.join(TMP, "corr.err")
    err = open(errpath, "w+")
    args = [CORR, "--db", db, "--rules", rules, "--key",
            os.path.join(TMP, "correlator.key"), "--bind", endpoint]
    corr = subprocess.Popen(args, stdout=err, stderr=subprocess.STDOUT)
    try:
        check(wait_port(port, corr), "correlator listens")
        for fn, (sel, _) in HOSTILE.items():
            with open(os.path.join(rules, fn), "w") as f:
                f.write(hostile(sel))
        corr.send_signal(signal.SIGHUP)
        text = wait_log(errpath, "reload failed: keeping the 1 rules", corr)
        check(corr.poll() is None, f"the correlator survives SIGHUP ({corr.poll()})")
        check("reload failed: keeping the 1 rules already running" in text,
              f"the failed reload keeps the running set: {text[-800:]}")
        check("wild.yml:8: " in text and "nested.yml:8: " in text,
              "the refusals are logged with file:line")
        now = datetime.datetime.now(datetime.timezone.utc)
        log = os.path.join(TMP, "auth.log")
        with open(log, "w") as f:
            f.write(f"{now:%Y-%m-%dT%H:%M:%SZ} gw sshd[1]: Failed password for root"
                    " from 198.51.100.7 port 4242 ssh2\n")
        p = run(SENSOR, "--connect", endpoint, "--server-key",
                os.path.join(TMP, "correlator.pub"), "--key",
                os.path.join(TMP, "gw1.key"), "--once", "--log-file", log, ok=False)
        check("all batches acknowledged" in p.stderr, f"sensor: batches acked: {p.stderr[-500:]}")
        incs = wait_until(lambda: [i for i in json.loads(ctl("incidents", "--json").stdout)
                                   if i["rule"]["id"] == SSH_ID],
                          "an incident of the old set", step=0.2)
        check(len(incs) == 1, f"the old set still matches after the failed reload: {incs}")
    finally:
        check(stop(corr) == 0, "correlator exits 0")
        err.seek(0)
        sanitizer_clean(err.read(), "correlator")

    # a restart with the hostile rules: a refusal with the reason, no signal
    p = run(CORR, "-t", "--db", db, "--rules", rules, "--key",
            os.path.join(TMP, "correlator.key"), ok=False)
    check(p.returncode > 0, f"a start with the hostile rules exits non-zero, not on a "
          f"signal ({p.returncode})")
    check("wild.yml:8: " in p.stderr and "refused" in p.stderr,
          f"... and says why: {p.stderr[-500:]}")
    sanitizer_clean(p.stderr, "correlator")


def main():
    try:
        test_check()
        test_reload()
    finally:
        if not os.environ.get("KEEP_TMP"):
            shutil.rmtree(TMP, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
