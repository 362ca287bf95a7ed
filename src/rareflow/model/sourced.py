"""Base class for every data record: each number must carry a source or a stated assumption."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator


class Sourced(BaseModel):
    """A record whose figures come from ``source`` or, failing that, a stated ``assumption``.

    ``source`` names publication, year and table/page; ``assumption`` says why a figure is our own
    estimate. At least one must be present; both may be (a sourced figure adjusted by us).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str | None = None
    assumption: str | None = None

    @model_validator(mode="after")
    def _require_provenance(self) -> Sourced:
        if not (self.source or self.assumption):
            raise ValueError("every record needs a 'source' (publication, year, table/page) "
                             "or an 'assumption' saying why the figure is ours")
        return self
