"""Public pools: the nightly recycling pass over all customers, and concurrent claims from several processes.

Nothing this suite does stays in the benchmark database:
- recycling runs inside one outer transaction that is rolled back (the per-chunk transactions become
  savepoints), with a rule on every customer pool: no follow-up in 60 days (falling back to the owner-since date).
  `recycle_dry_run_all` is the full pass that decides what is due (the scan over every customer; ~12% are
  due under that rule in the seeded data); `recycle_real_full` really moves all of them (UPDATE in chunks of
  5,000 + change log + pool events, as the nightly job does) — a worst case: in steady state a night only
  returns what became due since the previous night, which `recycle_real_nightly` measures (the same pass
  with the candidates narrowed to records not yet due 24 hours earlier); `recycle_warnings_all` is the
  warning pass.
- claims: 3,000 customers are put into a temporary pool; 8 processes (each its own connection, a different
  rep) claim random records of it at 12.5/s each (100/s together) for 10 s; afterwards every record gets its
  original owner back and the temporary pool and its events are removed. The change-log rows of those claims
  remain (the log is append-only).
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import random
import time

RECYCLE_TARGET_MS = 60_000
CLAIM_TARGET_MS = 50
CLAIM_PROCESSES = 8
# 8 × 12.5 = 100 claim attempts per second; BENCH_CLAIM_RATE (attempts per second in all) pushes harder. The
# claimers draw from one shared list, so some attempts find the customer already taken (a clear refusal).
CLAIM_RATE_PER_PROCESS = float(os.environ.get("BENCH_CLAIM_RATE", "100")) / CLAIM_PROCESSES
CLAIM_SECONDS = 10
POOLED = 3000


class _Rollback(Exception):
    pass


def _recycle_cases(ctx) -> dict:
    from django.db import transaction

    from yingdan.pools import services
    from yingdan.pools.models import Pool

    results = {}
    box = {}
    try:
        with transaction.atomic():
            Pool.objects.filter(object_type="customer").update(
                recycle_enabled=True, recycle_rules={"default": {"no_followup_days": 60}},
            )
            Pool.objects.filter(object_type="lead").update(recycle_enabled=False)
            samples = []
            for _ in range(3):
                started = time.perf_counter()
                report = services.recycle(dry_run=True)
                samples.append((time.perf_counter() - started) * 1000)
            box["due"] = report.total
            started = time.perf_counter()
            box["warned"] = services.warn_due()
            box["warn_ms"] = (time.perf_counter() - started) * 1000
            # Steady state: a night returns only what became due since the previous night. Same code path,
            # with the candidates narrowed to records that were not yet due 24 hours earlier.
            original = services.candidates

            def due_since_yesterday(model, pool, mapping, *, at):
                earlier = original(model, pool, mapping, at=at - datetime.timedelta(days=1)).values("pk")
                return original(model, pool, mapping, at=at).exclude(pk__in=earlier)

            services.candidates = due_since_yesterday
            try:
                started = time.perf_counter()
                box["nightly_moved"] = services.recycle().total
                box["nightly_ms"] = (time.perf_counter() - started) * 1000
            finally:
                services.candidates = original
            started = time.perf_counter()
            moved = services.recycle().total
            box["real_ms"] = (time.perf_counter() - started) * 1000
            box["moved"] = moved
            box["dry"] = samples
            raise _Rollback
    except _Rollback:
        pass
    results |= ctx.record("recycle_dry_run_all", box["dry"], RECYCLE_TARGET_MS, due=box["due"])
    results |= ctx.record("recycle_real_nightly", [box["nightly_ms"]], RECYCLE_TARGET_MS, moved=box["nightly_moved"])
    results |= ctx.record("recycle_warnings_all", [box["warn_ms"]], RECYCLE_TARGET_MS, warned=box["warned"])
    rate = box["moved"] / (box["real_ms"] / 1000) if box["real_ms"] else 0
    scan_s = sorted(box["dry"])[len(box["dry"]) // 2] / 1000
    results |= ctx.record(
        "recycle_real_full", [box["real_ms"]], RECYCLE_TARGET_MS, moved=box["moved"], rows_per_s=round(rate),
        scan_s=round(scan_s, 1),
    )
    return results


def _claimer(user_id, ids, seconds, rate, seed, start, out):
    from django.contrib.auth import get_user_model
    from django.core.exceptions import PermissionDenied, ValidationError
    from django.db import connections

    from yingdan.customers.models import Customer
    from yingdan.pools import services

    connections.close_all()
    user = get_user_model().objects.get(pk=user_id)
    rng = random.Random(seed)
    samples, outcomes = [], {}
    start.wait(60)
    began = time.perf_counter()
    n = 0
    while time.perf_counter() - began < seconds:
        due = began + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        pk = rng.choice(ids)
        t0 = time.perf_counter()
        try:
            services.claim(user, Customer, pk)
            code = "ok"
        except ValidationError as exc:
            code = getattr(exc, "code", None) or "invalid"
        except PermissionDenied:
            code = "denied"
        samples.append((time.perf_counter() - t0) * 1000)
        outcomes[code] = outcomes.get(code, 0) + 1
        n += 1
    connections.close_all()
    out.put((samples, outcomes, time.perf_counter() - began))


def _claim_cases(ctx) -> dict:
    from django.contrib.contenttypes.models import ContentType
    from django.db import connections, transaction
    from django.db.models import Count
    from django.utils import timezone

    from yingdan.customers.models import Customer
    from yingdan.org.models import User
    from yingdan.pools.models import Pool, PoolEvent, PoolEventKind

    reps = list(User.objects.filter(is_active=True, roles__code="rep").order_by("id")[:CLAIM_PROCESSES])
    if len(reps) < CLAIM_PROCESSES:
        ctx.log("not enough reps: claim cases skipped")
        return {}
    fields = ("id", "owner_id", "department_id", "pool_id", "pool_entered_at", "previous_owner_id", "owner_since",
              "recycle_warned_at")
    chosen = list(Customer.objects.filter(owner__isnull=False, pool__isnull=True).order_by("-id")
                  .values_list("id", flat=True)[:POOLED * 3])
    ids = ctx.rng.sample(chosen, min(POOLED, len(chosen)))
    original = list(Customer.objects.filter(pk__in=ids).values(*fields))
    pool = Pool.objects.create(name="bench claim pool", object_type="customer")
    results = {}
    try:
        with transaction.atomic():
            Customer.objects.filter(pk__in=ids).update(owner=None, pool=pool, pool_entered_at=timezone.now())
        mp = multiprocessing.get_context("fork")
        start, out = mp.Event(), mp.Queue()
        connections.close_all()
        procs = [mp.Process(target=_claimer, args=(rep.pk, ids, CLAIM_SECONDS, CLAIM_RATE_PER_PROCESS, i, start, out))
                 for i, rep in enumerate(reps)]
        for p in procs:
            p.start()
        wall = time.perf_counter()
        start.set()
        samples, outcomes, spans = [], {}, []
        for _ in procs:
            s, o, span = out.get(timeout=CLAIM_SECONDS * 20)
            samples += s
            spans.append(span)
            for k, v in o.items():
                outcomes[k] = outcomes.get(k, 0) + v
        for p in procs:
            p.join(60)
        wall = time.perf_counter() - wall
        ct = ContentType.objects.get_for_model(Customer)
        doubles = (PoolEvent.objects.filter(pool=pool, kind=PoolEventKind.CLAIM, content_type=ct)
                   .values("object_id").annotate(n=Count("id")).filter(n__gt=1).count())
        claimed = PoolEvent.objects.filter(pool=pool, kind=PoolEventKind.CLAIM).count()
        owners_ok = Customer.objects.filter(pk__in=ids, owner__isnull=False).count() == claimed
        results |= ctx.record(
            "claims_8_processes_100_per_s", samples, CLAIM_TARGET_MS,
            attempts_per_s=round(len(samples) / max(spans), 1), claims_per_s=round(outcomes.get("ok", 0) / max(spans), 1),
            outcomes=outcomes, double_claims=doubles, owners_match_events=owners_ok,
        )
        if doubles or not owners_ok:
            results["claims_8_processes_100_per_s"]["ok"] = False
    finally:
        with transaction.atomic():
            for row in original:
                pk = row.pop("id")
                Customer.objects.filter(pk=pk).update(**row)
            PoolEvent.objects.filter(pool=pool).delete()
            pool.delete()
    return results


def _page_cases(ctx) -> dict:
    from django.db.models import Count
    from django.urls import reverse

    from yingdan.customers.models import Customer
    from yingdan.pools import services
    from yingdan.pools.models import Pool

    busiest = (Customer.objects.filter(pool__isnull=False).values("pool_id").annotate(n=Count("id")).order_by("-n").first())
    results = ctx.time_http("pool_list_page", lambda i: reverse("pools:pool_list"), 100)
    if busiest:
        pool = Pool.objects.get(pk=busiest["pool_id"])
        url = reverse("pools:pool_detail", args=[pool.pk])
        if not services.pools_visible_to(ctx.user).filter(pk=pool.pk).exists():
            from yingdan.org.models import User

            director = (User.objects.filter(is_active=True, roles__code="director").order_by("id").first()
                        or User.objects.filter(is_active=True, roles__is_admin=True).order_by("id").first()
                        or User.objects.filter(is_active=True, is_superuser=True).order_by("id").first())
            if director is None:
                ctx.log("the benchmark user sees no busy pool and there is no director: pool page skipped")
                return results
            ctx.log(f"pool page measured as {director.username} (the manager does not see that pool)")
            ctx.client = ctx.client_for(director)
        ctx.log(f"pool page: {pool.name} with {busiest['n']:,} records")
        results |= ctx.time_http("pool_detail_first_page", lambda i: url, 100)
        results |= ctx.time_http("pool_detail_page_50", lambda i: f"{url}?page=50", 100)
    return results


def run(ctx) -> dict:
    results = {}
    results |= _page_cases(ctx)
    results |= _recycle_cases(ctx)
    results |= _claim_cases(ctx)
    return results
