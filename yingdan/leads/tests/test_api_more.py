"""API endpoints added by the coverage audit: lead release to a pool, bulk transfer, bulk delete — the same
services as the lead page / list bulk actions, with their refusals."""

import pytest
from django.urls import reverse

from yingdan.core.tests import factories
from yingdan.core.tests.api_base import api_client, assert_error
from yingdan.leads.models import Lead
from yingdan.pools import services as pool_services
from yingdan.pools.models import Pool, PoolEvent

from .helpers import make_lead


@pytest.fixture
def team():
    return factories.make_department("线索组")


@pytest.fixture
def rep(team):
    return factories.make_user("lead_rep", ["rep"], team)


@pytest.fixture
def manager(team):
    return factories.make_user("lead_mgr", ["manager"], team)


@pytest.mark.django_db
class TestRelease:
    def test_release_to_the_default_pool_with_a_reason(self, rep):
        pool_services.ensure_default_pools()
        lead = make_lead(rep)
        url = reverse("lead-release", args=[lead.pk])
        assert_error(api_client(rep).post(url, {"reason": ""}, format="json"), 400, field="reason")
        response = api_client(rep).post(url, {"reason": "联系不上"}, format="json")
        assert response.status_code == 200, response.json()
        assert response.json() == {"count": 1}
        lead.refresh_from_db()
        assert lead.owner_id is None and lead.pool.is_default and lead.previous_owner_id == rep.pk
        assert PoolEvent.objects.filter(object_id=lead.pk, reason="联系不上").exists()

    def test_release_refusals(self, rep, team):
        pool_services.ensure_default_pools()
        lead = make_lead(rep)
        url = reverse("lead-release", args=[lead.pk])
        other = factories.make_user("lead_rep2", ["rep"], team)
        assert_error(api_client(other).post(url, {"reason": "x"}, format="json"), 404)
        noperm = factories.make_user("lead_noperm", [], team)
        assert_error(api_client(noperm).post(url, {"reason": "x"}, format="json"), 403)
        customer_pool = Pool.objects.get(object_type="customer", is_default=True)
        assert_error(api_client(rep).post(url, {"reason": "x", "pool": customer_pool.pk}, format="json"), 400, field="pool")
        lead.refresh_from_db()
        assert lead.owner_id == rep.pk


@pytest.mark.django_db
class TestBulk:
    def test_transfer_needs_transfer_and_scope(self, rep, manager, team):
        mine = make_lead(rep)
        far = make_lead(factories.make_user("lead_far", ["rep"], factories.make_department("远方组")))
        target = factories.make_user("lead_rep3", ["rep"], team)
        url = reverse("lead-transfer")
        assert_error(api_client(rep).post(url, {"ids": [mine.pk], "owner": target.pk}, format="json"), 403)
        response = api_client(manager).post(url, {"ids": [mine.pk, far.pk], "owner": target.pk}, format="json")
        assert response.status_code == 200 and response.json() == {"count": 1}, response.json()
        mine.refresh_from_db()
        far.refresh_from_db()
        assert mine.owner_id == target.pk and mine.previous_owner_id == rep.pk and far.owner_id != target.pk
        inactive = factories.make_user("lead_gone", ["rep"], team, is_active=False)
        assert_error(api_client(manager).post(url, {"ids": [mine.pk], "owner": inactive.pk}, format="json"), 400, field="owner")

    def test_bulk_delete(self, rep, manager):
        lead = make_lead(rep)
        url = reverse("lead-bulk-delete")
        assert_error(api_client(rep).post(url, {"ids": [lead.pk]}, format="json"), 403)
        response = api_client(manager).post(url, {"ids": [lead.pk, 10**12]}, format="json")
        assert response.status_code == 200 and response.json() == {"count": 1}
        assert not Lead.objects.filter(pk=lead.pk).exists()
        assert_error(api_client(manager).post(url, {"ids": "1"}, format="json"), 400, field="ids")
