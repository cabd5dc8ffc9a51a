"""Which fields a duplicate rule may compare, per (checked object, compared object) pair.

Each semantic key maps to the attribute read on the record being saved (`source`) and the indexed column
searched on the existing records (`column`). Only indexed columns are offered, so every rule is answered
from an index at a million rows; fuzzy matching is offered for company names only (candidates from the
search app's bigram table, scored with rapidfuzz).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# (object_type, target_type) -> {key: (source attribute on the checked record, column on the target)}
FIELD_MAP: dict[tuple[str, str], dict[str, tuple[str, str]]] = {
    ("customer", "customer"): {
        "company": ("name", "dedupe_name"), "phone": ("phone", "phone"), "credit_code": ("credit_code", "credit_code"),
    },
    ("contact", "contact"): {
        "mobile": ("mobile", "mobile"), "email": ("email", "email"), "person": ("name", "search_name"),
        "customer": ("customer_id", "customer_id"),
    },
    ("lead", "lead"): {
        "company": ("company", "dedupe_name"), "mobile": ("mobile", "mobile"), "phone": ("phone", "phone"),
        "email": ("email", "email"),
    },
    ("lead", "customer"): {
        "company": ("company", "dedupe_name"), "phone": ("phone", "phone"), "mobile": ("mobile", "phone"),
    },
    ("lead", "contact"): {"mobile": ("mobile", "mobile"), "email": ("email", "email")},
    ("customer", "lead"): {"company": ("name", "dedupe_name"), "phone": ("phone", "phone")},
}
FUZZY_KEYS = {"company"}
DEFAULT_THRESHOLD = 80


def allowed_pairs() -> list[tuple[str, str]]:
    return list(FIELD_MAP)


def validate_conditions(object_type: str, target_type: str, conditions) -> list[dict]:
    """Normalised conditions, or a ValidationError naming the problem."""
    fields = FIELD_MAP.get((object_type, target_type))
    if fields is None:
        raise ValidationError({"target_type": [_("This object cannot be compared with that one.")]})
    if not isinstance(conditions, list) or not conditions:
        raise ValidationError({"conditions": [_("Choose at least one field.")]})
    out, seen = [], set()
    for c in conditions:
        if not isinstance(c, dict) or c.get("field") not in fields:
            raise ValidationError({"conditions": [_("“%(f)s” cannot be compared here.") % {"f": c.get("field") if isinstance(c, dict) else c}]})
        key = c["field"]
        if key in seen:
            raise ValidationError({"conditions": [_("Each field may appear once in a rule.")]})
        seen.add(key)
        match = c.get("match") or "exact"
        if match not in ("exact", "fuzzy"):
            raise ValidationError({"conditions": [_("Match must be exact or fuzzy.")]})
        if match == "fuzzy" and key not in FUZZY_KEYS:
            raise ValidationError({"conditions": [_("Only company names can be matched fuzzily.")]})
        item = {"field": key, "match": match}
        if match == "fuzzy":
            try:
                threshold = int(c.get("threshold") or DEFAULT_THRESHOLD)
            except (TypeError, ValueError):
                raise ValidationError({"conditions": [_("The threshold must be a number from 50 to 100.")]}) from None
            if not 50 <= threshold <= 100:
                raise ValidationError({"conditions": [_("The threshold must be a number from 50 to 100.")]})
            item["threshold"] = threshold
        out.append(item)
    if [c["field"] for c in out] == ["customer"]:
        raise ValidationError({"conditions": [_("“Same customer” needs another field with it.")]})
    return out
