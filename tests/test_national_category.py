#!/usr/bin/env python3
"""Issue 15 item 14: a national incident keeps the category of the alert
that made it.  A REAL national soc-correlator receives alerts from a
province played here (python3-zmq, the wire format and alert JSON of
test_national.py); the category it stores is, by what `socctl incidents
--json` and `--category` show:

- the alert's soc.incident.category when it is one of the ten codes;
- else the category the national table gives the alert's tags
  (attack.t1110 -> brute_force);
- else "other";
- a newer revision that carries another category moves it.

Before the change every national incident was "other" and `--category
brute_force` found nothing.  No timed asserts: each step waits for the
province's ACK."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from soctest import (CORR, SOCCTL, SRC, check, counts, done, free_port, run,
                     sanitizer_clean, stop, wait_port, wait_until)
from test_national import ACK, ALERTS, Province, batch, blob, key_of, rfc3339, T0

import zmq


def alert(inc, rev, category=None, tags=None, severity="high"):
    a = {
        "@timestamp": rfc3339(T0 + rev), "ecs.version": "8.11.0",
        "event.kind": "alert", "event.id": f"hue-soc:{inc}:{rev}",
        "event.start": rfc3339(T0), "event.end": rfc3339(T0 + rev),
        "rule.id": f"rule-{inc}", "rule.name": f"rule {inc}",
        "organization.id": "hue", "soc.alert.revision": rev,
        "soc.origin.name": "hue-soc", "soc.origin.agency": "hue",
        "soc.origin.incident_id": inc, "soc.incident.severity": severity,
        "soc.incident.status": "new", "soc.incident.count": 1,
        "soc.incident.group_key": "source.ip=198.51.100.9",
    }
    if category is not None:
        a["soc.incident.category"] = category
    if tags is not None:
        a["tags"] = tags
    return json.dumps(a)


def main():
    tmp = tempfile.mkdtemp(prefix="soc-natcat-")
    db = os.path.join(tmp, "national.db")
    ctl = lambda *a, **kw: run(SOCCTL, "--db", db, *a, **kw)
    for name in ("national", "hue-soc"):
        ctl("keygen", "--out", os.path.join(tmp, name))
    ctl("agency", "add", "hue", "--name", "Huế")
    ctl("sensor", "enroll", "hue-soc", "--agency", "hue", "--role", "province",
        "--key", os.path.join(tmp, "hue-soc.pub"))
    # the rules directory of test_national.py: only the mapping (the
    # category table is then the built-in one, rules/categories.txt)
    rules = os.path.join(tmp, "rules")
    os.mkdir(rules)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), rules)
    port = free_port()
    endpoint = f"tcp://127.0.0.1:{port}"
    err = open(os.path.join(tmp, "correlator.err"), "w+")
    corr = subprocess.Popen([CORR, "--db", db, "--rules", rules, "--key",
                             os.path.join(tmp, "national.key"), "--bind", endpoint],
                            stdout=err, stderr=subprocess.STDOUT)
    zctx = zmq.Context()
    p = None
    try:
        # our correlator, not whatever took the port after free_port
        listening = lambda: "listening on" in open(err.name, errors="replace").read()
        if not check(wait_port(port, corr) and (wait_until(
                lambda: listening() or corr.poll() is not None,
                "the correlator says it listens") and listening()), "national correlator listens"):
            # (its port taken between free_port and the bind): stop here,
            # not wait out every reply until the meson timeout
            print(open(err.name, errors="replace").read()[-3000:], file=sys.stderr)
            raise SystemExit(done())
        p = Province(zctx, endpoint, os.path.join(tmp, "hue-soc"),
                     key_of(os.path.join(tmp, "national.pub")))
        b1 = batch(ALERTS, 1, [
            blob(alert(1, 1, "scan", ["attack.t1110"])),	# the alert's word
            blob(alert(2, 1, "intrusion-attempt", ["attack.credential-access",
                                                   "attack.t1110.001"])),
            blob(alert(3, 1, None, ["attack.t1110"])),	# no category sent
            blob(alert(4, 1, "\u001b[31mjunk", None)),	# nothing to go by
        ])
        check(p.send(b1) == (ACK, 1), "batch 1 acked")
        inc = {i["origin"]["incident_id"]: i
               for i in json.loads(ctl("incidents", "--json").stdout)}
        cat = {k: v.get("category") for k, v in inc.items()}
        check(cat.get(1) == "scan", f"the alert's own category kept: {cat.get(1)}")
        check(cat.get(2) == "brute_force",
              f"not a code: the national table's view of its tags: {cat.get(2)}")
        check(cat.get(3) == "brute_force", f"no category sent: from tags: {cat.get(3)}")
        check(cat.get(4) == "other", f"nothing to go by: other: {cat.get(4)}")
        found = json.loads(ctl("incidents", "--category", "brute_force",
                               "--json").stdout)
        check(sorted(i["origin"]["incident_id"] for i in found) == [2, 3],
              f"--category brute_force finds them nationally: {len(found)}")
        # a newer revision with another category moves it
        b2 = batch(ALERTS, 2, [blob(alert(4, 2, "malware", None))], prev=1)
        check(p.send(b2) == (ACK, 2), "batch 2 acked")
        i4 = [i for i in json.loads(ctl("incidents", "--json").stdout)
              if i["origin"]["incident_id"] == 4]
        check(i4 and i4[0].get("category") == "malware",
              f"revision 2's category: {i4 and i4[0].get('category')}")
        # the leadership report counts them by category
        rep = ctl("report", "--json", ok=False)
        if rep.returncode == 0:
            text = rep.stdout
            check("brute_force" in text, "the national report has the category")
    finally:
        if p is not None:
            p.close()
        # destroy, not term: a socket an exception left open would make
        # term() wait forever, a failure turned into the test's timeout
        zctx.destroy(linger=0)
        stop(corr)
        err.seek(0)
        log = err.read()
        err.close()
        sanitizer_clean(log, "correlator")
    if counts["failed"]:
        print(log, file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
