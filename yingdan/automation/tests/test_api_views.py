"""API (/api/v1/automation-rules/, runs, sales-briefs), pages, refused users."""

import pytest
from django.test import Client
from django.urls import reverse

from yingdan.automation.models import AutomationRule, BriefSchedule, RuleRun
from yingdan.core.tests.api_base import api_client, assert_error
from yingdan.core.tests.factories import PASSWORD, make_customer, make_department, make_user

from .helpers import make_rule

pytestmark = pytest.mark.django_db


@pytest.fixture
def env():
    class Env:
        pass

    e = Env()
    e.team = make_department("自动化组")
    e.admin = make_user("api_admin", ["admin"], e.team)
    e.rep = make_user("api_rep", ["rep"], e.team)
    return e


PAYLOAD = {"name": "新客户通知", "object_type": "customers.customer", "trigger": "created",
           "conditions": {"logic": "and", "rules": [{"field": "name", "op": "contains", "value": "科技"}]},
           "actions": [{"type": "notify", "owner": True}]}


def test_api_crud_and_runs(env, django_capture_on_commit_callbacks):
    client = api_client(env.admin)
    r = client.post("/api/v1/automation-rules/", PAYLOAD, format="json")
    assert r.status_code == 201, r.content
    rule_id = r.json()["id"]
    assert AutomationRule.objects.get(pk=rule_id).created_by == env.admin
    with django_capture_on_commit_callbacks(execute=True):
        make_customer(env.rep, name="某某科技公司")
    r = client.get(f"/api/v1/automation-rules/{rule_id}/runs/")
    assert r.status_code == 200 and r.json()["results"][0]["result"] == "ok"
    r = client.post(f"/api/v1/automation-rules/{rule_id}/disable/")
    assert r.status_code == 200 and r.json()["is_active"] is False
    r = client.patch(f"/api/v1/automation-rules/{rule_id}/", {"name": "改名"}, format="json")
    assert r.status_code == 200 and r.json()["name"] == "改名"
    assert client.delete(f"/api/v1/automation-rules/{rule_id}/").status_code == 204
    assert not RuleRun.objects.exists()


@pytest.mark.parametrize("change,field", [
    ({"object_type": "nope.nope"}, "object_type"),
    ({"actions": []}, "actions"),
    ({"actions": [{"type": "explode"}]}, "actions"),
    ({"conditions": {"logic": "and", "rules": [{"field": "no_such_field", "op": "eq", "value": 1}]}}, "conditions"),
    ({"conditions": {"logic": "and", "rules": [{"field": "name", "op": "~~", "value": 1}]}}, "conditions"),
    ({"trigger": "field_changed"}, "trigger_field"),
])
def test_api_bad_rules_refused(env, change, field):
    r = api_client(env.admin).post("/api/v1/automation-rules/", {**PAYLOAD, **change}, format="json")
    assert_error(r, 400, field)
    assert not AutomationRule.objects.exists()


def test_api_refused_without_settings_permission(env):
    rule = make_rule(env.admin, actions=[{"type": "notify", "owner": True}])
    client = api_client(env.rep)
    assert client.get("/api/v1/automation-rules/").status_code == 403
    assert client.post("/api/v1/automation-rules/", PAYLOAD, format="json").status_code == 403
    assert client.get(f"/api/v1/automation-rules/{rule.pk}/runs/").status_code == 403
    assert api_client().get("/api/v1/automation-rules/").status_code == 401


def test_api_brief_create_and_preview(env):
    client = api_client(env.admin)
    r = client.post("/api/v1/sales-briefs/", {"name": "日报", "department": env.team.pk, "frequency": "daily",
                                              "send_time": "18:00", "emails": "boss@example.com"}, format="json")
    assert r.status_code == 201, r.content
    r = client.get(f"/api/v1/sales-briefs/{r.json()['id']}/preview/")
    assert r.status_code == 200 and r.json()["period"].startswith("D") and "日报" in r.json()["markdown"]
    r = client.post("/api/v1/sales-briefs/", {"name": "x", "send_time": "18:00", "emails": "not-an-email"}, format="json")
    assert_error(r, 400, "emails")
    assert api_client(env.rep).get("/api/v1/sales-briefs/").status_code == 403


