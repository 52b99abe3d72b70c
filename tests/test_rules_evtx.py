#!/usr/bin/env python3
"""`socctl rules test DIR --evtx FILE...` (issue 17): EVTX files through
the sensor's reader (evtxread) and the engine, with rules/mapping.yml's
Windows mapping.

- A SigmaHQ-style process_creation rule (Sysmon EventID 1, EventData
  names) fires on the shared sample it was written for (pcalua.exe
  launching a program), once per matching record, and not on a near miss
  (another lolbin's sample); both samples in one --evtx run give the
  positive's alert only.
- A service rule (system: EventID 104, the log cleared) fires on its
  sample and not on the same EventID in another channel's rule.
- --json prints the alert with the event nested as Winlogbeat does
  (winlog.event_data.*).
- A file that is not an EVTX file is an error (exit 1), never a crash.
- Keywords (a list without field, product windows alone): an EVTX record
  has no rendered message, so its EventData values, one a line, are its
  message: a keyword of pcalua's command line fires on its sample, with
  the message made of the values; a near miss (one space less) and
  ftp's sample do not.

Skips (exit 77) without the shared data or without libevtx.
"""
import json
import os
import sys
import tempfile

from soctest import SOCCTL, SRC, check, done, run

SKIP = 77
MAPPING = os.path.join(SRC, "rules", "mapping.yml")
DATA = os.environ.get("SOC_TEST_DATA") or os.path.join(SRC, "..", "shared", "data")
EVTX = os.path.join(DATA, "evtx")
PCALUA = os.path.join(EVTX, "Execution", "exec_sysmon_1_lolbin_pcalua.evtx")
FTP = os.path.join(EVTX, "Execution", "exec_sysmon_1_ftp.evtx")
CLEARED = os.path.join(EVTX, "Defense_Evasion", "DE_104_system_log_cleared.evtx")

RULES = """title: pcalua
id: 00000000-0000-4000-8000-000000000001
status: test
level: medium
logsource:
  category: process_creation
  product: windows
detection:
  selection:
    Image|endswith: '\\\\pcalua.exe'
    CommandLine|contains: ' -a'
  condition: selection
---
title: system log cleared
id: 00000000-0000-4000-8000-000000000002
status: test
level: high
logsource:
  product: windows
  service: system
detection:
  selection:
    EventID: 104
    Provider_Name: Microsoft-Windows-Eventlog
  condition: selection
---
title: 104 in security
id: 00000000-0000-4000-8000-000000000003
status: test
level: high
logsource:
  product: windows
  service: security
detection:
  selection:
    EventID: 104
  condition: selection
"""


KEYWORDS = """title: kw calc
id: 00000000-0000-4000-8000-000000000011
status: test
level: medium
logsource:
  product: windows
detection:
  keywords:
    - 'pcalua.exe"  -a c:\\\\Windows\\\\system32\\\\calc.exe'
  condition: keywords
---
title: kw near miss
id: 00000000-0000-4000-8000-000000000012
status: test
level: medium
logsource:
  product: windows
detection:
  keywords:
    - 'pcalua.exe" -a c:\\\\Windows\\\\system32\\\\calc.exe'
  condition: keywords
"""


def titles(rd, *files, ok=True):
    p = run(SOCCTL, "rules", "test", rd, "--mapping", MAPPING, "--json",
            "--evtx", *files, ok=None)
    if ok:
        check(p.returncode == 0, f"rules test exit 0: {p.stderr}")
    return p, (json.loads(p.stdout) if p.stdout.strip() else [])


def main():
    for f in (PCALUA, FTP, CLEARED):
        if not os.path.exists(f):
            print(f"skip: {f} absent (set SOC_TEST_DATA)")
            return SKIP
    with tempfile.TemporaryDirectory(prefix="soc-rules-evtx-") as tmp:
        rd = os.path.join(tmp, "rules")
        os.makedirs(rd)
        with open(os.path.join(rd, "w.yml"), "w") as f:
            f.write(RULES)
        p = run(SOCCTL, "rules", "test", rd, "--mapping", MAPPING, "--evtx",
                PCALUA, ok=None)
        if "libevtx" in p.stderr and p.returncode != 0:
            print("skip: built without libevtx")
            return SKIP
        check(p.returncode == 0 and "3 rules (0 refused)" in p.stderr,
              f"the rules load and the file reads: {p.stderr}")
        check("pcalua" in p.stdout and "count 1" in p.stdout,
              f"text output names the rule: {p.stdout!r}")

        _, a = titles(rd, PCALUA)
        check([x["rule"]["title"] for x in a] == ["pcalua"],
              f"positive: one alert: {[x['rule']['title'] for x in a]}")
        ev = a[0]["event"] if a else {}
        check(ev.get("winlog", {}).get("event_data", {}).get("Image", "")
              .lower().endswith("\\pcalua.exe"),
              f"the event nests winlog.event_data: {ev.get('winlog')}")
        check(ev.get("winlog", {}).get("channel") ==
              "Microsoft-Windows-Sysmon/Operational", "channel kept")

        _, a = titles(rd, FTP)
        check(a == [], f"near miss (ftp.exe): no alert: {a}")
        _, a = titles(rd, FTP, PCALUA)
        check([x["rule"]["title"] for x in a] == ["pcalua"],
              f"two files in one run: {[x['rule']['title'] for x in a]}")

        _, a = titles(rd, CLEARED)
        check([x["rule"]["title"] for x in a] == ["system log cleared"],
              f"service system, not security: {[x['rule']['title'] for x in a]}")

        bad = os.path.join(tmp, "not.evtx")
        with open(bad, "wb") as f:
            f.write(b"ElfFile\0" + b"\xff" * 200)
        p, _ = titles(rd, bad, ok=False)
        check(p.returncode == 1 and p.returncode >= 0,
              f"a broken file: exit 1, no crash: {p.returncode} {p.stderr}")
        p = run(SOCCTL, "rules", "test", rd, "--evtx", ok=None)
        check(p.returncode == 1 and "--evtx needs a file" in p.stderr,
              f"--evtx alone: usage: {p.stderr}")

        kd = os.path.join(tmp, "kw")
        os.makedirs(kd)
        with open(os.path.join(kd, "k.yml"), "w") as f:
            f.write(KEYWORDS)
        _, a = titles(kd, PCALUA)
        check(sorted({x["rule"]["title"] for x in a}) == ["kw calc"],
              f"keyword in an EventData value: {[x['rule']['title'] for x in a]}")
        msg = a[0]["event"].get("message", "") if a else ""
        ed = a[0]["event"].get("winlog", {}).get("event_data", {}) if a else {}
        check(ed.get("CommandLine", "?") in msg.split("\n") and
              ed.get("Image", "?") in msg.split("\n"),
              f"the message is the values, one a line: {msg[:200]!r}")
        _, a = titles(kd, FTP)
        check(a == [], f"keywords: ftp's sample: no alert: {a}")
    return done()


if __name__ == "__main__":
    sys.exit(main())
