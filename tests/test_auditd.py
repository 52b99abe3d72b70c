#!/usr/bin/env python3
"""auditd records through the real soc-sensor (-o json):

- an audit.log followed as logs.files are: records appended after the
  sensor started, one of them written in two pieces (a record split across
  reads), become one event per serial with process.*, user.*, file.* and
  auditd.* (hex arguments and proctitle decoded); a serial whose end never
  comes is emitted once idle (no further record arrives); the real
  ../shared/data/auditd logs appended give one event per serial too (when
  present);
- the audisp syslog form ("audispd: type=... msg=audit(...)"), over UDP
  and TCP to the syslog listener, is joined the same way, the sender's
  host name as host.hostname, and two senders' equal serials stay apart.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

from soctest import SENSOR, SRC, check, done, free_port, sanitizer_clean, stop, wait_port

DATA = os.path.join(os.environ.get("SOC_TEST_DATA", os.path.join(SRC, "..", "shared", "data")),
                    "auditd")

S = "1700000000.155"
EXEC = [
    f'type=SYSCALL msg=audit({S}:{{n}}): arch=c000003e syscall=59 success=yes exit=0 '
    'a0=558e251634a0 a1=558e25162a50 a2=558e25160800 a3=8 items=2 ppid=29002 pid=1631 '
    'auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=104 '
    'comm="nc" exe="/usr/bin/nc.openbsd" key="susp_activity"',
    f'type=EXECVE msg=audit({S}:{{n}}): argc=3 a0="nc" a1="-e" a2=2F62696E2F7368',
    f'type=CWD msg=audit({S}:{{n}}): cwd="/tmp"',
    f'type=PATH msg=audit({S}:{{n}}): item=0 name="/usr/bin/nc" inode=1 dev=08:01 '
    'mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL',
    f'type=PROCTITLE msg=audit({S}:{{n}}): proctitle=6E63002D65002F62696E2F7368',
]


def events(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                if line.strip():
                    out.append(json.loads(line))
    except (OSError, ValueError):
        pass
    return out


def auditd(path):
    return [e for e in events(path)
            if e.get("event", {}).get("dataset", "").startswith("log.auditd")]


def wait_for(pred, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def by_seq(evs, n):
    return [e for e in evs if e.get("auditd", {}).get("sequence") == n]


def check_exec(e, what):
    p = e.get("process", {})
    ok = (p.get("executable") == "/usr/bin/nc.openbsd" and p.get("name") == "nc"
          and p.get("command_line") == "nc -e /bin/sh" and p.get("title") == "nc -e /bin/sh"
          and p.get("working_directory") == "/tmp" and p.get("pid") == 1631
          and p.get("parent", {}).get("pid") == 29002
          and e.get("user", {}).get("id") == "0"
          and e.get("user", {}).get("audit", {}).get("id") == "1000"
          and e.get("file", {}).get("path") == "/usr/bin/nc"
          and e.get("auditd", {}).get("data", {}).get("syscall") == "execve"
          and e.get("event", {}).get("category") == "process"
          and e.get("soc", {}).get("auditd", {}).get("execve", {}).get("a2") == "/bin/sh")
    return check(ok, f"{what}: one event with the records' fields, hex decoded: "
                 f"{json.dumps(e)[:600]}")


def main():
    if not os.access(SENSOR, os.X_OK):
        print(f"{SENSOR} not built", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="soc-auditd-")
    log = os.path.join(tmp, "audit.log")
    open(log, "w").close()
    udp = free_port(socket.SOCK_DGRAM)
    tcp = free_port(socket.SOCK_STREAM)
    cfg = os.path.join(tmp, "sensor.yml")
    with open(cfg, "w") as f:
        f.write(f"""name: gw1
output: json
logs:
  files: ["{log}"]
syslog:
  udp: 127.0.0.1:{udp}
  tcp: 127.0.0.1:{tcp}
  zones: ["127.0.0.1 UTC"]
