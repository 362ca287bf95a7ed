"""rareflow.policy."""
