"""The SOP compliance tab on a user's page: that rep's figures for the last 90 days and this quarter, within
the viewer's own report scope."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from .queries import rep_sop_summary


def user_sop_context(request, user) -> dict:
    summary = rep_sop_summary(request.user, user)
    periods = []
    for key, data in summary.items():
        periods.append({
            "key": key, "data": data,
            "url": reverse("reports:report", args=["sop-compliance"]) + "?" + urlencode({"rep": user.pk, "period": key, "group_by": "month"}),
        })
    return {"sop_periods": periods}
