"""`yingdan seed --demo`: a believable, valid company, created once."""

import pytest
from django.core.management import call_command

from yingdan.core.models import ObjectChange
from yingdan.core.validators import MOBILE_RE, validate_credit_code
from yingdan.customers.models import Contact, Customer
from yingdan.demo import company
from yingdan.org.builtin import BUILTIN_ROLES
from yingdan.org.models import Department, User

pytestmark = pytest.mark.django_db

CUSTOMERS = 300  # the demo default is 3,000; a tenth keeps the test quick


def counts():
    return {m.__name__: m.objects.count() for m in (Department, User, Customer, Contact, ObjectChange)}


@pytest.fixture
def seeded():
    call_command("seed", "--demo", "--customers", str(CUSTOMERS), stdout=open("/dev/null", "w"))
    return counts()


def test_seed_demo_is_idempotent(seeded):
    assert seeded["Customer"] == CUSTOMERS
    call_command("seed", "--demo", "--customers", str(CUSTOMERS), stdout=open("/dev/null", "w"))
    assert counts() == seeded


def test_demo_organisation(seeded):
    root = Department.objects.get(name=company.COMPANY_NAME, parent=None)
    regions = Department.objects.filter(parent=root).exclude(name="财务部")
    assert sorted(regions.values_list("name", flat=True)) == sorted(company.REGIONS)
    teams = Department.objects.filter(parent__in=regions)
    assert teams.count() == 8
    for dept in Department.objects.all():
        assert dept.manager is not None, dept
        assert dept.manager.department_id == dept.pk
        parent_path = dept.parent.path if dept.parent else "/"
        assert dept.path == f"{parent_path}{dept.pk}/"
    assert set(root.descendant_ids()) == set(Department.objects.values_list("pk", flat=True))

    users = User.objects.filter(username__in=[u[0] for u in company.USERS])
    assert users.count() == 40
    role_codes = {r["code"] for r in BUILTIN_ROLES}
    assert set(users.values_list("roles__code", flat=True)) == role_codes
    for username, _role, _note in company.DEMO_LOGINS:
        user = User.objects.get(username=username)
        assert user.check_password(company.DEMO_PASSWORD)
        assert user.department_id and user.name and MOBILE_RE.match(user.mobile)
    assert User.objects.get(username="rep").roles.get().code == "rep"


def test_demo_customers_are_valid_and_searchable(seeded):
    customers = list(Customer.objects.select_related("owner", "previous_owner"))
    assert len({c.credit_code for c in customers}) == CUSTOMERS
    for customer in customers:
        validate_credit_code(customer.credit_code)
        assert customer.department_id == (customer.owner or customer.previous_owner).department_id  # pooled: no owner
        assert customer.search_name and customer.search_pinyin and customer.search_initials
        assert customer.level_id and customer.status_id and customer.industry_id and customer.province
    for customer in customers[:50]:
        customer.full_clean()  # every validator of the model accepts the generated values
    contacts = Contact.objects.all()
    assert CUSTOMERS * 1.5 <= contacts.count() <= CUSTOMERS * 2.5
    for contact in contacts[:100]:
        contact.full_clean()
        assert MOBILE_RE.match(contact.mobile) and contact.search_initials
    assert Customer.objects.filter(owner__roles__code="rep").count() > CUSTOMERS * 0.7


def test_seed_refuses_without_a_mode():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("seed")


def test_demo_customers_are_found_by_global_search(seeded):
    from yingdan.search.services import search

    director = User.objects.get(username="director")
    customer = Customer.objects.order_by("id")[17]
    fragment = customer.name[2:6]  # a middle fragment (字号 + industry): served by the gram index
    for query in (fragment, customer.search_initials[:6]):
        groups = {g.key: g for g in search(director, query, limit=500)}
        assert customer.pk in [hit.obj.pk for hit in groups["customers"].hits], query
    contact = Contact.objects.order_by("id")[5]
    groups = {g.key: g for g in search(director, contact.name, limit=500)}
    assert contact.pk in [hit.obj.pk for hit in groups["contacts"].hits]


