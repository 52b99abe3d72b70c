#!/usr/bin/env python3
"""Per-responder webhook templates (issue 20, docs/NOTIFY.md "Webhook"),
with the real correlator and a real HTTP listener on loopback;
`socctl notify test` drives the sender, the same path incidents take.

- `socctl responder add/set --template NAME` (json, slack, mattermost,
  telegram, custom) is stored and listed; an unknown name is refused and
  "" goes back to the route's;
- with notify.webhook_template holding a body, a responder without a
  template gets that body; one naming slack or mattermost gets
  {"text": ...}; telegram gets sendMessage's body with the chat id kept
  in the URL's query string; json gets the notification JSON;
- notify.webhook_template naming a template (telegram) makes it the
  route's default, while a responder's own template still wins; a
  responder naming custom when there is no body fails with the reason;
  an unknown name in notify.webhook_template is refused by -t;
- notify.keep: at start the sender deletes a sent row older than 30 days
  (counted in `notify status`), keeps a younger one, and sends (does not
  delete) an old row still pending.
No timed asserts: each wait ends on the awaited state, with a ceiling.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soctest import (CORR, SOCCTL, SRC, check, done, free_port,  # noqa: E402
                     run, sanitizer_clean, stop, wait_port, wait_until)


class Hooks:
    def __init__(self):
        self.reqs = []
        self.lock = threading.Lock()

    def by_key(self, key):
        with self.lock:
            return [(p, b) for p, k, b in self.reqs if k == key]


def make_handler(h):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            with h.lock:
                h.reqs.append((self.path, self.headers.get(
                    "X-SOC-Notification-Id", ""), body))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
    return Handler


def main():
    tmp = tempfile.mkdtemp(prefix="soc-notify-tpl-")
    db = os.path.join(tmp, "soc.db")

    def ctl(*a, ok=True):
        return run(SOCCTL, "--db", db, *a, ok=ok)

    hooks = Hooks()
    http_port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.1", http_port), make_handler(hooks))
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{http_port}"

    ctl("keygen", "--out", os.path.join(tmp, "correlator"))
    ctl("agency", "add", "stttt", "--name", "So TT&TT")
    r = ctl("responder", "add", "stttt", "Bad", "--webhook", base + "/x",
            "--template", "slak", ok=False)
    check(r.returncode != 0 and "telegram" in r.stderr,
          f"an unknown template is refused with the names: {r.stderr!r}")
    check("Bad" not in ctl("responder", "list").stdout, "nothing written")
    ctl("responder", "add", "stttt", "Def", "--webhook", base + "/def")
    ctl("responder", "add", "stttt", "Slack", "--webhook", base + "/slack",
        "--template", "slack")
    ctl("responder", "add", "stttt", "Mm", "--webhook", base + "/mm",
        "--template", "json")
    ctl("responder", "set", "stttt", "Mm", "--template", "mattermost")
    tg_url = base + "/bot123:ABC/sendMessage?chat_id=-1001234"
    ctl("responder", "add", "stttt", "Tg", "--webhook", tg_url,
        "--template", "telegram")
    ctl("responder", "add", "stttt", "Js", "--webhook", base + "/js",
        "--template", "json")
    ctl("responder", "add", "stttt", "Cu", "--webhook", base + "/cu",
        "--template", "custom")
    ctl("responder", "add", "stttt", "Cleared", "--webhook", base + "/cl",
        "--template", "slack")
    r = ctl("responder", "set", "stttt", "Cleared", "--template", "bogus",
            ok=False)
    check(r.returncode != 0, "set refuses an unknown template too")
    ctl("responder", "set", "stttt", "Cleared", "--template", "")
    lst = {x["name"]: x for x in json.loads(ctl("responder", "list",
                                                "--json").stdout)}
    check(lst["Slack"]["template"] == "slack" and lst["Mm"]["template"] ==
          "mattermost" and lst["Tg"]["template"] == "telegram" and
          lst["Def"]["template"] is None and lst["Cleared"]["template"] is None
          and lst["Mm"]["webhook"] == base + "/mm",
          f"responder list shows the templates: {lst}")
    check("TEMPLATE" in ctl("responder", "list").stdout, "a TEMPLATE column")

    rules = os.path.join(tmp, "rules")
    os.mkdir(rules)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), rules)
    port = free_port()
    cfg = os.path.join(tmp, "corr.yml")
    logs = []

    def write_cfg(tpl):
        with open(cfg, "w") as f:
            f.write(f"""db: {db}
rules: {rules}
key: {tmp}/correlator.key
bind: tcp://127.0.0.1:{port}
notify:
  webhook_template: '{tpl}'
  timeout_s: 10
  backoff_s: 1
  max_attempts: 1
  keep: 30d
