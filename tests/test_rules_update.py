#!/usr/bin/env python3
"""Issue 20, "Content kept current": `socctl rules update`.

A SigmaHQ-like release package is built here (zipfile): rules that load
(sshd, web, Windows), one for a log source no sensor produces (AWS
CloudTrail), one broken YAML, entries whose names climb out (../) or are
absolute, a rule outside rules*/, and the LICENSE.  Then:

- a wrong SHA-256 is refused and nothing is written; --dry-run writes
  nothing; the right one writes RULES/sigmahq with the rules that load,
  each with its author and our header, the LICENSE beside them, nothing
  outside the directory;
- a second package: exactly the added, removed and modified names; a
  third run of it changes nothing;
- an http:// package (a local server) with its pin; without a pin it is
  refused; a rule file over the 1 MiB bound refuses the package; a local
  rule in RULES/sigmahq is never replaced;
- a running soc-correlator started with the same config file (pid_file,
  update.url, update.sha256) is sent SIGHUP by the update and raises an
  incident from the rule the update added.

With the argument --sigmahq, the package is instead `git archive
--format=zip` of the SigmaHQ mirror ($SOC_SIGMA_MIRROR, else
../.mirror/SigmaHQ+sigma/repo beside the source tree) or, without one, a
zip of the SigmaHQ rules in ../shared/data/sigma; the counts are printed;
exit 77 when neither is there.
"""
import datetime
import hashlib
import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile

from soctest import (CORR, SENSOR, SOCCTL, SRC, check, done, free_port, run,
                     sanitizer_clean, stop, wait_port, wait_until)

TMP = tempfile.mkdtemp(prefix="soc-rules-update-")
RULES = os.path.join(TMP, "rules")
TARGET = os.path.join(RULES, "sigmahq")
CONF = os.path.join(TMP, "correlator.yml")
DB = os.path.join(TMP, "soc.db")
ID_A = "3c6a1f4e-0000-4000-8000-00000000000a"
ID_B = "3c6a1f4e-0000-4000-8000-00000000000b"


def rule(title, rid, logsource, detection, author="Jane Analyst"):
    return (f"title: {title}\nid: {rid}\nstatus: test\ndescription: test\n"
            f"author: {author}\nlevel: medium\nlogsource:\n{logsource}"
            f"detection:\n{detection}")


SSH = "  product: linux\n  service: sshd\n"
SSH_A = rule("Pkg SSH failed login", ID_A, SSH,
             "  sel:\n    event.action: ssh_login\n    event.outcome: failure\n"
             "  condition: sel\n")
SSH_B = rule("Pkg SSH accepted root login", ID_B, SSH,
             "  sel:\n    event.action: ssh_login\n    event.outcome: success\n"
             "    user.name: root\n  condition: sel\n")
WEB = rule("Pkg web path", "3c6a1f4e-0000-4000-8000-00000000000c",
           "  category: webserver\n",
           "  sel:\n    cs-uri-query|contains: '/pkg-test'\n  condition: sel\n")
WEB2 = WEB.replace("/pkg-test", "/pkg-test-2")
WIN = rule("Pkg Windows process", "3c6a1f4e-0000-4000-8000-00000000000d",
           "  product: windows\n  category: process_creation\n",
           "  sel:\n    Image|endswith: '\\pkgtest.exe'\n  condition: sel\n")
AWS = rule("Pkg AWS", "3c6a1f4e-0000-4000-8000-00000000000e",
           "  product: aws\n  service: cloudtrail\n",
           "  sel:\n    eventName: PkgTest\n  condition: sel\n")
BROKEN = "title: broken\ndetection: [unclosed\n"
LICENSE = "Detection Rule License (DRL) 1.1 -- test copy\n"


