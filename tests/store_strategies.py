"""Hypothesis strategies shared by the run-store tests: dimension sizes and coordinate labels."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

#: Coordinate label kinds; "none" is a dimension without a coordinate (its size only).
LABELS: dict[str, Any] = {
    "int64": st.lists(st.integers(-(2**40), 2**40), unique=True, max_size=3).map(
        lambda xs: np.array(xs, dtype=np.int64)
    ),
    "int32": st.lists(st.integers(1900, 2100), unique=True, max_size=3).map(
        lambda xs: np.array(xs, dtype=np.int32)
    ),
    # NUL characters are rejected by the store (see test_unstorable_datasets_are_rejected...).
    "str": st.lists(
        st.text(st.characters(blacklist_characters="\x00"), min_size=1, max_size=4),
        unique=True, max_size=3,
    ).map(np.array),
    "none": st.integers(0, 3),
}


@st.composite
def sizes_and_coords(draw: st.DrawFn) -> tuple[dict[str, int], dict[str, Any]]:
    """Up to three dimensions: their sizes, and labels for those that have a coordinate."""
    names = draw(st.lists(st.sampled_from(["year", "region", "element", "x"]), unique=True,
                          max_size=3))
    coords: dict[str, Any] = {}
    sizes: dict[str, int] = {}
    for name in names:
        kind = draw(st.sampled_from(sorted(LABELS)))
        labels = draw(LABELS[kind])
        if kind == "none":
            sizes[name] = int(labels)
        else:
            coords[name] = labels
            sizes[name] = len(labels)
    return sizes, coords
