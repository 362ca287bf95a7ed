"""Shared look of every report figure: fonts, margins, colours and the common layout."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

FONT_FAMILY = (
    "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
)

#: Colour-blind-friendly qualitative palette (Okabe–Ito, then Tableau extras).
PALETTE: tuple[str, ...] = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
    "#4E79A7", "#9C755F", "#B07AA1",
)

#: China is always drawn in the same red.
CHINA_COLOUR = "#C0392B"
NEUTRAL_COLOUR = "#9AA0A6"


def colour(index: int) -> str:
    """The ``index``-th palette colour (cycling)."""
    return PALETTE[index % len(PALETTE)]


def with_alpha(hex_colour: str, alpha: float) -> str:
    """``#RRGGBB`` as an ``rgba(...)`` string with the given opacity."""
    text = hex_colour.lstrip("#")
    red, green, blue = (int(text[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red},{green},{blue},{alpha:g})"


def base_layout(
    fig: go.Figure, title: str, *, x_title: str | None = None, y_title: str | None = None,
    height: int = 460,
) -> go.Figure:
    """Apply the report's common layout (white template, fonts, legend below) to ``fig``."""
    fig.update_layout(
        template="plotly_white",
        title={"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 17}},
        font={"family": FONT_FAMILY, "size": 13, "color": "#1F2933"},
        height=height,
        margin={"l": 70, "r": 30, "t": 70, "b": 60},
        legend={"orientation": "h", "yanchor": "top", "y": -0.14, "x": 0.0},
        hoverlabel={"font": {"family": FONT_FAMILY}},
    )
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    return fig


def year_axis(fig: go.Figure, years: Sequence[int]) -> go.Figure:
    """Format the x axis as whole calendar years (a tick every 1, 2 or 5 years)."""
    span = (max(years) - min(years)) if years else 0
    step = 1 if span <= 12 else 2 if span <= 26 else 5
    fig.update_xaxes(tickformat="d", tick0=min(years) if years else 0, dtick=step,
                     showgrid=True, zeroline=False)
    return fig
