"""API: the generic checks for opportunities and pipelines, and the move endpoint (gate, stale version)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from yingdan.core.tests.api_base import APIViewTestCase, api_client, assert_error
from yingdan.core.tests.factories import make_customer, make_department, make_user

from ..models import ChecklistItem, LossReason, Opportunity, Pipeline, Stage
from .helpers import make_opportunity, stage


class TestOpportunityAPI(APIViewTestCase):
    model = Opportunity
    basename = "opportunity"
    module = "opportunities"
    scope = "own"
    extra_permissions = {"customers": {"actions": ["view"], "scope": "own"}}

    def setup_env(self, env):
        env.customer = make_customer(env.user)

    def make_visible(self, env):
        return make_opportunity(env.user, customer=env.customer, amount=Decimal("100"))

    def make_hidden(self, env):
        return make_opportunity(env.other, amount=Decimal("100"))

    def create_payload(self, env):
        return {"name": "API 商机", "customer": env.customer.pk, "amount": "5000.00", "expected_close": "2031-06-30"}

    def update_payload(self, env):
        return {"name": "改名", "next_step": "安排演示"}

    def invalid_payloads(self, env):
        return [
            ({"name": "负数", "customer": env.customer.pk, "amount": "-1"}, "amount"),
            ({"name": "太早", "customer": env.customer.pk, "expected_close": "1900-01-01"}, "expected_close"),
            ({"name": "", "customer": env.customer.pk}, "name"),
        ]

    def assert_stored(self, obj, payload):
        obj = Opportunity.objects.get(pk=obj.pk)
        for name, value in payload.items():
            current = getattr(obj, name)
            if name == "customer":
                assert obj.customer_id == value
            elif name == "amount":
                assert current == Decimal(value)
            elif name == "expected_close":
                assert current.isoformat() == value
            else:
                assert current == value, name


@pytest.mark.django_db
class TestMoveAPI:
    @pytest.fixture
    def env(self):
        class Env:
            pass

        e = Env()
        e.team = make_department("华北一组")
        e.rep = make_user("api_rep", ["rep"], e.team)
        e.opp = make_opportunity(e.rep, amount=Decimal("1000"))
        e.client = api_client(e.rep)
        e.url = reverse("opportunity-move", args=[e.opp.pk])
        return e

    def test_refused_with_what_is_missing(self, env):
        response = env.client.post(env.url, {"stage": stage("需求确认").pk, "version": 0}, format="json")
        error = assert_error(response, 400)
        items = ChecklistItem.objects.filter(stage=stage("初步接触"), required=True)
        assert {f"checklist_{i.pk}" for i in items} <= set(error["fields"])

    def test_fill_in_place_and_move(self, env):
        checklist = {str(i.pk): {"note": "已确认"} for i in ChecklistItem.objects.filter(stage=stage("初步接触"))}
        response = env.client.post(env.url, {"stage": stage("需求确认").pk, "version": 0, "checklist": checklist,
                                             "values": {"next_step": "发方案"}}, format="json")
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["stage"]["id"] == stage("需求确认").pk and body["version"] == 1 and body["probability"] == 30
        assert body["next_step"] == "发方案"

    def test_stale_version_is_409(self, env):
        response = env.client.post(env.url, {"stage": stage("输单").pk, "version": 7,
                                             "loss_reason": LossReason.objects.get(name="其他").pk}, format="json")
        assert_error(response, 409, code="stale_version")
        env.opp.refresh_from_db()
        assert env.opp.state == "open"

    def test_other_pipeline_and_losing(self, env):
        admin = make_user("api_admin", ["admin"], env.team)
        pipeline = api_client(admin).post(reverse("pipeline-list"), {"name": "API 流程"}, format="json")
        assert pipeline.status_code == 201
        foreign = Stage.objects.filter(pipeline_id=pipeline.json()["id"]).first()
        assert_error(env.client.post(env.url, {"stage": foreign.pk}, format="json"), 400, field="stage")
        assert_error(env.client.post(env.url, {"stage": stage("输单").pk}, format="json"), 400, field="loss_reason")
        ok = env.client.post(env.url, {"stage": stage("输单").pk, "loss_reason": LossReason.objects.get(name="功能不满足").pk}, format="json")
        assert ok.status_code == 200 and ok.json()["state"] == "lost"

    def test_out_of_scope_and_refused(self, env):
        other = make_user("api_rep2", ["rep"], env.team)
        assert_error(api_client(other).post(env.url, {"stage": stage("输单").pk}, format="json"), 404)
        noperm = make_user("api_noperm", [], env.team)
        assert_error(api_client(noperm).post(env.url, {"stage": stage("输单").pk}, format="json"), 403)

    def test_stage_cannot_be_patched(self, env):
        response = env.client.patch(reverse("opportunity-detail", args=[env.opp.pk]), {"stage": stage("赢单").pk}, format="json")
        assert_error(response, 400, field="stage")

    def test_reference_endpoints_and_schema(self, env):
        for name in ("pipeline-list", "stage-list", "lossreason-list", "competitor-list"):
            response = env.client.get(reverse(name))
            assert response.status_code == 200, name
        stages_body = env.client.get(reverse("stage-list"), {"pipeline": Pipeline.objects.get(is_default=True).pk}).json()
        assert len(stages_body["results"]) == 6 and "checklist" in stages_body["results"][0]
        assert_error(env.client.post(reverse("pipeline-list"), {"name": "rep 不能建"}, format="json"), 403)
        schema = env.client.get(reverse("schema")).content.decode()
        for path in ("/api/v1/opportunities/{id}/move/", "/api/v1/pipelines/", "/api/v1/stages/", "/api/v1/loss-reasons/", "/api/v1/competitors/"):
            assert path in schema
