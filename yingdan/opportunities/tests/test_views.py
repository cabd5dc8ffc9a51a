"""Pages: the generic list/detail/edit/delete checks, the kanban and its moves, settings pages."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from yingdan.core.tests import factories
from yingdan.core.tests.views_base import ViewTestCases

from .. import services
from ..models import ChecklistItem, LossReason, Opportunity, Pipeline, Stage, StageChange
from .helpers import complete_stage, make_opportunity, stage, stages

HTMX = {"HTTP_HX_REQUEST": "true"}


class TestOpportunityViews(ViewTestCases.All):
    url_base = "opportunities:opportunity"
    module = "opportunities"
    model = Opportunity
    detail_query_budget = 40

    def make_object(self, owner):
        return make_opportunity(owner, amount=Decimal("1000"))

    def form_data(self):
        customer = factories.make_customer(self.owner)
        return {"name": "ERP 升级项目", "customer": customer.pk, "amount": "250000", "currency": "CNY",
                "expected_close": (timezone.localdate() + datetime.timedelta(days=60)).isoformat()}

    def edit_data(self, obj):
        return {"name": "改名后的商机", "customer": obj.customer_id, "amount": "3000", "currency": "CNY", "probability": "35"}

    def invalid_form_data(self):
        return {"name": "", "amount": "-5", "expected_close": "1900-01-01"}

    def test_create_defaults_pipeline_stage_and_probability(self):
        self.login(self.owner)
        response = self.client.post(self.url("add"), self.form_data())
        self.assertEqual(response.status_code, 302)
        opp = Opportunity.objects.get(name="ERP 升级项目")
        self.assertEqual(opp.stage, stage("初步接触"))
        self.assertEqual(opp.probability, 10)
        self.assertEqual(opp.owner, self.owner)

    def test_bad_amount_and_dates_give_field_errors(self):
        self.login(self.owner)
        data = self.form_data()
        for field, value in (("amount", "-1"), ("amount", "1000000000000000"), ("expected_close", "1900-01-01"),
                             ("expected_close", f"{timezone.localdate().year + 20}-01-01")):
            before = Opportunity.objects.count()
            response = self.client.post(self.url("add"), {**data, field: value})
            self.assertEqual(response.status_code, 400)
            self.assertIn(field, response.context["form"].errors)
            self.assertEqual(Opportunity.objects.count(), before)

    def test_duplicate_warning_then_confirm(self):
        opp = self.make_object(self.owner)
        self.login(self.owner)
        data = {"name": opp.name, "customer": opp.customer_id, "amount": "10", "currency": "CNY"}
        response = self.client.post(self.url("add"), data)
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, 'data-testid="duplicate-warning"', status_code=400)
        response = self.client.post(self.url("add"), {**data, "_confirm_duplicates": "1"})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Opportunity.objects.filter(name=opp.name).count(), 2)

    def test_detail_shows_stage_bar_checklist_and_history(self):
        opp = self.make_object(self.owner)
        self.login(self.owner)
        response = self.client.get(self.url("detail", opp))
        self.assertContains(response, 'data-testid="stage-progress"')
        self.assertContains(response, 'data-testid="checklist"')
        response = self.client.get(self.url("detail", opp), {"tab": "history"})
        self.assertContains(response, 'data-testid="stage-history"')

    def test_list_filters(self):
        a = make_opportunity(self.owner, amount=Decimal("500"), expected_close=datetime.date(2030, 3, 5))
        b = make_opportunity(self.owner, amount=Decimal("90000"), expected_close=datetime.date(2030, 4, 5))
        self.login(self.owner)
        url = self.url("list")
        for params, expected in (
            ({"amount_min": "1000"}, {b.pk}),
            ({"amount_max": "1000"}, {a.pk}),
            ({"close_month": "2030-03"}, {a.pk}),
            ({"close_after": "2030-04-01", "close_before": "2030-04-30"}, {b.pk}),
            ({"stage": stage("初步接触").pk, "state": "open", "pipeline": a.pipeline_id}, {a.pk, b.pk}),
            ({"owner": self.owner.pk, "department": self.team_a.pk}, {a.pk, b.pk}),
            ({"state": "won"}, set()),
        ):
            response = self.client.get(url, params)
            self.assertEqual(response.status_code, 200)
            self.assertEqual({row.pk for row in response.context["table"].rows}, expected, params)
        self.assertEqual(self.client.get(url, {"_filters": "1"}).status_code, 200)


class TestMoveAndKanban(ViewTestCases.Base):
    def setUp(self):
        self.opp = make_opportunity(self.owner, amount=Decimal("1000"))

    def move(self, opp, stage_obj, **extra):
        data = {"stage": stage_obj.pk, "version": opp.version, "_from": "kanban", **extra}
        return self.client.post(reverse("opportunities:opportunity_move", args=[opp.pk]), data, **HTMX)

    def test_refused_move_returns_gate_form_into_the_modal(self):
        self.login(self.owner)
        response = self.move(self.opp, stage("需求确认"))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["HX-Retarget"], "#gate-modal-body")
        self.assertIn("gate:refused", response["HX-Trigger"])
        self.assertContains(response, 'data-testid="gate-form"')
        items = ChecklistItem.objects.filter(stage=stage("初步接触"))
        for item in items:
            self.assertContains(response, f'data-gate-checklist="{item.pk}"')
        self.opp.refresh_from_db()
        self.assertEqual(self.opp.stage, stage("初步接触"))

    def test_gate_form_filled_in_place_moves(self):
        self.login(self.owner)
        items = list(ChecklistItem.objects.filter(stage=stage("初步接触")))
        missing = {f"checklist_{i.pk}": ["x"] for i in items}
        data = {"_gate": "1", "_missing": json.dumps(missing)}
        for item in items:
            data[f"checklist_{item.pk}_done"] = "on"
            if item.needs_note:
                data[f"checklist_{item.pk}_note"] = "客户需要 CRM"
        response = self.move(self.opp, stage("需求确认"), **data)
        self.assertEqual(response.status_code, 200)
        self.assertIn("kanban:moved", response["HX-Trigger"])
        self.assertContains(response, 'data-testid="kanban-card"')
        self.opp.refresh_from_db()
        self.assertEqual(self.opp.stage, stage("需求确认"))
        self.assertEqual(self.opp.version, 1)

    def test_stale_kanban_is_refused(self):
        self.login(self.owner)
        complete_stage(self.owner, self.opp)
        stale_version = self.opp.version
        services.move_opportunity(self.owner, self.opp, stage("需求确认"))
        response = self.client.post(reverse("opportunities:opportunity_move", args=[self.opp.pk]),
                                    {"stage": stage("方案报价").pk, "version": stale_version, "_from": "kanban"}, **HTMX)
        self.assertContains(response, 'data-testid="stale"')
        self.opp.refresh_from_db()
        self.assertEqual(self.opp.stage, stage("需求确认"))

    def test_move_to_other_pipeline_refused(self):
        other = services.save_pipeline(self.admin, Pipeline(name="渠道流程"))
        self.login(self.owner)
        response = self.move(self.opp, Stage.objects.filter(pipeline=other).first())
        self.assertContains(response, 'data-error-for="stage"')
        self.opp.refresh_from_db()
        self.assertEqual(self.opp.pipeline.is_default, True)

    def test_out_of_scope_and_refused_users(self):
        self.login(self.outsider)
        self.assertEqual(self.move(self.opp, stage("输单")).status_code, 404)
        self.login(self.noperm)
        self.assertEqual(self.move(self.opp, stage("输单")).status_code, 403)
        self.assertEqual(self.client.get(reverse("opportunities:kanban")).status_code, 403)

    def test_lose_from_detail_page(self):
        self.login(self.owner)
        url = reverse("opportunities:opportunity_move", args=[self.opp.pk])
        reason = LossReason.objects.get(name="功能不满足")
        response = self.client.post(url, {"stage": stage("输单").pk, "version": 0, "_gate": "1", "_missing": "{}", "loss_reason": reason.pk}, **HTMX)
        self.assertEqual(response.status_code, 204)
        self.assertEqual(response["HX-Redirect"], self.opp.get_absolute_url())
        self.opp.refresh_from_db()
        self.assertEqual(self.opp.loss_reason, reason)

    def test_checklist_tick(self):
        self.login(self.owner)
        item = ChecklistItem.objects.get(stage=stage("初步接触"), needs_note=True)
        url = reverse("opportunities:opportunity_checklist", args=[self.opp.pk, item.pk])
        response = self.client.post(url, {"done": "1"}, **HTMX)
        self.assertContains(response, "invalid-feedback")
        self.assertFalse(self.opp.checklist_done.exists())
        self.client.post(url, {"done": "1", "note": "张总拍板"}, **HTMX)
        self.assertEqual(self.opp.checklist_done.get().note, "张总拍板")

    def test_kanban_board(self):
        stalled = make_opportunity(self.owner, amount=Decimal("2000"))
        Opportunity.objects.filter(pk=stalled.pk).update(stage_entered_at=timezone.now() - datetime.timedelta(days=40))
        self.login(self.owner)
        response = self.client.get(reverse("opportunities:kanban"))
        self.assertEqual(response.status_code, 200)
        columns = {c.stage.name: c for c in response.context["columns"]}
        self.assertEqual(columns["初步接触"].count, 2)
        self.assertEqual(columns["初步接触"].amount, Decimal("3000"))
        self.assertEqual(columns["初步接触"].weighted, Decimal("300"))
        self.assertContains(response, 'data-testid="stalled"', count=1)
        response = self.client.get(reverse("opportunities:kanban"), {"amount_min": "1500"})
        self.assertEqual(response.context["columns"][0].count, 1)
        response = self.client.get(reverse("opportunities:kanban_summary", args=[self.opp.pipeline_id]))
        self.assertEqual(response.json()["columns"][str(stage("初步接触").pk)]["count"], 2)

    def test_read_only_user_sees_board_without_move_controls(self):
        finance = factories.make_user("finance_k", ["finance"], self.team_a)
        self.login(finance)
        response = self.client.get(reverse("opportunities:kanban"))
        self.assertContains(response, f'id="kanban-card-{self.opp.pk}"')
        self.assertNotContains(response, "data-move-menu title")
        self.assertContains(response, 'data-can-move="0"')
        self.assertEqual(self.move(self.opp, stage("输单")).status_code, 403)

    def test_list_joins_only_the_relations_its_columns_show(self):
        lost = make_opportunity(self.owner, amount=Decimal("10"))
        services.move_opportunity(self.owner, lost, stage("输单"), loss_reason=LossReason.objects.first())
        self.login(self.admin)
        url = reverse("opportunities:opportunity_list")

        def page_queries(**params):
            with CaptureQueriesContext(connection) as ctx:
                self.assertEqual(self.client.get(url, params).status_code, 200)
            return [q["sql"] for q in ctx.captured_queries]

        rows_sql = next(sql for sql in page_queries() if '"opportunities_opportunity"."name"' in sql and "JOIN" in sql)
        self.assertIn('"customers_customer"', rows_sql)
        self.assertNotIn('"opportunities_pipeline"', rows_sql)  # no pipeline column by default
        everything = ",".join(["name", "customer_link", "pipeline", "stage", "owner", "department", "source", "loss_reason"])
        few = page_queries(columns=everything)
        for _ in range(5):
            make_opportunity(self.owner, amount=Decimal("10"))
        many = page_queries(columns=everything)
        self.assertEqual(len(few), len(many))  # every shown relation is joined: no query per row

    def test_kanban_queries_do_not_grow_and_columns_page(self):
        self.login(self.admin)
        with CaptureQueriesContext(connection) as few:
            self.client.get(reverse("opportunities:kanban"))
        for _ in range(35):
            make_opportunity(self.owner, amount=Decimal("10"))
        with CaptureQueriesContext(connection) as many:
            response = self.client.get(reverse("opportunities:kanban"))
        self.assertEqual(len(few), len(many))
        first = response.context["columns"][0]
        self.assertEqual(len(first.cards), 30)
        self.assertTrue(first.has_more)
        self.assertContains(response, 'data-testid="kanban-more"')
        more = self.client.get(reverse("opportunities:kanban_column", args=[first.stage.pipeline_id, first.stage.pk]),
                               {"before": first.last_id})
        self.assertEqual(more.content.decode().count('data-testid="kanban-card"'), 6)

    def test_bulk_move_and_transfer(self):
        ready = make_opportunity(self.owner, amount=Decimal("10"))
        complete_stage(self.owner, ready)
        self.login(self.admin)
        response = self.client.post(reverse("opportunities:opportunity_bulk_move"),
                                    {"pk": [self.opp.pk, ready.pk], "stage": stage("需求确认").pk, "_apply": "1"})
        self.assertContains(response, 'data-testid="bulk-move-results"')
        self.assertContains(response, 'data-ok="1"', count=1)
        self.assertContains(response, 'data-ok="0"', count=1)
        ready.refresh_from_db()
        self.assertEqual(ready.stage, stage("需求确认"))
        response = self.client.post(reverse("opportunities:opportunity_bulk_transfer"), {"pk": [self.opp.pk], "owner": self.outsider.pk, "_apply": "1"})
        self.assertEqual(response.status_code, 302)
        self.opp.refresh_from_db()
        self.assertEqual(self.opp.owner, self.outsider)

    def test_customer_tab_and_timeline(self):
        self.login(self.owner)
        response = self.client.get(self.opp.customer.get_absolute_url(), {"tab": "opportunities"})
        self.assertContains(response, 'data-testid="customer-opportunities"')
        self.assertContains(response, self.opp.name)


class TestSettingsPages(ViewTestCases.Base):
    def test_admin_pages(self):
        self.login(self.admin)
        pipeline = Pipeline.objects.get(is_default=True)
        first = stage("初步接触")
        for url in (
            reverse("opportunities:pipeline_list"), reverse("opportunities:pipeline_add"), pipeline.get_absolute_url(),
            reverse("opportunities:pipeline_edit", args=[pipeline.pk]), reverse("opportunities:stage_add", args=[pipeline.pk]),
            reverse("opportunities:stage_edit", args=[first.pk]), reverse("opportunities:stage_delete", args=[first.pk]),
            reverse("opportunities:checklistitem_add", args=[first.pk]), reverse("opportunities:lossreason_list"),
            reverse("opportunities:lossreason_add"), reverse("opportunities:competitor_list"), reverse("opportunities:competitor_add"),
        ):
            self.assertEqual(self.client.get(url).status_code, 200, url)

    def test_create_pipeline_and_stage(self):
        self.login(self.admin)
        response = self.client.post(reverse("opportunities:pipeline_add"), {"name": "渠道销售", "order": "20"})
        self.assertEqual(response.status_code, 302)
        pipeline = Pipeline.objects.get(name="渠道销售")
        self.assertEqual(len(stages(pipeline)), 3)
        response = self.client.post(reverse("opportunities:stage_add", args=[pipeline.pk]), {
            "name": "报价", "kind": "open", "probability": "40", "forecast_category": "best_case", "time_limit_days": "7",
            "required_fields": ["amount", "expected_close"], "color": "#3366ff", "is_active": "on",
        })
        self.assertEqual(response.status_code, 302, response.content[:3000])
        new = Stage.objects.get(pipeline=pipeline, name="报价")
        self.assertEqual(new.required_fields, ["amount", "expected_close"])
        self.assertLess(new.order, Stage.objects.get(pipeline=pipeline, kind="won").order)
        response = self.client.post(reverse("opportunities:stage_add", args=[pipeline.pk]), {
            "name": "坏颜色", "kind": "open", "probability": "40", "forecast_category": "pipeline", "color": "red;x:y"})
        self.assertEqual(response.status_code, 400)

    def test_reorder_and_delete_stage_with_deals(self):
        opp = make_opportunity(self.owner)
        pipeline = Pipeline.objects.get(is_default=True)
        ids = [s.pk for s in stages(pipeline)]
        self.login(self.admin)
        response = self.client.post(reverse("opportunities:stage_reorder", args=[pipeline.pk]), {"stage": [ids[-1]] + ids[:-1]}, **HTMX)
        self.assertContains(response, 'data-testid="reorder-error"')
        self.client.post(reverse("opportunities:stage_reorder", args=[pipeline.pk]), {"stage": [ids[1], ids[0]] + ids[2:]}, **HTMX)
        self.assertEqual([s.pk for s in stages(pipeline)][:2], [ids[1], ids[0]])
        first = stage("初步接触")
        response = self.client.get(reverse("opportunities:stage_delete", args=[first.pk]))
        self.assertContains(response, 'data-testid="stage-holds-deals"')
        response = self.client.post(reverse("opportunities:stage_delete", args=[first.pk]), {})
        self.assertEqual(response.status_code, 400)
        self.assertTrue(Stage.objects.get(pk=first.pk).is_active)
        response = self.client.post(reverse("opportunities:stage_delete", args=[first.pk]), {"move_to": stage("需求确认").pk})
        self.assertEqual(response.status_code, 302)
        opp.refresh_from_db()
        self.assertEqual(opp.stage, stage("需求确认"))
        self.assertTrue(StageChange.objects.filter(opportunity=opp, to_stage=stage("需求确认")).exists())

    def test_rep_cannot_edit_settings(self):
        self.login(self.owner)
        pipeline = Pipeline.objects.get(is_default=True)
        self.assertEqual(self.client.get(pipeline.get_absolute_url()).status_code, 200)  # view only
        self.assertEqual(self.client.get(reverse("opportunities:pipeline_edit", args=[pipeline.pk])).status_code, 403)
        self.assertEqual(self.client.post(reverse("opportunities:stage_reorder", args=[pipeline.pk]), {"stage": []}).status_code, 403)
        self.assertEqual(self.client.get(reverse("opportunities:lossreason_add")).status_code, 403)
        self.login(self.noperm)
        self.assertEqual(self.client.get(reverse("opportunities:pipeline_list")).status_code, 403)
