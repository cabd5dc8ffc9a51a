"""The kanban board's queries: column totals in ONE aggregate query, cards a page per column (keyset on id,
served by the (pipeline, stage, -id) index) — a 5,000-deal pipeline never loads its cards to count them."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from yingdan.core.templatetags.yingdan import money_cn

from .models import Stage, StageKind

PAGE = 30
CLOSED_DAYS = 30  # won/lost columns show deals closed in the last 30 days


def stalled_q(stages=None, now=None) -> Q:
    """Open deals longer in their stage than the stage's time limit."""
    now = now or timezone.now()
    stages = stages if stages is not None else Stage.objects.filter(kind=StageKind.OPEN, time_limit_days__isnull=False)
    q = Q(pk__in=[])
    for stage in stages:
        if stage.kind == StageKind.OPEN and stage.time_limit_days:
            q |= Q(stage_id=stage.pk, stage_entered_at__lt=now - datetime.timedelta(days=stage.time_limit_days))
    return q


@dataclass
class Column:
    stage: Stage
    count: int = 0
    amount: Decimal = Decimal("0")
    weighted: Decimal = Decimal("0")
    cards: list = field(default_factory=list)
    cards_html: list = field(default_factory=list)
    has_more: bool = False

    @property
    def last_id(self):
        return self.cards[-1].pk if self.cards else None


def board_queryset(base, pipeline, *, closed_since=None):
    """Deals of the pipeline on the board: all open ones, closed ones only if closed recently."""
    closed_since = closed_since or timezone.now() - datetime.timedelta(days=CLOSED_DAYS)
    return base.filter(pipeline=pipeline).filter(Q(state=StageKind.OPEN) | Q(closed_at__gte=closed_since))


def column_totals(queryset) -> dict[int, dict]:
    weighted = ExpressionWrapper(F("amount") * F("probability") / 100, output_field=DecimalField(max_digits=20, decimal_places=2))
    rows = (queryset.order_by().values("stage_id")
            .annotate(n=Count("pk"), amount_sum=Coalesce(Sum("amount"), Decimal("0"), output_field=DecimalField()),
                      weighted_sum=Coalesce(Sum(weighted), Decimal("0"), output_field=DecimalField())))
    return {r["stage_id"]: {"count": r["n"], "amount": Decimal(r["amount_sum"] or 0), "weighted": Decimal(r["weighted_sum"] or 0)} for r in rows}


def cards(queryset, stage, *, before_id=None, limit=PAGE):
    qs = queryset.filter(stage=stage).select_related("customer", "owner").only(
        "id", "name", "amount", "currency", "expected_close", "probability", "version", "stage_entered_at", "state", "stage_id",
        "customer__id", "customer__name", "owner__id", "owner__name", "owner__username",
    ).order_by("-id")
    if before_id:
        qs = qs.filter(pk__lt=before_id)
    rows = list(qs[: limit + 1])
    return rows[:limit], len(rows) > limit


def build_board(queryset, stages) -> list[Column]:
    totals = column_totals(queryset)
    columns = []
    for stage in stages:
        col = Column(stage=stage, **totals.get(stage.pk, {}))
        if col.count:
            col.cards, col.has_more = cards(queryset, stage)
        columns.append(col)
    return columns


def is_stalled(opp, stage, now=None) -> bool:
    if stage.kind != StageKind.OPEN or not stage.time_limit_days or not opp.stage_entered_at:
        return False
    return (now or timezone.now()) - opp.stage_entered_at > datetime.timedelta(days=stage.time_limit_days)


CARD = (
    '<article class="card kanban-card mb-2{stalled_class}" id="kanban-card-{pk}" data-id="{pk}" data-version="{version}" '
    'data-stage="{stage}" data-move-url="{base}{pk}/move/" data-testid="kanban-card"><div class="card-body p-2 small">'
    '<div class="d-flex align-items-start gap-1"><a class="fw-semibold text-truncate flex-grow-1" href="{base}{pk}/">{name}</a>'
    '{menu}</div>'
    '<div class="text-muted text-truncate">{customer}</div>'
    '<div class="d-flex justify-content-between"><span class="fw-semibold">{amount}</span><span class="text-muted">{close}</span></div>'
    '<div class="d-flex justify-content-between align-items-center"><span class="text-muted">{owner}</span>{stalled}</div>'
    "</div></article>"
)


class CardRenderer:
    """Cards rendered in Python (format_html escapes every value): a board shows a few hundred of them and the
    template engine would spend most of the page's time on them."""

    def __init__(self, movable: bool = True):
        self.base = reverse("opportunities:opportunity_list")
        self.menu = format_html(
            '<button type="button" class="btn btn-sm btn-link p-0 text-muted" data-move-menu title="{0}" aria-label="{0}">'
            '<i class="bi bi-arrow-left-right"></i></button>', _("Move to")) if movable else ""
        self.stalled = format_html('<span class="badge text-bg-warning" data-testid="stalled" title="{}"><i class="bi bi-hourglass-split"></i> {}</span>',
                                   _("Longer in this stage than its time limit"), _("Stalled"))

    def __call__(self, card) -> str:
        stalled = getattr(card, "stalled", False)
        return format_html(
            CARD, pk=card.pk, version=card.version, stage=card.stage_id, base=self.base, name=card.name,
            customer=card.customer.name if card.customer_id else "", amount=money_cn(card.amount),
            close=card.expected_close.isoformat() if card.expected_close else "", owner=card.owner.name if card.owner_id else "",
            stalled=self.stalled if stalled else "", stalled_class=" border-warning" if stalled else "", menu=self.menu,
        )
