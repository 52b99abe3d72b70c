#!/usr/bin/env python3
"""EVTX intake (issue 17): `soc-sensor -r FILE.evtx -o json` on the shared
samples (../shared/data/evtx), record for record against python-evtx
(Debian python3-evtx), an independent reader: the same number of records
per file, and per record the same EventID, time (to the microsecond),
Computer, Channel, record number, and every EventData/UserData name and
value.  Then a file with a chunk whose checksum is wrong and a truncated
file, written here: counted, the sensor keeps going and exits 2 (an input
error, as for a bad pcap) with everything it could read emitted.

Skips (exit 77) without the shared data, the sensor, or python-evtx.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
src = os.environ.get("SOC_SOURCE_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..")
build = os.environ.get("SOC_BUILD_DIR") or os.path.join(src, "build")
data = os.environ.get("SOC_TEST_DATA") or os.path.join(src, "..", "shared",
                                                       "data")
sensor = os.path.join(build, "sensor", "soc-sensor")
evtx_dir = os.path.join(data, "evtx")

try:
    import Evtx.Evtx as pyevtx
    import Evtx.Nodes as pynodes
except ImportError:
    # Debian's python3-evtx lives beside the system python
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import Evtx.Evtx as pyevtx
        import Evtx.Nodes as pynodes
    except ImportError:
        pyevtx = None

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)
    return cond


def run_sensor(*paths):
    args = [sensor, "-o", "json", "--name", "t"]
    for p in paths:
        args += ["-r", p]
    p = subprocess.run(args, capture_output=True, timeout=300)
    events = []
    for line in p.stdout.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError as e:
            check(False, "%s: not JSON (%s): %r" % (paths, e, line[:2000]))
    return p.returncode, events, p.stderr.decode(errors="replace")


def get(ev, dotted):
    for k in dotted.split("."):
        if not isinstance(ev, dict) or k not in ev:
            return None
        ev = ev[k]
    return ev


NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"


def local(tag):
    return tag.split("}", 1)[-1]


def reference(path):
    """python-evtx's view of each record: a dict of what we compare."""
    import xml.etree.ElementTree as ET
    out = []
    with pyevtx.Evtx(path) as log:
        for rec in log.records():
            root = ET.fromstring(rec.xml())
            sysm = root.find(NS + "System")
            r = {"id": sysm.findtext(NS + "EventID"),
                 "computer": sysm.findtext(NS + "Computer"),
                 "channel": sysm.findtext(NS + "Channel") or "",
                 "record": sysm.findtext(NS + "EventRecordID"),
                 "time": sysm.find(NS + "TimeCreated").get("SystemTime"),
                 "data": {}, "user": {}, "filetime": None}
            # the FILETIME itself (100 ns), not python-evtx's float text
            for sub in rec.root().substitutions():
                if isinstance(sub, pynodes.FiletimeTypeNode) and \
                        sub.string() == r["time"]:
                    r["filetime"] = sub.unpack_qword(0)
                    break
            ped = root.find(NS + "ProcessingErrorData")
            for d in (ped if ped is not None else []):
                r["data"][local(d.tag)] = d.text or ""
            ed = root.find(NS + "EventData")
            if ed is not None:
                pos = 0
                for d in ed:
                    name = d.get("Name")
                    text = d.text or ""
                    if name or local(d.tag) != "Data":
                        pos += 1
                        if local(d.tag) == "Binary" and text:
                            # python-evtx: base64; Windows: hex
                            import base64
                            text = base64.b64decode(text).hex().upper()
                        if local(d.tag) == "Binary" and not text:
                            continue    # libevtx leaves an empty one out
                        r["data"][name or local(d.tag)] = text
                        continue
                    # a string array: python-evtx keeps it in one Data,
                    # Windows (and libevtx) render one Data per string
                    items = re.findall(r"<string>(.*?)</string>", text,
                                       re.S) if text.startswith(
                                           "<string>") else [text]
                    for it in items:
                        pos += 1
                        r["data"]["param%d" % pos] = it
            ud = root.find(NS + "UserData")
            if ud is not None and len(ud):
                top = ud[0]
                r["user"]["xml_name"] = local(top.tag)
                for c in top:
                    if len(c) == 0:
                        r["user"][local(c.tag)] = c.text or ""
            out.append(r)
    return out


