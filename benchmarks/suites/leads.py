"""Leads: the list (first page, a deep page, a status filter), the list's `q` search over name/company
fragments, pinyin initials and mobile prefixes (index-backed), the lead page, fair assignment (least load
counted in the database over all open leads and customers of a team, and round robin), and a conversion.

Writes (assignment pointer, conversion) run inside transactions that are rolled back: nothing stays.
"""

from __future__ import annotations

from django.urls import reverse

LIST_MS, SEARCH_MS, DETAIL_MS, PICK_MS, CONVERT_MS = 100, 150, 50, 50, 100


class _Rollback(Exception):
    pass


def _rolled_back(fn):
    from django.db import transaction

    def run(i):
        try:
            with transaction.atomic():
                fn(i)
                raise _Rollback
        except _Rollback:
            pass

    return run


def run(ctx) -> dict:
    from yingdan.core.models import Lookup
    from yingdan.leads import services
    from yingdan.leads.models import AssignmentRule, Lead

    rng = ctx.rng
    visible = Lead.objects.visible_to(ctx.user, "view")
    sample = list(visible.order_by("-id").values("id", "name", "company", "mobile", "search_initials")[:2000])
    if not sample:
        ctx.log("the benchmark user sees no leads: suite skipped")
        return {}

    def pick(values, k=10):
        values = [v for v in values if v]
        return [rng.choice(values) for _ in range(k)] if values else []

    results = {}
    list_url = reverse("leads:lead_list")
    results |= ctx.time_http("lead_list_first_page", lambda i: list_url, LIST_MS)
    results |= ctx.time_http("lead_list_page_200", lambda i: f"{list_url}?page=200", LIST_MS)
    working = Lookup.objects.filter(kind="lead_status", code="working").first()
    if working is not None:
        results |= ctx.time_http("lead_list_filter_status", lambda i: f"{list_url}?status={working.pk}", LIST_MS)
    names = pick([s["name"][:2] for s in sample])
    companies = pick([s["company"][2:4] for s in sample if len(s["company"]) >= 4])
    initials = pick([s["search_initials"][:3] for s in sample if len(s["search_initials"]) >= 3])
    mobiles = pick([s["mobile"][:7] for s in sample])
    for case, values in (("name_2", names), ("company_2", companies), ("initials_3", initials), ("mobile_7", mobiles)):
        if values:
            results |= ctx.time_http(f"lead_list_q_{case}", lambda i, v=values: f"{list_url}?q={v[i % len(v)]}", SEARCH_MS)
    ids = pick([s["id"] for s in sample], 20)
    results |= ctx.time_http("lead_detail", lambda i: reverse("leads:lead_detail", args=[ids[i % len(ids)]]), DETAIL_MS)

    # Fair assignment over the benchmark user's department (a region with many reps and records).
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from yingdan.org.models import Department

    tree = ctx.user.department.descendant_ids(include_self=True)
    busiest = (get_user_model().objects.filter(is_active=True, department_id__in=tree).values("department_id")
               .annotate(n=Count("id")).order_by("-n").first())
    department = Department.objects.get(pk=busiest["department_id"]) if busiest else ctx.user.department
    ctx.log(f"assignment over {department} ({busiest['n'] if busiest else '?'} users)")

    def pick_with(method, n):
        def fn(i):
            AssignmentRule.objects.update_or_create(department=department, defaults={"method": method, "load_basis": "both"})
            services.pick_owners(department, n)
        return _rolled_back(fn)

    results |= ctx.time_call("pick_owner_least_load_both", pick_with("least_load", 1), PICK_MS)
    results |= ctx.time_call("pick_owners_least_load_x10", pick_with("least_load", 10), PICK_MS)
    results |= ctx.time_call("pick_owner_round_robin", pick_with("round_robin", 1), PICK_MS)

    open_ids = list(visible.filter(services.open_leads_q(), owner=ctx.user).values_list("id", flat=True)[:50]) or \
        list(visible.filter(services.open_leads_q()).values_list("id", flat=True)[:50])
    if open_ids:
        def convert(i):
            lead = Lead.objects.get(pk=open_ids[i % len(open_ids)])
            services.convert_lead(ctx.user, lead, customer_values={"name": f"基准转化客户{i}-{lead.pk}"}, confirm_duplicates=True)
        results |= ctx.time_call("convert_lead", _rolled_back(convert), CONVERT_MS)
    return results
