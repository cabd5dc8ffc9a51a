"""Duplicate checks (查重 / 撞单): matching, save checks, transfer requests and merges.

find_matches(object_type, data, *, exclude_pk=None, limit=5, entry_point="form") -> list[Match]
    object_type: "customer" | "contact" | "lead"; data: field values as typed (name, phone, mobile, email,
    credit_code, company, customer, ...). Each Match has .obj (the matched record), .object_type, .pk,
    .fields (the semantic keys that matched: company, phone, mobile, email, credit_code, person, customer),
    .score (0-100) and .action ("warn" | "block") for the entry point.

Matching ignores the checker's data scope (duplicates are company-wide); what a checker may be shown of a
hit is decided by `public_match()`: the matched fields, the owner's name and department, and the pool
status — never the other record's data (its name and link only when the checker may view it anyway).

Every exact criterion is an indexed column. A fuzzy company name takes its candidates from the exact key
(`dedupe_name`) and from the search app's bigram table (the rarest bigrams of the key, each read up to a
bound), ranks them by shared bigrams, and scores only the best few hundred with rapidfuzz.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rapidfuzz import fuzz

from yingdan.core import changelog
from yingdan.core.choices import Action, ChangeAction
from yingdan.core.permissions import get_permissions
from yingdan.core.services import changed_fields, lock_visible, require
from yingdan.core.text import company_key, normalize
from yingdan.core.validators import normalize_credit_code, normalize_phone, validate_credit_code
from yingdan.customers import services as customer_services
from yingdan.customers.models import Contact, Customer
from yingdan.leads import services as lead_services
from yingdan.leads.models import Lead
from yingdan.notifications.services import notify
from yingdan.org.models import User
from yingdan.search.grams import TOP, query_grams
from yingdan.search.models import SearchGram

from .fields import DEFAULT_THRESHOLD, FIELD_MAP, FUZZY_KEYS
from .models import (
    MODULE_OF,
    DuplicateRule,
    MatchField,
    MergeRecord,
    ObjectType,
    RuleAction,
    TransferRequest,
    TransferStatus,
)

MODELS = {"customer": Customer, "contact": Contact, "lead": Lead}
MODULES = {"customer": "customers", "contact": "contacts", "lead": "leads"}
GRAM_KIND = {"customer": 1}  # search-app gram kinds indexing the *company* name (lead grams index the person)
GRAM_BOUND = 600  # a bigram with more rows than this is too common to drive candidates
CANDIDATE_BUDGET = 1800  # gram rows read per check, at most
SCORED = 60  # gram candidates scored with rapidfuzz, at most (those sharing the most bigrams)
PREFIX_SCAN = 300  # keys sharing the first two characters, for objects without a bigram index
EXACT_FETCH = 50


@dataclass
class Match:
    obj: object
    object_type: str
    pk: int
    fields: list = field(default_factory=list)
    score: float = 100.0
    action: str = "warn"


# -- rules ------------------------------------------------------------------------------------------
def active_rules(object_type: str) -> list[DuplicateRule]:
    """Active rules of an object (a handful of rows, read once per check)."""
    return list(DuplicateRule.objects.filter(object_type=object_type, is_active=True).order_by("order", "id"))


@transaction.atomic
def save_rule(actor, rule: DuplicateRule) -> DuplicateRule:
    require(actor, "settings", Action.EDIT)
    rule.full_clean()
    rule.save()
    return rule


@transaction.atomic
def delete_rule(actor, rule: DuplicateRule) -> None:
    require(actor, "settings", Action.EDIT)
    rule.delete()


# -- normalisation ----------------------------------------------------------------------------------
def _phone(value) -> str:
    try:
        return normalize_phone(str(value or ""))
    except ValidationError:
        return ""


def _credit_code(value) -> str:
    code = normalize_credit_code(str(value or ""))
    if not code:
        return ""
    try:
        validate_credit_code(code)
    except ValidationError:
        return ""
    return code


NORMALISERS = {
    "company": lambda v: company_key(str(v or ""))[:255],
    "person": lambda v: normalize(str(v or ""))[:255],
    "phone": _phone,
    "mobile": _phone,
    "email": lambda v: str(v or "").strip().lower(),
    "credit_code": _credit_code,
    "customer": lambda v: getattr(v, "pk", v) or "",
}
DATA_ALIASES = {"customer_id": "customer", "company": "name"}


def _source_value(data: dict, source: str):
    if source in data:
        return data[source]
    alias = DATA_ALIASES.get(source)
    if alias and alias in data:
        return data[alias]
    return None


def normalized_values(object_type: str, data: dict, target_type: str) -> dict[str, str]:
    out = {}
    for key, (source, _column) in FIELD_MAP.get((object_type, target_type), {}).items():
        value = NORMALISERS[key](_source_value(data, source))
        if value not in ("", None):
            out[key] = value
    return out


# -- matching ---------------------------------------------------------------------------------------
def _min_shared_grams(n: int, threshold: int) -> int:
    """How many of a key's n-1 bigrams any name scoring >= threshold must still contain: rapidfuzz's ratio is
    1 - d / (n + m) for an indel distance d, so d <= 2n(1 - t) / t, and each indel destroys at most 2 bigrams."""
    t = threshold / 100
    d_max = int(2 * n * (1 - t) / t)
    return max(1, (n - 1) - 2 * d_max)


def chosen_grams(sizes, key_length: int, threshold: int) -> list[str]:
    """The bigrams a fuzzy check reads, from (rows, gram) pairs: a true match shares at least `s` of the key's
    bigrams, so it contains one of the (n-1) - s + 1 rarest (a bigram no record has cannot be shared and is left
    out); each is read only while it fits under GRAM_BOUND and the CANDIDATE_BUDGET of rows. The import's batch
    check (imports/bulk.py) chooses with this too, so both look at the same bigrams."""
    sized = sorted(t for t in sizes if t[0] > 0)
    needed = sized[: max(len(sized) - _min_shared_grams(key_length, threshold) + 1, 1)]
    chosen, budget = [], CANDIDATE_BUDGET
    for n, g in needed:
        if n <= min(GRAM_BOUND, budget):
            chosen.append(g)
            budget -= n
    return chosen


def _gram_sizes(kind: int, grams: list[str]) -> list[tuple[int, str]]:
    """(rows, gram) for each gram, counted up to GRAM_BOUND + 1 — one statement, each count an index range."""
    if not grams:
        return []
    table = connection.ops.quote_name(SearchGram._meta.db_table)
    part = f"SELECT %s, (SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE kind = %s AND gram = %s LIMIT {GRAM_BOUND + 1}) t)"
    params = []
    for g in grams:
        params += [g, kind, g]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join([part] * len(grams)), params)
        return [(n, g) for g, n in cursor.fetchall()]


def _gram_objects(kind: int, grams: list[str]) -> list[list[int]]:
    """The object ids under each of the given grams, each list ascending."""
    if not grams:
        return []
    table = connection.ops.quote_name(SearchGram._meta.db_table)
    marks = ", ".join(["%s"] * len(grams))
    sql = f"SELECT gram, object_id FROM {table} WHERE kind = %s AND gram IN ({marks})"
    by_gram: dict[str, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [kind, *grams])
        for g, pk in cursor.fetchall():
            by_gram.setdefault(g, []).append(pk)
    return [sorted(ids) for ids in by_gram.values()]


def top_shared(lists, limit: int = SCORED) -> list[int]:
    """The ids that share the most of the chosen bigrams, at most `limit` of them; among ids sharing as many,
    the oldest (lowest id: the longest-standing record, the one a duplicate is usually of) first. `lists` holds
    the ids under each bigram, each ascending without repeats.

    A defined order (not the order the database happens to list gram rows in), so the import's batch replay
    (imports/bulk.py) ranks exactly as the check does. Most candidates share one bigram: those sharing more are
    found by set intersections, the rest are the lowest ids, which lie at the lists' heads."""
    if len(lists) == 1:
        return list(lists[0][:limit])
    if sum(map(len, lists)) <= limit:
        return list(set().union(*lists))
    sets = [set(lst) for lst in lists]  # (each list made a set once: set & set does not box ids again)
    multi: set = set()
    for i in range(len(sets) - 1):
        first = sets[i]
        for j in range(i + 1, len(sets)):
            multi |= first & sets[j]
    ranked = sorted(multi)
    if multi:
        shared = dict.fromkeys(ranked, 0)
        for ids in sets:
            for pk in multi & ids:
                shared[pk] += 1
        ranked.sort(key=shared.__getitem__, reverse=True)  # stable: by id within a count
        if len(ranked) >= limit:
            return ranked[:limit]
    need = limit - len(ranked)
    head: set = set()
    for lst in lists:
        head.update(lst[: need + len(ranked)])
    return ranked + sorted(head - multi)[:need]


