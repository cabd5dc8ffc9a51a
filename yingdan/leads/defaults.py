"""Default entries of the lead lists (admins rename, reorder, add and deactivate them; codes stay)."""

STATUS_NEW = "new"
STATUS_WORKING = "working"
STATUS_CONVERTED = "converted"
STATUS_INVALID = "invalid"
CLOSED_STATUS_CODES = (STATUS_CONVERTED, STATUS_INVALID)

DEFAULT_LOOKUPS = {
    "lead_status": [
        ("新线索", "New", STATUS_NEW), ("跟进中", "Working", STATUS_WORKING),
        ("已转化", "Converted", STATUS_CONVERTED), ("无效", "Invalid", STATUS_INVALID),
    ],
    "lead_source": [
        ("官网表单", "Website form", "web"), ("电话咨询", "Inbound call", "call"), ("展会", "Trade show", "event"),
        ("客户介绍", "Referral", "referral"), ("线上广告", "Online ads", "ads"), ("其他", "Other", "other"),
    ],
}


def ensure_default_lookups(Lookup) -> None:
    """Create each list the first time; afterwards only re-add a status code the services rely on."""
    for kind, entries in DEFAULT_LOOKUPS.items():
        exists = Lookup.objects.filter(kind=kind).exists()
        for order, (name, name_en, code) in enumerate(entries):
            if exists and (kind != "lead_status" or Lookup.objects.filter(kind=kind, code=code).exists()):
                continue
            if Lookup.objects.filter(kind=kind, name=name).exists():
                continue
            Lookup.objects.create(
                kind=kind, name=name, name_en=name_en, code=code, order=(order + 1) * 10,
                is_default=(kind == "lead_status" and code == STATUS_NEW and not exists),
            )
