#!/usr/bin/env python3
"""Notifications (issue 20) against real local servers: an SMTP server
(aiosmtpd, Debian's python3-aiosmtpd) and an HTTP listener (http.server
in a thread), with the real sensor and correlator; no mock.

- a responder address with a newline (or a webhook that is not http(s))
  is refused by `socctl responder add`, with a clear error;
- an SSH brute force from a syslog line raises a high incident of agency
  stttt: its responder (An) gets an e-mail with the incident summary and
  a Message-ID made from the stable id, its webhook gets the incident
  JSON, its command gets the JSON on stdin, and the responder of the
  parent agency (Lead) is mailed too (the agency subtree);
- a webhook answering 500 and then 200 is retried and delivered once
  with its stable id;
- a webhook that hangs times out (notify.timeout_s) while mail is
  delivered meanwhile, and is retried;
- the correlator killed (SIGKILL) with rows pending (the hanging webhook
  in flight, a test queued while it is down) sends them after a restart,
  with the same ids;
- `socctl notify status --json` counts; `socctl notify test` reports;
- deadline escalation: half of the initial report's time gone notifies
  the agency's responders again (once), overdue notifies notify.lead.
"""
import email
import email.policy
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soctest import (CORR, SENSOR, SOCCTL, SRC, check, done, free_port,  # noqa: E402
                     run, sanitizer_clean, stop, wait_port, wait_until,
                     need_aiosmtpd)

need_aiosmtpd()
from aiosmtpd.controller import Controller  # noqa: E402


class Mailbox:
    """aiosmtpd handler: every message, parsed."""

    def __init__(self):
        self.msgs = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        m = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.msgs.append((envelope.mail_from, list(envelope.rcpt_tos), m))
        return "250 OK"

    def to(self, rcpt, text=None):
        with self.lock:
            return [m for f, r, m in self.msgs if rcpt in r and
                    (text is None or text in str(m["Subject"]))]


class Hooks:
    """What the HTTP listener saw, and the hanging endpoint's gate."""

    def __init__(self):
        self.reqs = []            # (path, key, body, code)
        self.lock = threading.Lock()
        self.flaky_seen = set()
        self.release = threading.Event()
        self.hanging = 0


