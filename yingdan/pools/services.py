"""Public pools (公海池): claim, release, assign, transfer, recycling and its warnings.

Every function is generic over the pooled model (Customer, Lead). A record is *in a pool* when its `pool` is set
(and then its owner is empty). Claims are race-safe on both databases: the claimer's user row is locked first
(so one rep's concurrent claims are serialised and the caps are counted on committed data), then the record is
taken with a conditional `UPDATE ... WHERE owner IS NULL AND pool_id = X` whose row count decides the winner.
Recycling is set-based: candidate ids are selected by SQL and moved in chunks, each chunk in its own
transaction with its change-log rows and pool events, so a killed run is simply re-run.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import DateTimeField, Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yingdan.core import context
from yingdan.core.choices import Action, ChangeAction
from yingdan.core.exceptions import ObjectNotVisible
from yingdan.core.models import Lookup, ObjectChange
from yingdan.core.permissions import get_permissions
from yingdan.core.services import require
from yingdan.org.models import Department

from .models import Pool, PoolEvent, PoolEventKind, PoolKind, PoolSettings

User = get_user_model()

RECYCLE_CHUNK = 5000
WON_STATUS_CODE = "won"
NOTIFY_WARNING = "pool_recycle_warning"
NOTIFY_ASSIGNED = "pool_assigned"
# Fields a change-log row needs for the object's name, per pooled model.
REPR_FIELDS = {"customers.customer": ("name",), "leads.lead": ("name", "company")}
OBJECT_TYPES = {"customers.customer": "customer", "leads.lead": "lead"}


def object_type_of(model) -> str:
    return OBJECT_TYPES[model._meta.label_lower]


def model_for(object_type: str):
    from django.apps import apps

    for label, kind in OBJECT_TYPES.items():
        if kind == object_type:
            return apps.get_model(label)
    raise LookupError(object_type)


def _has_field(model, name: str) -> bool:
    return any(f.name == name for f in model._meta.concrete_fields)


# -- who may do what with a pool ------------------------------------------------------------------------
def manages_pools(user) -> bool:
    """Pool managers (module 'pools' edit, or administrators) administer every pool."""
    return bool(user and user.is_authenticated and get_permissions(user).has("pools", Action.EDIT))


def is_pool_admin(user, pool: Pool) -> bool:
    if manages_pools(user):
        return True
    cache = getattr(user, "_yd_pool_admin", None)
    if cache is None:
        cache = set(Pool.admins.through.objects.filter(user_id=user.pk).values_list("pool_id", flat=True))
        user._yd_pool_admin = cache
    return pool.pk in cache


def _user_department_ancestry(user) -> list[int]:
    if not user.department_id:
        return []
    dept = user.department
    return [int(p) for p in dept.path.strip("/").split("/") if p]


def pools_visible_to(user, object_type: str | None = None):
    """Pools a user sees: all for pool managers; else pools they administer or belong to, and pools without a
    member list whose departments cover theirs (or that have no departments: company-wide)."""
    qs = Pool.objects.all()
    if object_type:
        qs = qs.filter(object_type=object_type)
    if user is None or not user.is_authenticated or not user.is_active:
        return qs.none()
    perms = get_permissions(user)
    if not perms.has("pools", Action.VIEW):
        return qs.none()
    if manages_pools(user):
        return qs
    members = Pool.members.through.objects.filter(pool_id=OuterRef("pk"))
    admins = Pool.admins.through.objects.filter(pool_id=OuterRef("pk"), user_id=user.pk)
    depts = Pool.departments.through.objects.filter(pool_id=OuterRef("pk"))
    covered = Q(~Exists(depts)) | Q(Exists(depts.filter(department_id__in=_user_department_ancestry(user))))
    return qs.filter(is_active=True).filter(
        Q(Exists(admins)) | Q(Exists(members.filter(user_id=user.pk))) | (Q(~Exists(members)) & covered)
    )


def is_pool_member(user, pool: Pool) -> bool:
    """Whether `user` may see (and, in an open pool, claim from) `pool`. The ids of the pools a user sees are
    read once per user object (one request), like the pools they administer."""
    if is_pool_admin(user, pool):
        return True
    cache = getattr(user, "_yd_pool_member", None)
    if cache is None:
        cache = set(pools_visible_to(user).values_list("pk", flat=True))
        user._yd_pool_member = cache
    return pool.pk in cache


# -- which pool covers a record -------------------------------------------------------------------------
@dataclass
class PoolMap:
    """Department id → pool id for one object type (nearest covering ancestor wins), plus the default pool."""

    by_department: dict[int, int]
    default: int | None
    pools: dict[int, Pool]

    def pool_id_for(self, department_id) -> int | None:
        if department_id is None:
            return self.default
        return self.by_department.get(department_id, self.default)


def pool_map(object_type: str) -> PoolMap:
    pools = {p.pk: p for p in Pool.objects.filter(object_type=object_type, is_active=True).order_by("id")}
    covering: dict[int, int] = {}
    for pool_id, dept_id in Pool.departments.through.objects.filter(pool_id__in=list(pools)).order_by("pool_id").values_list("pool_id", "department_id"):
        covering.setdefault(dept_id, pool_id)
    by_department = {}
    if covering:
        for dept_id, path in Department.objects.values_list("pk", "path"):
            for ancestor in reversed([int(p) for p in path.strip("/").split("/") if p]):
                if ancestor in covering:
                    by_department[dept_id] = covering[ancestor]
                    break
    default = next((p.pk for p in pools.values() if p.is_default), None)
    return PoolMap(by_department, default, pools)


def pool_for(obj) -> Pool:
    """The pool whose departments cover the record's department (nearest ancestor wins), else the default pool."""
    mapping = pool_map(object_type_of(type(obj)))
    pool_id = mapping.pool_id_for(obj.department_id)
    if pool_id is None:
        raise ValidationError(_("No public pool covers this record and there is no default pool."), code="no_pool")
    return mapping.pools[pool_id]


