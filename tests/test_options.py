#!/usr/bin/env python3
"""The option tables in sensor/main.c and correlator/main.c are the truth;
this holds what describes them to it, so a flag or key cannot be added,
renamed or given a new default in one place only.

- --help: every table row with a flag is listed exactly once, with its
  short letter and argument, and nothing else is; the default it prints
  is the table's.
- Man page: every flag (long and short) is named in an OPTIONS tag and
  every config key in a CONFIGURATION tag; every flag or key a tag names
  is in the table, and so is every flag in the SYNOPSIS.  Where the page
  states a default, "(default: X)" after a key in a CONFIGURATION tag or
  in an option's text, it is the one --help prints (or the table's, for
  keys without a flag).
- systemd/*.yml.example use only keys from the table (test-units.sh
  checks that they load).

The tables are read from the source: rows are designated initializers,
one `{ ... },` per row at one tab of indent (see include/soc/conf.h).
"""
import os
import re
import subprocess
import sys

import yaml

from soctest import BUILD, SRC, check, done

DAEMONS = [
    # binary, source, table, man page, example config
    ("sensor/soc-sensor", "sensor/main.c", "sensor_opts",
     "man/soc-sensor.8", "systemd/sensor.yml.example"),
    ("correlator/soc-correlator", "correlator/main.c", "corr_opts",
     "man/soc-correlator.8", "systemd/correlator.yml.example"),
]

KEY_RE = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z0-9_]+)*$")
DEFAULT_RE = re.compile(r"\(default: ([^)]*)\)")


def c_string(s):
    """The value of a run of adjacent C string literals, or None."""
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', s)
    if not parts or re.sub(r'"((?:[^"\\]|\\.)*)"|\s', "", s):
        return None
    return "".join(parts)


def read_table(path, name):
    src = open(os.path.join(SRC, path)).read()
    m = re.search(r"struct conf_opt " + name + r"\[\] = \{\n(.*?)\n\};", src, re.S)
    if not m:
        return None
    table = m.group(1)
    if "\tCONF_OPTS_COMMON," in table:
        # the rows every daemon shares, from include/soc/conf.h
        conf = open(os.path.join(SRC, "include", "soc", "conf.h")).read()
        c = re.search(r"#define CONF_OPTS_COMMON\s*\\\n(.*?)\n\n", conf, re.S)
        common = re.sub(r"\s*\\$", "", c.group(1), flags=re.M) + ","
        table = table.replace("\tCONF_OPTS_COMMON,", common)
    rows = []
    for body in re.findall(r"^\t\{ (.*?) \},$", table, re.S | re.M):
        fields = {}
        for f in re.finditer(r"\.(\w+) = (.*?)(?=,\s*(?:/\*.*?\*/\s*)?\.\w+ = |,?\s*$)",
                             body, re.S):
            fields[f.group(1)] = f.group(2).strip()
        row = {"name": c_string(fields.get("name", "NULL")),
               "flag": c_string(fields.get("flag", "NULL")),
               "arg": c_string(fields.get("arg", "NULL")),
               "def_src": fields.get("def"),
               "def": c_string(fields.get("def", "NULL"))}
        letter = fields.get("letter")
        row["letter"] = letter[1] if letter else None
        if row["name"] or row["flag"]:
            rows.append(row)
    return rows


def read_help(binary):
    p = subprocess.run([os.path.join(BUILD, binary), "--help"],
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 0, f"{binary} --help exits 0")
    lines = []
    for line in p.stdout.splitlines():
        m = re.match(r"^  (?:-(\w), |    )--([a-z][a-z0-9-]*)(?: (\S+))?  +(.*)$", line)
        if m:
            d = re.search(r" \(default: (.*)\)$", m.group(4))
            lines.append({"letter": m.group(1), "flag": m.group(2),
                          "arg": m.group(3), "default": d.group(1) if d else None})
    return lines


def roff_args(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == " ":
            i += 1
        elif s[i] == '"':
            j = s.find('"', i + 1)
            j = len(s) if j < 0 else j
            out.append(s[i + 1:j])
            i = j + 1
        else:
            j = s.find(" ", i)
            j = len(s) if j < 0 else j
            out.append(s[i:j])
            i = j
    return out


def unescape(t):
    t = re.sub(r"\\f[BIRP]", "", t)
    return t.replace("\\-", "-").replace("\\&", "").replace("\\e", "\\").replace("\\ ", " ")


def roff_line(line):
    """(text, bold words) of one source line."""
    if not line.startswith("."):
        return unescape(line), []
    mac, _, rest = line.partition(" ")
    args = roff_args(rest)
    if mac in (".B", ".I"):
        text = unescape(" ".join(args))
        return text, [text] if mac == ".B" else []
    if len(mac) == 3 and set(mac[1:]) <= set("BIR"):
        fonts = mac[1:]
        bold = [unescape(a) for k, a in enumerate(args)
                if fonts[k % 2] == "B" and not a.startswith("\\f")]
        return unescape("".join(args)), bold
    return "", []


def read_man(path):
    """{section: [(tag text, tag bold words, body text)]} and the synopsis."""
    secs, sec, entry, synopsis = {}, None, None, []
    for line in open(os.path.join(SRC, path)):
        line = line.rstrip("\n")
        if line.startswith(".SH "):
            sec, entry = line[4:].strip('"'), None
            secs.setdefault(sec, [])
        elif line.startswith(".TP"):
            entry = [None, [], ""]
            secs[sec].append(entry)
        elif line.startswith((".PP", ".nf", ".fi")):
            entry = None
        elif sec == "SYNOPSIS":
            synopsis.append(roff_line(line)[0])
        elif entry is not None:
            text, bold = roff_line(line)
            if entry[0] is None:
                entry[0], entry[1] = text, bold
            else:
                entry[2] += " " + text
    return secs, " ".join(synopsis)


def flags_in(text):
    longs = set(re.findall(r"(?<![\w-])--([a-z][a-z0-9-]*)", text))
    shorts = set(re.findall(r"(?<![\w-])-([A-Za-z])(?![\w-])", text))
    return longs, shorts


def yaml_keys(node, prefix=""):
    for k, v in node.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict):
            yield from yaml_keys(v, key)
        else:
            yield key