def micro(ts):
    """Microseconds since the epoch of our RFC 3339 or python-evtx's
    "YYYY-MM-DD HH:MM:SS.ffffff" time."""
    m = re.match(r"(\d+)-(\d+)-(\d+)[T ](\d+):(\d+):(\d+)(?:\.(\d+))?", ts)
    import calendar
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    frac = (m.group(7) or "0")[:6].ljust(6, "0")
    return calendar.timegm((y, mo, d, h, mi, s)) * 1000000 + int(frac)


def ns(ts):
    """Nanoseconds since the epoch of our RFC 3339 time."""
    m = re.match(r"(.*?)(?:\.(\d+))?Z$", ts)
    frac = (m.group(2) or "0")[:9].ljust(9, "0")
    return micro(m.group(1)) * 1000 + int(frac)


HEXNUM = re.compile(r"^(0x[0-9a-fA-F]+|\d+)$")


def same_value(ours, theirs):
    """python-evtx renders typed substitutions its own way (GUIDs in
    lower case, hex numbers without leading zeros, times with a space):
    equal text, or equal as such."""
    if ours == theirs:
        return True
    # control bytes are kept here byte for byte; XML 1.0 cannot carry
    # them and python-evtx leaves them out
    ours = "".join(c for c in ours if ord(c) >= 0x20 or c in "\t\r\n")
    if ours == theirs:
        return True
    if ours.lower() == theirs.lower():
        return True
    if re.match(r"^[0-9A-F]+$", ours) and len(ours) % 2 == 0:
        import base64
        import binascii
        try:    # binary: python-evtx writes base64, Windows hex
            if base64.b64decode(theirs, validate=True).hex().upper() == ours:
                return True
        except (binascii.Error, ValueError):
            pass
    if HEXNUM.match(ours) and HEXNUM.match(theirs):
        return int(ours, 0) == int(theirs, 0)
    # python-evtx renders a CR LF as it is; ElementTree reads it as LF
    if ours.replace("\r\n", "\n").replace("\r", "\n") == theirs:
        return True
    try:
        return abs(micro(ours) - micro(theirs)) <= 1
    except (AttributeError, TypeError, ValueError):
        return False


def compare_file(rel):
    path = os.path.join(evtx_dir, rel)
    rc, events, err = run_sensor(path)
    check(rc == 0, "%s: exit %d (%s)" % (rel, rc, err[-300:]))
    ours = [e for e in events if get(e, "soc.winlog.recovered") is None]
    ref = reference(path)
    if not check(len(ours) == len(ref), "%s: %d records, python-evtx %d" % (
            rel, len(ours), len(ref))):
        return 0, 0
    values = 0
    for e, r in zip(ours, ref):
        tag = "%s record %s" % (rel, r["record"])
        check(get(e, "winlog.event_id") == r["id"], tag + ": EventID")
        check(get(e, "event.code") == r["id"], tag + ": event.code")
        check(get(e, "winlog.computer_name") == r["computer"],
              tag + ": Computer")
        check(get(e, "host.name") == r["computer"], tag + ": host.name")
        check((get(e, "winlog.channel") or "") == r["channel"],
              tag + ": Channel")
        check(get(e, "winlog.record_id") == r["record"], tag + ": record")
        # to the 100 ns of the record's FILETIME
        check(r["filetime"] is not None and
              ns(e["@timestamp"]) == (r["filetime"] -
                                      116444736000000000) * 100,
              tag + ": time %s vs FILETIME %s (%s)" % (
                  e["@timestamp"], r["filetime"], r["time"]))
        ed = get(e, "winlog.event_data") or {}
        ud = get(e, "winlog.user_data") or {}
        check(set(ed) == set(r["data"]), tag + ": EventData names %s vs %s"
              % (sorted(ed), sorted(r["data"])))
        for k, v in r["data"].items():
            values += 1
            check(k in ed and same_value(ed[k], v),
                  tag + ": %s = %r vs %r" % (k, ed.get(k), v))
        for k, v in r["user"].items():
            values += 1
            check(k in ud and same_value(ud[k], v),
                  tag + ": user_data %s = %r vs %r" % (k, ud.get(k), v))
    return len(ours), values


