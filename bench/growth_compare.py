#!/usr/bin/env python3
"""Two invitations binaries on copies of one filled store, alternating (docs/benchmarks.md,
"Growth (issue 23)"), and the search and filtered-list statements alone on those copies.

  growth_compare.py services --store S --keys DIR --brokers B --bin-a A --bin-b B [--rounds 3]
  growth_compare.py statements --store-a A.db --store-b B.db

`--store` is an invitations database filled by bench/bench.py's growth part (its directory holds
field-key.hex, jwt-public.pem and jwt-private.pem: pass it as --keys). Each binary gets its own
copy (migrated by that binary at its first start), then runs 5 s of wrk on the search and on the
filtered list, in turn with the other binary, --rounds times; medians are printed.
"""
import argparse, json, os, re, shutil, socket, statistics, sqlite3, subprocess, tempfile, time
import urllib.request

BENCH = os.path.dirname(os.path.abspath(__file__))
LIMITS = {f"JILAF_RATE_LIMIT_{s}_{k}": "10000000"
          for s in ("ADDRESS", "READ", "WRITE", "EXPENSIVE") for k in ("RPS", "BURST")}
SEARCH = "/v1/nominations?q=Nguyen"
LISTED = "/v1/nominations?nationality=VN&status=submitted&fiscal_year=2022"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk(url, token, connections):
    out = subprocess.run(["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", "5s",
                          "-s", os.path.join(BENCH, "report.lua"), url],
                         env=dict(os.environ, BENCH_METHOD="GET", BENCH_TOKEN=token, BENCH_BODY=""),
                         capture_output=True, text=True, check=True).stdout
    report = json.loads(re.search(r"^BENCH (\{.*\})$", out, re.M).group(1))
    if report["requests"] == 0 or report["non2xx"] or report["socket_errors"]:
        raise RuntimeError(f"bad wrk run: {report}")
    return report["requests"] / (report["duration_us"] / 1e6), report["p50_us"] / 1e3


def measure(binary, db, args, token):
    http_port, admin_port = free_port(), free_port()
    with open(db + ".log", "ab") as log:
        service = subprocess.Popen(
            [binary, "--listen-address", "127.0.0.1", "--http-port", str(http_port),
             "--admin-port", str(admin_port), "--db", db, "--kafka-brokers", args.brokers,
             "--jwt-public-key", os.path.join(args.keys, "jwt-public.pem"),
             "--field-key-file", os.path.join(args.keys, "field-key.hex")],
            stdout=log, stderr=log, env=dict(os.environ, **LIMITS))
    try:
        deadline = time.monotonic() + 300  # a first start migrates the copy
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/readyz", timeout=1).status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or service.poll() is not None:
                    raise RuntimeError(f"{binary} did not become ready; see {db}.log")
                time.sleep(0.05)
        base = f"http://127.0.0.1:{http_port}"
        return {"search": wrk(base + SEARCH, token, 8), "list": wrk(base + LISTED, token, 1)}
    finally:
        service.terminate()
        service.wait(30)


def services(args):
    token = subprocess.run([args.token_tool, "--private-key", os.path.join(args.keys, "jwt-private.pem"),
                            "--role", "staff", "--sub", "bench", "--ttl", "7200"],
                           check=True, capture_output=True, text=True).stdout.strip()
    work = tempfile.mkdtemp(prefix="jilaf-growth-compare-")
    copies = {}
    for name in ("a", "b"):
        copies[name] = os.path.join(work, f"{name}.db")
        subprocess.run(["sqlite3", f"file:{args.store}?mode=ro", f".backup {copies[name]}"], check=True)
    results = {"a": [], "b": []}
    for _ in range(args.rounds):
        for name, binary in (("a", args.bin_a), ("b", args.bin_b)):
            figures = measure(binary, copies[name], args, token)
            results[name].append(figures)
            print(time.strftime("%H:%M:%S"), name, {k: f"{v[0]:.0f} req/s, p50 {v[1]:.2f} ms"
                                                    for k, v in figures.items()}, flush=True)
    for name, runs in results.items():
        print(name, "median: search", round(statistics.median(r["search"][0] for r in runs)), "req/s,",
              "filtered list p50", round(statistics.median(r["list"][1] for r in runs), 2), "ms")
    print("copies kept in", work)


def statements(args):
    t = "nominations"
    ranked = (f"SELECT {t}.seq, {t}.doc FROM {t}_search JOIN {t} ON {t}.seq = {t}_search.rowid "
              f"WHERE {t}_search MATCH ? ORDER BY {t}_search.rank, {t}.seq LIMIT 51 OFFSET 0")
    newest = (f"SELECT {t}.seq, {t}.doc FROM {t}_search JOIN {t} ON {t}.seq = {t}_search.rowid "
              f"WHERE {t}_search MATCH ? AND {t}_search.rowid < 9223372036854775807 "
              f"ORDER BY {t}_search.rowid DESC LIMIT 51")
    listed = (f"SELECT seq, doc FROM {t} WHERE seq > 0 AND status = 'submitted' AND nationality = 'VN' "
              f"AND fiscal_year = 2022 ORDER BY seq LIMIT 51")

    def timed(db, sql, params, runs=200):
        db.execute(sql, params).fetchall()
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            db.execute(sql, params).fetchall()
            samples.append((time.perf_counter() - started) * 1e3)
        return statistics.median(samples)

    a = sqlite3.connect(f"file:{args.store_a}?mode=ro", uri=True)
    b = sqlite3.connect(f"file:{args.store_b}?mode=ro", uri=True)
    print("nominations:", a.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
    for q in ('"nguyen"*', '"tran"*'):
        n = a.execute(f"SELECT count(*) FROM {t}_search WHERE {t}_search MATCH ?", (q,)).fetchone()[0]
        print(f"search {q} ({n} matches): ranked (a) {timed(a, ranked, (q,)):.3f} ms, "
              f"newest first (b) {timed(b, newest, (q,)):.3f} ms")
    print(f"filtered list: a {timed(a, listed, ()):.3f} ms, b {timed(b, listed, ()):.3f} ms")
    for name, db in (("a", a), ("b", b)):
        print(name, [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + listed)])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("services")
    run.add_argument("--store", required=True)
    run.add_argument("--keys", required=True)
    run.add_argument("--brokers", required=True)
    run.add_argument("--bin-a", required=True)
    run.add_argument("--bin-b", required=True)
    run.add_argument("--token-tool", default=os.path.join(BENCH, "..", "build", "release", "tools", "jilaf-token"))
    run.add_argument("--rounds", type=int, default=3)
    alone = sub.add_parser("statements")
    alone.add_argument("--store-a", required=True)
    alone.add_argument("--store-b", required=True)
    args = parser.parse_args()
    services(args) if args.command == "services" else statements(args)


if __name__ == "__main__":
    main()
