"""The four service binaries on free ports, for the Python tests that drive them over HTTP.

One place for what the browser test and the Schemathesis run both need: a fresh development key
pair and field key, tokens minted with tools/jilaf-token, each service started with its own
database in a work directory, waited for on /readyz, and stopped. Each caller adds the flags that
are particular to it (a broker, CORS origins, rate limits).
"""

import os
import socket
import subprocess
import time

import jilaf_http  # the project's one HTTP client: honours Retry-After

SERVICES = ("invitations", "projects", "missions", "notifications")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll(predicate, what, timeout=90.0):
    """Polls until predicate() is truthy and returns its value; short naps, no fixed waits."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


class FourServices:
    """Starts the four services; `api[name]` and `admin[name]` are their base URLs and
    `tokens[role]` a token of each role asked for (subject `<subject>-<role>`)."""

    def __init__(self, build_dir, work, brokers, roles, subject, extra_args=None):
        self.work = work
        self.procs = {}
        self.api = {}
        self.admin = {}
        private = os.path.join(work, "jwt-private.pem")
        self.public = os.path.join(work, "jwt-public.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", private], check=True,
                       stderr=subprocess.DEVNULL)
        subprocess.run(["openssl", "pkey", "-in", private, "-pubout", "-out", self.public],
                       check=True)
        field_key = os.path.join(work, "field-key.hex")
        with open(field_key, "w", encoding="utf-8") as f:
            f.write(os.urandom(32).hex() + "\n")
        self.tokens = {role: subprocess.run(
            [os.path.join(build_dir, "tools", "jilaf-token"), "--private-key", private,
             "--role", role, "--sub", f"{subject}-{role}", "--ttl", "7200"],
            check=True, capture_output=True, text=True).stdout.strip() for role in roles}
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
                with open(os.path.join(work, f"{name}.log"), "wb") as log:
                    self.procs[name] = subprocess.Popen(args, stdout=log,
                                                        stderr=subprocess.STDOUT)
                self.api[name] = f"http://127.0.0.1:{http_port}"
                self.admin[name] = f"http://127.0.0.1:{admin_port}"
            for name in SERVICES:
                poll(lambda n=name: self.ready(n), f"{name} /readyz")
        except BaseException:
            self.stop()
            raise

    def ready(self, name):
        if self.procs[name].poll() is not None:
            raise RuntimeError(f"{name} exited: see {self.work}/{name}.log")
        try:
            status, _, _ = jilaf_http.request("GET", self.admin[name] + "/readyz", timeout=5,
                                              attempts=1)
            return status == 200
        except OSError:
            return False

    def stop(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
