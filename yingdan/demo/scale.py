"""STUB — placeholder written by the operations helper so `yingdan seed --scale N` has something to call.

The benchmark-data helper replaces this file with the real bulk generator (N customers, ~3 contacts each).
"""

from __future__ import annotations


def generate(n: int, *, stdout=None) -> None:
    raise NotImplementedError("yingdan.demo.scale.generate is not implemented yet (stub).")
