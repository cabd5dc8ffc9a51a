"""Default data: the default pipeline (with SOP checklists), loss reasons and the opportunity-source list.

Idempotent: each part is created only when its table (or list) is empty, so admins' edits are never undone.
"""

from __future__ import annotations

DEFAULT_PIPELINE = {
    "name": "标准销售流程",
    "description": "默认销售流程：初步接触 → 需求确认 → 方案报价 → 商务谈判 → 赢单 / 输单",
    "stages": [
        # name, kind, probability, forecast category, time limit (days), colour, required fields, checklist
        ("初步接触", "open", 10, "pipeline", 14, "#6c757d", [], [
            ("确认客户联系人与决策链", True, False, False),
            ("记录客户基本需求", True, True, False),
        ]),
        ("需求确认", "open", 30, "pipeline", 21, "#0d6efd", ["amount"], [
            ("完成需求调研", True, True, False),
            ("确认预算范围", True, False, False),
        ]),
        ("方案报价", "open", 50, "best_case", 21, "#6610f2", ["amount", "expected_close"], [
            ("提交解决方案", True, False, True),
            ("发送正式报价", True, False, False),
        ]),
        ("商务谈判", "open", 70, "commit", 30, "#fd7e14", ["amount", "expected_close"], [
            ("确认合同条款", True, True, False),
        ]),
        ("赢单", "won", 100, "closed", None, "#198754", ["amount"], []),
        ("输单", "lost", 0, "omitted", None, "#dc3545", [], []),
    ],
}

DEFAULT_LOSS_REASONS = [
    ("价格", ["预算不足", "竞品更便宜"]),
    ("产品", ["功能不满足"]),
    ("关系", ["决策人变更"]),
    ("其他", []),
]

DEFAULT_SOURCES = [
    ("老客户复购", "Existing customer", "existing"),
    ("线索转化", "Converted lead", "lead"),
    ("客户介绍", "Referral", "referral"),
    ("渠道伙伴", "Channel partner", "partner"),
    ("市场活动", "Marketing event", "event"),
    ("其他", "Other", "other"),
]


def ensure_default_pipeline(Pipeline, Stage, ChecklistItem) -> None:
    if Pipeline.objects.exists():
        return
    spec = DEFAULT_PIPELINE
    pipeline = Pipeline.objects.create(name=spec["name"], description=spec["description"], order=10, is_default=True)
    for order, (name, kind, prob, forecast, limit, color, required, checklist) in enumerate(spec["stages"], start=1):
        stage = Stage.objects.create(
            pipeline=pipeline, name=name, kind=kind, probability=prob, forecast_category=forecast,
            time_limit_days=limit, color=color, required_fields=required, order=order * 10,
        )
        for i, (text, req, note, attachment) in enumerate(checklist, start=1):
            ChecklistItem.objects.create(stage=stage, text=text, required=req, needs_note=note, needs_attachment=attachment, order=i * 10)


def ensure_default_loss_reasons(LossReason) -> None:
    if LossReason.objects.exists():
        return
    for order, (name, children) in enumerate(DEFAULT_LOSS_REASONS, start=1):
        parent = LossReason.objects.create(name=name, order=order * 10)
        for i, child in enumerate(children, start=1):
            LossReason.objects.create(parent=parent, name=child, order=i * 10)


def ensure_default_sources(Lookup) -> None:
    if Lookup.objects.filter(kind="opportunity_source").exists():
        return
    for order, (name, name_en, code) in enumerate(DEFAULT_SOURCES, start=1):
        Lookup.objects.create(kind="opportunity_source", name=name, name_en=name_en, code=code, order=order * 10)


def ensure_defaults_with(apps=None) -> None:
    """Create the defaults with historical models (data migration) or the current ones (apps=None)."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    get = apps.get_model
    ensure_default_pipeline(get("opportunities", "Pipeline"), get("opportunities", "Stage"), get("opportunities", "ChecklistItem"))
    ensure_default_loss_reasons(get("opportunities", "LossReason"))
    ensure_default_sources(get("core", "Lookup"))
