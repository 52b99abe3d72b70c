#!/usr/bin/env python3
"""The provinces' coverage sent up (issue 19, docs/NATIONAL.md "Coverage
sent up"), with the real daemons on loopback: a national soc-correlator
and a provincial one forwarding to it.

- the province's agencies appear in the national `socctl coverage
  --json` under its name, with the four layers and their reasons;
- a change in the province (a responder put on record: layer 1) reaches
  the national side with the next record;
- a sensor's key sending a well-formed record, and a province key sending
  malformed ones (truncated, an invalid agency code, a bad layer state,
  bytes after the end, a count above the bound, an oversized frame):
  refused, logged and counted, nothing stored; the same key's valid
  record is stored (the control: the test's encoder is right);
- `socctl report` nationally shows each province's share of agencies
  with all four layers.
No timed asserts: every wait ends on the awaited state, with a ceiling."""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from soctest import (CORR, SOCCTL, SRC, check, done, free_port, run,
                     sanitizer_clean, stop, wait_port, wait_until,
                     import_zmq, key_of)

zmq = import_zmq()


# ---- correlator/coverage-wire.h ----

def s8(v):
    b = v.encode()
    return bytes([len(b)]) + b


def agency(code, name="", parent="", states=(0, 0, 0, 0), reason="ok",
           ep=(-1, 0, 0)):
    out = s8(code) + s8(name) + s8(parent)
    for st in states:
        out += bytes([st]) + s8(reason)
    return out + struct.pack("<qQQ", *ep)


def record(agencies, count=None):
    n = len(agencies) if count is None else count
    return b"SOCC" + bytes([1, 1, 0, 0]) + struct.pack("<H", n) + b"".join(agencies)


