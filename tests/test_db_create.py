#!/usr/bin/env python3
"""Regression (issue 15, item 15): a database that socctl creates.

The README's quick start runs socctl before the correlator.  socctl
created the database with SQLite's default mode (0644 under the usual
umask 022: world-readable incidents until the correlator started), owned
by whoever ran it; a correlator running as another user then opened it
read-only without a word and died at its first write with "forward
state: attempt to write a readonly database".  Now:

- socctl creates the database 0640 whatever the umask (022, 0, 077), as
  the correlator does, and leaves the modes of one that exists alone;
- a correlator that may not write the database (or its -wal or -shm)
  refuses to start, naming the file, its owner and the chown to run (run as root: the correlator
  is started as nobody on a database root's socctl made; skipped
  otherwise).
Real socctl, real correlator, real files; the correlator's exit is awaited
with a generous ceiling, not a fixed sleep."""
import os
import pwd
import grp
import shutil
import stat
import subprocess
import sys
import tempfile

from soctest import CORR, SOCCTL, SRC, TIME_SCALE, check, done, run


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def socctl_umask(db, mask, *args):
    return subprocess.run([SOCCTL, "--db", db, *args], capture_output=True,
                          text=True, preexec_fn=lambda: os.umask(mask))


def main():
    tmp = tempfile.mkdtemp(prefix="soc-dbcreate-")
    os.chmod(tmp, 0o755)
    try:
        for mask in (0o022, 0o000, 0o077):
            db = os.path.join(tmp, f"soc-{mask:03o}.db")
            p = socctl_umask(db, mask, "agency", "add", "stttt", "--name", "Sở")
            check(p.returncode == 0, f"socctl agency add (umask {mask:03o}): {p.stderr}")
            check(mode(db) == 0o640,
                  f"umask {mask:03o}: socctl made the database {mode(db):04o}, want 0640")
            for sfx in ("-wal", "-shm"):
                if os.path.exists(db + sfx):
                    check(mode(db + sfx) == 0o640, f"{sfx} is {mode(db + sfx):04o}")
        # a database that exists keeps its modes (db_group's 0660, say)
        db = os.path.join(tmp, "soc-022.db")
        os.chmod(db, 0o660)
        p = socctl_umask(db, 0o022, "agency", "add", "hn", "--name", "Hà Nội")
        check(p.returncode == 0 and mode(db) == 0o660,
              f"an existing database keeps 0660: {mode(db):04o} {p.stderr}")

        if os.geteuid() != 0:
            print("not root: the correlator-as-another-user part is skipped")
            return done()
        # root's socctl made the database; the correlator runs as nobody
        nobody = pwd.getpwnam("nobody")
        db = os.path.join(tmp, "root.db")
        p = socctl_umask(db, 0o022, "agency", "add", "stttt", "--name", "Sở")
        check(p.returncode == 0, f"root's socctl: {p.stderr}")
        run(SOCCTL, "--db", db, "keygen", "--out", os.path.join(tmp, "corr"))
        os.chown(os.path.join(tmp, "corr.key"), nobody.pw_uid, nobody.pw_gid)
        rules = os.path.join(tmp, "rules")
        os.mkdir(rules)
        shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), rules)
        os.chmod(rules, 0o755)

        def as_nobody():
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)

        try:
            p = subprocess.run([CORR, "--db", db, "--rules", rules, "--key",
                                os.path.join(tmp, "corr.key"),
                                "--bind", "tcp://127.0.0.1:0"],
                               capture_output=True, text=True, timeout=60 * TIME_SCALE,
                               preexec_fn=as_nobody)
            out = p.stdout + p.stderr
        except subprocess.TimeoutExpired as e:
            out = f"still running after {60 * TIME_SCALE:.0f} s: " + str(e.stderr)
            p = None
        group = grp.getgrgid(nobody.pw_gid).gr_name
        check(p is not None and p.returncode != 0,
              f"the correlator refuses a database it cannot write: {out!r}")
        check(db in out and "owned by root:" in out,
              f"the message names the file and its owner: {out!r}")
        check(f"chown nobody:{group} {db}" in out,
              f"the message gives the chown to run: {out!r}")
        check("readonly database" not in out,
              f"no bare SQLite 'readonly database': {out!r}")

        # the database given to nobody, but a -wal left by root: named too
        os.chown(db, nobody.pw_uid, nobody.pw_gid)
        with open(db + "-wal", "w"):
            pass
        os.chmod(db + "-wal", 0o644)
        try:
            p = subprocess.run([CORR, "--db", db, "--rules", rules, "--key",
                                os.path.join(tmp, "corr.key"),
                                "--bind", "tcp://127.0.0.1:0"],
                               capture_output=True, text=True, timeout=60 * TIME_SCALE,
                               preexec_fn=as_nobody)
            out = p.stdout + p.stderr
        except subprocess.TimeoutExpired as e:
            out = f"still running after {60 * TIME_SCALE:.0f} s: " + str(e.stderr)
            p = None
        check(p is not None and p.returncode != 0 and
              f"{db}-wal is owned by root:" in out and "chown nobody:" in out,
              f"a -wal the correlator cannot write is named: {out!r}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
