from yingdan.automation.models import AutomationRule


def make_rule(creator, **kw) -> AutomationRule:
    kw.setdefault("name", "rule")
    kw.setdefault("object_type", "customers.customer")
    kw.setdefault("trigger", "created")
    rule = AutomationRule(created_by=creator, **kw)
    rule.save()
    return rule
