"""Sales brief: content against known data, rendering, exactly one send per period."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from yingdan.automation import brief
from yingdan.automation.models import BriefSchedule
from yingdan.core.tests.factories import make_customer, make_department, make_user
from yingdan.customers.models import Customer
from yingdan.followups.tests.helpers import make_followup
from yingdan.leads.tests.helpers import make_lead
from yingdan.opportunities.models import Opportunity
from yingdan.opportunities.tests.helpers import make_opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def env():
    class Env:
        pass

    e = Env()
    e.team = make_department("简报一组")
    e.sub = make_department("简报一组-子组", parent=e.team)
    e.other = make_department("简报二组")
    e.rep = make_user("brief_rep", ["rep"], e.team, first_name="伟", last_name="张")
    e.rep_sub = make_user("brief_rep_sub", ["rep"], e.sub)
    e.rep_other = make_user("brief_rep_other", ["rep"], e.other)
    e.boss = make_user("brief_boss", ["manager"], e.team, email="boss@example.com")
    return e


def make_data(e):
    c1 = make_customer(e.rep, name="简报客户一")
    c2 = make_customer(e.rep_sub, name="简报客户二")
    make_customer(e.rep_other, name="别组客户")
    make_lead(e.rep)
    make_lead(e.rep_other)
    now = timezone.now()  # (the helper's default times go back minutes: past local midnight, into yesterday)
    make_followup(e.rep, customer=c1, type_code="call", occurred_at=now)
    make_followup(e.rep, customer=c1, type_code="call", occurred_at=now)
    make_followup(e.rep_sub, customer=c2, type_code="wechat", occurred_at=now)
    won = make_opportunity(e.rep, customer=c1, amount=Decimal("120000"))
    won2 = make_opportunity(e.rep_sub, amount=Decimal("30000"))
    other = make_opportunity(e.rep_other, amount=Decimal("999999"))
    Opportunity.objects.filter(pk__in=[won.pk, won2.pk, other.pk]).update(state="won", closed_at=now)
    Customer.objects.filter(pk=c1.pk).update(next_followup_at=timezone.localdate() - datetime.timedelta(days=1))


def test_content_of_the_team_including_sub_teams(env):
    make_data(env)
    schedule = BriefSchedule.objects.create(name="一组日报", department=env.team, send_time=datetime.time(0, 0))
    result = brief.preview(schedule)
    d = result["data"]
    # customers: c1, c2 and the one make_opportunity makes for won2 (the other team's are not counted)
    assert d["new_customers"] == 3
    assert d["new_leads"] == 1
    assert {(f["type"], f["count"]) for f in d["followups"]} == {("电话", 2), ("微信", 1)}
    assert d["followups_total"] == 3
    assert d["deals_moved"] == 2
    assert d["wins"] == 2 and d["won_amount"] == Decimal("150000")
    assert [r["amount"] for r in d["top_reps"]] == [Decimal("120000"), Decimal("30000")]
    assert d["top_reps"][0]["name"] == env.rep.get_full_name()
    assert d["overdue_customers"] == 1
    assert "150000.00" in result["markdown"] and "data-testid=\"brief-wins\">2<" in result["html"]
    company = BriefSchedule.objects.create(name="全公司", send_time=datetime.time(0, 0))
    assert brief.preview(company)["data"]["wins"] == 3


def test_markdown_is_not_marked_safe_and_html_escapes(env):
    make_customer(env.rep, name="<script>x</script>")
    schedule = BriefSchedule.objects.create(name="<b>x</b>", send_time=datetime.time(0, 0))
    result = brief.preview(schedule)
    assert "<b>x</b>" not in result["html"] and "&lt;b&gt;" in result["html"]
    assert not hasattr(result["markdown"], "__html__")


def test_sent_exactly_once_per_period(env):
    from django.apps import apps

    schedule = BriefSchedule.objects.create(name="日报", department=env.team, send_time=datetime.time(18, 0),
                                            emails="a@example.com, b@example.com", is_active=True)
    schedule.users.set([env.boss])
    robot = None
    if apps.is_installed("yingdan.integrations"):
        from yingdan.integrations.models import Robot, RobotMessage

        robot = Robot.objects.create(vendor="dingtalk", name="群", webhook_url="http://127.0.0.1:9/robot/send")
        schedule.robot_ids = [robot.pk]
        schedule.save()
    tz = timezone.get_current_timezone()
    before = datetime.datetime(2026, 3, 2, 17, 59, tzinfo=tz)
    at = datetime.datetime(2026, 3, 2, 18, 1, tzinfo=tz)
    assert brief.send_due_briefs(before) == 0
    assert brief.send_due_briefs(at) == 1
    assert brief.send_due_briefs(at + datetime.timedelta(minutes=1)) == 0
    assert len(mail.outbox) == 1 and sorted(mail.outbox[0].to) == ["a@example.com", "b@example.com", "boss@example.com"]
    assert mail.outbox[0].alternatives and "brief-html" in mail.outbox[0].alternatives[0][0]
    if robot is not None:
        assert RobotMessage.objects.filter(robot=robot).count() == 1
    schedule.refresh_from_db()
    assert schedule.last_period == "D2026-03-02"
    assert brief.send_due_briefs(at + datetime.timedelta(days=1)) == 1
    assert len(mail.outbox) == 2


def test_weekly_only_on_its_weekday_and_once_per_week(env):
    tz = timezone.get_current_timezone()
    BriefSchedule.objects.create(name="周报", frequency="weekly", weekday=4, send_time=datetime.time(9, 0),
                                 emails="a@example.com", is_active=True)
    thursday = datetime.datetime(2026, 3, 5, 10, 0, tzinfo=tz)
    friday = datetime.datetime(2026, 3, 6, 10, 0, tzinfo=tz)
    assert brief.send_due_briefs(thursday) == 0
    assert brief.send_due_briefs(friday) == 1
    assert brief.send_due_briefs(friday + datetime.timedelta(hours=3)) == 0
    assert brief.send_due_briefs(friday + datetime.timedelta(days=7)) == 1


def test_inactive_brief_not_sent(env):
    BriefSchedule.objects.create(name="停用", send_time=datetime.time(0, 0), emails="a@example.com", is_active=False)
    assert brief.send_due_briefs() == 0 and not mail.outbox
