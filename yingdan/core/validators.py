"""Validation and normalisation of Chinese business identifiers: 统一社会信用代码, phones, names."""

from __future__ import annotations

import functools
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def to_halfwidth(text: str) -> str:
    """Full-width ASCII (ＡＢＣ１２３, 全角空格) to half-width."""
    return unicodedata.normalize("NFKC", text)


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    index = 31 - total % 31
    return CREDIT_CODE_CHARS[0 if index == 31 else index]


def normalize_credit_code(value: str) -> str:
    return re.sub(r"\s+", "", to_halfwidth(value or "")).upper()


def validate_credit_code(value: str) -> None:
    code = normalize_credit_code(value)
    if len(code) != 18:
        raise ValidationError(_("A unified social credit code has 18 characters (this one has %(n)d).") % {"n": len(code)}, code="length")
    bad = sorted({c for c in code if c not in CREDIT_CODE_CHARS})
    if bad:
        raise ValidationError(_("Invalid characters in the credit code: %(chars)s (I, O, Z, S, V are never used).") % {"chars": " ".join(bad)}, code="chars")
    if credit_code_check_char(code[:17]) != code[17]:
        raise ValidationError(_("The credit code's check character is wrong; please check for a typo."), code="check")


MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
SERVICE_RE = re.compile(r"^(400|800)\d{7}$")
_SCIENTIFIC_RE = re.compile(r"[eE][+-]?\d")
_EXTENSION_RE = re.compile(r"(?:转|ext\.?|x|#)\s*(\d{1,6})\s*$", re.I)
_CANONICAL_EXT_RE = re.compile(r"\s*(0\d{2,3})[\s-]?(\d{7,8})[\s-](\d{1,6})\s*")
_SEPARATORS_RE = re.compile(r"[\s\-()（）.]")
_INTERNATIONAL_RE = re.compile(r"\+\d{6,15}")


@functools.lru_cache(maxsize=4096)  # (pure; a save validates, normalises and duplicate-checks one number)
def normalize_phone(value: str) -> str:
    """Canonical form: mobile as 11 digits; landline as 0AREA-NUMBER[-EXT]; 400/800 numbers as digits.

    Raises ValidationError for anything that is not a plausible Chinese (or +country) number.
    """
    text = to_halfwidth(value or "").strip()
    if not text:
        return ""
    if _SCIENTIFIC_RE.search(text):
        raise ValidationError(_("The phone number looks like scientific notation (digits were lost); enter it in full."), code="scientific")
    ext = ""
    m = _EXTENSION_RE.search(text)
    if m:
        ext = m.group(1)
        text = text[: m.start()]
    else:
        # Our own canonical landline form with an extension: 021-62345678-801
        m = _CANONICAL_EXT_RE.fullmatch(text)
        if m:
            text, ext = m.group(1) + m.group(2), m.group(3)
    compact = _SEPARATORS_RE.sub("", text)
    if compact.startswith("+86"):
        compact = compact[3:]
    elif compact.startswith("0086"):
        compact = compact[4:]
    elif compact.startswith("+"):
        if _INTERNATIONAL_RE.fullmatch(compact):
            return compact
        raise ValidationError(_("Enter a valid phone number."), code="invalid")
    if not compact.isdigit():
        raise ValidationError(_("Enter a valid phone number (digits, spaces, dashes, +86)."), code="invalid")
    if MOBILE_RE.match(compact):
        return compact
    if SERVICE_RE.match(compact):
        return compact
    if compact.startswith("0") and 10 <= len(compact) <= 12:
        # Area codes: 010, 02X are 3 digits; others 4 digits.
        area_len = 3 if compact[1] in "12" else 4
        number = compact[area_len:]
        if 7 <= len(number) <= 8:
            return f"{compact[:area_len]}-{number}" + (f"-{ext}" if ext else "")
    if 7 <= len(compact) <= 8 and not compact.startswith("0"):
        return compact + (f"-{ext}" if ext else "")  # local number without area code
    raise ValidationError(_("Enter a valid phone number: an 11-digit mobile or a landline with area code."), code="invalid")


def validate_phone(value: str) -> None:
    normalize_phone(value)


def validate_mobile(value: str) -> None:
    number = normalize_phone(value)
    if number and not MOBILE_RE.match(number):
        raise ValidationError(_("Enter an 11-digit mainland mobile number."), code="mobile")


# Unicode's control characters (category Cc: U+0000-U+001F, U+007F-U+009F) but tab, line feed, carriage return
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def validate_no_control_chars(value: str) -> None:
    if value and _CONTROL_RE.search(value):
        raise ValidationError(_("The text contains invalid control characters."), code="control")
