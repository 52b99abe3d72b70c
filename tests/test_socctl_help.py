#!/usr/bin/env python3
"""Regression (issue 15, item 18): `socctl incident --help` printed
"unknown command 'incident --help'" and exited 1, the same for every
family of commands (agency, sensor, rules, ...).  Now, for every family
that `socctl --help` lists (its two-word commands, grouped by the first
word), `socctl FAMILY --help`, `socctl FAMILY -h`, `socctl FAMILY help`
and `socctl help FAMILY` exit 0 and print each command of that family
with its usage and its help text, and nothing from another family; a
command's own `--help` still prints only that command.  No database is
touched (none exists)."""
import os
import re
import subprocess
import sys
import tempfile

from soctest import SOCCTL, check, done


def ctl(*args):
    env = dict(os.environ, SOC_DB=os.path.join(tempfile.gettempdir(),
                                              "soc-help-no-such.db"))
    return subprocess.run([SOCCTL, *args], capture_output=True, text=True,
                          env=env)


def main():
    top = ctl("--help")
    check(top.returncode == 0, "socctl --help")
    cmds = re.findall(r"^  ([a-z][a-z-]*(?: [a-z][a-z-]*)?) ", top.stdout, re.M)
    families = {}
    for c in cmds:
        if " " in c:
            fam, sub = c.split(" ")
            families.setdefault(fam, []).append(c)
    check(len(families) >= 8 and "incident" in families and "agency" in families,
          f"families found in --help: {sorted(families)}")
    for fam, members in sorted(families.items()):
        for argv in ([fam, "--help"], [fam, "-h"], [fam, "help"], ["help", fam]):
            p = ctl(*argv)
            what = "socctl " + " ".join(argv)
            check(p.returncode == 0, f"{what}: exit {p.returncode}: {p.stderr!r}")
            check(p.stdout.startswith(f"usage: socctl [--db PATH] {fam} "),
                  f"{what}: a usage line: {p.stdout[:80]!r}")
            for m in members:
                check(f"\n  {m} " in p.stdout, f"{what}: lists {m!r}")
                # each command's own help text is there too
                own = ctl(*m.split(" "), "--help")
                check(own.returncode == 0, f"{m} --help")
                text = own.stdout.split("\n\n", 1)[-1].strip().split("\n")[0]
                check(text and text in p.stdout,
                      f"{what}: carries {m}'s help {text!r}")
            others = [c for c in cmds if " " in c and not c.startswith(fam + " ")]
            check(not any(f"\n  {o} " in p.stdout for o in others),
                  f"{what}: only its own family")
    # one command's help is still that command only
    p = ctl("incident", "show", "--help")
    check(p.returncode == 0 and p.stdout.startswith(
        "usage: socctl [--db PATH] incident show ") and "incident ack" not in p.stdout,
          f"incident show --help: {p.stdout!r}")
    # an unknown command of a family is still an error, listing the family
    p = ctl("incident", "frobnicate")
    check(p.returncode == 1 and "incident ack" in p.stderr,
          f"incident frobnicate: {p.returncode} {p.stderr!r}")
    return done()


if __name__ == "__main__":
    sys.exit(main())
