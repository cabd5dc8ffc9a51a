"""The left navigation, built from what the user may view."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from .permissions import get_permissions

# (section, [(label, url name, module, bootstrap-icons name)]) — later issues append their modules here.
NAVIGATION = [
    (_("Workbench"), [(_("Home"), "home", None, "house")]),
    (
        _("Customers"),
        [
            (_("Leads"), "leads:lead_list", "leads", "funnel"),
            (_("Customers"), "customers:customer_list", "customers", "building"),
            (_("Contacts"), "customers:contact_list", "contacts", "person-lines-fill"),
            (_("Follow-ups"), "followups:followup_list", "followups", "chat-dots"),
            (_("Due follow-ups"), "followups:due_list", "followups", "alarm"),
            (_("Public pools"), "pools:pool_list", "pools", "water"),
        ],
    ),
    (
        _("Sales"),
        [
            (_("Opportunities"), "opportunities:opportunity_list", "opportunities", "briefcase"),
            (_("Kanban"), "opportunities:kanban", "opportunities", "kanban"),
            (_("Tasks"), "tasks:my_tasks", "tasks", "check2-square"),
            (_("Calendar"), "tasks:calendar", "tasks", "calendar3"),
            (_("Reports"), "reports:index", "reports", "bar-chart"),
            (_("Sales brief"), "automation:brief_list", "settings", "newspaper"),
        ],
    ),
    (
        _("Organisation"),
        [
            (_("Users"), "org:user_list", "users", "people"),
            (_("Departments"), "org:department_list", "departments", "diagram-3"),
            (_("Roles"), "org:role_list", "roles", "shield-lock"),
            (_("Handover"), "handover:handover_list", "users", "box-arrow-right"),
        ],
    ),
    (
        _("Settings"),
        [
            (_("Custom fields"), "core:customfield_list", "settings", "sliders"),
            (_("Lists"), "core:lookup_list", "settings", "list-ul"),
            (_("Pipelines"), "opportunities:pipeline_list", "pipelines", "signpost-split"),
            (_("Loss reasons"), "opportunities:lossreason_list", "settings", "heartbreak"),
            (_("Competitors"), "opportunities:competitor_list", "settings", "flag"),
            (_("Duplicate rules"), "duplicates:rule_list", "settings", "files"),
            (_("Assignment rules"), "leads:assignment_list", "settings", "shuffle"),
            (_("Robots"), "integrations:robot_list", "settings", "robot"),
            (_("Webhooks"), "integrations:webhook_list", "settings", "broadcast"),
            (_("Automation"), "automation:rule_list", "settings", "lightning-charge"),
            (_("Change log"), "core:objectchange_list", "settings", "clock-history"),
            (_("Imports"), "imports:job_list", "customers", "upload"),
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
