"""One text table for every reader: ``explain``, ``klp patterns``, recipes and benchmarks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["table"]


def table(rows: Sequence[Sequence[Any]], *, align: str = "", markdown: bool = False) -> str:
    """Columns padded to their widest cell, the first row a header with a rule under it.

    Args:
        rows: the header, then the rows; cells are written with ``str``.
        align: one character per column, ``"<"`` (left, the default for columns not
            named) or ``">"`` (right, for numbers).
        markdown: a Markdown table (``| a | b |``, ready to paste into a ``.md`` file)
            instead of columns two spaces apart with dashes under the header.

    Returns:
        The table, lines joined by newlines, no newline at the end.

    >>> print(table([("name", "params"), ("lstm_1", "352")], align="<>"))
    name    params
    ------  ------
    lstm_1     352
    >>> print(table([("a", "b"), (1, 22)], markdown=True))
    | a | b  |
    |---|----|
    | 1 | 22 |
    """
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    sides = align.ljust(len(widths), "<")

    def pad(row: list[str]) -> list[str]:
        return [c.rjust(w) if s == ">" else c.ljust(w) for c, w, s in zip(row, widths, sides)]

    if markdown:
        lines = ["| " + " | ".join(pad(row)) + " |" for row in cells]
        lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    else:
        lines = ["  ".join(pad(row)).rstrip() for row in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