""")
    out = os.path.join(tmp, "out.jsonl")
    errp = os.path.join(tmp, "sensor.err")
    sensor = subprocess.Popen([SENSOR, "-c", cfg, "-o", "json"],
                              stdout=open(out, "w"), stderr=open(errp, "w"))
    try:
        if not check(wait_port(tcp, sensor), "sensor listens"):
            return done()
        # a followed audit.log: serial 1 complete, its SYSCALL written in
        # two pieces; serial 2 without an end (no EOE, nothing after)
        with open(log, "a") as f:
            first = EXEC[0].format(n=1)
            f.write(first[:70])
            f.flush()
            time.sleep(0.6)      # the sensor polls every 250 ms: it sees half
            f.write(first[70:] + "\n")
            for r in EXEC[1:]:
                f.write(r.format(n=1) + "\n")
            f.write(f"type=EOE msg=audit({S}:1): \n")
            for r in EXEC[:2]:
                f.write(r.format(n=2) + "\n")
        check(wait_for(lambda: len(by_seq(auditd(out), 1)) == 1),
              "the followed file's serial 1 arrives as one event")
        e1 = by_seq(auditd(out), 1)
        if e1:
            check_exec(e1[0], "followed file, a record split across reads")
            check(e1[0].get("log", {}).get("file", {}).get("path") == log,
                  "log.file.path is the audit log")
        # serial 2 never ends: emitted once idle (2 s), not lost
        check(wait_for(lambda: len(by_seq(auditd(out), 2)) == 1, 30),
              "a serial whose end never comes is emitted once idle")
        e2 = by_seq(auditd(out), 2)
        check(bool(e2) and e2[0].get("process", {}).get("command_line") == "nc -e /bin/sh"
              and "working_directory" not in e2[0].get("process", {}),
              f"it has what came: {json.dumps(e2[:1])[:400]}")

        # the real logs appended
        real = []
        if os.path.isdir(DATA):
            for fn in sorted(os.listdir(DATA)):
                if fn.endswith(".log"):
                    with open(os.path.join(DATA, fn)) as src:
                        real.append(src.read())
            with open(log, "a") as f:
                for text in real:
                    f.write(text)
            serials = {int(l.split(":", 1)[1].split(")", 1)[0])
                       for text in real for l in text.splitlines() if "msg=audit(" in l}
            check(wait_for(lambda: serials <= {e["auditd"]["sequence"]
                                               for e in auditd(out)}, 30),
                  f"the real logs: one event per serial ({len(serials)})")
            got = [e for e in auditd(out) if e["auditd"]["sequence"] in serials]
            check(len(got) == len(serials), f"no serial twice: {len(got)} events")
            check(all(e.get("process", {}).get("executable") for e in got),
                  "each has its executable")
        else:
            print(f"no {DATA}: real logs not appended")

        # audisp over syslog: UDP from "web1", TCP from "web2", same serial
        stamp = time.strftime("%b %e %H:%M:%S", time.gmtime())
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for r in EXEC:
            u.sendto(f"<29>{stamp} web1 audispd: {r.format(n=9)}".encode(),
                     ("127.0.0.1", udp))
        u.close()
        t = socket.create_connection(("127.0.0.1", tcp))
        for r in EXEC:
            t.sendall(f"<29>{stamp} web2 audisp-syslog: {r.format(n=9)}\n".encode())
        t.close()
        check(wait_for(lambda: len(by_seq(auditd(out), 9)) == 2, 30),
              "audisp records over UDP and TCP: one event per sender")
        e9 = by_seq(auditd(out), 9)
        hosts = sorted(e.get("host", {}).get("hostname", "") for e in e9)
        check(hosts == ["web1", "web2"], f"the senders kept apart: {hosts}")
        for e in e9:
            check_exec(e, f"syslog {e.get('host', {}).get('hostname')}")
            check(e.get("soc", {}).get("log", {}).get("source", {}).get("address")
                  == "127.0.0.1", "soc.log.source.address is the sender")
        # nothing else came from these lines: every record joined
        stray = [e for e in events(out) if "msg=audit(" in e.get("message", "")
                 and not e.get("event", {}).get("dataset", "").startswith("log.auditd")]
        check(not stray, f"no record left as a syslog event: {stray[:1]}")
    finally:
        rc = stop(sensor)
        check(rc == 0, f"sensor exits 0: {rc}")
        err = open(errp).read()
        sanitizer_clean(err, "sensor")
        check("audit records:" in err, "the audit counters are logged at exit")
        # the same counters travel in every heartbeat (one table: the
        # counters line at exit is what a heartbeat carries)
        import re
        cnt = {k: int(v) for k, v in re.findall(r"(auditd_[a-z_]+) (\d+)", err)}
        with open(log) as f:
            want = sum(1 for l in f if "msg=audit(" in l) + 2 * len(EXEC)
        check(cnt.get("auditd_records") == want,
              f"auditd_records counts the file's and the listeners' {want} records: {cnt}")
        check(cnt.get("auditd_events", 0) >= 4,
              f"auditd_events counts both intakes' events: {cnt}")
    return done()


if __name__ == "__main__":
    sys.exit(main())