def make_handler(h):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            key = self.headers.get("X-SOC-Notification-Id", "")
            code = 200
            if self.path == "/flaky":
                with h.lock:
                    code = 200 if key in h.flaky_seen else 500
                    h.flaky_seen.add(key)
            elif self.path == "/dead":
                code = 500
            elif self.path == "/hang" and not h.release.is_set():
                with h.lock:
                    h.hanging += 1
                h.release.wait(120)
                code = 599           # too late: the sender gave up the wait
            with h.lock:
                h.reqs.append((self.path, key, body, code))
            try:
                self.send_response(code if code != 599 else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass

    return Handler


def main():
    tmp = tempfile.mkdtemp(prefix="soc-notify-")
    db = os.path.join(tmp, "soc.db")
    out = os.path.join(tmp, "cmd")
    os.mkdir(out)

    def ctl(*a, ok=True):
        return run(SOCCTL, "--db", db, *a, ok=ok)

    for name in ("correlator", "gw1"):
        ctl("keygen", "--out", os.path.join(tmp, name))
    ctl("agency", "add", "prov", "--name", "Province")
    ctl("agency", "add", "stttt", "--name", "So TT&TT", "--parent", "prov")
    ctl("sensor", "enroll", "gw1", "--agency", "stttt", "--key",
        os.path.join(tmp, "gw1.pub"))

    box = Mailbox()
    smtp_port = free_port()
    smtp = Controller(box, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    hooks = Hooks()
    http_port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.1", http_port), make_handler(hooks))
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{http_port}"

    # refused contacts: clear errors, nothing written
    r = ctl("responder", "add", "stttt", "Bad", "--email",
            "bad@example.org\nBcc: all@example.org", ok=False)
    check(r.returncode != 0 and "newline" in r.stderr,
          f"an address with a newline is refused: {r.stderr!r}")
    r = ctl("responder", "add", "stttt", "Bad", "--webhook", "file:///etc/passwd",
            ok=False)
    check(r.returncode != 0 and "http" in r.stderr,
          f"a webhook that is not http(s) is refused: {r.stderr!r}")
    check("Bad" not in ctl("responder", "list").stdout, "nothing written")

    ctl("responder", "add", "stttt", "An", "--email", "an@example.org",
        "--webhook", base + "/ok",
        "--command", f"cat > {out}/\"$SOC_NOTIFICATION_ID\".json")
    # set: a contact changed, checked the same way
    ctl("responder", "add", "stttt", "Flaky", "--email", "flaky@example.org")
    r = ctl("responder", "set", "stttt", "Flaky", "--email", "x@y.z\r\nBcc: q@y.z",
            ok=False)
    check(r.returncode != 0 and "carriage return" in r.stderr,
          f"set refuses a CR too: {r.stderr!r}")
    ctl("responder", "set", "stttt", "Flaky", "--email", "",
        "--webhook", base + "/flaky")
    ctl("responder", "add", "stttt", "Hang", "--webhook", base + "/hang")
    ctl("responder", "add", "stttt", "Dead", "--webhook", base + "/dead")
    ctl("responder", "add", "prov", "Lead", "--email", "lead@example.org")

    rules = os.path.join(tmp, "rules")
    os.mkdir(rules)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), rules)
    shutil.copy(os.path.join(SRC, "rules", "linux", "ssh-bruteforce.yml"), rules)
    port = free_port()
    cfg = os.path.join(tmp, "corr.yml")
    with open(cfg, "w") as f:
        f.write(f"""db: {db}
rules: {rules}
key: {tmp}/correlator.key
bind: tcp://127.0.0.1:{port}
notify:
  smtp: smtp://127.0.0.1:{smtp_port}
  from: soc@example.org
  min_severity: high
  lead: prov/Lead
  timeout_s: 3
  backoff_s: 1
  max_attempts: 4
  escalate_s: 1
""")
    logs = []

    def start_corr():
        log = open(os.path.join(tmp, f"corr{len(logs)}.err"), "w+")
        logs.append(log)
        p = subprocess.Popen([CORR, "-c", cfg], stdout=log,
                             stderr=subprocess.STDOUT)
        check(wait_port(port, p), "correlator listens")
        return p

    corr = start_corr()
    udp = free_port(socket.SOCK_DGRAM)
    scfg = os.path.join(tmp, "sensor.yml")
    with open(scfg, "w") as f:
        f.write(f"""name: gw1
connect: tcp://127.0.0.1:{port}
server_key: {tmp}/correlator.pub
key: {tmp}/gw1.key
output: uplink
syslog:
  udp: 127.0.0.1:{udp}
uplink:
  batch_ms: 100
  heartbeat_s: 1
""")
    serr = open(os.path.join(tmp, "sensor.err"), "w+")
    sensor = subprocess.Popen([SENSOR, "-c", scfg], stdout=subprocess.DEVNULL,
                              stderr=serr)

    def sql(q, *a):
        con = sqlite3.connect(db, timeout=10)
        try:
            return con.execute(q, a).fetchall()
        finally:
            con.close()

    def rows(where="1", *a):
        return sql("select key, responder, channel, state, attempts, "
                   "last_error, reason from notify_outbox where " + where, *a)

    try:
        def serr_text():
            serr.seek(0)
            return serr.read()
        wait_until(lambda: "listening" in serr_text(), "sensor listens", 20)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(10):
            t = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            u.sendto(f"<38>1 {t} h1 sshd 12 - - Failed password for root "
                     f"from 10.66.0.1 port {4000 + i} ssh2".encode(),
                     ("127.0.0.1", udp))
        check(wait_until(lambda: sql("select count(*) from incidents where "
                                     "severity >= 3")[0][0] > 0,
                         "a high incident", 60), "the brute force raises a high incident")
        inc = sql("select id from incidents where severity >= 3")[0][0]
        check(not rows("incident_id in (select id from incidents where "
                       "severity < 3)"), "low incidents notify nobody (min_severity high)")
        # mail to the agency's responder, and to the parent agency's
        check(wait_until(lambda: box.to("an@example.org"), "mail to An", 60),
              "An is mailed")
        m = box.to("an@example.org")[0]
        key = [k for k, r_, c, *_ in rows("incident_id = ?", inc)
               if r_ == "stttt/An" and c == "email"][0]
        check(f"#{inc}" in str(m["Subject"]) and "high" in str(m["Subject"]),
              f"subject names the incident: {m['Subject']}")
        check(m["Message-ID"] == f"<{key}@example.org>",
              f"Message-ID from the stable id: {m['Message-ID']} vs {key}")
        check(m["From"] == "soc@example.org", f"From: {m['From']}")
        text = m.get_content()
        check("Agency: stttt" in text and "10.66.0.1" in text and key in text,
              f"the body summarises the incident: {text!r}")
        check(wait_until(lambda: box.to("lead@example.org"), "mail to Lead", 30),
              "the parent agency's responder is mailed too")
        # the hanging webhook is blocked while the mail went through
        wait_until(lambda: hooks.hanging >= 1, "the hanging webhook is called", 30)
        check(hooks.hanging >= 1 and box.to("an@example.org") and
              not hooks.release.is_set(),
              "mail delivered while a webhook hangs")
        # the webhook got the JSON
        wait_until(lambda: [r_ for r_ in hooks.reqs if r_[0] == "/ok"],
                   "webhook /ok", 30)
        ok = [r_ for r_ in hooks.reqs if r_[0] == "/ok"]
        doc = json.loads(ok[0][2])
        check(doc["incident"]["id"] == inc and doc["incident"]["agency"] == "stttt"
              and doc["incident"]["severity"] == "high" and
              doc["notification_id"] == ok[0][1] and doc["reason"] == "opened",
              f"webhook JSON: {doc}")
        # the command got it on stdin
        wait_until(lambda: os.listdir(out), "the command ran", 30)
        f0 = os.listdir(out)[0]
        with open(os.path.join(out, f0)) as f:
            cdoc = json.load(f)
        check(cdoc["incident"]["id"] == inc and f0 == cdoc["notification_id"] +
              ".json", f"command got the JSON and the id: {f0}")
        # 500, then 200: delivered once with its stable id
        check(wait_until(lambda: [r_ for r_ in hooks.reqs if r_[0] == "/flaky"
                                  and r_[3] == 200], "flaky delivered", 30),
              "a webhook answering 500 then 200 is delivered")
        fl = [r_ for r_ in hooks.reqs if r_[0] == "/flaky"]
        check(len({r_[1] for r_ in fl}) == 1 and [r_[3] for r_ in fl] == [500, 200],
              f"one id, one 500, one 200: {[(r_[1], r_[3]) for r_ in fl]}")
        # (the listener saw the 200 before the sender recorded it)
        wait_until(lambda: rows("responder = 'stttt/Flaky'")[0][3] == "sent",
                   "flaky recorded", 30)
        frow = rows("responder = 'stttt/Flaky'")[0]
        check(frow[3] == "sent" and frow[4] == 2, f"flaky row: {frow}")
        # the hanging one timed out and is retried
        check(wait_until(lambda: any("imed out" in r_[5] for r_ in
                                     rows("responder = 'stttt/Hang'")),
                         "hang times out", 30),
              f"the hanging webhook timed out: {rows('responder = ' + repr('stttt/Hang'))}")
        # SIGKILL with the hanging webhook in flight again, a test queued
        # while down: both sent after the restart, with the same ids
        # (at its second attempt, far from notify.max_attempts)
        wait_until(lambda: hooks.hanging >= 2, "the hang is retried", 30)
        hang_key = rows("responder = 'stttt/Hang'")[0][0]
        corr.send_signal(signal.SIGKILL)
        corr.wait()
        check(rows("responder = 'stttt/Hang'")[0][3] in ("pending", "retrying"),
              "the hanging row is not sent")
        r = ctl("notify", "test", "prov/Lead", "--wait", "0")
        test_key = rows("responder = 'prov/Lead' and reason = 'test'")[0][0]
        hooks.release.set()
        # from now on webhooks get a chat-style body (Slack, Mattermost,
        # Telegram read "text")
        with open(cfg, "a") as f:
            f.write("  webhook_template: '{\"text\": \"$text\", "
                    "\"notification_id\": \"$notification_id\", "
                    "\"incident\": $incident}'\n")
        corr = start_corr()
        check(wait_until(lambda: rows("key = ?", hang_key)[0][3] == "sent",
                         "hang sent after restart", 60),
              f"the pending webhook is sent after the restart: "
              f"{rows('key = ?', hang_key)}")
        hb = [r_ for r_ in hooks.reqs if r_[1] == hang_key and r_[3] == 200]
        check(hb, "with its stable id")
        tdoc = json.loads(hb[0][2]) if hb else {}
        check(set(tdoc) == {"text", "notification_id", "incident"} and
              tdoc["notification_id"] == hang_key and
              f"#{inc}" in tdoc["text"] and tdoc["incident"]["id"] == inc,
              f"the template makes the body: {tdoc}")
        st = json.loads(ctl("notify", "status", "--json").stdout)
        check(st["configured"] and st["smtp"] == f"smtp://127.0.0.1:{smtp_port}"
              and st["counters"]["sent"] >= 5 and st["counters"]["failed"] >= 2
              and st["outbox"]["sent"] >= 5 and
              st["outbox"]["retrying"] + st["outbox"]["pending"] +
              st["outbox"]["given_up"] >= 1 and
              st["errors"], f"notify status: {st}")
        # notify test through the running sender
        r = ctl("notify", "test", "stttt/An", "--wait", "60s", ok=False)
        check(r.returncode == 0 and "email an@example.org: sent" in r.stdout
              and "webhook " + base + "/ok: sent" in r.stdout,
              f"notify test reports each contact sent: {r.stdout!r}")
        check(wait_until(lambda: box.to("an@example.org", "test"), "test mail",
                         30), "the test mail arrives")
        # a webhook answering 500 forever is given up, counted
        check(wait_until(lambda: rows("responder = 'stttt/Dead' and "
                                      "state = 'given_up'"), "dead given up", 60),
              f"a webhook answering 500 forever is given up: "
              f"{rows('responder = ' + repr('stttt/Dead'))}")
        dead = rows("responder = 'stttt/Dead' and reason = 'opened'")[0]
        check(dead[4] == 4 and dead[5] == "HTTP 500", f"after 4 attempts: {dead}")
        check(json.loads(ctl("notify", "status", "--json").stdout)
              ["counters"]["given_up"] >= 1, "given up is counted")
        check(wait_until(lambda: box.to("lead@example.org", "test"),
                         "queued test mail", 60),
              "a row queued while the correlator was down is sent")
        lm = box.to("lead@example.org", "test")[0]
        check(lm["Message-ID"] == f"<{test_key}@example.org>", "same id")
        # deadline escalation: half of the initial time gone, then overdue
        age = (time.time_ns() - sql("select created_at from incidents "
                                    "where id = ?", inc)[0][0]) // 10**9
        ctl("deadline", "set", "high", "--initial", f"{2 * age + 8}s")
        check(wait_until(lambda: rows("reason = 'half-initial' and responder = "
                                      "'stttt/An'"), "half escalation", 30),
              "half of the initial time: the agency's responders again")
        check(wait_until(lambda: rows("reason = 'overdue-initial'"),
                         "overdue escalation", 60),
              "overdue: the lead")
        ov = rows("reason = 'overdue-initial'")
        check({r_[1] for r_ in ov} == {"prov/Lead"}, f"overdue to the lead only: {ov}")
        check(wait_until(lambda: [m_ for m_ in box.to("lead@example.org",
                                                      "overdue")
                                  if "OVERDUE" in m_.get_content()],
                         "overdue mail", 30),
              "the lead is mailed that the report is overdue")
        n_half = len(rows("reason = 'half-initial'"))
        wait_until(lambda: sql("select escalations from notify_state")[0][0] >= 2,
                   "escalations counted", 10)
        esc = sql("select count(*) from notify_escalations")[0][0]
        check(esc == 2 and n_half == len(rows("reason = 'half-initial'")),
              f"each escalation once: {esc}")
        # an SMTP server that accepts and drops: the attempt fails with
        # a reason, is counted, and nothing hangs
        drop = socket.socket()
        drop.bind(("127.0.0.1", 0))
        drop.listen(16)

        def dropper():
            while True:
                try:
                    c, _ = drop.accept()
                except OSError:
                    return
                c.close()
        threading.Thread(target=dropper, daemon=True).start()
        rc = stop(corr)
        check(rc == 0, f"correlator exits 0, got {rc}")
        with open(cfg) as f:
            text = f.read()
        with open(cfg, "w") as f:
            f.write(text.replace(f"smtp://127.0.0.1:{smtp_port}",
                                 f"smtp://127.0.0.1:{drop.getsockname()[1]}"))
        failed = json.loads(ctl("notify", "status", "--json").stdout)["counters"]["failed"]
        corr = start_corr()
        r = ctl("notify", "test", "prov/Lead", "--wait", "60s", ok=False)
        check(r.returncode == 1 and "email lead@example.org: retrying (" in r.stdout,
              f"an SMTP server that drops: a failed attempt with its reason: {r.stdout!r}")
        check(json.loads(ctl("notify", "status", "--json").stdout)["counters"]
              ["failed"] > failed, "counted")
        drop.close()
    finally:
        rc = stop(sensor)
        check(rc == 0, f"sensor exits 0, got {rc}")
        rc = stop(corr)
        for log in logs:
            log.seek(0)
            t = log.read()
            sanitizer_clean(t, "correlator")
        check(rc == 0, f"correlator exits 0, got {rc}")
        hooks.release.set()
        httpd.shutdown()
        smtp.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
