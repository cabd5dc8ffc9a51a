"""top_shared: the fuzzy check's candidate ranking (most shared bigrams first, then the oldest id), which the
import's batch replay uses too — compared with a plain count-and-sort."""

import random
from array import array
from collections import Counter

from yingdan.duplicates.services import SCORED, top_shared


def reference(lists, limit=SCORED):
    counts = Counter()
    for ids in lists:
        counts.update(ids)
    return sorted(counts, key=lambda pk: (-counts[pk], pk))[:limit]


def test_top_shared_ranks_by_shared_bigrams_then_newest():
    rng = random.Random(7)
    for _ in range(3000):
        space = rng.choice([40, 300, 5_000, 1_000_000])
        lists = []
        for _k in range(rng.randint(1, 5)):
            ids = sorted(rng.sample(range(1, space), min(space - 1, rng.randint(0, 700))))
            lists.append(array("q", ids) if rng.random() < 0.5 else ids)
        got, want = top_shared(lists), reference(lists)
        if sum(map(len, lists)) <= SCORED:
            assert sorted(got) == sorted(want)  # all of them are scored: the order does not matter
        else:
            assert got == want


def test_top_shared_tie_at_the_cut_goes_to_the_oldest():
    lists = [list(range(1, 101)), list(range(50, 151)), [500]]
    assert top_shared(lists, limit=3) == [50, 51, 52]
    assert top_shared([[1, 2, 3], [3]], limit=2) == [3, 1]
