"""Load a scenario file: safe YAML, ``extends`` resolution, validation with located errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rareflow.model.errors import DataError, closest_name
from rareflow.model.world import DEFAULT_WORLD, World
from rareflow.model.yamlio import Path_, SourceMap, read_yaml
from rareflow.scenario import library
from rareflow.scenario.diagnostics import validation_error
from rareflow.scenario.scenario import Scenario
from rareflow.scenario.world_check import validate_against_world

#: Sections merged key by key when a scenario extends another.
MERGED_SECTIONS = ("overrides", "uncertainty")
#: Entries replaced as a whole (``*`` = any key); so is any mapping with a ``dist`` key.
ATOMIC_ENTRIES: tuple[Path_, ...] = (
    ("overrides", "demand_growth", "*"),
    ("uncertainty", "demand_growth", "*"),
    ("uncertainty", "policy_timing", "*"),
)
MAX_DEPTH = 32


def load_scenario(path_or_name: str | Path, world: World | None = None) -> Scenario:
    """Load a scenario from a file path or a bundled name, resolved and validated.

    Every problem raises :class:`~rareflow.model.errors.DataError` naming the file, line and
    field, with the closest valid name for misspellings. With ``world``, region, group, facility
    and sector names are checked against it as well (:func:`validate_against_world`).
    """
    path = library.resolve(path_or_name)
    data, source, lineage = _resolve(path, ())
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, data, source) from None
    scenario = scenario.with_origin(lineage, source)
    if world is not None:
        validate_against_world(scenario, world)
    return scenario


def bundled_names_of(world: str) -> list[str]:
    """Names of the bundled scenarios that run on ``world`` (their ``world``, default '2024').

    A bundled scenario that does not load counts as the default world's, so that checks of
    the library still see it.
    """
    names = []
    for name in library.bundled_names():
        path = library.bundled_path(name)
        assert path is not None
        try:
            own = load_scenario(path).world_name()
        except DataError:
            own = DEFAULT_WORLD
        if own == world:
            names.append(name)
    return names


Resolved = tuple[dict[str, Any], SourceMap, tuple[str, ...]]


def _resolve(path: Path, chain: tuple[Path, ...]) -> Resolved:
    """Data of ``path`` merged over all its ancestors, with sources and the lineage of names."""
    data, source = read_yaml(path)
    if data is None:
        raise DataError("scenario file is empty", file=path, line=1)
    if not isinstance(data, dict):
        raise DataError("a scenario must be a mapping of fields", file=path, line=1)
    name = str(data.get("name", path.stem))
    parent_ref = data.pop("extends", None)
    if parent_ref is None:
        if data.get("drop_policies"):
            _, line = source.locate(("drop_policies",))
            raise DataError(
                "'drop_policies' needs 'extends'", file=path, line=line, field="drop_policies"
            )
        return data, source, (name,)
    _, line = source.locate(("extends",))
    refs = _parent_refs(parent_ref, path, line)
    if len(chain) >= MAX_DEPTH:
        raise DataError("'extends' chain is too deep", file=path, line=line, field="extends")
    seen = (*chain, path)
    base: tuple[dict[str, Any], SourceMap] | None = None
    lineage: tuple[str, ...] = ()
    for index, ref in enumerate(refs):
        field = "extends" if isinstance(parent_ref, str) else f"extends[{index}]"
        _, ref_line = source.locate(("extends",) if isinstance(parent_ref, str)
                                    else ("extends", index))
        try:
            parent_path = library.resolve(ref, base=path)
        except DataError as exc:
            raise DataError(
                exc.message, file=path, line=ref_line, field=field, suggestion=exc.suggestion
            ) from None
        if parent_path in seen:
            cycle = " -> ".join(p.name for p in (*seen[seen.index(parent_path) :], parent_path))
            raise DataError(f"'extends' cycle: {cycle}", file=path, line=ref_line, field=field)
        parent, parent_source, parent_lineage = _resolve(parent_path, seen)
        if base is None:
            base = (parent, parent_source)
        else:  # a later parent merges over the earlier ones as if it were their child
            later = {k: v for k, v in parent.items() if k not in ("name", "description")}
            base = _merge(base[0], base[1], later, parent_source, parent_path)
        lineage += parent_lineage
    assert base is not None
    merged, merged_source = _merge(base[0], base[1], data, source, path)
    # each name once, at its last place: a shared ancestor (e.g. baseline) comes last
    names = [n for i, n in enumerate(lineage) if n not in lineage[i + 1 :]]
    return merged, merged_source, (name, *names)


def _parent_refs(parent_ref: object, path: Path, line: int | None) -> list[str]:
    """The parent names of an ``extends`` value: one name, or a non-empty list of names."""
    refs = [parent_ref] if isinstance(parent_ref, str) else parent_ref
    if (not isinstance(refs, list) or not refs
            or not all(isinstance(ref, str) and ref.strip() for ref in refs)):
        raise DataError("'extends' must name a scenario or list scenario names",
                        file=path, line=line, field="extends")
    if len(set(refs)) != len(refs):
        raise DataError("'extends' names a scenario twice", file=path, line=line,
                        field="extends")
    return [str(ref) for ref in refs]


def _merge(
    parent: dict[str, Any],
    parent_source: SourceMap,
    child: dict[str, Any],
    child_source: SourceMap,
    child_path: Path,
) -> tuple[dict[str, Any], SourceMap]:
    """The child's data over its parent's, with a source map pointing at the right file."""
    merged: dict[str, Any] = {}
    source = SourceMap()
    source.lines[()] = child_source.lines[()]
    for key in dict.fromkeys(["name", "description", *parent, *child]):
        if key == "drop_policies" or (key in ("name", "description") and key not in child):
            continue
        if key == "policies":
            policies, policy_sources = _merge_policies(
                parent, parent_source, child, child_source, child_path
            )
            merged["policies"] = policies
            source.lines.update(policy_sources)
        elif key in MERGED_SECTIONS and isinstance(parent.get(key), dict) and isinstance(
            child.get(key), dict
        ):
            merged[key] = _deep_merge(
                parent[key], child[key], (key,), parent_source, child_source, source
            )
        elif key in child:
            merged[key] = child[key]
            source.graft((key,), child_source.subtree((key,)))
        else:
            merged[key] = parent[key]
            source.graft((key,), parent_source.subtree((key,)))
    return merged, source


def _deep_merge(
    parent: dict[Any, Any],
    child: dict[Any, Any],
    at: Path_,
    parent_source: SourceMap,
    child_source: SourceMap,
    out: SourceMap,
) -> dict[Any, Any]:
    """Merge two mappings recursively (child wins), recording where each value came from.

    Distributions and the entries in :data:`ATOMIC_ENTRIES` are replaced whole; a child value
    of ``null`` removes the parent's entry.
    """
    merged: dict[Any, Any] = {}
    for key in dict.fromkeys([*parent, *child]):
        here = (*at, key)
        if key in child and child[key] is None:
            continue  # an explicit null removes the parent's entry
        both = isinstance(parent.get(key), dict) and isinstance(child.get(key), dict)
        if both and not _atomic(here, child[key]):
            out.lines[here] = child_source.lines.get(here) or parent_source.lines[here]
            merged[key] = _deep_merge(
                parent[key], child[key], here, parent_source, child_source, out
            )
        elif key in child:
            merged[key] = child[key]
            out.graft(here, child_source.subtree(here))
        else:
            merged[key] = parent[key]
            out.graft(here, parent_source.subtree(here))
    if at in child_source.lines:
        out.lines[at] = child_source.lines[at]
    return merged


def _atomic(path: Path_, value: dict[Any, Any]) -> bool:
    """Whether a mapping replaces its parent's counterpart whole instead of merging into it."""
    if "dist" in value:
        return True
    return any(
        len(pattern) == len(path)
        and all(p == "*" or p == q for p, q in zip(pattern, path, strict=True))
        for pattern in ATOMIC_ENTRIES
    )


