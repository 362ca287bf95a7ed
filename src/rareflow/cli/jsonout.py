"""The one way every ``rareflow`` command prints JSON: strict JSON, ``null`` for NaN and ±inf.

Python's :func:`json.dumps` writes ``NaN`` and ``Infinity`` by default, which no strict JSON
parser accepts; :func:`to_json` replaces every non-finite number with ``null`` first.
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any


def finite_or_none(data: Any) -> Any:
    """``data`` with every NaN or ±inf number (in nested dicts, lists, tuples) as ``None``."""
    if isinstance(data, dict):
        return {key: finite_or_none(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [finite_or_none(value) for value in data]
    if isinstance(data, numbers.Real) and not isinstance(data, numbers.Integral):
        return data if math.isfinite(float(data)) else None
    return data


def to_json(data: Any, *, indent: int | None = None, ensure_ascii: bool = True) -> str:
    """``data`` as strict JSON text: non-finite numbers become ``null``, other objects ``str``."""
    return json.dumps(finite_or_none(data), indent=indent, ensure_ascii=ensure_ascii,
                      default=str, allow_nan=False)
