"""The lead page's "Add follow-up" button: it opens the timeline tab, whose quick form has the lead preselected."""

from django.urls import reverse
from django.utils import timezone

from yingdan.core.tests import factories
from yingdan.core.tests.views_base import ViewTestCases
from yingdan.followups.models import FollowUp
from yingdan.followups.tests.helpers import followup_type

from .helpers import make_lead


class TestLeadAddFollowUp(ViewTestCases.Base):
    def setUp(self):
        self.lead = make_lead(self.owner, name="赵敏")

    def test_button_opens_the_quick_form_with_the_lead_preselected(self):
        self.login(self.owner)
        response = self.client.get(self.lead.get_absolute_url())
        self.assertContains(response, 'data-testid="add-followup-link"')
        self.assertContains(response, 'href="?tab=timeline#timeline-tab"')
        response = self.client.get(self.lead.get_absolute_url() + "?tab=timeline")
        self.assertEqual(response.context["tab"], "timeline")
        form = response.context["quick_form"]
        self.assertEqual(form.initial.get("lead"), self.lead.pk)
        self.assertContains(response, 'data-testid="quick-followup-form"')
        self.assertContains(response, f'name="lead" value="{self.lead.pk}"')

    def test_saving_the_form_adds_the_follow_up_to_the_lead(self):
        self.login(self.owner)
        now = timezone.localtime(timezone.now()).strftime("%Y-%m-%dT%H:%M")
        data = {"lead": self.lead.pk, "type": followup_type("call").pk, "occurred_at": now, "content": "电话沟通了需求"}
        response = self.client.post(reverse("followups:followup_quick_add"), data, HTTP_HX_REQUEST="true")
        self.assertContains(response, 'data-testid="quick-saved"')
        f = FollowUp.objects.get()
        self.assertEqual((f.lead_id, f.customer_id, f.content), (self.lead.pk, None, "电话沟通了需求"))
        self.lead.refresh_from_db()
        self.assertIsNotNone(self.lead.last_contact_at)

    def test_no_button_without_the_followup_create_permission(self):
        role = factories.make_role("只看线索", {"leads": {"actions": ["view"], "scope": "all"},
                                              "followups": {"actions": ["view"], "scope": "all"}})
        viewer = factories.make_user("lead_viewer", department=self.team_a, roles=[role])
        self.login(viewer)
        response = self.client.get(self.lead.get_absolute_url())
        self.assertEqual(response.status_code, 200)
        self.assertNotContains(response, 'data-testid="add-followup-link"')
        self.assertNotContains(response, 'data-testid="quick-followup-form"')