def _fuzzy_candidates(target_type: str, key: str, threshold: int, enough: int = 0) -> dict[int, float]:
    """{id: score} of target records whose company key scores at least `threshold` against `key`.

    Candidates, all bounded and index-backed:
    - the exact key (`dedupe_name`);
    - the bigram table: every true match contains at least `s` of the key's bigrams, so it contains one of
      the (n-1) - s + 1 rarest ones; those are read (each up to GRAM_BOUND rows) and candidates are ranked by
      how many of them they share;
      (a bigram too common to read is skipped: a typo in the distinctive part of a name that leaves only
      generic bigrams such as 云计/计算 is not found — the price of a bounded check at a million rows);
    - for objects without a bigram index on the company name (leads), the keys sharing the first two characters.
    Each candidate is scored with rapidfuzz's ratio (an indel similarity, 0-100)."""
    model = MODELS[target_type]
    found: dict[int, float] = {}
    for pk in model._base_manager.filter(dedupe_name=key).order_by().values_list("pk", flat=True)[:EXACT_FETCH]:
        found[pk] = 100.0
    if threshold >= 100 or len(key) < 2 or (enough and len(found) >= enough):
        return found
    candidates: list[tuple[int, str]] = []
    kind = GRAM_KIND.get(target_type)
    if kind is not None:
        # A bigram no record has cannot be shared: the pigeonhole runs over the others.
        chosen = chosen_grams(_gram_sizes(kind, query_grams(key)), len(key), threshold)
        ids = [pk for pk in top_shared(_gram_objects(kind, chosen)) if pk not in found]
        if ids:
            candidates += model._base_manager.filter(pk__in=ids).values_list("pk", "dedupe_name")
    else:
        # No bigram index on this object's company name (leads): keys sharing the first two characters.
        candidates += (
            model._base_manager.filter(dedupe_name__gte=key[:2], dedupe_name__lt=key[:2] + TOP)
            .order_by().values_list("pk", "dedupe_name")[:PREFIX_SCAN]
        )
    for pk, other in candidates:
        if pk in found or not other:
            continue
        score = fuzz.ratio(key, other, score_cutoff=threshold)
        if score:
            found[pk] = score
    return found


