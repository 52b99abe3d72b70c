#!/usr/bin/env python3
"""The shipped rule set (rules/, with the curated provincial set under
rules/province/) proven rule by rule: every rule loads, every rule that
raises alerts has a positive example it fires on and a near-miss it
stays silent on, and the demo data (gen-sample) still raises exactly the
three starter alerts, so the integration tests keep their incidents.

Inputs are real files written here and fed through `socctl rules test
rules/ (--log | --pcap)`: log lines go through the sensor's normalisers,
captures through its decoders, DNS parser and flow table (the pcaps are
built byte by byte below, with correct checksums; no scapy needed).
Near-misses sit just outside a rule: one event under a threshold, the
same events spread past the window, the same request answered 404, a
group that is not an administrator group, an ICMP echo that got its
reply.
"""
import json
import os
import re
import struct
import sys
import tempfile

from soctest import GEN, SOCCTL, SRC, check, done, run

RULES = os.path.join(SRC, "rules")
EVTX = os.path.join(os.environ.get("SOC_TEST_DATA") or
                    os.path.join(SRC, "..", "shared", "data"), "evtx")


def winev(channel, event_id, provider, t=0, host="pc1.so.gov.vn", process=None, **data):
    """A Windows event as --events reads it (Winlogbeat's nesting), t
    seconds after 2026-12-01T03:00:00Z."""
    e = {"@timestamp": "2026-12-01T03:%02d:%02dZ" % (t // 60, t % 60),
         "event": {"kind": "event", "dataset": "log.windows", "code": str(event_id)},
         "host": {"name": host},
         "winlog": {"channel": channel, "provider_name": provider,
                    "event_id": str(event_id), "computer_name": host,
                    "event_data": data}}
    if process:
        e["process"] = process
    return e


SECAUDIT = "Microsoft-Windows-Security-Auditing"
SYSMON = ("Microsoft-Windows-Sysmon/Operational", 1, "Microsoft-Windows-Sysmon")


def logon_failed(t, host="pc1.so.gov.vn", user="admin"):
    return winev("Security", 4625, SECAUDIT, t, host, TargetUserName=user, LogonType="3",
                 IpAddress="203.0.113.9")


def proc(exe, cmd, parent):
    """A Sysmon process creation, with the ECS fields Winlogbeat fills."""
    return winev(*SYSMON, process={"executable": exe, "command_line": cmd,
                                   "parent": {"executable": parent}},
                 Image=exe, CommandLine=cmd, ParentImage=parent)


DEFENDER = "Microsoft-Windows-Windows Defender/Operational"

# ---------------------------------------------------------------- pcap


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def packet(src, dst, proto, l4):
    """Ethernet + IPv4 around an L4 header+payload whose checksum field
    is already filled (see tcp/udp/icmp)."""
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0x4000, 64, proto,
                      0, ip4(src), ip4(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
    return eth + hdr + l4


def l4sum(src, dst, proto, l4):
    return csum(ip4(src) + ip4(dst) + struct.pack("!BBH", 0, proto, len(l4)) + l4)


SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10


def tcp(src, dst, sport, dport, flags, seq=1000, ack=0, data=b""):
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + data
    c = l4sum(src, dst, 6, h)
    return packet(src, dst, 6, h[:16] + struct.pack("!H", c) + h[18:])


def udp(src, dst, sport, dport, data):
    h = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    c = l4sum(src, dst, 17, h) or 0xffff
    return packet(src, dst, 17, h[:6] + struct.pack("!H", c) + h[8:])


def icmp_echo(src, dst, ident, seq, reply=False):
    h = struct.pack("!BBHHH", 0 if reply else 8, 0, 0, ident, seq) + b"soc-test-payload"
    return packet(src, dst, 1, h[:2] + struct.pack("!H", csum(h)) + h[4:])


def dns_query(src, dst, sport, qid, name, qtype=1):
    q = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    msg = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", qtype, 1)
    return udp(src, dst, sport, 53, msg)


def write_pcap(path, pkts):
    """pkts: [(time_s, frame)] in time order."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for t, fr in pkts:
            sec = int(t)
            f.write(struct.pack("<IIII", sec, int((t - sec) * 1e6), len(fr), len(fr)))
            f.write(fr)


T0 = 1764554400.0	# 2025-12-01 02:00 UTC


def probes(src, targets, t=T0, step=0.5, refused=True):
    """One SYN probe per (dst, port); the target answers RST+ACK."""
    out = []
    for i, (dst, port) in enumerate(targets):
        sp = 40000 + i
        out.append((t + i * step, tcp(src, dst, sp, port, SYN, seq=7)))
        if refused:
            out.append((t + i * step + 0.001, tcp(dst, src, port, sp, RST | ACK, 0, 8)))
    return out


def sessions(src, dst, port, n, t):
    """n complete TCP sessions with data: what probes are not."""
    out = []
    for i in range(n):
        sp, b = 50000 + i, t + i
        out += [(b, tcp(src, dst, sp, port, SYN, 100)),
                (b + .001, tcp(dst, src, port, sp, SYN | ACK, 500, 101)),
                (b + .002, tcp(src, dst, sp, port, ACK, 101, 501)),
                (b + .003, tcp(src, dst, sp, port, PSH | ACK, 101, 501, b"GET / HTTP/1.0\r\n\r\n")),
                (b + .004, tcp(dst, src, port, sp, FIN | ACK, 501, 119)),
                (b + .005, tcp(src, dst, sp, port, FIN | ACK, 119, 502)),
                (b + .006, tcp(dst, src, port, sp, ACK, 502, 120))]
    return out


def pings(src, n, reply, t=T0):
    out = []
    for i in range(n):
        dst = f"10.20.0.{i + 1}"
        out.append((t + i * 0.5, icmp_echo(src, dst, 77, i)))
        if reply:
            out.append((t + i * 0.5 + 0.001, icmp_echo(dst, src, 77, i, reply=True)))
    return out


def tunnel_queries(n, t=T0, long=True):
    alpha = "abcdefghijklmnopqrstuvwxyz234567"
    out = []
    for i in range(n):
        label = "".join(alpha[(i * 7 + j * 13) % 32] for j in range(45 if long else 12))
        out.append((t + i * 2, dns_query("10.10.1.50", "10.10.1.1", 30000 + i, 100 + i,
                                         f"{label}.t.exfil-test.example")))
    return out


def one_query(name, qtype=1):
    return [(T0, dns_query("10.10.1.51", "10.10.1.1", 31000, 4242, name, qtype))]

# ---------------------------------------------------------------- logs


def access(path, method="GET", status=200, client="203.0.113.7", sec=0):
    return (f'{client} - - [01/Dec/2026:10:00:{sec:02d} +0700] "{method} {path} HTTP/1.1" '
            f'{status} 512 "-" "Mozilla/5.0 (X11; Linux x86_64)"')


def syslog(prog, msg, sec=0, host="web1"):
    m, s = divmod(sec, 60)
    h, m = divmod(m, 60)
    return f"Dec  1 {10 + h:02d}:{m:02d}:{s:02d} {host} {prog}: {msg}"


def ufw(src, dst, dpt, sec, prefix="[UFW BLOCK]"):
    return syslog("kernel", f"[12345.678] {prefix} IN=eth0 OUT= MAC=00:00:00:00:00:01 "
                  f"SRC={src} DST={dst} LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=4321 DF "
                  f"PROTO=TCP SPT={40000 + sec} DPT={dpt} WINDOW=29200 RES=0x00 SYN URGP=0",
                  sec=sec, host="gw")


def failed(user, src, sec):
    return syslog("sshd[900]", f"Failed password for {user} from {src} port {41000 + sec} ssh2",
                  sec=sec, host="srv")


def invalid(user, src, sec):
    return syslog("sshd[901]", f"Invalid user {user} from {src} port {42000 + sec}",
                  sec=sec, host="srv")


def pam(src, sec, old=False):
    """A PAM failure for sshd from rhost src, in the current form or the
    older sshd(pam_unix) one."""
    rest = f"authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={src}  user=root"
    if old:
        return syslog(f"sshd(pam_unix)[{700 + sec}]", rest, sec=sec, host="srv")
    return syslog(f"sshd[{700 + sec}]", "pam_unix(sshd:auth): " + rest, sec=sec, host="srv")


def sudo_fail(user, sec, form):
    """A sudo failure of user, in one of the three forms log.auth knows."""
    msg = [f"pam_unix(sudo:auth): authentication failure; logname={user} uid=1000 euid=0 "
           f"tty=/dev/pts/0 ruser={user} rhost=  user={user}",
           f"   {user} : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/{user} ; "
           "USER=root ; COMMAND=/bin/bash",
           f"   {user} : user NOT in sudoers ; TTY=pts/0 ; PWD=/home/{user} ; USER=root ; "
           "COMMAND=/bin/cat /etc/shadow"][form]
    return syslog("sudo", msg, sec=sec, host="srv")


def sudo_ok(user, sec):
    return syslog("sudo", f"   {user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; "
                  "COMMAND=/usr/bin/id", sec=sec, host="srv")


def clamav(prog, msg, sec=0):
    return syslog(prog, msg, sec=sec, host="pc12")


# The ClamAV rule loads once rules/mapping.yml has the antivirus log
# source (category antivirus, datasets [log.clamav]); until then it waits
# as malware-clamav.yml.pending.
CLAMAV = os.path.exists(os.path.join(RULES, "province", "malware-clamav.yml"))

# ---------------------------------------------------------------- cases
# title: (kind, positive, near-miss); kind "log" takes lines, "pcap"
# takes [(time, frame)].


def cases():
    up = "/wp-content/uploads/2026/12/"
    scan_host = [("10.20.0.80", p) for p in range(1, 26)]
    sweep = [(f"10.20.0.{h}", 22) for h in range(1, 26)]
    out = {
        # rules/province/windows-*.yml: EVTX samples of the shared data
        # (skipped when absent), else events as Winlogbeat sends them; a
        # near miss may be of another kind: (kind, data)
        "Windows Security log cleared": ("events",
            [winev("Security", 1102, "Microsoft-Windows-Eventlog", SubjectUserName="x")],
            [winev("Security", 1100, "Microsoft-Windows-Eventlog")]),
        "Windows system log cleared": ("evtx",
            "Defense_Evasion/DE_104_system_log_cleared.evtx",
            "Lateral_Movement/DFIR_RDP_Client_TimeZone_RdpCoreTs_104_example.evtx"),
        "Windows service installed": ("evtx",
            "Lateral_Movement/LM_Remote_Service02_7045.evtx",
            "Lateral_Movement/LM_Remote_Service01_5145_svcctl.evtx"),
        "Windows service installed (Security audit)": ("events",
            [winev("Security", 4697, "Microsoft-Windows-Security-Auditing",
                   ServiceName="PSEXESVC")],
            [winev("System", 4697, "Microsoft-Windows-Security-Auditing",
                   ServiceName="PSEXESVC")]),
        "Defender detected malware": ("evtx",
            "AutomatedTestingTools/WinDefender_Events_1117_1116_AtomicRedTeam.evtx",
            ("events", [winev(DEFENDER, 1150, "Microsoft-Windows-Windows Defender")])),
        "Defender real-time protection disabled": ("events",
            [winev(DEFENDER, 5001, "Microsoft-Windows-Windows Defender")],
            [winev(DEFENDER, 5000, "Microsoft-Windows-Windows Defender")]),
        "Windows logon failure storm on one host": ("events",
            [logon_failed(i * 14, user=f"u{i}") for i in range(20)],
            [logon_failed(i * 14, user=f"u{i}") for i in range(19)] +
            [logon_failed(300, host="pc2.so.gov.vn")]),
        "Windows logon failure storm for one account": ("events",
            [logon_failed(i * 29, host=f"pc{i}.so.gov.vn") for i in range(20)],
            [logon_failed(i * 29, host=f"pc{i}.so.gov.vn") for i in range(19)] +
            [logon_failed(590, host="pc1.so.gov.vn", user="other")]),
        "Office program started a shell": ("events",
            [proc("C:\\Windows\\System32\\cmd.exe", "cmd /c whoami",
                  "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE")],
            [proc("C:\\Windows\\System32\\cmd.exe", "cmd /c whoami",
                  "C:\\Windows\\explorer.exe"),
             proc("C:\\Windows\\splwow64.exe", "splwow64.exe 8192",
                  "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE")]),
        "PowerShell with an encoded command": ("events",
            [proc("C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                  "powershell.exe -NoP -W Hidden /enc SQBFAFgA", "C:\\Windows\\explorer.exe")],
            [proc("C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                  "powershell.exe -ExecutionPolicy Bypass -File C:\\x\\enc.ps1",
                  "C:\\Windows\\explorer.exe"),
             proc("C:\\Windows\\System32\\cmd.exe", "cmd.exe /c x -enc y",
                  "C:\\Windows\\explorer.exe")]),
        "Windows scheduled task created": ("events",
            [winev("Security", 4698, SECAUDIT, TaskName="\\Updater")],
            [winev("Security", 4699, SECAUDIT, TaskName="\\Updater")]),
        # rules/linux, rules/network, rules/web: the starter rules
        "SSH brute force": ("log",
            [failed("root", "198.51.100.4", i * 10) for i in range(8)],
            [failed("root", "198.51.100.4", i * 10) for i in range(7)]),
        # web shells
        "Script executed from an upload directory": ("log",
            [access(up + "cache.php", "POST")],
            [access("/wp-admin/async-upload.php", "POST"), access(up + "cache.php", "POST", 404),
             access(up + "photo.jpg", "POST")]),
        "Web shell command parameter": ("log",
            [access("/images/logo.php?cmd=whoami")],
            [access("/admin/index.php?command=save&id=3"), access("/search.php?q=whoami")]),
        # web-attacks.yml: the request target as logged, plain and encoded
        "SQL injection attempt in a web request": ("log",
            [access("/news.php?id=1%20UNION%20ALL%20SELECT%201,2,user()"),
             access("/login.php?user=admin%27+OR+1%3D1--+"),
             access("/item.php?id=1%27%20AND%20SLEEP(5)--")],
            [access("/search?q=union+station+select+menu"), access("/blog/select-a-union-plan"),
             access("/faq?q=rock+or+roll&id=1"), access("/login.php?id=1"),
             access("/sleep-well.html")]),
        "Path traversal in a web request": ("log",
            [access("/static/..%252f..%252fconfig.php"), access("/img?f=..\\..\\web.config")],
            [access("/docs/v1/../index.html"), access("/js/app..min.js"),
             access("/a/b/..c/..d")]),
        "Local file inclusion in a web request": ("log",
            [access("/index.php?page=php://filter/convert.base64-encode/resource=index"),
             access("/view?f=%2Fetc%2Fpasswd")],
            [access("/search?q=passwd+reset"), access("/help/etc/passwords.html"),
             access("/php-tutorial/filter")]),
        "Cross-site scripting attempt in a web request": ("log",
            [access("/search?q=%3Cscript%3Ealert(1)%3C/script%3E"),
             access("/p?x=%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E")],
            [access("/docs/javascript/tutorial?topic=script+tags"),
             access("/img/onerror-handling.png"), access("/search?q=%3Cb%3Ebold%3C/b%3E")]),
        # sudo-failures.yml: 5 failures of one user in 10 minutes
        "Repeated sudo failures by one user": ("log",
            [sudo_fail("bob", i * 100, i % 3) for i in range(5)],
            [sudo_fail("bob", i * 100, i % 3) for i in range(4)] +
            [sudo_fail("alice", 450, 0), sudo_ok("bob", 460)]),
        "Known web shell answered": ("log",
            [access("/wso.php", "POST")],
            [access("/wso.php", "GET", 404), access("/wso-docs.php")]),
        # defacement
        "Web content written over HTTP": ("log",
            [access("/index.html", "PUT", 201)],
            [access("/index.html", "PUT", 405), access("/index.html", "GET", 200)]),
        "CMS file editor saved a file": ("log",
            [access("/wp-admin/theme-editor.php", "POST"),
             access("/administrator/index.php?option=com_templates&task=template.apply", "POST")],
            [access("/wp-admin/theme-editor.php?file=style.css"),
             access("/administrator/index.php?option=com_content&task=article.apply", "POST")]),
        # DNS
        "DNS tunnelling from one host": ("pcap", tunnel_queries(30),
            tunnel_queries(29) + tunnel_queries(30, T0 + 70, long=False)),
        "DNS NULL record query": ("pcap", one_query("a.t.exfil-test.example", 10),
            one_query("a.t.exfil-test.example", 1)),
        "DNS query for a cryptocurrency mining pool": ("pcap", one_query("pool.supportxmr.com"),
            one_query("notnanopool.org")),
        "DNS query for a reverse-tunnelling service": ("pcap",
            one_query("ab12-198-51-100-7.ngrok-free.app"), one_query("ngrok.com")),
        # flows
        "Port scan of one host": ("pcap", probes("198.51.100.30", scan_host),
            probes("198.51.100.30", scan_host[:24]) +
            sessions("198.51.100.30", "10.20.0.80", 80, 10, T0 + 20)),
        "Port sweep across hosts": ("pcap", probes("198.51.100.31", sweep),
            probes("198.51.100.31", sweep[:24])),
        "Ping sweep": ("pcap", pings("198.51.100.32", 25, False), pings("198.51.100.32", 25, True)),
        # accounts
        "User added to an administrator group": ("log",
            [syslog("usermod[2001]", "add 'bob' to group 'sudo'"),
             syslog("gpasswd[2002]", "user carol added by root to group wheel", 1)],
            [syslog("usermod[2001]", "add 'bob' to group 'audio'"),
             syslog("usermod[2001]", "add 'bob' to group 'admins-mail'", 1)]),
        "Account created or changed to UID 0": ("log",
            [syslog("useradd[2003]", "new user: name=toor, UID=0, GID=0, home=/root, "
                    "shell=/bin/bash, from=/dev/pts/0"),
             syslog("usermod[2004]", "change user 'bob' UID from '1001' to '0'", 1)],
            [syslog("useradd[2003]", "new user: name=alice, UID=1001, GID=1001, "
                    "home=/home/alice, shell=/bin/bash, from=/dev/pts/0"),
             syslog("usermod[2004]", "change user 'bob' UID from '0' to '1001'", 1)]),
        "Local account created": ("log",
            [syslog("useradd[2005]", "new user: name=alice, UID=1001, GID=1001, "
                    "home=/home/alice, shell=/bin/bash, from=/dev/pts/0")],
            [syslog("useradd[2005]", "failed adding user 'alice', exit code: 9")]),
        # firewall
        "Firewall deny storm from one source": ("log",
            [ufw("198.51.100.40", f"10.20.1.{i % 50 + 1}", 443, i // 2) for i in range(100)],
            [ufw("198.51.100.40", f"10.20.1.{i % 50 + 1}", 443, i // 2) for i in range(99)]),
        "Firewall refusals against one host from one source": ("log",
            [ufw("198.51.100.41", "10.20.1.9", 1000 + i, i) for i in range(30)],
            [ufw("198.51.100.41", "10.20.1.9", 1000 + i, i, "[UFW ALLOW]") for i in range(30)]),
        # SSH
        "SSH brute force against one account": ("log",
            [failed("admin", f"198.51.100.{100 + i}", i * 20) for i in range(20)],
            [failed("admin", f"198.51.100.{100 + i}", i * 20) for i in range(19)]),
        "SSH user name enumeration": ("log",
            [invalid(u, "198.51.100.50", i * 20) for i, u in enumerate(USERS)],
            [invalid(u, "198.51.100.50", i * 120) for i, u in enumerate(USERS)]),
        # PAM: both forms count together, per address or host name
        "SSH brute force (PAM)": ("log",
            [pam("198.51.100.60", i * 30, old=i % 2 == 0) for i in range(6)],
            [pam("198.51.100.60", i * 30, old=i % 2 == 0) for i in range(5)] +
            [pam("bad.example.net", 160)] +
            [pam("198.51.100.60", 400 + i * 60) for i in range(3)]),
        # ... and per host name apart: an event has one of the two fields
        "SSH brute force (PAM, host name)": ("log",
            [pam("bad.example.net", i * 30, old=i % 2 == 0) for i in range(6)],
            [pam("bad.example.net", i * 30) for i in range(5)] +
            [pam("198.51.100.61", 160)]),
    }
    if CLAMAV:
        out["Malware detected by the antivirus"] = ("log",
            [clamav("clamd[99]", "/home/u/Downloads/invoice.exe: Win.Trojan.Agent-1234 FOUND")],
            [clamav("freshclam[98]", "ERROR: Can't download daily.cvd from database.clamav.net"),
             clamav("clamd[99]", "/home/u/report.pdf: OK", 1),
             clamav("nginx[5]", "/var/www/x.php: Eicar-Signature FOUND", 2)])
    return out


# ATT&CK enterprise tactics as Sigma tags spell them (hyphens, as
# SigmaHQ since 2024): the category of an incident derives from these.
TACTICS = {"reconnaissance", "resource-development", "initial-access", "execution",
           "persistence", "privilege-escalation", "defense-evasion", "credential-access",
           "discovery", "lateral-movement", "collection", "command-and-control",
           "exfiltration", "impact"}

# single-event rules whose positive lines are each a form that must match
EVERY_LINE = {"SQL injection attempt in a web request", "Path traversal in a web request",
              "Local file inclusion in a web request",
              "Cross-site scripting attempt in a web request"}

USERS = ["oracle", "test", "guest", "ubuntu", "pi", "ftp", "postgres", "git", "user", "support"]


def alerts(tmp, name, kind, data):
    """Titles of the alerts on data; None when an EVTX sample of the
    shared data is absent (the case is skipped)."""
    path = os.path.join(tmp, name + (".pcap" if kind == "pcap" else ".log"))
    if kind == "evtx":
        path = os.path.join(EVTX, data)
        if not os.path.exists(path):
            print(f"skip: {path} absent (set SOC_TEST_DATA)")
            return None
    elif kind == "events":
        with open(path, "w") as f:
            f.write("".join(json.dumps(e) + "\n" for e in data))
    elif kind == "pcap":
        write_pcap(path, data)
    else:
        with open(path, "w") as f:
            f.write("\n".join(data) + "\n")
    p = run(SOCCTL, "rules", "test", RULES, "--" + kind, path, "--json")
    return [a["rule"]["title"] for a in json.loads(p.stdout)]


def rule_docs():
    """(file, title, has correlation, name, level, author, tags) of each
    document under rules/, read as text (no YAML module needed)."""
    out = []
    for d, _, files in os.walk(RULES):
        for fn in sorted(files):
            if not fn.endswith((".yml", ".yaml")) or fn.startswith("mapping."):
                continue
            text = open(os.path.join(d, fn)).read()
            for doc in re.split(r"^---\s*$", text, flags=re.M):
                top = lambda k: (re.findall(rf"^{k}:\s*(.*)$", doc, re.M) or [""])[0].strip()
                tags = re.findall(r"^\s+-\s+(attack\.\S+)", doc.split("logsource:")[0]
                                  .split("correlation:")[0], re.M)
                if top("title"):
                    out.append((os.path.relpath(os.path.join(d, fn), SRC), top("title"),
                                "correlation:" in doc, top("name"), top("level"),
                                top("author"), tags))
    return out


def referenced(docs):
    """Names that correlations count: those rules raise no alert alone."""
    refs = set()
    for d, _, files in os.walk(RULES):
        for fn in files:
            if fn.endswith(".yml") and not fn.startswith("mapping."):
                for blk in re.findall(r"^  rules:\n((?:    - .*\n)+)", open(os.path.join(d, fn)).read(),
                                      re.M):
                    refs |= set(re.findall(r"- (\S+)", blk))
    return refs


def main():
    tmp = tempfile.mkdtemp(prefix="soc-shipped-")
    p = run(SOCCTL, "rules", "check", RULES, ok=False)
    check(p.returncode == 0 and " 0 refused" in p.stdout,
          f"every shipped rule loads: {p.stdout.strip()} {p.stderr.strip()[:500]}")

    docs = rule_docs()
    refs = referenced(docs)
    table = cases()
    for f, title, corr, name, level, author, tags in docs:
        if not f.startswith(os.path.join("rules", "province")):
            continue
        check(author == "SOC project", f"{f}: {title}: author is the project")
        check(level in ("informational", "low", "medium", "high", "critical"),
              f"{f}: {title}: level {level!r}")
        check(any(t[7:] in TACTICS for t in tags) and
              any(re.match(r"attack\.t\d{4}", t) for t in tags),
              f"{f}: {title}: an ATT&CK tactic tag and an attack.tNNNN tag: {tags}")
        if name not in refs:
            check(title in table, f"{f}: {title}: has a positive and a near-miss example")
        lic = open(os.path.join(SRC, f)).read()
        check("License: Apache-2.0" in lic, f"{f}: license note")

    # rules that only feed a correlation raise nothing of their own
    bases = {title for _, title, _, name, _, _, _ in docs if name in refs}
    for title, (kind, pos, miss) in table.items():
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower())
        got = alerts(tmp, slug + "-pos", kind, pos)
        if got is not None:
            check(title in got, f"{title}: fires on its positive example (alerts: {got})")
            if title in EVERY_LINE:     # each encoded form on its own line
                check(got.count(title) == len(pos),
                      f"{title}: fires on each of its {len(pos)} positive lines: {got}")
            check(not bases & set(got), f"{title}: no alert from a base rule: {got}")
        mkind, miss = miss if isinstance(miss, tuple) else (kind, miss)
        got = alerts(tmp, slug + "-miss", mkind, miss)
        if got is not None:
            check(title not in got, f"{title}: silent on its near-miss (alerts: {got})")

    # the demo and integration data: exactly the three starter alerts
    pcap, log = os.path.join(tmp, "sample.pcap"), os.path.join(tmp, "auth.log")
    run(GEN, "--pcap", pcap, "--log", log, "--base", str(int(T0)))
    got = sorted(json.loads(run(SOCCTL, "rules", "test", RULES, "--pcap", pcap, "--json").stdout),
                 key=lambda a: a["rule"]["title"])
    got = [a["rule"]["title"] for a in got]
    got += [a["rule"]["title"] for a in
            json.loads(run(SOCCTL, "rules", "test", RULES, "--log", log, "--json").stdout)]
    # (a correlation raises one alert at its threshold and one per later
    # event in the window, so titles are compared as a set)
    check(sorted(set(got)) == ["DNS query for a known-bad domain", "SSH brute force",
                               "Web scanner user agent"],
          f"the sample data raises exactly the three starter alerts: {got}")
    return done()


if __name__ == "__main__":
    sys.exit(main())
