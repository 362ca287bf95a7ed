"""What a report says about where its numbers come from: the run and the data's sources."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import xarray as xr
import yaml

from rareflow.data.records import RECORD_FILES
from rareflow.model.sourced import Sourced
from rareflow.model.world import World
from rareflow.store.runs import RunInfo


@dataclass(frozen=True)
class ReportMeta:
    """The run a report shows: identity, inputs and versions (all optional but the name)."""

    scenario_name: str
    run_id: str | None = None
    kind: str = "single"
    data_version: str = ""
    code_version: str = ""
    seed: int | None = None
    scenario_text: str | None = None
    run_created: datetime | None = None
    n_draws: int = 1
    n_done: int = 1
    n_failed: int = 0
    draw: int | None = None  # the draw whose charts and answers an ensemble report shows
    origin: str = ""  # where the result was read from (a run store or a NetCDF file)
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_run(cls, run: RunInfo, *, origin: str = "", draw: int | None = None) -> ReportMeta:
        """Metadata of a stored run."""
        return cls(
            scenario_name=run.scenario_name, run_id=run.run_id, kind=run.kind,
            data_version=run.data_version, code_version=run.code_version, seed=run.seed,
            scenario_text=run.scenario_text, run_created=run.created_at, n_draws=run.n_draws,
            n_done=run.n_done, n_failed=run.n_failed, draw=draw, origin=origin,
            params=dict(run.params),
        )

    @classmethod
    def from_result(cls, result: xr.Dataset, *, origin: str = "") -> ReportMeta:
        """Metadata read from a result's attrs (``scenario``, versions, ``seed``)."""
        seed = result.attrs.get("seed")
        text = result.attrs.get("scenario_text")
        return cls(
            scenario_name=str(result.attrs.get("scenario", "unnamed scenario")),
            data_version=str(result.attrs.get("data_version", "")),
            code_version=str(result.attrs.get("code_version", "")),
            seed=int(seed) if seed is not None and str(seed).lstrip("-").isdigit() else None,
            scenario_text=str(text) if text else None,
            origin=origin,
        )


@dataclass(frozen=True)
class SourceCount:
    """How the records of one data file are backed: cited sources and stated assumptions."""

    file: str
    records: int
    cited: int  # records with a source (possibly adjusted by an assumption)
    assumed: int  # records resting on a stated assumption only


def source_counts(world: World) -> list[SourceCount]:
    """Per bundled data file, how many records cite a source and how many are assumptions."""
    counts = []
    for spec in RECORD_FILES:
        value = getattr(world, spec.field)
        records = list(value) if isinstance(value, tuple) else [value]
        sourced = [record for record in records if isinstance(record, Sourced)]
        if not sourced:
            continue
        cited = sum(1 for record in sourced if record.source)
        counts.append(SourceCount(spec.name, len(sourced), cited, len(sourced) - cited))
    return counts


def distinct_sources(world: World) -> int:
    """Number of different source citations across the world's records."""
    texts: set[str] = set()
    for spec in RECORD_FILES:
        value = getattr(world, spec.field)
        for record in value if isinstance(value, tuple) else (value,):
            if isinstance(record, Sourced) and record.source:
                texts.add(record.source.strip())
    return len(texts)


def scenario_text_world(text: str | None) -> str | None:
    """The ``world`` a stored scenario text names (None when it names none or is unreadable)."""
    if not text:
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    value = data.get("world") if isinstance(data, dict) else None
    return str(value) if value is not None else None
