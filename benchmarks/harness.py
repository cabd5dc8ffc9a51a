"""The benchmark worker and the `ctx` every suite gets.

A suite is a module `benchmarks/suites/<name>.py` with

    def run(ctx) -> dict:          # case name -> result dict
        return {**ctx.time_http("kanban_5000_open", lambda i: url, target_ms=300),
                **ctx.time_call("stage_move", lambda i: services.move(...), target_ms=50)}

and optionally `seed(ctx)` (called before `run`, for small suite-specific data; the volumes themselves are
seeded once by `yingdan.demo.scale.ensure_bench_data`). Suites are discovered from the folder; `BENCH_SUITES=a,b`
selects some.

`ctx` attributes:
    db_name   "sqlite" or "postgresql" (the benchmark database's name in `make bench`)
    vendor    connection.vendor
    user      a regional sales manager (manager role, a department with sub-departments: ~1/4 of the data)
    client    a django.test.Client logged in as `user`
    repeat    timed repetitions per case (BENCH_REPEAT, default 30)
    rng       random.Random, seeded per suite (reproducible samples)
    log(msg)  progress to stderr
    client_for(user) -> a Client logged in as another user
    time_http(name, url_fn, target_ms, headers=None)
        GETs url_fn(i) for i = 0, 1, ... (3 warm-up requests first, not recorded; every call gets its own i);
        a response other than 200 raises BenchError naming the case, the URL and the status.
        headers: Django test-client keys ({"HTTP_HX_REQUEST": "true"}) or plain names ({"HX-Request": "true"}).
    time_call(name, fn, target_ms, n=None, warmup=None)
        calls fn(i) n times (default repeat) after `warmup` calls (default 2; 0 when n == 1), each with its own i.
    record(name, samples_ms, target_ms, **extra)
        the result dict for timings the suite measured itself (throughput tests, one-off passes, ...).
All three return {name: {p50_ms, p95_ms, max_ms, n, target_ms, ok, max_queries?, ...extra}}; ok is p95 < target.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import importlib
import json
import os
import pkgutil
import random
import statistics
import sys
import time
import traceback
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITES_DIR = Path(__file__).resolve().parent / "suites"
WARMUP_HTTP = 3
WARMUP_CALL = 2


class BenchError(Exception):
    """A case could not be measured (bad status, missing data): the suite is reported as failed."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def summarise(name: str, samples_ms: list[float], target_ms: float, **extra) -> dict:
    if not samples_ms:
        raise BenchError(f"{name}: no samples")
    times = sorted(samples_ms)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return {
        name: {
            "p50_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1), "max_ms": round(times[-1], 1),
            "n": len(times), "target_ms": target_ms, "ok": p95 < target_ms, **extra,
        }
    }


class Context:
    def __init__(self, db_name: str, suite: str, user, repeat: int):
        from django.db import connection

        self.db_name = db_name
        self.suite = suite
        self.vendor = connection.vendor
        self.user = user
        self.repeat = repeat
        self.rng = random.Random(zlib.crc32(suite.encode()))
        self.client = self.client_for(user)

    def log(self, message: str) -> None:
        log(f"[{self.db_name}:{self.suite}] {message}")

    @staticmethod
    def client_for(user):
        from django.test import Client

        client = Client()
        client.force_login(user)
        return client

    @staticmethod
    def _headers(headers: dict | None) -> dict:
        out = {}
        for key, value in (headers or {}).items():
            if not key.startswith("HTTP_") and key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key.upper().replace("-", "_")
            out[key] = value
        return out

    def record(self, name: str, samples_ms: list[float], target_ms: float, **extra) -> dict:
        result = summarise(name, samples_ms, target_ms, **extra)
        r = result[name]
        self.log(f"{name}: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms (target {target_ms} ms){'' if r['ok'] else '  MISSED'}")
        return result

    def time_http(self, name: str, url_fn, target_ms: float, headers: dict | None = None) -> dict:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        headers = self._headers(headers)
        times, queries = [], 0
        for i in range(WARMUP_HTTP + self.repeat):
            url = url_fn(i)
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = self.client.get(url, **headers)
                elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                body = response.content[:300].decode("utf-8", "replace").strip() if hasattr(response, "content") else ""
                raise BenchError(f"{name}: GET {url} answered {response.status_code} (expected 200). {body}")
            if i >= WARMUP_HTTP:
                times.append(elapsed)
                queries = max(queries, len(captured.captured_queries))
        return self.record(name, times, target_ms, max_queries=queries)

    def time_call(self, name: str, fn, target_ms: float, n: int | None = None, warmup: int | None = None) -> dict:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        n = self.repeat if n is None else n
        warmup = (0 if n == 1 else WARMUP_CALL) if warmup is None else warmup
        times, queries = [], 0
        for i in range(warmup + n):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                fn(i)
                elapsed = (time.perf_counter() - started) * 1000
            if i >= warmup:
                times.append(elapsed)
                queries = max(queries, len(captured.captured_queries))
        return self.record(name, times, target_ms, max_queries=queries)


# -- discovery ------------------------------------------------------------------------------------------
def available_suites() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(SUITES_DIR)]) if not m.name.startswith("_"))


