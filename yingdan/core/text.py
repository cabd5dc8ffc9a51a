"""Search keys for Chinese text: normalised form, full pinyin and pinyin initials (pypinyin)."""

from __future__ import annotations

import re

from pypinyin import Style, lazy_pinyin

from .validators import to_halfwidth

_NON_WORD = re.compile(r"[\s\W_]+", re.UNICODE)


def normalize(text: str) -> str:
    """Lower-case, half-width, without spaces and punctuation: the form searched by substring/prefix."""
    return _NON_WORD.sub("", to_halfwidth(text or "").lower())


def pinyin_keys(text: str) -> tuple[str, str]:
    """('tengxunkeji', 'txkj') for 腾讯科技; ASCII letters and digits pass through."""
    norm = normalize(text)
    if not norm:
        return "", ""
    syllables = lazy_pinyin(norm, style=Style.NORMAL, errors=lambda chars: list(chars))
    full = "".join(syllables).lower()
    initials = "".join(s[0] for s in syllables if s).lower()
    return full[:255], initials[:100]
