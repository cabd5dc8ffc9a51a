"""The built-in duplicate rules (a data migration and the test factories create them)."""

from __future__ import annotations

DEFAULT_RULES = [
    # code, name, object, target, conditions, form, api, import, order
    ("customer_credit_code", "统一社会信用代码相同", "customer", "customer",
     [{"field": "credit_code", "match": "exact"}], "block", "block", "block", 10),
    ("customer_company", "公司名称相似", "customer", "customer",
     [{"field": "company", "match": "fuzzy", "threshold": 80}], "warn", "warn", "block", 20),
    ("customer_phone", "电话相同", "customer", "customer", [{"field": "phone", "match": "exact"}], "warn", "warn", "warn", 30),
    ("contact_mobile", "联系人手机相同", "contact", "contact", [{"field": "mobile", "match": "exact"}], "warn", "warn", "warn", 10),
    ("contact_email", "联系人邮箱相同", "contact", "contact", [{"field": "email", "match": "exact"}], "warn", "warn", "warn", 20),
    ("lead_mobile", "线索手机相同", "lead", "lead", [{"field": "mobile", "match": "exact"}], "warn", "warn", "warn", 10),
    ("lead_company", "线索公司相似", "lead", "lead",
     [{"field": "company", "match": "fuzzy", "threshold": 80}], "warn", "warn", "warn", 20),
    ("lead_customer_company", "线索公司已是客户（撞单）", "lead", "customer",
     [{"field": "company", "match": "fuzzy", "threshold": 80}], "warn", "warn", "warn", 30),
    ("lead_contact_mobile", "线索手机已是客户联系人", "lead", "contact", [{"field": "mobile", "match": "exact"}], "warn", "warn", "warn", 40),
]


def ensure_default_rules(rule_model=None) -> None:
    """The built-in rules (idempotent: a rule an admin changed or deleted is left alone once created)."""
    if rule_model is None:
        from .models import DuplicateRule as rule_model  # the migration passes its historical model
    if rule_model.objects.exists():
        return
    for code, name, obj, target, conditions, form, api, imp, order in DEFAULT_RULES:
        rule_model.objects.create(
            code=code, name=name, object_type=obj, target_type=target, conditions=conditions,
            form_action=form, api_action=api, import_action=imp, order=order,
        )