def damaged(tmp):
    """A chunk with a bad checksum and a truncated file, from a sample
    with 17 chunks."""
    rel = "Credential_Access/etw_rpc_zerologon.evtx"
    path = os.path.join(evtx_dir, rel)
    _, good, _ = run_sensor(path)
    good = [e for e in good if get(e, "soc.winlog.recovered") is None]
    raw = bytearray(open(path, "rb").read())
    check(raw[:8] == b"ElfFile\0", "sample has the EVTX magic")

    # chunk 2 (the file header is 4096 bytes, a chunk 65536): one byte of
    # its records changed, so its CRC32 no longer matches
    bad = bytearray(raw)
    off = 4096 + 65536 * 2 + 0x200 + 100
    bad[off] ^= 0xff
    badpath = os.path.join(tmp, "bad-checksum.log")   # no .evtx name
    open(badpath, "wb").write(bad)
    rc, events, err = run_sensor(badpath)
    check(rc == 2, "bad checksum: exit %d, want 2 (%s)" % (rc, err[-300:]))
    check(0 < len(events) < len(good) + 200,
          "bad checksum: %d events of %d" % (len(events), len(good)))
    check(re.search(r"evtx_corrupt_files 1\b", err) is not None,
          "bad checksum counted: " + err[-400:])
    # the records of the other chunks are all there
    have = {get(e, "winlog.record_id") for e in events}
    lost = [e for e in good if get(e, "winlog.record_id") not in have]
    check(len(lost) < len(good) // 4,
          "bad checksum: %d records lost of %d" % (len(lost), len(good)))

    # truncated in the middle of chunk 2 (of 3), and a second good file after it:
    # the sensor goes on to the next file
    cut = os.path.join(tmp, "truncated.evtx")
    open(cut, "wb").write(raw[:4096 + 65536 * 2 + 30000])
    other = os.path.join(evtx_dir,
                         "Execution/revshell_cmd_svchost_sysmon_1.evtx")
    rc, events, err = run_sensor(cut, other)
    check(rc == 2, "truncated: exit %d, want 2" % rc)
    check(re.search(r"evtx_truncated_files 1\b", err) is not None,
          "truncated counted: " + err[-400:])
    check(len(events) > 0 and any(get(e, "winlog.computer_name") ==
                                  "MSEDGEWIN10" for e in events),
          "truncated: the next file was read too")
    got = sum(1 for e in events if get(e, "winlog.channel") ==
              "Microsoft-Windows-RPC/Debug" or
              get(e, "winlog.record_id") in {get(g, "winlog.record_id")
                                             for g in good})
    check(got > 0, "truncated: its first chunks were read (%d)" % got)
    print("truncated file: exit %d, %d events" % (rc, len(events)))

    # a lone surrogate in a UTF-16 value (checksums made right again):
    # libevtx renders U+FFFD, the value is kept and counted
    import struct
    import zlib
    src = bytearray(open(other, "rb").read())
    c = 4096
    i = src.find("MSEDGEWIN10".encode("utf-16-le"), c + 0x200)
    check(i > 0, "the computer name in the sample")
    src[i:i + 2] = b"\x00\xd8"
    free = struct.unpack_from("<I", src, c + 0x30)[0]
    struct.pack_into("<I", src, c + 0x34,
                     zlib.crc32(bytes(src[c + 0x200:c + free])))
    struct.pack_into("<I", src, c + 0x7c, zlib.crc32(
        bytes(src[c:c + 0x78]) + bytes(src[c + 0x80:c + 0x200])))
    sur = os.path.join(tmp, "surrogate.evtx")
    open(sur, "wb").write(src)
    rc, events, err = run_sensor(sur)
    check(rc == 0 and len(events) == 4, "surrogate: exit %d, %d events" %
          (rc, len(events)))
    check(all(get(e, "winlog.computer_name") == "\ufffdEDGEWIN10"
              for e in events), "surrogate: U+FFFD in its place")
    check(re.search(r"winlog_bad_utf16 [1-9]", err) is not None,
          "surrogate counted: " + err[-300:])

    # garbage with the magic: refused with a reason, exit 2, no crash
    junk = os.path.join(tmp, "junk.evtx")
    open(junk, "wb").write(b"ElfFile\0" + b"\xff" * 5000)
    rc, events, err = run_sensor(junk)
    check(rc == 2 and events == [], "junk: exit %d, %d events" %
          (rc, len(events)))


