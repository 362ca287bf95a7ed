"""rareflow: a computable model of the global rare-earth supply chain.

``load_world`` is imported on first use, so that ``import rareflow`` (and ``rareflow --help``)
does not load pandas and the data layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rareflow.version import __version__

if TYPE_CHECKING:
    from rareflow.data.loader import load_world

__all__ = ["__version__", "load_world"]


def __getattr__(name: str) -> Any:
    """``rareflow.load_world``, imported when first asked for."""
    if name == "load_world":
        from rareflow.data.loader import load_world

        return load_world
    raise AttributeError(f"module 'rareflow' has no attribute {name!r}")
