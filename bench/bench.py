#!/usr/bin/python3
"""The JILAF benchmark: every figure of docs/benchmarks.md, measured side by side.

Run through scripts/bench (which builds, installs nginx and wrk, and starts a broker). Each
figure is taken --runs times (median, min, max); every ratio is computed within one run from
two measurements taken back to back, so that the machine's drift cancels out.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts", "lib"))
import jilaf_http  # noqa: E402 - the shared client: 429/503 wait Retry-After, then retry
from jilaf_procs import Nginx, credentials, free_port, start, stop, wait_ready  # noqa: E402
GENERATED_END = "<!-- end of generated results: everything below is kept by scripts/bench -->"

SERVICES = ["invitations", "projects", "missions", "notifications"]

PROGRAMME = {
    "fiscal_year": 2026,
    "title": {"ja": "アジア青年労働組合指導者招へい", "en": "Asia Young Leaders"},
    "track": "developing",
    "region": "Asia",
    "start_date": "2026-06-01",
    "end_date": "2026-06-20",
    "seats": 12,
    "country_quotas": {"VN": 2, "ID": 2},
    "status": "open",
}

TARGETS = {
    "read_ratio": (">=", 0.85),
    "read_p99_ratio": ("<=", 1.0),
    "write_read_ratio": (">=", 0.30),
    "write_cpu_us": ("<=", 250.0),
    "writer_cpu_us": ("<=", 80.0),
    "latency_p50_ms": ("<=", 1.5),
    "latency_p99_ms": ("<=", 4.0),
    "consumer_events_per_s": (">=", 20000.0),
    "consumer_handler_ratio": (">=", 0.5),
}
for _name in SERVICES:
    TARGETS[f"{_name}_rss_mb"] = ("<=", 30.0)
    TARGETS[f"{_name}_ready_s"] = ("<=", 0.5)

# The thread of common/store that runs every write transaction (named by Store::WriterLoop).
WRITER_THREAD = "store-writer"

# The results table: (label, figure, unit, format), in this order.
ROWS = [
    ("ceiling: nginx, static body", "nginx_rps", "req/s", "{:.0f}"),
    ("ceiling: nginx p99", "nginx_p99_ms", "ms", "{:.2f}"),
    ("read GET /v1/programmes/{id}", "read_rps", "req/s", "{:.0f}"),
    ("read p50", "read_p50_ms", "ms", "{:.2f}"),
    ("read p99", "read_p99_ms", "ms", "{:.2f}"),
    ("read / nginx", "read_ratio", "ratio", "{:.2f}"),
    ("read p99 / nginx p99", "read_p99_ratio", "ratio", "{:.2f}"),
    ("write POST …/nominations, group commit", "write_rps", "req/s", "{:.0f}"),
    ("write p99", "write_p99_ms", "ms", "{:.2f}"),
    ("read of the same service in the write run", "write_run_read_rps", "req/s", "{:.0f}"),
    ("durable nominations/s / reads/s (same run)", "write_read_ratio", "ratio", "{:.2f}"),
    ("CPU per nomination, service + broker (/proc)", "write_cpu_us", "µs", "{:.0f}"),
    ("CPU per nomination, service process", "write_cpu_service_us", "µs", "{:.0f}"),
    ("CPU per nomination, Kafka broker", "write_cpu_broker_us", "µs", "{:.0f}"),
    ("CPU per nomination, writer thread", "writer_cpu_us", "µs", "{:.0f}"),
    ("write, one commit per request (reference)", "write_reference_rps", "req/s", "{:.0f}"),
    ("write reference p99", "write_reference_p99_ms", "ms", "{:.2f}"),
    ("group commit / reference", "write_ratio", "ratio", "{:.1f}"),
    ("event latency p50 (201 → notification committed)", "latency_p50_ms", "ms", "{:.2f}"),
    ("event latency p99", "latency_p99_ms", "ms", "{:.2f}"),
    ("event latency max", "latency_max_ms", "ms", "{:.2f}"),
    ("consumer throughput (inbox dedup, projection effect)", "consumer_events_per_s",
     "events/s", "{:.0f}"),
    ("consumer throughput, notifications' whole handler", "consumer_notifications_events_per_s",
     "events/s", "{:.0f}"),
    ("notifications' handler / projection effect (same run)", "consumer_handler_ratio", "ratio",
     "{:.2f}"),
    ("consumer writer-thread CPU per event, projection effect", "consumer_writer_us", "µs",
     "{:.1f}"),
    ("consumer writer-thread CPU per event, notifications' handler",
     "consumer_notifications_writer_us", "µs", "{:.1f}"),
]
for _name in SERVICES:
    ROWS.append((f"{_name}: idle RSS", f"{_name}_rss_mb", "MB", "{:.1f}"))
    ROWS.append((f"{_name}: start → ready", f"{_name}_ready_s", "s", "{:.3f}"))

# PostgreSQL beside SQLite (issue 17), one replica each, in the same run: invitations on a
# cluster of the bench's own with fsync on, as a production server runs.
ROWS += [
    ("PostgreSQL: read GET /v1/programmes/{id}", "pg_read_rps", "req/s", "{:.0f}"),
    ("PostgreSQL: read p99", "pg_read_p99_ms", "ms", "{:.2f}"),
    ("PostgreSQL read / SQLite read (same run)", "pg_read_ratio", "ratio", "{:.2f}"),
    ("PostgreSQL: write POST …/nominations", "pg_write_rps", "req/s", "{:.0f}"),
    ("PostgreSQL: write p99", "pg_write_p99_ms", "ms", "{:.2f}"),
    ("SQLite: write beside it (same run)", "pg_write_sqlite_rps", "req/s", "{:.0f}"),
    ("PostgreSQL write / SQLite write (same run)", "pg_write_ratio", "ratio", "{:.2f}"),
    ("PostgreSQL: jobs per commit in the write run", "pg_jobs_per_commit", "jobs", "{:.1f}"),
    ("PostgreSQL: event latency p50 (201 → notification committed, 10 events/s)",
     "pg_latency_p50_ms", "ms", "{:.2f}"),
    ("PostgreSQL: event latency p99", "pg_latency_p99_ms", "ms", "{:.2f}"),
    ("PostgreSQL, two replicas behind nginx: read", "pg2_read_rps", "req/s", "{:.0f}"),
    ("PostgreSQL, two replicas: read p99", "pg2_read_p99_ms", "ms", "{:.2f}"),
    ("PostgreSQL, two replicas read / SQLite read (same run)", "pg2_read_ratio", "ratio",
     "{:.2f}"),
    ("PostgreSQL, two replicas: write POST …/nominations", "pg2_write_rps", "req/s", "{:.0f}"),
    ("PostgreSQL, two replicas: write p99", "pg2_write_p99_ms", "ms", "{:.2f}"),
    ("PostgreSQL, two replicas write / SQLite write (same run)", "pg2_write_ratio", "ratio",
     "{:.2f}"),
    ("PostgreSQL, two replicas: jobs per commit (both writers)", "pg2_jobs_per_commit", "jobs",
     "{:.1f}"),
    ("PostgreSQL, two replicas of each: event latency p50 (10 events/s)", "pg2_latency_p50_ms",
     "ms", "{:.2f}"),
    ("PostgreSQL, two replicas of each: event latency p99", "pg2_latency_p99_ms", "ms",
     "{:.2f}"),
]
TARGETS["pg_write_ratio"] = (">=", 0.5)
# notifications on PostgreSQL applies an event per transaction, each waiting for its commit's
# WAL flush: on this machine with fsync on, tens of events a second, not SQLite's hundred.
# Its latency is taken at a rate it keeps up with, or it would time a growing queue.
PG_LATENCY_RATE = 10.0

# The targets of issue 23, in its order: (figure, how it is read from this run, format, target).
# A figure of the results table is its median; a growth figure is taken at the largest size, or
# as the largest size's value divided by the smallest's.
TARGET_TABLE = [
    ("durable nominations/s ÷ reads/s (same run, same service)", ("median", "write_read_ratio"),
     "{:.2f}", (">=", 0.30)),
    ("CPU µs per durable nomination, service + broker, from /proc", ("median", "write_cpu_us"),
     "{:.0f}", ("<=", 250.0)),
    ("writer-thread CPU µs per nomination", ("median", "writer_cpu_us"), "{:.0f}",
     ("<=", 80.0)),
    ("notifications' whole handler ÷ the consumer's projection effect (same run)",
     ("median", "consumer_handler_ratio"), "{:.2f}", (">=", 0.5)),
    ("event latency 201 → effect in notifications, p50 (ms)", ("median", "latency_p50_ms"),
     "{:.2f}", ("<=", 1.5)),
    ("event latency 201 → effect in notifications, p99 (ms)", ("median", "latency_p99_ms"),
     "{:.2f}", ("<=", 4.0)),
    ("read ÷ nginx static", ("median", "read_ratio"), "{:.2f}", (">=", 0.85)),
    ("read p99 ÷ nginx p99", ("median", "read_p99_ratio"), "{:.2f}", ("<=", 1.0)),
    ("read GET /v1/nominations/{id} at the largest size ÷ the smallest", ("growth", "read_rps"),
     "{:.2f}", (">=", 0.7)),
    ("write POST …/nominations at the largest size ÷ the smallest", ("growth", "write_rps"),
     "{:.2f}", (">=", 0.7)),
    ("search GET /v1/nominations?q= at the largest size ÷ the smallest",
     ("growth", "search_rps"), "{:.2f}", (">=", 0.7)),
    ("fiscal-year report latency at the largest size (ms)", ("largest", "report_p50_ms"),
     "{:.1f}", ("<=", 250.0)),
    ("analytics replay, events/s", ("largest", "replay_events_per_s"), "{:.0f}",
     (">=", 20000.0)),
    ("filtered list latency at the largest size ÷ the smallest", ("growth", "list_p50_ms"),
     "{:.2f}", ("<=", 1.5)),
    # Less the WAL (bounded in size, not per nomination) and the audit rows of the bench's own
    # GET /v1/nominations/{id} runs (they grow with reads, not with nominations).
    ("bytes on disk per nomination at the largest size, without the WAL and the audit rows of "
     "the bench's reads", ("largest", "steady_bytes_per_nomination"), "{:.0f}", ("<=", 1000.0)),
]

# The growth part (issue 23): each figure at every store size. (figure, label, unit, format,
# target on the largest size against the smallest, target on the largest size itself).
GROWTH = [
    ("read_rps", "read GET /v1/nominations/{id}", "req/s", "{:.0f}", (">=", 0.7), None),
    ("write_rps", "write POST …/nominations", "req/s", "{:.0f}", (">=", 0.7), None),
    ("search_rps", "search GET /v1/nominations?q=", "req/s", "{:.0f}", (">=", 0.7), None),
    ("search_p50_ms", "search p50", "ms", "{:.2f}", None, None),
    ("list_p50_ms", "filtered list p50 (one client)", "ms", "{:.2f}", ("<=", 1.5), None),
    ("report_p50_ms", "fiscal-year report p50 (one client)", "ms", "{:.1f}", None,
     ("<=", 250.0)),
    ("bytes_per_nomination", "bytes on disk per nomination", "bytes", "{:.0f}", None, None),
    ("wal_bytes_per_nomination", "of which the WAL (-wal and -shm files)", "bytes", "{:.0f}",
     None, None),
    ("read_audit_bytes_per_nomination", "of which audit rows of the bench's own reads", "bytes",
     "{:.0f}", None, None),
    ("steady_bytes_per_nomination", "bytes per nomination without those two", "bytes", "{:.0f}",
     None, ("<=", 1000.0)),
    ("replay_events_per_s", "analytics replay of the topics", "events/s", "{:.0f}", None,
     (">=", 20000.0)),
]
# The fiscal years the growth loader spreads its programmes over (decades of work, not one).
GROWTH_YEARS = range(2017, 2027)


def log(message):
    print(f"==> [bench +{time.monotonic() - START:.0f}s] {message}", file=sys.stderr, flush=True)


START = time.monotonic()


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def build_arguments(parser):
    """The options every bench script shares: the broker and the builds to run."""
    parser.add_argument("--brokers", default=os.environ.get("JILAF_TEST_KAFKA_BOOTSTRAP", ""))
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build", "release"))
    parser.add_argument("--services-build-dir", help="the invitations binary's build")


def cpu_seconds(stat_path):
    """User + system CPU seconds of a process or thread from its /proc stat file."""
    with open(stat_path) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14, 15)


def thread_id(pid, name):
    """The id of the thread of `pid` named `name` (its /proc comm); None if there is none."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as comm:
                if comm.read().strip() == name:
                    return int(tid)
        except OSError:
            continue
    return None


