r"""CSV cells a spreadsheet shows as text, never runs as a formula (OWASP's CSV injection advice).

Every CSV the service writes (exports, question answers, the pages' downloads, rejected-row
reports) quotes bad or hostile text back; a cell such as ``=HYPERLINK(...)`` or ``+cmd|...``
would run when the file is opened in a spreadsheet, so text cells pass through :func:`neutralise`.
Numbers (a negative longitude) are left alone: a spreadsheet reads them as numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: What makes a spreadsheet read a cell as a formula (or, for tab and CR, shift it into one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    r"""A text cell a spreadsheet shows as text: ``'`` before a formula's first character.

    A value that already starts with quotes before such a character gets one
    more, so :func:`restore` always gives the value back.

    >>> neutralise('=HYPERLINK("x")'), neutralise("'=a"), neutralise("'s-Hertogenbosch"), neutralise("St Anne's")
    ('\'=HYPERLINK("x")', "''=a", "'s-Hertogenbosch", "St Anne's")
    """
    return "'" + text if text.lstrip("'").startswith(FORMULA_STARTS) else text


def restore(text: str) -> str:
    """The value :func:`neutralise` was given.

    >>> [restore(neutralise(v)) for v in ["=1+2", "''+x", "-", "'s", "plain"]]
    ['=1+2', "''+x", '-', "'s", 'plain']
    """
    return text[1:] if text.startswith("'") and text.lstrip("'").startswith(FORMULA_STARTS) else text


def cell(value: Any) -> Any:
    """A value for a CSV cell: empty for ``None``, text neutralised, anything else as it is.

    >>> cell(None), cell("+cmd|' /C calc'!A0"), cell(-1.5), cell("Oak")
    ('', "'+cmd|' /C calc'!A0", -1.5, 'Oak')
    """
    if value is None:
        return ""
    return neutralise(value) if isinstance(value, str) else value


def safe_rows(rows: Iterable[Mapping[str, Any]]) -> Iterable[dict[str, Any]]:
    """Each row with its cells passed through :func:`cell` (for ``csv.DictWriter``)."""
    for row in rows:
        yield {key: cell(value) for key, value in row.items()}
