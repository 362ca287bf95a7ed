"""Tables that stay readable in any terminal width (80 columns, or piped output).

Rich squeezes a table that is too wide by cutting cells: words are broken or end in ``…``.
:func:`fitted` avoids that: it takes the same data laid out from widest to narrowest and
returns the first layout whose columns all get their full width (no-wrap columns their
longest cell, wrapping columns their longest word); when none fits it falls back to
:func:`as_records`, one block of ``field  value`` lines per row, which fits any width that
holds the longest word.
"""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Column, Table
from rich.text import Text


def _column_need(console: Console, table: Table, column: Column) -> int:
    """Width ``column`` needs so that none of its cells is cut (padding not included)."""
    need = column.min_width or 0
    cells: list[RenderableType] = [column.header, *column.cells] if table.show_header \
        else list(column.cells)
    for cell in cells:
        measured = Measurement.get(console, console.options, cell)
        need = max(need, measured.maximum if column.no_wrap else measured.minimum)
    return need


def required_width(console: Console, table: Table) -> int:
    """Columns at the width they need (see :func:`fits`), with padding and borders."""
    top, right, bottom, left = Padding.unpack(table.padding)
    del top, bottom
    count = len(table.columns)
    width = sum(_column_need(console, table, column) for column in table.columns)
    width += count * (left + right)
    if not table.pad_edge and count:
        width -= left + right
    if table.box is not None:
        width += count - 1 + (2 if table.show_edge else 0)
    return width


def fits(console: Console, table: Table) -> bool:
    """Whether ``table`` fits ``console`` with no cell cut: no-wrap cells whole, no word broken."""
    return required_width(console, table) <= console.width


def as_records(table: Table) -> RenderableType:
    """``table`` laid out vertically: a block of ``header  value`` lines per row.

    Values wrap on word boundaries under their own indent; the title, when the table has one,
    comes first.
    """
    headers = [Text.from_markup(c.header) if isinstance(c.header, str) else c.header
               for c in table.columns]
    blocks: list[RenderableType] = []
    if table.title is not None:
        title = table.title if not isinstance(table.title, str) else Text(table.title)
        blocks.append(Text.assemble(title, style="bold"))
    columns = [list(column.cells) for column in table.columns]
    for row in zip(*columns, strict=True):
        block = Table.grid(padding=(0, 2))
        block.add_column(style="bold", no_wrap=True)
        block.add_column()
        for header, cell in zip(headers, row, strict=True):
            if isinstance(cell, str) and not cell:
                continue
            block.add_row(header, cell)
        blocks.append(Padding(block, (1, 0, 0, 0)))
    return Group(*blocks)


def fitted(console: Console, *layouts: Table) -> RenderableType:
    """The first of ``layouts`` (widest first) that :func:`fits`, else the last as records."""
    for layout in layouts:
        if fits(console, layout):
            return layout
    return as_records(layouts[-1])
