"""rareflow: a computable model of the global rare-earth supply chain."""

__version__ = "0.1.0"
