"""Search providers: what the global search looks in, per object type.

A provider turns a query into criteria. Each criterion has index-backed candidate sources (querysets of
primary keys answered from one index range: a gram, a pinyin prefix, a phone prefix) and a `verify` filter
that is exact. The service (services.py) counts a source's candidates up to a bound: when few, it fetches
the visible objects among them; when many, it scans the visible objects in id order with `verify`, which then
stops after a handful of rows because matches are dense. Later apps (leads, opportunities) subclass
`SearchProvider` and register it with `yingdan.core.registry.register_search_provider`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch
from django.utils.translation import gettext_lazy as _

from yingdan.core.text import normalize
from yingdan.core.validators import normalize_phone

from .grams import TOP, query_grams
from .models import SearchGram

MAX_LIST_QUERY = 100
_DIGITS = re.compile(r"\D+")
_PHONE_CHARS = re.compile(r"^[\d\s\-+()（）]+$")
_EMAIL_CHARS = re.compile(r"^[a-z0-9._%+\-@]+$")


def prefix_q(field_name: str, prefix: str) -> Q:
    """`field LIKE 'prefix%'` as a range, which both SQLite and PostgreSQL answer from a plain B-tree index."""
    return Q(**{f"{field_name}__gte": prefix, f"{field_name}__lt": prefix + TOP})


@dataclass
class Criterion:
    field: str  # what matched: name / pinyin / initials / phone / email
    sources: list[QuerySet]  # alternatives, each a superset of the matches (values of pk)
    verify: Q
    # Every candidate of the first source matches (a 1–2 character name fragment is its own gram range; a prefix
    # source is the verify condition itself): the candidates need no verify, only the scope check.
    exact: bool = False


@dataclass
class SearchHit:
    obj: object
    title: str
    subtitle: str = ""
    owner: object = None
    matched: str = ""
    phone: str = ""  # the matched phone, masked
    url: str = ""
    rank: int = 2


@dataclass
class Query:
    raw: str
    norm: str  # core.text.normalize(raw)
    digits: str = ""
    phone: str = ""  # normalize_phone(raw) when it is a valid phone number
    email: str = ""
    is_letters: bool = False
    is_email: bool = False  # contains @: matched against e-mail addresses only

    @classmethod
    def parse(cls, raw: str, norm: str) -> Query:
        raw = (raw or "").strip()
        q = cls(raw=raw, norm=norm)
        q.is_letters = bool(norm) and norm.isascii() and norm.isalpha()
        if _PHONE_CHARS.match(raw):
            q.digits = _DIGITS.sub("", raw)
            if q.digits.startswith("86") and len(q.digits) == 13:
                q.digits = q.digits[2:]
            try:
                q.phone = normalize_phone(raw)
            except ValidationError:
                q.phone = ""
        lowered = raw.lower()
        q.is_email = "@" in lowered
        if len(lowered) >= 3 and _EMAIL_CHARS.match(lowered) and not q.digits:
            q.email = lowered
        return q


def mask_phone(value: str) -> str:
    """138****8000 — enough to recognise a number without disclosing it in a dropdown."""
    if not value:
        return ""
    if len(value) >= 11:
        return value[:3] + "****" + value[-4:]
    if len(value) >= 7:
        return value[:-4][: max(len(value) - 8, 2)] + "****" + value[-4:]
    return value


def phone_prefixes(q: Query) -> list[str]:
    """Stored forms a typed number may start: 13800138000 as is; landlines as 010-8888..."""
    if q.phone:
        return [q.phone]
    d = q.digits
    if len(d) < 3:
        return []
    prefixes = [d]
    if d.startswith("0") and len(d) > 4:
        area = 3 if d[1] in "12" else 4
        prefixes.append(f"{d[:area]}-{d[area:]}")
    return prefixes


class SearchProvider:
    key: str = ""
    kind: int = 0  # SearchGram.kind code, unique per provider
    label = ""
    model = None
    permission_module = ""
    select_related: tuple[str, ...] = ()

    def visible(self, user) -> QuerySet:
        return self.model.objects.visible_to(user, "view").select_related(*self.select_related)

    def scoped_ids(self, user) -> QuerySet:
        """The ids the user may view, as a query on the scope's columns only (answered from a covering index)."""
        return self.model.objects.visible_to(user, "view").order_by("-pk").values_list("pk", flat=True)

    def name_criterion(self, q: Query) -> Criterion | None:
        qn = q.norm
        if not qn or q.is_email:
            return None
        grams = SearchGram.objects.filter(kind=self.kind)
        if len(qn) == 1:
            sources = [grams.filter(gram__gte=qn, gram__lte=qn + TOP).order_by().values("object_id")]
        else:
            sources = [grams.filter(gram=g).order_by().values("object_id") for g in query_grams(qn)]
        return Criterion("name", sources, Q(search_name__contains=qn), exact=len(qn) <= 2)

    def pinyin_criteria(self, q: Query) -> list[Criterion]:
        if not q.is_letters or q.is_email:
            return []
        base = self.model.objects.order_by()  # no ORDER BY: a source is read straight from its index range
        return [
            Criterion("initials", [base.filter(prefix_q("search_initials", q.norm)).values("pk")], prefix_q("search_initials", q.norm), exact=True),
            Criterion("pinyin", [base.filter(prefix_q("search_pinyin", q.norm)).values("pk")], prefix_q("search_pinyin", q.norm), exact=True),
        ]

    def field_prefix_criterion(self, matched: str, field_name: str, prefixes: list[str]) -> Criterion | None:
        if not prefixes:
            return None
        cond = Q()
        for p in prefixes:
            cond |= prefix_q(field_name, p)  # a full number matches itself and the same number with an extension
        return Criterion(matched, [self.model.objects.filter(cond).order_by().values("pk")], cond, exact=True)

    def criteria(self, q: Query) -> list[Criterion]:
        raise NotImplementedError

    def list_filter(self, text: str) -> Q | None:
        """One Q for a list's `q`: any criterion matches (name fragment via the gram index, pinyin and
        initials prefixes, phone/e-mail prefixes). Candidates come from the indexes only — per criterion the
        intersection of its sources, across criteria their union — and are verified exactly."""
        q = Query.parse(text, normalize(text)[:MAX_LIST_QUERY])
        candidates, verify = [], None
        for criterion in self.criteria(q):
            # One index range per criterion (the exact check below does the rest): joining several gram
            # ranges costs more than it saves when the first one is common.
            first = criterion.sources[0]
            column = next(iter(first.query.values_select), "pk")
            candidates.append(first.values_list(column, flat=True))
            verify = criterion.verify if verify is None else verify | criterion.verify
        if not candidates:
            return None
        union = candidates[0].union(*candidates[1:], all=True) if len(candidates) > 1 else candidates[0]
        return Q(pk__in=union) & verify

    def rank(self, obj, q: Query) -> int:
        qn = q.norm
        if qn and qn in (obj.search_name, obj.search_initials, obj.search_pinyin):
            return 0
        if qn and (obj.search_name.startswith(qn) or obj.search_initials.startswith(qn) or obj.search_pinyin.startswith(qn)):
            return 1
        return 2

    def hit(self, obj, q: Query, matched: str) -> SearchHit:
        raise NotImplementedError

    @staticmethod
    def url_of(obj) -> str:
        try:
            return obj.get_absolute_url()
        except NoReverseMatch:  # the detail view is not installed (yet)
            return ""