def _rule_hits(rule: DuplicateRule, object_type: str, values: dict, exclude_pk, limit: int = 0) -> dict[int, tuple[list, float]]:
    """{target id: (matched keys, score)} for one rule; empty when a field of the rule has no value."""
    mapping = FIELD_MAP.get((object_type, rule.target_type))
    if not mapping:
        return {}
    conditions = rule.conditions or []
    if not conditions or any(c.get("field") not in values for c in conditions):
        return {}
    model = MODELS[rule.target_type]
    qs = model._base_manager.order_by()
    fuzzy = None
    for c in conditions:
        column = mapping[c["field"]][1]
        if c.get("match") == "fuzzy" and c["field"] in FUZZY_KEYS:
            fuzzy = c
        else:
            qs = qs.filter(**{column: values[c["field"]]})
    if exclude_pk and rule.target_type == object_type:
        qs = qs.exclude(pk=exclude_pk)
    keys = [c["field"] for c in conditions]
    if fuzzy is not None:
        # Alone, a fuzzy rule stops at exact-key hits: they outrank any near miss, and the check's answer
        # (warn/block, who holds it) is the same; near misses are looked for when no record has the same key.
        enough = 1 if len(conditions) == 1 else 0
        scores = _fuzzy_candidates(rule.target_type, values[fuzzy["field"]], int(fuzzy.get("threshold", DEFAULT_THRESHOLD)), enough)
        if exclude_pk and rule.target_type == object_type:
            scores.pop(exclude_pk, None)
        if not scores:
            return {}
        if len(conditions) > 1:
            allowed = set(qs.filter(pk__in=list(scores)).values_list("pk", flat=True))
            scores = {pk: s for pk, s in scores.items() if pk in allowed}
        return {pk: (keys, s) for pk, s in scores.items()}
    return {pk: (keys, 100.0) for pk in qs.values_list("pk", flat=True)[:EXACT_FETCH]}