def main():
    tmp = tempfile.mkdtemp(prefix="soc-coverage-up-")
    k = lambda n: os.path.join(tmp, n)
    ndb, pdb = k("national.db"), k("p1.db")
    nctl = lambda *a, **kw: run(SOCCTL, "--db", ndb, *a, **kw)
    pctl = lambda *a, **kw: run(SOCCTL, "--db", pdb, *a, **kw)
    for n in ("nat", "p1", "p2", "natgw"):
        nctl("keygen", "--out", k(n))
    nctl("agency", "add", "lamdong", "--name", "Lâm Đồng")
    nctl("sensor", "enroll", "p1-soc", "--agency", "lamdong", "--role",
         "province", "--key", k("p1.pub"))
    nctl("sensor", "enroll", "p2-soc", "--agency", "lamdong", "--role",
         "province", "--key", k("p2.pub"))
    nctl("sensor", "enroll", "natgw", "--agency", "lamdong", "--role",
         "sensor", "--key", k("natgw.pub"))
    pctl("agency", "add", "ubnd", "--name", "UBND tỉnh")
    pctl("agency", "add", "stttt", "--name", "Sở TT&TT", "--parent", "ubnd")
    rules = k("rules")
    os.mkdir(rules)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), rules)
    cfg = k("prov.yml")
    with open(cfg, "w") as f:
        f.write("forward:\n  ack_within: 2s\n  coverage_every: 1s\n")
    nport, pport = free_port(), free_port()
    errs = []

    def daemon(argv, name):
        err = open(k(f"{name}.err"), "w+")
        errs.append((name, err))
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err), err

    def text(err):
        with open(err.name, errors="replace") as f:
            return f.read()

    def nat_cov():
        p = nctl("coverage", "--json", ok=False)
        if p.returncode != 0:
            return {}
        return json.loads(p.stdout)

    def province(name):
        for p in nat_cov().get("provinces", []):
            if p["name"] == name:
                return p
        return None

    def ag(name, code):
        p = province(name) or {}
        for a in p.get("agencies", []):
            if a["code"] == code:
                return a
        return None

    nat, nerr = daemon([CORR, "--role", "national", "--db", ndb, "--key",
                        k("nat.key"), "--bind", f"tcp://127.0.0.1:{nport}"],
                       "national")
    prov, perr = None, None
    zctx = zmq.Context()
    try:
        check(wait_port(nport, nat), "national correlator listens")
        prov, perr = daemon([CORR, "-c", cfg, "--db", pdb, "--rules", rules,
                             "--key", k("p1.key"), "--bind",
                             f"tcp://127.0.0.1:{pport}", "--forward",
                             f"tcp://127.0.0.1:{nport}", "--forward-server-key",
                             k("nat.pub"), "--forward-name", "p1-soc"], "p1")
        check(wait_port(pport, prov), "province listens")

        # 1. the province's agencies, as it judges them, nationally
        wait_until(lambda: province("p1-soc") is not None and
                   len(province("p1-soc")["agencies"]) == 2,
                   "p1-soc's two agencies appear nationally")
        p = province("p1-soc") or {}
        check(isinstance(p.get("reported_at"), int) and p["reported_at"] > 0,
              f"the record's time: {p.get('reported_at')}")
        local = {a["code"]: a for a in json.loads(pctl("coverage", "--json").stdout)["agencies"]}
        for code in ("ubnd", "stttt"):
            a = ag("p1-soc", code) or {}
            check(len(a.get("layers", [])) == 4, f"{code}: four layers: {a}")
            check([l["state"] for l in a.get("layers", [])] ==
                  [l["state"] for l in local[code]["layers"]],
                  f"{code}: the states as the province shows them: {a}")
            check(all(l["reason"] for l in a.get("layers", [])),
                  f"{code}: every layer with a reason: {a}")
            check(a.get("covered") is False, f"{code}: not covered: {a}")
        check((ag("p1-soc", "stttt") or {}).get("parent") == "ubnd" and
              (ag("p1-soc", "stttt") or {}).get("name") == "Sở TT&TT",
              f"name and parent: {ag('p1-soc', 'stttt')}")
        l1 = (ag("p1-soc", "stttt") or {}).get("layers", [{}])[0]
        check(l1.get("state") == "missing", f"stttt layer 1 before: {l1}")
        own = nat_cov().get("agencies", [])
        check([a["code"] for a in own] == ["lamdong"],
              f"the national centre's own agencies first, unchanged: {own}")
        tbl = nctl("coverage").stdout
        check("province p1-soc" in tbl and "stttt" in tbl and
              "fully covered 0 of 2 agencies" in tbl, f"coverage table: {tbl}")

        # 2. a change in the province reaches the national side
        pctl("responder", "add", "stttt", "Nguyễn Văn A")
        wait_until(lambda: ((ag("p1-soc", "stttt") or {}).get("layers") or
                            [{}])[0].get("state") == "ok",
                   "layer 1 of stttt turns ok nationally after the responder")
        l1 = ((ag("p1-soc", "stttt") or {}).get("layers") or [{}])[0]
        check("Nguyễn Văn A" in l1.get("reason", ""), f"the new reason: {l1}")

        # a control byte in free text (an assessor's name) does not cost the
        # province its record: it travels as a space
        pctl("assessment", "add", "stttt", "--by", "Jane\tDoe")
        wait_until(lambda: ((ag("p1-soc", "stttt") or {}).get("layers") or
                            [{}, {}, {}])[2].get("state") == "ok",
                   "layer 3 of stttt turns ok nationally after an assessment by"
                   " a name with a tab")
        l3 = ((ag("p1-soc", "stttt") or {}).get("layers") or [{}, {}, {}])[2]
        check("Jane Doe" in l3.get("reason", ""), f"the tab sent as a space: {l3}")

        # 3. nobody but an enrolled province key writes a record
        def dealer(keyname):
            s = zctx.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            s.curve_secretkey = key_of(k(keyname + ".key")).encode()
            s.curve_publickey = key_of(k(keyname + ".pub")).encode()
            s.curve_serverkey = key_of(k("nat.pub")).encode()
            s.connect(f"tcp://127.0.0.1:{nport}")
            return s

        good = record([agency("forged", "Forged")])
        s = dealer("natgw")
        s.send(good)
        wait_until(lambda: "coverage record from natgw refused: the key is"
                   " not a province's" in text(nerr), "a sensor key's record refused")
        s.close()
        check(province("natgw") is None, "nothing stored under a sensor key")

        bad = [
            ("truncated", good[:-5]),
            ("an invalid agency code", record([agency("bad code!")])),
            ("a layer state out of range", record([agency("x", states=(0, 9, 0, 0))])),
            ("bytes after the last agency", good + b"\0"),
            ("too many agencies", record([agency("x")] * 3, count=60000)),
            ("a control byte in a string", record([agency("x", "a\x1b[2Jb")])),
            ("too large", record([agency("x")]) + b"\0" * (1 << 20)),
        ]
        s = dealer("p2")
        for i, (why, msg) in enumerate(bad):
            s.send(msg)
            wait_until(lambda: f"coverage record from p2-soc refused: {why}"
                       f" ({i + 2} refused so far)" in text(nerr),
                       f"a record with {why} refused and counted")
        check(province("p2-soc") is None, "nothing of the refused records stored")
        s.send(record([agency("huyen1", "Huyện 1", states=(0, 0, 0, 0)),
                       agency("huyen2", "Huyện 2", parent="huyen1",
                              states=(0, 1, 2, 0), ep=(10, 7, 5))]))
        wait_until(lambda: province("p2-soc") is not None,
                   "the same key's valid record is stored (control)")
        h2 = ag("p2-soc", "huyen2") or {}
        check(h2.get("endpoints") == {"declared": 10, "reporting": 7,
                                      "protected": 5} and
              [l["state"] for l in h2.get("layers", [])] ==
              ["ok", "degraded", "missing", "ok"] and h2.get("covered") is False,
              f"the control record as sent: {h2}")
        check((ag("p2-soc", "huyen1") or {}).get("covered") is True,
              f"covered derived from the four states: {ag('p2-soc', 'huyen1')}")
        # a new record replaces the province's previous one
        s.send(record([agency("huyen3", "Huyện 3")]))
        wait_until(lambda: [a["code"] for a in (province("p2-soc") or {})
                            .get("agencies", [])] == ["huyen3"],
                   "a province's new record replaces its previous one")
        s.close()

        # 4. the national report: the share per province
        rep = json.loads(nctl("report", "--json").stdout)
        provs = {p["name"]: p["coverage"] for p in rep.get("provinces", [])}
        check(provs.get("p1-soc", {}).get("total") == 2 and
              provs.get("p1-soc", {}).get("covered") == 0 and
              provs.get("p2-soc") == {"covered": 1, "total": 1, "share": 1.0},
              f"report --json, per province: {rep.get('provinces')}")
        txt = nctl("report").stdout
        check("p1-soc  0 of 2 agencies (0%)" in txt and
              "p2-soc  1 of 1 agencies (100%)" in txt, f"report text: {txt}")
    finally:
        if prov is not None and prov.poll() is None:
            stop(prov)
        if nat.poll() is None:
            stop(nat)
        zctx.destroy(linger=0)
        for name, err in errs:
            sanitizer_clean(text(err), name)
    check("coverage records:" in text(nerr) and "8 refused" in text(nerr),
          "the counters logged at stop")
    import soctest
    if soctest.counts["failed"] > 0:
        for name, err in errs:
            print(f"--- {name} ---\n" + text(err)[-3000:], file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
