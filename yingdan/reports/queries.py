"""Every report: a function `(user, filters) -> dict`, computed in the database.

Each figure is an aggregation (`Count`/`Sum`/`Avg`, conditional aggregation, `TruncMonth`) — rows are never
loaded into Python to be counted; Python only attaches labels to the few grouped rows that come back.

Scope: the rows a report counts are the opportunities the user may see (`Opportunity.objects.visible_to`),
narrowed further by the reports module's own data scope when that one is narrower. Stage changes are scoped
by their denormalised owner/department (the deal's owner and department at the time of the move) with the same
rules (own: owner or collaborator; department scopes: those departments, plus own deals), so the 3M-row history
is filtered on its own indexed columns instead of being joined to the opportunities.
"""

from __future__ import annotations

import datetime
from dataclasses import replace
from decimal import Decimal

from django.db import connections
from django.db.models import (
    BigIntegerField,
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import TruncMonth
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yingdan.core.choices import SCOPE_RANK, Action, DataScope
from yingdan.core.models import Lookup
from yingdan.core.models.base import Unindexed, department_ids_for
from yingdan.core.permissions import get_permissions
from yingdan.core.views.generic import CappedPaginator
from yingdan.opportunities.models import (
    ForecastCategory,
    LossReason,
    Opportunity,
    Stage,
    StageChange,
    StageKind,
    StageMonth,
)
from yingdan.opportunities.rollup import split_period
from yingdan.org.models import Department, User

from .filters import ReportFilters, period_range

ZERO = Decimal("0")
MONEY = DecimalField(max_digits=20, decimal_places=2)
DAY_SECONDS = 86400
STALLED_PAGE_SIZE = 25


# -- scope ---------------------------------------------------------------------------------------------
def report_scope(user) -> str | None:
    """The effective scope of a user's reports: the narrower of the reports and the opportunities scope.
    None: no access to the figures (missing reports:view or opportunities:view)."""
    perms = get_permissions(user)
    if not (perms.has("reports", Action.VIEW) and perms.has("opportunities", Action.VIEW)):
        return None
    scopes = [perms.scope("reports"), perms.scope("opportunities")]
    return min(scopes, key=lambda s: SCOPE_RANK[s])


def visible_opportunities(user):
    """Opportunities the user's reports may count."""
    scope = report_scope(user)
    qs = Opportunity.objects.visible_to(user, Action.VIEW)
    if scope is None:
        return qs.none()
    if scope != get_permissions(user).scope("opportunities"):
        qs = qs.filter(Opportunity.scope_q(user, scope))
    return qs


def scope_parts(user, scope: str, *, collaboration_field: str, model=None) -> list[Q]:
    """The scope as disjoint filters whose union is the scope: departments; own records outside them; records
    the user collaborates on outside both. Each part has one indexable leading condition, so the database can
    answer it from a covering index — an OR of the three cannot (PostgreSQL falls back to bitmap heap scans,
    SQLite to row look-ups). Additive figures (counts, sums) are summed over the parts.

    With `model` given, a part that is empty for the whole table is left out: a manager's own records are
    nearly always inside their departments, and proving it costs one look at the (owner, department) index,
    where running the part costs a pass over the period's rows of the report's index."""
    return [q for _kind, q in tagged_scope_parts(user, scope, collaboration_field=collaboration_field, model=model)]


def tagged_scope_parts(user, scope: str, *, collaboration_field: str, model=None) -> list[tuple[str, Q]]:
    """scope_parts as (kind, filter): kind "owner" for parts on department/owner columns only, "collaboration"
    for the part that names deals one by one (readers of the monthly roll-ups, which have no deal column, run
    that one on the history itself)."""
    if scope == DataScope.ALL:
        return [("owner", Q())]
    # The user's collaborations are few: as a literal list the filter stays index-friendly.
    through = Opportunity.collaborators.through
    collaborating = list(through.objects.filter(user_id=user.pk).values_list("opportunity_id", flat=True)[:5000])
    depts = department_ids_for(user, scope)
    parts, outside = [], Q()
    if depts:
        parts.append(("owner", Q(department_id__in=depts)))
        outside = ~Q(department_id__in=depts)
    own_outside = Q(owner_id=user.pk) & outside
    if not (depts and model is not None) or model.objects.filter(own_outside).exists():
        parts.append(("owner", own_outside))
    if collaborating:
        parts.append(("collaboration", Q(**{f"{collaboration_field}__in": collaborating}) & ~Q(owner_id=user.pk) & outside))
    return parts


def report_filters_q(f: ReportFilters) -> Q:
    q = Q()
    if f.pipeline:
        q &= Q(pipeline_id=f.pipeline.pk)
    if f.team_ids:
        q &= Q(department_id__in=f.team_ids)
    if f.rep:
        q &= Q(owner_id=f.rep.pk)
    return q


def filtered_opportunities(user, f: ReportFilters, *, date_field: str | None = None):
    """One queryset of the opportunities a report counts (for lists: the stalled deals)."""
    qs = visible_opportunities(user).filter(report_filters_q(f))
    if date_field:
        qs = qs.filter(**date_lookups(f, date_field, is_date=date_field == "expected_close"))
    return qs


def opportunity_parts(user, f: ReportFilters, *, date_field: str | None = None) -> list:
    """The same opportunities as disjoint querysets (see scope_parts), for aggregations."""
    scope = report_scope(user)
    base = filtered_opportunities(user, f, date_field=date_field)
    if scope is None:
        return [base]
    return [base.filter(q) for q in scope_parts(user, scope, collaboration_field="id", model=Opportunity)]


def _history(f: ReportFilters, start, end, scope):
    """Stage changes out of a stage in [start, end), with the report's filters (scope not applied)."""
    qs = StageChange.objects.filter(from_stage__isnull=False)
    if start is not None:
        qs = qs.filter(changed_at__gte=start)
    if end is not None:
        qs = qs.filter(changed_at__lt=end)
    if f.pipeline and scope not in (None, DataScope.ALL) and connections[qs.db].vendor == "sqlite":
        # `+pipeline_id` on SQLite: its sampled statistics make (pipeline, changed_at) look as selective as the
        # scope's (department, changed_at, …) covering index, and it picked the former — one table row per move of
        # the pipeline in the period (35 s for a year of the busiest one) instead of the scope's index entries.
        qs = qs.alias(k_pipeline=Unindexed("pipeline_id", output_field=BigIntegerField())).filter(k_pipeline=f.pipeline.pk)
        return qs.filter(report_filters_q(replace(f, pipeline=None)))
    return qs.filter(report_filters_q(f))


HISTORY_METRICS = {
    "moves": Count("*"),
    "timed": Count("seconds_in_previous"),
    "seconds": Sum("seconds_in_previous"),
    "complete": Count("to_stage_id", filter=Q(checklist_complete=True)),
    "over_limit": Count("to_stage_id", filter=Q(days_over_limit__gt=0)),
    "days_over": Sum("days_over_limit"),
}
MONTH_METRICS = {
    "moves": Sum("moves"), "timed": Sum("timed_moves"), "seconds": Sum("seconds"), "complete": Sum("complete"),
    "over_limit": Sum("over_limit"), "days_over": Sum("days_over"),
}


def stage_move_sums(user, f: ReportFilters, keys: tuple = (), *, from_stage_ids=None) -> dict:
    """{key tuple: {moves, timed, seconds, complete, over_limit, days_over}} of the stage moves out of a stage in
    the report's period and scope. Keys: columns of the history (pipeline_id, department_id, owner_id,
    from_stage_id) and "month" (the first day of the local month).

    The whole months of the period are read from the monthly sums (`StageMonth`, a few thousand rows a month);
    only the partial months at its edges and the moves of deals the user collaborates on (the one scope part
    that names deals) are read from the history — by the denormalised owner/department of each move."""
    scope = report_scope(user)
    if scope is None:
        return {}
    start, end = f.datetime_range()
    whole, partial = split_period(start, end)
    columns = tuple(k for k in keys if k != "month")
    by_month = "month" in keys
    out: dict = {}

    def merge(grouped: dict, month=None) -> None:
        for key, row in grouped.items():
            values = dict(zip(columns, key, strict=True))
            if by_month:
                values["month"] = month if month is not None else values.get("month")
            full = tuple(values[k] for k in keys)
            acc = out.setdefault(full, dict.fromkeys(HISTORY_METRICS))
            for name, value in row.items():
                if value is not None:
                    acc[name] = value if acc[name] is None else acc[name] + value

    stage_q = Q(from_stage_id__in=from_stage_ids) if from_stage_ids is not None else Q()
    for kind, part in tagged_scope_parts(user, scope, collaboration_field="opportunity_id", model=StageChange):
        if kind == "collaboration":  # few deals: their history directly, every piece of the period at once
            qs = _history(f, start, end, scope).filter(stage_q, part)
            if by_month:
                month = TruncMonth("changed_at", tzinfo=timezone.get_default_timezone())
                for (m, *rest), row in summed([qs], ("m", *columns), HISTORY_METRICS, annotate={"m": month}).items():
                    m = timezone.localtime(m, timezone.get_default_timezone()).date() if isinstance(m, datetime.datetime) else m
                    merge({tuple(rest): row}, month=m)
            else:
                merge(summed([qs], columns, HISTORY_METRICS))
            continue
        if whole is not None:
            qs = StageMonth.objects.filter(report_filters_q(f), stage_q, part)
            if whole[0] is not None:
                qs = qs.filter(month__gte=whole[0])
            if whole[1] is not None:
                qs = qs.filter(month__lt=whole[1])
            if by_month:
                for (m, *rest), row in summed([qs], ("month", *columns), MONTH_METRICS).items():
                    merge({tuple(rest): row}, month=m)
            else:
                merge(summed([qs], columns, MONTH_METRICS))
        for piece_start, piece_end, month in partial:
            qs = _history(f, piece_start, piece_end, scope).filter(stage_q, part)
            merge(summed([qs], columns, HISTORY_METRICS), month=month)
    return out


def summed(parts, keys: tuple = (), metrics: dict | None = None, *, annotate: dict | None = None) -> dict:
    """{group key tuple: {metric: value}} of additive metrics (Count, Sum) over disjoint querysets."""
    out: dict = {}
    for qs in parts:
        qs = qs.order_by()
        if annotate:
            qs = qs.annotate(**annotate)
        # Stage changes are grouped by `+column` on SQLite: otherwise it may walk the column's own index for the
        # grouping order (the whole 3M-row history) instead of the covering index that matches the filter.
        names = list(keys)
        if keys and qs.model is StageChange and connections[qs.db].vendor == "sqlite":
            wrapped = {f"k_{k}": Unindexed(k, output_field=BigIntegerField()) for k in keys if k.endswith("_id") and "__" not in k and k != "opportunity_id"}
            qs = qs.annotate(**wrapped)
            names = [f"k_{k}" if f"k_{k}" in wrapped else k for k in keys]
        rows = qs.values(*names).annotate(**metrics) if keys else [qs.aggregate(**metrics)]
        for row in rows:
            key = tuple(row[k] for k in names)
            acc = out.setdefault(key, dict.fromkeys(metrics))
            for name in metrics:
                if row[name] is not None:
                    acc[name] = row[name] if acc[name] is None else acc[name] + row[name]
    return out


def date_lookups(f: ReportFilters, name: str, *, is_date: bool = False) -> dict:
    if is_date:
        out = {}
        if f.date_from:
            out[f"{name}__gte"] = f.date_from
        if f.date_to:
            out[f"{name}__lte"] = f.date_to
        return out
    start, end = f.datetime_range()
    out = {}
    if start:
        out[f"{name}__gte"] = start
    if end:
        out[f"{name}__lt"] = end
    return out


# -- helpers -------------------------------------------------------------------------------------------
def pipeline_stages(pipeline) -> list[Stage]:
    if pipeline is None:
        return []
    return list(Stage.objects.filter(pipeline=pipeline).order_by("order", "id"))


def pipeline_info(pipeline) -> dict | None:
    return {"id": pipeline.pk, "name": pipeline.name} if pipeline else None


def rate(part, whole) -> float | None:
    """A percentage with one decimal, None when there is nothing to divide by."""
    return round(100.0 * part / whole, 1) if whole else None


def days(seconds) -> float | None:
    return round(float(seconds) / DAY_SECONDS, 1) if seconds is not None else None


def money(value) -> Decimal:
    return (value or ZERO).quantize(Decimal("0.01"))


def weighted_expr():
    return ExpressionWrapper(F("amount") * F("probability") / Value(100), output_field=MONEY)


def labels_for(kind: str, ids) -> dict:
    """Display names for grouped ids (a handful of rows, never the table)."""
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    if kind == "rep":
        return {u.pk: str(u) for u in User.objects.filter(pk__in=ids).only("id", "name", "username")}
    if kind == "team":
        return {d.pk: d.name for d in Department.objects.filter(pk__in=ids).only("id", "name")}
    if kind == "source":
        return {lk.pk: str(lk) for lk in Lookup.objects.filter(pk__in=ids)}
    return {}


# -- funnel --------------------------------------------------------------------------------------------
def funnel(user, f: ReportFilters) -> dict:
    """Open deals per open stage of the pipeline: count, amount and weighted amount."""
    stages = [s for s in pipeline_stages(f.pipeline) if s.kind == StageKind.OPEN]
    rows = {}
    if stages:
        parts = [qs.filter(state=StageKind.OPEN) for qs in opportunity_parts(user, f, date_field="created_at")]
        metrics = {"count": Count("id"), "amount_sum": Sum("amount"), "weighted": Sum(weighted_expr())}
        rows = {key[0]: r for key, r in summed(parts, ("stage_id",), metrics).items()}
    out = []
    for s in stages:
        r = rows.get(s.pk, {})
        out.append({
            "stage_id": s.pk, "name": s.name, "color": s.color, "probability": s.probability,
            "count": r.get("count") or 0, "amount": money(r.get("amount_sum")), "weighted_amount": money(r.get("weighted")),
        })
    return {
        "pipeline": pipeline_info(f.pipeline),
        "stages": out,
        "total": {
            "count": sum(r["count"] for r in out),
            "amount": money(sum((r["amount"] for r in out), ZERO)),
            "weighted_amount": money(sum((r["weighted_amount"] for r in out), ZERO)),
        },
    }


# -- stage-to-stage conversion -------------------------------------------------------------------------
def conversion(user, f: ReportFilters) -> dict:
    """For the deals created in the period (a cohort): how many reached each open stage — entered it or a later one
    (a won deal reached every stage, a lost deal only those before it was lost) — and the share of those that went
    on to the next stage. Counted by each deal's furthest stage (`Opportunity.furthest_stage`, kept from the stage
    history): one GROUP BY over the cohort."""
    stages = pipeline_stages(f.pipeline)
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    won_ids = [s.pk for s in stages if s.kind == StageKind.WON]
    if not open_stages:
        return {"pipeline": pipeline_info(f.pipeline), "stages": [], "won": 0, "deals": 0}
    # Rank of a furthest stage: the open stage's position (1..n), n+1 for won.
    won_rank = len(open_stages) + 1
    rank = {s.pk: i for i, s in enumerate(open_stages, start=1)} | dict.fromkeys(won_ids, won_rank)
    parts = [qs.filter(furthest_stage_id__in=list(rank)) for qs in opportunity_parts(user, f, date_field="created_at")]
    counts = summed(parts, ("furthest_stage_id",), {"n": Count("id")})
    at_rank = [0] * (won_rank + 2)
    for (stage_id,), r in counts.items():
        at_rank[rank[stage_id]] += r["n"] or 0
    reached = [sum(at_rank[i:]) for i in range(1, won_rank + 1)]  # reached[i-1]: deals whose furthest rank >= i
    first = reached[0]
    out = []
    for i, s in enumerate(open_stages):
        nxt = reached[i + 1]
        out.append({
            "stage_id": s.pk, "name": s.name, "reached": reached[i], "next_reached": nxt,
            "rate": rate(nxt, reached[i]), "overall_rate": rate(reached[i], first),
        })
    return {
        "pipeline": pipeline_info(f.pipeline), "stages": out, "won": reached[-1], "deals": first,
        "win_rate_from_first": rate(reached[-1], first),
    }


# -- average days in stage and sales cycle -------------------------------------------------------------
def stage_duration(user, f: ReportFilters) -> dict:
    """Average days deals spent in each stage (moves out of it in the period), and the average sales cycle
    (created → won) of the deals won in the period."""
    stages = [s for s in pipeline_stages(f.pipeline) if s.kind == StageKind.OPEN]
    rows = {}
    if stages:
        sums = stage_move_sums(user, f, ("from_stage_id",), from_stage_ids=[s.pk for s in stages])
        rows = {key[0]: r for key, r in sums.items()}
    out = []
    for s in stages:
        r = rows.get(s.pk, {})
        timed = r.get("timed") or 0
        out.append({
            "stage_id": s.pk, "name": s.name, "moves": timed,
            "avg_days": days(r["seconds"] / timed) if timed else None,
            "time_limit_days": s.time_limit_days,
        })
    won = [qs.filter(state=StageKind.WON, closed_at__isnull=False) for qs in opportunity_parts(user, f, date_field="closed_at")]
    cycle = summed(won, (), {
        "deals": Count("id"),
        "duration": Sum(ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())),
    })[()]
    total = cycle["duration"]
    if isinstance(total, datetime.timedelta):
        total = total.total_seconds()
    elif total is not None:  # SQLite hands back microseconds
        total = float(total) / 1_000_000
    avg = total / cycle["deals"] if cycle["deals"] and total is not None else None
    return {
        "pipeline": pipeline_info(f.pipeline),
        "stages": out,
        "cycle": {"won_deals": cycle["deals"] or 0, "avg_days": days(avg)},
    }


