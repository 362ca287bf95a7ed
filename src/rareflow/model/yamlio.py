"""The one YAML reader: safe, and it remembers the file and line of every value.

Only plain YAML is accepted: mappings, sequences, strings, numbers, booleans, null and dates.
Any other tag (``!!python/object``, ``!custom``...) is refused, as are duplicate keys and
documents with more than :data:`MAX_NODES` nodes (alias bombs).

Two views of the same reading: :func:`read_yaml` / :func:`parse_yaml` return plain data and a
:class:`SourceMap` (path from the root -> file and line; the scenario loader), and
:func:`parse_yaml_lines` returns data whose mappings are :class:`LineMap` dicts that know their
own line and their keys' lines, and whose sequences are :class:`LineList` lists that know their
items' lines (the world-data loader).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rareflow.model.errors import DataError

Path_ = tuple[str | int, ...]

MAX_NODES = 100_000
MAX_BYTES = 1_000_000

_TAG = "tag:yaml.org,2002:"
SCALAR_TAGS = {f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")}
MAP_TAG = f"{_TAG}map"
SEQ_TAG = f"{_TAG}seq"
MERGE_TAG = f"{_TAG}merge"
_SURROGATE = re.compile("[\ud800-\udfff]")


class LineMap(dict[Any, Any]):
    """A ``dict`` read from YAML with ``line`` (1-based) and ``key_lines`` (key -> line)."""

    line: int = 0
    key_lines: dict[Any, int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines = {}

    def line_of(self, key: Any) -> int:
        """Line of ``key`` in the file, or of the mapping itself when the key is absent."""
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A ``list`` read from YAML with ``line`` (1-based) and ``item_lines`` (index -> line)."""

    line: int = 0
    item_lines: list[int]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.item_lines = []

    def line_of(self, index: int) -> int:
        """Line of item ``index`` in the file, or of the list itself when there is none."""
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


@dataclass
class SourceMap:
    """File and line (1-based) of each value, keyed by its path from the document root.

    The root path ``()`` maps to the file's first line; :meth:`locate` falls back to the
    nearest enclosing path, so errors about missing keys point at the mapping that lacks them.
    """

    lines: dict[Path_, tuple[Path, int]] = field(default_factory=dict)

    def locate(self, path: Path_) -> tuple[Path | None, int | None]:
        """File and line of ``path`` or of its closest recorded ancestor."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(tuple(path[:end]))
            if found:
                return found
        return None, None

    def subtree(self, prefix: Path_) -> dict[Path_, tuple[Path, int]]:
        """Entries at ``prefix`` and below, keyed by their path relative to ``prefix``."""
        size = len(prefix)
        return {p[size:]: v for p, v in self.lines.items() if p[:size] == prefix}

    def graft(self, prefix: Path_, entries: dict[Path_, tuple[Path, int]]) -> None:
        """Record ``entries`` (relative paths) under ``prefix``, replacing what was there."""
        size = len(prefix)
        for key in [p for p in self.lines if p[:size] == prefix]:
            del self.lines[key]
        for relative, where in entries.items():
            self.lines[prefix + relative] = where


def read_yaml(path: Path) -> tuple[Any, SourceMap]:
    """Read ``path`` safely, returning plain data and a :class:`SourceMap`."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataError(f"cannot read scenario: {exc.strerror}", file=path) from None
    if size > MAX_BYTES:
        raise DataError(f"file is larger than {MAX_BYTES} bytes", file=path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason})", file=path) from None
    return parse_yaml(text, path)


def parse_yaml(text: str, path: Path) -> tuple[Any, SourceMap]:
    """Parse YAML ``text`` (attributed to ``path``) into plain data and a :class:`SourceMap`."""
    source = SourceMap()
    return _parse(text, path, source, line_maps=False), source


def parse_yaml_lines(text: str, file: str | Path) -> Any:
    """Parse YAML ``text`` (``file`` in messages) into :class:`LineMap` / :class:`LineList` data."""
    return _parse(text, file, SourceMap(), line_maps=True)


