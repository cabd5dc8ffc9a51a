"""Opportunities: the kanban of the "Kanban 5000" pipeline (5,000 open deals; totals from one aggregate query,
a page of cards per column), its summary refresh, a stage move through the gate (the service), and the
opportunity list (first page, a deep page, filters) and detail page.

The stage move alternates one deal between two adjacent open stages (forward through the gate with its
checklist done, then back), so the board stays as seeded; the few history rows it adds are deleted after.
"""

from __future__ import annotations

from django.urls import reverse

KANBAN_MS, SUMMARY_MS, MOVE_MS, LIST_MS, DETAIL_MS = 300, 150, 50, 100, 100


def run(ctx) -> dict:
    from yingdan.demo.sales import KANBAN_PIPELINE_NAME
    from yingdan.opportunities import rollup, services
    from yingdan.opportunities.models import Opportunity, Pipeline, Stage, StageChange, StageKind

    pipeline = Pipeline.objects.filter(name=KANBAN_PIPELINE_NAME).first()
    if pipeline is None:
        ctx.log(f"no “{KANBAN_PIPELINE_NAME}” pipeline: suite skipped")
        return {}
    visible = Opportunity.objects.visible_to(ctx.user)
    open_count = visible.filter(pipeline=pipeline, state=StageKind.OPEN).count()
    ctx.log(f"{KANBAN_PIPELINE_NAME}: {open_count:,} open deals visible to {ctx.user}")

    results = {}
    kanban_url = f"{reverse('opportunities:kanban')}?pipeline={pipeline.pk}"
    results |= ctx.time_http("kanban_5000_open", lambda i: kanban_url, KANBAN_MS)
    owners = list(visible.filter(pipeline=pipeline, state=StageKind.OPEN).values_list("owner_id", flat=True)[:50])
    if owners:
        results |= ctx.time_http("kanban_5000_owner_filter", lambda i: f"{kanban_url}&owner={owners[i % len(owners)]}", KANBAN_MS)
    results |= ctx.time_http("kanban_5000_amount_filter", lambda i: f"{kanban_url}&amount_min=100000&amount_max=5000000", KANBAN_MS)
    summary_url = reverse("opportunities:kanban_summary", args=[pipeline.pk])
    results |= ctx.time_http("kanban_summary", lambda i: summary_url, SUMMARY_MS)
    stages = list(Stage.objects.filter(pipeline=pipeline, is_active=True, kind=StageKind.OPEN).order_by("order", "id"))
    if len(stages) >= 2:
        column_url = reverse("opportunities:kanban_column", args=[pipeline.pk, stages[0].pk])
        last = visible.filter(pipeline=pipeline, stage=stages[0]).order_by("-id").values_list("id", flat=True)[29:30]
        if last:
            results |= ctx.time_http("kanban_column_next_page", lambda i: f"{column_url}?before={last[0]}", SUMMARY_MS)

    # Stage move through the gate: one deal, first open stage ↔ second, back and forth.
    if len(stages) >= 2:
        first, second = stages[0], stages[1]
        opp = (visible.filter(pipeline=pipeline, stage=first, amount__gt=0, expected_close__isnull=False)
               .order_by("-id").first())
        if opp is not None:
            for row in services.checklist_status(opp):
                if not row["complete"] and not row["item"].needs_attachment:
                    services.complete_checklist_item(ctx.user, opp, row["item"], note="bench")
            start_id = StageChange.objects.order_by("-id").values_list("id", flat=True).first() or 0

            def move(i):
                current = Opportunity.objects.only("stage_id").get(pk=opp.pk)
                target = second if current.stage_id == first.pk else first
                services.move_opportunity(ctx.user, current, target)

            try:
                results |= ctx.time_call("stage_move", move, MOVE_MS)
            finally:
                current = Opportunity.objects.get(pk=opp.pk)
                if current.stage_id != first.pk:
                    services.move_opportunity(ctx.user, current, first)
                # the history rows the bench wrote go again (their monthly sums with them, by signal)
                StageChange.objects.filter(opportunity_id=opp.pk, id__gt=start_id).delete()
                rollup.recompute_furthest([opp.pk])
        else:
            ctx.log("no deal in the first stage for the move case")

    list_url = reverse("opportunities:opportunity_list")
    results |= ctx.time_http("opportunity_list_first_page", lambda i: list_url, LIST_MS)
    results |= ctx.time_http("opportunity_list_page_100", lambda i: f"{list_url}?page=100", LIST_MS)
    results |= ctx.time_http("opportunity_list_pipeline_open", lambda i: f"{list_url}?pipeline={pipeline.pk}&state=open", LIST_MS)
    results |= ctx.time_http("opportunity_list_amount_sorted", lambda i: f"{list_url}?amount_min=1000000&sort=-amount", LIST_MS)
    ids = list(visible.filter(pipeline=pipeline).order_by("-id").values_list("id", flat=True)[:20])
    if ids:
        results |= ctx.time_http("opportunity_detail", lambda i: reverse("opportunities:opportunity_detail", args=[ids[i % len(ids)]]), DETAIL_MS)
    return results
