"""The validation page: backtests beside the record as markdown with SVG charts, or one HTML file.

``docs/validation.md`` (and its charts ``docs/validation-<series>.svg``) is generated; regenerate
it after changing data or behaviour::

    python -m rareflow.runs.validation_page docs

(``rareflow validate --docs docs`` does the same). A test fails when the committed page and a
fresh run disagree. ``rareflow validate --out page.html`` writes the same content as one
self-contained HTML file (charts inline).
"""

from __future__ import annotations

import html
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

from rareflow.data.history import RECORD_FILE, bundled_commentary
from rareflow.runs.validation import Backtest, Movement, SeriesComparison, run_backtests

PAGE_TITLE = "Validation: the model against history"
#: Renders the page's markdown text in HTML; raw HTML in it is escaped, not passed on.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
#: What the summary table's columns mean.
SUMMARY_NOTE = ("years: years with both a record and a model value; mean error: the mean of "
                "|model − record| / record over them; record, model: the peak value as a "
                "multiple of the base year's (the run's first year, or the record's last year "
                "before it), with its year, then the last year's multiple.")


@dataclass(frozen=True)
class Table:
    """A table of the page: header cells and rows of text cells."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    align: str = ""  # one letter per column: l or r (default: first l, others r)


@dataclass(frozen=True)
class Chart:
    """An SVG chart of the page: its file name (in markdown) and its text."""

    name: str
    title: str
    svg: str


Block = tuple[str, str] | Table | Chart  # ("h1" | "h2" | "h3" | "p" | "md", text)


def number(value: float | None) -> str:
    """A value as the page prints it: thousands separated, two to three significant figures."""
    if value is None:
        return "—"
    size = abs(value)
    if size >= 100:
        return _unsigned_zero(f"{value:,.0f}")
    return _unsigned_zero(f"{value:.1f}" if size >= 10 else f"{value:.2f}")


def percent(share: float | None) -> str:
    """A share as a signed percentage ('—' when there is none; '+0%' when it rounds to 0)."""
    if share is None:
        return "—"
    text = f"{share:+.0%}"
    return "+0%" if text == "-0%" else text


def _unsigned_zero(text: str) -> str:
    """``text`` without the minus of a value that rounds to zero ('-0.00' is '0.00').

    Solver round-off leaves differences such as −1e−9 t, whose sign differs between machines.
    """
    return text[1:] if text.startswith("-") and not any(c in text for c in "123456789") else text


def multiple(movement: Movement | None) -> str:
    """Peak multiple and its year, and the end multiple, of a movement."""
    if movement is None:
        return "—"
    return (f"×{movement.peak_multiple:.1f} {movement.peak_year}, "
            f"×{movement.end_multiple:.1f} {movement.end_year} (vs {movement.start_year})")


def series_table(comparison: SeriesComparison) -> Table:
    """Year by year: record, model, model − record and the error in % of the record."""
    rows = []
    for row in comparison.rows:
        source = ""
        if row.point is not None:
            source = row.point.source or f"assumption: {row.point.assumption}"
        rows.append((str(row.year), number(row.record), number(row.model), number(row.error),
                     percent(row.error_share), source))
    return Table(("year", "record", "model", "model − record", "error", "record source"),
                 tuple(rows), "lrrrrl")


def summary_table(backtest: Backtest) -> Table:
    """One row per series: years compared, mean error, and the record's and model's movement."""
    rows = []
    start = backtest.years[0]
    for comparison in backtest.comparisons:
        mean = comparison.mean_abs_error_share
        rows.append((comparison.series.id, comparison.series.unit,
                     str(len(comparison.compared)),
                     "—" if mean is None else f"{mean:.0%}",
                     multiple(Movement.of(comparison.path("record"), start)),
                     multiple(Movement.of(comparison.path("model"), start))))
    return Table(("series", "unit", "years", "mean error", "record", "model"), tuple(rows),
                 "llrrll")


def two_tier_table(backtest: Backtest) -> Table | None:
    """Per element priced in both markets: how far each market's price rose (the two tiers)."""
    pairs: dict[tuple[str, str], dict[str, SeriesComparison]] = {}
    for comparison in backtest.comparisons:
        series = comparison.series
        if series.aggregation != "market_price" or series.id.endswith("_yearend"):
            continue
        key = (str(series.select["element"]), str(series.select["stage"]))
        pairs.setdefault(key, {})[str(series.select["region"])] = comparison
    rows = []
    start = backtest.years[0]
    for (element, _), markets in sorted(pairs.items()):
        inside, outside = markets.get("china"), markets.get("outside_china")
        if inside is None or outside is None:
            continue
        model_in, model_out = inside.path("model"), outside.path("model")
        peak_out = Movement.of(model_out, start)
        peak_in = Movement.of(model_in, start)
        if peak_out is None or peak_in is None:
            continue
        year = peak_out.peak_year
        gap = model_out[year] / model_in[year] if model_in.get(year) else None
        start_gap = model_out[start] / model_in[start] if model_in.get(start) else None
        record_gap = _record_gap(inside, outside)
        rows.append((element, f"×{peak_out.peak_multiple:.1f} ({peak_out.peak_year})",
                     f"×{peak_in.peak_multiple:.1f} ({peak_in.peak_year})",
                     "—" if start_gap is None else f"{start_gap:.2f}",
                     "—" if gap is None else f"{gap:.2f} ({year})", record_gap))
    if not rows:
        return None
    return Table(("element", "model outside China", "model in China",
                  f"model ratio {start}", "model ratio at peak", "record ratio"),
                 tuple(rows), "lrrrrl")


