#!/usr/bin/env python3
"""Prints one closing line for `make test` over every meson test run:
'N passed, N failed' (with skipped), from meson's testlog.json files."""
import json
import os
import sys

passed = failed = skipped = 0
for build in sys.argv[1:]:
    path = os.path.join(build, "meson-logs", "testlog.json")
    if not os.path.exists(path):
        continue
    with open(path) as f:
        for line in f:
            r = json.loads(line).get("result")
            if r == "OK" or r == "EXPECTEDFAIL":
                passed += 1
            elif r == "SKIP":
                skipped += 1
            else:
                failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
