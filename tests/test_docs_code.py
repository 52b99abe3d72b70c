#!/usr/bin/env python3
"""Regression (issue 15, item 18): docs that contradicted the code.

Each check asks the code (a real socctl, the real headers) first, then
reads what the docs say about it:

- `socctl incident reopen` exists, so socctl(8) must not say "a closed
  incident does not change";
- SIGTERM is a signal: in soc-correlator(8) it belongs under SIGNALS,
  not SEQUENCE NUMBERS;
- the category table is CATEGORY_FILE (correlator/category.h,
  categories.txt): the docs must not name categories.yml as a file the
  loader has (only as what it is not);
- value_count and temporal_ordered load (`socctl rules check` on rules
  written here), so no shipped rule's header may call them limits of the
  engine;
- site rules: README says where they belong, and that rules/ is the
  shipped set that test-rules.c counts and make install installs."""
import os
import re
import subprocess
import sys
import tempfile

from soctest import SOCCTL, SRC, check, done


def read(rel):
    with open(os.path.join(SRC, rel), encoding="utf-8") as f:
        return f.read()


def sections(man):
    """.SH name -> text of a man(7) page."""
    out, name = {}, ""
    for line in man.split("\n"):
        if line.startswith(".SH "):
            name = line[4:].strip().strip('"')
            continue
        out[name] = out.get(name, "") + line + "\n"
    return out


CORR_RULES = """\
title: base
id: 11111111-1111-4111-8111-111111111111
name: failed_login
status: test
logsource: {product: linux, service: sshd}
detection:
  sel: {event.outcome: failure}
  condition: sel
---
title: ok
id: 22222222-2222-4222-8222-222222222222
name: ok_login
status: test
logsource: {product: linux, service: sshd}
detection:
  sel: {event.outcome: success}
  condition: sel
---
title: many sources
id: 33333333-3333-4333-8333-333333333333
status: test
correlation:
  type: value_count
  rules: [failed_login]
  group-by: [user.name]
  timespan: 10m
  condition: {gte: 5, field: source.ip}
level: medium
---
title: success after failures
id: 44444444-4444-4444-8444-444444444444
status: test
correlation:
  type: temporal_ordered
  rules: [failed_login, ok_login]
  group-by: [user.name]
  timespan: 10m
level: high
"""


def main():
    helptext = subprocess.run([SOCCTL, "--help"], capture_output=True,
                              text=True).stdout
    if "incident reopen" in helptext:
        check("a closed incident does not change" not in read("man/socctl.8"),
              "socctl(8) says a closed incident does not change, but "
              "`incident reopen` exists")

    sec = sections(read("man/soc-correlator.8"))
    check("SIGTERM" in sec.get("SIGNALS", ""), "SIGTERM under SIGNALS")
    check("SIGTERM" not in sec.get("SEQUENCE NUMBERS", ""),
          "no SIGTERM under SEQUENCE NUMBERS")

    m = re.search(r'#define CATEGORY_FILE\s+"([^"]+)"', read("correlator/category.h"))
    cat = m.group(1) if m else None
    check(cat == "categories.txt", f"CATEGORY_FILE is {cat}")
    for rel in ("README.md", "docs/RULES.md", "docs/INCIDENTS.md",
                "man/soc-correlator.8", "man/socctl.8"):
        for line in read(rel).split("\n"):
            if "categories.yml" in line:
                check("rather than" in line,
                      f"{rel}: names categories.yml as if it existed: {line!r}")

    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "corr.yml"), "w") as f:
            f.write(CORR_RULES)
        p = subprocess.run([SOCCTL, "rules", "check", tmp, "--mapping",
                            os.path.join(SRC, "rules", "mapping.yml")],
                           capture_output=True, text=True)
        loads = p.returncode == 0
        check(loads, f"value_count and temporal_ordered load: {p.stdout} {p.stderr}")
    for root, _, files in os.walk(os.path.join(SRC, "rules")):
        for name in files:
            if not name.endswith(".yml"):
                continue
            path = os.path.join(root, name)
            with open(path, encoding="utf-8") as f:
                head = "".join(l for l in f if l.startswith("#")).lower()
            if loads:
                check("limits of the current engine" not in head and
                      not re.search(r"(value_count|temporal_ordered)[^.]*"
                                    r"(unsupported|not supported)", head),
                      f"{path}: its header calls supported types unsupported")

    readme = read("README.md")
    check(re.search(r"Site rules[^\n]*\n(?:[^\n]+\n)*?[^\n]*test-rules\.c", readme)
          is not None, "README says where site rules belong (and why not rules/)")
    return done()


if __name__ == "__main__":
    sys.exit(main())
