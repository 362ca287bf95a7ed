"""rareflow.report."""
