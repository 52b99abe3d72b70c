#!/usr/bin/env python3
"""What `socctl rules test --log` prints, text and --json, byte for byte.

A generated sshd log (failed passwords from IPv4 and IPv6 sources, user
names with quotes, backslashes and Vietnamese letters, accepted keys,
ordinary lines, empty lines, CRLF endings, a 3 MiB line longer than the
reader's block, no newline at the end) goes through a rule set of a base
rule with an event_count correlation, a rule with a long non-ASCII title,
and 70 more rules (more than the per-rule output cache holds).  The
expected alerts are computed here from the lines alone: the event the
sshd normaliser makes of each line, the RFC 3339 stamps, the text
columns padded in bytes as printf pads them, the JSON escaping.  The
printing path of `rules test` is written by hand for speed (issue 10's
engine benchmark); this holds it to what the printf forms wrote.
"""
import datetime
import json
import os
import random
import shutil
import sys
import tempfile

from soctest import SOCCTL, SRC, check, done, run

MAPPING = os.path.join(SRC, "rules", "mapping.yml")
TZ = datetime.timezone(datetime.timedelta(hours=7))	# rules test reads logs as +07:00
AUTHOR = 'SOC "tỉnh" \\ team'
FAILED = {"id": "00000000-0000-4000-8000-000000000001", "title": "SSH failed login",
          "level": "low", "author": AUTHOR}
BRUTE = {"id": "00000000-0000-4000-8000-000000000002",
         "title": "SSH brute force from one source", "level": "high", "author": AUTHOR}
FEW = {"id": "00000000-0000-4000-8000-000000000004",
       "title": "Failures from one source in an hour", "level": "medium", "author": ""}
ACCEPTED = {"id": "00000000-0000-4000-8000-000000000003",
            "title": "Đăng nhập SSH bằng khóa thành công trên máy chủ của tỉnh",
            "level": "informational", "author": ""}
LEVELS = ["informational", "low", "medium", "high", "critical"]
BULK = [{"id": f"00000000-0000-4000-8000-{100 + i:012d}", "title": f"bulk rule {i}",
         "level": LEVELS[i % 5], "author": f"a{i}"} for i in range(70)]
SSHD = {"product": "linux", "service": "sshd"}


def rule(meta, **body):
    d = {"title": meta["title"], "id": meta["id"], "status": "test", "level": meta["level"]}
    if meta["author"]:
        d["author"] = meta["author"]
    d.update(body)
    return json.dumps(d, ensure_ascii=False)	# JSON is YAML


def write_rules(d):
    os.makedirs(d)
    docs = [rule(FAILED, name="t_failed", logsource=SSHD, detection={
                "sel": {"event.action": "ssh_login", "event.outcome": "failure"},
                "condition": "sel"}),
            rule(BRUTE, correlation={"type": "event_count", "rules": ["t_failed"],
                 "group-by": ["source.ip"], "timespan": "1m",
                 "condition": {"gte": 3}, "generate": True}),
            # judged when its window closes: at the end of the input
            rule(FEW, correlation={"type": "event_count", "rules": ["t_failed"],
                 "group-by": ["source.ip"], "timespan": "1h",
                 "condition": {"lte": 100}})]
    with open(os.path.join(d, "00-ssh.yml"), "w") as f:
        f.write("\n---\n".join(docs) + "\n")
    with open(os.path.join(d, "10-accepted.yml"), "w") as f:
        f.write(rule(ACCEPTED, logsource=SSHD, detection={
            "sel": {"event.action": "ssh_login", "event.outcome": "success"},
            "condition": "sel"}) + "\n")
    for i, m in enumerate(BULK):
        with open(os.path.join(d, f"20-bulk-{i:02d}.yml"), "w") as f:
            f.write(rule(m, logsource=SSHD, detection={
                "sel": {"event.outcome": "failure"}, "condition": "sel"}) + "\n")


def js(s):
    return json.dumps(s, ensure_ascii=False)


def stamp(t):
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ".000000000Z"


