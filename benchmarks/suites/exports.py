"""Exports at 1,000,000 customers: 100,000 rows of the customer list (default columns) to .xlsx and to .csv, as
the list page would export them (scope, filters, columns). Target: under 20 s each (the issue's figure)."""

from __future__ import annotations

import resource
import tempfile
import time

from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

ROWS = 100_000
TARGET_MS = 20_000


def run(ctx) -> dict:
    from yingdan.exports import services
    from yingdan.org.models import User

    user = User.objects.filter(is_active=True, roles__code="director").order_by("id").first() or ctx.user
    results = {}
    for fmt, writer in (("xlsx", services.write_xlsx), ("csv", services.write_csv)):
        export = services.Export(user, reverse("customers:customer_list"), QueryDict())
        export.queryset = export.queryset[:ROWS]
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with tempfile.TemporaryFile() as fh, CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            rows = writer(export, fh)
            elapsed = (time.perf_counter() - started) * 1000
            size = fh.tell()
        # growth of the process's peak RSS during the export (KiB on Linux): flat memory keeps this small
        peak_growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
        ctx.log(f"export {fmt}: {rows} rows, {size / 1e6:.1f} MB in {elapsed / 1000:.1f} s, {len(queries)} queries, "
                f"peak RSS +{peak_growth_mb:.0f} MB")
        results |= ctx.record(f"export_{fmt}_100k", [elapsed], TARGET_MS, rows=rows, mb=round(size / 1e6, 1),
                              queries=len(queries), peak_rss_growth_mb=round(peak_growth_mb, 1))
    return results
