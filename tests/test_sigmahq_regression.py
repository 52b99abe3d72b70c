#!/usr/bin/env python3
"""scripts/sigmahq-regression on a checkout laid out as SigmaHQ's
(regression_data/<rule>/info.yml naming the rule id, the EVTX sample
and match_count; the rule under rules/ with that id), the samples taken
from ../shared/data/evtx: a case that passes (its rule fires at least
match_count times), one that fails (fewer), one whose rule the engine
refuses (a log source no Windows log carries), one with no rule of that
id; the counts line, each case in its list, and the exit status (1 while
a case fails, 0 when none does).  Skips (77) without the shared data.
"""
import os
import shutil
import subprocess
import sys
import tempfile

from soctest import SOCCTL, SRC, check, done

DATA = os.environ.get("SOC_TEST_DATA") or os.path.join(SRC, "..", "shared", "data")
SAMPLE = os.path.join(DATA, "evtx", "Execution", "exec_sysmon_1_lolbin_pcalua.evtx")
SCRIPT = os.path.join(SRC, "scripts", "sigmahq-regression")
MAPPING = os.path.join(SRC, "rules", "mapping.yml")


def rule(n, logsource, detection):
    return (f"title: Regression test {n}\nid: 7d0e6d2a-0b1c-4d2e-9f3a-{n:012d}\n"
            f"status: test\nlogsource:\n{logsource}detection:\n{detection}level: low\n")


PCALUA = "    sel:\n        Image|endswith: '\\\\pcalua.exe'\n    condition: sel\n"
PROC = "    product: windows\n    category: process_creation\n"
CASES = {   # name -> (rule text or None, match_count, outcome)
    "pass": (rule(1, PROC, PCALUA), 1, "passed"),
    "fail": (rule(2, PROC, PCALUA), 5, "failed"),
    "refused": (rule(3, "    product: windows\n    category: file_access\n",
                     "    sel:\n        FileName: x\n    condition: sel\n"), 1, "refused"),
    "norule": (None, 1, "missing"),
}


def info(n, sample, count):
    return (f"id: 00000000-0000-4000-8000-{n:012d}\nrule_metadata:\n"
            f"    - id: 7d0e6d2a-0b1c-4d2e-9f3a-{n:012d}\n      title: t\n"
            "regression_tests_info:\n    - name: Positive Detection Test\n"
            f"      type: evtx\n      provider: Microsoft-Windows-Sysmon\n"
            f"      match_count: {count}\n      path: {sample}\n")


def run(checkout):
    return subprocess.run([sys.executable, SCRIPT, "--socctl", SOCCTL, "--mapping",
                           MAPPING, "--verbose", checkout],
                          capture_output=True, text=True, timeout=300)


def main():
    if not os.path.exists(SAMPLE):
        print(f"skip: {SAMPLE} absent (set SOC_TEST_DATA)")
        return 77
    tmp = tempfile.mkdtemp(prefix="soc-sigmahq-regression-")
    co = os.path.join(tmp, "sigma")
    try:
        for i, (name, (text, count, _)) in enumerate(CASES.items(), 1):
            d = os.path.join(co, "regression_data", "rules", "windows", name)
            os.makedirs(d)
            rel = f"regression_data/rules/windows/{name}/{i}.evtx"
            shutil.copyfile(SAMPLE, os.path.join(co, rel))
            with open(os.path.join(d, "info.yml"), "w") as f:
                f.write(info(i, rel, count))
            if text is not None:
                os.makedirs(os.path.join(co, "rules", "windows"), exist_ok=True)
                with open(os.path.join(co, "rules", "windows", f"{name}.yml"), "w") as f:
                    f.write(text)
        p = run(co)
        print(p.stdout, end="")
        check(p.returncode == 1, f"a failed case exits 1: {p.returncode} {p.stderr}")
        check("4 cases: passed 1, failed 1, refused 1, missing 1" in p.stdout,
              "the counts")
        lists, cur = {}, None
        for line in p.stdout.splitlines():
            if line.endswith(":") and not line.startswith(" "):
                cur = line[:-1]
            elif cur and line.startswith("  "):
                lists.setdefault(cur, []).append(line.strip())
        for name, (text, count, outcome) in CASES.items():
            hit = [x for x in lists.get(outcome, [])
                   if f"{name}.yml" in x or (text is None and "no rule with id" in x)]
            check(len(hit) == 1, f"{name}: listed as {outcome}: {lists.get(outcome)}")
        check(any("fail.yml: 1 matches, 5 expected" in x for x in lists.get("failed", [])),
              "the failure says how many matched")
        check(any("is not mapped to any dataset" in x for x in lists.get("refused", [])),
              "the refusal says why")

        shutil.rmtree(os.path.join(co, "regression_data", "rules", "windows", "fail"))
        p = run(co)
        check(p.returncode == 0 and "3 cases: passed 1, failed 0" in p.stdout,
              f"no failed case: exit 0: {p.returncode} {p.stdout}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
