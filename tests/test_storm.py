#!/usr/bin/env python3
"""An alert storm end to end (issue 9): a real correlator and a real
sensor on loopback, the storm rule set of bench/e2e (24 single sshd rules,
one per user name, so every line raises an alert, plus a brute-force
correlation by source address) and a generated sshd log of 100,000 lines.

Every event is counted exactly once: the sensor's events_received equals
the number of lines, and the counts of the 24 single-rule incidents sum to
it (per rule too: 1 line in 24 is each user's).  Each incident keeps at
most the first 10 and the latest 10 events as evidence; incidents carry
their category (brute_force, from the rules' tags) in `socctl incidents
--json`.  A direct `UPDATE incidents SET status = ...` through the sqlite3
command-line tool is refused while the correlator runs; the same move
through socctl (which writes the audit row) is not, nor `socctl incident
reopen` (refused for an open incident).  And a database of schema version
1 migrates."""
import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

from soctest import (CORR, SENSOR, SOCCTL, SRC, check, counts, done, free_port, run,
                     sanitizer_clean, wait_port, stop)

LINES = 100000


def bench_module():
    spec = importlib.util.spec_from_file_location(
        "e2e", os.path.join(SRC, "bench", "e2e.py"))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def schema_v1():
    """The version 1 schema, from the C source (string pieces joined)."""
    import re
    src = open(os.path.join(SRC, "correlator", "store", "store.c")).read()
    body = src[src.index("static const char schema_v1[] ="):]
    body = body[:body.index(";\n")]
    body = body.replace("OPEN_SQL", "\"('new','acknowledged','investigating')\"")
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body))


def check_migration(tmp):
    """A version 1 database (an open and a resolved incident) opens in
    this build: new columns, closed_at of the resolved one, the guard."""
    db = os.path.join(tmp, "v1.db")
    con = sqlite3.connect(db)
    con.executescript(schema_v1())
    con.executescript("""
        insert into agencies (code, name) values ('a1', 'A1');
        insert into incidents (rule_id, severity, agency, status, first_seen,
            last_seen, count, created_at, updated_at)
            values ('r', 3, 'a1', 'new', 1, 2, 5, 1, 2),
                   ('r', 3, 'a1', 'resolved', 1, 2, 5, 1, 7);
        pragma user_version = 1;""")
    con.close()
    run(SOCCTL, "--db", db, "agency", "add", "a2", "--name", "A2")  # read-write
    js = json.loads(run(SOCCTL, "--db", db, "incidents", "--json").stdout)
    check(sorted((i["status"], i["category"], i["related"]) for i in js) ==
          [("new", "other", None), ("resolved", "other", None)],
          "a version 1 database migrates (category other, related null)")
    con = sqlite3.connect(db)
    check(con.execute("select closed_at from incidents where status ="
                      " 'resolved'").fetchone()[0] == 7,
          "migrated: a resolved incident's closed_at is its last update")
    try:
        con.execute("update incidents set status = 'resolved' where status = 'new'")
        con.commit()
        check(False, "migrated: a direct status update is refused")
    except sqlite3.DatabaseError:
        check(True, "migrated: a direct status update is refused")
    con.close()


