"""The left navigation, built from what the user may view."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from .permissions import get_permissions

# (section, [(label, url name, module, icon)]) — later issues append their modules here.
NAVIGATION = [
    (_("Workbench"), [(_("Home"), "home", None, "home")]),
    (
        _("Customers"),
        [
            (_("Customers"), "customers:customer_list", "customers", "building"),
            (_("Contacts"), "customers:contact_list", "contacts", "user"),
        ],
    ),
    (
        _("Organisation"),
        [
            (_("Users"), "org:user_list", "users", "users"),
            (_("Departments"), "org:department_list", "departments", "tree"),
            (_("Roles"), "org:role_list", "roles", "shield"),
        ],
    ),
    (
        _("Settings"),
        [
            (_("Custom fields"), "core:customfield_list", "settings", "sliders"),
            (_("Lists"), "core:lookup_list", "settings", "list"),
            (_("Change log"), "core:objectchange_list", "settings", "history"),
        ],
    ),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    perms = get_permissions(user)
    sections = []
    current = request.path
    best = ""
    for title, items in NAVIGATION:
        visible = []
        for label, url_name, module, icon in items:
            if module and not perms.has(module, "view"):
                continue
            try:
                url = reverse(url_name)
            except NoReverseMatch:  # module not installed yet
                continue
            # The longest URL that prefixes the current path is the active entry (/customers/contacts/ is
            # Contacts, not Customers).
            if (current == url or (url != "/" and current.startswith(url))) and len(url) > len(best):
                best = url
            visible.append({"label": label, "url": url, "icon": icon})
        if visible:
            sections.append({"title": title, "items": visible})
    for section in sections:
        for item in section["items"]:
            item["active"] = item["url"] == best
    return {"nav_sections": sections, "user_perms": perms}
