import pytest
from django.urls import reverse

from yingdan.customers.models import Customer
from yingdan.handover.models import HandoverRecord
from yingdan.org.models import User

from .helpers import build_env

pytestmark = pytest.mark.django_db


@pytest.fixture
def env(db):
    return build_env(customers=3, leads=1)


def wizard():
    return reverse("handover:handover_add")


def test_wizard_steps_and_confirm(client, env):
    client.force_login(env.admin)
    response = client.get(wizard())
    assert response.status_code == 200 and b'data-testid="pick-user"' in response.content
    response = client.get(wizard(), {"user": env.leaving.pk})
    assert response.status_code == 200
    assert b'data-testid="holding-customers">3<' in response.content
    assert b'data-testid="holding-leads">1<' in response.content
    data = {"user": env.leaving.pk, "mode": "split", "successors": [env.b.pk, env.c.pk], "reason": "离职"}
    response = client.post(wizard(), data, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="handover-preview")
    assert response.status_code == 200 and b'data-testid="confirm-handover"' in response.content
    assert User.objects.get(pk=env.leaving.pk).is_active  # previewing changes nothing
    response = client.post(wizard(), {**data, "_confirm": "1"})
    record = HandoverRecord.objects.get()
    assert response.status_code == 302 and response["Location"] == record.get_absolute_url()
    assert not User.objects.get(pk=env.leaving.pk).is_active
    assert set(Customer.objects.filter(pk__in=[c.pk for c in env.customers]).values_list("owner_id", flat=True)) == {env.b.pk, env.c.pk}
    detail = client.get(record.get_absolute_url())
    assert detail.status_code == 200 and b'data-testid="handover-summary"' in detail.content
    listing = client.get(reverse("handover:handover_list"))
    assert listing.status_code == 200 and record.get_absolute_url().encode() in listing.content


def test_wizard_shows_errors_and_changes_nothing(client, env):
    client.force_login(env.admin)
    data = {"user": env.leaving.pk, "mode": "one", "successors": [env.inactive.pk], "_confirm": "1"}
    response = client.post(wizard(), data)
    assert response.status_code == 400
    assert HandoverRecord.objects.count() == 0 and User.objects.get(pk=env.leaving.pk).is_active
    data = {"user": env.leaving.pk, "mode": "one", "successors": [env.b.pk, env.c.pk], "_confirm": "1"}
    response = client.post(wizard(), data)
    assert response.status_code == 400 and b'data-error-for="successors"' in response.content
    assert User.objects.get(pk=env.leaving.pk).is_active


def test_refused_without_users_edit(client, env):
    client.force_login(env.viewer)
    assert client.get(wizard()).status_code == 403
    assert client.post(wizard(), {"user": env.leaving.pk, "mode": "one", "successors": [env.b.pk], "_confirm": "1"}).status_code == 403
    assert User.objects.get(pk=env.leaving.pk).is_active
    # the history is readable with users view (own department); the button on the user page is not shown
    assert client.get(reverse("handover:handover_list")).status_code == 200
    page = client.get(reverse("org:user_detail", args=[env.leaving.pk]))
    assert b'data-testid="handover-button"' not in page.content


def test_user_page_has_the_handover_button(client, env):
    client.force_login(env.admin)
    page = client.get(reverse("org:user_detail", args=[env.leaving.pk]))
    assert f'{wizard()}?user={env.leaving.pk}'.encode() in page.content


def test_history_list_filters_sorts_and_scopes(client, env):
    from yingdan.handover import services

    services.execute_handover(env.admin, env.leaving, "one", [env.b], "")
    other = User.objects.create(username="d2rep", name="二部", department=env.d2)
    rec2 = services.execute_handover(env.admin, other, "one", [env.c], "")
    client.force_login(env.admin)
    response = client.get(reverse("handover:handover_list"), {"mode": "one", "sort": "-total"})
    assert response.status_code == 200
    response = client.get(reverse("handover:handover_list"), {"from_user": other.pk})
    assert rec2.get_absolute_url().encode() in response.content
    assert HandoverRecord.objects.exclude(pk=rec2.pk).get().get_absolute_url().encode() not in response.content
    # a rep sees the handovers of their own department's users only
    client.force_login(env.viewer)
    response = client.get(reverse("handover:handover_list"))
    assert rec2.get_absolute_url().encode() not in response.content
    assert client.get(rec2.get_absolute_url()).status_code == 404
