"""Shared test configuration: Hypothesis example counts come from a profile, not from the tests.

``HYPOTHESIS_PROFILE`` picks the profile: ``ci`` (the default; what CI can afford) or
``thorough`` (ten times the examples, for a long local or nightly run). Tests take the profile's
``max_examples``; a test whose every example is costly (a whole simulation) takes a fixed share
of it with :func:`hypothesis_budget.scaled`, and the fuzz tests a multiple.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}

settings.register_profile("ci", max_examples=50, **_COMMON)
settings.register_profile("thorough", max_examples=500, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
