"""The demo company's sales activity, after its organisation and customers (company.py):

pools (公海: the company-wide default pool and one per region, with caps, cooldown and recycling rules) holding
~150 customers; ~300 leads (statuses, sources, some in the lead pool, some converted); ~6,000 follow-ups over
the last 90 days (plus older ones of customers that went quiet), with next dates — some due today, some
overdue — and managers' comments; the default pipeline plus 项目型销售 with ~600 opportunities, their stage
history, SOP checklist ticks, wins (customer 成交) and losses (reason, competitor).

Each part is created once and detected afterwards (`seed --demo` on an existing demo adds what is missing).
Bulk inserts (no change log for seed data); dates relative to today, so the demo always looks current.
"""

from __future__ import annotations

import bisect
import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from pypinyin import lazy_pinyin

from yingdan.core.models import Lookup
from yingdan.core.text import company_key
from yingdan.customers.models import Contact, Customer
from yingdan.org.models import Department, User
from yingdan.search.indexing import index_rows
from yingdan.search.services import providers as search_providers

from . import sales

# Per demo customer (3,000 by default: 150 pooled, 300 leads, 6,000 follow-ups in 90 days, 600 opportunities).
POOLED_SHARE = 0.05
LEADS_SHARE = 0.1
FOLLOWUPS_PER_CUSTOMER = 2
OPPORTUNITIES_SHARE = 0.2
COMMENTS = 60
# region -> pool name
REGION_POOLS = {"华东大区": "华东公海", "华南大区": "华南公海", "华北大区": "华北公海", "西南大区": "西南公海"}


