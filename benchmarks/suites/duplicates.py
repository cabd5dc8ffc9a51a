"""Duplicate checks (查重) at scale: exact company key, fuzzy company name, phone and credit code, through the
service (find_matches) and through POST /api/v1/duplicates/check/ (as the benchmark manager, company-wide)."""

from __future__ import annotations

import json

CHECK_MS = 30


def _typo(name: str, rng) -> str:
    """The name with one character of the distinctive part replaced (a near-duplicate)."""
    i = min(len(name) - 1, 2 + int(rng.random() * 3))
    return name[:i] + "彧" + name[i + 1 :]


def run(ctx) -> dict:
    from django.db import connection, transaction

    from yingdan.customers.models import Customer
    from yingdan.duplicates import services

    rng = ctx.rng
    top = Customer.objects.order_by("-id").values_list("id", flat=True).first() or 0
    if not top:
        raise RuntimeError("No customers to check against.")
    # Random customers across the whole table (ids are dense in generated data).
    ids = [int(rng.random() * top) + 1 for _ in range(200)]
    sample = list(Customer.objects.filter(pk__in=ids).exclude(credit_code=None).values("name", "phone", "credit_code")[:60])
    names = [s["name"] for s in sample]
    fuzzy = [_typo(n, rng) for n in names]
    phones = [s["phone"] for s in sample if s["phone"]]
    codes = [s["credit_code"] for s in sample]

    def check(data):
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            return services.find_matches("customer", data, entry_point="api")

    results = {}
    results |= ctx.time_call("check_exact_name", lambda i: check({"name": names[i % len(names)]}), CHECK_MS)
    results |= ctx.time_call("check_fuzzy_name", lambda i: check({"name": fuzzy[i % len(fuzzy)]}), CHECK_MS)
    results |= ctx.time_call("check_phone", lambda i: check({"name": "", "phone": phones[i % len(phones)]}), CHECK_MS)
    results |= ctx.time_call("check_credit_code", lambda i: check({"credit_code": codes[i % len(codes)]}), CHECK_MS)
    results |= ctx.time_call(
        "check_all_fields",
        lambda i: check({"name": fuzzy[i % len(fuzzy)], "phone": phones[i % len(phones)], "credit_code": codes[i % len(codes)]}),
        CHECK_MS,
    )

    def api(payload):
        response = ctx.client.post("/api/v1/duplicates/check/", data=json.dumps(payload), content_type="application/json")
        if response.status_code != 200:
            raise RuntimeError(f"duplicates/check answered {response.status_code}: {response.content[:300]!r}")

    results |= ctx.time_call("api_check_exact_name", lambda i: api({"object": "customer", "name": names[i % len(names)]}), CHECK_MS)
    results |= ctx.time_call("api_check_fuzzy_name", lambda i: api({"object": "customer", "name": fuzzy[i % len(fuzzy)]}), CHECK_MS)
    results |= ctx.time_call("api_check_phone", lambda i: api({"object": "customer", "phone": phones[i % len(phones)]}), CHECK_MS)
    results |= ctx.time_call("api_check_credit_code", lambda i: api({"object": "customer", "credit_code": codes[i % len(codes)]}), CHECK_MS)
    return results