def pid_listening_on(port):
    """The pid of the local process listening on TCP `port` (the Kafka broker); None if none
    is found (a remote broker, or one this user may not inspect)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as lines:
                next(lines)
                for line in lines:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(fields[9])
        except OSError:
            continue
    targets = {f"socket:[{inode}]" for inode in inodes}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in targets:
                    return int(pid)
        except OSError:
            continue
    return None


class CpuMeter:
    """CPU seconds used between two readings by a service, its writer thread and the broker."""

    def __init__(self, service, broker_pid):
        self.paths = {"service": f"/proc/{service.process.pid}/stat"}
        writer = thread_id(service.process.pid, WRITER_THREAD)
        if writer is None:
            raise RuntimeError(f"{service.name} has no thread named {WRITER_THREAD}")
        self.paths["writer"] = f"/proc/{service.process.pid}/task/{writer}/stat"
        if broker_pid is not None:
            self.paths["broker"] = f"/proc/{broker_pid}/stat"
        self.start = self.read()

    def read(self):
        return {name: cpu_seconds(path) for name, path in self.paths.items()}

    def used(self):
        now = self.read()
        return {name: now[name] - self.start[name] for name in now}


def http(method, url, body=None, token=None, timeout=10):
    """One request through the shared client (429/503 wait Retry-After, then retry)."""
    data, headers = jilaf_http.json_parts(body, token)
    status, raw, _ = jilaf_http.request(method, url, data, headers, timeout=timeout)
    return status, raw


# The bench drives 64 connections with one token from one address to find the server's ceiling,
# which the default rate limits (docs/api.md, "Rate limits") exist to stop. It raises them
# explicitly, through the environment so that --services-build-dir may point at a build that
# predates the limits; the limiter still runs on every request, so its cost is in the figures.
BENCH_ENV = dict(os.environ, **{
    f"JILAF_RATE_LIMIT_{scope}_{kind}": "10000000"
    for scope in ("ADDRESS", "READ", "WRITE", "EXPENSIVE") for kind in ("RPS", "BURST")})


class Service:
    """One service binary on free ports with its own database."""

    def __init__(self, bench, name, extra=(), tag="", database=None):
        self.name = name
        self.database = database  # (url, password file) on PostgreSQL; None: the SQLite file
        self.http_port = free_port()
        self.admin_port = free_port()
        self.db = os.path.join(bench.dir, f"{name}{tag}-{self.http_port}.db")
        self.log = os.path.join(bench.dir, f"{name}{tag}-{self.http_port}.log")
        self.args = [
            os.path.join(bench.services_build, "services", name, f"jilaf-{name}"),
            "--listen-address", "127.0.0.1",
            "--http-port", str(self.http_port),
            "--admin-port", str(self.admin_port),
            *(["--db", self.db] if database is None else
              ["--store", "postgres", "--database-url", database[0],
               "--database-password-file", database[1]]),
            "--kafka-brokers", bench.brokers,
            "--jwt-public-key", bench.public_key,
            # invitations and notifications refuse to start without their field-encryption key.
            *(["--field-key-file", bench.field_key]
              if name in ("invitations", "notifications") else []),
            *extra,
        ]
        bench.commands.setdefault(f"service {name}{tag}", shlex.join(self.args))
        self.started = time.monotonic()
        self.process = start(self.args, self.log, env=BENCH_ENV)
        self.ready_s = None

    def url(self, path):
        return f"http://127.0.0.1:{self.http_port}{path}"

    def wait_ready(self, timeout=30):
        wait_ready(self.process, self.admin_port, self.name, self.log, timeout, nap=0.002,
                   probe_timeout=1)
        self.ready_s = time.monotonic() - self.started
        return self.ready_s

    def rss_mb(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
        raise RuntimeError("no VmRSS")

    def stop(self):
        stop(self.process)


def static_nginx(bench, body_size):
    """Debian's nginx serving a static body of `body_size` bytes: the read ceiling's reference."""
    directory = os.path.join(bench.dir, "nginx")
    os.makedirs(os.path.join(directory, "root"), exist_ok=True)
    with open(os.path.join(directory, "root", "body.json"), "wb") as out:
        out.write(b"x" * body_size)
    nginx = Nginx.static(directory, free_port(), os.path.join(directory, "root"), workers=2,
                         settings="  keepalive_requests 100000000;\n  keepalive_timeout 60s;\n")
    bench.commands["nginx"] = shlex.join(nginx.args) + f"   # conf: keepalive_requests 100000000, worker_processes 2, access_log off, static file of {body_size} bytes"
    return nginx


def wait_lag_zero(service, timeout=300):
    """Waits until every partition the service consumes reports no lag (its consumer has read
    what the topics held when it started)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, text = http("GET", f"http://127.0.0.1:{service.admin_port}/metrics")
        lags = [float(line.rsplit(" ", 1)[1]) for line in text.decode().splitlines()
                if line.startswith("jilaf_consumer_lag{")]
        if lags and sum(lags) == 0:
            return
        time.sleep(0.5)
    raise RuntimeError(f"{service.name} did not catch up with the topics in {timeout} s")


