"""The dashboard's glossary as data, read from the page that shows it.

The dashboard (``static/index.html``) holds the glossary its users see; the documentation's
glossary page starts from the same terms (:func:`dashboard_terms`), so a term is defined in one
place, and adds the terms only the documentation needs.
"""

from __future__ import annotations

from html.parser import HTMLParser
from importlib import resources


class _GlossaryParser(HTMLParser):
    """Collects the ``<dt>``/``<dd>`` pairs inside ``<details id="glossary">``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.terms: list[tuple[str, str]] = []
        self._inside = False
        self._tag: str | None = None
        self._text: list[str] = []
        self._term = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "details" and ("id", "glossary") in attrs:
            self._inside = True
        elif self._inside and tag in ("dt", "dd"):
            self._tag, self._text = tag, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self._inside = False
        elif self._inside and tag == self._tag:
            text = " ".join("".join(self._text).split())
            if tag == "dt":
                self._term = text
            else:
                self.terms.append((self._term, text))
            self._tag = None

    def handle_data(self, data: str) -> None:
        if self._tag is not None:
            self._text.append(data)


def dashboard_terms() -> list[tuple[str, str]]:
    """The dashboard glossary's (term, definition) pairs, in the page's order."""
    page = resources.files("rareflow.web").joinpath("static", "index.html")
    parser = _GlossaryParser()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.terms
