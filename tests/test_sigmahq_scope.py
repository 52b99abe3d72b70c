#!/usr/bin/env python3
"""scripts/sigmahq-scope on a checkout laid out as SigmaHQ's (rules/,
rules-emerging-threats/, rules-threat-hunting/): the SigmaHQ sample of
../shared/data/sigma (when present) plus rules written here, one per
edge of the scope definition.  Checks which files are in scope (web
server, proxy, firewall, DNS, Zeek, Apache, nginx, Linux without
any service or category, auditd included; a later YAML document counts; a
logsource's `definition` text does not), the loaded / refused / below
`test` counts, that each refusal lands in its group (log source the
sensors do not produce, field they do not produce, other), and the exit
status: 1 while an "other" refusal is left, 0 when none is.
"""
import os
import shutil
import subprocess
import sys
import tempfile

from soctest import SOCCTL, SRC, check, done

DATA = os.path.join(os.environ.get("SOC_TEST_DATA", os.path.join(SRC, "..", "shared", "data")),
                    "sigma")
SCRIPT = os.path.join(SRC, "scripts", "sigmahq-scope")
MAPPING = os.path.join(SRC, "rules", "mapping.yml")


def rule(n, logsource, detection, status="test", pre=""):
    return (f"{pre}title: Scope test {n}\n"
            f"id: 5c0e6d2a-0b1c-4d2e-9f3a-{n:012d}\n"
            f"status: {status}\nauthor: Someone Else\n"
            f"logsource:\n{logsource}detection:\n{detection}level: low\n")


CORRELATION = """title: Scope test 5
id: 5c0e6d2a-0b1c-4d2e-9f3a-000000000005
status: test
author: Someone Else
correlation:
    type: event_count
    rules:
        - scope_test_dns
    group-by:
        - source.ip
    timespan: 5m
    condition:
        gte: 10
level: low
"""
SEL_MSG = "    sel:\n        message|contains: 'x'\n    condition: sel\n"

# path in the checkout -> (text, in scope, outcome: load / logsource / field / other)
CRAFTED = {
    "rules-emerging-threats/2021/zeek_smb.yml": (rule(
        1, "    product: zeek\n    service: smb_files\n",
        "    sel:\n        name: 'PSEXESVC.exe'\n    condition: sel\n"), True, "logsource"),
    "rules/web/proxy_generic/proxy_cookie.yml": (rule(
        2, "    category: proxy\n",
        "    sel:\n        cs-cookie|endswith: '=csm-hit'\n    condition: sel\n"),
        True, "load"),
    "rules/network/zeek/zeek_x509_alg.yml": (rule(
        7, "    product: zeek\n    service: x509\n",
        "    sel:\n        certificate.key_alg: 'rsaEncryption'\n    condition: sel\n"),
        True, "field"),
    "rules-threat-hunting/linux/lnx_cron.yml": (rule(
        3, "    product: linux\n    service: cron\n", SEL_MSG, status="experimental"),
        True, "load"),
    "rules/web/product/nginx/web_nginx.yml": (rule(
        4, "    service: 'nginx'  # error log\n",
        "    keywords:\n        - 'core dumped'\n    condition: keywords\n"), True, "load"),
    # a correlation first, its DNS rule in the second document: in scope
    "rules/network/dns/multi.yml": (CORRELATION + "---\n" + rule(
        6, "    category: dns\n",
        "    sel:\n        query|endswith: '.evil.example'\n    condition: sel\n",
        pre="name: scope_test_dns\n"), True, "load"),
    "rules/web/webserver_generic/web_bogus.yml": (rule(
        7, "    category: webserver\n",
        "    sel:\n        cs-bogus-field: 'x'\n    condition: sel\n"), True, "other"),
    # out of scope: not staged, not counted
    "rules/windows/proc.yml": (rule(
        8, "    product: windows\n    category: process_creation\n"
        "    definition: |\n        category: webserver\n        product: zeek\n",
        "    sel:\n        Image|endswith: '\\\\whoami.exe'\n    condition: sel\n"),
        False, None),
    "rules/linux/auditd/lnx_auditd.yml": (rule(
        9, "    product: linux\n    service: auditd\n",
        "    sel:\n        type: 'EXECVE'\n    condition: sel\n"), True, "load"),
    "rules/linux/process_creation/proc_lnx.yml": (rule(
        10, "    product: linux\n    category: process_creation\n",
        "    sel:\n        Image|endswith: '/nc'\n    condition: sel\n"), True, "load"),
}

WINDOWS = {
    "rules/windows/svc.yml": rule(
        11, "    product: windows\n    service: security\n",
        "    sel:\n        EventID: 1102\n    condition: sel\n"),
    "rules/windows/net.yml": rule(
        12, "    product: windows\n    category: network_connection\n",
        "    sel:\n        DestinationIp|cidr: '10.0.0.0/8'\n        Initiated: 'true'\n"
        "    condition: sel\n"),
    "rules/windows/ps.yml": rule(
        13, "    product: windows\n    category: ps_script\n",
        "    sel:\n        ScriptBlockText|contains: 'IEX'\n    condition: sel\n"),
    "rules/windows/file_access.yml": rule(
        14, "    product: windows\n    category: file_access\n",
        "    sel:\n        FileName|endswith: '.kdbx'\n    condition: sel\n"),
}


