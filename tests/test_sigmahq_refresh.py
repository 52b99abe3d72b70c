#!/usr/bin/env python3
"""scripts/sigmahq-refresh against real SigmaHQ rules (the 30 in
../shared/data/sigma, a snapshot of SigmaHQ/sigma): every rule file ends
up either copied (header naming the source and the Detection Rule
License, body and `author` byte for byte as in the checkout) or listed
as refused with file:line and a reason, or counted as a log source the
sensors do not produce; the copy loads with `socctl rules check`, also
beside the shipped rules/; a correlation whose counted rule was refused
is refused too; a SigmaHQ rule refused names a log source or a field
the sensors do not produce; a rerun replaces the copy; a file the
script did not write in the target stops it.  Skips (77) when the data
is absent.
"""
import importlib.machinery
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile

from soctest import SOCCTL, SRC, check, done, run

# the list of Sigma fields no sensor fills, from scripts/sigmahq-scope
SCOPE = importlib.util.module_from_spec(importlib.util.spec_from_loader(
    "sigmahq_scope", importlib.machinery.SourceFileLoader(
        "sigmahq_scope", os.path.join(SRC, "scripts", "sigmahq-scope"))))
SCOPE.__loader__.exec_module(SCOPE)

DATA = os.path.join(os.environ.get("SOC_TEST_DATA", os.path.join(SRC, "..", "shared", "data")),
                    "sigma")
SCRIPT = os.path.join(SRC, "scripts", "sigmahq-refresh")
MAPPING = os.path.join(SRC, "rules", "mapping.yml")

MACOS = """title: macOS only
id: 7f1d0a52-5c55-4f8e-9c8c-1c6e8b0c0001
status: test
author: Someone Else
logsource:
  product: macos
  category: process_creation
detection:
  sel:
    Image|endswith: '/whoami'
  condition: sel
level: low
"""

# Windows rules load (issue 17): copied like any other
WINDOWS = MACOS.replace("macOS only", "Windows process").replace("0001\n", "0004\n") \
    .replace("product: macos", "product: windows").replace("'/whoami'", "'\\\\whoami.exe'")

BAD = """title: Bad modifier
id: 7f1d0a52-5c55-4f8e-9c8c-1c6e8b0c0002
name: test_bad_modifier
status: test
author: Someone Else
logsource:
  product: linux
  service: sshd
detection:
  sel:
    message|nonsense: x
  condition: sel
level: low
"""

ORPHAN = """title: Counts the bad rule
id: 7f1d0a52-5c55-4f8e-9c8c-1c6e8b0c0003
status: test
author: Someone Else
correlation:
  type: event_count
  rules:
    - test_bad_modifier
  group-by:
    - source.ip
  timespan: 5m
  condition:
    gte: 3
level: low
"""


def refresh(checkout, target, ok=True):
    p = subprocess.run([sys.executable, SCRIPT, "--socctl", SOCCTL, "--mapping", MAPPING,
                        "--commit", "0123456789abcdef", checkout, target],
                       capture_output=True, text=True, timeout=300)
    if ok and p.returncode != 0:
        print(p.stdout, p.stderr, file=sys.stderr)
    return p


