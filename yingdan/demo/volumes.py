"""The benchmark volumes beyond customers and contacts (issues 3 and 4), each seeded once and detected later:

- pools: a default customer pool and one per region (with rules); ~5% of the customers sit in them (owner
  cleared, previous owner, pool_entered_at after their last contact);
- follow-ups: FOLLOWUPS_PER_CUSTOMER per customer on average (10,000,000 at 1M customers), spread over the
  customers that were contacted, the latest one exactly at the customer's last_contact_at (and carrying its
  next follow-up date); resumable (a crashed load continues from the last customer);
- leads: LEADS_PER_CUSTOMER (200,000), some in the lead pool, with search keys and grams;
- opportunities: OPPS_PER_CUSTOMER (500,000) over the default pipeline, 项目型销售 and "Kanban 5000" (exactly
  5,000 open deals, owned in the benchmark manager's region), with STAGE_CHANGES_PER_OPP stage changes each on
  average (3,000,000), the denormalised columns filled; customers with a won deal are 成交 with last_won_at.

Bulk paths as in scale.py: executemany on SQLite, COPY on PostgreSQL (FK triggers off for the load: the data is
generated consistent), secondary indexes dropped and rebuilt for big loads, no change log.
"""

from __future__ import annotations

import datetime
import gc
import time
from bisect import bisect
from decimal import Decimal
from itertools import accumulate

from django.db import connection, transaction
from django.db.models import Max, Q

from yingdan.core.models import Lookup
from yingdan.customers.models import Customer
from yingdan.org.models import Department, User

from . import sales
from .scale import BulkTable, ScaleGenerator, _load_mode, db_date, db_datetime

FOLLOWUPS_PER_CUSTOMER = 10
LEADS_PER_CUSTOMER = 0.2
OPPS_PER_CUSTOMER = 0.5
STAGE_CHANGES_PER_OPP = 6
POOLED_SHARE = 0.05
KANBAN_OPEN = 5000
BIG = 50_000  # rows: a load at least this big (and bigger than the table) rebuilds the indexes
DAY = 86400.0


