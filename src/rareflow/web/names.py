"""Words people understand: human names for the ids the dashboard would otherwise show.

Scenarios, policies (instruments), sectors and regions have ids made for files and code
(``mp-dod-2025``, ``dod_mp_ndpr_floor``, ``industrial_motors``, ``USA``). The page shows the
names built here and keeps the id for a ``title`` tooltip.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rareflow.model.world import World

#: Short titles of the bundled scenarios (their descriptions say the rest).
SCENARIO_TITLES: dict[str, str] = {
    "actual-path-2025": "What happened in 2025",
    "baseline": "Baseline: no new controls",
    "controls-2025-april": "China's April 2025 licence regime",
    "controls-2025-october": "China's October 2025 controls",
    "crma-2030": "EU Critical Raw Materials Act 2030 targets",
    "heavy-ban": "Chinese ban on dysprosium and terbium",
    "mp-dod-2025": "US Defense Department deal with MP Materials",
    "price-war": "Chinese price war on NdPr",
    "recycling-20pct-2030": "US target: 20 % recycled by 2030",
    "slow-rebuild": "Slow rebuild outside China",
    "suspension-2025-11": "October 2025 controls suspended for a year",
    "wartime-rebuild": "Allied wartime rebuild",
}
#: Suffix of the scenarios the dashboard derives from a bundled one (see rareflow.web.derive).
DERIVED_SUFFIX = "-dashboard"

#: Policy types in words.
INSTRUMENT_NAMES: dict[str, str] = {
    "export_control": "Export control",
    "price_floor": "Price floor",
    "offtake": "Offtake (guaranteed purchase)",
    "recycling_target": "Recycling target",
    "capacity_support": "Support for new capacity",
    "fast_track": "Fast-track permitting",
    "sourcing_cap": "Cap on sourcing from one country",
    "substitution": "Substitution",
    "tariff": "Tariff",
    "trade_halt": "Trade halt",
}
#: The policies the dashboard's levers add, by id.
LEVER_POLICY_TITLES: dict[str, str] = {
    "dashboard_export_control": "Export control set in the dashboard",
    "dashboard_price_floor": "NdPr price floor set in the dashboard",
    "dashboard_offtake": "Offtake set in the dashboard",
    "dashboard_recycling_target": "Recycling target set in the dashboard",
}
MAX_TITLE = 70


def scenario_title(name: str) -> str:
    """The human title of scenario ``name`` (a derived one says it was edited here)."""
    if name in SCENARIO_TITLES:
        return SCENARIO_TITLES[name]
    if name.endswith(DERIVED_SUFFIX):
        base = name[: -len(DERIVED_SUFFIX)]
        return f"{scenario_title(base)}, with dashboard changes"
    return name.replace("-", " ").replace("_", " ").capitalize()


def policy_title(policy_id: str, policy_type: str, note: str | None) -> str:
    """A policy in words: its instrument, then its note's first sentence (shortened)."""
    if policy_id in LEVER_POLICY_TITLES:
        return LEVER_POLICY_TITLES[policy_id]
    instrument = INSTRUMENT_NAMES.get(policy_type, policy_type.replace("_", " ").capitalize())
    if not note:
        return instrument
    first = re.split(r"(?<=[.;])\s", note.strip(), maxsplit=1)[0].rstrip(".;")
    title = f"{instrument}: {first}"
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1].rstrip(" ,;") + "…"


def sector_name(full_name: str) -> str:
    """A sector's short name: its name without the bracketed detail, first letter lower."""
    short = re.split(r" \(|:|,", full_name, maxsplit=1)[0].strip()
    return short[:1].lower() + short[1:]


@dataclass(frozen=True)
class Wording:
    """Replaces ids inside free text (metric questions, change lists) with names."""

    names: Mapping[str, str]

    @classmethod
    def build(cls, world: World, policies: Iterable[tuple[str, str, str | None]] = ()) -> Wording:
        """From the world's regions and sectors and ``(id, type, note)`` of known policies."""
        names: dict[str, str] = {"china": "China"}
        names.update({region.id: region.name for region in world.regions})
        names.update({sector.id: sector_name(sector.name) for sector in world.sectors})
        names.update(LEVER_POLICY_TITLES)
        for policy_id, policy_type, note in policies:
            names[policy_id] = policy_title(policy_id, policy_type, note)
        return cls(names)

    def __call__(self, text: str) -> str:
        """``text`` with every whole-word id replaced by its name."""
        if not self.names:
            return text
        pattern = _pattern(tuple(sorted(self.names, key=len, reverse=True)))
        return pattern.sub(lambda match: self.names[match.group(0)], text)


_PATTERNS: dict[tuple[str, ...], re.Pattern[str]] = {}


def _pattern(ids: tuple[str, ...]) -> re.Pattern[str]:
    if ids not in _PATTERNS:
        _PATTERNS[ids] = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, ids)) + r")(?![\w-])")
    return _PATTERNS[ids]
