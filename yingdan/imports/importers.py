"""Importers: one per object, declaring its columns (labels, synonyms, type) and saving each row through the
object's domain service with entry_point="import" (so the duplicate rules' import action, permissions, data
scope, field permissions, custom-field validation and the change log all apply exactly as on the forms).

Later objects plug in with `register(MyImporter())`."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yingdan.core import registry as core_registry
from yingdan.core.choices import Action
from yingdan.core.models import Lookup
from yingdan.core.text import company_key, normalize

from . import values as V


@dataclass
class Field:
    key: str
    label: object
    label_en: str
    synonyms: tuple = ()
    required: bool = False
    type: str = "text"  # text, phone, date, datetime, decimal, int, bool, lookup, user, customer, email, custom
    lookup_kind: str = ""
    max_length: int | None = None
    example: str = ""
    custom: object = None  # CustomField definition

    def names(self) -> list[str]:
        return [str(self.label), self.label_en, self.key, *self.synonyms]


importers: dict[str, Importer] = {}


def register(importer: Importer) -> None:
    importers[importer.key] = importer


def header_key(text) -> str:
    return normalize(V.narrow(V.clean_text(text))).replace(" ", "").replace("*", "").replace("_", "").lower()


_MEMO_TYPES = frozenset({"text", "lookup", "bool"})
_MEMO_RAW = frozenset({str, int, float, bool, type(None)})
MEMO_SIZE = 50_000
_UNSEEN = object()


class RowError(Exception):
    pass


@dataclass
class RunContext:
    actor: object
    mode: str = "skip"
    owner_mode: str = "me"  # me | column | team
    department: object = None
    value_maps: dict = field(default_factory=dict)  # field key -> {source text: target id}
    dry_run: bool = False
    seen: dict = field(default_factory=dict)  # (kind, key) -> pk created/updated by this job (or True in a dry run)
    cache: dict = field(default_factory=dict)
    duplicates: int = 0


def snapshot(obj, names) -> dict:
    data = {}
    for n in names:
        f = obj._meta.get_field(n)
        data[f.attname] = getattr(obj, f.attname)
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def error_text(exc: ValidationError, labels: dict) -> str:
    if hasattr(exc, "error_dict"):
        parts = []
        for k, errs in exc.message_dict.items():
            label = labels.get(k) or labels.get(k.removeprefix("cf_")) or ("" if k == "__all__" else k)
            msg = "；".join(str(e) for e in errs)
            parts.append(f"{label}: {msg}" if label else msg)
        return "；".join(parts)
    return "；".join(str(m) for m in exc.messages)


class Importer:
    key = ""
    label = ""
    module = ""
    model = None
    dedupe_type = ""  # duplicates.ObjectType this object is checked as ("" = no duplicate check)
    owner_object_type = "lead"

    def base_fields(self) -> list[Field]:
        return []

    def fields(self) -> list[Field]:
        out = list(self.base_fields())
        model = self.model
        if model is not None and model._meta.label_lower in core_registry.custom_field_models:
            for d in model.custom_field_definitions():
                out.append(Field(f"cf_{d.name}", d.label, d.label_en or d.name, synonyms=(d.name,), required=d.required,
                                 type="custom", custom=d))
        return out

    def labels(self) -> dict:
        return {f.key: str(f.label) for f in self.fields()}

    # -- values ------------------------------------------------------------------------------------
    def convert(self, ctx: RunContext, f: Field, raw):
        if f.type == "custom":
            text = V.clean_text(raw)
            t = f.custom.type
            if t in ("date",):
                d = V.parse_date(raw)
                value = d.isoformat() if d else None
            elif t in ("number", "decimal", "integer"):
                d = V.parse_decimal(raw)
                value = None if d is None else (int(d) if t == "integer" else str(d))
            elif t == "phone":
                value = V.parse_phone(raw) or None
            elif t in ("bool", "boolean", "checkbox"):
                value = V.parse_bool(raw) if text else None
            elif t in ("select", "multiselect"):
                value = self._choice(f, text) if text else None
            else:
                value = text or None
            return f.custom.clean_value(value, check_required=False)
        if f.type == "phone":
            value = V.parse_phone(raw)
        elif f.type == "date":
            value = V.parse_date(raw)
        elif f.type == "datetime":
            value = V.parse_datetime(raw)
        elif f.type == "decimal":
            value = V.parse_decimal(raw)
        elif f.type == "bool":
            value = V.parse_bool(raw)
        elif f.type == "email":
            value = V.narrow(V.clean_text(raw)).lower()
        elif f.type == "lookup":
            value = self._lookup(ctx, f, V.clean_text(raw))
        elif f.type == "user":
            value = self._user(ctx, f, V.clean_text(raw))
        elif f.type == "customer":
            value = self._customer(ctx, V.clean_text(raw))
        else:
            value = V.clean_text(raw)
        if f.max_length and isinstance(value, str) and len(value) > f.max_length:
            raise ValidationError(_("At most %(n)d characters (it has %(m)d).") % {"n": f.max_length, "m": len(value)})
        return value

    def _choice(self, f, text):
        opts = getattr(f.custom, "choices", None) or getattr(f.custom, "options", None) or []
        parts = [p.strip() for p in text.replace("，", ",").replace("、", ",").split(",") if p.strip()] if f.custom.type == "multiselect" else [text]
        out = []
        for p in parts:
            hit = p
            for o in opts:
                if isinstance(o, dict) and p in (str(o.get("value")), str(o.get("label"))):
                    hit = o.get("value")
            out.append(hit)
        return out if f.custom.type == "multiselect" else out[0]

    def _mapped(self, ctx, f, text):
        return (ctx.value_maps.get(f.key) or {}).get(text)

    def _lookup(self, ctx, f, text):
        if not text:
            return None
        mapped = self._mapped(ctx, f, text)
        table = self._lookup_table(ctx, f.lookup_kind)
        if mapped:
            hit = next((lk for lk in table.values() if str(lk.pk) == str(mapped)), None)
            if hit:
                return hit
        t = V.narrow(text).lower()
        for cand in (t, t.removesuffix("类"), t.removesuffix("级"), t.removesuffix("类客户"), t + "类", t + "级"):
            if cand in table:
                return table[cand]
        raise ValidationError(_("“%(v)s” is not in the list; map it to a list value or add it to the list first.") % {"v": text})

    def _lookup_table(self, ctx, kind) -> dict:
        """The job's list of one kind (read once): name, English name and code, lower-cased -> value."""
        key = ("lookup", kind)
        table = ctx.cache.get(key)
        if table is None:
            table = {}
            for lk in Lookup.objects.filter(kind=kind, is_active=True):
                for name in (lk.name, lk.name_en, lk.code):
                    if name:
                        table.setdefault(name.strip().lower(), lk)
            ctx.cache[key] = table
        return table

    def _fields(self, ctx) -> list:
        fields = ctx.cache.get("fields")
        if fields is None:
            fields = ctx.cache["fields"] = self.fields()
        return fields

    def warm(self, ctx) -> None:
        """Read now what `parse` reads once per job and keeps in `ctx.cache`: the fields and their lists."""
        for f in self._fields(ctx):
            if f.type == "lookup":
                self._lookup_table(ctx, f.lookup_kind)

    def _user(self, ctx, f, text):
        if not text:
            return None
        from yingdan.org.models import User

        mapped = self._mapped(ctx, f, text)
        if mapped:
            return User.objects.get(pk=mapped)
        cache = ctx.cache.setdefault("users", {})
        if text in cache:
            hits = cache[text]
        else:
            t = V.narrow(text)
            hits = list(User.objects.filter(is_active=True).filter(Q(username=t) | Q(mobile=t) | Q(name=t))[:3])
            exact = [u for u in hits if u.username == t or u.mobile == t]
            hits = exact or hits
            cache[text] = hits
        if not hits:
            raise ValidationError(_("No active user “%(v)s” (by name, username or mobile).") % {"v": text})
        if len(hits) > 1:
            raise ValidationError(_("Several users are called “%(v)s”: use the username or mobile.") % {"v": text})
        return hits[0]

    def _customer(self, ctx, text):
        if not text:
            return None
        from yingdan.customers.models import Customer

        seen = ctx.seen.get(("customer", company_key(text)))
        if isinstance(seen, int):
            return Customer.objects.get(pk=seen)
        qs = Customer.objects.visible_to(ctx.actor, Action.VIEW)
        hits = list(qs.filter(name=text)[:2]) or list(qs.filter(dedupe_name=company_key(text)[:255])[:2])
        if not hits:
            raise ValidationError(_("No customer “%(v)s” that you can see.") % {"v": text})
        if len(hits) > 1:
            raise ValidationError(_("Several customers are called “%(v)s”.") % {"v": text})
        return hits[0]

    def parse(self, ctx: RunContext, row: dict) -> dict:
        """{field key: raw} → {field key: value}; every bad cell is reported at once."""
        out, errors = {}, {}
        fields = self._fields(ctx)
        memo = ctx.cache.get("converted")
        if memo is None:
            memo = ctx.cache["converted"] = {}
        for f in fields:
            if f.key not in row:
                continue
            raw = row[f.key]
            # text, list and yes/no cells repeat row after row (级别 A, 上海, 经理, ...): their conversion depends
            # on the cell alone for the whole job (lists and value maps are read once), so it is remembered
            key = (f.key, type(raw), raw) if f.type in _MEMO_TYPES and type(raw) in _MEMO_RAW else None
            if key is not None:
                value = memo.get(key, _UNSEEN)
                if value is not _UNSEEN:
                    out[f.key] = value
                    continue
            try:
                out[f.key] = value = self.convert(ctx, f, raw)
            except ValidationError as exc:
                errors[f.key] = exc.messages
                continue
            if key is not None:
                if len(memo) >= MEMO_SIZE:
                    memo.clear()
                memo[key] = value
        for f in fields:
            if f.required and out.get(f.key) in (None, ""):
                errors.setdefault(f.key, [_("This field is required.")])
        if errors:
            raise ValidationError(errors)
        return out

    # -- duplicates and saving ---------------------------------------------------------------------
    def apply_owner(self, ctx, obj, values):
        if obj.pk is not None or not hasattr(obj, "owner_id"):
            return
        if values.get("owner") is not None:
            obj.owner = values["owner"]
        elif ctx.owner_mode == "team" and ctx.department is not None:
            from yingdan.leads.services import pick_owners

            obj.owner = pick_owners(ctx.department, 1, object_type=self.owner_object_type)[0]
        else:
            obj.owner = ctx.actor

    def model_values(self, values):
        return {k: v for k, v in values.items() if not k.startswith("cf_") and k in self.model_fields}

    def custom_values(self, values):
        return {k[3:]: v for k, v in values.items() if k.startswith("cf_")}

    model_fields: tuple = ()

    def save(self, ctx, obj, custom, *, confirm):
        raise NotImplementedError

    def process(self, ctx: RunContext, row: dict) -> tuple[str, list]:
        """Import one row: returns (result, written records)."""
        values = self.parse(ctx, row)
        return self.write(ctx, values)

    def write(self, ctx, values) -> tuple[str, list]:
        """Save a new record through the service; the service's duplicate check (the rules' import action)
        is the duplicate lookup: its hits decide skip / update / create anyway, so every row is checked
        once, with exactly the rules the forms use."""
        from django.db import transaction

        from yingdan.duplicates.services import DuplicateError

        fields = self.model_values(values)
        custom = self.custom_values(values)

        def build():
            return self.model(**{k: v for k, v in fields.items() if k != "owner"})

        new = build()
        try:
            with transaction.atomic():
                self.apply_owner(ctx, new, values)
                self.save(ctx, new, custom, confirm=False)
            return "created", [self.written(new, "created")]
        except DuplicateError as exc:
            hits = [h for h in exc.duplicate_hits if h["object"] == self.dedupe_type]
            ctx.duplicates += 1
            if hits and ctx.mode == "skip":
                return "skipped", []
            if hits and ctx.mode == "update":
                return self.update(ctx, hits[0]["id"], fields, custom)
            if not exc.duplicate_warning:
                raise
        new = build()
        self.apply_owner(ctx, new, values)
        self.save(ctx, new, custom, confirm=True)
        return "created", [self.written(new, "created")]

    def update(self, ctx, pk, fields, custom):
        obj = self.model.objects.visible_to(ctx.actor, Action.EDIT).filter(pk=pk).first()
        if obj is None:
            raise ValidationError(_("A matching record exists but you may not edit it (it is outside your data scope)."))
        changed = [k for k, v in fields.items() if k != "owner" and v not in (None, "") and getattr(obj, k) != v]
        before = snapshot(obj, changed)
        before["custom_fields"] = dict(obj.custom_fields or {}) if hasattr(obj, "custom_fields") else None
        for k in changed:
            setattr(obj, k, fields[k])
        custom = {k: v for k, v in custom.items() if v not in (None, "", [])}
        if not changed and not custom:
            return "skipped", []
        self.save(ctx, obj, custom or None, confirm=True)
        return "updated", [self.written(obj, "updated", before)]

    @staticmethod
    def written(obj, action, before=None) -> dict:
        obj_ts = getattr(obj, "updated_at", None)
        return {"model": obj._meta.label_lower, "pk": obj.pk, "action": action, "before": before,
                "after_ts": obj_ts.isoformat() if obj_ts else None}

    def template_rows(self):
        fields = [f for f in self.fields()]
        return [str(f.label) + (" *" if f.required else "") for f in fields], [f.example for f in fields]


