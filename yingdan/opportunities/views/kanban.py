"""The kanban board: columns = stages with count, amount and weighted amount (one aggregate query), a page of
cards per column (more on scroll), drag and drop through the same gate as everywhere else."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib.auth import get_user_model
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yingdan.core.choices import Action
from yingdan.core.forms import style_widgets
from yingdan.core.permissions import get_permissions
from yingdan.core.templatetags.yingdan import money_cn
from yingdan.core.views import generic
from yingdan.org.models import Department

from .. import kanban, services
from ..filtersets import close_month_filter
from ..models import Opportunity, Pipeline, Stage


class KanbanFilterForm(forms.Form):
    owner = forms.ModelChoiceField(get_user_model().objects.filter(is_active=True).order_by("name"), label=_("Owner"), required=False)
    department = forms.ModelChoiceField(Department.objects.order_by("path"), label=_("Team"), required=False)
    close_month = forms.CharField(label=_("Close month"), required=False, widget=forms.TextInput(attrs={"type": "month"}))
    amount_min = forms.DecimalField(label=_("Amount from"), required=False, min_value=Decimal(0), max_digits=14, decimal_places=2)
    amount_max = forms.DecimalField(label=_("Amount to"), required=False, min_value=Decimal(0), max_digits=14, decimal_places=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)
        for field in self.fields.values():
            css = field.widget.attrs.get("class", "")
            field.widget.attrs["class"] = f"{css} {'form-select-sm' if 'form-select' in css else 'form-control-sm'}"

    def apply(self, queryset):
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data.get("owner"):
            queryset = queryset.filter(owner=data["owner"])
        if data.get("department"):
            queryset = queryset.filter(department_id__in=data["department"].descendant_ids(include_self=True))
        if data.get("close_month"):
            queryset = close_month_filter(queryset, "close_month", data["close_month"])
        if data.get("amount_min") is not None:
            queryset = queryset.filter(amount__gte=data["amount_min"])
        if data.get("amount_max") is not None:
            queryset = queryset.filter(amount__lte=data["amount_max"])
        return queryset


class KanbanMixin(generic.ObjectPermissionMixin):
    model = Opportunity

    def pipelines(self):
        return list(Pipeline.objects.filter(is_active=True).order_by("order", "id"))

    def board(self, pipeline):
        form = KanbanFilterForm(self.request.GET or None)
        base = self.scoped_queryset()
        queryset = kanban.board_queryset(form.apply(base), pipeline)
        return form, queryset

    def stages(self, pipeline):
        return list(Stage.objects.filter(pipeline=pipeline, is_active=True).order_by("order", "id"))

    def filter_query(self) -> str:
        params = self.request.GET.copy()
        for key in ("pipeline", "before", "stage"):
            params.pop(key, None)
        return params.urlencode()


def render_cards(cards, stage, now, renderer=None) -> list[str]:
    renderer = renderer or kanban.CardRenderer()
    out = []
    for card in cards:
        card.stalled = kanban.is_stalled(card, stage, now)
        out.append(renderer(card))
    return out


class KanbanView(KanbanMixin, generic.View):
    template_name = "opportunities/kanban.html"

    def get(self, request):
        self.check_module_permission()
        pipelines = self.pipelines()
        pipeline = None
        wanted = request.GET.get("pipeline", "")
        if wanted.isdigit():
            pipeline = next((p for p in pipelines if p.pk == int(wanted)), None)
        if pipeline is None:
            mine = services.pipelines_for(request.user)
            pipeline = next((p for p in pipelines if mine and p.pk == mine[0].pk), None) or (pipelines[0] if pipelines else None)
        context = {**self.model_context(), "pipelines": pipelines, "pipeline": pipeline, "columns": [], "filter_query": self.filter_query()}
        if pipeline is not None:
            form, queryset = self.board(pipeline)
            stages = self.stages(pipeline)
            columns = kanban.build_board(queryset, stages)
            now = timezone.now()
            renderer = kanban.CardRenderer(movable=self.has(Action.EDIT))
            for column in columns:
                column.cards_html = render_cards(column.cards, column.stage, now, renderer)
            context.update({"form": form, "columns": columns,
                            "owner_choices": list(get_user_model().objects.filter(is_active=True).order_by("name").values_list("pk", "name")),
                            "department_choices": list(Department.objects.order_by("path").values_list("pk", "name")), "stages": stages, "closed_days": kanban.CLOSED_DAYS,
                            "can_move": self.has(Action.EDIT), "can_add": self.has(Action.CREATE)})
        else:
            context["form"] = KanbanFilterForm()
        return render(request, self.template_name, context)

    def has(self, action):
        return get_permissions(self.request.user).has("opportunities", action)


class KanbanColumnView(KanbanMixin, generic.View):
    """The next page of a column's cards (loaded when the end of the column scrolls into view)."""

    def get(self, request, pipeline, stage):
        self.check_module_permission()
        pipeline = get_object_or_404(Pipeline, pk=pipeline)
        stage = get_object_or_404(Stage, pk=stage, pipeline=pipeline)
        _form, queryset = self.board(pipeline)
        before = request.GET.get("before", "")
        cards, has_more = kanban.cards(queryset, stage, before_id=int(before) if before.isdigit() else None)
        return render(request, "opportunities/_kanban_cards.html", {
            "cards_html": render_cards(cards, stage, timezone.now(), kanban.CardRenderer(movable=get_permissions(request.user).has("opportunities", Action.EDIT))), "has_more": has_more, "stage": stage, "pipeline": pipeline, "stages": self.stages(pipeline),
            "filter_query": self.filter_query(), "last_id": cards[-1].pk if cards else None,
        })


class KanbanSummaryView(KanbanMixin, generic.View):
    """Column totals as JSON (refreshed after a move)."""

    def get(self, request, pipeline):
        self.check_module_permission()
        pipeline = get_object_or_404(Pipeline, pk=pipeline)
        _form, queryset = self.board(pipeline)
        totals = kanban.column_totals(queryset)
        out = {}
        for stage in self.stages(pipeline):
            t = totals.get(stage.pk, {"count": 0, "amount": Decimal(0), "weighted": Decimal(0)})
            try:
                out[stage.pk] = {"count": t["count"], "amount": money_cn(t["amount"]), "weighted": money_cn(t["weighted"])}
            except InvalidOperation:  # pragma: no cover
                out[stage.pk] = {"count": t["count"], "amount": "", "weighted": ""}
        return JsonResponse({"columns": out})