class CustomerSearchProvider(SearchProvider):
    key = "customers"
    kind = 1
    label = _("Customers")
    permission_module = "customers"
    select_related = ("owner", "level")

    @property
    def model(self):
        from yingdan.customers.models import Customer

        return Customer

    def criteria(self, q: Query) -> list[Criterion]:
        found = [self.name_criterion(q), *self.pinyin_criteria(q), self.field_prefix_criterion("phone", "phone", phone_prefixes(q))]
        return [c for c in found if c is not None]

    def hit(self, obj, q, matched):
        return SearchHit(
            obj=obj, title=obj.name, subtitle=str(obj.level) if obj.level_id else "", owner=obj.owner,
            matched=matched, phone=mask_phone(obj.phone) if matched == "phone" else "", url=self.url_of(obj),
            rank=self.rank(obj, q),
        )


class ContactSearchProvider(SearchProvider):
    key = "contacts"
    kind = 2
    label = _("Contacts")
    permission_module = "contacts"
    select_related = ("customer", "customer__owner")

    @property
    def model(self):
        from yingdan.customers.models import Contact

        return Contact

    def criteria(self, q: Query) -> list[Criterion]:
        found = [
            self.name_criterion(q),
            *self.pinyin_criteria(q),
            self.field_prefix_criterion("phone", "mobile", [p for p in phone_prefixes(q) if p.startswith("1")]),
            self.field_prefix_criterion("email", "email", [q.email] if q.email else []),
        ]
        return [c for c in found if c is not None]

    def hit(self, obj, q, matched):
        return SearchHit(
            obj=obj, title=obj.name, subtitle=obj.customer.name, owner=obj.customer.owner, matched=matched,
            phone=mask_phone(obj.mobile) if matched == "phone" else "", url=self.url_of(obj), rank=self.rank(obj, q),
        )