def package(files, path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


PKG1 = {
    "LICENSE": LICENSE,
    "rules/linux/builtin/sshd/lnx_sshd_pkg_a.yml": SSH_A,
    "rules/web/webserver_generic/web_pkg.yml": WEB,
    "rules/windows/process_creation/proc_creation_win_pkg.yml": WIN,
    "rules/cloud/aws/cloudtrail/aws_pkg.yml": AWS,
    "rules/linux/builtin/lnx_broken.yml": BROKEN,
    "rules/../../evil.yml": SSH_B,
    "/tmp/abs-evil.yml": SSH_B,
    "deprecated/linux/old.yml": SSH_B,
    "README.md": "not a rule\n",
}
# the second release: web modified, Windows removed, B added
PKG2 = dict(PKG1)
del PKG2["rules/windows/process_creation/proc_creation_win_pkg.yml"]
PKG2["rules/web/webserver_generic/web_pkg.yml"] = WEB2
PKG2["rules-emerging-threats/2026/lnx_sshd_pkg_b.yml"] = SSH_B


def ctl(*a, ok=False):
    return run(SOCCTL, "--db", DB, *a, ok=ok)


def update(*a):
    p = ctl("rules", "update", "--config", CONF, *a)
    sanitizer_clean(p.stderr, "socctl rules update")
    return p


def update_json(*a):
    p = update("--json", *a)
    try:
        return p, json.loads(p.stdout)
    except ValueError:
        check(False, f"rules update --json: not JSON ({p.returncode}): "
              f"{p.stdout[-300:]} {p.stderr[-300:]}")
        return p, {}


def write_conf(url, sha, extra=""):
    with open(CONF, "w") as f:
        f.write(f"db: {DB}\nrules: {RULES}\nkey: {TMP}/correlator.key\n"
                f"pid_file: {TMP}/corr.pid\nupdate:\n  url: {url}\n"
                f"  sha256: {sha}\n{extra}")


def tree():
    out = []
    for d, _, files in os.walk(TARGET):
        out += [os.path.relpath(os.path.join(d, f), TARGET) for f in files]
    return sorted(out)


def test_offline():
    os.makedirs(RULES)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), RULES)
    z1 = os.path.join(TMP, "pkg1.zip")
    sha1 = package(PKG1, z1)
    write_conf(f"file://{z1}", "0" * 64)

    p = update()
    check(p.returncode == 1 and "SHA-256 mismatch" in p.stderr,
          f"a wrong pin is refused: {p.returncode} {p.stderr[-300:]}")
    check(not os.path.exists(TARGET), "... and nothing is written")
    p = update("--sha256", "abc")
    check(p.returncode == 1 and "64 hex digits" in p.stderr, "a short pin is refused")

    write_conf(f"file://{z1}", sha1)
    p, j = update_json("--dry-run")
    check(p.returncode == 0 and j.get("dry_run") is True, f"dry run: {p.stderr[-300:]}")
    check(not os.path.exists(TARGET), "--dry-run writes nothing")
    check(sorted(j.get("added", [])) == sorted([
        "linux/builtin/sshd/lnx_sshd_pkg_a.yml", "web/webserver_generic/web_pkg.yml",
        "windows/process_creation/proc_creation_win_pkg.yml"]),
        f"dry run lists what would be added: {j.get('added')}")
    check(not [x for x in os.listdir(RULES) if x.startswith(".sigmahq")],
          "no stage left behind")

    p, j = update_json()
    check(p.returncode == 0, f"update: exit 0 ({p.returncode}): {p.stderr[-500:]}")
    check(j.get("verified") is True and j.get("sha256") == sha1, "the pin is checked")
    check(j.get("rule_files") == 5 and j.get("kept") == 3 and j.get("out_of_scope") == 1,
          f"5 rule files under rules*/: 3 kept, 1 out of scope: {j}")
    check(len(j.get("refused", [])) == 1 and
          j["refused"][0].startswith("linux/builtin/lnx_broken.yml:"),
          f"the broken YAML is refused with file:line: {j.get('refused')}")
    unsafe = " ".join(j.get("unsafe", []))
    check("rules/../../evil.yml: a path that climbs" in unsafe and
          "/tmp/abs-evil.yml: an absolute path" in unsafe,
          f"the climbing and absolute names are refused: {unsafe}")
    check(not os.path.exists(os.path.join(TMP, "evil.yml")) and
          not os.path.exists("/tmp/abs-evil.yml") and
          not os.path.exists(os.path.join(TARGET, "..", "..", "evil.yml")),
          "nothing written outside the directory")
    check(tree() == sorted(["LICENSE", "PACKAGE.txt", "REFUSED.txt",
                            "linux/builtin/sshd/lnx_sshd_pkg_a.yml",
                            "web/webserver_generic/web_pkg.yml",
                            "windows/process_creation/proc_creation_win_pkg.yml"]),
          f"rules/sigmahq holds the rules that load, the LICENSE and the notes: {tree()}")
    with open(os.path.join(TARGET, "linux/builtin/sshd/lnx_sshd_pkg_a.yml")) as f:
        text = f.read()
    check(text.startswith("# socctl rules update:") and "Detection Rule License" in text
          and text.endswith(SSH_A) and "author: Jane Analyst" in text,
          "each rule keeps its bytes and author under the licence header")
    with open(os.path.join(TARGET, "LICENSE")) as f:
        check(f.read() == LICENSE, "the package's LICENSE is kept beside the rules")
    p = run(SOCCTL, "rules", "check", RULES, ok=False)
    check(p.returncode == 0 and "3 rules loaded, 0 refused" in p.stdout,
          f"the rules directory loads: {p.stdout[-200:]} {p.stderr[-300:]}")
    check("correlator not running" in (j.get("reload") or ""),
          f"no pid file: said, not an error: {j.get('reload')}")

    # the same package again: nothing changes, nothing reloads
    p, j = update_json()
    check(p.returncode == 0 and j.get("changed") is False and j.get("unchanged") == 3
          and not j.get("added") and not j.get("removed") and not j.get("modified"),
          f"an unchanged package changes nothing: {j}")

    # the second release
    z2 = os.path.join(TMP, "pkg2.zip")
    sha2 = package(PKG2, z2)
    p, j = update_json("--package", z2, "--sha256", sha2, "--dry-run")
    check(j.get("added") == ["rules-emerging-threats/2026/lnx_sshd_pkg_b.yml"] and
          j.get("removed") == ["windows/process_creation/proc_creation_win_pkg.yml"] and
          j.get("modified") == ["web/webserver_generic/web_pkg.yml"] and
          j.get("unchanged") == 1,
          f"the second package: 1 added, 1 removed, 1 modified, 1 unchanged: {j}")
    check("windows/process_creation/proc_creation_win_pkg.yml" in tree(),
          "... and the dry run left the directory as it was")
    p = update("--package", z2, "--sha256", sha2, "--no-reload")
    check(p.returncode == 0 and "1 added, 1 removed, 1 modified, 1 unchanged" in p.stdout
          and "  + rules-emerging-threats/2026/lnx_sshd_pkg_b.yml" in p.stdout
          and "  - windows/process_creation/proc_creation_win_pkg.yml" in p.stdout
          and "  ~ web/webserver_generic/web_pkg.yml" in p.stdout,
          f"text output names the changes: {p.stdout[-800:]} {p.stderr[-300:]}")
    # the pin of the config holds for --package too
    p = update("--package", z2)
    check(p.returncode == 1 and "SHA-256 mismatch" in p.stderr,
          f"--package is checked against update.sha256: {p.stderr[-300:]}")
    # back to the first release, for the live test
    p = update("--no-reload")
    check(p.returncode == 0 and "1 added, 1 removed, 1 modified" in p.stdout,
          f"back to the first release: {p.stdout[-300:]}")


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


