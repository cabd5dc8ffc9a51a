"""Search keys for Chinese text: normalised form, full pinyin and pinyin initials (pypinyin)."""

from __future__ import annotations

import functools
import re
from itertools import chain

from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT, RE_HANS
from pypinyin.converter import DefaultConverter
from pypinyin.seg import mmseg

from .validators import to_halfwidth

_NON_WORD = re.compile(r"[\s\W_]+", re.UNICODE)


def normalize(text: str) -> str:
    """Lower-case, half-width, without spaces and punctuation: the form searched by substring/prefix."""
    return _NON_WORD.sub("", to_halfwidth(text or "").lower())


def _no_pinyin(chars) -> list:
    return list(chars)


def pinyin_keys(text: str) -> tuple[str, str]:
    """('tengxunkeji', 'txkj') for 腾讯科技; ASCII letters and digits pass through.

    What `lazy_pinyin(normalize(text), style=NORMAL)` gives, computed faster (`_syllables`)."""
    norm = normalize(text)
    if not norm:
        return "", ""
    syllables = _syllables(norm)
    full = "".join(syllables).lower()
    initials = "".join(s[0] for s in syllables if s).lower()
    return full[:255], initials[:100]


def pinyin_keys_reference(text: str) -> tuple[str, str]:
    """pinyin_keys through pypinyin's own `lazy_pinyin` (the parity tests compare the two)."""
    norm = normalize(text)
    if not norm:
        return "", ""
    syllables = lazy_pinyin(norm, style=Style.NORMAL, errors=_no_pinyin)
    return "".join(syllables).lower()[:255], "".join(s[0] for s in syllables if s).lower()[:100]


# pypinyin's lazy_pinyin cuts a text into words (runs of Han characters vs the rest, then the Han runs by
# forward maximum matching over its phrase dictionary) and converts each word on its own. Unique names (a
# company's) are made of common words (科技, 有限公司, ...), so the conversion of a word is remembered, and the
# cut is done here the same way with index arithmetic instead of string slicing and generators: 120 -> ~15 µs
# a company name. Should pypinyin's internals change shape, `_syllables` is lazy_pinyin itself.
_CONVERTER = DefaultConverter()
try:
    _HAN_RUNS = re.compile(RE_HANS.pattern.removeprefix("^(?:").removesuffix(")+$") + "+")
    _PREFIXES = mmseg.seg._prefix_set._set
    _STRICT = mmseg.seg._no_non_phrases is True
except AttributeError:  # pragma: no cover - another pypinyin layout
    _HAN_RUNS = _PREFIXES = None
    _STRICT = False


@functools.lru_cache(maxsize=50_000)
def _word_syllables(word: str) -> tuple[str, ...]:
    return tuple(chain.from_iterable(_CONVERTER.convert(word, Style.NORMAL, False, _no_pinyin, strict=True)))


def _cut(run: str, words: list) -> None:
    """mmseg.seg.cut(run) (no_non_phrases=True) into `words`."""
    prefixes, phrases = _PREFIXES, PHRASES_DICT
    n, i = len(run), 0
    while i < n:
        valid = 0
        j = i + 1
        while j <= n and run[i:j] in prefixes:
            if run[i:j] in phrases:
                valid = j
            j += 1
        if valid:
            words.append(run[i:valid])
            i = valid
        elif j <= n:
            words.append(run[i])
            i += 1
        else:  # the whole rest is a prefix but holds no word: pypinyin yields its characters and stops
            words.extend(run[i:])
            return


def _syllables(norm: str) -> list[str]:
    if _PREFIXES is None or not _STRICT or not PHRASES_DICT:
        return lazy_pinyin(norm, style=Style.NORMAL, errors=_no_pinyin)
    words: list[str] = []
    pos = 0
    for m in _HAN_RUNS.finditer(norm):
        start = m.start()
        if start > pos:
            words.append(norm[pos:start])
        _cut(m.group(), words)
        pos = m.end()
    if pos < len(norm):
        words.append(norm[pos:])
    out: list[str] = []
    for w in words:
        out.extend(_word_syllables(w))
    return out


# -- company-name key for duplicate checks ------------------------------------------------------------------
_LEGAL_SUFFIXES = sorted(
    [
        "股份有限公司", "有限责任公司", "集团有限公司", "集团股份有限公司", "有限公司", "集团公司", "集团", "公司",
        "coltd", "coltd.", "colimited", "limited", "ltd", "inc", "corp", "corporation", "company", "co", "llc",
    ],
    key=len, reverse=True,
)
_REGION_WORDS = sorted(
    {
        "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建",
        "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海",
        "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门", "中国",
        "广州", "深圳", "杭州", "南京", "苏州", "宁波", "无锡", "成都", "武汉", "西安", "长沙", "郑州", "济南",
        "青岛", "厦门", "福州", "合肥", "昆明", "大连", "沈阳", "哈尔滨", "长春", "石家庄", "太原", "南昌", "南宁",
        "贵阳", "兰州", "海口", "佛山", "东莞", "珠海", "温州", "绍兴", "嘉兴", "常州", "南通", "徐州", "烟台",
    },
    key=len, reverse=True,
)
_REGION_ALT = "|".join(_REGION_WORDS)
_BRACKETED = re.compile(r"[\(\[【〔]([^\)\]】〕]*)[\)\]】〕]")
_REGION_PREFIX = re.compile(rf"^(?:{_REGION_ALT})(?:省|市|自治区|特别行政区)?")
_REGION_ONLY = re.compile(rf"^(?:{_REGION_ALT})(?:省|市|自治区|特别行政区|区|县)?$")


@functools.lru_cache(maxsize=4096)  # (pure; one row asks for its name's key several times: form, rules, import)
def company_key(name: str) -> str:
    """The key two spellings of one company share: '华信科技（北京）有限公司', '北京华信科技有限公司' and
    'HUAXIN 华信科技 Co., Ltd.' style variants reduce to '华信科技' (plus any Latin words kept, lower-cased).

    Full/half width, case, spaces and punctuation are ignored; bracketed region words and a leading region
    word are dropped (unless only a generic 1-2 character word would remain: 北京银行 stays 北京银行); legal-form
    suffixes are stripped (repeatedly, so 集团有限公司 goes entirely). A name that would reduce to nothing keeps
    its normalised form. Changing this function needs `yingdan dedupe_reindex` (stored keys)."""
    text = to_halfwidth(name or "").lower()
    # Bracketed parts: region words are dropped, anything else is kept (e.g. (中国) vs (研发中心)).
    text = _BRACKETED.sub(lambda m: "" if _REGION_ONLY.match(normalize(m.group(1))) else m.group(1), text)
    full = normalize(text)
    bare = _strip_legal_suffixes(full)
    key = _strip_legal_suffixes(_REGION_PREFIX.sub("", full, count=1) or full)
    # A leading region is dropped only when a distinctive name remains: 北京华信科技 → 华信科技, but
    # 北京银行 and 上海银行 must not both become 银行.
    if len(key) <= 2 and len(bare) > len(key):
        key = bare
    return key or full


def _strip_legal_suffixes(key: str) -> str:
    changed = True
    while changed and key:
        changed = False
        for suffix in _LEGAL_SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix):
                key = key[: -len(suffix)]
                changed = True
                break
    return key
