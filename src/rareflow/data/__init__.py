"""rareflow.data."""
