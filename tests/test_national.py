#!/usr/bin/env python3
"""The national role, from the receiving end: a REAL soc-correlator with
its own database, and a hostile "province" written here in Python (its
own encoder of the wire format of include/soc/wire.h and of the alert
JSON of docs/ALERTS.md, a ZeroMQ DEALER with CURVE keys made by socctl
keygen).  It proves, by what lands in SQLite and in `socctl --json`:

- an enrolled province key: each provincial incident stored once, with
  agency = the key's enrolled agency (whatever the alert claims) and
  origin = {name, agency, incident_id}; revisions sent 1, 3, 2 leave
  revision 3's values; a resent batch is acked and not applied again; a
  gap is NACKed; a refused record is skipped, the rest of its batch kept;
  heartbeats and alerts show in `socctl sensors` (last_heartbeat,
  last_alert); national analysts ack and resolve these incidents;
- an unenrolled key: nothing stored, no reply;
- roles: a key enrolled without --role becomes a province by its first
  (alert) batch; a key enrolled --role sensor that sends alerts (a stolen
  sensor key) is acked and stores nothing; `socctl sensors` shows roles;
- the rule's tags travel: `rule.tags` in the incident JSON;
- a key revoked while connected: nothing stored from then on, no reply.
No timed asserts: every wait ends on the awaited reply or row, with a
generous limit that only turns a hang into a failure."""
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time

from soctest import (CORR, SOCCTL, SRC, check, done, free_port, run,
                     sanitizer_clean, stop, wait_port, wait_until, TIME_SCALE,
                     import_zmq, key_of)

zmq = import_zmq()

EVENTS, HEARTBEAT, ALERTS = 1, 2, 3
ACK, NACK = 0, 1
REPLY_WAIT_MS = int(20000 * TIME_SCALE)	# a hang, not a slow machine, makes this fail
SILENCE_MS = 1500		# how long a refused peer is given to answer


# ---- the wire format (include/soc/wire.h), little-endian ----

def batch(kind, seq, records, prev=0):
    """SOCB | version | kind | flags | seq | count | prev | records."""
    return (b"SOCB" + struct.pack("<BBHQIQ", 1, kind, 0, seq, len(records), prev)
            + b"".join(records))


def blob(data):
    if isinstance(data, str):
        data = data.encode()
    return struct.pack("<I", len(data)) + data


def counter(name, value):
    name = name.encode()
    return struct.pack("<B", len(name)) + name + struct.pack("<Q", value)


def reply(data):
    """SOCA | version | kind | pad[2] | seq -> (kind, seq)."""
    if len(data) != 16 or data[:4] != b"SOCA":
        return None
    _, kind, _, seq = struct.unpack("<BBHQ", data[4:])
    return kind, seq


# ---- the alert (docs/ALERTS.md) ----

T0 = 1764215000  # 2025-11-27T03:43:20Z


def rfc3339(sec):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + ".000000000Z"


def alert(inc, rev, count, severity, status, origin="lamdong-soc",
          claims="hanoi", title="SSH brute force"):
    """One revision of provincial incident inc; organization.id claims
    an agency that the national side must ignore."""
    return json.dumps({
        "@timestamp": rfc3339(T0 + rev), "ecs.version": "8.11.0",
        "event.kind": "alert", "event.id": f"{origin}:{inc}:{rev}",
        "event.start": rfc3339(T0), "event.end": rfc3339(T0 + rev),
        "rule.id": "ssh-brute-force", "rule.name": f"{title} r{rev}",
        "rule.author": "Florian Roth (Nextron Systems)",
        "tags": ["attack.credential-access", "attack.t1110"],
        "organization.id": claims, "source.ip": "203.0.113.7",
        "destination.port": 22, "soc.alert.revision": rev,
        "soc.origin.name": origin, "soc.origin.agency": "stttt",
        "soc.origin.incident_id": inc, "soc.rule.level": "high",
        "soc.incident.severity": severity, "soc.incident.status": status,
        "soc.incident.category": "intrusion-attempt",
        "soc.incident.count": count,
        "soc.incident.group_key": "source.ip=203.0.113.7",
    }, ensure_ascii=False)


