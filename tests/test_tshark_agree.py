#!/usr/bin/env python3
"""Agreement with tshark: for every capture in <data>/pcap and one made by
bench/gen-traffic, the sets of DNS query names, HTTP hosts and URIs, TLS
server names and TCP/UDP conversations (5-tuples, direction-insensitive)
from `soc-sensor -r FILE -o json` must equal those from `tshark -r FILE -T
fields`; so must the servers' leaf certificates (network.x509: serial,
validity, DNS subject alternative names, key algorithm), tshark's being
the first certificate of each Certificate message.  Skips (exit 77) without tshark, the shared data or the sensor.

Normalisation: DNS names are compared lower-cased without a trailing dot
(the sensor prints them so); HTTP hosts lower-cased without the port (the
sensor's url.domain).  Conversations count only packets both tools decode
to a port pair: tshark's ports from a frame cut by the snaplen, or from a
packet quoted inside an ICMP error, are left out (first occurrence only).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77

# Known, intended differences: the sensor drops a packet whose IP total
# length exceeds what was on the wire, or whose TCP header the snaplen cut
# (counted as truncated); tshark still decodes what it can of them.
EXPECTED = {
    ("malformed-ipv4-total-length.pcap", "dns"),
    ("malformed-ipv4-total-length.pcap", "conv"),
    ("malformed-tcp-header-overflow.pcap", "conv"),
}


def env_paths():
    src = os.environ.get("SOC_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..")
    build = os.environ.get("SOC_BUILD_DIR") or os.path.join(src, "build")
    data = os.environ.get("SOC_TEST_DATA") or os.path.join(src, "..", "shared", "data")
    return src, build, data


def sensor_sets(sensor, path):
    out = subprocess.run([sensor, "-r", path, "-o", "json"], capture_output=True,
                         check=True, text=True).stdout
    s = {"dns": set(), "host": set(), "uri": set(), "sni": set(), "conv": set(),
         "x509": set()}
    for line in out.splitlines():
        e = json.loads(line)
        ds = e.get("event", {}).get("dataset")
        if ds == "network.dns" and e.get("dns", {}).get("type") == "query":
            name = e["dns"].get("question", {}).get("name")
            if name:
                s["dns"].add(name.lower().rstrip("."))
        elif ds == "network.http" and e.get("event", {}).get("action") == "http_request":
            if "domain" in e.get("url", {}):
                s["host"].add(e["url"]["domain"])
            s["uri"].add(e["url"]["original"])
        elif ds == "network.tls":
            sni = e.get("tls", {}).get("client", {}).get("server_name")
            if sni:
                s["sni"].add(sni)
        elif ds == "network.x509":
            x = e["tls"]["server"]["x509"]
            sans = [a for a in x.get("alternative_names", "").split(",")
                    if a and "@" not in a and ":" not in a
                    and not a.replace(".", "").isdigit()]
            s["x509"].add((x["serial_number"], x["not_before"], x["not_after"],
                           frozenset(sans), x.get("public_key_algorithm")))
        elif ds == "network.flow":
            t = e["network"]["transport"]
            if t in ("tcp", "udp"):
                a = (e["source"]["ip"], e["source"]["port"])
                b = (e["destination"]["ip"], e["destination"]["port"])
                s["conv"].add((t, frozenset([a, b])))
    return s


FIELDS = ["dns.flags.response", "dns.qry.name", "http.host", "http.request.uri",
          "tls.handshake.extensions_server_name", "ip.src", "ip.dst", "ipv6.src",
          "ipv6.dst", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
          "_ws.malformed", "icmp.type", "icmpv6.type"]


def host_only(h):
    h = h.lower()
    if h.startswith("["):
        return h[1:h.find("]")] if "]" in h else h[1:]
    return h.split(":")[0]


def tshark_sets(path):
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=f"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, check=True, text=True).stdout
    s = {"dns": set(), "host": set(), "uri": set(), "sni": set(), "conv": set()}
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        if v.get("dns.qry.name") and v.get("dns.flags.response") in ("0", "False"):
            s["dns"].add(v["dns.qry.name"].lower().rstrip("."))
        if v.get("http.request.uri"):
            s["uri"].add(v["http.request.uri"])
            if v.get("http.host"):
                s["host"].add(host_only(v["http.host"]))
        if v.get("tls.handshake.extensions_server_name"):
            s["sni"].add(v["tls.handshake.extensions_server_name"])
        if v.get("icmp.type") or v.get("icmpv6.type") or v.get("_ws.malformed"):
            continue
        src = v.get("ip.src") or v.get("ipv6.src")
        dst = v.get("ip.dst") or v.get("ipv6.dst")
        for t in ("tcp", "udp"):
            sp, dp = v.get(t + ".srcport"), v.get(t + ".dstport")
            if src and dst and sp and dp:
                s["conv"].add((t, frozenset([(src, int(sp)), (dst, int(dp))])))
    return s


KEY_ALGS = {"1.2.840.113549.1.1.1": "rsa", "1.2.840.10045.2.1": "ecdsa",
            "1.2.840.10040.4.1": "dsa", "1.3.101.112": "ed25519"}
X509_FIELDS = ["x509af.serialNumber", "x509af.utcTime", "x509af.generalizedTime",
               "x509ce.dNSName", "x509af.algorithm.id"]


def tshark_time(t):
    """'2014-04-09 12:07:45 (UTC)' as the sensor writes it."""
    return t.replace(" (UTC)", "").replace(" ", "T") + ".000000000Z"


def tshark_x509(path):
    """Leaf certificates: the first of each Certificate message.  SANs of
    the whole chain are taken (tshark does not split them per certificate;
    CA certificates carry none in these captures)."""
    cmd = ["tshark", "-n", "-r", path, "-Y", "tls.handshake.type == 11", "-T",
           "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E",
           "aggregator=|"]
    for f in X509_FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, check=True, text=True).stdout
    s = set()
    for line in out.splitlines():
        v = dict(zip(X509_FIELDS, [c.split("|") if c else [] for c in line.split("\t")]))
        serial, times = v.get("x509af.serialNumber"), v.get("x509af.utcTime", [])
        if not serial or len(times) < 2 or v.get("x509af.generalizedTime"):
            continue          # GeneralizedTime: the order is lost, skip
        algs = v.get("x509af.algorithm.id", [])
        s.add((serial[0].upper(), tshark_time(times[0]), tshark_time(times[1]),
               frozenset(v.get("x509ce.dNSName", [])),
               KEY_ALGS.get(algs[1]) if len(algs) > 1 else None))
    return s


def gen_capture(src, build, tmp):
    gen = os.path.join(build, "bench", "gen-traffic")
    if not os.access(gen, os.X_OK):
        gen = os.path.join(tmp, "gen-traffic")
        cc = os.environ.get("CC", "cc")
        r = subprocess.run([cc, "-O1", "-o", gen, os.path.join(src, "bench", "gen-traffic.c"),
                            "-lpcap"], capture_output=True)
        if r.returncode != 0:
            return None
    path = os.path.join(tmp, "mix.pcap")
    subprocess.run([gen, "--mix", path, "--packets", "5000"], check=True,
                   capture_output=True)
    return path


def main():
    src, build, data = env_paths()
    sensor = os.path.join(build, "sensor", "soc-sensor")
    if shutil.which("tshark") is None:
        print("skip: tshark not installed")
        return SKIP
    if not os.path.isdir(os.path.join(data, "pcap")):
        print("skip: shared test data absent (set SOC_TEST_DATA)")
        return SKIP
    if not os.access(sensor, os.X_OK):
        print("skip: %s not built" % sensor)
        return SKIP
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        files = sorted(os.path.join(data, "pcap", f)
                       for f in os.listdir(os.path.join(data, "pcap")) if f.endswith(".pcap"))
        gen = gen_capture(src, build, tmp)
        if gen is not None:
            files.append(gen)
        for path in files:
            ours, theirs = sensor_sets(sensor, path), tshark_sets(path)
            theirs["x509"] = tshark_x509(path)
            for k in ("dns", "host", "uri", "sni", "conv", "x509"):
                if ours[k] == theirs[k]:
                    passed += 1
                    continue
                if (os.path.basename(path), k) in EXPECTED:
                    print("%s: %s differ, as expected (truncated packet)"
                          % (os.path.basename(path), k))
                    passed += 1
                    continue
                failed += 1
                only_s = sorted(map(str, ours[k] - theirs[k]))[:5]
                only_t = sorted(map(str, theirs[k] - ours[k]))[:5]
                print("%s: %s differ; only soc-sensor %s; only tshark %s"
                      % (os.path.basename(path), k, only_s, only_t))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