def _record_gap(inside: SeriesComparison, outside: SeriesComparison) -> str:
    """The record's outside/inside price ratio in the years both markets are recorded."""
    record_in, record_out = inside.path("record"), outside.path("record")
    years = sorted(set(record_in) & set(record_out))
    if not years:
        return "— (no year with both)"
    return "; ".join(f"{record_out[y] / record_in[y]:.2f} ({y})" for y in years
                     if record_in[y] > 0)


def line_chart(comparison: SeriesComparison) -> str:
    """An SVG chart of one series: the record (dots, dashed) and the model (solid line)."""
    width, height, left, right, top, bottom = 640, 240, 64, 16, 28, 40
    record, model = comparison.path("record"), comparison.path("model")
    years = sorted(set(record) | set(model))
    if not years:
        years = [0]
    step = nice_step(max([*record.values(), *model.values(), 1e-9]) / 4)
    top_value = step * math.ceil(max([*record.values(), *model.values(), 1e-9]) / step)
    span = max(years[-1] - years[0], 1)

    def x(year: int) -> float:
        return left + (width - left - right) * (year - years[0]) / span

    def y(value: float) -> float:
        return top + (height - top - bottom) * (1 - value / top_value)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'font-family="sans-serif" font-size="11">',
             f'<text x="{left}" y="16" font-weight="bold">{html.escape(comparison.series.title)}'
             f' ({html.escape(comparison.series.unit)})</text>',
             f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" '
             'stroke="#999"/>']
    for tick in range(round(top_value / step) + 1):
        value = tick * step
        parts.append(f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end">'
                     f'{html.escape(number(value))}</text>')
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" '
                     f'y2="{y(value):.1f}" stroke="#eee"/>')
    for year in years:
        parts.append(f'<text x="{x(year):.1f}" y="{height - bottom + 16}" '
                     f'text-anchor="middle">{year}</text>')
    for path, colour, dash in ((model, "#2c6fbb", ""), (record, "#222", ' stroke-dasharray="5 3"')):
        ordered = sorted(path.items())
        if len(ordered) > 1:
            points = " ".join(f"{x(year):.1f},{y(value):.1f}" for year, value in ordered)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                         f'stroke-width="2"{dash}/>')
        for year, value in ordered:
            parts.append(f'<circle cx="{x(year):.1f}" cy="{y(value):.1f}" r="3" '
                         f'fill="{colour}"/>')
    parts += [f'<text x="{left}" y="{height - 6}">solid blue: model; dashed black: '
              'historical record</text>', "</svg>", ""]
    return "\n".join(parts)


def nice_step(rough: float) -> float:
    """The tick step of 1, 2 or 5 × a power of ten nearest above ``rough``."""
    power = 10.0 ** math.floor(math.log10(rough))
    return next(factor * power for factor in (1.0, 2.0, 5.0, 10.0) if factor * power >= rough)


def chart_name(comparison: SeriesComparison) -> str:
    """File name of a series' chart next to the page."""
    return f"validation-{comparison.series.id}.svg"