# -- win rate ------------------------------------------------------------------------------------------
WIN_RATE_GROUPS = {"rep": "owner_id", "team": "department_id", "source": "source_id"}


def win_rate(user, f: ReportFilters) -> dict:
    """won / (won + lost) of the deals closed in the period, grouped by rep, team or source."""
    group_by = f.group_by if f.group_by in WIN_RATE_GROUPS else "rep"
    column = WIN_RATE_GROUPS[group_by]
    parts = [qs.filter(state__in=[StageKind.WON, StageKind.LOST]) for qs in opportunity_parts(user, f, date_field="closed_at")]
    metrics = {
        "won": Count("id", filter=Q(state=StageKind.WON)),
        "lost": Count("id", filter=Q(state=StageKind.LOST)),
        "won_amount": Sum("amount", filter=Q(state=StageKind.WON)),
    }
    grouped = summed(parts, (column,), metrics)
    labels = labels_for(group_by, [key[0] for key in grouped])
    rows = [{
        "key": key[0], "label": labels.get(key[0]) or _("(none)"), "won": r["won"] or 0, "lost": r["lost"] or 0,
        "won_amount": money(r["won_amount"]), "win_rate": rate(r["won"] or 0, (r["won"] or 0) + (r["lost"] or 0)),
    } for key, r in grouped.items()]
    rows.sort(key=lambda r: (-r["won"], -r["lost"], r["key"] is None, r["key"] or 0))
    won, lost = sum(r["won"] for r in rows), sum(r["lost"] for r in rows)
    total = {"won_amount": sum((r["won_amount"] for r in rows), ZERO)}
    return {
        "group_by": group_by,
        "rows": rows,
        "total": {"won": won, "lost": lost, "won_amount": money(total["won_amount"]), "win_rate": rate(won, won + lost)},
    }


