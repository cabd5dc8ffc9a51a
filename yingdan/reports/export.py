"""CSV export of a report's table: UTF-8 with a BOM (Excel opens it as Chinese text), and every cell that a
spreadsheet would read as a formula (= + - @, tab, carriage return) neutralised with a leading apostrophe."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from yingdan.exports.rows import neutralise as neutralise_cell


def neutralise(value) -> str:
    """A cell as text that no spreadsheet evaluates (the list exports' rule). Numbers stay numbers (a negative
    amount is not a formula)."""
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    return neutralise_cell(str(value))


def table_csv(columns, rows, total=None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(str(c.label)) for c in columns])
    for row in [*rows, *([total] if total else [])]:
        writer.writerow([neutralise(row.get(c.key)) for c in columns])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")
