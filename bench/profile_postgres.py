#!/usr/bin/python3
"""The PostgreSQL write path of invitations under the bench's nomination load: one replica on a
throw-away cluster configured as bench.py's (fsync on, PG_SERVER_OPTIONS) with
pg_stat_statements loaded. After each wrk run it prints, per durable nomination, the writer
thread's wall and CPU time, the service's CPU, the CPU of the database's backends (from /proc)
and the server's execution time of the statements (pg_stat_statements); then the run's WAL
flushes, the statements that cost most (calls, mean ms, shared buffers per call) and, at the
end, each table's live/dead tuples, HOT updates, scans and autovacuum/autoanalyze counts.
docs/benchmarks.md ("What bounds the PostgreSQL write rate now") quotes it.

  bench/profile_postgres.py --brokers 127.0.0.1:PORT --runs 3 --duration 5
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402 - the benchmark's own services, cluster, wrk and /proc helpers

cpu_s = bench.cpu_seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    bench.build_arguments(parser)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5)
    args = parser.parse_args()
    if not args.brokers:
        sys.exit("profile_postgres: no Kafka broker: pass --brokers")
    run = bench.Bench(argparse.Namespace(
        build_dir=args.build_dir, services_build_dir=args.services_build_dir,
        brokers=args.brokers, short=False, runs=1, duration=args.duration, connections=64))
    cluster = bench.PostgresCluster()

    def sql(statement, database="bench_invitations"):
        return subprocess.run(
            ["bash", "-c", f'source "{bench.REPO}/scripts/lib/postgres.sh"; '
             f'postgres_query "$1" {database} "$2"', "sql", cluster.dir, statement],
            check=True, capture_output=True, text=True).stdout.strip()

    try:
        sql("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'", "postgres")
        cluster.shell('_postgres_as_owner "$(_postgres_bin pg_ctl)" --pgdata="$1/data" '
                      '--log="$1/postgres.log" --wait restart >/dev/null', cluster.dir)
        database = cluster.database("invitations")
        sql("CREATE EXTENSION pg_stat_statements")
        service = run.start("invitations", tag="-pg", database=database)
        status, body = bench.http("POST", service.url("/v1/programmes"), bench.PROGRAMME,
                                  run.token)
        assert status == 201, (status, body)
        programme = json.loads(body)["id"]
        pid = service.process.pid
        writer = f"/proc/{pid}/task/{bench.thread_id(pid, bench.WRITER_THREAD)}/stat"
        for index in range(args.runs):
            run.wait_published(service)
            sql("SELECT pg_stat_statements_reset()")
            backends = sql("SELECT pid FROM pg_stat_activity WHERE datname = "
                           "'bench_invitations' AND pid <> pg_backend_pid()").split()
            before = {p: cpu_s(f"/proc/{p}/stat") for p in backends}
            writer_before, service_before = cpu_s(writer), cpu_s(f"/proc/{pid}/stat")
            flushes_before = int(sql("SELECT wal_sync FROM pg_stat_wal"))
            report = run.wrk("write", service.url("/v1/programmes"), "POST",
                             script="nominate.lua",
                             env_extra={"BENCH_PROGRAMMES": programme, "BENCH_QUOTA": "0",
                                        "BENCH_TAG": f"profile-{index}"})
            n = report["requests"]
            per = 1e6 / n
            backends_s = sum(cpu_s(f"/proc/{p}/stat") - before[p] for p in backends
                             if os.path.exists(f"/proc/{p}/stat"))
            server_ms = float(sql(
                "SELECT coalesce(sum(total_exec_time), 0) FROM pg_stat_statements WHERE query "
                "NOT LIKE '%outbox%' AND query NOT LIKE 'BEGIN ISOLATION%'") or 0)
            print(f"run {index + 1}: {report['rps']:.0f} req/s, {n} nominations; per "
                  f"nomination: writer wall {report['duration_us'] / n:.0f} µs, writer CPU "
                  f"{(cpu_s(writer) - writer_before) * per:.0f} µs, service CPU "
                  f"{(cpu_s(f'/proc/{pid}/stat') - service_before) * per:.0f} µs, backends "
                  f"CPU {backends_s * per:.0f} µs, server execution of the writer's "
                  f"statements {server_ms * 1e3 / n:.0f} µs; WAL flushes "
                  f"{int(sql('SELECT wal_sync FROM pg_stat_wal')) - flushes_before}")
            print(sql("SELECT calls, round(mean_exec_time::numeric, 3), shared_blks_hit / "
                      "greatest(calls, 1), left(query, 80) FROM pg_stat_statements ORDER BY "
                      "total_exec_time DESC LIMIT 10"))
        print("table|live|dead|updated|hot|seq_scan|idx_scan|autovacuum|autoanalyze")
        print(sql("SELECT relname, n_live_tup, n_dead_tup, n_tup_upd, n_tup_hot_upd, seq_scan, "
                  "idx_scan, autovacuum_count, autoanalyze_count FROM pg_stat_user_tables "
                  "WHERE n_live_tup > 0 ORDER BY relname"))
    finally:
        run.stop_all()
        cluster.stop()


if __name__ == "__main__":
    main()
