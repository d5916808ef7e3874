#!/usr/bin/python3
"""The writer thread of invitations under the bench's nomination load: its CPU per nomination
(and the service's and the broker's, from /proc, as scripts/bench counts them) and, unless
--no-perf, a `perf record` of that thread alone. For before/after comparisons of one change:
run it alternately with two builds (--services-build-dir) against the same broker.

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


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    bench.build_arguments(parser)
    parser.add_argument("--out", default="writer.data", help="perf data file")
    parser.add_argument("--duration", type=int, default=8, help="seconds of wrk")
    parser.add_argument("--no-perf", action="store_true", help="only the /proc figures")
    parser.add_argument("--whole-process", action="store_true",
                        help="record every thread of the service (perf report --sort comm)")
    args = parser.parse_args()
    if not args.brokers:
        sys.exit("profile_writer: pass --brokers or set JILAF_TEST_KAFKA_BOOTSTRAP")
    run = bench.Bench(argparse.Namespace(
        build_dir=args.build_dir, services_build_dir=args.services_build_dir,
        brokers=args.brokers, connections=64, duration=args.duration, short=False))
    perf = None
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
        if not args.no_perf:
            target = (["-p", str(service.process.pid)] if args.whole_process
                      else ["-t", str(writer)])
            perf = subprocess.Popen(["perf", "record", "-F", "1999", "--call-graph", "dwarf",
                                     *target, "-o", args.out],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        broker = bench.pid_listening_on(int(args.brokers.split(",")[0].rsplit(":", 1)[1]))
        meter = bench.CpuMeter(service, broker)
        report = run.wrk("write", service.url("/v1/programmes"), "POST", script="nominate.lua",
                         env_extra=dict(env, BENCH_TAG="profile"))
        run.wait_published(service)
        used = meter.used()
        figures = {"req_per_s": round(report["rps"]), "nominations": report["requests"]}
        figures.update({f"{name}_cpu_us": round(seconds * 1e6 / report["requests"], 1)
                        for name, seconds in used.items()})
        print(json.dumps(figures))
    finally:
        if perf is not None:
            perf.send_signal(signal.SIGINT)
            perf.wait()
        run.stop_all()
        subprocess.run(["rm", "-rf", run.dir])


if __name__ == "__main__":
    main()
