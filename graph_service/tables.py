"""Tables for a terminal: within 100 columns (or the terminal's width if narrower), long text wrapped,
never cut; values in words (``special_measures`` -> ``special measures``), shares as percentages.

Every CLI verb's ``--format table`` prints through :func:`write_table`; long explanations a
broker must read whole (``reasons``, ``notes``) go on their own wrapped lines under each row.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from enum import Enum
from typing import Any, TextIO

#: Widest table printed, whatever the terminal.
MAX_WIDTH = 100
GAP = "  "
#: Columns printed as lines under their row rather than as a column.
DETAIL_KEYS = ("reasons", "notes")


def terminal_width() -> int:
    """The width to fit: the terminal's, at most :data:`MAX_WIDTH` (``COLUMNS`` is honoured)."""
    return max(40, min(MAX_WIDTH, shutil.get_terminal_size((MAX_WIDTH, 24)).columns))


def words(value: Any) -> str:
    """A value as a person reads it.

    >>> words("special_measures"), words(None), words(True), words(date(2025, 7, 18)), words(2.0)
    ('special measures', '', 'yes', '2025-07-18', '2')
    >>> words(0.123456), words(1234.5678), words(["a_b", "c"])
    ('0.123', '1,234.6', 'a b, c')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}" if abs(value) < 0.001 else f"{value:.3f}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        # Enum values and ids read as words; free text keeps its own underscores only when it has spaces.
        return value if " " in value else value.replace("_", " ")
    if isinstance(value, (list, tuple)):
        return ", ".join(words(item) for item in value)
    return str(value)


def percent(share: float | None) -> str:
    """A share (0 to 1) as a percentage.

    >>> percent(0.5709), percent(1.0), percent(None)
    ('57.1%', '100%', '')
    """
    if share is None:
        return ""
    text = f"{share * 100:.1f}"
    return (text.removesuffix(".0") if text.endswith(".0") else text) + "%"


def header(key: str) -> str:
    """A column name in words.

    >>> header("in_group_share"), header("km")
    ('in group %', 'km')
    """
    return key.removesuffix("_share").replace("_", " ") + " %" if key.endswith("_share") else key.replace("_", " ")


def cell(key: str, value: Any) -> str:
    """A cell's text: shares as percentages, the rest through :func:`words`."""
    if key.endswith("_share") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return percent(float(value))
    return words(value)


def _fit(natural: list[int], minimum: list[int], width: int) -> list[int]:
    """Column widths summing (with gaps) to at most ``width``: the widest columns are capped at one
    common width, as large as fits, and the room left goes to them in order.

    >>> _fit([10, 50, 30], [8, 8, 8], 60)
    [10, 23, 23]
    >>> _fit([10, 50, 30], [8, 8, 8], 200), _fit([10, 50, 30], [8, 8, 8], 20)
    ([10, 50, 30], [8, 8, 8])
    """
    room = width - len(GAP) * (len(natural) - 1)
    if sum(natural) <= room:
        return list(natural)

    def capped(cap: int) -> list[int]:
        return [min(n, max(cap, m)) for n, m in zip(natural, minimum, strict=True)]

    cap = max(natural)
    while cap > 1 and sum(capped(cap)) > room:
        cap -= 1
    widths = capped(cap)
    spare = room - sum(widths)
    for i in sorted(range(len(widths)), key=lambda i: -natural[i]):
        if spare <= 0:
            break
        extra = min(spare, natural[i] - widths[i])
        widths[i] += extra
        spare -= extra
    return widths


def write_table(
    rows: Sequence[Mapping[str, Any]],
    out: TextIO | None = None,
    width: int | None = None,
    details: Iterable[str] = DETAIL_KEYS,
    empty: str = "(nothing)",
) -> None:
    """Print rows as an aligned table that fits ``width`` columns, long cells wrapped.

    Columns named in ``details`` are printed under each row, indented and wrapped; so are the last
    columns (as "name value" pairs) when the table cannot fit otherwise without splitting words.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> rows = [{"urn": 1, "name": "A very long school name indeed", "phase": "all_through",
    ...          "isolated_share": 0.5, "reasons": ["no collaboration tie", "rated inadequate"]}]
    >>> write_table(rows, out, width=50)
    >>> print(out.getvalue())
    urn  name                  phase        isolated %
    ---  --------------------  -----------  ----------
    1    A very long school    all through  50%
         name indeed
         why: no collaboration tie; rated inadequate
    <BLANKLINE>
    """
    out = out or sys.stdout
    width = width or terminal_width()
    if not rows:
        out.write(empty + "\n")
        return
    detail_keys = set(details)
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns and key not in detail_keys)
    texts = {key: [cell(key, row.get(key)) for row in rows] for key in columns}
    natural = {key: max(len(header(key)), *(len(text) for text in texts[key])) for key in columns}
    # A column narrows down to its longest word, so that words are not split...
    longest = {
        key: max(len(word) for text in (header(key), *texts[key]) for word in (text.split() or [""])) for key in columns
    }
    minimum = {key: min(natural[key], max(4, longest[key])) for key in columns}
    # ...and columns that still do not fit go, as "name value" pairs, on a line under each row.
    moved: list[str] = []
    while len(columns) > 3 and sum(minimum[key] for key in columns) + len(GAP) * (len(columns) - 1) > width:
        moved.insert(0, columns.pop())
    widths = _fit([natural[key] for key in columns], [minimum[key] for key in columns], width)
    _write_lines(out, [header(key) for key in columns], widths)
    out.write(GAP.join("-" * w for w in widths) + "\n")
    indent = " " * (widths[0] + len(GAP)) if widths[0] + len(GAP) < width // 3 else "    "
    for index, row in enumerate(rows):
        _write_lines(out, [texts[key][index] for key in columns], widths)
        lines = []
        if moved:
            lines.append(", ".join(f"{header(key)} {texts[key][index]}" for key in moved if texts[key][index]))
        for key in details:
            value = row.get(key)
            if value:
                items = value if isinstance(value, (list, tuple)) else [value]
                text = "; ".join(item if isinstance(item, str) else words(item) for item in items)
                lines.append(f"{'why' if key == 'reasons' else header(key)}: {text}")
        for line in lines:
            for piece in textwrap.wrap(line, width - len(indent), break_on_hyphens=False):
                out.write(indent + piece + "\n")


def _write_lines(out: TextIO, cells: list[str], widths: list[int]) -> None:
    """One table row, each cell wrapped to its column's width (words kept whole where they fit)."""
    wrapped = [textwrap.wrap(text, w, break_on_hyphens=False) or [""] for text, w in zip(cells, widths, strict=True)]
    for depth in range(max(len(lines) for lines in wrapped)):
        parts = [
            (lines[depth] if depth < len(lines) else "").ljust(w) for lines, w in zip(wrapped, widths, strict=True)
        ]
        out.write(GAP.join(parts).rstrip() + "\n")


def fit_lines(text: str, width: int | None = None) -> str:
    """Text with every line wrapped within the terminal (at most 100 columns), continuation lines indented
    four more than their line, long words (paths) kept whole.

    >>> print(fit_lines("files: a.csv, b.csv, c.csv", width=14))
    files: a.csv,
        b.csv,
        c.csv
    """
    width = width or terminal_width()
    out = []
    for line in text.split("\n"):
        lead = " " * (len(line) - len(line.lstrip(" ")))
        wrapped = textwrap.fill(
            line, width, subsequent_indent=lead + "    ", break_on_hyphens=False, break_long_words=False
        )
        out.append(wrapped if line.strip() else line)
    return "\n".join(out)
