"""Griffe extension for the documentation build: reST roles in docstrings become Markdown code.

rareflow's docstrings cross-reference with reST roles (:func:`name`, :class:`~pkg.Name`);
mkdocstrings renders docstrings as Markdown, where those would show literally.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?[a-z]+:`~?([^`]+)`")


class RestRoles(griffe.Extension):
    """Rewrite ``:role:`target``` as ```target``` in every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Called for every module, class, function and attribute griffe loads."""
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(r"`\1`", obj.docstring.value)
