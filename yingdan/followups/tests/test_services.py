import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from yingdan.core.models import Lookup, ObjectChange
from yingdan.core.tests import factories
from yingdan.followups import services
from yingdan.followups.models import FollowUp, FollowUpComment
from yingdan.leads.models import Lead
from yingdan.notifications.models import Notification

from .helpers import followup_type, make_followup

pytestmark = pytest.mark.django_db


@pytest.fixture
def env():
    class Env:
        pass

    e = Env()
    e.region = factories.make_department("华东区")
    e.team = factories.make_department("上海一组", parent=e.region)
    e.other_team = factories.make_department("华南组")
    e.rep = factories.make_user("rep1", ["rep"], e.team, name="张伟")
    e.rep2 = factories.make_user("rep2", ["rep"], e.team, name="李娜")
    e.outsider = factories.make_user("rep3", ["rep"], e.other_team, name="王强")
    e.manager = factories.make_user("mgr", ["manager"], e.region, name="赵敏")
    e.level_a = Lookup.objects.get(kind="customer_level", code="A")
    e.level_c = Lookup.objects.get(kind="customer_level", code="C")
    e.customer = factories.make_customer(e.rep, level=e.level_a)
    return e


def test_default_types_and_cycles():
    codes = set(Lookup.objects.filter(kind="followup_type").values_list("code", flat=True))
    assert codes == {"call", "visit", "wechat", "email", "meeting", "other"}
    cycles = {lv.code: lv.extra.get("followup_cycle_days") for lv in Lookup.objects.filter(kind="customer_level")}
    assert cycles == {"A": 7, "B": 15, "C": 30}


def test_save_sets_last_contact_and_cycle_next_date(env):
    occurred = timezone.now() - datetime.timedelta(hours=2)
    f = make_followup(env.rep, customer=env.customer, occurred_at=occurred)
    env.customer.refresh_from_db()
    assert env.customer.last_contact_at == occurred
    assert env.customer.next_followup_at == timezone.localdate(occurred) + datetime.timedelta(days=7)
    assert f.owner == env.rep and f.department == env.team
    # the derived fields are audited on the customer
    assert ObjectChange.objects.filter(object_id=env.customer.pk, changes__has_key="last_contact_at").exists()


def test_explicit_next_date_wins_and_only_latest_drives(env):
    now = timezone.now()
    nxt = timezone.localdate() + datetime.timedelta(days=3)
    make_followup(env.rep, customer=env.customer, occurred_at=now - datetime.timedelta(hours=1), next_at=nxt)
    env.customer.refresh_from_db()
    assert env.customer.next_followup_at == nxt
    # an older follow-up logged later does not drive the dates
    old = make_followup(env.rep, customer=env.customer, occurred_at=now - datetime.timedelta(days=5))
    env.customer.refresh_from_db()
    assert env.customer.next_followup_at == nxt
    assert env.customer.last_contact_at == now - datetime.timedelta(hours=1)
    # deleting the latest: the older one drives again (cycle of level A from its date)
    latest = FollowUp.objects.filter(customer=env.customer).order_by("-occurred_at").first()
    services.delete_followup(factories.system_actor(), latest)
    env.customer.refresh_from_db()
    assert env.customer.last_contact_at == old.occurred_at
    assert env.customer.next_followup_at == timezone.localdate(old.occurred_at) + datetime.timedelta(days=7)


def test_level_without_cycle_and_lead_without_level(env):
    customer = factories.make_customer(env.rep)  # no level
    make_followup(env.rep, customer=customer)
    customer.refresh_from_db()
    assert customer.next_followup_at is None and customer.last_contact_at is not None
    lead = Lead(name="线索甲", owner=env.rep, created_by=env.rep)
    lead.sync_department()
    lead.save()
    nxt = timezone.localdate() + datetime.timedelta(days=2)
    make_followup(env.rep, lead=lead, next_at=nxt)
    lead.refresh_from_db()
    assert lead.next_followup_at == nxt


