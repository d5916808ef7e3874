"""Processes the Python tests and the bench start, wait for and stop: one copy of each shape.

- `free_port()`: a TCP port nothing listens on now (bind to port 0, read it, let it go);
- `credentials()`: a development JWT key pair, a field-encryption key and a token per role;
- `start()`: a binary in a session of its own, its output appended to a log file;
- `wait_ready()`: until the process's admin port answers /readyz with 200, or it exits;
- `stop()`: a signal (SIGTERM unless told), a bounded wait, then SIGKILL for what is left;
- `Nginx`: Debian's nginx run by hand on a generated configuration, either a round-robin proxy
  (`Nginx.round_robin`) or a static file server (`Nginx.static`).

Readiness probes go through jilaf_http, the project's one HTTP client. Standard library only:
the scripts run on Debian's /usr/bin/python3.
"""

import http.client
import os
import signal
import socket
import subprocess
import time

import jilaf_http


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


def credentials(workdir, build_dir, roles, subject, ttl=7200):
    """Writes a fresh RS256 key pair and a field key into `workdir` and mints a token per role
    with tools/jilaf-token; `subject` may name the role as `{role}`. Returns (public key file,
    field key file, {role: token})."""
    private_key = os.path.join(workdir, "jwt-private.pem")
    public_key = os.path.join(workdir, "jwt-public.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", private_key], check=True,
                   stderr=subprocess.DEVNULL)
    subprocess.run(["openssl", "pkey", "-in", private_key, "-pubout", "-out", public_key],
                   check=True)
    field_key = os.path.join(workdir, "field-key.hex")
    with open(field_key, "w", encoding="utf-8") as out:
        out.write(os.urandom(32).hex() + "\n")
    tokens = {role: subprocess.run(
        [os.path.join(build_dir, "tools", "jilaf-token"), "--private-key", private_key,
         "--role", role, "--sub", subject.format(role=role), "--ttl", str(ttl)],
        check=True, capture_output=True, text=True).stdout.strip() for role in roles}
    return public_key, field_key, tokens


def start(args, log, env=None, own_session=True):
    """Starts `args` with stdout and stderr appended to the file `log` and no stdin. In a session
    of its own unless told otherwise, so that a terminal's Ctrl-C reaches only the script, which
    stops its processes in order."""
    with open(log, "ab") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL, start_new_session=own_session)


def ready(admin_port, timeout=5.0):
    """True when http://127.0.0.1:`admin_port`/readyz answers 200 now; one attempt, since a 503
    is what the caller is waiting out."""
    try:
        status, _, _ = jilaf_http.request("GET", f"http://127.0.0.1:{admin_port}/readyz",
                                          timeout=timeout, attempts=1)
        return status == 200
    except (OSError, http.client.HTTPException):
        return False


def wait_ready(process, admin_port, name, log, timeout=60.0, nap=0.1, probe_timeout=5.0):
    """Waits until the process answers /readyz with 200 and returns the seconds that took;
    raises RuntimeError naming `log` when it exits first or is not ready within `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited ({process.returncode}); see {log}")
        if ready(admin_port, probe_timeout):
            return time.monotonic() - started
        time.sleep(nap)
    raise RuntimeError(f"{name} not ready after {timeout:g}s; see {log}")


def stop(processes, timeout=30.0, sig=signal.SIGTERM):
    """Sends `sig` to each of `processes` (one Popen or several; None and exited ones are passed
    over) at once, waits up to `timeout` seconds for each, then SIGKILLs and reaps what is left."""
    if isinstance(processes, subprocess.Popen) or processes is None:
        processes = [processes]
    running = [p for p in processes if p is not None and p.poll() is None]
    for process in running:
        process.send_signal(sig)
    for process in running:
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Nginx:
    """Debian's nginx run by hand in `directory` (its package cannot start the service here):
    `servers` maps each port to listen on to the body of its server block, `settings` is added to
    the http block. Waits until every port accepts connections; `stop()` quits it gracefully."""

    def __init__(self, directory, servers, workers=1, settings="", timeout=20.0):
        self.dir = directory
        self.ports = list(servers)
        self.port = self.ports[0]
        for sub in ("logs", "tmp"):
            os.makedirs(os.path.join(directory, sub), exist_ok=True)
        # Started as root, nginx would run its workers as nobody: as the user who started it.
        user = "user root root;\n" if os.geteuid() == 0 else ""
        temp = "".join(f"  {kind}_temp_path {directory}/tmp/{kind};\n"
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        blocks = "".join(f"  server {{\n    listen 127.0.0.1:{port};\n{body}  }}\n"
                         for port, body in servers.items())
        self.conf = os.path.join(directory, "nginx.conf")
        self.error_log = os.path.join(directory, "logs", "error.log")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(f"daemon off;\n{user}worker_processes {workers};\npid {directory}/nginx.pid;\n"
                    f"error_log {self.error_log} warn;\n"
                    "events { worker_connections 1024; }\n"
                    f"http {{\n  access_log off;\n{temp}{settings}{blocks}}}\n")
        self.args = ["nginx", "-p", directory, "-c", self.conf]
        self.process = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        try:
            for port in self.ports:
                poll(lambda p=port: self._listening(p), f"nginx on port {port}", timeout)
        except BaseException:
            self.stop()
            raise

    def _listening(self, port):
        if self.process.poll() is not None:
            raise RuntimeError(f"nginx did not start; see {self.error_log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    @classmethod
    def round_robin(cls, directory, upstreams, keepalive=0):
        """A proxy: `upstreams` maps a name to (listen port, [backend ports]); each listen port
        spreads its requests over its backends in turn, taking one out for a second after a
        failure. `keepalive` keeps that many idle connections to each backend group open (a
        benchmark's proxy; 0: a connection per request), and then clients keep theirs for any
        number of requests (nginx closes one after 1,000 by default, which distorts a bench)."""
        servers = {}
        settings = "  keepalive_requests 100000000;\n" if keepalive else ""
        for name, (port, backends) in upstreams.items():
            members = "".join(f"    server 127.0.0.1:{backend} max_fails=1 fail_timeout=1s;\n"
                              for backend in backends)
            if keepalive:
                members += f"    keepalive {keepalive};\n"
            settings += f"  upstream {name} {{\n{members}  }}\n"
            servers[port] = (f"    location / {{ proxy_pass http://{name}; proxy_http_version 1.1;"
                             " proxy_set_header Connection \"\"; proxy_read_timeout 30s; }\n")
        nginx = cls(directory, servers, settings=settings)
        nginx.port_of = {name: port for name, (port, _) in upstreams.items()}
        return nginx

    @classmethod
    def static(cls, directory, port, root, workers=1, settings=""):
        """A static file server on `port` serving the files under `root` as JSON."""
        body = f"    root {root};\n    location / {{ default_type application/json; }}\n"
        return cls(directory, {port: body}, workers=workers, settings=settings)

    def stop(self):
        stop(self.process, timeout=10, sig=signal.SIGQUIT)
