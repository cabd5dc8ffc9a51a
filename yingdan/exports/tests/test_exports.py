import csv
import io

import pytest
from django.test import override_settings
from django.urls import reverse
from openpyxl import load_workbook

from yingdan.core.models import ObjectChange
from yingdan.core.tests.api_base import api_client, assert_error
from yingdan.core.tests.factories import PASSWORD, make_customer, make_department, make_role, make_user
from yingdan.exports.models import ExportJob
from yingdan.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def env():
    d1 = make_department("一部")
    rep = make_user("rep1", ["rep"], d1)
    other = make_user("rep2", ["rep"], d1)
    mine = [make_customer(rep, name=f"我的客户{i}", city="杭州" if i % 2 else "上海") for i in range(6)]
    evil = make_customer(rep, name="=HYPERLINK(\"http://x\")", city="杭州", short_name="-123")
    theirs = make_customer(other, name="别人的客户", city="杭州")
    return type("Env", (), {"rep": rep, "other": other, "mine": mine, "evil": evil, "theirs": theirs, "d1": d1})


def web(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def export_url(fmt, **params):
    from urllib.parse import urlencode

    return reverse("exports:export_new") + "?" + urlencode({"path": reverse("customers:customer_list"), "format": fmt, **params})


def read_csv(response):
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_filters_scope_columns_formula_bom(client, env):
    web(client, env.rep)
    response = client.get(export_url("csv", city="杭州", columns="name,city,short_name"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    assert len(rows[0]) == 3
    names = {r[0] for r in rows[1:]}
    assert "别人的客户" not in names  # data scope
    assert "我的客户1" in names and "我的客户0" not in names  # the filter
    assert "'=HYPERLINK(\"http://x\")" in names  # formula neutralised
    assert any(r[2] == "'-123" for r in rows[1:])
    assert all(r[1] == "杭州" for r in rows[1:])
    job = ExportJob.objects.get(user=env.rep)
    assert job.row_count == len(rows) - 1 and job.filters["city"] == "杭州" and not job.background
    assert ObjectChange.objects.filter(object_id=job.pk, content_type__app_label="exports").exists()


def test_xlsx_readable_and_hidden_fields_absent(client, env):
    role = make_role("仅看名称", {"customers": {"actions": ["view", "export"], "scope": "all"}}, {"customers": {"short_name": "hidden", "city": "hidden"}})
    user = make_user("limited", roles=[role], department=env.d1)
    web(client, user)
    response = client.get(export_url("xlsx", columns="name,short_name,city,owner"))
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    assert len(rows[0]) == 2  # name, owner: short name and city are hidden for this role
    values = [v for r in rows for v in r if v]
    assert "-123" not in values and "'-123" not in values and "杭州" not in values
    assert len(rows) == 1 + 8  # scope "all"
    assert "'=HYPERLINK(\"http://x\")" in values


def test_refused_without_export_action(client, env):
    role = make_role("只读", {"customers": {"actions": ["view"], "scope": "all"}})
    user = make_user("viewer", roles=[role], department=env.d1)
    web(client, user)
    assert client.get(export_url("csv")).status_code == 403
    response = client.get(reverse("customers:customer_list"))
    assert b'data-testid="export-menu"' not in response.content
    assert api_client(user).post("/api/v1/exports/", {"object": "customers"}, format="json").status_code == 403
    assert not ExportJob.objects.exists()


def test_list_page_has_export_menu(client, env):
    web(client, env.rep)
    assert b'data-testid="export-csv"' in client.get(reverse("customers:customer_list")).content


@override_settings(EXPORT_SYNC_MAX_ROWS=3)
def test_large_export_runs_as_job_with_notification_and_owner_download(client, env):
    web(client, env.rep)
    response = client.get(export_url("xlsx", city="杭州"))
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert job.background and job.status == "done" and job.row_count == 4 and job.file
    note = Notification.objects.get(recipient=env.rep, kind="export_ready")
    assert note.url == job.get_download_url()
    download = client.get(job.get_download_url())
    assert download.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(download.streaming_content)), read_only=True)
    assert len(list(wb.active.iter_rows(values_only=True))) == 5
    client.logout()
    web(client, env.other)
    assert client.get(job.get_download_url()).status_code == 404
    assert client.get(reverse("exports:export_list")).status_code == 200


def test_api_export_job(env):
    api = api_client(env.rep)
    response = api.post("/api/v1/exports/", {"object": "customers", "format": "csv", "filters": {"city": "上海"}, "columns": ["name", "city"]}, format="json")
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    detail = api.get(f"/api/v1/exports/{job_id}/").json()
    assert detail["status"] == "done" and detail["row_count"] == 3 and detail["file_url"]
    assert api_client(env.other).get(f"/api/v1/exports/{job_id}/").status_code == 404
    assert_error(api.post("/api/v1/exports/", {"object": "nope"}, format="json"), 400, "object")


def test_rendered_html_cells_export_their_text_with_entities_decoded():
    from django.utils.safestring import mark_safe

    from yingdan.exports.services import cell_value

    assert cell_value(mark_safe('<span class="badge">A&amp;B 阶段</span>')) == "A&B 阶段"
    assert cell_value("A&amp;B") == "A&amp;B"  # plain text stays exactly as stored
