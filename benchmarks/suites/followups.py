"""Customer 360 page, the timeline's second page and the due/overdue lists, as a regional sales manager."""

from __future__ import annotations

from django.urls import reverse

DETAIL_MS, TIMELINE_MS, DUE_MS, GROUPS_MS = 150, 100, 150, 300


def run(ctx) -> dict:
    from yingdan.core import timeline
    from yingdan.customers.models import Customer
    from yingdan.followups.models import FollowUp

    rng = ctx.rng
    # Customers with follow-ups, from the newest follow-ups in the user's scope (an index walk, not a scan).
    ids = list(
        FollowUp.objects.filter(customer__isnull=False).order_by("-id").values_list("customer_id", flat=True)[:3000]
    )
    visible = set(Customer.objects.visible_to(ctx.user).filter(pk__in=ids).values_list("pk", flat=True))
    sample = [pk for pk in dict.fromkeys(ids) if pk in visible][:500]
    if not sample:
        sample = list(Customer.objects.visible_to(ctx.user).order_by("-id").values_list("pk", flat=True)[:500])
    if not sample:
        raise RuntimeError("The benchmark user sees no customers.")
    picks = [rng.choice(sample) for _ in range(50)]
    ctx.log(f"followups: {len(sample)} customers with follow-ups in scope")

    results = {}
    results |= ctx.time_http("customer_360", lambda i: reverse("customers:customer_detail", args=[picks[i % len(picks)]]), DETAIL_MS)

    more_urls = []
    for pk in sample[:200]:
        page = timeline.page(Customer.objects.get(pk=pk), ctx.user)
        if page.more_url:
            more_urls.append(page.more_url)
        if len(more_urls) >= 30:
            break
    if more_urls:
        results |= ctx.time_http("timeline_page_2", lambda i: more_urls[i % len(more_urls)], TIMELINE_MS, {"HX-Request": "true"})
    else:
        ctx.log("followups: no customer has a second timeline page; timeline_page_2 skipped")

    due = reverse("followups:due_list")
    results |= ctx.time_http("due_today_manager", lambda i: due, DUE_MS)
    results |= ctx.time_http("overdue_manager", lambda i: f"{due}?when=overdue", DUE_MS)
    # the per-rep panel, fetched by the page after it is shown (counts of the whole region)
    results |= ctx.time_http("due_per_rep_panel", lambda i: f"{due}?when=overdue&_groups=1", GROUPS_MS, {"HX-Request": "true"})
    results |= ctx.time_http("overdue_manager_page_20", lambda i: f"{due}?when=overdue&page=20", DUE_MS)
    results |= ctx.time_http("followup_list", lambda i: reverse("followups:followup_list"), DUE_MS)
    return results
