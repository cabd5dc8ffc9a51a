"""Leads in the global search and in the list's `q` box: name and company fragments (the search app's gram
index over `search_name`, which holds both), pinyin/initials prefixes of the name, mobile/phone and e-mail
prefixes — every criterion index-backed."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yingdan.search.providers import Criterion, Query, SearchHit, SearchProvider, mask_phone, phone_prefixes

from .models import Lead


class LeadSearchProvider(SearchProvider):
    key = "leads"
    kind = 3
    label = _("Leads")
    model = Lead
    permission_module = "leads"
    select_related = ("owner", "status")

    def criteria(self, q: Query) -> list[Criterion]:
        prefixes = phone_prefixes(q)
        found = [
            self.name_criterion(q),
            *self.pinyin_criteria(q),
            self.field_prefix_criterion("phone", "mobile", [p for p in prefixes if p.startswith("1")]),
            self.field_prefix_criterion("phone", "phone", prefixes),
            self.field_prefix_criterion("email", "email", [q.email] if q.email else []),
        ]
        return [c for c in found if c is not None]

    def rank(self, obj, q: Query) -> int:
        qn = q.norm
        name = obj.search_name.split(" ", 1)[0]
        if qn and qn in (name, obj.search_initials, obj.search_pinyin):
            return 0
        if qn and (name.startswith(qn) or obj.search_initials.startswith(qn) or obj.search_pinyin.startswith(qn)):
            return 1
        return 2

    def hit(self, obj, q, matched):
        phone = ""
        if matched == "phone":
            phone = mask_phone(obj.mobile if obj.mobile and obj.mobile.startswith(q.digits[:3]) else obj.phone)
        return SearchHit(
            obj=obj, title=obj.name, subtitle=obj.company, owner=obj.owner, matched=matched, phone=phone,
            url=self.url_of(obj), rank=self.rank(obj, q),
        )
