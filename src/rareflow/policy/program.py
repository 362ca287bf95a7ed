"""A scenario's policies as a :class:`~rareflow.engine.simulate.PolicyProgram`, and its simulation.

Typical use::

    from rareflow.scenario import load_scenario
    from rareflow.policy import simulate_scenario
    ds = simulate_scenario(load_scenario("heavy-ban"), world, range(2024, 2031))

or, step by step (ensembles pass their own drawn :class:`~rareflow.engine.simulate.Schedule`)::

    program = compile_policies(scenario, world, schedule=schedule)
    ds = simulate(program.world, years, schedule=schedule, policy=program)

``program.world`` is the world the market must be built from: it equals ``world`` unless a
``stockpile`` policy needs a stock the world lacks, in which case it is a copy with that stock
added (:func:`~rareflow.policy.stockpile.stockpile_world`).

Each year the program (1) in the first year, solves the year once without policies (a *probe*
giving reference prices and flows), (2) runs every instrument type's effect in a fixed order -
demand shocks, capacity, stockpiles, export controls, trade and market rules, substitution -
and (3) after the solve records each policy's outcomes, which ``finish`` adds to the run's
dataset as ``fiscal_cost`` (USD million, dims year x instrument, instrument = policy id), its
parts ``fiscal_cost_component`` (x component), ``floor_destination`` (t, x region: where a price
floor's covered volume goes) and ``policy_shortfall`` (t, year x instrument; recycling targets
and sourcing caps). Policy rows a policy
does not bind in a year are relaxed; penalty slack columns are zero outside active years.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import highspy
import numpy as np
import xarray as xr

from rareflow.engine.inputs import YearInputs
from rareflow.engine.market import Adjustments, MarketModel
from rareflow.engine.network import Network
from rareflow.engine.results import to_dataset
from rareflow.engine.schedule import Schedule
from rareflow.engine.simulate import SimulationState, simulate
from rareflow.model.elements import ELEMENTS
from rareflow.model.errors import DataError
from rareflow.model.results_contract import FISCAL_COMPONENTS, VARIABLES
from rareflow.model.world import World
from rareflow.policy.base import AccountContext, Effect, YearContext
from rareflow.policy.capacity_support import CapacitySupportEffect
from rareflow.policy.demand_shock import DemandShockEffect
from rareflow.policy.export_control import ExportControlEffect
from rareflow.policy.fast_track import FastTrackEffect
from rareflow.policy.offtake import OfftakeEffect
from rareflow.policy.price_floor import PriceFloorEffect
from rareflow.policy.recycling_target import RecyclingTargetEffect
from rareflow.policy.sourcing_cap import SourcingCapEffect
from rareflow.policy.stockpile import StockpileEffect, stockpile_world
from rareflow.policy.substitution import SubstitutionEffect
from rareflow.policy.tariff import TariffEffect
from rareflow.policy.trade_halt import TradeHaltEffect
from rareflow.scenario.instruments import (
    CapacitySupport,
    DemandShock,
    ExportControl,
    FastTrack,
    InstrumentBase,
    Offtake,
    PriceFloor,
    RecyclingTarget,
    SourcingCap,
    Stockpile,
    Substitution,
    Tariff,
    TradeHalt,
)
from rareflow.scenario.names import Reference
from rareflow.scenario.scenario import Scenario
from rareflow.scenario.world_check import valid_names, validate_against_world

#: The effect class of each instrument class.
EFFECTS: dict[type[InstrumentBase], type[Effect[Any]]] = {
    DemandShock: DemandShockEffect,
    CapacitySupport: CapacitySupportEffect,
    FastTrack: FastTrackEffect,
    Stockpile: StockpileEffect,
    ExportControl: ExportControlEffect,
    Tariff: TariffEffect,
    PriceFloor: PriceFloorEffect,
    Offtake: OfftakeEffect,
    RecyclingTarget: RecyclingTargetEffect,
    SourcingCap: SourcingCapEffect,
    Substitution: SubstitutionEffect,
    TradeHalt: TradeHaltEffect,
}
Missing = Literal["error", "skip"]


@dataclass(frozen=True)
class SkippedPolicy:
    """A policy (or override) left out because the world lacks a name it uses."""

    policy_id: str
    reason: str


def _missing_names(refs: Iterable[Reference], valid: dict[str, set[str]]) -> list[str]:
    return [f"{ref.kind} '{ref.value}'" for ref in refs if ref.value not in valid[ref.kind]]


class ScenarioProgram:
    """The compiled policies of a scenario (implements ``PolicyProgram``)."""

    def __init__(
        self,
        scenario: Scenario,
        world: World,
        effects: Sequence[Effect[Any]],
        skipped: Sequence[SkippedPolicy] = (),
        schedule: Schedule | None = None,
    ) -> None:
        self.scenario = scenario
        self.world = world
        self.effects = sorted(effects, key=lambda effect: effect.order)
        self.skipped = list(skipped)
        self.schedule = schedule or Schedule()
        self.policies = [policy for effect in self.effects for policy in effect.policies]
        self.network: Network | None = None
        self._context: YearContext | None = None
        self._probe: MarketModel | None = None
        self._outcomes: dict[int, tuple[list[float], list[float]]] = {}
        #: Per year: fiscal cost components and supported-volume destinations per policy.
        self._components: dict[int, dict[str, dict[str, float]]] = {}
        self._destinations: dict[int, dict[str, dict[str, float]]] = {}

    @property
    def policy_ids(self) -> list[str]:
        """Ids of the compiled (not skipped) policies, in effect order."""
        return [policy.id for policy in self.policies]

    @property
    def row_families(self) -> list[str]:
        """Names of the policy row families this program declares."""
        return [name for effect in self.effects for name in effect.row_families]

    @property
    def slack_families(self) -> list[str]:
        """Names of the penalty slack column families this program declares."""
        return [name for effect in self.effects for name in effect.slack_families]

    def adopt(self, declared: ScenarioProgram) -> None:
        """Use the market rows and columns that ``declared`` added to its network.

        ``declared`` is a program of the same scenario structure (same policies, same effect
        types) that has already declared into a network, e.g. the one an ensemble worker built
        its market from; this program then runs on that market without building another.
        Timing, numbers and the schedule stay this program's own; the probe model of the
        first year is shared too (built here once if ``declared`` has none yet).
        """
        network = declared._require_network()
        if self.network is not None:
            raise ValueError("this program has already declared into a network")
        if [type(e) for e in self.effects] != [type(e) for e in declared.effects]:
            raise ValueError("programs adopt declarations only from the same policy structure")
        for own, theirs in zip(self.effects, declared.effects, strict=True):
            own.adopt_declared(theirs)
        self.network = network
        self._probe = declared.shared_probe()

    def shared_probe(self) -> MarketModel | None:
        """The probe model of the first year, built here once (None for a program without effects).

        Programs that :meth:`adopt` this one's declarations share it instead of building their
        own market for the policy-free first-year solve.
        """
        if self._probe is None and self.effects:
            network = self._require_network()
            self._probe = MarketModel(network.world, network)
        return self._probe

    def probe_basis(self) -> highspy.HighsBasis | None:
        """The probe model's current basis (``None`` without a probe)."""
        return self._probe.basis() if self._probe is not None else None

    def restart_probe(self, basis: highspy.HighsBasis | None = None) -> None:
        """Forget the probe's solver state; its next solve starts from ``basis`` or scratch."""
        if self._probe is not None:
            self._probe.restart(basis)

    # ------------------------------------------------------------------ PolicyProgram --
    def declare(self, network: Network) -> None:
        """Add every effect's rows and columns to ``network`` (once, before the LP is built)."""
        if self.network is not None and self.network is not network:
            raise ValueError("a ScenarioProgram declares into one network only; compile the "
                             "scenario again for another market")
        if self.network is None:
            for effect in self.effects:
                effect.declare(network)
            self.network = network

    def adjust(
        self, inputs: YearInputs, state: SimulationState
    ) -> tuple[YearInputs, Adjustments | None]:
        """The year's inputs and adjustments after every active policy."""
        network = self._require_network()
        reference = state.previous
        probe_values = None
        if state.previous is None:
            for effect in self.effects:
                effect.reset()
            if any(effect.needs_reference() for effect in self.effects):
                reference, probe_values = self._probe_solve(inputs)
        ctx = YearContext(inputs.year, network, state, inputs, reference, self.row_families,
                          self.slack_families, self.schedule)
        if probe_values is not None:
            for effect in self.effects:
                effect.observe(probe_values, ctx, uncontrolled=True)
        for effect in self.effects:
            effect.adjust(ctx)
        ctx.apply_capacity()
        self._context = ctx
        return ctx.inputs, ctx.adjustments()

    def account(self, result: xr.Dataset, state: SimulationState) -> xr.Dataset:
        """Record each policy's fiscal cost and shortfall of the solved year (see ``finish``)."""
        ctx = self._context
        if ctx is None:
            raise RuntimeError("account() called before adjust()")
        col_value = None if state.solution is None else state.solution.col_value
        if col_value is not None:
            for effect in self.effects:
                effect.observe(np.asarray(col_value), ctx, uncontrolled=False)
        year = int(result["year"].values[0])
        actx = AccountContext(year, result, col_value, ctx)
        fiscal = dict.fromkeys(self.policy_ids, 0.0)
        shortfall = dict.fromkeys(self.policy_ids, 0.0)
        components: dict[str, dict[str, float]] = {}
        destinations: dict[str, dict[str, float]] = {}
        for effect in self.effects:
            outcome = effect.account(actx)
            fiscal.update(outcome.fiscal_usd_m)
            shortfall.update(outcome.shortfall_t)
            components.update(outcome.components)
            destinations.update(outcome.destinations)
        for policy_id, cost in fiscal.items():
            if policy_id not in components and cost:
                components[policy_id] = {"other": cost}
        if state.previous is None:
            self._outcomes = {}
            self._components = {}
            self._destinations = {}
        self._outcomes[year] = ([fiscal[p] for p in self.policy_ids],
                                [shortfall[p] for p in self.policy_ids])
        self._components[year] = components
        self._destinations[year] = destinations
        return result

    def finish(self, result: xr.Dataset) -> xr.Dataset:
        """The run's dataset with ``fiscal_cost`` and ``policy_shortfall`` (year × instrument).

        Added once per run: assigning a variable to a dataset re-aligns it, so not per year.
        """
        years = [int(year) for year in result["year"].values]
        missing = [year for year in years if year not in self._outcomes]
        if missing:
            raise RuntimeError(f"no policy accounts for years {missing}; finish() must follow "
                               "account() for every simulated year")
        coords = {"year": years, "instrument": self.policy_ids,
                  "instrument_type": ("instrument", [p.type for p in self.policies])}
        shape = (len(years), len(self.policy_ids))
        fiscal = np.array([self._outcomes[y][0] for y in years], dtype=float).reshape(shape)
        short = np.array([self._outcomes[y][1] for y in years], dtype=float).reshape(shape)
        parts = np.zeros((*shape, len(FISCAL_COMPONENTS)))
        regions = [str(region) for region in result["region"].values]
        volume = np.zeros((*shape, len(regions)))
        for i, year in enumerate(years):
            for j, policy_id in enumerate(self.policy_ids):
                for name, cost in self._components.get(year, {}).get(policy_id, {}).items():
                    parts[i, j, FISCAL_COMPONENTS.index(name)] += cost
                for region, tonnes in self._destinations.get(year, {}).get(policy_id, {}).items():
                    if region in regions:
                        volume[i, j, regions.index(region)] += tonnes
        part_coords = {**coords, "component": list(FISCAL_COMPONENTS)}
        region_coords = {**coords, "region": regions}
        return result.assign(
            fiscal_cost=xr.DataArray(fiscal, dims=("year", "instrument"), coords=coords,
                                     attrs=VARIABLES["fiscal_cost"].attrs()),
            fiscal_cost_component=xr.DataArray(
                parts, dims=("year", "instrument", "component"), coords=part_coords,
                attrs=VARIABLES["fiscal_cost_component"].attrs()),
            floor_destination=xr.DataArray(
                volume, dims=("year", "instrument", "region"), coords=region_coords,
                attrs=VARIABLES["floor_destination"].attrs()),
            policy_shortfall=xr.DataArray(short, dims=("year", "instrument"), coords=coords,
                                          attrs=VARIABLES["policy_shortfall"].attrs()),
        )

    # ------------------------------------------------------------------ helpers --
    def _require_network(self) -> Network:
        if self.network is None:
            raise RuntimeError("declare() has not been called: build the market with "
                               "build_market(program.world, program) or simulate(..., policy=)")
        return self.network

    def _probe_solve(self, inputs: YearInputs) -> tuple[xr.Dataset, np.ndarray]:
        """Solve the year without any policy: reference prices and flows for the first year."""
        network = self._require_network()
        if self._probe is None:
            self._probe = MarketModel(network.world, network)
        relaxed = YearContext(inputs.year, network, SimulationState(year=inputs.year), inputs,
                              None, self.row_families, self.slack_families)
        self._probe.set_year(inputs, relaxed.adjustments())
        solution = self._probe.solve()
        return to_dataset(self._probe, solution, inputs.year), solution.col_value


