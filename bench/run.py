"""`make bench`: Kesu under a production-style server (gunicorn, 2 workers, DEBUG off).

For each database (SQLite file in WAL mode, then PostgreSQL):
1. public intake: ≥ 2,000 complaints from 8 concurrent clients → throughput, p50/p95/p99, and
   a check that every 201 is a complaint in the database (nothing lost);
2. 100,000 complaints in the tables, then the queue page and `GET /api/complaints` with and
   without keywords, one client and four → p50/p95.

Results go to bench/results/<backend>.json and are printed as Markdown for docs/performance.md.
Options: --backend sqlite|postgres|both, --intake N, --complaints N, --reads N, --quick.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import Request, Result, run  # noqa: E402

PYTHON = sys.executable
BIN = Path(PYTHON).parent
RESULTS = ROOT / "bench" / "results"
POSTGRES_URL = os.environ.get(
    "KESU_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/kesu_bench"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def machine() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text().split("\n")[0].split()
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())  # fmt: skip
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(int(meminfo[1]) / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def environment(backend: str, var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({
        "DJANGO_SETTINGS_MODULE": "kesu.settings",
        "KESU_VAR_DIR": str(var_dir),
        "KESU_DEBUG": "0",
        "KESU_SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
        "KESU_PUBLIC_RATE_LIMIT": "0",
        "KESU_LOG_LEVEL": "WARNING",
    })  # fmt: skip
    if backend == "postgres":
        env["DATABASE_URL"] = POSTGRES_URL
    return env


def fresh_database(backend: str, var_dir: Path) -> None:
    shutil.rmtree(var_dir, ignore_errors=True)
    var_dir.mkdir(parents=True)
    if backend == "postgres":
        import psycopg

        parts = urllib.parse.urlsplit(POSTGRES_URL)
        name = parts.path.lstrip("/")
        admin = parts._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout  # fmt: skip


def seed(env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run([PYTHON, "bench/seed.py", *args], cwd=ROOT, env=env, check=True,
                         stdout=subprocess.PIPE, text=True).stdout  # fmt: skip
    return dict(json.loads(out.strip().splitlines()[-1]))


class Server:
    """gunicorn with sync workers (2 unless told), as a small production deployment runs it."""

    def __init__(self, env: dict[str, str], threads: int, workers: int = 2) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "kesu.wsgi:application", "--workers", str(workers),
             "--threads", str(threads), "--bind", f"127.0.0.1:{self.port}",
             "--log-level", "warning", "--backlog", "2048"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz within 30 s")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process and of its children that ended (cutime + cstime).

    With the ended children counted, a database backend or web worker that exits during a
    round moves its CPU time into its parent's sum instead of taking it out of the total
    (which had made the database's share negative in some rounds).
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(server: Server) -> dict[str, float]:
    """CPU seconds used so far by the web workers, the database server and this load generator.

    Read from /proc (Linux); the database is every process named `postgres` (none on SQLite).
    """
    totals = {"web": 0.0, "database": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == server.process.pid or int(entry.name) == server.process.pid:
            totals["web"] += cpu_seconds(int(entry.name))
        elif name == "postgres":
            totals["database"] += cpu_seconds(int(entry.name))
    times = os.times()
    totals["load_generator"] = times.user + times.system
    return totals


def intake(server: Server, total: int, clients: int, offset: int) -> Result:
    from bench.seed import texts

    corpus = texts()[0]

    def make(i: int) -> Request:
        i += offset
        body = {
            "description": corpus[i % len(corpus)][:1500],
            "name": f"压测客户{i}",
            "phone": f"1390{i % 10_000_000:07d}",
            "amount": (i % 500) + 0.5,
            "demand": "refund",
        }
        return Request("POST", "/api/public/complaints",
                       {"Content-Type": "application/json"},
                       json.dumps(body, ensure_ascii=False).encode())  # fmt: skip

    return run("127.0.0.1", server.port, make, total=total, clients=clients)


READS = [
    ("queue page: my departments, open (default)", "page", "/work/"),
    ("queue page: all states", "page", "/work/?queue=all&state="),
    ("queue page: keyword 退款", "page", "/work/?queue=all&state=&q=退款"),
    ("API list: all, newest first", "api", "/api/complaints"),
    ("API list: open, due soonest", "api", "/api/complaints?state=open&sort=due"),
    ("API search: 质量 (common)", "api", "/api/complaints?q=质量"),
    ("API search: 快递 慢 (two terms)", "api", "/api/complaints?q=快递%20慢"),
    ("API search: 发霉 (rare)", "api", "/api/complaints?q=发霉"),
    ("API search: credit card (English)", "api", "/api/complaints?q=credit%20card"),
    ("API search: phone number", "api", "/api/complaints?q=13900001234"),
    ("performance page: 30 days, a manager", "page", "/work/reports/performance/"),
    ("API performance: 30 days, all (admin)", "api", "/api/reports/performance?days=30"),
]


def reads(server: Server, auth: dict[str, str], count: int) -> list[dict[str, Any]]:
    rows = []
    for label, kind, path in READS:
        quoted = urllib.parse.quote(path, safe="/?=&%")
        headers = ({"Cookie": f"sessionid={auth['session']}"} if kind == "page"
                   else {"Authorization": f"Bearer {auth['token']}"})  # fmt: skip
        request = Request("GET", quoted, headers)

        def same(i: int, request: Request = request) -> Request:
            return request

        run("127.0.0.1", server.port, same, total=10, clients=1)  # warm-up
        single = run("127.0.0.1", server.port, same, total=count, clients=1, keep_bodies=True)
        four = run("127.0.0.1", server.port, same, total=count, clients=4)
        total = None
        if kind == "api" and single.bodies:
            total = json.loads(single.bodies[-1]).get("total")
            if isinstance(total, dict):  # the performance report: its complaints
                total = total.get("received")
        rows.append({"read": label, "path": path, "matches": total,
                     "one_client": single.summary(), "four_clients": four.summary()})  # fmt: skip
        print(f"  {label:<45} p50 {single.percentile(50):6.1f} ms  p95 "
              f"{single.percentile(95):6.1f} ms  (4 clients p95 {four.percentile(95):6.1f} ms)"
              f"  matches {total}", flush=True)  # fmt: skip
    return rows


def bench(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    var_dir = ROOT / "var" / f"bench-{backend}"
    env = environment(backend, var_dir)
    print(f"== {backend}: preparing a fresh database", flush=True)
    fresh_database(backend, var_dir)
    manage(env, "migrate", "--no-input")
    auth = seed(env, "org")
    # Intake triages every complaint; with a trained model active, as in production.
    print(f"== {backend}: training the category model triage loads", flush=True)
    trained = seed(env, "classifier")
    print(f"  {trained}", flush=True)
    server = Server(env, args.threads, args.workers)
    try:
        intake(server, 50, 4, offset=10**6)  # warm-up
        rounds = []
        # The machine is shared: several rounds, and the median, say more than one run.
        for number in range(args.rounds):
            print(f"== {backend}: intake round {number + 1}, {args.intake} complaints, 8 clients",
                  flush=True)  # fmt: skip
            before = cpu_snapshot(server)
            result = intake(server, args.intake, 8, offset=number * args.intake)
            after = cpu_snapshot(server)
            # Where each complaint's CPU went: web workers, database, load generator (ms).
            cpu = {k: round((after[k] - before[k]) * 1000 / result.count, 2) for k in after}
            rounds.append({**result.summary(), "cpu_ms_per_complaint": cpu})
            print(f"  {rounds[-1]}", flush=True)
        stored = seed(env, "count")["complaints"]
        created = 50 + sum(r["statuses"].get("201", 0) for r in rounds)  # type: ignore[union-attr]
        print(f"  stored {stored} complaints, {created} answered 201", flush=True)
        median = sorted(rounds, key=lambda r: r["per_second"])[len(rounds) // 2]
        report: dict[str, Any] = {
            "backend": backend,
            "server": f"gunicorn, {args.workers} workers x {args.threads} threads, DEBUG off",
            "classifier": trained,
            "intake": {"rounds": rounds, "median": median, "stored": stored,
                       "answered_201": created, "lost": created - stored},
        }  # fmt: skip
        print(f"== {backend}: triage time per complaint (one process, model loaded)", flush=True)
        report["triage"] = seed(env, "triage", "200" if args.quick else "2000")
        print(f"  {report['triage']}", flush=True)
        if args.complaints == 0:
            return report
        print(f"== {backend}: loading {args.complaints} complaints", flush=True)
        started = time.time()
        loaded = seed(env, "complaints", str(args.complaints))
        report["load"] = {**loaded, "seconds": round(time.time() - started, 1)}
        # What a running installation has: planner statistics (the hourly job on SQLite,
        # autovacuum on PostgreSQL, hurried along here).
        manage(env, "run_jobs", "--once")
        if backend == "postgres":
            subprocess.run(["psql", POSTGRES_URL, "-qc", "VACUUM ANALYZE"], check=True)
        print(f"== {backend}: reads over {loaded['complaints']} complaints", flush=True)
        report["reads"] = reads(server, auth, args.reads)
    finally:
        server.stop()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--intake", type=int, default=2400)
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--rounds", type=int, default=3, help="intake rounds (median reported)")
    parser.add_argument("--quick", action="store_true", help="small numbers, for CI")
    args = parser.parse_args()
    if args.quick:
        args.intake, args.complaints, args.reads, args.rounds = 200, 2000, 20, 1
    RESULTS.mkdir(parents=True, exist_ok=True)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    info = machine()
    print(f"machine: {info}", flush=True)
    for backend in backends:
        report = bench(backend, args)
        report["machine"] = info
        report["when"] = time.strftime("%Y-%m-%d %H:%M:%S")
        report["quick"] = args.quick
        (RESULTS / f"{backend}{'-quick' if args.quick else ''}.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
