#!/usr/bin/env python3
"""socctl's three output forms agree, and its tables line up.

A small database is built with socctl itself: agencies with Vietnamese
names (precomposed, decomposed with combining marks, one with a wide
CJK name, one with a comma and a double quote), sensors (one revoked),
responders and assessments (one expired).  Incidents only come from the
correlator, so two are written with SQL.  Then, for every list command:

- --json is one document, --csv parses as RFC 4180 with the JSON member
  names as its header, and the two carry the same rows with the same
  values (null is an empty field, times are the same RFC 3339 text);
- the table has as many rows, in the same order, its cells hold the
  same names, and every column starts (left-aligned) or ends
  (right-aligned) at the same display column on every line, counting
  display columns, not bytes or code points.

This protects the split of socctl.c into one description per list
(socctl-out.c): a list whose table, JSON and CSV drift apart, or a table
padded by bytes instead of display width, fails here."""
import csv
import io
import json
import os
import sqlite3
import sys
import tempfile
import unicodedata

from soctest import SOCCTL, check, done, run

NFD_NAME = unicodedata.normalize("NFD", "Ủy ban nhân dân phường Đống Đa")


def width(s):
    """Display columns of s as a terminal shows it."""
    w = 0
    for ch in s:
        if unicodedata.combining(ch) or ch in "\u200b\u200c\u200d\u200e\u200f\ufeff":
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


def segments(line):
    """Cells of a table line as (first display column, end display column,
    text): cells are separated by two or more spaces."""
    out, col, i, n = [], 0, 0, len(line)
    while i < n:
        if line[i] == " ":
            col += 1
            i += 1
            continue
        start, j = col, i
        while j < n and not (line[j] == " " and (j + 1 >= n or line[j + 1] == " ")):
            j += 1
        text = line[i:j]
        out.append((start, start + width(text), text))
        col += width(text)
        i = j
    return out


def flat(obj, prefix=""):
    """A JSON row as CSV would have it: nested objects as "a.b" keys."""
    out = {}
    for k, v in obj.items():
        if isinstance(v, dict) and k != "counters":
            out.update(flat(v, prefix + k + "."))
        else:
            out[prefix + k] = v
    return out


def csv_text(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        v = json.dumps(v, separators=(",", ":"), ensure_ascii=False)
    if isinstance(v, str):
        # as every CSV the project writes (OWASP): a text cell that a
        # spreadsheet would read as a formula gets a leading quote (a
        # Z85 key may start with '=', '+', '-' or '@')
        return "'" + v if v[:1] in ("=", "+", "-", "@") else v
    return str(v)


def shown(v):
    """What the table shows for a JSON string value (None is "-")."""
    return "-" if v is None or v == "" else v


def cell_is(cell, want):
    """A table cell equals want, or is want cut to fit and ending in '…'."""
    if cell == want:
        return True
    return cell.endswith("\u2026") and want.startswith(cell[:-1])


def check_table(name, text, rows, cols):
    """text: the table; rows: the JSON rows in order; cols: header -> JSON
    key whose value the cell shows."""
    lines = text.rstrip("\n").split("\n")
    if not check(len(lines) == len(rows) + 1,
                 f"{name}: table has {len(lines) - 1} rows, JSON {len(rows)}"):
        return
    head = segments(lines[0])
    # Headers with one space inside ("OPEN INCIDENTS") are one cell.
    hnames = [h[2] for h in head]
    body = [segments(l) for l in lines[1:]]
    for ci, (hs, he, h) in enumerate(head):
        cells = [r[ci] if ci < len(r) else None for r in body]
        present = [c for c in cells if c is not None]
        left = all(c[0] == hs for c in present)
        right = all(c[1] == he for c in present)
        check(left or right, f"{name}: column {h} is not aligned: header at "
              f"{hs}-{he}, cells at {[(c[0], c[1]) for c in present]}")
    for ri, (r, row) in enumerate(zip(body, rows)):
        check(len(r) <= len(hnames), f"{name}: row {ri} has {len(r)} cells: {r}")
        for h, key in cols.items():
            if not check(h in hnames, f"{name}: no column {h} in {hnames}"):
                continue
            ci = hnames.index(h)
            cell = r[ci][2] if ci < len(r) else ""
            check(cell_is(cell, shown(row[key])),
                  f"{name}: row {ri} {h} is {cell!r}, JSON {key} is {row[key]!r}")


def check_csv(name, text, rows):
    """The CSV has the JSON rows, flattened, in the same order."""
    got = list(csv.reader(io.StringIO(text, newline="")))
    want = [flat(r) for r in rows]
    keys = list(want[0].keys()) if want else None
    if not check(len(got) == len(rows) + 1,
                 f"{name}: CSV has {len(got) - 1} rows, JSON {len(rows)}"):
        return
    if keys is not None:
        check(got[0] == keys, f"{name}: CSV header {got[0]} != JSON keys {keys}")
    for i, (g, w) in enumerate(zip(got[1:], want)):
        check(g == [csv_text(v) for v in w.values()],
              f"{name}: CSV row {i} {g} != JSON {w}")


def build(db, tmp):
    ctl = lambda *a: run(SOCCTL, "--db", db, *a)
    for k in ("k1", "k2", "k3"):
        ctl("keygen", "--out", os.path.join(tmp, k))
    ctl("agency", "add", "stttt", "--name", "Sở Thông tin và Truyền thông")
    ctl("agency", "add", "ubnd-dd", "--name", NFD_NAME, "--parent", "stttt")
    ctl("agency", "add", "xa-xp", "--name",
        "UBND xã Xuân Phương, huyện Nam Từ Liêm, thành phố Hà Nội, Việt Nam",
        "--parent", "stttt")
    ctl("agency", "add", "vp", "--name", "越南 văn phòng")
    ctl("agency", "add", "q", "--name", 'Ban "Quản lý", dự án')
    ctl("sensor", "enroll", "gw-sở", "--agency", "stttt", "--key", os.path.join(tmp, "k1.pub"))
    ctl("sensor", "enroll", "gw2", "--agency", "ubnd-dd", "--key", os.path.join(tmp, "k2.pub"))
    ctl("sensor", "enroll", "gw3", "--agency", "vp", "--key", os.path.join(tmp, "k3.pub"))
    ctl("sensor", "revoke", "gw3")
    ctl("responder", "add", "stttt", "--name", "Nguyễn Văn Ánh", "--contact", "0912 345 678")
    ctl("responder", "add", "ubnd-dd", "--name", "Trần Thị Bích")
    ctl("responder", "add", "vp", "--name", "Lê", "--contact", "a@b.vn, ext 2")
    ctl("assessment", "add", "stttt", "--by", "Cục An toàn thông tin", "--expires", "1y")
    ctl("assessment", "add", "ubnd-dd", "--by", "VNCERT", "--expires", "30d",
        "--at", "2020-01-01")
    con = sqlite3.connect(db)
    t = 1_750_000_000 * 10**9
    for i, (rule, title, sev, ag, key, status, who) in enumerate([
            ("ssh-bf", "Dò mật khẩu SSH vào máy chủ của Sở", 3, "stttt",
             "src=10.0.0.1", "new", ""),
            ("web-scan", "", 2, "ubnd-dd", "", "acknowledged", "Phạm Đức")]):
        con.execute("insert into incidents(rule_id, rule_title, rule_level,"
                    " severity, agency, sensor, group_key, status, assignee,"
                    " first_seen, last_seen, count, created_at, updated_at)"
                    " values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (rule, title, "high", sev, ag, "gw-sở", key, status, who,
                     t + i, t + 60 * 10**9 + i, 3 + i, t, t))
    con.commit()
    con.close()


