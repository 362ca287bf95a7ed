"""The scenario language reference page, generated from the pydantic models of the language.

Every instrument, key, type, unit, default and description comes from the models in
:mod:`rareflow.scenario`; each instrument's example is a policy of a bundled scenario (or, for an
instrument no bundled scenario uses, a small example validated here), with the publications
that the bundled policies of that type cite. The documentation build writes the page on every
build (``scripts/mkdocs_hooks.py``); to see it on its own::

    python -m rareflow.scenario.reference_doc > scenario-reference.md
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel

from rareflow.model.fields_doc import docstring, field_rows
from rareflow.scenario.dates import Interval, YearRange
from rareflow.scenario.distributions import (
    Bernoulli,
    Discrete,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
)
from rareflow.scenario.instruments import INSTRUMENT_MODELS, InstrumentBase, ReleaseRule
from rareflow.scenario.library import bundled_names, bundled_path
from rareflow.scenario.overrides import FacilityOverride, Overrides
from rareflow.scenario.scenario import Scenario
from rareflow.scenario.uncertainty import (
    FacilityDistributions,
    GrowthUncertainty,
    PolicyTiming,
    RecyclingUncertainty,
    Uncertainty,
)

#: Keys every instrument has, documented once under *Keys of every policy*.
COMMON_KEYS: tuple[str, ...] = ("id", "type", "note", "source", "suspended")

#: Examples for instruments that no bundled scenario uses (validated on every build).
EXTRA_EXAMPLES: dict[str, dict[str, Any]] = {
    "stockpile": {
        "id": "usa_ndpr_stockpile",
        "type": "stockpile",
        "note": "A strategic NdPr oxide stock released to defence when it would go short.",
        "region": "USA",
        "element": "NdPr",
        "start": 2026,
        "target_t": 2000,
        "fill_rate_t_per_y": 500,
        "release": {"on_shortfall": True, "sectors": ["defence"]},
    },
    "demand_shock": {
        "id": "defence_surge",
        "type": "demand_shock",
        "note": "Defence demand 50 % above its path in 2027-2029.",
        "region": "all",
        "sector": "defence",
        "years": [2027, 2028, 2029],
        "factor": 1.5,
    },
}


@dataclass(frozen=True)
class BundledPolicy:
    """A policy as written in a bundled scenario file."""

    scenario: str
    entry: dict[str, Any]

    @property
    def type(self) -> str:
        """The instrument type."""
        return str(self.entry.get("type", ""))


def bundled_policies() -> Iterator[BundledPolicy]:
    """Every policy written in a bundled scenario file (not inherited), in library order."""
    for name in bundled_names():
        path = bundled_path(name)
        assert path is not None
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in data.get("policies") or ():
            yield BundledPolicy(name, dict(entry))


def library_rows() -> list[str]:
    """A table of the bundled scenarios: name, parents and description, as written."""
    rows = ["| scenario | extends | description |", "|---|---|---|"]
    for name in bundled_names():
        path = bundled_path(name)
        assert path is not None
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        parents = data.get("extends") or ()
        parents = [parents] if isinstance(parents, str) else list(parents)
        text = " ".join(str(data.get("description", "")).split()).replace("|", "\\|")
        rows.append(f"| `{name}` | {', '.join(f'`{p}`' for p in parents)} | {text} |")
    return rows


def _yaml(entry: dict[str, Any]) -> str:
    return yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=1000).rstrip()


def _model_section(model: type[BaseModel], level: str = "###",
                   skip: tuple[str, ...] = ()) -> list[str]:
    return [f"{level} {model.__name__}", "", docstring(model), "", *field_rows(model, skip), ""]


def _instrument_section(kind: str, model: type[InstrumentBase],
                        used: list[BundledPolicy]) -> list[str]:
    anchor = model.__name__.lower()  # where type names link (ExportControl -> exportcontrol)
    lines = [] if anchor == kind else [f'<a id="{anchor}"></a>', ""]
    lines += [f"### `{kind}`", "",
             f"Model: `{model.__module__}.{model.__name__}`.", "",
             docstring(model), "", *field_rows(model, COMMON_KEYS), ""]
    if used:
        example = next((p for p in used if p.entry.get("source")), used[0])
        lines += [f"Example, from the bundled scenario `{example.scenario}`:", "",
                  "```yaml", "policies:", _indent(_yaml(example.entry)), "```", ""]
        lines += ["Publications the bundled policies of this type model:", ""]
        cited = dict.fromkeys(
            (p.scenario, str(p.entry["id"]), str(p.entry.get("source") or "(no source given)"))
            for p in used)
        lines += [f"- `{scenario}` / `{policy}`: {source}" for scenario, policy, source in cited]
    else:
        entry = EXTRA_EXAMPLES[kind]
        model.model_validate(entry)
        lines += ["No bundled scenario uses this instrument yet. Example:", "",
                  "```yaml", "policies:", _indent(_yaml(entry)), "```"]
    return [*lines, ""]


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


_INTRO = """\
# Scenario language reference

