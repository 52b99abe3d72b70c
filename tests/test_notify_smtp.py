#!/usr/bin/env python3
"""SMTP login and trust for e-mail notifications (issue 20, docs/NOTIFY.md
"E-mail"), against real aiosmtpd servers (Debian's python3-aiosmtpd) on
loopback and the real correlator; `socctl notify test` drives the sender.

- notify.smtp_user + notify.smtp_password_file: the login is accepted by
  a server that requires AUTH (the authenticator sees the user and the
  password from the file's first line), and the mail is delivered;
- the password is not sent without TLS: a server that offers no STARTTLS
  gets no AUTH at all (a failed attempt with the reason) unless
  notify.smtp_insecure_login is set;
- a wrong password is a failed attempt, retried after the backoff and
  given up after notify.max_attempts, counted in `notify status`;
- a STARTTLS server with a self-signed certificate (made here with
  `openssl req`) is refused without notify.smtp_ca_file (no AUTH sent)
  and trusted with it (the message goes over TLS);
- the password is never in the correlator's log, `-t` output or
  `socctl notify status`; a URL with user:password@ is refused by `-t`
  without echoing it; a world-readable password file is refused.
No timed asserts: each wait ends on the awaited state, with a ceiling.
"""
import email
import email.policy
import json
import os
import shutil
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soctest import (CORR, SOCCTL, SRC, check, done, free_port,  # noqa: E402
                     run, sanitizer_clean, stop, wait_port, wait_until,
                     need_aiosmtpd)

need_aiosmtpd()
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

PASSWORD = "Pa55-s3cret-8c1f"
WRONG = "wrong-0a9d77"


class Mailbox:
    def __init__(self):
        self.msgs = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        m = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.msgs.append((list(envelope.rcpt_tos), m,
                              session.ssl is not None, server.__class__))
        return "250 OK"

    def count(self):
        with self.lock:
            return len(self.msgs)


class Auth:
    """An aiosmtpd authenticator that records every login it is given."""

    def __init__(self):
        self.seen = []
        self.lock = threading.Lock()

    def __call__(self, server, session, envelope, mechanism, data):
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False)
        user, pw = data.login.decode(), data.password.decode()
        with self.lock:
            self.seen.append((user, pw, session.ssl is not None))
        return AuthResult(success=(user == "soc" and pw == PASSWORD))

    def logins(self):
        with self.lock:
            return list(self.seen)


