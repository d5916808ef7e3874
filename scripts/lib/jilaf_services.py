"""The four service binaries on free ports, for the Python tests that drive them over HTTP.

One place for what the browser test and the Schemathesis run both need: a fresh development key
pair and field key, tokens minted with tools/jilaf-token, each service started with its own
database in a work directory, waited for on /readyz, and stopped. Each caller adds the flags that
are particular to it (a broker, CORS origins, rate limits).
"""

import os

from jilaf_procs import credentials, free_port, poll, start, stop, wait_ready  # noqa: F401

SERVICES = ("invitations", "projects", "missions", "notifications")


class FourServices:
    """Starts the four services; `api[name]` and `admin[name]` are their base URLs and
    `tokens[role]` a token of each role asked for (subject `<subject>-<role>`)."""

    def __init__(self, build_dir, work, brokers, roles, subject, extra_args=None):
        self.work = work
        self.procs = {}
        self.api = {}
        self.admin = {}
        self.admin_ports = {}
        self.public, field_key, self.tokens = credentials(work, build_dir, roles,
                                                          f"{subject}-{{role}}")
        try:
            for name in SERVICES:
                http_port, admin_port = free_port(), free_port()
                args = [os.path.join(build_dir, "services", name, f"jilaf-{name}"),
                        "--listen-address", "127.0.0.1", "--http-port", str(http_port),
                        "--admin-port", str(admin_port),
                        "--db", os.path.join(work, f"{name}.db"),
                        "--kafka-brokers", brokers, "--jwt-public-key", self.public,
                        "--drain-timeout-ms", "2000"]
                if name in ("invitations", "notifications"):
                    args += ["--field-key-file", field_key]
                args += (extra_args or {}).get(name, [])
                self.procs[name] = start(args, os.path.join(work, f"{name}.log"),
                                         own_session=False)
                self.api[name] = f"http://127.0.0.1:{http_port}"
                self.admin[name] = f"http://127.0.0.1:{admin_port}"
                self.admin_ports[name] = admin_port
            for name in SERVICES:
                wait_ready(self.procs[name], self.admin_ports[name], name,
                           os.path.join(work, f"{name}.log"), timeout=90)
        except BaseException:
            self.stop()
            raise

    def stop(self):
        stop(self.procs.values())
