#!/usr/bin/python3
"""The writer thread of invitations under the bench's nomination load: its CPU per nomination
(and the service's and the broker's, from /proc, as scripts/bench counts them) and, unless
--no-perf, a `perf record` of that thread alone. For before/after comparisons of one change:
run it alternately with two builds (--services-build-dir) against the same broker. With
--sizes 0,20000,100000 the same service is filled through the API (bench.py's growth loader) to
each size in turn and measured there: how the writer's cost grows with the store.

  bench/profile_writer.py --brokers 127.0.0.1:PORT --services-build-dir build/release \\
      --out writer.data
  perf report -i writer.data --children --sort symbol -g none
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402 - the benchmark's own service, wrk and /proc helpers


def record(service, writer, args, out):
    target = ["-p", str(service.process.pid)] if args.whole_process else ["-t", str(writer)]
    perf = subprocess.Popen(["perf", "record", "-F", "1999", "--call-graph", "dwarf", *target,
                             "-o", out], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return perf


def sqlite_stats(service):
    """The writer connection's page-cache counters from the admin port's metrics (per
    nomination once differenced); empty with a binary that does not export them."""
    _, text = bench.http("GET", f"http://127.0.0.1:{service.admin_port}/metrics")
    stats = {}
    for line in text.decode().splitlines():
        if line.startswith("jilaf_store_writer_cache_"):
            name, value = line.rsplit(" ", 1)
            stats[name.split("{")[0][len("jilaf_store_writer_"):]] = float(value)
    return stats


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    bench.build_arguments(parser)
    parser.add_argument("--out", default="writer.data", help="perf data file")
    parser.add_argument("--duration", type=int, default=8, help="seconds of wrk")
    parser.add_argument("--no-perf", action="store_true", help="only the /proc figures")
    parser.add_argument("--whole-process", action="store_true",
                        help="record every thread of the service (perf report --sort comm)")
    parser.add_argument("--sizes", default="0",
                        help="comma-separated store sizes (nominations) to measure at in turn; "
                             "perf data of size N goes to OUT.N")
    args = parser.parse_args()
    if not args.brokers:
        sys.exit("profile_writer: pass --brokers or set JILAF_TEST_KAFKA_BOOTSTRAP")
    run = bench.Bench(argparse.Namespace(
        build_dir=args.build_dir, services_build_dir=args.services_build_dir,
        brokers=args.brokers, connections=64, duration=args.duration, short=False))
    try:
        service = run.start("invitations")
        status, body = bench.http("POST", service.url("/v1/programmes"), bench.PROGRAMME,
                                  run.token)
        assert status == 201, (status, body)
        env = {"BENCH_PROGRAMMES": json.loads(body)["id"], "BENCH_QUOTA": "0"}
        run.wrk("warm-up", service.url("/v1/programmes"), "POST", script="nominate.lua",
                duration=2, env_extra=dict(env, BENCH_TAG="warm"))
        run.wait_published(service)
        writer = bench.thread_id(service.process.pid, bench.WRITER_THREAD)
        broker = bench.pid_listening_on(int(args.brokers.split(",")[0].rsplit(":", 1)[1]))
        for size in sorted(int(s) for s in args.sizes.split(",")):
            # The same load on a store that holds `size` nominations: how the cost grows with it.
            run.fill(service, env, size)
            run.wait_published(service)
            out = args.out if size == 0 else f"{args.out}.{size}"
            perf = None if args.no_perf else record(service, writer, args, out)
            meter = bench.CpuMeter(service, broker)
            stats = sqlite_stats(service)
            report = run.wrk("write", service.url("/v1/programmes"), "POST",
                             script="nominate.lua", env_extra=dict(env, BENCH_TAG=f"p{size}"))
            run.wait_published(service)
            used = meter.used()
            if perf is not None:
                perf.send_signal(signal.SIGINT)
                perf.wait()
            figures = {"stored": run.count_nominations(service),
                       "req_per_s": round(report["rps"]), "nominations": report["requests"]}
            figures.update({f"{name}_cpu_us": round(seconds * 1e6 / report["requests"], 1)
                            for name, seconds in used.items()})
            figures.update({name: round((value - stats.get(name, 0)) / report["requests"], 2)
                            for name, value in sqlite_stats(service).items()})
            print(json.dumps(figures), flush=True)
    finally:
        run.stop_all()
        subprocess.run(["rm", "-rf", run.dir])


if __name__ == "__main__":
    main()
