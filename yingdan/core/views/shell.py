"""The workbench (home page) of the signed-in user."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yingdan.core.permissions import get_permissions


def greeting(hour: int) -> str:
    if hour < 5:
        return _("Good evening")
    if hour < 12:
        return _("Good morning")
    if hour < 18:
        return _("Good afternoon")
    return _("Good evening")


@login_required
def home(request):
    from yingdan.customers.models import Contact, Customer

    user = request.user
    perms = get_permissions(user)
    cards = []
    # Counts of the user's own records only (owner index): a company-wide count of a million rows would make
    # the workbench slow for admins.
    if perms.has("customers", "view"):
        visible = Customer.objects.visible_to(user)
        cards.append(
            {
                "label": _("My customers"),
                "value": visible.filter(owner=user).count(),
                "icon": "building",
                "url_name": "customers:customer_list",
            }
        )
    if perms.has("contacts", "view"):
        cards.append(
            {
                "label": _("My contacts"),
                "value": Contact.objects.visible_to(user).filter(customer__owner=user).count(),
                "icon": "person-lines-fill",
                "url_name": "customers:contact_list",
            }
        )
    context = {
        "greeting": greeting(timezone.localtime().hour),
        "department": user.department,
        "roles": list(user.roles.all()),
        "cards": cards,
        "can_add_customer": perms.has("customers", "create"),
        "can_add_contact": perms.has("contacts", "create"),
        "is_admin": perms.is_admin,
    }
    return render(request, "shell/home.html", context)
