"""rareflow: a computable model of the global rare-earth supply chain."""

from rareflow.data.loader import load_world
from rareflow.version import __version__

__all__ = ["__version__", "load_world"]
