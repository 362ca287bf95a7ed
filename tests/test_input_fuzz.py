"""Fuzzing the input loaders and their CLI commands with hostile YAML.

Random scenarios and data-override folders, grown from the bundled files and then broken in
the ways careless or unlucky users break them (impossible dates, NaN and infinities, huge
numbers, nulls, wrong types, unknown and duplicate keys, unsafe tags, non-UTF-8 bytes,
truncation), go to ``load_scenario`` / ``load_world`` and to ``rareflow scenarios check`` /
``rareflow data check``. Every outcome must be a success or a :class:`DataError`; the CLI must
exit with 0, 1 or 2 and never print a traceback.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from hypothesis_budget import FUZZ, scaled
from rareflow.cli import main
from rareflow.data.loader import load_world
from rareflow.data.records import RECORD_FILES
from rareflow.model.errors import DataError
from rareflow.scenario import load_scenario
from rareflow.scenario.library import bundled_names, bundled_path


class Raw(str):
    """A YAML token written as is (``2025-02-30``, ``.nan``, ``!!python/object`` ...)."""


@dataclass
class Pairs:
    """A YAML mapping as a list of pairs, so that a key may repeat."""

    items: list[tuple[Any, Any]]


HOSTILE = [
    "2025-02-30", "0000-01-01", "2025-13-45", "9999-12-31", ".nan", ".inf", "-.inf", "1e300",
    "-1e300", "1e400", "1e12", "-1", "0", "99999999999999999999999", "~", "null", "true", "''",
    "[]", "{}", '"[red]x[/red]"', '"[a-z0-9]"', "!!python/object:os.system x", "!custom 1",
    "*nowhere", "2024", "-2024", "0.5", '"CHN>USA:magnet"', '"ROW"', '"mp_10x_magnets"',
]

scalars = st.one_of(
    st.sampled_from(HOSTILE).map(Raw),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.booleans(),
    st.none(),
)
keys = st.one_of(st.sampled_from(["id", "start", "end", "type", "records", "replace", "extends",
                                  "dist", "year", "nameplate_t", "capacity_t", "2025-02-30"]),
                 st.text(min_size=1, max_size=8))
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.lists(st.tuples(keys, inner), max_size=3).map(Pairs)),
    max_leaves=6,
)


def emit(value: Any) -> str:
    """``value`` as flow-style YAML (raw tokens verbatim; repeated keys kept)."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, Pairs):
        return "{" + ", ".join(f"{emit(k)}: {emit(v)}" for k, v in value.items) + "}"
    if isinstance(value, dict):
        return emit(Pairs(list(value.items())))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(emit(item) for item in value) + "]"
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, float):
        return ".nan" if value != value else {float("inf"): ".inf", -float("inf"): "-.inf"}.get(
            value, repr(value))
    if isinstance(value, int):
        return str(value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return json.dumps(str(value))


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*at, index))
    return found


def _mutate(doc: Any, draw: Callable[[st.SearchStrategy[Any]], Any]) -> Any:
    """``doc`` with one to three random parts replaced, dropped, nulled or given odd keys."""
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        action = draw(st.sampled_from(["replace", "drop", "unknown_key", "duplicate_key"]))
        new = draw(values)
        if not path:
            doc = new if action == "replace" else doc
            continue
        *head, last = path
        parent = doc
        for part in head:
            parent = parent[part]
        if action == "drop":
            del parent[last]
        elif action == "replace" or not isinstance(parent, dict):
            parent[last] = new
        elif action == "unknown_key":
            parent[draw(keys)] = new
        else:
            parent[last] = Pairs([(last, parent[last]), (last, new)])
    return doc


def _encode(text: str, draw: Callable[[st.SearchStrategy[Any]], Any]) -> bytes:
    """``text`` as UTF-8, sometimes with invalid bytes spliced in or cut short."""
    data = text.encode("utf-8")
    damage = draw(st.sampled_from(["none", "none", "none", "bad_bytes", "truncate"]))
    if damage == "bad_bytes":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\x00"])) + (
            data[at:])
    elif damage == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    return data


def _plain(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


SCENARIOS = {name: _plain(bundled_path(name)) for name in bundled_names()}  # type: ignore[arg-type]
DATA = {spec.name: yaml.safe_load(resources.files("rareflow.data").joinpath(spec.name)
                                  .read_text(encoding="utf-8")) for spec in RECORD_FILES}


@st.composite
def scenario_files(draw: Callable[[st.SearchStrategy[Any]], Any]) -> bytes:
    """A bundled scenario, broken at random."""
    doc = json.loads(json.dumps(SCENARIOS[draw(st.sampled_from(sorted(SCENARIOS)))],
                                default=str))
    return _encode(emit(_mutate(doc, draw)), draw)


@st.composite
def override_folders(draw: Callable[[st.SearchStrategy[Any]], Any]) -> dict[str, bytes]:
    """One or two override files (bundled records, broken at random), by file name."""
    files: dict[str, bytes] = {}
    for _ in range(draw(st.integers(1, 2))):
        name = draw(st.sampled_from(sorted(DATA)))
        bundled = json.loads(json.dumps(DATA[name], default=str))
        if isinstance(bundled, list):
            picked = draw(st.lists(st.sampled_from(bundled), min_size=1, max_size=2))
            doc: Any = json.loads(json.dumps(picked))
            shape = draw(st.sampled_from(["list", "replace", "records_null"]))
            if shape == "replace":
                doc = {"replace": draw(st.booleans()), "records": doc}
            elif shape == "records_null":
                doc = {"replace": True, "records": None}
        else:
            doc = bundled
        doc = _mutate(doc, draw)
        suffix = draw(st.sampled_from([".yaml", ".yaml", ".yml", ".json"]))
        stem = name.removesuffix(".yaml")
        files[draw(st.sampled_from([stem, stem, stem + "s"])) + suffix] = _encode(emit(doc), draw)
    return files


def _write_folder(root: Path, files: dict[str, bytes]) -> Path:
    folder = root / "data"
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return folder


def _assert_clean_exit(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception)
    assert "Traceback" not in result.output


@scaled(FUZZ)
@given(content=scenario_files())
def test_scenario_loader_succeeds_or_names_the_problem(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as root:
        path = Path(root) / "fuzz.yaml"
        path.write_bytes(content)
        with contextlib.suppress(DataError):
            load_scenario(path, load_world())


@scaled(FUZZ)
@given(files=override_folders())
def test_data_loader_succeeds_or_names_the_problem(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as root:
        folder = _write_folder(Path(root), files)
        try:
            load_world(folder)
        except DataError as error:
            assert error.file is None or Path(error.file).parent == folder or "/" not in error.file


@scaled(FUZZ / 2)
@given(content=scenario_files())
def test_scenarios_check_exits_cleanly(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as root:
        path = Path(root) / "fuzz.yaml"
        path.write_bytes(content)
        _assert_clean_exit(["scenarios", "check", str(path)])


@scaled(FUZZ / 2)
@given(files=override_folders())
def test_data_check_exits_cleanly(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as root:
        _assert_clean_exit(["data", "check", "--data", str(_write_folder(Path(root), files))])
