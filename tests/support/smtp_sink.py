#!/usr/bin/python3
"""A real SMTP server for the e2e tests (Debian's python3-aiosmtpd).

Usage: smtp_sink.py PORT DIRECTORY [--tls CERT KEY] [--auth USER PASSWORD]

Accepts every message on 127.0.0.1:PORT and writes each one to DIRECTORY as a JSON file
(envelope sender and recipients, decoded Subject, Message-ID, headers and decoded text body,
whether it came over TLS and the AUTH user) so that tests can check exactly what arrived. With
--tls the server offers STARTTLS with that certificate and refuses mail before it; with --auth it
requires AUTH (PLAIN or LOGIN, only over TLS) with that user and password. Writes DIRECTORY/ready
once it listens; exits on SIGTERM.
"""
import email
import email.policy
import json
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(("plain",))
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "subject": str(message["subject"]),
            "message_id": str(message["message-id"]),
            "headers": {name.lower(): str(value) for name, value in message.items()},
            "body": body.get_content() if body is not None else "",
            "tls": session.ssl is not None,
            "auth_user": login.decode() if login is not None else None,
        }
        with self.lock:
            self.count += 1
            name = "mail-%06d.json" % self.count
        path = os.path.join(self.directory, name)
        with open(path + ".tmp", "w", encoding="utf-8") as out:
            json.dump(record, out, ensure_ascii=False)
        os.rename(path + ".tmp", path)  # readers never see half a file
        return "250 OK"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return check


def main():
    args = sys.argv[1:]
    port, directory = int(args[0]), args[1]
    options = {}
    rest = args[2:]
    while rest:
        if rest[0] == "--tls":
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(rest[1], rest[2])
            options.update(tls_context=context, require_starttls=True)
            rest = rest[3:]
        elif rest[0] == "--auth":
            options.update(authenticator=authenticator(rest[1], rest[2]), auth_required=True,
                           auth_require_tls=True)
            rest = rest[3:]
        else:
            sys.exit("smtp_sink.py: unknown argument " + rest[0])
    os.makedirs(directory, exist_ok=True)
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port, **options)
    controller.start()
    with open(os.path.join(directory, "ready"), "w", encoding="utf-8") as out:
        out.write("127.0.0.1:%d\n" % port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
