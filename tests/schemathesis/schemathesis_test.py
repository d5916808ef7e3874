#!/usr/bin/env python3
"""Schemathesis against the four services: the OpenAPI documents say what the servers enforce.

Starts the four service binaries on free ports against the test broker of scripts/test
($JILAF_TEST_KAFKA_BOOTSTRAP), mints an admin token with the development key pair it generates
(tools/jilaf-token, what scripts/token wraps), and runs the pinned Schemathesis
(scripts/lib/schemathesis.sh) against each service's own /openapi.json: the examples, coverage,
fuzzing and stateful phases, with a fixed seed and a bounded number of examples per operation.
Every check of docs/api.md ("The contract is tested") must pass: no 5xx, every response and status
code in the document, what the document declares invalid refused, what it declares valid not
refused for its shape. The reports (JUnit, NDJSON) land in --out.

Usage: schemathesis_test.py --repo DIR --build-dir DIR --out DIR [--service NAME]...
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "scripts", "lib"))
import jilaf_http  # noqa: E402  (the project's one HTTP client: honours Retry-After)
from jilaf_services import SERVICES, FourServices  # noqa: E402

# Bounded so that the four services take a few minutes on a loaded 2-core machine; the fixed seed
# and deterministic generation of schemathesis.toml make a failure reproducible.
MAX_EXAMPLES = int(os.environ.get("JILAF_SCHEMATHESIS_MAX_EXAMPLES", "10"))
PHASES = "examples,coverage,fuzzing,stateful"


class Services(FourServices):
    """The four services against the test broker, with an admin token (`token`)."""

    def __init__(self, build_dir, work, brokers):
        # One caller sends every request: the per-caller limits (docs/operations.md) would
        # answer 429 to a test about the contract, not about load.
        limits = ["--rate-limit-write-rps", "100000", "--rate-limit-write-burst", "100000",
                  "--rate-limit-read-rps", "100000", "--rate-limit-read-burst", "100000",
                  "--rate-limit-expensive-rps", "100000",
                  "--rate-limit-expensive-burst", "100000"]
        extra = {name: list(limits) for name in SERVICES}
        for name in ("missions", "notifications"):
            # A consumer group of this run's own: the shared test broker's other consumers
            # (the e2e tests) keep theirs.
            extra[name] += ["--consumer-group", f"schemathesis-{name}-{os.getpid()}"]
        super().__init__(build_dir, work, brokers, ("admin",), "schemathesis", extra)
        self.token = self.tokens["admin"]
        self.partner_id = self.create_partner()

    def create_partner(self):
        """The partner organisation generated projects name (hooks.py)."""
        status, body, _ = jilaf_http.request(
            "POST", self.api["projects"] + "/v1/partners",
            data=json.dumps({"name": "Schemathesis Federation", "country": "KH",
                             "kind": "federation",
                             "contact": {"name": "Ms Test", "email": "test@example.org"}}).encode(),
            headers={"Authorization": "Bearer " + self.token, "Content-Type": "application/json"})
        if status != 201:
            raise RuntimeError(f"POST /v1/partners: {status} {body[:300]!r}")
        return json.loads(body)["id"]


def schemathesis_bin():
    return subprocess.run(["bash", os.path.join(REPO, "scripts", "lib", "schemathesis.sh")],
                          check=True, capture_output=True, text=True).stdout.strip()


def run_one(st, services, name, out):
    """One service: returns (passed, number of requests sent)."""
    report = os.path.join(out, name)
    os.makedirs(report, exist_ok=True)
    command = [st, "--no-color", "--config-file", os.path.join(HERE, "schemathesis.toml"), "run",
               services.api[name] + "/openapi.json",
               "--header", "Authorization: Bearer " + services.token,
               "--phases", PHASES, "--max-examples", str(MAX_EXAMPLES),
               "--report", "junit,ndjson", "--report-dir", report]
    print(f"== schemathesis {name}: {services.api[name]}", flush=True)
    started = time.monotonic()
    result = subprocess.run(command, cwd=out, text=True, capture_output=True,
                            env=dict(os.environ, SCHEMATHESIS_HOOKS=os.path.join(HERE, "hooks.py"),
                                     JILAF_SCHEMATHESIS_PARTNER_ID=services.partner_id))
    print(result.stdout.replace(services.token, "<token>"))
    if result.stderr:
        print(result.stderr.replace(services.token, "<token>"), file=sys.stderr)
    requests = count_requests(report)
    print(f"== schemathesis {name}: exit {result.returncode}, {requests} requests in "
          f"{time.monotonic() - started:.0f} s", flush=True)
    return result.returncode == 0, requests


def count_requests(report):
    """Requests sent, counted from the NDJSON event stream (one interaction per request)."""
    total = 0
    for path in os.listdir(report):
        if not path.endswith(".ndjson"):
            continue
        with open(os.path.join(report, path), encoding="utf-8") as f:
            for line in f:
                total += line.count('"request":')
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=REPO)
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--service", action="append", choices=SERVICES)
    args = parser.parse_args()
    brokers = os.environ.get("JILAF_TEST_KAFKA_BOOTSTRAP")
    if not brokers:
        sys.exit("JILAF_TEST_KAFKA_BOOTSTRAP is not set: run through scripts/test")
    st = schemathesis_bin()
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    work = tempfile.mkdtemp(prefix="jilaf-schemathesis-")
    services = Services(args.build_dir, work, brokers)
    failed = []
    total = 0
    try:
        for name in args.service or SERVICES:
            passed, requests = run_one(st, services, name, args.out)
            total += requests
            if not passed:
                failed.append(name)
    finally:
        services.stop()
    print(f"== schemathesis: {total} requests against {len(args.service or SERVICES)} services")
    if failed:
        print(f"FAIL: schemathesis found failures in {', '.join(failed)} (logs in {work})")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