# -- weighted forecast ---------------------------------------------------------------------------------
def forecast(user, f: ReportFilters) -> dict:
    """Open deals by expected-close month or by forecast category: count, amount, amount × probability.
    By category, the deals won in the period appear as "closed"."""
    group_by = f.group_by if f.group_by in ("month", "category") else "month"
    parts = [qs.filter(state=StageKind.OPEN) for qs in opportunity_parts(user, f, date_field="expected_close")]
    metrics = {"count": Count("id"), "amount_sum": Sum("amount"), "weighted": Sum(weighted_expr())}
    rows = []
    if group_by == "month":
        for (month,), r in summed(parts, ("month",), metrics, annotate={"month": TruncMonth("expected_close")}).items():
            if isinstance(month, datetime.datetime):
                month = month.date()
            rows.append({
                "key": month.strftime("%Y-%m") if month else "", "label": month.strftime("%Y-%m") if month else _("No date"),
                "count": r["count"], "amount": money(r["amount_sum"]), "weighted_amount": money(r["weighted"]),
            })
        rows.sort(key=lambda r: (r["key"] == "", r["key"]))
    else:
        grouped = {key[0]: r for key, r in summed(parts, ("stage__forecast_category",), metrics).items()}
        won_parts = [qs.filter(state=StageKind.WON) for qs in opportunity_parts(user, f, date_field="closed_at")]
        won = summed(won_parts, (), {"count": Count("id"), "amount": Sum("amount")})[()]
        for key, label in ForecastCategory.choices:
            r = grouped.get(key, {})
            count, amount, weighted = r.get("count") or 0, r.get("amount_sum"), r.get("weighted")
            if key == ForecastCategory.CLOSED:
                count += won["count"] or 0
                amount = (amount or ZERO) + (won["amount"] or ZERO)
                weighted = (weighted or ZERO) + (won["amount"] or ZERO)
            rows.append({"key": key, "label": str(label), "count": count, "amount": money(amount), "weighted_amount": money(weighted)})
    return {
        "group_by": group_by,
        "rows": rows,
        "total": {
            "count": sum(r["count"] for r in rows),
            "amount": money(sum((r["amount"] for r in rows), ZERO)),
            "weighted_amount": money(sum((r["weighted_amount"] for r in rows), ZERO)),
        },
    }


