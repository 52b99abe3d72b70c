#!/usr/bin/env python3
"""Input for bench/engine.sh: realistic Sigma rules and events.

    engine-gen.py rules N DIR        N rules in DIR (the first 1000 of any N
                                     are the same, so 1,000 and 10,000 sets
                                     see the same matches)
    engine-gen.py events N FILE      N events as JSONL (sshd, web access, DNS,
                                     flow), about 0.5% of them matching a rule
    engine-gen.py sshlog N FILE      N sshd syslog lines for the SEC scenario
    engine-gen.py sec FILE           the SEC rules of that scenario
    engine-gen.py sigma DIR          the equivalent Sigma rules

Rules look like SigmaHQ's: one to a dozen values per selection, mostly
`contains`, some `startswith`/`endswith`/exact, 2% regular expressions,
filters (`and not`), numeric and cidr conditions on flows, and 5%
event_count correlations over a base rule.  Values mix tokens of real
attacks with generated words, so no two rules are alike.  Deterministic
(fixed seed).
"""
import os
import random
import sys

WORDS = ("admin api app assets auth backup bin cache cgi config console core data db debug "
         "dev download export file files help home images img include index install lib "
         "login manager media module old panel php plugin portal private public report "
         "service setup shell site static status system temp test theme tmp tools upload "
         "user vendor web wp xml").split()
ATTACK = ["../", "..%2f", "etc/passwd", "union select", "<script", "${jndi:", "cmd=",
          "base64_decode", "eval(", "/.git/", "/.env", "phpinfo", "/actuator/", "wget ",
          "curl ", "xp_cmdshell", "/bin/sh", "%00", "onerror=", "sleep(", "benchmark("]
UAS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/120.0 Safari/537.36",
       "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
       "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15",
       "curl/8.4.0", "python-requests/2.31.0", "Googlebot/2.1 (+http://www.google.com/bot.html)"]
USERS = ["root", "admin", "oracle", "test", "ubuntu", "pi", "postgres", "git", "deploy",
         "nguyenvana", "tranthib", "lethic", "backup", "www-data", "ftp"]
TLDS = ["com", "net", "org", "vn", "gov.vn", "edu.vn", "info", "io"]


def word(r):
    return r.choice(WORDS)


def token(i, k):
    """The k-th value of rule i: unique to the rule, realistic in shape."""
    r = random.Random(i * 131 + k)
    shape = r.randrange(4)
    if shape == 0:
        return f"/{word(r)}/{word(r)}{i}_{k}.php"
    if shape == 1:
        return f"{r.choice(ATTACK)}{word(r)}{i}x{k}"
    if shape == 2:
        return f"{word(r)}-{word(r)}{i}k{k}"
    return f"?{word(r)}{i}={word(r)}{k}"


def domain(i, k):
    r = random.Random(i * 977 + k)
    return f"{word(r)}{i}-{word(r)}{k}.{r.choice(TLDS)}"


def yq(s):
    return "'" + s.replace("'", "''") + "'"


def rule_text(i, r):
    kind = r.choices(["web", "dns", "sshd", "flow", "ua"], [45, 20, 15, 10, 10])[0]
    nvals = r.randint(1, 12)
    head = (f"title: Generated rule {i}\nid: 00000000-0000-4000-8000-{i:012d}\n"
            f"name: gen_{i}\nstatus: test\nauthor: bench\nlevel: {r.choice(['low', 'medium', 'high'])}\n"
            "tags:\n  - attack.initial-access\n  - attack.t1190\n")
    if kind in ("web", "ua"):
        ls = "logsource:\n  category: webserver\n"
        if kind == "ua":
            field = "c-useragent|contains"
            vals = [f"{word(r)}scan{i}/{k}" for k in range(nvals)]
        else:
            mod = r.choices(["|contains", "|startswith", "|endswith", "", "|contains|all"],
                            [70, 10, 10, 5, 5])[0]
            field = ("cs-uri-query" if r.random() < .7 else "cs-uri-stem") + mod
            vals = [token(i, k) for k in range(nvals)]
            if mod == "|contains|all":
                vals = vals[:2]
        det = f"  selection:\n    {field}:\n" + "".join(f"      - {yq(v)}\n" for v in vals)
        if r.random() < 0.02:
            det = (f"  selection:\n    cs-uri-query|re: {yq(f'[?&]{word(r)}{i}=[a-z0-9]{{4,16}}(&|$)')}\n")
        cond = "selection"
        if r.random() < 0.3:
            det += f"  filter:\n    sc-status:\n      - 404\n      - 403\n"
            cond = "selection and not filter"
        if r.random() < 0.2:
            det += f"  method:\n    cs-method: {r.choice(['GET', 'POST'])}\n"
            cond += " and method"
    elif kind == "dns":
        ls = "logsource:\n  category: dns\n"
        vals = [domain(i, k) for k in range(nvals)]
        mod = r.choice(["|endswith", ""])
        det = (f"  selection:\n    query{mod}:\n" + "".join(f"      - {yq(v)}\n" for v in vals) +
               "  q:\n    dns.type: query\n")
        cond = "selection and q"
    elif kind == "sshd":
        ls = "logsource:\n  product: linux\n  service: sshd\n"
        det = ("  selection:\n    event.action: ssh_login\n    event.outcome: failure\n"
               f"    user.name:\n" + "".join(f"      - {yq(f'{r.choice(USERS)}{i}_{k}')}\n"
                                              for k in range(nvals)))
        if r.random() < 0.5:
            det += f"  kw:\n    message|contains: {yq(f'from 10.{i % 250}.{i // 250 % 250}.')}\n"
            cond = "selection or kw"
        else:
            cond = "selection"
    else:
        ls = "logsource:\n  category: network_connection\n"
        det = (f"  selection:\n    DestinationPort:\n" +
               "".join(f"      - {1024 + (i * 7 + k) % 60000}\n" for k in range(min(nvals, 4))) +
               f"    Protocol: tcp\n  src:\n    SourceIp|cidr: '10.{i % 250}.0.0/16'\n")
        cond = "selection and src"
    text = head + ls + "detection:\n" + det + f"  condition: {cond}\n"
    if r.random() < 0.05:
        text += (f"---\ntitle: Generated correlation {i}\nid: 00000000-0000-4000-9000-{i:012d}\n"
                 "status: test\nauthor: bench\nlevel: high\ncorrelation:\n  type: event_count\n"
                 f"  rules:\n    - gen_{i}\n  group-by:\n    - source.ip\n  timespan: 5m\n"
                 f"  condition:\n    gte: {r.randint(3, 20)}\n")
    return text


