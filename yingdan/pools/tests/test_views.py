import datetime

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from yingdan.core.tests import factories
from yingdan.customers.models import Customer
from yingdan.pools.models import Pool, PoolEvent, PoolSettings

from .base import make_org, pooled_customer

HTMX = {"HTTP_HX_REQUEST": "true"}


class PoolPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_org(cls)

    def test_list_requires_login_and_permission(self):
        url = reverse("pools:pool_list")
        assert self.client.get(url).status_code == 302
        self.client.force_login(self.noperm)
        assert self.client.get(url).status_code == 403
        self.client.force_login(self.rep1)
        r = self.client.get(url)
        assert r.status_code == 200
        assert f'data-pool-id="{self.east.pk}"' in r.content.decode()

    def test_detail_lists_records_and_refuses_outsiders(self):
        Pool.objects.filter(pk=self.east.pk).update(hidden_fields=["phone"])
        cs = [pooled_customer(self.east, self.director, phone="13800138000") for _ in range(3)]
        url = reverse("pools:pool_detail", args=[self.east.pk])
        self.client.force_login(self.rep_b)
        assert self.client.get(url).status_code == 404
        self.client.force_login(self.rep1)
        body = self.client.get(url).content.decode()
        for c in cs:
            assert f'data-object-id="{c.pk}"' in body
        assert "13800138000" not in body  # hidden while in the pool
        self.client.force_login(self.director)
        assert "13800138000" in self.client.get(url).content.decode()

    def test_detail_search_sort_and_paging(self):
        target = pooled_customer(self.east, self.director, name="杭州远景科技有限公司")
        for _ in range(3):
            pooled_customer(self.east, self.director)
        self.client.force_login(self.rep1)
        url = reverse("pools:pool_detail", args=[self.east.pk])
        body = self.client.get(url, {"q": "远景"}).content.decode()
        assert f'data-object-id="{target.pk}"' in body and body.count("data-object-id=") == 1
        r = self.client.get(url, {"sort": "name", "per_page": 25, "page": 1}, HTTP_HX_TARGET="pool-records", **HTMX)
        assert r.status_code == 200 and b"<html" not in r.content
        assert self.client.get(url, {"sort": "bogus", "page": "x"}).status_code == 200

    def test_claim_with_htmx(self):
        c = pooled_customer(self.east, self.director)
        url = reverse("pools:pool_claim", args=[self.east.pk, c.pk])
        self.client.force_login(self.rep1)
        r = self.client.post(url, **HTMX)
        assert r.status_code == 200 and b'data-claim-result="ok"' in r.content
        c.refresh_from_db()
        assert c.owner_id == self.rep1.pk
        self.client.force_login(self.rep2)
        r = self.client.post(url, **HTMX)
        assert b'data-claim-result="refused"' in r.content
        c.refresh_from_db()
        assert c.owner_id == self.rep1.pk

    def test_claim_refused_for_outsider(self):
        c = pooled_customer(self.east, self.director)
        self.client.force_login(self.rep_b)
        assert self.client.post(reverse("pools:pool_claim", args=[self.east.pk, c.pk]), **HTMX).status_code == 404
        self.client.force_login(self.noperm)
        assert self.client.post(reverse("pools:pool_claim", args=[self.east.pk, c.pk]), **HTMX).status_code == 403
        c.refresh_from_db()
        assert c.owner_id is None

    def test_bulk_assign_by_admin_only(self):
        cs = [pooled_customer(self.east, self.director) for _ in range(2)]
        url = reverse("pools:pool_assign", args=[self.east.pk])
        data = {"pk": [c.pk for c in cs], "owner": self.rep2.pk}
        self.client.force_login(self.rep1)
        self.client.post(url, data)
        assert not Customer.objects.filter(owner=self.rep2).exists()
        self.client.force_login(self.pool_admin)
        r = self.client.post(url, data)
        assert r.status_code == 302
        assert Customer.objects.filter(owner=self.rep2, pk__in=[c.pk for c in cs]).count() == 2

    def test_pool_record_page_hides_fields(self):
        Pool.objects.filter(pk=self.east.pk).update(hidden_fields=["phone"])
        c = pooled_customer(self.east, self.director, phone="13800138000")
        self.client.force_login(self.rep1)
        r = self.client.get(reverse("pools:pool_record", args=[self.east.pk, c.pk]))
        assert r.status_code == 200 and b"13800138000" not in r.content
        assert b'data-testid="claim"' in r.content


class CustomerPageHiddenFieldTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_org(cls)

    def test_customer_overview_hides_pool_fields_for_non_admins(self):
        Pool.objects.filter(pk=self.east.pk).update(hidden_fields=["phone"])
        c = pooled_customer(self.east, self.director, phone="13800138000")
        url = reverse("customers:customer_detail", args=[c.pk]) + "?tab=overview"
        self.client.force_login(self.manager)  # department scope: sees the pooled customer, not its pool admin
        r = self.client.get(url)
        assert r.status_code == 200 and b"13800138000" not in r.content
        assert b'data-testid="in-pool"' in r.content
        self.client.force_login(self.director)
        assert b"13800138000" in self.client.get(url).content


class ReleaseViewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_org(cls)

    def test_customer_page_offers_release_and_needs_a_reason(self):
        c = factories.make_customer(self.rep1)
        self.client.force_login(self.rep1)
        page = self.client.get(reverse("customers:customer_detail", args=[c.pk]))
        assert b'data-testid="pool-release"' in page.content
        url = reverse("pools:release", args=["customer", c.pk])
        self.client.post(url, {"reason": ""})
        c.refresh_from_db()
        assert c.owner_id == self.rep1.pk and not PoolEvent.objects.exists()
        r = self.client.post(url, {"reason": "客户倒闭"})
        assert r.status_code == 302
        c.refresh_from_db()
        assert c.pool_id == self.east.pk and c.owner_id is None

    def test_release_of_others_customer_is_404(self):
        c = factories.make_customer(self.rep2)
        self.client.force_login(self.rep1)
        assert self.client.post(reverse("pools:release", args=["customer", c.pk]), {"reason": "x"}).status_code == 404
        assert self.client.post(reverse("pools:release", args=["nothing", c.pk]), {"reason": "x"}).status_code == 404


class PoolAdminPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_org(cls)

    def test_create_pool_refused_for_rep(self):
        self.client.force_login(self.rep1)
        assert self.client.get(reverse("pools:pool_add")).status_code == 403
        assert self.client.post(reverse("pools:pool_add"), {"name": "x"}).status_code == 403
        assert self.client.get(reverse("pools:pool_settings")).status_code == 403
        assert self.client.get(reverse("pools:recycle_preview")).status_code == 403

    def test_director_creates_a_pool_with_rules(self):
        self.client.force_login(self.director)
        from yingdan.core.models import Lookup

        level = Lookup.objects.filter(kind="customer_level").order_by("order", "id").first()
        data = {
            "name": "华南公海", "object_type": "customer", "kind": "open", "is_active": "on",
            "departments": [self.region_b.pk], "hold_cap": "20", "daily_claim_cap": "5", "cooldown_days": "7",
            "recycle_enabled": "on", "warn_days": "3", "no_followup_days": "30", "no_won_days": "",
            "level_rules": f"{level.name}, 7, 90", "hidden_fields": ["phone"],
        }
        assert self.client.get(reverse("pools:pool_add")).status_code == 200
        r = self.client.post(reverse("pools:pool_add"), data)
        assert r.status_code == 302, r.content.decode()[:2000]
        pool = Pool.objects.get(name="华南公海")
        assert pool.recycle_rules == {"default": {"no_followup_days": 30, "no_won_days": None}, str(level.pk): {"no_followup_days": 7, "no_won_days": 90}}
        assert list(pool.departments.all()) == [self.region_b] and pool.hidden_fields == ["phone"]
        bad = dict(data, name="坏规则", level_rules="不存在的级别, 7, 9")
        assert self.client.post(reverse("pools:pool_add"), bad).status_code == 400
        assert not Pool.objects.filter(name="坏规则").exists()
        assert self.client.get(reverse("pools:pool_edit", args=[pool.pk])).status_code == 200

    def test_company_caps(self):
        self.client.force_login(self.director)
        assert self.client.post(reverse("pools:pool_settings"), {"customer_hold_cap": "-1"}).status_code == 400
        assert self.client.post(reverse("pools:pool_settings"), {"customer_hold_cap": "10", "count_won": "on"}).status_code == 302
        s = PoolSettings.get()
        assert s.customer_hold_cap == 10 and s.count_won

    def test_recycling_preview_and_run_now(self):
        Pool.objects.filter(pk=self.east.pk).update(recycle_enabled=True, recycle_rules={"default": {"no_followup_days": 30}})
        c = factories.make_customer(self.rep1)
        Customer.objects.filter(pk=c.pk).update(last_contact_at=timezone.now() - datetime.timedelta(days=40))
        self.client.force_login(self.director)
        r = self.client.get(reverse("pools:recycle_preview"))
        assert r.status_code == 200 and f"/customers/{c.pk}/".encode() in r.content
        c.refresh_from_db()
        assert c.pool_id is None  # a preview changes nothing
        assert self.client.post(reverse("pools:recycle_preview")).status_code == 302
        c.refresh_from_db()
        assert c.pool_id == self.east.pk


@pytest.mark.browser
def test_claim_from_the_pool_page(page, live_server, login):
    from types import SimpleNamespace

    env = SimpleNamespace()
    make_org(env)
    c = pooled_customer(env.east, env.director, name="浏览器公海客户")
    login(page, live_server, "rep1", factories.PASSWORD, next_url=f"/pools/{env.east.pk}/")
    page.goto(f"{live_server.url}/pools/{env.east.pk}/")
    page.click(f'[data-testid="claim-{c.pk}"]')
    page.wait_for_selector(f'#pool-row-{c.pk}[data-claim-result="ok"]')
    c.refresh_from_db()
    assert c.owner_id == env.rep1.pk
