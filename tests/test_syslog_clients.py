#!/usr/bin/env python3
"""Real syslog clients against the real sensor (-o json).

rsyslogd runs unprivileged as a child with its own config: one imuxsock
socket per (template, transport, framing), each bound to a ruleset with
one omfwd action to the sensor's UDP or TCP listener, in every template
rsyslog offers for forwarding (RSYSLOG_SyslogProtocol23Format,
RSYSLOG_ForwardFormat, RSYSLOG_TraditionalForwardFormat) over UDP and TCP
with LF and octet-counted framing.  The test writes sshd's own lines to
those sockets as syslog(3) does, so rsyslog builds MSG exactly as it does
for a real sshd (RFC 5424 then carries MSG with its leading space and an
LF at the end).  util-linux logger is the second client (--rfc5424 and
--rfc3164 over UDP, TCP and TCP octet-counted).

Every one of the 150 "Failed password" lines of every combination must
come out normalized: event.action ssh_login, source.ip and user.name.
The clients run with TZ=UTC and the sensor in Asia/Ho_Chi_Minh with
syslog.zones naming 127.0.0.1 UTC, so the RFC 3164 stamps (no zone) must
land at the receive time too, with no stamp counted as whole hours off.

Skips (77) only when rsyslogd or logger is absent.
"""
import calendar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from soctest import (SENSOR, TIME_SCALE, check, done, free_port,
                     sanitizer_clean, stop, wait_port, wait_until)

RSYSLOGD = shutil.which("rsyslogd") or (
    "/usr/sbin/rsyslogd" if os.access("/usr/sbin/rsyslogd", os.X_OK) else None)
LOGGER = shutil.which("logger")
N = 150

RSYSLOG_COMBOS = []         # (name, template, protocol, framing)
for tpl in ("RSYSLOG_SyslogProtocol23Format", "RSYSLOG_ForwardFormat",
            "RSYSLOG_TraditionalForwardFormat"):
    RSYSLOG_COMBOS.append((f"rsyslog {tpl} udp", tpl, "udp", None))
    RSYSLOG_COMBOS.append((f"rsyslog {tpl} tcp lf", tpl, "tcp", "traditional"))
    RSYSLOG_COMBOS.append((f"rsyslog {tpl} tcp octet-counted", tpl, "tcp",
                           "octet-counted"))
LOGGER_COMBOS = []          # (name, logger args)
for fmt in ("--rfc5424", "--rfc3164"):
    LOGGER_COMBOS.append((f"logger {fmt} udp", [fmt, "--udp"]))
    LOGGER_COMBOS.append((f"logger {fmt} tcp", [fmt, "--tcp"]))
    LOGGER_COMBOS.append((f"logger {fmt} tcp octet-counted",
                          [fmt, "--tcp", "--octet-count"]))

LINE_RE = re.compile(r"Failed password for user(\d+) from (10\.\d+\.\d+\.\d+) port")


def line(k, i):
    """The i-th sshd line of combination k: its user and address name it."""
    return (f"Failed password for user{k} from 10.{k}.{i // 200}.{i % 200 + 1} "
            f"port {40000 + i} ssh2")


def rsyslog_conf(tmp, udp_port, tcp_port):
    conf = [f'global(workDirectory="{tmp}")',
            'module(load="imuxsock" SysSock.Use="off")']
    for k, (_name, tpl, proto, framing) in enumerate(RSYSLOG_COMBOS):
        port = udp_port if proto == "udp" else tcp_port
        conf.append(f'input(type="imuxsock" Socket="{tmp}/s{k}" '
                    f'RateLimit.Interval="0" Ruleset="r{k}")')
        extra = f' TCP_Framing="{framing}"' if framing else ""
        conf.append(f'ruleset(name="r{k}") {{ action(type="omfwd" '
                    f'target="127.0.0.1" port="{port}" protocol="{proto}" '
                    f'template="{tpl}"{extra}) }}')
    path = os.path.join(tmp, "rsyslog.conf")
    with open(path, "w") as f:
        f.write("\n".join(conf) + "\n")
    return path


def events(path):
    evs = []
    with open(path, errors="replace") as f:
        for ln in f:
            if ln.endswith("\n"):
                evs.append(json.loads(ln))
    return evs


def failed_lines(evs):
    """Events per combination index, by the text of their message."""
    per = {}
    for e in evs:
        m = LINE_RE.search(e.get("message", ""))
        if m:
            per.setdefault(int(m.group(1)), []).append((e, m.group(2)))
    return per


def stamp_of(e):
    return calendar.timegm(time.strptime(e["@timestamp"][:19],
                                         "%Y-%m-%dT%H:%M:%S"))


def wait_sockets(tmp, n, proc):
    made = lambda: all(os.path.exists(os.path.join(tmp, f"s{k}"))
                       for k in range(n))
    wait_until(lambda: made() or proc.poll() is not None,
               "rsyslogd creates its sockets or exits")
    return made()