# The stages of an event's way, from the services' own histograms (docs/operations.md, "Event
# latency"): invitations' relay wake-up, broker acknowledgement and commit; notifications' fetch
# delay (producer timestamp -> fetched), settle (fetched -> committed) and commit.
STAGES = (("invitations", "jilaf_store_commit_duration_seconds"),
          ("invitations", "jilaf_outbox_wake_delay_seconds"),
          ("invitations", "jilaf_outbox_ack_delay_seconds"),
          ("notifications", "jilaf_consumer_fetch_delay_seconds"),
          ("notifications", "jilaf_consumer_settle_delay_seconds"),
          ("notifications", "jilaf_store_commit_duration_seconds"))


def histograms(service, names):
    """{name: (count, sum, {le: cumulative count})} of the service's histograms, summed over
    their labels; names the service does not expose (an older build) are left out."""
    _, text = http("GET", f"http://127.0.0.1:{service.admin_port}/metrics")
    out = {}
    for line in text.decode().splitlines():
        name, _, rest = line.partition("{") if "{" in line.split(" ", 1)[0] else line.partition(" ")
        for base in names:
            if name not in (base + "_count", base + "_sum", base + "_bucket"):
                continue
            count, total, buckets = out.get(base, (0.0, 0.0, {}))
            value = float(line.rsplit(" ", 1)[1])
            if name.endswith("_count"):
                count += value
            elif name.endswith("_sum"):
                total += value
            else:
                le = re.search(r'le="([^"]+)"', rest).group(1)
                buckets[le] = buckets.get(le, 0.0) + value
            out[base] = (count, total, buckets)
    return out


def stage_summary(before, after):
    """'name: mean, p50 bound' of each stage between two snapshots (per service)."""
    parts = []
    for (service, name), earlier, later in zip(STAGES, before, after):
        if name not in later:
            continue
        count0, sum0, buckets0 = earlier.get(name, (0.0, 0.0, {}))
        count, total, buckets = later[name]
        events = count - count0
        if events <= 0:
            continue
        half = [le for le, n in buckets.items() if n - buckets0.get(le, 0.0) >= events / 2]
        p50 = min((float(le) for le in half), default=float("inf"))
        parts.append(f"{service} {name.removeprefix('jilaf_').removesuffix('_seconds')}: "
                     f"mean {(total - sum0) / events * 1e3:.2f} ms, p50 <= {p50 * 1e3:g} ms "
                     f"({events:.0f})")
    return "; ".join(parts)


def commit_counts(service):
    """(jobs, commits) the service's store has committed so far, from its commit metrics."""
    _, text = http("GET", f"http://127.0.0.1:{service.admin_port}/metrics")
    jobs = commits = 0.0
    for line in text.decode().splitlines():
        if line.startswith("jilaf_store_commit_jobs_sum"):
            jobs = float(line.rsplit(" ", 1)[1])
        elif line.startswith("jilaf_store_commit_jobs_count"):
            commits = float(line.rsplit(" ", 1)[1])
    return jobs, commits


# The bench cluster's settings beyond fsync=on: a production server's, not initdb's defaults
# (128 MB of shared buffers, a checkpoint every 5 minutes or 1 GB of WAL, WAL uncompressed).
# Memory for this machine's size; checkpoints spaced so that none lands inside a 5 s run;
# full-page images compressed.
PG_SERVER_OPTIONS = ("-c shared_buffers=256MB -c wal_buffers=16MB -c wal_compression=on "
                     "-c checkpoint_timeout=15min -c max_wal_size=4GB -c effective_cache_size=1GB")