def _refuse_element_policies_off_the_default_elements(policies: Sequence[InstrumentBase],
                                                      world: World) -> None:
    """Refuse element policies in a world that does not track the default elements.

    Policies map element names onto the bundled groups (``Gd`` → ``other_heavy``); in a world
    that tracks other elements they would silently miss.
    """
    if world.elements == ELEMENTS:
        return
    by_element = [policy.id for policy in policies
                  if hasattr(policy, "tracked_elements") or hasattr(policy, "tracked_element")]
    if by_element:
        raise DataError(
            f"policies {', '.join(by_element)} name elements by the bundled worlds' groups "
            f"({' '.join(ELEMENTS)}); world '{world.provenance.name}' tracks "
            f"{' '.join(world.elements)}, which they do not support yet", record=by_element[0])


def compile_policies(
    scenario: Scenario,
    world: World,
    *,
    schedule: Schedule | None = None,
    missing: Missing = "error",
) -> ScenarioProgram:
    """Build the policy program of ``scenario`` for ``world``.

    ``missing="error"`` raises :class:`~rareflow.model.errors.DataError` (file, line, closest
    name) at the first region, group, facility or sector the world lacks; ``"skip"`` leaves out
    each policy that names one and lists it, with the reason, in ``program.skipped``.
    ``schedule`` is the run's capacity schedule (delays), which capacity policies build on.
    The market must be built from ``program.world`` (see the module docstring).
    """
    valid = valid_names(world)
    kept: list[InstrumentBase] = []
    skipped: list[SkippedPolicy] = []
    for policy in scenario.policies:
        absent = _missing_names(policy.references(), valid)
        if absent and missing == "error":
            validate_against_world(scenario, world)
            raise DataError(f"policy '{policy.id}' names {', '.join(absent)} absent from the "
                            "world", record=policy.id)
        if absent:
            skipped.append(SkippedPolicy(
                policy.id, f"{policy.type}: world '{world.provenance.name}' has no "
                           f"{', '.join(absent)}"))
            continue
        kept.append(policy)
    _refuse_element_policies_off_the_default_elements(kept, world)
    stockpiles = [policy for policy in kept if isinstance(policy, Stockpile)]
    program_world = stockpile_world(world, stockpiles)
    effects: list[Effect[Any]] = []
    for kind, effect_class in EFFECTS.items():
        chosen = [policy for policy in kept if isinstance(policy, kind)]
        if chosen:
            effects.append(effect_class(chosen, program_world))
    return ScenarioProgram(scenario, program_world, effects, skipped, schedule)


