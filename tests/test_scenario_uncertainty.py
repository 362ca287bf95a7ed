"""Uncertainty distributions: parameter checks, reproducible sampling, and the section schema."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from rareflow.scenario import Distribution, Scenario, Uncertainty, bundled_names, load_scenario

ADAPTER: TypeAdapter[Any] = TypeAdapter(Distribution)

VALID: list[dict[str, Any]] = [
    {"dist": "normal", "mean": 1.0, "sd": 0.5},
    {"dist": "normal", "mean": 0.9, "sd": 0.1, "low": 0.0, "high": 1.0},
    {"dist": "lognormal", "median": 1.5, "sigma": 0.3},
    {"dist": "uniform", "low": 0, "high": 2},
    {"dist": "triangular", "low": 0, "mode": 1, "high": 4},
    {"dist": "discrete", "values": [0, 1, 5], "probabilities": [0.5, 0.3, 0.2]},
    {"dist": "bernoulli", "p": 0.3},
]

INVALID: list[tuple[dict[str, Any], str]] = [
    ({"dist": "normal", "mean": 0, "sd": -1}, "greater than or equal"),
    ({"dist": "normal", "mean": 0, "sd": 1, "low": 2, "high": 1}, "below"),
    ({"dist": "normal", "mean": 0, "sd": 0.1, "low": 5, "high": 6}, "almost none"),
    ({"dist": "lognormal", "median": 0, "sigma": 1}, "greater than"),
    ({"dist": "uniform", "low": 3, "high": 1}, "high"),
    ({"dist": "triangular", "low": 0, "mode": 5, "high": 4}, "mode"),
    ({"dist": "triangular", "low": 1, "mode": 1, "high": 1}, "low < high"),
    ({"dist": "discrete", "values": [1, 2], "probabilities": [0.5]}, "2 values but 1"),
    ({"dist": "discrete", "values": [1, 2], "probabilities": [0.5, 0.6]}, "sum to 1"),
    ({"dist": "discrete", "values": [1, 2], "probabilities": [1.5, -0.5]}, "non-negative"),
    ({"dist": "discrete", "values": [], "probabilities": []}, "at least 1"),
    ({"dist": "bernoulli", "p": 1.2}, "less than or equal"),
    ({"dist": "bernoulli", "p": 0.2, "q": 1}, "unknown field 'q'"),
    ({"dist": "gaussian", "mean": 0, "sd": 1}, "does not match any of the expected tags"),
]


@pytest.mark.parametrize("spec", VALID, ids=[str(s["dist"]) for s in VALID])
def test_valid_distributions_sample_reproducibly(spec: dict[str, Any]) -> None:
    dist = ADAPTER.validate_python(spec)
    first = dist.sample_n(np.random.default_rng(42), 2000)
    second = dist.sample_n(np.random.default_rng(42), 2000)
    assert np.array_equal(first, second)
    lo, hi = dist.bounds()
    assert first.min() >= lo and first.max() <= hi
    assert isinstance(dist.sample(np.random.default_rng(1)), float)
    if spec.get("low") is None or spec["dist"] != "normal":
        assert first.mean() == pytest.approx(dist.mean(), abs=0.1 * max(1.0, abs(dist.mean())))


@pytest.mark.parametrize(("spec", "message"), INVALID)
def test_invalid_parameters_are_rejected(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ADAPTER.validate_python(spec)


@given(
    low=st.floats(-100, 100),
    width=st.floats(0.001, 100),
    mode_at=st.floats(0, 1),
    seed=st.integers(0, 2**32 - 1),
)
def test_triangular_and_uniform_stay_in_bounds(
    low: float, width: float, mode_at: float, seed: int
) -> None:
    high = low + width
    for spec in (
        {"dist": "uniform", "low": low, "high": high},
        {"dist": "triangular", "low": low, "mode": low + mode_at * width, "high": high},
    ):
        draws = ADAPTER.validate_python(spec).sample_n(np.random.default_rng(seed), 50)
        assert draws.min() >= low and draws.max() <= high


def test_bernoulli_happens() -> None:
    dist = ADAPTER.validate_python({"dist": "bernoulli", "p": 1.0})
    assert dist.happens(np.random.default_rng(0))


def test_uncertainty_section_samples_reproducibly() -> None:
    scenario = load_scenario("suspension-2025-11")
    names = list(scenario.uncertainty.distributions())
    assert "policy_timing.october_measures_return.applies" in names
    assert "start_delay_years.by_status.announced" in names
    first = scenario.uncertainty.sample(np.random.default_rng(7))
    again = scenario.uncertainty.sample(np.random.default_rng(7))
    other = scenario.uncertainty.sample(np.random.default_rng(8))
    assert first == again and first != other
    assert first["policy_timing.october_measures_return.applies"] in (0.0, 1.0)
    assert first["policy_timing.october_measures_return.shift_months"] in (0.0, 12.0, 24.0)


def test_return_probability_is_respected() -> None:
    scenario = load_scenario("suspension-2025-11")
    rng = np.random.default_rng(2025)
    key = "policy_timing.october_measures_return.applies"
    returns = [scenario.uncertainty.sample(rng)[key] for _ in range(2000)]
    assert np.mean(returns) == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"recycling": {"recovery_yield": {"dist": "normal", "mean": 0.9, "sd": 0.1}}},
         "recovery yield must stay within 0..1"),
        ({"recycling": {"collection_rate": {"ev": {"dist": "uniform", "low": 0.5, "high": 1.5}}}},
         "collection rate"),
        ({"ramp_up_factor": {"by_status": {"announced": {"dist": "normal", "mean": 1, "sd": 1}}}},
         "ramp-up factor"),
        ({"start_delay_years": {"by_status": {"announce": {"dist": "bernoulli", "p": 0.5}}}},
         "announced"),
        ({"demand_growth": {"ev": {}}}, "exactly one"),
        ({"demand_growth": {"ev": {"rate": {"dist": "uniform", "low": 0, "high": 5}}}},
         "growth rate"),
        ({"policy_timing": {"x": {}}}, "applies"),
        ({"policy_timing": {"x": {"applies": {"dist": "uniform", "low": 0, "high": 1}}}},
         "bernoulli"),
    ],
)
def test_uncertainty_rules(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Uncertainty.model_validate(section)


def test_facility_entry_wins_over_status() -> None:
    section = Uncertainty.model_validate(
        {
            "start_delay_years": {
                "by_facility": {"f1": {"dist": "uniform", "low": 0, "high": 1}},
                "by_status": {"announced": {"dist": "uniform", "low": 2, "high": 3}},
            }
        }
    )
    own = section.start_delay_years.for_facility("f1", "announced")
    by_status = section.start_delay_years.for_facility("f2", "announced")
    assert own is not None and own.bounds() == (0, 1)
    assert by_status is not None and by_status.bounds() == (2, 3)
    assert section.start_delay_years.for_facility("f2", "operating") is None


def test_policy_timing_shift_needs_something_to_shift() -> None:
    with pytest.raises(ValidationError, match="neither a start nor a suspension"):
        Scenario.model_validate(
            {
                "name": "x",
                "description": "d",
                "policies": [{"id": "t", "type": "fast_track", "region": "USA",
                              "lead_time_reduction_years": 1}],
                "uncertainty": {"policy_timing": {"t": {"shift_months": {
                    "dist": "uniform", "low": 0, "high": 6}}}},
            }
        )


@pytest.mark.parametrize("name", bundled_names())
def test_bundled_uncertainty_samples(name: str) -> None:
    uncertainty = load_scenario(name).uncertainty
    draw = uncertainty.sample(np.random.default_rng(0))
    assert list(draw) == list(uncertainty.distributions())
    assert all(np.isfinite(value) for value in draw.values())
