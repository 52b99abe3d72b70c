#!/usr/bin/env python3
"""Issue 15 item 17: starting a national centre, and the name a
correlator forwards under.  REAL soc-correlator processes:

- `--role national` starts without --rules (an empty set: it matches no
  events) and receives a province's alerts; `-t` says so;
- forwarding (forward.endpoint or forward.cef) without forward.name is
  refused at start and by `-t`, which says what to set; a name that is
  not 1-63 letters, digits, '.', '_', '-' is refused the same way; a
  valid one is reported by `-t`;
- the CEF syslog header carries forward.name as HOSTNAME, not the host
  name (a national centre with --cef passes each province's alert on);
- docs/NATIONAL.md shows the national start command.

Before the change --role did not exist, the rules were required, and the
name fell back to the host name silently."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from soctest import (CORR, SOCCTL, SRC, check, counts, done, free_port, run,
                     sanitizer_clean, stop, wait_port, TIME_SCALE, wait_until)
from test_national import ACK, ALERTS, Province, batch, blob, key_of, rfc3339, T0

import zmq


def alert(inc):
    return json.dumps({
        "@timestamp": rfc3339(T0 + 1), "event.kind": "alert",
        "event.id": f"hue-soc:{inc}:1", "rule.id": "ssh-brute-force",
        "rule.name": "SSH brute force", "organization.id": "hue",
        "soc.alert.revision": 1, "soc.origin.name": "hue-soc",
        "soc.origin.agency": "hue", "soc.origin.incident_id": inc,
        "soc.incident.severity": "high", "soc.incident.status": "new",
        "soc.incident.count": 12, "event.start": rfc3339(T0),
        "event.end": rfc3339(T0 + 1), "tags": ["attack.t1110"],
    })


def main():
    tmp = tempfile.mkdtemp(prefix="soc-natstart-")
    db = os.path.join(tmp, "national.db")
    key = os.path.join(tmp, "national.key")
    ctl = lambda *a, **kw: run(SOCCTL, "--db", db, *a, **kw)
    for name in ("national", "hue-soc"):
        ctl("keygen", "--out", os.path.join(tmp, name))
    ctl("agency", "add", "hue", "--name", "Huế")
    ctl("sensor", "enroll", "hue-soc", "--agency", "hue", "--role", "province",
        "--key", os.path.join(tmp, "hue-soc.pub"))
    base = [CORR, "--db", db, "--key", key]
    cef_url = "udp://127.0.0.1:9"

    # -t: the national role needs no rules
    t = run(*base, "-t", "--role", "national", ok=False)
    check(t.returncode == 0 and "role national, 0 rules" in t.stdout,
          f"-t --role national without --rules: {t.returncode} {t.stdout} {t.stderr}")
    t = run(*base, "-t", "--role", "nation", ok=False)
    check(t.returncode != 0 and "province" in t.stderr and "national" in t.stderr,
          f"an unknown role is refused, naming the two: {t.stderr}")

    # forward.name: required to forward, validated, reported by -t
    for extra, what in ((["--cef", cef_url], "forward.cef"),
                        (["--forward", "tcp://127.0.0.1:9", "--forward-server-key",
                          os.path.join(tmp, "national.pub")], "forward.endpoint")):
        t = run(*base, "-t", "--role", "national", *extra, ok=False)
        check(t.returncode != 0 and "forward.name is not set" in t.stderr
              and "--forward-name NAME" in t.stderr and what in t.stderr,
              f"-t: {what} without forward.name says what to set: {t.stderr}")
    conf = os.path.join(tmp, "c.yml")
    with open(conf, "w") as f:
        f.write(f"role: national\nforward:\n  cef: {cef_url}\n")
    t = run(CORR, "-c", conf, "--db", db, "--key", key, "-t", ok=False)
    check(t.returncode != 0 and "forward.name is not set" in t.stderr,
          f"the same from a config file: {t.stderr}")
    for bad in ("hue soc", "hue:soc", "h\u00fce", "x" * 64, "a/b"):
        t = run(*base, "-t", "--role", "national", "--cef", cef_url,
                "--forward-name", bad, ok=False)
        check(t.returncode != 0 and "is not a name" in t.stderr,
              f"forward.name {bad!r} refused: {t.returncode} {t.stderr}")
    t = run(*base, "-t", "--role", "national", "--cef", cef_url,
            "--forward-name", "nat-hcm", ok=False)
    check(t.returncode == 0 and "forwarding as nat-hcm" in t.stdout,
          f"-t reports the name: {t.stdout} {t.stderr}")
    p = subprocess.run([*base, "--role", "national", "--cef", cef_url,
                        "--bind", f"tcp://127.0.0.1:{free_port()}"],
                       capture_output=True, text=True, timeout=60 * TIME_SCALE)
    check(p.returncode != 0 and "forward.name is not set" in p.stderr,
          f"the daemon itself refuses to start without it: {p.stderr}")

    # a national centre without rules, passing alerts on as CEF under its name
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(60 * TIME_SCALE)
    port = free_port()
    endpoint = f"tcp://127.0.0.1:{port}"
    err = open(os.path.join(tmp, "correlator.err"), "w+")
    corr = subprocess.Popen([*base, "--role", "national", "--bind", endpoint,
                             "--cef", f"udp://127.0.0.1:{udp.getsockname()[1]}",
                             "--forward-name", "nat-hcm"],
                            stdout=err, stderr=subprocess.STDOUT)
    zctx = zmq.Context()
    prov = None
    try:
        # our correlator, not whatever took the port after free_port
        listening = lambda: "listening on" in open(err.name, errors="replace").read()
        if not check(wait_port(port, corr) and (wait_until(
                lambda: listening() or corr.poll() is not None,
                "the correlator says it listens") and listening()), "a national correlator without --rules listens"):
            # (its port taken between free_port and the bind): stop here,
            # not wait out every reply until the meson timeout
            print(open(err.name, errors="replace").read()[-3000:], file=sys.stderr)
            raise SystemExit(done())
        prov = Province(zctx, endpoint, os.path.join(tmp, "hue-soc"),
                        key_of(os.path.join(tmp, "national.pub")))
        check(prov.send(batch(ALERTS, 1, [blob(alert(7))])) == (ACK, 1),
              "it takes a province's alerts")
        inc = json.loads(ctl("incidents", "--json").stdout)
        check(len(inc) == 1 and inc[0]["agency"] == "hue", f"stored: {inc}")
        try:
            line = udp.recv(65536).decode(errors="replace")
        except socket.timeout:
            line = ""
        head = line.split(" ")
        check(len(head) > 3 and head[2] == "nat-hcm",
              f"CEF syslog HOSTNAME is forward.name: {line[:120]!r}")
        check(socket.gethostname() == "nat-hcm" or socket.gethostname() not in
              line.split("CEF:")[0], "not the host name")
    finally:
        if prov is not None:
            prov.close()
        # destroy, not term: a socket an exception left open would make
        # term() wait forever, a failure turned into the test's timeout
        zctx.destroy(linger=0)
        stop(corr)
        udp.close()
        err.close()
        sanitizer_clean(open(err.name, errors="replace").read(), "correlator")

    doc = open(os.path.join(SRC, "docs", "NATIONAL.md")).read()
    check("soc-correlator --role national" in doc,
          "docs/NATIONAL.md shows the national start command")
    if counts["failed"]:
        print(open(err.name, errors="replace").read()[-3000:], file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
