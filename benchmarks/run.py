"""`make bench`: server-time benchmarks of the real views and services at scale, on SQLite and PostgreSQL.

For each database this script runs a worker process (Django settings are per process; `benchmarks/harness.py`).
The worker takes an exclusive lock on var/bench/<database>.lock for its whole run (concurrent runs queue),
migrates the benchmark database, seeds the volumes once (`yingdan.demo.scale.ensure_bench_data`: 1,000,000
customers, 3,000,000 contacts, 10,000,000 follow-ups, leads, pools, 500,000 opportunities with 3,000,000 stage
changes; re-used by later runs), then runs the suites in `benchmarks/suites/` through Django's test Client (no
network: the server-side time of middleware, view, queries and template), as a regional sales manager.

Environment:
    BENCH_SUITES      comma-separated suites to run (default: all in benchmarks/suites/)
    BENCH_DATABASES   comma-separated subset of sqlite,postgresql (default both)
    BENCH_REPEAT      timed repetitions per case (default 30, after warm-up)
    BENCH_CUSTOMERS   customers to seed (default 1000000)
    BENCH_SEED        0: measure what is there, seed nothing
    BENCH_SQLITE_PATH SQLite file (default var/bench/yingdan-bench.sqlite3)
    BENCH_PG_URL      PostgreSQL URL (default postgres://postgres@127.0.0.1:5432/yingdan_bench)

Prints the results of this run as JSON and merges them into benchmarks/results/latest.json per database and
suite (a run of one suite keeps the other suites' last numbers). Exits 0 even when a target is missed (see
"ok" per case); exits 1 when a worker or a suite failed.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "latest.json"


def database_url(name: str) -> str:
    if name == "sqlite":
        path = Path(os.environ.get("BENCH_SQLITE_PATH", ROOT / "var" / "bench" / "yingdan-bench.sqlite3")).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    if name == "postgresql":
        return os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/yingdan_bench")
    raise SystemExit(f"Unknown database {name!r}: use sqlite or postgresql")


def ensure_pg_database(url: str) -> None:
    import psycopg

    dbname = url.rsplit("/", 1)[1].split("?")[0]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{dbname}"')


def run_worker(name: str) -> dict:
    url = database_url(name)
    if name == "postgresql":
        ensure_pg_database(url)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    if name == "sqlite":
        env["YINGDAN_DATA_DIR"] = str(Path(url.removeprefix("sqlite:///")).parent)
    # The worker's progress goes straight to our stderr; its last stdout line is its JSON result.
    proc = subprocess.run([sys.executable, __file__, "--worker", name], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {"error": f"worker exited with {proc.returncode} (see the messages above)"}
    return json.loads(lines[-1])


def merge(run: dict) -> dict:
    """Merge this run into latest.json under a lock: per database, the suites run replace their old entries."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS.with_suffix(".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            latest = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
        except ValueError:
            latest = {}
        if "suites" not in next(iter(latest.get("databases", {}).values()), {"suites": {}}):
            latest = {}  # the format before suites: start again
        latest["updated_at"] = run["updated_at"]
        databases = latest.setdefault("databases", {})
        for name, result in run["databases"].items():
            entry = databases.setdefault(name, {"suites": {}})
            if "error" in result:
                entry["last_error"] = result["error"]
                continue
            entry.pop("last_error", None)
            for key in ("vendor", "volumes"):
                entry[key] = result[key]
            if result.get("seeded_seconds"):
                entry.setdefault("seeded_seconds", {}).update(result["seeded_seconds"])
            entry["suites"].update(result["suites"])
        tmp = RESULTS.with_suffix(".tmp")
        tmp.write_text(json.dumps(latest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        tmp.replace(RESULTS)
    return latest


def summary(run: dict) -> str:
    lines = []
    for db, result in run["databases"].items():
        if "error" in result:
            lines.append(f"{db}: {result['error']}")
            continue
        for suite, entry in result["suites"].items():
            if "error" in entry:
                lines.append(f"{db:10} {suite:14} FAILED  {entry['error'][:150]}")
                continue
            cal = entry.get("calibration_s")
            if cal:
                cpu = entry.get("cpu") or {}
                machine = (f"; CPUs {cpu['busy_pct']}% busy, {cpu['iowait_pct']}% I/O wait, {cpu['steal_pct']}% stolen"
                           if cpu else "")
                lines.append(f"{db:10} {suite:14} calibration loop {cal[0]} s before, {cal[-1]} s after (harness.calibrate)"
                             f"{machine}")
            for case, r in entry["cases"].items():
                flag = "ok" if r.get("ok") else "MISSED"
                lines.append(f"{db:10} {suite:14} {case:34} p50 {r['p50_ms']:>9} p95 {r['p95_ms']:>9} "
                             f"target {r['target_ms']:>6} ms  {flag}")
    return "\n".join(lines)


def main() -> int:
    databases = [d.strip() for d in os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",") if d.strip()]
    run = {"updated_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"), "databases": {}}
    for name in databases:
        # A database other than the default one is reported under its own key (not mixed with make bench's).
        custom = os.environ.get("BENCH_SQLITE_PATH" if name == "sqlite" else "BENCH_PG_URL")
        run["databases"][f"{name} ({custom})" if custom else name] = run_worker(name)
    merge(run)
    print(json.dumps(run, ensure_ascii=False, indent=2))
    print(summary(run), file=sys.stderr)
    failed = any("error" in r or any("error" in s for s in r.get("suites", {}).values()) for r in run["databases"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        sys.path.insert(0, str(ROOT))
        from benchmarks.harness import main_worker

        main_worker(sys.argv[2])
    else:
        sys.exit(main())
