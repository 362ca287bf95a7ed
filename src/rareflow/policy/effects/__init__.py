"""How each policy instrument acts on the market: one module per instrument type.

:func:`compile_policies` turns a :class:`~rareflow.scenario.Scenario` into a
:class:`ScenarioProgram` (the engine's ``PolicyProgram``); :func:`simulate_scenario` applies a
scenario's overrides and policies and simulates it. See :mod:`.program` for the yearly cycle and
each instrument module for its formulation and assumptions.
"""

from rareflow.policy.effects.program import (
    EFFECTS,
    ScenarioProgram,
    SkippedPolicy,
    apply_overrides,
    compile_policies,
    simulate_scenario,
)

__all__ = [
    "EFFECTS",
    "ScenarioProgram",
    "SkippedPolicy",
    "apply_overrides",
    "compile_policies",
    "simulate_scenario",
]
