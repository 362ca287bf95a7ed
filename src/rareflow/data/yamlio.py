"""Safe YAML reading that remembers where every mapping and key came from.

Only plain YAML data is built (``yaml.SafeLoader``: no Python objects, no code). Each mapping is
returned as a :class:`LineMap` — an ordinary ``dict`` that also knows the line of the mapping and
of each of its keys — so that validation errors can point at ``file:line``.
"""

from __future__ import annotations

from typing import Any

import yaml

from rareflow.model.errors import DataError


class LineMap(dict[Any, Any]):
    """A ``dict`` read from YAML with ``line`` (1-based) and ``key_lines`` (key → line)."""

    line: int = 0
    key_lines: dict[Any, int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines = {}

    def line_of(self, key: Any) -> int:
        """Line of ``key`` in the file, or of the mapping itself when the key is absent."""
        return self.key_lines.get(key, self.line)


class _LineLoader(yaml.SafeLoader):
    """A safe loader whose mappings are :class:`LineMap` and which rejects repeated keys."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Any:
    data = LineMap()
    data.line = node.start_mark.line + 1
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in data:
            raise DataError(
                f"key '{key}' appears twice in one mapping", line=key_node.start_mark.line + 1
            )
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = key_node.start_mark.line + 1


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(text: str, file: str) -> Any:
    """Parse ``text`` (named ``file`` in messages) safely, keeping line numbers.

    Raises :class:`DataError` naming the file and line for syntax errors and repeated keys.
    """
    try:
        return yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass: plain data only
    except DataError as error:
        raise DataError(error.message, file=file, line=error.line) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        raise DataError(f"invalid YAML: {error.problem or error}", file=file, line=line) from None
    except yaml.YAMLError as error:
        raise DataError(f"invalid YAML: {error}", file=file) from None