def scope(checkout):
    return subprocess.run([sys.executable, SCRIPT, "--socctl", SOCCTL, "--mapping", MAPPING,
                           "--list", checkout], capture_output=True, text=True, timeout=300)


def section(out, name):
    """The lines under 'refused by NAME: n' up to the next group."""
    lines, inside = [], False
    for line in out.splitlines():
        if line.startswith("refused by "):
            inside = line.startswith(f"refused by {name}:")
        elif line.startswith("in scope: "):
            inside = False
        elif inside:
            lines.append(line)
    return "\n".join(lines)


def main():
    tmp = tempfile.mkdtemp(prefix="soc-sigmahq-scope-")
    checkout = os.path.join(tmp, "sigma")
    nsample = 0
    if os.path.isdir(os.path.join(DATA, "rules")):
        shutil.copytree(os.path.join(DATA, "rules"), os.path.join(checkout, "rules"))
        for _, _, files in os.walk(os.path.join(checkout, "rules")):
            nsample += len([f for f in files if f.endswith(".yml")])
    else:
        print(f"no SigmaHQ sample at {DATA}: crafted rules only")
    for rel, (text, _, _) in CRAFTED.items():
        os.makedirs(os.path.join(checkout, os.path.dirname(rel)), exist_ok=True)
        with open(os.path.join(checkout, rel), "w") as f:
            f.write(text)

    p = scope(checkout)
    print(p.stdout, end="")
    check(p.returncode == 1, f"an 'other' refusal exits 1: {p.returncode} {p.stderr}")
    listed = {l[len("in scope: "):] for l in p.stdout.splitlines() if l.startswith("in scope: ")}
    for rel, (_, want, _) in CRAFTED.items():
        check((rel in listed) == want, f"{rel}: in scope is {want}")
    if nsample:
        sample = {l for l in listed if not any(l == c for c in CRAFTED)}
        check(len(sample) == nsample, f"every SigmaHQ sample rule is in scope: {len(sample)}"
              f" of {nsample}")
    nin = nsample + sum(1 for _, w, _ in CRAFTED.values() if w)
    nload = nsample + sum(1 for _, _, o in CRAFTED.values() if o == "load")
    total = sum(1 for l in p.stdout.splitlines()
                if l.startswith("SigmaHQ @ ") and f", {nin} in the web server" in l)
    check(total == 1, f"{nin} files in scope")
    check(f"loaded: {nload} of {nin} (rules.min_status test keeps {nload - 1}, 1 below it);"
          f" refused: 3" in p.stdout, "loaded, kept at test, refused")
    for rel, (_, _, outcome) in CRAFTED.items():
        if outcome in (None, "load"):
            refused = "\n".join(section(p.stdout, g) for g in ("log source", "field", "other"))
            check(rel + ":" not in refused, f"{rel} not refused")
            continue
        group = {"logsource": "log source", "field": "field", "other": "other"}[outcome]
        check(rel + ":" in section(p.stdout, group), f"{rel} refused by {group}")
    check("product=zeek category=- service=smb_files" in section(p.stdout, "log source"),
          "the log source is named")
    check("certificate.key_alg: x509: not read from the certificate"
          in section(p.stdout, "field"),
          "the field is named with why it is not produced")
    check("unknown field 'cs-bogus-field'" in section(p.stdout, "other"),
          "an unmapped field the list does not know is work to do")

    os.unlink(os.path.join(checkout, "rules/web/webserver_generic/web_bogus.yml"))
    p = scope(checkout)
    check(p.returncode == 0 and "refused by other: 0" in p.stdout,
          f"with only log source and field refusals it exits 0: {p.returncode} {p.stderr}")
    check(f"loaded: {nload} of {nin - 1}" in p.stdout, "one fewer in scope")

    # --windows: the product windows files under rules/windows (issue 17)
    for rel, text in WINDOWS.items():
        os.makedirs(os.path.join(checkout, os.path.dirname(rel)), exist_ok=True)
        with open(os.path.join(checkout, rel), "w") as f:
            f.write(text)
    p = subprocess.run([sys.executable, SCRIPT, "--socctl", SOCCTL, "--mapping", MAPPING,
                        "--windows", "--list", checkout], capture_output=True, text=True,
                       timeout=300)
    print(p.stdout, end="")
    listed = {l[len("in scope: "):] for l in p.stdout.splitlines() if l.startswith("in scope: ")}
    check(listed == {"rules/windows/proc.yml"} | set(WINDOWS),
          f"--windows: every product windows file, no other: {sorted(listed)}")
    check("5 with product windows" in p.stdout and
          "loaded: 4 of 5 (80.0%)" in p.stdout and p.returncode == 0,
          f"--windows: counted, share printed, the refusal by log source: {p.returncode}")
    check("rules/windows/file_access.yml:" in section(p.stdout, "log source"),
          "--windows: the refused log source is named")
    shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
