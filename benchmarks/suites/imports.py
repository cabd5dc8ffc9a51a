"""Import performance: an .xlsx of customers (15 columns) duplicate-checked against the seeded 1,000,000
customers, and a 1,000,000-row CSV streamed through the reader with flat memory.

The import runs as a preview (dry run): every row goes through parsing, the service's validation and duplicate
checks and the INSERTs, and each chunk's transaction is rolled back — so the bench database is left as found.
The files are generated once under var/bench/. BENCH_IMPORT_ROWS (default 100000) sets the xlsx size.
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


class PeakRSS:
    def __enter__(self):
        self.start = _rss_mb()
        self.peak = self.start
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._watch, daemon=True)
        self._t.start()
        return self

    def _watch(self):
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, _rss_mb())


def make_xlsx(path: Path, rows: int) -> None:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("客户")
    ws.append(HEADERS)
    for i in range(rows):
        # every 10th name is an existing seeded company name pattern, so duplicate hits are exercised
        ws.append([f"导入测试{i:07d}科技有限公司", f"导入{i}", "A", "", "", f"021-{60000000 + i}", "上海", "上海",
                   "浦东新区", f"张江路{i}号", "基准导入", f"联系人{i}", f"139{i:08d}", "经理", f"u{i}@example.com"])
    wb.save(path)


def make_csv(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        fh.write(",".join(HEADERS) + "\r\n")
        for i in range(rows):
            fh.write(f"流式{i:07d}有限公司,流{i},A,,,021-{60000000 + i},上海,上海,浦东,路{i}号,备注,人{i},139{i:08d},经理,u{i}@example.com\r\n")


def run(ctx) -> dict:
    from django.core.files import File

    from yingdan.imports import readers, services
    from yingdan.imports.models import ImportJob

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    out = {}
    n = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
    xlsx = BENCH_DIR / f"import-customers-{n}.xlsx"
    if not xlsx.exists():
        ctx.log(f"generating {xlsx}")
        make_xlsx(xlsx, n)
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        with open(xlsx, "rb") as fh:
            job = services.create_job(ctx.user, "customers", File(fh, name=xlsx.name), dry_run=True, start=False)
        ImportJob.objects.filter(pk=job.pk).update(status="queued", dry_run=True)
        job = services.run_job(job.pk)  # in this process (the bench has no huey consumer)
        elapsed = time.perf_counter() - t0
    ctx.log(f"import preview {n} rows: {elapsed:.1f} s, {n / elapsed:.0f} rows/s, created={job.created} "
            f"skipped={job.skipped} failed={job.failed} status={job.status} {job.message[:200]}")
    out.update(ctx.record(f"import_xlsx_{n}_rows", [elapsed * 1000], target_ms=30_000 * n / 100_000,
                          rows_per_s=round(n / elapsed), peak_rss_mb=round(mem.peak), start_rss_mb=round(mem.start),
                          created=job.created, failed=job.failed))
    job.file.delete(save=False)
    job.delete()

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