RELATED = {
    "customer": ("owner", "department", "pool"),
    "lead": ("owner", "department", "pool"),
    "contact": ("customer__owner", "customer__department", "customer__pool"),
}
_HOLDER_COLUMNS = ("owner_id", "department_id", "pool_id", "owner__id", "owner__name", "owner__username",
                   "owner__is_active", "department__id", "department__name", "pool__id", "pool__name")
# Only what a hit shows (the record's name for its own scope, owner, department, pool): a narrow row.
ONLY = {
    "customer": ("id", "name", *_HOLDER_COLUMNS),
    "lead": ("id", "name", "company", *_HOLDER_COLUMNS),
    "contact": ("id", "name", "customer_id", "customer__id", "customer__name", *(f"customer__{c}" for c in _HOLDER_COLUMNS)),
}


def find_matches(object_type: str, data: dict, *, exclude_pk=None, limit: int = 5, entry_point: str = "form",
                 rules=None) -> list[Match]:
    """Existing records that the active rules of `object_type` consider duplicates of `data`, strongest
    first (block before warn, then score, then newest)."""
    if object_type not in MODELS:
        raise ValueError(f"unknown object type {object_type!r}")
    rules = active_rules(object_type) if rules is None else rules
    merged: dict[tuple[str, int], Match] = {}
    values_by_target: dict[str, dict] = {}
    for rule in rules:
        values = values_by_target.get(rule.target_type)
        if values is None:
            values = values_by_target[rule.target_type] = normalized_values(object_type, data, rule.target_type)
        action = rule.action_for(entry_point)
        for pk, (keys, score) in _rule_hits(rule, object_type, values, exclude_pk, limit).items():
            m = merged.get((rule.target_type, pk))
            if m is None:
                merged[(rule.target_type, pk)] = Match(None, rule.target_type, pk, list(keys), score, action)
                continue
            m.fields += [k for k in keys if k not in m.fields]
            m.score = max(m.score, score)
            if action == RuleAction.BLOCK:
                m.action = RuleAction.BLOCK
    ordered = sorted(merged.values(), key=lambda m: (m.action != RuleAction.BLOCK, -m.score, -m.pk))[:limit]
    by_type: dict[str, list[int]] = {}
    for m in ordered:
        by_type.setdefault(m.object_type, []).append(m.pk)
    objects = {}
    for t, ids in by_type.items():
        for obj in MODELS[t]._base_manager.select_related(*RELATED[t]).only(*ONLY[t]).filter(pk__in=ids):
            objects[(t, obj.pk)] = obj
    out = []
    for m in ordered:
        m.obj = objects.get((m.object_type, m.pk))
        if m.obj is not None:
            out.append(m)
    return out


def check_data(user, object_type: str, data: dict, *, exclude_pk=None, limit: int = 5, entry_point: str = "form") -> list[dict]:
    """The look-up tool (live check, API): matches as the public dicts a checker may see."""
    module = MODULES.get(object_type)
    if module is None:
        raise ValidationError({"object": [_("Unknown object.")]})
    perms = get_permissions(user)
    if not (perms.has(module, Action.VIEW) or perms.has(module, Action.CREATE)):
        raise PermissionDenied(_("You do not have permission to do this."))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        matches = find_matches(object_type, data, exclude_pk=exclude_pk, limit=limit, entry_point=entry_point)
    return public_matches(user, matches)


def _holder(obj):
    return obj.customer if isinstance(obj, Contact) else obj


