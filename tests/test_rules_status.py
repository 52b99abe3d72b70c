#!/usr/bin/env python3
"""rules.min_status and partial rule directories through the real
soc-correlator (-t: loads everything, reports, exits):

- a directory tree with the operator's own rules (one stable, one
  experimental), a `sigmahq/` directory and a `vendor/` directory with a
  `.partial` file, each holding a rule the engine refuses: the correlator
  starts, logs the refusals with file:line, and counts 1 loaded, 2 refused
  in partial directories, 1 skipped below `test`;
- `rules.min_status: experimental` in the config loads the experimental
  rule too; an unknown level is refused at start;
- a refused rule in the operator's own directory refuses the set.
"""
import os
import shutil
import tempfile

from soctest import CORR, SOCCTL, SRC, check, done, run, sanitizer_clean

TMP = tempfile.mkdtemp(prefix="soc-test-status.")

RULE = """title: {t}
{status}logsource:
  product: linux
  service: sshd
detection:
  sel:
    event.action: ssh_login
    user.name: {t}
  condition: sel
"""
BAD = """title: bad
status: stable
logsource:
  product: linux
  service: sshd
detection:
  sel:
    nosuchfield: x
  condition: sel
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def correlator(rules, conf=None):
    args = [CORR, "-t", "--db", os.path.join(TMP, "none.db"), "--rules", rules,
            "--key", os.path.join(TMP, "correlator.key")]
    if conf is not None:
        args[1:1] = ["-c", conf]
    p = run(*args, ok=False)
    sanitizer_clean(p.stderr, "correlator")
    return p


def main():
    run(SOCCTL, "keygen", "--out", os.path.join(TMP, "correlator"))
    rules = os.path.join(TMP, "rules")
    shutil.copytree(os.path.join(SRC, "rules"), os.path.join(TMP, "shipped"))
    os.makedirs(rules)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), rules)
    write(os.path.join(rules, "own", "a.yml"), RULE.format(t="a", status="status: stable\n"))
    write(os.path.join(rules, "own", "b.yml"),
          RULE.format(t="b", status="status: experimental\n"))
    write(os.path.join(rules, "sigmahq", "net", "bad.yml"), BAD)
    write(os.path.join(rules, "vendor", ".partial"), "")
    write(os.path.join(rules, "vendor", "bad.yml"), BAD)

    p = correlator(rules)
    check(p.returncode == 0, f"partial refusals do not stop the start: {p.stderr[-400:]}")
    check("sigmahq/net/bad.yml:8: unknown field 'nosuchfield'" in p.stderr and
          "vendor/bad.yml:8:" in p.stderr, "the refused rules are logged with file:line")
    check("rules: 1 loaded, 2 refused in partial directories, 1 skipped below "
          "rules.min_status test" in p.stderr, f"counted: {p.stderr[-600:]}")

    # socctl rules check says the same as the correlator
    p = run(SOCCTL, "rules", "check", rules, ok=False)
    check(p.returncode == 0 and "skipped " in p.stdout and "b.yml" in p.stdout and
          "1 rule loaded, 0 refused, 2 refused in partial directories" in p.stdout and
          "1 skipped below status test" in p.stdout, f"rules check lists them: {p.stdout}")
    p = run(SOCCTL, "rules", "check", rules, "--min-status", "any", ok=False)
    check("2 rules loaded" in p.stdout and "skipped" not in p.stdout,
          f"--min-status any skips nothing: {p.stdout}")

    conf = os.path.join(TMP, "c.yml")
    write(conf, "rules.min_status: experimental\n")
    p = correlator(rules, conf)
    check(p.returncode == 0 and "rules: 2 loaded, 2 refused in partial directories, "
          "0 skipped" in p.stderr, f"min_status experimental loads b: {p.stderr[-400:]}")
    write(conf, "rules.min_status: stale\n")
    p = correlator(rules, conf)
    check(p.returncode != 0 and "rules.min_status \"stale\"" in p.stderr,
          "an unknown level is refused")

    write(os.path.join(rules, "own", "bad.yml"), BAD)
    p = correlator(rules)
    check(p.returncode != 0 and "own/bad.yml:8:" in p.stderr and
          "did not load" in p.stderr, "a refusal in the operator's own rules refuses the set")

    p = correlator(os.path.join(TMP, "shipped"))
    check(p.returncode == 0 and "0 skipped" in p.stderr,
          f"the shipped rules all load at the default level: {p.stderr[-300:]}")
    shutil.rmtree(TMP, ignore_errors=True)
    return done()


if __name__ == "__main__":
    raise SystemExit(main())
