"""The floor of a 100k-row import's writes on SQLite: the database's own work, without any Python per row.

Runs the bench import (the `imports` suite's xlsx, as the bench user), copies what it wrote aside into temporary
tables, removes it, then writes the same rows again with `INSERT ... SELECT` in the import's groups of 2,000
rows (customers, contacts, their grams in key order, change-log rows, one commit per group; then the import's
own rows) under the job's page-cache and mmap settings, and removes them again. What the import's job spends
inside SQLite beyond this goes mostly to binding its parameters from Python (executemany) and to its
checkpoint thread.

    DATABASE_URL=sqlite:////abs/path/var/bench/yingdan-bench.sqlite3 YINGDAN_DATA_DIR=var/bench \\
        DJANGO_SETTINGS_MODULE=benchmarks.settings .venv/bin/python benchmarks/import_write_floor.py

Not part of `make bench` (it takes as long as an import and its undo twice); the seeded bench database and
the suite's xlsx must exist (run `make bench` once)."""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from benchmarks.harness import bench_user  # noqa: E402
from benchmarks.suites.imports import BENCH_DIR, _high_water, _undo_import, import_file  # noqa: E402
from yingdan.core.models import ObjectChange  # noqa: E402
from yingdan.customers.models import Contact, Customer  # noqa: E402
from yingdan.imports.models import ImportJob, ImportRow  # noqa: E402
from yingdan.imports.services import IMPORT_CACHE_KIB, IMPORT_MMAP_BYTES  # noqa: E402
from yingdan.search.models import SearchGram  # noqa: E402

GROUP = 2_000  # rows a transaction, as the import's TX_ROWS


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    if connection.vendor != "sqlite":
        sys.exit("SQLite only (temporary tables and PRAGMAs)")
    n = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
    xlsx = BENCH_DIR / f"import-customers-v2-{n}.xlsx"
    if not xlsx.exists():
        sys.exit(f"{xlsx} is missing: run `make bench` once")
    before = _high_water()
    q = connection.ops.quote_name
    table = {m: q(m._meta.db_table) for m in (Customer, Contact, ObjectChange, ImportRow, SearchGram, ImportJob)}
    try:  # (the import commits group by group: whatever happens, what it wrote is removed again)
        t0, c0 = time.perf_counter(), cpu()
        job = import_file(bench_user(), xlsx)
        print(f"import: {time.perf_counter() - t0:.1f} s, {cpu() - c0:.1f} s CPU of this process (job + checkpoint "
              f"thread), created {job.created}")
        with connection.cursor() as cur:
            cur.execute("PRAGMA temp_store=MEMORY")
            aside = [
                ("t_cust", f"SELECT * FROM {table[Customer]} WHERE id > %s", [before[Customer]]),
                ("t_cont", f"SELECT * FROM {table[Contact]} WHERE id > %s", [before[Contact]]),
                ("t_chg", f"SELECT * FROM {table[ObjectChange]} WHERE id > %s", [before[ObjectChange]]),
                ("t_job", f"SELECT * FROM {table[ImportJob]} WHERE id = %s", [job.pk]),
                ("t_row", f"SELECT * FROM {table[ImportRow]} WHERE job_id = %s", [job.pk]),
                ("t_gram", f"SELECT * FROM {table[SearchGram]} WHERE (kind = 1 AND object_id > %s) "
                           "OR (kind = 2 AND object_id > %s)", [before[Customer], before[Contact]]),
            ]
            for name, sql, params in aside:
                cur.execute(f"CREATE TEMP TABLE {name} AS {sql}", params)
            _undo_import(before)
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cur.execute(f"INSERT INTO {table[ImportJob]} SELECT * FROM t_job")
            cur.execute(f"PRAGMA cache_size=-{int(IMPORT_CACHE_KIB)}")
            cur.execute(f"PRAGMA mmap_size={int(IMPORT_MMAP_BYTES)}")
            cur.execute("SELECT MIN(id), MAX(id) FROM t_cust")
            low, high = cur.fetchone()
            cur.execute("SELECT MIN(id) FROM t_cont")
            contact_low = cur.fetchone()[0]
            cur.execute("SELECT MIN(id) FROM t_chg")
            change_low = cur.fetchone()[0]
            parts = dict.fromkeys(("customers", "contacts", "grams", "change log", "import rows", "commits"), 0.0)

            def timed(part, sql, params=()):
                s = time.perf_counter()
                cur.execute(sql, list(params))
                parts[part] += time.perf_counter() - s

            t0, c0 = time.perf_counter(), cpu()
            # (every row of the bench file that is written has one contact and two change-log rows, in row order)
            for i, a in enumerate(range(low, high + 1, GROUP)):
                k, o = contact_low + i * GROUP, change_low + 2 * i * GROUP
                cur.execute("BEGIN")
                timed("customers", f"INSERT INTO {table[Customer]} SELECT * FROM t_cust WHERE id BETWEEN %s AND %s",
                      (a, a + GROUP - 1))
                timed("contacts", f"INSERT INTO {table[Contact]} SELECT * FROM t_cont WHERE id BETWEEN %s AND %s",
                      (k, k + GROUP - 1))
                timed("grams", f"INSERT INTO {table[SearchGram]} SELECT * FROM t_gram WHERE (kind = 1 AND object_id "
                               "BETWEEN %s AND %s) OR (kind = 2 AND object_id BETWEEN %s AND %s) ORDER BY 1, 2, 3",
                      (a, a + GROUP - 1, k, k + GROUP - 1))
                timed("change log", f"INSERT INTO {table[ObjectChange]} SELECT * FROM t_chg WHERE id BETWEEN %s AND %s",
                      (o, o + 2 * GROUP - 1))
                timed("commits", "COMMIT")
            cur.execute("SELECT MIN(id), MAX(id) FROM t_row")
            row_low, row_high = cur.fetchone()
            for a in range(row_low, row_high + 1, GROUP):
                cur.execute("BEGIN")
                timed("import rows", f"INSERT INTO {table[ImportRow]} SELECT * FROM t_row WHERE id BETWEEN %s AND %s",
                      (a, a + GROUP - 1))
                timed("commits", "COMMIT")
            wall, used = time.perf_counter() - t0, cpu() - c0
            s, c1 = time.perf_counter(), cpu()
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            print(f"the same rows by INSERT ... SELECT: {wall:.1f} s, {used:.1f} s CPU ("
                  + ", ".join(f"{k} {v:.1f}" for k, v in parts.items())
                  + f"); the checkpoint left: {time.perf_counter() - s:.1f} s, {cpu() - c1:.1f} s CPU")
            cur.execute(f"SELECT COUNT(*) FROM {table[Customer]} WHERE id > %s", [before[Customer]])
            print(f"customers written again: {cur.fetchone()[0]}")
    finally:
        _undo_import(before)


if __name__ == "__main__":
    main()
