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
    customers = list(Customer.objects.select_related("owner"))
    assert len({c.credit_code for c in customers}) == CUSTOMERS
    for customer in customers:
        validate_credit_code(customer.credit_code)
        assert customer.department_id == customer.owner.department_id
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
