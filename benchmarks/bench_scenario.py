"""One scenario, 2024–2040, on the bundled world: target under 2 s on a 2-core machine.

Times the whole ``simulate`` call (LP build included) as a user would run it. The first call in
a process also pays one-off imports (xarray loads dask.array lazily on first use); it is
reported but the target uses the median of the following repeats. When the policy layer is
available, a bundled policy scenario is timed too (information, same bound).
"""

from __future__ import annotations

from collections.abc import Callable

from _common import YEARS, Target, bundled_or_tiny_world, header, median_time
from rareflow.engine.simulate import simulate
from rareflow.model.world import World

REPEAT = 5
POLICY_SCENARIO = "controls-2025-april"


def main() -> list[Target]:
    world, label = bundled_or_tiny_world()
    header(f"one scenario {YEARS.start}–{YEARS.stop - 1} on the {label}")
    _, first = median_time(lambda: simulate(world, YEARS), 1)
    median, times = median_time(lambda: simulate(world, YEARS), REPEAT)
    print(f"simulate(world) first call in process : {first[0]:.3f} s (one-off imports included)")
    print(f"simulate(world) median of {REPEAT}         : {median:.3f} s "
          f"(runs: {', '.join(f'{t:.3f}' for t in times)})")
    targets = [Target("scenario_2024_2040_seconds", median, 2.0, "s")]
    policy = _policy_scenario(world)
    if policy is not None:
        policy_median, _ = median_time(policy, REPEAT)
        print(f"scenario {POLICY_SCENARIO!r} with policies, median: {policy_median:.3f} s")
        targets.append(Target(f"scenario_{POLICY_SCENARIO}_seconds", policy_median, 2.0, "s"))
    return targets


def _policy_scenario(world: World) -> Callable[[], object] | None:
    """A callable running a bundled policy scenario, or None if the policy layer is absent."""
    try:
        from rareflow.policy.program import simulate_scenario
        from rareflow.scenario import load_scenario

        scenario = load_scenario(POLICY_SCENARIO, world)
        simulate_scenario(scenario, world)
    except Exception as error:  # the policy layer is still being written
        print(f"policy scenario skipped: {error!r:.200}")
        return None
    return lambda: simulate_scenario(scenario, world)


if __name__ == "__main__":
    for target in main():
        print(target.line())
