#!/usr/bin/env python3
"""NXLog CE JSON (im_msvistalog + to_json) through the real sensor (-o json),
issue 17: every line of every shared OTRF Security-Datasets file
(../shared/data/winlog-json, MIT) as a syslog message over UDP, as a raw
JSON line over TCP, and as a line of a followed file must become one event
with event.code = EventID, winlog.channel, host.name, every EventData value
byte for byte under winlog.event_data (an event past the 16 KiB store is
marked soc.truncated and keeps its values up to the cut), and the time rule: a zoned
TimeCreated, Sysmon's UtcTime, a zoned @timestamp, else the zoneless
EventTime in the source's zone (syslog.zones names 127.0.0.1 as UTC-4 here,
the samples' own zone; the sensor's default is UTC+7).  Then a Winlogbeat
document over Beats gives the winlog.* fields and the ECS ones winlog_ecs()
fills.  Skips (77) without SOC_TEST_DATA.
"""
import calendar
import datetime
import glob
import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from soctest import SENSOR, check, counts, done, free_port, stop, wait_port

META = {"AccountName", "AccountType", "Category", "Domain",
        "EventReceivedTime", "EventTypeOrignal", "Opcode", "Severity",
        "SeverityValue", "SourceModuleName", "SourceModuleType",
        "MessageSourceAddress", "@version", "host", "port", "tags",
        "EventTime", "TimeCreated", "@timestamp", "Level", "Message",
        "EventID", "Channel", "SourceName", "ProviderGuid", "RecordNumber",
        "Task", "OpcodeValue", "UserID", "ActivityID", "RelatedActivityID",
        "Hostname", "Keywords", "Version", "ExecutionProcessID", "ThreadID"}
NXTYPES = {"INFO", "AUDIT_SUCCESS", "AUDIT_FAILURE", "ERROR", "WARNING",
           "CRITICAL", "VERBOSE", "DEBUG"}
ZONE = -4 * 3600        # the samples' senders (EventTime vs UtcTime)


def text(v):
    return v if isinstance(v, str) else json.dumps(v)


def event_data(rec):
    out = {}
    for k, v in rec.items():
        if k in META or isinstance(v, (dict, list)) or v is None:
            continue
        if k == "EventType" and v in NXTYPES:
            continue
        out[k] = text(v)
    return out


def ns(stamp, zone=None):
    """RFC 3339 or "YYYY-MM-DD hh:mm:ss[.fff]" to ns; zone (s east) for a
    stamp without one; None when it has none and no zone is given."""
    s = stamp.replace("T", " ", 1)
    z = None
    if s.endswith("Z"):
        s, z = s[:-1], 0
    elif len(s) > 6 and s[-6] in "+-" and s[-3] == ":":
        z = (1 if s[-6] == "+" else -1) * (int(s[-5:-3]) * 3600 + int(s[-2:]) * 60)
        s = s[:-6]
    if z is None:
        if zone is None:
            return None
        z = zone
    frac = 0
    if "." in s:
        s, f = s.split(".")
        frac = int((f + "000000000")[:9])
    secs = calendar.timegm(time.strptime(s, "%Y-%m-%d %H:%M:%S")) - z
    return secs * 10**9 + frac


def want_ts(rec):
    for key, zone in (("TimeCreated", None), ("EventTime", None),
                      ("UtcTime", 0), ("@timestamp", None)):
        v = rec.get(key)
        if isinstance(v, str) and ns(v, zone) is not None:
            return ns(v, zone)
    for key in ("EventTime", "TimeCreated"):
        v = rec.get(key)
        if isinstance(v, str):
            return ns(v, ZONE)
    return None


def got_ts(e):
    s = e["@timestamp"]
    return ns(s)


def records():
    data = os.environ.get("SOC_TEST_DATA", "")
    files = sorted(glob.glob(os.path.join(data, "winlog-json", "*.jsonl.gz")))
    out = []
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    out.append((os.path.basename(path), line))
    return out