def main():
    tmp = tempfile.mkdtemp(prefix="soc-notify-smtp-")
    db = os.path.join(tmp, "soc.db")

    def ctl(*a, ok=True):
        return run(SOCCTL, "--db", db, *a, ok=ok)

    ctl("keygen", "--out", os.path.join(tmp, "correlator"))
    ctl("agency", "add", "stttt", "--name", "So TT&TT")
    ctl("responder", "add", "stttt", "An", "--email", "an@example.org")
    rules = os.path.join(tmp, "rules")
    os.mkdir(rules)
    shutil.copy(os.path.join(SRC, "rules", "mapping.yml"), rules)

    # a self-signed certificate for 127.0.0.1
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                        "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"SKIP: openssl req failed: {r.stderr}")
        return 77
    pwfile, badfile = os.path.join(tmp, "smtp.pw"), os.path.join(tmp, "bad.pw")
    for path, pw in ((pwfile, PASSWORD), (badfile, WRONG)):
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(pw + "\n")

    box, auth = Mailbox(), Auth()
    plain_port, tls_port = free_port(), free_port()
    plain = Controller(box, hostname="127.0.0.1", port=plain_port,
                       authenticator=auth, auth_required=True,
                       auth_require_tls=False)
    sctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    sctx.load_cert_chain(cert, key)
    tls = Controller(box, hostname="127.0.0.1", port=tls_port,
                     authenticator=auth, auth_required=True,
                     tls_context=sctx, require_starttls=True)
    plain.start()
    tls.start()
    port = free_port()
    cfg = os.path.join(tmp, "corr.yml")
    logs = []

    def write_cfg(smtp, pw=pwfile, extra="", attempts=1):
        with open(cfg, "w") as f:
            f.write(f"""db: {db}
rules: {rules}
key: {tmp}/correlator.key
bind: tcp://127.0.0.1:{port}
notify:
  smtp: {smtp}
  from: soc@example.org
  smtp_user: soc
  smtp_password_file: {pw}
  timeout_s: 10
  backoff_s: 1
  max_attempts: {attempts}
{extra}""")

    def start():
        log = open(os.path.join(tmp, f"corr{len(logs)}.err"), "w+")
        logs.append(log)
        p = subprocess.Popen([CORR, "-c", cfg], stdout=log,
                             stderr=subprocess.STDOUT)
        check(wait_port(port, p), "correlator listens")
        return p

    def notify_test():
        r = ctl("notify", "test", "stttt/An", "--wait", "60s", ok=False)
        key = r.stdout.rsplit("[", 1)[-1].split("]")[0] if "[" in r.stdout else ""
        return r, key

    def row(key):
        con = sqlite3.connect(db, timeout=10)
        try:
            return con.execute("select state, attempts, last_error from "
                               "notify_outbox where key = ?", (key,)).fetchone()
        finally:
            con.close()

    def status():
        return json.loads(ctl("notify", "status", "--json").stdout)

    plain_url = f"smtp://127.0.0.1:{plain_port}"
    tls_url = f"smtp://127.0.0.1:{tls_port}"
    corr = None
    outputs = []
    try:
        # -t: a password in the URL is refused without being echoed; a
        # world-readable password file is refused; a good one passes
        write_cfg(f"smtp://soc:{PASSWORD}@127.0.0.1:{plain_port}")
        r = run(CORR, "-t", "-c", cfg, ok=False)
        outputs.append(r.stdout + r.stderr)
        check(r.returncode != 0 and "no user or password in the URL" in r.stderr,
              f"-t refuses credentials in notify.smtp: {r.stderr!r}")
        # a password holding '/' (unencoded), and a URL without its
        # scheme: refused too, never echoed
        for url in (f"smtp://soc:{PASSWORD}/x@127.0.0.1:{plain_port}",
                    f"soc:{PASSWORD}@127.0.0.1:{plain_port}"):
            write_cfg(url)
            r = run(CORR, "-t", "-c", cfg, ok=False)
            outputs.append(r.stdout + r.stderr)
            check(r.returncode != 0 and PASSWORD not in r.stdout + r.stderr,
                  f"-t refuses {url.replace(PASSWORD, 'PW')} without echoing it:"
                  f" {r.returncode} {r.stderr.replace(PASSWORD, 'PW')!r}")
        os.chmod(pwfile, 0o644)
        write_cfg(plain_url)
        r = run(CORR, "-t", "-c", cfg, ok=False)
        outputs.append(r.stdout + r.stderr)
        check(r.returncode != 0 and "readable by everyone" in r.stderr,
              f"-t refuses a world-readable password file: {r.stderr!r}")
        os.chmod(pwfile, 0o600)
        r = run(CORR, "-t", "-c", cfg, ok=False)
        outputs.append(r.stdout + r.stderr)
        check(r.returncode == 0 and "configuration OK" in r.stdout,
              f"-t accepts the login settings: {r.stdout!r} {r.stderr!r}")
        write_cfg(plain_url, pw=os.path.join(tmp, "missing.pw"))
        r = run(CORR, "-t", "-c", cfg, ok=False)
        check(r.returncode != 0 and "missing.pw" in r.stderr,
              f"-t names a missing password file: {r.stderr!r}")

        # 1. a server without STARTTLS: the password is not sent
        write_cfg(plain_url)
        corr = start()
        r, k1 = notify_test()
        check(r.returncode == 1 and "no STARTTLS" in r.stdout,
              f"no TLS offered: the attempt fails with the reason: {r.stdout!r}")
        check(auth.logins() == [] and box.count() == 0,
              f"no AUTH was sent in clear: {auth.logins()}")
        check(stop(corr) == 0, "correlator exits 0")

        # 2. the same server, clear-text login explicitly allowed
        write_cfg(plain_url, extra="  smtp_insecure_login: true\n")
        corr = start()
        r, k2 = notify_test()
        check(r.returncode == 0 and "email an@example.org: sent" in r.stdout,
              f"login accepted, sent: {r.stdout!r}")
        check(auth.logins() == [("soc", PASSWORD, False)],
              f"the server saw the user and the file's password: {auth.logins()}")
        check(box.count() == 1 and
              box.msgs[0][1]["Message-ID"] == f"<{k2}@example.org>",
              "the mail is delivered with its id")
        check(stop(corr) == 0, "correlator exits 0")

        # 3. a wrong password: failed, retried, given up, counted
        before = status()["counters"]
        write_cfg(plain_url, pw=badfile, extra="  smtp_insecure_login: true\n",
                  attempts=2)
        corr = start()
        r, k3 = notify_test()
        check(r.returncode == 1 and "retrying" in r.stdout,
              f"a refused login is a failed attempt, to retry: {r.stdout!r}")
        check(wait_until(lambda: row(k3)[0] == "given_up", "given up", 60),
              f"given up after notify.max_attempts: {row(k3)}")
        check(row(k3)[1] == 2 and row(k3)[2] != "", f"two attempts: {row(k3)}")
        check([x for x in auth.logins() if x[1] == WRONG] ==
              [("soc", WRONG, False)] * 2, f"the server saw two logins: "
              f"{auth.logins()}")
        after = status()["counters"]
        check(after["failed"] - before["failed"] == 2 and
              after["given_up"] - before["given_up"] == 1,
              f"counted: {before} -> {after}")
        check(box.count() == 1, "nothing delivered")
        check(stop(corr) == 0, "correlator exits 0")

        # 4. STARTTLS with a self-signed certificate, no CA file: refused
        n_auth = len(auth.logins())
        write_cfg(tls_url)
        corr = start()
        r, k4 = notify_test()
        check(r.returncode == 1 and "certificate" in r.stdout.lower(),
              f"the self-signed server is not trusted: {r.stdout!r}")
        check(len(auth.logins()) == n_auth and box.count() == 1,
              "no login and no mail to an untrusted server")
        check(stop(corr) == 0, "correlator exits 0")

        # 5. the same server with notify.smtp_ca_file: trusted, over TLS
        write_cfg(tls_url, extra=f"  smtp_ca_file: {cert}\n")
        corr = start()
        r, k5 = notify_test()
        check(r.returncode == 0 and "email an@example.org: sent" in r.stdout,
              f"trusted with the CA file: {r.stdout!r}")
        check(auth.logins()[n_auth:] == [("soc", PASSWORD, True)],
              f"the login went over TLS: {auth.logins()[n_auth:]}")
        check(box.count() == 2 and box.msgs[1][2] and
              box.msgs[1][1]["Message-ID"] == f"<{k5}@example.org>",
              "the mail is delivered over TLS")
        st = ctl("notify", "status").stdout + ctl("notify", "status", "--json").stdout
        outputs.append(st)
        check(stop(corr) == 0, "correlator exits 0")
        corr = None
    finally:
        if corr is not None:
            stop(corr)
        plain.stop()
        tls.stop()
    for log in logs:
        log.seek(0)
        t = log.read()
        sanitizer_clean(t, "correlator")
        outputs.append(t)
    check(any("SMTP login soc (TLS required)" in t for t in outputs),
          "the log says the login is used, and how")
    check(not any(PASSWORD in t or WRONG in t for t in outputs),
          "the password is in no log, -t output or status")
    import soctest
    if soctest.counts["failed"]:
        for log in logs:
            log.seek(0)
            print(log.read()[-2000:], file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return done()


if __name__ == "__main__":
    sys.exit(main())