def volumes(customers: int):
    """(name, is_present(), fill(log, seed)) in seeding order, sized for `customers` customers."""
    from yingdan.followups.models import FollowUp
    from yingdan.leads.models import Lead
    from yingdan.opportunities.models import Opportunity

    followups = int(customers * FOLLOWUPS_PER_CUSTOMER)
    leads = int(customers * LEADS_PER_CUSTOMER)
    opps = int(customers * OPPS_PER_CUSTOMER)
    kanban = min(KANBAN_OPEN, max(opps // 20, 1))
    return [
        ("pools", lambda: Customer.objects.filter(pool__isnull=False).exists(), lambda log, seed: fill_pools(log, seed)),
        ("follow-ups", lambda: _followups_done(FollowUp), lambda log, seed: fill_followups(log, seed, followups)),
        ("leads", lambda: Lead.objects.count() >= leads, lambda log, seed: fill_leads(log, seed, leads - Lead.objects.count())),
        ("opportunities", lambda: Opportunity.objects.exists(), lambda log, seed: fill_opportunities(log, seed, opps, kanban)),
    ]


def run_default_loaders() -> None:
    from yingdan.core import registry

    for loader in list(registry.default_data_loaders):
        loader()


def _now() -> float:
    return time.time()


class _fast_load:
    """PostgreSQL: no FK triggers for the session while loading (generated data is consistent); SQLite: the
    pragmas are set by scale._load_mode."""

    def __enter__(self):
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = replica")
        gc.disable()

    def __exit__(self, *exc):
        gc.enable()
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")


def _analyze(*models) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            for model in models:
                cursor.execute(f'{command} "{model._meta.db_table}"')
        else:
            cursor.execute("PRAGMA analysis_limit=1000")
            for model in models:
                cursor.execute(f'ANALYZE "{model._meta.db_table}"')


def _set_sequence(model, last: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [model._meta.db_table, max(last, 1)])


def _regions():
    """Departments with sub-departments below the top level (the sales regions), by id."""
    return list(Department.objects.filter(parent__isnull=False, children__isnull=False).distinct().order_by("id"))


def _region_of(departments) -> dict[int, int]:
    """{department id: region id} for departments at or below a region."""
    regions = _regions()
    out = {}
    for dept_id, path in departments:
        for region in regions:
            if path.startswith(region.path):
                out[dept_id] = region.pk
                break
    return out


def _epoch(value) -> float | None:
    return value.timestamp() if value is not None else None


# -- pools ------------------------------------------------------------------------------------------------
def ensure_pools() -> dict[int, int]:
    """The default customer pool and one open pool per region (with rules); returns {region id: pool id}
    plus {None: default pool id}."""
    from yingdan.pools.models import Pool

    default = Pool.objects.filter(object_type="customer", is_default=True).first()
    if default is None:
        default = Pool.objects.create(name="公海客户池", object_type="customer", is_default=True, cooldown_days=7,
                                      daily_claim_cap=20, hold_cap=500)
    if not Pool.objects.filter(object_type="lead", is_default=True).exists():
        Pool.objects.create(name="公海线索池", object_type="lead", is_default=True)
    out = {None: default.pk}
    for region in _regions():
        pool = Pool.objects.filter(object_type="customer", departments=region).first()
        if pool is None:
            pool = Pool.objects.create(
                name=f"{region.name}公海", object_type="customer", kind="open", hold_cap=400, daily_claim_cap=10,
                cooldown_days=15, recycle_enabled=True, warn_days=3,
                recycle_rules={"default": {"no_followup_days": 30, "no_won_days": 180}},
                description=f"{region.name}的客户超过 30 天未跟进自动回收到此",
            )
            pool.departments.add(region)
        out[region.pk] = pool.pk
    return out


def fill_pools(log, seed: int) -> None:
    import random

    rng = random.Random(seed + 1)
    pools = ensure_pools()
    region_of = _region_of(Department.objects.values_list("id", "path"))
    now = _now()
    stale = Customer.objects.filter(owner__isnull=False, pool__isnull=True).filter(
        Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=datetime.datetime.fromtimestamp(now - 35 * DAY, datetime.UTC))
    )
    total = Customer.objects.count()
    candidates = stale.count()
    share = min(1.0, POOLED_SHARE * total / max(candidates, 1))
    rows = []
    for cid, owner_id, dept_id, last, since, created in stale.values_list(
        "id", "owner_id", "department_id", "last_contact_at", "owner_since", "created_at"
    ).iterator(chunk_size=20_000):
        base = _epoch(last) or _epoch(since) or _epoch(created)
        earliest = base + 30 * DAY  # recycled after a month without contact
        if earliest > now - 3600 or rng.random() >= share:
            continue
        entered = earliest + rng.random() * (now - earliest)
        rows.append((db_datetime(entered), owner_id, pools.get(region_of.get(dept_id), pools[None]), cid))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f'UPDATE "{Customer._meta.db_table}" SET pool_entered_at = %s, previous_owner_id = %s, pool_id = %s, '
            "owner_id = NULL, next_followup_at = NULL, recycle_warned_at = NULL WHERE id = %s",
            rows,
        )
    log(f"  {len(rows):,} customers placed in {len(pools)} pools")


# -- follow-ups ---------------------------------------------------------------------------------------------
def _followups_done(FollowUp) -> bool:
    last = Customer.objects.filter(last_contact_at__isnull=False).aggregate(m=Max("id"))["m"]
    return last is None or FollowUp.objects.filter(customer_id=last).exists()


def followup_types() -> list[tuple[int, str]]:
    """(lookup id, code) of the active follow-up types; the default list is created when there is none."""
    rows = list(Lookup.objects.filter(kind="followup_type", is_active=True).order_by("order", "id").values_list("id", "code"))
    if rows:
        return rows
    for order, (name, name_en, code) in enumerate(
        [("电话", "Call", "call"), ("拜访签到", "Visit (check-in)", "visit"), ("微信", "WeChat", "wechat"),
         ("邮件", "E-mail", "email"), ("会议", "Meeting", "meeting"), ("其他", "Other", "other")]
    ):
        Lookup.objects.create(kind="followup_type", name=name, name_en=name_en, code=code, order=(order + 1) * 10)
    return followup_types()


FOLLOWUP_COLUMNS = [
    "id", "customer_id", "owner_id", "department_id", "type_id", "occurred_at", "content", "next_at", "next_plan",
    "checkin_address", "created_at", "updated_at", "created_by_id",
]