def check_daemon(binary, source, table, manpath, example):
    rows = read_table(source, table)
    if not check(rows is not None and len(rows) >= 8,
                 f"{source}: table {table} read (format in conf.h)"):
        return
    flags = {r["flag"]: r for r in rows if r["flag"]}
    letters = {r["letter"]: r for r in rows if r["letter"]}
    keys = {r["name"]: r for r in rows if r["name"]}

    # (a) --help lists every flag once, as the table has it
    helps = read_help(binary)
    for f, r in flags.items():
        seen = [h for h in helps if h["flag"] == f]
        if not check(len(seen) == 1, f"{binary} --help lists --{f} once "
                     f"({len(seen)} times)"):
            continue
        h = seen[0]
        check(h["letter"] == r["letter"] and h["arg"] == r["arg"],
              f"--help: --{f} is -{h['letter']} {h['arg']}, table -{r['letter']} {r['arg']}")
        want = r["def"] if r["name"] and r["arg"] else None
        if r["def"] is None and r["def_src"] and r["arg"]:
            want = h["default"]		# not a literal: compared with the man page
        check(h["default"] == want,
              f"--help: --{f} default {h['default']!r}, table {want!r}")
    for h in helps:
        check(h["flag"] in flags, f"{binary} --help lists --{h['flag']}, not in the table")
    help_default = {h["flag"]: h["default"] for h in helps}

    # (b) the man page names every flag and key, and only those
    secs, synopsis = read_man(manpath)
    opt_entries = secs.get("OPTIONS", [])
    conf_entries = secs.get("CONFIGURATION", [])
    check(len(opt_entries) > 0 and len(conf_entries) > 0,
          f"{manpath}: has OPTIONS and CONFIGURATION entries")
    man_longs, man_shorts, man_keys = set(), set(), set()
    man_default = {}			# "--flag" or "key" -> default
    for tag, bold, body in opt_entries:
        longs, shorts = flags_in(tag)
        man_longs |= longs
        man_shorts |= shorts
        for d in DEFAULT_RE.findall(body):
            for f in longs:
                man_default["--" + f] = d
    for tag, bold, body in conf_entries:
        for w in bold:
            if KEY_RE.match(w):
                man_keys.add(w)
        for k, d in re.findall(r"([a-z_][a-z0-9_.]*) \(default: ([^)]*)\)", tag):
            man_default[k] = d
    for f in flags:
        check(f in man_longs, f"{manpath}: OPTIONS has no --{f}")
    for c in letters:
        check(c in man_shorts, f"{manpath}: OPTIONS has no -{c}")
    for k in keys:
        check(k in man_keys, f"{manpath}: CONFIGURATION has no {k}")
    for f in man_longs:
        check(f in flags, f"{manpath}: OPTIONS lists --{f}, not in the table")
    for c in man_shorts:
        check(c in letters, f"{manpath}: OPTIONS lists -{c}, not in the table")
    for k in man_keys:
        check(k in keys, f"{manpath}: CONFIGURATION lists {k}, not in the table")
    longs, shorts = flags_in(synopsis)
    for f in longs:
        check(f in flags, f"{manpath}: SYNOPSIS has --{f}, not in the table")
    for c in shorts:
        check(c in letters, f"{manpath}: SYNOPSIS has -{c}, not in the table")

    # (c) where the man page states a default, it is the code's
    for what, d in man_default.items():
        if what.startswith("--"):
            r = flags.get(what[2:])
            code = help_default.get(what[2:])
        else:
            r = keys.get(what)
            code = r["def"] if r else None
            if r and r["flag"] and r["arg"]:
                code = help_default.get(r["flag"])
        if r is None:
            continue			# reported above
        check(d == code, f"{manpath}: {what} default {d!r}, the code's {code!r}")
    check(len(man_default) > 0, f"{manpath}: states some defaults")

    # (d) the example config uses only the table's keys
    doc = yaml.safe_load(open(os.path.join(SRC, example))) or {}
    ex = list(yaml_keys(doc))
    check(len(ex) > 0, f"{example}: has keys")
    for k in ex:
        check(k in keys, f"{example}: {k} is not a key of {table}")


def main():
    for d in DAEMONS:
        check_daemon(*d)
    return done()


if __name__ == "__main__":
    sys.exit(main())