# -- stalled deals -------------------------------------------------------------------------------------
def stalled_q(f: ReportFilters, now: datetime.datetime) -> Q | None:
    """Per stage with a time limit: in that stage since before now − limit (None: no stage has a limit)."""
    limits = Stage.objects.filter(kind=StageKind.OPEN, time_limit_days__isnull=False)
    if f.pipeline:
        limits = limits.filter(pipeline=f.pipeline)
    q = Q()
    for stage_id, limit in limits.values_list("id", "time_limit_days"):
        q |= Q(stage_id=stage_id, stage_entered_at__lt=now - datetime.timedelta(days=limit))
    return q or None


def stalled_queryset(user, f: ReportFilters, now: datetime.datetime | None = None):
    """Open deals longer in their stage than the stage's time limit, longest first."""
    q = stalled_q(f, now or timezone.now())
    qs = filtered_opportunities(user, f).filter(state=StageKind.OPEN)
    if q is None:
        return qs.none()
    return qs.filter(q).order_by("stage_entered_at", "id")


def stalled(user, f: ReportFilters, *, page_size: int = STALLED_PAGE_SIZE) -> dict:
    now = timezone.now()
    q = stalled_q(f, now)
    grouped = {}
    if q is not None:
        parts = [qs.filter(q, state=StageKind.OPEN) for qs in opportunity_parts(user, f)]
        grouped = summed(parts, ("stage_id",), {"count": Count("id"), "amount_sum": Sum("amount")})
    qs = stalled_queryset(user, f, now).select_related("customer", "owner", "stage")
    paginator = CappedPaginator(qs, page_size)
    # The per-stage counts are exact and already known: the list's count is their sum (no third pass over the
    # stalled deals just to count them).
    paginator.count = sum(r["count"] or 0 for r in grouped.values())
    paginator.capped = False
    page = paginator.page(f.page)
    results = []
    for o in page.object_list:
        in_stage = (now - o.stage_entered_at).total_seconds() / DAY_SECONDS
        results.append({
            "id": o.pk, "name": o.name, "url": o.get_absolute_url() if _has_url() else "",
            "customer": str(o.customer), "owner": str(o.owner) if o.owner_id else "", "stage": o.stage.name,
            "amount": money(o.amount), "days_in_stage": round(in_stage, 1), "time_limit_days": o.stage.time_limit_days,
            "days_over": round(in_stage - (o.stage.time_limit_days or 0), 1),
            "stage_entered_at": o.stage_entered_at,
        })
    stages = Stage.objects.filter(pk__in=[key[0] for key in grouped]).order_by("pipeline__order", "pipeline_id", "order", "id")
    return {
        "by_stage": [{"stage_id": st.pk, "stage": st.name, "count": grouped[(st.pk,)]["count"],
                      "amount": money(grouped[(st.pk,)]["amount_sum"])} for st in stages],
        "count": paginator.count, "count_capped": False,
        "page": page.number, "page_size": page_size, "has_next": page.has_more, "results": results,
    }