def test_demo_sales_activity(seeded):
    """Pools, leads, follow-ups and opportunities exist, consistent with the customers."""
    from django.db.models import Max
    from django.utils import timezone

    from yingdan.followups.models import FollowUp, FollowUpComment
    from yingdan.leads.models import Lead
    from yingdan.opportunities.models import Opportunity, Pipeline, StageChange
    from yingdan.pools.models import Pool, PoolEvent

    today = timezone.localdate()
    # Pools: the company-wide default and one per region, with rules; ~5% of the customers sit in them.
    assert Pool.objects.filter(object_type="customer", is_default=True).exists()
    regional = Pool.objects.filter(object_type="customer", departments__isnull=False).distinct()
    assert regional.count() == len(company.REGIONS)
    assert all(p.recycle_enabled and p.hold_cap and p.cooldown_days for p in regional)
    pooled = Customer.objects.filter(pool__isnull=False)
    assert CUSTOMERS * 0.03 <= pooled.count() <= CUSTOMERS * 0.07
    assert not pooled.filter(owner__isnull=False).exists() and not pooled.filter(previous_owner__isnull=True).exists()
    assert PoolEvent.objects.count() == pooled.count()
    # Follow-ups: the customer's last contact is its latest follow-up; some due today, some overdue.
    assert FollowUp.objects.filter(customer__isnull=False).count() >= CUSTOMERS
    latest = dict(FollowUp.objects.filter(customer__isnull=False).values("customer_id").annotate(m=Max("occurred_at"))
                  .values_list("customer_id", "m"))
    for c in Customer.objects.all():
        assert c.last_contact_at == latest.get(c.pk), c.pk
        assert c.dedupe_name
    assert Customer.objects.filter(next_followup_at=today, owner__isnull=False).exists()
    assert Customer.objects.filter(next_followup_at__lt=today, owner__isnull=False).exists()
    assert FollowUp.objects.values("type").distinct().count() >= 4
    assert FollowUpComment.objects.exists()
    assert not FollowUp.objects.filter(occurred_at__gt=timezone.now()).exists()
    # Leads: several statuses, some in the lead pool, searchable keys and duplicate keys.
    leads = Lead.objects.all()
    assert CUSTOMERS * 0.05 <= leads.count() <= CUSTOMERS * 0.15
    assert leads.values("status").distinct().count() >= 3
    assert leads.filter(pool__isnull=False, owner__isnull=True).exists()
    assert not leads.filter(dedupe_name="").exists() and not leads.filter(search_name="").exists()
    for lead in leads[:30]:
        lead.full_clean()
    # Opportunities: two pipelines, states matching their stage, full stage history, wins make customers 成交.
    assert Pipeline.objects.filter(name="项目型销售").exists() and Pipeline.objects.count() >= 2
    opps = Opportunity.objects.select_related("stage")
    assert CUSTOMERS * 0.1 <= opps.count() <= CUSTOMERS * 0.3
    assert {o.state for o in opps} == {"open", "won", "lost"}
    for o in opps:
        assert o.state == o.stage.kind and o.stage.pipeline_id == o.pipeline_id
        assert o.customer.owner_since <= o.created_at <= o.updated_at
        history = list(StageChange.objects.filter(opportunity=o).order_by("changed_at", "id"))
        assert history[0].from_stage_id is None and history[-1].to_stage_id == o.stage_id
        assert all(a.to_stage_id == b.from_stage_id for a, b in zip(history, history[1:], strict=False))
        if o.state == "lost":
            assert o.loss_reason_id and o.closed_at
        if o.state == "won":
            assert o.customer.status.code == "won" and o.customer.last_won_at
    assert not Customer.objects.filter(status__code="won", last_won_at__isnull=True).exists()
    # the reports' roll-ups follow the bulk-created history
    from django.db.models import Sum

    from yingdan.opportunities.models import StageMonth

    assert StageMonth.objects.aggregate(n=Sum("moves"))["n"] == StageChange.objects.filter(from_stage__isnull=False).count()
    assert not Opportunity.objects.filter(furthest_stage__isnull=True, state__in=["open", "won"]).exists()
