import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from yingdan.core.tests.api_base import api_client
from yingdan.core.tests.factories import make_department, make_user

from .. import services
from ..models import Notification, NotificationPreference

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(db):
    return make_user("pref_user", ["rep"], make_department("D"), email="rep@example.com")


def test_default_in_app_only(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.notify([user], "system", "hello")
    assert Notification.objects.get().read_at is None and not mail.outbox


def test_email_channel_sent_once_after_commit(user, django_capture_on_commit_callbacks):
    services.save_preference(user, {"system": ["in_app", "email"]})
    with django_capture_on_commit_callbacks(execute=True):
        services.notify([user], "system", "合同到期", body="请跟进", url="/customers/1/")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["rep@example.com"] and mail.outbox[0].subject == "合同到期"
    assert Notification.objects.get().email_state == "sent"
    services.send_emails()  # a re-run sends nothing twice
    assert len(mail.outbox) == 1


def test_email_only_is_not_unread(user, django_capture_on_commit_callbacks):
    services.save_preference(user, {"system": ["email"]})
    with django_capture_on_commit_callbacks(execute=True):
        services.notify([user], "system", "x")
    assert services.unread_count(user) == 0 and len(mail.outbox) == 1


def test_quiet_hours_hold_email_until_the_end(user, django_capture_on_commit_callbacks):
    now = timezone.localtime()
    start = (now - datetime.timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now + datetime.timedelta(hours=1)).time().replace(second=0, microsecond=0)
    services.save_preference(user, {"system": ["in_app", "email"]}, start, end)
    with django_capture_on_commit_callbacks(execute=True):
        services.notify([user], "system", "夜间提醒")
    note = Notification.objects.get()
    assert note.email_state == "pending" and note.email_due_at > timezone.now() and not mail.outbox
    assert services.unread_count(user) == 1  # in-app at once
    services.send_emails()
    assert not mail.outbox
    services.send_emails(now=note.email_due_at + datetime.timedelta(seconds=1))
    assert len(mail.outbox) == 1


def test_quiet_over_midnight():
    pref = NotificationPreference(quiet_start=datetime.time(22), quiet_end=datetime.time(8))
    tz = timezone.get_current_timezone()
    late = timezone.make_aware(datetime.datetime(2026, 1, 5, 23, 30), tz)
    early = timezone.make_aware(datetime.datetime(2026, 1, 6, 7, 0), tz)
    noon = timezone.make_aware(datetime.datetime(2026, 1, 6, 12, 0), tz)
    assert services.quiet_until(pref, late) == timezone.make_aware(datetime.datetime(2026, 1, 6, 8, 0), tz)
    assert services.quiet_until(pref, early) == timezone.make_aware(datetime.datetime(2026, 1, 6, 8, 0), tz)
    assert services.quiet_until(pref, noon) is None


def test_preferences_page(client, user):
    client.force_login(user)
    assert client.get(reverse("notifications:preferences")).status_code == 200
    r = client.post(reverse("notifications:preferences"), {"system__email": "1", "quiet_start": "22:00", "quiet_end": "08:00"})
    assert r.status_code == 302
    pref = NotificationPreference.objects.get(user=user)
    assert pref.channels["system"] == ["email"] and pref.quiet_start == datetime.time(22)
    r = client.post(reverse("notifications:preferences"), {"quiet_start": "25:99", "quiet_end": "08:00"})
    assert r.status_code == 400
    r = client.post(reverse("notifications:preferences"), {"quiet_start": "22:00"})
    assert r.status_code == 400
    assert NotificationPreference.objects.get(user=user).channels["system"] == ["email"]


def test_preferences_api(user):
    client = api_client(user)
    r = client.get(reverse("notificationpreference-list"))
    assert r.status_code == 200 and r.json()["channels"]["system"] == ["in_app"]
    r = client.put(reverse("notificationpreference-update-me"), {"channels": {"system": ["email", "in_app"]}, "quiet_start": "21:00", "quiet_end": "07:30"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["channels"]["system"] == ["email", "in_app"]
    r = client.put(reverse("notificationpreference-update-me"), {"channels": {"nope": ["email"]}}, format="json")
    assert r.status_code == 400
    r = client.put(reverse("notificationpreference-update-me"), {"channels": {"system": ["sms"]}}, format="json")
    assert r.status_code == 400
    assert api_client().get(reverse("notificationpreference-list")).status_code == 401
