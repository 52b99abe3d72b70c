#!/usr/bin/env python3
"""bench/archive.py: what archiving every event costs on the e2e path.

The e2e benchmark's throughput run (bench/e2e.py: a generated sshd log,
`soc-sensor --once`, one correlator, loopback, the shipped rules) twice
per round, with the archive on (the default: archive/ beside the
database) and off (archive.dir: off), alternating to even out a shared
machine; the best of each.  Prints events/s of each, the loss in per
cent (target: at most 15%), and the archive's bytes per event.

usage: archive.py BUILD [--lines N] [--rounds N] [--level L]
                  [--sync before|parallel]
"""
import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402


def run(build, tmp, log, lines, on, level, sync):
    d = tempfile.mkdtemp(dir=tmp)
    conf = os.path.join(d, "corr.yml")
    with open(conf, "w") as f:
        if on:
            f.write(f"archive:\n  level: {level}\n  sync: {sync}\n")
        else:
            f.write("archive:\n  dir: \"off\"\n")
    args = ("-c", conf)
    s = e2e.Setup(build, d, os.path.join(e2e.SRC, "rules"), None, args)
    try:
        dt, got, _, _, good = e2e.throughput(s, log, lines, False)
    finally:
        s.stop()
    size = 0
    adir = os.path.join(d, "archive")
    if os.path.isdir(adir):
        size = sum(os.path.getsize(os.path.join(adir, n))
                   for n in os.listdir(adir) if n.endswith(".zst"))
    shutil.rmtree(d, ignore_errors=True)
    return lines / dt, good, size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--lines", type=int, default=500000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--level", type=int, default=3)
    ap.add_argument("--sync", default="before", choices=("before", "parallel"))
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    tmp = tempfile.mkdtemp(prefix="soc-bench-archive.")
    try:
        log = os.path.join(tmp, "sshd.log")
        e2e.write_log(log, a.lines)
        best = {True: 0, False: 0}
        size = 0
        ok = True
        for r in range(a.rounds):
            for on in (False, True):
                rate, good, sz = run(build, tmp, log, a.lines, on, a.level, a.sync)
                ok = ok and good
                print(f"  round {r + 1} archive {'on ' if on else 'off'}"
                      f" {rate:10.0f} events/s{'' if good else '  LOSS'}")
                best[on] = max(best[on], rate)
                size = max(size, sz)
        loss = 100.0 * (1 - best[True] / best[False]) if best[False] else 0
        print(f"bench/archive.py: {a.lines} sshd lines, shipped rules, zstd level"
              f" {a.level}, archive.sync {a.sync}: archive off"
              f" {best[False]:.0f} events/s, on {best[True]:.0f} events/s:"
              f" {loss:.1f}% lost (target <= 15%); {size / a.lines:.1f} bytes/event"
              f" archived")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
