#!/usr/bin/python3
"""Fault case: PostgreSQL stopped for 30 s and restarted under write load (issue 17).

Run through `scripts/faults --postgres-outage` (which builds the binaries). Starts a Kafka broker
(scripts/kafka-ctl) and a PostgreSQL 15 cluster (scripts/lib/postgres.sh) of its own, then
invitations, projects and notifications on PostgreSQL, each on a database of its own. A load
posts nominations and projects with Idempotency-Keys at a steady rate; a client that gets a 503
waits its Retry-After and sends the same request again, as the project's clients do. Then the
server is stopped (fast shutdown: every session cut) for --outage-s seconds and started again.

Checked: during the outage every write is answered (within the client's timeout: no hang) with
503 application/problem+json and a Retry-After, never a 500; `/readyz` of every service says
`store: down`; after the restart every service is ready again by itself (no restart of the
service), every write the load had answered 2xx is there (GET 200) with its event on the topic
once, every retried write ends in one entity, and notifications applied every invitations event
once. Prints a table of figures; the full mode writes the "## PostgreSQL outage" section of
docs/reliability.md. Exits 1 if a check failed.
"""

import argparse
import http.client
import concurrent.futures
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faults import (REPO, Broker, Pacer, call, finish, log, markdown_table,  # noqa: E402 - shared
                    run_stamp, write_section)
from jilaf_procs import credentials, free_port, start, stop, wait_ready  # noqa: E402

SECTION = "## PostgreSQL outage"
POSTGRES_SH = os.path.join(REPO, "scripts", "lib", "postgres.sh")
HANG_S = 10.0  # the client's timeout: an answer slower than this is a hang
SERVICES = ("invitations", "projects", "notifications")


def shell(script, *args):
    """Runs `script` in bash with scripts/lib/postgres.sh sourced; returns its stdout."""
    return subprocess.run(["bash", "-c", f'source "{POSTGRES_SH}"; {script}', "postgres.sh",
                           *args], check=True, capture_output=True, text=True).stdout


class Cluster:
    def __init__(self):
        # Under /tmp itself: as root the server runs as another user, which must reach it.
        self.dir = tempfile.mkdtemp(prefix="jilaf-faults-pg-")
        self.port = free_port()
        self.start()
        with open(os.path.join(self.dir, "url")) as url:
            self.url = url.read().strip()
        self.password_file = os.path.join(self.dir, "password")

    def start(self):
        shell('postgres_start "$1" "$2"', self.dir, str(self.port))

    def stop(self):
        shell('postgres_stop "$1"', self.dir)

    def database(self, name):
        shell('postgres_create_database "$1" "$2"', self.dir, name)
        return self.url.rsplit("/", 1)[0] + "/" + name

    def query(self, database, sql):
        out = shell('postgres_query "$1" "$2" "$3"', self.dir, database, sql)
        return [line.split("|") for line in out.splitlines() if line]

    def remove(self):
        try:
            self.stop()
        finally:
            subprocess.run(["rm", "-rf", self.dir], check=False)


class Service:
    def __init__(self, suite, name, extra=()):
        self.name = name
        self.database = f"faults_{name}"
        self.http_port = free_port()
        self.admin_port = free_port()
        self.log = os.path.join(suite.dir, f"{name}.log")
        self.args = [os.path.join(suite.build, "services", name, f"jilaf-{name}"),
                     "--listen-address", "127.0.0.1", "--http-port", str(self.http_port),
                     "--admin-port", str(self.admin_port), "--store", "postgres",
                     "--database-url", suite.cluster.database(self.database),
                     "--database-password-file", suite.cluster.password_file,
                     "--kafka-brokers", suite.broker.bootstrap,
                     "--jwt-public-key", suite.public_key, "--drain-timeout-ms", "2000",
                     "--log-level", os.environ.get("FAULTS_LOG_LEVEL", "warn"), *extra]
        if name in ("invitations", "notifications"):
            self.args += ["--field-key-file", suite.field_key]
        self.process = start(self.args, self.log)
        wait_ready(self.process, self.admin_port, self.name, self.log, 60,
                   probe_timeout=HANG_S)

    def readiness(self):
        """(status, body) of /readyz; (None, None) when it does not answer in time."""
        try:
            status, body, _ = call(self.admin_port, "GET", "/readyz", timeout=HANG_S,
                                   retry=False)
            return status, body
        except OSError:
            return None, None

    def published(self):
        """jilaf_events_published_total over every topic (the relay's deliveries), or None."""
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=HANG_S)
        try:
            conn.request("GET", "/metrics")
            text = conn.getresponse().read().decode()
        except (OSError, http.client.HTTPException):
            return None
        finally:
            conn.close()
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("jilaf_events_published_total{"))

    def stop(self):
        stop(self.process)