def public_matches(user, matches: list[Match]) -> list[dict]:
    """What a checker may see of each hit: matched fields, owner name, owner's department, pool status;
    the record's name and link only when it is inside the checker's own scope."""
    visible: dict[str, set] = {}
    for t in {m.object_type for m in matches}:
        ids = [m.pk for m in matches if m.object_type == t]
        visible[t] = set(MODELS[t].objects.visible_to(user, Action.VIEW).filter(pk__in=ids).values_list("pk", flat=True))
    labels = dict(MatchField.choices)
    type_labels = dict(ObjectType.choices)
    out = []
    for m in matches:
        holder = _holder(m.obj)
        owner = holder.owner if holder is not None else None
        pool = getattr(holder, "pool", None)
        is_visible = m.pk in visible.get(m.object_type, ())
        if pool is not None:
            status = "pool"
        elif owner is not None:
            status = "held"
        else:
            status = "unowned"
        transferable = (
            status == "held" and owner is not None and owner.pk != getattr(user, "pk", None)
            and m.object_type in (ObjectType.CUSTOMER, ObjectType.LEAD)
        )
        if m.object_type == ObjectType.CONTACT and status == "held" and owner is not None and owner.pk != user.pk:
            transferable = True  # a contact's transfer is its customer's
        out.append({
            "id": m.pk,
            "object": m.object_type,
            "object_label": str(type_labels.get(m.object_type, m.object_type)),
            "fields": list(m.fields),
            "field_labels": [str(labels.get(k, k)) for k in m.fields],
            "score": round(m.score, 1),
            "action": m.action,
            "owner": owner.display_name if owner is not None and hasattr(owner, "display_name") else (str(owner) if owner else None),
            "owner_id": owner.pk if owner is not None else None,
            "department": str(holder.department) if holder is not None and holder.department_id else None,
            "pool": str(pool) if pool is not None else None,
            "status": status,
            "is_mine": owner is not None and owner.pk == getattr(user, "pk", None),
            "visible": is_visible,
            "name": str(m.obj) if is_visible else None,
            "url": m.obj.get_absolute_url() if is_visible else None,
            "transfer_object": "customer" if m.object_type == ObjectType.CONTACT else m.object_type,
            "transfer_id": holder.pk if m.object_type == ObjectType.CONTACT else m.pk,
            "can_request_transfer": transferable,
        })
    return out


# -- save checks ------------------------------------------------------------------------------------
class DuplicateError(ValidationError):
    """A ValidationError that carries the hits (`duplicate_hits`) and whether it may be confirmed
    (`duplicate_warning`). Its message dict key is "duplicates" (blocked) or "duplicate_warning"."""

    duplicate_hits: list = []
    duplicate_warning: bool = False


def _describe(hit: dict) -> str:
    params = {
        "object": hit["object_label"], "fields": "、".join(hit["field_labels"]),
        "owner": hit["owner"] or "—", "department": hit["department"] or "—",
    }
    if hit["status"] == "pool":
        return _("A %(object)s with the same %(fields)s is in the public pool “%(pool)s”.") % {**params, "pool": hit["pool"]}
    if hit["status"] == "unowned":
        return _("A %(object)s with the same %(fields)s already exists (no owner).") % params
    return _("A %(object)s with the same %(fields)s is held by %(owner)s (%(department)s).") % params


def record_data(obj) -> dict:
    data = {}
    for f in obj._meta.concrete_fields:
        data[f.attname] = getattr(obj, f.attname)
        data[f.name] = getattr(obj, f.attname)
    return data


def _watched_sources(object_type: str, rules) -> set[str]:
    names = set()
    for rule in rules:
        mapping = FIELD_MAP.get((object_type, rule.target_type), {})
        for c in rule.conditions or []:
            if c.get("field") in mapping:
                source = mapping[c["field"]][0]
                names.add(source)
                names.add(source.removesuffix("_id"))
    return names


def make_save_check(object_type: str):
    def check(actor, obj, *, entry_point: str, confirmed: bool) -> None:
        rules = active_rules(object_type)
        if not rules:
            return
        if obj.pk is not None and not (changed_fields(obj) & _watched_sources(object_type, rules)):
            return  # an edit that leaves every checked field alone is not re-checked
        matches = find_matches(object_type, record_data(obj), exclude_pk=obj.pk, limit=5, entry_point=entry_point, rules=rules)
        if not matches:
            return
        hits = public_matches(actor, matches)
        blocked = [h for h in hits if h["action"] == RuleAction.BLOCK]
        if blocked:
            error = DuplicateError({"duplicates": [ValidationError(_describe(h), code="duplicate") for h in blocked]})
            error.duplicate_hits, error.duplicate_warning = hits, False
            raise error
        if confirmed:
            return
        error = DuplicateError({"duplicate_warning": [ValidationError(_describe(h), code="duplicate_warning") for h in hits]})
        error.duplicate_hits, error.duplicate_warning = hits, True
        raise error

    check.__name__ = f"duplicate_check_{object_type}"
    return check


