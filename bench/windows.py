#!/usr/bin/env python3
"""Records/s of `socctl rules test --evtx` beside evtxexport (not in make test).

    bench/windows.py [--build build] [--rules DIR] [--sigma GIT_DIR]
                     [--data DIR] [--passes N]

The offline use of issue 17 (a responder with a disk image): EVTX files
read by the sensor's reader (libevtx renders each record's XML,
winlog-xml.c and winlog-ecs.c make the event) and matched against at
least 2,000 Windows rules loaded, each alert printed.  The peer is
evtxexport (Debian libevtx-utils), the same library's own tool, on the
same files in the same run: `evtxexport -m all -f xml FILE` renders the
same records (the allocated ones and those recovered from free space)
as XML to /dev/null and does nothing else.

The rules, first found of:
  --rules DIR            any directory of Sigma rules;
  --sigma GIT_DIR        a SigmaHQ clone or bare mirror: its rules/windows
                         at 8eaafff1 (issue 17's count, 2,407 files) is
                         archived into a temporary directory;
  $SOC_SIGMA_GIT, /work/.mirror/SigmaHQ+sigma/repo   the same;
  else 2,400 generated Windows rules (process_creation, registry,
  network, image_load, Security and PowerShell services) whose values
  mostly never match, as most of SigmaHQ's never do on a given host.
The EVTX files: every *.evtx under --data, else under
$SOC_TEST_DATA/evtx or ../shared/data/evtx (107 files, 3,071 records
with the recovered ones); skips (exit 77) without them, without
evtxexport or without a socctl built with libevtx.

socctl prints the time of reading and matching alone ("evtx: N records
from F files read and matched in S s"): loading and compiling the rules
(seconds for 2,400) is not per record and is printed apart.  The file
list is given --passes times (default 5) in one run.  evtxexport is one
process per file, so its time is measured per pass and the cost of
starting it (`evtxexport -V`, as many times) is taken off: the figure
kept for evtxexport is the better one for it.  The ratio is socctl's
records/s over evtxexport's; issue 17's target is at least 50%.
"""
import argparse
import glob
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
SIGMA_COMMIT = "8eaafff1"
EVTX_LINE = re.compile(r"^evtx: (\d+) records from (\d+) files read and "
                       r"matched in ([0-9.]+) s")
SUMMARY = re.compile(r"^(\d+) rules \((\d+) refused\), (\d+) events, "
                     r"(\d+) alerts")


def skip(why):
    print(f"bench/windows: skipped: {why}")
    sys.exit(SKIP)


def die(why):
    print(f"bench/windows: {why}", file=sys.stderr)
    sys.exit(1)


# -- generated rules, when no SigmaHQ checkout is at hand ---------------

GEN = [
    ("category: process_creation", ["Image|endswith", "CommandLine|contains",
                                    "ParentImage|endswith",
                                    "OriginalFileName", "User|contains"]),
    ("category: registry_set", ["TargetObject|contains", "Details|contains",
                                "Image|endswith"]),
    ("category: network_connection", ["DestinationHostname|endswith",
                                      "Image|endswith", "DestinationPort"]),
    ("category: image_load", ["ImageLoaded|endswith", "Image|endswith"]),
    ("category: file_event", ["TargetFilename|contains", "Image|endswith"]),
    ("service: security", ["SubjectUserName", "TargetUserName|endswith",
                           "ServiceName|contains", "ObjectName|contains"]),
    ("service: powershell", ["ScriptBlockText|contains"]),
]


def gen_rules(dest, n=2400, seed=17):
    rnd = random.Random(seed)
    os.makedirs(dest, exist_ok=True)
    for i in range(n):
        ls, fields = GEN[i % len(GEN)]
        sel = []
        for f in rnd.sample(fields, min(len(fields), 1 + rnd.randrange(2))):
            if f == "DestinationPort":
                sel.append(f"    {f}: {1024 + rnd.randrange(60000)}")
                continue
            vals = [f"'x{rnd.randrange(1 << 30):08x}{j}.exe'"
                    for j in range(1 + rnd.randrange(4))]
            if i % 97 == 0 and f.startswith("Image"):
                vals.append("'\\\\rundll32.exe'")	# a few that fire
            sel.append(f"    {f}:")
            sel.extend(f"      - {v}" for v in vals)
        with open(os.path.join(dest, f"gen_{i:05d}.yml"), "w") as fh:
            fh.write(f"title: generated windows rule {i}\n"
                     f"id: 00000000-0000-4000-9000-{i:012d}\n"
                     "status: test\nlevel: medium\n"
                     f"logsource:\n  product: windows\n  {ls}\n"
                     "detection:\n  selection:\n" + "\n".join(sel) +
                     "\n  condition: selection\n")
    return dest, f"{n} generated rules"


