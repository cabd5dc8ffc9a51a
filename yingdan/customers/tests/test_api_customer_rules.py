"""Customer API rules beyond the generic checks: custom fields, field permissions, owner transfer, search,
filters, bad input, and query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yingdan.core.models import Lookup, ObjectChange, Tag
from yingdan.core.tests.api_base import api_client, assert_error
from yingdan.core.tests.factories import (
    make_contact,
    make_custom_field,
    make_customer,
    make_department,
    make_role,
    make_user,
    valid_credit_code,
)
from yingdan.customers.models import Contact, Customer

URL = "/api/v1/customers/"


@pytest.fixture
def org(db):
    d1 = make_department("一部")
    d2 = make_department("二部")
    return {
        "d1": d1,
        "d2": d2,
        "rep": make_user("rep", ["rep"], department=d1, name="销售甲"),
        "rep2": make_user("rep2", ["rep"], department=d2, name="销售乙"),
        "manager": make_user("mgr", ["manager"], department=d1, name="经理"),
        "director": make_user("dir", ["director"], department=d1, name="总监"),
        "finance": make_user("fin", ["finance"], department=d1, name="财务"),
    }


@pytest.fixture
def budget(db):
    return make_custom_field(Customer, "budget", "money", label="预算", min_value=0)


@pytest.fixture
def tier(db):
    return make_custom_field(
        Customer, "tier", "select", label="等级",
        choices=[{"value": "gold", "label": "金牌"}, {"value": "silver", "label": "银牌"}],
    )


# --- custom fields -------------------------------------------------------------------------------
def test_custom_field_good_value_round_trips(org, budget, tier):
    client = api_client(org["rep"])
    response = client.post(URL, {"name": "甲公司", "custom_fields": {"budget": "1,234.5", "tier": "金牌"}}, format="json")
    assert response.status_code == 201, response.data
    assert response.json()["custom_fields"] == {"budget": "1234.50", "tier": "gold"}
    customer = Customer.objects.get(pk=response.json()["id"])
    assert customer.custom_fields == {"budget": "1234.50", "tier": "gold"}
    assert client.get(f"{URL}{customer.pk}/").json()["custom_fields"] == {"budget": "1234.50", "tier": "gold"}
    # PATCH of one custom field keeps the others.
    response = client.patch(f"{URL}{customer.pk}/", {"custom_fields": {"tier": "silver"}}, format="json")
    assert response.status_code == 200, response.data
    customer.refresh_from_db()
    assert customer.custom_fields == {"budget": "1234.50", "tier": "silver"}
    change = ObjectChange.objects.filter(object_id=customer.pk, action="update").latest("id")
    assert change.changes["cf_tier"] == ["gold", "silver"]


def test_custom_field_bad_value_is_400_and_writes_nothing(org, budget, tier):
    client = api_client(org["rep"])
    before = (Customer.objects.count(), ObjectChange.objects.count())
    response = client.post(URL, {"name": "乙公司", "custom_fields": {"budget": "很多", "tier": "bronze"}}, format="json")
    error = assert_error(response, 400, field="custom_fields.budget")
    assert "tier" in error["fields"]["custom_fields"]
    assert_error(client.post(URL, {"name": "乙", "custom_fields": {"budget": -1}}, format="json"), 400, field="custom_fields.budget")
    assert (Customer.objects.count(), ObjectChange.objects.count()) == before

    customer = make_customer(org["rep"], custom_fields={"budget": "10.00"})
    response = client.patch(f"{URL}{customer.pk}/", {"name": "新名", "custom_fields": {"budget": "abc"}}, format="json")
    assert_error(response, 400, field="custom_fields.budget")
    customer.refresh_from_db()
    assert customer.name != "新名" and customer.custom_fields == {"budget": "10.00"}


def test_required_custom_field(org):
    make_custom_field(Customer, "region_code", "text", label="区域码", required=True)
    client = api_client(org["rep"])
    assert_error(client.post(URL, {"name": "丙公司"}, format="json"), 400, field="custom_fields.region_code")
    assert client.post(URL, {"name": "丙公司", "custom_fields": {"region_code": "N1"}}, format="json").status_code == 201


def test_custom_field_filters(org, budget, tier):
    small = make_customer(org["director"], name="小", custom_fields={"budget": "100.00", "tier": "silver"})
    big = make_customer(org["director"], name="大", custom_fields={"budget": "5000.00", "tier": "gold"})
    client = api_client(org["director"])

    def ids(params):
        response = client.get(URL, params)
        assert response.status_code == 200, response.data
        return {row["id"] for row in response.json()["results"]}

    assert ids({"cf_tier": "gold"}) == {big.pk}
    assert ids({"cf_tier": "金牌"}) == {big.pk}  # a label finds its key
    assert ids({"cf_budget__gte": "1000"}) == {big.pk}
    assert ids({"cf_budget__lte": "1000"}) == {small.pk}
    assert ids({"cf_budget": "100"}) == {small.pk}
    assert_error(client.get(URL, {"cf_budget__gte": "lots"}), 400, field="cf_budget__gte")


# --- field permissions ---------------------------------------------------------------------------
def test_hidden_and_read_only_fields(org, budget):
    role = make_role(
        "受限销售",
        {"customers": {"actions": ["view", "create", "edit"], "scope": "own"}},
        {"customers": {"phone": "hidden", "remarks": "read", "cf_budget": "hidden"}},
    )
    user = make_user("limited", department=org["d1"], roles=[role])
    customer = make_customer(user, phone="13800138000", remarks="原备注", custom_fields={"budget": "99.00"})
    client = api_client(user)

    body = client.get(f"{URL}{customer.pk}/").json()
    assert "phone" not in body and "budget" not in body["custom_fields"]
    assert body["remarks"] == "原备注"
    rows = client.get(URL).json()["results"]
    assert "phone" not in rows[0] and b"13800138000" not in client.get(URL).content
    # A filter or search on a hidden field would reveal its value: neither applies to it.
    assert len(client.get(URL, {"phone": "13900000000"}).json()["results"]) == 1
    assert client.get(URL, {"q": "13800138000"}).json()["results"] == []
    assert len(api_client(org["director"]).get(URL, {"q": "13800138000"}).json()["results"]) == 1

    before = ObjectChange.objects.count()
    assert_error(client.patch(f"{URL}{customer.pk}/", {"remarks": "改"}, format="json"), 400, field="remarks")
    assert_error(client.patch(f"{URL}{customer.pk}/", {"phone": "13900000000"}, format="json"), 400, field="phone")
    assert_error(
        client.patch(f"{URL}{customer.pk}/", {"custom_fields": {"budget": "1"}}, format="json"), 400, field="custom_fields.budget"
    )
    assert ObjectChange.objects.count() == before
    customer.refresh_from_db()
    assert (customer.phone, customer.remarks, customer.custom_fields) == ("13800138000", "原备注", {"budget": "99.00"})
    # Sending the read-only value unchanged is fine; other fields can still be edited.
    response = client.patch(f"{URL}{customer.pk}/", {"remarks": "原备注", "short_name": "简称"}, format="json")
    assert response.status_code == 200, response.data


def test_finance_sees_owner_read_only(org):
    customer = make_customer(org["rep"])
    client = api_client(org["finance"])
    assert client.get(f"{URL}{customer.pk}/").json()["owner"]["username"] == "rep"
    # Finance has no edit permission at all: 403 before any field check.
    assert_error(client.patch(f"{URL}{customer.pk}/", {"owner": org["rep2"].pk}, format="json"), 403)


# --- owner and transfer (ASVS 4.1.2) -------------------------------------------------------------
def test_owner_defaults_to_creator_and_needs_transfer_to_change(org):
    client = api_client(org["rep"])
    response = client.post(URL, {"name": "丁公司"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["owner"] == {"id": org["rep"].pk, "username": "rep", "name": "销售甲", "url": body["owner"]["url"]}
    assert body["department"]["id"] == org["d1"].pk
    customer = Customer.objects.get(pk=body["id"])

    assert_error(client.patch(f"{URL}{customer.pk}/", {"owner": org["manager"].pk}, format="json"), 400, field="owner")
    assert_error(client.patch(f"{URL}{customer.pk}/", {"owner": None}, format="json"), 400, field="owner")
    assert Customer.objects.get(pk=customer.pk).owner_id == org["rep"].pk


def test_transfer_with_permission_moves_department(org):
    customer = make_customer(org["rep"])
    response = api_client(org["director"]).patch(f"{URL}{customer.pk}/", {"owner": org["rep2"].pk}, format="json")
    assert response.status_code == 200, response.data
    customer.refresh_from_db()
    assert customer.owner_id == org["rep2"].pk and customer.department_id == org["d2"].pk
    assert response.json()["department"]["name"] == "二部"


def test_manager_cannot_assign_outside_visible_users(org):
    customer = make_customer(org["manager"])
    response = api_client(org["manager"]).patch(f"{URL}{customer.pk}/", {"owner": org["rep2"].pk}, format="json")
    assert_error(response, 400, field="owner")  # rep2 (another department) is not a user the manager can see


# --- bad input -----------------------------------------------------------------------------------
def test_html_in_name_is_stored_as_text(org):
    name = '<script>alert("x")</script><b>粗体</b>'
    client = api_client(org["rep"])
    response = client.post(URL, {"name": name}, format="json")
    assert response.status_code == 201
    assert response["Content-Type"].startswith("application/json")
    assert Customer.objects.get(pk=response.json()["id"]).name == name
    assert client.get(f"{URL}{response.json()['id']}/").json()["name"] == name


def test_bad_input_messages_are_translated(org):
    client = api_client(org["rep"])
    code = valid_credit_code()
    bad = code[:-1] + ("0" if code[-1] != "0" else "1")
    zh = client.post(URL, {"name": "x", "credit_code": bad}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    en = client.post(URL, {"name": "x", "credit_code": bad}, format="json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert zh["error"]["fields"]["credit_code"] and en["error"]["fields"]["credit_code"]
    assert "check character" in en["error"]["fields"]["credit_code"][0]


def test_duplicate_credit_code_and_control_characters(org):
    code = valid_credit_code()
    make_customer(org["rep2"], credit_code=code)
    client = api_client(org["rep"])
    assert_error(client.post(URL, {"name": "x", "credit_code": code}, format="json"), 400, field="credit_code")
    assert_error(client.post(URL, {"name": "bad\x00name"}, format="json"), 400, field="name")
    assert_error(client.post(URL, ["not", "an", "object"], format="json"), 400)
    response = client.post(URL, "{broken", content_type="application/json")
    assert_error(response, 400, code="parse_error")


def test_credit_code_and_phone_are_normalised(org):
    code = valid_credit_code()
    response = api_client(org["rep"]).post(
        URL, {"name": "规范化", "credit_code": code.lower(), "phone": "+86 138 0013 8000"}, format="json"
    )
    assert response.status_code == 201, response.data
    assert response.json()["credit_code"] == code and response.json()["phone"] == "13800138000"


def test_tags_and_collaborators(org):
    vip = Tag.objects.create(name="VIP")
    client = api_client(org["manager"])
    response = client.post(URL, {"name": "协作", "tags": [vip.pk], "collaborators": [org["rep"].pk]}, format="json")
    assert response.status_code == 201, response.data
    body = response.json()
    assert body["tags"] == [{"id": vip.pk, "name": "VIP"}]
    assert [c["username"] for c in body["collaborators"]] == ["rep"]
    # The collaborator now sees it.
    assert client.get(URL).json()["results"][0]["id"] == body["id"]
    assert body["id"] in {r["id"] for r in api_client(org["rep"]).get(URL).json()["results"]}


# --- search, filters, ordering, pagination -------------------------------------------------------
def test_q_search_by_name_pinyin_initials_and_phone(org):
    tencent = make_customer(org["rep"], name="腾讯科技", phone="0755-86013388")
    make_customer(org["rep"], name="阿里巴巴")
    hidden = make_customer(org["rep2"], name="腾讯音乐")
    client = api_client(org["rep"])

    def ids(q):
        return {r["id"] for r in client.get(URL, {"q": q}).json()["results"]}

    assert ids("txkj") == {tencent.pk}
    assert ids("tengxun") == {tencent.pk}
    assert ids("讯科") == {tencent.pk}
    assert ids("0755-86013388") == {tencent.pk}
    assert ids("腾讯") == {tencent.pk}  # 腾讯音乐 is another rep's
    assert hidden.pk not in ids("tx")
    assert ids("不存在") == set()


def test_filters_and_ordering(org):
    level = Lookup.objects.filter(kind="customer_level").first()
    a = make_customer(org["director"], name="A公司", level=level)
    b = make_customer(org["rep"], name="B公司")
    client = api_client(org["director"])
    assert [r["id"] for r in client.get(URL, {"level": level.pk}).json()["results"]] == [a.pk]
    assert [r["id"] for r in client.get(URL, {"owner": org["rep"].pk}).json()["results"]] == [b.pk]
    assert [r["id"] for r in client.get(URL, {"department": f"{org['d1'].pk}"}).json()["results"]] == [b.pk, a.pk]
    assert [r["id"] for r in client.get(URL, {"ordering": "name"}).json()["results"]] == [a.pk, b.pk]
    assert [r["id"] for r in client.get(URL, {"ordering": "-name"}).json()["results"]] == [b.pk, a.pk]


def test_cursor_pagination_walks_every_row_once(org):
    created = {make_customer(org["rep"]).pk for _ in range(7)}
    client = api_client(org["rep"])
    seen, url = [], f"{URL}?page_size=3"
    while url:
        body = client.get(url).json()
        seen += [r["id"] for r in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(created) and len(seen) == 7


# --- query counts --------------------------------------------------------------------------------
def _count_queries(client, url):
    client.get(url)  # warm-up: the token's last-used time is written on the first request only
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_queries_do_not_grow_with_page_size(org, budget):
    vip = Tag.objects.create(name="VIP")
    level = Lookup.objects.filter(kind="customer_level").first()

    def add(n):
        for _ in range(n):
            c = make_customer(org["rep"], level=level, custom_fields={"budget": "1.00"})
            c.tags.add(vip)
            c.collaborators.add(org["manager"])
            make_contact(c)

    client = api_client(org["manager"])
    add(2)
    few = _count_queries(client, f"{URL}?page_size=50")
    contacts_few = _count_queries(client, "/api/v1/contacts/?page_size=50")
    add(10)
    assert _count_queries(client, f"{URL}?page_size=50") == few
    assert _count_queries(client, "/api/v1/contacts/?page_size=50") == contacts_few
    assert few <= 10, few


def test_detail_query_count(org, budget):
    customer = make_customer(org["rep"])
    client = api_client(org["rep"])
    assert _count_queries(client, f"{URL}{customer.pk}/") <= 10


def test_contact_list_scope_follows_customer(org):
    own = make_contact(make_customer(org["rep"]))
    other = make_contact(make_customer(org["rep2"]))
    ids = {r["id"] for r in api_client(org["rep"]).get("/api/v1/contacts/").json()["results"]}
    assert own.pk in ids and other.pk not in ids
    assert Contact.objects.count() == 2
