"""Cell value parsing shared by every importer: text, phones, dates, numbers (full-width, Excel serials,
scientific notation that lost digits)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .readers import Cell

_SCI = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")
_DATE_PATTERNS = [
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]


def clean_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Cell):
        value = value.value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.strftime("%Y-%m-%d")
    s = str(value).replace("\u3000", " ").replace("\xa0", " ").strip()
    return s


def narrow(s: str) -> str:
    """Full-width digits/letters/punctuation to their ASCII forms (NFKC), spaces removed at the ends."""
    return unicodedata.normalize("NFKC", s).strip()


def parse_phone(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, Cell):
        # A number shown in scientific notation: the stored value is exact only if it is an integer.
        value = value.value
    if isinstance(value, float):
        if not value.is_integer():
            raise ValidationError(_("This phone number is not a whole number."))
        value = int(value)
    s = narrow(str(value))
    if _SCI.match(s):
        raise ValidationError(_("The phone number %(v)s lost its digits to scientific notation; format the column as text and export again.") % {"v": s})
    s = re.sub(r"[\s\-()（）]", "", s)
    if s.endswith(".0") and s[:-2].isdigit():
        s = s[:-2]
    return s


def excel_serial_to_date(n: float) -> dt.datetime:
    if not 1 <= n < 2958466:
        raise ValidationError(_("Not a date."))
    return dt.datetime(1899, 12, 30) + dt.timedelta(days=float(n))


def parse_date(value) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, Cell):
        value = value.value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 19000101 <= value <= 21001231:
            value = str(int(value))
        else:
            return excel_serial_to_date(value).date()
    s = narrow(str(value))
    for pat in _DATE_PATTERNS:
        m = pat.match(s)
        if m:
            y, mo, d = (int(x) for x in m.groups()[:3])
            try:
                return dt.date(y, mo, d)
            except ValueError:
                raise ValidationError(_("The date %(v)s does not exist.") % {"v": s}) from None
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return excel_serial_to_date(float(s)).date()
    raise ValidationError(_("%(v)s is not a date (use 2024-03-05, 2024/3/5 or 2024年3月5日).") % {"v": s})


def parse_datetime(value) -> dt.datetime | None:
    from django.utils import timezone

    if value is None or value == "":
        return None
    if isinstance(value, Cell):
        value = value.value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not (19000101 <= value <= 21001231):
        value = excel_serial_to_date(value)
    if isinstance(value, dt.datetime):
        result = value
    else:
        s = narrow(str(value))
        m = re.match(r"^(.*?)[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$", s)
        time = (0, 0, 0)
        if m:
            s = m.group(1)
            time = (int(m.group(2)), int(m.group(3)), int(m.group(4) or 0))
        d = parse_date(s)
        try:
            result = dt.datetime(d.year, d.month, d.day, *time)
        except ValueError:
            raise ValidationError(_("%(v)s is not a time.") % {"v": value}) from None
    if timezone.is_naive(result):
        result = timezone.make_aware(result)
    return result


def parse_decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Cell):
        value = value.value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    s = narrow(str(value)).replace(",", "").replace("¥", "").replace("￥", "").replace("元", "").strip()
    mult = 1
    if s.endswith("万"):
        s, mult = s[:-1], 10000
    try:
        return Decimal(s) * mult
    except InvalidOperation:
        raise ValidationError(_("%(v)s is not a number.") % {"v": value}) from None


def parse_bool(value) -> bool:
    s = narrow(clean_text(value)).lower()
    return s in ("1", "true", "yes", "y", "是", "√", "✓", "x")
