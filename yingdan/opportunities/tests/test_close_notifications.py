"""A won or lost deal notifies the owner's manager (the `opportunity_closed` notification kind)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from yingdan.core import registry
from yingdan.core.tests.factories import make_department, make_user
from yingdan.notifications.models import Notification
from yingdan.opportunities.models import LossReason
from yingdan.org.models import Department

from .. import services
from .helpers import complete_stage, make_opportunity, stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    class Org:
        pass

    o = Org()
    o.region = make_department("华东区")
    o.team = make_department("上海组", parent=o.region)
    o.boss = make_user("boss", ["manager"], o.region, name="大区经理")
    o.lead = make_user("lead", ["manager"], o.team, name="组长")
    o.rep = make_user("rep", ["rep"], o.team, name="张伟")
    Department.objects.filter(pk=o.region.pk).update(manager=o.boss)
    Department.objects.filter(pk=o.team.pk).update(manager=o.lead)
    return o


def win(actor, opp):
    for name in ("需求确认", "方案报价", "商务谈判", "赢单"):
        opp.refresh_from_db()
        complete_stage(actor, opp)
        services.move_opportunity(actor, opp, stage(name))


def test_kind_is_registered():
    assert services.NOTIFY_CLOSED in registry.notification_kinds


def test_win_notifies_the_team_manager_once(org):
    opp = make_opportunity(org.rep, amount=1000, expected_close=timezone.localdate() + datetime.timedelta(days=30))
    win(org.rep, opp)
    notes = list(Notification.objects.filter(kind=services.NOTIFY_CLOSED))
    assert [n.recipient for n in notes] == [org.lead]
    assert opp.name in notes[0].title and notes[0].target_id == opp.pk and notes[0].actor == org.rep
    assert notes[0].url == opp.get_absolute_url()


def test_open_moves_notify_nobody(org):
    opp = make_opportunity(org.rep, amount=1000)
    complete_stage(org.rep, opp)
    services.move_opportunity(org.rep, opp, stage("需求确认"))
    assert not Notification.objects.filter(kind=services.NOTIFY_CLOSED).exists()


def test_loss_of_a_team_leads_deal_goes_up_to_their_manager_with_the_reason(org):
    opp = make_opportunity(org.lead)
    reason = LossReason.objects.get(name="预算不足")
    services.move_opportunity(org.lead, opp, stage("输单"), loss_reason=reason)
    note = Notification.objects.get(kind=services.NOTIFY_CLOSED)
    assert note.recipient == org.boss and "预算不足" in note.body


def test_manager_closing_it_themselves_and_no_manager_notify_nobody(org):
    opp = make_opportunity(org.rep)
    reason = LossReason.objects.get(name="预算不足")
    services.move_opportunity(org.lead, opp, stage("输单"), loss_reason=reason)  # the manager is the actor
    lonely_team = make_department("无人管")
    loner = make_user("loner", ["rep"], lonely_team)
    services.move_opportunity(loner, make_opportunity(loner), stage("输单"), loss_reason=reason)
    assert not Notification.objects.filter(kind=services.NOTIFY_CLOSED).exists()


def test_a_refused_move_notifies_nobody(org):
    opp = make_opportunity(org.rep)
    with pytest.raises(ValidationError), transaction.atomic():
        services.move_opportunity(org.rep, opp, stage("输单"))  # no loss reason: refused
    assert not Notification.objects.filter(kind=services.NOTIFY_CLOSED).exists()
