"""The web process's start-up: lazily built parts loaded, heap frozen (yingdan/core/warmup.py)."""

import gc

from yingdan.core import warmup


def test_prepare_process_freezes_the_heap_after_the_warm_up():
    try:
        warmup.prepare_process()
        assert gc.get_freeze_count() > 10_000  # Django, the URL tables and the pinyin dictionaries
    finally:
        gc.unfreeze()


def test_a_failing_warm_up_does_not_keep_the_worker_from_serving(monkeypatch, caplog):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(warmup, "warm_up", broken)
    try:
        warmup.prepare_process()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert "warm-up failed" in caplog.text


def test_wsgi_module_prepares_the_process(monkeypatch):
    import importlib
    import sys

    called = []
    monkeypatch.setattr(warmup, "prepare_process", lambda: called.append(True))
    sys.modules.pop("yingdan.wsgi", None)
    module = importlib.import_module("yingdan.wsgi")
    assert called == [True] and callable(module.application)
