#!/usr/bin/python3
"""The JILAF fault suite: faults under steady write load, then invariants and figures.

Run through scripts/faults (which builds the binaries). Starts its own Kafka broker and the four
services (own databases; invitations' on a small tmpfs for the disk-full fault), a load generator
that posts writes with Idempotency-Keys across services, and, after each fault has healed and the
system has drained, a checker that reads every topic from the beginning (jilaf-kafka-tool) and the
consumers' databases. Prints a table; the full mode writes it to docs/reliability.md.
"""

import argparse
import concurrent.futures
import datetime
import http.client
import json
import os
import platform
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "scripts", "lib"))
import jilaf_http  # noqa: E402 - the shared client rule: 429/503 wait Retry-After, then retry
from jilaf_procs import credentials, free_port, start, stop, wait_ready  # noqa: E402
KAFKA_CTL = os.path.join(REPO, "scripts", "kafka-ctl")
SECTION = "## Fault suite"
EVENT_TOPICS = ["jilaf.invitations.events", "jilaf.projects.events", "jilaf.missions.events",
                "jilaf.notifications.events"]
NOTIFICATIONS_TOPICS = EVENT_TOPICS[:3]  # what the notifications consumer reads
DLQ_TOPICS = ["jilaf.notifications.dlq", "jilaf.missions.dlq"]
START = time.monotonic()
# The order of a nomination's events follows its state machine; the other aggregates carry a
# version in their events.
NOMINATION_RANK = {"submitted": 1, "screened": 2}


def log(message):
    print(f"==> [faults +{time.monotonic() - START:.0f}s] {message}", file=sys.stderr, flush=True)


def call(port, method, path, body=None, token=None, headers=None, timeout=5.0, retry=True):
    """One HTTP request; returns (status, json-or-None, headers). Raises OSError on transport
    failures (refused, reset, timeout). With `retry`, a 429 or 503 is retried after its
    Retry-After (a few times, at most ten seconds in all) before it is returned; probes that
    watch for a 503 pass retry=False."""
    if retry:
        return jilaf_http.with_retry(
            lambda: call(port, method, path, body, token, headers, timeout, retry=False),
            attempts=5, budget=10.0)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data, all_headers = jilaf_http.json_parts(body, token, headers)
        conn.request(method, path, body=data, headers=all_headers)
        response = conn.getresponse()
        parsed = jilaf_http.parse_json(response.read())
        return response.status, parsed, {k.lower(): v for k, v in response.getheaders()}
    except http.client.HTTPException as error:
        raise OSError(str(error)) from error
    finally:
        conn.close()


def send_and_drop(port, method, path, body, token, headers):
    """Sends a request and closes the connection without reading the answer: the client's view
    of a response lost on the way back."""
    data = json.dumps(body).encode()
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {token}",
             "Content-Type: application/json", f"Content-Length: {len(data)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + data)


def run_stamp():
    """(now in UTC, the checkout's short commit), for a report's first line."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    return now, commit


def markdown_table(header, rows):
    """A Markdown table: a line of `header` cells, the separator, then a line a row."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write_section(path, heading, section):
    """Puts `section` (starting with `heading`) in the report at `path`, in place of the one
    there under that heading (up to the next "## "), or at its end; the rest is kept."""
    text = "# Reliability\n\n"
    if os.path.exists(path):
        with open(path) as current:
            text = current.read()
    if heading in text:
        head, rest = text.split(heading, 1)
        next_heading = rest.find("\n## ")
        tail = rest[next_heading + 1:] if next_heading >= 0 else ""
        text = head + section + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(path, "w") as out:
        out.write(text)


class Broker:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "kafka")
        os.makedirs(self.dir)
        self.ctl("configure")
        self.bootstrap = self.ctl("bootstrap").strip()

    def start(self):
        self.ctl("start")
        self.ctl("create-topics")

    def ctl(self, *args, check=True):
        result = subprocess.run([KAFKA_CTL, "--dir", self.dir, *args], capture_output=True,
                                text=True)
        if check and result.returncode != 0:
            raise RuntimeError(f"kafka-ctl {' '.join(args)} failed: {result.stderr[-2000:]}")
        return result.stdout


class Service:
    """A service binary on fixed ports (kept across restarts, so the load finds it again)."""

    def __init__(self, suite, name, extra=(), db=None, tag=""):
        self.suite = suite
        self.name = name + tag
        self.binary = os.path.join(suite.build, "services", name, f"jilaf-{name}")
        self.http_port = free_port()
        self.admin_port = free_port()
        self.db = db or os.path.join(suite.dir, f"{self.name}.db")
        self.log = os.path.join(suite.dir, f"{self.name}.log")
        self.args = [self.binary, "--listen-address", "127.0.0.1",
                     "--http-port", str(self.http_port), "--admin-port", str(self.admin_port),
                     "--db", self.db, "--kafka-brokers", suite.broker.bootstrap,
                     "--jwt-public-key", suite.public_key,
                     "--kafka-message-timeout-ms", str(suite.args.message_timeout_ms),
                     "--drain-timeout-ms", "2000", "--log-level", os.environ.get("FAULTS_LOG_LEVEL", "warn"),
                     *extra]
        if name in ("invitations", "notifications"):
            self.args += ["--field-key-file", suite.field_key]
        self.process = None
        self.expected_exit = False

    def start(self, failpoint=None):
        env = dict(os.environ)
        env.pop("JILAF_FAILPOINT", None)
        if failpoint:
            env["JILAF_FAILPOINT"] = failpoint
        self.process = start(self.args, self.log, env=env)
        # A process armed with a fail-point is meant to die: the watcher leaves it to the fault.
        self.expected_exit = bool(failpoint)
        self.wait_ready()

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout=60):
        wait_ready(self.process, self.admin_port, self.name, self.log, timeout, nap=0.05)

    def kill9(self):
        if self.alive():
            self.expected_exit = True
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self):
        if self.alive():
            self.expected_exit = True
            stop(self.process, timeout=40)

    def wait_exit(self, timeout):
        try:
            self.process.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def metrics(self):
        # Generous: on a loaded machine a short timeout would keep wait_drained from ever seeing
        # three clean polls in a row.
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=10)
        try:
            conn.request("GET", "/metrics")
            text = conn.getresponse().read().decode()
        finally:
            conn.close()
        samples = {}
        for line in text.splitlines():
            if line.startswith("#") or " " not in line:
                continue
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
        return samples


