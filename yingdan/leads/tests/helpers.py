"""Test data for leads: saved directly (validated), so a test can place a lead with any owner."""

import itertools

from yingdan.core import context
from yingdan.core.choices import ChangeSource
from yingdan.core.models import Lookup
from yingdan.leads.models import Lead

_seq = itertools.count(1)


def make_lead(owner, **kw):
    kw.setdefault("name", f"线索联系人{next(_seq)}")
    kw.setdefault("status", Lookup.objects.filter(kind="lead_status", code="new").first())
    lead = Lead(owner=owner, created_by=owner, **kw)
    lead.sync_department()
    lead.full_clean()
    with context.change_context(user=owner, source=ChangeSource.SYSTEM):
        lead.save()
    return lead
