"""rareflow.metrics."""
