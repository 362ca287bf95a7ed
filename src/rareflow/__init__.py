"""rareflow: a computable model of the global rare-earth supply chain."""

__version__ = "0.1.0"

from rareflow.data.loader import load_world

__all__ = ["__version__", "load_world"]
