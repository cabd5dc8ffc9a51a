"""The filters every report takes: pipeline, team (a department and its sub-departments), rep, period.

`ReportFilterForm` validates the query string of a page or an API call; `ReportFilters` is what the query
functions receive. Periods are presets (this month/quarter/year, last 30/90 days, all) or a date range.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yingdan.core.choices import DataScope
from yingdan.core.models.base import department_ids_for
from yingdan.core.permissions import get_permissions
from yingdan.opportunities.models import Pipeline
from yingdan.org.models import Department, User

PERIOD_CHOICES = [
    ("this_month", _("This month")),
    ("this_quarter", _("This quarter")),
    ("this_year", _("This year")),
    ("last_30_days", _("Last 30 days")),
    ("last_90_days", _("Last 90 days")),
    ("all", _("All time")),
    ("custom", _("Custom range")),
]
MIN_DATE = datetime.date(2000, 1, 1)
MAX_DATE = datetime.date(2100, 12, 31)


def period_range(preset: str, today: datetime.date | None = None) -> tuple[datetime.date | None, datetime.date | None]:
    """Inclusive (first day, last day) of a preset; (None, None) for all time."""
    today = today or timezone.localdate()
    if preset == "this_month":
        start = today.replace(day=1)
        end = (start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    elif preset == "this_quarter":
        start = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
        end = (start + datetime.timedelta(days=95)).replace(day=1) - datetime.timedelta(days=1)
    elif preset == "this_year":
        start, end = today.replace(month=1, day=1), today.replace(month=12, day=31)
    elif preset == "last_30_days":
        start, end = today - datetime.timedelta(days=29), today
    elif preset == "last_90_days":
        start, end = today - datetime.timedelta(days=89), today
    else:
        return None, None
    return start, end


@dataclass
class ReportFilters:
    pipeline: Pipeline | None = None
    team: Department | None = None
    rep: User | None = None
    period: str = "all"
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    group_by: str = ""
    page: int = 1
    team_ids: list[int] = field(default_factory=list)

    def datetime_range(self) -> tuple[datetime.datetime | None, datetime.datetime | None]:
        """[start, end) as aware datetimes in the local time zone (end = the day after date_to)."""
        tz = timezone.get_current_timezone()
        start = datetime.datetime.combine(self.date_from, datetime.time.min, tzinfo=tz) if self.date_from else None
        end = (
            datetime.datetime.combine(self.date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
            if self.date_to else None
        )
        return start, end

    def as_params(self) -> dict:
        """The filters as query-string values (for links, exports and the API echo)."""
        out = {"period": self.period}
        if self.pipeline:
            out["pipeline"] = self.pipeline.pk
        if self.team:
            out["team"] = self.team.pk
        if self.rep:
            out["rep"] = self.rep.pk
        if self.period == "custom":
            out["date_from"] = self.date_from.isoformat() if self.date_from else ""
            out["date_to"] = self.date_to.isoformat() if self.date_to else ""
        if self.group_by:
            out["group_by"] = self.group_by
        return out


def rep_queryset(user):
    """The reps a user may pick: those inside their reports scope (self only for 'own')."""
    perms = get_permissions(user)
    scope = perms.scope("reports")
    qs = User.objects.filter(is_active=True).select_related("department").order_by("department__path", "name", "id")
    if scope == DataScope.ALL:
        return qs
    depts = department_ids_for(user, scope)
    if not depts:
        return qs.filter(pk=user.pk)
    return qs.filter(department_id__in=depts) | User.objects.filter(pk=user.pk)


class ReportFilterForm(forms.Form):
    pipeline = forms.ModelChoiceField(
        label=_("Pipeline"), queryset=Pipeline.objects.filter(is_active=True).order_by("order", "id"), required=False,
        empty_label=_("All pipelines"),
    )
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Department.objects.order_by("path"), required=False, empty_label=_("All teams"),
    )
    rep = forms.ModelChoiceField(label=_("Rep"), queryset=User.objects.none(), required=False, empty_label=_("All reps"))
    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_CHOICES, required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    group_by = forms.ChoiceField(label=_("Group by"), choices=[], required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000, widget=forms.HiddenInput)

    def __init__(self, data=None, *, user, report):
        if data is not None:
            data = data.copy()
            if not data.get("period") and not (data.get("date_from") or data.get("date_to")):
                data["period"] = report.default_period
            if report.pipeline_filter == "required" and not data.get("pipeline"):
                pipeline = default_pipeline()
                data["pipeline"] = pipeline.pk if pipeline else ""
        super().__init__(data)
        if report.pipeline_filter == "required":
            self.fields["pipeline"].empty_label = None
        self.user = user
        self.report = report
        self.fields["rep"].queryset = rep_queryset(user)
        if not report.needs_period:
            del self.fields["period"], self.fields["date_from"], self.fields["date_to"]
        if report.group_by:
            self.fields["group_by"].choices = list(report.group_by)
        else:
            del self.fields["group_by"]
        for name, f in self.fields.items():
            css = "form-select form-select-sm" if isinstance(f.widget, forms.Select) else "form-control form-control-sm"
            f.widget.attrs.setdefault("class", css)
            f.widget.attrs.setdefault("data-testid", f"filter-{name}")

    def clean(self):
        data = super().clean()
        period = data.get("period") or getattr(self.report, "default_period", "all")
        if "period" in self.fields:
            start, end = data.get("date_from"), data.get("date_to")
            if start or end:
                period = "custom"
            if period == "custom":
                for name in ("date_from", "date_to"):
                    value = data.get(name)
                    if value and not (MIN_DATE <= value <= MAX_DATE):
                        self.add_error(name, _("Enter a date between 2000 and 2100."))
                if start and end and start > end:
                    self.add_error("date_to", _("The end date is before the start date."))
        data["period"] = period
        return data

    def filters(self) -> ReportFilters:
        """The validated filters (call after is_valid())."""
        data = self.cleaned_data
        f = ReportFilters(
            pipeline=data.get("pipeline"), team=data.get("team"), rep=data.get("rep"),
            group_by=data.get("group_by") or (self.report.group_by[0][0] if self.report.group_by else ""),
            page=data.get("page") or 1,
        )
        if "period" in self.fields:
            f.period = data.get("period") or self.report.default_period
            if f.period == "custom":
                f.date_from, f.date_to = data.get("date_from"), data.get("date_to")
            else:
                f.date_from, f.date_to = period_range(f.period)
        if f.team:
            f.team_ids = f.team.descendant_ids(include_self=True)
        if f.pipeline is None and self.report.pipeline_filter == "required":
            f.pipeline = default_pipeline()
        return f


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(is_active=True).order_by("-is_default", "order", "id").first()
