"""API /api/v1/tasks/: CRUD through the services, scope (404), refused module (403), linked record, complete."""

from __future__ import annotations

import pytest

from yingdan.core.tests.api_base import api_client, assert_error
from yingdan.core.tests.factories import make_customer, make_department, make_user

from ..models import Status, Task
from .helpers import make_task

pytestmark = pytest.mark.django_db


def test_task_api():
    team = make_department("接口组")
    rep = make_user("arep", ["rep"], team)
    rep2 = make_user("arep2", ["rep"], make_department("接口二组"))
    nobody = make_user("anobody", [], team)
    customer = make_customer(rep, name="接口客户")
    other = make_customer(rep2, name="接口别人客户")
    c = api_client(rep)
    r = c.post("/api/v1/tasks/", {"title": "接口任务", "due_at": "2026-12-01T10:00:00+08:00", "priority": "high",
                                  "linked_type": "customers.customer", "linked_id": customer.pk, "recurrence": "weekly"},
               format="json")
    assert r.status_code == 201, r.json()
    data = r.json()
    assert data["linked_type"] == "customers.customer" and data["linked_id"] == customer.pk and data["owner"]["id"] == rep.pk
    pk = data["id"]
    assert_error(c.post("/api/v1/tasks/", {"title": "x", "linked_type": "customers.customer", "linked_id": other.pk},
                        format="json"), 400, "linked_id")
    r = c.get("/api/v1/tasks/", {"linked_type": "customers.customer", "linked_id": customer.pk})
    assert [t["id"] for t in r.json()["results"]] == [pk]
    r = c.patch(f"/api/v1/tasks/{pk}/", {"title": "改名"}, format="json")
    assert r.status_code == 200 and r.json()["linked_id"] == customer.pk
    r = c.post(f"/api/v1/tasks/{pk}/complete/")
    assert r.status_code == 200 and r.json()["status"] == Status.DONE
    assert Task.objects.filter(previous_id=pk).count() == 1
    theirs = make_task(rep2)
    assert c.get(f"/api/v1/tasks/{theirs.pk}/").status_code == 404
    assert api_client(nobody).get("/api/v1/tasks/").status_code == 403
    assert c.delete(f"/api/v1/tasks/{pk}/").status_code == 204
