"""Template helpers: money in ¥ with Chinese grouping, permission checks, attribute access."""

from __future__ import annotations

import decimal

from django import template
from django.utils.translation import get_language

from yingdan.core.permissions import get_permissions

register = template.Library()


@register.filter
def money(value, places: int = 2) -> str:
    """¥1,234,567.00; in Chinese, large amounts also read as 万/亿 via `money_cn`."""
    if value in (None, ""):
        return ""
    try:
        number = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        return str(value)
    sign = "-" if number < 0 else ""
    return f"{sign}¥{abs(number):,.{int(places)}f}"


@register.filter
def money_cn(value) -> str:
    """Compact Chinese amount: ¥12.35万, ¥1.20亿 (English: ¥123.5K, ¥120M)."""
    if value in (None, ""):
        return ""
    number = decimal.Decimal(str(value))
    sign = "-" if number < 0 else ""
    n = abs(number)
    if (get_language() or "zh").startswith("zh"):
        if n >= 10**8:
            return f"{sign}¥{n / 10**8:,.2f}亿"
        if n >= 10**4:
            return f"{sign}¥{n / 10**4:,.2f}万"
        return f"{sign}¥{n:,.2f}"
    if n >= 10**6:
        return f"{sign}¥{n / 10**6:,.1f}M"
    if n >= 10**3:
        return f"{sign}¥{n / 10**3:,.1f}K"
    return f"{sign}¥{n:,.2f}"


@register.simple_tag(takes_context=True)
def can(context, module: str, action: str) -> bool:
    user = context.get("request").user if context.get("request") else None
    return bool(user and get_permissions(user).has(module, action))


@register.filter
def getattr_(obj, name):
    return getattr(obj, name, "")


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None
