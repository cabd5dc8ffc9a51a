"""Bulk delete of customers and contacts over the API: the list page's bulk delete, same service and scope."""

import pytest

from yingdan.core.models import ObjectChange
from yingdan.core.tests.api_base import api_client, assert_error
from yingdan.core.tests.factories import make_contact, make_customer, make_department, make_user
from yingdan.customers.models import Contact, Customer


@pytest.fixture
def org(db):
    d1 = make_department("一部")
    d2 = make_department("二部")
    return {
        "rep": make_user("rep", ["rep"], department=d1),
        "rep2": make_user("rep2", ["rep"], department=d2),
        "manager": make_user("mgr", ["manager"], department=d1),
        "finance": make_user("fin", ["finance"], department=d1),
    }


def test_customer_bulk_delete_in_scope_only(org):
    mine = [make_customer(org["rep"], name=f"甲{i}公司") for i in range(3)]
    other = make_customer(org["rep2"], name="乙公司")
    ids = [c.pk for c in mine] + [other.pk]
    response = api_client(org["manager"]).post("/api/v1/customers/bulk-delete/", {"ids": ids}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"count": 3}
    assert list(Customer.objects.values_list("pk", flat=True)) == [other.pk]  # outside the scope: skipped
    assert ObjectChange.objects.filter(action="delete", object_id__in=[c.pk for c in mine]).count() >= 3


def test_customer_bulk_delete_refused_without_permission_and_validated(org):
    customer = make_customer(org["rep"])
    for refused in ("finance", "rep"):  # neither may delete customers
        assert_error(api_client(org[refused]).post("/api/v1/customers/bulk-delete/", {"ids": [customer.pk]}, format="json"), 403)
    assert_error(api_client(org["manager"]).post("/api/v1/customers/bulk-delete/", {"ids": []}, format="json"), 400, field="ids")
    assert_error(api_client(org["manager"]).post("/api/v1/customers/bulk-delete/", {"ids": list(range(1, 1002))}, format="json"), 400, field="ids")
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_contact_bulk_delete_follows_customer_scope(org):
    mine = make_customer(org["rep"])
    other = make_customer(org["rep2"], name="乙公司")
    c1, c2 = make_contact(mine, name="张三"), make_contact(mine, name="李四")
    c3 = make_contact(other, name="王五")
    response = api_client(org["manager"]).post("/api/v1/contacts/bulk-delete/", {"ids": [c1.pk, c2.pk, c3.pk]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"count": 2}
    assert list(Contact.objects.values_list("pk", flat=True)) == [c3.pk]
    assert_error(api_client(org["rep"]).post("/api/v1/contacts/bulk-delete/", {"ids": [c3.pk]}, format="json"), 403)
    assert Contact.objects.filter(pk=c3.pk).exists()
