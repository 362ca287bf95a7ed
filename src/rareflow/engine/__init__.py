"""rareflow.engine."""