def nesting():
    """-o json nests winlog as Winlogbeat: one winlog object holding the
    system fields, event_data and user_data."""
    path = os.path.join(evtx_dir, "Execution/revshell_cmd_svchost_sysmon_1.evtx")
    p = subprocess.run([sensor, "-o", "json", "-r", path],
                       capture_output=True, timeout=60)
    line = p.stdout.splitlines()[0].decode()
    check(line.count('"winlog":') == 1, "one winlog object")
    e = json.loads(line)
    check(get(e, "winlog.event_data.Image") ==
          "C:\\Windows\\System32\\cmd.exe", "event_data nested")
    check(get(e, "process.executable") == "C:\\Windows\\System32\\cmd.exe",
          "process.executable from Image")
    check(get(e, "process.parent.name") == "svchost.exe",
          "process.parent.name")
    check(get(e, "process.hash.sha256", ) ==
          "3656f37a1c6951ec4496fabb8ee957d3a6e3c276d5a3785476b482c9c0d32ea2",
          "process.hash.sha256 from Hashes")
    check(get(e, "user.name") == "SYSTEM" and get(e, "user.domain") ==
          "NT AUTHORITY", "user from User")
    check(e["@timestamp"] == "2020-05-13T00:28:16.122541400Z",
          "time to 100 ns: " + e["@timestamp"])


def uplink(tmp, manifest):
    """The real path: -r FILE.evtx to a correlator on loopback; the sensor
    exits 0 once every batch is acked, and the correlator committed every
    record (dynamic fields decoded, none refused)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from soctest import CORR, SOCCTL, free_port, run, stop, wait_port, \
        wait_received
    db = os.path.join(tmp, "soc.db")

    def ctl(*a):
        return run(SOCCTL, "--db", db, *a)
    for name in ("correlator", "gw1"):
        ctl("keygen", "--out", os.path.join(tmp, name))
    ctl("agency", "add", "stttt", "--name", "So TT")
    ctl("sensor", "enroll", "gw1", "--agency", "stttt", "--key",
        os.path.join(tmp, "gw1.pub"))
    rules = os.path.join(tmp, "rules")
    os.mkdir(rules)
    shutil.copy(os.path.join(src, "rules", "mapping.yml"), rules)
    port = free_port()
    corr_log = open(os.path.join(tmp, "corr.err"), "w+")
    corr = subprocess.Popen([CORR, "--db", db, "--rules", rules, "--key",
                             os.path.join(tmp, "correlator.key"), "--bind",
                             "tcp://127.0.0.1:%d" % port],
                            stdout=corr_log, stderr=subprocess.STDOUT)
    try:
        check(wait_port(port, corr), "correlator listens")
        files = [f for f in manifest["files"]][:20]
        want = sum(f["records"] for f in files)
        args = [sensor, "--name", "gw1", "--connect",
                "tcp://127.0.0.1:%d" % port, "--server-key",
                os.path.join(tmp, "correlator.pub"), "--key",
                os.path.join(tmp, "gw1.key")]
        for f in files:
            args += ["-r", os.path.join(evtx_dir, f["file"])]
        p = subprocess.run(args, capture_output=True, timeout=300)
        err = p.stderr.decode(errors="replace")
        check(p.returncode == 0, "uplink replay exits 0: " + err[-300:])
        m = re.search(r"evtx_recovered (\d+)", err)
        want += int(m.group(1)) if m else 0
        n = wait_received(db, want, timeout=60)
        check(n == want, "correlator committed %d events of %d" % (n, want))
        corr_log.seek(0)
        text = corr_log.read()
        check("warning" not in text, "no batch refused: " + text[-500:])
        print("uplink: %d records committed by the correlator" % n)
    finally:
        stop(corr, 20)


def main():
    if not os.path.isdir(evtx_dir):
        print("skip: shared test data absent (set SOC_TEST_DATA)")
        return SKIP
    if not os.access(sensor, os.X_OK):
        print("skip: no sensor at", sensor)
        return SKIP
    if pyevtx is None:
        print("skip: python-evtx absent (Debian python3-evtx)")
        return SKIP
    manifest = json.load(open(os.path.join(evtx_dir, "MANIFEST.json")))
    records = values = 0
    for f in manifest["files"]:
        n, v = compare_file(f["file"])
        check(n == f["records"], "%s: %d records, manifest %d" % (
            f["file"], n, f["records"]))
        records += n
        values += v
    print("%d files, %d records, %d EventData/UserData values compared" % (
        len(manifest["files"]), records, values))
    check(records == manifest["totals"]["records"], "total records")
    nesting()
    tmp = tempfile.mkdtemp(prefix="soc-evtx-")
    try:
        damaged(tmp)
        up = os.path.join(tmp, "uplink")
        os.mkdir(up)
        uplink(up, manifest)
    finally:
        shutil.rmtree(tmp)
    print("%d failures" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
