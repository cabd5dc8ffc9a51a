import pytest
from django.core.exceptions import ValidationError

from yingdan.core.text import normalize, pinyin_keys
from yingdan.core.validators import (
    credit_code_check_char,
    normalize_credit_code,
    normalize_phone,
    validate_credit_code,
)

from .factories import valid_credit_code


@pytest.mark.parametrize("code", ["91440300708461136T", "91110000100000000X"[:17] + credit_code_check_char("91110000100000000"), valid_credit_code(7)])
def test_valid_credit_codes(code):
    validate_credit_code(code)


def test_credit_code_full_width_and_lower_case_normalised():
    assert normalize_credit_code("９１４４０３００７０８４６１１３６ｔ") == "91440300708461136T"


@pytest.mark.parametrize(
    "code, code_expected",
    [
        ("91440300708461136X", "check"),
        ("9144030070846113", "length"),
        ("91440300708461136I", "chars"),
    ],
)
def test_invalid_credit_codes(code, code_expected):
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(code)
    assert exc.value.error_list[0].code == code_expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("+86 138-0013-8000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("(010) 6234 5678", "010-62345678"),
        ("0755-86013388 转 123", "0755-86013388-123"),
        ("0755-86013388-123", "0755-86013388-123"),
        ("021 6234 5678", "021-62345678"),
        ("4008208820", "4008208820"),
        ("", ""),
    ],
)
def test_phone_normalisation(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "8.6138E+12", "abc", "1380013800011", "+86 23"])
def test_bad_phones_refused(raw):
    with pytest.raises(ValidationError):
        normalize_phone(raw)


def test_search_keys():
    assert normalize(" 腾讯 科技（深圳）") == "腾讯科技深圳"
    assert pinyin_keys("腾讯科技") == ("tengxunkeji", "txkj")
    assert pinyin_keys("ABC 软件")[1] == "abcrj"


def test_control_characters_are_unicodes_category_cc_but_tab_and_line_breaks():
    import sys
    import unicodedata

    from django.core.exceptions import ValidationError

    from yingdan.core.validators import _CONTROL_RE, validate_no_control_chars

    for code in range(sys.maxunicode + 1):
        c = chr(code)
        assert bool(_CONTROL_RE.search(c)) == (unicodedata.category(c) == "Cc" and c not in "\n\r\t"), hex(code)
    validate_no_control_chars("第一行\n第二行\t制表\r")
    with pytest.raises(ValidationError):
        validate_no_control_chars("响铃\x07")
    with pytest.raises(ValidationError):
        validate_no_control_chars("C1 控制符\x85")
