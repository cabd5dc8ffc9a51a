"""Ready a web process before it serves: load what the first requests would load lazily, then freeze the heap.

A loaded process holds ~350,000 objects tracked by the garbage collector (modules, models, URL patterns, the pinyin
dictionaries, caches). Every full collection walks all of them — ~140 ms, measured, and it came every dozen or so
requests as a latency spike on whatever request triggered it (the search page's p95 was those spikes). `gc.freeze()`
moves everything alive at that point to a permanent generation the collector no longer walks, so collections see
only what requests allocate (the technique CPython added for pre-fork servers; see the `gc.freeze` docs).

Called at the end of `yingdan/wsgi.py` (each gunicorn worker, after Django is set up) and by the benchmark harness
before each suite, which stands in for the server there.
"""

from __future__ import annotations

import gc
import logging

logger = logging.getLogger(__name__)


def warm_up() -> None:
    """Load the lazily built parts a request would otherwise build on the clock."""
    from django.urls import get_resolver

    from yingdan.core.text import pinyin_keys

    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 — imports every urls module
    resolver.reverse_dict  # noqa: B018 — builds the reverse lookup tables
    pinyin_keys("预热赢单")  # loads the pinyin dictionaries


def prepare_process() -> None:
    try:
        warm_up()
    except Exception:  # a warm-up must never keep a worker from serving
        logger.exception("warm-up failed; serving without it")
    gc.collect()
    gc.freeze()
