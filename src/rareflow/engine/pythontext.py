"""Build pandas tables with Python-backed strings while the engine declares its LP.

pandas 3 stores text (values and column labels) as Arrow arrays by default. The network build
is thousands of small merges, crosses and column inserts on key tables of a few hundred rows,
where each conversion to and from Arrow costs more than the work itself: with the Python
storage, ``build_market`` of the bundled world takes ≈ 0.2 CPU s less (≈ 40 % of the build).
Values, dtype (``str``) and results are the same; only the storage behind them differs. What
users get keeps pandas' default storage: result coordinates are made outside this block, since
a merge of two text columns of different storages gives an ``object`` column.

The storage is a process-wide pandas option, so :func:`python_text` sets it under a lock,
counts nested and concurrent users, and restores the caller's setting when the last one
leaves. Other threads that build frames meanwhile get Python-backed strings too, with the
same values.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd

_OPTION = "mode.string_storage"
_lock = threading.Lock()
_users = 0
_saved: object = None


@contextmanager
def python_text() -> Iterator[None]:
    """Within this block, new pandas text arrays use the Python storage (see module doc)."""
    global _users, _saved
    with _lock:
        if _users == 0:
            _saved = pd.get_option(_OPTION)
            pd.set_option(_OPTION, "python")
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                pd.set_option(_OPTION, _saved)
