"""Run records: :class:`RunInfo`, the run key used to resume runs, and run ids."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np

from rareflow.store.integrity import recovery_hint

RunKind = Literal["single", "ensemble"]
RUN_KINDS: tuple[str, ...] = ("single", "ensemble")
RUN_ID_LENGTH = 12


@dataclass(frozen=True)
class RunInfo:
    """Metadata of one run, with counts of its finished draws."""

    run_id: str
    run_key: str
    kind: str
    scenario_name: str
    scenario_text: str
    data_version: str
    code_version: str
    seed: int
    n_draws: int
    params: dict[str, Any]
    created_at: datetime
    n_done: int = 0
    n_failed: int = 0
    n_bytes: int = 0
    variables: tuple[str, ...] = field(default=())
    #: Damaged files of done draws, when the run was listed with ``check_files=True``.
    damage: tuple[str, ...] = field(default=())

    @property
    def n_pending(self) -> int:
        """Draws neither done nor failed."""
        return self.n_draws - self.n_done - self.n_failed

    @property
    def status(self) -> str:
        """``damaged``, ``complete`` (all done), ``failed`` (some failed) or ``incomplete``.

        ``damaged``: files of done draws are damaged (only known when listed with
        ``check_files=True``); ``failed``: all draws finished and some failed.
        """
        if self.damage:
            return "damaged"
        if self.n_done == self.n_draws:
            return "complete"
        if self.n_pending == 0:
            return "failed"
        return "incomplete"

    @property
    def recovery(self) -> str:
        """How to recover a damaged run (empty if not damaged)."""
        return recovery_hint(self.run_id) if self.damage else ""

    def to_dict(self, *, include_scenario: bool = True) -> dict[str, Any]:
        """JSON-ready view (timestamps as ISO 8601 text)."""
        out: dict[str, Any] = {
            "run_id": self.run_id,
            "kind": self.kind,
            "scenario_name": self.scenario_name,
            "status": self.status,
            "n_draws": self.n_draws,
            "n_done": self.n_done,
            "n_failed": self.n_failed,
            "n_bytes": self.n_bytes,
            "seed": self.seed,
            "data_version": self.data_version,
            "code_version": self.code_version,
            "params": self.params,
            "created_at": self.created_at.isoformat(),
            "run_key": self.run_key,
            "variables": list(self.variables),
            "damaged": bool(self.damage),
        }
        if self.damage:
            out["damage"] = list(self.damage)
            out["recovery"] = self.recovery
        if include_scenario:
            out["scenario_text"] = self.scenario_text
        return out


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"params value of type {type(value).__name__} is not JSON-serialisable")


def params_json(params: Mapping[str, Any] | None) -> str:
    """Canonical JSON of run parameters (sorted keys), numpy values as plain numbers."""
    try:
        return json.dumps(
            dict(params or {}), sort_keys=True, separators=(",", ":"), default=_json_default
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"run params must be JSON-serialisable: {exc}") from exc


def run_key(
    kind: str,
    scenario_text: str,
    data_version: str,
    code_version: str,
    seed: int,
    n_draws: int,
    params: Mapping[str, Any] | None,
) -> str:
    """Hash of everything that determines a run's results (the scenario name is only a label)."""
    payload = json.dumps(
        {
            "kind": kind,
            "scenario_text": scenario_text,
            "data_version": data_version,
            "code_version": code_version,
            "seed": int(seed),
            "n_draws": int(n_draws),
            "params": json.loads(params_json(params)),
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def new_run_id() -> str:
    """A short random id (48 bits of hex), unique in practice and easy to type as a prefix."""
    return uuid.uuid4().hex[:RUN_ID_LENGTH]


def validate_run_args(kind: str, n_draws: int, seed: int) -> None:
    """Reject impossible run definitions early."""
    if kind not in RUN_KINDS:
        raise ValueError(f"run kind must be one of {RUN_KINDS}, not {kind!r}")
    if int(n_draws) < 1:
        raise ValueError(f"n_draws must be at least 1, not {n_draws}")
    if kind == "single" and int(n_draws) != 1:
        raise ValueError(f"a single run has exactly one draw, not {n_draws}")
    if int(seed) < -(2**63) or int(seed) >= 2**63:
        raise ValueError(f"seed {seed} does not fit in 64 bits")