def blocks(backtests: Sequence[Backtest], commentary: str | None = None) -> list[Block]:
    """The page's content, in order, for either renderer."""
    out: list[Block] = [
        ("h1", PAGE_TITLE),
        ("md", "<!-- Generated by `python -m rareflow.runs.validation_page docs` (or "
               "`rareflow validate --docs docs`) from the bundled backtests; edit the data, "
               "the record or the code, not this page. -->"),
        ("p", "Each bundled `backtest-*` scenario runs on the world of its own base year, with "
              "the same behaviour (elasticities, curve shapes, inventory and substitution rules) "
              "as every other run; only sourced data differs between worlds. Nothing is fitted "
              f"to the record it is compared with (`src/rareflow/data/{RECORD_FILE}`, cited "
              "point by point). Errors are model − record and that difference over the record. "
              "Record years before a run's first year are shown as context."),
    ]
    if not backtests:
        out.append(("p", "No backtest scenario is bundled."))
    for backtest in backtests:
        out += [("h2", f"{backtest.scenario} (world {backtest.world}, "
                       f"{backtest.years[0]}–{backtest.years[-1]})"),
                ("p", backtest.description),
                ("h3", "Summary"),
                ("p", SUMMARY_NOTE), summary_table(backtest)]
        tiers = two_tier_table(backtest)
        if tiers is not None:
            out += [("h3", "Two tiers: prices outside China against prices in China"),
                    ("p", "Model outside China, in China: the peak price over the price in "
                          f"{backtest.years[0]} (annual means of the model's market prices), "
                          "with the peak year. Ratio: the price outside China over the price in "
                          f"China, in {backtest.years[0]} and in the year of the outside peak; "
                          "the record's in each year both markets are recorded."),
                    tiers]
        for comparison in backtest.comparisons:
            out += [("h3", comparison.series.title)]
            if comparison.series.note:
                out.append(("p", comparison.series.note))
            out += [Chart(chart_name(comparison), comparison.series.title,
                          line_chart(comparison)), series_table(comparison)]
        if backtest.missing:
            out.append(("p", "Series with no record in the run's years: "
                             + ", ".join(f"`{name}`" for name in backtest.missing) + "."))
    if commentary:
        out += [("h2", "What the backtest shows"), ("md", commentary.strip())]
    return out


def markdown(content: Sequence[Block]) -> str:
    """The page as markdown (charts as image links to their files)."""
    lines: list[str] = []
    for block in content:
        if isinstance(block, Table):
            align = block.align or "l" + "r" * (len(block.header) - 1)
            lines += ["| " + " | ".join(block.header) + " |",
                      "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
            lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
                      for row in block.rows]
        elif isinstance(block, Chart):
            lines.append(f"![{block.title}]({block.name})")
        else:
            kind, text = block
            prefix = {"h1": "# ", "h2": "## ", "h3": "### "}.get(kind, "")
            lines.append(prefix + text)
        lines.append("")
    return "\n".join(lines)


def html_page(content: Sequence[Block]) -> str:
    """The page as one self-contained HTML file (charts inline, no scripts)."""
    body: list[str] = []
    for block in content:
        if isinstance(block, Table):
            align = block.align or "l" + "r" * (len(block.header) - 1)
            head = "".join(f"<th>{html.escape(cell)}</th>" for cell in block.header)
            rows = "".join(
                "<tr>" + "".join(f'<td class="{a}">{html.escape(cell)}</td>'
                                 for a, cell in zip(align, row, strict=True)) + "</tr>"
                for row in block.rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif isinstance(block, Chart):
            body.append(f'<figure>{block.svg}</figure>')
        else:
            kind, text = block
            if kind == "md":
                if not text.startswith("<!--"):
                    # commentary is our own bundled markdown; raw HTML in it is not passed on
                    body.append(_MARKDOWN.render(text))
                continue
            if kind in ("h1", "h2", "h3"):
                body.append(f"<{kind}>{html.escape(text)}</{kind}>")
            else:  # paragraphs are markdown too (code spans); raw HTML is escaped
                body.append(f"<p>{_MARKDOWN.renderInline(text)}</p>")
    style = ("body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
             "table{border-collapse:collapse;margin:.5rem 0 1.5rem}"
             "th,td{border-bottom:1px solid #ddd;padding:.2rem .5rem;font-size:.85rem}"
             "td.r{text-align:right}")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(PAGE_TITLE)}</title><style>{style}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def write_docs(folder: Path, backtests: Sequence[Backtest],
               commentary: str | None = None) -> list[Path]:
    """Write validation.md and its charts into ``folder``; return the files written."""
    content = blocks(backtests, commentary)
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "validation.md"]
    written[0].write_text(markdown(content), encoding="utf-8")
    for block in content:
        if isinstance(block, Chart):
            path = folder / block.name
            path.write_text(block.svg, encoding="utf-8")
            written.append(path)
    return written


def write(folder: Path) -> list[Path]:
    """Run every bundled backtest and write the page and its charts into ``folder``."""
    return write_docs(folder, run_backtests(), bundled_commentary())


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
