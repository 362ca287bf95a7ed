"""Load a bundled world dataset (a *vintage*), optionally overlaid with a user's override directory.

Vintages (``load_world(vintage=...)``, ``--world`` on the command line): the default world,
``"2024"``, is the files in ``rareflow/data/``; every other world is a folder
``rareflow/data/worlds/<name>/`` holding files of the same names and schemas, each of which
replaces the default world's file whole. A vintage must hold every file except the shared ones
(:data:`SHARED_FILES`, always the default world's and refused inside a vintage); its
``sectors.yaml`` has the default world's sector ids, and their behavioural fields
(:data:`SHARED_SECTOR_FIELDS`) are the default world's: left out, they are taken from it;
written, they must be equal. So every world behaves alike and differs only in sourced data.

Override rule (``load_world(data_dir)``): every ``*.yaml`` / ``*.yml`` file in ``data_dir`` must
be named like a bundled file (``facilities.yaml``, ``demand.yaml``, ...; see
:data:`~rareflow.data.records.RECORD_FILES`).

* A list file *extends or replaces records by key*: a record whose key matches a bundled record
  (``id``; or for keyless rows the fields listed in ``records.py``, e.g. region, sector, element
  and year for demand) replaces it in place; any other record is appended.
* A list file written as ``{replace: true, records: [...]}`` replaces the bundled file entirely.
* ``world.yaml`` and ``trade.yaml`` hold one mapping: the override's top-level keys replace the
  bundled ones (``trade.yaml: {tariffs_usd_per_kg: {...}}`` replaces the whole tariff table).

Override files are UTF-8 text of at most :data:`~rareflow.model.yamlio.MAX_BYTES` bytes; a
name may appear once (``demand.yaml`` and ``demand.yml`` together are refused).

When overrides are applied and ``world.yaml`` does not set a version itself, the provenance
version gets a ``+override.<hash>`` suffix so runs on modified data are never mistaken for runs
on the bundled data. Every error is a :class:`~rareflow.model.errors.DataError` naming the file,
the line, the record and the field at fault.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from rareflow.data.records import FILES_BY_NAME, RECORD_FILES, Key, RecordFile
from rareflow.model.errors import DataError, closest_name
from rareflow.model.world import DEFAULT_WORLD, World
from rareflow.model.yamlio import MAX_BYTES, LineList, LineMap, parse_yaml_lines

_PACKAGE = "rareflow.data"
_QUOTED = re.compile(r"'([^']*)'")
#: Folder (inside ``rareflow/data/``) of the other worlds, one subfolder per world.
WORLDS_FOLDER = "worlds"
#: Environment variable naming a further folder of worlds (one subfolder per world).
WORLDS_ENV = "RAREFLOW_WORLDS"
#: Files every world takes from the default world: magnet recipes are behaviour, and the
#: regions are the network's nodes that scenarios name.
SHARED_FILES = ("magnet_grades.yaml", "regions.yaml")
#: Sector fields that are behaviour, equal in every world (sectors.yaml of a vintage may omit
#: them); the other fields (mix, growth, magnet value, collection) are the vintage's data.
SHARED_SECTOR_FIELDS = ("kind", "elasticity", "substitution", "min_purity_pct",
                        "lifetime_mean_years", "lifetime_sd_years", "swarf_share", "priority")


@dataclass
class _Record:
    """A raw record and where it was read."""

    data: LineMap
    file: str
    key_files: dict[Any, str] = field(default_factory=dict)  # merged mappings: key → file


@dataclass
class _Table:
    """The raw records of one data file after overlaying overrides."""

    spec: RecordFile
    records: list[_Record] = field(default_factory=list)
    parts: list[_Record] = field(default_factory=list)  # single-mapping files: bundled, overrides


def load_world(data_dir: Path | None = None, *, vintage: str = DEFAULT_WORLD) -> World:
    """Read, validate and cross-check the bundled world ``vintage``, overlaid with ``data_dir``.

    ``vintage`` names a world of :func:`available_worlds` (``"2024"``, today's, by default).
    Raises :class:`DataError` for an unknown world, a file missing from it, any invalid record,
    unknown reference or unreadable file.
    """
    _check_world_name(vintage)
    tables = {spec.name: _Table(spec) for spec in RECORD_FILES}
    for spec in RECORD_FILES:
        file = _world_file(vintage, spec.name)
        _add_file(tables[spec.name], _bundled_in(vintage, spec.name), file, replace=True)
    digest = None
    if data_dir is not None:
        digest = _apply_overrides(tables, Path(data_dir))
    return _build(tables, digest, vintage)


def available_worlds() -> list[str]:
    """Names of the worlds: the default one and each folder of ``data/worlds/``.

    Folders in the one named by the ``RAREFLOW_WORLDS`` environment variable count too (your
    own vintages, laid out like the bundled ones).
    """
    return sorted({DEFAULT_WORLD, *_world_folders()})


def _world_folders() -> dict[str, Traversable]:
    """Each non-default world's folder by name; ``RAREFLOW_WORLDS`` cannot shadow a bundled one."""
    roots: list[Traversable] = [resources.files(_PACKAGE).joinpath(WORLDS_FOLDER)]
    extra = os.environ.get(WORLDS_ENV)
    if extra:
        roots.append(Path(extra))
    found: dict[str, Traversable] = {}
    for root in roots:
        if not root.is_dir():
            continue
        for entry in sorted(root.iterdir(), key=lambda item: item.name):
            if entry.is_dir() and not entry.name.startswith((".", "_")):
                found.setdefault(entry.name, entry)
    found.pop(DEFAULT_WORLD, None)
    return found


def _check_world_name(vintage: str) -> None:
    known = available_worlds()
    if vintage not in known:
        raise DataError(f"unknown world '{vintage}' (worlds: {', '.join(known)})",
                        suggestion=closest_name(str(vintage), known))


def _world_file(vintage: str, name: str) -> str:
    """How messages name file ``name`` of world ``vintage`` (its path inside ``data/``)."""
    if vintage == DEFAULT_WORLD or name in SHARED_FILES:
        return name
    return f"{WORLDS_FOLDER}/{vintage}/{name}"


def _bundled_in(vintage: str, name: str) -> Any:
    """The parsed file ``name`` of world ``vintage`` (shared files: the default world's)."""
    if vintage == DEFAULT_WORLD:
        return _bundled(name)
    own = _world_file(vintage, name)
    resource = _world_folders()[vintage].joinpath(name)
    present = resource.is_file()
    if name in SHARED_FILES:
        if present:
            raise DataError(f"{name} is shared by every world: remove this copy (world "
                            f"'{vintage}' uses the one in rareflow/data/)",
                            file=f"{WORLDS_FOLDER}/{vintage}/{name}")
        return _bundled(name)
    if not present:
        raise DataError(f"world '{vintage}' lacks {name}: every world needs its own copy "
                        f"(only {', '.join(SHARED_FILES)} are shared)", file=own)
    content = _parsed_text(resource.read_text(encoding="utf-8"), own)
    if name == "sectors.yaml":
        content = _shared_behaviour(content, _bundled(name), own)
    return content


@cache
def _parsed_text(text: str, label: str) -> Any:
    """A vintage's file ``text`` parsed (named ``label`` in messages), once per content."""
    return parse_yaml_lines(text, label)


@cache
def _bundled(name: str) -> Any:
    """The parsed bundled file ``name``, read once per process (it is never modified)."""
    return parse_yaml_lines(_bundled_text(name), name)


def _bundled_text(name: str) -> str:
    resource = resources.files(_PACKAGE).joinpath(name)
    if not resource.is_file():
        raise DataError("bundled data file is missing from the package", file=name)
    return resource.read_text(encoding="utf-8")


def _shared_behaviour(sectors: Any, default: Any, file: str) -> Any:
    """A vintage's sectors with the default world's behavioural fields filled in and checked.

    The vintage must list the default world's sector ids; each behavioural field it omits is
    taken from the default world, and one it gives must be equal (else :class:`DataError`).
    """
    if not isinstance(sectors, list) or not isinstance(default, list):
        return sectors  # _add_file reports the shape
    reference = {item.get("id"): item for item in default if isinstance(item, LineMap)}
    filled = LineList()
    filled.line = getattr(sectors, "line", 1)
    seen: set[Any] = set()
    for index, item in enumerate(sectors):
        if isinstance(sectors, LineList):
            filled.item_lines.append(sectors.line_of(index))
        if not isinstance(item, LineMap):
            filled.append(item)
            continue
        base = reference.get(item.get("id"))
        if base is None:
            raise DataError("every world has the same sectors: this one is not in the default "
                            "world's sectors.yaml", file=file, line=item.line,
                            record=str(item.get("id")), field="id",
                            suggestion=closest_name(str(item.get("id")),
                                                    [str(key) for key in reference]))
        seen.add(item.get("id"))
        copy = LineMap(item)
        copy.line, copy.key_lines = item.line, dict(item.key_lines)
        for name in SHARED_SECTOR_FIELDS:
            if name not in item:
                if name in base:
                    copy[name] = base[name]
                continue
            if _plain(item[name]) != _plain(base.get(name)):
                raise DataError(
                    f"'{name}' is behaviour shared by every world: it must equal the default "
                    f"world's ({_plain(base.get(name))!r}) or be left out",
                    file=file, line=item.line_of(name), record=str(item["id"]), field=name)
        filled.append(copy)
    missing = [str(key) for key in reference if key not in seen]
    if missing:
        raise DataError(f"every world has the same sectors: missing {', '.join(missing)}",
                        file=file, line=filled.line)
    return filled


def _plain(value: Any) -> Any:
    """``value`` as plain dicts and lists, to compare YAML readings."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _apply_overrides(tables: dict[str, _Table], data_dir: Path) -> str:
    if not data_dir.is_dir():
        raise DataError("override data directory not found", file=data_dir)
    digest = hashlib.sha256()
    seen: dict[str, Path] = {}
    for path in sorted(data_dir.iterdir()):
        if path.suffix not in (".yaml", ".yml") or not path.is_file():
            continue
        name = path.stem + ".yaml"
        if name not in FILES_BY_NAME:
            raise DataError(
                "not a world data file name",
                file=path,
                suggestion=closest_name(name, FILES_BY_NAME),
            )
        if name in seen:
            raise DataError(
                f"both {seen[name].name} and {path.name} override {name}; keep one of them",
                file=path,
            )
        seen[name] = path
        text = _override_text(path)
        digest.update(name.encode() + b"\0" + text.encode())
        content = parse_yaml_lines(text, str(path))
        replace = False
        if not FILES_BY_NAME[name].single and isinstance(content, LineMap):
            replace, content = _replace_form(content, str(path))
        _add_file(tables[name], content, str(path), replace=replace)
    return digest.hexdigest()[:8]


def _override_text(path: Path) -> str:
    """The text of override file ``path``: at most ``MAX_BYTES`` bytes of UTF-8."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise DataError(f"cannot read override file: {exc.strerror}", file=path) from None
    if len(raw) > MAX_BYTES:
        raise DataError(f"file is larger than {MAX_BYTES} bytes", file=path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"not UTF-8 text ({exc.reason})", file=path, line=line) from None


def _replace_form(content: LineMap, file: str) -> tuple[bool, Any]:
    unknown = set(content) - {"replace", "records"}
    if unknown or not isinstance(content.get("replace"), bool) or "records" not in content:
        raise DataError(
            "a list file must be a YAML list, or a mapping {replace: true, records: [...]}",
            file=file,
            line=content.line,
        )
    if not isinstance(content["records"], list):
        raise DataError(
            "'records' must be a YAML list of records (write [] for none)",
            file=file,
            line=content.line_of("records"),
            field="records",
        )
    return bool(content["replace"]), content["records"]


def _add_file(table: _Table, content: Any, file: str, *, replace: bool) -> None:
    if content is None:
        content = LineMap() if table.spec.single else []
    if table.spec.single:
        if not isinstance(content, LineMap):
            raise DataError("expected a YAML mapping", file=file, line=1)
        table.parts.append(_Record(content, file))
        return
    if not isinstance(content, list):
        line = content.line if isinstance(content, LineMap) else 1
        raise DataError("expected a YAML list of records", file=file, line=line)
    if replace:
        table.records = []
    seen: dict[Key, int] = {}
    position = {_key(table.spec, record.data): i for i, record in enumerate(table.records)}
    for index, item in enumerate(content):
        if not isinstance(item, LineMap):
            at = content.line_of(index) if isinstance(content, LineList) else None
            raise DataError("each record must be a YAML mapping", file=file, line=at)
        key = _plain_key(table.spec, item, file)
        if key in seen:
            raise DataError(
                f"duplicate record (first at line {seen[key]})",
                file=file,
                line=item.line,
                record=table.spec.label(item),
                field="id" if "id" in item else None,
            )
        seen[key] = item.line
        record = _Record(item, file)
        if key in position:
            table.records[position[key]] = record
        else:
            position[key] = len(table.records)
            table.records.append(record)


def _key(spec: RecordFile, data: LineMap) -> Key:
    assert spec.key is not None
    return spec.key(data)


def _plain_key(spec: RecordFile, data: LineMap, file: str) -> Key:
    """The key of override record ``data``, refusing lists and mappings where names belong."""
    key = _key(spec, data)
    for name, value in data.items():
        if isinstance(value, list | dict) and any(value is part for part in key):
            raise DataError(
                "must be a plain value: it identifies the record",
                file=file,
                line=data.line_of(name),
                field=str(name),
            )
    return key


def _build(tables: dict[str, _Table], digest: str | None, vintage: str) -> World:
    values: dict[str, Any] = {}
    index: dict[str, _Record] = {}
    for name, table in tables.items():
        spec = table.spec
        if spec.single:
            merged = _merge_parts(table.parts)
            values[spec.field] = _validate(spec, merged)
            index.setdefault(spec.field, merged)
            continue
        models = []
        for record in table.records:
            models.append(_validate(spec, record))
            for alias in _aliases(spec, record.data):
                index.setdefault(alias, record)
        values[spec.field] = tuple(models)
        first = table.records[0] if table.records else _Record(LineMap(), name)
        index.setdefault(f"@{name}", first)
    if digest is not None and not any("version" in p.data for p in tables["world.yaml"].parts[1:]):
        provenance = values["provenance"]
        values["provenance"] = provenance.model_copy(
            update={"version": f"{provenance.version}+override.{digest}"}
        )
    try:
        return World(**values, vintage=vintage)
    except ValidationError as error:
        cause = _data_error_in(error)
        if cause is None:
            raise DataError(_message(error.errors()[0]["msg"])) from None
        raise _locate(cause, index) from None
    except DataError as error:
        raise _locate(error, index) from None


def _merge_parts(parts: list[_Record]) -> _Record:
    merged = LineMap()
    key_files: dict[Any, str] = {}
    for part in parts:
        for key, value in part.data.items():
            merged[key] = value
            merged.key_lines[key] = part.data.line_of(key)
            key_files[key] = part.file
        merged.line = part.data.line
    return _Record(merged, parts[-1].file if parts else "", key_files)


def _aliases(spec: RecordFile, data: LineMap) -> list[str]:
    aliases = [spec.label(data)]
    if spec.field == "demand":
        aliases.append(f"{data.get('region')}/{data.get('sector')}")
    for name in ("country", "region"):
        if name in data and spec.field not in ("facilities", "deposits"):
            aliases.append(str(data[name]))
    return aliases


def _validate(spec: RecordFile, record: _Record) -> BaseModel:
    data = record.data
    try:
        return spec.model.model_validate(dict(data))
    except ValidationError as error:
        details = error.errors()
        first = details[0]
        loc = [str(part) for part in first["loc"]]
        top = first["loc"][0] if first["loc"] else _field_named_in(first["msg"], data)
        field_name = ".".join(loc) if loc else (str(top) if top is not None else None)
        more = f" (and {len(details) - 1} more error(s) in this record)" if len(details) > 1 else ""
        raise DataError(
            _message(first["msg"]) + more,
            file=record.key_files.get(top, record.file),
            line=data.line_of(top) if top is not None else data.line,
            record=spec.label(data) or None,
            field=field_name,
            suggestion=_suggest(first),
        ) from None


def _field_named_in(message: str, data: LineMap) -> Any:
    for key in data:
        if re.search(rf"\b{re.escape(str(key))}\b", message):
            return key
    return None


def _message(text: str) -> str:
    return text.removeprefix("Value error, ")


def _suggest(detail: Any) -> str | None:
    given = detail.get("input")
    expected = (detail.get("ctx") or {}).get("expected")
    if detail.get("type") != "literal_error" or not isinstance(given, str) or not expected:
        return None
    return closest_name(given, _QUOTED.findall(str(expected)))


def _data_error_in(error: ValidationError) -> DataError | None:
    for detail in error.errors():
        cause = (detail.get("ctx") or {}).get("error")
        if isinstance(cause, DataError):
            return cause
    return None


def _locate(error: DataError, index: dict[str, _Record]) -> DataError:
    record = index.get(error.record) if error.record else None
    if record is None and "is_china" in error.message:
        record = index.get("@regions.yaml")
    if record is None:
        return error
    return DataError(
        error.message,
        file=record.key_files.get(error.field, record.file),
        line=record.data.line_of(error.field) if error.field else record.data.line,
        record=error.record,
        field=error.field,
        suggestion=error.suggestion,
    )
