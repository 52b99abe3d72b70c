#!/usr/bin/env python3
"""bench/endpoints.py: what the endpoint inventory costs on the e2e path
(issue 18: 10,000 endpoints of one province updated at their event rate,
with no measurable cost on the e2e benchmark).

The e2e benchmark's throughput run (bench/e2e.py: a generated sshd log,
`soc-sensor --once`, one correlator, loopback, the shipped rules) on two
logs of the same lines: one where every line comes from one host (the
syslog header's host name, as in e2e), one where the lines come from
--hosts distinct host names in turn (each host an endpoint of the
sensor's agency, updated once every --hosts lines).  Alternating, a
fresh correlator and database each run, the best of each.  Prints
events/s of both and their ratio, and the correlator's CPU time per
event (user + system, all its threads, from /proc: on a shared machine
the wall clock moves with the neighbours, the CPU time much less) and
the extra it costs with --hosts hosts (target: at most --cost, 5%);
then checks the inventory the correlator wrote: `socctl endpoints
--json` holds --hosts endpoints (1 for the one-host log) whose events
today sum to the lines.

The many-host log does more than the inventory's work (the archive
indexes 10,000 host names, the rules see them), so a third run takes
the many-host log with endpoints.max_per_agency: 1 (an operator's
setting: the inventory holds the first host and counts the others,
refused): the same events, the inventory's table reduced to one entry.
The inventory's cost is the CPU per event of the 10,000-host run over
that one.

The inventory has no off switch: every event that names a host updates
it.  The one-host log is the floor: one lookup of the same entry per
event, one row written per ingest group.

With --base OTHER_BUILD (another commit's build, e.g. a `git worktree`
of the commit before a change, built), each round runs the three logs on
that build too, in the same rounds (the machine's noise then falls on
both alike), and prints its figures and cost beside this build's; the
gate applies to BUILD only.

usage: endpoints.py BUILD [--base OTHER_BUILD] [--lines N] [--hosts N]
                    [--rounds N] [--cost F]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402


def write_log(path, n, hosts):
    """e2e's sshd lines, the header's host pc00000.. in turn."""
    with open(path, "w") as f:
        buf = []
        for i in range(n):
            ln = e2e.line(i)
            if hosts > 1:
                ln = ln.replace(" gw1 ", f" pc{i % hosts:05d} ", 1)
            buf.append(ln)
            if len(buf) == 10000:
                f.write("".join(buf))
                buf = []
        f.write("".join(buf))


def inventory(s):
    """(endpoints held, sum of their events today) from socctl."""
    p = subprocess.run([s.socctl, "--db", s.db, "endpoints", "--json"],
                       capture_output=True, text=True, check=True)
    eps = json.loads(p.stdout) if p.stdout.strip() else []
    return len(eps), sum(e.get("events_today", 0) for e in eps)


def cpu(pid):
    """CPU seconds (user + system, every thread) of a live process."""
    with open(f"/proc/{pid}/stat") as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def run(build, tmp, log, lines, hosts, bound=0):
    d = tempfile.mkdtemp(dir=tmp)
    args = ()
    if bound:
        conf = os.path.join(d, "corr.yml")
        with open(conf, "w") as f:
            f.write(f"endpoints:\n  max_per_agency: {bound}\n")
        args = ("-c", conf)
    s = e2e.Setup(build, d, os.path.join(e2e.SRC, "rules"), None, args)
    try:
        c0 = cpu(s.corr.pid)
        dt, got, _, _, good = e2e.throughput(s, log, lines, False)
        used = cpu(s.corr.pid) - c0
    finally:
        s.stop()
    held, events = inventory(s)
    shutil.rmtree(d, ignore_errors=True)
    if bound:		# the first host only; the others counted
        good = good and held == bound and events == lines // hosts
    else:
        good = good and held == hosts and events == lines
    return lines / dt, used * 1e6 / lines, good, held, events


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--base", help="another build run in the same rounds")
    ap.add_argument("--lines", type=int, default=1000000)
    ap.add_argument("--hosts", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cost", type=float, default=0.05,
                    help="most extra correlator CPU per event with --hosts"
                    " hosts counted as no measurable cost")
    a = ap.parse_args()
    builds = [("", os.path.abspath(a.build))]
    if a.base:
        builds.append(("base ", os.path.abspath(a.base)))
    tmp = tempfile.mkdtemp(prefix="soc-bench-endpoints.")
    try:
        logs = {}
        for h in (1, a.hosts):
            logs[h] = os.path.join(tmp, f"sshd-{h}.log")
            write_log(logs[h], a.lines, h)
        # (hosts in the log, endpoints.max_per_agency; 0 the default)
        runs = ((1, 0), (a.hosts, 1), (a.hosts, 0))
        names = {(1, 0): "1 host", (a.hosts, 1): f"{a.hosts} hosts, bound 1",
                 (a.hosts, 0): f"{a.hosts} hosts"}
        best = {(b, k): 0.0 for b, _ in builds for k in runs}
        least = {(b, k): float("inf") for b, _ in builds for k in runs}
        ok = True
        for r in range(a.rounds):
            for b, build in builds:
                for k in runs:
                    rate, us, good, held, events = run(
                        build, tmp, logs[k[0]], a.lines, k[0], k[1])
                    if not b:
                        ok = ok and good
                    print(f"  round {r + 1} {b}{names[k]:20s} {rate:10.0f}"
                          f" events/s  correlator {us:6.2f} us CPU/event"
                          f"  ({held} endpoints held, {events} events"
                          f" counted){'' if good else '  LOSS OR WRONG INVENTORY'}",
                          flush=True)
                    best[b, k] = max(best[b, k], rate)
                    least[b, k] = min(least[b, k], us)
        one, floor, many = runs
        for b, _ in builds:
            ratio = best[b, many] / best[b, one] if best[b, one] else 0
            cost = (least[b, many] / least[b, floor] - 1
                    if least[b, floor] else 0)
            print(f"bench/endpoints.py{' (base)' if b else ''}: {a.lines}"
                  f" sshd lines, shipped rules, one"
                  f" sensor, best of {a.rounds}: events/s 1 host"
                  f" {best[b, one]:.0f}, {a.hosts} hosts {best[b, many]:.0f}"
                  f" (ratio {ratio:.3f}), {a.hosts} hosts with the inventory"
                  f" bounded at 1 {best[b, floor]:.0f}; correlator CPU"
                  f" us/event {least[b, one]:.2f}, {least[b, many]:.2f},"
                  f" bounded {least[b, floor]:.2f}: the inventory of"
                  f" {a.hosts} costs {100 * cost:+.1f}% (target <="
                  f" {100 * a.cost:.0f}%); {a.hosts} endpoints held")
            if not b:
                ok = ok and cost <= a.cost
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