class Attempt:
    """One HTTP answer to a write: when it was sent, what came back, how long it took."""
    __slots__ = ("start", "status", "latency", "problem", "retry_after", "error")

    def __init__(self):
        self.start = time.monotonic()
        self.status = self.latency = self.problem = self.retry_after = self.error = None


class Write:
    """A logical write: the same request (same Idempotency-Key) until it gets a final answer."""

    def __init__(self, kind, key, body, path, service):
        self.kind, self.key, self.body, self.path, self.service = kind, key, body, path, service
        self.attempts = []
        self.entity = None
        self.final = None

    @property
    def acked(self):
        return self.final is not None and 200 <= self.final < 300


class Suite:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build_dir)
        self.dir = tempfile.mkdtemp(prefix="jilaf-faults-pg-work-")
        self.run_id = f"{int(time.time()) % 100000}"
        self.writes = []
        self.lock = threading.Lock()
        self.failures = []
        self.figures = {}
        self.pacer = None

    def fail(self, text):
        log(f"FAILED: {text}")
        self.failures.append(text)

    # -- set-up ------------------------------------------------------------------------------

    def setup(self):
        log(f"work directory {self.dir}")
        self.broker = Broker(self.dir)
        self.broker.start()
        self.cluster = Cluster()
        log(f"broker on {self.broker.bootstrap}, PostgreSQL on {self.cluster.url}")
        self.public_key, self.field_key, tokens = credentials(self.dir, self.build, ("staff",),
                                                              "faults", ttl=14400)
        self.token = tokens["staff"]
        self.group = f"faults-pg-{self.run_id}"
        self.services = {
            "invitations": Service(self, "invitations"),
            "projects": Service(self, "projects"),
            "notifications": Service(self, "notifications",
                                     ["--consumer-group", self.group, "--smtp-port",
                                      str(free_port())]),
        }
        self.programme = self.create("invitations", "/v1/programmes", {
            "fiscal_year": 2026, "title": {"ja": "招へい", "en": "Outage programme"},
            "track": "developing", "region": "Asia", "start_date": "2026-06-01",
            "end_date": "2026-06-20", "seats": 500, "country_quotas": {}, "status": "open"})
        self.partner = self.create("projects", "/v1/partners", {
            "name": "Federation of Independent Trade Unions", "acronym": "FITU", "country": "KH",
            "kind": "federation", "contact": {"name": "Mr Sok", "email": "sok@example.org"}})

    def create(self, service, path, body):
        status, answer, _ = call(self.services[service].http_port, "POST", path, body,
                                 self.token, {"Idempotency-Key": f"{self.run_id}-{path}"},
                                 timeout=30)
        if status != 201:
            raise RuntimeError(f"set-up POST {path}: {status} {answer}")
        return answer["id"]

    # -- load --------------------------------------------------------------------------------

    def new_write(self, n):
        if n % 2 == 0:
            marker = f"Outage{self.run_id}n{n}"
            body = {"candidate": {"family_name": marker, "given_name": "Lan",
                                  "nationality": "VN", "email": f"{marker.lower()}@example.org",
                                  "union": "VGCL", "position": "Youth officer"},
                    "nominating_organisation": {"name": "VGCL", "country": "VN"}}
            return Write("nomination", f"{self.run_id}-nom-{n}", body,
                         f"/v1/programmes/{self.programme}/nominations", "invitations")
        body = {"title": {"ja": "安全", "en": f"Safety {n}"}, "country": "KH",
                "partner_id": self.partner, "area": "occupational_safety_health",
                "support_type": "both", "description": "Training", "funding_source": "JILAF",
                "start_date": "2026-04-01", "end_date": "2027-03-31",
                "budget": {"amount": 8000000, "currency": "JPY"}}
        return Write("project", f"{self.run_id}-prj-{n}", body, "/v1/projects", "projects")

    def drive(self, write):
        """Sends the write until it gets a final answer; a 503 is retried after Retry-After."""
        port = self.services[write.service].http_port
        deadline = time.monotonic() + self.args.outage_s + 120
        while time.monotonic() < deadline:
            attempt = Attempt()
            try:
                status, body, headers = call(port, "POST", write.path, write.body, self.token,
                                             {"Idempotency-Key": write.key}, timeout=HANG_S,
                                             retry=False)
                attempt.status = status
                attempt.problem = headers.get("content-type", "").startswith(
                    "application/problem+json")
                attempt.retry_after = headers.get("retry-after")
                if 200 <= status < 300 and body:
                    write.entity = body.get("id")
            except OSError as error:
                attempt.error = type(error).__name__
            attempt.latency = time.monotonic() - attempt.start
            with self.lock:
                write.attempts.append(attempt)
            if attempt.status is not None and attempt.status != 503:
                write.final = attempt.status
                return
            try:
                wait = float(attempt.retry_after or 1)
            except ValueError:
                wait = 1.0
            time.sleep(min(max(wait, 0.1), 5.0))

    def tick(self, pool, n):
        write = self.new_write(n)
        with self.lock:
            self.writes.append(write)
        pool.submit(self.drive, write)

    # -- the fault ---------------------------------------------------------------------------

    def run(self):
        self.setup()
        # A thread per write in flight: those waiting out the outage must not hold back the
        # writes that keep arriving at the steady rate.
        workers = int(self.args.rate * (self.args.outage_s + self.args.before_s + 30)) + 16
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers)
        self.pacer = Pacer(self.args.rate, lambda n: self.tick(pool, n))
        self.pacer.running.set()
        time.sleep(self.args.before_s)
        log(f"stopping PostgreSQL for {self.args.outage_s:g} s under load")
        self.cluster.stop()
        down_at = time.monotonic()
        self.watch_outage(down_at)
        log("starting PostgreSQL again")
        self.cluster.start()
        up_at = time.monotonic()
        self.figures["outage_s"] = up_at - down_at
        self.watch_recovery(up_at)
        time.sleep(self.args.after_s)
        self.pacer.stop()
        pool.shutdown(wait=True)
        self.figures["down_at"], self.figures["up_at"] = down_at, up_at
        self.check(down_at, up_at)

    def watch_outage(self, down_at):
        """Polls /readyz of every service through the outage: each must say `store: down`."""
        said_down = {}
        while time.monotonic() - down_at < self.args.outage_s:
            for name, service in self.services.items():
                if service.process.poll() is not None:
                    self.fail(f"{name} exited during the outage ({service.process.returncode})")
                    return
                status, body = service.readiness()
                if status is None:
                    self.fail(f"{name}: /readyz did not answer within {HANG_S:g} s")
                elif status == 503 and (body or {}).get("store") == "down":
                    said_down.setdefault(name, time.monotonic() - down_at)
                elif status == 200:
                    pass  # not noticed yet: it must be within the outage
                else:
                    self.fail(f"{name}: /readyz answered {status} {body} during the outage")
            time.sleep(0.25)
        for name in self.services:
            if name not in said_down:
                self.fail(f"{name}: /readyz never said store: down during the outage")
        self.figures["readyz_down_s"] = max(said_down.values()) if said_down else None

    def watch_recovery(self, up_at):
        """Every service ready again by itself, without being restarted; and how soon the
        relays of the services that publish deliver events again (the load goes on after the
        restart, so each has new rows to publish once it has its outbox lock back)."""
        ready = {}
        producers = ("invitations", "projects")
        published = {name: self.services[name].published() for name in producers}
        relaying = {}
        deadline = up_at + 120
        while ((len(ready) < len(self.services) or len(relaying) < len(producers))
               and time.monotonic() < deadline):
            for name, service in self.services.items():
                if name not in ready and service.readiness()[0] == 200:
                    ready[name] = time.monotonic() - up_at
            for name in producers:
                count = self.services[name].published()
                if name not in relaying and count is not None and count > (published[name] or 0):
                    relaying[name] = time.monotonic() - up_at
            time.sleep(0.05)
        for name in producers:
            if name not in relaying:
                self.fail(f"{name}'s relay published nothing within 120 s of the restart")
        self.figures["relay_resumed_s"] = max(relaying.values()) if relaying else None
        for name in self.services:
            if name not in ready:
                self.fail(f"{name} not ready again within 120 s of the restart")
            elif self.services[name].process.poll() is not None:
                self.fail(f"{name} exited")
        self.figures["recovery_s"] = max(ready.values()) if ready else None

    # -- checks ------------------------------------------------------------------------------

    def check(self, down_at, up_at):
        attempts = [a for w in self.writes for a in w.attempts]
        during = [a for a in attempts if down_at <= a.start <= up_at]
        bad = [a for a in attempts if a.status is not None and a.status >= 500 and a.status != 503]
        hangs = [a for a in attempts if a.error is not None]
        refused = [a for a in attempts if a.status == 503]
        unframed = [a for a in refused if not a.problem or not a.retry_after]
        if bad:
            self.fail(f"{len(bad)} answers of 5xx other than 503: {sorted({a.status for a in bad})}")
        if hangs:
            self.fail(f"{len(hangs)} writes not answered within {HANG_S:g} s "
                      f"({sorted({a.error for a in hangs})})")
        if unframed:
            self.fail(f"{len(unframed)} 503 answers without problem+json or Retry-After")
        if not [a for a in during if a.status == 503]:
            self.fail("no write was refused with 503 during the outage")
        unfinished = [w for w in self.writes if not w.acked]
        if unfinished:
            self.fail(f"{len(unfinished)} writes never accepted, e.g. "
                      f"{[(w.kind, w.final) for w in unfinished[:5]]}")
        acked = [w for w in self.writes if w.acked]
        # Nothing accepted is lost: every acknowledged write reads back.
        missing = []
        for write in acked:
            path = ("/v1/nominations/" if write.kind == "nomination" else "/v1/projects/")
            status, _, _ = call(self.services[write.service].http_port, "GET",
                                path + str(write.entity), token=self.token, timeout=30)
            if status != 200:
                missing.append((write.kind, write.entity, status))
        if missing:
            self.fail(f"{len(missing)} acknowledged writes do not read back: {missing[:5]}")
        created = {"nomination": "jilaf.invitations.nomination.submitted",
                   "project": "jilaf.projects.project.created"}

        def without(events):
            return [w for w in acked if events.get((created[w.kind], w.entity), 0) != 1]

        # The relays publish what was committed during and after the outage once they are
        # back (the outbox lock taken again, their backoff over): read the topics until every
        # acknowledged write has its event, or a minute has passed.
        deadline = time.monotonic() + 60
        events = self.events()
        while without(events) and time.monotonic() < deadline:
            time.sleep(1)
            events = self.events()
        self.figures["published_after_restart_s"] = time.monotonic() - up_at
        without_event = without(events)
        if without_event:
            self.fail(f"{len(without_event)} acknowledged writes without exactly one distinct event, e.g. "
                      f"{[(w.kind, w.entity, events.get((created[w.kind], w.entity), 0)) for w in without_event[:5]]}")
        # One entity per Idempotency-Key: no second nomination for a retried key.
        submitted = sum(1 for (etype, _), _n in events.items() if etype == created["nomination"])
        nominations = sum(1 for w in self.writes if w.kind == "nomination")
        if submitted != nominations:
            self.fail(f"{submitted} nominations submitted for {nominations} keys")
        applied = self.wait_applied(
            {entity for (etype, entity) in events if etype == created["nomination"]})
        self.figures.update({
            "writes": len(self.writes), "acked": len(acked), "attempts": len(attempts),
            "during": len(during), "refused_503": len(refused),
            "sent_during": sum(1 for w in self.writes
                               if w.attempts and down_at <= w.attempts[0].start <= up_at),
            "retry_after": sorted({a.retry_after for a in refused if a.retry_after}),
            "max_latency_during_ms": max((a.latency for a in during), default=0) * 1000,
            "missing": len(missing) + len(without_event),
            "retried": sum(1 for w in self.writes if len(w.attempts) > 1),
            "applied": applied,
        })

    def events(self):
        """(type, aggregate id) -> distinct events on the topics (jilaf-kafka-tool dump).

        The relay publishes at least once: a server that stops between a row's publication and
        its mark makes the relay send the row again, with the same event id, and the consumers'
        inboxes drop the copy. So the check counts distinct ids; the copies are a figure.
        """
        out = subprocess.run(
            [os.path.join(self.build, "tools", "jilaf-kafka-tool"), "dump", "--brokers",
             self.broker.bootstrap, "jilaf.invitations.events", "jilaf.projects.events"],
            capture_output=True, text=True, check=True, timeout=300).stdout
        ids = {}
        copies = 0
        for line in out.splitlines():
            message = json.loads(line)
            try:
                data = json.loads(message.get("value") or "null")
            except ValueError:
                continue
            if not isinstance(data, dict):
                continue
            etype = message["headers"].get("ce_type", "")
            entity = data.get("nomination_id") or data.get("project_id")
            if entity:
                seen = ids.setdefault((etype, entity), set())
                event_id = message["headers"].get("ce_id", "")
                copies += event_id in seen
                seen.add(event_id)
        self.figures["republished_copies"] = copies
        return {key: len(seen) for key, seen in ids.items()}

    def wait_applied(self, nominations):
        """notifications applies each invitations event once (its inbox effect, once each)."""
        deadline = time.monotonic() + 120
        subjects = {f"nominations/{n}" for n in nominations}
        seen = set()
        while time.monotonic() < deadline:
            rows = self.cluster.query(
                "faults_notifications",
                "SELECT doc::jsonb #>> '{event,subject}', count(*) FROM inbox_notifications"
                " GROUP BY 1")
            seen = {row[0] for row in rows}
            twice = [row for row in rows if int(row[1]) > 1 and row[0] in subjects]
            if twice:
                self.fail(f"notifications applied {len(twice)} nominations twice: {twice[:3]}")
                break
            if subjects <= seen:
                break
            time.sleep(1)
        missing = subjects - seen
        if missing:
            self.fail(f"notifications never applied {len(missing)} nominations")
        return len(subjects & seen)

    # -- report ------------------------------------------------------------------------------

    def table(self):
        f = self.figures

        def fmt(value, spec):
            return "—" if value is None else format(value, spec)

        rows = [("outage (server stopped → started)", fmt(f.get("outage_s"), ".1f") + " s"),
                ("writes (logical, one Idempotency-Key each)", f.get("writes", "—")),
                ("of which first sent during the outage", f.get("sent_during", "—")),
                ("HTTP answers to them (first tries and retries)", f.get("attempts", "—")),
                ("answers during the outage", f.get("during", "—")),
                ("503 answers, every one problem+json with Retry-After",
                 f.get("refused_503", "—")),
                ("Retry-After values seen (s)", ", ".join(f.get("retry_after", [])) or "—"),
                ("slowest answer during the outage",
                 fmt(f.get("max_latency_during_ms"), ".0f") + " ms"),
                ("writes retried after a 503, then accepted", f.get("retried", "—")),
                ("writes accepted in the end", f.get("acked", "—")),
                ("accepted writes lost or without their one event", f.get("missing", "—")),
                ("events sent again by a relay (same id, dropped by the inboxes)",
                 f.get("republished_copies", "—")),
                ("nominations applied once by notifications", f.get("applied", "—")),
                ("/readyz says store: down, at most after",
                 fmt(f.get("readyz_down_s"), ".1f") + " s"),
                ("every service ready again after the restart, within",
                 fmt(f.get("recovery_s"), ".1f") + " s"),
                ("every publishing relay delivering again after the restart, within",
                 fmt(f.get("relay_resumed_s"), ".1f") + " s"),
                ("every accepted write's event on its topic, by (after the restart)",
                 fmt(f.get("published_after_restart_s"), ".1f") + " s")]
        return markdown_table(("figure", "value"), rows)

    def markdown(self):
        now, commit = run_stamp()
        verdict = "every check held" if not self.failures else \
            f"{len(self.failures)} check(s) failed, listed below"
        out = [SECTION, "",
               f"Generated by `scripts/faults --postgres-outage` on {now}, commit {commit}, "
               f"{platform.release()}, {os.cpu_count()} shared cores. Result: **{verdict}**.", "",
               "invitations, projects and notifications run on one PostgreSQL 15 server (a "
               "database each) under a load of "
               f"{self.args.rate:g} writes/s (nominations and projects, each with an "
               "Idempotency-Key; a client that gets a 503 waits its Retry-After and sends the "
               f"same request again). After {self.args.before_s:g} s the server is stopped "
               "(`pg_ctl stop -m fast`: every session cut) and started again "
               f"{self.args.outage_s:g} s later; the load goes on throughout and "
               f"{self.args.after_s:g} s after. The services are not restarted.", "",
               self.table(), "",
               "What happens: a write whose transaction cannot reach the server fails at once "
               "with the connection's error, which the store reports as transient; the API "
               "answers 503 problem+json with `Retry-After`. The readiness probe opens a read "
               "on the pool; it fails, so `/readyz` answers 503 with `store: down`, and a "
               "Kubernetes Service stops sending traffic until it recovers. The writer and the "
               "read pool drop a lost connection and open a new one on next use, so the first "
               "write after the restart succeeds without any action; the outbox relay and the "
               "consumers retry with backoff, so the events of writes accepted before the "
               "outage are published and applied after it. The relay's backoff after a store "
               "failure is short (at most 250 ms), it checks its cluster lock at once after "
               "one, a failed check is retried within 100 ms, and its LISTEN connection, "
               "open again, wakes it: it leads and delivers again as soon as the server "
               "answers. The last figure is taken after the load and the read-back of every "
               "write, so it is bounded below by those. A write is never half done: its "
               "state change and its outbox row share one transaction.", ""]
        if self.failures:
            out += ["Failed checks:", ""] + [f"- {text}" for text in self.failures] + [""]
        return "\n".join(out)

    def write_report(self, path):
        write_section(path, SECTION, self.markdown())

    def teardown(self):
        if self.pacer:
            self.pacer.stop()
        for service in getattr(self, "services", {}).values():
            service.stop()
        if getattr(self, "cluster", None):
            self.cluster.remove()
        if getattr(self, "broker", None):
            self.broker.ctl("stop", check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build", "release"))
    parser.add_argument("--quick", action="store_true",
                        help="a shorter outage (10 s), no report (for scripts/test)")
    parser.add_argument("--outage-s", type=float, help="seconds the server stays down "
                                                      "(default 30; 10 with --quick)")
    parser.add_argument("--rate", type=float, default=10, help="writes per second")
    parser.add_argument("--out", help="report file (default docs/reliability.md, none with "
                                      "--quick)")
    args = parser.parse_args()
    if args.outage_s is None:
        args.outage_s = 10 if args.quick else 30
    args.before_s = 3 if args.quick else 10
    args.after_s = 3 if args.quick else 10
    if args.out is None and not args.quick:
        args.out = os.path.join(REPO, "docs", "reliability.md")
    suite = Suite(args)
    try:
        suite.run()
    except Exception as error:  # noqa: BLE001 - reported as a failed check, after teardown
        suite.fail(f"{type(error).__name__}: {error}")
    finally:
        suite.teardown()
    finish(suite, suite.failures, "Failed checks", args.out, "PostgreSQL outage")


if __name__ == "__main__":
    # SIGTERM (ctest's timeout) must still stop the broker, the server and the services.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