class PostgresCluster:
    """A throw-away PostgreSQL 15 cluster (scripts/lib/postgres.sh) with fsync on, as a
    production server runs: a durable write there costs what it costs in production."""

    def __init__(self):
        # Under /tmp, not the bench's directory: as root the server runs as another user, which
        # must reach it.
        self.dir = tempfile.mkdtemp(prefix="jilaf-bench-pg-")
        port = free_port()
        self.command = (f"JILAF_POSTGRES_FSYNC=on JILAF_POSTGRES_OPTIONS='{PG_SERVER_OPTIONS}' "
                        f"postgres_start DIR {port}  "
                        "# scripts/lib/postgres.sh: initdb, then postgres -c fsync=on ...")
        self.shell(f'postgres_start "$1" {port}', self.dir)
        with open(os.path.join(self.dir, "url")) as url:
            self.url = url.read().strip()

    def shell(self, script, *args):
        subprocess.run(["bash", "-c", f'source "{REPO}/scripts/lib/postgres.sh"; {script}',
                        "postgres.sh", *args], check=True,
                       env=dict(os.environ, JILAF_POSTGRES_FSYNC="on",
                                JILAF_POSTGRES_OPTIONS=PG_SERVER_OPTIONS))

    def database(self, name):
        """A database of its own for one service: (URL, password file)."""
        database = f"bench_{name}"
        self.shell('postgres_create_database "$1" "$2"', self.dir, database)
        return (self.url.rsplit("/", 1)[0] + "/" + database,
                os.path.join(self.dir, "password"))

    def stop(self):
        self.shell('postgres_stop "$1"', self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build_dir)
        self.services_build = os.path.abspath(args.services_build_dir or args.build_dir)
        self.brokers = args.brokers
        self.dir = tempfile.mkdtemp(prefix="jilaf-bench-")
        self.commands = {}
        self.figures = {}
        self.services = []
        self.public_key, self.field_key, tokens = credentials(self.dir, self.build, ("staff",),
                                                              "bench")
        self.token = tokens["staff"]

    def add(self, name, value):
        self.figures.setdefault(name, []).append(value)

    def start(self, name, extra=(), tag="", database=None):
        service = Service(self, name, extra, tag, database)
        self.services.append(service)
        service.wait_ready()
        return service

    def stop_all(self):
        for service in self.services:
            service.stop()
        self.services = []

    def wrk(self, label, url, method="GET", body=None, connections=None, duration=None,
            script="report.lua", env_extra=None, until=None):
        """One wrk run; its report. `until`, when given, is polled while wrk runs: once it
        answers true wrk is interrupted (it then reports as if its duration had ended)."""
        env = dict(os.environ, BENCH_METHOD=method, BENCH_TOKEN=self.token,
                   BENCH_BODY="" if body is None else json.dumps(body), **(env_extra or {}))
        connections = connections or self.args.connections
        args = ["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d",
                f"{duration or self.args.duration}s", "--timeout", "10s", "-s",
                os.path.join(REPO, "bench", script), url]
        self.commands.setdefault(f"wrk {label}", shlex.join(args) + (
            f"   # BENCH_METHOD={method} BENCH_TOKEN=<staff JWT>" +
            (" BENCH_BODY=<nomination JSON>" if body is not None else "") +
            "".join(f" {k}=<{k.lower()}>" for k in sorted(env_extra or {}))))
        with subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True) as process:
            # Not asked before wrk has had time to install its SIGINT handler: interrupted
            # earlier it dies without a report.
            time.sleep(0.5 if until is not None else 0)
            while until is not None and process.poll() is None and not until():
                time.sleep(0.25)
            if process.poll() is None and until is not None:
                process.send_signal(signal.SIGINT)
            output = process.communicate()[0]
        if process.returncode != 0:
            raise RuntimeError(f"wrk {label} exited with {process.returncode}:\n{output}")
        match = re.search(r"^BENCH (\{.*\})$", output, re.M)
        if not match:
            raise RuntimeError(f"wrk printed no report:\n{output}")
        report = json.loads(match.group(1))
        if report["requests"] == 0 or report["non2xx"] > 0 or report["socket_errors"] > 0:
            raise RuntimeError(f"wrk {label}: bad run {report}")
        report["rps"] = report["requests"] / (report["duration_us"] / 1e6)
        return report

    # -- the figures ----------------------------------------------------------------------

    def caught_up_group(self):
        """A consumer group for notifications that has already read the topic to its end, so
        that the footprint runs measure an idle service, not one replaying history."""
        group = "bench-idle-" + os.path.basename(self.dir)
        service = Service(self, "notifications", ["--consumer-group", group], tag="-catch-up")
        try:
            service.wait_ready()
            wait_lag_zero(service)
        finally:
            service.stop()
        return group

    def footprint(self):
        idle_group = self.caught_up_group()
        for name in SERVICES:
            extra = ["--consumer-group", idle_group] if name == "notifications" else []
            for _ in range(self.args.runs):
                service = Service(self, name, extra)
                try:
                    self.add(f"{name}_ready_s", service.wait_ready())
                    time.sleep(self.args.idle)
                    self.add(f"{name}_rss_mb", service.rss_mb())
                finally:
                    service.stop()
            log(f"footprint {name}: ready {self.median(f'{name}_ready_s'):.3f} s, "
                f"RSS {self.median(f'{name}_rss_mb'):.1f} MB")

    def read(self):
        invitations = self.start("invitations")
        status, body = http("POST", invitations.url("/v1/programmes"), PROGRAMME, self.token)
        assert status == 201, (status, body)
        programme = json.loads(body)["id"]
        status, body = http("GET", invitations.url(f"/v1/programmes/{programme}"), None,
                            self.token)
        assert status == 200, (status, body)
        nginx = static_nginx(self, len(body))
        self.add("response_bytes", len(body))
        try:
            targets = [("nginx", f"http://127.0.0.1:{nginx.port}/body.json"),
                       ("read", invitations.url(f"/v1/programmes/{programme}"))]
            if not self.args.short:
                for label, url in targets:  # warm-up, not counted
                    self.wrk(label, url)
            for run in range(self.args.runs):
                order = targets if run % 2 == 0 else targets[::-1]
                reports = {label: self.wrk(label, url) for label, url in order}
                self.add("nginx_rps", reports["nginx"]["rps"])
                self.add("nginx_p99_ms", reports["nginx"]["p99_us"] / 1e3)
                self.add("read_rps", reports["read"]["rps"])
                self.add("read_p50_ms", reports["read"]["p50_us"] / 1e3)
                self.add("read_p99_ms", reports["read"]["p99_us"] / 1e3)
                self.add("read_ratio", reports["read"]["rps"] / reports["nginx"]["rps"])
                self.add("read_p99_ratio", reports["read"]["p99_us"] / reports["nginx"]["p99_us"])
                log(f"read run {run + 1}: {reports['read']['rps']:.0f} req/s vs nginx "
                    f"{reports['nginx']['rps']:.0f} req/s, p99 {reports['read']['p99_us'] / 1e3:.2f} ms")
        finally:
            nginx.stop()
        return invitations, programme

    def latency(self, invitations, programme):
        group = "bench-" + os.path.basename(self.dir)
        notifications = self.start("notifications", ["--consumer-group", group])
        # A new group reads the topics from the start: timed only once it is current, as an
        # operator would wait for the lag (docs/operations.md, "Event latency").
        wait_lag_zero(notifications)
        args = [os.path.join(self.build, "bench", "jilaf-bench-latency"),
                "--port", str(invitations.http_port), "--token", self.token,
                "--programme", programme, "--notifications-db", notifications.db,
                "--events", str(self.args.events), "--rate", str(self.args.rate)]
        self.commands["latency"] = shlex.join(args).replace(self.token, "<staff JWT>")
        by_name = {"invitations": invitations, "notifications": notifications}
        for run in range(self.args.runs):
            before = [histograms(by_name[service], [name]) for service, name in STAGES]
            output = subprocess.run(args, check=True, capture_output=True, text=True).stdout
            after = [histograms(by_name[service], [name]) for service, name in STAGES]
            log(f"latency run {run + 1} stages: {stage_summary(before, after)}")
            report = json.loads(output.strip().splitlines()[-1])
            assert report["events"] == self.args.events, report
            self.add("latency_p50_ms", report["p50_ms"])
            self.add("latency_p99_ms", report["p99_ms"])
            self.add("latency_max_ms", report["max_ms"])
            log(f"latency run {run + 1}: p50 {report['p50_ms']:.2f} ms, p99 "
                f"{report['p99_ms']:.2f} ms, max {report['max_ms']:.2f} ms")
        notifications.stop()

    def write(self, group_commit, group_programme):
        reference = self.start("invitations", ["--max-commit-batch", "1"], tag="-reference")
        status, body = http("POST", reference.url("/v1/programmes"), PROGRAMME, self.token)
        assert status == 201, (status, body)
        reference_programme = json.loads(body)["id"]
        broker_pid = pid_listening_on(int(self.brokers.split(",")[0].rsplit(":", 1)[1]))
        if broker_pid is None:
            log(f"write: no local process listens on {self.brokers}: broker CPU not counted")
        # Different people, as an office nominates them (bench/nominate.lua): the same body
        # again and again would measure a person nominated thousands of times, whose
        # possible-duplicate check is not what a write costs.
        targets = [("write", group_commit, group_programme),
                   ("write-reference", reference, reference_programme)]
        for run in range(self.args.runs):
            order = targets if run % 2 == 0 else targets[::-1]
            reports = {}
            for label, service, programme in order:
                if label == "write":
                    # Reads of the same service in the same run: the write/read ratio.
                    reports["read"] = self.wrk(
                        "read", service.url(f"/v1/programmes/{programme}"))
                for other in (group_commit, reference):
                    self.wait_published(other)  # the broker idle before the meter starts
                meter = CpuMeter(service, broker_pid)
                reports[label] = self.wrk(label, service.url("/v1/programmes"), "POST",
                                          script="nominate.lua",
                                          env_extra={"BENCH_PROGRAMMES": programme,
                                                     "BENCH_QUOTA": "0",
                                                     "BENCH_TAG": f"{label}-{run}"})
                # Until every event is on the topic: the relay's and the broker's share too.
                self.wait_published(service)
                if label == "write":
                    self.add_write_cpu(meter.used(), reports[label]["requests"],
                                       broker_pid is not None)
            self.add("write_rps", reports["write"]["rps"])
            self.add("write_p99_ms", reports["write"]["p99_us"] / 1e3)
            self.add("write_run_read_rps", reports["read"]["rps"])
            self.add("write_read_ratio", reports["write"]["rps"] / reports["read"]["rps"])
            self.add("write_reference_rps", reports["write-reference"]["rps"])
            self.add("write_reference_p99_ms", reports["write-reference"]["p99_us"] / 1e3)
            self.add("write_ratio", reports["write"]["rps"] / reports["write-reference"]["rps"])
            log(f"write run {run + 1}: {reports['write']['rps']:.0f} req/s (reads "
                f"{reports['read']['rps']:.0f} req/s), one commit per request "
                f"{reports['write-reference']['rps']:.0f} req/s; writer thread "
                f"{self.figures['writer_cpu_us'][-1]:.0f} µs per nomination")

    def add_write_cpu(self, used, nominations, with_broker):
        """CPU µs per durable nomination: the service, its writer thread, the broker."""
        per = 1e6 / nominations
        self.add("writer_cpu_us", used["writer"] * per)
        self.add("write_cpu_service_us", used["service"] * per)
        if with_broker:
            self.add("write_cpu_broker_us", used["broker"] * per)
            self.add("write_cpu_us", (used["service"] + used["broker"]) * per)

    def consumer(self):
        # The platform consumer with a projection effect (the target), and the same consumer
        # carrying the notifications service's whole handler (it renders templates and plans
        # deliveries for every event); both in each run, alternating which goes first, so that
        # their ratio is taken within the run.
        kinds = [("projection", "consumer_events_per_s", "consumer_writer_us"),
                 ("notifications", "consumer_notifications_events_per_s",
                  "consumer_notifications_writer_us")]
        for run in range(self.args.runs):
            rates = {}
            for handler, figure, writer in (kinds if run % 2 == 0 else kinds[::-1]):
                args = [os.path.join(self.build, "bench", "jilaf-bench-consumer"), "--brokers",
                        self.brokers, "--events", str(self.args.consumer_events),
                        "--handler", handler]
                self.commands[f"consumer {handler}"] = shlex.join(args)
                output = subprocess.run(args, check=True, capture_output=True, text=True).stdout
                report = json.loads(output.strip().splitlines()[-1])
                rates[handler] = report["events_per_s"]
                self.add(figure, report["events_per_s"])
                self.add(writer, report["writer_us_per_event"])
                log(f"consumer ({handler}) run {run + 1}: {report['events_per_s']:.0f} events/s, "
                    f"writer thread {report['writer_us_per_event']:.1f} µs per event")
            self.add("consumer_handler_ratio", rates["notifications"] / rates["projection"])

    # -- PostgreSQL beside SQLite --------------------------------------------------------------

    def postgres(self, sqlite_invitations, sqlite_programme):
        """Read, durable write and event latency of invitations on PostgreSQL, one replica and
        two behind an nginx round-robin proxy (on the same database), each run back to back
        with the same figure of the SQLite instance of the read part (alternating which goes
        first), so that their ratios are taken within the run."""
        cluster = PostgresCluster()
        self.commands["postgres"] = cluster.command
        proxy = None
        try:
            database = cluster.database("invitations")
            pg = self.start("invitations", tag="-pg", database=database)
            status, body = http("POST", pg.url("/v1/programmes"), PROGRAMME, self.token)
            assert status == 201, (status, body)
            pg_programme = json.loads(body)["id"]
            self.wait_published(pg)
            # First, while the topics hold few events, and on a group at their end: the latency
            # runs time only the new ones.
            group = self.caught_up_group()
            notifications_database = cluster.database("notifications")
            replicas = [self.start("notifications", ["--consumer-group", group], tag="-pg",
                                   database=notifications_database)]
            self.pg_latency("pg_latency", pg.http_port, pg_programme, notifications_database,
                            replicas)
            # The second replica of each, on the same databases, and the proxy in front of
            # invitations' two; notifications' two share the consumer group's partitions.
            pg_b = self.start("invitations", tag="-pg-b", database=database)
            replicas.append(self.start("notifications", ["--consumer-group", group],
                                       tag="-pg-b", database=notifications_database))
            proxy = Nginx.round_robin(
                os.path.join(self.dir, "proxy"),
                {"invitations": (free_port(), [pg.http_port, pg_b.http_port])},
                keepalive=self.args.connections)
            self.commands["proxy"] = (shlex.join(proxy.args) + "   # round robin over the two "
                                      "invitations replicas, upstream keepalive, "
                                      "keepalive_requests 100000000")
            self.pg_latency("pg2_latency", proxy.port_of["invitations"], pg_programme,
                            notifications_database, replicas,
                            events=50 if self.args.short else None)
            for replica in replicas:  # not consuming beside the write runs below
                replica.stop()
                self.services.remove(replica)
            two = f"http://127.0.0.1:{proxy.port_of['invitations']}"
            targets = [("sqlite", sqlite_invitations.url(""), sqlite_programme),
                       ("postgres", pg.url(""), pg_programme),
                       ("postgres-2", two, pg_programme)]
            for run in range(self.args.runs):
                self.pg_run(run, targets if run % 2 == 0 else targets[::-1],
                            (sqlite_invitations, pg, pg_b))
        finally:
            if proxy is not None:
                proxy.stop()
            for service in [s for s in self.services if s.database is not None]:
                service.stop()
                self.services.remove(service)
            cluster.stop()

    def pg_latency(self, figure, port, programme, database, replicas, events=None):
        """Event latency 201 -> notification committed, with notifications on PostgreSQL, at
        PG_LATENCY_RATE (the rate one notifications replica keeps up with on fsync'd commits).
        Each run starts once the notifications `replicas` have applied every earlier event: a
        run times its own events, not a backlog left by the one before."""
        events = events or min(self.args.events, 200)
        args = [os.path.join(self.build, "bench", "jilaf-bench-latency"),
                "--port", str(port), "--token", self.token,
                "--programme", programme, "--notifications-database-url", database[0],
                "--database-password-file", database[1], "--events", str(events),
                "--rate", str(min(self.args.rate, PG_LATENCY_RATE))]
        self.commands[f"latency {figure}"] = shlex.join(args).replace(self.token, "<staff JWT>")
        for run in range(self.args.runs):
            for replica in replicas:
                wait_lag_zero(replica)
            done = subprocess.run(args, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"latency {figure} failed: {done.stderr.strip()}")
            report = json.loads(done.stdout.strip().splitlines()[-1])
            assert report["events"] == events, report
            self.add(f"{figure}_p50_ms", report["p50_ms"])
            self.add(f"{figure}_p99_ms", report["p99_ms"])
            log(f"{figure} run {run + 1}: p50 {report['p50_ms']:.2f} ms, p99 "
                f"{report['p99_ms']:.2f} ms")

    def pg_run(self, run, order, services):
        """One run of the reads, then the writes, of SQLite, PostgreSQL and PostgreSQL with two
        replicas behind the proxy, in `order`; jobs per commit from the replicas' metrics."""
        reads, writes = {}, {}
        for label, base, programme in order:
            reads[label] = self.wrk(f"read {label}", f"{base}/v1/programmes/{programme}")
        for label, base, programme in order:
            for other in services:
                self.wait_published(other)
            counted = [s for s in services if s.database is not None] if label != "sqlite" else []
            before = [commit_counts(s) for s in counted]
            writes[label] = self.wrk(f"write {label}", f"{base}/v1/programmes", "POST",
                                     script="nominate.lua",
                                     env_extra={"BENCH_PROGRAMMES": programme,
                                                "BENCH_QUOTA": "0",
                                                "BENCH_TAG": f"pg-{label}-{run}"})
            if counted:
                jobs = commits = 0.0
                for service, (jobs_before, commits_before) in zip(counted, before):
                    jobs_after, commits_after = commit_counts(service)
                    jobs += jobs_after - jobs_before
                    commits += commits_after - commits_before
                name = "pg_jobs_per_commit" if label == "postgres" else "pg2_jobs_per_commit"
                self.add(name, jobs / commits if commits else 0.0)
        for label, prefix in (("postgres", "pg"), ("postgres-2", "pg2")):
            self.add(f"{prefix}_read_rps", reads[label]["rps"])
            self.add(f"{prefix}_read_p99_ms", reads[label]["p99_us"] / 1e3)
            self.add(f"{prefix}_read_ratio", reads[label]["rps"] / reads["sqlite"]["rps"])
            self.add(f"{prefix}_write_rps", writes[label]["rps"])
            self.add(f"{prefix}_write_p99_ms", writes[label]["p99_us"] / 1e3)
            self.add(f"{prefix}_write_ratio", writes[label]["rps"] / writes["sqlite"]["rps"])
        self.add("pg_write_sqlite_rps", writes["sqlite"]["rps"])
        log(f"postgres run {run + 1}: read {reads['postgres']['rps']:.0f} req/s, two replicas "
            f"{reads['postgres-2']['rps']:.0f} (SQLite {reads['sqlite']['rps']:.0f}); write "
            f"{writes['postgres']['rps']:.0f} req/s, two replicas "
            f"{writes['postgres-2']['rps']:.0f} (SQLite {writes['sqlite']['rps']:.0f}); "
            f"{self.figures['pg_jobs_per_commit'][-1]:.1f} jobs per commit")

    # -- growth: the same figures as the store fills ----------------------------------------

    def growth(self):
        """Fills one invitations store through the API (bench/nominate.lua: varied people over
        programmes of ten fiscal years, every nomination's event published by the relay) to each
        of --growth-sizes in turn, and at each size takes the read, search, filtered-list,
        report, write, bytes-on-disk and analytics-replay figures."""
        # Published outbox rows are pruned at once rather than after the default hour, so the
        # bytes per nomination are the files' steady state, not the last hour's events as well.
        service = self.start("invitations", ["--outbox-retention-s", "0",
                                             "--housekeeping-interval-s", "1"], tag="-growth")
        programmes = []
        for year in GROWTH_YEARS:
            for k in range(self.args.growth_programmes_per_year):
                body = dict(PROGRAMME, fiscal_year=year, start_date=f"{year}-06-01",
                            end_date=f"{year}-06-20", seats=40, country_quotas={},
                            title={"ja": f"招へいプログラム {year}-{k + 1}",
                                   "en": f"Invitation programme {year}-{k + 1}"})
                status, raw = http("POST", service.url("/v1/programmes"), body, self.token)
                assert status == 201, (status, raw)
                programmes.append(json.loads(raw)["id"])
        env = {"BENCH_PROGRAMMES": ",".join(programmes)}
        report_year = GROWTH_YEARS[len(GROWTH_YEARS) // 2]
        for size in sorted(int(s) for s in self.args.growth_sizes.split(",")):
            self.fill(service, env, size)
            count = self.count_nominations(service)
            self.wait_published(service)
            log(f"growth: {count} nominations")
            self.add("growth_sizes", count)
            _, raw = http("GET", service.url("/v1/nominations?page_size=1"), None, self.token)
            nomination = json.loads(raw)["items"][0]["id"]
            figures = {name: [] for name, *_ in GROWTH}
            for _ in range(self.args.runs):
                read = self.wrk("growth read", service.url(f"/v1/nominations/{nomination}"))
                figures["read_rps"].append(read["rps"])
                # A common surname: a full page of matches at every size, so that the pages
                # compared are alike (a full name's matches grow with the store, to a page).
                search = self.wrk("growth search", service.url("/v1/nominations?q=Nguyen"))
                figures["search_rps"].append(search["rps"])
                figures["search_p50_ms"].append(search["p50_us"] / 1e3)
                listed = self.wrk(
                    "growth list",
                    service.url("/v1/nominations?nationality=VN&status=submitted"
                                f"&fiscal_year={report_year}"), connections=1)
                figures["list_p50_ms"].append(listed["p50_us"] / 1e3)
                report = self.wrk("growth report",
                                  service.url(f"/v1/reports/fiscal-years/{report_year}"),
                                  connections=1)
                figures["report_p50_ms"].append(report["p50_us"] / 1e3)
            time.sleep(2.5)  # two housekeeping passes after the relay's last publication
            figures["bytes_per_nomination"].append(self.store_bytes(service) / count)
            # The WAL apart: up to 16 MiB (journal_size_limit) whatever the store holds, so a
            # large share of a small store (docs/benchmarks.md, "What the bytes figure is made of").
            figures["wal_bytes_per_nomination"].append(
                self.store_bytes(service, ("-wal", "-shm")) / count)
            figures["read_audit_bytes_per_nomination"].append(self.read_audit_bytes(service) / count)
            figures["steady_bytes_per_nomination"].append(
                figures["bytes_per_nomination"][-1] - figures["wal_bytes_per_nomination"][-1] -
                figures["read_audit_bytes_per_nomination"][-1])
            if self.args.growth_breakdown:
                self.store_breakdown(service, count)
            # Last, as it adds nominations: each run stops after --duration or after adding
            # a tenth of the size over all runs, so the store stays near its size.
            for run in range(self.args.runs):
                # Each run adds its share of a tenth of the size to what the store holds now
                # (a run may overshoot its share while wrk winds down).
                stop_at = (self.count_nominations(service) +
                           max(1, count // (10 * self.args.runs)))
                write = self.wrk("growth write", service.url("/v1/programmes"), "POST",
                                 script="nominate.lua",
                                 env_extra=dict(env, BENCH_QUOTA="0", BENCH_TAG=f"w{count}-{run}"),
                                 until=lambda: self.count_nominations(service) >= stop_at)
                figures["write_rps"].append(write["rps"])
            self.wait_published(service)
            figures["replay_events_per_s"].append(self.replay())
            for name, values in figures.items():
                self.figures.setdefault(f"growth_{name}", []).append(statistics.median(values))
            log("growth at " + str(count) + ": " + ", ".join(
                f"{name} {statistics.median(values):.1f}" for name, values in figures.items()))
        service.stop()
        self.services.remove(service)

    def fill(self, service, env, size):
        """Creates nominations through the API until the store holds at least `size`."""
        while (have := self.count_nominations(service)) < size:
            missing = size - have
            connections = max(1, min(self.args.connections, missing))
            threads = min(2, connections)
            report = self.wrk("growth load", service.url("/v1/programmes"), "POST",
                              connections=connections, duration=3600, script="nominate.lua",
                              env_extra=dict(env, BENCH_QUOTA=str(-(-missing // threads)),
                                             BENCH_TAG=f"l{have}"),
                              until=lambda: self.count_nominations(service) >= size)
            if report["created"] == 0:
                raise RuntimeError(f"growth: the loader created nothing: {report}")

    @staticmethod
    def count_nominations(service):
        with sqlite3.connect(f"file:{service.db}?mode=ro", uri=True, timeout=30) as db:
            return db.execute("SELECT count(*) FROM nominations").fetchone()[0]

    @staticmethod
    def store_bytes(service, suffixes=("", "-wal", "-shm")):
        return sum(os.path.getsize(service.db + suffix) for suffix in suffixes
                   if os.path.exists(service.db + suffix))

    @staticmethod
    def read_audit_bytes(service):
        """The audit log's bytes (table and index) in the share of its rows that record reads:
        every GET of a nomination is audited (personal data), so the read runs add rows."""
        with sqlite3.connect(f"file:{service.db}?mode=ro", uri=True, timeout=30) as db:
            size = sum(db.execute("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = ? "
                                  "AND aggregate = TRUE", (name,)).fetchone()[0]
                       for name in ("audit_log", "audit_log_subject"))
            reads, rows = db.execute("SELECT count(*) FILTER (WHERE method = 'GET'), count(*) "
                                     "FROM audit_log").fetchone()
        return size * reads / rows if rows else 0

    def store_breakdown(self, service, count):
        """Logs what the bytes figure is made of: each file as measured, then a snapshot of the
        store (SQLite's backup: the WAL's frames folded in) before and after an incremental vacuum
        of every free page, and its bytes per table and index (dbstat), all per nomination."""
        files = {suffix or "db": os.path.getsize(service.db + suffix)
                 for suffix in ("", "-wal", "-shm") if os.path.exists(service.db + suffix)}
        log(f"growth breakdown at {count}: files " + ", ".join(
            f"{name} {size / count:.0f}" for name, size in files.items()))
        copy = os.path.join(self.dir, "breakdown.db")
        with sqlite3.connect(f"file:{service.db}?mode=ro", uri=True, timeout=30) as src, \
                sqlite3.connect(copy) as dst:
            src.backup(dst)
        db = sqlite3.connect(copy, isolation_level=None)
        pages, free, page_size = (db.execute(f"PRAGMA {p}").fetchone()[0]
                                  for p in ("page_count", "freelist_count", "page_size"))
        db.execute("PRAGMA incremental_vacuum")
        log(f"growth breakdown at {count}: snapshot {pages * page_size / count:.0f} "
            f"(free pages {free * page_size / count:.0f}), after vacuum "
            f"{os.path.getsize(copy) / count:.0f}")
        for name, size, unused in db.execute(
                "SELECT name, sum(pgsize), sum(unused) FROM dbstat GROUP BY name "
                "HAVING sum(pgsize) >= ? ORDER BY 2 DESC", (count,)):
            log(f"growth breakdown at {count}:   {name} {size / count:.0f} "
                f"(unused {unused / count:.0f})")
        db.close()
        os.remove(copy)

    def wait_published(self, service, timeout=1800):
        """Waits until the relay has published every outbox row (the topic holds every event)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, text = http("GET", f"http://127.0.0.1:{service.admin_port}/metrics")
            pending = [float(line.rsplit(" ", 1)[1]) for line in text.decode().splitlines()
                       if line.startswith("jilaf_outbox_pending")]
            if pending and pending[0] == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("growth: the outbox did not drain")

    def replay(self):
        """Rebuilds a fresh analytics store from the earliest offset of every topic: events/s."""
        db = os.path.join(self.dir, f"analytics-{time.monotonic_ns()}.db")
        args = [os.path.join(self.build, "tools", "analytics", "analytics"), "consume",
                "--analytics-db", db, "--kafka-brokers", self.brokers,
                "--consumer-group", "bench-replay-" + os.path.basename(db),
                "--until-caught-up", "--log-level", "warn"]
        self.commands["growth replay"] = shlex.join(args)
        started = time.monotonic()
        output = subprocess.run(args, check=True, capture_output=True, text=True).stdout
        elapsed = time.monotonic() - started
        applied = json.loads(output.strip().splitlines()[-1])["applied"]
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        return applied / elapsed

    def growth_table(self):
        sizes = self.figures.get("growth_sizes", [])
        if not sizes:
            return ""
        header = ["figure", "unit"] + [f"{n:,}" for n in sizes] + [
            "largest ÷ smallest", "target"]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for name, label, unit, fmt, ratio_target, value_target in GROWTH:
            values = self.figures.get(f"growth_{name}", [])
            if len(values) != len(sizes):
                continue
            ratio = values[-1] / values[0] if values[0] else float("nan")
            verdicts = []
            for target, measured, what in ((ratio_target, ratio, "ratio"),
                                           (value_target, values[-1], "largest")):
                if target:
                    op, bound = target
                    ok = measured >= bound if op == ">=" else measured <= bound
                    verdicts.append(f"{what} {op} {bound:g}: {'met' if ok else 'NOT met'}")
            lines.append("| " + " | ".join([label, unit] + [fmt.format(v) for v in values] +
                                           [f"{ratio:.2f}", "; ".join(verdicts)]) + " |")
        return "\n".join(lines)

    def growth_plot(self, path):
        """One PNG: every growth figure against the number of nominations (log scale)."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        sizes = self.figures["growth_sizes"]
        fig, axes = plt.subplots(2, 4, figsize=(16, 7.5), constrained_layout=True)
        for ax, (name, label, unit, *_rest) in zip(axes.flat, GROWTH):
            values = self.figures.get(f"growth_{name}", [])
            ax.plot(sizes[:len(values)], values, marker="o")
            ax.set_xscale("log")
            ax.set_ylim(bottom=0)
            ax.set_title(label, fontsize=10)
            ax.set_xlabel("nominations in the store")
            ax.set_ylabel(unit)
            ax.grid(True, which="both", alpha=0.3)
        fig.suptitle("How the invitations service's figures grow with its data (scripts/bench)")
        fig.savefig(path, dpi=80)
        plt.close(fig)
        return path

    # -- report ---------------------------------------------------------------------------

    def median(self, name):
        return statistics.median(self.figures[name])

    def rows(self):
        def row(label, name, unit, fmt):
            values = self.figures.get(name, [])
            if not values:
                return None
            target = TARGETS.get(name)
            verdict = ""
            if target:
                op, bound = target
                med = statistics.median(values)
                ok = med >= bound if op == ">=" else med <= bound
                verdict = f"{op} {bound:g}: {'met' if ok else 'NOT met'}"
            return (label, unit, fmt.format(statistics.median(values)), fmt.format(min(values)),
                    fmt.format(max(values)), verdict)

        return [r for r in (row(*s) for s in ROWS) if r is not None]

    def target_value(self, how):
        kind, name = how
        if kind == "median":
            values = self.figures.get(name)
            return statistics.median(values) if values else None
        values = self.figures.get(f"growth_{name}", [])
        sizes = self.figures.get("growth_sizes", [])
        if not values or len(values) != len(sizes):
            return None
        if kind == "largest":
            return values[-1]
        return values[-1] / values[0] if values[0] else None

    def target_rows(self):
        """The issue's target table from this run: (figure, measured, target, met?)."""
        sizes = self.figures.get("growth_sizes", [])
        span = f" ({sizes[-1]:,} ÷ {sizes[0]:,})" if len(sizes) > 1 else ""
        rows = []
        for label, how, fmt, (op, bound) in TARGET_TABLE:
            value = self.target_value(how)
            if how[0] == "growth":
                label += span
            elif how[0] == "largest" and sizes:
                label += f" ({sizes[-1]:,})"
            if value is None:
                rows.append((label, "not measured", f"{op} {bound:g}", ""))
                continue
            met = value >= bound if op == ">=" else value <= bound
            rows.append((label, fmt.format(value), f"{op} {bound:g}", "met" if met else "NOT met"))
        return rows

    def target_table(self):
        lines = ["| figure | measured | target | met? |", "|---|---|---|---|"]
        lines += ["| " + " | ".join(r) + " |" for r in self.target_rows()]
        return "\n".join(lines)

    def table(self):
        header = ("figure", "unit", "median", "min", "max", "target")
        rows = self.rows()
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)

    def machine(self):
        model = ""
        try:
            with open("/proc/cpuinfo") as cpuinfo:
                for line in cpuinfo:
                    if line.startswith("model name"):
                        model = line.split(":", 1)[1].strip()
                        break
            with open("/proc/meminfo") as meminfo:
                mem_kb = int(meminfo.readline().split()[1])
        except OSError:
            mem_kb = 0
        commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        # The report itself does not count as a local change of the code measured.
        dirty = [line for line in subprocess.run(
            ["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True).stdout.splitlines()
            if not line.endswith("docs/benchmarks.md")]
        return {
            "cpu": f"{model} × {os.cpu_count()} (shared with other work)",
            "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
            "kernel": platform.release(),
            "os": platform.freedesktop_os_release().get("PRETTY_NAME", "")
            if hasattr(platform, "freedesktop_os_release") else "",
            "load average at start": " ".join(f"{x:.2f}" for x in self.load_at_start),
            "commit": commit + (" (with local changes)" if dirty else ""),
        }

    def markdown(self):
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        machine = self.machine()
        out = ["# Benchmarks", "",
               "Generated by `scripts/bench` (bench/bench.py); the sections after the results are "
               "kept from run to run.", "",
               f"Run: {now}, {self.args.runs} runs per figure (median, min, max), wrk with "
               f"{self.args.connections} connections, 2 threads, {self.args.duration} s per run; "
               f"event latency over {self.args.events} events per run at {self.args.rate:g}/s; "
               f"consumer over {self.args.consumer_events} pre-filled events per run.", "",
               "## Machine", ""]
        out += [f"- {k}: {v}" for k, v in machine.items()]
        out += ["", "## Targets (issue 23)", "",
                "Each figure of the issue's target table as this run measured it (medians of the "
                "runs; growth figures at the sizes of the growth part).", "",
                self.target_table(), "",
                "## Results", "", self.table(), "",
                "Ratios are taken within each run (the two measurements back to back, alternating "
                "which goes first), then the median of those ratios is reported.", ""]
        if self.figures.get("growth_sizes"):
            out += ["## Growth", "",
                    "One invitations store filled through the API by bench/nominate.lua (people "
                    f"of 18 nationalities over {len(GROWTH_YEARS) * self.args.growth_programmes_per_year} "
                    "programmes of ten fiscal years, each nomination's event published to the "
                    "topic), measured at each size: the median of the runs at that size. Reads, "
                    f"search and writes use {self.args.connections} connections; the list and "
                    "report latencies one client. The replay rebuilds a fresh analytics store "
                    "from every topic's earliest offset.", "",
                    self.growth_table(), "",
                    f"![Figures against store size]({os.path.basename(self.args.plot or 'bench-growth.png')})",
                    ""]
        out += [
                "## Exact commands", "", "```"]
        out += [f"{k}: {v}" for k, v in sorted(self.commands.items())]
        out += ["```", "", GENERATED_END]
        return "\n".join(out) + "\n"

    def run(self):
        self.load_at_start = os.getloadavg()
        parts = self.args.only.split(",")
        try:
            if "footprint" in parts:
                log("footprint: idle RSS and start → ready of each service")
                self.footprint()
            if {"read", "latency", "write", "postgres"} & set(parts):
                log("read: nginx ceiling vs GET /v1/programmes/{id}")
                invitations, programme = self.read()
                if "latency" in parts:
                    log("event latency: 201 → notification committed")
                    self.latency(invitations, programme)
                # Before the SQLite write part: the events those runs leave on the topic would
                # be a backlog for notifications on PostgreSQL to read first.
                if "postgres" in parts:
                    log("postgres: read, write and event latency beside SQLite")
                    self.postgres(invitations, programme)
                if "write" in parts:
                    log("write: group commit vs one commit per request")
                    self.write(invitations, programme)
                self.stop_all()
            if "consumer" in parts:
                log("consumer throughput")
                self.consumer()
            if "growth" in parts:
                log(f"growth: figures at {self.args.growth_sizes} nominations")
                self.growth()
        finally:
            self.stop_all()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build", "release"))
    parser.add_argument("--services-build-dir",
                        help="take the service binaries from another build (e.g. a baseline); "
                             "the bench tools still come from --build-dir")
    parser.add_argument("--only",
                        default="footprint,read,latency,write,postgres,consumer,growth",
                        help="comma-separated parts to run")
    parser.add_argument("--brokers", default=os.environ.get("JILAF_TEST_KAFKA_BOOTSTRAP", ""))
    parser.add_argument("--short", action="store_true",
                        help="a few seconds: checks that every figure is produced (for ctest)")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--duration", type=int, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--events", type=int, help="events per latency run")
    parser.add_argument("--rate", type=float, default=100, help="writes/s in the latency runs")
    parser.add_argument("--consumer-events", type=int)
    parser.add_argument("--idle", type=float, help="seconds idle before reading RSS")
    parser.add_argument("--growth-sizes",
                        help="comma-separated store sizes (nominations) of the growth part "
                             "(default 10000,100000,1000000; --short: 300,1200)")
    parser.add_argument("--growth-breakdown", action="store_true",
                        help="log per file and per table bytes per nomination at each size")
    parser.add_argument("--growth-programmes-per-year", type=int, default=10,
                        help="programmes per fiscal year the growth loader nominates into")
    parser.add_argument("--plot", help="growth plot (PNG; default docs/bench-growth.png, "
                                       "in the bench's temporary directory with --short)")
    parser.add_argument("--out", help="markdown report (default: docs/benchmarks.md, "
                                      "none with --short)")
    parser.add_argument("--json-out", help="also write the raw figures as JSON here")
    args = parser.parse_args()
    defaults = (dict(runs=1, duration=1, events=100, consumer_events=1000, idle=0.3,
                     growth_sizes="300,1200")
                if args.short else
                dict(runs=5, duration=5, events=2000, consumer_events=20000, idle=2.0,
                     growth_sizes="10000,100000,1000000"))
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.out is None and not args.short:
        args.out = os.path.join(REPO, "docs", "benchmarks.md")
    if args.plot is None and not args.short:
        args.plot = os.path.join(REPO, "docs", "bench-growth.png")
    if not args.brokers:
        sys.exit("bench: no Kafka broker: pass --brokers or set JILAF_TEST_KAFKA_BOOTSTRAP "
                 "(scripts/bench starts one)")

    bench = Bench(args)
    bench.run()
    print(bench.table())
    if bench.figures.get("growth_sizes"):
        print(bench.growth_table())
        plot = bench.growth_plot(args.plot or os.path.join(bench.dir, "growth.png"))
        if os.path.getsize(plot) == 0:
            sys.exit(f"bench: the growth plot {plot} is empty")
        log(f"wrote {plot}")
    print(bench.target_table())
    if args.json_out:
        with open(args.json_out, "w") as out:
            json.dump(bench.figures, out, indent=1)
    if args.out:
        kept = ""
        if os.path.exists(args.out):
            with open(args.out) as current:
                text = current.read()
            if GENERATED_END in text:
                kept = text.split(GENERATED_END, 1)[1]
        with open(args.out, "w") as out:
            out.write(bench.markdown() + kept)
        log(f"wrote {args.out}")
    if args.only == parser.get_default("only"):
        # Every figure and every target of the issue, whatever the sizes (--short included).
        missing = [label for label, name, *_ in ROWS if not bench.figures.get(name)]
        missing += [row[0] for row in bench.target_rows() if row[1] == "not measured"]
        if missing:
            sys.exit(f"bench: figures missing: {missing}")
    if "growth" in args.only.split(","):
        sizes = len(args.growth_sizes.split(","))
        short = [name for name, *_ in GROWTH
                 if len(bench.figures.get(f"growth_{name}", [])) != sizes]
        if short:
            sys.exit(f"bench: growth figures missing at some size: {short}")
    subprocess.run(["rm", "-rf", bench.dir])


if __name__ == "__main__":
    main()
