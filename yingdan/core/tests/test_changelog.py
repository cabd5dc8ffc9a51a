"""What a creation records in the change log."""

import datetime
from decimal import Decimal

from yingdan.core import changelog


def test_created_changes_leave_out_exactly_the_empty_values():
    """Every value but None, "" and an empty list or dict is recorded (0, False, "0", Decimal 0 are values)."""

    class Text(str):
        pass

    values = [None, "", [], {}, Text(""), 0, 0.0, False, Decimal("0"), "0", " ", "a", [0], {"a": None}, set(),
              1, True, Decimal("1.5"), datetime.date(2026, 1, 1).isoformat(), Text("x")]
    after = {f"f{i}": v for i, v in enumerate(values)}
    expected = {k: [None, v] for k, v in after.items() if v not in (None, "", [], {})}
    got = changelog.created_changes(after)
    assert got == expected and list(got) == list(expected)
    assert set(after) - set(got) == {"f0", "f1", "f2", "f3", "f4"}