def object_redirect(object_type: str):
    def resolve(pk):
        return MergeRecord.objects.filter(object_type=object_type, old_id=pk).values_list("survivor_id", flat=True).first()

    return resolve


# -- transfer requests --------------------------------------------------------------------------------
def transfer_module(object_type: str) -> str:
    return MODULE_OF[object_type]


def approvers_for(request: TransferRequest) -> list:
    """The owner's department manager (and managers of parent departments when it has none); else users
    holding the transfer permission over that department; else administrators."""
    module = transfer_module(request.object_type)
    dept = request.department
    if dept is not None:
        chain = [dept, *reversed(list(dept.ancestors()))] if hasattr(dept, "ancestors") else [dept]
        for d in chain:
            manager = d.manager if d.manager_id else None
            if manager is not None and manager.is_active and manager.pk != request.requester_id:
                return [manager]
    users = list(User.objects.filter(is_active=True).exclude(pk=request.requester_id).order_by("id")[:500])
    deciders = [u for u in users if TransferRequest.objects.decidable_by(u).filter(pk=request.pk).exists()
                and get_permissions(u).has(module, Action.TRANSFER)]
    non_admin = [u for u in deciders if not get_permissions(u).is_admin]
    return (non_admin or deciders)[:20]


def _target(object_type: str, object_id: int):
    model = MODELS.get(object_type)
    if model is None or object_type == ObjectType.CONTACT:
        raise ValidationError({"object_type": [_("Transfers can be requested for customers and leads.")]})
    obj = model._base_manager.select_related("owner", "department", "pool").filter(pk=object_id).first()
    if obj is None:
        raise ValidationError({"object_id": [_("This record does not exist.")]})
    return obj


@transaction.atomic
def request_transfer(actor, object_type: str, object_id: int, reason: str) -> TransferRequest:
    """A rep asks for a record held by someone else; the deciders are notified."""
    module = MODULES.get(object_type)
    if module is None:
        raise ValidationError({"object_type": [_("Unknown object.")]})
    require(actor, module, Action.VIEW)
    obj = _target(object_type, object_id)
    if obj.pool_id:
        raise ValidationError(_("This record is in a public pool: claim it there instead."))
    if obj.owner_id is None:
        raise ValidationError(_("This record has no owner; ask an administrator to assign it."))
    if obj.owner_id == actor.pk:
        raise ValidationError(_("You already own this record."))
    if TransferRequest.objects.filter(object_type=object_type, object_id=obj.pk, requester=actor, status=TransferStatus.PENDING).exists():
        raise ValidationError(_("You already have a pending request for this record."))
    req = TransferRequest(
        object_type=object_type, object_id=obj.pk, object_repr=str(obj)[:200], requester=actor, created_by=actor,
        current_owner=obj.owner, department=obj.department, reason=(reason or "").strip(),
    )
    req.full_clean()
    req.save()
    notify(
        approvers_for(req), "transfer_request", _("%(user)s asks for %(object)s “%(name)s”") % {
            "user": actor.display_name, "object": req.get_object_type_display(), "name": req.object_repr},
        body=req.reason, url=req.get_absolute_url(), actor=actor, target=req,
    )
    return req


def can_decide(user, req: TransferRequest) -> bool:
    return TransferRequest.objects.decidable_by(user).filter(pk=req.pk).exists()


def _lock_pending(actor, req) -> TransferRequest:
    current = TransferRequest.objects.select_for_update().filter(pk=req.pk).first()
    if current is None:
        raise ValidationError(_("This request no longer exists."))
    if current.status != TransferStatus.PENDING:
        raise ValidationError(_("This request has already been decided."))
    return current