def gen_log(path):
    """The lines, and per line the event it makes (None: no sshd login)."""
    r = random.Random(10)
    # three days ago, so the year the BSD stamp leaves out is inferred right
    t0 = (datetime.datetime.now(TZ) - datetime.timedelta(days=3)).replace(
        second=0, microsecond=0)
    users = ["root", "admin", "nguyễn văn a", 'a"b', "back\\slash", "pi"]
    # per source: 3 failures 5 s apart (a brute force), 2 (none), or
    # 3 spread over 3 minutes (none within the 1 m window)
    sources = [f"203.0.113.{i}" for i in range(1, 13)] + [f"2001:db8::{i:x}" for i in range(1, 7)]
    plan = []
    for i, ip in enumerate(sources):
        kind = i % 3
        for k in range(3 if kind != 1 else 2):
            plan.append((i * 7 + (k * 5 if kind != 2 else k * 70), ip, kind == 0 and k == 2))
    plan.sort()
    lines, events = [], []
    sec = 0
    for when, ip, crossing in plan:
        while sec < when:	# ordinary lines between the failures
            t = t0 + datetime.timedelta(seconds=sec)
            head = t.strftime("%b ") + f"{t.day:2d}" + t.strftime(" %H:%M:%S") + " srv "
            pid = 2000 + sec
            c = r.randrange(4)
            if c == 0:
                port = r.randrange(1024, 65535)
                msg = f"Accepted publickey for deploy from 10.0.0.{sec % 250 + 1} port {port} ssh2"
                lines.append(head + f"sshd[{pid}]: " + msg)
                events.append(("success", t, f"10.0.0.{sec % 250 + 1}", port, "deploy",
                               pid, msg, False))
            elif c == 1:
                lines.append(head + f"sshd[{pid}]: Connection closed by 10.0.0.9 port 4 [preauth]")
                events.append(None)
            elif c == 2:
                lines.append("")
                events.append(None)
            else:
                lines.append(head + "cron[77]: (root) CMD (run-parts /etc/cron.hourly)")
                events.append(None)
            sec += 1
        t = t0 + datetime.timedelta(seconds=sec)
        head = t.strftime("%b ") + f"{t.day:2d}" + t.strftime(" %H:%M:%S") + " srv "
        pid = 1000 + sec
        user = r.choice(users)
        port = r.randrange(1, 65535)
        inv = "invalid user " if r.randrange(3) == 0 else ""
        msg = f"Failed password for {inv}{user} from {ip} port {port} ssh2"
        lines.append(head + f"sshd[{pid}]: " + msg)
        events.append(("failure", t, ip, port, user, pid, msg, crossing))
        sec += 1
    # a line past the reader's 1 MiB block, then the last line with no newline
    lines.insert(len(lines) // 2, "x" * (3 << 20))
    events.insert(len(events) // 2, None)
    with open(path, "wb") as f:
        for i, line in enumerate(lines):
            end = b"" if i == len(lines) - 1 else (b"\r\n" if i % 5 == 0 else b"\n")
            f.write(line.encode() + end)
    return lines, events


def event_json(e, path):
    outcome, t, ip, port, user, pid, msg, _ = e
    return json.dumps({
        "@timestamp": stamp(t),
        "event": {"kind": "event", "category": "authentication", "dataset": "log.sshd",
                  "action": "ssh_login", "outcome": outcome},
        "source": {"ip": ip, "port": port},
        "user": {"name": user},
        "process": {"name": "sshd", "pid": pid},
        "host": {"hostname": "srv"},
        "log": {"file": {"path": path}},
        "message": msg}, ensure_ascii=False, separators=(",", ":"))


def pad(s, width):
    """printf's %-*s: the width counts bytes."""
    return s + " " * max(0, width - len(s.encode()))


def alert(m, key, count, t, event):
    ts = stamp(t)
    text = (f"{ts}  {pad(m['level'], 8)}  {pad(m['title'], 40)}  "
            f"{pad(key, 28)}  count {count}")
    obj = (f'{{"rule":{{"id":{js(m["id"])},"title":{js(m["title"])},'
           f'"level":{js(m["level"])},"author":{js(m["author"])}}},'
           f'"group_key":{js(key)},"count":{count},"last_seen":"{ts}",'
           f'"event":{event}}}')
    return ts, text, obj


def expected(events, path):
    """(last_seen, text line, JSON object text) per alert: those of each
    event in input order, then those of the windows closed at the end."""
    out, last, count = [], {}, {}
    for e in events:
        if e is None:
            continue
        key = f"source.ip={e[2]}"
        if e[0] == "failure":
            last[key] = e[1]
            count[key] = count.get(key, 0) + 1
        rules = [ACCEPTED] if e[0] == "success" else \
            [FAILED] + ([BRUTE] if e[7] else []) + BULK
        for m in rules:
            out.append(alert(m, key, 3 if m is BRUTE else 1, e[1], event_json(e, path)))
    tick = []
    for key, t in last.items():	# the window's stand-in event
        ev = json.dumps({"@timestamp": stamp(t), "event": {"dataset": "soc.correlation"},
                         "message": key}, ensure_ascii=False, separators=(",", ":"))
        tick.append(alert(FEW, key, count[key], t, ev))
    return out, tick


def in_order(stamps):
    return all(a <= b for a, b in zip(stamps, stamps[1:]))


def main():
    tmp = tempfile.mkdtemp(prefix="soc-rules-test-out-")
    try:
        rd = os.path.join(tmp, "rules")
        write_rules(rd)
        log = os.path.join(tmp, "auth.log")
        lines, events = gen_log(log)
        want, tick = expected(events, log)
        nrules = 3 + 1 + len(BULK)
        nalerts = len(want) + len(tick)
        tail = f"{nrules} rules (0 refused), {len(lines)} events, {nalerts} alerts\n"

        p = run(SOCCTL, "rules", "test", rd, "--log", log, "--mapping", MAPPING)
        got = p.stdout.split("\n")
        check(got[-1] == "", "text: every line ends with a newline")
        got = got[:-1]
        check(len(got) == nalerts, f"text: {len(got)} lines, want {nalerts}")
        # within one event (and among the windows closed at the end) the
        # order of the alerts is the engine's business
        main, end = got[:len(want)], got[len(want):]
        check(in_order([g[:30] for g in main]), "text: alerts in input order")
        check(sorted(main) == sorted(w[1] for w in want),
              "text: the lines are the expected ones, byte for byte: "
              f"{sorted(set(main) - set(w[1] for w in want))[:2]} not expected, "
              f"{sorted(set(w[1] for w in want) - set(main))[:2]} missing")
        check(sorted(end) == sorted(w[1] for w in tick),
              f"text: the windows closed at the end: {end[:2]} ... want {tick[:1]}")
        check(p.stderr == tail, f"text: summary {p.stderr!r}, want {tail!r}")

        p = run(SOCCTL, "rules", "test", rd, "--log", log, "--mapping", MAPPING, "--json")
        out = p.stdout
        rows = out.split("\n")
        check(rows[0] == "[" and rows[-2:] == ["]", ""],
              f"json: one array, one alert a line: {out[:40]!r}...{out[-40:]!r}")
        objs = rows[1:-2]
        check(all(o.startswith("  {") and o.endswith("},") for o in objs[:-1])
              and objs[-1].startswith("  {") and objs[-1].endswith("}"),
              "json: each alert indented, a comma after all but the last")
        objs = [o[2:].rstrip(",") for o in objs]
        check(len(objs) == nalerts, f"json: {len(objs)} alerts, want {nalerts}")
        main, end = objs[:len(want)], objs[len(want):]
        check(in_order([json.loads(o)["last_seen"] for o in main]),
              "json: alerts in input order")
        check(sorted(main) == sorted(w[2] for w in want),
              "json: the alerts are the expected ones, byte for byte: "
              f"{sorted(set(main) - set(w[2] for w in want))[:1]} not expected, "
              f"{sorted(set(w[2] for w in want) - set(main))[:1]} missing")
        check(sorted(end) == sorted(w[2] for w in tick),
              f"json: the windows closed at the end: {end[:1]} ... want {tick[:1]}")
        check(json.loads(out) is not None, "json: the whole output parses")
        check(p.stderr == tail, f"json: summary {p.stderr!r}, want {tail!r}")

        # nothing matched: an empty array; an unreadable log: an error
        empty = os.path.join(tmp, "empty.log")
        open(empty, "w").close()
        p = run(SOCCTL, "rules", "test", rd, "--log", empty, "--mapping", MAPPING, "--json")
        check(p.stdout == "[]\n", f"json, no alerts: {p.stdout!r}")
        p = run(SOCCTL, "rules", "test", rd, "--log", os.path.join(tmp, "none.log"),
                "--mapping", MAPPING, ok=None)
        check(p.returncode == 1 and "none.log" in p.stderr,
              f"a missing log is an error: {p.returncode} {p.stderr!r}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
