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

    # The related rows each column shows: a page joins and builds only those (50 rows × 6 relations were ~350
    # model instances per page, most never displayed).
    RELATED = {"customer_link": "customer", "pipeline": "pipeline", "stage": "stage", "owner": "owner",
               "department": "department", "source": "source", "loss_reason": "loss_reason"}

    def order_queryset(self, queryset):
        related = sorted({self.RELATED[n] for n in self.visible_names if n in self.RELATED})
        queryset = queryset.select_related(None).select_related(*related)
        return super().order_queryset(queryset)


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
