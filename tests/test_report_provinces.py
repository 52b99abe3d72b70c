#!/usr/bin/env python3
"""The national leadership report's per-province share in every format
(issue 19, docs/NATIONAL.md "Coverage sent up"): `socctl report --csv`
and `--html` carry what `--json` (and the text) give for each province
(agencies with all four layers, of how many, the share, when reported),
so a leader's spreadsheet or page shows the plan's figure too.

A real national soc-correlator receives coverage records from three
enrolled province keys over CURVE (the records as the provinces' forwarders
send them: correlator/coverage-wire.h), then:
- --json lists the three provinces with their shares (the reference);
- --csv has one "province" line each, with agencies_covered,
  agencies_total, coverage_share and reported_at equal to --json's, and
  empty incident columns; the agency lines still agree with --json;
- --html has a provinces table whose rows hold the name, the counts, the
  rounded percentage and the exact share (data-share) of --json, and a
  chart; the page stays well-formed XML.
No timed asserts: every wait ends on the awaited state, with a ceiling."""
import calendar
import csv
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

from soctest import (CORR, SOCCTL, check, done, free_port, run,
                     sanitizer_clean, stop, wait_port, wait_until,
                     import_zmq, key_of)

zmq = import_zmq()


# ---- correlator/coverage-wire.h (as tests/test_coverage_up.py) ----

def s8(v):
    b = v.encode()
    return bytes([len(b)]) + b


def agency(code, name="", parent="", covered=True):
    out = s8(code) + s8(name) + s8(parent)
    for i in range(4):
        st = 0 if covered or i != 1 else 2
        out += bytes([st]) + s8("ok" if st == 0 else "no sensor")
    return out + struct.pack("<qQQ", -1, 0, 0)


def record(agencies):
    return b"SOCC" + bytes([1, 1, 0, 0]) + struct.pack("<H", len(agencies)) + \
        b"".join(agencies)


def iso_ns(t):
    """2026-12-07T03:40:33.123456789Z -> ns."""
    base, _, frac = t.rstrip("Z").partition(".")
    sec = calendar.timegm(tuple(int(x) for x in
                                base.replace("T", "-").replace(":", "-").split("-")))
    return sec * 10**9 + int((frac + "000000000")[:9])


PROVINCES = {
    # name: [(code, name, parent, covered)]
    "p1-soc": [("ubnd", "UBND tỉnh", "", True),
               ("stttt", "Sở TT&TT", "ubnd", True),
               ("syt", "Sở Y tế", "ubnd", False)],
    "p2-soc": [("ubnd", "UBND tỉnh 2", "", True)],
    "p3-soc": [("ubnd", "UBND tỉnh 3", "", False),
               ("sgd", "Sở GD&ĐT", "ubnd", False)],
}