def main():
    if not os.path.isdir(os.path.join(DATA, "rules")):
        print(f"skip: no SigmaHQ rules at {DATA}")
        return 77
    tmp = tempfile.mkdtemp(prefix="soc-sigmahq-")
    checkout = os.path.join(tmp, "sigma")
    shutil.copytree(DATA, checkout)
    extra = os.path.join(checkout, "rules", "zz-test")
    os.makedirs(extra)
    for name, text in (("mac.yml", MACOS), ("win.yml", WINDOWS), ("bad.yml", BAD),
                       ("orphan.yml", ORPHAN)):
        with open(os.path.join(extra, name), "w") as f:
            f.write(text)
    originals = {}
    for d, _, files in os.walk(os.path.join(checkout, "rules")):
        for fn in files:
            if fn.endswith(".yml"):
                rel = os.path.relpath(os.path.join(d, fn), os.path.join(checkout, "rules"))
                originals[rel] = open(os.path.join(d, fn), encoding="utf-8").read()

    target = os.path.join(tmp, "sigmahq")
    p = refresh(checkout, target)
    check(p.returncode == 0, f"refresh exits 0: {p.returncode} {p.stderr.strip()}")
    print(p.stdout, end="")
    refused = open(os.path.join(target, "REFUSED.txt")).read()
    refused_files = {l.split(":")[0] for l in refused.splitlines() if not l.startswith("#")}
    copied = set()
    for d, _, files in os.walk(target):
        for fn in files:
            if fn.endswith(".yml"):
                copied.add(os.path.relpath(os.path.join(d, fn), target))

    check(copied and len(copied) >= len(originals) // 2,
          f"most SigmaHQ rules in scope load: {len(copied)} of {len(originals)}")
    for rel, body in originals.items():
        if rel == "zz-test/mac.yml":
            continue
        check((rel in copied) != (rel in refused_files),
              f"{rel}: either copied or listed as refused")
        if rel in copied:
            text = open(os.path.join(target, rel), encoding="utf-8").read()
            head, _, rest = text.partition("title:")
            check(("title:" + rest) == body[body.index("title:"):] and body.startswith("title:"),
                  f"{rel}: body copied unchanged")
            check("Detection Rule License (DRL) 1.1" in head and
                  f"rules/{rel}" in head and "0123456789abcdef" in head,
                  f"{rel}: header names the source, commit and license")
            authors = [l for l in body.splitlines() if l.startswith("author:")]
            check(authors and authors[0] in text, f"{rel}: author kept")
    # a sample rule refused must be refused for what the sensors do not
    # produce: a log source, or a field of sigmahq-scope's list
    for line in refused.splitlines():
        if line.startswith("#") or line.startswith("zz-test/"):
            continue
        field = re.search(r"unknown field '([^']*)'", line)
        check("is not mapped to any dataset" in line or
              (field is not None and field.group(1) in SCOPE.FIELDS_NOT_PRODUCED),
              f"a SigmaHQ refusal names a log source or field not produced: {line}")
    check("zz-test/mac.yml" not in copied and "zz-test/mac.yml" not in refused_files,
          "a macOS rule is out of scope: neither copied nor listed")
    check("product=macos" in p.stdout and "not produced" in p.stdout,
          "out-of-scope log sources are counted")
    check("zz-test/win.yml" in copied, "a Windows rule is copied (issue 17)")
    check("zz-test/bad.yml:11: unknown modifier 'nonsense'" in refused,
          f"a refused rule is listed with the line in the checkout and the reason: {refused}")
    check("zz-test/bad.yml" in p.stdout and "zz-test/orphan.yml" in refused_files,
          "a correlation over a refused rule is refused too")
    check(os.path.exists(os.path.join(target, "LICENSE.Detection.Rules.md")) and
          os.path.exists(os.path.join(target, "LICENSE.sigma-repo.md")),
          "the license text and the repository's note are copied beside the rules")

    p = run(SOCCTL, "rules", "check", target, "--mapping", MAPPING, ok=False)
    check(p.returncode == 0 and " 0 refused" in p.stdout, f"the copy loads: {p.stdout.strip()}")
    p = run(SOCCTL, "rules", "check", os.path.join(SRC, "rules"), target, ok=False)
    check(p.returncode == 0 and " 0 refused" in p.stdout,
          f"the copy loads beside the shipped rules: {p.stdout.strip()} {p.stderr.strip()[:300]}")

    # a rerun replaces the copy; a file we did not write stops it
    os.unlink(os.path.join(extra, "bad.yml"))
    p = refresh(checkout, target)
    check(p.returncode == 0 and "zz-test/bad.yml" not in open(
        os.path.join(target, "REFUSED.txt")).read(), "a rerun replaces the copy")
    local = os.path.join(target, "local.yml")
    with open(local, "w") as f:
        f.write("title: mine\n")
    p = refresh(checkout, target, ok=False)
    check(p.returncode == 1 and "not written by sigmahq-refresh" in p.stderr and
          os.path.exists(local), f"a local file in the target stops the refresh: {p.stderr}")
    return done()


if __name__ == "__main__":
    sys.exit(main())
