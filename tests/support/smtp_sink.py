#!/usr/bin/python3
"""A real SMTP server for the e2e tests (Debian's python3-aiosmtpd).

Usage: smtp_sink.py PORT DIRECTORY

Accepts every message on 127.0.0.1:PORT and writes each one to DIRECTORY as a JSON file
(envelope sender and recipients, decoded Subject, Message-ID, headers and decoded text body) so
that tests can check exactly what arrived. Writes DIRECTORY/ready once it listens; exits on
SIGTERM.
"""
import email
import email.policy
import json
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "subject": str(message["subject"]),
            "message_id": str(message["message-id"]),
            "headers": {name.lower(): str(value) for name, value in message.items()},
            "body": body.get_content() if body is not None else "",
        }
        with self.lock:
            self.count += 1
            name = "mail-%06d.json" % self.count
        path = os.path.join(self.directory, name)
        with open(path + ".tmp", "w", encoding="utf-8") as out:
            json.dump(record, out, ensure_ascii=False)
        os.rename(path + ".tmp", path)  # readers never see half a file
        return "250 OK"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
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