def events(path):
    out = []
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def compare(name, recs, evs):
    """Each record's event, found by (channel, record or stamp, event id)."""
    by = {}
    for e in evs:
        w = e.get("winlog", {})
        by.setdefault((w.get("channel"), str(w.get("event_id")),
                       w.get("record_id"), got_ts(e)), []).append(e)
    bad = []
    for fname, line in recs:
        rec = json.loads(line)
        ts = want_ts(rec)
        key = (rec["Channel"], str(rec["EventID"]),
               text(rec["RecordNumber"]) if "RecordNumber" in rec else None,
               ts)
        cands = by.get(key, [])
        ed = event_data(rec)
        ok = None
        for e in cands:
            w = e.get("winlog", {})
            have = w.get("event_data", {})
            trunc = e.get("soc", {}).get("truncated")
            if (e.get("event", {}).get("code") == text(rec["EventID"])
                    and e.get("host", {}).get("name") == rec["Hostname"]
                    and (all(have.get(k) == v for k, v in ed.items())
                         or (trunc and all(v.startswith(have.get(k, ""))
                                           for k, v in ed.items())))):
                # an event over the 16 KiB store is cut and marked
                # (soc.truncated): the System fields stay, EventData
                # values are kept up to the cut
                ok = e
                break
        if ok is None:
            bad.append((fname, line[:300], len(cands)))
    check(not bad, f"{name}: {len(recs) - len(bad)} of {len(recs)} records "
          f"made their event (code, channel, host.name, EventData byte for "
          f"byte, time); first bad: {bad[:2]}")
    # the zoneless EventTime was not taken for UTC where a better stamp is
    off = [e["@timestamp"] for e in evs
           if e.get("winlog") and e.get("event", {}).get("reason")]
    check(not off, f"{name}: no record refused, e.g. {off[:2]}")


def wait_events(out, n, ceiling=180):
    end = time.time() + ceiling
    while time.time() < end:
        evs = [e for e in events(out) if e.get("winlog")]
        if len(evs) >= n:
            return evs
        time.sleep(0.3)
    return [e for e in events(out) if e.get("winlog")]


def start(tmp, name, body):
    cfg = os.path.join(tmp, name + ".yml")
    with open(cfg, "w") as f:
        f.write(f"name: gw1\noutput: json\nlogs:\n  timezone: Asia/Ho_Chi_Minh\n{body}")
    out = os.path.join(tmp, name + ".out")
    p = subprocess.Popen([SENSOR, "-c", cfg, "-o", "json"],
                         stdout=open(out, "w"),
                         stderr=open(os.path.join(tmp, name + ".err"), "w"))
    return p, out


def test_udp(tmp, recs):
    port = free_port(socket.SOCK_DGRAM)
    tport = free_port()
    p, out = start(tmp, "udp", f"""syslog:
  udp: 127.0.0.1:{port}
  tcp: 127.0.0.1:{tport}
  max_message: 65536
  rcvbuf_kb: 8192
  zones: ["127.0.0.1 Etc/GMT+4"]
""")
    try:
        if not check(wait_port(tport, p), "udp: sensor listens"):
            return
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i, (_f, line) in enumerate(recs):
            rec = json.loads(line)
            msg = f"<14>Sep 21 19:26:05 {rec['Hostname']} nxlog[3172]: {line}"
            s.sendto(msg.encode(), ("127.0.0.1", port))
            if i % 100 == 99:
                time.sleep(0.02)
        wait_events(out, len(recs))
    finally:
        stop(p)
    compare("udp syslog", recs, wait_events(out, len(recs), 1))


def test_tcp(tmp, recs):
    port = free_port()
    p, out = start(tmp, "tcp", f"""syslog:
  tcp: 127.0.0.1:{port}
  max_message: 200000
  zones: ["127.0.0.1 Etc/GMT+4"]
""")
    try:
        if not check(wait_port(port, p), "tcp: sensor listens"):
            return
        c = socket.create_connection(("127.0.0.1", port))
        c.sendall("".join(line + "\n" for _f, line in recs).encode())
        # hostile lines: refused with a reason or skipped and counted,
        # the sensor goes on (the last line must still arrive)
        hostile = [
            b'{"EventID":1,"Channel":"H1","x":' + b"[" * 10000 + b"]" * 10000 + b"}",
            b'{"EventID":1,"Channel":"H2","x":"\xff\xfe"}',
            b'{"EventID":1,"Channel":"H3","' + b"A" * 65536 + b'":"v","B":"w"}',
            b'{"EventID":1,"Channel":"H4","x":"unterminated',
            b'{"EventID":2,"Channel":"Last","Hostname":"h"}',
        ]
        c.sendall(b"".join(h + b"\n" for h in hostile))
        evs = wait_events(out, len(recs) + 2)
        c.close()
        last = [e for e in evs if e["winlog"].get("channel") == "Last"]
        check(len(last) == 1 and p.poll() is None,
              "tcp: the sensor goes on after hostile lines")
        h3 = [e for e in evs if e["winlog"].get("channel") == "H3"]
        check(len(h3) == 1 and h3[0]["winlog"].get("event_data") == {"B": "w"},
              f"tcp: a 64 KiB name is skipped, the rest kept: {h3[:1]}")
        reasons = sorted(e.get("event", {}).get("reason", "")
                         for e in events(out) if not e.get("winlog"))
        check(reasons == ["nested too deeply", "string is not valid UTF-8",
                          "unterminated string"],
              f"tcp: hostile lines refused with their reason: {reasons}")
    finally:
        stop(p)
    err = open(os.path.join(tmp, "tcp.err")).read()
    check("nxlog_refused 3" in err and "nxlog_names_skipped 1" in err,
          "tcp: refused and skipped counted (nxlog_refused, "
          "nxlog_names_skipped)")
    compare("raw tcp lines", recs, [e for e in wait_events(out, len(recs), 1)
                                    if e["winlog"].get("channel") not in ("H3", "Last")])


