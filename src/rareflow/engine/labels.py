"""Float series labelled by ids (facilities, sectors), their indexes built once and shared."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd


def labelled_series(labels: list[str], values: list[float] | np.ndarray) -> pd.Series:
    """``pd.Series(dict(zip(labels, values)), dtype=float)``, without the dictionary path."""
    index = label_index(labels)
    if index is None:
        return pd.Series(dict(zip(labels, values, strict=True)), dtype=float)
    return pd.Series(np.array(values, dtype=float), index=index, copy=False)


def label_index(labels: list[str]) -> pd.Index | None:
    """The index of a float series built from a dictionary keyed by ``labels``.

    Built once per list of labels and shared (pandas indexes are immutable); None when the
    list is empty or repeats a label (the dictionary would then keep fewer rows).
    """
    if not labels or len(set(labels)) < len(labels):
        return None
    return _label_index(tuple(labels))


@functools.lru_cache(maxsize=64)
def _label_index(labels: tuple[str, ...]) -> pd.Index:
    return pd.Series(dict.fromkeys(labels, 0.0), dtype=float).index