class Write:
    __slots__ = ("kind", "service", "entity", "version", "status", "start", "latency", "marker",
                 "error")

    def __init__(self, kind, service):
        self.kind, self.service = kind, service
        self.entity = self.version = self.status = self.marker = self.error = None
        self.start = time.monotonic()
        self.latency = None

    @property
    def acked(self):
        return self.status is not None and 200 <= self.status < 300


class Pacer:
    """Calls `tick(n)` `rate` times a second, n = 1, 2, ..., while `running` is set, from a thread
    of its own started at once; `stop()` ends it. Ticks missed while paused are not made up."""

    def __init__(self, rate, tick):
        self.period = 1.0 / rate
        self.tick = tick
        self.running = threading.Event()
        self.stopping = False
        self.thread = threading.Thread(target=self.pace, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping = True
        self.running.clear()

    def pace(self):
        n = 0
        next_at = time.monotonic()
        while not self.stopping:
            if not self.running.is_set():
                self.running.wait(0.2)
                next_at = time.monotonic()
                continue
            now = time.monotonic()
            if now < next_at:
                time.sleep(min(next_at - now, 0.05))
                continue
            next_at += self.period
            n += 1
            self.tick(n)


class Load:
    """Posts writes at a steady rate across the services; every write carries an
    Idempotency-Key (creates) or If-Match (updates), and one nomination in twenty loses its first
    answer and is retried with the same key."""

    def __init__(self, suite, rate):
        self.suite = suite
        self.rate = rate
        self.writes = []
        self.lock = threading.Lock()
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=24)
        self.pacer = Pacer(rate, self.tick)
        self.in_flight = 0

    def record(self, write):
        with self.lock:
            self.writes.append(write)

    def tick(self, n):
        if self.in_flight > 200:  # everything hangs: do not pile up threads
            return
        with self.lock:
            self.in_flight += 1
        self.pool.submit(self.one, n)

    def one(self, n):
        try:
            kind = ("nomination", "project", "nomination", "mission")[n % 4]
            getattr(self, kind)(n)
        except Exception as error:  # noqa: BLE001 - a load thread must never die silently
            log(f"load thread error: {error!r}")
        finally:
            with self.lock:
                self.in_flight -= 1

    def post(self, write, service, path, body, headers):
        try:
            status, answer, response_headers = call(service.http_port, "POST", path, body,
                                                    self.suite.token, headers)
            write.status = status
            if write.acked and answer:
                write.entity = answer.get("id")
                write.version = answer.get("version")
            elif answer:
                write.error = answer.get("slug") or answer.get("title")
            return answer, response_headers
        except OSError as error:
            write.error = type(error).__name__
            return None, {}
        finally:
            write.latency = time.monotonic() - write.start
            self.record(write)

    def nomination(self, n):
        s = self.suite
        inv = s.services["invitations"]
        marker = f"Fault{s.run_id}n{n}"
        body = {"candidate": {"family_name": marker, "given_name": "Lan", "nationality": "VN",
                              "email": f"{marker.lower()}@example.org", "union": "VGCL",
                              "position": "Youth officer"},
                "nominating_organisation": {"name": "VGCL", "country": "VN"}}
        key = f"{s.run_id}-nom-{n}"
        path = f"/v1/programmes/{s.programme}/nominations"
        write = Write("nomination", "invitations")
        if n % 40 == 2:  # one nomination in twenty: the first answer is lost
            write.marker = marker
            try:
                send_and_drop(inv.http_port, "POST", path, body, s.token, {"Idempotency-Key": key})
            except OSError:
                pass
            for _ in range(20):  # the client retries with the same key until it gets an answer
                retry = Write("nomination", "invitations")
                retry.marker = marker
                retry.start = write.start
                answer, _ = self.post(retry, inv, path, body, {"Idempotency-Key": key})
                if retry.acked or (retry.status is not None and retry.status < 500
                                   and retry.status != 409):
                    break
                time.sleep(0.5)
            return
        answer, headers = self.post(write, inv, path, body, {"Idempotency-Key": key})
        if write.acked and n % 3 == 0:
            screen = Write("nomination.screened", "invitations")
            screen.entity = write.entity
            self.post(screen, inv, f"/v1/nominations/{write.entity}/transitions",
                      {"to": "screened"}, {"If-Match": headers.get("etag", "")})
            screen.entity = write.entity

    def project(self, n):
        s = self.suite
        svc = s.services["projects"]
        body = {"title": {"ja": "安全", "en": f"Safety {n}"}, "country": "KH",
                "partner_id": s.partner, "area": "occupational_safety_health",
                "support_type": "both", "description": "Training", "funding_source": "JILAF",
                "start_date": "2026-04-01", "end_date": "2027-03-31",
                "budget": {"amount": 8000000, "currency": "JPY"}}
        write = Write("project", "projects")
        answer, headers = self.post(write, svc, "/v1/projects", body,
                                    {"Idempotency-Key": f"{s.run_id}-prj-{n}"})
        etag = headers.get("etag")
        for i in range(2):  # updates: their events must keep their order per project
            if not write.acked or not etag:
                return
            update = Write("project.updated", "projects")
            try:
                status, answer, headers = call(svc.http_port, "PATCH",
                                               f"/v1/projects/{write.entity}",
                                               {"description": f"Training, step {i + 1}"},
                                               s.token, {"If-Match": etag})
                update.status = status
                if update.acked:
                    update.entity, update.version = write.entity, answer.get("version")
                    etag = headers.get("etag")
                else:
                    update.entity = write.entity
            except OSError as error:
                update.error = type(error).__name__
                update.entity = write.entity
            update.latency = time.monotonic() - update.start
            self.record(update)

    def mission(self, n):
        s = self.suite
        body = {"title": {"ja": "調査", "en": f"Study {n}"}, "countries": ["KH"],
                "start_date": "2026-05-01", "end_date": "2026-05-09", "objectives": ["wages"]}
        write = Write("mission", "missions")
        self.post(write, s.services["missions"], "/v1/missions", body,
                  {"Idempotency-Key": f"{s.run_id}-mis-{n}"})


