"""The scenarios the dashboard may run: the bundled library, loaded and validated once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rareflow.model.world import World
from rareflow.scenario.library import bundled_names, bundled_path
from rareflow.scenario.loader import load_scenario
from rareflow.scenario.scenario import Scenario
from rareflow.scenario.world_check import validate_against_world
from rareflow.web.levers import lever_defaults, lever_targets
from rareflow.web.names import Wording, policy_title, scenario_title


class UnknownScenario(LookupError):
    """A scenario name that is not in the bundled library."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"unknown scenario '{name}'; known scenarios: {', '.join(known)}")


@dataclass(frozen=True)
class Catalogue:
    """Bundled scenarios by name, each resolved and checked against ``world``."""

    world: World
    scenarios: dict[str, Scenario]

    @classmethod
    def load(cls, world: World) -> Catalogue:
        """Load every bundled scenario of ``world`` (by its file in the package).

        Never a path from outside; scenarios of other worlds (the backtests) are left out.
        """
        scenarios = {}
        for name in bundled_names():
            path = bundled_path(name)
            assert path is not None
            scenario = load_scenario(path)
            if scenario.world_name() != world.vintage:
                continue
            validate_against_world(scenario, world)
            scenarios[name] = scenario
        return cls(world, scenarios)

    def get(self, name: str) -> Scenario:
        """The scenario ``name``; :class:`UnknownScenario` lists the known ones otherwise."""
        try:
            return self.scenarios[name]
        except KeyError:
            raise UnknownScenario(name, sorted(self.scenarios)) from None

    def describe(self) -> list[dict[str, Any]]:
        """Every scenario with its levers' defaults and the policies they edit."""
        return [
            {
                "name": name,
                "title": scenario_title(name),
                "description": scenario.description,
                "lineage": list(scenario.lineage),
                "years": None if scenario.years is None
                else {"start": scenario.years.start, "end": scenario.years.end},
                "defaults": lever_defaults(scenario).model_dump(mode="json"),
                "targets": lever_targets(scenario),
                "policies": [
                    {"id": p.id, "type": p.type, "note": p.note,
                     "title": policy_title(p.id, p.type, p.note)}
                    for p in scenario.policies
                ],
            }
            for name, scenario in sorted(self.scenarios.items())
        ]

    def wording(self) -> Wording:
        """Names for the ids of the world and of every bundled scenario's policies."""
        policies = {
            p.id: (p.id, p.type, p.note)
            for scenario in self.scenarios.values() for p in scenario.policies
        }
        return Wording.build(self.world, policies.values())
