"""The four service binaries on free ports, for the Python tests that drive them over HTTP.

One place for what the browser test and the Schemathesis run both need: a fresh development key
pair and field key, tokens minted with tools/jilaf-token, each service started with its own
database in a work directory, waited for on /readyz, and stopped. Each caller adds the flags that
are particular to it (a broker, CORS origins, rate limits).
"""

import os
import signal
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


class RoundRobinProxy:
    """Debian's nginx, run by hand: one listening port per name, round robin over that name's
    upstream ports (several replicas of a service). `ports[name]` is where to call it.

    `upstreams` maps a name to its replicas' HTTP ports. `keepalive` keeps that many idle
    connections to each upstream group open (a benchmark's proxy; 0: a connection per
    request), and the client side keeps its connections for any number of requests (nginx
    closes one after 1,000 by default, which would distort a benchmark)."""

    def __init__(self, directory, upstreams, keepalive=0, max_fails=1):
        self.dir = directory
        os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "logs"), exist_ok=True)
        self.ports = {name: free_port() for name in upstreams}
        # Started as root, nginx would run its workers as nobody: as the user who started it.
        user = "user root root;" if os.geteuid() == 0 else ""
        servers = []
        for name, replica_ports in upstreams.items():
            upstream = "".join(
                f"    server 127.0.0.1:{port} max_fails={max_fails} fail_timeout=1s;\n"
                for port in replica_ports)
            if keepalive:
                upstream += f"    keepalive {keepalive};\n"
            servers.append(
                f"  upstream {name} {{\n{upstream}  }}\n"
                f"  server {{\n    listen 127.0.0.1:{self.ports[name]};\n"
                f"    location / {{ proxy_pass http://{name}; proxy_http_version 1.1;"
                f" proxy_set_header Connection \"\"; proxy_read_timeout 30s; }}\n  }}\n")
        conf = (f"daemon off;\n{user}\nworker_processes 1;\npid {self.dir}/nginx.pid;\n"
                f"error_log {self.dir}/logs/error.log warn;\n"
                "events { worker_connections 1024; }\nhttp {\n"
                "  access_log off;\n  keepalive_requests 100000000;\n"
                f"  client_body_temp_path {self.dir}/tmp/body;\n"
                f"  proxy_temp_path {self.dir}/tmp/proxy;\n"
                f"  fastcgi_temp_path {self.dir}/tmp/fastcgi;\n"
                f"  uwsgi_temp_path {self.dir}/tmp/uwsgi;\n  scgi_temp_path {self.dir}/tmp/scgi;\n"
                + "".join(servers) + "}\n")
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(conf)
        self.args = ["nginx", "-p", self.dir, "-c", self.conf]
        self.process = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        for name in upstreams:
            deadline = time.monotonic() + 20
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", self.ports[name]), timeout=1):
                        break
                except OSError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        self.stop()
                        raise RuntimeError(f"nginx did not start; see {self.dir}/logs/error.log")
                    time.sleep(0.1)

    def stop(self):
        stop_nginx(self.process)


def stop_nginx(process):
    """Graceful stop (SIGQUIT: workers finish their requests), killed after 10 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