def sigma_rules(git_dir, tmp):
    dest = os.path.join(tmp, "sigma")
    os.makedirs(dest)
    arch = subprocess.run(["git", "--git-dir", git_dir, "archive",
                           SIGMA_COMMIT, "rules/windows"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if arch.returncode != 0:
        return None
    subprocess.run(["tar", "-x", "-C", dest], input=arch.stdout, check=True)
    return (os.path.join(dest, "rules", "windows"),
            f"SigmaHQ rules/windows at {SIGMA_COMMIT}")


def pick_rules(a, tmp):
    if a.rules:
        return a.rules, a.rules
    for g in (a.sigma, os.environ.get("SOC_SIGMA_GIT"),
              "/work/.mirror/SigmaHQ+sigma/repo"):
        if g and os.path.isdir(g):
            r = sigma_rules(g, tmp)
            if r:
                return r
    return gen_rules(os.path.join(tmp, "gen"))


def evtx_files(a):
    data = a.data or os.path.join(
        os.environ.get("SOC_TEST_DATA") or os.path.join(TOP, "..", "shared",
                                                        "data"), "evtx")
    files = sorted(glob.glob(os.path.join(data, "**", "*.evtx"),
                             recursive=True))
    if not files:
        skip(f"no .evtx files under {data}")
    return data, files


def run_socctl(socctl, rules, files, passes):
    cmd = [socctl, "rules", "test", rules, "--mapping",
           os.path.join(TOP, "rules", "mapping.yml"), "--evtx"] + \
        files * passes
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    wall = time.monotonic() - t0
    ev = summ = None
    for line in p.stderr.splitlines():
        ev = ev or EVTX_LINE.match(line)
        summ = summ or SUMMARY.match(line)
    if "built without libevtx" in p.stderr:
        skip("socctl was built without libevtx")
    if ev is None or summ is None:
        die(f"socctl rules test: no figures (exit {p.returncode}): "
            f"{p.stderr[-800:]}")
    return (int(ev.group(1)), float(ev.group(3)), int(summ.group(1)),
            int(summ.group(2)), int(summ.group(4)), wall)


def time_each(cmd, files):
    t0 = time.monotonic()
    for f in files:
        subprocess.run(cmd + [f] if f else cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--rules")
    ap.add_argument("--sigma")
    ap.add_argument("--data")
    ap.add_argument("--passes", type=int, default=5)
    a = ap.parse_args()
    socctl = os.path.join(a.build, "correlator", "socctl")
    if not os.access(socctl, os.X_OK):
        die(f"{socctl}: not built")
    ee = shutil.which("evtxexport")
    if ee is None:
        skip("no evtxexport (Debian libevtx-utils)")
    data, files = evtx_files(a)
    tmp = tempfile.mkdtemp(prefix="soc-bench-windows-")
    try:
        rules, what = pick_rules(a, tmp)
        nrec, secs, nrules, nref, nalerts, wall = run_socctl(
            socctl, rules, files, a.passes)
        if nrules < 2000:
            die(f"only {nrules} rules loaded from {rules}: want 2,000 or more")
        # evtxexport: the same files, as many passes, one process per file
        ee_secs = min(time_each([ee, "-m", "all", "-f", "xml"], files)
                      for _ in range(a.passes))
        items_secs = min(time_each([ee, "-f", "xml"], files)
                         for _ in range(a.passes))
        start = min(time_each([ee, "-V"], [None] * len(files))
                    for _ in range(a.passes))
        ee_recs = nrec // a.passes
        ee_rate = ee_recs / max(ee_secs - start, 1e-6)
        rate = nrec / secs
        print(f"bench/windows: {len(files)} EVTX files under {data}, "
              f"{nrec // a.passes} records a pass, {a.passes} passes")
        print(f"  rules: {what}: {nrules} loaded, {nref} refused "
              f"(load and compile {wall - secs:.1f} s, apart)")
        print(f"  socctl rules test --evtx: {nrec} records in {secs:.3f} s: "
              f"{rate:,.0f} records/s ({nalerts} alerts)")
        print(f"  evtxexport -m all -f xml: {ee_recs} records in "
              f"{ee_secs:.3f} s a pass, of which {start:.3f} s starting "
              f"{len(files)} processes: {ee_rate:,.0f} records/s")
        print(f"  ratio: {100 * rate / ee_rate:.0f}% of evtxexport "
              f"(target 50% or more)")
        # the records libevtx does not recover are fewer and cheaper:
        # socctl still reads the recovered ones, so this is its floor
        items = sum(subprocess.run([ee, "-f", "xml", f], stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL).stdout.count(
                                       b"<Event ") for f in files)
        it_rate = items / max(items_secs - start, 1e-6)
        print(f"  evtxexport -f xml (no recovered records): {items} records "
              f"in {items_secs:.3f} s a pass: {it_rate:,.0f} records/s; "
              f"socctl (which reads the recovered ones too) at "
              f"{100 * rate / it_rate:.0f}% of it")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