def login(user) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def test_pages(env, django_capture_on_commit_callbacks):
    c = login(env.admin)
    assert c.get(reverse("automation:rule_list")).status_code == 200
    assert c.get(reverse("automation:rule_add")).status_code == 200
    # the builder re-renders its body when the object changes and when rows are added (HTMX)
    r = c.get(reverse("automation:rule_add"), {"object_type": "opportunities.opportunity", "trigger": "stage_entered",
                                               "_op": "add_cond"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and b'name="cond_field"' in r.content and b"expected_close" in r.content
    data = {"name": "网页规则", "object_type": "customers.customer", "trigger": "field_changed", "trigger_field": "city",
            "trigger_value": "上海", "offset_days": "0", "logic": "and", "is_active": "on",
            "cond_field": ["name"], "cond_op": ["contains"], "cond_value": ["科技"],
            "act_type": ["notify"], "act_to": ["owner_manager"], "act_user": [""], "act_role": [""], "act_title": ["{{name}} 到上海"],
            "act_text": [""], "act_field": [""], "act_value": [""], "act_department": [""], "act_robot": [""],
            "act_webhook": [""], "act_due": [""]}
    r = c.post(reverse("automation:rule_add"), data)
    assert r.status_code == 302, r.content.decode()[:2000]
    rule = AutomationRule.objects.get(name="网页规则")
    assert rule.trigger_value == "上海" and rule.actions[0]["owner"] and rule.actions[0]["manager"]
    assert rule.conditions == {"logic": "and", "rules": [{"field": "name", "op": "contains", "value": "科技"}]}
    assert c.get(rule.get_absolute_url()).status_code == 200
    assert c.get(reverse("automation:rule_edit", args=[rule.pk])).status_code == 200
    # bad input: a condition on a field that does not exist → 400, nothing saved
    bad = {**data, "name": "坏规则", "cond_field": ["nope"]}
    assert c.post(reverse("automation:rule_add"), bad).status_code == 400
    assert not AutomationRule.objects.filter(name="坏规则").exists()
    r = c.post(reverse("automation:rule_toggle", args=[rule.pk]), {"active": "0"})
    rule.refresh_from_db()
    assert r.status_code == 302 and not rule.is_active
    # briefs
    assert c.get(reverse("automation:brief_list")).status_code == 200
    r = c.post(reverse("automation:brief_add"), {"name": "周报", "frequency": "weekly", "weekday": "4", "send_time": "17:00",
                                                 "emails": "a@example.com"})
    assert r.status_code == 302, r.content.decode()[:3000]
    schedule = BriefSchedule.objects.get(name="周报")
    r = c.get(schedule.get_absolute_url())
    assert r.status_code == 200 and b'data-testid="brief-preview"' in r.content


def test_pages_refused_without_settings(env):
    rule = make_rule(env.admin)
    c = login(env.rep)
    assert c.get(reverse("automation:rule_list")).status_code == 403
    assert c.get(reverse("automation:rule_add")).status_code == 403
    assert c.get(rule.get_absolute_url()).status_code == 403
    assert c.post(reverse("automation:rule_toggle", args=[rule.pk]), {"active": "0"}).status_code == 403
    assert c.get(reverse("automation:brief_list")).status_code == 403


def test_list_toggle_button(env):
    rule = make_rule(env.admin, actions=[{"type": "notify", "owner": True}])
    c = login(env.admin)
    r = c.get(reverse("automation:rule_list"))
    assert f'data-testid="rule-toggle-{rule.pk}"'.encode() in r.content
    r = c.post(reverse("automation:rule_toggle", args=[rule.pk]), {"active": "0", "next": reverse("automation:rule_list")})
    assert r.status_code == 302 and r.url == reverse("automation:rule_list")
    rule.refresh_from_db()
    assert not rule.is_active
    # re-enabling a rule whose field has gone is refused with the reason, the rule stays off
    AutomationRule.objects.filter(pk=rule.pk).update(conditions={"logic": "and", "rules": [{"field": "gone", "op": "eq", "value": 1}]})
    c.post(reverse("automation:rule_toggle", args=[rule.pk]), {"active": "1"})
    rule.refresh_from_db()
    assert not rule.is_active