def main():
    if RSYSLOGD is None or LOGGER is None:
        print("rsyslogd or logger not installed: skipped")
        return 77
    if not os.access(SENSOR, os.X_OK):
        print(f"{SENSOR} not built", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="soc-rsl-")
    udp_port = free_port(socket.SOCK_DGRAM)
    tcp_port = free_port(socket.SOCK_STREAM)
    cfg = os.path.join(tmp, "sensor.yml")
    with open(cfg, "w") as f:
        f.write(f"""name: gw1
output: json
syslog:
  udp: 127.0.0.1:{udp_port}
  tcp: 127.0.0.1:{tcp_port}
  zones: ["127.0.0.1 UTC"]
logs:
  timezone: Asia/Ho_Chi_Minh
""")
    out = os.path.join(tmp, "out.jsonl")
    errpath = os.path.join(tmp, "sensor.err")
    sensor = subprocess.Popen([SENSOR, "-c", cfg, "-o", "json"],
                              stdout=open(out, "w"), stderr=open(errpath, "w"))
    rsys = None
    try:
        if not check(wait_port(tcp_port, sensor), "sensor listens"):
            return done()
        rconf = rsyslog_conf(tmp, udp_port, tcp_port)
        env = dict(os.environ, TZ="UTC")
        rsys = subprocess.Popen([RSYSLOGD, "-f", rconf, "-n", "-i",
                                 os.path.join(tmp, "rsyslogd.pid")],
                                stdout=subprocess.DEVNULL, env=env,
                                stderr=open(os.path.join(tmp, "rsyslog.err"), "w"))
        if not check(wait_sockets(tmp, len(RSYSLOG_COMBOS), rsys),
                     "rsyslogd creates its sockets"):
            return done()
        # sshd's lines as syslog(3) writes them to /dev/log
        u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        stamp = time.strftime("%b %e %H:%M:%S", time.gmtime())
        for i in range(N):
            for k in range(len(RSYSLOG_COMBOS)):
                msg = f"<38>{stamp} sshd[{4000 + k}]: {line(k, i)}"
                u.sendto(msg.encode(), os.path.join(tmp, f"s{k}"))
            if i % 50 == 49:
                time.sleep(0.02)
        u.close()
        # util-linux logger: one process per combination, lines on stdin
        for j, (_name, args) in enumerate(LOGGER_COMBOS):
            k = len(RSYSLOG_COMBOS) + j
            port = tcp_port if "--tcp" in args else udp_port
            text = "".join(line(k, i) + "\n" for i in range(N))
            p = subprocess.run([LOGGER, *args, "--server", "127.0.0.1",
                                "--port", str(port), "-t", "sshd",
                                f"--id={5000 + k}", "-p", "auth.info"],
                               input=text, text=True, capture_output=True,
                               env=env,
                               timeout=60 * TIME_SCALE)
            check(p.returncode == 0, f"logger {args}: {p.stderr.strip()}")

        combos = [c[0] for c in RSYSLOG_COMBOS] + [c[0] for c in LOGGER_COMBOS]
        # a line lost on the way shows as a count below N: the wait's
        # timeout is not counted, the per-sender checks say what is missing
        end = time.monotonic() + 60 * TIME_SCALE
        while time.monotonic() < end:
            per = failed_lines(events(out))
            if all(len(per.get(k, [])) >= N for k in range(len(combos))):
                break
            time.sleep(0.2)
        per = failed_lines(events(out))
        for k, name in enumerate(combos):
            got = per.get(k, [])
            ok = [e for e, ip in got
                  if e.get("event", {}).get("action") == "ssh_login"
                  and e.get("source", {}).get("ip") == ip
                  and e.get("user", {}).get("name") == f"user{k}"
                  and e.get("event", {}).get("outcome") == "failure"
                  and e.get("message", "").startswith("Failed password")]
            check(len(got) == N, f"{name}: {len(got)} of {N} lines arrived")
            off = [e["@timestamp"] for e, _ip in got
                   if abs(stamp_of(e) - time.time()) > 300]
            check(not off, f"{name}: stamps at the receive time (the "
                  f"sender's zone from syslog.zones), e.g. {off[:2]}")
            if not check(len(ok) == N,
                         f"{name}: {len(ok)} of {N} normalized (event.action, "
                         f"source.ip, user.name)") and got:
                print(f"  e.g. {json.dumps(got[0][0])[:600]}", file=sys.stderr)
    finally:
        if rsys is not None:
            stop(rsys)
        rc = stop(sensor)
        with open(errpath) as f:
            err = f.read()
        check("stamps whole hours off 0" in err,
              "no stamp counted as whole hours off (syslog_zone_suspect)")
        sanitizer_clean(err, "sensor")
        check(rc == 0, f"sensor exits 0, got {rc}")
        if counts_failed():
            for name in ("sensor.err", "rsyslog.err"):
                p = os.path.join(tmp, name)
                if os.path.exists(p):
                    with open(p) as f:
                        print(f"--- {name}\n" + f.read()[-3000:], file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return done()


def counts_failed():
    from soctest import counts
    return counts["failed"]


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
