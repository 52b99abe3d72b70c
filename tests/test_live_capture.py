#!/usr/bin/env python3
"""Live capture on the loopback interface with the real sensor: a BPF
filter from the config, DNS queries sent on lo are decoded, and once the
capture is open the process runs as the configured user with no
capabilities left.  Needs root (skips with 77 otherwise)."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

from soctest import (SENSOR, TIME_SCALE, check, done, stop, wait_until)


def dns_query(name, qid):
    q = qid.to_bytes(2, "big") + b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00\x00\x01\x00\x01"


def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def main():
    if os.geteuid() != 0:
        print("skip: live capture needs root")
        return 77
    tmp = tempfile.mkdtemp(prefix="soc-live-")
    cfg = os.path.join(tmp, "sensor.yml")
    with open(cfg, "w") as f:
        f.write("name: live1\noutput: json\nuser: nobody\n"
                "capture:\n  interfaces: [lo]\n  filter: \"udp port 53\"\n  buffer_mb: 4\n")
    p = subprocess.run([SENSOR, "-c", cfg, "-t"], capture_output=True, text=True)
    check(p.returncode == 0 and "configuration OK" in p.stdout, "-t accepts the config")
    out = open(os.path.join(tmp, "out.json"), "w+")
    err = open(os.path.join(tmp, "err.txt"), "w+")
    proc = subprocess.Popen([SENSOR, "-c", cfg], stdout=out, stderr=err)
    try:
        deadline = time.monotonic() + 30 * TIME_SCALE
        while time.monotonic() < deadline:
            err.seek(0)
            if "running as nobody" in err.read() or proc.poll() is not None:
                break
            time.sleep(0.1)
        if proc.poll() is not None:
            err.seek(0)
            print(err.read(), file=sys.stderr)
            if "No such device" in err.read() or "permission" in err.read().lower():
                print("skip: cannot capture on lo here")
                return 77
        st = status(proc.pid)
        check(st.get("Uid", "").split()[0] == str(65534), f"runs as nobody: {st.get('Uid')}")
        check(int(st.get("CapEff", "1"), 16) == 0, f"no effective capabilities: {st.get('CapEff')}")
        check(int(st.get("CapPrm", "1"), 16) == 0, f"no permitted capabilities: {st.get('CapPrm')}")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(5):
            s.sendto(dns_query(f"host{i}.live-test.example", 0x4000 + i), ("127.0.0.1", 53))
        # traffic the filter excludes
        s.sendto(b"not dns", ("127.0.0.1", 5353))
        s.close()
        # the JSON lines are flushed as they come: wait for the five
        out_text = lambda: open(out.name).read()
        wait_until(lambda: all(f"host{i}.live-test.example" in out_text() for i in range(5)),
                   "the five queries printed")
        os.kill(proc.pid, signal.SIGUSR1)
        wait_until(lambda: "counters: " in open(err.name).read(), "counters logged on SIGUSR1")
    finally:
        rc = stop(proc, 15)
    check(rc == 0, f"sensor exits 0 on SIGTERM, got {rc}")
    out.seek(0)
    events = [json.loads(l) for l in out if l.strip()]
    names = {e.get("dns", {}).get("question", {}).get("name") for e in events
             if e.get("event", {}).get("dataset") == "network.dns"}
    check(names >= {f"host{i}.live-test.example" for i in range(5)},
          f"all five live DNS queries decoded: {sorted(n for n in names if n)}")
    check(not any(e.get("destination", {}).get("port") == 5353 for e in events),
          "the BPF filter excluded port 5353")
    check(all(e.get("observer", {}).get("name") == "live1" for e in events), "observer.name")
    err.seek(0)
    log = err.read()
    check("counters: " in log and "kernel_dropped" in log, "counters logged on SIGUSR1/exit")
    check("runtime error" not in log and "Sanitizer" not in log, "no sanitizer reports")
    return done()


if __name__ == "__main__":
    sys.exit(main())