def main():
    e2e = bench_module()
    tmp = tempfile.mkdtemp(prefix="soc-storm-")
    db = os.path.join(tmp, "soc.db")
    log = os.path.join(tmp, "sshd.log")
    rules = os.path.join(tmp, "rules")
    ctl = lambda *a: run(SOCCTL, "--db", db, *a)
    for name in ("correlator", "gw1"):
        ctl("keygen", "--out", os.path.join(tmp, name))
    ctl("agency", "add", "stttt", "--name", "Sở TT&TT")
    ctl("sensor", "enroll", "gw1", "--agency", "stttt", "--key",
        os.path.join(tmp, "gw1.pub"))
    check_migration(tmp)
    e2e.write_log(log, LINES)
    e2e.storm_rules(rules)
    port = free_port()
    corr_log = open(os.path.join(tmp, "corr.err"), "w+")
    corr = subprocess.Popen([CORR, "--db", db, "--rules", rules, "--key",
                             os.path.join(tmp, "correlator.key"),
                             "--bind", f"tcp://127.0.0.1:{port}"],
                            stdout=corr_log, stderr=subprocess.STDOUT)
    cfg = os.path.join(tmp, "sensor.yml")
    with open(cfg, "w") as f:
        f.write(f"""name: gw1
connect: tcp://127.0.0.1:{port}
server_key: {tmp}/correlator.pub
key: {tmp}/gw1.key
logs:
  files: [{log}]
uplink:
  batch_events: 1000
  batch_ms: 50
  ack_timeout_ms: 30000
  drain_timeout_s: 240
""")
    sensor_err = ""
    try:
        check(wait_port(port, corr), "correlator listens")
        p = subprocess.run([SENSOR, "-c", cfg, "--once"], capture_output=True,
                           text=True, timeout=280)
        sensor_err = p.stderr
        check(p.returncode == 0, f"sensor read the log and every batch was "
              f"acked (exit {p.returncode})")

        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        got = con.execute("select events_received from sensors where name = 'gw1'"
                          ).fetchone()[0]
        check(got == LINES, f"every line arrived once: {got} of {LINES}")
        per_rule = dict(con.execute(
            "select rule_title, sum(count) from incidents where rule_title"
            " like 'SSH storm user%' group by rule_title").fetchall())
        total = sum(per_rule.values())
        check(total == LINES, f"single-rule incident counts sum to the lines:"
              f" {total} for {LINES}")
        check(len(per_rule) == e2e.USERS, f"{len(per_rule)} storm rules fired")
        want = {f"SSH storm user{k}": len(range(k, LINES, e2e.USERS))
                for k in range(e2e.USERS)}
        check(per_rule == want, "each rule counts exactly its user's lines")
        bf = con.execute("select count(*), coalesce(sum(count), 0) from incidents"
                         " where rule_title = 'SSH brute force (storm)'").fetchone()
        check(bf[0] > 0 and bf[1] >= 8 * bf[0],
              f"brute force by source address: {bf[0]} incidents")
        over = con.execute("select count(*) from (select incident_id, count(*) n"
                           " from evidence group by incident_id) where n > 20"
                           ).fetchone()[0]
        check(over == 0, "no incident keeps more than 10 + 10 evidence events")
        few = con.execute("select min(n) from (select i.id, (select count(*)"
                          " from evidence e where e.incident_id = i.id) n from"
                          " incidents i where i.count >= 20 and i.rule_title"
                          " like 'SSH storm user%')").fetchone()[0]
        check(few == 20, f"a single-rule incident of 20 or more events keeps"
              f" 20 ({few})")
        one = con.execute("select id from incidents where rule_title ="
                          " 'SSH storm user0' order by id limit 1").fetchone()[0]
        con.close()

        js = json.loads(ctl("incidents", "--json").stdout)
        check(len(js) > 0 and all(i.get("category") == "brute_force" for i in js),
              "incidents carry category brute_force (from the rules' tags)")
        check(all("related" in i and i["related"] is None for i in js),
              "related is null for incidents with no earlier one")

        # the database refuses a status change without its audit row
        if shutil.which("sqlite3"):
            r = subprocess.run(["sqlite3", db, f"UPDATE incidents SET status ="
                                f" 'resolved' WHERE id = {one};"],
                               capture_output=True, text=True, timeout=60)
            check(r.returncode != 0 and "audit" in r.stderr,
                  f"sqlite3 CLI: direct status update refused ({r.stderr.strip()})")
            r = subprocess.run(["sqlite3", db, f"UPDATE incidents SET assignee ="
                                f" 'mallory' WHERE id = {one};"],
                               capture_output=True, text=True, timeout=60)
            check(r.returncode != 0, "sqlite3 CLI: direct assignee change refused")
        else:
            print("SKIP: no sqlite3 command-line tool", file=sys.stderr)
        ctl("incident", "resolve", str(one), "--by", "alice")
        show = json.loads(ctl("incident", "show", str(one), "--json").stdout)
        inc = show.get("incident", show)
        check(inc.get("status") == "resolved", "socctl resolves it (audited)")
        audit = show.get("audit", [])
        check(any(a.get("action") == "resolved" and a.get("actor") == "alice"
                  for a in audit), "the audit trail has the resolution")
        # an analyst reopens it (DESIGN section 9): new again, audited
        ctl("incident", "reopen", str(one), "--by", "carol", "--note",
            "still failing")
        show = json.loads(ctl("incident", "show", str(one), "--json").stdout)
        inc = show.get("incident", show)
        check(inc.get("status") == "new", "socctl incident reopen: new again")
        check(any(a.get("action") == "reopened" and a.get("actor") == "carol"
                  and "still failing" in (a.get("note") or "")
                  for a in show.get("audit", [])), "the audit trail has the reopen")
        r = run(SOCCTL, "--db", db, "incident", "reopen", str(one), "--by",
                "carol", ok=False)
        check(r.returncode != 0 and "is open" in r.stderr,
              f"reopening an open incident is refused ({r.stderr.strip()})")
    finally:
        code = stop(corr, 30)
        check(code == 0, f"correlator stops cleanly ({code})")
    corr_log.seek(0)
    text = corr_log.read()
    sanitizer_clean(text, "correlator")
    sanitizer_clean(sensor_err, "sensor")
    if counts["failed"]:
        print(text[-3000:], sensor_err[-2000:], file=sys.stderr)
    shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
