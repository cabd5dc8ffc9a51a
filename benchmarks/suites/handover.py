"""Handover preview for the rep holding the most customers, and the notification bell for a user with a
large notification history (inserted for the run, removed afterwards)."""

from __future__ import annotations

from django.urls import reverse

PREVIEW_MS, BADGE_MS, DROPDOWN_MS, LIST_MS = 500, 20, 50, 100
NOTIFICATIONS = 200_000  # for the benchmark user; plus as many spread over other users


def run(ctx) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count

    from yingdan.customers.models import Customer
    from yingdan.handover import services as handover
    from yingdan.notifications import services as notifications
    from yingdan.notifications.models import Notification

    User = get_user_model()
    results = {}

    # -- handover preview (dry run: nothing is written) -------------------------------------------------
    top = (Customer.objects.filter(owner__isnull=False).values("owner").annotate(n=Count("id")).order_by("-n").first())
    admin = User(username="bench-admin", is_superuser=True, is_active=True)  # in memory only
    if top is None:
        ctx.log("no owned customers: handover preview skipped")
    else:
        leaving = User.objects.get(pk=top["owner"])
        successors = list(User.objects.filter(is_active=True).exclude(pk=leaving.pk).order_by("id").values_list("pk", flat=True)[:3])
        ctx.log(f"handover preview for user {leaving.pk} holding {top['n']} customers, split among {len(successors)}")
        results |= ctx.time_call(
            "handover_preview_split_top_rep",
            lambda i: handover.plan_handover(admin, leaving, "split", successors), PREVIEW_MS, n=max(5, ctx.repeat // 4),
        )

    # -- the bell ---------------------------------------------------------------------------------------
    user = ctx.user
    others = list(User.objects.exclude(pk=user.pk).order_by("id").values_list("pk", flat=True)[:200])
    marker = "bench-handover-suite"
    Notification.objects.filter(kind="system", body=marker).delete()
    rows = []
    for i in range(NOTIFICATIONS):
        read = None if i % 10 == 0 else ctx_now()
        rows.append(Notification(recipient_id=user.pk, kind="system", title=f"通知 {i}", body=marker, read_at=read))
        if others:
            rows.append(Notification(recipient_id=others[i % len(others)], kind="system", title=f"通知 {i}", body=marker))
        if len(rows) >= 20_000:
            Notification.objects.bulk_create(rows)
            rows = []
    Notification.objects.bulk_create(rows)
    with connection.cursor() as cursor:  # planner statistics, as a live table would have them
        cursor.execute(f"ANALYZE {Notification._meta.db_table}")
    ctx.log(f"{NOTIFICATIONS} notifications for the benchmark user (10% unread), as many for {len(others)} others")
    try:
        htmx = {"HX-Request": "true"}
        results |= ctx.time_http("bell_unread_badge", lambda i: reverse("notifications:badge"), BADGE_MS, htmx)
        results |= ctx.time_call("unread_count_service", lambda i: notifications.unread_badge(user), BADGE_MS)
        results |= ctx.time_http("bell_dropdown_latest_10", lambda i: reverse("notifications:dropdown"), DROPDOWN_MS, htmx)
        list_url = reverse("notifications:notification_list")
        results |= ctx.time_http("notification_list_unread", lambda i: f"{list_url}?status=unread", LIST_MS)
        results |= ctx.time_http("notification_list_page_200", lambda i: f"{list_url}?page=200", LIST_MS)
    finally:
        Notification.objects.filter(kind="system", body=marker).delete()
    return results


def ctx_now():
    from django.utils import timezone

    return timezone.now()
