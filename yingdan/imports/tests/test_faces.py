import io

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse

from yingdan.core.tests.api_base import api_client
from yingdan.core.tests.factories import PASSWORD, make_department, make_user
from yingdan.customers.models import Customer
from yingdan.imports.models import ImportJob

from .helpers import csv_bytes, upload, xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def env(client):
    d = make_department("华南")
    admin = make_user("f_admin", ["admin"], department=d)
    finance = make_user("f_fin", ["finance"], department=d)
    return type("E", (), {"d": d, "admin": admin, "finance": finance})


def test_web_upload_map_preview_run_undo(client, env):
    client.login(username="f_admin", password=PASSWORD)
    assert client.get(reverse("imports:job_list")).status_code == 200
    data = xlsx_bytes([["客户名称", "备注"], ["网页公司", "x"], ["", "无名"]])
    r = client.post(reverse("imports:upload"), {"object_type": "customers", "file": upload(data)})
    assert r.status_code == 302, r.content.decode()[:2000]
    job = ImportJob.objects.get()
    assert client.get(reverse("imports:job_map", args=[job.pk])).status_code == 200
    r = client.post(reverse("imports:job_map", args=[job.pk]), {"col_0": "name", "col_1": "remarks", "mode": "skip",
                                                                 "preview": "1", "save_as": "我的映射"})
    assert r.status_code == 302
    job.refresh_from_db()
    assert job.status == "previewed" and job.created == 1 and job.failed == 1
    assert not Customer.objects.exists()
    r = client.get(reverse("imports:job_detail", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert b'data-status="previewed"' in r.content
    client.post(reverse("imports:job_run", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "done" and Customer.objects.filter(name="网页公司").exists()
    r = client.get(reverse("imports:job_errors", args=[job.pk]))
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert wb.active.max_row == 2
    client.post(reverse("imports:job_undo", args=[job.pk]))
    assert not Customer.objects.exists()
    assert client.get(reverse("imports:template", args=["customers"])).status_code == 200


def test_web_refused(client, env):
    client.login(username="f_fin", password=PASSWORD)
    assert client.get(reverse("imports:upload")).status_code in (403, 200)
    r = client.post(reverse("imports:upload"), {"object_type": "customers", "file": upload(csv_bytes([["客户名称"], ["x"]]), "a.csv")})
    assert r.status_code in (200, 403)
    assert not ImportJob.objects.exists()


def test_api(env):
    c = api_client(env.admin)
    data = csv_bytes([["客户名称", "电话"], ["接口公司", ""], ["坏", "abc"]])
    r = c.post("/api/v1/imports/", {"file": upload(data, "a.csv"), "object": "customers", "dry_run": "true"}, format="multipart")
    assert r.status_code == 201, r.data
    assert r.data["status"] == "previewed" and r.data["created"] == 1 and r.data["failed"] == 1
    r = c.post("/api/v1/imports/", {"file": upload(data, "a.csv"), "object": "customers"}, format="multipart")
    job_id = r.data["id"]
    r = c.get(f"/api/v1/imports/{job_id}/")
    assert r.data["status"] == "done" and r.data["created"] == 1
    r = c.get(f"/api/v1/imports/{job_id}/errors/")
    assert r.status_code == 200 and "abc" in r.content.decode("utf-8-sig")
    r = c.post(f"/api/v1/imports/{job_id}/undo/")
    assert r.status_code == 200 and r.data["removed"] == 1
    assert api_client(env.finance).post("/api/v1/imports/", {"file": upload(data, "a.csv"), "object": "customers"}, format="multipart").status_code == 403
    assert api_client(env.finance).get(f"/api/v1/imports/{job_id}/").status_code == 404
    r = c.post("/api/v1/imports/", {"file": upload(b"\x00\x01garbage\x00", "a.xlsx"), "object": "customers"}, format="multipart")
    assert r.status_code == 400


def test_cli(env, tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(csv_bytes([["客户名称"], ["命令行公司"]], "gbk"))
    out = io.StringIO()
    call_command("import", "customers", str(path), "--dry-run", "--user", "f_admin", stdout=out)
    assert "created=1" in out.getvalue() and not Customer.objects.exists()
    call_command("import", "customers", str(path), "--mode", "update", "--user", "f_admin", stdout=out)
    assert Customer.objects.filter(name="命令行公司").exists()


def test_import_button_on_list(client, env):
    client.login(username="f_admin", password=PASSWORD)
    r = client.get(reverse("customers:customer_list"))
    assert b'data-testid="import-button"' in r.content
    client.logout()
    client.login(username="f_fin", password=PASSWORD)
    r = client.get(reverse("customers:customer_list"))
    assert b'data-testid="import-button"' not in r.content


def test_api_list(env):
    c = api_client(env.admin)
    c.post("/api/v1/imports/", {"file": upload(csv_bytes([["客户名称"], ["列表公司"]]), "a.csv"), "object": "customers", "dry_run": "true"}, format="multipart")
    r = c.get("/api/v1/imports/")
    assert r.status_code == 200
    assert api_client(env.finance).get("/api/v1/imports/").status_code == 200
