from django.utils.translation import gettext_lazy as _

from yingdan.core.tables import Column, Table

from .models import AssignmentRule, Lead


def _members(rule):
    names = [str(m) for m in rule.members.all()]
    return "、".join(names) if names else _("Every active user of the team")


class LeadTable(Table):
    owner = Column(order_by="owner_id")
    converted_customer = Column(_("Converted to customer"), order_by="converted_customer_id")

    class Meta:
        model = Lead
        fields = [
            "name", "company", "title", "mobile", "phone", "email", "status", "source", "owner", "department",
            "province", "city", "pool", "converted_customer", "converted_at", "last_contact_at", "next_followup_at",
            "created_at", "updated_at",
        ]
        default_columns = ["name", "company", "mobile", "status", "source", "owner", "city", "created_at"]
        linkify = ["name"]


class AssignmentRuleTable(Table):
    department = Column(_("Team"), order_by="department__name")
    members_list = Column(_("Eligible members"), render=_members, sortable=False)

    class Meta:
        model = AssignmentRule
        fields = ["department", "method", "load_basis", "members_list", "last_assigned", "updated_at"]
        default_columns = ["department", "method", "load_basis", "members_list", "updated_at"]
        linkify = ["department"]
