"""Per-test shares of the active Hypothesis profile's example count (see ``conftest.py``)."""

from __future__ import annotations

from hypothesis import settings

#: Share of the profile's examples for tests that run a whole simulation per example.
SIMULATION = 0.3
#: Multiple of the profile's examples for the input fuzz tests (cheap, and the point of fuzzing).
FUZZ = 4.0


def scaled(share: float) -> settings:
    """Settings with the active profile's ``max_examples`` times ``share`` (at least 1)."""
    return settings(max_examples=max(1, round(settings().max_examples * share)))
