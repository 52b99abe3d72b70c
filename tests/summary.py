#!/usr/bin/env python3
"""Prints one closing line for `make test` over every meson test run:
'N passed, N failed' (with skipped), from meson's testlog.json files.

Under CI (CI=true in the environment) a skipped test counts as failed and
the exit code is 1: CI runs beside ../shared/data with every tool that
`make test` installs, so a skip there means a required data set or tool
is missing and the test proved nothing.  SOC_ALLOW_SKIP=1 turns that off.
"""
import json
import os
import sys

ci = os.environ.get("CI", "") not in ("", "0", "false") and \
    os.environ.get("SOC_ALLOW_SKIP", "") in ("", "0")
passed = failed = skipped = 0
for build in sys.argv[1:]:
    path = os.path.join(build, "meson-logs", "testlog.json")
    if not os.path.exists(path):
        continue
    with open(path) as f:
        for line in f:
            t = json.loads(line)
            r = t.get("result")
            if r == "OK" or r == "EXPECTEDFAIL":
                passed += 1
            elif r == "SKIP":
                if ci:
                    failed += 1
                    why = (t.get("stdout") or "").strip().splitlines()
                    print("skipped under CI, counted as failed: %s (%s)" %
                          (t.get("name"), why[-1] if why else "no reason given"))
                else:
                    skipped += 1
            else:
                failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