""")

    def start():
        log = open(os.path.join(tmp, f"corr{len(logs)}.err"), "w+")
        logs.append(log)
        p = subprocess.Popen([CORR, "-c", cfg], stdout=log,
                             stderr=subprocess.STDOUT)
        check(wait_port(port, p), "correlator listens")
        return p

    def send(who, ok=True):
        """notify test; (rc, key, [(path, json body)])."""
        r = ctl("notify", "test", "stttt/" + who, "--wait", "60s", ok=False)
        key = r.stdout.rsplit("[", 1)[-1].split("]")[0] if "[" in r.stdout else ""
        got = [(p, json.loads(b)) for p, b in hooks.by_key(key)]
        check((r.returncode == 0) == ok, f"notify test {who}: {r.stdout!r}")
        return r, key, got

    def outbox():
        con = sqlite3.connect(db, timeout=10)
        try:
            return con.execute("select responder, state from "
                               "notify_outbox").fetchall()
        finally:
            con.close()

    def status():
        return json.loads(ctl("notify", "status", "--json").stdout)

    con = sqlite3.connect(db)
    js_id = con.execute("select id from responders where name = 'Js'"
                        ).fetchone()[0]
    con.close()
    corr = None
    try:
        write_cfg("slak")
        r = run(CORR, "-t", "-c", cfg, ok=False)
        check(r.returncode != 0 and "notify.webhook_template" in r.stderr,
              f"-t refuses an unknown template name: {r.stderr!r}")

        # 1. the route's template is a body
        write_cfg('{"msg": "$subject", "sev": "$severity", "who": "$responder"}')
        corr = start()
        _, k, got = send("Def")
        check(len(got) == 1 and got[0][1] == {
            "msg": "[SOC] test notification to stttt/Def", "sev": "",
            "who": "stttt/Def"}, f"no template: the route's body: {got}")
        for who, path in (("Slack", "/slack"), ("Mm", "/mm")):
            _, k, got = send(who)
            check(len(got) == 1 and got[0][0] == path and
                  set(got[0][1]) == {"text"} and
                  got[0][1]["text"].startswith(f"[SOC] test notification to "
                                               f"stttt/{who}\n") and
                  k in got[0][1]["text"],
                  f"{who}: {{\"text\": ...}} with the id: {got}")
        _, k, got = send("Tg")
        check(len(got) == 1 and got[0][0] == tg_url[len(base):] and
              set(got[0][1]) == {"text", "disable_web_page_preview"} and
              k in got[0][1]["text"],
              f"telegram: sendMessage's body, the chat id in the URL: {got}")
        _, k, got = send("Js")
        check(len(got) == 1 and got[0][1].get("notification_id") == k and
              got[0][1].get("incident", 1) is None and
              got[0][1].get("responder") == "stttt/Js",
              f"json: the notification JSON: {got}")
        _, k, got = send("Cu")
        check(len(got) == 1 and set(got[0][1]) == {"msg", "sev", "who"},
              f"custom: the route's body: {got}")
        _, k, got = send("Cleared")
        check(len(got) == 1 and set(got[0][1]) == {"msg", "sev", "who"},
              f"a cleared template: the route's again: {got}")
        check(stop(corr) == 0, "correlator exits 0")

        # (notify.keep) the sender prunes finished rows older than 30
        # days at start: Def's row made 40 days old goes, Slack's 10 days
        # old stays, and an old row still pending is sent, not pruned
        day = 86400 * 10**9
        con = sqlite3.connect(db, timeout=10)
        with con:
            con.execute("update notify_outbox set sent_at = sent_at - ?, "
                        "created_at = created_at - ?, next_at = next_at - ? "
                        "where responder = 'stttt/Def'", (40 * day,) * 3)
            con.execute("update notify_outbox set sent_at = sent_at - ? "
                        "where responder = 'stttt/Slack'", (10 * day,))
            con.execute("insert into notify_outbox (key, responder_id, "
                        "responder, channel, target, reason, next_at, "
                        "created_at) select 'soc-test-old-' || id, id, "
                        "'stttt/Js', 'webhook', ?, 'test', ?, ? from "
                        "responders where name = 'Js'", (base + "/old",
                        time.time_ns() - 40 * day, time.time_ns() - 40 * day))
        con.close()
        n_before = len(outbox())

        # 2. the route names a template
        write_cfg("telegram")
        corr = start()
        check(wait_until(lambda: status()["counters"]["pruned"] == 1,
                         "pruned", 60), f"one row pruned: {status()}")
        left = outbox()
        check(len(left) == n_before - 1 and
              not [1 for r_, _ in left if r_ == "stttt/Def"] and
              [1 for r_, _ in left if r_ == "stttt/Slack"],
              f"Def's old row is gone, Slack's is kept: {left}")
        check(wait_until(lambda: hooks.by_key("soc-test-old-" + str(js_id)),
                         "old pending sent", 60),
              "an old pending row is sent, not pruned")
        _, k, got = send("Def")
        check(len(got) == 1 and set(got[0][1]) == {"text",
                                                  "disable_web_page_preview"},
              f"the route's named template: {got}")
        _, k, got = send("Slack")
        check(len(got) == 1 and set(got[0][1]) == {"text"},
              f"the responder's own template wins: {got}")
        r, k, got = send("Cu", ok=False)
        check(not got and "holds no template body" in r.stdout,
              f"custom without a body: failed with the reason: {r.stdout!r}")
        check(stop(corr) == 0, "correlator exits 0")
        corr = None
    finally:
        if corr is not None:
            stop(corr)
        httpd.shutdown()
    for log in logs:
        log.seek(0)
        sanitizer_clean(log.read(), "correlator")
    import soctest
    if not soctest.counts["failed"]:
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
