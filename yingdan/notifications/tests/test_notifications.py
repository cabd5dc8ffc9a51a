import pytest
from django.urls import reverse

from yingdan.core.tests.api_base import api_client, assert_error
from yingdan.core.tests.factories import make_department, make_user
from yingdan.notifications import services
from yingdan.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def env(db):
    dept = make_department("销售部")
    amy = make_user("amy", ["rep"], dept, name="艾米")
    bob = make_user("bob", ["rep"], dept, name="鲍勃")
    boss = make_user("boss", ["manager"], dept, name="老板")
    mine = [services.notify([amy], "system", f"通知{i}", body="正文", url="/customers/", actor=boss)[0] for i in range(3)]
    theirs = services.notify([bob], "system", "鲍勃的通知", url="/customers/")[0]
    return amy, bob, boss, mine, theirs


def test_notify_rules(env):
    amy, bob, boss, mine, theirs = env
    assert services.notify([boss, None, amy, amy], "system", "x", actor=boss) and Notification.objects.filter(title="x").count() == 1
    assert services.notify([amy], "system", "y", dedupe_key="k1") and not services.notify([amy], "system", "y", dedupe_key="k1")
    with pytest.raises(ValueError):
        services.notify([amy], "no-such-kind", "z")


def test_badge_counts_own_unread_only(client, env):
    amy, bob, boss, mine, theirs = env
    client.force_login(amy)
    response = client.get(reverse("notifications:badge"))
    assert b'data-count="3"' in response.content
    services.mark_read(amy, [mine[0].pk, theirs.pk])  # another user's id is ignored
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert b'data-count="2"' in client.get(reverse("notifications:badge")).content
    client.force_login(boss)
    assert b"notification-badge" not in client.get(reverse("notifications:badge")).content


def test_badge_caps_at_99(client, env):
    amy = env[0]
    Notification.objects.bulk_create([Notification(recipient=amy, kind="system", title=f"n{i}") for i in range(120)])
    client.force_login(amy)
    assert b'data-count="99">99+<' in client.get(reverse("notifications:badge")).content


def test_list_filters_and_only_own(client, env):
    amy, bob, boss, mine, theirs = env
    services.mark_read(amy, [mine[0].pk])
    client.force_login(amy)
    url = reverse("notifications:notification_list")
    page = client.get(url).content.decode()
    assert all(f'data-notification="{n.pk}"' in page for n in mine)
    assert f'data-notification="{theirs.pk}"' not in page and "鲍勃的通知" not in page
    unread = client.get(url, {"status": "unread"}).content.decode()
    assert f'data-notification="{mine[0].pk}"' not in unread and f'data-notification="{mine[1].pk}"' in unread
    read = client.get(url, {"status": "read"}).content.decode()
    assert f'data-notification="{mine[0].pk}"' in read and f'data-notification="{mine[1].pk}"' not in read
    assert f'data-notification="{mine[1].pk}"' not in client.get(url, {"kind": "handover"}).content.decode()
    oldest = client.get(url, {"sort": "id"}).content.decode()
    assert oldest.index(f'data-notification="{mine[0].pk}"') < oldest.index(f'data-notification="{mine[2].pk}"')
    dropdown = client.get(reverse("notifications:dropdown")).content.decode()
    assert f'data-notification="{mine[2].pk}"' in dropdown and "鲍勃的通知" not in dropdown


def test_list_paginates(client, env):
    amy = env[0]
    Notification.objects.bulk_create([Notification(recipient=amy, kind="system", title=f"n{i}") for i in range(30)])
    client.force_login(amy)
    first = client.get(reverse("notifications:notification_list"))
    assert first.content.count(b"data-notification=") == 25 and b'data-testid="next-page"' in first.content
    second = client.get(reverse("notifications:notification_list"), {"page": 2}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="notification-list")
    assert second.content.count(b"data-notification=") == 8 and b"<html" not in second.content


def test_open_marks_read_and_redirects_to_local_url_only(client, env):
    amy, bob, boss, mine, theirs = env
    client.force_login(amy)
    response = client.get(reverse("notifications:open", args=[mine[1].pk]))
    assert response.status_code == 302 and response["Location"] == "/customers/"
    assert Notification.objects.get(pk=mine[1].pk).read_at is not None
    evil = services.notify([amy], "system", "evil", url="https://evil.example/")[0]
    response = client.get(reverse("notifications:open", args=[evil.pk]))
    assert response["Location"] == reverse("notifications:notification_list")
    # another user's notification: 404, untouched
    assert client.get(reverse("notifications:open", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notifications:mark_read", args=[theirs.pk])).status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_mark_all_read(client, env):
    amy, bob, boss, mine, theirs = env
    client.force_login(amy)
    response = client.post(reverse("notifications:mark_all_read"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Trigger"] == "notifications-changed"
    assert not Notification.objects.filter(recipient=amy, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert client.post(reverse("notifications:mark_read", args=[mine[0].pk]), {"next": "//evil.example/"})["Location"] == reverse("notifications:notification_list")


def test_anonymous_is_sent_to_login(client, env):
    for name in ("notification_list", "badge", "dropdown"):
        response = client.get(reverse(f"notifications:{name}"))
        assert response.status_code == 302 and reverse("login") in response["Location"]
    assert client.post(reverse("notifications:mark_all_read")).status_code == 302
    assert not Notification.objects.filter(read_at__isnull=False).exists()


# -- API -----------------------------------------------------------------------------------------------
def test_api_lists_only_own(env):
    amy, bob, boss, mine, theirs = env
    client = api_client(amy)
    body = client.get(reverse("notification-list")).json()
    assert [r["id"] for r in body["results"]] == [n.pk for n in reversed(mine)]
    assert body["results"][0]["actor"]["id"] == boss.pk and body["results"][0]["is_read"] is False
    assert_error(client.get(reverse("notification-detail", args=[theirs.pk])), 404)
    assert_error(client.post(reverse("notification-read", args=[theirs.pk])), 404)
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert_error(api_client().get(reverse("notification-list")), 401)


def test_api_read_unread_count_and_filters(env):
    amy, bob, boss, mine, theirs = env
    client = api_client(amy)
    assert client.get(reverse("notification-unread-count")).json() == {"unread": 3, "capped": False}
    response = client.post(reverse("notification-read", args=[mine[0].pk]))
    assert response.status_code == 200 and response.json()["is_read"] is True
    assert [r["id"] for r in client.get(reverse("notification-list"), {"status": "read"}).json()["results"]] == [mine[0].pk]
    assert len(client.get(reverse("notification-list"), {"unread": "true"}).json()["results"]) == 2
    assert client.post(reverse("notification-read-all")).json() == {"marked": 2}
    assert client.get(reverse("notification-unread-count")).json()["unread"] == 0
    assert bob.notifications.filter(read_at__isnull=True).count() == 1


def test_api_read_only_token_cannot_mark(env):
    amy, *_ = env
    client = api_client(amy, read_only=True)
    assert client.get(reverse("notification-list")).status_code == 200
    assert_error(client.post(reverse("notification-read-all")), 403)
    assert Notification.objects.filter(recipient=amy, read_at__isnull=True).count() == 3
