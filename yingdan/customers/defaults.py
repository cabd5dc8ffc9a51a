"""Default entries of the customer lists (admins rename, reorder, add and deactivate them)."""

DEFAULT_LOOKUPS = {
    "customer_level": [("A 重点客户", "A key account", "A"), ("B 普通客户", "B regular", "B"), ("C 非优先客户", "C low priority", "C")],
    "customer_status": [("潜在", "Prospect", "prospect"), ("意向", "Interested", "interested"), ("成交", "Won", "won"), ("流失", "Lost", "lost")],
    "industry": [
        ("制造业", "Manufacturing", ""), ("信息技术", "IT", ""), ("批发零售", "Wholesale & retail", ""),
        ("金融", "Finance", ""), ("教育", "Education", ""), ("医疗健康", "Healthcare", ""),
        ("建筑地产", "Construction & real estate", ""), ("物流运输", "Logistics", ""), ("能源化工", "Energy & chemicals", ""),
        ("政府机构", "Government", ""), ("其他", "Other", ""),
    ],
    "customer_source": [
        ("官网", "Website", ""), ("电话营销", "Telemarketing", ""), ("客户介绍", "Referral", ""), ("展会", "Trade show", ""),
        ("线上广告", "Online ads", ""), ("渠道伙伴", "Channel partner", ""), ("其他", "Other", ""),
    ],
}


def ensure_default_lookups(Lookup) -> None:
    for kind, entries in DEFAULT_LOOKUPS.items():
        if Lookup.objects.filter(kind=kind).exists():
            continue
        for order, (name, name_en, code) in enumerate(entries):
            Lookup.objects.create(kind=kind, name=name, name_en=name_en, code=code, order=(order + 1) * 10)
