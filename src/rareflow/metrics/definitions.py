"""The names of the metric definitions that tables print beside each number (docs/reliance.md)."""

from __future__ import annotations

from typing import Final

#: Net import reliance of one traded product (oxide, metal or magnets), USGS formula.
DEF_STAGE: Final[str] = "per stage: USGS formula on one traded product"
#: Net import reliance on the USGS MCS scope.
DEF_USGS: Final[str] = "USGS MCS scope: compounds and metals (separated oxide + metal)"
#: Net import reliance counting the element content of magnets.
DEF_EMBEDDED: Final[str] = "embedded: oxide + metal + element content of magnets"
#: The China-origin part of embedded net imports.
DEF_EMBEDDED_ORIGIN: Final[str] = "embedded, China-origin tag (kept through re-export)"
#: Self-sufficiency counted by origin.
DEF_TRUSTED: Final[str] = "trusted supply by origin tag (China-origin never domestic or allied)"
#: Supplier shares traced to the producing country.
DEF_TRACED: Final[str] = "traced to the producing country under the rule of origin"
#: Stockpile cover against embedded use.
DEF_COVER: Final[str] = "year-end stock over embedded use (oxide + metal + magnet content)"
