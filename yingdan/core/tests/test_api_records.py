"""/api/v1/saved-views/, /api/v1/attachments/{id}/(download/), /api/v1/timeline/{label}/{id}/."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from yingdan.core.models import SavedView
from yingdan.core.tests.api_base import api_client, assert_error
from yingdan.core.tests.factories import make_customer, make_department, make_user
from yingdan.followups.tests.helpers import make_followup

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    east, south = make_department("华东组"), make_department("华南组")
    return {
        "rep": make_user("api_rep", ["rep"], east, name="林晓峰"),
        "other": make_user("api_other", ["rep"], south, name="宋佳"),
        "nobody": make_user("api_nobody", [], east),
    }


# -- saved views ---------------------------------------------------------------------------------------
def test_saved_views_are_the_callers_own(people):
    rep, other = people["rep"], people["other"]
    client = api_client(rep)
    url = reverse("savedview-list")
    created = client.post(url, {"list_key": "customers.customer", "name": "A级客户", "query": "level=3&page=4&view=9",
                                "columns": ["name", "owner"], "is_default": True}, format="json")
    assert created.status_code == 201, created.data
    body = created.json()
    assert body["query"] == "level=3" and body["columns"] == ["name", "owner"] and body["is_default"]
    second = client.post(url, {"list_key": "customers.customer", "name": "本周", "is_default": True}, format="json").json()
    assert not SavedView.objects.get(pk=body["id"]).is_default and SavedView.objects.get(pk=second["id"]).is_default
    # the same name again replaces that view (as the list page's "save view" does)
    again = client.post(url, {"list_key": "customers.customer", "name": "A级客户", "query": "level=2"}, format="json")
    assert again.status_code == 201 and again.json()["id"] == body["id"] and again.json()["query"] == "level=2"
    assert sorted(v["name"] for v in client.get(url).json()["results"]) == sorted(["A级客户", "本周"])
    # renaming onto another view's name is refused; blank names too
    assert_error(client.patch(reverse("savedview-detail", args=[second["id"]]), {"name": "A级客户"}, format="json"), 400, field="name")
    assert_error(client.post(url, {"list_key": "customers.customer", "name": "  "}, format="json"), 400, field="name")
    renamed = client.patch(reverse("savedview-detail", args=[second["id"]]), {"name": "本月"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "本月" and renamed.json()["is_default"]
    # another user neither sees nor touches them
    intruder = api_client(other)
    assert intruder.get(url).json()["results"] == []
    assert_error(intruder.get(reverse("savedview-detail", args=[body["id"]])), 404)
    assert_error(intruder.delete(reverse("savedview-detail", args=[body["id"]])), 404)
    assert_error(api_client(rep, read_only=True).post(url, {"list_key": "x", "name": "y"}, format="json"), 403)
    assert client.delete(reverse("savedview-detail", args=[body["id"]])).status_code == 204
    assert list(SavedView.objects.filter(user=rep).values_list("name", flat=True)) == ["本月"]


# -- attachments ---------------------------------------------------------------------------------------
def _attached(people):
    rep = people["rep"]
    followup = make_followup(rep, customer=make_customer(rep, name="华为技术"))
    response = api_client(rep).post(reverse("followup-attachments", args=[followup.pk]),
                                    {"files": [SimpleUploadedFile("方案.pdf", b"%PDF-1.4 yingdan")]}, format="multipart")
    assert response.status_code == 201, response.data
    return response.json()[0]["id"]


def test_attachment_details_and_download_follow_the_records_visibility(people):
    pk = _attached(people)
    client = api_client(people["rep"])
    detail = client.get(reverse("attachment-detail", args=[pk]))
    assert detail.status_code == 200, detail.data
    body = detail.json()
    assert body["name"] == "方案.pdf" and body["record_type"] == "followups.followup" and body["size"] == 16
    download = client.get(body["download_url"], HTTP_ACCEPT="application/pdf")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 yingdan"
    assert download["Content-Type"] == "application/pdf" and "attachment" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    # outside the record's scope, or without the module: as if the file did not exist
    for user in (people["other"], people["nobody"]):
        assert_error(api_client(user).get(reverse("attachment-detail", args=[pk])), 404)
        assert_error(api_client(user).get(reverse("attachment-download", args=[pk])), 404)
    assert_error(client.get(reverse("attachment-detail", args=[pk + 1000])), 404)
    assert api_client().get(reverse("attachment-download", args=[pk])).status_code == 401


# -- timeline ------------------------------------------------------------------------------------------
def test_timeline_pages_and_scope(people, settings):
    from yingdan.core import timeline

    rep = people["rep"]
    customer = make_customer(rep, name="腾讯科技")
    for i in range(timeline.PAGE_SIZE + 5):
        make_followup(rep, customer=customer, content=f"第{i}次沟通")
    client = api_client(rep)
    url = reverse("timeline-record", args=["customers.customer", customer.pk])
    first = client.get(url)
    assert first.status_code == 200, first.data
    page = first.json()
    kinds = [e["kind"] for e in page["results"]]
    assert len(kinds) >= timeline.PAGE_SIZE and "followup" in kinds and page["next_before"]
    assert page["results"][0]["at"] >= page["results"][-1]["at"]
    followups = [e for e in page["results"] if e["kind"] == "followup"]
    assert followups[0]["actor"] == rep.pk and followups[0]["actor_name"]
    rest = client.get(url, {"before": page["next_before"]}).json()
    seen = {(e["at"], e["title"], e["body"]) for e in page["results"]}
    assert rest["results"] and not seen & {(e["at"], e["title"], e["body"]) for e in rest["results"]}
    assert_error(client.get(url, {"before": "yesterday"}), 400, field="before")
    # another rep's customer, an unknown kind of record, no module: refused without leaking
    assert_error(api_client(people["other"]).get(url), 404)
    assert_error(client.get(reverse("timeline-record", args=["core.savedview", 1])), 404)
    assert_error(api_client(people["nobody"]).get(url), 403)


def test_ids_that_cannot_exist_are_not_found(people):
    client = api_client(people["rep"])
    for bad in ("abc", "99999999999999999999"):
        assert_error(client.get(f"/api/v1/saved-views/{bad}/"), 404)
        assert_error(client.get(f"/api/v1/attachments/{bad}/"), 404)
        assert_error(client.get(f"/api/v1/attachments/{bad}/download/"), 404)
    assert_error(client.get("/api/v1/timeline/customers.customer/99999999999999999999/"), 404)