def _parse(text: str, path: str | Path, source: SourceMap, *, line_maps: bool) -> Any:
    """Parse ``text`` safely, recording lines into ``source``; errors name ``path`` and a line."""
    try:
        loader = yaml.SafeLoader(text)  # checks the characters first: NUL, control codes...
    except yaml.reader.ReaderError as exc:
        raise DataError(
            f"invalid YAML: character {exc.character:#06x} is not allowed",
            file=path,
            line=text.count("\n", 0, max(exc.position, 0)) + 1,
        ) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _Walker(loader, path, source, line_maps).value(node, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or str(exc)
        raise DataError(f"invalid YAML: {problem}", file=path, line=line) from None
    except yaml.YAMLError as exc:
        raise DataError(f"invalid YAML: {exc}", file=path) from None
    finally:
        loader.dispose()


class _Walker:
    """Turns composed YAML nodes into plain data, recording lines and refusing unsafe tags."""

    def __init__(
        self, loader: yaml.SafeLoader, file: str | Path, source: SourceMap, line_maps: bool
    ) -> None:
        self.loader = loader
        self.file = file
        self.path = Path(file)
        self.source = source
        self.line_maps = line_maps
        self.count = 0

    def _error(self, message: str, node: Node, at: Path_) -> DataError:
        field_name = ".".join(str(part) for part in at) or None
        return DataError(message, file=self.file, line=node.start_mark.line + 1, field=field_name)

    def value(self, node: Node, at: Path_, record: bool = True) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self._error(f"document has more than {MAX_NODES} values", node, at)
        if record:
            self.source.lines[at] = (self.path, node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            return self._mapping(node, at)
        if isinstance(node, SequenceNode):
            if node.tag != SEQ_TAG:
                raise self._error(f"invalid YAML: tag '{node.tag}' is not allowed", node, at)
            items = [self.value(item, (*at, index)) for index, item in enumerate(node.value)]
            if not self.line_maps:
                return items
            lines = LineList(items)
            lines.line = node.start_mark.line + 1
            lines.item_lines = [item.start_mark.line + 1 for item in node.value]
            return lines
        if isinstance(node, ScalarNode):
            return self._scalar(node, at)
        raise self._error("unsupported YAML node", node, at)

    def _scalar(self, node: ScalarNode, at: Path_) -> Any:
        if node.tag not in SCALAR_TAGS:
            raise self._error(
                f"invalid YAML: tag '{node.tag}' is not allowed (only plain YAML values)", node, at
            )
        try:
            value = self.loader.construct_object(node)
        except (ValueError, OverflowError) as exc:  # e.g. 2025-02-30 or 0000-01-01
            kind = "date" if node.tag.endswith("timestamp") else "value"
            raise self._error(f"'{node.value}' is not a valid {kind} ({exc})", node, at) from None
        if isinstance(value, str) and _SURROGATE.search(value):
            raise self._error(
                "text holds a lone UTF-16 surrogate escape (\\ud800-\\udfff), which is not a "
                "character",
                node,
                at,
            )
        return value

    def _mapping(self, node: MappingNode, at: Path_) -> dict[Any, Any]:
        if node.tag != MAP_TAG:
            raise self._error(f"invalid YAML: tag '{node.tag}' is not allowed", node, at)
        own: set[Any] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode):
                raise self._error("mapping keys must be plain values", key_node, at)
            if key_node.tag == MERGE_TAG:
                continue
            key = self._key(key_node, at)
            if key in own:
                raise self._error(
                    f"duplicate key '{key}' (it appears twice in one mapping)",
                    key_node,
                    (*at, key),
                )
            own.add(key)
        self.loader.flatten_mapping(node)  # '<<' merge keys: merged pairs first, own pairs win
        result: dict[Any, Any] = LineMap() if self.line_maps else {}
        if isinstance(result, LineMap):
            result.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = self._key(key_node, at)
            line = key_node.start_mark.line + 1
            self.source.lines[(*at, key)] = (self.path, line)
            result[key] = self.value(value_node, (*at, key), record=False)
            if isinstance(result, LineMap):
                result.key_lines[key] = line
        return result

    def _key(self, node: ScalarNode, at: Path_) -> Any:
        key = self._scalar(node, at)
        if isinstance(key, dt.date) or key is None or isinstance(key, float):
            return str(key)
        return key


def dump_yaml(data: Any) -> str:
    """Plain data as block-style YAML, keys in insertion order."""
    return yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )
