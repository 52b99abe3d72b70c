#!/usr/bin/env python3
"""rules/mapping.yml and the fields behind it, through `socctl rules`.

- The SigmaHQ web/proxy/Zeek field names the sensors now fill
  (cs-username, c-uri-extension, cs-content-type, client_header_names,
  request_body_len, resp_mime_types) and the nginx log source load, and
  each rule fires on its positive and stays silent on its near-miss: log
  lines through the sensor's normalisers (`--log`), HTTP on the wire
  through its decoders (`--pcap`, built byte by byte).
- cs-cookie: soc-sensor copies a request's Cookie header only with
  `http.cookies: true` (session secrets); a cs-cookie rule loads and fires
  on such an event, and never on the same traffic read without it.
- Rules for log sources the sensors do not produce (Windows file
  access (kernel ETW), Zeek SMB/DCE-RPC/Kerberos/RDP)
  are refused by their log source, never by a field.
- `socctl rules check DIR` with no mapping.yml in DIR and no --mapping
  finds the checkout's rules/mapping.yml: beside the binary (../../rules)
  and, for a copy of the binary elsewhere, in the source tree it was
  built from.
"""
import json
import os
import shutil
import sys
import tempfile

from soctest import SENSOR, SOCCTL, SRC, check, done, run
from test_rules_shipped import ACK, FIN, PSH, SYN, T0, tcp, write_pcap

MAPPING = os.path.join(SRC, "rules", "mapping.yml")

RULES = [
    ("nginx core dump", {"service": "nginx"},
     {"keywords": ["exited on signal 6 (core dumped)"], "condition": "keywords"}),
    ("anonymous jsp", {"category": "webserver"},
     {"sel": {"cs-username": "anonymous", "c-uri-extension": "jsp"},
      "condition": "sel"}),
    ("octet-stream upload", {"category": "proxy"},
     {"sel": {"cs-content-type": "application/octet-stream", "cs-method": "POST",
              "c-uri-extension": "jsp"}, "condition": "sel"}),
    ("wsman without auth", {"product": "zeek", "service": "http"},
     {"sel": {"uri": "/wsman", "method": "POST"},
      "auth": {"client_header_names|contains": "AUTHORIZATION"},
      "small": {"request_body_len": 0},
      "condition": "sel and not auth and not small"}),
    ("exe download", {"product": "zeek", "service": "http"},
     {"sel": {"resp_mime_types|contains": "dosexec"}, "condition": "sel"}),
]

NOT_PRODUCED = [
    ({"product": "windows", "category": "file_access"},
     {"FileName|endswith": "\\\\lsass.dmp"},
     "product=windows category=file_access service=-"),
    ({"product": "zeek", "service": "smb_files"}, {"name": "PSEXESVC.exe"},
     "product=zeek category=- service=smb_files"),
    ({"product": "zeek", "service": "dce_rpc"}, {"operation": "NetrJobAdd"},
     "product=zeek category=- service=dce_rpc"),
    ({"product": "zeek", "service": "kerberos"}, {"cipher": "rc4-hmac"},
     "product=zeek category=- service=kerberos"),
    ({"product": "zeek", "service": "rdp"}, {"result": "encrypted"},
     "product=zeek category=- service=rdp"),
]


def rule_doc(i, title, logsource, detection):
    # JSON is YAML: no YAML module needed
    return json.dumps({"title": title, "id": f"00000000-0000-4000-8000-{i:012d}",
                       "status": "test", "level": "high", "logsource": logsource,
                       "detection": detection})


def write_rules(d, docs):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "r.yml"), "w") as f:
        f.write("\n---\n".join(docs) + "\n")


def access(path, user="-", method="GET"):
    return (f'203.0.113.7 - {user} [01/Dec/2026:10:00:00 +0700] "{method} {path} HTTP/1.1" '
            f'200 512 "-" "curl/8.0"')


def session(sp, req, resp, t):
    """One TCP session: request, response, close (client 10.0.0.1)."""
    c, s = "10.0.0.1", "10.0.0.2"
    ql, rl = len(req), len(resp)
    return [(t, tcp(c, s, sp, 80, SYN, 100)),
            (t + .001, tcp(s, c, 80, sp, SYN | ACK, 500, 101)),
            (t + .002, tcp(c, s, sp, 80, ACK, 101, 501)),
            (t + .003, tcp(c, s, sp, 80, PSH | ACK, 101, 501, req)),
            (t + .004, tcp(s, c, 80, sp, PSH | ACK, 501, 101 + ql, resp)),
            (t + .005, tcp(c, s, sp, 80, FIN | ACK, 101 + ql, 501 + rl)),
            (t + .006, tcp(s, c, 80, sp, FIN | ACK, 501 + rl, 102 + ql)),
            (t + .007, tcp(c, s, sp, 80, ACK, 102 + ql, 502 + rl))]


def titles(rules_dir, kind, path):
    p = run(SOCCTL, "rules", "test", rules_dir, "--" + kind, path, "--json",
            "--mapping", MAPPING)
    return sorted(a["rule"]["title"] for a in json.loads(p.stdout))


def main():
    tmp = tempfile.mkdtemp(prefix="soc-mapping-")
    try:
        rd = os.path.join(tmp, "rules")
        write_rules(rd, [rule_doc(i, *r) for i, r in enumerate(RULES)])
        p = run(SOCCTL, "rules", "check", rd, "--mapping", MAPPING, ok=None)
        check(p.returncode == 0 and f"{len(RULES)} rules loaded, 0 refused" in p.stdout,
              f"the new field names load: {p.stdout} {p.stderr}")

        log = os.path.join(tmp, "web.log")
        with open(log, "w") as f:
            f.write("\n".join([
                "2026/11/27 10:00:00 [alert] 123#0: worker process 4567 exited"
                " on signal 6 (core dumped)",
                "2026/11/27 10:00:01 [alert] 123#0: worker process 4568 exited"
                " on signal 9",
                access("/irj/x.jsp?a=1", "anonymous"),
                access("/irj/x.jsp", "bob"),
                access("/irj/x.jspx", "anonymous"),
                access("/irj/.jsp", "anonymous"),
            ]) + "\n")
        check(titles(rd, "log", log) == ["anonymous jsp", "nginx core dump"],
              "nginx error line and cs-username + c-uri-extension: one alert each")

        ok_hdr = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nok\r\n"
        mz = b"MZ\x90\x00\x03\x00\x00\x00"
        pcap = os.path.join(tmp, "http.pcap")
        write_pcap(pcap, session(50001, b"POST /irj/up.jsp HTTP/1.1\r\nHost: a\r\n"
                                 b"Content-Type: application/octet-stream\r\n"
                                 b"Content-Length: 0\r\n\r\n", ok_hdr, T0)
                   + session(50002, b"POST /irj/up.jsp HTTP/1.1\r\nHost: a\r\n"
                             b"Content-Type: text/plain\r\n\r\n", ok_hdr, T0 + 1)
                   + session(50003, b"POST /irj/up.jspx HTTP/1.1\r\nHost: a\r\n"
                             b"Content-Type: application/octet-stream\r\n\r\n",
                             ok_hdr, T0 + 2))
        check(titles(rd, "pcap", pcap) == ["octet-stream upload"],
              "cs-content-type and c-uri-extension on the wire: one alert")

        body = b"<x/>"
        write_pcap(pcap, session(50004, b"POST /wsman HTTP/1.1\r\nHost: a\r\n"
                                 b"Content-Length: 4\r\n\r\n" + body, ok_hdr, T0)
                   + session(50005, b"POST /wsman HTTP/1.1\r\nHost: a\r\n"
                             b"authorization: Basic eDp5\r\nContent-Length: 4\r\n\r\n"
                             + body, ok_hdr, T0 + 1)
                   + session(50006, b"POST /wsman HTTP/1.1\r\nHost: a\r\n"
                             b"Content-Length: 0\r\n\r\n", ok_hdr, T0 + 2)
                   + session(50007, b"GET /a.exe HTTP/1.1\r\nHost: a\r\n\r\n",
                             b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n"
                             % len(mz) + mz, T0 + 3)
                   + session(50008, b"GET /b.exe HTTP/1.1\r\nHost: a\r\n\r\n",
                             b"HTTP/1.1 200 OK\r\nContent-Type: application/x-dosexec"
                             b"\r\nContent-Length: 6\r\n\r\nhello!", T0 + 4))
        check(titles(rd, "pcap", pcap) == ["exe download", "wsman without auth"],
              "client_header_names, request_body_len, resp_mime_types (sniffed,"
              " not the header): one alert each")

        # cs-cookie: copied by the sensor only when configured
        write_pcap(pcap, session(50009, b"GET /s/ref HTTP/1.1\r\nHost: www.amazon.com\r\n"
                                 b"Cookie: b=2; csm-hit=s-24KU11BB82RZSYGJ3BDK\r\n"
                                 b"Cookie: a=1\r\n\r\n", ok_hdr, T0)
                   + session(50010, b"GET /s/ref HTTP/1.1\r\nHost: www.amazon.com\r\n"
                             b"Cookie: a=1; csm-hit=other\r\n\r\n", ok_hdr, T0 + 1)
                   + session(50011, b"GET /big HTTP/1.1\r\nHost: a\r\nCookie: "
                             + b"x" * 1500 + b"\r\n\r\n", ok_hdr, T0 + 2))
        conf = os.path.join(tmp, "sensor.yml")
        cd = os.path.join(tmp, "cookie")
        write_rules(cd, [rule_doc(90, "cobalt cookie", {"category": "proxy"},
                                  {"sel": {"cs-cookie|contains": "=s-24KU11BB82RZSYGJ3BDK",
                                           "cs-host": "www.amazon.com"},
                                   "condition": "sel"})])
        cookies, alerts = {}, {}
        for on in (False, True):
            with open(conf, "w") as f:
                f.write(f"http:\n  cookies: {'true' if on else 'false'}\n")
            p = run(SENSOR, "-c", conf, "-r", pcap, "-o", "json", ok=None)
            evs = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
            reqs = [e for e in evs if e.get("event", {}).get("action") == "http_request"]
            cookies[on] = [e.get("soc", {}).get("http", {}).get("request", {})
                           .get("cookie") for e in reqs]
            truncated = [e.get("soc", {}).get("truncated", False) for e in reqs]
            ev_path = os.path.join(tmp, f"http-{on}.jsonl")
            with open(ev_path, "w") as f:
                f.write(p.stdout)
            alerts[on] = titles(cd, "events", ev_path)
        check(cookies[False] == [None, None, None],
              f"no Cookie header copied by default: {cookies[False]}")
        check(cookies[True] == ["b=2; csm-hit=s-24KU11BB82RZSYGJ3BDK; a=1", "a=1; csm-hit=other",
                                "x" * 1024],
              f"http.cookies: true copies them (two lines joined as servers do),"
              f" cut at 1 KiB: {cookies[True][:2]}")
        check(truncated == [False, False, True], f"the cut one is marked: {truncated}")
        check(alerts[True] == ["cobalt cookie"] and alerts[False] == [],
              f"a cs-cookie rule fires once with cookies, never without: {alerts}")

        # log sources the sensors do not produce: refused by log source
        nd = os.path.join(tmp, "notproduced")
        for i, (ls, sel, named) in enumerate(NOT_PRODUCED):
            write_rules(os.path.join(nd, str(i)),
                        [rule_doc(i, f"np {i}", ls, {"sel": sel, "condition": "sel"})])
            p = run(SOCCTL, "rules", "check", os.path.join(nd, str(i)), "--mapping",
                    MAPPING, ok=None)
            check(p.returncode == 1 and f"logsource ({named})" in p.stderr
                  and "is not mapped to any dataset" in p.stderr
                  and "field" not in p.stderr,
                  f"{named}: refused by log source ({p.stderr.strip()})")

        # no mapping.yml in DIR, no --mapping
        p = run(SOCCTL, "rules", "check", rd, ok=None, cwd=tmp)
        check(p.returncode == 0 and "0 refused" in p.stdout,
              f"rules check finds the checkout's mapping beside the binary: {p.stderr}")
        copy = os.path.join(tmp, "socctl")
        shutil.copy(SOCCTL, copy)
        p = run(copy, "rules", "check", rd, ok=None, cwd=tmp)
        check(p.returncode == 0 and "0 refused" in p.stdout,
              f"a copy of socctl finds the mapping in its source tree: {p.stderr}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