def F(key, label, en, *syn, **kw):
    return Field(key, label, en, synonyms=syn, **kw)


_OWNER = F("owner", gettext_lazy("Owner"), "Owner", "负责人", "归属人", "销售", "业务员", "所属销售", "跟进人", "Sales rep", type="user")


class CustomerImporter(Importer):
    key = "customers"
    label = gettext_lazy("Customers")
    module = "customers"
    dedupe_type = "customer"
    owner_object_type = "customer"
    model_fields = ("name", "short_name", "credit_code", "industry", "source", "level", "status", "province", "city",
                    "district", "address", "website", "phone", "remarks", "owner")

    @property
    def model(self):
        from yingdan.customers.models import Customer

        return Customer

    def base_fields(self):
        return [
            F("name", gettext_lazy("Customer name"), "Company", "客户名称", "公司名称", "客户", "公司", "企业名称", "单位名称", "Company name", "Customer", "Account", required=True, max_length=200, example="上海星辰科技有限公司"),
            F("short_name", gettext_lazy("Short name"), "Short name", "简称", "客户简称", max_length=100, example="星辰科技"),
            F("credit_code", gettext_lazy("Credit code"), "Credit code", "统一社会信用代码", "信用代码", "税号", max_length=18),
            F("level", gettext_lazy("Level"), "Level", "客户级别", "级别", "客户等级", "等级", type="lookup", lookup_kind="customer_level", example="A"),
            F("status", gettext_lazy("Status"), "Status", "客户状态", "状态", type="lookup", lookup_kind="customer_status"),
            F("industry", gettext_lazy("Industry"), "Industry", "行业", "所属行业", type="lookup", lookup_kind="industry"),
            F("source", gettext_lazy("Source"), "Source", "客户来源", "来源", type="lookup", lookup_kind="customer_source"),
            F("phone", gettext_lazy("Phone"), "Phone", "电话", "公司电话", "座机", "Telephone", type="phone", example="021-12345678"),
            F("province", gettext_lazy("Province"), "Province", "省份", "省", max_length=30, example="上海"),
            F("city", gettext_lazy("City"), "City", "城市", "市", max_length=30, example="上海"),
            F("district", gettext_lazy("District"), "District", "区县", "区", max_length=30),
            F("address", gettext_lazy("Address"), "Address", "地址", "详细地址", "公司地址", max_length=255),
            F("website", gettext_lazy("Website"), "Website", "网址", "官网", max_length=255),
            F("remarks", gettext_lazy("Remarks"), "Remarks", "备注", "说明", "Notes", max_length=5000),
            _OWNER,
            F("contact_name", gettext_lazy("Contact name"), "Contact name", "联系人", "联系人姓名", "姓名", "Contact", max_length=100, example="张伟"),
            F("contact_mobile", gettext_lazy("Contact mobile"), "Contact mobile", "联系人手机", "手机", "手机号", "手机号码", "Mobile", type="phone", example="13800138000"),
            F("contact_title", gettext_lazy("Contact title"), "Contact title", "联系人职务", "职务", "职位", "Title", max_length=100, example="采购经理"),
            F("contact_email", gettext_lazy("Contact e-mail"), "Contact e-mail", "联系人邮箱", "邮箱", "电子邮件", "Email", "E-mail", type="email", max_length=254),
        ]

    def save(self, ctx, obj, custom, *, confirm):
        from yingdan.customers.services import save_customer

        save_customer(ctx.actor, obj, custom_fields=custom, entry_point="import", confirm_duplicates=confirm)

    def write(self, ctx, values):
        from yingdan.customers.models import Contact, Customer
        from yingdan.customers.services import save_contact

        key = ("customer", company_key(values.get("name") or ""))
        seen = ctx.seen.get(key)
        written, result = [], None
        if seen is None:
            result, written = super().write(ctx, values)
            customer = None
            for w in written:
                customer = Customer.objects.get(pk=w["pk"])
            if result == "skipped":
                return result, written
            ctx.seen[key] = customer.pk
        else:
            customer = Customer.objects.get(pk=seen)
            result = "updated"
        if values.get("contact_name"):
            contact = Contact(customer=customer, name=values["contact_name"], mobile=values.get("contact_mobile") or "",
                              title=values.get("contact_title") or "", email=values.get("contact_email") or "")
            try:
                save_contact(ctx.actor, contact, entry_point="import", confirm_duplicates=True)
            except Exception as exc:
                if seen is None:
                    ctx.seen.pop(key, None)  # the row's savepoint rolls the new customer back
                if not isinstance(exc, ValidationError):
                    raise
                raise ValidationError({("contact_" + k if k in ("name", "mobile", "title", "email") else k): v
                                       for k, v in exc.message_dict.items()}) if hasattr(exc, "error_dict") else exc
            written.append(self.written(contact, "created"))
        elif seen is not None:
            return "skipped", []
        return result, written


