"""Formatting of report cells by column kind (money, percentage, days, counts)."""

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

from yingdan.core.templatetags.yingdan import money

register = template.Library()


@register.simple_tag
def report_cell(row, column):
    if not row:
        return ""
    value = row.get(column.key)
    if value is None or value == "":
        return "—" if column.kind != "text" else ""
    if column.kind == "money":
        return money(value)
    if column.kind == "pct":
        return f"{value:.1f}%"
    if column.kind == "days":
        return f"{value:.1f}"
    if column.kind == "int":
        return intcomma(value)
    return value
