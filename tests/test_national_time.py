#!/usr/bin/env python3
"""A hostile province cannot date a national incident in the future
(review M6 of issue 15).  A REAL national soc-correlator and a province
played here (python3-zmq, as in test_national.py):

- an alert first and last seen 2262-04-11 (near INT64_MAX ns) and one
  seen in 2126 become national incidents first and last seen today (the
  receive time, beyond ingest.max_ahead_s), so none sorts to the top as
  "last seen 2262"; their evidence keeps what the province claimed;
- an alert of 2025 keeps its times (no bound behind: a province's
  incident may be old);
- the bounded alerts are counted for the province key (`socctl sensors
  --json` ts_clamped) and logged.

Before the fix the decoder only checked first <= last: the incident was
stored last seen 2262.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

from soctest import (CORR, SOCCTL, SRC, check, done, free_port, run,
                     sanitizer_clean, stop, wait_port)
from test_national import ACK, ALERTS, Province, batch, blob, key_of, rfc3339, T0

import zmq


def alert(origin, inc, agency, start, end):
    return json.dumps({
        "@timestamp": end, "event.kind": "alert",
        "event.id": f"{origin}:{inc}:1", "rule.id": "r",
        "rule.name": "r", "organization.id": agency,
        "soc.alert.revision": 1, "soc.origin.name": origin,
        "soc.origin.agency": agency, "soc.origin.incident_id": inc,
        "soc.incident.severity": "low", "soc.incident.status": "new",
        "soc.incident.count": 1, "event.start": start, "event.end": end,
    }, separators=(",", ":"))


def main():
    tmp = tempfile.mkdtemp(prefix="soc-nattime-")
    db = os.path.join(tmp, "national.db")
    ctl = lambda *a, **kw: run(SOCCTL, "--db", db, *a, **kw)
    for name in ("national", "lamdong-soc"):
        ctl("keygen", "--out", os.path.join(tmp, name))
    ctl("agency", "add", "lamdong", "--name", "Lâm Đồng")
    ctl("sensor", "enroll", "lamdong-soc", "--agency", "lamdong", "--role",
        "province", "--key", os.path.join(tmp, "lamdong-soc.pub"))
    rules = os.path.join(tmp, "rules")
    os.mkdir(rules)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), rules)
    port = free_port()
    endpoint = f"tcp://127.0.0.1:{port}"
    err = open(os.path.join(tmp, "correlator.err"), "w+")
    corr = subprocess.Popen([CORR, "--db", db, "--rules", rules,
                             "--key", os.path.join(tmp, "national.key"),
                             "--bind", endpoint],
                            stdout=err, stderr=subprocess.STDOUT)
    zctx = zmq.Context()
    p = None
    try:
        if not check(wait_port(port, corr), "national correlator listens"):
            return done()
        p = Province(zctx, endpoint, os.path.join(tmp, "lamdong-soc"),
                     key_of(os.path.join(tmp, "national.pub")))
        edge = "2262-04-11T23:47:16.000000000Z"
        y2126 = "2126-01-01T00:00:00.000000000Z"
        recs = [blob(alert("lamdong-soc", 1, "lamdong", edge, edge)),
                blob(alert("lamdong-soc", 2, "lamdong", y2126, y2126)),
                blob(alert("lamdong-soc", 3, "lamdong", rfc3339(T0),
                           rfc3339(T0 + 60)))]
        check(p.send(batch(ALERTS, 1, recs)) == (ACK, 1), "3 alerts acked")
        con = sqlite3.connect(db, timeout=10)
        ids = dict(con.execute("select origin_incident, id from incidents"
                               " where origin_name = 'lamdong-soc'"))
        con.close()
        byid = {i["id"]: i for i in
                json.loads(ctl("incidents", "--json").stdout)}
        incs = {inc: byid.get(i, {}) for inc, i in ids.items()}
        check(len(incs) == 3, f"3 national incidents: {ids}")
        year = str(time.gmtime().tm_year)
        for inc in (1, 2):
            i = incs.get(inc, {})
            check(i.get("first_seen", "")[:4] == year and
                  i.get("last_seen", "")[:4] == year,
                  f"incident {inc}: first/last seen today, not the claim: "
                  f"{i.get('first_seen')} {i.get('last_seen')}")
        i = incs.get(3, {})
        check(i.get("first_seen", "").startswith(rfc3339(T0)[:19]) and
              i.get("last_seen", "").startswith(rfc3339(T0 + 60)[:19]),
              f"an old alert keeps its times: {i.get('first_seen')} "
              f"{i.get('last_seen')}")
        newest = max(incs.values(), key=lambda i: i.get("last_seen", ""))
        check(not newest.get("last_seen", "").startswith(("2262", "2126")),
              "no national incident last seen in 2262 or 2126")
        if incs.get(1):
            show = ctl("incident", "show", str(incs[1]["id"]), "--json").stdout
            check("2262-04-11" in show, "its evidence keeps the claim")
        rows = {r["name"]: r for r in
                json.loads(ctl("sensors", "--json").stdout)}
        check(rows.get("lamdong-soc", {}).get("ts_clamped") == 2,
              f"2 counted for the province key: "
              f"{rows.get('lamdong-soc', {}).get('ts_clamped')}")
        check("given the receive time" in open(err.name).read(),
              "the correlator logs it")
    except Exception as e:
        check(False, f"{type(e).__name__}: {e}")
    finally:
        if p is not None:
            p.close()
        zctx.destroy(linger=0)
        stop(corr)
        err.seek(0)
        sanitizer_clean(err.read(), "correlator")
        if not os.environ.get("SOC_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
