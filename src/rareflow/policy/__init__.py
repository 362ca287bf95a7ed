"""How each scenario instrument acts on the market, on top of the engine (see :mod:`.effects`).

The scenario language itself (schema, loader, instruments) is :mod:`rareflow.scenario`.
"""

from rareflow.policy.effects import (
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