def fill_followups(log, seed: int, target: int) -> None:
    import random

    from yingdan.followups.models import FollowUp

    rng = random.Random(seed + 2)
    rand = rng.random
    types = followup_types()
    texts = [sales.FOLLOWUP_TEXT.get(code or "", sales.FOLLOWUP_TEXT["other"]) for _id, code in types]
    type_cw = list(accumulate(t[0] for t in texts))
    visit = {i for i, (_id, code) in enumerate(types) if code == "visit"}
    user_dept = dict(User.objects.values_list("id", "department_id"))
    contacted = Customer.objects.filter(last_contact_at__isnull=False)
    # Resume: the follow-ups of the last customer reached may be incomplete; do that customer again.
    start = FollowUp.objects.filter(customer__isnull=False).aggregate(m=Max("customer_id"))["m"] or 0
    if start:
        FollowUp.objects.filter(customer_id=start).delete()
    existing = FollowUp.objects.count()
    remaining_customers = contacted.filter(id__gte=start).count()
    mean = max(1.0, (target - existing) / max(remaining_customers, 1))
    rate = 1 / max(mean - 0.5, 0.01)
    next_id = (FollowUp.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    table = BulkTable(FollowUp, FOLLOWUP_COLUMNS)
    started = time.monotonic()
    written = 0
    rebuild = target - existing >= max(BIG, existing)
    last_id = Customer.objects.aggregate(m=Max("id"))["m"] or 0
    chunk = 20_000
    with _fast_load(), _load_mode(rebuild, [FollowUp], log):
        lo = start
        while lo <= last_id:
            rows = []
            customers = contacted.filter(id__gte=lo, id__lt=lo + chunk).order_by("id").values_list(
                "id", "owner_id", "previous_owner_id", "owner_since", "created_at", "last_contact_at", "next_followup_at"
            )
            for cid, owner_id, prev_id, since, created, last, nxt in customers:
                author = owner_id or prev_id
                dept = user_dept.get(author)
                end = last.timestamp()
                begin = min((since or created).timestamp(), end)
                k = 1 + int(rng.expovariate(rate))
                times = sorted(begin + rand() * (end - begin) for _ in range(k - 1))
                times.append(end)
                for j, t in enumerate(times):
                    ti = bisect(type_cw, rand() * type_cw[-1])
                    _w, contents, plans = texts[ti]
                    latest = j == k - 1
                    if latest:
                        next_at = db_date(nxt.toordinal()) if nxt else None
                    elif rand() < 0.4:
                        next_at = db_date(datetime.date.fromtimestamp(t).toordinal() + 3 + int(rand() * 12))
                    else:
                        next_at = None
                    stamp = db_datetime(t)
                    rows.append((
                        next_id, cid, author, dept, types[ti][0], stamp, contents[int(rand() * len(contents))], next_at,
                        plans[int(rand() * len(plans))] if next_at else "", "客户现场签到" if ti in visit else "",
                        stamp, stamp, author,
                    ))
                    next_id += 1
            if rows:
                with transaction.atomic():
                    table.write(rows)
                written += len(rows)
                if written // 500_000 != (written - len(rows)) // 500_000:
                    log(f"  {existing + written:,} follow-ups ({time.monotonic() - started:.0f} s)")
            lo += chunk
    _set_sequence(FollowUp, next_id - 1)
    _analyze(FollowUp)
    log(f"  {written:,} follow-ups written in {time.monotonic() - started:.0f} s")


# -- leads ------------------------------------------------------------------------------------------------------
LEAD_COLUMNS = [
    "id", "name", "company", "title", "mobile", "email", "source_id", "status_id", "province", "city", "district",
    "remarks", "dedupe_name", "owner_id", "department_id", "created_by_id", "pool_id", "pool_entered_at",
    "previous_owner_id", "owner_since", "last_contact_at", "next_followup_at", "search_name", "search_pinyin",
    "search_initials", "created_at", "updated_at", "converted_at",
]
LEAD_STATUS_WEIGHTS = {"new": 35, "working": 35, "converted": 15, "invalid": 15}


def fill_leads(log, seed: int, n: int) -> None:

    from yingdan.core.text import company_key, normalize
    from yingdan.leads.models import Lead
    from yingdan.pools.models import Pool
    from yingdan.search.models import SearchGram

    from .company import CITIES, MOBILE_PREFIXES
    from .scale import GramSink

    if n <= 0:
        return
    run_default_loaders()
    gen = ScaleGenerator(seed=seed + 3)
    rng, rand = gen.rng, gen.rng.random
    statuses = list(Lookup.objects.filter(kind="lead_status", is_active=True).values_list("id", "code")) or [(None, "new")]
    status_cw = list(accumulate(LEAD_STATUS_WEIGHTS.get(code, 10) for _id, code in statuses))
    sources = list(Lookup.objects.filter(kind="lead_source", is_active=True).values_list("id", flat=True)) or [None]
    lead_pool = Pool.objects.filter(object_type="lead", is_default=True).values_list("id", flat=True).first()
    owners = gen.owners()
    cities = list(CITIES.values())
    titles = ["采购经理", "IT 主管", "总经理", "行政主管", "技术总监", "财务经理", "项目经理", ""]
    remarks = ["官网留资，希望了解报价", "展会扫码，对数据分析模块感兴趣", "老客户介绍", "", "", "需要尽快安排演示"]
    next_id = (Lead.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    table = BulkTable(Lead, LEAD_COLUMNS)
    now = _now()
    today = datetime.date.today().toordinal()
    kind = _lead_gram_kind()
    rebuild = n >= max(BIG, Lead.objects.count())
    started = time.monotonic()
    done = 0
    with _fast_load(), _load_mode(rebuild, [Lead], log):
        grams = GramSink(staged=False, log=log)
        while done < n:
            size = min(50_000, n - done)
            rows, gram_items = [], []
            for _ in range(size):
                pname, pfull, pinit = gen._person_name()
                brand = gen.brands[int(rand() * len(gen.brands))]
                ti = int(rand() * len(gen.terms))
                company = brand.text + gen.terms[ti].text + rng.choices(gen.suffixes, cum_weights=gen.suffix_cw)[0].text
                city = cities[int(rand() * len(cities))]
                created = now - rand() * 365 * DAY
                si = bisect(status_cw, rand() * status_cw[-1])
                status_id, code = statuses[si]
                owner_id, dept_id = owners[int(rand() * len(owners))]
                pool_id = entered = prev = None
                if lead_pool and code in ("new", "working") and rand() < 0.12:
                    pool_id, prev, entered = lead_pool, owner_id, db_datetime(created + rand() * (now - created))
                    owner_id = None
                contacted = code != "new" and rand() < 0.9
                last = created + rand() * (now - created) if contacted else None
                nxt = today + int(rand() * 30) - 8 if code == "working" and owner_id else None
                search_name = f"{normalize(pname)} {normalize(company)}"[:255]
                rows.append((
                    next_id, pname, company, titles[int(rand() * len(titles))],
                    MOBILE_PREFIXES[int(rand() * len(MOBILE_PREFIXES))] + f"{int(rand() * 10**8):08d}",
                    f"{pfull}@{brand.full}.com.cn" if rand() < 0.5 else "", sources[int(rand() * len(sources))],
                    status_id, city.province, city.city, city.districts[int(rand() * len(city.districts))],
                    remarks[int(rand() * len(remarks))], company_key(company)[:255], owner_id, dept_id, owner_id or prev,
                    pool_id, entered, prev, db_datetime(created) if owner_id else None, db_datetime(last), db_date(nxt),
                    search_name, pfull[:255], pinit[:100], db_datetime(created), db_datetime(last or created),
                    db_datetime(last or created) if code == "converted" else None,
                ))
                gram_items.append((next_id, search_name))
                next_id += 1
            with transaction.atomic():
                table.write(rows)
                if kind is not None:
                    grams.add(kind, gram_items)
            done += size
            log(f"  {done:,} leads ({time.monotonic() - started:.0f} s)")
    _set_sequence(Lead, next_id - 1)
    _analyze(Lead, SearchGram)


def _lead_gram_kind() -> int | None:
    from yingdan.leads.models import Lead
    from yingdan.search.services import providers

    return next((p.kind for p in providers() if p.model is Lead), None)


# -- opportunities --------------------------------------------------------------------------------------------
def _stages(pipeline) -> list:
    return list(pipeline.stages.order_by("order", "id"))


def ensure_pipeline(name: str, spec, checklist=None, *, is_default=False, order=100, description=""):
    """The pipeline called `name` with the stages of `spec` (created once; an existing one is left as it is)."""
    from yingdan.opportunities.models import ChecklistItem, Pipeline, Stage

    pipeline = Pipeline.objects.filter(name=name).first()
    if pipeline is not None:
        return pipeline
    pipeline = Pipeline.objects.create(name=name, is_default=is_default, order=order, description=description)
    for i, (sname, kind, prob, forecast, limit, color) in enumerate(spec, start=1):
        stage = Stage.objects.create(pipeline=pipeline, name=sname, kind=kind, probability=prob, forecast_category=forecast,
                                     time_limit_days=limit, color=color, order=i * 10)
        for j, (text, req, note, attachment) in enumerate((checklist or {}).get(sname, []), start=1):
            ChecklistItem.objects.create(stage=stage, text=text, required=req, needs_note=note,
                                         needs_attachment=attachment, order=j * 10)
    return pipeline


def ensure_pipelines():
    """(default pipeline, 项目型销售, Kanban 5000); the default one (with its checklists) comes from the
    opportunities app's default data when installed, else from sales.DEFAULT_STAGES."""
    from yingdan.opportunities.models import Pipeline

    run_default_loaders()
    default = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.order_by("order", "id").first()
    if default is None:
        default = ensure_pipeline(sales.DEFAULT_PIPELINE_NAME, sales.DEFAULT_STAGES, is_default=True, order=10)
    project = ensure_pipeline(sales.PROJECT_PIPELINE_NAME, sales.PROJECT_STAGES, sales.PROJECT_CHECKLIST, order=20,
                              description="政府及大型企业项目：立项 → 方案 → 招投标 → 合同")
    spec = [(s.name, s.kind, s.probability, s.forecast_category, s.time_limit_days, s.color) for s in _stages(default)]
    checklist = {s.name: [(c.text, c.required, c.needs_note, c.needs_attachment) for c in s.checklist.all()] for s in _stages(default)}
    kanban = ensure_pipeline(sales.KANBAN_PIPELINE_NAME, spec, checklist, order=90,
                             description="Benchmark pipeline: exactly 5,000 open deals")
    return default, project, kanban


def ensure_competitors() -> list[int]:
    from yingdan.opportunities.models import Competitor

    if not Competitor.objects.exists():
        for name in sales.DEFAULT_COMPETITORS:
            Competitor.objects.create(name=name)
    return list(Competitor.objects.filter(is_active=True).values_list("id", flat=True))


OPP_COLUMNS = [
    "id", "name", "customer_id", "amount", "currency", "expected_close", "pipeline_id", "stage_id", "state",
    "probability", "source_id", "next_step", "stage_entered_at", "closed_at", "loss_reason_id", "competitor_id",
    "loss_note", "version", "owner_id", "department_id", "created_by_id", "created_at", "updated_at",
]
CHANGE_COLUMNS = [
    "id", "opportunity_id", "pipeline_id", "from_stage_id", "to_stage_id", "changed_by_id", "owner_id", "department_id",
    "changed_at", "seconds_in_previous", "checklist_complete", "days_over_limit",
]


class _Pipe:
    def __init__(self, pipeline):
        stages = _stages(pipeline)
        self.pk = pipeline.pk
        self.open = [s for s in stages if s.kind == "open"]
        self.won = next((s for s in stages if s.kind == "won"), None)
        self.lost = next((s for s in stages if s.kind == "lost"), None)
        self.limit = {s.pk: s.time_limit_days for s in stages}


def _path(rng, pipe: _Pipe, outcome: str) -> list:
    """The stages a deal went through, first to current (before any back-and-forth moves are added)."""
    n = len(pipe.open)
    if outcome == "won":
        return [*pipe.open, pipe.won]
    if outcome == "lost":
        return [*pipe.open[: 1 + int(rng.random() * n)], pipe.lost]
    reach = rng.choices(range(n), weights=[40, 30, 20, 10][:n] + [10] * max(0, n - 4))[0]
    return pipe.open[: reach + 1]


def fill_opportunities(log, seed: int, n: int, kanban_open: int) -> None:
    import random

    from yingdan.opportunities.models import LossReason, Opportunity, StageChange

    rng = random.Random(seed + 4)
    rand = rng.random
    default, project, kanban = (_Pipe(p) for p in ensure_pipelines())
    competitors = ensure_competitors()
    reasons = list(LossReason.objects.filter(is_active=True, parent__isnull=False).values_list("id", flat=True)) or \
        list(LossReason.objects.filter(is_active=True).values_list("id", flat=True)) or [None]
    sources = list(Lookup.objects.filter(kind="opportunity_source", is_active=True).values_list("id", flat=True)) or [None]
    owned = list(Customer.objects.filter(owner__isnull=False).values_list("id", "short_name", "owner_id", "department_id").iterator(chunk_size=50_000))
    if not owned:
        return
    # Kanban 5000: deals of customers in the benchmark manager's region (the first region), so that manager's
    # board shows all of them.
    regions = _regions()
    in_region = owned
    if regions:
        region_depts = set(Department.objects.filter(path__startswith=regions[0].path).values_list("id", flat=True))
        in_region = [c for c in owned if c[3] in region_depts] or owned
    kanban_closed = kanban_open // 2
    plan = [("kanban", "open")] * kanban_open + [("kanban", "closed")] * kanban_closed
    rest = max(0, n - len(plan))
    plan += [("project" if rand() < 0.2 else "default", "any") for _ in range(rest)]
    rng.shuffle(plan)
    pipes = {"kanban": kanban, "project": project, "default": default}
    next_opp = (Opportunity.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    next_change = (StageChange.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    opp_table, change_table = BulkTable(Opportunity, OPP_COLUMNS), BulkTable(StageChange, CHANGE_COLUMNS)
    now = _now()
    started = time.monotonic()
    wins: dict[int, float] = {}
    changes_done = 0
    rebuild = n >= BIG
    batch = 25_000
    with _fast_load(), _load_mode(rebuild, [Opportunity, StageChange], log):
        for b in range(0, len(plan), batch):
            part = plan[b : b + batch]
            deals = []
            for which, kind in part:
                pipe = pipes[which]
                if kind == "open":
                    outcome = "open"
                elif kind == "closed":
                    outcome = "won" if rand() < 0.45 else "lost"
                else:
                    x = rand()
                    outcome = "open" if x < 0.25 else "won" if x < 0.6 else "lost"
                deals.append([which, pipe, outcome, _path(rng, pipe, outcome)])
            # Back-and-forth moves (a deal returned to the previous stage and forward again) bring the batch to
            # STAGE_CHANGES_PER_OPP changes per deal.
            base = sum(len(d[3]) for d in deals)
            pairs = max(0, (round(STAGE_CHANGES_PER_OPP * len(deals)) - base) // 2)
            movable = [d for d in deals if sum(1 for s in d[3] if s.kind == "open") >= 2]
            for _ in range(pairs if movable else 0):
                d = movable[int(rand() * len(movable))]
                path = d[3]
                opens = sum(1 for s in path if s.kind == "open")
                at = 1 + int(rand() * (opens - 1))  # path[at] is an open stage with one before it
                path[at + 1 : at + 1] = [path[at - 1], path[at]]
            opp_rows, change_rows = [], []
            for which, pipe, outcome, path in deals:
                pool = in_region if which == "kanban" else owned
                cid, short, owner_id, dept_id = pool[int(rand() * len(pool))]
                # Times backwards from the end: a closed deal closed in the last two years, an open one entered
                # its stage recently (some beyond the stage limit: stalled).
                limits = [pipe.limit.get(s.pk) or 20 for s in path]
                if outcome == "open":
                    end = now - rng.expovariate(1 / (0.7 * limits[-1] * DAY))
                else:
                    end = now - rand() * 700 * DAY
                times = [end]
                for lim in reversed(limits[:-1]):
                    times.append(times[-1] - max(3600.0, rng.expovariate(1 / (0.6 * lim * DAY))))
                times.reverse()
                amount = Decimal(max(5_000, min(50_000_000, round(rng.lognormvariate(12.2, 1.0), -3)))).quantize(Decimal("0.01"))
                stage = path[-1]
                closed = outcome != "open"
                close_date = (datetime.date.fromtimestamp(end) if closed
                              else datetime.date.fromtimestamp(end + (10 + rand() * 110) * DAY))
                lost = outcome == "lost"
                oid = next_opp
                next_opp += 1
                opp_rows.append((
                    oid, f"{short or '客户'}{sales.PRODUCTS[int(rand() * len(sales.PRODUCTS))]}", cid,
                    amount if connection.vendor == "postgresql" else str(amount), "CNY", db_date(close_date.toordinal()),
                    pipe.pk, stage.pk, stage.kind, stage.probability, sources[int(rand() * len(sources))],
                    "" if closed else sales.NEXT_STEPS[int(rand() * len(sales.NEXT_STEPS))], db_datetime(end),
                    db_datetime(end) if closed else None, reasons[int(rand() * len(reasons))] if lost else None,
                    competitors[int(rand() * len(competitors))] if lost and competitors and rand() < 0.6 else None,
                    sales.LOSS_NOTES[int(rand() * len(sales.LOSS_NOTES))] if lost else "", len(path) - 1,
                    owner_id, dept_id, owner_id, db_datetime(times[0]), db_datetime(end),
                ))
                if outcome == "won":
                    wins[cid] = max(wins.get(cid, 0.0), end)
                prev = None
                for j, (s, t) in enumerate(zip(path, times, strict=True)):
                    seconds = int(t - times[j - 1]) if j else None
                    limit = pipe.limit.get(prev.pk) if prev is not None else None
                    over = max(0.0, seconds / DAY - limit) if seconds is not None and limit else 0.0
                    change_rows.append((
                        next_change, oid, pipe.pk, prev.pk if prev else None, s.pk, owner_id, owner_id, dept_id,
                        db_datetime(t), seconds, j == 0 or rand() < 0.88, round(over, 2),
                    ))
                    next_change += 1
                    prev = s
            with transaction.atomic():
                opp_table.write(opp_rows)
                change_table.write(change_rows)
            changes_done += len(change_rows)
            log(f"  {b + len(part):,} opportunities, {changes_done:,} stage changes ({time.monotonic() - started:.0f} s)")
    _set_sequence(Opportunity, next_opp - 1)
    _set_sequence(StageChange, next_change - 1)
    _mark_won_customers(wins, log)
    from yingdan.opportunities import rollup
    from yingdan.opportunities.models import StageMonth

    started = time.monotonic()
    rollup.rebuild()  # bulk rows bypass the signals that keep the reports' roll-ups
    log(f"  report roll-ups rebuilt ({time.monotonic() - started:.0f} s)")
    _analyze(Opportunity, StageChange, StageMonth, Customer)


def _mark_won_customers(wins: dict[int, float], log) -> None:
    """Customers with a won deal are 成交 (won) with last_won_at; others lose a generated 成交 status."""
    won = Lookup.objects.filter(kind="customer_status", code="won").values_list("id", flat=True).first()
    other = Lookup.objects.filter(kind="customer_status", code="interested").values_list("id", flat=True).first()
    table = Customer._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if won and other:
            cursor.execute(f'UPDATE "{table}" SET status_id = %s WHERE status_id = %s', [other, won])
        status = "status_id = %s, " if won else ""
        if connection.vendor == "postgresql":  # one UPDATE ... FROM a COPY-filled temporary table, not 100k+ statements
            cursor.execute("CREATE TEMPORARY TABLE yd_wins (id bigint PRIMARY KEY, at timestamptz) ON COMMIT DROP")
            with cursor.cursor.copy("COPY yd_wins (id, at) FROM STDIN") as copy:
                for cid, t in sorted(wins.items()):
                    copy.write_row((cid, db_datetime(t)))
            cursor.execute(f'UPDATE "{table}" c SET {status}last_won_at = w.at FROM yd_wins w WHERE c.id = w.id',
                           [won] if won else [])
        else:
            cursor.executemany(f'UPDATE "{table}" SET {status}last_won_at = %s WHERE id = %s',
                               [((won,) if won else ()) + (db_datetime(t), cid) for cid, t in wins.items()])
    log(f"  {len(wins):,} customers marked won")