class ContactImporter(Importer):
    key = "contacts"
    label = gettext_lazy("Contacts")
    module = "contacts"
    dedupe_type = "contact"
    model_fields = ("name", "customer", "title", "mobile", "phone", "email", "wechat", "birthday", "is_primary", "remarks")

    @property
    def model(self):
        from yingdan.customers.models import Contact

        return Contact

    def base_fields(self):
        return [
            F("name", gettext_lazy("Name"), "Name", "姓名", "联系人", "联系人姓名", "Contact", required=True, max_length=100, example="张伟"),
            F("customer", gettext_lazy("Customer"), "Customer", "客户名称", "客户", "公司名称", "公司", "Company", required=True, type="customer", example="上海星辰科技有限公司"),
            F("title", gettext_lazy("Job title"), "Title", "职务", "职位", max_length=100, example="采购经理"),
            F("mobile", gettext_lazy("Mobile"), "Mobile", "手机", "手机号", "手机号码", type="phone", example="13800138000"),
            F("phone", gettext_lazy("Phone"), "Phone", "电话", "座机", type="phone"),
            F("email", gettext_lazy("E-mail"), "E-mail", "邮箱", "电子邮件", "Email", type="email", max_length=254),
            F("wechat", gettext_lazy("WeChat"), "WeChat", "微信", "微信号", max_length=50),
            F("birthday", gettext_lazy("Birthday"), "Birthday", "生日", "出生日期", type="date"),
            F("is_primary", gettext_lazy("Primary contact"), "Primary", "主联系人", "首要联系人", type="bool"),
            F("remarks", gettext_lazy("Remarks"), "Remarks", "备注", max_length=5000),
        ]

    def apply_owner(self, ctx, obj, values):
        return None

    def save(self, ctx, obj, custom, *, confirm):
        from yingdan.customers.services import save_contact

        save_contact(ctx.actor, obj, custom_fields=custom, entry_point="import", confirm_duplicates=confirm)