EXPECTED_EVENT = {
    "nomination": ("jilaf.invitations.nomination.submitted", "nomination_id"),
    "nomination.screened": ("jilaf.invitations.nomination.screened", "nomination_id"),
    "project": ("jilaf.projects.project.created", "project_id"),
    "project.updated": ("jilaf.projects.project.updated", "project_id"),
    "mission": ("jilaf.missions.mission.created", "mission_id"),
}
GET_PATH = {"jilaf.invitations.nomination.": ("invitations", "/v1/nominations/"),
            "jilaf.projects.project.": ("projects", "/v1/projects/"),
            "jilaf.missions.mission.": ("missions", "/v1/missions/")}


class Suite:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build_dir)
        self.run_id = f"{int(time.time()) % 100000}{random.randint(100, 999)}"
        self.dir = tempfile.mkdtemp(prefix="jilaf-faults-")
        self.tmpfs = None
        self.rows = []
        self.violations = []
        self.seen_dup_log = 0
        self.seen_dead = 0
        self.seen_dup_effects = 0
        self.seen_order = 0
        self.seen_lost_answer_dups = 0
        self.checked_orphans = set()
        self.restarts = 0
        self.unexpected_exits = 0
        self.seen_lost = 0
        self.phase = "set-up"
        self.noted = set()
        self.extras = []
        self.skipped = []
        self.expected_dead = 0

    # -- set-up ----------------------------------------------------------------------------

    def setup(self):
        log(f"work directory {self.dir}")
        self.broker = Broker(self.dir)
        self.broker.start()
        log(f"broker on {self.broker.bootstrap}")
        self.public_key, self.field_key, tokens = credentials(self.dir, self.build, ("staff",),
                                                              "faults", ttl=14400)
        self.token = tokens["staff"]
        # invitations keeps its database on a tmpfs of its own, which the disk-full fault fills.
        self.tmpfs = os.path.join(self.dir, "invitations-tmpfs")
        os.makedirs(self.tmpfs)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.args.tmpfs_mb}m",
                                  "tmpfs", self.tmpfs], capture_output=True, text=True)
        if mounted.returncode != 0:
            log(f"cannot mount a tmpfs ({mounted.stderr.strip()}): the disk-full fault is skipped")
            self.tmpfs_mounted = False
        else:
            self.tmpfs_mounted = True
        group = f"faults-{self.run_id}"
        self.group = group
        self.services = {
            "invitations": Service(self, "invitations",
                                   db=os.path.join(self.tmpfs, "invitations.db")),
            "projects": Service(self, "projects"),
            "missions": Service(self, "missions", ["--consumer-group", group + "-missions"]),
            "notifications": Service(self, "notifications",
                                     ["--consumer-group", group, "--smtp-port",
                                      str(free_port())]),
        }
        for service in self.services.values():
            service.start()
        self.programme = self.create("invitations", "/v1/programmes", {
            "fiscal_year": 2026, "title": {"ja": "招へい", "en": "Fault programme"},
            "track": "developing", "region": "Asia", "start_date": "2026-06-01",
            "end_date": "2026-06-20", "seats": 12, "country_quotas": {"VN": 2},
            "status": "open"})
        self.partner = self.create("projects", "/v1/partners", {
            "name": "Federation of Independent Trade Unions", "acronym": "FITU", "country": "KH",
            "kind": "federation", "contact": {"name": "Mr Sok", "email": "sok@example.org"}})
        self.load = Load(self, self.args.rate)
        self.monitor = threading.Thread(target=self.watch, daemon=True)
        self.watching = True
        self.peak_backlog = 0
        self.monitor.start()

    def create(self, service, path, body):
        status, answer, _ = call(self.services[service].http_port, "POST", path, body, self.token,
                                 {"Idempotency-Key": f"{self.run_id}-{path}"}, timeout=30)
        if status != 201:
            raise RuntimeError(f"set-up POST {path}: {status} {answer}")
        return answer["id"]

    def watch(self):
        """Samples the outbox backlog and restarts any service that died unasked."""
        while self.watching:
            backlog = 0
            for service in list(self.services.values()):
                if service.process is not None and not service.alive() and \
                        not service.expected_exit:
                    self.unexpected_exits += 1
                    self.note(f"{service.name} exited unexpectedly "
                              f"({service.process.returncode}); restarting it")
                    self.restart(service)
                    continue
                try:
                    backlog += service.metrics().get("jilaf_outbox_pending", 0)
                except OSError:
                    pass
            self.peak_backlog = max(self.peak_backlog, backlog)
            time.sleep(0.5)

    def note(self, text):
        if text in self.noted:  # a violation found again in a later check is not a new one
            return
        self.noted.add(text)
        log(text)
        self.violations.append(f"{self.phase}: {text}")

    def restart(self, service, failpoint=None):
        self.restarts += 1
        try:
            service.start(failpoint)
        except RuntimeError as error:
            self.note(str(error))

    def teardown(self):
        self.watching = False
        if getattr(self, "load", None):
            self.load.pacer.stop()
        for service in getattr(self, "services", {}).values():
            service.stop()
        for extra in getattr(self, "extras", []):
            extra.stop()
        if getattr(self, "broker", None):
            self.broker.ctl("resume", check=False)
            self.broker.ctl("stop", check=False)
        if self.tmpfs and getattr(self, "tmpfs_mounted", False):
            subprocess.run(["umount", "-l", self.tmpfs], check=False)

    # -- draining and checking -------------------------------------------------------------

    def drained(self):
        """Outbox backlog and consumer lag at zero, by the services' own metrics."""
        pending = 0
        lag_samples = {"notifications": [], "missions": []}
        nonzero = []
        for service in self.services.values():
            samples = service.metrics()
            pending += samples.get("jilaf_outbox_pending", 0)
            for name, value in samples.items():
                if name.startswith("jilaf_consumer_lag{"):
                    lag_samples.setdefault(service.name, []).append(value)
                    if value:
                        nonzero.append(f"{service.name} {name} {value:g}")
        lags_known = all(lag_samples[c] for c in ("notifications", "missions"))
        lag = sum(sum(v) for v in lag_samples.values())
        self.last_drain_state = f"outbox pending {pending:g}, consumer lag {lag:g}" + (
            "" if lags_known else " (a consumer reports no lag yet)") + "".join(
            f"; {sample}" for sample in nonzero[:6])
        return pending == 0 and lags_known and lag == 0

    DRAIN_LIMIT_S = 300.0  # generous: a loaded machine drains slowly, a stuck one never does

    def wait_drained(self, limit=DRAIN_LIMIT_S):
        start = time.monotonic()
        stable = 0
        while time.monotonic() - start < limit:
            try:
                stable = stable + 1 if self.drained() else 0
            except OSError:
                stable = 0
            # The gauges refresh every 1-2 s: three clean polls in a row. The lag gauge reads
            # librdkafka's cached high watermarks, which go stale while a consumer reconnects, so
            # "drained" also needs every event of the log applied by both consumers.
            if stable >= 3:
                missing = self.unapplied()
                if missing == 0:
                    return time.monotonic() - start
                self.last_drain_state = f"metrics at zero but {missing} events not yet applied"
                stable = 0
            time.sleep(0.5)
        log(f"not drained: {getattr(self, 'last_drain_state', '?')}")
        return None

    def unapplied(self):
        """Events not yet in the inboxes of the consumers that read their topic."""
        ids = set()
        invitations = set()
        dead = set()
        for m in self.dump():
            event_id = m["headers"].get("ce_id")
            if m["topic"].endswith(".dlq"):
                dead.add(event_id)
            elif m["topic"] in NOTIFICATIONS_TOPICS and event_id:
                ids.add(event_id)
                if m["topic"] == "jilaf.invitations.events":
                    invitations.add(event_id)
        ids -= dead
        invitations -= dead
        notif = {r[0] for r in self.db_rows(
            self.services["notifications"].db,
            f"SELECT event_id FROM inbox WHERE consumer = '{self.group}'")}
        missions = {r[0] for r in self.db_rows(
            self.services["missions"].db,
            f"SELECT event_id FROM inbox WHERE consumer = '{self.group}-missions'")}
        return len(ids - notif) + len(invitations - missions)

    def dump(self):
        result = subprocess.run(
            [os.path.join(self.build, "tools", "jilaf-kafka-tool"), "dump", "--brokers",
             self.broker.bootstrap, *EVENT_TOPICS, *DLQ_TOPICS],
            capture_output=True, text=True, check=True, timeout=300)
        return [json.loads(line) for line in result.stdout.splitlines() if line]

    def db_rows(self, db, sql):
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()

    def check(self):
        """Every invariant over everything written so far; returns this phase's figures."""
        messages = self.dump()
        events = {}  # id -> first message
        occurrences = {}
        dead_letters = 0
        dead_ids = set()
        for m in messages:
            if m["topic"].endswith(".dlq"):
                dead_letters += 1
                dead_ids.add(m["headers"].get("ce_id"))
                continue
            event_id = m["headers"].get("ce_id")
            if not event_id:
                continue  # poison: no id
            occurrences[event_id] = occurrences.get(event_id, 0) + 1
            if event_id not in events:
                try:
                    m["data"] = json.loads(m.get("value") or "null")
                except ValueError:
                    m["data"] = None
                events[event_id] = m
        dup_log = sum(c - 1 for c in occurrences.values())
        by_entity = {}
        for m in events.values():
            data = m["data"] if isinstance(m["data"], dict) else {}
            etype = m["headers"].get("ce_type", "")
            for field in ("nomination_id", "project_id", "mission_id"):
                if field in data:
                    by_entity.setdefault((etype, data[field]), []).append(m)
        with self.load.lock:
            writes = list(self.load.writes)
        # Lost: an acknowledged write without its event.
        lost = []
        for w in writes:
            if not w.acked or w.kind not in EXPECTED_EVENT:
                continue
            etype, _ = EXPECTED_EVENT[w.kind]
            candidates = by_entity.get((etype, w.entity), [])
            if w.kind == "project.updated":
                candidates = [m for m in candidates if m["data"].get("version") == w.version]
            if not candidates:
                lost.append(w)
        # Orphans: an event of our load's aggregates whose write the service does not hold.
        acked_entities = {w.entity for w in writes if w.acked}
        orphans = 0
        for (etype, entity), ms in by_entity.items():
            if entity in acked_entities or entity in self.checked_orphans:
                continue
            for prefix, (service, path) in GET_PATH.items():
                if etype.startswith(prefix):
                    try:
                        status, _, _ = call(self.services[service].http_port, "GET",
                                            path + entity, token=self.token, timeout=30)
                    except OSError:
                        status = None
                    if status == 200:
                        self.checked_orphans.add(entity)
                    else:
                        orphans += 1
                        self.note(f"event {etype} for {entity} but GET says {status}")
        # Lost answers: one entity per retried key.
        lost_answer_dups = 0
        markers = {w.marker for w in writes if w.marker}
        by_marker = {}
        for m in events.values():
            data = m["data"] if isinstance(m["data"], dict) else {}
            if m["headers"].get("ce_type") == "jilaf.invitations.nomination.submitted":
                family = (data.get("candidate") or {}).get("family_name")
                if family in markers:
                    by_marker.setdefault(family, set()).add(data.get("nomination_id"))
        lost_answer_dups = sum(len(ids) - 1 for ids in by_marker.values() if len(ids) > 1)
        # Effects: notifications puts each invitations event in the staff inbox exactly once.
        notif_db = self.services["notifications"].db
        dup_effects = self.db_rows(
            notif_db, "SELECT count(*) FROM (SELECT event_id, audience FROM inbox_notifications"
                      " GROUP BY event_id, audience HAVING count(*) > 1)")[0][0]
        applied = {row[0]: row[1:] for row in self.db_rows(
            notif_db, f"SELECT event_id, topic, partition, offset FROM inbox"
                      f" WHERE consumer = '{self.group}'")}
        effect_ids = {row[0] for row in self.db_rows(
            notif_db, "SELECT DISTINCT event_id FROM inbox_notifications")}
        missing_effects = [e for e, m in events.items()
                           if m["topic"] == "jilaf.invitations.events" and e not in effect_ids
                           and e not in dead_ids]
        missing_effects += [e for e, m in events.items()
                            if m["topic"] in NOTIFICATIONS_TOPICS and e not in applied
                            and e not in dead_ids and e not in missing_effects]
        missions_db = self.services["missions"].db
        missions_applied = {row[0] for row in self.db_rows(
            missions_db, f"SELECT event_id FROM inbox WHERE consumer = '{self.group}-missions'")}
        missing_missions = [e for e, m in events.items()
                            if m["topic"] == "jilaf.invitations.events"
                            and e not in missions_applied and e not in dead_ids]
        # Order, per aggregate: in the log (first copies) and as each consumer applied them.
        order_violations = 0
        per_key = {}
        for event_id, m in events.items():
            data = m["data"] if isinstance(m["data"], dict) else {}
            etype = m["headers"].get("ce_type", "")
            if etype.startswith("jilaf.projects.project.") and "version" in data:
                rank = data["version"]
            elif etype.startswith("jilaf.invitations.nomination."):
                rank = NOMINATION_RANK.get(etype.rsplit(".", 1)[1])
            else:
                continue
            if rank is not None:
                per_key.setdefault((m["topic"], m.get("key")), []).append((rank, event_id, m))
        for (topic, key), items in per_key.items():
            items.sort(key=lambda item: item[0])
            log_offsets = [m["offset"] for _, _, m in items]
            if log_offsets != sorted(log_offsets):
                order_violations += 1
                self.note(f"log order broken for {key} on {topic}: {log_offsets}")
            applied_offsets = [applied[e][2] for _, e, _ in items if e in applied]
            if applied_offsets != sorted(applied_offsets):
                order_violations += 1
                self.note(f"notifications applied {key} out of order: {applied_offsets}")
        figures = {
            "lost": len(lost) - self.seen_lost,
            "orphans": orphans,
            "dup_log": dup_log - self.seen_dup_log,
            "dup_effects": dup_effects - self.seen_dup_effects,
            "order": order_violations - self.seen_order,
            "dead": dead_letters - self.seen_dead,
            "lost_answer_dups": lost_answer_dups - self.seen_lost_answer_dups,
            "missing_effects": len(missing_effects) + len(missing_missions),
            "events": len(events),
        }
        self.seen_dup_log, self.seen_dead = dup_log, dead_letters
        self.seen_dup_effects, self.seen_order = dup_effects, order_violations
        self.seen_lost_answer_dups = lost_answer_dups
        self.seen_lost = len(lost)
        for w in lost[:5]:
            self.note(f"lost: acknowledged {w.kind} {w.entity} (v{w.version}) has no event")
        return figures

    # -- the faults ------------------------------------------------------------------------

    def quick(self):
        return self.args.quick

    def hold(self, seconds):
        time.sleep(seconds)

    def fault_failpoint(self, service_name, point, hits):
        service = self.services[service_name]
        service.stop()
        self.restart(service, failpoint=f"{point}@{hits}")
        if not service.wait_exit(120):
            self.note(f"fail-point {point} never fired in {service_name}")
            service.stop()
        elif service.process.returncode != -signal.SIGKILL:
            self.note(f"{service_name} exited {service.process.returncode}, not by the fail-point")
        service.expected_exit = True
        self.restart(service)

    def f_commit_before_publish(self):
        self.fault_failpoint("invitations", "outbox.after_commit_before_publish", 15)

    def f_publish_before_mark(self):
        self.fault_failpoint("projects", "outbox.after_publish_before_mark", 5)

    def f_consumer_effect_before_offset(self):
        self.fault_failpoint("notifications", "consumer.after_effect_before_offset", 10)

    def f_kill_random(self):
        for _ in range(1 if self.quick() else 4):
            self.hold(random.uniform(1, 4))
            service = self.services[random.choice(["invitations", "projects", "missions",
                                                   "notifications"])]
            log(f"kill -9 {service.name}")
            service.kill9()
            self.restart(service)

    def f_broker_bounce(self):
        for i in range(2 if self.quick() else 5):
            how = "kill" if i % 2 == 0 else "stop"
            log(f"broker bounce {i + 1}: {how}")
            self.broker.ctl(how)
            self.hold(1)
            self.broker.ctl("start")
            self.hold(2)

    def f_broker_down_long(self):
        down = self.args.message_timeout_ms / 1000 * 2.5
        log(f"broker down for {down:.0f} s (message.timeout.ms {self.args.message_timeout_ms})")
        self.broker.ctl("stop")
        self.hold(down)
        self.broker.ctl("start")

    def f_broker_pause(self):
        self.broker.ctl("pause")
        self.hold(6 if self.quick() else 20)
        self.broker.ctl("resume")

    def f_rebalance_storm(self):
        """A second notifications instance in the same group, sharing the first's database as
        replicas would share one store, started and stopped (alternately SIGTERM and kill -9)."""
        notifications = self.services["notifications"]
        second = Service(self, "notifications", ["--consumer-group", self.group, "--smtp-port",
                                                 str(free_port())], db=notifications.db,
                         tag="-second")
        self.extras = [second]
        for i in range(3 if self.quick() else 8):
            second.start()
            self.hold(random.uniform(1.5, 4))
            if i % 2 == 0:
                second.stop()
            else:
                second.kill9()
            self.hold(random.uniform(0.5, 2))
        self.extras = []

    def f_poison(self):
        tool = os.path.join(self.build, "tools", "jilaf-kafka-tool")
        base = [tool, "produce", "--brokers", self.broker.bootstrap]
        sends = [
            ["--topic", "jilaf.invitations.events", "--key", "poison-1", "--value", "not json at all"],
            ["--topic", "jilaf.invitations.events", "--key", "poison-2", "--value", "{\"a\":",
             "--header", "ce_id=poison-2", "--header", "ce_type=jilaf.invitations.nomination.submitted",
             "--header", "ce_specversion=1.0", "--header", "ce_source=/faults"],
            ["--topic", "jilaf.projects.events", "--key", "poison-3", "--value", "[]"],
            # Just under the broker's limit (1,048,588 bytes) but over librdkafka's default
            # message.max.bytes (1,000,000): the consumers must still dead-letter it whole.
            ["--topic", "jilaf.invitations.events", "--key", "oversized-1", "--value-size",
             str(1040000)],
        ]
        for extra in sends:
            subprocess.run(base + extra, check=True, capture_output=True, timeout=60)
        # Over the broker's message.max.bytes: refused at the door, never in the log.
        refused = subprocess.run(base + ["--topic", "jilaf.missions.events", "--key",
                                         "oversized-2", "--value-size", str(1536 * 1024)],
                                 capture_output=True, timeout=60)
        if refused.returncode == 0:
            self.note("a 1.5 MB message was accepted by the broker")
        self.expected_dead = 2 * 3 + 1  # invitations' 3 to two consumers, projects' 1 to one

    def f_disk_full(self):
        if not self.tmpfs_mounted:
            self.skipped.append("disk-full (no tmpfs)")
            return
        filler = os.path.join(self.tmpfs, "filler")
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=1M"], capture_output=True)
        log(f"tmpfs full: {subprocess.run(['df', '-h', self.tmpfs], capture_output=True, text=True).stdout.splitlines()[-1]}")
        self.hold(5 if self.quick() else 15)
        os.unlink(filler)

    def f_kill_all(self):
        for service in self.services.values():
            service.kill9()
        self.broker.ctl("kill")
        self.hold(1)
        self.broker.ctl("start")
        for service in self.services.values():
            self.restart(service)

    def f_slow_clients(self):
        count = 100 if self.quick() else 500
        sockets = []
        targets = [self.services["invitations"].http_port, self.services["projects"].http_port]
        for i in range(count):
            try:
                s = socket.create_connection(("127.0.0.1", targets[i % 2]), timeout=2)
                s.sendall(b"POST /v1/projects HTTP/1.1\r\nHost: x\r\n")
                sockets.append(s)
            except OSError:
                pass
        log(f"{len(sockets)} slow connections open")
        end = time.monotonic() + (6 if self.quick() else 20)
        while time.monotonic() < end:  # a header line now and then, never the end of them
            for s in sockets:
                try:
                    s.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    pass
            self.hold(1)
        for s in sockets:
            s.close()

    FAULTS = [
        ("kill -9 after commit, before publish (fail-point, invitations)",
         "f_commit_before_publish"),
        ("kill -9 after publish, before marking sent (fail-point, projects)",
         "f_publish_before_mark"),
        ("kill -9 of a random service, at random", "f_kill_random"),
        ("kill -9 of a consumer between effect and offset (fail-point, notifications)",
         "f_consumer_effect_before_offset"),
        ("broker bounced (SIGKILL and SIGTERM alternately)", "f_broker_bounce"),
        ("broker down longer than message.timeout.ms", "f_broker_down_long"),
        ("broker paused (SIGSTOP)", "f_broker_pause"),
        ("rebalance storm (second consumer in the group)", "f_rebalance_storm"),
        ("poison and oversized messages", "f_poison"),
        ("store's disk full (tmpfs)", "f_disk_full"),
        ("kill -9 of everything, cold start", "f_kill_all"),
        ("slow clients during load", "f_slow_clients"),
    ]

    def run(self):
        self.setup()
        self.load.pacer.running.set()
        self.hold(3 if self.quick() else 10)
        only = set(self.args.only.split(",")) if self.args.only else None
        for label, method in self.FAULTS:
            if only and method[2:] not in only:
                continue
            self.phase = label
            log(f"fault: {label}")
            before = len(self.load.writes)
            restarts_before = self.restarts
            self.peak_backlog = 0
            self.expected_dead = 0
            fault_start = time.monotonic()
            self.load.pacer.running.set()
            getattr(self, method)()
            heal = time.monotonic()
            self.hold(2 if self.quick() else 5)  # load goes on after the heal
            self.load.pacer.running.clear()
            while self.load.in_flight > 0:
                time.sleep(0.05)
            for service in self.services.values():
                if not service.alive():
                    self.note(f"{service.name} is not running after the heal")
                    self.restart(service)
            drain = self.wait_drained()
            if drain is None:
                self.note("outbox backlog or consumer lag not back to zero within "
                          f"{self.DRAIN_LIMIT_S:.0f} s")
            drain_s = None if drain is None else time.monotonic() - heal
            figures = self.check()
            phase_writes = self.load.writes[before:]
            during = sorted(w.latency for w in phase_writes
                            if w.acked and fault_start <= w.start <= heal)
            p99 = during[min(len(during) - 1, int(len(during) * 0.99))] if during else None
            if figures["dead"] < self.expected_dead:
                self.note(f"{figures['dead']} dead letters, expected {self.expected_dead}")
            for name in ("lost", "orphans", "dup_effects", "order", "lost_answer_dups"):
                if figures[name]:
                    self.note(f"invariant broken: {name} = {figures[name]}")
            if figures["missing_effects"]:
                self.note(f"{figures['missing_effects']} events not applied by a consumer")
            row = {
                "fault": label,
                "attempted": len(phase_writes),
                "acked": sum(1 for w in phase_writes if w.acked),
                "failed": sum(1 for w in phase_writes if not w.acked),
                "restarts": self.restarts - restarts_before,
                "peak_backlog": int(self.peak_backlog),
                "drain_s": drain_s,
                "p99_ms": None if p99 is None else p99 * 1000,
                **figures,
            }
            self.rows.append(row)
            log(f"  {row}")
        self.load.pacer.running.clear()
        self.phase = "end"

    # -- report ----------------------------------------------------------------------------

    def table(self):
        header = ["fault", "writes attempted", "acked", "failed", "lost", "dup. in log",
                  "dup. effects", "order violations", "dead letters", "peak backlog",
                  "time to drain (s)", "API p99 during fault (ms)", "restarts"]
        return markdown_table(header, [
            [r["fault"], r["attempted"], r["acked"], r["failed"], r["lost"] + r["orphans"],
             r["dup_log"], r["dup_effects"] + r["lost_answer_dups"], r["order"], r["dead"],
             r["peak_backlog"], "—" if r["drain_s"] is None else f"{r['drain_s']:.1f}",
             "—" if r["p99_ms"] is None else f"{r['p99_ms']:.0f}", r["restarts"]]
            for r in self.rows])

    def markdown(self):
        now, commit = run_stamp()
        verdict = "every invariant held" if not self.violations else \
            f"{len(self.violations)} invariant violation(s), listed below"
        out = [SECTION, "",
               f"Generated by `scripts/faults` ({'quick' if self.quick() else 'full'} mode) on "
               f"{now}, commit {commit}, {platform.release()}, {os.cpu_count()} shared cores; "
               f"load {self.args.rate:g} writes/s (nominations with Idempotency-Keys, one in twenty "
               f"losing its first answer and retried; nomination screenings; project creates and "
               f"two If-Match updates each; mission creates); producers' message.timeout.ms "
               f"{self.args.message_timeout_ms}. Result: **{verdict}**.", "",
               "How: the suite starts its own broker and the four services (own databases; "
               "invitations' on a small tmpfs), runs the load, injects each fault for a bounded "
               "time and heals it, lets the load run a few more seconds, stops it, waits until "
               "the outbox backlog and consumer lag metrics are zero *and* every event of the "
               "topics is in the inbox of each consumer that reads it, then reads every topic from "
               "the beginning (`jilaf-kafka-tool dump`) and the consumers' SQLite databases and "
               "checks the invariants over everything written so far. The fail-point faults "
               "restart the service with `JILAF_FAILPOINT=<point>@N`, so that it kills itself "
               "(SIGKILL) the N-th time it reaches that window, then restart it clean. The "
               "rebalance storm starts a second notifications instance in the same consumer group "
               "on the same database (as replicas share one store) and stops it, by SIGTERM and "
               "kill -9 alternately. Poison: an unreadable value without CloudEvents headers, "
               "invalid JSON with them, a JSON array on the projects topic, a 1,040,000-byte value "
               "(under the broker's limit, over the producers'), and a 1.5 MB value that the "
               "broker must refuse. Disk full: `dd` fills the tmpfs, held, then removed. Slow "
               "clients: hundreds of connections that send a header line a second and never "
               "finish, against invitations and projects.", "",
               self.table(), "",
               "Bugs this suite found, fixed in `common/events` (regression checks: the e2e test "
               "named below and this suite's own invariants in `scripts/test`): "
               "(1) a message the topic accepts (up to the broker's 1,048,588 bytes) but whose "
               "dead-letter copy a producer refuses (over 1,000,000 bytes) was retried for ever and "
               "stalled its partition; and `flush()` was taken as proof that a dead-letter copy "
               "was delivered, which it is not when the broker refuses it. Values over 900 KiB are "
               "now dead-lettered without their value (`dlq_value_omitted`), and success is read "
               "from the delivery report (e2e `OversizedMessageIsDeadLetteredWithoutItsValue`). "
               "(2) With the broker down longer than `message.timeout.ms`, events still queued in "
               "the producer when an older one timed out were delivered once the broker came back, "
               "before the relay resent the older one: a project's version 3 landed in the log "
               "before its versions 1 and 2, and the consumer applied them in that order. The "
               "relay now purges its queue at the first failed delivery, so everything pending is "
               "resent in commit order (checked by this suite's order invariant; a window remains "
               "between a timeout and the purge, one poll of the relay, see below). (3) With the "
               "disk full, the relay's queued mark of acknowledged rows could fail to commit; "
               "those rows stayed pending behind the relay's cursor for good, so the outbox "
               "backlog never drained (no loss, but a backlog alert for ever). The relay now "
               "checks each mark's commit and, when one failed, resends the pending rows (the "
               "inboxes drop the copies: the disk-full row's *dup. in log*). (4) After a kill -9, a "
               "consumer partition with nothing new to read had no position, and the lag gauge "
               "counted it from the log start: missions reported its whole partition (222 "
               "events) as lag for minutes although every event was applied. The gauge now "
               "starts from the committed offset.", "",
               "Columns: *lost* counts acknowledged writes without their event plus events whose "
               "write the service does not hold; *dup. in log* counts extra copies of an event "
               "id in the topics (expected after a crash between publish and mark; the inboxes "
               "drop them); *dup. effects* counts inbox notifications applied twice for one "
               "event and retried requests that made two entities; *order violations* counts "
               "aggregates whose events are out of order in the log or as notifications applied "
               "them; *time to drain* runs from the heal to outbox backlog and consumer lag at "
               f"zero (limit {self.DRAIN_LIMIT_S:.0f} s); *restarts* counts service starts the "
               "fault caused.", ""]
        out += ["Known limits: the consumer lag gauge reads librdkafka's cached high watermarks, "
                "which go stale while a consumer reconnects after a broker outage, so the gauge "
                "can read 0 while events wait (the suite therefore also requires every event in "
                "every consumer's inbox before it calls the system drained); the relay's purge "
                "leaves a window of one poll (up to 100 ms) in which a queued event could still "
                "overtake an older one whose delivery just timed out, if the broker came back in "
                "exactly that window; notifications' effects are checked for duplicates, the "
                "missions alumni directory only through its inbox (the load does not complete "
                "nominations, which is what adds alumni).", ""]
        if self.skipped:
            out += [f"Skipped: {', '.join(self.skipped)}.", ""]
        if self.violations:
            out += ["Violations:", ""] + [f"- {v}" for v in self.violations] + [""]
        return "\n".join(out)

    def write_report(self, path):
        write_section(path, SECTION, self.markdown())


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build", "release"))
    parser.add_argument("--quick", action="store_true",
                        help="every fault briefly, invariants checked (for scripts/test)")
    parser.add_argument("--rate", type=float, help="writes per second (default 10 quick, 25)")
    parser.add_argument("--message-timeout-ms", type=int,
                        help="the services' --kafka-message-timeout-ms (default 3000 quick, 5000)")
    parser.add_argument("--tmpfs-mb", type=int, default=64)
    parser.add_argument("--only", help="comma-separated faults (method names without f_)")
    parser.add_argument("--out", help="report file (default docs/reliability.md in full mode)")
    args = parser.parse_args()
    if args.rate is None:
        args.rate = 10 if args.quick else 25
    if args.message_timeout_ms is None:
        args.message_timeout_ms = 3000 if args.quick else 5000
    if args.out is None and not args.quick and not args.only:
        args.out = os.path.join(REPO, "docs", "reliability.md")
    suite = Suite(args)
    # SIGTERM (ctest's timeout, scripts/test's clean-up) must still stop the broker and services.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        suite.run()
    finally:
        suite.teardown()
    finish(suite, suite.violations, "Violations", args.out, "fault suite")


def finish(suite, problems, heading, out, what):
    """After a suite's teardown: prints its table and `problems` under `heading`, writes its
    section (`what`) into the report `out` if one is asked for, and exits 1 if anything failed;
    otherwise removes the suite's work directory."""
    print(suite.table())
    if problems:
        print(f"\n{heading}:\n" + "\n".join(f"- {text}" for text in problems))
    if out:
        suite.write_report(out)
        log(f"wrote the {what} section of {out}")
    if problems:
        sys.exit(1)
    subprocess.run(["rm", "-rf", suite.dir], check=False)


if __name__ == "__main__":
    main()
