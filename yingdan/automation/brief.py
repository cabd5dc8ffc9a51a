"""The sales brief (销售简报): figures of a team for a period, computed in the database, rendered as markdown
for robots and HTML for e-mail; sent by a periodic job once per period."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Sum
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import BriefSchedule, Frequency


def period_for(schedule, now=None) -> tuple[str, datetime, datetime]:
    """(key, start, end) of the period the brief sent at `now` covers: the day so far (daily) or the last
    seven days (weekly)."""
    now = timezone.localtime(now or timezone.now())
    start_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if schedule.frequency == Frequency.WEEKLY:
        year, week, _wd = now.isocalendar()
        return f"W{year}-{week:02d}", start_of_day - timedelta(days=6), now
    return f"D{now.date().isoformat()}", start_of_day, now


def _departments(schedule) -> list[int] | None:
    if schedule.department_id is None:
        return None
    from yingdan.org.models import Department

    return list(Department.objects.filter(path__startswith=schedule.department.path).values_list("pk", flat=True))


def compute(schedule, start, end) -> dict:
    from yingdan.customers.models import Customer
    from yingdan.followups.models import FollowUp
    from yingdan.leads.models import Lead
    from yingdan.opportunities.models import Opportunity, StageChange

    depts = _departments(schedule)

    def scoped(qs, field="department_id"):
        return qs if depts is None else qs.filter(**{f"{field}__in": depts})

    data = {"start": start, "end": end}
    data["new_customers"] = scoped(Customer.objects.filter(created_at__gte=start, created_at__lt=end)).count()
    data["new_leads"] = scoped(Lead.objects.filter(created_at__gte=start, created_at__lt=end)).count()
    fu = scoped(FollowUp.objects.filter(occurred_at__gte=start, occurred_at__lt=end))
    data["followups"] = [
        {"type": row["type__name"], "count": row["n"]}
        for row in fu.values("type__name").annotate(n=Count("id")).order_by("-n", "type__name")
    ]
    data["followups_total"] = sum(r["count"] for r in data["followups"])
    moves = scoped(StageChange.objects.filter(changed_at__gte=start, changed_at__lt=end))
    data["stage_changes"] = moves.count()
    data["deals_moved"] = moves.values("opportunity_id").distinct().count()
    won = scoped(Opportunity.objects.filter(state="won", closed_at__gte=start, closed_at__lt=end))
    agg = won.aggregate(n=Count("id"), amount=Sum("amount"))
    data["wins"] = agg["n"] or 0
    data["won_amount"] = agg["amount"] or Decimal("0")
    top = list(won.values("owner_id").annotate(n=Count("id"), amount=Sum("amount")).order_by("-amount", "owner_id")[:5])
    full = {u.pk: (u.get_full_name() or u.username)
            for u in get_user_model().objects.filter(pk__in=[t["owner_id"] for t in top])}
    data["top_reps"] = [{"name": full.get(t["owner_id"], "-"), "wins": t["n"], "amount": t["amount"]} for t in top]
    today = timezone.localdate(end) if timezone.is_aware(end) else end.date()
    data["overdue_customers"] = scoped(Customer.objects.filter(next_followup_at__lt=today)).count()
    data["overdue_leads"] = scoped(Lead.objects.filter(next_followup_at__lt=today)).count()
    return data


def render_markdown(schedule, data) -> str:
    # Plain str (not SafeString): the markdown is rendered without escaping, so pages must escape it.
    return "".join(render_to_string("automation/brief.md", {"schedule": schedule, "d": data}).strip())


def render_html(schedule, data) -> str:
    return render_to_string("automation/brief_email.html", {"schedule": schedule, "d": data})


def preview(schedule, now=None) -> dict:
    key, start, end = period_for(schedule, now)
    data = compute(schedule, start, end)
    return {"key": key, "data": data, "markdown": render_markdown(schedule, data), "html": render_html(schedule, data)}


def is_due(schedule, now) -> bool:
    local = timezone.localtime(now)
    if schedule.frequency == Frequency.WEEKLY and local.weekday() != schedule.weekday:
        return False
    return local.time() >= schedule.send_time


def title(schedule) -> str:
    return _("Sales brief: %(name)s") % {"name": schedule.name}


def send(schedule, now=None) -> bool:
    """Send the brief for the current period unless it was sent already (claimed with a conditional update,
    so two workers never both send)."""
    now = now or timezone.now()
    key, start, end = period_for(schedule, now)
    with transaction.atomic():
        claimed = BriefSchedule.objects.filter(pk=schedule.pk).exclude(last_period=key).update(last_period=key)
    if not claimed:
        return False
    schedule.last_period = key
    data = compute(schedule, start, end)
    text = render_markdown(schedule, data)
    if schedule.robot_ids and apps.is_installed("yingdan.integrations"):
        from yingdan.integrations.models import Robot
        from yingdan.integrations.services import enqueue_robot_message

        for robot in Robot.objects.filter(pk__in=schedule.robot_ids):
            enqueue_robot_message(robot, title(schedule), text, dedupe_key=f"brief:{schedule.pk}:{key}")
    emails = [e.strip() for e in schedule.emails.replace(",", "\n").splitlines() if e.strip()]
    emails += [u.email for u in schedule.users.filter(is_active=True) if u.email]
    if emails:
        send_mail(title(schedule), text, None, sorted(set(emails)), html_message=render_html(schedule, data),
                  fail_silently=True)
    users = list(schedule.users.filter(is_active=True))
    if users:
        from yingdan.notifications.services import notify

        notify(users, "sales_brief", title(schedule), body=text[:2000], url=schedule.get_absolute_url(),
               dedupe_key=f"brief:{schedule.pk}:{key}")
    return True


def send_due_briefs(now=None) -> int:
    now = now or timezone.now()
    sent = 0
    for schedule in BriefSchedule.objects.filter(is_active=True).select_related("department"):
        key, _s, _e = period_for(schedule, now)
        if schedule.last_period != key and is_due(schedule, now) and send(schedule, now):
            sent += 1
    return sent