# Each list: its command, the JSON rows from its document, and the table
# columns whose cells show a JSON string value.
LISTS = [
    (["agency", "list"], lambda d: d,
     {"CODE": "code", "NAME": "name", "PARENT": "parent"}),
    (["sensors"], lambda d: d, {"NAME": "name", "AGENCY": "agency", "STATE": "state"}),
    (["incidents"], lambda d: d,
     {"SEVERITY": "severity", "STATUS": "status", "AGENCY": "agency",
      "GROUP": "group_key", "ASSIGNEE": "assignee"}),
    (["audit"], lambda d: d, {"ACTOR": "actor", "ACTION": "action"}),
    (["responder", "list"], lambda d: d,
     {"AGENCY": "agency", "NAME": "name", "CONTACT": "contact"}),
    (["assessment", "list"], lambda d: d, {"AGENCY": "agency", "ASSESSOR": "assessor"}),
]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "soc.db")
        build(db, tmp)
        ctl = lambda *a, **kw: run(SOCCTL, "--db", db, *a, **kw)
        for cmd, rows_of, cols in LISTS:
            name = " ".join(cmd)
            rows = rows_of(json.loads(ctl(*cmd, "--json").stdout))
            check(len(rows) >= 2, f"{name}: only {len(rows)} rows")
            check_csv(name, ctl(*cmd, "--csv").stdout, rows)
            check_table(name, ctl(*cmd).stdout, rows, cols)
            p = ctl(*cmd, "--json", "--csv", ok=False)
            check(p.returncode == 1 and "pick one" in p.stderr and p.stdout == "",
                  f"{name}: --json --csv not refused: {p.returncode} {p.stderr!r}")

        # an unknown --agency is an error on every list that takes one
        for cmd in (("responder", "list"), ("assessment", "list"), ("system", "list")):
            p = ctl(*cmd, "--agency", "nosuch", ok=False)
            check(p.returncode == 1 and "no such agency 'nosuch'" in p.stderr and
                  p.stdout == "", f"{' '.join(cmd)} --agency nosuch: {p.returncode} {p.stderr!r}")

        # stats: the per-sensor list is the table after the totals.
        st = json.loads(ctl("stats", "--json").stdout)
        check_csv("stats", ctl("stats", "--csv").stdout, st["per_sensor"])
        text = ctl("stats").stdout
        check_table("stats", text[text.index("\n\n") + 2:], st["per_sensor"],
                    {"SENSOR": "name", "AGENCY": "agency"})

        # coverage: one CSV row per agency and layer.
        cov = json.loads(ctl("coverage", "--json").stdout)
        lines = [dict(code=a["code"], name=a["name"], parent=a["parent"],
                      covered=a["covered"], layer=l["layer"], layer_name=l["name"],
                      state=l["state"], reason=l["reason"])
                 for a in cov["agencies"] for l in a["layers"]]
        check_csv("coverage", ctl("coverage", "--csv").stdout, lines)

        # RFC 4180 quoting, checked on the bytes.
        out = ctl("agency", "list", "--csv").stdout
        check('"Ban ""Quản lý"", dự án"' in out, f"CSV quoting: {out!r}")
        check(out.startswith("code,name,parent,sensors,open_incidents,created_at\n"),
              f"CSV header: {out[:80]!r}")

        # An empty list: [] / header only / the hint.
        empty = os.path.join(tmp, "empty.db")
        run(SOCCTL, "--db", empty, "agency", "add", "x", "--name", "X")
        e = lambda *a: run(SOCCTL, "--db", empty, *a).stdout
        check(e("incidents", "--json") == "[]\n", "empty incidents --json")
        check(e("incidents", "--csv").count("\n") == 1, "empty incidents --csv")
        check(e("incidents") == "no incidents\n", "empty incidents table")
    return done()


if __name__ == "__main__":
    sys.exit(main())