class LeadImporter(Importer):
    key = "leads"
    label = gettext_lazy("Leads")
    module = "leads"
    dedupe_type = "lead"
    model_fields = ("name", "company", "title", "mobile", "phone", "email", "source", "status", "province", "city",
                    "district", "remarks", "owner")

    @property
    def model(self):
        from yingdan.leads.models import Lead

        return Lead

    def base_fields(self):
        return [
            F("name", gettext_lazy("Name"), "Name", "姓名", "联系人", "客户姓名", required=True, max_length=100, example="李娜"),
            F("company", gettext_lazy("Company"), "Company", "公司名称", "公司", "客户名称", "单位", max_length=200, example="杭州云帆网络有限公司"),
            F("title", gettext_lazy("Job title"), "Title", "职务", "职位", max_length=100),
            F("mobile", gettext_lazy("Mobile"), "Mobile", "手机", "手机号", "手机号码", type="phone", example="13900139000"),
            F("phone", gettext_lazy("Phone"), "Phone", "电话", "座机", type="phone"),
            F("email", gettext_lazy("E-mail"), "E-mail", "邮箱", "Email", type="email", max_length=254),
            F("source", gettext_lazy("Source"), "Source", "线索来源", "来源", type="lookup", lookup_kind="lead_source"),
            F("status", gettext_lazy("Status"), "Status", "线索状态", "状态", type="lookup", lookup_kind="lead_status"),
            F("province", gettext_lazy("Province"), "Province", "省份", "省", max_length=30),
            F("city", gettext_lazy("City"), "City", "城市", "市", max_length=30),
            F("district", gettext_lazy("District"), "District", "区县", max_length=30),
            F("remarks", gettext_lazy("Remarks"), "Remarks", "备注", max_length=5000),
            _OWNER,
        ]

    def save(self, ctx, obj, custom, *, confirm):
        from yingdan.leads.services import save_lead

        save_lead(ctx.actor, obj, custom_fields=custom, entry_point="import", confirm_duplicates=confirm)


