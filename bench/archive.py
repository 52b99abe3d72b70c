#!/usr/bin/env python3
"""bench/archive.py: what archiving every event costs on the e2e path.

The e2e benchmark's throughput run (bench/e2e.py: a generated sshd log,
`soc-sensor --once`, one correlator, loopback, the shipped rules) twice
per round, with the archive on (the default: archive/ beside the
database) and off (archive.dir: off), alternating to even out a shared
machine; the best of each.  Prints events/s of each, the loss in per
cent (target: at most 15%) of the bests and the median of each round's
own (its runs back to back: a load that changes between rounds moves it
less), and the archive's bytes per event.

The wall-clock figures move by a factor of two on a shared machine, so
each run also reads the correlator's CPU time from /proc (all threads,
and the archive's encoder thread alone) just before it is stopped: the
median per event of each, on and off, is the cost that noise moves
least.  --level and --sync set archive.level and archive.sync (default:
the correlator's defaults).  --compare LEVEL:SYNC[,...] adds archive-on variants to every
round (e.g. --compare 3:before,1:before,-1:parallel), each with its own
best rate, loss and CPU.  --base OTHER_BUILD adds the archive on with
the defaults of another build (the code before a change), so before and
after are measured in the same rounds.

usage: archive.py BUILD [--lines N] [--rounds N] [--level L]
                  [--sync before|parallel] [--compare LEVEL:SYNC,...]
                  [--base OTHER_BUILD]
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402


def cpu(pid):
    """CPU seconds of the process pid: all its threads, and those of its
    archive encoder thread ("archive-enc")."""
    tick = os.sysconf("SC_CLK_TCK")
    total = enc = 0.0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0, 0.0
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/stat") as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        fields = st[st.rindex(")") + 2:].split()
        sec = (int(fields[11]) + int(fields[12])) / tick
        total += sec
        if comm == "archive-enc":
            enc += sec
    return total, enc


def run(build, tmp, log, lines, on, level, sync):
    d = tempfile.mkdtemp(dir=tmp)
    conf = os.path.join(d, "corr.yml")
    with open(conf, "w") as f:
        if on:	# None: the correlator's default
            f.write("# the archive's defaults\n" if level is None and
                    sync is None else "archive:\n")
            if level is not None:
                f.write(f"  level: {level}\n")
            if sync is not None:
                f.write(f"  sync: {sync}\n")
        else:
            f.write("archive:\n  dir: \"off\"\n")
    args = ("-c", conf)
    s = e2e.Setup(build, d, os.path.join(e2e.SRC, "rules"), None, args)
    try:
        c0 = cpu(s.corr.pid)[0]	# the start: rules compiled
        dt, got, _, _, good = e2e.throughput(s, log, lines, False)
        c1, enc = cpu(s.corr.pid)
    finally:
        s.stop()
    size = 0
    adir = os.path.join(d, "archive")
    if os.path.isdir(adir):
        size = sum(os.path.getsize(os.path.join(adir, n))
                   for n in os.listdir(adir) if n.endswith(".zst"))
    shutil.rmtree(d, ignore_errors=True)
    return lines / dt, good, size, (c1 - c0) * 1e6 / lines, enc * 1e6 / lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--lines", type=int, default=500000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--level", type=int, default=None)
    ap.add_argument("--sync", default=None, choices=("before", "parallel"))
    ap.add_argument("--compare", default="")
    ap.add_argument("--base", default=None)
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    # the variants: off, then archive on with each (build, level, sync)
    variants = [None, (build, a.level, a.sync)]
    for v in filter(None, a.compare.split(",")):
        lv, _, sy = v.partition(":")
        if sy not in ("before", "parallel"):
            ap.error(f"--compare {v}: LEVEL:before or LEVEL:parallel")
        if (build, int(lv), sy) not in variants:
            variants.append((build, int(lv), sy))
    if a.base:
        variants.append((os.path.abspath(a.base), None, None))
    name = {v: "off" if v is None else ("base " if v[0] != build else "") +
            "on level " + ("default" if v[1] is None else str(v[1])) +
            " sync " + (v[2] or "default") for v in variants}
    tmp = tempfile.mkdtemp(prefix="soc-bench-archive.")
    try:
        log = os.path.join(tmp, "sshd.log")
        e2e.write_log(log, a.lines)
        best = {v: 0 for v in variants}
        rates = {v: [] for v in variants}
        cpus = {v: [] for v in variants}
        encs = {v: [] for v in variants}
        size = {v: 0 for v in variants}
        ok = True
        for r in range(a.rounds):
            for v in variants:
                b, lv, sy = v or (build, None, None)
                rate, good, sz, us, enc = run(b, tmp, log, a.lines,
                                              v is not None, lv, sy)
                ok = ok and good
                print(f"  round {r + 1} {name[v]:34} {rate:10.0f} events/s;"
                      f" correlator CPU {us:5.2f} us/event (encoder"
                      f" {enc:4.2f}){'' if good else '  LOSS'}", flush=True)
                best[v] = max(best[v], rate)
                rates[v].append(rate)
                cpus[v].append(us)
                encs[v].append(enc)
                size[v] = max(size[v], sz)
        off = best[None]
        coff = statistics.median(cpus[None])
        print(f"bench/archive.py: {a.lines} sshd lines, shipped rules, best of"
              f" {a.rounds} rounds; CPU: median of the correlator's us/event")
        print(f"  {'off':34} {off:10.0f} events/s;"
              f" CPU {coff:5.2f} us/event")
        for v in variants[1:]:
            loss = 100.0 * (1 - best[v] / off) if off else 0
            # each round's own loss (its runs back to back), the median:
            # a load that moves between rounds moves it less
            rloss = statistics.median(100.0 * (1 - x / y) for x, y in
                                      zip(rates[v], rates[None]) if y)
            c = statistics.median(cpus[v])
            print(f"  {name[v]:34} {best[v]:10.0f} events/s: {loss:5.1f}% lost"
                  f" (median of the rounds' {rloss:5.1f}%; target <= 15%);"
                  f" CPU {c:5.2f} us/event"
                  f" (+{c - coff:4.2f}, +{100.0 * (c / coff - 1) if coff else 0:.0f}%,"
                  f" encoder {statistics.median(encs[v]):4.2f});"
                  f" {size[v] / a.lines:.1f} bytes/event archived")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
