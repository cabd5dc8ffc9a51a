"""Concurrent claims from several OS processes, each with its own database connection (PostgreSQL).

SQLite test databases live in memory per process, so these run on PostgreSQL only (CI runs the suite there).
"""

from __future__ import annotations

import multiprocessing
import random
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections

from yingdan.customers.models import Customer
from yingdan.pools import services
from yingdan.pools.models import Pool, PoolEvent, PoolEventKind

from .base import make_org, pooled_customer

pytestmark = pytest.mark.django_db(transaction=True)


def _claimer(user_id, ids, start, results):
    """Child process: wait for the start signal, then try to claim every id; report (id, outcome code)."""
    from django.contrib.auth import get_user_model

    connections.close_all()
    user = get_user_model().objects.get(pk=user_id)
    start.wait(30)
    out = []
    for pk in ids:
        try:
            services.claim(user, Customer, pk)
            out.append((pk, "ok"))
        except ValidationError as exc:
            out.append((pk, getattr(exc, "code", None) or "invalid"))
        except PermissionDenied:
            out.append((pk, "denied"))
    connections.close_all()
    results.put((user_id, out))


def _run(jobs):
    """jobs: [(user_id, ids)] → {user_id: [(id, outcome)]}, all processes released at once."""
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    results = ctx.Queue()
    connections.close_all()
    procs = [ctx.Process(target=_claimer, args=(uid, ids, start, results)) for uid, ids in jobs]
    for p in procs:
        p.start()
    start.set()
    collected = {}
    for _ in procs:
        uid, out = results.get(timeout=120)
        collected.setdefault(uid, []).extend(out)
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    return collected


@pytest.fixture
def org():
    if connection.vendor != "postgresql":
        pytest.skip("parallel processes need a shared database server (run with DATABASE_URL=postgres://...)")
    env = SimpleNamespace()
    make_org(env)
    from yingdan.core.tests import factories

    env.reps = [factories.make_user(f"crep{i}", ["rep"], env.team_a, name=f"并发{i}") for i in range(8)]
    return env


def test_many_reps_claiming_the_same_records_exactly_one_wins(org):
    customers = [pooled_customer(org.east, org.director) for _ in range(25)]
    ids = [c.pk for c in customers]
    jobs = []
    for rep in org.reps:
        order = ids[:]
        random.shuffle(order)
        jobs.append((rep.pk, order))
    results = _run(jobs)
    wins = [(uid, pk) for uid, out in results.items() for pk, outcome in out if outcome == "ok"]
    refusals = {outcome for out in results.values() for _pk, outcome in out if outcome != "ok"}
    assert len(wins) == len(ids)  # every record claimed once …
    assert len({pk for _uid, pk in wins}) == len(ids)  # … and by exactly one rep
    assert refusals <= {"taken", "not_in_pool"}  # the others were told clearly
    owners = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "owner_id"))
    for uid, pk in wins:
        assert owners[pk] == uid
    assert PoolEvent.objects.filter(kind=PoolEventKind.CLAIM, object_id__in=ids).count() == len(ids)


def test_one_rep_claiming_in_parallel_never_exceeds_the_caps(org):
    Pool.objects.filter(pk=org.east.pk).update(hold_cap=5, daily_claim_cap=4)
    customers = [pooled_customer(org.east, org.director) for _ in range(24)]
    ids = [c.pk for c in customers]
    rep = org.reps[0]
    chunks = [ids[i::6] for i in range(6)]  # six processes, the same rep, different records
    results = _run([(rep.pk, chunk) for chunk in chunks])
    outcomes = [outcome for out in results.values() for _pk, outcome in out]
    assert outcomes.count("ok") == 4  # daily cap 4 is the stricter limit here
    assert set(outcomes) - {"ok"} <= {"daily_cap", "hold_cap"}
    assert Customer.objects.filter(owner=rep).count() == 4

    Pool.objects.filter(pk=org.east.pk).update(hold_cap=2, daily_claim_cap=None)
    rep2 = org.reps[1]
    results = _run([(rep2.pk, chunk) for chunk in chunks])
    outcomes = [outcome for out in results.values() for _pk, outcome in out]
    assert outcomes.count("ok") == 2
    assert Customer.objects.filter(owner=rep2).count() == 2
