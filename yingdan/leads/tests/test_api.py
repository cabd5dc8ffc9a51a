import pytest
from django.urls import reverse

from yingdan.core.models import Lookup
from yingdan.core.tests import factories
from yingdan.core.tests.api_base import APIViewTestCase, api_client, assert_error
from yingdan.customers.models import Contact, Customer
from yingdan.leads import services
from yingdan.leads.models import AssignmentRule, Lead

from .helpers import make_lead


class TestLeadAPI(APIViewTestCase):
    model = Lead
    basename = "lead"
    module = "leads"
    scope = "own"
    extra_permissions = {"customers": {"actions": ["view", "create", "edit"], "scope": "own"},
                         "contacts": {"actions": ["view", "create", "edit"], "scope": "own"}}

    def make_visible(self, env):
        return make_lead(env.user, company="可见公司")

    def make_hidden(self, env):
        return make_lead(env.other, company="隐藏公司")

    def create_payload(self, env):
        return {"name": "赵敏", "company": "杭州云栖科技有限公司", "mobile": "13700137000", "email": "zhao@example.com",
                "source": Lookup.objects.get(kind="lead_source", code="web").pk}

    def update_payload(self, env):
        return {"title": "采购经理", "status": Lookup.objects.get(kind="lead_status", code="working").pk}

    def invalid_payloads(self, env):
        return [
            ({"name": ""}, "name"),
            ({"name": "号码错", "mobile": "12345"}, "mobile"),
            ({"name": "状态错", "status": Lookup.objects.get(kind="customer_level", code="A").pk}, "status"),
            ({"name": "已转化", "status": Lookup.objects.get(kind="lead_status", code="converted").pk}, "status"),
        ]

    def test_search_by_company_and_mobile(self, env):
        client = api_client(env.user)
        ids = {r["id"] for r in client.get(self.list_url(), {"q": "可见"}).json()["results"]}
        assert ids == {env.visible.pk}
        lead = make_lead(env.user, mobile="13911112222")
        ids = {r["id"] for r in client.get(self.list_url(), {"q": "1391111"}).json()["results"]}
        assert ids == {lead.pk}

    def test_filters(self, env):
        client = api_client(env.user)
        ids = {r["id"] for r in client.get(self.list_url(), {"converted": "false"}).json()["results"]}
        assert env.visible.pk in ids
        ids = {r["id"] for r in client.get(self.list_url(), {"converted": "true"}).json()["results"]}
        assert env.visible.pk not in ids

    def test_assign_to_department(self, env):
        a = factories.make_user("team_a1", ["rep"], env.d2)
        b = factories.make_user("team_a2", ["rep"], env.d2)
        services.save_assignment_rule(factories.system_actor(), AssignmentRule(department=env.d2, method="round_robin"))
        client = api_client(env.admin)
        owners = []
        for i in range(3):
            response = client.post(self.list_url(), {"name": f"分配{i}", "assign_to_department": env.d2.pk}, format="json")
            assert response.status_code == 201, response.data
            owners.append(Lead.objects.get(pk=response.json()["id"]).owner)
        eligible = sorted([env.other, a, b], key=lambda u: u.pk)
        assert owners == eligible
        # A rep may not hand leads to a team (needs transfer).
        rep = factories.make_user("plain_rep", ["rep"], env.d1)
        before = self.snapshot_counts()
        assert_error(api_client(rep).post(self.list_url(), {"name": "x", "assign_to_department": env.d2.pk}, format="json"),
                     400, field="assign_to_department")
        assert self.snapshot_counts() == before

    def test_assign_to_team_without_rule_is_refused(self, env):
        before = self.snapshot_counts()
        response = api_client(env.admin).post(self.list_url(), {"name": "x", "assign_to_department": env.d1.pk}, format="json")
        assert_error(response, 400, field="assign_to_department")
        assert self.snapshot_counts() == before

    def test_convert(self, env):
        url = reverse("lead-convert", args=[env.visible.pk])
        client = api_client(env.user)
        response = client.post(url, {"customer_values": {"name": "可见公司有限公司", "level": Lookup.objects.get(kind="customer_level", code="A").pk}}, format="json")
        assert response.status_code == 200, response.data
        body = response.json()
        customer = Customer.objects.get(pk=body["customer"]["id"])
        assert customer.owner == env.user and customer.level.code == "A"
        assert Contact.objects.get(pk=body["contact"]["id"]).customer == customer
        assert body["lead"]["is_converted"] is True
        assert_error(client.post(url, {}, format="json"), 409, code="already_converted")
        assert Customer.objects.filter(pk=customer.pk).count() == 1 and Customer.objects.count() == 1

    def test_convert_out_of_scope_lead_is_404_and_noperm_403(self, env):
        assert_error(api_client(env.user).post(reverse("lead-convert", args=[env.hidden.pk]), {}, format="json"), 404)
        assert_error(api_client(env.noperm).post(reverse("lead-convert", args=[env.visible.pk]), {}, format="json"), 403)
        assert not Customer.objects.exists()

    def test_convert_into_a_customer_of_someone_else_is_refused(self, env):
        theirs = factories.make_customer(env.other)
        response = api_client(env.user).post(reverse("lead-convert", args=[env.visible.pk]), {"customer": theirs.pk}, format="json")
        assert_error(response, 400, field="customer")
        env.visible.refresh_from_db()
        assert env.visible.converted_at is None
        assert not Contact.objects.exists()


@pytest.mark.django_db
def test_convert_bad_values_write_nothing():
    d = factories.make_department("部门")
    user = factories.make_user("u1", ["rep"], d)
    lead = make_lead(user, company="公司")
    client = api_client(user)
    url = reverse("lead-convert", args=[lead.pk])
    for payload, field in (
        ({"customer_values": {"credit_code": "123"}}, "credit_code"),
        ({"customer_values": {"nonsense": 1}}, "customer_values"),
        ({"contact_values": {"mobile": "999"}}, "contact_mobile"),
    ):
        assert_error(client.post(url, payload, format="json"), 400, field=field)
    assert not Customer.objects.exists() and not Contact.objects.exists()
    lead.refresh_from_db()
    assert lead.converted_at is None


class TestAssignmentRuleAPI(APIViewTestCase):
    model = AssignmentRule
    basename = "assignmentrule"
    module = "settings"
    scope = "all"
    extra_permissions = {"users": {"actions": ["view"], "scope": "all"}, "departments": {"actions": ["view"], "scope": "all"}}

    def setup_env(self, env):
        env.d3 = factories.make_department("新组")

    def make_visible(self, env):
        return services.save_assignment_rule(env.admin, AssignmentRule(department=env.d1, method="round_robin"))

    def make_hidden(self, env):
        return None

    def create_payload(self, env):
        return {"department": env.d3.pk, "method": "least_load", "load_basis": "both", "members": []}

    def update_payload(self, env):
        return {"method": "least_load", "members": [env.user.pk]}

    def invalid_payloads(self, env):
        return [
            ({"department": env.d2.pk, "method": "lottery"}, "method"),
            ({"department": env.d2.pk, "members": [env.other.pk, env.user.pk]}, "members"),
            ({"department": env.d1.pk}, "department"),  # one rule per team
        ]

    def test_delete(self, env):
        client = api_client(self.writer(env))
        victim = services.save_assignment_rule(env.admin, AssignmentRule(department=env.d2))
        assert client.delete(self.detail_url(victim)).status_code == 204
        assert not AssignmentRule.objects.filter(pk=victim.pk).exists()