class FollowUpImporter(Importer):
    key = "followups"
    label = gettext_lazy("Follow-ups")
    module = "followups"
    model_fields = ("customer", "type", "occurred_at", "content", "next_at", "next_plan")

    @property
    def model(self):
        from yingdan.followups.models import FollowUp

        return FollowUp

    def base_fields(self):
        return [
            F("customer", gettext_lazy("Customer"), "Customer", "客户名称", "客户", "公司名称", "Company", required=True, type="customer", example="上海星辰科技有限公司"),
            F("type", gettext_lazy("Type"), "Type", "跟进方式", "跟进类型", "方式", required=True, type="lookup", lookup_kind="followup_type", example="电话"),
            F("occurred_at", gettext_lazy("Time"), "Time", "跟进时间", "时间", "日期", required=True, type="datetime", example="2024-03-05 10:00"),
            F("content", gettext_lazy("Content"), "Content", "跟进内容", "内容", "记录", required=True, max_length=10000, example="电话沟通需求"),
            F("next_at", gettext_lazy("Next follow-up date"), "Next date", "下次跟进时间", "下次跟进日期", "下次跟进", type="date"),
            F("next_plan", gettext_lazy("Next step"), "Next step", "下次跟进计划", "下一步", max_length=500),
        ]

    def apply_owner(self, ctx, obj, values):
        return None

    def save(self, ctx, obj, custom, *, confirm):
        from yingdan.followups.services import save_followup

        save_followup(ctx.actor, obj)


