"""The catalogue of reports: for each, its query, which filters it takes, how its table and chart look.

A report's table (`columns`, `rows`) is what the page shows under the chart and what "export data" writes;
its chart is a small spec that static/yingdan/js/reports.js turns into an ECharts option.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import queries


@dataclass(frozen=True)
class Column:
    key: str
    label: object
    kind: str = "text"  # text | int | money | pct | days


@dataclass(frozen=True)
class Report:
    key: str            # URL slug and API path
    title: object
    description: object
    icon: str
    query: object       # (user, filters) -> dict
    table: object       # data -> (columns, rows)
    chart: object       # data -> chart spec
    group_by: tuple = ()
    pipeline_filter: str = "optional"  # "required": defaults to the default pipeline
    needs_period: bool = True
    default_period: str = "this_year"
    period_help: object = ""


def num(value):
    """Decimals as floats for the chart (the table and the API keep exact decimals)."""
    if isinstance(value, Decimal):
        return float(value)
    return value


# -- tables --------------------------------------------------------------------------------------------
def funnel_table(data):
    cols = [Column("name", _("Stage")), Column("probability", _("Win probability (%)"), "int"), Column("count", _("Deals"), "int"),
            Column("amount", _("Amount"), "money"), Column("weighted_amount", _("Weighted amount"), "money")]
    rows = [dict(s) for s in data["stages"]]
    total = {"name": _("Total"), "probability": None, **data["total"]}
    return cols, rows, total


def conversion_table(data):
    cols = [Column("name", _("Stage")), Column("reached", _("Deals that reached it"), "int"),
            Column("next_reached", _("Went on to the next stage"), "int"), Column("rate", _("Conversion to next stage"), "pct"),
            Column("overall_rate", _("Share of all deals"), "pct")]
    return cols, data["stages"], {"name": _("Won"), "reached": data["won"], "overall_rate": data.get("win_rate_from_first")}


def duration_table(data):
    cols = [Column("name", _("Stage")), Column("moves", _("Moves out of the stage"), "int"),
            Column("avg_days", _("Average days in stage"), "days"), Column("time_limit_days", _("Time limit (days)"), "int")]
    total = {"name": _("Sales cycle (created → won)"), "moves": data["cycle"]["won_deals"], "avg_days": data["cycle"]["avg_days"]}
    return cols, data["stages"], total


def grouped_label(group_by):
    return {"rep": _("Rep"), "team": _("Team"), "source": _("Source"), "month": _("Month"), "category": _("Forecast category")}.get(
        group_by, _("Group"))


def win_rate_table(data):
    cols = [Column("label", grouped_label(data["group_by"])), Column("won", _("Won"), "int"), Column("lost", _("Lost"), "int"),
            Column("win_rate", _("Win rate"), "pct"), Column("won_amount", _("Won amount"), "money")]
    return cols, data["rows"], {"label": _("Total"), **data["total"]}


def forecast_table(data):
    cols = [Column("label", grouped_label(data["group_by"])), Column("count", _("Deals"), "int"), Column("amount", _("Amount"), "money"),
            Column("weighted_amount", _("Weighted amount"), "money")]
    return cols, data["rows"], {"label": _("Total"), **data["total"]}


def stalled_table(data):
    cols = [Column("name", _("Opportunity")), Column("customer", _("Customer")), Column("owner", _("Owner")),
            Column("stage", _("Stage")), Column("amount", _("Amount"), "money"), Column("days_in_stage", _("Days in stage"), "days"),
            Column("time_limit_days", _("Time limit (days)"), "int"), Column("days_over", _("Days over the limit"), "days")]
    return cols, data["results"], None


def loss_table(data):
    cols = [Column("name", _("Loss reason")), Column("count", _("Lost deals"), "int"), Column("share", _("Share"), "pct"),
            Column("amount", _("Lost amount"), "money")]
    rows = []
    for top in data["rows"]:
        rows.append({**top, "level": 1})
        for child in top["children"]:
            rows.append({**child, "name": f"{top['name']} / {child['name']}", "level": 2})
    return cols, rows, {"name": _("Total"), **data["total"]}


def sop_table(data):
    cols = [Column("label", grouped_label(data["group_by"])), Column("moves", _("Stage moves"), "int"),
            Column("complete", _("With checklist complete"), "int"), Column("compliance_rate", _("SOP compliance"), "pct"),
            Column("over_limit_moves", _("Moves over the time limit"), "int"),
            Column("avg_days_over_limit", _("Average days over the limit"), "days")]
    return cols, data["rows"], data["total"]


# -- charts --------------------------------------------------------------------------------------------
def funnel_chart(data):
    return {
        "type": "funnel", "seriesName": str(_("Deals")),
        "data": [{"name": s["name"], "value": s["count"], "amount": num(s["amount"])} for s in data["stages"]],
    }


def bars(categories, series, *, percent_axis=False, horizontal=False):
    return {"type": "bar", "categories": categories, "series": series, "percentAxis": percent_axis, "horizontal": horizontal}


def conversion_chart(data):
    names = [s["name"] for s in data["stages"]]
    return bars(names, [
        {"name": str(_("Deals that reached it")), "type": "bar", "data": [s["reached"] for s in data["stages"]]},
        {"name": str(_("Conversion to next stage")), "type": "line", "yAxisIndex": 1, "unit": "%",
         "data": [s["rate"] for s in data["stages"]]},
    ], percent_axis=True)


def duration_chart(data):
    return bars([s["name"] for s in data["stages"]], [
        {"name": str(_("Average days in stage")), "type": "bar", "data": [s["avg_days"] for s in data["stages"]]},
        {"name": str(_("Time limit (days)")), "type": "line", "data": [s["time_limit_days"] for s in data["stages"]]},
    ])


def win_rate_chart(data):
    rows = data["rows"][:30]
    return bars([r["label"] for r in rows], [
        {"name": str(_("Won")), "type": "bar", "stack": "deals", "color": "#16a34a", "data": [r["won"] for r in rows]},
        {"name": str(_("Lost")), "type": "bar", "stack": "deals", "color": "#dc2626", "data": [r["lost"] for r in rows]},
        {"name": str(_("Win rate")), "type": "line", "yAxisIndex": 1, "unit": "%", "color": "#2563eb",
         "data": [r["win_rate"] for r in rows]},
    ], percent_axis=True)


def forecast_chart(data):
    rows = data["rows"]
    return bars([r["label"] for r in rows], [
        {"name": str(_("Amount")), "type": "bar", "data": [num(r["amount"]) for r in rows]},
        {"name": str(_("Weighted amount")), "type": "bar", "data": [num(r["weighted_amount"]) for r in rows]},
    ])


def stalled_chart(data):
    rows = data.get("by_stage", [])
    return bars([r["stage"] for r in rows], [
        {"name": str(_("Stalled deals")), "type": "bar", "data": [r["count"] for r in rows]},
    ])


def loss_chart(data):
    inner = [{"name": r["name"], "value": r["count"]} for r in data["rows"]]
    outer = []
    for r in data["rows"]:
        children = r["children"]
        rest = r["count"] - sum(c["count"] for c in children)
        outer += [{"name": f"{r['name']} / {c['name']}", "value": c["count"]} for c in children]
        if rest:
            outer.append({"name": r["name"], "value": rest})
    return {"type": "pie", "seriesName": str(_("Lost deals")), "inner": inner, "outer": outer}


def sop_chart(data):
    rows = data["rows"][:30]
    return bars([r["label"] for r in rows], [
        {"name": str(_("SOP compliance")), "type": "bar", "yAxisIndex": 1, "unit": "%", "data": [r["compliance_rate"] for r in rows]},
        {"name": str(_("Average days over the limit")), "type": "line", "data": [r["avg_days_over_limit"] for r in rows]},
    ], percent_axis=True)


REPORTS: dict[str, Report] = {r.key: r for r in [
    Report("funnel", gettext_lazy("Sales funnel"), gettext_lazy("Open deals and their amount in each stage of a pipeline."),
           "funnel", queries.funnel, funnel_table, funnel_chart, pipeline_filter="required", default_period="all",
           period_help=gettext_lazy("Deals created in the period.")),
    Report("conversion", gettext_lazy("Stage conversion"),
           gettext_lazy("Of the deals that reached a stage, the share that went on to the next one."),
           "arrow-down-right-circle", queries.conversion, conversion_table, conversion_chart, pipeline_filter="required",
           period_help=gettext_lazy("Deals created in the period.")),
    Report("stage-duration", gettext_lazy("Days in stage and sales cycle"),
           gettext_lazy("Average days deals spend in each stage, and from creation to a won deal."),
           "hourglass-split", queries.stage_duration, duration_table, duration_chart, pipeline_filter="required",
           period_help=gettext_lazy("Moves and wins in the period.")),
    Report("win-rate", gettext_lazy("Win rate"), gettext_lazy("Won ÷ (won + lost) by rep, team or source."), "trophy",
           queries.win_rate, win_rate_table, win_rate_chart,
           group_by=(("rep", gettext_lazy("Rep")), ("team", gettext_lazy("Team")), ("source", gettext_lazy("Source"))),
           period_help=gettext_lazy("Deals closed in the period.")),
    Report("forecast", gettext_lazy("Weighted forecast"),
           gettext_lazy("Open deals × win probability, by expected close month or forecast category."), "graph-up-arrow",
           queries.forecast, forecast_table, forecast_chart,
           group_by=(("month", gettext_lazy("Month")), ("category", gettext_lazy("Forecast category"))), default_period="all",
           period_help=gettext_lazy("Expected close date in the period.")),
    Report("stalled", gettext_lazy("Stalled deals"), gettext_lazy("Open deals longer in their stage than its time limit."),
           "exclamation-octagon", queries.stalled, stalled_table, stalled_chart, needs_period=False, default_period="all"),
    Report("loss-reasons", gettext_lazy("Loss reasons"), gettext_lazy("Why deals were lost, by reason and sub-reason."),
           "x-octagon", queries.loss_reasons, loss_table, loss_chart, period_help=gettext_lazy("Deals lost in the period.")),
    Report("sop-compliance", gettext_lazy("SOP compliance"),
           gettext_lazy("Share of stage moves with every required checklist item done, and days over the stage limit."),
           "clipboard2-check", queries.sop_compliance, sop_table, sop_chart,
           group_by=(("rep", gettext_lazy("Rep")), ("team", gettext_lazy("Team")), ("month", gettext_lazy("Month"))),
           period_help=gettext_lazy("Stage moves in the period.")),
]}
