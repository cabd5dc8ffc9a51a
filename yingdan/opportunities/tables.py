from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from yingdan.core.tables import Column, Table

from .models import Competitor, LossReason, Opportunity, Pipeline


def stage_badge(opp):
    stage = opp.stage
    return format_html('<span class="badge rounded-pill" style="background:{}">{}</span>', stage.color or "#6c757d", stage.name)


class OpportunityTable(Table):
    customer_link = Column(_("Customer"), render=lambda o: o.customer, sortable=False)
    stage = Column(_("Stage"), render=stage_badge, order_by=("stage__order", "stage_id"))
    owner = Column(order_by="owner_id")
    amount = Column(money=True, order_by="amount")

    class Meta:
        model = Opportunity
        fields = [
            "name", "customer_link", "pipeline", "stage", "state", "amount", "currency", "probability", "expected_close", "owner",
            "department", "source", "next_step", "stage_entered_at", "closed_at", "loss_reason", "created_at", "updated_at",
        ]
        default_columns = ["name", "customer_link", "stage", "amount", "probability", "expected_close", "owner", "updated_at"]
        linkify = ["name"]


class PipelineTable(Table):
    class Meta:
        model = Pipeline
        fields = ["name", "description", "order", "is_default", "is_active", "updated_at"]
        default_columns = fields
        linkify = ["name"]


class LossReasonTable(Table):
    name = Column(_("Name"), render=lambda r: str(r), order_by=("parent__order", "parent_id", "order"))

    class Meta:
        model = LossReason
        fields = ["name", "order", "is_active"]
        default_columns = fields
        linkify = ["name"]


class CompetitorTable(Table):
    class Meta:
        model = Competitor
        fields = ["name", "website", "is_active"]
        default_columns = fields
        linkify = ["name"]
