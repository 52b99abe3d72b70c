#!/usr/bin/env python3
"""Failed handshakes said plainly and not too often (issue 15, items 10
and 16), on the real sensor and correlators:

- wrong_server_key: a sensor given another key as server_key says soon
  that the server key is probably wrong, and so does the correlator (it
  names its own public key); 100 more tries with a wrong server key from
  one address make one more line within the minute, not 100;
- not_enrolled: a sensor whose key is not enrolled exits non-zero (4) on
  the correlator's refusal, saying so, instead of after the drain timeout;
- refusals_summarised: 60 handshakes of an unenrolled key from one
  address: the first refusal is logged at once, the rest in one summary
  line for the source after the minute (not 60 lines);
- forward_wrong_key: a province whose --forward-server-key is not the
  national correlator's key says so, and so does the national side.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

from soctest import (CORR, SENSOR, TIME_SCALE, check, done, free_port, run,
                     SOCCTL, wait_until)
from hostile_peer import run_cases, Correlator, key_of, zmq

WRONG = "does not decrypt"
SUMMARY = "more refused handshake"


def start_sensor(tmp, cfg, tag):
    err = os.path.join(tmp, f"{tag}.err")
    p = subprocess.Popen([SENSOR, "-c", cfg], stdout=subprocess.DEVNULL,
                         stderr=open(err, "w"))
    p.errpath = err
    return p


def text(path):
    with open(path, errors="replace") as f:
        return f.read()


def finish(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(40 * TIME_SCALE)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def tries(zctx, endpoint, keyfile, server_pub, n):
    """n handshakes, one socket each, each waited for until it fails."""
    failed = 0
    for _ in range(n):
        s = zctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.curve_secretkey = key_of(keyfile + ".key").encode()
        s.curve_publickey = key_of(keyfile + ".pub").encode()
        s.curve_serverkey = server_pub.encode()
        mon = s.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_AUTH |
                                   zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                                   zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL)
        s.connect(endpoint)
        if mon.poll(int(10000 * TIME_SCALE)):
            failed += 1
        s.disable_monitor()
        mon.close(0)
        s.close(0)
    return failed


def log_file(tmp, name, n=3):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        for i in range(n):
            f.write(f"Nov 27 10:00:0{i} gw1 app[1]: hello {i}\n")
    return path


def wrong_server_key(tmp, zctx):
    corr = Correlator(tmp)
    corr.ctl("keygen", "--out", os.path.join(tmp, "other"))
    log = log_file(tmp, "app.log")
    cfg = os.path.join(tmp, "wrong.yml")
    with open(cfg, "w") as f:
        f.write(corr.uplink_conf(server_key=os.path.join(tmp, "other.pub")) +
                f"logs:\n  files: [{log}]\nuplink:\n  drain_timeout_s: 1\n")
    s = None
    try:
        check(corr.start(), "correlator listens")
        s = start_sensor(tmp, cfg, "wrong")
        wait_until(lambda: "server key is probably wrong" in text(s.errpath),
                   "the sensor says its server key is probably wrong")
        wait_until(lambda: WRONG in corr.text(),
                   "the correlator says a peer holds a wrong server key")
        t = corr.text()
        check(corr.server_pub in t.split(WRONG, 1)[-1].split("\n", 1)[0],
              "the correlator's line names its own public key")
        finish(s)
        st = text(s.errpath)
        check(st.count("server key is probably wrong") == 1,
              "the sensor says it once, not at every retry")
        n = tries(zctx, corr.endpoint, os.path.join(tmp, "gw1"),
                  key_of(os.path.join(tmp, "other.pub")), 100)
        check(n == 100, f"100 handshakes with a wrong key failed: {n}")
        # the main loop reads the monitor at least once a second: what
        # the 100 tries would log is there after a few (an upper bound,
        # so a slow machine can only make this check weaker)
        time.sleep(2 * TIME_SCALE)
        lines = [l for l in corr.text().splitlines() if WRONG in l]
        check(1 <= len(lines) <= 2,
              f"one line per source per minute, not one per try: {len(lines)}")
    finally:
        if s is not None:
            finish(s)
        corr.stop()


def not_enrolled(tmp, zctx):
    corr = Correlator(tmp)
    corr.ctl("keygen", "--out", os.path.join(tmp, "stranger"))
    log = log_file(tmp, "app.log")
    cfg = os.path.join(tmp, "stranger.yml")
    with open(cfg, "w") as f:
        # a drain timeout far beyond the wait below: the exit must not
        # come from it
        f.write(corr.uplink_conf(key="stranger") +
                f"logs:\n  files: [{log}]\nuplink:\n  drain_timeout_s: 300\n")
    s = None
    try:
        check(corr.start(), "correlator listens")
        s = start_sensor(tmp, cfg, "stranger")
        try:
            rc = s.wait(120 * TIME_SCALE)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 4, f"the sensor exits with status 4 on its own: {rc}")
        st = text(s.errpath)
        check("not enrolled or revoked" in st and "stopping" in st,
              f"it says why: {st[-400:]}")
        check("were not acknowledged" not in st,
              "not reported as batches left unacknowledged")
        check("key not enrolled" in corr.text(), "the correlator says why")
    finally:
        if s is not None:
            finish(s)
        corr.stop()


def refusals_summarised(tmp, zctx):
    corr = Correlator(tmp)
    corr.ctl("keygen", "--out", os.path.join(tmp, "stranger"))
    try:
        check(corr.start(), "correlator listens")
        n = tries(zctx, corr.endpoint, os.path.join(tmp, "stranger"),
                  corr.server_pub, 60)
        check(n == 60, f"60 handshakes refused: {n}")
        denied_lines = lambda: [l for l in corr.text().splitlines()
                                if "auth: denied" in l]
        wait_until(denied_lines, "the first refusal is logged")
        denied = denied_lines()
        check(len(denied) == 1, f"the first refusal logged at once, the rest"
              f" held: {len(denied)} lines")
        wait_until(lambda: SUMMARY in corr.text(),
                   "a summary line for the source after the minute", 120, 0.5)
        summ = [l for l in corr.text().splitlines() if SUMMARY in l]
        check(len(summ) == 1 and "59 more" in summ[0] and "127.0.0.1" in summ[0],
              f"it counts the 59 others and names the source: {summ}")
    finally:
        corr.stop()


def forward_wrong_key(tmp, zctx):
    nat = Correlator(os.path.join(tmp, "nat") if os.mkdir(
        os.path.join(tmp, "nat")) is None else None)
    pdir = os.path.join(tmp, "prov")
    os.mkdir(pdir)
    prov = Correlator(pdir)
    prov.ctl("keygen", "--out", os.path.join(pdir, "other"))
    prov.extra = ["--forward", nat.endpoint, "--forward-server-key",
                  os.path.join(pdir, "other.pub"), "--forward-name", "prov1"]
    try:
        check(nat.start(), "national correlator listens")
        check(prov.start(), "province correlator listens")
        wait_until(lambda: "--forward-server-key is probably wrong" in prov.text(),
                   "the province says its forward server key is probably wrong")
        wait_until(lambda: WRONG in nat.text(),
                   "the national correlator says so too")
    finally:
        prov.stop()
        nat.stop()


def main():
    return run_cases((wrong_server_key, not_enrolled, refusals_summarised,
                 forward_wrong_key), "soc-hs")


if __name__ == "__main__":
    sys.exit(main())
