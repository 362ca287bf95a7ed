"""The dashboard's static files: a fixed list, never a path taken from a request.

The page's own files ship in ``rareflow/web/static``; Plotly.js is the ``plotly.min.js`` bundled
in the plotly Python package (the same build the HTML report embeds), so nothing is fetched
from a CDN.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True)
class Asset:
    """A file the server may send: where it is, its media type and how long browsers keep it."""

    path: Path
    media_type: str
    cache_control: str


def plotly_js() -> Path:
    """Path of the ``plotly.min.js`` shipped with the plotly package."""
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


def assets() -> dict[str, Asset]:
    """Every file under ``/static/``, by name."""
    own = "no-cache"
    return {
        "app.js": Asset(STATIC_DIR / "app.js", "text/javascript; charset=utf-8", own),
        "app.css": Asset(STATIC_DIR / "app.css", "text/css; charset=utf-8", own),
        "favicon.svg": Asset(STATIC_DIR / "favicon.svg", "image/svg+xml", own),
        "plotly.min.js": Asset(
            plotly_js(), "text/javascript; charset=utf-8", "public, max-age=86400"
        ),
    }


def index_page() -> Path:
    """The dashboard's single HTML page."""
    return STATIC_DIR / "index.html"