def _has_url() -> bool:
    try:
        reverse("opportunities:opportunity_detail", args=[1])
    except NoReverseMatch:
        return False
    return True


# -- loss reasons --------------------------------------------------------------------------------------
def loss_reasons(user, f: ReportFilters) -> dict:
    """Lost deals in the period by reason, the reasons grouped under their parent (two levels)."""
    parts = [qs.filter(state=StageKind.LOST) for qs in opportunity_parts(user, f, date_field="closed_at")]
    grouped = [{"loss_reason_id": key[0], **r}
               for key, r in summed(parts, ("loss_reason_id",), {"count": Count("id"), "amount_sum": Sum("amount")}).items()]
    reasons = {r.pk: r for r in LossReason.objects.filter(pk__in=[g["loss_reason_id"] for g in grouped if g["loss_reason_id"]])}
    parents = {r.pk: r for r in LossReason.objects.filter(pk__in={r.parent_id for r in reasons.values() if r.parent_id})}
    tops: dict = {}
    for g in grouped:
        reason = reasons.get(g["loss_reason_id"])
        top = parents.get(reason.parent_id) if reason and reason.parent_id else reason
        key = top.pk if top else None
        node = tops.setdefault(key, {
            "reason_id": key, "name": top.name if top else _("No reason given"), "count": 0, "amount": ZERO, "children": [],
        })
        node["count"] += g["count"]
        node["amount"] += g["amount_sum"] or ZERO
        if reason and reason.parent_id:
            node["children"].append({"reason_id": reason.pk, "name": reason.name, "count": g["count"], "amount": money(g["amount_sum"])})
    total = sum(n["count"] for n in tops.values())
    rows = sorted(tops.values(), key=lambda n: (-n["count"], n["name"]))
    for n in rows:
        n["amount"] = money(n["amount"])
        n["share"] = rate(n["count"], total)
        n["children"].sort(key=lambda c: (-c["count"], c["name"]))
        for c in n["children"]:
            c["share"] = rate(c["count"], total)
    return {"rows": rows, "total": {"count": total, "amount": money(sum((n["amount"] for n in rows), ZERO))}}