# -- audit helpers ----------------------------------------------------------------------------------------
def _repr(model, row: dict) -> str:
    if model._meta.label_lower == "leads.lead" and row.get("company"):
        return f"{row['name']}（{row['company']}）"[:200]
    return str(row.get("name", ""))[:200]


def _insert_many(model, constants: dict, varying: list[str], rows: list[tuple]) -> None:
    """INSERT `rows` (values of the `varying` fields, in order) with the `constants` into `model`'s table. SQLite:
    multi-row statements without a model instance per row (a recycling night writes hundreds of thousands; building
    and compiling instances was most of its time), every value through its field's get_db_prep_save as bulk_create
    would, the constants only once."""
    from django.db import connection

    meta = model._meta
    names = [*constants, *varying]
    fields = [meta.get_field(n) for n in names]
    if connection.vendor == "postgresql":
        # There Django's bulk_create sends each column as one array (INSERT ... SELECT FROM UNNEST), which the
        # server parses faster than long VALUES lists; its per-instance cost is small next to the server's.
        attnames = [f.attname for f in fields]
        base = dict(zip(attnames, constants.values(), strict=False))
        model.objects.bulk_create([
            model(**base, **dict(zip(attnames[len(constants):], row, strict=True))) for row in rows
        ], batch_size=1000)
        return
    fixed = [f.get_db_prep_save(constants[n], connection) for n, f in zip(constants, fields, strict=False)]
    prep = [f.get_db_prep_save for f in fields[len(constants):]]
    cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per = max(1, min(500, (connection.features.max_query_params or 10_000) // len(fields)))
    table = connection.ops.quote_name(meta.db_table)
    with connection.cursor() as cursor:
        for i in range(0, len(rows), per):
            batch = rows[i:i + per]
            params = []
            for row in batch:
                params += fixed
                params += [p(v, connection) for p, v in zip(prep, row, strict=True)]
            cursor.execute(f"INSERT INTO {table} ({cols}) VALUES {', '.join([one] * len(batch))}", params)


def _log(model, rows: list[dict], changes_for, *, kind: str, pool_id, to_owner_id, reason: str = "", at=None, actor=None) -> None:
    """Write one ObjectChange and one PoolEvent per moved row (rows: id, owner_id, department_id, name...), in bulk."""
    if not rows:
        return
    ctx = context.current()
    user = ctx.user if getattr(ctx.user, "is_authenticated", False) else None
    ct = ContentType.objects.get_for_model(model)
    at = at or timezone.now()
    reprs = [_repr(model, row) for row in rows]
    _insert_many(ObjectChange, {
        "time": timezone.now(), "user": user.pk if user else None,
        "user_name": (user.get_username() if user else "")[:150], "source": ctx.source,
        "request_id": ctx.request_id, "action": ChangeAction.UPDATE, "content_type": ct.pk,
    }, ["object_id", "object_repr", "changes"], [(row["id"], r, changes_for(row)) for row, r in zip(rows, reprs, strict=True)])
    _insert_many(PoolEvent, {
        "content_type": ct.pk, "pool": pool_id, "kind": kind,
        "actor": actor.pk if actor is not None and actor.pk else (user.pk if user else None),
        "to_owner": to_owner_id, "reason": reason[:500], "at": at,
    }, ["object_id", "object_repr", "from_owner"], [(row["id"], r, row["owner_id"]) for row, r in zip(rows, reprs, strict=True)])


def _row_fields(model) -> list[str]:
    return ["id", "owner_id", "department_id", "pool_id", *REPR_FIELDS.get(model._meta.label_lower, ("name",))]


# -- caps ----------------------------------------------------------------------------------------------------
def held_count(user, model, *, count_won: bool) -> int:
    """Records the user owns (won customers left out unless they count): one count over the owner index."""
    qs = model.objects.filter(owner_id=user.pk)
    if not count_won and model._meta.label_lower == "customers.customer":
        won = Lookup.objects.filter(kind="customer_status", code=WON_STATUS_CODE).values("pk")
        qs = qs.filter(Q(status__isnull=True) | ~Q(status_id__in=won))
    return qs.count()


def hold_cap_for(user, model, pool: Pool | None) -> tuple[int | None, bool]:
    """(cap, count_won) of the stricter of the company-wide cap and the pool's cap."""
    company = PoolSettings.get()
    company_cap = company.customer_hold_cap if object_type_of(model) == "customer" else company.lead_hold_cap
    caps = []
    if company_cap is not None:
        caps.append((company_cap, company.count_won))
    if pool is not None and pool.hold_cap is not None:
        caps.append((pool.hold_cap, pool.count_won))
    if not caps:
        return None, False
    return min(caps, key=lambda c: c[0])


def _check_hold_cap(user, model, pool, adding: int = 1, *, company: PoolSettings | None = None) -> None:
    company = company or PoolSettings.get()
    company_cap = company.customer_hold_cap if object_type_of(model) == "customer" else company.lead_hold_cap
    checks = []
    if company_cap is not None:
        checks.append((company_cap, company.count_won))
    if pool is not None and pool.hold_cap is not None:
        checks.append((pool.hold_cap, pool.count_won))
    for cap, count_won in sorted(checks):
        held = held_count(user, model, count_won=count_won)
        if held + adding > cap:
            raise ValidationError(
                _("%(user)s already holds %(held)d of at most %(cap)d; release some before taking more.")
                % {"user": user, "held": held, "cap": cap},
                code="hold_cap",
            )


def _local_day_start(now) -> datetime.datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def claims_today(user, pool: Pool, now=None) -> int:
    now = now or timezone.now()
    return PoolEvent.objects.filter(actor_id=user.pk, kind=PoolEventKind.CLAIM, pool_id=pool.pk, at__gte=_local_day_start(now)).count()


def _lock_user(user):
    """Serialise one user's claims/assignments (PostgreSQL row lock; SQLite IMMEDIATE already serialises).
    FOR NO KEY UPDATE: other transactions' foreign-key checks on the user row (records they give this user,
    change-log rows by this user) are not blocked by it, while a second claim of the same user waits."""
    return User.objects.select_for_update(no_key=True).only("id").get(pk=user.pk)


# -- claim ------------------------------------------------------------------------------------------------
@transaction.atomic
def claim(actor, model, pk, *, pool: Pool | None = None):
    """A member takes a record from an open pool. Refused (nothing changes) when the record is not in a pool
    the actor belongs to, the pool is assign-only, the actor is the previous owner inside the cooldown, or a
    daily or holding cap would be exceeded; when someone else was faster the claim is refused too."""
    module = model.permission_module
    require(actor, module, Action.VIEW)
    require(actor, "pools", Action.VIEW)
    obj = model.objects.select_related("pool").filter(pk=pk).first()
    if obj is None:
        raise ObjectNotVisible()
    expected = pool
    pool = obj.pool
    if expected is not None and pool is not None and pool.pk != expected.pk:
        pool = None
    if pool is None:
        if obj.owner_id == actor.pk:
            raise ValidationError(_("You already own this record."), code="already_yours")
        raise ValidationError(_("This record is not in a public pool (someone may have claimed it already)."), code="not_in_pool")
    if not is_pool_member(actor, pool):
        raise PermissionDenied(_("You are not a member of the pool “%(pool)s”.") % {"pool": pool})
    if pool.kind == PoolKind.ASSIGNED and not is_pool_admin(actor, pool):
        raise ValidationError(_("Records in this pool are assigned by its admins; they cannot be claimed."), code="assigned_only")
    now = timezone.now()
    if pool.cooldown_days and obj.previous_owner_id == actor.pk and obj.pool_entered_at:
        until = obj.pool_entered_at + datetime.timedelta(days=pool.cooldown_days)
        if now < until:
            raise ValidationError(
                _("You returned this record to the pool recently; you may claim it again from %(date)s.")
                % {"date": timezone.localtime(until).strftime("%Y-%m-%d %H:%M")},
                code="cooldown",
            )
    company = PoolSettings.get()
    company_cap = company.customer_hold_cap if object_type_of(model) == "customer" else company.lead_hold_cap
    if pool.daily_claim_cap is not None or pool.hold_cap is not None or company_cap is not None:
        # A cap applies: the actor's claims are serialised from here on, so the counts below see every earlier
        # claim of theirs committed. Without caps the conditional UPDATE alone decides (no lock needed).
        _lock_user(actor)
        if pool.daily_claim_cap is not None and claims_today(actor, pool, now) >= pool.daily_claim_cap:
            raise ValidationError(
                _("You have reached today's limit of %(cap)d claims from this pool.") % {"cap": pool.daily_claim_cap},
                code="daily_cap",
            )
        _check_hold_cap(actor, model, pool, company=company)
    values = {
        "owner_id": actor.pk, "pool_id": None, "pool_entered_at": None, "owner_since": now,
        "recycle_warned_at": None, "updated_at": now,
    }
    if _has_field(model, "department"):
        values["department_id"] = actor.department_id
    taken = model.objects.filter(pk=pk, owner__isnull=True, pool_id=pool.pk).update(**values)
    if taken != 1:
        raise ValidationError(_("Someone else claimed this record a moment ago."), code="taken")
    row = {"id": obj.pk, "owner_id": None, "name": getattr(obj, "name", ""), "company": getattr(obj, "company", "")}
    _log(model, [row], lambda r: {
        "owner": [None, actor.pk], "pool": [pool.pk, None], "department": [obj.department_id, actor.department_id],
    }, kind=PoolEventKind.CLAIM, pool_id=pool.pk, to_owner_id=actor.pk, at=now, actor=actor)
    for name, value in values.items():
        setattr(obj, name, value)
    obj.pool = None
    return obj


# -- release ----------------------------------------------------------------------------------------------
def _resolve_users(ids) -> dict:
    return {u.pk: u for u in User.objects.filter(pk__in=[i for i in ids if i])}


def _move_to_pools(model, rows: list[dict], mapping: PoolMap, *, kind: str, reason: str, forced_pool: Pool | None, now,
                   actor=None) -> int:
    """Return owned rows (selected FOR UPDATE by the caller) to their pools: one UPDATE per pool, owner
    cleared, previous owner = the owner, department optionally cleared; then the change log and pool events
    in bulk. Rows whose owner was cleared meanwhile are left out of the update and of the log."""
    groups: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        pool_id = forced_pool.pk if forced_pool else mapping.pool_id_for(row["department_id"])
        if pool_id is None:
            raise ValidationError(_("No public pool covers this record and there is no default pool."), code="no_pool")
        groups[pool_id].append(row)
    moved = 0
    for pool_id, group in groups.items():
        pool = forced_pool or mapping.pools[pool_id]
        values = {
            "owner_id": None, "previous_owner_id": F("owner_id"), "pool_id": pool.pk, "pool_entered_at": now,
            "recycle_warned_at": None, "updated_at": now,
        }
        if pool.clear_department:
            values["department_id"] = None
        ids = [r["id"] for r in group]
        n = model.objects.filter(pk__in=ids, owner__isnull=False).update(**values)
        if n != len(ids):  # someone changed some of these rows meanwhile: log exactly the moved ones
            still = set(model.objects.filter(pk__in=ids, pool_id=pool.pk, pool_entered_at=now).values_list("pk", flat=True))
            group = [r for r in group if r["id"] in still]

        def changes(r, pool=pool):
            c = {"owner": [r["owner_id"], None], "pool": [None, pool.pk], "previous_owner": [None, r["owner_id"]]}
            if pool.clear_department and r["department_id"]:
                c["department"] = [r["department_id"], None]
            return c

        _log(model, group, changes, kind=kind, pool_id=pool.pk, to_owner_id=None, reason=reason, at=now, actor=actor)
        moved += len(group)
    return moved


@transaction.atomic
def release(actor, model, ids, reason, *, pool=None) -> int:
    """Return owned records in the actor's edit scope to a pool (their covering pool, or `pool`). A reason is
    required. Records already in a pool or outside the scope are skipped."""
    module = model.permission_module
    require(actor, module, Action.EDIT)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Give a reason for returning these records to the pool.")]})
    if pool is not None:
        if pool.object_type != object_type_of(model) or not pool.is_active:
            raise ValidationError({"pool": [_("Choose an active pool for this kind of record.")]})
    ids = list(ids)
    rows = list(
        model.objects.visible_to(actor, Action.EDIT).select_for_update()
        .filter(pk__in=ids, owner__isnull=False).order_by("pk").values(*_row_fields(model))
    )
    if not rows:
        raise ValidationError(_("None of the chosen records can be returned to a pool by you."), code="nothing")
    mapping = pool_map(object_type_of(model))
    return _move_to_pools(model, rows, mapping, kind=PoolEventKind.RELEASE, reason=reason, forced_pool=pool, now=timezone.now(),
                          actor=actor)


# -- assign -------------------------------------------------------------------------------------------------
def _active_user(user):
    if user is None or not getattr(user, "pk", None):
        raise ValidationError({"owner": [_("Choose an active user.")]})
    fresh = User.objects.filter(pk=user.pk).only("id", "is_active", "department_id", "username", "name").first()
    if fresh is None or not fresh.is_active:
        raise ValidationError({"owner": [_("%(user)s is not an active user.") % {"user": user}]})
    return fresh


@transaction.atomic
def assign(actor, model, ids, new_owner, *, pool=None) -> int:
    """A pool admin gives pooled records to a rep (any pool kind). The rep's holding cap applies."""
    require(actor, model.permission_module, Action.VIEW)
    require(actor, "pools", Action.VIEW)
    new_owner = _active_user(new_owner)
    _lock_user(new_owner)
    qs = model.objects.select_for_update().filter(pk__in=list(ids), owner__isnull=True, pool__isnull=False)
    if pool is not None:
        qs = qs.filter(pool_id=pool.pk)
    rows = list(qs.order_by("pk").values(*_row_fields(model)))
    if not rows:
        raise ValidationError(_("None of the chosen records is in a pool."), code="not_in_pool")
    pools = {p.pk: p for p in Pool.objects.filter(pk__in={r["pool_id"] for r in rows})}
    for p in pools.values():
        if not is_pool_admin(actor, p):
            raise PermissionDenied(_("Only admins of the pool “%(pool)s” may assign its records.") % {"pool": p})
    by_pool = defaultdict(list)
    for row in rows:
        by_pool[row["pool_id"]].append(row)
    # the stricter cap: checked once for all, against the strictest pool involved
    strictest = min(pools.values(), key=lambda p: (p.hold_cap is None, p.hold_cap or 0))
    _check_hold_cap(new_owner, model, strictest, adding=len(rows))
    now = timezone.now()
    values = {
        "owner_id": new_owner.pk, "pool_id": None, "pool_entered_at": None, "owner_since": now,
        "recycle_warned_at": None, "updated_at": now, "department_id": new_owner.department_id,
    }
    count = 0
    for pool_id, group in by_pool.items():
        ids_ = [r["id"] for r in group]
        n = model.objects.filter(pk__in=ids_, owner__isnull=True, pool_id=pool_id).update(**values)
        if n != len(ids_):
            raise ValidationError(_("Some of these records were claimed meanwhile; reload and try again."), code="taken")
        _log(model, group, lambda r, pool_id=pool_id: {
            "owner": [None, new_owner.pk], "pool": [pool_id, None], "department": [r["department_id"], new_owner.department_id],
        }, kind=PoolEventKind.ASSIGN, pool_id=pool_id, to_owner_id=new_owner.pk, at=now, actor=actor)
        count += n
    _notify_after_commit(new_owner, NOTIFY_ASSIGNED, actor, model, count)
    return count


def _notify_after_commit(user, kind, actor, model, count):
    from yingdan.notifications.services import notify

    if not count:
        return
    label = model._meta.verbose_name_plural
    notify(
        [user], kind, _("%(n)d %(what)s were assigned to you from a public pool") % {"n": count, "what": label},
        actor=actor, url=_list_url(model),
    )


def _list_url(model) -> str:
    try:
        return reverse(f"{model._meta.app_label}:{model._meta.model_name}_list")
    except Exception:
        return ""


# -- transfer ------------------------------------------------------------------------------------------------
@transaction.atomic
def transfer(actor, model, ids, new_owner) -> int:
    """Owner to owner (转移): needs 'transfer' on the module, within the actor's scope; refuses inactive users."""
    require(actor, model.permission_module, Action.TRANSFER)
    new_owner = _active_user(new_owner)
    rows = list(
        model.objects.visible_to(actor, Action.TRANSFER).select_for_update()
        .filter(pk__in=list(ids), owner__isnull=False).exclude(owner_id=new_owner.pk)
        .order_by("pk").values(*_row_fields(model))
    )
    if not rows:
        return 0
    now = timezone.now()
    count = 0
    by_owner = defaultdict(list)
    for row in rows:
        by_owner[row["owner_id"]].append(row)
    for owner_id, group in by_owner.items():
        ids_ = [r["id"] for r in group]
        count += model.objects.filter(pk__in=ids_, owner_id=owner_id).update(
            owner_id=new_owner.pk, previous_owner_id=owner_id, department_id=new_owner.department_id,
            owner_since=now, recycle_warned_at=None, updated_at=now,
        )
        _log(model, group, lambda r: {
            "owner": [r["owner_id"], new_owner.pk], "department": [r["department_id"], new_owner.department_id],
        }, kind=PoolEventKind.TRANSFER, pool_id=None, to_owner_id=new_owner.pk, at=now, actor=actor)
    return count


# -- recycling ------------------------------------------------------------------------------------------------
@dataclass
class RecycleReport:
    dry_run: bool
    now: datetime.datetime
    per_pool: dict = field(default_factory=dict)  # (object_type, pool id) -> count
    warned: int = 0

    @property
    def total(self) -> int:
        return sum(self.per_pool.values())

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "total": self.total, "per_pool": {f"{k[0]}:{k[1]}": v for k, v in self.per_pool.items()}}


def _rules(pool: Pool) -> dict:
    """{level id (int) or "default": {"no_followup_days": int|None, "no_won_days": int|None}}, cleaned."""
    out = {}
    for key, rule in (pool.recycle_rules or {}).items():
        if not isinstance(rule, dict):
            continue
        clean = {}
        for name in ("no_followup_days", "no_won_days"):
            try:
                value = int(rule.get(name)) if rule.get(name) not in (None, "") else None
            except (TypeError, ValueError):
                value = None
            clean[name] = value if value and value > 0 else None
        if key == "default":
            out["default"] = clean
        else:
            try:
                out[int(key)] = clean
            except (TypeError, ValueError):
                continue
    return out


def _due_q(model, rule: dict, cutoff_now) -> Q | None:
    """Records that are due by `cutoff_now` under one rule (None: the rule recycles nothing)."""
    q = Q()
    any_rule = False
    if rule.get("no_followup_days"):
        q |= Q(_yd_last_activity__lt=cutoff_now - datetime.timedelta(days=rule["no_followup_days"]))
        any_rule = True
    if rule.get("no_won_days") and _has_field(model, "last_won_at"):
        q |= Q(_yd_last_won__lt=cutoff_now - datetime.timedelta(days=rule["no_won_days"]))
        any_rule = True
    return q if any_rule else None


def _annotated(model):
    qs = model.objects.annotate(
        _yd_last_activity=Coalesce("last_contact_at", "owner_since", "created_at", output_field=DateTimeField()),
    )
    if _has_field(model, "last_won_at"):
        qs = qs.annotate(_yd_last_won=Coalesce("last_won_at", "owner_since", "created_at", output_field=DateTimeField()))
    return qs


def candidates(model, pool: Pool, mapping: PoolMap, *, at) -> object:
    """Owned records this pool would take back at time `at` (a queryset; empty when nothing applies)."""
    if not pool.recycle_enabled:
        return model.objects.none()
    rules = _rules(pool)
    if not rules:
        return model.objects.none()
    qs = _annotated(model).filter(owner__isnull=False)
    # which departments belong to this pool
    mine = [d for d, p in mapping.by_department.items() if p == pool.pk]
    if pool.pk == mapping.default:
        others = [d for d, p in mapping.by_department.items() if p != pool.pk]
        qs = qs.filter(Q(department__isnull=True) | ~Q(department_id__in=others)) if others else qs
    elif mine:
        qs = qs.filter(department_id__in=mine)
    else:
        return model.objects.none()
    has_level = _has_field(model, "level")
    level_keys = [k for k in rules if k != "default"] if has_level else []
    combined = Q()
    matched = False
    for key, rule in rules.items():
        due = _due_q(model, rule, at)
        if due is None:
            continue
        if key == "default":
            scope = ~Q(level_id__in=level_keys) | Q(level__isnull=True) if level_keys else Q()
        elif has_level:
            scope = Q(level_id=key)
        else:
            continue
        combined |= scope & due
        matched = True
    if not matched:
        return model.objects.none()
    return qs.filter(combined)


def pooled_models():
    from django.apps import apps

    return [apps.get_model(label) for label in OBJECT_TYPES]


def recycle(now=None, *, dry_run: bool = False, pools=None, limit: int | None = None) -> RecycleReport:
    """Return overdue records to their pools (nightly). `dry_run` only counts. Each chunk of ids is moved in
    its own transaction with its change log and pool events; an interrupted run is completed by re-running.
    `limit` bounds the number of records moved (benchmarks, manual partial runs)."""
    now = now or timezone.now()
    report = RecycleReport(dry_run=dry_run, now=now)
    moved_total = 0
    for model in pooled_models():
        object_type = object_type_of(model)
        mapping = pool_map(object_type)
        for pool in mapping.pools.values():
            if pools is not None and pool.pk not in {p.pk for p in pools}:
                continue
            qs = candidates(model, pool, mapping, at=now)
            key = (object_type, pool.pk)
            if dry_run:
                report.per_pool[key] = qs.count()
                continue
            # One scan decides what is due; the chunks then re-check the condition row by row (FOR UPDATE)
            # through the primary key, so a record touched meanwhile is left alone.
            remaining = None if limit is None else max(limit - moved_total, 0)
            due_ids = qs.order_by("pk").values_list("pk", flat=True)
            due_ids = list(due_ids if remaining is None else due_ids[:remaining])
            moved = 0
            reason = _("Automatic recycling: no activity within the pool's time limit")
            for start in range(0, len(due_ids), RECYCLE_CHUNK):
                chunk = due_ids[start:start + RECYCLE_CHUNK]
                with transaction.atomic():
                    rows = list(qs.filter(pk__in=chunk).select_for_update(of=("self",)).order_by("pk").values(*_row_fields(model)))
                    n = _move_to_pools(model, rows, mapping, kind=PoolEventKind.RECYCLE, reason=reason, forced_pool=pool, now=now)
                moved += n
                moved_total += n
            report.per_pool[key] = moved
    return report


def warn_due(now=None) -> int:
    """Tell owners K days (the pool's warn_days) ahead which records will return to the pool. Each record is
    warned once per cycle: `recycle_warned_at` is set, and a new follow-up (a later last contact) starts a new
    cycle. One notification per owner and pool per day (deduplicated, so a re-run sends nothing twice)."""
    from yingdan.notifications.services import notify

    now = now or timezone.now()
    warned = 0
    for model in pooled_models():
        object_type = object_type_of(model)
        mapping = pool_map(object_type)
        for pool in mapping.pools.values():
            if not pool.recycle_enabled or not pool.warn_days:
                continue
            due_later = candidates(model, pool, mapping, at=now + datetime.timedelta(days=pool.warn_days))
            due_now = candidates(model, pool, mapping, at=now).values("pk")
            qs = due_later.exclude(pk__in=due_now).filter(
                Q(recycle_warned_at__isnull=True) | Q(recycle_warned_at__lt=F("_yd_last_activity"))
            )
            per_owner = defaultdict(list)
            for pk, owner_id in qs.values_list("pk", "owner_id").iterator(chunk_size=2000):
                per_owner[owner_id].append(pk)
            if not per_owner:
                continue
            users = _resolve_users(per_owner)
            for owner_id, ids in per_owner.items():
                with transaction.atomic():
                    for i in range(0, len(ids), RECYCLE_CHUNK):
                        model.objects.filter(pk__in=ids[i:i + RECYCLE_CHUNK]).update(recycle_warned_at=now)
                    user = users.get(owner_id)
                    if user is not None:
                        notify(
                            [user], NOTIFY_WARNING,
                            _("%(n)d %(what)s will return to the pool “%(pool)s” within %(days)d days")
                            % {"n": len(ids), "what": model._meta.verbose_name_plural, "pool": pool.name, "days": pool.warn_days},
                            body=_("Follow up with them to keep them."),
                            url=_list_url(model),
                            dedupe_key=f"pool-warn:{pool.pk}:{timezone.localdate(now).isoformat()}",
                        )
                warned += len(ids)
    return warned


def run_nightly(now=None) -> RecycleReport:
    """The scheduled job: warnings first, then recycling."""
    with context.change_context(source="automation"):
        warned = warn_due(now)
        report = recycle(now)
    report.warned = warned
    return report


# -- pool configuration ------------------------------------------------------------------------------------
@transaction.atomic
def save_pool(actor, pool: Pool, *, departments=None, admins=None, members=None) -> Pool:
    require(actor, "pools", Action.CREATE if pool.pk is None else Action.EDIT)
    pool.full_clean()
    if pool.is_default:
        pool.save()
        Pool.objects.filter(object_type=pool.object_type, is_default=True).exclude(pk=pool.pk).update(is_default=False)
    else:
        pool.save()
    if departments is not None:
        pool.departments.set(departments)
    if admins is not None:
        pool.admins.set(admins)
    if members is not None:
        pool.members.set(members)
    return pool


@transaction.atomic
def delete_pool(actor, pool: Pool) -> None:
    require(actor, "pools", Action.DELETE)
    for model in pooled_models():
        if model.objects.filter(pool_id=pool.pk).exists():
            raise ValidationError(_("This pool still holds records; assign or move them first."), code="not_empty")
    pool.delete()


@transaction.atomic
def save_settings(actor, settings_obj: PoolSettings) -> PoolSettings:
    require(actor, "pools", Action.EDIT)
    settings_obj.pk = 1
    settings_obj.full_clean()
    settings_obj.save()
    return settings_obj


def ensure_default_pools() -> None:
    """A default customer pool and a default lead pool (company-wide, open)."""
    for object_type, name in (("customer", "公海客户池"), ("lead", "公海线索池")):
        if not Pool.objects.filter(object_type=object_type, is_default=True).exists():
            Pool.objects.create(name=name, object_type=object_type, is_default=True)
    PoolSettings.get()


# -- hidden fields -------------------------------------------------------------------------------------------
# The columns a pool's record list shows (pages and API), and the related rows they need.
RECORD_COLUMNS = {
    "customer": ["name", "level", "status", "industry", "city", "phone", "previous_owner", "pool_entered_at"],
    "lead": ["name", "company", "status", "source", "city", "mobile", "previous_owner", "pool_entered_at"],
}
RECORD_RELATED = {"customer": ("level", "status", "industry", "previous_owner"), "lead": ("status", "source", "previous_owner")}


def recycling_without_limit(enabled: bool, rules: dict) -> bool:
    """True when automatic recycling is switched on but no rule sets a time limit (the form and the API refuse it)."""
    return bool(enabled) and not any(any(r.values()) for r in (rules or {}).values() if isinstance(r, dict))


def pool_hidden_fields(user, pool: Pool, model) -> set[str]:
    """Fields `user` may not see on the records of `pool`: the pool's hidden fields (unless they administer the
    pool) plus the fields their role hides in the record's module."""
    hidden = set() if is_pool_admin(user, pool) else set(pool.hidden_fields or [])
    hidden |= {k for k, v in get_permissions(user).field_map(model.permission_module).items() if v == "hidden"}
    return hidden


def hidden_fields_for(user, obj) -> set[str]:
    """Fields of a pooled record hidden from `user` (non-admins of its pool) while it sits in the pool."""
    pool_id = getattr(obj, "pool_id", None)
    if not pool_id:
        return set()
    pool = obj.pool
    if not pool.hidden_fields or is_pool_admin(user, pool):
        return set()
    return set(pool.hidden_fields)


def claim_from(actor, model, pk, pool: Pool):
    """Claim addressed through a pool (pool pages, /api/v1/pools/{id}/claim/): the record must be in that pool."""
    return claim(actor, model, pk, pool=pool)


def pool_counts(pools) -> dict[int, int]:
    """{pool id: records in it}, one grouped query per kind of record."""
    from django.db.models import Count

    out = {}
    by_type = defaultdict(list)
    for pool in pools:
        by_type[pool.object_type].append(pool.pk)
    for object_type, ids in by_type.items():
        model = model_for(object_type)
        for row in model.objects.filter(pool_id__in=ids).values("pool_id").annotate(n=Count("pk")).order_by():
            out[row["pool_id"]] = row["n"]
        for pk in ids:
            out.setdefault(pk, 0)
    return out
