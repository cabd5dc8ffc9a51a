"""/api/v1/imports/: the mapping page, the Run button and the template over the API (coverage audit) — the
same steps as the web flow: map → preview (dry run) → run → undo."""

import io

import openpyxl
import pytest

from yingdan.core.tests.api_base import api_client, assert_error
from yingdan.core.tests.factories import make_department, make_user
from yingdan.customers.models import Customer
from yingdan.imports.models import ImportJob, ImportMapping

from .helpers import csv_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def env():
    d = make_department("导入组")
    return type("E", (), {"admin": make_user("i_admin", ["admin"], department=d),
                          "finance": make_user("i_fin", ["finance"], department=d),
                          "other": make_user("i_other", ["admin"], department=d)})


def preview(client, rows):
    r = client.post("/api/v1/imports/", {"file": upload(csv_bytes(rows), "a.csv"), "object": "customers", "dry_run": "true"},
                    format="multipart")
    assert r.status_code == 201, r.json()
    return r.json()


def test_map_preview_run_like_the_web_flow(env):
    c = api_client(env.admin)
    job = preview(c, [["公司", "说明"], ["接口公司", "备注一"], ["", "无名"]])
    r = c.post(f"/api/v1/imports/{job['id']}/map/", {"columns": {"公司": "name", "1": "remarks"}, "mode": "skip",
                                                     "save_as": "接口映射"}, format="json")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["status"] == "previewed" and body["created"] == 1 and body["failed"] == 1
    assert ImportMapping.objects.get(name="接口映射").columns == {"公司": "name", "说明": "remarks"}
    assert not Customer.objects.exists()
    r = c.post(f"/api/v1/imports/{job['id']}/run/")
    assert r.status_code == 200 and r.json()["status"] == "done"
    assert Customer.objects.get(name="接口公司").remarks == "备注一"
    # Done: no second run, no re-mapping.
    assert_error(c.post(f"/api/v1/imports/{job['id']}/run/"), 400, field="status")
    assert_error(c.post(f"/api/v1/imports/{job['id']}/map/", {"columns": {}}, format="json"), 400, field="status")
    assert c.post(f"/api/v1/imports/{job['id']}/undo/").status_code == 200
    assert not Customer.objects.exists()


def test_map_validation(env):
    c = api_client(env.admin)
    job = preview(c, [["公司", "说明"], ["甲公司", "x"]])
    url = f"/api/v1/imports/{job['id']}/map/"
    assert_error(c.post(url, {"columns": {"没有这列": "name"}}, format="json"), 400, field="columns.没有这列")
    assert_error(c.post(url, {"columns": {"公司": "no_such_field"}}, format="json"), 400, field="columns.公司")
    assert_error(c.post(url, {"columns": {"公司": "name", "说明": "name"}}, format="json"), 400, field="columns")
    assert_error(c.post(url, {"mode": "merge"}, format="json"), 400, field="mode")
    assert ImportJob.objects.get(pk=job["id"]).status == "previewed"


def test_refusals(env):
    c = api_client(env.admin)
    job = preview(c, [["客户名称"], ["乙公司"]])
    # Someone else's job is not found; a user without import permission is refused.
    assert_error(api_client(env.other).post(f"/api/v1/imports/{job['id']}/run/"), 404)
    assert_error(api_client(env.finance).get("/api/v1/imports/template/", {"object": "customers"}), 403)
    assert not Customer.objects.exists()


def test_template(env):
    r = api_client(env.admin).get("/api/v1/imports/template/", {"object": "customers"})
    assert r.status_code == 200 and "spreadsheetml" in r["Content-Type"]
    headers = [c.value for c in next(openpyxl.load_workbook(io.BytesIO(r.content)).active.iter_rows(max_row=1))]
    assert headers
    assert_error(api_client(env.admin).get("/api/v1/imports/template/", {"object": "nope"}), 400, field="object")