def main():
    tmp = tempfile.mkdtemp(prefix="soc-report-prov-")
    k = lambda n: os.path.join(tmp, n)
    ndb = k("national.db")
    nctl = lambda *a, **kw: run(SOCCTL, "--db", ndb, *a, **kw)
    for n in ("nat", *PROVINCES):
        nctl("keygen", "--out", k(n))
    nctl("agency", "add", "lamdong", "--name", "Lâm Đồng")
    for n in PROVINCES:
        nctl("sensor", "enroll", n, "--agency", "lamdong", "--role",
             "province", "--key", k(n + ".pub"))
    nport = free_port()
    err = open(k("national.err"), "w+")
    nat = subprocess.Popen([CORR, "--role", "national", "--db", ndb, "--key",
                            k("nat.key"), "--bind", f"tcp://127.0.0.1:{nport}"],
                           stdout=subprocess.DEVNULL, stderr=err)
    zctx = zmq.Context()
    socks = []
    try:
        check(wait_port(nport, nat), "national correlator listens")
        for n, ags in PROVINCES.items():
            s = zctx.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            s.curve_secretkey = key_of(k(n + ".key")).encode()
            s.curve_publickey = key_of(k(n + ".pub")).encode()
            s.curve_serverkey = key_of(k("nat.pub")).encode()
            s.connect(f"tcp://127.0.0.1:{nport}")
            socks.append(s)
            s.send(record([agency(*a) for a in ags]))

        def provs():
            p = nctl("report", "--json", ok=False)
            if p.returncode != 0:
                return {}
            return {x["name"]: x for x in json.loads(p.stdout)["provinces"]}
        check(wait_until(lambda: len(provs()) == 3, "three provinces reported", 60),
              f"the national report has the three provinces: {provs()}")
        rep = json.loads(nctl("report", "--json").stdout)
        jp = {x["name"]: x for x in rep["provinces"]}
        for n, ags in PROVINCES.items():
            want = sum(1 for a in ags if a[3])
            check(jp[n]["coverage"]["covered"] == want and
                  jp[n]["coverage"]["total"] == len(ags),
                  f"--json {n}: {jp[n]} (the reference)")

        # --csv: one province line each, equal to --json
        rows = list(csv.DictReader(io.StringIO(nctl("report", "--csv").stdout,
                                               newline="")))
        pr = {r["agency"]: r for r in rows if r["kind"] == "province"}
        check(sorted(pr) == sorted(jp), f"--csv has a line per province: {sorted(pr)}")
        for n, p in jp.items():
            r = pr.get(n, {})
            cov = p["coverage"]
            check(r.get("name") == n and
                  r.get("agencies_covered") == str(cov["covered"]) and
                  r.get("agencies_total") == str(cov["total"]) and
                  r.get("coverage_share") not in (None, "") and
                  abs(float(r["coverage_share"]) - cov["share"]) < 1e-9 and
                  r.get("reported_at") and iso_ns(r["reported_at"]) == p["reported_at"],
                  f"--csv {n} agrees with --json: {r} vs {p}")
            check(all(r.get(c) == "" for c in ("incidents", "critical", "high",
                                               "acknowledged", "resolved",
                                               "mean_time_to_resolve_s")),
                  f"--csv {n}: no incident figures on a province line: {r}")
        alls = {r["agency"]: r for r in rows if r["kind"] == "all"}
        for a in rep["agencies"]:
            r = alls.get(a["code"], {})
            check(r.get("incidents") == str(a["incidents"]) and
                  r.get("high") == str(a["by_severity"]["high"]) and
                  r.get("agencies_total") == str(a["coverage"]["total"]) and
                  r.get("reported_at") == "",
                  f"--csv agency {a['code']} still agrees with --json: {r}")

        # --html: the provinces table and chart
        page = k("report.html")
        nctl("report", "--html", page)
        raw = open(page, encoding="utf-8").read()
        root = ET.fromstring(raw.split("\n", 1)[1])
        ns = {"h": "http://www.w3.org/1999/xhtml"}
        trs = root.findall(".//h:table[@id='provinces']//h:tr[@data-province]", ns)
        hp = {tr.get("data-province"): (tr, ["".join(td.itertext()) for td in
                                             tr.findall("h:td", ns)])
              for tr in trs}
        check(sorted(hp) == sorted(jp), f"--html has a row per province: {sorted(hp)}")
        for n, p in jp.items():
            tr, cells = hp.get(n, (None, []))
            cov = p["coverage"]
            check(cells[:4] == [n, str(cov["covered"]), str(cov["total"]),
                                f"{100 * cov['share']:.0f}%"] and
                  tr is not None and
                  abs(float(tr.get("data-share", "nan")) - cov["share"]) < 1e-9,
                  f"--html {n} agrees with --json: {cells} vs {p}")
        check("theo tỉnh" in "".join(root.itertext()) and
              'aria-label="Tỷ lệ cơ quan bảo đảm đủ 4 lớp theo tỉnh"' in raw,
              "a heading and a chart for the provinces")
        txt = nctl("report").stdout
        check("p1-soc  2 of 3 agencies (67%)" in txt and
              "p3-soc  0 of 2 agencies (0%)" in txt, f"the text as before: {txt}")
    finally:
        for s in socks:
            s.close()
        zctx.destroy(linger=0)
        check(stop(nat) == 0, "national correlator exits 0")
        err.seek(0)
        log = err.read()
        sanitizer_clean(log, "national")
    import soctest
    if soctest.counts["failed"]:
        print(log[-3000:], file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