class DemoActivity:
    def __init__(self, root: Department, seed: int = 20240602, stdout=None):
        self.root = root
        self.rng = random.Random(seed)
        self.stdout = stdout
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.depts = list(Department.objects.filter(path__startswith=root.path))
        dept_ids = [d.pk for d in self.depts]
        self.users = list(User.objects.filter(department_id__in=dept_ids, is_active=True).select_related("department").order_by("id"))
        self.sellers = [u for u in self.users if u.department.parent_id and u.department.parent_id != root.pk]  # in a team
        self.customers = Customer.objects.filter(created_by__in=self.users)
        self.n = self.customers.count()
        self.managers = {d.pk: d.manager_id for d in self.depts}
        self.parent = {d.pk: d.parent_id for d in self.depts}

    def log(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(message)

    def at(self, days_ago: float, hour_from: int = 9, hour_to: int = 18) -> datetime.datetime:
        """A moment `days_ago` days before today, during working hours (local time), never in the future."""
        day = self.today - datetime.timedelta(days=int(days_ago))
        if day.weekday() >= 5 and days_ago >= 2:
            day -= datetime.timedelta(days=day.weekday() - 4)
        moment = datetime.datetime.combine(day, datetime.time(self.rng.randint(hour_from, hour_to - 1), self.rng.randrange(60)))
        moment = timezone.make_aware(moment)
        return min(moment, self.now - datetime.timedelta(minutes=self.rng.randint(5, 90)))

    def create(self) -> dict:
        from yingdan.followups.models import FollowUp
        from yingdan.leads.models import Lead
        from yingdan.opportunities.models import Opportunity

        counts = {}
        parts = [
            ("history", lambda: self.customers.filter(owner_since__isnull=False).exists(), self.create_history),
            ("followups", lambda: FollowUp.objects.filter(owner__in=self.users).exists(), self.create_followups),
            ("pools", lambda: self.customers.filter(pool__isnull=False).exists(), self.create_pools),
            ("leads", lambda: Lead.objects.filter(created_by__in=self.users).exists(), self.create_leads),
            ("opportunities", lambda: Opportunity.objects.filter(created_by__in=self.users).exists(), self.create_opportunities),
        ]
        for name, present, create in parts:
            if present():
                continue
            with transaction.atomic():
                counts[name] = create()
        return counts

    # -- customer history -----------------------------------------------------------------------------------
    def create_history(self) -> int:
        """Creation dates over the last two years, owner_since, and the duplicate-check key."""
        rows = list(self.customers.only("id", "name"))
        for c in rows:
            age = self.rng.uniform(20, 730)
            c.created_at = self.at(age)
            c.owner_since = c.created_at if self.rng.random() < 0.8 else self.at(self.rng.uniform(10, age))
            c.dedupe_name = company_key(c.name)[:255]
            c.updated_at = c.owner_since
        Customer.objects.bulk_update(rows, ["created_at", "owner_since", "dedupe_name", "updated_at"], batch_size=500)
        return len(rows)

    # -- follow-ups -------------------------------------------------------------------------------------------
    def _types(self):
        from yingdan.demo.volumes import followup_types

        return followup_types()

    def create_followups(self) -> int:
        from yingdan.followups.models import FollowUp, FollowUpComment

        rng = self.rng
        types = self._types()
        texts = [sales.FOLLOWUP_TEXT.get(code or "", sales.FOLLOWUP_TEXT["other"]) for _id, code in types]
        weights = [t[0] for t in texts]
        customers = list(self.customers.filter(owner__isnull=False).select_related("owner").order_by("id"))
        contacts: dict[int, list[int]] = {}
        for cid, contact_id in Contact.objects.filter(customer__in=customers).values_list("customer_id", "id"):
            contacts.setdefault(cid, []).append(contact_id)
        rng.shuffle(customers)
        active = customers[: int(len(customers) * 0.6)]  # contacted in the last 90 days
        quiet = customers[len(active) : len(active) + int(len(customers) * 0.2)]  # last contact 35-200 days ago
        per = FOLLOWUPS_PER_CUSTOMER * self.n / max(len(active), 1)
        followups, links, latest = [], [], {}
        for group, span in ((active, (0, 90)), (quiet, (35, 200))):
            for c in group:
                k = 1 + int(rng.expovariate(1 / max(per - 0.5, 0.1))) if group is active else rng.randint(1, 3)
                floor = max((self.now - c.owner_since).days, 0) if c.owner_since else 700
                moments = sorted(self.at(min(rng.uniform(*span), floor)) for _ in range(k))
                for j, occurred in enumerate(moments):
                    ti = rng.choices(range(len(types)), weights=weights)[0]
                    _w, contents, plans = texts[ti]
                    last = j == len(moments) - 1
                    next_at = None
                    if last and group is active:
                        x = rng.random()
                        if x < 0.15:
                            next_at = self.today
                        elif x < 0.4:
                            next_at = self.today - datetime.timedelta(days=rng.randint(1, 14))
                        elif x < 0.9:
                            next_at = self.today + datetime.timedelta(days=rng.randint(1, 21))
                    elif not last and rng.random() < 0.4:
                        next_at = occurred.date() + datetime.timedelta(days=rng.randint(2, 10))
                    f = FollowUp(
                        customer=c, owner=c.owner, department_id=c.owner.department_id, type_id=types[ti][0],
                        occurred_at=occurred, content=rng.choice(contents), next_at=next_at,
                        next_plan=rng.choice(plans) if next_at else "", created_by=c.owner,
                        checkin_address=f"{c.city}{c.address}" if types[ti][1] == "visit" else "",
                    )
                    followups.append(f)
                    if last:
                        latest[c.pk] = f
        FollowUp.objects.bulk_create(followups, batch_size=1000)
        FollowUp.objects.filter(pk__in=[f.pk for f in followups]).update(created_at=F("occurred_at"), updated_at=F("occurred_at"))
        for f in followups:
            ids = contacts.get(f.customer_id)
            if ids and rng.random() < 0.7:
                links.append(FollowUp.contacts.through(followup_id=f.pk, contact_id=rng.choice(ids)))
        FollowUp.contacts.through.objects.bulk_create(links, batch_size=1000)
        updated = []
        for c in customers:
            f = latest.get(c.pk)
            c.last_contact_at = f.occurred_at if f else None
            c.next_followup_at = f.next_at if f else None
            updated.append(c)
        Customer.objects.bulk_update(updated, ["last_contact_at", "next_followup_at"], batch_size=500)
        # Managers' comments (点评) on recent follow-ups of their teams, some @mentioning the rep.
        by_id = {u.pk: u for u in self.users}
        recent = [f for f in followups if (self.now - f.occurred_at).days < 30]
        comments = []
        for f in rng.sample(recent, min(COMMENTS, len(recent))):
            manager = by_id.get(self.managers.get(f.department_id)) or by_id.get(self.managers.get(self.parent.get(f.department_id)))
            if manager is None or manager.pk == f.owner_id:
                continue
            body = rng.choice(sales.MANAGER_COMMENTS)
            if rng.random() < 0.5:
                body = f"@{by_id[f.owner_id].name} {body}"
            comments.append((FollowUpComment(followup=f, author=manager, body=body), f.owner_id if body.startswith("@") else None))
        FollowUpComment.objects.bulk_create([c for c, _m in comments])
        FollowUpComment.mentions.through.objects.bulk_create([
            FollowUpComment.mentions.through(followupcomment_id=c.pk, user_id=m) for c, m in comments if m
        ])
        for c, _m in comments:
            FollowUpComment.objects.filter(pk=c.pk).update(
                created_at=min(self.now, c.followup.occurred_at + datetime.timedelta(hours=rng.randint(1, 30)))
            )
        self.log(f"  {len(followups)} follow-ups, {len(comments)} comments")
        return len(followups)

    # -- pools --------------------------------------------------------------------------------------------------
    def _pools(self) -> dict:
        from yingdan.pools.models import Pool

        default = Pool.objects.filter(object_type="customer", is_default=True).first()
        if default is None:
            default = Pool.objects.create(name="公海客户池", object_type="customer", is_default=True)
        Pool.objects.filter(pk=default.pk).update(
            hold_cap=300, daily_claim_cap=20, cooldown_days=7, recycle_enabled=True, warn_days=3,
            recycle_rules={"default": {"no_followup_days": 60, "no_won_days": 365}},
            description="全公司公海：未被区域公海覆盖的客户回收到这里",
        )
        if not Pool.objects.filter(object_type="lead", is_default=True).exists():
            Pool.objects.create(name="公海线索池", object_type="lead", is_default=True)
        levels = {lk.code: lk.pk for lk in Lookup.objects.filter(kind="customer_level")}
        by_region = {}
        for dept in self.depts:
            name = REGION_POOLS.get(dept.name)
            if name is None:
                continue
            pool = Pool.objects.filter(name=name, object_type="customer").first()
            if pool is None:
                rules = {"default": {"no_followup_days": 30, "no_won_days": 180}}
                if "A" in levels:
                    rules[str(levels["A"])] = {"no_followup_days": 15, "no_won_days": 90}
                if "C" in levels:
                    rules[str(levels["C"])] = {"no_followup_days": 45, "no_won_days": 365}
                pool = Pool.objects.create(
                    name=name, object_type="customer", kind="open", hold_cap=150, daily_claim_cap=5, cooldown_days=15,
                    recycle_enabled=True, recycle_rules=rules, warn_days=3, hidden_fields=["phone", "address"],
                    description=f"{dept.name}客户超过 30 天未跟进、180 天未成交自动回收（A 类客户 15 天）",
                )
                pool.departments.add(dept)
                if dept.manager_id:
                    pool.admins.add(dept.manager_id)
            by_region[dept.pk] = pool
        return {"default": default, "by_region": by_region}

    def create_pools(self) -> int:
        from django.contrib.contenttypes.models import ContentType

        from yingdan.pools.models import PoolEvent

        rng = self.rng
        pools = self._pools()
        quiet = list(
            self.customers.filter(owner__isnull=False, last_won_at__isnull=True)
            .exclude(last_contact_at__gt=self.now - datetime.timedelta(days=35))
            .select_related("owner").order_by("id")
        )
        chosen = rng.sample(quiet, min(round(POOLED_SHARE * self.n), len(quiet)))
        ct = ContentType.objects.get_for_model(Customer)
        events = []
        for c in chosen:
            region = self.parent.get(c.department_id)
            pool = pools["by_region"].get(region) or pools["default"]
            if rng.random() < 0.15:
                pool = pools["default"]
            base = c.last_contact_at or c.owner_since or self.now - datetime.timedelta(days=200)
            earliest = min(base + datetime.timedelta(days=30), self.now - datetime.timedelta(days=1))
            entered = earliest + (self.now - earliest) * rng.random()
            released = rng.random() < 0.3
            events.append(PoolEvent(
                content_type=ct, object_id=c.pk, object_repr=c.name[:200], pool=pool,
                kind="release" if released else "recycle", actor=c.owner if released else None, from_owner=c.owner,
                reason=rng.choice(["客户暂无采购计划", "联系人离职，需重新开发", "预算冻结一年"]) if released else "30 天未跟进，自动回收",
                at=entered,
            ))
            c.previous_owner, c.owner, c.pool, c.pool_entered_at, c.next_followup_at = c.owner, None, pool, entered, None
        Customer.objects.bulk_update(chosen, ["previous_owner", "owner", "pool", "pool_entered_at", "next_followup_at"], batch_size=500)
        PoolEvent.objects.bulk_create(events)
        self.log(f"  {len(chosen)} customers in the pools")
        return len(chosen)

    # -- leads ------------------------------------------------------------------------------------------------
    def create_leads(self) -> int:
        from yingdan.followups.models import FollowUp
        from yingdan.leads.models import Lead
        from yingdan.pools.models import Pool

        from .company import CITIES, INDUSTRY_TERMS, REGIONS, mobile, person_name

        rng = self.rng
        statuses = {lk.code: lk for lk in Lookup.objects.filter(kind="lead_status", is_active=True)}
        sources = list(Lookup.objects.filter(kind="lead_source", is_active=True))
        lead_pool = Pool.objects.filter(object_type="lead", is_default=True).first()
        team_cities = {team: [CITIES[c] for c in cities] for teams in REGIONS.values() for team, cities in teams}
        reps = [u for u in self.sellers if u.department.name in team_cities]
        customers = list(self.customers.filter(owner__isnull=False).order_by("id"))
        terms = [t for ts in INDUSTRY_TERMS.values() for t in ts]
        titles = ["采购经理", "IT 主管", "总经理", "行政主管", "技术总监", "财务经理", "项目经理", "信息中心主任"]
        remarks = ["官网留资，希望了解报价", "展会扫码，对数据分析模块感兴趣", "老客户介绍，预算已批", "", "",
                   "需要尽快安排演示", "电话咨询私有化部署"]
        weights = {"new": 30, "working": 40, "converted": 15, "invalid": 15}
        codes = [c for c in weights if c in statuses] or [None]
        leads, used = [], set()
        for _ in range(round(LEADS_SHARE * self.n)):
            owner = rng.choice(reps)
            city = rng.choice(team_cities[owner.department.name])
            code = rng.choices(codes, weights=[weights.get(c, 10) for c in codes])[0]
            person = person_name(rng)
            brand = "".join(rng.sample("瑞丰嘉禾鼎信博远创新华联天润中科金石云帆同创立信智远", 2))
            company = f"{city.short}{brand}{rng.choice(terms)}有限公司"
            while company in used:
                company = f"{city.short}{brand}{rng.choice(terms)}{rng.choice(['有限公司', '股份有限公司', '集团有限公司'])}"
                brand = "".join(rng.sample("瑞丰嘉禾鼎信博远创新华联天润中科金石云帆同创立信智远", 2))
            used.add(company)
            created = self.at(rng.uniform(0, 120))
            lead = Lead(
                name=person, company=company, title=rng.choice(titles), mobile=mobile(rng),
                email=f"{''.join(lazy_pinyin(person))}@{''.join(lazy_pinyin(brand))}.com.cn" if rng.random() < 0.5 else "",
                source=rng.choice(sources) if sources else None, status=statuses.get(code),
                province=city.province, city=city.city, district=rng.choice(city.districts), remarks=rng.choice(remarks),
                owner=owner, department_id=owner.department_id, created_by=owner, owner_since=created,
            )
            if code == "converted" and customers:
                mine = [c for c in customers if c.owner_id == owner.pk] or customers
                lead.converted_customer = rng.choice(mine)
                lead.converted_at = created + datetime.timedelta(days=rng.randint(3, 20))
                lead.converted_at = min(lead.converted_at, self.now)
            elif code in ("new", "working") and lead_pool and rng.random() < 0.12:
                lead.previous_owner, lead.owner, lead.pool = owner, None, lead_pool
                lead.pool_entered_at = created + (self.now - created) * rng.random()
            elif code == "working":
                lead.next_followup_at = self.today + datetime.timedelta(days=rng.randint(-5, 14))
            lead.refresh_search_keys()
            lead.dedupe_name = company_key(company)[:255]
            lead._created = created
            leads.append(lead)
        Lead.objects.bulk_create(leads, batch_size=500)
        for lead in leads:
            Lead.objects.filter(pk=lead.pk).update(created_at=lead._created, updated_at=lead._created)
        # Follow-ups of worked leads (before conversion for converted ones).
        types = self._types()
        followups = []
        for lead in leads:
            if lead.status is None or lead.status.code not in ("working", "converted") or rng.random() < 0.2:
                continue
            author = lead.owner or lead.previous_owner
            times = sorted(lead._created + (min(self.now, lead.converted_at or self.now) - lead._created) * rng.random()
                           for _ in range(rng.randint(1, 3)))
            for t in times:
                tid, code = rng.choice(types)
                _w, contents, _plans = sales.FOLLOWUP_TEXT.get(code or "", sales.FOLLOWUP_TEXT["other"])
                followups.append(FollowUp(lead=lead, owner=author, department_id=author.department_id, type_id=tid,
                                          occurred_at=t, content=rng.choice(contents), created_by=author))
            Lead.objects.filter(pk=lead.pk).update(last_contact_at=times[-1])
        FollowUp.objects.bulk_create(followups, batch_size=500)
        FollowUp.objects.filter(pk__in=[f.pk for f in followups]).update(created_at=F("occurred_at"), updated_at=F("occurred_at"))
        for provider in search_providers():
            if provider.model is Lead:
                index_rows(provider.kind, [(lead.pk, lead.search_name) for lead in leads])
        self.log(f"  {len(leads)} leads, {len(followups)} lead follow-ups")
        return len(leads)

    # -- opportunities --------------------------------------------------------------------------------------
    def create_opportunities(self) -> int:
        from yingdan.opportunities.models import (
            ChecklistCompletion,
            ChecklistItem,
            LossReason,
            Opportunity,
            Pipeline,
            StageChange,
        )

        from .volumes import _path, _Pipe, ensure_competitors, ensure_pipeline, run_default_loaders

        rng = self.rng
        run_default_loaders()

        default = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.order_by("order", "id").first()
        if default is None:
            default = ensure_pipeline(sales.DEFAULT_PIPELINE_NAME, sales.DEFAULT_STAGES, is_default=True, order=10)
        project = ensure_pipeline(sales.PROJECT_PIPELINE_NAME, sales.PROJECT_STAGES, sales.PROJECT_CHECKLIST, order=20,
                                  description="政府及大型企业项目：立项 → 方案 → 招投标 → 合同")
        pipes = [(_Pipe(default), 0.7), (_Pipe(project), 0.3)]
        items: dict[int, list[int]] = {}
        for item_id, stage_id in ChecklistItem.objects.filter(stage__pipeline__in=[default, project], is_active=True).values_list("id", "stage_id"):
            items.setdefault(stage_id, []).append(item_id)
        competitors = ensure_competitors()
        reasons = list(LossReason.objects.filter(is_active=True, parent__isnull=False)) or list(LossReason.objects.filter(is_active=True))
        sources = list(Lookup.objects.filter(kind="opportunity_source", is_active=True))
        customers = list(self.customers.filter(owner__isnull=False).select_related("owner").order_by("owner_since", "id"))
        since = [c.owner_since or c.created_at for c in customers]
        contacts: dict[int, list[int]] = {}
        for cid, contact_id in Contact.objects.filter(customer__in=customers).values_list("customer_id", "id"):
            contacts.setdefault(cid, []).append(contact_id)
        deals = []
        for _ in range(round(OPPORTUNITIES_SHARE * self.n)):
            pipe = rng.choices([p for p, _w in pipes], weights=[w for _p, w in pipes])[0]
            x = rng.random()
            outcome = "open" if x < 0.55 else "won" if x < 0.8 else "lost"
            path = _path(rng, pipe, outcome)
            if rng.random() < 0.15 and sum(1 for s in path if s.kind == "open") >= 2:
                at = 1 + rng.randrange(sum(1 for s in path if s.kind == "open") - 1)
                path[at + 1 : at + 1] = [path[at - 1], path[at]]
            limits = [pipe.limit.get(s.pk) or 20 for s in path]
            end = self.now - datetime.timedelta(days=rng.expovariate(1 / (0.7 * limits[-1]))) if outcome == "open" \
                else self.now - datetime.timedelta(days=rng.uniform(1, 330))
            times = [end]
            for lim in reversed(limits[:-1]):
                times.append(times[-1] - datetime.timedelta(days=max(0.2, rng.expovariate(1 / (0.6 * lim)))))
            times.reverse()
            # A customer that existed (and was owned by the same rep) when the deal started.
            older = bisect.bisect_left(since, times[0])
            c = customers[rng.randrange(older)] if older else customers[0]
            stage = path[-1]
            closed = outcome != "open"
            amount = Decimal(max(20_000, min(8_000_000, round(rng.lognormvariate(12.4, 0.9), -3)))).quantize(Decimal("0.01"))
            opp = Opportunity(
                name=f"{c.short_name or c.name[:6]}{rng.choice(sales.PRODUCTS)}", customer=c, amount=amount,
                expected_close=end.date() if closed else (end + datetime.timedelta(days=rng.randint(10, 120))).date(),
                pipeline_id=pipe.pk, stage=stage, state=stage.kind, probability=stage.probability,
                source=rng.choice(sources) if sources else None,
                next_step="" if closed else rng.choice(sales.NEXT_STEPS), stage_entered_at=end,
                closed_at=end if closed else None, version=len(path) - 1,
                owner=c.owner, department_id=c.owner.department_id, created_by=c.owner,
            )
            if outcome == "lost":
                opp.loss_reason = rng.choice(reasons) if reasons else None
                opp.competitor_id = rng.choice(competitors) if competitors and rng.random() < 0.7 else None
                opp.loss_note = rng.choice(sales.LOSS_NOTES)
            deals.append((opp, path, times))
        Opportunity.objects.bulk_create([d[0] for d in deals], batch_size=500)
        changes, ticks, links, wins = [], [], [], {}
        for opp, path, times in deals:
            Opportunity.objects.filter(pk=opp.pk).update(created_at=times[0], updated_at=times[-1])
            ids = contacts.get(opp.customer_id)
            if ids:
                links.append(Opportunity.contacts.through(opportunity_id=opp.pk, contact_id=rng.choice(ids)))
            prev = None
            done = set()
            for j, (s, t) in enumerate(zip(path, times, strict=True)):
                seconds = int((t - times[j - 1]).total_seconds()) if j else None
                limit = None
                if prev is not None:
                    limit = next(p for p, _w in pipes if p.pk == opp.pipeline_id).limit.get(prev.pk)
                complete = True
                if prev is not None:
                    complete = rng.random() < 0.85
                    if complete:
                        done.update(items.get(prev.pk, []))
                changes.append(StageChange(
                    opportunity=opp, pipeline_id=opp.pipeline_id, from_stage=prev, to_stage=s, changed_by_id=opp.owner_id,
                    owner_id=opp.owner_id, department_id=opp.department_id, changed_at=t, seconds_in_previous=seconds,
                    checklist_complete=complete,
                    days_over_limit=round(max(0.0, seconds / 86400 - limit), 2) if seconds is not None and limit else 0.0,
                ))
                prev = s
            if opp.state == "open":  # some of the current stage's steps are already done
                done.update(i for i in items.get(opp.stage_id, []) if rng.random() < 0.4)
            ticks += [ChecklistCompletion(opportunity=opp, item_id=i, done_by_id=opp.owner_id,
                                          note="已完成" if rng.random() < 0.5 else "") for i in sorted(done)]
            if opp.state == "won":
                wins[opp.customer_id] = max(wins.get(opp.customer_id, opp.closed_at), opp.closed_at)
        StageChange.objects.bulk_create(changes, batch_size=1000)
        from yingdan.opportunities import rollup

        rollup.rebuild()  # bulk_create bypasses the signals that keep the reports' roll-ups
        ChecklistCompletion.objects.bulk_create(ticks, batch_size=1000)
        Opportunity.contacts.through.objects.bulk_create(links, batch_size=1000)
        won = Lookup.objects.filter(kind="customer_status", code="won").first()
        interested = Lookup.objects.filter(kind="customer_status", code="interested").first()
        if won and interested:  # 成交 only where a deal was won
            self.customers.filter(status=won).exclude(pk__in=list(wins)).update(status=interested)
        for cid, t in wins.items():
            Customer.objects.filter(pk=cid).update(last_won_at=t, **({"status": won} if won else {}))
        self.log(f"  {len(deals)} opportunities, {len(changes)} stage changes, {len(wins)} customers won")
        return len(deals)
