"""rareflow.store."""