class Province:
    """A provincial correlator as the national side sees it: a CURVE
    client that sends batches and reads the replies."""

    def __init__(self, zctx, endpoint, keyfile, server_pub):
        self.s = zctx.socket(zmq.DEALER)
        self.s.setsockopt(zmq.LINGER, 0)
        self.s.curve_secretkey = key_of(keyfile + ".key").encode()
        self.s.curve_publickey = key_of(keyfile + ".pub").encode()
        self.s.curve_serverkey = server_pub.encode()
        self.s.connect(endpoint)

    def send(self, data, wait_ms=REPLY_WAIT_MS):
        """Sends one batch; returns its reply (kind, seq) or None."""
        self.s.send(data)
        return self.recv(wait_ms)

    def recv(self, wait_ms):
        if self.s.poll(wait_ms) == 0:
            return None
        return reply(self.s.recv())

    def close(self):
        self.s.close()


def q(db, sql, *args):
    con = sqlite3.connect(db, timeout=10)
    try:
        rows = con.execute(sql, args).fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def main():
    tmp = tempfile.mkdtemp(prefix="soc-national-")
    db = os.path.join(tmp, "national.db")
    ctl = lambda *a, **kw: run(SOCCTL, "--db", db, *a, **kw)
    for name in ("national", "lamdong-soc", "stranger", "gone-soc", "thief"):
        ctl("keygen", "--out", os.path.join(tmp, name))
    ctl("agency", "add", "lamdong", "--name", "Lâm Đồng")
    ctl("agency", "add", "hanoi", "--name", "Hà Nội")
    ctl("agency", "add", "daklak", "--name", "Đắk Lắk")
    ctl("sensor", "enroll", "lamdong-soc", "--agency", "lamdong", "--key",
        os.path.join(tmp, "lamdong-soc.pub"))
    ctl("sensor", "enroll", "gone-soc", "--agency", "daklak", "--key",
        os.path.join(tmp, "gone-soc.pub"))
    ctl("sensor", "enroll", "thief", "--agency", "hanoi", "--role", "sensor",
        "--key", os.path.join(tmp, "thief.pub"))
    rules = os.path.join(tmp, "national-rules")
    os.mkdir(rules)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), rules)
    port = free_port()
    endpoint = f"tcp://127.0.0.1:{port}"
    corr_err = open(os.path.join(tmp, "correlator.err"), "w+")
    corr = subprocess.Popen([CORR, "--db", db, "--rules", rules, "--key",
                             os.path.join(tmp, "national.key"), "--bind", endpoint],
                            stdout=corr_err, stderr=subprocess.STDOUT)
    zctx = zmq.Context()
    server_pub = key_of(os.path.join(tmp, "national.pub"))
    prov = lambda name: Province(zctx, endpoint, os.path.join(tmp, name), server_pub)
    national = lambda: q(db, "select count(*) from incidents")[0][0]
    try:
        # our correlator, not whatever took the port after free_port
        listening = lambda: "listening on" in open(corr_err.name, errors="replace").read()
        if not check(wait_port(port, corr) and (wait_until(
                lambda: listening() or corr.poll() is not None,
                "the correlator says it listens") and listening()), "national correlator listens"):
            # (its port taken between free_port and the bind): stop here,
            # not wait out every reply until the meson timeout
            print(open(corr_err.name, errors="replace").read()[-3000:], file=sys.stderr)
            raise SystemExit(done())
        p = prov("lamdong-soc")

        # 1. first revision of two provincial incidents
        b1 = batch(ALERTS, 1, [blob(alert(4711, 1, 3, "medium", "new")),
                               blob(alert(4712, 1, 1, "low", "new"))])
        check(p.send(b1) == (ACK, 1), "batch 1 acked")
        inc = json.loads(ctl("incidents", "--json").stdout)
        check(len(inc) == 2, f"two national incidents, got {len(inc)}")
        by = {i["origin"]["incident_id"]: i for i in inc if i.get("origin")}
        i1 = by.get(4711, {})
        check(i1.get("origin") == {"name": "lamdong-soc", "agency": "stttt",
                                   "incident_id": 4711},
              f"origin as in the contract: {i1.get('origin')}")
        check(i1.get("agency") == "lamdong",
              f"agency from the key, not the alert's 'hanoi': {i1.get('agency')}")
        check(not json.loads(ctl("incidents", "--agency", "hanoi", "--json").stdout),
              "nothing stored under the agency an alert claims")
        check(i1.get("count") == 3 and i1.get("severity") == "medium",
              f"revision 1's values: {i1.get('count')} {i1.get('severity')}")
        check(i1.get("rule", {}).get("tags") == ["attack.credential-access",
                                                 "attack.t1110"],
              f"the rule's tags kept: {i1.get('rule')}")

        # 2. revisions 3 then 2: revision 3's values stay
        b2 = batch(ALERTS, 2, [blob(alert(4711, 3, 30, "high", "investigating"))], prev=1)
        b3 = batch(ALERTS, 3, [blob(alert(4711, 2, 20, "critical", "acknowledged"))], prev=2)
        check(p.send(b2) == (ACK, 2), "batch 2 (revision 3) acked")
        check(p.send(b3) == (ACK, 3), "batch 3 (revision 2) acked")
        # 3. a resend of batch 2: acked again, not applied again
        check(p.send(b2) == (ACK, 2), "resent batch 2 acked again")
        # 4. a gap: batch 5 before 4 is NACKed with the last one applied
        b5 = batch(ALERTS, 5, [blob(alert(4713, 1, 1, "high", "new"))], prev=4)
        check(p.send(b5) == (NACK, 3), "a batch behind a missing one is NACKed")
        # 5. a refused record among good ones; junk that is no batch at all
        b4 = batch(ALERTS, 4, [blob('{"event.id": 1}'), blob(b"\xff\xfe"),
                               blob(alert(4714, 1, 7, "high", "new"))], prev=3)
        check(p.send(b4) == (ACK, 4), "batch 4 with two bad records acked")
        check(p.send(b"SOCB" + b"\x01\x03" + b"\x00" * 5, wait_ms=SILENCE_MS) is None,
              "a batch with no usable header gets no reply")
        check(p.send(b5) == (ACK, 5), "batch 5 applied after 4")
        inc = json.loads(ctl("incidents", "--json").stdout)
        by = {i["origin"]["incident_id"]: i for i in inc if i.get("origin")}
        check(sorted(by) == [4711, 4712, 4713, 4714] and len(inc) == 4,
              f"each provincial incident once: {sorted(by)} of {len(inc)}")
        i1 = by.get(4711, {})
        check((i1.get("count"), i1.get("severity"), i1.get("status"))
              == (30, "high", "investigating"),
              f"revision 3's values after 1, 3, 2: {i1.get('count')}"
              f" {i1.get('severity')} {i1.get('status')}")
        check(i1.get("rule", {}).get("title") == "SSH brute force r3",
              f"revision 3's title: {i1.get('rule')}")
        check(q(db, "select origin_revision from incidents where origin_incident"
                " = 4711") == [(3,)], "revision 3 recorded")
        check("refused" in open(corr_err.name).read(), "the refused records are logged")

        # 6. heartbeat and last alert per province, as `socctl sensors` shows
        check(p.send(batch(HEARTBEAT, 0, [counter("outbox_pending", 0)]),
                     wait_ms=SILENCE_MS) is None, "a heartbeat is not acked")
        def sensors_seen():	# the heartbeat has no reply to wait for
            rows = {s["name"]: s for s in json.loads(ctl("sensors", "--json").stdout)}
            return rows if rows["lamdong-soc"]["last_heartbeat"] is not None else None
        sensors = (wait_until(sensors_seen, "the heartbeat recorded") or
                   {s["name"]: s for s in json.loads(ctl("sensors", "--json").stdout)})
        lam = sensors["lamdong-soc"]
        check(lam["last_heartbeat"] is not None, "the province's heartbeat is shown")
        check(lam["last_alert"] is not None, "the province's last alert is shown")
        check(sensors["gone-soc"]["last_alert"] is None, "never: null")
        check("LAST ALERT" in ctl("sensors").stdout, "the table shows LAST ALERT")
        check(lam.get("role") == "province",
              f"role fixed by the first (alert) batch: {lam.get('role')}")
        check(sensors["thief"].get("role") == "sensor", "role given at enrolment")
        check(sensors["gone-soc"].get("role") is None, "no batch yet: no role")
        check(ctl("sensor", "enroll", "x", "--agency", "hanoi", "--role",
                  "nation", "--key", os.path.join(tmp, "stranger.pub"),
                  ok=False).returncode != 0, "an unknown role is refused")

        # 7. national analysts work on these incidents as usual
        nid = str(by[4712]["id"])
        ctl("incident", "ack", nid, "--by", "analyst")
        ctl("incident", "resolve", nid, "--by", "analyst", "--note", "seen")
        show = json.loads(ctl("incident", "show", nid, "--json").stdout)
        check(show.get("status") == "resolved", f"resolved: {show.get('status')}")
        check(show.get("origin", {}).get("incident_id") == 4712, "show carries origin")
        check(len(show.get("evidence", [])) == 1 and
              show["evidence"][0].get("soc.alert.revision") == 1,
              "the alert is kept as the evidence row")

        # 8. an unenrolled key: no service, nothing stored
        before = national()
        s = prov("stranger")
        check(s.send(batch(ALERTS, 1, [blob(alert(1, 1, 1, "high", "new",
                                                  origin="stranger"))]),
                     wait_ms=SILENCE_MS) is None, "an unenrolled key gets no reply")
        s.close()
        # 9. a key revoked while connected: nothing stored from then on
        g = prov("gone-soc")
        check(g.send(batch(ALERTS, 1, [blob(alert(1, 1, 1, "high", "new",
                                                  origin="gone-soc"))])) == (ACK, 1),
              "gone-soc's first batch acked")
        ctl("sensor", "revoke", "gone-soc")
        check(g.send(batch(ALERTS, 2, [blob(alert(2, 1, 1, "high", "new",
                                                  origin="gone-soc"))], prev=1),
                     wait_ms=SILENCE_MS) is None, "a revoked key gets no reply")
        g.close()
        # a batch of the enrolled province after both: applied, so the
        # correlator has read everything sent before it
        check(p.send(batch(ALERTS, 6, [blob(alert(4715, 1, 1, "low", "new"))],
                           prev=5)) == (ACK, 6), "the enrolled province goes on")
        check(national() == before + 2,
              f"stranger and revoked key stored nothing: {national()} vs {before} + 2")
        check(q(db, "select count(*) from incidents where origin_name = 'stranger'")
              == [(0,)], "no stranger incident")
        check(q(db, "select count(*) from incidents where origin_name = 'gone-soc'")
              == [(1,)], "only gone-soc's batch from before the revocation")
        check(q(db, "select last_seq from sensors where name = 'gone-soc'") == [(1,)],
              "gone-soc's chain stopped at the revocation")

        # 10. a sensor key sending alerts: acked so its chain moves on,
        # counted and logged, nothing stored
        t = prov("thief")
        check(t.send(batch(ALERTS, 1, [blob(alert(66, 1, 1, "critical", "new",
                                                  origin="thief"))])) == (ACK, 1),
              "the sensor key's alert batch is acked")
        t.close()
        check(q(db, "select count(*) from incidents where origin_name = 'thief'"
                " or agency = 'hanoi'") == [(0,)],
              "a sensor key's alerts store nothing")
        check(q(db, "select role, last_seq from sensors where name = 'thief'")
              == [("sensor", 1)], "still a sensor, its chain moved on")
        check("enrolled as a sensor" in open(corr_err.name).read(),
              "the refused batch is logged")

        # 11. on a database without forwarded incidents, origin is null
        q(db, "insert into incidents (rule_id, severity, agency, first_seen,"
              " last_seen, count, created_at, updated_at) values ('local', 1,"
              " 'hanoi', 1, 1, 1, 1, 1)")
        local = [i for i in json.loads(ctl("incidents", "--json").stdout)
                 if i["rule"]["id"] == "local"]
        check(len(local) == 1 and "origin" in local[0] and local[0]["origin"] is None,
              "a locally raised incident has origin null")
        p.close()
        check(corr.poll() is None, "the national correlator survived the province")
    finally:
        zctx.destroy(linger=0)
        stop(corr)
        corr_err.seek(0)
        text = corr_err.read()
        sanitizer_clean(text, "correlator")
        if done_failed():
            print(text[-4000:], file=sys.stderr)
    return done()


def done_failed():
    from soctest import counts
    return counts["failed"] > 0


if __name__ == "__main__":
    sys.exit(main())
