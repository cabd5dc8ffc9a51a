"""Reports at 500,000 opportunities and 3,000,000 stage changes, as a regional sales manager (department and
sub-departments) and as a director (all data): every report page and API with its defaults, and with a pipeline
filter. Target: under 500 ms on PostgreSQL, under 1 s on SQLite (the issue's figures)."""

from __future__ import annotations

from django.urls import reverse

PG_MS, SQLITE_MS = 500, 1000
PAGE_REPORTS = ["funnel", "conversion", "stage-duration", "win-rate", "forecast", "stalled", "loss-reasons", "sop-compliance"]


def seed(ctx) -> None:
    """A head of sales (director role: the whole company) to measure the widest scope; kept for later runs."""
    from yingdan.org.models import Role, User

    if not User.objects.filter(is_active=True, roles__code="director").exists():
        user = User.objects.create(username="bench_director", name="基准销售总监")
        user.roles.set([Role.objects.get(code="director")])


def run(ctx) -> dict:
    from yingdan.opportunities.models import Opportunity, Pipeline
    from yingdan.org.models import User

    target = PG_MS if ctx.vendor == "postgresql" else SQLITE_MS
    pipelines = list(Pipeline.objects.order_by("order", "id"))
    if not pipelines or not Opportunity.objects.exists():
        raise RuntimeError("No opportunities seeded: run the scale seeding first.")
    # the busiest pipeline (the default one in the bench data)
    pipeline = max(pipelines, key=lambda p: Opportunity.objects.filter(pipeline=p).order_by()[:200_000].count())
    ctx.log(f"reports: pipeline filter {pipeline.name} (#{pipeline.pk})")
    results = {}
    results |= ctx.time_http("reports_index", lambda i: reverse("reports:index"), target)
    for key in PAGE_REPORTS:
        url = reverse("reports:report", args=[key])
        slug = key.replace("-", "_")
        results |= ctx.time_http(f"page_{slug}", lambda i, url=url: url, target)
        results |= ctx.time_http(f"page_{slug}_pipeline", lambda i, url=url: f"{url}?pipeline={pipeline.pk}", target)
        results |= ctx.time_http(f"api_{slug}_pipeline", lambda i, key=key: f"/api/v1/reports/{key}/?pipeline={pipeline.pk}", target)
    # a few heavier variants: grouping alternatives, the last 90 days, a deep stalled page
    api = "/api/v1/reports"
    results |= ctx.time_http("api_win_rate_by_source", lambda i: f"{api}/win-rate/?group_by=source", target)
    results |= ctx.time_http("api_forecast_by_category", lambda i: f"{api}/forecast/?group_by=category", target)
    results |= ctx.time_http("api_sop_by_month_90d", lambda i: f"{api}/sop-compliance/?group_by=month&period=last_90_days", target)
    results |= ctx.time_http("api_stalled_page_50", lambda i: f"{api}/stalled/?page=50", target)
    results |= ctx.time_http("api_conversion_all_time", lambda i: f"{api}/conversion/?pipeline={pipeline.pk}&period=all", target)
    # a director sees everything: the widest scope
    director = User.objects.filter(is_active=True, roles__code="director").order_by("id").first()
    if director is not None:
        client = ctx.client
        ctx.client = ctx.client_for(director)
        try:
            for key in PAGE_REPORTS:
                url = reverse("reports:report", args=[key])
                results |= ctx.time_http(f"director_page_{key.replace('-', '_')}", lambda i, url=url: url, target)
            for key in ("funnel", "conversion", "win-rate", "sop-compliance", "stalled"):
                results |= ctx.time_http(f"director_api_{key.replace('-', '_')}",
                                         lambda i, key=key: f"{api}/{key}/?pipeline={pipeline.pk}", target)
        finally:
            ctx.client = client
    return results
