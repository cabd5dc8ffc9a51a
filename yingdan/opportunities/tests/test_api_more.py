"""API endpoints added by the coverage audit: checklist status/tick, attachments, bulk move/transfer/delete,
stage reorder and checklist-item settings. Each calls the same service as the page and refuses like it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from yingdan.core.models import ObjectChange
from yingdan.core.tests.api_base import api_client, assert_error
from yingdan.core.tests.factories import make_department, make_user

from .. import services
from ..models import ChecklistCompletion, ChecklistItem, Opportunity, Stage
from .helpers import default_pipeline, make_opportunity, stage, stages


class Env:
    pass


@pytest.fixture
def env():
    e = Env()
    e.team = make_department("华东一组")
    e.rep = make_user("api_rep", ["rep"], e.team)
    e.other = make_user("api_rep2", ["rep"], e.team)
    e.manager = make_user("api_mgr", ["manager"], e.team)
    e.admin = make_user("api_admin", ["admin"], e.team)
    e.noperm = make_user("api_noperm", [], e.team)
    e.opp = make_opportunity(e.rep, amount=Decimal("1000"))
    e.first = stage("初步接触")
    e.item = ChecklistItem.objects.create(stage=e.first, text="上传拜访纪要", required=True, needs_note=True, needs_attachment=True, order=99)
    e.client = api_client(e.rep)
    return e


def tick_url(opp, item):
    return reverse("opportunity-checklist-tick", args=[opp.pk, item.pk])


@pytest.mark.django_db
class TestChecklist:
    def test_status_lists_the_current_stage(self, env):
        response = env.client.get(reverse("opportunity-checklist", args=[env.opp.pk]))
        assert response.status_code == 200, response.json()
        rows = {r["item"]["id"]: r for r in response.json()}
        expected = {r["item"].pk for r in services.checklist_status(env.opp)}
        assert set(rows) == expected
        assert rows[env.item.pk]["lacks"] == ["done", "note", "attachment"] and rows[env.item.pk]["complete"] is False

    def test_tick_needs_what_the_step_needs(self, env):
        assert_error(env.client.post(tick_url(env.opp, env.item), {"note": "见客户"}, format="json"), 400, field="attachment")
        assert_error(env.client.post(tick_url(env.opp, env.item), {}, format="json"), 400, field="note")
        assert not ChecklistCompletion.objects.filter(opportunity=env.opp, item=env.item).exists()

    def test_tick_with_uploaded_file_then_untick(self, env):
        upload = SimpleUploadedFile("纪要.pdf", b"%PDF-1.4 minutes", content_type="application/pdf")
        response = env.client.post(tick_url(env.opp, env.item), {"note": "已拜访", "file": upload}, format="multipart")
        assert response.status_code == 200, response.json()
        row = next(r for r in response.json() if r["item"]["id"] == env.item.pk)
        assert row["complete"] and row["note"] == "已拜访" and row["attachment"]["name"] == "纪要.pdf"
        assert row["done_by"] == env.rep.pk
        completion = ChecklistCompletion.objects.get(opportunity=env.opp, item=env.item)
        assert completion.attachment.target_id == env.opp.pk
        assert ObjectChange.objects.filter(object_id=env.opp.pk, changes__has_key="checklist").exists()
        response = env.client.post(tick_url(env.opp, env.item), {"done": False}, format="json")
        assert response.status_code == 200
        assert not ChecklistCompletion.objects.filter(opportunity=env.opp, item=env.item).exists()

    def test_tick_with_an_uploaded_attachment_id(self, env):
        upload = SimpleUploadedFile("a.pdf", b"%PDF-1.4 a", content_type="application/pdf")
        response = env.client.post(reverse("opportunity-attachments", args=[env.opp.pk]), {"files": [upload]}, format="multipart")
        assert response.status_code == 201, response.json()
        attachment_id = response.json()[0]["id"]
        response = env.client.post(tick_url(env.opp, env.item), {"note": "ok", "attachment": attachment_id}, format="json")
        assert response.status_code == 200, response.json()
        assert ChecklistCompletion.objects.get(opportunity=env.opp, item=env.item).attachment_id == attachment_id
        # A file of another deal is refused.
        other_opp = make_opportunity(env.rep)
        upload = SimpleUploadedFile("b.pdf", b"%PDF-1.4 b", content_type="application/pdf")
        foreign = api_client(env.rep).post(reverse("opportunity-attachments", args=[other_opp.pk]), {"files": [upload]}, format="multipart")
        response = env.client.post(tick_url(env.opp, env.item), {"note": "x", "attachment": foreign.json()[0]["id"]}, format="json")
        assert_error(response, 400, field="attachment")

    def test_bad_file_type_is_refused(self, env):
        upload = SimpleUploadedFile("x.exe", b"MZ", content_type="application/octet-stream")
        assert_error(env.client.post(reverse("opportunity-attachments", args=[env.opp.pk]), {"files": [upload]}, format="multipart"), 400)

    def test_item_of_another_stage_is_refused(self, env):
        later = ChecklistItem.objects.filter(stage=stage("需求确认")).first()
        assert_error(env.client.post(tick_url(env.opp, later), {"note": "x"}, format="json"), 400, field="item")
        assert env.client.post(reverse("opportunity-checklist-tick", args=[env.opp.pk, 999999]), {}, format="json").status_code == 404

    def test_scope_and_permission(self, env):
        assert_error(api_client(env.other).get(reverse("opportunity-checklist", args=[env.opp.pk])), 404)
        assert_error(api_client(env.other).post(tick_url(env.opp, env.item), {"note": "x"}, format="json"), 404)
        assert_error(api_client(env.noperm).post(tick_url(env.opp, env.item), {"note": "x"}, format="json"), 403)
        upload = SimpleUploadedFile("a.pdf", b"%PDF-1.4 a", content_type="application/pdf")
        assert_error(api_client(env.other).post(reverse("opportunity-attachments", args=[env.opp.pk]), {"files": [upload]},
                                                format="multipart"), 404)


@pytest.mark.django_db
class TestBulkActions:
    def test_bulk_move_passes_the_gate_per_row(self, env):
        ready = make_opportunity(env.rep, amount=Decimal("500"))
        ChecklistItem.objects.filter(pk=env.item.pk).update(is_active=False)
        from .helpers import complete_stage

        complete_stage(env.rep, ready)
        target = stage("需求确认")
        response = env.client.post(reverse("opportunity-bulk-move"), {"ids": [env.opp.pk, ready.pk], "stage": target.pk}, format="json")
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["moved"] == 1 and body["failed"] == 1, body
        by_id = {r["id"]: r for r in body["results"]}
        assert by_id[ready.pk]["ok"] and not by_id[env.opp.pk]["ok"] and by_id[env.opp.pk]["errors"]
        # Same result as the service the list page calls.
        ready.refresh_from_db()
        env.opp.refresh_from_db()
        assert ready.stage_id == target.pk and env.opp.stage_id == env.first.pk

    def test_bulk_move_skips_rows_out_of_scope(self, env):
        theirs = make_opportunity(env.other)
        response = env.client.post(reverse("opportunity-bulk-move"), {"ids": [theirs.pk], "stage": stage("输单").pk}, format="json")
        assert response.status_code == 200 and response.json()["results"] == []
        assert_error(api_client(env.noperm).post(reverse("opportunity-bulk-move"), {"ids": [theirs.pk], "stage": stage("输单").pk},
                                                 format="json"), 403)

    def test_transfer_needs_transfer_and_scope(self, env):
        assert_error(env.client.post(reverse("opportunity-transfer"), {"ids": [env.opp.pk], "owner": env.other.pk}, format="json"), 403)
        outsider = make_opportunity(make_user("api_far", ["rep"], make_department("华南")))
        response = api_client(env.manager).post(reverse("opportunity-transfer"), {"ids": [env.opp.pk, outsider.pk], "owner": env.other.pk},
                                                format="json")
        assert response.status_code == 200, response.json()
        assert response.json() == {"count": 1}
        env.opp.refresh_from_db()
        outsider.refresh_from_db()
        assert env.opp.owner_id == env.other.pk and outsider.owner_id != env.other.pk

    def test_bulk_delete(self, env):
        assert_error(env.client.post(reverse("opportunity-bulk-delete"), {"ids": [env.opp.pk]}, format="json"), 403)
        response = api_client(env.manager).post(reverse("opportunity-bulk-delete"), {"ids": [env.opp.pk, 999999]}, format="json")
        assert response.status_code == 200 and response.json() == {"count": 1}
        assert not Opportunity.objects.filter(pk=env.opp.pk).exists()
        assert_error(api_client(env.manager).post(reverse("opportunity-bulk-delete"), {"ids": []}, format="json"), 400, field="ids")


@pytest.mark.django_db
class TestSettings:
    def test_reorder_stages(self, env):
        pipeline = default_pipeline()
        open_ids = [s.pk for s in stages(pipeline)]
        new_order = [open_ids[1], open_ids[0], *open_ids[2:]]
        url = reverse("pipeline-reorder", args=[pipeline.pk])
        assert_error(env.client.post(url, {"stages": new_order}, format="json"), 403)
        response = api_client(env.admin).post(url, {"stages": new_order}, format="json")
        assert response.status_code == 200, response.json()
        assert [s["id"] for s in response.json()] == new_order
        assert [s.pk for s in Stage.objects.filter(pipeline=pipeline, is_active=True).order_by("order")] == new_order
        assert_error(api_client(env.admin).post(url, {"stages": new_order[:-1]}, format="json"), 400)
        # Open stages after won/lost: the service's refusal, nothing changed.
        assert_error(api_client(env.admin).post(url, {"stages": list(reversed(new_order))}, format="json"), 400)
        assert [s.pk for s in Stage.objects.filter(pipeline=pipeline, is_active=True).order_by("order")] == new_order

    def test_checklist_items_crud(self, env):
        admin = api_client(env.admin)
        url = reverse("checklistitem-list")
        payload = {"stage": env.first.pk, "text": "确认预算", "needs_note": True}
        assert_error(env.client.post(url, payload, format="json"), 403)
        response = admin.post(url, payload, format="json")
        assert response.status_code == 201, response.json()
        item_id = response.json()["id"]
        assert env.client.get(url, {"stage": env.first.pk}).status_code == 200
        detail = reverse("checklistitem-detail", args=[item_id])
        assert admin.patch(detail, {"text": "确认预算和决策人"}, format="json").json()["text"] == "确认预算和决策人"
        assert_error(admin.patch(detail, {"stage": stage("需求确认").pk}, format="json"), 400, field="stage")
        # Ticked once → deleting deactivates it (the page's rule).
        item = ChecklistItem.objects.get(pk=item_id)
        services.complete_checklist_item(env.rep, env.opp, item, note="预算 10 万")
        assert admin.delete(detail).status_code == 204
        assert ChecklistItem.objects.get(pk=item_id).is_active is False
        fresh = admin.post(url, {"stage": env.first.pk, "text": "临时"}, format="json").json()["id"]
        assert admin.delete(reverse("checklistitem-detail", args=[fresh])).status_code == 204
        assert not ChecklistItem.objects.filter(pk=fresh).exists()
        assert_error(env.client.delete(reverse("checklistitem-detail", args=[item_id])), 403)
