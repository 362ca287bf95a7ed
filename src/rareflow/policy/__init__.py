"""How each scenario instrument acts on the market, on top of the engine: one module per type.

:func:`compile_policies` turns a :class:`~rareflow.scenario.Scenario` into a
:class:`ScenarioProgram` (the engine's ``PolicyProgram``); :func:`simulate_scenario` applies a
scenario's overrides and policies and simulates it. See :mod:`.program` for the yearly cycle,
:mod:`.base` for what every effect shares, and each instrument module for its formulation and
assumptions. The scenario language itself (schema, loader, instruments) is
:mod:`rareflow.scenario`.
"""

from rareflow.policy.program import (
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
