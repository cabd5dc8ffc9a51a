"""FollowUp.of_parent(parent=...) answers the scope question from the loaded customer when it can, with the
same follow-ups as the query; the quick form reads the follow-up types once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yingdan.core.models import Lookup
from yingdan.core.tests import factories
from yingdan.customers.services import save_customer, transfer_customers
from yingdan.followups.forms import QuickFollowUpForm
from yingdan.followups.models import FollowUp

from .helpers import make_followup

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    region = factories.make_department("华东区")
    team = factories.make_department("上海一组", parent=region)
    south = factories.make_department("华南组")
    users = {
        "rep": factories.make_user("rep1", ["rep"], team, name="张伟"),
        "rep2": factories.make_user("rep2", ["rep"], team, name="李娜"),
        "outsider": factories.make_user("rep3", ["rep"], south, name="王强"),
        "manager": factories.make_user("mgr", ["manager"], region, name="赵敏"),
        "south_manager": factories.make_user("mgr2", ["manager"], south, name="钱坤"),
        "admin": factories.make_user("adm", ["admin"], team, name="管理员"),
    }
    return users


def test_same_followups_with_and_without_the_loaded_parent(org):
    rep, outsider = org["rep"], org["outsider"]
    mine = factories.make_customer(rep)
    theirs = factories.make_customer(outsider)
    shared = factories.make_customer(outsider)
    save_customer(factories.system_actor(), shared, collaborators=[rep])
    for customer in (mine, theirs, shared):
        make_followup(customer.owner, customer=customer)
    make_followup(org["manager"], customer=mine)
    lost = factories.make_customer(rep)
    make_followup(rep, customer=lost)  # written by the rep, then the customer went to another region
    transfer_customers(factories.system_actor(), [lost.pk], outsider)
    make_followup(outsider, customer=lost)
    for user in org.values():
        for customer in (mine, theirs, shared, lost):
            customer.refresh_from_db()
            slow = set(FollowUp.of_parent(user, customer_id=customer.pk).values_list("pk", flat=True))
            fast = set(FollowUp.of_parent(user, customer_id=customer.pk, parent=customer).values_list("pk", flat=True))
            assert fast == slow, (user.username, customer.name)


def test_owned_or_department_parent_needs_no_scope_query(org):
    customer = factories.make_customer(org["rep"])
    make_followup(org["rep"], customer=customer)
    for user in (org["rep"], org["manager"]):
        user.refresh_from_db()
        with CaptureQueriesContext(connection) as queries:
            qs = FollowUp.of_parent(user, customer_id=customer.pk, parent=customer)
        assert not [q for q in queries.captured_queries if "customers_customer" in q["sql"]]
        assert qs.count() == 1


def test_quick_form_reads_the_types_once(org):
    customer = factories.make_customer(org["rep"])
    default = Lookup.objects.get(kind="followup_type", is_default=True)
    with CaptureQueriesContext(connection) as queries:
        form = QuickFollowUpForm(user=org["rep"], initial={"customer": customer.pk}, parent=customer)
        html = str(form["type"])
    assert len([q for q in queries.captured_queries if "core_lookup" in q["sql"]]) == 1
    assert form.initial["type"] == default.pk
    assert f'<option value="{default.pk}" selected>{default}</option>' in html
    names = list(Lookup.objects.filter(kind="followup_type", is_active=True).order_by("order", "id").values_list("name", flat=True))
    assert [n for n in names if f">{n}</option>" in html] == names
    # a submitted type is still validated against the active types
    retired = Lookup.objects.filter(kind="followup_type").exclude(pk=default.pk).first()
    retired.is_active = False
    retired.save()
    bound = QuickFollowUpForm({"customer": customer.pk, "type": retired.pk, "occurred_at": "2026-01-01T10:00", "content": "x"},
                              user=org["rep"], parent=customer)
    assert not bound.is_valid() and "type" in bound.errors