# -- SOP compliance (流程遵守率) ------------------------------------------------------------------------
SOP_GROUPS = {"rep": "owner_id", "team": "department_id", "month": "month"}


def sop_compliance(user, f: ReportFilters) -> dict:
    """Per rep, team or month: the share of stage moves made with every required checklist item done, and the
    average days over the stage's time limit (moves within the limit count as 0)."""
    group_by = f.group_by if f.group_by in SOP_GROUPS else "rep"
    column = SOP_GROUPS[group_by]
    grouped = stage_move_sums(user, f, (column,))
    if group_by == "month":
        rows = [_sop_row(m.strftime("%Y-%m"), m.strftime("%Y-%m"), r)
                for (m,), r in sorted(grouped.items(), key=lambda item: item[0][0]) if m is not None and r["moves"]]
    else:
        labels = labels_for(group_by, [key[0] for key in grouped])
        rows = [_sop_row(key[0], labels.get(key[0]) or _("(none)"), r) for key, r in grouped.items() if r["moves"]]
        rows.sort(key=lambda r: (-r["moves"], r["key"] is None, r["key"] or 0))
    total = {name: sum(r[name] or 0 for r in grouped.values()) for name in HISTORY_METRICS}
    return {"group_by": group_by, "rows": rows, "total": _sop_row(None, _("Total"), total)}


def _sop_row(key, label, r) -> dict:
    moves = r["moves"] or 0
    return {
        "key": key, "label": str(label), "moves": moves, "complete": r["complete"] or 0,
        "compliance_rate": rate(r["complete"] or 0, moves), "over_limit_moves": r["over_limit"] or 0,
        "avg_days_over_limit": round(float(r["days_over"] or 0) / moves, 2) if moves else 0.0,
    }


def rep_sop_summary(viewer, rep, today: datetime.date | None = None) -> dict:
    """The SOP figures of one rep for the user page: last 90 days, this quarter, and month by month."""
    out = {}
    for key in ("last_90_days", "this_quarter"):
        start, end = period_range(key, today)
        f = ReportFilters(rep=rep, period=key, date_from=start, date_to=end, group_by="month")
        out[key] = sop_compliance(viewer, f)
    return out
