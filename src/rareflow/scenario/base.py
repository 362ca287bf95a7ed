"""Base model of the scenario language: strict fields with a suggestion for every misspelt name."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from rareflow.model.errors import closest_name

#: Pattern of ids written in scenarios (policy, facility and sector ids).
ID_PATTERN = r"^[a-z0-9][a-z0-9_]*$"


def field_keys(model: type[BaseModel]) -> list[str]:
    """Keys accepted in YAML for ``model``: each field's alias if it has one, else its name."""
    return [info.alias or name for name, info in model.model_fields.items()]


class StrictModel(BaseModel):
    """A frozen pydantic model that rejects unknown keys, naming the closest valid key.

    The rejection is a ``unknown_field`` error whose context carries ``at`` (the offending key) and
    ``suggestion``, so the scenario loader can point at the exact line of the misspelt key.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            valid = field_keys(cls)
            accepted = set(valid) | set(cls.model_fields)
            for key in data:
                if key not in accepted:
                    raise PydanticCustomError(
                        "unknown_field",
                        "unknown field '{at}'",
                        {"at": str(key), "suggestion": closest_name(str(key), valid) or ""},
                    )
        return data


def located_error(at: str, message: str, suggestion: str | None = None) -> PydanticCustomError:
    """A validation error located ``at`` a dotted sub-path of the model being validated.

    The loader appends ``at`` (e.g. ``"by_facility.mp_10x_magnets"``) to the error's location to
    find the YAML line; ``suggestion`` is the closest valid name, if any.
    """
    return PydanticCustomError(
        "located",
        "{message}",
        {"at": at, "message": message, "suggestion": suggestion or ""},
    )