<!-- Generated by `python -m rareflow.scenario.reference_doc` from the pydantic models of the
     scenario language on every documentation build; edit the models, not this page. -->

A scenario is a YAML file: a name, a one-line description, optionally the scenario(s) it
`extends`, the years to run, a list of `policies` (each one instrument), deterministic
`overrides` of the world data and an `uncertainty` section for ensembles. `rareflow scenarios
check FILE` validates a file; `rareflow scenarios schema` prints the JSON Schema that editors
use to complete and check it (see [Writing a scenario](scenarios.md) for the merge rules of
`extends`, and the example notebook *Writing a new scenario*).

Units come from the key names: `_usd_per_kg` is USD/kg, `_usd_m` million USD, `_t` tonnes
(t REO, or t of magnet for magnet plants and magnet sectors), `_t_per_y` tonnes a year, `_pct`
percent, shares are fractions 0–1. Dates are `YYYY-MM-DD` or a bare year (a start year means
1 January, an end year 31 December).
"""


def markdown() -> str:
    """The whole reference page as Markdown."""
    by_type: dict[str, list[BundledPolicy]] = {kind: [] for kind in INSTRUMENT_MODELS}
    for policy in bundled_policies():
        by_type.setdefault(policy.type, []).append(policy)
    lines = [_INTRO, "## The bundled library", "",
             "`rareflow scenarios list` lists these; each file is in `src/rareflow/scenarios/` "
             "and may be extended by your own.", "", *library_rows(), "",
             "## A scenario file", "", *_model_section(Scenario), *_model_section(YearRange)]
    lines += ["## Policies", "",
              "Each entry of `policies` is one instrument, chosen by its `type`. The "
              f"{len(INSTRUMENT_MODELS)} instruments: "
              + ", ".join(f"[`{kind}`](#{kind})" for kind in INSTRUMENT_MODELS)
              + ".", "",
              "### Keys of every policy", "", docstring(InstrumentBase), "",
              *field_rows(InstrumentBase), "",
              "`type` selects the instrument (one of the names below).", "",
              *_model_section(Interval)]
    for kind, model in INSTRUMENT_MODELS.items():
        lines += _instrument_section(kind, model, by_type.get(kind, []))
    lines += _model_section(ReleaseRule)
    lines += ["## Overrides", ""]
    lines += _model_section(Overrides) + _model_section(FacilityOverride)
    lines += ["## Uncertainty", ""]
    uncertain: tuple[type[BaseModel], ...] = (Uncertainty, FacilityDistributions,
                                               GrowthUncertainty, PolicyTiming,
                                               RecyclingUncertainty)
    for section in uncertain:
        lines += _model_section(section)
    lines += ["## Distributions", "",
              "A distribution is a mapping with a `dist` key naming its kind.", ""]
    distributions: tuple[type[BaseModel], ...] = (Normal, LogNormal, Uniform, Triangular,
                                                  Discrete, Bernoulli)
    for section in distributions:
        lines += _model_section(section)
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    """Print the page."""
    sys.stdout.write(markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
