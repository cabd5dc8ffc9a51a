"""`make bench`: server-time benchmarks of the real views at scale, on SQLite and on PostgreSQL.

For each database this script runs itself again as a worker process (Django settings are per process):
the worker migrates the benchmark database, seeds it once with `yingdan.demo.scale.generate` up to
BENCH_CUSTOMERS customers (default 1,000,000; re-used when already seeded), then times requests through
Django's test Client (no network: the server-side time of middleware, view, queries and template) as a
regional sales manager (data scope: department and sub-departments, ~a quarter of all customers).

Environment:
    BENCH_CUSTOMERS   customers to seed (default 1000000)
    BENCH_REPEAT      timed requests per case (default 30, after 3 warm-up requests)
    BENCH_DATABASES   comma-separated subset of sqlite,postgresql (default both)
    BENCH_SQLITE_PATH SQLite file (default var/bench/yingdan-bench.sqlite3)
    BENCH_PG_URL      PostgreSQL URL (default postgres://postgres@127.0.0.1:5432/yingdan_bench)

Prints one JSON document: per database and case p50/p95/max in milliseconds and the target; it is also
written to benchmarks/results/latest.json. Exits 0 even when a target is missed (see "ok" per case).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS_MS = {"list": 100, "search": 150, "detail": 50}


def database_url(name: str) -> str:
    if name == "sqlite":
        path = Path(os.environ.get("BENCH_SQLITE_PATH", ROOT / "var" / "bench" / "yingdan-bench.sqlite3")).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    return os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/yingdan_bench")


def ensure_pg_database(url: str) -> None:
    import psycopg

    dbname = url.rsplit("/", 1)[1].split("?")[0]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{dbname}"')


def main() -> int:
    databases = [d.strip() for d in os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",") if d.strip()]
    report = {"customers": int(os.environ.get("BENCH_CUSTOMERS", "1000000")), "targets_ms": TARGETS_MS, "databases": {}}
    for name in databases:
        url = database_url(name)
        if name == "postgresql":
            ensure_pg_database(url)
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
               "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        if name == "sqlite":
            env["YINGDAN_DATA_DIR"] = str(Path(url.removeprefix("sqlite:///")).parent)
        # The worker's progress goes straight to our stderr; its last stdout line is its JSON result.
        proc = subprocess.run([sys.executable, __file__, "--worker", name], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            report["databases"][name] = {"error": f"worker exited with {proc.returncode} (see the messages above)"}
            continue
        report["databases"][name] = json.loads(proc.stdout.strip().splitlines()[-1])
    out = json.dumps(report, ensure_ascii=False, indent=2)
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "latest.json").write_text(out + "\n", encoding="utf-8")
    print(out)
    return 0


# -- the worker ---------------------------------------------------------------------------------------
def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def worker(db_name: str) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, skip_checks=True)
    from yingdan.customers.models import Customer

    wanted = int(os.environ.get("BENCH_CUSTOMERS", "1000000"))
    have = Customer.objects.count()
    seed_seconds = None
    if have < wanted:
        from yingdan.demo.scale import generate

        log(f"[{db_name}] seeding {wanted - have:,} customers (once; re-used by later runs)…")

        class Err:
            def write(self, msg):
                log(f"[{db_name}] {msg.rstrip()}")

        result = generate(wanted - have, stdout=Err(), seed=20240601)
        seed_seconds = round(result["seconds"], 1)
    return {"vendor": connection.vendor, "customers": Customer.objects.count(), "seed_seconds": seed_seconds, **measure(db_name)}


def bench_user():
    """A regional sales manager: manager role, a department with sub-departments, the most customers."""
    from yingdan.org.models import Department, User

    regions = Department.objects.filter(children__isnull=False, parent__isnull=False).distinct()
    user = User.objects.filter(is_active=True, roles__code="manager", department__in=regions).order_by("id").first()
    if user is None:  # no region: any manager, else any owner
        user = User.objects.filter(is_active=True, roles__code="manager").order_by("id").first()
    if user is None:
        raise SystemExit("No manager user to benchmark as; seed data first.")
    return user


def measure(db_name: str) -> dict:
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import NoReverseMatch, reverse

    from yingdan.core.models import Lookup
    from yingdan.customers.models import Contact, Customer

    setup_test_environment()  # the test Client's template-rendered signals, as in tests
    repeat = int(os.environ.get("BENCH_REPEAT", "30"))
    rng = random.Random(7)
    user = bench_user()
    client = Client()
    client.force_login(user)
    visible = Customer.objects.visible_to(user, "view")
    sample = list(visible.order_by("-id").values("id", "search_name", "search_initials")[:2000])
    contacts = list(Contact.objects.visible_to(user, "view").order_by("-id").values_list("search_name", flat=True)[:2000])
    if not sample:
        raise SystemExit("The benchmark user sees no customers.")

    def pick(values, k=10):
        return [rng.choice(values) for _ in range(k)]

    cases: list[tuple[str, str, callable, dict]] = []
    try:
        list_url = reverse("customers:customer_list")
        level = Lookup.objects.filter(kind="customer_level").order_by("order", "id").first()
        cases += [
            ("list_first_page", "list", lambda i: list_url, {}),
            ("list_page_1000", "list", lambda i: f"{list_url}?page=1000", {}),
        ]
        if level is not None:
            cases.append(("list_filter_level", "list", lambda i: f"{list_url}?level={level.pk}", {}))
    except NoReverseMatch:
        log(f"[{db_name}] customers:customer_list is not installed: list cases skipped")
    search_url = reverse("search:global")
    htmx = {"HTTP_HX_REQUEST": "true"}
    initials = pick([s["search_initials"][:4] for s in sample if len(s["search_initials"]) >= 4])
    two = pick([s["search_name"][j : j + 2] for s in sample[:200] for j in range(0, 4)])
    four = pick([s["search_name"][1:5] for s in sample if len(s["search_name"]) >= 5])
    person = pick([n[:2] for n in contacts if len(n) >= 2])
    cases += [
        ("search_initials_4", "search", lambda i: f"{search_url}?q={initials[i % len(initials)]}", htmx),
        ("search_name_2_chars", "search", lambda i: f"{search_url}?q={two[i % len(two)]}", htmx),
        ("search_name_4_chars", "search", lambda i: f"{search_url}?q={four[i % len(four)]}", htmx),
        ("search_person_2_chars", "search", lambda i: f"{search_url}?q={person[i % len(person)]}", htmx),
        ("search_common_2_chars_page", "search", lambda i: f"{search_url}?q=科技", {}),
    ]
    try:
        ids = pick([s["id"] for s in sample], 20)
        reverse("customers:customer_detail", args=[1])
        cases.append(("customer_detail", "detail", lambda i: reverse("customers:customer_detail", args=[ids[i % len(ids)]]), {}))
    except NoReverseMatch:
        log(f"[{db_name}] customers:customer_detail is not installed: detail case skipped")

    from django.db import connection

    results = {}
    for name, kind, url_for, headers in cases:
        times = []
        queries = 0
        for i in range(-3, repeat):
            url = url_for(max(i, 0))
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(url, **headers)
                elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{name}: {url} answered {response.status_code}")
            if i >= 0:
                times.append(elapsed)
                queries = max(queries, len(ctx.captured_queries))
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        results[name] = {
            "p50_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1), "max_ms": round(times[-1], 1),
            "n": len(times), "max_queries": queries, "target_ms": TARGETS_MS[kind], "ok": p95 < TARGETS_MS[kind],
        }
        log(f"[{db_name}] {name}: p50 {results[name]['p50_ms']} ms, p95 {results[name]['p95_ms']} ms")
    return {"user": f"{user.username} ({user.department})", "cases": results}


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2]), ensure_ascii=False))
    else:
        sys.exit(main())
