"""Import performance: an .xlsx of customers (15 columns, one contact per row) duplicate-checked against the
seeded 1,000,000 customers, and a 1,000,000-row CSV streamed through the reader with flat memory.

The xlsx runs as a REAL import (dry_run=False: chunks, savepoints, INSERTs, change log, grams, ImportRow
bookkeeping) inside one outer transaction that is rolled back afterwards (outside the timed part) — so the
bench database is left as found. Its company names are distinct made-up names (none a near-duplicate of
another), except every 10th row, which repeats the name of a seeded customer (a duplicate: skipped). The files
are generated once under var/bench/. BENCH_IMPORT_ROWS (default 100000) sets the xlsx size; BENCH_IMPORT_DRY=1
measures the preview instead.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

BENCH_DIR = Path(os.environ.get("YINGDAN_BENCH_DIR", "var/bench"))
HEADERS = ["客户名称", "简称", "客户级别", "行业", "客户来源", "电话", "省份", "城市", "区县", "地址", "备注",
           "联系人", "手机", "职务", "邮箱"]


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def _rss_split() -> tuple[float, float]:
    """(anonymous, file-backed) resident MB: the Python heap vs mapped files (SQLite's mmap of the database)."""
    anon = file = 0.0
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("RssAnon:"):
                    anon = int(line.split()[1]) / 1024
                elif line.startswith("RssFile:"):
                    file = int(line.split()[1]) / 1024
    except OSError:
        pass
    return anon, file


def _children(pid: int) -> list[int]:
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


def _pss_mb(pid) -> float:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _total_pss_mb() -> float:
    """This process and its children (the import's reading process), each page counted once (PSS: a page
    shared after the fork counts half in each)."""
    pids, todo = [], [os.getpid()]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += _children(pid)
    return sum(_pss_mb(pid) for pid in pids)


class PeakRSS:
    def __enter__(self):
        self.start = _rss_mb()
        self.peak = self.start
        self.split = _rss_split()  # (anon, file) at the peak, for the log
        self.total = _total_pss_mb()  # peak of this process and its reading process together
        self.samples = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._watch, daemon=True)
        self._t.start()
        return self

    def _watch(self):
        while not self._stop.wait(0.1):
            self._sample()

    def _sample(self, pss_every: int = 10):
        rss = _rss_mb()
        if rss > self.peak:
            self.peak, self.split = rss, _rss_split()
        self.samples += 1
        if self.samples % pss_every == 0:  # (PSS walks the page tables: once a second)
            self.total = max(self.total, _total_pss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self._sample(pss_every=1)


CHARS = ("华信达通宏泰丰盛恒瑞安康德润嘉禾永兴隆昌鑫源福汇金鼎晨星辰光明启航远志博雅睿智诚正和谐卓越精工"
         "凯旋腾飞翔宇天地海川山河江湖云霞松柏梅兰竹菊鹤鹿鹰燕桃李杏梨橙柚莲荷枫柳槐榆桐楠檀樟岩峰岭泉溪"
         "朗逸峻拓维新众合景裕聚鸿骏铭轩弘毅勤俭立信致远同创佳友百川千禧万象乾坤正元")
TRADES = ("科技", "贸易", "物流", "咨询", "电子", "机械", "食品", "医药", "建设", "传媒", "软件", "材料")
SUFFIXES = ("有限公司", "股份有限公司", "集团有限公司", "有限责任公司")


def make_xlsx(path: Path, rows: int, existing_names=()) -> None:
    """Distinct made-up company names (4 random characters + a trade + a legal form); every 10th row takes
    a name from `existing_names` (a duplicate of a stored customer) when given."""
    import random

    import openpyxl

    rng = random.Random(rows)
    existing = list(existing_names)
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("客户")
    ws.append(HEADERS)
    used = set()
    for i in range(rows):
        if existing and i % 10 == 9:
            name = existing[(i // 10) % len(existing)]
        else:
            while True:
                core = "".join(rng.choice(CHARS) for _ in range(4))
                if core not in used:
                    used.add(core)
                    break
            name = core + rng.choice(TRADES) + rng.choice(SUFFIXES)
        ws.append([name, name[:2] + "简称", "A", "", "", f"021-{60000000 + i}", "上海", "上海",
                   "浦东新区", f"张江路{i}号", "基准导入", f"联系人{i}", f"139{i:08d}", "经理", f"u{i}@example.com"])
    wb.save(path)


def make_csv(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        fh.write(",".join(HEADERS) + "\r\n")
        for i in range(rows):
            fh.write(f"流式{i:07d}有限公司,流{i},A,,,021-{60000000 + i},上海,上海,浦东,路{i}号,备注,人{i},139{i:08d},经理,u{i}@example.com\r\n")


def _seeded_names(k: int) -> list[str]:
    """k names of stored customers, spread over the table (the same ones on both databases)."""
    from yingdan.customers.models import Customer

    last = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    step = max(last // max(k, 1), 1)
    ids = list(range(1, last + 1, step))[:k]
    names = []
    for i in range(0, len(ids), 900):
        names += Customer.objects.filter(pk__in=ids[i : i + 900]).order_by("pk").values_list("name", flat=True)
    return names


def _high_water() -> dict:
    from yingdan.core.models import ObjectChange
    from yingdan.customers.models import Contact, Customer
    from yingdan.imports.models import ImportJob

    return {m: m._base_manager.order_by("-pk").values_list("pk", flat=True).first() or 0
            for m in (Customer, Contact, ObjectChange, ImportJob)}


def _undo_import(before: dict) -> None:
    """Delete what the timed import wrote (rows above the high-water marks, their grams, the job): plain
    SQL, since the import's own undo goes record by record."""
    from django.db import connection, transaction

    from yingdan.core.models import ObjectChange
    from yingdan.customers.models import Contact, Customer
    from yingdan.imports.models import ImportJob, ImportRow
    from yingdan.search.grams import gram_rows
    from yingdan.search.models import SearchGram

    q = connection.ops.quote_name
    with transaction.atomic():
        for job in ImportJob.objects.filter(pk__gt=before[ImportJob]):
            if job.file:
                job.file.delete(save=False)
        ImportRow.objects.filter(job_id__gt=before[ImportJob]).delete()
        ImportJob.objects.filter(pk__gt=before[ImportJob]).delete()
        grams = gram_rows(1, Customer._base_manager.filter(pk__gt=before[Customer]).values_list("pk", "search_name"))
        grams += gram_rows(2, Contact._base_manager.filter(pk__gt=before[Contact]).values_list("pk", "search_name"))
        table = q(SearchGram._meta.db_table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for i in range(0, len(grams), 50_000):
                    part = grams[i : i + 50_000]
                    cursor.execute(
                        f"DELETE FROM {table} WHERE (kind, gram, object_id) IN "
                        "(SELECT * FROM unnest(%s::smallint[], %s::varchar[], %s::bigint[]))",
                        [[g[0] for g in part], [g[1] for g in part], [g[2] for g in part]])
            else:
                cursor.executemany(f"DELETE FROM {table} WHERE kind = %s AND gram = %s AND object_id = %s", grams)
            for model in (Contact, Customer, ObjectChange):
                cursor.execute(f"DELETE FROM {q(model._meta.db_table)} WHERE id > %s", [before[model]])
            # SQLite: the id sequences back where they were — else every run's records get ids further up, and
            # the import's id-indexed arrays (bulk.Names) grow by the gap, ~0.6 MB of peak memory a run. (Not on
            # PostgreSQL: the deleted rows stay in its indexes as dead entries until a vacuum, and the next run's
            # rows, given the same ids and so the same keys, are checked against them — 46 s became 56 s.)
            if connection.vendor == "sqlite":
                for model in (Contact, Customer, ObjectChange, ImportJob, ImportRow):
                    table = model._meta.db_table
                    cursor.execute(f"SELECT MAX(id) FROM {q(table)}")
                    top = max(cursor.fetchone()[0] or 0, before.get(model, 0))
                    cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [top, table])


def import_file(user, path: Path, dry: bool = False):
    """Import a customers file as `user` the way a job runs, in this process (the bench has no huey consumer);
    returns the finished job."""
    from django.core.files import File

    from yingdan.imports import services
    from yingdan.imports.models import ImportJob

    with open(path, "rb") as fh:
        job = services.create_job(user, "customers", File(fh, name=path.name), dry_run=dry, start=False)
    ImportJob.objects.filter(pk=job.pk).update(status="queued", dry_run=dry)
    return services.run_job(job.pk)


def run(ctx) -> dict:
    from yingdan.imports import readers

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    out = {}
    n = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
    xlsx = BENCH_DIR / f"import-customers-v2-{n}.xlsx"
    if not xlsx.exists():
        ctx.log(f"generating {xlsx}")
        make_xlsx(xlsx, n, _seeded_names(n // 10))
    dry = os.environ.get("BENCH_IMPORT_DRY") == "1"
    kind = "preview" if dry else "import"
    if os.environ.get("BENCH_IMPORT_BULK") == "0":  # the per-row path, for before/after comparisons
        from yingdan.imports import bulk

        bulk.BULK_MIN_ROWS = 10**9
        kind += " (per row)"
    before = _high_water()
    try:
        with PeakRSS() as mem:
            t0 = time.perf_counter()
            job = import_file(ctx.user, xlsx, dry)
            elapsed = time.perf_counter() - t0
        ctx.log(f"{kind} {n} rows: {elapsed:.1f} s, {n / elapsed:.0f} rows/s, created={job.created} "
                f"updated={job.updated} skipped={job.skipped} failed={job.failed} duplicates={job.duplicates} "
                f"status={job.status} {job.message[:200]}; RSS {mem.start:.0f} → peak {mem.peak:.0f} MB "
                f"(at the peak: anon {mem.split[0]:.0f} MB, file-backed {mem.split[1]:.0f} MB); with the reading process "
                f"(PSS) {mem.total:.0f} MB")
        out.update(ctx.record(f"import_xlsx_{n}_rows", [elapsed * 1000], target_ms=30_000 * n / 100_000,
                              rows_per_s=round(n / elapsed), peak_rss_mb=round(mem.peak), start_rss_mb=round(mem.start),
                              peak_pss_with_reader_mb=round(mem.total),
                              created=job.created, skipped=job.skipped, failed=job.failed, real_import=not dry))
    finally:
        t0 = time.perf_counter()
        _undo_import(before)  # committed chunk by chunk like a real import: removed again, untimed
        ctx.log(f"removed the imported rows again in {time.perf_counter() - t0:.1f} s")

    rows = int(os.environ.get("BENCH_IMPORT_CSV_ROWS", "1000000"))
    path = BENCH_DIR / f"import-stream-{rows}.csv"
    if not path.exists():
        ctx.log(f"generating {path}")
        make_csv(path, rows)
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        count = sum(1 for _ in readers.iter_rows(str(path), "csv"))
        elapsed = time.perf_counter() - t0
    ctx.log(f"csv stream {count} rows: {elapsed:.1f} s, RSS {mem.start:.0f} → peak {mem.peak:.0f} MB")
    out.update(ctx.record(f"csv_stream_{rows}_rows", [elapsed * 1000], target_ms=60_000,
                          rss_growth_mb=round(mem.peak - mem.start), peak_rss_mb=round(mem.peak)))
    return out
