"""Test data for opportunities: created through the real services."""

from __future__ import annotations

import itertools

from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile

from yingdan.core import context
from yingdan.core.choices import ChangeSource
from yingdan.core.models import Attachment
from yingdan.core.tests.factories import make_customer

from .. import services
from ..models import Opportunity, Pipeline, Stage

_seq = itertools.count(1)


def default_pipeline() -> Pipeline:
    return Pipeline.objects.get(is_default=True)


def stages(pipeline=None) -> list[Stage]:
    return list(Stage.objects.filter(pipeline=pipeline or default_pipeline(), is_active=True).order_by("order", "id"))


def stage(name: str, pipeline=None) -> Stage:
    return Stage.objects.get(pipeline=pipeline or default_pipeline(), name=name)


def make_opportunity(owner, customer=None, **kw) -> Opportunity:
    customer = customer or make_customer(owner)
    kw.setdefault("name", f"测试商机{next(_seq)}")
    kw.setdefault("probability", None)
    opp = Opportunity(customer=customer, owner=owner, **kw)
    with context.change_context(user=owner, source=ChangeSource.SYSTEM):
        return services.save_opportunity(owner, opp, confirm_duplicates=True)


def complete_stage(actor, opp) -> None:
    """Tick every checklist item of the deal's current stage (with the note/attachment placeholders needed)."""
    for row in services.checklist_status(opp):
        if not row["complete"]:
            attachment = None
            if row["item"].needs_attachment:
                attachment = Attachment.objects.create(
                    target_type=ContentType.objects.get_for_model(Opportunity), target_id=opp.pk,
                    file=ContentFile(b"%PDF-1.4 test", name="plan.pdf"), name="plan.pdf", size=13,
                )
            services.complete_checklist_item(actor, opp, row["item"], note="已完成", attachment=attachment)