@transaction.atomic
def approve_transfer(actor, req: TransferRequest, note: str = "") -> TransferRequest:
    """Ownership moves to the requester through the object's transfer service, as the approver."""
    req = _lock_pending(actor, req)
    if not can_decide(actor, req):
        raise PermissionDenied(_("You may not decide this request."))
    obj = _target(req.object_type, req.object_id)
    if obj.pool_id:
        raise ValidationError(_("The record has returned to a public pool meanwhile; the requester can claim it there."))
    requester = req.requester
    if not requester.is_active:
        raise ValidationError(_("The requester is no longer active."))
    previous_owner = obj.owner
    if obj.owner_id != requester.pk:
        if req.object_type == ObjectType.CUSTOMER:
            moved = customer_services.transfer_customers(actor, [obj.pk], requester)
        else:
            moved = lead_services.transfer_leads(actor, [obj.pk], requester)
        if not moved:
            raise PermissionDenied(_("You may not transfer this record."))
    req.status = TransferStatus.APPROVED
    req.decided_by, req.decided_at, req.note = actor, timezone.now(), (note or "").strip()[:1000]
    req.save()
    title = _("Your request for “%(name)s” was approved") % {"name": req.object_repr}
    notify([requester], "transfer_decision", title, body=req.note, url=obj.get_absolute_url(), actor=actor, target=req)
    if previous_owner is not None and previous_owner.pk != requester.pk:
        notify([previous_owner], "transfer_decision", _("“%(name)s” was transferred to %(user)s") % {
            "name": req.object_repr, "user": requester.display_name}, body=req.note, url=req.get_absolute_url(), actor=actor, target=req)
    return req


@transaction.atomic
def refuse_transfer(actor, req: TransferRequest, note: str = "") -> TransferRequest:
    req = _lock_pending(actor, req)
    if not can_decide(actor, req):
        raise PermissionDenied(_("You may not decide this request."))
    req.status = TransferStatus.REFUSED
    req.decided_by, req.decided_at, req.note = actor, timezone.now(), (note or "").strip()[:1000]
    req.save()
    notify([req.requester], "transfer_decision", _("Your request for “%(name)s” was refused") % {"name": req.object_repr},
           body=req.note, url=req.get_absolute_url(), actor=actor, target=req)
    return req


@transaction.atomic
def cancel_transfer(actor, req: TransferRequest) -> TransferRequest:
    req = _lock_pending(actor, req)
    if req.requester_id != actor.pk:
        raise PermissionDenied(_("Only the requester may cancel a request."))
    req.status = TransferStatus.CANCELLED
    req.decided_at = timezone.now()
    req.save()
    return req


# -- merge ------------------------------------------------------------------------------------------
MERGE_SKIP = {
    "id", "created_at", "updated_at", "created_by", "department", "custom_fields", "search_name", "search_pinyin",
    "search_initials", "dedupe_name", "pool", "pool_entered_at", "previous_owner", "owner_since", "recycle_warned_at",
    "last_contact_at", "next_followup_at", "last_won_at", "converted_customer", "converted_contact", "converted_at",
}


def merge_fields(model) -> list:
    """Plain fields whose surviving value the user picks (relations to other records move automatically)."""
    return [f for f in model._meta.concrete_fields if f.editable and f.name not in MERGE_SKIP and not f.primary_key]


def _generic_relations():
    for model in apps.get_models():
        for f in model._meta.private_fields:
            if isinstance(f, GenericForeignKey):
                yield model, f.ct_field, f.fk_field


def _move_related(model, other, survivor) -> dict[str, int]:
    """Point everything that references `other` at `survivor`: foreign keys (incl. hidden ones), reverse
    many-to-many, and generic relations (attachments, ...). Returns {relation: rows moved}."""
    moved: dict[str, int] = {}
    for rel in model._meta.get_fields(include_hidden=True):
        if not rel.auto_created or rel.concrete:
            continue
        related_model = rel.related_model
        if rel.many_to_many:
            through = rel.through if hasattr(rel, "through") else rel.field.remote_field.through
            if not through._meta.auto_created:
                continue
            field = rel.field
            to_col = field.m2m_reverse_field_name()  # column pointing at `model`
            from_col = field.m2m_field_name()
            already = set(through.objects.filter(**{to_col: survivor}).values_list(f"{from_col}_id", flat=True))
            rows = through.objects.filter(**{to_col: other})
            n = rows.exclude(**{f"{from_col}_id__in": already}).update(**{to_col: survivor})
            rows.delete()
            if n:
                moved[f"{related_model._meta.label_lower}.{field.name}"] = n
        elif rel.one_to_many or rel.one_to_one:
            fk = rel.field
            if related_model is model and fk.name in ("converted_customer",):
                continue
            qs = related_model._base_manager.filter(**{fk.name: other})
            if rel.one_to_one and related_model._base_manager.filter(**{fk.name: survivor}).exists():
                continue
            n = qs.update(**{fk.name: survivor})
            if n:
                moved[f"{related_model._meta.label_lower}.{fk.name}"] = n
    ct = ContentType.objects.get_for_model(model)
    for gmodel, ct_field, fk_field in _generic_relations():
        n = gmodel._base_manager.filter(**{ct_field: ct, fk_field: other.pk}).update(**{fk_field: survivor.pk})
        if n:
            moved[f"{gmodel._meta.label_lower}.{fk_field}"] = n
    return moved