def gen_rules(n, d):
    os.makedirs(d, exist_ok=True)
    per = 100
    for start in range(0, n, per):
        with open(os.path.join(d, f"gen-{start // per:04d}.yml"), "w") as f:
            docs = [rule_text(i, random.Random(i)) for i in range(start, min(n, start + per))]
            f.write("---\n".join(docs))


def ip(r):
    return f"{r.choice([10, 172, 192, 203, 198, 113, 45, 185])}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"


def ts(t):
    s, ns = divmod(t, 10**9)
    import time as _t
    return _t.strftime("%Y-%m-%dT%H:%M:%S", _t.gmtime(s)) + f".{ns:09d}Z"


def js(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def gen_events(n, path):
    r = random.Random(42)
    t = 1764554400 * 10**9
    with open(path, "w") as f:
        for j in range(n):
            t += r.randrange(100_000, 2_000_000)	# ~1000 events/s
            hit = r.random() < 0.005
            k = r.random()
            stamp = f'{{"@timestamp":"{ts(t)}",'
            if k < 0.35:
                src = ip(r)
                path_ = f"/{word(r)}/{word(r)}.{r.choice(['php', 'html', 'js', 'css', 'png'])}"
                q = f"{word(r)}={r.randrange(10000)}&{word(r)}={word(r)}" if r.random() < .5 else ""
                if hit:
                    q = token(r.randrange(1000), 0).lstrip("?")
                url = path_ + ("?" + q if q else "")
                meth = r.choice(["GET"] * 8 + ["POST", "HEAD"])
                st = r.choice([200] * 14 + [304, 404, 301, 500])
                ua = r.choice(UAS)
                line = (f'{src} - - [01/Dec/2025:10:00:00 +0700] "{meth} {url} HTTP/1.1" {st} '
                        f'{r.randrange(100, 90000)} "-" "{ua}"')
                qpart = f',"query":{js(q)}' if q else ""
                f.write(stamp + '"event":{"kind":"event","category":"web","dataset":"log.web"},'
                        f'"source":{{"ip":"{src}"}},"url":{{"original":{js(url)},"path":{js(path_)}'
                        f'{qpart}}},"http":{{"request":{{"method":"{meth}"}},"response":'
                        f'{{"status_code":{st}}}}},"user_agent":{{"original":{js(ua)}}},'
                        f'"message":{js(line)}}}\n')
            elif k < 0.65:
                src = ip(r)
                u = r.choice(USERS)
                if hit:
                    u = f"{r.choice(USERS)}{r.randrange(1000)}_0"
                ok = r.random() < 0.1
                msg = (f"{'Accepted publickey' if ok else 'Failed password'} for {u} from {src} "
                       f"port {r.randrange(1024, 65535)} ssh2")
                f.write(stamp + '"event":{"kind":"event","category":"authentication",'
                        '"dataset":"log.sshd","action":"ssh_login","outcome":'
                        f'"{"success" if ok else "failure"}"}},"source":{{"ip":"{src}"}},'
                        f'"user":{{"name":{js(u)}}},"process":{{"name":"sshd","pid":{r.randrange(100, 60000)}}},'
                        f'"host":{{"hostname":"srv{r.randrange(20)}"}},"message":{js(msg)}}}\n')
            elif k < 0.85:
                name = (domain(r.randrange(1000), 0) if hit else
                        f"{word(r)}.{word(r)}{r.randrange(100)}.{r.choice(TLDS)}")
                typ = "query" if r.random() < 0.5 else "answer"
                f.write(stamp + '"event":{"kind":"event","category":"network","dataset":"network.dns"},'
                        f'"source":{{"ip":"10.10.{r.randrange(256)}.{r.randrange(1, 255)}","port":{r.randrange(1024, 65535)}}},'
                        f'"destination":{{"ip":"10.10.0.1","port":53}},"dns":{{"type":"{typ}",'
                        f'"question":{{"name":{js(name)},"type":"{r.choice(["A", "AAAA", "A", "HTTPS"])}"}}}}}}\n')
            else:
                tcp = r.random() < 0.8
                f.write(stamp + '"event":{"kind":"event","category":"network","dataset":"network.flow",'
                        '"action":"network_flow","type":"end"},'
                        f'"source":{{"ip":"{ip(r)}","port":{r.randrange(1024, 65535)},"packets":{r.randrange(1, 50)}}},'
                        f'"destination":{{"ip":"{ip(r)}","port":{r.choice([80, 443, 22, 53, 3389, 8080, r.randrange(65535)])},"packets":{r.randrange(0, 50)}}},'
                        f'"network":{{"transport":"{"tcp" if tcp else "udp"}","bytes":{r.randrange(40, 10**6)}}}'
                        + (f',"tcp":{{"flags":"{r.choice(["SAFP", "SAF", "S", "SAR"])}"}}' if tcp else "")
                        + "}\n")


def gen_sshlog(n, path):
    """sshd lines, ten a second: half are password guesses by 50 sources
    at a time, each making 15 guesses 10 s apart (so 8 fall within 2
    minutes, and not 16: one brute force each, as SEC with its window on
    the clock sees it), then the next 50; the other half ordinary lines."""
    r = random.Random(7)
    with open(path, "w") as f:
        for j in range(n):
            t = j // 10
            h, m, s = (t // 3600) % 24, (t // 60) % 60, t % 60
            stamp = f"Dec  1 {h:02d}:{m:02d}:{s:02d} srv sshd[{1000 + j % 5000}]: "
            if j % 2 == 0:
                g = j // 2
                k = g // 750 * 50 + g % 50		# 50 sources per 750 guesses
                src = f"203.{k // 62500 % 256}.{k // 250 % 250}.{k % 250 + 1}"
                f.write(stamp + f"Failed password for {r.choice(USERS)} from {src} port "
                        f"{r.randrange(1024, 65535)} ssh2\n")
            else:
                f.write(stamp + r.choice([
                    f"Accepted publickey for deploy from 10.0.0.{j % 200 + 1} port 5000{j % 10} ssh2",
                    f"Disconnected from user deploy 10.0.0.{j % 200 + 1} port 5000{j % 10}",
                    "pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)",
                    f"Connection closed by 10.0.0.{j % 200 + 1} port 4{j % 1000} [preauth]"]) + "\n")


SEC_RULES = r"""# The SSH brute-force scenario for SEC, one output line per match as
# `socctl rules test` writes one per alert: a line per failed login
# (Single, continuing); a line when a source reaches 8 failures within
# 2 minutes (SingleWithThreshold), which also opens a context for the
# rest of the window, during which each further failure is a line again
# (Single on the context), as the event_count correlation raises an alert
# for each later event of a window past its threshold.  The regular
# expression runs once per line; the other rules reuse its match (Cached),
# the fastest equivalent set found.
type=Single
ptype=RegExp
pattern=sshd\[\d+\]: Failed password for (?:invalid user )?(\S+) from (\S+) port \d+
varmap=ssh_failed
desc=SSH failed login $1 from $2
action=write - SSH failed login $1 from $2
continue=TakeNext

type=Single
ptype=Cached
pattern=ssh_failed
context=SSH_BF_$2
desc=SSH brute force from $2
action=write - SSH brute force from $2

type=SingleWithThreshold
ptype=Cached
pattern=ssh_failed
desc=SSH brute force from $2
action=write - SSH brute force from $2; create SSH_BF_$2 120
window=120
thresh=8
"""

SIGMA_RULES = """title: SSH failed login
id: 3b0e7f0e-0000-4000-8000-000000000001
name: bench_ssh_failed
status: test
author: bench
level: low
logsource:
  product: linux
  service: sshd
detection:
  selection:
    event.action: ssh_login
    event.outcome: failure
  condition: selection
---
title: SSH brute force
id: 3b0e7f0e-0000-4000-8000-000000000002
status: test
author: bench
level: high
correlation:
  type: event_count
  rules:
    - bench_ssh_failed
  group-by:
    - source.ip
  timespan: 2m
  condition:
    gte: 8
  generate: true
"""


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    what = sys.argv[1]
    if what == "rules":
        gen_rules(int(sys.argv[2]), sys.argv[3])
    elif what == "events":
        gen_events(int(sys.argv[2]), sys.argv[3])
    elif what == "sshlog":
        gen_sshlog(int(sys.argv[2]), sys.argv[3])
    elif what == "sec":
        open(sys.argv[2], "w").write(SEC_RULES)
    elif what == "sigma":
        os.makedirs(sys.argv[2], exist_ok=True)
        open(os.path.join(sys.argv[2], "ssh.yml"), "w").write(SIGMA_RULES)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
