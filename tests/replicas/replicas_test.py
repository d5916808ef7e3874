#!/usr/bin/python3
"""Two replicas of every service on one PostgreSQL, behind an nginx round-robin proxy.

Run by ctest (label `replicas`, through scripts/test, which starts the PostgreSQL server and the
Kafka broker) and by `scripts/faults --only replicas-sigkill` (which starts both for it). Clients
in several threads write through the proxy (creates with Idempotency-Keys, updates with If-Match,
concurrent selections against a programme's seats and country quota, racing updates with the same
ETag); one replica of each service is killed with SIGKILL mid-load and restarted. Then it checks:

- every accepted (2xx) write is present, and once (one entity per Idempotency-Key);
- every outbox row of every service is on its topic, in per-key order; copies are counted;
- every invitations event took its effect once in notifications (staff inbox) and in missions;
- the seats and the country quota held; of two updates with the same ETag one won, one got 412,
  and no update was lost (version = 1 + accepted updates);
- each service's audit chain verifies; each cluster lock (relay, scheduler) is held once;
- nothing is left pending in any outbox.

Prints its figures as JSON on the last line; exits 1 when an invariant broke.
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "scripts", "lib"))
import jilaf_http  # noqa: E402 - the shared client rule: 429/503 wait Retry-After, then retry
from jilaf_services import SERVICES, RoundRobinProxy, free_port  # noqa: E402

START = time.monotonic()


def log(message):
    print(f"==> [replicas +{time.monotonic() - START:.0f}s] {message}", file=sys.stderr, flush=True)


def call(port, method, path, body=None, token=None, headers=None, timeout=15.0):
    """One request through the project's client (429/503 retried after Retry-After); returns
    (status, json-or-None, lower-case headers). Raises OSError when the connection fails or
    breaks."""
    all_headers = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    if token:
        all_headers["Authorization"] = "Bearer " + token
    try:
        status, raw, answer_headers = jilaf_http.request(
            method, f"http://127.0.0.1:{port}{path}", data, all_headers, timeout=timeout,
            attempts=10, budget=20.0)
    except http.client.HTTPException as error:
        raise OSError(str(error)) from error
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return status, parsed, {k.lower(): v for k, v in answer_headers.items()}


class Postgres:
    """The test's PostgreSQL server (a URL without password and a password file)."""

    def __init__(self, url, password_file):
        self.url = url
        with open(password_file, encoding="utf-8") as f:
            self.password = f.readline().strip()
        self.password_file = password_file

    def database_url(self, name):
        parts = urllib.parse.urlsplit(self.url)
        return urllib.parse.urlunsplit(parts._replace(path="/" + name))

    def sql(self, database, statement):
        result = subprocess.run(
            ["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d",
             self.database_url(database), "-c", statement],
            env={**os.environ, "PGPASSWORD": self.password}, capture_output=True, text=True,
            timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"psql on {database}: {result.stderr.strip()}")
        return [line.split("\t") for line in result.stdout.splitlines() if line]


class OwnBroker:
    """A broker of the test's own (scripts/kafka-ctl): the test writes thousands of events, which
    the consumers of later tests on a shared broker would have to read through first."""

    def __init__(self, workdir):
        self.ctl_path = os.path.join(REPO, "scripts", "kafka-ctl")
        self.dir = os.path.join(workdir, "kafka")
        for command in ("configure", "start", "create-topics"):
            self.ctl(command)
        self.bootstrap = self.ctl("bootstrap").strip()

    def ctl(self, command):
        result = subprocess.run([self.ctl_path, "--dir", self.dir, command], capture_output=True,
                                text=True, timeout=600)
        if result.returncode != 0:
            raise RuntimeError(f"kafka-ctl {command}: {result.stderr[-2000:]}")
        return result.stdout

    def stop(self):
        try:
            self.ctl("stop")
        except RuntimeError as error:
            log(str(error))


