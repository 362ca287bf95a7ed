"""rareflow.ensemble."""
