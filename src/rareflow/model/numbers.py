"""The one number type of every input schema: finite and of plausible magnitude.

World data records, scenario instruments, uncertainty distributions and web levers all declare
their real-valued fields as :data:`Real`, so NaN, ±inf and absurd magnitudes (``1e300``) are
refused once, at the type level, with an error that the loaders locate like any other.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import AfterValidator, Field

#: Largest magnitude any input number may have. The biggest real figures are tonnages (~1e6 t)
#: and budgets in USD (~1e10); anything above this is a typo or an attack, not data.
MAX_MAGNITUDE = 1e12


def check_magnitude(value: float) -> float:
    """Return ``value`` if it is finite and at most :data:`MAX_MAGNITUDE` in size, else raise."""
    if not math.isfinite(value):
        raise ValueError(f"{value} is not a finite number")
    if abs(value) > MAX_MAGNITUDE:
        raise ValueError(f"{value:g} is implausibly large (the limit is ±{MAX_MAGNITUDE:g})")
    return value


#: A finite float of at most :data:`MAX_MAGNITUDE` in size; use it instead of ``float`` in schemas.
Real = Annotated[float, Field(allow_inf_nan=False), AfterValidator(check_magnitude)]

__all__ = ["MAX_MAGNITUDE", "Real", "check_magnitude"]
