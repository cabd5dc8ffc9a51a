from django.test import TestCase
from django.urls import reverse

from yingdan.core.tests import factories
from yingdan.search import services as search
from yingdan.search.models import SearchGram

from .helpers import make_lead


class TestLeadSearch(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.team = factories.make_department("搜索组")
        cls.other_team = factories.make_department("别组")
        cls.rep = factories.make_user("s_rep", ["rep"], cls.team)
        cls.other = factories.make_user("s_other", ["rep"], cls.other_team)
        cls.noleads = factories.make_user("s_none", [], cls.team)
        cls.mine = make_lead(cls.rep, name="王伟", company="华信科技有限公司", mobile="13912345678", email="ww@huaxin.cn")
        cls.theirs = make_lead(cls.other, name="王伟", company="华信科技有限公司")

    def test_grams_index_name_and_company(self):
        grams = set(SearchGram.objects.filter(kind=3, object_id=self.mine.pk).values_list("gram", flat=True))
        self.assertTrue({"王伟", "华信", "科技"} <= grams)
        self.assertNotIn("伟华", grams)  # a fragment never spans the name and the company

    def leads_group(self, user, q):
        groups = {g.key: g for g in search.search(user, q)}
        return groups.get("leads")

    def test_global_search_by_name_company_phone_email_within_scope(self):
        for q in ("王伟", "华信", "139 1234 5678", "ww@huaxin", "ww"):
            group = self.leads_group(self.rep, q)
            self.assertIsNotNone(group, q)
            self.assertEqual([h.obj.pk for h in group.hits], [self.mine.pk], q)
        self.assertIsNone(self.leads_group(self.noleads, "王伟"))
        self.assertEqual(self.leads_group(self.rep, "伟华").hits, [])

    def test_dropdown_shows_leads(self):
        self.client.force_login(self.rep)
        response = self.client.get(reverse("search:global"), {"q": "华信"}, HTTP_HX_REQUEST="true")
        self.assertContains(response, 'data-type="leads"')
        self.assertContains(response, self.mine.get_absolute_url())
        self.assertNotContains(response, self.theirs.get_absolute_url())

    def test_delete_unindexes(self):
        lead = make_lead(self.rep, name="临时", company="删除公司")
        self.assertTrue(SearchGram.objects.filter(kind=3, object_id=lead.pk).exists())
        pk = lead.pk
        lead.delete()
        self.assertFalse(SearchGram.objects.filter(kind=3, object_id=pk).exists())
