"""Duplicate checks (查重). Contract used by other apps (the duplicates helper fills it in):

find_matches(object_type, data, *, exclude_pk=None, limit=5) -> list[Match]
    object_type: "customer" | "contact" | "lead"; data: field values as typed (name, phone, mobile, email,
    credit_code, company, ...). Each Match has .obj (the matched record), .object_type, .pk, .fields (the
    field names that matched), .score (0-100) and .action ("warn" | "block") for the entry point.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Match:
    obj: object
    object_type: str
    pk: int
    fields: list = field(default_factory=list)
    score: float = 100.0
    action: str = "warn"


def find_matches(object_type: str, data: dict, *, exclude_pk=None, limit: int = 5, entry_point: str = "form") -> list[Match]:
    return []