def apply_overrides(
    scenario: Scenario, world: World, missing: Missing = "error"
) -> tuple[World, Schedule, list[SkippedPolicy]]:
    """The world and capacity schedule after the scenario's deterministic ``overrides``.

    Facility ``start_year``/``nameplate_t`` and sector ``demand_growth`` change a copy of the
    world; delays (per facility, or by status) and capacity factors (0 when ``cancelled``) go
    into the :class:`~rareflow.engine.simulate.Schedule`. Names the world lacks raise, or are
    skipped and listed with ``missing="skip"``.
    """
    overrides = scenario.overrides
    valid = valid_names(world)
    skipped = [SkippedPolicy(f"overrides.{ref.path[0]}.{ref.value}",
                             f"world '{world.provenance.name}' has no {ref.kind} '{ref.value}'")
               for ref in overrides.references() if ref.value not in valid[ref.kind]]
    if skipped and missing == "error":
        validate_against_world(scenario, world)
    facilities = []
    for facility in world.facilities:
        own = overrides.facilities.get(facility.id)
        update: dict[str, Any] = {}
        if own is not None and own.start_year is not None:
            update["start_year"] = own.start_year
        if own is not None and own.nameplate_t is not None:
            update["nameplate_t"] = own.nameplate_t
        facilities.append(facility.model_copy(update=update) if update else facility)
    sectors = [
        sector.model_copy(update={"growth": overrides.demand_growth[sector.id]})
        if sector.id in overrides.demand_growth else sector
        for sector in world.sectors
    ]
    changed = world.model_copy(update={"facilities": tuple(facilities), "sectors": tuple(sectors)})
    delays = {f.id: overrides.delay_for(f) for f in world.facilities if overrides.delay_for(f)}
    factors = {
        fid: 0.0 if own.cancelled else own.capacity_factor
        for fid, own in overrides.facilities.items()
        if fid in valid["facility"] and (own.cancelled or own.capacity_factor != 1.0)
    }
    return changed, Schedule(delays=delays, capacity_factor=factors), skipped