def _save_object(actor, object_type: str, obj):
    if object_type == ObjectType.CUSTOMER:
        return customer_services.save_customer(actor, obj, confirm_duplicates=True)
    if object_type == ObjectType.CONTACT:
        return customer_services.save_contact(actor, obj, confirm_duplicates=True)
    return lead_services.save_lead(actor, obj, confirm_duplicates=True)


@transaction.atomic
def merge(actor, object_type: str, survivor_id: int, other_id: int, *, choices: dict | None = None):
    """Merge `other` into `survivor`. `choices` maps field names (custom fields as cf_KEY) to "survivor" or
    "other"; unnamed fields keep the survivor's value, or take the other's when the survivor's is empty.
    Needs edit and delete on both records; the merged-away id redirects to the survivor afterwards."""
    model = MODELS.get(object_type)
    if model is None:
        raise ValidationError({"object": [_("Unknown object.")]})
    module = MODULES[object_type]
    require(actor, module, Action.EDIT)
    require(actor, module, Action.DELETE)
    try:
        survivor_id, other_id = int(survivor_id), int(other_id)
    except (TypeError, ValueError):
        raise ValidationError(_("Choose two records.")) from None
    if survivor_id == other_id:
        raise ValidationError({"other": [_("A record cannot be merged into itself.")]})
    survivor = lock_visible(actor, model, survivor_id, Action.EDIT)
    other = lock_visible(actor, model, other_id, Action.EDIT)
    for obj in (survivor, other):
        if not model.objects.visible_to(actor, Action.DELETE).filter(pk=obj.pk).exists():
            raise PermissionDenied(_("You may not merge a record you cannot delete."))
    choices = choices or {}
    unknown = {k for k in choices if not k.startswith("cf_")} - {f.name for f in merge_fields(model)}
    if unknown:
        raise ValidationError(_("These fields cannot be merged: %(f)s") % {"f": ", ".join(sorted(unknown))})
    before_survivor = survivor._changelog_snapshot
    snapshot = changelog.snapshot(other)
    for f in merge_fields(model):
        pick = choices.get(f.name)
        mine, theirs = getattr(survivor, f.attname), getattr(other, f.attname)
        if pick == "other" or (pick is None and mine in (None, "") and theirs not in (None, "")):
            setattr(survivor, f.attname, theirs)
    custom = dict(survivor.custom_fields or {})
    for key, value in (other.custom_fields or {}).items():
        pick = choices.get(f"cf_{key}")
        if pick == "other" or (pick is None and custom.get(key) in (None, "", [])):
            custom[key] = value
    survivor.custom_fields = custom
    moved = _move_related(model, other, survivor)
    forward_m2m = {}
    for f in model._meta.many_to_many:
        forward_m2m[f.name] = set(getattr(survivor, f.name).values_list("pk", flat=True)) | set(getattr(other, f.name).values_list("pk", flat=True))
    other_repr = str(other)
    # Unique values (credit code) must leave the merged-away row before the survivor takes them.
    model._base_manager.filter(pk=other.pk).update(**{f.attname: None for f in merge_fields(model) if f.unique and f.null})
    other.refresh_from_db()
    other.delete()
    survivor._changelog_snapshot = before_survivor
    if hasattr(survivor, "owner_id") and object_type != ObjectType.CONTACT:
        survivor.sync_department()
    _save_object(actor, object_type, survivor)
    for name, ids in forward_m2m.items():
        getattr(survivor, name).set(ids)
    MergeRecord.objects.filter(object_type=object_type, survivor_id=other_id).update(survivor_id=survivor.pk)
    MergeRecord.objects.create(
        object_type=object_type, old_id=other_id, survivor_id=survivor.pk, old_repr=other_repr[:200], merged_by=actor,
        snapshot={k: v for k, v in snapshot.items() if v not in (None, "", [], {})},
    )
    changelog.record(survivor, ChangeAction.UPDATE, {"merged_from": [other_id, other_repr], "moved": [None, moved]})
    return survivor