def test_http_and_bounds():
    z1 = os.path.join(TMP, "pkg1.zip")
    with open(z1, "rb") as f:
        sha1 = hashlib.sha256(f.read()).hexdigest()
    handler = lambda *a, **kw: Quiet(*a, directory=TMP, **kw)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/pkg1.zip"
    try:
        p, j = update_json("--package", url, "--sha256", sha1, "--dry-run")
        check(p.returncode == 0 and j.get("kept") == 3 and j.get("changed") is False,
              f"an http package with its pin: {p.stderr[-300:]} {j}")
        write_conf(url, "")
        p = update()
        check(p.returncode == 1 and "needs its SHA-256 pinned" in p.stderr,
              f"an http package without a pin is refused: {p.stderr[-300:]}")
        write_conf(f"file://{z1}", sha1)
        p = update("--package", url.replace("pkg1", "missing"), "--sha256", sha1)
        check(p.returncode == 1 and "404" in p.stderr,
              f"a missing URL is an error: {p.stderr[-300:]}")
    finally:
        srv.shutdown()

    # bounds and hostile packages: refused whole, the directory untouched
    before = tree()
    big = os.path.join(TMP, "big.zip")
    sha = package({"rules/linux/big.yml": SSH_A + "#" * (1 << 20)}, big)
    p = update("--package", big, "--sha256", sha)
    check(p.returncode == 1 and "larger than 1048576 bytes" in p.stderr,
          f"a rule over 1 MiB refuses the package: {p.stderr[-300:]}")
    junk = os.path.join(TMP, "junk.zip")
    with open(junk, "wb") as f:
        f.write(b"PK\x03\x04" + os.urandom(2000))
    with open(junk, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    p = update("--package", junk, "--sha256", sha)
    check(p.returncode == 1 and "nothing changed" in p.stderr,
          f"a damaged zip is refused: {p.stderr[-300:]}")
    empty = os.path.join(TMP, "empty.zip")
    sha = package({"README.md": "x"}, empty)
    p = update("--package", empty, "--sha256", sha)
    check(p.returncode == 1 and "no rule of the package loads" in p.stderr,
          f"a package without rules is refused: {p.stderr[-300:]}")
    check(tree() == before, "refused packages leave rules/sigmahq as it was")
    # a local rule in the directory is never replaced
    local = os.path.join(TARGET, "local.yml")
    with open(local, "w") as f:
        f.write(SSH_B)
    p = update("--no-reload")
    check(p.returncode == 1 and "refusing to replace" in p.stderr and os.path.exists(local),
          f"a rule not written by the update stops it: {p.stderr[-300:]}")
    os.unlink(local)
    notes = os.path.join(TARGET, "linux", "NOTES.txt")
    with open(notes, "w") as f:
        f.write("an analyst's notes\n")
    p = update("--no-reload")
    check(p.returncode == 1 and "refusing to replace" in p.stderr and os.path.exists(notes),
          f"nor is any other file of someone else's: {p.stderr[-300:]}")
    os.unlink(notes)


def wait_log(path, what, proc):
    def text():
        with open(path, errors="replace") as f:
            return f.read()
    wait_until(lambda: what in text() or proc.poll() is not None,
               f"the log says {what!r} (or the process exits)")
    return text()


def test_live():
    for name in ("correlator", "gw1"):
        ctl("keygen", "--out", os.path.join(TMP, name), ok=True)
    ctl("agency", "add", "stttt", "--name", "Sở TT&TT", ok=True)
    ctl("sensor", "enroll", "gw1", "--agency", "stttt", "--key",
        os.path.join(TMP, "gw1.pub"), ok=True)
    z2 = os.path.join(TMP, "pkg2.zip")
    with open(z2, "rb") as f:
        sha2 = hashlib.sha256(f.read()).hexdigest()
    port = free_port()
    endpoint = f"tcp://127.0.0.1:{port}"
    write_conf(f"file://{z2}", sha2, f"bind: {endpoint}\n")
    errpath = os.path.join(TMP, "corr.err")
    err = open(errpath, "w+")
    corr = subprocess.Popen([CORR, "-c", CONF], stdout=err, stderr=subprocess.STDOUT)
    try:
        check(wait_port(port, corr), "the correlator starts with update.* and pid_file")
        wait_until(lambda: os.path.exists(os.path.join(TMP, "corr.pid")), "pid file")
        with open(os.path.join(TMP, "corr.pid")) as f:
            check(f.read().strip() == str(corr.pid), "pid_file holds its pid")
        p = update()
        check(p.returncode == 0 and f"SIGHUP sent to soc-correlator pid {corr.pid}" in p.stdout,
              f"the update signals the correlator: {p.stdout[-300:]} {p.stderr[-300:]}")
        text = wait_log(errpath, "rules reloaded", corr)
        check("rules reloaded" in text, f"the correlator reloaded: {text[-500:]}")
        now = datetime.datetime.now(datetime.timezone.utc)
        log = os.path.join(TMP, "auth.log")
        with open(log, "w") as f:
            f.write(f"{now:%Y-%m-%dT%H:%M:%SZ} gw sshd[1]: Accepted password for root"
                    " from 198.51.100.9 port 4242 ssh2\n")
        p = run(SENSOR, "--connect", endpoint, "--server-key",
                os.path.join(TMP, "correlator.pub"), "--key",
                os.path.join(TMP, "gw1.key"), "--once", "--log-file", log, ok=False)
        check("all batches acknowledged" in p.stderr, f"sensor: {p.stderr[-300:]}")
        incs = wait_until(lambda: [i for i in json.loads(ctl("incidents", "--json").stdout)
                                   if i["rule"]["id"] == ID_B],
                          "an incident of the rule the update added", step=0.2)
        check(len(incs) == 1, f"the new rule raises its incident: {incs}")
    finally:
        check(stop(corr) == 0, "correlator exits 0")
        err.seek(0)
        sanitizer_clean(err.read(), "correlator")
    check(not os.path.exists(os.path.join(TMP, "corr.pid")), "pid file removed at stop")
    # a stale pid file naming another process (this one): never signalled
    with open(os.path.join(TMP, "corr.pid"), "w") as f:
        f.write(f"{os.getpid()}\n")
    with open(os.path.join(TMP, "pkg1.zip"), "rb") as f:
        sha1 = hashlib.sha256(f.read()).hexdigest()
    p = update("--package", os.path.join(TMP, "pkg1.zip"), "--sha256", sha1)
    check(p.returncode == 1 and "names no running soc-correlator" in p.stderr,
          f"a stale pid file is reported, not signalled: {p.stderr[-300:]}")


def test_sigmahq():
    mirror = os.environ.get("SOC_SIGMA_MIRROR") or os.path.join(
        SRC, "..", ".mirror", "SigmaHQ+sigma", "repo")
    shared = os.path.join(os.environ.get("SOC_TEST_DATA",
                                         os.path.join(SRC, "..", "shared", "data")), "sigma")
    os.makedirs(RULES)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), RULES)
    shutil.copy(os.path.join(SRC, "rules", "placeholders.yml"), RULES)
    z = os.path.join(TMP, "sigma.zip")
    expect = None
    if os.path.isdir(mirror):
        subprocess.run(["git", "-C", mirror, "archive", "--format=zip", "-o", z, "HEAD"],
                       check=True, timeout=300)
        commit = subprocess.run(["git", "-C", mirror, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
    elif os.path.isdir(os.path.join(shared, "rules")):
        # the SigmaHQ rules kept in ../shared/data/sigma (at their
        # repository paths, with the licences), packed the way a release is
        # (one top directory)
        commit = "shared/data/sigma"
        expect = 0
        with zipfile.ZipFile(z, "w") as zf:
            for d, _, files in sorted(os.walk(shared)):
                for f in sorted(files):
                    full = os.path.join(d, f)
                    rel = os.path.relpath(full, shared)
                    if rel.startswith("rules") and f.endswith((".yml", ".yaml")):
                        expect += 1
                    zf.write(full, "sigma-master/" + rel)
    else:
        print(f"SKIP: no SigmaHQ mirror at {mirror} and no {shared}")
        return 77
    with open(z, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    write_conf(f"file://{z}", sha)
    p, j = update_json("--no-reload")
    check(p.returncode == 0 and j.get("kept", 0) > 0, f"SigmaHQ package: {p.stderr[-500:]}")
    print(f"SigmaHQ @ {commit}: {j.get('rule_files')} rule files, {j.get('kept')} kept,"
          f" {j.get('out_of_scope')} for log sources the sensors do not produce,"
          f" {len(j.get('refused', []))} refused")
    for r in j.get("refused", []):
        print("  refused:", r)
    check(any(x.startswith("LICENSE") for x in os.listdir(TARGET)), "SigmaHQ's LICENSE kept")
    if expect is not None:
        check(j.get("rule_files") == expect,
              f"every rule file of the package is seen: {j.get('rule_files')} of {expect}")
    check(len([x for x in tree() if x.endswith(".yml")]) == j.get("kept"),
          "every kept rule is written")
    return None


def main():
    try:
        if sys.argv[1:] == ["--sigmahq"]:
            if test_sigmahq() == 77:
                return 77
        else:
            test_offline()
            test_http_and_bounds()
            test_live()
    finally:
        if not os.environ.get("KEEP_TMP"):
            shutil.rmtree(TMP, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
