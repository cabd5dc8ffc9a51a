"""Grams of a normalised name, and keeping the SearchGram table in step with the objects."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connections, transaction

from .models import SearchGram

# Grams are taken from the first MAX_INDEXED characters of the normalised name (names are short; this caps
# the cost of a pathological 200-character name).
MAX_INDEXED = 64
# The upper bound of a prefix range: every gram starting with c sorts between c and c + TOP.
TOP = "\U0010ffff"


def name_grams(search_name: str) -> set[str]:
    """Character bigrams of the name plus its last character alone (so a 1-character prefix range over grams
    finds every character, including the last one)."""
    s = (search_name or "")[:MAX_INDEXED]
    if not s:
        return set()
    grams = {s[i : i + 2] for i in range(len(s) - 1)}
    grams.add(s[-1])
    return grams


def query_grams(qn: str) -> list[str]:
    """The distinct bigrams of a normalised query of 2+ characters, in query order."""
    seen: list[str] = []
    for i in range(len(qn) - 1):
        g = qn[i : i + 2]
        if g not in seen:
            seen.append(g)
    return seen


def index_object(kind: int, object_id: int, search_name: str, previous_name: str | None = None) -> None:
    """Replace the grams of one object (called on save).

    With `previous_name` (the name before this save) the old grams are computed, not read: every statement
    is then a primary-key seek. Without it, the current grams are read by (kind, object_id) — a scan of the
    kind's range, which is slow at millions of rows, so the signal handlers always pass it."""
    wanted = name_grams(search_name)
    with transaction.atomic():
        if previous_name is not None:
            current = name_grams(previous_name)
        else:
            current = set(SearchGram.objects.filter(kind=kind, object_id=object_id).values_list("gram", flat=True))
        if current == wanted:
            return
        stale = current - wanted
        if stale:
            SearchGram.objects.filter(kind=kind, gram__in=sorted(stale), object_id=object_id).delete()
        SearchGram.objects.bulk_create(
            [SearchGram(kind=kind, gram=g, object_id=object_id) for g in sorted(wanted - current)], ignore_conflicts=True
        )


def unindex_object(kind: int, object_id: int, search_name: str | None = None) -> None:
    if search_name is not None:
        SearchGram.objects.filter(kind=kind, gram__in=sorted(name_grams(search_name)), object_id=object_id).delete()
    else:
        SearchGram.objects.filter(kind=kind, object_id=object_id).delete()


def gram_rows(kind: int, items: Iterable[tuple[int, str]]) -> list[tuple[int, str, int]]:
    """(kind, gram, object_id) rows for many (object_id, search_name) pairs — the bulk path."""
    rows = []
    for object_id, search_name in items:
        for g in name_grams(search_name):
            rows.append((kind, g, object_id))
    return rows


def insert_gram_rows(rows: list[tuple[int, str, int]], using=None) -> None:
    """Insert rows in bulk (the caller holds the transaction). Sorted first: B-tree appends stay local."""
    if not rows:
        return
    rows.sort()
    conn = connections[using or "default"]
    table = SearchGram._meta.db_table
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            with cursor.cursor.copy(f'COPY "{table}" ("kind", "gram", "object_id") FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f'INSERT OR IGNORE INTO "{table}" ("kind", "gram", "object_id") VALUES (%s, %s, %s)', rows
            )
