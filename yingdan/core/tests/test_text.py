"""pinyin_keys is computed without pypinyin's lazy_pinyin (word cut and per-word conversion done in
core.text); it must give exactly what lazy_pinyin gives."""

import random

import pytest
from pypinyin.constants import PHRASES_DICT

from yingdan.core import text
from yingdan.core.text import pinyin_keys, pinyin_keys_reference

CHARS = "华信达通宏泰丰盛恒瑞安康德润嘉禾永兴隆昌鑫源福汇金鼎晨星辰光明重长行乐还会〇𠀀𪚥abcXYZ09 -（）·"


@pytest.mark.parametrize("name", [
    "腾讯科技", "重庆长安汽车股份有限公司", "银行行长", "长江实业（集团）有限公司", "ABC 软件", "联系人12345", "于思",
    "〇", "𠀀𪚥", "a", "", "   ", "中华人民共和国国务院", "北京重行行重科技", "Ｈｕａｗｅｉ华为", "乐乐乐乐乐",
])
def test_same_as_lazy_pinyin(name):
    assert pinyin_keys(name) == pinyin_keys_reference(name)


def test_same_as_lazy_pinyin_on_random_text():
    rng = random.Random(20261127)
    phrases = sorted(PHRASES_DICT)
    for _ in range(5000):
        kind = rng.random()
        if kind < 0.4:
            s = "".join(rng.choice(CHARS) for _ in range(rng.randint(1, 14)))
        elif kind < 0.8:
            s = "".join(rng.choice(phrases) if rng.random() < 0.6 else rng.choice(CHARS) for _ in range(rng.randint(1, 5)))
        else:  # a phrase's prefix run into another phrase: the cut's backtracking cases
            s = rng.choice(phrases)[: rng.randint(1, 6)] + rng.choice(phrases)
        assert pinyin_keys(s) == pinyin_keys_reference(s), s


def test_falls_back_to_lazy_pinyin_without_the_segmenter(monkeypatch):
    monkeypatch.setattr(text, "_PREFIXES", None)
    assert pinyin_keys("重庆长安汽车") == pinyin_keys_reference("重庆长安汽车") == ("chongqingchanganqiche", "cqcaqc")