def _policy_id(item: Any) -> str | None:
    return item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else None


def _merge_policies(
    parent: dict[str, Any],
    parent_source: SourceMap,
    child: dict[str, Any],
    child_source: SourceMap,
    child_path: Path,
) -> tuple[list[Any], dict[Path_, tuple[Path, int]]]:
    """Parent policies (minus dropped, replaced by id) followed by the child's new ones."""
    parent_items = parent.get("policies") or []
    child_items = child.get("policies") or []
    drops = child.get("drop_policies") or []
    for name, items, src in (
        ("policies", parent_items, parent_source),
        ("policies", child_items, child_source),
        ("drop_policies", drops, child_source),
    ):
        if not isinstance(items, list):
            file, line = src.locate((name,))
            raise DataError(f"'{name}' must be a list", file=file, line=line, field=name)
    parent_ids = [_policy_id(item) for item in parent_items]
    for index, drop in enumerate(drops):
        if drop not in parent_ids:
            _, line = child_source.locate(("drop_policies", index))
            raise DataError(
                f"cannot drop '{drop}': the parent scenario has no policy with that id",
                file=child_path,
                line=line,
                field=f"drop_policies[{index}]",
                suggestion=closest_name(str(drop), [i for i in parent_ids if i]),
            )
    replacements = {
        _policy_id(item): index for index, item in enumerate(child_items) if _policy_id(item)
    }
    chosen: list[tuple[SourceMap, int, Any]] = []
    used: set[int] = set()
    for index, item in enumerate(parent_items):
        pid = _policy_id(item)
        if pid in drops:
            continue
        if pid is not None and pid in replacements:
            child_index = replacements[pid]
            used.add(child_index)
            chosen.append((child_source, child_index, child_items[child_index]))
        else:
            chosen.append((parent_source, index, item))
    chosen += [
        (child_source, index, item)
        for index, item in enumerate(child_items)
        if index not in used
    ]
    lines: dict[Path_, tuple[Path, int]] = {}
    owner = child_source if "policies" in child else parent_source
    lines[("policies",)] = owner.lines.get(("policies",), owner.lines[()])
    merged = []
    for new_index, (src, old_index, item) in enumerate(chosen):
        for relative, where in src.subtree(("policies", old_index)).items():
            lines[("policies", new_index, *relative)] = where
        merged.append(item)
    return merged, lines
