"""Default follow-up types and the per-level follow-up cycle (admins rename, add and deactivate them)."""

FOLLOWUP_TYPES = [
    ("电话", "Call", "call"),
    ("拜访签到", "Visit (check-in)", "visit"),
    ("微信", "WeChat", "wechat"),
    ("邮件", "E-mail", "email"),
    ("会议", "Meeting", "meeting"),
    ("其他", "Other", "other"),
]

# customer_level code -> days until the next follow-up when the rep gives no date
LEVEL_CYCLE_DAYS = {"A": 7, "B": 15, "C": 30}

CYCLE_KEY = "followup_cycle_days"


def ensure_followup_types(Lookup) -> None:
    if Lookup.objects.filter(kind="followup_type").exists():
        return
    for order, (name, name_en, code) in enumerate(FOLLOWUP_TYPES):
        Lookup.objects.create(
            kind="followup_type", name=name, name_en=name_en, code=code, order=(order + 1) * 10, is_default=(order == 0)
        )


def ensure_level_cycles(Lookup) -> None:
    """Give the default customer levels a follow-up cycle unless an admin has set one."""
    for level in Lookup.objects.filter(kind="customer_level", code__in=list(LEVEL_CYCLE_DAYS)):
        extra = dict(level.extra or {})
        if CYCLE_KEY in extra:
            continue
        extra[CYCLE_KEY] = LEVEL_CYCLE_DAYS[level.code]
        level.extra = extra
        level.save(update_fields=["extra"])


def ensure_defaults(Lookup) -> None:
    ensure_followup_types(Lookup)
    ensure_level_cycles(Lookup)