class Replica:
    def __init__(self, test, service, index):
        self.test, self.service, self.index = test, service, index
        self.name = f"{service}-{'ab'[index]}"
        self.http_port, self.admin_port = free_port(), free_port()
        self.log = os.path.join(test.dir, f"{self.name}.log")
        self.process = None
        args = [os.path.join(test.build, "services", service, f"jilaf-{service}"),
                "--listen-address", "127.0.0.1", "--http-port", str(self.http_port),
                "--admin-port", str(self.admin_port), "--store", "postgres",
                "--database-url", test.pg.database_url(test.databases[service]),
                "--database-password-file", test.pg.password_file,
                "--kafka-brokers", test.brokers, "--jwt-public-key", test.public_key,
                "--drain-timeout-ms", "2000",
                # Every client comes through the proxy's one address.
                "--rate-limit-address-rps", "0", "--rate-limit-write-rps", "0",
                "--rate-limit-read-rps", "0"]
        if service in ("invitations", "notifications"):
            args += ["--field-key-file", test.field_key]
        if service == "missions":
            args += ["--consumer-group", f"replicas-{test.run_id}-missions"]
        if service == "notifications":
            args += ["--consumer-group", f"replicas-{test.run_id}", "--smtp-port",
                     str(free_port())]
        self.args = args

    def start(self):
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(self.args, stdout=out, stderr=out,
                                            stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_ready(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}); see {self.log}")
            try:
                status, _, _ = call(self.admin_port, "GET", "/readyz", timeout=5)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout}s; see {self.log}")

    def kill9(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Proxy(RoundRobinProxy):
    """nginx, one port per service, round robin over its two replicas."""

    def __init__(self, test):
        super().__init__(os.path.join(test.dir, "nginx"),
                         {name: [r.http_port for r in test.replicas[name]] for name in SERVICES})


class Test:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build_dir)
        self.run_id = f"{int(time.time()) % 100000}{random.randint(100, 999)}"
        self.dir = tempfile.mkdtemp(prefix="jilaf-replicas-")
        self.pg = Postgres(args.database_url, args.database_password_file)
        self.brokers = args.brokers
        self.broker = None
        self.databases = {name: f"replicas_{self.run_id}_{name}" for name in SERVICES}
        self.replicas = {}
        self.proxy = None
        self.failures = []
        self.lock = threading.Lock()
        self.accepted = []  # (kind, entity, key/version)
        self.figures = {}

    # -- set-up ------------------------------------------------------------------------------

    def setup(self):
        log(f"work directory {self.dir}; run {self.run_id}")
        if self.args.own_broker:
            self.broker = OwnBroker(self.dir)
            self.brokers = self.broker.bootstrap
            log(f"broker of its own on {self.brokers}")
        for name in SERVICES:
            self.pg.sql("postgres", f"CREATE DATABASE {self.databases[name]}")
        private = os.path.join(self.dir, "jwt-private.pem")
        self.public_key = os.path.join(self.dir, "jwt-public.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", private], check=True,
                       stderr=subprocess.DEVNULL)
        subprocess.run(["openssl", "pkey", "-in", private, "-pubout", "-out", self.public_key],
                       check=True)
        self.field_key = os.path.join(self.dir, "field-key.hex")
        with open(self.field_key, "w", encoding="utf-8") as f:
            f.write(os.urandom(32).hex() + "\n")
        self.tokens = {role: subprocess.run(
            [os.path.join(self.build, "tools", "jilaf-token"), "--private-key", private, "--role",
             role, "--sub", f"replicas-{role}", "--ttl", "7200"],
            check=True, capture_output=True, text=True).stdout.strip()
            for role in ("staff", "admin")}
        self.token = self.tokens["staff"]
        for name in SERVICES:
            self.replicas[name] = [Replica(self, name, 0), Replica(self, name, 1)]
        # Replica a first, so that it takes the cluster locks and the SIGKILL hits the leader.
        for name in SERVICES:
            self.replicas[name][0].start()
        for name in SERVICES:
            self.replicas[name][0].wait_ready()
        for name in SERVICES:
            self.replicas[name][1].start()
        for name in SERVICES:
            self.replicas[name][1].wait_ready()
        self.proxy = Proxy(self)
        log("8 replicas ready behind nginx")
        self.programme = self.create_once("invitations", "/v1/programmes", {
            "fiscal_year": 2026, "title": {"ja": "招へい", "en": f"Replicas {self.run_id}"},
            "track": "developing", "region": "Asia", "start_date": "2026-06-01",
            "end_date": "2026-06-20", "seats": self.args.seats,
            "country_quotas": {"VN": self.args.vn_quota}, "status": "open"},
            f"{self.run_id}-programme")[0]
        self.partner = self.create_once("projects", "/v1/partners", {
            "name": "Federation of Independent Trade Unions", "acronym": "FITU",
            "country": "KH", "kind": "federation",
            "contact": {"name": "Mr Sok", "email": "sok@example.org"}},
            f"{self.run_id}-partner")[0]

    def teardown(self):
        if self.proxy:
            self.proxy.stop()
        for replicas in self.replicas.values():
            for replica in replicas:
                replica.stop()
        if self.broker:
            self.broker.stop()
        for name in SERVICES:
            try:
                self.pg.sql("postgres",
                            f"DROP DATABASE IF EXISTS {self.databases[name]} WITH (FORCE)")
            except RuntimeError as error:
                log(f"cannot drop {self.databases[name]}: {error}")
        if self.failures or self.args.keep:
            log(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def fail(self, text):
        with self.lock:
            if len(self.failures) < 200:
                self.failures.append(text)
        log("FAIL: " + text)

    def port(self, service):
        return self.proxy.ports[service]

    # -- writes that survive a replica's death ---------------------------------------------

    def create_once(self, service, path, body, key):
        """POSTs until an answer is 2xx, always with the same Idempotency-Key: a 502 (the
        replica died with the request) or a broken connection may or may not have committed,
        and the key makes the retry return what the first attempt created."""
        for _ in range(100):
            try:
                status, answer, headers = call(self.port(service), "POST", path, body, self.token,
                                               {"Idempotency-Key": key})
            except OSError:
                status, answer, headers = None, None, {}
            if status is not None and 200 <= status < 300:
                return answer["id"], headers.get("etag"), answer
            self.count("retried_writes")
            if status is not None and status < 500 and status != 409:
                raise RuntimeError(f"POST {path}: {status} {answer}")
            time.sleep(0.2)
        raise RuntimeError(f"POST {path} never answered 2xx")

    def change(self, service, method, path, body, etag, resource, done):
        """An If-Match write retried across a replica's death: after a 412, a GET tells whether
        an earlier attempt (whose answer was lost) applied it (`done(resource)`), else the
        fresh ETag is used. Returns (status, answer) of the accepted attempt or of the GET that
        found the change applied."""
        for _ in range(100):
            try:
                status, answer, headers = call(self.port(service), method, path, body, self.token,
                                               {"If-Match": etag})
            except OSError:
                status, answer, headers = None, None, {}
            if status is not None and 200 <= status < 300:
                return status, answer, headers.get("etag")
            if status == 412 or status is None or status >= 500:
                if status != 412:
                    self.count("retried_writes")
                try:
                    got, current, got_headers = call(self.port(service), "GET", resource,
                                                     token=self.token)
                except OSError:
                    time.sleep(0.2)
                    continue
                if got == 200 and done(current):
                    return 0, current, got_headers.get("etag")  # 0: applied, answer lost
                if got == 200:
                    etag = got_headers.get("etag", etag)
                time.sleep(0.1)
                continue
            raise RuntimeError(f"{method} {path}: {status} {answer}")
        raise RuntimeError(f"{method} {path} never applied")

    def count(self, figure):
        with self.lock:
            self.figures[figure] = self.figures.get(figure, 0) + 1

    def record(self, *item):
        with self.lock:
            self.accepted.append(item)

    # -- the load --------------------------------------------------------------------------

    def nomination(self, n):
        nationality = ("VN", "KH", "LA")[n % 3]
        marker = f"Rep{self.run_id}n{n}"
        body = {"candidate": {"family_name": marker, "given_name": "Lan",
                              "nationality": nationality,
                              "email": f"{marker.lower()}@example.org", "union": "VGCL",
                              "position": "Youth officer"},
                "nominating_organisation": {"name": "VGCL", "country": nationality}}
        nid, etag, _ = self.create_once("invitations",
                                        f"/v1/programmes/{self.programme}/nominations", body,
                                        f"{self.run_id}-nom-{n}")
        self.record("nomination", nid, f"{self.run_id}-nom-{n}")
        self.change("invitations", "POST", f"/v1/nominations/{nid}/transitions",
                    {"to": "screened"}, etag, f"/v1/nominations/{nid}",
                    lambda doc: doc.get("status") != "submitted")
        self.record("nomination.screened", nid, None)
        with self.lock:
            self.screened.append((nid, nationality))

    def project(self, n):
        body = {"title": {"ja": "安全", "en": f"Safety {self.run_id} {n}"}, "country": "KH",
                "partner_id": self.partner, "area": "occupational_safety_health",
                "support_type": "both", "description": "Training", "funding_source": "JILAF",
                "start_date": "2026-04-01", "end_date": "2027-03-31",
                "budget": {"amount": 8000000, "currency": "JPY"}}
        pid, etag, _ = self.create_once("projects", "/v1/projects", body,
                                        f"{self.run_id}-prj-{n}")
        self.record("project", pid, f"{self.run_id}-prj-{n}")
        for step in range(2):
            text = f"Training, step {step + 1}"
            _, answer, etag = self.change("projects", "PATCH", f"/v1/projects/{pid}",
                                          {"description": text}, etag, f"/v1/projects/{pid}",
                                          lambda doc, t=text: doc.get("description") == t)
            self.record("project.updated", pid, answer.get("version"))
        self.race(pid, etag)

    def race(self, pid, etag):
        """Two clients update the project with the same ETag at once, through the proxy (so,
        most of the time, through both replicas): one wins, the other gets 412."""
        barrier = threading.Barrier(2)
        results = [None, None]

        def one(i):
            barrier.wait()
            try:
                results[i] = call(self.port("projects"), "PATCH", f"/v1/projects/{pid}",
                                  {"description": f"Race {i}"}, self.token,
                                  {"If-Match": etag})
            except OSError:
                results[i] = (None, None, {})

        threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(r[0] or 0 for r in results)
        with self.lock:
            self.races.append((pid, statuses))
        for status, answer, _ in results:
            if status is not None and 200 <= status < 300:
                self.record("project.updated", pid, answer.get("version"))

    def mission(self, n):
        body = {"title": {"ja": "調査", "en": f"Study {self.run_id} {n}"}, "countries": ["KH"],
                "start_date": "2026-05-01", "end_date": "2026-05-09", "objectives": ["wages"]}
        mid, _, _ = self.create_once("missions", "/v1/missions", body, f"{self.run_id}-mis-{n}")
        self.record("mission", mid, f"{self.run_id}-mis-{n}")

    def client(self, index, stop):
        n = index
        period = self.args.clients / self.args.rate  # each client's share of the rate
        next_at = time.monotonic()
        while not stop.is_set():
            kind = (self.nomination, self.project, self.nomination, self.mission)[n % 4]
            try:
                kind(n)
            except Exception as error:  # noqa: BLE001 - a client must never die silently
                self.fail(f"client {index}: {error}")
            n += self.args.clients
            next_at += period
            stop.wait(max(0.0, next_at - time.monotonic()))

    def select_all(self):
        """Selects every screened nomination at once, from many threads: the seats and the
        country quota must hold across the replicas."""
        with self.lock:
            candidates = list(self.screened)
        vn = sum(1 for _, nationality in candidates if nationality == "VN")
        # What the rules let through: the seats, of which at most the quota from Vietnam.
        fillable = min(self.args.seats, len(candidates) - vn + min(vn, self.args.vn_quota))
        outcomes = {"selected": [], "capacity": 0, "other": [], "fillable": fillable}

        def one(item):
            nid, nationality = item
            for _ in range(50):
                try:
                    got, doc, headers = call(self.port("invitations"), "GET",
                                             f"/v1/nominations/{nid}", token=self.token)
                    if got != 200:
                        time.sleep(0.1)
                        continue
                    if doc.get("status") == "selected":
                        return ("selected", nid, nationality)  # an earlier attempt applied it
                    status, answer, _ = call(self.port("invitations"), "POST",
                                             f"/v1/nominations/{nid}/transitions",
                                             {"to": "selected"}, self.token,
                                             {"If-Match": headers.get("etag", "")})
                except OSError:
                    time.sleep(0.1)
                    continue
                if status is not None and 200 <= status < 300:
                    return ("selected", nid, nationality)
                if status == 409 and answer and "capacity" in json.dumps(answer):
                    return ("capacity", nid, nationality)
                if status == 412 or status >= 500:
                    continue
                return ("other", nid, f"{status} {answer}")
            return ("other", nid, "never answered")

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            for kind, nid, extra in pool.map(one, candidates):
                if kind == "selected":
                    outcomes["selected"].append((nid, extra))
                elif kind == "capacity":
                    outcomes["capacity"] += 1
                else:
                    outcomes["other"].append(f"{nid}: {extra}")
        return outcomes

    def load(self):
        self.screened = []
        self.races = []
        stop = threading.Event()
        clients = [threading.Thread(target=self.client, args=(i, stop), daemon=True)
                   for i in range(self.args.clients)]
        for c in clients:
            c.start()
        third = self.args.duration / 3
        time.sleep(third)
        log("SIGKILL: replica a of every service")
        leaders = {}
        for name in SERVICES:
            victim = self.replicas[name][0]
            with open(victim.log, encoding="utf-8", errors="replace") as f:
                text = f.read()
            leaders[name] = "jilaf.outbox." + name in text and "cluster lock taken" in text
            victim.kill9()
        killed_at = time.monotonic()
        time.sleep(2)
        for name in SERVICES:
            self.replicas[name][0].start()
        for name in SERVICES:
            self.replicas[name][0].wait_ready()
        self.figures["restart_s"] = round(time.monotonic() - killed_at, 1)
        self.figures["killed_relay_leader"] = sum(leaders.values())
        log(f"replicas a back after {self.figures['restart_s']} s")
        time.sleep(max(0.0, self.args.duration - 2 * third))
        outcomes = self.select_all()
        time.sleep(max(0.0, third - 0))
        stop.set()
        for c in clients:
            c.join(120)
        return outcomes

    # -- checks ----------------------------------------------------------------------------

    def outbox(self, service):
        """(event id, topic, key, pending) of every outbox row, in seq order."""
        return self.pg.sql(self.databases[service], "SELECT event_id, topic, msg_key,"
                           " sent_ms IS NULL FROM outbox ORDER BY seq")

    def inbox(self, service):
        return {row[0] for row in self.pg.sql(self.databases[service],
                                              "SELECT event_id FROM inbox")}

    def dump(self, topics):
        result = subprocess.run(
            [os.path.join(self.build, "tools", "jilaf-kafka-tool"), "dump", "--brokers",
             self.brokers, *sorted(topics)], capture_output=True, text=True, check=True,
            timeout=300)
        return [json.loads(line) for line in result.stdout.splitlines() if line]

    def drain(self):
        """Until every outbox is published and both consumers applied every invitations event."""
        deadline = time.monotonic() + self.args.drain_limit
        state = "?"
        while time.monotonic() < deadline:
            pending = sum(1 for name in SERVICES for row in self.outbox(name) if row[3] == "t")
            invitations = {row[0] for row in self.outbox("invitations")}
            missing_n = len(invitations - self.inbox("notifications"))
            missing_m = len(invitations - self.inbox("missions"))
            state = (f"{pending} outbox rows pending; {missing_n} invitations events not in "
                     f"notifications' inbox, {missing_m} not in missions'")
            if pending == 0 and missing_n == 0 and missing_m == 0:
                return time.monotonic() - (deadline - self.args.drain_limit)
            time.sleep(1)
        self.fail(f"not drained after {self.args.drain_limit} s: {state}")
        return None

    def check_events(self):
        outboxes = {name: self.outbox(name) for name in SERVICES}
        messages = self.dump({row[1] for rows in outboxes.values() for row in rows})
        ours = {row[0] for rows in outboxes.values() for row in rows}
        by_id = {}
        copies = 0
        for m in messages:
            event_id = m["headers"].get("ce_id")
            if event_id not in ours:
                continue  # another test's event, on a shared broker
            if event_id in by_id:
                copies += 1  # published again after a failover; the inboxes drop it
                continue
            by_id[event_id] = m
        total = 0
        for name, rows in outboxes.items():
            total += len(rows)
            # Per topic and key, the first copies in the log keep the outbox's order (the
            # commit order of the aggregate's changes: its row lock serialises them).
            per_key = {}
            for event_id, topic, key, _ in rows:
                m = by_id.get(event_id)
                if m is None:
                    self.fail(f"{name}: outbox event {event_id} (key {key}) not on {topic}")
                    continue
                if m["topic"] != topic or m.get("key") != key:
                    self.fail(f"{name}: event {event_id} on {m['topic']} key {m.get('key')}")
                per_key.setdefault((topic, key), []).append((m["partition"], m["offset"]))
            for (topic, key), places in per_key.items():
                if len({p for p, _ in places}) > 1 or places != sorted(places):
                    self.fail(f"{name}: key {key} out of order on {topic}: {places}")
        self.figures["events"] = total
        self.figures["log_copies"] = copies
        return by_id

    def check_writes(self, by_id):
        types = {}
        for m in by_id.values():
            data = json.loads(m.get("value") or "null") if m.get("value") else None
            types.setdefault((m["headers"].get("ce_type"), m.get("key")), []).append(data)
        expected = {"nomination": "jilaf.invitations.nomination.submitted",
                    "nomination.screened": "jilaf.invitations.nomination.screened",
                    "project": "jilaf.projects.project.created",
                    "project.updated": "jilaf.projects.project.updated",
                    "mission": "jilaf.missions.mission.created"}
        keys = {}
        for kind, entity, extra in self.accepted:
            if kind in ("nomination", "project", "mission"):
                keys.setdefault(extra, set()).add(entity)
            found = types.get((expected[kind], entity), [])
            if kind == "project.updated":
                found = [d for d in found if isinstance(d, dict) and d.get("version") == extra]
            if not found:
                self.fail(f"accepted {kind} {entity} ({extra}) has no event")
        for key, entities in keys.items():
            if len(entities) != 1:
                self.fail(f"Idempotency-Key {key} answered with {len(entities)} entities")
        # Present once: the rows in the databases are exactly the accepted entities.
        tables = {"nomination": ("invitations", "nominations",
                                 f"programme_id = '{self.programme}'"),
                  "project": ("projects", "projects", f"id <> '{self.partner}'"),
                  "mission": ("missions", "missions", "true")}
        for kind, (service, table, where) in tables.items():
            rows = [r[0] for r in self.pg.sql(self.databases[service],
                                              f"SELECT id FROM {table} WHERE {where}")]
            accepted = {e for k, e, _ in self.accepted if k == kind}
            if len(rows) != len(set(rows)) or set(rows) != accepted:
                self.fail(f"{table}: {len(rows)} rows, {len(accepted)} accepted creates "
                          f"(extra {sorted(set(rows) - accepted)[:3]}, "
                          f"missing {sorted(accepted - set(rows))[:3]})")
        self.figures["accepted_writes"] = len(self.accepted)

    def check_effects(self):
        invitations = {row[0] for row in self.outbox("invitations")
                       if row[1] == "jilaf.invitations.events"}
        effects = self.pg.sql(self.databases["notifications"],
                              "SELECT event_id, audience, count(*) FROM inbox_notifications"
                              " GROUP BY event_id, audience")
        doubled = [r for r in effects if int(r[2]) > 1]
        if doubled:
            self.fail(f"{len(doubled)} staff-inbox items applied twice, e.g. {doubled[0]}")
        with_effect = {r[0] for r in effects}
        missing = invitations - with_effect
        if missing:
            self.fail(f"{len(missing)} invitations events without a staff-inbox item")
        self.figures["effects"] = len(effects)

    def check_rules(self, outcomes):
        selected = outcomes["selected"]
        vn = sum(1 for _, nationality in selected if nationality == "VN")
        for text in outcomes["other"][:5]:
            self.fail(f"selection answered neither 2xx nor 409 capacity: {text}")
        rows = self.pg.sql(self.databases["invitations"],
                           "SELECT nationality, count(*) FROM nominations WHERE programme_id ="
                           f" '{self.programme}' AND status = 'selected' GROUP BY nationality")
        in_db = {r[0]: int(r[1]) for r in rows}
        if sum(in_db.values()) > self.args.seats or len(selected) > self.args.seats:
            self.fail(f"seats exceeded: {len(selected)} selections, {in_db} in the database")
        if in_db.get("VN", 0) > self.args.vn_quota or vn > self.args.vn_quota:
            self.fail(f"VN quota exceeded: {vn} selections, {in_db.get('VN', 0)} in the database")
        if sum(in_db.values()) != len(selected):
            self.fail(f"{len(selected)} selections answered 2xx, {in_db} selected in the database")
        if len(selected) != outcomes["fillable"]:
            self.fail(f"{len(selected)} selected where the rules let {outcomes['fillable']} in")
        both = [r for r in self.races if r[1][0] is not None and r[1] != [0, 0]]
        decided = [s for _, s in both if all(x in (200, 412) for x in s)]
        wrong = [s for s in decided if s != [200, 412]]
        if wrong:
            self.fail(f"racing If-Match updates answered {wrong[:3]}, not one 200 and one 412")
        if not decided:
            self.fail("no racing update pair was decided (nothing tested)")
        # No update lost: a project's version is 1 + the updates accepted for it.
        updates = {}
        for kind, entity, _ in self.accepted:
            if kind == "project.updated":
                updates[entity] = updates.get(entity, 0) + 1
        versions = {r[0]: int(r[1]) for r in self.pg.sql(self.databases["projects"],
                                                         "SELECT id, version FROM projects")}
        for entity, count in updates.items():
            if versions.get(entity) != 1 + count:
                self.fail(f"project {entity}: version {versions.get(entity)}, {count} updates"
                          " accepted")
        self.figures.update({"selected": len(selected), "capacity_409": outcomes["capacity"],
                             "races": len(decided)})

    def check_cluster(self):
        for name in SERVICES:
            status, answer, _ = call(self.port(name), "GET", "/v1/audit/verify",
                                     token=self.tokens["admin"])
            if status != 200 or not answer or not answer.get("intact"):
                self.fail(f"{name}: audit chain does not verify: {status} {answer}")
            locks = self.pg.sql(self.databases[name],
                                "SELECT objid, classid, count(*) FROM pg_locks WHERE"
                                " locktype = 'advisory' AND granted AND database ="
                                " (SELECT oid FROM pg_database WHERE datname ="
                                " current_database()) GROUP BY objid, classid")
            if len(locks) != 2 or any(int(r[2]) != 1 for r in locks):
                self.fail(f"{name}: expected two cluster locks held once each, got {locks}")

    def run(self):
        self.setup()
        outcomes = self.load()
        log(f"load done: {len(self.accepted)} accepted writes; draining")
        drained = self.drain()
        self.figures["drain_s"] = None if drained is None else round(drained, 1)
        by_id = self.check_events()
        self.check_writes(by_id)
        self.check_effects()
        self.check_rules(outcomes)
        self.check_cluster()
        self.figures["failures"] = len(self.failures)
        return not self.failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build", "release"))
    parser.add_argument("--database-url", default=os.environ.get("JILAF_TEST_DATABASE_URL"))
    parser.add_argument("--database-password-file",
                        default=os.environ.get("JILAF_TEST_DATABASE_PASSWORD_FILE"))
    parser.add_argument("--brokers", default=os.environ.get("JILAF_TEST_KAFKA_BOOTSTRAP"))
    parser.add_argument("--duration", type=float, default=45.0, help="seconds of load")
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--rate", type=float, default=30.0,
                        help="operations per second, all clients together (an operation: a"
                             " create and its updates)")
    parser.add_argument("--seats", type=int, default=6)
    parser.add_argument("--vn-quota", type=int, default=2)
    parser.add_argument("--drain-limit", type=float, default=120.0)
    parser.add_argument("--own-broker", action="store_true",
                        help="start a broker of its own (scripts/kafka-ctl) instead of --brokers")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if not (args.database_url and args.database_password_file and
            (args.brokers or args.own_broker)):
        print("needs a PostgreSQL server and a Kafka broker: run through scripts/test -L replicas"
              " or scripts/faults --only replicas-sigkill", file=sys.stderr)
        return 2
    test = Test(args)
    ok = False
    try:
        ok = test.run()
    finally:
        test.teardown()
    print(json.dumps(test.figures))
    log("passed" if ok else f"FAILED: {len(test.failures)} failures")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