def test_file(tmp, recs):
    log = os.path.join(tmp, "nxlog.json")
    with open(log, "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for _f, line in recs))
    p, out = start(tmp, "file", f"""  files:
    - {log}
  start_at: beginning
  state_file: {tmp}/positions
syslog:
  zones: ["* Etc/GMT+4"]
""")
    try:
        wait_events(out, len(recs))
    finally:
        stop(p)
    compare("followed file", recs, wait_events(out, len(recs), 1))


def test_beats(tmp):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from test_beats import Client, frame_j, frame_w
    port = free_port()
    p, out = start(tmp, "beats", f"""beats:
  listen: 127.0.0.1:{port}
""")
    doc = {
        "@timestamp": "2020-09-21T23:26:20.869Z",
        "agent": {"type": "winlogbeat"},
        "event": {"code": "1", "kind": "event"},
        "host": {"name": "WORKSTATION5.theshire.local"},
        "winlog": {"channel": "Microsoft-Windows-Sysmon/Operational",
                   "event_id": 1, "record_id": 3227632,
                   "provider_name": "Microsoft-Windows-Sysmon",
                   "computer_name": "WORKSTATION5.theshire.local",
                   "event_data": {"Image": "C:\\Windows\\System32\\net.exe",
                                  "CommandLine": "\"C:\\windows\\system32\\net.exe\" user",
                                  "ParentImage": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                                  "User": "THESHIRE\\pgustavo",
                                  "Hashes": "SHA1=5B9EA3C45A11D4AEB1B1AC0F72C4C19308FC7D0B,MD5=A63DF9A6E9098CC189F2A3EFC37600F6"}},
    }
    try:
        if not check(wait_port(port, p), "beats: sensor listens"):
            return
        c = Client(port)
        c.send(frame_w(1) + frame_j(1, doc))
        check(c.acks(1) == [1], "beats: the window is acked")
        c.close()
        evs = wait_events(out, 1, 60)
        if not check(len(evs) == 1, f"beats: one event, {len(evs)}"):
            return
        e = evs[0]
        w = e["winlog"]
        check(w.get("event_data") == doc["winlog"]["event_data"],
              f"beats: event_data as sent, {w.get('event_data')}")
        check(w.get("channel") == doc["winlog"]["channel"] and
              str(w.get("event_id")) == "1", "beats: winlog.channel, event_id")
        pr = e.get("process", {})
        check(pr.get("executable") == "C:\\Windows\\System32\\net.exe" and
              pr.get("name") == "net.exe" and
              pr.get("parent", {}).get("name") == "powershell.exe",
              f"beats: winlog_ecs() filled process.* from EventData, {pr}")
    finally:
        stop(p)


def main():
    if not os.access(SENSOR, os.X_OK):
        print(f"{SENSOR} not built", file=sys.stderr)
        return 1
    recs = records()
    if not recs:
        print("SOC_TEST_DATA/winlog-json absent: skipped")
        return 77
    only = sys.argv[1:] or ["udp", "tcp", "file", "beats"]
    tmp = tempfile.mkdtemp(prefix="soc-nxlog-")
    try:
        if "udp" in only:
            test_udp(tmp, recs)
        if "tcp" in only:
            test_tcp(tmp, recs)
        if "file" in only:
            test_file(tmp, recs)
        if "beats" in only:
            test_beats(tmp)
    finally:
        if counts["failed"]:
            for name in sorted(os.listdir(tmp)):
                if name.endswith(".err"):
                    with open(os.path.join(tmp, name)) as f:
                        print(f"--- {name}\n" + f.read()[-3000:], file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
