"""API parity with the task pages (coverage audit): a status change by PATCH goes through set_status like the
page's buttons (recurrence, cancelled → done refused); bulk reassign and bulk delete endpoints."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from yingdan.core.tests.api_base import api_client, assert_error
from yingdan.core.tests.factories import make_department, make_user

from ..models import Task
from .helpers import make_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return make_department("任务组")


@pytest.fixture
def rep(team):
    return make_user("task_rep", ["rep"], team)


def test_patch_done_completes_like_the_page(rep):
    due = timezone.now() + datetime.timedelta(days=1)
    task = make_task(rep, due_at=due, recurrence="weekly")
    response = api_client(rep).patch(reverse("task-detail", args=[task.pk]), {"status": "done", "title": "周报"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "done" and response.json()["title"] == "周报" and response.json()["completed_at"]
    nxt = Task.objects.get(previous=task)
    assert nxt.status == "open" and nxt.due_at > due


def test_patch_cancelled_to_done_is_refused_and_rolls_back(rep):
    task = make_task(rep, status="cancelled")
    response = api_client(rep).patch(reverse("task-detail", args=[task.pk]), {"status": "done", "title": "改名"}, format="json")
    assert_error(response, 400)
    task.refresh_from_db()
    assert task.status == "cancelled" and task.title != "改名"
    ok = api_client(rep).patch(reverse("task-detail", args=[task.pk]), {"status": "in_progress"}, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == "in_progress"


def test_reassign_and_bulk_delete(rep, team):
    manager = make_user("task_mgr", ["manager"], team)
    other = make_user("task_rep2", ["rep"], team)
    far = make_user("task_far", ["rep"], make_department("远方"))
    mine, theirs = make_task(rep), make_task(far)
    url = reverse("task-reassign")
    assert_error(api_client(rep).post(url, {"ids": [mine.pk], "owner": other.pk}, format="json"), 403)
    response = api_client(manager).post(url, {"ids": [mine.pk, theirs.pk], "owner": other.pk}, format="json")
    assert response.status_code == 200 and response.json() == {"count": 1}, response.json()
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.owner_id == other.pk and theirs.owner_id == far.pk
    url = reverse("task-bulk-delete")
    noperm = make_user("task_noperm", [], team)
    assert_error(api_client(noperm).post(url, {"ids": [mine.pk]}, format="json"), 403)
    response = api_client(rep).post(url, {"ids": [mine.pk, theirs.pk]}, format="json")  # neither is rep's any more
    assert response.json() == {"count": 0}
    response = api_client(manager).post(url, {"ids": [mine.pk, theirs.pk]}, format="json")
    assert response.json() == {"count": 1}
    assert not Task.objects.filter(pk=mine.pk).exists() and Task.objects.filter(pk=theirs.pk).exists()