class OpportunityImporter(Importer):
    key = "opportunities"
    label = gettext_lazy("Opportunities")
    module = "opportunities"
    owner_object_type = "customer"
    model_fields = ("name", "customer", "amount", "expected_close", "pipeline", "stage", "owner")

    @property
    def model(self):
        from yingdan.opportunities.models import Opportunity

        return Opportunity

    def base_fields(self):
        return [
            F("name", gettext_lazy("Opportunity name"), "Opportunity", "商机名称", "商机", "项目名称", "Deal", required=True, max_length=200, example="年度采购项目"),
            F("customer", gettext_lazy("Customer"), "Customer", "客户名称", "客户", "公司名称", "Company", required=True, type="customer", example="上海星辰科技有限公司"),
            F("amount", gettext_lazy("Amount"), "Amount", "金额", "商机金额", "预计金额", type="decimal", example="100000"),
            F("expected_close", gettext_lazy("Expected close date"), "Close date", "预计成交日期", "预计签单日期", type="date", example="2024-06-30"),
            F("pipeline", gettext_lazy("Pipeline"), "Pipeline", "销售流程", "流程", max_length=100),
            F("stage", gettext_lazy("Stage"), "Stage", "销售阶段", "阶段", max_length=100),
            _OWNER,
        ]

    def write(self, ctx, values):
        from yingdan.opportunities.models import Pipeline, Stage

        pipeline_name = values.pop("pipeline", "") or ""
        stage_name = values.pop("stage", "") or ""
        pipeline = None
        if pipeline_name:
            pipeline = Pipeline.objects.filter(name=pipeline_name).first()
            if pipeline is None:
                raise ValidationError({"pipeline": [_("No pipeline “%(v)s”.") % {"v": pipeline_name}]})
        else:
            pipeline = Pipeline.objects.filter(is_default=True).first() if hasattr(Pipeline, "is_default") else None
            pipeline = pipeline or Pipeline.objects.order_by("order", "id").first()
        values["pipeline"] = pipeline
        if stage_name:
            stage = Stage.objects.filter(pipeline=pipeline, name=stage_name).first()
            if stage is None:
                raise ValidationError({"stage": [_("No stage “%(v)s” in this pipeline.") % {"v": stage_name}]})
            values["stage"] = stage
        return super().write(ctx, values)

    def save(self, ctx, obj, custom, *, confirm):
        from yingdan.opportunities.services import save_opportunity

        save_opportunity(ctx.actor, obj, custom_fields=custom, entry_point="import", confirm_duplicates=confirm)


for _imp in (CustomerImporter(), ContactImporter(), LeadImporter(), FollowUpImporter(), OpportunityImporter()):
    register(_imp)


def for_model(model) -> Importer | None:
    label = model._meta.label_lower
    for imp in importers.values():
        if imp.model._meta.label_lower == label:
            return imp
    return None


def auto_map(importer: Importer, headers: list) -> dict:
    """{column index (str): field key} from synonyms; each field is used once (first column wins)."""
    index = {}
    for f in importer.fields():
        for n in f.names():
            index.setdefault(header_key(n), f.key)
    mapping, used = {}, set()
    for i, h in enumerate(headers):
        key = index.get(header_key(h)) if h not in (None, "") else None
        if key and key not in used:
            mapping[str(i)] = key
            used.add(key)
    return mapping


def score_header(importer: Importer, row: list) -> int:
    keys = set()
    for f in importer.fields():
        keys.update(header_key(n) for n in f.names())
    return sum(1 for v in row if v not in (None, "") and header_key(v) in keys)


def today() -> dt.date:
    return dt.date.today()
