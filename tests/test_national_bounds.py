#!/usr/bin/env python3
"""Issue 15 item 9: what one province can do to the national centre is
bounded.  A REAL national soc-correlator (national.max_alerts_per_min:
200) and hostile provinces played here (python3-zmq; wire format and
alert JSON as in test_national.py).  By the replies, what lands in
SQLite, `socctl stats --json` and the log:

- the bound: in one minute, a batch of 150 alerts is acked and the next
  batch of 100 is NACKed with the last number applied, twice, stored
  nothing, and is logged once; in the next minute the same batch is
  acked and stored (deferred, not lost); a single batch of 9,000 alerts
  (more than the bound) is NACKed and stores nothing; `socctl stats`
  counts the deferred alerts and batches per province;
- the agency: an alert naming its province's own agency (known) is not
  flagged; a valid code the province never forwarded and that is not
  known here is accepted, stored, counted once and logged; one that is
  no code (control bytes, a blank or a slash) is never stored, the key's agency
  stands in, and it is counted (one longer than the decoder takes is
  refused whole, as before).

Before the change every alert was applied (9,250 national incidents) and
the agency was stored as sent.  No timed asserts: the minute boundary is
waited for on the wall clock (the bound is per wall-clock minute), every
reply with a generous limit."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

from soctest import (CORR, SOCCTL, SRC, check, counts, done, free_port, run,
                     sanitizer_clean, stop, wait_port, wait_until)
from test_national import ACK, ALERTS, NACK, Province, batch, blob, key_of, rfc3339, T0

import zmq

BOUND = 200


def alert(origin, inc, agency, rev=1):
    return json.dumps({
        "@timestamp": rfc3339(T0 + rev), "event.kind": "alert",
        "event.id": f"{origin}:{inc}:{rev}", "rule.id": "r",
        "rule.name": "r", "organization.id": agency,
        "soc.alert.revision": rev, "soc.origin.name": origin,
        "soc.origin.agency": agency, "soc.origin.incident_id": inc,
        "soc.incident.severity": "low", "soc.incident.status": "new",
        "soc.incident.count": 1, "event.start": rfc3339(T0),
        "event.end": rfc3339(T0 + rev),
    }, separators=(",", ":"))


def alerts(origin, first, n, agency):
    return [blob(alert(origin, i, agency)) for i in range(first, first + n)]


def minute():
    return int(time.time()) // 60


def wait_fresh_minute(margin=30):
    """Until at least margin seconds of the current minute are left, so
    that the steps that follow most likely fall in one minute (a wait,
    not an assert: the caller checks that they did)."""
    while 60 - time.time() % 60 < margin:
        time.sleep(0.2)


def q(db, sql, *args):
    con = sqlite3.connect(db, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def main():
    tmp = tempfile.mkdtemp(prefix="soc-natbound-")
    db = os.path.join(tmp, "national.db")
    ctl = lambda *a, **kw: run(SOCCTL, "--db", db, *a, **kw)
    for name in ("national", "lamdong-soc", "hue-soc"):
        ctl("keygen", "--out", os.path.join(tmp, name))
    ctl("agency", "add", "lamdong", "--name", "Lâm Đồng")
    ctl("agency", "add", "hue", "--name", "Huế")
    ctl("sensor", "enroll", "lamdong-soc", "--agency", "lamdong", "--role",
        "province", "--key", os.path.join(tmp, "lamdong-soc.pub"))
    ctl("sensor", "enroll", "hue-soc", "--agency", "hue", "--role",
        "province", "--key", os.path.join(tmp, "hue-soc.pub"))
    rules = os.path.join(tmp, "rules")
    os.mkdir(rules)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), rules)
    conf = os.path.join(tmp, "national.yml")
    with open(conf, "w") as f:
        f.write(f"national:\n  max_alerts_per_min: {BOUND}\n")
    port = free_port()
    endpoint = f"tcp://127.0.0.1:{port}"
    err = open(os.path.join(tmp, "correlator.err"), "w+")
    corr = subprocess.Popen([CORR, "-c", conf, "--db", db, "--rules", rules,
                             "--key", os.path.join(tmp, "national.key"),
                             "--bind", endpoint],
                            stdout=err, stderr=subprocess.STDOUT)
    zctx = zmq.Context()
    server_pub = key_of(os.path.join(tmp, "national.pub"))
    provs = []
    prov = lambda name: provs.append(Province(zctx, endpoint, os.path.join(tmp, name),
                                              server_pub)) or provs[-1]
    national = lambda origin: q(db, "select count(*) from incidents where"
                                " origin_name = ?", origin)[0][0]
    log = lambda: open(err.name, errors="replace").read()
    provinces = lambda: {s["name"]: s for s in json.loads(ctl("stats", "--json")
                                                          .stdout).get("provinces", [])}
    try:
        # our correlator, not whatever took the port after free_port
        listening = lambda: "listening on" in open(err.name, errors="replace").read()
        if not check(wait_port(port, corr) and (wait_until(
                lambda: listening() or corr.poll() is not None,
                "the correlator says it listens") and listening()), "national correlator listens"):
            # (its port taken between free_port and the bind): stop here,
            # not wait out every reply until the meson timeout
            print(open(err.name, errors="replace").read()[-3000:], file=sys.stderr)
            raise SystemExit(done())
        p = prov("lamdong-soc")

        # 1. the bound, within one minute.  The bound is per wall-clock
        # minute, so a try that a stalled machine spreads over two minutes
        # proves nothing either way: it is made again in a fresh minute
        # with the next batch numbers (never a failure), and every count
        # below is taken from just before the try that fell in one minute
        seq, inc = 0, 1
        for attempt in range(3):
            wait_fresh_minute()
            base_n = national("lamdong-soc")
            base_log = log().count("deferred: ")
            base = provinces().get("lamdong-soc", {})
            m0 = minute()
            r1 = p.send(batch(ALERTS, seq + 1,
                              alerts("lamdong-soc", inc, 150, "lamdong"), prev=seq))
            b2 = batch(ALERTS, seq + 2, alerts("lamdong-soc", inc + 150, 100,
                                               "lamdong"), prev=seq + 1)
            r2 = p.send(b2)
            r3 = p.send(b2)
            stored = national("lamdong-soc") - base_n
            logged = log().count("deferred: ") - base_log
            m1 = minute()
            if m1 == m0:
                break
            print(f"try {attempt + 1} of the bound spread over two minutes"
                  f" ({r1} {r2} {r3}): made again", file=sys.stderr)
            # the first reply in a later minute takes batch 2 (or acks it
            # again): the chain is then at seq + 2; the next try starts
            # in a minute after the one that took it, with all its budget
            while minute() == m1:
                time.sleep(0.2)
            check(p.send(b2) == (ACK, seq + 2), "batch 2 taken in a later minute")
            m2 = minute()
            while minute() == m2:
                time.sleep(0.2)
            seq, inc = seq + 2, inc + 250
        else:
            m0 = None
            print("SKIP: the bound's tries never fell in one minute (a stalled"
                  " machine); its in-minute checks are skipped", file=sys.stderr)
        if m0 is not None:
            check(r1 == (ACK, seq + 1), f"150 alerts: acked: {r1}")
            check(r2 == (NACK, seq + 1), f"100 more in the same minute: NACKed: {r2}")
            check(r3 == (NACK, seq + 1),
                  f"resent in the same minute: NACKed again: {r3}")
            check(stored == 150, f"only the first batch stored: {stored}")
            check(logged == 1, f"logged once in the minute: {logged}")
            lam = provinces().get("lamdong-soc", {})
            got = (lam.get("deferred", 0) - base.get("deferred", 0),
                   lam.get("deferred_batches", 0) - base.get("deferred_batches", 0))
            # the resend is not counted again (review M8 of issue 15)
            check(got == (100, 1), f"socctl stats counts them once: {got}: {lam}")
            check(f"deferred {lam.get('deferred')} in {lam.get('deferred_batches')}"
                  " batches" in ctl("stats").stdout, "the table shows them")
            cov = {a["code"]: a["layers"][1] for a in
                   json.loads(ctl("coverage", "--json").stdout)["agencies"]}
            check(cov["lamdong"]["state"] == "degraded" and
                  "deferred" in cov["lamdong"]["reason"] and
                  "lamdong-soc" in cov["lamdong"]["reason"],
                  f"coverage: the deferring province's layer 2 degraded: {cov['lamdong']}")
            check("deferred" not in cov["hue"]["reason"],
                  f"coverage: another province is not: {cov['hue']}")

            # 2. the next minute: the same batch is taken, nothing was lost
            while minute() == m0:
                time.sleep(0.2)
            check(p.send(b2) == (ACK, seq + 2),
                  "the next minute: the deferred batch acked")
            stored = national("lamdong-soc") - base_n
            check(stored == 250, f"all 250 stored in the end: {stored}")
            check("deferred in the last minute" in log(),
                  "the last minute's deferrals summed in the log")
            seq += 2	# (a try made again moved seq on itself)
        total = national("lamdong-soc")

        # 3. one batch larger than the bound: never applied
        big = batch(ALERTS, seq + 1, alerts("lamdong-soc", 10000, 9000, "lamdong"),
                    prev=seq)
        check(p.send(big) == (NACK, seq), "9,000 alerts in one batch: NACKed")
        first = provinces().get("lamdong-soc", {}).get("deferred", 0)
        check(p.send(big) == (NACK, seq), "resent: NACKed again")
        check(national("lamdong-soc") == total,
              f"none of the 9,000 stored: {national('lamdong-soc')} vs {total}")
        check("this batch alone is larger" in log(),
              "the log says the batch can never fit")
        lam = provinces().get("lamdong-soc", {})
        check(lam.get("deferred", 0) >= 9100 and lam.get("deferred") == first
              and lam.get("last_deferred"),
              f"counted once, not per resend: {first} then {lam}")

        # 4. the agency a province names
        h = prov("hue-soc")
        b = [blob(alert("hue-soc", 1, "hue")),		# its own, known
             blob(alert("hue-soc", 2, "hue-phuxuan")),	# new to it
             blob(alert("hue-soc", 3, "hue-phuxuan")),	# named before now
             blob(alert("hue-soc", 4, "evil\n\u001b]0;x\u0007")),
             blob(alert("hue-soc", 5, "hue phu/../x"))]
        check(h.send(batch(ALERTS, 1, b)) == (ACK, 1), "agency batch acked")
        rows = dict(q(db, "select origin_incident, origin_agency from incidents"
                      " where origin_name = 'hue-soc'"))
        check(rows.get(1) == "hue" and rows.get(2) == "hue-phuxuan"
              and rows.get(3) == "hue-phuxuan", f"valid codes stored: {rows}")
        check(rows.get(4) == "hue" and rows.get(5) == "hue",
              f"invalid codes never stored, the key's agency instead: {rows}")
        bad = q(db, "select count(*) from incidents where origin_agency glob"
                " '*[^A-Za-z0-9._-]*' or length(origin_agency) > 63")[0][0]
        check(bad == 0, f"no stored origin agency that is not a code: {bad}")
        hue = {s["name"]: s for s in json.loads(ctl("stats", "--json").stdout)
               ["provinces"]}.get("hue-soc", {})
        check((hue.get("agency_new"), hue.get("agency_invalid"),
               hue.get("last_new_agency")) == (1, 2, "hue-phuxuan"),
              f"counted: {hue}")
        check(q(db, "select agency, new from province_agencies where name ="
                " 'hue-soc' order by agency") == [("hue", 0), ("hue-phuxuan", 1)],
              "the agencies it forwarded, the new one flagged")
        check("names agency hue-phuxuan for the first time" in log(),
              "the new agency is logged")
        check("\u001b" not in log() and "\u0007" not in log(),
              "no raw control byte from the alert in the log")
    finally:
        for p in provs:
            p.close()
        # destroy, not term: a socket an exception left open would make
        # term() wait forever, a failure turned into the test's timeout
        zctx.destroy(linger=0)
        stop(corr)
        err.close()
        sanitizer_clean(open(err.name, errors="replace").read(), "correlator")
    if counts["failed"]:
        print(open(err.name, errors="replace").read()[-4000:], file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