def selected_suites() -> list[str]:
    available = available_suites()
    wanted = [s.strip() for s in os.environ.get("BENCH_SUITES", "").split(",") if s.strip()]
    if not wanted:
        return available
    unknown = [s for s in wanted if s not in available]
    if unknown:
        raise SystemExit(f"Unknown suite(s) {', '.join(unknown)}; available: {', '.join(available)}")
    return wanted


def bench_user():
    """A regional sales manager: manager role, a department with sub-departments, the most customers."""
    from yingdan.org.models import Department, User

    regions = Department.objects.filter(children__isnull=False, parent__isnull=False).distinct()
    user = User.objects.filter(is_active=True, roles__code="manager", department__in=regions).order_by("id").first()
    if user is None:  # no region: any manager
        user = User.objects.filter(is_active=True, roles__code="manager").order_by("id").first()
    if user is None:
        raise SystemExit("No manager user to benchmark as; seed data first.")
    return user


@contextlib.contextmanager
def exclusive(db_name: str):
    """One worker per benchmark database at a time (concurrent `make bench` runs queue here). The default
    databases lock var/bench/sqlite.lock and var/bench/postgresql.lock; other URLs get their own lock."""
    url = os.environ.get("DATABASE_URL", "")
    default = url in (f"sqlite:///{ROOT / 'var' / 'bench' / 'yingdan-bench.sqlite3'}",
                      "postgres://postgres@127.0.0.1:5432/yingdan_bench", "")
    name = db_name if default else f"{db_name}-{zlib.crc32(url.encode()):08x}"
    path = ROOT / "var" / "bench" / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"[{db_name}] waiting for another benchmark run on this database ({path})…")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- the worker ----------------------------------------------------------------------------------------
CALIBRATION_STEPS = 10_000_000


def calibrate() -> float:
    """Seconds a plain Python loop of CALIBRATION_STEPS additions takes on this machine now: one core's speed,
    taken before and after each suite, so that numbers from different machines (or one machine whose neighbours
    are busy: 2x apart within minutes, seen here) can be compared."""
    t0 = time.perf_counter()
    x = 0
    for i in range(CALIBRATION_STEPS):
        x += i
    return round(time.perf_counter() - t0, 2)


def cpu_times() -> list[int] | None:
    """The machine's CPU time counters since boot (the `cpu` line of /proc/stat: user, nice, system, idle,
    iowait, irq, softirq, steal), or None where there is no /proc."""
    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    return [int(v) for v in fields[1:9]]


def cpu_share(before: list[int] | None, after: list[int] | None) -> dict | None:
    """How the machine's CPUs spent a suite's time, in percent of all of them: busy (any process, this run's
    other database worker included), waiting for I/O, and stolen by the hypervisor for other guests — a suite
    whose time moved while its code did not usually shows it here (10% steal and 50% I/O wait were seen on
    one machine of this project's, while the calibration loop took 0.33-1.55 s within an hour)."""
    if not before or not after:
        return None
    d = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(d)
    if total <= 0:
        return None
    user, nice, system, _idle, iowait, irq, softirq, steal = (round(100 * v / total, 1) for v in d)
    return {"busy_pct": round(user + nice + system + irq + softirq, 1), "iowait_pct": iowait, "steal_pct": steal}


def worker(db_name: str) -> dict:
    suites = selected_suites()
    with exclusive(db_name):
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test.utils import setup_test_environment

        call_command("migrate", verbosity=0, skip_checks=True)
        from yingdan.core.warmup import prepare_process
        from yingdan.demo.scale import bench_volumes, ensure_bench_data

        seeded = {}
        if os.environ.get("BENCH_SEED", "1") != "0":
            seeded = ensure_bench_data(
                customers=int(os.environ.get("BENCH_CUSTOMERS", "1000000")),
                log=lambda msg: log(f"[{db_name}] {msg}"),
            )
        setup_test_environment()  # the test Client's template-rendered signals, as in tests
        repeat = int(os.environ.get("BENCH_REPEAT", "30"))
        user = bench_user()
        results = {}
        for suite in suites:
            started = time.monotonic()
            entry = {"measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                     "user": f"{user.username} ({user.department})"}
            calibration = [calibrate()]
            cpu_before = cpu_times()
            try:
                module = importlib.import_module(f"benchmarks.suites.{suite}")
                ctx = Context(db_name, suite, user, repeat)
                if hasattr(module, "seed"):
                    module.seed(ctx)
                prepare_process()  # what each gunicorn worker does after start-up (yingdan/wsgi.py)
                entry["cases"] = module.run(ctx)
            except Exception as exc:  # one broken suite must not cost the others' numbers
                log(f"[{db_name}:{suite}] FAILED: {exc}")
                log(traceback.format_exc())
                entry["error"] = f"{type(exc).__name__}: {exc}"[:2000]
            entry["seconds"] = round(time.monotonic() - started, 1)
            entry["cpu"] = cpu_share(cpu_before, cpu_times())  # (before the closing calibration loop, like seconds)
            entry["calibration_s"] = [*calibration, calibrate()]  # (before, after): see calibrate
            results[suite] = entry
        return {"vendor": connection.vendor, "volumes": bench_volumes(), "seeded_seconds": seeded, "suites": results}


def main_worker(db_name: str) -> None:
    print(json.dumps(worker(db_name), ensure_ascii=False))