def simulate_scenario(
    scenario: Scenario,
    world: World,
    years: Iterable[int] | None = None,
    *,
    schedule: Schedule | None = None,
    missing: Missing = "error",
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> xr.Dataset:
    """Simulate ``scenario`` on ``world`` (overrides and policies applied) and return the result.

    ``years`` defaults to the scenario's ``years`` (else 2024-2040). ``schedule`` replaces the
    one built from the scenario's overrides (ensembles pass a drawn one). With
    ``missing="skip"`` policies naming regions, groups, facilities or sectors absent from
    ``world`` are left out; the dataset's ``skipped_policies`` attribute lists them with reasons.
    The dataset carries ``scenario`` and ``seed`` attributes (``seed`` = 0 for this
    deterministic run unless given).
    """
    if years is None:
        years = scenario.run_years()
    changed, override_schedule, skipped = apply_overrides(scenario, world, missing)
    run_schedule = schedule if schedule is not None else override_schedule
    program = compile_policies(scenario, changed, schedule=run_schedule, missing=missing)
    dataset = simulate(program.world, years, schedule=run_schedule, policy=program,
                       progress=progress, attrs={"scenario": scenario.name})
    dataset.attrs["seed"] = seed
    notes = [*skipped, *program.skipped]
    dataset.attrs["skipped_policies"] = "; ".join(f"{s.policy_id}: {s.reason}" for s in notes)
    return dataset
