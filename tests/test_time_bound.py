#!/usr/bin/env python3
"""One future-dated event must not blind a correlation (issue 15, item 1),
against the real correlator, from a hostile sensor holding gw1's key:

- one event stamped 2126-01-01 for 203.0.113.7, then 10 real failed SSH
  logins from it: the brute-force rule fires for it as it does for a
  control address (it stayed silent before: the window sat in 2126);
- a stamp at INT64_MAX (and INT64_MIN) does not become an incident's last
  seen in 2262 (or before 1970): the receive time is used and the claim
  kept in soc.timestamp.claimed, which the evidence shows;
- the events so bounded are counted per sensor: `socctl sensors` (table
  and --json);
- ingest.max_age_s: with a bound behind, an event two days old is
  windowed at its receive time too.
"""
import json
import os
import shutil
import sys
import tempfile
import time

from soctest import check, done, wait_until
from hostile_peer import (run_cases, EVENTS, ACK, INT64_MAX, INT64_MIN, Correlator,
                          Peer, batch, ssh_failure, zmq)

T2126 = 4922899200 * 10**9	# 2126-01-01T00:00:00Z


def incidents(corr):
    return json.loads(corr.ctl("incidents", "--json").stdout)


def by_ip(incs, ip):
    return [i for i in incs if i.get("group_key") == f"source.ip={ip}"]


def sensors(corr):
    return {r["name"]: r for r in json.loads(corr.ctl("sensors", "--json").stdout)}


def ahead(tmp, zctx):
    corr = Correlator(tmp, rules=["linux/ssh-bruteforce.yml"])
    try:
        check(corr.start(), "correlator listens")
        p = Peer(zctx, corr.endpoint, os.path.join(tmp, "gw1"), corr.server_pub)
        now = time.time_ns()
        check(p.send(batch(EVENTS, 1, [ssh_failure(T2126, "203.0.113.7")]))
              == (ACK, 1), "the 2126 event is acked")
        recs = [ssh_failure(now + i * 10**6, ip) for i in range(10)
                for ip in ("203.0.113.7", "203.0.113.8")]
        check(p.send(batch(EVENTS, 2, recs, prev=1)) == (ACK, 2),
              "20 real failures acked")
        # both addresses' failures came in one batch: wait for the control
        # address, then for the 2126 one a while more (it fails if it never fires)
        wait_until(lambda: by_ip(incidents(corr), "203.0.113.8"),
                   "the control address fires")
        wait_until(lambda: by_ip(incidents(corr), "203.0.113.7"),
                   "the address stamped once in 2126 fires too", 20)
        incs = incidents(corr)
        check(by_ip(incs, "203.0.113.8"), "the control address fires")
        hit = by_ip(incs, "203.0.113.7")
        check(hit, f"the address stamped once in 2126 fires too: {incs}")
        year = time.gmtime().tm_year
        for i in hit:
            check(i.get("last_seen", "")[:4] == str(year),
                  f"its last seen is today, not 2126: {i.get('last_seen')}")
        if hit:
            show = corr.ctl("incident", "show", str(hit[0]["id"]), "--json").stdout
            check("soc.timestamp.claimed" in show or '"claimed"' in show,
                  "its evidence keeps the claimed time")
            check("2126-01-01" in show, f"the claim is 2126-01-01: {show[show.find('claimed'):][:200]}")

        # INT64_MAX / INT64_MIN stamps, then real failures from the same address
        recs = [ssh_failure(INT64_MAX, "203.0.113.9"),
                ssh_failure(INT64_MIN, "203.0.113.9")]
        recs += [ssh_failure(time.time_ns(), "203.0.113.9") for _ in range(8)]
        check(p.send(batch(EVENTS, 3, recs, prev=2)) == (ACK, 3),
              "INT64_MAX/MIN batch acked")
        wait_until(lambda: by_ip(incidents(corr), "203.0.113.9"),
                   "the address stamped at INT64_MAX/MIN fires")
        incs = incidents(corr)
        hit = by_ip(incs, "203.0.113.9")
        check(hit, "the address stamped at INT64_MAX/MIN fires")
        for i in hit:
            check(i.get("last_seen", "")[:4] == str(year) and
                  i.get("first_seen", "")[:4] == str(year),
                  f"first/last seen today, not 2262 or 1677: "
                  f"{i.get('first_seen')} {i.get('last_seen')}")
        newest = max(incs, key=lambda i: i.get("last_seen", ""))
        check(not newest.get("last_seen", "").startswith("2262"),
              "no incident last seen in 2262 sorts to the top")
        row = sensors(corr).get("gw1", {})
        check(row.get("ts_clamped") == 3,
              f"3 events bounded, counted for gw1: {row.get('ts_clamped')}")
        table = corr.ctl("sensors").stdout
        check("CLAMPED" in table.splitlines()[0],
              f"the table has a CLAMPED column: {table}")
        p.close()
    finally:
        corr.stop()
    check("given the receive time" in corr.text(), "the correlator logs it")


def behind(tmp, zctx):
    corr = Correlator(tmp, rules=["linux/ssh-bruteforce.yml"])
    cfg = os.path.join(tmp, "corr.yml")
    with open(cfg, "w") as f:
        f.write("ingest:\n  max_age_s: 3600\n")
    corr.extra = ["-c", cfg]
    try:
        check(corr.start(), "correlator with ingest.max_age_s listens")
        p = Peer(zctx, corr.endpoint, os.path.join(tmp, "gw1"), corr.server_pub)
        old = time.time_ns() - 2 * 86400 * 10**9
        recs = [ssh_failure(old, "198.51.100.1"), ssh_failure(time.time_ns(),
                                                              "198.51.100.1")]
        check(p.send(batch(EVENTS, 1, recs)) == (ACK, 1), "batch acked")
        row = sensors(corr).get("gw1", {})
        check(row.get("ts_clamped") == 1,
              f"the event two days old is bounded: {row.get('ts_clamped')}")
        p.close()
    finally:
        corr.stop()


def main():
    return run_cases((ahead, behind), "soc-tbound")


if __name__ == "__main__":
    sys.exit(main())
