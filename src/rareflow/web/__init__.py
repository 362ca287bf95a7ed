"""rareflow.web."""