def test_far_future_refused_and_nothing_saved(env):
    before = FollowUp.objects.count()
    changes = ObjectChange.objects.count()
    with pytest.raises(ValidationError) as exc:
        make_followup(env.rep, customer=env.customer, occurred_at=timezone.now() + datetime.timedelta(days=3))
    assert "occurred_at" in exc.value.message_dict
    assert FollowUp.objects.count() == before and ObjectChange.objects.count() == changes
    env.customer.refresh_from_db()
    assert env.customer.last_contact_at is None
    # up to a day ahead is fine (a rep logs tonight's dinner meeting in the afternoon)
    make_followup(env.rep, customer=env.customer, occurred_at=timezone.now() + datetime.timedelta(hours=20))


def test_next_date_before_occurred_refused(env):
    with pytest.raises(ValidationError) as exc:
        make_followup(env.rep, customer=env.customer, next_at=timezone.localdate() - datetime.timedelta(days=5))
    assert "next_at" in exc.value.message_dict


def test_content_required_and_parent_required(env):
    with pytest.raises(ValidationError) as exc:
        make_followup(env.rep, customer=env.customer, content="   ")
    assert "content" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        make_followup(env.rep)
    assert "customer" in exc.value.message_dict


def test_visit_needs_address(env):
    with pytest.raises(ValidationError) as exc:
        make_followup(env.rep, customer=env.customer, type_code="visit")
    assert "checkin_address" in exc.value.message_dict
    f = make_followup(env.rep, customer=env.customer, type_code="visit", checkin_address="上海市浦东新区张江路1号",
                      checkin_lat="31.2", checkin_lng="121.6")
    assert f.checkin_lat is not None


def test_cannot_log_on_someone_elses_customer(env):
    theirs = factories.make_customer(env.outsider)
    with pytest.raises(ValidationError) as exc:
        make_followup(env.rep, customer=theirs)
    assert "customer" in exc.value.message_dict


def test_scope(env):
    mine = make_followup(env.rep, customer=env.customer)
    other_customer = factories.make_customer(env.rep2)
    theirs = make_followup(env.rep2, customer=other_customer)
    far = make_followup(env.outsider, customer=factories.make_customer(env.outsider))
    # the manager writes on the rep's customer: the rep sees it (their customer), rep2 does not
    by_manager = make_followup(env.manager, customer=env.customer)
    assert set(FollowUp.objects.visible_to(env.rep)) == {mine, by_manager}
    assert set(FollowUp.objects.visible_to(env.rep2)) == {theirs}
    assert set(FollowUp.objects.visible_to(env.manager)) == {mine, theirs, by_manager}
    assert far not in FollowUp.objects.visible_to(env.manager)
    # a rep may not edit the manager's follow-up on their customer
    by_manager.content = "改写"
    with pytest.raises(PermissionDenied):
        services.save_followup(env.rep, by_manager)


def test_comment_mentions_notify(env):
    f = make_followup(env.rep, customer=env.customer)
    comment = services.add_comment(env.manager, f, "@李娜请协助跟进，@rep1 注意报价 @不存在的人")
    assert set(comment.mentions.all()) == {env.rep2, env.rep}
    assert Notification.objects.filter(recipient=env.rep2, kind="mention").exists()
    # the author is notified once (mentioned here, so as a mention)
    assert Notification.objects.filter(recipient=env.rep).count() == 1
    services.add_comment(env.manager, f, "不错")
    assert Notification.objects.filter(recipient=env.rep, kind="followup_comment").count() == 1
    assert not Notification.objects.filter(recipient=env.manager).exists()


def test_comment_outside_scope_refused(env):
    from yingdan.core.exceptions import ObjectNotVisible

    f = make_followup(env.rep, customer=env.customer)
    with pytest.raises(ObjectNotVisible):
        services.add_comment(env.outsider, f, "看看")
    assert not FollowUpComment.objects.exists()


def test_type_must_be_followup_type(env):
    f = FollowUp(customer=env.customer, type=env.level_a, occurred_at=timezone.now(), content="x")
    with pytest.raises(ValidationError):
        services.save_followup(env.rep, f)
    assert followup_type("call").kind == "followup_type"
